//! UNIDIRECTIONAL_SEQUENCE_LSTM, computed as TensorFlow Lite's `unidirectional_sequence_lstm.cc`
//! and `lstm_eval.cc` compute it (the reference resolver registers the same kernel as the
//! default one; its per-element arithmetic is the portable `tensor_utils`).
//!
//! Two variants:
//! - [`LstmF32`]: float input, weights, biases and states (`EvalFloat`), with the optional
//!   CIFG coupling, peephole connections, projection and clipping.
//! - [`LstmI8`]: the fully integer "8x8→16" LSTM (`EvalInteger8x8_16`): int8 input, weights and
//!   output state, int32 biases, an int16 cell state whose scale is a power of two, gates
//!   computed in int16 Q3.12 and activated with gemmlowp's fixed-point logistic and tanh. Plain
//!   and CIFG cells; peephole, projection and layer normalization are refused.
//!
//! The operator's 24 inputs arrive in TFLite's order (see [`input_index`]); inputs 18 and 19 are
//! variable tensors — the output state and the cell state — that persist across invocations,
//! start at zero, and are passed to `run` as `&mut` slices. Gate activations need scratch
//! memory whose size the prepared operator reports (`scratch_len`), so `run` allocates nothing.
//!
//! The float variant's sigmoid and tanh are branch-free polynomial/rational evaluations over
//! whole gate vectors (which the compiler vectorizes), within 5 ulp of libm's `expf`/`tanhf`
//! (NaN passes through); everything else in it is summed in the reference loops' order.
//!
//! Layouts: the input is `[time, batch, input]` when the `time_major` option is set and
//! `[batch, time, input]` otherwise; the output has the same layout with the last dimension the
//! output size. Weights are `[cells, inputs]` and `[cells, outputs]`, row-major.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::fixed_point::{logistic, tanh, FixedPoint};
use crate::kernels::simd::{PackedF32, Simd};
use crate::kernels::Invalid;
use crate::quant::{checked_log2, rounding_divide_by_pot, Affine, QuantizedMultiplier};
use crate::Shape;

/// TFLite's input index of each LSTM operand (`lstm_shared.h`).
pub mod input_index {
    /// The input sequence.
    pub const INPUT: usize = 0;
    /// Input-to-input-gate weights (absent in a CIFG LSTM).
    pub const INPUT_TO_INPUT_WEIGHTS: usize = 1;
    /// Input-to-forget-gate weights.
    pub const INPUT_TO_FORGET_WEIGHTS: usize = 2;
    /// Input-to-cell-gate weights.
    pub const INPUT_TO_CELL_WEIGHTS: usize = 3;
    /// Input-to-output-gate weights.
    pub const INPUT_TO_OUTPUT_WEIGHTS: usize = 4;
    /// Recurrent-to-input-gate weights (absent in a CIFG LSTM).
    pub const RECURRENT_TO_INPUT_WEIGHTS: usize = 5;
    /// Recurrent-to-forget-gate weights.
    pub const RECURRENT_TO_FORGET_WEIGHTS: usize = 6;
    /// Recurrent-to-cell-gate weights.
    pub const RECURRENT_TO_CELL_WEIGHTS: usize = 7;
    /// Recurrent-to-output-gate weights.
    pub const RECURRENT_TO_OUTPUT_WEIGHTS: usize = 8;
    /// Peephole weights into the input gate.
    pub const CELL_TO_INPUT_WEIGHTS: usize = 9;
    /// Peephole weights into the forget gate.
    pub const CELL_TO_FORGET_WEIGHTS: usize = 10;
    /// Peephole weights into the output gate.
    pub const CELL_TO_OUTPUT_WEIGHTS: usize = 11;
    /// Input gate bias (absent in a CIFG LSTM).
    pub const INPUT_GATE_BIAS: usize = 12;
    /// Forget gate bias.
    pub const FORGET_GATE_BIAS: usize = 13;
    /// Cell gate bias.
    pub const CELL_GATE_BIAS: usize = 14;
    /// Output gate bias.
    pub const OUTPUT_GATE_BIAS: usize = 15;
    /// Projection weights.
    pub const PROJECTION_WEIGHTS: usize = 16;
    /// Projection bias.
    pub const PROJECTION_BIAS: usize = 17;
    /// The output state (a variable tensor).
    pub const OUTPUT_STATE: usize = 18;
    /// The cell state (a variable tensor).
    pub const CELL_STATE: usize = 19;
    /// Layer-norm coefficients of the input gate.
    pub const INPUT_LAYER_NORM_COEFFICIENTS: usize = 20;
    /// Layer-norm coefficients of the forget gate.
    pub const FORGET_LAYER_NORM_COEFFICIENTS: usize = 21;
    /// Layer-norm coefficients of the cell gate.
    pub const CELL_LAYER_NORM_COEFFICIENTS: usize = 22;
    /// Layer-norm coefficients of the output gate.
    pub const OUTPUT_LAYER_NORM_COEFFICIENTS: usize = 23;
    /// Index of the intermediate tensor whose quantization the integer LSTM uses as the
    /// hidden state's (`effective_hidden_scale_intermediate`).
    pub const HIDDEN_INTERMEDIATE: usize = 4;
}

/// Number of inputs of the operator (older models have 20: no layer normalization).
pub const NUM_INPUTS: usize = 24;

/// One value per LSTM operand (a shape, a quantization …), named after TFLite's inputs;
/// `None` for an absent optional input (index −1 in the model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LstmOperands<T> {
    /// 0: the input sequence.
    pub input: Option<T>,
    /// 1: input-to-input-gate weights.
    pub input_to_input_weights: Option<T>,
    /// 2: input-to-forget-gate weights.
    pub input_to_forget_weights: Option<T>,
    /// 3: input-to-cell-gate weights.
    pub input_to_cell_weights: Option<T>,
    /// 4: input-to-output-gate weights.
    pub input_to_output_weights: Option<T>,
    /// 5: recurrent-to-input-gate weights.
    pub recurrent_to_input_weights: Option<T>,
    /// 6: recurrent-to-forget-gate weights.
    pub recurrent_to_forget_weights: Option<T>,
    /// 7: recurrent-to-cell-gate weights.
    pub recurrent_to_cell_weights: Option<T>,
    /// 8: recurrent-to-output-gate weights.
    pub recurrent_to_output_weights: Option<T>,
    /// 9: peephole weights into the input gate.
    pub cell_to_input_weights: Option<T>,
    /// 10: peephole weights into the forget gate.
    pub cell_to_forget_weights: Option<T>,
    /// 11: peephole weights into the output gate.
    pub cell_to_output_weights: Option<T>,
    /// 12: input gate bias.
    pub input_gate_bias: Option<T>,
    /// 13: forget gate bias.
    pub forget_gate_bias: Option<T>,
    /// 14: cell gate bias.
    pub cell_gate_bias: Option<T>,
    /// 15: output gate bias.
    pub output_gate_bias: Option<T>,
    /// 16: projection weights.
    pub projection_weights: Option<T>,
    /// 17: projection bias.
    pub projection_bias: Option<T>,
    /// 18: the output state.
    pub output_state: Option<T>,
    /// 19: the cell state.
    pub cell_state: Option<T>,
    /// 20: layer-norm coefficients of the input gate.
    pub input_layer_norm_coefficients: Option<T>,
    /// 21: layer-norm coefficients of the forget gate.
    pub forget_layer_norm_coefficients: Option<T>,
    /// 22: layer-norm coefficients of the cell gate.
    pub cell_layer_norm_coefficients: Option<T>,
    /// 23: layer-norm coefficients of the output gate.
    pub output_layer_norm_coefficients: Option<T>,
}

impl<T> Default for LstmOperands<T> {
    fn default() -> Self {
        Self {
            input: None,
            input_to_input_weights: None,
            input_to_forget_weights: None,
            input_to_cell_weights: None,
            input_to_output_weights: None,
            recurrent_to_input_weights: None,
            recurrent_to_forget_weights: None,
            recurrent_to_cell_weights: None,
            recurrent_to_output_weights: None,
            cell_to_input_weights: None,
            cell_to_forget_weights: None,
            cell_to_output_weights: None,
            input_gate_bias: None,
            forget_gate_bias: None,
            cell_gate_bias: None,
            output_gate_bias: None,
            projection_weights: None,
            projection_bias: None,
            output_state: None,
            cell_state: None,
            input_layer_norm_coefficients: None,
            forget_layer_norm_coefficients: None,
            cell_layer_norm_coefficients: None,
            output_layer_norm_coefficients: None,
        }
    }
}

impl<T: Copy> LstmOperands<T> {
    /// The operand slot for TFLite input `index`.
    fn slot(&mut self, index: usize) -> Option<&mut Option<T>> {
        Some(match index {
            0 => &mut self.input,
            1 => &mut self.input_to_input_weights,
            2 => &mut self.input_to_forget_weights,
            3 => &mut self.input_to_cell_weights,
            4 => &mut self.input_to_output_weights,
            5 => &mut self.recurrent_to_input_weights,
            6 => &mut self.recurrent_to_forget_weights,
            7 => &mut self.recurrent_to_cell_weights,
            8 => &mut self.recurrent_to_output_weights,
            9 => &mut self.cell_to_input_weights,
            10 => &mut self.cell_to_forget_weights,
            11 => &mut self.cell_to_output_weights,
            12 => &mut self.input_gate_bias,
            13 => &mut self.forget_gate_bias,
            14 => &mut self.cell_gate_bias,
            15 => &mut self.output_gate_bias,
            16 => &mut self.projection_weights,
            17 => &mut self.projection_bias,
            18 => &mut self.output_state,
            19 => &mut self.cell_state,
            20 => &mut self.input_layer_norm_coefficients,
            21 => &mut self.forget_layer_norm_coefficients,
            22 => &mut self.cell_layer_norm_coefficients,
            23 => &mut self.output_layer_norm_coefficients,
            _ => return None,
        })
    }

    /// From the operator's inputs in TFLite's order (20 or 24 of them, `None` for −1).
    pub fn from_inputs(inputs: &[Option<T>]) -> Result<Self, Invalid> {
        if inputs.len() != 20 && inputs.len() != NUM_INPUTS {
            return Err(format!(
                "an LSTM has 20 or 24 inputs, this one has {}",
                inputs.len()
            ));
        }
        let mut operands = Self::default();
        for (index, &value) in inputs.iter().enumerate() {
            if let Some(slot) = operands.slot(index) {
                *slot = value;
            }
        }
        Ok(operands)
    }

    /// The operand at TFLite input `index` (`None` when absent or out of range).
    pub fn get(&self, index: usize) -> Option<T> {
        let mut copy = *self;
        copy.slot(index).and_then(|slot| *slot)
    }
}

/// The fused activation of the options (the schema's `ActivationFunctionType`), used by the
/// float LSTM for the cell gate and the cell output; the integer LSTM always uses tanh there.
/// (The schema has no SIGMOID: TFLite reads any other value as NONE.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LstmActivation {
    /// NONE (0).
    None,
    /// RELU (1).
    Relu,
    /// RELU_N1_TO_1 (2).
    ReluN1To1,
    /// RELU6 (3).
    Relu6,
    /// TANH (4): what trained LSTMs use.
    Tanh,
    /// SIGN_BIT (5).
    SignBit,
}

impl LstmActivation {
    /// From the schema's `ActivationFunctionType` value.
    pub fn from_tflite(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::None,
            1 => Self::Relu,
            2 => Self::ReluN1To1,
            3 => Self::Relu6,
            4 => Self::Tanh,
            5 => Self::SignBit,
            _ => return None,
        })
    }
}

/// `UnidirectionalSequenceLSTMOptions` as plain values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LstmOptions {
    /// Fused activation (float LSTM only).
    pub activation: LstmActivation,
    /// Clip the cell state to ±this; 0 for no clipping.
    pub cell_clip: f32,
    /// Clip the projection output to ±this; 0 for no clipping.
    pub proj_clip: f32,
    /// `[time, batch, input]` rather than `[batch, time, input]`.
    pub time_major: bool,
}

/// The sizes and structure every variant derives at prepare time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dims {
    n_batch: usize,
    max_time: usize,
    n_input: usize,
    n_cell: usize,
    n_output: usize,
    time_major: bool,
    /// Coupled input and forget gates: no input-gate weights, input gate = 1 − forget gate.
    cifg: bool,
    peephole: bool,
    projection: bool,
    projection_bias: bool,
}

fn required(shape: Option<Shape>, what: &str) -> Result<Shape, Invalid> {
    shape.ok_or_else(|| format!("the LSTM's {what} is missing"))
}

fn check_dims(shape: Shape, what: &str, want: &[usize]) -> Result<(), Invalid> {
    if shape.dims() != want {
        return Err(format!("LSTM {what} has shape {shape}, expected {want:?}"));
    }
    Ok(())
}

fn check_required(shape: Option<Shape>, what: &str, want: &[usize]) -> Result<(), Invalid> {
    check_dims(required(shape, what)?, what, want)
}

