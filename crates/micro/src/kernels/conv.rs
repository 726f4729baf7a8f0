//! CONV_2D over NHWC activations and OHWI filters, int8 and float32, computing what TensorFlow
//! Lite's reference kernels compute.
//!
//! int8 follows `conv.cc` (Prepare) and `reference_integer_ops::ConvPerChannel` (Eval):
//! - one fixed-point multiplier per output channel, from `input_scale · filter_scale[c] /
//!   output_scale` evaluated in double (`PopulateConvolutionQuantizationParams`; a per-tensor
//!   filter scale is broadcast to every channel);
//! - `acc = Σ filter · (input − input_zero_point)` in i32 over the filter taps that fall inside
//!   the image — padding contributes nothing, it is not a border of zero points — then
//!   `+ bias`, `MultiplyByQuantizedMultiplier`, `+ output_zero_point`, clamp to the fused
//!   activation's range.
//!
//! float32 follows `reference_ops::Conv`: `total = Σ input · filter` accumulated in f32 in the
//! order filter row, filter column, input channel, then `total + bias`, then the clamp.
//!
//! Grouped convolutions (filter depth a divisor of the input depth) are supported as TFLite's
//! reference kernel supports them.
//!
//! This module also holds what CONV_2D shares with DEPTHWISE_CONV_2D and FULLY_CONNECTED: the
//! window options, the int8 filter description and the quantization checks.

use alloc::{format, vec, vec::Vec};

use super::simd::{Gemm, GemmOut, Isa, PackedF32, Requant, Simd, F32_LANES};
use super::{output_size_and_padding, Invalid, Padding};
use crate::quant::{rescale, Activation, Affine, QuantizedMultiplier, RescaleTerms};
use crate::Shape;

/// How a convolution window slides over the input (TFLite's `Conv2DOptions`; the depthwise
/// options add only a depth multiplier, which TFLite derives from the shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvOptions {
    /// SAME or VALID padding.
    pub padding: Padding,
    /// Step between output rows, in input rows.
    pub stride_height: usize,
    /// Step between output columns, in input columns.
    pub stride_width: usize,
    /// Spacing between filter rows, in input rows (1 = dense).
    pub dilation_height: usize,
    /// Spacing between filter columns, in input columns (1 = dense).
    pub dilation_width: usize,
    /// The activation fused into the output clamp.
    pub activation: Activation,
}

/// A constant int8 weight tensor with its quantization, as the model stores it.
#[derive(Debug, Clone, Copy)]
pub struct Int8Filter<'a> {
    /// The tensor's shape.
    pub shape: Shape,
    /// The values, row-major.
    pub data: &'a [i8],
    /// One scale for the whole tensor, or one per channel along `quantized_dimension`.
    pub scales: &'a [f32],
    /// The zero points matching `scales` (one, or one per scale; none reads as zeros).
    pub zero_points: &'a [i32],
    /// The axis per-channel scales run along (TFLite's `quantized_dimension`).
    pub quantized_dimension: usize,
}

