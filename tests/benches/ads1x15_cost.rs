//! What one ADS1115/ADS1015 reading costs on the simulated chip: bus transactions and bytes,
//! time spent waiting for conversions (virtual clock), and CPU time. Single-shot per data
//! rate, continuous reads, and 4-input scans. Prints tables; asserts nothing (numbers are
//! reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench ads1x15_cost` (or `cargo xtask bench`)

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use edgewise_devsim::ads1x15::{Ads1x15Model, AnalogInput};
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::ads1x15::{
    Ads1x15, Chip, Completion, Config, DataRate, FullScale, Input, Mode, Scan,
};
use edgewise_tests::bench::{cost_per_reading, ns_per_call};

const ADDR: u8 = 0x48;
const READINGS: u64 = 200;

fn rig(chip: Chip, config: Config) -> (SimI2cBus, SimDelay, Ads1x15<SimI2cBus>) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let model = match chip {
        Chip::Ads1115 => Ads1x15Model::ads1115(),
        Chip::Ads1015 => Ads1x15Model::ads1015(),
    };
    let mut model = model.with_noise_seed(42);
    for pin in 0..4 {
        model.set_input(pin, AnalogInput::sine(1.65, 0.5, 50.0).with_noise(0.0005));
    }
    bus.attach(ADDR, model);
    let delay = bus.clock().delay();
    let mut adc = Ads1x15::new(bus.clone(), chip, ADDR, config);
    adc.init().expect("init");
    (bus, delay, adc)
}

/// Bus cost and waiting per reading over READINGS readings, after a first reading (which in
/// continuous mode waits for the first conversion). `pace` passes between readings without
/// being counted as waiting: the application's own period.
fn per_reading(chip: Chip, config: Config, pace: Duration) -> (BusStats, f64) {
    let (bus, delay, mut adc) = rig(chip, config);
    let mut d = delay.clone();
    adc.measure(&mut d).expect("first reading");
    cost_per_reading(&bus, ADDR, &delay, READINGS, || {
        bus.clock().advance(pace);
        black_box(adc.measure(&mut d).expect("reading"));
    })
}

fn single(input: Input, rate: DataRate) -> Config {
    Config::single_shot(Scan::single(input), FullScale::V4_096, rate)
}

fn print_header(title: &str) {
    println!("\n{title} ({READINGS} readings each)");
    println!(
        "{:<44} {:>12} {:>8} {:>8} {:>13}",
        "chip / configuration", "transactions", "bytes w", "bytes r", "waiting (ms)"
    );
}

fn print_row(name: &str, (stats, wait_ms): (BusStats, f64)) {
    println!(
        "{name:<44} {:>12} {:>8} {:>8} {:>13.3}",
        stats.transactions, stats.bytes_written, stats.bytes_read, wait_ms
    );
}

fn main() {
    print_header("ADS1x15 single-shot reading of one input on devsim, per reading");
    let rates = [
        (Chip::Ads1115, DataRate::Sps8),
        (Chip::Ads1115, DataRate::Sps16),
        (Chip::Ads1115, DataRate::Sps32),
        (Chip::Ads1115, DataRate::Sps64),
        (Chip::Ads1115, DataRate::Sps128),
        (Chip::Ads1115, DataRate::Sps250),
        (Chip::Ads1115, DataRate::Sps475),
        (Chip::Ads1115, DataRate::Sps860),
        (Chip::Ads1015, DataRate::Sps128),
        (Chip::Ads1015, DataRate::Sps250),
        (Chip::Ads1015, DataRate::Sps490),
        (Chip::Ads1015, DataRate::Sps920),
        (Chip::Ads1015, DataRate::Sps1600),
        (Chip::Ads1015, DataRate::Sps2400),
        (Chip::Ads1015, DataRate::Sps3300),
    ];
    for (chip, rate) in rates {
        let name = format!("{chip:?} {} SPS (wait max)", rate.samples_per_second());
        print_row(
            &name,
            per_reading(chip, single(Input::Ain0, rate), Duration::ZERO),
        );
    }
    for (chip, rate) in [
        (Chip::Ads1115, DataRate::Sps8),
        (Chip::Ads1115, DataRate::Sps860),
    ] {
        let config = Config {
            completion: Completion::PollStatus,
            ..single(Input::Ain0, rate)
        };
        let name = format!("{chip:?} {} SPS (poll OS)", rate.samples_per_second());
        print_row(&name, per_reading(chip, config, Duration::ZERO));
    }

    print_header("Continuous mode, one input, read once per data period");
    for (chip, rate) in [
        (Chip::Ads1115, DataRate::Sps128),
        (Chip::Ads1115, DataRate::Sps860),
        (Chip::Ads1015, DataRate::Sps3300),
    ] {
        let config = Config {
            mode: Mode::Continuous,
            ..single(Input::Ain0Ain1, rate)
        };
        let period = Duration::from_micros(u64::from(rate.nominal_period_us()));
        let name = format!("{chip:?} {} SPS continuous", rate.samples_per_second());
        print_row(&name, per_reading(chip, config, period));
    }

    print_header("4-input scan (AIN0..AIN3), per reading of all four");
    for (chip, rate, mode) in [
        (Chip::Ads1115, DataRate::Sps860, Mode::SingleShot),
        (Chip::Ads1015, DataRate::Sps3300, Mode::SingleShot),
        (Chip::Ads1115, DataRate::Sps860, Mode::Continuous),
    ] {
        let config = Config {
            mode,
            ..Config::single_shot(Scan::single_ended(), FullScale::V4_096, rate)
        };
        let name = format!("{chip:?} {} SPS {mode:?}", rate.samples_per_second());
        print_row(&name, per_reading(chip, config, Duration::ZERO));
    }

    println!("\nCPU per reading on devsim (driver + simulated chip + bus model), host");
    for (name, chip, config) in [
        (
            "ADS1115 single-shot, 1 input",
            Chip::Ads1115,
            single(Input::Ain0, DataRate::Sps860),
        ),
        (
            "ADS1115 continuous, 1 input",
            Chip::Ads1115,
            Config {
                mode: Mode::Continuous,
                ..single(Input::Ain0, DataRate::Sps860)
            },
        ),
        (
            "ADS1015 single-shot, 4-input scan",
            Chip::Ads1015,
            Config::single_shot(Scan::single_ended(), FullScale::V4_096, DataRate::Sps3300),
        ),
    ] {
        let (_bus, delay, mut adc) = rig(chip, config);
        let mut d = delay.clone();
        let ns = ns_per_call(100_000, |_| {
            black_box(adc.measure(&mut d).expect("reading"));
        });
        println!("{name:<44} {ns:>10.1} ns");
    }
    let ns = ns_per_call(100_000, |i| {
        black_box(Chip::Ads1115.voltage(FullScale::V0_256, black_box(i as i16)));
    });
    println!("{:<44} {ns:>10.1} ns", "code -> voltage (integer), alone");
}
