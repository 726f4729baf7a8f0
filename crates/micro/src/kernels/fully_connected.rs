//! FULLY_CONNECTED with `[units, depth]` weights, int8 (per-tensor or per-channel weights) and
//! float32, computing what TensorFlow Lite's reference kernels compute.
//!
//! The input is read as `input_elements / depth` rows of `depth` values, whatever its rank.
//! The output is `[rows, units]`, or with `keep_num_dims` the input's shape with its last
//! dimension replaced by `units` (TFLite's `UpdateOutputSize`).
//!
//! int8 follows `fully_connected.cc` with the reference kernel, which — unlike CONV_2D and
//! DEPTHWISE_CONV_2D, and unlike tflite-micro — does NOT use the fixed-point multiplier its
//! Prepare computes: `reference_integer_ops::FullyConnected`/`FullyConnectedPerChannel`
//! (the overloads taking the float scales) rescale in double,
//! `round((double)acc · (double)input_scale · (double)filter_scale / (double)output_scale)`,
//! rounding half away from zero. The accumulator is
//! `Σ (filter + filter_offset) · (input − input_zero_point) + bias` in i32; per-tensor weights
//! may carry a zero point (`filter_offset = −zero_point`), per-channel weights are symmetric.
//!
//! float32 follows `reference_ops::FullyConnected`: an f32 sum over the depth in order, then
//! `+ bias`, then the clamp.

use alloc::{format, vec, vec::Vec};

use super::conv::{
    activation_range_i8, bias_or_zeros, channel_scales, check_activation_quant, clamp_f32, dot8,
    dot_i8, widen, Int8Filter, DOT_ROWS, PATCH_CAPACITY,
};
use super::simd::{Gemm, GemmOut, Isa, PackedF32, Simd, F32_LANES};
use super::Invalid;
use crate::quant::{Activation, Affine};
use crate::Shape;

/// The options of FULLY_CONNECTED this engine supports (default weights format only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullyConnectedOptions {
    /// The activation fused into the output clamp.
    pub activation: Activation,
    /// Keep the input's leading dimensions in the output instead of flattening to 2-D.
    pub keep_num_dims: bool,
}

/// int8 FULLY_CONNECTED, prepared once at load time.
#[derive(Debug, Clone)]
pub struct FullyConnectedI8 {
    rows: usize,
    depth: usize,
    units: usize,
    /// `−filter_zero_point` (per-tensor weights only; 0 for per-channel).
    filter_offset: i32,
    output_zero_point: i32,
    act_min: i32,
    act_max: i32,
    /// `input_scale · filter_scale[u] / output_scale`, each widened to double first.
    scales: Vec<f64>,
    /// Everything in `Σ (w + fo)(x + xo) + bias` that does not depend on the input:
    /// `bias + xo · Σ w + depth · fo · xo`. The `fo · Σ x` term is added per row at run time.
    folded_bias: Vec<i32>,
    /// The SIMD matrix product and the folded bias less its activation offset term, when this
    /// CPU has one.
    packed: Option<(Gemm, Vec<i32>)>,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

/// i32 sums the SIMD path buffers on the stack per batch of rows.
const RAW_CAPACITY: usize = 4096;

impl FullyConnectedI8 {
    /// Validates an int8 FULLY_CONNECTED and precomputes its scales, folded bias and clamp.
    ///
    /// `filter` is `[units, depth]` and must be a constant (its row sums are folded into the
    /// bias here); `run` must be given the same data. One filter scale makes it per-tensor
    /// (any int8 zero point), one per unit per-channel (zero points 0). `bias` is optional.
    pub fn new(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: FullyConnectedOptions,
    ) -> Result<Self, Invalid> {
        Self::on(
            input,
            input_q,
            filter,
            bias,
            output_q,
            options,
            Simd::detect(),
        )
    }

    /// [`FullyConnectedI8::new`] on the SIMD path `isa`, or on the portable code when this CPU lacks
    /// it (to compare paths, or to avoid the packed copy of the weights).
    pub fn with_isa(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: FullyConnectedOptions,
        isa: Isa,
    ) -> Result<Self, Invalid> {
        Self::on(
            input,
            input_q,
            filter,
            bias,
            output_q,
            options,
            Simd::or_portable(isa),
        )
    }

