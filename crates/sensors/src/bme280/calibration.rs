//! Trimming parameters and Bosch's compensation formulas (datasheet section 4.2.3 and 8).
//!
//! The integer paths are the vendor's reference code transcribed operation by operation
//! (`int32` temperature and humidity, `int64` pressure), so a Cortex-M0 without an FPU gets the
//! same numbers as the datasheet. Arithmetic wraps like the C reference instead of panicking:
//! a corrupted calibration block must give an implausible value, never a crash.

use super::registers::{CALIB_H_LEN, CALIB_TP_LEN};

/// The chip's factory trimming parameters (datasheet table 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)] // the names are the datasheet's
pub struct Calibration {
    pub dig_t1: u16,
    pub dig_t2: i16,
    pub dig_t3: i16,
    pub dig_p1: u16,
    pub dig_p2: i16,
    pub dig_p3: i16,
    pub dig_p4: i16,
    pub dig_p5: i16,
    pub dig_p6: i16,
    pub dig_p7: i16,
    pub dig_p8: i16,
    pub dig_p9: i16,
    pub dig_h1: u8,
    pub dig_h2: i16,
    pub dig_h3: u8,
    pub dig_h4: i16,
    pub dig_h5: i16,
    pub dig_h6: i8,
}

/// Why a calibration block cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationFault {
    /// Every byte reads the same (0x00 or 0xFF): the bus or the chip's NVM is not answering.
    Blank(u8),
    /// dig_T1 is zero: temperature compensation degenerates.
    ZeroT1,
    /// dig_P1 is zero: pressure compensation would divide by zero.
    ZeroP1,
}

impl Calibration {
    /// The worked example of the BMP280 datasheet (BST-BMP280-DS001, section 3.12), whose
    /// temperature and pressure formulas the BME280 shares; humidity parameters are zero.
    pub const DATASHEET_EXAMPLE: Self = Self {
        dig_t1: 27504,
        dig_t2: 26435,
        dig_t3: -1000,
        dig_p1: 36477,
        dig_p2: -10685,
        dig_p3: 3024,
        dig_p4: 2855,
        dig_p5: 140,
        dig_p6: -7,
        dig_p7: 15500,
        dig_p8: -14600,
        dig_p9: 6000,
        dig_h1: 0,
        dig_h2: 0,
        dig_h3: 0,
        dig_h4: 0,
        dig_h5: 0,
        dig_h6: 0,
    };
}

/// Fine temperature carried from temperature to pressure and humidity compensation.
pub type TFine = i32;

impl Calibration {
    /// Parses the two calibration blocks: 0x88..0xA1 and (BME280 only) 0xE1..0xE7. For a
    /// BMP280 pass `None` and the humidity parameters stay zero.
    pub fn parse(
        tp: &[u8; CALIB_TP_LEN],
        h: Option<&[u8; CALIB_H_LEN]>,
    ) -> Result<Self, CalibrationFault> {
        let u16_at = |i: usize| u16::from_le_bytes([tp[i], tp[i + 1]]);
        let i16_at = |i: usize| i16::from_le_bytes([tp[i], tp[i + 1]]);
        let mut cal = Self {
            dig_t1: u16_at(0),
            dig_t2: i16_at(2),
            dig_t3: i16_at(4),
            dig_p1: u16_at(6),
            dig_p2: i16_at(8),
            dig_p3: i16_at(10),
            dig_p4: i16_at(12),
            dig_p5: i16_at(14),
            dig_p6: i16_at(16),
            dig_p7: i16_at(18),
            dig_p8: i16_at(20),
            dig_p9: i16_at(22),
            dig_h1: tp[25],
            ..Self::default()
        };
        if let Some(h) = h {
            cal.dig_h2 = i16::from_le_bytes([h[0], h[1]]);
            cal.dig_h3 = h[2];
            // dig_H4 = 0xE4[7:0] / 0xE5[3:0] and dig_H5 = 0xE6[7:0] / 0xE5[7:4], 12-bit signed:
            // the MSB registers are sign-extended as in Bosch's driver.
            cal.dig_h4 = (i16::from(h[3] as i8) << 4) | i16::from(h[4] & 0x0F);
            cal.dig_h5 = (i16::from(h[5] as i8) << 4) | i16::from(h[4] >> 4);
            cal.dig_h6 = h[6] as i8;
        }
        let first = tp[0];
        let blank =
            tp[..24].iter().all(|&b| b == first) && h.is_none_or(|h| h.iter().all(|&b| b == first));
        if blank {
            return Err(CalibrationFault::Blank(first));
        }
        if cal.dig_t1 == 0 {
            return Err(CalibrationFault::ZeroT1);
        }
        if cal.dig_p1 == 0 {
            return Err(CalibrationFault::ZeroP1);
        }
        Ok(cal)
    }

