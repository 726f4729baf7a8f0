//! The exact register traffic of the BME280 driver, against the datasheet's protocol
//! (embedded-hal-mock: any extra, missing or different transaction fails the test).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Register values are written grouped by field (osrs_t, osrs_p, mode), as in the datasheet.
#![allow(clippy::unusual_byte_groupings)]

use edgewise_sensors::blocking::Blocking;
use edgewise_sensors::bme280::{
    Address, Bme280, Bme280Async, Calibration, Channel, Completion, Config, Error, Filter,
    I2cInterface, Measurement, Mode, Oversampling, Standby, Variant,
};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as Spi};

const ADDR: u8 = 0x76;

/// The datasheet worked-example trimming with humidity parameters of a real part.
fn calibration() -> Calibration {
    Calibration {
        dig_h1: 75,
        dig_h2: 354,
        dig_h4: 339,
        dig_h6: 30,
        ..Calibration::DATASHEET_EXAMPLE
    }
}

/// Data registers 0xF7..0xFE holding the datasheet example: adc_P = 415148, adc_T = 519888,
/// and adc_H = 30000.
fn example_data() -> Vec<u8> {
    let p: u32 = 415_148;
    let t: u32 = 519_888;
    let h: u16 = 30_000;
    vec![
        (p >> 12) as u8,
        (p >> 4) as u8,
        ((p & 0xF) << 4) as u8,
        (t >> 12) as u8,
        (t >> 4) as u8,
        ((t & 0xF) << 4) as u8,
        (h >> 8) as u8,
        h as u8,
    ]
}

/// init over I²C: id, reset, 2 ms start-up, im_update check, both calibration blocks, and the
/// configuration in one transaction of (register, value) pairs.
fn i2c_init(id: u8, config: &Config) -> Vec<I2c> {
    let (tp, h) = calibration().to_registers();
    let ctrl_meas = (config.temperature.code() << 5) | (config.pressure.code() << 2);
    let mode_bits = if config.mode == Mode::Normal { 0b11 } else { 0 };
    let standby = config.standby.code(Variant::Bme280).unwrap();
    let config_reg = (standby << 5) | (config.filter.code() << 2);
    let mut t = vec![
        I2c::write_read(ADDR, vec![0xD0], vec![id]),
        I2c::write(ADDR, vec![0xE0, 0xB6]),
        I2c::write_read(ADDR, vec![0xF3], vec![0x00]),
        I2c::write_read(ADDR, vec![0x88], tp.to_vec()),
    ];
    if id == 0x60 {
        t.push(I2c::write_read(ADDR, vec![0xE1], h.to_vec()));
        t.push(I2c::write(
            ADDR,
            vec![
                0xF4,
                ctrl_meas,
                0xF5,
                config_reg,
                0xF2,
                config.humidity.code(),
                0xF4,
                ctrl_meas | mode_bits,
            ],
        ));
    } else {
        t.push(I2c::write(
            ADDR,
            vec![
                0xF4,
                ctrl_meas,
                0xF5,
                config_reg,
                0xF4,
                ctrl_meas | mode_bits,
            ],
        ));
    }
    t
}

type MockSensor = Bme280<I2cInterface<Blocking<I2cMock>>>;

/// A driver initialised on a mock bus that expects exactly the init traffic for chip `id`,
/// then `after_init`, with the 2 ms start-up delay followed by `delays_us`.
struct Session {
    i2c: I2cMock,
    delay: CheckedDelay,
    sensor: MockSensor,
    variant: Variant,
}

