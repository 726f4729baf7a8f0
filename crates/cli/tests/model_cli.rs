//! `edgewise model inspect | run | bench`, run as the built binary against the reference
//! models in `shared/models` and their golden tensors (made by TensorFlow Lite's reference
//! kernels), and against inputs that are wrong in the ways users get them wrong.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `shared/models/<name>`, or a failure saying where the models are expected.
fn shared(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{name} is missing: the tests expect the shared models directory beside the checkout \
         ({})",
        dir.display()
    );
    path
}

fn edgewise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgewise"))
        .args(args)
        .output()
        .expect("the edgewise binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "edgewise failed: {}{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// A fresh directory under the target dir for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Every golden case of every model: `model run` writes the first output, byte for byte the
/// golden one for the quantized models (micro is bit-exact with the reference kernels), and
/// within the models README's tolerance for the float ones (1e-4 relative, the LSTM 1e-3).
///
/// The LSTMs' golden cases were made one after another on one interpreter, each starting from
/// the recurrent state the one before left; `model run` starts from a fresh state, so only
/// their first case is one inference on its own.
#[test]
fn run_reproduces_every_golden_case() {
    let golden = shared("golden");
    let out_dir = scratch("golden");
    let mut models: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    models.sort();
    assert!(models.len() >= 8, "golden models: {models:?}");
    let mut cases_run = 0;
    for dir in models {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let model = shared(manifest["model"].as_str().unwrap());
        let float = manifest["outputs"][0]["dtype"] == "float32";
        let recurrent = model.to_str().unwrap().contains("lstm");
        let tolerance = if recurrent { 1e-3 } else { 1e-4 };
        let cases = manifest["cases"].as_array().unwrap();
        let cases = if recurrent { &cases[..1] } else { &cases[..] };
        for (n, case) in cases.iter().enumerate() {
            let output = out_dir.join(format!(
                "{}.{n}.out.bin",
                dir.file_name().unwrap().to_str().unwrap()
            ));
            let mut args = vec!["model", "run", s(&model)];
            let inputs: Vec<PathBuf> = case["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| dir.join(i.as_str().unwrap()))
                .collect();
            for input in &inputs {
                args.extend(["--input", s(input)]);
            }
            args.extend(["--output", s(&output)]);
            let printed = succeeded(&edgewise(&args));
            assert!(printed.contains("output 0 ("), "{printed}");

            let got = std::fs::read(&output).unwrap();
            let want = std::fs::read(dir.join(case["output"].as_str().unwrap())).unwrap();
            if float {
                assert_eq!(got.len(), want.len(), "{}", output.display());
                for (i, (g, w)) in f32s(&got).iter().zip(f32s(&want)).enumerate() {
                    assert!(
                        (g - w).abs() <= tolerance * w.abs().max(1.0),
                        "{} case {n} element {i}: {g} vs golden {w}",
                        model.display()
                    );
                }
            } else {
                assert!(
                    got == want,
                    "{} case {n}: output differs from golden",
                    model.display()
                );
            }
            cases_run += 1;
        }
    }
    assert!(cases_run >= 20, "{cases_run} golden cases");
}

#[test]
fn run_names_the_input_whose_file_has_the_wrong_size() {
    let dir = scratch("wrong_size");
    let input = dir.join("x.bin");
    std::fs::write(&input, [0u8; 4]).unwrap();
    let model = shared("hello_world_int8.tflite");
    let output = edgewise(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&input),
        "--output",
        s(&dir.join("y.bin")),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "edgewise: input 0 (`serving_default_dense_input:0`, int8[1, 1]): expected 1 × 1 \
             bytes = 1 bytes (1 int8 values), but {} holds 4 bytes\n",
            input.display()
        )
    );
    assert!(!dir.join("y.bin").exists());

    // The second input of a two-input model, as floats.
    let model = shared("simple_add_model.tflite");
    let golden = shared("golden/simple_add_model");
    let output = edgewise(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&golden.join("0.in0.bin")),
        "--input",
        s(&input),
        "--output",
        s(&dir.join("y.bin")),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).starts_with("edgewise: input 1 (`")
            && stderr(&output).ends_with(&format!(
                "int8[1, 128, 128, 1]): expected 16384 × 1 bytes = 16384 bytes (16384 int8 \
                 values), but {} holds 4 bytes\n",
                input.display()
            )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_refuses_a_wrong_number_of_inputs_or_outputs() {
    let dir = scratch("wrong_count");
    let model = shared("simple_add_model.tflite");
    let golden = shared("golden/simple_add_model");
    let output = edgewise(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&golden.join("0.in0.bin")),
        "--output",
        s(&dir.join("y.bin")),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "edgewise: {} takes 2 inputs (`serving_default_input_1:0`, \
             `serving_default_input_2:0`), but 1 --input was given\n",
            model.display()
        )
    );

    let model = shared("hello_world_int8.tflite");
    let x = shared("golden/hello_world_int8/0.in0.bin");
    let output = edgewise(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&x),
        "--output",
        s(&dir.join("y0.bin")),
        "--output",
        s(&dir.join("y1.bin")),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "edgewise: {} has 1 output (`StatefulPartitionedCall:0`), but 2 --output files \
             were given\n",
            model.display()
        )
    );
}

