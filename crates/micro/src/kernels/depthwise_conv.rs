//! DEPTHWISE_CONV_2D over NHWC activations and `[1, fh, fw, in·multiplier]` filters, int8 and
//! float32, with any depth multiplier, computing what TensorFlow Lite's reference kernels
//! compute.
//!
//! Output channel `oc` reads input channel `oc / multiplier`. TFLite's `depthwise_conv.cc`
//! derives the multiplier from the shapes (`ComputeDepthMultiplier`) and ignores the operator's
//! `depth_multiplier` option, and so do we: the constructor takes no multiplier.
//!
//! int8 follows `reference_integer_ops::DepthwiseConvPerChannel`: per-channel multipliers from
//! `input_scale · filter_scale[c] / output_scale` in double (`PopulateConvolutionQuantizationParams`),
//! `acc = Σ filter · (input − input_zero_point)` over the taps inside the image, `+ bias`,
//! `MultiplyByQuantizedMultiplier`, `+ output_zero_point`, clamp.
//!
//! float32 follows `reference_ops::DepthwiseConv`: per output channel, an f32 sum over filter
//! rows then columns, `+ bias`, clamp.
//!
//! The int8 kernel accumulates a block of up to 256 channels of one output pixel at a time (a
//! 1 KiB stack array), each filter tap a multiply-add across the block that the compiler
//! vectorizes, with the input offset folded into the bias for interior pixels; the sums are
//! TFLite's, regrouped exactly.

use alloc::{format, vec, vec::Vec};

use super::conv::{
    activation_range_i8, bias_or_zeros, channel_scales, check_activation_quant, check_filter_data,
    check_symmetric, clamp_f32, conv_multipliers, nhwc, ChannelRequant, Conv2dI8, ConvOptions,
    Int8Filter, Window,
};
use super::simd::{Depthwise, Isa, Requant, Simd, DW_MAX_TAPS};
use super::Invalid;
use crate::quant::{Affine, RescaleTerms};
use crate::Shape;

/// int8 DEPTHWISE_CONV_2D, prepared once at load time.
#[derive(Debug, Clone)]
pub struct DepthwiseConv2dI8 {
    window: Window,
    depth_multiplier: usize,
    output_depth: usize,
    /// `−input_zero_point`, TFLite's `input_offset`.
    input_offset: i32,
    requant: ChannelRequant,
    /// The model's bias (zeros when it has none).
    bias: Vec<i32>,
    /// `bias + input_offset · Σ filter` per output channel, for pixels whose taps are all
    /// inside the image.
    folded_bias: Vec<i32>,
    /// The SIMD kernel (depth multiplier 1), when this CPU has one.
    packed: Option<(Depthwise, Requant)>,
    /// One input pixel of zero points: what taps in the padding read on the SIMD path.
    zero_pixel: Vec<i8>,
    /// With a single input channel the operator is a CONV_2D with one input channel (the
    /// filter transposed): its SIMD matrix product, when this CPU has one.
    as_conv: Option<alloc::boxed::Box<Conv2dI8>>,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

impl DepthwiseConv2dI8 {
    /// Validates an int8 DEPTHWISE_CONV_2D and precomputes its multipliers, folded bias and
    /// clamp.
    ///
    /// `filter` is `[1, fh, fw, out]` with `out` a multiple of the input depth; it must be a
    /// constant (its sums are folded into the bias here) and `run` must be given the same data.
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

    /// [`DepthwiseConv2dI8::new`] on the SIMD path `isa`, or on the portable code when this CPU lacks
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

