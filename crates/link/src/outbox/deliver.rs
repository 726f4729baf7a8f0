//! The delivery loop: outbox → transport → acknowledgements → outbox.
//!
//! One round peeks a batch, publishes it, and acks what the peer acknowledged. Then:
//!
//! - everything acknowledged: the back-off resets and the next round starts at once;
//! - a transport error: wait [`Backoff::next_delay`] for a transient error (connect, timeout,
//!   peer failure, local I/O), or the back-off's cap for one that needs a configuration or
//!   peer change (TLS, auth, rejected): those still retry, since the peer may be fixed
//!   without restarting the agent, but slowly;
//! - an outbox error (disk): counted and retried the same way as a transient error;
//! - a batch the transport's encoder refuses: its readings are sent one at a time, so the good
//!   ones are delivered and those the encoder refuses alone (a NaN, an unregistered SenML
//!   unit) are deleted as unsendable, counted, with the reason in `last_error`. Retrying them
//!   could never succeed and would hold back every later reading of their sensor;
//! - nothing pending: sleep until [`Outbox::accept`] signals new readings (a tokio `Notify`:
//!   no polling, no latency);
//! - with a [`Hold`]: fewer readings pending than it asks for and the oldest younger than its
//!   limit: wait for more (or for that age), so a radio stays off between publications.
//!
//! Every outbox call blocks on disk I/O and fsync, so it runs on tokio's blocking pool
//! (`spawn_blocking`) rather than on a runtime worker, where it would stall every other task
//! on that worker for the length of an fsync. A dedicated thread would work too; the blocking
//! pool needs no lifetime management and is already there.
//!
//! Shutdown drains: once `shutdown` completes, held readings are released and the loop keeps
//! publishing until the outbox is empty, then returns; it returns at once while backing off
//! (the peer is down: what is pending stays for the next start). Bound the drain with a
//! timeout around the call. A publish in progress is not cut off by shutdown: it is bounded by
//! the transport's own timeout, and finishing it lets its acknowledgements be recorded instead
//! of sending the batch again after restart.
//!
//! Run one loop per outbox: the wake-up goes to one waiter.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::{Outbox, OutboxError, PeekBatch};
use crate::backoff::Backoff;
use crate::reading::system_time;
use crate::transport::{Delivery, ErrorKind, Transport, TransportError};

/// How the delivery loop runs.
#[derive(Debug, Clone)]
pub struct DeliverSettings {
    /// Readings per publish.
    pub batch_size: usize,
    /// Waits between failed rounds.
    pub backoff: Backoff,
    /// Where the loop reports its progress while it runs.
    pub monitor: DeliveryMonitor,
    /// Hold readings back until enough are waiting; `None`: publish as soon as they arrive.
    pub hold: Option<Hold>,
}

/// When held-back readings go out: once `readings` are pending or the oldest was taken
/// `max_wait` ago, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Publish once this many are pending (capped at the batch size).
    pub readings: Option<usize>,
    /// Publish once the oldest pending reading is this old (by its own timestamp).
    pub max_wait: Option<Duration>,
}

impl Hold {
    /// How long to keep holding `batch` back at `now`; `None`: publish it now.
    fn remaining(&self, batch: &PeekBatch, batch_size: usize, now: SystemTime) -> Option<Duration> {
        if self
            .readings
            .is_some_and(|n| batch.len() >= n.clamp(1, batch_size))
        {
            return None;
        }
        let Some(max_wait) = self.max_wait else {
            // Only a count: wait for it, however long.
            return Some(Duration::MAX);
        };
        let oldest = batch.readings.iter().map(|r| r.time_ns).min()?;
        let due = system_time(oldest).checked_add(max_wait)?;
        due.duration_since(now).ok().filter(|d| !d.is_zero())
    }
}

impl Default for DeliverSettings {
    /// 256 readings per batch, the default back-off, a fresh monitor.
    fn default() -> Self {
        Self {
            batch_size: 256,
            backoff: Backoff::default(),
            monitor: DeliveryMonitor::default(),
            hold: None,
        }
    }
}

/// What the delivery loop has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Batches published (whatever their outcome).
    pub batches: u64,
    /// Readings acknowledged and deleted from the outbox.
    pub delivered: u64,
    /// Readings dropped because the transport can never send them (its encoder refuses them);
    /// the error is in `last_error`.
    pub unsendable: u64,
    /// Readings acknowledged but kept to preserve their sensor's order (sent again later).
    pub kept_for_order: u64,
    /// Rounds that failed because of the transport.
    pub transport_errors: u64,
    /// Rounds that failed because of the outbox (disk).
    pub outbox_errors: u64,
    /// Failed rounds in a row (0 after a success).
    pub consecutive_failures: u32,
    /// The latest error, in words.
    pub last_error: Option<String>,
}

