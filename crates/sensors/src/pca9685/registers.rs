//! Register map of the PCA9685 (NXP datasheet Rev. 4, section 7.3, table 4).
//!
//! Registers are 8 bits. With MODE1.AI set the register pointer increments after every byte,
//! so one channel's four PWM registers are written in one transaction; past LED15_OFF_H
//! (45h) it wraps to MODE1, and from FAh to FEh it also increments.

/// MODE1: RESTART, EXTCLK, AI, SLEEP, SUB1..3, ALLCALL. Power-on 11h (asleep, all-call on).
pub(crate) const MODE1: u8 = 0x00;
/// MODE2: INVRT, OCH, OUTDRV, OUTNE. Power-on 04h (totem pole).
pub(crate) const MODE2: u8 = 0x01;
/// LED0_ON_L; channel n's ON_L, ON_H, OFF_L, OFF_H follow at 06h + 4·n.
pub(crate) const LED0_ON_L: u8 = 0x06;
/// ALL_LED_OFF_H: writing bit 4 turns every channel fully off (figure 24).
pub(crate) const ALL_LED_OFF_H: u8 = 0xFD;
/// PRE_SCALE: the PWM frequency divider; writable only while MODE1.SLEEP is set.
pub(crate) const PRE_SCALE: u8 = 0xFE;

/// MODE1 bit 7: reads 1 when PWM was running as the chip went to sleep; writing 1 (at
/// least 500 µs after SLEEP was cleared) restarts the channels and clears it.
pub(crate) const MODE1_RESTART: u8 = 1 << 7;
/// MODE1 bit 5: register auto-increment.
pub(crate) const MODE1_AI: u8 = 1 << 5;
/// MODE1 bit 4: low-power mode, oscillator off.
pub(crate) const MODE1_SLEEP: u8 = 1 << 4;

/// MODE2 bit 4: invert the output logic.
pub(crate) const MODE2_INVRT: u8 = 1 << 4;
/// MODE2 bit 2: totem-pole outputs (1) or open-drain (0).
pub(crate) const MODE2_OUTDRV: u8 = 1 << 2;

/// Bit 4 of LEDn_ON_H: the channel is fully on (OFF counts ignored).
pub(crate) const FULL_ON: u8 = 1 << 4;
/// Bit 4 of LEDn_OFF_H: the channel is fully off; wins over FULL_ON.
pub(crate) const FULL_OFF: u8 = 1 << 4;

/// PWM counts per period: 12 bits.
pub const COUNTS: u16 = 4096;
/// The internal oscillator, Hz.
pub const INTERNAL_OSCILLATOR_HZ: u32 = 25_000_000;
/// The lowest and highest PRE_SCALE value the chip accepts (datasheet: "minimum value 03h").
pub const PRESCALE_MIN: u8 = 3;
/// See [`PRESCALE_MIN`].
pub const PRESCALE_MAX: u8 = 255;
/// How long the oscillator needs after SLEEP is cleared before RESTART may be written.
pub(crate) const OSCILLATOR_STARTUP_US: u32 = 500;
/// Channels per chip.
pub const CHANNELS: u8 = 16;
