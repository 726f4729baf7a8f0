//! JWS compact serialization (RFC 7515 section 7.1) and the bare JSON command.

use crate::encode::json_reader::{self, Json};

use super::super::refusal::Refusal;
use super::{base64url, Algorithm, Check, Envelope, EnvelopeKind, PayloadFormat};

const FORMAT: &str = "JWS";

/// `header.payload.signature`, each base64url.
pub(super) fn parse(message: &[u8]) -> Result<Envelope, Refusal> {
    let text =
        std::str::from_utf8(message).map_err(|_| Refusal::malformed("a JWS must be ASCII text"))?;
    let parts: Vec<&str> = text.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(Refusal::malformed(format!(
            "a JWS in compact serialization has 3 parts separated by `.`, this has {}",
            parts.len()
        )));
    };
    let decode = |what: &str, part: &str| {
        base64url::decode(part).map_err(|e| Refusal::malformed(format!("JWS {what}: {e}")))
    };
    let header = decode("header", header_b64)?;
    let payload = decode("payload", payload_b64)?;
    let signature = decode("signature", signature_b64)?;
    let check = match header_check(&header) {
        Ok(algorithm) => Check::Signature {
            algorithm,
            signed: format!("{header_b64}.{payload_b64}").into_bytes(),
            signature,
        },
        Err(HeaderProblem::Unsigned(why)) => Check::Unsigned(why),
        Err(HeaderProblem::Refused(refusal)) => Check::Refused(refusal),
    };
    Ok(Envelope {
        kind: EnvelopeKind::Jws,
        format: PayloadFormat::Json,
        payload,
        check,
    })
}

/// A JSON object that is not a JWS: a command without a signature.
pub(super) fn bare_json(message: &[u8]) -> Result<Envelope, Refusal> {
    let text = json_reader::utf8(FORMAT, message).map_err(|e| Refusal::malformed(e.to_string()))?;
    let node =
        json_reader::parse("JSON", text, 0).map_err(|e| Refusal::malformed(e.to_string()))?;
    let Json::Object(members) = &node.value else {
        return Err(Refusal::malformed("a JSON command must be an object"));
    };
    let has = |name: &str| members.iter().any(|(key, _)| key == name);
    if has("payload") && (has("signature") || has("signatures")) {
        return Err(Refusal::malformed(
            "a JWS in JSON serialization; send the compact serialization \
             (`header.payload.signature`)",
        ));
    }
    Ok(Envelope {
        kind: EnvelopeKind::Unsigned,
        format: PayloadFormat::Json,
        payload: message.to_vec(),
        check: Check::Unsigned("a bare JSON command; sign it as a JWS (EdDSA or HS256)".into()),
    })
}

enum HeaderProblem {
    Unsigned(String),
    Refused(Refusal),
}

/// The algorithm the protected header names, if this device accepts the header.
fn header_check(header: &[u8]) -> Result<Algorithm, HeaderProblem> {
    let malformed = |why: String| HeaderProblem::Refused(Refusal::malformed(why));
    let text = json_reader::utf8(FORMAT, header).map_err(|e| malformed(e.to_string()))?;
    let node = json_reader::parse("JWS header", text, 0).map_err(|e| malformed(e.to_string()))?;
    let members = node
        .object("JWS header", "the header")
        .map_err(|e| malformed(e.to_string()))?;
    let mut algorithm = None;
    for (name, value) in members {
        match name.as_ref() {
            "alg" => {
                algorithm = Some(
                    value
                        .string("JWS header", "`alg`")
                        .map_err(|e| malformed(e.to_string()))?
                        .to_string(),
                )
            }
            // RFC 7515 section 4.1.11: a recipient must refuse extensions it does not
            // understand, and this device understands none.
            "crit" => {
                return Err(HeaderProblem::Refused(Refusal::bad_signature(
                    "the JWS header lists critical extensions (`crit`), which this device \
                     does not support",
                )))
            }
            _ => {}
        }
    }
    match algorithm.as_deref() {
        None => Err(malformed("the JWS header has no `alg`".into())),
        Some("EdDSA" | "Ed25519") => Ok(Algorithm::Ed25519),
        Some("HS256") => Ok(Algorithm::HmacSha256),
        Some("none") => Err(HeaderProblem::Unsigned(
            "a JWS with `alg` `none` carries no signature".into(),
        )),
        Some(other) => Err(HeaderProblem::Refused(Refusal::bad_signature(format!(
            "JWS `alg` `{other}` is not accepted; sign with EdDSA (Ed25519) or HS256"
        )))),
    }
}
