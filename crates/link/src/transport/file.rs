//! A file of lines, one reading per line, rotated by size.
//!
//! Each reading is appended as its encoder's encoding of a batch of one
//! (`JsonEncoder::lines` gives JSON Lines); a newline the encoder ends a reading with is the
//! line's end, any other newline is refused. A batch is acknowledged only once its lines are
//! written *and* fsync'd: the outbox deletes what a transport acknowledged, so acknowledging
//! earlier would let a power cut lose readings that are then neither in the outbox nor on
//! disk.
//!
//! Rotation: when the next line would take the file past `max_bytes`, the file is fsync'd and
//! renamed to `path.1`, `path.1` to `path.2`, … up to `path.N` (N = `keep`; the oldest is
//! dropped), and a new `path` is started. Rotation happens between lines, never inside one.
//!
//! File I/O runs on tokio's blocking pool, so an fsync (milliseconds on an SD card) does not
//! stall other transports on the same runtime.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::encode::Encoder;
use crate::reading::Reading;
use crate::transport::lines::Lines;
use crate::transport::{Delivery, ErrorKind, PublishFuture, Transport, TransportError};

/// Where and how much to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// The file being appended to; rotated files get `.1`, `.2`, … appended to its name.
    pub path: PathBuf,
    /// The size at which the file is rotated (a single longer line still gets its own file).
    pub max_bytes: u64,
    /// How many rotated files to keep besides `path`; 0 keeps none (the file restarts empty).
    pub keep: u32,
}

impl FileConfig {
    /// `path`, rotated at 10 MiB, keeping 5 old files.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: 10 * 1024 * 1024,
            keep: 5,
        }
    }
}

/// What the file transport has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Lines written and fsync'd.
    pub lines: u64,
    /// fsyncs of the file (one per batch, plus one before each rotation).
    pub syncs: u64,
    /// Rotations.
    pub rotations: u64,
}

/// Appends readings to a rotated file of lines.
pub struct FileTransport {
    encoder: Arc<dyn Encoder>,
    describe: String,
    lines: Lines,
    /// The open file, shared with the write running on the blocking pool. Shared rather than
    /// moved there and back, so a publish that is cancelled mid-write (shutdown) does not lose
    /// it: the next publish waits for that write to finish.
    writer: Arc<Mutex<RotatingWriter>>,
}

impl std::fmt::Debug for FileTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTransport")
            .field("file", &self.describe)
            .field("encoding", &self.encoder.content_type())
            .finish_non_exhaustive()
    }
}

impl FileTransport {
    /// A transport that writes to `config.path`. The file is opened (and created) at the first
    /// batch, so a directory that appears later (a mounted SD card) still works.
    pub fn new(config: FileConfig, encoder: Arc<dyn Encoder>) -> Self {
        Self {
            describe: format!("file:{}", config.path.display()),
            encoder,
            lines: Lines::default(),
            writer: Arc::new(Mutex::new(RotatingWriter::new(config))),
        }
    }

    /// What this transport has done so far.
    pub fn stats(&self) -> FileStats {
        lock(&self.writer).stats.clone()
    }

    async fn publish_batch(&mut self, batch: &[Reading]) -> Delivery {
        if batch.is_empty() {
            return Delivery::all(0);
        }
        if let Err(error) = self
            .lines
            .encode(self.encoder.as_ref(), batch, &self.describe)
        {
            return Delivery::failed(batch.len(), error);
        }
        let writer = Arc::clone(&self.writer);
        let lines = std::mem::take(&mut self.lines);
        let joined = tokio::task::spawn_blocking(move || {
            let outcome = lock(&writer).append(&lines);
            (lines, outcome)
        })
        .await;
        let (lines, outcome) = match joined {
            Ok(parts) => parts,
            Err(join_error) => {
                return Delivery::failed(
                    batch.len(),
                    TransportError::new(
                        ErrorKind::Io,
                        &self.describe,
                        format!("the file write did not finish: {join_error}"),
                    ),
                );
            }
        };
        self.lines = lines;
        match outcome {
            Ok(()) => Delivery::all(batch.len()),
            Err((synced, error)) => {
                let mut delivery = Delivery::none(batch.len()).with_error(error);
                for index in 0..synced {
                    delivery.ack(index);
                }
                delivery
            }
        }
    }
}

