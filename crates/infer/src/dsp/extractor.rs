//! Feature vectors from windows: time-domain statistics and real-FFT spectral features per
//! channel, in a fixed, named layout.

use std::fmt::Write as _;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::stats::{TimeFeature, TimeStats};
use super::window::Window;
use super::DspError;

/// Taper applied to a window before the FFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowFunction {
    /// No taper: exact for tones on a bin centre, heavy leakage between bins otherwise.
    Rectangular,
    /// Periodic Hann, w\[n\] = 0.5 − 0.5·cos(2πn/N) (scipy's `get_window("hann", N)`): side
    /// lobes fall off fast, so a strong 1× line does not bury a weak defect band.
    #[default]
    Hann,
}

/// A frequency band `[low_hz, high_hz)`; a band reaching Nyquist includes the Nyquist bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Lower edge, inclusive, Hz.
    pub low_hz: f32,
    /// Upper edge, exclusive, Hz.
    pub high_hz: f32,
}

impl Band {
    /// The band `[low_hz, high_hz)`.
    pub const fn new(low_hz: f32, high_hz: f32) -> Self {
        Self { low_hz, high_hz }
    }
}

/// Spectral features of every channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralConfig {
    /// Taper before the FFT.
    pub window_function: WindowFunction,
    /// Subtract the window's mean first, so a DC offset (gravity) neither leaks into the low
    /// bands through the taper nor pulls the centroid towards 0 Hz.
    pub remove_mean: bool,
    /// Bands whose energy (mean square, see [`FeatureExtractor`]) is reported.
    pub bands: Vec<Band>,
    /// How many spectral peaks (local maxima of the amplitude spectrum, largest first) to
    /// report, each as frequency and amplitude.
    pub peaks: usize,
    /// Report the spectral centroid.
    pub centroid: bool,
}

impl Default for SpectralConfig {
    /// Hann, mean removed, no bands, the three largest peaks and the centroid.
    fn default() -> Self {
        Self {
            window_function: WindowFunction::Hann,
            remove_mean: true,
            bands: Vec::new(),
            peaks: 3,
            centroid: true,
        }
    }
}

/// What to extract from windows of a given shape.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    /// Sampling rate of each channel, Hz.
    pub sample_rate_hz: f32,
    /// Frames per window (the FFT length).
    pub window_frames: usize,
    /// One name per channel, in interleaving order (e.g. `accel_x`); used as the prefix of
    /// every feature name, so it must not contain `.`.
    pub channel_names: Vec<String>,
    /// Time-domain features of each channel, in this order.
    pub time_features: Vec<TimeFeature>,
    /// Spectral features; `None` skips the FFT altogether.
    pub spectral: Option<SpectralConfig>,
}

impl FeatureConfig {
    /// Every time-domain feature and the default spectral features for the named channels.
    pub fn new(sample_rate_hz: f32, window_frames: usize, channel_names: &[&str]) -> Self {
        Self {
            sample_rate_hz,
            window_frames,
            channel_names: channel_names
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            time_features: TimeFeature::ALL.to_vec(),
            spectral: Some(SpectralConfig::default()),
        }
    }
}

/// The FFT machinery, built once per extractor.
struct Spectrum {
    config: SpectralConfig,
    fft: Arc<dyn RealToComplex<f32>>,
    /// The taper, one coefficient per frame.
    taper: Vec<f32>,
    /// Σw: a tone of amplitude A on a bin centre gives |X_k| = A·Σw/2.
    taper_sum: f32,
    /// N·Σw²: a signal's mean square is Σ|X_k|² / (N·Σw²) over all N bins (Parseval with
    /// the taper's energy loss corrected).
    power_norm: f32,
    /// Bin index ranges `[first, end)` of each band.
    band_bins: Vec<(usize, usize)>,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Single-sided amplitude spectrum, N/2 + 1 bins.
    amplitude: Vec<f32>,
    /// Single-sided power spectrum (mean square per bin), N/2 + 1 bins.
    power: Vec<f32>,
    /// (amplitude, bin) of the largest local maxima so far, largest first.
    peaks: Vec<(f32, usize)>,
}

