//! The checksum and the formulas that turn raw words into units, shared by both families.

use super::{Error, Measurement, Word};
use crate::units::{RelativeHumidity, Temperature};

/// Sensirion's CRC-8 over the bytes of one word (SHT3x datasheet table 20, SHT4x "Checksum
/// Calculation"): polynomial 0x31 (x⁸ + x⁵ + x⁴ + 1), initial value 0xFF, no reflection, no
/// final XOR. `crc8(&[0xBE, 0xEF]) == 0x92`.
pub const fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0xFFu8;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i];
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x31
            } else {
                crc << 1
            };
            bit += 1;
        }
        i += 1;
    }
    crc
}

/// Splits `bytes` (three per word: MSB, LSB, CRC) into words, checking every CRC. The first
/// mismatch is an error naming its word; no word is returned unchecked.
pub(crate) fn checked_words<E, const N: usize>(
    bytes: &[u8],
    names: [Word; N],
) -> Result<[u16; N], Error<E>> {
    let mut words = [0u16; N];
    for ((chunk, word), name) in bytes.chunks_exact(3).zip(words.iter_mut()).zip(names) {
        let computed = crc8(&chunk[..2]);
        if chunk[2] != computed {
            return Err(Error::Crc {
                word: name,
                received: chunk[2],
                computed,
            });
        }
        *word = u16::from_be_bytes([chunk[0], chunk[1]]);
    }
    Ok(words)
}

/// Full scale of the 16-bit words: the formulas divide by 2¹⁶ − 1.
const FULL_SCALE: u64 = 65_535;

/// `numerator · raw / (2¹⁶ − 1)`, rounded to nearest; at most `numerator`.
const fn scale(raw: u16, numerator: u64) -> u64 {
    (numerator * raw as u64 + FULL_SCALE / 2) / FULL_SCALE
}

/// T = −45 + 175 · S_T / (2¹⁶ − 1) °C (SHT3x datasheet 4.13, SHT4x "Conversion of Signal Output"), to m°C: −45 °C at
/// 0x0000, 130 °C at 0xFFFF.
pub const fn temperature_from_raw(raw: u16) -> Temperature {
    // 0…175 000, so the cast and the subtraction cannot overflow.
    Temperature::from_milli_celsius(scale(raw, 175_000) as i32 - 45_000)
}

/// SHT3x: RH = 100 · S_RH / (2¹⁶ − 1) %RH (datasheet 4.13), to m%RH.
pub const fn sht3x_humidity_from_raw(raw: u16) -> RelativeHumidity {
    RelativeHumidity::from_milli_percent(scale(raw, 100_000) as u32)
}

/// SHT4x: RH = −6 + 125 · S_RH / (2¹⁶ − 1) %RH (datasheet, "Conversion of Signal Output"), to m%RH, clipped to
/// 0…100 %RH as the datasheet recommends: the formula spans −6…119 %RH so that the sensor's
/// own span is not cut off before calibration, and values outside 0…100 are physically
/// meaningless.
pub const fn sht4x_humidity_from_raw(raw: u16) -> RelativeHumidity {
    let milli = scale(raw, 125_000) as i64 - 6_000;
    let clipped = if milli < 0 {
        0
    } else if milli > 100_000 {
        100_000
    } else {
        milli
    };
    RelativeHumidity::from_milli_percent(clipped as u32)
}

/// Which humidity formula applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Sht3x,
    Sht4x,
}

