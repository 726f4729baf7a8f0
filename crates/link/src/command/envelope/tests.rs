//! The envelopes against the RFCs' own examples: RFC 8037 appendix A.4 (Ed25519 JWS) and
//! RFC 7515 appendix A.1 (HS256 JWS), each made by its authors, not by this crate.

use super::*;
use crate::command::refusal::Reason;

/// RFC 8037 appendix A.1: the public key `x`.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 appendix A.4: the JWS over "Example of Ed25519 signing".
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
    hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/// RFC 7515 appendix A.1: the HMAC key `k`.
const RFC7515_K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
/// RFC 7515 appendix A.1: the HS256 JWS.
const RFC7515_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
    eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
    dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn ed25519_key() -> VerifyKey {
    let bytes = base64url::decode(RFC8037_X).unwrap_or_else(|e| panic!("{e}"));
    VerifyKey::Ed25519(bytes.try_into().unwrap_or_else(|_| panic!("32 bytes")))
}

fn hmac_key() -> VerifyKey {
    VerifyKey::hmac_sha256(base64url::decode(RFC7515_K).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn parsed(message: &[u8]) -> Envelope {
    parse(message).unwrap_or_else(|e| panic!("{e}"))
}

fn reason(result: Result<(), Refusal>) -> Option<Reason> {
    result.err().map(|refusal| refusal.reason())
}

/// `message` with the character at `index` replaced by another base64url character.
fn flipped(message: &str, index: usize) -> String {
    let mut bytes = message.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rfc_8037_a4_ed25519_jws_verifies() {
    let envelope = parsed(RFC8037_JWS.as_bytes());
    assert_eq!(envelope.kind, EnvelopeKind::Jws);
    assert_eq!(envelope.payload, b"Example of Ed25519 signing");
    assert_eq!(envelope.verify(&ed25519_key()), Ok(()));
}

#[test]
fn rfc_7515_a1_hs256_jws_verifies() {
    let envelope = parsed(RFC7515_JWS.as_bytes());
    assert_eq!(envelope.kind, EnvelopeKind::Jws);
    assert!(envelope.payload.starts_with(b"{\"iss\":\"joe\",\r\n"));
    assert_eq!(envelope.verify(&hmac_key()), Ok(()));
}

#[test]
fn one_changed_character_in_payload_or_signature_is_a_bad_signature() {
    for (jws, key) in [(RFC8037_JWS, ed25519_key()), (RFC7515_JWS, hmac_key())] {
        let payload_at = jws.find('.').unwrap_or_default() + 5;
        let signature_at = jws.rfind('.').unwrap_or_default() + 5;
        for index in [payload_at, signature_at] {
            let tampered = flipped(jws, index);
            assert_eq!(
                reason(parsed(tampered.as_bytes()).verify(&key)),
                Some(Reason::BadSignature),
                "{tampered}"
            );
        }
    }
}

#[test]
fn the_key_kind_decides_not_the_header() {
    // An HS256 token checked against an Ed25519 key (and the reverse) is refused outright,
    // never verified with the public key as an HMAC secret.
    let refusal = parsed(RFC7515_JWS.as_bytes())
        .verify(&ed25519_key())
        .err()
        .map(|r| r.to_string())
        .unwrap_or_default();
    assert_eq!(
        refusal,
        "bad signature: signed with HMAC-SHA256, but this device verifies Ed25519 signatures"
    );
    assert_eq!(
        reason(parsed(RFC8037_JWS.as_bytes()).verify(&hmac_key())),
        Some(Reason::BadSignature)
    );
}

#[test]
fn none_unknown_algorithms_and_critical_headers_are_refused() {
    // {"alg":"none"}
    let none = "eyJhbGciOiJub25lIn0.eyJpZCI6IngifQ.";
    assert_eq!(
        reason(parsed(none.as_bytes()).verify(&hmac_key())),
        Some(Reason::Unsigned)
    );
    // {"alg":"RS256"}
    let rs256 = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IngifQ.AAAA";
    assert_eq!(
        reason(parsed(rs256.as_bytes()).verify(&ed25519_key())),
        Some(Reason::BadSignature)
    );
    // {"alg":"EdDSA","crit":["exp"],"exp":1}
    let crit = "eyJhbGciOiJFZERTQSIsImNyaXQiOlsiZXhwIl0sImV4cCI6MX0.eyJpZCI6IngifQ.AAAA";
    let refusal = parsed(crit.as_bytes()).verify(&ed25519_key()).err();
    assert!(refusal.is_some_and(|r| r.to_string().contains("crit")));
}

#[test]
fn bare_commands_are_unsigned_and_junk_is_malformed() {
    let bare = parsed(br#" {"id":"c-1","target":"fan","value":"on","expires":1} "#);
    assert_eq!(bare.kind, EnvelopeKind::Unsigned);
    assert_eq!(reason(bare.verify(&hmac_key())), Some(Reason::Unsigned));
    // {"id": "c-1"} as CBOR
    let cbor_map = parsed(&[0xa1, 0x62, b'i', b'd', 0x63, b'c', b'-', b'1']);
    assert_eq!(cbor_map.kind, EnvelopeKind::Unsigned);
    assert_eq!(cbor_map.format, PayloadFormat::Cbor);
    for junk in [
        &b""[..],
        b"a.b",
        b"a.b.c.d",
        b"[1,2]",
        b"{\"payload\":\"x\",\"signature\":\"y\"}",
        b"ab=.cd.ef",
        &[0x83, 0x01, 0x02, 0x03],
        &[0xd8, 0x62, 0x80],
        &[0xd2, 0x83, 0x40, 0xa0, 0x40],
        &[0xff, 0x00],
    ] {
        match parse(junk) {
            Err(refusal) => assert_eq!(refusal.reason(), Reason::Malformed, "{junk:02x?}"),
            Ok(envelope) => panic!("{junk:02x?} parsed as {envelope:?}"),
        }
    }
}

#[test]
fn cose_structures_sign_the_rfc_9052_structure() {
    // A COSE_Mac0 over payload "hi" with protected {1: 5}, MAC made here from the
    // MAC_structure by ring's HMAC directly (the independent check is the pycose peer test).
    let secret = vec![0x11; 32];
    let protected = [0xa1, 0x01, 0x05];
    let mut structure = Vec::new();
    cbor::array(&mut structure, 4);
    cbor::text(&mut structure, &["MAC0"]);
    cbor::bytes(&mut structure, &protected);
    cbor::bytes(&mut structure, &[]);
    cbor::bytes(&mut structure, b"hi");
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
        &structure,
    );
    let mut message = vec![0xd1];
    cbor::array(&mut message, 4);
    cbor::bytes(&mut message, &protected);
    cbor::map(&mut message, 0);
    cbor::bytes(&mut message, b"hi");
    cbor::bytes(&mut message, tag.as_ref());
    let envelope = parsed(&message);
    assert_eq!(envelope.kind, EnvelopeKind::CoseMac0);
    assert_eq!(envelope.payload, b"hi");
    let key = VerifyKey::hmac_sha256(secret).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(envelope.verify(&key), Ok(()));

    // The same with the alg only in the unprotected header is refused.
    let mut unprotected_alg = vec![0xd1];
    cbor::array(&mut unprotected_alg, 4);
    cbor::bytes(&mut unprotected_alg, &[]);
    cbor::map(&mut unprotected_alg, 1);
    cbor::int(&mut unprotected_alg, 1);
    cbor::int(&mut unprotected_alg, 5);
    cbor::bytes(&mut unprotected_alg, b"hi");
    cbor::bytes(&mut unprotected_alg, tag.as_ref());
    assert_eq!(
        reason(parsed(&unprotected_alg).verify(&key)),
        Some(Reason::BadSignature)
    );
}

use crate::encode::cbor;
