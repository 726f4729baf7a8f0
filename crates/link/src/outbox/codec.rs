//! The on-disk record format: a small plaintext header and the reading's bytes.
//!
//! ```text
//! record  = format:u8  accepted_ns:i64le  body
//! format  = 1 (plain, v1) | 2 (encrypted, v1)
//! body    = payload                              (format 1)
//!         | nonce:[u8; 24]  sealed(payload)      (format 2; XChaCha20-Poly1305, 16-byte tag)
//! payload = str(sensor) varint(seq) zigzag(time_ns) varint(n_fields) field*
//! field   = str(channel) str(unit) value
//! value   = 0x00 f64le | 0x01 (false) | 0x02 (true) | 0x03 str(text)
//! str     = varint(len) utf8-bytes
//! ```
//!
//! Hand-written rather than serde: the format is tiny, has to stay readable by every later
//! version (the format byte says which layout follows), and costs no dependency. The acceptance
//! time sits in the plaintext header because age-based expiry and the "oldest pending" statistic
//! need it without the key; the reading itself (sensor, values, its own time) is in the payload,
//! which is what encryption covers.

use std::borrow::Cow;

use crate::reading::{Field, Reading, Value};

/// Format byte of a plaintext v1 record.
pub(crate) const FORMAT_PLAIN_V1: u8 = 1;
/// Format byte of an encrypted v1 record.
pub(crate) const FORMAT_SEALED_V1: u8 = 2;
/// Bytes before the body: format byte and acceptance time.
pub(crate) const HEADER_LEN: usize = 1 + 8;

const VALUE_NUMBER: u8 = 0;
const VALUE_FALSE: u8 = 1;
const VALUE_TRUE: u8 = 2;
const VALUE_TEXT: u8 = 3;

/// The plaintext header of a stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub format: u8,
    pub accepted_ns: i64,
}

impl Header {
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[0] = self.format;
        bytes[1..].copy_from_slice(&self.accepted_ns.to_le_bytes());
        bytes
    }

    /// Splits a stored record into its header and body.
    pub(crate) fn split(record: &[u8]) -> Result<(Header, &[u8]), String> {
        let (head, body) = record
            .split_at_checked(HEADER_LEN)
            .ok_or_else(|| format!("{} bytes, shorter than the header", record.len()))?;
        let mut time = [0u8; 8];
        time.copy_from_slice(&head[1..]);
        Ok((
            Header {
                format: head[0],
                accepted_ns: i64::from_le_bytes(time),
            },
            body,
        ))
    }
}

/// Appends the payload of `reading`, with `seq` in place of the reading's own.
pub(crate) fn encode_payload(reading: &Reading, seq: u64, out: &mut Vec<u8>) {
    put_str(out, &reading.sensor);
    put_varint(out, seq);
    put_varint(out, zigzag(reading.time_ns));
    put_varint(out, reading.fields.len() as u64);
    for field in &reading.fields {
        put_str(out, &field.channel);
        put_str(out, &field.unit);
        match &field.value {
            Value::Number(number) => {
                out.push(VALUE_NUMBER);
                out.extend_from_slice(&number.to_le_bytes());
            }
            Value::Bool(false) => out.push(VALUE_FALSE),
            Value::Bool(true) => out.push(VALUE_TRUE),
            Value::Text(text) => {
                out.push(VALUE_TEXT);
                put_str(out, text);
            }
        }
    }
}

