//! The outbox survives SIGKILL at any moment: a writer process accepts numbered readings and
//! acknowledges some, reporting each step after it committed; the test kills it at seeded
//! random moments, reopens the database and checks, round after round:
//!
//! - every reading reported accepted and not acknowledged is still there, with its own data;
//! - per sensor, the pending seqs are contiguous and peeked in order;
//! - nothing reported deleted reappears;
//! - the next writer continues each sensor's numbering where the database left it.
//!
//! Seeded: set `EDGEWISE_CRASH_SEED` to replay a failure (the seed is in every message).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use edgewise_link::outbox::{EncryptionKey, Limits, Outbox, OutboxConfig};
use edgewise_link::Value;

const ROUNDS: u64 = 20;

#[test]
fn accepted_readings_survive_sigkill_and_acknowledged_ones_stay_gone() {
    crash_rounds(None);
}

#[test]
fn encrypted_outbox_survives_sigkill_too() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch dir: {e}"));
    let key_file = dir.path().join("outbox.key");
    let hex: String = (0..32u8)
        .map(|b| format!("{:02x}", b.wrapping_mul(37)))
        .collect();
    std::fs::write(&key_file, hex).unwrap_or_else(|e| panic!("write key file: {e}"));
    crash_rounds(Some(&key_file));
}

/// What the writers reported, per sensor.
#[derive(Debug, Default)]
struct Model {
    /// Seqs known to be committed.
    accepted: BTreeSet<u64>,
    /// Seqs known to be deleted by an acknowledgement.
    deleted: BTreeSet<u64>,
    /// Seqs in an acknowledgement that may or may not have committed before the kill.
    maybe_deleted: BTreeSet<u64>,
}

fn crash_rounds(key_file: Option<&Path>) {
    let seed: u64 = std::env::var("EDGEWISE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0ED6_E315);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch dir: {e}"));
    let db = dir.path().join("outbox.redb");
    let writer = env!("CARGO_BIN_EXE_outbox_writer");
    let mut rng = seed;
    let mut models: BTreeMap<String, Model> = BTreeMap::new();
    let mut total_accepted = 0;

    for round in 0..ROUNDS {
        let context = format!("seed {seed}, round {round}");
        let expected_next = inspect(&db, key_file, &mut models, &context);

        let mut command = Command::new(writer);
        command
            .arg(&db)
            .arg((seed ^ round.wrapping_mul(0x9E37_79B9)).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key_file) = key_file {
            command.arg(key_file);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{context}: cannot start {writer}: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("{context}: no stdout"));
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            // Only complete lines count: a line cut by the kill reported nothing.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line.ends_with('\n') {
                    lines.push(line.trim_end().to_string());
                }
                line.clear();
            }
            lines
        });

        // Kill at a random moment within the writer's first ~150 ms of work (its open takes
        // part of that, so some kills land during open and recovery, too).
        std::thread::sleep(Duration::from_millis(5 + next(&mut rng) % 150));
        let exited_early = child.try_wait().ok().flatten();
        child.kill().ok();
        let status = child
            .wait()
            .unwrap_or_else(|e| panic!("{context}: wait: {e}"));
        let lines = reader
            .join()
            .unwrap_or_else(|_| panic!("{context}: reader thread"));
        if let Some(status) = exited_early {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
            }
            panic!("{context}: the writer exited by itself ({status}) before the kill: {stderr}");
        }
        assert!(
            status.code().is_none(),
            "{context}: writer was not killed: {status}"
        );

        total_accepted += apply(&lines, &expected_next, &mut models, &context);
    }
    inspect(&db, key_file, &mut models, &format!("seed {seed}, final"));
    let total_deleted: usize = models.values().map(|m| m.deleted.len()).sum();
    eprintln!(
        "seed {seed}: {ROUNDS} kills; writers reported {total_accepted} readings accepted; {total_deleted} deleted by acknowledgements in the end"
    );
    assert!(
        total_accepted > 0 && total_deleted > 0,
        "seed {seed}: the writers accepted {total_accepted} and deleted {total_deleted} readings; the kills came too early to test anything"
    );
}

