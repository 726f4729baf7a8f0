//! `edgewise model run`: one inference on tensors from files, outputs to files.
//!
//! Everything a user can get wrong is checked before the model runs, and named: the number
//! of `--input`s and `--output`s against the model's, each input file's size against its
//! tensor's shape and element type.

use std::path::{Path, PathBuf};

use edgewise_infer::{Backend, Model};

use super::tensor::{describe, Tensor};
use crate::error::CliError;

/// Runs `file` once on `inputs` and writes the first `outputs.len()` outputs.
pub fn run_once(
    file: &Path,
    inputs: &[PathBuf],
    outputs: &[PathBuf],
    backend: Option<Backend>,
) -> Result<(), CliError> {
    let mut model = super::load(file, backend)?;
    check_counts(&model, inputs.len(), outputs.len())?;
    let input_tensors = model
        .inputs()
        .iter()
        .zip(inputs)
        .enumerate()
        .map(|(index, (info, path))| Tensor::read(index, info, path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut output_tensors = model
        .outputs()
        .iter()
        .enumerate()
        .map(|(index, info)| Tensor::zeros("output", index, info))
        .collect::<Result<Vec<_>, _>>()?;
    let input_data: Vec<_> = input_tensors.iter().map(Tensor::data).collect();
    let mut output_data: Vec<_> = output_tensors.iter_mut().map(Tensor::data_mut).collect();
    model
        .run(&input_data, &mut output_data)
        .map_err(|e| CliError::new(e.to_string()))?;
    for (index, ((info, tensor), path)) in model
        .outputs()
        .iter()
        .zip(&output_tensors)
        .zip(outputs)
        .enumerate()
    {
        let bytes = tensor.to_le_bytes();
        std::fs::write(path, &bytes).map_err(|e| {
            CliError::new(format!(
                "{}: cannot write {}: {e}",
                describe("output", index, info),
                path.display()
            ))
        })?;
        println!(
            "{}: {} bytes to {}",
            describe("output", index, info),
            bytes.len(),
            path.display()
        );
    }
    Ok(())
}

/// One `--input` per model input; at least one and at most as many `--output`s as outputs.
fn check_counts(model: &Model, inputs: usize, outputs: usize) -> Result<(), CliError> {
    let names = |tensors: &[edgewise_infer::TensorInfo]| {
        let names: Vec<String> = tensors.iter().map(|t| format!("`{}`", t.name)).collect();
        names.join(", ")
    };
    let expected = model.inputs().len();
    if inputs != expected {
        return Err(CliError::new(format!(
            "{} takes {expected} input{} ({}), but {inputs} --input {} given",
            model.name(),
            plural(expected),
            names(model.inputs()),
            if inputs == 1 { "was" } else { "were" }
        )));
    }
    let available = model.outputs().len();
    if outputs > available {
        return Err(CliError::new(format!(
            "{} has {available} output{} ({}), but {outputs} --output files were given",
            model.name(),
            plural(available),
            names(model.outputs()),
        )));
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
