//! A register-level Bosch BME280/BMP280.
//!
//! The model answers the same register reads and writes as the silicon: chip id, soft reset
//! with the NVM copy (`im_update`), the trimming registers, ctrl_hum/ctrl_meas/config with the
//! datasheet's rules (ctrl_hum takes effect on the next ctrl_meas write; config is ignored in
//! normal mode), the `measuring` bit for the conversion time, forced and normal mode with
//! standby, and data registers holding raw ADC values.
//!
//! The ADC values are produced from a physical temperature, pressure and humidity by inverting
//! Bosch's double-precision compensation formulas (implemented here, independently of the
//! driver's integer path), then reduced to the resolution the oversampling gives (16 + osrs − 1
//! bits with the filter off, 20 bits with it on) and passed through the IIR filter.

use crate::bus::{I2cTarget, SpiTarget};
use crate::noise::Noise;

/// Trimming parameters as the chip stores them (datasheet table 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Trimming {
    pub t: (u16, i16, i16),
    pub p: (u16, i16, i16, i16, i16, i16, i16, i16, i16),
    pub h: (u8, i16, u8, i16, i16, i8),
}

impl Default for Trimming {
    /// The trimming of a real BME280, as read from a production part's NVM.
    fn default() -> Self {
        Self {
            t: (28209, 26575, 50),
            p: (37882, -10739, 3024, 6140, -8, -7, 9900, -10230, 4285),
            h: (75, 354, 0, 339, 0, 30),
        }
    }
}

impl Trimming {
    /// The BMP280 datasheet's worked-example trimming (section 3.12); humidity from a real part.
    pub fn datasheet_example() -> Self {
        Self {
            t: (27504, 26435, -1000),
            p: (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000),
            h: (75, 354, 0, 339, 0, 30),
        }
    }