    fn on(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: FullyConnectedOptions,
        simd: Simd,
    ) -> Result<Self, Invalid> {
        let (rows, depth, units, output_shape) = geometry(&input, &filter.shape, options)?;
        if filter.data.len() != units * depth {
            return Err(format!(
                "filter has {} values for its shape {}",
                filter.data.len(),
                filter.shape
            ));
        }
        check_activation_quant(input_q, "input")?;
        check_activation_quant(output_q, "output")?;
        let filter_scales = channel_scales(&filter, 0, units)?;
        let per_channel = filter.scales.len() > 1;
        let filter_zero_point = if per_channel {
            // TFLite's per-channel kernel never reads the weights' zero point.
            if let Some(z) = filter.zero_points.iter().find(|&&z| z != 0) {
                return Err(format!(
                    "per-channel filter zero point {z} is not 0 (weights must be symmetric)"
                ));
            }
            0
        } else {
            filter.zero_points.first().copied().unwrap_or(0)
        };
        if !(-128..=127).contains(&filter_zero_point) {
            return Err(format!(
                "filter zero point {filter_zero_point} is outside int8"
            ));
        }
        let bias = bias_or_zeros(bias, units)?;
        let (act_min, act_max) = activation_range_i8(options.activation, output_q)?;

        // TFLite's reference rescale: all three scales widened to double, then multiplied and
        // divided in that order.
        let scales = filter_scales
            .iter()
            .map(|&fs| f64::from(input_q.scale) * f64::from(fs) / f64::from(output_q.scale))
            .collect();
        let input_offset = -input_q.zero_point;
        let filter_offset = -filter_zero_point;
        // depth·fo·xo wraps exactly as TFLite's i32 accumulator would summing it term by term.
        let constant = (depth as i32)
            .wrapping_mul(filter_offset)
            .wrapping_mul(input_offset);
        let row_sums: Vec<i32> = filter
            .data
            .chunks_exact(depth)
            .map(|row| row.iter().fold(0i32, |s, &w| s.wrapping_add(i32::from(w))))
            .collect();
        let folded_bias: Vec<i32> = bias
            .iter()
            .zip(&row_sums)
            .map(|(&b, &sum)| {
                b.wrapping_add(input_offset.wrapping_mul(sum))
                    .wrapping_add(constant)
            })
            .collect();
        let packed = if units <= RAW_CAPACITY {
            Gemm::new(simd, filter.data, units, depth).map(|gemm| {
                let bias = folded_bias
                    .iter()
                    .zip(&row_sums)
                    .map(|(&b, &s)| b.wrapping_sub(gemm.offset().wrapping_mul(s)))
                    .collect();
                (gemm, bias)
            })
        } else {
            None
        };

        Ok(Self {
            packed,
            rows,
            depth,
            units,
            filter_offset,
            output_zero_point: output_q.zero_point,
            act_min,
            act_max,
            scales,
            folded_bias,
            filter_len: filter.data.len(),
            input_len: input.num_elements(),
            output_shape,
        })
    }

