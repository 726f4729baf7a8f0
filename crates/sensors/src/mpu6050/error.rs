use core::fmt;

use crate::sensor::{ErrorKind, SensorError};

/// A value read from the chip, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// TEMP_OUT.
    Temperature,
    /// FIFO_COUNT.
    FifoCount,
}

/// Everything that can go wrong talking to an MPU-6050/6500, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The bus reported an error (NACK, arbitration loss, …).
    Bus(E),
    /// WHO_AM_I holds none of 0x68 (MPU-6050), 0x70 (MPU-6500) or 0x71 (MPU-9250).
    UnknownChipId(u8),
    /// The chip did not finish in the datasheet's time: DEVICE_RESET still set after the
    /// reset time, or no new sample (DATA_RDY) within one sample period.
    NotReady {
        /// Microseconds waited before giving up.
        waited_us: u32,
    },
    /// A value no working chip produces (a die temperature far outside −40…85 °C, a FIFO
    /// count beyond the FIFO's size). The usual cause is a corrupted transfer; the next
    /// reading is independent of this one.
    Implausible(Field),
    /// The FIFO overflowed before it was drained: its contents were discarded (after an
    /// overflow the oldest frame is partly overwritten, so frame boundaries are lost) and the
    /// FIFO restarted. `lost` samples are gone, estimated from the time since the previous
    /// drain at the configured sample rate; the true number is within ±`uncertainty`.
    FifoOverflow {
        /// Samples lost (estimate).
        lost: u32,
        /// Bound on the estimate's error: one sample for the unknown sampling phase plus the
        /// chip clock's ±1 % tolerance over the interval.
        uncertainty: u32,
    },
    /// The FIFO stayed empty although at least `expected` samples were due since the previous
    /// drain: the chip stopped sampling (it may have been reset or put to sleep).
    FifoStalled {
        /// Samples that were due at the slowest clock the datasheet allows.
        expected: u32,
    },
    /// Used before a successful `init`, or the FIFO drained before `start_fifo`.
    NotInitialized,
    /// The configuration cannot be applied to this chip.
    UnsupportedConfig(&'static str),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::UnknownChipId(id) => write!(
                f,
                "WHO_AM_I 0x{id:02X} is not an MPU-6050 (0x68), MPU-6500 (0x70) or MPU-9250 (0x71): wrong address or wrong chip"
            ),
            Self::NotReady { waited_us } => write!(
                f,
                "chip not ready after {waited_us} µs (the datasheet time): stuck in reset or not sampling"
            ),
            Self::Implausible(field) => write!(
                f,
                "implausible {field:?} value (corrupted transfer?): reading discarded"
            ),
            Self::FifoOverflow { lost, uncertainty } => write!(
                f,
                "FIFO overflowed: {lost} ± {uncertainty} samples lost; FIFO restarted (drain it more often)"
            ),
            Self::FifoStalled { expected } => write!(
                f,
                "FIFO empty although at least {expected} samples were due: the chip stopped sampling"
            ),
            Self::NotInitialized => {
                f.write_str("sensor used before init() (or FIFO before start_fifo()) succeeded")
            }
            Self::UnsupportedConfig(why) => write!(f, "unsupported configuration: {why}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: fmt::Debug> SensorError for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::UnknownChipId(_) => ErrorKind::Identity,
            Self::NotReady { .. } | Self::FifoStalled { .. } => ErrorKind::NotReady,
            Self::Implausible(_) => ErrorKind::Corrupt,
            Self::FifoOverflow { .. } => ErrorKind::DataLost,
            Self::NotInitialized => ErrorKind::NotInitialized,
            Self::UnsupportedConfig(_) => ErrorKind::Config,
        }
    }
}
