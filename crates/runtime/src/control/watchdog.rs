//! The watchdog of one actuator: the time since the last healthy evaluation of anything that
//! drives it (an action's rule on a fresh reading, a controller's step). Past its limit the
//! actuator goes to its safe state; the next healthy evaluation ends the trip and control
//! resumes.

use std::time::Duration;

/// One actuator's watchdog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchdog {
    limit: Duration,
    last_healthy: Duration,
    tripped: bool,
}

impl Watchdog {
    /// A watchdog with `limit`, counting from `start` (the agent's start: the first
    /// evaluation must come within the limit too).
    pub fn new(limit: Duration, start: Duration) -> Self {
        Self {
            limit,
            last_healthy: start,
            tripped: false,
        }
    }

    /// A healthy evaluation at `at`; true when it ends a trip (control resumes).
    pub fn healthy(&mut self, at: Duration) -> bool {
        self.last_healthy = self.last_healthy.max(at);
        std::mem::replace(&mut self.tripped, false)
    }

    /// When it trips unless a healthy evaluation comes first; `None` while tripped.
    pub fn next_deadline(&self) -> Option<Duration> {
        (!self.tripped).then(|| self.last_healthy + self.limit)
    }

    /// Whether it trips at `now` (true once per trip).
    pub fn check(&mut self, now: Duration) -> bool {
        match self.next_deadline() {
            Some(deadline) if now >= deadline => {
                self.tripped = true;
                true
            }
            _ => false,
        }
    }

    /// Whether it has tripped and no healthy evaluation came since.
    pub fn is_tripped(&self) -> bool {
        self.tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn trips_once_after_its_limit_and_resumes_on_the_next_healthy_evaluation() {
        let mut watchdog = Watchdog::new(30 * S, 100 * S);
        assert_eq!(watchdog.next_deadline(), Some(130 * S));
        assert!(!watchdog.healthy(110 * S));
        assert_eq!(watchdog.next_deadline(), Some(140 * S));
        assert!(!watchdog.check(139 * S));
        assert!(watchdog.check(140 * S));
        assert!(!watchdog.check(150 * S));
        assert_eq!(watchdog.next_deadline(), None);
        assert!(watchdog.is_tripped());
        assert!(watchdog.healthy(151 * S));
        assert_eq!(watchdog.next_deadline(), Some(181 * S));
    }
}
