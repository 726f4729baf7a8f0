//! The driver: every bus sequence written once (async), with blocking and async facades.

use core::time::Duration;

use embedded_hal::i2c::ErrorType;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::config::{Config, FifoFrame, SingleRead};
use super::interface::{Address, I2cInterface};
use super::registers::*;
use super::sample::{decode, plausible_temperature};
use super::{Error, Field, Sample, Variant};
use crate::blocking::{run_to_completion, Blocking};
use crate::sensor::{
    self, BufferedSensor, BufferedSensorAsync, Reading, Sensor, SensorAsync, SensorInfo,
};
use crate::units::{Quantity, Unit};

/// Wait after DEVICE_RESET before the registers can be written: 100 ms (RM-MPU-6000A 4.26
/// reset sequence; PS-MPU-9250A-01 3.4.2 "start-up time for register read/write", max).
const RESET_US: u32 = 100_000;
/// The largest FIFO (MPU-6050, 1024 bytes): a whole drain fits one burst into this buffer.
const FIFO_BUFFER_BYTES: usize = 1024;
/// The sample clock runs from a gyroscope's MEMS oscillator, ±1 % over temperature
/// (PS-MPU-6000A-00 7.15, PS-MPU-9250A-01 4.15): waits and estimates allow for it.
const CLOCK_TOLERANCE_PERCENT: u64 = 1;

/// What the driver remembers of a running FIFO, to count samples it never saw.
#[derive(Debug, Clone, Copy)]
struct FifoState {
    /// Caller's time of the previous drain (or of the start, plus the start-up time).
    last_drain: Duration,
    /// Whole frames left in the FIFO by that drain (the caller's buffer was full).
    frames_left: u32,
}

/// The outcome of one FIFO drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FifoBatch {
    /// Samples written to the front of the caller's buffer, oldest first.
    pub samples: usize,
    /// Whole samples still in the FIFO because the buffer was full: drain again now.
    pub pending: u32,
}

/// State shared by both facades: the bus interface plus what the driver knows of the chip.
#[derive(Debug)]
struct Driver<I2C> {
    iface: I2cInterface<I2C>,
    config: Config,
    /// Set by a successful `init`.
    variant: Option<Variant>,
    /// Put to sleep by `sleep()`: the next reading wakes the chip and waits its start-up.
    asleep: bool,
    fifo: Option<FifoState>,
}

type DriverResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: I2c> Driver<I2C> {
    fn new(i2c: I2C, address: u8, config: Config) -> Self {
        Self {
            iface: I2cInterface { i2c, address },
            config,
            variant: None,
            asleep: false,
            fifo: None,
        }
    }

    async fn read(&mut self, start: u8, buf: &mut [u8]) -> DriverResult<(), I2C> {
        self.iface.read(start, buf).await.map_err(Error::Bus)
    }

    async fn write(&mut self, start: u8, values: &[u8]) -> DriverResult<(), I2C> {
        self.iface.write(start, values).await.map_err(Error::Bus)
    }

    /// Identifies the chip, resets it, wakes it on the PLL clock, applies the configuration
    /// and waits the gyroscope start-up time, after which the data registers hold valid data.
    async fn init(&mut self, delay: &mut impl DelayNs) -> DriverResult<Variant, I2C> {
        self.variant = None;
        self.fifo = None;
        let mut id = [0u8];
        self.read(WHO_AM_I, &mut id).await?;
        let variant = match id[0] {
            ID_MPU6050 => Variant::Mpu6050,
            ID_MPU6500 => Variant::Mpu6500,
            ID_MPU9250 => Variant::Mpu9250,
            id => return Err(Error::UnknownChipId(id)),
        };
        self.write(PWR_MGMT_1, &[PWR_DEVICE_RESET]).await?;
        delay.delay_us(RESET_US).await;
        // DEVICE_RESET clears itself once the reset is done (RM 4.28).
        let mut power = [0u8];
        self.read(PWR_MGMT_1, &mut power).await?;
        if power[0] & PWR_DEVICE_RESET != 0 {
            return Err(Error::NotReady {
                waited_us: RESET_US,
            });
        }
        // The 6050 comes out of reset asleep (PWR_MGMT_1 = 0x40); wake it on the PLL.
        self.write(PWR_MGMT_1, &[PWR_CLKSEL_PLL]).await?;
        self.variant = Some(variant);
        self.asleep = false;
        self.write_config(variant).await?;
        self.write(INT_ENABLE, &[INT_FIFO_OFLOW | INT_DATA_RDY])
            .await?;
        delay.delay_us(variant.startup_us()).await;
        Ok(variant)
    }

    /// SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG (and ACCEL_CONFIG2 on a 6500) are
    /// consecutive: one burst write.
    const CONFIG_BLOCK_IS_CONSECUTIVE: () = assert!(
        CONFIG == SMPLRT_DIV + 1
            && GYRO_CONFIG == SMPLRT_DIV + 2
            && ACCEL_CONFIG == SMPLRT_DIV + 3
            && ACCEL_CONFIG2 == SMPLRT_DIV + 4
    );

    async fn write_config(&mut self, variant: Variant) -> DriverResult<(), I2C> {
        let () = Self::CONFIG_BLOCK_IS_CONSECUTIVE;
        let c = self.config;
        let values = [
            c.sample_rate_divider,
            c.config_register(),
            c.gyro_config(),
            c.accel_config(),
            c.accel_config2(),
        ];
        let len = if variant.has_accel_config2() { 5 } else { 4 };
        self.write(SMPLRT_DIV, &values[..len]).await
    }

    /// Applies a new configuration (one transaction). A running FIFO is stopped: its frames
    /// would mix two configurations; call `start_fifo` again.
    async fn apply_config(&mut self, config: Config) -> DriverResult<(), I2C> {
        self.config = config;
        let Some(variant) = self.variant else {
            return Ok(());
        };
        if self.fifo.is_some() {
            self.stop_fifo().await?;
        }
        self.write_config(variant).await
    }

    async fn wake_if_asleep(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        if self.asleep {
            let variant = self.variant.ok_or(Error::NotInitialized)?;
            self.write(PWR_MGMT_1, &[PWR_CLKSEL_PLL]).await?;
            self.asleep = false;
            delay.delay_us(variant.startup_us()).await;
        }
        Ok(())
    }

    async fn measure(&mut self, delay: &mut impl DelayNs) -> DriverResult<Sample, I2C> {
        let variant = self.variant.ok_or(Error::NotInitialized)?;
        self.wake_if_asleep(delay).await?;
        if self.config.single_read == SingleRead::NextSample {
            self.wait_for_data_ready(delay).await?;
        }
        let mut data = [0u8; DATA_LEN];
        self.read(ACCEL_XOUT_H, &mut data).await?;
        let sample = decode(
            &data,
            true,
            self.config.accel_range,
            self.config.gyro_range,
            variant,
        );
        match sample.temperature {
            Some(t) if !plausible_temperature(t) => Err(Error::Implausible(Field::Temperature)),
            _ => Ok(sample),
        }
    }

    /// Polls DATA_RDY in quarter-period steps for at most one sample period plus the clock
    /// tolerance.
    async fn wait_for_data_ready(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        let period_us = self.config.sample_period_ns().div_ceil(1000);
        let max_us = period_us + (period_us * CLOCK_TOLERANCE_PERCENT).div_ceil(100);
        let max_us = u32::try_from(max_us).unwrap_or(u32::MAX);
        let step = u32::try_from(period_us / 4).unwrap_or(u32::MAX).max(1);
        let mut waited = 0u32;
        loop {
            let mut status = [0u8];
            self.read(INT_STATUS, &mut status).await?;
            if status[0] & INT_DATA_RDY != 0 {
                return Ok(());
            }
            if waited >= max_us {
                return Err(Error::NotReady { waited_us: waited });
            }
            let next = step.min(max_us - waited);
            delay.delay_us(next).await;
            waited += next;
        }
    }

    /// Selects the frame contents, empties the FIFO and starts filling it. `now` is the
    /// caller's monotonic clock; later drains pass the same clock.
    async fn start_fifo(&mut self, now: Duration) -> DriverResult<(), I2C> {
        let variant = self.variant.ok_or(Error::NotInitialized)?;
        let mut first_sample_at = now;
        if self.asleep {
            // Samples start after the start-up time; the first drain accounts for that.
            self.write(PWR_MGMT_1, &[PWR_CLKSEL_PLL]).await?;
            self.asleep = false;
            first_sample_at += Duration::from_micros(u64::from(variant.startup_us()));
        }
        self.write(FIFO_EN, &[self.config.fifo_frame.fifo_en()])
            .await?;
        self.restart_fifo().await?;
        self.fifo = Some(FifoState {
            last_drain: first_sample_at,
            frames_left: 0,
        });
        Ok(())
    }

    /// FIFO_RESET takes effect while USER_CTRL.FIFO_EN is 0 (RM 4.29): reset with the FIFO
    /// disabled, then enable it. The two writes go to the same register, so they cannot share
    /// a burst (it would continue into PWR_MGMT_1).
    async fn restart_fifo(&mut self) -> DriverResult<(), I2C> {
        self.write(USER_CTRL, &[USER_CTRL_FIFO_RESET]).await?;
        self.write(USER_CTRL, &[USER_CTRL_FIFO_EN]).await
    }

    async fn stop_fifo(&mut self) -> DriverResult<(), I2C> {
        self.fifo = None;
        self.write(USER_CTRL, &[0]).await
    }

    /// Samples produced in `elapsed` at the configured rate: (nearest estimate, minimum at the
    /// slowest clock the datasheet allows).
    fn samples_due(&self, elapsed: Duration) -> (u32, u32) {
        // u64 nanoseconds (584 years) keep 128-bit division off small MCUs.
        let period = self.config.sample_period_ns();
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let estimate = ns / period + u64::from(ns % period >= period.div_ceil(2));
        let minimum = ns.saturating_mul(100) / (period * (100 + CLOCK_TOLERANCE_PERCENT));
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        (clamp(estimate), clamp(minimum))
    }

    /// One drain: FIFO_COUNT, then one burst of whole frames from FIFO_R_W, each decoded and
    /// stored in `out` as `store` makes it (a [`Sample`], or a common-interface reading).
    async fn read_fifo<T>(
        &mut self,
        now: Duration,
        out: &mut [T],
        store: impl Fn(Sample) -> T,
    ) -> DriverResult<FifoBatch, I2C> {
        let variant = self.variant.ok_or(Error::NotInitialized)?;
        let state = self.fifo.ok_or(Error::NotInitialized)?;
        let capacity = variant.fifo_capacity_bytes();
        let frame = self.config.fifo_frame.bytes();

        let mut count = [0u8; 2];
        self.read(FIFO_COUNT_H, &mut count).await?;
        let count = usize::from(u16::from_be_bytes(count));
        if count > capacity {
            return Err(Error::Implausible(Field::FifoCount));
        }
        let elapsed = now.saturating_sub(state.last_drain);
        // A full FIFO has overwritten (or is about to overwrite) its oldest bytes: 1024 and 512
        // are not multiples of 12 or 14, so a FIFO holding whole frames never reads full. A
        // count between frames below that is a frame the chip is still writing.
        if count == capacity {
            // Read INT_STATUS to clear the latched FIFO_OFLOW_INT (and release the INT pin).
            let mut status = [0u8];
            self.read(INT_STATUS, &mut status).await?;
            self.restart_fifo().await?;
            let (due, _) = self.samples_due(elapsed);
            self.fifo = Some(FifoState {
                last_drain: now,
                frames_left: 0,
            });
            let uncertainty =
                1 + u32::try_from((u64::from(due) * CLOCK_TOLERANCE_PERCENT).div_ceil(100))
                    .unwrap_or(u32::MAX);
            return Err(Error::FifoOverflow {
                lost: state.frames_left.saturating_add(due),
                uncertainty,
            });
        }

        let available = count / frame;
        if available == 0 {
            let (_, minimum) = self.samples_due(elapsed);
            self.fifo = Some(FifoState {
                last_drain: now,
                frames_left: 0,
            });
            // One sample may be just about to land; two missing means the chip is not sampling.
            if minimum >= 2 {
                return Err(Error::FifoStalled { expected: minimum });
            }
            return Ok(FifoBatch {
                samples: 0,
                pending: 0,
            });
        }

        let take = available.min(out.len()).min(FIFO_BUFFER_BYTES / frame);
        let mut bytes = [0u8; FIFO_BUFFER_BYTES];
        let bytes = &mut bytes[..take * frame];
        if take > 0 {
            self.read(FIFO_R_W, bytes).await?;
        }
        let with_temperature = frame == 14;
        for (slot, raw) in out.iter_mut().zip(bytes.chunks_exact(frame)) {
            *slot = store(decode(
                raw,
                with_temperature,
                self.config.accel_range,
                self.config.gyro_range,
                variant,
            ));
        }
        let pending = u32::try_from(available - take).unwrap_or(u32::MAX);
        self.fifo = Some(FifoState {
            last_drain: now,
            frames_left: pending,
        });
        Ok(FifoBatch {
            samples: take,
            pending,
        })
    }

    async fn sleep(&mut self) -> DriverResult<(), I2C> {
        self.variant.ok_or(Error::NotInitialized)?;
        self.write(PWR_MGMT_1, &[PWR_SLEEP | PWR_CLKSEL_PLL])
            .await?;
        self.asleep = true;
        // Asleep, the chip samples nothing: a FIFO restarts with `start_fifo`.
        self.fifo = None;
        Ok(())
    }
}

