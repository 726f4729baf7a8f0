//! Tensors as `edgewise model` reads and writes them: raw little-endian values in the model's
//! element order, no header (the format of `shared/models/golden/`), so a file's size must be
//! exactly the tensor's element count times its element size.

use std::path::Path;

use edgewise_infer::{DType, TensorData, TensorDataMut, TensorInfo};

use crate::error::CliError;

/// The values of one tensor, owned, in its element type.
#[derive(Debug, Clone, PartialEq)]
pub enum Tensor {
    /// 32-bit floats.
    F32(Vec<f32>),
    /// Signed 8-bit integers (stored values of a quantized tensor).
    I8(Vec<i8>),
    /// Unsigned 8-bit integers (stored values of a quantized tensor).
    U8(Vec<u8>),
    /// 32-bit signed integers.
    I32(Vec<i32>),
    /// 64-bit signed integers.
    I64(Vec<i64>),
}

/// Bytes per element of `dtype`, or `None` for a type these tools cannot feed or read.
pub fn element_size(dtype: DType) -> Option<usize> {
    match dtype {
        DType::I8 | DType::U8 => Some(1),
        DType::F32 | DType::I32 => Some(4),
        DType::I64 => Some(8),
        DType::Other(_) => None,
    }
}

/// `role index` plus the tensor's name and type, as errors name a tensor: ``input 0
/// (`x`, int8[1, 1])``.
pub fn describe(role: &str, index: usize, info: &TensorInfo) -> String {
    format!(
        "{role} {index} (`{}`, {}{:?})",
        info.name, info.dtype, info.shape
    )
}

impl Tensor {
    /// A tensor of `info`'s type and size filled with zeros (the stored value 0, which for a
    /// quantized tensor is not necessarily the real value 0).
    pub fn zeros(role: &str, index: usize, info: &TensorInfo) -> Result<Self, CliError> {
        let len = info.len();
        Ok(match info.dtype {
            DType::F32 => Self::F32(vec![0.0; len]),
            DType::I8 => Self::I8(vec![0; len]),
            DType::U8 => Self::U8(vec![0; len]),
            DType::I32 => Self::I32(vec![0; len]),
            DType::I64 => Self::I64(vec![0; len]),
            DType::Other(_) => return Err(unsupported(role, index, info)),
        })
    }

    /// A tensor of `info`'s type and size whose elements are taken from `bytes` (which must
    /// hold exactly `info.len()` elements: the caller has checked).
    fn from_le_bytes(info: &TensorInfo, bytes: &[u8]) -> Option<Self> {
        fn decode<const N: usize, T>(bytes: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            bytes
                .chunks_exact(N)
                .filter_map(|chunk| chunk.try_into().ok().map(f))
                .collect()
        }
        Some(match info.dtype {
            DType::F32 => Self::F32(decode(bytes, f32::from_le_bytes)),
            DType::I8 => Self::I8(decode(bytes, i8::from_le_bytes)),
            DType::U8 => Self::U8(bytes.to_vec()),
            DType::I32 => Self::I32(decode(bytes, i32::from_le_bytes)),
            DType::I64 => Self::I64(decode(bytes, i64::from_le_bytes)),
            DType::Other(_) => return None,
        })
    }

    /// Reads input `index` of a model from `path`, checking the file's size against the
    /// tensor's shape and element type.
    pub fn read(index: usize, info: &TensorInfo, path: &Path) -> Result<Self, CliError> {
        let what = describe("input", index, info);
        let size = element_size(info.dtype).ok_or_else(|| unsupported("input", index, info))?;
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::new(format!("{what}: cannot read {}: {e}", path.display())))?;
        let expected = info.len() * size;
        if bytes.len() != expected {
            return Err(CliError::new(format!(
                "{what}: expected {} × {size} bytes = {expected} bytes ({} {} values), but \
                 {} holds {} bytes",
                info.len(),
                info.len(),
                info.dtype,
                path.display(),
                bytes.len()
            )));
        }
        Self::from_le_bytes(info, &bytes).ok_or_else(|| unsupported("input", index, info))
    }

    /// The values as raw little-endian bytes.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            Self::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::I8(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::U8(v) => v.clone(),
            Self::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// The values as a run's input.
    pub fn data(&self) -> TensorData<'_> {
        match self {
            Self::F32(v) => TensorData::F32(v),
            Self::I8(v) => TensorData::I8(v),
            Self::U8(v) => TensorData::U8(v),
            Self::I32(v) => TensorData::I32(v),
            Self::I64(v) => TensorData::I64(v),
        }
    }

    /// The values as a run's output buffer.
    pub fn data_mut(&mut self) -> TensorDataMut<'_> {
        match self {
            Self::F32(v) => TensorDataMut::F32(v),
            Self::I8(v) => TensorDataMut::I8(v),
            Self::U8(v) => TensorDataMut::U8(v),
            Self::I32(v) => TensorDataMut::I32(v),
            Self::I64(v) => TensorDataMut::I64(v),
        }
    }

    /// Fills the tensor with pseudo-random values: floats in [-1, 1), integers over their
    /// whole range. `state` is a xorshift64 state (never 0), advanced in place.
    pub fn randomize(&mut self, state: &mut u64) {
        let mut next = || {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        };
        // The casts keep the low bits of a random word on purpose.
        match self {
            Self::F32(v) => v
                .iter_mut()
                .for_each(|x| *x = (next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0),
            Self::I8(v) => v.iter_mut().for_each(|x| *x = next() as i8),
            Self::U8(v) => v.iter_mut().for_each(|x| *x = next() as u8),
            Self::I32(v) => v.iter_mut().for_each(|x| *x = next() as i32),
            Self::I64(v) => v.iter_mut().for_each(|x| *x = next() as i64),
        }
    }
}

fn unsupported(role: &str, index: usize, info: &TensorInfo) -> CliError {
    CliError::new(format!(
        "{}: edgewise model reads and writes f32, int8, uint8, int32 and int64 tensors only",
        describe(role, index, info)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn info(dtype: DType, shape: &[usize]) -> TensorInfo {
        TensorInfo {
            name: "x".into(),
            dtype,
            shape: shape.to_vec(),
            quantization: None,
        }
    }

    #[test]
    fn bytes_round_trip_in_every_type() {
        let bytes: Vec<u8> = (0u8..16).collect();
        for (dtype, len) in [
            (DType::F32, 4),
            (DType::I8, 16),
            (DType::U8, 16),
            (DType::I32, 4),
            (DType::I64, 2),
        ] {
            let tensor = Tensor::from_le_bytes(&info(dtype, &[len]), &bytes).unwrap();
            assert_eq!(tensor.data().len(), len, "{dtype}");
            assert_eq!(tensor.to_le_bytes(), bytes, "{dtype}");
        }
        let tensor = Tensor::from_le_bytes(&info(DType::I32, &[1]), &[1, 2, 0, 0]).unwrap();
        assert_eq!(tensor, Tensor::I32(vec![0x0201]));
    }

    #[test]
    fn random_floats_stay_in_range() {
        let mut tensor = Tensor::zeros("input", 0, &info(DType::F32, &[1000])).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15;
        tensor.randomize(&mut state);
        let Tensor::F32(values) = tensor else {
            unreachable!()
        };
        assert!(values.iter().all(|x| (-1.0..1.0).contains(x)));
        assert!(values.iter().any(|&x| x < -0.5) && values.iter().any(|&x| x > 0.5));
    }
}
