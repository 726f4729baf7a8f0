//! Register map of the INA219 (datasheet SBOS448F, table 4 and the register details).
//!
//! Every register is 16 bits, sent most-significant byte first. The register pointer does not
//! auto-increment: each register is read in its own transaction (pointer write, 2-byte read).

/// Configuration: reset, bus range, PGA, ADC settings, mode.
pub(crate) const CONFIG: u8 = 0x00;
/// Shunt voltage, 10 µV per LSB, sign-extended according to the PGA.
pub(crate) const SHUNT_VOLTAGE: u8 = 0x01;
/// Bus voltage in bits 15..3 (4 mV per LSB), CNVR in bit 1, OVF in bit 0.
pub(crate) const BUS_VOLTAGE: u8 = 0x02;
/// Power, 20 × Current_LSB per LSB, unsigned. Reading it clears CNVR.
pub(crate) const POWER: u8 = 0x03;
/// Current, Current_LSB per LSB, two's complement.
pub(crate) const CURRENT: u8 = 0x04;
/// Calibration, bits 15..1; bit 0 is void and always reads 0.
pub(crate) const CALIBRATION: u8 = 0x05;

/// RST (bit 15): the same as a power-on reset; self-clearing.
pub(crate) const CONFIG_RESET: u16 = 1 << 15;
/// The configuration register after power-on or reset (table 4): 32 V, PGA /8, 12-bit bus and
/// shunt, shunt and bus continuous. An INA219 (or its pin-compatible INA220) reads this.
pub(crate) const CONFIG_POWER_ON: u16 = 0x399F;

/// MODE bits 2..0 (table 7).
pub(crate) const MODE_POWER_DOWN: u16 = 0b000;
pub(crate) const MODE_TRIGGERED: u16 = 0b011;
pub(crate) const MODE_CONTINUOUS: u16 = 0b111;

/// Bus voltage register: conversion ready (set when conversions, averaging and the current and
/// power multiplications are complete; cleared by a config write or a power-register read).
pub(crate) const BUS_CNVR: u16 = 1 << 1;
/// Bus voltage register: math overflow, current or power out of range.
pub(crate) const BUS_OVF: u16 = 1 << 0;
/// Bus voltage register bit 2 is not used and reads 0.
pub(crate) const BUS_RESERVED: u16 = 1 << 2;
/// The bus voltage sits in bits 15..3.
pub(crate) const BUS_SHIFT: u32 = 3;

/// Lowest and highest 7-bit address (A1, A0 each tied to GND, VS, SDA or SCL; table 1).
pub const ADDRESS_FIRST: u8 = 0x40;
/// See [`ADDRESS_FIRST`].
pub const ADDRESS_LAST: u8 = 0x4F;
