//! A register-level TI INA219 current, voltage and power monitor.
//!
//! The model answers the same register reads and writes as the silicon (datasheet SBOS448F):
//! the configuration register with its reset bit and power-on value 399Fh, the MODE bits
//! (power-down, triggered and continuous conversions of shunt and/or bus voltage, ADC off),
//! the calibration register (bit 0 void), and the data registers. A conversion takes the
//! shunt ADC's time then the bus ADC's time from table 6 (or the electrical characteristics'
//! maxima), and only then does the bus voltage register show CNVR; reading the power
//! register clears it, as does writing a conversion mode. The register pointer does not
//! auto-increment.
//!
//! The signals come from a [`Load`]: a supply voltage and a current waveform (DC, a step,
//! a square wave) with seeded noise through the model's shunt resistor. The shunt voltage is
//! I·R, the bus voltage is measured at IN−, the supply minus the shunt drop. Each ADC
//! averages its samples spread over its conversion time (so averaging smooths noise and
//! square waves), rounds to its LSB (10 µV, 4 mV) or coarser at 9..11 bits, and saturates at
//! the full scale of the PGA or bus range. Current and power are then computed exactly like
//! the chip from the calibration register with integer truncation (equations 4 and 5),
//! setting OVF when they do not fit their registers. The power register has no sign bit; for
//! reverse current the model stores the magnitude.

use crate::bus::I2cTarget;
use crate::noise::Noise;

/// How a current changes over time, in amperes (positive: from IN+ to IN−).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Waveform {
    /// Constant.
    Dc(f64),
    /// `before` until `at_s` seconds on the bus clock, `after` from then on.
    Step {
        /// Current before the step.
        before: f64,
        /// Current after the step.
        after: f64,
        /// When the step happens, seconds since the clock started.
        at_s: f64,
    },
    /// `high` for the first `duty` fraction of every `period_s`, `low` for the rest: a
    /// device that wakes periodically.
    Square {
        /// Current while idle.
        low: f64,
        /// Current while active.
        high: f64,
        /// Seconds per cycle.
        period_s: f64,
        /// Fraction of the cycle spent at `high`, 0..=1.
        duty: f64,
    },
}

impl Waveform {
    /// The current in amperes at `now_ns` on the bus clock.
    pub fn at(&self, now_ns: u64) -> f64 {
        let t = now_ns as f64 / 1e9;
        match *self {
            Self::Dc(amps) => amps,
            Self::Step {
                before,
                after,
                at_s,
            } => {
                if t < at_s {
                    before
                } else {
                    after
                }
            }
            Self::Square {
                low,
                high,
                period_s,
                duty,
            } => {
                let phase = (t / period_s.max(1e-9)).fract();
                if phase < duty {
                    high
                } else {
                    low
                }
            }
        }
    }
}

/// What the chip measures: a supply feeding a load through the shunt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Voltage at IN+ (the supply side of the shunt), volts.
    pub supply_volts: f64,
    /// Current through the shunt.
    pub current: Waveform,
    /// RMS noise added to every current sample, amperes (needs [`Ina219Model::with_noise`]).
    pub noise_amps: f64,
}

impl Default for Load {
    /// A 5 V board drawing a steady 120 mA.
    fn default() -> Self {
        Self {
            supply_volts: 5.0,
            current: Waveform::Dc(0.120),
            noise_amps: 0.002,
        }
    }
}

/// How long conversions take (shared with the INA226 model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConversionTime {
    /// The datasheet's nominal times (a typical part): INA219 table 6, INA226 CT settings.
    #[default]
    Typical,
    /// The electrical characteristics' maxima (a slow part): for the INA219, N × 586 µs
    /// when averaging.
    Maximum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Idle,
    Triggered { start_ns: u64 },
    Continuous { start_ns: u64, latched_cycles: u64 },
}

const POWER_ON_CONFIG: u16 = 0x399F;
const SHUNT_LSB_VOLTS: f64 = 10e-6;
const BUS_LSB_VOLTS: f64 = 4e-3;
const CNVR: u16 = 1 << 1;
const OVF: u16 = 1 << 0;

/// Resolution bits and samples of an ADC field (table 6: ADC4 = 0 selects 9..12 bits with
/// ADC3 ignored; ADC4 = 1 averages 2^(ADC3..1) 12-bit samples, 1 for 000).
fn adc_setting(field: u16) -> (u32, u32) {
    if field & 0b1000 == 0 {
        (9 + u32::from(field & 0b11), 1)
    } else {
        (12, 1 << (field & 0b111))
    }
}