/// int8 CONV_2D, prepared once at load time.
#[derive(Debug, Clone)]
pub struct Conv2dI8 {
    window: Window,
    /// Input channels each filter sees (the filter's last dimension).
    filter_depth: usize,
    output_depth: usize,
    /// Output channels per group (all of them for an ordinary convolution).
    group_width: usize,
    /// `−input_zero_point`, TFLite's `input_offset`.
    input_offset: i32,
    requant: ChannelRequant,
    /// The model's bias (zeros when it has none).
    bias: Vec<i32>,
    /// `bias + input_offset · Σ filter` per output channel: the whole offset term of a pixel
    /// whose every tap is inside the image, so such pixels can sum raw `input · filter`.
    folded_bias: Vec<i32>,
    /// `Σ filter` over the input channels of each `[out][fy][fx]` tap: border pixels add
    /// `input_offset ·` the sum over their valid taps only, exactly as TFLite skips the rest.
    tap_sums: Vec<i32>,
    /// The SIMD matrix product, when this CPU has one and the patch fits its buffer.
    packed: Option<(Gemm, Requant)>,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

impl Conv2dI8 {
    /// Validates an int8 CONV_2D and precomputes its multipliers, folded bias and clamp.
    ///
    /// `filter` is `[out, fh, fw, in / groups]` and must be a constant: its sums are folded
    /// into the bias here, and `run` must be given the same data. `bias` (optional, one int32
    /// per output channel) is copied.
    pub fn new(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: ConvOptions,
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

    /// [`Conv2dI8::new`] on the SIMD path `isa`, or on the portable code when this CPU lacks
    /// it (to compare paths, or to avoid the packed copy of the weights).
    pub fn with_isa(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: ConvOptions,
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

    pub(crate) fn on(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: ConvOptions,
        simd: Simd,
    ) -> Result<Self, Invalid> {
        let [batches, in_h, in_w, in_c] = nhwc(&input, "input")?;
        let [out_c, fh, fw, f_c] = nhwc(&filter.shape, "filter")?;
        check_filter_data(filter.data.len(), &filter.shape)?;
        let (group_width, _) = groups(in_c, f_c, out_c)?;
        let window = Window::new([batches, in_h, in_w, in_c], fh, fw, &options)?;
        check_activation_quant(input_q, "input")?;
        check_activation_quant(output_q, "output")?;
        let scales = channel_scales(&filter, 0, out_c)?;
        check_symmetric(&filter)?;
        let bias = bias_or_zeros(bias, out_c)?;
        let multipliers = conv_multipliers(input_q.scale, &scales, output_q.scale)?;
        let (act_min, act_max) = activation_range_i8(options.activation, output_q)?;
        let input_offset = -input_q.zero_point;

        // Σ filter per tap and per channel, in wrapping i32 like every accumulator here.
        let taps = fh * fw;
        let mut tap_sums = vec![0i32; out_c * taps];
        if f_c > 0 {
            for (sum, tap) in tap_sums.iter_mut().zip(filter.data.chunks_exact(f_c)) {
                *sum = tap.iter().fold(0i32, |s, &w| s.wrapping_add(i32::from(w)));
            }
        }
        let folded_bias: Vec<i32> = bias
            .iter()
            .zip(tap_sums.chunks_exact(taps.max(1)))
            .map(|(&b, sums)| {
                let total = sums.iter().fold(0i32, |s, &t| s.wrapping_add(t));
                b.wrapping_add(input_offset.wrapping_mul(total))
            })
            .collect();
        let terms: Vec<RescaleTerms> = multipliers.iter().map(|&m| RescaleTerms::new(m)).collect();
        let packed = if group_width == out_c {
            Gemm::new(simd, filter.data, out_c, fh * fw * f_c).map(|gemm| {
                let bias = kernel_bias(&folded_bias, &tap_sums, taps, gemm.offset());
                let requant = Requant::new(&terms, &bias, output_q.zero_point, act_min, act_max);
                (gemm, requant)
            })
        } else {
            None
        };

        let output_shape = window.output_shape(out_c)?;
        Ok(Self {
            packed,
            window,
            filter_depth: f_c,
            output_depth: out_c,
            group_width,
            input_offset,
            requant: ChannelRequant::new(&multipliers, output_q.zero_point, act_min, act_max),
            bias,
            folded_bias,
            tap_sums,
            filter_len: filter.data.len(),
            input_len: input.num_elements(),
            output_shape,
        })
    }

    /// The output shape TFLite's Prepare gives: `[batch, out_h, out_w, out_channels]`.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// Whether `run` takes the SIMD matrix product (which reads its own packed copy of the
    /// filter, not the `filter` argument).
    pub(crate) fn is_packed(&self) -> bool {
        self.packed.is_some()
    }

    /// Runs the convolution. `filter` must be the data given to [`Conv2dI8::new`].
    pub fn run(&self, input: &[i8], filter: &[i8], output: &mut [i8]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.output_shape.num_elements());
        let patch = self.window.filter_h * self.window.filter_w * self.filter_depth;
        if let Some((gemm, requant)) = &self.packed {
            self.run_packed(gemm, requant, input, output);
        } else if self.group_width == self.output_depth && (DOT_ROWS + 1) * patch <= PATCH_CAPACITY
        {
            self.run_blocked(input, filter, output, patch);
        } else {
            self.run_general(input, filter, output);
        }
    }

    /// The SIMD path: the convolution as a matrix product of input patches (im2col, one row
    /// per output pixel, taps in the padding holding the input zero point, whose contribution
    /// the kernel bias cancels) and the packed filter, with the output stage fused.
    fn run_packed(&self, gemm: &Gemm, requant: &Requant, input: &[i8], output: &mut [i8]) {
        let w = &self.window;
        let (fh, fw, c) = (w.filter_h, w.filter_w, w.in_c);
        let pixels = w.batches * w.out_h * w.out_w;
        // The input zero point, in int8 (checked at prepare).
        let zero_point = (-self.input_offset) as i8;
        if fh == 1 && fw == 1 && w.stride_h == 1 && w.stride_w == 1 {
            // A 1×1 stride-1 convolution: every input pixel is a row of the product as it is.
            return gemm.run_rows(pixels, input, GemmOut::Requant(requant, output));
        }
        let fill = |q: usize, row: &mut [i8]| {
            let (b, oy, ox) = (q / (w.out_h * w.out_w), q / w.out_w % w.out_h, q % w.out_w);
            let (y_origin, fy0, fy1) = w.rows(oy);
            let (x_origin, fx0, fx1) = w.cols(ox);
            if !(fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw) {
                row.fill(zero_point);
            }
            for fy in fy0..fy1 {
                let line = (b * w.in_h + w.tap(y_origin, fy, w.dil_h)) * w.in_w;
                if w.dil_w == 1 {
                    let at = (line + w.tap(x_origin, fx0, 1)) * c;
                    let len = (fx1 - fx0) * c;
                    row[(fy * fw + fx0) * c..][..len].copy_from_slice(&input[at..at + len]);
                } else {
                    for fx in fx0..fx1 {
                        let at = (line + w.tap(x_origin, fx, w.dil_w)) * c;
                        row[(fy * fw + fx) * c..][..c].copy_from_slice(&input[at..at + c]);
                    }
                }
            }
        };
        gemm.run(pixels, fill, GemmOut::Requant(requant, output));
    }

    /// The fast path of an ordinary (ungrouped) convolution, as a matrix product of widened
    /// patches and weight rows:
    /// - a block of output pixels has its input patches copied, widened to i16, into a stack
    ///   buffer (zeros where a tap falls in the padding), so every patch is one contiguous run;
    /// - the weight rows are widened eight at a time, once per block, and each patch is dotted
    ///   with the eight rows in one pass — i16 dot products compile to `pmaddwd` (SSE2) /
    ///   `smlal` (NEON), and the eight rows share every load of the patch;
    /// - the raw sums `Σ input · filter` get the folded bias (or, at the border, the bias plus
    ///   `input_offset ·` the filter sum over the taps inside the image) and are rescaled a row
    ///   of channels at a time.
    ///
    /// The i32 arithmetic wraps like TFLite's, so regrouping the sum changes no bit.
    fn run_blocked(&self, input: &[i8], filter: &[i8], output: &mut [i8], patch: usize) {
        let w = &self.window;
        let (fh, fw, c, out_c) = (w.filter_h, w.filter_w, w.in_c, self.output_depth);
        // A block of patches plus eight weight rows must fit the buffer (checked by `run`).
        let block = (PATCH_CAPACITY / patch - DOT_ROWS).min(BLOCK_PIXELS);
        let mut scratch = [0i16; PATCH_CAPACITY];
        let (patches, rest) = scratch.split_at_mut(block * patch);
        let weights = &mut rest[..DOT_ROWS * patch];
        let mut acc = [[0i32; CHANNEL_BLOCK]; BLOCK_PIXELS];
        let mut base = [0i32; CHANNEL_BLOCK];
        // Per pixel of the block: its valid filter rows and columns.
        let mut taps = [(0usize, 0usize, 0usize, 0usize); BLOCK_PIXELS];
        let pixels = w.batches * w.out_h * w.out_w;
        let mut first = 0;
        while first < pixels {
            let count = block.min(pixels - first);
            for (p, dst) in patches.chunks_exact_mut(patch).take(count).enumerate() {
                let q = first + p;
                let (b, oy, ox) = (q / (w.out_h * w.out_w), q / w.out_w % w.out_h, q % w.out_w);
                let (y_origin, fy0, fy1) = w.rows(oy);
                let (x_origin, fx0, fx1) = w.cols(ox);
                taps[p] = (fy0, fy1, fx0, fx1);
                if !(fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw) {
                    dst.fill(0);
                }
                for fy in fy0..fy1 {
                    let row = (b * w.in_h + w.tap(y_origin, fy, w.dil_h)) * w.in_w;
                    if w.dil_w == 1 {
                        // The valid taps of a filter row are one contiguous run of the input.
                        let at = (row + w.tap(x_origin, fx0, 1)) * c;
                        let len = (fx1 - fx0) * c;
                        widen(&mut dst[(fy * fw + fx0) * c..][..len], &input[at..at + len]);
                    } else {
                        for fx in fx0..fx1 {
                            let at = (row + w.tap(x_origin, fx, w.dil_w)) * c;
                            widen(&mut dst[(fy * fw + fx) * c..][..c], &input[at..at + c]);
                        }
                    }
                }
            }
            for block_first in (0..out_c).step_by(CHANNEL_BLOCK) {
                let n = CHANNEL_BLOCK.min(out_c - block_first);
                for j in (0..n).step_by(DOT_ROWS) {
                    // Eight consecutive output channels; past the last one, zero rows whose
                    // sums are computed and dropped.
                    let oc = block_first + j;
                    let rows = DOT_ROWS.min(out_c - oc);
                    widen(weights, &filter[oc * patch..(oc + rows) * patch]);
                    weights[rows * patch..].fill(0);
                    for (row, x) in acc.iter_mut().zip(patches.chunks_exact(patch)).take(count) {
                        // All eight lanes (CHANNEL_BLOCK is a multiple of eight): a fixed-size
                        // copy stays inline, and lanes past `n` are never read.
                        row[j..j + DOT_ROWS].copy_from_slice(&dot8(x, weights));
                    }
                }
                for (p, row) in acc.iter_mut().enumerate().take(count) {
                    let (fy0, fy1, fx0, fx1) = taps[p];
                    let base = if fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw {
                        &self.folded_bias[block_first..block_first + n]
                    } else {
                        for (j, b) in base[..n].iter_mut().enumerate() {
                            let oc = block_first + j;
                            let sums = &self.tap_sums[oc * fh * fw..(oc + 1) * fh * fw];
                            let valid = (fy0..fy1)
                                .flat_map(|fy| &sums[fy * fw + fx0..fy * fw + fx1])
                                .fold(0i32, |s, &t| s.wrapping_add(t));
                            *b = self.bias[oc].wrapping_add(self.input_offset.wrapping_mul(valid));
                        }
                        &base[..n]
                    };
                    for (a, &b) in row[..n].iter_mut().zip(base) {
                        *a = a.wrapping_add(b);
                    }
                    let at = (first + p) * out_c + block_first;
                    self.requant
                        .row(block_first, &mut row[..n], &mut output[at..at + n]);
                }
            }
            first += count;
        }
    }

    /// Any convolution, grouped or with a patch too large for the stack buffer: one output
    /// channel at a time, summing i8 products tap by tap.
    fn run_general(&self, input: &[i8], filter: &[i8], output: &mut [i8]) {
        let w = &self.window;
        let (fh, fw, fd) = (w.filter_h, w.filter_w, self.filter_depth);
        let filter_stride = fh * fw * fd;
        let mut pixels = output.chunks_exact_mut(self.output_depth);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    let full = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                    for (oc, out) in out_px.iter_mut().enumerate() {
                        let group = oc / self.group_width;
                        let mut acc = if full {
                            self.folded_bias[oc]
                        } else {
                            let sums = &self.tap_sums[oc * fh * fw..(oc + 1) * fh * fw];
                            let mut valid = 0i32;
                            for fy in fy0..fy1 {
                                for &s in &sums[fy * fw + fx0..fy * fw + fx1] {
                                    valid = valid.wrapping_add(s);
                                }
                            }
                            self.bias[oc].wrapping_add(self.input_offset.wrapping_mul(valid))
                        };
                        let f_base = oc * filter_stride;
                        for fy in fy0..fy1 {
                            let iy = w.tap(y_origin, fy, w.dil_h);
                            for fx in fx0..fx1 {
                                let ix = w.tap(x_origin, fx, w.dil_w);
                                let at = ((b * w.in_h + iy) * w.in_w + ix) * w.in_c + group * fd;
                                let f_at = f_base + (fy * fw + fx) * fd;
                                acc = acc.wrapping_add(dot_i8(
                                    &input[at..at + fd],
                                    &filter[f_at..f_at + fd],
                                ));
                            }
                        }
                        *out = self.requant.one(oc, acc);
                    }
                }
            }
        }
    }
}

