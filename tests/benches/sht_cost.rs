//! What one SHT3x / SHT4x reading costs on the simulated chip: bus transactions and bytes,
//! time spent waiting for the measurement, and CPU time. Prints tables; asserts nothing
//! (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench sht_cost` (or `cargo xtask bench`)

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use edgewise_devsim::sht::ShtModel;
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::sht::{
    crc8, sht3x_humidity_from_raw, temperature_from_raw, HeaterDuration, HeaterPower, HeaterPulse,
    MeasurementsPerSecond, Repeatability, Sht3x, Sht3xAddress, Sht3xConfig, Sht3xMode, Sht4x,
    Sht4xAddress, Sht4xConfig,
};
use edgewise_tests::bench::{cost_per_reading, ns_per_call};

const ADDR: u8 = 0x44;
const READINGS: u64 = 200;

fn fresh_bus(chip: ShtModel) -> (SimI2cBus, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, chip.with_noise(42));
    let delay = bus.clock().delay();
    (bus, delay)
}

/// Runs `read` READINGS times; returns bus cost and driver waiting per reading. `between`
/// is time the application lets pass between readings, not counted as waiting.
fn per_reading(
    bus: &SimI2cBus,
    delay: &SimDelay,
    between: Duration,
    mut read: impl FnMut(),
) -> (BusStats, f64) {
    cost_per_reading(bus, ADDR, delay, READINGS, || {
        read();
        bus.clock().advance(between);
    })
}

fn sht3x(config: Sht3xConfig, between: Duration) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus(ShtModel::sht3x());
    let mut d = delay.clone();
    let mut sensor = Sht3x::new(bus.clone(), Sht3xAddress::Low, config);
    sensor.init(&mut d).expect("init");
    if matches!(config.mode, Sht3xMode::Periodic(_)) {
        // The first result after starting periodic mode waits one measurement; the table
        // shows the steady state.
        sensor.measure(&mut d).expect("first periodic reading");
        bus.clock().advance(between);
    }
    per_reading(&bus, &delay, between, || {
        black_box(sensor.measure(&mut d).expect("reading"));
    })
}

fn sht4x(repeatability: Repeatability, heater: Option<HeaterPulse>) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus(ShtModel::sht4x());
    let mut d = delay.clone();
    let mut sensor = Sht4x::new(bus.clone(), Sht4xAddress::A, Sht4xConfig { repeatability });
    sensor.init(&mut d).expect("init");
    per_reading(&bus, &delay, Duration::ZERO, || {
        let m = match heater {
            Some(pulse) => sensor.heat_and_measure(pulse, &mut d),
            None => sensor.measure(&mut d),
        };
        black_box(m.expect("reading"));
    })
}

fn main() {
    use Repeatability::*;
    println!("\nSHT3x/SHT4x reading on devsim, per reading ({READINGS} readings each)");
    println!(
        "{:<40} {:>12} {:>8} {:>8} {:>13}",
        "family / mode", "transactions", "bytes w", "bytes r", "waiting (ms)"
    );
    let single = |repeatability| Sht3xConfig {
        repeatability,
        mode: Sht3xMode::SingleShot,
    };
    let periodic = |repeatability, mps| Sht3xConfig {
        repeatability,
        mode: Sht3xMode::Periodic(mps),
    };
    let second = Duration::from_secs(1);
    let tenth = Duration::from_millis(100);
    let pulse = |duration| HeaterPulse {
        power: HeaterPower::Mw200,
        duration,
    };
    let rows = [
        ("SHT3x single shot, high", sht3x(single(High), second)),
        ("SHT3x single shot, medium", sht3x(single(Medium), second)),
        ("SHT3x single shot, low", sht3x(single(Low), second)),
        (
            "SHT3x periodic 1 mps high, fetch",
            sht3x(periodic(High, MeasurementsPerSecond::One), second),
        ),
        (
            "SHT3x periodic 10 mps low, fetch",
            sht3x(periodic(Low, MeasurementsPerSecond::Ten), tenth),
        ),
        ("SHT4x single shot, high", sht4x(High, None)),
        ("SHT4x single shot, medium", sht4x(Medium, None)),
        ("SHT4x single shot, low", sht4x(Low, None)),
        (
            "SHT4x heater 200 mW 1 s + measure",
            sht4x(High, Some(pulse(HeaterDuration::Long))),
        ),
        (
            "SHT4x heater 200 mW 0.1 s + measure",
            sht4x(High, Some(pulse(HeaterDuration::Short))),
        ),
    ];
    for (name, (stats, wait_ms)) in rows {
        println!(
            "{name:<40} {:>12} {:>8} {:>8} {:>13.3}",
            stats.transactions, stats.bytes_written, stats.bytes_read, wait_ms
        );
    }

    // Init, once per sensor (and after a power cycle).
    for (name, init) in [
        ("SHT3x init (break, reset, status, clear)", {
            let (bus, delay) = fresh_bus(ShtModel::sht3x());
            let mut sensor = Sht3x::new(bus.clone(), Sht3xAddress::Low, single(High));
            sensor.init(&mut delay.clone()).expect("init");
            (bus.stats_for(ADDR), delay.waited_ns())
        }),
        ("SHT4x init (reset, serial number)", {
            let (bus, delay) = fresh_bus(ShtModel::sht4x());
            let mut sensor = Sht4x::new(bus.clone(), Sht4xAddress::A, Sht4xConfig::default());
            sensor.init(&mut delay.clone()).expect("init");
            (bus.stats_for(ADDR), delay.waited_ns())
        }),
    ] {
        let (stats, waited_ns) = init;
        println!(
            "{name:<40} {:>12} {:>8} {:>8} {:>13.3}",
            stats.transactions,
            stats.bytes_written,
            stats.bytes_read,
            waited_ns as f64 / 1e6
        );
    }

    // CPU: the driver's work on 6 received bytes (two CRCs, two integer conversions).
    let convert = ns_per_call(100_000, |i| {
        let word = black_box((i as u16).wrapping_mul(31_337));
        let [a, b] = word.to_be_bytes();
        let crc = crc8(&[a, b]);
        black_box((
            crc,
            temperature_from_raw(word),
            sht3x_humidity_from_raw(word),
        ));
        black_box(crc8(&[b, a]));
    });
    println!("\nCPU per reading, host");
    println!(
        "{:<40} {:>10.1} ns",
        "2 CRCs + T/RH integer conversion", convert
    );

    // A whole reading on devsim, with the virtual clock: no real waiting.
    let (bus, delay) = fresh_bus(ShtModel::sht3x());
    let mut d = delay.clone();
    let mut sensor = Sht3x::new(bus, Sht3xAddress::Low, single(High));
    sensor.init(&mut d).expect("init");
    let whole = ns_per_call(100_000, |_| {
        black_box(sensor.measure(&mut d).expect("reading"));
    });
    println!(
        "{:<40} {:>10.1} ns",
        "SHT3x whole reading (driver+model+bus)", whole
    );
}
