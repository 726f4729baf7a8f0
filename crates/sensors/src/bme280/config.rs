//! Measurement settings and the timing the datasheet derives from them.

use super::Variant;

/// Oversampling of one channel (datasheet tables 20, 23, 24). More oversampling means less
/// noise and a longer measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oversampling {
    /// The channel is not measured; its data register keeps 0x80000 (0x8000 for humidity).
    Skipped,
    /// One sample.
    #[default]
    X1,
    /// Two samples.
    X2,
    /// Four samples.
    X4,
    /// Eight samples.
    X8,
    /// Sixteen samples.
    X16,
}

impl Oversampling {
    /// The 3-bit register code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Skipped => 0b000,
            Self::X1 => 0b001,
            Self::X2 => 0b010,
            Self::X4 => 0b011,
            Self::X8 => 0b100,
            Self::X16 => 0b101,
        }
    }

    /// Number of samples averaged (0 when skipped).
    pub const fn samples(self) -> u32 {
        match self {
            Self::Skipped => 0,
            Self::X1 => 1,
            Self::X2 => 2,
            Self::X4 => 4,
            Self::X8 => 8,
            Self::X16 => 16,
        }
    }

    /// Whether the channel is measured at all.
    pub const fn is_enabled(self) -> bool {
        !matches!(self, Self::Skipped)
    }
}

/// IIR filter coefficient for temperature and pressure (datasheet 3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every measurement stands on its own.
    #[default]
    Off,
    /// Coefficient 2.
    X2,
    /// Coefficient 4.
    X4,
    /// Coefficient 8.
    X8,
    /// Coefficient 16.
    X16,
}

impl Filter {
    /// The 3-bit register code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Off => 0b000,
            Self::X2 => 0b001,
            Self::X4 => 0b010,
            Self::X8 => 0b011,
            Self::X16 => 0b100,
        }
    }
}

/// Inactive time between measurements in normal mode (datasheet table 27). Codes 6 and 7
/// mean 10/20 ms on the BME280 but 2000/4000 ms on the BMP280.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)] // the names are the durations
pub enum Standby {
    Us500,
    Ms10,
    Ms20,
    Ms62_5,
    Ms125,
    Ms250,
    Ms500,
    #[default]
    Ms1000,
    /// BMP280 only.
    Ms2000,
    /// BMP280 only.
    Ms4000,
}

impl Standby {
    /// The 3-bit register code on `variant`, or `None` when that chip lacks this duration.
    pub const fn code(self, variant: Variant) -> Option<u8> {
        let bme = matches!(variant, Variant::Bme280);
        match self {
            Self::Us500 => Some(0b000),
            Self::Ms62_5 => Some(0b001),
            Self::Ms125 => Some(0b010),
            Self::Ms250 => Some(0b011),
            Self::Ms500 => Some(0b100),
            Self::Ms1000 => Some(0b101),
            Self::Ms10 if bme => Some(0b110),
            Self::Ms20 if bme => Some(0b111),
            Self::Ms2000 if !bme => Some(0b110),
            Self::Ms4000 if !bme => Some(0b111),
            _ => None,
        }
    }

    /// The standby time in microseconds.
    pub const fn micros(self) -> u32 {
        match self {
            Self::Us500 => 500,
            Self::Ms10 => 10_000,
            Self::Ms20 => 20_000,
            Self::Ms62_5 => 62_500,
            Self::Ms125 => 125_000,
            Self::Ms250 => 250_000,
            Self::Ms500 => 500_000,
            Self::Ms1000 => 1_000_000,
            Self::Ms2000 => 2_000_000,
            Self::Ms4000 => 4_000_000,
        }
    }
}

/// Power mode (datasheet 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The chip sleeps (0.1 µA) and each `measure` triggers one forced measurement, after which
    /// it returns to sleep by itself. The datasheet's choice for weather monitoring.
    #[default]
    Forced,
    /// The chip measures continuously, resting `standby` between measurements; `measure` reads
    /// the latest result without waiting.
    Normal,
}

/// How a forced measurement is known to be finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Completion {
    /// Wait the datasheet's maximum measurement time, then read: two bus transactions per
    /// reading (start, burst read), the fewest possible.
    #[default]
    WaitMax,
    /// Wait the typical measurement time, then poll the status register's `measuring` bit until
    /// it clears; an error if it is still set at the maximum time. Usually finishes sooner and
    /// detects a stuck chip, at the cost of one or more status reads.
    PollStatus,
}

/// Everything the driver writes to ctrl_hum, ctrl_meas and config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Temperature oversampling. Temperature is needed to compensate the other channels, so it
    /// cannot be skipped.
    pub temperature: Oversampling,
    /// Pressure oversampling.
    pub pressure: Oversampling,
    /// Humidity oversampling (ignored on a BMP280).
    pub humidity: Oversampling,
    /// IIR filter.
    pub filter: Filter,
    /// Standby time in normal mode.
    pub standby: Standby,
    /// Forced (on demand) or normal (continuous) mode.
    pub mode: Mode,
    /// How a forced reading waits for its result.
    pub completion: Completion,
}

