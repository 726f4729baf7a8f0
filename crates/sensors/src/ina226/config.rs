//! Measurement and ALERT settings, and the conversion times the datasheet gives for them.

use super::calibration::Calibration;
use super::registers::*;
use crate::units::{Current, Power, Voltage};

/// Conversion time of one ADC sample (VBUSCT bits 8..6, VSHCT bits 5..3; SBOS547 tables 7-4
/// and 7-5). Longer conversions integrate longer: less noise per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)] // the names are the typical times
pub enum ConversionTime {
    Us140,
    Us204,
    Us332,
    Us588,
    /// 1.1 ms (power-on default).
    #[default]
    Us1100,
    Us2116,
    Us4156,
    Us8244,
}

impl ConversionTime {
    /// The 3-bit field.
    pub const fn code(self) -> u16 {
        match self {
            Self::Us140 => 0b000,
            Self::Us204 => 0b001,
            Self::Us332 => 0b010,
            Self::Us588 => 0b011,
            Self::Us1100 => 0b100,
            Self::Us2116 => 0b101,
            Self::Us4156 => 0b110,
            Self::Us8244 => 0b111,
        }
    }

    /// Typical conversion time in µs (tables 7-4 and 7-5).
    pub const fn typical_us(self) -> u32 {
        match self {
            Self::Us140 => 140,
            Self::Us204 => 204,
            Self::Us332 => 332,
            Self::Us588 => 588,
            Self::Us1100 => 1_100,
            Self::Us2116 => 2_116,
            Self::Us4156 => 4_156,
            Self::Us8244 => 8_244,
        }
    }

    /// Maximum conversion time in µs: t_CT MAX of the electrical characteristics (section
    /// 5.5), 10 % above the typical time.
    pub const fn max_us(self) -> u32 {
        match self {
            Self::Us140 => 154,
            Self::Us204 => 224,
            Self::Us332 => 365,
            Self::Us588 => 646,
            Self::Us1100 => 1_210,
            Self::Us2116 => 2_328,
            Self::Us4156 => 4_572,
            Self::Us8244 => 9_068,
        }
    }
}

/// Samples averaged per result (AVG bits 11..9, table 7-3). Each sample is one shunt and
/// one bus conversion; current and power are computed per sample and averaged too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)] // the names are the counts
pub enum Averaging {
    /// One sample (power-on default).
    #[default]
    X1,
    X4,
    X16,
    X64,
    X128,
    X256,
    X512,
    X1024,
}

impl Averaging {
    /// The 3-bit field.
    pub const fn code(self) -> u16 {
        match self {
            Self::X1 => 0b000,
            Self::X4 => 0b001,
            Self::X16 => 0b010,
            Self::X64 => 0b011,
            Self::X128 => 0b100,
            Self::X256 => 0b101,
            Self::X512 => 0b110,
            Self::X1024 => 0b111,
        }
    }

    /// The number of samples.
    pub const fn samples(self) -> u32 {
        match self {
            Self::X1 => 1,
            Self::X4 => 4,
            Self::X16 => 16,
            Self::X64 => 64,
            Self::X128 => 128,
            Self::X256 => 256,
            Self::X512 => 512,
            Self::X1024 => 1024,
        }
    }
}

/// Operating mode (MODE bits 2..0, table 7-6). Both convert shunt and bus voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Each reading writes the configuration to trigger one conversion (all its samples),
    /// waits for it and reads the result; in between the chip is powered down.
    #[default]
    Triggered,
    /// The chip converts continuously; a reading returns the latest result without waiting
    /// (only the first one after `init`, `set_config` or `power_down` waits for a conversion).
    Continuous,
}

/// How a triggered conversion is known to be finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Completion {
    /// Wait the typical conversion time, then read Mask/Enable (needed anyway for OVF) and
    /// check CVRF; if it is not yet set, poll it in steps up to the maximum time. On a
    /// typical part, no extra transaction and the shortest wait.
    #[default]
    PollReady,
    /// Wait the maximum conversion time, then read; CVRF must be set.
    WaitMax,
}

