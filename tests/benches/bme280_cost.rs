//! What one BME280 reading costs, for our driver and for the `bme280` crate 0.5.1, on the same
//! simulated chip: bus transactions and bytes, time spent waiting for the conversion, and CPU
//! time. Prints tables; asserts nothing (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench bme280_cost` (or `cargo xtask bench`)

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use bme280::i2c::BME280;
use bme280::Oversampling as TheirOversampling;
use edgewise_devsim::bme280::Bme280Model;
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::bme280::{Address, Bme280, Calibration, Completion, Config, Oversampling};
use edgewise_tests::bench::{cost_per_reading, ns_per_call};
use edgewise_tests::reference_crate_config;

const ADDR: u8 = 0x76;
const READINGS: u64 = 200;

fn fresh_bus() -> (SimI2cBus, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Bme280Model::bme280().with_noise(42));
    let delay = bus.clock().delay();
    (bus, delay)
}

/// Runs `read` READINGS times after `init`; returns bus cost and waiting per reading.
fn per_reading(bus: &SimI2cBus, delay: &SimDelay, read: impl FnMut()) -> (BusStats, f64) {
    cost_per_reading(bus, ADDR, delay, READINGS, read)
}

fn ours(osrs: Oversampling, completion: Completion) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus();
    let config = Config {
        temperature: osrs,
        pressure: osrs,
        humidity: osrs,
        completion,
        ..Config::default()
    };
    let mut sensor = Bme280::new_i2c(bus.clone(), Address::Primary, config);
    let mut d = delay.clone();
    sensor.init(&mut d).expect("init");
    per_reading(&bus, &delay, || {
        black_box(sensor.measure(&mut d).expect("reading"));
    })
}

fn theirs(osrs: TheirOversampling) -> (BusStats, f64) {
    let (bus, delay) = fresh_bus();
    let mut sensor = BME280::new_primary(bus.clone());
    let mut d = delay.clone();
    sensor
        .init_with_config(&mut d, reference_crate_config(osrs))
        .expect("init");
    per_reading(&bus, &delay, || {
        let _ = black_box(sensor.measure(&mut d));
    })
}

fn main() {
    println!("\nBME280 forced-mode reading on devsim, per reading ({READINGS} readings each)");
    println!(
        "{:<34} {:>12} {:>10} {:>9} {:>14}",
        "driver / oversampling", "transactions", "bytes w", "bytes r", "waiting (ms)"
    );
    let rows = [
        (
            "edgewise ×1 (wait t_max)",
            ours(Oversampling::X1, Completion::WaitMax),
        ),
        (
            "edgewise ×1 (poll status)",
            ours(Oversampling::X1, Completion::PollStatus),
        ),
        (
            "edgewise ×16 (wait t_max)",
            ours(Oversampling::X16, Completion::WaitMax),
        ),
        (
            "edgewise ×16 (poll status)",
            ours(Oversampling::X16, Completion::PollStatus),
        ),
        ("bme280 0.5.1 ×1", theirs(TheirOversampling::Oversampling1X)),
        (
            "bme280 0.5.1 ×16 (result stale)",
            theirs(TheirOversampling::Oversampling16X),
        ),
    ];
    for (name, (stats, wait_ms)) in rows {
        println!(
            "{name:<34} {:>12} {:>10} {:>9} {:>14.3}",
            stats.transactions, stats.bytes_written, stats.bytes_read, wait_ms
        );
    }

    // The real part's trimming, as the driver reads it from the simulated chip.
    let (bus, delay) = fresh_bus();
    let mut sensor = Bme280::new_i2c(bus, Address::Primary, Config::default());
    sensor.init(&mut delay.clone()).expect("init");
    let cal: Calibration = *sensor.calibration().expect("calibration after init");
    let adc = |i: u32| {
        (
            500_000 + (i & 0x3FFF) as i32,
            400_000 + (i & 0x3FFF) as i32,
            30_000 + (i & 0xFFF) as i32,
        )
    };
    let integer = ns_per_call(100_000, |i| {
        let (t, p, h) = adc(black_box(i));
        let (c, t_fine) = cal.compensate_temperature(t);
        black_box((
            c,
            cal.compensate_pressure(p, t_fine),
            cal.compensate_humidity(h, t_fine),
        ));
    });
    let float = ns_per_call(100_000, |i| {
        let (t, p, h) = adc(black_box(i));
        let (c, t_fine) = cal.compensate_temperature_f64(t);
        black_box((
            c,
            cal.compensate_pressure_f64(p, t_fine),
            cal.compensate_humidity_f64(h, t_fine),
        ));
    });
    println!("\nCPU per compensation of one reading (T+P+H), host");
    println!(
        "{:<34} {:>10.1} ns",
        "edgewise integer (Bosch int32/int64)", integer
    );
    println!("{:<34} {:>10.1} ns", "edgewise f64 (Bosch double)", float);

    // The bme280 crate's compensation is private; compare whole readings on the simulated
    // bus instead (same simulated chip, same bus model, virtual clock: no real waiting).
    let (bus, delay) = fresh_bus();
    let mut d = delay.clone();
    let mut ours_sensor = Bme280::new_i2c(bus.clone(), Address::Primary, Config::default());
    ours_sensor.init(&mut d).expect("init");
    let ours_reading = ns_per_call(100_000, |_| {
        black_box(ours_sensor.measure(&mut d).expect("reading"));
    });
    let (bus, delay) = fresh_bus();
    let mut d = delay.clone();
    let mut their_sensor = BME280::new_primary(bus.clone());
    their_sensor
        .init_with_config(
            &mut d,
            reference_crate_config(TheirOversampling::Oversampling1X),
        )
        .expect("init");
    let their_reading = ns_per_call(100_000, |_| {
        let _ = black_box(their_sensor.measure(&mut d));
    });
    println!("\nCPU per whole reading on devsim ×1 (driver + simulated chip + bus model), host");
    println!("{:<34} {:>10.1} ns", "edgewise", ours_reading);
    println!("{:<34} {:>10.1} ns", "bme280 0.5.1", their_reading);
    println!("ratio bme280/edgewise: {:.2}", their_reading / ours_reading);
}