impl<I2C> Driver<I2C> {
    fn min_interval(&self) -> Duration {
        Duration::from_nanos(self.config.sample_period_ns())
    }

    fn max_drain_interval(&self) -> Duration {
        let variant = self.variant.unwrap_or(Variant::Mpu6500);
        let frames = variant.fifo_capacity_bytes() / self.config.fifo_frame.bytes();
        // At the fastest clock the datasheet allows, minus one frame of margin.
        let ns = self.config.sample_period_ns() * (frames as u64 - 1) * 100
            / (100 + CLOCK_TOLERANCE_PERCENT);
        Duration::from_nanos(ns)
    }
}

macro_rules! shared_accessors {
    () => {
        /// The chip found by `init`, if it has run successfully.
        pub fn variant(&self) -> Option<Variant> {
            self.driver.variant
        }

        /// The configuration in force.
        pub fn config(&self) -> &Config {
            &self.driver.config
        }

        /// Time between two samples at the configured rate.
        pub fn sample_period(&self) -> Duration {
            self.driver.min_interval()
        }

        /// The longest time between two FIFO drains before the FIFO can overflow (after
        /// `init`; before it, the smaller MPU-6500 FIFO is assumed): 84 ms at 1 kHz with
        /// 12-byte frames on an MPU-6050, 41 ms on an MPU-6500.
        pub fn max_drain_interval(&self) -> Duration {
            self.driver.max_drain_interval()
        }

        /// Whether a FIFO stream is running (`start_fifo` succeeded and nothing stopped it).
        pub fn fifo_running(&self) -> bool {
            self.driver.fifo.is_some()
        }
    };
}

