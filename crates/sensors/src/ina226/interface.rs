//! The chip's I²C address, chosen by its A1 and A0 pins.
//!
//! The INA226's address table (SBOS547 table 6-2) is the INA219's, pin for pin: 0x40 +
//! 4·A1 + A0 with GND, VS, SDA, SCL counting 0..3. The INA219 driver's types are reused
//! rather than duplicated; the test below checks them against the INA226 table.

pub use crate::ina219::{Address, Pin};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ina226::{ADDRESS_FIRST, ADDRESS_LAST};

    #[test]
    fn pins_map_to_table_6_2() {
        assert_eq!(Address::from_pins(Pin::Gnd, Pin::Gnd).bits(), 0x40);
        assert_eq!(Address::from_pins(Pin::Gnd, Pin::Scl).bits(), 0x43);
        assert_eq!(Address::from_pins(Pin::Vs, Pin::Sda).bits(), 0x46);
        assert_eq!(Address::from_pins(Pin::Sda, Pin::Vs).bits(), 0x49);
        assert_eq!(Address::from_pins(Pin::Scl, Pin::Scl).bits(), 0x4F);
        assert_eq!(Address::default().bits(), ADDRESS_FIRST);
        assert_eq!(
            Address::from_bits(ADDRESS_LAST).map(Address::bits),
            Some(0x4F)
        );
        assert_eq!(Address::from_bits(0x50), None);
    }
}
