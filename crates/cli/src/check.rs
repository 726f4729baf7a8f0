//! `edgewise check FILE`: validate a config before deploying it.
//!
//! Prints every error as `FILE:LINE:COL: key: message` and fails, or prints one paragraph
//! saying what the config will run.

use std::path::Path;

use edgewise_runtime::config::{self, LoadError};

use crate::error::CliError;

/// Checks the config at `file`.
pub fn run(file: &Path) -> Result<(), CliError> {
    match config::load(file) {
        Ok(config) => {
            println!("{}: OK", file.display());
            println!("{}", config.summary());
            Ok(())
        }
        Err(LoadError::Invalid(errors)) => {
            for error in &errors {
                eprintln!("{error}");
            }
            let count = match errors.len() {
                1 => "1 error".to_string(),
                n => format!("{n} errors"),
            };
            Err(CliError::new(format!("{}: {count}", file.display())))
        }
        Err(error @ LoadError::Read { .. }) => Err(CliError::new(error.to_string())),
    }
}
