//! The redb layout and the operations inside one write transaction.
//!
//! Tables:
//!
//! - `records`: `u64 → bytes`. The key is a global acceptance number (never reused), so key
//!   order is acceptance order across all sensors; the value is a [`codec`](super::codec)
//!   record.
//! - `sensors`: `name → (head, next)` (in an encrypted database a keyed digest of the name). `next` is the seq the sensor's next reading gets; `head`
//!   the seq of its oldest pending reading (`head == next` when none is pending). Pending
//!   readings of a sensor are always the contiguous range `head..next`, because every deletion
//!   (ack, drop when full, expiry) removes a prefix of the sensor's pending readings.
//! - `counters`: `name → u64`: the statistics, pending totals and the next record key, updated in
//!   the same transaction as the records they count, so they never disagree after a crash.
//! - `meta`: `name → bytes`: the format version and, for an encrypted database, the key check.

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use super::cipher::Sealer;
use super::codec::{self, Header};
use super::Limits;
use crate::reading::Reading;

pub(crate) const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
pub(crate) const SENSORS: TableDefinition<&[u8], (u64, u64)> = TableDefinition::new("sensors");
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// `meta` key of the database format version.
pub(crate) const META_FORMAT: &str = "format";
/// `meta` key of the encryption key check value (present only in encrypted databases).
pub(crate) const META_KEY_CHECK: &str = "key_check";
/// The database format this version writes.
pub(crate) const DATABASE_FORMAT: u8 = 1;

/// Bytes a record costs beyond its value, for the byte bound: its 8-byte key. redb's page and
/// b-tree overhead is not counted (see the module docs of [`super`]).
pub(crate) const KEY_BYTES: u64 = 8;

/// The persisted counters, read at the start of a write transaction and written back at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub accepted: u64,
    pub delivered: u64,
    pub dropped_full: u64,
    pub dropped_age: u64,
    pub refused: u64,
    pub dropped_unsendable: u64,
    pub pending_count: u64,
    pub pending_bytes: u64,
    pub next_id: u64,
}

impl Counters {
    const NAMES: [&'static str; 9] = [
        "accepted",
        "delivered",
        "dropped_full",
        "dropped_age",
        "refused",
        "dropped_unsendable",
        "pending_count",
        "pending_bytes",
        "next_id",
    ];

    fn slots(&mut self) -> [&mut u64; 9] {
        [
            &mut self.accepted,
            &mut self.delivered,
            &mut self.dropped_full,
            &mut self.dropped_age,
            &mut self.refused,
            &mut self.dropped_unsendable,
            &mut self.pending_count,
            &mut self.pending_bytes,
            &mut self.next_id,
        ]
    }

    pub(crate) fn load(table: &impl ReadableTable<&'static str, u64>) -> redb::Result<Self> {
        let mut counters = Self::default();
        for (name, slot) in Self::NAMES.iter().zip(counters.slots()) {
            *slot = table.get(*name)?.map_or(0, |v| v.value());
        }
        Ok(counters)
    }

    fn store(mut self, table: &mut Table<&'static str, u64>) -> redb::Result<()> {
        for (name, slot) in Self::NAMES.iter().zip(self.slots()) {
            table.insert(*name, *slot)?;
        }
        Ok(())
    }
}

/// Why a transaction step failed: redb, a record that does not decode, or one that cannot be
/// encoded.
#[derive(Debug)]
pub(crate) enum StepError {
    Redb(redb::Error),
    Record { id: u64, reason: String },
    Encode(String),
}

impl<E: Into<redb::Error>> From<E> for StepError {
    fn from(error: E) -> Self {
        Self::Redb(error.into())
    }
}

/// The tables of one write transaction, with the counters loaded.
pub(crate) struct WriteTables<'txn> {
    pub records: Table<'txn, u64, &'static [u8]>,
    sensors: Table<'txn, &'static [u8], (u64, u64)>,
    counters_table: Table<'txn, &'static str, u64>,
    pub counters: Counters,
}

impl<'txn> WriteTables<'txn> {
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Self, StepError> {
        let counters_table = txn.open_table(COUNTERS)?;
        let counters = Counters::load(&counters_table)?;
        Ok(Self {
            records: txn.open_table(RECORDS)?,
            sensors: txn.open_table(SENSORS)?,
            counters_table,
            counters,
        })
    }

    /// Writes the counters back; call before committing.
    pub(crate) fn finish(mut self) -> Result<(), StepError> {
        self.counters.store(&mut self.counters_table)?;
        Ok(())
    }

