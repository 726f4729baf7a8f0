//! The SHT3x driver: every bus sequence written once (async), with blocking and async facades.

use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::commands::{sht3x as cmd, ADDRESS_SHT3X_HIGH, ADDRESS_SHT3X_LOW};
use super::config::{
    Sht3xConfig, Sht3xMode, SERIAL_NUMBER_US, SHT3X_BREAK_US, SHT3X_SOFT_RESET_US,
};
use super::conversion::{measurement, Family};
use super::interface::{BusResult, Device};
use super::{Error, Measurement, Word};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};

/// The SHT3x's I²C address, chosen by its ADDR pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sht3xAddress {
    /// 0x44: ADDR to VSS (most breakout boards).
    #[default]
    Low,
    /// 0x45: ADDR to VDD.
    High,
}

impl Sht3xAddress {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Low => ADDRESS_SHT3X_LOW,
            Self::High => ADDRESS_SHT3X_HIGH,
        }
    }

    /// The address for a 7-bit value, if an SHT3x can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            ADDRESS_SHT3X_LOW => Some(Self::Low),
            ADDRESS_SHT3X_HIGH => Some(Self::High),
            _ => None,
        }
    }
}

/// The SHT3x status register (datasheet table 18), CRC-checked and free of reserved bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(u16);

impl Status {
    /// Bits 14, 12, 9:5 and 3:2 always read 0.
    const RESERVED: u16 = (1 << 14) | (1 << 12) | (0b1_1111 << 5) | (0b11 << 2);

    /// The register as read, for the bits that have no accessor.
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// Bit 15: at least one alert pending (set after reset).
    pub const fn alert_pending(self) -> bool {
        self.0 & (1 << 15) != 0
    }

    /// Bit 13: the heater is on.
    pub const fn heater_on(self) -> bool {
        self.0 & (1 << 13) != 0
    }

    /// Bit 11: humidity tracking alert.
    pub const fn humidity_alert(self) -> bool {
        self.0 & (1 << 11) != 0
    }

    /// Bit 10: temperature tracking alert.
    pub const fn temperature_alert(self) -> bool {
        self.0 & (1 << 10) != 0
    }

    /// Bit 4: a reset (soft, hard, general call or supply dip) happened since the status was
    /// last cleared. `init` clears it, so it later reveals a chip that lost its state.
    pub const fn reset_detected(self) -> bool {
        self.0 & (1 << 4) != 0
    }

    /// Bit 1: the last command was not processed (invalid, or its checksum failed).
    pub const fn command_failed(self) -> bool {
        self.0 & (1 << 1) != 0
    }

    /// Bit 0: the checksum of the last write transfer (data sent with a command) failed.
    pub const fn write_checksum_failed(self) -> bool {
        self.0 & 1 != 0
    }
}

/// Where the chip's acquisition stands, as far as the driver has told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acquisition {
    /// Idle in single-shot mode (after reset, or never started).
    Idle,
    /// A break was sent without waiting: the chip needs 1 ms before its next command.
    Stopping,
    /// Periodic mode runs; `primed` once its first measurement has had time to complete.
    Periodic { primed: bool },
}

/// State shared by both facades.
#[derive(Debug)]
struct Driver<I2C> {
    device: Device<I2C>,
    config: Sht3xConfig,
    initialized: bool,
    acquisition: Acquisition,
}

impl<I2C: I2c> Driver<I2C> {
    fn new(i2c: I2C, address: u8, config: Sht3xConfig) -> Self {
        Self {
            device: Device { i2c, address },
            config,
            initialized: false,
            acquisition: Acquisition::Idle,
        }
    }

    async fn command(&mut self, command: u16) -> BusResult<(), I2C> {
        self.device.send(&command.to_be_bytes()).await
    }

    /// Stops periodic acquisition (a break) and, if `delay` is given, waits until the chip
    /// takes commands again. Without a delay the wait is owed by the next sequence.
    async fn stop(&mut self, delay: Option<&mut impl DelayNs>) -> BusResult<(), I2C> {
        self.command(cmd::BREAK).await?;
        self.acquisition = Acquisition::Stopping;
        if let Some(delay) = delay {
            delay.delay_us(SHT3X_BREAK_US).await;
            self.acquisition = Acquisition::Idle;
        }
        Ok(())
    }

    /// Waits out a break sent earlier without waiting.
    async fn settle(&mut self, delay: &mut impl DelayNs) {
        if self.acquisition == Acquisition::Stopping {
            delay.delay_us(SHT3X_BREAK_US).await;
            self.acquisition = Acquisition::Idle;
        }
    }

