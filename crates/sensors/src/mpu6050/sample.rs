//! Raw register values to physical units, in integer arithmetic (no FPU needed).

use super::config::{AccelRange, GyroRange};
use super::Variant;
use crate::units::{Acceleration, AngularRate, Temperature, STANDARD_GRAVITY_MICRO_MPS2};

/// One sampling instant: acceleration and angular rate along X, Y, Z in the chip's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// Specific force along X, Y, Z (gravity included: +1 g on Z lying flat, PS 7.8).
    pub acceleration: [Acceleration; 3],
    /// Angular rate about X, Y, Z.
    pub angular_rate: [AngularRate; 3],
    /// Die temperature; `None` for FIFO frames without it.
    pub temperature: Option<Temperature>,
}

/// 1° in picoradians (π/180 · 10¹²), so °/s convert to µrad/s in integers.
const PICORAD_PER_DEGREE: i64 = 17_453_292_520;

/// The die's operating range is −40…85 °C (PS-MPU-6000A-00 6.3); a few degrees beyond it is
/// still a working chip, much more is a corrupted transfer.
const TEMPERATURE_LIMITS_MILLI: (i32, i32) = (-45_000, 90_000);

/// `n / d` rounded to nearest, halves away from zero (`d > 0`).
const fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    }
}

/// Acceleration from a raw accelerometer value: raw / sensitivity · g.
pub fn acceleration(raw: i16, range: AccelRange) -> Acceleration {
    let micro = div_round(
        i64::from(raw) * i64::from(STANDARD_GRAVITY_MICRO_MPS2),
        i64::from(range.lsb_per_g()),
    );
    // |raw| ≤ 32768 at 2048 LSB/g is 156.9 m/s²: always fits.
    Acceleration::from_micro_mps2(micro as i32)
}

/// Angular rate from a raw gyroscope value: raw / sensitivity °/s in rad/s.
pub fn angular_rate(raw: i16, range: GyroRange) -> AngularRate {
    let micro = div_round(
        i64::from(raw) * 10 * PICORAD_PER_DEGREE,
        range.tenth_lsb_per_dps() * 1_000_000,
    );
    // |raw| ≤ 32768 at 16.4 LSB/(°/s) is 34.9 rad/s: always fits.
    AngularRate::from_micro_radps(micro as i32)
}

/// Die temperature from TEMP_OUT. MPU-6050: raw / 340 + 36.53 °C (RM-MPU-6000A 4.18).
/// MPU-6500/9250: (raw − RoomTemp_Offset) / 333.87 + 21 °C with an offset of 0 LSB
/// (RM-MPU-6500A 4.22; PS-MPU-9250A-01 3.4.2).
pub fn temperature(raw: i16, variant: Variant) -> Temperature {
    let raw = i64::from(raw);
    let milli = match variant {
        Variant::Mpu6050 => div_round(raw * 50, 17) + 36_530,
        Variant::Mpu6500 | Variant::Mpu9250 => div_round(raw * 100_000, 33_387) + 21_000,
    };
    Temperature::from_milli_celsius(milli as i32)
}

/// Whether a temperature can come from a working chip.
pub(crate) fn plausible_temperature(t: Temperature) -> bool {
    (TEMPERATURE_LIMITS_MILLI.0..=TEMPERATURE_LIMITS_MILLI.1).contains(&t.raw())
}

fn word(bytes: &[u8], index: usize) -> i16 {
    i16::from_be_bytes([bytes[2 * index], bytes[2 * index + 1]])
}

