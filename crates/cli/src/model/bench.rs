//! `edgewise model bench`: time many inferences and report the latency distribution.
//!
//! Percentiles rather than a mean: on a board the tail (a page fault, a preempted run) is
//! what decides whether inference keeps up with sampling. Inputs are filled once; the timed
//! loop does nothing but run the model.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use edgewise_infer::Backend;

use super::tensor::Tensor;
use crate::error::CliError;

/// What the benchmark's inputs hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fill {
    /// Every stored value 0.
    Zeros,
    /// Pseudo-random values from a fixed seed: floats in [-1, 1), integers over their range.
    Random,
}

/// Times `runs` inferences of `file` after `warmup` untimed ones and prints the result.
pub fn bench(
    file: &Path,
    runs: u32,
    warmup: u32,
    fill: Fill,
    backend: Option<Backend>,
) -> Result<(), CliError> {
    let mut model = super::load(file, backend)?;
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let inputs = model
        .inputs()
        .iter()
        .enumerate()
        .map(|(index, info)| {
            let mut tensor = Tensor::zeros("input", index, info)?;
            if fill == Fill::Random {
                tensor.randomize(&mut seed);
            }
            Ok(tensor)
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let mut outputs = model
        .outputs()
        .iter()
        .enumerate()
        .map(|(index, info)| Tensor::zeros("output", index, info))
        .collect::<Result<Vec<_>, _>>()?;
    let input_data: Vec<_> = inputs.iter().map(Tensor::data).collect();
    let mut output_data: Vec<_> = outputs.iter_mut().map(Tensor::data_mut).collect();

    let mut run = || {
        model
            .run(&input_data, &mut output_data)
            .map_err(|e| CliError::new(e.to_string()))
    };
    for _ in 0..warmup {
        run()?;
    }
    let mut latencies = Vec::with_capacity(runs as usize);
    let started = Instant::now();
    for _ in 0..runs {
        let start = Instant::now();
        run()?;
        latencies.push(start.elapsed());
    }
    let total = started.elapsed();
    let summary = Summary::of(&mut latencies, total).ok_or_else(|| CliError::new("no runs"))?;

    println!(
        "{} on {}: {runs} runs after {warmup} warm-up, {} inputs",
        model.name(),
        model.backend(),
        match fill {
            Fill::Zeros => "zero",
            Fill::Random => "random",
        }
    );
    println!(
        "p50 {}  p90 {}  p99 {}  max {}  {:.1} runs/s",
        human(summary.p50),
        human(summary.p90),
        human(summary.p99),
        human(summary.max),
        summary.runs_per_second
    );
    Ok(())
}

/// The latency distribution of a benchmark.
#[derive(Debug, PartialEq)]
struct Summary {
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    runs_per_second: f64,
}

impl Summary {
    /// Nearest-rank percentiles of `latencies` (sorted in place); `total` is the wall time of
    /// the whole loop. `None` for no runs.
    fn of(latencies: &mut [Duration], total: Duration) -> Option<Self> {
        latencies.sort_unstable();
        let max = *latencies.last()?;
        let percentile = |p: usize| {
            // Nearest rank: the smallest value with at least p % of the runs at or below it.
            let rank = (p * latencies.len()).div_ceil(100).max(1);
            latencies[rank - 1]
        };
        Some(Self {
            p50: percentile(50),
            p90: percentile(90),
            p99: percentile(99),
            max,
            runs_per_second: latencies.len() as f64 / total.as_secs_f64().max(f64::MIN_POSITIVE),
        })
    }
}

/// A duration with a unit that keeps three significant digits or so: 840 ns, 12.3 µs, 4.56 ms.
fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        // 1..=200 µs, shuffled.
        let mut latencies: Vec<Duration> = (1..=200)
            .map(|i| Duration::from_micros((i * 37) % 200 + 1))
            .collect();
        let summary = Summary::of(&mut latencies, Duration::from_millis(100)).unwrap();
        assert_eq!(summary.p50, Duration::from_micros(100));
        assert_eq!(summary.p90, Duration::from_micros(180));
        assert_eq!(summary.p99, Duration::from_micros(198));
        assert_eq!(summary.max, Duration::from_micros(200));
        assert_eq!(summary.runs_per_second, 2000.0);
        let mut one = [Duration::from_micros(5)];
        let summary = Summary::of(&mut one, Duration::from_micros(5)).unwrap();
        assert_eq!((summary.p50, summary.p99), (one[0], one[0]));
        assert_eq!(Summary::of(&mut [], Duration::ZERO), None);
    }

    #[test]
    fn durations_read_in_a_fitting_unit() {
        assert_eq!(human(Duration::from_nanos(840)), "840 ns");
        assert_eq!(human(Duration::from_nanos(12_346)), "12.35 µs");
        assert_eq!(human(Duration::from_micros(4_560)), "4.56 ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.50 s");
    }
}
