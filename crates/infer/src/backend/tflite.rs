//! The official TensorFlow Lite runtime through its C API (crate `tflitec`): every `.tflite`
//! model, float and int8/uint8-quantized, computed by TensorFlow's own kernels.
//!
//! tflitec's model borrows the flatbuffer bytes and its interpreter borrows the model; both
//! live here in one self-referential value (`self_cell`), built once at load. Tensors are
//! allocated once at load too; a run copies the inputs into the interpreter's buffers,
//! invokes it and copies the outputs out. The runtime writes its own error messages (an
//! unknown operator, a failed kernel) to stderr; tflitec does not pass them on, so the errors
//! here say what failed and point there.

use self_cell::self_cell;
use tflitec::interpreter::Interpreter;
use tflitec::model::Model as FlatBufferModel;
use tflitec::tensor::{DataType, Tensor};

use crate::model::{DType, Engine, Quantization, TensorData, TensorDataMut, TensorInfo};
use crate::Error;

const BACKEND: &str = "tflite";

type Flatbuffer<'a> = FlatBufferModel<'a>;
type Runtime<'a> = Interpreter<'a>;

self_cell!(
    /// The model bytes and tflitec's model over them.
    struct LoadedModel {
        owner: Vec<u8>,
        #[covariant]
        dependent: Flatbuffer,
    }
);

self_cell!(
    /// A loaded model and its interpreter.
    struct LoadedInterpreter {
        owner: LoadedModel,
        #[covariant]
        dependent: Runtime,
    }
);

pub(crate) struct TfLiteEngine {
    interpreter: LoadedInterpreter,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

impl TfLiteEngine {
    pub(crate) fn load(name: &str, bytes: &[u8]) -> Result<Self, Error> {
        let model =
            LoadedModel::try_new(bytes.to_vec(), |bytes| FlatBufferModel::from_bytes(bytes))
                .map_err(|e| Error::Corrupt {
                    model: name.to_string(),
                    detail: format!("TensorFlow Lite cannot read the flatbuffer ({e})"),
                })?;
        let interpreter = LoadedInterpreter::try_new(model, |model| {
            Interpreter::new(model.borrow_dependent(), None)
        })
        .map_err(|e| unsupported(name, "cannot build an interpreter", e))?;
        let runtime = interpreter.borrow_dependent();
        runtime
            .allocate_tensors()
            .map_err(|e| unsupported(name, "cannot allocate the tensors", e))?;
        let inputs = (0..runtime.input_tensor_count())
            .map(|i| runtime.input(i).map(|t| describe(&t)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unsupported(name, "cannot describe the inputs", e))?;
        let outputs = (0..runtime.output_tensor_count())
            .map(|i| runtime.output(i).map(|t| describe(&t)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                unsupported(
                    name,
                    "cannot describe the outputs (an output whose shape is known only after a \
                     run is not supported)",
                    e,
                )
            })?;
        Ok(Self {
            interpreter,
            inputs,
            outputs,
        })
    }
}

impl Engine for TfLiteEngine {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn set_input(&mut self, index: usize, data: TensorData<'_>) -> Result<(), String> {
        let tensor = self
            .interpreter
            .borrow_dependent()
            .input(index)
            .map_err(|e| format!("input {index}: {e}"))?;
        match data {
            TensorData::F32(values) => tensor.set_data(values),
            TensorData::I8(values) => tensor.set_data(values),
            TensorData::U8(values) => tensor.set_data(values),
            TensorData::I32(values) => tensor.set_data(values),
            TensorData::I64(values) => tensor.set_data(values),
        }
        .map_err(|e| format!("input `{}`: {e}", tensor.name()))
    }

    fn invoke(&mut self) -> Result<(), String> {
        self.interpreter.borrow_dependent().invoke().map_err(|_| {
            "the TensorFlow Lite runtime failed to run the model (its message is on stderr)"
                .to_string()
        })
    }

    fn output(&mut self, index: usize, out: TensorDataMut<'_>) -> Result<(), String> {
        let tensor = self
            .interpreter
            .borrow_dependent()
            .output(index)
            .map_err(|e| format!("output {index}: {e}"))?;
        let stored = dtype(tensor.data_type());
        if stored != out.dtype() {
            return Err(format!(
                "output `{}` holds {stored} values, {} asked for",
                tensor.name(),
                out.dtype()
            ));
        }
        match out {
            TensorDataMut::F32(out) => copy_out(&tensor, out),
            TensorDataMut::I8(out) => copy_out(&tensor, out),
            TensorDataMut::U8(out) => copy_out(&tensor, out),
            TensorDataMut::I32(out) => copy_out(&tensor, out),
            TensorDataMut::I64(out) => copy_out(&tensor, out),
        }
    }
}

/// Copies an output tensor whose element type is `T` (checked by the caller) into `out`.
fn copy_out<T: Copy>(tensor: &Tensor<'_>, out: &mut [T]) -> Result<(), String> {
    let values = tensor.data::<T>();
    if values.len() != out.len() {
        return Err(format!(
            "output `{}` has {} values after the run, {} by its declared shape",
            tensor.name(),
            values.len(),
            out.len()
        ));
    }
    out.copy_from_slice(values);
    Ok(())
}

fn describe(tensor: &Tensor<'_>) -> TensorInfo {
    TensorInfo {
        name: tensor.name().to_string(),
        dtype: dtype(tensor.data_type()),
        shape: tensor.shape().dimensions().clone(),
        // tflitec reports per-tensor parameters of int8/uint8 tensors with a non-zero scale.
        quantization: tensor.quantization_parameters().map(|q| Quantization {
            scale: q.scale,
            zero_point: q.zero_point,
        }),
    }
}

fn dtype(data_type: DataType) -> DType {
    match data_type {
        DataType::Float32 => DType::F32,
        DataType::Int8 => DType::I8,
        DataType::UInt8 => DType::U8,
        DataType::Int32 => DType::I32,
        DataType::Int64 => DType::I64,
        DataType::Bool => DType::Other("bool"),
        DataType::Int4 => DType::Other("int4"),
        DataType::Int16 => DType::Other("int16"),
        DataType::UInt16 => DType::Other("uint16"),
        DataType::UInt32 => DType::Other("uint32"),
        DataType::UInt64 => DType::Other("uint64"),
        DataType::Float16 => DType::Other("f16"),
        DataType::BFloat16 => DType::Other("bf16"),
        DataType::Float64 => DType::Other("f64"),
        DataType::String => DType::Other("string"),
        DataType::Complex64 => DType::Other("complex64"),
        DataType::Complex128 => DType::Other("complex128"),
    }
}

fn unsupported(name: &str, what: &str, error: tflitec::Error) -> Error {
    Error::Unsupported {
        model: name.to_string(),
        backend: BACKEND,
        detail: format!(
            "TensorFlow Lite {what}: {error} (the runtime's own message, naming the operator, \
             is on stderr)"
        ),
    }
}
