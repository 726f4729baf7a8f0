//! Finding what answers on an I²C bus and recognising the chips there, written once over
//! embedded-hal's `I2c` so every board scans the same way.
//!
//! **Probing** follows `i2cdetect`'s default ("the command believed to be the safest for each
//! address"): a quick write (address plus write bit, no data) everywhere except 0x30..=0x37
//! and 0x50..=0x5F, where a 1-byte read is used. A quick write can corrupt the write-protect
//! state of some EEPROMs, which live at 0x50..=0x5F (and 0x30..=0x37 on SPD buses); a read can
//! lock up write-only chips, which do not live there. A quick write is also what the SHT3x and
//! SHT4x need: with no result pending they refuse a read header but acknowledge a write. The
//! reserved addresses 0x00..=0x07 and 0x78..=0x7F are not probed.
//!
//! **Recognition** only reads, and only where the address can hold a chip we know:
//! - 0x76/0x77: chip id register 0xD0: 0x60 BME280, 0x56..=0x58 BMP280;
//! - 0x68/0x69: WHO_AM_I 0x75: 0x68 MPU-6050, 0x70 MPU-6500, 0x71 MPU-9250;
//! - 0x40..=0x4F: manufacturer id 0xFE = 0x5449 ("TI") and die id 0xFF = 0x226x: INA226;
//!   else the INA219's power-on configuration 0x399F at 0x00 (it has no id register, so a
//!   configured INA219 stays "unknown");
//! - 0x48..=0x4B: the ADS1x15's power-on threshold registers, Lo_thresh 0x8000 and Hi_thresh
//!   0x7FFF (the driver leaves them alone with the comparator off). ADS1115 and ADS1015 have
//!   the same register map, so the family is reported;
//! - 0x44/0x45: SHT3x status read (0xF32D), a word with a valid CRC-8;
//! - 0x44..=0x46: SHT4x serial number (0x89, 1 ms), two words with valid CRC-8.
//!
//! Anything else that answers is reported with no chip: a guess would be worse than "unknown".

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use crate::ScanHit;

/// The first and last addresses a scan probes (i2cdetect's default range).
pub const FIRST_ADDRESS: u8 = 0x08;
/// See [`FIRST_ADDRESS`].
pub const LAST_ADDRESS: u8 = 0x77;

/// The chip name a scan reports for an ADS1115 or ADS1015 (indistinguishable by reads alone).
pub const ADS1X15: &str = "ads1x15";

/// Whether a 1-byte read, rather than a quick write, probes `address` (i2cdetect's choice).
pub fn probes_by_read(address: u8) -> bool {
    matches!(address, 0x30..=0x37 | 0x50..=0x5F)
}

/// Probes every address from [`FIRST_ADDRESS`] to [`LAST_ADDRESS`] and identifies the chips
/// that answer. Bus errors mean "nothing there"; the scan itself cannot fail.
pub fn scan<I2C: I2c, D: DelayNs>(i2c: &mut I2C, delay: &mut D) -> Vec<ScanHit> {
    let mut hits = Vec::new();
    for address in FIRST_ADDRESS..=LAST_ADDRESS {
        if probe(i2c, address) {
            let chip = identify(i2c, delay, address);
            hits.push(ScanHit { address, chip });
        }
    }
    hits
}

/// Whether a device acknowledges `address`.
pub fn probe<I2C: I2c>(i2c: &mut I2C, address: u8) -> bool {
    if probes_by_read(address) {
        i2c.read(address, &mut [0u8]).is_ok()
    } else {
        i2c.write(address, &[]).is_ok()
    }
}

/// Recognises the chip at `address` by its id registers, or `None`.
pub fn identify<I2C: I2c, D: DelayNs>(
    i2c: &mut I2C,
    delay: &mut D,
    address: u8,
) -> Option<&'static str> {
    match address {
        0x76 | 0x77 => match read_u8(i2c, address, 0xD0)? {
            0x60 => Some("bme280"),
            0x56..=0x58 => Some("bmp280"),
            _ => None,
        },
        0x68 | 0x69 => match read_u8(i2c, address, 0x75)? {
            0x68 => Some("mpu6050"),
            0x70 => Some("mpu6500"),
            0x71 => Some("mpu9250"),
            _ => None,
        },
        0x40..=0x4F => identify_ina_ads_sht(i2c, delay, address),
        _ => None,
    }
}

