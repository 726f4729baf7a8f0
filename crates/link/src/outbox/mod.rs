//! The durable outbox: readings wait on disk until a transport acknowledged them.
//!
//! # Accepting
//!
//! [`Outbox::accept`] gives each reading its per-sensor `seq` (consecutive from 0 per sensor
//! name; the counter lives in the database, so numbering continues after a restart) and writes
//! the whole batch in **one** redb write transaction committed with
//! [`redb::Durability::Immediate`] (fsync'd). A reading is accepted only when `accept` returns
//! `Ok`: after that neither a crash nor a power cut loses it. One call is one commit (an fsync,
//! ~1–3 ms on an SD card or SSD), so batching readings into one call is how a caller trades
//! latency for throughput.
//!
//! # Bounds
//!
//! [`Limits`] caps what waits on disk: `max_readings`, `max_bytes` and `max_age`.
//!
//! - `max_bytes` counts each record's stored value plus its 8-byte key. redb's b-tree pages,
//!   its free pages and the file's growth in chunks are not counted, so the file is larger than
//!   the bound (typically by a small factor for small records); size the bound with that slack.
//! - `max_age` counts from acceptance (the outbox's own clock), not from the reading's
//!   timestamp, which may come from a device whose clock is unset. Expiry runs at every
//!   `accept` and in the delivery loop, always from the oldest reading, so it deletes a prefix
//!   and never reorders a sensor.
//!
//! When a batch does not fit, [`FullPolicy`] decides: `DropOldest` deletes the oldest pending
//! readings (counted in `dropped_full`; the gap in their sensor's seqs tells the receiver
//! data was lost), `RefuseNew` refuses the whole batch with [`OutboxError::Full`], which names
//! the limit (counted in `refused`; no seqs are used up).
//!
//! # Delivering
//!
//! [`Outbox::peek`] returns the oldest pending readings in acceptance order (the global order
//! across sensors) with opaque [`OutboxKey`]s; [`Outbox::ack`] deletes acknowledged ones in one
//! durable commit. The **per-sensor order rule**: a reading is deleted only if every earlier
//! pending reading of the same sensor is acknowledged in the same call or already gone. An
//! acknowledged reading behind an unacknowledged one of its sensor stays and is sent again with
//! it later. The receiver may then see that reading twice (a duplicate, recognisable by its
//! `(sensor, seq)`), but it never sees a sensor's seq go backwards after a gap that is later
//! filled, so "highest seq seen" is a correct receiver-side watermark and a gap in seqs always
//! means readings were dropped, never that they are still coming.
//!
//! [`deliver`] is the loop that does this against a [`Transport`](crate::transport::Transport):
//! it peeks a batch, publishes it, acks what the peer acknowledged, backs off on errors
//! (transient ones exponentially; TLS, auth, rejection and encoding errors, which need a
//! configuration or peer change, at the back-off's cap, still retrying), and sleeps until
//! `accept` signals new readings (a tokio `Notify`) when nothing is pending. Shutdown is
//! honoured while idle or backing off; a publish in progress finishes (the transport bounds
//! it) so its acknowledgements are recorded. Run one loop per outbox.
//!
//! # Encryption at rest
//!
//! With an [`EncryptionKey`] each record's reading is sealed with XChaCha20-Poly1305 under a
//! random 24-byte nonce, bound to its key in the table (a record moved to another key fails
//! authentication). Sensor names, which also key the per-sensor seq table, are replaced there
//! by an HMAC-SHA256 digest under a key derived from the encryption key. A key check value
//! stored at creation makes a wrong key fail at open. The acceptance time stays in the clear
//! (expiry needs it).
//!
//! # Command ids
//!
//! [`Outbox::remember_command_id`] records the ids of remote commands in a table of the same
//! database (see `command_ids`), durably and before the command runs, so a command is executed
//! at most once, also across restarts. It does not touch the readings or their counters.
//!
//! # Threads
//!
//! An [`Outbox`] is a cheap handle (`Clone`, `Send`, `Sync`); all state is in the database,
//! redb serialises write transactions, so producers and the delivery loop can share it. Its
//! methods block on disk I/O and fsync: from async code, call them through
//! `tokio::task::spawn_blocking` (as [`deliver`] does: the blocking pool is already there and
//! needs no lifetime management, unlike a dedicated thread), never directly on a runtime
//! worker, where an fsync would stall every task on that worker.

