//! The bridge between the model file and the kernels: for each operator, read its options and
//! tensors, check the types, build the kernel's prepared params (`prepare`), and at run time
//! hand the kernel typed views of its tensors (`run`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use bytemuck::Pod;

use crate::interpreter::{tensor_bytes, ArenaSplit, Slot};
use crate::kernels::activations::{
    LogisticF32, LutI8, ReluF32, ReluI8, ReluKind, SoftmaxF32, SoftmaxI8, TanhF32,
};
use crate::kernels::add::{AddOp, AddParams};
use crate::kernels::concatenation::ConcatParams;
use crate::kernels::conv::{Conv2dF32, Conv2dI8, ConvOptions, Int8Filter};
use crate::kernels::depthwise_conv::{DepthwiseConv2dF32, DepthwiseConv2dI8};
use crate::kernels::fully_connected::{FullyConnectedF32, FullyConnectedI8, FullyConnectedOptions};
use crate::kernels::lstm::{
    input_index as lstm_input, LstmActivation, LstmBiases, LstmF32, LstmF32Io, LstmI8, LstmI8Io,
    LstmOperands, LstmOptions, LstmWeights,
};
use crate::kernels::mean::MeanParams;
use crate::kernels::mul::MulParams;
use crate::kernels::pad::{quantized_pad_value, PadParams};
use crate::kernels::pooling::{PoolParams, PoolWindow};
use crate::kernels::quantize::{DequantizeParams, QuantizeParams, RequantizeParams};
use crate::kernels::transpose::TransposeParams;
use crate::quant::{Activation, Affine};
use crate::schema::{
    ActivationFunction, BuiltinOperator, BuiltinOptions, OperatorCode, OperatorDef,
};
use crate::tensor::{DType, Storage, TensorInfo};
use crate::Error;

/// A prepared operator.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) index: usize,
    pub(crate) name: &'static str,
    pub(crate) kernel: Kernel,
    pub(crate) inputs: Vec<Option<usize>>,
    pub(crate) output: usize,
    /// Working memory the kernel needs during its run, planned into the arena.
    pub(crate) scratch_bytes: usize,
    pub(crate) scratch: Range<usize>,
}

/// Which kernel runs an operator, with its prepared params.
#[derive(Debug)]
pub(crate) enum Kernel {
    /// RESHAPE (and any other operator that only relabels the shape): a byte copy.
    Copy,
    /// ADD and SUB.
    Add(AddParams, DType),
    /// MUL.
    Mul(MulParams, DType),
    /// AVERAGE_POOL_2D.
    AveragePool(PoolParams, DType),
    /// MAX_POOL_2D.
    MaxPool(PoolParams, DType),
    /// MEAN.
    Mean(MeanParams, DType),
    /// CONV_2D, int8.
    ConvI8(Conv2dI8),
    /// CONV_2D, float.
    ConvF32(Conv2dF32),
    /// DEPTHWISE_CONV_2D, int8.
    DepthwiseI8(DepthwiseConv2dI8),
    /// DEPTHWISE_CONV_2D, float.
    DepthwiseF32(DepthwiseConv2dF32),
    /// FULLY_CONNECTED, int8.
    FullyConnectedI8(FullyConnectedI8),
    /// FULLY_CONNECTED, float.
    FullyConnectedF32(FullyConnectedF32),
    /// SOFTMAX, int8.
    SoftmaxI8(SoftmaxI8),
    /// SOFTMAX, float.
    SoftmaxF32(SoftmaxF32),
    /// LOGISTIC or TANH, int8 (a 256-entry table).
    LutI8(LutI8),
    /// LOGISTIC, float.
    LogisticF32(LogisticF32),
    /// TANH, float.
    TanhF32(TanhF32),
    /// RELU, RELU6, RELU_N1_TO_1, int8.
    ReluI8(ReluI8),
    /// RELU, RELU6, RELU_N1_TO_1, float.
    ReluF32(ReluF32),
    /// TRANSPOSE, moving elements of the given byte size.
    Transpose(TransposeParams, usize),
    /// PAD and PADV2, with the value the border is filled with.
    Pad(PadParams, Fill),
    /// CONCATENATION.
    Concat(ConcatParams, DType),
    /// QUANTIZE from float, into int8 or uint8.
    Quantize(QuantizeParams, DType),
    /// QUANTIZE between quantized types (input type, output type).
    Requantize(RequantizeParams, DType, DType),
    /// DEQUANTIZE from int8 or uint8.
    Dequantize(DequantizeParams, DType),
    /// UNIDIRECTIONAL_SEQUENCE_LSTM, float.
    LstmF32(LstmF32),
    /// UNIDIRECTIONAL_SEQUENCE_LSTM, int8 with an int16 cell state.
    LstmI8(LstmI8),
}

/// Most inputs a CONCATENATION may have: their views are gathered on the stack at run time.
const MAX_CONCAT_INPUTS: usize = 16;

/// The value a PAD fills the border with, in the tensor's type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fill {
    F32(f32),
    I8(i8),
    U8(u8),
    I32(i32),
    I64(i64),
}

/// What `prepare` sees of the graph.
struct Context<'a> {
    index: usize,
    name: &'static str,
    options: BuiltinOptions<'a>,
    /// Tensors an operator declares for its internal scales (the integer LSTM's).
    intermediates: Vec<Option<usize>>,
    inputs: Vec<Option<usize>>,
    output: usize,
    tensors: &'a [Slot],
    model: &'a [u8],
    owned: &'a [Vec<u64>],
}

