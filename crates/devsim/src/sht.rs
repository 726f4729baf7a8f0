//! A command-level Sensirion SHT3x (SHT30/31/35) and SHT4x (SHT40/41/43/45).
//!
//! The model answers the same commands as the silicon, with the datasheets' timing:
//! - single shot (SHT3x 0x2400/0x240B/0x2416, SHT4x 0xFD/0xF6/0xE0): the result is ready after
//!   the measurement time; a read header before that is not acknowledged, as the chips do when
//!   a command without clock stretching is still running. A result is sent once; a second read
//!   finds nothing and is not acknowledged either. Commands that arrive while a measurement
//!   runs are dropped (the SHT3x flags them in status bit 1);
//! - SHT3x periodic mode (table 10 commands, ART at 4 Hz): measurements complete at the chosen
//!   rate; fetch (0xE000) hands over the latest one and clears it, so a fetch with nothing new
//!   is not acknowledged on the read. Break (0x3093) returns to single shot and leaves the
//!   chip deaf for 1 ms;
//! - soft reset (SHT3x 0x30A2, SHT4x 0x94): the chip does not answer its address for t_SR;
//!   the SHT3x then reports alert pending and reset detected (status 0x8010);
//! - SHT3x heater on/off, status read (heater bit, reset detected, command and write checksum
//!   bits) and clear; data writes (alert limits) have their CRC checked for status bit 0;
//! - SHT4x heater pulses (200/110/20 mW for 1 s or 0.1 s) that end with a high-precision
//!   measurement of the heated sensor;
//! - serial numbers (SHT3x 0x3780/0x3682, SHT4x 0x89), CRC-8 on every word sent.
//!
//! Signals: temperature and humidity from a constant or diurnal [`Signal`], with seeded noise
//! of the datasheet repeatability (taken as 3σ). The heater warms the sensor die with a
//! first-order lag; humidity is reported relative to the die temperature (the water vapour
//! pressure stays that of the air, Magnus formula), so heating lowers RH as on the real part.
//! Raw words come from the datasheet formulas inverted in floating point, independently of the
//! driver's integer path.

use crate::bus::I2cTarget;
use crate::noise::Noise;

/// Which family the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SHT30, SHT31, SHT35: 16-bit commands, status register, periodic mode, heater on/off.
    Sht3x,
    /// SHT40, SHT41, SHT43, SHT45: 8-bit commands, heater pulses.
    Sht4x,
}

/// What the sensor is exposed to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Climate {
    /// Air temperature, °C.
    pub temperature: f64,
    /// Relative humidity of the air at that temperature, %.
    pub humidity: f64,
}

impl Default for Climate {
    /// A mild indoor day.
    fn default() -> Self {
        Self {
            temperature: 21.5,
            humidity: 45.0,
        }
    }
}

/// How the climate changes over time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// Constant until the test changes it.
    Constant(Climate),
    /// A daily cycle around `mean`: temperature ±`temperature_swing` °C, humidity moving the
    /// opposite way by twice as many percent (warm afternoons are drier).
    Diurnal {
        /// Values at the cycle's midpoint.
        mean: Climate,
        /// Half the peak-to-peak temperature swing, °C.
        temperature_swing: f64,
        /// Seconds per cycle (86 400 for a real day).
        period_s: f64,
    },
}

impl Signal {
    fn at(&self, now_ns: u64) -> Climate {
        match *self {
            Self::Constant(climate) => climate,
            Self::Diurnal {
                mean,
                temperature_swing,
                period_s,
            } => {
                let phase = std::f64::consts::TAU * (now_ns as f64 / 1e9) / period_s.max(1e-3);
                Climate {
                    temperature: mean.temperature + temperature_swing * phase.sin(),
                    humidity: (mean.humidity - 2.0 * temperature_swing * phase.sin())
                        .clamp(0.0, 100.0),
                }
            }
        }
    }
}

/// How long the chip takes: the datasheets give typical and maximum times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timing {
    /// Typical times (a healthy part).
    #[default]
    Typical,
    /// Maximum times (a slow part at the edge of its specification).
    Maximum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeatability {
    High,
    Medium,
    Low,
}

