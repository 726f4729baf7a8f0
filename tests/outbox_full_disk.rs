//! A full disk: `accept` fails with an error naming the database and the cause, everything
//! accepted before is still there (also after reopening), the failed batch left no trace, and
//! once space is freed the same outbox handle accepts again without a restart.
//!
//! The disk is a real filesystem that runs out of space: a 1 MiB tmpfs mounted for the test.
//! Mounting needs root (CAP_SYS_ADMIN); without it the test fails and says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use edgewise_link::outbox::{Limits, Outbox, OutboxConfig, OutboxError};
use edgewise_link::{Field, Reading, Value};

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    mount_point: PathBuf,
}

impl SmallDisk {
    fn mount(mount_point: &Path, size: &str) -> Self {
        edgewise_tests::require_program("mount", "apt-get install mount");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(mount_point)
            .output()
            .unwrap_or_else(|e| panic!("cannot run mount: {e}"));
        assert!(
            output.status.success(),
            "this test needs root (CAP_SYS_ADMIN) to mount a {size} tmpfs at {} as a disk that fills up; mount said: {}",
            mount_point.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Self {
            mount_point: mount_point.to_path_buf(),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .status()
            .ok();
    }
}

fn batch(tag: u32) -> Vec<Reading> {
    (0..32)
        .map(|i| {
            Reading::new("big", UNIX_EPOCH).with_field(Field {
                channel: "payload".into(),
                unit: "".into(),
                value: Value::Text(format!("{tag}-{i}-{}", "x".repeat(1000)).into()),
            })
        })
        .collect()
}

fn config() -> OutboxConfig {
    OutboxConfig {
        limits: Limits::unbounded(),
        ..OutboxConfig::default()
    }
}

fn pending_seqs(outbox: &Outbox) -> Vec<u64> {
    outbox
        .peek(usize::MAX)
        .unwrap_or_else(|e| panic!("peek: {e}"))
        .readings
        .iter()
        .map(|r| r.seq)
        .collect()
}

#[test]
fn a_full_disk_refuses_the_batch_and_keeps_everything_accepted_before() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch dir: {e}"));
    let mount_point = dir.path().join("disk");
    std::fs::create_dir(&mount_point).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let _disk = SmallDisk::mount(&mount_point, "1m");
    // Space to free later, so the test can show the outbox recovers without a restart.
    let ballast = mount_point.join("ballast");
    std::fs::write(&ballast, vec![0u8; 256 << 10]).unwrap_or_else(|e| panic!("ballast: {e}"));

    let path = mount_point.join("outbox.redb");
    let outbox = Outbox::open(&path, config()).unwrap_or_else(|e| panic!("open: {e}"));
    let mut accepted = 0u64;
    let error = (0..1000)
        .find_map(|tag| match outbox.accept(&batch(tag)) {
            Ok(report) => {
                accepted += report.accepted as u64;
                None
            }
            Err(error) => Some(error),
        })
        .unwrap_or_else(|| panic!("a 1 MiB disk took 1000 batches of 32 KiB without filling up"));
    assert!(accepted > 0, "the first batch already failed: {error}");
    let message = error.to_string();
    eprintln!("after {accepted} readings: {message}");
    assert!(matches!(error, OutboxError::Storage { .. }), "{message}");
    assert!(
        message.contains("outbox.redb") && message.contains("accept"),
        "{message}"
    );
    assert!(
        message.contains("disk is full") || message.contains("No space left"),
        "{message}"
    );

    // Everything accepted is there, in order, and nothing of the failed batch.
    let expected: Vec<u64> = (0..accepted).collect();
    assert_eq!(pending_seqs(&outbox), expected);
    drop(outbox);
    let outbox = Outbox::open(&path, config()).unwrap_or_else(|e| panic!("reopen: {e}"));
    assert_eq!(pending_seqs(&outbox), expected);
    assert_eq!(
        outbox.stats().map(|s| (s.accepted, s.pending)).ok(),
        Some((accepted, accepted))
    );

    // Fill it again through this handle, then free space: the same handle accepts again and
    // numbering continues without a gap.
    let mut more = 0u64;
    let refilled = (1000..2000).find_map(|tag| match outbox.accept(&batch(tag)) {
        Ok(report) => {
            more += report.accepted as u64;
            None
        }
        Err(error) => Some(error),
    });
    assert!(refilled.is_some(), "the disk did not fill up again");
    std::fs::remove_file(&ballast).unwrap_or_else(|e| panic!("remove ballast: {e}"));
    let report = outbox
        .accept(&batch(9999))
        .unwrap_or_else(|e| panic!("accept after freeing space: {e}"));
    assert_eq!(report.seqs[0].first, accepted + more);
}
