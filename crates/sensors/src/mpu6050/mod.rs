//! InvenSense MPU-6050 and MPU-6500 (also the MPU-9250's accelerometer/gyroscope): 3-axis
//! accelerometer, 3-axis gyroscope and die temperature over I²C, as a vibration source.
//!
//! What the driver does, and why:
//! - `init`: WHO_AM_I, DEVICE_RESET and the register map's 100 ms, wake on the gyroscope PLL
//!   (a steadier sample clock than the internal oscillator), one burst write of sample rate,
//!   filter and ranges, and the gyroscope start-up time (30 ms 6050, 35 ms 6500);
//! - a single reading is one burst of the 14 data registers (accel, temperature, gyro), which
//!   the chip shadows so all seven values come from the same sampling instant (RM 4.17);
//!   optionally after polling DATA_RDY so every reading is a new sample;
//! - continuous sampling goes through the FIFO: one FIFO_COUNT read and one burst of whole
//!   frames per batch, not a register read per sample. A frame the chip is still writing
//!   (FIFO_COUNT between frames) stays for the next drain. An overflow (the chip overwrites its oldest bytes, losing frame alignment) restarts
//!   the FIFO and is reported with the number of samples lost, estimated from the caller's
//!   clock at the configured rate — never silently;
//! - scaling in integers to µm/s², µrad/s and m°C with the datasheets' sensitivities; a
//!   temperature no working die reaches, or a FIFO count beyond the FIFO, is an error.

mod config;
mod device;
mod error;
mod interface;
mod registers;
mod sample;

pub use config::{AccelRange, Config, Dlpf, FifoFrame, GyroRange, SingleRead};
pub use device::{FifoBatch, Mpu6050, Mpu6050Async};
pub use error::{Error, Field};
pub use interface::{Address, I2cInterface};
pub use registers::{ADDRESS_AD0_HIGH, ADDRESS_AD0_LOW};
pub use sample::{acceleration, angular_rate, temperature, Sample};

/// Which chip answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// MPU-6050 (WHO_AM_I 0x68): 1024-byte FIFO, powers up asleep.
    Mpu6050,
    /// MPU-6500 (WHO_AM_I 0x70): 512-byte FIFO, ACCEL_CONFIG2.
    Mpu6500,
    /// MPU-9250 (WHO_AM_I 0x71): an MPU-6500 die plus a magnetometer, which is not used.
    Mpu9250,
}

impl Variant {
    /// FIFO size in bytes: 1024 on the 6050 (PS-MPU-6000A-00 7.17), 512 on the 6500 family
    /// (PS-MPU-9250A-01 4.17).
    pub const fn fifo_capacity_bytes(self) -> usize {
        match self {
            Self::Mpu6050 => 1024,
            Self::Mpu6500 | Self::Mpu9250 => 512,
        }
    }

    /// Time from wake-up to valid gyroscope data in µs: 30 ms (PS-MPU-6000A-00 6.1, ZRO
    /// settling), 35 ms on the 6500 family (PS-MPU-9250A-01 4.23).
    pub const fn startup_us(self) -> u32 {
        match self {
            Self::Mpu6050 => 30_000,
            Self::Mpu6500 | Self::Mpu9250 => 35_000,
        }
    }

    const fn has_accel_config2(self) -> bool {
        !matches!(self, Self::Mpu6050)
    }
}
