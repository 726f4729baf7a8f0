//! A register-level TI ADS1115 (16-bit) or ADS1015 (12-bit) ADC.
//!
//! The model answers the same I²C traffic as the silicon (datasheets SBAS444D / SBAS473E,
//! section 9.5–9.6): a pointer byte selects one of four 16-bit registers, a write carries the
//! pointer and a big-endian value, a read returns the register the pointer last selected.
//!
//! Timing follows the virtual clock: a single-shot start (OS = 1 in power-down) wakes the chip
//! for 25 µs, then converts for 1 / DR (scaled by a configurable data-rate error); OS reads 0
//! while converting and 1 when idle; the conversion register changes only when a conversion
//! completes. In continuous mode a new result lands every period, and a configuration written
//! mid-conversion takes effect from the next conversion (9.4.2.2).
//!
//! Each conversion averages its input over the conversion period, as a delta-sigma converter
//! does (a 50 Hz sine read at 8 SPS mostly averages away), adds each pin's seeded white noise,
//! clamps each pin to GND − 0.3 V … VDD + 0.3 V and saturates at the full-scale codes. The
//! ALERT/RDY pin (comparator with queue, latching and polarity, or conversion ready) can be
//! read by a test at any virtual time.

use crate::bus::I2cTarget;
use crate::noise::Noise;

/// Which chip the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chip {
    /// 16-bit results, 8 to 860 SPS.
    Ads1115,
    /// 12-bit results in bits 15:4, 128 to 3300 SPS.
    Ads1015,
}

impl Chip {
    fn resolution_bits(self) -> u32 {
        match self {
            Self::Ads1115 => 16,
            Self::Ads1015 => 12,
        }
    }

    /// Conversions per second for a DR code (9.6.3).
    fn samples_per_second(self, code: u16) -> f64 {
        let table: [f64; 8] = match self {
            Self::Ads1115 => [8.0, 16.0, 32.0, 64.0, 128.0, 250.0, 475.0, 860.0],
            Self::Ads1015 => [128.0, 250.0, 490.0, 920.0, 1600.0, 2400.0, 3300.0, 3300.0],
        };
        table[usize::from(code & 0b111)]
    }
}

/// The signal on one analog input pin, in volts against GND: a DC level plus a sine (a
/// current clamp on a 50 Hz line, a vibration pickup) plus white noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogInput {
    /// DC level, V.
    pub dc: f64,
    /// Sine amplitude (peak), V.
    pub amplitude: f64,
    /// Sine frequency, Hz.
    pub frequency_hz: f64,
    /// Sine phase at t = 0, radians.
    pub phase: f64,
    /// Standard deviation of the white noise added to each conversion, V.
    pub noise_rms: f64,
}

impl AnalogInput {
    /// A pin tied to GND.
    pub const GROUND: Self = Self::dc(0.0);

    /// A constant voltage.
    pub const fn dc(volts: f64) -> Self {
        Self {
            dc: volts,
            amplitude: 0.0,
            frequency_hz: 0.0,
            phase: 0.0,
            noise_rms: 0.0,
        }
    }

    /// `dc` plus a sine of `amplitude` volts peak at `frequency_hz`.
    pub const fn sine(dc: f64, amplitude: f64, frequency_hz: f64) -> Self {
        Self {
            dc,
            amplitude,
            frequency_hz,
            phase: 0.0,
            noise_rms: 0.0,
        }
    }

    /// The same signal with white noise of `rms` volts.
    pub const fn with_noise(self, rms: f64) -> Self {
        Self {
            noise_rms: rms,
            ..self
        }
    }

    /// The voltage at `t_s` seconds.
    pub fn at(&self, t_s: f64) -> f64 {
        let w = std::f64::consts::TAU * self.frequency_hz;
        self.dc + self.amplitude * (w * t_s + self.phase).sin()
    }

    /// The mean over [`t0_s`, `t1_s`]: what a conversion spanning that time reports.
    pub fn mean(&self, t0_s: f64, t1_s: f64) -> f64 {
        let w = std::f64::consts::TAU * self.frequency_hz;
        let span = t1_s - t0_s;
        if w == 0.0 || span <= 0.0 {
            return self.at(t0_s);
        }
        let mean_sine =
            ((w * t0_s + self.phase).cos() - (w * t1_s + self.phase).cos()) / (w * span);
        self.dc + self.amplitude * mean_sine
    }
}