impl std::fmt::Debug for Spectrum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectrum")
            .field("config", &self.config)
            .field("len", &self.fft.len())
            .finish_non_exhaustive()
    }
}

/// Turns windows into feature vectors with a fixed layout, allocation-free after
/// [`FeatureExtractor::new`].
///
/// # Layout
///
/// Channel by channel in configuration order; for each channel its time features in the
/// configured order (`accel_x.mean`, `accel_x.rms`, …), then band energies
/// (`accel_x.band_0_50hz`; a fractional edge is written with `p`: `band_12p5_25hz`), then
/// peaks by decreasing amplitude (`accel_x.fft_peak_1_hz`, `accel_x.fft_peak_1_amplitude`,
/// `accel_x.fft_peak_2_hz`, …; missing peaks are 0 Hz, amplitude 0), then
/// `accel_x.spectral_centroid_hz`. [`FeatureExtractor::names`] lists them.
///
/// # Spectral scaling
///
/// With N frames, taper w and X = rfft(w·x), bin k is at k·fs/N Hz and
/// - the **amplitude spectrum** is c_k·|X_k| / Σw, with c_k = 2 except at DC and Nyquist
///   where it is 1: a sine of amplitude A centred on a bin reads A there, with or without the
///   Hann taper (which halves Σw, its coherent gain, and the scaling undoes it). Peaks report
///   this amplitude at the bin's frequency (no interpolation; resolution fs/N).
/// - the **power spectrum** is c_k·|X_k|² / (N·Σw²): each bin's share of the mean square. It
///   sums over all bins to mean(x²) (Parseval; for Hann, dividing by Σw² instead of (Σw)²/N
///   corrects the taper's energy loss, i.e. its equivalent noise bandwidth of 1.5 bins). A
///   band energy is the sum over the band's bins, so a sine of amplitude A contributes A²/2
///   to the band that holds its main lobe. Units: (unit of the samples)².
/// - the **spectral centroid** is Σ f_k·a_k / Σ a_k over the amplitude spectrum a (librosa's
///   definition), 0 Hz for a silent window.
pub struct FeatureExtractor {
    channels: usize,
    frames: usize,
    sample_rate_hz: f32,
    time_features: Vec<TimeFeature>,
    spectrum: Option<Spectrum>,
    names: Vec<String>,
    /// One channel of the current window.
    channel: Vec<f32>,
    /// Output of [`FeatureExtractor::extract_to_buffer`].
    buffer: Vec<f32>,
}

impl std::fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureExtractor")
            .field("channels", &self.channels)
            .field("frames", &self.frames)
            .field("sample_rate_hz", &self.sample_rate_hz)
            .field("features", &self.names.len())
            .field("spectrum", &self.spectrum)
            .finish_non_exhaustive()
    }
}

