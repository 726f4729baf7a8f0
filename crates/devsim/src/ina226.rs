//! A register-level TI INA226 current, voltage and power monitor with its ALERT pin.
//!
//! The model answers the same register reads and writes as the silicon (datasheet SBOS547,
//! section 7.1): the configuration register with its reset bit and power-on value 4127h,
//! AVG, VBUSCT, VSHCT and MODE (power-down, triggered and continuous conversions of shunt
//! and/or bus voltage); the calibration register (bit 15 void); Mask/Enable with the five
//! alert functions, CNVR, APOL and LEN and the AFF, CVRF and OVF flags; the alert limit;
//! the manufacturer ID 5449h and die ID 2260h. The register pointer does not auto-increment.
//!
//! Timing follows the virtual clock: a conversion is N samples (AVG) of one shunt then one
//! bus conversion, each taking its CT from tables 7-4/7-5 (or t_CT MAX of the electrical
//! characteristics, a slow part). Only then do the result registers change and CVRF set;
//! reading Mask/Enable or writing the configuration (other than power-down) clears CVRF.
//! In continuous mode conversions follow back to back and each one is evaluated (so a
//! latched alert catches a short excursion), up to about 64 k samples of catch-up.
//!
//! The signals come from a [`Load`] (shared with the INA219 model): a supply and a current
//! waveform through the model's shunt resistor, with VBUS wired to the load side of the shunt
//! (the datasheet's example: 12 V − 20 mV = 11.98 V). Each ADC conversion integrates the
//! current over its conversion time and adds seeded white noise whose RMS is
//! `Load::noise_amps` at the power-on 1.1 ms and shrinks with √(1.1 ms / CT), as an
//! integrating converter's does; results are rounded to the 2.5 µV and 1.25 mV LSBs and
//! saturate at the registers' full scales. Current and power are computed per sample exactly
//! like the chip from the calibration register (equations 3 and 4, truncating toward zero),
//! setting OVF when they do not fit, and averaged with the voltages (section 6.3.1.1). The
//! power register holds the magnitude. After each conversion the selected alert function
//! compares its register to the limit, and the ALERT pin ([`Ina226Model::alert_pin`])
//! follows AFF (latched or transparent) and, with CNVR, CVRF, at either polarity.

pub use crate::ads1x15::PinLevel;
pub use crate::ina219::{ConversionTime, Load, Waveform};

use crate::bus::I2cTarget;
use crate::noise::Noise;

const POWER_ON_CONFIG: u16 = 0x4127;
/// Configuration bits 14..12 are not used and read 100b.
const CONFIG_FIXED_BITS: u16 = 0x4000;
const CONFIG_FIELDS: u16 = 0x0FFF;
const MANUFACTURER_ID: u16 = 0x5449;
const DIE_ID: u16 = 0x2260;
const SHUNT_LSB_VOLTS: f64 = 2.5e-6;
const BUS_LSB_VOLTS: f64 = 1.25e-3;
/// Shunt register range: "-81.9175 mV" to "81.92 mV" (section 5.5), i.e. ±7FFFh counts.
const SHUNT_FULL_SCALE: i64 = 0x7FFF;
const BUS_FULL_SCALE: i64 = 0x7FFF;
/// The calibration register has no bit 15.
const CALIBRATION_BITS: u16 = 0x7FFF;

/// Mask/Enable bits (section 7.1.7).
const SOL: u16 = 1 << 15;
const SUL: u16 = 1 << 14;
const BOL: u16 = 1 << 13;
const BUL: u16 = 1 << 12;
const POL: u16 = 1 << 11;
const CNVR: u16 = 1 << 10;
const AFF: u16 = 1 << 4;
const CVRF: u16 = 1 << 3;
const OVF: u16 = 1 << 2;
const APOL: u16 = 1 << 1;
const LEN: u16 = 1 << 0;
const MASK_WRITABLE: u16 = SOL | SUL | BOL | BUL | POL | CNVR | APOL | LEN;

