//! Boards, their target triples, and which Rust toolchain can build for them here.

use std::path::{Path, PathBuf};

use crate::cmd::{cargo, on_path, target_dir, workspace_root, Cmd, Fail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// Raspberry Pi 4/5 on 64-bit Raspberry Pi OS.
    Rpi4,
    /// Raspberry Pi Zero 2 W: its Cortex-A53 runs 64-bit Raspberry Pi OS, so the same aarch64
    /// build serves it (and runs faster than armv7 there).
    RpiZero2,
    /// Any aarch64 Linux board with glibc.
    LinuxArm64,
    /// The machine running xtask.
    Host,
}

impl Board {
    pub fn from_name(name: &str) -> Result<Self, Fail> {
        match name {
            "rpi4" => Ok(Self::Rpi4),
            "rpi-zero2" => Ok(Self::RpiZero2),
            "linux-arm64" => Ok(Self::LinuxArm64),
            "host" => Ok(Self::Host),
            other => Err(Fail(format!(
                "unknown board `{other}`: one of rpi4, rpi-zero2, linux-arm64, host"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rpi4 => "rpi4",
            Self::RpiZero2 => "rpi-zero2",
            Self::LinuxArm64 => "linux-arm64",
            Self::Host => "host",
        }
    }

    /// The `edgewise` features a board's binary is built with. The sim board stays in every
    /// build so a user can try the agent on the device before wiring sensors.
    pub fn agent_features(self) -> &'static str {
        match self {
            Self::Rpi4 | Self::RpiZero2 => "board-rpi,board-sim",
            Self::LinuxArm64 | Self::Host => "board-linux,board-sim",
        }
    }

    /// `None` for the host: build without `--target`.
    pub fn target(self) -> Option<&'static str> {
        match self {
            Self::Rpi4 | Self::RpiZero2 | Self::LinuxArm64 => Some(AARCH64),
            Self::Host => None,
        }
    }
}

pub const AARCH64: &str = "aarch64-unknown-linux-gnu";
const AARCH64_LINKER: &str = "aarch64-linux-gnu-gcc";
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";
/// The sysroot's own glibc. Installing `libstd-rust-web-dev:arm64` also installs the arm64
/// multiarch `libc6` in /lib/aarch64-linux-gnu, a newer build than the cross sysroot's
/// `ld-linux-aarch64.so.1`; the loader finds that libc first, and the mismatched pair hangs
/// in the first `pthread_create`. Pointing the loader at its own libc avoids it.
const AARCH64_SYSROOT_LIBS: &str = "/usr/aarch64-linux-gnu/lib";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
/// Debian's rustc keeps target standard libraries and the library sources here.
const DEBIAN_RUSTLIB: &str = "/usr/lib/rustlib";

/// Debian packages that provide what rustup cannot download here: a rustc with aarch64's std,
/// the cross linker and C library, the std sources for no_std builds, and qemu-user.
pub const CROSS_PACKAGES: &[&str] = &[
    "rustc-web",
    "libstd-rust-web-dev:arm64",
    "rust-web-src",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "qemu-user",
];

/// How to build for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// The toolchain running xtask has the target (rustup, or the host itself).
    Native,
    /// Debian's rustc-web, which ships standard libraries for other architectures.
    DebianRustc,
}

fn rustup_has_target(target: &str) -> bool {
    Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .probe()
        .is_some_and(|out| out.lines().any(|line| line.trim() == target))
}

fn install_hint() -> String {
    format!(
        "either `rustup target add <target>`, or on Debian/Ubuntu (as root): \
         `dpkg --add-architecture arm64 && apt-get update && apt-get install {}` \
         (`cargo xtask test` does this by itself when run as root)",
        CROSS_PACKAGES.join(" ")
    )
}

/// The toolchain for a std target: rustup's when it has the target, else Debian's rustc.
pub fn toolchain_for(target: &str) -> Result<Toolchain, Fail> {
    if rustup_has_target(target) {
        return Ok(Toolchain::Native);
    }
    if Path::new(DEBIAN_RUSTC).is_file()
        && Path::new(DEBIAN_RUSTLIB).join(target).join("lib").is_dir()
    {
        return Ok(Toolchain::DebianRustc);
    }
    Err(Fail(format!(
        "no Rust standard library for {target}: {}",
        install_hint()
    )))
}