impl Transport for FileTransport {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(self.publish_batch(batch))
    }
}

/// The blocking half: the open file, its size, and rotation.
#[derive(Debug)]
struct RotatingWriter {
    config: FileConfig,
    file: Option<File>,
    /// The file's size, up to the last line known to be completely written.
    size: u64,
    stats: FileStats,
}

impl RotatingWriter {
    fn new(config: FileConfig) -> Self {
        Self {
            config,
            file: None,
            size: 0,
            stats: FileStats::default(),
        }
    }

    /// Appends every line and fsyncs. On failure, returns how many leading lines were fsync'd
    /// (before a rotation) and the error; the file is cut back to its last complete line, so
    /// a failed write never leaves half a line for the next batch to continue.
    fn append(&mut self, lines: &Lines) -> Result<(), (usize, TransportError)> {
        let mut synced = 0;
        // Lines from here to the current one are written together at the next sync.
        let mut pending_start = 0;
        for index in 0..lines.ends.len() {
            if self.file.is_none() {
                self.open().map_err(|e| (synced, e))?;
            }
            let line = lines.range(index);
            let size_before_line = self.size + (line.start - pending_start) as u64;
            if size_before_line > 0 && size_before_line + line.len() as u64 > self.config.max_bytes
            {
                self.write_and_sync(&lines.bytes[pending_start..line.start])
                    .map_err(|e| (synced, e))?;
                synced = index;
                pending_start = line.start;
                self.rotate().map_err(|e| (synced, e))?;
            }
        }
        self.write_and_sync(&lines.bytes[pending_start..])
            .map_err(|e| (synced, e))?;
        self.stats.lines += lines.ends.len() as u64;
        Ok(())
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        if bytes.is_empty() {
            // Nothing new since the last sync (a batch that starts with a rotation).
            return Ok(());
        }
        if self.file.is_none() {
            self.open()?;
        }
        let path = self.config.path.clone();
        let Some(file) = self.file.as_mut() else {
            return Err(io_error(&path, "write", "the file is not open"));
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.flush())
            .and_then(|()| file.sync_data());
        match written {
            Ok(()) => {
                self.size += bytes.len() as u64;
                self.stats.syncs += 1;
                Ok(())
            }
            Err(error) => {
                // Drop whatever part of the lines made it, and reopen next time.
                file.set_len(self.size).ok();
                self.file = None;
                Err(io_error(&path, "write", error))
            }
        }
    }

    fn open(&mut self) -> Result<(), TransportError> {
        let path = &self.config.path;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        self.size = file
            .metadata()
            .map_err(|e| io_error(path, "read the size of", e))?
            .len();
        self.file = Some(file);
        Ok(())
    }

    /// `path.N-1` → `path.N`, …, `path` → `path.1`, then a new empty `path`.
    fn rotate(&mut self) -> Result<(), TransportError> {
        self.file = None;
        let path = self.config.path.clone();
        if self.config.keep == 0 {
            std::fs::remove_file(&path).map_err(|e| io_error(&path, "remove", e))?;
        } else {
            for n in (1..self.config.keep).rev() {
                let from = numbered(&path, n);
                match std::fs::rename(&from, numbered(&path, n + 1)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io_error(&from, "rotate", e));
                    }
                    _ => {}
                }
            }
            std::fs::rename(&path, numbered(&path, 1)).map_err(|e| io_error(&path, "rotate", e))?;
        }
        self.open()?;
        sync_directory(&path);
        self.stats.rotations += 1;
        Ok(())
    }
}

