//! ADD and SUB (`tensorflow/lite/kernels/add.cc`, `sub.cc`; reference kernels
//! `reference/add.h`, `reference/integer_ops/add.h`, `reference/sub.h`), float and quantized,
//! with broadcasting of shapes up to 6-D.
//!
//! Quantized inputs of different scales are brought to a common scale first: both are shifted
//! left by 20 bits, multiplied by `scale_i / (2·max(scale_1, scale_2))` (at most 1/2, so the
//! sum fits in 32 bits), added, and the sum is multiplied by
//! `2·max_scale / (2^20 · output_scale)`. Every rounding follows TFLite's fixed-point helpers.

use alloc::boxed::Box;
use alloc::format;

use super::broadcast::Broadcast;
use super::simd::{AddI8, AddTerms, Simd};
use super::{check, Invalid};
use crate::quant::{
    clamp_f32, multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier_smaller_than_one, Activation, Affine, QuantizedInt, QuantizedMultiplier,
};
use crate::Shape;

/// Which of the two operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOp {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
}

impl AddOp {
    fn name(self) -> &'static str {
        match self {
            AddOp::Add => "ADD",
            AddOp::Sub => "SUB",
        }
    }
}

/// The integer rescaling of the quantized path (TFLite's `ArithmeticParams` for ADD/SUB).
///
/// Each input's shifted and rescaled value depends on its stored byte alone, so both are
/// tabulated at load time (256 entries each; the second negated for SUB): per element only the
/// output rescale is left to compute, with exactly TFLite's values.
#[derive(Debug, Clone, PartialEq)]
struct Rescale {
    /// Indexed by `stored value − type minimum`.
    a_table: Box<[i32; 256]>,
    b_table: Box<[i32; 256]>,
    out_mult: QuantizedMultiplier,
    out_offset: i32,
    clamp: (i32, i32),
}

/// TFLite's left shift for 8-bit inputs: `255 << 20` still leaves room for the sum of two.
const LEFT_SHIFT: i32 = 20;

impl Rescale {
    /// TFLite's per-input step: `(q − zero_point) << 20`, times a multiplier below 1.
    fn table<Q: QuantizedInt>(
        zero_point: i32,
        m: QuantizedMultiplier,
        negate: bool,
    ) -> Box<[i32; 256]> {
        let mut t = Box::new([0i32; 256]);
        for (slot, q) in t.iter_mut().zip(Q::MIN..=Q::MAX) {
            // The zero point is a value of the type, so |q − zero_point| <= 255 and the
            // shifted value stays below 2^28.
            let v = multiply_by_quantized_multiplier_smaller_than_one(
                (q - zero_point) << LEFT_SHIFT,
                m.multiplier,
                m.shift,
            );
            *slot = if negate { -v } else { v };
        }
        t
    }

    #[inline(always)]
    fn apply<Q: QuantizedInt>(&self, x: Q, y: Q) -> Q {
        // 8-bit types only (the constructors guarantee it): the mask keeps the index provably
        // in range, so the lookups are not bounds-checked.
        let index = |q: Q| ((q.to_i32() - Q::MIN) & 0xff) as usize;
        let raw = self.a_table[index(x)] + self.b_table[index(y)];
        let out = multiply_by_quantized_multiplier_smaller_than_one(
            raw,
            self.out_mult.multiplier,
            self.out_mult.shift,
        ) + self.out_offset;
        Q::saturate(out.clamp(self.clamp.0, self.clamp.1))
    }
}

#[derive(Debug, Clone)]
enum Kind {
    F32 {
        clamp: (f32, f32),
    },
    /// The tables, and for int8 inputs of one shape the SIMD kernel when this CPU has one.
    Quantized(Rescale, Option<AddI8>),
}

/// A prepared ADD or SUB: shapes broadcast, multipliers, input tables and clamps computed.
#[derive(Debug, Clone)]
pub struct AddParams {
    op: AddOp,
    broadcast: Broadcast,
    kind: Kind,
}

