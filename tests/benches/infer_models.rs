//! Per-inference latency of the models edgewise-infer runs, and of the same models through
//! the official TFLite runtime (PyPI ai-edge-litert, XNNPACK) in the same run when
//! `EDGEWISE_LITERT_PYTHON` names a Python that has it (`cargo xtask bench` installs it into
//! a venv). Prints numbers; asserts nothing.
//!
//! `cargo xtask bench` (or `cargo bench -p edgewise-tests --bench infer_models`)

// Benchmarks may unwrap: a panic is the failure report. Counting allocations needs a global
// allocator, which is unsafe to implement; it only forwards to the system allocator.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use edgewise_infer::{Backend, Model};
use edgewise_tests::bench::{full_run, ns_per_call};

fn model_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/models")
        .join(name);
    assert!(
        path.is_file(),
        "reference model missing: {}",
        path.display()
    );
    path
}

/// µs per inference through edgewise-infer's Model API on `backend`, heap allocations per
/// inference, and the first output.
fn ours(name: &str, backend: Backend, input: &[f32]) -> (f64, f64, f32) {
    let mut model = Model::load_with(model_path(name), backend).unwrap();
    let mut output = vec![0.0f32; model.outputs()[0].len()];
    model.run_f32(&[input], &mut [&mut output]).unwrap();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        model.run_f32(&[input], &mut [&mut output]).unwrap();
    }
    let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 100.0;
    let ns = ns_per_call(20_000, |_| {
        model
            .run_f32(&[black_box(input)], &mut [&mut output])
            .unwrap();
    });
    (ns / 1e3, allocations, output[0])
}

/// µs per inference through ai-edge-litert for each (model, input), if it is available.
fn litert(cases: &[(&str, &[f32])]) -> Option<Vec<f64>> {
    let python = std::env::var_os("EDGEWISE_LITERT_PYTHON")?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/litert_timing.py");
    let seconds = if full_run() { "2" } else { "0.01" };
    let mut command = Command::new(python);
    command.arg(script).arg(seconds).arg("default");
    for (name, input) in cases {
        let values: Vec<String> = input.iter().map(f32::to_string).collect();
        command.arg(format!(
            "{}:{}",
            model_path(name).display(),
            values.join(",")
        ));
    }
    let output = command
        .output()
        .expect("run the ai-edge-litert timing script");
    assert!(
        output.status.success(),
        "ai-edge-litert timing failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.split('\t').nth(1).unwrap().parse().unwrap())
            .collect(),
    )
}

fn main() {
    println!(
        "\nPer-inference latency through the Model API (f32 in and out), host ({} runs, median \
         of 7 rounds)",
        20_000
    );
    println!(
        "{:<28} {:>8} {:>10} {:>7} {:>14} {:>16} {:>8}",
        "model", "backend", "output", "allocs", "edgewise µs", "ai-edge-litert µs", "ratio"
    );
    // TFLite models with f32 inputs (the int8 one is quantized by run_f32), on each backend
    // that loads them; ai-edge-litert runs the same file on the same input.
    let magic_wand_input = [0.1f32; 384];
    let tflite: [(&str, &[f32], &[Backend]); 3] = [
        (
            "hello_world_float.tflite",
            &[1.0],
            &[Backend::Micro, Backend::Tract],
        ),
        ("hello_world_int8.tflite", &[1.0], &[Backend::Micro]),
        ("magic_wand.tflite", &magic_wand_input, &[Backend::Micro]),
    ];
    let cases: Vec<(&str, &[f32])> = tflite.iter().map(|(n, i, _)| (*n, *i)).collect();
    let theirs = litert(&cases);
    for (i, (name, input, backends)) in tflite.iter().enumerate() {
        for &backend in *backends {
            let (us, allocs, y) = ours(name, backend, input);
            let backend = backend.name();
            match &theirs {
                Some(theirs) => println!(
                    "{name:<28} {backend:>8} {y:>10.4} {allocs:>7.1} {us:>14.3} {:>16.3} {:>8.2}",
                    theirs[i],
                    theirs[i] / us
                ),
                None => println!(
                    "{name:<28} {backend:>8} {y:>10.4} {allocs:>7.1} {us:>14.3} {:>16} {:>8}",
                    "-", "-"
                ),
            }
        }
    }
    // ONNX: ai-edge-litert does not read ONNX.
    let (us, allocs, y) = ours("example.onnx", Backend::Tract, &[0.5; 100]);
    println!(
        "{:<28} {:>8} {y:>10.4} {allocs:>7.1} {us:>14.3} {:>16} {:>8}",
        "example.onnx", "tract", "(no ONNX)", "-"
    );
    if theirs.is_none() {
        println!(
            "(ai-edge-litert not measured: set EDGEWISE_LITERT_PYTHON, or run `cargo xtask \
             bench`, which installs it)"
        );
    }
    println!("ratio = ai-edge-litert time / edgewise time (above 1: edgewise is faster)");
    println!("every model, raw tensors, allocations and arenas: the micro_models benchmark");
}
