//! Bosch BME280 (temperature, pressure, humidity) and BMP280 (no humidity), over I²C or SPI.
//!
//! What the driver does per reading, and why:
//! - forced mode: one write of ctrl_meas to start a conversion, a wait of exactly the
//!   datasheet's t_measure,max for the configured oversampling (or polling of the status
//!   register, see [`Completion`]), and one burst read of the 8 data registers. ctrl_hum,
//!   ctrl_meas and config are kept in the driver, never read back;
//! - compensation with Bosch's integer reference (no FPU needed); `float` adds the double
//!   formulas;
//! - values the chip cannot produce (reserved bits set, far out of range) are errors, never
//!   readings.
//!
//! The chip variant is detected from its id at `init`.

mod calibration;
mod config;
mod device;
mod error;
mod interface;
mod registers;

pub use calibration::{Calibration, CalibrationFault, TFine};
pub use config::{Completion, Config, Filter, Mode, Oversampling, Standby};
pub use device::{Bme280, Bme280Async};
pub use error::{Channel, Error};
pub use interface::{Address, I2cInterface, RegisterBus, SpiInterface};
pub use registers::{ADDRESS_PRIMARY, ADDRESS_SECONDARY};

use crate::units::{Pressure, RelativeHumidity, Temperature};

/// Which chip answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// BME280: temperature, pressure and humidity (chip id 0x60).
    Bme280,
    /// BMP280: temperature and pressure (chip id 0x56, 0x57 or 0x58).
    Bmp280,
}

/// One reading. Pressure and humidity are `None` when skipped or, for humidity, on a BMP280.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Temperature, 0.01 °C resolution.
    pub temperature: Temperature,
    /// Barometric pressure.
    pub pressure: Option<Pressure>,
    /// Relative humidity.
    pub humidity: Option<RelativeHumidity>,
}
