//! The ADS1x15 driver against the register-level devsim chip: round trips across the range of
//! both chips, the bus cost and virtual time of a reading against the datasheet, continuous
//! mode, scans, the ALERT/RDY pin, and every injected fault with recovery afterwards.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_devsim::ads1x15::{Ads1x15Model, AnalogInput, PinLevel};
use edgewise_devsim::{Device, Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::ads1x15::{
    Address, Ads1x15, Ads1x15Async, Alert, Chip, Comparator, ComparatorKind, Completion, Config,
    DataRate, Error, FullScale, Input, Mode, Polarity, Queue, Scan,
};
use edgewise_sensors::sensor::{Sensor, SensorError, SensorInfo};
use edgewise_sensors::units::{Quantity, Voltage};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x48;

struct Rig {
    bus: SimI2cBus,
    chip: Device<Ads1x15Model>,
    adc: Ads1x15<SimI2cBus>,
    delay: SimDelay,
}

impl Rig {
    fn new(model: Ads1x15Model, config: Config) -> Self {
        let chip_kind = match model.chip() {
            edgewise_devsim::ads1x15::Chip::Ads1115 => Chip::Ads1115,
            edgewise_devsim::ads1x15::Chip::Ads1015 => Chip::Ads1015,
        };
        let bus = SimI2cBus::new(SimClock::virtual_clock());
        let chip = bus.attach(ADDR, model);
        let delay = bus.clock().delay();
        let mut adc = Ads1x15::new(bus.clone(), chip_kind, ADDR, config);
        adc.init().expect("init on a healthy simulated chip");
        Self {
            bus,
            chip,
            adc,
            delay,
        }
    }

    fn now(&self) -> u64 {
        self.bus.clock().now_ns()
    }

    fn set(&self, pin: usize, input: AnalogInput) {
        self.chip.with(|c| c.set_input(pin, input));
    }

    fn volts(&mut self, input: Input) -> f64 {
        let sample = self.adc.convert(input, &mut self.delay).unwrap();
        f64::from(sample.voltage.value())
    }

    fn alert(&self) -> PinLevel {
        let now = self.now();
        self.chip.with(|c| c.alert_pin(now))
    }

    fn alert_assertions(&self) -> u64 {
        let now = self.now();
        self.chip.with(|c| c.alert_assertions(now))
    }

    fn conversions(&self) -> u64 {
        let now = self.now();
        self.chip.with(|c| c.conversions(now))
    }
}

fn v(volts: f64) -> Voltage {
    Voltage::from_nanovolts((volts * 1e9).round() as i64)
}

const RANGES: [(FullScale, f64); 6] = [
    (FullScale::V6_144, 6.144),
    (FullScale::V4_096, 4.096),
    (FullScale::V2_048, 2.048),
    (FullScale::V1_024, 1.024),
    (FullScale::V0_512, 0.512),
    (FullScale::V0_256, 0.256),
];

#[test]
fn round_trip_across_every_range_on_both_chips() {
    for (model, rate, bits) in [
        (Ads1x15Model::ads1115(), DataRate::Sps128, 16),
        (Ads1x15Model::ads1015(), DataRate::Sps1600, 12),
    ] {
        for (fsr, fsr_v) in RANGES {
            // A 5 V supply so that ±6.144 V reaches its top.
            let config = Config::single_shot(Scan::single(Input::Ain0Ain1), fsr, rate);
            let mut rig = Rig::new(model.clone().with_supply(5.5), config);
            // The datasheet's LSB: FSR / 2^(bits − 1). The ideal converter is within half of it.
            let lsb = fsr_v / f64::from(1u32 << (bits - 1));
            for step in -10..=10 {
                let target = (fsr_v * 0.95 * f64::from(step) / 10.0).min(5.5);
                // Differential: AIN0 − AIN1 with AIN1 as a mid-supply bias.
                rig.set(0, AnalogInput::dc(2.75 + target / 2.0));
                rig.set(1, AnalogInput::dc(2.75 - target / 2.0));
                let got = rig.volts(Input::Ain0Ain1);
                assert!(
                    (got - target).abs() <= lsb / 2.0 + 1e-6,
                    "{:?} {fsr:?}: {target} V read as {got} V",
                    model.chip()
                );
            }
        }
    }
}

#[test]
fn beyond_full_scale_reads_the_full_scale_code_flagged_as_clipped() {
    let config = Config::single_shot(
        Scan::single(Input::Ain0Ain1),
        FullScale::V0_256,
        DataRate::Sps860,
    );
    let mut rig = Rig::new(Ads1x15Model::ads1115(), config);
    rig.set(0, AnalogInput::dc(1.0));
    let s = rig.adc.convert(Input::Ain0Ain1, &mut rig.delay).unwrap();
    assert_eq!((s.code, s.clipped), (0x7FFF, true));
    rig.set(0, AnalogInput::GROUND);
    rig.set(1, AnalogInput::dc(1.0));
    let s = rig.adc.convert(Input::Ain0Ain1, &mut rig.delay).unwrap();
    assert_eq!(
        (s.code, s.voltage.raw(), s.clipped),
        (i16::MIN, -256_000_000, true)
    );
    // Through the common interface a bound is not published as a voltage.
    let err = Sensor::read(&mut rig.adc, &mut rig.delay).unwrap_err();
    assert_eq!(err, Error::Clipped(Input::Ain0Ain1));
    assert_eq!(err.kind(), edgewise_sensors::sensor::ErrorKind::OutOfRange);
}

#[test]
fn single_shot_costs_two_transactions_and_exactly_the_datasheet_time() {
    // Per data rate: 25 µs wake-up + 1 / (0.9 · DR) rounded up to µs (datasheet 9.4.2.1, 7.5).
    let cases = [
        (Ads1x15Model::ads1115(), DataRate::Sps8, 25 + 138_889u32),
        (Ads1x15Model::ads1115(), DataRate::Sps128, 25 + 8_681),
        (Ads1x15Model::ads1115(), DataRate::Sps860, 25 + 1_292),
        (Ads1x15Model::ads1015(), DataRate::Sps128, 25 + 8_681),
        (Ads1x15Model::ads1015(), DataRate::Sps1600, 25 + 695),
        (Ads1x15Model::ads1015(), DataRate::Sps3300, 25 + 337),
    ];
    for (model, rate, t_max_us) in cases {
        let config = Config::single_shot(Scan::single(Input::Ain3), FullScale::V4_096, rate);
        let mut rig = Rig::new(model.with_input(3, AnalogInput::dc(1.25)), config);
        let before = rig.bus.stats_for(ADDR);
        rig.delay.reset_counters();
        let got = rig.volts(Input::Ain3);
        let cost = rig.bus.stats_for(ADDR).since(&before);
        assert_eq!(
            cost.transactions, 2,
            "{rate:?}: one write to start, one read"
        );
        assert_eq!((cost.bytes_written, cost.bytes_read), (3 + 1, 2));
        assert_eq!(
            rig.delay.waited_ns(),
            u64::from(t_max_us) * 1_000,
            "{rate:?}"
        );
        assert_eq!(rig.delay.calls(), 1);
        assert!((got - 1.25).abs() < 0.002, "{rate:?}: {got}");
        // The chip finished and powered itself down.
        let now = rig.now();
        assert!(rig.chip.with(|c| c.is_powered_down(now)));
    }
}

#[test]
fn a_part_at_the_slow_data_rate_limit_still_delivers_a_fresh_result() {
    let config = Config::single_shot(Scan::single(Input::Ain0), FullScale::V2_048, DataRate::Sps8);
    let slow = Ads1x15Model::ads1115().with_data_rate_error(-0.10);
    let mut rig = Rig::new(slow, config);
    for level in [0.25, 0.5, 1.0, 0.125] {
        rig.set(0, AnalogInput::dc(level));
        assert!((rig.volts(Input::Ain0) - level).abs() < 0.0001);
    }
    assert_eq!(rig.conversions(), 4);
}

#[test]
fn poll_status_finishes_at_the_nominal_time_on_a_nominal_part() {
    let config = Config {
        completion: Completion::PollStatus,
        ..Config::single_shot(Scan::single(Input::Ain0), FullScale::V2_048, DataRate::Sps8)
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.75)),
        config,
    );
    let before = rig.bus.stats_for(ADDR);
    rig.delay.reset_counters();
    assert!((rig.volts(Input::Ain0) - 0.75).abs() < 0.0001);
    // 25 µs + 1/8 s, and one status read on top of the start and the result.
    assert_eq!(rig.delay.waited_ns(), (25 + 125_000) * 1_000);
    let cost = rig.bus.stats_for(ADDR).since(&before);
    assert_eq!(
        (cost.transactions, cost.bytes_written, cost.bytes_read),
        (3, 4, 4)
    );

    // A part 10 % slow is caught by polling before the maximum.
    let slow = Ads1x15Model::ads1115().with_data_rate_error(-0.10);
    let mut rig = Rig::new(slow.with_input(0, AnalogInput::dc(0.75)), config);
    rig.delay.reset_counters();
    assert!((rig.volts(Input::Ain0) - 0.75).abs() < 0.0001);
    assert!(rig.delay.waited_ns() <= (25 + 138_889) * 1_000);
}

