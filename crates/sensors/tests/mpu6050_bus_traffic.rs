//! The exact register traffic of the MPU-6050/6500 driver, against the register maps
//! (RM-MPU-6000A-00, RM-MPU-6500A-00) and the I²C protocol of the product specification
//! (embedded-hal-mock: any extra, missing or different transaction fails the test).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::time::Duration;

use edgewise_sensors::mpu6050::{
    AccelRange, Address, Config, Dlpf, Error, Field, FifoBatch, FifoFrame, GyroRange, Mpu6050,
    Mpu6050Async, Sample, SingleRead, Variant,
};
use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError, SensorInfo};
use edgewise_sensors::units::Unit;
use embedded_hal::i2c::ErrorKind;
use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x68;
const MS: Duration = Duration::from_millis(1);

/// Power-on identification and set-up, spelled out register by register:
/// WHO_AM_I (0x75); PWR_MGMT_1 (0x6B) = DEVICE_RESET; PWR_MGMT_1 read back after 100 ms with
/// the reset bit cleared (0x40 on a 6050, 0x01 on a 6500); PWR_MGMT_1 = CLKSEL 1 (PLL, awake);
/// one burst from SMPLRT_DIV (0x19): divider, CONFIG, GYRO_CONFIG, ACCEL_CONFIG
/// (+ ACCEL_CONFIG2 on a 6500); INT_ENABLE (0x38) = FIFO_OFLOW_EN | DATA_RDY_EN.
fn init_traffic(id: u8, after_reset: u8, config_burst: Vec<u8>) -> Vec<I2c> {
    vec![
        I2c::write_read(ADDR, vec![0x75], vec![id]),
        I2c::write(ADDR, vec![0x6B, 0x80]),
        I2c::write_read(ADDR, vec![0x6B], vec![after_reset]),
        I2c::write(ADDR, vec![0x6B, 0x01]),
        I2c::write(ADDR, config_burst),
        I2c::write(ADDR, vec![0x38, 0x11]),
    ]
}

/// `Config::vibration_1khz()` on a 6050: divider 0, DLPF_CFG 1, ±250 °/s, ±2 g.
fn init_6050() -> Vec<I2c> {
    init_traffic(0x68, 0x40, vec![0x19, 0x00, 0x01, 0x00, 0x00])
}

