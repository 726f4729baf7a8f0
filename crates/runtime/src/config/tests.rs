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
    // A relay the room's temperature switches, so control is visible out of the box.
    let fan = config.actuator("fan").unwrap();
    assert_eq!((fan.driver.as_str(), fan.pin), ("gpio", Some(17)));
    let cooling = &config.pipelines[0].actions[0];
    assert_eq!(cooling.when.as_deref(), Some("warm"));
    assert_eq!(cooling.actuator.as_deref(), Some("fan"));
    assert_eq!(
        cooling.min_on,
        Some(HumanDuration(std::time::Duration::from_secs(60)))
    );
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

/// BASE with a relay, a PWM fan and one action; lines noted for the assertions.
fn control(extra_actuator: &str, action: &str) -> String {
    let mut text = BASE.replace(
        "sinks = [\"console\"]\n",
        &format!(
            "sinks = [\"console\"]\n\n[[pipelines.rules]]\nname = \"too-hot\"\nkind = \"threshold\"\nchannel = \"temperature\"\nabove = 30.0\n\n[[pipelines.actions]]\n{action}\n"
        ),
    );
    text.push_str(&format!(
        "\n[[actuators]]\nname = \"relay\"\ndriver = \"gpio\"\npin = 17\nsafe = \"off\"\n\n[[actuators]]\n{extra_actuator}\n"
    ));
    text
}

const FAN: &str = "name = \"fan\"\ndriver = \"pca9685\"\nbus = \"i2c-1\"\nchannel = 0\nfrequency = 1000.0\nsafe = 0.0";

#[test]
fn a_config_with_actuators_and_an_action_is_valid_and_maps_onto_board_specs() {
    let config = parse(
        &control(
            FAN,
            "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\"\nmin_on = \"60s\"",
        ),
        "site.toml",
    )
    .unwrap();
    let relay = config.actuator("relay").unwrap().spec();
    assert_eq!(
        relay.output,
        edgewise_boards::OutputSpec::Gpio {
            chip: None,
            line: 17,
            polarity: edgewise_sensors::actuator::Polarity::ActiveHigh
        }
    );
    assert_eq!(relay.safe_state, edgewise_sensors::actuator::State::Off);
    let fan = config.actuator("fan").unwrap().spec();
    assert_eq!(
        fan.output,
        edgewise_boards::OutputSpec::Pca9685 {
            bus: edgewise_boards::BusAddress::I2c { bus: 1 },
            address: 0x40,
            channel: 0,
            frequency_hz: 1000.0
        }
    );
    assert!(config.summary().contains(
        "Actuators: relay (gpio pin 17, safe off); fan (pca9685 i2c-1 channel 0 at 1000 Hz, safe 0)."
    ), "{}", config.summary());
}

#[test]
fn actuator_mistakes_are_reported_at_their_keys() {
    // The action's keys are on lines 24–27; the second actuator's from line 40.
    assert_eq!(
        errors(&control(
            "name = \"fan\"\ndriver = \"pca9685\"\nbus = \"i2c-1\"\nchannel = 16\nfrequency = 2000.0\nsafe = 1.5",
            "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\"\non = 0.5"
        )),
        [
            "site.toml:27:6: pipelines[0].actions[0].on: `relay` is a gpio switch: it takes \"on\" or \"off\", not a fraction",
            "site.toml:44:11: actuators[1].channel: the PCA9685 has channels 0 to 15, not 16",
            "site.toml:45:13: actuators[1].frequency: the PCA9685 makes 24 to 1526 Hz, not 2000 Hz",
            "site.toml:46:8: actuators[1].safe: 1.5 is not a duty fraction; expected 0.0 to 1.0",
        ]
    );
    assert_eq!(
        errors(&control(
            "name = \"servo\"\ndriver = \"pwm\"\nchannel = 0\nfrequency = 1000.0\nservo = { min_pulse_us = 1000, max_pulse_us = 2000, range_degrees = 180.0 }\nsafe = 0.5\nwatchdog = \"10s\"",
            "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\""
        )),
        [
            "site.toml:43:13: actuators[1].frequency: a servo's period must hold its longest pulse: at 1000 Hz the period is 1000 µs, shorter than max_pulse_us = 2000 µs; servos expect about 50 Hz",
            "site.toml:46:12: actuators[1].watchdog: no action or controller drives `servo`, so no control loop can keep its watchdog satisfied; remove `watchdog` or drive it from a pipeline",
        ]
    );
    assert_eq!(
        errors(&control("name = \"fan\"\ndriver = \"relay\"\nsafe = \"off\"", "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\"")),
        ["site.toml:41:10: actuators[1].driver: unknown actuator driver `relay`, expected one of: gpio, pwm, pca9685"]
    );
}

