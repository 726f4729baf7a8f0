//! The SHT4x driver: every bus sequence written once (async), with blocking and async facades.
//!
//! The SHT4x has no periodic mode and no status register: each reading is one measurement
//! command, the maximum measurement time, one 6-byte read; between readings the chip idles
//! at 80 nA by itself, so powering down needs no command.

use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::commands::{sht4x as cmd, ADDRESS_SHT4X_A, ADDRESS_SHT4X_B, ADDRESS_SHT4X_C};
use super::config::{HeaterPulse, Sht4xConfig, SERIAL_NUMBER_US, SHT4X_SOFT_RESET_US};
use super::conversion::{measurement, Family};
use super::interface::{BusResult, Device};
use super::sht3x::CHANNELS;
use super::{Error, Measurement, Word};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};

/// The SHT4x's I²C address, fixed by the part number (SHT40-AD1B, -BD1B, -CD1B, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sht4xAddress {
    /// 0x44: the "A" parts, including every SHT41 and SHT45.
    #[default]
    A,
    /// 0x45: the "B" parts.
    B,
    /// 0x46: the "C" parts.
    C,
}

impl Sht4xAddress {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::A => ADDRESS_SHT4X_A,
            Self::B => ADDRESS_SHT4X_B,
            Self::C => ADDRESS_SHT4X_C,
        }
    }

    /// The address for a 7-bit value, if an SHT4x can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            ADDRESS_SHT4X_A => Some(Self::A),
            ADDRESS_SHT4X_B => Some(Self::B),
            ADDRESS_SHT4X_C => Some(Self::C),
            _ => None,
        }
    }
}

/// State shared by both facades.
#[derive(Debug)]
struct Driver<I2C> {
    device: Device<I2C>,
    config: Sht4xConfig,
    /// Read by a successful `init`.
    serial: Option<u32>,
}

impl<I2C: I2c> Driver<I2C> {
    fn new(i2c: I2C, address: u8, config: Sht4xConfig) -> Self {
        Self {
            device: Device { i2c, address },
            config,
            serial: None,
        }
    }

    /// Soft reset, then the serial number: with no id register, two CRC-checked words are
    /// the proof that an SHT4x answers.
    async fn init(&mut self, delay: &mut impl DelayNs) -> BusResult<u32, I2C> {
        self.serial = None;
        self.soft_reset(delay).await?;
        let serial = self.serial_number(delay).await?;
        self.serial = Some(serial);
        Ok(serial)
    }

    async fn soft_reset(&mut self, delay: &mut impl DelayNs) -> BusResult<(), I2C> {
        self.device.send(&[cmd::SOFT_RESET]).await?;
        delay.delay_us(SHT4X_SOFT_RESET_US).await;
        Ok(())
    }

    async fn serial_number(&mut self, delay: &mut impl DelayNs) -> BusResult<u32, I2C> {
        self.device.send(&[cmd::READ_SERIAL]).await?;
        delay.delay_us(SERIAL_NUMBER_US).await;
        let [high, low] = self
            .device
            .read_words(
                [Word::SerialHigh, Word::SerialLow],
                Some(Error::NotReady {
                    waited_us: SERIAL_NUMBER_US,
                }),
            )
            .await?;
        Ok((u32::from(high) << 16) | u32::from(low))
    }

    /// One command, a wait of `wait_us`, one 6-byte read.
    async fn run_measurement(
        &mut self,
        command: u8,
        wait_us: u32,
        delay: &mut impl DelayNs,
    ) -> BusResult<Measurement, I2C> {
        if self.serial.is_none() {
            return Err(Error::NotInitialized);
        }
        self.device.send(&[command]).await?;
        delay.delay_us(wait_us).await;
        let words = self
            .device
            .read_words(
                [Word::Temperature, Word::Humidity],
                Some(Error::NotReady { waited_us: wait_us }),
            )
            .await?;
        Ok(measurement(words, Family::Sht4x))
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> BusResult<Measurement, I2C> {
        let repeatability = self.config.repeatability;
        self.run_measurement(
            repeatability.sht4x_measure(),
            repeatability.sht4x_max_measurement_us(),
            delay,
        )
        .await
    }

    async fn heat_and_measure(
        &mut self,
        pulse: HeaterPulse,
        delay: &mut impl DelayNs,
    ) -> BusResult<Measurement, I2C> {
        self.run_measurement(pulse.command(), pulse.max_duration_us(), delay)
            .await
    }
}

impl<I2C> Driver<I2C> {
    fn min_interval(&self) -> core::time::Duration {
        let us = self.config.repeatability.sht4x_max_measurement_us();
        core::time::Duration::from_micros(u64::from(us))
    }
}

macro_rules! shared_accessors {
    () => {
        /// The configuration in force.
        pub fn config(&self) -> &Sht4xConfig {
            &self.driver.config
        }

        /// Sets the repeatability of later readings (no bus traffic: the SHT4x takes it with
        /// each measurement command).
        pub fn set_config(&mut self, config: Sht4xConfig) {
            self.driver.config = config;
        }

        /// The serial number read by `init`, if it has run successfully.
        pub fn serial(&self) -> Option<u32> {
            self.driver.serial
        }

        /// The 7-bit I²C address in use.
        pub fn address(&self) -> u8 {
            self.driver.device.address
        }

        /// How long one measurement takes at most with the current repeatability, in µs.
        pub fn max_measurement_time_us(&self) -> u32 {
            self.driver.config.repeatability.sht4x_max_measurement_us()
        }
    };
}

/// Blocking SHT4x driver (SHT40, SHT41, SHT43, SHT45).
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::sht::{Sht4x, Sht4xAddress, Sht4xConfig};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::sht::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut sensor = Sht4x::new(i2c, Sht4xAddress::A, Sht4xConfig::default());
/// let serial = sensor.init(&mut NoopDelay)?;
/// let reading = sensor.measure(&mut NoopDelay)?; // 2 transactions, 8.3 ms of waiting
/// println!("{serial:08X}: {} {}", reading.temperature, reading.humidity);
/// let i2c = sensor.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sht4x<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async SHT4x driver; the same operations as [`Sht4x`], awaited.
#[derive(Debug)]
pub struct Sht4xAsync<I2C> {
    driver: Driver<I2C>,
}

impl<I2C: embedded_hal::i2c::I2c> Sht4x<I2C> {
    /// A driver for the chip at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Sht4xAddress, config: Sht4xConfig) -> Self {
        Self::with_i2c_address(i2c, address.bits(), config)
    }

