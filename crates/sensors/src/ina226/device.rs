//! The driver: every bus sequence written once (async), with blocking and async facades.

use embedded_hal::i2c::ErrorType;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::config::{Completion, Config, Mode};
use super::interface::Address;
use super::registers::*;
use super::{Calibration, Channel, Error, Flags, Measurement};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};
use crate::units::{Current, Power, Quantity, Unit, Voltage};

/// Shunt voltage register LSB (2.5 µV) and bus voltage LSB (1.25 mV), in nV.
const SHUNT_LSB_NV: i64 = 2_500;
const BUS_LSB_NV: i64 = 1_250_000;
/// Equation 3: Current = Shunt × CAL / 2048. Equation 4: Power = Current × Bus / 20000.
const CURRENT_DIVISOR: i64 = 2048;
const POWER_DIVISOR: i64 = 20_000;
/// Smallest step between two CVRF polls, so a slow part is not hammered with reads.
const MIN_POLL_STEP_US: u32 = 10;

/// The five registers of one reading, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raw {
    mask_enable: u16,
    shunt: i16,
    bus: u16,
    current: i16,
    power: u16,
}

impl Raw {
    /// What the current register must hold for this shunt voltage (equation 3, truncated
    /// toward zero like the chip's integer math).
    fn expected_current(&self, calibration: &Calibration) -> i64 {
        i64::from(self.shunt) * i64::from(calibration.register()) / CURRENT_DIVISOR
    }

    /// How far the current register may be from [`Raw::expected_current`]. With averaging
    /// the chip truncates each sample's current and then the mean, while the shunt register
    /// is a mean too: two counts of truncation plus the current of one shunt count.
    fn current_tolerance(calibration: &Calibration) -> i64 {
        2 + (i64::from(calibration.register()) + CURRENT_DIVISOR - 1) / CURRENT_DIVISOR
    }

    /// Checks the bits that are unused in every chip state.
    fn check_unused_bits<E>(&self) -> Result<(), Error<E>> {
        if self.mask_enable & ME_RESERVED != 0 {
            return Err(Error::Implausible(Channel::MaskEnable));
        }
        if self.bus & BUS_RESERVED != 0 {
            return Err(Error::Implausible(Channel::BusVoltage));
        }
        Ok(())
    }

    /// Checks that current and power follow from the voltages by equations 3 and 4. Only
    /// valid when all registers come from one conversion (triggered mode). With averaging
    /// the power register is the mean of per-sample products, which differs from the product
    /// of the means whenever current and bus voltage vary during the conversion, so power
    /// is only checked for single samples.
    fn check_consistency<E>(&self, config: &Config) -> Result<(), Error<E>> {
        let calibration = &config.calibration;
        let current = i64::from(self.current);
        if (current - self.expected_current(calibration)).abs()
            > Self::current_tolerance(calibration)
        {
            return Err(Error::Implausible(Channel::Current));
        }
        if config.averaging.samples() == 1 {
            // Unsigned: the register's bit 15 is PD15, not a sign (section 7.1.4), so the
            // chip stores the magnitude whichever way the current flows.
            let bus = i64::from(self.bus);
            let expected = current.abs() * bus / POWER_DIVISOR;
            // One count of rounding, plus the bus voltage's share of one current count.
            let tolerance = 1 + (bus + POWER_DIVISOR - 1) / POWER_DIVISOR;
            if (i64::from(self.power) - expected).abs() > tolerance {
                return Err(Error::Implausible(Channel::Power));
            }
        }
        Ok(())
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
            bus_voltage: Voltage::from_nanovolts(i64::from(self.bus) * BUS_LSB_NV),
            shunt_voltage: Voltage::from_nanovolts(i64::from(self.shunt) * SHUNT_LSB_NV),
            current: Current::from_microamps(calibration.current_microamps(self.current)),
            power: Power::from_microwatts(calibration.power_microwatts(self.power)),
            alert: self.mask_enable & ME_AFF != 0,
        }
    }
}

/// State shared by both facades: the bus plus what the driver knows of the chip.
#[derive(Debug)]
struct Driver<I2C> {
    i2c: I2C,
    address: u8,
    config: Config,
    /// The Mask/Enable bits last written: a read that disagrees means the chip was reset.
    mask_enable: u16,
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
            mask_enable: 0,
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

