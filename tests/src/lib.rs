//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

pub mod agent;
pub mod bench;
pub mod peers;

/// The path of an external program a test needs, or a panic that says how to get it. A test
/// that needs a peer must fail loudly when the peer is missing, never pass silently.
pub fn require_program(name: &str, how_to_install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("this test needs `{name}`, which is not on PATH: {how_to_install} (or run `cargo xtask test`, which installs it)")
        })
}

/// A file a test needs that an earlier build step produces, or a panic naming that step.
pub fn require_artifact(env_var: &str, produced_by: &str) -> PathBuf {
    let path = std::env::var_os(env_var).map(PathBuf::from).unwrap_or_else(|| {
        panic!("this test needs ${env_var}, the output of `{produced_by}`; run it through `cargo xtask test`, which builds it and sets the variable")
    });
    assert!(
        path.is_file(),
        "${env_var} points at {}, which does not exist: run `{produced_by}`",
        path.display()
    );
    path
}

/// A BME280 configuration with the same oversampling on every channel, forced mode, no filter.
pub fn bme280_oversampling_everywhere(
    osrs: edgewise_sensors::bme280::Oversampling,
) -> edgewise_sensors::bme280::Config {
    edgewise_sensors::bme280::Config {
        temperature: osrs,
        pressure: osrs,
        humidity: osrs,
        ..edgewise_sensors::bme280::Config::default()
    }
}

/// The same for the `bme280` crate (0.5.1) used as a differential oracle: all channels at
/// `osrs`, IIR filter off.
pub fn reference_crate_config(osrs: bme280::Oversampling) -> bme280::Configuration {
    bme280::Configuration::default()
        .with_temperature_oversampling(osrs)
        .with_pressure_oversampling(osrs)
        .with_humidity_oversampling(osrs)
        .with_iir_filter(bme280::IIRFilter::Off)
}

/// The `edgewise` binary of this build (`target/<profile>/edgewise`, next to the test's own
/// `deps/` directory), or `$EDGEWISE_BIN`. `cargo test --workspace` builds it (its package's
/// tests need it); run alone, build it first with `cargo build -p edgewise`.
pub fn edgewise_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("EDGEWISE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let candidate = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("edgewise"))
        .unwrap_or_default();
    assert!(
        candidate.is_file(),
        "this test runs the edgewise binary, not found at {}: build it with `cargo build -p edgewise` \
         (or run `cargo xtask test`)",
        candidate.display()
    );
    candidate
}
