//! A tiny text encoder for the transport peer tests, so they do not depend on the real formats:
//! `sensor seq time_ns channel=value,…` per reading, readings separated by `;`, no newline.
//! Its content type is `text/plain; charset=utf-8` (CoAP Content-Format 0).

use edgewise_link::encode::{DecodeError, EncodeError, Encoder};
use edgewise_link::{Reading, Value};

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct TextEncoder;

impl Encoder for TextEncoder {
    fn content_type(&self) -> &'static str {
        "text/plain; charset=utf-8"
    }

    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for (i, reading) in batch.iter().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            let fields: Vec<String> = reading
                .fields
                .iter()
                .map(|field| match &field.value {
                    Value::Number(v) => format!("{}={v}", field.channel),
                    Value::Bool(b) => format!("{}={b}", field.channel),
                    Value::Text(t) => format!("{}={t}", field.channel),
                })
                .collect();
            out.extend_from_slice(
                format!(
                    "{} {} {} {}",
                    reading.sensor,
                    reading.seq,
                    reading.time_ns,
                    fields.join(",")
                )
                .as_bytes(),
            );
        }
        Ok(())
    }

    fn decode(&self, _bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
        Err(DecodeError {
            format: "test text",
            offset: 0,
            problem: "the test encoder does not decode".into(),
        })
    }
}

/// `count` readings of `sensor`, seq from `first_seq`, one temperature each.
pub fn temperatures(sensor: &'static str, first_seq: u64, count: u64) -> Vec<Reading> {
    (first_seq..first_seq + count)
        .map(|seq| {
            let mut reading = Reading::new(sensor, std::time::UNIX_EPOCH).with_number(
                "temperature",
                "Cel",
                20.0 + seq as f64 / 4.0,
            );
            reading.seq = seq;
            reading.time_ns = 1_732_550_400_000_000_000 + seq as i64 * 1_000_000_000;
            reading
        })
        .collect()
}

/// The encoding of `batch`, as the transport should have sent it.
pub fn encoded(batch: &[Reading]) -> Vec<u8> {
    let mut out = Vec::new();
    TextEncoder
        .encode(batch, &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    out
}