fn check_optional(shape: Option<Shape>, what: &str, want: &[usize]) -> Result<(), Invalid> {
    shape.map_or(Ok(()), |s| check_dims(s, what, want))
}

/// Recurrent weights must be a full matrix: TFLite's diagonal (rank-1) variant is not
/// supported here.
fn check_recurrent(
    shape: Shape,
    what: &str,
    n_cell: usize,
    n_output: usize,
) -> Result<(), Invalid> {
    if shape.rank() == 1 {
        return Err(format!("diagonal (rank-1) LSTM {what} are not supported"));
    }
    check_dims(shape, what, &[n_cell, n_output])
}

/// TFLite's `Prepare` and `CheckInputTensorDimensions`: every shape relation the evaluation
/// relies on.
fn prepare_dims(
    shapes: &LstmOperands<Shape>,
    output: Shape,
    options: &LstmOptions,
) -> Result<Dims, Invalid> {
    // NaN fails these comparisons too.
    if !(options.cell_clip >= 0.0 && options.cell_clip.is_finite()) {
        return Err(format!(
            "LSTM cell clip {} must be 0 (none) or a positive number",
            options.cell_clip
        ));
    }
    if !(options.proj_clip >= 0.0 && options.proj_clip.is_finite()) {
        return Err(format!(
            "LSTM projection clip {} must be 0 (none) or a positive number",
            options.proj_clip
        ));
    }
    if shapes.input_layer_norm_coefficients.is_some()
        || shapes.forget_layer_norm_coefficients.is_some()
        || shapes.cell_layer_norm_coefficients.is_some()
        || shapes.output_layer_norm_coefficients.is_some()
    {
        return Err("a layer-normalized LSTM is not supported".into());
    }

    let input = required(shapes.input, "input")?;
    let &[d0, d1, n_input] = input.dims() else {
        return Err(format!(
            "LSTM input must have 3 dimensions ([time, batch, input] or [batch, time, input]), \
             it has shape {input}"
        ));
    };
    let (n_batch, max_time) = if options.time_major {
        (d1, d0)
    } else {
        (d0, d1)
    };

    let input_to_output = required(shapes.input_to_output_weights, "input-to-output weights")?;
    let &[n_cell, weights_input] = input_to_output.dims() else {
        return Err(format!(
            "LSTM input-to-output weights must be a matrix, not {input_to_output}"
        ));
    };
    if weights_input != n_input {
        return Err(format!(
            "LSTM input-to-output weights have {weights_input} columns but the input has \
             {n_input} features"
        ));
    }
    let recurrent_to_output = required(
        shapes.recurrent_to_output_weights,
        "recurrent-to-output weights",
    )?;
    if recurrent_to_output.rank() == 1 {
        return Err("diagonal (rank-1) LSTM recurrent weights are not supported".into());
    }
    let &[recurrent_cells, n_output] = recurrent_to_output.dims() else {
        return Err(format!(
            "LSTM recurrent-to-output weights must be a matrix, not {recurrent_to_output}"
        ));
    };
    if recurrent_cells != n_cell {
        return Err(format!(
            "LSTM recurrent-to-output weights have {recurrent_cells} rows but the cell has \
             {n_cell} units"
        ));
    }
    if n_input == 0 || n_cell == 0 || n_output == 0 {
        return Err(format!(
            "LSTM sizes must be positive (input {n_input}, cell {n_cell}, output {n_output})"
        ));
    }

    check_required(
        shapes.input_to_forget_weights,
        "input-to-forget weights",
        &[n_cell, n_input],
    )?;
    check_required(
        shapes.input_to_cell_weights,
        "input-to-cell weights",
        &[n_cell, n_input],
    )?;
    for (shape, what) in [
        (
            shapes.recurrent_to_forget_weights,
            "recurrent-to-forget weights",
        ),
        (
            shapes.recurrent_to_cell_weights,
            "recurrent-to-cell weights",
        ),
    ] {
        check_recurrent(required(shape, what)?, what, n_cell, n_output)?;
    }

    let cifg = match (
        shapes.input_to_input_weights,
        shapes.recurrent_to_input_weights,
    ) {
        (None, None) => true,
        (Some(i), Some(r)) => {
            check_dims(i, "input-to-input weights", &[n_cell, n_input])?;
            check_recurrent(r, "recurrent-to-input weights", n_cell, n_output)?;
            false
        }
        _ => {
            return Err(
                "LSTM input-to-input and recurrent-to-input weights must be both present or \
                 both absent"
                    .into(),
            )
        }
    };

    let peephole = match (
        shapes.cell_to_input_weights,
        shapes.cell_to_forget_weights,
        shapes.cell_to_output_weights,
    ) {
        (None, None, None) => false,
        (to_input, Some(to_forget), Some(to_output)) if to_input.is_some() || cifg => {
            check_optional(to_input, "cell-to-input weights", &[n_cell])?;
            check_dims(to_forget, "cell-to-forget weights", &[n_cell])?;
            check_dims(to_output, "cell-to-output weights", &[n_cell])?;
            true
        }
        _ => {
            return Err(
                "LSTM peephole (cell-to-gate) weights must be all present or all absent".into(),
            )
        }
    };

    if cifg {
        if shapes.input_gate_bias.is_some() {
            return Err(
                "a CIFG LSTM (no input-gate weights) must not have an input gate bias".into(),
            );
        }
    } else {
        check_required(shapes.input_gate_bias, "input gate bias", &[n_cell])?;
    }
    check_required(shapes.forget_gate_bias, "forget gate bias", &[n_cell])?;
    check_required(shapes.cell_gate_bias, "cell gate bias", &[n_cell])?;
    check_required(shapes.output_gate_bias, "output gate bias", &[n_cell])?;

    check_optional(
        shapes.projection_weights,
        "projection weights",
        &[n_output, n_cell],
    )?;
    check_optional(shapes.projection_bias, "projection bias", &[n_output])?;
    let projection = shapes.projection_weights.is_some();
    if !projection && shapes.projection_bias.is_some() {
        return Err("LSTM has a projection bias but no projection weights".into());
    }
    // Without a projection the hidden state (one value per cell) is the output.
    if !projection && n_output != n_cell {
        return Err(format!(
            "LSTM without projection must have as many outputs as cells ({n_output} vs {n_cell})"
        ));
    }

    let output_state = required(shapes.output_state, "output state")?;
    if Some(output_state.num_elements()) != n_batch.checked_mul(n_output) {
        return Err(format!(
            "LSTM output state has shape {output_state}, expected {n_batch}×{n_output} elements"
        ));
    }
    let cell_state = required(shapes.cell_state, "cell state")?;
    if Some(cell_state.num_elements()) != n_batch.checked_mul(n_cell) {
        return Err(format!(
            "LSTM cell state has shape {cell_state}, expected {n_batch}×{n_cell} elements"
        ));
    }
    if output.dims() != [d0, d1, n_output] {
        return Err(format!(
            "LSTM output has shape {output}, expected [{d0}, {d1}, {n_output}]"
        ));
    }

    Ok(Dims {
        n_batch,
        max_time,
        n_input,
        n_cell,
        n_output,
        time_major: options.time_major,
        cifg,
        peephole,
        projection,
        projection_bias: shapes.projection_bias.is_some(),
    })
}

impl Dims {
    /// Rows evaluated together in one time step: all batches when time-major, one otherwise
    /// (TFLite steps batch-major sequences one batch at a time).
    fn rows_per_step(&self) -> usize {
        if self.time_major {
            self.n_batch
        } else {
            1
        }
    }

    /// Elements of one gate's scratch buffer.
    fn gate_len(&self) -> usize {
        self.rows_per_step() * self.n_cell
    }

    /// Calls `step(input_rows, output_rows, state_row_range)` for every time step in order,
    /// with the input and output rows that step reads and writes (TFLite's `EvalFloat` /
    /// `EvalInteger8x8_16` loops).
    fn for_each_step<I, O>(
        &self,
        input: &[I],
        output: &mut [O],
        mut step: impl FnMut(&[I], &mut [O], core::ops::Range<usize>),
    ) {
        let in_row = self.n_input;
        let out_row = self.n_output;
        if self.time_major {
            let in_step = self.n_batch * in_row;
            let out_step = self.n_batch * out_row;
            if in_step == 0 || out_step == 0 {
                return;
            }
            for (x, y) in input
                .chunks_exact(in_step)
                .zip(output.chunks_exact_mut(out_step))
            {
                step(x, y, 0..self.n_batch);
            }
        } else {
            let in_batch = self.max_time * in_row;
            let out_batch = self.max_time * out_row;
            if in_batch == 0 || out_batch == 0 {
                return;
            }
            for (b, (xs, ys)) in input
                .chunks_exact(in_batch)
                .zip(output.chunks_exact_mut(out_batch))
                .enumerate()
            {
                for (x, y) in xs.chunks_exact(in_row).zip(ys.chunks_exact_mut(out_row)) {
                    step(x, y, b..b + 1);
                }
            }
        }
    }
}

/// The weight matrices of the four gates, as the interpreter hands them over.
#[derive(Debug, Clone, Copy)]
pub struct LstmWeights<'a, W> {
    /// Input 1 (absent in a CIFG LSTM).
    pub input_to_input: Option<&'a [W]>,
    /// Input 2.
    pub input_to_forget: &'a [W],
    /// Input 3.
    pub input_to_cell: &'a [W],
    /// Input 4.
    pub input_to_output: &'a [W],
    /// Input 5 (absent in a CIFG LSTM).
    pub recurrent_to_input: Option<&'a [W]>,
    /// Input 6.
    pub recurrent_to_forget: &'a [W],
    /// Input 7.
    pub recurrent_to_cell: &'a [W],
    /// Input 8.
    pub recurrent_to_output: &'a [W],
}

/// The four gate biases.
#[derive(Debug, Clone, Copy)]
pub struct LstmBiases<'a, B> {
    /// Input 12 (absent in a CIFG LSTM).
    pub input_gate: Option<&'a [B]>,
    /// Input 13.
    pub forget_gate: &'a [B],
    /// Input 14.
    pub cell_gate: &'a [B],
    /// Input 15.
    pub output_gate: &'a [B],
}

/// Why `run` refused its operands: they do not match what the operator was prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LstmRunError {
    /// An operand the prepared operator needs was not given.
    Missing(&'static str),
    /// An operand's length is not its prepared shape's element count.
    Length {
        /// Which operand.
        operand: &'static str,
        /// The prepared element count.
        expected: usize,
        /// The slice's length.
        actual: usize,
    },
}

impl fmt::Display for LstmRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LstmRunError::Missing(operand) => write!(f, "LSTM {operand} was not given"),
            LstmRunError::Length {
                operand,
                expected,
                actual,
            } => write!(
                f,
                "LSTM {operand} has {actual} elements, the operator was prepared for {expected}"
            ),
        }
    }
}

impl core::error::Error for LstmRunError {}

fn check_len<T>(operand: &'static str, slice: &[T], expected: usize) -> Result<(), LstmRunError> {
    if slice.len() == expected {
        Ok(())
    } else {
        Err(LstmRunError::Length {
            operand,
            expected,
            actual: slice.len(),
        })
    }
}

fn need<'a, T>(
    operand: &'static str,
    slice: Option<&'a [T]>,
    expected: usize,
) -> Result<&'a [T], LstmRunError> {
    let slice = slice.ok_or(LstmRunError::Missing(operand))?;
    check_len(operand, slice, expected)?;
    Ok(slice)
}

/// The weights of one gate after the run-time checks: input and recurrent matrices.
#[derive(Clone, Copy)]
struct GateWeights<'a, W> {
    input: &'a [W],
    recurrent: &'a [W],
}

/// Checks every weight matrix against the prepared sizes; the input gate's only without CIFG.
fn check_weights<'a, W>(
    dims: &Dims,
    w: &LstmWeights<'a, W>,
) -> Result<[Option<GateWeights<'a, W>>; 4], LstmRunError> {
    let input_len = dims.n_cell * dims.n_input;
    let recurrent_len = dims.n_cell * dims.n_output;
    let gate = |input: &'a [W], in_name, recurrent: &'a [W], rec_name| {
        check_len(in_name, input, input_len)?;
        check_len(rec_name, recurrent, recurrent_len)?;
        Ok(Some(GateWeights { input, recurrent }))
    };
    let input_gate = if dims.cifg {
        None
    } else {
        gate(
            need("input-to-input weights", w.input_to_input, input_len)?,
            "input-to-input weights",
            need(
                "recurrent-to-input weights",
                w.recurrent_to_input,
                recurrent_len,
            )?,
            "recurrent-to-input weights",
        )?
    };
    Ok([
        input_gate,
        gate(
            w.input_to_forget,
            "input-to-forget weights",
            w.recurrent_to_forget,
            "recurrent-to-forget weights",
        )?,
        gate(
            w.input_to_cell,
            "input-to-cell weights",
            w.recurrent_to_cell,
            "recurrent-to-cell weights",
        )?,
        gate(
            w.input_to_output,
            "input-to-output weights",
            w.recurrent_to_output,
            "recurrent-to-output weights",
        )?,
    ])
}

