//! COSE_Sign1 (RFC 9052 section 4.2) and COSE_Mac0 (section 6.2), and the bare CBOR command.
//!
//! What is signed is not the message but a structure built from it (section 4.4, 6.3):
//! `["Signature1", protected, external_aad, payload]` or `["MAC0", protected, external_aad,
//! payload]`, with the protected header as the exact bytes received and an empty
//! external_aad.

use crate::encode::cbor;

use super::super::cbor_value::{self, Cbor};
use super::super::refusal::Refusal;
use super::{Algorithm, Check, Envelope, EnvelopeKind, PayloadFormat};

const FORMAT: &str = "COSE";
const TAG_SIGN1: u64 = 18;
const TAG_MAC0: u64 = 17;
/// Header label `alg` (RFC 9052 section 3.1).
const LABEL_ALG: i128 = 1;
/// Header label `crit`.
const LABEL_CRIT: i128 = 2;
/// COSE algorithm EdDSA (RFC 9053 section 2.2).
const ALG_EDDSA: i128 = -8;
/// COSE algorithm Ed25519 (RFC 9864, the fully specified name for the same signature).
const ALG_ED25519: i128 = -19;
/// COSE algorithm HMAC 256/256 (RFC 9053 section 3.1).
const ALG_HMAC_256_256: i128 = 5;

pub(super) fn parse(message: &[u8]) -> Result<Envelope, Refusal> {
    let item = cbor_value::parse(FORMAT, message)
        .map_err(|e| Refusal::malformed(format!("neither JSON, a JWS nor CBOR: {e}")))?;
    let (kind, structure) = match item {
        Cbor::Map(_) => {
            return Ok(Envelope {
                kind: EnvelopeKind::Unsigned,
                format: PayloadFormat::Cbor,
                payload: message.to_vec(),
                check: Check::Unsigned(
                    "a bare CBOR command; sign it as a COSE_Sign1 (EdDSA) or COSE_Mac0 (HMAC \
                     256/256)"
                        .into(),
                ),
            })
        }
        Cbor::Tag(TAG_SIGN1, content) => (EnvelopeKind::CoseSign1, *content),
        Cbor::Tag(TAG_MAC0, content) => (EnvelopeKind::CoseMac0, *content),
        Cbor::Tag(tag, _) => {
            return Err(Refusal::malformed(format!(
                "CBOR tag {tag} is not a COSE_Sign1 (18) or COSE_Mac0 (17)"
            )))
        }
        other => {
            return Err(Refusal::malformed(format!(
                "a CBOR command must be a COSE_Sign1 (tag 18), a COSE_Mac0 (tag 17) or a map, \
                 not {}",
                other.kind()
            )))
        }
    };
    let name = match kind {
        EnvelopeKind::CoseSign1 => "COSE_Sign1",
        _ => "COSE_Mac0",
    };
    let Cbor::Array(items) = structure else {
        return Err(Refusal::malformed(format!(
            "a {name} must be an array of 4 items"
        )));
    };
    let [protected, unprotected, payload, signature] = items.as_slice() else {
        return Err(Refusal::malformed(format!(
            "a {name} must be an array of 4 items, this has {}",
            items.len()
        )));
    };
    let (Cbor::Bytes(protected), Cbor::Map(_), Cbor::Bytes(signature)) =
        (protected, unprotected, signature)
    else {
        return Err(Refusal::malformed(format!(
            "a {name} is [protected: bstr, unprotected: map, payload: bstr, signature: bstr]"
        )));
    };
    let payload = match payload {
        Cbor::Bytes(payload) => *payload,
        Cbor::Null => {
            return Err(Refusal::malformed(format!(
                "the {name} has a detached payload; the command must be inside"
            )))
        }
        other => {
            return Err(Refusal::malformed(format!(
                "the {name} payload must be a byte string, not {}",
                other.kind()
            )))
        }
    };
    let check = match header_algorithm(kind, protected) {
        Ok(algorithm) => {
            let context = match kind {
                EnvelopeKind::CoseSign1 => "Signature1",
                _ => "MAC0",
            };
            let mut signed = Vec::with_capacity(protected.len() + payload.len() + 16);
            cbor::array(&mut signed, 4);
            cbor::text(&mut signed, &[context]);
            cbor::bytes(&mut signed, protected);
            cbor::bytes(&mut signed, &[]);
            cbor::bytes(&mut signed, payload);
            Check::Signature {
                algorithm,
                signed,
                signature: signature.to_vec(),
            }
        }
        Err(refusal) => Check::Refused(refusal),
    };
    Ok(Envelope {
        kind,
        format: PayloadFormat::Cbor,
        payload: payload.to_vec(),
        check,
    })
}

/// The algorithm of the protected header, which must name one this device accepts for this
/// structure. Only the protected header counts: an `alg` outside it is not signed.
fn header_algorithm(kind: EnvelopeKind, protected: &[u8]) -> Result<Algorithm, Refusal> {
    if protected.is_empty() {
        return Err(Refusal::bad_signature(
            "the protected header is empty; it must name the algorithm",
        ));
    }
    let header = cbor_value::parse(FORMAT, protected)
        .map_err(|e| Refusal::malformed(format!("the protected header: {e}")))?;
    if !matches!(header, Cbor::Map(_)) {
        return Err(Refusal::malformed(format!(
            "the protected header must be a map, not {}",
            header.kind()
        )));
    }
    if header.get_int(LABEL_CRIT).is_some() {
        return Err(Refusal::bad_signature(
            "the protected header lists critical parameters (`crit`), which this device does \
             not support",
        ));
    }
    let algorithm = match header.get_int(LABEL_ALG) {
        Some(Cbor::Int(alg)) => *alg,
        Some(Cbor::Text(alg)) => {
            return Err(Refusal::bad_signature(format!(
                "COSE algorithm `{alg}` is not accepted"
            )))
        }
        Some(other) => {
            return Err(Refusal::malformed(format!(
                "the protected `alg` must be an integer, not {}",
                other.kind()
            )))
        }
        None => {
            return Err(Refusal::bad_signature(
                "the protected header does not name the algorithm (label 1)",
            ))
        }
    };
    match (kind, algorithm) {
        (EnvelopeKind::CoseSign1, ALG_EDDSA | ALG_ED25519) => Ok(Algorithm::Ed25519),
        (EnvelopeKind::CoseMac0, ALG_HMAC_256_256) => Ok(Algorithm::HmacSha256),
        (EnvelopeKind::CoseSign1, other) => Err(Refusal::bad_signature(format!(
            "COSE_Sign1 algorithm {other} is not accepted; sign with EdDSA (-8)"
        ))),
        (_, other) => Err(Refusal::bad_signature(format!(
            "COSE_Mac0 algorithm {other} is not accepted; use HMAC 256/256 (5)"
        ))),
    }
}