impl Context<'_> {
    fn invalid(&self, reason: impl Into<String>) -> Error {
        Error::InvalidOperator {
            node: self.index,
            op: self.name,
            reason: reason.into(),
        }
    }

    fn unsupported(&self, detail: impl Into<String>) -> Error {
        Error::Unsupported {
            node: self.index,
            op: self.name,
            detail: detail.into(),
        }
    }

    /// Input `k`, which must be present.
    fn input(&self, k: usize) -> Result<&TensorInfo, Error> {
        match self.inputs.get(k) {
            Some(Some(t)) => Ok(&self.tensors[*t].info),
            _ => Err(self.invalid(format!("input {k} is missing"))),
        }
    }

    fn output(&self) -> &TensorInfo {
        &self.tensors[self.output].info
    }

    /// The element type shared by input 0 and the output, one of `allowed`.
    fn dtype(&self, allowed: &[DType]) -> Result<DType, Error> {
        let input = self.input(0)?.dtype;
        let output = self.output().dtype;
        if input != output {
            return Err(self.unsupported(format!(
                "{} input with {} output",
                input.name(),
                output.name()
            )));
        }
        if !allowed.contains(&input) {
            return Err(self.unsupported(format!("{} tensors", input.name())));
        }
        Ok(input)
    }

    /// Per-tensor quantization of input `k` (`None` for the output).
    fn affine(&self, k: Option<usize>) -> Result<Affine, Error> {
        let info = match k {
            Some(k) => self.input(k)?,
            None => self.output(),
        };
        let what = || match k {
            Some(k) => format!("input {k}"),
            None => "the output".to_string(),
        };
        match &info.quantization {
            None => Err(self.invalid(format!("{} ({}) is not quantized", what(), info.name))),
            Some(q) => q
                .per_tensor()
                .ok_or_else(|| self.unsupported(format!("per-channel quantization of {}", what()))),
        }
    }

    fn activation(&self, function: ActivationFunction) -> Result<Activation, Error> {
        function
            .clamp()
            .ok_or_else(|| self.unsupported(format!("fused activation {function:?}")))
    }

    /// Wrap a kernel's refusal with this operator's position and name.
    fn check<T>(&self, prepared: Result<T, crate::kernels::Invalid>) -> Result<T, Error> {
        prepared.map_err(|reason| self.invalid(reason))
    }

    /// The data of input `k`, which must be a constant of type `T` (weights, shape tensors).
    fn constant<T: Pod>(&self, k: usize, dtype: DType) -> Result<&[T], Error> {
        let info = self.input(k)?;
        if info.dtype != dtype {
            return Err(self.invalid(format!(
                "input {k} is {}, expected {}",
                info.dtype.name(),
                dtype.name()
            )));
        }
        let Some(Some(t)) = self.inputs.get(k) else {
            return Err(self.invalid(format!("input {k} is missing")));
        };
        let slot = &self.tensors[*t];
        if matches!(slot.storage, Storage::Arena(_) | Storage::Variable(_)) {
            return Err(self.unsupported(format!(
                "a computed input {k} ({}) where this engine needs a constant",
                slot.info.name
            )));
        }
        let bytes = tensor_bytes(
            &slot.storage,
            &[],
            self.model,
            self.owned,
            &[],
            info.byte_len(),
        )?;
        bytemuck::try_cast_slice(bytes)
            .map_err(|_| self.invalid(format!("input {k} is not aligned for its type")))
    }

    fn node(self, kernel: Kernel, scratch_bytes: usize) -> Node {
        Node {
            index: self.index,
            name: self.name,
            kernel,
            inputs: self.inputs,
            output: self.output,
            scratch_bytes,
            scratch: 0..0,
        }
    }
}

/// Prepare operator `index` of the graph.
pub(crate) fn prepare(
    index: usize,
    code: &OperatorCode<'_>,
    def: &OperatorDef<'_>,
    tensors: &[Slot],
    model: &[u8],
    owned: &[Vec<u64>],
) -> Result<Node, Error> {
    let name = code.builtin.name();
    let mut inputs = Vec::with_capacity(def.inputs.len());
    for t in def.inputs.iter() {
        inputs.push(match t {
            -1 => None,
            t => Some(
                usize::try_from(t)
                    .ok()
                    .filter(|&t| t < tensors.len())
                    .ok_or_else(|| Error::InvalidOperator {
                        node: index,
                        op: name,
                        reason: format!("input tensor {t} does not exist"),
                    })?,
            ),
        });
    }
    let output = match (def.outputs.len(), def.outputs.get(0)) {
        (1, Some(t)) => usize::try_from(t)
            .ok()
            .filter(|&t| t < tensors.len())
            .ok_or_else(|| Error::InvalidOperator {
                node: index,
                op: name,
                reason: format!("output tensor {t} does not exist"),
            })?,
        (n, _) => {
            return Err(Error::Unsupported {
                node: index,
                op: name,
                detail: format!("{n} outputs"),
            })
        }
    };
    // Only recurrent operators keep state in variable tensors; anything else reading one
    // would see it change under it.
    let recurrent = code.builtin == BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM;
    if !recurrent
        && inputs
            .iter()
            .flatten()
            .any(|&t| matches!(tensors[t].storage, Storage::Variable(_)))
    {
        return Err(Error::Unsupported {
            node: index,
            op: name,
            detail: "a variable (state) tensor as input".to_string(),
        });
    }
    let intermediates = def
        .intermediates
        .iter()
        .map(|t| usize::try_from(t).ok().filter(|&t| t < tensors.len()))
        .collect();
    if !matches!(tensors[output].storage, Storage::Arena(_)) {
        return Err(Error::InvalidOperator {
            node: index,
            op: name,
            reason: "its output is a constant or a variable".to_string(),
        });
    }
    let cx = Context {
        index,
        name,
        options: def.options,
        intermediates,
        inputs,
        output,
        tensors,
        model,
        owned,
    };
    if def.options2_code != 0 {
        return Err(cx.unsupported("options in the second options table (StableHLO operators)"));
    }
    if let Some(custom) = code.custom_code {
        return Err(Error::UnsupportedOperator {
            node: index,
            name: custom.to_string(),
        });
    }
    match code.builtin {
        BuiltinOperator::RESHAPE => prepare_reshape(cx),
        BuiltinOperator::ADD => prepare_add(cx, AddOp::Add),
        BuiltinOperator::SUB => prepare_add(cx, AddOp::Sub),
        BuiltinOperator::MUL => prepare_mul(cx),
        BuiltinOperator::AVERAGE_POOL_2D | BuiltinOperator::MAX_POOL_2D => prepare_pool(cx),
        BuiltinOperator::MEAN => prepare_mean(cx),
        BuiltinOperator::CONV_2D => prepare_conv(cx),
        BuiltinOperator::DEPTHWISE_CONV_2D => prepare_depthwise(cx),
        BuiltinOperator::FULLY_CONNECTED => prepare_fully_connected(cx),
        BuiltinOperator::SOFTMAX => prepare_softmax(cx),
        BuiltinOperator::LOGISTIC | BuiltinOperator::TANH => prepare_sigmoid(cx),
        BuiltinOperator::RELU => prepare_relu(cx, ReluKind::Relu),
        BuiltinOperator::RELU6 => prepare_relu(cx, ReluKind::Relu6),
        BuiltinOperator::RELU_N1_TO_1 => prepare_relu(cx, ReluKind::ReluN1To1),
        BuiltinOperator::TRANSPOSE => prepare_transpose(cx),
        BuiltinOperator::PAD | BuiltinOperator::PADV2 => prepare_pad(cx),
        BuiltinOperator::CONCATENATION => prepare_concat(cx),
        BuiltinOperator::QUANTIZE => prepare_quantize(cx),
        BuiltinOperator::DEQUANTIZE => prepare_dequantize(cx),
        BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM => prepare_lstm(cx),
        other => Err(Error::UnsupportedOperator {
            node: index,
            name: other.name().to_string(),
        }),
    }
}

