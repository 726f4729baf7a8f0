//! Capped exponential back-off with jitter, for reconnects and retries.
//!
//! After the n-th consecutive failure the wait is drawn uniformly from
//! `[ceiling / 2, ceiling]`, where `ceiling = min(cap, initial · 2ⁿ)`. The random half keeps a
//! fleet of devices that lost the same broker at the same moment from reconnecting in step
//! (a reconnect storm); the fixed half keeps a single device from retrying in a tight loop.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The delays before successive retries.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    cap: Duration,
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// Waits that start near `initial` and double up to `cap`.
    pub fn new(initial: Duration, cap: Duration) -> Self {
        // A per-process random seed (std's hasher keys come from the OS), so devices differ.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(u64::from(std::process::id()));
        Self::with_seed(initial, cap, hasher.finish())
    }

    /// The same with a fixed seed, for reproducible tests.
    pub fn with_seed(initial: Duration, cap: Duration, seed: u64) -> Self {
        Self {
            initial: initial.max(Duration::from_millis(1)),
            cap: cap.max(initial),
            failures: 0,
            rng: seed,
        }
    }

    /// How long to wait after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(1u32 << self.failures.min(30))
            .min(self.cap);
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.next_random() % spread.max(1))
    }

    /// Forgets the failures after a success: the next wait starts from `initial` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures since the last [`Backoff::reset`].
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// splitmix64: small, fast and good enough to spread retries.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Default for Backoff {
    /// 100 ms doubling to 30 s.
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_band_then_stay_at_the_cap() {
        let initial = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        let mut backoff = Backoff::with_seed(initial, cap, 7);
        for n in 0..12u32 {
            let ceiling = (initial * 2u32.pow(n)).min(cap);
            let delay = backoff.next_delay();
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "failure {n}: {delay:?} outside [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= initial);
    }

    #[test]
    fn devices_with_different_seeds_spread_their_retries() {
        let delays: Vec<Duration> = (0..50)
            .map(|seed| {
                let mut b =
                    Backoff::with_seed(Duration::from_secs(1), Duration::from_secs(60), seed);
                b.next_delay();
                b.next_delay()
            })
            .collect();
        let min = delays.iter().min().copied().unwrap_or_default();
        let max = delays.iter().max().copied().unwrap_or_default();
        // The second retry lies in [1 s, 2 s]: 50 devices must not land in one narrow slot.
        assert!(max - min > Duration::from_millis(500), "{min:?}..{max:?}");
    }
}
