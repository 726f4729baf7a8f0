//! The publisher of the MQTT no-loss test (`tests/mqtt_no_loss.rs`): the outbox and the MQTT
//! transport as an agent runs them, in a process the test can kill.
//!
//! Usage: `noloss_publisher DB PORT SENSORS PER_SENSOR PROTOCOL` (`3.1.1` or `5`). It opens the outbox in `DB`, and
//! accepts readings of sensors `s0`..`s{SENSORS-1}` in small batches at a steady pace until
//! each sensor has `PER_SENSOR` of them, while `outbox::deliver` sends them to the broker on
//! 127.0.0.1:`PORT` (QoS 1, persistent session, JSON, topic `noloss/{sensor}`). Restarted on
//! the same database, it continues each sensor from `Outbox::next_seq`, so the total stays the
//! same. It exits 0 once everything is accepted and acknowledged (the outbox is empty).
//!
//! Every reading carries its expected seq as field `n`, so the receiver can check that the
//! payload under a seq is that reading's. Output lines (each flushed):
//!
//! - `resumed s0=N s1=N ...`: each sensor's next seq, read from the database;
//! - `sent N`: readings handed to the transport by this process so far (one line per publish);
//! - `done` and the delivery loop's stats, at the end.
//!
//! Exits 2 on an outbox or transport setup error, 3 when the outbox numbers readings
//! differently from what this process expects, 4 when the outbox does not drain in time.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use edgewise_link::backoff::Backoff;
use edgewise_link::encode::JsonEncoder;
use edgewise_link::outbox::{self, DeliverSettings, Limits, Outbox, OutboxConfig};
use edgewise_link::transport::mqtt::{MqttConfig, MqttTransport, ProtocolVersion, Qos};
use edgewise_link::transport::{PublishFuture, Transport};
use edgewise_link::Reading;

/// Readings per sensor in each accepted batch.
const PER_BATCH: u64 = 5;
/// The pace of accepted batches: with 4 sensors, 20 readings every 20 ms, so 10 000 readings
/// take about 10 s, long enough for the test's faults to land mid-stream.
const PACE: Duration = Duration::from_millis(20);
/// How long to wait for the outbox to drain once everything is accepted.
const DRAIN_LIMIT: Duration = Duration::from_secs(100);

type Failure = (u8, String);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("noloss_publisher: no tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("noloss_publisher: {message}");
            ExitCode::from(code)
        }
    }
}

async fn run() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let usage = || {
        (
            1,
            "usage: noloss_publisher DB PORT SENSORS PER_SENSOR 3.1.1|5".to_string(),
        )
    };
    let [_, db, port, sensors, per_sensor, protocol] = &args[..] else {
        return Err(usage());
    };
    let protocol = match protocol.as_str() {
        "3.1.1" => ProtocolVersion::V311,
        "5" => ProtocolVersion::V5,
        _ => return Err(usage()),
    };
    let port: u16 = port.parse().map_err(|_| usage())?;
    let sensors: usize = sensors.parse().map_err(|_| usage())?;
    let per_sensor: u64 = per_sensor.parse().map_err(|_| usage())?;
    let names: Vec<String> = (0..sensors).map(|i| format!("s{i}")).collect();

    let outbox = Outbox::open(
        db,
        OutboxConfig {
            limits: Limits::unbounded(),
            ..OutboxConfig::default()
        },
    )
    .map_err(|e| (2, e.to_string()))?;
    let mut next = Vec::with_capacity(sensors);
    for name in &names {
        next.push(outbox.next_seq(name).map_err(|e| (2, e.to_string()))?);
    }
    let resumed: Vec<String> = names
        .iter()
        .zip(&next)
        .map(|(name, seq)| format!("{name}={seq}"))
        .collect();
    say(&format!("resumed {}", resumed.join(" ")));

    let mut config = MqttConfig::new(
        "127.0.0.1",
        "noloss-pub",
        Arc::new(JsonEncoder::new("noloss")),
    );
    config.port = port;
    config.protocol = protocol;
    config.qos = Qos::AtLeastOnce;
    config.persistent_session = true;
    config.topic = "noloss/{sensor}".into();
    config.keep_alive = Duration::from_secs(5);
    // Short waits so the test is not slow: a broker restart costs about a second.
    config.ack_timeout = Duration::from_secs(1);
    config.reconnect = Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
    let transport = MqttTransport::start(config).map_err(|e| (2, e.to_string()))?;
    let sent = Arc::new(AtomicU64::new(0));
    let transport = CountingTransport {
        inner: transport,
        sent: Arc::clone(&sent),
    };

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let delivery = tokio::spawn(outbox::deliver(
        outbox.clone(),
        Box::new(transport),
        DeliverSettings {
            batch_size: 100,
            backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(500)),
            ..DeliverSettings::default()
        },
        async {
            stopped.await.ok();
        },
    ));

    let mut pace = tokio::time::interval(PACE);
    while next.iter().any(|&seq| seq < per_sensor) {
        pace.tick().await;
        let mut batch = Vec::new();
        let mut expected = next.clone();
        for _ in 0..PER_BATCH {
            for (name, seq) in names.iter().zip(&mut expected) {
                if *seq < per_sensor {
                    batch.push(Reading::new(name.clone(), SystemTime::now()).with_number(
                        "n",
                        "",
                        *seq as f64,
                    ));
                    *seq += 1;
                }
            }
        }
        let handle = outbox.clone();
        let report = tokio::task::spawn_blocking(move || handle.accept(&batch))
            .await
            .map_err(|e| (2, format!("accept: {e}")))?
            .map_err(|e| (2, e.to_string()))?;
        for range in &report.seqs {
            let index = names
                .iter()
                .position(|name| *name == range.sensor)
                .ok_or_else(|| (3, format!("accepted an unknown sensor {}", range.sensor)))?;
            if range.first != next[index] || range.last + 1 != expected[index] {
                return Err((
                    3,
                    format!(
                        "{}: accepted as {}..={}, expected {}..{}",
                        range.sensor, range.first, range.last, next[index], expected[index]
                    ),
                ));
            }
        }
        next = expected;
    }

    let drain_start = tokio::time::Instant::now();
    loop {
        let handle = outbox.clone();
        let stats = tokio::task::spawn_blocking(move || handle.stats())
            .await
            .map_err(|e| (2, format!("stats: {e}")))?
            .map_err(|e| (2, e.to_string()))?;
        if stats.pending == 0 {
            break;
        }
        if drain_start.elapsed() > DRAIN_LIMIT {
            return Err((
                4,
                format!(
                    "{} readings still pending after {DRAIN_LIMIT:?}",
                    stats.pending
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).ok();
    let stats = delivery
        .await
        .map_err(|e| (2, format!("the delivery loop failed: {e}")))?;
    say(&format!(
        "done sent={} batches={} delivered={} kept_for_order={} transport_errors={} \
         outbox_errors={}",
        sent.load(Ordering::Relaxed),
        stats.batches,
        stats.delivered,
        stats.kept_for_order,
        stats.transport_errors,
        stats.outbox_errors
    ));
    Ok(())
}

/// The MQTT transport, counting the readings the delivery loop hands it: the outbox sends a
/// reading again when its acknowledgement did not come in time, and the test reports how often.
struct CountingTransport {
    inner: MqttTransport,
    sent: Arc<AtomicU64>,
}

impl Transport for CountingTransport {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        let total = self.sent.fetch_add(batch.len() as u64, Ordering::Relaxed) + batch.len() as u64;
        say(&format!("sent {total}"));
        self.inner.publish(batch)
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe means the test is gone; there is no one left to tell.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