#[test]
fn continuous_reading_is_one_two_byte_read_and_follows_the_signal() {
    let config = Config {
        mode: Mode::Continuous,
        ..Config::single_shot(
            Scan::single(Input::Ain1),
            FullScale::V4_096,
            DataRate::Sps860,
        )
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(1, AnalogInput::dc(3.0)),
        config,
    );
    rig.delay.reset_counters();
    assert!((rig.volts(Input::Ain1) - 3.0).abs() < 0.0001);
    // The first reading waits for the first conversion: wake-up and one slowest period.
    assert_eq!(rig.delay.waited_ns(), (25 + 1_292) * 1_000);

    let before = rig.bus.stats_for(ADDR);
    rig.delay.reset_counters();
    rig.set(1, AnalogInput::dc(2.0));
    // Read at once: the latest result is still the old level.
    assert!((rig.volts(Input::Ain1) - 3.0).abs() < 0.0001);
    // One data period later (860 SPS: 1.163 ms) the new level is in the register.
    rig.delay.delay_us(1_163);
    assert!((rig.volts(Input::Ain1) - 2.0).abs() < 0.0001);
    let cost = rig.bus.stats_for(ADDR).since(&before);
    assert_eq!(
        (cost.transactions, cost.bytes_written, cost.bytes_read),
        (2, 0, 4)
    );
    assert_eq!(rig.delay.calls(), 1, "only the test's own wait");
}

