//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

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
