//! The BME280 driver against the register-level devsim chip: round trips across the sensor's
//! range, the bus cost of a reading, and every injected fault with recovery afterwards.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Register values are written grouped by field (osrs_t, osrs_p, mode), as in the datasheet.
#![allow(clippy::unusual_byte_groupings)]

use edgewise_devsim::bme280::{Bme280Model, ConversionTime, Environment};
use edgewise_devsim::{Fault, SimClock, SimDelay, SimI2cBus, SimSpiDevice, Times};
use edgewise_sensors::bme280::{
    Address, Bme280, Bme280Async, CalibrationFault, Channel, Completion, Config, Error, Filter,
    Mode, Oversampling, Variant,
};
use edgewise_sensors::units::Quantity;
use edgewise_tests::bme280_oversampling_everywhere;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x76;

type I2cSensor =
    Bme280<edgewise_sensors::bme280::I2cInterface<edgewise_sensors::blocking::Blocking<SimI2cBus>>>;

fn setup(
    chip: Bme280Model,
    config: Config,
) -> (
    SimI2cBus,
    edgewise_devsim::Device<Bme280Model>,
    I2cSensor,
    SimDelay,
) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let handle = bus.attach(ADDR, chip);
    let mut delay = bus.clock().delay();
    let mut sensor = Bme280::new_i2c(bus.clone(), Address::Primary, config);
    sensor
        .init(&mut delay)
        .expect("init on a healthy simulated chip");
    (bus, handle, sensor, delay)
}

/// Datasheet resolution per oversampling with the filter off (tables 13 and 14): 16 bits at
/// ×1 up to 20 bits at ×16.
fn resolution(osrs: Oversampling) -> (f64, f64) {
    let steps = 1u32 << (20 - (16 + osrs.samples().ilog2()));
    // 0.0003 °C and 0.16 Pa per 20-bit LSB at the datasheet's reference trimming
    (0.0003 * f64::from(steps), 0.16 * f64::from(steps))
}

#[test]
fn round_trip_across_the_full_range() {
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for osrs in [Oversampling::X1, Oversampling::X16] {
        let (bus, chip, mut sensor, mut delay) =
            setup(Bme280Model::bme280(), bme280_oversampling_everywhere(osrs));
        let (t_res, p_res) = resolution(osrs);
        for step in 0..=25 {
            let env = Environment {
                temperature: -40.0 + 5.0 * f64::from(step), // −40 … 85 °C
                pressure: 30_000.0 + 3_200.0 * f64::from(step), // 300 … 1100 hPa
                humidity: f64::from((step * 4).min(100)),   // 0 … 100 %RH
            };
            chip.with(|c| c.set_environment(env));
            let m = sensor.measure(&mut delay).unwrap();
            let dt = (f64::from(m.temperature.value()) - env.temperature).abs();
            let dp = (f64::from(m.pressure.unwrap().value()) - env.pressure).abs();
            let dh = (f64::from(m.humidity.unwrap().value()) - env.humidity).abs();
            worst = (worst.0.max(dt), worst.1.max(dp), worst.2.max(dh));
            // Temperature: output resolution 0.01 °C plus the ADC's. Pressure: one ADC LSB, whose
            // size in Pa grows by up to half away from 25 °C / 1000 hPa where the datasheet
            // quotes it, plus up to 0.47 Pa by which Bosch's integer reference differs from its
            // double reference over the operating range (its t_fine drops the ADC's low bits;
            // measured over a grid of raw values). Both far below the ±12 Pa relative accuracy.
            // Humidity: 16-bit ADC (≈0.008 %RH) plus the output's 1/1024 %RH.
            assert!(
                dt <= 0.01 + t_res,
                "{osrs:?} {env:?}: temperature off by {dt}"
            );
            assert!(
                dp <= 1.5 * p_res + 0.5,
                "{osrs:?} {env:?}: pressure off by {dp} Pa"
            );
            assert!(dh <= 0.02, "{osrs:?} {env:?}: humidity off by {dh} %RH");
        }
        drop(bus);
    }
    println!("worst |error| (°C, Pa, %RH): {worst:?}");
}