    /// The output shape TFLite's Prepare gives.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// Runs the layer. `filter` must be the data given to [`FullyConnectedI8::new`].
    ///
    /// When a row and eight weight rows fit the stack buffer, they are widened to i16 and
    /// each pass computes eight units (`pmaddwd`-friendly, as in CONV_2D); otherwise one
    /// i8 dot product per unit. The i32 sums are the same either way.
    pub fn run(&self, input: &[i8], filter: &[i8], output: &mut [i8]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.rows * self.units);
        if let Some((gemm, bias)) = &self.packed {
            return self.run_packed(gemm, bias, input, output);
        }
        let depth = self.depth;
        let mut scratch = [0i16; PATCH_CAPACITY];
        let widened = depth.saturating_mul(DOT_ROWS + 1) <= PATCH_CAPACITY;
        let (x16, rest) = scratch.split_at_mut(if widened { depth } else { 0 });
        let w16 = &mut rest[..if widened { DOT_ROWS * depth } else { 0 }];
        for (row, out_row) in input
            .chunks_exact(depth)
            .zip(output.chunks_exact_mut(self.units))
        {
            let row_term = if self.filter_offset == 0 {
                0
            } else {
                let sum = row.iter().fold(0i32, |s, &x| s.wrapping_add(i32::from(x)));
                self.filter_offset.wrapping_mul(sum)
            };
            let finish = |u: usize, dot: i32| {
                let acc = dot.wrapping_add(self.folded_bias[u]).wrapping_add(row_term);
                requantize_double(
                    acc,
                    self.scales[u],
                    self.output_zero_point,
                    self.act_min,
                    self.act_max,
                )
            };
            if widened {
                widen(x16, row);
                for (first, outs) in (0..self.units)
                    .step_by(DOT_ROWS)
                    .zip(out_row.chunks_mut(DOT_ROWS))
                {
                    let n = outs.len();
                    widen(w16, &filter[first * depth..(first + n) * depth]);
                    w16[n * depth..].fill(0);
                    let sums = dot8(x16, w16);
                    for (j, (out, &dot)) in outs.iter_mut().zip(&sums).enumerate() {
                        *out = finish(first + j, dot);
                    }
                }
            } else {
                for (u, (out, weights)) in out_row
                    .iter_mut()
                    .zip(filter.chunks_exact(depth))
                    .enumerate()
                {
                    *out = finish(u, dot_i8(row, weights));
                }
            }
        }
    }
}

impl FullyConnectedI8 {
    /// The SIMD path: raw sums `Σ w · (x + offset)` for a batch of rows into a stack buffer,
    /// then the bias, the weights' zero-point term and the double-precision output stage.
    fn run_packed(&self, gemm: &Gemm, bias: &[i32], input: &[i8], output: &mut [i8]) {
        let (depth, units) = (self.depth, self.units);
        let mut raw = [0i32; RAW_CAPACITY];
        let batch = (RAW_CAPACITY / units).max(1);
        for (rows_in, rows_out) in input
            .chunks(batch * depth)
            .zip(output.chunks_mut(batch * units))
        {
            let count = rows_out.len() / units;
            let raw = &mut raw[..count * units];
            gemm.run_rows(count, rows_in, GemmOut::Raw(raw));
            for ((row, sums), out_row) in rows_in
                .chunks_exact(depth)
                .zip(raw.chunks_exact(units))
                .zip(rows_out.chunks_exact_mut(units))
            {
                let row_term = if self.filter_offset == 0 {
                    0
                } else {
                    let sum = row.iter().fold(0i32, |s, &x| s.wrapping_add(i32::from(x)));
                    self.filter_offset.wrapping_mul(sum)
                };
                for (u, (out, &dot)) in out_row.iter_mut().zip(sums).enumerate() {
                    let acc = dot.wrapping_add(bias[u]).wrapping_add(row_term);
                    *out = requantize_double(
                        acc,
                        self.scales[u],
                        self.output_zero_point,
                        self.act_min,
                        self.act_max,
                    );
                }
            }
        }
    }
}

/// The reference FULLY_CONNECTED output stage: `round(acc · scale)` in double (half away from
/// zero, C's `round`), then the zero point and the clamp. Where TFLite's `int32` conversion or
/// addition would overflow (undefined behaviour there), we saturate.
#[inline]
fn requantize_double(acc: i32, scale: f64, zero_point: i32, lo: i32, hi: i32) -> i8 {
    let scaled = libm::round(f64::from(acc) * scale) as i32;
    let v = scaled.saturating_add(zero_point).max(lo).min(hi);
    // lo ≥ −128 and hi ≤ 127, so the value fits.
    v as i8
}

