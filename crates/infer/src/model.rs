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
///
/// Every variant exists whatever the cargo features; choosing one that was not compiled in is
/// an [`Error::BackendMissing`] naming the feature to enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// edgewise-micro: our pure-Rust TFLite interpreter, int8 and float models, bit-exact with
    /// TFLite's reference kernels, no allocation per run (cargo feature `micro`, on by default).
    Micro,
    /// tract: pure Rust, ONNX and float TFLite (cargo feature `tract`, on by default).
    Tract,
    /// The official TensorFlow Lite runtime through its C API (crate `tflitec`): `.tflite`
    /// models, float and int8/uint8-quantized (cargo feature `tflite`; the build needs the
    /// TensorFlow Lite 2.19 C library, see the README).
    TfLite,
}

impl Backend {
    /// Every backend, compiled in or not.
    pub const ALL: [Backend; 3] = [Backend::Micro, Backend::Tract, Backend::TfLite];

    /// The backend's name, as in its cargo feature.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Micro => "micro",
            Self::Tract => "tract",
            Self::TfLite => "tflite",
        }
    }

    /// The backend named `name` (as [`Backend::name`] gives it), for configuration files.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether this build has the backend (its cargo feature was enabled).
    pub const fn is_built_in(self) -> bool {
        match self {
            Self::Micro => cfg!(feature = "micro"),
            Self::Tract => cfg!(feature = "tract"),
            Self::TfLite => cfg!(feature = "tflite"),
        }
    }

    /// Whether the backend reads models in `format`.
    pub const fn reads(self, format: Format) -> bool {
        match self {
            Self::Tract => true,
            Self::Micro | Self::TfLite => matches!(format, Format::Tflite),
        }
    }

    /// The backend [`Model::load`] picks for a format: ONNX on tract; TFLite on the official
    /// runtime when the build opted into it, else on edgewise-micro (it runs int8 and float
    /// models and, measured on hello_world_float, is about 15× faster than tract there), else
    /// on tract.
    pub const fn for_format(format: Format) -> Self {
        match format {
            Format::Tflite if Self::TfLite.is_built_in() => Self::TfLite,
            Format::Tflite if Self::Micro.is_built_in() => Self::Micro,
            _ => Self::Tract,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::I8 => "int8",
            Self::U8 => "uint8",
            Self::I32 => "int32",
            Self::I64 => "int64",
            Self::Other(name) => name,
        })
    }
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

