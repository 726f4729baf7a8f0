//! Time as the simulated chips see it.
//!
//! Tests and benchmarks use a virtual clock: [`SimDelay`] advances it instantly and counts
//! every nanosecond a driver asked to wait, so "time spent waiting per reading" is exact and a
//! test of a 100 ms measurement takes microseconds. The agent's `sim` board uses the real
//! clock, paced by [`StdDelay`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A clock shared by a bus, its chips and the delay a driver uses.
#[derive(Debug, Clone)]
pub enum SimClock {
    /// Nanoseconds since the clock was made, advanced only by [`SimDelay`].
    Virtual(Arc<AtomicU64>),
    /// Wall time since the clock was made.
    Real(Instant),
}

impl Default for SimClock {
    fn default() -> Self {
        Self::virtual_clock()
    }
}

impl SimClock {
    /// A virtual clock at zero.
    pub fn virtual_clock() -> Self {
        Self::Virtual(Arc::new(AtomicU64::new(0)))
    }

    /// The real clock, starting now.
    pub fn real() -> Self {
        Self::Real(Instant::now())
    }

    /// Nanoseconds since the clock was made.
    pub fn now_ns(&self) -> u64 {
        match self {
            Self::Virtual(ns) => ns.load(Ordering::Acquire),
            Self::Real(start) => u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// Moves a virtual clock forward; a real clock is left alone (time passes by itself).
    pub fn advance(&self, by: Duration) {
        if let Self::Virtual(ns) = self {
            let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            ns.fetch_add(by, Ordering::AcqRel);
        }
    }

    /// A delay bound to this clock.
    pub fn delay(&self) -> SimDelay {
        SimDelay {
            clock: self.clone(),
            waited_ns: Arc::new(AtomicU64::new(0)),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// A delay that advances a [`SimClock`] (sleeping for real when the clock is real) and counts
/// what it was asked to wait. Clones share the counters.
#[derive(Debug, Clone)]
pub struct SimDelay {
    clock: SimClock,
    waited_ns: Arc<AtomicU64>,
    calls: Arc<AtomicU64>,
}

impl SimDelay {
    /// Total nanoseconds waited through this delay and its clones.
    pub fn waited_ns(&self) -> u64 {
        self.waited_ns.load(Ordering::Acquire)
    }

    /// Number of delay calls.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Acquire)
    }

    /// Resets both counters.
    pub fn reset_counters(&self) {
        self.waited_ns.store(0, Ordering::Release);
        self.calls.store(0, Ordering::Release);
    }

    fn wait(&mut self, ns: u32) {
        self.waited_ns.fetch_add(u64::from(ns), Ordering::AcqRel);
        self.calls.fetch_add(1, Ordering::AcqRel);
        match &self.clock {
            SimClock::Virtual(_) => self.clock.advance(Duration::from_nanos(u64::from(ns))),
            SimClock::Real(_) => std::thread::sleep(Duration::from_nanos(u64::from(ns))),
        }
    }
}

impl embedded_hal::delay::DelayNs for SimDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.wait(ns);
    }
}

/// On a virtual clock the future completes at once (the clock jumps). On a real clock it
/// blocks the thread; async code on a real clock should use its executor's timer instead.
impl embedded_hal_async::delay::DelayNs for SimDelay {
    async fn delay_ns(&mut self, ns: u32) {
        self.wait(ns);
    }
}

/// `std::thread::sleep` as an embedded-hal delay, for drivers on real buses from std.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdDelay;

impl embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(Duration::from_nanos(u64::from(ns)));
    }
}