#[test]
fn forced_reading_costs_two_transactions_eleven_bytes_and_exactly_t_max() {
    for (osrs, t_max_us) in [(Oversampling::X1, 9_300), (Oversampling::X16, 112_800)] {
        let (bus, chip, mut sensor, delay) =
            setup(Bme280Model::bme280(), bme280_oversampling_everywhere(osrs));
        let before = bus.stats_for(ADDR);
        delay.reset_counters();
        let mut d = delay.clone();
        sensor.measure(&mut d).unwrap();
        let cost = bus.stats_for(ADDR).since(&before);
        assert_eq!(cost.transactions, 2, "one write to start, one burst read");
        assert_eq!((cost.bytes_written, cost.bytes_read), (3, 8));
        assert_eq!(delay.waited_ns(), t_max_us * 1_000);
        assert_eq!(delay.calls(), 1);
        // The chip finished and went back to sleep by itself: nothing left running.
        chip.with(|c| assert!(c.is_sleeping()));
    }
}

#[test]
fn poll_status_finishes_before_t_max_on_a_typical_part() {
    let config = Config {
        completion: Completion::PollStatus,
        ..bme280_oversampling_everywhere(Oversampling::X16)
    };
    let (_bus, _chip, mut sensor, delay) = setup(Bme280Model::bme280(), config);
    delay.reset_counters();
    sensor.measure(&mut delay.clone()).unwrap();
    // typical ×16: 1 + 32 + 32.5 + 32.5 = 98 ms, the first status read already sees it done
    assert_eq!(delay.waited_ns(), 98_000_000);

    // A part at the edge of its specification still finishes within t_max.
    let slow = Bme280Model::bme280().with_conversion_time(ConversionTime::Maximum);
    let (_bus, _chip, mut sensor, delay) = setup(slow, config);
    delay.reset_counters();
    sensor.measure(&mut delay.clone()).unwrap();
    assert_eq!(delay.waited_ns(), 112_800_000);
}

#[test]
fn bmp280_is_detected_and_reports_no_humidity() {
    let (_bus, _chip, mut sensor, mut delay) = setup(Bme280Model::bmp280(), Config::default());
    assert_eq!(sensor.variant(), Some(Variant::Bmp280));
    let m = sensor.measure(&mut delay).unwrap();
    assert_eq!(m.humidity, None);
    assert!((m.temperature.celsius() - 21.5).abs() < 0.02);
}

#[test]
fn normal_mode_with_filter_settles_on_the_environment() {
    let config = Config {
        filter: Filter::X16,
        ..Config::indoor_navigation()
    };
    let (_bus, chip, mut sensor, mut delay) = setup(Bme280Model::bme280().with_noise(7), config);
    chip.with(|c| {
        c.set_environment(Environment {
            temperature: 30.0,
            ..Environment::default()
        })
    });
    // The IIR filter with coefficient 16 needs ~50 cycles to settle after a step.
    for _ in 0..100 {
        embedded_hal::delay::DelayNs::delay_ms(&mut delay, 47);
        sensor.measure(&mut delay).unwrap();
    }
    let m = sensor.measure(&mut delay).unwrap();
    assert!(
        (m.temperature.celsius() - 30.0).abs() < 0.02,
        "{}",
        m.temperature
    );
    // Asleep, the chip measures nothing; the next reading restarts the normal-mode cycle.
    sensor.sleep().unwrap();
    chip.with(|c| assert!(c.is_sleeping()));
    let conversions = chip.with(|c| c.conversions());
    chip.with(|c| {
        c.set_environment(Environment {
            temperature: 30.5,
            ..Environment::default()
        })
    });
    let m = sensor.measure(&mut delay).unwrap();
    chip.with(|c| assert!(!c.is_sleeping() && c.conversions() > conversions));
    assert!(m.temperature.celsius() > 30.0, "{}", m.temperature);
    // Back to forced mode: config is rewritten while asleep, so the chip accepts it.
    sensor.set_config(Config::weather_monitoring()).unwrap();
    assert_eq!(sensor.config().mode, Mode::Forced);
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn spi_round_trip() {
    let clock = SimClock::virtual_clock();
    let spi = SimSpiDevice::new(clock.clone(), Bme280Model::bme280());
    let chip = spi.device();
    let mut delay = clock.delay();
    let mut sensor = Bme280::new_spi(spi.clone(), Config::weather_monitoring());
    sensor.init(&mut delay).unwrap();
    chip.with(|c| {
        c.set_environment(Environment {
            temperature: -12.5,
            pressure: 95_000.0,
            humidity: 80.0,
        })
    });
    let m = sensor.measure(&mut delay).unwrap();
    assert!(
        (m.temperature.celsius() + 12.5).abs() < 0.02,
        "{}",
        m.temperature
    );
    assert!((m.pressure.unwrap().pascals() - 95_000.0).abs() < 3.0);
    assert!((m.humidity.unwrap().percent() - 80.0).abs() < 0.05);
    assert_eq!(spi.stats().transactions, 6 + 2);
}

#[test]
fn async_round_trip() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Bme280Model::bme280());
    let mut delay = bus.clock().delay();
    let mut sensor = Bme280Async::new_i2c(bus.clone(), Address::Primary, Config::default());
    let m = embassy_futures::block_on(async {
        sensor.init(&mut delay).await.unwrap();
        sensor.measure(&mut delay).await.unwrap()
    });
    assert!((m.temperature.celsius() - 21.5).abs() < 0.02);
    assert_eq!(delay.waited_ns(), (2_000 + 9_300) * 1_000);
}

