//! The calibration register and the scale of the current and power registers, from the
//! datasheet's programming procedure (SBOS547 section 6.5.1, equations 1-4), in integer
//! arithmetic.
//!
//! - Current_LSB = Maximum Expected Current / 2^15 (equation 2, the finest useful LSB);
//! - CAL = trunc(0.00512 / (Current_LSB × R_shunt)) (equation 1), 15 bits;
//! - Power_LSB = 25 × Current_LSB (section 7.1.4).
//!
//! The chip computes Current = Shunt × CAL / 2048 and Power = Current × Bus / 20000
//! (equations 3 and 4). Because CAL is truncated, the LSB the chip applies is
//! 0.00512 / (CAL × R_shunt), a little coarser than the nominal one; readings are converted
//! with that effective LSB, so a current reads as V_shunt / R_shunt.

use core::fmt;

use crate::shunt_scale::ShuntScale;
use crate::units::{Current, Power};

/// K = 0.00512 (equation 1) and Power_LSB = 25 × Current_LSB (section 7.1.4).
const SCALE: ShuntScale = ShuntScale {
    scale_na_uohm: 5_120_000_000_000,
    power_per_current_lsb: 25,
};
/// FS14..FS0: the register has no bit 15 (section 7.1.6).
const CAL_MAX: u64 = 0x7FFF;

/// Why a calibration cannot be programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationError {
    /// The shunt resistance is zero.
    ZeroShunt,
    /// The maximum expected current (or the current LSB) is zero or negative.
    ZeroCurrent,
    /// CAL would exceed the 15-bit register: the current LSB is too fine for this shunt.
    LsbTooFine,
    /// CAL would be 0, or full-scale power would not fit the driver's ±2147 W: the current
    /// LSB is too coarse for this shunt.
    LsbTooCoarse,
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroShunt => "the shunt resistance is zero",
            Self::ZeroCurrent => "the expected current (or current LSB) must be positive",
            Self::LsbTooFine => {
                "calibration exceeds 15 bits (7FFFh): the current LSB is too fine for this shunt"
            }
            Self::LsbTooCoarse => {
                "calibration is 0 or power beyond ±2147 W: the current LSB is too coarse"
            }
        })
    }
}

impl core::error::Error for CalibrationError {}

/// What the driver writes to the calibration register, with the shunt it was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calibration {
    register: u16,
    shunt_micro_ohms: u32,
}

impl Calibration {
    /// The common INA226 breakout boards carry a 0.1 Ω shunt ("R100"), so ±819 mA at the
    /// 81.92 mV full scale. Current_LSB = 25 µA gives CAL = 0.00512 / (25 µA × 0.1 Ω) = 2048,
    /// where the current register equals the shunt register (25 µA = 2.5 µV / 0.1 Ω).
    pub const BREAKOUT_100_MILLIOHM: Self = Self {
        register: 2048,
        shunt_micro_ohms: 100_000,
    };

