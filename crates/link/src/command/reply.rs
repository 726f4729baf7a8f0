//! The answer to a command, published as JSON on the reply topic:
//!
//! ```json
//! {"id": "c-42", "status": "done", "target": "fan", "state": "on", "at": "2026-05-01T12:00:00.000Z"}
//! {"id": "c-43", "status": "refused", "reason": "expired: it expired at …", "target": "fan", "at": "…"}
//! ```
//!
//! `id` is null when the message could not be read far enough to find one; `target` and
//! `state` are left out when unknown; `reason` is there only when refused.

use std::time::SystemTime;

use edgewise_sensors::actuator::State;

use crate::encode::text;
use crate::reading::rfc3339;

use super::refusal::Refusal;

/// The outcome of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The command's id, if it could be read.
    pub id: Option<String>,
    /// Done (with the state applied) or refused (with why).
    pub outcome: Result<State, Refusal>,
    /// The command's target, if it could be read.
    pub target: Option<String>,
    /// When the device decided.
    pub at: SystemTime,
}

impl Reply {
    /// The reply as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"id\":");
        match &self.id {
            Some(id) => text::json_string(&mut out, id),
            None => out.extend_from_slice(b"null"),
        }
        match &self.outcome {
            Ok(_) => out.extend_from_slice(b",\"status\":\"done\""),
            Err(refusal) => {
                out.extend_from_slice(b",\"status\":\"refused\",\"reason\":");
                text::json_string(&mut out, &refusal.text());
            }
        }
        if let Some(target) = &self.target {
            out.extend_from_slice(b",\"target\":");
            text::json_string(&mut out, target);
        }
        if let Ok(state) = &self.outcome {
            out.extend_from_slice(b",\"state\":");
            match state {
                State::On => out.extend_from_slice(b"\"on\""),
                State::Off => out.extend_from_slice(b"\"off\""),
                State::Fraction(fraction) if fraction.is_finite() => {
                    text::float(&mut out, crate::reading::decimal_f64(*fraction))
                }
                State::Fraction(_) => out.extend_from_slice(b"null"),
            }
        }
        out.extend_from_slice(b",\"at\":");
        text::json_string(&mut out, &rfc3339(self.at));
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn replies_follow_the_contract() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let done = Reply {
            id: Some("c-42".into()),
            outcome: Ok(State::Fraction(0.35)),
            target: Some("fan".into()),
            at,
        };
        assert_eq!(
            String::from_utf8_lossy(&done.to_json()),
            r#"{"id":"c-42","status":"done","target":"fan","state":0.35,"at":"2023-11-14T22:13:20.000Z"}"#
        );
        let refused = Reply {
            id: None,
            outcome: Err(Refusal::malformed("the message is \"empty\"")),
            target: None,
            at,
        };
        assert_eq!(
            String::from_utf8_lossy(&refused.to_json()),
            r#"{"id":null,"status":"refused","reason":"malformed: the message is \"empty\"","at":"2023-11-14T22:13:20.000Z"}"#
        );
    }
}