#[test]
fn continuous_scan_never_returns_the_previous_inputs_value() {
    // Switching mid-conversion is the worst case: the conversion in progress still belongs
    // to the old input, so one period of waiting would read the old value.
    let config = Config {
        mode: Mode::Continuous,
        ..Config::single_shot(Scan::single_ended(), FullScale::V4_096, DataRate::Sps475)
    };
    let levels = [0.5, 1.0, 2.0, 3.0];
    let mut model = Ads1x15Model::ads1115();
    for (pin, level) in levels.iter().enumerate() {
        model.set_input(pin, AnalogInput::dc(*level));
    }
    let mut rig = Rig::new(model, config);
    for offset_us in [0, 300, 1_000, 2_000] {
        rig.delay.delay_us(offset_us);
        let samples = rig.adc.measure(&mut rig.delay).unwrap();
        for (sample, level) in samples.as_slice().iter().zip(levels) {
            let got = f64::from(sample.voltage.value());
            assert!(
                (got - level).abs() < 0.0002,
                "{:?}: {got} V, expected {level} V",
                sample.input
            );
        }
    }
}

#[test]
fn four_input_single_shot_scan_of_sensors() {
    let config = Config::single_shot(Scan::single_ended(), FullScale::V4_096, DataRate::Sps860);
    let model = Ads1x15Model::ads1115()
        // A 4-20 mA transducer across 150 Ω (12 mA: 1.8 V), a battery divider, a thermistor
        // divider and a grounded spare input.
        .with_input(0, AnalogInput::dc(1.8).with_noise(0.0002))
        .with_input(1, AnalogInput::dc(3.1).with_noise(0.0002))
        .with_input(2, AnalogInput::dc(1.65).with_noise(0.0002))
        .with_noise_seed(3);
    let mut rig = Rig::new(model, config);
    let before = rig.bus.stats_for(ADDR);
    rig.delay.reset_counters();
    let reading = Sensor::read(&mut rig.adc, &mut rig.delay).unwrap();
    let names: Vec<_> = rig.adc.channels().iter().map(|c| c.name).collect();
    assert_eq!(names, ["ain0", "ain1", "ain2", "ain3"]);
    for (got, want) in reading.values().iter().zip([1.8, 3.1, 1.65, 0.0]) {
        assert!((f64::from(*got) - want).abs() < 0.002, "{got} vs {want}");
    }
    let cost = rig.bus.stats_for(ADDR).since(&before);
    assert_eq!(
        (cost.transactions, cost.bytes_written, cost.bytes_read),
        (8, 16, 8)
    );
    assert_eq!(rig.delay.waited_ns(), 4 * 1_317 * 1_000);
    assert_eq!(rig.adc.min_interval().as_micros(), 4 * 1_317);
}

