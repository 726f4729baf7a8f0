//! edgewise's own JSON: every part of a reading, losslessly, in compact JSON.
//!
//! One reading is one object:
//!
//! ```json
//! {"device":"pi-1","sensor":"bme280","seq":7,"time_ns":1732550400250000000,
//!  "fields":[{"channel":"temperature","unit":"Cel","value":21.5},
//!            {"channel":"door_open","value":true},{"channel":"state","value":"idle"}]}
//! ```
//!
//! (on one line). The time is integer nanoseconds, so it survives exactly; numbers are
//! written in their shortest round-trip form, so parsing gives back the same f64; the value's
//! JSON type tells number, boolean and string apart; `unit` is left out when empty. A batch is
//! a JSON array of such objects (`application/json`); the lines framing writes one object per
//! line instead (JSON Lines, `application/x-ndjson`), so a file can be appended to and read
//! line by line. NaN and infinity have no JSON form and are refused.
//!
//! Decoding ignores members it does not know (a newer writer may add some) and the `device`
//! (a reading does not carry it).

use std::borrow::Cow;

use super::json_reader::{self, Json, Node};
use super::{text, DecodeError, EncodeError, Encoder};
use crate::reading::{Field, Reading, Value};

const FORMAT: &str = "json";

/// How readings are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `[{…},{…}]`
    Array,
    /// `{…}\n{…}\n`
    Lines,
}

/// edgewise's JSON, as one array per batch or as JSON Lines.
#[derive(Debug, Clone)]
pub struct JsonEncoder {
    device: Cow<'static, str>,
    framing: Framing,
}

impl JsonEncoder {
    /// A batch as one JSON array (`application/json`).
    pub fn new(device: impl Into<Cow<'static, str>>) -> Self {
        Self {
            device: device.into(),
            framing: Framing::Array,
        }
    }

    /// One reading per line, each line a JSON object ending in `\n` (JSON Lines,
    /// `application/x-ndjson`): what the file transport and stdout write.
    pub fn lines(device: impl Into<Cow<'static, str>>) -> Self {
        Self {
            device: device.into(),
            framing: Framing::Lines,
        }
    }

    /// The device name written into every reading.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn write_reading(&self, reading: &Reading, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(b"{\"device\":");
        text::json_string(out, &self.device);
        out.extend_from_slice(b",\"sensor\":");
        text::json_string(out, &reading.sensor);
        out.extend_from_slice(b",\"seq\":");
        text::display(out, reading.seq);
        out.extend_from_slice(b",\"time_ns\":");
        text::display(out, reading.time_ns);
        out.extend_from_slice(b",\"fields\":[");
        for (index, field) in reading.fields.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"channel\":");
            text::json_string(out, &field.channel);
            if !field.unit.is_empty() {
                out.extend_from_slice(b",\"unit\":");
                text::json_string(out, &field.unit);
            }
            out.extend_from_slice(b",\"value\":");
            match &field.value {
                Value::Number(value) if value.is_finite() => text::float(out, *value),
                Value::Number(value) => {
                    return Err(EncodeError::Unrepresentable {
                        format: FORMAT,
                        sensor: reading.sensor.to_string(),
                        channel: field.channel.to_string(),
                        problem: format!("value {value} has no JSON encoding"),
                    })
                }
                Value::Bool(value) => {
                    out.extend_from_slice(if *value { b"true" } else { b"false" });
                }
                Value::Text(value) => text::json_string(out, value),
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    fn write_batch(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self.framing {
            Framing::Array => {
                out.push(b'[');
                for (index, reading) in batch.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    self.write_reading(reading, out)?;
                }
                out.push(b']');
            }
            Framing::Lines => {
                for reading in batch {
                    self.write_reading(reading, out)?;
                    out.push(b'\n');
                }
            }
        }
        Ok(())
    }
}

