//! Time schedules as on/off edges: on for `on_for` at every multiple of `every` since the
//! Unix epoch (`every = "1h"`: at the top of each hour, UTC), or within daily UTC windows.

use std::time::Duration;

use crate::config::{DailyWindow, ScheduleKind};

const DAY_NS: u128 = 86_400_000_000_000;

/// A schedule: whether it is on at a time, and when it next changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    kind: ScheduleKind,
}

impl Calendar {
    /// The schedule `kind` describes.
    pub fn new(kind: ScheduleKind) -> Self {
        Self { kind }
    }

    /// Whether it is on at `now` (since the Unix epoch).
    pub fn is_on(&self, now: Duration) -> bool {
        let now = now.as_nanos();
        match &self.kind {
            ScheduleKind::Periodic { every, on_for } => {
                now % every.as_nanos().max(1) < on_for.as_nanos()
            }
            ScheduleKind::Daily(windows) => {
                let t = now % DAY_NS;
                windows.iter().any(|w| {
                    let (from, to) = bounds(*w);
                    if from < to {
                        (from..to).contains(&t)
                    } else {
                        t >= from || t < to
                    }
                })
            }
        }
    }

    /// The first time after `now` at which it may switch.
    pub fn next_edge(&self, now: Duration) -> Duration {
        let t = now.as_nanos();
        let next = match &self.kind {
            ScheduleKind::Periodic { every, on_for } => {
                let every = every.as_nanos().max(1);
                let start = t - t % every;
                let off_at = start + on_for.as_nanos();
                if t < off_at {
                    off_at
                } else {
                    start + every
                }
            }
            ScheduleKind::Daily(windows) => {
                let day = t - t % DAY_NS;
                windows
                    .iter()
                    .flat_map(|w| {
                        let (from, to) = bounds(*w);
                        [from, to]
                    })
                    .map(|b| {
                        if day + b > t {
                            day + b
                        } else {
                            day + DAY_NS + b
                        }
                    })
                    .min()
                    .unwrap_or(day + DAY_NS)
            }
        };
        from_nanos(next)
    }
}

fn bounds(window: DailyWindow) -> (u128, u128) {
    (
        u128::from(window.from) * 1_000_000_000,
        u128::from(window.to) * 1_000_000_000,
    )
}

fn from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10⁹.
    #[allow(clippy::cast_possible_truncation)]
    let sub = (nanos % 1_000_000_000) as u32;
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    const H: Duration = Duration::from_secs(3600);

    #[test]
    fn a_periodic_schedule_is_on_at_each_multiple_of_its_period() {
        let calendar = Calendar::new(ScheduleKind::Periodic {
            every: H,
            on_for: 300 * S,
        });
        let base = 1000 * 24 * H; // midnight, day 1000
        assert!(calendar.is_on(base));
        assert_eq!(calendar.next_edge(base), base + 300 * S);
        assert!(calendar.is_on(base + 299 * S));
        assert!(!calendar.is_on(base + 300 * S));
        assert_eq!(calendar.next_edge(base + 300 * S), base + H);
        assert_eq!(calendar.next_edge(base + 1800 * S), base + H);
        assert!(calendar.is_on(base + H));
    }

    #[test]
    fn daily_windows_are_utc_and_may_cross_midnight() {
        let windows = vec![
            DailyWindow::parse("06:00-08:00").unwrap(),
            DailyWindow::parse("22:30-01:00").unwrap(),
        ];
        let calendar = Calendar::new(ScheduleKind::Daily(windows));
        let day = 20_000 * 24 * H;
        assert!(!calendar.is_on(day + 5 * H));
        assert_eq!(calendar.next_edge(day + 5 * H), day + 6 * H);
        assert!(calendar.is_on(day + 6 * H));
        assert_eq!(calendar.next_edge(day + 6 * H), day + 8 * H);
        assert!(!calendar.is_on(day + 8 * H));
        assert_eq!(calendar.next_edge(day + 8 * H), day + 22 * H + 1800 * S);
        assert!(calendar.is_on(day + 23 * H));
        assert!(calendar.is_on(day + 24 * H + 1800 * S));
        assert_eq!(calendar.next_edge(day + 23 * H), day + 25 * H);
        assert!(!calendar.is_on(day + 25 * H));
    }

    #[test]
    fn bad_daily_windows_say_what_is_expected() {
        assert_eq!(
            DailyWindow::parse("6-8"),
            Err(
                "`6-8` is not a daily window; expected \"HH:MM-HH:MM\" (UTC), e.g. \"06:00-08:00\""
                    .into()
            )
        );
        assert_eq!(
            DailyWindow::parse("24:00-01:00").unwrap_err(),
            "`24:00-01:00` is not a daily window; expected \"HH:MM-HH:MM\" (UTC), e.g. \"06:00-08:00\""
        );
    }
}
