//! A switching action: an output follows a level (a rule's, a schedule's) between two values,
//! but never changes sooner than its minimum on or off time allows.
//!
//! A change that comes too early is not dropped: it is deferred to the exact moment the
//! minimum time has passed ([`Switching::next_deadline`]), and happens then unless the level
//! went back in the meantime, in which case nothing happens at all. This is what protects a
//! compressor or a pump from short cycling while still following the rule.

use std::time::Duration;

/// A change the action makes: the output goes on (`true`) or off at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    /// On (the action's `on` value) or off (its `off` value).
    pub on: bool,
    /// When: the time of the level change, or the deadline a deferred change waited for.
    pub at: Duration,
}

/// One switching action's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switching {
    min_on: Duration,
    min_off: Duration,
    /// What the level asks for.
    wanted: bool,
    /// What the action last applied; `None` before its first evaluation.
    output: Option<bool>,
    /// When it last switched; `None` while no minimum time runs (before the first switch,
    /// and after a first "off" that only confirmed the safe state applied at start).
    since: Option<Duration>,
    /// A change waiting for its minimum time.
    deferred: Option<Duration>,
}

impl Switching {
    /// An action with the given minimum on and off times (zero: none).
    pub fn new(min_on: Duration, min_off: Duration) -> Self {
        Self {
            min_on,
            min_off,
            wanted: false,
            output: None,
            since: None,
            deferred: None,
        }
    }

    /// What the action last applied (`None` before its first evaluation).
    pub fn output(&self) -> Option<bool> {
        self.output
    }

    /// What its level asks for now.
    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// The level is `raised` at `now`: returns the change to apply now, if any. The first
    /// evaluation always applies the wanted value (the output was at its safe state).
    pub fn level(&mut self, raised: bool, now: Duration) -> Option<Switch> {
        self.wanted = raised;
        match self.output {
            None => {
                self.output = Some(raised);
                // How long the output was off before the agent started is unknown, so a
                // first "off" starts no minimum off time; a first "on" starts the on time.
                self.since = raised.then_some(now);
                self.deferred = None;
                Some(Switch {
                    on: raised,
                    at: now,
                })
            }
            Some(current) if current == raised => {
                // Flipped back before a deferred change was due: nothing happens.
                self.deferred = None;
                None
            }
            Some(_) => match self.allowed_at() {
                Some(allowed) if allowed > now => {
                    self.deferred = Some(allowed);
                    None
                }
                _ => Some(self.apply(raised, now)),
            },
        }
    }

    /// The moment a deferred change is due, if one waits.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.deferred
    }

    /// Applies a deferred change that is due at `now`; it happens at its deadline, exactly.
    pub fn poll(&mut self, now: Duration) -> Option<Switch> {
        let due = self.deferred.filter(|&d| d <= now)?;
        self.deferred = None;
        Some(self.apply(self.wanted, due))
    }

    /// Forgets what was applied (the output was forced elsewhere, e.g. to its safe state by
    /// the watchdog): the next evaluation applies the wanted value again.
    pub fn reset(&mut self) {
        self.output = None;
        self.since = None;
        self.deferred = None;
    }

    fn allowed_at(&self) -> Option<Duration> {
        let since = self.since?;
        let minimum = if self.output == Some(true) {
            self.min_on
        } else {
            self.min_off
        };
        Some(since + minimum)
    }

    fn apply(&mut self, on: bool, at: Duration) -> Switch {
        self.output = Some(on);
        self.since = Some(at);
        Switch { on, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn switch(on: bool, seconds: u64) -> Option<Switch> {
        Some(Switch {
            on,
            at: S * u32::try_from(seconds).unwrap_or(0),
        })
    }

    #[test]
    fn follows_the_level_at_once_without_minimum_times() {
        let mut action = Switching::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(action.level(false, S), switch(false, 1));
        assert_eq!(action.level(false, 2 * S), None);
        assert_eq!(action.level(true, 3 * S), switch(true, 3));
        assert_eq!(action.level(false, 4 * S), switch(false, 4));
        assert_eq!(action.next_deadline(), None);
    }

    #[test]
    fn an_early_off_is_deferred_to_the_end_of_min_on_exactly() {
        let mut action = Switching::new(60 * S, 30 * S);
        assert_eq!(action.level(false, Duration::ZERO), switch(false, 0));
        // The first off started no minimum off time: on at once.
        assert_eq!(action.level(true, 10 * S), switch(true, 10));
        assert_eq!(action.level(false, 20 * S), None);
        assert_eq!(action.next_deadline(), Some(70 * S));
        assert_eq!(action.poll(69 * S), None);
        assert_eq!(action.poll(75 * S), switch(false, 70));
        assert_eq!(action.next_deadline(), None);
        // On again 10 s later: min_off (30 s) runs until 100 s.
        assert_eq!(action.level(true, 80 * S), None);
        assert_eq!(action.next_deadline(), Some(100 * S));
        assert_eq!(action.poll(100 * S), switch(true, 100));
    }

    #[test]
    fn a_deferred_change_is_cancelled_when_the_level_goes_back() {
        let mut action = Switching::new(60 * S, Duration::ZERO);
        action.level(true, Duration::ZERO);
        assert_eq!(action.level(false, 5 * S), None);
        assert_eq!(action.next_deadline(), Some(60 * S));
        assert_eq!(action.level(true, 30 * S), None);
        assert_eq!(action.next_deadline(), None);
        assert_eq!(action.poll(90 * S), None);
        assert_eq!(action.output(), Some(true));
    }

    #[test]
    fn a_reset_applies_the_wanted_value_again() {
        let mut action = Switching::new(60 * S, Duration::ZERO);
        action.level(true, Duration::ZERO);
        action.reset();
        assert_eq!(action.level(true, 5 * S), switch(true, 5));
    }
}