impl Encoder for JsonEncoder {
    fn content_type(&self) -> &'static str {
        match self.framing {
            Framing::Array => "application/json",
            Framing::Lines => "application/x-ndjson",
        }
    }

    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.write_batch(batch, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
        let text = json_reader::utf8(FORMAT, bytes)?;
        match self.framing {
            Framing::Array => {
                let root = json_reader::parse(FORMAT, text, 0)?;
                root.array(FORMAT, "a batch")?
                    .iter()
                    .map(reading_from)
                    .collect()
            }
            Framing::Lines => {
                let mut readings = Vec::new();
                let mut line_start = 0;
                for line in text.split_inclusive('\n') {
                    if !line.trim().is_empty() {
                        let node = json_reader::parse(FORMAT, line, line_start)?;
                        readings.push(reading_from(&node)?);
                    }
                    line_start += line.len();
                }
                Ok(readings)
            }
        }
    }
}

/// A member of an object, or an error naming it.
fn member<'n, 'a>(
    members: &'n [(Cow<'a, str>, Node<'a>)],
    object: &Node<'_>,
    key: &str,
) -> Result<&'n Node<'a>, DecodeError> {
    members
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, node)| node)
        .ok_or_else(|| DecodeError {
            format: FORMAT,
            offset: object.offset,
            problem: format!("`{key}` is missing"),
        })
}

fn reading_from(node: &Node<'_>) -> Result<Reading, DecodeError> {
    let members = node.object(FORMAT, "a reading")?;
    let fields = member(members, node, "fields")?
        .array(FORMAT, "fields")?
        .iter()
        .map(field_from)
        .collect::<Result<_, _>>()?;
    Ok(Reading {
        sensor: Cow::Owned(
            member(members, node, "sensor")?
                .string(FORMAT, "sensor")?
                .to_owned(),
        ),
        seq: member(members, node, "seq")?.integer(FORMAT, "seq")?,
        time_ns: member(members, node, "time_ns")?.integer(FORMAT, "time_ns")?,
        fields,
    })
}