#[test]
fn run_says_which_file_is_missing() {
    let dir = scratch("missing");
    let missing = dir.join("nowhere.bin");
    let model = shared("hello_world_int8.tflite");
    let output = edgewise(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&missing),
        "--output",
        s(&dir.join("y.bin")),
    ]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "edgewise: input 0 (`serving_default_dense_input:0`, int8[1, 1]): cannot read {}: \
             No such file or directory (os error 2)\n",
            missing.display()
        )
    );

    let output = edgewise(&[
        "model",
        "run",
        s(&dir.join("absent.tflite")),
        "--input",
        s(&missing),
        "--output",
        s(&dir.join("y.bin")),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).starts_with(&format!(
            "edgewise: cannot read model file {}",
            dir.join("absent.tflite").display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn inspect_shows_hello_world_int8_tensors_operators_and_backend() {
    let model = shared("hello_world_int8.tflite");
    let printed = succeeded(&edgewise(&["model", "inspect", s(&model)]));
    let size = std::fs::metadata(&model).unwrap().len();
    assert!(
        printed.contains(&format!("size     {size} bytes")),
        "{printed}"
    );
    assert!(printed.contains("format   TensorFlow Lite\n"), "{printed}");
    assert!(
        printed.contains("backend  micro (the default for TFLite"),
        "{printed}"
    );
    assert!(
        printed.contains(" arena for intermediate tensors"),
        "{printed}"
    );
    // The shapes and quantization of the models README's table.
    assert!(
        printed.contains("\ninputs\n")
            && printed.contains(
                "serving_default_dense_input:0  int8   [1, 1]  scale 0.024480116 zero point -128"
            ),
        "{printed}"
    );
    assert!(
        printed.contains("\noutputs\n")
            && printed.contains("int8   [1, 1]  scale 0.008290957 zero point 5"),
        "{printed}"
    );
    // Three dense layers.
    assert!(printed.contains("operators: 3 of 1 kind\n"), "{printed}");
    assert!(printed.contains("  FULLY_CONNECTED  3\n"), "{printed}");
}

#[test]
fn inspect_shows_the_onnx_example_on_tract() {
    let printed = succeeded(&edgewise(&["model", "inspect", s(&shared("example.onnx"))]));
    assert!(printed.contains("format   ONNX\n"), "{printed}");
    assert!(
        printed.contains("backend  tract (ONNX models run on tract)"),
        "{printed}"
    );
    // f32[1,100] → f32[1,1], as the models README says.
    assert!(printed.contains("f32    [1, 100]  -"), "{printed}");
    assert!(printed.contains("f32    [1, 1]  -"), "{printed}");
    assert!(
        printed.contains("operators: not listed by the tract backend"),
        "{printed}"
    );
}

#[test]
fn inspect_rejects_an_unknown_backend_name() {
    let output = edgewise(&[
        "model",
        "inspect",
        s(&shared("example.onnx")),
        "--backend",
        "tensorrt",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("expected one of micro, tract, tflite"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bench_prints_percentiles_and_rate() {
    for fill in ["zeros", "random"] {
        let output = edgewise(&[
            "model",
            "bench",
            s(&shared("micro_speech_quantized.tflite")),
            "--runs",
            "20",
            "--warmup",
            "2",
            "--fill",
            fill,
        ]);
        let printed = succeeded(&output);
        assert!(
            printed.contains("on micro: 20 runs after 2 warm-up"),
            "{printed}"
        );
        let line = printed.lines().nth(1).unwrap();
        for label in ["p50 ", "p90 ", "p99 ", "max ", " runs/s"] {
            assert!(line.contains(label), "{label} missing: {printed}");
        }
    }
}

#[test]
fn inspect_says_why_a_file_does_not_load() {
    // Not a model at all.
    let manifest = shared("golden/hello_world_int8/manifest.json");
    let output = edgewise(&["model", "inspect", s(&manifest)]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        format!(
            "edgewise: {}: not a model format edgewise reads (expected .onnx or .tflite): \
             neither the extension nor the first bytes name a format\n",
            manifest.display()
        )
    );
    // A backend this build lacks names the feature that adds it.
    let output = edgewise(&[
        "model",
        "inspect",
        s(&shared("hello_world_int8.tflite")),
        "--backend",
        "tflite",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("the tflite backend is not built in: enable the cargo feature"),
        "{}",
        stderr(&output)
    );
}
