//! The exact register traffic of the INA219 driver, against the datasheet's protocol
//! (embedded-hal-mock: any extra, missing or different transaction fails the test).
//!
//! The register values are those of the datasheet's configure/measure/calculate example
//! (SBOS448F table 3): 10 A through a 2 mΩ shunt at 12 V, ±40 mV range, 16 V range,
//! Current_LSB = 1 mA, Cal = 5000h.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_sensors::ina219::{
    Adc, Address, BusRange, Calibration, Channel, Completion, Config, Error, Ina219, Ina219Async,
    Measurement, Mode, ShuntRange,
};
use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError, SensorInfo};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x40;

/// Table 3 step 1 without the MODE bits: 16 V, ±40 mV, 12-bit bus and shunt.
const CONFIG_BITS: u16 = 0x0198;
const MODE_POWER_DOWN: u16 = 0b000;
const MODE_TRIGGERED: u16 = 0b011;
const MODE_CONTINUOUS: u16 = 0b111;
/// Table 3 steps 2-6.
const SHUNT: u16 = 0x07D0;
const BUS: u16 = 0x5D98;
const CNVR: u16 = 0b10;
const OVF: u16 = 0b01;
const CALIBRATION: u16 = 0x5000;
const CURRENT: u16 = 0x2710;
const POWER: u16 = 0x1766;

fn example_config(mode: Mode) -> Config {
    Config {
        bus_range: BusRange::V16,
        shunt_range: ShuntRange::Mv40,
        mode,
        ..Config::new(Calibration::from_current_lsb(2_000, 1_000_000).unwrap())
    }
}

fn write(register: u8, value: u16) -> I2c {
    let [msb, lsb] = value.to_be_bytes();
    I2c::write(ADDR, vec![register, msb, lsb])
}

fn read(register: u8, value: u16) -> I2c {
    I2c::write_read(ADDR, vec![register], value.to_be_bytes().to_vec())
}

/// init: reset, the power-on configuration 399Fh read back, calibration, configuration.
fn init_traffic(config_bits: u16, idle_mode: u16) -> Vec<I2c> {
    vec![
        write(0x00, 0x8000),
        read(0x00, 0x399F),
        write(0x05, CALIBRATION),
        write(0x00, config_bits | idle_mode),
    ]
}

/// The four data reads of one reading, bus voltage first (it carries CNVR), power last
/// (reading it clears CNVR).
fn data_reads(bus: u16, current: u16, power: u16) -> Vec<I2c> {
    vec![
        read(0x02, bus),
        read(0x01, SHUNT),
        read(0x04, current),
        read(0x03, power),
    ]
}

fn triggered_reading() -> Vec<I2c> {
    let mut t = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    t.extend(data_reads(BUS | CNVR, CURRENT, POWER));
    t
}

/// A driver initialised on a mock bus expecting the init traffic, then `after_init`, with
/// `delays_us` as the only waits.
struct Session {
    i2c: I2cMock,
    delay: CheckedDelay,
    sensor: Ina219<I2cMock>,
}

impl Session {
    fn new(config: Config, after_init: Vec<I2c>, delays_us: &[u32]) -> Self {
        let idle = match config.mode {
            Mode::Triggered => MODE_POWER_DOWN,
            Mode::Continuous => MODE_CONTINUOUS,
        };
        let mut expected = init_traffic(CONFIG_BITS, idle);
        expected.extend(after_init);
        let i2c = I2cMock::new(&expected);
        let delays: Vec<Delay> = delays_us.iter().copied().map(Delay::delay_us).collect();
        let delay = CheckedDelay::new(&delays);
        let mut sensor = Ina219::new(i2c.clone(), Address::default(), config);
        sensor.init().unwrap();
        Self { i2c, delay, sensor }
    }

    fn measure(&mut self) -> Result<Measurement, Error<ErrorKind>> {
        self.sensor.measure(&mut self.delay)
    }

    /// Every expected transaction and delay happened, nothing more.
    fn finish(self) {
        let (mut i2c, mut delay) = (self.i2c, self.delay);
        self.sensor.release();
        i2c.done();
        delay.done();
    }
}

