use core::fmt;

use super::Input;
use crate::sensor::{ErrorKind, SensorError};

/// Everything that can go wrong talking to an ADS1115/ADS1015, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The bus reported an error (NACK, arbitration loss, …).
    Bus(E),
    /// The config register did not read back what `init` wrote: the device at this address is
    /// not an ADS1x15 (the chips have no id register; this is the identity check).
    NotAds1x15 {
        /// What was written (OS bit aside).
        wrote: u16,
        /// What came back.
        read: u16,
    },
    /// The OS bit still reported a conversion in progress when the datasheet's maximum
    /// conversion time had passed.
    NotReady {
        /// Microseconds waited before giving up.
        waited_us: u32,
    },
    /// A conversion result no working chip produces: an ADS1015 result with its always-zero
    /// bits 3:0 set, or a single-ended input more than 0.3 V below GND (beyond the absolute
    /// maximum rating, where the input's protection diodes clamp). The usual cause is a
    /// corrupted transfer; the next reading is independent of this one.
    Implausible(Input),
    /// Polling found a config register other than the one written for this conversion: a
    /// corrupted transfer, or the chip was reset (power loss), in which case `init` restores
    /// its thresholds.
    ConfigMismatch {
        /// What the driver wrote (OS bit aside).
        expected: u16,
        /// What came back.
        found: u16,
    },
    /// Through the common sensor interface only: the input is at or beyond the full-scale
    /// range, so its value would be a bound, not a measurement. (`measure` returns such a
    /// sample with `clipped` set instead.) Choose a wider range.
    Clipped(Input),
    /// A reading was requested before a successful `init`.
    NotInitialized,
    /// The configuration cannot be applied to this chip.
    UnsupportedConfig(&'static str),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::NotAds1x15 { wrote, read } => write!(
                f,
                "config register reads 0x{read:04X} after writing 0x{wrote:04X}: no ADS1x15 at this address"
            ),
            Self::NotReady { waited_us } => write!(
                f,
                "conversion not finished after {waited_us} µs (the datasheet maximum): chip stuck converting"
            ),
            Self::Implausible(input) => write!(
                f,
                "implausible result on {} (corrupted transfer?): reading discarded",
                input.name()
            ),
            Self::Clipped(input) => write!(
                f,
                "{} is at or beyond the full-scale range: its voltage is unknown; choose a wider range",
                input.name()
            ),
            Self::ConfigMismatch { expected, found } => write!(
                f,
                "config register reads 0x{found:04X}, expected 0x{expected:04X}: corrupted transfer or chip reset (init restores it)"
            ),
            Self::NotInitialized => f.write_str("sensor used before init() succeeded"),
            Self::UnsupportedConfig(why) => write!(f, "unsupported configuration: {why}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: fmt::Debug> SensorError for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::NotAds1x15 { .. } => ErrorKind::Identity,
            Self::NotReady { .. } => ErrorKind::NotReady,
            Self::Implausible(_) | Self::ConfigMismatch { .. } => ErrorKind::Corrupt,
            Self::Clipped(_) => ErrorKind::OutOfRange,
            Self::NotInitialized => ErrorKind::NotInitialized,
            Self::UnsupportedConfig(_) => ErrorKind::Config,
        }
    }
}
