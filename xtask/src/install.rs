//! Installing what the tests need, when it is missing and we may: apt as root, cargo install
//! for cargo subcommands. Anything else gets a message saying what to install.

use std::path::{Path, PathBuf};

use crate::boards::{toolchain_for, AARCH64, CROSS_PACKAGES};
use crate::cmd::{cargo, on_path, Cmd, Fail};

fn is_root() -> bool {
    Cmd::new("id")
        .args(["-u"])
        .probe()
        .is_some_and(|uid| uid.trim() == "0")
}

fn cross_ready() -> bool {
    on_path("qemu-aarch64")
        && on_path("aarch64-linux-gnu-gcc")
        && toolchain_for(AARCH64).is_ok()
        && Path::new("/usr/lib/rustlib/src/rust/library").is_dir()
}

/// The aarch64 cross toolchain, the std sources for no_std builds, and qemu-user.
pub fn cross_toolchain() -> Result<(), Fail> {
    if cross_ready() {
        return Ok(());
    }
    if !is_root() || !on_path("apt-get") {
        return Err(Fail(format!(
            "the cross-build and qemu tests need Debian packages that are missing: as root, \
             `dpkg --add-architecture arm64 && apt-get update && apt-get install {}`",
            CROSS_PACKAGES.join(" ")
        )));
    }
    let has_arm64 = Cmd::new("dpkg")
        .args(["--print-foreign-architectures"])
        .probe()
        .is_some_and(|archs| archs.lines().any(|a| a.trim() == "arm64"));
    if !has_arm64 {
        Cmd::new("dpkg")
            .args(["--add-architecture", "arm64"])
            .run()?;
    }
    // `apt-get update` can fail for one architecture's index (a mirror mid-sync) while the
    // packages still install: judge by what got installed, and retry the whole step once.
    for attempt in 1..=2 {
        if let Err(Fail(e)) = Cmd::new("apt-get").args(["update", "-q"]).run() {
            eprintln!("xtask: apt-get update reported a problem (continuing): {e}");
        }
        let install = Cmd::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(CROSS_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run();
        if cross_ready() {
            return Ok(());
        }
        eprintln!("xtask: install attempt {attempt} did not complete: {install:?}");
    }
    Err(Fail(format!(
        "could not install {} with apt-get; install them by hand",
        CROSS_PACKAGES.join(" ")
    )))
}

/// cargo-deny, built from crates.io when missing.
pub fn cargo_deny() -> Result<(), Fail> {
    if cargo(&["deny", "--version"]).succeeds() {
        return Ok(());
    }
    cargo(&["install", "cargo-deny", "--locked"]).run()
}

/// A Python with the official TFLite runtime (PyPI ai-edge-litert), in a venv under
/// `target/`, for the benchmark that compares edgewise-infer with it. `None`, with the reason
/// printed, when it cannot be set up (no python3 venv, no PyPI).
pub fn litert_python() -> Option<PathBuf> {
    match python_venv(
        "litert-venv",
        &["ai-edge-litert", "numpy"],
        "import ai_edge_litert.interpreter, numpy",
    ) {
        Ok(python) => Some(python),
        Err(Fail(why)) => {
            eprintln!("xtask: no ai-edge-litert ({why}); comparison skipped");
            None
        }
    }
}

/// What the plain-Python pipeline of the footprint benchmark imports
/// (`tests/footprint/pipeline.py`): what a user would glue the same job together with.
const FOOTPRINT_PYTHON_PACKAGES: &[&str] = &["numpy", "paho-mqtt<3", "ai-edge-litert"];

/// A Python with [`FOOTPRINT_PYTHON_PACKAGES`], in a venv under `target/`.
pub fn footprint_python() -> Result<PathBuf, Fail> {
    python_venv(
        "footprint-venv",
        FOOTPRINT_PYTHON_PACKAGES,
        "import numpy, paho.mqtt.client, ai_edge_litert.interpreter",
    )
}

/// The Python of the venv `target/<name>`, created with `packages` from PyPI unless it already
/// runs `imports`.
fn python_venv(name: &str, packages: &[&str], imports: &str) -> Result<PathBuf, Fail> {
    let venv = crate::cmd::workspace_root().join("target").join(name);
    let python = venv.join("bin/python");
    let ready = |python: &Path| Cmd::new(python).args(["-c", imports]).probe().is_some();
    if python.is_file() && ready(&python) {
        return Ok(python);
    }
    let venv_arg = venv.display().to_string();
    Cmd::new("python3")
        .args(["-m", "venv", venv_arg.as_str()])
        .run()?;
    Cmd::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .run()?;
    if ready(&python) {
        Ok(python)
    } else {
        Err(Fail(format!(
            "installed {} into {venv_arg} but `{imports}` fails",
            packages.join(" ")
        )))
    }
}

/// Debian packages that provide the real protocol peers the link tests talk to on loopback.
const PEER_PACKAGES: &[&str] = &[
    "mosquitto",
    "mosquitto-clients",
    "libcoap3-bin",
    "mbpoll",
    "openssl",
    // `systemd-analyze verify` checks the unit `cargo xtask dist` ships.
    "systemd",
];

/// Programs that show the peer packages are installed.
const PEER_PROGRAMS: &[&str] = &[
    "mosquitto",
    "mosquitto_sub",
    "coap-server-notls",
    "mbpoll",
    "openssl",
    "systemd-analyze",
];

/// mosquitto, libcoap's server and client, mbpoll, openssl and systemd-analyze, installed
/// with apt when missing (as root). The tests that need them fail with a message naming the package when
/// they are still missing, so this only reports what it could not do.
pub fn protocol_peers() -> Result<(), Fail> {
    let missing = || -> Vec<&str> {
        PEER_PROGRAMS
            .iter()
            .copied()
            .filter(|program| !on_path(program))
            .collect()
    };
    if missing().is_empty() {
        return Ok(());
    }
    if !is_root() || !on_path("apt-get") {
        return Err(Fail(format!(
            "the protocol tests need {} (missing); as root: `apt-get install {}`",
            missing().join(", "),
            PEER_PACKAGES.join(" ")
        )));
    }
    for attempt in 1..=2 {
        if let Err(Fail(e)) = Cmd::new("apt-get").args(["update", "-q"]).run() {
            eprintln!("xtask: apt-get update reported a problem (continuing): {e}");
        }
        let install = Cmd::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(PEER_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run();
        if missing().is_empty() {
            return Ok(());
        }
        eprintln!("xtask: install attempt {attempt} did not complete: {install:?}");
    }
    Err(Fail(format!(
        "could not install {} with apt-get; install them by hand",
        PEER_PACKAGES.join(" ")
    )))
}

/// Python packages the protocol tests and benchmarks use as independent peers: pymodbus (a
/// Modbus TCP server), cbor2 (an independent CBOR decoder for SenML), paho-mqtt (the
/// Python MQTT client our throughput is compared with), and PyJWT and pycose (independent
/// signers of remote commands).
const PEER_PYTHON_PACKAGES: &[&str] = &[
    "pymodbus<4",
    "cbor2",
    "paho-mqtt<3",
    // Independent signers of remote commands: JWS (EdDSA, HS256) and COSE (Sign1, Mac0).
    "PyJWT>=2.8,<3",
    "cryptography>=42",
    "pycose>=1.1,<2",
];

/// A Python with [`PEER_PYTHON_PACKAGES`], in a venv under `target/`, created from PyPI when
/// missing. Tests find it through `EDGEWISE_PEERS_PYTHON`.
pub fn peers_python() -> Result<PathBuf, Fail> {
    python_venv(
        "peers-venv",
        PEER_PYTHON_PACKAGES,
        "import pymodbus, cbor2, paho.mqtt.client, jwt, cryptography, pycose",
    )
}