    /// `(head, next)` of the sensor stored under `sensor_key` (see [`Sealer::sensor_key`]);
    /// `(0, 0)` for a sensor never seen.
    pub(crate) fn sensor_range(&self, sensor_key: &[u8]) -> Result<(u64, u64), StepError> {
        Ok(self.sensors.get(sensor_key)?.map_or((0, 0), |v| v.value()))
    }

    pub(crate) fn set_sensor_range(
        &mut self,
        sensor_key: &[u8],
        head: u64,
        next: u64,
    ) -> Result<(), StepError> {
        self.sensors.insert(sensor_key, (head, next))?;
        Ok(())
    }

    /// Stores one new record and returns its size as counted against `max_bytes`.
    pub(crate) fn insert(&mut self, id: u64, record: &[u8]) -> Result<u64, StepError> {
        self.records.insert(id, record)?;
        let bytes = record.len() as u64 + KEY_BYTES;
        self.counters.pending_count += 1;
        self.counters.pending_bytes += bytes;
        Ok(bytes)
    }

    /// Deletes the oldest pending record (which is also its sensor's oldest) and moves that
    /// sensor's head past it. Returns false when nothing is pending.
    pub(crate) fn drop_oldest(&mut self, sealer: &Sealer) -> Result<bool, StepError> {
        let Some((id, record)) = self
            .records
            .pop_first()?
            .map(|(id, record)| (id.value(), record.value().to_vec()))
        else {
            return Ok(false);
        };
        self.forget(record.len());
        let reading = sealer
            .open_record(id, &record)
            .map_err(|reason| StepError::Record { id, reason })?;
        let sensor_key = sealer.sensor_key(&reading.sensor);
        let range = self.sensors.get(sensor_key.as_ref())?.map(|v| v.value());
        if let Some((head, next)) = range {
            let head = head.max(reading.seq.saturating_add(1)).min(next);
            self.sensors.insert(sensor_key.as_ref(), (head, next))?;
        }
        Ok(true)
    }

    /// Drops records accepted before `cutoff_ns`, oldest first; returns how many.
    pub(crate) fn expire(&mut self, cutoff_ns: i64, sealer: &Sealer) -> Result<u64, StepError> {
        let mut dropped = 0;
        while let Some(accepted_ns) = self.oldest_accepted_ns()? {
            if accepted_ns >= cutoff_ns || !self.drop_oldest(sealer)? {
                break;
            }
            dropped += 1;
        }
        self.counters.dropped_age += dropped;
        Ok(dropped)
    }

    /// Drops oldest records until the pending totals are within `limits`; returns how many.
    pub(crate) fn trim_to(&mut self, limits: &Limits, sealer: &Sealer) -> Result<u64, StepError> {
        let mut dropped = 0;
        while limits.exceeded_by(self.counters.pending_count, self.counters.pending_bytes)
            && self.drop_oldest(sealer)?
        {
            dropped += 1;
        }
        self.counters.dropped_full += dropped;
        Ok(dropped)
    }

    /// Deletes record `id` if present, updating the pending totals.
    pub(crate) fn remove(&mut self, id: u64) -> Result<bool, StepError> {
        let removed_len = self.records.remove(id)?.map(|v| v.value().len());
        Ok(match removed_len {
            Some(len) => {
                self.forget(len);
                true
            }
            None => false,
        })
    }

    fn forget(&mut self, record_len: usize) {
        self.counters.pending_count = self.counters.pending_count.saturating_sub(1);
        self.counters.pending_bytes = self
            .counters
            .pending_bytes
            .saturating_sub(record_len as u64 + KEY_BYTES);
    }

    fn oldest_accepted_ns(&self) -> Result<Option<i64>, StepError> {
        let Some((id, record)) = self.records.first()? else {
            return Ok(None);
        };
        let id = id.value();
        Header::split(record.value())
            .map(|(header, _)| Some(header.accepted_ns))
            .map_err(|reason| StepError::Record { id, reason })
    }
}

/// Encodes `reading` with `seq` as the record stored under `id`.
pub(crate) fn encode_record(
    sealer: &Sealer,
    id: u64,
    accepted_ns: i64,
    reading: &Reading,
    seq: u64,
    payload: &mut Vec<u8>,
) -> Result<Vec<u8>, String> {
    payload.clear();
    codec::encode_payload(reading, seq, payload);
    sealer.seal_record(id, accepted_ns, payload)
}