/// float32 FULLY_CONNECTED, prepared once at load time.
#[derive(Debug, Clone)]
pub struct FullyConnectedF32 {
    rows: usize,
    depth: usize,
    units: usize,
    /// The weights transposed for lane-parallel sums, when they were given at prepare and a
    /// SIMD path exists.
    packed: Option<PackedF32>,
    /// The model's bias (zeros when it has none, as TFLite adds 0.0 then).
    bias: Vec<f32>,
    act_min: f32,
    act_max: f32,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

impl FullyConnectedF32 {
    /// Validates a float32 FULLY_CONNECTED. `filter` is the `[units, depth]` shape; `bias`
    /// (optional, one per unit) is copied.
    pub fn new(
        input: Shape,
        filter: Shape,
        bias: Option<&[f32]>,
        options: FullyConnectedOptions,
    ) -> Result<Self, Invalid> {
        let (rows, depth, units, output_shape) = geometry(&input, &filter, options)?;
        let bias = match bias {
            Some(b) if b.len() != units => {
                return Err(format!("bias has {} values for {units} units", b.len()))
            }
            Some(b) => b.to_vec(),
            None => vec![0.0; units],
        };
        let (act_min, act_max) = options.activation.range_f32();
        Ok(Self {
            rows,
            depth,
            units,
            packed: None,
            bias,
            act_min,
            act_max,
            filter_len: units * depth,
            input_len: input.num_elements(),
            output_shape,
        })
    }

    /// [`FullyConnectedF32::new`] for constant weights: on a SIMD path they are copied,
    /// transposed, so that many units are summed side by side (each in the same order, so
    /// with the same result). `run` must then be given the same `weights`.
    pub fn with_weights(
        input: Shape,
        filter: Shape,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: FullyConnectedOptions,
    ) -> Result<Self, Invalid> {
        let mut fc = Self::new(input, filter, bias, options)?;
        fc.packed = PackedF32::new(Simd::detect(), weights, fc.units, fc.depth);
        Ok(fc)
    }

    /// The output shape TFLite's Prepare gives.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// Runs the layer.
    pub fn run(&self, input: &[f32], filter: &[f32], output: &mut [f32]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.rows * self.units);
        if let Some(packed) = &self.packed {
            for (row, out_row) in input
                .chunks_exact(self.depth)
                .zip(output.chunks_exact_mut(self.units))
            {
                for (block, (outs, bias)) in out_row
                    .chunks_mut(F32_LANES)
                    .zip(self.bias.chunks(F32_LANES))
                    .enumerate()
                {
                    let mut acc = [0.0f32; F32_LANES];
                    packed.accumulate(block, &mut acc, 0, row);
                    for ((out, &total), &b) in outs.iter_mut().zip(&acc).zip(bias) {
                        *out = clamp_f32(total + b, self.act_min, self.act_max);
                    }
                }
            }
            return;
        }
        for (row, out_row) in input
            .chunks_exact(self.depth)
            .zip(output.chunks_exact_mut(self.units))
        {
            for ((out, weights), &bias) in out_row
                .iter_mut()
                .zip(filter.chunks_exact(self.depth))
                .zip(&self.bias)
            {
                // One running f32 sum over the depth, in order, as TFLite's reference loop.
                let total = row
                    .iter()
                    .zip(weights)
                    .fold(0.0f32, |t, (&x, &w)| t + x * w);
                *out = clamp_f32(total + bias, self.act_min, self.act_max);
            }
        }
    }
}

/// `(rows, depth, units, output shape)` of a fully connected layer.
fn geometry(
    input: &Shape,
    filter: &Shape,
    options: FullyConnectedOptions,
) -> Result<(usize, usize, usize, Shape), Invalid> {
    let &[units, depth] = filter.dims() else {
        return Err(format!(
            "filter must have 2 dimensions [units, depth], got {filter}"
        ));
    };
    if units == 0 || depth == 0 {
        return Err(format!("filter {filter} is empty"));
    }
    let elements = input.num_elements();
    if options.keep_num_dims {
        if input.rank() == 0 || input.last_dim() != depth {
            return Err(format!(
                "with keep_num_dims the input's last dimension must be the filter depth \
                 {depth}, got input {input}"
            ));
        }
    } else if !elements.is_multiple_of(depth) {
        return Err(format!(
            "input {input} ({elements} values) is not a whole number of rows of depth {depth}"
        ));
    }
    let rows = elements / depth;
    let output_shape = if options.keep_num_dims {
        let mut dims: Vec<usize> = input.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = units;
        }
        Shape::new(&dims)
    } else {
        Shape::new(&[rows, units])
    }
    .ok_or_else(|| format!("the output of {rows} rows of {units} units is too large"))?;
    Ok((rows, depth, units, output_shape))
}

