//! The INA226 driver against the register-level devsim chip: the datasheet example end to
//! end, round trips across the measurement range, the bus cost and the virtual time of a
//! reading per conversion time and averaging, noise and averaging, every ALERT function on
//! the simulated pin, and every injected fault with recovery afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_devsim::ina219::Ina219Model;
use edgewise_devsim::ina226::{
    ConversionTime as ChipTiming, Ina226Model, Load, PinLevel, Waveform,
};
use edgewise_devsim::{Device, Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::ina226::{
    Address, Alert, AlertFunction, Averaging, Calibration, Channel, Completion, Config,
    ConversionTime, Error, Ina226, Ina226Async, Measurement, Mode, Polarity,
};
use edgewise_sensors::sensor::{Sensor, SensorInfo};
use edgewise_sensors::units::{Current, Power, Quantity, Voltage};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x40;

fn setup(
    chip: Ina226Model,
    config: Config,
) -> (SimI2cBus, Device<Ina226Model>, Ina226<SimI2cBus>, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let handle = bus.attach(ADDR, chip);
    let delay = bus.clock().delay();
    let mut sensor = Ina226::new(bus.clone(), Address::default(), config);
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

/// SBOS547 table 6-1's conditions: 2 mΩ, Current_LSB = 1 mA (CAL = A00h), 1.1 ms, 1 sample.
fn datasheet_config(mode: Mode) -> Config {
    Config {
        mode,
        ..Config::new(Calibration::from_current_lsb(2_000, 1_000_000).unwrap())
    }
}

fn values(m: &Measurement) -> (f64, f64, f64, f64) {
    (
        f64::from(m.bus_voltage.value()),
        f64::from(m.shunt_voltage.value()),
        f64::from(m.current.value()),
        f64::from(m.power.value()),
    )
}

fn now(bus: &SimI2cBus) -> u64 {
    bus.clock().now_ns()
}

#[test]
fn datasheet_example_end_to_end() {
    let chip = Ina226Model::new(0.002).with_load(dc(12.0, 10.0));
    for mode in [Mode::Triggered, Mode::Continuous] {
        let (_bus, _chip, mut sensor, mut delay) = setup(chip.clone(), datasheet_config(mode));
        let m = sensor.measure(&mut delay).unwrap();
        // Table 6-1: 20 mV, 11.98 V, 10.0 A, 4792 × 25 mW = 119.8 W, to the register LSB.
        assert_eq!(m.shunt_voltage.raw(), 20_000_000);
        assert_eq!(m.bus_voltage.raw(), 11_980_000_000);
        assert_eq!(m.current.raw(), 10_000_000);
        assert_eq!(m.power.raw(), 119_800_000);
        assert!(!m.alert);
    }
}

#[test]
fn round_trip_across_current_and_voltage_range() {
    // Breakout board: 0.1 Ω, ±81.92 mV → ±819 mA, Current_LSB 25 µA, Power_LSB 625 µW.
    let (_bus, chip, mut sensor, mut delay) = setup(Ina226Model::default(), Config::default());
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for supply in [0.5, 3.3, 5.0, 12.0, 24.0, 36.0] {
        for step in -15..=15 {
            // −0.794 … +0.799 A in uneven steps, so values fall between register LSBs.
            let amps = 0.05309 * f64::from(step) + 0.002_137;
            chip.with(|c| c.set_load(dc(supply, amps)));
            let m = sensor.measure(&mut delay).unwrap();
            let (bus_v, shunt_v, current, power) = values(&m);
            // VBUS is wired to the load side of the shunt.
            let expected_bus = supply - amps * 0.1;
            let errors = (
                (bus_v - expected_bus).abs(),
                (current - amps).abs(),
                (power - (amps * expected_bus).abs()).abs(),
            );
            // Bus: half a 1.25 mV LSB. Shunt: half a 2.5 µV LSB. Current: the shunt's half
            // LSB (12.5 µA) plus the current register's truncation (one 25 µA LSB). Power:
            // the current error times the voltage, the bus half LSB times the current, and
            // the truncation of one 625 µW power LSB.
            assert!(
                errors.0 <= 0.000_625 + 1e-6,
                "{supply} V {amps} A: bus {}",
                errors.0
            );
            assert!((shunt_v - amps * 0.1).abs() <= 1.25e-6 + 1e-9, "{shunt_v}");
            assert!(
                errors.1 <= 37.5e-6 + 1e-6,
                "{supply} V {amps} A: current {}",
                errors.1
            );
            assert!(
                errors.2 <= 37.5e-6 * expected_bus + 0.000_625 * amps.abs() + 0.000_625 + 1e-6,
                "{supply} V {amps} A: power {}",
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
fn triggered_reading_costs_six_transactions_and_exactly_the_conversion_time() {
    for (ct, averaging, typical_us, max_us) in [
        (ConversionTime::Us140, Averaging::X1, 2u32 * 140, 2u32 * 154),
        (ConversionTime::Us1100, Averaging::X1, 2 * 1_100, 2 * 1_210),
        (
            ConversionTime::Us588,
            Averaging::X4,
            4 * 2 * 588,
            4 * 2 * 646,
        ),
        (
            ConversionTime::Us332,
            Averaging::X64,
            64 * 2 * 332,
            64 * 2 * 365,
        ),
        (
            ConversionTime::Us8244,
            Averaging::X1024,
            1024 * 2 * 8_244,
            1024 * 2 * 9_068,
        ),
    ] {
        for (completion, wait_us) in [
            (Completion::PollReady, typical_us),
            (Completion::WaitMax, max_us),
        ] {
            let config = Config {
                bus_conversion_time: ct,
                shunt_conversion_time: ct,
                averaging,
                completion,
                ..Config::default()
            };
            let (bus, _chip, mut sensor, delay) = setup(Ina226Model::default(), config);
            let before = bus.stats_for(ADDR);
            delay.reset_counters();
            sensor.measure(&mut delay.clone()).unwrap();
            let cost = bus.stats_for(ADDR).since(&before);
            let what = format!("{ct:?} {averaging:?} {completion:?}");
            assert_eq!(cost.transactions, 6, "{what}: trigger + 5 reads");
            assert_eq!(
                (cost.bytes_written, cost.bytes_read),
                (3 + 5, 5 * 2),
                "{what}"
            );
            assert_eq!(delay.waited_ns(), u64::from(wait_us) * 1_000, "{what}");
            // One delay call (DelayNs splits waits beyond u32 nanoseconds, 4.29 s, itself).
            if wait_us < 4_000_000 {
                assert_eq!(delay.calls(), 1, "{what}");
            }
            assert_eq!(sensor.min_interval().as_micros(), u128::from(max_us));
        }
    }
}

#[test]
fn mixed_conversion_times_add_up() {
    // Section 6.4.1: shunt 4.156 ms with bus 588 µs, one sample: about 4.7 ms.
    let config = Config {
        shunt_conversion_time: ConversionTime::Us4156,
        bus_conversion_time: ConversionTime::Us588,
        ..Config::default()
    };
    let (_bus, _chip, mut sensor, delay) = setup(Ina226Model::default(), config);
    delay.reset_counters();
    sensor.measure(&mut delay.clone()).unwrap();
    assert_eq!(delay.waited_ns(), 4_744_000);
}

#[test]
fn a_slow_part_is_polled_until_the_maximum_time() {
    let slow = Ina226Model::default().with_conversion_time(ChipTiming::Maximum);
    let (bus, _chip, mut sensor, delay) = setup(slow, Config::default());
    let before = bus.stats_for(ADDR);
    delay.reset_counters();
    sensor.measure(&mut delay.clone()).unwrap();
    // 2200 µs typical, then steps of 55 µs until 2420 µs: 4 extra Mask/Enable reads.
    assert_eq!(delay.waited_ns(), 2_420_000);
    assert_eq!(bus.stats_for(ADDR).since(&before).transactions, 6 + 4);
}

#[test]
fn continuous_mode_waits_once_and_follows_a_step_in_the_load() {
    let chip = Ina226Model::default().with_load(Load {
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
    assert_eq!(delay.waited_ns(), 2_200_000);
    assert!(
        (first.current.value() - 0.1).abs() < 5e-5,
        "{}",
        first.current
    );
    // Later readings do not wait: five reads each.
    let before = bus.stats_for(ADDR);
    delay.reset_counters();
    sensor.measure(&mut d).unwrap();
    assert_eq!(delay.waited_ns(), 0);
    assert_eq!(bus.stats_for(ADDR).since(&before).transactions, 5);
    // After the step, the latest conversion shows the new current.
    d.delay_ms(12);
    let after = sensor.measure(&mut d).unwrap();
    assert!(
        (after.current.value() - 0.5).abs() < 5e-5,
        "{}",
        after.current
    );
}

fn spread(readings: &[f64]) -> f64 {
    let mean = readings.iter().sum::<f64>() / readings.len() as f64;
    (readings.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / readings.len() as f64).sqrt()
}

/// The spread of 200 current readings of a noisy 0.4 A load.
fn current_spread(ct: ConversionTime, averaging: Averaging) -> f64 {
    let noisy = Load {
        supply_volts: 12.0,
        current: Waveform::Dc(0.4),
        noise_amps: 0.01,
    };
    let config = Config {
        shunt_conversion_time: ct,
        averaging,
        ..Config::default()
    };
    let chip = Ina226Model::default().with_load(noisy).with_noise(3);
    let (_bus, _chip, mut sensor, mut delay) = setup(chip, config);
    let currents: Vec<f64> = (0..200)
        .map(|_| f64::from(sensor.measure(&mut delay).unwrap().current.value()))
        .collect();
    spread(&currents)
}

#[test]
fn averaging_and_longer_conversions_reduce_noise() {
    let base = current_spread(ConversionTime::Us1100, Averaging::X1);
    // 10 mA RMS at 1.1 ms, estimated from 200 readings.
    assert!((0.008..0.012).contains(&base), "{base}");
    // 128 samples: √128 ≈ 11 times less; allow for the estimate's own scatter.
    let averaged = current_spread(ConversionTime::Us1100, Averaging::X128);
    assert!(averaged < base / 6.0, "{averaged} vs {base}");
    // 8.244 ms instead of 1.1 ms: √7.5 ≈ 2.7 times less.
    let slow = current_spread(ConversionTime::Us8244, Averaging::X1);
    assert!(slow < base / 2.0 && slow > base / 4.0, "{slow} vs {base}");
}

#[test]
fn averaging_smooths_a_square_wave_load() {
    // A device drawing 0.8 A for 20 % of every 1 ms: 1024 samples over 2.25 s report close
    // to the 0.16 A mean.
    let square = Load {
        supply_volts: 5.0,
        current: Waveform::Square {
            low: 0.0,
            high: 0.8,
            period_s: 0.001,
            duty: 0.2,
        },
        noise_amps: 0.0,
    };
    let config = Config {
        averaging: Averaging::X1024,
        ..Config::default()
    };
    let (_bus, _chip, mut sensor, mut delay) =
        setup(Ina226Model::default().with_load(square), config);
    let m = sensor.measure(&mut delay).unwrap();
    assert!((m.current.value() - 0.16).abs() < 0.01, "{}", m.current);
}

#[test]
fn common_interface_reads_the_channels_in_order() {
    let chip = Ina226Model::default().with_load(dc(5.0, 0.25));
    let (_bus, _chip, mut sensor, mut delay) = setup(chip, Config::default());
    let names: Vec<_> = sensor.channels().iter().map(|c| c.name).collect();
    assert_eq!(names, ["bus_voltage", "shunt_voltage", "current", "power"]);
    let r = Sensor::read(&mut sensor, &mut delay).unwrap();
    let v = r.values();
    assert!(
        (v[0] - 4.975).abs() < 0.001 && (v[1] - 0.025).abs() < 2e-6,
        "{v:?}"
    );
    assert!(
        (v[2] - 0.25).abs() < 5e-5 && (v[3] - 1.24375).abs() < 0.001,
        "{v:?}"
    );
}

#[test]
fn power_down_stops_conversions_until_the_next_reading() {
    let config = Config {
        mode: Mode::Continuous,
        ..Config::default()
    };
    let (bus, chip, mut sensor, mut delay) = setup(Ina226Model::default(), config);
    sensor.measure(&mut delay).unwrap();
    Sensor::power_down(&mut sensor).unwrap();
    assert!(chip.with(|c| c.is_powered_down()));
    let conversions_by_now = |bus: &SimI2cBus| {
        chip.with(|c| {
            c.conversion_ready(now(bus));
            c.conversions()
        })
    };
    let conversions = conversions_by_now(&bus);
    delay.delay_ms(100);
    assert_eq!(conversions_by_now(&bus), conversions);
    chip.with(|c| c.set_load(dc(5.0, 0.3)));
    let m = sensor.measure(&mut delay).unwrap();
    assert!(!chip.with(|c| c.is_powered_down()));
    assert!((m.current.value() - 0.3).abs() < 5e-5, "{}", m.current);
}

#[test]
fn async_round_trip() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Ina226Model::new(0.002).with_load(dc(12.0, 10.0)));
    let mut delay = bus.clock().delay();
    let mut sensor = Ina226Async::new(
        bus.clone(),
        Address::default(),
        datasheet_config(Mode::Triggered),
    );
    let m = embassy_futures::block_on(async {
        sensor.init().await.unwrap();
        sensor.measure(&mut delay).await.unwrap()
    });
    assert_eq!(m.current.raw(), 10_000_000);
    assert_eq!(delay.waited_ns(), 2_200_000);
}

// ---- the ALERT pin ----

fn with_alert(alert: Alert, mode: Mode) -> Config {
    Config {
        alert,
        mode,
        ..Config::default()
    }
}

#[test]
fn latched_over_current_catches_an_excursion_between_readings() {
    // 0.3 A with a 0.6 A burst for the first 5 ms of every 50 ms; alert above 0.5 A.
    let bursty = Load {
        supply_volts: 5.0,
        current: Waveform::Square {
            low: 0.3,
            high: 0.6,
            period_s: 0.050,
            duty: 0.1,
        },
        noise_amps: 0.0,
    };
    let over_current = |latch| Alert {
        function: Some(AlertFunction::OverCurrent(Current::from_microamps(500_000))),
        conversion_ready: false,
        polarity: Polarity::ActiveLow,
        latch,
    };
    for latch in [true, false] {
        let config = Config {
            shunt_conversion_time: ConversionTime::Us140,
            bus_conversion_time: ConversionTime::Us140,
            ..with_alert(over_current(latch), Mode::Continuous)
        };
        let chip = Ina226Model::default().with_load(bursty);
        let (bus, chip, mut sensor, mut delay) = setup(chip, config);
        // 0.5 A through 0.1 Ω = 50 mV = 20000 counts (4E20h); SOL, and LEN if latched.
        let mask_enable = 0x8000 | u16::from(latch);
        assert_eq!(
            chip.with(|c| (c.mask_enable(), c.alert_limit())),
            (mask_enable, 0x4E20)
        );
        // Read at 20 ms, in the quiet part after the first burst.
        delay.delay_ms(20);
        assert_eq!(chip.with(|c| c.alert_assertions(now(&bus))), 1);
        let pin = chip.with(|c| c.alert_pin(now(&bus)));
        let m = sensor.measure(&mut delay).unwrap();
        assert!((m.current.value() - 0.3).abs() < 5e-5, "{}", m.current);
        if latch {
            // The pin and AFF held the burst; the reading reported it and released them.
            assert_eq!(pin, PinLevel::Low);
            assert!(m.alert);
            assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
        } else {
            // Transparent: both followed the current back below the limit.
            assert_eq!(pin, PinLevel::High);
            assert!(!m.alert);
        }
    }
}

#[test]
fn bus_under_voltage_alert_follows_a_sagging_supply_active_high() {
    let alert = Alert {
        function: Some(AlertFunction::BusUnderVoltage(Voltage::from_nanovolts(
            4_750_000_000,
        ))),
        conversion_ready: false,
        polarity: Polarity::ActiveHigh,
        latch: false,
    };
    let chip = Ina226Model::default().with_load(dc(5.0, 0.1));
    let (bus, chip, mut sensor, mut delay) = setup(chip, with_alert(alert, Mode::Continuous));
    assert!(!sensor.measure(&mut delay).unwrap().alert);
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::Low);
    chip.with(|c| c.set_load(dc(4.6, 0.1)));
    delay.delay_ms(3);
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
    let m = sensor.measure(&mut delay).unwrap();
    assert!(m.alert && m.bus_voltage.value() < 4.75, "{m:?}");
    // Transparent: the read does not release the pin while the supply stays low.
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
}

#[test]
fn over_power_alert_in_triggered_mode() {
    let alert = Alert {
        function: Some(AlertFunction::OverPower(Power::from_microwatts(2_000_000))),
        latch: true,
        ..Alert::default()
    };
    let chip = Ina226Model::default().with_load(dc(12.0, 0.1));
    let (_bus, chip, mut sensor, mut delay) = setup(chip, with_alert(alert, Mode::Triggered));
    // 2 W at 625 µW per LSB is 3200 counts, POL.
    assert_eq!(
        chip.with(|c| (c.mask_enable(), c.alert_limit())),
        (0x0801, 3200)
    );
    assert!(!sensor.measure(&mut delay).unwrap().alert); // 1.2 W
    chip.with(|c| c.set_load(dc(12.0, 0.2)));
    let m = sensor.measure(&mut delay).unwrap(); // 2.4 W
    assert!(m.alert && m.power.value() > 2.0, "{m:?}");
}

#[test]
fn conversion_ready_pulls_the_pin_until_the_reading() {
    let alert = Alert {
        conversion_ready: true,
        ..Alert::default()
    };
    let (bus, chip, mut sensor, mut delay) =
        setup(Ina226Model::default(), with_alert(alert, Mode::Continuous));
    sensor.measure(&mut delay).unwrap();
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
    // The next conversion completes 2.2 ms later and pulls the pin low.
    delay.delay_us(2_199);
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
    delay.delay_us(1);
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::Low);
    let flags = sensor.read_flags().unwrap();
    assert!(flags.conversion_ready && !flags.alert && !flags.math_overflow);
    assert_eq!(chip.with(|c| c.alert_pin(now(&bus))), PinLevel::High);
}

// ---- faults: each gives the matching error, and the next reading works again ----

fn assert_recovers(sensor: &mut Ina226<SimI2cBus>, delay: &mut SimDelay) {
    let m = sensor.measure(delay).unwrap();
    assert!((m.current.value() - 0.12).abs() < 5e-5, "{}", m.current);
}

#[test]
fn nack_then_recovery() {
    let (bus, _chip, mut sensor, mut delay) = setup(Ina226Model::default(), Config::default());
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
    let mut sensor = Ina226::new(bus.clone(), Address::default(), Config::default());
    assert!(matches!(
        sensor.init(),
        Err(Error::Bus(ErrorKind::NoAcknowledge(_)))
    ));
}

#[test]
fn an_ina219_at_the_address_is_not_taken_for_an_ina226_and_is_left_alone() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let ina219 = bus.attach(ADDR, Ina219Model::default());
    let mut sensor = Ina226::new(bus.clone(), Address::default(), Config::default());
    assert_eq!(
        sensor.init(),
        Err(Error::UnknownDevice {
            manufacturer_id: 0,
            die_id: 0
        })
    );
    // Nothing was written: the INA219 keeps its power-on configuration.
    assert_eq!(ina219.with(|c| c.config()), 0x399F);
    assert_eq!(bus.stats_for(ADDR).bytes_written, 2);
}

#[test]
fn a_later_die_revision_is_accepted() {
    let (_bus, _chip, mut sensor, mut delay) = setup(
        Ina226Model::default().with_die_id(0x2261),
        Config::default(),
    );
    assert_recovers(&mut sensor, &mut delay);
}

/// Flips `mask` in byte `index` of the `n`-th register read of a reading (0 = Mask/Enable,
/// 1 = shunt, 2 = bus, 3 = current, 4 = power): earlier reads take no-op corruptions.
fn corrupt_read(bus: &SimI2cBus, n: usize, index: usize, mask: u8) {
    for _ in 0..n {
        bus.inject(ADDR, Fault::CorruptRead { index: 0, mask: 0 }, Times::Once);
    }
    bus.inject(ADDR, Fault::CorruptRead { index, mask }, Times::Once);
}

#[test]
fn corrupted_registers_are_implausible_then_recovery() {
    // Default load 0.12 A at 5 V: shunt 4800, bus 3990, current 4800, power 957.
    let (bus, _chip, mut sensor, mut delay) = setup(Ina226Model::default(), Config::default());
    let cases = [
        // Mask/Enable bit 9 is unused.
        ((0, 0, 0x02), Error::Implausible(Channel::MaskEnable)),
        // Mask/Enable SOL set although none was written; the calibration is intact.
        ((0, 0, 0x80), Error::Implausible(Channel::MaskEnable)),
        // Shunt voltage sign flipped: the current register disagrees.
        ((1, 0, 0x80), Error::Implausible(Channel::Current)),
        // Bus voltage bit 15 is always 0.
        ((2, 0, 0x80), Error::Implausible(Channel::BusVoltage)),
        // Bus voltage +5.12 V: power no longer matches current × voltage.
        ((2, 0, 0x10), Error::Implausible(Channel::Power)),
        // Current register high bits.
        ((3, 0, 0x40), Error::Implausible(Channel::Current)),
        // Power register high bits.
        ((4, 0, 0x20), Error::Implausible(Channel::Power)),
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
}

#[test]
fn stuck_conversion_is_not_ready_then_recovery() {
    let (_bus, chip, mut sensor, mut delay) = setup(Ina226Model::default(), Config::default());
    chip.with(|c| c.set_stuck(true));
    assert_eq!(
        sensor.measure(&mut delay),
        Err(Error::NotReady { waited_us: 2_420 })
    );
    chip.with(|c| c.set_stuck(false));
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn overcurrent_is_a_math_overflow_then_recovery() {
    // Current_LSB 10 µA (CAL = 5120) reaches only 328 mA, though 81.92 mV across 0.1 Ω
    // allows 819 mA.
    let config = Config::new(Calibration::from_current_lsb(100_000, 10_000).unwrap());
    let (bus, chip, mut sensor, mut delay) = setup(Ina226Model::default(), config);
    chip.with(|c| c.set_load(dc(5.0, 0.5)));
    assert_eq!(sensor.measure(&mut delay), Err(Error::MathOverflow));
    assert!(chip.with(|c| c.math_overflow(now(&bus))));
    chip.with(|c| c.set_load(dc(5.0, 0.12)));
    assert_recovers(&mut sensor, &mut delay);
}

#[test]
fn brown_out_loses_the_calibration_and_init_restores_it() {
    let alert = Alert {
        function: Some(AlertFunction::OverCurrent(Current::from_microamps(700_000))),
        latch: true,
        ..Alert::default()
    };
    for mode in [Mode::Triggered, Mode::Continuous] {
        for alert in [Alert::default(), alert] {
            let (_bus, chip, mut sensor, mut delay) =
                setup(Ina226Model::default(), with_alert(alert, mode));
            assert_recovers(&mut sensor, &mut delay);
            let programmed = chip.with(|c| (c.mask_enable(), c.alert_limit()));
            chip.with(|c| c.brown_out());
            delay.delay_ms(3);
            assert_eq!(
                sensor.measure(&mut delay),
                Err(Error::CalibrationLost { found: 0 }),
                "{mode:?} {alert:?}"
            );
            assert_eq!(sensor.measure(&mut delay), Err(Error::NotInitialized));
            sensor.init().unwrap();
            assert_eq!(chip.with(|c| c.calibration()), 2048);
            assert_eq!(
                chip.with(|c| (c.mask_enable(), c.alert_limit())),
                programmed
            );
            assert_recovers(&mut sensor, &mut delay);
        }
    }
}

#[test]
fn power_cycled_chip_is_recovered_by_init() {
    let (bus, _chip, mut sensor, mut delay) = setup(Ina226Model::default(), Config::default());
    bus.attach(ADDR, Ina226Model::default());
    sensor.init().unwrap();
    assert_recovers(&mut sensor, &mut delay);
}