impl Default for AnalogInput {
    fn default() -> Self {
        Self::GROUND
    }
}

/// A logic level on the ALERT/RDY pin (open drain with a pull-up: released reads high).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinLevel {
    /// Pulled low.
    Low,
    /// Released (or driven) high.
    High,
}

/// Wake-up from power-down before a conversion starts: "approximately 25 µs" (9.4.2.1).
const WAKE_UP_NS: u64 = 25_000;
/// Length of the conversion-ready pulse in continuous mode: "approximately 8 µs" (9.3.8).
const RDY_PULSE_NS: u64 = 8_000;
/// Config register after reset, OS aside (it is derived from the state when read).
const RESET_CONFIG: u16 = 0x0583;
/// Conversions evaluated one by one when the clock jumped far ahead.
const MAX_CATCH_UP: u64 = 10_000;

const OS: u16 = 1 << 15;
const MODE_SINGLE_SHOT: u16 = 1 << 8;
const COMP_MODE_WINDOW: u16 = 1 << 4;
const COMP_POL_ACTIVE_HIGH: u16 = 1 << 3;
const COMP_LAT: u16 = 1 << 2;
const COMP_QUE_DISABLE: u16 = 0b11;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Powered down, idle.
    PowerDown,
    /// A conversion with `settings` runs from `start_ns` (after any wake-up) to `end_ns`;
    /// afterwards the chip continues (`continuous`) or powers down.
    Converting {
        start_ns: u64,
        end_ns: u64,
        settings: u16,
        continuous: bool,
    },
}

/// A simulated ADS1115 or ADS1015.
#[derive(Debug, Clone)]
pub struct Ads1x15Model {
    chip: Chip,
    /// Config register without OS.
    config: u16,
    lo_thresh: u16,
    hi_thresh: u16,
    conversion: u16,
    pointer: u8,
    state: State,
    inputs: [AnalogInput; 4],
    supply_v: f64,
    rate_error: f64,
    noise: Noise,
    stuck: bool,
    conversions: u64,
    /// Comparator output, before polarity.
    comparator_asserted: bool,
    /// Successive conversions beyond the thresholds.
    beyond_count: u32,
    /// End of the last conversion in continuous conversion-ready mode (its pulse).
    last_rdy_pulse_ns: Option<u64>,
    alert_assertions: u64,
}

impl Ads1x15Model {
    /// An ADS1115 with every input at GND, on a 3.3 V supply, as after power-on.
    pub fn ads1115() -> Self {
        Self::new(Chip::Ads1115)
    }

    /// An ADS1015 with every input at GND, on a 3.3 V supply, as after power-on.
    pub fn ads1015() -> Self {
        Self::new(Chip::Ads1015)
    }

    /// A `chip` as after power-on.
    pub fn new(chip: Chip) -> Self {
        let mut model = Self {
            chip,
            config: RESET_CONFIG,
            lo_thresh: 0,
            hi_thresh: 0,
            conversion: 0,
            pointer: 0,
            state: State::PowerDown,
            inputs: [AnalogInput::GROUND; 4],
            supply_v: 3.3,
            rate_error: 0.0,
            noise: Noise::seeded(1),
            stuck: false,
            conversions: 0,
            comparator_asserted: false,
            beyond_count: 0,
            last_rdy_pulse_ns: None,
            alert_assertions: 0,
        };
        model.power_on_reset();
        model
    }

    /// Seeds the noise drawn for inputs with a `noise_rms`.
    pub fn with_noise_seed(mut self, seed: u64) -> Self {
        self.noise = Noise::seeded(seed);
        self
    }

    /// Sets the signal on AIN`pin` (0 to 3).
    pub fn with_input(mut self, pin: usize, input: AnalogInput) -> Self {
        self.set_input(pin, input);
        self
    }

    /// Sets the supply voltage, which bounds what an input can reach (VDD + 0.3 V).
    pub fn with_supply(mut self, volts: f64) -> Self {
        self.supply_v = volts;
        self
    }

    /// Makes the data rate deviate by `relative` (−0.1: a part 10 % slow, the datasheet's
    /// limit; its conversions take 1 / (0.9 · DR)).
    pub fn with_data_rate_error(mut self, relative: f64) -> Self {
        self.rate_error = relative;
        self
    }

