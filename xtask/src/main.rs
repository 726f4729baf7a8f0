//! `cargo xtask <command>`: one binary, subcommands, every cargo call through `$CARGO`.

mod boards;
mod cmd;
mod dist;
mod footprint;
mod install;

use std::process::ExitCode;

use boards::Board;
use cmd::{cargo, Fail, TestTotals};

const USAGE: &str = "\
usage: cargo xtask <command>

  test                       install what the tests need (when missing) and run every test
  ci                         fmt, clippy, docs, test, check-nostd, rpi4 cross build + qemu
                             smoke run, cargo deny (what .ci/run calls)
  check-nostd                build edgewise-sensors (thumbv7em, thumbv6m) and edgewise-micro (thumbv7em) bare-metal
  build --board B [--release]
                             cross-build the examples for a board: rpi4, rpi-zero2, linux-arm64, host
  qemu --board B [--release] -- EXAMPLE [ARGS…]
                             run a cross-built example under qemu-user
  dist --board B [--onnx]    target/dist/edgewise-<version>-<board>.tar.gz: the release
                             binary, an example config, a hardened systemd unit, install.sh
                             (--onnx adds the ONNX backend, tract: megabytes more)
  bench                      run the benchmarks and print their tables, then bench footprint
  bench footprint [--seconds N] [--no-sizes]
                             the agent beside the same pipeline in plain Python: memory, CPU,
                             wake-ups, startup to first delivery (N s each, default 60), and
                             release binary sizes per board
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("ci") => ci(),
        Some("check-nostd") => check_nostd(),
        Some("build") => build_command(&args[1..]),
        Some("qemu") => qemu_command(&args[1..]),
        Some("dist") => dist_command(&args[1..]),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("footprint") => footprint::Options::parse(&args[2..]).and_then(footprint::bench),
            None => bench(),
            Some(other) => Err(Fail(format!("unknown benchmark `{other}`\n\n{USAGE}"))),
        },
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Fail(format!("unknown command `{other}`\n\n{USAGE}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(message)) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--board B` and `--release` from the arguments before a `--`.
fn parse_board_args(args: &[String]) -> Result<(Board, bool), Fail> {
    let mut board = None;
    let mut release = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--board" => {
                let name = it
                    .next()
                    .ok_or_else(|| Fail("--board needs a value".into()))?;
                board = Some(Board::from_name(name)?);
            }
            "--release" => release = true,
            other => return Err(Fail(format!("unexpected argument `{other}`\n\n{USAGE}"))),
        }
    }
    let board = board.ok_or_else(|| Fail(format!("--board is required\n\n{USAGE}")))?;
    Ok((board, release))
}

fn build_command(args: &[String]) -> Result<(), Fail> {
    let (board, release) = parse_board_args(args)?;
    let dir = boards::build_examples(board, release)?;
    println!("examples for {} are in {}", board.name(), dir.display());
    Ok(())
}

fn dist_command(args: &[String]) -> Result<(), Fail> {
    let onnx = args.iter().any(|a| a == "--onnx");
    let rest: Vec<String> = args.iter().filter(|a| *a != "--onnx").cloned().collect();
    let (board, release) = parse_board_args(&rest)?;
    if release {
        return Err(Fail(
            "dist always builds in release mode; drop --release".into(),
        ));
    }
    dist::dist(board, onnx).map(drop)
}

fn qemu_command(args: &[String]) -> Result<(), Fail> {
    let split = args.iter().position(|a| a == "--").ok_or_else(|| {
        Fail("usage: cargo xtask qemu --board B [--release] -- EXAMPLE [ARGS…]".into())
    })?;
    let (board, release) = parse_board_args(&args[..split])?;
    let (example, example_args) = args[split + 1..]
        .split_first()
        .ok_or_else(|| Fail("name the example to run after `--`".into()))?;
    let dir = boards::build_examples(board, release)?;
    boards::qemu(board, &dir.join(example), example_args)?.run()
}

