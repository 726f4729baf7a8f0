//! `model-run MODEL [VALUE,VALUE,…]`: loads a model, prints its inputs and outputs, runs it
//! once on the given values for its first input (zeros when none are given) and prints the
//! first output. Exit status 2 for a usage error, 1 when the model cannot be loaded or run.

use std::process::ExitCode;

use edgewise_infer::Model;

const USAGE: &str = "usage: model-run MODEL [VALUE,VALUE,...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, values) = match args.as_slice() {
        [path] => (path, None),
        [path, values] => (path, Some(values)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let values = match values.map(|v| parse_values(v)).transpose() {
        Ok(values) => values,
        Err(message) => {
            eprintln!("model-run: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(path, values) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("model-run: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_values(text: &str) -> Result<Vec<f32>, String> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f32>()
                .map_err(|_| format!("`{v}` is not a number"))
        })
        .collect()
}

fn run(path: &str, values: Option<Vec<f32>>) -> Result<(), edgewise_infer::Error> {
    let mut model = Model::load(path)?;
    for (role, tensors) in [("input", model.inputs()), ("output", model.outputs())] {
        for t in tensors {
            eprintln!("{role} {}: {:?} {:?}", t.name, t.dtype, t.shape);
        }
    }
    let inputs: Vec<Vec<f32>> = model
        .inputs()
        .iter()
        .enumerate()
        .map(|(i, t)| match (i, &values) {
            (0, Some(values)) => values.clone(),
            _ => vec![0.0; t.len()],
        })
        .collect();
    let mut outputs: Vec<Vec<f32>> = model.outputs().iter().map(|t| vec![0.0; t.len()]).collect();
    let input_slices: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let mut output_slices: Vec<&mut [f32]> = outputs.iter_mut().map(Vec::as_mut_slice).collect();
    model.run_f32(&input_slices, &mut output_slices)?;
    let first: Vec<String> = outputs[0].iter().map(|v| format!("{v:.6}")).collect();
    println!("{}", first.join(","));
    Ok(())
}