/// The bias a SIMD matrix product adds to its raw sums `Σ w · (x + offset)` over every tap (the
/// padding's holding the zero point): the folded bias `bias − zero_point · Σ w` less the
/// kernel's `offset · Σ w`, in wrapping i32.
pub(crate) fn kernel_bias(
    folded_bias: &[i32],
    tap_sums: &[i32],
    taps: usize,
    offset: i32,
) -> Vec<i32> {
    folded_bias
        .iter()
        .zip(tap_sums.chunks_exact(taps.max(1)))
        .map(|(&b, sums)| {
            let total = sums.iter().fold(0i32, |s, &t| s.wrapping_add(t));
            b.wrapping_sub(offset.wrapping_mul(total))
        })
        .collect()
}

/// Buffer for the widened patches of a block of output pixels and eight weight rows, in i16
/// elements. It lives on the stack (the run functions never allocate): 32 KiB where stacks are
/// large, 4 KiB on 32-bit targets such as microcontrollers.
pub(crate) const PATCH_CAPACITY: usize = if cfg!(target_pointer_width = "64") {
    16 * 1024
} else {
    2 * 1024
};
/// Weight rows (output channels) dotted with a patch in one pass.
pub(crate) const DOT_ROWS: usize = 8;
/// Output pixels per block: each widened weight row is reused this many times.
const BLOCK_PIXELS: usize = 8;
/// Output channels rescaled per row call (a multiple of `DOT_ROWS`).
const CHANNEL_BLOCK: usize = 64;
const _: () = assert!(CHANNEL_BLOCK.is_multiple_of(DOT_ROWS));

/// The per-channel output stage of an int8 kernel: the rescale terms of each channel in
/// separate arrays, and a row function in two passes — the branch-free rescale, then zero
/// point, clamp and narrowing, which vectorizes.
#[derive(Debug, Clone)]
pub(crate) struct ChannelRequant {
    multiplier: Vec<i32>,
    left: Vec<u32>,
    right: Vec<u32>,
    round: Vec<i64>,
    round_mask: Vec<i64>,
    zero_point: i32,
    lo: i32,
    hi: i32,
}

impl ChannelRequant {
    /// The output stage for `multipliers` (shifts in −31..=31, as `conv_multipliers` checks).
    pub(crate) fn new(
        multipliers: &[QuantizedMultiplier],
        zero_point: i32,
        lo: i32,
        hi: i32,
    ) -> Self {
        let t: Vec<RescaleTerms> = multipliers.iter().map(|&m| RescaleTerms::new(m)).collect();
        Self {
            multiplier: t.iter().map(|t| t.multiplier).collect(),
            left: t.iter().map(|t| t.left_shift).collect(),
            right: t.iter().map(|t| t.right_shift).collect(),
            round: t.iter().map(|t| t.round).collect(),
            round_mask: t.iter().map(|t| t.round_mask).collect(),
            zero_point,
            lo,
            hi,
        }
    }

    /// TFLite's output stage for one accumulator of channel `c`.
    #[inline]
    pub(crate) fn one(&self, c: usize, acc: i32) -> i8 {
        let v = rescale(
            acc,
            self.multiplier[c],
            self.left[c],
            self.right[c],
            self.round[c],
            self.round_mask[c],
        );
        clamp_i8(v, self.zero_point, self.lo, self.hi)
    }

    /// The output stage for channels `first..first + acc.len()` of one pixel (`acc` is used as
    /// scratch). Kept out of line: inlined into a kernel's loops it runs short of registers.
    #[inline(never)]
    pub(crate) fn row(&self, first: usize, acc: &mut [i32], out: &mut [i8]) {
        let range = first..first + acc.len();
        let terms = self.multiplier[range.clone()]
            .iter()
            .zip(&self.left[range.clone()])
            .zip(&self.right[range.clone()])
            .zip(&self.round[range.clone()])
            .zip(&self.round_mask[range]);
        for (a, ((((&m, &l), &r), &round), &fix)) in acc.iter_mut().zip(terms) {
            *a = rescale(*a, m, l, r, round, fix);
        }
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = clamp_i8(a, self.zero_point, self.lo, self.hi);
        }
    }
}

/// Adds the zero point (wrapping, like TFLite's unchecked `+=`) and clamps with max then min,
/// as `std::max`/`std::min`, so even an empty range behaves as TFLite's.
#[inline(always)]
fn clamp_i8(v: i32, zero_point: i32, lo: i32, hi: i32) -> i8 {
    // lo ≥ −128 and hi ≤ 127, so the clamped value fits.
    v.wrapping_add(zero_point).max(lo).min(hi) as i8
}

/// Sign-extends int8 values to i16.
#[inline]
pub(crate) fn widen(dst: &mut [i16], src: &[i8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = i16::from(s);
    }
}

/// Eight dot products sharing one operand, `x · row[r]` for the eight consecutive rows of
/// `rows` (each `x.len()` long), in wrapping i32. One indexed loop with eight accumulators:
/// the compiler vectorizes it with `pmaddwd` and loads each element of `x` once for all rows.
#[inline]
pub(crate) fn dot8(x: &[i16], rows: &[i16]) -> [i32; 8] {
    let n = x.len();
    let (r0, rest) = rows.split_at(n);
    let (r1, rest) = rest.split_at(n);
    let (r2, rest) = rest.split_at(n);
    let (r3, rest) = rest.split_at(n);
    let (r4, rest) = rest.split_at(n);
    let (r5, rest) = rest.split_at(n);
    let (r6, r7) = rest.split_at(n);
    let r7 = &r7[..n];
    let mut s = [0i32; 8];
    for i in 0..n {
        let v = i32::from(x[i]);
        s[0] = s[0].wrapping_add(v * i32::from(r0[i]));
        s[1] = s[1].wrapping_add(v * i32::from(r1[i]));
        s[2] = s[2].wrapping_add(v * i32::from(r2[i]));
        s[3] = s[3].wrapping_add(v * i32::from(r3[i]));
        s[4] = s[4].wrapping_add(v * i32::from(r4[i]));
        s[5] = s[5].wrapping_add(v * i32::from(r5[i]));
        s[6] = s[6].wrapping_add(v * i32::from(r6[i]));
        s[7] = s[7].wrapping_add(v * i32::from(r7[i]));
    }
    s
}

/// float32 CONV_2D, prepared once at load time.
#[derive(Debug, Clone)]
pub struct Conv2dF32 {
    window: Window,
    filter_depth: usize,
    output_depth: usize,
    group_width: usize,
    /// The filter transposed for lane-parallel sums (ungrouped convolutions whose filter was
    /// given at prepare, on a SIMD path).
    packed: Option<PackedF32>,
    /// The model's bias (zeros when it has none: TFLite adds 0.0 then, which matters for −0).
    bias: Vec<f32>,
    act_min: f32,
    act_max: f32,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

impl Conv2dF32 {
    /// Validates a float32 CONV_2D. `filter` is the `[out, fh, fw, in / groups]` shape; `bias`
    /// (optional, one per output channel) is copied.
    pub fn new(
        input: Shape,
        filter: Shape,
        bias: Option<&[f32]>,
        options: ConvOptions,
    ) -> Result<Self, Invalid> {
        let [batches, in_h, in_w, in_c] = nhwc(&input, "input")?;
        let [out_c, fh, fw, f_c] = nhwc(&filter, "filter")?;
        let (group_width, _) = groups(in_c, f_c, out_c)?;
        let window = Window::new([batches, in_h, in_w, in_c], fh, fw, &options)?;
        let bias = match bias {
            Some(b) if b.len() != out_c => {
                return Err(format!(
                    "bias has {} values for {out_c} output channels",
                    b.len()
                ))
            }
            Some(b) => b.to_vec(),
            None => vec![0.0; out_c],
        };
        let (act_min, act_max) = options.activation.range_f32();
        Ok(Self {
            window,
            filter_depth: f_c,
            output_depth: out_c,
            group_width,
            packed: None,
            bias,
            act_min,
            act_max,
            filter_len: filter.num_elements(),
            input_len: input.num_elements(),
            output_shape: window.output_shape(out_c)?,
        })
    }