#[test]
fn a_watchdog_must_outlast_the_interval_of_the_sensor_that_drives_it() {
    let text = control(
        FAN,
        "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\"",
    )
    .replace("safe = \"off\"", "safe = \"off\"\nwatchdog = \"1s\"");
    assert_eq!(
        errors(&text),
        ["site.toml:38:12: actuators[0].watchdog: 1s is not longer than the interval of sensor `env` (1s) that drives `relay`: it would trip between two healthy readings"]
    );
}

#[test]
fn action_mistakes_name_what_is_unknown_or_missing() {
    assert_eq!(
        errors(&control(FAN, "name = \"cool\"\nwhen = \"too-hott\"\nactuator = \"fann\"")),
        [
            "site.toml:25:8: pipelines[0].actions[0].when: unknown rule `too-hott`, did you mean `too-hot`?",
            "site.toml:26:12: pipelines[0].actions[0].actuator: unknown actuator `fann`, did you mean `fan`?",
        ]
    );
    assert_eq!(
        errors(&control(FAN, "name = \"cool\"\nactuator = \"fan\"\nschedule = { every = \"1h\", on_for = \"2h\" }")),
        ["site.toml:26:37: pipelines[0].actions[0].schedule.on_for: must be shorter than `every` (1h), or the output never switches off"]
    );
    assert_eq!(
        errors(&control(FAN, "name = \"cool\"\nwhen = \"too-hot\"\nschedule = { daily = [\"06:00-08:00\"] }\nsample = { sensor = \"env\", interval = \"100ms\" }\nactuator = \"fan\"")),
        [
            "site.toml:26:12: pipelines[0].actions[0].schedule: an action follows a rule (`when`) or a `schedule`, not both",
            "site.toml:27:10: pipelines[0].actions[0].sample: an action sets an `actuator` or a sensor's `sample` interval, not both",
        ]
    );
    assert_eq!(
        errors(&control(FAN, "name = \"cool\"")),
        [
            "site.toml:23:1: pipelines[0].actions[0]: an action needs `when = \"<rule>\"` (a rule of this pipeline) or a `schedule`",
            "site.toml:23:1: pipelines[0].actions[0]: an action needs the `actuator` it sets (or `sample` for adaptive sampling)",
        ]
    );
}

#[test]
fn two_pipelines_driving_one_actuator_are_refused_naming_the_first() {
    let mut text = control(
        FAN,
        "name = \"cool\"\nwhen = \"too-hot\"\nactuator = \"relay\"",
    );
    text.push_str(
        "\n[[pipelines]]\nname = \"second\"\nsources = [\"env\"]\nsinks = [\"console\"]\n\n[[pipelines.controllers]]\nname = \"speed\"\nactuator = \"relay\"\nchannel = \"temperature\"\nsetpoint = 25.0\nkp = 0.1\ndirection = \"reverse\"\n",
    );
    assert_eq!(
        errors(&text),
        [
            "site.toml:54:12: pipelines[1].controllers[0].actuator: `relay` is a gpio switch; a controller sets a duty on a `pwm` or `pca9685` output (switch it with an action instead)",
            "site.toml:54:12: pipelines[1].controllers[0].actuator: `relay` is already driven by pipeline `environment`; one pipeline drives an actuator, so put these actions in `environment` (or use another actuator)",
        ]
    );
}

#[test]
fn the_commands_table_needs_an_mqtt_sink_and_a_key() {
    let text = format!(
        "{}\n[commands]\nsink = \"console\"\ntopic = \"edgewise/{{device}}/{{sensor}}\"\n",
        BASE
    );
    assert_eq!(
        errors(&text),
        [
            "site.toml:22:1: commands: commands must be signed: set `ed25519_public_key = \"<PEM file>\"` (Ed25519) or `hmac_key = { file = \"…\" }` (HMAC-SHA256)",
            "site.toml:23:8: commands.sink: `console` is a stdout sink; commands arrive over MQTT, so name an mqtt sink whose broker they come from",
            "site.toml:24:9: commands.topic: only the `{device}` placeholder applies to a command topic",
        ]
    );
}