/// Decodes accelerometer words 0..3, an optional temperature word, and gyroscope words after
/// it, as both the data registers and the FIFO lay them out.
pub(crate) fn decode(
    bytes: &[u8],
    with_temperature: bool,
    accel_range: AccelRange,
    gyro_range: GyroRange,
    variant: Variant,
) -> Sample {
    let gyro_first = if with_temperature { 4 } else { 3 };
    Sample {
        acceleration: [0, 1, 2].map(|i| acceleration(word(bytes, i), accel_range)),
        angular_rate: [0, 1, 2].map(|i| angular_rate(word(bytes, gyro_first + i), gyro_range)),
        temperature: with_temperature.then(|| temperature(word(bytes, 3), variant)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_g_at_every_range() {
        // PS 6.2: one g reads 16384, 8192, 4096, 2048 LSB.
        for (range, lsb) in [
            (AccelRange::G2, 16_384),
            (AccelRange::G4, 8_192),
            (AccelRange::G8, 4_096),
            (AccelRange::G16, 2_048),
        ] {
            assert_eq!(acceleration(lsb, range).raw(), 9_806_650, "{range:?}");
            assert_eq!(acceleration(-lsb, range).raw(), -9_806_650, "{range:?}");
        }
        // Full scale: −32768 at ±2 g is exactly −2 g.
        assert_eq!(acceleration(i16::MIN, AccelRange::G2).raw(), -19_613_300);
        // One LSB at ±2 g is 0.598 mm/s².
        assert_eq!(acceleration(1, AccelRange::G2).raw(), 599);
    }

    #[test]
    fn one_degree_per_second_at_every_range() {
        // PS 6.1: 1 °/s reads 131, 65.5, 32.8, 16.4 LSB; 1 °/s = 17453.29 µrad/s. Ranges with
        // fractional sensitivities are checked at 10 °/s, where the raw value is whole.
        assert_eq!(angular_rate(131, GyroRange::Dps250).raw(), 17_453);
        assert_eq!(angular_rate(655, GyroRange::Dps500).raw(), 174_533);
        assert_eq!(angular_rate(328, GyroRange::Dps1000).raw(), 174_533);
        assert_eq!(angular_rate(-164, GyroRange::Dps2000).raw(), -174_533);
        // ±2000 °/s full scale: 32767 / 16.4 = 1997.99 °/s = 34.87147 rad/s.
        assert_eq!(angular_rate(i16::MAX, GyroRange::Dps2000).raw(), 34_871_466);
    }

    #[test]
    fn temperature_formulas_of_both_register_maps() {
        // MPU-6050: 0 LSB is 36.53 °C; the product specification's −521 LSB offset at 35 °C
        // gives 34.998 °C.
        assert_eq!(temperature(0, Variant::Mpu6050).raw(), 36_530);
        assert_eq!(temperature(-521, Variant::Mpu6050).raw(), 34_998);
        assert_eq!(temperature(340, Variant::Mpu6050).raw(), 37_530);
        // MPU-6500: 0 LSB at 21 °C, 333.87 LSB/°C.
        assert_eq!(temperature(0, Variant::Mpu6500).raw(), 21_000);
        assert_eq!(temperature(3339, Variant::Mpu6500).raw(), 31_001);
        assert_eq!(temperature(-20_699, Variant::Mpu9250).raw(), -40_997);
    }

    #[test]
    fn implausible_temperatures() {
        assert!(plausible_temperature(temperature(
            -26_000,
            Variant::Mpu6050
        )));
        // 25 °C is −3920 = 0xF0B0 on the 6050; bit 7 of TEMP_OUT_H flipped reads 121 °C.
        let flipped = i16::from_be_bytes([0xF0 ^ 0x80, 0xB0]);
        assert!(plausible_temperature(temperature(-3_920, Variant::Mpu6050)));
        assert!(!plausible_temperature(temperature(
            flipped,
            Variant::Mpu6050
        )));
        assert!(!plausible_temperature(temperature(
            i16::MAX,
            Variant::Mpu6500
        )));
    }

    #[test]
    fn decode_lays_out_registers_and_fifo_frames() {
        let regs: [u8; 14] = [
            0x40, 0x00, 0xC0, 0x00, 0x00, 0x00, // accel +1 g, −1 g, 0 at ±2 g
            0x00, 0x00, // temperature 36.53 °C
            0x00, 0x83, 0xFF, 0x7D, 0x00, 0x00, // gyro +131, −131, 0
        ];
        let s = decode(
            &regs,
            true,
            AccelRange::G2,
            GyroRange::Dps250,
            Variant::Mpu6050,
        );
        assert_eq!(s.acceleration.map(|a| a.raw()), [9_806_650, -9_806_650, 0]);
        assert_eq!(s.angular_rate.map(|w| w.raw()), [17_453, -17_453, 0]);
        assert_eq!(s.temperature.map(|t| t.raw()), Some(36_530));
        let mut frame = regs;
        frame.copy_within(8..14, 6);
        let s = decode(
            &frame[..12],
            false,
            AccelRange::G2,
            GyroRange::Dps250,
            Variant::Mpu6050,
        );
        assert_eq!(s.angular_rate.map(|w| w.raw()), [17_453, -17_453, 0]);
        assert_eq!(s.temperature, None);
    }
}