/// 0x40..=0x4F: INA219/INA226 anywhere, ADS1x15 at 0x48..=0x4B, SHT3x/SHT4x at 0x44..=0x46.
/// The INA probes come first: to an SHT they are an incomplete one-byte command, ignored.
fn identify_ina_ads_sht<I2C: I2c, D: DelayNs>(
    i2c: &mut I2C,
    delay: &mut D,
    address: u8,
) -> Option<&'static str> {
    if read_u16(i2c, address, 0xFE) == Some(0x5449)
        && read_u16(i2c, address, 0xFF).is_some_and(|die| die >> 4 == 0x226)
    {
        return Some("ina226");
    }
    if (0x48..=0x4B).contains(&address)
        && read_u16(i2c, address, 0x02) == Some(0x8000)
        && read_u16(i2c, address, 0x03) == Some(0x7FFF)
    {
        return Some(ADS1X15);
    }
    if read_u16(i2c, address, 0x00) == Some(0x399F) {
        return Some("ina219");
    }
    if matches!(address, 0x44 | 0x45) && sht3x_status(i2c, address) {
        return Some("sht3x");
    }
    if matches!(address, 0x44..=0x46) && sht4x_serial(i2c, delay, address) {
        return Some("sht4x");
    }
    None
}

fn read_u8<I2C: I2c>(i2c: &mut I2C, address: u8, register: u8) -> Option<u8> {
    let mut byte = [0u8];
    i2c.write_read(address, &[register], &mut byte).ok()?;
    Some(byte[0])
}

fn read_u16<I2C: I2c>(i2c: &mut I2C, address: u8, register: u8) -> Option<u16> {
    let mut word = [0u8; 2];
    i2c.write_read(address, &[register], &mut word).ok()?;
    Some(u16::from_be_bytes(word))
}

/// SHT3x "read out of status register" (datasheet 4.11): the answer is ready at once.
fn sht3x_status<I2C: I2c>(i2c: &mut I2C, address: u8) -> bool {
    let mut word = [0u8; 3];
    i2c.write(address, &[0xF3, 0x2D]).is_ok()
        && i2c.read(address, &mut word).is_ok()
        && sensirion_crc8(&word[..2]) == word[2]
}

/// SHT4x "read serial number" (0x89): two CRC-protected words after at most 1 ms.
fn sht4x_serial<I2C: I2c, D: DelayNs>(i2c: &mut I2C, delay: &mut D, address: u8) -> bool {
    if i2c.write(address, &[0x89]).is_err() {
        return false;
    }
    delay.delay_ms(1);
    let mut words = [0u8; 6];
    i2c.read(address, &mut words).is_ok()
        && words
            .chunks_exact(3)
            .all(|w| sensirion_crc8(&w[..2]) == w[2])
}

