//! SenML (RFC 8428): Sensor Measurement Lists in JSON (`application/senml+json`) and CBOR
//! (`application/senml+cbor`).
//!
//! A batch becomes one SenML pack with one record per field. The first record of each reading
//! carries the base fields:
//!
//! - base name `{device}/{sensor}/`, so a record's name (`n`) is just the channel and the
//!   resolved name reads `pi-1/bme280/temperature`;
//! - base time = the reading's time in seconds since the UNIX epoch (f64, sub-microsecond);
//! - base unit, when all the reading's fields share one unit; otherwise each record carries its
//!   own `u` (and a base unit left over from an earlier reading is cleared with `bu: ""`, or a
//!   unitless field would inherit it).
//!
//! What SenML cannot carry is refused with an [`EncodeError`] that says what and where, rather
//! than sent in a form a receiver would misread:
//!
//! - names outside RFC 8428 section 4.5.1's character set (`A-Z a-z 0-9 - : . / _`, starting
//!   with a letter or digit); the sensor and channel names may not contain `/`, which keeps
//!   the split of a name back into device, sensor and channel unambiguous;
//! - units that are not in the SenML units registry ([`SENML_UNITS`]);
//! - NaN and infinity;
//! - times before 2^28 s (1978-07-04), which SenML reads as relative to "now" (section 4.5.3):
//!   the sign of a device whose clock was never set.
//!
//! Decoding resolves base fields as RFC 8428 section 4.6 describes (names concatenated, base
//! time and base value added, the base unit applied to records without a unit, times below
//! 2^28 s taken relative to now) and groups consecutive records that share a name prefix and a
//! time back into readings: `a/b/c` is sensor `b`, channel `c`; a name without `/` is the sensor
//! with an empty channel. SenML has no sequence numbers, so `seq` is 0. Records a reading cannot
//! hold (data values `vd`, sum-only records) and mandatory-to-understand extensions (labels
//! ending in `_`) are errors; other unknown fields are ignored, as section 4.4 asks.

mod resolve;
mod units;

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

pub use units::{registered_unit, RegisteredUnit, SENML_UNITS};

use super::{cbor, text, DecodeError, EncodeError, Encoder};
use crate::reading::{Reading, Value};

/// Times below 2^28 seconds are relative to "now" in SenML (RFC 8428, section 4.5.3).
const RELATIVE_TIME_LIMIT: f64 = 268_435_456.0;

/// The SenML version this implementation speaks (RFC 8428's default, section 4.4).
const SENML_VERSION: u64 = 10;

/// Which of SenML's representations to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// `application/senml+json` (RFC 8428, section 5).
    Json,
    /// `application/senml+cbor` with the integer labels of section 6.
    Cbor,
}

/// SenML in JSON or CBOR, naming records `{device}/{sensor}/{channel}`.
#[derive(Debug, Clone)]
pub struct SenmlEncoder {
    device: Cow<'static, str>,
    representation: Representation,
}

impl SenmlEncoder {
    /// SenML JSON for the readings of `device`.
    pub fn json(device: impl Into<Cow<'static, str>>) -> Self {
        Self {
            device: device.into(),
            representation: Representation::Json,
        }
    }

    /// SenML CBOR for the readings of `device`.
    pub fn cbor(device: impl Into<Cow<'static, str>>) -> Self {
        Self {
            device: device.into(),
            representation: Representation::Cbor,
        }
    }

    /// The device name that starts every record's name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// JSON or CBOR.
    pub fn representation(&self) -> Representation {
        self.representation
    }

