//! The exact register traffic of the INA226 driver, against the datasheet's protocol
//! (embedded-hal-mock: any extra, missing or different transaction fails the test).
//!
//! The register values are those of the datasheet's configure/measure/calculate example
//! (SBOS547 section 6.5.1, table 6-1): 10 A through a 2 mΩ shunt at 12 V, Current_LSB = 1 mA,
//! CAL = A00h, power-on conversion settings (configuration 4127h in continuous mode).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_sensors::ina226::{
    Address, Alert, AlertFunction, AlertLimitError, Averaging, Calibration, Channel, Completion,
    Config, ConversionTime, Error, Flags, Ina226, Ina226Async, Measurement, Mode, Polarity,
};
use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError, SensorInfo};
use edgewise_sensors::units::{Current, Voltage};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x40;

/// Table 6-1 step 1 without the MODE bits: 1.1 ms bus and shunt, one sample, bit 14 as at
/// power-on.
const CONFIG_BITS: u16 = 0x4120;
const MODE_POWER_DOWN: u16 = 0b000;
const MODE_TRIGGERED: u16 = 0b011;
const MODE_CONTINUOUS: u16 = 0b111;
/// Table 6-1 steps 2-6.
const SHUNT: u16 = 0x1F40;
const BUS: u16 = 0x2570;
const CALIBRATION: u16 = 0x0A00;
const CURRENT: u16 = 0x2710;
const POWER: u16 = 0x12B8;
/// Mask/Enable flags (section 7.1.7).
const AFF: u16 = 1 << 4;
const CVRF: u16 = 1 << 3;
const OVF: u16 = 1 << 2;
/// 1.1 ms + 1.1 ms typical, 1.21 ms + 1.21 ms maximum (t_CT, section 5.5).
const TYPICAL_US: u32 = 2_200;
const MAX_US: u32 = 2_420;
/// Polling steps: (2420 − 2200) / 4.
const STEP_US: u32 = 55;

