//! Every SIMD path this CPU runs against the portable kernels, on random int8 convolutions,
//! depthwise convolutions and fully connected layers (odd channel counts, tails, padding,
//! strides, dilation, per-tensor and per-channel scales, extreme values); then every golden
//! model on the path the interpreter picks.
//!
//! No test harness (`harness = false`): everything runs on the main thread, so the aarch64
//! build of this test runs under qemu-user, whose emulation hangs in glibc as soon as a
//! thread is spawned (each libtest test runs on one):
//!
//! ```text
//! cargo test --release -p edgewise-micro --features std --target aarch64-unknown-linux-gnu --no-run
//! qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max        target/…/simd_paths-…   # sdot and plain NEON
//! qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a72 target/…/simd_paths-…   # plain NEON picked
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use edgewise_micro::kernels::add::{AddOp, AddParams};
use edgewise_micro::kernels::conv::{Conv2dI8, ConvOptions, Int8Filter};
use edgewise_micro::kernels::depthwise_conv::DepthwiseConv2dI8;
use edgewise_micro::kernels::fully_connected::{FullyConnectedI8, FullyConnectedOptions};
use edgewise_micro::kernels::simd::{self, Isa};
use edgewise_micro::kernels::{output_size_and_padding, Padding};
use edgewise_micro::quant::{
    multiply_by_quantized_multiplier_smaller_than_one, quantize_multiplier_smaller_than_one,
    Activation, Affine,
};
use edgewise_micro::{DType, Interpreter, Shape};

/// xorshift64*, seeded: the same operators on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i64, hi as i64) as usize
    }
    fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    fn i8s(&mut self, n: usize, extreme: bool) -> Vec<i8> {
        (0..n)
            .map(|_| {
                if extreme {
                    [-128i8, 127][self.usize(0, 1)]
                } else {
                    self.range(-128, 127) as i8
                }
            })
            .collect()
    }
    fn activation(&mut self) -> Activation {
        [
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::ReluN1To1,
        ][self.usize(0, 3)]
    }
}

fn shape(d: &[usize]) -> Shape {
    Shape::new(d).unwrap()
}

/// A random window that fits: input `[n, h, w, c]`, filter height and width, options.
fn window(rng: &mut Rng, c: usize) -> ([usize; 4], usize, usize, ConvOptions) {
    loop {
        let (h, w) = (rng.usize(1, 14), rng.usize(1, 14));
        let (fh, fw) = (rng.usize(1, 5), rng.usize(1, 5));
        let dilated = rng.usize(0, 4) == 0;
        let o = ConvOptions {
            padding: if rng.usize(0, 1) == 0 {
                Padding::Same
            } else {
                Padding::Valid
            },
            stride_height: rng.usize(1, 3),
            stride_width: rng.usize(1, 3),
            dilation_height: if dilated { rng.usize(1, 3) } else { 1 },
            dilation_width: if dilated { rng.usize(1, 3) } else { 1 },
            activation: rng.activation(),
        };
        let fits = output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height)
            .is_some()
            && output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width)
                .is_some();
        if fits {
            return ([rng.usize(1, 2), h, w, c], fh, fw, o);
        }
    }
}

/// Input scale and zero point, per-tensor or per-channel filter scales, output quantization.
fn quantization(rng: &mut Rng, channels: usize) -> (Affine, Vec<f32>, Affine) {
    let input = Affine {
        scale: rng.f32(0.002, 0.3),
        zero_point: rng.range(-128, 127) as i32,
    };
    let n = if rng.usize(0, 1) == 0 { 1 } else { channels };
    let scales = (0..n).map(|_| rng.f32(0.0005, 0.08)).collect();
    let output = Affine {
        scale: rng.f32(0.002, 0.5),
        zero_point: rng.range(-128, 127) as i32,
    };
    (input, scales, output)
}

