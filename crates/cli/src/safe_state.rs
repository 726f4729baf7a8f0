//! `edgewise safe-state [CONFIG]`: sets every actuator of a config to its safe state, from a
//! fresh process, and says what it did.
//!
//! The agent applies safe states itself at start, on shutdown and when control is lost; this
//! command covers the one case it cannot: the agent died (SIGKILL, a panic, the OOM killer)
//! and left a relay latched on. The systemd unit runs it as `ExecStopPost`, which systemd
//! runs after the service stopped for any reason, so a crash cannot leave a heater on.

use std::path::PathBuf;

use edgewise_runtime::agent::{self, actuators::describe};

use crate::error::CliError;

/// `edgewise safe-state` arguments.
#[derive(Debug, clap::Args)]
pub struct SafeStateArgs {
    /// The config file (TOML); without it, the built-in config on the sim board.
    pub config: Option<PathBuf>,
    /// The agent's data directory (the sim board records its outputs there).
    #[arg(
        long,
        value_name = "DIR",
        env = "EDGEWISE_DATA_DIR",
        default_value = "edgewise-data"
    )]
    pub data_dir: PathBuf,
}

/// Opens the board and every actuator, applies each safe state and prints one line per
/// actuator; fails naming every actuator it could not set.
pub fn run(args: &SafeStateArgs) -> Result<(), CliError> {
    let config = crate::run::load(args.config.as_deref())?;
    if config.actuators.is_empty() {
        println!("the config has no actuators: nothing to set");
        return Ok(());
    }
    let board = edgewise_boards::open(&agent::board_choice(&config, &args.data_dir))
        .map_err(|e| CliError::new(format!("board `{}`: {e}", config.board.name())))?;
    let mut failed = Vec::new();
    for actuator in &config.actuators {
        let result = board
            .open_actuator(&actuator.spec())
            .map_err(|e| e.to_string())
            .and_then(|mut output| output.apply_safe_state().map_err(|e| e.to_string()));
        match result {
            Ok(state) => println!("{}: {} (safe state)", actuator.name, describe(state)),
            Err(problem) => {
                eprintln!("{}: not set: {problem}", actuator.name);
                failed.push(format!("`{}`", actuator.name));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "could not set the safe state of {}",
            failed.join(", ")
        )))
    }
}