    /// Serialises into the two register blocks, the inverse of [`Calibration::parse`] (used
    /// by simulators and tests).
    pub fn to_registers(&self) -> ([u8; CALIB_TP_LEN], [u8; CALIB_H_LEN]) {
        let mut tp = [0u8; CALIB_TP_LEN];
        let words: [u16; 12] = [
            self.dig_t1,
            self.dig_t2 as u16,
            self.dig_t3 as u16,
            self.dig_p1,
            self.dig_p2 as u16,
            self.dig_p3 as u16,
            self.dig_p4 as u16,
            self.dig_p5 as u16,
            self.dig_p6 as u16,
            self.dig_p7 as u16,
            self.dig_p8 as u16,
            self.dig_p9 as u16,
        ];
        for (chunk, word) in tp.chunks_exact_mut(2).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        tp[25] = self.dig_h1;
        let [h2_lo, h2_hi] = self.dig_h2.to_le_bytes();
        let h4 = self.dig_h4 as u16;
        let h5 = self.dig_h5 as u16;
        let h = [
            h2_lo,
            h2_hi,
            self.dig_h3,
            (h4 >> 4) as u8,
            ((h4 & 0x0F) as u8) | (((h5 & 0x0F) as u8) << 4),
            (h5 >> 4) as u8,
            self.dig_h6 as u8,
        ];
        (tp, h)
    }

    /// Temperature in 0.01 °C and t_fine (`BME280_compensate_T_int32`).
    pub fn compensate_temperature(&self, adc_t: i32) -> (i32, TFine) {
        let t1 = i32::from(self.dig_t1);
        let t2 = i32::from(self.dig_t2);
        let t3 = i32::from(self.dig_t3);
        let var1 = ((adc_t >> 3).wrapping_sub(t1 << 1)).wrapping_mul(t2) >> 11;
        let d = (adc_t >> 4).wrapping_sub(t1);
        let var2 = ((d.wrapping_mul(d) >> 12).wrapping_mul(t3)) >> 14;
        let t_fine = var1.wrapping_add(var2);
        (t_fine.wrapping_mul(5).wrapping_add(128) >> 8, t_fine)
    }

    /// Pressure in Pa as Q24.8 (`BME280_compensate_P_int64`): 24674867 means 96386.2 Pa.
    pub fn compensate_pressure(&self, adc_p: i32, t_fine: TFine) -> u32 {
        let mut var1 = i64::from(t_fine) - 128_000;
        let mut var2 = var1.wrapping_mul(var1).wrapping_mul(i64::from(self.dig_p6));
        var2 = var2.wrapping_add(var1.wrapping_mul(i64::from(self.dig_p5)) << 17);
        var2 = var2.wrapping_add(i64::from(self.dig_p4) << 35);
        var1 = (var1.wrapping_mul(var1).wrapping_mul(i64::from(self.dig_p3)) >> 8)
            .wrapping_add(var1.wrapping_mul(i64::from(self.dig_p2)) << 12);
        var1 = ((1i64 << 47).wrapping_add(var1)).wrapping_mul(i64::from(self.dig_p1)) >> 33;
        if var1 == 0 {
            return 0; // the reference's guard against division by zero
        }
        let mut p: i64 = 1_048_576 - i64::from(adc_p);
        p = ((p << 31).wrapping_sub(var2))
            .wrapping_mul(3125)
            .wrapping_div(var1);
        var1 = i64::from(self.dig_p9)
            .wrapping_mul(p >> 13)
            .wrapping_mul(p >> 13)
            >> 25;
        var2 = i64::from(self.dig_p8).wrapping_mul(p) >> 19;
        p = (p.wrapping_add(var1).wrapping_add(var2) >> 8)
            .wrapping_add(i64::from(self.dig_p7) << 4);
        p as u32
    }

