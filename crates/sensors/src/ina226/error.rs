use core::fmt;

use super::config::AlertLimitError;
use crate::sensor::{ErrorKind, SensorError};

/// A register of a reading, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Bus voltage register (02h).
    BusVoltage,
    /// Shunt voltage register (01h).
    ShuntVoltage,
    /// Current register (04h).
    Current,
    /// Power register (03h).
    Power,
    /// Mask/Enable register (06h), which carries the flags.
    MaskEnable,
}

/// Everything that can go wrong talking to an INA226, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The bus reported an error (NACK, arbitration loss, …).
    Bus(E),
    /// The manufacturer ID (FEh) is not TI's 5449h or the die ID (FFh) is not an INA226's
    /// 226xh: the device at this address is another chip (an INA219 reads neither).
    UnknownDevice {
        /// What the manufacturer ID register read.
        manufacturer_id: u16,
        /// What the die ID register read.
        die_id: u16,
    },
    /// The configured alert limit cannot be represented in the alert limit register.
    AlertLimit(AlertLimitError),
    /// CVRF was still clear when the datasheet's maximum conversion time had passed.
    NotReady {
        /// Microseconds waited before giving up.
        waited_us: u32,
    },
    /// The chip set OVF: the current or power calculation overflowed, so those registers
    /// are meaningless. The current exceeds what the calibration can represent; a coarser
    /// current LSB fixes it.
    MathOverflow,
    /// A value no working chip produces: an unused bit set, or (in triggered mode, where all
    /// registers come from one conversion) a current or power register that does not follow
    /// from the shunt and bus voltage by the datasheet's equations. The usual cause is a
    /// corrupted transfer; the next reading is independent of this one.
    Implausible(Channel),
    /// The calibration register no longer holds what `init` wrote (it reads `found`): the
    /// chip was reset, typically by a brown-out, and reports zero current and power. Its
    /// configuration and ALERT settings are back at their power-on values too; `init`
    /// restores them.
    CalibrationLost {
        /// What the calibration register read.
        found: u16,
    },
    /// Used before a successful `init`, or after the chip was found reset.
    NotInitialized,
}

impl<E> From<AlertLimitError> for Error<E> {
    fn from(e: AlertLimitError) -> Self {
        Self::AlertLimit(e)
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::UnknownDevice {
                manufacturer_id,
                die_id,
            } => write!(
                f,
                "manufacturer/die ID read 0x{manufacturer_id:04X}/0x{die_id:04X}, not the INA226's 0x5449/0x226x: wrong address or wrong chip"
            ),
            Self::AlertLimit(e) => write!(f, "configuration not applied: {e}"),
            Self::NotReady { waited_us } => write!(
                f,
                "conversion not ready after {waited_us} µs (the datasheet maximum): chip stuck"
            ),
            Self::MathOverflow => f.write_str(
                "current or power overflowed in the chip (OVF): current beyond the calibration's range, reading discarded",
            ),
            Self::Implausible(channel) => write!(
                f,
                "implausible {channel:?} register (corrupted transfer?): reading discarded"
            ),
            Self::CalibrationLost { found } => write!(
                f,
                "calibration register reads 0x{found:04X}: the chip was reset (brown-out?), init() restores it"
            ),
            Self::NotInitialized => f.write_str("sensor used before init() succeeded"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: fmt::Debug> SensorError for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::UnknownDevice { .. } => ErrorKind::Identity,
            Self::AlertLimit(_) => ErrorKind::Config,
            Self::NotReady { .. } => ErrorKind::NotReady,
            // Persists while the current stays beyond the calibration's range.
            Self::MathOverflow => ErrorKind::OutOfRange,
            // The reading is unusable, the next one independent: discard this one.
            Self::Implausible(_) => ErrorKind::Corrupt,
            // The chip lost its state: the remedy is init(), as for a chip never initialised.
            Self::CalibrationLost { .. } | Self::NotInitialized => ErrorKind::NotInitialized,
        }
    }
}
