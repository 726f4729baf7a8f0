//! The two ways to reach the chip: I²C and 4-wire SPI (datasheet section 6).

use embedded_hal::{i2c, spi};
use embedded_hal_async as hal_async;

use super::registers::{ADDRESS_PRIMARY, ADDRESS_SECONDARY};

/// The chip on an I²C bus at one address.
#[derive(Debug)]
pub struct I2cInterface<I2C> {
    pub(crate) i2c: I2C,
    pub(crate) address: u8,
}

/// The chip on an SPI bus; the `SpiDevice` owns chip-select.
#[derive(Debug)]
pub struct SpiInterface<SPI> {
    pub(crate) spi: SPI,
}

/// The BME280's I²C address, chosen by its SDO pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Address {
    /// 0x76: SDO to GND (most breakout boards).
    #[default]
    Primary,
    /// 0x77: SDO to V_DDIO.
    Secondary,
}

impl Address {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Primary => ADDRESS_PRIMARY,
            Self::Secondary => ADDRESS_SECONDARY,
        }
    }

    /// The address for a 7-bit value, if the chip can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            ADDRESS_PRIMARY => Some(Self::Primary),
            ADDRESS_SECONDARY => Some(Self::Secondary),
            _ => None,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}
impl<I2C> sealed::Sealed for I2cInterface<I2C> {}
impl<SPI> sealed::Sealed for SpiInterface<SPI> {}

/// Register reads and writes over either bus. Sealed: the driver relies on its exact framing.
#[allow(async_fn_in_trait)] // sealed, only used by this crate's drivers
pub trait RegisterBus: sealed::Sealed {
    /// The bus's error.
    type Error: core::fmt::Debug;

    /// Writes up to four registers in one transaction, as (register, value) pairs in order.
    /// The chip does not auto-increment on writes (datasheet 6.2.1 and 6.3.1), so each value
    /// travels with its register address.
    async fn write_registers(&mut self, pairs: &[(u8, u8)]) -> Result<(), Self::Error>;

    /// Reads `buf.len()` consecutive registers from `start` in one burst.
    async fn read_registers(&mut self, start: u8, buf: &mut [u8]) -> Result<(), Self::Error>;
}

const MAX_PAIRS: usize = 4;

/// Lays out (register, value) pairs as the wire expects; `register_mask` clears the SPI
/// read/write bit.
fn frame_pairs(pairs: &[(u8, u8)], register_mask: u8) -> ([u8; 2 * MAX_PAIRS], usize) {
    let mut frame = [0u8; 2 * MAX_PAIRS];
    let count = pairs.len().min(MAX_PAIRS);
    for (slot, &(register, value)) in frame.chunks_exact_mut(2).zip(&pairs[..count]) {
        slot[0] = register & register_mask;
        slot[1] = value;
    }
    (frame, 2 * count)
}

impl<I2C: hal_async::i2c::I2c> RegisterBus for I2cInterface<I2C> {
    type Error = <I2C as i2c::ErrorType>::Error;

    async fn write_registers(&mut self, pairs: &[(u8, u8)]) -> Result<(), Self::Error> {
        let (frame, len) = frame_pairs(pairs, 0xFF);
        self.i2c.write(self.address, &frame[..len]).await
    }

    async fn read_registers(&mut self, start: u8, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.i2c.write_read(self.address, &[start], buf).await
    }
}

/// In SPI mode bit 7 of the control byte selects read (1) or write (0); the remaining seven
/// bits are the register address.
const SPI_READ: u8 = 0x80;

impl<SPI: hal_async::spi::SpiDevice> RegisterBus for SpiInterface<SPI> {
    type Error = <SPI as spi::ErrorType>::Error;

    async fn write_registers(&mut self, pairs: &[(u8, u8)]) -> Result<(), Self::Error> {
        let (frame, len) = frame_pairs(pairs, !SPI_READ);
        self.spi.write(&frame[..len]).await
    }

    async fn read_registers(&mut self, start: u8, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.spi
            .transaction(&mut [
                spi::Operation::Write(&[start | SPI_READ]),
                spi::Operation::Read(buf),
            ])
            .await
    }
}
