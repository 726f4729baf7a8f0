//! Whatever a bus returns, no driver panics: every driver is fed pseudo-random bytes (a chip
//! gone mad, a floating bus, a wrong device at the address) for thousands of readings, and
//! must answer each with a value or an error. Test builds keep overflow checks on, so an
//! arithmetic overflow on hostile data fails here.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::time::Duration;

use edgewise_sensors::sensor::{ErrorKind, Sensor, SensorError};
use embedded_hal::i2c::{self, ErrorType, I2c, NoAcknowledgeSource, Operation};

type BusError = i2c::ErrorKind;

/// An I²C bus whose reads return xorshift noise and which NACKs one transaction in 16.
///
/// Pure noise would rarely get past a driver's identification, so the deep paths (decoding,
/// compensation, FIFO parsing) would go untested. A bus can therefore be "chip-shaped": some
/// registers answer fixed bytes (a chip id), registers read back what was last written to
/// them (a config check), and Sensirion-style reads carry a valid CRC after every word, so
/// the garbage reaches the conversion code.
#[derive(Debug, Default)]
struct GarbageBus {
    state: u64,
    /// Registers that answer these bytes.
    pinned: Vec<(u8, Vec<u8>)>,
    /// Registers that read back what was written to them.
    echo: Vec<u8>,
    written: Vec<(u8, Vec<u8>)>,
    /// Every third byte read is the CRC-8 of the two before it.
    sensirion_crc: bool,
    /// The register pointer: the first byte of the last write.
    pointer: u8,
}

impl GarbageBus {
    fn seeded(seed: u64) -> Self {
        Self {
            state: seed | 1,
            ..Self::default()
        }
    }

    fn pin(mut self, register: u8, bytes: &[u8]) -> Self {
        self.pinned.push((register, bytes.to_vec()));
        self
    }

    fn echo(mut self, register: u8) -> Self {
        self.echo.push(register);
        self
    }

    fn with_sensirion_crc(mut self) -> Self {
        self.sensirion_crc = true;
        self
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let register = self.pointer;
        if let Some((_, bytes)) = self.pinned.iter().find(|(r, _)| *r == register) {
            for (byte, pinned) in buf.iter_mut().zip(bytes.iter().cycle()) {
                *byte = *pinned;
            }
            return;
        }
        if self.echo.contains(&register) {
            if let Some((_, bytes)) = self.written.iter().rev().find(|(r, _)| *r == register) {
                for (byte, written) in buf.iter_mut().zip(bytes.iter().cycle()) {
                    *byte = *written;
                }
                return;
            }
        }
        for byte in buf.iter_mut() {
            *byte = self.next() as u8;
        }
        if self.sensirion_crc {
            for word in buf.chunks_mut(3).filter(|w| w.len() == 3) {
                word[2] = edgewise_sensors::sht::crc8(&word[..2]);
            }
        }
    }
}

impl ErrorType for GarbageBus {
    type Error = BusError;
}

