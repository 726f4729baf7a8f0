//! The command inside an envelope, and the checks a device makes before it lets a command
//! near an actuator: envelope, signature, expiry, device, in that order. Whether the target
//! exists, takes the value, or is held by a local rule is the runtime's to check (it knows
//! the actuators); it refuses with the [`Refusal`] constructors so every reason is spelt
//! one way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_sensors::actuator::Command;

use crate::encode::json_reader::{self, Json, Node};

use super::cbor_value::{self, Cbor};
use super::envelope::{self, EnvelopeKind, PayloadFormat};
use super::keys::VerifyKey;
use super::refusal::Refusal;
use crate::reading::rfc3339;

/// The longest command id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// What a command asks its target to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CommandValue {
    /// `"on"` or `true`.
    On,
    /// `"off"` or `false`.
    Off,
    /// A number: a PWM output's duty as a fraction 0.0..=1.0.
    Number(f64),
    /// `{"angle": n}`: a servo's angle in degrees.
    Angle(f64),
}

impl CommandValue {
    /// The actuator command, refusing (`out of range`) a number outside 0.0..=1.0, which a
    /// PWM output would otherwise clamp silently. An angle's range is the servo's: the
    /// actuator checks it.
    pub fn to_command(self) -> Result<Command, Refusal> {
        match self {
            CommandValue::On => Ok(Command::On),
            CommandValue::Off => Ok(Command::Off),
            CommandValue::Number(n) if (0.0..=1.0).contains(&n) => Ok(Command::Fraction(n as f32)),
            CommandValue::Number(n) => Err(Refusal::out_of_range(format!(
                "value {n} is outside 0.0..=1.0 (a duty fraction)"
            ))),
            CommandValue::Angle(angle) => Ok(Command::Angle(angle as f32)),
        }
    }
}

/// A verified command.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteCommand {
    /// Its id: unique per command, remembered to refuse replays.
    pub id: String,
    /// The actuator it is for.
    pub target: String,
    /// What to do.
    pub value: CommandValue,
    /// When it stops being valid.
    pub expires: SystemTime,
    /// The device it was addressed to, if it names one.
    pub device: Option<String>,
    /// The envelope it came in.
    pub envelope: EnvelopeKind,
}

/// Checks commands for one device.
#[derive(Debug, Clone)]
pub struct CommandVerifier {
    /// The key signatures must verify with.
    pub key: VerifyKey,
    /// This device's id: a command that names another device is refused.
    pub device: String,
    /// How far ahead an expiry may be (ids are remembered until they expire, so this also
    /// bounds the replay table).
    pub max_ttl: Duration,
}

impl CommandVerifier {
    /// [`CommandVerifier::max_ttl`] when the configuration does not say: one hour.
    pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(3600);

    /// A verifier with the default `max_ttl`.
    pub fn new(key: VerifyKey, device: impl Into<String>) -> Self {
        Self {
            key,
            device: device.into(),
            max_ttl: Self::DEFAULT_MAX_TTL,
        }
    }

    /// The command in `message`, if its envelope, signature, expiry (against `now`) and
    /// device are acceptable.
    pub fn check(&self, message: &[u8], now: SystemTime) -> Result<RemoteCommand, Refusal> {
        let envelope = envelope::parse(message)?;
        envelope.verify(&self.key)?;
        let command = parse_command(envelope.format, &envelope.payload, envelope.kind)?;
        if command.expires <= now {
            let ago = now.duration_since(command.expires).unwrap_or_default();
            return Err(Refusal::expired(format!(
                "it expired at {} ({} s ago)",
                rfc3339(command.expires),
                ago.as_secs()
            )));
        }
        let ahead = command.expires.duration_since(now).unwrap_or_default();
        if ahead > self.max_ttl {
            return Err(Refusal::expiry_too_far(format!(
                "it expires in {} s, more than the {} s this device allows",
                ahead.as_secs(),
                self.max_ttl.as_secs()
            )));
        }
        if let Some(device) = &command.device {
            if *device != self.device {
                return Err(Refusal::wrong_device(format!(
                    "it is for device `{device}`, this is `{}`",
                    self.device
                )));
            }
        }
        Ok(command)
    }
}

