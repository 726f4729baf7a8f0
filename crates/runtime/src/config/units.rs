//! Values with units as people write them: durations (`"250ms"`, `"1s"`, `"7d"`) and sizes
//! (`"64MiB"`).
//!
//! A bare number is refused for a duration: `interval = 1` could mean a second or a
//! millisecond, and a config that guesses wrong samples a thousand times too often.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration written with its unit: `"500us"`, `"250ms"`, `"1s"`, `"1.5s"`, `"5m"`, `"2h"`,
/// `"7d"`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Debug for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for HumanDuration {
    /// The largest unit that shows the duration exactly: `250ms`, `1s`, `90s`, `2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        let units: [(&str, u128); 7] = [
            ("d", 86_400_000_000_000),
            ("h", 3_600_000_000_000),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
            ("ns", 1),
        ];
        for (suffix, size) in units {
            if nanos != 0 && nanos.is_multiple_of(size) {
                return write!(f, "{}{suffix}", nanos / size);
            }
        }
        f.write_str("0s")
    }
}

/// What a duration must look like, for error messages.
const DURATION_EXPECTED: &str =
    "a duration with a unit, like \"250ms\", \"1s\" or \"5m\" (units: ns, us, ms, s, m, h, d)";

/// Parses `"250ms"`, `"1.5s"`, …; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "d" => 86_400e9,
        "" => {
            return Err(format!(
                "`{text}` has no unit; expected {DURATION_EXPECTED}"
            ))
        }
        other => {
            return Err(format!(
                "unknown unit `{other}`; expected {DURATION_EXPECTED}"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected {DURATION_EXPECTED}, found \"{text}\""))?;
    let nanos = (value * nanos_per_unit).round();
    // Ten years is far beyond any interval or retention a device needs.
    if !nanos.is_finite() || nanos > 10.0 * 365.0 * 86_400e9 {
        return Err(format!("\"{text}\" is too long (at most ten years)"));
    }
    // In range and non-negative (no sign is accepted above), so the cast is exact enough.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Duration::from_nanos(nanos as u64))
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<HumanDuration, E> {
                parse_duration(text).map(HumanDuration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a bare number ({value}) has no unit; expected {DURATION_EXPECTED}"
                )))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a bare number ({value}) has no unit; expected {DURATION_EXPECTED}"
                )))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a bare number ({value}) has no unit; expected {DURATION_EXPECTED}"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A size in bytes: an integer, or a string with a unit (`"512KiB"`, `"64MiB"`, `"1GB"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

const SIZE_EXPECTED: &str =
    "a size in bytes: an integer, or a string like \"512KiB\", \"64MiB\" or \"1GB\"";

/// Parses `"64MiB"`, `"1GB"`, `"4096"`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown unit `{other}`; expected {SIZE_EXPECTED}")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("expected {SIZE_EXPECTED}, found \"{text}\""))
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SIZE_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ByteSize, E> {
                parse_size(text).map(ByteSize).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<ByteSize, E> {
                u64::try_from(value)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("expected {SIZE_EXPECTED}, found {value}")))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_without_a_known_unit_are_refused() {
        assert_eq!(
            parse_duration("10"),
            Err(format!("`10` has no unit; expected {DURATION_EXPECTED}"))
        );
        assert_eq!(
            parse_duration("10 sec"),
            Err(format!("unknown unit `sec`; expected {DURATION_EXPECTED}"))
        );
        assert_eq!(
            parse_duration("-1s"),
            Err(format!("unknown unit `-1s`; expected {DURATION_EXPECTED}"))
        );
    }

    #[test]
    fn durations_display_in_their_largest_exact_unit() {
        assert_eq!(
            HumanDuration(Duration::from_millis(250)).to_string(),
            "250ms"
        );
        assert_eq!(HumanDuration(Duration::from_secs(90)).to_string(), "90s");
        assert_eq!(HumanDuration(Duration::from_secs(7200)).to_string(), "2h");
        assert_eq!(HumanDuration(Duration::ZERO).to_string(), "0s");
    }

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }
}
