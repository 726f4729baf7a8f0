//! The driver: every bus sequence written once (async), with blocking and async facades.

use embedded_hal::i2c::ErrorType;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::config::{Completion, Config, DataRate, Input, Mode, Scan, MAX_INPUTS, WAKE_UP_US};
use super::interface::{Address, I2cInterface};
use super::registers::*;
use super::{Chip, Error, Sample, Samples};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};
use crate::units::{Quantity, Unit};

/// A working single-ended input never reads below GND − 0.3 V: that is the absolute maximum
/// rating (datasheet 7.1), beyond which the input protection diodes clamp.
const SINGLE_ENDED_FLOOR_NV: i64 = -300_000_000;

/// What the converter is doing, as far as the driver knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Converter {
    /// Powered down: single-shot mode between conversions, or after `power_down`.
    PoweredDown,
    /// Continuous mode, converting this input, with at least one result from it available.
    Continuous(Input),
    /// A conversion with other settings may still be in flight for up to `period_us`: the
    /// chip was converting continuously (or mid-conversion) when it was told to stop or
    /// change. It finishes that conversion first (9.4.2.2), and a single-shot start during
    /// it would be ignored (9.4.2.1), so the next conversion waits it out.
    Stopping { period_us: u32 },
}

/// State shared by both facades: the bus, the chip variant, the configuration and what the
/// converter is doing.
#[derive(Debug)]
struct Driver<I2C> {
    iface: I2cInterface<I2C>,
    chip: Chip,
    config: Config,
    channels: [sensor::Channel; MAX_INPUTS],
    initialized: bool,
    converter: Converter,
}

type DriverResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

/// The channel of each input of `scan`, in order (the rest of the array is padding).
fn channels_of(scan: &Scan) -> [sensor::Channel; MAX_INPUTS] {
    let mut channels = [sensor::Channel::new("", Unit::Volt); MAX_INPUTS];
    for (channel, input) in channels.iter_mut().zip(scan.inputs()) {
        *channel = sensor::Channel::new(input.name(), Unit::Volt);
    }
    channels
}

impl<I2C: I2c> Driver<I2C> {
    fn new(i2c: I2C, address: u8, chip: Chip, config: Config) -> Self {
        Self {
            iface: I2cInterface::new(i2c, address),
            chip,
            config,
            channels: channels_of(&config.inputs),
            initialized: false,
            converter: Converter::PoweredDown,
        }
    }

    async fn read(&mut self, register: u8) -> DriverResult<u16, I2C> {
        self.iface.read_register(register).await.map_err(Error::Bus)
    }

    async fn write(&mut self, register: u8, value: u16) -> DriverResult<(), I2C> {
        self.iface
            .write_register(register, value)
            .await
            .map_err(Error::Bus)
    }

    /// The config register that leaves the chip powered down on the scan's first input.
    fn idle_config_register(&self, config: &Config) -> u16 {
        config.config_register(self.chip, config.inputs.first(), false, false)
    }

    /// Checks the chip answers and keeps what it is written, then applies the configuration.
    async fn init(&mut self) -> DriverResult<(), I2C> {
        self.initialized = false;
        self.config
            .validate(self.chip)
            .map_err(Error::UnsupportedConfig)?;
        let previous = self.read(CONFIG).await?;
        let in_flight = self.in_flight_from(previous);
        self.write_settings(self.config).await?;
        self.converter = in_flight.map_or(Converter::PoweredDown, |period_us| {
            Converter::Stopping { period_us }
        });
        let wrote = self.idle_config_register(&self.config);
        let read = self.read(CONFIG).await?;
        if read & !OS != wrote {
            return Err(Error::NotAds1x15 { wrote, read });
        }
        self.initialized = true;
        Ok(())
    }

    /// How long a conversion the chip reported in `config` (read before reconfiguring) may
    /// still run: a continuous conversion up to one period, a single-shot one (OS reads 0)
    /// up to the wake-up plus one period.
    fn in_flight_from(&self, config: u16) -> Option<u32> {
        let rate = DataRate::from_code(((config & DR_MASK) >> DR_SHIFT) as u8, self.chip);
        if config & MODE_SINGLE_SHOT == 0 {
            Some(rate.max_period_us())
        } else if config & OS == 0 {
            Some(WAKE_UP_US + rate.max_period_us())
        } else {
            None
        }
    }