    /// Register images of 0x88..0xA1 and 0xE1..0xE7.
    pub fn to_registers(&self) -> ([u8; 26], [u8; 7]) {
        let (t1, t2, t3) = self.t;
        let (p1, p2, p3, p4, p5, p6, p7, p8, p9) = self.p;
        let words = [
            t1, t2 as u16, t3 as u16, p1, p2 as u16, p3 as u16, p4 as u16, p5 as u16, p6 as u16,
            p7 as u16, p8 as u16, p9 as u16,
        ];
        let mut tp = [0u8; 26];
        for (i, w) in words.iter().enumerate() {
            tp[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
        }
        let (h1, h2, h3, h4, h5, h6) = self.h;
        tp[25] = h1;
        let [h2l, h2h] = h2.to_le_bytes();
        let (h4, h5) = (h4 as u16, h5 as u16);
        let h = [
            h2l,
            h2h,
            h3,
            (h4 >> 4) as u8,
            (h4 & 0x0F) as u8 | (((h5 & 0x0F) as u8) << 4),
            (h5 >> 4) as u8,
            h6 as u8,
        ];
        (tp, h)
    }

    /// Temperature (°C) and t_fine for a raw value (Bosch's double formula).
    fn temperature(&self, adc: f64) -> (f64, f64) {
        let (t1, t2, t3) = (
            f64::from(self.t.0),
            f64::from(self.t.1),
            f64::from(self.t.2),
        );
        let var1 = (adc / 16384.0 - t1 / 1024.0) * t2;
        let d = adc / 131_072.0 - t1 / 8192.0;
        let var2 = d * d * t3;
        ((var1 + var2) / 5120.0, (var1 + var2).trunc())
    }

    fn pressure(&self, adc: f64, t_fine: f64) -> f64 {
        let (p1, p2, p3, p4, p5, p6, p7, p8, p9) = self.p;
        let mut var1 = t_fine / 2.0 - 64000.0;
        let mut var2 = var1 * var1 * f64::from(p6) / 32768.0;
        var2 += var1 * f64::from(p5) * 2.0;
        var2 = var2 / 4.0 + f64::from(p4) * 65536.0;
        var1 = (f64::from(p3) * var1 * var1 / 524_288.0 + f64::from(p2) * var1) / 524_288.0;
        var1 = (1.0 + var1 / 32768.0) * f64::from(p1);
        if var1 == 0.0 {
            return 0.0;
        }
        let mut p = 1_048_576.0 - adc;
        p = (p - var2 / 4096.0) * 6250.0 / var1;
        p + (f64::from(p9) * p * p / 2_147_483_648.0 + p * f64::from(p8) / 32768.0 + f64::from(p7))
            / 16.0
    }

    /// Unclamped, so that the inversion stays monotonic near 0 and 100 %.
    fn humidity(&self, adc: f64, t_fine: f64) -> f64 {
        let (h1, h2, h3, h4, h5, h6) = self.h;
        let v = t_fine - 76800.0;
        let h = (adc - (f64::from(h4) * 64.0 + f64::from(h5) / 16384.0 * v))
            * (f64::from(h2) / 65536.0
                * (1.0
                    + f64::from(h6) / 67_108_864.0 * v * (1.0 + f64::from(h3) / 67_108_864.0 * v)));
        h * (1.0 - f64::from(h1) * h / 524_288.0)
    }
}

/// The raw value in `0..=max` whose compensated value is closest to `target`, for a
/// compensation `f` that is monotonic in the raw value (binary search; 20 steps for 20 bits).
fn invert(max: u32, target: f64, f: impl Fn(f64) -> f64) -> u32 {
    let increasing = f(f64::from(max)) > f(0.0);
    let (mut lo, mut hi) = (0u32, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let below = if increasing {
            f(f64::from(mid)) < target
        } else {
            f(f64::from(mid)) > target
        };
        if below {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    // lo is the first raw value at or past the target; its predecessor may be closer.
    if lo > 0 && (f(f64::from(lo - 1)) - target).abs() <= (f(f64::from(lo)) - target).abs() {
        lo - 1
    } else {
        lo
    }
}

/// What the chip is exposed to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Environment {
    /// Degrees Celsius.
    pub temperature: f64,
    /// Pascals.
    pub pressure: f64,
    /// Percent relative humidity.
    pub humidity: f64,
}

impl Default for Environment {
    /// A mild indoor day at sea level.
    fn default() -> Self {
        Self {
            temperature: 21.5,
            pressure: 101_325.0,
            humidity: 45.0,
        }
    }
}

/// How the environment changes over time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// Constant until the test changes it.
    Constant(Environment),
    /// A daily cycle around `mean`: temperature ±`temperature_swing` °C, humidity moving
    /// opposite to it (warm air is drier), pressure drifting ±150 Pa over the same period.
    Diurnal {
        /// Values at the cycle's midpoint.
        mean: Environment,
        /// Half the peak-to-peak temperature swing, °C.
        temperature_swing: f64,
        /// Seconds per cycle (86 400 for a real day; shorter to see change in a demo).
        period_s: f64,
    },
}

impl Signal {
    fn at(&self, now_ns: u64) -> Environment {
        match *self {
            Self::Constant(env) => env,
            Self::Diurnal {
                mean,
                temperature_swing,
                period_s,
            } => {
                let phase = std::f64::consts::TAU * (now_ns as f64 / 1e9) / period_s.max(1e-3);
                Environment {
                    temperature: mean.temperature + temperature_swing * phase.sin(),
                    pressure: mean.pressure + 150.0 * (phase / 3.0).cos(),
                    humidity: (mean.humidity - 2.0 * temperature_swing * phase.sin())
                        .clamp(0.0, 100.0),
                }
            }
        }
    }
}

/// Which chip the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// BME280, chip id 0x60.
    Bme280,
    /// BMP280 with the given chip id (0x58 for production parts).
    Bmp280(u8),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Conversion {
    Idle,
    Forced { end_ns: u64 },
    Normal { start_ns: u64, latched_cycles: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpiState {
    Control,
    Read(u8),
    Write(u8),
}

/// How long a conversion takes: the datasheet gives a typical and a maximum time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConversionTime {
    /// t_measure,typ (a healthy part).
    #[default]
    Typical,
    /// t_measure,max (a slow part at the edge of its specification).
    Maximum,
}

/// Time the chip needs after reset to copy its NVM into the image registers.
const NVM_COPY_NS: u64 = 1_000_000;

/// A simulated BME280 or BMP280.
#[derive(Debug, Clone)]
pub struct Bme280Model {
    variant: Variant,
    trimming: Trimming,
    nvm_tp: [u8; 26],
    nvm_h: [u8; 7],
    ctrl_hum: u8,
    /// ctrl_hum as last latched by a ctrl_meas write: what conversions use.
    ctrl_hum_active: u8,
    ctrl_meas: u8,
    config: u8,
    data: [u8; 8],
    pointer: u8,
    spi: SpiState,
    conversion: Conversion,
    nvm_copy_until_ns: u64,
    signal: Signal,
    noise: Option<Noise>,
    conversion_time: ConversionTime,
    /// IIR filter state (raw temperature, raw pressure).
    filtered: Option<(f64, f64)>,
    stuck_busy: bool,
    conversions: u64,
}

impl Default for Bme280Model {
    fn default() -> Self {
        Self::bme280()
    }
}

impl Bme280Model {
    /// A BME280 with a real part's trimming, in an indoor environment, without noise.
    pub fn bme280() -> Self {
        Self::new(Variant::Bme280, Trimming::default())
    }

    /// A production BMP280 (chip id 0x58): no humidity.
    pub fn bmp280() -> Self {
        Self::new(Variant::Bmp280(0x58), Trimming::default())
    }

    /// A chip of `variant` with `trimming`, as after power-on.
    pub fn new(variant: Variant, trimming: Trimming) -> Self {
        let (nvm_tp, nvm_h) = trimming.to_registers();
        let mut model = Self {
            variant,
            trimming,
            nvm_tp,
            nvm_h,
            ctrl_hum: 0,
            ctrl_hum_active: 0,
            ctrl_meas: 0,
            config: 0,
            data: [0; 8],
            pointer: 0,
            spi: SpiState::Control,
            conversion: Conversion::Idle,
            nvm_copy_until_ns: 0,
            signal: Signal::Constant(Environment::default()),
            noise: None,
            conversion_time: ConversionTime::Typical,
            filtered: None,
            stuck_busy: false,
            conversions: 0,
        };
        model.power_on_reset(0);
        model
    }

    /// Adds measurement noise of roughly the datasheet's RMS figures at ×1 oversampling
    /// (0.005 °C, 3.3 Pa, 0.02 %RH), shrinking with the square root of the oversampling.
    pub fn with_noise(mut self, seed: u64) -> Self {
        self.noise = Some(Noise::seeded(seed));
        self
    }

    /// Sets how long conversions take.
    pub fn with_conversion_time(mut self, time: ConversionTime) -> Self {
        self.conversion_time = time;
        self
    }

    /// Sets a varying environment.
    pub fn with_signal(mut self, signal: Signal) -> Self {
        self.signal = signal;
        self
    }

    /// Sets a constant environment; the next conversion measures it.
    pub fn set_environment(&mut self, environment: Environment) {
        self.signal = Signal::Constant(environment);
    }

    /// Fault: the `measuring` bit stays set and no conversion completes.
    pub fn set_stuck_busy(&mut self, stuck: bool) {
        self.stuck_busy = stuck;
    }

    /// Fault: the trimming registers read as `byte` (a blank or failed NVM).
    pub fn set_blank_nvm(&mut self, byte: u8) {
        self.nvm_tp = [byte; 26];
        self.nvm_h = [byte; 7];
    }

    /// The trimming the chip reports.
    pub fn trimming(&self) -> Trimming {
        self.trimming
    }

    /// Conversions completed since power-on.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }

    /// Whether the chip is in sleep mode (it is after a forced conversion completes).
    pub fn is_sleeping(&self) -> bool {
        self.ctrl_meas & 0b11 == 0
    }

    fn is_bme(&self) -> bool {
        self.variant == Variant::Bme280
    }

    fn power_on_reset(&mut self, now_ns: u64) {
        self.ctrl_hum = 0;
        self.ctrl_hum_active = 0;
        self.ctrl_meas = 0;
        self.config = 0;
        // Data registers after reset: 0x80000 (temperature, pressure) and 0x8000 (humidity).
        self.data = [0x80, 0, 0, 0x80, 0, 0, 0x80, 0];
        self.conversion = Conversion::Idle;
        self.filtered = None;
        self.nvm_copy_until_ns = now_ns + NVM_COPY_NS;
    }

    fn oversampling(code: u8) -> u32 {
        match code & 0b111 {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 4,
            4 => 8,
            _ => 16,
        }
    }

    fn osrs(&self) -> (u32, u32, u32) {
        let h = if self.is_bme() {
            Self::oversampling(self.ctrl_hum_active)
        } else {
            0
        };
        (
            Self::oversampling(self.ctrl_meas >> 5),
            Self::oversampling(self.ctrl_meas >> 2),
            h,
        )
    }

    /// Conversion time in ns for the active oversampling (datasheet appendix B).
    fn conversion_ns(&self) -> u64 {
        let (t, p, h) = self.osrs();
        let (base, per, extra) = match self.conversion_time {
            ConversionTime::Typical => (1000, 2000, 500),
            ConversionTime::Maximum => (1250, 2300, 575),
        };
        let mut us = base + per * t;
        if p > 0 {
            us += per * p + extra;
        }
        if h > 0 {
            us += per * h + extra;
        }
        u64::from(us) * 1000
    }

    fn standby_ns(&self) -> u64 {
        let us: u64 = match (self.config >> 5, self.is_bme()) {
            (0, _) => 500,
            (1, _) => 62_500,
            (2, _) => 125_000,
            (3, _) => 250_000,
            (4, _) => 500_000,
            (5, _) => 1_000_000,
            (6, true) => 10_000,
            (7, true) => 20_000,
            (6, false) => 2_000_000,
            _ => 4_000_000,
        };
        us * 1000
    }

    fn filter_coefficient(&self) -> f64 {
        match (self.config >> 2) & 0b111 {
            0 => 1.0,
            1 => 2.0,
            2 => 4.0,
            3 => 8.0,
            _ => 16.0,
        }
    }

    /// Brings the chip's state up to `now`: completes conversions whose time has come.
    fn advance(&mut self, now_ns: u64) {
        if self.stuck_busy {
            return;
        }
        match self.conversion {
            Conversion::Forced { end_ns } if now_ns >= end_ns => {
                self.latch(end_ns);
                self.ctrl_meas &= !0b11; // back to sleep
                self.conversion = Conversion::Idle;
            }
            Conversion::Normal {
                start_ns,
                latched_cycles,
            } => {
                let measure = self.conversion_ns();
                let period = measure + self.standby_ns();
                if now_ns < start_ns + measure {
                    return;
                }
                let completed = (now_ns - start_ns - measure) / period + 1;
                // Only the last few cycles matter to the filter's output.
                let first = latched_cycles.max(completed.saturating_sub(64));
                for cycle in first..completed {
                    self.latch(start_ns + cycle * period + measure);
                }
                self.conversion = Conversion::Normal {
                    start_ns,
                    latched_cycles: completed,
                };
            }
            _ => {}
        }
    }

    fn measuring(&self, now_ns: u64) -> bool {
        if self.stuck_busy {
            return true;
        }
        match self.conversion {
            Conversion::Forced { end_ns } => now_ns < end_ns,
            Conversion::Normal { start_ns, .. } => {
                let measure = self.conversion_ns();
                let period = measure + self.standby_ns();
                (now_ns.saturating_sub(start_ns)) % period < measure
            }
            Conversion::Idle => false,
        }
    }

    /// Completes one conversion taken at `at_ns`: raw values into the data registers.
    fn latch(&mut self, at_ns: u64) {
        self.conversions += 1;
        let env = self.signal.at(at_ns);
        let (osrs_t, osrs_p, osrs_h) = self.osrs();
        let mut noisy = |value: f64, rms_at_x1: f64, osrs: u32| match &mut self.noise {
            Some(noise) => value + noise.gaussian() * rms_at_x1 / f64::from(osrs.max(1)).sqrt(),
            None => value,
        };
        let temperature = noisy(env.temperature, 0.005, osrs_t);
        let pressure = noisy(env.pressure, 3.3, osrs_p);
        let humidity = noisy(env.humidity, 0.02, osrs_h);

        let trim = self.trimming;
        let adc_t = invert(0xF_FFFF, temperature, |adc| trim.temperature(adc).0);
        let (_, t_fine) = trim.temperature(f64::from(adc_t));
        let adc_p = invert(0xF_FFFF, pressure, |adc| trim.pressure(adc, t_fine));
        let adc_h = invert(0xFFFF, humidity, |adc| trim.humidity(adc, t_fine));

        // IIR filter on temperature and pressure (datasheet 3.4.4), in the raw domain.
        let c = self.filter_coefficient();
        let (raw_t, raw_p) = match self.filtered {
            Some((t, p)) if c > 1.0 => (
                (t * (c - 1.0) + f64::from(adc_t)) / c,
                (p * (c - 1.0) + f64::from(adc_p)) / c,
            ),
            _ => (f64::from(adc_t), f64::from(adc_p)),
        };
        self.filtered = Some((raw_t, raw_p));
        // Resolution: 20 bits with the filter on, else 16 + (osrs − 1) bits (table 13, 14).
        let quantize = |raw: f64, osrs: u32| -> u32 {
            let bits = if c > 1.0 {
                20
            } else {
                16 + osrs.max(1).ilog2()
            };
            let drop = 20 - bits.min(20);
            ((raw.round() as u32).min(0xF_FFFF) >> drop) << drop
        };
        let put20 = |data: &mut [u8], raw: u32| {
            data[0] = (raw >> 12) as u8;
            data[1] = (raw >> 4) as u8;
            data[2] = ((raw & 0xF) << 4) as u8;
        };
        if osrs_t > 0 {
            put20(&mut self.data[3..6], quantize(raw_t, osrs_t));
        }
        if osrs_p > 0 {
            put20(&mut self.data[0..3], quantize(raw_p, osrs_p));
        }
        if osrs_h > 0 {
            self.data[6..8].copy_from_slice(&(adc_h as u16).to_be_bytes());
        }
    }

    fn read_register(&mut self, now_ns: u64, register: u8) -> u8 {
        self.advance(now_ns);
        match register {
            0xD0 => match self.variant {
                Variant::Bme280 => 0x60,
                Variant::Bmp280(id) => id,
            },
            0x88..=0xA1 => self.nvm_tp[usize::from(register - 0x88)],
            0xE1..=0xE7 if self.is_bme() => self.nvm_h[usize::from(register - 0xE1)],
            0xF2 if self.is_bme() => self.ctrl_hum,
            0xF3 => {
                let measuring = u8::from(self.measuring(now_ns)) << 3;
                let im_update = u8::from(now_ns < self.nvm_copy_until_ns);
                measuring | im_update
            }
            0xF4 => self.ctrl_meas,
            0xF5 => self.config,
            0xF7..=0xFC => self.data[usize::from(register - 0xF7)],
            0xFD..=0xFE if self.is_bme() => self.data[usize::from(register - 0xF7)],
            _ => 0x00,
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u8) {
        self.advance(now_ns);
        match register {
            0xE0 if value == 0xB6 => self.power_on_reset(now_ns),
            0xF2 if self.is_bme() => self.ctrl_hum = value & 0b111,
            0xF4 => {
                self.ctrl_meas = value;
                self.ctrl_hum_active = self.ctrl_hum;
                self.conversion = match value & 0b11 {
                    0b00 => Conversion::Idle,
                    0b11 => Conversion::Normal {
                        start_ns: now_ns,
                        latched_cycles: 0,
                    },
                    _ => match self.conversion {
                        busy @ Conversion::Forced { .. } => busy,
                        _ => Conversion::Forced {
                            end_ns: now_ns + self.conversion_ns(),
                        },
                    },
                };
            }
            // "Writes to the config register in normal mode may be ignored": this part ignores
            // them, so a driver that configures in normal mode is caught.
            0xF5 if !matches!(self.conversion, Conversion::Normal { .. }) => self.config = value,
            _ => {}
        }
    }
}

/// I²C framing (datasheet 6.2): a write sets the register pointer and then carries
/// (data, register, data, …) — no auto-increment on writes; reads auto-increment.
impl I2cTarget for Bme280Model {
    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        let mut bytes = bytes.iter();
        let Some(&first) = bytes.next() else { return };
        self.pointer = first;
        while let Some(&value) = bytes.next() {
            self.write_register(now_ns, self.pointer, value);
            match bytes.next() {
                Some(&register) => self.pointer = register,
                None => break,
            }
        }
    }

    fn read(&mut self, now_ns: u64, buf: &mut [u8]) {
        for b in buf {
            *b = self.read_register(now_ns, self.pointer);
            self.pointer = self.pointer.wrapping_add(1);
        }
    }
}

/// SPI framing (datasheet 6.3): a control byte whose bit 7 selects read (1) or write (0) and
/// whose low seven bits are the register address without its bit 7; reads auto-increment,
/// writes are (control, data) pairs.
impl SpiTarget for Bme280Model {
    fn select(&mut self, _now_ns: u64) {
        self.spi = SpiState::Control;
    }

    fn exchange(&mut self, now_ns: u64, mosi: u8) -> u8 {
        match self.spi {
            SpiState::Control => {
                let register = mosi | 0x80;
                self.spi = if mosi & 0x80 != 0 {
                    SpiState::Read(register)
                } else {
                    SpiState::Write(register)
                };
                0xFF
            }
            SpiState::Read(register) => {
                self.spi = SpiState::Read(register.wrapping_add(1));
                self.read_register(now_ns, register)
            }
            SpiState::Write(register) => {
                self.write_register(now_ns, register, mosi);
                self.spi = SpiState::Control;
                0xFF
            }
        }
    }

    fn deselect(&mut self, _now_ns: u64) {
        self.spi = SpiState::Control;
    }
}

#[cfg(test)]
#[allow(clippy::unusual_byte_groupings)] // grouped by register field, as in the datasheet
mod tests {
    use super::*;

    #[test]
    fn inversion_reproduces_the_datasheet_example() {
        // Inverting 25.08 °C with the datasheet trimming must land on (or next to) adc_T 519888.
        let trim = Trimming::datasheet_example();
        let (t, _) = trim.temperature(519_888.0);
        let adc = invert(0xF_FFFF, t, |adc| trim.temperature(adc).0);
        assert!(adc.abs_diff(519_888) <= 1, "{adc}");
    }

    #[test]
    fn registers_round_trip_the_trimming() {
        let (tp, h) = Trimming::default().to_registers();
        assert_eq!(u16::from_le_bytes([tp[0], tp[1]]), 28209);
        assert_eq!(tp[25], 75);
        // dig_H4 = 339 = 0x153: 0xE4 = 0x15, 0xE5[3:0] = 0x3
        assert_eq!((h[3], h[4] & 0x0F), (0x15, 0x3));
    }

    #[test]
    fn forced_conversion_sets_measuring_then_returns_to_sleep() {
        let mut chip = Bme280Model::bme280();
        chip.write_register(2_000_000, 0xF2, 0b001);
        chip.write_register(2_000_000, 0xF4, 0b001_001_01);
        assert!(chip.read_register(2_000_001, 0xF3) & 0x08 != 0);
        // typical ×1/×1/×1 = 8 ms
        assert!(chip.read_register(10_000_000, 0xF3) & 0x08 == 0);
        assert!(chip.is_sleeping());
        assert_eq!(chip.conversions(), 1);
        assert_ne!(chip.read_register(10_000_000, 0xFA), 0x80);
    }

    #[test]
    fn ctrl_hum_takes_effect_only_after_ctrl_meas() {
        let mut chip = Bme280Model::bme280();
        chip.write_register(0, 0xF2, 0b101);
        assert_eq!(chip.osrs().2, 0);
        chip.write_register(0, 0xF4, 0);
        assert_eq!(chip.osrs().2, 16);
    }

    #[test]
    fn reset_raises_im_update_for_the_nvm_copy() {
        let mut chip = Bme280Model::bme280();
        chip.write_register(5_000_000, 0xE0, 0xB6);
        assert_eq!(chip.read_register(5_000_100, 0xF3) & 1, 1);
        assert_eq!(chip.read_register(5_000_000 + NVM_COPY_NS, 0xF3) & 1, 0);
    }
}
