//! The config module against whole files: each mistake a user can make, with the exact
//! message and position they will see.

use std::path::Path;

use super::*;

/// A small valid file; tests change one thing in it. Line numbers are noted for the
/// assertions below.
const BASE: &str = r#"board = "sim"

[device]
id = "test-device"

[[sensors]]
name = "env"
driver = "bme280"
bus = "i2c-1"
interval = "1s"

[[pipelines]]
name = "environment"
sources = ["env"]
sinks = ["console"]

[[sinks]]
name = "console"
transport = "stdout"
encoder = "json"
"#;

/// The errors of `text` as the user sees them, one string each.
fn errors(text: &str) -> Vec<String> {
    match parse(text, "site.toml") {
        Ok(_) => Vec::new(),
        Err(error) => error.errors().iter().map(ToString::to_string).collect(),
    }
}

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no `{from}`");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_file_is_valid() {
    let config = parse(BASE, "site.toml").unwrap();
    assert_eq!(config.sensors[0].effective_address(), Some(0x76));
    assert_eq!(
        config.sensors[0].effective_channels(),
        ["temperature", "pressure", "humidity"]
    );
    assert_eq!(config.log_level, LogLevel::Info);
    assert_eq!(config.outbox, OutboxSettings::default());
}

#[test]
fn unknown_key_with_a_close_match() {
    assert_eq!(
        errors(&with("interval = \"1s\"", "intervall = \"1s\"")),
        ["site.toml:10:1: sensors[0]: unknown key `intervall`, did you mean `interval`?"]
    );
}

#[test]
fn unknown_key_without_a_close_match_lists_the_allowed_keys() {
    assert_eq!(
        errors(&with("id = \"test-device\"", "id = \"test-device\"\ncolour = \"red\"")),
        ["site.toml:5:1: device: unknown key `colour`, expected one of: id, description, location"]
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        errors(&with("bus = \"i2c-1\"", "bus = \"i2c-1\"\naddress = \"0x76\"")),
        ["site.toml:10:11: sensors[0].address: expected an integer from 0 to 255, found string \"0x76\""]
    );
    assert_eq!(
        errors(&with("interval = \"1s\"", "interval = 1")),
        ["site.toml:10:12: sensors[0].interval: a bare number (1) has no unit; expected a duration \
          with a unit, like \"250ms\", \"1s\" or \"5m\" (units: ns, us, ms, s, m, h, d)"]
    );
}

#[test]
fn missing_required_key() {
    assert_eq!(
        errors(&with("driver = \"bme280\"\n", "")),
        ["site.toml:6:1: sensors[0]: missing required key `driver`"]
    );
    assert_eq!(
        errors(&with("[device]\nid = \"test-device\"\n", "")),
        ["site.toml:1:1: missing required key `device`"]
    );
}

#[test]
fn unknown_sensor_in_a_pipeline() {
    assert_eq!(
        errors(&with(
            "sources = [\"env\"]",
            "sources = [\"env\", \"enviro\"]"
        )),
        ["site.toml:14:19: pipelines[0].sources[1]: unknown sensor `enviro`, expected `env`"]
    );
    assert_eq!(
        errors(&with("sources = [\"env\"]", "sources = [\"evn\"]")),
        ["site.toml:14:12: pipelines[0].sources[0]: unknown sensor `evn`, did you mean `env`?"]
    );
}

#[test]
fn invalid_syntax() {
    assert_eq!(
        errors(&with("[[sinks]]", "[[sinks]")),
        ["site.toml:17:9: unclosed array table, expected `]`"]
    );
    assert_eq!(
        errors(&with("name = \"console\"", "name = \"console")),
        ["site.toml:18:16: invalid basic string, expected `\"`"]
    );
}