    /// What may still be in flight given what the driver last told the chip.
    fn in_flight(&self) -> Option<u32> {
        match self.converter {
            Converter::PoweredDown => None,
            Converter::Continuous(_) => Some(self.config.data_rate.max_period_us()),
            Converter::Stopping { period_us } => Some(period_us),
        }
    }

    /// Thresholds (when the pin uses them) and the config register with the chip powered
    /// down. The thresholds go first: the config write is what enables the comparator.
    async fn write_settings(&mut self, config: Config) -> DriverResult<(), I2C> {
        let thresholds = config
            .threshold_registers(self.chip)
            .map_err(Error::UnsupportedConfig)?;
        if let Some((low, high)) = thresholds {
            self.write(LO_THRESH, low).await?;
            self.write(HI_THRESH, high).await?;
        }
        let idle = self.idle_config_register(&config);
        self.write(CONFIG, idle).await
    }

    /// Applies a new configuration: thresholds and config register, chip powered down.
    /// Before `init` the configuration is only stored; `init` applies it.
    async fn set_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        config
            .validate(self.chip)
            .map_err(Error::UnsupportedConfig)?;
        if self.initialized {
            let in_flight = self.in_flight();
            let result = self.write_settings(config).await;
            self.converter = in_flight.map_or(Converter::PoweredDown, |period_us| {
                Converter::Stopping { period_us }
            });
            result?;
        }
        self.config = config;
        self.channels = channels_of(&config.inputs);
        Ok(())
    }

    /// One conversion of each input of the scan, in order.
    async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Samples, I2C> {
        let mut samples = Samples::new();
        let scan = self.config.inputs;
        for &input in scan.inputs() {
            samples.push(self.convert(input, delay).await?);
        }
        Ok(samples)
    }

    /// One conversion of `input`.
    async fn convert(
        &mut self,
        input: Input,
        delay: &mut impl DelayNs,
    ) -> DriverResult<Sample, I2C> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        match self.config.mode {
            Mode::SingleShot => self.single_shot(input, delay).await?,
            Mode::Continuous => self.select_continuous(input, delay).await?,
        }
        let raw = self.read(CONVERSION).await?;
        decode(self.chip, &self.config, input, raw)
    }

    /// Starts a single-shot conversion and waits until its result is in the register.
    async fn single_shot(
        &mut self,
        input: Input,
        delay: &mut impl DelayNs,
    ) -> DriverResult<(), I2C> {
        if let Converter::Stopping { period_us } = self.converter {
            delay.delay_us(period_us).await;
        }
        self.converter = Converter::PoweredDown;
        let start = self.config.config_register(self.chip, input, false, true);
        self.write(CONFIG, start).await?;
        match self.config.completion {
            Completion::WaitMax => {
                delay.delay_us(self.config.max_conversion_time_us()).await;
                Ok(())
            }
            Completion::PollStatus => self.poll_until_done(start & !OS, delay).await,
        }
    }

    /// Waits the nominal conversion time, then reads the config register (pointer already
    /// there: 2 bytes) until OS reads 1 or the maximum time has passed.
    async fn poll_until_done(
        &mut self,
        expected: u16,
        delay: &mut impl DelayNs,
    ) -> DriverResult<(), I2C> {
        let max = self.config.max_conversion_time_us();
        let mut waited = self.config.typical_conversion_time_us();
        let step = ((max - waited) / 4).max(10);
        delay.delay_us(waited).await;
        loop {
            let found = self.read(CONFIG).await?;
            if found & !OS != expected {
                return Err(Error::ConfigMismatch { expected, found });
            }
            if found & OS != 0 {
                return Ok(());
            }
            if waited >= max {
                return Err(Error::NotReady { waited_us: waited });
            }
            let next = step.min(max - waited);
            delay.delay_us(next).await;
            waited += next;
        }
    }

    /// In continuous mode, makes sure the conversion register holds a result of `input`:
    /// nothing to do when it is already selected, else select it and wait for its first
    /// result.
    async fn select_continuous(
        &mut self,
        input: Input,
        delay: &mut impl DelayNs,
    ) -> DriverResult<(), I2C> {
        let max_period = self.config.data_rate.max_period_us();
        let wait = match self.converter {
            Converter::Continuous(current) if current == input => return Ok(()),
            // The conversion in progress finishes with the old input, then one full
            // conversion of the new one.
            Converter::Continuous(_) => self.config.input_switch_time_us(),
            Converter::PoweredDown => WAKE_UP_US + max_period,
            Converter::Stopping { period_us } => period_us + WAKE_UP_US + max_period,
        };
        let select = self.config.config_register(self.chip, input, true, false);
        if let Err(e) = self.write(CONFIG, select).await {
            // The chip may or may not have taken it: assume a conversion of something else
            // is running, so the next attempt selects again and waits it out.
            let period_us = self.in_flight().unwrap_or(0).max(max_period);
            self.converter = Converter::Stopping { period_us };
            return Err(e);
        }
        self.converter = Converter::Continuous(input);
        delay.delay_us(wait).await;
        Ok(())
    }

    /// Continuous mode: back to power-down (after the conversion in progress). Single-shot
    /// mode: the chip already powers down after each conversion; nothing to send.
    async fn power_down(&mut self) -> DriverResult<(), I2C> {
        let Some(in_flight) = self.in_flight() else {
            return Ok(());
        };
        let idle = self.idle_config_register(&self.config);
        self.write(CONFIG, idle).await?;
        self.converter = Converter::Stopping {
            period_us: in_flight,
        };
        Ok(())
    }

    /// The shortest interval between readings: single-shot, one conversion per input;
    /// continuous with one input, one period (a new result each period); continuous with
    /// several, an input switch per input.
    fn min_interval(&self) -> core::time::Duration {
        let inputs = self.config.inputs.count();
        let us = match self.config.mode {
            Mode::SingleShot => inputs * self.config.max_conversion_time_us(),
            Mode::Continuous if inputs == 1 => self.config.data_rate.max_period_us(),
            Mode::Continuous => inputs * self.config.input_switch_time_us(),
        };
        core::time::Duration::from_micros(u64::from(us))
    }
}

