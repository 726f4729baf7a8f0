//! The chip's I²C address, chosen by its A1 and A0 pins.

use super::registers::{ADDRESS_FIRST, ADDRESS_LAST};

/// What an address pin is tied to (datasheet table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// Ground.
    Gnd,
    /// Supply (VS).
    Vs,
    /// The SDA line.
    Sda,
    /// The SCL line.
    Scl,
}

impl Pin {
    const fn index(self) -> u8 {
        match self {
            Self::Gnd => 0,
            Self::Vs => 1,
            Self::Sda => 2,
            Self::Scl => 3,
        }
    }
}

/// One of the INA219's 16 addresses, 0x40..=0x4F.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address(u8);

impl Default for Address {
    /// 0x40: A1 and A0 to ground (most breakout boards).
    fn default() -> Self {
        Self(ADDRESS_FIRST)
    }
}

impl Address {
    /// The address for the pins' wiring: 0x40 + 4·A1 + A0, counting GND, VS, SDA, SCL as
    /// 0..3 (table 1).
    pub const fn from_pins(a1: Pin, a0: Pin) -> Self {
        Self(ADDRESS_FIRST + 4 * a1.index() + a0.index())
    }

    /// The address for a 7-bit value, if an INA219 can answer there.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        if bits >= ADDRESS_FIRST && bits <= ADDRESS_LAST {
            Some(Self(bits))
        } else {
            None
        }
    }

    /// The 7-bit address.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_map_to_table_1() {
        assert_eq!(Address::from_pins(Pin::Gnd, Pin::Gnd).bits(), 0x40);
        assert_eq!(Address::from_pins(Pin::Gnd, Pin::Vs).bits(), 0x41);
        assert_eq!(Address::from_pins(Pin::Vs, Pin::Gnd).bits(), 0x44);
        assert_eq!(Address::from_pins(Pin::Scl, Pin::Scl).bits(), 0x4F);
        assert_eq!(Address::from_bits(0x3F), None);
        assert_eq!(Address::from_bits(0x50), None);
    }
}
