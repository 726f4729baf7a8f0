//! Conversion settings and the timing the datasheet derives from them.

use super::registers::*;
use super::Chip;
use crate::units::Voltage;

/// What the input multiplexer connects to the ADC (datasheet 9.6.3, MUX\[2:0\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Input {
    /// AIN0 − AIN1 (the reset setting).
    #[default]
    Ain0Ain1,
    /// AIN0 − AIN3.
    Ain0Ain3,
    /// AIN1 − AIN3.
    Ain1Ain3,
    /// AIN2 − AIN3.
    Ain2Ain3,
    /// AIN0 against GND.
    Ain0,
    /// AIN1 against GND.
    Ain1,
    /// AIN2 against GND.
    Ain2,
    /// AIN3 against GND.
    Ain3,
}

impl Input {
    /// Every setting, in MUX code order.
    pub const ALL: [Input; 8] = [
        Self::Ain0Ain1,
        Self::Ain0Ain3,
        Self::Ain1Ain3,
        Self::Ain2Ain3,
        Self::Ain0,
        Self::Ain1,
        Self::Ain2,
        Self::Ain3,
    ];

    /// The 3-bit MUX code.
    pub const fn mux_code(self) -> u8 {
        match self {
            Self::Ain0Ain1 => 0b000,
            Self::Ain0Ain3 => 0b001,
            Self::Ain1Ain3 => 0b010,
            Self::Ain2Ain3 => 0b011,
            Self::Ain0 => 0b100,
            Self::Ain1 => 0b101,
            Self::Ain2 => 0b110,
            Self::Ain3 => 0b111,
        }
    }

    /// Whether the negative input is GND.
    pub const fn is_single_ended(self) -> bool {
        self.mux_code() & 0b100 != 0
    }

    /// The channel name a reading reports: `"ain0"` for single-ended inputs, `"ain0_ain1"`
    /// for differential pairs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ain0Ain1 => "ain0_ain1",
            Self::Ain0Ain3 => "ain0_ain3",
            Self::Ain1Ain3 => "ain1_ain3",
            Self::Ain2Ain3 => "ain2_ain3",
            Self::Ain0 => "ain0",
            Self::Ain1 => "ain1",
            Self::Ain2 => "ain2",
            Self::Ain3 => "ain3",
        }
    }
}

/// The most inputs one reading converts: all four single-ended inputs.
pub const MAX_INPUTS: usize = 4;

/// The inputs one reading converts, in order: one to [`MAX_INPUTS`] distinct settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scan {
    inputs: [Input; MAX_INPUTS],
    len: u8,
}

impl Scan {
    /// One input.
    pub const fn single(input: Input) -> Self {
        Self {
            inputs: [input; MAX_INPUTS],
            len: 1,
        }
    }

    /// AIN0, AIN1, AIN2 and AIN3 against GND.
    pub const fn single_ended() -> Self {
        Self {
            inputs: [Input::Ain0, Input::Ain1, Input::Ain2, Input::Ain3],
            len: 4,
        }
    }

    /// `inputs` in this order, or `None` unless there are 1 to [`MAX_INPUTS`] of them, each
    /// listed once (a reading's channels are named after them).
    pub fn new(inputs: &[Input]) -> Option<Self> {
        if inputs.is_empty() || inputs.len() > MAX_INPUTS {
            return None;
        }
        let mut scan = Self::single(inputs[0]);
        for (i, &input) in inputs.iter().enumerate() {
            if inputs[..i].contains(&input) {
                return None;
            }
            scan.inputs[i] = input;
        }
        scan.len = inputs.len() as u8;
        Some(scan)
    }

    /// The inputs, in conversion order.
    pub fn inputs(&self) -> &[Input] {
        &self.inputs[..usize::from(self.len)]
    }

    /// The first input (the one `init` leaves selected).
    pub const fn first(&self) -> Input {
        self.inputs[0]
    }

    /// How many inputs a reading converts (1 to [`MAX_INPUTS`]).
    pub const fn count(&self) -> u32 {
        self.len as u32
    }
}

impl Default for Scan {
    /// AIN0 − AIN1, the chip's reset setting.
    fn default() -> Self {
        Self::single(Input::Ain0Ain1)
    }
}

