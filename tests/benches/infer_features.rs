//! Throughput of feature extraction and anomaly scoring for a 1 kHz three-axis accelerometer:
//! windows of 1024 frames, Hann taper, every time and spectral feature, and detector scores.
//! Prints numbers; asserts nothing (they are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench infer_features` (or `cargo xtask bench`)

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use edgewise_infer::anomaly::{DetectorConfig, FeatureDetector, ReconstructionScorer};
use edgewise_infer::dsp::{
    Band, FeatureConfig, FeatureExtractor, SpectralConfig, Window, WindowFunction,
};
use edgewise_tests::bench::ns_per_call;

const FRAMES: usize = 1024;

/// Interleaved x y z: the 1× and 2× orders on X, noise-like jitter elsewhere, gravity on Z.
fn three_axis_window() -> Vec<f32> {
    (0..FRAMES)
        .flat_map(|n| {
            let t = n as f32 / 1000.0;
            let jitter = ((n * 7919) % 101) as f32 / 1000.0 - 0.05;
            [
                0.5 * (std::f32::consts::TAU * 29.5 * t).sin()
                    + 0.15 * (std::f32::consts::TAU * 59.0 * t).sin()
                    + jitter,
                jitter,
                9.81 - jitter,
            ]
        })
        .collect()
}

fn extractor(time: bool, spectral: Option<SpectralConfig>) -> FeatureExtractor {
    let mut config = FeatureConfig::new(1000.0, FRAMES, &["accel_x", "accel_y", "accel_z"]);
    if !time {
        config.time_features.clear();
    }
    config.spectral = spectral;
    FeatureExtractor::new(config).unwrap()
}

fn all_spectral(window_function: WindowFunction) -> SpectralConfig {
    SpectralConfig {
        window_function,
        bands: vec![
            Band::new(0.0, 50.0),
            Band::new(50.0, 150.0),
            Band::new(150.0, 250.0),
            Band::new(250.0, 500.0),
        ],
        peaks: 3,
        ..SpectralConfig::default()
    }
}

fn main() {
    let samples = three_axis_window();
    let window = Window::from_interleaved(&samples, 3).unwrap();
    println!("\nFeature extraction, 3 axes × {FRAMES} frames (1.024 s at 1 kHz)");
    println!(
        "{:<44} {:>9} {:>12} {:>14}",
        "features", "count", "µs/window", "windows/s"
    );
    let rows = [
        (
            "all (time + Hann spectrum, 4 bands, 3 peaks)",
            extractor(true, Some(all_spectral(WindowFunction::Hann))),
        ),
        (
            "all, rectangular window",
            extractor(true, Some(all_spectral(WindowFunction::Rectangular))),
        ),
        ("time-domain only", extractor(true, None)),
        (
            "spectral only (Hann)",
            extractor(false, Some(all_spectral(WindowFunction::Hann))),
        ),
    ];
    let mut all_ns = 0.0;
    for (label, mut ex) in rows {
        let mut out = vec![0.0; ex.len()];
        let ns = ns_per_call(2_000, |_| {
            ex.extract(black_box(&window), &mut out).unwrap();
            black_box(&out);
        });
        if all_ns == 0.0 {
            all_ns = ns;
        }
        println!(
            "{label:<44} {:>9} {:>12.1} {:>14.0}",
            ex.len(),
            ns / 1e3,
            1e9 / ns
        );
    }
    println!(
        "real-time factor of the full set: {:.0}× (one window per 1.024 s of signal)",
        1.024e9 / all_ns
    );

    // Scores: a detector over the full feature vector, and the reconstruction scorer over a
    // vector of the same length.
    let mut ex = extractor(true, Some(all_spectral(WindowFunction::Hann)));
    let mut features = vec![0.0; ex.len()];
    ex.extract(&window, &mut features).unwrap();
    let mut detector = FeatureDetector::new(DetectorConfig::new(ex.len(), 64)).unwrap();
    let mut scorer = ReconstructionScorer::new(64, 6.0).unwrap();
    let mut reconstruction = features.clone();
    for i in 0..64 {
        let mut varied = features.clone();
        varied[i % features.len()] *= 1.01;
        detector.observe(&varied).unwrap();
        reconstruction[i % features.len()] += 0.01;
        scorer.observe(&features, &reconstruction).unwrap();
    }
    println!("\nAnomaly scoring, {}-feature vectors", features.len());
    println!("{:<44} {:>12} {:>14}", "scorer", "ns/score", "scores/s");
    let ns = ns_per_call(200_000, |_| {
        black_box(detector.score(black_box(&features)).unwrap());
    });
    println!(
        "{:<44} {:>12.1} {:>14.0}",
        "robust z (median/MAD), max over features",
        ns,
        1e9 / ns
    );
    let ns = ns_per_call(200_000, |_| {
        black_box(
            scorer
                .score(black_box(&features), black_box(&reconstruction))
                .unwrap(),
        );
    });
    println!(
        "{:<44} {:>12.1} {:>14.0}",
        "reconstruction MSE + robust z",
        ns,
        1e9 / ns
    );
}
