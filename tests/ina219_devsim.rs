//! The INA219 driver against the register-level devsim chip: round trips across the
//! measurement range, the datasheet example end to end, the bus cost and the virtual time of a
//! reading, resolution and averaging, and every injected fault with recovery afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_devsim::ina219::{ConversionTime, Ina219Model, Load, Waveform};
use edgewise_devsim::{Device, Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::ina219::{
    Adc, Address, BusRange, Calibration, Channel, Completion, Config, Error, Ina219, Ina219Async,
    Measurement, Mode, ShuntRange,
};
use edgewise_sensors::sensor::{Sensor, SensorInfo};
use edgewise_sensors::units::Quantity;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x40;

fn setup(
    chip: Ina219Model,
    config: Config,
) -> (SimI2cBus, Device<Ina219Model>, Ina219<SimI2cBus>, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let handle = bus.attach(ADDR, chip);
    let delay = bus.clock().delay();
    let mut sensor = Ina219::new(bus.clone(), Address::default(), config);
    sensor.init().expect("init on a healthy simulated chip");
    (bus, handle, sensor, delay)
}

fn dc(supply_volts: f64, amps: f64) -> Load {
    Load {
        supply_volts,
        current: Waveform::Dc(amps),
        noise_amps: 0.0,
    }
}

/// SBOS448F table 3's conditions: 2 mΩ, ±40 mV, 16 V, Current_LSB = 1 mA.
fn datasheet_config(mode: Mode) -> Config {
    Config {
        bus_range: BusRange::V16,
        shunt_range: ShuntRange::Mv40,
        mode,
        ..Config::new(Calibration::from_current_lsb(2_000, 1_000_000).unwrap())
    }
}

fn volts(m: &Measurement) -> (f64, f64, f64, f64) {
    (
        f64::from(m.bus_voltage.value()),
        f64::from(m.shunt_voltage.value()),
        f64::from(m.current.value()),
        f64::from(m.power.value()),
    )
}

#[test]
fn datasheet_example_end_to_end() {
    let chip = Ina219Model::new(0.002).with_load(dc(12.0, 10.0));
    for mode in [Mode::Triggered, Mode::Continuous] {
        let (_bus, _chip, mut sensor, mut delay) = setup(chip.clone(), datasheet_config(mode));
        let m = sensor.measure(&mut delay).unwrap();
        // Table 3: 20 mV, 11.98 V, 10.0 A, 119.8 W, to the exact register LSB.
        assert_eq!(m.shunt_voltage.raw(), 20_000_000);
        assert_eq!(m.bus_voltage.raw(), 11_980_000_000);
        assert_eq!(m.current.raw(), 10_000_000);
        assert_eq!(m.power.raw(), 119_800_000);
    }
}

#[test]
fn round_trip_across_current_and_voltage_range() {
    // Breakout board: 0.1 Ω, ±320 mV, 32 V, 100 µA current LSB.
    let (_bus, chip, mut sensor, mut delay) = setup(Ina219Model::default(), Config::default());
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for supply in [3.3, 5.0, 12.0, 24.0, 25.9991] {
        for step in -15..=15 {
            // −2.97 … +2.99 A in uneven steps, so values fall between register LSBs.
            let amps = 0.19873 * f64::from(step) + 0.007317;
            chip.with(|c| c.set_load(dc(supply, amps)));
            let (bus_v, shunt_v, current, power) = volts(&sensor.measure(&mut delay).unwrap());
            // The bus voltage is measured at IN−, after the shunt drop.
            let expected_bus = supply - amps * 0.1;
            let errors = (
                (bus_v - expected_bus).abs(),
                (current - amps).abs(),
                (power - (amps * expected_bus).abs()).abs(),
            );
            // Bus: half a 4 mV LSB. Shunt: half a 10 µV LSB. Current: the shunt's half LSB
            // (50 µA) plus the current register's truncation (one 100 µA LSB). Power: the
            // current error times the voltage, the bus half LSB times the current, and the
            // truncation of one 2 mW power LSB.
            assert!(
                errors.0 <= 0.002 + 1e-6,
                "{supply} V {amps} A: bus off by {}",
                errors.0
            );
            assert!((shunt_v - amps * 0.1).abs() <= 5e-6 + 1e-9, "{shunt_v}");
            assert!(
                errors.1 <= 150e-6 + 1e-9,
                "{supply} V {amps} A: current off by {}",
                errors.1
            );
            assert!(
                errors.2 <= 150e-6 * expected_bus + 0.002 * amps.abs() + 0.002 + 1e-6,
                "{supply} V {amps} A: power off by {}",
                errors.2
            );
            worst = (
                worst.0.max(errors.0),
                worst.1.max(errors.1),
                worst.2.max(errors.2),
            );
        }
    }
    println!("worst |error| (V, A, W): {worst:?}");
}

#[test]
fn triggered_reading_costs_five_transactions_and_exactly_the_conversion_time() {
    for (adc, typical_us, max_us) in [
        (Adc::Bits9, 2u32 * 84, 2u32 * 93),
        (Adc::Bits12, 2 * 532, 2 * 586),
        (Adc::Samples8, 2 * 4_260, 2 * 8 * 586),
        (Adc::Samples128, 2 * 68_100, 2 * 128 * 586),
    ] {
        for (completion, wait_us) in [
            (Completion::PollReady, typical_us),
            (Completion::WaitMax, max_us),
        ] {
            let config = Config {
                bus_adc: adc,
                shunt_adc: adc,
                completion,
                ..Config::default()
            };
            let (bus, _chip, mut sensor, delay) = setup(Ina219Model::default(), config);
            let before = bus.stats_for(ADDR);
            delay.reset_counters();
            sensor.measure(&mut delay.clone()).unwrap();
            let cost = bus.stats_for(ADDR).since(&before);
            assert_eq!(
                cost.transactions, 5,
                "{adc:?} {completion:?}: trigger + 4 reads"
            );
            assert_eq!((cost.bytes_written, cost.bytes_read), (3 + 4, 4 * 2));
            assert_eq!(
                delay.waited_ns(),
                u64::from(wait_us) * 1_000,
                "{adc:?} {completion:?}"
            );
            assert_eq!(delay.calls(), 1);
            assert_eq!(sensor.min_interval().as_micros(), u128::from(max_us));
        }
    }
}

#[test]
fn a_slow_part_is_polled_until_the_maximum_time() {
    let slow = Ina219Model::default().with_conversion_time(ConversionTime::Maximum);
    let (bus, _chip, mut sensor, delay) = setup(slow, Config::default());
    let before = bus.stats_for(ADDR);
    delay.reset_counters();
    sensor.measure(&mut delay.clone()).unwrap();
    // 1064 µs typical, then steps of 27 µs until 1172 µs: 4 extra bus voltage reads.
    assert_eq!(delay.waited_ns(), 1_172_000);
    assert_eq!(bus.stats_for(ADDR).since(&before).transactions, 5 + 4);
}

#[test]
fn continuous_mode_waits_once_and_follows_a_step_in_the_load() {
    let chip = Ina219Model::default().with_load(Load {
        supply_volts: 5.0,
        current: Waveform::Step {
            before: 0.1,
            after: 0.5,
            at_s: 0.010,
        },
        noise_amps: 0.0,
    });
    let config = Config {
        mode: Mode::Continuous,
        ..Config::default()
    };
    let (bus, _chip, mut sensor, delay) = setup(chip, config);
    let mut d = delay.clone();
    let first = sensor.measure(&mut d).unwrap();
    assert_eq!(delay.waited_ns(), 1_064_000);
    assert!(
        (first.current.value() - 0.1).abs() < 2e-4,
        "{}",
        first.current
    );
    // Later readings do not wait: four reads each.
    let before = bus.stats_for(ADDR);
    delay.reset_counters();
    sensor.measure(&mut d).unwrap();
    assert_eq!(delay.waited_ns(), 0);
    assert_eq!(bus.stats_for(ADDR).since(&before).transactions, 4);
    // After the step, the latest conversion shows the new current.
    embedded_hal::delay::DelayNs::delay_ms(&mut d, 12);
    let after = sensor.measure(&mut d).unwrap();
    assert!(
        (after.current.value() - 0.5).abs() < 2e-4,
        "{}",
        after.current
    );
}

fn spread(readings: &[f64]) -> f64 {
    let mean = readings.iter().sum::<f64>() / readings.len() as f64;
    (readings.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / readings.len() as f64).sqrt()
}

#[test]
fn averaging_reduces_noise_and_smooths_a_square_wave() {
    let noisy = Load {
        supply_volts: 12.0,
        current: Waveform::Dc(1.0),
        noise_amps: 0.05,
    };
    let mut spreads = Vec::new();
    for adc in [Adc::Bits12, Adc::Samples128] {
        let config = Config {
            shunt_adc: adc,
            ..Config::default()
        };
        let chip = Ina219Model::default().with_load(noisy).with_noise(3);
        let (_bus, _chip, mut sensor, mut delay) = setup(chip, config);
        let currents: Vec<f64> = (0..200)
            .map(|_| f64::from(sensor.measure(&mut delay).unwrap().current.value()))
            .collect();
        spreads.push(spread(&currents));
    }
    // 128 samples: √128 ≈ 11 times less noise; allow for the estimate's own scatter.
    assert!(spreads[1] < spreads[0] / 6.0, "{spreads:?}");

    // A device drawing 1 A for 20 % of every 1 ms: single 12-bit samples land anywhere,
    // 128 averaged samples over 68 ms report close to the 0.2 A mean.
    let square = Load {
        supply_volts: 5.0,
        current: Waveform::Square {
            low: 0.0,
            high: 1.0,
            period_s: 0.001,
            duty: 0.2,
        },
        noise_amps: 0.0,
    };
    let config = Config {
        shunt_adc: Adc::Samples128,
        ..Config::default()
    };
    let (_bus, _chip, mut sensor, mut delay) =
        setup(Ina219Model::default().with_load(square), config);
    let m = sensor.measure(&mut delay).unwrap();
    assert!((m.current.value() - 0.2).abs() < 0.02, "{}", m.current);
}

#[test]
fn common_interface_reads_the_channels_in_order() {
    let chip = Ina219Model::default().with_load(dc(5.0, 0.25));
    let (_bus, _chip, mut sensor, mut delay) = setup(chip, Config::default());
    let names: Vec<_> = sensor.channels().iter().map(|c| c.name).collect();
    assert_eq!(names, ["bus_voltage", "shunt_voltage", "current", "power"]);
    let r = Sensor::read(&mut sensor, &mut delay).unwrap();
    let v = r.values();
    assert!(
        (v[0] - 4.975).abs() < 0.003 && (v[1] - 0.025).abs() < 1e-5,
        "{v:?}"
    );
    assert!(
        (v[2] - 0.25).abs() < 2e-4 && (v[3] - 1.244).abs() < 0.004,
        "{v:?}"
    );
}

#[test]
fn power_down_stops_conversions_until_the_next_reading() {
    let config = Config {
        mode: Mode::Continuous,
        ..Config::default()
    };
    let (_bus, chip, mut sensor, mut delay) = setup(Ina219Model::default(), config);
    sensor.measure(&mut delay).unwrap();
    Sensor::power_down(&mut sensor).unwrap();
    assert!(chip.with(|c| c.is_powered_down()));
    let conversions = chip.with(|c| c.conversions());
    embedded_hal::delay::DelayNs::delay_ms(&mut delay, 100);
    assert_eq!(chip.with(|c| c.conversions()), conversions);
    chip.with(|c| c.set_load(dc(5.0, 0.3)));
    let m = sensor.measure(&mut delay).unwrap();
    assert!(!chip.with(|c| c.is_powered_down()));
    assert!((m.current.value() - 0.3).abs() < 2e-4, "{}", m.current);
}

#[test]
fn async_round_trip() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Ina219Model::new(0.002).with_load(dc(12.0, 10.0)));
    let mut delay = bus.clock().delay();
    let mut sensor = Ina219Async::new(
        bus.clone(),
        Address::default(),
        datasheet_config(Mode::Triggered),
    );
    let m = embassy_futures::block_on(async {
        sensor.init().await.unwrap();
        sensor.measure(&mut delay).await.unwrap()
    });
    assert_eq!(m.current.raw(), 10_000_000);
    assert_eq!(delay.waited_ns(), 1_064_000);
}

