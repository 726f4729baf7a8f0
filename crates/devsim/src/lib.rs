#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod ads1x15;
pub mod bme280;
mod bus;
mod clock;
mod fault;
pub mod ina219;
pub mod ina226;
pub mod mpu6050;
mod noise;
pub mod output;
pub mod pca9685;
pub mod sht;
pub mod vibration;

pub use bus::{BusStats, Device, I2cTarget, SimI2cBus, SimSpiDevice, SpiTarget};
pub use clock::{SimClock, SimDelay, StdDelay};
pub use fault::{Fault, Times};