impl Repeatability {
    /// Measurement time in µs (SHT3x datasheet table 4; SHT4x "System timing").
    fn measurement_us(self, family: Family, timing: Timing) -> u64 {
        let (typical, maximum) = match (family, self) {
            (Family::Sht3x, Self::High) => (12_500, 15_000),
            (Family::Sht3x, Self::Medium) => (4_500, 6_000),
            (Family::Sht3x, Self::Low) => (2_500, 4_000),
            (Family::Sht4x, Self::High) => (6_900, 8_300),
            (Family::Sht4x, Self::Medium) => (3_700, 4_500),
            (Family::Sht4x, Self::Low) => (1_300, 1_600),
        };
        match timing {
            Timing::Typical => typical,
            Timing::Maximum => maximum,
        }
    }

    /// Repeatability (3σ) of temperature (°C) and humidity (%RH), from the datasheets.
    fn three_sigma(self, family: Family) -> (f64, f64) {
        match (family, self) {
            (Family::Sht3x, Self::High) => (0.04, 0.08),
            (Family::Sht3x, Self::Medium) => (0.08, 0.15),
            (Family::Sht3x, Self::Low) => (0.15, 0.21),
            (Family::Sht4x, Self::High) => (0.04, 0.08),
            (Family::Sht4x, Self::Medium) => (0.07, 0.15),
            (Family::Sht4x, Self::Low) => (0.1, 0.25),
        }
    }
}

/// Sensirion's CRC-8 (polynomial 0x31, init 0xFF), written here independently of the driver.
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0xFF, |crc, &byte| {
        (0..8).fold(crc ^ byte, |c, _| {
            if c & 0x80 != 0 {
                (c << 1) ^ 0x31
            } else {
                c << 1
            }
        })
    })
}

/// Two words, each followed by its CRC.
fn frame(first: u16, second: u16) -> [u8; 6] {
    let [a, b] = first.to_be_bytes();
    let [c, d] = second.to_be_bytes();
    [a, b, crc8(&[a, b]), c, d, crc8(&[c, d])]
}

/// Saturation vapour pressure over water, hPa (Magnus, WMO coefficients).
fn saturation_vapour_pressure(celsius: f64) -> f64 {
    6.112 * (17.62 * celsius / (243.12 + celsius)).exp()
}

/// The die's temperature above the air, relaxing towards `target` (the heater's steady-state
/// rise, 0 when off) with time constant `tau_s`; after `until_ns` (end of an SHT4x pulse) it
/// relaxes towards 0.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Thermal {
    since_ns: u64,
    excess: f64,
    target: f64,
    until_ns: Option<u64>,
    tau_s: f64,
}

impl Thermal {
    fn excess_at(&self, now_ns: u64) -> f64 {
        let relax = |from: f64, to: f64, dt_ns: u64| {
            to + (from - to) * (-(dt_ns as f64 / 1e9) / self.tau_s).exp()
        };
        match self.until_ns {
            Some(until) if now_ns > until => {
                let at_end = relax(self.excess, self.target, until - self.since_ns);
                relax(at_end, 0.0, now_ns - until)
            }
            _ => relax(
                self.excess,
                self.target,
                now_ns.saturating_sub(self.since_ns),
            ),
        }
    }

    /// From `now_ns` on, heat towards `target` (until `until_ns`, if given).
    fn heat(&mut self, now_ns: u64, target: f64, until_ns: Option<u64>) {
        self.excess = self.excess_at(now_ns);
        self.since_ns = now_ns;
        self.target = target;
        self.until_ns = until_ns;
    }
}