// ---- faults: each gives the matching error, and the next reading works again ----

fn assert_recovers(sensor: &mut Ina219<SimI2cBus>, delay: &mut SimDelay) {
    let m = sensor.measure(delay).unwrap();
    assert!((m.current.value() - 0.12).abs() < 2e-4, "{}", m.current);
}

#[test]
fn nack_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = setup(Ina219Model::default(), Config::default());
    bus.inject(ADDR, Fault::Nack, Times::Once);
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::Bus(ErrorKind::NoAcknowledge(
            NoAcknowledgeSource::Address
        )))
    );
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn missing_chip_is_a_nack_at_init() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let mut sensor = Ina219::new(bus.clone(), Address::default(), Config::default());
    assert!(matches!(
        sensor.init(),
        Err(Error::Bus(ErrorKind::NoAcknowledge(_)))
    ));
}

/// Flips `mask` in byte `index` of the `n`-th register read (0 = bus voltage, 1 = shunt,
/// 2 = current, 3 = power): earlier reads take no-op corruptions from the queue.
fn corrupt_read(bus: &SimI2cBus, n: usize, index: usize, mask: u8) {
    for _ in 0..n {
        bus.inject(ADDR, Fault::CorruptRead { index: 0, mask: 0 }, Times::Once);
    }
    bus.inject(ADDR, Fault::CorruptRead { index, mask }, Times::Once);
}