/// Everything the tests need that cargo does not build (qemu-user and the aarch64 toolchain for
/// the cross-built binary test; mosquitto, libcoap, mbpoll and a Python with pymodbus, cbor2
/// and paho-mqtt for the protocol tests), then every test.
fn test() -> Result<(), Fail> {
    let totals = run_all_tests()?;
    println!("\ntests: {totals}");
    Ok(())
}

/// Runs every test; the totals are returned when all passed.
fn run_all_tests() -> Result<TestTotals, Fail> {
    install::cross_toolchain()?;
    install::protocol_peers()?;
    let peers_python = install::peers_python()?;
    let dir = boards::build_examples(Board::Rpi4, true)?;
    // The agent as `cargo xtask dist --board rpi4` ships it.
    let agent = boards::build_agent(Board::Rpi4, Board::Rpi4.agent_features())?;
    let mut totals = TestTotals::default();
    let result = cargo(&["test", "--workspace", "--all-targets", "--no-fail-fast"])
        .env("EDGEWISE_RPI4_BME280_READ", dir.join("bme280-read"))
        .env("EDGEWISE_RPI4_MODEL_RUN", dir.join("model-run"))
        .env("EDGEWISE_RPI4_AGENT", &agent)
        .env("EDGEWISE_PEERS_PYTHON", &peers_python)
        .run_counting_tests(&mut totals)
        // Doc tests are a separate pass (--all-targets leaves them out).
        .and_then(|()| cargo(&["test", "--workspace", "--doc"]).run_counting_tests(&mut totals));
    match result {
        Ok(()) => Ok(totals),
        Err(Fail(e)) => Err(Fail(format!("{e}\ntests: {totals}"))),
    }
}

/// Every bench target (not the libraries' unit tests, which would print as "ignored"), with
/// ai-edge-litert available for the inference comparison; then the footprint comparison.
fn bench() -> Result<(), Fail> {
    let mut command = cargo(&["bench", "--workspace", "--bench", "*"]);
    if let Some(python) = install::litert_python() {
        command = command.env("EDGEWISE_LITERT_PYTHON", python);
    }
    // The protocol benchmarks run against mosquitto and compare with paho-mqtt.
    install::protocol_peers()?;
    command = command.env("EDGEWISE_PEERS_PYTHON", install::peers_python()?);
    command.run()?;
    footprint::bench(footprint::Options::parse(&[])?)
}

fn check_nostd() -> Result<(), Fail> {
    for target in ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"] {
        boards::build_nostd("edgewise-sensors", target, &["float"])?;
        // Generic drivers are only code-generated where used: this crate uses each of them,
        // blocking and async, with concrete bus types.
        boards::build_nostd("edgewise-nostd-check", target, &[])?;
        println!("edgewise-sensors builds for {target}: every driver, blocking and async (no_std)");
    }
    // The TFLite engine needs an allocator at load time, so it targets the Cortex-M4F class.
    boards::build_nostd("edgewise-micro", "thumbv7em-none-eabihf", &[])?;
    println!("edgewise-micro builds for thumbv7em-none-eabihf (no_std + alloc)");
    Ok(())
}

fn ci() -> Result<(), Fail> {
    cargo(&["fmt", "--all", "--check"]).run()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .run()?;
    cargo(&["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()?;
    let totals = run_all_tests()?;
    check_nostd()?;
    smoke_run_under_qemu()?;
    install::cargo_deny()?;
    cargo(&["deny", "check", "licenses", "bans", "sources"]).run()?;
    println!("\nci: all checks passed");
    println!("tests: {totals}");
    Ok(())
}

/// The cross-built rpi4 example must run under qemu and print plausible readings.
fn smoke_run_under_qemu() -> Result<(), Fail> {
    let dir = boards::build_examples(Board::Rpi4, true)?;
    let args = ["--count", "3", "--interval-ms", "50", "--json"].map(String::from);
    let output = boards::qemu(Board::Rpi4, &dir.join("bme280-read"), &args)?.output()?;
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("temperature_c"))
        .collect();
    if lines.len() != 3 {
        return Err(Fail(format!(
            "qemu smoke run: expected 3 readings, got:\n{output}"
        )));
    }
    println!(
        "qemu-aarch64 smoke run of the rpi4 build:\n{}",
        lines.join("\n")
    );
    Ok(())
}
