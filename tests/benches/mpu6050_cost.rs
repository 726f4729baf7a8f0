//! What MPU-6050/6500 readings cost on the simulated chip: bus transactions and bytes, time
//! the driver waits, and CPU time. For a 1 kHz stream it compares FIFO batches with reading
//! every sample from the registers (polling DATA_RDY then a burst, or the naive three separate
//! axis reads). Prints tables; asserts nothing (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench mpu6050_cost` (or `cargo xtask bench`)

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use edgewise_devsim::mpu6050::Mpu6050Model;
use edgewise_devsim::vibration::MachineVibration;
use edgewise_devsim::{BusStats, SimClock, SimDelay, SimI2cBus};
use edgewise_sensors::mpu6050::{
    acceleration, angular_rate, temperature, AccelRange, Address, Config, GyroRange, Mpu6050,
    Sample, SingleRead, Variant,
};
use edgewise_tests::bench::{full_run, ns_per_call};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

const ADDR: u8 = 0x68;

fn samples_per_row() -> u64 {
    if full_run() {
        4_000
    } else {
        200
    }
}

fn rig(model: Mpu6050Model, config: Config) -> (SimI2cBus, Mpu6050<SimI2cBus>, SimDelay) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, model.with_vibration(MachineVibration::default()));
    let delay = bus.clock().delay();
    let mut imu = Mpu6050::new(bus.clone(), Address::Ad0Low, config);
    imu.init(&mut delay.clone()).expect("init");
    (bus, imu, delay)
}

struct Row {
    name: String,
    per_sample: [f64; 3],
    driver_wait_us: f64,
}

fn row(name: &str, samples: u64, cost: BusStats, driver_wait_ns: u64) -> Row {
    let n = samples as f64;
    Row {
        name: name.to_string(),
        per_sample: [
            cost.transactions as f64 / n,
            cost.bytes_written as f64 / n,
            cost.bytes_read as f64 / n,
        ],
        driver_wait_us: driver_wait_ns as f64 / n / 1e3,
    }
}

fn print(rows: &[Row]) {
    println!(
        "{:<46} {:>12} {:>9} {:>9} {:>16}",
        "method", "transactions", "bytes w", "bytes r", "driver wait (µs)"
    );
    for r in rows {
        println!(
            "{:<46} {:>12.2} {:>9.2} {:>9.2} {:>16.1}",
            r.name, r.per_sample[0], r.per_sample[1], r.per_sample[2], r.driver_wait_us
        );
    }
}

/// Single readings through `measure`, back to back.
fn single(model: Mpu6050Model, single_read: SingleRead, divider: u8) -> (BusStats, u64, u64) {
    let config = Config {
        single_read,
        sample_rate_divider: divider,
        ..Config::vibration_1khz()
    };
    let (bus, mut imu, delay) = rig(model, config);
    let before = bus.stats_for(ADDR);
    delay.reset_counters();
    let n = samples_per_row();
    let mut d = delay.clone();
    for _ in 0..n {
        black_box(imu.measure(&mut d).expect("reading"));
    }
    (bus.stats_for(ADDR).since(&before), delay.waited_ns(), n)
}