/// Conversion times per 3-bit CT code, µs: typical (tables 7-4, 7-5) and t_CT MAX (5.5).
const CT_TYPICAL_US: [u64; 8] = [140, 204, 332, 588, 1_100, 2_116, 4_156, 8_244];
const CT_MAX_US: [u64; 8] = [154, 224, 365, 646, 1_210, 2_328, 4_572, 9_068];
/// Samples per AVG code (table 7-3).
const AVERAGES: [u32; 8] = [1, 4, 16, 64, 128, 256, 512, 1024];
/// The conversion time at which `Load::noise_amps` applies.
const NOISE_REFERENCE_NS: f64 = 1_100_000.0;
/// Points at which the current is evaluated within one ADC conversion (its integration).
const POINTS_PER_CONVERSION: u32 = 8;
/// Continuous mode evaluates every missed conversion up to about this many samples.
const CATCH_UP_SAMPLES: u64 = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Idle,
    Triggered { start_ns: u64 },
    Continuous { start_ns: u64, latched_cycles: u64 },
}

/// One sample's results before averaging.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    shunt: i64,
    bus: i64,
    current: i64,
    power: i64,
    overflow: bool,
}

/// A simulated INA226.
#[derive(Debug, Clone)]
pub struct Ina226Model {
    shunt_ohms: f64,
    load: Load,
    noise: Option<Noise>,
    conversion_time: ConversionTime,
    die_id: u16,
    config: u16,
    calibration: u16,
    /// The writable Mask/Enable bits; the flags are kept apart.
    mask_enable: u16,
    alert_limit: u16,
    shunt: i16,
    /// Bus voltage in 1.25 mV counts.
    bus: u16,
    current: i16,
    power: u16,
    cvrf: bool,
    aff: bool,
    ovf: bool,
    pointer: u8,
    conversion: Conversion,
    stuck: bool,
    conversions: u64,
    pin_asserted: bool,
    alert_assertions: u64,
    last_access_ns: u64,
}

impl Default for Ina226Model {
    /// A breakout board: 0.1 Ω shunt, the default load, no noise.
    fn default() -> Self {
        Self::new(0.1)
    }
}

impl Ina226Model {
    /// A chip with a `shunt_ohms` shunt, as after power-on (continuous conversions, no
    /// calibration: current and power read 0).
    pub fn new(shunt_ohms: f64) -> Self {
        let mut model = Self {
            shunt_ohms,
            load: Load::default(),
            noise: None,
            conversion_time: ConversionTime::Typical,
            die_id: DIE_ID,
            config: POWER_ON_CONFIG,
            calibration: 0,
            mask_enable: 0,
            alert_limit: 0,
            shunt: 0,
            bus: 0,
            current: 0,
            power: 0,
            cvrf: false,
            aff: false,
            ovf: false,
            pointer: 0,
            conversion: Conversion::Idle,
            stuck: false,
            conversions: 0,
            pin_asserted: false,
            alert_assertions: 0,
            last_access_ns: 0,
        };
        model.power_on_reset(0);
        model
    }

    /// Adds the load's noise to every conversion, seeded so runs repeat.
    pub fn with_noise(mut self, seed: u64) -> Self {
        self.noise = Some(Noise::seeded(seed));
        self
    }

    /// Sets how long conversions take.
    pub fn with_conversion_time(mut self, time: ConversionTime) -> Self {
        self.conversion_time = time;
        self
    }

    /// Sets the load.
    pub fn with_load(mut self, load: Load) -> Self {
        self.load = load;
        self
    }

    /// Sets what the die ID register (FFh) reads: another revision (2261h) or another part.
    pub fn with_die_id(mut self, die_id: u16) -> Self {
        self.die_id = die_id;
        self
    }

    /// Changes the load; conversions from now on measure it.
    pub fn set_load(&mut self, load: Load) {
        self.load = load;
    }