/// Polarity of the ALERT pin (APOL). The pin is open drain: "high" needs a pull-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Polarity {
    /// Pulled low when asserted (the reset setting).
    #[default]
    ActiveLow,
    /// Released high when asserted, pulled low otherwise.
    ActiveHigh,
}

/// The one limit the chip watches (Mask/Enable bits 15..11 with the alert limit register),
/// in physical units; the driver converts it into the register's format for the
/// configured calibration. The chip compares each result (after averaging) to the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertFunction {
    /// SOL: the current exceeds the limit (compared as the shunt voltage limit × R_shunt,
    /// signed: a negative limit watches reverse current).
    OverCurrent(Current),
    /// SUL: the current drops below the limit (signed, as for `OverCurrent`).
    UnderCurrent(Current),
    /// BOL: the bus voltage exceeds the limit.
    BusOverVoltage(Voltage),
    /// BUL: the bus voltage drops below the limit (a sagging supply).
    BusUnderVoltage(Voltage),
    /// POL: the power exceeds the limit.
    OverPower(Power),
}

/// What the ALERT pin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Alert {
    /// The limit watched, if any.
    pub function: Option<AlertFunction>,
    /// CNVR: also assert the pin when a conversion completes (until Mask/Enable is read,
    /// which every reading does).
    pub conversion_ready: bool,
    /// Pin polarity.
    pub polarity: Polarity,
    /// LEN: once the limit was crossed, the pin and AFF stay asserted until Mask/Enable is
    /// read, even if the value comes back within the limit (transparent otherwise: they
    /// follow each result).
    pub latch: bool,
}

/// Why an alert limit cannot be programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLimitError {
    /// The limit is beyond what the compared register can hold: ±81.92 mV of shunt voltage,
    /// 0..40.96 V of bus voltage, 65535 power LSBs.
    OutOfRange,
}

impl core::fmt::Display for AlertLimitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfRange => f.write_str(
                "alert limit beyond its register: ±81.92 mV shunt, 0..40.96 V bus, 65535 power LSBs",
            ),
        }
    }
}

impl core::error::Error for AlertLimitError {}

/// Shunt voltage register LSB, 2.5 µV, in pV (µA × µΩ = pV).
const SHUNT_LSB_PV: i64 = 2_500_000;
/// Bus voltage register LSB, 1.25 mV, in nV.
const BUS_LSB_NV: i64 = 1_250_000;
/// The bus voltage register holds 15 bits.
const BUS_MAX_COUNTS: i64 = 0x7FFF;

impl AlertFunction {
    /// The Mask/Enable bit and alert limit register value for `calibration`. Over-limits
    /// round down and under-limits round up, so the pin never asserts inside the limit.
    pub(crate) fn registers(
        &self,
        calibration: &Calibration,
    ) -> Result<(u16, u16), AlertLimitError> {
        let shunt_counts = |current: &Current, round_up: bool| {
            let pv = i64::from(current.raw()) * i64::from(calibration.shunt_micro_ohms());
            let floor = pv.div_euclid(SHUNT_LSB_PV);
            let counts = if round_up && pv.rem_euclid(SHUNT_LSB_PV) != 0 {
                floor + 1
            } else {
                floor
            };
            i16::try_from(counts)
                .map(|c| u16::from_be_bytes(c.to_be_bytes()))
                .map_err(|_| AlertLimitError::OutOfRange)
        };
        let bus_counts = |voltage: &Voltage, round_up: bool| {
            let nv = voltage.raw();
            let floor = nv.div_euclid(BUS_LSB_NV);
            let counts = if round_up && nv.rem_euclid(BUS_LSB_NV) != 0 {
                floor + 1
            } else {
                floor
            };
            if (0..=BUS_MAX_COUNTS).contains(&counts) {
                u16::try_from(counts).map_err(|_| AlertLimitError::OutOfRange)
            } else {
                Err(AlertLimitError::OutOfRange)
            }
        };
        Ok(match self {
            Self::OverCurrent(limit) => (ME_SOL, shunt_counts(limit, false)?),
            Self::UnderCurrent(limit) => (ME_SUL, shunt_counts(limit, true)?),
            Self::BusOverVoltage(limit) => (ME_BOL, bus_counts(limit, false)?),
            Self::BusUnderVoltage(limit) => (ME_BUL, bus_counts(limit, true)?),
            Self::OverPower(limit) => {
                let counts = calibration.power_counts_floor(*limit);
                let counts = u16::try_from(counts).map_err(|_| AlertLimitError::OutOfRange)?;
                (ME_POL, counts)
            }
        })
    }
}

