//! The exact register traffic of the ADS1x15 driver, against the datasheet's protocol
//! (embedded-hal-mock: any extra, missing or different transaction fails the test).
//!
//! Config words are spelled out from the datasheet's field table (SBAS444D 9.6.3), not from
//! the driver's encoder: OS | MUX | PGA | MODE | DR | COMP_MODE | COMP_POL | COMP_LAT | COMP_QUE.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Register values are written grouped by field, as in the datasheet.
#![allow(clippy::unusual_byte_groupings)]

use edgewise_sensors::ads1x15::{
    Address, Ads1x15, Ads1x15Async, Alert, Comparator, ComparatorKind, Completion, Config,
    DataRate, Error, FullScale, Input, Mode, Polarity, Queue, Scan,
};
use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError, SensorInfo};
use edgewise_sensors::units::{Unit, Voltage};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x48;

/// Config register after reset (9.6.3).
const RESET: u16 = 0x8583;

fn be(word: u16) -> Vec<u8> {
    word.to_be_bytes().to_vec()
}

/// Write of the config register: pointer 01b, MSB, LSB in one transaction.
fn write_config(word: u16) -> I2c {
    I2c::write(ADDR, [vec![0x01], be(word)].concat())
}

/// Read of the conversion register after the pointer was elsewhere: pointer 00b, then 2 bytes.
fn read_conversion(raw: u16) -> I2c {
    I2c::write_read(ADDR, vec![0x00], be(raw))
}

/// init: read the config register (presence, and whether a conversion is running), the
/// thresholds if used, the configuration with the chip powered down, and its read-back
/// (the pointer is already at the config register, so a plain read).
fn init_traffic(previous: u16, thresholds: Option<(u16, u16)>, idle: u16) -> Vec<I2c> {
    let mut t = vec![I2c::write_read(ADDR, vec![0x01], be(previous))];
    if let Some((lo, hi)) = thresholds {
        t.push(I2c::write(ADDR, [vec![0x02], be(lo)].concat()));
        t.push(I2c::write(ADDR, [vec![0x03], be(hi)].concat()));
    }
    t.push(write_config(idle));
    t.push(I2c::read(ADDR, be(idle | 0x8000)));
    t
}

/// A driver initialised on a mock bus that expects exactly the init traffic, then
/// `after_init` and the delays `delays_us`.
struct Session {
    i2c: I2cMock,
    delay: CheckedDelay,
    adc: Ads1x15<I2cMock>,
}

impl Session {
    fn new(config: Config, init: Vec<I2c>, after: Vec<I2c>, delays_us: &[u32]) -> Self {
        let expected = [init, after].concat();
        let i2c = I2cMock::new(&expected);
        let delays: Vec<Delay> = delays_us.iter().copied().map(Delay::delay_us).collect();
        let delay = CheckedDelay::new(&delays);
        let mut adc = Ads1x15::new_ads1115(i2c.clone(), Address::Gnd, config);
        adc.init().unwrap();
        Self { i2c, delay, adc }
    }

    fn measure(&mut self) -> Result<Vec<(Input, i16, i64)>, Error<ErrorKind>> {
        self.adc.measure(&mut self.delay).map(|samples| {
            samples
                .as_slice()
                .iter()
                .map(|s| (s.input, s.code, s.voltage.raw()))
                .collect()
        })
    }

    /// Every expected transaction and delay happened, nothing more.
    fn finish(self) {
        let (mut i2c, mut delay) = (self.i2c, self.delay);
        self.adc.release();
        i2c.done();
        delay.done();
    }
}

fn ain0_4v_860() -> Config {
    Config::single_shot(
        Scan::single(Input::Ain0),
        FullScale::V4_096,
        DataRate::Sps860,
    )
}

// ---- single-shot ----

/// AIN0 vs GND (100), ±4.096 V (001), single-shot (1), 860 SPS (111), comparator off (11).
const AIN0_4V_860_IDLE: u16 = 0b0_100_001_1_111_0_0_0_11;
const AIN0_4V_860_START: u16 = 0b1_100_001_1_111_0_0_0_11;