    /// The finest calibration for currents up to `max_expected` through a shunt of
    /// `shunt_micro_ohms` µΩ: Current_LSB = max / 2^15, rounded up to whole nanoamperes.
    /// Check that max × R stays within the 81.92 mV shunt range.
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
    /// datasheet rounds the LSB up so register values read as decimals).
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
        if cal > CAL_MAX {
            return Err(CalibrationError::LsbTooFine);
        }
        let calibration = Self {
            register: cal as u16,
            shunt_micro_ohms,
        };
        if cal == 0 || calibration.power_microwatts_wide(u16::MAX) > i32::MAX as u64 {
            return Err(CalibrationError::LsbTooCoarse);
        }
        Ok(calibration)
    }

    /// The calibration register value (bit 15 clear).
    pub const fn register(&self) -> u16 {
        self.register
    }

    /// The shunt resistance the calibration was computed for, in µΩ.
    pub const fn shunt_micro_ohms(&self) -> u32 {
        self.shunt_micro_ohms
    }

    /// The current LSB the chip applies, 0.00512 / (CAL × R_shunt), in nA (rounded).
    pub const fn current_lsb_nanoamps(&self) -> u64 {
        SCALE.current_lsb_nanoamps(self.register, self.shunt_micro_ohms)
    }

    /// A current register value in µA, rounded to nearest. In range for any constructed
    /// calibration (full-scale power fits i32, and the current LSB is below the power LSB).
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

    /// The largest power register value not above `power` (0 for a negative power): the
    /// alert limit for "power register exceeds the limit". Configuration time only, so the
    /// exact 128-bit product is affordable.
    pub(crate) fn power_counts_floor(&self, power: Power) -> u64 {
        let microwatts = u128::from(power.raw().max(0).unsigned_abs());
        let cal_times_shunt = u128::from(self.register) * u128::from(self.shunt_micro_ohms);
        let counts = microwatts * cal_times_shunt / u128::from(SCALE.power_uw_numerator());
        u64::try_from(counts).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasheet_example_1_ma_lsb_on_2_milliohm_is_cal_2560() {
        // SBOS547 table 6-1 (configure/measure/calculate example): R_shunt = 2 mΩ,
        // Current_LSB = 1 mA → CAL = 0.00512 / (0.001 × 0.002) = 2560 = A00h.
        let cal = Calibration::from_current_lsb(2_000, 1_000_000).unwrap();
        assert_eq!(cal.register(), 0x0A00);
        assert_eq!(cal.current_lsb_nanoamps(), 1_000_000);
        // Current register 2710h = 10000 → 10.0 A; power 12B8h = 4792 × 25 mW = 119.8 W.
        assert_eq!(cal.current_microamps(0x2710), 10_000_000);
        assert_eq!(cal.power_microwatts(0x12B8), 119_800_000);
    }

    #[test]
    fn breakout_board_constant_follows_equation_1() {
        let cal = Calibration::from_current_lsb(100_000, 25_000).unwrap();
        assert_eq!(cal, Calibration::BREAKOUT_100_MILLIOHM);
        assert_eq!(cal.current_microamps(-4), -100);
        // Power_LSB = 25 × 25 µA·V = 625 µW.
        assert_eq!(cal.power_microwatts(1), 625);
    }

    #[test]
    fn max_expected_current_gives_the_minimum_lsb() {
        // Equation 2 for 10 A on a 150 mΩ shunt: Current_LSB = 10 A / 2^15 = 305.18 µA
        // (305 176 nA rounded up), CAL = trunc(0.00512 / (305.176 µA × 0.15 Ω)) = 111.
        let cal =
            Calibration::from_max_current(150_000, Current::from_microamps(10_000_000)).unwrap();
        assert_eq!(cal.register(), 111);
        // The LSB the chip applies with CAL = 111: 0.00512 / (111 × 0.15) = 307.5 µA.
        assert_eq!(cal.current_lsb_nanoamps(), 307_508);
    }

    #[test]
    fn truncated_cal_still_reads_ohms_law() {
        // 0.1 Ω, 0.8 A max: CAL = trunc(0.00512 / (24 415 nA × 0.1 Ω)) = 2097. A 20 mV shunt
        // drop is 8000 shunt counts; the chip's current register holds 8000 × 2097 / 2048 =
        // 8191 (truncated), which must read as close to 200 mA as one LSB allows.
        let cal = Calibration::from_max_current(100_000, Current::from_microamps(800_000)).unwrap();
        assert_eq!(cal.register(), 2097);
        let ua = cal.current_microamps(8191);
        assert!((ua - 200_000).abs() <= 25, "{ua}");
    }

    #[test]
    fn power_limit_counts_round_down() {
        let cal = Calibration::from_current_lsb(2_000, 1_000_000).unwrap();
        // Power_LSB 25 mW: 100 W is exactly 4000 counts, 100.02 W still 4000.
        assert_eq!(
            cal.power_counts_floor(Power::from_microwatts(100_000_000)),
            4000
        );
        assert_eq!(
            cal.power_counts_floor(Power::from_microwatts(100_020_000)),
            4000
        );
        assert_eq!(cal.power_counts_floor(Power::from_microwatts(-1)), 0);
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
        // 10 mA on a 0.1 Ω shunt: CAL = 0.00512 / (306 nA × 0.1 Ω) ≈ 167 000 > 7FFFh.
        assert_eq!(
            Calibration::from_max_current(100_000, Current::from_microamps(10_000)),
            Err(CalibrationError::LsbTooFine)
        );
        // Current_LSB = 2 mA: Power_LSB = 50 mW, full scale 65535 × 50 mW beyond ±2147 W.
        assert_eq!(
            Calibration::from_current_lsb(1_000, 2_000_000),
            Err(CalibrationError::LsbTooCoarse)
        );
        // 10 Ω and 1 mA: CAL = trunc(0.512) = 0.
        assert_eq!(
            Calibration::from_current_lsb(10_000_000, 1_000_000),
            Err(CalibrationError::LsbTooCoarse)
        );
    }
}