/// Turns a conversion register into a sample: the ADS1015's 12-bit result is left-justified
/// with bits 3:0 always 0 (SBAS473E 9.6.2); the code times the LSB size is the voltage.
fn decode<E>(chip: Chip, config: &Config, input: Input, raw: u16) -> Result<Sample, Error<E>> {
    if chip == Chip::Ads1015 && raw & ADS1015_RESERVED_BITS != 0 {
        return Err(Error::Implausible(input));
    }
    let code = (raw as i16) >> (16 - chip.resolution_bits());
    let voltage = chip.voltage(config.full_scale, code);
    if input.is_single_ended() && voltage.raw() < SINGLE_ENDED_FLOOR_NV {
        return Err(Error::Implausible(input));
    }
    Ok(Sample {
        input,
        code,
        voltage,
        clipped: code == chip.max_code() || code == chip.min_code(),
    })
}

impl Samples {
    /// The values in volts, in the order [`SensorInfo::channels`] lists them. A clipped
    /// sample is an error here: a full-scale bound published as a voltage would be wrong.
    fn reading<E>(&self) -> Result<Reading, Error<E>> {
        let mut reading = Reading::new();
        for sample in self.as_slice() {
            if sample.clipped {
                return Err(Error::Clipped(sample.input));
            }
            reading.push(sample.voltage.value());
        }
        Ok(reading)
    }
}

macro_rules! shared_accessors {
    () => {
        /// The chip the driver was created for.
        pub fn chip(&self) -> Chip {
            self.driver.chip
        }

        /// The configuration in force.
        pub fn config(&self) -> &Config {
            &self.driver.config
        }

        /// Whether `init` has succeeded.
        pub fn is_initialized(&self) -> bool {
            self.driver.initialized
        }

        /// How long one single-shot conversion takes at most with the current configuration,
        /// in µs.
        pub fn max_conversion_time_us(&self) -> u32 {
            self.driver.config.max_conversion_time_us()
        }
    };
}