#[test]
fn single_shot_is_one_write_the_maximum_conversion_time_and_one_read() {
    let traffic = vec![write_config(AIN0_4V_860_START), read_conversion(0x4000)];
    // 860 SPS at the datasheet's −10 % rate limit: 1 / (0.9 · 860) = 1292 µs, plus the 25 µs
    // wake-up from power-down.
    let mut s = Session::new(
        ain0_4v_860(),
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317],
    );
    // 4000h = 16384 codes of 125 µV = 2.048 V.
    assert_eq!(
        s.measure().unwrap(),
        vec![(Input::Ain0, 16_384, 2_048_000_000)]
    );
    s.finish();
}

#[test]
fn wait_follows_the_data_rate_from_8_to_860_sps() {
    // DR code, data rate, slowest period 1 / (0.9 · DR) rounded up, in µs.
    let table = [
        (0b000, DataRate::Sps8, 138_889),
        (0b001, DataRate::Sps16, 69_445),
        (0b010, DataRate::Sps32, 34_723),
        (0b011, DataRate::Sps64, 17_362),
        (0b100, DataRate::Sps128, 8_681),
        (0b101, DataRate::Sps250, 4_445),
        (0b110, DataRate::Sps475, 2_340),
        (0b111, DataRate::Sps860, 1_292),
    ];
    for (code, rate, period_us) in table {
        let config = Config::single_shot(Scan::single(Input::Ain1), FullScale::V2_048, rate);
        let idle = 0b0_101_010_1_000_0_0_0_11 | (code << 5);
        let traffic = vec![write_config(idle | 0x8000), read_conversion(0x0100)];
        let mut s = Session::new(
            config,
            init_traffic(RESET, None, idle),
            traffic,
            &[25 + period_us],
        );
        s.measure().unwrap();
        s.finish();
    }
}

#[test]
fn four_input_scan_converts_each_input_in_order() {
    let config = Config::single_shot(Scan::single_ended(), FullScale::V4_096, DataRate::Sps860);
    let start = |mux: u16| (0b1_000_001_1_111_0_0_0_11) | (mux << 12);
    let traffic = vec![
        write_config(start(0b100)),
        read_conversion(0x0008),
        write_config(start(0b101)),
        read_conversion(0x0010),
        write_config(start(0b110)),
        read_conversion(0x7FFF),
        write_config(start(0b111)),
        read_conversion(0x0000),
    ];
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317; 4],
    );
    let samples = s.adc.measure(&mut s.delay).unwrap();
    let got: Vec<_> = samples
        .as_slice()
        .iter()
        .map(|s| (s.input, s.voltage.raw(), s.clipped))
        .collect();
    assert_eq!(
        got,
        vec![
            (Input::Ain0, 1_000_000, false),
            (Input::Ain1, 2_000_000, false),
            (Input::Ain2, 4_095_875_000, true), // 7FFFh: at or beyond +FS
            (Input::Ain3, 0, false),
        ]
    );
    assert_eq!(samples.get(Input::Ain1).unwrap().code, 16);
    s.finish();
}

#[test]
fn poll_status_waits_the_nominal_time_then_reads_os() {
    let config = Config {
        completion: Completion::PollStatus,
        ..ain0_4v_860()
    };
    let traffic = vec![
        write_config(AIN0_4V_860_START),
        // The pointer is still at the config register: plain 2-byte reads.
        I2c::read(ADDR, be(AIN0_4V_860_IDLE)), // OS 0: converting
        I2c::read(ADDR, be(AIN0_4V_860_START)), // OS 1: done
        read_conversion(0x0001),
    ];
    // nominal 1 / 860 = 1163 µs + 25 µs; then steps of (1317 − 1188) / 4 = 32 µs
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_188, 32],
    );
    assert_eq!(s.measure().unwrap(), vec![(Input::Ain0, 1, 125_000)]);
    s.finish();
}

#[test]
fn stuck_conversion_is_not_ready_at_the_maximum_time() {
    let config = Config {
        completion: Completion::PollStatus,
        ..ain0_4v_860()
    };
    let mut traffic = vec![write_config(AIN0_4V_860_START)];
    traffic.extend((0..6).map(|_| I2c::read(ADDR, be(AIN0_4V_860_IDLE))));
    // 1188 + 4 · 32 = 1316, then the last 1 µs to 1317.
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_188, 32, 32, 32, 32, 1],
    );
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::NotReady { waited_us: 1_317 });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    s.finish();
}

