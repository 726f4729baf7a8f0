//! InfluxDB line protocol (`text/plain; charset=utf-8`): one point per reading,
//!
//! ```text
//! bme280,device=pi-1 temperature=21.5,pressure=101325,door_open=true,state="idle" 1732550400250000000
//! ```
//!
//! The measurement is the sensor, the `device` tag the device, one field per channel (numbers
//! as floats in shortest round-trip form, booleans `true`/`false`, strings quoted) and the
//! timestamp in nanoseconds. Units and sequence numbers are not carried: line protocol has no
//! place for them (a receiver that needs units keeps them in its schema).
//!
//! Escaping follows InfluxDB's rules: `,` and space in the measurement; `,`, `=` and space in
//! tag keys, tag values and field keys; `"` and `\` in string field values. Some names cannot
//! be written at all, and are refused with an error rather than sent as a different point:
//! names with line breaks (line protocol has no escape for them, in values neither), names
//! ending in `\` (it would escape the delimiter after it), names starting with `_` (reserved
//! by InfluxDB), a measurement starting with `#` (the line would be a comment), empty names,
//! and readings without fields (a point needs one). An empty device name leaves the tag out,
//! as InfluxDB allows no empty tag values.

use std::borrow::Cow;

use super::{text, DecodeError, EncodeError, Encoder};
use crate::reading::{Field, Reading, Value};

const FORMAT: &str = "line protocol";

/// InfluxDB line protocol, tagging every point with `device=<device>`.
#[derive(Debug, Clone)]
pub struct LineProtocolEncoder {
    device: Cow<'static, str>,
}

impl LineProtocolEncoder {
    /// Line protocol for the readings of `device`.
    pub fn new(device: impl Into<Cow<'static, str>>) -> Self {
        Self {
            device: device.into(),
        }
    }

    /// The device name written into the `device` tag.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn write_point(&self, reading: &Reading, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let refuse = |channel: &str, problem: String| EncodeError::Unrepresentable {
            format: FORMAT,
            sensor: reading.sensor.to_string(),
            channel: channel.to_string(),
            problem,
        };
        let first_channel = reading.fields.first().map_or("", |f| f.channel.as_ref());
        let device_problem = || {
            if self.device.is_empty() {
                None
            } else {
                name_problem(&self.device, Element::TagValue)
            }
        };
        if let Some(problem) =
            name_problem(&reading.sensor, Element::Measurement).or_else(device_problem)
        {
            return Err(refuse(first_channel, problem));
        }
        if reading.fields.is_empty() {
            return Err(refuse(
                "",
                "a reading without fields has no line protocol point (a point needs at least one field)".into(),
            ));
        }
        escaped(out, &reading.sensor, b", ");
        if !self.device.is_empty() {
            out.extend_from_slice(b",device=");
            escaped(out, &self.device, b",= ");
        }
        for (index, field) in reading.fields.iter().enumerate() {
            if let Some(problem) = name_problem(&field.channel, Element::FieldKey) {
                return Err(refuse(&field.channel, problem));
            }
            out.push(if index == 0 { b' ' } else { b',' });
            escaped(out, &field.channel, b",= ");
            out.push(b'=');
            match &field.value {
                Value::Number(value) if value.is_finite() => text::float(out, *value),
                Value::Number(value) => {
                    return Err(refuse(
                        &field.channel,
                        format!("value {value} has no line protocol encoding"),
                    ))
                }
                Value::Bool(value) => {
                    out.extend_from_slice(if *value { b"true" } else { b"false" })
                }
                Value::Text(value) if value.contains(['\n', '\r']) => {
                    return Err(refuse(
                        &field.channel,
                        "a string value with a line break has no line protocol encoding".into(),
                    ))
                }
                Value::Text(value) => {
                    out.push(b'"');
                    escaped(out, value, b"\"\\");
                    out.push(b'"');
                }
            }
        }
        out.push(b' ');
        text::display(out, reading.time_ns);
        out.push(b'\n');
        Ok(())
    }
}