    /// Sets the signal on AIN`pin` (0 to 3; other pins do not exist and are ignored). The next
    /// conversion measures it.
    pub fn set_input(&mut self, pin: usize, input: AnalogInput) {
        if let Some(slot) = self.inputs.get_mut(pin) {
            *slot = input;
        }
    }

    /// Fault: conversions never finish; OS stays 0 and the conversion register keeps its
    /// last value.
    pub fn set_stuck_conversion(&mut self, stuck: bool) {
        self.stuck = stuck;
    }

    /// Fault: the chip loses power and comes back with its reset registers (config 8583h,
    /// thresholds 8000h/7FFFh, conversion 0, pointer 0), powered down.
    pub fn power_on_reset(&mut self) {
        self.config = RESET_CONFIG;
        self.lo_thresh = 0x8000;
        self.hi_thresh = 0x7FFF;
        self.conversion = 0;
        self.pointer = 0;
        self.state = State::PowerDown;
        self.comparator_asserted = false;
        self.beyond_count = 0;
        self.last_rdy_pulse_ns = None;
    }

    /// Which chip this is.
    pub fn chip(&self) -> Chip {
        self.chip
    }

    /// The config register as the chip would return it at `now_ns`.
    pub fn config_register(&mut self, now_ns: u64) -> u16 {
        self.read_register(now_ns, 0b01)
    }

    /// (Lo_thresh, Hi_thresh) as the chip would return them.
    pub fn thresholds(&self) -> (u16, u16) {
        (self.lo_thresh_read(), self.hi_thresh_read())
    }

    /// Conversions completed by `now_ns` since the model was made.
    pub fn conversions(&mut self, now_ns: u64) -> u64 {
        self.advance(now_ns);
        self.conversions
    }

    /// Whether the chip is powered down at `now_ns` (single-shot mode between conversions).
    pub fn is_powered_down(&mut self, now_ns: u64) -> bool {
        self.advance(now_ns);
        self.state == State::PowerDown
    }

    /// The level of the ALERT/RDY pin at `now_ns`.
    pub fn alert_pin(&mut self, now_ns: u64) -> PinLevel {
        self.advance(now_ns);
        if self.config & 0b11 == COMP_QUE_DISABLE {
            return PinLevel::High; // high impedance, pulled up
        }
        let asserted = if self.ready_mode() {
            match self.state {
                State::Converting {
                    continuous: true, ..
                } => self
                    .last_rdy_pulse_ns
                    .is_some_and(|end| now_ns >= end && now_ns < end + RDY_PULSE_NS),
                // Single-shot: the pin follows OS, asserted once the conversion is done.
                _ => self.os_bit(now_ns),
            }
        } else {
            self.comparator_asserted
        };
        let active_high = self.config & COMP_POL_ACTIVE_HIGH != 0;
        if asserted == active_high {
            PinLevel::High
        } else {
            PinLevel::Low
        }
    }

    /// How many times ALERT/RDY has asserted: comparator assertions, conversion-ready pulses
    /// in continuous mode and conversion-ready assertions in single-shot mode, by `now_ns`.
    pub fn alert_assertions(&mut self, now_ns: u64) -> u64 {
        self.advance(now_ns);
        self.alert_assertions
    }

    /// Hi_thresh MSB 1 and Lo_thresh MSB 0 turn the comparator into conversion ready (9.3.8).
    fn ready_mode(&self) -> bool {
        self.hi_thresh & 0x8000 != 0 && self.lo_thresh & 0x8000 == 0
    }

    fn lo_thresh_read(&self) -> u16 {
        match self.chip {
            Chip::Ads1115 => self.lo_thresh,
            Chip::Ads1015 => self.lo_thresh & 0xFFF0,
        }
    }

    /// The ADS1015's Hi_thresh bits 3:0 are read-only ones (SBAS473E 9.6.4).
    fn hi_thresh_read(&self) -> u16 {
        match self.chip {
            Chip::Ads1115 => self.hi_thresh,
            Chip::Ads1015 => self.hi_thresh | 0x000F,
        }
    }

    fn period_ns(&self, settings: u16) -> u64 {
        let sps = self.chip.samples_per_second(settings >> 5) * (1.0 + self.rate_error);
        (1e9 / sps).ceil() as u64
    }