    fn format(&self) -> &'static str {
        match self.representation {
            Representation::Json => "senml+json",
            Representation::Cbor => "senml+cbor",
        }
    }

    /// Decodes a pack, taking `now_ns` (nanoseconds since the UNIX epoch) as the "now" that
    /// relative times refer to. [`Encoder::decode`] uses the system clock.
    pub fn decode_at(&self, bytes: &[u8], now_ns: i64) -> Result<Vec<Reading>, DecodeError> {
        let format = self.format();
        let records = match self.representation {
            Representation::Json => resolve::records_from_json(format, bytes)?,
            Representation::Cbor => resolve::records_from_cbor(format, bytes)?,
        };
        resolve::readings(format, records, now_ns)
    }

    /// Everything about `reading` that SenML cannot carry, as an error naming it.
    fn check(&self, reading: &Reading) -> Result<(), EncodeError> {
        let first_channel = reading.fields.first().map_or("", |f| f.channel.as_ref());
        let refuse = |channel: &str, problem: String| EncodeError::Unrepresentable {
            format: self.format(),
            sensor: reading.sensor.to_string(),
            channel: channel.to_string(),
            problem,
        };
        if let Some(problem) = name_part_problem(&self.device, NamePart::Device)
            .or_else(|| name_part_problem(&reading.sensor, NamePart::Sensor))
        {
            return Err(refuse(first_channel, problem));
        }
        let seconds = reading.time_secs();
        if seconds < RELATIVE_TIME_LIMIT {
            return Err(refuse(
                first_channel,
                format!(
                    "time {seconds} s is before 2^28 s (1978-07-04), which SenML reads as \
                     relative to now (RFC 8428 section 4.5.3); is the device clock set?"
                ),
            ));
        }
        for field in &reading.fields {
            if let Some(problem) = name_part_problem(&field.channel, NamePart::Channel) {
                return Err(refuse(&field.channel, problem));
            }
            if !field.unit.is_empty() && registered_unit(&field.unit).is_none() {
                return Err(refuse(
                    &field.channel,
                    format!(
                        "unit `{}` is not in the SenML units registry (RFC 8428 section 12.1, \
                         RFC 8798)",
                        field.unit
                    ),
                ));
            }
            if let Value::Number(value) = field.value {
                if !value.is_finite() {
                    return Err(refuse(
                        &field.channel,
                        format!("value {value} has no SenML encoding"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Writes the pack through `pack`; stops at the first reading SenML cannot carry.
    fn write_pack(&self, batch: &[Reading], pack: &mut impl PackWriter) -> Result<(), EncodeError> {
        let records = batch.iter().map(|reading| reading.fields.len()).sum();
        pack.begin_pack(records);
        // The base unit in effect for the next record: base fields carry over to every later
        // record of the pack until replaced (RFC 8428, section 4).
        let mut base_unit: &str = "";
        for reading in batch {
            self.check(reading)?;
            let Some((first, rest)) = reading.fields.split_first() else {
                continue; // no fields, no records
            };
            let shared_unit = rest
                .iter()
                .all(|field| field.unit == first.unit)
                .then_some(first.unit.as_ref());
            let announce_unit = match shared_unit {
                Some(unit) if unit != base_unit => Some(unit),
                Some(_) => None,
                // Mixed units: each record names its own, and a unitless one would inherit a
                // base unit from an earlier reading unless it is cleared.
                None if !base_unit.is_empty()
                    && reading.fields.iter().any(|f| f.unit.is_empty()) =>
                {
                    Some("")
                }
                None => None,
            };
            if let Some(unit) = announce_unit {
                base_unit = unit;
            }
            for (index, field) in reading.fields.iter().enumerate() {
                let opens_reading = index == 0;
                let own_unit = shared_unit.is_none() && !field.unit.is_empty();
                let entries = if opens_reading {
                    2 + usize::from(announce_unit.is_some())
                } else {
                    0
                } + 2
                    + usize::from(own_unit);
                pack.begin_record(entries);
                if opens_reading {
                    pack.text(Label::BaseName, &[&self.device, "/", &reading.sensor, "/"]);
                    pack.number(Label::BaseTime, reading.time_secs());
                    if let Some(unit) = announce_unit {
                        pack.text(Label::BaseUnit, &[unit]);
                    }
                }
                pack.text(Label::Name, &[&field.channel]);
                if own_unit {
                    pack.text(Label::Unit, &[&field.unit]);
                }
                match &field.value {
                    Value::Number(value) => pack.number(Label::Value, *value),
                    Value::Bool(value) => pack.boolean(Label::BoolValue, *value),
                    Value::Text(value) => pack.text(Label::StringValue, &[value]),
                }
                pack.end_record();
            }
        }
        pack.end_pack();
        Ok(())
    }
}

impl Encoder for SenmlEncoder {
    fn content_type(&self) -> &'static str {
        match self.representation {
            Representation::Json => "application/senml+json",
            Representation::Cbor => "application/senml+cbor",
        }
    }

    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = match self.representation {
            Representation::Json => self.write_pack(batch, &mut JsonPack::new(out)),
            Representation::Cbor => self.write_pack(batch, &mut CborPack { out }),
        };
        if result.is_err() {
            // Leave the caller's buffer as it was, not with half a pack in it.
            out.truncate(start);
        }
        result
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
            });
        self.decode_at(bytes, now)
    }
}

/// The SenML fields the encoder writes, with their JSON and CBOR labels (RFC 8428, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    BaseName,
    BaseTime,
    BaseUnit,
    Name,
    Unit,
    Value,
    StringValue,
    BoolValue,
}

impl Label {
    fn json(self) -> &'static str {
        match self {
            Label::BaseName => "bn",
            Label::BaseTime => "bt",
            Label::BaseUnit => "bu",
            Label::Name => "n",
            Label::Unit => "u",
            Label::Value => "v",
            Label::StringValue => "vs",
            Label::BoolValue => "vb",
        }
    }

    fn cbor(self) -> i64 {
        match self {
            Label::BaseName => -2,
            Label::BaseTime => -3,
            Label::BaseUnit => -4,
            Label::Name => 0,
            Label::Unit => 1,
            Label::Value => 2,
            Label::StringValue => 3,
            Label::BoolValue => 4,
        }
    }
}

