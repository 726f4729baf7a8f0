//! The chip on I²C (datasheet 9.5): a pointer byte selects a register; a write carries the
//! pointer and the 16-bit value, a read returns the register the pointer last selected.

use embedded_hal::i2c;
use embedded_hal_async as hal_async;

use super::registers::{ADDRESS_GND, ADDRESS_SCL, ADDRESS_SDA, ADDRESS_VDD};

/// The I²C address, chosen by what the ADDR pin is tied to (datasheet 9.5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Address {
    /// 0x48: ADDR to GND (most breakout boards).
    #[default]
    Gnd,
    /// 0x49: ADDR to VDD.
    Vdd,
    /// 0x4A: ADDR to SDA.
    Sda,
    /// 0x4B: ADDR to SCL.
    Scl,
}

impl Address {
    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        match self {
            Self::Gnd => ADDRESS_GND,
            Self::Vdd => ADDRESS_VDD,
            Self::Sda => ADDRESS_SDA,
            Self::Scl => ADDRESS_SCL,
        }
    }

    /// The address for a 7-bit value, if the chip can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            ADDRESS_GND => Some(Self::Gnd),
            ADDRESS_VDD => Some(Self::Vdd),
            ADDRESS_SDA => Some(Self::Sda),
            ADDRESS_SCL => Some(Self::Scl),
            _ => None,
        }
    }
}

/// Register access with the pointer remembered: the chip keeps its pointer until the next
/// write (9.5.3), so a repeated read of the same register skips the pointer byte and costs
/// one 2-byte read. After any bus error the pointer is unknown and is written again.
#[derive(Debug)]
pub(crate) struct I2cInterface<I2C> {
    pub(crate) i2c: I2C,
    pub(crate) address: u8,
    pointer: Option<u8>,
}

impl<I2C> I2cInterface<I2C> {
    pub(crate) fn new(i2c: I2C, address: u8) -> Self {
        Self {
            i2c,
            address,
            pointer: None,
        }
    }
}

impl<I2C: hal_async::i2c::I2c> I2cInterface<I2C> {
    /// Writes a register in one transaction: pointer, MSB, LSB.
    pub(crate) async fn write_register(
        &mut self,
        register: u8,
        value: u16,
    ) -> Result<(), <I2C as i2c::ErrorType>::Error> {
        let [msb, lsb] = value.to_be_bytes();
        let result = self.i2c.write(self.address, &[register, msb, lsb]).await;
        self.pointer = result.is_ok().then_some(register);
        result
    }

    /// Reads a register: a plain 2-byte read when the pointer already selects it, otherwise
    /// the pointer write and the read in one transaction (repeated start).
    pub(crate) async fn read_register(
        &mut self,
        register: u8,
    ) -> Result<u16, <I2C as i2c::ErrorType>::Error> {
        let mut buf = [0u8; 2];
        let result = if self.pointer == Some(register) {
            self.i2c.read(self.address, &mut buf).await
        } else {
            self.i2c
                .write_read(self.address, &[register], &mut buf)
                .await
        };
        self.pointer = result.is_ok().then_some(register);
        result.map(|()| u16::from_be_bytes(buf))
    }
}
