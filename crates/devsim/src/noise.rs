//! Seeded noise for the chip models, so a simulated run repeats exactly.

/// A small deterministic noise source (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Noise(u64);

impl Noise {
    /// A source started from `seed` (any value: the state is kept non-zero, as xorshift needs).
    pub(crate) fn seeded(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately normal with standard deviation 1 (Irwin–Hall, 12 uniforms).
    pub(crate) fn gaussian(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}