#[cfg(test)]
mod tests {
    use super::super::conv::testing::*;
    use super::*;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    const FLAT: FullyConnectedOptions = FullyConnectedOptions {
        activation: Activation::None,
        keep_num_dims: false,
    };

    // TFLite's fully_connected_test.cc SimpleTest data: 2 rows of 10, 3 units.
    const INPUT: [f32; 20] = [
        1., 2., 3., 4., 5., 6., 7., 8., -9., -10., 1., 2., 3., 4., 5., 6., 7., -8., 9., -10.,
    ];
    const WEIGHTS: [f32; 30] = [
        1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 1., 2.,
        3., 4., 5., 6., 7., 8., 9., 10.,
    ];

    #[test]
    fn float_matches_tflite_tests() {
        let relu = FullyConnectedOptions {
            activation: Activation::Relu,
            ..FLAT
        };
        let fc =
            FullyConnectedF32::new(shape(&[2, 10]), shape(&[3, 10]), Some(&[1., 2., 3.]), relu)
                .unwrap();
        assert_eq!(fc.output_shape().dims(), &[2, 3]);
        let mut out = [0.0; 6];
        fc.run(&INPUT, &WEIGHTS, &mut out);
        assert_eq!(out, [24., 25., 26., 58., 59., 60.]);
        // SimpleTest2 and SimpleTestNoBias: one unit over rows of 2.
        let fc = FullyConnectedF32::new(shape(&[2, 2]), shape(&[1, 2]), Some(&[1.]), relu).unwrap();
        let mut out = [0.0; 2];
        fc.run(&[1., 2., 2., 1.], &[2., 4.], &mut out);
        assert_eq!(out, [11., 9.]);
        let fc = FullyConnectedF32::new(shape(&[2, 2]), shape(&[1, 2]), None, relu).unwrap();
        fc.run(&[1., 2., 2., 1.], &[2., 4.], &mut out);
        assert_eq!(out, [10., 8.]);
    }

    #[test]
    fn output_shape_follows_keep_num_dims() {
        let keep = FullyConnectedOptions {
            keep_num_dims: true,
            ..FLAT
        };
        let f = shape(&[3, 5]);
        let fc = FullyConnectedF32::new(shape(&[2, 2, 5]), f, None, keep).unwrap();
        assert_eq!(fc.output_shape().dims(), &[2, 2, 3]);
        let fc = FullyConnectedF32::new(shape(&[2, 2, 5]), f, None, FLAT).unwrap();
        assert_eq!(fc.output_shape().dims(), &[4, 3]);
        // micro_speech: a [1, 25, 20, 8] input flattened against 4000-wide weights.
        let fc =
            FullyConnectedF32::new(shape(&[1, 25, 20, 8]), shape(&[4, 4000]), None, FLAT).unwrap();
        assert_eq!(fc.output_shape().dims(), &[1, 4]);
        let err = |i: &[usize], f: &[usize], o| {
            FullyConnectedF32::new(shape(i), shape(f), None, o).unwrap_err()
        };
        assert!(err(&[2, 2, 5], &[3, 4], keep).contains("last dimension"));
        assert!(err(&[2, 7], &[3, 4], FLAT).contains("whole number of rows"));
        assert!(err(&[2, 4], &[3, 4, 1], FLAT).contains("2 dimensions"));
        assert!(err(&[2, 4], &[0, 4], FLAT).contains("empty"));
    }