#[test]
fn corrupted_registers_are_implausible_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = setup(Ina219Model::default(), Config::default());
    let cases = [
        // Bus voltage LSB byte bit 2 is reserved.
        ((0, 1, 0x04), Error::Implausible(Channel::BusVoltage)),
        // Bus voltage +8.192 V: power no longer matches current × voltage.
        ((0, 0, 0x40), Error::Implausible(Channel::Power)),
        // Shunt voltage sign flipped: the current register disagrees.
        ((1, 0, 0x80), Error::Implausible(Channel::Current)),
        // Current register high bits.
        ((2, 0, 0x10), Error::Implausible(Channel::Current)),
        // Power register high bits.
        ((3, 0, 0x20), Error::Implausible(Channel::Power)),
    ];
    for ((n, index, mask), expected) in cases {
        corrupt_read(&bus, n, index, mask);
        assert_eq!(
            sensor.measure(&mut delay),
            Err(expected),
            "read {n} byte {index} ^ {mask:#x}"
        );
        assert_recovers(&mut sensor, &mut delay);
    }
    // In the ±40 mV range, a shunt register beyond ±4000 counts cannot come from the chip.
    let narrow = Config {
        shunt_range: ShuntRange::Mv40,
        ..Config::default()
    };
    sensor.set_config(narrow).unwrap();
    corrupt_read(&bus, 1, 0, 0x40);
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::Implausible(Channel::ShuntVoltage))
    );
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn stuck_conversion_is_not_ready_then_recovery() {
    let (_bus, chip, mut sensor, mut delay) = setup(Ina219Model::default(), Config::default());
    chip.with(|c| c.set_stuck(true));
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::NotReady { waited_us: 1_172 })
    );
    chip.with(|c| c.set_stuck(false));
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn overcurrent_is_a_math_overflow_then_recovery() {
    // Current_LSB 50 µA reaches only 1.64 A, though ±320 mV across 0.1 Ω allows 3.2 A.
    let config = Config::new(Calibration::from_current_lsb(100_000, 50_000).unwrap());
    let (_bus, chip, mut sensor, mut delay) = setup(Ina219Model::default(), config);
    chip.with(|c| c.set_load(dc(5.0, 2.0)));
    assert_eq!(sensor.measure(&mut delay), Err(Error::MathOverflow));
    chip.with(|c| c.set_load(dc(5.0, 0.12)));
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn brown_out_loses_the_calibration_and_init_restores_it() {
    for mode in [Mode::Triggered, Mode::Continuous] {
        let config = Config {
            mode,
            ..Config::default()
        };
        let (_bus, chip, mut sensor, mut delay) = setup(Ina219Model::default(), config);
        assert_recovers(&mut sensor, &mut delay);
        chip.with(|c| c.brown_out());
        embedded_hal::delay::DelayNs::delay_ms(&mut delay, 2);
        assert_eq!(
            sensor.measure(&mut delay),
            Err(Error::CalibrationLost { found: 0 }),
            "{mode:?}"
        );
        assert_eq!(sensor.measure(&mut delay), Err(Error::NotInitialized));
        sensor.init().unwrap();
        assert_eq!(chip.with(|c| c.calibration()), 4096);
        assert_recovers(&mut sensor, &mut delay);
    }
}

#[test]
fn power_cycled_chip_is_recovered_by_init() {
    let (bus, _chip, mut sensor, mut delay) = setup(Ina219Model::default(), Config::default());
    bus.attach(ADDR, Ina219Model::default());
    sensor.init().unwrap();
    assert_recovers(&mut sensor, &mut delay);
}
