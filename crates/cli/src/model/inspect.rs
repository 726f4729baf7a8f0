//! `edgewise model inspect`: what a model takes and gives, what it is made of, what will run
//! it and why, and what memory it needs, as tables for a terminal.

use std::collections::BTreeMap;
use std::path::Path;

use edgewise_infer::{Backend, Format, Model, TensorInfo};

use crate::error::CliError;

/// Prints the description of `file`, loaded on `backend` or the default for its format.
pub fn inspect(file: &Path, backend: Option<Backend>) -> Result<(), CliError> {
    let model = super::load(file, backend)?;
    // The load read the file already; these only describe it.
    let size = std::fs::metadata(file).map(|m| m.len()).ok();
    let format = format_of(file);

    println!("model    {}", file.display());
    if let Some(size) = size {
        println!("size     {}", bytes(size));
    }
    if let Some(format) = format {
        println!("format   {}", format_name(format));
    }
    println!(
        "backend  {} ({})",
        model.backend(),
        why_backend(file, &model, format, backend)
    );
    match model.arena_size() {
        Some(arena) => println!(
            "memory   {} arena for intermediate tensors, planned at load (weights stay in \
             the model bytes)",
            bytes(arena as u64)
        ),
        None => println!(
            "memory   not planned ahead on {}: it allocates as it runs",
            model.backend()
        ),
    }

    println!("\ninputs");
    print!("{}", tensor_table(model.inputs()));
    println!("\noutputs");
    print!("{}", tensor_table(model.outputs()));

    match model.operators() {
        Some(operators) => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for name in operators {
                *counts.entry(name).or_default() += 1;
            }
            let kinds = counts.len();
            let plural = if kinds == 1 { "" } else { "s" };
            println!("\noperators: {} of {kinds} kind{plural}", operators.len());
            let rows: Vec<Vec<String>> = counts
                .iter()
                .map(|(name, count)| vec![(*name).to_string(), count.to_string()])
                .collect();
            print!("{}", table(&["operator", "count"], &rows));
        }
        None => println!("\noperators: not listed by the {} backend", model.backend()),
    }
    Ok(())
}

/// The model's format as [`Model::load`] decides it: the extension, else the first bytes.
fn format_of(file: &Path) -> Option<Format> {
    Format::from_path(file).or_else(|| {
        let bytes = std::fs::read(file).ok()?;
        Format::sniff(&bytes)
    })
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Onnx => "ONNX",
        Format::Tflite => "TensorFlow Lite",
    }
}

/// Why the model runs where it does: asked for, the default for its format, or a fallback
/// because the default backend cannot load it (with that backend's reason).
fn why_backend(
    file: &Path,
    model: &Model,
    format: Option<Format>,
    requested: Option<Backend>,
) -> String {
    if requested.is_some() {
        return "chosen with --backend".to_string();
    }
    let Some(format) = format else {
        return "the default".to_string();
    };
    let default = Backend::for_format(format);
    if model.backend() == default {
        return match (format, default) {
            (Format::Onnx, _) => "ONNX models run on tract".to_string(),
            (Format::Tflite, Backend::TfLite) => {
                "the official TensorFlow Lite runtime is built in".to_string()
            }
            (Format::Tflite, Backend::Micro) => {
                "the default for TFLite: bit-exact with TFLite's reference kernels".to_string()
            }
            (Format::Tflite, _) => "the only TFLite backend built in".to_string(),
        };
    }
    // Only a default that failed leads elsewhere; load it again to say why it failed.
    match Model::load_with(file, default) {
        Err(e) => format!("fallback: {default} cannot load it: {e}"),
        Ok(_) => format!("fallback from {default}"),
    }
}

/// One row per tensor: index, name, dtype, shape, quantization.
fn tensor_table(tensors: &[TensorInfo]) -> String {
    let rows: Vec<Vec<String>> = tensors
        .iter()
        .enumerate()
        .map(|(index, t)| {
            vec![
                index.to_string(),
                t.name.clone(),
                t.dtype.to_string(),
                format!("{:?}", t.shape),
                t.quantization.map_or_else(
                    || "-".to_string(),
                    |q| format!("scale {} zero point {}", q.scale, q.zero_point),
                ),
            ]
        })
        .collect();
    table(&["#", "name", "dtype", "shape", "quantization"], &rows)
}

/// Left-aligned columns two spaces apart, indented by two, headed by `header`.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:width$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// A byte count for people: 2704 bytes (2.6 KiB).
fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let value = n as f64;
    if value < KIB {
        format!("{n} bytes")
    } else if value < KIB * KIB {
        format!("{n} bytes ({:.1} KiB)", value / KIB)
    } else {
        format!("{n} bytes ({:.1} MiB)", value / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_trim_line_ends() {
        let rows = vec![
            vec!["0".to_string(), "long_name".to_string(), "-".to_string()],
            vec!["1".to_string(), "x".to_string(), "-".to_string()],
        ];
        assert_eq!(
            table(&["#", "name", "q"], &rows),
            "  #  name       q\n  0  long_name  -\n  1  x          -\n"
        );
    }

    #[test]
    fn byte_counts_read_in_a_fitting_unit() {
        assert_eq!(bytes(900), "900 bytes");
        assert_eq!(bytes(2704), "2704 bytes (2.6 KiB)");
        assert_eq!(bytes(3 * 1024 * 1024), "3145728 bytes (3.0 MiB)");
    }
}
