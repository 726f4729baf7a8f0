//! Register map of the BME280/BMP280 (datasheet BST-BME280-DS002, section 5.3).

/// I²C address with SDO tied to GND.
pub const ADDRESS_PRIMARY: u8 = 0x76;
/// I²C address with SDO tied to V_DDIO.
pub const ADDRESS_SECONDARY: u8 = 0x77;

pub(crate) const CHIP_ID: u8 = 0xD0;
pub(crate) const RESET: u8 = 0xE0;
/// First calibration block: dig_T1..dig_P9 (0x88..0x9F), a reserved byte, dig_H1 (0xA1).
pub(crate) const CALIB_TP: u8 = 0x88;
pub(crate) const CALIB_TP_LEN: usize = 26;
/// Second calibration block, BME280 only: dig_H2..dig_H6 (0xE1..0xE7).
pub(crate) const CALIB_H: u8 = 0xE1;
pub(crate) const CALIB_H_LEN: usize = 7;
pub(crate) const CTRL_HUM: u8 = 0xF2;
pub(crate) const STATUS: u8 = 0xF3;
pub(crate) const CTRL_MEAS: u8 = 0xF4;
pub(crate) const CONFIG: u8 = 0xF5;
/// press_msb..hum_lsb: one burst read returns a consistent set (the chip shadows the data
/// registers while a burst is in progress).
pub(crate) const DATA: u8 = 0xF7;
/// A BME280 returns 8 data bytes; a BMP280 has no humidity and returns 6.
pub(crate) const DATA_LEN: usize = 8;

pub(crate) const RESET_COMMAND: u8 = 0xB6;

pub(crate) const STATUS_MEASURING: u8 = 1 << 3;
pub(crate) const STATUS_IM_UPDATE: u8 = 1 << 0;

pub(crate) const MODE_SLEEP: u8 = 0b00;
pub(crate) const MODE_FORCED: u8 = 0b01;
pub(crate) const MODE_NORMAL: u8 = 0b11;

pub(crate) const ID_BME280: u8 = 0x60;
/// BMP280 engineering samples report 0x56 or 0x57; mass production parts 0x58.
pub(crate) const IDS_BMP280: [u8; 3] = [0x56, 0x57, 0x58];
