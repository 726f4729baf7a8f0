//! Outputs end to end: the `edgewise` binary on the sim board with a real mosquitto.
//!
//! - a command signed by an independent signer (PyJWT, pycose; keys made by openssl) and
//!   published with `mosquitto_pub` switches a sim relay, and the reply arrives at an
//!   independent `mosquitto_sub`; a replayed, expired, unsigned, tampered, out-of-range or
//!   interlocked command is refused with its reason and changes nothing; with a shared HMAC
//!   key instead, HS256 JWS and COSE_Mac0 commands switch outputs too;
//! - killed with SIGKILL while an output is on, the agent starts again with the output in its
//!   safe state, and `edgewise safe-state` (what the systemd unit's `ExecStopPost` runs)
//!   switches it off without the agent.
//!
//! What the outputs did is read from the sim board's outputs log (`sim-outputs.jsonl` in the
//! data directory): one JSON line per change, the way latching hardware would keep it.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use edgewise_tests::agent::{
    agent_command, http_get, senml_records, signal, wait_for_port, wait_until, write_file,
};
use edgewise_tests::edgewise_binary;
use edgewise_tests::peers::commands::{keys, mosquitto_pub, sign, unix_now, Keys};
use edgewise_tests::peers::mosquitto::{BrokerOptions, Mosquitto, Subscriber};
use edgewise_tests::peers::{free_tcp_port, scratch_dir, PeerProcess};
use serde_json::{json, Value};

const DEVICE: &str = "e2e-outputs";
const WAIT: Duration = Duration::from_secs(15);

/// A BME280, a relay and a fan for remote commands, and a heater held off by an interlock
/// whose rule always holds (the room is warmer than −100 °C).
fn config(broker_port: u16, health_port: u16, public_key: &Path) -> String {
    config_verified_by(
        broker_port,
        health_port,
        &format!("ed25519_public_key = \"{}\"", public_key.display()),
    )
}

/// The same outputs, with commands checked as `verify` (a `[commands]` key line) says.
fn config_verified_by(broker_port: u16, health_port: u16, verify: &str) -> String {
    format!(
        r#"
board = "sim"

[device]
id = "{DEVICE}"

[[sensors]]
name = "environment"
driver = "bme280"
bus = "i2c-1"
interval = "200ms"

[[actuators]]
name = "relay"
driver = "gpio"
pin = 17
safe = "off"

[[actuators]]
name = "fan"
driver = "pwm"
channel = 0
frequency = 25000.0
safe = 0.0

[[actuators]]
name = "heater"
driver = "gpio"
pin = 27
safe = "off"

[[pipelines]]
name = "environment"
sources = ["environment"]
sinks = ["broker"]

[[pipelines.rules]]
name = "warm"
kind = "threshold"
channel = "temperature"
above = -100.0

[[pipelines.actions]]
name = "heater-interlock"
when = "warm"
actuator = "heater"
on = "off"
off = "off"
interlock = true

[[sinks]]
name = "broker"
transport = "mqtt"
encoder = "senml-json"
topic = "{{device}}/{{sensor}}"
mqtt = {{ host = "127.0.0.1", port = {broker_port} }}

[commands]
sink = "broker"
{verify}

[health]
listen = "127.0.0.1:{health_port}"
"#
    )
}

/// One line of the sim outputs log.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    output: String,
    state: Value,
    inherited: bool,
}