    fn on(
        input: Shape,
        input_q: Affine,
        filter: Int8Filter<'_>,
        bias: Option<&[i32]>,
        output_q: Affine,
        options: ConvOptions,
        simd: Simd,
    ) -> Result<Self, Invalid> {
        let (window, depth_multiplier, out_c) = geometry(&input, &filter.shape, &options)?;
        check_filter_data(filter.data.len(), &filter.shape)?;
        check_activation_quant(input_q, "input")?;
        check_activation_quant(output_q, "output")?;
        let scales = channel_scales(&filter, 3, out_c)?;
        check_symmetric(&filter)?;
        let bias = bias_or_zeros(bias, out_c)?;
        let multipliers = conv_multipliers(input_q.scale, &scales, output_q.scale)?;
        let (act_min, act_max) = activation_range_i8(options.activation, output_q)?;
        let input_offset = -input_q.zero_point;

        let mut sums = vec![0i32; out_c];
        for tap in filter.data.chunks_exact(out_c) {
            for (s, &w) in sums.iter_mut().zip(tap) {
                *s = s.wrapping_add(i32::from(w));
            }
        }
        let folded_bias: Vec<i32> = bias
            .iter()
            .zip(&sums)
            .map(|(&b, &s)| b.wrapping_add(input_offset.wrapping_mul(s)))
            .collect();
        // The SIMD kernel sums raw `input · filter` over every tap, padding taps reading the
        // zero point, so the folded bias is its whole offset term.
        let taps = window.filter_h * window.filter_w;
        let packed = if depth_multiplier == 1 {
            Depthwise::new(simd, filter.data, taps, out_c).map(|dw| {
                let terms: Vec<RescaleTerms> =
                    multipliers.iter().map(|&m| RescaleTerms::new(m)).collect();
                let requant =
                    Requant::new(&terms, &folded_bias, output_q.zero_point, act_min, act_max);
                (dw, requant)
            })
        } else {
            None
        };
        let zero_pixel = if packed.is_some() {
            vec![input_q.zero_point as i8; window.in_c]
        } else {
            Vec::new()
        };
        let as_conv = if window.in_c == 1 && out_c > 1 {
            // `[1, fh, fw, out]` to OHWI `[out, fh, fw, 1]`; the scales run along dimension 0.
            let transposed: Vec<i8> = (0..out_c)
                .flat_map(|oc| filter.data.iter().skip(oc).step_by(out_c).copied())
                .collect();
            let conv_filter = Int8Filter {
                shape: Shape::new(&[out_c, window.filter_h, window.filter_w, 1])
                    .ok_or_else(|| format!("filter of {out_c} channels is too large"))?,
                data: &transposed,
                scales: filter.scales,
                zero_points: filter.zero_points,
                quantized_dimension: 0,
            };
            Conv2dI8::on(
                input,
                input_q,
                conv_filter,
                Some(&bias),
                output_q,
                options,
                simd,
            )
            .ok()
            .filter(|conv| conv.is_packed())
            .map(alloc::boxed::Box::new)
        } else {
            None
        };

        Ok(Self {
            packed,
            zero_pixel,
            as_conv,
            window,
            depth_multiplier,
            output_depth: out_c,
            input_offset,
            requant: ChannelRequant::new(&multipliers, output_q.zero_point, act_min, act_max),
            bias,
            folded_bias,
            filter_len: filter.data.len(),
            input_len: input.num_elements(),
            output_shape: window.output_shape(out_c)?,
        })
    }

    /// The output shape TFLite's Prepare gives: `[batch, out_h, out_w, out_channels]`.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// The depth multiplier, derived from the shapes as TFLite does.
    pub fn depth_multiplier(&self) -> usize {
        self.depth_multiplier
    }