    /// The output shape TFLite's Prepare gives: `[batch, out_h, out_w, out_channels]`.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// [`Conv2dF32::new`] for a constant filter: on a SIMD path an ungrouped convolution's
    /// filter is copied, transposed, so that many output channels are summed side by side
    /// (each in TFLite's order, so with the same result). `run` must then be given the same
    /// `weights`.
    pub fn with_weights(
        input: Shape,
        filter: Shape,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: ConvOptions,
    ) -> Result<Self, Invalid> {
        let mut conv = Self::new(input, filter, bias, options)?;
        let w = &conv.window;
        if conv.group_width == conv.output_depth {
            let patch = w.filter_h * w.filter_w * conv.filter_depth;
            conv.packed = PackedF32::new(Simd::detect(), weights, conv.output_depth, patch);
        }
        Ok(conv)
    }

    /// Runs the convolution.
    pub fn run(&self, input: &[f32], filter: &[f32], output: &mut [f32]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.output_shape.num_elements());
        if let Some(packed) = &self.packed {
            return self.run_packed(packed, input, output);
        }
        let w = &self.window;
        let (fh, fw, fd) = (w.filter_h, w.filter_w, self.filter_depth);
        let filter_stride = fh * fw * fd;
        let mut pixels = output.chunks_exact_mut(self.output_depth);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    for (oc, out) in out_px.iter_mut().enumerate() {
                        let group = oc / self.group_width;
                        let f_base = oc * filter_stride;
                        // One running f32 sum in TFLite's order: filter row, column, channel.
                        let mut total = 0.0f32;
                        for fy in fy0..fy1 {
                            let iy = w.tap(y_origin, fy, w.dil_h);
                            for fx in fx0..fx1 {
                                let ix = w.tap(x_origin, fx, w.dil_w);
                                let at = ((b * w.in_h + iy) * w.in_w + ix) * w.in_c + group * fd;
                                let f_at = f_base + (fy * fw + fx) * fd;
                                total = input[at..at + fd]
                                    .iter()
                                    .zip(&filter[f_at..f_at + fd])
                                    .fold(total, |t, (&x, &k)| t + x * k);
                            }
                        }
                        *out = clamp_f32(total + self.bias[oc], self.act_min, self.act_max);
                    }
                }
            }
        }
    }
}

impl Conv2dF32 {
    /// The lane-parallel path: per output pixel and block of 16 output channels, the taps
    /// inside the image in TFLite's order (filter row, column, channel), each tap row of the
    /// input one segment of the running sums.
    fn run_packed(&self, packed: &PackedF32, input: &[f32], output: &mut [f32]) {
        let w = &self.window;
        let (fw, c, out_c) = (w.filter_w, w.in_c, self.output_depth);
        let mut pixels = output.chunks_exact_mut(out_c);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    for (block, (outs, bias)) in out_px
                        .chunks_mut(F32_LANES)
                        .zip(self.bias.chunks(F32_LANES))
                        .enumerate()
                    {
                        let mut acc = [0.0f32; F32_LANES];
                        for fy in fy0..fy1 {
                            let row = (b * w.in_h + w.tap(y_origin, fy, w.dil_h)) * w.in_w;
                            if w.dil_w == 1 {
                                // The valid taps of a filter row: one run of the input.
                                let at = (row + w.tap(x_origin, fx0, 1)) * c;
                                let x = &input[at..at + (fx1 - fx0) * c];
                                packed.accumulate(block, &mut acc, (fy * fw + fx0) * c, x);
                            } else {
                                for fx in fx0..fx1 {
                                    let at = (row + w.tap(x_origin, fx, w.dil_w)) * c;
                                    let x = &input[at..at + c];
                                    packed.accumulate(block, &mut acc, (fy * fw + fx) * c, x);
                                }
                            }
                        }
                        for ((out, &total), &bv) in outs.iter_mut().zip(&acc).zip(bias) {
                            *out = clamp_f32(total + bv, self.act_min, self.act_max);
                        }
                    }
                }
            }
        }
    }
}

/// The largest size, stride or dilation accepted. TFLite keeps all of them in a C `int`;
/// bounding ours the same way keeps the i64 index arithmetic far from overflow.
const MAX_EXTENT: usize = i32::MAX as usize;

/// The sliding-window geometry shared by CONV_2D and DEPTHWISE_CONV_2D, validated so that
/// every input index a kernel computes from it is inside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) batches: usize,
    pub(crate) in_h: usize,
    pub(crate) in_w: usize,
    pub(crate) in_c: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) filter_h: usize,
    pub(crate) filter_w: usize,
    pub(crate) stride_h: usize,
    pub(crate) stride_w: usize,
    pub(crate) dil_h: usize,
    pub(crate) dil_w: usize,
    pub(crate) pad_h: usize,
    pub(crate) pad_w: usize,
}

impl Window {
    /// The output size and padding TFLite's `ComputePaddingHeightWidth` gives, after checking
    /// every size it relies on.
    pub(crate) fn new(
        input: [usize; 4],
        filter_h: usize,
        filter_w: usize,
        options: &ConvOptions,
    ) -> Result<Self, Invalid> {
        let [batches, in_h, in_w, in_c] = input;
        for (what, v) in [
            ("stride height", options.stride_height),
            ("stride width", options.stride_width),
            ("dilation height", options.dilation_height),
            ("dilation width", options.dilation_width),
        ] {
            if v == 0 {
                return Err(format!("{what} must be at least 1"));
            }
            if v > MAX_EXTENT {
                return Err(format!("{what} {v} is too large"));
            }
        }
        for (what, v) in [
            ("input batch", batches),
            ("input height", in_h),
            ("input width", in_w),
            ("input depth", in_c),
            ("filter height", filter_h),
            ("filter width", filter_w),
        ] {
            if v == 0 {
                return Err(format!("{what} is 0"));
            }
            if v > MAX_EXTENT {
                return Err(format!("{what} {v} is too large"));
            }
        }
        let extent = |filter: usize, dilation: usize| {
            (filter - 1)
                .checked_mul(dilation)
                .and_then(|e| e.checked_add(1))
                .filter(|&e| e <= MAX_EXTENT)
        };
        let too_big = || {
            format!(
                "the dilated {filter_h}×{filter_w} filter (dilation {}×{}) is too large",
                options.dilation_height, options.dilation_width
            )
        };
        extent(filter_h, options.dilation_height).ok_or_else(too_big)?;
        extent(filter_w, options.dilation_width).ok_or_else(too_big)?;
        let does_not_fit = || {
            format!(
                "a {filter_h}×{filter_w} filter (dilation {}×{}) does not fit the {in_h}×{in_w} \
                 input with {:?} padding",
                options.dilation_height, options.dilation_width, options.padding
            )
        };
        let (out_h, pad_h) = output_size_and_padding(
            options.padding,
            in_h,
            filter_h,
            options.stride_height,
            options.dilation_height,
        )
        .ok_or_else(does_not_fit)?;
        let (out_w, pad_w) = output_size_and_padding(
            options.padding,
            in_w,
            filter_w,
            options.stride_width,
            options.dilation_width,
        )
        .ok_or_else(does_not_fit)?;
        Ok(Self {
            batches,
            in_h,
            in_w,
            in_c,
            out_h,
            out_w,
            filter_h,
            filter_w,
            stride_h: options.stride_height,
            stride_w: options.stride_width,
            dil_h: options.dilation_height,
            dil_w: options.dilation_width,
            pad_h,
            pad_w,
        })
    }

    /// `[batch, out_h, out_w, channels]`.
    pub(crate) fn output_shape(&self, channels: usize) -> Result<Shape, Invalid> {
        Shape::new(&[self.batches, self.out_h, self.out_w, channels])
            .ok_or_else(|| format!("the output of {channels} channels is too large"))
    }