/// Blocking ADS1115/ADS1015 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::ads1x15::{Address, Ads1x15, Config, DataRate, FullScale, Input, Scan};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::ads1x15::Error<embedded_hal::i2c::ErrorKind>> {
/// let config = Config::single_shot(Scan::single_ended(), FullScale::V4_096, DataRate::Sps860);
/// let mut adc = Ads1x15::new_ads1115(i2c, Address::Gnd, config);
/// adc.init()?;
/// for sample in adc.measure(&mut NoopDelay)?.as_slice() {
///     println!("{}: {}", sample.input.name(), sample.voltage);
/// }
/// let i2c = adc.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Ads1x15<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async ADS1115/ADS1015 driver; the same operations as [`Ads1x15`], awaited.
#[derive(Debug)]
pub struct Ads1x15Async<I2C> {
    driver: Driver<I2C>,
}

type BlockingResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: embedded_hal::i2c::I2c> Ads1x15<I2C> {
    /// An ADS1115 at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new_ads1115(i2c: I2C, address: Address, config: Config) -> Self {
        Self::new(i2c, Chip::Ads1115, address.bits(), config)
    }

    /// An ADS1015 at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new_ads1015(i2c: I2C, address: Address, config: Config) -> Self {
        Self::new(i2c, Chip::Ads1015, address.bits(), config)
    }

    /// A `chip` at a raw 7-bit address, for address translators.
    pub fn new(i2c: I2C, chip: Chip, address: u8, config: Config) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address, chip, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c.into_inner()
    }

    /// Checks that the chip answers and keeps its config register (it has no id), then writes
    /// the thresholds and the configuration with the chip powered down: 3 to 5 transactions.
    /// Call again to recover a chip that was power-cycled.
    pub fn init(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.init())
    }

    /// One conversion of each input of the scan. Single-shot: per input a config write, the
    /// datasheet's maximum conversion time (or polling, see [`Completion`]) and a 2-byte
    /// read. Continuous with the input already selected: one 2-byte read.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> BlockingResult<Samples, I2C> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// One conversion of `input`, whether or not the scan lists it.
    pub fn convert<D: embedded_hal::delay::DelayNs>(
        &mut self,
        input: Input,
        delay: &mut D,
    ) -> BlockingResult<Sample, I2C> {
        run_to_completion(self.driver.convert(input, &mut Blocking(delay)))
    }

    /// Applies a new configuration (thresholds, then the config register).
    pub fn set_config(&mut self, config: Config) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.set_config(config))
    }

    /// Stops continuous conversion (0.5 µA power-down); the next reading restarts it. In
    /// single-shot mode the chip is already powered down and nothing is sent.
    pub fn power_down(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.power_down())
    }

    shared_accessors!();
}

impl<I2C: I2c> Ads1x15Async<I2C> {
    /// An ADS1115 at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new_ads1115(i2c: I2C, address: Address, config: Config) -> Self {
        Self::new(i2c, Chip::Ads1115, address.bits(), config)
    }

    /// An ADS1015 at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new_ads1015(i2c: I2C, address: Address, config: Config) -> Self {
        Self::new(i2c, Chip::Ads1015, address.bits(), config)
    }

    /// A `chip` at a raw 7-bit address.
    pub fn new(i2c: I2C, chip: Chip, address: u8, config: Config) -> Self {
        Self {
            driver: Driver::new(i2c, address, chip, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c
    }

    /// See [`Ads1x15::init`].
    pub async fn init(&mut self) -> DriverResult<(), I2C> {
        self.driver.init().await
    }

    /// See [`Ads1x15::measure`].
    pub async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Samples, I2C> {
        self.driver.measure(delay).await
    }

    /// See [`Ads1x15::convert`].
    pub async fn convert(
        &mut self,
        input: Input,
        delay: &mut impl DelayNs,
    ) -> DriverResult<Sample, I2C> {
        self.driver.convert(input, delay).await
    }

    /// See [`Ads1x15::set_config`].
    pub async fn set_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        self.driver.set_config(config).await
    }

    /// See [`Ads1x15::power_down`].
    pub async fn power_down(&mut self) -> DriverResult<(), I2C> {
        self.driver.power_down().await
    }

    shared_accessors!();
}