/// The id and target of a message as far as they can be read, signature or not: for the
/// reply to a refused message (an operator wants to know which command was refused).
pub fn identify(message: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(envelope) = envelope::parse(message) else {
        return (None, None);
    };
    let text_field = |name: &str| -> Option<String> {
        match envelope.format {
            PayloadFormat::Json => {
                let text = std::str::from_utf8(&envelope.payload).ok()?;
                let node = json_reader::parse("JSON", text, 0).ok()?;
                let Json::Object(members) = &node.value else {
                    return None;
                };
                members
                    .iter()
                    .find(|(key, _)| key == name)
                    .and_then(|(_, value)| match &value.value {
                        Json::String(s) => Some(s.to_string()),
                        _ => None,
                    })
            }
            PayloadFormat::Cbor => {
                let map = cbor_value::parse("CBOR", &envelope.payload).ok()?;
                let Cbor::Map(pairs) = map else { return None };
                pairs.iter().find_map(|(key, value)| match (key, value) {
                    (Cbor::Text(key), Cbor::Text(value)) if *key == name => Some(value.to_string()),
                    _ => None,
                })
            }
        }
    };
    let id = text_field("id").filter(|id| !id.is_empty() && id.len() <= MAX_ID_BYTES);
    (id, text_field("target"))
}

/// A command's fields, read from either encoding.
enum Field<'n, 'a> {
    Json(&'n Node<'a>),
    Cbor(&'n Cbor<'a>),
}

impl Field<'_, '_> {
    fn text(&self, what: &str) -> Result<String, Refusal> {
        match self {
            Field::Json(node) => match &node.value {
                Json::String(s) => Ok(s.to_string()),
                other => Err(Refusal::malformed(format!(
                    "`{what}` must be a string, not {}",
                    other.kind()
                ))),
            },
            Field::Cbor(Cbor::Text(s)) => Ok(s.to_string()),
            Field::Cbor(other) => Err(Refusal::malformed(format!(
                "`{what}` must be a text string, not {}",
                other.kind()
            ))),
        }
    }

    fn number(&self, what: &str) -> Result<f64, Refusal> {
        let number = match self {
            Field::Json(node) => node
                .number("JSON", what)
                .map_err(|e| Refusal::malformed(e.problem))?,
            Field::Cbor(Cbor::Int(n)) => *n as f64,
            Field::Cbor(Cbor::Float(f)) => *f,
            Field::Cbor(other) => {
                return Err(Refusal::malformed(format!(
                    "`{what}` must be a number, not {}",
                    other.kind()
                )))
            }
        };
        if number.is_finite() {
            Ok(number)
        } else {
            Err(Refusal::malformed(format!(
                "`{what}` must be a finite number"
            )))
        }
    }

    fn value(&self) -> Result<CommandValue, Refusal> {
        let word = |word: &str| match word {
            "on" => Ok(CommandValue::On),
            "off" => Ok(CommandValue::Off),
            other => Err(Refusal::malformed(format!(
                "`value` \"{other}\" is not \"on\", \"off\", true, false, a number or \
                 {{\"angle\": n}}"
            ))),
        };
        let angle = |entries: Vec<(String, Field<'_, '_>)>| match entries.as_slice() {
            [(key, field)] if key == "angle" => {
                Ok(CommandValue::Angle(field.number("value.angle")?))
            }
            _ => Err(Refusal::malformed(
                "an object `value` must be {\"angle\": n} and nothing else",
            )),
        };
        match self {
            Field::Json(node) => match &node.value {
                Json::String(s) => word(s),
                Json::Bool(true) => Ok(CommandValue::On),
                Json::Bool(false) => Ok(CommandValue::Off),
                Json::Number(_) => Ok(CommandValue::Number(self.number("value")?)),
                Json::Object(members) => angle(
                    members
                        .iter()
                        .map(|(key, value)| (key.to_string(), Field::Json(value)))
                        .collect(),
                ),
                other => Err(Refusal::malformed(format!(
                    "`value` must be \"on\", \"off\", true, false, a number or {{\"angle\": n}}, \
                     not {}",
                    other.kind()
                ))),
            },
            Field::Cbor(item) => match item {
                Cbor::Text(s) => word(s),
                Cbor::Bool(true) => Ok(CommandValue::On),
                Cbor::Bool(false) => Ok(CommandValue::Off),
                Cbor::Int(_) | Cbor::Float(_) => Ok(CommandValue::Number(self.number("value")?)),
                Cbor::Map(pairs) => angle(
                    pairs
                        .iter()
                        .map(|(key, value)| match key {
                            Cbor::Text(key) => (key.to_string(), Field::Cbor(value)),
                            _ => (String::new(), Field::Cbor(value)),
                        })
                        .collect(),
                ),
                other => Err(Refusal::malformed(format!(
                    "`value` must be \"on\", \"off\", true, false, a number or {{\"angle\": n}}, \
                     not {}",
                    other.kind()
                ))),
            },
        }
    }
}