    #[test]
    fn int8_matches_tflite_per_tensor_test() {
        // SimpleTestQuantizedInt8: input and weights in [−63.5, 64] (scale 0.5, zero point −1:
        // asymmetric weights), output in [−127, 128] (scale 1, zero point −1), ReLU.
        let input = quantize(&INPUT, 0.5, -1);
        let weights = quantize(&WEIGHTS, 0.5, -1);
        let bias = quantize_i32(&[1., 2., 3.], 0.25);
        let fc = FullyConnectedI8::new(
            shape(&[2, 10]),
            Affine {
                scale: 0.5,
                zero_point: -1,
            },
            Int8Filter {
                shape: shape(&[3, 10]),
                data: &weights,
                scales: &[0.5],
                zero_points: &[-1],
                quantized_dimension: 0,
            },
            Some(&bias),
            Affine {
                scale: 1.0,
                zero_point: -1,
            },
            FullyConnectedOptions {
                activation: Activation::Relu,
                keep_num_dims: false,
            },
        )
        .unwrap();
        let mut out = [0i8; 6];
        fc.run(&input, &weights, &mut out);
        assert_eq!(out, [23, 24, 25, 57, 58, 59]);
    }

    #[test]
    fn int8_matches_tflite_per_channel_keep_num_dims_test() {
        // SimpleTestPerChannelQuantizedOutputShape3DInt8.
        let scales = [0.2f32, 0.25, 0.5];
        let real_weights = [1., 2., 3., 4., 5.];
        let weights: alloc::vec::Vec<i8> = scales
            .iter()
            .flat_map(|&s| quantize(&real_weights, s, 0))
            .collect();
        let bias_scales: alloc::vec::Vec<f32> = scales.iter().map(|s| 0.5 * s).collect();
        let bias = quantize_bias_per_channel(&[1., 2., 3.], &bias_scales);
        let input = quantize(
            &[
                1., 2., 3., 4., -5., 1., 2., 3., -4., 5., 1., 2., -3., 4., 5., 1., -2., 3., 4., 5.,
            ],
            0.5,
            -1,
        );
        let fc = FullyConnectedI8::new(
            shape(&[2, 2, 5]),
            Affine {
                scale: 0.5,
                zero_point: -1,
            },
            Int8Filter {
                shape: shape(&[3, 5]),
                data: &weights,
                scales: &scales,
                zero_points: &[0, 0, 0],
                quantized_dimension: 0,
            },
            Some(&bias),
            Affine {
                scale: 1.0,
                zero_point: -1,
            },
            FullyConnectedOptions {
                activation: Activation::Relu,
                keep_num_dims: true,
            },
        )
        .unwrap();
        assert_eq!(fc.output_shape().dims(), &[2, 2, 3]);
        let mut out = [0i8; 12];
        fc.run(&input, &weights, &mut out);
        assert_eq!(out, [5, 6, 7, 23, 24, 25, 37, 38, 39, 47, 48, 49]);
    }

    #[test]
    fn int8_rescales_in_double_like_the_reference_kernel() {
        // Cases where the fixed-point multiplier of FULLY_CONNECTED's Prepare gives one more
        // than the double rescale; `expected` is what TFLite's BUILTIN_REF kernel
        // (ai-edge-litert 2.3) output for this one-layer model.
        struct Case {
            sx: f32,
            sw: f32,
            sy: f32,
            zx: i32,
            zy: i32,
            w: &'static [i8],
            b: i32,
            x: &'static [i8],
            expected: i8,
        }
        let cases = [
            Case {
                sx: 0.070_917_17,
                sw: 0.020_973_053,
                sy: 0.003_663_809_5,
                zx: 4,
                zy: -10,
                w: &[-111, -71, 88],
                b: -457,
                x: &[-94, 75, -55],
                expected: 66,
            },
            Case {
                sx: 0.050_602_797,
                sw: 0.033_376_545,
                sy: 0.007_216_673,
                zx: 9,
                zy: 6,
                w: &[94, 122],
                b: 174,
                x: &[65, -33],
                expected: 79,
            },
            Case {
                sx: 0.053_921_927,
                sw: 0.011_878_351,
                sy: 0.005_109_664,
                zx: -3,
                zy: -5,
                w: &[-21, -82, -108],
                b: -389,
                x: &[5, -7, -7],
                expected: 20,
            },
        ];
        for c in &cases {
            let depth = c.w.len();
            let fc = FullyConnectedI8::new(
                shape(&[1, depth]),
                Affine {
                    scale: c.sx,
                    zero_point: c.zx,
                },
                Int8Filter {
                    shape: shape(&[1, depth]),
                    data: c.w,
                    scales: &[c.sw],
                    zero_points: &[0],
                    quantized_dimension: 0,
                },
                Some(&[c.b]),
                Affine {
                    scale: c.sy,
                    zero_point: c.zy,
                },
                FLAT,
            )
            .unwrap();
            let mut out = [0i8];
            fc.run(c.x, c.w, &mut out);
            assert_eq!(out[0], c.expected);
            // And the fixed-point path would have said one more.
            let acc = c.b
                + c.w
                    .iter()
                    .zip(c.x)
                    .map(|(&w, &x)| i32::from(w) * (i32::from(x) - c.zx))
                    .sum::<i32>();
            let m =
                crate::quant::QuantizedMultiplier::new(f64::from(c.sx * c.sw) / f64::from(c.sy));
            assert_eq!(m.apply(acc) + c.zy, i32::from(c.expected) + 1);
        }
    }