impl Alert {
    /// The Mask/Enable and alert limit register values for `calibration`.
    pub(crate) fn registers(
        &self,
        calibration: &Calibration,
    ) -> Result<(u16, u16), AlertLimitError> {
        let (function_bit, limit) = match &self.function {
            Some(function) => function.registers(calibration)?,
            None => (0, 0),
        };
        let mut mask_enable = function_bit;
        if self.conversion_ready {
            mask_enable |= ME_CNVR;
        }
        if self.polarity == Polarity::ActiveHigh {
            mask_enable |= ME_APOL;
        }
        if self.latch {
            mask_enable |= ME_LEN;
        }
        Ok((mask_enable, limit))
    }
}

/// Everything the driver writes to the configuration, calibration, Mask/Enable and alert
/// limit registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Bus voltage conversion time.
    pub bus_conversion_time: ConversionTime,
    /// Shunt voltage conversion time.
    pub shunt_conversion_time: ConversionTime,
    /// Samples averaged per result.
    pub averaging: Averaging,
    /// Triggered or continuous conversions.
    pub mode: Mode,
    /// How a triggered reading waits.
    pub completion: Completion,
    /// The shunt and the scale of the current and power registers.
    pub calibration: Calibration,
    /// The ALERT pin.
    pub alert: Alert,
}

impl Default for Config {
    /// The common breakout board (0.1 Ω shunt, 25 µA current LSB), the power-on conversion
    /// settings (1.1 ms each, no averaging), triggered readings, ALERT off.
    fn default() -> Self {
        Self::new(Calibration::BREAKOUT_100_MILLIOHM)
    }
}

impl Config {
    /// The power-on conversion settings (1.1 ms bus and shunt, one sample) with
    /// `calibration`, triggered readings, ALERT off.
    pub const fn new(calibration: Calibration) -> Self {
        Self {
            bus_conversion_time: ConversionTime::Us1100,
            shunt_conversion_time: ConversionTime::Us1100,
            averaging: Averaging::X1,
            mode: Mode::Triggered,
            completion: Completion::PollReady,
            calibration,
            alert: Alert {
                function: None,
                conversion_ready: false,
                polarity: Polarity::ActiveLow,
                latch: false,
            },
        }
    }

    /// Typical time of one triggered conversion, in µs: (bus CT + shunt CT) × samples
    /// (section 6.4.1: "588 µs and the averaging mode set to 4 ... updating approximately
    /// every 4.7 ms").
    pub const fn typical_conversion_time_us(&self) -> u32 {
        (self.bus_conversion_time.typical_us() + self.shunt_conversion_time.typical_us())
            * self.averaging.samples()
    }

    /// Maximum time of one triggered conversion, in µs: the same with t_CT MAX.
    pub const fn max_conversion_time_us(&self) -> u32 {
        (self.bus_conversion_time.max_us() + self.shunt_conversion_time.max_us())
            * self.averaging.samples()
    }