/// Decodes a payload into a reading that owns its strings.
pub(crate) fn decode_payload(payload: &[u8]) -> Result<Reading, String> {
    let mut input = Input { bytes: payload };
    let sensor = input.string()?;
    let seq = input.varint()?;
    let time_ns = unzigzag(input.varint()?);
    let n_fields = input.varint()?;
    // Every field takes at least four bytes: do not let a corrupt count reserve gigabytes.
    let mut fields = Vec::with_capacity(
        usize::try_from(n_fields)
            .unwrap_or(0)
            .min(payload.len() / 4),
    );
    for _ in 0..n_fields {
        let channel = input.string()?;
        let unit = input.string()?;
        let value = match input.byte()? {
            VALUE_NUMBER => Value::Number(f64::from_le_bytes(input.array()?)),
            VALUE_FALSE => Value::Bool(false),
            VALUE_TRUE => Value::Bool(true),
            VALUE_TEXT => Value::Text(Cow::Owned(input.string()?)),
            other => return Err(format!("unknown value tag {other:#04x}")),
        };
        fields.push(Field {
            channel: Cow::Owned(channel),
            unit: Cow::Owned(unit),
            value,
        });
    }
    if !input.bytes.is_empty() {
        return Err(format!("{} trailing bytes", input.bytes.len()));
    }
    Ok(Reading {
        sensor: Cow::Owned(sensor),
        seq,
        time_ns,
        fields,
    })
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

struct Input<'a> {
    bytes: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&first, rest) = self.bytes.split_first().ok_or("truncated")?;
        self.bytes = rest;
        Ok(first)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self.bytes.split_at_checked(N).ok_or("truncated")?;
        self.bytes = rest;
        let mut array = [0u8; N];
        array.copy_from_slice(head);
        Ok(array)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn string(&mut self) -> Result<String, String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "string length overflows")?;
        let (head, rest) = self
            .bytes
            .split_at_checked(len)
            .ok_or_else(|| format!("string of {len} bytes truncated"))?;
        self.bytes = rest;
        String::from_utf8(head.to_vec()).map_err(|_| "string is not UTF-8".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn sample() -> Reading {
        Reading::new("bme280", UNIX_EPOCH)
            .with_number("temperature", "Cel", 21.5)
            .with_field(Field {
                channel: "door".into(),
                unit: "".into(),
                value: Value::Bool(true),
            })
            .with_field(Field {
                channel: "state".into(),
                unit: "".into(),
                value: Value::Text("idle".into()),
            })
    }

    #[test]
    fn payload_round_trips_with_the_assigned_seq_and_owned_strings() {
        for time_ns in [0, -1, 1_732_550_400_123_456_789, i64::MIN, i64::MAX] {
            let reading = Reading {
                time_ns,
                ..sample()
            };
            let mut bytes = Vec::new();
            encode_payload(&reading, 300, &mut bytes);
            let back = decode_payload(&bytes).unwrap_or_else(|e| panic!("decode: {e}"));
            assert_eq!(
                back,
                Reading {
                    seq: 300,
                    ..reading
                }
            );
            assert!(matches!(back.sensor, Cow::Owned(_)));
            assert!(matches!(back.fields[0].channel, Cow::Owned(_)));
        }
    }

    #[test]
    fn a_small_numeric_reading_stays_compact() {
        let reading = Reading::new("sht31", UNIX_EPOCH).with_number("temperature", "Cel", 21.5);
        let mut bytes = Vec::new();
        encode_payload(&reading, 5, &mut bytes);
        // 6 + 1 (seq) + 1 (time 0) + 1 (count) + 12 + 4 + 9
        assert_eq!(bytes.len(), 34);
    }

    #[test]
    fn truncated_or_padded_payloads_are_errors_not_panics() {
        let mut bytes = Vec::new();
        encode_payload(&sample(), 1, &mut bytes);
        for len in 0..bytes.len() {
            assert!(
                decode_payload(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        bytes.push(0);
        assert!(decode_payload(&bytes).is_err());
    }

    #[test]
    fn header_splits_back() {
        let header = Header {
            format: FORMAT_SEALED_V1,
            accepted_ns: -42,
        };
        let mut record = header.to_bytes().to_vec();
        record.extend_from_slice(b"body");
        assert_eq!(Header::split(&record), Ok((header, &b"body"[..])));
        assert!(Header::split(&record[..3]).is_err());
    }
}