fn adc_time_ns(field: u16, time: ConversionTime) -> u64 {
    let (bits, samples) = adc_setting(field);
    let us: u64 = match (time, bits, samples) {
        (ConversionTime::Typical, 9, _) => 84,
        (ConversionTime::Typical, 10, _) => 148,
        (ConversionTime::Typical, 11, _) => 276,
        (ConversionTime::Typical, _, 1) => 532,
        (ConversionTime::Typical, _, 2) => 1_060,
        (ConversionTime::Typical, _, 4) => 2_130,
        (ConversionTime::Typical, _, 8) => 4_260,
        (ConversionTime::Typical, _, 16) => 8_510,
        (ConversionTime::Typical, _, 32) => 17_020,
        (ConversionTime::Typical, _, 64) => 34_050,
        (ConversionTime::Typical, _, _) => 68_100,
        (ConversionTime::Maximum, 9, _) => 93,
        (ConversionTime::Maximum, 10, _) => 163,
        (ConversionTime::Maximum, 11, _) => 304,
        (ConversionTime::Maximum, _, n) => 586 * u64::from(n),
    };
    us * 1_000
}

/// A simulated INA219.
#[derive(Debug, Clone)]
pub struct Ina219Model {
    shunt_ohms: f64,
    load: Load,
    noise: Option<Noise>,
    conversion_time: ConversionTime,
    config: u16,
    calibration: u16,
    shunt: i16,
    /// Bus voltage in 4 mV counts.
    bus: u16,
    current: i16,
    power: u16,
    cnvr: bool,
    ovf: bool,
    pointer: u8,
    conversion: Conversion,
    stuck: bool,
    conversions: u64,
    last_access_ns: u64,
}

impl Default for Ina219Model {
    /// A breakout board: 0.1 Ω shunt, the default load, no noise.
    fn default() -> Self {
        Self::new(0.1)
    }
}

impl Ina219Model {
    /// A chip with a `shunt_ohms` shunt, as after power-on (continuous conversions, no
    /// calibration: current and power read 0).
    pub fn new(shunt_ohms: f64) -> Self {
        let mut model = Self {
            shunt_ohms,
            load: Load::default(),
            noise: None,
            conversion_time: ConversionTime::Typical,
            config: POWER_ON_CONFIG,
            calibration: 0,
            shunt: 0,
            bus: 0,
            current: 0,
            power: 0,
            cnvr: false,
            ovf: false,
            pointer: 0,
            conversion: Conversion::Idle,
            stuck: false,
            conversions: 0,
            last_access_ns: 0,
        };
        model.power_on_reset(0);
        model
    }

    /// Adds the load's noise to every current sample, seeded so runs repeat.
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

    /// Changes the load; conversions from now on measure it.
    pub fn set_load(&mut self, load: Load) {
        self.load = load;
    }

    /// The shunt resistor on the board, ohms.
    pub fn shunt_ohms(&self) -> f64 {
        self.shunt_ohms
    }

    /// Fault: the supply dipped below the power-on-reset threshold. Every register returns
    /// to its power-on value: calibration 0 (current and power read 0), configuration 399Fh
    /// (continuous conversions, ±320 mV, 32 V).
    pub fn brown_out(&mut self) {
        self.power_on_reset(self.last_access_ns);
    }

    /// Fault: conversions never complete; CNVR stays clear and the data registers keep
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

    /// Whether MODE is power-down (000).
    pub fn is_powered_down(&self) -> bool {
        self.config & 0b111 == 0
    }

    fn power_on_reset(&mut self, now_ns: u64) {
        self.config = POWER_ON_CONFIG;
        self.calibration = 0;
        self.shunt = 0;
        self.bus = 0;
        self.current = 0;
        self.power = 0;
        self.cnvr = false;
        self.ovf = false;
        self.start_mode(now_ns);
    }

    /// (shunt, bus) converted by the MODE bits.
    fn channels(&self) -> (bool, bool) {
        match self.config & 0b111 {
            0b001 | 0b101 => (true, false),
            0b010 | 0b110 => (false, true),
            0b011 | 0b111 => (true, true),
            _ => (false, false),
        }
    }

    fn shunt_time_ns(&self) -> u64 {
        adc_time_ns((self.config >> 3) & 0xF, self.conversion_time)
    }

    fn bus_time_ns(&self) -> u64 {
        adc_time_ns((self.config >> 7) & 0xF, self.conversion_time)
    }

