//! Feature extraction against analytic facts: tones land in their bins with their amplitude,
//! band energies obey Parseval, moments of known distributions come out as textbooks say.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::{SQRT_2, TAU};

use edgewise_infer::dsp::{
    Band, DspError, FeatureConfig, FeatureExtractor, SpectralConfig, TimeFeature, TimeStats,
    Window, WindowFunction,
};

const FS: f32 = 1000.0;

/// SplitMix64: a seeded generator, so the statistical tests repeat exactly.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn gaussian(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    /// Exponential with rate 1 (inverse CDF).
    fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }
}

fn tone(frames: usize, amplitude: f64, hz: f64, phase: f64) -> Vec<f32> {
    (0..frames)
        .map(|n| (amplitude * (TAU * hz * n as f64 / f64::from(FS) + phase).sin()) as f32)
        .collect()
}

fn extractor(frames: usize, spectral: SpectralConfig) -> FeatureExtractor {
    FeatureExtractor::new(FeatureConfig {
        sample_rate_hz: FS,
        window_frames: frames,
        channel_names: vec!["x".into()],
        time_features: TimeFeature::ALL.to_vec(),
        spectral: Some(spectral),
    })
    .unwrap()
}

/// Features of a single-channel signal, by name.
fn features(extractor: &mut FeatureExtractor, signal: &[f32]) -> Vec<(String, f32)> {
    let window = Window::from_interleaved(signal, 1).unwrap();
    let values = extractor.extract_to_buffer(&window).unwrap().to_vec();
    extractor.names().iter().cloned().zip(values).collect()
}

fn get(features: &[(String, f32)], name: &str) -> f32 {
    features
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
        .1
}

#[test]
fn a_sine_on_a_bin_reads_its_amplitude_there_with_either_window() {
    for window_function in [WindowFunction::Rectangular, WindowFunction::Hann] {
        // 1024 frames at 1 kHz: bin 128 is exactly 125 Hz.
        let mut ex = extractor(
            1024,
            SpectralConfig {
                window_function,
                peaks: 2,
                ..SpectralConfig::default()
            },
        );
        let f = features(&mut ex, &tone(1024, 2.5, 125.0, 0.3));
        let amplitude = ex.amplitude_spectrum();
        assert_eq!(amplitude.len(), 513);
        assert!(
            (amplitude[128] - 2.5).abs() < 1e-3,
            "{window_function:?}: {}",
            amplitude[128]
        );
        assert_eq!(get(&f, "x.fft_peak_1_hz"), 125.0);
        assert!((get(&f, "x.fft_peak_1_amplitude") - 2.5).abs() < 1e-3);
        // Nothing else stands out: the second peak is rounding noise.
        assert!(get(&f, "x.fft_peak_2_amplitude") < 1e-3, "{f:?}");
    }
}

#[test]
fn the_hann_taper_spreads_a_bin_centred_tone_over_three_bins_at_half_amplitude() {
    let mut ex = extractor(1024, SpectralConfig::default());
    features(&mut ex, &tone(1024, 2.0, 125.0, 0.0));
    let a = ex.amplitude_spectrum();
    // Hann's DFT is (−¼, ½, −¼) around the tone: neighbours at half the centre's amplitude.
    assert!((a[127] - 1.0).abs() < 1e-3 && (a[129] - 1.0).abs() < 1e-3);
    assert!(a[126] < 1e-3 && a[130] < 1e-3);
}

#[test]
fn band_energy_of_a_sine_is_half_its_amplitude_squared() {
    for window_function in [WindowFunction::Rectangular, WindowFunction::Hann] {
        let mut ex = extractor(
            1000,
            SpectralConfig {
                window_function,
                bands: vec![Band::new(0.0, 500.0)],
                ..SpectralConfig::default()
            },
        );
        let f = features(&mut ex, &tone(1000, 3.0, 77.0, 1.0));
        // Parseval: the whole spectrum holds the mean square, A²/2 = 4.5.
        let energy = get(&f, "x.band_0_500hz");
        assert!((energy - 4.5).abs() < 1e-3, "{window_function:?}: {energy}");
        assert!((get(&f, "x.rms") - (3.0 / SQRT_2) as f32).abs() < 1e-4);
    }
}

#[test]
fn parseval_holds_for_noise_with_the_rectangular_window() {
    let mut rng = Rng(7);
    let noise: Vec<f32> = (0..1024).map(|_| (0.3 * rng.gaussian()) as f32).collect();
    let mut ex = extractor(
        1024,
        SpectralConfig {
            window_function: WindowFunction::Rectangular,
            remove_mean: false,
            bands: vec![Band::new(0.0, 100.0), Band::new(100.0, 500.0)],
            ..SpectralConfig::default()
        },
    );
    let f = features(&mut ex, &noise);
    let mean_square = noise.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / 1024.0;
    let total = f64::from(get(&f, "x.band_0_100hz") + get(&f, "x.band_100_500hz"));
    assert!(
        (total - mean_square).abs() < 1e-5 * mean_square.max(1.0),
        "{total} vs {mean_square}"
    );
    let power_sum: f64 = ex.power_spectrum().iter().map(|p| f64::from(*p)).sum();
    assert!((power_sum - mean_square).abs() < 1e-5);
}