    /// For output row `oy`: the input row of filter row 0 (negative inside the top padding) and
    /// the range of filter rows that land inside the input.
    pub(crate) fn rows(&self, oy: usize) -> (i64, usize, usize) {
        let origin = (oy * self.stride_h) as i64 - self.pad_h as i64;
        let (first, end) = tap_range(origin, self.dil_h, self.filter_h, self.in_h);
        (origin, first, end)
    }

    /// For output column `ox`: as [`Window::rows`], across.
    pub(crate) fn cols(&self, ox: usize) -> (i64, usize, usize) {
        let origin = (ox * self.stride_w) as i64 - self.pad_w as i64;
        let (first, end) = tap_range(origin, self.dil_w, self.filter_w, self.in_w);
        (origin, first, end)
    }

    /// The input coordinate of filter tap `t` (one of a range from `rows`/`cols`, hence ≥ 0).
    #[inline]
    pub(crate) fn tap(&self, origin: i64, t: usize, dilation: usize) -> usize {
        (origin + (t * dilation) as i64) as usize
    }
}

/// The filter taps `[first, end)` whose coordinate `origin + tap · dilation` is in `[0, size)`.
fn tap_range(origin: i64, dilation: usize, filter: usize, size: usize) -> (usize, usize) {
    let d = dilation as i64;
    let first = if origin >= 0 {
        0
    } else {
        (-origin + d - 1) / d
    };
    let end = (size as i64 - origin + d - 1).max(0) / d;
    let first = first.min(filter as i64) as usize;
    let end = end.min(filter as i64) as usize;
    (first, end.max(first))
}

/// The four dimensions of a rank-4 tensor (TFLite's conv kernels accept nothing else).
pub(crate) fn nhwc(shape: &Shape, what: &str) -> Result<[usize; 4], Invalid> {
    match shape.dims() {
        &[a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(format!("{what} must have 4 dimensions, got {shape}")),
    }
}

/// Checks that a filter's data covers its shape.
pub(crate) fn check_filter_data(len: usize, shape: &Shape) -> Result<(), Invalid> {
    if len != shape.num_elements() {
        return Err(format!(
            "filter has {len} values for its shape {shape} ({} elements)",
            shape.num_elements()
        ));
    }
    Ok(())
}

/// `(output channels per group, groups)` of a possibly grouped convolution.
fn groups(in_c: usize, f_c: usize, out_c: usize) -> Result<(usize, usize), Invalid> {
    if f_c == 0 || !in_c.is_multiple_of(f_c) {
        return Err(format!(
            "filter depth {f_c} does not divide input depth {in_c}"
        ));
    }
    let groups = in_c / f_c;
    if out_c == 0 || !out_c.is_multiple_of(groups) {
        return Err(format!(
            "{out_c} output channels do not split into {groups} groups"
        ));
    }
    Ok((out_c / groups, groups))
}

/// A quantization scale must be a positive, finite number.
pub(crate) fn check_scale(scale: f32, what: &str) -> Result<(), Invalid> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!(
            "{what} scale {scale} is not a positive finite number"
        ));
    }
    Ok(())
}

/// An int8 activation tensor's quantization: a usable scale and a zero point inside int8.
pub(crate) fn check_activation_quant(q: Affine, what: &str) -> Result<(), Invalid> {
    check_scale(q.scale, what)?;
    if !(-128..=127).contains(&q.zero_point) {
        return Err(format!(
            "{what} zero point {} is outside int8",
            q.zero_point
        ));
    }
    Ok(())
}

/// The scale of each of `channels` channels: TFLite broadcasts a single scale, and accepts
/// one per channel when their count matches the filter's `quantized_dimension`.
pub(crate) fn channel_scales(
    filter: &Int8Filter<'_>,
    channel_axis: usize,
    channels: usize,
) -> Result<Vec<f32>, Invalid> {
    let scales = match filter.scales.len() {
        1 => vec![filter.scales[0]; channels],
        n if n == channels
            && filter.quantized_dimension < filter.shape.rank()
            && filter.shape.dim(filter.quantized_dimension) == n =>
        {
            filter.scales.to_vec()
        }
        n => {
            return Err(format!(
                "filter has {n} scales (along dimension {}); expected 1 or one per output \
                 channel ({channels}, dimension {channel_axis})",
                filter.quantized_dimension
            ))
        }
    };
    for s in &scales {
        check_scale(*s, "filter")?;
    }
    // No zero points at all reads as zeros, as TFLite's loader does.
    let zero_points = filter.zero_points.len();
    if !(zero_points <= 1 || zero_points == filter.scales.len()) {
        return Err(format!(
            "filter has {} zero points for {} scales",
            filter.zero_points.len(),
            filter.scales.len()
        ));
    }
    Ok(scales)
}

/// int8 convolution filters are symmetric: TFLite's per-channel kernels never subtract a
/// filter zero point (and `conv.cc` rejects one), so a nonzero one is refused here.
pub(crate) fn check_symmetric(filter: &Int8Filter<'_>) -> Result<(), Invalid> {
    match filter.zero_points.iter().find(|&&z| z != 0) {
        Some(z) => Err(format!(
            "filter zero point {z} is not 0 (int8 weights must be symmetric)"
        )),
        None => Ok(()),
    }
}

/// The bias, or zeros when the model has none.
pub(crate) fn bias_or_zeros(bias: Option<&[i32]>, channels: usize) -> Result<Vec<i32>, Invalid> {
    match bias {
        Some(b) if b.len() != channels => Err(format!(
            "bias has {} values for {channels} output channels",
            b.len()
        )),
        Some(b) => Ok(b.to_vec()),
        None => Ok(vec![0; channels]),
    }
}

/// One multiplier per channel, as `PopulateConvolutionQuantizationParams` computes it: the
/// scales are widened to double before `input · filter / output` (unlike FULLY_CONNECTED's
/// per-tensor path), and so must ours be to stay bit-exact.
pub(crate) fn conv_multipliers(
    input_scale: f32,
    filter_scales: &[f32],
    output_scale: f32,
) -> Result<Vec<QuantizedMultiplier>, Invalid> {
    filter_scales
        .iter()
        .map(|&fs| {
            let real = f64::from(input_scale) * f64::from(fs) / f64::from(output_scale);
            let m = QuantizedMultiplier::new(real);
            // A left shift past 31 would overflow TFLite's `x * (1 << shift)` (undefined
            // behaviour there); such a scale ratio is no real model.
            if m.shift > 31 {
                return Err(format!("effective output scale {real} is too large"));
            }
            Ok(m)
        })
        .collect()
}

/// The int8 clamp of a fused activation (`CalculateActivationRangeQuantized`), refusing output
/// scales so small that TFLite's quantized bound would not fit an int32.
pub(crate) fn activation_range_i8(act: Activation, out: Affine) -> Result<(i32, i32), Invalid> {
    let bounds: &[f32] = match act {
        Activation::None => &[],
        Activation::Relu => &[0.0],
        Activation::Relu6 => &[0.0, 6.0],
        Activation::ReluN1To1 => &[-1.0, 1.0],
    };
    for &b in bounds {
        // TFLite fails Prepare when round(b / scale) leaves int32; we keep a margin so that
        // adding the zero point cannot overflow either.
        let q = libm::roundf(b / out.scale);
        if q.is_nan() || q.abs() > (1u32 << 30) as f32 {
            return Err(format!(
                "output scale {} is too small for {act:?}",
                out.scale
            ));
        }
    }
    Ok(act.range_quantized(out, -128, 127))
}

/// TFLite's `ActivationFunctionWithMinMax`: `min(max(x, lo), hi)` with `std::` semantics, which
/// let a NaN through (Rust's `f32::max` would not).
#[inline]
pub(crate) fn clamp_f32(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if hi < x {
        hi
    } else {
        x
    }
}

