//! What one INA219 reading costs on the simulated chip: bus transactions and bytes, time
//! spent waiting for the conversion per ADC setting, and CPU time. Prints tables; asserts
//! nothing (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench ina219_cost` (or `cargo xtask bench`)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use edgewise_devsim::ina219::{ConversionTime, Ina219Model};
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::ina219::{Adc, Address, Calibration, Completion, Config, Ina219, Mode};
use edgewise_tests::bench::{cost_per_reading, ns_per_call};

const ADDR: u8 = 0x40;
const READINGS: u64 = 200;

fn fresh_bus(chip: Ina219Model) -> (SimI2cBus, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, chip);
    let delay = bus.clock().delay();
    (bus, delay)
}

/// Bus cost and waiting per reading over READINGS readings after `init` (and, in continuous
/// mode, after the first reading, which waits for a conversion once).
fn per_reading(chip: Ina219Model, config: Config) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus(chip);
    let mut sensor = Ina219::new(bus.clone(), Address::default(), config);
    let mut d = delay.clone();
    sensor.init().expect("init");
    let continuous = config.mode == Mode::Continuous;
    if continuous {
        sensor.measure(&mut d).expect("first reading");
    }
    // In continuous mode, read once per conversion period, as a scheduler at min_interval
    // would; that pacing is the scheduler's time, not the driver's waiting.
    let period = Duration::from_micros(u64::from(sensor.max_conversion_time_us()));
    cost_per_reading(&bus, ADDR, &delay, READINGS, || {
        black_box(sensor.measure(&mut d).expect("reading"));
        if continuous {
            bus.clock().advance(period);
        }
    })
}

fn with_adc(adc: Adc, mode: Mode, completion: Completion) -> Config {
    Config {
        bus_adc: adc,
        shunt_adc: adc,
        mode,
        completion,
        ..Config::default()
    }
}

fn main() {
    let typical = || Ina219Model::default().with_noise(42);
    let slow = || typical().with_conversion_time(ConversionTime::Maximum);
    let triggered = |adc| with_adc(adc, Mode::Triggered, Completion::PollReady);

    println!("\nINA219 reading on devsim, per reading ({READINGS} readings each; both ADCs alike)");
    println!(
        "{:<40} {:>12} {:>8} {:>8} {:>13}",
        "mode / ADC setting", "transactions", "bytes w", "bytes r", "waiting (ms)"
    );
    let rows = [
        ("triggered 9-bit", typical(), triggered(Adc::Bits9)),
        ("triggered 10-bit", typical(), triggered(Adc::Bits10)),
        ("triggered 11-bit", typical(), triggered(Adc::Bits11)),
        ("triggered 12-bit", typical(), triggered(Adc::Bits12)),
        (
            "triggered 12-bit (wait max)",
            typical(),
            with_adc(Adc::Bits12, Mode::Triggered, Completion::WaitMax),
        ),
        (
            "triggered 12-bit, slow part (poll CNVR)",
            slow(),
            triggered(Adc::Bits12),
        ),
        ("triggered 2 samples", typical(), triggered(Adc::Samples2)),
        ("triggered 8 samples", typical(), triggered(Adc::Samples8)),
        ("triggered 32 samples", typical(), triggered(Adc::Samples32)),
        (
            "triggered 128 samples",
            typical(),
            triggered(Adc::Samples128),
        ),
        (
            "continuous 12-bit (latest result)",
            typical(),
            with_adc(Adc::Bits12, Mode::Continuous, Completion::PollReady),
        ),
    ];
    for (name, chip, config) in rows {
        let (stats, wait_ms) = per_reading(chip, config);
        println!(
            "{name:<40} {:>12} {:>8} {:>8} {:>13.3}",
            stats.transactions, stats.bytes_written, stats.bytes_read, wait_ms
        );
    }

    // Converting the four registers: integer only (no FPU needed).
    let cal = Calibration::BREAKOUT_100_MILLIOHM;
    let convert = ns_per_call(100_000, |i| {
        let raw = black_box(i) as u16;
        black_box((
            cal.current_microamps(i16::from_be_bytes(raw.to_be_bytes())),
            cal.power_microwatts(raw),
        ));
    });
    println!("\nCPU per conversion of current and power registers (integer), host");
    println!("{:<40} {:>10.1} ns", "Calibration::current/power", convert);

    let (bus, delay) = fresh_bus(typical());
    let mut d = delay.clone();
    let mut sensor = Ina219::new(bus, Address::default(), Config::default());
    sensor.init().expect("init");
    let whole = ns_per_call(100_000, |_| {
        black_box(sensor.measure(&mut d).expect("reading"));
    });
    println!(
        "\nCPU per whole triggered reading on devsim (driver + simulated chip + bus model), host"
    );
    println!("{:<40} {:>10.1} ns", "edgewise ina219, 12-bit", whole);
}