fn prepare_reshape(cx: Context<'_>) -> Result<Node, Error> {
    let input = cx.input(0)?;
    let output = cx.output();
    if input.dtype != output.dtype || input.byte_len() != output.byte_len() {
        return Err(cx.invalid(format!(
            "reshapes {} {} into {} {}",
            input.dtype.name(),
            input.shape,
            output.dtype.name(),
            output.shape
        )));
    }
    Ok(cx.node(Kernel::Copy, 0))
}

const NUMERIC: [DType; 3] = [DType::F32, DType::I8, DType::U8];

fn prepare_add(cx: Context<'_>, op: AddOp) -> Result<Node, Error> {
    let dtype = cx.dtype(&NUMERIC)?;
    let function = match cx.options {
        BuiltinOptions::Add(o) => o.fused_activation,
        BuiltinOptions::Sub(o) => o.fused_activation,
        _ => ActivationFunction::None,
    };
    let activation = cx.activation(function)?;
    let (a, b, out) = (cx.input(0)?.shape, cx.input(1)?.shape, cx.output().shape);
    if cx.input(1)?.dtype != dtype {
        return Err(cx.unsupported("inputs of different types"));
    }
    let params = match dtype {
        DType::F32 => AddParams::new_f32(op, a, b, out, activation),
        _ => {
            let (qa, qb, qo) = (cx.affine(Some(0))?, cx.affine(Some(1))?, cx.affine(None)?);
            if dtype == DType::I8 {
                AddParams::new_i8(op, a, qa, b, qb, out, qo, activation)
            } else {
                AddParams::new_u8(op, a, qa, b, qb, out, qo, activation)
            }
        }
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Add(params, dtype), 0))
}

fn prepare_mul(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&NUMERIC)?;
    let function = match cx.options {
        BuiltinOptions::Mul(o) => o.fused_activation,
        _ => ActivationFunction::None,
    };
    let activation = cx.activation(function)?;
    let (a, b, out) = (cx.input(0)?.shape, cx.input(1)?.shape, cx.output().shape);
    if cx.input(1)?.dtype != dtype {
        return Err(cx.unsupported("inputs of different types"));
    }
    let params = match dtype {
        DType::F32 => MulParams::new_f32(a, b, out, activation),
        _ => {
            let (qa, qb, qo) = (cx.affine(Some(0))?, cx.affine(Some(1))?, cx.affine(None)?);
            if dtype == DType::I8 {
                MulParams::new_i8(a, qa, b, qb, out, qo, activation)
            } else {
                MulParams::new_u8(a, qa, b, qb, out, qo, activation)
            }
        }
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Mul(params, dtype), 0))
}

fn prepare_pool(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&NUMERIC)?;
    let BuiltinOptions::Pool2D(o) = cx.options else {
        return Err(cx.invalid("Pool2DOptions are missing"));
    };
    let activation = cx.activation(o.fused_activation)?;
    let positive = |v: i32, what: &str| {
        usize::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| cx.invalid(format!("{what} is {v}")))
    };
    let window = PoolWindow {
        filter_height: positive(o.filter_height, "filter height")?,
        filter_width: positive(o.filter_width, "filter width")?,
        stride_height: positive(o.stride_h, "stride height")?,
        stride_width: positive(o.stride_w, "stride width")?,
        padding: o.padding,
    };
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let params = match dtype {
        DType::F32 => PoolParams::new_f32(input, output, window, activation),
        DType::I8 => PoolParams::new_i8(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
            window,
            activation,
        ),
        _ => PoolParams::new_u8(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
            window,
            activation,
        ),
    };
    let params = cx.check(params)?;
    let kernel = if cx.name == "MAX_POOL_2D" {
        Kernel::MaxPool(params, dtype)
    } else {
        Kernel::AveragePool(params, dtype)
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_mean(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&NUMERIC)?;
    let keep_dims = match cx.options {
        BuiltinOptions::Reducer(o) => o.keep_dims,
        _ => false,
    };
    let axes = cx.constant::<i32>(1, DType::I32)?;
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let params = match dtype {
        DType::F32 => MeanParams::new_f32(input, output, axes, keep_dims),
        DType::I8 => MeanParams::new_i8(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
            axes,
            keep_dims,
        ),
        _ => MeanParams::new_u8(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
            axes,
            keep_dims,
        ),
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Mean(params, dtype), 0))
}

/// CONV_2D and DEPTHWISE_CONV_2D share their options' meaning.
#[allow(clippy::too_many_arguments)]
fn conv_options(
    cx: &Context<'_>,
    padding: crate::kernels::Padding,
    stride_h: i32,
    stride_w: i32,
    dilation_h: i32,
    dilation_w: i32,
    function: ActivationFunction,
) -> Result<ConvOptions, Error> {
    let positive = |v: i32, what: &str| {
        usize::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| cx.invalid(format!("{what} is {v}")))
    };
    Ok(ConvOptions {
        padding,
        stride_height: positive(stride_h, "stride height")?,
        stride_width: positive(stride_w, "stride width")?,
        dilation_height: positive(dilation_h, "dilation height")?,
        dilation_width: positive(dilation_w, "dilation width")?,
        activation: cx.activation(function)?,
    })
}

/// The filter (input 1) of a quantized convolution or fully-connected operator.
fn int8_filter<'a>(cx: &'a Context<'_>) -> Result<Int8Filter<'a>, Error> {
    let info = cx.input(1)?;
    let data = cx.constant::<i8>(1, DType::I8)?;
    let q = info
        .quantization
        .as_ref()
        .ok_or_else(|| cx.invalid("the filter is not quantized"))?;
    Ok(Int8Filter {
        shape: info.shape,
        data,
        scales: &q.scales,
        zero_points: &q.zero_points,
        quantized_dimension: q.axis,
    })
}