    /// Runs the convolution. `filter` must be the data given to [`DepthwiseConv2dI8::new`].
    pub fn run(&self, input: &[i8], filter: &[i8], output: &mut [i8]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.output_shape.num_elements());
        if let Some(conv) = &self.as_conv {
            // The packed product never reads the filter argument.
            return conv.run(input, filter, output);
        }
        if let Some((dw, requant)) = &self.packed {
            return self.run_packed(dw, requant, input, output);
        }
        if self.depth_multiplier > CHANNEL_BLOCK {
            return self.run_general(input, filter, output);
        }
        let w = &self.window;
        let (fh, fw, out_c, m) = (
            w.filter_h,
            w.filter_w,
            self.output_depth,
            self.depth_multiplier,
        );
        // Whole groups of `m` output channels (one input channel each) per block.
        let block = CHANNEL_BLOCK / m * m;
        let mut acc = [0i32; CHANNEL_BLOCK];
        let mut pixels = output.chunks_exact_mut(out_c);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    let full = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                    // Inside the image the offset term is folded into the bias; at the border
                    // it is added per visited tap, as TFLite skips the others.
                    let (start, offset) = if full {
                        (&self.folded_bias, 0)
                    } else {
                        (&self.bias, self.input_offset)
                    };
                    for first in (0..out_c).step_by(block) {
                        let n = block.min(out_c - first);
                        let acc = &mut acc[..n];
                        acc.copy_from_slice(&start[first..first + n]);
                        for fy in fy0..fy1 {
                            let row = (b * w.in_h + w.tap(y_origin, fy, w.dil_h)) * w.in_w;
                            for fx in fx0..fx1 {
                                let at = (row + w.tap(x_origin, fx, w.dil_w)) * w.in_c + first / m;
                                let x = &input[at..at + n / m];
                                let k = &filter[(fy * fw + fx) * out_c + first..][..n];
                                if m == 1 {
                                    multiply_accumulate(acc, x, k, offset);
                                } else {
                                    for ((a, &x), k) in
                                        acc.chunks_exact_mut(m).zip(x).zip(k.chunks_exact(m))
                                    {
                                        let x = i32::from(x) + offset;
                                        for (a, &k) in a.iter_mut().zip(k) {
                                            *a = a.wrapping_add(x * i32::from(k));
                                        }
                                    }
                                }
                            }
                        }
                        self.requant.row(first, acc, &mut out_px[first..first + n]);
                    }
                }
            }
        }
    }

    /// The SIMD path. Within a row of output pixels whose taps are all inside the image, one
    /// call covers the whole run (each tap advancing by the stride); the other pixels go one
    /// by one, taps in the padding reading the zero-point pixel.
    fn run_packed(&self, dw: &Depthwise, requant: &Requant, input: &[i8], output: &mut [i8]) {
        let w = &self.window;
        let (fh, fw, c) = (w.filter_h, w.filter_w, w.in_c);
        let mut taps: [&[i8]; DW_MAX_TAPS] = [&[]; DW_MAX_TAPS];
        let taps = &mut taps[..fh * fw];
        // The columns whose taps are all inside the image: one contiguous run.
        let inside = |ox: usize| {
            let (_, fx0, fx1) = w.cols(ox);
            fx0 == 0 && fx1 == fw
        };
        let lo = (0..w.out_w).find(|&ox| inside(ox)).unwrap_or(w.out_w);
        let hi = (lo..w.out_w).find(|&ox| !inside(ox)).unwrap_or(w.out_w);
        let stride = w.stride_w * c;
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                let row_out = (b * w.out_h + oy) * w.out_w;
                let mut ox = 0;
                while ox < w.out_w {
                    let run = fy0 == 0 && fy1 == fh && ox == lo && lo < hi;
                    let count = if run { hi - lo } else { 1 };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    // What each tap reads: `count` pixels `stride` apart.
                    let reach = (count - 1) * stride + c;
                    for fy in 0..fh {
                        for fx in 0..fw {
                            taps[fy * fw + fx] =
                                if (fy0..fy1).contains(&fy) && (fx0..fx1).contains(&fx) {
                                    let iy = w.tap(y_origin, fy, w.dil_h);
                                    let ix = w.tap(x_origin, fx, w.dil_w);
                                    let at = ((b * w.in_h + iy) * w.in_w + ix) * c;
                                    &input[at..at + reach]
                                } else {
                                    &self.zero_pixel
                                };
                        }
                    }
                    let out = &mut output[(row_out + ox) * c..(row_out + ox + count) * c];
                    dw.run(taps, stride, count, requant, out);
                    ox += count;
                }
            }
        }
    }

    /// One output channel at a time, for depth multipliers wider than a channel block.
    fn run_general(&self, input: &[i8], filter: &[i8], output: &mut [i8]) {
        let w = &self.window;
        let (fh, fw, out_c, m) = (
            w.filter_h,
            w.filter_w,
            self.output_depth,
            self.depth_multiplier,
        );
        let mut pixels = output.chunks_exact_mut(out_c);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    let full = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
                    for (oc, out) in out_px.iter_mut().enumerate() {
                        let ic = oc / m;
                        let mut acc = 0i32;
                        let mut valid = 0i32;
                        for fy in fy0..fy1 {
                            let iy = w.tap(y_origin, fy, w.dil_h);
                            for fx in fx0..fx1 {
                                let ix = w.tap(x_origin, fx, w.dil_w);
                                let x = input[((b * w.in_h + iy) * w.in_w + ix) * w.in_c + ic];
                                let k = i32::from(filter[(fy * fw + fx) * out_c + oc]);
                                acc = acc.wrapping_add(k * i32::from(x));
                                valid = valid.wrapping_add(k);
                            }
                        }
                        let base = if full {
                            self.folded_bias[oc]
                        } else {
                            self.bias[oc].wrapping_add(self.input_offset.wrapping_mul(valid))
                        };
                        *out = self.requant.one(oc, acc.wrapping_add(base));
                    }
                }
            }
        }
    }
}

/// Output channels accumulated together (a stack array of i32).
const CHANNEL_BLOCK: usize = 256;

/// `acc[c] += (x[c] + offset) · k[c]` across a block of channels: one tap of a depthwise
/// filter, which the compiler vectorizes over the channels.
#[inline]
fn multiply_accumulate(acc: &mut [i32], x: &[i8], k: &[i8], offset: i32) {
    if offset == 0 {
        for ((a, &x), &k) in acc.iter_mut().zip(x).zip(k) {
            *a = a.wrapping_add(i32::from(x) * i32::from(k));
        }
    } else {
        for ((a, &x), &k) in acc.iter_mut().zip(x).zip(k) {
            *a = a.wrapping_add((i32::from(x) + offset) * i32::from(k));
        }
    }
}

