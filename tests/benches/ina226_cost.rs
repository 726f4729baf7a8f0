//! What one INA226 reading costs on the simulated chip: bus transactions and bytes, time
//! spent waiting for the conversion per conversion time and averaging, and CPU time. Prints
//! tables; asserts nothing (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench ina226_cost` (or `cargo xtask bench`)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use edgewise_devsim::ina226::{ConversionTime as ChipTiming, Ina226Model};
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::ina226::{
    Address, Averaging, Calibration, Completion, Config, ConversionTime, Ina226, Mode,
};
use edgewise_tests::bench::{cost_per_reading, ns_per_call};

const ADDR: u8 = 0x40;
const READINGS: u64 = 200;

fn fresh_bus(chip: Ina226Model) -> (SimI2cBus, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, chip);
    let delay = bus.clock().delay();
    (bus, delay)
}

/// Bus cost and waiting per reading over `readings` readings after `init` (and, in
/// continuous mode, after the first reading, which waits for a conversion once).
fn per_reading(chip: Ina226Model, config: Config, readings: u64) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus(chip);
    let mut sensor = Ina226::new(bus.clone(), Address::default(), config);
    let mut d = delay.clone();
    sensor.init().expect("init");
    let continuous = config.mode == Mode::Continuous;
    if continuous {
        sensor.measure(&mut d).expect("first reading");
    }
    // In continuous mode, read once per conversion period, as a scheduler at min_interval
    // would; that pacing is the scheduler's time, not the driver's waiting.
    let period = Duration::from_micros(u64::from(sensor.max_conversion_time_us()));
    cost_per_reading(&bus, ADDR, &delay, readings, || {
        black_box(sensor.measure(&mut d).expect("reading"));
        if continuous {
            bus.clock().advance(period);
        }
    })
}

fn settings(
    ct: ConversionTime,
    averaging: Averaging,
    mode: Mode,
    completion: Completion,
) -> Config {
    Config {
        bus_conversion_time: ct,
        shunt_conversion_time: ct,
        averaging,
        mode,
        completion,
        ..Config::default()
    }
}

fn main() {
    let typical = || Ina226Model::default().with_noise(42);
    let slow = || typical().with_conversion_time(ChipTiming::Maximum);
    let triggered = |ct, averaging| settings(ct, averaging, Mode::Triggered, Completion::PollReady);
    use Averaging::*;
    use ConversionTime::*;

    println!(
        "\nINA226 reading on devsim, per reading ({READINGS} readings each, 20 beyond 1 s; bus and shunt CT alike)"
    );
    println!(
        "{:<44} {:>12} {:>8} {:>8} {:>13}",
        "mode / conversion time × averages", "transactions", "bytes w", "bytes r", "waiting (ms)"
    );
    let rows = [
        ("triggered 140 µs × 1", typical(), triggered(Us140, X1)),
        ("triggered 332 µs × 1", typical(), triggered(Us332, X1)),
        ("triggered 588 µs × 1", typical(), triggered(Us588, X1)),
        (
            "triggered 1.1 ms × 1 (power-on CT)",
            typical(),
            triggered(Us1100, X1),
        ),
        (
            "triggered 1.1 ms × 1 (wait max)",
            typical(),
            settings(Us1100, X1, Mode::Triggered, Completion::WaitMax),
        ),
        (
            "triggered 1.1 ms × 1, slow part (poll CVRF)",
            slow(),
            triggered(Us1100, X1),
        ),
        ("triggered 8.244 ms × 1", typical(), triggered(Us8244, X1)),
        ("triggered 588 µs × 4", typical(), triggered(Us588, X4)),
        ("triggered 1.1 ms × 16", typical(), triggered(Us1100, X16)),
        ("triggered 140 µs × 64", typical(), triggered(Us140, X64)),
        ("triggered 1.1 ms × 128", typical(), triggered(Us1100, X128)),
        (
            "triggered 1.1 ms × 1024",
            typical(),
            triggered(Us1100, X1024),
        ),
        (
            "continuous 140 µs × 1 (latest result)",
            typical(),
            settings(Us140, X1, Mode::Continuous, Completion::PollReady),
        ),
        (
            "continuous 1.1 ms × 1 (latest result)",
            typical(),
            settings(Us1100, X1, Mode::Continuous, Completion::PollReady),
        ),
        (
            "continuous 1.1 ms × 16 (latest result)",
            typical(),
            settings(Us1100, X16, Mode::Continuous, Completion::PollReady),
        ),
    ];
    for (name, chip, config) in rows {
        // Conversions beyond a second of virtual time: fewer readings keep the run short.
        let readings = if config.max_conversion_time_us() > 1_000_000 {
            20
        } else {
            READINGS
        };
        let (stats, wait_ms) = per_reading(chip, config, readings);
        println!(
            "{name:<44} {:>12} {:>8} {:>8} {:>13.3}",
            stats.transactions, stats.bytes_written, stats.bytes_read, wait_ms
        );
    }

    // Converting the current and power registers: integer only (no FPU needed).
    let cal = Calibration::BREAKOUT_100_MILLIOHM;
    let convert = ns_per_call(100_000, |i| {
        let raw = black_box(i) as u16;
        black_box((
            cal.current_microamps(i16::from_be_bytes(raw.to_be_bytes())),
            cal.power_microwatts(raw),
        ));
    });
    println!("\nCPU per conversion of current and power registers (integer), host");
    println!("{:<44} {:>10.1} ns", "Calibration::current/power", convert);

    let (bus, delay) = fresh_bus(typical());
    let mut d = delay.clone();
    let mut sensor = Ina226::new(bus, Address::default(), Config::default());
    sensor.init().expect("init");
    let whole = ns_per_call(100_000, |_| {
        black_box(sensor.measure(&mut d).expect("reading"));
    });
    println!(
        "\nCPU per whole triggered reading on devsim (driver + simulated chip + bus model), host"
    );
    println!("{:<44} {:>10.1} ns", "edgewise ina226, 1.1 ms × 1", whole);
}
