//! Register map of the ADS1113/4/5 and ADS1013/4/5 (datasheets SBAS444D and SBAS473E,
//! section 9.6). Every register is 16 bits, big endian on the wire.

/// I²C address with ADDR tied to GND (datasheet 9.5.1.1).
pub const ADDRESS_GND: u8 = 0x48;
/// I²C address with ADDR tied to VDD.
pub const ADDRESS_VDD: u8 = 0x49;
/// I²C address with ADDR tied to SDA.
pub const ADDRESS_SDA: u8 = 0x4A;
/// I²C address with ADDR tied to SCL.
pub const ADDRESS_SCL: u8 = 0x4B;

/// Values of the address pointer register, P[1:0] (9.6.1); bits 7:2 are always written 0.
pub(crate) const CONVERSION: u8 = 0b00;
pub(crate) const CONFIG: u8 = 0b01;
pub(crate) const LO_THRESH: u8 = 0b10;
pub(crate) const HI_THRESH: u8 = 0b11;

/// Config register fields (9.6.3).
/// OS: write 1 to start a single-shot conversion; reads 0 while converting, 1 when idle.
pub(crate) const OS: u16 = 1 << 15;
pub(crate) const MUX_SHIFT: u16 = 12;
pub(crate) const PGA_SHIFT: u16 = 9;
/// MODE: 1 = single-shot / power-down, 0 = continuous conversion.
pub(crate) const MODE_SINGLE_SHOT: u16 = 1 << 8;
pub(crate) const DR_SHIFT: u16 = 5;
pub(crate) const DR_MASK: u16 = 0b111 << DR_SHIFT;
pub(crate) const COMP_MODE_WINDOW: u16 = 1 << 4;
pub(crate) const COMP_POL_ACTIVE_HIGH: u16 = 1 << 3;
pub(crate) const COMP_LAT: u16 = 1 << 2;
/// COMP_QUE = 11: comparator off, ALERT/RDY high impedance.
pub(crate) const COMP_QUE_DISABLE: u16 = 0b11;

/// Config register after power-up or reset (9.6.3): single-shot, AIN0–AIN1, ±2.048 V,
/// 128 SPS on the ADS1115 (1600 SPS on the ADS1015), comparator off.
pub const RESET_CONFIG: u16 = 0x8583;

/// Threshold values that turn ALERT/RDY into a conversion-ready signal: Hi_thresh MSB 1,
/// Lo_thresh MSB 0 (9.3.8).
pub(crate) const RDY_HI_THRESH: u16 = 0x8000;
pub(crate) const RDY_LO_THRESH: u16 = 0x0000;

/// The ADS1015's 12-bit results and thresholds sit in bits 15:4; bits 3:0 of the conversion
/// register always read 0 (SBAS473E 9.6.2).
pub(crate) const ADS1015_RESERVED_BITS: u16 = 0x000F;
