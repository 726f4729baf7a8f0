//! The agent's local control on the sim board, in-process: a threshold action switches a
//! relay, every change is an `actions` event in the file sink, the relay is in its safe state
//! at start and after shutdown, and its watchdog applies the safe state while the sensor that
//! drives it fails, until the sensor recovers.
//!
//! The relay's devsim timeline (the sim board's record of its pin) is checked against the
//! events.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgewise_boards::actuator::State;
use edgewise_boards::sim::SimBoard;
use edgewise_boards::{Board, SimOptions};
use edgewise_devsim::output::OutputValue;
use edgewise_devsim::{Fault, Times};
use edgewise_runtime::agent::{Agent, RunOptions};
use edgewise_runtime::config;

const CONFIG: &str = r#"
board = "sim"
[device]
id = "control-test"
[[sensors]]
name = "room"
driver = "bme280"
bus = "i2c-1"
interval = "100ms"
[[actuators]]
name = "fan"
driver = "gpio"
pin = 17
safe = "off"
watchdog = "1s"
[[pipelines]]
name = "climate"
sources = ["room"]
sinks = ["file"]
publish = "events"
[[pipelines.rules]]
name = "warm"
kind = "threshold"
channel = "temperature"
above = 0.0
[[pipelines.actions]]
name = "cooling"
when = "warm"
actuator = "fan"
[[sinks]]
name = "file"
transport = "file"
encoder = "json"
file = { path = "events.jsonl" }
"#;

async fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_switches_the_relay_and_the_watchdog_and_shutdown_apply_its_safe_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = config::parse(CONFIG, "test.toml").unwrap();
    let board = Arc::new(SimBoard::new(SimOptions::default()));
    let options = RunOptions {
        data_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let agent = Agent::start(&config, Arc::clone(&board) as Arc<dyn Board>, options)
        .await
        .unwrap();
    let status = agent.status();
    let fan = Arc::clone(&status.actuators[0]);
    let room = Arc::clone(&status.sensors[0]);

    // The rule holds from the first reading: the relay goes on.
    wait_until("the fan is on", Duration::from_secs(10), || {
        fan.state() == Some(State::On)
    })
    .await;
    assert_eq!(fan.cause().as_deref(), Some("rule warm raised"));

    // The BME280 stops answering: no reading, no healthy evaluation, and after 1 s the
    // watchdog applies the safe state.
    // (A sensor slower to start than the watchdog time trips it once before the first
    // reading, with the relay already off: count from here.)
    let trips = fan.watchdog_trips.get();
    let bus = board.i2c_bus(1);
    bus.inject(0x76, Fault::Nack, Times::Always);
    wait_until("the watchdog trips", Duration::from_secs(10), || {
        fan.watchdog_trips.get() == trips + 1
    })
    .await;
    assert_eq!(fan.state(), Some(State::Off));
    assert_eq!(fan.cause().as_deref(), Some("safe state: watchdog"));
    let health = status.health_json();
    assert_eq!(health["actuators"][0]["state"], "off", "{health:#}");
    assert_eq!(
        health["actuators"][0]["cause"], "safe state: watchdog",
        "{health:#}"
    );
    let metrics = status.metrics_text();
    assert!(
        metrics.contains(&format!(
            "edgewise_actuator_watchdog_trips_total{{actuator=\"fan\"}} {}",
            trips + 1
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("edgewise_actuator_state{actuator=\"fan\"} 0"),
        "{metrics}"
    );

    // The chip answers again: the sensor recovers and control resumes.
    let samples = room.samples.get();
    bus.clear_faults(0x76);
    wait_until("control resumes", Duration::from_secs(30), || {
        room.samples.get() > samples && fan.state() == Some(State::On)
    })
    .await;

    agent.shutdown().await;
    assert_eq!(fan.state(), Some(State::Off));

    let levels: Vec<OutputValue> = board
        .outputs()
        .changes_of("fan")
        .into_iter()
        .map(|c| c.value)
        .collect();
    assert_eq!(
        levels,
        [
            OutputValue::Low,
            OutputValue::High,
            OutputValue::Low,
            OutputValue::High,
            OutputValue::Low
        ]
    );
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let actions: Vec<(String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["sensor"] == "actions")
        .map(|r| {
            let field = |name: &str| {
                r["fields"]
                    .as_array()
                    .and_then(|fields| fields.iter().find(|f| f["channel"] == name))
                    .and_then(|f| f["value"].as_str())
                    .unwrap_or("?")
                    .to_string()
            };
            (field("state"), field("cause"))
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("off", "safe state: start"),
        ("on", "rule warm raised"),
        ("off", "safe state: watchdog"),
        ("on", "rule warm raised"),
        ("off", "safe state: shutdown"),
    ]
    .iter()
    .map(|(s, c)| (s.to_string(), c.to_string()))
    .collect();
    assert_eq!(actions, expected, "{text}");
}