impl Encoder for LineProtocolEncoder {
    fn content_type(&self) -> &'static str {
        "text/plain; charset=utf-8"
    }

    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        for reading in batch {
            if let Err(error) = self.write_point(reading, out) {
                out.truncate(start);
                return Err(error);
            }
        }
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError {
            format: FORMAT,
            offset: e.valid_up_to(),
            problem: "not valid UTF-8".into(),
        })?;
        let mut readings = Vec::new();
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            if !content.trim().is_empty() && !content.starts_with('#') {
                readings.push(parse_point(content, line_start)?);
            }
            line_start += line.len();
        }
        Ok(readings)
    }
}

/// The parts of a point, which differ in what they escape and forbid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Measurement,
    TagValue,
    FieldKey,
}

/// Why `name` cannot be written as `element`, if it cannot.
fn name_problem(name: &str, element: Element) -> Option<String> {
    let what = match element {
        Element::Measurement => "measurement (sensor name)",
        Element::TagValue => "device tag value",
        Element::FieldKey => "field key (channel name)",
    };
    let problem = if name.is_empty() {
        "is empty"
    } else if name.contains(['\n', '\r']) {
        "contains a line break, which line protocol cannot carry"
    } else if name.ends_with('\\') {
        "ends with `\\`, which would escape the delimiter after it"
    } else if element != Element::TagValue && name.starts_with('_') {
        "starts with `_`, which InfluxDB reserves for itself"
    } else if element == Element::Measurement && name.starts_with('#') {
        "starts with `#`, which would make the line a comment"
    } else {
        return None;
    };
    Some(format!("{what} `{}` {problem}", name.escape_debug()))
}

/// Appends `s` with a backslash before each of `specials`.
fn escaped(out: &mut Vec<u8>, s: &str, specials: &[u8]) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, byte) in bytes.iter().enumerate() {
        if specials.contains(byte) {
            out.extend_from_slice(&bytes[run_start..i]);
            out.push(b'\\');
            run_start = i;
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
}

/// Reads one line, tracking the offset for errors.
struct PointParser<'a> {
    line: &'a str,
    pos: usize,
    base: usize,
}