/// The optional bias (input 2).
fn bias<'a, T: Pod>(cx: &'a Context<'_>, dtype: DType) -> Result<Option<&'a [T]>, Error> {
    match cx.inputs.get(2) {
        Some(Some(_)) => cx.constant::<T>(2, dtype).map(Some),
        _ => Ok(None),
    }
}

/// Checks the output shape a kernel computed against the one the model declares.
fn declared_output(cx: &Context<'_>, computed: crate::Shape) -> Result<(), Error> {
    let declared = cx.output().shape;
    if declared == computed {
        Ok(())
    } else {
        Err(cx.invalid(format!(
            "the model declares output shape {declared}, the operator computes {computed}"
        )))
    }
}

fn prepare_conv(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let BuiltinOptions::Conv2D(o) = cx.options else {
        return Err(cx.invalid("Conv2DOptions are missing"));
    };
    let options = conv_options(
        &cx,
        o.padding,
        o.stride_h,
        o.stride_w,
        o.dilation_h_factor,
        o.dilation_w_factor,
        o.fused_activation,
    )?;
    let input = cx.input(0)?.shape;
    let kernel = if dtype == DType::I8 {
        let filter = int8_filter(&cx)?;
        let bias = bias::<i32>(&cx, DType::I32)?;
        let (qi, qo) = (cx.affine(Some(0))?, cx.affine(None)?);
        let params = cx.check(Conv2dI8::new(input, qi, filter, bias, qo, options))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::ConvI8(params)
    } else {
        let weights = cx.constant::<f32>(1, DType::F32)?;
        let bias = bias::<f32>(&cx, DType::F32)?;
        let params = cx.check(Conv2dF32::with_weights(
            input,
            cx.input(1)?.shape,
            weights,
            bias,
            options,
        ))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::ConvF32(params)
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_depthwise(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let BuiltinOptions::DepthwiseConv2D(o) = cx.options else {
        return Err(cx.invalid("DepthwiseConv2DOptions are missing"));
    };
    let options = conv_options(
        &cx,
        o.padding,
        o.stride_h,
        o.stride_w,
        o.dilation_h_factor,
        o.dilation_w_factor,
        o.fused_activation,
    )?;
    let input = cx.input(0)?.shape;
    let kernel = if dtype == DType::I8 {
        let filter = int8_filter(&cx)?;
        let bias = bias::<i32>(&cx, DType::I32)?;
        let (qi, qo) = (cx.affine(Some(0))?, cx.affine(None)?);
        let params = cx.check(DepthwiseConv2dI8::new(input, qi, filter, bias, qo, options))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::DepthwiseI8(params)
    } else {
        cx.constant::<f32>(1, DType::F32)?;
        let bias = bias::<f32>(&cx, DType::F32)?;
        let params = cx.check(DepthwiseConv2dF32::new(
            input,
            cx.input(1)?.shape,
            bias,
            options,
        ))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::DepthwiseF32(params)
    };
    // TFLite ignores the stored depth multiplier when it disagrees with the filter shape in
    // newer versions; the kernels derive it from the shapes, so only report a contradiction.
    let _ = o.depth_multiplier;
    Ok(cx.node(kernel, 0))
}

fn prepare_fully_connected(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let BuiltinOptions::FullyConnected(o) = cx.options else {
        return Err(cx.invalid("FullyConnectedOptions are missing"));
    };
    if o.weights_format != crate::schema::WeightsFormat::Default {
        return Err(cx.unsupported("the shuffled weights format"));
    }
    let options = FullyConnectedOptions {
        activation: cx.activation(o.fused_activation)?,
        keep_num_dims: o.keep_num_dims,
    };
    let input = cx.input(0)?.shape;
    let kernel = if dtype == DType::I8 {
        let filter = int8_filter(&cx)?;
        let bias = bias::<i32>(&cx, DType::I32)?;
        let (qi, qo) = (cx.affine(Some(0))?, cx.affine(None)?);
        let params = cx.check(FullyConnectedI8::new(input, qi, filter, bias, qo, options))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::FullyConnectedI8(params)
    } else {
        let weights = cx.constant::<f32>(1, DType::F32)?;
        let bias = bias::<f32>(&cx, DType::F32)?;
        let params = cx.check(FullyConnectedF32::with_weights(
            input,
            cx.input(1)?.shape,
            weights,
            bias,
            options,
        ))?;
        declared_output(&cx, params.output_shape())?;
        Kernel::FullyConnectedF32(params)
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_softmax(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let beta = match cx.options {
        BuiltinOptions::Softmax(o) => o.beta,
        _ => return Err(cx.invalid("SoftmaxOptions are missing")),
    };
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let kernel = if dtype == DType::I8 {
        let (qi, qo) = (cx.affine(Some(0))?, cx.affine(None)?);
        Kernel::SoftmaxI8(cx.check(SoftmaxI8::new(input, qi, output, qo, beta))?)
    } else {
        Kernel::SoftmaxF32(cx.check(SoftmaxF32::new(input, output, beta))?)
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_sigmoid(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let logistic = cx.name == "LOGISTIC";
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let kernel = match (dtype, logistic) {
        (DType::I8, true) => Kernel::LutI8(cx.check(LutI8::logistic(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
        ))?),
        (DType::I8, false) => Kernel::LutI8(cx.check(LutI8::tanh(
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
        ))?),
        (_, true) => Kernel::LogisticF32(cx.check(LogisticF32::new(input, output))?),
        (_, false) => Kernel::TanhF32(cx.check(TanhF32::new(input, output))?),
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_relu(cx: Context<'_>, kind: ReluKind) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8])?;
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let kernel = if dtype == DType::I8 {
        Kernel::ReluI8(cx.check(ReluI8::new(
            kind,
            input,
            cx.affine(Some(0))?,
            output,
            cx.affine(None)?,
        ))?)
    } else {
        Kernel::ReluF32(cx.check(ReluF32::new(kind, input, output))?)
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_transpose(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[
        DType::F32,
        DType::I8,
        DType::U8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::Bool,
    ])?;
    let perm = cx.constant::<i32>(1, DType::I32)?;
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let params = if matches!(dtype, DType::I8 | DType::U8 | DType::I16) {
        match (&cx.input(0)?.quantization, &cx.output().quantization) {
            (Some(_), Some(_)) => TransposeParams::new_quantized(
                input,
                cx.affine(Some(0))?,
                output,
                cx.affine(None)?,
                perm,
            ),
            _ => TransposeParams::new(input, output, perm),
        }
    } else {
        TransposeParams::new(input, output, perm)
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Transpose(params, dtype.size()), 0))
}

fn prepare_pad(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8, DType::U8, DType::I32, DType::I64])?;
    let paddings: Vec<[i64; 2]> = match cx.input(1)?.dtype {
        DType::I64 => cx
            .constant::<i64>(1, DType::I64)?
            .chunks_exact(2)
            .map(|p| [p[0], p[1]])
            .collect(),
        _ => cx
            .constant::<i32>(1, DType::I32)?
            .chunks_exact(2)
            .map(|p| [i64::from(p[0]), i64::from(p[1])])
            .collect(),
    };
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    if paddings.len() != input.rank() || cx.input(1)?.shape.num_elements() != 2 * input.rank() {
        return Err(cx.invalid(format!(
            "paddings {} for a rank-{} input",
            cx.input(1)?.shape,
            input.rank()
        )));
    }
    let params = cx.check(PadParams::new(input, output, &paddings))?;
    // PADV2 has its fill value as input 2; PAD fills with (real) zero.
    let has_constant = matches!(cx.inputs.get(2), Some(Some(_)));
    let fill = match dtype {
        DType::F32 => Fill::F32(if has_constant {
            first(&cx, cx.constant::<f32>(2, DType::F32)?)?
        } else {
            0.0
        }),
        DType::I8 | DType::U8 => {
            let out_q = cx.affine(None)?;
            let constant_q = if has_constant {
                Some(cx.affine(Some(2))?)
            } else {
                None
            };
            if dtype == DType::I8 {
                let constant = match constant_q {
                    Some(q) => Some((first(&cx, cx.constant::<i8>(2, DType::I8)?)?, q)),
                    None => None,
                };
                Fill::I8(cx.check(quantized_pad_value(out_q, constant))?)
            } else {
                let constant = match constant_q {
                    Some(q) => Some((first(&cx, cx.constant::<u8>(2, DType::U8)?)?, q)),
                    None => None,
                };
                Fill::U8(cx.check(quantized_pad_value(out_q, constant))?)
            }
        }
        DType::I32 => Fill::I32(if has_constant {
            first(&cx, cx.constant::<i32>(2, DType::I32)?)?
        } else {
            0
        }),
        _ => Fill::I64(if has_constant {
            first(&cx, cx.constant::<i64>(2, DType::I64)?)?
        } else {
            0
        }),
    };
    Ok(cx.node(Kernel::Pad(params, fill), 0))
}

fn prepare_concat(cx: Context<'_>) -> Result<Node, Error> {
    let dtype = cx.dtype(&[DType::F32, DType::I8, DType::U8, DType::I32, DType::I64])?;
    let BuiltinOptions::Concatenation(o) = cx.options else {
        return Err(cx.invalid("ConcatenationOptions are missing"));
    };
    let count = cx.inputs.len();
    if count == 0 || count > MAX_CONCAT_INPUTS {
        return Err(cx.unsupported(format!(
            "{count} inputs (this engine concatenates 1 to {MAX_CONCAT_INPUTS})"
        )));
    }
    for k in 0..count {
        if cx.input(k)?.dtype != dtype {
            return Err(cx.unsupported("inputs of different types"));
        }
    }
    let activation = cx.activation(o.fused_activation)?;
    let output = cx.output().shape;
    let params = match dtype {
        DType::I8 | DType::U8 => {
            let inputs = (0..count)
                .map(|k| Ok((cx.input(k)?.shape, cx.affine(Some(k))?)))
                .collect::<Result<Vec<_>, Error>>()?;
            let out_q = cx.affine(None)?;
            if dtype == DType::I8 {
                ConcatParams::new_i8(&inputs, output, out_q, o.axis, activation)
            } else {
                ConcatParams::new_u8(&inputs, output, out_q, o.axis, activation)
            }
        }
        _ => {
            let inputs = (0..count)
                .map(|k| Ok(cx.input(k)?.shape))
                .collect::<Result<Vec<_>, Error>>()?;
            ConcatParams::new(&inputs, output, o.axis, activation)
        }
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Concat(params, dtype), 0))
}

fn prepare_quantize(cx: Context<'_>) -> Result<Node, Error> {
    let from = cx.input(0)?.dtype;
    let to = cx.output().dtype;
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let out_q = cx.affine(None)?;
    let kernel = match (from, to) {
        (DType::F32, DType::I8) => Kernel::Quantize(
            cx.check(QuantizeParams::new::<i8>(input, output, out_q))?,
            to,
        ),
        (DType::F32, DType::U8) => Kernel::Quantize(
            cx.check(QuantizeParams::new::<u8>(input, output, out_q))?,
            to,
        ),
        (DType::I8 | DType::U8, DType::I8 | DType::U8) => {
            let in_q = cx.affine(Some(0))?;
            let params = match (from, to) {
                (DType::I8, DType::I8) => {
                    RequantizeParams::new::<i8, i8>(input, in_q, output, out_q)
                }
                (DType::I8, _) => RequantizeParams::new::<i8, u8>(input, in_q, output, out_q),
                (_, DType::I8) => RequantizeParams::new::<u8, i8>(input, in_q, output, out_q),
                _ => RequantizeParams::new::<u8, u8>(input, in_q, output, out_q),
            };
            Kernel::Requantize(cx.check(params)?, from, to)
        }
        _ => return Err(cx.unsupported(format!("quantizing {} into {}", from.name(), to.name()))),
    };
    Ok(cx.node(kernel, 0))
}

fn prepare_dequantize(cx: Context<'_>) -> Result<Node, Error> {
    let from = cx.input(0)?.dtype;
    if cx.output().dtype != DType::F32 {
        return Err(cx.unsupported(format!("dequantizing into {}", cx.output().dtype.name())));
    }
    let (input, output) = (cx.input(0)?.shape, cx.output().shape);
    let in_q = cx.affine(Some(0))?;
    let params = match from {
        DType::I8 => DequantizeParams::new::<i8>(input, in_q, output),
        DType::U8 => DequantizeParams::new::<u8>(input, in_q, output),
        other => return Err(cx.unsupported(format!("dequantizing {}", other.name()))),
    };
    let params = cx.check(params)?;
    Ok(cx.node(Kernel::Dequantize(params, from), 0))
}

fn prepare_lstm(cx: Context<'_>) -> Result<Node, Error> {
    let BuiltinOptions::UnidirectionalSequenceLstm(o) = cx.options else {
        return Err(cx.invalid("UnidirectionalSequenceLSTMOptions are missing"));
    };
    if o.diagonal_recurrent_tensors {
        return Err(cx.unsupported("diagonal recurrent weights"));
    }
    let options = LstmOptions {
        activation: match o.fused_activation {
            ActivationFunction::None => LstmActivation::None,
            ActivationFunction::Relu => LstmActivation::Relu,
            ActivationFunction::ReluN1To1 => LstmActivation::ReluN1To1,
            ActivationFunction::Relu6 => LstmActivation::Relu6,
            ActivationFunction::Tanh => LstmActivation::Tanh,
            ActivationFunction::SignBit => LstmActivation::SignBit,
        },
        cell_clip: o.cell_clip,
        proj_clip: o.proj_clip,
        time_major: o.time_major,
    };
    let present: Vec<Option<usize>> = (0..cx.inputs.len())
        .map(|k| cx.inputs.get(k).copied().flatten())
        .collect();
    let shapes: Vec<Option<crate::Shape>> = present
        .iter()
        .map(|t| t.map(|t| cx.tensors[t].info.shape))
        .collect();
    let shapes = cx.check(LstmOperands::from_inputs(&shapes))?;
    for state in [lstm_input::OUTPUT_STATE, lstm_input::CELL_STATE] {
        match present.get(state).copied().flatten() {
            Some(t) if matches!(cx.tensors[t].storage, Storage::Variable(_)) => {}
            _ => return Err(cx.invalid(format!("input {state} must be a variable (state) tensor"))),
        }
    }
    let output = cx.output().shape;
    let kernel = match cx.input(0)?.dtype {
        DType::F32 => {
            for k in (1..cx.inputs.len())
                .filter(|&k| k != lstm_input::OUTPUT_STATE && k != lstm_input::CELL_STATE)
            {
                if present[k].is_some() {
                    cx.constant::<f32>(k, DType::F32)?;
                }
            }
            let weight = |k: usize| cx.constant::<f32>(k, DType::F32);
            let optional_weight = |k: usize| match present.get(k).copied().flatten() {
                Some(_) => weight(k).map(Some),
                None => Ok(None),
            };
            let weights = LstmWeights {
                input_to_input: optional_weight(lstm_input::INPUT_TO_INPUT_WEIGHTS)?,
                input_to_forget: weight(lstm_input::INPUT_TO_FORGET_WEIGHTS)?,
                input_to_cell: weight(lstm_input::INPUT_TO_CELL_WEIGHTS)?,
                input_to_output: weight(lstm_input::INPUT_TO_OUTPUT_WEIGHTS)?,
                recurrent_to_input: optional_weight(lstm_input::RECURRENT_TO_INPUT_WEIGHTS)?,
                recurrent_to_forget: weight(lstm_input::RECURRENT_TO_FORGET_WEIGHTS)?,
                recurrent_to_cell: weight(lstm_input::RECURRENT_TO_CELL_WEIGHTS)?,
                recurrent_to_output: weight(lstm_input::RECURRENT_TO_OUTPUT_WEIGHTS)?,
            };
            let params = cx.check(LstmF32::with_weights(&shapes, output, options, weights))?;
            let scratch = params.scratch_len() * 4;
            (Kernel::LstmF32(params), scratch)
        }
        DType::I8 => {
            let quant: Vec<Option<Affine>> = present
                .iter()
                .map(|t| {
                    t.and_then(|t| cx.tensors[t].info.quantization.as_ref())
                        .and_then(|q| q.per_tensor())
                })
                .collect();
            let quant = cx.check(LstmOperands::from_inputs(&quant))?;
            let intermediates: Vec<Option<Affine>> = cx
                .intermediates
                .iter()
                .map(|t| {
                    t.and_then(|t| cx.tensors[t].info.quantization.as_ref())
                        .and_then(|q| q.per_tensor())
                })
                .collect();
            let weight = |k: usize| cx.constant::<i8>(k, DType::I8);
            let optional_weight = |k: usize| match present.get(k).copied().flatten() {
                Some(_) => weight(k).map(Some),
                None => Ok(None),
            };
            let weights = LstmWeights {
                input_to_input: optional_weight(lstm_input::INPUT_TO_INPUT_WEIGHTS)?,
                input_to_forget: weight(lstm_input::INPUT_TO_FORGET_WEIGHTS)?,
                input_to_cell: weight(lstm_input::INPUT_TO_CELL_WEIGHTS)?,
                input_to_output: weight(lstm_input::INPUT_TO_OUTPUT_WEIGHTS)?,
                recurrent_to_input: optional_weight(lstm_input::RECURRENT_TO_INPUT_WEIGHTS)?,
                recurrent_to_forget: weight(lstm_input::RECURRENT_TO_FORGET_WEIGHTS)?,
                recurrent_to_cell: weight(lstm_input::RECURRENT_TO_CELL_WEIGHTS)?,
                recurrent_to_output: weight(lstm_input::RECURRENT_TO_OUTPUT_WEIGHTS)?,
            };
            let bias = |k: usize| cx.constant::<i32>(k, DType::I32);
            let biases = LstmBiases {
                input_gate: match present.get(lstm_input::INPUT_GATE_BIAS).copied().flatten() {
                    Some(_) => Some(bias(lstm_input::INPUT_GATE_BIAS)?),
                    None => None,
                },
                forget_gate: bias(lstm_input::FORGET_GATE_BIAS)?,
                cell_gate: bias(lstm_input::CELL_GATE_BIAS)?,
                output_gate: bias(lstm_input::OUTPUT_GATE_BIAS)?,
            };
            let state_types = (
                cx.input(lstm_input::OUTPUT_STATE)?.dtype,
                cx.input(lstm_input::CELL_STATE)?.dtype,
                cx.output().dtype,
            );
            if state_types != (DType::I8, DType::I16, DType::I8) {
                return Err(cx.unsupported(format!(
                    "an integer LSTM with {}/{} states and a {} output (int8/int16/int8 expected)",
                    state_types.0.name(),
                    state_types.1.name(),
                    state_types.2.name()
                )));
            }
            let params = cx.check(LstmI8::new(
                &shapes,
                &quant,
                &intermediates,
                output,
                options,
                &weights,
                &biases,
            ))?;
            let scratch = params.scratch_len() * 2;
            (Kernel::LstmI8(params), scratch)
        }
        other => return Err(cx.unsupported(format!("{} input", other.name()))),
    };
    let (kernel, scratch_bytes) = kernel;
    Ok(cx.node(kernel, scratch_bytes))
}

/// Views of the first `count` inputs, gathered on the stack (no allocation at run time).
fn gather<'a, T: Pod>(
    count: usize,
    input: &impl Fn(usize) -> Result<&'a [u8], Error>,
) -> Result<[&'a [T]; MAX_CONCAT_INPUTS], Error> {
    let mut views: [&[T]; MAX_CONCAT_INPUTS] = [&[]; MAX_CONCAT_INPUTS];
    for (k, view_k) in views.iter_mut().enumerate().take(count) {
        *view_k = view(input(k)?)?;
    }
    Ok(views)
}

/// The single value of a scalar constant.
fn first<T: Copy>(cx: &Context<'_>, values: &[T]) -> Result<T, Error> {
    values
        .first()
        .copied()
        .ok_or_else(|| cx.invalid("the constant value is empty"))
}

/// Run one prepared operator.
pub(crate) fn run(
    node: &Node,
    tensors: &[Slot],
    arena: &mut [u8],
    model: &[u8],
    owned: &[Vec<u64>],
    variables: &mut [Vec<u64>],
) -> Result<(), Error> {
    let internal = |what: &str| Error::InvalidOperator {
        node: node.index,
        op: node.name,
        reason: format!("internal error: {what}"),
    };
    let Storage::Arena(out_range) = &tensors[node.output].storage else {
        return Err(internal("output outside the arena"));
    };
    let (split, out, scratch) = ArenaSplit::new(arena, out_range.clone(), node.scratch.clone())
        .ok_or_else(|| internal("output and scratch overlap"))?;
    let input = |k: usize| -> Result<&[u8], Error> {
        let t = node
            .inputs
            .get(k)
            .copied()
            .flatten()
            .ok_or_else(|| internal("missing input"))?;
        let slot = &tensors[t];
        match &slot.storage {
            Storage::Arena(range) => split.get(range),
            // Variable (state) tensors are handed out mutably by the recurrent kernels below;
            // prepare refuses them as plain inputs.
            other => tensor_bytes(other, &[], model, owned, &[], slot.info.byte_len()).ok(),
        }
        .ok_or_else(|| internal("input overlaps the output"))
    };
    match &node.kernel {
        Kernel::Copy => out.copy_from_slice(input(0)?),
        Kernel::Add(p, dtype) => match dtype {
            DType::F32 => p.run_f32(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
            DType::I8 => p.run_i8(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
            _ => p.run_u8(input(0)?, input(1)?, out),
        },
        Kernel::Mul(p, dtype) => match dtype {
            DType::F32 => p.run_f32(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
            DType::I8 => p.run_i8(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
            _ => p.run_u8(input(0)?, input(1)?, out),
        },
        Kernel::AveragePool(p, dtype) => match dtype {
            DType::F32 => p.average_f32(view(input(0)?)?, view_mut(out)?),
            DType::I8 => p.average_i8(view(input(0)?)?, view_mut(out)?),
            _ => p.average_u8(input(0)?, out),
        },
        Kernel::MaxPool(p, dtype) => match dtype {
            DType::F32 => p.max_f32(view(input(0)?)?, view_mut(out)?),
            DType::I8 => p.max_i8(view(input(0)?)?, view_mut(out)?),
            _ => p.max_u8(input(0)?, out),
        },
        Kernel::Mean(p, dtype) => match dtype {
            DType::F32 => p.run_f32(view(input(0)?)?, view_mut(out)?),
            DType::I8 => p.run_i8(view(input(0)?)?, view_mut(out)?),
            _ => p.run_u8(input(0)?, out),
        },
        Kernel::ConvI8(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::ConvF32(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::DepthwiseI8(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::DepthwiseF32(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::FullyConnectedI8(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::FullyConnectedF32(p) => p.run(view(input(0)?)?, view(input(1)?)?, view_mut(out)?),
        Kernel::SoftmaxI8(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::SoftmaxF32(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::LutI8(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::LogisticF32(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::TanhF32(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::ReluI8(p) => p.run(view(input(0)?)?, view_mut(out)?),
        Kernel::ReluF32(p) => p.run(view(input(0)?)?, view_mut(out)?),
        // Moving elements only needs their size, not their type.
        Kernel::Transpose(p, size) => match size {
            1 => p.run::<u8>(input(0)?, out),
            2 => p.run::<u16>(view(input(0)?)?, view_mut(out)?),
            4 => p.run::<u32>(view(input(0)?)?, view_mut(out)?),
            _ => p.run::<u64>(view(input(0)?)?, view_mut(out)?),
        },
        Kernel::Pad(p, fill) => match *fill {
            Fill::F32(v) => p.run(view::<f32>(input(0)?)?, v, view_mut(out)?),
            Fill::I8(v) => p.run(view::<i8>(input(0)?)?, v, view_mut(out)?),
            Fill::U8(v) => p.run(input(0)?, v, out),
            Fill::I32(v) => p.run(view::<i32>(input(0)?)?, v, view_mut(out)?),
            Fill::I64(v) => p.run(view::<i64>(input(0)?)?, v, view_mut(out)?),
        },
        Kernel::Concat(p, dtype) => {
            let n = node.inputs.len();
            match dtype {
                DType::F32 => p.run(&gather::<f32>(n, &input)?[..n], view_mut(out)?),
                DType::I8 => p.run_i8(&gather::<i8>(n, &input)?[..n], view_mut(out)?),
                DType::U8 => p.run_u8(&gather::<u8>(n, &input)?[..n], out),
                DType::I32 => p.run(&gather::<i32>(n, &input)?[..n], view_mut(out)?),
                _ => p.run(&gather::<i64>(n, &input)?[..n], view_mut(out)?),
            }
        }
        Kernel::Quantize(p, to) => match to {
            DType::I8 => p.run::<i8>(view(input(0)?)?, view_mut(out)?),
            _ => p.run::<u8>(view(input(0)?)?, out),
        },
        Kernel::Requantize(p, from, to) => match (from, to) {
            (DType::I8, DType::I8) => p.run::<i8, i8>(view(input(0)?)?, view_mut(out)?),
            (DType::I8, _) => p.run::<i8, u8>(view(input(0)?)?, out),
            (_, DType::I8) => p.run::<u8, i8>(input(0)?, view_mut(out)?),
            _ => p.run::<u8, u8>(input(0)?, out),
        },
        Kernel::Dequantize(p, from) => match from {
            DType::I8 => p.run::<i8>(view(input(0)?)?, view_mut(out)?),
            _ => p.run::<u8>(input(0)?, view_mut(out)?),
        },
        Kernel::LstmF32(p) => {
            let (output_state, cell_state) = states(node, tensors, variables)?;
            let optional = |k: usize| match node.inputs.get(k).copied().flatten() {
                Some(_) => input(k).and_then(view::<f32>).map(Some),
                None => Ok(None),
            };
            let io = LstmF32Io {
                input: view(input(lstm_input::INPUT)?)?,
                weights: LstmWeights {
                    input_to_input: optional(lstm_input::INPUT_TO_INPUT_WEIGHTS)?,
                    input_to_forget: view(input(lstm_input::INPUT_TO_FORGET_WEIGHTS)?)?,
                    input_to_cell: view(input(lstm_input::INPUT_TO_CELL_WEIGHTS)?)?,
                    input_to_output: view(input(lstm_input::INPUT_TO_OUTPUT_WEIGHTS)?)?,
                    recurrent_to_input: optional(lstm_input::RECURRENT_TO_INPUT_WEIGHTS)?,
                    recurrent_to_forget: view(input(lstm_input::RECURRENT_TO_FORGET_WEIGHTS)?)?,
                    recurrent_to_cell: view(input(lstm_input::RECURRENT_TO_CELL_WEIGHTS)?)?,
                    recurrent_to_output: view(input(lstm_input::RECURRENT_TO_OUTPUT_WEIGHTS)?)?,
                },
                biases: LstmBiases {
                    input_gate: optional(lstm_input::INPUT_GATE_BIAS)?,
                    forget_gate: view(input(lstm_input::FORGET_GATE_BIAS)?)?,
                    cell_gate: view(input(lstm_input::CELL_GATE_BIAS)?)?,
                    output_gate: view(input(lstm_input::OUTPUT_GATE_BIAS)?)?,
                },
                cell_to_input_weights: optional(lstm_input::CELL_TO_INPUT_WEIGHTS)?,
                cell_to_forget_weights: optional(lstm_input::CELL_TO_FORGET_WEIGHTS)?,
                cell_to_output_weights: optional(lstm_input::CELL_TO_OUTPUT_WEIGHTS)?,
                projection_weights: optional(lstm_input::PROJECTION_WEIGHTS)?,
                projection_bias: optional(lstm_input::PROJECTION_BIAS)?,
                output_state: view_mut(output_state)?,
                cell_state: view_mut(cell_state)?,
                output: view_mut(out)?,
            };
            p.run(io, view_mut(scratch)?)
                .map_err(|e| internal(&e.to_string()))?;
        }
        Kernel::LstmI8(p) => {
            let (output_state, cell_state) = states(node, tensors, variables)?;
            let optional = |k: usize| match node.inputs.get(k).copied().flatten() {
                Some(_) => input(k).and_then(view::<i8>).map(Some),
                None => Ok(None),
            };
            let io = LstmI8Io {
                input: view(input(lstm_input::INPUT)?)?,
                weights: LstmWeights {
                    input_to_input: optional(lstm_input::INPUT_TO_INPUT_WEIGHTS)?,
                    input_to_forget: view(input(lstm_input::INPUT_TO_FORGET_WEIGHTS)?)?,
                    input_to_cell: view(input(lstm_input::INPUT_TO_CELL_WEIGHTS)?)?,
                    input_to_output: view(input(lstm_input::INPUT_TO_OUTPUT_WEIGHTS)?)?,
                    recurrent_to_input: optional(lstm_input::RECURRENT_TO_INPUT_WEIGHTS)?,
                    recurrent_to_forget: view(input(lstm_input::RECURRENT_TO_FORGET_WEIGHTS)?)?,
                    recurrent_to_cell: view(input(lstm_input::RECURRENT_TO_CELL_WEIGHTS)?)?,
                    recurrent_to_output: view(input(lstm_input::RECURRENT_TO_OUTPUT_WEIGHTS)?)?,
                },
                output_state: view_mut(output_state)?,
                cell_state: view_mut(cell_state)?,
                output: view_mut(out)?,
            };
            p.run(io, view_mut(scratch)?)
                .map_err(|e| internal(&e.to_string()))?;
        }
    }
    Ok(())
}

/// The output state and cell state of a recurrent operator, to read and update in place.
fn states<'v>(
    node: &Node,
    tensors: &[Slot],
    variables: &'v mut [Vec<u64>],
) -> Result<(&'v mut [u8], &'v mut [u8]), Error> {
    let internal = |what: &str| Error::InvalidOperator {
        node: node.index,
        op: node.name,
        reason: format!("internal error: {what}"),
    };
    let index = |k: usize| match node.inputs.get(k).copied().flatten().map(|t| &tensors[t]) {
        Some(Slot {
            storage: Storage::Variable(v),
            info,
        }) => Ok((*v, info.byte_len())),
        _ => Err(internal("state is not a variable")),
    };
    let (a, a_len) = index(lstm_input::OUTPUT_STATE)?;
    let (b, b_len) = index(lstm_input::CELL_STATE)?;
    if a == b || a.max(b) >= variables.len() {
        return Err(internal("output and cell state share storage"));
    }
    let (low, high) = variables.split_at_mut(a.max(b));
    let first: &mut [u8] = bytemuck::cast_slice_mut(low[a.min(b)].as_mut_slice());
    let second: &mut [u8] = bytemuck::cast_slice_mut(high[0].as_mut_slice());
    let (output_state, cell_state) = if a < b {
        (first, second)
    } else {
        (second, first)
    };
    Ok((
        output_state
            .get_mut(..a_len)
            .ok_or_else(|| internal("state size"))?,
        cell_state
            .get_mut(..b_len)
            .ok_or_else(|| internal("state size"))?,
    ))
}

/// A typed view of raw tensor bytes.
fn view<T: Pod>(bytes: &[u8]) -> Result<&[T], Error> {
    bytemuck::try_cast_slice(bytes)
        .map_err(|_| Error::Io("internal error: misaligned tensor".to_string()))
}

/// A typed mutable view of raw tensor bytes.
fn view_mut<T: Pod>(bytes: &mut [u8]) -> Result<&mut [T], Error> {
    bytemuck::try_cast_slice_mut(bytes)
        .map_err(|_| Error::Io("internal error: misaligned tensor".to_string()))
}