/// SHT3x heater: a rise of a few °C (datasheet 4.10), reached within seconds.
const SHT3X_HEATER_RISE_C: f64 = 4.0;
const SHT3X_THERMAL_TAU_S: f64 = 3.0;
/// SHT4x heater: steady-state rise per mW and time constant, such that a 1 s pulse at 200 mW
/// heats the die by about 50 °C and one at 20 mW by about 5 °C.
const SHT4X_KELVIN_PER_MW: f64 = 0.3;
const SHT4X_THERMAL_TAU_S: f64 = 0.6;
/// SHT3x status bits (table 18).
const STATUS_ALERT_PENDING: u16 = 1 << 15;
const STATUS_HEATER: u16 = 1 << 13;
const STATUS_RESET_DETECTED: u16 = 1 << 4;
const STATUS_COMMAND_FAILED: u16 = 1 << 1;
const STATUS_WRITE_CRC_FAILED: u16 = 1;
/// The SHT3x takes 1 ms to stop periodic acquisition after a break (4.8).
const BREAK_NS: u64 = 1_000_000;

/// What the chip will send to the next read header, from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Output {
    bytes: [u8; 6],
    ready_ns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Periodic {
    start_ns: u64,
    period_ns: u64,
    repeatability: Repeatability,
    /// Index of the last measurement handed over by a fetch.
    fetched: Option<u64>,
}

/// A simulated SHT3x or SHT4x.
#[derive(Debug, Clone)]
pub struct ShtModel {
    family: Family,
    serial: u32,
    timing: Timing,
    signal: Signal,
    noise: Option<Noise>,
    output: Option<Output>,
    periodic: Option<Periodic>,
    /// Until then the chip does not answer its address at all (reset, break).
    deaf_until_ns: u64,
    status: u16,
    heater_on: bool,
    thermal: Thermal,
    stuck_busy: bool,
    measurements: u64,
    dropped_commands: u64,
}

impl ShtModel {
    /// An SHT3x (e.g. SHT31) in an indoor climate, without noise, as after power-on.
    pub fn sht3x() -> Self {
        Self::new(Family::Sht3x, 0x1A2B_3C4D)
    }

    /// An SHT4x (e.g. SHT40) in an indoor climate, without noise, as after power-on.
    pub fn sht4x() -> Self {
        Self::new(Family::Sht4x, 0x0F1E_2D3C)
    }

    fn new(family: Family, serial: u32) -> Self {
        let tau_s = match family {
            Family::Sht3x => SHT3X_THERMAL_TAU_S,
            Family::Sht4x => SHT4X_THERMAL_TAU_S,
        };
        Self {
            family,
            serial,
            timing: Timing::Typical,
            signal: Signal::Constant(Climate::default()),
            noise: None,
            output: None,
            periodic: None,
            deaf_until_ns: 0,
            status: STATUS_ALERT_PENDING | STATUS_RESET_DETECTED,
            heater_on: false,
            thermal: Thermal {
                since_ns: 0,
                excess: 0.0,
                target: 0.0,
                until_ns: None,
                tau_s,
            },
            stuck_busy: false,
            measurements: 0,
            dropped_commands: 0,
        }
    }

    /// Sets the serial number the chip reports.
    pub fn with_serial(mut self, serial: u32) -> Self {
        self.serial = serial;
        self
    }

    /// Adds noise of the datasheet repeatability for the measurement's setting.
    pub fn with_noise(mut self, seed: u64) -> Self {
        self.noise = Some(Noise::seeded(seed));
        self
    }

    /// Sets typical or maximum timing.
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Sets a varying climate.
    pub fn with_signal(mut self, signal: Signal) -> Self {
        self.signal = signal;
        self
    }

    /// Sets a constant climate; the next measurement sees it.
    pub fn set_climate(&mut self, climate: Climate) {
        self.signal = Signal::Constant(climate);
    }