mod cipher;
mod codec;
mod command_ids;
mod deliver;
mod error;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use tokio::sync::Notify;

use crate::reading::{unix_nanos, Reading};
use cipher::{RecordCipher, Sealer};
use codec::Header;
use store::{Counters, StepError, WriteTables, COUNTERS, META, RECORDS, SENSORS};

pub use cipher::EncryptionKey;
pub use command_ids::FORGET_AFTER as COMMAND_ID_MARGIN;
pub use deliver::{deliver, DeliverSettings, DeliveryMonitor, DeliveryStats, Hold};
pub use error::{FullLimit, OutboxError};

/// What the outbox keeps at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Record bytes on disk (values plus keys; see the module docs for what is not counted).
    pub max_bytes: Option<u64>,
    /// Pending readings.
    pub max_readings: Option<u64>,
    /// How long a reading may wait after acceptance before it is dropped.
    pub max_age: Option<Duration>,
}

impl Default for Limits {
    /// 64 MiB, one million readings, seven days.
    fn default() -> Self {
        Self {
            max_bytes: Some(64 << 20),
            max_readings: Some(1_000_000),
            max_age: Some(Duration::from_secs(7 * 24 * 3600)),
        }
    }
}

impl Limits {
    /// No bounds at all (tests, benchmarks).
    pub fn unbounded() -> Self {
        Self {
            max_bytes: None,
            max_readings: None,
            max_age: None,
        }
    }

    fn exceeded_by(&self, count: u64, bytes: u64) -> bool {
        self.max_readings.is_some_and(|max| count > max)
            || self.max_bytes.is_some_and(|max| bytes > max)
    }
}

/// What happens when a batch does not fit within the [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullPolicy {
    /// Delete the oldest pending readings to make room (the newest data is usually worth more).
    #[default]
    DropOldest,
    /// Refuse the batch: [`Outbox::accept`] returns [`OutboxError::Full`].
    RefuseNew,
}

/// How to open an outbox.
#[derive(Debug, Clone, Default)]
pub struct OutboxConfig {
    /// The bounds.
    pub limits: Limits,
    /// What to do when full.
    pub when_full: FullPolicy,
    /// The key to encrypt records with; `None` stores them in the clear. A database keeps the
    /// choice it was created with.
    pub encryption: Option<EncryptionKey>,
}

/// Which seqs one sensor's readings got in one [`Outbox::accept`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqRange {
    /// The sensor.
    pub sensor: String,
    /// The first seq assigned.
    pub first: u64,
    /// The last seq assigned (inclusive).
    pub last: u64,
}

/// What one [`Outbox::accept`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptReport {
    /// Readings committed.
    pub accepted: usize,
    /// The seqs they got, per sensor, in order of each sensor's first appearance in the batch.
    pub seqs: Vec<SeqRange>,
    /// Older readings deleted to make room (policy `DropOldest`). If a batch alone exceeds the
    /// bounds, this includes its own oldest readings.
    pub dropped_full: u64,
    /// Readings deleted because they exceeded `max_age`.
    pub dropped_age: u64,
}

/// Identifies a peeked reading for [`Outbox::ack`]. Only meaningful to the outbox that issued it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboxKey {
    id: u64,
    sensor: Arc<str>,
    seq: u64,
}

impl OutboxKey {
    /// The reading's sensor.
    pub fn sensor(&self) -> &str {
        &self.sensor
    }

    /// The reading's seq.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// The oldest pending readings, with the keys to acknowledge them by (same order, same length).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeekBatch {
    /// One key per reading.
    pub keys: Vec<OutboxKey>,
    /// The readings, in acceptance order.
    pub readings: Vec<Reading>,
}