    fn cycle_ns(&self) -> u64 {
        let (shunt, bus) = self.channels();
        let mut ns = 0;
        if shunt {
            ns += self.shunt_time_ns();
        }
        if bus {
            ns += self.bus_time_ns();
        }
        ns.max(1)
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
                    // Only the latest conversion is visible in the registers.
                    self.latch(start_ns + (completed - 1) * cycle);
                    self.conversion = Conversion::Continuous {
                        start_ns,
                        latched_cycles: completed,
                    };
                }
            }
            _ => {}
        }
    }

    /// The load current at one instant, with noise.
    fn current_sample(&mut self, at_ns: u64) -> f64 {
        let amps = self.load.current.at(at_ns);
        match &mut self.noise {
            Some(noise) => amps + noise.gaussian() * self.load.noise_amps,
            None => amps,
        }
    }

    /// The mean of `samples` current samples spread over `duration_ns` from `start_ns`.
    fn averaged_current(&mut self, start_ns: u64, duration_ns: u64, samples: u32) -> f64 {
        let step = duration_ns as f64 / f64::from(samples);
        let total: f64 = (0..samples)
            .map(|k| self.current_sample(start_ns + (step * (f64::from(k) + 0.5)) as u64))
            .sum();
        total / f64::from(samples)
    }

    /// Rounds `value` to whole LSBs, then to the ADC's resolution (12 bits resolve 1 LSB,
    /// each bit less doubles the step), then saturates at ±`full_scale`.
    fn quantize(value: f64, lsb: f64, bits: u32, full_scale: i64) -> i64 {
        let step = 1i64 << (12 - bits.min(12));
        let counts = (value / lsb / step as f64).round() as i64 * step;
        counts.clamp(-full_scale, full_scale)
    }

    /// Completes the conversion that started at `start_ns`.
    fn latch(&mut self, start_ns: u64) {
        self.conversions += 1;
        let (do_shunt, do_bus) = self.channels();
        let shunt_ns = if do_shunt { self.shunt_time_ns() } else { 0 };
        if do_shunt {
            let (bits, samples) = adc_setting((self.config >> 3) & 0xF);
            let amps = self.averaged_current(start_ns, shunt_ns, samples);
            let full_scale = 4_000i64 << ((self.config >> 11) & 0b11);
            let counts = Self::quantize(amps * self.shunt_ohms, SHUNT_LSB_VOLTS, bits, full_scale);
            self.shunt = counts as i16;
        }
        if do_bus {
            let (bits, samples) = adc_setting((self.config >> 7) & 0xF);
            let amps = self.averaged_current(start_ns + shunt_ns, self.bus_time_ns(), samples);
            // Measured at IN−: the supply minus the drop across the shunt.
            let volts = self.load.supply_volts - amps * self.shunt_ohms;
            let full_scale = if self.config & (1 << 13) != 0 {
                8_000
            } else {
                4_000
            };
            let counts = Self::quantize(volts, BUS_LSB_VOLTS, bits, full_scale).max(0);
            self.bus = counts as u16;
        }
        // Equations 4 and 5 in the chip's integer math, truncating toward zero.
        let current = i64::from(self.shunt) * i64::from(self.calibration) / 4096;
        let current_fits = i64::from(i16::MIN) <= current && current <= i64::from(i16::MAX);
        self.current = current.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
        let power = i64::from(self.current).abs() * i64::from(self.bus) / 5000;
        let power_fits = power <= i64::from(u16::MAX);
        self.power = power.min(i64::from(u16::MAX)) as u16;
        self.ovf = !(current_fits && power_fits);
        self.cnvr = true;
    }

    fn read_register(&mut self, now_ns: u64, register: u8) -> u16 {
        self.advance(now_ns);
        match register {
            0x00 => self.config,
            0x01 => self.shunt as u16,
            0x02 => {
                let cnvr = if self.cnvr { CNVR } else { 0 };
                let ovf = if self.ovf { OVF } else { 0 };
                (self.bus << 3) | cnvr | ovf
            }
            0x03 => {
                let power = self.power;
                self.cnvr = false;
                power
            }
            0x04 => self.current as u16,
            0x05 => self.calibration,
            _ => 0,
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u16) {
        self.advance(now_ns);
        match register {
            0x00 if value & 0x8000 != 0 => self.power_on_reset(now_ns),
            0x00 => {
                self.config = value;
                // CNVR clears on a configuration write, except into power-down or ADC off.
                if !matches!(value & 0b111, 0b000 | 0b100) {
                    self.cnvr = false;
                }
                self.start_mode(now_ns);
            }
            0x05 => self.calibration = value & !1,
            _ => {}
        }
    }
}