/// Records what one writer reported; returns how many readings it reported accepted.
fn apply(
    lines: &[String],
    expected_next: &BTreeMap<String, u64>,
    models: &mut BTreeMap<String, Model>,
    context: &str,
) -> usize {
    let mut accepted = 0;
    let mut pending_ack: Option<Vec<(String, u64)>> = None;
    for line in lines {
        let mut words = line.split(' ');
        match words.next() {
            Some("O") => {
                for pair in words {
                    let (sensor, next) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{context}: {line}"));
                    let next: u64 = next.parse().unwrap_or_else(|_| panic!("{context}: {line}"));
                    assert_eq!(
                        Some(&next),
                        Some(expected_next.get(sensor).unwrap_or(&0)),
                        "{context}: the writer resumed {sensor} at {next}, the database says otherwise"
                    );
                }
            }
            Some("A") => {
                let fields: Vec<&str> = words.collect();
                let [sensor, first, last] = fields[..] else {
                    panic!("{context}: bad line {line}");
                };
                let parse = |s: &str| {
                    s.parse::<u64>()
                        .unwrap_or_else(|_| panic!("{context}: {line}"))
                };
                let model = models.entry(sensor.to_string()).or_default();
                model.accepted.extend(parse(first)..=parse(last));
                accepted += (parse(last) + 1 - parse(first)) as usize;
            }
            Some("B") => pending_ack = Some(keys(words, context)),
            Some("D") => {
                for (sensor, seq) in keys(words, context) {
                    models.entry(sensor).or_default().deleted.insert(seq);
                }
                pending_ack = None;
            }
            _ => panic!("{context}: unexpected output line {line:?}"),
        }
    }
    // The kill came between "about to acknowledge" and "committed": either outcome is fine.
    for (sensor, seq) in pending_ack.unwrap_or_default() {
        models.entry(sensor).or_default().maybe_deleted.insert(seq);
    }
    accepted
}

fn keys<'a>(words: impl Iterator<Item = &'a str>, context: &str) -> Vec<(String, u64)> {
    words
        .filter(|w| !w.is_empty())
        .map(|word| {
            let (sensor, seq) = word
                .split_once(':')
                .unwrap_or_else(|| panic!("{context}: {word}"));
            (
                sensor.to_string(),
                seq.parse().unwrap_or_else(|_| panic!("{context}: {word}")),
            )
        })
        .collect()
}

/// Opens the database (as the next process would after the crash), checks it against the
/// model, resolves the uncertain acknowledgements, and returns each sensor's next seq.
fn inspect(
    db: &Path,
    key_file: Option<&Path>,
    models: &mut BTreeMap<String, Model>,
    context: &str,
) -> BTreeMap<String, u64> {
    let outbox = Outbox::open(
        db,
        OutboxConfig {
            limits: Limits::unbounded(),
            encryption: key_file.map(|path| {
                EncryptionKey::from_file(path).unwrap_or_else(|e| panic!("{context}: {e}"))
            }),
            ..OutboxConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("{context}: reopening after the kill: {e}"));
    let batch = outbox
        .peek(usize::MAX)
        .unwrap_or_else(|e| panic!("{context}: peek: {e}"));

    let mut pending: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for reading in &batch.readings {
        let n = reading
            .fields
            .iter()
            .find(|f| f.channel == "n")
            .map(|f| &f.value);
        assert_eq!(
            n,
            Some(&Value::Number(reading.seq as f64)),
            "{context}: {} seq {} holds another reading's data",
            reading.sensor,
            reading.seq
        );
        pending
            .entry(reading.sensor.to_string())
            .or_default()
            .push(reading.seq);
    }

    let mut next_seqs = BTreeMap::new();
    for sensor in ["s0", "s1", "s2"] {
        let seqs = pending.remove(sensor).unwrap_or_default();
        let next = outbox
            .next_seq(sensor)
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        next_seqs.insert(sensor.to_string(), next);
        if let (Some(first), Some(last)) = (seqs.first(), seqs.last()) {
            let contiguous: Vec<u64> = (*first..=*last).collect();
            assert_eq!(
                seqs, contiguous,
                "{context}: {sensor}'s pending seqs are not contiguous and in order"
            );
            assert_eq!(
                last + 1,
                next,
                "{context}: {sensor}'s newest pending reading is not the last numbered"
            );
        }
        let model = models.entry(sensor.to_string()).or_default();
        let present: BTreeSet<u64> = seqs.iter().copied().collect();
        for seq in &model.accepted {
            let acked = model.deleted.contains(seq) || model.maybe_deleted.contains(seq);
            assert!(
                acked || present.contains(seq),
                "{context}: {sensor} seq {seq} was reported accepted, never acknowledged, and is gone"
            );
        }
        if let Some(seq) = model.deleted.intersection(&present).next() {
            panic!("{context}: {sensor} seq {seq} was deleted by an acknowledgement and is back");
        }
        assert!(
            model.accepted.last().is_none_or(|last| *last < next),
            "{context}: {sensor} will reuse seq {next}, which was already accepted"
        );
        // What the database holds is now known: committed readings the writer did not get to
        // report count as accepted, and an uncertain acknowledgement is resolved.
        let head = seqs.first().copied().unwrap_or(next);
        model.accepted.extend(0..next);
        model.deleted.extend(0..head);
        model.maybe_deleted.clear();
    }
    assert!(
        pending.is_empty(),
        "{context}: readings of unknown sensors: {pending:?}"
    );
    next_seqs
}

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