impl PeekBatch {
    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.readings.is_empty()
    }

    /// How many readings.
    pub fn len(&self) -> usize {
        self.readings.len()
    }
}

/// What one [`Outbox::ack`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AckReport {
    /// Acknowledged readings deleted.
    pub deleted: u64,
    /// Unsendable readings deleted (see [`Outbox::settle`]).
    pub discarded: u64,
    /// Acknowledged, but kept because an earlier reading of the same sensor is still pending
    /// (they will be sent again).
    pub kept_for_order: u64,
    /// Already gone (acknowledged before, or dropped).
    pub already_gone: u64,
}

/// Counters and the current backlog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Readings accepted since the database was created.
    pub accepted: u64,
    /// Readings deleted after acknowledgement.
    pub delivered: u64,
    /// Readings dropped to make room.
    pub dropped_full: u64,
    /// Readings dropped for exceeding `max_age`.
    pub dropped_age: u64,
    /// Readings refused because the outbox was full.
    pub refused: u64,
    /// Readings deleted undelivered because the transport can never send them (its encoder
    /// cannot represent them: an unregistered SenML unit, a NaN in JSON).
    pub dropped_unsendable: u64,
    /// Readings waiting.
    pub pending: u64,
    /// Their record bytes (as counted against `max_bytes`).
    pub pending_bytes: u64,
    /// How long ago the oldest waiting reading was accepted.
    pub oldest_pending_age: Option<Duration>,
}

/// The durable outbox. See the [module docs](self).
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `None` after a failed reopen; an I/O error poisons a redb database until it is reopened.
    db: RwLock<Option<Database>>,
    sealer: Sealer,
    limits: Limits,
    when_full: FullPolicy,
    /// Wakes the delivery loop when readings are accepted.
    accepted: Notify,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.inner.path)
            .field("limits", &self.inner.limits)
            .field("when_full", &self.inner.when_full)
            .field("encrypted", &self.inner.sealer.cipher().is_some())
            .finish()
    }
}