/// Gate order in the arrays below (TFLite's scratch order is input, cell, forget, output, but
/// naming them is clearer).
const INPUT_GATE: usize = 0;
const FORGET_GATE: usize = 1;
const CELL_GATE: usize = 2;
const OUTPUT_GATE: usize = 3;

// ---------------------------------------------------------------------------------------------
// Float LSTM
// ---------------------------------------------------------------------------------------------

/// Float UNIDIRECTIONAL_SEQUENCE_LSTM (`lstm_eval::EvalFloat`).
#[derive(Debug, Clone)]
pub struct LstmF32 {
    dims: Dims,
    activation: LstmActivation,
    cell_clip: f32,
    proj_clip: f32,
    /// The four gates' input and recurrent weights stacked (gate `g` in rows
    /// `g·n_cell..(g + 1)·n_cell`, zeros for a CIFG input gate) and transposed for
    /// lane-parallel sums, when they were given at prepare and a SIMD path exists.
    packed: Option<(PackedF32, PackedF32)>,
}

/// The float LSTM's operands for one invocation.
#[derive(Debug)]
pub struct LstmF32Io<'a> {
    /// Input 0: the input sequence.
    pub input: &'a [f32],
    /// Inputs 1–8.
    pub weights: LstmWeights<'a, f32>,
    /// Inputs 12–15.
    pub biases: LstmBiases<'a, f32>,
    /// Input 9 (peephole LSTM without CIFG only).
    pub cell_to_input_weights: Option<&'a [f32]>,
    /// Input 10 (peephole LSTM only).
    pub cell_to_forget_weights: Option<&'a [f32]>,
    /// Input 11 (peephole LSTM only).
    pub cell_to_output_weights: Option<&'a [f32]>,
    /// Input 16 (projection LSTM only).
    pub projection_weights: Option<&'a [f32]>,
    /// Input 17 (optional even with a projection).
    pub projection_bias: Option<&'a [f32]>,
    /// Input 18, read and updated.
    pub output_state: &'a mut [f32],
    /// Input 19, read and updated.
    pub cell_state: &'a mut [f32],
    /// The output sequence.
    pub output: &'a mut [f32],
}

/// The float operands after the run-time checks.
struct F32Operands<'a> {
    gates: [Option<GateWeights<'a, f32>>; 4],
    biases: [Option<&'a [f32]>; 4],
    peephole: [Option<&'a [f32]>; 4],
    projection: Option<(&'a [f32], Option<&'a [f32]>)>,
}

impl LstmF32 {
    /// Validates shapes and options (TFLite's `Prepare` for a float LSTM). Layer normalization,
    /// diagonal recurrent weights and the NONE and SIGN_BIT activations are refused (with NONE,
    /// TFLite's `ApplyActivationToVector` leaves its output buffer unwritten, so the result
    /// depends on stale scratch memory).
    pub fn new(
        shapes: &LstmOperands<Shape>,
        output: Shape,
        options: LstmOptions,
    ) -> Result<Self, Invalid> {
        let dims = prepare_dims(shapes, output, &options)?;
        match options.activation {
            LstmActivation::None | LstmActivation::SignBit => {
                return Err(format!(
                    "LSTM activation {:?} is not supported",
                    options.activation
                ))
            }
            _ => {}
        }
        Ok(Self {
            dims,
            activation: options.activation,
            cell_clip: options.cell_clip,
            proj_clip: options.proj_clip,
            packed: None,
        })
    }

    /// [`LstmF32::new`] for constant weights: on a SIMD path the four gates' matrices are
    /// copied, stacked and transposed, so that every gate's units are summed side by side
    /// (each in the order of the one-at-a-time loop, so with the same result). `run` must
    /// then be given the same weights.
    pub fn with_weights(
        shapes: &LstmOperands<Shape>,
        output: Shape,
        options: LstmOptions,
        weights: LstmWeights<'_, f32>,
    ) -> Result<Self, Invalid> {
        let mut lstm = Self::new(shapes, output, options)?;
        let d = lstm.dims;
        let Ok(gates) = check_weights(&d, &weights) else {
            // `run` reports the mismatch.
            return Ok(lstm);
        };
        let stack = |recurrent: bool| {
            let depth = if recurrent { d.n_output } else { d.n_input };
            let mut all = vec![0.0f32; 4 * d.n_cell * depth];
            for (rows, gate) in all.chunks_exact_mut((d.n_cell * depth).max(1)).zip(&gates) {
                if let Some(g) = gate {
                    rows.copy_from_slice(if recurrent { g.recurrent } else { g.input });
                }
            }
            PackedF32::new(Simd::detect(), &all, 4 * d.n_cell, depth)
        };
        let input = stack(false);
        let recurrent = stack(true);
        lstm.packed = input.zip(recurrent);
        Ok(lstm)
    }

    /// `f32` elements of scratch memory `run` needs: four gate buffers, and with packed
    /// weights the stacked products of the input and of the recurrent state.
    pub fn scratch_len(&self) -> usize {
        let products = if self.packed.is_some() { 8 } else { 0 };
        (4 + products) * self.dims.gate_len()
    }

    /// Sets both states to zero, as TFLite does at load time.
    pub fn reset_states(&self, output_state: &mut [f32], cell_state: &mut [f32]) {
        output_state.fill(0.0);
        cell_state.fill(0.0);
    }

    fn check<'a>(
        &self,
        io: &LstmF32Io<'a>,
        scratch: &[f32],
    ) -> Result<F32Operands<'a>, LstmRunError> {
        let d = &self.dims;
        check_len("input", io.input, d.n_batch * d.max_time * d.n_input)?;
        check_len("output", io.output, d.n_batch * d.max_time * d.n_output)?;
        check_len("output state", io.output_state, d.n_batch * d.n_output)?;
        check_len("cell state", io.cell_state, d.n_batch * d.n_cell)?;
        check_len("scratch", scratch, self.scratch_len())?;
        let gates = check_weights(d, &io.weights)?;
        let b = &io.biases;
        let input_bias = if d.cifg {
            None
        } else {
            Some(need("input gate bias", b.input_gate, d.n_cell)?)
        };
        check_len("forget gate bias", b.forget_gate, d.n_cell)?;
        check_len("cell gate bias", b.cell_gate, d.n_cell)?;
        check_len("output gate bias", b.output_gate, d.n_cell)?;
        let peephole = if d.peephole {
            [
                if d.cifg {
                    None
                } else {
                    Some(need(
                        "cell-to-input weights",
                        io.cell_to_input_weights,
                        d.n_cell,
                    )?)
                },
                Some(need(
                    "cell-to-forget weights",
                    io.cell_to_forget_weights,
                    d.n_cell,
                )?),
                None,
                Some(need(
                    "cell-to-output weights",
                    io.cell_to_output_weights,
                    d.n_cell,
                )?),
            ]
        } else {
            [None; 4]
        };
        let projection = if d.projection {
            let weights = need(
                "projection weights",
                io.projection_weights,
                d.n_output * d.n_cell,
            )?;
            let bias = if d.projection_bias {
                Some(need("projection bias", io.projection_bias, d.n_output)?)
            } else {
                None
            };
            Some((weights, bias))
        } else {
            None
        };
        Ok(F32Operands {
            gates,
            biases: [
                input_bias,
                Some(b.forget_gate),
                Some(b.cell_gate),
                Some(b.output_gate),
            ],
            peephole,
            projection,
        })
    }

    /// Runs the whole sequence, updating the states in place. Fails only when the operands do
    /// not have the prepared sizes.
    pub fn run(&self, io: LstmF32Io<'_>, scratch: &mut [f32]) -> Result<(), LstmRunError> {
        let ops = self.check(&io, scratch)?;
        let d = self.dims;
        let LstmF32Io {
            input,
            output,
            output_state,
            cell_state,
            ..
        } = io;
        d.for_each_step(input, output, |x, y, rows| {
            let h = &mut output_state[rows.start * d.n_output..rows.end * d.n_output];
            let c = &mut cell_state[rows.start * d.n_cell..rows.end * d.n_cell];
            self.step(&ops, x, h, c, scratch);
            y.copy_from_slice(h);
        });
        Ok(())
    }

    /// One time step for `x.len() / n_input` rows (`LstmStepFloat`).
    fn step(
        &self,
        ops: &F32Operands<'_>,
        x: &[f32],
        h: &mut [f32],
        c: &mut [f32],
        scratch: &mut [f32],
    ) {
        let d = &self.dims;
        let len = c.len();
        let (input_gate, rest) = scratch.split_at_mut(len);
        let (forget_gate, rest) = rest.split_at_mut(len);
        let (cell_gate, rest) = rest.split_at_mut(len);
        let (output_gate, rest) = rest.split_at_mut(len);
        if let Some((input, recurrent)) = &self.packed {
            let (from_input, rest) = rest.split_at_mut(4 * len);
            let from_state = &mut rest[..4 * len];
            let gate_rows = 4 * d.n_cell;
            for ((x, h), (pi, pr)) in x
                .chunks_exact(d.n_input)
                .zip(h.chunks_exact(d.n_output))
                .zip(
                    from_input
                        .chunks_exact_mut(gate_rows)
                        .zip(from_state.chunks_exact_mut(gate_rows)),
                )
            {
                input.matvec(x, pi);
                recurrent.matvec(h, pr);
            }
            let products = (&*from_input, &*from_state);
            let gates = [input_gate, forget_gate, cell_gate, output_gate];
            return self.step_from(ops, products, h, c, gates);
        }

        if let Some(w) = ops.gates[INPUT_GATE] {
            self.gate(
                x,
                h,
                w,
                ops.biases[INPUT_GATE],
                ops.peephole[INPUT_GATE],
                c,
                input_gate,
            );
            sigmoid_f32(input_gate);
        }
        if let Some(w) = ops.gates[FORGET_GATE] {
            self.gate(
                x,
                h,
                w,
                ops.biases[FORGET_GATE],
                ops.peephole[FORGET_GATE],
                c,
                forget_gate,
            );
            sigmoid_f32(forget_gate);
        }
        if let Some(w) = ops.gates[CELL_GATE] {
            self.gate(x, h, w, ops.biases[CELL_GATE], None, c, cell_gate);
            apply_activation_f32(self.activation, cell_gate);
        }

        // UpdateLstmCellFloat: c = f·c + g·i (i = 1 − f with CIFG), then the clip.
        for (k, c) in c.iter_mut().enumerate() {
            let i = if d.cifg {
                1.0 - forget_gate[k]
            } else {
                input_gate[k]
            };
            *c = forget_gate[k] * *c + cell_gate[k] * i;
            if self.cell_clip > 0.0 {
                *c = clip_f32(*c, self.cell_clip);
            }
        }

        // The output gate's peephole sees the updated cell state.
        if let Some(w) = ops.gates[OUTPUT_GATE] {
            self.gate(
                x,
                h,
                w,
                ops.biases[OUTPUT_GATE],
                ops.peephole[OUTPUT_GATE],
                c,
                output_gate,
            );
            sigmoid_f32(output_gate);
        }

        self.output_from(ops, h, c, cell_gate, output_gate);
    }

    /// `CalculateLstmOutputFloat`: `o · act(c)`, projected or copied into the output state
    /// (`hidden` is scratch).
    fn output_from(
        &self,
        ops: &F32Operands<'_>,
        h: &mut [f32],
        c: &[f32],
        hidden: &mut [f32],
        output_gate: &[f32],
    ) {
        let d = &self.dims;
        hidden.copy_from_slice(c);
        apply_activation_f32(self.activation, hidden);
        for (v, &o) in hidden.iter_mut().zip(output_gate.iter()) {
            *v *= o;
        }
        match ops.projection {
            Some((weights, bias)) => {
                for (h_row, hidden_row) in h
                    .chunks_exact_mut(d.n_output)
                    .zip(hidden.chunks_exact(d.n_cell))
                {
                    for (k, (out, w_row)) in h_row
                        .iter_mut()
                        .zip(weights.chunks_exact(d.n_cell))
                        .enumerate()
                    {
                        let b = bias.map_or(0.0, |b| b[k]);
                        *out = dot_f32(w_row, hidden_row) + b;
                        if self.proj_clip > 0.0 {
                            *out = clip_f32(*out, self.proj_clip);
                        }
                    }
                }
            }
            None => h.copy_from_slice(hidden),
        }
    }

    /// The rest of [`LstmF32::step`] once `W·x` and `R·h` of every gate are known (stacked,
    /// one row of `4 · n_cell` per batch row): the same operations in the same order.
    fn step_from(
        &self,
        ops: &F32Operands<'_>,
        products: (&[f32], &[f32]),
        h: &mut [f32],
        c: &mut [f32],
        gates: [&mut [f32]; 4],
    ) {
        let d = &self.dims;
        let [input_gate, forget_gate, cell_gate, output_gate] = gates;
        if ops.gates[INPUT_GATE].is_some() {
            self.gate_from(products, INPUT_GATE, ops, c, input_gate);
            sigmoid_f32(input_gate);
        }
        if ops.gates[FORGET_GATE].is_some() {
            self.gate_from(products, FORGET_GATE, ops, c, forget_gate);
            sigmoid_f32(forget_gate);
        }
        if ops.gates[CELL_GATE].is_some() {
            self.gate_from(products, CELL_GATE, ops, c, cell_gate);
            apply_activation_f32(self.activation, cell_gate);
        }
        for (k, c) in c.iter_mut().enumerate() {
            let i = if d.cifg {
                1.0 - forget_gate[k]
            } else {
                input_gate[k]
            };
            *c = forget_gate[k] * *c + cell_gate[k] * i;
            if self.cell_clip > 0.0 {
                *c = clip_f32(*c, self.cell_clip);
            }
        }
        if ops.gates[OUTPUT_GATE].is_some() {
            self.gate_from(products, OUTPUT_GATE, ops, c, output_gate);
            sigmoid_f32(output_gate);
        }
        self.output_from(ops, h, c, cell_gate, output_gate);
    }

    /// [`LstmF32::gate`] from the stacked products.
    fn gate_from(
        &self,
        (from_input, from_state): (&[f32], &[f32]),
        gate: usize,
        ops: &F32Operands<'_>,
        c: &[f32],
        out: &mut [f32],
    ) {
        let n = self.dims.n_cell;
        let (bias, peephole) = (ops.biases[gate], ops.peephole[gate]);
        for (((pi, pr), c_row), g_row) in from_input
            .chunks_exact(4 * n)
            .zip(from_state.chunks_exact(4 * n))
            .zip(c.chunks_exact(n))
            .zip(out.chunks_exact_mut(n))
        {
            let (pi, pr) = (&pi[gate * n..(gate + 1) * n], &pr[gate * n..(gate + 1) * n]);
            for (k, g) in g_row.iter_mut().enumerate() {
                let b = bias.map_or(0.0, |b| b[k]);
                let mut acc = pi[k] + b;
                acc += pr[k];
                if let Some(p) = peephole {
                    acc += p[k] * c_row[k];
                }
                *g = acc;
            }
        }
    }

    /// Pre-activation of one gate for every row: `W·x + b + R·h (+ p ⊙ c)`, in the order
    /// TFLite accumulates (the input product with the bias first, then the recurrent one).
    #[allow(clippy::too_many_arguments)]
    fn gate(
        &self,
        x: &[f32],
        h: &[f32],
        w: GateWeights<'_, f32>,
        bias: Option<&[f32]>,
        peephole: Option<&[f32]>,
        c: &[f32],
        gate: &mut [f32],
    ) {
        let d = &self.dims;
        for (((x_row, h_row), c_row), g_row) in x
            .chunks_exact(d.n_input)
            .zip(h.chunks_exact(d.n_output))
            .zip(c.chunks_exact(d.n_cell))
            .zip(gate.chunks_exact_mut(d.n_cell))
        {
            for (k, ((g, w_in), w_rec)) in g_row
                .iter_mut()
                .zip(w.input.chunks_exact(d.n_input))
                .zip(w.recurrent.chunks_exact(d.n_output))
                .enumerate()
            {
                let b = bias.map_or(0.0, |b| b[k]);
                let mut acc = dot_f32(w_in, x_row) + b;
                acc += dot_f32(w_rec, h_row);
                if let Some(p) = peephole {
                    acc += p[k] * c_row[k];
                }
                *g = acc;
            }
        }
    }
}