#[test]
fn a_50_hz_current_clamp_signal_is_sampled_with_its_amplitude() {
    // A clamp's burden voltage: ±1 V peak at 50 Hz around a 1.65 V bias on AIN0, the bias
    // itself on AIN1. At 860 SPS a conversion spans 1/17 of a cycle, so the averaging barely
    // attenuates (sinc(50/860) ≈ 0.994).
    let config = Config {
        mode: Mode::Continuous,
        ..Config::single_shot(
            Scan::single(Input::Ain0Ain1),
            FullScale::V2_048,
            DataRate::Sps860,
        )
    };
    let model = Ads1x15Model::ads1115()
        .with_input(0, AnalogInput::sine(1.65, 1.0, 50.0))
        .with_input(1, AnalogInput::dc(1.65));
    let mut rig = Rig::new(model, config);
    let mut values = Vec::new();
    for _ in 0..860 {
        values.push(rig.volts(Input::Ain0Ain1));
        rig.delay.delay_us(1_163);
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let rms = (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).sqrt();
    assert!((0.98..=1.0).contains(&max), "peak {max}");
    assert!((-1.0..=-0.98).contains(&min), "trough {min}");
    assert!(
        (rms - std::f64::consts::FRAC_1_SQRT_2).abs() < 0.01,
        "rms {rms}"
    );
}

// ---- ALERT/RDY ----

fn comparator(kind: ComparatorKind, latching: bool, low: f64, high: f64) -> Alert {
    Alert::Comparator(Comparator {
        kind,
        low: v(low),
        high: v(high),
        polarity: Polarity::ActiveLow,
        latching,
        queue: Queue::One,
    })
}

#[test]
fn traditional_latching_comparator_holds_alert_until_the_result_is_read() {
    let config = Config {
        mode: Mode::Continuous,
        alert: comparator(ComparatorKind::Traditional, true, 0.5, 1.0),
        ..Config::single_shot(
            Scan::single(Input::Ain0),
            FullScale::V2_048,
            DataRate::Sps860,
        )
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.2)),
        config,
    );
    rig.volts(Input::Ain0);
    assert_eq!(rig.alert(), PinLevel::High);
    rig.set(0, AnalogInput::dc(1.5)); // an overcurrent
    rig.delay.delay_us(2 * 1_292);
    assert_eq!(rig.alert(), PinLevel::Low);
    rig.set(0, AnalogInput::dc(0.2)); // gone again, but the alert is latched
    rig.delay.delay_us(2 * 1_292);
    assert_eq!(rig.alert(), PinLevel::Low);
    rig.volts(Input::Ain0); // reading the conversion register clears it
    assert_eq!(rig.alert(), PinLevel::High);
    assert_eq!(rig.alert_assertions(), 1);
}

#[test]
fn window_comparator_on_an_ads1015_asserts_outside_the_window() {
    let config = Config {
        mode: Mode::Continuous,
        alert: Alert::Comparator(Comparator {
            polarity: Polarity::ActiveHigh,
            ..match comparator(ComparatorKind::Window, false, -0.5, 0.5) {
                Alert::Comparator(c) => c,
                _ => unreachable!(),
            }
        }),
        ..Config::single_shot(
            Scan::single(Input::Ain2Ain3),
            FullScale::V1_024,
            DataRate::Sps3300,
        )
    };
    let model = Ads1x15Model::ads1015()
        .with_input(2, AnalogInput::dc(1.0))
        .with_input(3, AnalogInput::dc(1.0));
    let mut rig = Rig::new(model, config);
    rig.volts(Input::Ain2Ain3);
    assert_eq!(rig.alert(), PinLevel::Low); // active high: inside the window, low
    for (ain2, expected) in [
        (1.7, PinLevel::High),
        (1.2, PinLevel::Low),
        (0.3, PinLevel::High),
    ] {
        rig.set(2, AnalogInput::dc(ain2));
        rig.delay.delay_us(2 * 337);
        assert_eq!(rig.alert(), expected, "AIN2 − AIN3 = {} V", ain2 - 1.0);
    }
}

