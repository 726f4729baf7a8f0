//! Measurement settings and the conversion times the datasheet gives for them.

use super::calibration::Calibration;

/// Bus voltage full-scale range (BRNG, configuration bit 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BusRange {
    /// 0-16 V.
    V16,
    /// 0-32 V (power-on default). The input itself must never exceed 26 V.
    #[default]
    V32,
}

impl BusRange {
    pub(crate) const fn code(self) -> u16 {
        match self {
            Self::V16 => 0,
            Self::V32 => 1,
        }
    }
}

/// Shunt voltage full-scale range, set by the PGA gain (PG, bits 12..11, SBOS448F table 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShuntRange {
    /// ±40 mV (gain 1).
    Mv40,
    /// ±80 mV (gain /2).
    Mv80,
    /// ±160 mV (gain /4).
    Mv160,
    /// ±320 mV (gain /8, power-on default).
    #[default]
    Mv320,
}

impl ShuntRange {
    pub(crate) const fn code(self) -> u16 {
        match self {
            Self::Mv40 => 0b00,
            Self::Mv80 => 0b01,
            Self::Mv160 => 0b10,
            Self::Mv320 => 0b11,
        }
    }

    /// Full scale in shunt register counts (10 µV each): the register saturates there
    /// (shunt voltage register format), so a larger magnitude never comes from a working chip.
    pub const fn full_scale_counts(self) -> i16 {
        match self {
            Self::Mv40 => 4_000,
            Self::Mv80 => 8_000,
            Self::Mv160 => 16_000,
            Self::Mv320 => 32_000,
        }
    }
}

/// Resolution or averaging of one ADC (BADC bits 10..7, SADC bits 6..3, SBOS448F table 6). Averaging
/// modes convert at 12 bits and average 2..128 samples: less noise, longer conversions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)] // the names are the settings
pub enum Adc {
    Bits9,
    Bits10,
    Bits11,
    /// One 12-bit sample (power-on default).
    #[default]
    Bits12,
    Samples2,
    Samples4,
    Samples8,
    Samples16,
    Samples32,
    Samples64,
    Samples128,
}

/// Maximum 12-bit conversion time (electrical characteristics, ADC timing).
const MAX_12BIT_US: u32 = 586;

impl Adc {
    /// The 4-bit field (table 6; 12-bit single uses 0011, the power-on value).
    pub const fn code(self) -> u16 {
        match self {
            Self::Bits9 => 0b0000,
            Self::Bits10 => 0b0001,
            Self::Bits11 => 0b0010,
            Self::Bits12 => 0b0011,
            Self::Samples2 => 0b1001,
            Self::Samples4 => 0b1010,
            Self::Samples8 => 0b1011,
            Self::Samples16 => 0b1100,
            Self::Samples32 => 0b1101,
            Self::Samples64 => 0b1110,
            Self::Samples128 => 0b1111,
        }
    }

    /// Samples averaged per result (1 for the single-sample resolutions).
    pub const fn samples(self) -> u32 {
        match self {
            Self::Bits9 | Self::Bits10 | Self::Bits11 | Self::Bits12 => 1,
            Self::Samples2 => 2,
            Self::Samples4 => 4,
            Self::Samples8 => 8,
            Self::Samples16 => 16,
            Self::Samples32 => 32,
            Self::Samples64 => 64,
            Self::Samples128 => 128,
        }
    }

    /// Conversion time in µs as table 6 lists it (typical).
    pub const fn typical_us(self) -> u32 {
        match self {
            Self::Bits9 => 84,
            Self::Bits10 => 148,
            Self::Bits11 => 276,
            Self::Bits12 => 532,
            Self::Samples2 => 1_060,
            Self::Samples4 => 2_130,
            Self::Samples8 => 4_260,
            Self::Samples16 => 8_510,
            Self::Samples32 => 17_020,
            Self::Samples64 => 34_050,
            Self::Samples128 => 68_100,
        }
    }

    /// Maximum conversion time in µs: the electrical characteristics' maxima for one sample
    /// (93, 163, 304, 586 µs), and that of a 12-bit sample times the count when averaging.
    pub const fn max_us(self) -> u32 {
        match self {
            Self::Bits9 => 93,
            Self::Bits10 => 163,
            Self::Bits11 => 304,
            Self::Bits12 => MAX_12BIT_US,
            averaged => MAX_12BIT_US * averaged.samples(),
        }
    }
}

/// Operating mode (MODE, bits 2..0, SBOS448F table 7). Both convert shunt and bus voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Each reading writes the configuration to trigger one conversion of shunt then bus
    /// voltage, waits for it and reads the result; in between the ADC is idle.
    #[default]
    Triggered,
    /// The chip converts continuously; a reading returns the latest result without waiting
    /// (only the first one after `init`, `set_config` or `power_down` waits for a conversion).
    Continuous,
}