#[test]
fn two_tones_split_their_energy_between_bands() {
    let mut ex = extractor(
        1000,
        SpectralConfig {
            bands: vec![
                Band::new(0.0, 100.0),
                Band::new(100.0, 300.0),
                Band::new(300.0, 500.0),
            ],
            peaks: 2,
            ..SpectralConfig::default()
        },
    );
    let signal: Vec<f32> = tone(1000, 1.0, 40.0, 0.0)
        .iter()
        .zip(tone(1000, 3.0, 200.0, 0.7))
        .map(|(a, b)| a + b)
        .collect();
    let f = features(&mut ex, &signal);
    assert!((get(&f, "x.band_0_100hz") - 0.5).abs() < 1e-3, "{f:?}");
    assert!((get(&f, "x.band_100_300hz") - 4.5).abs() < 1e-3, "{f:?}");
    assert!(get(&f, "x.band_300_500hz") < 1e-6, "{f:?}");
    // Peaks come largest first.
    assert_eq!(get(&f, "x.fft_peak_1_hz"), 200.0);
    assert_eq!(get(&f, "x.fft_peak_2_hz"), 40.0);
    assert!((get(&f, "x.fft_peak_2_amplitude") - 1.0).abs() < 1e-3);
    // The centroid of two lines lies between them, weighted by amplitude: (40 + 3·200) / 4.
    assert!(
        (get(&f, "x.spectral_centroid_hz") - 160.0).abs() < 0.5,
        "{f:?}"
    );
}

#[test]
fn spectral_centroid_of_a_single_tone_is_its_frequency() {
    let mut ex = extractor(1000, SpectralConfig::default());
    for hz in [31.0, 123.0, 407.0] {
        let f = features(&mut ex, &tone(1000, 1.0, hz, 0.2));
        let centroid = get(&f, "x.spectral_centroid_hz");
        assert!((centroid - hz as f32).abs() < 1e-2, "{hz}: {centroid}");
    }
    // Off a bin centre the Hann lobe is nearly symmetric: within a few tenths of a bin.
    let f = features(&mut ex, &tone(1000, 1.0, 123.4, 0.2));
    let centroid = get(&f, "x.spectral_centroid_hz");
    assert!((centroid - 123.4).abs() < 0.3, "{centroid}");
}

#[test]
fn an_offset_does_not_leak_into_the_spectrum_when_the_mean_is_removed() {
    let mut ex = extractor(
        1000,
        SpectralConfig {
            bands: vec![Band::new(0.0, 20.0)],
            ..SpectralConfig::default()
        },
    );
    let gravity_and_tone: Vec<f32> = tone(1000, 0.5, 100.0, 0.0)
        .iter()
        .map(|x| x + 9.81)
        .collect();
    let f = features(&mut ex, &gravity_and_tone);
    assert!((get(&f, "x.mean") - 9.81).abs() < 1e-4);
    assert!(get(&f, "x.band_0_20hz") < 1e-6, "{f:?}");
    assert!((get(&f, "x.spectral_centroid_hz") - 100.0).abs() < 1e-2);
}

#[test]
fn sine_rms_crest_factor_and_kurtosis() {
    // 10 whole periods, and sample 25 sits on the crest.
    let s = TimeStats::of(&tone(1000, 2.0, 10.0, 0.0));
    assert!((s.rms - 2.0 / SQRT_2).abs() < 1e-6, "{}", s.rms);
    assert!((s.crest_factor - SQRT_2).abs() < 1e-6, "{}", s.crest_factor);
    assert!((s.peak - 2.0).abs() < 1e-6 && (s.peak_to_peak - 4.0).abs() < 1e-6);
    // Excess kurtosis of a sine: 3/2 − 3.
    assert!((s.kurtosis + 1.5).abs() < 1e-6, "{}", s.kurtosis);
    assert!(s.skewness.abs() < 1e-6 && s.mean.abs() < 1e-6);
}

#[test]
fn square_wave_kurtosis_is_minus_two_in_fisher_convention() {
    let square: Vec<f32> = (0..1000)
        .map(|n| if (n / 25) % 2 == 0 { 1.5 } else { -1.5 })
        .collect();
    let s = TimeStats::of(&square);
    assert!((s.kurtosis + 2.0).abs() < 1e-9, "{}", s.kurtosis);
    assert!((s.crest_factor - 1.0).abs() < 1e-9);
    assert!((s.rms - 1.5).abs() < 1e-9 && (s.std - 1.5).abs() < 1e-9);
}