    /// The shunt resistor on the board, ohms.
    pub fn shunt_ohms(&self) -> f64 {
        self.shunt_ohms
    }

    /// Fault: the supply dipped below the power-on-reset threshold. Every register returns
    /// to its power-on value: calibration 0 (current and power read 0), configuration 4127h
    /// (continuous, 1.1 ms, one sample), Mask/Enable and alert limit 0 (ALERT off).
    pub fn brown_out(&mut self) {
        self.power_on_reset(self.last_access_ns);
    }

    /// Fault: conversions never complete; CVRF stays clear and the data registers keep
    /// their last values.
    pub fn set_stuck(&mut self, stuck: bool) {
        self.stuck = stuck;
    }

    /// Conversions completed since power-on.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }

    /// The configuration register.
    pub fn config(&self) -> u16 {
        self.config
    }

    /// The calibration register.
    pub fn calibration(&self) -> u16 {
        self.calibration
    }

    /// The writable Mask/Enable bits (functions, CNVR, APOL, LEN), without the flags.
    pub fn mask_enable(&self) -> u16 {
        self.mask_enable
    }

    /// The alert limit register.
    pub fn alert_limit(&self) -> u16 {
        self.alert_limit
    }

    /// Whether MODE is power-down (000 or 100).
    pub fn is_powered_down(&self) -> bool {
        self.config & 0b011 == 0
    }

    /// CVRF at `now_ns`, without the clearing a register read would do.
    pub fn conversion_ready(&mut self, now_ns: u64) -> bool {
        self.advance(now_ns);
        self.cvrf
    }

    /// AFF at `now_ns`, without the clearing a register read would do.
    pub fn alert_flag(&mut self, now_ns: u64) -> bool {
        self.advance(now_ns);
        self.aff
    }

    /// OVF at `now_ns`.
    pub fn math_overflow(&mut self, now_ns: u64) -> bool {
        self.advance(now_ns);
        self.ovf
    }

    /// The level of the ALERT pin at `now_ns` (open drain with a pull-up: released reads
    /// high).
    pub fn alert_pin(&mut self, now_ns: u64) -> PinLevel {
        self.advance(now_ns);
        let active_high = self.mask_enable & APOL != 0;
        if self.pin_asserted == active_high {
            PinLevel::High
        } else {
            PinLevel::Low
        }
    }

    /// How many times the ALERT pin has asserted by `now_ns`.
    pub fn alert_assertions(&mut self, now_ns: u64) -> u64 {
        self.advance(now_ns);
        self.alert_assertions
    }

    fn power_on_reset(&mut self, now_ns: u64) {
        self.config = POWER_ON_CONFIG;
        self.calibration = 0;
        self.mask_enable = 0;
        self.alert_limit = 0;
        self.shunt = 0;
        self.bus = 0;
        self.current = 0;
        self.power = 0;
        self.cvrf = false;
        self.aff = false;
        self.ovf = false;
        self.start_mode(now_ns);
        self.update_pin();
    }

    /// (shunt, bus) converted by the MODE bits.
    fn channels(&self) -> (bool, bool) {
        (self.config & 0b001 != 0, self.config & 0b010 != 0)
    }

    fn samples(&self) -> u32 {
        AVERAGES[usize::from((self.config >> 9) & 0b111)]
    }

    fn ct_ns(&self, code: u16) -> u64 {
        let table = match self.conversion_time {
            ConversionTime::Typical => &CT_TYPICAL_US,
            ConversionTime::Maximum => &CT_MAX_US,
        };
        table[usize::from(code & 0b111)] * 1_000
    }

    /// (shunt, bus) conversion times of one sample, zero for a channel not converted.
    fn sample_times_ns(&self) -> (u64, u64) {
        let (shunt, bus) = self.channels();
        let shunt_ns = if shunt {
            self.ct_ns(self.config >> 3)
        } else {
            0
        };
        let bus_ns = if bus { self.ct_ns(self.config >> 6) } else { 0 };
        (shunt_ns, bus_ns)
    }

