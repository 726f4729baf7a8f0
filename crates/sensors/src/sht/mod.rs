//! Sensirion SHT3x (SHT30, SHT31, SHT35) and SHT4x (SHT40, SHT41, SHT43, SHT45): temperature
//! and relative humidity over I²C.
//!
//! The two families share their data format (16-bit words, each followed by a CRC-8) and their
//! temperature formula, but not their command set, so each has its own driver: [`Sht3x`] /
//! [`Sht3xAsync`] and [`Sht4x`] / [`Sht4xAsync`]. CRC and conversions are shared.
//!
//! What the drivers do per reading, and why:
//! - single shot: one write of the measurement command for the configured repeatability, a wait
//!   of exactly the datasheet's maximum measurement time for it, one 6-byte read. The commands
//!   without clock stretching are used, so the bus is never held: a read that comes too early
//!   is simply not acknowledged (SHT3x datasheet 4.3-4.4, SHT4x "I2C communication");
//! - SHT3x periodic mode: the chip measures by itself at 0.5 to 10 measurements per second;
//!   a reading is a fetch command and a 6-byte read, with no waiting. A fetch with nothing new
//!   since the last one is not acknowledged by the chip and reported as
//!   [`Error::NoNewData`], distinct from a bus failure. The SHT4x has no periodic mode: every
//!   reading there is a single shot;
//! - every 16-bit word read (measurement, status, serial number) has its CRC checked; a
//!   mismatch is [`Error::Crc`] naming the word, never a value;
//! - conversions are the datasheet's formulas in integer arithmetic, to m°C and m%RH, rounded
//!   to nearest. The SHT4x humidity formula reaches −6…119 %RH and is clipped to 0…100 %RH as
//!   its datasheet recommends ("Conversion of Signal Output").
//!
//! Every raw value maps to −45…130 °C and, after clipping, 0…100 %RH, so there is no
//! "impossible value" to reject once the CRC matches: the CRC is what catches a corrupted
//! transfer, and a stuck bus (all 0x00 or all 0xFF) fails it.
//!
//! Files: `commands` (command codes and addresses), `config` (repeatability, periodic rates,
//! heater pulses and their datasheet timing), `conversion` (CRC and formulas), `interface`
//! (command and word framing on I²C), `sht3x` and `sht4x` (the drivers), `error`.

mod commands;
mod config;
mod conversion;
mod error;
mod interface;
mod sht3x;
mod sht4x;

pub use commands::{
    ADDRESS_SHT3X_HIGH, ADDRESS_SHT3X_LOW, ADDRESS_SHT4X_A, ADDRESS_SHT4X_B, ADDRESS_SHT4X_C,
};
pub use config::{
    HeaterDuration, HeaterPower, HeaterPulse, MeasurementsPerSecond, Repeatability, Sht3xConfig,
    Sht3xMode, Sht4xConfig,
};
pub use conversion::{
    crc8, sht3x_humidity_from_raw, sht4x_humidity_from_raw, temperature_from_raw,
};
pub use error::{Error, Word};
pub use sht3x::{Sht3x, Sht3xAddress, Sht3xAsync, Status};
pub use sht4x::{Sht4x, Sht4xAddress, Sht4xAsync};

use crate::units::{RelativeHumidity, Temperature};

/// One reading: temperature and relative humidity, measured together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Temperature, 0.001 °C steps (the sensor resolves 0.01 °C).
    pub temperature: Temperature,
    /// Relative humidity, 0…100 %RH in 0.001 %RH steps (the sensor resolves 0.01 %RH).
    pub humidity: RelativeHumidity,
}