#[test]
fn a_reset_chip_found_while_polling_is_a_config_mismatch() {
    let config = Config {
        completion: Completion::PollStatus,
        ..ain0_4v_860()
    };
    let traffic = vec![write_config(AIN0_4V_860_START), I2c::read(ADDR, be(RESET))];
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_188],
    );
    let err = s.measure().unwrap_err();
    assert_eq!(
        err,
        Error::ConfigMismatch {
            expected: AIN0_4V_860_IDLE,
            found: RESET
        }
    );
    assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    assert!(err.to_string().contains("0x8583"), "{err}");
    s.finish();
}

// ---- continuous ----

#[test]
fn continuous_reads_the_latest_result_with_one_two_byte_read() {
    let config = Config {
        mode: Mode::Continuous,
        ..ain0_4v_860()
    };
    let traffic = vec![
        // MODE 0 starts continuous conversion; OS is not written.
        write_config(0b0_100_001_0_111_0_0_0_11),
        read_conversion(0x0100),
        // The pointer stays at the conversion register: no pointer byte any more.
        I2c::read(ADDR, be(0x0101)),
        I2c::read(ADDR, be(0x0102)),
    ];
    // Only the first reading waits: wake-up plus one slowest period.
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317],
    );
    for code in [0x100, 0x101, 0x102] {
        assert_eq!(s.measure().unwrap()[0].1, code);
    }
    s.finish();
}

#[test]
fn continuous_input_switch_waits_two_periods() {
    // The ongoing conversion finishes with the previous input (9.4.2.2), then one full
    // conversion of the new one: up to 2 · 1292 µs at 860 SPS.
    let config = Config {
        mode: Mode::Continuous,
        inputs: Scan::new(&[Input::Ain0, Input::Ain2Ain3]).unwrap(),
        ..ain0_4v_860()
    };
    let select = |mux: u16| (0b0_000_001_0_111_0_0_0_11) | (mux << 12);
    let traffic = vec![
        write_config(select(0b100)),
        read_conversion(0x0001),
        write_config(select(0b011)),
        read_conversion(0xFFFF),
        write_config(select(0b100)),
        read_conversion(0x0001),
        write_config(select(0b011)),
        read_conversion(0xFFFF),
    ];
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317, 2_584, 2_584, 2_584],
    );
    assert_eq!(
        s.measure().unwrap(),
        vec![(Input::Ain0, 1, 125_000), (Input::Ain2Ain3, -1, -125_000)]
    );
    s.measure().unwrap();
    s.finish();
}

#[test]
fn power_down_stops_continuous_mode_and_the_next_reading_restarts_it() {
    let config = Config {
        mode: Mode::Continuous,
        ..ain0_4v_860()
    };
    let running = 0b0_100_001_0_111_0_0_0_11;
    let traffic = vec![
        write_config(running),
        read_conversion(0x0100),
        write_config(AIN0_4V_860_IDLE), // MODE 1: power-down after the conversion in progress
        write_config(running),
        read_conversion(0x0100),
    ];
    // Restarting waits out the conversion that was in flight at power-down, the wake-up and
    // one period.
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317, 1_292 + 1_317],
    );
    s.measure().unwrap();
    s.adc.power_down().unwrap();
    s.measure().unwrap();
    s.finish();
}

#[test]
fn single_shot_power_down_sends_nothing() {
    let mut s = Session::new(
        ain0_4v_860(),
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        vec![],
        &[],
    );
    s.adc.power_down().unwrap();
    s.finish();
}

#[test]
fn init_on_a_chip_left_converting_waits_out_the_old_conversion_before_the_first_start() {
    // The chip was left in continuous mode at 8 SPS (DR 000) by an earlier run: a start
    // during the conversion in flight would be ignored (9.4.2.1).
    let previous = 0b0_100_010_0_000_0_0_0_11;
    let traffic = vec![write_config(AIN0_4V_860_START), read_conversion(0x0010)];
    let mut s = Session::new(
        ain0_4v_860(),
        init_traffic(previous, None, AIN0_4V_860_IDLE),
        traffic,
        &[138_889, 1_317],
    );
    s.measure().unwrap();
    s.finish();
}

// ---- ALERT/RDY ----