/// The 14 data registers: accel X/Y/Z, TEMP_OUT, gyro X/Y/Z, big-endian.
fn data_registers(words: [i16; 7]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn burst() -> Vec<u8> {
    vec![0x3B]
}

struct Session {
    i2c: I2cMock,
    delay: CheckedDelay,
    imu: Mpu6050<I2cMock>,
}

impl Session {
    fn new(init: Vec<I2c>, config: Config, after_init: Vec<I2c>, delays_us: &[u32]) -> Self {
        let mut expected = init;
        expected.extend(after_init);
        let i2c = I2cMock::new(&expected);
        let delays: Vec<Delay> = delays_us.iter().map(|&us| Delay::delay_us(us)).collect();
        let mut delay = CheckedDelay::new(&delays);
        let mut imu = Mpu6050::new(i2c.clone(), Address::Ad0Low, config);
        imu.init(&mut delay).unwrap();
        Self { i2c, delay, imu }
    }

    fn finish(self) {
        let (mut i2c, mut delay) = (self.i2c, self.delay);
        self.imu.release();
        i2c.done();
        delay.done();
    }
}

#[test]
fn init_then_single_reading_is_one_14_byte_burst() {
    // +1 g on Z at ±2 g is 16384 LSB; 131 LSB is 1 °/s at ±250 °/s; TEMP_OUT 0 is 36.53 °C.
    let data = data_registers([0, -16_384, 16_384, 0, 131, -131, 0]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        vec![I2c::write_read(ADDR, burst(), data)],
        &[100_000, 30_000],
    );
    assert_eq!(s.imu.variant(), Some(Variant::Mpu6050));
    let sample = s.imu.measure(&mut s.delay).unwrap();
    assert_eq!(
        sample.acceleration.map(|a| a.raw()),
        [0, -9_806_650, 9_806_650]
    );
    assert_eq!(sample.angular_rate.map(|w| w.raw()), [17_453, -17_453, 0]);
    assert_eq!(sample.temperature.unwrap().raw(), 36_530);
    s.finish();
}

#[test]
fn mpu6500_gets_accel_config2_and_its_own_temperature_formula() {
    let config = Config {
        accel_range: AccelRange::G16,
        gyro_range: GyroRange::Dps2000,
        dlpf: Dlpf::Hz44,
        sample_rate_divider: 4,
        ..Config::default()
    };
    // DLPF_CFG 3 in CONFIG and A_DLPF_CFG 3 in ACCEL_CONFIG2; FS_SEL 3 and AFS_SEL 3 in bits 4:3.
    let init = init_traffic(0x70, 0x01, vec![0x19, 4, 3, 0x18, 0x18, 3]);
    // 2048 LSB/g, 16.4 LSB/(°/s) (164 LSB is 10 °/s); TEMP_OUT 0 is 21 °C on the 6500.
    let data = data_registers([2_048, 0, 0, 0, 164, 0, 0]);
    let mut s = Session::new(
        init,
        config,
        vec![I2c::write_read(ADDR, burst(), data)],
        &[100_000, 35_000],
    );
    assert_eq!(s.imu.variant(), Some(Variant::Mpu6500));
    // 1 kHz / (1 + 4) = 200 Hz.
    assert_eq!(s.imu.min_interval(), 5 * MS);
    let sample = s.imu.measure(&mut s.delay).unwrap();
    assert_eq!(sample.acceleration[0].raw(), 9_806_650);
    assert_eq!(sample.angular_rate[0].raw(), 174_533);
    assert_eq!(sample.temperature.unwrap().raw(), 21_000);
    s.finish();
}

#[test]
fn mpu9250_is_accepted_as_its_6500_die() {
    let init = init_traffic(0x71, 0x01, vec![0x19, 0x00, 0x01, 0x00, 0x00, 0x01]);
    let s = Session::new(init, Config::vibration_1khz(), vec![], &[100_000, 35_000]);
    assert_eq!(s.imu.variant(), Some(Variant::Mpu9250));
    s.finish();
}

#[test]
fn unknown_who_am_i_stops_after_one_transaction() {
    let mut i2c = I2cMock::new(&[I2c::write_read(ADDR, vec![0x75], vec![0x98])]);
    let mut delay = CheckedDelay::new(&[]);
    let mut imu = Mpu6050::new(i2c.clone(), Address::Ad0Low, Config::default());
    let err = imu.init(&mut delay).unwrap_err();
    assert_eq!(err, Error::UnknownChipId(0x98));
    assert_eq!(err.kind(), SensorErrorKind::Identity);
    assert!(err.to_string().contains("0x98"), "{err}");
    imu.release();
    i2c.done();
    delay.done();
}

#[test]
fn reset_bit_still_set_after_100_ms_is_not_ready() {
    let mut i2c = I2cMock::new(&[
        I2c::write_read(ADDR, vec![0x75], vec![0x68]),
        I2c::write(ADDR, vec![0x6B, 0x80]),
        I2c::write_read(ADDR, vec![0x6B], vec![0xC0]),
    ]);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(100_000)]);
    let mut imu = Mpu6050::new(i2c.clone(), Address::Ad0Low, Config::default());
    let err = imu.init(&mut delay).unwrap_err();
    assert_eq!(err, Error::NotReady { waited_us: 100_000 });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    imu.release();
    i2c.done();
    delay.done();
}

