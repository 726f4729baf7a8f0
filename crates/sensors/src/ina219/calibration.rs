//! The calibration register and the scale of the current and power registers, from the
//! datasheet's programming procedure (SBOS448G section 8.5.1, equations 1-3), in integer arithmetic.
//!
//! - Current_LSB = Maximum Expected Current / 2^15 (equation 2, the finest useful LSB);
//! - Cal = trunc(0.04096 / (Current_LSB × R_shunt)) (equation 1);
//! - Power_LSB = 20 × Current_LSB (equation 3).
//!
//! The chip computes Current = Shunt × Cal / 4096 and Power = Current × Bus / 5000
//! (equations 4 and 5). Because Cal is truncated (and its bit 0 does not exist), the LSB the
//! chip applies is 0.04096 / (Cal × R_shunt), a little coarser than the nominal one; readings
//! are converted with that effective LSB, so a current reads as V_shunt / R_shunt exactly.

use core::fmt;

use crate::shunt_scale::ShuntScale;
use crate::units::Current;

/// K = 0.04096 (equation 1) and Power_LSB = 20 × Current_LSB (equation 3).
const SCALE: ShuntScale = ShuntScale {
    scale_na_uohm: 40_960_000_000_000,
    power_per_current_lsb: 20,
};

/// Why a calibration cannot be programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationError {
    /// The shunt resistance is zero.
    ZeroShunt,
    /// The maximum expected current (or the current LSB) is zero or negative.
    ZeroCurrent,
    /// Cal would exceed the 16-bit register: the current LSB is too fine for this shunt.
    LsbTooFine,
    /// Cal would be below 2 (its bit 0 is void), or full-scale power would not fit the
    /// driver's ±2147 W: the current LSB is too coarse for this shunt.
    LsbTooCoarse,
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroShunt => "the shunt resistance is zero",
            Self::ZeroCurrent => "the expected current (or current LSB) must be positive",
            Self::LsbTooFine => {
                "calibration exceeds 16 bits: the current LSB is too fine for this shunt"
            }
            Self::LsbTooCoarse => {
                "calibration below 2 or power beyond ±2147 W: the current LSB is too coarse"
            }
        })
    }
}

impl core::error::Error for CalibrationError {}

/// What the driver writes to the calibration register, with the shunt it was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    register: u16,
    shunt_micro_ohms: u32,
}

impl Calibration {
    /// The calibration of the common breakout boards (0.1 Ω shunt, Current_LSB = 100 µA:
    /// Cal = 0.04096 / (100 µA × 0.1 Ω) = 4096), up to ±3.2 A.
    pub const BREAKOUT_100_MILLIOHM: Self = Self {
        register: 4096,
        shunt_micro_ohms: 100_000,
    };

    /// The finest calibration for currents up to `max_expected` through a shunt of
    /// `shunt_micro_ohms` µΩ: Current_LSB = max / 2^15, rounded up to whole nanoamperes.
    /// Check that max × R stays within the PGA's shunt range (datasheet 8.5.1 step 1).
    pub const fn from_max_current(
        shunt_micro_ohms: u32,
        max_expected: Current,
    ) -> Result<Self, CalibrationError> {
        match ShuntScale::lsb_for_max_current(max_expected) {
            Some(lsb_na) => Self::from_lsb(shunt_micro_ohms, lsb_na),
            None => Err(CalibrationError::ZeroCurrent),
        }
    }

    /// The calibration for a chosen Current_LSB, e.g. a round value such as 1 mA (the
    /// datasheet's example picks round LSBs so that register values read as decimals).
    pub const fn from_current_lsb(
        shunt_micro_ohms: u32,
        current_lsb_nanoamps: u32,
    ) -> Result<Self, CalibrationError> {
        Self::from_lsb(shunt_micro_ohms, current_lsb_nanoamps as u64)
    }

    const fn from_lsb(shunt_micro_ohms: u32, lsb_na: u64) -> Result<Self, CalibrationError> {
        if shunt_micro_ohms == 0 {
            return Err(CalibrationError::ZeroShunt);
        }
        if lsb_na == 0 {
            return Err(CalibrationError::ZeroCurrent);
        }
        let cal = SCALE.calibration(lsb_na, shunt_micro_ohms);
        if cal > u16::MAX as u64 {
            return Err(CalibrationError::LsbTooFine);
        }
        // FS0 is void: the chip keeps bits 15..1 (calibration register).
        let register = (cal as u16) & !1;
        let calibration = Self {
            register,
            shunt_micro_ohms,
        };
        if register < 2 || calibration.power_microwatts_wide(u16::MAX) > i32::MAX as u64 {
            return Err(CalibrationError::LsbTooCoarse);
        }
        Ok(calibration)
    }

    /// The calibration register value (bit 0 clear).
    pub const fn register(&self) -> u16 {
        self.register
    }

    /// The shunt resistance the calibration was computed for, in µΩ.
    pub const fn shunt_micro_ohms(&self) -> u32 {
        self.shunt_micro_ohms
    }