    /// OS as read: 1 when idle or still waking up, 0 while converting (always, in
    /// continuous mode).
    fn os_bit(&self, now_ns: u64) -> bool {
        match self.state {
            State::PowerDown => true,
            State::Converting {
                continuous: true, ..
            } => false,
            State::Converting { start_ns, .. } => now_ns < start_ns,
        }
    }

    /// Completes the conversions whose end has come by `now_ns`.
    fn advance(&mut self, now_ns: u64) {
        while let State::Converting {
            start_ns,
            end_ns,
            settings,
            continuous,
        } = self.state
        {
            if self.stuck || now_ns < end_ns {
                return;
            }
            self.complete(start_ns, end_ns, settings, continuous);
            self.state = if continuous {
                // New settings apply from the conversion after the one they arrived during.
                let settings = self.config;
                let period = self.period_ns(settings);
                // Far behind (a test jumped hours ahead): only the last conversions are
                // evaluated; the skipped ones are counted, with their ready pulses.
                let skipped = ((now_ns - end_ns) / period).saturating_sub(MAX_CATCH_UP);
                self.conversions += skipped;
                if self.ready_mode() && settings & 0b11 != COMP_QUE_DISABLE {
                    self.alert_assertions += skipped;
                }
                let start_ns = end_ns + skipped * period;
                State::Converting {
                    start_ns,
                    end_ns: start_ns + period,
                    settings,
                    continuous: true,
                }
            } else {
                State::PowerDown
            };
        }
    }

    /// One conversion with `settings` over [`start_ns`, `end_ns`]: the result into the
    /// conversion register, then the comparator or conversion-ready logic.
    fn complete(&mut self, start_ns: u64, end_ns: u64, settings: u16, continuous: bool) {
        self.conversions += 1;
        let (t0, t1) = (start_ns as f64 / 1e9, end_ns as f64 / 1e9);
        let (positive, negative) = match (settings >> 12) & 0b111 {
            0b000 => (Some(0), Some(1)),
            0b001 => (Some(0), Some(3)),
            0b010 => (Some(1), Some(3)),
            0b011 => (Some(2), Some(3)),
            mux => (Some(usize::from(mux as u8 - 0b100)), None),
        };
        let volts = self.pin_voltage(positive, t0, t1) - self.pin_voltage(negative, t0, t1);
        let fsr = match (settings >> 9) & 0b111 {
            0b000 => 6.144,
            0b001 => 4.096,
            0b010 => 2.048,
            0b011 => 1.024,
            0b100 => 0.512,
            _ => 0.256,
        };
        let bits = self.chip.resolution_bits();
        let steps = f64::from(1u32 << (bits - 1));
        let code = (volts / fsr * steps).round().clamp(-steps, steps - 1.0) as i16;
        self.conversion = (code << (16 - bits)) as u16;

        if settings & 0b11 == COMP_QUE_DISABLE {
            return;
        }
        if self.ready_mode() {
            // Continuous: a pulse per conversion. Single-shot: the pin asserts at the end.
            self.alert_assertions += 1;
            if continuous {
                self.last_rdy_pulse_ns = Some(end_ns);
            }
            return;
        }
        let shift = 16 - bits;
        let hi = (self.hi_thresh as i16) >> shift;
        let lo = (self.lo_thresh as i16) >> shift;
        let window = settings & COMP_MODE_WINDOW != 0;
        let beyond = code > hi || (window && code < lo);
        self.beyond_count = if beyond { self.beyond_count + 1 } else { 0 };
        let needed = match settings & 0b11 {
            0b00 => 1,
            0b01 => 2,
            _ => 4,
        };
        let before = self.comparator_asserted;
        if beyond && self.beyond_count >= needed {
            self.comparator_asserted = true;
        } else if settings & COMP_LAT == 0 {
            // Non-latching: the window comparator releases inside the window; the traditional
            // one only below Lo_thresh (hysteresis).
            let release = if window { !beyond } else { code < lo };
            if release {
                self.comparator_asserted = false;
            }
        }
        if self.comparator_asserted && !before {
            self.alert_assertions += 1;
        }
    }

    fn pin_voltage(&mut self, pin: Option<usize>, t0: f64, t1: f64) -> f64 {
        let Some(input) = pin.and_then(|p| self.inputs.get(p)).copied() else {
            return 0.0;
        };
        let noise = if input.noise_rms > 0.0 {
            self.noise.gaussian() * input.noise_rms
        } else {
            0.0
        };
        // The input protection diodes clamp beyond the supply rails.
        (input.mean(t0, t1) + noise).clamp(-0.3, self.supply_v + 0.3)
    }

