//! Register scaling shared by TI's shunt monitors (INA219, INA226). Both program a
//! calibration register CAL = trunc(K / (Current_LSB × R_shunt)) and report power in steps
//! of a fixed multiple of Current_LSB; only K and that multiple differ. Because CAL is
//! truncated, the LSB a chip applies is K / (CAL × R_shunt), a little coarser than the
//! nominal one, and readings are converted with that effective LSB, so a current reads as
//! V_shunt / R_shunt. All integer arithmetic, in nA, µA, µW and µΩ.

use crate::units::Current;

/// One chip's calibration constants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShuntScale {
    /// K in nA·µΩ: CAL = K / (Current_LSB[nA] × R_shunt[µΩ]).
    pub scale_na_uohm: u64,
    /// Power_LSB / Current_LSB.
    pub power_per_current_lsb: u64,
}

/// Current_LSB = max / 2^15: the current register is 15 bits plus sign.
const CURRENT_STEPS: u64 = 1 << 15;

impl ShuntScale {
    /// The finest Current_LSB in nA for currents up to `max_expected` (max / 2^15, rounded up
    /// to whole nanoamperes); `None` unless the current is positive.
    pub const fn lsb_for_max_current(max_expected: Current) -> Option<u64> {
        if max_expected.raw() <= 0 {
            return None;
        }
        Some((max_expected.raw() as u64 * 1_000).div_ceil(CURRENT_STEPS))
    }

    /// trunc(K / (Current_LSB × R_shunt)), before the chip's register width and void bits;
    /// both arguments non-zero (both below 2^32, so the product fits in u64).
    pub const fn calibration(&self, lsb_na: u64, shunt_micro_ohms: u32) -> u64 {
        self.scale_na_uohm / (lsb_na * shunt_micro_ohms as u64)
    }

    /// The current LSB the chip applies with `register` on this shunt, in nA (rounded).
    pub const fn current_lsb_nanoamps(&self, register: u16, shunt_micro_ohms: u32) -> u64 {
        let den = register as u64 * shunt_micro_ohms as u64;
        (self.scale_na_uohm + den / 2) / den
    }

    /// A current register value in µA, rounded to nearest (halves away from zero). The
    /// caller's calibration keeps full-scale power, and so current, within i32.
    pub const fn current_microamps(&self, register: u16, shunt_micro_ohms: u32, raw: i16) -> i32 {
        let den = (register as u64 * shunt_micro_ohms as u64) as i64;
        let num = raw as i64 * (self.scale_na_uohm / 1_000) as i64;
        let half = if num >= 0 { den / 2 } else { -(den / 2) };
        ((num + half) / den) as i32
    }

    /// A power register value in µW, rounded to nearest.
    pub const fn power_microwatts(&self, register: u16, shunt_micro_ohms: u32, raw: u16) -> u64 {
        let den = register as u64 * shunt_micro_ohms as u64;
        (raw as u64 * self.power_uw_numerator() + den / 2) / den
    }

    /// Power_LSB × CAL × R_shunt in µW·µΩ: power[µW] = raw × this / (CAL × R[µΩ]).
    pub const fn power_uw_numerator(&self) -> u64 {
        self.power_per_current_lsb * (self.scale_na_uohm / 1_000)
    }
}