/// Full-scale range of the programmable gain amplifier (datasheet 9.3.3, PGA\[2:0\]). The
/// inputs must still stay within GND − 0.3 V … VDD + 0.3 V: at ±6.144 V and ±4.096 V the top
/// of the range is only reachable with a supply that high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FullScale {
    /// ±6.144 V.
    V6_144,
    /// ±4.096 V.
    V4_096,
    /// ±2.048 V (the reset setting).
    #[default]
    V2_048,
    /// ±1.024 V.
    V1_024,
    /// ±0.512 V.
    V0_512,
    /// ±0.256 V.
    V0_256,
}

impl FullScale {
    /// The 3-bit PGA code (codes 110 and 111 also mean ±0.256 V; the driver writes 101).
    pub const fn code(self) -> u8 {
        match self {
            Self::V6_144 => 0b000,
            Self::V4_096 => 0b001,
            Self::V2_048 => 0b010,
            Self::V1_024 => 0b011,
            Self::V0_512 => 0b100,
            Self::V0_256 => 0b101,
        }
    }

    /// The full-scale voltage in millivolts.
    pub const fn millivolts(self) -> u32 {
        match self {
            Self::V6_144 => 6144,
            Self::V4_096 => 4096,
            Self::V2_048 => 2048,
            Self::V1_024 => 1024,
            Self::V0_512 => 512,
            Self::V0_256 => 256,
        }
    }

    /// The full-scale voltage.
    pub const fn voltage(self) -> Voltage {
        Voltage::from_nanovolts(self.millivolts() as i64 * 1_000_000)
    }
}

/// Output data rate (datasheet 9.3.6, DR\[2:0\]). The two chips offer different rates; 128
/// and 250 SPS exist on both. A conversion settles in one cycle, so it takes 1 / DR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)] // the names are the rates
pub enum DataRate {
    /// ADS1115 only.
    Sps8,
    /// ADS1115 only.
    Sps16,
    /// ADS1115 only.
    Sps32,
    /// ADS1115 only.
    Sps64,
    /// Both chips (the ADS1115's reset setting).
    #[default]
    Sps128,
    /// Both chips.
    Sps250,
    /// ADS1115 only.
    Sps475,
    /// ADS1015 only.
    Sps490,
    /// ADS1115 only.
    Sps860,
    /// ADS1015 only.
    Sps920,
    /// ADS1015 only (its reset setting).
    Sps1600,
    /// ADS1015 only.
    Sps2400,
    /// ADS1015 only.
    Sps3300,
}

impl DataRate {
    /// Conversions per second at the oscillator's nominal 1 MHz.
    pub const fn samples_per_second(self) -> u32 {
        match self {
            Self::Sps8 => 8,
            Self::Sps16 => 16,
            Self::Sps32 => 32,
            Self::Sps64 => 64,
            Self::Sps128 => 128,
            Self::Sps250 => 250,
            Self::Sps475 => 475,
            Self::Sps490 => 490,
            Self::Sps860 => 860,
            Self::Sps920 => 920,
            Self::Sps1600 => 1600,
            Self::Sps2400 => 2400,
            Self::Sps3300 => 3300,
        }
    }

    /// The 3-bit DR code on `chip`, or `None` when that chip lacks this rate.
    pub const fn code(self, chip: Chip) -> Option<u8> {
        match chip {
            Chip::Ads1115 => match self {
                Self::Sps8 => Some(0b000),
                Self::Sps16 => Some(0b001),
                Self::Sps32 => Some(0b010),
                Self::Sps64 => Some(0b011),
                Self::Sps128 => Some(0b100),
                Self::Sps250 => Some(0b101),
                Self::Sps475 => Some(0b110),
                Self::Sps860 => Some(0b111),
                _ => None,
            },
            Chip::Ads1015 => match self {
                Self::Sps128 => Some(0b000),
                Self::Sps250 => Some(0b001),
                Self::Sps490 => Some(0b010),
                Self::Sps920 => Some(0b011),
                Self::Sps1600 => Some(0b100),
                Self::Sps2400 => Some(0b101),
                // 111 is 3300 SPS as well.
                Self::Sps3300 => Some(0b110),
                _ => None,
            },
        }
    }

