//! TI INA226 current, voltage and power monitor with ALERT pin, over I²C (0x40..=0x4F): the
//! INA219's successor, 16-bit, 36 V bus, high- or low-side.
//!
//! What the driver does per reading, and why:
//! - triggered mode (default): one write of the configuration register starts one conversion
//!   (all its averaged samples, each a shunt then a bus conversion); the driver waits
//!   (bus CT + shunt CT) × samples from tables 7-3..7-5, then reads Mask/Enable, whose CVRF
//!   says the result is complete (see [`Completion`]; with the maximum times of the
//!   electrical characteristics as the limit). Continuous mode reads the latest result
//!   without waiting, after one wait for the first conversion;
//! - Mask/Enable is read in both modes because it alone carries OVF (math overflow, an
//!   error, never a reading) and AFF (the alert limit was crossed, reported as
//!   [`Measurement::alert`]); reading it clears CVRF and, in latch mode, AFF and the pin;
//! - then the shunt voltage, bus voltage, current and power registers, one transaction
//!   each (the register pointer does not auto-increment). The configuration and
//!   calibration are kept in the driver, never read back;
//! - the calibration register is programmed from the shunt resistance and the expected
//!   current ([`Calibration`], the datasheet's procedure in integer arithmetic), and the
//!   current and power registers are scaled with the LSB the chip actually applies;
//! - values a working chip cannot produce are errors: an unused bit set (bus voltage bit 15,
//!   Mask/Enable bits 9..5), and, in triggered mode where the registers hold one conversion,
//!   a current that does not follow from the shunt voltage by equation 3, or (single
//!   samples) a power that does not follow from current and bus voltage by equation 4.
//!   Continuous conversions may update registers between two reads, so there only the
//!   unused bits are checked;
//! - a chip that lost its settings (a brown-out resets every register) shows either Mask/
//!   Enable bits other than those written or zero current and power for a non-zero shunt
//!   voltage: the driver then reads the calibration register to be sure and reports
//!   [`Error::CalibrationLost`]; `init` restores the chip.
//!
//! `init` identifies the chip by its manufacturer ID (5449h, "TI") and die ID (226xh) before
//! writing anything, then resets it and programs calibration, ALERT and configuration.
//!
//! The ALERT pin ([`Alert`]) watches one limit in physical units (over/under current via the
//! shunt voltage, bus over/under voltage, over power), optionally latched, either polarity,
//! and can also signal conversion ready.

mod calibration;
mod config;
mod device;
mod error;
mod interface;
mod registers;

pub use calibration::{Calibration, CalibrationError};
pub use config::{
    Alert, AlertFunction, AlertLimitError, Averaging, Completion, Config, ConversionTime, Mode,
    Polarity,
};
pub use device::{Ina226, Ina226Async};
pub use error::{Channel, Error};
pub use interface::{Address, Pin};
pub use registers::{ADDRESS_FIRST, ADDRESS_LAST};

use crate::units::{Current, Power, Voltage};

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Voltage at the VBUS pin, 1.25 mV resolution.
    pub bus_voltage: Voltage,
    /// Voltage across the shunt, IN+ − IN−, 2.5 µV resolution; negative for reverse current.
    pub shunt_voltage: Voltage,
    /// Current through the shunt, in steps of the calibration's current LSB.
    pub current: Current,
    /// Power, in steps of 25 current LSBs. Always positive: the register holds the
    /// magnitude of current × bus voltage, whichever way the current flows.
    pub power: Power,
    /// AFF when this reading read Mask/Enable: the alert function's limit is crossed (in
    /// latch mode: was crossed at some conversion since the last read). Always false
    /// without an alert function.
    pub alert: bool,
}

/// The flags of the Mask/Enable register, as [`Ina226::read_flags`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// AFF: the alert function's limit is (or, latched, was) crossed.
    pub alert: bool,
    /// CVRF: a conversion completed since the last read or configuration write.
    pub conversion_ready: bool,
    /// OVF: the last current or power calculation overflowed.
    pub math_overflow: bool,
}