fn example_config(mode: Mode) -> Config {
    Config {
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

/// init: both IDs read before anything is written, reset, then calibration, alert limit,
/// Mask/Enable and configuration.
fn init_traffic(config_bits: u16, idle_mode: u16, mask_enable: u16, limit: u16) -> Vec<I2c> {
    vec![
        read(0xFE, 0x5449),
        read(0xFF, 0x2260),
        write(0x00, 0x8000),
        write(0x05, CALIBRATION),
        write(0x07, limit),
        write(0x06, mask_enable),
        write(0x00, config_bits | idle_mode),
    ]
}

/// The five reads of one reading: Mask/Enable (CVRF, OVF, AFF), then shunt, bus, current,
/// power.
fn data_reads(mask_enable: u16, current: u16, power: u16) -> Vec<I2c> {
    vec![
        read(0x06, mask_enable),
        read(0x01, SHUNT),
        read(0x02, BUS),
        read(0x04, current),
        read(0x03, power),
    ]
}

fn triggered_reading() -> Vec<I2c> {
    let mut t = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    t.extend(data_reads(CVRF, CURRENT, POWER));
    t
}

/// A driver initialised on a mock bus expecting the init traffic, then `after_init`, with
/// `delays_us` as the only waits.
struct Session {
    i2c: I2cMock,
    delay: CheckedDelay,
    sensor: Ina226<I2cMock>,
}

impl Session {
    fn new(config: Config, after_init: Vec<I2c>, delays_us: &[u32]) -> Self {
        Self::with_alert(config, (0, 0), after_init, delays_us)
    }

    fn with_alert(
        config: Config,
        (mask_enable, limit): (u16, u16),
        after_init: Vec<I2c>,
        delays_us: &[u32],
    ) -> Self {
        let idle = match config.mode {
            Mode::Triggered => MODE_POWER_DOWN,
            Mode::Continuous => MODE_CONTINUOUS,
        };
        let mut expected = init_traffic(CONFIG_BITS, idle, mask_enable, limit);
        expected.extend(after_init);
        let i2c = I2cMock::new(&expected);
        let delays: Vec<Delay> = delays_us.iter().copied().map(Delay::delay_us).collect();
        let delay = CheckedDelay::new(&delays);
        let mut sensor = Ina226::new(i2c.clone(), Address::default(), config);
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
fn triggered_reading_is_six_transactions_and_the_typical_conversion_time() {
    let mut s = Session::new(
        example_config(Mode::Triggered),
        triggered_reading(),
        &[TYPICAL_US],
    );
    let m = s.measure().unwrap();
    assert_datasheet_values(&m);
    assert!(!m.alert);
    s.finish();
}

#[test]
fn wait_max_waits_the_electrical_characteristics_maximum() {
    let config = Config {
        completion: Completion::WaitMax,
        ..example_config(Mode::Triggered)
    };
    let mut s = Session::new(config, triggered_reading(), &[MAX_US]);
    s.measure().unwrap();
    s.finish();
}

#[test]
fn wait_follows_conversion_times_and_averaging() {
    for (ct, averaging, avg_code, ct_code, wait_us) in [
        // 140 µs + 140 µs, one sample.
        (ConversionTime::Us140, Averaging::X1, 0b000, 0b000, 280),
        // Section 6.4.1's example: 588 µs each, 4 averages, "approximately every 4.7 ms".
        (ConversionTime::Us588, Averaging::X4, 0b001, 0b011, 4_704),
        // The slowest: 2 × 8.244 ms × 1024.
        (
            ConversionTime::Us8244,
            Averaging::X1024,
            0b111,
            0b111,
            16_883_712,
        ),
    ] {
        let config = Config {
            bus_conversion_time: ct,
            shunt_conversion_time: ct,
            averaging,
            ..example_config(Mode::Triggered)
        };
        let bits = 0x4000 | (avg_code << 9) | (ct_code << 6) | (ct_code << 3);
        let mut expected = init_traffic(bits, MODE_POWER_DOWN, 0, 0);
        expected.push(write(0x00, bits | MODE_TRIGGERED));
        expected.extend(data_reads(CVRF, CURRENT, POWER));
        let mut i2c = I2cMock::new(&expected);
        let mut delay = CheckedDelay::new(&[Delay::delay_us(wait_us)]);
        let mut sensor = Ina226::new(i2c.clone(), Address::default(), config);
        sensor.init().unwrap();
        assert_datasheet_values(&sensor.measure(&mut delay).unwrap());
        sensor.release();
        i2c.done();
        delay.done();
    }
}

#[test]
fn cvrf_clear_at_the_typical_time_is_polled_until_set() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED), read(0x06, 0)];
    traffic.extend(data_reads(CVRF, CURRENT, POWER));
    let mut s = Session::new(
        example_config(Mode::Triggered),
        traffic,
        &[TYPICAL_US, STEP_US],
    );
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn cvrf_never_set_is_not_ready_at_the_maximum_time() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend((0..5).map(|_| read(0x06, 0)));
    let mut s = Session::new(
        example_config(Mode::Triggered),
        traffic,
        &[TYPICAL_US, STEP_US, STEP_US, STEP_US, STEP_US],
    );
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::NotReady { waited_us: MAX_US });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    s.finish();
}

#[test]
fn continuous_mode_waits_once_then_reads_the_latest_in_five_transactions() {
    let mut traffic = data_reads(CVRF, CURRENT, POWER);
    // Reading Mask/Enable cleared CVRF; the latest result is read regardless.
    traffic.extend(data_reads(0, CURRENT, POWER));
    let mut s = Session::new(example_config(Mode::Continuous), traffic, &[TYPICAL_US]);
    assert_datasheet_values(&s.measure().unwrap());
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn power_down_writes_mode_000_and_continuous_mode_restarts_after_it() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_POWER_DOWN)];
    traffic.push(write(0x00, CONFIG_BITS | MODE_CONTINUOUS));
    traffic.extend(data_reads(CVRF, CURRENT, POWER));
    let mut s = Session::new(example_config(Mode::Continuous), traffic, &[TYPICAL_US]);
    s.sensor.power_down().unwrap();
    s.measure().unwrap();
    s.finish();
}

#[test]
fn math_overflow_is_an_error_not_a_reading() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(CVRF | OVF, 0x7FFF, 0xFFFF));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[TYPICAL_US]);
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::MathOverflow);
    assert_eq!(err.kind(), SensorErrorKind::OutOfRange);
    s.finish();
}