    /// TFLite's reference FULLY_CONNECTED (the overloads taking float scales), transcribed.
    #[allow(clippy::too_many_arguments)]
    fn reference_fc_i8(
        input: &[i8],
        in_q: Affine,
        filter: &[i8],
        units: usize,
        scales: &[f32],
        filter_zero_point: i32,
        bias: Option<&[i32]>,
        out_q: Affine,
        act: Activation,
    ) -> alloc::vec::Vec<i8> {
        let depth = filter.len() / units;
        let (lo, hi) = act.range_quantized(out_q, -128, 127);
        let mut out = alloc::vec::Vec::new();
        for row in input.chunks(depth) {
            for u in 0..units {
                let mut acc = 0i32;
                for d in 0..depth {
                    let x = i32::from(row[d]);
                    let w = i32::from(filter[u * depth + d]);
                    acc = acc.wrapping_add((w - filter_zero_point) * (x - in_q.zero_point));
                }
                if let Some(b) = bias {
                    acc = acc.wrapping_add(b[u]);
                }
                let s = scales[if scales.len() == 1 { 0 } else { u }];
                let eff = f64::from(in_q.scale) * f64::from(s) / f64::from(out_q.scale);
                let v = libm::round(f64::from(acc) * eff) as i32 + out_q.zero_point;
                out.push(v.max(lo).min(hi) as i8);
            }
        }
        out
    }

    #[test]
    fn int8_matches_the_reference_loops_on_random_layers() {
        // Every SIMD path this CPU has, and the portable one, on the same layers.
        let paths = simd_paths();
        let mut rng = XorShift(0xfc_1234);
        for round in 0..400usize {
            // Mostly rows that take the widened path, some too deep for its stack buffer.
            let depth = if rng.usize(0, 9) == 0 {
                rng.usize(1900, 4500)
            } else {
                rng.usize(1, 300)
            };
            let (rows, units) = if round.is_multiple_of(10) {
                (rng.usize(1, 9), rng.usize(40, 1100))
            } else {
                (rng.usize(1, 4), rng.usize(1, 40))
            };
            let per_channel = rng.usize(0, 1) == 0;
            let scales: alloc::vec::Vec<f32> = (0..if per_channel { units } else { 1 })
                .map(|_| rng.f32(0.0005, 0.05))
                .collect();
            let fzp = if per_channel {
                0
            } else {
                rng.range(-30, 30) as i32
            };
            let in_q = Affine {
                scale: rng.f32(0.002, 0.3),
                zero_point: rng.range(-128, 127) as i32,
            };
            let out_q = Affine {
                scale: rng.f32(0.002, 0.5),
                zero_point: rng.range(-128, 127) as i32,
            };
            let act = [
                Activation::None,
                Activation::Relu,
                Activation::Relu6,
                Activation::ReluN1To1,
            ][rng.usize(0, 3)];
            let extreme = round.is_multiple_of(8);
            let input = rng.i8s_maybe_extreme(rows * depth, extreme);
            let filter = rng.i8s_maybe_extreme(units * depth, extreme);
            let bias: alloc::vec::Vec<i32> = (0..units)
                .map(|_| rng.range(-40_000, 40_000) as i32)
                .collect();
            let bias = if rng.usize(0, 5) == 0 {
                None
            } else {
                Some(&bias[..])
            };
            let zps = vec![fzp; scales.len()];
            let expected =
                reference_fc_i8(&input, in_q, &filter, units, &scales, fzp, bias, out_q, act);
            for &isa in &paths {
                let fc = FullyConnectedI8::with_isa(
                    shape(&[rows, depth]),
                    in_q,
                    Int8Filter {
                        shape: shape(&[units, depth]),
                        data: &filter,
                        scales: &scales,
                        zero_points: &zps,
                        quantized_dimension: 0,
                    },
                    bias,
                    out_q,
                    FullyConnectedOptions {
                        activation: act,
                        keep_num_dims: false,
                    },
                    isa,
                )
                .unwrap();
                let mut out = vec![0i8; rows * units];
                fc.run(&input, &filter, &mut out);
                assert_eq!(out, expected, "{} {rows}×{depth} → {units}", isa.name());
            }
        }
    }

