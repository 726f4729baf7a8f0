//! How fast an output follows its cause, on the sim board, with the agent as it runs in the
//! `edgewise` binary (one async worker; the pipeline and the outputs on their own threads):
//!
//! - **threshold → output**: an INA219 whose load switches between 80 and 250 mA every
//!   100 ms is read every 5 ms; a threshold rule at 165 mA switches a relay. Measured from
//!   the timestamp of the first reading past the threshold to the relay's change, as the sim
//!   board's outputs log records it (both the wall clock). This covers the pipeline queue,
//!   the rule, the hand-over to the outputs thread and the pin write.
//! - **command → output**: an Ed25519-signed JWS published to a local mosquitto at QoS 1;
//!   measured from just before the publish to the relay's change. This covers the broker
//!   round, verification, the durable record of the command id (an fsync, for at most once),
//!   and the same hand-over.
//!
//!   Commands come once every 100 ms, then in a burst of one every 10 ms. In the burst,
//!   mosquitto's default `set_tcp_nodelay false` (Nagle) holds each command until the
//!   agent's delayed TCP ACK of the broker's last PUBACK (up to 40 ms on Linux): that is the
//!   broker's setting at work, and `set_tcp_nodelay true` on the broker removes it.
//!
//! Prints p50/p99/max; asserts nothing. `cargo bench -p edgewise-tests --bench
//! actuation_latency` (needs mosquitto for the command half). Without `--bench` (as `cargo
//! test --all-targets` runs it) it is a short smoke run whose numbers mean nothing.

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_boards::sim::SimBoard;
use edgewise_boards::SimOptions;
use edgewise_devsim::ina219::{Ina219Model, Load, Waveform};
use edgewise_runtime::agent::live::{self, LiveEvent};
use edgewise_runtime::agent::{Agent, RunOptions};
use edgewise_runtime::config;
use edgewise_tests::bench::full_run;
use edgewise_tests::peers::mosquitto::{BrokerOptions, Mosquitto};
use edgewise_tests::peers::scratch_dir;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::Value;

const THRESHOLD_AMPS: f64 = 0.165;
const DEVICE: &str = "latency";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seconds = if full_run() { 30 } else { 2 };
    let commands = if full_run() { 200 } else { 5 };
    println!("actuation latency on the sim board ({seconds} s of threshold crossings, {commands} commands)");
    runtime.block_on(threshold_to_output(Duration::from_secs(seconds)));
    runtime.block_on(command_to_output(commands, Duration::from_millis(100)));
    runtime.block_on(command_to_output(commands, Duration::from_millis(10)));
}

/// Milliseconds at the p50, p99 and max of `latencies` (ns).
fn report(what: &str, mut latencies: Vec<u64>) {
    assert!(!latencies.is_empty(), "{what}: nothing measured");
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[index] as f64 / 1e6
    };
    println!(
        "  {what:<34} n={:<4} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

/// The relay's changes in the sim outputs log: (wall clock ns, on?), inherited lines skipped.
fn relay_changes(log: &Path) -> Vec<(u64, bool)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["output"] == "relay" && line.get("inherited").is_none())
        .filter_map(|line| Some((line["at_unix_ns"].as_u64()?, line["state"] == "on")))
        .collect()
}

fn sim_board(dir: &Path) -> Arc<SimBoard> {
    Arc::new(SimBoard::new(SimOptions {
        seed: 1,
        machine_fault: None,
        outputs_log: Some(dir.join("sim-outputs.jsonl")),
    }))
}

fn run_options(dir: &Path) -> RunOptions {
    RunOptions {
        data_dir: dir.to_path_buf(),
        config_dir: dir.to_path_buf(),
        ..RunOptions::default()
    }
}

async fn threshold_to_output(run_for: Duration) {
    let dir = scratch_dir("actuation-latency-threshold");
    let board = sim_board(dir.path());
    board.wire(
        2,
        0x40,
        "ina219",
        Ina219Model::new(0.1).with_load(Load {
            supply_volts: 5.0,
            current: Waveform::Square {
                low: 0.080,
                high: 0.250,
                period_s: 0.2,
                duty: 0.5,
            },
            noise_amps: 0.0,
        }),
    );
    let text = format!(
        r#"
board = "sim"
[device]
id = "{DEVICE}"

[[sensors]]
name = "load"
driver = "ina219"
bus = "i2c-2"
address = 0x40
interval = "5ms"

[[actuators]]
name = "relay"
driver = "gpio"
pin = 5
safe = "off"

[[pipelines]]
name = "load"
sources = ["load"]
sinks = ["file"]

[[pipelines.rules]]
name = "busy"
kind = "threshold"
channel = "current"
above = {THRESHOLD_AMPS}

[[pipelines.actions]]
name = "relay-follows-load"
when = "busy"
actuator = "relay"

[[sinks]]
name = "file"
transport = "file"
encoder = "json"
file = {{ path = "readings.jsonl" }}
"#
    );
    let config = config::parse(&text, "latency.toml").unwrap();
    let (live, mut view) = live::channel(1 << 16);
    let options = RunOptions {
        live: Some(live),
        ..run_options(dir.path())
    };
    let agent = Agent::start(&config, board, options).await.unwrap();
    let readings = tokio::spawn(async move {
        let mut readings = Vec::new();
        while let Some(event) = view.recv().await {
            if let LiveEvent::Reading { reading, .. } = event {
                if let Some(current) = reading.number("current") {
                    readings.push((reading.time_ns, current));
                }
            }
        }
        readings
    });
    tokio::time::sleep(run_for).await;
    agent.shutdown().await;
    let mut readings = readings.await.unwrap();
    readings.sort_by_key(|(time, _)| *time);

    // Each reading on the other side of the threshold from the one before is a crossing; the
    // relay's first change to that side after it is its effect.
    let changes = relay_changes(&dir.path().join("sim-outputs.jsonl"));
    let mut latencies = Vec::new();
    let mut above = false;
    for &(time_ns, current) in &readings {
        let now_above = current > THRESHOLD_AMPS;
        if now_above == above {
            continue;
        }
        above = now_above;
        let Ok(time_ns) = u64::try_from(time_ns) else {
            continue;
        };
        if let Some((at, _)) = changes
            .iter()
            .find(|&&(at, on)| at >= time_ns && on == now_above)
        {
            latencies.push(at - time_ns);
        }
    }
    report("threshold → output", latencies);
}