#[test]
fn corrupted_current_register_is_implausible() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    // 10000 with its sign bit flipped: a large negative current that +20 mV cannot cause.
    traffic.extend(data_reads(CVRF, CURRENT | 0x8000, POWER));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[TYPICAL_US]);
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::Implausible(Channel::Current));
    assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    s.finish();
}

#[test]
fn cleared_calibration_is_confirmed_and_reported_then_init_is_required() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(CVRF, 0, 0));
    traffic.push(read(0x05, 0x0000));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[TYPICAL_US]);
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::CalibrationLost { found: 0 });
    assert_eq!(err.kind(), SensorErrorKind::NotInitialized);
    assert!(err.to_string().contains("init()"), "{err}");
    assert!(!s.sensor.is_initialized());
    assert_eq!(s.measure(), Err(Error::NotInitialized));
    s.finish();
}

/// Over-current alert at 40 A (80 mV = 7D00h), latched, active high.
fn alert_config() -> (Config, (u16, u16)) {
    let config = Config {
        alert: Alert {
            function: Some(AlertFunction::OverCurrent(Current::from_microamps(
                40_000_000,
            ))),
            conversion_ready: false,
            polarity: Polarity::ActiveHigh,
            latch: true,
        },
        ..example_config(Mode::Triggered)
    };
    // SOL | APOL | LEN.
    (config, (0x8003, 0x7D00))
}

#[test]
fn alert_limit_is_programmed_in_register_units_and_aff_is_reported() {
    let (config, alert) = alert_config();
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(0x8003 | CVRF | AFF, CURRENT, POWER));
    let mut s = Session::with_alert(config, alert, traffic, &[TYPICAL_US]);
    let m = s.measure().unwrap();
    assert_datasheet_values(&m);
    assert!(m.alert);
    s.finish();
}

#[test]
fn mask_enable_back_at_zero_reveals_a_reset_chip() {
    let (config, alert) = alert_config();
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    // After a brown-out Mask/Enable reads 0 apart from CVRF; current and power still look
    // fine here (a reset between conversions), so only the settings give it away.
    traffic.extend(data_reads(CVRF, CURRENT, POWER));
    traffic.push(read(0x05, 0x0000));
    let mut s = Session::with_alert(config, alert, traffic, &[TYPICAL_US]);
    assert_eq!(s.measure(), Err(Error::CalibrationLost { found: 0 }));
    s.finish();
}

#[test]
fn mask_enable_corrupted_with_calibration_intact_is_implausible() {
    let (config, alert) = alert_config();
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(0x4003 | CVRF, CURRENT, POWER));
    traffic.push(read(0x05, CALIBRATION));
    let mut s = Session::with_alert(config, alert, traffic, &[TYPICAL_US]);
    assert_eq!(s.measure(), Err(Error::Implausible(Channel::MaskEnable)));
    assert!(s.sensor.is_initialized());
    s.finish();
}

#[test]
fn unused_mask_enable_bits_are_implausible() {
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED)];
    traffic.extend(data_reads(CVRF | 1 << 9, CURRENT, POWER));
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[TYPICAL_US]);
    assert_eq!(s.measure(), Err(Error::Implausible(Channel::MaskEnable)));
    s.finish();
}

#[test]
fn an_unrepresentable_alert_limit_is_rejected_before_any_traffic() {
    let config = Config {
        alert: Alert {
            // 50 A through 2 mΩ is 100 mV, beyond the 81.92 mV register.
            function: Some(AlertFunction::OverCurrent(Current::from_microamps(
                50_000_000,
            ))),
            ..Alert::default()
        },
        ..example_config(Mode::Triggered)
    };
    let mut i2c = I2cMock::new(&[]);
    let mut sensor = Ina226::new(i2c.clone(), Address::default(), config);
    let err = sensor.init().unwrap_err();
    assert_eq!(err, Error::AlertLimit(AlertLimitError::OutOfRange));
    assert_eq!(err.kind(), SensorErrorKind::Config);
    assert_eq!(sensor.set_config(config), Err(err));
    sensor.release();
    i2c.done();
}