#[test]
fn comparator_thresholds_are_written_before_the_config_that_enables_them() {
    let config = Config {
        alert: Alert::Comparator(Comparator {
            kind: ComparatorKind::Window,
            low: Voltage::from_nanovolts(-500_000_000),
            high: Voltage::from_nanovolts(1_500_000_000),
            polarity: Polarity::ActiveHigh,
            latching: true,
            queue: Queue::Two,
        }),
        ..Config::single_shot(
            Scan::single(Input::Ain0Ain1),
            FullScale::V2_048,
            DataRate::Sps128,
        )
    };
    // −0.5 V / 62.5 µV = −8000 = E0C0h; 1.5 V = 24000 = 5DC0h.
    // AIN0–AIN1, ±2.048 V, single-shot, 128 SPS, window, active high, latching, queue 01.
    let idle = 0b0_000_010_1_100_1_1_1_01;
    let s = Session::new(
        config,
        init_traffic(RESET, Some((0xE0C0, 0x5DC0)), idle),
        vec![],
        &[],
    );
    s.finish();

    // The same on an ADS1015: 12-bit codes, left-justified (−500 → E0Ch, 1500 → 5DCh).
    let expected = init_traffic(RESET, Some((0xE0C0, 0x5DC0)), 0b0_000_010_1_000_1_1_1_01);
    let mut i2c = I2cMock::new(&expected);
    let mut adc = Ads1x15::new_ads1015(i2c.clone(), Address::Gnd, config);
    adc.init().unwrap();
    adc.release();
    i2c.done();
}

#[test]
fn conversion_ready_sets_hi_thresh_msb_and_clears_lo_thresh_msb() {
    let config = Config {
        alert: Alert::ConversionReady(Polarity::ActiveLow),
        ..ain0_4v_860()
    };
    // COMP_QUE 00 keeps the pin enabled (anything but 11).
    let idle = 0b0_100_001_1_111_0_0_0_00;
    let traffic = vec![write_config(idle | 0x8000), read_conversion(0x0001)];
    let mut s = Session::new(
        config,
        init_traffic(RESET, Some((0x0000, 0x8000)), idle),
        traffic,
        &[1_317],
    );
    s.measure().unwrap();
    s.finish();
}

// ---- errors ----

#[test]
fn a_device_that_does_not_keep_its_config_is_not_an_ads1x15() {
    let expected = vec![
        I2c::write_read(ADDR, vec![0x01], be(0x0000)),
        write_config(AIN0_4V_860_IDLE),
        I2c::read(ADDR, be(0x00A0)), // e.g. a temperature sensor's register
    ];
    let mut i2c = I2cMock::new(&expected);
    let mut adc = Ads1x15::new_ads1115(i2c.clone(), Address::Gnd, ain0_4v_860());
    let err = adc.init().unwrap_err();
    assert_eq!(
        err,
        Error::NotAds1x15 {
            wrote: AIN0_4V_860_IDLE,
            read: 0x00A0
        }
    );
    assert_eq!(err.kind(), SensorErrorKind::Identity);
    assert!(err.to_string().contains("0x00A0"), "{err}");
    assert_eq!(adc.measure(&mut NoopDelay), Err(Error::NotInitialized));
    adc.release();
    i2c.done();
}

#[test]
fn nack_is_a_bus_error_and_the_pointer_is_written_again_after_it() {
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let config = Config {
        mode: Mode::Continuous,
        ..ain0_4v_860()
    };
    let traffic = vec![
        write_config(0b0_100_001_0_111_0_0_0_11),
        read_conversion(0x0100),
        I2c::read(ADDR, be(0x0101)).with_error(nack),
        // After an error the pointer is unknown: it is sent again.
        read_conversion(0x0102),
        I2c::read(ADDR, be(0x0103)),
    ];
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317],
    );
    s.measure().unwrap();
    let err = s.measure().unwrap_err();
    assert_eq!(err, Error::Bus(nack));
    assert_eq!(err.kind(), SensorErrorKind::Bus);
    assert_eq!(s.measure().unwrap()[0].1, 0x102);
    assert_eq!(s.measure().unwrap()[0].1, 0x103);
    s.finish();
}

#[test]
fn ads1015_results_with_low_bits_set_are_errors_not_readings() {
    let config = Config::single_shot(
        Scan::single(Input::Ain0),
        FullScale::V2_048,
        DataRate::Sps3300,
    );
    // DR 110 is 3300 SPS on the ADS1015: 1 / (0.9 · 3300) = 337 µs.
    let idle = 0b0_100_010_1_110_0_0_0_11;
    let traffic = vec![
        write_config(idle | 0x8000),
        read_conversion(0x1238),
        write_config(idle | 0x8000),
        read_conversion(0x1230),
    ];
    let expected = [init_traffic(0x8583, None, idle), traffic].concat();
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(362), Delay::delay_us(362)]);
    let mut adc = Ads1x15::new_ads1015(i2c.clone(), Address::Gnd, config);
    adc.init().unwrap();
    let err = adc.measure(&mut delay).unwrap_err();
    assert_eq!(err, Error::Implausible(Input::Ain0));
    assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    // 123h = 291 codes of 1 mV.
    let sample = adc.measure(&mut delay).unwrap().as_slice()[0];
    assert_eq!((sample.code, sample.voltage.raw()), (291, 291_000_000));
    adc.release();
    i2c.done();
    delay.done();
}

