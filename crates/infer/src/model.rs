//! One model API over the backends: load, inspect, run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::Error;

/// A model file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ONNX (`.onnx`).
    Onnx,
    /// TensorFlow Lite flatbuffer (`.tflite`).
    Tflite,
}

impl Format {
    /// The format from a file name's extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "onnx" => Some(Self::Onnx),
            "tflite" => Some(Self::Tflite),
            _ => None,
        }
    }

    /// The format from the first bytes: a TFLite flatbuffer carries the identifier "TFL3" at
    /// offset 4; an ONNX file is a protobuf whose first field is usually `ir_version` (tag
    /// 0x08).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.get(4..8) == Some(b"TFL3") {
            Some(Self::Tflite)
        } else if bytes.first() == Some(&0x08) {
            Some(Self::Onnx)
        } else {
            None
        }
    }
}

/// Which engine runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// tract: pure Rust, ONNX and float TFLite (cargo feature `tract`, on by default).
    Tract,
}

impl Backend {
    /// The backend's name, as in its cargo feature.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Tract => "tract",
        }
    }
}

/// An element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// Signed 8-bit integer (quantized when [`TensorInfo::quantization`] is set).
    I8,
    /// Unsigned 8-bit integer (quantized when [`TensorInfo::quantization`] is set).
    U8,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
    /// Anything else, by the backend's name for it.
    Other(&'static str),
}

/// Affine quantization: real = scale × (q − zero_point).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantization {
    /// The real value of one step.
    pub scale: f32,
    /// The integer that represents 0.0.
    pub zero_point: i32,
}

impl Quantization {
    /// `real` as the nearest int8, saturating.
    pub fn quantize_i8(&self, real: f32) -> i8 {
        let q = (real / self.scale).round() + self.zero_point as f32;
        q.clamp(f32::from(i8::MIN), f32::from(i8::MAX)) as i8
    }

    /// `real` as the nearest uint8, saturating.
    pub fn quantize_u8(&self, real: f32) -> u8 {
        let q = (real / self.scale).round() + self.zero_point as f32;
        q.clamp(0.0, f32::from(u8::MAX)) as u8
    }

    /// The real value of `q`.
    pub fn dequantize(&self, q: i32) -> f32 {
        self.scale * (q - self.zero_point) as f32
    }
}

/// An input or output of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// The tensor's name in the model.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions; a dimension the model leaves open (a batch size) is taken as 1.
    pub shape: Vec<usize>,
    /// Set for quantized tensors.
    pub quantization: Option<Quantization>,
}

impl TensorInfo {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a backend implements.
pub(crate) trait Engine: Send {
    fn inputs(&self) -> &[TensorInfo];
    fn outputs(&self) -> &[TensorInfo];
    /// Runs on f32 inputs (one slice per input, lengths checked by [`Model`]) and writes the
    /// f32 outputs into `outputs` (lengths checked by [`Model`]).
    fn run_f32(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]]) -> Result<(), String>;
}

/// A loaded model, ready to run.
///
/// ```no_run
/// use edgewise_infer::Model;
/// let mut model = Model::load("hello_world_float.tflite")?;
/// let mut y = [0.0f32];
/// model.run_f32(&[&[1.0]], &mut [&mut y])?;
/// println!("sin(1) ≈ {}", y[0]);
/// # Ok::<(), edgewise_infer::Error>(())
/// ```
pub struct Model {
    name: String,
    backend: Backend,
    engine: Box<dyn Engine>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("inputs", &self.inputs())
            .field("outputs", &self.outputs())
            .finish()
    }
}

impl Model {
    /// Loads a model file with the default backend; the format comes from the extension, or
    /// from the contents when the extension says nothing.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.display().to_string();
        let format = match Format::from_path(path) {
            Some(format) => format,
            None => Format::sniff(&bytes).ok_or_else(|| Error::UnknownFormat {
                model: name.clone(),
                reason: "neither the extension nor the first bytes name a format".into(),
            })?,
        };
        Self::from_bytes(&name, &bytes, format, Backend::Tract)
    }

    /// Loads a model from memory. `name` names it in errors.
    pub fn from_bytes(
        name: &str,
        bytes: &[u8],
        format: Format,
        backend: Backend,
    ) -> Result<Self, Error> {
        // A backend's parser may panic on input it does not expect; that must not take the
        // agent down (this needs `panic = "unwind"`, which the release profile keeps).
        let loaded = catch_unwind(AssertUnwindSafe(|| match backend {
            Backend::Tract => load_tract(name, bytes, format),
        }));
        let engine = match loaded {
            Ok(engine) => engine?,
            Err(panic) => {
                return Err(Error::BackendPanic {
                    model: name.to_string(),
                    backend: backend.name(),
                    during: "loading",
                    message: panic_message(&*panic),
                })
            }
        };
        Ok(Self {
            name: name.to_string(),
            backend,
            engine,
        })
    }

    /// The model's name, as given at load.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend running it.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The inputs, in order.
    pub fn inputs(&self) -> &[TensorInfo] {
        self.engine.inputs()
    }

    /// The outputs, in order.
    pub fn outputs(&self) -> &[TensorInfo] {
        self.engine.outputs()
    }

    /// Runs the model: one f32 slice per input, in the model's element order (row-major),
    /// and one output buffer per output, written in place.
    pub fn run_f32(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]]) -> Result<(), Error> {
        check_lengths(
            &self.name,
            "input",
            self.engine.inputs(),
            inputs.iter().map(|s| s.len()),
        )?;
        check_lengths(
            &self.name,
            "output",
            self.engine.outputs(),
            outputs.iter().map(|s| s.len()),
        )?;
        let engine = &mut self.engine;
        match catch_unwind(AssertUnwindSafe(|| engine.run_f32(inputs, outputs))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(detail)) => Err(Error::Run {
                model: self.name.clone(),
                detail,
            }),
            Err(panic) => Err(Error::BackendPanic {
                model: self.name.clone(),
                backend: self.backend.name(),
                during: "running",
                message: panic_message(&*panic),
            }),
        }
    }
}

fn check_lengths(
    model: &str,
    what: &str,
    infos: &[TensorInfo],
    lengths: impl ExactSizeIterator<Item = usize>,
) -> Result<(), Error> {
    if lengths.len() != infos.len() {
        return Err(Error::Shape {
            model: model.to_string(),
            detail: format!(
                "the model has {} {what}s, {} given",
                infos.len(),
                lengths.len()
            ),
        });
    }
    for (info, len) in infos.iter().zip(lengths) {
        if len != info.len() {
            return Err(Error::Shape {
                model: model.to_string(),
                detail: format!(
                    "{what} `{}` has shape {:?} ({} values), {len} given",
                    info.name,
                    info.shape,
                    info.len()
                ),
            });
        }
    }
    Ok(())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(feature = "tract")]
fn load_tract(name: &str, bytes: &[u8], format: Format) -> Result<Box<dyn Engine>, Error> {
    Ok(Box::new(crate::backend::tract::TractEngine::load(
        name, bytes, format,
    )?))
}

#[cfg(not(feature = "tract"))]
fn load_tract(name: &str, _: &[u8], _: Format) -> Result<Box<dyn Engine>, Error> {
    Err(Error::BackendMissing {
        model: name.to_string(),
        backend: "tract",
    })
}