    /// The rate a DR code selects on `chip`.
    pub const fn from_code(code: u8, chip: Chip) -> Self {
        match (chip, code & 0b111) {
            (Chip::Ads1115, 0) => Self::Sps8,
            (Chip::Ads1115, 1) => Self::Sps16,
            (Chip::Ads1115, 2) => Self::Sps32,
            (Chip::Ads1115, 3) => Self::Sps64,
            (Chip::Ads1115, 4) => Self::Sps128,
            (Chip::Ads1115, 5) => Self::Sps250,
            (Chip::Ads1115, 6) => Self::Sps475,
            (Chip::Ads1115, _) => Self::Sps860,
            (Chip::Ads1015, 0) => Self::Sps128,
            (Chip::Ads1015, 1) => Self::Sps250,
            (Chip::Ads1015, 2) => Self::Sps490,
            (Chip::Ads1015, 3) => Self::Sps920,
            (Chip::Ads1015, 4) => Self::Sps1600,
            (Chip::Ads1015, 5) => Self::Sps2400,
            (Chip::Ads1015, _) => Self::Sps3300,
        }
    }

    /// One conversion at the nominal rate, in µs (rounded up).
    pub const fn nominal_period_us(self) -> u32 {
        1_000_000_u32.div_ceil(self.samples_per_second())
    }

    /// One conversion at the slowest rate the datasheet allows, in µs (rounded up). The data
    /// rate varies by up to −10 % (electrical characteristics, 7.5: it scales with the
    /// internal oscillator), so a period lasts up to 1 / (0.9 · DR).
    pub const fn max_period_us(self) -> u32 {
        10_000_000_u32.div_ceil(9 * self.samples_per_second())
    }
}

/// Single-shot or continuous conversion (datasheet 9.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// The chip sleeps (0.5 µA) and converts once per request, then powers down by itself.
    /// The right choice for scanning several inputs.
    #[default]
    SingleShot,
    /// The chip converts all the time (150 µA); a reading of a single input returns the latest
    /// result without waiting. Changing the input costs up to two conversion periods (see
    /// [`Config::input_switch_time_us`]).
    Continuous,
}

/// How a single-shot conversion is known to be finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Completion {
    /// Wait the datasheet's maximum conversion time, then read: two bus transactions per
    /// input (start, read result), the fewest possible. A chip stuck mid-conversion goes
    /// unnoticed: the conversion register still holds the previous result.
    #[default]
    WaitMax,
    /// Wait the nominal conversion time, then read the config register until OS reports the
    /// conversion done; an error if it has not by the maximum time. Usually finishes sooner,
    /// detects a stuck chip and a chip that lost its configuration, for one more 2-byte read.
    PollStatus,
}

/// Polarity of the ALERT/RDY pin (COMP_POL). The pin is open drain: "high" needs a pull-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Polarity {
    /// Pulled low when asserted (the reset setting).
    #[default]
    ActiveLow,
    /// Released high when asserted.
    ActiveHigh,
}

/// How the comparator judges a conversion (COMP_MODE, datasheet 9.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ComparatorKind {
    /// Asserts above `high`, deasserts only once below `low` (hysteresis).
    #[default]
    Traditional,
    /// Asserts above `high` or below `low`.
    Window,
}

/// Successive out-of-limit conversions before ALERT/RDY asserts (COMP_QUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Queue {
    /// One conversion.
    #[default]
    One,
    /// Two successive conversions.
    Two,
    /// Four successive conversions.
    Four,
}

impl Queue {
    /// The 2-bit COMP_QUE code.
    pub const fn code(self) -> u8 {
        match self {
            Self::One => 0b00,
            Self::Two => 0b01,
            Self::Four => 0b10,
        }
    }
}

/// The digital comparator on ALERT/RDY. Thresholds are voltages; the driver turns them into
/// codes for the configured full-scale range (the registers hold codes, so they must change
/// with the PGA, datasheet 9.6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparator {
    /// Traditional (hysteresis) or window.
    pub kind: ComparatorKind,
    /// Lower threshold (Lo_thresh); must be below `high`.
    pub low: Voltage,
    /// Upper threshold (Hi_thresh).
    pub high: Voltage,
    /// Pin polarity.
    pub polarity: Polarity,
    /// Latching: once asserted the pin stays asserted until the conversion register is read
    /// (or an SMBus alert response), even when the input is back within limits.
    pub latching: bool,
    /// Successive out-of-limit conversions needed.
    pub queue: Queue,
}

