//! The interface the orchestrator drives every sensor through.
//!
//! Each driver keeps its own typed API (`Bme280::measure` returns a `Measurement` with
//! `Temperature`, `Pressure`, …). This module adds the small, uniform view a scheduler
//! needs to handle any of them without knowing which chip it is:
//!
//! - [`SensorInfo`]: the channels a reading carries, each with its unit, and the shortest
//!   interval between readings the chip supports in its current configuration;
//! - [`Sensor`] (blocking) and [`SensorAsync`]: bring the chip up, take one reading, power
//!   it down;
//! - [`BufferedSensor`] (and [`BufferedSensorAsync`]): for chips that buffer samples in a
//!   FIFO, so a high sampling rate costs one bus burst per batch, not transactions per sample;
//! - [`SensorError`]: what kind of failure a driver error is, so the orchestrator can
//!   decide between retrying, discarding one reading and reporting a lost sample.
//!
//! A reading is a fixed-capacity [`Reading`] (no allocation); values are `f32` in the
//! channel's unit, in the order [`SensorInfo::channels`] lists them.

use core::fmt;
use core::time::Duration;

use crate::units::Unit;

/// The most channels one reading carries (an IMU: 3 acceleration, 3 rotation, temperature).
pub const MAX_CHANNELS: usize = 8;

/// One value a sensor reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    /// A stable, lowercase name, used in topics and SenML record names (`"temperature"`,
    /// `"accel_x"`).
    pub name: &'static str,
    /// The unit of the value.
    pub unit: Unit,
}

impl Channel {
    /// A channel called `name` measured in `unit`.
    pub const fn new(name: &'static str, unit: Unit) -> Self {
        Self { name, unit }
    }
}

/// One reading: a value per channel, in the order of [`SensorInfo::channels`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    values: [f32; MAX_CHANNELS],
    len: u8,
}

impl Reading {
    /// An empty reading.
    pub const fn new() -> Self {
        Self {
            values: [0.0; MAX_CHANNELS],
            len: 0,
        }
    }

    /// A reading of `values`, at most [`MAX_CHANNELS`] of them (the rest are dropped: no
    /// driver has more channels, and this cannot fail at run time).
    pub fn from_slice(values: &[f32]) -> Self {
        let mut reading = Self::new();
        for &value in values.iter().take(MAX_CHANNELS) {
            reading.push(value);
        }
        reading
    }

    /// Appends a value; ignored once [`MAX_CHANNELS`] values are present.
    pub fn push(&mut self, value: f32) {
        if let Some(slot) = self.values.get_mut(usize::from(self.len)) {
            *slot = value;
            self.len += 1;
        }
    }

    /// The values, one per channel.
    pub fn values(&self) -> &[f32] {
        &self.values[..usize::from(self.len)]
    }
}

impl Default for Reading {
    fn default() -> Self {
        Self::new()
    }
}

/// What kind of failure a driver error is, as far as a scheduler is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The bus transfer failed (NACK, arbitration loss, I/O error): the chip may be absent
    /// or the wiring loose. Retry with back-off.
    Bus,
    /// The chip did not finish within the datasheet's maximum time.
    NotReady,
    /// No result newer than the last one read: polled faster than the chip's own measurement
    /// rate (periodic mode). Not a fault; read again after [`SensorInfo::min_interval`].
    NoNewData,
    /// The data arrived but cannot be right (CRC mismatch, reserved bits set, value outside
    /// the physical range). This reading is discarded; the next one is independent.
    Corrupt,
    /// Samples were lost before they could be read (a FIFO overflowed). The reading that
    /// reports this says how many.
    DataLost,
    /// The device answered but is not the expected chip, or its identity data is unusable.
    Identity,
    /// The configuration cannot be applied to this chip.
    Config,
    /// The quantity exceeds what the chip's configured range can represent (an ADC or math
    /// overflow). Unlike [`ErrorKind::Corrupt`] this persists while the signal stays high: a
    /// wider range is the cure.
    OutOfRange,
    /// The chip has no usable state: never initialised, or its configuration was lost (a
    /// brown-out reset). Call [`Sensor::init`].
    NotInitialized,
}