/// Blocking MPU-6050/MPU-6500 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use core::time::Duration;
/// use edgewise_sensors::mpu6050::{Address, Config, Mpu6050, Sample};
/// # fn demo(i2c: Mock, now: impl Fn() -> Duration) -> Result<(), edgewise_sensors::mpu6050::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut imu = Mpu6050::new(i2c, Address::Ad0Low, Config::vibration_1khz());
/// imu.init(&mut NoopDelay)?;
/// let one = imu.measure(&mut NoopDelay)?; // one 14-byte burst
/// imu.start_fifo(now())?;
/// let mut batch = [Sample::default(); 64];
/// let got = imu.read_fifo(now(), &mut batch)?; // FIFO_COUNT + one burst
/// let i2c = imu.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Mpu6050<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async MPU-6050/MPU-6500 driver; the same operations as [`Mpu6050`], awaited.
#[derive(Debug)]
pub struct Mpu6050Async<I2C> {
    driver: Driver<I2C>,
}

impl<I2C: embedded_hal::i2c::I2c> Mpu6050<I2C> {
    /// A driver for the chip at `address` on a blocking I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self::with_address(i2c, address.bits(), config)
    }

    /// Like [`Mpu6050::new`] with a raw 7-bit address, for address translators.
    pub fn with_address(i2c: I2C, address: u8, config: Config) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c.into_inner()
    }

    /// Reads WHO_AM_I, resets the chip (100 ms), wakes it on the gyroscope PLL, writes the
    /// configuration and waits the gyroscope start-up time (30 ms on the 6050, 35 ms on the
    /// 6500). Call again to recover a chip that was power-cycled.
    pub fn init<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<Variant, Error<I2C::Error>> {
        run_to_completion(self.driver.init(&mut Blocking(delay)))
    }

    /// Takes one reading: one burst read of the 14 data registers, after polling DATA_RDY
    /// with [`SingleRead::NextSample`](super::SingleRead::NextSample). Wakes a sleeping chip
    /// first (one write and the start-up time).
    pub fn measure<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> Result<Sample, Error<I2C::Error>> {
        run_to_completion(self.driver.measure(&mut Blocking(delay)))
    }

    /// Applies a new configuration (one transaction; stops a running FIFO).
    pub fn set_config(&mut self, config: Config) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.apply_config(config))
    }

    /// Empties the FIFO and starts filling it with the configured frames at the sample rate
    /// (three writes). `now` is the caller's monotonic clock, used to count lost samples.
    pub fn start_fifo(&mut self, now: Duration) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.start_fifo(now))
    }

    /// Drains whole samples into `out`, oldest first: one FIFO_COUNT read and one burst read,
    /// whatever the batch size; a partial frame is left for the next drain. Drain at least
    /// every [`max_drain_interval`](Self::max_drain_interval). On overflow the FIFO is
    /// restarted and [`Error::FifoOverflow`] says how many samples were lost: the estimate is
    /// the time since the previous drain (`now` minus its `now`) times the sample rate, plus
    /// samples that drain left behind, within ±1 sample plus 1 % (the chip clock's tolerance;
    /// the caller's clock must be monotonic and at least as precise).
    pub fn read_fifo(
        &mut self,
        now: Duration,
        out: &mut [Sample],
    ) -> Result<FifoBatch, Error<I2C::Error>> {
        run_to_completion(self.driver.read_fifo(now, out, |sample| sample))
    }

    /// Stops filling the FIFO (one write).
    pub fn stop_fifo(&mut self) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.stop_fifo())
    }

    /// Puts the chip to sleep (PWR_MGMT_1.SLEEP, 5 µA) keeping its configuration; the next
    /// `measure` or `start_fifo` wakes it. Stops a running FIFO.
    pub fn sleep(&mut self) -> Result<(), Error<I2C::Error>> {
        run_to_completion(self.driver.sleep())
    }

    shared_accessors!();
}