    /// Relative humidity in %RH as Q22.10 (`bme280_compensate_H_int32`): 47445 means 46.333 %.
    pub fn compensate_humidity(&self, adc_h: i32, t_fine: TFine) -> u32 {
        let h1 = i32::from(self.dig_h1);
        let h2 = i32::from(self.dig_h2);
        let h3 = i32::from(self.dig_h3);
        let h4 = i32::from(self.dig_h4);
        let h5 = i32::from(self.dig_h5);
        let h6 = i32::from(self.dig_h6);
        let mut v = t_fine.wrapping_sub(76_800);
        let a = ((adc_h << 14)
            .wrapping_sub(h4 << 20)
            .wrapping_sub(h5.wrapping_mul(v)))
        .wrapping_add(16_384)
            >> 15;
        let b = ((((v.wrapping_mul(h6) >> 10).wrapping_mul((v.wrapping_mul(h3) >> 11) + 32_768))
            >> 10)
            .wrapping_add(2_097_152))
        .wrapping_mul(h2)
        .wrapping_add(8_192)
            >> 14;
        v = a.wrapping_mul(b);
        v = v.wrapping_sub((((v >> 15).wrapping_mul(v >> 15) >> 7).wrapping_mul(h1)) >> 4);
        v = v.clamp(0, 419_430_400);
        (v >> 12) as u32
    }
}

/// Bosch's double-precision formulas (datasheet section 8.1), for boards with an FPU.
#[cfg(feature = "float")]
impl Calibration {
    /// Temperature in °C and t_fine (`BME280_compensate_T_double`).
    pub fn compensate_temperature_f64(&self, adc_t: i32) -> (f64, TFine) {
        let adc = f64::from(adc_t);
        let t1 = f64::from(self.dig_t1);
        let var1 = (adc / 16384.0 - t1 / 1024.0) * f64::from(self.dig_t2);
        let d = adc / 131_072.0 - t1 / 8192.0;
        let var2 = d * d * f64::from(self.dig_t3);
        ((var1 + var2) / 5120.0, (var1 + var2) as i32)
    }

    /// Pressure in Pa (`BME280_compensate_P_double`).
    pub fn compensate_pressure_f64(&self, adc_p: i32, t_fine: TFine) -> f64 {
        let mut var1 = f64::from(t_fine) / 2.0 - 64000.0;
        let mut var2 = var1 * var1 * f64::from(self.dig_p6) / 32768.0;
        var2 += var1 * f64::from(self.dig_p5) * 2.0;
        var2 = var2 / 4.0 + f64::from(self.dig_p4) * 65536.0;
        var1 = (f64::from(self.dig_p3) * var1 * var1 / 524_288.0 + f64::from(self.dig_p2) * var1)
            / 524_288.0;
        var1 = (1.0 + var1 / 32768.0) * f64::from(self.dig_p1);
        if var1 == 0.0 {
            return 0.0;
        }
        let mut p = 1_048_576.0 - f64::from(adc_p);
        p = (p - var2 / 4096.0) * 6250.0 / var1;
        var1 = f64::from(self.dig_p9) * p * p / 2_147_483_648.0;
        var2 = p * f64::from(self.dig_p8) / 32768.0;
        p + (var1 + var2 + f64::from(self.dig_p7)) / 16.0
    }

