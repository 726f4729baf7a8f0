//! The chip on I²C (PS-MPU-6000A-00 section 9): one register address byte, then reads or
//! writes that auto-increment the address, except at FIFO_R_W, which a burst read drains.

use embedded_hal::i2c;
use embedded_hal_async as hal_async;

use super::registers::{ADDRESS_AD0_HIGH, ADDRESS_AD0_LOW};

/// The chip's I²C address, chosen by its AD0 pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Address {
    /// 0x68: AD0 low (most breakout boards).
    #[default]
    Ad0Low,
    /// 0x69: AD0 high.
    Ad0High,
}

impl Address {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Ad0Low => ADDRESS_AD0_LOW,
            Self::Ad0High => ADDRESS_AD0_HIGH,
        }
    }

    /// The address for a 7-bit value, if the chip can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            ADDRESS_AD0_LOW => Some(Self::Ad0Low),
            ADDRESS_AD0_HIGH => Some(Self::Ad0High),
            _ => None,
        }
    }
}

/// The chip on an I²C bus at one address.
#[derive(Debug)]
pub struct I2cInterface<I2C> {
    pub(crate) i2c: I2C,
    pub(crate) address: u8,
}

impl<I2C: hal_async::i2c::I2c> I2cInterface<I2C> {
    /// Writes `values` to consecutive registers from `start` in one transaction (burst write,
    /// PS 9.3). At most six values: the longest run the driver writes.
    pub(crate) async fn write(
        &mut self,
        start: u8,
        values: &[u8],
    ) -> Result<(), <I2C as i2c::ErrorType>::Error> {
        let mut frame = [0u8; 7];
        let len = values.len().min(frame.len() - 1);
        frame[0] = start;
        frame[1..=len].copy_from_slice(&values[..len]);
        self.i2c.write(self.address, &frame[..=len]).await
    }

    /// Reads `buf.len()` bytes from `start` in one burst.
    pub(crate) async fn read(
        &mut self,
        start: u8,
        buf: &mut [u8],
    ) -> Result<(), <I2C as i2c::ErrorType>::Error> {
        self.i2c.write_read(self.address, &[start], buf).await
    }
}
