//! What the agent shows while it runs: readings, windows and events for a terminal view.
//!
//! The view is a consumer like any other, but one that may lag (a slow terminal, a paused
//! pager): events are offered with `try_send` and dropped when its queue is full, so a
//! terminal can never slow the pipelines down.

use std::sync::Arc;

use edgewise_link::Reading;
use tokio::sync::mpsc;

/// One thing worth showing.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A reading of an unwindowed pipeline.
    Reading {
        /// The pipeline.
        pipeline: Arc<str>,
        /// The reading.
        reading: Reading,
    },
    /// A window's features and score (or the baseline's progress).
    Window {
        /// The pipeline.
        pipeline: Arc<str>,
        /// Its reading: features, `anomaly_score` or `baseline_windows`/`baseline_needed`.
        reading: Reading,
    },
    /// An output changed (or a sensor's interval): an `actions` event.
    Action {
        /// The pipeline that drives it (`outputs` for an actuator no pipeline drives).
        pipeline: Arc<str>,
        /// The event, as published.
        event: Reading,
    },
    /// A rule raised or cleared.
    Event {
        /// The pipeline.
        pipeline: Arc<str>,
        /// The event, as published.
        event: Reading,
    },
}

/// The sending side of the live view; cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveSender(mpsc::Sender<LiveEvent>);

impl LiveSender {
    /// Offers `event`; dropped if the view is behind.
    pub fn send(&self, event: LiveEvent) {
        let _ = self.0.try_send(event);
    }
}

/// A live view channel holding up to `capacity` events.
pub fn channel(capacity: usize) -> (LiveSender, mpsc::Receiver<LiveEvent>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (LiveSender(tx), rx)
}