/// `Σ a·b` in wrapping i32, the accumulator TFLite uses (whose overflow is undefined there and
/// wraps in practice).
#[inline]
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
        acc.wrapping_add(i32::from(x) * i32::from(y))
    })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the kernel tests: a seeded generator and TFLite's test quantizers.

    /// xorshift64*: deterministic random tests without a dependency.
    pub(crate) struct XorShift(pub(crate) u64);

    impl XorShift {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Uniform in `[lo, hi]`.
        pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }
        pub(crate) fn usize(&mut self, lo: usize, hi: usize) -> usize {
            self.range(lo as i64, hi as i64) as usize
        }
        pub(crate) fn i8s(&mut self, n: usize) -> alloc::vec::Vec<i8> {
            (0..n).map(|_| self.range(-128, 127) as i8).collect()
        }
        /// `i8s`, or with `extreme` only −128 and 127.
        pub(crate) fn i8s_maybe_extreme(&mut self, n: usize, extreme: bool) -> alloc::vec::Vec<i8> {
            if extreme {
                (0..n).map(|_| [-128i8, 127][self.usize(0, 1)]).collect()
            } else {
                self.i8s(n)
            }
        }
        pub(crate) fn f32(&mut self, lo: f32, hi: f32) -> f32 {
            lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
        }
    }

    /// Every SIMD path this CPU runs, the portable one included; says which ones it cannot.
    pub(crate) fn simd_paths() -> alloc::vec::Vec<crate::kernels::simd::Isa> {
        crate::kernels::simd::Simd::available_reporting()
            .into_iter()
            .map(|s| s.isa())
            .collect()
    }

    /// TFLite's test-util `Quantize`: `round(zero_point + x / scale)` (half away from zero),
    /// clamped to int8.
    pub(crate) fn quantize(x: &[f32], scale: f32, zero_point: i32) -> alloc::vec::Vec<i8> {
        x.iter()
            .map(|&v| libm::roundf(zero_point as f32 + v / scale).clamp(-128.0, 127.0) as i8)
            .collect()
    }

    /// The same for an int32 tensor (TFLite's per-tensor bias, zero point 0).
    pub(crate) fn quantize_i32(x: &[f32], scale: f32) -> alloc::vec::Vec<i32> {
        x.iter().map(|&v| libm::roundf(v / scale) as i32).collect()
    }

    /// TFLite's test-util `PerChannelQuantizeBias`: `b / scale` converted to int32, which
    /// truncates toward zero.
    pub(crate) fn quantize_bias_per_channel(b: &[f32], scales: &[f32]) -> alloc::vec::Vec<i32> {
        b.iter()
            .zip(scales.iter().cycle())
            .map(|(&v, &s)| (v / s) as i32)
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::testing::*;
    use super::*;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    fn opts(padding: Padding, stride: (usize, usize), act: Activation) -> ConvOptions {
        ConvOptions {
            padding,
            stride_height: stride.0,
            stride_width: stride.1,
            dilation_height: 1,
            dilation_width: 1,
            activation: act,
        }
    }

    fn run_f32(
        input: (&[usize], &[f32]),
        filter: (&[usize], &[f32]),
        bias: &[f32],
        options: ConvOptions,
    ) -> (Shape, alloc::vec::Vec<f32>) {
        let conv = Conv2dF32::new(shape(input.0), shape(filter.0), Some(bias), options).unwrap();
        let mut out = vec![0.0; conv.output_shape().num_elements()];
        conv.run(input.1, filter.1, &mut out);
        (conv.output_shape(), out)
    }

    // Input and filters of TFLite's conv_test.cc SimpleTestFloat32 and its variants.
    const SIMPLE_INPUT: [f32; 16] = [
        1., 1., 1., 1., 2., 2., 2., 2., 1., 2., 3., 4., 1., 2., 3., 4.,
    ];
    const SIMPLE_FILTER: [f32; 12] = [1., 2., 3., 4., -1., 1., -1., 1., -1., -1., 1., 1.];

    #[test]
    fn float_matches_tflite_simple_test() {
        let (s, out) = run_f32(
            (&[2, 2, 4, 1], &SIMPLE_INPUT),
            (&[3, 2, 2, 1], &SIMPLE_FILTER),
            &[1., 2., 3.],
            opts(Padding::Valid, (2, 2), Activation::None),
        );
        assert_eq!(s.dims(), &[2, 1, 2, 3]);
        assert_eq!(out, [18., 2., 5., 18., 2., 5., 17., 4., 3., 37., 4., 3.]);
    }

    #[test]
    fn float_matches_tflite_activations_and_strides() {
        let (_, relu6) = run_f32(
            (&[2, 2, 4, 1], &SIMPLE_INPUT),
            (&[3, 2, 2, 1], &SIMPLE_FILTER),
            &[1., 2., 3.],
            opts(Padding::Valid, (2, 2), Activation::Relu6),
        );
        assert_eq!(relu6, [6., 2., 5., 6., 2., 5., 6., 4., 3., 6., 4., 3.]);
        let (_, n1) = run_f32(
            (&[2, 2, 4, 1], &SIMPLE_INPUT),
            (&[3, 2, 2, 1], &SIMPLE_FILTER),
            &[1., 2., 3.],
            opts(Padding::Valid, (2, 2), Activation::ReluN1To1),
        );
        assert_eq!(n1, [1.; 12]);
        // StrideTest: stride 1, a slightly different input.
        let input = [
            1., 1., 1., 1., 2., 2., 3., 2., 1., 2., 3., 4., 1., 2., 4., 4.,
        ];
        let (s, out) = run_f32(
            (&[2, 2, 4, 1], &input),
            (&[3, 2, 2, 1], &SIMPLE_FILTER),
            &[1., 2., 3.],
            opts(Padding::Valid, (1, 1), Activation::None),
        );
        assert_eq!(s.dims(), &[2, 1, 3, 3]);
        assert_eq!(
            out,
            [18., 2., 5., 22., 3., 6., 21., 1., 6., 17., 4., 3., 31., 5., 4., 40., 3., 4.]
        );
    }

    #[test]
    fn float_matches_tflite_same_padding() {
        // PaddingTest.
        let input = [1., 1., 1., 1., 2., 2., 3., 2.];
        let (s, out) = run_f32(
            (&[1, 2, 4, 1], &input),
            (&[3, 2, 2, 1], &SIMPLE_FILTER),
            &[1., 2., 3.],
            opts(Padding::Same, (1, 1), Activation::None),
        );
        assert_eq!(s.dims(), &[1, 2, 4, 3]);
        assert_eq!(
            out,
            [
                18., 2., 5., 22., 3., 6., 21., 1., 6., 8., -1., 4., 7., 2., -1., 9., 3., -2., 8.,
                1., -2., 3., 0., 1.
            ]
        );
        // HandCalculatedFloat32: a 3×3 filter sliding over a 3×4 image with SAME padding.
        let image: alloc::vec::Vec<f32> = (1..=12).map(|v| v as f32).collect();
        let (_, out) = run_f32(
            (&[1, 3, 4, 1], &image),
            (&[1, 3, 3, 1], &[1., 4., 7., 2., 5., 8., 3., 6., 9.]),
            &[0.],
            opts(Padding::Same, (1, 1), Activation::None),
        );
        assert_eq!(
            out,
            [105., 150., 183., 95., 235., 312., 357., 178., 187., 234., 261., 121.]
        );
    }

    #[test]
    fn float_matches_tflite_anisotropic_strides_and_groups() {
        // SimpleTestFloat32WithAnisotropicStrides.
        let input = [
            3., 2., 1., -1., -2., -3., 4., 3., 2., -2., -3., -4., 5., 4., 3., -3., -4., -5.,
        ];
        let (s, out) = run_f32(
            (&[1, 3, 6, 1], &input),
            (&[1, 2, 2, 1], &[1., 2., 3., 4.]),
            &[-1.],
            opts(Padding::Valid, (1, 3), Activation::None),
        );
        assert_eq!(s.dims(), &[1, 2, 2, 1]);
        assert_eq!(out, [30., -24., 40., -34.]);
        // SimpleTestFloat32WithChannelsGrouped: 2 input channels, 2 groups of 1.
        let input = [
            1., 1., 1., 1., 2., 2., 2., 2., 3., 3., 3., 3., 4., 4., 4., 4.,
        ];
        let (s, out) = run_f32(
            (&[2, 2, 2, 2], &input),
            (&[2, 2, 2, 1], &[1., 1., 1., 1., -1., -1., -1., -1.]),
            &[1., 2.],
            opts(Padding::Valid, (2, 2), Activation::None),
        );
        assert_eq!(s.dims(), &[2, 1, 1, 2]);
        assert_eq!(out, [7., -4., 15., -12.]);
    }

    /// TFLite's SimplePerChannelTest / SimplePerTensorTest: input and output quantized with
    /// scale 0.5 and zero point −1, filter scale per channel, bias scale input·filter.
    fn tflite_per_channel_case(filter_scales: &[f32]) -> alloc::vec::Vec<i8> {
        let input = quantize(
            &[3., 2., 1., -1., -2., -3., 4., 3., 2., -2., -3., -4.],
            0.5,
            -1,
        );
        let real_filter = [
            1., 2., 3., 4., 3., 4., 5., 6., // out channel 0
            7., 8., 5., 6., 3., 4., 1., 2., // out channel 1
        ];
        let filter: alloc::vec::Vec<i8> = real_filter
            .chunks(8)
            .zip(filter_scales.iter().cycle())
            .flat_map(|(c, &s)| quantize(c, s, 0))
            .collect();
        let bias_scales: alloc::vec::Vec<f32> = filter_scales.iter().map(|s| 0.5 * s).collect();
        let bias = quantize_bias_per_channel(&[3., -2.], &bias_scales);
        let q = Affine {
            scale: 0.5,
            zero_point: -1,
        };
        let conv = Conv2dI8::new(
            shape(&[1, 2, 3, 2]),
            q,
            Int8Filter {
                shape: shape(&[2, 2, 2, 2]),
                data: &filter,
                scales: filter_scales,
                zero_points: &[0],
                quantized_dimension: 0,
            },
            Some(&bias),
            q,
            opts(Padding::Valid, (1, 1), Activation::None),
        )
        .unwrap();
        assert_eq!(conv.output_shape().dims(), &[1, 1, 2, 2]);
        let mut out = vec![0; 4];
        conv.run(&input, &filter, &mut out);
        out
    }

    #[test]
    fn int8_matches_tflite_per_tensor_and_per_channel_tests() {
        assert_eq!(tflite_per_channel_case(&[1.0]), [61, 111, -115, -89]);
        assert_eq!(tflite_per_channel_case(&[1.0, 2.0]), [61, 127, -115, -93]);
    }

    #[test]
    fn int8_skips_padding_instead_of_adding_zero_points() {
        // 1×1 image, 3×3 filter, SAME: only the centre tap is inside. With input zero point 10
        // and input 12, TFLite sums 1 · (12 − 10) = 2 at the centre and nothing for the eight
        // padded taps (a zero-point border would add 8 · (10 − 10) = 0 as well, but an
        // "input 0" border would add 8 · (0 − 10) = −80).
        let filter = [1i8; 9];
        let conv = Conv2dI8::new(
            shape(&[1, 1, 1, 1]),
            Affine {
                scale: 1.0,
                zero_point: 10,
            },
            Int8Filter {
                shape: shape(&[1, 3, 3, 1]),
                data: &filter,
                scales: &[1.0],
                zero_points: &[0],
                quantized_dimension: 0,
            },
            None,
            Affine {
                scale: 1.0,
                zero_point: 0,
            },
            opts(Padding::Same, (1, 1), Activation::None),
        )
        .unwrap();
        let mut out = [0i8; 1];
        conv.run(&[12], &filter, &mut out);
        assert_eq!(out, [2]);
    }

    /// TFLite's `reference_integer_ops::ConvPerChannel`, transcribed loop for loop, with the
    /// multipliers computed as `PopulateConvolutionQuantizationParams` does.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reference_conv_i8(
        input: &[i8],
        in_dims: [usize; 4],
        in_q: Affine,
        filter: &[i8],
        f_dims: [usize; 4],
        scales: &[f32],
        bias: Option<&[i32]>,
        out_q: Affine,
        o: ConvOptions,
    ) -> alloc::vec::Vec<i8> {
        let [n, h, w, c] = in_dims;
        let [oc_n, fh, fw, fd] = f_dims;
        let (oh, ph) =
            output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height).unwrap();
        let (ow, pw) =
            output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width).unwrap();
        let per_group = oc_n / (c / fd);
        let (lo, hi) = o.activation.range_quantized(out_q, -128, 127);
        let mut out = alloc::vec::Vec::new();
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for oc in 0..oc_n {
                        let g = oc / per_group;
                        let mut acc = 0i32;
                        for fy in 0..fh {
                            let iy = (oy * o.stride_height) as i64 - ph as i64
                                + (fy * o.dilation_height) as i64;
                            for fx in 0..fw {
                                let ix = (ox * o.stride_width) as i64 - pw as i64
                                    + (fx * o.dilation_width) as i64;
                                if iy < 0 || iy >= h as i64 || ix < 0 || ix >= w as i64 {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                for ic in 0..fd {
                                    let x =
                                        i32::from(input[((b * h + iy) * w + ix) * c + g * fd + ic]);
                                    let k = i32::from(filter[((oc * fh + fy) * fw + fx) * fd + ic]);
                                    acc = acc.wrapping_add(k * (x - in_q.zero_point));
                                }
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias[oc]);
                        }
                        let s = scales[if scales.len() == 1 { 0 } else { oc }];
                        let m = QuantizedMultiplier::new(
                            f64::from(in_q.scale) * f64::from(s) / f64::from(out_q.scale),
                        );
                        let v = crate::quant::multiply_by_quantized_multiplier(
                            acc,
                            m.multiplier,
                            m.shift,
                        )
                        .wrapping_add(out_q.zero_point);
                        out.push(v.max(lo).min(hi) as i8);
                    }
                }
            }
        }
        out
    }

    /// TFLite's `reference_ops::Conv` for float, transcribed loop for loop.
    fn reference_conv_f32(
        input: &[f32],
        in_dims: [usize; 4],
        filter: &[f32],
        f_dims: [usize; 4],
        bias: Option<&[f32]>,
        o: ConvOptions,
    ) -> alloc::vec::Vec<f32> {
        let [n, h, w, c] = in_dims;
        let [oc_n, fh, fw, fd] = f_dims;
        let (oh, ph) =
            output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height).unwrap();
        let (ow, pw) =
            output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width).unwrap();
        let per_group = oc_n / (c / fd);
        let (lo, hi) = o.activation.range_f32();
        let mut out = alloc::vec::Vec::new();
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for oc in 0..oc_n {
                        let g = oc / per_group;
                        let mut total = 0.0f32;
                        for fy in 0..fh {
                            let iy = (oy * o.stride_height) as i64 - ph as i64
                                + (fy * o.dilation_height) as i64;
                            for fx in 0..fw {
                                let ix = (ox * o.stride_width) as i64 - pw as i64
                                    + (fx * o.dilation_width) as i64;
                                if iy < 0 || iy >= h as i64 || ix < 0 || ix >= w as i64 {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                for ic in 0..fd {
                                    total += input[((b * h + iy) * w + ix) * c + g * fd + ic]
                                        * filter[((oc * fh + fy) * fw + fx) * fd + ic];
                                }
                            }
                        }
                        let bv = bias.map_or(0.0, |b| b[oc]);
                        out.push(clamp_f32(total + bv, lo, hi));
                    }
                }
            }
        }
        out
    }

    /// A random convolution geometry that fits: input dims, filter dims, options.
    pub(crate) fn random_geometry(
        rng: &mut XorShift,
        depthwise: bool,
    ) -> ([usize; 4], [usize; 4], ConvOptions) {
        loop {
            let (h, w) = (rng.usize(1, 13), rng.usize(1, 13));
            let c = rng.usize(1, 40);
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
                activation: [
                    Activation::None,
                    Activation::Relu,
                    Activation::Relu6,
                    Activation::ReluN1To1,
                ][rng.usize(0, 3)],
            };
            let fits =
                output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height)
                    .is_some()
                    && output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width)
                        .is_some();
            if !fits {
                continue;
            }
            let f_dims = if depthwise {
                [1, fh, fw, c * rng.usize(1, 4)]
            } else {
                let groups = if rng.usize(0, 4) == 0 && c.is_multiple_of(2) {
                    2
                } else {
                    1
                };
                [rng.usize(1, 24) * groups, fh, fw, c / groups]
            };
            return ([rng.usize(1, 2), h, w, c], f_dims, o);
        }
    }

    /// Random int8 quantization: scales over a wide range, zero points anywhere in int8.
    pub(crate) fn random_quant(
        rng: &mut XorShift,
        channels: usize,
    ) -> (Affine, alloc::vec::Vec<f32>, Affine) {
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

    #[test]
    fn int8_matches_the_reference_loops_on_random_convolutions() {
        // Every SIMD path this CPU has, and the portable one, on the same operators.
        let paths = simd_paths();
        let mut rng = XorShift(0x5eed_c0de);
        for round in 0..400usize {
            let (in_dims, f_dims, o) = random_geometry(&mut rng, false);
            let (in_q, scales, out_q) = random_quant(&mut rng, f_dims[0]);
            // One operator in eight has only extreme values.
            let extreme = round.is_multiple_of(8);
            let input = rng.i8s_maybe_extreme(in_dims.iter().product(), extreme);
            let filter = rng.i8s_maybe_extreme(f_dims.iter().product(), extreme);
            let bias: alloc::vec::Vec<i32> = (0..f_dims[0])
                .map(|_| rng.range(-40_000, 40_000) as i32)
                .collect();
            let bias = if rng.usize(0, 5) == 0 {
                None
            } else {
                Some(&bias[..])
            };
            let expected = reference_conv_i8(
                &input, in_dims, in_q, &filter, f_dims, &scales, bias, out_q, o,
            );
            for &isa in &paths {
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
                    bias,
                    out_q,
                    o,
                    isa,
                )
                .unwrap();
                let mut out = vec![0i8; conv.output_shape().num_elements()];
                conv.run(&input, &filter, &mut out);
                assert_eq!(out, expected, "{} {in_dims:?} {f_dims:?} {o:?}", isa.name());
            }
        }
    }

    #[test]
    fn float_matches_the_reference_loops_bit_for_bit() {
        let mut rng = XorShift(0xf10a7);
        for _ in 0..200 {
            let (in_dims, f_dims, o) = random_geometry(&mut rng, false);
            let input: alloc::vec::Vec<f32> = (0..in_dims.iter().product())
                .map(|_| rng.f32(-2.0, 2.0))
                .collect();
            let filter: alloc::vec::Vec<f32> = (0..f_dims.iter().product())
                .map(|_| rng.f32(-1.0, 1.0))
                .collect();
            let bias: alloc::vec::Vec<f32> = (0..f_dims[0]).map(|_| rng.f32(-1.0, 1.0)).collect();
            let bias = if rng.usize(0, 3) == 0 {
                None
            } else {
                Some(&bias[..])
            };
            let expected = reference_conv_f32(&input, in_dims, &filter, f_dims, bias, o);
            let bits = |v: &[f32]| {
                v.iter()
                    .map(|x| x.to_bits())
                    .collect::<alloc::vec::Vec<_>>()
            };
            // Without and with the filter at prepare (transposed on a SIMD path).
            let plain = Conv2dF32::new(shape(&in_dims), shape(&f_dims), bias, o).unwrap();
            let packed =
                Conv2dF32::with_weights(shape(&in_dims), shape(&f_dims), &filter, bias, o).unwrap();
            for conv in [plain, packed] {
                let mut out = vec![0.0f32; conv.output_shape().num_elements()];
                conv.run(&input, &filter, &mut out);
                assert_eq!(bits(&out), bits(&expected), "{in_dims:?} {f_dims:?} {o:?}");
            }
        }
    }

    #[test]
    fn deep_patches_use_smaller_pixel_blocks_with_the_same_results() {
        // Patches of 1 500 (64-bit buffer: 2 pixels per block) and 9 000 values (general
        // path), with SAME padding so that border pixels take part too.
        let mut rng = XorShift(0xdee9);
        for &(c, fh) in &[(1500usize, 1usize), (1000, 3)] {
            let in_dims = [1, 3, 4, c];
            let f_dims = [11, fh, fh, c];
            let o = opts(Padding::Same, (1, 1), Activation::Relu);
            let (in_q, scales, out_q) = random_quant(&mut rng, 11);
            let input = rng.i8s(in_dims.iter().product());
            let filter = rng.i8s(f_dims.iter().product());
            let bias: alloc::vec::Vec<i32> =
                (0..11).map(|_| rng.range(-9000, 9000) as i32).collect();
            let conv = Conv2dI8::new(
                shape(&in_dims),
                in_q,
                Int8Filter {
                    shape: shape(&f_dims),
                    data: &filter,
                    scales: &scales,
                    zero_points: &[0],
                    quantized_dimension: 0,
                },
                Some(&bias),
                out_q,
                o,
            )
            .unwrap();
            let mut out = vec![0i8; conv.output_shape().num_elements()];
            conv.run(&input, &filter, &mut out);
            let expected = reference_conv_i8(
                &input,
                in_dims,
                in_q,
                &filter,
                f_dims,
                &scales,
                Some(&bias),
                out_q,
                o,
            );
            assert_eq!(out, expected, "depth {c}, {fh}×{fh}");
        }
    }

    #[test]
    fn accumulators_wrap_like_tflite_instead_of_panicking() {
        // 70 000 products of 127 · 255 overflow an i32; TFLite's accumulator wraps (its
        // overflow is undefined and wraps in practice), ours must wrap identically and not
        // panic in a debug build.
        let depth = 70_000;
        let input = vec![127i8; depth];
        let filter = vec![127i8; depth];
        let in_q = Affine {
            scale: 0.01,
            zero_point: -128,
        };
        let out_q = Affine {
            scale: 1.0,
            zero_point: 0,
        };
        let o = opts(Padding::Valid, (1, 1), Activation::None);
        let conv = Conv2dI8::new(
            shape(&[1, 1, 1, depth]),
            in_q,
            Int8Filter {
                shape: shape(&[1, 1, 1, depth]),
                data: &filter,
                scales: &[0.01],
                zero_points: &[0],
                quantized_dimension: 0,
            },
            None,
            out_q,
            o,
        )
        .unwrap();
        let mut out = [0i8];
        conv.run(&input, &filter, &mut out);
        let expected = reference_conv_i8(
            &input,
            [1, 1, 1, depth],
            in_q,
            &filter,
            [1, 1, 1, depth],
            &[0.01],
            None,
            out_q,
            o,
        );
        assert_eq!(out[..], expected[..]);
    }

    #[test]
    fn refuses_inconsistent_operators() {
        let q = Affine {
            scale: 0.5,
            zero_point: 0,
        };
        let data = [0i8; 256];
        let filter = |dims: &[usize], scales: &'static [f32], zps: &'static [i32]| Int8Filter {
            shape: shape(dims),
            data: &data[..dims.iter().product::<usize>()],
            scales,
            zero_points: zps,
            quantized_dimension: 0,
        };
        let o = opts(Padding::Valid, (1, 1), Activation::None);
        let input = shape(&[1, 5, 5, 4]);
        let err = |r: Result<Conv2dI8, Invalid>| r.unwrap_err();
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 3], &[1.0], &[0]),
            None,
            q,
            o
        ))
        .contains("does not divide input depth 4"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1.0, 2.0, 3.0], &[0]),
            None,
            q,
            o
        ))
        .contains("3 scales"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1.0], &[3]),
            None,
            q,
            o
        ))
        .contains("zero point 3"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[-1.0], &[0]),
            None,
            q,
            o
        ))
        .contains("scale"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1.0], &[0]),
            Some(&[1]),
            q,
            o
        ))
        .contains("bias has 1 values for 2"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[1, 6, 6, 4], &[1.0], &[0]),
            None,
            q,
            o
        ))
        .contains("does not fit"));
        let bad_q = Affine {
            scale: 0.5,
            zero_point: 300,
        };
        assert!(err(Conv2dI8::new(
            input,
            bad_q,
            filter(&[2, 3, 3, 4], &[1.0], &[0]),
            None,
            q,
            o
        ))
        .contains("outside int8"));
        let zero_stride = ConvOptions {
            stride_height: 0,
            ..o
        };
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1.0], &[0]),
            None,
            q,
            zero_stride
        ))
        .contains("stride height"));
        let tiny = Affine {
            scale: 1e-30,
            zero_point: 0,
        };
        let relu6 = ConvOptions {
            activation: Activation::Relu6,
            ..o
        };
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1e-30], &[0]),
            None,
            tiny,
            relu6
        ))
        .contains("too small"));
        assert!(err(Conv2dI8::new(
            input,
            q,
            filter(&[2, 3, 3, 4], &[1.0], &[0]),
            None,
            tiny,
            o
        ))
        .contains("too large"));
        assert!(
            Conv2dF32::new(shape(&[1, 5, 5]), shape(&[2, 3, 3, 4]), None, o)
                .unwrap_err()
                .contains("4 dimensions")
        );
    }
}
