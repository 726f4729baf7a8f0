//! Time-domain statistics of one channel of a window.
//!
//! Moments follow scipy.stats' defaults so values can be checked against a notebook:
//! population (biased, 1/N) central moments, `std` with ddof = 0 (numpy's default),
//! skewness m₃/m₂^{3/2} (`scipy.stats.skew`, `bias=True`) and **excess** kurtosis
//! m₄/m₂² − 3 (`scipy.stats.kurtosis`, `fisher=True, bias=True`): 0 for a Gaussian, −2 for a
//! square wave, −1.5 for a sine. Sums run in f64 so a 1 g offset does not swamp a few mg of
//! vibration in the second pass.

/// A time-domain feature of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFeature {
    /// Arithmetic mean (the DC level: gravity on an accelerometer axis).
    Mean,
    /// Root mean square √(mean x²), offset included.
    Rms,
    /// Standard deviation, population (ddof = 0).
    Std,
    /// Largest absolute value max |x|.
    Peak,
    /// max x − min x.
    PeakToPeak,
    /// Peak / RMS: √2 for a sine, 1 for a square wave; impacts raise it. 0 when RMS is 0.
    CrestFactor,
    /// Excess (Fisher) kurtosis m₄/m₂² − 3; 0 for a constant signal (scipy gives NaN).
    Kurtosis,
    /// Skewness m₃/m₂^{3/2}; 0 for a constant signal (scipy gives NaN).
    Skewness,
}

impl TimeFeature {
    /// Every time-domain feature, in the order of [`TimeStats`]' fields.
    pub const ALL: [TimeFeature; 8] = [
        TimeFeature::Mean,
        TimeFeature::Rms,
        TimeFeature::Std,
        TimeFeature::Peak,
        TimeFeature::PeakToPeak,
        TimeFeature::CrestFactor,
        TimeFeature::Kurtosis,
        TimeFeature::Skewness,
    ];

    /// The name used in feature layouts, e.g. `rms` in `accel_x.rms`.
    pub fn name(self) -> &'static str {
        match self {
            TimeFeature::Mean => "mean",
            TimeFeature::Rms => "rms",
            TimeFeature::Std => "std",
            TimeFeature::Peak => "peak",
            TimeFeature::PeakToPeak => "peak_to_peak",
            TimeFeature::CrestFactor => "crest_factor",
            TimeFeature::Kurtosis => "kurtosis",
            TimeFeature::Skewness => "skewness",
        }
    }
}

/// All time-domain statistics of one channel, computed in two passes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimeStats {
    /// See [`TimeFeature::Mean`].
    pub mean: f64,
    /// See [`TimeFeature::Rms`].
    pub rms: f64,
    /// See [`TimeFeature::Std`].
    pub std: f64,
    /// See [`TimeFeature::Peak`].
    pub peak: f64,
    /// See [`TimeFeature::PeakToPeak`].
    pub peak_to_peak: f64,
    /// See [`TimeFeature::CrestFactor`].
    pub crest_factor: f64,
    /// See [`TimeFeature::Kurtosis`].
    pub kurtosis: f64,
    /// See [`TimeFeature::Skewness`].
    pub skewness: f64,
}

impl TimeStats {
    /// Statistics of `samples`; all zero for an empty slice.
    pub fn of(samples: &[f32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let n = samples.len() as f64;
        let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &x in samples {
            let x = f64::from(x);
            sum += x;
            sum_sq += x * x;
            min = min.min(x);
            max = max.max(x);
        }
        let mean = sum / n;
        // Central moments in a second pass: E[x²] − mean² cancels catastrophically when the
        // offset dwarfs the variation.
        let (mut m2, mut m3, mut m4) = (0.0f64, 0.0f64, 0.0f64);
        for &x in samples {
            let d = f64::from(x) - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
        let rms = (sum_sq / n).sqrt();
        let peak = max.abs().max(min.abs());
        // A variance this far below the signal's power is rounding noise, not shape.
        let flat = m2 <= f64::EPSILON * (sum_sq / n).max(f64::MIN_POSITIVE);
        Self {
            mean,
            rms,
            std: m2.sqrt(),
            peak,
            peak_to_peak: max - min,
            crest_factor: if rms > 0.0 { peak / rms } else { 0.0 },
            kurtosis: if flat { 0.0 } else { m4 / (m2 * m2) - 3.0 },
            skewness: if flat { 0.0 } else { m3 / m2.powf(1.5) },
        }
    }

    /// The value of one feature.
    pub fn get(&self, feature: TimeFeature) -> f64 {
        match feature {
            TimeFeature::Mean => self.mean,
            TimeFeature::Rms => self.rms,
            TimeFeature::Std => self.std,
            TimeFeature::Peak => self.peak,
            TimeFeature::PeakToPeak => self.peak_to_peak,
            TimeFeature::CrestFactor => self.crest_factor,
            TimeFeature::Kurtosis => self.kurtosis,
            TimeFeature::Skewness => self.skewness,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_moments() {
        // x = [1, 2, 3, 10]: mean 4, deviations −3 −2 −1 6, m2 = 50/4, m3 = 180/4,
        // m4 = 1394/4 (scipy: skew 1.0182, kurtosis −0.7696).
        let s = TimeStats::of(&[1.0, 2.0, 3.0, 10.0]);
        assert!((s.mean - 4.0).abs() < 1e-12);
        assert!((s.std - 12.5f64.sqrt()).abs() < 1e-12);
        assert!((s.rms - (114.0f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((s.skewness - 45.0 / 12.5f64.powf(1.5)).abs() < 1e-12);
        assert!((s.kurtosis - (348.5 / 156.25 - 3.0)).abs() < 1e-12);
        assert!((s.skewness - 1.0182).abs() < 1e-4);
        assert!((s.kurtosis + 0.7696).abs() < 1e-4);
        assert_eq!((s.peak, s.peak_to_peak), (10.0, 9.0));
    }

    #[test]
    fn negative_peak_counts_by_magnitude() {
        let s = TimeStats::of(&[-5.0, 1.0, 2.0]);
        assert_eq!(s.peak, 5.0);
        assert_eq!(s.peak_to_peak, 7.0);
    }

    #[test]
    fn constant_and_empty_signals_have_no_shape() {
        let s = TimeStats::of(&[9.81; 64]);
        assert!((s.mean - 9.81).abs() < 1e-6);
        assert_eq!((s.kurtosis, s.skewness), (0.0, 0.0));
        assert!((s.crest_factor - 1.0).abs() < 1e-6);
        assert_eq!(TimeStats::of(&[]), TimeStats::default());
        assert_eq!(TimeStats::of(&[0.0; 8]).crest_factor, 0.0);
    }
}