    /// Checks the IDs (before writing anything to a device that may not be an INA226),
    /// resets the chip and programs it.
    async fn init(&mut self) -> DriverResult<(), I2C> {
        self.initialized = false;
        // A limit the register cannot hold fails before any bus traffic.
        self.config.alert.registers(&self.config.calibration)?;
        let manufacturer_id = self.read_register(MANUFACTURER_ID).await?;
        let die_id = self.read_register(DIE_ID).await?;
        if manufacturer_id != MANUFACTURER_TI || die_id >> DEVICE_ID_SHIFT != DEVICE_ID_INA226 {
            return Err(Error::UnknownDevice {
                manufacturer_id,
                die_id,
            });
        }
        self.write_register(CONFIG, CONFIG_RESET).await?;
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

    /// Calibration first, so that the first conversion already computes current and power
    /// with it; the alert limit before the function that compares it; the configuration
    /// last, as it starts continuous conversions.
    async fn program(&mut self, config: Config) -> DriverResult<(), I2C> {
        let (mask_enable, limit) = config.alert.registers(&config.calibration)?;
        self.write_register(CALIBRATION, config.calibration.register())
            .await?;
        self.write_register(ALERT_LIMIT, limit).await?;
        self.write_register(MASK_ENABLE, mask_enable).await?;
        self.write_register(CONFIG, config.register(Self::idle_mode_bits(&config)))
            .await?;
        self.config = config;
        self.mask_enable = mask_enable;
        self.continuous_primed = false;
        self.powered_down = false;
        Ok(())
    }

    /// Before `init` the configuration is only checked and stored; `init` applies it.
    async fn apply_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        if self.initialized {
            self.program(config).await
        } else {
            config.alert.registers(&config.calibration)?;
            self.config = config;
            Ok(())
        }
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, I2C> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        let mask_enable = match self.config.mode {
            Mode::Triggered => {
                // Writing MODE starts one conversion and clears CVRF.
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
                    // The latest result, new or not; Mask/Enable still carries OVF and AFF.
                    self.read_register(MASK_ENABLE).await?
                } else {
                    let mask_enable = self.wait_for_conversion(delay).await?;
                    self.continuous_primed = true;
                    mask_enable
                }
            }
        };
        let shunt = self.read_register(SHUNT_VOLTAGE).await?;
        let bus = self.read_register(BUS_VOLTAGE).await?;
        let current = self.read_register(CURRENT).await?;
        let power = self.read_register(POWER).await?;
        let raw = Raw {
            mask_enable,
            shunt: i16::from_be_bytes(shunt.to_be_bytes()),
            bus,
            current: i16::from_be_bytes(current.to_be_bytes()),
            power,
        };
        self.check(&raw).await?;
        Ok(raw.measurement(&self.config.calibration))
    }

    async fn check(&mut self, raw: &Raw) -> DriverResult<(), I2C> {
        raw.check_unused_bits()?;
        let calibration = self.config.calibration;
        let settings_lost = raw.mask_enable & ME_WRITABLE != self.mask_enable;
        if settings_lost || raw.looks_uncalibrated(&calibration) {
            // A reset chip, or a corrupted read: the calibration register tells them apart.
            let found = self.read_register(CALIBRATION).await?;
            if found != calibration.register() {
                self.initialized = false;
                return Err(Error::CalibrationLost { found });
            }
            if settings_lost {
                return Err(Error::Implausible(Channel::MaskEnable));
            }
        }
        if raw.mask_enable & ME_OVF != 0 {
            return Err(Error::MathOverflow);
        }
        if self.config.mode == Mode::Triggered {
            raw.check_consistency(&self.config)?;
        }
        Ok(())
    }

    /// Waits for the conversion the last configuration write started; returns Mask/Enable,
    /// read with CVRF set (the read clears it).
    async fn wait_for_conversion(&mut self, delay: &mut impl DelayNs) -> DriverResult<u16, I2C> {
        let max = self.config.max_conversion_time_us();
        let mut waited = match self.config.completion {
            Completion::WaitMax => max,
            Completion::PollReady => self.config.typical_conversion_time_us(),
        };
        let step = ((max - waited) / 4).max(MIN_POLL_STEP_US);
        delay.delay_us(waited).await;
        loop {
            let mask_enable = self.read_register(MASK_ENABLE).await?;
            if mask_enable & ME_CVRF != 0 {
                return Ok(mask_enable);
            }
            if waited >= max {
                return Err(Error::NotReady { waited_us: waited });
            }
            let next = step.min(max - waited);
            delay.delay_us(next).await;
            waited += next;
        }
    }

    async fn read_flags(&mut self) -> DriverResult<Flags, I2C> {
        let mask_enable = self.read_register(MASK_ENABLE).await?;
        if mask_enable & ME_RESERVED != 0 {
            return Err(Error::Implausible(Channel::MaskEnable));
        }
        Ok(Flags {
            alert: mask_enable & ME_AFF != 0,
            conversion_ready: mask_enable & ME_CVRF != 0,
            math_overflow: mask_enable & ME_OVF != 0,
        })
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

/// Blocking INA226 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::ina226::{Address, Config, Ina226};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::ina226::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut sensor = Ina226::new(i2c, Address::default(), Config::default());
/// sensor.init()?;
/// let m = sensor.measure(&mut NoopDelay)?;
/// println!("{} {} {}", m.bus_voltage, m.current, m.power);
/// let i2c = sensor.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Ina226<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async INA226 driver; the same operations as [`Ina226`], awaited.
#[derive(Debug)]
pub struct Ina226Async<I2C> {
    driver: Driver<I2C>,
}

type BlockingResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: embedded_hal::i2c::I2c> Ina226<I2C> {
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

    /// Reads the manufacturer and die IDs, resets the chip and programs calibration, alert
    /// limit, Mask/Enable and configuration: two reads and five writes. Call again to
    /// recover a chip that was reset or power-cycled.
    pub fn init(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.init())
    }

    /// Takes one reading. Triggered: a configuration write, the conversion wait, then
    /// Mask/Enable and the four data registers (six transactions). Continuous: the five
    /// reads. Reading Mask/Enable clears CVRF and, in latch mode, AFF and the ALERT pin;
    /// [`Measurement::alert`] reports what AFF was.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> BlockingResult<Measurement, I2C> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Applies a new configuration, calibration and ALERT setting (four writes once
    /// initialised). An alert limit the register cannot hold is an error and changes nothing.
    pub fn set_config(&mut self, config: Config) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.apply_config(config))
    }

    /// Reads Mask/Enable (one transaction), e.g. after the ALERT pin asserted, to learn
    /// whether the limit or a finished conversion caused it. The read clears CVRF and, in
    /// latch mode, AFF and the pin.
    pub fn read_flags(&mut self) -> BlockingResult<Flags, I2C> {
        run_to_completion(self.driver.read_flags())
    }

    /// Puts the chip in power-down (MODE 000) until the next reading, which wakes it; in
    /// continuous mode that reading waits for a first conversion again.
    pub fn power_down(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.power_down())
    }

    shared_accessors!();
}

