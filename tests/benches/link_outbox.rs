//! What the durable outbox costs: durable commits per second and readings per second at
//! batch sizes 1, 64 and 1024, in the clear and encrypted, and how fast a backlog drains
//! through peek + ack. The database lives in cargo's target tmpdir (a real disk, so every
//! commit pays a real fsync). Prints tables; asserts nothing.
//!
//! `cargo bench -p edgewise-tests --bench link_outbox` (or `cargo xtask bench`)

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

use edgewise_link::outbox::{EncryptionKey, Limits, Outbox, OutboxConfig};
use edgewise_link::Reading;
use edgewise_tests::bench::full_run;

/// A typical environmental reading: three numeric channels.
fn reading(sensor_index: usize, n: u64) -> Reading {
    const SENSORS: [&str; 4] = ["bme280", "sht31", "ads1115", "ina219"];
    Reading::new(SENSORS[sensor_index % SENSORS.len()], SystemTime::now())
        .with_number("temperature", "Cel", 20.0 + (n % 100) as f64 * 0.01)
        .with_number("humidity", "%RH", 40.0)
        .with_number("pressure", "Pa", 101_325.0)
}

fn open(dir: &std::path::Path, name: &str, encrypted: bool) -> Outbox {
    Outbox::open(
        dir.join(name),
        OutboxConfig {
            limits: Limits::unbounded(),
            encryption: encrypted.then(|| EncryptionKey::from_bytes([0x42; 32])),
            ..OutboxConfig::default()
        },
    )
    .expect("open outbox")
}

/// Commits per second and readings per second for `commits` accepts of `batch` readings.
fn accept_rate(outbox: &Outbox, batch: usize, commits: usize) -> (f64, f64) {
    // Warm up: the first commits grow the new file and fill caches.
    for n in 0..5 {
        outbox.accept(&[reading(0, n)]).expect("warm-up accept");
    }
    let batches: Vec<Vec<Reading>> = (0..commits)
        .map(|c| {
            (0..batch)
                .map(|i| reading(i, (c * batch + i) as u64))
                .collect()
        })
        .collect();
    let start = Instant::now();
    for readings in &batches {
        outbox.accept(readings).expect("accept");
    }
    let secs = start.elapsed().as_secs_f64();
    (commits as f64 / secs, (commits * batch) as f64 / secs)
}

/// Readings per second and rounds per second draining a backlog with peek(`batch`) + ack.
fn drain_rate(outbox: &Outbox, backlog: usize, batch: usize) -> (f64, f64, Duration) {
    for chunk in 0..backlog.div_ceil(1024) {
        let readings: Vec<Reading> = (0..1024.min(backlog - chunk * 1024))
            .map(|i| reading(i, i as u64))
            .collect();
        outbox.accept(&readings).expect("fill");
    }
    let start = Instant::now();
    let mut rounds = 0usize;
    let mut drained = 0usize;
    loop {
        let peeked = outbox.peek(batch).expect("peek");
        if peeked.is_empty() {
            break;
        }
        drained += peeked.len();
        outbox.ack(&peeked.keys).expect("ack");
        rounds += 1;
    }
    let elapsed = start.elapsed();
    let secs = elapsed.as_secs_f64();
    (drained as f64 / secs, rounds as f64 / secs, elapsed)
}

fn main() {
    let full = full_run();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch dir");

    println!("outbox accept: one durable (fsync'd) commit per call");
    println!(
        "{:>7} {:>10} {:>12} {:>14}",
        "batch", "records", "commits/s", "readings/s"
    );
    for encrypted in [false, true] {
        for batch in [1usize, 64, 1024] {
            let commits = match (full, batch) {
                (false, _) => 3,
                (true, 1) => 300,
                (true, 64) => 200,
                (true, _) => 40,
            };
            let name = format!("accept-{batch}-{encrypted}.redb");
            let outbox = open(dir.path(), &name, encrypted);
            let (commits_per_sec, readings_per_sec) = accept_rate(&outbox, batch, commits);
            println!(
                "{batch:>7} {:>10} {commits_per_sec:>12.0} {readings_per_sec:>14.0}",
                if encrypted { "encrypted" } else { "plain" }
            );
        }
    }

    let backlog = if full { 20_000 } else { 300 };
    println!();
    println!("outbox drain: peek(batch) + ack(all of it) over a backlog of {backlog} readings");
    println!(
        "{:>7} {:>10} {:>14} {:>10} {:>10}",
        "batch", "records", "readings/s", "rounds/s", "total ms"
    );
    for encrypted in [false, true] {
        for batch in [64usize, 256, 1024] {
            let name = format!("drain-{batch}-{encrypted}.redb");
            let outbox = open(dir.path(), &name, encrypted);
            let (readings_per_sec, rounds_per_sec, elapsed) = drain_rate(&outbox, backlog, batch);
            println!(
                "{batch:>7} {:>10} {readings_per_sec:>14.0} {rounds_per_sec:>10.0} {:>10.1}",
                if encrypted { "encrypted" } else { "plain" },
                elapsed.as_secs_f64() * 1e3
            );
        }
    }
    if !full {
        println!("(smoke run: numbers mean nothing; run with `cargo bench`)");
    }
}
