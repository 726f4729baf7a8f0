//! `edgewise safe-state` as the systemd unit's `ExecStopPost` runs it: the built binary on
//! real files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const NO_ACTUATORS: &str = r#"board = "sim"
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

#[test]
fn a_config_without_actuators_has_nothing_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    std::fs::write(&config, NO_ACTUATORS).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_edgewise"))
        .arg("safe-state")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "the config has no actuators: nothing to set\n"
    );
}

#[test]
fn a_config_that_does_not_check_is_refused_with_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    let text = format!(
        "{NO_ACTUATORS}[[actuators]]\nname = \"fan\"\ndriver = \"gpio\"\npin = 17\nsafe = 0.5\n"
    );
    std::fs::write(&config, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_edgewise"))
        .arg("safe-state")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "site.toml:21:8: actuators[0].safe: `fan` is a gpio switch: it takes \"on\" or \"off\", not a fraction"
        ),
        "{stderr}"
    );
}
