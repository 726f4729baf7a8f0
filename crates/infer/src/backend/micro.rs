//! The edgewise-micro backend: our own pure-Rust TFLite interpreter. It runs int8 models bit
//! for bit like TFLite's reference kernels and float models within 1e-4, with every tensor
//! planned into one arena at load, so a run allocates nothing.

use edgewise_micro::{DType as MicroType, Interpreter};

use crate::model::{Engine, TensorData, TensorDataMut};
use crate::{DType, Error, Quantization, TensorInfo};

pub(crate) struct MicroEngine {
    interpreter: Interpreter<Vec<u8>>,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    /// The TFLite builtin name of each operator, in execution order.
    operators: Vec<String>,
}

/// Loads a `.tflite` model.
pub(crate) fn load(name: &str, bytes: &[u8]) -> Result<MicroEngine, Error> {
    let interpreter = Interpreter::new(bytes.to_vec()).map_err(|e| classify(name, e))?;
    let inputs = interpreter.inputs().iter().map(info).collect();
    let outputs = interpreter.outputs().iter().map(info).collect();
    let operators = interpreter
        .operators()
        .map(|op| op.name.to_string())
        .collect();
    Ok(MicroEngine {
        interpreter,
        inputs,
        outputs,
        operators,
    })
}

/// Sorts the engine's load errors into the crate's error kinds, keeping its message (which
/// names the operator, node and reason).
fn classify(name: &str, error: edgewise_micro::Error) -> Error {
    use edgewise_micro::Error as E;
    match error {
        E::Malformed { .. } => Error::Corrupt {
            model: name.to_string(),
            detail: error.to_string(),
        },
        E::UnsupportedOperator { .. } | E::Unsupported { .. } | E::UnsupportedModel(_) => {
            Error::Unsupported {
                model: name.to_string(),
                backend: "micro",
                detail: error.to_string(),
            }
        }
        E::InvalidOperator { .. } | E::Io(_) | E::ArenaTooSmall { .. } => Error::Corrupt {
            model: name.to_string(),
            detail: error.to_string(),
        },
    }
}

fn info(t: &edgewise_micro::TensorInfo) -> TensorInfo {
    TensorInfo {
        name: t.name.clone(),
        dtype: match t.dtype {
            MicroType::F32 => DType::F32,
            MicroType::I8 => DType::I8,
            MicroType::U8 => DType::U8,
            MicroType::I32 => DType::I32,
            MicroType::I64 => DType::I64,
            MicroType::I16 => DType::Other("int16"),
            MicroType::Bool => DType::Other("bool"),
        },
        shape: t.shape.dims().to_vec(),
        quantization: t
            .quantization
            .as_ref()
            .and_then(|q| q.per_tensor())
            .map(|a| Quantization {
                scale: a.scale,
                zero_point: a.zero_point,
            }),
    }
}

impl Engine for MicroEngine {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn set_input(&mut self, index: usize, data: TensorData<'_>) -> Result<(), String> {
        let i = &mut self.interpreter;
        let copied = match data {
            TensorData::F32(v) => i.input_mut::<f32>(index).map(|s| s.copy_from_slice(v)),
            TensorData::I8(v) => i.input_mut::<i8>(index).map(|s| s.copy_from_slice(v)),
            TensorData::U8(v) => i.input_mut::<u8>(index).map(|s| s.copy_from_slice(v)),
            TensorData::I32(v) => i.input_mut::<i32>(index).map(|s| s.copy_from_slice(v)),
            TensorData::I64(v) => i.input_mut::<i64>(index).map(|s| s.copy_from_slice(v)),
        };
        copied.map_err(|e| e.to_string())
    }

    fn invoke(&mut self) -> Result<(), String> {
        self.interpreter.invoke().map_err(|e| e.to_string())
    }

    fn output(&mut self, index: usize, out: TensorDataMut<'_>) -> Result<(), String> {
        let i = &self.interpreter;
        let copied = match out {
            TensorDataMut::F32(o) => i.output::<f32>(index).map(|s| o.copy_from_slice(s)),
            TensorDataMut::I8(o) => i.output::<i8>(index).map(|s| o.copy_from_slice(s)),
            TensorDataMut::U8(o) => i.output::<u8>(index).map(|s| o.copy_from_slice(s)),
            TensorDataMut::I32(o) => i.output::<i32>(index).map(|s| o.copy_from_slice(s)),
            TensorDataMut::I64(o) => i.output::<i64>(index).map(|s| o.copy_from_slice(s)),
        };
        copied.map_err(|e| e.to_string())
    }

    fn operators(&self) -> Option<&[String]> {
        Some(&self.operators)
    }

    fn arena_size(&self) -> Option<usize> {
        Some(self.interpreter.arena_size())
    }
}
