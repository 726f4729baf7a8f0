//! What can go wrong with the outbox, each error naming the database or key file it concerns.

use std::fmt;
use std::path::PathBuf;

/// An outbox failure.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The database file could not be opened or created: not a redb database, corrupt, locked
    /// by another process, or not readable.
    #[error("outbox database {}: cannot open: {source}{hint}", path.display(), hint = open_hint(source))]
    Open {
        /// The database file.
        path: PathBuf,
        /// What redb reported.
        #[source]
        source: Box<redb::Error>,
    },
    /// A read or a commit failed: the disk is full, an I/O error, corruption. Nothing that was
    /// accepted before is lost; what this call tried to write is not accepted.
    #[error("outbox database {}: {operation} failed: {source}{hint}", path.display(), hint = storage_hint(source))]
    Storage {
        /// The database file.
        path: PathBuf,
        /// What the outbox was doing (`"accept"`, `"ack"`, …).
        operation: &'static str,
        /// What redb reported.
        #[source]
        source: Box<redb::Error>,
    },
    /// A stored record does not decode (or does not authenticate).
    #[error("outbox database {}: record {id} is unreadable: {reason}", path.display())]
    CorruptRecord {
        /// The database file.
        path: PathBuf,
        /// The record's key.
        id: u64,
        /// Why it does not decode.
        reason: String,
    },
    /// The database file is damaged beyond what redb reports as an error (its b-tree code
    /// panicked on it; the panic is contained and the database closed).
    #[error("outbox database {}: the file is corrupt ({reason}); move it aside to start a new outbox", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        reason: String,
    },
    /// The database's own bookkeeping is not what this version writes.
    #[error("outbox database {}: {reason}", path.display())]
    Format {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The encryption key file is missing, unreadable or malformed.
    #[error("outbox encryption key file {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database was encrypted with a different key.
    #[error("outbox database {}: the encryption key does not match the key the database was created with", path.display())]
    WrongKey {
        /// The database file.
        path: PathBuf,
    },
    /// The database is encrypted and no key was configured.
    #[error("outbox database {}: the database is encrypted; configure its key file", path.display())]
    KeyRequired {
        /// The database file.
        path: PathBuf,
    },
    /// A key was configured for a database created without encryption.
    #[error("outbox database {}: the database was created without encryption, but a key is configured; remove the key or start a new database", path.display())]
    NotEncrypted {
        /// The database file.
        path: PathBuf,
    },
    /// The outbox is full and its policy is to refuse new readings.
    #[error("outbox {} is full: {limit}; refused {refused} readings", path.display())]
    Full {
        /// The database file.
        path: PathBuf,
        /// Which limit the batch would exceed.
        limit: FullLimit,
        /// How many readings were refused (the whole batch).
        refused: usize,
    },
    /// Encoding or encrypting a record failed (for example, no random nonce from the OS).
    #[error("outbox database {}: cannot write a record: {reason}", path.display())]
    Encode {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A blocking outbox call on tokio's blocking pool did not finish (it panicked or the runtime
    /// shut down).
    #[error("outbox database {}: background task failed: {reason}", path.display())]
    Background {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The limit a refused batch would have exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullLimit {
    /// `max_readings`.
    Readings {
        /// Readings pending before the batch.
        pending: u64,
        /// Readings in the batch.
        incoming: u64,
        /// The limit.
        max: u64,
    },
    /// `max_bytes`.
    Bytes {
        /// Record bytes pending before the batch.
        pending: u64,
        /// Record bytes of the batch.
        incoming: u64,
        /// The limit.
        max: u64,
    },
}

impl fmt::Display for FullLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Readings {
                pending,
                incoming,
                max,
            } => write!(
                f,
                "{pending} readings pending + {incoming} new would exceed max_readings = {max}"
            ),
            Self::Bytes {
                pending,
                incoming,
                max,
            } => write!(
                f,
                "{pending} bytes pending + {incoming} new would exceed max_bytes = {max}"
            ),
        }
    }
}

impl OutboxError {
    /// Whether the error is the outbox being full under [`super::FullPolicy::RefuseNew`].
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full { .. })
    }
}

fn open_hint(error: &redb::Error) -> &'static str {
    match error {
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            " (the file is not a redb database)"
        }
        redb::Error::DatabaseAlreadyOpen => " (another process or handle has it open)",
        redb::Error::Corrupted(_) => " (the file is corrupt)",
        _ => "",
    }
}

fn storage_hint(error: &redb::Error) -> &'static str {
    match error {
        redb::Error::Io(io) if io.raw_os_error() == Some(28) => " (the disk is full)",
        redb::Error::PreviousIo => {
            " (an earlier write failed; the outbox reopens the database on the next call)"
        }
        _ => "",
    }
}