    /// The current LSB the chip applies, 0.04096 / (Cal × R_shunt), in nA (rounded).
    pub const fn current_lsb_nanoamps(&self) -> u64 {
        SCALE.current_lsb_nanoamps(self.register, self.shunt_micro_ohms)
    }

    /// A current register value in µA, rounded to nearest. In range for any constructed
    /// calibration (full-scale power fits i32, and current LSB ≤ power LSB).
    pub const fn current_microamps(&self, raw: i16) -> i32 {
        SCALE.current_microamps(self.register, self.shunt_micro_ohms, raw)
    }

    /// A power register value in µW, rounded to nearest.
    pub const fn power_microwatts(&self, raw: u16) -> i32 {
        // `from_lsb` rejects calibrations whose full scale exceeds i32.
        self.power_microwatts_wide(raw) as i32
    }

    const fn power_microwatts_wide(&self, raw: u16) -> u64 {
        SCALE.power_microwatts(self.register, self.shunt_micro_ohms, raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasheet_example_1_ma_lsb_on_2_milliohm_is_cal_20480() {
        // SBOS448F table 3: R_shunt = 2 mΩ, Current_LSB = 1 mA → Cal = 5000h = 20480.
        let cal = Calibration::from_current_lsb(2_000, 1_000_000).unwrap();
        assert_eq!(cal.register(), 0x5000);
        assert_eq!(cal.current_lsb_nanoamps(), 1_000_000);
        // Current register 2710h = 10000 → 10.0 A; power 1766h = 5990 × 20 mW = 119.8 W.
        assert_eq!(cal.current_microamps(0x2710), 10_000_000);
        assert_eq!(cal.power_microwatts(0x1766), 119_800_000);
    }

    #[test]
    fn breakout_board_constant_follows_equation_1() {
        let cal = Calibration::from_current_lsb(100_000, 100_000).unwrap();
        assert_eq!(cal, Calibration::BREAKOUT_100_MILLIOHM);
        assert_eq!(cal.current_microamps(-1), -100);
        // Power_LSB = 20 × Current_LSB = 2 mW.
        assert_eq!(cal.power_microwatts(1), 2_000);
    }

    #[test]
    fn max_expected_current_gives_the_minimum_lsb() {
        // 15 A (the SBOS448G application example): Current_LSB = 15 A / 2^15 = 457.76 µA,
        // rounded up to 457 764 nA; Cal = trunc(0.04096 / (457.764 µA × 2 mΩ)) = 44739, and
        // FS0 void → 44738.
        let cal =
            Calibration::from_max_current(2_000, Current::from_microamps(15_000_000)).unwrap();
        assert_eq!(cal.register(), 44_738);
        // 15 A then reads as about 32767 counts, the top of the register.
        let lsb = cal.current_lsb_nanoamps();
        assert!((457_764..=457_800).contains(&lsb), "{lsb}");
    }

    #[test]
    fn truncated_cal_still_reads_ohms_law() {
        // 0.1 Ω, 3.2 A max: Cal = trunc(0.04096 / (97 657 nA × 0.1 Ω)) = 4194. A 20 mV shunt
        // drop is 2000 shunt counts; the chip's current register holds 2000 × 4194 / 4096 =
        // 2047 (truncated), which must read as close to 200 mA as one LSB allows.
        let cal =
            Calibration::from_max_current(100_000, Current::from_microamps(3_200_000)).unwrap();
        assert_eq!(cal.register(), 4194);
        let ua = cal.current_microamps(2047);
        assert!((ua - 200_000).abs() <= 100, "{ua}");
    }

    #[test]
    fn out_of_range_calibrations_are_rejected() {
        let amps = |a: i32| Current::from_microamps(a * 1_000_000);
        assert_eq!(
            Calibration::from_max_current(0, amps(1)),
            Err(CalibrationError::ZeroShunt)
        );
        assert_eq!(
            Calibration::from_max_current(100_000, amps(0)),
            Err(CalibrationError::ZeroCurrent)
        );
        // 1 mA on a 0.1 Ω shunt: Cal = 0.04096 / (30.5 nA × 0.1) ≈ 13.4 million.
        assert_eq!(
            Calibration::from_max_current(100_000, Current::from_microamps(1_000)),
            Err(CalibrationError::LsbTooFine)
        );
        // Current_LSB = 2 mA: Power_LSB = 40 mW, full scale 65535 × 40 mW beyond ±2147 W.
        assert_eq!(
            Calibration::from_current_lsb(2_000, 2_000_000),
            Err(CalibrationError::LsbTooCoarse)
        );
        // 10 Ω and 3 mA: Cal = trunc(1.37) = 1, which the void FS0 turns into 0.
        assert_eq!(
            Calibration::from_current_lsb(10_000_000, 3_000_000),
            Err(CalibrationError::LsbTooCoarse)
        );
    }
}
