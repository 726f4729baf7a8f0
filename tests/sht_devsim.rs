//! The SHT3x and SHT4x drivers against the devsim chip model: round trips across the sensors'
//! range, the bus cost and virtual time of a reading, periodic mode, the heaters, and every
//! injected fault with recovery afterwards.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_devsim::sht::{Climate, ShtModel, Signal, Timing};
use edgewise_devsim::{Device, Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::sensor::{ErrorKind as SensorErrorKind, Sensor, SensorError};
use edgewise_sensors::sht::{
    Error, HeaterPulse, MeasurementsPerSecond, Repeatability, Sht3x, Sht3xAddress, Sht3xAsync,
    Sht3xConfig, Sht3xMode, Sht4x, Sht4xAddress, Sht4xAsync, Sht4xConfig, Word,
};
use edgewise_sensors::units::Quantity;
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x44;
const NACK: ErrorKind = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
const REPEATABILITIES: [Repeatability; 3] = [
    Repeatability::High,
    Repeatability::Medium,
    Repeatability::Low,
];

fn bus_with(chip: ShtModel) -> (SimI2cBus, Device<ShtModel>, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let handle = bus.attach(ADDR, chip);
    let delay = bus.clock().delay();
    (bus, handle, delay)
}

fn sht3x(
    chip: ShtModel,
    config: Sht3xConfig,
) -> (SimI2cBus, Device<ShtModel>, Sht3x<SimI2cBus>, SimDelay) {
    let (bus, handle, mut delay) = bus_with(chip);
    let mut sensor = Sht3x::new(bus.clone(), Sht3xAddress::Low, config);
    sensor.init(&mut delay).expect("init on a healthy chip");
    (bus, handle, sensor, delay)
}

fn sht4x(
    chip: ShtModel,
    config: Sht4xConfig,
) -> (SimI2cBus, Device<ShtModel>, Sht4x<SimI2cBus>, SimDelay) {
    let (bus, handle, mut delay) = bus_with(chip);
    let mut sensor = Sht4x::new(bus.clone(), Sht4xAddress::A, config);
    sensor.init(&mut delay).expect("init on a healthy chip");
    (bus, handle, sensor, delay)
}

fn single_shot(repeatability: Repeatability) -> Sht3xConfig {
    Sht3xConfig {
        repeatability,
        mode: Sht3xMode::SingleShot,
    }
}

/// −40…125 °C (the specified range of both families) and 0…100 %RH.
fn climates() -> impl Iterator<Item = Climate> {
    (0..=33).map(|step| Climate {
        temperature: -40.0 + 5.0 * f64::from(step),
        humidity: f64::from(step * 3).min(100.0),
    })
}

/// The chip's word resolution (175 / 65535 °C, 100 or 125 / 65535 %RH) rounded twice (chip,
/// then driver to 0.001), so half an LSB plus half a milli-unit.
fn within_resolution(m: edgewise_sensors::sht::Measurement, climate: Climate, rh_span: f64) {
    let dt = (f64::from(m.temperature.value()) - climate.temperature).abs();
    let dh = (f64::from(m.humidity.value()) - climate.humidity).abs();
    assert!(
        dt <= 175.0 / 65_535.0 / 2.0 + 0.0005,
        "{climate:?}: T off by {dt}"
    );
    assert!(
        dh <= rh_span / 65_535.0 / 2.0 + 0.0005,
        "{climate:?}: RH off by {dh}"
    );
}

#[test]
fn sht3x_round_trip_across_the_range_at_every_repeatability() {
    for repeatability in REPEATABILITIES {
        let (_bus, chip, mut sensor, mut delay) =
            sht3x(ShtModel::sht3x(), single_shot(repeatability));
        for climate in climates() {
            chip.with(|c| c.set_climate(climate));
            within_resolution(sensor.measure(&mut delay).unwrap(), climate, 100.0);
        }
    }
}

#[test]
fn sht4x_round_trip_across_the_range_at_every_repeatability() {
    for repeatability in REPEATABILITIES {
        let (_bus, chip, mut sensor, mut delay) =
            sht4x(ShtModel::sht4x(), Sht4xConfig { repeatability });
        for climate in climates() {
            chip.with(|c| c.set_climate(climate));
            within_resolution(sensor.measure(&mut delay).unwrap(), climate, 125.0);
        }
    }
}

#[test]
fn a_reading_waits_exactly_the_datasheet_maximum_and_costs_two_transactions() {
    // SHT3x table 4 and the SHT4x timing table: maximum measurement durations, µs.
    let sht3x_max = [15_000u64, 6_000, 4_000];
    let sht4x_max = [8_300u64, 4_500, 1_600];
    for ((repeatability, t3), t4) in REPEATABILITIES.into_iter().zip(sht3x_max).zip(sht4x_max) {
        // A part at the edge of its specification: the read lands exactly at its maximum time.
        let slow = ShtModel::sht3x().with_timing(Timing::Maximum);
        let (bus, chip, mut sensor, delay) = sht3x(slow, single_shot(repeatability));
        let before = bus.stats_for(ADDR);
        delay.reset_counters();
        sensor.measure(&mut delay.clone()).unwrap();
        let cost = bus.stats_for(ADDR).since(&before);
        assert_eq!(delay.waited_ns(), t3 * 1_000, "{repeatability:?}");
        assert_eq!(delay.calls(), 1);
        assert_eq!(
            (
                cost.transactions,
                cost.bytes_written,
                cost.bytes_read,
                cost.errors
            ),
            (2, 2, 6, 0)
        );
        assert_eq!(chip.with(|c| c.measurements()), 1);

        let slow = ShtModel::sht4x().with_timing(Timing::Maximum);
        let (bus, _chip, mut sensor, delay) = sht4x(slow, Sht4xConfig { repeatability });
        let before = bus.stats_for(ADDR);
        delay.reset_counters();
        sensor.measure(&mut delay.clone()).unwrap();
        let cost = bus.stats_for(ADDR).since(&before);
        assert_eq!(delay.waited_ns(), t4 * 1_000, "{repeatability:?}");
        assert_eq!(
            (cost.transactions, cost.bytes_written, cost.bytes_read),
            (2, 1, 6)
        );
    }
}

#[test]
fn init_waits_the_reset_times_a_slow_part_needs() {
    // SHT3x: break 1 ms + t_SR 1.5 ms; SHT4x: t_SR 1 ms + serial 1 ms. A slow part refuses
    // its address until then, so a shorter wait would fail init.
    let (bus, _chip, mut delay) = bus_with(ShtModel::sht3x().with_timing(Timing::Maximum));
    let mut sensor = Sht3x::new(bus.clone(), Sht3xAddress::Low, Sht3xConfig::default());
    let status = sensor.init(&mut delay).unwrap();
    assert!(status.reset_detected());
    assert_eq!(delay.waited_ns(), 2_500_000);
    assert_eq!(bus.stats_for(ADDR).errors, 0);

    let (bus, chip, mut delay) = bus_with(ShtModel::sht4x().with_timing(Timing::Maximum));
    let mut sensor = Sht4x::new(bus.clone(), Sht4xAddress::A, Sht4xConfig::default());
    assert_eq!(sensor.init(&mut delay).unwrap(), chip.with(|c| c.serial()));
    assert_eq!(delay.waited_ns(), 2_000_000);
    assert_eq!(bus.stats_for(ADDR).errors, 0);
}

#[test]
fn sht3x_periodic_mode_fetches_once_per_period_without_waiting() {
    let config = Sht3xConfig {
        repeatability: Repeatability::High,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::Two),
    };
    let signal = Signal::Diurnal {
        mean: Climate::default(),
        temperature_swing: 5.0,
        period_s: 60.0,
    };
    let (bus, chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x().with_signal(signal), config);
    assert!(chip.with(|c| c.is_periodic()));
    delay.reset_counters();
    let first = sensor.measure(&mut delay).unwrap();
    assert_eq!(
        delay.waited_ns(),
        15_000_000,
        "first result: one measurement time"
    );
    // Faster than 2 per second: nothing new, reported as such.
    let err = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(err, Error::NoNewData);
    assert_eq!(err.kind(), SensorErrorKind::NoNewData);
    // Once per period: a fresh result each time, no waiting, 2 transactions, 8 bytes.
    let mut last = first;
    for _ in 0..20 {
        delay.delay_ms(500);
        let before = bus.stats_for(ADDR);
        delay.reset_counters();
        let m = sensor.measure(&mut delay).unwrap();
        assert_eq!(delay.waited_ns(), 0);
        let cost = bus.stats_for(ADDR).since(&before);
        assert_eq!((cost.transactions, cost.bytes()), (2, 8));
        assert_ne!(m, last, "the diurnal signal moves between periods");
        last = m;
    }
    // power_down stops the chip; the next reading restarts it.
    sensor.power_down().unwrap();
    assert!(!chip.with(|c| c.is_periodic()));
    delay.delay_ms(10);
    sensor.measure(&mut delay).unwrap();
    assert!(chip.with(|c| c.is_periodic()));
}