/// A live view of a running delivery loop's [`DeliveryStats`]; clone it before handing the
/// settings to [`deliver`].
#[derive(Debug, Clone, Default)]
pub struct DeliveryMonitor {
    stats: Arc<Mutex<DeliveryStats>>,
    /// Signalled when the loop starts failing or recovers.
    health: Arc<tokio::sync::Notify>,
}

impl DeliveryMonitor {
    /// The stats right now.
    pub fn snapshot(&self) -> DeliveryStats {
        self.lock().clone()
    }

    /// Completes the next time the loop starts failing (its first failed round after a
    /// success) or recovers: a watcher logs transitions without polling.
    pub async fn health_changed(&self) {
        self.health.notified().await;
    }

    fn update(&self, change: impl FnOnce(&mut DeliveryStats)) {
        let mut stats = self.lock();
        let was_failing = stats.consecutive_failures > 0;
        change(&mut stats);
        let is_failing = stats.consecutive_failures > 0;
        drop(stats);
        if was_failing != is_failing {
            // `notify_one` keeps a permit, so a change while the watcher is busy is not lost.
            self.health.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DeliveryStats> {
        // The stats stay meaningful even if an updater panicked.
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How often the loop drops readings older than the outbox's age limit.
const EXPIRE_EVERY: Duration = Duration::from_secs(60);

/// The longest single timer: tokio's timer wheel tops out at about two years.
const MAX_TIMER: Duration = Duration::from_secs(86_400 * 365);

/// Delivers the outbox's readings through `transport` until `shutdown` completes; returns what
/// it did. See the [outbox module docs](super) for how it retries, sleeps and stops.
pub async fn deliver(
    outbox: Outbox,
    mut transport: Box<dyn Transport>,
    settings: DeliverSettings,
    shutdown: impl Future<Output = ()>,
) -> DeliveryStats {
    let DeliverSettings {
        batch_size,
        mut backoff,
        monitor,
        hold,
    } = settings;
    let batch_size = batch_size.max(1);
    tokio::pin!(shutdown);
    // Set once `shutdown` completed (it is not polled again): drain, then return.
    let mut stopping = false;
    // The next batch, peeked in the same blocking call as the last settle: one hand-over to
    // the blocking pool per round instead of two.
    let mut next: Option<PeekBatch> = None;
    let mut last_expiry: Option<Instant> = None;
    loop {
        let peeked = match next.take() {
            Some(batch) => Ok(batch),
            None => {
                // Age limits are in days; checking them once a minute is exact enough and
                // saves a write transaction per round.
                let expire = last_expiry.is_none_or(|at| at.elapsed() >= EXPIRE_EVERY);
                if expire {
                    last_expiry = Some(Instant::now());
                }
                blocking(&outbox, move |outbox| {
                    if expire {
                        outbox.expire()?;
                    }
                    outbox.peek(batch_size)
                })
                .await
            }
        };
        let failure = match peeked {
            Err(error) => Some(Failure::Outbox(error)),
            Ok(batch) if batch.is_empty() => {
                if stopping {
                    break;
                }
                // `biased`: readings accepted just before shutdown are still delivered.
                tokio::select! {
                    biased;
                    () = outbox.accepted() => continue,
                    () = &mut shutdown => {
                        stopping = true;
                        continue;
                    }
                }
            }
            Ok(batch) => {
                let wait = hold
                    .filter(|_| !stopping)
                    .and_then(|hold| hold.remaining(&batch, batch_size, SystemTime::now()));
                if let Some(wait) = wait {
                    let sleep = tokio::time::sleep(wait.min(MAX_TIMER));
                    tokio::select! {
                        biased;
                        () = &mut shutdown => stopping = true,
                        () = outbox.accepted() => {}
                        () = sleep => {}
                    }
                    continue;
                }
                let (failure, peeked) =
                    publish_and_ack(&outbox, transport.as_mut(), batch, batch_size, &monitor).await;
                next = peeked;
                failure
            }
        };
        match failure {
            None => {
                backoff.reset();
                monitor.update(|stats| stats.consecutive_failures = 0);
            }
            Some(failure) => {
                let delay = if failure.is_transient() {
                    backoff.next_delay()
                } else {
                    delay_at_cap(&mut backoff)
                };
                let message = failure.to_string();
                monitor.update(|stats| {
                    match failure {
                        Failure::Outbox(_) => stats.outbox_errors += 1,
                        Failure::Transport(_) => stats.transport_errors += 1,
                    }
                    stats.consecutive_failures = stats.consecutive_failures.saturating_add(1);
                    stats.last_error = Some(message);
                });
                if stopping {
                    break;
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = &mut shutdown => break,
                }
            }
        }
    }
    monitor.snapshot()
}

/// Publishes `batch` and settles what the peer acknowledged and what can never be sent.
/// The failure is `None` when all of it was settled; then the next batch (up to
/// `batch_size`) is peeked in the same blocking call and returned too.
async fn publish_and_ack(
    outbox: &Outbox,
    transport: &mut dyn Transport,
    batch: PeekBatch,
    batch_size: usize,
    monitor: &DeliveryMonitor,
) -> (Option<Failure>, Option<PeekBatch>) {
    let mut delivery = transport.publish(&batch.readings).await;
    monitor.update(|stats| stats.batches += 1);
    let mut encode_error = None;
    if delivery
        .error
        .as_ref()
        .is_some_and(|error| error.kind == ErrorKind::Encode)
    {
        encode_error = delivery.error.take();
        isolate_unsendable(transport, &batch.readings, &mut delivery, monitor).await;
    }
    let PeekBatch { keys, .. } = batch;
    let mut acked = Vec::new();
    let mut unsendable = Vec::new();
    for (index, key) in keys.into_iter().enumerate() {
        if delivery.is_acked(index) {
            acked.push(key);
        } else if delivery.is_unsendable(index) {
            unsendable.push(key);
        }
    }
    let all_settled = delivery.is_complete();
    let prefetch = all_settled && delivery.error.is_none();
    let mut next = None;
    if !acked.is_empty() || !unsendable.is_empty() {
        let settled = blocking(outbox, move |outbox| {
            let report = outbox.settle(&acked, &unsendable)?;
            // A failed peek only costs the prefetch: the loop peeks again.
            let next = prefetch.then(|| outbox.peek(batch_size).ok()).flatten();
            Ok((report, next))
        })
        .await;
        match settled {
            Ok((report, peeked)) => {
                next = peeked;
                monitor.update(|stats| {
                    stats.delivered += report.deleted;
                    stats.unsendable += report.discarded;
                    stats.kept_for_order += report.kept_for_order;
                    if report.discarded > 0 {
                        if let Some(error) = &encode_error {
                            stats.last_error = Some(format!("dropped as unsendable: {error}"));
                        }
                    }
                });
            }
            // Nothing is lost: the readings stay and are sent again.
            Err(error) => return (Some(Failure::Outbox(error)), None),
        }
    }
    let failure = match delivery.error {
        Some(error) => Some(Failure::Transport(error)),
        None if !all_settled => Some(Failure::Transport(encode_error.unwrap_or_else(|| {
            TransportError::new(
                ErrorKind::Timeout,
                transport.describe(),
                "the peer did not acknowledge every reading",
            )
        }))),
        None => None,
    };
    (failure, next)
}

/// After a batch failed to encode: sends its unsettled readings one at a time, in order, so
/// the good ones get through and the ones the encoder refuses on their own are marked
/// unsendable. Stops at the first other failure (those readings stay pending).
async fn isolate_unsendable(
    transport: &mut dyn Transport,
    readings: &[crate::reading::Reading],
    delivery: &mut Delivery,
    monitor: &DeliveryMonitor,
) {
    for index in 0..readings.len() {
        if delivery.is_acked(index) || delivery.is_unsendable(index) {
            continue;
        }
        let single = transport.publish(&readings[index..=index]).await;
        monitor.update(|stats| stats.batches += 1);
        if single.is_acked(0) {
            delivery.ack(index);
        } else if single.is_unsendable(0)
            || single
                .error
                .as_ref()
                .is_some_and(|error| error.kind == ErrorKind::Encode)
        {
            delivery.mark_unsendable(index);
        } else {
            delivery.error = single.error.or_else(|| {
                Some(TransportError::new(
                    ErrorKind::Timeout,
                    transport.describe(),
                    "the peer did not acknowledge every reading",
                ))
            });
            return;
        }
    }
}

/// Why a round failed.
enum Failure {
    Outbox(OutboxError),
    Transport(TransportError),
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Self::Outbox(_) => true,
            Self::Transport(error) => error.is_transient(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Outbox(error) => error.fmt(f),
            Self::Transport(error) => error.fmt(f),
        }
    }
}

/// The back-off's longest wait (its cap, with jitter), for errors a quick retry will not fix.
/// [`Backoff`] reaches its cap after at most 31 consecutive failures; advancing it there keeps
/// the jitter and leaves a following transient error at the cap too until a success resets it.
fn delay_at_cap(backoff: &mut Backoff) -> Duration {
    while backoff.failures() < 31 {
        backoff.next_delay();
    }
    backoff.next_delay()
}

/// Runs a blocking outbox call on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    outbox: &Outbox,
    call: impl FnOnce(&Outbox) -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    let handle = outbox.clone();
    tokio::task::spawn_blocking(move || call(&handle))
        .await
        .unwrap_or_else(|join_error| {
            Err(OutboxError::Background {
                path: outbox.path().to_path_buf(),
                reason: join_error.to_string(),
            })
        })
}