impl<I2C> Driver<I2C> {
    fn channel_slice(&self) -> &[sensor::Channel] {
        let count = self.config.inputs.inputs().len();
        &self.channels[..count]
    }
}

impl<I2C: embedded_hal::i2c::I2c> SensorInfo for Ads1x15<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        self.driver.channel_slice()
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: I2c> SensorInfo for Ads1x15Async<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        self.driver.channel_slice()
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Ads1x15<I2C> {
    type Error = Error<I2C::Error>;

    /// The chip needs no start-up wait: `delay` is unused.
    fn init(&mut self, _delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Ads1x15::init(self)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).and_then(|samples| samples.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        Ads1x15::power_down(self)
    }
}

impl<I2C: I2c> SensorAsync for Ads1x15Async<I2C> {
    type Error = Error<I2C::Error>;

    async fn init(&mut self, _delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Ads1x15Async::init(self).await
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay)
            .await
            .and_then(|samples| samples.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        Ads1x15Async::power_down(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads1x15::FullScale;

    fn config(full_scale: FullScale) -> Config {
        Config {
            full_scale,
            ..Config::default()
        }
    }

    fn sample(
        chip: Chip,
        full_scale: FullScale,
        input: Input,
        raw: u16,
    ) -> Result<Sample, Error<()>> {
        decode(chip, &config(full_scale), input, raw)
    }

    #[test]
    fn full_scale_codes_are_clipped_bounds() {
        let s = sample(Chip::Ads1115, FullScale::V2_048, Input::Ain0Ain1, 0x7FFF).unwrap();
        assert_eq!(
            (s.code, s.voltage.raw(), s.clipped),
            (32_767, 2_047_937_500, true)
        );
        let s = sample(Chip::Ads1115, FullScale::V2_048, Input::Ain0Ain1, 0x8000).unwrap();
        assert_eq!(
            (s.code, s.voltage.raw(), s.clipped),
            (-32_768, -2_048_000_000, true)
        );
        let s = sample(Chip::Ads1115, FullScale::V2_048, Input::Ain0Ain1, 0x7FFE).unwrap();
        assert!(!s.clipped);
        // ADS1015: 7FF0h and 8000h are its full-scale codes (12-bit 7FFh and 800h).
        let s = sample(Chip::Ads1015, FullScale::V6_144, Input::Ain1Ain3, 0x7FF0).unwrap();
        assert_eq!(
            (s.code, s.voltage.raw(), s.clipped),
            (2047, 6_141_000_000, true)
        );
        let s = sample(Chip::Ads1015, FullScale::V6_144, Input::Ain1Ain3, 0x8000).unwrap();
        assert_eq!(
            (s.code, s.voltage.raw(), s.clipped),
            (-2048, -6_144_000_000, true)
        );
    }

    #[test]
    fn ads1015_low_bits_must_read_zero() {
        assert_eq!(
            sample(Chip::Ads1015, FullScale::V2_048, Input::Ain0, 0x1231),
            Err(Error::Implausible(Input::Ain0))
        );
        // 1230h = 291 codes of 1 mV.
        let s = sample(Chip::Ads1015, FullScale::V2_048, Input::Ain0, 0x1230).unwrap();
        assert_eq!((s.code, s.voltage.raw()), (291, 291_000_000));
        // The ADS1115 uses all 16 bits.
        let s = sample(Chip::Ads1115, FullScale::V2_048, Input::Ain0, 0x1231).unwrap();
        assert_eq!(s.voltage.raw(), 0x1231 * 62_500);
    }

    #[test]
    fn single_ended_inputs_cannot_read_far_below_ground() {
        // −0.3 V at ±2.048 V is code −4800: still possible (at the absolute maximum rating).
        assert!(sample(
            Chip::Ads1115,
            FullScale::V2_048,
            Input::Ain2,
            (-4800i16) as u16
        )
        .is_ok());
        assert_eq!(
            sample(
                Chip::Ads1115,
                FullScale::V2_048,
                Input::Ain2,
                (-4801i16) as u16
            ),
            Err(Error::Implausible(Input::Ain2))
        );
        // A differential pair may be negative down to −FS.
        assert!(sample(Chip::Ads1115, FullScale::V2_048, Input::Ain2Ain3, 0x8000).is_ok());
    }
}