#[test]
fn sht3x_heater_warms_the_sensor_and_dries_its_reading() {
    let (_bus, chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x(), Sht3xConfig::default());
    let cold = sensor.measure(&mut delay).unwrap();
    sensor.set_heater(true).unwrap();
    assert!(sensor.status().unwrap().heater_on());
    delay.delay_ms(30_000);
    let warm = sensor.measure(&mut delay).unwrap();
    let rise = warm.temperature.celsius() - cold.temperature.celsius();
    assert!((3.0..5.0).contains(&rise), "heater rise {rise} °C");
    assert!(warm.humidity.percent() < cold.humidity.percent() - 5.0);
    sensor.set_heater(false).unwrap();
    assert!(!sensor.status().unwrap().heater_on());
    delay.delay_ms(30_000);
    let cooled = sensor.measure(&mut delay).unwrap();
    assert!((cooled.temperature.celsius() - cold.temperature.celsius()).abs() < 0.01);
    assert!(!chip.with(|c| c.heater_on()));
}

#[test]
fn sht4x_heater_pulse_returns_the_heated_reading_then_the_sensor_cools() {
    let (_bus, _chip, mut sensor, delay) = sht4x(ShtModel::sht4x(), Sht4xConfig::default());
    delay.reset_counters();
    let hot = sensor
        .heat_and_measure(HeaterPulse::strongest(), &mut delay.clone())
        .unwrap();
    assert_eq!(
        delay.waited_ns(),
        1_100_000_000,
        "the pulse's maximum length"
    );
    assert!(hot.temperature.celsius() > 60.0, "{}", hot.temperature);
    assert!(hot.humidity.percent() < 10.0, "{}", hot.humidity);
    let mut d = delay.clone();
    d.delay_ms(10_000); // the datasheet's 10 % duty cycle after a 1 s pulse
    let after = sensor.measure(&mut d).unwrap();
    assert!((after.temperature.celsius() - 21.5).abs() < 0.01);
    assert!((after.humidity.percent() - 45.0).abs() < 0.01);
}

