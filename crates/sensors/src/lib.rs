#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

pub mod actuator;
pub mod ads1x15;
pub mod blocking;
pub mod bme280;
pub mod ina219;
pub mod ina226;
pub mod mpu6050;
pub mod pca9685;
pub mod sensor;
pub mod sht;
mod shunt_scale;
pub mod units;
