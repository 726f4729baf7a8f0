//! MQTT publishing throughput to a local mosquitto: edgewise-link's transport against Python
//! paho-mqtt, the usual alternative on a device, on the same broker in the same run, with the
//! same payload size, the same in-flight window and the same way of handing over messages.
//! QoS 1 counts a message when its PUBACK arrives; QoS 0 when it is written. Prints numbers;
//! asserts nothing.
//!
//! Two ways of handing over messages:
//! - in batches of [`BATCH`], each acknowledged in full before the next starts, as the outbox
//!   delivers a backlog (paho publishes a batch and waits for all of it the same way);
//! - in one stream: a single `publish` of every message (paho's publish loop, then one wait).
//!
//! At QoS 1 the batches are far slower than the stream, for every client: at the end of a
//! batch the client has nothing more to send, so it delays its TCP ACK of the broker's first
//! PUBACKs (Linux: at least 40 ms), and mosquitto, which by default holds small packets back
//! until its last one is acknowledged (Nagle; `set_tcp_nodelay false`), sits on the remaining
//! PUBACKs until that ACK comes. One such wait per batch dominates the time. The last rows
//! repeat the batches against a broker with `set_tcp_nodelay true`, which removes the wait.
//!
//! `cargo bench -p edgewise-tests --bench link_mqtt` (needs mosquitto and
//! `EDGEWISE_PEERS_PYTHON`, a Python with paho-mqtt)

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use edgewise_link::transport::mqtt::{MqttConfig, MqttTransport, Qos};
use edgewise_link::transport::Transport;
use edgewise_link::Reading;
use edgewise_tests::bench::full_run;
use edgewise_tests::peers::mosquitto::{BrokerOptions, LineEncoder, Mosquitto};
use edgewise_tests::peers::{peers_python, scratch_dir};

const PAYLOAD_BYTES: usize = 64;
const IN_FLIGHT: u16 = 100;
/// Readings per `publish` call, as the outbox would hand over a backlog.
const BATCH: usize = 500;

/// Messages per second through our transport, `batch` readings per `publish` call.
async fn ours(broker: &Mosquitto, qos: Qos, messages: usize, batch: usize) -> f64 {
    let encoder = Arc::new(LineEncoder {
        min_len: PAYLOAD_BYTES,
    });
    let mut config = MqttConfig::new("127.0.0.1", format!("edgewise-bench-{qos:?}"), encoder);
    config.port = broker.port;
    config.qos = qos;
    config.topic = "bench/{sensor}".into();
    config.persistent_session = false;
    config.max_inflight = IN_FLIGHT;
    config.ack_timeout = Duration::from_secs(120);
    let mut mqtt = MqttTransport::start(config).unwrap();
    let reading = Reading::new("edgewise", SystemTime::now()).with_number("t", "Cel", 21.5);
    let readings = vec![reading; batch];
    // Connect (and warm up) before timing.
    let warm = mqtt.publish(&readings[..1]).await;
    assert!(warm.is_complete(), "{:?}", warm.error);
    let start = Instant::now();
    let mut sent = 0;
    while sent < messages {
        let n = batch.min(messages - sent);
        let delivery = mqtt.publish(&readings[..n]).await;
        assert!(delivery.is_complete(), "{:?}", delivery.error);
        sent += n;
    }
    sent as f64 / start.elapsed().as_secs_f64()
}

/// Messages per second through paho-mqtt, in batches of `batch`.
fn paho(python: &Path, broker: &Mosquitto, qos: u8, messages: usize, batch: usize) -> f64 {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/paho_publish.py");
    let output = Command::new(python)
        .arg(&script)
        .args([
            broker.port.to_string(),
            messages.to_string(),
            PAYLOAD_BYTES.to_string(),
            qos.to_string(),
            IN_FLIGHT.to_string(),
            batch.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn main() {
    let python = peers_python();
    let messages = if full_run() { 20_000 } else { 200 };
    let dir = scratch_dir("bench-mqtt");
    let default_dir = dir.path().join("default");
    let nodelay_dir = dir.path().join("nodelay");
    for d in [&default_dir, &nodelay_dir] {
        std::fs::create_dir_all(d).unwrap();
    }
    let broker = Mosquitto::start(&default_dir, &BrokerOptions::default());
    let nodelay_broker = Mosquitto::start(
        &nodelay_dir,
        &BrokerOptions {
            tcp_nodelay: true,
            ..BrokerOptions::default()
        },
    );
    let multi_thread = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "MQTT 3.1.1 to mosquitto on 127.0.0.1: {messages} messages of {PAYLOAD_BYTES} bytes, \
         {IN_FLIGHT} in flight; msg/s (edgewise-link on tokio current_thread / multi_thread(2))"
    );
    let batches = format!("batches of {BATCH}");
    let scenarios = [
        (Qos::AtLeastOnce, 1u8, &broker, BATCH, batches.as_str()),
        (Qos::AtLeastOnce, 1, &broker, messages, "one stream"),
        (
            Qos::AtLeastOnce,
            1,
            &nodelay_broker,
            BATCH,
            "batches, broker tcp_nodelay",
        ),
        (Qos::AtMostOnce, 0, &broker, BATCH, batches.as_str()),
        (Qos::AtMostOnce, 0, &broker, messages, "one stream"),
    ];
    for (qos, level, broker, batch, how) in scenarios {
        let theirs = paho(&python, broker, level, messages, batch);
        let current = current_thread.block_on(ours(broker, qos, messages, batch));
        let multi = multi_thread.block_on(ours(broker, qos, messages, batch));
        println!(
            "QoS {level}, {how:<28}  edgewise-link {current:>7.0} / {multi:>7.0}   \
             paho-mqtt {theirs:>7.0}   ratio {:.2}x / {:.2}x",
            current / theirs,
            multi / theirs
        );
    }
}