impl Outbox {
    /// Opens the outbox at `path`, creating the database if the file does not exist.
    ///
    /// Errors name the path: a file that is not a redb database or is corrupt, a database held
    /// open by another process, an encrypted database without its key or with another key.
    pub fn open(path: impl AsRef<Path>, config: OutboxConfig) -> Result<Self, OutboxError> {
        let path = path.as_ref().to_path_buf();
        let cipher = config.encryption.as_ref().map(RecordCipher::new);
        let db = open_checked(&path, cipher.as_ref())?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                db: RwLock::new(Some(db)),
                sealer: Sealer::new(cipher),
                limits: config.limits,
                when_full: config.when_full,
                accepted: Notify::new(),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Assigns seqs to `readings` (their own `seq` is ignored) and commits them durably in one
    /// transaction. See the [module docs](self) for bounds and policies.
    pub fn accept(&self, readings: &[Reading]) -> Result<AcceptReport, OutboxError> {
        if readings.is_empty() {
            return Ok(AcceptReport::default());
        }
        let inner = &self.inner;
        let now_ns = unix_nanos(SystemTime::now());
        let mut report = AcceptReport::default();
        let mut refused: Option<FullLimit> = None;
        self.write("accept", |txn| {
            let mut tables = WriteTables::open(txn)?;
            if let Some(max_age) = inner.limits.max_age {
                report.dropped_age = tables.expire(cutoff(now_ns, max_age), &inner.sealer)?;
            }

            // Number and encode first: the byte bound needs the encoded sizes.
            let mut ranges: Vec<SensorRange> = Vec::new();
            let mut by_sensor: HashMap<&str, usize> = HashMap::new();
            let mut records = Vec::with_capacity(readings.len());
            let mut incoming_bytes = 0u64;
            let mut payload = Vec::new();
            let first_id = tables.counters.next_id;
            for (offset, reading) in readings.iter().enumerate() {
                let slot = match by_sensor.get(reading.sensor.as_ref()) {
                    Some(&slot) => slot,
                    None => {
                        let key = inner.sealer.sensor_key(&reading.sensor).into_owned();
                        let (head, next) = tables.sensor_range(&key)?;
                        ranges.push(SensorRange {
                            name: &reading.sensor,
                            key,
                            head,
                            first: next,
                            next,
                        });
                        by_sensor.insert(reading.sensor.as_ref(), ranges.len() - 1);
                        ranges.len() - 1
                    }
                };
                let seq = ranges[slot].next;
                ranges[slot].next += 1;
                let id = first_id + offset as u64;
                let record =
                    store::encode_record(&inner.sealer, id, now_ns, reading, seq, &mut payload)
                        .map_err(StepError::Encode)?;
                incoming_bytes += record.len() as u64 + store::KEY_BYTES;
                records.push(record);
            }

            let counters = tables.counters;
            if inner.when_full == FullPolicy::RefuseNew {
                refused = inner
                    .limits
                    .refusal(&counters, readings.len() as u64, incoming_bytes);
                if refused.is_some() {
                    tables.counters.refused += readings.len() as u64;
                    return tables.finish();
                }
            }

            for (offset, record) in records.iter().enumerate() {
                tables.insert(first_id + offset as u64, record)?;
            }
            for range in &ranges {
                tables.set_sensor_range(&range.key, range.head, range.next)?;
            }
            tables.counters.next_id = first_id + readings.len() as u64;
            tables.counters.accepted += readings.len() as u64;
            report.dropped_full = tables.trim_to(&inner.limits, &inner.sealer)?;
            report.accepted = readings.len();
            report.seqs = ranges
                .iter()
                .map(|range| SeqRange {
                    sensor: range.name.to_string(),
                    first: range.first,
                    last: range.next - 1,
                })
                .collect();
            tables.finish()
        })?;
        if let Some(limit) = refused {
            return Err(OutboxError::Full {
                path: inner.path.clone(),
                limit,
                refused: readings.len(),
            });
        }
        inner.accepted.notify_one();
        Ok(report)
    }

    /// Up to `limit` of the oldest pending readings, in acceptance order.
    pub fn peek(&self, limit: usize) -> Result<PeekBatch, OutboxError> {
        let inner = &self.inner;
        self.read("peek", |txn| {
            let records = txn.open_table(RECORDS)?;
            let mut batch = PeekBatch::default();
            let mut sensor_names: HashMap<String, Arc<str>> = HashMap::new();
            for entry in records.iter()?.take(limit) {
                let (id, record) = entry?;
                let id = id.value();
                let reading = inner
                    .sealer
                    .open_record(id, record.value())
                    .map_err(|reason| StepError::Record { id, reason })?;
                let sensor = match sensor_names.get(reading.sensor.as_ref()) {
                    Some(name) => Arc::clone(name),
                    None => {
                        let name: Arc<str> = Arc::from(reading.sensor.as_ref());
                        sensor_names.insert(reading.sensor.to_string(), Arc::clone(&name));
                        name
                    }
                };
                batch.keys.push(OutboxKey {
                    id,
                    sensor,
                    seq: reading.seq,
                });
                batch.readings.push(reading);
            }
            Ok(batch)
        })
    }

    /// Deletes acknowledged readings in one durable commit, following the per-sensor order
    /// rule (see the [module docs](self)).
    pub fn ack(&self, keys: &[OutboxKey]) -> Result<AckReport, OutboxError> {
        self.settle(keys, &[])
    }

    /// Deletes acknowledged readings and readings the transport can never send, in one durable
    /// commit. Both count as settled for the per-sensor order rule: a reading no encoder can
    /// represent must not hold back the readings after it forever. The unsendable ones are
    /// counted in [`OutboxStats::dropped_unsendable`].
    pub fn settle(
        &self,
        acked: &[OutboxKey],
        unsendable: &[OutboxKey],
    ) -> Result<AckReport, OutboxError> {
        // Per sensor: seq → (record id, whether it is unsendable rather than acknowledged).
        let mut by_sensor: BTreeMap<&str, BTreeMap<u64, (u64, bool)>> = BTreeMap::new();
        let settled = acked
            .iter()
            .map(|key| (key, false))
            .chain(unsendable.iter().map(|key| (key, true)));
        for (key, is_unsendable) in settled {
            by_sensor
                .entry(key.sensor.as_ref())
                .or_default()
                .insert(key.seq, (key.id, is_unsendable));
        }
        if by_sensor.is_empty() {
            return Ok(AckReport::default());
        }
        let inner = &self.inner;
        let mut report = AckReport::default();
        self.write("ack", |txn| {
            let mut tables = WriteTables::open(txn)?;
            for (sensor, settled) in &by_sensor {
                let sensor_key = inner.sealer.sensor_key(sensor);
                let (mut head, next) = tables.sensor_range(&sensor_key)?;
                let before = head;
                let mut blocked = false;
                for (&seq, &(id, is_unsendable)) in settled {
                    if seq < head {
                        report.already_gone += 1;
                    } else if !blocked && seq == head && tables.remove(id)? {
                        if is_unsendable {
                            report.discarded += 1;
                        } else {
                            report.deleted += 1;
                        }
                        head += 1;
                    } else {
                        // An earlier reading of this sensor is still pending.
                        blocked = true;
                        report.kept_for_order += 1;
                    }
                }
                if head != before {
                    tables.set_sensor_range(&sensor_key, head, next)?;
                }
            }
            tables.counters.delivered += report.deleted;
            tables.counters.dropped_unsendable += report.discarded;
            tables.finish()
        })?;
        Ok(report)
    }

    /// Drops readings older than `max_age` now (`accept` does this too); returns how many.
    pub fn expire(&self) -> Result<u64, OutboxError> {
        let inner = &self.inner;
        let Some(max_age) = inner.limits.max_age else {
            return Ok(0);
        };
        let now_ns = unix_nanos(SystemTime::now());
        let cutoff_ns = cutoff(now_ns, max_age);
        // Look before taking the write lock: usually nothing is due.
        let oldest = self.read("expire", |txn| {
            oldest_accepted_ns(&txn.open_table(RECORDS)?)
        })?;
        if oldest.is_none_or(|accepted_ns| accepted_ns >= cutoff_ns) {
            return Ok(0);
        }
        let mut dropped = 0;
        self.write("expire", |txn| {
            let mut tables = WriteTables::open(txn)?;
            dropped = tables.expire(cutoff_ns, &inner.sealer)?;
            tables.finish()
        })?;
        Ok(dropped)
    }

    /// The counters and the backlog.
    pub fn stats(&self) -> Result<OutboxStats, OutboxError> {
        let now_ns = unix_nanos(SystemTime::now());
        self.read("stats", |txn| {
            let counters = Counters::load(&txn.open_table(COUNTERS)?)?;
            let oldest = oldest_accepted_ns(&txn.open_table(RECORDS)?)?;
            Ok(OutboxStats {
                accepted: counters.accepted,
                delivered: counters.delivered,
                dropped_unsendable: counters.dropped_unsendable,
                dropped_full: counters.dropped_full,
                dropped_age: counters.dropped_age,
                refused: counters.refused,
                pending: counters.pending_count,
                pending_bytes: counters.pending_bytes,
                oldest_pending_age: oldest.map(|accepted_ns| {
                    Duration::from_nanos(
                        u64::try_from(now_ns.saturating_sub(accepted_ns)).unwrap_or(0),
                    )
                }),
            })
        })
    }

    /// The seq `sensor`'s next accepted reading will get.
    pub fn next_seq(&self, sensor: &str) -> Result<u64, OutboxError> {
        self.read("next_seq", |txn| {
            let key = self.inner.sealer.sensor_key(sensor);
            Ok(txn
                .open_table(SENSORS)?
                .get(key.as_ref())?
                .map_or(0, |v| v.value().1))
        })
    }

    /// Completes when readings were accepted since the last wake-up (for the delivery loop).
    pub(crate) async fn accepted(&self) {
        self.inner.accepted.notified().await;
    }

    /// Runs `step` in a read transaction.
    fn read<T>(
        &self,
        operation: &'static str,
        step: impl FnOnce(&redb::ReadTransaction) -> Result<T, StepError>,
    ) -> Result<T, OutboxError> {
        self.with_database(operation, |db| {
            let txn = db.begin_read()?;
            step(&txn)
        })
    }

    /// Runs `step` in a write transaction and commits it with `Durability::Immediate`.
    fn write(
        &self,
        operation: &'static str,
        step: impl FnOnce(&redb::WriteTransaction) -> Result<(), StepError>,
    ) -> Result<(), OutboxError> {
        self.with_database(operation, |db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            step(&txn)?;
            txn.commit()?;
            Ok(())
        })
    }

