//! MQTT publishing throughput to a local mosquitto: edgewise-link's transport against Python
//! paho-mqtt, the usual alternative on a device, on the same broker in the same run, with the
//! same payload size and the same in-flight window. QoS 1 counts a message when its PUBACK
//! arrives; QoS 0 when it is written. Prints numbers; asserts nothing.
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

/// Messages per second through our transport.
async fn ours(broker: &Mosquitto, qos: Qos, messages: usize) -> f64 {
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
    let batch = vec![reading; BATCH];
    // Connect (and warm up) before timing.
    let warm = mqtt.publish(&batch[..1]).await;
    assert!(warm.is_complete(), "{:?}", warm.error);
    let start = Instant::now();
    let mut sent = 0;
    while sent < messages {
        let n = BATCH.min(messages - sent);
        let delivery = mqtt.publish(&batch[..n]).await;
        assert!(delivery.is_complete(), "{:?}", delivery.error);
        sent += n;
    }
    sent as f64 / start.elapsed().as_secs_f64()
}

/// Messages per second through paho-mqtt.
fn paho(python: &Path, broker: &Mosquitto, qos: u8, messages: usize) -> f64 {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/paho_publish.py");
    let output = Command::new(python)
        .arg(&script)
        .args([
            broker.port.to_string(),
            messages.to_string(),
            PAYLOAD_BYTES.to_string(),
            qos.to_string(),
            IN_FLIGHT.to_string(),
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
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
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
         {IN_FLIGHT} in flight, {BATCH} readings per publish"
    );
    for (qos, level) in [(Qos::AtLeastOnce, 1u8), (Qos::AtMostOnce, 0u8)] {
        let theirs = paho(&python, &broker, level, messages);
        for (name, runtime) in [
            ("tokio current_thread", &current_thread),
            ("tokio multi_thread(2)", &multi_thread),
        ] {
            let ours = runtime.block_on(ours(&broker, qos, messages));
            println!(
                "QoS {level}: edgewise-link ({name:<21}) {ours:>9.0} msg/s   paho-mqtt {theirs:>9.0} msg/s   ratio {:.2}x",
                ours / theirs
            );
        }
    }
}