#[test]
fn next_sample_polls_data_ready_in_quarter_periods() {
    let config = Config {
        single_read: SingleRead::NextSample,
        ..Config::vibration_1khz()
    };
    let status = |value: u8| I2c::write_read(ADDR, vec![0x3A], vec![value]);
    let data = data_registers([0, 0, 16_384, 0, 0, 0, 0]);
    let traffic = vec![
        status(0x00),
        status(0x00),
        status(0x01),
        I2c::write_read(ADDR, burst(), data),
        // A chip that stops sampling: one period plus 1 % clock tolerance, then an error.
        status(0x00),
        status(0x00),
        status(0x00),
        status(0x00),
        status(0x00),
        status(0x00),
    ];
    let mut s = Session::new(
        init_6050(),
        config,
        traffic,
        &[100_000, 30_000, 250, 250, 250, 250, 250, 250, 10],
    );
    assert_eq!(
        s.imu.measure(&mut s.delay).unwrap().acceleration[2].raw(),
        9_806_650
    );
    assert_eq!(
        s.imu.measure(&mut s.delay),
        Err(Error::NotReady { waited_us: 1_010 })
    );
    s.finish();
}

#[test]
fn implausible_temperature_is_an_error_not_a_reading() {
    // TEMP_OUT 0x7FFF on a 6050 would be 132.9 °C: beyond any working die.
    let data = data_registers([0, 0, 16_384, i16::MAX, 0, 0, 0]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        vec![I2c::write_read(ADDR, burst(), data)],
        &[100_000, 30_000],
    );
    let err = s.imu.measure(&mut s.delay).unwrap_err();
    assert_eq!(err, Error::Implausible(Field::Temperature));
    assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    s.finish();
}

/// FIFO start: FIFO_EN (0x23) selects the frame, then USER_CTRL (0x6A) = FIFO_RESET with
/// FIFO_EN 0, then USER_CTRL = FIFO_EN.
fn fifo_start(fifo_en: u8) -> Vec<I2c> {
    vec![
        I2c::write(ADDR, vec![0x23, fifo_en]),
        I2c::write(ADDR, vec![0x6A, 0x04]),
        I2c::write(ADDR, vec![0x6A, 0x40]),
    ]
}

fn fifo_count(count: u16) -> I2c {
    I2c::write_read(ADDR, vec![0x72], count.to_be_bytes().to_vec())
}

/// `n` 12-byte frames whose accel Z counts up from 16384 and gyro X is 131.
fn frames(n: i16) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            [0i16, 0, 16_384 + i, 131, 0, 0]
                .into_iter()
                .flat_map(|w| w.to_be_bytes())
        })
        .collect()
}

fn fifo_burst(data: Vec<u8>) -> I2c {
    I2c::write_read(ADDR, vec![0x74], data)
}

#[test]
fn fifo_batch_is_one_count_read_and_one_burst_of_whole_frames() {
    let mut traffic = fifo_start(0x78);
    traffic.extend([
        // 54 bytes: four frames and half of a fifth the chip is still writing.
        fifo_count(54),
        fifo_burst(frames(4)),
        // Ten frames for a four-sample buffer: four now, six pending.
        fifo_count(120),
        fifo_burst(frames(4)),
    ]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        traffic,
        &[100_000, 30_000],
    );
    s.imu.start_fifo(Duration::ZERO).unwrap();
    let mut out = [Sample::default(); 10];
    let batch = s.imu.read_fifo(4 * MS, &mut out).unwrap();
    assert_eq!(
        batch,
        FifoBatch {
            samples: 4,
            pending: 0
        }
    );
    for (i, sample) in out[..4].iter().enumerate() {
        // (16384 + i) / 16384 g, in µm/s², to the nearest unit.
        let expected = (16_384.0 + i as f64) / 16_384.0 * 9_806_650.0;
        assert!((f64::from(sample.acceleration[2].raw()) - expected).abs() <= 0.5);
        assert_eq!(sample.angular_rate[0].raw(), 17_453);
        assert_eq!(sample.temperature, None);
    }
    let batch = s.imu.read_fifo(14 * MS, &mut out[..4]).unwrap();
    assert_eq!(
        batch,
        FifoBatch {
            samples: 4,
            pending: 6
        }
    );
    s.finish();
}