    /// Brings the chip to a known state: break (a periodic mode left running by an earlier
    /// program ignores other commands), soft reset, a status read that proves an SHT3x answers
    /// (CRC, reserved bits), a status clear so that `reset_detected` later means a real reset,
    /// then the configured mode.
    async fn init(&mut self, delay: &mut impl DelayNs) -> BusResult<Status, I2C> {
        self.initialized = false;
        self.stop(Some(&mut *delay)).await?;
        self.command(cmd::SOFT_RESET).await?;
        delay.delay_us(SHT3X_SOFT_RESET_US).await;
        let status = self.read_status().await?;
        self.command(cmd::CLEAR_STATUS).await?;
        self.start_configured_mode().await?;
        self.initialized = true;
        Ok(status)
    }

    /// Starts periodic acquisition if configured; single shot needs nothing.
    async fn start_configured_mode(&mut self) -> BusResult<(), I2C> {
        if let Some(start) = self.config.periodic_command() {
            self.command(start).await?;
            self.acquisition = Acquisition::Periodic { primed: false };
        }
        Ok(())
    }

    async fn read_status(&mut self) -> BusResult<Status, I2C> {
        self.command(cmd::READ_STATUS).await?;
        let [status] = self.device.read_words([Word::Status], None).await?;
        if status & Status::RESERVED != 0 {
            return Err(Error::ReservedStatusBits(status));
        }
        Ok(Status(status))
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> BusResult<Measurement, I2C> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        let max_us = self.config.repeatability.sht3x_max_measurement_us();
        let words = match self.config.mode {
            Sht3xMode::SingleShot => {
                self.settle(delay).await;
                self.command(self.config.repeatability.sht3x_single_shot())
                    .await?;
                delay.delay_us(max_us).await;
                self.device
                    .read_words(
                        [Word::Temperature, Word::Humidity],
                        Some(Error::NotReady { waited_us: max_us }),
                    )
                    .await?
            }
            Sht3xMode::Periodic(_) => {
                if !matches!(self.acquisition, Acquisition::Periodic { .. }) {
                    self.settle(delay).await;
                    self.start_configured_mode().await?;
                }
                if self.acquisition == (Acquisition::Periodic { primed: false }) {
                    delay.delay_us(max_us).await;
                    self.acquisition = Acquisition::Periodic { primed: true };
                }
                self.command(cmd::FETCH_DATA).await?;
                self.device
                    .read_words([Word::Temperature, Word::Humidity], Some(Error::NoNewData))
                    .await?
            }
        };
        Ok(measurement(words, Family::Sht3x))
    }

    /// Applies a new configuration: stops periodic acquisition if it runs, then starts the
    /// new mode. Before `init` the configuration is only stored.
    async fn set_config(
        &mut self,
        config: Sht3xConfig,
        delay: &mut impl DelayNs,
    ) -> BusResult<(), I2C> {
        self.config = config;
        if !self.initialized {
            return Ok(());
        }
        if matches!(self.acquisition, Acquisition::Periodic { .. }) {
            self.stop(Some(&mut *delay)).await?;
        }
        self.settle(delay).await;
        self.start_configured_mode().await
    }

    async fn power_down(&mut self) -> BusResult<(), I2C> {
        // In single shot the chip already idles between measurements (0.2 µA).
        if matches!(self.acquisition, Acquisition::Periodic { .. }) {
            self.stop(None::<&mut NoDelay>).await?;
        }
        Ok(())
    }

    async fn soft_reset(&mut self, delay: &mut impl DelayNs) -> BusResult<(), I2C> {
        if matches!(self.acquisition, Acquisition::Periodic { .. }) {
            self.stop(Some(&mut *delay)).await?;
        }
        self.settle(delay).await;
        self.command(cmd::SOFT_RESET).await?;
        delay.delay_us(SHT3X_SOFT_RESET_US).await;
        // The chip is back in single shot; a periodic configuration restarts on the next
        // reading.
        self.acquisition = Acquisition::Idle;
        Ok(())
    }

