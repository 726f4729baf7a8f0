//! An online detector over feature vectors: robust z-scores against a learnt baseline.

use super::baseline::{RobustBaseline, ScaleFloor};
use super::{AnomalyError, Verdict};

/// How a [`FeatureDetector`] learns and when it flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Length of each feature vector.
    pub features: usize,
    /// Feature vectors learnt as the healthy baseline before scoring starts.
    pub baseline_windows: usize,
    /// A window is anomalous when some feature's |robust z| exceeds this. With Gaussian
    /// features, |z| > 6 has a chance of 2·10⁻⁹ per feature; real features have heavier tails
    /// and the maximum over many features is larger, so calibrate on healthy data.
    pub threshold: f32,
    /// Lower bounds on each feature's robust σ.
    pub floor: ScaleFloor,
}

impl DetectorConfig {
    /// A detector over `features`-long vectors, learning from `baseline_windows` of them,
    /// threshold 6, default floors.
    pub fn new(features: usize, baseline_windows: usize) -> Self {
        Self {
            features,
            baseline_windows,
            threshold: 6.0,
            floor: ScaleFloor::default(),
        }
    }
}

/// The score of one feature vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The largest |robust z| over all features.
    pub value: f32,
    /// Index of the feature that gave it (in the extractor's layout, so its name says what
    /// moved).
    pub feature: usize,
    /// Its signed z: positive when the feature rose above its baseline median.
    pub signed: f32,
    /// `value > threshold`.
    pub anomalous: bool,
}

/// Learns per-feature medians and robust σ (1.4826·MAD) from the first N feature vectors,
/// then scores each later vector by its largest |robust z|.
///
/// Why median/MAD and not a Mahalanobis distance: a baseline of a few hundred windows against
/// tens of features gives a covariance that needs heavy regularisation to invert, and one
/// start-up transient during learning inflates it for good; the median and MAD ignore up to
/// half the baseline being odd, cost O(features) per score, need no matrix algebra, and the
/// score names the feature that moved, which is what a maintenance alarm should say. The
/// price: a fault that only changes how features co-vary, leaving each within its range, goes
/// unseen.
#[derive(Debug, Clone)]
pub struct FeatureDetector {
    baseline: RobustBaseline,
    threshold: f32,
}

impl FeatureDetector {
    /// Allocates the baseline storage; nothing is allocated afterwards.
    pub fn new(config: DetectorConfig) -> Result<Self, AnomalyError> {
        if !(config.threshold.is_finite() && config.threshold > 0.0) {
            return Err(AnomalyError::Threshold(config.threshold));
        }
        Ok(Self {
            baseline: RobustBaseline::new(config.features, config.baseline_windows, config.floor)?,
            threshold: config.threshold,
        })
    }

    /// Learns `features` while the baseline is incomplete, scores them afterwards.
    pub fn observe(&mut self, features: &[f32]) -> Result<Verdict<Score>, AnomalyError> {
        if self.baseline.is_ready() {
            return self.score(features).map(Verdict::Scored);
        }
        self.baseline.learn(features)?;
        let (seen, needed) = self.baseline.progress();
        Ok(Verdict::Learning { seen, needed })
    }

    /// Scores `features` against the learnt baseline.
    pub fn score(&self, features: &[f32]) -> Result<Score, AnomalyError> {
        if !self.baseline.is_ready() {
            let (seen, needed) = self.baseline.progress();
            return Err(AnomalyError::Learning { seen, needed });
        }
        self.baseline.check(features)?;
        let mut worst = Score {
            value: 0.0,
            feature: 0,
            signed: 0.0,
            anomalous: false,
        };
        for (feature, x) in features.iter().enumerate() {
            let z = self.baseline.z(feature, *x);
            if z.abs() > worst.value {
                worst = Score {
                    value: z.abs(),
                    feature,
                    signed: z,
                    anomalous: false,
                };
            }
        }
        worst.anomalous = worst.value > self.threshold;
        Ok(worst)
    }

    /// Writes every feature's signed robust z into `out`, to see the whole picture behind a
    /// score.
    pub fn z_scores(&self, features: &[f32], out: &mut [f32]) -> Result<(), AnomalyError> {
        if !self.baseline.is_ready() {
            let (seen, needed) = self.baseline.progress();
            return Err(AnomalyError::Learning { seen, needed });
        }
        self.baseline.check(features)?;
        if out.len() != features.len() {
            return Err(AnomalyError::Dimensions {
                expected: features.len(),
                got: out.len(),
            });
        }
        for (feature, (slot, x)) in out.iter_mut().zip(features).enumerate() {
            *slot = self.baseline.z(feature, *x);
        }
        Ok(())
    }

    /// The learnt baseline.
    pub fn baseline(&self) -> &RobustBaseline {
        &self.baseline
    }

    /// The threshold on |robust z|.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learnt() -> FeatureDetector {
        let mut detector = FeatureDetector::new(DetectorConfig::new(2, 4)).unwrap();
        for row in [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]] {
            assert!(matches!(
                detector.observe(&row).unwrap(),
                Verdict::Learning { needed: 4, .. }
            ));
        }
        detector
    }

    #[test]
    fn learns_then_scores_the_feature_that_moved() {
        let mut detector = learnt();
        // Medians 2.5 and 25, MADs 1 and 10.
        let Verdict::Scored(score) = detector.observe(&[2.5, -50.0]).unwrap() else {
            panic!("still learning")
        };
        assert_eq!(score.feature, 1);
        assert!((score.signed + 75.0 / 14.826).abs() < 1e-4);
        assert!(!score.anomalous, "5.06 is below 6");
        let score = detector.score(&[2.5 + 1.4826 * 7.0, 25.0]).unwrap();
        assert_eq!(score.feature, 0);
        assert!(score.anomalous);
    }

    #[test]
    fn scoring_before_the_baseline_is_an_error() {
        let detector = FeatureDetector::new(DetectorConfig::new(2, 4)).unwrap();
        assert_eq!(
            detector.score(&[0.0, 0.0]),
            Err(AnomalyError::Learning { seen: 0, needed: 4 })
        );
    }

    #[test]
    fn z_scores_show_every_feature() {
        let detector = learnt();
        let mut z = [0.0; 2];
        detector.z_scores(&[2.5 + 1.4826, 25.0], &mut z).unwrap();
        assert!((z[0] - 1.0).abs() < 1e-5 && z[1].abs() < 1e-6, "{z:?}");
    }
}