#[test]
fn missing_file() {
    let error = load(Path::new("/nonexistent.toml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "/nonexistent.toml: cannot read the configuration: No such file or directory (os error 2)"
    );
}

#[test]
fn every_semantic_error_is_reported_in_file_order() {
    let text = BASE
        .replace("interval = \"1s\"", "interval = \"0s\"")
        .replace("sinks = [\"console\"]", "sinks = [\"console\", \"cloud\"]")
        .replace("encoder = \"json\"", "encoder = \"xml\"")
        .replace("driver = \"bme280\"", "driver = \"bme208\"");
    assert_eq!(
        errors(&text),
        [
            "site.toml:8:10: sensors[0].driver: unknown driver `bme208`, did you mean `bme280`?",
            "site.toml:10:12: sensors[0].interval: must be longer than zero, e.g. \"1s\"",
            "site.toml:15:21: pipelines[0].sinks[1]: unknown sink `cloud`, expected `console`",
            "site.toml:20:11: sinks[0].encoder: unknown encoder `xml`, expected one of: json, \
             senml-json, senml-cbor, line",
        ]
    );
}

#[test]
fn board_and_driver_combinations_that_cannot_work() {
    let sht_on_spi = with(
        "driver = \"bme280\"\nbus = \"i2c-1\"",
        "driver = \"sht3x\"\nbus = \"spi-0.0\"",
    );
    assert_eq!(
        errors(&sht_on_spi),
        ["site.toml:9:7: sensors[0].bus: the sht3x speaks I²C only; expected `i2c-N`"]
    );
    let rpi_hdmi_bus = with("board = \"sim\"", "board = \"rpi\"").replace("i2c-1", "i2c-2");
    assert_eq!(
        errors(&rpi_hdmi_bus),
        [
            "site.toml:9:7: sensors[0].bus: the rpi board has no I²C bus 2 for sensors (I2C2 and \
          I2C7 drive HDMI); use i2c-1 (pins 3 and 5) or i2c-0, i2c-3 … i2c-6 after enabling \
          their overlay"
        ]
    );
    let wrong_address = with("bus = \"i2c-1\"", "bus = \"i2c-1\"\naddress = 0x68");
    assert_eq!(
        errors(&wrong_address),
        ["site.toml:10:11: sensors[0].address: the bme280 answers on 0x76 or 0x77, not 0x68"]
    );
    let cbor_on_stdout = with("encoder = \"json\"", "encoder = \"senml-cbor\"");
    assert_eq!(
        errors(&cbor_on_stdout),
        [
            "site.toml:20:11: sinks[0].encoder: senml-cbor is binary and the stdout transport \
          writes lines; use json, senml-json or line"
        ]
    );
}

#[test]
fn unknown_channel() {
    let text = with(
        "bus = \"i2c-1\"",
        "bus = \"i2c-1\"\nchannels = [\"temprature\"]",
    );
    assert_eq!(
        errors(&text),
        ["site.toml:10:13: sensors[0].channels[0]: unknown bme280 channel `temprature`, did you \
          mean `temperature`?"]
    );
}

#[test]
fn rules_are_checked_per_kind() {
    let rule = with(
        "sinks = [\"console\"]\n",
        "sinks = [\"console\"]\n[[pipelines.rules]]\nname = \"hot\"\nkind = \"threshold\"\n\
         channel = \"temprature\"\nfor_windows = 3\n",
    );
    assert_eq!(
        errors(&rule),
        [
            "site.toml:16:1: pipelines[0].rules[0].above: a threshold rule needs `above`, `below` \
             or both",
            "site.toml:19:11: pipelines[0].rules[0].channel: unknown channel `temprature`, did \
             you mean `temperature`?",
            "site.toml:20:15: pipelines[0].rules[0].for_windows: does not apply to a `threshold` \
             rule (it takes: channel, above, below)",
        ]
    );
}

#[test]
fn an_inline_secret_is_refused_and_never_printed() {
    let text = format!(
        "{}{}",
        BASE.replace("transport = \"stdout\"", "transport = \"mqtt\""),
        "[sinks.mqtt]\nhost = \"broker\"\n[sinks.mqtt.credentials]\nusername = \"dev\"\n\
         password = \"hunter2\"\n"
    );
    let shown = errors(&text);
    assert_eq!(
        shown,
        ["site.toml:25:12: sinks[0].mqtt.credentials.password: expected a table naming where the \
          secret is: `{ file = \"/path\" }` or `{ env = \"VARIABLE\" }` (inline secrets are not \
          accepted)"]
    );
    assert!(shown.iter().all(|line| !line.contains("hunter2")));
}

#[test]
fn sinks_map_onto_the_link_configs_with_secrets_hidden() {
    let dir = std::env::temp_dir().join(format!("edgewise-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let password_file = dir.join("mqtt-password");
    std::fs::write(&password_file, "s3cret\n").unwrap();
    let text = format!(
        "{}[sinks.mqtt]\nhost = \"broker.local\"\nprotocol = \"5\"\nqos = 0\n\
         [sinks.mqtt.credentials]\nusername = \"dev\"\npassword = {{ file = {:?} }}\n",
        BASE.replace("transport = \"stdout\"", "transport = \"mqtt\"")
            .replace(
                "encoder = \"json\"",
                "encoder = \"senml-cbor\"\ntopic = \"plant/{device}/{sensor}\""
            ),
        password_file.display().to_string()
    );
    let config = parse(&text, "site.toml").unwrap();
    let TransportConfig::Mqtt(mqtt) = config.sinks[0].transport_config(&config.device).unwrap()
    else {
        panic!("not an MQTT config");
    };
    assert_eq!(mqtt.host, "broker.local");
    assert_eq!(mqtt.port, 1883);
    assert_eq!(mqtt.client_id, "test-device");
    assert_eq!(mqtt.topic, "plant/{device}/{sensor}");
    assert_eq!(
        mqtt.protocol,
        edgewise_link::transport::mqtt::ProtocolVersion::V5
    );
    assert_eq!(mqtt.qos, edgewise_link::transport::mqtt::Qos::AtMostOnce);
    assert_eq!(mqtt.encoder.content_type(), "application/senml+cbor");
    let credentials = mqtt.credentials.as_ref().unwrap();
    assert_eq!(credentials.password, "s3cret");
    assert!(!format!("{mqtt:?}").contains("s3cret"));
    assert!(!format!("{config:?}").contains("s3cret"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_outbox_maps_onto_the_link_config() {
    let text = format!(
        "{BASE}[outbox]\npath = \"/var/lib/edgewise/outbox.redb\"\nmax_bytes = \"8MiB\"\n\
         when_full = \"refuse-new\"\n"
    );
    let config = parse(&text, "site.toml").unwrap();
    let outbox = config.outbox.outbox_config().unwrap();
    assert_eq!(outbox.limits.max_bytes, Some(8 << 20));
    assert_eq!(outbox.limits.max_readings, Some(1_000_000));
    assert_eq!(
        outbox.when_full,
        edgewise_link::outbox::FullPolicy::RefuseNew
    );
    assert!(outbox.encryption.is_none());
}

#[test]
fn the_health_endpoint_listens_on_loopback_only() {
    let text = format!("{BASE}[health]\nlisten = \"0.0.0.0:9464\"\n");
    assert_eq!(
        errors(&text),
        [
            "site.toml:22:10: health.listen: 0.0.0.0 is not a loopback address; the endpoint has \
          no authentication, so it listens on 127.0.0.1 or ::1 only (put a proxy in front to \
          expose it)"
        ]
    );
}

#[test]
fn the_built_in_config_runs_both_pipelines_on_the_sim_board() {
    let config = default_config().unwrap();
    assert_eq!(config.board, Board::Sim);
    let names: Vec<&str> = config.pipelines.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["environment", "vibration"]);
    assert_eq!(config.sensors[0].driver, "bme280");
    let vibration = &config.pipelines[1];
    assert!(vibration
        .features
        .as_ref()
        .is_some_and(|f| f.spectral.is_some()));
    assert!(vibration.detector.is_some());
    assert_eq!(config.sinks[0].transport, "file");
    assert!(config.summary().starts_with(
        "Device `edgewise-sim` on the sim board samples 2 sensors: environment (bme280 on i2c-1 \
         at 0x76: temperature, pressure, humidity every 1s)"
    ));
}

#[test]
fn the_example_configs_check_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs");
    for name in ["sim.toml", "linux.toml", "rpi4.toml"] {
        let path = examples.join(name);
        if let Err(error) = load(&path) {
            panic!("{}:\n{error}", path.display());
        }
    }
}