impl PointParser<'_> {
    fn error(&self, problem: impl Into<String>) -> DecodeError {
        DecodeError {
            format: FORMAT,
            offset: self.base + self.pos,
            problem: problem.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    /// Text up to the first unescaped byte of `stops` (not consumed), with the escapes of
    /// `specials` undone.
    fn until(&mut self, stops: &[u8], specials: &[u8]) -> String {
        let bytes = self.line.as_bytes();
        let start = self.pos;
        let mut text = Vec::new();
        while let Some(&byte) = bytes.get(self.pos) {
            if byte == b'\\'
                && bytes
                    .get(self.pos + 1)
                    .is_some_and(|b| specials.contains(b))
            {
                text.push(bytes[self.pos + 1]);
                self.pos += 2;
                continue;
            }
            if stops.contains(&byte) {
                break;
            }
            text.push(byte);
            self.pos += 1;
        }
        // Only ASCII bytes were removed, so the rest is still UTF-8.
        String::from_utf8(text).unwrap_or_else(|_| self.line[start..self.pos].to_owned())
    }
}

fn parse_point(line: &str, base: usize) -> Result<Reading, DecodeError> {
    let mut p = PointParser { line, pos: 0, base };
    let measurement = p.until(b", ", b", ");
    if measurement.is_empty() {
        return Err(p.error("a point needs a measurement"));
    }
    // Tags: ,key=value… (the device tag; a reading has no place for tags, so they are read
    // and dropped).
    while p.peek() == Some(b',') {
        p.pos += 1;
        p.until(b"=", b",= ");
        if p.peek() != Some(b'=') {
            return Err(p.error("a tag needs `=`"));
        }
        p.pos += 1;
        p.until(b", ", b",= ");
    }
    if p.peek() != Some(b' ') {
        return Err(p.error("expected a space before the fields"));
    }
    let mut fields = Vec::new();
    loop {
        p.pos += 1; // the space or comma before this field
        let key = p.until(b"=", b",= ");
        if p.peek() != Some(b'=') || key.is_empty() {
            return Err(p.error("a field needs `key=value`"));
        }
        p.pos += 1;
        let value = if p.peek() == Some(b'"') {
            p.pos += 1;
            let text = p.until(b"\"", b"\"\\");
            if p.peek() != Some(b'"') {
                return Err(p.error("a string value never ends"));
            }
            p.pos += 1;
            Value::Text(Cow::Owned(text))
        } else {
            let at = p.pos;
            let raw = p.until(b", ", b"");
            field_value(&raw).ok_or_else(|| DecodeError {
                format: FORMAT,
                offset: base + at,
                problem: format!("`{raw}` is no line protocol field value"),
            })?
        };
        fields.push(Field {
            channel: Cow::Owned(key),
            unit: Cow::Borrowed(""),
            value,
        });
        match p.peek() {
            Some(b',') => continue,
            Some(b' ') => break,
            _ => return Err(p.error("expected a timestamp after the fields")),
        }
    }
    p.pos += 1;
    let raw = line[p.pos..].trim();
    let time_ns = raw
        .parse::<i64>()
        .map_err(|_| p.error(format!("`{raw}` is no nanosecond timestamp")))?;
    Ok(Reading {
        sensor: Cow::Owned(measurement),
        seq: 0,
        time_ns,
        fields,
    })
}

/// A float, integer (`12i`), unsigned (`12u`) or boolean field value.
fn field_value(raw: &str) -> Option<Value> {
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let number = if let Some(integer) = raw.strip_suffix('i') {
        integer.parse::<i64>().ok()? as f64
    } else if let Some(unsigned) = raw.strip_suffix('u') {
        unsigned.parse::<u64>().ok()? as f64
    } else {
        raw.parse::<f64>().ok().filter(|n| n.is_finite())?
    };
    Some(Value::Number(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(sensor: &'static str) -> Reading {
        Reading {
            sensor: sensor.into(),
            seq: 3,
            time_ns: 1_732_550_400_250_000_000,
            fields: Vec::new(),
        }
    }

    fn text_field(channel: &'static str, value: &'static str) -> Field {
        Field {
            channel: channel.into(),
            unit: "".into(),
            value: Value::Text(value.into()),
        }
    }

    fn encode(encoder: &LineProtocolEncoder, batch: &[Reading]) -> Result<String, EncodeError> {
        let mut out = Vec::new();
        encoder.encode(batch, &mut out)?;
        Ok(String::from_utf8(out).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn a_reading_is_one_point_with_the_device_tag_and_a_nanosecond_timestamp() {
        let batch = [reading("bme280")
            .with_number("temperature", "Cel", 21.5)
            .with_number("pressure", "Pa", 101_325.0)
            .with_field(Field {
                channel: "door_open".into(),
                unit: "".into(),
                value: Value::Bool(true),
            })
            .with_field(text_field("state", "idle"))];
        assert_eq!(
            encode(&LineProtocolEncoder::new("pi-1"), &batch).ok().as_deref(),
            Some("bme280,device=pi-1 temperature=21.5,pressure=101325,door_open=true,state=\"idle\" 1732550400250000000\n")
        );
    }

    #[test]
    fn escaping_follows_the_influxdb_rules_for_each_element() {
        // The examples of InfluxDB's "special characters" section, in our shape.
        let batch = [reading("my Measurement,1=2")
            .with_number("field Key,=x", "", -0.5)
            .with_field(text_field("s", r#"say "hi" \ bye"#))];
        let text = encode(&LineProtocolEncoder::new("tag Value,=x"), &batch)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            "my\\ Measurement\\,1=2,device=tag\\ Value\\,\\=x field\\ Key\\,\\=x=-0.5,s=\"say \\\"hi\\\" \\\\ bye\" 1732550400250000000\n"
        );
        // Backslashes elsewhere are literal.
        let batch = [reading(r"C:\temp").with_number(r"a\b", "", 1.0)];
        let text =
            encode(&LineProtocolEncoder::new(r"x\y"), &batch).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text, "C:\\temp,device=x\\y a\\b=1 1732550400250000000\n");
    }

    #[test]
    fn round_trips_everything_but_units_and_sequence_numbers() {
        let encoder = LineProtocolEncoder::new("pi 1,a=b");
        let batch = vec![
            reading("imu, left")
                .with_number("accel x", "m/s2", -9.806_65)
                .with_number("tiny", "", 1.5e-300)
                .with_number("big", "", 6.02e23)
                .with_field(text_field("label", "a,b=c \"d\" \\e\\"))
                .with_field(Field {
                    channel: "ok".into(),
                    unit: "".into(),
                    value: Value::Bool(false),
                }),
            Reading {
                time_ns: -1,
                ..reading("x=y").with_number("v", "V", 12.0)
            },
        ];
        let text = encode(&encoder, &batch).unwrap_or_else(|e| panic!("{e}"));
        let decoded = encoder
            .decode(text.as_bytes())
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut expected = batch.clone();
        for reading in &mut expected {
            reading.seq = 0;
            for field in &mut reading.fields {
                field.unit = "".into();
            }
        }
        assert_eq!(decoded, expected);
    }

    #[test]
    fn what_line_protocol_cannot_carry_is_refused_with_its_name() {
        let encoder = LineProtocolEncoder::new("pi-1");
        let refused = |batch: &[Reading], needle: &str| {
            let mut out = b"kept\n".to_vec();
            let message = encoder
                .encode(batch, &mut out)
                .err()
                .unwrap_or_else(|| panic!("{needle}: encoded"))
                .to_string();
            assert!(message.contains(needle), "{message} lacks {needle}");
            assert_eq!(out, b"kept\n");
        };
        refused(&[reading("a").with_number("x", "", f64::NAN)], "NaN");
        refused(&[reading("a").with_number("x", "", f64::INFINITY)], "inf");
        refused(&[reading("a\nb").with_number("x", "", 1.0)], "line break");
        refused(
            &[reading("a").with_field(text_field("s", "two\nlines"))],
            "line break",
        );
        refused(&[reading("ends\\").with_number("x", "", 1.0)], "ends with");
        refused(&[reading("a").with_number("x\\", "", 1.0)], "ends with");
        refused(
            &[reading("_internal").with_number("x", "", 1.0)],
            "reserves",
        );
        refused(&[reading("a").with_number("_x", "", 1.0)], "reserves");
        refused(&[reading("#a").with_number("x", "", 1.0)], "comment");
        refused(&[reading("a").with_number("", "", 1.0)], "is empty");
        refused(&[reading("a")], "at least one field");
        let bad_device = LineProtocolEncoder::new("pi\\");
        assert!(bad_device
            .encode(&[reading("a").with_number("x", "", 1.0)], &mut Vec::new())
            .is_err());
    }

    #[test]
    fn an_empty_device_leaves_the_tag_out() {
        let text = encode(
            &LineProtocolEncoder::new(""),
            &[reading("a").with_number("x", "", 1.0)],
        );
        assert_eq!(text.ok().as_deref(), Some("a x=1 1732550400250000000\n"));
    }

    #[test]
    fn the_decoder_reads_influxdb_value_forms_and_reports_bad_lines() {
        let decoder = LineProtocolEncoder::new("d");
        let readings = decoder
            .decode(b"# comment\nm,t=1 a=1i,b=2u,c=T,d=F,e=1.5e3 5\n\nm a=-3i 6\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(readings.len(), 2);
        let values: Vec<_> = readings[0].fields.iter().map(|f| f.value.clone()).collect();
        assert_eq!(
            values,
            [
                Value::Number(1.0),
                Value::Number(2.0),
                Value::Bool(true),
                Value::Bool(false),
                Value::Number(1500.0)
            ]
        );
        assert_eq!(readings[1].time_ns, 6);
        let e = decoder.decode(b"m a=1\n").err();
        assert!(e.is_some_and(|e| e.problem.contains("timestamp")));
        let e = decoder.decode(b"m a=zz 1\n").err();
        assert_eq!(e.map(|e| e.offset), Some(4));
        let e = decoder.decode(b"m a=\"open 1\n").err();
        assert!(e.is_some_and(|e| e.problem.contains("never ends")));
    }
}
