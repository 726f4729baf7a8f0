//! Per-dimension robust location and scale learnt from the first N observations.

use super::AnomalyError;

/// Consistency constant: 1.4826·MAD estimates σ for Gaussian data (1 / Φ⁻¹(3/4)).
const MAD_TO_SIGMA: f32 = 1.4826;
/// 1.2533·(mean absolute deviation) estimates σ for Gaussian data (√(π/2)); the fallback of
/// Iglewicz and Hoaglin's modified z-score when more than half the values are equal.
const MEAN_AD_TO_SIGMA: f32 = 1.253_314;

/// Lower bounds on a dimension's scale, so a feature that never moved during the baseline
/// (a constant, a quantised reading) does not turn the first tiny change into an infinite
/// score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleFloor {
    /// Fraction of |median|: 0.01 means a 1 % change is never more than one robust σ.
    pub relative: f32,
    /// Absolute floor, in the dimension's own unit.
    pub absolute: f32,
}

impl Default for ScaleFloor {
    /// 0.1 % of the median, and 1e-6 absolute.
    fn default() -> Self {
        Self {
            relative: 1e-3,
            absolute: 1e-6,
        }
    }
}

/// Learns, per dimension, the median and a robust σ (1.4826·MAD, falling back to
/// 1.2533·mean absolute deviation when the MAD is 0, then to the [`ScaleFloor`]) from the
/// first `needed` observations, then scores values as robust z-scores (x − median) / σ.
///
/// All storage is allocated by [`RobustBaseline::new`]; learning and scoring allocate nothing.
#[derive(Debug, Clone)]
pub struct RobustBaseline {
    dims: usize,
    needed: usize,
    seen: usize,
    floor: ScaleFloor,
    /// The baseline observations, row by row; cleared (capacity kept) once learnt.
    rows: Vec<f32>,
    /// One dimension's column while its median is computed.
    column: Vec<f32>,
    median: Vec<f32>,
    scale: Vec<f32>,
}

impl RobustBaseline {
    /// A baseline of `dims` dimensions learnt from the first `needed` observations.
    pub fn new(dims: usize, needed: usize, floor: ScaleFloor) -> Result<Self, AnomalyError> {
        if dims == 0 {
            return Err(AnomalyError::NoDimensions);
        }
        if needed < 2 {
            return Err(AnomalyError::BaselineTooShort(needed));
        }
        if !(floor.relative >= 0.0 && floor.absolute > 0.0) {
            return Err(AnomalyError::ScaleFloor);
        }
        Ok(Self {
            dims,
            needed,
            seen: 0,
            floor,
            rows: Vec::with_capacity(dims * needed),
            column: vec![0.0; needed],
            median: vec![0.0; dims],
            scale: vec![0.0; dims],
        })
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Observations learnt so far, and how many the baseline needs.
    pub fn progress(&self) -> (usize, usize) {
        (self.seen, self.needed)
    }

    /// Whether the baseline is complete and scores can be computed.
    pub fn is_ready(&self) -> bool {
        self.seen == self.needed
    }

    /// Adds one observation to the baseline; returns whether it is now complete. Observations
    /// after completion are ignored (returns `true`).
    pub fn learn(&mut self, observation: &[f32]) -> Result<bool, AnomalyError> {
        self.check(observation)?;
        if self.is_ready() {
            return Ok(true);
        }
        self.rows.extend_from_slice(observation);
        self.seen += 1;
        if self.is_ready() {
            self.finish();
        }
        Ok(self.is_ready())
    }

    /// The robust z-score of `value` in dimension `dim`: positive above the median.
    pub fn z(&self, dim: usize, value: f32) -> f32 {
        (value - self.median[dim]) / self.scale[dim]
    }

    /// Per-dimension medians (zero until the baseline is complete).
    pub fn medians(&self) -> &[f32] {
        &self.median
    }

    /// Per-dimension robust σ (zero until the baseline is complete).
    pub fn scales(&self) -> &[f32] {
        &self.scale
    }

    /// Rejects observations of the wrong length or with NaN/∞, which would poison the
    /// medians or make every later score meaningless.
    pub(crate) fn check(&self, observation: &[f32]) -> Result<(), AnomalyError> {
        if observation.len() != self.dims {
            return Err(AnomalyError::Dimensions {
                expected: self.dims,
                got: observation.len(),
            });
        }
        if let Some(index) = observation.iter().position(|x| !x.is_finite()) {
            return Err(AnomalyError::NotFinite { index });
        }
        Ok(())
    }

    fn finish(&mut self) {
        for dim in 0..self.dims {
            for (slot, row) in self
                .column
                .iter_mut()
                .zip(self.rows.chunks_exact(self.dims))
            {
                *slot = row[dim];
            }
            let median = median_in_place(&mut self.column);
            let mean_abs_dev =
                self.column.iter().map(|x| (x - median).abs()).sum::<f32>() / self.needed as f32;
            for x in &mut self.column {
                *x = (*x - median).abs();
            }
            let mad = median_in_place(&mut self.column);
            let spread = if mad > 0.0 {
                MAD_TO_SIGMA * mad
            } else {
                MEAN_AD_TO_SIGMA * mean_abs_dev
            };
            self.median[dim] = median;
            self.scale[dim] = spread
                .max(self.floor.relative * median.abs())
                .max(self.floor.absolute);
        }
        self.rows.clear();
    }
}

/// The median of `values`, reordering them (average of the middle two for an even count).
fn median_in_place(values: &mut [f32]) -> f32 {
    let mid = values.len() / 2;
    let odd = values.len() % 2 == 1;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    if odd {
        *upper
    } else {
        let below = lower.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        0.5 * (below + *upper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_in_place(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn median_and_mad_ignore_an_outlier_in_the_baseline() {
        let mut baseline = RobustBaseline::new(1, 5, ScaleFloor::default()).unwrap();
        for x in [1.0, 2.0, 3.0, 4.0] {
            assert!(!baseline.learn(&[x]).unwrap());
        }
        assert!(baseline.learn(&[1000.0]).unwrap());
        // Median 3, absolute deviations 2 1 0 1 997: MAD 1.
        assert_eq!(baseline.medians(), [3.0]);
        assert!((baseline.scales()[0] - 1.4826).abs() < 1e-6);
        assert!((baseline.z(0, 6.0) - 3.0 / 1.4826).abs() < 1e-5);
    }

    #[test]
    fn zero_mad_falls_back_to_mean_absolute_deviation_then_the_floor() {
        let mut baseline = RobustBaseline::new(2, 4, ScaleFloor::default()).unwrap();
        for row in [[7.0, 100.0], [7.0, 100.0], [7.0, 100.0], [11.0, 100.0]] {
            baseline.learn(&row).unwrap();
        }
        // Column 0: MAD 0, mean absolute deviation 1 → 1.2533.
        assert!((baseline.scales()[0] - 1.253_314).abs() < 1e-6);
        // Column 1 never moved: 0.1 % of 100.
        assert!((baseline.scales()[1] - 0.1).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_observations() {
        let mut baseline = RobustBaseline::new(2, 3, ScaleFloor::default()).unwrap();
        assert_eq!(
            baseline.learn(&[1.0]),
            Err(AnomalyError::Dimensions {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            baseline.learn(&[1.0, f32::NAN]),
            Err(AnomalyError::NotFinite { index: 1 })
        );
        assert_eq!(baseline.progress(), (0, 3));
    }
}