    /// Like [`Sht4x::new`] with a raw 7-bit address, for address translators.
    pub fn with_i2c_address(i2c: I2C, address: u8, config: Sht4xConfig) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.device.i2c.into_inner()
    }

    /// Soft-resets the chip (1 ms) and reads its serial number (1 ms), which it returns. Call
    /// again to recover a chip that was power-cycled.
    pub fn init<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<u32, Error<I2C::Error>> {
        run_to_completion(self.driver.init(&mut Blocking(delay)))
    }

    /// Takes one reading: command, the datasheet's maximum measurement time for the
    /// repeatability (8.3, 4.5 or 1.6 ms), 6-byte read. Two bus transactions.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<Measurement, Error<I2C::Error>> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Runs one heater pulse and returns the high-precision measurement the chip takes at its
    /// end (waits the pulse's maximum length, 1.1 s or 0.11 s). The temperature is the heated
    /// sensor's and the humidity is relative to it; see [`HeaterPulse`] for the duty-cycle
    /// limit.
    pub fn heat_and_measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        pulse: HeaterPulse,
        delay: &mut D,
    ) -> Result<Measurement, Error<I2C::Error>> {
        run_to_completion(self.driver.heat_and_measure(pulse, &mut Blocking(delay)))
    }

    /// Reads the 32-bit serial number (command 0x89, 1 ms, two CRC-checked words).
    pub fn serial_number<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<u32, Error<I2C::Error>> {
        run_to_completion(self.driver.serial_number(&mut Blocking(delay)))
    }

    /// Soft-resets the chip (1 ms).
    pub fn soft_reset<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.soft_reset(&mut Blocking(delay)))
    }

    shared_accessors!();
}

impl<I2C: I2c> Sht4xAsync<I2C> {
    /// A driver for the chip at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Sht4xAddress, config: Sht4xConfig) -> Self {
        Self::with_i2c_address(i2c, address.bits(), config)
    }

    /// Like [`Sht4xAsync::new`] with a raw 7-bit address.
    pub fn with_i2c_address(i2c: I2C, address: u8, config: Sht4xConfig) -> Self {
        Self {
            driver: Driver::new(i2c, address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.device.i2c
    }

    /// See [`Sht4x::init`].
    pub async fn init(&mut self, delay: &mut impl DelayNs) -> Result<u32, Error<I2C::Error>> {
        self.driver.init(delay).await
    }

    /// See [`Sht4x::measure`].
    pub async fn measure(
        &mut self,
        delay: &mut impl DelayNs,
    ) -> Result<Measurement, Error<I2C::Error>> {
        self.driver.measure(delay).await
    }

    /// See [`Sht4x::heat_and_measure`].
    pub async fn heat_and_measure(
        &mut self,
        pulse: HeaterPulse,
        delay: &mut impl DelayNs,
    ) -> Result<Measurement, Error<I2C::Error>> {
        self.driver.heat_and_measure(pulse, delay).await
    }

    /// See [`Sht4x::serial_number`].
    pub async fn serial_number(
        &mut self,
        delay: &mut impl DelayNs,
    ) -> Result<u32, Error<I2C::Error>> {
        self.driver.serial_number(delay).await
    }

    /// See [`Sht4x::soft_reset`].
    pub async fn soft_reset(&mut self, delay: &mut impl DelayNs) -> Result<(), Error<I2C::Error>> {
        self.driver.soft_reset(delay).await
    }

    shared_accessors!();
}

impl<I2C> SensorInfo for Sht4x<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C> SensorInfo for Sht4xAsync<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Sht4x<I2C> {
    type Error = Error<I2C::Error>;

    fn init(&mut self, delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Sht4x::init(self, delay).map(drop)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|m| m.reading())
    }

    /// Nothing to send: the SHT4x idles at 80 nA between measurements by itself.
    fn power_down(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<I2C: I2c> SensorAsync for Sht4xAsync<I2C> {
    type Error = Error<I2C::Error>;

    async fn init(&mut self, delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Sht4xAsync::init(self, delay).await.map(drop)
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|m| m.reading())
    }

    /// Nothing to send: the SHT4x idles at 80 nA between measurements by itself.
    async fn power_down(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let all = [Sht4xAddress::A, Sht4xAddress::B, Sht4xAddress::C].map(Sht4xAddress::bits);
        assert_eq!(all, [0x44, 0x45, 0x46]);
        assert_eq!(Sht4xAddress::from_bits(0x46), Some(Sht4xAddress::C));
        assert_eq!(Sht4xAddress::from_bits(0x47), None);
    }
}