#[test]
fn noise_has_roughly_the_datasheet_repeatability() {
    // SHT3x low repeatability: 0.15 °C and 0.21 %RH (3σ).
    let (_bus, _chip, mut sensor, mut delay) = sht3x(
        ShtModel::sht3x().with_noise(9),
        single_shot(Repeatability::Low),
    );
    let readings: Vec<_> = (0..400)
        .map(|_| sensor.measure(&mut delay).unwrap())
        .collect();
    let sigma = |values: Vec<f64>| {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    };
    let t = sigma(
        readings
            .iter()
            .map(|m| f64::from(m.temperature.celsius()))
            .collect(),
    );
    let h = sigma(
        readings
            .iter()
            .map(|m| f64::from(m.humidity.percent()))
            .collect(),
    );
    assert!((0.035..0.065).contains(&t), "σ_T {t}");
    assert!((0.05..0.09).contains(&h), "σ_RH {h}");
}

#[test]
fn async_round_trips() {
    let (bus, chip, mut delay) = bus_with(ShtModel::sht3x());
    chip.with(|c| {
        c.set_climate(Climate {
            temperature: -10.0,
            humidity: 80.0,
        })
    });
    let mut sensor = Sht3xAsync::new(bus.clone(), Sht3xAddress::Low, Sht3xConfig::default());
    let m = embassy_futures::block_on(async {
        sensor.init(&mut delay).await.unwrap();
        sensor.measure(&mut delay).await.unwrap()
    });
    assert!((m.temperature.celsius() + 10.0).abs() < 0.002);
    assert!((m.humidity.percent() - 80.0).abs() < 0.002);
    assert_eq!(delay.waited_ns(), (1_000 + 1_500 + 15_000) * 1_000);

    let (bus, _chip, mut delay) = bus_with(ShtModel::sht4x().with_serial(0xCAFE_F00D));
    let mut sensor = Sht4xAsync::new(bus.clone(), Sht4xAddress::A, Sht4xConfig::default());
    let serial = embassy_futures::block_on(async {
        let serial = sensor.init(&mut delay).await.unwrap();
        sensor.measure(&mut delay).await.unwrap();
        serial
    });
    assert_eq!(serial, 0xCAFE_F00D);
}