impl Config {
    /// The datasheet's recommended settings for weather monitoring (section 3.5.1): forced mode,
    /// ×1 oversampling everywhere, filter off.
    pub const fn weather_monitoring() -> Self {
        Self {
            temperature: Oversampling::X1,
            pressure: Oversampling::X1,
            humidity: Oversampling::X1,
            filter: Filter::Off,
            standby: Standby::Ms1000,
            mode: Mode::Forced,
            completion: Completion::WaitMax,
        }
    }

    /// The datasheet's indoor navigation settings (section 3.5.3): normal mode, pressure ×16,
    /// temperature ×2, humidity ×1, filter 16, standby 0.5 ms.
    pub const fn indoor_navigation() -> Self {
        Self {
            temperature: Oversampling::X2,
            pressure: Oversampling::X16,
            humidity: Oversampling::X1,
            filter: Filter::X16,
            standby: Standby::Us500,
            mode: Mode::Normal,
            completion: Completion::WaitMax,
        }
    }

    /// Maximum measurement time in µs (datasheet appendix B, 9.1):
    /// t = 1.25 + 2.3·osrs_t + (2.3·osrs_p + 0.575) + (2.3·osrs_h + 0.575) ms, each term only
    /// for an enabled channel.
    pub const fn max_measurement_time_us(&self, variant: Variant) -> u32 {
        Self::measurement_time_us(self, variant, 1250, 2300, 575)
    }

    /// Typical measurement time in µs: t = 1 + 2·osrs_t + (2·osrs_p + 0.5) + (2·osrs_h + 0.5) ms.
    pub const fn typical_measurement_time_us(&self, variant: Variant) -> u32 {
        Self::measurement_time_us(self, variant, 1000, 2000, 500)
    }

    const fn measurement_time_us(
        &self,
        variant: Variant,
        base: u32,
        per_sample: u32,
        extra: u32,
    ) -> u32 {
        let mut t = base + per_sample * self.temperature.samples();
        if self.pressure.is_enabled() {
            t += per_sample * self.pressure.samples() + extra;
        }
        if matches!(variant, Variant::Bme280) && self.humidity.is_enabled() {
            t += per_sample * self.humidity.samples() + extra;
        }
        t
    }

    /// ctrl_hum register value (osrs_h in bits 2:0).
    pub(crate) const fn ctrl_hum(&self) -> u8 {
        self.humidity.code()
    }

    /// ctrl_meas register value with the given mode bits.
    pub(crate) const fn ctrl_meas(&self, mode_bits: u8) -> u8 {
        (self.temperature.code() << 5) | (self.pressure.code() << 2) | mode_bits
    }

    /// config register value (t_sb in bits 7:5, filter in 4:2, SPI 3-wire off).
    pub(crate) const fn config_register(&self, standby_code: u8) -> u8 {
        (standby_code << 5) | (self.filter.code() << 2)
    }
}

#[cfg(test)]
#[allow(clippy::unusual_byte_groupings)] // grouped by register field, as in the datasheet
mod tests {
    use super::*;

    #[test]
    fn max_time_matches_datasheet_table_for_weather_monitoring() {
        // Datasheet 9.2: ×1/×1/×1 → t_measure,max = 9.3 ms, typical 8 ms.
        let c = Config::weather_monitoring();
        assert_eq!(c.max_measurement_time_us(Variant::Bme280), 9_300);
        assert_eq!(c.typical_measurement_time_us(Variant::Bme280), 8_000);
    }

    #[test]
    fn max_time_for_indoor_navigation() {
        // 1.25 + 2.3·2 + (2.3·16 + 0.575) + (2.3·1 + 0.575) = 46.1 ms
        let c = Config::indoor_navigation();
        assert_eq!(c.max_measurement_time_us(Variant::Bme280), 46_100);
    }

    #[test]
    fn skipped_channels_and_bmp280_have_no_terms() {
        let c = Config {
            pressure: Oversampling::Skipped,
            humidity: Oversampling::X16,
            ..Config::default()
        };
        assert_eq!(
            c.max_measurement_time_us(Variant::Bme280),
            1250 + 2300 + 2300 * 16 + 575
        );
        assert_eq!(c.max_measurement_time_us(Variant::Bmp280), 1250 + 2300);
    }

    #[test]
    fn all_x16_is_the_longest_wait() {
        let c = Config {
            temperature: Oversampling::X16,
            pressure: Oversampling::X16,
            humidity: Oversampling::X16,
            ..Config::default()
        };
        assert_eq!(c.max_measurement_time_us(Variant::Bme280), 112_800);
    }

    #[test]
    fn standby_codes_differ_between_variants() {
        assert_eq!(Standby::Ms10.code(Variant::Bme280), Some(0b110));
        assert_eq!(Standby::Ms10.code(Variant::Bmp280), None);
        assert_eq!(Standby::Ms4000.code(Variant::Bmp280), Some(0b111));
        assert_eq!(Standby::Ms4000.code(Variant::Bme280), None);
    }

    #[test]
    fn register_values() {
        let c = Config::indoor_navigation();
        // osrs_t=×2 (010), osrs_p=×16 (101), mode normal (11)
        assert_eq!(c.ctrl_meas(0b11), 0b010_101_11);
        assert_eq!(c.config_register(0), 0b000_100_00);
        assert_eq!(c.ctrl_hum(), 0b001);
    }
}