/// float32 DEPTHWISE_CONV_2D, prepared once at load time.
#[derive(Debug, Clone)]
pub struct DepthwiseConv2dF32 {
    window: Window,
    depth_multiplier: usize,
    output_depth: usize,
    /// The model's bias (zeros when it has none, as TFLite adds 0.0 then).
    bias: Vec<f32>,
    act_min: f32,
    act_max: f32,
    filter_len: usize,
    input_len: usize,
    output_shape: Shape,
}

impl DepthwiseConv2dF32 {
    /// Validates a float32 DEPTHWISE_CONV_2D. `filter` is the `[1, fh, fw, out]` shape; `bias`
    /// (optional, one per output channel) is copied.
    pub fn new(
        input: Shape,
        filter: Shape,
        bias: Option<&[f32]>,
        options: ConvOptions,
    ) -> Result<Self, Invalid> {
        let (window, depth_multiplier, out_c) = geometry(&input, &filter, &options)?;
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
            depth_multiplier,
            output_depth: out_c,
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

    /// The depth multiplier, derived from the shapes as TFLite does.
    pub fn depth_multiplier(&self) -> usize {
        self.depth_multiplier
    }

    /// Runs the convolution.
    pub fn run(&self, input: &[f32], filter: &[f32], output: &mut [f32]) {
        debug_assert_eq!(input.len(), self.input_len);
        debug_assert_eq!(filter.len(), self.filter_len);
        debug_assert_eq!(output.len(), self.output_shape.num_elements());
        let w = &self.window;
        let (fw, oc_n, m) = (w.filter_w, self.output_depth, self.depth_multiplier);
        let mut pixels = output.chunks_exact_mut(oc_n);
        for b in 0..w.batches {
            for oy in 0..w.out_h {
                let (y_origin, fy0, fy1) = w.rows(oy);
                for ox in 0..w.out_w {
                    let Some(out_px) = pixels.next() else { return };
                    let (x_origin, fx0, fx1) = w.cols(ox);
                    // Blocks of output channels summed side by side, each lane in TFLite's
                    // order (filter row, then column): the same bits as one at a time.
                    for (first, outs) in (0..oc_n).step_by(LANES).zip(out_px.chunks_mut(LANES)) {
                        let n = outs.len();
                        let feed = Feed::of(first, n, m);
                        let mut acc = [0.0f32; LANES];
                        for fy in fy0..fy1 {
                            let iy = w.tap(y_origin, fy, w.dil_h);
                            let line = (b * w.in_h + iy) * w.in_w;
                            for fx in fx0..fx1 {
                                let px = (line + w.tap(x_origin, fx, w.dil_w)) * w.in_c;
                                let k = &filter[(fy * fw + fx) * oc_n + first..][..n];
                                feed.multiply_accumulate(&mut acc, &input[px..], k, first, m);
                            }
                        }
                        for (j, (out, &total)) in outs.iter_mut().zip(&acc).enumerate() {
                            let v = total + self.bias[first + j];
                            *out = clamp_f32(v, self.act_min, self.act_max);
                        }
                    }
                }
            }
        }
    }
}

/// Output channels a float depthwise block sums side by side.
const LANES: usize = 8;

/// Where a block of float depthwise lanes reads its inputs, decided once per block.
#[derive(Clone, Copy)]
enum Feed {
    /// A whole block, one input channel per output channel: both runs contiguous.
    Contiguous,
    /// A whole block reading one input channel (this one).
    Broadcast(usize),
    /// Anything else: input channel `(first + l) / m` for lane `l`.
    Gather,
}

impl Feed {
    fn of(first: usize, n: usize, m: usize) -> Feed {
        if n < LANES {
            Feed::Gather
        } else if m == 1 {
            Feed::Contiguous
        } else if first / m == (first + LANES - 1) / m {
            Feed::Broadcast(first / m)
        } else {
            Feed::Gather
        }
    }

