//! Measurement types that carry their unit.
//!
//! Values are stored as integers in a fixed sub-unit (milli-degrees, centi-pascals, …) so a
//! driver on a microcontroller without an FPU never needs floating point; the `f32` accessors
//! exist for display and encoding. [`Unit`] names the SenML symbol (RFC 8428, section 12.1)
//! under which the protocol layer publishes a value.

use core::fmt;

/// A unit from the SenML units registry (RFC 8428, section 12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Pascal.
    Pascal,
    /// Relative humidity in percent.
    RelativeHumidity,
    /// Volt.
    Volt,
    /// Ampere.
    Ampere,
    /// Watt.
    Watt,
    /// Metres per second squared.
    MetrePerSecondSquared,
    /// Radians per second.
    RadianPerSecond,
    /// Lux.
    Lux,
}

impl Unit {
    /// The SenML unit symbol, e.g. `"Cel"` for degrees Celsius.
    pub const fn senml_symbol(self) -> &'static str {
        match self {
            Self::Celsius => "Cel",
            Self::Pascal => "Pa",
            Self::RelativeHumidity => "%RH",
            Self::Volt => "V",
            Self::Ampere => "A",
            Self::Watt => "W",
            Self::MetrePerSecondSquared => "m/s2",
            Self::RadianPerSecond => "rad/s",
            Self::Lux => "lx",
        }
    }

    /// The symbol people read, e.g. `"°C"`.
    pub const fn display_symbol(self) -> &'static str {
        match self {
            Self::Celsius => "°C",
            Self::RelativeHumidity => "%RH",
            Self::MetrePerSecondSquared => "m/s²",
            other => other.senml_symbol(),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_symbol())
    }
}

/// A value with a unit, as the protocol layer publishes it.
pub trait Quantity: Copy {
    /// The unit of [`Quantity::value`].
    const UNIT: Unit;
    /// The value in [`Quantity::UNIT`].
    fn value(self) -> f32;
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident($repr:ty), $raw:ident, $per_unit:expr, $unit:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name($repr);

        impl $name {
            /// Sub-units per unit of the stored integer.
            pub const SCALE: $repr = $per_unit;

            /// From the integer sub-unit this type stores.
            pub const fn $raw(value: $repr) -> Self {
                Self(value)
            }

            /// The stored integer in sub-units.
            pub const fn raw(self) -> $repr {
                self.0
            }
        }

        // i64 has no lossless conversion to f64; the macro covers both.
        #[allow(clippy::cast_lossless)]
        impl Quantity for $name {
            const UNIT: Unit = $unit;
            fn value(self) -> f32 {
                // Divide in f64 so the result is the f32 nearest the exact value (11.98 V, not
                // 11.9800005 V); only display and encoding use this, never a driver.
                (self.0 as f64 / $per_unit as f64) as f32
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let precision = f.precision().unwrap_or(2);
                write!(f, "{:.*} {}", precision, self.value(), Self::UNIT)
            }
        }
    };
}

quantity!(
    /// Temperature, stored in milli-degrees Celsius.
    Temperature(i32), from_milli_celsius, 1000, Unit::Celsius
);
quantity!(
    /// Pressure, stored in centi-pascals (0.01 Pa; 4 294 967 295 = 42.9 MPa).
    Pressure(u32), from_centi_pascals, 100, Unit::Pascal
);
quantity!(
    /// Relative humidity, stored in milli-percent (0..=100 000).
    RelativeHumidity(u32), from_milli_percent, 1000, Unit::RelativeHumidity
);

quantity!(
    /// Electric potential, stored in nanovolts (an ADS1115 LSB at ±0.256 V is 7812.5 nV).
    Voltage(i64), from_nanovolts, 1_000_000_000, Unit::Volt
);
quantity!(
    /// Electric current, stored in microamperes (±2147 A).
    Current(i32), from_microamps, 1_000_000, Unit::Ampere
);
quantity!(
    /// Electric power, stored in microwatts (±2147 W).
    Power(i32), from_microwatts, 1_000_000, Unit::Watt
);
quantity!(
    /// Linear acceleration, stored in µm/s² (±2147 m/s², about ±219 g).
    Acceleration(i32), from_micro_mps2, 1_000_000, Unit::MetrePerSecondSquared
);
quantity!(
    /// Angular rate, stored in µrad/s (±2147 rad/s, about ±123 000 °/s).
    AngularRate(i32), from_micro_radps, 1_000_000, Unit::RadianPerSecond
);

/// Standard gravity (ISO 80000-3), in µm/s²: accelerometers report in g.
pub const STANDARD_GRAVITY_MICRO_MPS2: i32 = 9_806_650;

impl Temperature {
    /// Degrees Celsius.
    pub fn celsius(self) -> f32 {
        self.value()
    }
}

impl Pressure {
    /// Pascals.
    pub fn pascals(self) -> f32 {
        self.value()
    }

    /// Hectopascals (millibar), as weather reports use.
    pub fn hectopascals(self) -> f32 {
        self.value() / 100.0
    }
}

impl RelativeHumidity {
    /// Percent relative humidity.
    pub fn percent(self) -> f32 {
        self.value()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn senml_symbols_follow_rfc_8428() {
        assert_eq!(Unit::Celsius.senml_symbol(), "Cel");
        assert_eq!(Unit::Pascal.senml_symbol(), "Pa");
        assert_eq!(Unit::RelativeHumidity.senml_symbol(), "%RH");
        assert_eq!(Unit::MetrePerSecondSquared.senml_symbol(), "m/s2");
    }

    #[test]
    fn values_and_display() {
        let t = Temperature::from_milli_celsius(25_080);
        assert_eq!(t.celsius(), 25.08);
        assert_eq!(format!("{t}"), "25.08 °C");
        let p = Pressure::from_centi_pascals(10_065_327);
        assert_eq!(format!("{:.1}", p.hectopascals()), "1006.5");
        assert_eq!(
            format!("{:.0}", RelativeHumidity::from_milli_percent(46_333)),
            "46 %RH"
        );
    }
}
