//! Decoding SenML: JSON or CBOR records into one raw form, then resolution (RFC 8428, section
//! 4.6) and grouping into readings.

use std::borrow::Cow;

use super::{resolved_name_problem, RELATIVE_TIME_LIMIT, SENML_VERSION};
use crate::encode::cbor::{Item, Reader};
use crate::encode::json_reader;
use crate::encode::DecodeError;
use crate::reading::{Field, Reading, Value};

/// One record as it appears in the pack, before base fields are applied.
#[derive(Debug, Default)]
pub(super) struct RawRecord {
    /// Where the record starts in the input, for errors.
    offset: usize,
    version: Option<u64>,
    base_name: Option<String>,
    base_time: Option<f64>,
    base_unit: Option<String>,
    base_value: Option<f64>,
    name: Option<String>,
    unit: Option<String>,
    value: Option<f64>,
    string_value: Option<String>,
    bool_value: Option<bool>,
    has_data_value: bool,
    has_sum: bool,
    time: Option<f64>,
}

fn error(format: &'static str, offset: usize, problem: impl Into<String>) -> DecodeError {
    DecodeError {
        format,
        offset,
        problem: problem.into(),
    }
}

/// An extension label ending in `_` must be understood, or the pack refused (section 4.4).
fn must_understand(format: &'static str, offset: usize, label: &str) -> DecodeError {
    error(
        format,
        offset,
        format!("field `{label}` ends in `_`, so it must be understood, and it is not (RFC 8428 section 4.4)"),
    )
}

