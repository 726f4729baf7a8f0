//! TI INA219 high-side current, voltage and power monitor, over I²C (0x40..=0x4F): lets a
//! device measure its own power draw through a shunt resistor.
//!
//! What the driver does per reading, and why:
//! - triggered mode (default): one write of the configuration register starts one conversion
//!   of shunt then bus voltage; the driver waits the conversion time table 6 gives for the
//!   configured resolution/averaging (84 µs … 68.10 ms per ADC) and reads the bus voltage
//!   register, whose CNVR bit says the result is complete (see [`Completion`]); continuous
//!   mode reads the latest result without waiting;
//! - then the shunt voltage, current and power registers, one transaction each (the chip's
//!   register pointer does not auto-increment). Power is read last because reading it clears
//!   CNVR; the configuration and calibration are kept in the driver, never read back;
//! - the calibration register is programmed from the shunt resistance and the expected
//!   current ([`Calibration`], the datasheet's procedure in integer arithmetic), and the
//!   current and power registers are scaled with the LSB the chip actually applies;
//! - OVF (math overflow) is an error, never a reading; so are values a working chip cannot
//!   produce: a reserved bit set, a shunt voltage beyond the PGA's saturation, and, in
//!   triggered mode where the registers hold one consistent conversion, current or power
//!   registers that do not follow from the voltages by the datasheet's equations (a
//!   corrupted transfer). Continuous conversions may update registers between two reads,
//!   so there only the voltages are checked;
//! - zero current and power while the shunt voltage says otherwise mean the calibration
//!   register was cleared (a brown-out reset): the driver reads it back to be sure and
//!   reports [`Error::CalibrationLost`]; `init` restores the chip.
//!
//! There is no chip id: `init` resets the chip and checks that the configuration register
//! reads its power-on value 399Fh.

mod calibration;
mod config;
mod device;
mod error;
mod interface;
mod registers;

pub use calibration::{Calibration, CalibrationError};
pub use config::{Adc, BusRange, Completion, Config, Mode, ShuntRange};
pub use device::{Ina219, Ina219Async};
pub use error::{Channel, Error};
pub use interface::{Address, Pin};
pub use registers::{ADDRESS_FIRST, ADDRESS_LAST};

use crate::units::{Current, Power, Voltage};

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Bus voltage at IN− (the load side of the shunt), 4 mV resolution.
    pub bus_voltage: Voltage,
    /// Voltage across the shunt, IN+ − IN−, 10 µV resolution; negative for reverse current.
    pub shunt_voltage: Voltage,
    /// Current through the shunt, in steps of the calibration's current LSB.
    pub current: Current,
    /// Power delivered to the load, in steps of 20 current LSBs. Always positive: the
    /// register holds the magnitude of current × bus voltage, whichever way the current flows.
    pub power: Power,
}