#[test]
fn conversion_ready_pulses_once_per_conversion_in_continuous_mode() {
    let config = Config {
        mode: Mode::Continuous,
        alert: Alert::ConversionReady(Polarity::ActiveLow),
        ..Config::single_shot(
            Scan::single(Input::Ain0),
            FullScale::V2_048,
            DataRate::Sps250,
        )
    };
    let mut rig = Rig::new(Ads1x15Model::ads1115(), config);
    rig.volts(Input::Ain0);
    let first = rig.alert_assertions();
    assert!(first >= 1);
    // 100 nominal periods of 4 ms: 100 more pulses.
    rig.delay.delay_ms(400);
    assert_eq!(rig.alert_assertions(), first + 100);
}

#[test]
fn conversion_ready_in_single_shot_asserts_when_the_result_is_in() {
    let config = Config {
        alert: Alert::ConversionReady(Polarity::ActiveLow),
        ..Config::single_shot(
            Scan::single(Input::Ain0),
            FullScale::V2_048,
            DataRate::Sps128,
        )
    };
    let mut rig = Rig::new(Ads1x15Model::ads1115(), config);
    rig.volts(Input::Ain0);
    assert_eq!(rig.alert(), PinLevel::Low);
    assert_eq!(rig.alert_assertions(), 1);
    // Thresholds as the datasheet asks: Hi_thresh MSB 1, Lo_thresh MSB 0.
    let (lo, hi) = rig.chip.with(|c| c.thresholds());
    assert_eq!((lo & 0x8000, hi & 0x8000), (0, 0x8000));
}

#[test]
fn async_round_trip_waits_the_same_time() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(
        ADDR,
        Ads1x15Model::ads1115().with_input(2, AnalogInput::dc(0.1)),
    );
    let mut delay = bus.clock().delay();
    let config = Config::single_shot(
        Scan::single(Input::Ain2),
        FullScale::V0_256,
        DataRate::Sps64,
    );
    let mut adc = Ads1x15Async::new_ads1115(bus.clone(), Address::Gnd, config);
    let sample = embassy_futures::block_on(async {
        adc.init().await.unwrap();
        adc.measure(&mut delay).await.unwrap().as_slice()[0]
    });
    // 0.1 V / 7.8125 µV = 12800.
    assert_eq!(sample.code, 12_800);
    assert_eq!(delay.waited_ns(), (25 + 17_362) * 1_000);
}

// ---- faults: each gives the matching error, and the next reading works again ----

fn single_shot_ain0() -> Config {
    Config::single_shot(
        Scan::single(Input::Ain0),
        FullScale::V2_048,
        DataRate::Sps860,
    )
}

#[test]
fn nack_then_recovery() {
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(1.0)),
        single_shot_ain0(),
    );
    rig.bus.inject(ADDR, Fault::Nack, Times::Once);
    assert_eq!(
        rig.adc.measure(&mut rig.delay),
        Err(Error::Bus(ErrorKind::NoAcknowledge(
            NoAcknowledgeSource::Address
        )))
    );
    assert!((rig.volts(Input::Ain0) - 1.0).abs() < 0.0001);
}

#[test]
fn missing_chip_is_a_nack_at_init() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let mut adc = Ads1x15::new_ads1115(bus.clone(), Address::Vdd, single_shot_ain0());
    assert!(matches!(
        adc.init(),
        Err(Error::Bus(ErrorKind::NoAcknowledge(_)))
    ));
}

#[test]
fn another_chip_at_the_address_fails_the_identity_check() {
    // A BME280 strapped to 0x48 through an address translator: register 1 is not a config
    // register that keeps what it is written.
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, edgewise_devsim::bme280::Bme280Model::bme280());
    let mut adc = Ads1x15::new_ads1115(bus.clone(), Address::Gnd, single_shot_ain0());
    let err = adc.init().unwrap_err();
    assert!(matches!(err, Error::NotAds1x15 { .. }), "{err:?}");
}

