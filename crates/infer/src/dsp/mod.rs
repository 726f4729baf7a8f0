//! DSP feature extraction for sensor streams (what Edge Impulse calls processing blocks).
//!
//! A [`Windower`] cuts a stream of interleaved multi-channel samples (e.g. FIFO drains of a
//! 3-axis accelerometer at 1 kHz) into sliding or tumbling windows; a [`FeatureExtractor`]
//! turns each [`Window`] into a feature vector with a stable, named layout
//! (`accel_x.rms`, `accel_x.band_0_50hz`, …): time-domain statistics ([`TimeStats`]) and
//! spectral features from a real FFT (band energies, top-k peaks, spectral centroid) with an
//! optional Hann taper. Both allocate their buffers once when built and nothing per window.
//!
//! ```
//! use edgewise_infer::dsp::{Band, FeatureConfig, FeatureExtractor, Windower};
//!
//! let mut config = FeatureConfig::new(1000.0, 256, &["accel_x", "accel_y", "accel_z"]);
//! if let Some(spectral) = &mut config.spectral {
//!     spectral.bands = vec![Band::new(0.0, 50.0), Band::new(50.0, 500.0)];
//! }
//! let mut extractor = FeatureExtractor::new(config)?;
//! assert_eq!(extractor.names()[1], "accel_x.rms");
//! let mut windower = Windower::new(3, 256, 128)?;
//! let mut features = vec![0.0; extractor.len()];
//! let drained = vec![0.0f32; 3 * 300]; // interleaved x, y, z frames
//! windower.push(&drained, |window| {
//!     if extractor.extract(&window, &mut features).is_ok() {
//!         // hand `features` to a detector or a model
//!     }
//! });
//! # Ok::<(), edgewise_infer::dsp::DspError>(())
//! ```

mod extractor;
mod stats;
mod window;

pub use extractor::{Band, FeatureConfig, FeatureExtractor, SpectralConfig, WindowFunction};
pub use stats::{TimeFeature, TimeStats};
pub use window::{Window, Windower};

/// What can go wrong configuring or feeding feature extraction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DspError {
    /// A window or stream needs at least one channel.
    #[error("no channels configured")]
    NoChannels,
    /// Windows must hold at least one frame (two for an extractor) and advance by at least one.
    #[error("window size and hop must be at least 1 frame (an extractor needs 2)")]
    EmptyWindow,
    /// Interleaved samples that do not divide into whole frames.
    #[error("{samples} samples are not a whole number of {channels}-channel frames")]
    PartialFrame {
        /// Number of samples given.
        samples: usize,
        /// Channels per frame.
        channels: usize,
    },
    /// A channel index beyond the frame.
    #[error("channel {channel} does not exist in {channels}-channel frames")]
    NoSuchChannel {
        /// The index asked for.
        channel: usize,
        /// Channels per frame.
        channels: usize,
    },
    /// A window with a different number of frames than configured.
    #[error("window has {got} frames, expected {expected}")]
    WindowLength {
        /// Frames configured.
        expected: usize,
        /// Frames given.
        got: usize,
    },
    /// A window with a different number of channels than configured.
    #[error("window has {got} channels, expected {expected}")]
    ChannelCount {
        /// Channels configured.
        expected: usize,
        /// Channels given.
        got: usize,
    },
    /// An output buffer that does not match the feature layout.
    #[error("output buffer holds {got} features, the layout has {expected}")]
    OutputLength {
        /// Length of the layout.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// A sampling rate that is not a positive finite number.
    #[error("sampling rate {0} Hz is not a positive finite number")]
    SampleRate(f32),
    /// A channel name that is empty, repeated or contains `.` (the name separator).
    #[error("channel name {0:?} is empty, repeated or contains '.'")]
    ChannelName(String),
    /// A band with inverted or negative edges, or one that holds no FFT bin.
    #[error("band {low_hz}..{high_hz} Hz is empty, inverted or holds no FFT bin")]
    Band {
        /// Lower edge, Hz.
        low_hz: f32,
        /// Upper edge, Hz.
        high_hz: f32,
    },
    /// The FFT rejected its buffers (a bug: they are sized by its own planner).
    #[error("FFT buffer sizes do not match the plan")]
    Fft,
}
