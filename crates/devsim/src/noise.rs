//! Seeded noise for the chip models, so a simulated run repeats exactly.

use std::f64::consts::TAU;

/// A small deterministic Gaussian noise source (xorshift64* and Box–Muller).
#[derive(Debug, Clone)]
pub(crate) struct Noise {
    state: u64,
    spare: Option<f64>,
}

impl Noise {
    /// A source started from `seed` (any value: it is mixed and kept non-zero, as xorshift
    /// needs).
    pub(crate) fn seeded(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            spare: None,
        }
    }

    /// Uniform in (0, 1]: never 0, so the logarithm in [`Noise::gaussian`] is finite.
    pub(crate) fn uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        ((self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal.
    pub(crate) fn gaussian(&mut self) -> f64 {
        if let Some(spare) = self.spare.take() {
            return spare;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let theta = TAU * self.uniform();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_standard_normal() {
        let mut noise = Noise::seeded(7);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| noise.gaussian()).collect();
        let mean = xs.iter().sum::<f64>() / f64::from(n);
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n);
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