impl FeatureExtractor {
    /// Validates `config`, plans the FFT and allocates every buffer.
    pub fn new(config: FeatureConfig) -> Result<Self, DspError> {
        let FeatureConfig {
            sample_rate_hz,
            window_frames: frames,
            channel_names,
            time_features,
            spectral,
        } = config;
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(DspError::SampleRate(sample_rate_hz));
        }
        if frames < 2 {
            return Err(DspError::EmptyWindow);
        }
        if channel_names.is_empty() {
            return Err(DspError::NoChannels);
        }
        for (i, name) in channel_names.iter().enumerate() {
            if name.is_empty() || name.contains('.') || channel_names[..i].contains(name) {
                return Err(DspError::ChannelName(name.clone()));
            }
        }
        let spectrum = spectral
            .map(|config| Spectrum::new(config, frames, sample_rate_hz))
            .transpose()?;
        let names = layout(&channel_names, &time_features, spectrum.as_ref());
        Ok(Self {
            channels: channel_names.len(),
            frames,
            sample_rate_hz,
            time_features,
            spectrum,
            buffer: vec![0.0; names.len()],
            names,
            channel: vec![0.0; frames],
        })
    }

    /// The name of every feature, in output order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of features per window.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the configuration asks for no feature at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Frames per window this extractor expects.
    pub fn window_frames(&self) -> usize {
        self.frames
    }

    /// Channels per frame this extractor expects.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Frequency of FFT bin `k`, Hz.
    pub fn bin_hz(&self, k: usize) -> f32 {
        k as f32 * self.sample_rate_hz / self.frames as f32
    }

    /// Writes the features of `window` into `out` (exactly [`FeatureExtractor::len`] long).
    pub fn extract(&mut self, window: &Window<'_>, out: &mut [f32]) -> Result<(), DspError> {
        if window.channels() != self.channels {
            return Err(DspError::ChannelCount {
                expected: self.channels,
                got: window.channels(),
            });
        }
        if window.frames() != self.frames {
            return Err(DspError::WindowLength {
                expected: self.frames,
                got: window.frames(),
            });
        }
        if out.len() != self.names.len() {
            return Err(DspError::OutputLength {
                expected: self.names.len(),
                got: out.len(),
            });
        }
        let mut slots = out.iter_mut();
        for channel in 0..self.channels {
            window.copy_channel(channel, &mut self.channel)?;
            let stats = TimeStats::of(&self.channel);
            for (feature, slot) in self.time_features.iter().zip(&mut slots) {
                // Narrowing to the f32 layout is intended: f64 was for the sums.
                *slot = stats.get(*feature) as f32;
            }
            if let Some(spectrum) = &mut self.spectrum {
                spectrum.analyse(&self.channel, stats.mean)?;
                spectrum.write_features(self.sample_rate_hz, &mut slots);
            }
        }
        Ok(())
    }

    /// Like [`FeatureExtractor::extract`], into a buffer the extractor owns and reuses.
    pub fn extract_to_buffer(&mut self, window: &Window<'_>) -> Result<&[f32], DspError> {
        let mut buffer = std::mem::take(&mut self.buffer);
        let result = self.extract(window, &mut buffer);
        self.buffer = buffer;
        result.map(|()| self.buffer.as_slice())
    }

    /// The single-sided amplitude spectrum of the last channel analysed (N/2 + 1 bins, see
    /// the type's documentation for the scaling); empty without spectral features.
    pub fn amplitude_spectrum(&self) -> &[f32] {
        self.spectrum
            .as_ref()
            .map_or(&[], |spectrum| spectrum.amplitude.as_slice())
    }

    /// The single-sided power spectrum (mean square per bin) of the last channel analysed.
    pub fn power_spectrum(&self) -> &[f32] {
        self.spectrum
            .as_ref()
            .map_or(&[], |spectrum| spectrum.power.as_slice())
    }
}

