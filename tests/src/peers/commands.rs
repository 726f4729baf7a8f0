//! Signed remote commands for the tests: keys made by openssl, messages signed by the
//! independent Python signer (`peers/command_signer.py`: PyJWT and pycose), published with
//! `mosquitto_pub`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::mosquitto::Mosquitto;
use super::peers_python;
use crate::require_program;

/// The HMAC secret the tests share with the device, as hex digits.
pub const HMAC_SECRET_HEX: &str =
    "8f2c0d6b4a1e9375c2b8f0e1d4a7c6b9e2f1a0d3c5b7e9f8a6d4c2b0e1f3a5c7";

/// Key files in a test's directory.
#[derive(Debug)]
pub struct Keys {
    /// The operator's Ed25519 private key (PEM).
    pub ed25519_private: PathBuf,
    /// Its public key (PEM, SPKI), what the device holds.
    pub ed25519_public: PathBuf,
    /// Another Ed25519 private key, the device does not trust.
    pub other_private: PathBuf,
    /// The HMAC secret's hex digits.
    pub hmac_hex: PathBuf,
}

/// Runs openssl with `args`; fails the test if it fails.
pub fn openssl(args: &[&str]) {
    let openssl = require_program("openssl", "apt-get install openssl");
    let status = Command::new(openssl)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run openssl {args:?}: {e}"));
    assert!(status.success(), "openssl {args:?} failed: {status}");
}

/// Makes the keys in `dir` with openssl.
pub fn keys(dir: &Path) -> Keys {
    let path = |name: &str| dir.join(name);
    let text = |p: &Path| {
        p.to_str()
            .unwrap_or_else(|| panic!("non-UTF-8 path"))
            .to_string()
    };
    let keys = Keys {
        ed25519_private: path("operator.pem"),
        ed25519_public: path("operator.pub.pem"),
        other_private: path("intruder.pem"),
        hmac_hex: path("hmac.hex"),
    };
    for private in [&keys.ed25519_private, &keys.other_private] {
        openssl(&["genpkey", "-algorithm", "ed25519", "-out", &text(private)]);
    }
    openssl(&[
        "pkey",
        "-in",
        &text(&keys.ed25519_private),
        "-pubout",
        "-out",
        &text(&keys.ed25519_public),
    ]);
    std::fs::write(&keys.hmac_hex, HMAC_SECRET_HEX).unwrap_or_else(|e| panic!("{e}"));
    keys
}

/// The HMAC secret's bytes.
pub fn hmac_secret() -> Vec<u8> {
    (0..HMAC_SECRET_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&HMAC_SECRET_HEX[i..i + 2], 16).unwrap_or_default())
        .collect()
}

/// The message the Python signer makes for `command` in `mode`.
pub fn sign(mode: &str, key: &Path, command: &serde_json::Value) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/command_signer.py");
    let output = Command::new(peers_python())
        .arg(script)
        .arg(mode)
        .arg(key)
        .arg(command.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the command signer: {e}"));
    assert!(
        output.status.success(),
        "command_signer.py {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hex = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Publishes `message` (bytes, at QoS 1) to `topic` with `mosquitto_pub`, through a file
/// in `dir` so binary COSE messages pass unchanged.
pub fn mosquitto_pub(broker: &Mosquitto, topic: &str, message: &[u8], dir: &Path) {
    let file = dir.join("message.bin");
    std::fs::write(&file, message).unwrap_or_else(|e| panic!("{e}"));
    let tool = require_program("mosquitto_pub", "apt-get install mosquitto-clients");
    let status = Command::new(tool)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port.to_string(),
            "-q",
            "1",
            "-t",
            topic,
        ])
        .arg("-f")
        .arg(&file)
        .status()
        .unwrap_or_else(|e| panic!("cannot run mosquitto_pub: {e}"));
    assert!(status.success(), "mosquitto_pub failed: {status}");
}