#[inline]
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |acc, (&x, &y)| acc + x * y)
}

/// TFLite's `CwiseClipping`: `max(min(clip, x), −clip)`.
#[inline]
fn clip_f32(x: f32, clip: f32) -> f32 {
    let upper = if x < clip { x } else { clip };
    if -clip < upper {
        upper
    } else {
        -clip
    }
}

/// `1 / (1 + e^−x)` on every value (within 4 ulp of computing it with libm's `expf`).
fn sigmoid_f32(v: &mut [f32]) {
    for x in v {
        let y = 1.0 / (1.0 + exp_f32(-*x));
        *x = if x.is_nan() { *x } else { y };
    }
}

/// `tanh` on every value, within 5 ulp of libm's `tanhf`: a rational approximation near zero,
/// `1 − 2 / (e^2|x| + 1)` further out.
fn tanh_f32(v: &mut [f32]) {
    for x in v {
        let a = *x;
        // The odd/even rational fit Eigen uses for tanhf, on |x| < 0.625 here.
        let c = a.clamp(-7.905_311, 7.905_311);
        let c2 = c * c;
        let p = -2.760_768_5e-16f32;
        let p = p * c2 + 2.000_188e-13;
        let p = p * c2 - 8.604_672e-11;
        let p = p * c2 + 5.122_297e-8;
        let p = p * c2 + 1.485_722_4e-5;
        let p = p * c2 + 6.372_619_3e-4;
        let p = (p * c2 + 4.893_524_6e-3) * c;
        let q = 1.198_258_4e-6f32;
        let q = q * c2 + 1.185_347e-4;
        let q = q * c2 + 2.268_434_6e-3;
        let q = q * c2 + 4.893_525e-3;
        let near = if a.abs() < 0.0004 { a } else { p / q };
        let far = 1.0 - 2.0 / (exp_f32(2.0 * a.abs()) + 1.0);
        let far = if a < 0.0 { -far } else { far };
        let y = if a.abs() < 0.625 { near } else { far };
        *x = if a.is_nan() { a } else { y };
    }
}

