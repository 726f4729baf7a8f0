//! The exact bus traffic of the SHT3x and SHT4x drivers, against the datasheets' command
//! sequences (embedded-hal-mock: any extra, missing or different transaction or delay fails
//! the test). CRC bytes are written out literally; the datasheet example CRC(0xBEEF) = 0x92 is
//! used as a serial-number word.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError, SensorInfo};
use edgewise_sensors::sht::{
    Error, HeaterDuration, HeaterPower, HeaterPulse, MeasurementsPerSecond, Repeatability, Sht3x,
    Sht3xAddress, Sht3xAsync, Sht3xConfig, Sht3xMode, Sht4x, Sht4xAddress, Sht4xAsync, Sht4xConfig,
    Word,
};
use edgewise_sensors::units::Unit;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x44;
const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);

/// S_T = S_RH = 0x6666 = 0.4 · (2¹⁶ − 1): 25 °C; 40 %RH on an SHT3x, 44 %RH on an SHT4x.
const T25_RH40: [u8; 6] = [0x66, 0x66, 0x93, 0x66, 0x66, 0x93];
/// Serial number 0xBEEF1234: the datasheet's CRC example as the upper word.
const SERIAL: [u8; 6] = [0xBE, 0xEF, 0x92, 0x12, 0x34, 0x37];

fn write(bytes: &[u8]) -> I2c {
    I2c::write(ADDR, bytes.to_vec())
}

fn read(bytes: &[u8]) -> I2c {
    I2c::read(ADDR, bytes.to_vec())
}

fn read_nack(len: usize) -> I2c {
    I2c::read(ADDR, vec![0; len]).with_error(NACK)
}

fn delays(us: &[u32]) -> CheckedDelay {
    CheckedDelay::new(&us.iter().copied().map(Delay::delay_us).collect::<Vec<_>>())
}

// ---- SHT3x ----

/// init: break (1 ms), soft reset (t_SR 1.5 ms), status read (0x8010: alert pending and reset
/// detected, as after any reset), status clear.
fn sht3x_init() -> (Vec<I2c>, Vec<u32>) {
    (
        vec![
            write(&[0x30, 0x93]),
            write(&[0x30, 0xA2]),
            write(&[0xF3, 0x2D]),
            read(&[0x80, 0x10, 0xE1]),
            write(&[0x30, 0x41]),
        ],
        vec![1_000, 1_500],
    )
}

/// A driver initialised on a mock that then expects `traffic` and `waits`.
fn sht3x(
    config: Sht3xConfig,
    traffic: &[I2c],
    waits: &[u32],
) -> (Sht3x<I2cMock>, I2cMock, CheckedDelay) {
    let (mut expected, mut all_waits) = sht3x_init();
    if let Some(start) = periodic_start(config) {
        expected.push(write(&start));
    }
    expected.extend_from_slice(traffic);
    all_waits.extend_from_slice(waits);
    let i2c = I2cMock::new(&expected);
    let mut delay = delays(&all_waits);
    let mut sensor = Sht3x::new(i2c.clone(), Sht3xAddress::Low, config);
    let status = sensor.init(&mut delay).unwrap();
    assert!(status.reset_detected() && status.alert_pending() && !status.heater_on());
    (sensor, i2c, delay)
}

/// Datasheet table 10, for the rates the tests use.
fn periodic_start(config: Sht3xConfig) -> Option<[u8; 2]> {
    match (config.mode, config.repeatability) {
        (Sht3xMode::SingleShot, _) => None,
        (Sht3xMode::Periodic(MeasurementsPerSecond::One), Repeatability::High) => {
            Some([0x21, 0x30])
        }
        (Sht3xMode::Periodic(MeasurementsPerSecond::Ten), Repeatability::Low) => Some([0x27, 0x2A]),
        other => panic!("no table entry in this test for {other:?}"),
    }
}

fn finish(sensor: impl FnOnce() -> I2cMock, mut delay: CheckedDelay) {
    let mut i2c = sensor();
    i2c.done();
    delay.done();
}