/// The writer, also after a write panicked while holding it: the file is then reopened, and
/// its size read again, before the next line.
fn lock(writer: &Mutex<RotatingWriter>) -> MutexGuard<'_, RotatingWriter> {
    writer.lock().unwrap_or_else(|poisoned| {
        let mut writer = poisoned.into_inner();
        writer.file = None;
        writer
    })
}

/// `path` with `.n` appended to its file name.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Makes the renames and the new file's directory entry durable. Best effort: some file
/// systems cannot fsync a directory, and the lines themselves are already synced.
fn sync_directory(path: &Path) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        dir.sync_all().ok();
    }
}

fn io_error(path: &Path, action: &str, error: impl std::fmt::Display) -> TransportError {
    TransportError::new(
        ErrorKind::Io,
        path.display().to_string(),
        format!("cannot {action} the file: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::lines::test_encoder::{readings, CsvEncoder};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "edgewise-file-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("scratch dir: {e}"));
        dir
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn transport(config: FileConfig) -> FileTransport {
        FileTransport::new(config, Arc::new(CsvEncoder::default()))
    }

    #[tokio::test]
    async fn lines_are_on_disk_and_synced_when_the_batch_is_acknowledged() {
        let dir = scratch("ack");
        let path = dir.join("readings.csv");
        let mut file = transport(FileConfig::new(&path));
        let batch = readings(3);
        let delivery = file.publish(&batch).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        // Read through a separate handle: the bytes are in the file, not in a buffer of ours.
        assert_eq!(read(&path), "s,0,0\ns,1,1.5\ns,2,3\n");
        // The sync happened before publish returned its acknowledgement.
        assert_eq!(file.stats().syncs, 1);
        assert_eq!(file.stats().lines, 3);
        let delivery = file.publish(&batch[..1]).await;
        assert!(delivery.is_complete());
        assert_eq!(read(&path), "s,0,0\ns,1,1.5\ns,2,3\ns,0,0\n");
        assert_eq!(file.stats().syncs, 2);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_json_lines_file_reads_back_as_the_readings() {
        use crate::encode::JsonEncoder;
        let dir = scratch("jsonl");
        let path = dir.join("readings.jsonl");
        let encoder = Arc::new(JsonEncoder::lines("pi-1"));
        let mut file = FileTransport::new(FileConfig::new(&path), encoder.clone());
        let batch = readings(5);
        assert!(file.publish(&batch[..2]).await.is_complete());
        assert!(file.publish(&batch[2..]).await.is_complete());
        let written = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let decoded = encoder
            .decode(&written)
            .unwrap_or_else(|e| panic!("the file is not JSON Lines: {e}"));
        assert_eq!(decoded, batch);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn files_rotate_by_size_and_only_keep_the_newest() {
        let dir = scratch("rotate");
        let path = dir.join("r.csv");
        // Each line is 6 bytes ("s,0,0\n"); 13 bytes hold two lines.
        let config = FileConfig {
            max_bytes: 13,
            keep: 2,
            ..FileConfig::new(&path)
        };
        let mut file = transport(config);
        let batch: Vec<Reading> = readings(1);
        for _ in 0..7 {
            assert!(file.publish(&batch).await.is_complete());
        }
        // 7 lines: 2 + 2 in r.csv.2 and r.csv.1 kept, the oldest 2 dropped, 1 in r.csv.
        assert_eq!(read(&path), "s,0,0\n");
        assert_eq!(read(&numbered(&path, 1)), "s,0,0\ns,0,0\n");
        assert_eq!(read(&numbered(&path, 2)), "s,0,0\ns,0,0\n");
        assert!(!numbered(&path, 3).exists());
        assert_eq!(file.stats().rotations, 3);

        // A batch that spans a rotation is split between the files, line by line.
        let dir2 = scratch("rotate-batch");
        let path2 = dir2.join("r.csv");
        // Lines of 6 and 8 bytes alternate; 14 bytes hold two.
        let mut file = transport(FileConfig {
            max_bytes: 14,
            keep: 3,
            ..FileConfig::new(&path2)
        });
        assert!(file.publish(&readings(5)).await.is_complete());
        assert_eq!(read(&numbered(&path2, 2)), "s,0,0\ns,1,1.5\n");
        assert_eq!(read(&numbered(&path2, 1)), "s,2,3\ns,3,4.5\n");
        assert_eq!(read(&path2), "s,4,6\n");
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_dir_all(&dir2).ok();
    }

    #[tokio::test]
    async fn a_publish_cancelled_mid_write_leaves_a_working_transport() {
        let dir = scratch("cancel");
        let path = dir.join("r.csv");
        let mut file = transport(FileConfig::new(&path));
        // Dropped after its first poll, while the write runs on the blocking pool.
        let first = readings(2);
        let cancelled = tokio::select! {
            biased;
            _ = file.publish(&first) => false,
            () = std::future::ready(()) => true,
        };
        assert!(cancelled, "the write finished within the first poll");
        let delivery = file.publish(&readings(1)).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        // The cancelled write finished before the next began: whole lines only. Its readings
        // were never acknowledged, so the outbox sends them again (at-least-once).
        assert_eq!(read(&path), "s,0,0\ns,1,1.5\ns,0,0\n");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn keep_zero_starts_the_file_over() {
        let dir = scratch("keep0");
        let path = dir.join("r.csv");
        let mut file = transport(FileConfig {
            max_bytes: 6,
            keep: 0,
            ..FileConfig::new(&path)
        });
        assert!(file.publish(&readings(3)).await.is_complete());
        assert_eq!(read(&path), "s,2,3\n");
        assert!(!numbered(&path, 1).exists());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn an_existing_file_is_appended_to_and_its_size_counts() {
        let dir = scratch("append");
        let path = dir.join("r.csv");
        std::fs::write(&path, "old,line\n").unwrap_or_else(|e| panic!("{e}"));
        let mut file = transport(FileConfig {
            max_bytes: 14,
            keep: 1,
            ..FileConfig::new(&path)
        });
        assert!(file.publish(&readings(1)).await.is_complete());
        assert_eq!(read(&path), "s,0,0\n");
        assert_eq!(read(&numbered(&path, 1)), "old,line\n");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_missing_directory_is_an_io_error_naming_the_path() {
        let path = PathBuf::from("/nonexistent-edgewise-dir/readings.csv");
        let mut file = transport(FileConfig::new(&path));
        let delivery = file.publish(&readings(2)).await;
        assert_eq!(delivery.acked_count(), 0);
        let error = delivery.error.unwrap_or_else(|| panic!("no error"));
        assert_eq!(error.kind, ErrorKind::Io);
        let message = error.to_string();
        assert!(
            message.contains("/nonexistent-edgewise-dir/readings.csv"),
            "{message}"
        );
        assert!(message.contains("cannot open"), "{message}");
    }

    #[tokio::test]
    async fn a_full_disk_is_an_io_error_and_nothing_is_acknowledged() {
        // /dev/full accepts the open and fails every write with ENOSPC, as a full disk does.
        let path = PathBuf::from("/dev/full");
        if !path.exists() {
            panic!("this test needs /dev/full (Linux)");
        }
        let mut file = transport(FileConfig::new(&path));
        let delivery = file.publish(&readings(2)).await;
        assert_eq!(delivery.acked_count(), 0);
        let error = delivery.error.unwrap_or_else(|| panic!("no error"));
        assert_eq!(error.kind, ErrorKind::Io);
        let message = error.to_string();
        assert!(message.contains("/dev/full"), "{message}");
        assert!(message.contains("No space left"), "{message}");
    }

    #[tokio::test]
    async fn a_multi_line_encoding_is_refused_before_anything_is_written() {
        let dir = scratch("multiline");
        let path = dir.join("r.csv");
        let mut file = FileTransport::new(
            FileConfig::new(&path),
            Arc::new(CsvEncoder { multiline: true }),
        );
        let delivery = file.publish(&readings(1)).await;
        assert_eq!(delivery.error.map(|e| e.kind), Some(ErrorKind::Encode));
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