/// A measurement from its two checked words.
pub(crate) fn measurement([t, rh]: [u16; 2], family: Family) -> Measurement {
    let humidity = match family {
        Family::Sht3x => sht3x_humidity_from_raw(rh),
        Family::Sht4x => sht4x_humidity_from_raw(rh),
    };
    Measurement {
        temperature: temperature_from_raw(t),
        humidity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_datasheet_example() {
        // SHT3x table 20 and the SHT4x datasheet: CRC(0xBEEF) = 0x92.
        assert_eq!(crc8(&[0xBE, 0xEF]), 0x92);
        // An all-zero word: a bus stuck low cannot pass the check.
        assert_eq!(crc8(&[0x00, 0x00]), 0x81);
        assert_eq!(crc8(&[]), 0xFF);
    }

    #[test]
    fn temperature_endpoints_and_the_datasheet_example() {
        // 0x6666 = 0.4 · (2¹⁶ − 1): −45 + 175 · 0.4 = 25 °C exactly.
        assert_eq!(temperature_from_raw(0x6666).raw(), 25_000);
        assert_eq!(temperature_from_raw(0x0000).raw(), -45_000);
        assert_eq!(temperature_from_raw(0xFFFF).raw(), 130_000);
        // Mid-scale: −45 + 175 · 32768 / 65535 = 42.50134 °C.
        assert_eq!(temperature_from_raw(0x8000).raw(), 42_501);
        // One LSB is 2.67 m°C; around 0 °C (S = 45 / 175 · 65535 = 16851.9) the exact values
        // are +0.38 m°C and −2.29 m°C, rounded to nearest.
        assert_eq!(temperature_from_raw(16_852).raw(), 0);
        assert_eq!(temperature_from_raw(16_851).raw(), -2);
    }

    #[test]
    fn sht3x_humidity_spans_0_to_100() {
        assert_eq!(sht3x_humidity_from_raw(0x0000).raw(), 0);
        assert_eq!(sht3x_humidity_from_raw(0xFFFF).raw(), 100_000);
        assert_eq!(sht3x_humidity_from_raw(0x6666).raw(), 40_000);
        // 100 · 32768 / 65535 = 50.00076 %RH
        assert_eq!(sht3x_humidity_from_raw(0x8000).raw(), 50_001);
    }

    #[test]
    fn sht4x_humidity_is_offset_and_clipped() {
        // −6 + 125 · 0.4 = 44 %RH
        assert_eq!(sht4x_humidity_from_raw(0x6666).raw(), 44_000);
        // −6 %RH and 119 %RH clip to the physical range.
        assert_eq!(sht4x_humidity_from_raw(0x0000).raw(), 0);
        assert_eq!(sht4x_humidity_from_raw(0xFFFF).raw(), 100_000);
        // Either side of 0 %RH (S = 6 / 125 · 65535 = 3145.7): −1.3 and +0.6 m%RH; either side
        // of 100 %RH (S = 55573.7): 99.9987 and 100.0006 %RH.
        assert_eq!(sht4x_humidity_from_raw(3_145).raw(), 0);
        assert_eq!(sht4x_humidity_from_raw(3_146).raw(), 1);
        assert_eq!(sht4x_humidity_from_raw(55_573).raw(), 99_999);
        assert_eq!(sht4x_humidity_from_raw(55_574).raw(), 100_000);
    }

    const NAMES: [Word; 2] = [Word::Temperature, Word::Humidity];

    #[test]
    fn a_bad_crc_names_its_word_and_returns_no_value() {
        let good = [
            0x66,
            0x66,
            crc8(&[0x66, 0x66]),
            0x80,
            0x00,
            crc8(&[0x80, 0x00]),
        ];
        let words = checked_words::<(), 2>(&good, NAMES).unwrap();
        assert_eq!(words, [0x6666, 0x8000]);
        let m = measurement(words, Family::Sht3x);
        assert_eq!((m.temperature.raw(), m.humidity.raw()), (25_000, 50_001));
        let m = measurement(words, Family::Sht4x);
        assert_eq!((m.temperature.raw(), m.humidity.raw()), (25_000, 56_501));

        let mut bad_t = good;
        bad_t[1] ^= 0x01;
        assert_eq!(
            checked_words::<(), 2>(&bad_t, NAMES),
            Err(Error::Crc {
                word: Word::Temperature,
                received: good[2],
                computed: crc8(&[0x66, 0x67]),
            })
        );
        let mut bad_rh = good;
        bad_rh[5] ^= 0x80;
        assert!(matches!(
            checked_words::<(), 2>(&bad_rh, NAMES),
            Err(Error::Crc {
                word: Word::Humidity,
                ..
            })
        ));
        // A stuck bus fails the CRC: all ones and all zeros are never valid words.
        assert!(checked_words::<(), 2>(&[0xFF; 6], NAMES).is_err());
        assert!(checked_words::<(), 2>(&[0x00; 6], NAMES).is_err());
    }
}
