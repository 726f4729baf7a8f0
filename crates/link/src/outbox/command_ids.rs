//! The ids of remote commands already received, so each command runs at most once, also
//! across restarts: table `command_ids` (`id → expiry, unix seconds`) in the outbox's
//! database. In an encrypted outbox the id is stored as a keyed digest, like sensor names.
//!
//! An id must be remembered as long as its command could still be accepted, that is until
//! its expiry; it is forgotten [`FORGET_AFTER`] later, a margin against the device's clock
//! stepping back (an NTP correction after boot) and making an expired command current again.
//! Pruning happens in the same transaction as each new id, so the table holds only the ids of
//! the last `max_ttl` + margin.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{ReadableTable, TableDefinition};

use super::{Outbox, OutboxError};

pub(crate) const COMMAND_IDS: TableDefinition<&[u8], u64> = TableDefinition::new("command_ids");

/// How long after its expiry an id is kept.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

impl Outbox {
    /// Records that the command `id`, valid until `expires`, was received: `true` the first
    /// time, `false` for an id already recorded (a replay). The record is committed durably
    /// before this returns, so a command whose id was recorded cannot run again after a crash.
    /// Blocks on an fsync, like [`Outbox::accept`].
    pub fn remember_command_id(&self, id: &str, expires: SystemTime) -> Result<bool, OutboxError> {
        self.remember_command_id_at(id, expires, SystemTime::now())
    }

    /// [`Outbox::remember_command_id`] with the clock given (tests).
    pub(crate) fn remember_command_id_at(
        &self,
        id: &str,
        expires: SystemTime,
        now: SystemTime,
    ) -> Result<bool, OutboxError> {
        let unix = |time: SystemTime| {
            time.duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs())
        };
        let expires = unix(expires);
        let forget_before = unix(now).saturating_sub(FORGET_AFTER.as_secs());
        let key = self.inner.sealer.sensor_key(id).into_owned();
        let mut first_time = false;
        self.write("remember_command_id", |txn| {
            let mut ids = txn.open_table(COMMAND_IDS)?;
            ids.retain(|_, expiry| expiry >= forget_before)?;
            if ids.get(key.as_slice())?.is_none() {
                ids.insert(key.as_slice(), expires)?;
                first_time = true;
            }
            Ok(())
        })?;
        Ok(first_time)
    }

    /// How many command ids are remembered (tests, diagnostics).
    pub fn remembered_command_ids(&self) -> Result<u64, OutboxError> {
        use redb::ReadableTableMetadata;
        self.read("remembered_command_ids", |txn| {
            match txn.open_table(COMMAND_IDS) {
                Ok(table) => Ok(table.len()?),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
                Err(error) => Err(error.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{EncryptionKey, OutboxConfig};
    use crate::Reading;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn an_id_is_new_once_also_after_reopening() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("outbox.redb");
        let now = SystemTime::now();
        let expires = now + Duration::from_secs(60);
        {
            let outbox =
                Outbox::open(&path, OutboxConfig::default()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(outbox.remember_command_id("c-42", expires).ok(), Some(true));
            assert_eq!(
                outbox.remember_command_id("c-42", expires).ok(),
                Some(false)
            );
            assert_eq!(outbox.remember_command_id("c-43", expires).ok(), Some(true));
        }
        let outbox = Outbox::open(&path, OutboxConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            outbox.remember_command_id("c-42", expires).ok(),
            Some(false)
        );
        assert_eq!(outbox.remembered_command_ids().ok(), Some(2));
    }

    #[test]
    fn ids_are_forgotten_only_a_margin_after_their_expiry() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let outbox = Outbox::open(dir.path().join("o.redb"), OutboxConfig::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let remember = |id: &str, expires: u64, now: u64| {
            outbox
                .remember_command_id_at(id, at(expires), at(now))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(remember("old", 1_000, 900));
        // Expired, but within the margin: still a replay.
        assert!(!remember("old", 1_000, 1_000 + FORGET_AFTER.as_secs()));
        // Past the margin: pruned by the next call.
        assert!(remember("other", 10_000, 1_001 + FORGET_AFTER.as_secs()));
        assert_eq!(outbox.remembered_command_ids().ok(), Some(1));
    }

    #[test]
    fn readings_stats_and_encryption_are_untouched() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sealed.redb");
        let config = OutboxConfig {
            encryption: Some(EncryptionKey::from_bytes([9; 32])),
            ..OutboxConfig::default()
        };
        let outbox = Outbox::open(&path, config.clone()).unwrap_or_else(|e| panic!("{e}"));
        let reading = Reading::new("boiler", SystemTime::now()).with_number("t", "Cel", 21.5);
        outbox.accept(&[reading]).unwrap_or_else(|e| panic!("{e}"));
        // The age of the oldest reading moves with the clock; everything else must not move.
        let counted = |outbox: &Outbox| {
            let stats = outbox.stats().unwrap_or_else(|e| panic!("{e}"));
            crate::outbox::OutboxStats {
                oldest_pending_age: None,
                ..stats
            }
        };
        let before = counted(&outbox);
        let secret_id = "command-with-a-telling-name";
        assert_eq!(
            outbox
                .remember_command_id(secret_id, SystemTime::now() + Duration::from_secs(60))
                .ok(),
            Some(true)
        );
        let after = counted(&outbox);
        assert_eq!(before, after);
        assert_eq!(outbox.peek(10).map(|b| b.len()).ok(), Some(1));
        drop(outbox);
        let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!file
            .windows(secret_id.len())
            .any(|w| w == secret_id.as_bytes()));
        let reopened = Outbox::open(&path, config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            reopened
                .remember_command_id(secret_id, SystemTime::now() + Duration::from_secs(60))
                .ok(),
            Some(false)
        );
    }
}