/// A driver error that can say what kind of failure it is.
pub trait SensorError: fmt::Debug + fmt::Display {
    /// The kind of failure.
    fn kind(&self) -> ErrorKind;
}

/// What a sensor reports and how often it can.
pub trait SensorInfo {
    /// The channels of a [`Reading`], in order. Depends on the configuration (a skipped
    /// channel is not listed) and, after `init`, on the chip variant found.
    fn channels(&self) -> &[Channel];

    /// The shortest interval between two readings the chip supports in its current
    /// configuration (its conversion time, or its output data period).
    fn min_interval(&self) -> Duration;
}

/// Blocking access to a sensor.
pub trait Sensor: SensorInfo {
    /// The driver's error.
    type Error: SensorError;

    /// Identifies the chip and applies the driver's configuration. Also the way to recover
    /// a chip that was power-cycled or reset.
    fn init(&mut self, delay: &mut impl embedded_hal::delay::DelayNs) -> Result<(), Self::Error>;

    /// Takes one reading, waiting no longer than the chip needs.
    fn read(
        &mut self,
        delay: &mut impl embedded_hal::delay::DelayNs,
    ) -> Result<Reading, Self::Error>;

    /// Puts the chip into its lowest-power state that keeps its configuration; the next
    /// [`Sensor::read`] wakes it.
    fn power_down(&mut self) -> Result<(), Self::Error>;
}

/// Async access to a sensor; the same operations as [`Sensor`], awaited.
// The futures are not `Send`: these drivers run on one executor (embassy, or a current-thread
// runtime per bus), as bus handles are not shared across threads.
#[allow(async_fn_in_trait)]
pub trait SensorAsync: SensorInfo {
    /// The driver's error.
    type Error: SensorError;

    /// See [`Sensor::init`].
    async fn init(
        &mut self,
        delay: &mut impl embedded_hal_async::delay::DelayNs,
    ) -> Result<(), Self::Error>;

    /// See [`Sensor::read`].
    async fn read(
        &mut self,
        delay: &mut impl embedded_hal_async::delay::DelayNs,
    ) -> Result<Reading, Self::Error>;

    /// See [`Sensor::power_down`].
    async fn power_down(&mut self) -> Result<(), Self::Error>;
}

/// Blocking access to a sensor that buffers samples on the chip (a FIFO) at its own rate, so
/// that a high sampling rate costs one bus burst per batch instead of transactions per sample.
pub trait BufferedSensor: Sensor {
    /// The channels of a buffered sample, in order (a FIFO frame may carry fewer values than
    /// a single reading).
    fn buffered_channels(&self) -> &[Channel];

    /// The longest time between two drains before the buffer can overflow.
    fn max_drain_interval(&self) -> Duration;

    /// Empties the buffer and starts filling it at the configured rate. `now` is the caller's
    /// monotonic clock, which later drains pass too: the driver counts lost samples with it.
    fn start_buffering(&mut self, now: Duration) -> Result<(), Self::Error>;

    /// Moves buffered samples into `out`, oldest first, and returns how many. Samples that do
    /// not fit stay buffered for the next drain. After an overflow the error is of kind
    /// [`ErrorKind::DataLost`] and says how many samples were lost; buffering restarts.
    fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, Self::Error>;
}

/// Async access to a buffering sensor; the same operations as [`BufferedSensor`], awaited.
#[allow(async_fn_in_trait)]
pub trait BufferedSensorAsync: SensorAsync {
    /// See [`BufferedSensor::buffered_channels`].
    fn buffered_channels(&self) -> &[Channel];

    /// See [`BufferedSensor::max_drain_interval`].
    fn max_drain_interval(&self) -> Duration;

    /// See [`BufferedSensor::start_buffering`].
    async fn start_buffering(&mut self, now: Duration) -> Result<(), Self::Error>;

    /// See [`BufferedSensor::drain`].
    async fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_keeps_order_and_caps_at_max_channels() {
        let mut reading = Reading::new();
        assert!(reading.values().is_empty());
        for i in 0..10u8 {
            reading.push(f32::from(i));
        }
        assert_eq!(reading.values(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(Reading::from_slice(&[1.5, -2.0]).values(), &[1.5, -2.0]);
    }
}
