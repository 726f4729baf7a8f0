use core::fmt;

use super::CalibrationFault;
use crate::sensor::{ErrorKind, SensorError};

/// A channel of the chip, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Temperature.
    Temperature,
    /// Pressure.
    Pressure,
    /// Humidity.
    Humidity,
}

/// Everything that can go wrong talking to a BME280/BMP280, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The bus reported an error (NACK, arbitration loss, …).
    Bus(E),
    /// The chip-id register holds neither the BME280's 0x60 nor a BMP280's 0x56..0x58.
    UnknownChipId(u8),
    /// The calibration block read from the chip cannot be used.
    Calibration(CalibrationFault),
    /// The chip still reported `measuring` (or `im_update` after reset) when the datasheet's
    /// maximum time had passed.
    NotReady {
        /// Microseconds waited before giving up.
        waited_us: u32,
    },
    /// A value that no working chip produces: reserved bits set, or a compensated value far
    /// outside the sensor's range. The usual cause is a corrupted transfer; the next reading
    /// is independent of this one.
    Implausible(Channel),
    /// `measure` was called before a successful `init`.
    NotInitialized,
    /// The configuration cannot be applied to this chip.
    UnsupportedConfig(&'static str),
}

impl<E> From<CalibrationFault> for Error<E> {
    fn from(fault: CalibrationFault) -> Self {
        Self::Calibration(fault)
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::UnknownChipId(id) => write!(
                f,
                "chip id 0x{id:02X} is not a BME280 (0x60) or BMP280 (0x56-0x58): wrong address or wrong chip"
            ),
            Self::Calibration(CalibrationFault::Blank(b)) => write!(
                f,
                "calibration block reads all 0x{b:02X}: the chip's NVM or the bus is not answering"
            ),
            Self::Calibration(CalibrationFault::ZeroT1) => {
                f.write_str("calibration out of range: dig_T1 is 0")
            }
            Self::Calibration(CalibrationFault::ZeroP1) => {
                f.write_str("calibration out of range: dig_P1 is 0")
            }
            Self::NotReady { waited_us } => write!(
                f,
                "measurement not ready after {waited_us} µs (the datasheet maximum): chip stuck busy"
            ),
            Self::Implausible(channel) => write!(
                f,
                "implausible {channel:?} value (corrupted transfer?): reading discarded"
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
            Self::UnknownChipId(_) | Self::Calibration(_) => ErrorKind::Identity,
            Self::NotReady { .. } => ErrorKind::NotReady,
            Self::Implausible(_) => ErrorKind::Corrupt,
            Self::NotInitialized => ErrorKind::NotInitialized,
            Self::UnsupportedConfig(_) => ErrorKind::Config,
        }
    }
}