/// `e^x` within 1 ulp of libm's `expf` on its normal range, without branches or tables:
/// `x = n·ln 2 + r` (ln 2 in two parts), a degree-7 polynomial in `r`, and `2^n` built in the
/// exponent bits (above 88.7 the result is +inf; below −87.3 it stays at 2^−126).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.336_54, 88.722_83);
    // Round to nearest by the 1.5·2^23 trick (no SSE4.1 rounding needed).
    let n = (x * core::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.0e-1;
    let p = p * (r * r) + r + 1.0;
    // n is in −126..=128 after the clamp; 128 gives the exponent of +inf.
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// TFLite's `ApplyActivationToVector` for the activations the float LSTM accepts.
fn apply_activation_f32(activation: LstmActivation, v: &mut [f32]) {
    match activation {
        LstmActivation::Tanh => tanh_f32(v),
        // std::max(0.0f, x) and friends: NaN becomes the bound.
        LstmActivation::Relu => v
            .iter_mut()
            .for_each(|x| *x = if 0.0 < *x { *x } else { 0.0 }),
        LstmActivation::Relu6 => v.iter_mut().for_each(|x| {
            let upper = if *x < 6.0 { *x } else { 6.0 };
            *x = if 0.0 < upper { upper } else { 0.0 };
        }),
        LstmActivation::ReluN1To1 => v.iter_mut().for_each(|x| {
            let upper = if *x < 1.0 { *x } else { 1.0 };
            *x = if -1.0 < upper { upper } else { -1.0 };
        }),
        // Refused at prepare.
        LstmActivation::None | LstmActivation::SignBit => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Integer (8x8→16) LSTM
// ---------------------------------------------------------------------------------------------

/// Fully integer UNIDIRECTIONAL_SEQUENCE_LSTM (`lstm_eval::EvalInteger8x8_16`): int8 input,
/// weights and output state, int32 biases folded into effective biases at prepare, int16 cell
/// state and gates.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmI8 {
    dims: Dims,
    /// `input_scale · weight_scale / 2^-12` per gate (TFLite's `effective_input_to_*_scale`).
    input_scales: [QuantizedMultiplier; 4],
    /// `output_state_scale · weight_scale / 2^-12` per gate.
    recurrent_scales: [QuantizedMultiplier; 4],
    /// `bias − input_zero_point · Σ weights` per gate and cell (empty for the CIFG input gate).
    input_biases: [Vec<i32>; 4],
    /// `−output_state_zero_point · Σ recurrent weights` per gate and cell.
    recurrent_biases: [Vec<i32>; 4],
    /// `2^-30 / hidden_scale`: the product of two Q0.15 values to the output state.
    hidden_scale: QuantizedMultiplier,
    hidden_zero_point: i32,
    /// The output state's zero point: what "zero" is when the states are reset.
    output_state_zero_point: i8,
    /// log2 of the cell state's scale.
    cell_scale: i32,
    /// Quantized cell clip; 0 for none.
    cell_clip: i16,
}

/// The integer LSTM's operands for one invocation.
#[derive(Debug)]
pub struct LstmI8Io<'a> {
    /// Input 0: the input sequence.
    pub input: &'a [i8],
    /// Inputs 1–8 (the same data the operator was prepared with).
    pub weights: LstmWeights<'a, i8>,
    /// Input 18, read and updated.
    pub output_state: &'a mut [i8],
    /// Input 19, read and updated.
    pub cell_state: &'a mut [i16],
    /// The output sequence.
    pub output: &'a mut [i8],
}

/// Gates in Q3.12 (TFLite's `intermediate_scale` without layer normalization: 2^-12).
const GATE_SCALE: f32 = 1.0 / 4096.0;

fn check_scale(what: &str, q: Affine) -> Result<(), Invalid> {
    if !(q.scale.is_finite() && q.scale > 0.0) {
        return Err(format!(
            "LSTM {what} scale {} is not a positive finite number",
            q.scale
        ));
    }
    Ok(())
}

fn check_int8_zero_point(what: &str, q: Affine) -> Result<(), Invalid> {
    if !(-128..=127).contains(&q.zero_point) {
        return Err(format!(
            "LSTM {what} zero point {} is outside int8",
            q.zero_point
        ));
    }
    Ok(())
}

/// A multiplier from TFLite's `QuantizeMultiplier`, refused when its shift would overflow the
/// fixed-point multiplication (TFLite leaves that undefined).
fn effective_multiplier(what: &str, real: f32) -> Result<QuantizedMultiplier, Invalid> {
    let m = QuantizedMultiplier::new(f64::from(real));
    if !real.is_finite() || real <= 0.0 || m.shift > 31 {
        return Err(format!("LSTM {what} scale {real} is out of range"));
    }
    Ok(m)
}

impl LstmI8 {
    /// Validates shapes, quantization and options and precomputes the effective scales and
    /// biases, exactly as TFLite's `PopulateQuantizedLstmParams8x8_16` and
    /// `PopulatePrecomputedZPTimesWeightsWithBias` do.
    ///
    /// `quantization` needs the input, the weights (inputs 1–8, zero point 0), the output state
    /// and the cell state (scale a power of two between 2^-15 and 2^-9). `intermediates` are the
    /// operator's five intermediate tensors' quantizations; only the fifth (the hidden state,
    /// [`input_index::HIDDEN_INTERMEDIATE`]) is read without layer normalization, and it must
    /// be present. `weights` and `biases` are the constant data of inputs 1–8 and 12–15.
    pub fn new(
        shapes: &LstmOperands<Shape>,
        quantization: &LstmOperands<Affine>,
        intermediates: &[Option<Affine>],
        output: Shape,
        options: LstmOptions,
        weights: &LstmWeights<'_, i8>,
        biases: &LstmBiases<'_, i32>,
    ) -> Result<Self, Invalid> {
        let dims = prepare_dims(shapes, output, &options)?;
        if dims.peephole {
            return Err("an integer LSTM with peephole connections is not supported".into());
        }
        if dims.projection {
            return Err("an integer LSTM with a projection is not supported".into());
        }
        if intermediates.len() != 5 {
            return Err(format!(
                "an integer LSTM has 5 intermediate tensors, this one has {}",
                intermediates.len()
            ));
        }
        let hidden = intermediates[input_index::HIDDEN_INTERMEDIATE].ok_or_else(|| {
            Invalid::from("the integer LSTM's hidden-state intermediate tensor has no quantization")
        })?;
        check_scale("hidden state", hidden)?;
        check_int8_zero_point("hidden state", hidden)?;

        let quant = |q: Option<Affine>, what: &str| {
            q.ok_or_else(|| format!("the integer LSTM's {what} has no quantization"))
        };
        let input_q = quant(quantization.input, "input")?;
        check_scale("input", input_q)?;
        check_int8_zero_point("input", input_q)?;
        let state_q = quant(quantization.output_state, "output state")?;
        check_scale("output state", state_q)?;
        check_int8_zero_point("output state", state_q)?;
        let cell_q = quant(quantization.cell_state, "cell state")?;
        check_scale("cell state", cell_q)?;
        if cell_q.zero_point != 0 {
            return Err(format!(
                "LSTM cell state zero point must be 0, not {}",
                cell_q.zero_point
            ));
        }
        let cell_scale = checked_log2(cell_q.scale).ok_or_else(|| {
            format!(
                "LSTM cell state scale {} must be a power of two",
                cell_q.scale
            )
        })?;
        // The cell's tanh runs in Q(15 + cell_scale); TFLite implements 0 to 6 integer bits.
        if !(-15..=-9).contains(&cell_scale) {
            return Err(format!(
                "LSTM cell state scale 2^{cell_scale} is not supported (2^-15 to 2^-9)"
            ));
        }

        let weight_q = [
            (
                "input-to-input weights",
                quantization.input_to_input_weights,
            ),
            (
                "input-to-forget weights",
                quantization.input_to_forget_weights,
            ),
            ("input-to-cell weights", quantization.input_to_cell_weights),
            (
                "input-to-output weights",
                quantization.input_to_output_weights,
            ),
            (
                "recurrent-to-input weights",
                quantization.recurrent_to_input_weights,
            ),
            (
                "recurrent-to-forget weights",
                quantization.recurrent_to_forget_weights,
            ),
            (
                "recurrent-to-cell weights",
                quantization.recurrent_to_cell_weights,
            ),
            (
                "recurrent-to-output weights",
                quantization.recurrent_to_output_weights,
            ),
        ];
        let mut input_scales = [QuantizedMultiplier::default(); 4];
        let mut recurrent_scales = [QuantizedMultiplier::default(); 4];
        for gate in 0..4 {
            if gate == INPUT_GATE && dims.cifg {
                continue;
            }
            let (in_name, in_q) = weight_q[gate];
            let (rec_name, rec_q) = weight_q[gate + 4];
            let in_q = quant(in_q, in_name)?;
            let rec_q = quant(rec_q, rec_name)?;
            for (name, q) in [(in_name, in_q), (rec_name, rec_q)] {
                check_scale(name, q)?;
                // TFLite ignores weight zero points; symmetric weights are what it computes.
                if q.zero_point != 0 {
                    return Err(format!(
                        "integer LSTM {name} must have zero point 0, not {}",
                        q.zero_point
                    ));
                }
            }
            // TFLite multiplies and divides the f32 scales in f32, then widens.
            input_scales[gate] =
                effective_multiplier(in_name, in_q.scale * input_q.scale / GATE_SCALE)?;
            recurrent_scales[gate] =
                effective_multiplier(rec_name, rec_q.scale * state_q.scale / GATE_SCALE)?;
        }
        // std::pow(2, -15) is a double, so this one is computed in double, then stored as f32.
        let hidden_real =
            (libm::ldexp(1.0, -15) / f64::from(hidden.scale) * libm::ldexp(1.0, -15)) as f32;
        let hidden_scale = effective_multiplier("hidden state", hidden_real)?;

        // The clip in cell-state units, computed and truncated in f32 as TFLite does.
        let cell_clip = if options.cell_clip > 0.0 {
            (options.cell_clip / cell_q.scale).clamp(-32768.0, 32767.0) as i16
        } else {
            0
        };

        // Effective biases: the bias plus the zero-point correction of the weights' row sums
        // (TFLite's MatrixScalarMultiplyAccumulate with −zero_point), in wrapping int32.
        let d = &dims;
        let w_in = [
            weights.input_to_input,
            Some(weights.input_to_forget),
            Some(weights.input_to_cell),
            Some(weights.input_to_output),
        ];
        let w_rec = [
            weights.recurrent_to_input,
            Some(weights.recurrent_to_forget),
            Some(weights.recurrent_to_cell),
            Some(weights.recurrent_to_output),
        ];
        let gate_biases = [
            biases.input_gate,
            Some(biases.forget_gate),
            Some(biases.cell_gate),
            Some(biases.output_gate),
        ];
        let mut input_biases: [Vec<i32>; 4] = Default::default();
        let mut recurrent_biases: [Vec<i32>; 4] = Default::default();
        for gate in 0..4 {
            if gate == INPUT_GATE && dims.cifg {
                continue;
            }
            let (in_name, _) = weight_q[gate];
            let (rec_name, _) = weight_q[gate + 4];
            let w =
                w_in[gate].ok_or_else(|| format!("the integer LSTM's {in_name} are missing"))?;
            let r =
                w_rec[gate].ok_or_else(|| format!("the integer LSTM's {rec_name} are missing"))?;
            let b = gate_biases[gate]
                .ok_or_else(|| Invalid::from("an integer LSTM gate bias is missing"))?;
            if w.len() != d.n_cell * d.n_input {
                return Err(format!(
                    "LSTM {in_name} have {} values, expected {}",
                    w.len(),
                    d.n_cell * d.n_input
                ));
            }
            if r.len() != d.n_cell * d.n_output {
                return Err(format!(
                    "LSTM {rec_name} have {} values, expected {}",
                    r.len(),
                    d.n_cell * d.n_output
                ));
            }
            if b.len() != d.n_cell {
                return Err(format!(
                    "LSTM gate bias has {} values, expected {}",
                    b.len(),
                    d.n_cell
                ));
            }
            input_biases[gate] = zero_point_times_row_sums(w, d.n_input, -input_q.zero_point)
                .zip(b)
                .map(|(correction, &bias)| bias.wrapping_add(correction))
                .collect();
            recurrent_biases[gate] =
                zero_point_times_row_sums(r, d.n_output, -state_q.zero_point).collect();
        }

        Ok(Self {
            dims,
            input_scales,
            recurrent_scales,
            input_biases,
            recurrent_biases,
            hidden_scale,
            hidden_zero_point: hidden.zero_point,
            // Range-checked above.
            output_state_zero_point: state_q.zero_point as i8,
            cell_scale,
            cell_clip,
        })
    }

    /// `i16` elements of scratch memory `run` needs: four int16 gate buffers.
    pub fn scratch_len(&self) -> usize {
        4 * self.dims.gate_len()
    }

    /// Sets both states to zero, as TFLite's `ResetVariableTensor` does at load time: the
    /// int8 output state to its zero point (real 0), the int16 cell state to 0.
    pub fn reset_states(&self, output_state: &mut [i8], cell_state: &mut [i16]) {
        output_state.fill(self.output_state_zero_point);
        cell_state.fill(0);
    }

    /// Runs the whole sequence, updating the states in place. Fails only when the operands do
    /// not have the prepared sizes.
    pub fn run(&self, io: LstmI8Io<'_>, scratch: &mut [i16]) -> Result<(), LstmRunError> {
        let d = self.dims;
        check_len("input", io.input, d.n_batch * d.max_time * d.n_input)?;
        check_len("output", io.output, d.n_batch * d.max_time * d.n_output)?;
        check_len("output state", io.output_state, d.n_batch * d.n_output)?;
        check_len("cell state", io.cell_state, d.n_batch * d.n_cell)?;
        check_len("scratch", scratch, self.scratch_len())?;
        let gates = check_weights(&d, &io.weights)?;
        let LstmI8Io {
            input,
            output,
            output_state,
            cell_state,
            ..
        } = io;
        d.for_each_step(input, output, |x, y, rows| {
            let h = &mut output_state[rows.start * d.n_output..rows.end * d.n_output];
            let c = &mut cell_state[rows.start * d.n_cell..rows.end * d.n_cell];
            self.step(&gates, x, h, c, scratch);
            y.copy_from_slice(h);
        });
        Ok(())
    }

    /// One time step for `x.len() / n_input` rows (`LstmStepInteger8x8_16`).
    fn step(
        &self,
        gates: &[Option<GateWeights<'_, i8>>; 4],
        x: &[i8],
        h: &mut [i8],
        c: &mut [i16],
        scratch: &mut [i16],
    ) {
        let len = c.len();
        let (input_gate, rest) = scratch.split_at_mut(len);
        let (forget_gate, rest) = rest.split_at_mut(len);
        let (cell_gate, rest) = rest.split_at_mut(len);
        let output_gate = &mut rest[..len];

        // Every gate reads the previous output state: all four are computed before it changes.
        if let Some(w) = gates[INPUT_GATE] {
            self.gate(INPUT_GATE, w, x, h, input_gate);
            sigmoid_q3_12(input_gate);
        }
        if let Some(w) = gates[FORGET_GATE] {
            self.gate(FORGET_GATE, w, x, h, forget_gate);
            sigmoid_q3_12(forget_gate);
        }
        if let Some(w) = gates[CELL_GATE] {
            self.gate(CELL_GATE, w, x, h, cell_gate);
            tanh_q3_12(cell_gate);
        }
        if let Some(w) = gates[OUTPUT_GATE] {
            self.gate(OUTPUT_GATE, w, x, h, output_gate);
            sigmoid_q3_12(output_gate);
        }

        // UpdateLstmCellInteger: c = f·c (Q0.15 × cell) + i·g (Q0.15 × Q0.15 → cell scale),
        // each rounded to int16, summed with saturation, then clipped.
        let cifg = self.dims.cifg;
        let gate_shift = 30 + self.cell_scale;
        for (k, c) in c.iter_mut().enumerate() {
            let f = i32::from(forget_gate[k]);
            // CIFG: i = 1 − f with 1 represented as 32767 (TFLite's Sub1Vector).
            let i = if cifg {
                32767 - f
            } else {
                i32::from(input_gate[k])
            };
            let forgotten = rounding_divide_by_pot(f * i32::from(*c), 15) as i16;
            let added = rounding_divide_by_pot(i * i32::from(cell_gate[k]), gate_shift) as i16;
            let mut v = forgotten.saturating_add(added);
            if self.cell_clip > 0 {
                v = v.min(self.cell_clip).max(-self.cell_clip);
            }
            *c = v;
        }

        // CalculateLstmOutputInteger8x8_16 without projection: o · tanh(c) to the output state.
        let cell_tanh = cell_gate;
        tanh_cell(15 + self.cell_scale, c, cell_tanh);
        for ((h, &o), &t) in h.iter_mut().zip(output_gate.iter()).zip(cell_tanh.iter()) {
            let v = self
                .hidden_scale
                .apply(i32::from(o) * i32::from(t))
                .wrapping_add(self.hidden_zero_point);
            *h = v.clamp(-128, 127) as i8;
        }
    }

    /// One gate's pre-activation in Q3.12 for every row (TFLite's integer
    /// `MatrixBatchVectorMultiplyAccumulate` twice: the input product rescaled and saturated to
    /// int16, then the recurrent product rescaled, added, saturated again).
    fn gate(&self, gate: usize, w: GateWeights<'_, i8>, x: &[i8], h: &[i8], out: &mut [i16]) {
        let d = &self.dims;
        let in_scale = self.input_scales[gate];
        let rec_scale = self.recurrent_scales[gate];
        let in_bias = &self.input_biases[gate];
        let rec_bias = &self.recurrent_biases[gate];
        for ((x_row, h_row), out_row) in x
            .chunks_exact(d.n_input)
            .zip(h.chunks_exact(d.n_output))
            .zip(out.chunks_exact_mut(d.n_cell))
        {
            for ((((o, w_in), w_rec), &b_in), &b_rec) in out_row
                .iter_mut()
                .zip(w.input.chunks_exact(d.n_input))
                .zip(w.recurrent.chunks_exact(d.n_output))
                .zip(in_bias)
                .zip(rec_bias)
            {
                let from_input = in_scale.apply(b_in.wrapping_add(dot_i8(w_in, x_row)));
                let v = from_input.clamp(-32768, 32767);
                let from_state = rec_scale.apply(b_rec.wrapping_add(dot_i8(w_rec, h_row)));
                *o = from_state.wrapping_add(v).clamp(-32768, 32767) as i16;
            }
        }
    }
}

/// `Σ_j w[r][j] · zero_point` for every row `r`, in wrapping int32.
fn zero_point_times_row_sums(
    w: &[i8],
    columns: usize,
    zero_point: i32,
) -> impl Iterator<Item = i32> + '_ {
    w.chunks_exact(columns).map(move |row| {
        let sum = row
            .iter()
            .fold(0i32, |acc, &v| acc.wrapping_add(i32::from(v)));
        sum.wrapping_mul(zero_point)
    })
}

/// int8 dot product with an int32 accumulator that wraps like TFLite's.
#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
        acc.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// TFLite's `ApplySigmoid`: gemmlowp logistic from Q3.12 to Q0.15.
fn sigmoid_q3_12(v: &mut [i16]) {
    for x in v {
        *x = logistic(FixedPoint::<i16, 3>::from_raw(*x)).raw();
    }
}

/// TFLite's `ApplyTanh(3, …)`: gemmlowp tanh from Q3.12 to Q0.15.
fn tanh_q3_12(v: &mut [i16]) {
    for x in v {
        *x = tanh(FixedPoint::<i16, 3>::from_raw(*x)).raw();
    }
}

fn tanh_slice<const I: i32>(input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = tanh(FixedPoint::<i16, I>::from_raw(x)).raw();
    }
}

