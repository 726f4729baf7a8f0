#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

pub mod blocking;
pub mod bme280;
pub mod mpu6050;
pub mod sensor;
pub mod units;