/// Every sample of a 1 kHz stream by a 14-byte burst each millisecond, paced by the caller's
/// timer (no DATA_RDY poll: a late or early timer repeats or skips a sample unnoticed).
fn timer_paced_bursts() -> (BusStats, u64, u64) {
    let (bus, mut imu, delay) = rig(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    let mut pace = delay.clone();
    let before = bus.stats_for(ADDR);
    let n = samples_per_row();
    for _ in 0..n {
        pace.delay_ms(1);
        delay.reset_counters();
        black_box(imu.measure(&mut delay.clone()).expect("reading"));
    }
    (bus.stats_for(ADDR).since(&before), delay.waited_ns(), n)
}

/// Every sample of a 1 kHz stream through FIFO batches of `batch` samples.
fn fifo(model: Mpu6050Model, batch: u32) -> (BusStats, u64, u64) {
    let (bus, mut imu, delay) = rig(model, Config::vibration_1khz());
    let mut pace = delay.clone();
    let now = |bus: &SimI2cBus| Duration::from_nanos(bus.clock().now_ns());
    imu.start_fifo(now(&bus)).expect("start");
    let before = bus.stats_for(ADDR);
    let mut out = vec![Sample::default(); 128];
    let mut total = 0u64;
    while total < samples_per_row() {
        // The caller's pacing, not the driver's waiting.
        pace.delay_ms(batch);
        total += imu.read_fifo(now(&bus), &mut out).expect("drain").samples as u64;
    }
    (bus.stats_for(ADDR).since(&before), 0, total)
}

/// The naive way: three single-register-pair reads (accel X, Y, Z) per 1 ms sample.
fn naive_three_axis_reads() -> (BusStats, u64, u64) {
    let (mut bus, imu, delay) = rig(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    drop(imu);
    let mut pace = delay.clone();
    let before = bus.stats_for(ADDR);
    let n = samples_per_row();
    for _ in 0..n {
        pace.delay_ms(1);
        for register in [0x3B, 0x3D, 0x3F] {
            let mut word = [0u8; 2];
            bus.write_read(ADDR, &[register], &mut word).expect("read");
            black_box(word);
        }
    }
    (bus.stats_for(ADDR).since(&before), 0, n)
}

fn main() {
    let n = samples_per_row();
    println!("\nMPU-6050 single reading on devsim, per reading ({n} readings each)");
    let mut rows = Vec::new();
    let (cost, wait, count) = single(Mpu6050Model::mpu6050(), SingleRead::Latest, 0);
    rows.push(row("latest sample: one 14-byte burst", count, cost, wait));
    let (cost, wait, count) = single(Mpu6050Model::mpu6050(), SingleRead::NextSample, 0);
    rows.push(row(
        "next sample @1 kHz: poll DATA_RDY + burst",
        count,
        cost,
        wait,
    ));
    let (cost, wait, count) = single(Mpu6050Model::mpu6050(), SingleRead::NextSample, 9);
    rows.push(row(
        "next sample @100 Hz: poll DATA_RDY + burst",
        count,
        cost,
        wait,
    ));
    print(&rows);

    println!("\n1 kHz three-axis stream on devsim, per sample ({n} samples each)");
    let mut rows = Vec::new();
    for batch in [10, 50, 80] {
        let (cost, wait, count) = fifo(Mpu6050Model::mpu6050(), batch);
        rows.push(row(
            &format!("MPU-6050 FIFO, batches of {batch}"),
            count,
            cost,
            wait,
        ));
    }
    for batch in [10, 40] {
        let (cost, wait, count) = fifo(Mpu6050Model::mpu6500(), batch);
        rows.push(row(
            &format!("MPU-6500 FIFO, batches of {batch}"),
            count,
            cost,
            wait,
        ));
    }
    let (cost, wait, count) = single(Mpu6050Model::mpu6050(), SingleRead::NextSample, 0);
    rows.push(row(
        "per sample: poll DATA_RDY + 14-byte burst",
        count,
        cost,
        wait,
    ));
    let (cost, wait, count) = timer_paced_bursts();
    rows.push(row(
        "per sample: 14-byte burst (timer-paced, no poll)",
        count,
        cost,
        wait,
    ));
    let (cost, wait, count) = naive_three_axis_reads();
    rows.push(row(
        "per sample: naive accel X, Y, Z reads (3 axes)",
        count,
        cost,
        wait,
    ));
    print(&rows);
    println!(
        "(FIFO: the 6050 holds 85 12-byte samples, the 6500 42: drain within 84 / 41 ms at 1 kHz)"
    );

    // CPU: integer scaling of one sample (3 accel, 3 gyro, temperature), host.
    let scale = ns_per_call(50_000, |i| {
        let raw = black_box(i as i16);
        black_box((
            [raw, raw ^ 1, raw ^ 2].map(|r| acceleration(r, AccelRange::G2)),
            [raw, raw ^ 3, raw ^ 5].map(|r| angular_rate(r, GyroRange::Dps250)),
            temperature(raw, Variant::Mpu6050),
        ));
    });
    let (_bus, mut imu, delay) = rig(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    let mut d = delay.clone();
    let reading = ns_per_call(50_000, |_| {
        black_box(imu.measure(&mut d).expect("reading"));
    });
    let (bus, mut imu, delay) = rig(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    let mut pace = delay.clone();
    imu.start_fifo(Duration::from_nanos(bus.clock().now_ns()))
        .expect("start");
    let mut out = vec![Sample::default(); 64];
    let drain_50 = ns_per_call(50_000, |_| {
        pace.delay_ms(50);
        let now = Duration::from_nanos(bus.clock().now_ns());
        black_box(imu.read_fifo(now, &mut out).expect("drain"));
    });
    println!("\nCPU time, host");
    println!(
        "{:<46} {:>10.1} ns",
        "scaling one sample (7 values, integer)", scale
    );
    println!(
        "{:<46} {:>10.1} ns",
        "single reading back to back (driver + model)", reading
    );
    println!(
        "{:<46} {:>10.1} ns",
        "FIFO drain of 50 samples, per sample (+ model)",
        drain_50 / 50.0
    );
    println!("(the chip model's 8 kHz signal path dominates the devsim numbers)");
}