#[test]
fn corrupted_results_are_implausible_then_recovery() {
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.3)),
        single_shot_ain0(),
    );
    // The conversion read's MSB flipped: a single-ended input at −1.75 V cannot be.
    rig.bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 0,
            mask: 0x80,
        },
        Times::Once,
    );
    assert_eq!(
        rig.adc.measure(&mut rig.delay),
        Err(Error::Implausible(Input::Ain0))
    );
    assert!((rig.volts(Input::Ain0) - 0.3).abs() < 0.0001);

    // On the ADS1015 any flipped bit among the four always-zero ones is caught.
    let config = Config::single_shot(
        Scan::single(Input::Ain0Ain1),
        FullScale::V2_048,
        DataRate::Sps1600,
    );
    let mut rig = Rig::new(
        Ads1x15Model::ads1015().with_input(0, AnalogInput::dc(0.3)),
        config,
    );
    rig.bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 1,
            mask: 0x04,
        },
        Times::Once,
    );
    assert_eq!(
        rig.adc.measure(&mut rig.delay),
        Err(Error::Implausible(Input::Ain0Ain1))
    );
    assert!((rig.volts(Input::Ain0Ain1) - 0.3).abs() < 0.001);
}

#[test]
fn corrupted_status_read_is_a_config_mismatch_then_recovery() {
    let config = Config {
        completion: Completion::PollStatus,
        ..single_shot_ain0()
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.3)),
        config,
    );
    rig.bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 0,
            mask: 0x10,
        },
        Times::Once,
    );
    assert!(matches!(
        rig.adc.measure(&mut rig.delay),
        Err(Error::ConfigMismatch { .. })
    ));
    assert!((rig.volts(Input::Ain0) - 0.3).abs() < 0.0001);
}

#[test]
fn stuck_conversion_is_not_ready_then_recovery() {
    let config = Config {
        completion: Completion::PollStatus,
        ..single_shot_ain0()
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.3)),
        config,
    );
    rig.chip.with(|c| c.set_stuck_conversion(true));
    assert_eq!(
        rig.adc.measure(&mut rig.delay),
        Err(Error::NotReady {
            waited_us: 25 + 1_292
        })
    );
    rig.chip.with(|c| c.set_stuck_conversion(false));
    assert!((rig.volts(Input::Ain0) - 0.3).abs() < 0.0001);
}

#[test]
fn power_loss_loses_the_thresholds_and_init_restores_them() {
    let config = Config {
        alert: comparator(ComparatorKind::Traditional, false, 0.5, 1.0),
        ..single_shot_ain0()
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.3)),
        config,
    );
    let thresholds = rig.chip.with(|c| c.thresholds());
    assert_eq!(thresholds, (8_000, 16_000)); // 0.5 V and 1 V in 62.5 µV codes
    rig.chip.with(|c| c.power_on_reset());
    // Single-shot conversions carry the whole config register: readings go on regardless.
    assert!((rig.volts(Input::Ain0) - 0.3).abs() < 0.0001);
    assert_eq!(rig.chip.with(|c| c.thresholds()), (0x8000, 0x7FFF));
    rig.adc.init().unwrap();
    assert_eq!(rig.chip.with(|c| c.thresholds()), thresholds);
}

#[test]
fn power_down_in_continuous_mode_stops_conversions() {
    let config = Config {
        mode: Mode::Continuous,
        ..single_shot_ain0()
    };
    let mut rig = Rig::new(
        Ads1x15Model::ads1115().with_input(0, AnalogInput::dc(0.3)),
        config,
    );
    rig.volts(Input::Ain0);
    rig.adc.power_down().unwrap();
    rig.delay.delay_ms(2);
    let now = rig.now();
    assert!(rig.chip.with(|c| c.is_powered_down(now)));
    let conversions = rig.conversions();
    rig.delay.delay_ms(100);
    assert_eq!(rig.conversions(), conversions);
    // The next reading restarts continuous conversion.
    rig.set(0, AnalogInput::dc(0.6));
    assert!((rig.volts(Input::Ain0) - 0.6).abs() < 0.0001);
}
