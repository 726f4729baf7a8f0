//! The outbox's rules, each against a real database file in a scratch directory.

use std::collections::VecDeque;
use std::time::UNIX_EPOCH;

use super::*;
use crate::backoff::Backoff;
use crate::transport::{Delivery, ErrorKind, PublishFuture, Transport, TransportError};

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("scratch dir: {e}"))
}

fn open(path: &Path, config: OutboxConfig) -> Outbox {
    Outbox::open(path, config).unwrap_or_else(|e| panic!("open: {e}"))
}

fn unbounded() -> OutboxConfig {
    OutboxConfig {
        limits: Limits::unbounded(),
        ..OutboxConfig::default()
    }
}

fn reading(sensor: &'static str, value: f64) -> Reading {
    Reading::new(sensor, UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .with_number("value", "", value)
}

fn accept(outbox: &Outbox, readings: &[Reading]) -> AcceptReport {
    outbox
        .accept(readings)
        .unwrap_or_else(|e| panic!("accept: {e}"))
}

fn peek_all(outbox: &Outbox) -> PeekBatch {
    outbox
        .peek(usize::MAX)
        .unwrap_or_else(|e| panic!("peek: {e}"))
}

fn ack(outbox: &Outbox, keys: &[OutboxKey]) -> AckReport {
    outbox.ack(keys).unwrap_or_else(|e| panic!("ack: {e}"))
}

fn stats(outbox: &Outbox) -> OutboxStats {
    outbox.stats().unwrap_or_else(|e| panic!("stats: {e}"))
}

/// `(sensor, seq)` of what is pending, in peek order.
fn pending(outbox: &Outbox) -> Vec<(String, u64)> {
    peek_all(outbox)
        .readings
        .iter()
        .map(|r| (r.sensor.to_string(), r.seq))
        .collect()
}

fn ids(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

#[test]
fn seqs_are_consecutive_per_sensor_and_continue_after_reopening() {
    let dir = scratch();
    let path = dir.path().join("outbox.redb");
    {
        let outbox = open(&path, unbounded());
        let report = accept(
            &outbox,
            &[reading("a", 1.0), reading("b", 2.0), reading("a", 3.0)],
        );
        assert_eq!(report.accepted, 3);
        assert_eq!(
            report.seqs,
            vec![
                SeqRange {
                    sensor: "a".into(),
                    first: 0,
                    last: 1
                },
                SeqRange {
                    sensor: "b".into(),
                    first: 0,
                    last: 0
                },
            ]
        );
    }
    let outbox = open(&path, unbounded());
    assert_eq!(outbox.next_seq("a").ok(), Some(2));
    assert_eq!(outbox.next_seq("never").ok(), Some(0));
    let report = accept(&outbox, &[reading("b", 4.0), reading("a", 5.0)]);
    assert_eq!(
        report.seqs[0],
        SeqRange {
            sensor: "b".into(),
            first: 1,
            last: 1
        }
    );
    assert_eq!(
        report.seqs[1],
        SeqRange {
            sensor: "a".into(),
            first: 2,
            last: 2
        }
    );
}

#[test]
fn peek_returns_owned_readings_in_global_acceptance_order() {
    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    let text = Field {
        channel: "state".into(),
        unit: "".into(),
        value: crate::reading::Value::Text("idle".into()),
    };
    let batch = [
        reading("b", 1.0),
        reading("a", 2.0).with_field(text),
        reading("b", 3.0),
    ];
    accept(&outbox, &batch);
    accept(&outbox, &[reading("a", 4.0)]);
    let peeked = peek_all(&outbox);
    assert_eq!(
        pending(&outbox),
        ids(&[("b", 0), ("a", 0), ("b", 1), ("a", 1)])
    );
    assert_eq!(
        peeked.readings[1],
        Reading {
            seq: 0,
            ..batch[1].clone()
        }
    );
    assert!(matches!(
        peeked.readings[1].sensor,
        std::borrow::Cow::Owned(_)
    ));
    assert_eq!(outbox.peek(2).map(|b| b.len()).ok(), Some(2));
    assert_eq!(peeked.keys[2].sensor(), "b");
    assert_eq!(peeked.keys[2].seq(), 1);
}

use crate::reading::Field;

#[test]
fn ack_deletes_only_behind_an_unbroken_prefix_of_each_sensor() {
    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    accept(
        &outbox,
        &[
            reading("a", 0.0),
            reading("a", 1.0),
            reading("a", 2.0),
            reading("b", 0.0),
        ],
    );
    let keys = peek_all(&outbox).keys; // a0 a1 a2 b0

    // a0 is not acknowledged: a1 and a2 must stay (sent again later), b0 goes.
    let report = ack(
        &outbox,
        &[keys[1].clone(), keys[2].clone(), keys[3].clone()],
    );
    assert_eq!(
        report,
        AckReport {
            deleted: 1,
            discarded: 0,
            kept_for_order: 2,
            already_gone: 0
        }
    );
    assert_eq!(pending(&outbox), ids(&[("a", 0), ("a", 1), ("a", 2)]));

    // a0 and a1 together: both go; a2, not acknowledged this time, stays.
    let report = ack(&outbox, &[keys[1].clone(), keys[0].clone()]);
    assert_eq!(report.deleted, 2);
    assert_eq!(pending(&outbox), ids(&[("a", 2)]));

    // Acknowledging again what is gone changes nothing.
    let report = ack(
        &outbox,
        &[keys[0].clone(), keys[3].clone(), keys[2].clone()],
    );
    assert_eq!(
        report,
        AckReport {
            deleted: 1,
            discarded: 0,
            kept_for_order: 0,
            already_gone: 2
        }
    );
    assert!(peek_all(&outbox).is_empty());
    let stats = stats(&outbox);
    assert_eq!((stats.accepted, stats.delivered, stats.pending), (4, 4, 0));
    assert_eq!(stats.pending_bytes, 0);
}

#[test]
fn refuse_new_refuses_the_whole_batch_names_the_limit_and_counts_it() {
    let dir = scratch();
    let path = dir.path().join("o.redb");
    let config = OutboxConfig {
        limits: Limits {
            max_readings: Some(3),
            ..Limits::unbounded()
        },
        when_full: FullPolicy::RefuseNew,
        encryption: None,
    };
    {
        let outbox = open(&path, config.clone());
        accept(&outbox, &[reading("a", 0.0), reading("a", 1.0)]);
        let error = outbox
            .accept(&[reading("a", 2.0), reading("a", 3.0)])
            .unwrap_err();
        assert!(error.is_full());
        let message = error.to_string();
        assert!(message.contains("max_readings = 3"), "{message}");
        assert!(message.contains("o.redb"), "{message}");
        // Refusing used up no seqs, and the batch that fits is accepted.
        assert_eq!(accept(&outbox, &[reading("a", 2.0)]).seqs[0].first, 2);
    }
    let outbox = open(&path, config);
    let stats = stats(&outbox);
    assert_eq!((stats.accepted, stats.refused, stats.pending), (3, 2, 3));
}

#[test]
fn refuse_new_also_names_the_byte_limit() {
    let dir = scratch();
    let outbox = open(
        &dir.path().join("o.redb"),
        OutboxConfig {
            limits: Limits {
                max_bytes: Some(100),
                ..Limits::unbounded()
            },
            when_full: FullPolicy::RefuseNew,
            encryption: None,
        },
    );
    let batch: Vec<Reading> = (0..10).map(|n| reading("a", f64::from(n))).collect();
    let message = outbox.accept(&batch).unwrap_err().to_string();
    assert!(message.contains("max_bytes = 100"), "{message}");
}

#[test]
fn drop_oldest_keeps_the_newest_within_the_bounds_and_counts_the_rest() {
    let dir = scratch();
    let outbox = open(
        &dir.path().join("o.redb"),
        OutboxConfig {
            limits: Limits {
                max_readings: Some(3),
                ..Limits::unbounded()
            },
            ..OutboxConfig::default()
        },
    );
    accept(
        &outbox,
        &[reading("a", 0.0), reading("b", 0.0), reading("a", 1.0)],
    );
    let report = accept(&outbox, &[reading("a", 2.0), reading("b", 1.0)]);
    assert_eq!(report.dropped_full, 2);
    assert_eq!(pending(&outbox), ids(&[("a", 1), ("a", 2), ("b", 1)]));
    // A batch larger than the bound keeps its own newest readings.
    let batch: Vec<Reading> = (0..5).map(|n| reading("c", f64::from(n))).collect();
    assert_eq!(accept(&outbox, &batch).dropped_full, 5);
    assert_eq!(pending(&outbox), ids(&[("c", 2), ("c", 3), ("c", 4)]));
    // Heads moved past the dropped readings: the survivors can be acknowledged.
    let keys = peek_all(&outbox).keys;
    assert_eq!(ack(&outbox, &keys[..1]).deleted, 1);
    let stats = stats(&outbox);
    assert_eq!(
        (stats.dropped_full, stats.pending, stats.delivered),
        (7, 2, 1)
    );
}

#[test]
fn the_byte_bound_holds_after_every_accept() {
    let dir = scratch();
    let max_bytes = 2_000;
    let outbox = open(
        &dir.path().join("o.redb"),
        OutboxConfig {
            limits: Limits {
                max_bytes: Some(max_bytes),
                ..Limits::unbounded()
            },
            ..OutboxConfig::default()
        },
    );
    for n in 0..50 {
        accept(
            &outbox,
            &[reading("a", f64::from(n)), reading("b", f64::from(n))],
        );
        let stats = stats(&outbox);
        assert!(stats.pending_bytes <= max_bytes, "{stats:?}");
    }
    let stats = stats(&outbox);
    assert!(stats.dropped_full > 0 && stats.pending > 0, "{stats:?}");
    assert_eq!(stats.pending + stats.dropped_full, 100);
}

#[test]
fn readings_older_than_max_age_are_dropped_and_counted() {
    let dir = scratch();
    let path = dir.path().join("o.redb");
    {
        let outbox = open(&path, unbounded());
        accept(&outbox, &[reading("a", 0.0), reading("b", 0.0)]);
        assert!(stats(&outbox).oldest_pending_age.is_some());
    }
    std::thread::sleep(Duration::from_millis(5));
    let outbox = open(
        &path,
        OutboxConfig {
            limits: Limits {
                max_age: Some(Duration::from_millis(1)),
                ..Limits::unbounded()
            },
            ..OutboxConfig::default()
        },
    );
    assert_eq!(outbox.expire().ok(), Some(2));
    let stats = stats(&outbox);
    assert_eq!(
        (stats.dropped_age, stats.pending, stats.oldest_pending_age),
        (2, 0, None)
    );
    // Seqs continue after the gap.
    assert_eq!(accept(&outbox, &[reading("a", 1.0)]).seqs[0].first, 1);
}

fn encrypted(key: [u8; 32]) -> OutboxConfig {
    OutboxConfig {
        encryption: Some(EncryptionKey::from_bytes(key)),
        ..unbounded()
    }
}

#[test]
fn encrypted_records_round_trip_and_are_not_readable_on_disk() {
    let dir = scratch();
    let path = dir.path().join("secret.redb");
    let marker = "sensor-name-that-must-not-appear-in-the-file";
    {
        let outbox = open(&path, encrypted([9; 32]));
        let batch: Vec<Reading> = (0..20)
            .map(|n| {
                Reading::new(marker, UNIX_EPOCH).with_number(
                    "marker-channel-name",
                    "Cel",
                    f64::from(n),
                )
            })
            .collect();
        accept(&outbox, &batch);
        let peeked = peek_all(&outbox);
        assert_eq!(
            peeked.readings[7],
            Reading {
                seq: 7,
                ..batch[7].clone()
            }
        );
    }
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("read db: {e}"));
    for needle in [marker.as_bytes(), b"marker-channel-name"] {
        assert!(
            !file.windows(needle.len()).any(|w| w == needle),
            "plaintext found in the encrypted database"
        );
    }
    let outbox = open(&path, encrypted([9; 32]));
    assert_eq!(peek_all(&outbox).len(), 20);
}

#[test]
fn a_wrong_missing_or_unexpected_key_is_a_clear_error_at_open() {
    let dir = scratch();
    let secret = dir.path().join("secret.redb");
    let plain = dir.path().join("plain.redb");
    drop(open(&secret, encrypted([1; 32])));
    drop(open(&plain, unbounded()));

    let message = |path: &Path, config| Outbox::open(path, config).unwrap_err().to_string();
    let wrong = message(&secret, encrypted([2; 32]));
    assert!(
        wrong.contains("does not match") && wrong.contains("secret.redb"),
        "{wrong}"
    );
    let missing = message(&secret, unbounded());
    assert!(
        missing.contains("is encrypted") && missing.contains("secret.redb"),
        "{missing}"
    );
    let unexpected = message(&plain, encrypted([1; 32]));
    assert!(unexpected.contains("without encryption"), "{unexpected}");
}

#[test]
fn an_encrypted_record_moved_to_another_key_fails_authentication() {
    let dir = scratch();
    let path = dir.path().join("secret.redb");
    drop({
        let outbox = open(&path, encrypted([3; 32]));
        accept(&outbox, &[reading("a", 0.0), reading("a", 1.0)]);
        outbox
    });
    // Swap the two stored records, as someone with write access to the file could.
    {
        let db = Database::create(&path).unwrap_or_else(|e| panic!("redb: {e}"));
        let txn = db.begin_write().unwrap_or_else(|e| panic!("txn: {e}"));
        {
            let mut records = txn
                .open_table(RECORDS)
                .unwrap_or_else(|e| panic!("table: {e}"));
            let first = records.get(0).ok().flatten().map(|v| v.value().to_vec());
            let second = records.get(1).ok().flatten().map(|v| v.value().to_vec());
            let (Some(first), Some(second)) = (first, second) else {
                panic!("records 0 and 1 not found");
            };
            records
                .insert(0, second.as_slice())
                .unwrap_or_else(|e| panic!("insert: {e}"));
            records
                .insert(1, first.as_slice())
                .unwrap_or_else(|e| panic!("insert: {e}"));
        }
        txn.commit().unwrap_or_else(|e| panic!("commit: {e}"));
    }
    let outbox = open(&path, encrypted([3; 32]));
    let error = outbox.peek(10).unwrap_err().to_string();
    assert!(
        error.contains("record 0") && error.contains("authentication failed"),
        "{error}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_naming_it() {
    let dir = scratch();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the records you are looking for\n".repeat(200),
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let message = Outbox::open(&path, unbounded()).unwrap_err().to_string();
    assert!(
        message.contains("notes.txt") && message.contains("cannot open"),
        "{message}"
    );
    // The file is left as it was.
    let contents = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(contents.starts_with("these are not"));
}

#[test]
fn a_second_handle_on_an_open_database_is_an_error_not_a_second_writer() {
    let dir = scratch();
    let path = dir.path().join("o.redb");
    let _first = open(&path, unbounded());
    let message = Outbox::open(&path, unbounded()).unwrap_err().to_string();
    assert!(message.contains("o.redb"), "{message}");
}

#[test]
fn counters_survive_reopening() {
    let dir = scratch();
    let path = dir.path().join("o.redb");
    let before = {
        let outbox = open(&path, unbounded());
        accept(
            &outbox,
            &[reading("a", 0.0), reading("a", 1.0), reading("b", 0.0)],
        );
        let keys = peek_all(&outbox).keys;
        ack(&outbox, &keys[..1]);
        stats(&outbox)
    };
    let after = stats(&open(&path, unbounded()));
    assert_eq!((after.accepted, after.delivered, after.pending), (3, 1, 2));
    assert_eq!(after.pending_bytes, before.pending_bytes);
}

/// A transport that follows a script of outcomes and records what it was sent.
struct ScriptedTransport {
    script: VecDeque<Outcome>,
    sent: Arc<std::sync::Mutex<Vec<(String, u64)>>>,
}

#[derive(Clone)]
enum Outcome {
    AckAll,
    AckEvenIndices,
    Fail(ErrorKind),
}

impl Transport for ScriptedTransport {
    fn describe(&self) -> String {
        "scripted://test".into()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(async move {
            let outcome = self.script.pop_front().unwrap_or(Outcome::AckAll);
            if let Ok(mut sent) = self.sent.lock() {
                sent.extend(batch.iter().map(|r| (r.sensor.to_string(), r.seq)));
            }
            match outcome {
                Outcome::AckAll => Delivery::all(batch.len()),
                Outcome::AckEvenIndices => {
                    let mut delivery = Delivery::none(batch.len());
                    (0..batch.len()).step_by(2).for_each(|i| delivery.ack(i));
                    delivery.with_error(TransportError::new(
                        ErrorKind::Timeout,
                        "scripted",
                        "odd ones lost",
                    ))
                }
                Outcome::Fail(kind) => Delivery::failed(
                    batch.len(),
                    TransportError::new(kind, "scripted", "scripted failure"),
                ),
            }
        })
    }
}

/// Runs the delivery loop on its own task; sending on the returned channel stops it.
fn spawn_delivery(
    outbox: &Outbox,
    transport: impl Transport + 'static,
    settings: DeliverSettings,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<DeliveryStats>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(deliver(
        outbox.clone(),
        Box::new(transport),
        settings,
        async {
            stopped.await.ok();
        },
    ));
    (stop, task)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    // Generous: this bounds a hang, it does not measure speed.
    for _ in 0..2_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_loop_retries_until_everything_is_delivered_in_sensor_order() {
    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let transport = ScriptedTransport {
        script: VecDeque::from([
            Outcome::Fail(ErrorKind::Connect),
            Outcome::AckEvenIndices,
            Outcome::Fail(ErrorKind::Auth),
            Outcome::AckEvenIndices,
        ]),
        sent: Arc::clone(&sent),
    };
    let batch: Vec<Reading> = (0..12)
        .map(|n| reading(if n % 3 == 0 { "b" } else { "a" }, f64::from(n)))
        .collect();
    accept(&outbox, &batch);

    let settings = DeliverSettings {
        batch_size: 5,
        backoff: Backoff::with_seed(Duration::from_millis(1), Duration::from_millis(4), 1),
        monitor: DeliveryMonitor::default(),
        hold: None,
    };
    let monitor = settings.monitor.clone();
    let (stop, task) = spawn_delivery(&outbox, transport, settings);
    wait_until("the first 12 are delivered", || {
        monitor.snapshot().delivered == 12
    })
    .await;

    // Idle now; a new accept wakes the loop.
    accept(&outbox, &[reading("a", 99.0)]);
    wait_until("the 13th is delivered", || {
        monitor.snapshot().delivered == 13
    })
    .await;
    stop.send(()).ok();
    let stats = task.await.unwrap_or_else(|e| panic!("deliver task: {e}"));

    assert!(peek_all(&outbox).is_empty());
    assert_eq!(stats.delivered, 13);
    assert_eq!(stats.transport_errors, 4);
    assert!(stats.kept_for_order > 0, "{stats:?}");
    assert!(stats.last_error.is_some());
    assert_eq!(stats.consecutive_failures, 0);
    assert_eq!(outbox.stats().map(|s| s.delivered).ok(), Some(13));

    // Per sensor, the first sending of each seq happens in seq order, every seq is sent, and
    // anything sent twice was sent again only together with or after everything before it.
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    for sensor in ["a", "b"] {
        let mut highest_first_sent: Option<u64> = None;
        let mut seen = std::collections::BTreeSet::new();
        for (_, seq) in sent.iter().filter(|(s, _)| s == sensor) {
            if seen.insert(*seq) {
                assert_eq!(
                    Some(*seq),
                    highest_first_sent.map_or(Some(0), |h| Some(h + 1))
                );
                highest_first_sent = Some(*seq);
            }
        }
        let expected = if sensor == "a" { 9 } else { 4 };
        assert_eq!(seen.len(), expected, "sensor {sensor}: {sent:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_delivery_loop_stops_on_shutdown_while_backing_off() {
    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    accept(&outbox, &[reading("a", 0.0)]);
    let transport = ScriptedTransport {
        script: VecDeque::from(vec![Outcome::Fail(ErrorKind::Tls); 1000]),
        sent: Arc::default(),
    };
    let settings = DeliverSettings {
        batch_size: 10,
        // A non-transient error waits the cap: an hour, unless shutdown interrupts.
        backoff: Backoff::with_seed(Duration::from_millis(1), Duration::from_secs(3600), 1),
        monitor: DeliveryMonitor::default(),
        hold: None,
    };
    let monitor = settings.monitor.clone();
    let (stop, task) = spawn_delivery(&outbox, transport, settings);
    wait_until("the first failure", || {
        monitor.snapshot().transport_errors == 1
    })
    .await;
    stop.send(()).ok();
    let stats = task.await.unwrap_or_else(|e| panic!("deliver task: {e}"));
    assert_eq!(
        stats.transport_errors, 1,
        "retried instead of waiting at the cap"
    );
    assert!(stats
        .last_error
        .unwrap_or_default()
        .contains("scripted failure"));
    assert_eq!(
        peek_all(&outbox).len(),
        1,
        "an unacknowledged reading was deleted"
    );
}

#[test]
fn a_corrupt_database_is_an_error_naming_it_not_a_panic() {
    let dir = scratch();
    let original = dir.path().join("original.redb");
    {
        let outbox = open(&original, unbounded());
        for n in 0..20 {
            accept(&outbox, &[reading("a", f64::from(n))]);
        }
    }
    let pristine = std::fs::read(&original).unwrap_or_else(|e| panic!("read: {e}"));
    let len = pristine.len();
    type Damage = Box<dyn Fn(&mut Vec<u8>)>;
    let damages: [(&str, Damage); 3] = [
        (
            "scrambled tail",
            Box::new(move |b: &mut Vec<u8>| b[len / 4..].iter_mut().for_each(|x| *x ^= 0x5a)),
        ),
        (
            "truncated",
            Box::new(move |b: &mut Vec<u8>| b.truncate(len / 3)),
        ),
        (
            "scrambled header",
            Box::new(move |b: &mut Vec<u8>| b[..64].iter_mut().for_each(|x| *x ^= 0xff)),
        ),
    ];
    for (what, damage) in damages {
        let path = dir.path().join(format!("{}.redb", what.replace(' ', "-")));
        let mut bytes = pristine.clone();
        damage(&mut bytes);
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("write: {e}"));
        let outcome = Outbox::open(&path, unbounded()).and_then(|outbox| outbox.peek(100));
        let message = outcome.map(|b| b.len()).unwrap_err().to_string();
        assert!(
            message.contains(path.to_string_lossy().as_ref()),
            "{what}: {message}"
        );
        eprintln!("{what}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_the_encoder_refuses_is_dropped_as_unsendable_and_does_not_block_its_sensor() {
    use crate::encode::{Encoder, JsonEncoder};
    use crate::transport::file::{FileConfig, FileTransport};

    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    let lines_path = dir.path().join("out.jsonl");
    let transport = FileTransport::new(
        FileConfig::new(&lines_path),
        Arc::new(JsonEncoder::lines("dev")),
    );
    // JSON has no NaN: the third reading of "a" can never be sent.
    let batch: Vec<Reading> = [1.0, 2.0, f64::NAN, 4.0, 5.0]
        .into_iter()
        .map(|value| reading("a", value))
        .chain([reading("b", 10.0)])
        .collect();
    accept(&outbox, &batch);

    let settings = DeliverSettings {
        batch_size: 16,
        backoff: Backoff::with_seed(Duration::from_millis(1), Duration::from_millis(4), 1),
        monitor: DeliveryMonitor::default(),
        hold: None,
    };
    let (stop, task) = spawn_delivery(&outbox, transport, settings);
    wait_until("the outbox is empty", || {
        outbox.stats().is_ok_and(|s| s.pending == 0)
    })
    .await;
    stop.send(()).ok();
    let stats = task.await.unwrap_or_else(|e| panic!("deliver task: {e}"));

    assert_eq!(stats.delivered, 5, "{stats:?}");
    assert_eq!(stats.unsendable, 1, "{stats:?}");
    let last_error = stats.last_error.unwrap_or_default();
    assert!(
        last_error.contains("unsendable") && last_error.contains("`a`"),
        "{last_error}"
    );
    assert_eq!(outbox.stats().map(|s| s.dropped_unsendable).ok(), Some(1));

    let written = std::fs::read(&lines_path).unwrap_or_else(|e| panic!("read back: {e}"));
    let delivered = JsonEncoder::lines("dev")
        .decode(&written)
        .unwrap_or_else(|e| panic!("decode: {e}"));
    let sent: Vec<(String, u64)> = delivered
        .iter()
        .map(|r| (r.sensor.to_string(), r.seq))
        .collect();
    let expected: Vec<(String, u64)> = [("a", 0), ("a", 1), ("a", 3), ("a", 4), ("b", 0)]
        .iter()
        .map(|(s, q)| (s.to_string(), *q))
        .collect();
    assert_eq!(sent, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_publishes_every_n_readings_or_once_the_oldest_is_old_and_flushes_on_stop() {
    let dir = scratch();
    let outbox = open(&dir.path().join("o.redb"), unbounded());
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let transport = ScriptedTransport {
        script: VecDeque::new(),
        sent: Arc::clone(&sent),
    };
    let fresh = |value: f64| {
        Reading::new("a", std::time::SystemTime::now()).with_number("value", "", value)
    };
    let settings = DeliverSettings {
        batch_size: 64,
        hold: Some(Hold {
            readings: Some(5),
            max_wait: Some(Duration::from_secs(3600)),
        }),
        ..DeliverSettings::default()
    };
    let sent_count = || sent.lock().map(|s| s.len()).unwrap_or(0);
    let (stop, task) = spawn_delivery(&outbox, transport, settings);

    accept(&outbox, &[fresh(1.0), fresh(2.0), fresh(3.0)]);
    // Three fresh readings of five: held however long we look.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sent_count(), 0);
    accept(&outbox, &[fresh(4.0), fresh(5.0)]);
    wait_until("five readings are sent", || sent_count() == 5).await;

    // A reading taken two hours ago has waited longer than the hour allowed: sent alone.
    let old = Reading::new(
        "b",
        std::time::SystemTime::now() - Duration::from_secs(7200),
    )
    .with_number("value", "", 6.0);
    accept(&outbox, &[old]);
    wait_until("the old reading is sent", || sent_count() == 6).await;

    // Stopping releases what is held.
    accept(&outbox, &[fresh(7.0)]);
    stop.send(()).ok();
    let stats = task.await.unwrap_or_else(|e| panic!("deliver task: {e}"));
    assert_eq!(stats.delivered, 7, "{stats:?}");
    assert_eq!(sent_count(), 7);
    assert_eq!(stats.batches, 3, "{stats:?}");
}