/// What the ALERT/RDY pin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Alert {
    /// Comparator off, pin high impedance (the reset setting).
    #[default]
    Disabled,
    /// Comparator output.
    Comparator(Comparator),
    /// Conversion ready (datasheet 9.3.8): in continuous mode an ~8 µs pulse at the end of
    /// every conversion; in single-shot mode the pin asserts when the conversion finishes.
    ConversionReady(Polarity),
}

/// The chip's wake-up from power-down before a conversion starts: "approximately 25 µs"
/// (datasheet 9.4.2.1). Counted in every conversion started from power-down.
pub const WAKE_UP_US: u32 = 25;

/// Everything the driver writes to the config and threshold registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Config {
    /// The inputs a reading converts, in order.
    pub inputs: Scan,
    /// PGA full-scale range, for every input.
    pub full_scale: FullScale,
    /// Data rate.
    pub data_rate: DataRate,
    /// Single-shot or continuous conversion.
    pub mode: Mode,
    /// How a single-shot conversion waits for its result.
    pub completion: Completion,
    /// The ALERT/RDY pin.
    pub alert: Alert,
}

impl Config {
    /// Single-shot conversions of `inputs` at ±`full_scale` and `data_rate`, comparator off.
    pub const fn single_shot(inputs: Scan, full_scale: FullScale, data_rate: DataRate) -> Self {
        Self {
            inputs,
            full_scale,
            data_rate,
            mode: Mode::SingleShot,
            completion: Completion::WaitMax,
            alert: Alert::Disabled,
        }
    }

    /// Maximum time from starting a single-shot conversion to its result, in µs: the
    /// wake-up from power-down plus the slowest conversion period.
    pub const fn max_conversion_time_us(&self) -> u32 {
        WAKE_UP_US + self.data_rate.max_period_us()
    }

    /// Nominal time from starting a single-shot conversion to its result, in µs.
    pub const fn typical_conversion_time_us(&self) -> u32 {
        WAKE_UP_US + self.data_rate.nominal_period_us()
    }

    /// Maximum wait, in continuous mode, between selecting another input and a result from
    /// it: "the currently ongoing conversion completes with the previous configuration
    /// settings. Thereafter, continuous conversions with the new configuration settings
    /// start" (datasheet 9.4.2.2). The conversion in progress may have just begun, so the
    /// first result from the new input can be two periods away; reading sooner returns the
    /// old input's value.
    pub const fn input_switch_time_us(&self) -> u32 {
        2 * self.data_rate.max_period_us()
    }

    /// Checks what `chip` cannot do: a data rate it lacks, thresholds outside the full-scale
    /// range or in the wrong order.
    pub fn validate(&self, chip: Chip) -> Result<(), &'static str> {
        if self.data_rate.code(chip).is_none() {
            return Err("this data rate does not exist on this chip");
        }
        self.threshold_registers(chip).map(drop)
    }

    /// The config register for converting `input`; `start` sets OS (begin a single-shot
    /// conversion), `continuous` clears MODE.
    pub(crate) fn config_register(
        &self,
        chip: Chip,
        input: Input,
        continuous: bool,
        start: bool,
    ) -> u16 {
        // validate() has run: a missing code cannot happen; fall back to the reset rate.
        let dr = self.data_rate.code(chip).unwrap_or(0b100);
        let mut word = (u16::from(input.mux_code()) << MUX_SHIFT)
            | (u16::from(self.full_scale.code()) << PGA_SHIFT)
            | (u16::from(dr) << DR_SHIFT);
        if start {
            word |= OS;
        }
        if !continuous {
            word |= MODE_SINGLE_SHOT;
        }
        word |= match self.alert {
            Alert::Disabled => COMP_QUE_DISABLE,
            Alert::Comparator(c) => {
                let mut bits = u16::from(c.queue.code());
                if c.kind == ComparatorKind::Window {
                    bits |= COMP_MODE_WINDOW;
                }
                if c.polarity == Polarity::ActiveHigh {
                    bits |= COMP_POL_ACTIVE_HIGH;
                }
                if c.latching {
                    bits |= COMP_LAT;
                }
                bits
            }
            // Any queue setting but 11 keeps the pin enabled; COMP_MODE and COMP_LAT do
            // nothing in this mode (9.3.8).
            Alert::ConversionReady(polarity) => match polarity {
                Polarity::ActiveLow => 0b00,
                Polarity::ActiveHigh => COMP_POL_ACTIVE_HIGH,
            },
        };
        word
    }

    /// (Lo_thresh, Hi_thresh) to write, or `None` when the pin is disabled and the thresholds
    /// do not matter.
    pub(crate) fn threshold_registers(
        &self,
        chip: Chip,
    ) -> Result<Option<(u16, u16)>, &'static str> {
        match self.alert {
            Alert::Disabled => Ok(None),
            Alert::ConversionReady(_) => Ok(Some((RDY_LO_THRESH, RDY_HI_THRESH))),
            Alert::Comparator(c) => {
                if c.low >= c.high {
                    return Err("comparator low threshold must be below the high threshold");
                }
                let low = chip.threshold_register(self.full_scale, c.low);
                let high = chip.threshold_register(self.full_scale, c.high);
                match (low, high) {
                    (Some(low), Some(high)) => Ok(Some((low, high))),
                    _ => Err("comparator threshold outside the full-scale range"),
                }
            }
        }
    }
}