/// The command in a verified payload. Unknown members are ignored (a signer may add its own,
/// such as JWT's `iat`).
fn parse_command(
    format: PayloadFormat,
    payload: &[u8],
    kind: EnvelopeKind,
) -> Result<RemoteCommand, Refusal> {
    match format {
        PayloadFormat::Json => {
            let text = json_reader::utf8("JSON", payload)
                .map_err(|e| Refusal::malformed(format!("the command: {e}")))?;
            let node = json_reader::parse("JSON", text, 0)
                .map_err(|e| Refusal::malformed(format!("the command: {e}")))?;
            let Json::Object(members) = &node.value else {
                return Err(Refusal::malformed(format!(
                    "the command must be a JSON object, not {}",
                    node.value.kind()
                )));
            };
            let fields = members
                .iter()
                .map(|(key, value)| (key.as_ref(), Field::Json(value)))
                .collect();
            command_from(fields, kind)
        }
        PayloadFormat::Cbor => {
            let item = cbor_value::parse("CBOR", payload)
                .map_err(|e| Refusal::malformed(format!("the command: {e}")))?;
            let Cbor::Map(pairs) = &item else {
                return Err(Refusal::malformed(format!(
                    "the command must be a CBOR map, not {}",
                    item.kind()
                )));
            };
            let fields = pairs
                .iter()
                .filter_map(|(key, value)| match key {
                    Cbor::Text(key) => Some((*key, Field::Cbor(value))),
                    _ => None,
                })
                .collect();
            command_from(fields, kind)
        }
    }
}