impl Spectrum {
    fn new(config: SpectralConfig, frames: usize, sample_rate_hz: f32) -> Result<Self, DspError> {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(frames);
        let taper: Vec<f32> = match config.window_function {
            WindowFunction::Rectangular => vec![1.0; frames],
            WindowFunction::Hann => (0..frames)
                .map(|n| {
                    let phase = std::f64::consts::TAU * n as f64 / frames as f64;
                    (0.5 - 0.5 * phase.cos()) as f32
                })
                .collect(),
        };
        let taper_sum: f32 = taper.iter().sum();
        let taper_energy: f32 = taper.iter().map(|w| w * w).sum();
        let bins = frames / 2 + 1;
        let bin_hz = sample_rate_hz / frames as f32;
        let nyquist = sample_rate_hz / 2.0;
        let mut band_bins = Vec::with_capacity(config.bands.len());
        for band in &config.bands {
            let Band { low_hz, high_hz } = *band;
            if !(low_hz >= 0.0 && high_hz > low_hz && high_hz.is_finite()) {
                return Err(DspError::Band { low_hz, high_hz });
            }
            let first = (low_hz / bin_hz).ceil() as usize;
            let end = if high_hz >= nyquist {
                bins
            } else {
                ((high_hz / bin_hz).ceil() as usize).min(bins)
            };
            if first >= end {
                return Err(DspError::Band { low_hz, high_hz });
            }
            band_bins.push((first, end));
        }
        Ok(Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            amplitude: vec![0.0; bins],
            power: vec![0.0; bins],
            peaks: Vec::with_capacity(config.peaks),
            fft,
            taper,
            taper_sum,
            power_norm: frames as f32 * taper_energy,
            band_bins,
            config,
        })
    }

    /// Fills the amplitude and power spectra of `samples`, whose mean is `mean`.
    fn analyse(&mut self, samples: &[f32], mean: f64) -> Result<(), DspError> {
        let offset = if self.config.remove_mean {
            mean as f32
        } else {
            0.0
        };
        for ((slot, x), w) in self.input.iter_mut().zip(samples).zip(&self.taper) {
            *slot = (x - offset) * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .map_err(|_| DspError::Fft)?;
        let len = self.fft.len();
        let last = self.output.len() - 1;
        for (k, x) in self.output.iter().enumerate() {
            // Bins other than DC and (for even N) Nyquist stand for two bins of the full,
            // conjugate-symmetric spectrum.
            let unpaired = k == 0 || (k == last && len % 2 == 0);
            let sides = if unpaired { 1.0 } else { 2.0 };
            self.amplitude[k] = sides * x.norm() / self.taper_sum;
            self.power[k] = sides * x.norm_sqr() / self.power_norm;
        }
        Ok(())
    }

    /// Writes band energies, peaks and centroid of the last analysed channel.
    fn write_features<'a>(
        &mut self,
        sample_rate_hz: f32,
        slots: &mut impl Iterator<Item = &'a mut f32>,
    ) {
        let bin_hz = sample_rate_hz / self.fft.len() as f32;
        for &(first, end) in &self.band_bins {
            if let Some(slot) = slots.next() {
                *slot = self.power[first..end].iter().sum();
            }
        }
        if self.config.peaks > 0 {
            self.find_peaks();
            for rank in 0..self.config.peaks {
                let (amplitude, bin) = self.peaks.get(rank).copied().unwrap_or((0.0, 0));
                for value in [bin as f32 * bin_hz, amplitude] {
                    if let Some(slot) = slots.next() {
                        *slot = value;
                    }
                }
            }
        }
        if self.config.centroid {
            let (mut weighted, mut total) = (0.0f64, 0.0f64);
            for (k, a) in self.amplitude.iter().enumerate() {
                weighted += k as f64 * f64::from(*a);
                total += f64::from(*a);
            }
            let centroid = if total > 0.0 {
                (weighted / total) as f32 * bin_hz
            } else {
                0.0
            };
            if let Some(slot) = slots.next() {
                *slot = centroid;
            }
        }
    }

    /// The `config.peaks` largest local maxima of the amplitude spectrum, DC excluded.
    fn find_peaks(&mut self) {
        self.peaks.clear();
        let wanted = self.config.peaks;
        let a = &self.amplitude;
        for k in 1..a.len() {
            let rises = a[k] > a[k - 1];
            let falls = a.get(k + 1).is_none_or(|next| a[k] >= *next);
            if !(rises && falls) {
                continue;
            }
            // Insertion into a short sorted list: k is a handful, and it never reallocates.
            let position = self.peaks.partition_point(|(amp, _)| *amp >= a[k]);
            if position < wanted {
                if self.peaks.len() == wanted {
                    self.peaks.pop();
                }
                self.peaks.insert(position, (a[k], k));
            }
        }
    }
}

/// Feature names in output order.
fn layout(channels: &[String], time: &[TimeFeature], spectrum: Option<&Spectrum>) -> Vec<String> {
    let mut names = Vec::new();
    for channel in channels {
        for feature in time {
            names.push(format!("{channel}.{}", feature.name()));
        }
        let Some(spectrum) = spectrum else { continue };
        for band in &spectrum.config.bands {
            let mut name = format!("{channel}.band_");
            push_hz(&mut name, band.low_hz);
            name.push('_');
            push_hz(&mut name, band.high_hz);
            name.push_str("hz");
            names.push(name);
        }
        for rank in 1..=spectrum.config.peaks {
            names.push(format!("{channel}.fft_peak_{rank}_hz"));
            names.push(format!("{channel}.fft_peak_{rank}_amplitude"));
        }
        if spectrum.config.centroid {
            names.push(format!("{channel}.spectral_centroid_hz"));
        }
    }
    names
}

/// Appends a frequency without a `.` (which separates channel and feature): 12.5 → `12p5`.
fn push_hz(name: &mut String, hz: f32) {
    let start = name.len();
    let _ = write!(name, "{hz}");
    let formatted = name.split_off(start).replace('.', "p");
    name.push_str(&formatted);
}