fn field_from(node: &Node<'_>) -> Result<Field, DecodeError> {
    let members = node.object(FORMAT, "a field")?;
    let unit = match members.iter().find(|(name, _)| name == "unit") {
        Some((_, unit)) => unit.string(FORMAT, "unit")?.to_owned(),
        None => String::new(),
    };
    let value = member(members, node, "value")?;
    let value = match &value.value {
        Json::Number(_) => Value::Number(value.number(FORMAT, "value")?),
        Json::Bool(flag) => Value::Bool(*flag),
        Json::String(text) => Value::Text(Cow::Owned(text.to_string())),
        other => {
            return Err(DecodeError {
                format: FORMAT,
                offset: value.offset,
                problem: format!(
                    "value must be a number, boolean or string, not {}",
                    other.kind()
                ),
            })
        }
    };
    Ok(Field {
        channel: Cow::Owned(
            member(members, node, "channel")?
                .string(FORMAT, "channel")?
                .to_owned(),
        ),
        unit: Cow::Owned(unit),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Reading> {
        vec![
            Reading {
                sensor: "bme280".into(),
                seq: 7,
                time_ns: 1_732_550_400_250_000_000,
                fields: Vec::new(),
            }
            .with_number("temperature", "Cel", 21.5)
            .with_number("pressure", "Pa", 101_325.0)
            .with_number("humidity", "%RH", 40.25),
            Reading {
                sensor: "door \"north\"\\1".into(),
                seq: u64::MAX,
                time_ns: -1_500_000_001,
                fields: Vec::new(),
            }
            .with_field(Field {
                channel: "open".into(),
                unit: "".into(),
                value: Value::Bool(true),
            })
            .with_field(Field {
                channel: "state".into(),
                unit: "".into(),
                value: Value::Text("idle\nnext: ☃ \u{1}".into()),
            })
            .with_number("tiny", "", 5e-324)
            .with_number("negative_zero", "", -0.0)
            .with_number("third", "/", 1.0 / 3.0)
            .with_number("huge", "", -1.7e308),
            Reading {
                sensor: "empty".into(),
                seq: 0,
                time_ns: 0,
                fields: Vec::new(),
            },
        ]
    }

    fn encoded(encoder: &JsonEncoder, batch: &[Reading]) -> Vec<u8> {
        let mut out = Vec::new();
        encoder
            .encode(batch, &mut out)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        out
    }

    /// Equality that tells -0.0 from 0.0.
    fn assert_same(decoded: &[Reading], expected: &[Reading]) {
        assert_eq!(decoded, expected);
        for (d, e) in decoded.iter().zip(expected) {
            for (df, ef) in d.fields.iter().zip(&e.fields) {
                if let (Value::Number(a), Value::Number(b)) = (&df.value, &ef.value) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{}", df.channel);
                }
            }
        }
    }

    #[test]
    fn a_reading_is_one_compact_object() {
        let batch = &sample()[..1];
        let text = String::from_utf8(encoded(&JsonEncoder::new("pi-1"), batch))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            r#"[{"device":"pi-1","sensor":"bme280","seq":7,"time_ns":1732550400250000000,"fields":[{"channel":"temperature","unit":"Cel","value":21.5},{"channel":"pressure","unit":"Pa","value":101325},{"channel":"humidity","unit":"%RH","value":40.25}]}]"#
        );
    }

    #[test]
    fn both_framings_round_trip_every_part_of_a_reading() {
        let batch = sample();
        for encoder in [JsonEncoder::new("pi-1"), JsonEncoder::lines("pi \"1\"")] {
            let bytes = encoded(&encoder, &batch);
            let decoded = encoder
                .decode(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", encoder.content_type()));
            assert_same(&decoded, &batch);
        }
        assert_eq!(JsonEncoder::new("d").decode(b"[]"), Ok(Vec::new()));
    }

    #[test]
    fn lines_framing_writes_one_object_per_line() {
        let encoder = JsonEncoder::lines("pi-1");
        assert_eq!(encoder.content_type(), "application/x-ndjson");
        let batch = sample();
        let bytes = encoded(&encoder, &batch);
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), batch.len());
        // Appending a second batch to the same file still decodes.
        let twice = format!("{text}\n{text}");
        assert_eq!(encoder.decode(twice.as_bytes()).map(|r| r.len()), Ok(6));
    }

    #[test]
    fn nan_and_infinity_are_refused_naming_sensor_and_channel() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let batch = vec![sample().remove(0).with_number("broken", "Cel", bad)];
            let mut out = b"kept".to_vec();
            let error = JsonEncoder::new("pi-1")
                .encode(&batch, &mut out)
                .err()
                .unwrap_or_else(|| panic!("{bad} was encoded"));
            let message = error.to_string();
            assert!(
                message.contains("`bme280`") && message.contains("`broken`"),
                "{message}"
            );
            assert_eq!(out, b"kept", "the buffer is left as it was");
        }
    }

    #[test]
    fn decoding_says_what_is_wrong_and_where() {
        let decoder = JsonEncoder::new("pi-1");
        let problem = |input: &str| {
            decoder
                .decode(input.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{input} decoded"))
        };
        let e = problem(r#"[{"sensor":"a","seq":1,"fields":[]}]"#);
        assert!(e.problem.contains("time_ns") && e.offset == 1, "{e}");
        let e = problem(r#"[{"sensor":"a","seq":-1,"time_ns":0,"fields":[]}]"#);
        assert!(e.problem.contains("seq"), "{e}");
        let input =
            r#"[{"sensor":"a","seq":1,"time_ns":0,"fields":[{"channel":"c","value":null}]}]"#;
        let e = problem(input);
        assert!(e.problem.contains("null"), "{e}");
        assert_eq!(Some(e.offset), input.find("null"));
        let e = problem("{\"sensor\":1}");
        assert!(e.problem.contains("array"), "{e}");
        let first_line = "{\"sensor\":\"a\",\"seq\":0,\"time_ns\":0,\"fields\":[]}\n";
        let input = format!("{first_line}{{oops}}\n");
        let e = JsonEncoder::lines("d").decode(input.as_bytes()).err();
        assert_eq!(e.map(|e| e.offset), Some(first_line.len() + 1));
    }
}
