//! The driver: every bus sequence written once (async), with blocking and async facades.

use embedded_hal_async::delay::DelayNs;

use super::config::{Completion, Config, Mode};
use super::interface::{Address, I2cInterface, RegisterBus, SpiInterface};
use super::registers::*;
use super::{Calibration, Channel, Error, Measurement, Variant};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{self, Reading, Sensor, SensorAsync, SensorInfo};
use crate::units::{Pressure, RelativeHumidity, Temperature, Unit};

/// Start-up time after power-on or soft reset (datasheet table 1, t_startup).
const STARTUP_US: u32 = 2_000;
/// Extra checks of `im_update` after start-up before the chip counts as stuck.
const STARTUP_RETRIES: u32 = 3;
/// Plausibility limits: the operating range (−40…85 °C, 300…1100 hPa) with a margin. A
/// value outside them comes from a corrupted transfer, not from the air.
const TEMPERATURE_LIMITS_CENTI: (i32, i32) = (-4_500, 9_000);
const PRESSURE_LIMITS_PA: (u32, u32) = (25_000, 125_000);

/// State shared by both facades: the bus interface plus what the driver knows of the chip.
#[derive(Debug)]
struct Driver<IFACE> {
    iface: IFACE,
    config: Config,
    /// Set by a successful `init`.
    chip: Option<(Variant, Calibration)>,
    /// In normal mode, whether a first measurement has had time to complete.
    normal_mode_primed: bool,
    /// Put to sleep by `sleep()`: in normal mode the next `measure` restarts the cycle.
    asleep: bool,
}

type DriverResult<T, IFACE> = Result<T, Error<<IFACE as RegisterBus>::Error>>;

impl<IFACE: RegisterBus> Driver<IFACE> {
    fn new(iface: IFACE, config: Config) -> Self {
        Self {
            iface,
            config,
            chip: None,
            normal_mode_primed: false,
            asleep: false,
        }
    }

    async fn read(&mut self, start: u8, buf: &mut [u8]) -> DriverResult<(), IFACE> {
        self.iface
            .read_registers(start, buf)
            .await
            .map_err(Error::Bus)
    }

    async fn write(&mut self, pairs: &[(u8, u8)]) -> DriverResult<(), IFACE> {
        self.iface.write_registers(pairs).await.map_err(Error::Bus)
    }

    /// Identifies the chip, soft-resets it, reads its calibration and applies the config.
    async fn init(&mut self, delay: &mut impl DelayNs) -> DriverResult<Variant, IFACE> {
        self.chip = None;
        let mut id = [0u8];
        self.read(CHIP_ID, &mut id).await?;
        let variant = match id[0] {
            ID_BME280 => Variant::Bme280,
            id if IDS_BMP280.contains(&id) => Variant::Bmp280,
            id => return Err(Error::UnknownChipId(id)),
        };
        self.write(&[(RESET, RESET_COMMAND)]).await?;
        delay.delay_us(STARTUP_US).await;
        self.wait_for_nvm_copy(delay).await?;

        let mut tp = [0u8; CALIB_TP_LEN];
        self.read(CALIB_TP, &mut tp).await?;
        let calibration = if variant == Variant::Bme280 {
            let mut h = [0u8; CALIB_H_LEN];
            self.read(CALIB_H, &mut h).await?;
            Calibration::parse(&tp, Some(&h))?
        } else {
            Calibration::parse(&tp, None)?
        };
        self.chip = Some((variant, calibration));
        self.apply_config(self.config).await?;
        Ok(variant)
    }

    /// After reset the chip copies its NVM into the image registers (status `im_update`).
    async fn wait_for_nvm_copy(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), IFACE> {
        let mut waited = STARTUP_US;
        for _ in 0..=STARTUP_RETRIES {
            let mut status = [0u8];
            self.read(STATUS, &mut status).await?;
            if status[0] & STATUS_IM_UPDATE == 0 {
                return Ok(());
            }
            delay.delay_us(STARTUP_US / 2).await;
            waited += STARTUP_US / 2;
        }
        Err(Error::NotReady { waited_us: waited })
    }

    fn variant_and_calibration(&self) -> DriverResult<(Variant, Calibration), IFACE> {
        self.chip.ok_or(Error::NotInitialized)
    }