fn bias(rng: &mut Rng, n: usize) -> Option<Vec<i32>> {
    (rng.usize(0, 4) != 0).then(|| (0..n).map(|_| rng.range(-60_000, 60_000) as i32).collect())
}

fn check_conv(rng: &mut Rng, paths: &[Isa], round: usize) {
    let channels = [rng.usize(1, 40), rng.usize(1, 200)][rng.usize(0, 1)];
    let (in_dims, fh, fw, mut o) = window(rng, channels);
    let out_c = [rng.usize(1, 24), rng.usize(1, 150)][rng.usize(0, 1)];
    if round.is_multiple_of(3) {
        // Pointwise, the shape of most of MobileNet.
        o.stride_height = 1;
        o.stride_width = 1;
    }
    let (fh, fw) = if round.is_multiple_of(3) {
        (1, 1)
    } else {
        (fh, fw)
    };
    let f_dims = [out_c, fh, fw, channels];
    let (in_q, scales, out_q) = quantization(rng, out_c);
    let extreme = round.is_multiple_of(7);
    let input = rng.i8s(in_dims.iter().product(), extreme);
    let filter = rng.i8s(f_dims.iter().product(), extreme);
    let bias = bias(rng, out_c);
    let run = |isa: Isa| {
        let conv = Conv2dI8::with_isa(
            shape(&in_dims),
            in_q,
            Int8Filter {
                shape: shape(&f_dims),
                data: &filter,
                scales: &scales,
                zero_points: &[0],
                quantized_dimension: 0,
            },
            bias.as_deref(),
            out_q,
            o,
            isa,
        )
        .unwrap();
        let mut out = vec![0i8; conv.output_shape().num_elements()];
        conv.run(&input, &filter, &mut out);
        out
    };
    let want = run(Isa::Portable);
    for &isa in paths {
        assert_eq!(
            run(isa),
            want,
            "CONV_2D on {}: input {in_dims:?} filter {f_dims:?} {o:?}",
            isa.name()
        );
    }
}

fn check_depthwise(rng: &mut Rng, paths: &[Isa], round: usize) {
    let mut channels = [rng.usize(1, 40), rng.usize(1, 300)][rng.usize(0, 1)];
    // Mostly depth multiplier 1 (the SIMD kernels), sometimes more (the portable fallback),
    // and a single input channel with many outputs (a matrix product, as micro_speech's).
    let multiplier = if round % 8 == 4 {
        channels = 1;
        rng.usize(2, 20)
    } else if round.is_multiple_of(4) {
        rng.usize(2, 3)
    } else {
        1
    };
    let (in_dims, fh, fw, o) = window(rng, channels);
    let f_dims = [1, fh, fw, channels * multiplier];
    let (in_q, scales, out_q) = quantization(rng, f_dims[3]);
    let extreme = round.is_multiple_of(7);
    let input = rng.i8s(in_dims.iter().product(), extreme);
    let filter = rng.i8s(f_dims.iter().product(), extreme);
    let bias = bias(rng, f_dims[3]);
    let run = |isa: Isa| {
        let dw = DepthwiseConv2dI8::with_isa(
            shape(&in_dims),
            in_q,
            Int8Filter {
                shape: shape(&f_dims),
                data: &filter,
                scales: &scales,
                zero_points: &[0],
                quantized_dimension: 3,
            },
            bias.as_deref(),
            out_q,
            o,
            isa,
        )
        .unwrap();
        let mut out = vec![0i8; dw.output_shape().num_elements()];
        dw.run(&input, &filter, &mut out);
        out
    };
    let want = run(Isa::Portable);
    for &isa in paths {
        assert_eq!(
            run(isa),
            want,
            "DEPTHWISE_CONV_2D on {}: input {in_dims:?} filter {f_dims:?} {o:?}",
            isa.name()
        );
    }
}