#[test]
fn serial_numbers_and_the_sensor_trait() {
    let (_bus, chip, mut sensor, mut delay) = sht3x(
        ShtModel::sht3x().with_serial(0x0123_4567),
        Sht3xConfig::default(),
    );
    assert_eq!(sensor.serial_number(&mut delay).unwrap(), 0x0123_4567);
    assert_eq!(chip.with(|c| c.dropped_commands()), 0);
    let reading = Sensor::read(&mut sensor, &mut delay).unwrap();
    assert_eq!(reading.values().len(), 2);
    assert!((reading.values()[0] - 21.5).abs() < 0.002);
    assert!((reading.values()[1] - 45.0).abs() < 0.002);

    // In periodic mode the chip refuses the serial command; the driver stops it first and
    // the next reading restarts it.
    let periodic = Sht3xConfig {
        repeatability: Repeatability::Low,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::Four),
    };
    sensor.set_config(periodic, &mut delay).unwrap();
    assert!(chip.with(|c| c.is_periodic()));
    assert_eq!(sensor.serial_number(&mut delay).unwrap(), 0x0123_4567);
    assert!(!chip.with(|c| c.is_periodic()));
    assert!(sensor.measure(&mut delay).is_ok());
    assert!(chip.with(|c| c.is_periodic()));
    assert_eq!(chip.with(|c| c.dropped_commands()), 0);
}

// ---- faults: each gives the matching error, and the next reading works again ----

#[test]
fn nack_is_a_bus_error_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x(), Sht3xConfig::default());
    bus.inject(ADDR, Fault::Nack, Times::Once);
    let err = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(err, Error::Bus(NACK));
    assert_eq!(err.kind(), SensorErrorKind::Bus);
    assert!(sensor.measure(&mut delay).is_ok());

    let (bus, _chip, mut sensor, mut delay) = sht4x(ShtModel::sht4x(), Sht4xConfig::default());
    bus.inject(ADDR, Fault::Nack, Times::Once);
    assert_eq!(sensor.measure(&mut delay), Err(Error::Bus(NACK)));
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn missing_chip_fails_init_with_a_nack() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let mut sensor = Sht3x::new(bus.clone(), Sht3xAddress::High, Sht3xConfig::default());
    assert_eq!(sensor.init(&mut bus.clock().delay()), Err(Error::Bus(NACK)));
    let mut sensor = Sht4x::new(bus.clone(), Sht4xAddress::C, Sht4xConfig::default());
    assert_eq!(sensor.init(&mut bus.clock().delay()), Err(Error::Bus(NACK)));
    assert_eq!(
        sensor.measure(&mut bus.clock().delay()),
        Err(Error::NotInitialized)
    );
}