impl Chip {
    /// Bits per conversion result.
    pub const fn resolution_bits(self) -> u32 {
        match self {
            Self::Ads1115 => 16,
            Self::Ads1015 => 12,
        }
    }

    /// The size of one code step at `full_scale`, in picovolts (exact): FSR / 2^15 on the
    /// ADS1115, FSR / 2^11 on the ADS1015 (datasheet 9.3.3).
    pub const fn lsb_picovolts(self, full_scale: FullScale) -> u64 {
        (full_scale.millivolts() as u64 * 1_000_000_000) >> (self.resolution_bits() - 1)
    }

    /// Largest code: +FS · (2^(n−1) − 1) / 2^(n−1) and above read as this.
    pub const fn max_code(self) -> i16 {
        ((1i32 << (self.resolution_bits() - 1)) - 1) as i16
    }

    /// Smallest code: −FS and below read as this.
    pub const fn min_code(self) -> i16 {
        (-(1i32 << (self.resolution_bits() - 1))) as i16
    }

    /// The voltage of a result code (in this chip's resolution) at `full_scale`, to the
    /// nearest nanovolt toward zero (only ±0.256 V on the ADS1115 has a fractional-nanovolt
    /// LSB: 7812.5 nV).
    pub const fn voltage(self, full_scale: FullScale, code: i16) -> Voltage {
        let picovolts = code as i64 * self.lsb_picovolts(full_scale) as i64;
        Voltage::from_nanovolts(picovolts / 1000)
    }

    /// The register image of a threshold at `voltage`, rounded to the nearest code; `None`
    /// outside ±`full_scale`. +FS itself maps to the largest code.
    pub(crate) fn threshold_register(self, full_scale: FullScale, voltage: Voltage) -> Option<u16> {
        let fsr_nv = full_scale.voltage().raw();
        let nv = voltage.raw();
        if nv > fsr_nv || nv < -fsr_nv {
            return None;
        }
        let steps = 1i64 << (self.resolution_bits() - 1);
        let code = div_round(nv * steps, fsr_nv)
            .clamp(i64::from(self.min_code()), i64::from(self.max_code()));
        let shift = 16 - self.resolution_bits();
        Some(((code as i16) << shift) as u16)
    }
}

/// `n / d` rounded to nearest, halves away from zero; `d > 0`.
const fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

#[cfg(test)]
#[allow(clippy::unusual_byte_groupings)] // grouped by register field, as in the datasheet
mod tests {
    use super::*;