    fn cycle_ns(&self) -> u64 {
        let (shunt_ns, bus_ns) = self.sample_times_ns();
        ((shunt_ns + bus_ns) * u64::from(self.samples())).max(1)
    }

    /// A configuration write halts any conversion and starts what MODE asks for.
    fn start_mode(&mut self, now_ns: u64) {
        self.conversion = match self.config & 0b111 {
            0b001..=0b011 => Conversion::Triggered { start_ns: now_ns },
            0b101..=0b111 => Conversion::Continuous {
                start_ns: now_ns,
                latched_cycles: 0,
            },
            _ => Conversion::Idle,
        };
    }

    /// Brings the chip's state up to `now`: completes conversions whose time has come.
    fn advance(&mut self, now_ns: u64) {
        self.last_access_ns = self.last_access_ns.max(now_ns);
        if self.stuck {
            return;
        }
        let cycle = self.cycle_ns();
        match self.conversion {
            Conversion::Triggered { start_ns } if now_ns >= start_ns + cycle => {
                self.latch(start_ns);
                self.conversion = Conversion::Idle;
            }
            Conversion::Continuous {
                start_ns,
                latched_cycles,
            } => {
                let completed = now_ns.saturating_sub(start_ns) / cycle;
                if completed > latched_cycles {
                    let per_cycle = u64::from(self.samples()).max(1);
                    let catch_up = (CATCH_UP_SAMPLES / per_cycle).max(1);
                    let first = latched_cycles.max(completed.saturating_sub(catch_up));
                    self.conversions += first - latched_cycles;
                    for cycle_index in first..completed {
                        self.latch(start_ns + cycle_index * cycle);
                    }
                    self.conversion = Conversion::Continuous {
                        start_ns,
                        latched_cycles: completed,
                    };
                }
            }
            _ => {}
        }
    }

    /// The mean load current over one ADC conversion, plus that conversion's noise.
    fn conversion_amps(&mut self, start_ns: u64, duration_ns: u64) -> f64 {
        let step = duration_ns as f64 / f64::from(POINTS_PER_CONVERSION);
        let total: f64 = (0..POINTS_PER_CONVERSION)
            .map(|k| {
                let at = start_ns + (step * (f64::from(k) + 0.5)) as u64;
                self.load.current.at(at)
            })
            .sum();
        let mean = total / f64::from(POINTS_PER_CONVERSION);
        match &mut self.noise {
            Some(noise) => {
                let rms = self.load.noise_amps * (NOISE_REFERENCE_NS / duration_ns as f64).sqrt();
                mean + noise.gaussian() * rms
            }
            None => mean,
        }
    }

    fn quantize(volts: f64, lsb: f64, min: i64, max: i64) -> i64 {
        ((volts / lsb).round() as i64).clamp(min, max)
    }

