//! The signed envelopes a command arrives in, told apart by their first byte and checked
//! against the device's [`VerifyKey`]:
//!
//! - a JWS in compact serialization (RFC 7515), `alg` `EdDSA` (RFC 8037) or `HS256`: text of
//!   three base64url parts, `header.payload.signature`, the payload the command as JSON;
//! - a COSE_Sign1 (RFC 9052 section 4.2, CBOR tag 18, alg -8 EdDSA) or COSE_Mac0 (section
//!   6.2, tag 17, alg 5 HMAC 256/256), the payload the command as a CBOR map;
//! - a bare JSON object or CBOR map: a command without a signature, refused `unsigned`.
//!
//! Parsing (`parse`) only takes the envelope apart; `Envelope::verify` then decides. The
//! algorithm comes from the envelope but must match the configured key's kind: a token that
//! says `HS256` is never checked against an Ed25519 public key used as an HMAC secret (the
//! classic algorithm confusion).

mod base64url;
mod cose;
mod jws;

use ring::signature::{UnparsedPublicKey, ED25519};

use super::keys::VerifyKey;
use super::refusal::Refusal;

/// Which envelope a command came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// A JWS, compact serialization.
    Jws,
    /// A COSE_Sign1 (tag 18).
    CoseSign1,
    /// A COSE_Mac0 (tag 17).
    CoseMac0,
    /// No envelope: a bare JSON object or CBOR map.
    Unsigned,
}

/// How the payload is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadFormat {
    Json,
    Cbor,
}

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// Ed25519 (JWS `EdDSA`/`Ed25519`, COSE -8/-19).
    Ed25519,
    /// HMAC-SHA256 with a 256-bit tag (JWS `HS256`, COSE 5).
    HmacSha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519 (EdDSA)",
            Algorithm::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// What deciding on the envelope takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// No signature at all: refused with this explanation.
    Unsigned(String),
    /// An envelope this device does not accept (an unknown algorithm, a critical header).
    Refused(Refusal),
    /// A signature or MAC over `signed` to verify.
    Signature {
        algorithm: Algorithm,
        signed: Vec<u8>,
        signature: Vec<u8>,
    },
}

/// An envelope taken apart, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub kind: EnvelopeKind,
    pub format: PayloadFormat,
    /// The payload's bytes (the command, still encoded).
    pub payload: Vec<u8>,
    pub check: Check,
}

impl Envelope {
    /// Whether the signature verifies under `key`; a refusal saying why not otherwise.
    pub fn verify(&self, key: &VerifyKey) -> Result<(), Refusal> {
        let (algorithm, signed, signature) = match &self.check {
            Check::Unsigned(why) => return Err(Refusal::unsigned(why.clone())),
            Check::Refused(refusal) => return Err(refusal.clone()),
            Check::Signature {
                algorithm,
                signed,
                signature,
            } => (*algorithm, signed, signature),
        };
        let verified = match (algorithm, key) {
            (Algorithm::Ed25519, VerifyKey::Ed25519(public)) => {
                UnparsedPublicKey::new(&ED25519, public)
                    .verify(signed, signature)
                    .is_ok()
            }
            (Algorithm::HmacSha256, VerifyKey::HmacSha256(secret)) => {
                // Constant time: ring compares the tags without an early exit.
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                ring::hmac::verify(&key, signed, signature).is_ok()
            }
            (algorithm, key) => {
                return Err(Refusal::bad_signature(format!(
                    "signed with {}, but this device verifies {} signatures",
                    algorithm.name(),
                    key.kind()
                )))
            }
        };
        if verified {
            Ok(())
        } else {
            Err(Refusal::bad_signature(format!(
                "the {} {} does not verify with the configured key",
                algorithm.name(),
                match algorithm {
                    Algorithm::Ed25519 => "signature",
                    Algorithm::HmacSha256 => "MAC",
                }
            )))
        }
    }
}

/// Takes a message apart: JWS, COSE or a bare command. Refuses (`malformed`) what is none of
/// them.
pub(crate) fn parse(message: &[u8]) -> Result<Envelope, Refusal> {
    let trimmed = message.trim_ascii();
    match trimmed.first() {
        None => Err(Refusal::malformed("the message is empty")),
        Some(b'{') => jws::bare_json(trimmed),
        Some(byte) if is_base64url(*byte) => jws::parse(trimmed),
        Some(_) => cose::parse(message),
    }
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

#[cfg(test)]
mod tests;