/// The records of a SenML JSON pack.
pub(super) fn records_from_json(
    format: &'static str,
    bytes: &[u8],
) -> Result<Vec<RawRecord>, DecodeError> {
    let text = json_reader::utf8(format, bytes)?;
    let root = json_reader::parse(format, text, 0)?;
    let mut records = Vec::new();
    for item in root.array(format, "a SenML pack")? {
        let mut record = RawRecord {
            offset: item.offset,
            ..RawRecord::default()
        };
        for (label, node) in item.object(format, "a SenML record")? {
            let label: &str = label;
            match label {
                "bver" => record.version = Some(node.integer(format, "bver")?),
                "bn" => record.base_name = Some(node.string(format, "bn")?.to_owned()),
                "bt" => record.base_time = Some(node.number(format, "bt")?),
                "bu" => record.base_unit = Some(node.string(format, "bu")?.to_owned()),
                "bv" => record.base_value = Some(node.number(format, "bv")?),
                "bs" => {
                    node.number(format, "bs")?;
                }
                "n" => record.name = Some(node.string(format, "n")?.to_owned()),
                "u" => record.unit = Some(node.string(format, "u")?.to_owned()),
                "v" => record.value = Some(node.number(format, "v")?),
                "vs" => record.string_value = Some(node.string(format, "vs")?.to_owned()),
                "vb" => record.bool_value = Some(node.boolean(format, "vb")?),
                "vd" => {
                    node.string(format, "vd")?;
                    record.has_data_value = true;
                }
                "s" => {
                    node.number(format, "s")?;
                    record.has_sum = true;
                }
                "t" => record.time = Some(node.number(format, "t")?),
                "ut" => {
                    node.number(format, "ut")?;
                }
                other if other.ends_with('_') => {
                    return Err(must_understand(format, node.offset, other))
                }
                _ => {} // unknown fields are ignored (section 4.4)
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// Reads CBOR items for one pack.
struct CborPack<'a> {
    format: &'static str,
    reader: Reader<'a>,
}

impl<'a> CborPack<'a> {
    fn item(&mut self) -> Result<(usize, Item<'a>), DecodeError> {
        let offset = self.reader.offset();
        Ok((offset, self.reader.next()?))
    }

    fn wrong(&self, offset: usize, label: &str, expected: &str, found: Item<'_>) -> DecodeError {
        error(
            self.format,
            offset,
            format!("{label} must be {expected}, not {}", found.kind()),
        )
    }

    fn text(&mut self, label: &str) -> Result<String, DecodeError> {
        match self.item()? {
            (_, Item::Text(text)) => Ok(text.to_owned()),
            (offset, other) => Err(self.wrong(offset, label, "a text string", other)),
        }
    }

    fn number(&mut self, label: &str) -> Result<f64, DecodeError> {
        let (offset, item) = self.item()?;
        let value = match item {
            Item::Unsigned(n) => n as f64,
            Item::Negative(n) => -1.0 - n as f64,
            Item::Float(f) => f,
            // A decimal fraction [exponent, mantissa] (RFC 8949 section 3.4.4), which section 6
            // allows for numbers.
            Item::Tag(4) => self.decimal_fraction(offset, label)?,
            other => return Err(self.wrong(offset, label, "a number", other)),
        };
        if value.is_finite() {
            Ok(value)
        } else {
            Err(error(
                self.format,
                offset,
                format!("{label} {value} is not a finite number"),
            ))
        }
    }

    fn decimal_fraction(&mut self, offset: usize, label: &str) -> Result<f64, DecodeError> {
        let bad = |pack: &Self| {
            error(
                pack.format,
                offset,
                format!("{label}: a decimal fraction must be [integer exponent, integer mantissa]"),
            )
        };
        if self.item()?.1 != Item::Array(Some(2)) {
            return Err(bad(self));
        }
        let mut parts = [0i128; 2];
        for part in &mut parts {
            *part = match self.item()?.1 {
                Item::Unsigned(n) => i128::from(n),
                Item::Negative(n) => -1 - i128::from(n),
                _ => return Err(bad(self)),
            };
        }
        let [exponent, mantissa] = parts;
        // Let the float parser round mantissa·10^exponent once, correctly.
        format!("{mantissa}e{exponent}")
            .parse::<f64>()
            .map_err(|_| bad(self))
    }

    fn boolean(&mut self, label: &str) -> Result<bool, DecodeError> {
        match self.item()? {
            (_, Item::Bool(value)) => Ok(value),
            (offset, other) => Err(self.wrong(offset, label, "true or false", other)),
        }
    }

    fn skip_value(&mut self) -> Result<(), DecodeError> {
        let (_, item) = self.item()?;
        self.reader.skip_rest(item, 1)
    }

    /// A record's map, after its head: `pairs` entries, or until a break when indefinite.
    fn record(&mut self, offset: usize, pairs: Option<u64>) -> Result<RawRecord, DecodeError> {
        let mut record = RawRecord {
            offset,
            ..RawRecord::default()
        };
        let mut seen: u32 = 0; // one bit per integer label -6..=8
        let mut remaining = pairs;
        loop {
            if remaining == Some(0) {
                break;
            }
            let (key_offset, key) = self.item()?;
            let label: i64 = match key {
                Item::Break if remaining.is_none() => break,
                Item::Unsigned(n) => i64::try_from(n).unwrap_or(i64::MAX),
                Item::Negative(n) => i64::try_from(n).map_or(i64::MIN, |n| -1 - n),
                Item::Text(text) if text.ends_with('_') => {
                    return Err(must_understand(self.format, key_offset, text))
                }
                Item::Text(_) => {
                    self.skip_value()?;
                    remaining = remaining.map(|n| n - 1);
                    continue;
                }
                other => {
                    return Err(self.wrong(
                        key_offset,
                        "a SenML label",
                        "an integer or text",
                        other,
                    ))
                }
            };
            if (-6..=8).contains(&label) {
                let bit = 1u32 << (label + 6);
                if seen & bit != 0 {
                    return Err(error(
                        self.format,
                        key_offset,
                        format!("label {label} appears twice in one record"),
                    ));
                }
                seen |= bit;
            }
            match label {
                -1 => match self.item()? {
                    (_, Item::Unsigned(version)) => record.version = Some(version),
                    (offset, other) => {
                        return Err(self.wrong(offset, "bver", "an unsigned integer", other))
                    }
                },
                -2 => record.base_name = Some(self.text("bn")?),
                -3 => record.base_time = Some(self.number("bt")?),
                -4 => record.base_unit = Some(self.text("bu")?),
                -5 => record.base_value = Some(self.number("bv")?),
                -6 => {
                    self.number("bs")?;
                }
                0 => record.name = Some(self.text("n")?),
                1 => record.unit = Some(self.text("u")?),
                2 => record.value = Some(self.number("v")?),
                3 => record.string_value = Some(self.text("vs")?),
                4 => record.bool_value = Some(self.boolean("vb")?),
                5 => {
                    self.number("s")?;
                    record.has_sum = true;
                }
                6 => record.time = Some(self.number("t")?),
                7 => {
                    self.number("ut")?;
                }
                8 => match self.item()? {
                    (_, Item::Bytes(_)) => record.has_data_value = true,
                    (offset, other) => {
                        return Err(self.wrong(offset, "vd", "a byte string", other))
                    }
                },
                _ => self.skip_value()?, // unknown fields are ignored (section 4.4)
            }
            remaining = remaining.map(|n| n - 1);
        }
        Ok(record)
    }
}

/// The records of a SenML CBOR pack.
pub(super) fn records_from_cbor(
    format: &'static str,
    bytes: &[u8],
) -> Result<Vec<RawRecord>, DecodeError> {
    let mut pack = CborPack {
        format,
        reader: Reader::new(format, bytes),
    };
    let mut remaining = match pack.item()? {
        (_, Item::Array(len)) => len,
        (offset, other) => return Err(pack.wrong(offset, "a SenML pack", "an array", other)),
    };
    let mut records = Vec::new();
    loop {
        if remaining == Some(0) {
            break;
        }
        match pack.item()? {
            (_, Item::Break) if remaining.is_none() => break,
            (offset, Item::Map(pairs)) => records.push(pack.record(offset, pairs)?),
            (offset, other) => return Err(pack.wrong(offset, "a SenML record", "a map", other)),
        }
        remaining = remaining.map(|n| n - 1);
    }
    if !pack.reader.at_end() {
        return Err(error(
            format,
            pack.reader.offset(),
            "bytes after the end of the SenML pack",
        ));
    }
    Ok(records)
}

/// Seconds since the epoch to nanoseconds, keeping the fraction's precision.
fn seconds_to_nanos(seconds: f64) -> Option<i64> {
    let whole = seconds.floor();
    if !(-9.2e9..9.2e9).contains(&whole) {
        return None;
    }
    let fraction = ((seconds - whole) * 1e9).round() as i64;
    (whole as i64)
        .checked_mul(1_000_000_000)?
        .checked_add(fraction)
}

/// Resolves `records` (RFC 8428, section 4.6) and groups them into readings.
pub(super) fn readings(
    format: &'static str,
    records: Vec<RawRecord>,
    now_ns: i64,
) -> Result<Vec<Reading>, DecodeError> {
    let mut base_name = String::new();
    let mut base_time = 0.0;
    let mut base_unit = String::new();
    let mut base_value = 0.0;
    let mut readings: Vec<Reading> = Vec::new();
    // The `device/sensor` prefix of the last reading's names.
    let mut last_prefix = String::new();

    for record in records {
        let at = record.offset;
        if let Some(version) = record.version {
            if version > SENML_VERSION {
                return Err(error(
                    format,
                    at,
                    format!("SenML version {version} is newer than {SENML_VERSION}, the one understood here (RFC 8428 section 4.4)"),
                ));
            }
        }
        if let Some(name) = record.base_name {
            base_name = name;
        }
        if let Some(time) = record.base_time {
            base_time = time;
        }
        if let Some(unit) = record.base_unit {
            base_unit = unit;
        }
        if let Some(value) = record.base_value {
            base_value = value;
        }

        let carries_a_measurement = record.name.is_some()
            || record.unit.is_some()
            || record.time.is_some()
            || record.value.is_some()
            || record.string_value.is_some()
            || record.bool_value.is_some()
            || record.has_data_value
            || record.has_sum;
        if !carries_a_measurement {
            // Only base fields: they apply to the records that follow (RFC 8428's own example
            // in section 5.1.7 starts a pack with such a record).
            continue;
        }

        let name = format!("{base_name}{}", record.name.as_deref().unwrap_or(""));
        if let Some(problem) = resolved_name_problem(&name) {
            return Err(error(format, at, problem));
        }
        let values = usize::from(record.value.is_some())
            + usize::from(record.string_value.is_some())
            + usize::from(record.bool_value.is_some())
            + usize::from(record.has_data_value);
        let value = match (record.value, record.string_value, record.bool_value) {
            _ if values > 1 => {
                return Err(error(
                    format,
                    at,
                    format!("record `{name}` has more than one value"),
                ))
            }
            _ if record.has_data_value => {
                return Err(error(
                    format,
                    at,
                    format!("record `{name}` has a data value (vd), which a reading cannot hold"),
                ))
            }
            (Some(value), _, _) => Value::Number(base_value + value),
            (_, Some(text), _) => Value::Text(Cow::Owned(text)),
            (_, _, Some(flag)) => Value::Bool(flag),
            _ if record.has_sum => {
                return Err(error(
                    format,
                    at,
                    format!("record `{name}` has only a sum (s), which a reading cannot hold"),
                ))
            }
            _ => return Err(error(format, at, format!("record `{name}` has no value"))),
        };
        let unit = record.unit.unwrap_or_else(|| base_unit.clone());

        let time = base_time + record.time.unwrap_or(0.0);
        let time_ns = if time < RELATIVE_TIME_LIMIT {
            // Relative to now (section 4.5.3).
            seconds_to_nanos(time).and_then(|offset| now_ns.checked_add(offset))
        } else {
            seconds_to_nanos(time)
        }
        .ok_or_else(|| error(format, at, format!("time {time} s is out of range")))?;

        let (prefix, channel) = name.rsplit_once('/').unwrap_or((name.as_str(), ""));
        let field = Field {
            channel: Cow::Owned(channel.to_owned()),
            unit: Cow::Owned(unit),
            value,
        };
        match readings.last_mut() {
            Some(reading) if last_prefix == prefix && reading.time_ns == time_ns => {
                reading.fields.push(field);
            }
            _ => {
                let sensor = prefix.rsplit('/').next().unwrap_or(prefix);
                readings.push(Reading {
                    sensor: Cow::Owned(sensor.to_owned()),
                    seq: 0,
                    time_ns,
                    fields: vec![field],
                });
                last_prefix = prefix.to_owned();
            }
        }
    }
    Ok(readings)
}
