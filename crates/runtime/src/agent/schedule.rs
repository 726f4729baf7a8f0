//! When a sensor is due: a drift-free schedule.
//!
//! The n-th sample is due at `start + n·interval`, computed from the start every time rather
//! than by adding the interval to the previous wake-up, so the small lateness of every wake-up
//! (timer granularity, the read itself) never accumulates into drift. A sample taken late is
//! counted; slots that passed entirely while the sensor was busy are skipped and counted, not
//! taken in a burst afterwards (bunched samples would misrepresent the signal's timing).

use std::time::{Duration, Instant};

/// A sample counts as late when it starts this fraction of an interval after its slot
/// (at least [`MIN_LATENESS`]): wake-up jitter below it is normal.
const LATE_FRACTION: u32 = 4;
/// Scheduler jitter on a loaded board is around a millisecond; lateness below it is noise.
const MIN_LATENESS: Duration = Duration::from_millis(2);

/// A drift-free schedule of sampling slots.
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Instant,
    interval: Duration,
    next_slot: u64,
}

/// One slot the schedule released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Its number since the start.
    pub index: u64,
    /// When it was due.
    pub due: Instant,
    /// Whether it started noticeably after `due`.
    pub late: bool,
    /// Slots before it that were skipped because they had passed already.
    pub skipped: u64,
}

impl Schedule {
    /// A schedule whose slot 0 is due at `start`.
    pub fn new(start: Instant, interval: Duration) -> Self {
        Self {
            start,
            interval: interval.max(Duration::from_micros(1)),
            next_slot: 0,
        }
    }

    /// The interval between slots.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next slot is due.
    pub fn next_due(&self) -> Instant {
        self.due(self.next_slot)
    }

    /// Releases the next slot, at `now` (on or after its due time). When `now` is already
    /// past later slots, the latest of them is released and the others are skipped.
    pub fn release(&mut self, now: Instant) -> Slot {
        let mut index = self.next_slot;
        let elapsed = now.saturating_duration_since(self.start);
        // The latest slot due at or before `now`.
        let current =
            u64::try_from(elapsed.as_nanos() / self.interval.as_nanos().max(1)).unwrap_or(u64::MAX);
        let skipped = current.saturating_sub(index);
        index = index.max(current);
        let due = self.due(index);
        let tolerance = (self.interval / LATE_FRACTION).max(MIN_LATENESS);
        let late = now.saturating_duration_since(due) > tolerance || skipped > 0;
        self.next_slot = index + 1;
        Slot {
            index,
            due,
            late,
            skipped,
        }
    }

    /// Waits for the next slot and releases it.
    pub async fn tick(&mut self) -> Slot {
        tokio::time::sleep_until(self.next_due().into()).await;
        self.release(Instant::now())
    }

    fn due(&self, slot: u64) -> Instant {
        let offset = self
            .interval
            .checked_mul(u32::try_from(slot).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX);
        self.start.checked_add(offset).unwrap_or(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn slots_are_due_at_start_plus_n_intervals_however_late_each_wake_up_was() {
        let start = Instant::now();
        let mut schedule = Schedule::new(start, 100 * MS);
        // Each wake-up 3 ms late: the next slot is still at a whole multiple from the start.
        for n in 0..50u32 {
            let slot = schedule.release(start + 100 * MS * n + 3 * MS);
            assert_eq!(slot.index, u64::from(n));
            assert_eq!(slot.due, start + 100 * MS * n);
            assert!(!slot.late);
            assert_eq!(slot.skipped, 0);
        }
        assert_eq!(schedule.next_due(), start + 100 * MS * 50);
    }

    #[test]
    fn a_late_start_is_counted_and_passed_slots_are_skipped_not_bunched() {
        let start = Instant::now();
        let mut schedule = Schedule::new(start, 100 * MS);
        assert!(!schedule.release(start).late);
        // Slot 1 starts 40 ms late (more than a quarter interval).
        let slot = schedule.release(start + 140 * MS);
        assert_eq!((slot.index, slot.late, slot.skipped), (1, true, 0));
        // A read that blocked until 530 ms: slots 2, 3 and 4 passed; 5 is taken at once.
        let slot = schedule.release(start + 530 * MS);
        assert_eq!((slot.index, slot.skipped), (5, 3));
        assert!(slot.late);
        assert_eq!(slot.due, start + 500 * MS);
        // And the schedule continues on the original grid.
        assert_eq!(schedule.next_due(), start + 600 * MS);
    }
}