fn assert_datasheet_values(m: &Measurement) {
    assert_eq!(m.shunt_voltage.raw(), 20_000_000, "20 mV");
    assert_eq!(m.bus_voltage.raw(), 11_980_000_000, "11.98 V");
    assert_eq!(m.current.raw(), 10_000_000, "10.0 A");
    assert_eq!(m.power.raw(), 119_800_000, "119.8 W");
}

#[test]
fn triggered_reading_is_five_transactions_and_the_typical_conversion_time() {
    // 12-bit shunt then 12-bit bus: 532 + 532 µs (table 6), then CNVR is set.
    let mut s = Session::new(
        example_config(Mode::Triggered),
        triggered_reading(),
        &[1_064],
    );
    let m = s.measure().unwrap();
    assert_datasheet_values(&m);
    s.finish();
}

#[test]
fn wait_max_waits_the_electrical_characteristics_maximum() {
    let config = Config {
        completion: Completion::WaitMax,
        ..example_config(Mode::Triggered)
    };
    // 586 + 586 µs.
    let mut s = Session::new(config, triggered_reading(), &[1_172]);
    s.measure().unwrap();
    s.finish();
}

#[test]
fn wait_follows_resolution_and_averaging() {
    for (adc, code, wait_us) in [
        (Adc::Bits9, 0b0000, 2 * 84),
        (Adc::Samples16, 0b1100, 2 * 8_510),
        (Adc::Samples128, 0b1111, 2 * 68_100),
    ] {
        let config = Config {
            bus_adc: adc,
            shunt_adc: adc,
            ..example_config(Mode::Triggered)
        };
        let bits = (code << 7) | (code << 3);
        let mut expected = init_traffic(bits, MODE_POWER_DOWN);
        expected.push(write(0x00, bits | MODE_TRIGGERED));
        expected.extend(data_reads(BUS | CNVR, CURRENT, POWER));
        let mut i2c = I2cMock::new(&expected);
        let mut delay = CheckedDelay::new(&[Delay::delay_us(wait_us)]);
        let mut sensor = Ina219::new(i2c.clone(), Address::default(), config);
        sensor.init().unwrap();
        sensor.measure(&mut delay).unwrap();
        i2c.done();
        delay.done();
    }
}

#[test]
fn cnvr_clear_at_the_typical_time_is_polled_until_set() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED), read(0x02, BUS)];
    traffic.extend(data_reads(BUS | CNVR, CURRENT, POWER));
    // Steps of (1172 − 1064) / 4 = 27 µs.
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[1_064, 27]);
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn cnvr_never_set_is_not_ready_at_the_maximum_time() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend((0..5).map(|_| read(0x02, BUS)));
    let mut s = Session::new(
        example_config(Mode::Triggered),
        traffic,
        &[1_064, 27, 27, 27, 27],
    );
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::NotReady { waited_us: 1_172 });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    s.finish();
}

#[test]
fn continuous_mode_waits_once_then_reads_the_latest_in_four_transactions() {
    let mut traffic = data_reads(BUS | CNVR, CURRENT, POWER);
    // Reading power cleared CNVR; the latest result is read regardless.
    traffic.extend(data_reads(BUS, CURRENT, POWER));
    let mut s = Session::new(example_config(Mode::Continuous), traffic, &[1_064]);
    assert_datasheet_values(&s.measure().unwrap());
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn power_down_writes_mode_000_and_continuous_mode_restarts_after_it() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_POWER_DOWN)];
    traffic.push(write(0x00, CONFIG_BITS | MODE_CONTINUOUS));
    traffic.extend(data_reads(BUS | CNVR, CURRENT, POWER));
    let mut s = Session::new(example_config(Mode::Continuous), traffic, &[1_064]);
    s.sensor.power_down().unwrap();
    s.measure().unwrap();
    s.finish();
}

