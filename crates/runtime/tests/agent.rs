//! The agent on the sim board, in-process: a sensor whose chip stops answering is reported
//! in `/health`'s document and retried with back-off while the other sensor keeps sampling,
//! and it recovers by itself once the chip answers again.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgewise_boards::sim::SimBoard;
use edgewise_boards::{Board, SimOptions};
use edgewise_devsim::{Fault, Times};
use edgewise_runtime::agent::{Agent, RunOptions};
use edgewise_runtime::config;

const CONFIG: &str = r#"
board = "sim"
[device]
id = "runtime-test"
[[sensors]]
name = "room"
driver = "bme280"
bus = "i2c-1"
interval = "100ms"
[[sensors]]
name = "cabinet"
driver = "sht3x"
bus = "i2c-1"
address = 0x44
interval = "100ms"
[[pipelines]]
name = "all"
sources = ["room", "cabinet"]
sinks = ["file"]
[[sinks]]
name = "file"
transport = "file"
encoder = "json"
file = { path = "readings.jsonl" }
"#;

async fn wait_until(
    what: &str,
    within: Duration,
    mut done: impl FnMut() -> bool,
    progress: impl Fn() -> String,
) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < within,
            "timed out waiting until {what}: {}",
            progress()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sensor_is_reported_and_retried_while_the_others_keep_running() {
    let dir = tempfile::tempdir().unwrap();
    let config = config::parse(CONFIG, "test.toml").unwrap();
    let board = Arc::new(SimBoard::new(SimOptions::default()));
    let bus = board.i2c_bus(1);
    // The SHT3x stops acknowledging its address: a loose wire.
    bus.inject(0x44, Fault::Nack, Times::Always);
    let options = RunOptions {
        data_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let agent = Agent::start(&config, Arc::clone(&board) as Arc<dyn Board>, options)
        .await
        .unwrap();
    let status = agent.status();
    let (room, cabinet) = (&status.sensors[0], &status.sensors[1]);

    let progress = || {
        format!(
            "room: {} samples; cabinet: {} attempts, {:#}",
            room.samples.get(),
            cabinet.init_attempts.get(),
            status.health_json()
        )
    };
    wait_until(
        "the room sensor has read while the cabinet fails",
        Duration::from_secs(20),
        || room.samples.get() >= 10 && cabinet.init_attempts.get() >= 3,
        progress,
    )
    .await;
    assert!(cabinet.is_failing());
    assert_eq!(cabinet.samples.get(), 0);
    assert!(!room.is_failing());
    let health = status.health_json();
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert_eq!(health["sensors"][1]["state"], "failing", "{health:#}");
    let error = health["sensors"][1]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("0x44"), "{error}");
    assert_eq!(health["sensors"][0]["state"], "ok", "{health:#}");
    let metrics = status.metrics_text();
    assert!(
        metrics.contains("edgewise_sensor_up{sensor=\"cabinet\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("edgewise_sensor_up{sensor=\"room\"} 1"),
        "{metrics}"
    );

    // The wire is fixed: the next retry finds the chip and sampling resumes.
    bus.clear_faults(0x44);
    wait_until(
        "the cabinet sensor recovers",
        Duration::from_secs(30),
        || cabinet.samples.get() >= 5,
        progress,
    )
    .await;
    assert!(!cabinet.is_failing());
    assert_eq!(status.health_json()["status"], "ok");

    let reports = agent.shutdown().await;
    assert_eq!(reports.len(), 1);
    assert!(reports[0].flushed && reports[0].pending == 0, "{reports:?}");
    let lines = std::fs::read_to_string(dir.path().join("readings.jsonl")).unwrap();
    let sensors: Vec<String> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["sensor"].to_string())
        .collect();
    assert!(sensors.iter().any(|s| s == "\"room\""));
    assert!(sensors.iter().any(|s| s == "\"cabinet\""));
    assert_eq!(reports[0].delivered as usize, sensors.len());
}