impl<I2C: I2c> Ina226Async<I2C> {
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

    /// See [`Ina226::init`].
    pub async fn init(&mut self) -> DriverResult<(), I2C> {
        self.driver.init().await
    }

    /// See [`Ina226::measure`].
    pub async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, I2C> {
        self.driver.measure(delay).await
    }

    /// See [`Ina226::set_config`].
    pub async fn set_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        self.driver.apply_config(config).await
    }

    /// See [`Ina226::read_flags`].
    pub async fn read_flags(&mut self) -> DriverResult<Flags, I2C> {
        self.driver.read_flags().await
    }

    /// See [`Ina226::power_down`].
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

impl<I2C> SensorInfo for Ina226<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C> SensorInfo for Ina226Async<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Ina226<I2C> {
    type Error = Error<I2C::Error>;

    /// The INA226 needs no start-up wait; `delay` is unused.
    fn init(&mut self, _delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Ina226::init(self)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|m| m.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        Ina226::power_down(self)
    }
}

impl<I2C: I2c> SensorAsync for Ina226Async<I2C> {
    type Error = Error<I2C::Error>;

    /// The INA226 needs no start-up wait; `delay` is unused.
    async fn init(&mut self, _delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Ina226Async::init(self).await
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|m| m.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        Ina226Async::power_down(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::Averaging;
    use super::*;

    type E = ();

    /// SBOS547 table 6-1: 10 A through 2 mΩ at 12 V, Current_LSB 1 mA, CAL = A00h.
    fn example() -> (Raw, Config) {
        let config = Config::new(Calibration::from_current_lsb(2_000, 1_000_000).unwrap());
        let raw = Raw {
            mask_enable: ME_CVRF,
            shunt: 0x1F40,
            bus: 0x2570,
            current: 0x2710,
            power: 0x12B8,
        };
        (raw, config)
    }

    #[test]
    fn datasheet_example_reads_20_mv_11_98_v_10_a_119_8_w() {
        let (raw, config) = example();
        assert_eq!(raw.check_unused_bits::<E>(), Ok(()));
        assert_eq!(raw.check_consistency::<E>(&config), Ok(()));
        // Equation 3: 8000 × 2560 / 2048 = 10000; equation 4: 10000 × 9584 / 20000 = 4792.
        assert_eq!(raw.expected_current(&config.calibration), 10_000);
        let m = raw.measurement(&config.calibration);
        assert_eq!(m.shunt_voltage.raw(), 20_000_000);
        assert_eq!(m.bus_voltage.raw(), 11_980_000_000);
        assert_eq!(m.current.raw(), 10_000_000);
        assert_eq!(m.power.raw(), 119_800_000);
        assert!(!m.alert);
    }

    #[test]
    fn negative_shunt_voltage_is_twos_complement() {
        // Section 7.1.2's example: −80 mV is 8300h.
        let raw = Raw {
            mask_enable: 0,
            shunt: i16::from_be_bytes([0x83, 0x00]),
            bus: 0,
            current: 0,
            power: 0,
        };
        let m = raw.measurement(&Calibration::BREAKOUT_100_MILLIOHM);
        assert_eq!(m.shunt_voltage.raw(), -80_000_000);
    }

    #[test]
    fn unused_bits_are_implausible() {
        let (raw, _) = example();
        let bus = Raw {
            bus: raw.bus | 0x8000,
            ..raw
        };
        assert_eq!(
            bus.check_unused_bits::<E>(),
            Err(Error::Implausible(Channel::BusVoltage))
        );
        let mask = Raw {
            mask_enable: raw.mask_enable | (1 << 7),
            ..raw
        };
        assert_eq!(
            mask.check_unused_bits::<E>(),
            Err(Error::Implausible(Channel::MaskEnable))
        );
    }

    #[test]
    fn current_and_power_must_follow_equations_3_and_4() {
        let (raw, config) = example();
        let current = Raw {
            current: raw.current | i16::MIN,
            ..raw
        };
        assert_eq!(
            current.check_consistency::<E>(&config),
            Err(Error::Implausible(Channel::Current))
        );
        let power = Raw {
            power: raw.power ^ 0x0100,
            ..raw
        };
        assert_eq!(
            power.check_consistency::<E>(&config),
            Err(Error::Implausible(Channel::Power))
        );
        // Averaged power is not the product of averaged current and voltage: not checked.
        let averaged = Config {
            averaging: Averaging::X16,
            ..config
        };
        assert_eq!(power.check_consistency::<E>(&averaged), Ok(()));
        // Reverse current: the power register holds the magnitude.
        let reverse = Raw {
            shunt: -raw.shunt,
            current: -raw.current,
            ..raw
        };
        assert_eq!(reverse.check_consistency::<E>(&config), Ok(()));
        assert_eq!(
            reverse.measurement(&config.calibration).power.raw(),
            119_800_000
        );
        assert_eq!(
            reverse.measurement(&config.calibration).current.raw(),
            -10_000_000
        );
        // A cleared calibration register gives zero current and power.
        let lost = Raw {
            current: 0,
            power: 0,
            ..raw
        };
        assert!(lost.looks_uncalibrated(&config.calibration));
        assert!(!raw.looks_uncalibrated(&config.calibration));
        let idle = Raw { shunt: 0, ..lost };
        assert!(!idle.looks_uncalibrated(&config.calibration));
    }
}