    #[test]
    fn lsb_sizes_match_the_datasheet_tables() {
        // ADS1115 table 3: 187.5, 125, 62.5, 31.25, 15.625, 7.8125 µV.
        let ads1115 = [
            187_500_000,
            125_000_000,
            62_500_000,
            31_250_000,
            15_625_000,
            7_812_500,
        ];
        // ADS1015 table 1: 3, 2, 1, 0.5, 0.25, 0.125 mV.
        let ads1015 = [
            3_000_000_000,
            2_000_000_000,
            1_000_000_000,
            500_000_000,
            250_000_000,
            125_000_000,
        ];
        let ranges = [
            FullScale::V6_144,
            FullScale::V4_096,
            FullScale::V2_048,
            FullScale::V1_024,
            FullScale::V0_512,
            FullScale::V0_256,
        ];
        for ((fsr, lsb_16), lsb_12) in ranges.into_iter().zip(ads1115).zip(ads1015) {
            assert_eq!(Chip::Ads1115.lsb_picovolts(fsr), lsb_16, "{fsr:?}");
            assert_eq!(Chip::Ads1015.lsb_picovolts(fsr), lsb_12, "{fsr:?}");
        }
    }

    #[test]
    fn full_scale_codes_match_the_datasheet() {
        // Data format (9.3.3): 7FFFh is +FS·(2^15−1)/2^15, 8000h is −FS; 0001h is +FS/2^15.
        let c = Chip::Ads1115;
        assert_eq!(c.voltage(FullScale::V2_048, 0x7FFF).raw(), 2_047_937_500);
        assert_eq!(c.voltage(FullScale::V2_048, i16::MIN).raw(), -2_048_000_000);
        assert_eq!(c.voltage(FullScale::V2_048, 1).raw(), 62_500);
        assert_eq!(c.voltage(FullScale::V2_048, -1).raw(), -62_500);
        assert_eq!(c.voltage(FullScale::V6_144, 0x7FFF).raw(), 6_143_812_500);
        // 7.8125 µV steps: the half nanovolt is dropped toward zero.
        assert_eq!(c.voltage(FullScale::V0_256, 1).raw(), 7_812);
        assert_eq!(c.voltage(FullScale::V0_256, -32_768).raw(), -256_000_000);
        // ADS1015 (12-bit): 7FFh and 800h.
        let c = Chip::Ads1015;
        assert_eq!((c.max_code(), c.min_code()), (2047, -2048));
        assert_eq!(c.voltage(FullScale::V2_048, 2047).raw(), 2_047_000_000);
        assert_eq!(c.voltage(FullScale::V6_144, -2048).raw(), -6_144_000_000);
        assert_eq!(c.voltage(FullScale::V0_256, 1).raw(), 125_000);
    }

    #[test]
    fn default_config_is_the_reset_value_on_the_ads1115() {
        // 9.6.3: 8583h = OS 1, AIN0–AIN1, ±2.048 V, single-shot, 128 SPS, comparator off.
        let word = Config::default().config_register(Chip::Ads1115, Input::Ain0Ain1, false, true);
        assert_eq!(word, RESET_CONFIG);
    }

    #[test]
    fn config_register_fields() {
        let config = Config {
            inputs: Scan::single(Input::Ain3),
            full_scale: FullScale::V0_256,
            data_rate: DataRate::Sps860,
            mode: Mode::Continuous,
            completion: Completion::WaitMax,
            alert: Alert::Comparator(Comparator {
                kind: ComparatorKind::Window,
                low: Voltage::from_nanovolts(0),
                high: Voltage::from_nanovolts(100_000_000),
                polarity: Polarity::ActiveHigh,
                latching: true,
                queue: Queue::Four,
            }),
        };
        // OS 0 | MUX 111 | PGA 101 | MODE 0 | DR 111 | window | active high | latch | queue 10
        assert_eq!(
            config.config_register(Chip::Ads1115, Input::Ain3, true, false),
            0b0_111_101_0_111_1_1_1_10
        );
        // The ADS1015 codes 3300 SPS as 110.
        let fast = Config {
            data_rate: DataRate::Sps3300,
            alert: Alert::ConversionReady(Polarity::ActiveLow),
            ..Config::default()
        };
        assert_eq!(
            fast.config_register(Chip::Ads1015, Input::Ain0, false, true),
            0b1_100_010_1_110_0_0_0_00
        );
    }