fn outputs_log(data_dir: &Path) -> Vec<Change> {
    let text = std::fs::read_to_string(data_dir.join("sim-outputs.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|line| Change {
            output: line["output"].as_str().unwrap_or_default().to_string(),
            state: line["state"].clone(),
            inherited: line
                .get("inherited")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
        .collect()
}

fn changes_of(data_dir: &Path, output: &str) -> Vec<Change> {
    outputs_log(data_dir)
        .into_iter()
        .filter(|change| change.output == output)
        .collect()
}

/// What `output` was last set to, by the log.
fn last_state(data_dir: &Path, output: &str) -> Option<Value> {
    changes_of(data_dir, output)
        .pop()
        .map(|change| change.state)
}

fn command(id: &str, target: &str, value: Value, expires: u64) -> Value {
    json!({"id": id, "target": target, "value": value, "expires": expires, "device": DEVICE})
}

struct Device {
    agent: PeerProcess,
    replies: Subscriber,
    actions: Subscriber,
}

fn start(broker: &Mosquitto, config: &Path, data_dir: &Path, health_port: u16) -> Device {
    let replies = broker.subscribe(&format!("edgewise/{DEVICE}/commands/reply"), None);
    let actions = broker.subscribe(&format!("{DEVICE}/actions"), None);
    let mut agent = PeerProcess::spawn("edgewise", agent_command(config, data_dir, &[]));
    wait_for_port(health_port, &mut agent);
    // The command connection subscribes after the agent serves /health.
    wait_until("the command channel is up", WAIT, || {
        http_get(health_port, "/metrics")
            .1
            .lines()
            .any(|line| line == "edgewise_commands_connected 1")
    });
    Device {
        agent,
        replies,
        actions,
    }
}

fn reply(device: &Device) -> Value {
    let (_, payload) = device
        .replies
        .next(WAIT)
        .unwrap_or_else(|| panic!("no reply within {WAIT:?}"));
    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("reply {payload}: {e}"))
}

/// Publishes `message`, waits for its reply and checks it was refused for `reason`.
fn assert_refused(broker: &Mosquitto, device: &Device, dir: &Path, message: &[u8], reason: &str) {
    mosquitto_pub(broker, &commands_topic(), message, dir);
    let reply = reply(device);
    assert_eq!(reply["status"], "refused", "{reply}");
    let said = reply["reason"].as_str().unwrap_or_default();
    assert!(
        said.starts_with(reason),
        "expected a refusal for `{reason}`, got {reply}"
    );
}

fn commands_topic() -> String {
    format!("edgewise/{DEVICE}/commands")
}

fn metric(health_port: u16, line_prefix: &str) -> f64 {
    let (_, body) = http_get(health_port, "/metrics");
    body.lines()
        .find_map(|line| line.strip_prefix(line_prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{line_prefix}` in /metrics:\n{body}"))
}

fn setup(test: &str) -> (tempfile::TempDir, Mosquitto, Keys) {
    let dir = scratch_dir(test);
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    let keys = keys(dir.path());
    (dir, broker, keys)
}

#[test]
fn a_signed_command_switches_a_sim_relay_and_forgeries_are_refused() {
    let (dir, broker, keys) = setup("actuation-commands");
    let health_port = free_tcp_port();
    let data_dir = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "outputs.toml",
        &config(broker.port, health_port, &keys.ed25519_public),
    );
    let mut device = start(&broker, &config, &data_dir, health_port);
    let expires = unix_now() + 300;

    // Every output starts in its safe state.
    wait_until("the relay is in its safe state", WAIT, || {
        changes_of(&data_dir, "relay").first().map(|c| &c.state) == Some(&json!("off"))
    });

    // A signed JWS (PyJWT, EdDSA) switches the relay on and is answered.
    let on = sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("c-1", "relay", json!("on"), expires),
    );
    mosquitto_pub(&broker, &commands_topic(), &on, dir.path());
    let answer = reply(&device);
    assert_eq!(answer["id"], "c-1", "{answer}");
    assert_eq!(answer["status"], "done", "{answer}");
    assert_eq!(answer["state"], "on", "{answer}");
    wait_until("the relay is on", WAIT, || {
        last_state(&data_dir, "relay") == Some(json!("on"))
    });
    // Every action is an event, delivered like a reading: the safe states at start, then
    // the command's.
    let mut causes = Vec::new();
    while !causes.iter().any(|c| c == "command c-1") {
        let (_, event) = device
            .actions
            .next(WAIT)
            .unwrap_or_else(|| panic!("no `command c-1` action event; saw {causes:?}"));
        causes.extend(
            senml_records(&event)
                .into_iter()
                .filter(|(name, _)| name.ends_with("cause"))
                .filter_map(|(_, value)| value.as_str().map(String::from)),
        );
    }
    assert!(
        causes.iter().any(|c| c == "safe state: start"),
        "{causes:?}"
    );

    // A COSE_Sign1 (pycose) sets the fan to a duty.
    let half = sign(
        "cose-sign1",
        &keys.ed25519_private,
        &command("c-2", "fan", json!(0.5), expires),
    );
    mosquitto_pub(&broker, &commands_topic(), &half, dir.path());
    let answer = reply(&device);
    assert_eq!(answer["status"], "done", "{answer}");
    wait_until("the fan runs at half duty", WAIT, || {
        last_state(&data_dir, "fan") == Some(json!(0.5))
    });

    let relay_changes = changes_of(&data_dir, "relay").len();
    // The same message again.
    assert_refused(&broker, &device, dir.path(), &on, "replayed");
    // Expired ten seconds ago.
    let stale = sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("c-3", "relay", json!("off"), unix_now() - 10),
    );
    assert_refused(&broker, &device, dir.path(), &stale, "expired");
    // A bare command, not signed.
    let bare = command("c-4", "relay", json!("off"), expires).to_string();
    assert_refused(&broker, &device, dir.path(), bare.as_bytes(), "unsigned");
    // The payload of a signed command swapped for another one, the signature kept.
    let genuine = String::from_utf8(sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("c-5", "relay", json!("on"), expires),
    ))
    .unwrap();
    let forged_payload = String::from_utf8(sign(
        "jws-eddsa",
        &keys.other_private,
        &command("c-5", "relay", json!("off"), expires),
    ))
    .unwrap();
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged_parts: Vec<&str> = forged_payload.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], forged_parts[1], parts[2]);
    assert_refused(
        &broker,
        &device,
        dir.path(),
        tampered.as_bytes(),
        "bad signature",
    );
    // Signed by a key the device does not hold; then validly signed, but asking for what
    // the outputs cannot or may not do.
    for (key, id, target, value, reason) in [
        (
            &keys.other_private,
            "c-6",
            "relay",
            json!("off"),
            "bad signature",
        ),
        (
            &keys.ed25519_private,
            "c-7",
            "fan",
            json!(1.5),
            "out of range",
        ),
        (
            &keys.ed25519_private,
            "c-8",
            "sprinkler",
            json!("on"),
            "unknown target",
        ),
        (
            &keys.ed25519_private,
            "c-9",
            "heater",
            json!("on"),
            "interlocked",
        ),
    ] {
        let message = sign("jws-eddsa", key, &command(id, target, value, expires));
        assert_refused(&broker, &device, dir.path(), &message, reason);
    }

    // None of the refused commands touched an output.
    assert_eq!(changes_of(&data_dir, "relay").len(), relay_changes);
    assert!(changes_of(&data_dir, "heater")
        .iter()
        .all(|c| c.state == json!("off")));
    // Refusals are counted per reason.
    for reason in [
        "replayed",
        "expired",
        "unsigned",
        "out_of_range",
        "interlocked",
    ] {
        assert_eq!(
            metric(
                health_port,
                &format!("edgewise_commands_refused_total{{reason=\"{reason}\"}}")
            ),
            1.0,
            "{reason}"
        );
    }
    assert_eq!(
        metric(
            health_port,
            "edgewise_commands_refused_total{reason=\"bad_signature\"}"
        ),
        2.0
    );
    assert_eq!(metric(health_port, "edgewise_commands_executed_total"), 2.0);

    // A clean stop puts every output back in its safe state.
    signal(&device.agent, "TERM");
    wait_until("the agent exits", WAIT, || !device.agent.is_running());
    assert_eq!(last_state(&data_dir, "relay"), Some(json!("off")));
    // A PWM output at duty 0 is off.
    assert_eq!(last_state(&data_dir, "fan"), Some(json!("off")));
}

#[test]
fn killed_while_an_output_is_on_the_agent_restarts_it_in_its_safe_state() {
    let (dir, broker, keys) = setup("actuation-sigkill");
    let health_port = free_tcp_port();
    let data_dir = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "outputs.toml",
        &config(broker.port, health_port, &keys.ed25519_public),
    );
    let expires = unix_now() + 300;
    let switch_on = |device: &Device, id: &str| {
        let on = sign(
            "jws-eddsa",
            &keys.ed25519_private,
            &command(id, "relay", json!("on"), expires),
        );
        mosquitto_pub(&broker, &commands_topic(), &on, dir.path());
        assert_eq!(reply(device)["status"], "done");
        wait_until("the relay is on", WAIT, || {
            last_state(&data_dir, "relay") == Some(json!("on"))
        });
        on
    };

    let mut device = start(&broker, &config, &data_dir, health_port);
    let first_on = switch_on(&device, "k-1");
    signal(&device.agent, "KILL");
    wait_until("the agent is gone", WAIT, || !device.agent.is_running());
    // Nothing switched it off: the relay is latched on, as real hardware would be.
    assert_eq!(last_state(&data_dir, "relay"), Some(json!("on")));
    let before_restart = changes_of(&data_dir, "relay").len();

    // The restarted agent finds it on and puts it in its safe state first thing.
    let device = start(&broker, &config, &data_dir, health_port);
    let after: Vec<Change> = changes_of(&data_dir, "relay")
        .into_iter()
        .skip(before_restart)
        .collect();
    assert_eq!(
        after.first(),
        Some(&Change {
            output: "relay".into(),
            state: json!("on"),
            inherited: true
        }),
        "{after:?}"
    );
    assert_eq!(
        after.get(1).map(|c| (c.state.clone(), c.inherited)),
        Some((json!("off"), false)),
        "{after:?}"
    );
    // The command ids survived the crash: the old command is not run again.
    assert_refused(&broker, &device, dir.path(), &first_on, "replayed");

    // Killed again while on; this time the service manager's ExecStopPost cleans up.
    switch_on(&device, "k-2");
    let mut agent = device.agent;
    signal(&agent, "KILL");
    wait_until("the agent is gone", WAIT, || !agent.is_running());
    let output = Command::new(edgewise_binary())
        .arg("safe-state")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "edgewise safe-state failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(last_state(&data_dir, "relay"), Some(json!("off")));
}

#[test]
fn commands_authenticated_with_a_shared_hmac_key_switch_outputs() {
    let (dir, broker, keys) = setup("actuation-hmac");
    let health_port = free_tcp_port();
    let data_dir = dir.path().join("data");
    // The device's key is the secret's text; the signer gets the same bytes (as hex). 32
    // bytes: HMAC-SHA256's minimum here, and a length pycose takes for a symmetric key.
    let secret = "c2b8f0e1d4a7c6b9e2f1a0d3c5b7e9f8";
    let device_key = write_file(dir.path(), "hmac.key", &format!("{secret}\n"));
    let signer_key = write_file(
        dir.path(),
        "hmac.hex",
        &secret
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    let config = write_file(
        dir.path(),
        "outputs.toml",
        &config_verified_by(
            broker.port,
            health_port,
            &format!("hmac_key = {{ file = \"{}\" }}", device_key.display()),
        ),
    );
    let device = start(&broker, &config, &data_dir, health_port);
    let expires = unix_now() + 300;

    // A JWS with HS256 (PyJWT) switches the relay on.
    let on = sign(
        "jws-hs256",
        &signer_key,
        &command("h-1", "relay", json!("on"), expires),
    );
    mosquitto_pub(&broker, &commands_topic(), &on, dir.path());
    assert_eq!(reply(&device)["status"], "done");
    // A COSE_Mac0 with HMAC 256/256 (pycose) sets the fan.
    let fan = sign(
        "cose-mac0",
        &signer_key,
        &command("h-2", "fan", json!(0.25), expires),
    );
    mosquitto_pub(&broker, &commands_topic(), &fan, dir.path());
    assert_eq!(reply(&device)["status"], "done");
    wait_until("the relay is on and the fan at a quarter", WAIT, || {
        last_state(&data_dir, "relay") == Some(json!("on"))
            && last_state(&data_dir, "fan") == Some(json!(0.25))
    });
    // An Ed25519 signature where a shared key is configured is refused.
    let wrong_kind = sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("h-3", "relay", json!("off"), expires),
    );
    assert_refused(&broker, &device, dir.path(), &wrong_kind, "bad signature");
}
