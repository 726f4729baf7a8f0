//! `edgewise model …`: look at a model file before deploying it.

use clap::Subcommand;

use crate::error::CliError;

/// What to do with a model file.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model's inputs, outputs and the backend that will run it.
    Inspect {
        /// The model file (.tflite or .onnx).
        file: std::path::PathBuf,
    },
}

/// Runs a `model` subcommand.
pub fn run(command: ModelCommand) -> Result<(), CliError> {
    match command {
        ModelCommand::Inspect { file } => {
            let model = edgewise_infer::Model::load(&file)
                .map_err(|e| CliError::new(format!("{}: {e}", file.display())))?;
            println!("{model:?}");
            Ok(())
        }
    }
}