/// TFLite's `ApplyTanh(integer_bits, …)` on the cell state: the integer bits are a run-time
/// value (15 + log2 of the cell scale), validated to 0–6 at prepare.
fn tanh_cell(integer_bits: i32, input: &[i16], output: &mut [i16]) {
    match integer_bits {
        0 => tanh_slice::<0>(input, output),
        1 => tanh_slice::<1>(input, output),
        2 => tanh_slice::<2>(input, output),
        3 => tanh_slice::<3>(input, output),
        4 => tanh_slice::<4>(input, output),
        5 => tanh_slice::<5>(input, output),
        _ => tanh_slice::<6>(input, output),
    }
}

#[cfg(test)]
// The goldens keep TFLite's literal digits.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn shape(dims: &[usize]) -> Shape {
        Shape::new(dims).unwrap()
    }

    fn q(scale: f32, zero_point: i32) -> Affine {
        Affine { scale, zero_point }
    }

    const TANH_OPTIONS: LstmOptions = LstmOptions {
        activation: LstmActivation::Tanh,
        cell_clip: 0.0,
        proj_clip: 0.0,
        time_major: true,
    };

    /// Shapes of a plain (or CIFG) LSTM without peephole or projection.
    fn plain_shapes(
        input: &[usize],
        n_batch: usize,
        n_input: usize,
        n_cell: usize,
        cifg: bool,
    ) -> LstmOperands<Shape> {
        let w_in = Some(shape(&[n_cell, n_input]));
        let w_rec = Some(shape(&[n_cell, n_cell]));
        let bias = Some(shape(&[n_cell]));
        LstmOperands {
            input: Some(shape(input)),
            input_to_input_weights: if cifg { None } else { w_in },
            input_to_forget_weights: w_in,
            input_to_cell_weights: w_in,
            input_to_output_weights: w_in,
            recurrent_to_input_weights: if cifg { None } else { w_rec },
            recurrent_to_forget_weights: w_rec,
            recurrent_to_cell_weights: w_rec,
            recurrent_to_output_weights: w_rec,
            input_gate_bias: if cifg { None } else { bias },
            forget_gate_bias: bias,
            cell_gate_bias: bias,
            output_gate_bias: bias,
            output_state: Some(shape(&[n_batch, n_cell])),
            cell_state: Some(shape(&[n_batch, n_cell])),
            ..LstmOperands::default()
        }
    }

    // unidirectional_sequence_lstm_test.cc, NoCifgNoPeepholeNoProjectionNoClipping: 2 inputs,
    // 4 cells, 3 steps.
    const I2I: [f32; 8] = [
        -0.45018822,
        -0.02338299,
        -0.0870589,
        -0.34550029,
        0.04266912,
        -0.15680569,
        -0.34856534,
        0.43890524,
    ];
    const I2C: [f32; 8] = [
        -0.50013041,
        0.1370284,
        0.11810488,
        0.2013163,
        -0.20583314,
        0.44344562,
        0.22077113,
        -0.29909778,
    ];
    const I2F: [f32; 8] = [
        0.09701663,
        0.20334584,
        -0.50592935,
        -0.31343272,
        -0.40032279,
        0.44781327,
        0.01387155,
        -0.35593212,
    ];
    const I2O: [f32; 8] = [
        -0.25065863,
        -0.28290087,
        0.04613829,
        0.40525138,
        0.44272184,
        0.03897077,
        -0.1556896,
        0.19487578,
    ];
    const R2I: [f32; 16] = [
        -0.0063535,
        -0.2042388,
        0.31454784,
        -0.35746509,
        0.28902304,
        0.08183324,
        -0.16555229,
        0.02286911,
        -0.13566875,
        0.03034258,
        0.48091322,
        -0.12528998,
        0.24077177,
        -0.51332325,
        -0.33502164,
        0.10629296,
    ];
    const R2C: [f32; 16] = [
        -0.3407414,
        0.24443203,
        -0.2078532,
        0.26320225,
        0.05695659,
        -0.00123841,
        -0.4744786,
        -0.35869038,
        -0.06418842,
        -0.13502428,
        -0.501764,
        0.22830659,
        -0.46367589,
        0.26016325,
        -0.03894562,
        -0.16368064,
    ];
    const R2F: [f32; 16] = [
        -0.48684245,
        -0.06655136,
        0.42224967,
        0.2112639,
        0.27654213,
        0.20864892,
        -0.07646349,
        0.45877004,
        0.00141793,
        -0.14609534,
        0.36447752,
        0.09196436,
        0.28053468,
        0.01560611,
        -0.20127171,
        -0.01140004,
    ];
    const R2O: [f32; 16] = [
        0.43385774,
        -0.17194885,
        0.2718237,
        0.09215671,
        0.24107647,
        -0.39835793,
        0.18212086,
        0.01301402,
        0.48572797,
        -0.50656658,
        0.20047462,
        -0.20607421,
        -0.51818722,
        -0.15390486,
        0.0468148,
        0.39922136,
    ];
    const ZERO4: [f32; 4] = [0.0; 4];
    const ONE4: [f32; 4] = [1.0; 4];
    const SEQUENCE: [f32; 6] = [2.0, 3.0, 3.0, 4.0, 1.0, 1.0];
    const GOLDEN: [f32; 12] = [
        -0.02973187,
        0.1229473,
        0.20885126,
        -0.15358765,
        -0.03716109,
        0.12507336,
        0.41193449,
        -0.20860538,
        -0.15053082,
        0.09120187,
        0.24278517,
        -0.12222792,
    ];

    fn run_f32(
        k: &LstmF32,
        input: &[f32],
        weights: LstmWeights<'_, f32>,
        biases: LstmBiases<'_, f32>,
        peephole: [Option<&[f32]>; 3],
        state: (usize, usize),
    ) -> Vec<f32> {
        let mut h = vec![0.0; state.0];
        let mut c = vec![0.0; state.1];
        let mut out = vec![0.0; input.len() / k.dims.n_input * k.dims.n_output];
        let mut scratch = vec![0.0; k.scratch_len()];
        k.run(
            LstmF32Io {
                input,
                weights,
                biases,
                cell_to_input_weights: peephole[0],
                cell_to_forget_weights: peephole[1],
                cell_to_output_weights: peephole[2],
                projection_weights: None,
                projection_bias: None,
                output_state: &mut h,
                cell_state: &mut c,
                output: &mut out,
            },
            &mut scratch,
        )
        .unwrap();
        out
    }

    fn assert_near(got: &[f32], want: &[f32], tolerance: f32) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tolerance, "element {i}: {g} vs {w}");
        }
    }

    const PLAIN_WEIGHTS: LstmWeights<'static, f32> = LstmWeights {
        input_to_input: Some(&I2I),
        input_to_forget: &I2F,
        input_to_cell: &I2C,
        input_to_output: &I2O,
        recurrent_to_input: Some(&R2I),
        recurrent_to_forget: &R2F,
        recurrent_to_cell: &R2C,
        recurrent_to_output: &R2O,
    };
    const PLAIN_BIASES: LstmBiases<'static, f32> = LstmBiases {
        input_gate: Some(&ZERO4),
        forget_gate: &ONE4,
        cell_gate: &ZERO4,
        output_gate: &ZERO4,
    };

    #[test]
    fn float_matches_tflite_unidirectional_lstm_test() {
        // TFLite's test tolerance is 1e-5.
        let shapes = plain_shapes(&[3, 1, 2], 1, 2, 4, false);
        let k = LstmF32::new(&shapes, shape(&[3, 1, 4]), TANH_OPTIONS).unwrap();
        let out = run_f32(
            &k,
            &SEQUENCE,
            PLAIN_WEIGHTS,
            PLAIN_BIASES,
            [None; 3],
            (4, 4),
        );
        assert_near(&out, &GOLDEN, 1e-5);
    }

    #[test]
    fn float_batches_are_independent_in_both_layouts() {
        // Two batches fed the same sequence give the golden output twice.
        let time_major: Vec<f32> = SEQUENCE.chunks(2).flat_map(|x| [x, x].concat()).collect();
        let shapes = plain_shapes(&[3, 2, 2], 2, 2, 4, false);
        let k = LstmF32::new(&shapes, shape(&[3, 2, 4]), TANH_OPTIONS).unwrap();
        let out = run_f32(
            &k,
            &time_major,
            PLAIN_WEIGHTS,
            PLAIN_BIASES,
            [None; 3],
            (8, 8),
        );
        let want: Vec<f32> = GOLDEN.chunks(4).flat_map(|y| [y, y].concat()).collect();
        assert_near(&out, &want, 1e-5);

        let batch_major = [SEQUENCE, SEQUENCE].concat();
        let shapes = plain_shapes(&[2, 3, 2], 2, 2, 4, false);
        let options = LstmOptions {
            time_major: false,
            ..TANH_OPTIONS
        };
        let k = LstmF32::new(&shapes, shape(&[2, 3, 4]), options).unwrap();
        let out = run_f32(
            &k,
            &batch_major,
            PLAIN_WEIGHTS,
            PLAIN_BIASES,
            [None; 3],
            (8, 8),
        );
        assert_near(&out, &[GOLDEN, GOLDEN].concat(), 1e-5);
    }

    #[test]
    fn float_activations_stay_within_a_few_ulp_of_libm() {
        let ulps = |a: f32, b: f32| {
            let key = |x: f32| {
                let i = x.to_bits() as i32;
                i64::from(if i < 0 { i32::MIN - i } else { i })
            };
            (key(a) - key(b)).abs()
        };
        let mut rng = crate::kernels::conv::testing::XorShift(0xac71_0001);
        let mut values: Vec<f32> = (0..200_000)
            .map(|k| {
                let scale = [0.001f32, 0.1, 1.0, 4.0, 20.0, 100.0][k % 6];
                rng.f32(-scale, scale)
            })
            .collect();
        values.extend([
            0.0, -0.0, 1e-30, -1e-30, 0.625, -0.625, 88.0, -88.0, 200.0, -200.0,
        ]);
        let mut sig = values.clone();
        sigmoid_f32(&mut sig);
        let mut th = values.clone();
        tanh_f32(&mut th);
        for ((&x, &s), &t) in values.iter().zip(&sig).zip(&th) {
            let want_s = 1.0 / (1.0 + libm::expf(-x));
            assert!(
                ulps(s, want_s) <= 4 || (s - want_s).abs() < 1e-37,
                "sigmoid({x}) = {s}, libm {want_s}"
            );
            let want_t = libm::tanhf(x);
            assert!(ulps(t, want_t) <= 5, "tanh({x}) = {t}, libm {want_t}");
            if (-87.0..88.0).contains(&x) {
                assert!(ulps(exp_f32(x), libm::expf(x)) <= 1, "exp({x})");
            }
        }
        let mut special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        sigmoid_f32(&mut special);
        assert!(special[0].is_nan() && special[1] == 1.0 && special[2] == 0.0);
        let mut special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        tanh_f32(&mut special);
        assert!(special[0].is_nan() && special[1] == 1.0 && special[2] == -1.0);
    }

    #[test]
    fn float_packed_weights_give_the_same_bits() {
        // Random LSTMs (CIFG or not, peephole or not, time- or batch-major, several
        // batches) run with the weights packed at prepare and without: identical bits.
        let mut rng = crate::kernels::conv::testing::XorShift(0x157a_0001);
        for round in 0..40usize {
            let (n_batch, n_input, n_cell) = (rng.usize(1, 3), rng.usize(1, 40), rng.usize(1, 37));
            let (time, cifg, peephole) = (rng.usize(1, 6), round % 2 == 0, round % 3 == 0);
            let time_major = round % 4 < 2;
            let dims = if time_major {
                [time, n_batch, n_input]
            } else {
                [n_batch, time, n_input]
            };
            let mut shapes = plain_shapes(&dims, n_batch, n_input, n_cell, cifg);
            if peephole {
                if !cifg {
                    shapes.cell_to_input_weights = Some(shape(&[n_cell]));
                }
                shapes.cell_to_forget_weights = Some(shape(&[n_cell]));
                shapes.cell_to_output_weights = Some(shape(&[n_cell]));
            }
            let out_dims = if time_major {
                [time, n_batch, n_cell]
            } else {
                [n_batch, time, n_cell]
            };
            let options = LstmOptions {
                cell_clip: if round % 5 == 0 { 0.5 } else { 0.0 },
                time_major,
                ..TANH_OPTIONS
            };
            let mut values =
                |n: usize| -> Vec<f32> { (0..n).map(|_| rng.f32(-1.0, 1.0)).collect() };
            let w_in: Vec<Vec<f32>> = (0..4).map(|_| values(n_cell * n_input)).collect();
            let w_rec: Vec<Vec<f32>> = (0..4).map(|_| values(n_cell * n_cell)).collect();
            let biases: Vec<Vec<f32>> = (0..4).map(|_| values(n_cell)).collect();
            let cell_to: Vec<Vec<f32>> = (0..3).map(|_| values(n_cell)).collect();
            let input = values(time * n_batch * n_input);
            let weights = LstmWeights {
                input_to_input: (!cifg).then_some(&w_in[0][..]),
                input_to_forget: &w_in[1],
                input_to_cell: &w_in[2],
                input_to_output: &w_in[3],
                recurrent_to_input: (!cifg).then_some(&w_rec[0][..]),
                recurrent_to_forget: &w_rec[1],
                recurrent_to_cell: &w_rec[2],
                recurrent_to_output: &w_rec[3],
            };
            let bias = LstmBiases {
                input_gate: (!cifg).then_some(&biases[0][..]),
                forget_gate: &biases[1],
                cell_gate: &biases[2],
                output_gate: &biases[3],
            };
            let peep = if peephole {
                [
                    (!cifg).then_some(&cell_to[0][..]),
                    Some(&cell_to[1][..]),
                    Some(&cell_to[2][..]),
                ]
            } else {
                [None; 3]
            };
            let state = (n_batch * n_cell, n_batch * n_cell);
            let plain = LstmF32::new(&shapes, shape(&out_dims), options).unwrap();
            let packed =
                LstmF32::with_weights(&shapes, shape(&out_dims), options, weights).unwrap();
            let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(run_f32(&packed, &input, weights, bias, peep, state)),
                bits(run_f32(&plain, &input, weights, bias, peep, state)),
                "round {round}"
            );
        }
    }

    #[test]
    fn float_cifg_peephole_matches_tflite_unidirectional_lstm_test() {
        // unidirectional_sequence_lstm_test.cc, CifgPeepholeNoProjectionNoClipping.
        let i2c = [
            -0.49770179,
            -0.27711356,
            -0.09624726,
            0.05100781,
            0.04717243,
            0.48944736,
            -0.38535351,
            -0.17212132,
        ];
        let i2f = [
            -0.55291498,
            -0.42866567,
            0.13056988,
            -0.3633365,
            -0.22755712,
            0.28253698,
            0.24407166,
            0.33826375,
        ];
        let i2o = [
            0.10725588,
            -0.02335852,
            -0.55932593,
            -0.09426838,
            -0.44257352,
            0.54939759,
            0.01533556,
            0.42751634,
        ];
        let r2c = [
            0.54066205,
            -0.32668582,
            -0.43562764,
            -0.56094903,
            0.42957711,
            0.01841056,
            -0.32764608,
            -0.33027974,
            -0.10826075,
            0.20675004,
            0.19069612,
            -0.03026325,
            -0.54532051,
            0.33003211,
            0.44901288,
            0.21193194,
        ];
        let r2f = [
            -0.13832897,
            -0.0515101,
            -0.2359007,
            -0.16661474,
            -0.14340827,
            0.36986142,
            0.23414481,
            0.55899,
            0.10798943,
            -0.41174671,
            0.17751795,
            -0.34484994,
            -0.35874045,
            -0.11352962,
            0.27268326,
            0.54058349,
        ];
        let r2o = [
            0.41613156,
            0.42610586,
            -0.16495961,
            -0.5663873,
            0.30579174,
            -0.05115908,
            -0.33941799,
            0.23364776,
            0.11178309,
            0.09481031,
            -0.26424935,
            0.46261835,
            0.50248802,
            0.26114327,
            -0.43736315,
            0.33149987,
        ];
        let c2f = [0.47485286, -0.51955009, -0.24458408, 0.31544167];
        let c2o = [-0.17135078, 0.82760304, 0.85573703, -0.77109635];
        let golden = [
            -0.36444446,
            -0.00352185,
            0.12886585,
            -0.05163646,
            -0.42312205,
            -0.01218222,
            0.24201041,
            -0.08124574,
            -0.358325,
            -0.04621704,
            0.21641694,
            -0.06471302,
        ];
        let mut shapes = plain_shapes(&[3, 1, 2], 1, 2, 4, true);
        shapes.cell_to_forget_weights = Some(shape(&[4]));
        shapes.cell_to_output_weights = Some(shape(&[4]));
        let k = LstmF32::new(&shapes, shape(&[3, 1, 4]), TANH_OPTIONS).unwrap();
        let weights = LstmWeights {
            input_to_input: None,
            input_to_forget: &i2f,
            input_to_cell: &i2c,
            input_to_output: &i2o,
            recurrent_to_input: None,
            recurrent_to_forget: &r2f,
            recurrent_to_cell: &r2c,
            recurrent_to_output: &r2o,
        };
        let biases = LstmBiases {
            input_gate: None,
            ..PLAIN_BIASES
        };
        let out = run_f32(
            &k,
            &SEQUENCE,
            weights,
            biases,
            [None, Some(&c2f), Some(&c2o)],
            (4, 4),
        );
        assert_near(&out, &golden, 1e-5);
    }

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + libm::exp(-x))
    }

    #[test]
    fn float_projection_and_clips_are_the_analytic_values() {
        // Zero weights: every gate is its activated bias, so the cell follows
        // c ← clip(f·c + i·g) and the output is clip(P·(o·tanh c) + b).
        let (bi, bf, bg, bo) = (0.3f32, 3.0f32, 2.0f32, 0.5f32);
        let zeros2 = [0.0f32; 2];
        let projection = [0.7f32, -1.3];
        let projection_bias = [0.05f32];
        let mut shapes = plain_shapes(&[4, 1, 1], 1, 1, 2, false);
        for s in [
            &mut shapes.recurrent_to_input_weights,
            &mut shapes.recurrent_to_forget_weights,
            &mut shapes.recurrent_to_cell_weights,
            &mut shapes.recurrent_to_output_weights,
        ] {
            *s = Some(shape(&[2, 1]));
        }
        shapes.projection_weights = Some(shape(&[1, 2]));
        shapes.projection_bias = Some(shape(&[1]));
        shapes.output_state = Some(shape(&[1, 1]));
        let options = LstmOptions {
            cell_clip: 1.5,
            proj_clip: 0.4,
            ..TANH_OPTIONS
        };
        let k = LstmF32::new(&shapes, shape(&[4, 1, 1]), options).unwrap();
        let weights = LstmWeights {
            input_to_input: Some(&zeros2),
            input_to_forget: &zeros2,
            input_to_cell: &zeros2,
            input_to_output: &zeros2,
            recurrent_to_input: Some(&zeros2),
            recurrent_to_forget: &zeros2,
            recurrent_to_cell: &zeros2,
            recurrent_to_output: &zeros2,
        };
        let (b_i, b_f, b_g, b_o) = ([bi; 2], [bf; 2], [bg; 2], [bo; 2]);
        let biases = LstmBiases {
            input_gate: Some(&b_i),
            forget_gate: &b_f,
            cell_gate: &b_g,
            output_gate: &b_o,
        };
        let input = [1.0f32, -2.0, 0.5, 3.0];
        let mut h = [0.0f32];
        let mut c = [0.0f32; 2];
        let mut out = [0.0f32; 4];
        let mut scratch = vec![0.0; k.scratch_len()];
        k.run(
            LstmF32Io {
                input: &input,
                weights,
                biases,
                cell_to_input_weights: None,
                cell_to_forget_weights: None,
                cell_to_output_weights: None,
                projection_weights: Some(&projection),
                projection_bias: Some(&projection_bias),
                output_state: &mut h,
                cell_state: &mut c,
                output: &mut out,
            },
            &mut scratch,
        )
        .unwrap();
        let (i, f, g, o) = (
            sigmoid(f64::from(bi)),
            sigmoid(f64::from(bf)),
            libm::tanh(f64::from(bg)),
            sigmoid(f64::from(bo)),
        );
        let mut cell = 0.0f64;
        for &got in &out {
            cell = (f * cell + i * g).clamp(-1.5, 1.5);
            let hidden = o * libm::tanh(cell);
            let want = (0.7 * hidden - 1.3 * hidden + 0.05).clamp(-0.4, 0.4);
            assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        // f ≈ 0.95 and i·g ≈ 0.55 push the cell past the 1.5 clip from the third step on.
        assert!((f64::from(c[0]) - 1.5).abs() < 1e-6 && c[0] == c[1]);
    }

    /// The quantization of a plain LSTM's operands: `weight_scales` per input 1–8.
    fn quantization(
        input: Affine,
        weight_scales: [f32; 8],
        state: Affine,
        cell_scale: f32,
        cifg: bool,
    ) -> LstmOperands<Affine> {
        let w = |i: usize| Some(q(weight_scales[i], 0));
        LstmOperands {
            input: Some(input),
            input_to_input_weights: if cifg { None } else { w(0) },
            input_to_forget_weights: w(1),
            input_to_cell_weights: w(2),
            input_to_output_weights: w(3),
            recurrent_to_input_weights: if cifg { None } else { w(4) },
            recurrent_to_forget_weights: w(5),
            recurrent_to_cell_weights: w(6),
            recurrent_to_output_weights: w(7),
            output_state: Some(state),
            cell_state: Some(q(cell_scale, 0)),
            ..LstmOperands::default()
        }
    }

    fn intermediates(hidden: Affine) -> [Option<Affine>; 5] {
        [None, None, None, None, Some(hidden)]
    }

    /// Runs from reset states and returns the output sequence.
    fn run_i8(k: &LstmI8, input: &[i8], weights: LstmWeights<'_, i8>) -> Vec<i8> {
        let d = k.dims;
        let mut h = vec![0; d.n_batch * d.n_output];
        let mut c = vec![0; d.n_batch * d.n_cell];
        k.reset_states(&mut h, &mut c);
        let mut out = vec![0; d.n_batch * d.max_time * d.n_output];
        let mut scratch = vec![0; k.scratch_len()];
        k.run(
            LstmI8Io {
                input,
                weights,
                output_state: &mut h,
                cell_state: &mut c,
                output: &mut out,
            },
            &mut scratch,
        )
        .unwrap();
        out
    }

    #[test]
    fn int8_is_bit_exact_with_tflite_time_major_clipped() {
        // A single-op model run by ai-edge-litert with OpResolverType.BUILTIN_REF (states
        // reset before each sequence): time-major, 2 batches, 3 steps, 3 inputs, 2 cells,
        // input zp 10, output state zp −5, hidden zp 3, cell scale 2^-11, cell clip 1.5.
        let w: [[i8; 6]; 4] = [
            [-104, -73, -46, -49, 104, 76],
            [-60, -84, -11, 23, 77, 30],
            [36, 76, 4, 25, -39, -45],
            [-34, -58, 76, 78, -15, -59],
        ];
        let r: [[i8; 4]; 4] = [
            [-107, -91, 94, -107],
            [-3, 17, 48, -126],
            [68, -15, 83, -57],
            [-89, -109, 72, -8],
        ];
        let b: [[i32; 2]; 4] = [[-2004, -1915], [-1785, -209], [1326, 2250], [2818, -1415]];
        let weights = LstmWeights {
            input_to_input: Some(&w[0]),
            input_to_forget: &w[1],
            input_to_cell: &w[2],
            input_to_output: &w[3],
            recurrent_to_input: Some(&r[0]),
            recurrent_to_forget: &r[1],
            recurrent_to_cell: &r[2],
            recurrent_to_output: &r[3],
        };
        let biases = LstmBiases {
            input_gate: Some(&b[0]),
            forget_gate: &b[1],
            cell_gate: &b[2],
            output_gate: &b[3],
        };
        let shapes = plain_shapes(&[3, 2, 3], 2, 3, 2, false);
        let quant = quantization(
            q(0.05, 10),
            [
                0.045_412_41,
                0.031_184_11,
                0.058_902_998,
                0.024_592_081,
                0.059_811_093,
                0.019_742_355,
                0.024_285_477,
                0.027_062_83,
            ],
            q(0.015, -5),
            1.0 / 2048.0,
            false,
        );
        let options = LstmOptions {
            cell_clip: 1.5,
            ..TANH_OPTIONS
        };
        let k = LstmI8::new(
            &shapes,
            &quant,
            &intermediates(q(0.012, 3)),
            shape(&[3, 2, 2]),
            options,
            &weights,
            &biases,
        )
        .unwrap();
        let cases: [([i8; 18], [i8; 12]); 2] = [
            (
                [
                    -30, 99, 29, -55, -33, 70, -35, -4, -3, -9, -4, 119, -67, 101, -78, -108, -47,
                    -66,
                ],
                [3, 3, -60, 3, -60, 3, -22, 3, 3, 3, -69, 3],
            ),
            (
                [
                    35, -81, -76, 103, 80, 13, 106, -33, -110, 85, -106, -39, -11, 46, -97, -70,
                    -107, -122,
                ],
                [-42, 3, 3, 63, 3, 3, 2, 3, 3, 3, -55, 3],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(run_i8(&k, &input, weights), want);
        }
    }

    #[test]
    fn int8_is_bit_exact_with_tflite_batch_major_cifg() {
        // A single-op model run by ai-edge-litert with OpResolverType.BUILTIN_REF: batch-major,
        // CIFG, 2 batches, 4 steps, 2 inputs, 3 cells, input zp −7, state and hidden zp 4,
        // cell scale 2^-12.
        let w: [[i8; 6]; 3] = [
            [11, -42, 48, -40, 125, -57],
            [13, -25, 126, 113, 12, -115],
            [-86, -24, -114, 92, -12, -124],
        ];
        let r: [[i8; 9]; 3] = [
            [18, 18, 106, -42, -100, -19, 27, -76, 127],
            [42, 5, -95, 25, -124, -117, -124, -66, 111],
            [-35, -11, 45, 23, 46, -90, 68, 77, 14],
        ];
        let b: [[i32; 3]; 3] = [[21, -21, 342], [-1783, 406, -1970], [-483, -832, -361]];
        let weights = LstmWeights {
            input_to_input: None,
            input_to_forget: &w[0],
            input_to_cell: &w[1],
            input_to_output: &w[2],
            recurrent_to_input: None,
            recurrent_to_forget: &r[0],
            recurrent_to_cell: &r[1],
            recurrent_to_output: &r[2],
        };
        let biases = LstmBiases {
            input_gate: None,
            forget_gate: &b[0],
            cell_gate: &b[1],
            output_gate: &b[2],
        };
        let shapes = plain_shapes(&[2, 4, 2], 2, 2, 3, true);
        let quant = quantization(
            q(0.04, -7),
            [
                1.0,
                0.061_767_14,
                0.045_218_01,
                0.039_325_867,
                1.0,
                0.035_080_623,
                0.039_564_427,
                0.062_974_13,
            ],
            q(0.02, 4),
            1.0 / 4096.0,
            true,
        );
        let options = LstmOptions {
            time_major: false,
            ..TANH_OPTIONS
        };
        let k = LstmI8::new(
            &shapes,
            &quant,
            &intermediates(q(0.02, 4)),
            shape(&[2, 4, 3]),
            options,
            &weights,
            &biases,
        )
        .unwrap();
        let input = [
            71, 16, -80, -62, -80, -17, -54, -94, 37, 51, -42, -103, -25, -57, -31, -73,
        ];
        let want = [
            4, 4, 4, -21, -32, 42, -25, -23, 8, -25, 4, 40, 4, 13, 4, -34, 4, 6, -34, 4, 13, -34,
            4, 15,
        ];
        assert_eq!(run_i8(&k, &input, weights), want);
    }

    #[test]
    fn int8_zero_weights_give_the_analytic_cell() {
        // With zero weights and biases every gate's pre-activation is 0: i = f = o = 1/2
        // exactly (16384 in Q0.15) and g = tanh(0) = 0. A cell of 1.0 (4096 at 2^-12) halves
        // each step, and the output is round(o · tanh(c) / hidden_scale) + zp.
        let zeros_w = [0i8; 4];
        let zeros_b = [0i32; 2];
        let weights = LstmWeights {
            input_to_input: Some(&zeros_w),
            input_to_forget: &zeros_w,
            input_to_cell: &zeros_w,
            input_to_output: &zeros_w,
            recurrent_to_input: Some(&zeros_w),
            recurrent_to_forget: &zeros_w,
            recurrent_to_cell: &zeros_w,
            recurrent_to_output: &zeros_w,
        };
        let biases = LstmBiases {
            input_gate: Some(&zeros_b),
            forget_gate: &zeros_b,
            cell_gate: &zeros_b,
            output_gate: &zeros_b,
        };
        let shapes = plain_shapes(&[2, 1, 2], 1, 2, 2, false);
        let quant = quantization(
            q(0.1, 0),
            [0.01; 8],
            q(1.0 / 128.0, -3),
            1.0 / 4096.0,
            false,
        );
        let k = LstmI8::new(
            &shapes,
            &quant,
            &intermediates(q(1.0 / 128.0, -3)),
            shape(&[2, 1, 2]),
            TANH_OPTIONS,
            &weights,
            &biases,
        )
        .unwrap();
        let mut h = [0i8; 2];
        let mut c = [4096i16, -4096];
        let mut out = [0i8; 4];
        let mut scratch = vec![0; k.scratch_len()];
        k.run(
            LstmI8Io {
                input: &[5, -7, 100, 1],
                weights,
                output_state: &mut h,
                cell_state: &mut c,
                output: &mut out,
            },
            &mut scratch,
        )
        .unwrap();
        assert_eq!(c, [1024, -1024]);
        // 0.5 · tanh(0.5) · 128 = 29.58 → 30; 0.5 · tanh(0.25) · 128 = 15.67 → 16.
        assert_eq!(out, [30 - 3, -30 - 3, 16 - 3, -16 - 3]);
        assert_eq!(h, [13, -19]);
    }

    fn plain_i8_setup() -> (
        LstmOperands<Shape>,
        LstmOperands<Affine>,
        [Option<Affine>; 5],
    ) {
        (
            plain_shapes(&[2, 1, 2], 1, 2, 2, false),
            quantization(q(0.1, 0), [0.01; 8], q(1.0 / 128.0, 0), 1.0 / 4096.0, false),
            intermediates(q(1.0 / 128.0, 0)),
        )
    }

    const W4: [i8; 4] = [1, 2, 3, 4];
    const B2: [i32; 2] = [0, 0];
    const WEIGHTS4: LstmWeights<'static, i8> = LstmWeights {
        input_to_input: Some(&W4),
        input_to_forget: &W4,
        input_to_cell: &W4,
        input_to_output: &W4,
        recurrent_to_input: Some(&W4),
        recurrent_to_forget: &W4,
        recurrent_to_cell: &W4,
        recurrent_to_output: &W4,
    };
    const BIASES2: LstmBiases<'static, i32> = LstmBiases {
        input_gate: Some(&B2),
        forget_gate: &B2,
        cell_gate: &B2,
        output_gate: &B2,
    };

    fn new_i8(
        shapes: &LstmOperands<Shape>,
        quant: &LstmOperands<Affine>,
        inter: &[Option<Affine>],
    ) -> Result<LstmI8, Invalid> {
        LstmI8::new(
            shapes,
            quant,
            inter,
            shape(&[2, 1, 2]),
            TANH_OPTIONS,
            &WEIGHTS4,
            &BIASES2,
        )
    }

    #[test]
    fn int8_prepare_refuses_what_it_cannot_compute() {
        let (shapes, quant, inter) = plain_i8_setup();
        assert!(new_i8(&shapes, &quant, &inter).is_ok());

        let mut s = shapes;
        s.cell_to_forget_weights = Some(shape(&[2]));
        s.cell_to_output_weights = Some(shape(&[2]));
        s.cell_to_input_weights = Some(shape(&[2]));
        assert!(new_i8(&s, &quant, &inter).unwrap_err().contains("peephole"));
        let mut s = shapes;
        s.forget_layer_norm_coefficients = Some(shape(&[2]));
        assert!(new_i8(&s, &quant, &inter).unwrap_err().contains("layer"));

        let mut qq = quant;
        qq.cell_state = Some(q(0.0003, 0));
        assert!(new_i8(&shapes, &qq, &inter)
            .unwrap_err()
            .contains("power of two"));
        qq.cell_state = Some(q(1.0 / 256.0, 0));
        assert!(new_i8(&shapes, &qq, &inter)
            .unwrap_err()
            .contains("not supported"));
        let mut qq = quant;
        qq.input_to_cell_weights = Some(q(0.01, 3));
        assert!(new_i8(&shapes, &qq, &inter)
            .unwrap_err()
            .contains("zero point"));
        let mut qq = quant;
        qq.recurrent_to_output_weights = None;
        assert!(new_i8(&shapes, &qq, &inter).is_err());
        let mut qq = quant;
        qq.input_to_forget_weights = Some(q(1e30, 0));
        assert!(new_i8(&shapes, &qq, &inter)
            .unwrap_err()
            .contains("out of range"));

        assert!(new_i8(&shapes, &quant, &inter[..4]).is_err());
        assert!(new_i8(&shapes, &quant, &[None; 5]).is_err());
    }

    #[test]
    fn prepare_checks_shapes() {
        let (shapes, quant, inter) = plain_i8_setup();
        let mut s = shapes;
        s.input = Some(shape(&[2, 2]));
        assert!(new_i8(&s, &quant, &inter)
            .unwrap_err()
            .contains("3 dimensions"));
        let mut s = shapes;
        s.input_to_cell_weights = Some(shape(&[2, 3]));
        assert!(new_i8(&s, &quant, &inter)
            .unwrap_err()
            .contains("input-to-cell"));
        let mut s = shapes;
        s.recurrent_to_input_weights = None;
        assert!(new_i8(&s, &quant, &inter).unwrap_err().contains("both"));
        let mut s = shapes;
        s.recurrent_to_forget_weights = Some(shape(&[2]));
        assert!(new_i8(&s, &quant, &inter).unwrap_err().contains("diagonal"));
        let mut s = shapes;
        s.cell_state = Some(shape(&[1, 3]));
        assert!(new_i8(&s, &quant, &inter)
            .unwrap_err()
            .contains("cell state"));
        let mut s = shapes;
        s.forget_gate_bias = None;
        assert!(new_i8(&s, &quant, &inter)
            .unwrap_err()
            .contains("forget gate bias"));
        let k = LstmI8::new(
            &shapes,
            &quant,
            &inter,
            shape(&[2, 1, 3]),
            TANH_OPTIONS,
            &WEIGHTS4,
            &BIASES2,
        );
        assert!(k.unwrap_err().contains("output"));
        let options = LstmOptions {
            cell_clip: -1.0,
            ..TANH_OPTIONS
        };
        let k = LstmI8::new(
            &shapes,
            &quant,
            &inter,
            shape(&[2, 1, 2]),
            options,
            &WEIGHTS4,
            &BIASES2,
        );
        assert!(k.unwrap_err().contains("clip"));

        // Float: no projection means as many outputs as cells; NONE is refused.
        let mut s = shapes;
        s.recurrent_to_output_weights = Some(shape(&[2, 3]));
        assert!(LstmF32::new(&s, shape(&[2, 1, 3]), TANH_OPTIONS).is_err());
        let none = LstmOptions {
            activation: LstmActivation::None,
            ..TANH_OPTIONS
        };
        assert!(LstmF32::new(&shapes, shape(&[2, 1, 2]), none).is_err());
        assert!(LstmF32::new(&shapes, shape(&[2, 1, 2]), TANH_OPTIONS).is_ok());
    }

    #[test]
    fn run_refuses_operands_of_the_wrong_size() {
        let (shapes, quant, inter) = plain_i8_setup();
        let k = new_i8(&shapes, &quant, &inter).unwrap();
        let mut h = [0i8; 2];
        let mut c = [0i16; 2];
        let mut out = [0i8; 4];
        let mut scratch = vec![0; k.scratch_len()];
        let short = [0i8; 3];
        let err = k
            .run(
                LstmI8Io {
                    input: &[0; 4],
                    weights: LstmWeights {
                        input_to_cell: &short,
                        ..WEIGHTS4
                    },
                    output_state: &mut h,
                    cell_state: &mut c,
                    output: &mut out,
                },
                &mut scratch,
            )
            .unwrap_err();
        assert_eq!(
            err,
            LstmRunError::Length {
                operand: "input-to-cell weights",
                expected: 4,
                actual: 3
            }
        );
        let err = k
            .run(
                LstmI8Io {
                    input: &[0; 4],
                    weights: LstmWeights {
                        input_to_input: None,
                        ..WEIGHTS4
                    },
                    output_state: &mut h,
                    cell_state: &mut c,
                    output: &mut out,
                },
                &mut scratch,
            )
            .unwrap_err();
        assert_eq!(err, LstmRunError::Missing("input-to-input weights"));
        let err = k.run(
            LstmI8Io {
                input: &[0; 4],
                weights: WEIGHTS4,
                output_state: &mut h,
                cell_state: &mut c,
                output: &mut out,
            },
            &mut scratch[1..],
        );
        assert!(matches!(
            err,
            Err(LstmRunError::Length {
                operand: "scratch",
                ..
            })
        ));
    }

    #[test]
    fn operands_follow_tflite_input_order() {
        let mut inputs = [None; NUM_INPUTS];
        inputs[input_index::INPUT] = Some(0usize);
        inputs[input_index::RECURRENT_TO_CELL_WEIGHTS] = Some(7);
        inputs[input_index::CELL_STATE] = Some(19);
        let ops = LstmOperands::from_inputs(&inputs).unwrap();
        assert_eq!(ops.recurrent_to_cell_weights, Some(7));
        assert_eq!(ops.get(input_index::CELL_STATE), Some(19));
        assert_eq!(ops.get(input_index::OUTPUT_STATE), None);
        assert_eq!(ops.get(99), None);
        assert!(LstmOperands::from_inputs(&inputs[..20]).is_ok());
        assert!(LstmOperands::from_inputs(&inputs[..21]).is_err());
        assert_eq!(LstmActivation::from_tflite(4), Some(LstmActivation::Tanh));
        assert_eq!(LstmActivation::from_tflite(6), None);
    }
}