    /// Writes the configuration in one transaction: sleep first (config writes are ignored in
    /// normal mode, datasheet 5.4.6), then config, ctrl_hum, and ctrl_meas last (ctrl_hum only
    /// takes effect after a ctrl_meas write, 5.4.3).
    /// Before `init` the configuration is only stored; `init` applies it.
    async fn apply_config(&mut self, config: Config) -> DriverResult<(), IFACE> {
        if !config.temperature.is_enabled() {
            return Err(Error::UnsupportedConfig(
                "temperature cannot be skipped: pressure and humidity compensation need it",
            ));
        }
        let Some((variant, _)) = self.chip else {
            self.config = config;
            return Ok(());
        };
        let standby = config
            .standby
            .code(variant)
            .ok_or(Error::UnsupportedConfig(
                "this standby time does not exist on this chip variant",
            ))?;
        let mode_bits = match config.mode {
            Mode::Forced => MODE_SLEEP, // each measure() starts a forced conversion
            Mode::Normal => MODE_NORMAL,
        };
        let sleep = (CTRL_MEAS, config.ctrl_meas(MODE_SLEEP));
        let cfg = (CONFIG, config.config_register(standby));
        let meas = (CTRL_MEAS, config.ctrl_meas(mode_bits));
        match variant {
            Variant::Bme280 => {
                self.write(&[sleep, cfg, (CTRL_HUM, config.ctrl_hum()), meas])
                    .await?
            }
            Variant::Bmp280 => self.write(&[sleep, cfg, meas]).await?,
        }
        self.config = config;
        self.normal_mode_primed = false;
        self.asleep = false;
        Ok(())
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, IFACE> {
        let (variant, calibration) = self.variant_and_calibration()?;
        let max_us = self.config.max_measurement_time_us(variant);
        match self.config.mode {
            Mode::Forced => {
                self.write(&[(CTRL_MEAS, self.config.ctrl_meas(MODE_FORCED))])
                    .await?;
                match self.config.completion {
                    Completion::WaitMax => delay.delay_us(max_us).await,
                    Completion::PollStatus => self.poll_until_done(variant, delay).await?,
                }
            }
            Mode::Normal => {
                if self.asleep {
                    self.write(&[(CTRL_MEAS, self.config.ctrl_meas(MODE_NORMAL))])
                        .await?;
                    self.asleep = false;
                    self.normal_mode_primed = false;
                }
                if !self.normal_mode_primed {
                    delay.delay_us(max_us).await;
                    self.normal_mode_primed = true;
                }
            }
        }
        let mut data = [0u8; DATA_LEN];
        let len = match variant {
            Variant::Bme280 => DATA_LEN,
            Variant::Bmp280 => DATA_LEN - 2,
        };
        self.read(DATA, &mut data[..len]).await?;
        decode(&data, variant, &self.config, &calibration)
    }

    /// Waits the typical time, then polls `measuring` in steps until it clears or the maximum
    /// time has passed.
    async fn poll_until_done(
        &mut self,
        variant: Variant,
        delay: &mut impl DelayNs,
    ) -> DriverResult<(), IFACE> {
        let max = self.config.max_measurement_time_us(variant);
        let mut waited = self.config.typical_measurement_time_us(variant);
        let step = ((max - waited) / 4).max(200);
        delay.delay_us(waited).await;
        loop {
            let mut status = [0u8];
            self.read(STATUS, &mut status).await?;
            if status[0] & STATUS_MEASURING == 0 {
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

    async fn sleep(&mut self) -> DriverResult<(), IFACE> {
        self.write(&[(CTRL_MEAS, self.config.ctrl_meas(MODE_SLEEP))])
            .await?;
        self.normal_mode_primed = false;
        self.asleep = true;
        Ok(())
    }
}

/// Turns the burst-read data registers into a measurement with Bosch's integer formulas.
fn decode<E>(
    data: &[u8; DATA_LEN],
    variant: Variant,
    config: &Config,
    calibration: &Calibration,
) -> Result<Measurement, Error<E>> {
    // xlsb registers carry 4 significant bits in 7:4; bits 3:0 always read 0.
    if data[5] & 0x0F != 0 {
        return Err(Error::Implausible(Channel::Temperature));
    }
    let adc_20bit =
        |b: &[u8]| (i32::from(b[0]) << 12) | (i32::from(b[1]) << 4) | i32::from(b[2] >> 4);
    let (centi_celsius, t_fine) = calibration.compensate_temperature(adc_20bit(&data[3..6]));
    if !(TEMPERATURE_LIMITS_CENTI.0..=TEMPERATURE_LIMITS_CENTI.1).contains(&centi_celsius) {
        return Err(Error::Implausible(Channel::Temperature));
    }
    let temperature = Temperature::from_milli_celsius(centi_celsius * 10);

    let pressure = if config.pressure.is_enabled() {
        if data[2] & 0x0F != 0 {
            return Err(Error::Implausible(Channel::Pressure));
        }
        let q24_8 = calibration.compensate_pressure(adc_20bit(&data[0..3]), t_fine);
        let pascals = q24_8 >> 8;
        if !(PRESSURE_LIMITS_PA.0..=PRESSURE_LIMITS_PA.1).contains(&pascals) {
            return Err(Error::Implausible(Channel::Pressure));
        }
        // Q24.8 Pa → 0.01 Pa, rounded to nearest.
        let centi = (u64::from(q24_8) * 100 + 128) / 256;
        Some(Pressure::from_centi_pascals(centi as u32))
    } else {
        None
    };

    let humidity = if variant == Variant::Bme280 && config.humidity.is_enabled() {
        let adc_h = (i32::from(data[6]) << 8) | i32::from(data[7]);
        let q22_10 = calibration.compensate_humidity(adc_h, t_fine);
        // Q22.10 %RH → 0.001 %RH, rounded; the reference clamps to 0..100 %.
        let milli = (u64::from(q22_10) * 1000 + 512) / 1024;
        Some(RelativeHumidity::from_milli_percent(milli as u32))
    } else {
        None
    };

    Ok(Measurement {
        temperature,
        pressure,
        humidity,
    })
}

macro_rules! shared_accessors {
    () => {
        /// The chip found by `init`, if it has run successfully.
        pub fn variant(&self) -> Option<Variant> {
            self.driver.chip.map(|(variant, _)| variant)
        }

        /// The calibration read by `init`.
        pub fn calibration(&self) -> Option<&Calibration> {
            self.driver
                .chip
                .as_ref()
                .map(|(_, calibration)| calibration)
        }

        /// The configuration in force.
        pub fn config(&self) -> &Config {
            &self.driver.config
        }

        /// How long a forced measurement takes at most with the current configuration, in µs.
        pub fn max_measurement_time_us(&self) -> u32 {
            let variant = self.variant().unwrap_or(Variant::Bme280);
            self.driver.config.max_measurement_time_us(variant)
        }
    };
}

/// Blocking BME280/BMP280 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::bme280::{Address, Bme280, Config};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::bme280::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut sensor = Bme280::new_i2c(i2c, Address::Primary, Config::weather_monitoring());
/// sensor.init(&mut NoopDelay)?;
/// let reading = sensor.measure(&mut NoopDelay)?;
/// println!("{} {:?}", reading.temperature, reading.pressure);
/// let i2c = sensor.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Bme280<IFACE> {
    driver: Driver<IFACE>,
}

/// Async BME280/BMP280 driver; the same operations as [`Bme280`], awaited.
#[derive(Debug)]
pub struct Bme280Async<IFACE> {
    driver: Driver<IFACE>,
}

impl<I2C: embedded_hal::i2c::I2c> Bme280<I2cInterface<Blocking<I2C>>> {
    /// A driver for the chip at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new_i2c(i2c: I2C, address: Address, config: Config) -> Self {
        Self::with_i2c_address(i2c, address.bits(), config)
    }

    /// Like [`Bme280::new_i2c`] with a raw 7-bit address, for address translators.
    pub fn with_i2c_address(i2c: I2C, address: u8, config: Config) -> Self {
        let iface = I2cInterface {
            i2c: Blocking(i2c),
            address,
        };
        Self {
            driver: Driver::new(iface, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c.into_inner()
    }
}

impl<SPI: embedded_hal::spi::SpiDevice> Bme280<SpiInterface<Blocking<SPI>>> {
    /// A driver for the chip on a blocking SPI device (mode 0 or 3, up to 10 MHz).
    pub fn new_spi(spi: SPI, config: Config) -> Self {
        let iface = SpiInterface { spi: Blocking(spi) };
        Self {
            driver: Driver::new(iface, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> SPI {
        self.driver.iface.spi.into_inner()
    }
}

impl<IFACE: RegisterBus> Bme280<IFACE> {
    /// Reads the chip id, soft-resets the chip, reads its calibration and applies the
    /// configuration. Call again to recover a chip that was power-cycled.
    pub fn init<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> DriverResult<Variant, IFACE> {
        run_to_completion(self.driver.init(&mut Blocking(delay)))
    }

    /// Takes one reading. In forced mode this starts a conversion, waits for it (see
    /// [`Completion`]) and burst-reads the result: two bus transactions. In normal mode it
    /// reads the latest result: one transaction.
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> DriverResult<Measurement, IFACE> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Applies a new configuration (one bus transaction).
    pub fn set_config(&mut self, config: Config) -> DriverResult<(), IFACE> {
        run_to_completion(self.driver.apply_config(config))
    }

    /// Puts the chip to sleep (0.1 µA) until the next `measure`, which in normal mode restarts
    /// the measurement cycle (one extra write and a wait for the first conversion).
    pub fn sleep(&mut self) -> DriverResult<(), IFACE> {
        run_to_completion(self.driver.sleep())
    }

    shared_accessors!();
}

impl<I2C: embedded_hal_async::i2c::I2c> Bme280Async<I2cInterface<I2C>> {
    /// A driver for the chip at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new_i2c(i2c: I2C, address: Address, config: Config) -> Self {
        let iface = I2cInterface {
            i2c,
            address: address.bits(),
        };
        Self {
            driver: Driver::new(iface, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c
    }
}

impl<SPI: embedded_hal_async::spi::SpiDevice> Bme280Async<SpiInterface<SPI>> {
    /// A driver for the chip on an async SPI device.
    pub fn new_spi(spi: SPI, config: Config) -> Self {
        Self {
            driver: Driver::new(SpiInterface { spi }, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> SPI {
        self.driver.iface.spi
    }
}

impl<IFACE: RegisterBus> Bme280Async<IFACE> {
    /// See [`Bme280::init`].
    pub async fn init(&mut self, delay: &mut impl DelayNs) -> DriverResult<Variant, IFACE> {
        self.driver.init(delay).await
    }

    /// See [`Bme280::measure`].
    pub async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Measurement, IFACE> {
        self.driver.measure(delay).await
    }

    /// See [`Bme280::set_config`].
    pub async fn set_config(&mut self, config: Config) -> DriverResult<(), IFACE> {
        self.driver.apply_config(config).await
    }

    /// See [`Bme280::sleep`].
    pub async fn sleep(&mut self) -> DriverResult<(), IFACE> {
        self.driver.sleep().await
    }

    shared_accessors!();
}

/// The channels of a reading, by which optional channels the configuration and variant give.
fn channels(config: &Config, variant: Option<Variant>) -> &'static [sensor::Channel] {
    const T: sensor::Channel = sensor::Channel::new("temperature", Unit::Celsius);
    const P: sensor::Channel = sensor::Channel::new("pressure", Unit::Pascal);
    const H: sensor::Channel = sensor::Channel::new("humidity", Unit::RelativeHumidity);
    let pressure = config.pressure.is_enabled();
    let humidity = config.humidity.is_enabled() && variant != Some(Variant::Bmp280);
    match (pressure, humidity) {
        (true, true) => &[T, P, H],
        (true, false) => &[T, P],
        (false, true) => &[T, H],
        (false, false) => &[T],
    }
}

impl Measurement {
    /// The values in the order [`SensorInfo::channels`] lists them.
    fn reading(&self) -> Reading {
        let mut reading = Reading::new();
        reading.push(self.temperature.celsius());
        if let Some(pressure) = self.pressure {
            reading.push(pressure.pascals());
        }
        if let Some(humidity) = self.humidity {
            reading.push(humidity.percent());
        }
        reading
    }
}

impl<IFACE> Driver<IFACE> {
    fn min_interval(&self) -> core::time::Duration {
        let variant = self.chip.map_or(Variant::Bme280, |(variant, _)| variant);
        let us = match self.config.mode {
            Mode::Forced => self.config.max_measurement_time_us(variant),
            Mode::Normal => {
                self.config.max_measurement_time_us(variant) + self.config.standby.micros()
            }
        };
        core::time::Duration::from_micros(u64::from(us))
    }
}

impl<IFACE> SensorInfo for Bme280<IFACE> {
    fn channels(&self) -> &[sensor::Channel] {
        channels(&self.driver.config, self.driver.chip.map(|(v, _)| v))
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<IFACE> SensorInfo for Bme280Async<IFACE> {
    fn channels(&self) -> &[sensor::Channel] {
        channels(&self.driver.config, self.driver.chip.map(|(v, _)| v))
    }

    fn min_interval(&self) -> core::time::Duration {
        self.driver.min_interval()
    }
}

impl<IFACE: RegisterBus> Sensor for Bme280<IFACE>
where
    IFACE::Error: core::fmt::Debug,
{
    type Error = Error<IFACE::Error>;

    fn init(&mut self, delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Bme280::init(self, delay).map(drop)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|m| m.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        self.sleep()
    }
}

impl<IFACE: RegisterBus> SensorAsync for Bme280Async<IFACE>
where
    IFACE::Error: core::fmt::Debug,
{
    type Error = Error<IFACE::Error>;

    async fn init(&mut self, delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Bme280Async::init(self, delay).await.map(drop)
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|m| m.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        self.sleep().await
    }
}
