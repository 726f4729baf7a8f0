//! Measuring helpers shared by the cost benchmarks in `benches/`.

use std::time::Instant;

use edgewise_devsim::{BusStats, SimDelay, SimI2cBus};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs a bench binary without it,
/// as a quick smoke run whose numbers mean nothing.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Median nanoseconds per call of `f` over seven rounds of `calls` calls (10 in a smoke run).
pub fn ns_per_call(calls: u32, mut f: impl FnMut(u32)) -> f64 {
    let calls = if full_run() { calls } else { 10 };
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for i in 0..calls {
                f(i);
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Runs `read` `readings` times and returns the average bus traffic to `address` per reading
/// and the average virtual time `delay` (and its clones) waited, in milliseconds.
pub fn cost_per_reading(
    bus: &SimI2cBus,
    address: u8,
    delay: &SimDelay,
    readings: u64,
    mut read: impl FnMut(),
) -> (BusStats, f64) {
    let before = bus.stats_for(address);
    delay.reset_counters();
    for _ in 0..readings {
        read();
    }
    let total = bus.stats_for(address).since(&before);
    let per = BusStats {
        transactions: total.transactions / readings,
        bytes_written: total.bytes_written / readings,
        bytes_read: total.bytes_read / readings,
        errors: total.errors,
    };
    (per, delay.waited_ns() as f64 / readings as f64 / 1e6)
}