    /// Periodic acquisition is stopped first (the chip takes no other command but fetch and
    /// break while it runs); the next reading restarts it.
    async fn serial_number(&mut self, delay: &mut impl DelayNs) -> BusResult<u32, I2C> {
        if matches!(self.acquisition, Acquisition::Periodic { .. }) {
            self.stop(Some(&mut *delay)).await?;
        }
        self.settle(delay).await;
        self.command(cmd::READ_SERIAL).await?;
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
}

impl<I2C> Driver<I2C> {
    fn min_interval(&self) -> core::time::Duration {
        core::time::Duration::from_micros(u64::from(self.config.min_interval_us()))
    }
}

/// A delay that is never called: the type for `stop(None)`.
struct NoDelay;

impl DelayNs for NoDelay {
    async fn delay_ns(&mut self, _ns: u32) {}
}

macro_rules! shared_accessors {
    () => {
        /// The configuration in force.
        pub fn config(&self) -> &Sht3xConfig {
            &self.driver.config
        }

        /// The 7-bit I²C address in use.
        pub fn address(&self) -> u8 {
            self.driver.device.address
        }

        /// How long one single-shot measurement takes at most with the current repeatability,
        /// in µs.
        pub fn max_measurement_time_us(&self) -> u32 {
            self.driver.config.repeatability.sht3x_max_measurement_us()
        }
    };
}

/// Blocking SHT3x driver (SHT30, SHT31, SHT35).
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::sht::{Sht3x, Sht3xAddress, Sht3xConfig};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::sht::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut sensor = Sht3x::new(i2c, Sht3xAddress::Low, Sht3xConfig::default());
/// sensor.init(&mut NoopDelay)?;
/// let reading = sensor.measure(&mut NoopDelay)?; // 2 transactions, 15 ms of waiting
/// println!("{} {}", reading.temperature, reading.humidity);
/// let i2c = sensor.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sht3x<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async SHT3x driver; the same operations as [`Sht3x`], awaited.
#[derive(Debug)]
pub struct Sht3xAsync<I2C> {
    driver: Driver<I2C>,
}

impl<I2C: embedded_hal::i2c::I2c> Sht3x<I2C> {
    /// A driver for the chip at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Sht3xAddress, config: Sht3xConfig) -> Self {
        Self::with_i2c_address(i2c, address.bits(), config)
    }

    /// Like [`Sht3x::new`] with a raw 7-bit address, for address translators.
    pub fn with_i2c_address(i2c: I2C, address: u8, config: Sht3xConfig) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.device.i2c.into_inner()
    }

    /// Stops periodic acquisition, soft-resets the chip (1.5 ms), checks and clears its status
    /// register and starts the configured mode. Returns the status as read after the reset.
    /// Call again to recover a chip that was power-cycled.
    pub fn init<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<Status, Error<I2C::Error>> {
        run_to_completion(self.driver.init(&mut Blocking(delay)))
    }

    /// Takes one reading. Single shot: command, the datasheet's maximum measurement time for
    /// the repeatability, 6-byte read (two transactions). Periodic: fetch command and 6-byte
    /// read, no waiting except before the first result; [`Error::NoNewData`] when read faster
    /// than the configured rate.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<Measurement, Error<I2C::Error>> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Applies a new configuration, stopping periodic acquisition first if it runs.
    pub fn set_config<D: embedded_hal::delay::DelayNs>(
        &mut self,
        config: Sht3xConfig,
        delay: &mut D,
    ) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.set_config(config, &mut Blocking(delay)))
    }

    /// Reads the status register (CRC and reserved bits checked).
    pub fn status(&mut self) -> Result<Status, Error<I2C::Error>> {
        run_to_completion(self.driver.read_status())
    }

    /// Clears the alert and reset-detected bits of the status register.
    pub fn clear_status(&mut self) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.command(cmd::CLEAR_STATUS))
    }

    /// Switches the heater on or off (a few °C of warming, for plausibility checks and to dry
    /// the sensor after condensation). It stays as set until switched or reset.
    pub fn set_heater(&mut self, on: bool) -> Result<(), Error<I2C::Error>> {
        let command = if on { cmd::HEATER_ON } else { cmd::HEATER_OFF };
        run_to_completion(self.driver.command(command))
    }

    /// Reads the 32-bit serial number (command 0x3780, 1 ms, two CRC-checked words). In
    /// periodic mode the acquisition is stopped first and restarts with the next reading.
    pub fn serial_number<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<u32, Error<I2C::Error>> {
        run_to_completion(self.driver.serial_number(&mut Blocking(delay)))
    }

    /// Soft-resets the chip (heater off, single shot); a periodic configuration restarts on
    /// the next reading. The general call reset (address 0x00) is not offered: it resets every
    /// chip on the bus that honours it.
    pub fn soft_reset<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.soft_reset(&mut Blocking(delay)))
    }

    /// Stops periodic acquisition (the chip then idles at 0.2 µA); the next reading restarts
    /// it. Nothing to do in single shot, where the chip idles between readings by itself.
    pub fn power_down(&mut self) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.power_down())
    }

    shared_accessors!();
}