/// Sensirion's CRC-8: polynomial 0x31, initial value 0xFF (SHT3x datasheet 4.12).
fn sensirion_crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0xFFu8;
    for &byte in bytes {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x31
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::i2c::{Mock, Transaction};

    const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

    /// The probe of `address` that nothing answers.
    fn silent(address: u8) -> Transaction {
        if probes_by_read(address) {
            Transaction::read(address, vec![0]).with_error(NACK)
        } else {
            Transaction::write(address, vec![]).with_error(NACK)
        }
    }

    fn scan_with(answers: impl Fn(u8) -> Option<Vec<Transaction>>) -> Vec<ScanHit> {
        let mut expected = Vec::new();
        for address in FIRST_ADDRESS..=LAST_ADDRESS {
            match answers(address) {
                Some(transactions) => expected.extend(transactions),
                None => expected.push(silent(address)),
            }
        }
        let mut i2c = Mock::new(&expected);
        let hits = scan(&mut i2c, &mut NoopDelay);
        i2c.done();
        hits
    }

    #[test]
    fn crc_is_sensirions() {
        // SHT3x datasheet table 20: CRC(0xBEEF) = 0x92.
        assert_eq!(sensirion_crc8(&[0xBE, 0xEF]), 0x92);
    }

    #[test]
    fn empty_bus_probes_each_address_once_the_safe_way() {
        assert!(scan_with(|_| None).is_empty());
        assert!(probes_by_read(0x50) && probes_by_read(0x37));
        assert!(!probes_by_read(0x2F) && !probes_by_read(0x60) && !probes_by_read(0x38));
    }

    #[test]
    fn recognises_chips_by_their_id_registers() {
        let hits = scan_with(|address| {
            Some(match address {
                // BME280: chip id 0x60.
                0x76 => vec![
                    Transaction::write(0x76, vec![]),
                    Transaction::write_read(0x76, vec![0xD0], vec![0x60]),
                ],
                // BMP280 (mass production id 0x58) at the secondary address.
                0x77 => vec![
                    Transaction::write(0x77, vec![]),
                    Transaction::write_read(0x77, vec![0xD0], vec![0x58]),
                ],
                // MPU-6500: WHO_AM_I 0x70.
                0x68 => vec![
                    Transaction::write(0x68, vec![]),
                    Transaction::write_read(0x68, vec![0x75], vec![0x70]),
                ],
                // INA226: "TI" and die id 0x2260.
                0x41 => vec![
                    Transaction::write(0x41, vec![]),
                    Transaction::write_read(0x41, vec![0xFE], vec![0x54, 0x49]),
                    Transaction::write_read(0x41, vec![0xFF], vec![0x22, 0x60]),
                ],
                // INA219 after power-on: no id register; configuration 0x399F.
                0x40 => vec![
                    Transaction::write(0x40, vec![]),
                    Transaction::write_read(0x40, vec![0xFE], vec![0x00, 0x00]),
                    Transaction::write_read(0x40, vec![0x00], vec![0x39, 0x9F]),
                ],
                // ADS1115: Lo_thresh and Hi_thresh at their reset values.
                0x48 => vec![
                    Transaction::write(0x48, vec![]),
                    Transaction::write_read(0x48, vec![0xFE], vec![0x80, 0x00]),
                    Transaction::write_read(0x48, vec![0x02], vec![0x80, 0x00]),
                    Transaction::write_read(0x48, vec![0x03], vec![0x7F, 0xFF]),
                ],
                // SHT3x: an incomplete command (the INA probes) is refused; status 0x8010
                // with its CRC.
                0x44 => vec![
                    Transaction::write(0x44, vec![]),
                    Transaction::write_read(0x44, vec![0xFE], vec![0, 0]).with_error(NACK),
                    Transaction::write_read(0x44, vec![0x00], vec![0, 0]).with_error(NACK),
                    Transaction::write(0x44, vec![0xF3, 0x2D]),
                    Transaction::read(0x44, vec![0x80, 0x10, sensirion_crc8(&[0x80, 0x10])]),
                ],
                // SHT4x at 0x46: serial number 0x1234 0x5678.
                0x46 => vec![
                    Transaction::write(0x46, vec![]),
                    Transaction::write_read(0x46, vec![0xFE], vec![0, 0]).with_error(NACK),
                    Transaction::write_read(0x46, vec![0x00], vec![0, 0]).with_error(NACK),
                    Transaction::write(0x46, vec![0x89]),
                    Transaction::read(
                        0x46,
                        vec![
                            0x12,
                            0x34,
                            sensirion_crc8(&[0x12, 0x34]),
                            0x56,
                            0x78,
                            sensirion_crc8(&[0x56, 0x78]),
                        ],
                    ),
                ],
                // An EEPROM answers the 1-byte read; nothing to recognise.
                0x50 => vec![Transaction::read(0x50, vec![0xFF])],
                // A BME280 address with a different chip id: not guessed.
                0x69 => vec![
                    Transaction::write(0x69, vec![]),
                    Transaction::write_read(0x69, vec![0x75], vec![0x19]),
                ],
                _ => return None,
            })
        });
        let found: Vec<(u8, Option<&str>)> = hits.iter().map(|h| (h.address, h.chip)).collect();
        assert_eq!(
            found,
            vec![
                (0x40, Some("ina219")),
                (0x41, Some("ina226")),
                (0x44, Some("sht3x")),
                (0x46, Some("sht4x")),
                (0x48, Some(ADS1X15)),
                (0x50, None),
                (0x68, Some("mpu6500")),
                (0x69, None),
                (0x76, Some("bme280")),
                (0x77, Some("bmp280")),
            ]
        );
    }
}