impl Session {
    fn new(id: u8, config: Config, after_init: Vec<I2c>, delays_us: &[u32]) -> Self {
        let mut expected = i2c_init(id, &config);
        expected.extend(after_init);
        let i2c = I2cMock::new(&expected);
        let delays: Vec<Delay> = std::iter::once(2_000)
            .chain(delays_us.iter().copied())
            .map(Delay::delay_us)
            .collect();
        let mut delay = CheckedDelay::new(&delays);
        let mut sensor = Bme280::new_i2c(i2c.clone(), Address::Primary, config);
        let variant = sensor.init(&mut delay).unwrap();
        Self {
            i2c,
            delay,
            sensor,
            variant,
        }
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

fn start_forced(ctrl_meas: u8) -> I2c {
    I2c::write(ADDR, vec![0xF4, ctrl_meas])
}

fn read_data(data: Vec<u8>) -> I2c {
    I2c::write_read(ADDR, vec![0xF7], data)
}

#[test]
fn init_then_forced_reading_is_two_transactions_and_the_datasheet_wait() {
    // One write to start, one 8-byte burst read: ctrl registers are never read back.
    let traffic = vec![start_forced(0b001_001_01), read_data(example_data())];
    let mut s = Session::new(0x60, Config::weather_monitoring(), traffic, &[9_300]);
    assert_eq!(s.variant, Variant::Bme280);
    assert_eq!(s.sensor.calibration(), Some(&calibration()));
    let m = s.measure().unwrap();
    assert_eq!(m.temperature.raw(), 25_080); // 25.08 °C, datasheet
    let pa = m.pressure.unwrap().pascals();
    assert!((pa - 100_653.27).abs() <= 1.0, "{pa}");
    assert!(m.humidity.is_some());
    s.finish();
}

#[test]
fn wait_follows_oversampling_from_x1_to_x16() {
    let config = Config {
        temperature: Oversampling::X16,
        pressure: Oversampling::X16,
        humidity: Oversampling::X16,
        ..Config::default()
    };
    let traffic = vec![start_forced(0b101_101_01), read_data(example_data())];
    // 1.25 + 2.3·16 + (2.3·16 + 0.575) · 2 = 112.8 ms, not the 40 ms a fixed wait would give.
    let mut s = Session::new(0x60, config, traffic, &[112_800]);
    s.measure().unwrap();
    s.finish();
}

#[test]
fn bmp280_is_detected_and_never_asked_for_humidity() {
    let traffic = vec![
        start_forced(0b001_001_01),
        read_data(example_data()[..6].to_vec()),
    ];
    // BMP280: 1.25 + 2.3 + 2.875 ms, no humidity term.
    let mut s = Session::new(0x58, Config::weather_monitoring(), traffic, &[6_425]);
    assert_eq!(s.variant, Variant::Bmp280);
    let m = s.measure().unwrap();
    assert_eq!(m.humidity, None);
    assert_eq!(m.temperature.raw(), 25_080);
    s.finish();
}

#[test]
fn normal_mode_reads_latest_result_in_one_transaction() {
    let traffic = vec![read_data(example_data()), read_data(example_data())];
    // Only the first reading after entering normal mode waits for a conversion.
    let mut s = Session::new(0x60, Config::indoor_navigation(), traffic, &[46_100]);
    s.measure().unwrap();
    s.measure().unwrap();
    s.finish();
}

#[test]
fn poll_status_waits_typical_time_then_polls_measuring() {
    let config = Config {
        completion: Completion::PollStatus,
        ..Config::weather_monitoring()
    };
    let traffic = vec![
        start_forced(0b001_001_01),
        I2c::write_read(ADDR, vec![0xF3], vec![0x08]), // still measuring
        I2c::write_read(ADDR, vec![0xF3], vec![0x00]),
        read_data(example_data()),
    ];
    // typical 8 ms, then steps of (9.3 − 8) / 4 = 325 µs
    let mut s = Session::new(0x60, config, traffic, &[8_000, 325]);
    s.measure().unwrap();
    s.finish();
}

#[test]
fn stuck_measuring_bit_is_not_ready_at_the_maximum_time() {
    let config = Config {
        completion: Completion::PollStatus,
        ..Config::weather_monitoring()
    };
    let mut traffic = vec![start_forced(0b001_001_01)];
    traffic.extend((0..5).map(|_| I2c::write_read(ADDR, vec![0xF3], vec![0x08])));
    let mut s = Session::new(0x60, config, traffic, &[8_000, 325, 325, 325, 325]);
    assert_eq!(s.measure(), Err(Error::NotReady { waited_us: 9_300 }));
    s.finish();
}

#[test]
fn wrong_chip_id_is_named() {
    let mut i2c = I2cMock::new(&[I2c::write_read(ADDR, vec![0xD0], vec![0x61])]);
    let mut sensor = Bme280::new_i2c(i2c.clone(), Address::Primary, Config::default());
    let err = sensor.init(&mut NoopDelay).unwrap_err();
    assert_eq!(err, Error::UnknownChipId(0x61));
    assert!(err.to_string().contains("0x61"));
    assert_eq!(sensor.measure(&mut NoopDelay), Err(Error::NotInitialized));
    i2c.done();
}

#[test]
fn nack_is_a_bus_error_and_the_driver_recovers() {
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let traffic = vec![
        start_forced(0b001_001_01).with_error(nack),
        start_forced(0b001_001_01),
        read_data(example_data()),
    ];
    let mut s = Session::new(0x60, Config::weather_monitoring(), traffic, &[9_300]);
    assert_eq!(s.measure(), Err(Error::Bus(nack)));
    assert!(s.measure().is_ok());
    s.finish();
}

#[test]
fn reserved_bits_and_impossible_values_are_errors_not_readings() {
    let mut reserved = example_data();
    reserved[5] |= 0x01; // temp_xlsb bits 3:0 always read 0
    let mut scorching = example_data();
    scorching[3] = 0xFF; // temperature MSB: far above 85 °C
    let traffic = vec![
        start_forced(0b001_001_01),
        read_data(reserved),
        start_forced(0b001_001_01),
        read_data(scorching),
    ];
    let mut s = Session::new(0x60, Config::weather_monitoring(), traffic, &[9_300, 9_300]);
    for _ in 0..2 {
        assert_eq!(s.measure(), Err(Error::Implausible(Channel::Temperature)));
    }
    s.finish();
}

#[test]
fn set_config_is_one_transaction_and_rejects_what_the_chip_lacks() {
    let config = Config::weather_monitoring();
    let traffic = vec![I2c::write(
        ADDR,
        vec![
            0xF4,
            0b010_101_00,
            0xF5,
            0b110_011_00,
            0xF2,
            0b001,
            0xF4,
            0b010_101_11,
        ],
    )];
    let mut s = Session::new(0x60, config, traffic, &[]);
    let normal = Config {
        temperature: Oversampling::X2,
        pressure: Oversampling::X16,
        filter: Filter::X8,
        standby: Standby::Ms10,
        mode: Mode::Normal,
        ..config
    };
    s.sensor.set_config(normal).unwrap();
    let bmp_only = Config {
        standby: Standby::Ms4000,
        ..config
    };
    assert!(matches!(
        s.sensor.set_config(bmp_only),
        Err(Error::UnsupportedConfig(_))
    ));
    let no_temperature = Config {
        temperature: Oversampling::Skipped,
        ..config
    };
    assert!(matches!(
        s.sensor.set_config(no_temperature),
        Err(Error::UnsupportedConfig(_))
    ));
    s.finish();
}

#[test]
fn spi_sets_the_read_bit_and_clears_it_on_writes() {
    let config = Config::weather_monitoring();
    let (tp, h) = calibration().to_registers();
    let framed = |inner: Vec<Spi<u8>>| {
        let mut t = vec![Spi::transaction_start()];
        t.extend(inner);
        t.push(Spi::transaction_end());
        t
    };
    let read =
        |reg: u8, data: Vec<u8>| framed(vec![Spi::write_vec(vec![reg]), Spi::read_vec(data)]);
    let write = |bytes: Vec<u8>| framed(vec![Spi::write_vec(bytes)]);
    let expected: Vec<Spi<u8>> = [
        read(0xD0, vec![0x60]),
        write(vec![0x60, 0xB6]), // 0xE0 with bit 7 cleared
        read(0xF3, vec![0x00]),
        read(0x88, tp.to_vec()),
        read(0xE1, h.to_vec()),
        write(vec![0x74, 0x24, 0x75, 0xA0, 0x72, 0x01, 0x74, 0x24]),
        write(vec![0x74, 0x25]),
        read(0xF7, example_data()),
    ]
    .concat();
    let mut spi = SpiMock::new(&expected);
    let mut sensor = Bme280::new_spi(spi.clone(), config);
    sensor.init(&mut NoopDelay).unwrap();
    assert_eq!(
        sensor.measure(&mut NoopDelay).unwrap().temperature.raw(),
        25_080
    );
    sensor.release();
    spi.done();
}

#[test]
fn async_api_sends_the_same_traffic() {
    let config = Config::weather_monitoring();
    let mut expected = i2c_init(0x60, &config);
    expected.extend([start_forced(0b001_001_01), read_data(example_data())]);
    let mut i2c = I2cMock::new(&expected);
    let mut delay = CheckedDelay::new(&[Delay::delay_us(2_000), Delay::delay_us(9_300)]);
    let mut sensor = Bme280Async::new_i2c(i2c.clone(), Address::Primary, config);
    embassy_futures::block_on(async {
        sensor.init(&mut delay).await.unwrap();
        let m = sensor.measure(&mut delay).await.unwrap();
        assert_eq!(m.temperature.raw(), 25_080);
    });
    i2c.done();
    delay.done();
}