    fn read_register(&mut self, now_ns: u64, register: u8) -> u16 {
        self.advance(now_ns);
        match register & 0b11 {
            0b00 => {
                // Reading the result clears a latched comparator (9.3.7).
                if self.config & COMP_LAT != 0 && !self.ready_mode() {
                    self.comparator_asserted = false;
                }
                self.conversion
            }
            0b01 => self.config | if self.os_bit(now_ns) { OS } else { 0 },
            0b10 => self.lo_thresh_read(),
            _ => self.hi_thresh_read(),
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u16) {
        self.advance(now_ns);
        match register & 0b11 {
            0b00 => {} // read-only
            0b01 => self.write_config(now_ns, value),
            0b10 => self.lo_thresh = value,
            _ => self.hi_thresh = value,
        }
    }

    fn write_config(&mut self, now_ns: u64, value: u16) {
        self.config = value & !OS;
        let continuous = value & MODE_SINGLE_SHOT == 0;
        match &mut self.state {
            State::PowerDown => {
                if continuous || value & OS != 0 {
                    let start_ns = now_ns + WAKE_UP_NS;
                    self.state = State::Converting {
                        start_ns,
                        end_ns: start_ns + self.period_ns(self.config),
                        settings: self.config,
                        continuous,
                    };
                    self.last_rdy_pulse_ns = None;
                }
            }
            // The conversion in progress finishes with its settings; whether the chip then
            // goes on converting follows MODE. OS = 1 now has no effect (9.4.2).
            State::Converting {
                continuous: running,
                ..
            } => *running = continuous,
        }
    }
}

/// I²C framing (9.5.3): the first byte of a write is the pointer; a write of a register
/// follows it with MSB and LSB. Reads return the pointed register, MSB first.
impl I2cTarget for Ads1x15Model {
    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        let Some(&pointer) = bytes.first() else {
            return;
        };
        self.pointer = pointer & 0b11;
        if let [_, msb, lsb, ..] = *bytes {
            self.write_register(now_ns, self.pointer, u16::from_be_bytes([msb, lsb]));
        }
    }

    fn read(&mut self, now_ns: u64, buf: &mut [u8]) {
        let value = self.read_register(now_ns, self.pointer).to_be_bytes();
        for (b, v) in buf.iter_mut().zip(value.iter().cycle()) {
            *b = *v;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unusual_byte_groupings)] // grouped by register field, as in the datasheet
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// OS | AIN0 vs GND | ±2.048 V | single-shot | 128 SPS | comparator off
    const START_AIN0: u16 = 0b1_100_010_1_100_0_0_0_11;