#[test]
fn corrupted_bytes_are_crc_errors_naming_the_word_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x(), Sht3xConfig::default());
    let corrupt = |index: usize| {
        bus.inject(ADDR, Fault::CorruptRead { index, mask: 0x04 }, Times::Once);
    };
    // Bytes 0-2: temperature and its CRC; 3-5: humidity and its CRC.
    for (index, word) in [
        (0, Word::Temperature),
        (1, Word::Temperature),
        (2, Word::Temperature),
        (3, Word::Humidity),
        (5, Word::Humidity),
    ] {
        corrupt(index);
        let err = sensor.measure(&mut delay).unwrap_err();
        assert!(
            matches!(err, Error::Crc { word: w, .. } if w == word),
            "byte {index}: {err:?}"
        );
        assert_eq!(err.kind(), SensorErrorKind::Corrupt);
    }
    corrupt(1);
    assert!(matches!(
        sensor.status(),
        Err(Error::Crc {
            word: Word::Status,
            ..
        })
    ));
    corrupt(4);
    assert!(matches!(
        sensor.serial_number(&mut delay),
        Err(Error::Crc {
            word: Word::SerialLow,
            ..
        })
    ));
    let m = sensor.measure(&mut delay).unwrap();
    assert!((m.temperature.celsius() - 21.5).abs() < 0.002);

    let (bus, _chip, mut sensor, mut delay) = sht4x(ShtModel::sht4x(), Sht4xConfig::default());
    bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 4,
            mask: 0x80,
        },
        Times::Once,
    );
    assert!(matches!(
        sensor.measure(&mut delay),
        Err(Error::Crc {
            word: Word::Humidity,
            ..
        })
    ));
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn stuck_busy_is_not_ready_after_the_maximum_time_then_recovery() {
    let (_bus, chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x(), Sht3xConfig::default());
    chip.with(|c| c.set_stuck_busy(true));
    let err = sensor.measure(&mut delay).unwrap_err();
    assert_eq!(err, Error::NotReady { waited_us: 15_000 });
    assert_eq!(err.kind(), SensorErrorKind::NotReady);
    chip.with(|c| c.set_stuck_busy(false));
    assert!(sensor.measure(&mut delay).is_ok());

    let config = Sht4xConfig {
        repeatability: Repeatability::Low,
    };
    let (_bus, chip, mut sensor, mut delay) = sht4x(ShtModel::sht4x(), config);
    chip.with(|c| c.set_stuck_busy(true));
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::NotReady { waited_us: 1_600 })
    );
    chip.with(|c| c.set_stuck_busy(false));
    assert!(sensor.measure(&mut delay).is_ok());
}

#[test]
fn power_cycled_chip_in_periodic_mode_reports_no_new_data_until_init() {
    let config = Sht3xConfig {
        repeatability: Repeatability::Medium,
        mode: Sht3xMode::Periodic(MeasurementsPerSecond::Ten),
    };
    let (bus, _chip, mut sensor, mut delay) = sht3x(ShtModel::sht3x(), config);
    sensor.measure(&mut delay).unwrap();
    // A supply dip: a fresh part answers, idle in single shot, with its reset bit set.
    bus.attach(ADDR, ShtModel::sht3x());
    delay.delay_ms(100);
    assert_eq!(sensor.measure(&mut delay), Err(Error::NoNewData));
    assert!(sensor.status().unwrap().reset_detected());
    sensor.init(&mut delay).unwrap();
    assert!(!sensor.status().unwrap().reset_detected());
    delay.delay_ms(100);
    assert!(sensor.measure(&mut delay).is_ok());
}
