//! The `edgewise` binary end to end, on the sim board, against a real mosquitto:
//!
//! - readings arrive at an independent subscriber (`mosquitto_sub`) as SenML, `/health` and
//!   `/metrics` answer while it runs, and a bearing fault injected into the simulated machine
//!   raises an anomaly event that arrives like a reading;
//! - killed with SIGKILL while the broker is down, the agent keeps what it sampled in its
//!   outbox, and after a restart with the broker up every reading arrives;
//! - bad input: an unknown key, a wrong type, a missing file and a model that does not load
//!   stop it with a message naming the place; an unreachable broker does not stop it.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use edgewise_link::outbox::{Outbox, OutboxConfig};
use edgewise_tests::agent::{
    agent_command, http_get, senml_records, signal, wait_for_port, wait_until, write_file,
};
use edgewise_tests::peers::mosquitto::{BrokerOptions, Mosquitto, Subscriber};
use edgewise_tests::peers::{free_tcp_port, scratch_dir, PeerProcess};
use serde_json::Value;

const DEVICE: &str = "e2e-sim";

/// The vibration pipeline of the built-in config, with a short baseline (20 windows of
/// 256 ms) so the test is quick, and a bearing fault that starts after it.
fn sim_config(broker_port: u16, health_port: u16, fault_onset_s: u32) -> String {
    format!(
        r#"
board = "sim"

[device]
id = "{DEVICE}"

[[sensors]]
name = "environment"
driver = "bme280"
bus = "i2c-1"
interval = "250ms"

[[sensors]]
name = "motor"
driver = "mpu6050"
bus = "i2c-1"
channels = ["accel_x", "accel_y", "accel_z"]
interval = "1ms"

[[pipelines]]
name = "environment"
sources = ["environment"]
sinks = ["broker"]

[[pipelines]]
name = "vibration"
sources = ["motor"]
sinks = ["broker"]
window = {{ size = 256, hop = 256 }}
detector = {{ baseline_windows = 20, threshold = 6.0 }}

[pipelines.features]
time = ["rms", "peak", "crest_factor", "kurtosis"]

[pipelines.features.spectral]
bands_hz = [[0.0, 50.0], [50.0, 150.0], [150.0, 500.0]]
peaks = 2
centroid = true

[[pipelines.rules]]
name = "vibration-anomaly"
kind = "anomaly"
above = 6.0
for_windows = 3

[[sinks]]
name = "broker"
transport = "mqtt"
encoder = "senml-json"
topic = "{{device}}/{{sensor}}"
mqtt = {{ host = "127.0.0.1", port = {broker_port} }}

[sim]
seed = 7
machine_fault = {{ kind = "outer_race_defect", onset = "{fault_onset_s}s" }}

[health]
listen = "127.0.0.1:{health_port}"
"#
    )
}

