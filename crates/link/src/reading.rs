//! What travels: a reading is one sensor's values at one instant.
//!
//! A reading carries the sensor's name, a sequence number that is consecutive per sensor (the
//! outbox assigns it at acceptance, and it survives restarts, so a receiver can tell a gap from
//! a duplicate), its time, and one [`Field`] per channel. Channel names and units are usually
//! `'static` strings from a driver's channel table; [`Cow`] keeps those free and still lets a
//! reading read back from disk or decoded from the wire own its strings.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_sensors::sensor::Channel;

/// One sensor's values at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Which source produced it: a sensor (`"bme280"`), a model (`"anomaly"`), a Modbus device.
    pub sensor: Cow<'static, str>,
    /// Consecutive per sensor, from 0; assigned when the outbox accepts the reading.
    pub seq: u64,
    /// When the values were taken, in nanoseconds since the UNIX epoch (UTC).
    pub time_ns: i64,
    /// The values, one per channel.
    pub fields: Vec<Field>,
}

/// One channel's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The channel's stable, lowercase name (`"temperature"`, `"accel_x"`).
    pub channel: Cow<'static, str>,
    /// The SenML unit symbol (RFC 8428, section 12.1), e.g. `"Cel"`; empty when unitless.
    pub unit: Cow<'static, str>,
    /// The value.
    pub value: Value,
}

/// A field's value: SenML's numeric, boolean and string values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (SenML `v`).
    Number(f64),
    /// A boolean (SenML `vb`).
    Bool(bool),
    /// A string (SenML `vs`): a class label, a state.
    Text(Cow<'static, str>),
}

impl Reading {
    /// A reading of `sensor` taken at `time`, without fields yet; `seq` is left 0 for the
    /// outbox to assign.
    pub fn new(sensor: impl Into<Cow<'static, str>>, time: SystemTime) -> Self {
        Self {
            sensor: sensor.into(),
            seq: 0,
            time_ns: unix_nanos(time),
            fields: Vec::new(),
        }
    }

    /// A reading from a driver's channel table and the values it read, in the same order
    /// (extra values or channels are ignored, as the driver's [`Channel`] list defines the
    /// reading).
    pub fn from_channels(
        sensor: impl Into<Cow<'static, str>>,
        time: SystemTime,
        channels: &[Channel],
        values: &[f32],
    ) -> Self {
        let mut reading = Self::new(sensor, time);
        reading.fields = channels
            .iter()
            .zip(values)
            .map(|(channel, &value)| Field {
                channel: Cow::Borrowed(channel.name),
                unit: Cow::Borrowed(channel.unit.senml_symbol()),
                value: Value::Number(decimal_f64(value)),
            })
            .collect();
        reading
    }

    /// Adds a numeric field.
    pub fn with_number(
        mut self,
        channel: impl Into<Cow<'static, str>>,
        unit: impl Into<Cow<'static, str>>,
        value: f64,
    ) -> Self {
        self.fields.push(Field {
            channel: channel.into(),
            unit: unit.into(),
            value: Value::Number(value),
        });
        self
    }

    /// Adds a text field (no unit).
    pub fn with_text(
        mut self,
        channel: impl Into<Cow<'static, str>>,
        text: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.fields.push(Field {
            channel: channel.into(),
            unit: Cow::Borrowed(""),
            value: Value::Text(text.into()),
        });
        self
    }

    /// The value of the numeric field `channel`, if the reading has one.
    pub fn number(&self, channel: &str) -> Option<f64> {
        self.fields.iter().find_map(|f| match f.value {
            Value::Number(v) if f.channel == channel => Some(v),
            _ => None,
        })
    }

    /// The value of the text field `channel`, if the reading has one.
    pub fn text(&self, channel: &str) -> Option<&str> {
        self.fields.iter().find_map(|f| match &f.value {
            Value::Text(t) if f.channel == channel => Some(t.as_ref()),
            _ => None,
        })
    }

    /// Adds a field of any value type.
    pub fn with_field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// The time as seconds since the UNIX epoch, as SenML and JSON carry it.
    pub fn time_secs(&self) -> f64 {
        // Split so a nanosecond timestamp keeps microsecond precision in an f64.
        let secs = self.time_ns.div_euclid(1_000_000_000);
        let nanos = self.time_ns.rem_euclid(1_000_000_000);
        secs as f64 + nanos as f64 * 1e-9
    }
}

/// The f64 whose shortest decimal form is the f32's: a driver's 21.48 (an f32) is published as
/// 21.48, not as 21.479999542236328, its exact binary value widened. Values an f32 represents
/// exactly (21.5, 40.25) are unchanged.
pub fn decimal_f64(value: f32) -> f64 {
    if !value.is_finite() {
        return f64::from(value);
    }
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// Nanoseconds since the UNIX epoch; times before 1970 are negative, and times beyond
/// ±292 years saturate.
pub fn unix_nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// The [`SystemTime`] of a nanosecond UNIX timestamp.
pub fn system_time(time_ns: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(time_ns.unsigned_abs());
    if time_ns >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
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
    use edgewise_sensors::units::Unit;

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
    fn from_channels_takes_names_and_senml_units_from_the_driver_table() {
        let channels = [
            Channel::new("temperature", Unit::Celsius),
            Channel::new("humidity", Unit::RelativeHumidity),
        ];
        let reading = Reading::from_channels("sht31", UNIX_EPOCH, &channels, &[21.5, 40.25]);
        assert_eq!(reading.fields.len(), 2);
        assert_eq!(reading.fields[0].unit, "Cel");
        assert_eq!(reading.fields[1].unit, "%RH");
        assert_eq!(reading.fields[1].value, Value::Number(40.25));
        let widened = Reading::from_channels("sht31", UNIX_EPOCH, &channels, &[21.48, 0.1]);
        assert_eq!(widened.fields[0].value, Value::Number(21.48));
        assert_eq!(widened.fields[1].value, Value::Number(0.1));
    }

    #[test]
    fn timestamps_round_trip_on_both_sides_of_the_epoch() {
        for ns in [0, 1, 1_732_550_400_123_456_789, -1_500_000_000] {
            assert_eq!(unix_nanos(system_time(ns)), ns);
        }
        let reading = Reading {
            time_ns: 1_732_550_400_250_000_000,
            ..Reading::new("x", UNIX_EPOCH)
        };
        assert!((reading.time_secs() - 1_732_550_400.25).abs() < 1e-6);
    }
}