    /// `acc[l] += x[(first + l) / m] · k[l]` for the `k.len()` lanes: one tap of a float
    /// depthwise filter. `x` starts at the tap's input pixel.
    #[inline]
    fn multiply_accumulate(
        self,
        acc: &mut [f32; LANES],
        x: &[f32],
        k: &[f32],
        first: usize,
        m: usize,
    ) {
        match (self, <&[f32; LANES]>::try_from(k)) {
            (Feed::Contiguous, Ok(k)) => {
                for ((a, &x), &k) in acc.iter_mut().zip(&x[first..first + LANES]).zip(k) {
                    *a += x * k;
                }
            }
            (Feed::Broadcast(ic), Ok(k)) => {
                let x = x[ic];
                for (a, &k) in acc.iter_mut().zip(k) {
                    *a += x * k;
                }
            }
            _ => {
                for (l, (a, &k)) in acc.iter_mut().zip(k).enumerate() {
                    *a += x[(first + l) / m] * k;
                }
            }
        }
    }
}

/// The window, depth multiplier and output depth of a depthwise convolution.
fn geometry(
    input: &Shape,
    filter: &Shape,
    options: &ConvOptions,
) -> Result<(Window, usize, usize), Invalid> {
    let [batches, in_h, in_w, in_c] = nhwc(input, "input")?;
    let [one, fh, fw, out_c] = nhwc(filter, "filter")?;
    if one != 1 {
        return Err(format!(
            "filter must be [1, height, width, channels], got {filter}"
        ));
    }
    if in_c == 0 || out_c == 0 || out_c % in_c != 0 {
        return Err(format!(
            "filter's {out_c} channels are not a multiple of the input depth {in_c}"
        ));
    }
    let window = Window::new([batches, in_h, in_w, in_c], fh, fw, options)?;
    Ok((window, out_c / in_c, out_c))
}

#[cfg(test)]
mod tests {
    use super::super::conv::testing::*;
    use super::super::conv::tests::{random_geometry, random_quant};
    use super::super::{output_size_and_padding, Padding};
    use super::*;
    use crate::quant::Activation;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    fn opts(padding: Padding, stride: usize, dilation: usize, act: Activation) -> ConvOptions {
        ConvOptions {
            padding,
            stride_height: stride,
            stride_width: stride,
            dilation_height: dilation,
            dilation_width: dilation,
            activation: act,
        }
    }

    fn run_f32(
        input: (&[usize], &[f32]),
        filter: (&[usize], &[f32]),
        bias: &[f32],
        options: ConvOptions,
    ) -> alloc::vec::Vec<f32> {
        let dw =
            DepthwiseConv2dF32::new(shape(input.0), shape(filter.0), Some(bias), options).unwrap();
        let mut out = vec![0.0; dw.output_shape().num_elements()];
        dw.run(input.1, filter.1, &mut out);
        out
    }

    // TFLite's depthwise_conv_test.cc SimpleTest data: a [1, 3, 2, 2] input, multiplier 2.
    const INPUT: [f32; 12] = [1., 2., 7., 8., 3., 4., 9., 10., 5., 6., 11., 12.];
    const FILTER: [f32; 16] = [
        1., 2., 3., 4., -9., 10., -11., 12., 5., 6., 7., 8., 13., -14., 15., -16.,
    ];

    #[test]
    fn float_matches_tflite_tests() {
        let simple = |padding, stride, act| {
            run_f32(
                (&[1, 3, 2, 2], &INPUT),
                (&[1, 2, 2, 4], &FILTER),
                &[1., 2., 3., 4.],
                opts(padding, stride, 1, act),
            )
        };
        assert_eq!(
            simple(Padding::Valid, 1, Activation::None),
            [71., -34., 99., -20., 91., -26., 127., -4.]
        );
        assert_eq!(
            simple(Padding::Valid, 1, Activation::Relu),
            [71., 0., 99., 0., 91., 0., 127., 0.]
        );
        assert_eq!(
            simple(Padding::Valid, 1, Activation::ReluN1To1),
            [1., -1., 1., -1., 1., -1., 1., -1.]
        );
        assert_eq!(
            simple(Padding::Valid, 2, Activation::None),
            [71., -34., 99., -20.]
        );
        assert_eq!(
            simple(Padding::Same, 2, Activation::None),
            [71., -34., 99., -20., -93., 122., -111., 172.]
        );
    }

    #[test]
    fn float_matches_tflite_dilation_tests() {
        // SimpleDilatedTestPaddingValid: a 3×3 block of ones in a 9×9 image, dilation 3.
        let mut image = [0.0f32; 81];
        for y in 3..6 {
            for x in 3..6 {
                image[y * 9 + x] = 1.0;
            }
        }
        let filter: alloc::vec::Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let out = run_f32(
            (&[1, 9, 9, 1], &image),
            (&[1, 3, 3, 1], &filter),
            &[0.],
            opts(Padding::Valid, 1, 3, Activation::None),
        );
        assert_eq!(out, [5.; 9]);
        // SimpleDilatedTestPaddingSame.
        let out = run_f32(
            (&[1, 3, 3, 1], &[1.; 9]),
            (&[1, 2, 2, 1], &[1., 2., 3., 4.]),
            &[0.],
            opts(Padding::Same, 1, 2, Activation::None),
        );
        assert_eq!(out, [4., 7., 3., 6., 10., 4., 2., 3., 1.]);
        // BatchPaddingSameTest: four 2×2 images, 3×3 filter.
        let out = run_f32(
            (
                &[4, 2, 2, 1],
                &[
                    1., 1., 1., 1., 0., 0., 0., 0., 1., 1., 2., 2., 2., 2., 2., 2.,
                ],
            ),
            (&[1, 3, 3, 1], &[1., 1., 1., 0., 2., 0., 1., 1., 1.]),
            &[0.],
            opts(Padding::Same, 1, 1, Activation::None),
        );
        assert_eq!(
            out,
            [4., 4., 4., 4., 0., 0., 0., 0., 6., 6., 6., 6., 8., 8., 8., 8.]
        );
    }