#[test]
fn set_config_rejects_what_the_chip_lacks_and_writes_nothing() {
    let mut s = Session::new(
        ain0_4v_860(),
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        vec![],
        &[],
    );
    let ads1015_rate = Config {
        data_rate: DataRate::Sps3300,
        ..ain0_4v_860()
    };
    assert!(matches!(
        s.adc.set_config(ads1015_rate),
        Err(Error::UnsupportedConfig(_))
    ));
    let beyond_range = Config {
        alert: Alert::Comparator(Comparator {
            kind: ComparatorKind::Traditional,
            low: Voltage::from_nanovolts(0),
            high: Voltage::from_nanovolts(5_000_000_000),
            polarity: Polarity::ActiveLow,
            latching: false,
            queue: Queue::One,
        }),
        ..ain0_4v_860()
    };
    let err = s.adc.set_config(beyond_range).unwrap_err();
    assert_eq!(err.kind(), SensorErrorKind::Config);
    assert_eq!(s.adc.config(), &ain0_4v_860());
    s.finish();
}

// ---- common interface ----

#[test]
fn sensor_interface_lists_one_volt_channel_per_input() {
    let config = Config::single_shot(
        Scan::new(&[Input::Ain0, Input::Ain0Ain1]).unwrap(),
        FullScale::V4_096,
        DataRate::Sps860,
    );
    let start = |mux: u16| (0b1_000_001_1_111_0_0_0_11) | (mux << 12);
    let traffic = vec![
        write_config(start(0b100)),
        read_conversion(0x2000),
        write_config(start(0b000)),
        read_conversion(0xF000),
    ];
    let mut s = Session::new(
        config,
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        traffic,
        &[1_317, 1_317],
    );
    let names: Vec<_> = s.adc.channels().iter().map(|c| (c.name, c.unit)).collect();
    assert_eq!(names, vec![("ain0", Unit::Volt), ("ain0_ain1", Unit::Volt)]);
    // Two single-shot conversions of 1317 µs.
    assert_eq!(s.adc.min_interval().as_micros(), 2 * 1_317);
    let reading = Sensor::read(&mut s.adc, &mut s.delay).unwrap();
    // 2000h = 8192 · 125 µV = 1.024 V; F000h = −4096 · 125 µV = −0.512 V.
    assert_eq!(reading.values(), &[1.024, -0.512]);
    s.finish();
}

#[test]
fn min_interval_in_continuous_mode_is_one_period_for_one_input() {
    let one = Ads1x15::new_ads1115(
        I2cMock::new(&[]),
        Address::Gnd,
        Config {
            mode: Mode::Continuous,
            ..ain0_4v_860()
        },
    );
    assert_eq!(one.min_interval().as_micros(), 1_292);
    one.release().done();
    let two = Ads1x15::new_ads1115(
        I2cMock::new(&[]),
        Address::Gnd,
        Config {
            mode: Mode::Continuous,
            inputs: Scan::new(&[Input::Ain0, Input::Ain1]).unwrap(),
            ..ain0_4v_860()
        },
    );
    assert_eq!(two.min_interval().as_micros(), 2 * 2 * 1_292);
    two.release().done();
}

#[test]
fn async_api_sends_the_same_traffic() {
    let expected = [
        init_traffic(RESET, None, AIN0_4V_860_IDLE),
        vec![write_config(AIN0_4V_860_START), read_conversion(0x4000)],
    ]
    .concat();
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(1_317)]);
    let mut adc = Ads1x15Async::new_ads1115(i2c.clone(), Address::Gnd, ain0_4v_860());
    embassy_futures::block_on(async {
        adc.init().await.unwrap();
        let samples = adc.measure(&mut delay).await.unwrap();
        assert_eq!(samples.as_slice()[0].voltage.raw(), 2_048_000_000);
    });
    adc.release();
    i2c.done();
    delay.done();
}
