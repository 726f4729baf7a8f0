//! The driver: every bus sequence written once (async), with blocking and async facades.

use embedded_hal::i2c::ErrorType;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::config::{Completion, Config, Mode};
use super::interface::Address;
use super::registers::*;
use super::{Calibration, Channel, Error, Measurement};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};
use crate::units::{Current, Power, Quantity, Unit, Voltage};

/// Shunt voltage register LSB (10 µV) and bus voltage LSB (4 mV), in nV.
const SHUNT_LSB_NV: i64 = 10_000;
const BUS_LSB_NV: i64 = 4_000_000;
/// Equation 4: Current = Shunt × Cal / 4096. Equation 5: Power = Current × Bus / 5000.
const CURRENT_DIVISOR: i64 = 4096;
const POWER_DIVISOR: i64 = 5000;
/// Smallest step between two CNVR polls, so a slow part is not hammered with reads.
const MIN_POLL_STEP_US: u32 = 10;

/// The four data registers of one reading, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raw {
    bus: u16,
    shunt: i16,
    current: i16,
    power: u16,
}

impl Raw {
    /// The bus voltage in 4 mV counts (bits 15..3).
    fn bus_counts(&self) -> i64 {
        i64::from(self.bus >> BUS_SHIFT)
    }

    /// What the chip's current register must hold for this shunt voltage (equation 4,
    /// truncated toward zero like the chip's integer math).
    fn expected_current(&self, calibration: &Calibration) -> i64 {
        i64::from(self.shunt) * i64::from(calibration.register()) / CURRENT_DIVISOR
    }

    /// How far the current register may be from [`Raw::expected_current`]: one count of
    /// rounding, plus the current of one shunt count in case the chip multiplies its
    /// unrounded shunt measurement.
    fn current_tolerance(calibration: &Calibration) -> i64 {
        1 + (i64::from(calibration.register()) + CURRENT_DIVISOR - 1) / CURRENT_DIVISOR
    }

    /// Checks what any reading must satisfy: reserved bit clear, no overflow, shunt voltage
    /// within the PGA's saturation.
    fn check_voltages<E>(&self, config: &Config) -> Result<(), Error<E>> {
        if self.bus & BUS_RESERVED != 0 {
            return Err(Error::Implausible(Channel::BusVoltage));
        }
        if self.bus & BUS_OVF != 0 {
            return Err(Error::MathOverflow);
        }
        if self.shunt.unsigned_abs() > config.shunt_range.full_scale_counts().unsigned_abs() {
            return Err(Error::Implausible(Channel::ShuntVoltage));
        }
        Ok(())
    }

    /// Checks that current and power follow from the voltages by equations 4 and 5. Only
    /// valid when all four registers come from one conversion (triggered mode).
    fn check_consistency<E>(&self, calibration: &Calibration) -> Result<(), Error<E>> {
        let current = i64::from(self.current);
        if (current - self.expected_current(calibration)).abs()
            > Self::current_tolerance(calibration)
        {
            return Err(Error::Implausible(Channel::Current));
        }
        if self.power_magnitude().is_none() {
            return Err(Error::Implausible(Channel::Power));
        }
        Ok(())
    }

    /// The power register as a magnitude, if it follows from current and bus voltage by
    /// equation 5 (one count of rounding, plus the bus voltage's share of one current count).
    /// The datasheet gives the register no sign bit but does not say how reverse current
    /// shows; with a negative current, a register holding the two's complement of the
    /// product is accepted too, as its magnitude.
    fn power_magnitude(&self) -> Option<u16> {
        let bus = self.bus_counts();
        let expected = i64::from(self.current).abs() * bus / POWER_DIVISOR;
        let tolerance = 2 + (bus + POWER_DIVISOR - 1) / POWER_DIVISOR;
        if (i64::from(self.power) - expected).abs() <= tolerance {
            return Some(self.power);
        }
        let signed = i16::from_be_bytes(self.power.to_be_bytes());
        let negated_matches = (i64::from(signed).abs() - expected).abs() <= tolerance;
        (self.current < 0 && signed < 0 && negated_matches).then_some(signed.unsigned_abs())
    }