    /// TFLite's SimplePerAxisTest family: input and output scale 0.5 / zero point −1, the
    /// filter quantized per output channel, the bias at input·filter scale (truncated).
    fn tflite_per_axis_case(filter_scales: &[f32]) -> alloc::vec::Vec<i8> {
        let input = quantize(
            &[3., 2., 1., -1., -2., -3., 4., 3., 2., -2., -3., -4.],
            0.5,
            -1,
        );
        let real_filter = [
            1., 2., 3., 4., 3., 4., 5., 6., 7., 8., 5., 6., 3., 4., 1., 2.,
        ];
        let filter: alloc::vec::Vec<i8> = real_filter
            .iter()
            .enumerate()
            .map(|(i, &v)| quantize(&[v], filter_scales[(i % 4) % filter_scales.len()], 0)[0])
            .collect();
        let bias_scales: alloc::vec::Vec<f32> = filter_scales.iter().map(|s| 0.5 * s).collect();
        let bias = quantize_bias_per_channel(&[3., -2., 4., 6.], &bias_scales);
        let q = Affine {
            scale: 0.5,
            zero_point: -1,
        };
        let dw = DepthwiseConv2dI8::new(
            shape(&[1, 2, 3, 2]),
            q,
            Int8Filter {
                shape: shape(&[1, 2, 2, 4]),
                data: &filter,
                scales: filter_scales,
                zero_points: &[0],
                quantized_dimension: 3,
            },
            Some(&bias),
            q,
            opts(Padding::Valid, 1, 1, Activation::None),
        )
        .unwrap();
        assert_eq!(dw.depth_multiplier(), 2);
        assert_eq!(dw.output_shape().dims(), &[1, 1, 2, 4]);
        let mut out = vec![0; 8];
        dw.run(&input, &filter, &mut out);
        out
    }

    #[test]
    fn int8_matches_tflite_per_channel_tests() {
        assert_eq!(
            tflite_per_axis_case(&[1.0]),
            [85, 95, 35, 43, 5, -9, -57, -73]
        );
        assert_eq!(
            tflite_per_axis_case(&[1.0, 2.0, 3.0, 4.0]),
            [85, 95, 41, 43, 5, -9, -61, -109]
        );
        // SimpleTestNegativeOutputShift / SimpleTestMixedOutputShift.
        assert_eq!(
            tflite_per_axis_case(&[0.1, 0.2, 0.3, 0.4]),
            [85, 95, 36, 43, 5, -9, -58, -73]
        );
    }