/// base64 (standard alphabet with padding, or URL-safe without), for the key and the JWS.
fn base64(bytes: &[u8], url_safe: bool) -> String {
    let alphabet: &[u8; 64] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if !url_safe {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// A JWS (compact, EdDSA) of `payload`.
fn jws(key: &Ed25519KeyPair, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        base64(br#"{"alg":"EdDSA"}"#, true),
        base64(payload.as_bytes(), true)
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", base64(signature.as_ref(), true))
}

async fn command_to_output(commands: usize, spacing: Duration) {
    let dir = scratch_dir("actuation-latency-command");
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    // SubjectPublicKeyInfo for Ed25519: a fixed 12-byte header, then the 32-byte key.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(key.public_key().as_ref());
    let public_pem = dir.path().join("operator.pub.pem");
    std::fs::write(
        &public_pem,
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64(&spki, false)
        ),
    )
    .unwrap();
    let text = format!(
        r#"
board = "sim"
[device]
id = "{DEVICE}"

[[sensors]]
name = "environment"
driver = "bme280"
bus = "i2c-1"
interval = "1s"

[[actuators]]
name = "relay"
driver = "gpio"
pin = 5
safe = "off"

[[pipelines]]
name = "environment"
sources = ["environment"]
sinks = ["broker"]

[[sinks]]
name = "broker"
transport = "mqtt"
encoder = "senml-json"
mqtt = {{ host = "127.0.0.1", port = {port} }}

[commands]
sink = "broker"
ed25519_public_key = "{key}"
"#,
        port = broker.port,
        key = public_pem.display()
    );
    let config = config::parse(&text, "latency.toml").unwrap();
    let agent = Agent::start(&config, sim_board(dir.path()), run_options(dir.path()))
        .await
        .unwrap();

    let mut options = rumqttc::MqttOptions::new("latency-operator", "127.0.0.1", broker.port);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 64);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });

    let log = dir.path().join("sim-outputs.jsonl");
    let topic = format!("edgewise/{DEVICE}/commands");
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let send = |id: String, on: bool| {
        let payload = format!(
            r#"{{"id":"{id}","target":"relay","value":"{}","expires":{expires}}}"#,
            if on { "on" } else { "off" }
        );
        let message = jws(&key, &payload);
        let client = client.clone();
        let topic = topic.clone();
        async move {
            let sent_ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            client
                .publish(topic, rumqttc::QoS::AtLeastOnce, false, message)
                .await
                .unwrap();
            sent_ns
        }
    };
    let next_change = |seen: usize, within: Duration| {
        let log = log.clone();
        async move {
            let waited = tokio::time::Instant::now();
            while waited.elapsed() < within {
                if let Some(&change) = relay_changes(&log).get(seen) {
                    return Some(change);
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            None
        }
    };

    // Until the agent's command connection has subscribed, commands go nowhere: switch the
    // relay on once before measuring.
    let mut warm_up = 0;
    loop {
        let seen = relay_changes(&log).len();
        send(format!("warm-up-{warm_up}"), true).await;
        if next_change(seen, Duration::from_secs(1)).await.is_some() {
            break;
        }
        warm_up += 1;
        assert!(warm_up < 20, "the agent never acted on a command");
    }
    let mut latencies = Vec::new();
    for index in 1..=commands {
        let on = index % 2 == 0;
        let seen = relay_changes(&log).len();
        let sent_ns = send(format!("lat-{index}"), on).await;
        let (at, now_on) = next_change(seen, Duration::from_secs(2))
            .await
            .unwrap_or_else(|| panic!("command {index} changed nothing within 2 s"));
        assert_eq!(now_on, on, "command {index}");
        latencies.push(at.saturating_sub(sent_ns));
        tokio::time::sleep(spacing).await;
    }
    agent.shutdown().await;
    report(
        &format!("command → output, every {} ms", spacing.as_millis()),
        latencies,
    );
}
