//! Remote commands over MQTT: verified, executed at most once, answered.
//!
//! A device subscribes to its command topic (default `edgewise/{device}/commands`) and
//! answers on the reply topic (default `edgewise/{device}/commands/reply`). Authentication
//! does not rely on the broker's ACL alone: every command is signed, with Ed25519 (the
//! device holds only the public key) or HMAC-SHA256 (a shared secret), in a standard
//! envelope, so operators sign with any JOSE or COSE library.
//!
//! # Wire format
//!
//! The command, as JSON or as a CBOR map with the same keys:
//!
//! ```json
//! {"id": "c-42", "target": "fan", "value": "on", "expires": 1767225600, "device": "pump-7"}
//! ```
//!
//! - `id`: 1 to 128 bytes, unique per command; remembered until `expires` (plus an hour) so a
//!   replayed message is refused;
//! - `target`: the actuator's name;
//! - `value`: `"on"`, `"off"`, `true`, `false`, a number (a duty fraction 0.0..=1.0) or
//!   `{"angle": 90.0}` (a servo);
//! - `expires`: unix seconds; refused when past, and when further ahead than the device's
//!   `max_ttl` (default one hour);
//! - `device`: optional; when present it must be this device's id.
//!
//! Unknown keys are ignored (JWT's `iat`, say). The envelope is one of four:
//!
//! | envelope | encoding | algorithm | key |
//! |---|---|---|---|
//! | JWS compact (RFC 7515) | `header.payload.signature`, base64url | `EdDSA` (RFC 8037) | Ed25519 |
//! | JWS compact | same | `HS256` | HMAC secret (≥ 32 bytes) |
//! | COSE_Sign1 (RFC 9052), tag 18 | CBOR | alg -8 (EdDSA) in the protected header | Ed25519 |
//! | COSE_Mac0, tag 17 | CBOR | alg 5 (HMAC 256/256) in the protected header | HMAC secret |
//!
//! The algorithm must match the configured key's kind; `alg: none`, other algorithms,
//! `crit` headers, detached COSE payloads and an `alg` outside the COSE protected header are
//! refused. COSE signatures cover `["Signature1", protected, h'', payload]` and
//! `["MAC0", protected, h'', payload]` (empty external_aad). A bare JSON object or CBOR map is
//! refused `unsigned`.
//!
//! Signing, in Python (keys from `openssl genpkey -algorithm ed25519 -out operator.pem` and
//! `openssl pkey -in operator.pem -pubout -out operator.pub.pem`; the device gets
//! `operator.pub.pem`):
//!
//! ```python
//! import time, cbor2, jwt                      # pip install PyJWT cryptography pycose cbor2
//! from cryptography.hazmat.primitives import serialization
//! from pycose.messages import Sign1Message, Mac0Message
//! from pycose.headers import Algorithm
//! from pycose.algorithms import EdDSA, HMAC256
//! from pycose.keys import OKPKey, SymmetricKey
//! from pycose.keys.curves import Ed25519
//!
//! command = {"id": "c-42", "target": "fan", "value": "on", "expires": int(time.time()) + 60}
//! private = serialization.load_pem_private_key(open("operator.pem", "rb").read(), None)
//! secret = bytes.fromhex(open("hmac.hex").read().strip())     # 32 bytes or more
//!
//! # 1. JWS, EdDSA
//! message = jwt.encode(command, private, algorithm="EdDSA")
//! # 2. JWS, HS256
//! message = jwt.encode(command, secret, algorithm="HS256")
//! # 3. COSE_Sign1, EdDSA
//! raw = serialization.Encoding.Raw
//! sign1 = Sign1Message(phdr={Algorithm: EdDSA}, payload=cbor2.dumps(command))
//! sign1.key = OKPKey(crv=Ed25519,
//!     d=private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
//!     x=private.public_key().public_bytes(raw, serialization.PublicFormat.Raw))
//! message = sign1.encode()
//! # 4. COSE_Mac0, HMAC 256/256
//! mac0 = Mac0Message(phdr={Algorithm: HMAC256}, payload=cbor2.dumps(command))
//! mac0.key = SymmetricKey(k=secret)
//! message = mac0.encode()
//! # then: mosquitto_pub -t edgewise/pump-7/commands -q 1 -m "$message" (COSE: -f file)
//! ```
//!
//! # The reply
//!
//! JSON on the reply topic, see [`reply`]: `{"id", "status": "done" | "refused", "reason",
//! "target", "state", "at"}`. Reasons start with one of [`Reason::as_str`]'s spellings.
//!
//! # The parts
//!
//! - [`envelope`]: JWS and COSE taken apart and verified (ring: Ed25519, constant-time HMAC);
//! - [`keys`]: the [`VerifyKey`] from a PEM file, raw bytes or a secret;
//! - [`verifier`]: the command inside, and [`CommandVerifier::check`]: envelope, signature,
//!   expiry, device;
//! - [`refusal`]: every reason with its one spelling; the runtime refuses unknown targets,
//!   out-of-range values and interlocks with the same constructors;
//! - [`reply`]: the reply JSON;
//! - [`channel`]: the MQTT connection ([`CommandChannel`]);
//! - [`service`]: [`serve`], the loop that ties them to the outbox's replay table
//!   ([`Outbox::remember_command_id`](crate::outbox::Outbox::remember_command_id)) and the
//!   runtime's [`CommandHandler`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use edgewise_link::command::*;
//! # use edgewise_link::outbox::{Outbox, OutboxConfig};
//! # use edgewise_link::transport::mqtt::MqttConfig;
//! # async fn run(sink: MqttConfig, outbox: Outbox) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = CommandVerifier::new(VerifyKey::ed25519_from_file("keys/operator.pub.pem")?, "pump-7");
//! let channel = CommandChannel::start(&sink, DEFAULT_TOPIC, DEFAULT_REPLY_TOPIC)?;
//! let (handler, mut requests) = tokio::sync::mpsc::channel::<CommandRequest>(8);
//! let counters = CommandCounters::new();
//! tokio::spawn(serve(channel, verifier, outbox, handler, counters.clone()));
//! while let Some(request) = requests.recv().await {
//!     // apply request.command to its actuator, then:
//!     request.done.send(Ok(edgewise_sensors::actuator::State::On)).ok();
//! }
//! # Ok(()) }
//! ```

mod cbor_value;
pub mod channel;
pub mod envelope;
pub mod keys;
pub mod refusal;
pub mod reply;
pub mod service;
pub mod verifier;

pub use channel::{ChannelMonitor, CommandChannel, DEFAULT_REPLY_TOPIC, DEFAULT_TOPIC};
pub use envelope::EnvelopeKind;
pub use keys::{KeyError, VerifyKey};
pub use refusal::{Reason, Refusal};
pub use reply::Reply;
pub use service::{serve, CommandCounters, CommandHandler, CommandRequest, CommandStats};
pub use verifier::{identify, CommandValue, CommandVerifier, RemoteCommand};