    /// TFLite's `reference_integer_ops::DepthwiseConvPerChannel`, transcribed loop for loop.
    #[allow(clippy::too_many_arguments)]
    fn reference_dw_i8(
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
        let [_, fh, fw, oc_n] = f_dims;
        let m = oc_n / c;
        let (oh, ph) =
            output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height).unwrap();
        let (ow, pw) =
            output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width).unwrap();
        let (lo, hi) = o.activation.range_quantized(out_q, -128, 127);
        let mut out = vec![0i8; n * oh * ow * oc_n];
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ic in 0..c {
                        for mm in 0..m {
                            let oc = mm + ic * m;
                            let mut acc = 0i32;
                            for fy in 0..fh {
                                for fx in 0..fw {
                                    let iy = (oy * o.stride_height) as i64 - ph as i64
                                        + (fy * o.dilation_height) as i64;
                                    let ix = (ox * o.stride_width) as i64 - pw as i64
                                        + (fx * o.dilation_width) as i64;
                                    if iy < 0 || iy >= h as i64 || ix < 0 || ix >= w as i64 {
                                        continue;
                                    }
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    let x = i32::from(input[((b * h + iy) * w + ix) * c + ic]);
                                    let k = i32::from(filter[(fy * fw + fx) * oc_n + oc]);
                                    acc = acc.wrapping_add(k * (x - in_q.zero_point));
                                }
                            }
                            if let Some(bias) = bias {
                                acc = acc.wrapping_add(bias[oc]);
                            }
                            let s = scales[if scales.len() == 1 { 0 } else { oc }];
                            let q = crate::quant::QuantizedMultiplier::new(
                                f64::from(in_q.scale) * f64::from(s) / f64::from(out_q.scale),
                            );
                            let v = crate::quant::multiply_by_quantized_multiplier(
                                acc,
                                q.multiplier,
                                q.shift,
                            )
                            .wrapping_add(out_q.zero_point);
                            out[((b * oh + oy) * ow + ox) * oc_n + oc] = v.max(lo).min(hi) as i8;
                        }
                    }
                }
            }
        }
        out
    }

    /// TFLite's `reference_ops::DepthwiseConv` for float, transcribed loop for loop.
    fn reference_dw_f32(
        input: &[f32],
        in_dims: [usize; 4],
        filter: &[f32],
        f_dims: [usize; 4],
        bias: Option<&[f32]>,
        o: ConvOptions,
    ) -> alloc::vec::Vec<f32> {
        let [n, h, w, c] = in_dims;
        let [_, fh, fw, oc_n] = f_dims;
        let m = oc_n / c;
        let (oh, ph) =
            output_size_and_padding(o.padding, h, fh, o.stride_height, o.dilation_height).unwrap();
        let (ow, pw) =
            output_size_and_padding(o.padding, w, fw, o.stride_width, o.dilation_width).unwrap();
        let (lo, hi) = o.activation.range_f32();
        let mut out = vec![0.0f32; n * oh * ow * oc_n];
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ic in 0..c {
                        for mm in 0..m {
                            let oc = mm + ic * m;
                            let mut total = 0.0f32;
                            for fy in 0..fh {
                                for fx in 0..fw {
                                    let iy = (oy * o.stride_height) as i64 - ph as i64
                                        + (fy * o.dilation_height) as i64;
                                    let ix = (ox * o.stride_width) as i64 - pw as i64
                                        + (fx * o.dilation_width) as i64;
                                    if iy < 0 || iy >= h as i64 || ix < 0 || ix >= w as i64 {
                                        continue;
                                    }
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    total += input[((b * h + iy) * w + ix) * c + ic]
                                        * filter[(fy * fw + fx) * oc_n + oc];
                                }
                            }
                            let bv = bias.map_or(0.0, |b| b[oc]);
                            out[((b * oh + oy) * ow + ox) * oc_n + oc] =
                                clamp_f32(total + bv, lo, hi);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn int8_matches_the_reference_loops_on_random_convolutions() {
        // Every SIMD path this CPU has, and the portable one, on the same operators.
        let paths = simd_paths();
        let mut rng = XorShift(0xd3b7_4a11);
        for round in 0..400usize {
            let (mut in_dims, mut f_dims, o) = random_geometry(&mut rng, true);
            if round.is_multiple_of(2) {
                // Depth multiplier 1, which the SIMD kernels take.
                in_dims[3] = rng.usize(1, 70);
                f_dims[3] = in_dims[3];
            }
            let (in_q, scales, out_q) = random_quant(&mut rng, f_dims[3]);
            let extreme = round.is_multiple_of(8);
            let input = rng.i8s_maybe_extreme(in_dims.iter().product(), extreme);
            let filter = rng.i8s_maybe_extreme(f_dims.iter().product(), extreme);
            let bias: alloc::vec::Vec<i32> = (0..f_dims[3])
                .map(|_| rng.range(-40_000, 40_000) as i32)
                .collect();
            let bias = if rng.usize(0, 5) == 0 {
                None
            } else {
                Some(&bias[..])
            };
            let expected = reference_dw_i8(
                &input, in_dims, in_q, &filter, f_dims, &scales, bias, out_q, o,
            );
            for &isa in &paths {
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
                    bias,
                    out_q,
                    o,
                    isa,
                )
                .unwrap();
                let mut out = vec![0i8; dw.output_shape().num_elements()];
                dw.run(&input, &filter, &mut out);
                assert_eq!(out, expected, "{} {in_dims:?} {f_dims:?} {o:?}", isa.name());
            }
        }
    }

    #[test]
    fn a_single_input_channel_gives_the_same_results_as_a_matrix_product() {
        // One input channel and many outputs (micro_speech's 10×8 filter of 8 channels) is
        // run as a CONV_2D with one input channel on the SIMD paths.
        let paths = simd_paths();
        let mut rng = XorShift(0x1c_0001);
        for round in 0..60usize {
            let (mut in_dims, mut f_dims, o) = random_geometry(&mut rng, true);
            in_dims[3] = 1;
            f_dims[3] = [2, 8, 13, 40][round % 4];
            let (in_q, scales, out_q) = random_quant(&mut rng, f_dims[3]);
            let extreme = round.is_multiple_of(7);
            let input = rng.i8s_maybe_extreme(in_dims.iter().product(), extreme);
            let filter = rng.i8s_maybe_extreme(f_dims.iter().product(), extreme);
            let bias: alloc::vec::Vec<i32> = (0..f_dims[3])
                .map(|_| rng.range(-40_000, 40_000) as i32)
                .collect();
            let expected = reference_dw_i8(
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
            for &isa in &paths {
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
                    Some(&bias),
                    out_q,
                    o,
                    isa,
                )
                .unwrap();
                let mut out = vec![0i8; dw.output_shape().num_elements()];
                dw.run(&input, &filter, &mut out);
                assert_eq!(out, expected, "{} {in_dims:?} {f_dims:?} {o:?}", isa.name());
            }
        }
    }

    #[test]
    fn wide_depth_multipliers_take_the_general_path_with_the_same_results() {
        let mut rng = XorShift(0x3001);
        let (in_dims, f_dims) = ([1, 4, 5, 2], [1, 3, 2, 600]);
        let o = ConvOptions {
            padding: Padding::Same,
            stride_height: 2,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 2,
            activation: Activation::Relu6,
        };
        let (in_q, scales, out_q) = random_quant(&mut rng, 600);
        let input = rng.i8s(in_dims.iter().product());
        let filter = rng.i8s(f_dims.iter().product());
        let dw = DepthwiseConv2dI8::new(
            shape(&in_dims),
            in_q,
            Int8Filter {
                shape: shape(&f_dims),
                data: &filter,
                scales: &scales,
                zero_points: &[0],
                quantized_dimension: 3,
            },
            None,
            out_q,
            o,
        )
        .unwrap();
        assert_eq!(dw.depth_multiplier(), 300);
        let mut out = vec![0i8; dw.output_shape().num_elements()];
        dw.run(&input, &filter, &mut out);
        let expected = reference_dw_i8(
            &input, in_dims, in_q, &filter, f_dims, &scales, None, out_q, o,
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn float_matches_the_reference_loops_bit_for_bit() {
        let mut rng = XorShift(0xf1_0a75);
        for _ in 0..200 {
            let (in_dims, f_dims, o) = random_geometry(&mut rng, true);
            let input: alloc::vec::Vec<f32> = (0..in_dims.iter().product())
                .map(|_| rng.f32(-2.0, 2.0))
                .collect();
            let filter: alloc::vec::Vec<f32> = (0..f_dims.iter().product())
                .map(|_| rng.f32(-1.0, 1.0))
                .collect();
            let bias: alloc::vec::Vec<f32> = (0..f_dims[3]).map(|_| rng.f32(-1.0, 1.0)).collect();
            let bias = if rng.usize(0, 3) == 0 {
                None
            } else {
                Some(&bias[..])
            };
            let dw = DepthwiseConv2dF32::new(shape(&in_dims), shape(&f_dims), bias, o).unwrap();
            let mut out = vec![0.0f32; dw.output_shape().num_elements()];
            dw.run(&input, &filter, &mut out);
            let expected = reference_dw_f32(&input, in_dims, &filter, f_dims, bias, o);
            let bits = |v: &[f32]| {
                v.iter()
                    .map(|x| x.to_bits())
                    .collect::<alloc::vec::Vec<_>>()
            };
            assert_eq!(bits(&out), bits(&expected), "{in_dims:?} {f_dims:?} {o:?}");
        }
    }

    #[test]
    fn refuses_inconsistent_operators() {
        let o = opts(Padding::Valid, 1, 1, Activation::None);
        let err = |i: &[usize], f: &[usize]| {
            DepthwiseConv2dF32::new(shape(i), shape(f), None, o).unwrap_err()
        };
        assert!(err(&[1, 4, 4, 3], &[1, 2, 2, 4]).contains("not a multiple of the input depth 3"));
        assert!(err(&[1, 4, 4, 2], &[2, 2, 2, 4]).contains("[1, height, width, channels]"));
        assert!(err(&[1, 4, 4, 2], &[1, 5, 2, 4]).contains("does not fit"));
        let q = Affine {
            scale: 1.0,
            zero_point: 0,
        };
        let data = [0i8; 16];
        let per_axis_on_wrong_dim = Int8Filter {
            shape: shape(&[1, 2, 2, 4]),
            data: &data,
            scales: &[1.0, 1.0, 1.0, 1.0],
            zero_points: &[0, 0, 0, 0],
            quantized_dimension: 0,
        };
        assert!(
            DepthwiseConv2dI8::new(shape(&[1, 3, 3, 2]), q, per_axis_on_wrong_dim, None, q, o)
                .unwrap_err()
                .contains("4 scales")
        );
    }
}
