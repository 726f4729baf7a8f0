//! The chip's I²C address, set by its six address pins A5..A0.

/// 0x40 with all address pins low.
pub const ADDRESS_FIRST: u8 = 0x40;
/// 0x7F with all address pins high.
pub const ADDRESS_LAST: u8 = 0x7F;
/// The LED All Call address every PCA9685 answers at power-on (ALLCALLADR E0h, 7-bit 70h):
/// a chip strapped to it could not be told from the others.
pub const ALL_CALL: u8 = 0x70;

/// A PCA9685's 7-bit address: 1 A5 A4 A3 A2 A1 A0 (datasheet section 7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address(u8);

impl Address {
    /// The address with pins A5..A0 = `pins` (the low six bits); `None` for the pin setting
    /// that gives the all-call address 0x70.
    pub fn from_pins(pins: u8) -> Option<Self> {
        Self::from_bits(ADDRESS_FIRST | (pins & 0x3F))
    }

    /// A 7-bit address in 0x40..=0x7F other than the all-call 0x70.
    pub fn from_bits(bits: u8) -> Option<Self> {
        ((ADDRESS_FIRST..=ADDRESS_LAST).contains(&bits) && bits != ALL_CALL).then_some(Self(bits))
    }

    /// The 7-bit address.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl Default for Address {
    /// All address pins low: 0x40 (the default of most breakout boards).
    fn default() -> Self {
        Self(ADDRESS_FIRST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_map_to_0x40_through_0x7f_without_all_call() {
        assert_eq!(Address::default().bits(), 0x40);
        assert_eq!(Address::from_pins(0).map(Address::bits), Some(0x40));
        assert_eq!(Address::from_pins(0b00_0001).map(Address::bits), Some(0x41));
        assert_eq!(Address::from_pins(0b11_1111).map(Address::bits), Some(0x7F));
        assert_eq!(Address::from_pins(0b11_0000), None);
        assert_eq!(Address::from_bits(0x70), None);
        assert_eq!(Address::from_bits(0x3F), None);
        assert_eq!(Address::from_bits(0x80), None);
        assert_eq!(Address::from_bits(0x71).map(Address::bits), Some(0x71));
    }
}
