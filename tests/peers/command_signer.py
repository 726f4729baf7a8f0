"""Signs edgewise remote commands with independent JOSE/COSE libraries, for the tests.

    command_signer.py MODE KEY COMMAND_JSON

MODE: jws-eddsa, jws-hs256, jws-hs512 (PyJWT); cose-sign1, cose-mac0, cose-mac0-64 (pycose);
cbor (the command as a bare CBOR map, unsigned).
KEY: an Ed25519 private key in PEM (`openssl genpkey -algorithm ed25519`) for the EdDSA
modes, a file with the HMAC secret's hex digits for the others.
Prints the signed message as hex on stdout (COSE is binary).
"""

import json
import sys

import cbor2
import jwt
from cryptography.hazmat.primitives import serialization
from pycose.algorithms import EdDSA, HMAC256, HMAC25664
from pycose.headers import Algorithm
from pycose.keys import OKPKey, SymmetricKey
from pycose.keys.curves import Ed25519
from pycose.messages import Mac0Message, Sign1Message


def ed25519_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def secret(path):
    with open(path) as f:
        return bytes.fromhex(f.read().strip())


def main():
    mode, key_path, command_json = sys.argv[1:4]
    command = json.loads(command_json)
    if mode == "jws-eddsa":
        out = jwt.encode(command, ed25519_private(key_path), algorithm="EdDSA").encode()
    elif mode in ("jws-hs256", "jws-hs512"):
        out = jwt.encode(command, secret(key_path), algorithm=mode[4:].upper()).encode()
    elif mode == "cbor":
        out = cbor2.dumps(command)
    elif mode == "cose-sign1":
        private = ed25519_private(key_path)
        d = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        x = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        message = Sign1Message(phdr={Algorithm: EdDSA}, payload=cbor2.dumps(command))
        message.key = OKPKey(crv=Ed25519, d=d, x=x)
        out = message.encode()
    elif mode in ("cose-mac0", "cose-mac0-64"):
        algorithm = HMAC256 if mode == "cose-mac0" else HMAC25664
        message = Mac0Message(phdr={Algorithm: algorithm}, payload=cbor2.dumps(command))
        message.key = SymmetricKey(k=secret(key_path))
        out = message.encode()
    else:
        sys.exit(f"unknown mode {mode}")
    print(out.hex())


if __name__ == "__main__":
    main()