    #[test]
    fn single_shot_wakes_converts_and_powers_down() {
        let mut chip = Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(1.0));
        assert_eq!(chip.config_register(0), 0x8583);
        chip.write_register(0, 0b01, START_AIN0);
        // Still waking: OS reads 1 until the conversion starts after ~25 µs.
        assert_eq!(chip.config_register(10_000) & OS, OS);
        assert_eq!(chip.config_register(30_000) & OS, 0);
        // 1/128 s = 7.8125 ms after the wake-up: not yet, then done.
        assert_eq!(chip.read_register(25_000 + 7_812_000, 0), 0);
        assert_eq!(chip.config_register(25_000 + 7_812_500) & OS, OS);
        // 1 V / 62.5 µV = 16000.
        assert_eq!(chip.read_register(8 * MS, 0), 16_000);
        assert!(chip.is_powered_down(8 * MS));
        assert_eq!(chip.conversions(8 * MS), 1);
    }

    #[test]
    fn continuous_mode_updates_every_period_and_new_settings_wait_for_the_next() {
        let mut chip = Ads1x15Model::ads1115()
            .with_input(0, AnalogInput::dc(0.5))
            .with_input(1, AnalogInput::dc(1.5));
        // AIN0, ±2.048 V, continuous, 860 SPS.
        chip.write_register(0, 0b01, 0b0_100_010_0_111_0_0_0_11);
        let period = chip.period_ns(0b111 << 5);
        assert_eq!(period, 1_162_791);
        assert_eq!(chip.read_register(WAKE_UP_NS + period - 1, 0), 0);
        assert_eq!(chip.read_register(WAKE_UP_NS + period, 0), 8_000);
        assert_eq!(chip.config_register(WAKE_UP_NS + period) & OS, 0);
        // Switch to AIN1 in the middle of the second conversion: it still reports AIN0.
        let mid = WAKE_UP_NS + period + period / 2;
        chip.write_register(mid, 0b01, 0b0_101_010_0_111_0_0_0_11);
        assert_eq!(chip.read_register(WAKE_UP_NS + 2 * period, 0), 8_000);
        assert_eq!(chip.read_register(WAKE_UP_NS + 3 * period, 0), 24_000);
        assert_eq!(chip.conversions(WAKE_UP_NS + 3 * period), 3);
    }

    #[test]
    fn ads1015_results_are_left_justified_and_saturate() {
        let mut chip = Ads1x15Model::ads1015().with_supply(5.0);
        chip.set_input(2, AnalogInput::dc(1.0));
        // AIN2, ±2.048 V, single-shot, 3300 SPS (110).
        chip.write_register(0, 0b01, 0b1_110_010_1_110_0_0_0_11);
        assert_eq!(chip.read_register(MS, 0), 1000 << 4);
        chip.set_input(2, AnalogInput::dc(3.0));
        chip.write_register(MS, 0b01, 0b1_110_010_1_110_0_0_0_11);
        assert_eq!(chip.read_register(2 * MS, 0), 0x7FF0);
        // Hi_thresh bits 3:0 read as ones, Lo_thresh as zeros.
        chip.write_register(2 * MS, 0b11, 0x1234);
        chip.write_register(2 * MS, 0b10, 0x1234);
        assert_eq!(chip.thresholds(), (0x1230, 0x123F));
    }

    #[test]
    fn conversions_average_a_sine_over_the_period() {
        // 50 Hz at 8 SPS: a conversion spans 6.25 cycles, the sine averages to ~1/(2π·6.25)
        // of its amplitude at most.
        let input = AnalogInput::sine(0.0, 1.0, 50.0);
        assert!(input.mean(0.0, 0.125).abs() < 1.0 / (std::f64::consts::TAU * 6.25) + 1e-9);
        assert!((input.mean(0.0, 0.01) - 2.0 / std::f64::consts::PI).abs() < 1e-9);
    }

    #[test]
    fn traditional_comparator_has_hysteresis_and_queue() {
        let mut chip = Ads1x15Model::ads1115();
        chip.write_register(0, 0b10, 8_000); // 0.5 V at ±2.048 V
        chip.write_register(0, 0b11, 16_000); // 1.0 V
                                              // AIN0, continuous, 860 SPS, traditional, active low, non-latching, queue 2.
        chip.write_register(0, 0b01, 0b0_100_010_0_111_0_0_0_01);
        let period = chip.period_ns(0b111 << 5);
        let at = |n: u64| WAKE_UP_NS + n * period;
        chip.set_input(0, AnalogInput::dc(1.2));
        assert_eq!(chip.alert_pin(at(1)), PinLevel::High); // one conversion above: not yet
        assert_eq!(chip.alert_pin(at(2)), PinLevel::Low);
        chip.set_input(0, AnalogInput::dc(0.7)); // between the thresholds: stays asserted
        assert_eq!(chip.alert_pin(at(4)), PinLevel::Low);
        chip.set_input(0, AnalogInput::dc(0.3));
        assert_eq!(chip.alert_pin(at(6)), PinLevel::High);
        assert_eq!(chip.alert_assertions(at(6)), 1);
    }

    #[test]
    fn conversion_ready_pulses_in_continuous_mode() {
        let mut chip = Ads1x15Model::ads1115();
        chip.write_register(0, 0b10, 0x0000);
        chip.write_register(0, 0b11, 0x8000);
        chip.write_register(0, 0b01, 0b0_100_010_0_111_0_0_0_00);
        let period = chip.period_ns(0b111 << 5);
        let end = WAKE_UP_NS + 3 * period;
        assert_eq!(chip.alert_pin(end), PinLevel::Low);
        assert_eq!(chip.alert_pin(end + RDY_PULSE_NS - 1), PinLevel::Low);
        assert_eq!(chip.alert_pin(end + RDY_PULSE_NS), PinLevel::High);
        assert_eq!(chip.alert_assertions(end), 3);
    }
}