#[test]
fn gaussian_noise_has_zero_excess_kurtosis_and_no_skew() {
    let mut rng = Rng(42);
    let noise: Vec<f32> = (0..200_000)
        .map(|_| (5.0 + 2.0 * rng.gaussian()) as f32)
        .collect();
    let s = TimeStats::of(&noise);
    // Standard errors at n = 200 000: √(24/n) = 0.011 for kurtosis, √(6/n) = 0.0055 for skew.
    assert!(s.kurtosis.abs() < 0.05, "{}", s.kurtosis);
    assert!(s.skewness.abs() < 0.025, "{}", s.skewness);
    assert!((s.std - 2.0).abs() < 0.02 && (s.mean - 5.0).abs() < 0.02);
}

#[test]
fn exponential_samples_have_skewness_two_and_excess_kurtosis_six() {
    let mut rng = Rng(3);
    let samples: Vec<f32> = (0..200_000).map(|_| rng.exponential() as f32).collect();
    let s = TimeStats::of(&samples);
    assert!((s.skewness - 2.0).abs() < 0.1, "{}", s.skewness);
    assert!((s.kurtosis - 6.0).abs() < 1.0, "{}", s.kurtosis);
    assert!((s.mean - 1.0).abs() < 0.01 && (s.std - 1.0).abs() < 0.01);
}

#[test]
fn the_extractor_deinterleaves_channels_into_a_named_layout() {
    let mut ex = FeatureExtractor::new(FeatureConfig {
        time_features: vec![TimeFeature::Rms, TimeFeature::Kurtosis],
        spectral: Some(SpectralConfig {
            bands: vec![Band::new(0.0, 50.0), Band::new(12.5, 250.0)],
            peaks: 1,
            ..SpectralConfig::default()
        }),
        ..FeatureConfig::new(FS, 1000, &["accel_x", "accel_y", "accel_z"])
    })
    .unwrap();
    let expected: Vec<String> = ["accel_x", "accel_y", "accel_z"]
        .iter()
        .flat_map(|c| {
            [
                "rms",
                "kurtosis",
                "band_0_50hz",
                "band_12p5_250hz",
                "fft_peak_1_hz",
                "fft_peak_1_amplitude",
                "spectral_centroid_hz",
            ]
            .map(|f| format!("{c}.{f}"))
        })
        .collect();
    assert_eq!(ex.names(), expected);

    // x: 1.0 at 20 Hz, y: 2.0 at 100 Hz, z: 4.0 at 300 Hz, interleaved.
    let (x, y, z) = (
        tone(1000, 1.0, 20.0, 0.0),
        tone(1000, 2.0, 100.0, 0.0),
        tone(1000, 4.0, 300.0, 0.0),
    );
    let interleaved: Vec<f32> = (0..1000).flat_map(|i| [x[i], y[i], z[i]]).collect();
    let window = Window::from_interleaved(&interleaved, 3).unwrap();
    let mut out = vec![0.0; ex.len()];
    ex.extract(&window, &mut out).unwrap();
    for (channel, (amplitude, hz)) in [(1.0f32, 20.0f32), (2.0, 100.0), (4.0, 300.0)]
        .into_iter()
        .enumerate()
    {
        let f = &out[channel * 7..channel * 7 + 7];
        assert!((f[0] - amplitude / SQRT_2 as f32).abs() < 1e-4, "{f:?}");
        assert_eq!(f[4], hz);
        assert!((f[5] - amplitude).abs() < 1e-3, "{f:?}");
        assert!((f[6] - hz).abs() < 1e-2, "{f:?}");
    }
    // Only x's tone is below 50 Hz.
    assert!((out[2] - 0.5).abs() < 1e-3 && out[9] < 1e-6 && out[16] < 1e-6);
}

#[test]
fn mismatched_windows_and_buffers_are_errors() {
    let mut ex = extractor(256, SpectralConfig::default());
    let short = vec![0.0; 255];
    assert_eq!(
        ex.extract_to_buffer(&Window::from_interleaved(&short, 1).unwrap()),
        Err(DspError::WindowLength {
            expected: 256,
            got: 255
        })
    );
    let signal = vec![0.0; 256];
    let window = Window::from_interleaved(&signal, 1).unwrap();
    let mut out = vec![0.0; ex.len() + 1];
    assert!(matches!(
        ex.extract(&window, &mut out),
        Err(DspError::OutputLength { .. })
    ));
    let two = Window::from_interleaved(&signal, 2).unwrap();
    assert!(matches!(
        ex.extract(&two, &mut out[..ex.len()]),
        Err(DspError::ChannelCount { .. })
    ));
    for bad in [
        Band::new(50.0, 10.0),
        Band::new(-1.0, 10.0),
        Band::new(100.1, 100.2),
    ] {
        let config = FeatureConfig {
            spectral: Some(SpectralConfig {
                bands: vec![bad],
                ..SpectralConfig::default()
            }),
            ..FeatureConfig::new(FS, 1000, &["x"])
        };
        assert!(
            matches!(FeatureExtractor::new(config), Err(DspError::Band { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        FeatureExtractor::new(FeatureConfig::new(FS, 1000, &["a.b"])),
        Err(DspError::ChannelName(_))
    ));
}
