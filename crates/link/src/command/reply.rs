//! The answer to a command, published as JSON on the reply topic:
//!
//! ```json
//! {"id": "c-42", "status": "done", "target": "fan", "state": "on", "at": "2026-05-01T12:00:00.000Z"}
//! {"id": "c-43", "status": "refused", "reason": "expired: it expired at …", "target": "fan", "at": "…"}
//! ```
//!
//! `id` is null when the message could not be read far enough to find one; `target` and
//! `state` are left out when unknown; `reason` is there only when refused.

use std::time::{SystemTime, UNIX_EPOCH};

use edgewise_sensors::actuator::State;

use crate::encode::text;

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

/// A UTC timestamp with milliseconds, RFC 3339 (`2026-05-01T12:00:00.250Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc_3339_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.250Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

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