    #[test]
    fn float_matches_the_reference_loops_bit_for_bit() {
        let mut rng = XorShift(0xfc_f32);
        for _ in 0..200 {
            let (rows, depth, units) = (rng.usize(1, 4), rng.usize(1, 300), rng.usize(1, 40));
            let input: alloc::vec::Vec<f32> =
                (0..rows * depth).map(|_| rng.f32(-2.0, 2.0)).collect();
            let filter: alloc::vec::Vec<f32> =
                (0..units * depth).map(|_| rng.f32(-1.0, 1.0)).collect();
            let bias: alloc::vec::Vec<f32> = (0..units).map(|_| rng.f32(-1.0, 1.0)).collect();
            // Without and with the weights at prepare (transposed on a SIMD path).
            let (input_shape, filter_shape) = (shape(&[rows, depth]), shape(&[units, depth]));
            let plain = FullyConnectedF32::new(input_shape, filter_shape, Some(&bias), FLAT);
            let packed = FullyConnectedF32::with_weights(
                input_shape,
                filter_shape,
                &filter,
                Some(&bias),
                FLAT,
            );
            for fc in [plain.unwrap(), packed.unwrap()] {
                let mut out = vec![0.0f32; rows * units];
                fc.run(&input, &filter, &mut out);
                for (r, row) in input.chunks(depth).enumerate() {
                    for u in 0..units {
                        let mut total = 0.0f32;
                        for d in 0..depth {
                            total += row[d] * filter[u * depth + d];
                        }
                        assert_eq!(out[r * units + u].to_bits(), (total + bias[u]).to_bits());
                    }
                }
            }
        }
    }

    #[test]
    fn missing_zero_points_read_as_zero() {
        let q = Affine {
            scale: 0.5,
            zero_point: 0,
        };
        let weights = [3i8, -2];
        let layer = |zero_points: &'static [i32]| {
            let fc = FullyConnectedI8::new(
                shape(&[1, 2]),
                q,
                Int8Filter {
                    shape: shape(&[1, 2]),
                    data: &weights,
                    scales: &[0.5],
                    zero_points,
                    quantized_dimension: 0,
                },
                None,
                q,
                FLAT,
            )
            .unwrap();
            let mut out = [0i8];
            fc.run(&[4, 5], &weights, &mut out);
            out[0]
        };
        // (3·4 − 2·5) · 0.5 · 0.5 / 0.5 = 1.
        assert_eq!(layer(&[]), 1);
        assert_eq!(layer(&[]), layer(&[0]));
    }

    #[test]
    fn refuses_asymmetric_per_channel_weights() {
        let q = Affine {
            scale: 1.0,
            zero_point: 0,
        };
        let data = [0i8; 4];
        let filter = Int8Filter {
            shape: shape(&[2, 2]),
            data: &data,
            scales: &[1.0, 1.0],
            zero_points: &[0, 2],
            quantized_dimension: 0,
        };
        assert!(
            FullyConnectedI8::new(shape(&[1, 2]), q, filter, None, q, FLAT)
                .unwrap_err()
                .contains("zero point 2")
        );
    }
}
