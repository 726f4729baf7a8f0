//! `edgewise check` as a user runs it: the built binary on real files, with the exact output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A valid file; tests change one line of it.
const VALID: &str = r#"board = "sim"

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

/// A scratch directory for this test binary, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("edgewise-check-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgewise"))
        .arg("check")
        .arg(path)
        .output()
        .unwrap()
}

/// Runs `edgewise check` on `VALID` with `from` replaced by `to`; returns (success, stdout,
/// stderr) with the scratch path shown as `FILE`.
fn check_variant(name: &str, from: &str, to: &str) -> (bool, String, String) {
    assert!(VALID.contains(from), "VALID has no `{from}`");
    let scratch = Scratch::new(name);
    let path = scratch.file("site.toml", &VALID.replacen(from, to, 1));
    let output = check(&path);
    let shown = path.display().to_string();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&shown, "FILE");
    (
        output.status.success(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn a_valid_file_prints_a_summary_and_succeeds() {
    let (ok, stdout, stderr) = check_variant("valid", "", "");
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "FILE: OK\nDevice `test-device` on the sim board samples 1 sensor: env (bme280 on i2c-1 at \
         0x76: temperature, pressure, humidity every 1s). 1 pipeline: environment (env → \
         console). Readings and events go through a durable outbox per sink (outbox.redb in the data \
         directory) to 1 sink: console (stdout, json). No health endpoint. Log level info.\n"
    );
    assert_eq!(stderr, "");
}

#[test]
fn unknown_key() {
    let (ok, stdout, stderr) =
        check_variant("unknown-key", "interval = \"1s\"", "intervl = \"1s\"");
    assert!(!ok);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "FILE:10:1: sensors[0]: unknown key `intervl`, did you mean `interval`?\n\
         edgewise: FILE: 1 error\n"
    );
}

#[test]
fn wrong_type() {
    let (ok, _, stderr) = check_variant("wrong-type", "id = \"test-device\"", "id = 42");
    assert!(!ok);
    assert_eq!(
        stderr,
        "FILE:4:6: device.id: expected a string, found integer 42\nedgewise: FILE: 1 error\n"
    );
}

#[test]
fn missing_required_key() {
    let (ok, _, stderr) = check_variant("missing-key", "bus = \"i2c-1\"\n", "");
    assert!(!ok);
    assert_eq!(
        stderr,
        "FILE:6:1: sensors[0]: missing required key `bus`\nedgewise: FILE: 1 error\n"
    );
}

#[test]
fn unknown_sensor_in_a_pipeline_and_every_other_error() {
    let scratch = Scratch::new("semantic");
    let text = VALID
        .replace("sources = [\"env\"]", "sources = [\"imu\"]")
        .replace("encoder = \"json\"", "encoder = \"senml\"");
    let path = scratch.file("site.toml", &text);
    let output = check(&path);
    assert!(!output.status.success());
    let stderr =
        String::from_utf8_lossy(&output.stderr).replace(&path.display().to_string(), "FILE");
    assert_eq!(
        stderr,
        "FILE:14:12: pipelines[0].sources[0]: unknown sensor `imu`, expected `env`\n\
         FILE:20:11: sinks[0].encoder: unknown encoder `senml`, expected one of: json, \
         senml-json, senml-cbor, line\n\
         edgewise: FILE: 2 errors\n"
    );
}

#[test]
fn invalid_toml_syntax() {
    let (ok, _, stderr) = check_variant("syntax", "[[sinks]]", "[[sinks]");
    assert!(!ok);
    assert_eq!(
        stderr,
        "FILE:17:9: unclosed array table, expected `]`\nedgewise: FILE: 1 error\n"
    );
}

#[test]
fn missing_file() {
    let output = check(Path::new("/nonexistent.toml"));
    assert!(!output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "edgewise: /nonexistent.toml: cannot read the configuration: No such file or directory \
         (os error 2)\n"
    );
}

#[test]
fn the_example_configs_check_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs");
    for name in ["sim.toml", "linux.toml", "rpi4.toml"] {
        let output = check(&examples.join(name));
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