impl<I2C: I2c> Mpu6050Async<I2C> {
    /// A driver for the chip at `address` on an async I²C bus. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            driver: Driver::new(i2c, address.bits(), config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.iface.i2c
    }

    /// See [`Mpu6050::init`].
    pub async fn init(&mut self, delay: &mut impl DelayNs) -> Result<Variant, Error<I2C::Error>> {
        self.driver.init(delay).await
    }

    /// See [`Mpu6050::measure`].
    pub async fn measure(&mut self, delay: &mut impl DelayNs) -> Result<Sample, Error<I2C::Error>> {
        self.driver.measure(delay).await
    }

    /// See [`Mpu6050::set_config`].
    pub async fn set_config(&mut self, config: Config) -> Result<(), Error<I2C::Error>> {
        self.driver.apply_config(config).await
    }

    /// See [`Mpu6050::start_fifo`].
    pub async fn start_fifo(&mut self, now: Duration) -> Result<(), Error<I2C::Error>> {
        self.driver.start_fifo(now).await
    }

    /// See [`Mpu6050::read_fifo`].
    pub async fn read_fifo(
        &mut self,
        now: Duration,
        out: &mut [Sample],
    ) -> Result<FifoBatch, Error<I2C::Error>> {
        self.driver.read_fifo(now, out, |sample| sample).await
    }

    /// See [`Mpu6050::stop_fifo`].
    pub async fn stop_fifo(&mut self) -> Result<(), Error<I2C::Error>> {
        self.driver.stop_fifo().await
    }

    /// See [`Mpu6050::sleep`].
    pub async fn sleep(&mut self) -> Result<(), Error<I2C::Error>> {
        self.driver.sleep().await
    }

    shared_accessors!();
}