/// The values of one input tensor, in its element type and the model's element order
/// (row-major). Built from a slice with `TensorData::from(&x[..])` or a variant.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TensorData<'a> {
    /// 32-bit floats.
    F32(&'a [f32]),
    /// Signed 8-bit integers, as stored (quantized values for a quantized tensor).
    I8(&'a [i8]),
    /// Unsigned 8-bit integers, as stored (quantized values for a quantized tensor).
    U8(&'a [u8]),
    /// 32-bit signed integers.
    I32(&'a [i32]),
    /// 64-bit signed integers.
    I64(&'a [i64]),
}

/// A buffer for the values of one output tensor, in its element type; a run writes it in
/// place. Built from a slice with `TensorDataMut::from(&mut y[..])` or a variant.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum TensorDataMut<'a> {
    /// 32-bit floats.
    F32(&'a mut [f32]),
    /// Signed 8-bit integers, as stored (quantized values for a quantized tensor).
    I8(&'a mut [i8]),
    /// Unsigned 8-bit integers, as stored (quantized values for a quantized tensor).
    U8(&'a mut [u8]),
    /// 32-bit signed integers.
    I32(&'a mut [i32]),
    /// 64-bit signed integers.
    I64(&'a mut [i64]),
}

macro_rules! tensor_data {
    ($($variant:ident($t:ty)),*) => {
        impl TensorData<'_> {
            /// The element type.
            pub fn dtype(&self) -> DType {
                match self {
                    $(Self::$variant(_) => DType::$variant,)*
                }
            }

            /// Number of elements.
            pub fn len(&self) -> usize {
                match self {
                    $(Self::$variant(values) => values.len(),)*
                }
            }

            /// Whether there are no elements.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl TensorDataMut<'_> {
            /// The element type.
            pub fn dtype(&self) -> DType {
                match self {
                    $(Self::$variant(_) => DType::$variant,)*
                }
            }

            /// Number of elements.
            pub fn len(&self) -> usize {
                match self {
                    $(Self::$variant(values) => values.len(),)*
                }
            }

            /// Whether there are no elements.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// The same buffer, borrowed for a shorter time.
            pub fn reborrow(&mut self) -> TensorDataMut<'_> {
                match self {
                    $(Self::$variant(values) => TensorDataMut::$variant(values),)*
                }
            }
        }

        $(
            impl<'a> From<&'a [$t]> for TensorData<'a> {
                fn from(values: &'a [$t]) -> Self {
                    Self::$variant(values)
                }
            }

            impl<'a> From<&'a mut [$t]> for TensorDataMut<'a> {
                fn from(values: &'a mut [$t]) -> Self {
                    Self::$variant(values)
                }
            }

            impl Element for $t {
                const DTYPE: DType = DType::$variant;

                fn data(values: &[Self]) -> TensorData<'_> {
                    TensorData::$variant(values)
                }

                fn data_mut(values: &mut [Self]) -> TensorDataMut<'_> {
                    TensorDataMut::$variant(values)
                }
            }
        )*
    };
}

tensor_data!(F32(f32), I8(i8), U8(u8), I32(i32), I64(i64));

/// An element type a run takes as plain slices.
trait Element: Copy {
    const DTYPE: DType;
    fn data(values: &[Self]) -> TensorData<'_>;
    fn data_mut(values: &mut [Self]) -> TensorDataMut<'_>;
}

/// What a backend implements. A run is [`Engine::set_input`] for every input, then
/// [`Engine::invoke`], then [`Engine::output`] for every output; [`Model`] has checked
/// beforehand that every index is in range and that every slice's element type and length
/// match the tensor's [`TensorInfo`].
pub(crate) trait Engine: Send {
    fn inputs(&self) -> &[TensorInfo];
    fn outputs(&self) -> &[TensorInfo];
    /// Copies the values of input `index` into the engine (`data` may be reused afterwards).
    fn set_input(&mut self, index: usize, data: TensorData<'_>) -> Result<(), String>;
    /// Runs the model on the inputs set.
    fn invoke(&mut self) -> Result<(), String>;
    /// Copies output `index` of the last run into `out`.
    fn output(&mut self, index: usize, out: TensorDataMut<'_>) -> Result<(), String>;
    /// The operators in execution order, where the backend lists them.
    fn operators(&self) -> Option<&[String]> {
        None
    }
    /// Bytes of working memory planned at load, where the backend plans it up front.
    fn arena_size(&self) -> Option<usize> {
        None
    }
}

/// Quantized values for [`Model::run_f32`] on quantized tensors, kept between runs.
#[derive(Default)]
struct Scratch {
    i8: Vec<i8>,
    u8: Vec<u8>,
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
///
/// Three ways to run it: [`Model::run_f32`] takes and gives reals whatever the model stores
/// (quantizing and dequantizing int8/uint8 tensors); [`Model::run_i8`] and [`Model::run_u8`]
/// take and give the stored integers of a quantized model; [`Model::run`] takes each tensor
/// in its own element type, for models that mix them.
pub struct Model {
    name: String,
    backend: Backend,
    engine: Box<dyn Engine>,
    scratch: Scratch,
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
    /// Loads a model file; the format comes from the extension, or from the contents when the
    /// extension says nothing, and the backend from the format ([`Backend::for_format`]).
    ///
    /// A TFLite model with an operator edgewise-micro lacks is tried on tract too (when built
    /// in); if tract cannot load it either, the error is micro's, which names the operator.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let (name, bytes, format) = read(path.as_ref())?;
        let backend = Backend::for_format(format);
        match Self::from_bytes(&name, &bytes, format, backend) {
            Err(unsupported @ Error::Unsupported { .. })
                if backend == Backend::Micro && Backend::Tract.is_built_in() =>
            {
                Self::from_bytes(&name, &bytes, format, Backend::Tract).map_err(|_| unsupported)
            }
            loaded => loaded,
        }
    }

    /// Loads a model file on the given backend:
    /// `Model::load_with("model.tflite", Backend::TfLite)`.
    pub fn load_with(path: impl AsRef<Path>, backend: Backend) -> Result<Self, Error> {
        let (name, bytes, format) = read(path.as_ref())?;
        Self::from_bytes(&name, &bytes, format, backend)
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
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            load_engine(name, bytes, format, backend)
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
            scratch: Scratch::default(),
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

    /// The operators in execution order, by the backend's name for them (TFLite builtin
    /// names such as `FULLY_CONNECTED` on micro), or `None` where the backend does not list
    /// them (tract, which fuses and rewrites the graph, and the official TFLite runtime).
    pub fn operators(&self) -> Option<&[String]> {
        self.engine.operators()
    }

    /// Bytes of working memory for intermediate tensors that the backend planned at load
    /// (micro's arena; excludes the weights, which stay in the model bytes, and recurrent
    /// state), or `None` where the backend allocates as it runs.
    pub fn arena_size(&self) -> Option<usize> {
        self.engine.arena_size()
    }

    /// Runs the model on real values: one f32 slice per input, in the model's element order
    /// (row-major), and one output buffer per output, written in place.
    ///
    /// Float tensors are passed as they are. An int8/uint8 tensor with quantization
    /// parameters is converted: inputs are quantized (rounded to nearest, saturating), outputs
    /// dequantized, so the same code runs a float and a quantized export of a model. Other
    /// element types are an error; [`Model::run`] takes them.
    pub fn run_f32(&mut self, inputs: &[&[f32]], outputs: &mut [&mut [f32]]) -> Result<(), Error> {
        let lengths = inputs.iter().map(|s| s.len());
        check_lengths(&self.name, "input", self.engine.inputs(), lengths)?;
        let lengths = outputs.iter().map(|s| s.len());
        check_lengths(&self.name, "output", self.engine.outputs(), lengths)?;
        check_real(&self.name, "input", self.engine.inputs())?;
        check_real(&self.name, "output", self.engine.outputs())?;
        self.guarded(|engine, scratch| {
            for (index, data) in inputs.iter().enumerate() {
                let info = &engine.inputs()[index];
                match (info.dtype, info.quantization) {
                    (DType::I8, Some(q)) => {
                        scratch.i8.clear();
                        scratch.i8.extend(data.iter().map(|&x| q.quantize_i8(x)));
                        engine.set_input(index, TensorData::I8(&scratch.i8))?;
                    }
                    (DType::U8, Some(q)) => {
                        scratch.u8.clear();
                        scratch.u8.extend(data.iter().map(|&x| q.quantize_u8(x)));
                        engine.set_input(index, TensorData::U8(&scratch.u8))?;
                    }
                    _ => engine.set_input(index, TensorData::F32(data))?,
                }
            }
            engine.invoke()?;
            for (index, out) in outputs.iter_mut().enumerate() {
                let info = &engine.outputs()[index];
                match (info.dtype, info.quantization) {
                    (DType::I8, Some(q)) => {
                        scratch.i8.clear();
                        scratch.i8.resize(out.len(), 0);
                        engine.output(index, TensorDataMut::I8(&mut scratch.i8))?;
                        for (y, &v) in out.iter_mut().zip(&scratch.i8) {
                            *y = q.dequantize(i32::from(v));
                        }
                    }
                    (DType::U8, Some(q)) => {
                        scratch.u8.clear();
                        scratch.u8.resize(out.len(), 0);
                        engine.output(index, TensorDataMut::U8(&mut scratch.u8))?;
                        for (y, &v) in out.iter_mut().zip(&scratch.u8) {
                            *y = q.dequantize(i32::from(v));
                        }
                    }
                    _ => engine.output(index, TensorDataMut::F32(out))?,
                }
            }
            Ok(())
        })
    }

    /// Runs a model whose inputs and outputs are all int8 on their stored (quantized) values;
    /// [`TensorInfo::quantization`] says what they mean.
    pub fn run_i8(&mut self, inputs: &[&[i8]], outputs: &mut [&mut [i8]]) -> Result<(), Error> {
        self.run_uniform(inputs, outputs)
    }

    /// Runs a model whose inputs and outputs are all uint8 on their stored (quantized)
    /// values; [`TensorInfo::quantization`] says what they mean.
    pub fn run_u8(&mut self, inputs: &[&[u8]], outputs: &mut [&mut [u8]]) -> Result<(), Error> {
        self.run_uniform(inputs, outputs)
    }

    /// Runs the model with every tensor in its own element type (as [`TensorInfo::dtype`]
    /// gives it): for models that mix types, say int8 in and f32 out.
    ///
    /// ```no_run
    /// use edgewise_infer::{Model, TensorData, TensorDataMut};
    /// let mut model = Model::load("classifier_int8_in_f32_out.tflite")?;
    /// let (x, mut y) = ([0i8; 64], [0.0f32; 4]);
    /// model.run(&[TensorData::I8(&x)], &mut [TensorDataMut::F32(&mut y)])?;
    /// # Ok::<(), edgewise_infer::Error>(())
    /// ```
    pub fn run(
        &mut self,
        inputs: &[TensorData<'_>],
        outputs: &mut [TensorDataMut<'_>],
    ) -> Result<(), Error> {
        let given = inputs.iter().map(|d| (d.dtype(), d.len()));
        check_typed(&self.name, "input", self.engine.inputs(), given)?;
        let given = outputs.iter().map(|d| (d.dtype(), d.len()));
        check_typed(&self.name, "output", self.engine.outputs(), given)?;
        self.guarded(|engine, _| {
            for (index, data) in inputs.iter().enumerate() {
                engine.set_input(index, *data)?;
            }
            engine.invoke()?;
            for (index, out) in outputs.iter_mut().enumerate() {
                engine.output(index, out.reborrow())?;
            }
            Ok(())
        })
    }

    fn run_uniform<T: Element>(
        &mut self,
        inputs: &[&[T]],
        outputs: &mut [&mut [T]],
    ) -> Result<(), Error> {
        let given = inputs.iter().map(|s| (T::DTYPE, s.len()));
        check_typed(&self.name, "input", self.engine.inputs(), given)?;
        let given = outputs.iter().map(|s| (T::DTYPE, s.len()));
        check_typed(&self.name, "output", self.engine.outputs(), given)?;
        self.guarded(|engine, _| {
            for (index, data) in inputs.iter().enumerate() {
                engine.set_input(index, T::data(data))?;
            }
            engine.invoke()?;
            for (index, out) in outputs.iter_mut().enumerate() {
                engine.output(index, T::data_mut(out))?;
            }
            Ok(())
        })
    }

    /// Runs `run` on the engine; a failure or a panic in the backend becomes an [`Error`].
    fn guarded(
        &mut self,
        run: impl FnOnce(&mut dyn Engine, &mut Scratch) -> Result<(), String>,
    ) -> Result<(), Error> {
        let (engine, scratch) = (&mut *self.engine, &mut self.scratch);
        match catch_unwind(AssertUnwindSafe(|| run(engine, scratch))) {
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

/// The file's name for errors, its bytes, and its format.
fn read(path: &Path) -> Result<(String, Vec<u8>, Format), Error> {
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
    Ok((name, bytes, format))
}

fn load_engine(
    name: &str,
    bytes: &[u8],
    format: Format,
    backend: Backend,
) -> Result<Box<dyn Engine>, Error> {
    if backend.is_built_in() && !backend.reads(format) {
        return Err(Error::Unsupported {
            model: name.to_string(),
            backend: backend.name(),
            detail: "it reads .tflite models only; ONNX models run on tract (Backend::Tract)"
                .to_string(),
        });
    }
    match backend {
        #[cfg(feature = "micro")]
        Backend::Micro => Ok(Box::new(crate::backend::micro::load(name, bytes)?)),
        #[cfg(feature = "tract")]
        Backend::Tract => Ok(Box::new(crate::backend::tract::TractEngine::load(
            name, bytes, format,
        )?)),
        #[cfg(feature = "tflite")]
        Backend::TfLite => Ok(Box::new(crate::backend::tflite::TfLiteEngine::load(
            name, bytes,
        )?)),
        #[allow(unreachable_patterns)]
        _ => Err(Error::BackendMissing {
            model: name.to_string(),
            backend: backend.name(),
        }),
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

/// Counts, lengths and element types.
fn check_typed(
    model: &str,
    what: &str,
    infos: &[TensorInfo],
    given: impl ExactSizeIterator<Item = (DType, usize)> + Clone,
) -> Result<(), Error> {
    check_lengths(model, what, infos, given.clone().map(|(_, len)| len))?;
    for (info, (dtype, _)) in infos.iter().zip(given) {
        if dtype != info.dtype {
            return Err(Error::Shape {
                model: model.to_string(),
                detail: format!(
                    "{what} `{}` holds {} values, {dtype} given",
                    info.name, info.dtype
                ),
            });
        }
    }
    Ok(())
}

/// Whether [`Model::run_f32`] can convert every tensor: f32, or int8/uint8 with quantization.
fn check_real(model: &str, what: &str, infos: &[TensorInfo]) -> Result<(), Error> {
    for info in infos {
        match (info.dtype, info.quantization) {
            (DType::F32, _) | (DType::I8 | DType::U8, Some(_)) => {}
            (dtype, _) => {
                return Err(Error::Shape {
                    model: model.to_string(),
                    detail: format!(
                        "{what} `{}` holds {dtype} values without quantization parameters, \
                         which run_f32 cannot convert from reals; use Model::run",
                        info.name
                    ),
                })
            }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};

    use super::*;

    /// Adds one to each stored value of its single input, and records what it was given:
    /// enough to see what [`Model`] hands a backend and what it makes of the answer.
    struct AddOne {
        inputs: Vec<TensorInfo>,
        outputs: Vec<TensorInfo>,
        given: Arc<Mutex<Vec<i64>>>,
        fail: Option<&'static str>,
    }

    impl Engine for AddOne {
        fn inputs(&self) -> &[TensorInfo] {
            &self.inputs
        }

        fn outputs(&self) -> &[TensorInfo] {
            &self.outputs
        }

        fn set_input(&mut self, _: usize, data: TensorData<'_>) -> Result<(), String> {
            *self.given.lock().unwrap() = match data {
                TensorData::F32(v) => v.iter().map(|&x| x as i64).collect(),
                TensorData::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
                TensorData::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
                TensorData::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
                TensorData::I64(v) => v.to_vec(),
            };
            Ok(())
        }

        fn invoke(&mut self) -> Result<(), String> {
            match self.fail {
                Some("panic") => panic!("kernel bug"),
                Some(why) => Err(why.to_string()),
                None => Ok(()),
            }
        }

        fn output(&mut self, _: usize, out: TensorDataMut<'_>) -> Result<(), String> {
            let given = self.given.lock().unwrap();
            let next = given.iter().map(|v| v + 1);
            match out {
                TensorDataMut::F32(o) => o.iter_mut().zip(next).for_each(|(o, v)| *o = v as f32),
                TensorDataMut::I8(o) => o.iter_mut().zip(next).for_each(|(o, v)| *o = v as i8),
                TensorDataMut::U8(o) => o.iter_mut().zip(next).for_each(|(o, v)| *o = v as u8),
                TensorDataMut::I32(o) => o.iter_mut().zip(next).for_each(|(o, v)| *o = v as i32),
                TensorDataMut::I64(o) => o.iter_mut().zip(next).for_each(|(o, v)| *o = v),
            }
            Ok(())
        }
    }

    fn info(dtype: DType, quantization: Option<Quantization>) -> TensorInfo {
        TensorInfo {
            name: "t".into(),
            dtype,
            shape: vec![1, 3],
            quantization,
        }
    }

    fn model(input: TensorInfo, output: TensorInfo) -> (Model, Arc<Mutex<Vec<i64>>>) {
        let given = Arc::new(Mutex::new(Vec::new()));
        let engine = AddOne {
            inputs: vec![input],
            outputs: vec![output],
            given: given.clone(),
            fail: None,
        };
        let model = Model {
            name: "fake".into(),
            backend: Backend::Tract,
            engine: Box::new(engine),
            scratch: Scratch::default(),
        };
        (model, given)
    }

    #[test]
    fn run_f32_quantizes_int8_inputs_and_dequantizes_int8_outputs() {
        let q_in = Quantization {
            scale: 0.5,
            zero_point: -10,
        };
        let q_out = Quantization {
            scale: 0.25,
            zero_point: 3,
        };
        let (mut m, given) = model(info(DType::I8, Some(q_in)), info(DType::I8, Some(q_out)));
        let mut y = [0.0f32; 3];
        m.run_f32(&[&[1.0, -2.2, 60.0]], &mut [&mut y]).unwrap();
        // 1.0 → 2 − 10; −2.2 → round(−4.4) − 10; 60 → 120 − 10.
        assert_eq!(*given.lock().unwrap(), [-8, -14, 110]);
        // Stored outputs −7, −13, 111 → 0.25 × (q − 3).
        assert_eq!(y, [-2.5, -4.0, 27.0]);
        // Out of range saturates.
        m.run_f32(&[&[1e6, -1e6, f32::NAN]], &mut [&mut y]).unwrap();
        assert_eq!(*given.lock().unwrap(), [127, -128, 0]);
    }

    #[test]
    fn run_f32_handles_uint8_and_mixed_models() {
        let q = Quantization {
            scale: 2.0,
            zero_point: 128,
        };
        let (mut m, given) = model(info(DType::U8, Some(q)), info(DType::F32, None));
        let mut y = [0.0f32; 3];
        m.run_f32(&[&[0.0, -256.0, 300.0]], &mut [&mut y]).unwrap();
        assert_eq!(*given.lock().unwrap(), [128, 0, 255]);
        assert_eq!(y, [129.0, 1.0, 256.0]);
    }

    #[test]
    fn run_f32_refuses_what_it_cannot_convert() {
        for dtype in [DType::I8, DType::U8, DType::I32, DType::I64] {
            let (mut m, _) = model(info(dtype, None), info(DType::F32, None));
            let err = m.run_f32(&[&[0.0; 3]], &mut [&mut [0.0; 3]]).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, Error::Shape { .. }), "{message}");
            assert!(
                message.contains(&format!("holds {dtype} values"))
                    && message.contains("Model::run"),
                "{message}"
            );
        }
        // The typed entry points take them.
        let (mut m, _) = model(info(DType::I32, None), info(DType::I64, None));
        let mut y = [0i64; 3];
        m.run(
            &[TensorData::I32(&[1, 2, 3])],
            &mut [TensorDataMut::I64(&mut y)],
        )
        .unwrap();
        assert_eq!(y, [2, 3, 4]);
        let (mut m, _) = model(info(DType::U8, None), info(DType::U8, None));
        let mut y = [0u8; 3];
        m.run_u8(&[&[0, 1, 254]], &mut [&mut y]).unwrap();
        assert_eq!(y, [1, 2, 255]);
    }

    #[test]
    fn backend_failures_and_panics_become_errors_naming_the_model() {
        for (fail, panicked) in [("out of memory", false), ("panic", true)] {
            let (mut m, _) = model(info(DType::F32, None), info(DType::F32, None));
            let given = Arc::new(Mutex::new(Vec::new()));
            m.engine = Box::new(AddOne {
                inputs: vec![info(DType::F32, None)],
                outputs: vec![info(DType::F32, None)],
                given,
                fail: Some(fail),
            });
            let err = m.run_f32(&[&[0.0; 3]], &mut [&mut [0.0; 3]]).unwrap_err();
            assert_eq!(matches!(err, Error::BackendPanic { .. }), panicked, "{err}");
            assert_eq!(matches!(err, Error::Run { .. }), !panicked, "{err}");
            assert!(err.to_string().starts_with("fake: "), "{err}");
        }
    }
}
