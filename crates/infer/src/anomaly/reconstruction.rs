//! Anomaly scores from any model's reconstruction: an autoencoder's output against its input.

use super::baseline::{RobustBaseline, ScaleFloor};
use super::{AnomalyError, Verdict};

/// The score of one reconstruction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconstructionScore {
    /// Mean squared error between input and reconstruction.
    pub mse: f32,
    /// Robust z of the MSE against the baseline's MSEs; positive when worse than usual.
    pub z: f32,
    /// `z > threshold`: only a worse reconstruction than usual is anomalous.
    pub anomalous: bool,
}

/// Mean squared error of `reconstruction` against `input`.
pub fn mean_squared_error(input: &[f32], reconstruction: &[f32]) -> Result<f32, AnomalyError> {
    if input.len() != reconstruction.len() {
        return Err(AnomalyError::Dimensions {
            expected: input.len(),
            got: reconstruction.len(),
        });
    }
    if input.is_empty() {
        return Err(AnomalyError::NoDimensions);
    }
    let sum: f64 = input
        .iter()
        .zip(reconstruction)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum();
    Ok((sum / input.len() as f64) as f32)
}

/// Turns an autoencoder's (input, reconstruction) pairs into anomaly scores: the MSE, judged
/// against the MSEs of the first N pairs with the same robust z-scoring as
/// [`FeatureDetector`](super::FeatureDetector) (median and 1.4826·MAD of the baseline MSEs).
/// An autoencoder trained on healthy data reconstructs healthy data well, so a large error
/// means the input is unlike what it learnt; learning the typical error on the device, rather
/// than shipping a threshold with the model, absorbs differences between the training
/// machine and this one.
///
/// Independent of any backend: it takes slices. Allocation-free after construction.
#[derive(Debug, Clone)]
pub struct ReconstructionScorer {
    baseline: RobustBaseline,
    threshold: f32,
}

impl ReconstructionScorer {
    /// Learns from the first `baseline_pairs` reconstructions; flags a robust z of the MSE
    /// above `threshold`.
    pub fn new(baseline_pairs: usize, threshold: f32) -> Result<Self, AnomalyError> {
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(AnomalyError::Threshold(threshold));
        }
        // MSEs of a good model are tiny; only the absolute floor must stay below them.
        let floor = ScaleFloor {
            relative: 1e-3,
            absolute: f32::MIN_POSITIVE,
        };
        Ok(Self {
            baseline: RobustBaseline::new(1, baseline_pairs, floor)?,
            threshold,
        })
    }

    /// Learns the pair's MSE while the baseline is incomplete, scores it afterwards.
    pub fn observe(
        &mut self,
        input: &[f32],
        reconstruction: &[f32],
    ) -> Result<Verdict<ReconstructionScore>, AnomalyError> {
        if self.baseline.is_ready() {
            return self.score(input, reconstruction).map(Verdict::Scored);
        }
        let mse = mean_squared_error(input, reconstruction)?;
        self.baseline.learn(&[mse])?;
        let (seen, needed) = self.baseline.progress();
        Ok(Verdict::Learning { seen, needed })
    }

    /// Scores a pair against the learnt baseline.
    pub fn score(
        &self,
        input: &[f32],
        reconstruction: &[f32],
    ) -> Result<ReconstructionScore, AnomalyError> {
        if !self.baseline.is_ready() {
            let (seen, needed) = self.baseline.progress();
            return Err(AnomalyError::Learning { seen, needed });
        }
        let mse = mean_squared_error(input, reconstruction)?;
        self.baseline.check(&[mse])?;
        let z = self.baseline.z(0, mse);
        Ok(ReconstructionScore {
            mse,
            z,
            anomalous: z > self.threshold,
        })
    }

    /// Median and robust σ of the baseline MSEs (zero while learning).
    pub fn baseline_mse(&self) -> (f32, f32) {
        (self.baseline.medians()[0], self.baseline.scales()[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_of_known_vectors() {
        assert_eq!(
            mean_squared_error(&[1.0, 2.0, 3.0], &[1.0, 0.0, 6.0]),
            Ok(13.0 / 3.0)
        );
        assert!(mean_squared_error(&[1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn a_poor_reconstruction_is_anomalous_a_usual_one_is_not() {
        let mut scorer = ReconstructionScorer::new(64, 6.0).unwrap();
        let input = [0.5f32; 16];
        // Baseline errors: the reconstruction is off by 0.1 … 0.163 on every element.
        for i in 0..64 {
            let off = 0.1 + 0.001 * i as f32;
            let reconstruction = input.map(|x| x + off);
            assert!(matches!(
                scorer.observe(&input, &reconstruction).unwrap(),
                Verdict::Learning { .. }
            ));
        }
        let (median, sigma) = scorer.baseline_mse();
        assert!((median - 0.1315f32.powi(2)).abs() < 1e-4, "{median}");
        assert!(sigma > 0.0);
        let usual = scorer.score(&input, &input.map(|x| x + 0.13)).unwrap();
        assert!(!usual.anomalous, "{usual:?}");
        // A perfect reconstruction is unusual but not anomalous: only worse errors count.
        let perfect = scorer.score(&input, &input).unwrap();
        assert!(perfect.z < 0.0 && !perfect.anomalous);
        let Verdict::Scored(poor) = scorer.observe(&input, &input.map(|x| x + 0.5)).unwrap() else {
            panic!("still learning")
        };
        assert!(poor.anomalous && (poor.mse - 0.25).abs() < 1e-6, "{poor:?}");
    }
}