#[test]
fn fifo_frames_with_temperature_are_14_bytes() {
    let frame: Vec<u8> = [0i16, 0, 16_384, -521, 131, 0, 0]
        .into_iter()
        .flat_map(|w| w.to_be_bytes())
        .collect();
    let mut traffic = fifo_start(0xF8);
    traffic.extend([fifo_count(14), fifo_burst(frame)]);
    let config = Config {
        fifo_frame: FifoFrame::AccelTempGyro,
        ..Config::vibration_1khz()
    };
    let mut s = Session::new(init_6050(), config, traffic, &[100_000, 30_000]);
    s.imu.start_fifo(Duration::ZERO).unwrap();
    let mut out = [Sample::default(); 4];
    assert_eq!(s.imu.read_fifo(MS, &mut out).unwrap().samples, 1);
    // −521 LSB is 35 °C (PS-MPU-6000A-00 6.3).
    assert_eq!(out[0].temperature.unwrap().raw(), 34_998);
    assert_eq!(out[0].angular_rate[0].raw(), 17_453);
    s.finish();
}

#[test]
fn full_fifo_is_reset_and_the_lost_samples_reported() {
    let mut traffic = fifo_start(0x78);
    traffic.extend([
        fifo_count(24),
        fifo_burst(frames(2)),
        // 1024 bytes: the 6050's FIFO is full and has overwritten its oldest bytes.
        fifo_count(1024),
        I2c::write_read(ADDR, vec![0x3A], vec![0x10]),
        I2c::write(ADDR, vec![0x6A, 0x04]),
        I2c::write(ADDR, vec![0x6A, 0x40]),
        // The restarted FIFO drains normally.
        fifo_count(12),
        fifo_burst(frames(1)),
    ]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        traffic,
        &[100_000, 30_000],
    );
    s.imu.start_fifo(Duration::ZERO).unwrap();
    let mut out = [Sample::default(); 100];
    s.imu.read_fifo(2 * MS, &mut out).unwrap();
    // 150 ms later at 1 kHz: 150 samples, ±1 for the sampling phase and ±1 % clock.
    let err = s.imu.read_fifo(152 * MS, &mut out).unwrap_err();
    assert_eq!(
        err,
        Error::FifoOverflow {
            lost: 150,
            uncertainty: 3
        }
    );
    assert_eq!(err.kind(), SensorErrorKind::DataLost);
    assert!(err.to_string().contains("150 ± 3"), "{err}");
    assert_eq!(s.imu.read_fifo(153 * MS, &mut out).unwrap().samples, 1);
    s.finish();
}

#[test]
fn samples_left_behind_count_as_lost_on_overflow() {
    let mut traffic = fifo_start(0x78);
    traffic.extend([
        fifo_count(120),
        fifo_burst(frames(2)),
        fifo_count(1024),
        I2c::write_read(ADDR, vec![0x3A], vec![0x10]),
        I2c::write(ADDR, vec![0x6A, 0x04]),
        I2c::write(ADDR, vec![0x6A, 0x40]),
    ]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        traffic,
        &[100_000, 30_000],
    );
    s.imu.start_fifo(Duration::ZERO).unwrap();
    let mut out = [Sample::default(); 2];
    assert_eq!(s.imu.read_fifo(10 * MS, &mut out).unwrap().pending, 8);
    assert_eq!(
        s.imu.read_fifo(110 * MS, &mut out),
        Err(Error::FifoOverflow {
            lost: 108,
            uncertainty: 2
        })
    );
    s.finish();
}

#[test]
fn impossible_fifo_count_is_corrupt_and_an_empty_fifo_too_long_is_a_stall() {
    let mut traffic = fifo_start(0x78);
    // 0x0500 = 1280 bytes does not fit a 1024-byte FIFO.
    traffic.extend([fifo_count(0x0500), fifo_count(0), fifo_count(0)]);
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        traffic,
        &[100_000, 30_000],
    );
    s.imu.start_fifo(Duration::ZERO).unwrap();
    let mut out = [Sample::default(); 4];
    let err = s.imu.read_fifo(MS, &mut out).unwrap_err();
    assert_eq!(err, Error::Implausible(Field::FifoCount));
    // Empty 1 ms after start-up: a sample may be just landing, not an error.
    assert_eq!(s.imu.read_fifo(MS, &mut out).unwrap().samples, 0);
    // Empty 10 ms later: at least 9 samples were due even at a 1 % slow clock.
    let err = s.imu.read_fifo(11 * MS, &mut out).unwrap_err();
    assert_eq!(err, Error::FifoStalled { expected: 9 });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    s.finish();
}