/// A cargo command for `target` with the right toolchain. Debian's rustc builds into its own
/// target directory so that switching compilers never invalidates the host build.
fn cargo_for(toolchain: Toolchain, args: &[&str]) -> (Cmd, PathBuf) {
    match toolchain {
        Toolchain::Native => (cargo(args), target_dir()),
        Toolchain::DebianRustc => {
            let dir = target_dir().join("debian-rustc");
            let cmd = cargo(args)
                .env("RUSTC", DEBIAN_RUSTC)
                .env("CARGO_TARGET_DIR", &dir);
            (cmd, dir)
        }
    }
}

/// The example programs: each directory under `examples/` is a package of that name.
fn example_packages() -> Result<Vec<String>, Fail> {
    let dir = workspace_root().join("examples");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Fail(format!("cannot list {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Builds every example for `board`; returns the directory holding the binaries.
pub fn build_examples(board: Board, release: bool) -> Result<PathBuf, Fail> {
    let packages = example_packages()?;
    let mut args = vec!["build"];
    for package in &packages {
        args.extend(["-p", package.as_str()]);
    }
    if release {
        args.push("--release");
    }
    build_for(board, args, release)
}

/// Builds the release `edgewise` binary for `board` with exactly `features` (no default
/// features); returns its path.
pub fn build_agent(board: Board, features: &str) -> Result<PathBuf, Fail> {
    let args = vec![
        "build",
        "--release",
        "-p",
        "edgewise",
        "--no-default-features",
        "--features",
        features,
    ];
    Ok(build_for(board, args, true)?.join("edgewise"))
}

/// Runs `cargo <args>` for `board` (adding `--target` and choosing the toolchain for a cross
/// build); returns the directory the profile's binaries land in.
fn build_for(board: Board, mut args: Vec<&str>, release: bool) -> Result<PathBuf, Fail> {
    let profile = if release { "release" } else { "debug" };
    let Some(target) = board.target() else {
        let (cmd, dir) = cargo_for(Toolchain::Native, &args);
        cmd.run()?;
        return Ok(dir.join(profile));
    };
    let toolchain = toolchain_for(target)?;
    if !on_path(AARCH64_LINKER) {
        return Err(Fail(format!(
            "the linker {AARCH64_LINKER} is missing: {}",
            install_hint()
        )));
    }
    args.extend(["--target", target]);
    let (cmd, dir) = cargo_for(toolchain, &args);
    cmd.run()?;
    Ok(dir.join(target).join(profile))
}

/// Builds a no_std crate for a bare-metal target: rustup's installed target, else Debian's
/// rustc rebuilding `core` from rust-web-src (`-Zbuild-std`, enabled by RUSTC_BOOTSTRAP).
pub fn build_nostd(package: &str, target: &str, features: &[&str]) -> Result<(), Fail> {
    let features = features.join(",");
    let mut args = vec!["build", "-p", package, "--target", target];
    if !features.is_empty() {
        args.extend(["--features", features.as_str()]);
    }
    if rustup_has_target(target) {
        return cargo(&args).run();
    }
    let library = Path::new(DEBIAN_RUSTLIB).join("src/rust/library");
    if !Path::new(DEBIAN_RUSTC).is_file() || !library.is_dir() {
        return Err(Fail(format!(
            "cannot build for {target}: `rustup target add {target}`, or install Debian's \
             rustc-web and rust-web-src (`apt-get install rustc-web rust-web-src`)"
        )));
    }
    // alloc too: edgewise-micro allocates (once, at model load).
    args.push("-Zbuild-std=core,alloc");
    let (cmd, _) = cargo_for(Toolchain::DebianRustc, &args);
    cmd.env("RUSTC_BOOTSTRAP", "1").run()
}

/// A qemu-user command that runs `binary` built for `board`.
pub fn qemu(board: Board, binary: &Path, args: &[String]) -> Result<Cmd, Fail> {
    let Some(target) = board.target() else {
        return Ok(Cmd::new(binary).args(args));
    };
    debug_assert_eq!(target, AARCH64);
    if !on_path("qemu-aarch64") {
        return Err(Fail(
            "qemu-aarch64 is missing: `apt-get install qemu-user` (Debian/Ubuntu)".into(),
        ));
    }
    if !binary.is_file() {
        return Err(Fail(format!(
            "{} does not exist: is that an example name?",
            binary.display()
        )));
    }
    Ok(Cmd::new("qemu-aarch64")
        .args(["-L", AARCH64_SYSROOT])
        .env("LD_LIBRARY_PATH", AARCH64_SYSROOT_LIBS)
        .arg_path(binary)
        .args(args))
}