impl I2c for GarbageBus {
    fn transaction(&mut self, _: u8, ops: &mut [Operation<'_>]) -> Result<(), Self::Error> {
        if self.next() % 16 == 0 {
            return Err(BusError::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        for op in ops {
            match op {
                Operation::Write(bytes) => {
                    if let Some((&register, value)) = bytes.split_first() {
                        self.pointer = register;
                        if !value.is_empty() {
                            self.written.push((register, value.to_vec()));
                        }
                    }
                }
                Operation::Read(buf) => self.fill(buf),
            }
        }
        Ok(())
    }
}

/// A delay that returns at once.
struct NoDelay;

impl embedded_hal::delay::DelayNs for NoDelay {
    fn delay_ns(&mut self, _: u32) {}
}

const ROUNDS: u32 = 3_000;

/// Init every 50 rounds, power-down every 97, readings otherwise, all on garbage; every
/// error must render a message. Returns how many readings reached the decoding code: those
/// that succeeded or were judged corrupt or out of range.
fn hammer<S: Sensor>(sensor: &mut S) -> u32 {
    let mut readings = 0;
    for round in 0..ROUNDS {
        let result = if round % 50 == 0 {
            sensor.init(&mut NoDelay).map(drop)
        } else if round % 97 == 0 {
            sensor.power_down()
        } else {
            sensor.read(&mut NoDelay).map(|reading| {
                assert!(
                    reading.values().iter().all(|v| v.is_finite()),
                    "non-finite value in {reading:?}"
                );
                assert_eq!(reading.values().len(), sensor.channels().len());
                readings += 1;
            })
        };
        if let Err(e) = result {
            assert!(!e.to_string().is_empty());
            // Decoding ran and judged the data: that path was exercised too.
            if matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::OutOfRange) {
                readings += 1;
            }
        }
    }
    readings
}

/// Garbage that passes identification must reach the decoding code.
fn assert_reaches_decoding(readings: u32, what: &str) {
    assert!(
        readings > 0,
        "{what}: no reading got through, so decoding was never exercised"
    );
}

fn seeds() -> impl Iterator<Item = GarbageBus> {
    [0x9E37_79B9_7F4A_7C15u64, 1, 0xDEAD_BEEF, 42]
        .into_iter()
        .map(GarbageBus::seeded)
}

#[test]
fn bme280_survives_a_garbage_bus() {
    use edgewise_sensors::bme280::{Address, Bme280, Config};
    for bus in seeds() {
        hammer(&mut Bme280::new_i2c(
            bus,
            Address::Primary,
            Config::default(),
        ));
    }
    for bus in seeds() {
        // Chip id 0x60, status idle: calibration and data are garbage.
        let bus = bus.pin(0xD0, &[0x60]).pin(0xF3, &[0x00]);
        let readings = hammer(&mut Bme280::new_i2c(
            bus,
            Address::Primary,
            Config::default(),
        ));
        assert_reaches_decoding(readings, "BME280");
    }
}

#[test]
fn sht_survives_a_garbage_bus() {
    use edgewise_sensors::sht::{Sht3x, Sht3xAddress, Sht3xConfig, Sht4x, Sht4xAddress};
    for (bus, shaped) in seeds().zip(seeds()) {
        hammer(&mut Sht3x::new(
            bus,
            Sht3xAddress::Low,
            Sht3xConfig::default(),
        ));
        // Status reads clean after reset, as init checks.
        let bus = shaped.with_sensirion_crc().pin(0xF3, &[0x00, 0x00, 0x81]);
        let readings = hammer(&mut Sht3x::new(
            bus,
            Sht3xAddress::Low,
            Sht3xConfig::default(),
        ));
        assert_reaches_decoding(readings, "SHT3x");
    }
    for (bus, shaped) in seeds().zip(seeds()) {
        hammer(&mut Sht4x::new(bus, Sht4xAddress::A, Default::default()));
        let bus = shaped.with_sensirion_crc();
        let readings = hammer(&mut Sht4x::new(bus, Sht4xAddress::A, Default::default()));
        assert_reaches_decoding(readings, "SHT4x");
    }
}

#[test]
fn ads1x15_survives_a_garbage_bus() {
    use edgewise_sensors::ads1x15::{Address, Ads1x15, Config};
    for bus in seeds() {
        hammer(&mut Ads1x15::new_ads1115(
            bus,
            Address::Gnd,
            Config::default(),
        ));
    }
    for bus in seeds() {
        // The config register reads back what was written, as init checks.
        let bus = bus.echo(0x01);
        let readings = hammer(&mut Ads1x15::new_ads1015(
            bus,
            Address::Gnd,
            Config::default(),
        ));
        assert_reaches_decoding(readings, "ADS1015");
    }
}

#[test]
fn mpu6050_survives_a_garbage_bus() {
    use edgewise_sensors::mpu6050::{Address, Config, Mpu6050, Sample};
    for (n, bus) in seeds().enumerate() {
        // Half the runs with a WHO_AM_I of an MPU-6050 and a reset that completes.
        let shaped = n % 2 == 0;
        let bus = if shaped {
            bus.pin(0x75, &[0x68]).pin(0x6B, &[0x00])
        } else {
            bus
        };
        let mut imu = Mpu6050::new(bus, Address::Ad0Low, Config::vibration_1khz());
        let readings = hammer(&mut imu);
        if shaped {
            assert_reaches_decoding(readings, "MPU-6050");
        }
        // And the FIFO path, with garbage counts and frames.
        let mut batch = [Sample::default(); 32];
        let _ = imu.start_fifo(Duration::ZERO);
        for ms in 1..ROUNDS {
            if let Err(e) = imu.read_fifo(Duration::from_millis(u64::from(ms)), &mut batch) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn ina219_survives_a_garbage_bus() {
    use edgewise_sensors::ina219::{Address, Calibration, Config, Ina219};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    for bus in seeds() {
        hammer(&mut Ina219::new(bus, Address::default(), config));
    }
    for bus in seeds() {
        // The configuration register reads its power-on value after reset, as init checks.
        let bus = bus.pin(0x00, &[0x39, 0x9F]);
        let readings = hammer(&mut Ina219::new(bus, Address::default(), config));
        assert_reaches_decoding(readings, "INA219");
    }
}

#[test]
fn ina226_survives_a_garbage_bus() {
    use edgewise_sensors::ina226::{Address, Calibration, Config, Ina226};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    for bus in seeds() {
        hammer(&mut Ina226::new(bus, Address::default(), config));
    }
    for (n, bus) in seeds().enumerate() {
        // TI's manufacturer ID and the INA226's die ID, as init checks, and a calibration
        // register that reads back what was written, so a reading is not taken for a reset
        // chip. Half the runs also pin Mask/Enable to CVRF alone, so that every reading
        // reaches the data registers; the others feed garbage flags too.
        let bus = bus
            .pin(0xFE, &[0x54, 0x49])
            .pin(0xFF, &[0x22, 0x60])
            .echo(0x05);
        let bus = if n % 2 == 0 {
            bus.pin(0x06, &[0x00, 0x08])
        } else {
            bus
        };
        let readings = hammer(&mut Ina226::new(bus, Address::default(), config));
        assert_reaches_decoding(readings, "INA226");
    }
}

// The bus error type must stay the HAL's generic kind for this test to cover every driver.
const _: fn() = || {
    fn is_hal_error<E: i2c::Error>() {}
    is_hal_error::<BusError>();
};