impl AddParams {
    /// Float ADD/SUB of `a` and `b` into `output` (which must have the broadcast shape).
    pub fn new_f32(
        op: AddOp,
        a: Shape,
        b: Shape,
        output: Shape,
        activation: Activation,
    ) -> Result<Self, Invalid> {
        let broadcast = Broadcast::new(a, b)?;
        check::same_shape("output", output, broadcast.output_shape())?;
        Ok(AddParams {
            op,
            broadcast,
            kind: Kind::F32 {
                clamp: activation.range_f32(),
            },
        })
    }

    /// Int8 ADD/SUB; the three tensors may have different scales and zero points.
    #[allow(clippy::too_many_arguments)]
    pub fn new_i8(
        op: AddOp,
        a: Shape,
        a_q: Affine,
        b: Shape,
        b_q: Affine,
        output: Shape,
        output_q: Affine,
        activation: Activation,
    ) -> Result<Self, Invalid> {
        Self::new_quantized::<i8>(op, a, a_q, b, b_q, output, output_q, activation)
    }

    /// Uint8 ADD/SUB (TFLite's legacy asymmetric path, same arithmetic as int8).
    #[allow(clippy::too_many_arguments)]
    pub fn new_u8(
        op: AddOp,
        a: Shape,
        a_q: Affine,
        b: Shape,
        b_q: Affine,
        output: Shape,
        output_q: Affine,
        activation: Activation,
    ) -> Result<Self, Invalid> {
        Self::new_quantized::<u8>(op, a, a_q, b, b_q, output, output_q, activation)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_quantized<Q: QuantizedInt>(
        op: AddOp,
        a: Shape,
        a_q: Affine,
        b: Shape,
        b_q: Affine,
        output: Shape,
        output_q: Affine,
        activation: Activation,
    ) -> Result<Self, Invalid> {
        let broadcast = Broadcast::new(a, b)?;
        check::same_shape("output", output, broadcast.output_shape())?;
        check::affine::<Q>("first input", a_q)?;
        check::affine::<Q>("second input", b_q)?;
        check::affine::<Q>("output", output_q)?;

        // TFLite computes `2 * std::max(scale1, scale2)` in float (exact: a doubling) and only
        // then widens; the quotients are taken in double.
        let twice_max = f64::from(2.0 * a_q.scale.max(b_q.scale));
        let a_real = f64::from(a_q.scale) / twice_max;
        let b_real = f64::from(b_q.scale) / twice_max;
        // `(1 << 20) * output_scale` is a float product in TFLite (exact unless it overflows,
        // which the finite check below catches).
        let out_denominator = (1u32 << LEFT_SHIFT) as f32 * output_q.scale;
        if !out_denominator.is_finite() {
            return Err(format!(
                "{}: output scale {} is too large",
                op.name(),
                output_q.scale
            ));
        }
        let out_real = twice_max / f64::from(out_denominator);
        let multiplier = |real: f64, what: &str| {
            quantize_multiplier_smaller_than_one(real).ok_or_else(|| {
                format!(
                    "{}: the {what} rescale {real} is not in (0, 1) (scales {} and {} into {})",
                    op.name(),
                    a_q.scale,
                    b_q.scale,
                    output_q.scale
                )
            })
        };
        let a_mult = multiplier(a_real, "first input")?;
        let b_mult = multiplier(b_real, "second input")?;
        let out_mult = multiplier(out_real, "output")?;
        let clamp = check::clamp_range(activation.range_quantized(output_q, Q::MIN, Q::MAX))?;
        let rescale = Rescale {
            a_table: Rescale::table::<Q>(a_q.zero_point, a_mult, false),
            b_table: Rescale::table::<Q>(b_q.zero_point, b_mult, op == AddOp::Sub),
            out_mult,
            out_offset: output_q.zero_point,
            clamp,
        };
        // Same-shape int8 operands (a residual connection) go through the SIMD kernel, which
        // computes the tables' values instead of looking them up.
        let simd = if Q::MIN == i32::from(i8::MIN) && a == b && a == output {
            AddI8::new(
                Simd::detect(),
                AddTerms {
                    a_zero_point: a_q.zero_point,
                    a_multiplier: a_mult.multiplier,
                    a_right: -a_mult.shift,
                    b_zero_point: b_q.zero_point,
                    b_multiplier: b_mult.multiplier,
                    b_right: -b_mult.shift,
                    subtract: op == AddOp::Sub,
                    out_multiplier: out_mult.multiplier,
                    out_right: -out_mult.shift,
                    out_zero_point: output_q.zero_point,
                    lo: clamp.0,
                    hi: clamp.1,
                },
            )
        } else {
            None
        };
        Ok(AddParams {
            op,
            broadcast,
            kind: Kind::Quantized(rescale, simd),
        })
    }

    /// The operator this computes.
    pub fn op(&self) -> AddOp {
        self.op
    }

    /// The output shape (the broadcast of the inputs).
    pub fn output_shape(&self) -> Shape {
        self.broadcast.output_shape()
    }

    /// Runs a float ADD/SUB prepared with [`AddParams::new_f32`].
    pub fn run_f32(&self, a: &[f32], b: &[f32], output: &mut [f32]) {
        let Kind::F32 { clamp: (lo, hi) } = self.kind else {
            debug_assert!(false, "run_f32 on quantized {} params", self.op.name());
            return;
        };
        match self.op {
            AddOp::Add => self
                .broadcast
                .apply(a, b, output, |x, y| clamp_f32(x + y, lo, hi)),
            AddOp::Sub => self
                .broadcast
                .apply(a, b, output, |x, y| clamp_f32(x - y, lo, hi)),
        }
    }

    /// Runs an int8 ADD/SUB prepared with [`AddParams::new_i8`].
    pub fn run_i8(&self, a: &[i8], b: &[i8], output: &mut [i8]) {
        if let Kind::Quantized(_, Some(simd)) = &self.kind {
            if a.len() == output.len() && b.len() == output.len() {
                return simd.run(a, b, output);
            }
        }
        self.run_quantized(a, b, output);
    }

    /// Runs a uint8 ADD/SUB prepared with [`AddParams::new_u8`].
    pub fn run_u8(&self, a: &[u8], b: &[u8], output: &mut [u8]) {
        self.run_quantized(a, b, output);
    }

    fn run_quantized<Q: QuantizedInt>(&self, a: &[Q], b: &[Q], output: &mut [Q]) {
        let Kind::Quantized(r, _) = &self.kind else {
            debug_assert!(false, "quantized run on float {} params", self.op.name());
            return;
        };
        // SUB is ADD with the second table negated.
        self.broadcast.apply(a, b, output, |x, y| r.apply(x, y));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec::Vec;

    pub(crate) fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    /// The quantization TFLite's `SingleOpModel` derives from a float range
    /// (`test_util.h`, `QuantizationParams<T>`): scale over the full type range and a zero
    /// point nudged to an integer.
    pub(crate) fn range_q<Q: QuantizedInt>(min: f32, max: f32) -> Affine {
        let (qmin, qmax) = (Q::MIN as f32, Q::MAX as f32);
        let scale = (max - min) / (qmax - qmin);
        let from_min = qmin - min / scale;
        let from_max = qmax - max / scale;
        let from_min_error = qmin.abs() + (min / scale).abs();
        let from_max_error = qmax.abs() + (max / scale).abs();
        let zp = if from_min_error < from_max_error {
            from_min
        } else {
            from_max
        };
        let zero_point = if zp < qmin {
            Q::MIN
        } else if zp > qmax {
            Q::MAX
        } else {
            libm::roundf(zp) as i32
        };
        Affine { scale, zero_point }
    }

    /// `QuantizeAndPopulate` (`test_util.h`): `round(zero_point + x / scale)` in float, then
    /// clamped to the type.
    pub(crate) fn quantize<Q: QuantizedInt>(x: &[f32], q: Affine) -> Vec<Q> {
        x.iter()
            .map(|&v| {
                let r = libm::roundf(q.zero_point as f32 + v / q.scale);
                Q::saturate(r.clamp(Q::MIN as f32, Q::MAX as f32) as i32)
            })
            .collect()
    }

    pub(crate) fn dequantize<Q: QuantizedInt>(x: &[Q], q: Affine) -> Vec<f32> {
        x.iter()
            .map(|&v| (v.to_i32() - q.zero_point) as f32 * q.scale)
            .collect()
    }

    pub(crate) fn assert_near(got: &[f32], want: &[f32], tol: f32) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol,
                "element {i}: {g} vs {w} (tolerance {tol})"
            );
        }
    }

    fn add_f32(
        op: AddOp,
        sa: &[usize],
        a: &[f32],
        sb: &[usize],
        b: &[f32],
        act: Activation,
    ) -> Vec<f32> {
        let p = AddParams::new_f32(
            op,
            shape(sa),
            shape(sb),
            Broadcast::new(shape(sa), shape(sb)).unwrap().output_shape(),
            act,
        )
        .unwrap();
        let mut out = alloc::vec![0.0; p.output_shape().num_elements()];
        p.run_f32(a, b, &mut out);
        out
    }

    #[test]
    fn float_add_matches_tflite_tests() {
        // add_test.cc: NoActivation, ActivationRELU_N1_TO_1, WithBroadcastGeneric.
        let s = [1, 2, 2, 1];
        let (a, b) = ([-2.0, 0.2, 0.7, 0.8], [0.1, 0.2, 0.3, 0.5]);
        assert_near(
            &add_f32(AddOp::Add, &s, &a, &s, &b, Activation::None),
            &[-1.9, 0.4, 1.0, 1.3],
            1e-6,
        );
        assert_eq!(
            add_f32(AddOp::Add, &s, &a, &s, &b, Activation::ReluN1To1),
            [-1.0, 0.4, 1.0, 1.0]
        );
        let out = add_f32(
            AddOp::Add,
            &[1, 3, 1],
            &[0.1, 0.2, 0.3],
            &[2, 1, 2],
            &[0.1, 0.2, 0.3, 0.4],
            Activation::None,
        );
        assert_near(
            &out,
            &[0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.4, 0.5, 0.5, 0.6, 0.6, 0.7],
            1e-6,
        );
    }

    /// add_test.cc MixedBroadcast: base shape [2, 3, 1, 2] against four shapes, both orders.
    const MIXED_A: [f32; 12] = [
        -0.3, 2.3, 0.9, 0.5, 0.8, -1.1, 1.2, 2.8, -1.6, 0.0, 0.7, -2.2,
    ];
    const MIXED_B: [f32; 6] = [0.2, 0.3, -0.4, 0.5, 1.0, 0.9];
    const MIXED_SHAPES: [[usize; 4]; 4] = [[1, 1, 3, 2], [1, 3, 1, 2], [2, 1, 3, 1], [2, 3, 1, 1]];
    const MIXED_OUT: [&[f32]; 4] = [
        &[
            -0.1, 2.6, -0.7, 2.8, 0.7, 3.2, 1.1, 0.8, 0.5, 1.0, 1.9, 1.4, 1.0, -0.8, 0.4, -0.6,
            1.8, -0.2, 1.4, 3.1, 0.8, 3.3, 2.2, 3.7, -1.4, 0.3, -2.0, 0.5, -0.6, 0.9, 0.9, -1.9,
            0.3, -1.7, 1.7, -1.3,
        ],
        &[
            -0.1, 2.6, 0.5, 1.0, 1.8, -0.2, 1.4, 3.1, -2.0, 0.5, 1.7, -1.3,
        ],
        &[
            -0.1, 2.5, 0.0, 2.6, -0.7, 1.9, 1.1, 0.7, 1.2, 0.8, 0.5, 0.1, 1.0, -0.9, 1.1, -0.8,
            0.4, -1.5, 1.7, 3.3, 2.2, 3.8, 2.1, 3.7, -1.1, 0.5, -0.6, 1.0, -0.7, 0.9, 1.2, -1.7,
            1.7, -1.2, 1.6, -1.3,
        ],
        &[
            -0.1, 2.5, 1.2, 0.8, 0.4, -1.5, 1.7, 3.3, -0.6, 1.0, 1.6, -1.3,
        ],
    ];

    #[test]
    fn float_mixed_broadcast_matches_tflite_tests() {
        for (sb, want) in MIXED_SHAPES.iter().zip(MIXED_OUT) {
            let out = add_f32(
                AddOp::Add,
                &[2, 3, 1, 2],
                &MIXED_A,
                sb,
                &MIXED_B,
                Activation::None,
            );
            assert_near(&out, want, 1e-4);
            let out = add_f32(
                AddOp::Add,
                sb,
                &MIXED_B,
                &[2, 3, 1, 2],
                &MIXED_A,
                Activation::None,
            );
            assert_near(&out, want, 1e-4);
        }
    }

    #[test]
    fn int8_mixed_broadcast_matches_tflite_tests() {
        // QuantizedWithMixedBroadcast: everything on [-3, 3]; the reference outputs saturate.
        let qr = range_q::<i8>(-3.0, 3.0);
        let tol = 2.0 * 6.0 / 255.0;
        for (sb, want) in MIXED_SHAPES.iter().zip(MIXED_OUT) {
            let base = shape(&[2, 3, 1, 2]);
            let out_shape = Broadcast::new(base, shape(sb)).unwrap().output_shape();
            let p = AddParams::new_i8(
                AddOp::Add,
                base,
                qr,
                shape(sb),
                qr,
                out_shape,
                qr,
                Activation::None,
            )
            .unwrap();
            let mut out = alloc::vec![0i8; out_shape.num_elements()];
            p.run_i8(&quantize(&MIXED_A, qr), &quantize(&MIXED_B, qr), &mut out);
            let want: Vec<f32> = want.iter().map(|w| w.clamp(-3.0, 3.0)).collect();
            assert_near(&dequantize(&out, qr), &want, tol);
        }
    }

    #[test]
    fn quantized_add_matches_tflite_tests() {
        // QuantizedTestsNoActivation and QuantizedTestsActivationRELU_N1_TO_1, int8 and uint8.
        let inputs1 = [
            [0.1, 0.2, 0.3, 0.4],
            [-0.8, 0.2, 0.4, 0.7],
            [-0.8, 0.2, 0.7, 0.3],
        ];
        let inputs2 = [
            [0.6, 0.4, 0.3, 0.1],
            [0.6, 0.4, 0.5, -0.8],
            [0.6, 0.4, -0.8, 0.5],
        ];
        let results = [
            [0.7, 0.6, 0.6, 0.5],
            [-0.2, 0.6, 0.9, -0.1],
            [-0.2, 0.6, -0.1, 0.8],
        ];
        let relu1 = [(
            [-0.8, 0.2, 0.9, 0.7],
            [0.6, 0.4, 0.9, -0.8],
            [-0.2, 0.6, 1.0, -0.1],
        )];
        let s = shape(&[1, 2, 2, 1]);
        let tol = 2.0 * 2.0 / 255.0;
        let q8 = range_q::<i8>(-1.0, 1.0);
        let qu = range_q::<u8>(-1.0, 1.0);
        let cases = inputs1
            .iter()
            .zip(&inputs2)
            .zip(&results)
            .map(|((a, b), r)| (*a, *b, *r, Activation::None));
        let cases = cases.chain(
            relu1
                .iter()
                .map(|&(a, b, r)| (a, b, r, Activation::ReluN1To1)),
        );
        for (a, b, want, act) in cases {
            let p = AddParams::new_i8(AddOp::Add, s, q8, s, q8, s, q8, act).unwrap();
            let mut out = [0i8; 4];
            p.run_i8(&quantize(&a, q8), &quantize(&b, q8), &mut out);
            assert_near(&dequantize(&out, q8), &want, tol);
            let p = AddParams::new_u8(AddOp::Add, s, qu, s, qu, s, qu, act).unwrap();
            let mut out = [0u8; 4];
            p.run_u8(&quantize(&a, qu), &quantize(&b, qu), &mut out);
            assert_near(&dequantize(&out, qu), &want, tol);
        }
    }

    #[test]
    fn int8_add_of_different_scales_is_bit_exact() {
        // simple_add_model's ADD (two [1,128,128,1] inputs of different scales): inputs and
        // outputs from its golden vectors, which TFLite's BUILTIN_REF kernels produced.
        let a: [i8; 48] = [
            32, -22, 109, -91, -124, 108, 54, 13, -19, -78, 39, -77, 92, -125, -86, 104, 111, 29,
            -81, 9, 31, -61, 6, -36, 103, -68, -8, 61, 111, -128, 126, -75, -103, 103, -100, 103,
            -104, -117, -83, 26, 4, 82, 17, 24, -103, -104, -117, 82,
        ];
        let b: [i8; 48] = [
            5, 70, -59, 86, 98, 36, 103, -70, -115, -86, -56, -92, 123, -123, -111, 124, 117, -18,
            -37, -34, -93, 97, -104, 108, 69, -63, 125, 41, 117, -123, 58, -122, -104, -80, 120,
            -118, -107, -76, 84, 34, 99, 122, -102, -54, -104, -107, -76, 122,
        ];
        let want: [i8; 48] = [
            25, 33, 33, -4, -18, 100, 110, -41, -95, -116, -13, -120, 127, -128, -128, 127, 127, 7,
            -84, -19, -45, 25, -70, 50, 120, -93, 82, 71, 127, -128, 127, -128, -128, 14, 14, -12,
            -128, -128, 1, 41, 72, 127, -61, -22, -128, -128, -128, 127,
        ];
        let (qa, qb, qo) = (
            Affine {
                scale: 0.040725365,
                zero_point: -2,
            },
            Affine {
                scale: 0.041245613,
                zero_point: -1,
            },
            Affine {
                scale: 0.05837741,
                zero_point: -3,
            },
        );
        let s = shape(&[48]);
        let p = AddParams::new_i8(AddOp::Add, s, qa, s, qb, s, qo, Activation::None).unwrap();
        let mut out = [0i8; 48];
        p.run_i8(&a, &b, &mut out);
        assert_eq!(out, want);
    }

    #[test]
    fn simple_add_model_golden_vectors_are_reproduced() {
        // All three golden cases of simple_add_model (TFLite BUILTIN_REF outputs), every byte.
        extern crate std;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/models/golden/simple_add_model");
        let read = |name: &str| -> Vec<i8> {
            let path = dir.join(name);
            std::fs::read(&path)
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: {e} (the reference models live in shared/ beside the checkout)",
                        path.display()
                    )
                })
                .into_iter()
                .map(|b| b as i8)
                .collect()
        };
        let (qa, qb, qo) = (
            Affine {
                scale: 0.040725365,
                zero_point: -2,
            },
            Affine {
                scale: 0.041245613,
                zero_point: -1,
            },
            Affine {
                scale: 0.05837741,
                zero_point: -3,
            },
        );
        let s = shape(&[1, 128, 128, 1]);
        let p = AddParams::new_i8(AddOp::Add, s, qa, s, qb, s, qo, Activation::None).unwrap();
        for case in 0..3 {
            let (a, b) = (
                read(&alloc::format!("{case}.in0.bin")),
                read(&alloc::format!("{case}.in1.bin")),
            );
            let want = read(&alloc::format!("{case}.out.bin"));
            let mut out = alloc::vec![0i8; 128 * 128];
            p.run_i8(&a, &b, &mut out);
            assert!(out == want, "golden case {case} differs");
        }
    }

    #[test]
    fn float_sub_matches_tflite_tests() {
        // sub_test.cc: NoActivation, ActivationRELU_N1_TO_1, WithBroadcast5D.
        let s = [1, 2, 2, 1];
        let (a, b) = ([-2.0, 0.2, 1.7, 0.5], [0.1, 0.2, 0.3, 0.8]);
        assert_near(
            &add_f32(AddOp::Sub, &s, &a, &s, &b, Activation::None),
            &[-2.1, 0.0, 1.4, -0.3],
            1e-6,
        );
        assert_near(
            &add_f32(AddOp::Sub, &s, &a, &s, &b, Activation::ReluN1To1),
            &[-1.0, 0.0, 1.0, -0.3],
            1e-6,
        );
        let out = add_f32(
            AddOp::Sub,
            &[1, 3, 1, 2, 1],
            &[-2.0, 0.2, 1.7, 0.5, -1.1, 2.0],
            &[],
            &[0.5],
            Activation::None,
        );
        assert_near(&out, &[-2.5, -0.3, 1.2, 0.0, -1.6, 1.5], 1e-6);
    }

    #[test]
    fn quantized_sub_matches_tflite_tests() {
        // sub_test.cc QuantizedTestsNoActivation: three different quantizations.
        let inputs1 = [
            [0.1, 0.2, 0.3, 0.4],
            [-0.2, 0.2, 0.4, 0.7],
            [-0.01, 0.2, 0.7, 0.3],
        ];
        let inputs2 = [
            [0.6, 0.4, 0.3, 0.1],
            [0.6, 0.4, 0.5, -0.2],
            [0.6, 0.4, -0.18, 0.5],
        ];
        let results = [
            [-0.5, -0.2, 0.0, 0.3],
            [-0.8, -0.2, -0.1, 0.9],
            [-0.61, -0.2, 0.88, -0.2],
        ];
        let s = shape(&[1, 2, 2, 1]);
        let tol = 2.0 * 1.8 / 255.0;
        let (qa, qb, qo) = (
            range_q::<i8>(-0.7, 0.7),
            range_q::<i8>(-0.6, 0.6),
            range_q::<i8>(-0.9, 0.9),
        );
        let p = AddParams::new_i8(AddOp::Sub, s, qa, s, qb, s, qo, Activation::None).unwrap();
        for ((a, b), want) in inputs1.iter().zip(&inputs2).zip(&results) {
            let mut out = [0i8; 4];
            p.run_i8(&quantize(a, qa), &quantize(b, qb), &mut out);
            assert_near(&dequantize(&out, qo), want, tol);
        }
    }

    #[test]
    fn refuses_what_tflite_refuses() {
        let s = shape(&[1, 2]);
        let ok = Affine {
            scale: 0.1,
            zero_point: 0,
        };
        // An output scale so small that the output rescale is >= 1 (TFLite's CHECK fails).
        let tiny = Affine {
            scale: 1e-9,
            zero_point: 0,
        };
        assert!(AddParams::new_i8(AddOp::Add, s, ok, s, ok, s, tiny, Activation::None).is_err());
        let zero = Affine {
            scale: 0.0,
            zero_point: 0,
        };
        assert!(AddParams::new_i8(AddOp::Add, s, zero, s, ok, s, ok, Activation::None).is_err());
        let bad_zp = Affine {
            scale: 0.1,
            zero_point: 300,
        };
        assert!(AddParams::new_i8(AddOp::Add, s, bad_zp, s, ok, s, ok, Activation::None).is_err());
        assert!(AddParams::new_f32(AddOp::Add, s, shape(&[3]), s, Activation::None).is_err());
        assert!(AddParams::new_f32(AddOp::Add, s, s, shape(&[2, 1]), Activation::None).is_err());
    }
}