/// One representation's syntax for a pack; the encoder decides the records, this writes them.
trait PackWriter {
    fn begin_pack(&mut self, records: usize);
    fn begin_record(&mut self, entries: usize);
    /// A text field written as the concatenation of `parts`.
    fn text(&mut self, label: Label, parts: &[&str]);
    fn number(&mut self, label: Label, value: f64);
    fn boolean(&mut self, label: Label, value: bool);
    fn end_record(&mut self);
    fn end_pack(&mut self);
}

/// `[{"bn":"pi-1/bme280/","bt":1732550400.25,"n":"temperature","u":"Cel","v":21.5},…]`
struct JsonPack<'a> {
    out: &'a mut Vec<u8>,
    first_record: bool,
    first_entry: bool,
}

impl<'a> JsonPack<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            first_record: true,
            first_entry: true,
        }
    }

    fn key(&mut self, label: Label) {
        if !self.first_entry {
            self.out.push(b',');
        }
        self.first_entry = false;
        self.out.push(b'"');
        self.out.extend_from_slice(label.json().as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

impl PackWriter for JsonPack<'_> {
    fn begin_pack(&mut self, _records: usize) {
        self.out.push(b'[');
    }

    fn begin_record(&mut self, _entries: usize) {
        if !self.first_record {
            self.out.push(b',');
        }
        self.first_record = false;
        self.first_entry = true;
        self.out.push(b'{');
    }

    fn text(&mut self, label: Label, parts: &[&str]) {
        self.key(label);
        self.out.push(b'"');
        for part in parts {
            text::json_escaped(self.out, part);
        }
        self.out.push(b'"');
    }

    fn number(&mut self, label: Label, value: f64) {
        self.key(label);
        text::float(self.out, value);
    }

    fn boolean(&mut self, label: Label, value: bool) {
        self.key(label);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn end_record(&mut self) {
        self.out.push(b'}');
    }

    fn end_pack(&mut self) {
        self.out.push(b']');
    }
}

/// A definite-length array of maps with integer labels (RFC 8428, section 6).
struct CborPack<'a> {
    out: &'a mut Vec<u8>,
}

impl PackWriter for CborPack<'_> {
    fn begin_pack(&mut self, records: usize) {
        cbor::array(self.out, records);
    }

    fn begin_record(&mut self, entries: usize) {
        cbor::map(self.out, entries);
    }

    fn text(&mut self, label: Label, parts: &[&str]) {
        cbor::int(self.out, label.cbor());
        cbor::text(self.out, parts);
    }

    fn number(&mut self, label: Label, value: f64) {
        cbor::int(self.out, label.cbor());
        cbor::number(self.out, value);
    }

    fn boolean(&mut self, label: Label, value: bool) {
        cbor::int(self.out, label.cbor());
        cbor::boolean(self.out, value);
    }

    fn end_record(&mut self) {}

    fn end_pack(&mut self) {}
}

/// Which part of `{device}/{sensor}/{channel}` a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NamePart {
    Device,
    Sensor,
    Channel,
}

/// Whether `byte` may appear in a SenML name (RFC 8428, section 4.5.1).
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b':' | b'.' | b'/' | b'_')
}

/// What is wrong with one part of a record name, if anything. Allocates only to describe a
/// problem.
fn name_part_problem(name: &str, part: NamePart) -> Option<String> {
    let what = match part {
        NamePart::Device => "device name",
        NamePart::Sensor => "sensor name",
        NamePart::Channel => "channel name",
    };
    if part == NamePart::Device
        && !name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return Some(format!(
            "{what} `{name}` must start with a letter or digit: it starts every SenML name \
             (RFC 8428 section 4.5.1)"
        ));
    }
    if let Some((position, ch)) = name
        .char_indices()
        .find(|&(_, ch)| !u8::try_from(ch).is_ok_and(is_name_byte))
    {
        return Some(format!(
            "{what} `{name}` has `{}` at byte {position}; SenML names allow only A-Z a-z 0-9 \
             and - : . / _ (RFC 8428 section 4.5.1)",
            ch.escape_debug()
        ));
    }
    if part != NamePart::Device && name.contains('/') {
        return Some(format!(
            "{what} `{name}` contains `/`, which would make `device/sensor/channel` ambiguous"
        ));
    }
    None
}

/// What is wrong with a resolved name, if anything (for decoding).
fn resolved_name_problem(name: &str) -> Option<String> {
    if !name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return Some(format!(
            "name `{name}` must start with a letter or digit (RFC 8428 section 4.5.1)"
        ));
    }
    name.char_indices()
        .find(|&(_, ch)| !u8::try_from(ch).is_ok_and(is_name_byte))
        .map(|(position, ch)| {
            format!(
                "name `{name}` has `{}` at byte {position}, which RFC 8428 section 4.5.1 does \
                 not allow",
                ch.escape_debug()
            )
        })
}

#[cfg(test)]
mod tests;
