use core::fmt;

use crate::sensor::{ErrorKind, SensorError};

/// A 16-bit word the chip sends, named in CRC errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    /// The temperature word of a measurement.
    Temperature,
    /// The humidity word of a measurement.
    Humidity,
    /// The SHT3x status register.
    Status,
    /// The upper half of the serial number.
    SerialHigh,
    /// The lower half of the serial number.
    SerialLow,
}

/// Everything that can go wrong talking to an SHT3x or SHT4x, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The bus reported an error (NACK of a command, arbitration loss, …): the chip may be
    /// absent or the wiring loose.
    Bus(E),
    /// A word arrived with a CRC that does not match its bytes: the transfer was corrupted.
    /// No value from this read is used.
    Crc {
        /// Which word.
        word: Word,
        /// The CRC byte on the bus.
        received: u8,
        /// The CRC of the word's two bytes as received.
        computed: u8,
    },
    /// The chip accepted the measurement command but still refused to send the result after
    /// the datasheet's maximum measurement time: it is stuck, or was reset meanwhile.
    NotReady {
        /// Microseconds waited before the read.
        waited_us: u32,
    },
    /// SHT3x periodic mode: the chip has no measurement newer than the last one fetched (it
    /// answers a fetch with a NACK). Read at most once per period. If this persists, the chip
    /// was probably reset and left periodic mode: `init` starts it again.
    NoNewData,
    /// The SHT3x status register has reserved bits set (14, 12, 9:5 or 3:2 read as 0).
    ReservedStatusBits(u16),
    /// A reading was asked for before a successful `init`.
    NotInitialized,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::Crc {
                word,
                received,
                computed,
            } => write!(
                f,
                "CRC mismatch in the {word:?} word (received 0x{received:02X}, computed 0x{computed:02X}): corrupted transfer, value discarded"
            ),
            Self::NotReady { waited_us } => write!(
                f,
                "measurement not ready after {waited_us} µs (the datasheet maximum): chip stuck busy or reset"
            ),
            Self::NoNewData => f.write_str(
                "no new measurement since the last fetch (periodic mode): read at most once per period, or re-init if the chip was reset",
            ),
            Self::ReservedStatusBits(status) => write!(
                f,
                "status register 0x{status:04X} has reserved bits set: corrupted transfer or not an SHT3x"
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
            Self::Crc { .. } | Self::ReservedStatusBits(_) => ErrorKind::Corrupt,
            Self::NotReady { .. } => ErrorKind::NotReady,
            Self::NoNewData => ErrorKind::NoNewData,
            Self::NotInitialized => ErrorKind::NotInitialized,
        }
    }
}
