//! `edgewise`: the agent and its tools, one subcommand each.
//!
//! Each subcommand lives in its own module and returns `Result<(), CliError>`; `main` prints
//! the error and sets the exit code, so every failure a user can cause ends with one clear
//! message and a non-zero status, never a panic.

mod check;
mod error;
mod model;
mod run;
mod safe_state;
mod scan;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// edgewise: sensors, a local model and standard protocols, configured by one TOML file.
#[derive(Debug, Parser)]
#[command(name = "edgewise", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent: without a config file, the built-in one on the sim board.
    Run(run::RunArgs),
    /// Check a config file: print each error with its file, line, column and key, or a
    /// summary of what the config runs.
    Check {
        /// The config file (TOML).
        file: std::path::PathBuf,
    },
    /// Inspect, run or time a model file (TFLite or ONNX).
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// List the addresses that answer on an I²C bus and the chips recognised there.
    Scan(scan::ScanArgs),
    /// Set every actuator of a config to its safe state and say what was done; exits
    /// non-zero naming any actuator that could not be set. The systemd unit runs it as
    /// `ExecStopPost`, so a crashed agent cannot leave an output on.
    SafeState(safe_state::SafeStateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check { file } => check::run(&file),
        Command::Model(command) => model::run(command),
        Command::Scan(args) => scan::run(&args),
        Command::SafeState(args) => safe_state::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("edgewise: {error}");
            ExitCode::FAILURE
        }
    }
}