/// How a triggered conversion is known to be finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Completion {
    /// Wait the typical conversion time of table 6, then read the bus voltage register (needed
    /// anyway) and check CNVR; if it is not yet set, poll it in steps up to the maximum time.
    /// On a typical part, no extra transaction and the shortest wait.
    #[default]
    PollReady,
    /// Wait the maximum conversion time, then read; CNVR must be set.
    WaitMax,
}

/// Everything the driver writes to the configuration and calibration registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Bus voltage range.
    pub bus_range: BusRange,
    /// Shunt voltage range (PGA).
    pub shunt_range: ShuntRange,
    /// Bus ADC resolution/averaging.
    pub bus_adc: Adc,
    /// Shunt ADC resolution/averaging.
    pub shunt_adc: Adc,
    /// Triggered or continuous conversions.
    pub mode: Mode,
    /// How a triggered reading waits.
    pub completion: Completion,
    /// The shunt and the scale of the current and power registers.
    pub calibration: Calibration,
}

impl Default for Config {
    /// The common breakout board (0.1 Ω shunt, ±3.2 A at ±320 mV, 100 µA current LSB),
    /// 32 V range, 12-bit single samples, triggered readings.
    fn default() -> Self {
        Self::new(Calibration::BREAKOUT_100_MILLIOHM)
    }
}

impl Config {
    /// The power-on measurement settings (32 V, ±320 mV, 12-bit) with `calibration`,
    /// triggered readings.
    pub const fn new(calibration: Calibration) -> Self {
        Self {
            bus_range: BusRange::V32,
            shunt_range: ShuntRange::Mv320,
            bus_adc: Adc::Bits12,
            shunt_adc: Adc::Bits12,
            mode: Mode::Triggered,
            completion: Completion::PollReady,
            calibration,
        }
    }

    /// Typical time of one shunt-then-bus conversion, in µs (table 6, shunt plus bus).
    pub const fn typical_conversion_time_us(&self) -> u32 {
        self.shunt_adc.typical_us() + self.bus_adc.typical_us()
    }

    /// Maximum time of one shunt-then-bus conversion, in µs.
    pub const fn max_conversion_time_us(&self) -> u32 {
        self.shunt_adc.max_us() + self.bus_adc.max_us()
    }

    /// The configuration register with the given MODE bits.
    pub(crate) const fn register(&self, mode_bits: u16) -> u16 {
        (self.bus_range.code() << 13)
            | (self.shunt_range.code() << 11)
            | (self.bus_adc.code() << 7)
            | (self.shunt_adc.code() << 3)
            | mode_bits
    }
}

#[cfg(test)]
mod tests {
    use super::super::registers::{CONFIG_POWER_ON, MODE_CONTINUOUS};
    use super::*;

    #[test]
    fn power_on_settings_encode_as_the_reset_value() {
        // Table 4: 399Fh.
        let c = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
        assert_eq!(c.register(MODE_CONTINUOUS), CONFIG_POWER_ON);
    }

    #[test]
    fn datasheet_example_configuration_is_019f() {
        // SBOS448F table 3 step 1: 16 V, ±40 mV, 12-bit, shunt and bus continuous.
        let c = Config {
            bus_range: BusRange::V16,
            shunt_range: ShuntRange::Mv40,
            ..Config::default()
        };
        assert_eq!(c.register(MODE_CONTINUOUS), 0x019F);
    }

    #[test]
    fn conversion_times_follow_table_6_and_the_electrical_characteristics() {
        let c = Config::default();
        assert_eq!(c.typical_conversion_time_us(), 2 * 532);
        assert_eq!(c.max_conversion_time_us(), 2 * 586);
        let slowest = Config {
            bus_adc: Adc::Samples128,
            shunt_adc: Adc::Samples128,
            ..c
        };
        assert_eq!(slowest.typical_conversion_time_us(), 2 * 68_100);
        assert_eq!(slowest.max_conversion_time_us(), 2 * 128 * 586);
        let fastest = Config {
            bus_adc: Adc::Bits9,
            shunt_adc: Adc::Bits9,
            ..c
        };
        assert_eq!(fastest.typical_conversion_time_us(), 2 * 84);
        assert_eq!(fastest.max_conversion_time_us(), 2 * 93);
    }

    #[test]
    fn adc_codes_match_table_6() {
        assert_eq!(Adc::Bits9.code(), 0b0000);
        assert_eq!(Adc::Samples2.code(), 0b1001);
        assert_eq!(Adc::Samples128.code(), 0b1111);
        // Averaging settings take 128 samples at most: 128 × 532 µs ≈ 68.10 ms.
        assert_eq!(Adc::Samples128.samples(), 128);
    }
}