    /// Runs `body` against the database, reopening it first if an earlier I/O error poisoned
    /// it (redb refuses all further work after one, until reopened: a full disk that is freed
    /// again must not need an agent restart).
    fn with_database<T>(
        &self,
        operation: &'static str,
        body: impl FnOnce(&Database) -> Result<T, StepError>,
    ) -> Result<T, OutboxError> {
        let inner = &self.inner;
        let closed = inner
            .db
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_none();
        if closed {
            self.reopen()?;
        }
        let result = {
            let guard = inner
                .db
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match guard.as_ref() {
                Some(db) => body(db),
                None => Err(StepError::Redb(redb::Error::DatabaseClosed)),
            }
        };
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let error = self.step_error(operation, error);
        if let OutboxError::Storage { source, .. } = &error {
            if matches!(**source, redb::Error::Io(_) | redb::Error::PreviousIo) {
                // Close now; the next call reopens (and redb repairs if it must).
                let mut guard = inner
                    .db
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *guard = None;
            }
        }
        Err(error)
    }

    fn reopen(&self) -> Result<(), OutboxError> {
        let inner = &self.inner;
        let mut guard = inner
            .db
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(open_checked(&inner.path, inner.sealer.cipher())?);
        }
        Ok(())
    }

    fn step_error(&self, operation: &'static str, error: StepError) -> OutboxError {
        let path = self.inner.path.clone();
        match error {
            StepError::Redb(source) => OutboxError::Storage {
                path,
                operation,
                source: Box::new(source),
            },
            StepError::Record { id, reason } => OutboxError::CorruptRecord { path, id, reason },
            StepError::Encode(reason) => OutboxError::Encode { path, reason },
        }
    }
}