/// accel_x/y/z (m/s²), gyro_x/y/z (rad/s), temperature (°C): the order of a burst read.
const CHANNELS: [sensor::Channel; 7] = [
    sensor::Channel::new("accel_x", Unit::MetrePerSecondSquared),
    sensor::Channel::new("accel_y", Unit::MetrePerSecondSquared),
    sensor::Channel::new("accel_z", Unit::MetrePerSecondSquared),
    sensor::Channel::new("gyro_x", Unit::RadianPerSecond),
    sensor::Channel::new("gyro_y", Unit::RadianPerSecond),
    sensor::Channel::new("gyro_z", Unit::RadianPerSecond),
    sensor::Channel::new("temperature", Unit::Celsius),
];

impl Sample {
    /// The values in the order [`SensorInfo::channels`] lists them.
    fn reading(&self) -> Reading {
        let mut reading = Reading::new();
        for a in self.acceleration {
            reading.push(a.value());
        }
        for w in self.angular_rate {
            reading.push(w.value());
        }
        if let Some(t) = self.temperature {
            reading.push(t.celsius());
        }
        reading
    }
}

impl<I2C> SensorInfo for Mpu6050<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> Duration {
        self.driver.min_interval()
    }
}

impl<I2C> SensorInfo for Mpu6050Async<I2C> {
    fn channels(&self) -> &[sensor::Channel] {
        &CHANNELS
    }

    fn min_interval(&self) -> Duration {
        self.driver.min_interval()
    }
}

impl<I2C: embedded_hal::i2c::I2c> Sensor for Mpu6050<I2C> {
    type Error = Error<I2C::Error>;

    fn init(&mut self, delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error> {
        Mpu6050::init(self, delay).map(drop)
    }

    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error> {
        self.measure(delay).map(|s| s.reading())
    }

    fn power_down(&mut self) -> Result<(), Self::Error> {
        self.sleep()
    }
}

impl<I2C: I2c> SensorAsync for Mpu6050Async<I2C> {
    type Error = Error<I2C::Error>;

    async fn init(&mut self, delay: &mut impl DelayNs) -> Result<(), Self::Error> {
        Mpu6050Async::init(self, delay).await.map(drop)
    }

    async fn read(&mut self, delay: &mut impl DelayNs) -> Result<Reading, Self::Error> {
        self.measure(delay).await.map(|s| s.reading())
    }

    async fn power_down(&mut self) -> Result<(), Self::Error> {
        self.sleep().await
    }
}

/// The channels of a FIFO frame: the burst-read channels, without temperature unless the
/// frame carries it.
fn buffered_channels(config: &Config) -> &'static [sensor::Channel] {
    match config.fifo_frame {
        FifoFrame::AccelGyro => &CHANNELS[..6],
        FifoFrame::AccelTempGyro => &CHANNELS,
    }
}

impl<I2C: embedded_hal::i2c::I2c> BufferedSensor for Mpu6050<I2C> {
    fn buffered_channels(&self) -> &[sensor::Channel] {
        buffered_channels(&self.driver.config)
    }

    fn max_drain_interval(&self) -> Duration {
        self.driver.max_drain_interval()
    }

    fn start_buffering(&mut self, now: Duration) -> Result<(), Self::Error> {
        self.start_fifo(now)
    }

    fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, Self::Error> {
        run_to_completion(self.driver.read_fifo(now, out, |sample| sample.reading()))
            .map(|batch| batch.samples)
    }
}

impl<I2C: I2c> BufferedSensorAsync for Mpu6050Async<I2C> {
    fn buffered_channels(&self) -> &[sensor::Channel] {
        buffered_channels(&self.driver.config)
    }

    fn max_drain_interval(&self) -> Duration {
        self.driver.max_drain_interval()
    }

    async fn start_buffering(&mut self, now: Duration) -> Result<(), Self::Error> {
        self.start_fifo(now).await
    }

    async fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, Self::Error> {
        self.driver
            .read_fifo(now, out, |sample| sample.reading())
            .await
            .map(|batch| batch.samples)
    }
}