    /// Completes the conversion that started at `start_ns`: every sample, the chip's
    /// integer current and power per sample, the averages, the flags and the alert.
    fn latch(&mut self, start_ns: u64) {
        self.conversions += 1;
        let (do_shunt, do_bus) = self.channels();
        let (shunt_ns, bus_ns) = self.sample_times_ns();
        let samples = self.samples();
        let mut sums = Sums::default();
        for k in 0..u64::from(samples) {
            let sample_start = start_ns + k * (shunt_ns + bus_ns);
            let shunt = if do_shunt {
                let amps = self.conversion_amps(sample_start, shunt_ns);
                Self::quantize(
                    amps * self.shunt_ohms,
                    SHUNT_LSB_VOLTS,
                    -SHUNT_FULL_SCALE,
                    SHUNT_FULL_SCALE,
                )
            } else {
                i64::from(self.shunt)
            };
            let bus = if do_bus {
                let amps = self.conversion_amps(sample_start + shunt_ns, bus_ns);
                // VBUS on the load side: the supply minus the drop across the shunt.
                let volts = self.load.supply_volts - amps * self.shunt_ohms;
                Self::quantize(volts, BUS_LSB_VOLTS, 0, BUS_FULL_SCALE)
            } else {
                i64::from(self.bus)
            };
            // Equations 3 and 4 in the chip's integer math, truncating toward zero.
            let current = shunt * i64::from(self.calibration) / 2048;
            let current_fits = i16::try_from(current).is_ok();
            let current = current.clamp(i64::from(i16::MIN), i64::from(i16::MAX));
            let power = current.abs() * bus / 20_000;
            let power_fits = power <= i64::from(u16::MAX);
            sums.shunt += shunt;
            sums.bus += bus;
            sums.current += current;
            sums.power += power.min(i64::from(u16::MAX));
            sums.overflow |= !(current_fits && power_fits);
        }
        let n = i64::from(samples);
        // The means of in-range values are in range.
        self.shunt = (sums.shunt / n) as i16;
        self.bus = (sums.bus / n) as u16;
        self.current = (sums.current / n) as i16;
        self.power = (sums.power / n) as u16;
        self.ovf = sums.overflow;
        self.cvrf = true;
        let crossed = self.limit_crossed();
        self.aff = if self.mask_enable & LEN != 0 {
            self.aff || crossed
        } else {
            crossed
        };
        self.update_pin();
    }

    /// The highest enabled alert function compares its register to the limit.
    fn limit_crossed(&self) -> bool {
        let signed_limit = self.alert_limit as i16;
        let m = self.mask_enable;
        if m & SOL != 0 {
            self.shunt > signed_limit
        } else if m & SUL != 0 {
            self.shunt < signed_limit
        } else if m & BOL != 0 {
            self.bus > self.alert_limit
        } else if m & BUL != 0 {
            self.bus < self.alert_limit
        } else if m & POL != 0 {
            self.power > self.alert_limit
        } else {
            false
        }
    }

    /// Re-evaluates the ALERT pin after any change of flags or settings.
    fn update_pin(&mut self) {
        let function = self.mask_enable & (SOL | SUL | BOL | BUL | POL) != 0;
        let asserted = (function && self.aff) || (self.mask_enable & CNVR != 0 && self.cvrf);
        if asserted && !self.pin_asserted {
            self.alert_assertions += 1;
        }
        self.pin_asserted = asserted;
    }

    fn read_register(&mut self, now_ns: u64, register: u8) -> u16 {
        self.advance(now_ns);
        match register {
            0x00 => self.config,
            0x01 => self.shunt as u16,
            0x02 => self.bus,
            0x03 => self.power,
            0x04 => self.current as u16,
            0x05 => self.calibration,
            0x06 => {
                let flag = |set: bool, bit: u16| if set { bit } else { 0 };
                let value = self.mask_enable
                    | flag(self.aff, AFF)
                    | flag(self.cvrf, CVRF)
                    | flag(self.ovf, OVF);
                // Reading clears CVRF, and AFF in latch mode.
                self.cvrf = false;
                if self.mask_enable & LEN != 0 {
                    self.aff = false;
                }
                self.update_pin();
                value
            }
            0x07 => self.alert_limit,
            0xFE => MANUFACTURER_ID,
            0xFF => self.die_id,
            _ => 0,
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u16) {
        self.advance(now_ns);
        match register {
            0x00 if value & 0x8000 != 0 => self.power_on_reset(now_ns),
            0x00 => {
                self.config = (value & CONFIG_FIELDS) | CONFIG_FIXED_BITS;
                // CVRF clears on a configuration write, except into power-down.
                if !self.is_powered_down() {
                    self.cvrf = false;
                }
                self.start_mode(now_ns);
                self.update_pin();
            }
            0x05 => self.calibration = value & CALIBRATION_BITS,
            0x06 => {
                self.mask_enable = value & MASK_WRITABLE;
                self.update_pin();
            }
            0x07 => self.alert_limit = value,
            _ => {}
        }
    }
}

/// I²C framing (datasheet section 6.5.5.3): a write carries the register pointer and
/// optionally a 16-bit value MSB first; a read returns the pointed register MSB first and
/// keeps the pointer (no auto-increment).
impl I2cTarget for Ina226Model {
    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        match *bytes {
            [pointer] => self.pointer = pointer,
            [pointer, msb, lsb, ..] => {
                self.pointer = pointer;
                self.write_register(now_ns, pointer, u16::from_be_bytes([msb, lsb]));
            }
            _ => {}
        }
    }

