//! Bus and delay types that implement both the blocking and the async embedded-hal traits
//! and do nothing: reads return zeros.

use embedded_hal::{delay, i2c, spi};
use embedded_hal_async as hal_async;

/// An I²C bus on which every transaction succeeds and reads zeros.
#[derive(Debug, Default)]
pub struct NullI2c;

/// An SPI device on which every transaction succeeds and reads zeros.
#[derive(Debug, Default)]
pub struct NullSpi;

/// An output pin that accepts every level.
#[derive(Debug, Default)]
pub struct NullPin;

impl embedded_hal::digital::ErrorType for NullPin {
    type Error = core::convert::Infallible;
}

impl embedded_hal::digital::OutputPin for NullPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A delay that returns at once.
#[derive(Debug, Default)]
pub struct NullDelay;

fn zero_i2c(operations: &mut [i2c::Operation<'_>]) {
    for op in operations {
        if let i2c::Operation::Read(buf) = op {
            buf.fill(0);
        }
    }
}

fn zero_spi(operations: &mut [spi::Operation<'_, u8>]) {
    for op in operations {
        match op {
            spi::Operation::Read(buf) | spi::Operation::TransferInPlace(buf) => buf.fill(0),
            spi::Operation::Transfer(read, _) => read.fill(0),
            spi::Operation::Write(_) | spi::Operation::DelayNs(_) => {}
        }
    }
}

impl i2c::ErrorType for NullI2c {
    type Error = i2c::ErrorKind;
}

impl i2c::I2c for NullI2c {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        zero_i2c(operations);
        Ok(())
    }
}

impl hal_async::i2c::I2c for NullI2c {
    async fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        zero_i2c(operations);
        Ok(())
    }
}

impl spi::ErrorType for NullSpi {
    type Error = spi::ErrorKind;
}

impl spi::SpiDevice for NullSpi {
    fn transaction(
        &mut self,
        operations: &mut [spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        zero_spi(operations);
        Ok(())
    }
}

impl hal_async::spi::SpiDevice for NullSpi {
    async fn transaction(
        &mut self,
        operations: &mut [spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        zero_spi(operations);
        Ok(())
    }
}

impl delay::DelayNs for NullDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

impl hal_async::delay::DelayNs for NullDelay {
    async fn delay_ns(&mut self, _ns: u32) {}
}