// ---- faults: each gives the matching error, and the next reading works again ----

#[test]
fn nack_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = setup(Bme280Model::bme280(), Config::default());
    bus.inject(ADDR, Fault::Nack, Times::Once);
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::Bus(ErrorKind::NoAcknowledge(
            NoAcknowledgeSource::Address
        )))
    );
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn missing_chip_is_a_nack_at_init() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let mut sensor = Bme280::new_i2c(bus.clone(), Address::Secondary, Config::default());
    let err = sensor.init(&mut bus.clock().delay()).unwrap_err();
    assert!(
        matches!(err, Error::Bus(ErrorKind::NoAcknowledge(_))),
        "{err:?}"
    );
}

#[test]
fn corrupted_bytes_are_implausible_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = setup(Bme280Model::bme280(), Config::default());
    // Byte 3 of the burst is temp_msb: flipping its top bit moves the reading by ~±150 °C.
    bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 3,
            mask: 0x80,
        },
        Times::Once,
    );
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::Implausible(Channel::Temperature))
    );
    // Byte 2 is press_xlsb: a flipped reserved bit.
    bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 2,
            mask: 0x01,
        },
        Times::Once,
    );
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::Implausible(Channel::Pressure))
    );
    let m = sensor.measure(&mut delay).unwrap();
    assert!((m.temperature.celsius() - 21.5).abs() < 0.02);
}

#[test]
fn stuck_busy_is_not_ready_then_recovery() {
    let config = Config {
        completion: Completion::PollStatus,
        ..Config::default()
    };
    let (_bus, chip, mut sensor, mut delay) = setup(Bme280Model::bme280(), config);
    chip.with(|c| c.set_stuck_busy(true));
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::NotReady { waited_us: 9_300 })
    );
    chip.with(|c| c.set_stuck_busy(false));
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn blank_nvm_is_a_calibration_error() {
    let mut chip = Bme280Model::bme280();
    chip.set_blank_nvm(0xFF);
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, chip);
    let mut sensor = Bme280::new_i2c(bus.clone(), Address::Primary, Config::default());
    let err = sensor.init(&mut bus.clock().delay()).unwrap_err();
    assert_eq!(err, Error::Calibration(CalibrationFault::Blank(0xFF)));
    assert!(err.to_string().contains("0xFF"), "{err}");
}

#[test]
fn power_cycled_chip_is_recovered_by_init() {
    let (bus, _chip, mut sensor, mut delay) = setup(Bme280Model::bme280(), Config::default());
    // The chip loses power: a fresh part answers, with reset registers.
    bus.attach(ADDR, Bme280Model::bme280());
    sensor.init(&mut delay).unwrap();
    assert!(sensor.measure(&mut delay).is_ok());
}