#[test]
fn math_overflow_is_an_error_not_a_reading() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(BUS | CNVR | OVF, 0x7FFF, 0xFFFF));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[1_064]);
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::MathOverflow);
    assert_eq!(err.kind(), SensorErrorKind::OutOfRange);
    s.finish();
}

#[test]
fn corrupted_current_register_is_implausible() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    // 10000 with its top bit flipped: a large negative current that 20 mV cannot cause.
    traffic.extend(data_reads(BUS | CNVR, CURRENT | 0x8000, POWER));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[1_064]);
    assert_eq!(s.measure(), Err(Error::Implausible(Channel::Current)));
    s.finish();
}

#[test]
fn cleared_calibration_is_confirmed_and_reported_then_init_is_required() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(BUS | CNVR, 0, 0));
    traffic.push(read(0x05, 0x0000));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[1_064]);
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::CalibrationLost { found: 0 });
    assert_eq!(err.kind(), SensorErrorKind::NotInitialized);
    assert!(err.to_string().contains("init()"), "{err}");
    assert!(!s.sensor.is_initialized());
    assert_eq!(s.measure(), Err(Error::NotInitialized));
    s.finish();
}

#[test]
fn wrong_power_on_value_is_not_an_ina219() {
    let mut i2c = I2cMock::new(&[write(0x00, 0x8000), read(0x00, 0x0000)]);
    let mut sensor = Ina219::new(i2c.clone(), Address::default(), Config::default());
    let err = sensor.init().unwrap_err();
    assert_eq!(err, Error::UnexpectedResetValue(0));
    assert_eq!(err.kind(), SensorErrorKind::Identity);
    assert!(err.to_string().contains("0x0000"), "{err}");
    assert_eq!(sensor.measure(&mut NoopDelay), Err(Error::NotInitialized));
    sensor.release();
    i2c.done();
}

#[test]
fn nack_is_a_bus_error_and_the_driver_recovers() {
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED).with_error(nack)];
    traffic.extend(triggered_reading());
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[1_064]);
    assert_eq!(s.measure(), Err(Error::Bus(nack)));
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn set_config_writes_calibration_then_configuration() {
    let new = Config {
        shunt_range: ShuntRange::Mv320,
        bus_range: BusRange::V32,
        calibration: Calibration::BREAKOUT_100_MILLIOHM,
        ..example_config(Mode::Triggered)
    };
    let traffic = vec![write(0x05, 4096), write(0x00, 0x3998)];
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[]);
    s.sensor.set_config(new).unwrap();
    assert_eq!(s.sensor.config(), &new);
    s.finish();
}

#[test]
fn common_interface_lists_four_channels_and_reads_them_in_order() {
    let mut s = Session::new(
        example_config(Mode::Triggered),
        triggered_reading(),
        &[1_064],
    );
    let names: Vec<_> = s.sensor.channels().iter().map(|c| c.name).collect();
    assert_eq!(names, ["bus_voltage", "shunt_voltage", "current", "power"]);
    assert_eq!(s.sensor.min_interval().as_micros(), 1_172);
    let reading = Sensor::read(&mut s.sensor, &mut s.delay).unwrap();
    // f32 in volts, amperes and watts, to within the f32 rounding of the nV/µA/µW integers.
    let expected = [11.98, 0.02, 10.0, 119.8];
    assert_eq!(reading.values().len(), expected.len());
    for (value, want) in reading.values().iter().zip(expected) {
        assert!((value - want).abs() <= want * 1e-6, "{value} vs {want}");
    }
    s.finish();
}

#[test]
fn async_api_sends_the_same_traffic() {
    let config = example_config(Mode::Triggered);
    let mut expected = init_traffic(CONFIG_BITS, MODE_POWER_DOWN);
    expected.extend(triggered_reading());
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(1_064)]);
    let mut sensor = Ina219Async::new(i2c.clone(), Address::default(), config);
    embassy_futures::block_on(async {
        sensor.init().await.unwrap();
        let m = sensor.measure(&mut delay).await.unwrap();
        assert_datasheet_values(&m);
    });
    sensor.release();
    i2c.done();
    delay.done();
}