impl Limits {
    /// The limit a batch of `count` readings and `bytes` record bytes would exceed, if any.
    fn refusal(&self, pending: &Counters, count: u64, bytes: u64) -> Option<FullLimit> {
        if let Some(max) = self.max_readings {
            if pending.pending_count + count > max {
                return Some(FullLimit::Readings {
                    pending: pending.pending_count,
                    incoming: count,
                    max,
                });
            }
        }
        if let Some(max) = self.max_bytes {
            if pending.pending_bytes + bytes > max {
                return Some(FullLimit::Bytes {
                    pending: pending.pending_bytes,
                    incoming: bytes,
                    max,
                });
            }
        }
        None
    }
}

/// One sensor's numbering during an `accept`.
struct SensorRange<'a> {
    name: &'a str,
    /// Its key in the `sensors` table.
    key: Vec<u8>,
    head: u64,
    /// The first seq this batch assigns.
    first: u64,
    /// The next seq to assign.
    next: u64,
}

fn cutoff(now_ns: i64, max_age: Duration) -> i64 {
    now_ns.saturating_sub(i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX))
}

fn oldest_accepted_ns(
    records: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Option<i64>, StepError> {
    let Some((id, record)) = records.first()? else {
        return Ok(None);
    };
    let id = id.value();
    Header::split(record.value())
        .map(|(header, _)| Some(header.accepted_ns))
        .map_err(|reason| StepError::Record { id, reason })
}

/// Opens and checks the database, containing a panic from redb on a damaged file.
fn open_checked(path: &Path, cipher: Option<&RecordCipher>) -> Result<Database, OutboxError> {
    contain_panic(|| {
        let db = open_database(path)?;
        check_or_initialise(path, &db, cipher)?;
        Ok(db)
    })
    .unwrap_or_else(|reason| {
        Err(OutboxError::Corrupt {
            path: path.to_path_buf(),
            reason,
        })
    })
}

/// Runs `f`, turning a panic into its message. redb 4 validates pages with checksums but still
/// reaches `unreachable!()` on some damaged files; a bad file must be an error that names it,
/// not a dead agent. (Release builds unwind, see the workspace profile, so this holds there.)
fn contain_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into());
        format!("redb: {message}")
    })
}