fn check_fully_connected(rng: &mut Rng, paths: &[Isa], round: usize) {
    let (rows, depth, units) = (rng.usize(1, 9), rng.usize(1, 700), rng.usize(1, 300));
    let per_channel = rng.usize(0, 1) == 0;
    let scales: Vec<f32> = (0..if per_channel { units } else { 1 })
        .map(|_| rng.f32(0.0005, 0.05))
        .collect();
    let zero_points = vec![
        if per_channel {
            0
        } else {
            rng.range(-128, 127) as i32
        };
        scales.len()
    ];
    let (in_q, _, out_q) = quantization(rng, 1);
    let extreme = round.is_multiple_of(7);
    let input = rng.i8s(rows * depth, extreme);
    let filter = rng.i8s(units * depth, extreme);
    let bias = bias(rng, units);
    let options = FullyConnectedOptions {
        activation: rng.activation(),
        keep_num_dims: false,
    };
    let run = |isa: Isa| {
        let fc = FullyConnectedI8::with_isa(
            shape(&[rows, depth]),
            in_q,
            Int8Filter {
                shape: shape(&[units, depth]),
                data: &filter,
                scales: &scales,
                zero_points: &zero_points,
                quantized_dimension: 0,
            },
            bias.as_deref(),
            out_q,
            options,
            isa,
        )
        .unwrap();
        let mut out = vec![0i8; rows * units];
        fc.run(&input, &filter, &mut out);
        out
    };
    let want = run(Isa::Portable);
    for &isa in paths {
        assert_eq!(
            run(isa),
            want,
            "FULLY_CONNECTED on {}: {rows}×{depth} → {units}",
            isa.name()
        );
    }
}

/// A same-shape int8 ADD or SUB (on the interpreter's path) against TFLite's reference
/// arithmetic (`reference_integer_ops::Add`), written out here.
fn check_add(rng: &mut Rng, round: usize) {
    let dims = [1, rng.usize(1, 9), rng.usize(1, 9), rng.usize(1, 70)];
    let len: usize = dims.iter().product();
    let q = |rng: &mut Rng| Affine {
        scale: rng.f32(0.005, 0.2),
        zero_point: rng.range(-128, 127) as i32,
    };
    let (qa, qb, qo) = (q(rng), q(rng), q(rng));
    let op = if rng.usize(0, 1) == 0 {
        AddOp::Add
    } else {
        AddOp::Sub
    };
    let activation = rng.activation();
    let extreme = round.is_multiple_of(7);
    let (a, b) = (rng.i8s(len, extreme), rng.i8s(len, extreme));
    let params = AddParams::new_i8(
        op,
        shape(&dims),
        qa,
        shape(&dims),
        qb,
        shape(&dims),
        qo,
        activation,
    )
    .unwrap();
    let mut got = vec![0i8; len];
    params.run_i8(&a, &b, &mut got);

    let twice_max = f64::from(2.0 * qa.scale.max(qb.scale));
    let ma = quantize_multiplier_smaller_than_one(f64::from(qa.scale) / twice_max).unwrap();
    let mb = quantize_multiplier_smaller_than_one(f64::from(qb.scale) / twice_max).unwrap();
    let out_real = twice_max / f64::from((1u32 << 20) as f32 * qo.scale);
    let mo = quantize_multiplier_smaller_than_one(out_real).unwrap();
    let (lo, hi) = activation.range_quantized(qo, -128, 127);
    for i in 0..len {
        let scale = |x: i32, m: edgewise_micro::quant::QuantizedMultiplier| {
            multiply_by_quantized_multiplier_smaller_than_one(x, m.multiplier, m.shift)
        };
        let va = scale((i32::from(a[i]) - qa.zero_point) << 20, ma);
        let vb = scale((i32::from(b[i]) - qb.zero_point) << 20, mb);
        let raw = if op == AddOp::Add { va + vb } else { va - vb };
        let want = (scale(raw, mo) + qo.zero_point).clamp(lo, hi) as i8;
        assert_eq!(
            got[i],
            want,
            "{op:?} {dims:?} at {i} on {}",
            simd::selected().name()
        );
    }
}

