//! Encoders: a batch of readings to bytes, and back.
//!
//! Every format implements [`Encoder`]. Encoding appends to a caller-owned buffer, so a
//! transport that keeps its buffer between batches allocates nothing per batch once the buffer
//! has grown. Each encoder can also decode what it wrote: tests check round trips, and users
//! can read what a device sent.
//!
//! | encoder | content type | carries |
//! |---|---|---|
//! | [`JsonEncoder::new`] | `application/json` | everything, losslessly; a batch is an array |
//! | [`JsonEncoder::lines`] | `application/x-ndjson` | the same, one reading per line (files, stdout) |
//! | [`SenmlEncoder::json`] | `application/senml+json` | RFC 8428 records; no sequence numbers |
//! | [`SenmlEncoder::cbor`] | `application/senml+cbor` | the same in CBOR, about half the size |
//! | [`LineProtocolEncoder`] | `text/plain; charset=utf-8` | InfluxDB points; no units, no sequence numbers |
//!
//! Every constructor takes the device name, which each format places where it belongs (a JSON
//! member, the SenML base name, a line protocol tag).

pub(crate) mod cbor;
mod json;
pub(crate) mod json_reader;
mod line;
pub mod senml;
pub(crate) mod text;

pub use json::JsonEncoder;
pub use line::LineProtocolEncoder;
pub use senml::SenmlEncoder;

use crate::reading::Reading;

/// A wire format for batches of readings.
pub trait Encoder: Send + Sync {
    /// The MIME type of the encoding (`application/senml+json`), for HTTP and CoAP headers and
    /// MQTT 5's content-type property.
    fn content_type(&self) -> &'static str;

    /// Appends the encoding of `batch` to `out`. Allocates nothing but `out`'s growth.
    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// The readings in `bytes`, as [`Encoder::encode`] wrote them. Formats that do not carry
    /// every part of a reading (SenML has no sequence number) leave it at its default.
    fn decode(&self, bytes: &[u8]) -> Result<Vec<Reading>, DecodeError>;
}

/// A reading this format cannot represent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// A value the format has no encoding for (SenML and JSON have no NaN or infinity).
    #[error("{format}: sensor `{sensor}` channel `{channel}`: {problem}")]
    Unrepresentable {
        /// The format.
        format: &'static str,
        /// The reading's sensor.
        sensor: String,
        /// The field's channel.
        channel: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Bytes that are not a valid encoding, with where the decoder stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{format}: at byte {offset}: {problem}")]
pub struct DecodeError {
    /// The format.
    pub format: &'static str,
    /// Where in the input the problem is.
    pub offset: usize,
    /// What is wrong.
    pub problem: String,
}