#[test]
fn wrong_ids_are_not_an_ina226_and_nothing_is_written() {
    // An INA219 has no ID registers; a register chip answering zeros is not an INA226.
    for (manufacturer_id, die_id) in [(0x0000, 0x0000), (0x5449, 0x2270), (0x4954, 0x2260)] {
        let mut i2c = I2cMock::new(&[read(0xFE, manufacturer_id), read(0xFF, die_id)]);
        let mut sensor = Ina226::new(i2c.clone(), Address::default(), Config::default());
        let err = sensor.init().unwrap_err();
        assert_eq!(
            err,
            Error::UnknownDevice {
                manufacturer_id,
                die_id
            }
        );
        assert_eq!(err.kind(), SensorErrorKind::Identity);
        assert_eq!(sensor.measure(&mut NoopDelay), Err(Error::NotInitialized));
        sensor.release();
        i2c.done();
    }
}

#[test]
fn a_later_die_revision_is_still_an_ina226() {
    let mut expected = init_traffic(CONFIG_BITS, MODE_POWER_DOWN, 0, 0);
    expected[1] = read(0xFF, 0x2261);
    let mut i2c = I2cMock::new(&expected);
    let mut sensor = Ina226::new(
        i2c.clone(),
        Address::default(),
        example_config(Mode::Triggered),
    );
    sensor.init().unwrap();
    sensor.release();
    i2c.done();
}

#[test]
fn nack_is_a_bus_error_and_the_driver_recovers() {
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut traffic = vec![write(0x00, CONFIG_BITS | MODE_TRIGGERED).with_error(nack)];
    traffic.extend(triggered_reading());
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[TYPICAL_US]);
    assert_eq!(s.measure(), Err(Error::Bus(nack)));
    assert_datasheet_values(&s.measure().unwrap());
    s.finish();
}

#[test]
fn set_config_writes_calibration_limit_mask_enable_then_configuration() {
    let new = Config {
        calibration: Calibration::BREAKOUT_100_MILLIOHM,
        averaging: Averaging::X16,
        alert: Alert {
            // 4.5 V on the bus is 3600 counts of 1.25 mV (E10h).
            function: Some(AlertFunction::BusUnderVoltage(Voltage::from_nanovolts(
                4_500_000_000,
            ))),
            conversion_ready: true,
            polarity: Polarity::ActiveLow,
            latch: false,
        },
        ..example_config(Mode::Triggered)
    };
    let traffic = vec![
        write(0x05, 2048),
        write(0x07, 0x0E10),
        // BUL | CNVR.
        write(0x06, 0x1400),
        write(0x00, 0x4520),
    ];
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[]);
    s.sensor.set_config(new).unwrap();
    assert_eq!(s.sensor.config(), &new);
    s.finish();
}

#[test]
fn read_flags_reads_mask_enable_once() {
    let traffic = vec![read(0x06, AFF | CVRF)];
    let mut s = Session::new(example_config(Mode::Triggered), traffic, &[]);
    assert_eq!(
        s.sensor.read_flags().unwrap(),
        Flags {
            alert: true,
            conversion_ready: true,
            math_overflow: false
        }
    );
    s.finish();
}

#[test]
fn common_interface_lists_four_channels_and_reads_them_in_order() {
    let mut s = Session::new(
        example_config(Mode::Triggered),
        triggered_reading(),
        &[TYPICAL_US],
    );
    let names: Vec<_> = s.sensor.channels().iter().map(|c| c.name).collect();
    assert_eq!(names, ["bus_voltage", "shunt_voltage", "current", "power"]);
    assert_eq!(s.sensor.min_interval().as_micros(), u128::from(MAX_US));
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
    let mut expected = init_traffic(CONFIG_BITS, MODE_POWER_DOWN, 0, 0);
    expected.extend(triggered_reading());
    expected.push(write(0x00, CONFIG_BITS | MODE_POWER_DOWN));
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(TYPICAL_US)]);
    let mut sensor = Ina226Async::new(i2c.clone(), Address::default(), config);
    embassy_futures::block_on(async {
        sensor.init().await.unwrap();
        let m = sensor.measure(&mut delay).await.unwrap();
        assert_datasheet_values(&m);
        sensor.power_down().await.unwrap();
    });
    sensor.release();
    i2c.done();
    delay.done();
}