    /// Zero current and power although the shunt voltage calls for more than rounding:
    /// what a chip whose calibration register was cleared reports.
    fn looks_uncalibrated(&self, calibration: &Calibration) -> bool {
        self.current == 0
            && self.power == 0
            && self.expected_current(calibration).abs() > Self::current_tolerance(calibration)
    }

    fn measurement(&self, calibration: &Calibration) -> Measurement {
        Measurement {
            bus_voltage: Voltage::from_nanovolts(self.bus_counts() * BUS_LSB_NV),
            shunt_voltage: Voltage::from_nanovolts(i64::from(self.shunt) * SHUNT_LSB_NV),
            current: Current::from_microamps(calibration.current_microamps(self.current)),
            // Continuous readings may pair registers of two conversions, so an unmatched
            // register is taken as the unsigned magnitude the datasheet describes.
            power: Power::from_microwatts(
                calibration.power_microwatts(self.power_magnitude().unwrap_or(self.power)),
            ),
        }
    }
}

/// State shared by both facades: the bus plus what the driver knows of the chip.
#[derive(Debug)]
struct Driver<I2C> {
    i2c: I2C,
    address: u8,
    config: Config,
    /// Set by a successful `init`, cleared when the chip is found reset.
    initialized: bool,
    /// In continuous mode, whether a conversion has completed since the mode was entered.
    continuous_primed: bool,
    /// Put in power-down by `power_down()`: in continuous mode the next reading restarts it.
    powered_down: bool,
}

type DriverResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: I2c> Driver<I2C> {
    fn new(i2c: I2C, address: u8, config: Config) -> Self {
        Self {
            i2c,
            address,
            config,
            initialized: false,
            continuous_primed: false,
            powered_down: false,
        }
    }

    /// One transaction: the register pointer, then two bytes MSB first.
    async fn read_register(&mut self, register: u8) -> DriverResult<u16, I2C> {
        let mut bytes = [0u8; 2];
        self.i2c
            .write_read(self.address, &[register], &mut bytes)
            .await
            .map_err(Error::Bus)?;
        Ok(u16::from_be_bytes(bytes))
    }

    /// One transaction: the register pointer and the value, MSB first.
    async fn write_register(&mut self, register: u8, value: u16) -> DriverResult<(), I2C> {
        let [msb, lsb] = value.to_be_bytes();
        self.i2c
            .write(self.address, &[register, msb, lsb])
            .await
            .map_err(Error::Bus)
    }

    /// Resets the chip, checks the power-on configuration, programs calibration and
    /// configuration.
    async fn init(&mut self) -> DriverResult<(), I2C> {
        self.initialized = false;
        self.write_register(CONFIG, CONFIG_RESET).await?;
        let after_reset = self.read_register(CONFIG).await?;
        if after_reset != CONFIG_POWER_ON {
            return Err(Error::UnexpectedResetValue(after_reset));
        }
        self.program(self.config).await?;
        self.initialized = true;
        Ok(())
    }

    /// MODE bits between readings: power-down in triggered mode (each reading triggers),
    /// continuous conversions otherwise.
    fn idle_mode_bits(config: &Config) -> u16 {
        match config.mode {
            Mode::Triggered => MODE_POWER_DOWN,
            Mode::Continuous => MODE_CONTINUOUS,
        }
    }

    /// Calibration first, so that the first conversion the configuration write starts
    /// already computes current and power with it.
    async fn program(&mut self, config: Config) -> DriverResult<(), I2C> {
        self.write_register(CALIBRATION, config.calibration.register())
            .await?;
        self.write_register(CONFIG, config.register(Self::idle_mode_bits(&config)))
            .await?;
        self.config = config;
        self.continuous_primed = false;
        self.powered_down = false;
        Ok(())
    }

    /// Before `init` the configuration is only stored; `init` applies it.
    async fn apply_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        if self.initialized {
            self.program(config).await
        } else {
            self.config = config;
            Ok(())
        }
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, I2C> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        let bus = match self.config.mode {
            Mode::Triggered => {
                // Writing MODE starts one conversion and clears CNVR.
                self.write_register(CONFIG, self.config.register(MODE_TRIGGERED))
                    .await?;
                self.wait_for_conversion(delay).await?
            }
            Mode::Continuous => {
                if self.powered_down {
                    self.write_register(CONFIG, self.config.register(MODE_CONTINUOUS))
                        .await?;
                    self.powered_down = false;
                    self.continuous_primed = false;
                }
                if self.continuous_primed {
                    self.read_register(BUS_VOLTAGE).await?
                } else {
                    let bus = self.wait_for_conversion(delay).await?;
                    self.continuous_primed = true;
                    bus
                }
            }
        };
        let shunt = self.read_register(SHUNT_VOLTAGE).await?;
        let current = self.read_register(CURRENT).await?;
        // Last: reading the power register clears CNVR.
        let power = self.read_register(POWER).await?;
        let raw = Raw {
            bus,
            shunt: i16::from_be_bytes(shunt.to_be_bytes()),
            current: i16::from_be_bytes(current.to_be_bytes()),
            power,
        };
        self.check(&raw).await?;
        Ok(raw.measurement(&self.config.calibration))
    }

    async fn check(&mut self, raw: &Raw) -> DriverResult<(), I2C> {
        raw.check_voltages(&self.config)?;
        let calibration = self.config.calibration;
        if raw.looks_uncalibrated(&calibration) {
            let found = self.read_register(CALIBRATION).await?;
            if found != calibration.register() {
                self.initialized = false;
                return Err(Error::CalibrationLost { found });
            }
        }
        if self.config.mode == Mode::Triggered {
            raw.check_consistency(&calibration)?;
        }
        Ok(())
    }

    /// Waits for the conversion the last configuration write started; returns the bus
    /// voltage register, read with CNVR set.
    async fn wait_for_conversion(&mut self, delay: &mut impl DelayNs) -> DriverResult<u16, I2C> {
        let max = self.config.max_conversion_time_us();
        let mut waited = match self.config.completion {
            Completion::WaitMax => max,
            Completion::PollReady => self.config.typical_conversion_time_us(),
        };
        let step = ((max - waited) / 4).max(MIN_POLL_STEP_US);
        delay.delay_us(waited).await;
        loop {
            let bus = self.read_register(BUS_VOLTAGE).await?;
            if bus & BUS_CNVR != 0 {
                return Ok(bus);
            }
            if waited >= max {
                return Err(Error::NotReady { waited_us: waited });
            }
            let next = step.min(max - waited);
            delay.delay_us(next).await;
            waited += next;
        }
    }

    async fn power_down(&mut self) -> DriverResult<(), I2C> {
        self.write_register(CONFIG, self.config.register(MODE_POWER_DOWN))
            .await?;
        self.powered_down = true;
        self.continuous_primed = false;
        Ok(())
    }
}

impl<I2C> Driver<I2C> {
    fn min_interval(&self) -> core::time::Duration {
        core::time::Duration::from_micros(u64::from(self.config.max_conversion_time_us()))
    }
}

macro_rules! shared_accessors {
    () => {
        /// The configuration in force.
        pub fn config(&self) -> &Config {
            &self.driver.config
        }

        /// Whether `init` succeeded and the chip has not been found reset since.
        pub fn is_initialized(&self) -> bool {
            self.driver.initialized
        }

        /// The longest a conversion takes with the current configuration, in µs.
        pub fn max_conversion_time_us(&self) -> u32 {
            self.driver.config.max_conversion_time_us()
        }
    };
}

/// Blocking INA219 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::ina219::{Address, Config, Ina219};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::ina219::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut sensor = Ina219::new(i2c, Address::default(), Config::default());
/// sensor.init()?;
/// let m = sensor.measure(&mut NoopDelay)?;
/// println!("{} {} {}", m.bus_voltage, m.current, m.power);
/// let i2c = sensor.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Ina219<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async INA219 driver; the same operations as [`Ina219`], awaited.
#[derive(Debug)]
pub struct Ina219Async<I2C> {
    driver: Driver<I2C>,
}

type BlockingResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: embedded_hal::i2c::I2c> Ina219<I2C> {
    /// A driver for the chip at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address.bits(), config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.i2c.into_inner()
    }

    /// Resets the chip, checks that it is an INA219 and programs calibration and
    /// configuration: three writes and a read. Call again to recover a chip that was reset
    /// or power-cycled.
    pub fn init(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.init())
    }

    /// Takes one reading. Triggered: a configuration write, the conversion wait and four
    /// register reads (five transactions). Continuous: the four reads.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> BlockingResult<Measurement, I2C> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Applies a new configuration and calibration (two writes once initialised).
    pub fn set_config(&mut self, config: Config) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.apply_config(config))
    }

    /// Puts the chip in power-down (MODE 000) until the next reading, which wakes it; in
    /// continuous mode that reading waits for a first conversion again.
    pub fn power_down(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.power_down())
    }

    shared_accessors!();
}

impl<I2C: I2c> Ina219Async<I2C> {
    /// A driver for the chip at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            driver: Driver::new(i2c, address.bits(), config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.i2c
    }

    /// See [`Ina219::init`].
    pub async fn init(&mut self) -> DriverResult<(), I2C> {
        self.driver.init().await
    }

    /// See [`Ina219::measure`].
    pub async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, I2C> {
        self.driver.measure(delay).await
    }

    /// See [`Ina219::set_config`].
    pub async fn set_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        self.driver.apply_config(config).await
    }

    /// See [`Ina219::power_down`].
    pub async fn power_down(&mut self) -> DriverResult<(), I2C> {
        self.driver.power_down().await
    }

    shared_accessors!();
}

/// Every reading carries all four values.
const CHANNELS: [sensor::Channel; 4] = [
    sensor::Channel::new("bus_voltage", Unit::Volt),
    sensor::Channel::new("shunt_voltage", Unit::Volt),
    sensor::Channel::new("current", Unit::Ampere),
    sensor::Channel::new("power", Unit::Watt),
];

impl Measurement {
    /// The values in the order [`SensorInfo::channels`] lists them.
    fn reading(&self) -> Reading {
        Reading::from_slice(&[
            self.bus_voltage.value(),
            self.shunt_voltage.value(),
            self.current.value(),
            self.power.value(),
        ])
    }
}

impl<I2C> SensorInfo for Ina219<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C> SensorInfo for Ina219Async<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Ina219<I2C> {
    type Error = Error<I2C::Error>;

    /// The INA219 needs no start-up wait; `delay` is unused.
    fn init(&mut self, _delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Ina219::init(self)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|m| m.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        Ina219::power_down(self)
    }
}

impl<I2C: I2c> SensorAsync for Ina219Async<I2C> {
    type Error = Error<I2C::Error>;