    /// The configuration register with the given MODE bits.
    pub(crate) const fn register(&self, mode_bits: u16) -> u16 {
        CONFIG_FIXED_BITS
            | (self.averaging.code() << 9)
            | (self.bus_conversion_time.code() << 6)
            | (self.shunt_conversion_time.code() << 3)
            | mode_bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_on_settings_encode_as_the_reset_value() {
        // Table 7-1 and the example's step 1: 4127h.
        assert_eq!(Config::default().register(MODE_CONTINUOUS), 0x4127);
    }

    #[test]
    fn fields_land_in_their_bits() {
        let c = Config {
            averaging: Averaging::X1024,
            bus_conversion_time: ConversionTime::Us140,
            shunt_conversion_time: ConversionTime::Us8244,
            ..Config::default()
        };
        // AVG 111 in 11..9, VBUSCT 000 in 8..6, VSHCT 111 in 5..3, MODE 011.
        assert_eq!(c.register(MODE_TRIGGERED), 0x4E3B);
    }

    #[test]
    fn conversion_times_follow_the_datasheet() {
        let c = Config::default();
        assert_eq!(c.typical_conversion_time_us(), 2 * 1_100);
        assert_eq!(c.max_conversion_time_us(), 2 * 1_210);
        // Section 6.4.1's example: 588 µs each and 4 averages update about every 4.7 ms.
        let example = Config {
            bus_conversion_time: ConversionTime::Us588,
            shunt_conversion_time: ConversionTime::Us588,
            averaging: Averaging::X4,
            ..c
        };
        assert_eq!(example.typical_conversion_time_us(), 4_704);
        let slowest = Config {
            bus_conversion_time: ConversionTime::Us8244,
            shunt_conversion_time: ConversionTime::Us8244,
            averaging: Averaging::X1024,
            ..c
        };
        assert_eq!(slowest.max_conversion_time_us(), 2 * 9_068 * 1024);
    }

    #[test]
    fn alert_limits_follow_the_register_formats() {
        let cal = Calibration::from_current_lsb(2_000, 1_000_000).unwrap();
        let regs = |function| {
            Alert {
                function: Some(function),
                ..Alert::default()
            }
            .registers(&cal)
        };
        // 40 A through 2 mΩ is 80 mV = 32000 shunt counts = 7D00h.
        let amps = |a: i32| Current::from_microamps(a * 1_000_000);
        assert_eq!(
            regs(AlertFunction::OverCurrent(amps(40))),
            Ok((ME_SOL, 0x7D00))
        );
        // −80 mV is 8300h (the datasheet's two's complement example, section 7.1.2).
        assert_eq!(
            regs(AlertFunction::UnderCurrent(amps(-40))),
            Ok((ME_SUL, 0x8300))
        );
        // 41 A would be 82 mV, beyond the register.
        assert_eq!(
            regs(AlertFunction::OverCurrent(amps(41))),
            Err(AlertLimitError::OutOfRange)
        );
        // 11.98 V is 9584 bus counts (2570h); 11.9801 V rounds up for an under-limit.
        let volts = |nv| Voltage::from_nanovolts(nv);
        assert_eq!(
            regs(AlertFunction::BusUnderVoltage(volts(11_980_000_000))),
            Ok((ME_BUL, 0x2570))
        );
        assert_eq!(
            regs(AlertFunction::BusUnderVoltage(volts(11_980_100_000))),
            Ok((ME_BUL, 0x2571))
        );
        assert_eq!(
            regs(AlertFunction::BusOverVoltage(volts(11_980_100_000))),
            Ok((ME_BOL, 0x2570))
        );
        assert_eq!(
            regs(AlertFunction::BusOverVoltage(volts(-1))),
            Err(AlertLimitError::OutOfRange)
        );
        // 119.8 W at 25 mW per LSB is 4792 = 12B8h.
        assert_eq!(
            regs(AlertFunction::OverPower(Power::from_microwatts(
                119_800_000
            ))),
            Ok((ME_POL, 0x12B8))
        );
        let pin = Alert {
            function: None,
            conversion_ready: true,
            polarity: Polarity::ActiveHigh,
            latch: true,
        };
        assert_eq!(pin.registers(&cal), Ok((ME_CNVR | ME_APOL | ME_LEN, 0)));
    }
}