    fn read(&mut self, now_ns: u64, buf: &mut [u8]) {
        if buf.is_empty() {
            return;
        }
        let value = self.read_register(now_ns, self.pointer).to_be_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = value[i % 2];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(supply_volts: f64, amps: f64) -> Load {
        Load {
            supply_volts,
            current: Waveform::Dc(amps),
            noise_amps: 0.0,
        }
    }

    /// The datasheet example: 10 A through 2 mΩ from a 12 V supply, CAL = A00h,
    /// configuration 4127h (SBOS547 table 6-1), triggered.
    fn datasheet_example() -> Ina226Model {
        let mut chip = Ina226Model::new(0.002).with_load(dc(12.0, 10.0));
        chip.write_register(0, 0x05, 0x0A00);
        chip.write_register(0, 0x00, 0x4123);
        chip
    }

    #[test]
    fn reproduces_the_datasheet_register_values() {
        let mut chip = datasheet_example();
        // Not done before 1.1 ms + 1.1 ms.
        assert!(!chip.conversion_ready(2_199_999));
        assert_eq!(chip.read_register(2_200_000, 0x06), CVRF);
        assert_eq!(chip.read_register(2_200_000, 0x01), 0x1F40);
        assert_eq!(chip.read_register(2_200_000, 0x02), 0x2570);
        assert_eq!(chip.read_register(2_200_000, 0x04), 0x2710);
        assert_eq!(chip.read_register(2_200_000, 0x03), 0x12B8);
        // Reading Mask/Enable cleared CVRF.
        assert_eq!(chip.read_register(2_200_000, 0x06), 0);
    }

    #[test]
    fn ids_reset_and_void_bits() {
        let mut chip = datasheet_example();
        assert_eq!(chip.read_register(0, 0xFE), 0x5449);
        assert_eq!(chip.read_register(0, 0xFF), 0x2260);
        chip.write_register(0, 0x05, 0xFFFF);
        assert_eq!(chip.read_register(0, 0x05), 0x7FFF);
        chip.write_register(0, 0x06, 0xFFFF);
        assert_eq!(
            chip.read_register(0, 0x06) & !(AFF | CVRF | OVF),
            MASK_WRITABLE
        );
        chip.write_register(10, 0x00, 0x8000);
        assert_eq!(chip.read_register(10, 0x00), 0x4127);
        assert_eq!(chip.read_register(10, 0x05), 0);
        assert_eq!(chip.read_register(10, 0x06), 0);
    }

    #[test]
    fn averaging_multiplies_the_conversion_time_and_truncates() {
        let mut chip = datasheet_example();
        // AVG 4, VBUSCT 588 µs, VSHCT 588 µs: 4 × 1176 µs (section 6.4.1's 4.7 ms).
        chip.write_register(0, 0x00, 0x42DB);
        assert!(!chip.conversion_ready(4_703_999));
        assert!(chip.conversion_ready(4_704_000));
        // -1.0005 A through 2 mΩ is -2.001 mV, -800.4 → -800 shunt counts; CAL 2559 gives
        // -800 × 2559 / 2048 = -999.6, truncated toward zero to -999.
        // Four identical samples average to the same values.
        chip.write_register(5_000_000, 0x05, 2559);
        chip.set_load(dc(12.0, -1.0005));
        chip.write_register(5_000_000, 0x00, 0x42DB);
        assert_eq!(chip.read_register(10_000_000, 0x01) as i16, -800);
        assert_eq!(chip.read_register(10_000_000, 0x04) as i16, -999);
        // The bus sits at 12.002 V (9602 counts) for reverse current. Power is a magnitude:
        // 999 × 9602 / 20000 = 479.6, truncated to 479.
        assert_eq!(chip.read_register(10_000_000, 0x02), 9602);
        assert_eq!(chip.read_register(10_000_000, 0x03), 479);
    }

    #[test]
    fn overflow_sets_ovf_and_saturates() {
        let mut chip = datasheet_example();
        // 80 mV × 7FFFh / 2048 is far beyond the 16-bit current register.
        chip.write_register(0, 0x05, 0x7FFF);
        chip.set_load(dc(12.0, 40.0));
        chip.write_register(0, 0x00, 0x4123);
        assert!(chip.math_overflow(3_000_000));
        assert_eq!(chip.read_register(3_000_000, 0x06) & OVF, OVF);
        // 100 mV is beyond the shunt register's 81.92 mV full scale.
        chip.set_load(dc(12.0, 50.0));
        chip.write_register(3_000_000, 0x00, 0x4123);
        assert_eq!(chip.read_register(6_000_000, 0x01), 0x7FFF);
    }

    #[test]
    fn latched_over_limit_holds_the_pin_until_mask_enable_is_read() {
        let mut chip = datasheet_example();
        // SOL at 8100 counts (20.25 mV), latched, active low.
        chip.write_register(0, 0x07, 8100);
        chip.write_register(0, 0x06, SOL | LEN);
        chip.set_load(dc(12.0, 10.5));
        chip.write_register(0, 0x00, 0x4127);
        assert_eq!(chip.alert_pin(2_199_999), PinLevel::High);
        assert_eq!(chip.alert_pin(2_200_000), PinLevel::Low);
        // Back within the limit: the latch holds until the read.
        chip.set_load(dc(12.0, 10.0));
        assert_eq!(chip.alert_pin(10_000_000), PinLevel::Low);
        assert_eq!(chip.read_register(10_000_000, 0x06) & AFF, AFF);
        assert_eq!(chip.alert_pin(10_000_000), PinLevel::High);
        assert_eq!(chip.alert_assertions(10_000_000), 1);
    }

    #[test]
    fn transparent_under_limit_follows_each_result_at_either_polarity() {
        let mut chip = datasheet_example();
        // BUL at 11.5 V (9200 counts), transparent, active high.
        chip.write_register(0, 0x07, 9200);
        chip.write_register(0, 0x06, BUL | APOL);
        chip.set_load(dc(11.0, 1.0));
        chip.write_register(0, 0x00, 0x4127);
        assert_eq!(chip.alert_pin(2_200_000), PinLevel::High);
        chip.set_load(dc(12.0, 1.0));
        assert_eq!(chip.alert_pin(4_400_000), PinLevel::Low);
        assert!(!chip.alert_flag(4_400_000));
    }

    #[test]
    fn conversion_ready_on_the_pin() {
        let mut chip = datasheet_example();
        chip.write_register(0, 0x06, CNVR);
        chip.write_register(0, 0x00, 0x4123);
        assert_eq!(chip.alert_pin(2_199_999), PinLevel::High);
        assert_eq!(chip.alert_pin(2_200_000), PinLevel::Low);
        chip.read_register(2_200_000, 0x06);
        assert_eq!(chip.alert_pin(2_200_000), PinLevel::High);
    }

    #[test]
    fn maximum_conversion_times_follow_the_electrical_characteristics() {
        let mut chip = datasheet_example().with_conversion_time(ConversionTime::Maximum);
        chip.write_register(0, 0x00, 0x4123);
        assert!(!chip.conversion_ready(2_419_999));
        assert!(chip.conversion_ready(2_420_000));
    }
}