    /// Fault: no measurement ever completes; every read header is refused.
    pub fn set_stuck_busy(&mut self, stuck: bool) {
        self.stuck_busy = stuck;
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The serial number.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Measurements taken since power-on (single shots, heater pulses, fetched periodic
    /// results).
    pub fn measurements(&self) -> u64 {
        self.measurements
    }

    /// Commands dropped because a measurement was running, or unknown (SHT3x status bit 1).
    pub fn dropped_commands(&self) -> u64 {
        self.dropped_commands
    }

    /// Whether SHT3x periodic acquisition runs.
    pub fn is_periodic(&self) -> bool {
        self.periodic.is_some()
    }

    /// Whether the SHT3x heater is on.
    pub fn heater_on(&self) -> bool {
        self.heater_on
    }

    /// The SHT3x status register as the chip would report it now.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// How far the heater has warmed the sensor above the air at `now_ns`, °C.
    pub fn heating_at(&self, now_ns: u64) -> f64 {
        self.thermal.excess_at(now_ns)
    }

    fn ns(us: u64) -> u64 {
        us * 1_000
    }

    fn soft_reset_ns(&self) -> u64 {
        // SHT3x t_SR typ 0.5, max 1.5 ms; SHT4x max 1 ms (no typical given).
        let us = match (self.family, self.timing) {
            (Family::Sht3x, Timing::Typical) => 500,
            (Family::Sht3x, Timing::Maximum) => 1_500,
            (Family::Sht4x, _) => 1_000,
        };
        Self::ns(us)
    }

    fn busy(&self, now_ns: u64) -> bool {
        self.output.is_some_and(|o| now_ns < o.ready_ns)
    }

    /// Takes one measurement at `at_ns` as the chip's words (T, RH).
    fn measure(&mut self, at_ns: u64, repeatability: Repeatability) -> [u8; 6] {
        self.measurements += 1;
        let air = self.signal.at(at_ns);
        let die = air.temperature + self.thermal.excess_at(at_ns);
        // The air's vapour pressure, at the die's temperature.
        let humidity = air.humidity.clamp(0.0, 100.0) * saturation_vapour_pressure(air.temperature)
            / saturation_vapour_pressure(die);
        let (t_3sigma, rh_3sigma) = repeatability.three_sigma(self.family);
        let (temperature, humidity) = match &mut self.noise {
            Some(noise) => (
                die + noise.gaussian() * t_3sigma / 3.0,
                humidity + noise.gaussian() * rh_3sigma / 3.0,
            ),
            None => (die, humidity),
        };
        let word = |value: f64| value.round().clamp(0.0, 65_535.0) as u16;
        // T = −45 + 175 · S / (2¹⁶ − 1); RH = 100 · S / (2¹⁶ − 1) or −6 + 125 · S / (2¹⁶ − 1).
        let s_t = word((temperature + 45.0) * 65_535.0 / 175.0);
        let s_rh = match self.family {
            Family::Sht3x => word(humidity * 65_535.0 / 100.0),
            Family::Sht4x => word((humidity + 6.0) * 65_535.0 / 125.0),
        };
        frame(s_t, s_rh)
    }

    fn single_shot(&mut self, now_ns: u64, repeatability: Repeatability) {
        let ready_ns = now_ns + Self::ns(repeatability.measurement_us(self.family, self.timing));
        let bytes = self.measure(ready_ns, repeatability);
        self.output = Some(Output { bytes, ready_ns });
    }

    fn send_after(&mut self, now_ns: u64, delay_us: u64, first: u16, second: u16) {
        self.output = Some(Output {
            bytes: frame(first, second),
            ready_ns: now_ns + Self::ns(delay_us),
        });
    }

    fn serial_words(&self) -> (u16, u16) {
        ((self.serial >> 16) as u16, self.serial as u16)
    }

    fn power_on_state(&mut self, now_ns: u64) {
        self.output = None;
        self.periodic = None;
        self.heater_on = false;
        self.thermal.heat(now_ns, 0.0, None);
        self.status = STATUS_ALERT_PENDING | STATUS_RESET_DETECTED;
        self.deaf_until_ns = now_ns + self.soft_reset_ns();
    }

    /// Hands over the latest periodic result, if newer than the last one fetched.
    fn fetch(&mut self, now_ns: u64) {
        self.output = None;
        let Some(mut periodic) = self.periodic else {
            return;
        };
        let measure_ns = Self::ns(
            periodic
                .repeatability
                .measurement_us(self.family, self.timing),
        );
        let Some(since_first) = now_ns.checked_sub(periodic.start_ns + measure_ns) else {
            return;
        };
        if self.stuck_busy {
            return;
        }
        let latest = since_first / periodic.period_ns;
        if periodic.fetched.is_some_and(|f| f >= latest) {
            return;
        }
        let at_ns = periodic.start_ns + latest * periodic.period_ns + measure_ns;
        let bytes = self.measure(at_ns, periodic.repeatability);
        self.output = Some(Output {
            bytes,
            ready_ns: now_ns,
        });
        periodic.fetched = Some(latest);
        self.periodic = Some(periodic);
    }

    fn start_periodic(&mut self, now_ns: u64, period_ns: u64, repeatability: Repeatability) {
        self.output = None;
        self.periodic = Some(Periodic {
            start_ns: now_ns,
            period_ns,
            repeatability,
            fetched: None,
        });
    }

    fn set_heater(&mut self, now_ns: u64, on: bool) {
        self.heater_on = on;
        let target = if on { SHT3X_HEATER_RISE_C } else { 0.0 };
        self.thermal.heat(now_ns, target, None);
    }

    /// Decodes one SHT3x command (datasheet tables 9-19). Returns whether it was valid.
    fn sht3x_command(&mut self, now_ns: u64, command: u16, data: &[u8]) -> bool {
        use Repeatability::*;
        let periodic =
            |mps_period_ms: u64, repeatability| (mps_period_ms * 1_000_000, repeatability);
        let start = match command {
            0x2032 => Some(periodic(2_000, High)),
            0x2024 => Some(periodic(2_000, Medium)),
            0x202F => Some(periodic(2_000, Low)),
            0x2130 => Some(periodic(1_000, High)),
            0x2126 => Some(periodic(1_000, Medium)),
            0x212D => Some(periodic(1_000, Low)),
            0x2236 => Some(periodic(500, High)),
            0x2220 => Some(periodic(500, Medium)),
            0x222B => Some(periodic(500, Low)),
            0x2334 => Some(periodic(250, High)),
            0x2322 => Some(periodic(250, Medium)),
            0x2329 => Some(periodic(250, Low)),
            0x2737 => Some(periodic(100, High)),
            0x2721 => Some(periodic(100, Medium)),
            0x272A => Some(periodic(100, Low)),
            0x2B32 => Some(periodic(250, High)), // ART: 4 Hz
            _ => None,
        };
        if let Some((period_ns, repeatability)) = start {
            if self.periodic.is_some() {
                return false; // the datasheet asks for a break first
            }
            self.start_periodic(now_ns, period_ns, repeatability);
            return true;
        }
        match (command, self.periodic.is_some()) {
            (0x2400, false) => self.single_shot(now_ns, High),
            (0x240B, false) => self.single_shot(now_ns, Medium),
            (0x2416, false) => self.single_shot(now_ns, Low),
            (0xE000, true) => self.fetch(now_ns),
            (0x3093, _) => {
                self.periodic = None;
                self.output = None;
                self.deaf_until_ns = now_ns + BREAK_NS;
            }
            (0x30A2, _) => self.power_on_state(now_ns),
            (0x306D, _) => self.set_heater(now_ns, true),
            (0x3066, _) => self.set_heater(now_ns, false),
            (0xF32D, _) => self.send_after(now_ns, 0, self.status, 0),
            (0x3041, _) => {
                self.status &= !(STATUS_ALERT_PENDING | STATUS_RESET_DETECTED | (0b11 << 10));
            }
            (0x3780 | 0x3682, false) => {
                let (high, low) = self.serial_words();
                self.send_after(now_ns, 0, high, low);
            }
            // Alert limits: one data word with its CRC (table 20 applies to writes too).
            (0x611D | 0x6116 | 0x610B | 0x6100, _) if data.len() == 3 => {
                if crc8(&data[..2]) != data[2] {
                    self.status |= STATUS_WRITE_CRC_FAILED;
                    return false;
                }
            }
            _ => return false,
        }
        true
    }

    /// Decodes one SHT4x command (datasheet "Command Overview").
    fn sht4x_command(&mut self, now_ns: u64, command: u8) {
        use Repeatability::*;
        let pulse = |milliwatts: f64, long: bool| (milliwatts, long);
        let heater = match command {
            0xFD => return self.single_shot(now_ns, High),
            0xF6 => return self.single_shot(now_ns, Medium),
            0xE0 => return self.single_shot(now_ns, Low),
            0x94 => return self.power_on_state(now_ns),
            0x89 => {
                // Not ready at once: an immediate read header is refused.
                let (high, low) = self.serial_words();
                let delay_us = match self.timing {
                    Timing::Typical => 500,
                    Timing::Maximum => 1_000,
                };
                return self.send_after(now_ns, delay_us, high, low);
            }
            0x39 => pulse(200.0, true),
            0x32 => pulse(200.0, false),
            0x2F => pulse(110.0, true),
            0x24 => pulse(110.0, false),
            0x1E => pulse(20.0, true),
            0x15 => pulse(20.0, false),
            _ => {
                self.dropped_commands += 1;
                return;
            }
        };
        let (milliwatts, long) = heater;
        // 1 s or 0.1 s nominal, 1.1 s or 0.11 s at most; the measurement ends the pulse.
        let duration_us = match (long, self.timing) {
            (true, Timing::Typical) => 1_000_000,
            (true, Timing::Maximum) => 1_100_000,
            (false, Timing::Typical) => 100_000,
            (false, Timing::Maximum) => 110_000,
        };
        let end_ns = now_ns + Self::ns(duration_us);
        self.thermal
            .heat(now_ns, milliwatts * SHT4X_KELVIN_PER_MW, Some(end_ns));
        let bytes = self.measure(end_ns, High);
        self.output = Some(Output {
            bytes,
            ready_ns: end_ns,
        });
    }
}

impl I2cTarget for ShtModel {
    fn acknowledges(&mut self, now_ns: u64, read: bool) -> bool {
        if now_ns < self.deaf_until_ns {
            return false;
        }
        if !read {
            return true;
        }
        !self.stuck_busy && self.output.is_some_and(|o| now_ns >= o.ready_ns)
    }

    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        if self.busy(now_ns) {
            self.dropped_commands += 1;
            self.status |= STATUS_COMMAND_FAILED;
            return;
        }
        match self.family {
            Family::Sht3x => {
                let (command, data) = match bytes {
                    [msb, lsb, data @ ..] if data.is_empty() || data.len() == 3 => {
                        (u16::from_be_bytes([*msb, *lsb]), data)
                    }
                    _ => {
                        self.dropped_commands += 1;
                        self.status |= STATUS_COMMAND_FAILED;
                        return;
                    }
                };
                if self.sht3x_command(now_ns, command, data) {
                    // Bits 1 and 0 describe the last command; a status read reports, not
                    // replaces, them.
                    if command != 0xF32D {
                        self.status &= !(STATUS_COMMAND_FAILED | STATUS_WRITE_CRC_FAILED);
                    }
                } else {
                    self.dropped_commands += 1;
                    self.status |= STATUS_COMMAND_FAILED;
                }
                if self.heater_on {
                    self.status |= STATUS_HEATER;
                } else {
                    self.status &= !STATUS_HEATER;
                }
            }
            Family::Sht4x => match bytes {
                [command] => self.sht4x_command(now_ns, *command),
                _ => self.dropped_commands += 1,
            },
        }
    }

    fn read(&mut self, _now_ns: u64, buf: &mut [u8]) {
        // The bus asked `acknowledges` first, so a result is ready. It is sent once; the
        // chip drives 0xFF past its end.
        let bytes = self.output.take().map(|o| o.bytes).unwrap_or([0xFF; 6]);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = bytes.get(i).copied().unwrap_or(0xFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8]) -> u16 {
        u16::from_be_bytes([bytes[0], bytes[1]])
    }

    #[test]
    fn crc_matches_the_datasheet_example() {
        assert_eq!(crc8(&[0xBE, 0xEF]), 0x92);
    }

    #[test]
    fn sht3x_single_shot_refuses_reads_until_the_measurement_time() {
        let mut chip = ShtModel::sht3x().with_timing(Timing::Maximum);
        chip.write(0, &[0x24, 0x00]);
        assert!(!chip.acknowledges(14_999_999, true));
        assert!(chip.acknowledges(15_000_000, true));
        let mut buf = [0u8; 6];
        chip.read(15_000_000, &mut buf);
        assert_eq!(crc8(&buf[..2]), buf[2]);
        assert_eq!(crc8(&buf[3..5]), buf[5]);
        // 21.5 °C → S = 66.5 / 175 · 65535 = 24903.3; 45 %RH → 29490.75
        assert_eq!((word(&buf), word(&buf[3..])), (24_903, 29_491));
        // Sent once.
        assert!(!chip.acknowledges(16_000_000, true));
    }

    #[test]
    fn sht4x_humidity_uses_its_own_offset() {
        let mut chip = ShtModel::sht4x();
        chip.write(0, &[0xE0]);
        assert!(!chip.acknowledges(1_299_999, true));
        let mut buf = [0u8; 6];
        chip.read(1_300_000, &mut buf);
        // (45 + 6) / 125 · 65535 = 26738.3
        assert_eq!(word(&buf[3..]), 26_738);
    }

    #[test]
    fn reset_and_break_make_the_chip_deaf_for_their_datasheet_time() {
        let mut chip = ShtModel::sht3x().with_timing(Timing::Maximum);
        chip.write(0, &[0x30, 0xA2]);
        assert!(!chip.acknowledges(1_499_999, false));
        assert!(chip.acknowledges(1_500_000, false));
        chip.write(2_000_000, &[0x30, 0x93]);
        assert!(!chip.acknowledges(2_999_999, false));
        assert!(chip.acknowledges(3_000_000, false));
    }

    #[test]
    fn status_reports_reset_heater_and_failed_commands() {
        let mut chip = ShtModel::sht3x();
        assert_eq!(chip.status(), 0x8010);
        chip.write(0, &[0x30, 0x41]);
        assert_eq!(chip.status(), 0x0000);
        chip.write(0, &[0x30, 0x6D]);
        assert_eq!(chip.status(), 0x2000);
        chip.write(0, &[0x12, 0x34]);
        assert_eq!(chip.status(), 0x2002);
        // A limit write with a bad CRC.
        chip.write(0, &[0x61, 0x1D, 0xBE, 0xEF, 0x00]);
        assert_eq!(chip.status(), 0x2003);
        chip.write(0, &[0x61, 0x1D, 0xBE, 0xEF, 0x92]);
        assert_eq!(chip.status(), 0x2000);
    }

    #[test]
    fn periodic_results_come_once_per_period() {
        let mut chip = ShtModel::sht3x();
        chip.write(0, &[0x27, 0x37]); // 10 mps, high: first result after 12.5 ms
        chip.write(12_000_000, &[0xE0, 0x00]);
        assert!(!chip.acknowledges(12_000_000, true));
        chip.write(13_000_000, &[0xE0, 0x00]);
        assert!(chip.acknowledges(13_000_000, true));
        chip.read(13_000_000, &mut [0; 6]);
        chip.write(50_000_000, &[0xE0, 0x00]);
        assert!(!chip.acknowledges(50_000_000, true));
        chip.write(112_500_000, &[0xE0, 0x00]);
        assert!(chip.acknowledges(112_500_000, true));
        assert_eq!(chip.measurements(), 2);
    }

    #[test]
    fn heating_raises_temperature_and_lowers_humidity() {
        let mut chip = ShtModel::sht4x();
        chip.write(0, &[0x39]); // 200 mW, 1 s
        let mut heated = [0u8; 6];
        assert!(!chip.acknowledges(999_999_999, true));
        chip.read(1_000_000_000, &mut heated);
        let t = -45.0 + 175.0 * f64::from(word(&heated)) / 65_535.0;
        let rh = -6.0 + 125.0 * f64::from(word(&heated[3..])) / 65_535.0;
        // 60 °C · (1 − e^(−1/0.6)) = 48.7 °C above the air; the air's vapour at 70 °C is
        // under 4 %RH.
        assert!((t - 70.2).abs() < 0.1, "{t}");
        assert!(rh < 4.0, "{rh}");
        // It cools back with the same time constant.
        assert!(chip.heating_at(5_000_000_000) < 0.1);
    }
}