    /// The INA219 needs no start-up wait; `delay` is unused.
    async fn init(&mut self, _delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Ina219Async::init(self).await
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|m| m.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        Ina219Async::power_down(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BusRange, ShuntRange};
    use super::*;

    type E = ();

    /// SBOS448F table 3: 10 A through 2 mΩ at 12 V, ±40 mV, 16 V, Current_LSB 1 mA.
    fn example() -> (Raw, Config) {
        let config = Config {
            bus_range: BusRange::V16,
            shunt_range: ShuntRange::Mv40,
            ..Config::new(Calibration::from_current_lsb(2_000, 1_000_000).unwrap())
        };
        let raw = Raw {
            bus: 0x5D98,
            shunt: 0x07D0,
            current: 0x2710,
            power: 0x1766,
        };
        (raw, config)
    }

    #[test]
    fn datasheet_example_reads_20_mv_11_98_v_10_a_119_8_w() {
        let (raw, config) = example();
        assert_eq!(raw.check_voltages::<E>(&config), Ok(()));
        assert_eq!(raw.check_consistency::<E>(&config.calibration), Ok(()));
        // Equation 4: 2000 × 20480 / 4096 = 10000; equation 5: 10000 × 2995 / 5000 = 5990.
        assert_eq!(raw.expected_current(&config.calibration), 10_000);
        let m = raw.measurement(&config.calibration);
        assert_eq!(m.shunt_voltage.raw(), 20_000_000);
        assert_eq!(m.bus_voltage.raw(), 11_980_000_000);
        assert_eq!(m.current.raw(), 10_000_000);
        assert_eq!(m.power.raw(), 119_800_000);
    }

    #[test]
    fn negative_shunt_voltage_is_sign_extended_and_checked_against_the_pga() {
        // -320 mV in the /8 range is 8300h (shunt voltage register format).
        let raw = Raw {
            bus: 0,
            shunt: i16::from_be_bytes([0x83, 0x00]),
            current: 0,
            power: 0,
        };
        let config = Config::default();
        assert_eq!(raw.shunt, -32_000);
        assert_eq!(raw.check_voltages::<E>(&config), Ok(()));
        let m = raw.measurement(&config.calibration);
        assert_eq!(m.shunt_voltage.raw(), -320_000_000);
        // The same register cannot come from the ±40 mV range, which saturates at -4000.
        let narrow = Config {
            shunt_range: ShuntRange::Mv40,
            ..config
        };
        assert_eq!(
            raw.check_voltages::<E>(&narrow),
            Err(Error::Implausible(Channel::ShuntVoltage))
        );
    }

    #[test]
    fn flags_and_reserved_bits() {
        let (raw, config) = example();
        let ovf = Raw {
            bus: raw.bus | BUS_OVF,
            ..raw
        };
        assert_eq!(ovf.check_voltages::<E>(&config), Err(Error::MathOverflow));
        let reserved = Raw {
            bus: raw.bus | BUS_RESERVED,
            ..raw
        };
        assert_eq!(
            reserved.check_voltages::<E>(&config),
            Err(Error::Implausible(Channel::BusVoltage))
        );
    }

    #[test]
    fn current_and_power_must_follow_equations_4_and_5() {
        let (raw, config) = example();
        let cal = &config.calibration;
        // A flipped sign bit in the current register.
        let current = Raw {
            current: raw.current | i16::MIN,
            ..raw
        };
        assert_eq!(
            current.check_consistency::<E>(cal),
            Err(Error::Implausible(Channel::Current))
        );
        let power = Raw {
            power: raw.power ^ 0x0100,
            ..raw
        };
        assert_eq!(
            power.check_consistency::<E>(cal),
            Err(Error::Implausible(Channel::Power))
        );
        // A cleared calibration register gives zero current and power.
        let lost = Raw {
            current: 0,
            power: 0,
            ..raw
        };
        assert!(lost.looks_uncalibrated(cal));
        assert!(!raw.looks_uncalibrated(cal));
        // Reverse current: the power register's magnitude, stored unsigned or as two's
        // complement, reads as positive power.
        let reverse = Raw {
            shunt: -raw.shunt,
            current: -raw.current,
            ..raw
        };
        assert_eq!(reverse.check_consistency::<E>(cal), Ok(()));
        let twos = Raw {
            power: raw.power.wrapping_neg(),
            ..reverse
        };
        assert_eq!(twos.check_consistency::<E>(cal), Ok(()));
        assert_eq!(twos.measurement(cal).power.raw(), 119_800_000);
        assert_eq!(reverse.measurement(cal).current.raw(), -10_000_000);
        // Forward current with a "negative" power register is not consistent.
        let wrong = Raw {
            power: raw.power.wrapping_neg(),
            ..raw
        };
        assert_eq!(
            wrong.check_consistency::<E>(cal),
            Err(Error::Implausible(Channel::Power))
        );
        // With no current flowing, zeros are the right answer.
        let idle = Raw { shunt: 0, ..lost };
        assert!(!idle.looks_uncalibrated(cal));
    }
}
