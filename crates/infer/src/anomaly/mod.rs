//! Anomaly detection without a trained network, and anomaly scores from one.
//!
//! - [`FeatureDetector`] learns a healthy baseline from the first N feature vectors (per
//!   feature: median and robust σ = 1.4826·MAD) and scores each later vector by its largest
//!   |robust z|, naming the feature that moved. Its documentation says why this and not a
//!   Mahalanobis distance.
//! - [`ReconstructionScorer`] turns any model's reconstruction (an autoencoder's output next
//!   to its input, as plain slices) into a mean squared error and judges it with the same
//!   robust z against the MSEs of its first N pairs.
//!
//! Both allocate their baseline storage when built and nothing per observation.

mod baseline;
mod detector;
mod reconstruction;

pub use baseline::{RobustBaseline, ScaleFloor};
pub use detector::{DetectorConfig, FeatureDetector, Score};
pub use reconstruction::{mean_squared_error, ReconstructionScore, ReconstructionScorer};

/// What one observation gave: still learning the baseline, or a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict<S> {
    /// The observation went into the baseline.
    Learning {
        /// Observations learnt so far.
        seen: usize,
        /// Observations the baseline needs.
        needed: usize,
    },
    /// The observation was scored against the complete baseline.
    Scored(S),
}

/// What can go wrong configuring or feeding a detector.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnomalyError {
    /// A detector needs at least one dimension.
    #[error("no dimensions to score")]
    NoDimensions,
    /// A baseline of fewer than two observations has no spread.
    #[error("a baseline needs at least 2 observations, {0} configured")]
    BaselineTooShort(usize),
    /// Scale floors must be non-negative (relative) and positive (absolute).
    #[error("scale floor must be >= 0 (relative) and > 0 (absolute)")]
    ScaleFloor,
    /// A threshold that is not a positive finite number.
    #[error("threshold {0} is not a positive finite number")]
    Threshold(f32),
    /// An observation of the wrong length.
    #[error("observation has {got} values, expected {expected}")]
    Dimensions {
        /// Length configured.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// NaN or infinity in an observation.
    #[error("value {index} of the observation is not finite")]
    NotFinite {
        /// Index of the first non-finite value.
        index: usize,
    },
    /// Scoring asked for before the baseline is complete.
    #[error("still learning the baseline: {seen} of {needed} observations")]
    Learning {
        /// Observations learnt so far.
        seen: usize,
        /// Observations the baseline needs.
        needed: usize,
    },
}