#[test]
fn sht3x_single_shot_is_command_max_wait_and_six_byte_read() {
    // Table 4 maxima without clock stretching: 15, 6, 4 ms; commands from table 9.
    for (repeatability, command, wait) in [
        (Repeatability::High, [0x24, 0x00], 15_000),
        (Repeatability::Medium, [0x24, 0x0B], 6_000),
        (Repeatability::Low, [0x24, 0x16], 4_000),
    ] {
        let config = Sht3xConfig {
            repeatability,
            mode: Sht3xMode::SingleShot,
        };
        let (mut sensor, _i2c, mut delay) =
            sht3x(config, &[write(&command), read(&T25_RH40)], &[wait]);
        let m = sensor.measure(&mut delay).unwrap();
        assert_eq!(m.temperature.raw(), 25_000);
        assert_eq!(m.humidity.raw(), 40_000);
        assert_eq!(sensor.max_measurement_time_us(), wait);
        finish(|| sensor.release(), delay);
    }
}

#[test]
fn sht3x_periodic_fetches_without_waiting_and_reports_no_new_data() {
    let config = Sht3xConfig {
        repeatability: Repeatability::High,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::One),
    };
    let fetch = write(&[0xE0, 0x00]);
    let traffic = [
        fetch.clone(),
        read(&T25_RH40),
        fetch.clone(),
        read_nack(6), // nothing new since the last fetch
        fetch,
        read(&T25_RH40),
    ];
    // Only the first reading waits, for the first measurement to complete (15 ms).
    let (mut sensor, _i2c, mut delay) = sht3x(config, &traffic, &[15_000]);
    assert_eq!(
        sensor.measure(&mut delay).unwrap().temperature.raw(),
        25_000
    );
    let err = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(err, Error::NoNewData);
    assert_eq!(err.kind(), SensorErrorKind::NoNewData);
    assert!(sensor.measure(&mut delay).is_ok());
    assert_eq!(sensor.min_interval(), core::time::Duration::from_secs(1));
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_power_down_breaks_and_the_next_reading_restarts_periodic_mode() {
    let config = Sht3xConfig {
        repeatability: Repeatability::Low,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::Ten),
    };
    let traffic = [
        write(&[0xE0, 0x00]),
        read(&T25_RH40),
        write(&[0x30, 0x93]), // power_down: break
        write(&[0x27, 0x2A]), // next reading: restart after the break's 1 ms
        write(&[0xE0, 0x00]),
        read(&T25_RH40),
    ];
    let (mut sensor, _i2c, mut delay) = sht3x(config, &traffic, &[4_000, 1_000, 4_000]);
    sensor.measure(&mut delay).unwrap();
    Sensor::power_down(&mut sensor).unwrap();
    sensor.measure(&mut delay).unwrap();
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_set_config_stops_periodic_mode_before_switching() {
    let periodic = Sht3xConfig {
        repeatability: Repeatability::High,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::One),
    };
    let traffic = [write(&[0x30, 0x93]), write(&[0x24, 0x16]), read(&T25_RH40)];
    let (mut sensor, _i2c, mut delay) = sht3x(periodic, &traffic, &[1_000, 4_000]);
    let single_low = Sht3xConfig {
        repeatability: Repeatability::Low,
        mode: Sht3xMode::SingleShot,
    };
    sensor.set_config(single_low, &mut delay).unwrap();
    sensor.measure(&mut delay).unwrap();
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_single_shot_power_down_sends_nothing() {
    let (mut sensor, _i2c, delay) = sht3x(Sht3xConfig::default(), &[], &[]);
    Sensor::power_down(&mut sensor).unwrap();
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_heater_status_serial_and_reset_commands() {
    let traffic = [
        write(&[0x30, 0x6D]),      // heater on (table 16)
        write(&[0xF3, 0x2D]),      // status (table 17)
        read(&[0x20, 0x00, 0x5D]), // heater bit 13
        write(&[0x30, 0x66]),      // heater off
        write(&[0x30, 0x41]),      // clear status (table 19)
        write(&[0x37, 0x80]),      // serial, no clock stretching
        read(&SERIAL),             // after 1 ms
        write(&[0x30, 0xA2]),      // soft reset (table 14), t_SR 1.5 ms
    ];
    let (mut sensor, _i2c, mut delay) = sht3x(Sht3xConfig::default(), &traffic, &[1_000, 1_500]);
    sensor.set_heater(true).unwrap();
    let status = sensor.status().unwrap();
    assert!(status.heater_on() && !status.reset_detected());
    assert_eq!(status.raw(), 0x2000);
    sensor.set_heater(false).unwrap();
    sensor.clear_status().unwrap();
    assert_eq!(sensor.serial_number(&mut delay).unwrap(), 0xBEEF_1234);
    sensor.soft_reset(&mut delay).unwrap();
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_crc_errors_name_the_word_and_are_never_values() {
    let mut bad_humidity = T25_RH40;
    bad_humidity[4] ^= 0x01;
    let mut bad_temperature = T25_RH40;
    bad_temperature[2] = 0x00;
    let traffic = [
        write(&[0x24, 0x00]),
        read(&bad_humidity),
        write(&[0x24, 0x00]),
        read(&bad_temperature),
        write(&[0xF3, 0x2D]),
        read(&[0x80, 0x10, 0xE2]),
        write(&[0xF3, 0x2D]),
        read(&[0x40, 0x00, 0x08]), // valid CRC, reserved bit 14 set
        write(&[0x24, 0x00]),
        read(&T25_RH40),
    ];
    let (mut sensor, _i2c, mut delay) =
        sht3x(Sht3xConfig::default(), &traffic, &[15_000, 15_000, 15_000]);
    let err = sensor.measure(&mut delay).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Crc {
                word: Word::Humidity,
                received: 0x93,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    assert!(err.to_string().contains("Humidity"), "{err}");
    let err = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(
        err,
        Error::Crc {
            word: Word::Temperature,
            received: 0x00,
            computed: 0x93
        }
    );
    assert!(matches!(
        sensor.status(),
        Err(Error::Crc {
            word: Word::Status,
            received: 0xE2,
            computed: 0xE1
        })
    ));
    assert_eq!(sensor.status(), Err(Error::ReservedStatusBits(0x4000)));
    // The next reading is independent of the failed ones.
    assert!(sensor.measure(&mut delay).is_ok());
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_nack_of_the_command_is_a_bus_error_nack_of_the_result_is_not_ready() {
    let traffic = [
        write(&[0x24, 0x00]).with_error(NACK),
        write(&[0x24, 0x00]),
        read_nack(6),
        write(&[0x24, 0x00]),
        read(&T25_RH40),
        write(&[0xF3, 0x2D]),
        read_nack(3), // the status is always ready: a NACK here is the bus's
    ];
    let (mut sensor, _i2c, mut delay) = sht3x(Sht3xConfig::default(), &traffic, &[15_000, 15_000]);
    let bus = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(bus, Error::Bus(NACK));
    assert_eq!(bus.kind(), SensorErrorKind::Bus);
    let busy = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(busy, Error::NotReady { waited_us: 15_000 });
    assert_eq!(busy.kind(), SensorErrorKind::NotReady);
    assert!(sensor.measure(&mut delay).is_ok());
    assert_eq!(sensor.status(), Err(Error::Bus(NACK)));
    finish(|| sensor.release(), delay);
}

#[test]
fn sht3x_reading_before_init_sends_nothing() {
    let mut i2c = I2cMock::new(&[]);
    let mut sensor = Sht3x::new(i2c.clone(), Sht3xAddress::High, Sht3xConfig::default());
    assert_eq!(sensor.address(), 0x45);
    let err = sensor.measure(&mut NoopDelay).unwrap_err();
    assert_eq!(err, Error::NotInitialized);
    assert_eq!(err.kind(), SensorErrorKind::NotInitialized);
    i2c.done();
}

#[test]
fn sht3x_async_api_sends_the_same_traffic() {
    let (mut expected, mut waits) = sht3x_init();
    expected.extend([write(&[0x24, 0x00]), read(&T25_RH40)]);
    waits.push(15_000);
    let mut i2c = I2cMock::new(&expected);
    let mut delay = delays(&waits);
    let mut sensor = Sht3xAsync::new(i2c.clone(), Sht3xAddress::Low, Sht3xConfig::default());
    let m = embassy_futures::block_on(async {
        sensor.init(&mut delay).await.unwrap();
        sensor.measure(&mut delay).await.unwrap()
    });
    assert_eq!((m.temperature.raw(), m.humidity.raw()), (25_000, 40_000));
    sensor.release();
    i2c.done();
    delay.done();
}

// ---- SHT4x ----

/// init: soft reset (t_SR 1 ms), serial number (1 ms).
fn sht4x(config: Sht4xConfig, traffic: &[I2c], waits: &[u32]) -> (Sht4x<I2cMock>, CheckedDelay) {
    let mut expected = vec![write(&[0x94]), write(&[0x89]), read(&SERIAL)];
    expected.extend_from_slice(traffic);
    let mut all_waits = vec![1_000, 1_000];
    all_waits.extend_from_slice(waits);
    let mut delay = delays(&all_waits);
    let mut sensor = Sht4x::new(I2cMock::new(&expected), Sht4xAddress::A, config);
    assert_eq!(sensor.init(&mut delay).unwrap(), 0xBEEF_1234);
    assert_eq!(sensor.serial(), Some(0xBEEF_1234));
    (sensor, delay)
}

#[test]
fn sht4x_measurement_is_one_byte_command_max_wait_and_six_byte_read() {
    // Datasheet maxima: 8.3, 4.5, 1.6 ms.
    for (repeatability, command, wait) in [
        (Repeatability::High, 0xFD, 8_300),
        (Repeatability::Medium, 0xF6, 4_500),
        (Repeatability::Low, 0xE0, 1_600),
    ] {
        let config = Sht4xConfig { repeatability };
        let (mut sensor, mut delay) = sht4x(config, &[write(&[command]), read(&T25_RH40)], &[wait]);
        let m = sensor.measure(&mut delay).unwrap();
        // SHT4x humidity: −6 + 125 · 0.4 = 44 %RH
        assert_eq!((m.temperature.raw(), m.humidity.raw()), (25_000, 44_000));
        assert_eq!(
            sensor.min_interval(),
            core::time::Duration::from_micros(u64::from(wait))
        );
        finish(|| sensor.release(), delay);
    }
}

#[test]
fn sht4x_heater_pulses_wait_their_maximum_length_and_return_a_reading() {
    use HeaterDuration::*;
    use HeaterPower::*;
    let pulses = [
        (Mw200, Long, 0x39, 1_100_000),
        (Mw200, Short, 0x32, 110_000),
        (Mw110, Long, 0x2F, 1_100_000),
        (Mw110, Short, 0x24, 110_000),
        (Mw20, Long, 0x1E, 1_100_000),
        (Mw20, Short, 0x15, 110_000),
    ];
    for (power, duration, command, wait) in pulses {
        // A heated sensor: 0xA000 → 64.377 °C, 0x8000 → 56.501 %RH
        let hot = [0xA0, 0x00, 0x7E, 0x80, 0x00, 0xA2];
        let (mut sensor, mut delay) = sht4x(
            Sht4xConfig::default(),
            &[write(&[command]), read(&hot)],
            &[wait],
        );
        let m = sensor
            .heat_and_measure(HeaterPulse { power, duration }, &mut delay)
            .unwrap();
        assert_eq!(m.temperature.raw(), 64_377); // −45 + 175 · 40960 / 65535 = 64.3766
        assert_eq!(m.humidity.raw(), 56_501); // −6 + 125 · 32768 / 65535
        finish(|| sensor.release(), delay);
    }
}

#[test]
fn sht4x_humidity_outside_0_to_100_is_clipped_as_the_datasheet_recommends() {
    let wet = [0x66, 0x66, 0x93, 0xFF, 0xFF, 0xAC]; // −6 + 125 = 119 %RH
    let dry = [0x66, 0x66, 0x93, 0x00, 0x00, 0x81]; // −6 %RH
    let traffic = [write(&[0xFD]), read(&wet), write(&[0xFD]), read(&dry)];
    let (mut sensor, mut delay) = sht4x(Sht4xConfig::default(), &traffic, &[8_300, 8_300]);
    assert_eq!(sensor.measure(&mut delay).unwrap().humidity.raw(), 100_000);
    assert_eq!(sensor.measure(&mut delay).unwrap().humidity.raw(), 0);
    finish(|| sensor.release(), delay);
}

#[test]
fn sht4x_bad_serial_crc_fails_init_and_the_driver_stays_uninitialised() {
    let mut bad = SERIAL;
    bad[5] ^= 0xFF;
    let mut i2c = I2cMock::new(&[write(&[0x94]), write(&[0x89]), read(&bad)]);
    let mut delay = delays(&[1_000, 1_000]);
    let mut sensor = Sht4x::new(i2c.clone(), Sht4xAddress::A, Sht4xConfig::default());
    assert!(matches!(
        sensor.init(&mut delay),
        Err(Error::Crc {
            word: Word::SerialLow,
            ..
        })
    ));
    assert_eq!(sensor.serial(), None);
    assert_eq!(sensor.measure(&mut NoopDelay), Err(Error::NotInitialized));
    sensor.release();
    i2c.done();
    delay.done();
}

#[test]
fn sht4x_result_nack_is_not_ready_and_soft_reset_waits_t_sr() {
    let traffic = [
        write(&[0xE0]),
        read_nack(6),
        write(&[0x94]),
        write(&[0xE0]),
        read(&T25_RH40),
    ];
    let config = Sht4xConfig {
        repeatability: Repeatability::Low,
    };
    let (mut sensor, mut delay) = sht4x(config, &traffic, &[1_600, 1_000, 1_600]);
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::NotReady { waited_us: 1_600 })
    );
    sensor.soft_reset(&mut delay).unwrap();
    assert!(sensor.measure(&mut delay).is_ok());
    finish(|| sensor.release(), delay);
}

#[test]
fn sht4x_sensor_trait_reading_channels_and_async_api() {
    let (mut sensor, mut delay) = sht4x(
        Sht4xConfig::default(),
        &[write(&[0xFD]), read(&T25_RH40)],
        &[8_300],
    );
    let units: Vec<Unit> = sensor.channels().iter().map(|c| c.unit).collect();
    assert_eq!(units, [Unit::Celsius, Unit::RelativeHumidity]);
    assert_eq!(sensor.channels()[1].name, "humidity");
    assert_eq!(
        Sensor::read(&mut sensor, &mut delay).unwrap().values(),
        &[25.0, 44.0]
    );
    Sensor::power_down(&mut sensor).unwrap(); // no traffic: the chip idles by itself
    finish(|| sensor.release(), delay);

    let mut i2c = I2cMock::new(&[
        write(&[0x94]),
        write(&[0x89]),
        read(&SERIAL),
        write(&[0xF6]),
        read(&T25_RH40),
    ]);
    let mut delay = delays(&[1_000, 1_000, 4_500]);
    let config = Sht4xConfig {
        repeatability: Repeatability::Medium,
    };
    let mut sensor = Sht4xAsync::new(i2c.clone(), Sht4xAddress::A, config);
    let m = embassy_futures::block_on(async {
        assert_eq!(sensor.init(&mut delay).await.unwrap(), 0xBEEF_1234);
        sensor.measure(&mut delay).await.unwrap()
    });
    assert_eq!(m.humidity.raw(), 44_000);
    sensor.release();
    i2c.done();
    delay.done();
}
