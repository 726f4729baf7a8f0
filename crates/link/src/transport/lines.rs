//! One line per reading, for the line-oriented transports ([`super::file`], [`super::stdout`]).
//!
//! Each reading is encoded on its own, as a batch of one, so every line can be read back
//! with the same encoder's decoder, and a file cut short by a crash loses whole lines only.

use crate::encode::Encoder;
use crate::reading::Reading;
use crate::transport::{ErrorKind, TransportError};

/// The lines of one batch: the bytes, and where each reading's line ends (after its `\n`).
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pub bytes: Vec<u8>,
    pub ends: Vec<usize>,
}

impl Lines {
    /// Replaces the contents with the lines of `batch`. Keeps the buffers' capacity, so a
    /// transport that keeps its `Lines` allocates nothing per batch once they have grown.
    pub fn encode(
        &mut self,
        encoder: &dyn Encoder,
        batch: &[Reading],
        peer: &str,
    ) -> Result<(), TransportError> {
        self.bytes.clear();
        self.ends.clear();
        for reading in batch {
            let start = self.bytes.len();
            encoder
                .encode(std::slice::from_ref(reading), &mut self.bytes)
                .map_err(|e| TransportError::new(ErrorKind::Encode, peer, e.to_string()))?;
            // Line-framed encoders (JSON Lines, line protocol) end each reading with a newline
            // of their own: keep one, ours.
            if self.bytes.len() > start && self.bytes.ends_with(b"\n") {
                self.bytes.pop();
            }
            // A newline inside a reading would split it into two broken lines for the reader.
            if self.bytes[start..]
                .iter()
                .any(|&b| b == b'\n' || b == b'\r')
            {
                return Err(TransportError::new(
                    ErrorKind::Encode,
                    peer,
                    format!(
                        "the {} encoding of reading `{}` #{} spans several lines; a line-oriented \
                         transport needs an encoding that puts a reading on one line",
                        encoder.content_type(),
                        reading.sensor,
                        reading.seq
                    ),
                ));
            }
            self.bytes.push(b'\n');
            self.ends.push(self.bytes.len());
        }
        Ok(())
    }

    /// The byte range of line `index`, its `\n` included.
    pub fn range(&self, index: usize) -> std::ops::Range<usize> {
        let start = match index {
            0 => 0,
            _ => self
                .ends
                .get(index - 1)
                .copied()
                .unwrap_or(self.bytes.len()),
        };
        let end = self.ends.get(index).copied().unwrap_or(self.bytes.len());
        start..end
    }
}

#[cfg(test)]
pub(crate) mod test_encoder {
    //! A tiny encoder for the transport unit tests: `sensor,seq,value` per reading, readings
    //! separated by `|`; asked for multi-line output, it breaks each reading after `seq,`.

    use crate::encode::{DecodeError, EncodeError, Encoder};
    use crate::reading::{Reading, Value};

    #[derive(Debug, Default)]
    pub struct CsvEncoder {
        pub multiline: bool,
    }

    impl Encoder for CsvEncoder {
        fn content_type(&self) -> &'static str {
            "text/csv"
        }

        fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
            for (i, reading) in batch.iter().enumerate() {
                if i > 0 {
                    out.push(b'|');
                }
                let value = match reading.fields.first().map(|f| &f.value) {
                    Some(Value::Number(v)) => *v,
                    _ => 0.0,
                };
                // Multi-line: a header line, then the value, as a pretty-printer would.
                let separator = if self.multiline { "\n" } else { "" };
                out.extend_from_slice(
                    format!("{},{},{separator}{value}", reading.sensor, reading.seq).as_bytes(),
                );
            }
            Ok(())
        }

        fn decode(&self, _bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
            Ok(Vec::new())
        }
    }

    /// `n` readings of sensor `s` with seq 0.. and value seq × 1.5.
    pub fn readings(n: u64) -> Vec<Reading> {
        (0..n)
            .map(|seq| {
                let mut reading = Reading::new("s", std::time::UNIX_EPOCH).with_number(
                    "temperature",
                    "Cel",
                    seq as f64 * 1.5,
                );
                reading.seq = seq;
                reading
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_encoder::{readings, CsvEncoder};
    use super::*;
    use crate::encode::{JsonEncoder, LineProtocolEncoder};

    #[test]
    fn each_reading_becomes_one_line() {
        let mut lines = Lines::default();
        lines
            .encode(&CsvEncoder::default(), &readings(3), "test")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lines.bytes, b"s,0,0\ns,1,1.5\ns,2,3\n");
        assert_eq!(&lines.bytes[lines.range(1)], b"s,1,1.5\n");
    }

    #[test]
    fn line_framed_encoders_keep_one_newline_per_reading() {
        let batch = readings(2);
        for encoder in [
            &JsonEncoder::lines("pi-1") as &dyn Encoder,
            &JsonEncoder::new("pi-1"),
            &LineProtocolEncoder::new("pi-1"),
        ] {
            let mut lines = Lines::default();
            lines
                .encode(encoder, &batch, "test")
                .unwrap_or_else(|e| panic!("{}: {e}", encoder.content_type()));
            let text = String::from_utf8_lossy(&lines.bytes);
            assert_eq!(text.lines().count(), 2, "{text}");
            assert!(!text.contains("\n\n"), "{text}");
        }
    }

    #[test]
    fn an_encoding_with_a_newline_is_refused() {
        let mut lines = Lines::default();
        let error = lines
            .encode(&CsvEncoder { multiline: true }, &readings(1), "out.txt")
            .err()
            .unwrap_or_else(|| panic!("a multi-line encoding was accepted"));
        assert_eq!(error.kind, ErrorKind::Encode);
        assert!(error.to_string().contains("spans several lines"), "{error}");
    }
}
