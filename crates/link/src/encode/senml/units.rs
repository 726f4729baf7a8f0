//! The IANA "SenML Units" registry: the unit symbols a SenML record may carry.
//!
//! The initial registry is RFC 8428, section 12.1 (Table 6); RFC 8798, section 2 added eight
//! more primary units. Later expert-review registrations go here too, with their reference. Symbols are case-sensitive. Entries the RFC marks with an asterisk
//! ("NOT RECOMMENDED to be produced by new implementations", e.g. `%` and `l`) are listed and
//! accepted: they are registered, and a reading that carries one should still be deliverable.
//!
//! Notably absent: an angular velocity unit (`rad/s`) and any prefixed unit (`hPa`, `mV`,
//! `kWh`); RFC 8798's secondary units (`hPa`, `mV`, …) are a separate registry that is not
//! allowed in a SenML `u` field.

/// One registered unit: its symbol, what it measures, and the document that registered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredUnit {
    /// The symbol as it appears in `u` and `bu`: `"Cel"`.
    pub symbol: &'static str,
    /// The registry's description: `"degrees Celsius"`.
    pub description: &'static str,
    /// Where it was registered: `"RFC 8428"` or `"RFC 8798"`.
    pub reference: &'static str,
}

const fn unit(
    symbol: &'static str,
    description: &'static str,
    reference: &'static str,
) -> RegisteredUnit {
    RegisteredUnit {
        symbol,
        description,
        reference,
    }
}

const RFC8428: &str = "RFC 8428";
const RFC8798: &str = "RFC 8798";

/// Every registered SenML unit, in registry order.
pub const SENML_UNITS: &[RegisteredUnit] = &[
    // RFC 8428, section 12.1, Table 6.
    unit("m", "meter", RFC8428),
    unit("kg", "kilogram", RFC8428),
    unit("g", "gram (not recommended)", RFC8428),
    unit("s", "second", RFC8428),
    unit("A", "ampere", RFC8428),
    unit("K", "kelvin", RFC8428),
    unit("cd", "candela", RFC8428),
    unit("mol", "mole", RFC8428),
    unit("Hz", "hertz", RFC8428),
    unit("rad", "radian", RFC8428),
    unit("sr", "steradian", RFC8428),
    unit("N", "newton", RFC8428),
    unit("Pa", "pascal", RFC8428),
    unit("J", "joule", RFC8428),
    unit("W", "watt", RFC8428),
    unit("C", "coulomb", RFC8428),
    unit("V", "volt", RFC8428),
    unit("F", "farad", RFC8428),
    unit("Ohm", "ohm", RFC8428),
    unit("S", "siemens", RFC8428),
    unit("Wb", "weber", RFC8428),
    unit("T", "tesla", RFC8428),
    unit("H", "henry", RFC8428),
    unit("Cel", "degrees Celsius", RFC8428),
    unit("lm", "lumen", RFC8428),
    unit("lx", "lux", RFC8428),
    unit("Bq", "becquerel", RFC8428),
    unit("Gy", "gray", RFC8428),
    unit("Sv", "sievert", RFC8428),
    unit("kat", "katal", RFC8428),
    unit("m2", "square meter (area)", RFC8428),
    unit("m3", "cubic meter (volume)", RFC8428),
    unit("l", "liter (volume) (not recommended)", RFC8428),
    unit("m/s", "meter per second (velocity)", RFC8428),
    unit("m/s2", "meter per square second (acceleration)", RFC8428),
    unit("m3/s", "cubic meter per second (flow rate)", RFC8428),
    unit(
        "l/s",
        "liter per second (flow rate) (not recommended)",
        RFC8428,
    ),
    unit("W/m2", "watt per square meter (irradiance)", RFC8428),
    unit("cd/m2", "candela per square meter (luminance)", RFC8428),
    unit("bit", "bit (information content)", RFC8428),
    unit("bit/s", "bit per second (data rate)", RFC8428),
    unit("lat", "degrees latitude", RFC8428),
    unit("lon", "degrees longitude", RFC8428),
    unit("pH", "pH value (acidity; logarithmic quantity)", RFC8428),
    unit("dB", "decibel (logarithmic quantity)", RFC8428),
    unit("dBW", "decibel relative to 1 W (power level)", RFC8428),
    unit(
        "Bspl",
        "bel (sound pressure level) (not recommended)",
        RFC8428,
    ),
    unit("count", "1 (counter value)", RFC8428),
    unit("/", "1 (ratio, e.g., value of a switch)", RFC8428),
    unit(
        "%",
        "1 (ratio, e.g., value of a switch) (not recommended)",
        RFC8428,
    ),
    unit("%RH", "percentage (relative humidity)", RFC8428),
    unit(
        "%EL",
        "percentage (remaining battery energy level)",
        RFC8428,
    ),
    unit("EL", "seconds (remaining battery energy level)", RFC8428),
    unit("1/s", "1 per second (event rate)", RFC8428),
    unit(
        "1/min",
        "1 per minute (event rate, rpm) (not recommended)",
        RFC8428,
    ),
    unit(
        "beat/min",
        "1 per minute (heart rate) (not recommended)",
        RFC8428,
    ),
    unit(
        "beats",
        "1 (cumulative number of heart beats) (not recommended)",
        RFC8428,
    ),
    unit("S/m", "siemens per meter (conductivity)", RFC8428),
    // RFC 8798, section 2: new primary units.
    unit("B", "byte (information content)", RFC8798),
    unit("VA", "volt-ampere (apparent power)", RFC8798),
    unit("VAs", "volt-ampere second (apparent energy)", RFC8798),
    unit("var", "volt-ampere reactive (reactive power)", RFC8798),
    unit(
        "vars",
        "volt-ampere-reactive second (reactive energy)",
        RFC8798,
    ),
    unit("J/m", "joule per meter (energy per distance)", RFC8798),
    unit("kg/m3", "kilogram per cubic meter (mass density)", RFC8798),
    unit("deg", "degree (angle)", RFC8798),
];

/// The registry entry for `symbol`, if it is registered.
pub fn registered_unit(symbol: &str) -> Option<&'static RegisteredUnit> {
    SENML_UNITS.iter().find(|unit| unit.symbol == symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_has_rfc_8428_table_6_and_rfc_8798_additions() {
        let from_8428 = SENML_UNITS
            .iter()
            .filter(|u| u.reference == RFC8428)
            .count();
        assert_eq!(from_8428, 58);
        for symbol in [
            "Cel", "%RH", "Pa", "m/s2", "V", "A", "W", "lx", "/", "count", "deg",
        ] {
            assert!(registered_unit(symbol).is_some(), "{symbol}");
        }
        for symbol in ["rad/s", "hPa", "cel", "°C", "mV", "kWh", ""] {
            assert!(registered_unit(symbol).is_none(), "{symbol}");
        }
    }

    #[test]
    fn symbols_are_unique() {
        for (i, unit) in SENML_UNITS.iter().enumerate() {
            assert!(
                SENML_UNITS[..i]
                    .iter()
                    .all(|earlier| earlier.symbol != unit.symbol),
                "{} twice",
                unit.symbol
            );
        }
    }
}