#[test]
fn fifo_before_start_is_not_initialized() {
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        vec![],
        &[100_000, 30_000],
    );
    let mut out = [Sample::default(); 1];
    assert_eq!(s.imu.read_fifo(MS, &mut out), Err(Error::NotInitialized));
    s.finish();
}

#[test]
fn sleep_then_reading_wakes_and_waits_the_start_up_time() {
    let data = data_registers([0, 0, 16_384, 0, 0, 0, 0]);
    let traffic = vec![
        I2c::write(ADDR, vec![0x6B, 0x41]),
        I2c::write(ADDR, vec![0x6B, 0x01]),
        I2c::write_read(ADDR, burst(), data),
    ];
    let mut s = Session::new(
        init_6050(),
        Config::vibration_1khz(),
        traffic,
        &[100_000, 30_000, 30_000],
    );
    Sensor::power_down(&mut s.imu).unwrap();
    let reading = Sensor::read(&mut s.imu, &mut s.delay).unwrap();
    assert_eq!(reading.values().len(), 7);
    assert!((reading.values()[2] - 9.806_65).abs() < 1e-5);
    assert!((reading.values()[6] - 36.53).abs() < 1e-4);
    s.finish();
}

#[test]
fn common_interface_lists_seven_channels_in_reading_order() {
    let imu = Mpu6050::new(
        I2cMock::new(&[]),
        Address::Ad0High,
        Config::vibration_1khz(),
    );
    let names: Vec<_> = imu.channels().iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "accel_x",
            "accel_y",
            "accel_z",
            "gyro_x",
            "gyro_y",
            "gyro_z",
            "temperature"
        ]
    );
    let units: Vec<_> = imu.channels().iter().map(|c| c.unit).collect();
    assert_eq!(units[0], Unit::MetrePerSecondSquared);
    assert_eq!(units[3], Unit::RadianPerSecond);
    assert_eq!(units[6], Unit::Celsius);
    assert_eq!(imu.min_interval(), MS);
    // 84 frames of margin at the fastest allowed clock before a 6500's 512 bytes fill … and
    // before init the smaller FIFO is assumed.
    assert_eq!(
        imu.max_drain_interval(),
        Duration::from_nanos(41_000_000 * 100 / 101)
    );
    let mut i2c = imu.release();
    i2c.done();
}

#[test]
fn bus_errors_pass_through() {
    let mut i2c =
        I2cMock::new(&[I2c::write_read(ADDR, vec![0x75], vec![0x68]).with_error(ErrorKind::Other)]);
    let mut delay = CheckedDelay::new(&[]);
    let mut imu = Mpu6050::new(i2c.clone(), Address::Ad0Low, Config::default());
    let err = imu.init(&mut delay).unwrap_err();
    assert_eq!(err, Error::Bus(ErrorKind::Other));
    assert_eq!(err.kind(), SensorErrorKind::Bus);
    imu.release();
    i2c.done();
    delay.done();
}

#[test]
fn async_api_sends_the_same_traffic() {
    let mut expected = init_6050();
    expected.push(I2c::write_read(
        ADDR,
        burst(),
        data_registers([0, 0, 16_384, 0, 0, 0, 0]),
    ));
    expected.extend(fifo_start(0x78));
    expected.extend([fifo_count(24), fifo_burst(frames(2))]);
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(100_000), Delay::delay_us(30_000)]);
    let mut imu = Mpu6050Async::new(i2c.clone(), Address::Ad0Low, Config::vibration_1khz());
    embassy_futures::block_on(async {
        assert_eq!(imu.init(&mut delay).await.unwrap(), Variant::Mpu6050);
        let sample = imu.measure(&mut delay).await.unwrap();
        assert_eq!(sample.acceleration[2].raw(), 9_806_650);
        imu.start_fifo(Duration::ZERO).await.unwrap();
        let mut out = [Sample::default(); 8];
        assert_eq!(imu.read_fifo(2 * MS, &mut out).await.unwrap().samples, 2);
    });
    imu.release();
    i2c.done();
    delay.done();
}
