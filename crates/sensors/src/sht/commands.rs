//! Command codes and I²C addresses (SHT3x-DIS datasheet v5, section 4 and tables 9-19; SHT4x
//! datasheet, "Command Overview" table). The SHT3x takes 16-bit commands sent MSB first
//! (their low bits carry a checksum of their own); the SHT4x takes single bytes.

/// SHT3x with its ADDR pin to VSS.
pub const ADDRESS_SHT3X_LOW: u8 = 0x44;
/// SHT3x with its ADDR pin to VDD.
pub const ADDRESS_SHT3X_HIGH: u8 = 0x45;
/// SHT4x-A (e.g. SHT40-AD1B, SHT41, SHT45): fixed at the factory.
pub const ADDRESS_SHT4X_A: u8 = 0x44;
/// SHT4x-B (e.g. SHT40-BD1B).
pub const ADDRESS_SHT4X_B: u8 = 0x45;
/// SHT4x-C (e.g. SHT40-CD1B).
pub const ADDRESS_SHT4X_C: u8 = 0x46;

/// SHT3x commands.
pub(crate) mod sht3x {
    /// Single shot, clock stretching disabled (table 9): high, medium, low repeatability.
    pub const SINGLE_SHOT_HIGH: u16 = 0x2400;
    pub const SINGLE_SHOT_MEDIUM: u16 = 0x240B;
    pub const SINGLE_SHOT_LOW: u16 = 0x2416;

    /// Periodic acquisition (table 10), rows by measurements per second (0.5, 1, 2, 4, 10),
    /// columns by repeatability (high, medium, low).
    pub const PERIODIC: [[u16; 3]; 5] = [
        [0x2032, 0x2024, 0x202F],
        [0x2130, 0x2126, 0x212D],
        [0x2236, 0x2220, 0x222B],
        [0x2334, 0x2322, 0x2329],
        [0x2737, 0x2721, 0x272A],
    ];
    /// Fetch the latest periodic result (table 11).
    pub const FETCH_DATA: u16 = 0xE000;
    /// Stop periodic acquisition, back to single shot (table 13).
    pub const BREAK: u16 = 0x3093;
    /// Soft reset (table 14).
    pub const SOFT_RESET: u16 = 0x30A2;
    /// Heater on / off (table 16).
    pub const HEATER_ON: u16 = 0x306D;
    pub const HEATER_OFF: u16 = 0x3066;
    /// Read / clear the status register (tables 17, 19).
    pub const READ_STATUS: u16 = 0xF32D;
    pub const CLEAR_STATUS: u16 = 0x3041;
    /// Read the serial number, clock stretching disabled (Sensirion, "Electronic
    /// Identification Code SHT3x"; 0x3682 is the same with clock stretching).
    pub const READ_SERIAL: u16 = 0x3780;
}

/// SHT4x commands (datasheet, "Command Overview").
pub(crate) mod sht4x {
    /// Measure T and RH: high, medium, low precision (repeatability).
    pub const MEASURE_HIGH: u8 = 0xFD;
    pub const MEASURE_MEDIUM: u8 = 0xF6;
    pub const MEASURE_LOW: u8 = 0xE0;
    /// Heater pulses, each ending with a high-precision measurement: 200 mW, 110 mW, 20 mW,
    /// for 1 s and 0.1 s.
    pub const HEATER_200MW_1S: u8 = 0x39;
    pub const HEATER_200MW_100MS: u8 = 0x32;
    pub const HEATER_110MW_1S: u8 = 0x2F;
    pub const HEATER_110MW_100MS: u8 = 0x24;
    pub const HEATER_20MW_1S: u8 = 0x1E;
    pub const HEATER_20MW_100MS: u8 = 0x15;
    /// Read the serial number.
    pub const READ_SERIAL: u8 = 0x89;
    /// Soft reset.
    pub const SOFT_RESET: u8 = 0x94;
}