    /// Relative humidity in %RH, clamped to 0..100 (`BME280_compensate_H_double`).
    pub fn compensate_humidity_f64(&self, adc_h: i32, t_fine: TFine) -> f64 {
        let v = f64::from(t_fine) - 76800.0;
        let mut h = (f64::from(adc_h)
            - (f64::from(self.dig_h4) * 64.0 + f64::from(self.dig_h5) / 16384.0 * v))
            * (f64::from(self.dig_h2) / 65536.0
                * (1.0
                    + f64::from(self.dig_h6) / 67_108_864.0
                        * v
                        * (1.0 + f64::from(self.dig_h3) / 67_108_864.0 * v)));
        h *= 1.0 - f64::from(self.dig_h1) * h / 524_288.0;
        h.clamp(0.0, 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasheet_temperature_example() {
        let (t, t_fine) = Calibration::DATASHEET_EXAMPLE.compensate_temperature(519_888);
        assert_eq!(t_fine, 128_422);
        assert_eq!(t, 2508); // 25.08 °C
    }

    #[test]
    fn datasheet_pressure_example() {
        let cal = Calibration::DATASHEET_EXAMPLE;
        let (_, t_fine) = cal.compensate_temperature(519_888);
        let q24_8 = cal.compensate_pressure(415_148, t_fine);
        let pa = f64::from(q24_8) / 256.0;
        assert!((pa - 100_653.27).abs() <= 1.0, "got {pa} Pa");
    }

    #[test]
    fn humidity_reference_is_clamped_to_0_100() {
        let cal = Calibration {
            dig_h1: 75,
            dig_h2: 354,
            dig_h4: 339,
            dig_h6: 30,
            ..Calibration::DATASHEET_EXAMPLE
        };
        let t_fine = 128_422;
        assert_eq!(cal.compensate_humidity(0, t_fine), 0);
        assert_eq!(cal.compensate_humidity(0xFFFF, t_fine), 100 * 1024);
        let mid = cal.compensate_humidity(30_000, t_fine);
        assert!(mid > 0 && mid < 100 * 1024, "{mid}");
    }

    #[test]
    fn registers_round_trip_including_12_bit_humidity_fields() {
        let cal = Calibration {
            dig_h1: 75,
            dig_h2: 354,
            dig_h3: 0,
            dig_h4: -339,
            dig_h5: 1234,
            dig_h6: -30,
            ..Calibration::DATASHEET_EXAMPLE
        };
        let (tp, h) = cal.to_registers();
        assert_eq!(Calibration::parse(&tp, Some(&h)), Ok(cal));
        assert_eq!(&tp[..2], &[0x70, 0x6B]); // dig_T1 = 27504 = 0x6B70, little endian
    }

    #[test]
    fn blank_and_degenerate_blocks_are_refused() {
        assert_eq!(
            Calibration::parse(&[0xFF; 26], Some(&[0xFF; 7])),
            Err(CalibrationFault::Blank(0xFF))
        );
        assert_eq!(
            Calibration::parse(&[0; 26], None),
            Err(CalibrationFault::Blank(0))
        );
        let mut cal = Calibration::DATASHEET_EXAMPLE;
        cal.dig_p1 = 0;
        let (tp, h) = cal.to_registers();
        assert_eq!(
            Calibration::parse(&tp, Some(&h)),
            Err(CalibrationFault::ZeroP1)
        );
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let cal = Calibration {
            dig_t1: u16::MAX,
            dig_t2: i16::MIN,
            dig_t3: i16::MIN,
            dig_p1: u16::MAX,
            dig_p2: i16::MIN,
            dig_p3: i16::MAX,
            dig_p4: i16::MIN,
            dig_p5: i16::MAX,
            dig_p6: i16::MIN,
            dig_p7: i16::MAX,
            dig_p8: i16::MIN,
            dig_p9: i16::MAX,
            dig_h1: u8::MAX,
            dig_h2: i16::MIN,
            dig_h3: u8::MAX,
            dig_h4: i16::MAX,
            dig_h5: i16::MIN,
            dig_h6: i8::MIN,
        };
        for adc in [0, 1, 0x7FFFF, 0x80000, 0xFFFFF] {
            let (_, t_fine) = cal.compensate_temperature(adc);
            cal.compensate_pressure(adc, t_fine);
            cal.compensate_humidity(adc & 0xFFFF, t_fine);
        }
    }

    #[cfg(feature = "float")]
    #[test]
    fn float_path_matches_datasheet_example() {
        let cal = Calibration::DATASHEET_EXAMPLE;
        let (t, t_fine) = cal.compensate_temperature_f64(519_888);
        assert!((t - 25.08).abs() < 0.01, "{t}");
        let p = cal.compensate_pressure_f64(415_148, t_fine);
        assert!((p - 100_653.27).abs() < 1.0, "{p}");
    }
}