#[test]
fn sim_board_to_mosquitto_senml_readings_health_and_an_anomaly_event_after_a_fault() {
    let dir = scratch_dir("agent-e2e-sim");
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    let subscriber = broker.subscribe(&format!("{DEVICE}/#"), None);
    let health_port = free_tcp_port();
    let config = write_file(
        dir.path(),
        "agent.toml",
        &sim_config(broker.port, health_port, 9),
    );
    let mut command = agent_command(&config, &dir.path().join("data"), &["--for", "20s"]);
    let log = dir.path().join("agent.log");
    command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut process = PeerProcess::spawn("edgewise", command);
    wait_for_port(health_port, &mut process);

    // While it runs: /health as JSON, /metrics as Prometheus text.
    std::thread::sleep(Duration::from_secs(2));
    let (status, body) = http_get(health_port, "/health");
    assert!(status.contains("200"), "{status}\n{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["device"], DEVICE);
    let sensors = health["sensors"].as_array().unwrap();
    assert_eq!(sensors.len(), 2, "{body}");
    for sensor in sensors {
        assert_eq!(sensor["state"], "ok", "{body}");
        assert!(sensor["last_reading"].is_string(), "{body}");
    }
    assert!(health["sinks"][0]["outbox"]["depth"].is_u64(), "{body}");
    let (status, metrics) = http_get(health_port, "/metrics");
    assert!(status.contains("200"), "{status}");
    assert!(
        metrics.contains("# TYPE edgewise_sensor_samples_total counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains("edgewise_sensor_up{sensor=\"motor\"} 1"),
        "{metrics}"
    );

    let mut temperatures = Vec::new();
    let mut windows = 0;
    let mut anomaly_raised = false;
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline && !(anomaly_raised && temperatures.len() >= 5) {
        let Some((topic, payload)) = subscriber.next(Duration::from_secs(1)) else {
            if !process.is_running() {
                break;
            }
            continue;
        };
        let records = senml_records(&payload);
        match topic.as_str() {
            t if t == format!("{DEVICE}/environment") => {
                let name = format!("{DEVICE}/environment/temperature");
                let (_, value) = records
                    .iter()
                    .find(|(n, _)| *n == name)
                    .unwrap_or_else(|| panic!("no temperature record in {payload}"));
                temperatures.push(value.as_f64().unwrap());
            }
            t if t == format!("{DEVICE}/vibration") => windows += 1,
            t if t == format!("{DEVICE}/events") => {
                let field = |name: &str| {
                    records
                        .iter()
                        .find(|(n, _)| *n == format!("{DEVICE}/events/{name}"))
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                };
                if field("rule") == "vibration-anomaly" && field("state") == "raised" {
                    assert!(field("value").as_f64().unwrap() > 6.0, "{payload}");
                    anomaly_raised = true;
                }
            }
            other => panic!("unexpected topic {other}: {payload}"),
        }
    }
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        temperatures.len() >= 5,
        "{} temperatures\n{stderr}",
        temperatures.len()
    );
    // A room: the simulated BME280's range, well inside the chip's −40…85 °C.
    for t in &temperatures {
        assert!((10.0..40.0).contains(t), "temperature {t}");
    }
    assert!(windows >= 10, "{windows} vibration windows\n{stderr}");
    assert!(
        anomaly_raised,
        "no anomaly event after the bearing fault\n{stderr}"
    );
}

/// JSON readings as (sensor, seq), from one MQTT message (an object or an array of them).
fn json_seqs(payload: &str) -> Vec<(String, u64)> {
    let value: Value = serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {payload}"));
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .iter()
        .map(|r| {
            (
                r["sensor"].as_str().unwrap_or("").to_string(),
                r["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn killed_while_the_broker_is_down_every_reading_arrives_after_a_restart() {
    let dir = scratch_dir("agent-e2e-kill");
    let mut broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    let port = broker.port;
    broker.stop();
    let config = write_file(
        dir.path(),
        "agent.toml",
        &format!(
            r#"
board = "sim"
[device]
id = "{DEVICE}"
[[sensors]]
name = "environment"
driver = "bme280"
bus = "i2c-1"
interval = "50ms"
[[pipelines]]
name = "environment"
sources = ["environment"]
sinks = ["broker"]
[[sinks]]
name = "broker"
transport = "mqtt"
encoder = "json"
topic = "{{device}}/{{sensor}}"
mqtt = {{ host = "127.0.0.1", port = {port}, ack_timeout = "1s" }}
"#
        ),
    );
    let data = dir.path().join("data");

    // Broker down: readings pile up in the outbox; then SIGKILL, no chance to flush.
    let mut command = agent_command(&config, &data, &[]);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let mut first = PeerProcess::spawn("edgewise", command);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        first.is_running(),
        "the agent must keep running with its broker down"
    );
    first.kill();
    drop(first);

    let outbox_file = data.join("outbox-broker.redb");
    let pending = Outbox::open(&outbox_file, OutboxConfig::default())
        .and_then(|o| o.stats())
        .unwrap_or_else(|e| panic!("{}: {e}", outbox_file.display()))
        .pending;
    assert!(
        pending >= 20,
        "only {pending} readings were kept in the outbox"
    );

    broker.restart();
    let subscriber: Subscriber = broker.subscribe(&format!("{DEVICE}/#"), None);
    let output = agent_command(&config, &data, &["--for", "4s"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut seen = BTreeSet::new();
    while let Some((_, payload)) = subscriber.next(Duration::from_secs(2)) {
        for (sensor, seq) in json_seqs(&payload) {
            assert_eq!(sensor, "environment");
            seen.insert(seq);
        }
    }
    let highest = seen.iter().next_back().copied().unwrap_or(0);
    let missing: Vec<u64> = (0..=highest).filter(|s| !seen.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "missing seqs {missing:?} of 0..={highest}"
    );
    assert!(
        highest + 1 >= pending,
        "{} received, {pending} were kept",
        highest + 1
    );
}

/// Runs the agent on `config` for a moment and returns how it ended.
fn run_briefly(dir: &Path, config: &str) -> Output {
    let path = write_file(dir, "bad.toml", config);
    agent_command(&path, &dir.join("data"), &["--for", "3s"])
        .output()
        .unwrap()
}

const GOOD: &str = r#"
board = "sim"
[device]
id = "e2e"
[[sensors]]
name = "environment"
driver = "bme280"
bus = "i2c-1"
interval = "1s"
[[pipelines]]
name = "environment"
sources = ["environment"]
sinks = ["out"]
[[sinks]]
name = "out"
transport = "file"
encoder = "json"
file = { path = "readings.jsonl" }
"#;

#[test]
fn bad_configs_stop_with_the_place_and_the_problem() {
    let dir = scratch_dir("agent-e2e-bad");
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();

    let typo = run_briefly(dir.path(), &GOOD.replace("interval = ", "intervl = "));
    assert!(!typo.status.success());
    let message = stderr(&typo);
    assert!(
        message.contains("bad.toml:9:1: sensors[0]: unknown key `intervl`"),
        "{message}"
    );

    let wrong_type = run_briefly(dir.path(), &GOOD.replace("\"1s\"", "5"));
    assert!(!wrong_type.status.success());
    let message = stderr(&wrong_type);
    assert!(
        message.contains("bad.toml:9:12: sensors[0].interval"),
        "{message}"
    );

    let missing = agent_command(&dir.path().join("nowhere.toml"), dir.path(), &[])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("nowhere.toml"),
        "{}",
        stderr(&missing)
    );

    std::fs::write(dir.path().join("broken.tflite"), b"TFL3 but not a model").unwrap();
    let with_model = GOOD.replace(
        "[[pipelines]]\nname = \"environment\"\nsources = [\"environment\"]\nsinks = [\"out\"]",
        "[[pipelines]]\nname = \"environment\"\nsources = [\"environment\"]\nsinks = [\"out\"]\n\
         window = { size = 8, hop = 8 }\nmodel = { path = \"broken.tflite\" }\n\
         [pipelines.features]\ntime = [\"mean\"]",
    );
    let bad_model = run_briefly(dir.path(), &with_model);
    assert!(!bad_model.status.success());
    let message = stderr(&bad_model);
    assert!(
        message.contains("pipeline `environment`: model"),
        "{message}"
    );
    assert!(message.contains("broken.tflite"), "{message}");
}

#[test]
fn an_unreachable_broker_degrades_the_sink_and_keeps_the_readings() {
    let dir = scratch_dir("agent-e2e-unreachable");
    let port = free_tcp_port();
    let config = GOOD.replace(
        "transport = \"file\"\nencoder = \"json\"\nfile = { path = \"readings.jsonl\" }",
        &format!(
            "transport = \"mqtt\"\nencoder = \"json\"\n\
             mqtt = {{ host = \"127.0.0.1\", port = {port}, ack_timeout = \"1s\" }}"
        ),
    );
    let output = run_briefly(dir.path(), &config);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    // The readings of those seconds are in the outbox, for when the broker is back.
    assert!(message.contains("waiting in the outbox"), "{message}");
    let pending = Outbox::open(
        dir.path().join("data/outbox-out.redb"),
        OutboxConfig::default(),
    )
    .and_then(|o| o.stats())
    .unwrap()
    .pending;
    assert!(pending >= 2, "{pending} readings kept");
}

#[test]
fn once_takes_one_reading_from_every_sensor_delivers_it_and_exits() {
    let dir = scratch_dir("agent-e2e-once");
    let config = GOOD.replace(
        "[[pipelines]]",
        "[[sensors]]\nname = \"motor\"\ndriver = \"mpu6050\"\nbus = \"i2c-1\"\ninterval = \"1ms\"\n\n\
         [[pipelines]]\nname = \"vibration\"\nsources = [\"motor\"]\nsinks = [\"out\"]\n\
         window = { size = 64, hop = 64 }\n[pipelines.features]\ntime = [\"rms\"]\n\n[[pipelines]]",
    );
    let path = write_file(dir.path(), "once.toml", &config);
    let data = dir.path().join("data");
    let output = agent_command(&path, &data, &["--once"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = std::fs::read_to_string(data.join("readings.jsonl")).unwrap();
    let mut sensors: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["sensor"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    sensors.sort();
    // One reading each, the windowed sensor's too (a window never fills in one reading).
    assert_eq!(sensors, ["environment", "motor"], "{lines}");
}

#[test]
fn sighup_reloads_a_good_config_keeps_running_on_a_bad_one_and_sigterm_flushes() {
    let dir = scratch_dir("agent-e2e-signals");
    let data = dir.path().join("data");
    let readings = data.join("readings.jsonl");
    let with_device = |id: &str| {
        GOOD.replace("id = \"e2e\"", &format!("id = \"{id}\""))
            .replace("\"1s\"", "\"100ms\"")
    };
    let path = write_file(dir.path(), "agent.toml", &with_device("before"));
    let log = dir.path().join("agent.log");
    let mut command = agent_command(&path, &data, &[]);
    command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut process = PeerProcess::spawn("edgewise", command);
    let devices = || -> Vec<String> {
        std::fs::read_to_string(&readings)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| v["device"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_until("readings are written", Duration::from_secs(20), || {
        !devices().is_empty()
    });

    // A bad new file: reported, and the running config goes on.
    write_file(
        dir.path(),
        "agent.toml",
        &with_device("before").replace("driver = ", "drivr = "),
    );
    signal(&process, "HUP");
    wait_until(
        "the bad config is reported",
        Duration::from_secs(10),
        || log_text().contains("keeping the running config"),
    );
    assert!(log_text().contains("unknown key `drivr`"), "{}", log_text());
    let before = devices().len();
    wait_until("readings continue", Duration::from_secs(10), || {
        devices().len() > before + 3
    });
    assert!(process.is_running());

    // A good one: the agent restarts on it.
    write_file(dir.path(), "agent.toml", &with_device("after"));
    signal(&process, "HUP");
    wait_until(
        "readings of the new config arrive",
        Duration::from_secs(20),
        || devices().iter().any(|d| d == "after"),
    );

    // SIGTERM: stops, with everything delivered.
    signal(&process, "TERM");
    wait_until("the agent exits", Duration::from_secs(15), || {
        !process.is_running()
    });
    let status = process.exit_status().expect("exited");
    let text = log_text();
    assert!(status.success(), "{status}\n{text}");
    assert!(text.contains("SIGTERM: stopping"), "{text}");
    assert!(text.contains("0 waiting in the outbox"), "{text}");
    let all = devices();
    let first_after = all.iter().position(|d| d == "after").unwrap();
    assert!(all[..first_after].iter().all(|d| d == "before"));
    assert!(all[first_after..].iter().all(|d| d == "after"), "{all:?}");
}