impl<I2C: I2c> Sht3xAsync<I2C> {
    /// A driver for the chip at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Sht3xAddress, config: Sht3xConfig) -> Self {
        Self::with_i2c_address(i2c, address.bits(), config)
    }

    /// Like [`Sht3xAsync::new`] with a raw 7-bit address.
    pub fn with_i2c_address(i2c: I2C, address: u8, config: Sht3xConfig) -> Self {
        Self {
            driver: Driver::new(i2c, address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.device.i2c
    }

    /// See [`Sht3x::init`].
    pub async fn init(&mut self, delay: &mut impl DelayNs) -> Result<Status, Error<I2C::Error>> {
        self.driver.init(delay).await
    }

    /// See [`Sht3x::measure`].
    pub async fn measure(
        &mut self,
        delay: &mut impl DelayNs,
    ) -> Result<Measurement, Error<I2C::Error>> {
        self.driver.measure(delay).await
    }

    /// See [`Sht3x::set_config`].
    pub async fn set_config(
        &mut self,
        config: Sht3xConfig,
        delay: &mut impl DelayNs,
    ) -> Result<(), Error<I2C::Error>> {
        self.driver.set_config(config, delay).await
    }

    /// See [`Sht3x::status`].
    pub async fn status(&mut self) -> Result<Status, Error<I2C::Error>> {
        self.driver.read_status().await
    }

    /// See [`Sht3x::clear_status`].
    pub async fn clear_status(&mut self) -> Result<(), Error<I2C::Error>> {
        self.driver.command(cmd::CLEAR_STATUS).await
    }

    /// See [`Sht3x::set_heater`].
    pub async fn set_heater(&mut self, on: bool) -> Result<(), Error<I2C::Error>> {
        let command = if on { cmd::HEATER_ON } else { cmd::HEATER_OFF };
        self.driver.command(command).await
    }

    /// See [`Sht3x::serial_number`].
    pub async fn serial_number(
        &mut self,
        delay: &mut impl DelayNs,
    ) -> Result<u32, Error<I2C::Error>> {
        self.driver.serial_number(delay).await
    }

    /// See [`Sht3x::soft_reset`].
    pub async fn soft_reset(&mut self, delay: &mut impl DelayNs) -> Result<(), Error<I2C::Error>> {
        self.driver.soft_reset(delay).await
    }

    /// See [`Sht3x::power_down`].
    pub async fn power_down(&mut self) -> Result<(), Error<I2C::Error>> {
        self.driver.power_down().await
    }

    shared_accessors!();
}

/// Temperature, then humidity: the order the chip sends them.
pub(super) const CHANNELS: [sensor::Channel; 2] = [
    sensor::Channel::new("temperature", crate::units::Unit::Celsius),
    sensor::Channel::new("humidity", crate::units::Unit::RelativeHumidity),
];

impl Measurement {
    /// The values in the order of [`CHANNELS`].
    pub(super) fn reading(&self) -> Reading {
        Reading::from_slice(&[self.temperature.celsius(), self.humidity.percent()])
    }
}

impl<I2C> SensorInfo for Sht3x<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C> SensorInfo for Sht3xAsync<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Sht3x<I2C> {
    type Error = Error<I2C::Error>;

    fn init(&mut self, delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Sht3x::init(self, delay).map(drop)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|m| m.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        Sht3x::power_down(self)
    }
}

impl<I2C: I2c> SensorAsync for Sht3xAsync<I2C> {
    type Error = Error<I2C::Error>;

    async fn init(&mut self, delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Sht3xAsync::init(self, delay).await.map(drop)
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|m| m.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        Sht3xAsync::power_down(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bits_follow_datasheet_table_18() {
        // After reset: alert pending (15) and reset detected (4).
        let after_reset = Status(0x8010);
        assert!(after_reset.alert_pending() && after_reset.reset_detected());
        assert!(!after_reset.heater_on() && !after_reset.command_failed());
        let heater = Status(1 << 13);
        assert!(heater.heater_on() && !heater.alert_pending());
        assert!(Status(0b11).command_failed() && Status(0b11).write_checksum_failed());
        assert!(Status(1 << 11).humidity_alert() && Status(1 << 10).temperature_alert());
        // Every bit is either named or reserved.
        let named: u16 = (1 << 15) | (1 << 13) | (1 << 11) | (1 << 10) | (1 << 4) | 0b11;
        assert_eq!(named | Status::RESERVED, 0xFFFF);
        assert_eq!(named & Status::RESERVED, 0);
    }

    #[test]
    fn addresses() {
        assert_eq!(Sht3xAddress::Low.bits(), 0x44);
        assert_eq!(Sht3xAddress::from_bits(0x45), Some(Sht3xAddress::High));
        assert_eq!(Sht3xAddress::from_bits(0x46), None);
    }
}