    #[test]
    fn data_rates_exist_only_on_their_chip() {
        assert_eq!(DataRate::Sps860.code(Chip::Ads1115), Some(0b111));
        assert_eq!(DataRate::Sps860.code(Chip::Ads1015), None);
        assert_eq!(DataRate::Sps1600.code(Chip::Ads1015), Some(0b100));
        assert_eq!(DataRate::Sps128.code(Chip::Ads1015), Some(0b000));
        assert_eq!(DataRate::Sps128.code(Chip::Ads1115), Some(0b100));
        for chip in [Chip::Ads1115, Chip::Ads1015] {
            for code in 0..7 {
                assert_eq!(DataRate::from_code(code, chip).code(chip), Some(code));
            }
        }
        assert_eq!(DataRate::from_code(7, Chip::Ads1015), DataRate::Sps3300);
    }

    #[test]
    fn conversion_time_is_the_slowest_period_plus_wake_up() {
        // 1 / (0.9 · 8 SPS) = 138.889 ms; 1 / (0.9 · 860) = 1.292 ms; 1 / (0.9 · 3300) = 337 µs.
        let at = |dr| Config {
            data_rate: dr,
            ..Config::default()
        };
        assert_eq!(at(DataRate::Sps8).max_conversion_time_us(), 138_889 + 25);
        assert_eq!(at(DataRate::Sps128).max_conversion_time_us(), 8_681 + 25);
        assert_eq!(at(DataRate::Sps860).max_conversion_time_us(), 1_292 + 25);
        assert_eq!(at(DataRate::Sps3300).max_conversion_time_us(), 337 + 25);
        assert_eq!(
            at(DataRate::Sps128).typical_conversion_time_us(),
            7_813 + 25
        );
        assert_eq!(at(DataRate::Sps128).input_switch_time_us(), 2 * 8_681);
    }

    #[test]
    fn thresholds_become_codes_for_the_full_scale_range() {
        let fsr = FullScale::V2_048;
        let v = |mv: i64| Voltage::from_nanovolts(mv * 1_000_000);
        // 1 V at ±2.048 V: 16000 codes of 62.5 µV (3E80h); on the ADS1015 1000 codes of 1 mV,
        // left-justified (3E80h as well).
        assert_eq!(Chip::Ads1115.threshold_register(fsr, v(1000)), Some(0x3E80));
        assert_eq!(Chip::Ads1015.threshold_register(fsr, v(1000)), Some(0x3E80));
        assert_eq!(
            Chip::Ads1115.threshold_register(fsr, v(-2048)),
            Some(0x8000)
        );
        assert_eq!(Chip::Ads1115.threshold_register(fsr, v(2048)), Some(0x7FFF));
        assert_eq!(Chip::Ads1015.threshold_register(fsr, v(2048)), Some(0x7FF0));
        assert_eq!(Chip::Ads1115.threshold_register(fsr, v(2049)), None);
        let comparator = |low, high| Config {
            alert: Alert::Comparator(Comparator {
                kind: ComparatorKind::Traditional,
                low,
                high,
                polarity: Polarity::ActiveLow,
                latching: false,
                queue: Queue::One,
            }),
            ..Config::default()
        };
        assert!(comparator(v(1000), v(500)).validate(Chip::Ads1115).is_err());
        assert!(comparator(v(0), v(3000)).validate(Chip::Ads1115).is_err());
        assert_eq!(
            comparator(v(-1), v(1)).threshold_registers(Chip::Ads1115),
            Ok(Some((0xFFF0, 0x0010)))
        );
    }

    #[test]
    fn conversion_ready_sets_the_threshold_msbs() {
        let config = Config {
            alert: Alert::ConversionReady(Polarity::ActiveLow),
            ..Config::default()
        };
        let (lo, hi) = config.threshold_registers(Chip::Ads1015).unwrap().unwrap();
        assert_eq!((lo & 0x8000, hi & 0x8000), (0, 0x8000));
    }

    #[test]
    fn scans_hold_one_to_four_distinct_inputs() {
        assert_eq!(Scan::new(&[]), None);
        assert_eq!(Scan::new(&[Input::Ain0, Input::Ain0]), None);
        assert_eq!(Scan::new(&[Input::Ain0; 5]), None);
        let scan = Scan::new(&[Input::Ain2, Input::Ain0Ain1]).unwrap();
        assert_eq!(scan.inputs(), &[Input::Ain2, Input::Ain0Ain1]);
        assert_eq!(scan.count(), 2);
        assert_eq!(Scan::single_ended().inputs().len(), 4);
        assert!(Input::Ain3.is_single_ended() && !Input::Ain2Ain3.is_single_ended());
    }
}
