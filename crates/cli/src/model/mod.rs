//! `edgewise model …`: look at a model file before deploying it, run it once on tensors from
//! files, and time it.
//!
//! - [`mod@inspect`]: inputs, outputs, operators, the backend and why, memory;
//! - [`mod@run`]: one inference on raw little-endian tensor files ([`tensor`] reads and writes
//!   them);
//! - [`mod@bench`]: latency percentiles over many runs.

mod bench;
mod inspect;
mod run;
mod tensor;

use std::path::{Path, PathBuf};

use clap::Subcommand;
use edgewise_infer::{Backend, Model};

use crate::error::CliError;

/// What to do with a model file.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model's inputs, outputs (dtype, shape, quantization), operators, the backend
    /// that will run it and why, and the memory it needs.
    Inspect {
        /// The model file (.tflite or .onnx).
        file: PathBuf,
        /// Load it on this backend instead of the default for its format.
        #[arg(long, value_parser = parse_backend, value_name = "micro|tract|tflite")]
        backend: Option<Backend>,
    },
    /// Run one inference on raw little-endian tensor files (no header, the model's element
    /// type and order) and write each output the same way.
    Run {
        /// The model file (.tflite or .onnx).
        file: PathBuf,
        /// A file per input, in the model's input order.
        #[arg(long = "input", value_name = "IN.bin", required = true)]
        inputs: Vec<PathBuf>,
        /// A file per output, in the model's output order; outputs after the last one given
        /// are not written.
        #[arg(long = "output", value_name = "OUT.bin", required = true)]
        outputs: Vec<PathBuf>,
        /// Run it on this backend instead of the default for its format.
        #[arg(long, value_parser = parse_backend, value_name = "micro|tract|tflite")]
        backend: Option<Backend>,
    },
    /// Time inferences and print latency percentiles (p50, p90, p99, max) and runs per second.
    Bench {
        /// The model file (.tflite or .onnx).
        file: PathBuf,
        /// Timed runs.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
        /// Untimed runs first (caches, lazily sized buffers).
        #[arg(long, default_value_t = 10)]
        warmup: u32,
        /// What the inputs hold: zeros, or pseudo-random values (fixed seed).
        #[arg(long, value_enum, default_value_t = bench::Fill::Zeros)]
        fill: bench::Fill,
        /// Run it on this backend instead of the default for its format.
        #[arg(long, value_parser = parse_backend, value_name = "micro|tract|tflite")]
        backend: Option<Backend>,
    },
}

/// Runs a `model` subcommand.
pub fn run(command: ModelCommand) -> Result<(), CliError> {
    match command {
        ModelCommand::Inspect { file, backend } => inspect::inspect(&file, backend),
        ModelCommand::Run {
            file,
            inputs,
            outputs,
            backend,
        } => run::run_once(&file, &inputs, &outputs, backend),
        ModelCommand::Bench {
            file,
            runs,
            warmup,
            fill,
            backend,
        } => bench::bench(&file, runs, warmup, fill, backend),
    }
}

/// `--backend NAME`.
fn parse_backend(name: &str) -> Result<Backend, String> {
    Backend::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// Loads `file` on `backend`, or on the default for its format (with the fallback
/// [`Model::load`] applies) when none is given.
fn load(file: &Path, backend: Option<Backend>) -> Result<Model, CliError> {
    match backend {
        Some(backend) => Model::load_with(file, backend),
        None => Model::load(file),
    }
    .map_err(|e| CliError::new(e.to_string()))
}