fn command_from(
    fields: Vec<(&str, Field<'_, '_>)>,
    kind: EnvelopeKind,
) -> Result<RemoteCommand, Refusal> {
    let get = |name: &str| fields.iter().find(|(key, _)| *key == name).map(|(_, f)| f);
    let required = |name: &str| {
        get(name).ok_or_else(|| Refusal::malformed(format!("the command has no `{name}`")))
    };
    let id = required("id")?.text("id")?;
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(Refusal::malformed(format!(
            "`id` must be 1 to {MAX_ID_BYTES} bytes long, this one has {}",
            id.len()
        )));
    }
    let target = required("target")?.text("target")?;
    if target.is_empty() {
        return Err(Refusal::malformed("`target` is empty"));
    }
    let value = required("value")?.value()?;
    let expires = required("expires")?.number("expires")?;
    if expires < 0.0 {
        return Err(Refusal::malformed(
            "`expires` must be unix seconds, not negative",
        ));
    }
    let expires = Duration::try_from_secs_f64(expires)
        .ok()
        .and_then(|after| UNIX_EPOCH.checked_add(after))
        .ok_or_else(|| Refusal::malformed("`expires` is too far in the future"))?;
    let device = get("device")
        .map(|field| field.text("device"))
        .transpose()?;
    Ok(RemoteCommand {
        id,
        target,
        value,
        expires,
        device,
        envelope: kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::refusal::Reason;

    fn verifier() -> CommandVerifier {
        CommandVerifier::new(VerifyKey::HmacSha256(vec![7; 32]), "pump-7")
    }

    fn hs256(payload: &str) -> Vec<u8> {
        // Signed here with ring's HMAC; the RFC vectors and the peer tests check the envelope
        // against independent signers, this checks what happens after it.
        let b64 = |bytes: &[u8]| {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
                for i in 0..=chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        };
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(payload.as_bytes()));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7; 32]);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", b64(tag.as_ref())).into_bytes()
    }

    const NOW: u64 = 1_800_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn refused(payload: &str) -> Option<Refusal> {
        verifier().check(&hs256(payload), now()).err()
    }

    #[test]
    fn accepts_each_value_form() {
        let cases = [
            (r#""on""#, CommandValue::On),
            (r#""off""#, CommandValue::Off),
            ("true", CommandValue::On),
            ("false", CommandValue::Off),
            ("0.35", CommandValue::Number(0.35)),
            (r#"{"angle": 90.0}"#, CommandValue::Angle(90.0)),
        ];
        for (value, expected) in cases {
            let payload = format!(
                r#"{{"id":"c-42","target":"fan","value":{value},"expires":{},"device":"pump-7","iat":1}}"#,
                NOW + 60
            );
            let command = verifier()
                .check(&hs256(&payload), now())
                .unwrap_or_else(|e| panic!("{payload}: {e}"));
            assert_eq!(command.value, expected);
            assert_eq!(command.id, "c-42");
            assert_eq!(command.target, "fan");
            assert_eq!(command.expires, UNIX_EPOCH + Duration::from_secs(NOW + 60));
            assert_eq!(command.envelope, EnvelopeKind::Jws);
        }
    }

    #[test]
    fn refuses_expired_too_far_wrong_device_and_malformed_commands() {
        let command = |id: &str, value: &str, expires: u64, device: &str| {
            format!(r#"{{"id":"{id}","target":"fan","value":{value},"expires":{expires}{device}}}"#)
        };
        let reason = |payload: String| refused(&payload).map(|r| r.reason());
        assert_eq!(reason(command("a", "true", NOW, "")), Some(Reason::Expired));
        assert_eq!(
            reason(command("a", "true", NOW + 3601, "")),
            Some(Reason::ExpiryTooFar)
        );
        assert_eq!(
            reason(command("a", "true", NOW + 60, r#","device":"other""#)),
            Some(Reason::WrongDevice)
        );
        assert_eq!(
            reason(command("", "true", NOW + 60, "")),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(command(&"x".repeat(129), "true", NOW + 60, "")),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(command("a", r#""half""#, NOW + 60, "")),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(command("a", "[1]", NOW + 60, "")),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(command("a", r#"{"angle":1,"speed":2}"#, NOW + 60, "")),
            Some(Reason::Malformed)
        );
        assert_eq!(
            reason(r#"{"id":"a","value":true,"expires":1}"#.into()),
            Some(Reason::Malformed)
        );
        assert_eq!(reason("[1]".into()), Some(Reason::Malformed));
        let expired = refused(&command("a", "true", NOW - 5, "")).map(|r| r.to_string());
        assert_eq!(
            expired.as_deref(),
            Some("expired: it expired at 2027-01-15T07:59:55.000Z (5 s ago)")
        );
    }

    #[test]
    fn values_map_to_actuator_commands() {
        assert_eq!(CommandValue::On.to_command(), Ok(Command::On));
        assert_eq!(
            CommandValue::Number(0.5).to_command(),
            Ok(Command::Fraction(0.5))
        );
        assert_eq!(
            CommandValue::Number(1.5)
                .to_command()
                .map_err(|r| r.reason()),
            Err(Reason::OutOfRange)
        );
        assert_eq!(
            CommandValue::Angle(45.0).to_command(),
            Ok(Command::Angle(45.0))
        );
    }

    #[test]
    fn identifies_id_and_target_of_refused_messages() {
        let bare = br#"{"id":"c-1","target":"fan","value":"on","expires":1}"#;
        assert_eq!(identify(bare), (Some("c-1".into()), Some("fan".into())));
        assert_eq!(identify(b"garbage"), (None, None));
    }
}
