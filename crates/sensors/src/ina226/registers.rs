//! Register map of the INA226 (datasheet SBOS547, section 7.1 "Register Maps", table 7-1).
//!
//! Every register is 16 bits, sent most-significant byte first. The register pointer does not
//! auto-increment: each register is read in its own transaction (pointer write, 2-byte read).

/// Configuration: reset, averaging, bus and shunt conversion times, mode. Power-on 4127h.
pub(crate) const CONFIG: u8 = 0x00;
/// Shunt voltage, 2.5 µV per LSB, two's complement.
pub(crate) const SHUNT_VOLTAGE: u8 = 0x01;
/// Bus voltage, 1.25 mV per LSB in bits 14..0; bit 15 always reads 0.
pub(crate) const BUS_VOLTAGE: u8 = 0x02;
/// Power, 25 × Current_LSB per LSB, unsigned (bit 15 is PD15, not a sign).
pub(crate) const POWER: u8 = 0x03;
/// Current, Current_LSB per LSB, two's complement (bit 15 is CSIGN).
pub(crate) const CURRENT: u8 = 0x04;
/// Calibration, bits 14..0 (FS14..FS0); bit 15 is not used.
pub(crate) const CALIBRATION: u8 = 0x05;
/// Mask/Enable: the ALERT pin's function and the CVRF, AFF and OVF flags.
pub(crate) const MASK_ENABLE: u8 = 0x06;
/// Alert limit, in the format of the register the selected function compares.
pub(crate) const ALERT_LIMIT: u8 = 0x07;
/// Manufacturer ID, 5449h ("TI" in ASCII).
pub(crate) const MANUFACTURER_ID: u8 = 0xFE;
/// Die ID: device ID 226h in bits 15..4, die revision in bits 3..0 (2260h).
pub(crate) const DIE_ID: u8 = 0xFF;

/// What the manufacturer ID register of any TI part of this family reads.
pub(crate) const MANUFACTURER_TI: u16 = 0x5449;
/// The device ID field of the die ID register (bits 15..4) of an INA226.
pub(crate) const DEVICE_ID_INA226: u16 = 0x226;
/// The device ID sits above the 4-bit die revision.
pub(crate) const DEVICE_ID_SHIFT: u32 = 4;

/// RST (bit 15): the same as a power-on reset; self-clearing.
pub(crate) const CONFIG_RESET: u16 = 1 << 15;
/// Bits 14..12 are not used; their power-on value is 100b (the 4 of 4127h), and the
/// datasheet's example writes them so. Every configuration write keeps them.
pub(crate) const CONFIG_FIXED_BITS: u16 = 0x4000;

/// MODE bits 2..0 (table 7-6): power-down, shunt and bus triggered, shunt and bus continuous.
pub(crate) const MODE_POWER_DOWN: u16 = 0b000;
pub(crate) const MODE_TRIGGERED: u16 = 0b011;
pub(crate) const MODE_CONTINUOUS: u16 = 0b111;

/// Mask/Enable alert functions (bits 15..11): shunt over and under limit, bus over and
/// under limit, power over limit. The highest set bit wins if several are set.
pub(crate) const ME_SOL: u16 = 1 << 15;
pub(crate) const ME_SUL: u16 = 1 << 14;
pub(crate) const ME_BOL: u16 = 1 << 13;
pub(crate) const ME_BUL: u16 = 1 << 12;
pub(crate) const ME_POL: u16 = 1 << 11;
/// CNVR: the ALERT pin also asserts when CVRF is set.
pub(crate) const ME_CNVR: u16 = 1 << 10;
/// Bits 9..5 are not used and read 0.
pub(crate) const ME_RESERVED: u16 = 0b1_1111 << 5;
/// AFF: the alert function's condition (latched, in latch mode, until Mask/Enable is read).
pub(crate) const ME_AFF: u16 = 1 << 4;
/// CVRF: conversions, averaging and multiplications complete. Cleared by a configuration
/// write (other than power-down) and by reading Mask/Enable.
pub(crate) const ME_CVRF: u16 = 1 << 3;
/// OVF: an arithmetic overflow; current and power may be invalid.
pub(crate) const ME_OVF: u16 = 1 << 2;
/// APOL: 1 inverts the ALERT pin (active high); 0, the default, is active low.
pub(crate) const ME_APOL: u16 = 1 << 1;
/// LEN: 1 latches the ALERT pin and AFF until Mask/Enable is read; 0 is transparent.
pub(crate) const ME_LEN: u16 = 1 << 0;
/// The bits a write sets; a read returns them as written (the rest are flags or unused).
pub(crate) const ME_WRITABLE: u16 =
    ME_SOL | ME_SUL | ME_BOL | ME_BUL | ME_POL | ME_CNVR | ME_APOL | ME_LEN;

/// Bus voltage register bit 15 "is always zero because bus voltage can only be positive".
pub(crate) const BUS_RESERVED: u16 = 1 << 15;

/// Lowest and highest 7-bit address (A1, A0 each tied to GND, VS, SDA or SCL; table 6-2).
pub const ADDRESS_FIRST: u8 = 0x40;
/// See [`ADDRESS_FIRST`].
pub const ADDRESS_LAST: u8 = 0x4F;
