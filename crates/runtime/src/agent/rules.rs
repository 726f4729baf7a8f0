//! Rules: conditions on a channel, a feature or the anomaly score that raise and clear events.
//!
//! Every rule is edge-triggered: it reports when its condition starts to hold (`raised`) and
//! when it stops (`cleared`), not on every reading while it holds, so a sink receives two
//! events per incident rather than a stream.

use std::time::SystemTime;

use crate::config::{Condition, Limit};

/// Whether an event starts or ends an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The condition started to hold.
    Raised,
    /// It stopped.
    Cleared,
}

impl Transition {
    /// `raised` or `cleared`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Cleared => "cleared",
        }
    }
}

/// A rule's verdict on one value.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    /// Raised or cleared.
    pub transition: Transition,
    /// The value that decided it (the rate, for a rate-of-change rule).
    pub value: f64,
    /// The limit it was compared with.
    pub limit: f64,
}

/// One rule and its state.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name.
    pub name: String,
    condition: Condition,
    raised: bool,
    /// Rate-of-change: the previous value and its time.
    previous: Option<(f64, SystemTime)>,
    /// Anomaly: windows in a row above the limit.
    run: u32,
}

impl Rule {
    /// A rule in its cleared state.
    pub fn new(name: &str, condition: Condition) -> Self {
        Self {
            name: name.to_string(),
            condition,
            raised: false,
            previous: None,
            run: 0,
        }
    }

    /// The channel or feature it watches; `None` for an anomaly rule.
    pub fn channel(&self) -> Option<&str> {
        match &self.condition {
            Condition::Threshold { channel, .. }
            | Condition::Hysteresis { channel, .. }
            | Condition::RateOfChange { channel, .. } => Some(channel),
            Condition::Anomaly { .. } => None,
        }
    }

    /// Whether its condition holds (after the last value it observed).
    pub fn is_raised(&self) -> bool {
        self.raised
    }

    /// Whether it watches the anomaly score.
    pub fn watches_score(&self) -> bool {
        matches!(self.condition, Condition::Anomaly { .. })
    }

    /// The rule's kind as a config names it.
    pub fn kind(&self) -> &'static str {
        match self.condition {
            Condition::Threshold { .. } => "threshold",
            Condition::Hysteresis { .. } => "hysteresis",
            Condition::RateOfChange { .. } => "rate_of_change",
            Condition::Anomaly { .. } => "anomaly",
        }
    }

    /// Feeds the next value (of its channel, or the window's anomaly score) observed at
    /// `time`; returns the event if the rule changed state.
    pub fn observe(&mut self, value: f64, time: SystemTime) -> Option<RuleEvent> {
        if !value.is_finite() {
            return None;
        }
        let (holds, decided_by, limit) = match self.condition {
            Condition::Threshold { above, below, .. } => {
                let over = above.filter(|&a| value > a);
                let under = below.filter(|&b| value < b);
                let limit = over.or(under).or(above).or(below).unwrap_or(f64::NAN);
                (over.is_some() || under.is_some(), value, limit)
            }
            Condition::Hysteresis { raise, clear, .. } => {
                let holds = match (raise, self.raised) {
                    (Limit::Above(limit), false) => value > limit,
                    (Limit::Below(limit), false) => value < limit,
                    (Limit::Above(_), true) => value >= clear,
                    (Limit::Below(_), true) => value <= clear,
                };
                let limit = match (raise, self.raised) {
                    (Limit::Above(l) | Limit::Below(l), false) => l,
                    (_, true) => clear,
                };
                (holds, value, limit)
            }
            Condition::RateOfChange { max_per_second, .. } => {
                let previous = self.previous.replace((value, time));
                let (before, then) = previous?;
                let seconds = time.duration_since(then).ok()?.as_secs_f64();
                if seconds <= 0.0 {
                    return None;
                }
                let rate = (value - before) / seconds;
                (rate.abs() > max_per_second, rate, max_per_second)
            }
            Condition::Anomaly { above, for_windows } => {
                self.run = if value > above { self.run + 1 } else { 0 };
                let holds = if self.raised {
                    value > above
                } else {
                    self.run >= for_windows
                };
                (holds, value, above)
            }
        };
        let transition = match (self.raised, holds) {
            (false, true) => Transition::Raised,
            (true, false) => Transition::Cleared,
            _ => return None,
        };
        self.raised = holds;
        Some(RuleEvent {
            transition,
            value: decided_by,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn feed(rule: &mut Rule, values: &[f64]) -> Vec<(usize, Transition)> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| {
                let t = UNIX_EPOCH + Duration::from_secs(i as u64);
                rule.observe(v, t).map(|e| (i, e.transition))
            })
            .collect()
    }

    #[test]
    fn hysteresis_raises_above_and_clears_only_below_the_clear_limit() {
        let mut rule = Rule::new(
            "too-warm",
            Condition::Hysteresis {
                channel: "temperature".into(),
                raise: Limit::Above(30.0),
                clear: 28.0,
            },
        );
        let events = feed(
            &mut rule,
            &[29.0, 30.0, 30.5, 29.0, 28.5, 28.0, 27.9, 30.1, 29.9],
        );
        // 30.0 is not above 30; 28.0 is not below 28.
        assert_eq!(
            events,
            [
                (2, Transition::Raised),
                (6, Transition::Cleared),
                (7, Transition::Raised)
            ]
        );
    }

    #[test]
    fn threshold_reports_both_edges_on_either_side() {
        let mut rule = Rule::new(
            "range",
            Condition::Threshold {
                channel: "v".into(),
                above: Some(10.0),
                below: Some(0.0),
            },
        );
        let events = feed(&mut rule, &[5.0, 11.0, 12.0, 5.0, -1.0, 0.0]);
        assert_eq!(
            events,
            [
                (1, Transition::Raised),
                (3, Transition::Cleared),
                (4, Transition::Raised),
                (5, Transition::Cleared)
            ]
        );
    }

    #[test]
    fn rate_of_change_uses_the_time_between_values() {
        let mut rule = Rule::new(
            "jump",
            Condition::RateOfChange {
                channel: "humidity".into(),
                max_per_second: 2.0,
            },
        );
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rule.observe(40.0, t(0)), None);
        // +5 over 10 s: 0.5/s.
        assert_eq!(rule.observe(45.0, t(10)), None);
        // +5 in 1 s.
        let event = rule.observe(50.0, t(11));
        assert_eq!(
            event,
            Some(RuleEvent {
                transition: Transition::Raised,
                value: 5.0,
                limit: 2.0
            })
        );
        assert_eq!(
            rule.observe(50.5, t(12)).map(|e| e.transition),
            Some(Transition::Cleared)
        );
    }

    #[test]
    fn anomaly_needs_n_windows_in_a_row() {
        let mut rule = Rule::new(
            "anomaly",
            Condition::Anomaly {
                above: 6.0,
                for_windows: 3,
            },
        );
        let events = feed(&mut rule, &[7.0, 7.0, 1.0, 7.0, 7.0, 7.0, 8.0, 2.0]);
        assert_eq!(events, [(5, Transition::Raised), (7, Transition::Cleared)]);
    }
}