/// I²C framing (datasheet figures 14-15): a write carries the register pointer and
/// optionally a 16-bit value MSB first; a read returns the pointed register MSB first and
/// keeps the pointer (no auto-increment).
impl I2cTarget for Ina219Model {
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

    /// The datasheet example: 10 A through 2 mΩ from a 12 V supply, ±40 mV, 16 V,
    /// Cal = 20480, continuous (SBOS448F table 3).
    fn datasheet_example() -> Ina219Model {
        let mut chip = Ina219Model::new(0.002).with_load(Load {
            supply_volts: 12.0,
            current: Waveform::Dc(10.0),
            noise_amps: 0.0,
        });
        chip.write_register(0, 0x05, 0x5000);
        chip.write_register(0, 0x00, 0x019F);
        chip
    }

    #[test]
    fn reproduces_the_datasheet_register_values() {
        let mut chip = datasheet_example();
        // Not done before 2 × 532 µs.
        assert_eq!(chip.read_register(1_063_999, 0x02) & CNVR, 0);
        let bus = chip.read_register(1_064_000, 0x02);
        assert_eq!(bus, 0x5D98 | CNVR);
        assert_eq!(chip.read_register(1_064_000, 0x01), 0x07D0);
        assert_eq!(chip.read_register(1_064_000, 0x04), 0x2710);
        assert_eq!(chip.read_register(1_064_000, 0x03), 0x1766);
        // Reading power cleared CNVR.
        assert_eq!(chip.read_register(1_064_000, 0x02), 0x5D98);
    }

    #[test]
    fn reset_restores_power_on_values() {
        let mut chip = datasheet_example();
        chip.write_register(10, 0x00, 0x8000);
        assert_eq!(chip.read_register(10, 0x00), 0x399F);
        assert_eq!(chip.read_register(10, 0x05), 0);
    }

    #[test]
    fn calibration_bit_0_is_void_and_current_truncates() {
        let mut chip = datasheet_example();
        chip.write_register(0, 0x05, 0x5001);
        assert_eq!(chip.read_register(0, 0x05), 0x5000);
        // -1.005 A through 2 mΩ is -2.01 mV, -201 shunt counts. Cal 4095 is stored as 4094,
        // and -201 × 4094 / 4096 = -200.9 truncates toward zero to -200.
        chip.write_register(0, 0x05, 4095);
        chip.set_load(Load {
            supply_volts: 12.0,
            current: Waveform::Dc(-1.005),
            noise_amps: 0.0,
        });
        chip.write_register(0, 0x00, 0x019B);
        assert_eq!(chip.read_register(2_000_000, 0x01) as i16, -201);
        assert_eq!(chip.read_register(2_000_000, 0x04) as i16, -200);
    }

    #[test]
    fn pga_saturates_and_coarse_adc_drops_low_bits() {
        let mut chip = datasheet_example();
        // 30 A through 2 mΩ is 60 mV, beyond ±40 mV: the register saturates at 4000.
        chip.set_load(Load {
            supply_volts: 12.0,
            current: Waveform::Dc(30.0),
            noise_amps: 0.0,
        });
        chip.write_register(0, 0x00, 0x019B);
        assert_eq!(chip.read_register(2_000_000, 0x01), 4000);
        // 9-bit bus ADC: 12 V − 60 mV = 11.94 V is 2985 counts of 4 mV, in steps of 8 → 2984.
        chip.write_register(2_000_000, 0x00, 0x001B);
        assert_eq!(chip.read_register(4_000_000, 0x02) >> 3, 2984);
    }

    #[test]
    fn overflow_sets_ovf() {
        let mut chip = datasheet_example();
        // 40 mV × 65534 / 4096 = 63 996, beyond the 16-bit signed current register.
        chip.write_register(0, 0x05, 0xFFFE);
        chip.set_load(Load {
            supply_volts: 12.0,
            current: Waveform::Dc(20.0),
            noise_amps: 0.0,
        });
        chip.write_register(0, 0x00, 0x019B);
        assert_eq!(chip.read_register(2_000_000, 0x02) & OVF, OVF);
    }

    #[test]
    fn maximum_conversion_time_follows_the_electrical_characteristics() {
        assert_eq!(adc_time_ns(0b0011, ConversionTime::Maximum), 586_000);
        assert_eq!(adc_time_ns(0b1111, ConversionTime::Maximum), 128 * 586_000);
        assert_eq!(adc_time_ns(0b1111, ConversionTime::Typical), 68_100_000);
        assert_eq!(adc_time_ns(0b0100, ConversionTime::Typical), 84_000);
    }
}