fn open_database(path: &Path) -> Result<Database, OutboxError> {
    Database::create(path).map_err(|source| OutboxError::Open {
        path: path.to_path_buf(),
        source: Box::new(source.into()),
    })
}

/// Creates the tables and the format marker in a new database; checks them (and the key) in an
/// existing one.
fn check_or_initialise(
    path: &Path,
    db: &Database,
    cipher: Option<&RecordCipher>,
) -> Result<(), OutboxError> {
    let storage = |source: redb::Error| OutboxError::Storage {
        path: path.to_path_buf(),
        operation: "open",
        source: Box::new(source),
    };
    let format_error = |reason: String| OutboxError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let mut txn = db.begin_write().map_err(|e| storage(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| storage(e.into()))?;
    {
        let mut meta = txn.open_table(META).map_err(|e| storage(e.into()))?;
        let format = meta
            .get(store::META_FORMAT)
            .map_err(|e| storage(e.into()))?
            .map(|v| v.value().to_vec());
        let key_check = meta
            .get(store::META_KEY_CHECK)
            .map_err(|e| storage(e.into()))?
            .map(|v| v.value().to_vec());
        match format.as_deref() {
            None => {
                let records = txn.open_table(RECORDS).map_err(|e| storage(e.into()))?;
                if !records.is_empty().map_err(|e| storage(e.into()))? {
                    return Err(format_error("records without a format marker".into()));
                }
                meta.insert(store::META_FORMAT, [store::DATABASE_FORMAT].as_slice())
                    .map_err(|e| storage(e.into()))?;
                if let Some(cipher) = cipher {
                    let check = cipher.key_check().map_err(|reason| OutboxError::Encode {
                        path: path.to_path_buf(),
                        reason,
                    })?;
                    meta.insert(store::META_KEY_CHECK, check.as_slice())
                        .map_err(|e| storage(e.into()))?;
                }
            }
            Some([store::DATABASE_FORMAT]) => match (cipher, key_check) {
                (None, None) => {}
                (Some(cipher), Some(check)) if cipher.verifies(&check) => {}
                (Some(_), Some(_)) => {
                    return Err(OutboxError::WrongKey {
                        path: path.to_path_buf(),
                    })
                }
                (None, Some(_)) => {
                    return Err(OutboxError::KeyRequired {
                        path: path.to_path_buf(),
                    })
                }
                (Some(_), None) => {
                    return Err(OutboxError::NotEncrypted {
                        path: path.to_path_buf(),
                    })
                }
            },
            Some(other) => {
                return Err(format_error(format!(
                    "database format {other:?} is not the format {} this version reads",
                    store::DATABASE_FORMAT
                )))
            }
        }
    }
    for table in [
        txn.open_table(RECORDS).map(drop),
        txn.open_table(COUNTERS).map(drop),
    ] {
        table.map_err(|e| storage(e.into()))?;
    }
    txn.open_table(SENSORS).map_err(|e| storage(e.into()))?;
    txn.commit().map_err(|e| storage(e.into()))
}

#[cfg(test)]
mod tests;