fn models_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models");
    assert!(
        dir.join("golden").is_dir(),
        "the reference models are missing: expected {} (shared/ beside the checkout)",
        dir.display()
    );
    dir
}

/// Every golden case of every model, int8 bit for bit, float within the golden tolerance.
fn check_golden() {
    let dir = models_dir();
    let models = [
        ("hello_world_float", 1e-4),
        ("hello_world_int8", 0.0),
        ("magic_wand", 1e-4),
        ("micro_speech_quantized", 0.0),
        ("simple_add_model", 0.0),
        ("trained_lstm", 1e-3),
        ("trained_lstm_int8", 0.0),
        ("mobilenet_v2_quantized_1x3x224x224", 0.0),
    ];
    for (model, tolerance) in models {
        let bytes = std::fs::read(dir.join(format!("{model}.tflite"))).unwrap();
        let mut interpreter = Interpreter::new(bytes).unwrap();
        let golden = dir.join("golden").join(model);
        let mut case = 0;
        while golden.join(format!("{case}.out.bin")).is_file() {
            for k in 0..interpreter.inputs().len() {
                let data = std::fs::read(golden.join(format!("{case}.in{k}.bin"))).unwrap();
                interpreter
                    .input_bytes_mut(k)
                    .unwrap()
                    .copy_from_slice(&data);
            }
            interpreter.invoke().unwrap();
            let want = std::fs::read(golden.join(format!("{case}.out.bin"))).unwrap();
            let got = interpreter.output_bytes(0).unwrap();
            assert_eq!(got.len(), want.len(), "{model} case {case}");
            if interpreter.outputs()[0].dtype == DType::F32 {
                for (g, w) in got.chunks_exact(4).zip(want.chunks_exact(4)) {
                    let g = f32::from_le_bytes(g.try_into().unwrap());
                    let w = f32::from_le_bytes(w.try_into().unwrap());
                    assert!(
                        (g - w).abs() <= tolerance * w.abs().max(1e-3),
                        "{model} case {case}: {g} against golden {w}"
                    );
                }
            } else {
                assert!(got == want.as_slice(), "{model} case {case}: not bit-exact");
            }
            case += 1;
        }
        assert!(case > 0, "{model}: no golden cases");
        println!("golden {model}: {case} cases match");
    }
}

fn main() {
    let native: &[Isa] = if cfg!(target_arch = "x86_64") {
        &[Isa::Avx512Vnni, Isa::AvxVnni, Isa::Avx2]
    } else if cfg!(target_arch = "aarch64") {
        &[Isa::NeonDot, Isa::Neon]
    } else {
        &[]
    };
    for isa in native.iter().filter(|isa| !isa.is_available()) {
        // Without the crate's `std` feature only the compile target's features count, so a
        // CPU that has the path still skips it: say so rather than blame the CPU.
        println!(
            "SIMD path {} is not available (on this CPU, or without the `std` feature, e.g. \
             `cargo test -p edgewise-micro --features std`): not tested",
            isa.name()
        );
    }
    let paths: Vec<Isa> = simd::available()
        .into_iter()
        .filter(|&isa| isa != Isa::Portable)
        .collect();
    let names: Vec<&str> = paths.iter().map(|isa| isa.name()).collect();
    println!("comparing with the portable kernels: {names:?}");
    let mut rng = Rng(0x51bd_0001);
    let rounds = 150;
    for round in 0..rounds {
        check_conv(&mut rng, &paths, round);
        check_depthwise(&mut rng, &paths, round);
        check_fully_connected(&mut rng, &paths, round);
        check_add(&mut rng, round);
    }
    println!("{rounds} random CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED each: identical");
    println!("{rounds} random same-shape ADD/SUB: TFLite's arithmetic");
    println!("interpreter's path: {}", simd::selected().name());
    check_golden();
}
