//! The little of CBOR (RFC 8949) that SenML needs, by hand: definite-length arrays and maps,
//! integers, text, booleans and floats on the way out; on the way in, any well-formed item,
//! so a decoder can skip fields it does not know.
//!
//! Numbers are written in the smallest form that gives back exactly the same f64 (RFC 8428,
//! section 6): an integer when the value is one, else a half, single or double float.

use super::DecodeError;

const UNSIGNED: u8 = 0;
const NEGATIVE: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;
const SIMPLE: u8 = 7;

/// How deeply arrays, maps and tags may nest in input (SenML needs two levels).
const MAX_DEPTH: usize = 32;

// ---------------------------------------------------------------------------------------
// Writing

/// A major type with its argument, in the shortest encoding.
fn head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    match argument {
        0..=23 => out.push(major | argument as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, argument as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(argument as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(argument as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&argument.to_be_bytes());
        }
    }
}

/// The header of a definite-length array of `len` items.
pub(crate) fn array(out: &mut Vec<u8>, len: usize) {
    head(out, ARRAY, len as u64);
}

/// The header of a definite-length map of `len` pairs.
pub(crate) fn map(out: &mut Vec<u8>, len: usize) {
    head(out, MAP, len as u64);
}

/// An integer.
pub(crate) fn int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        head(out, UNSIGNED, value.unsigned_abs());
    } else {
        // -1 - n, computed without overflow for i64::MIN.
        head(out, NEGATIVE, (-(value + 1)).unsigned_abs());
    }
}

/// A text string made of `parts` written one after the other (no joined copy needed).
pub(crate) fn text(out: &mut Vec<u8>, parts: &[&str]) {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    head(out, TEXT, len as u64);
    for part in parts {
        out.extend_from_slice(part.as_bytes());
    }
}

/// A byte string.
pub(crate) fn bytes(out: &mut Vec<u8>, value: &[u8]) {
    head(out, BYTES, value.len() as u64);
    out.extend_from_slice(value);
}

/// `true` or `false`.
pub(crate) fn boolean(out: &mut Vec<u8>, value: bool) {
    out.push((SIMPLE << 5) | if value { 21 } else { 20 });
}

/// A finite number in the smallest encoding that decodes to exactly `value`.
pub(crate) fn number(out: &mut Vec<u8>, value: f64) {
    // Integers first: 98 is 2 bytes as an integer, 3 as a half float. -0.0 stays a float.
    if value.fract() == 0.0
        && (-9.2e18..9.2e18).contains(&value)
        && !(value == 0.0 && value.is_sign_negative())
    {
        int(out, value as i64);
        return;
    }
    let single = value as f32;
    if f64::from(single).to_bits() == value.to_bits() {
        if let Some(half) = f16_bits(single) {
            out.push((SIMPLE << 5) | 25);
            out.extend_from_slice(&half.to_be_bytes());
        } else {
            out.push((SIMPLE << 5) | 26);
            out.extend_from_slice(&single.to_bits().to_be_bytes());
        }
    } else {
        out.push((SIMPLE << 5) | 27);
        out.extend_from_slice(&value.to_bits().to_be_bytes());
    }
}

/// The IEEE 754 half-precision bits of `value` when it has an exact half; `None` otherwise.
fn f16_bits(value: f32) -> Option<u16> {
    let bits = value.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = ((bits >> 23) & 0xff) as i32;
    let mantissa = bits & 0x7f_ffff;
    match exponent {
        0 if mantissa == 0 => Some(sign), // ±0
        0 | 255 => None,                  // f32 subnormals are below any half; inf/NaN
        _ => {
            let unbiased = exponent - 127;
            if (-14..=15).contains(&unbiased) {
                // A normal half: 10 mantissa bits, the low 13 of the single must be zero.
                (mantissa & 0x1fff == 0)
                    .then(|| sign | (((unbiased + 15) as u16) << 10) | (mantissa >> 13) as u16)
            } else if (-24..-14).contains(&unbiased) {
                // A subnormal half m · 2^-24: m = (1.mantissa) · 2^(unbiased + 1).
                let full = mantissa | 0x80_0000;
                let shift = (13 - 14 - unbiased) as u32;
                (full & ((1 << shift) - 1) == 0).then(|| sign | (full >> shift) as u16)
            } else {
                None
            }
        }
    }
}

/// A half float's value.
fn f16_value(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1024.0 + mantissa) * 2f64.powi(exponent - 25),
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// One CBOR data item's head (containers are read item by item after their head).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'a> {
    Unsigned(u64),
    /// The negative integer -1 - n.
    Negative(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    /// An array of this many items, or of indefinite length (until [`Item::Break`]).
    Array(Option<u64>),
    /// A map of this many pairs, or of indefinite length.
    Map(Option<u64>),
    Tag(u64),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
    Break,
}

impl Item<'_> {
    /// The item's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Unsigned(_) | Item::Negative(_) => "an integer",
            Item::Bytes(_) => "a byte string",
            Item::Text(_) => "a text string",
            Item::Array(_) => "an array",
            Item::Map(_) => "a map",
            Item::Tag(_) => "a tag",
            Item::Bool(_) => "a boolean",
            Item::Null => "null",
            Item::Undefined => "undefined",
            Item::Float(_) => "a float",
            Item::Break => "a break",
        }
    }
}

/// Reads items from a byte slice, remembering the offset for errors.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    format: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(format: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            format,
            bytes,
            pos: 0,
        }
    }

    /// Where the next item starts.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Whether every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// How many bytes are left to read.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// Whether the next byte is a break (the end of an indefinite-length container).
    pub fn peek_break(&self) -> bool {
        self.bytes.get(self.pos) == Some(&0xff)
    }

    /// An error at `offset`.
    pub fn error_at(&self, offset: usize, problem: impl Into<String>) -> DecodeError {
        DecodeError {
            format: self.format,
            offset,
            problem: problem.into(),
        }
    }

    fn take(&mut self, len: u64, start: usize) -> Result<&'a [u8], DecodeError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error_at(start, "the input ends inside this item"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn argument(&mut self, info: u8, start: usize) -> Result<u64, DecodeError> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Err(self.error_at(start, "reserved additional information")),
        };
        let bytes = self.take(width, start)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// The next item's head.
    pub fn next(&mut self) -> Result<Item<'a>, DecodeError> {
        let start = self.pos;
        let &initial = self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error_at(start, "the input ends where an item should be"))?;
        self.pos += 1;
        let major = initial >> 5;
        let info = initial & 0x1f;
        if info == 31 {
            return match major {
                ARRAY => Ok(Item::Array(None)),
                MAP => Ok(Item::Map(None)),
                SIMPLE => Ok(Item::Break),
                _ => Err(self.error_at(
                    start,
                    "indefinite-length strings are not allowed here (RFC 8428 section 6)",
                )),
            };
        }
        if major == SIMPLE {
            return match info {
                20 => Ok(Item::Bool(false)),
                21 => Ok(Item::Bool(true)),
                22 => Ok(Item::Null),
                23 => Ok(Item::Undefined),
                25 => {
                    let bits = self.argument(info, start)?;
                    Ok(Item::Float(f16_value(bits as u16)))
                }
                26 => {
                    let bits = self.argument(info, start)?;
                    Ok(Item::Float(f64::from(f32::from_bits(bits as u32))))
                }
                27 => Ok(Item::Float(f64::from_bits(self.argument(info, start)?))),
                _ => Err(self.error_at(start, format!("unsupported simple value {info}"))),
            };
        }
        let argument = self.argument(info, start)?;
        Ok(match major {
            UNSIGNED => Item::Unsigned(argument),
            NEGATIVE => Item::Negative(argument),
            BYTES => Item::Bytes(self.take(argument, start)?),
            TEXT => {
                let raw = self.take(argument, start)?;
                Item::Text(
                    std::str::from_utf8(raw)
                        .map_err(|_| self.error_at(start, "a text string that is not UTF-8"))?,
                )
            }
            ARRAY => Item::Array(Some(argument)),
            MAP => Item::Map(Some(argument)),
            TAG => Item::Tag(argument),
            _ => return Err(self.error_at(start, "unexpected simple value")), // handled above
        })
    }

    /// Skips the rest of an item whose head `item` was just read (a container's contents, a
    /// tag's content).
    pub fn skip_rest(&mut self, item: Item<'a>, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(self.error_at(self.pos, format!("nested more than {MAX_DEPTH} deep")));
        }
        let items_per_entry = match item {
            Item::Array(_) => 1,
            Item::Map(_) => 2,
            Item::Tag(_) => {
                let content = self.next()?;
                return self.skip_rest(content, depth + 1);
            }
            _ => return Ok(()),
        };
        match item {
            Item::Array(Some(len)) | Item::Map(Some(len)) => {
                for _ in 0..len.saturating_mul(items_per_entry) {
                    let start = self.pos;
                    let inner = self.next()?;
                    if inner == Item::Break {
                        return Err(self.error_at(start, "a break inside a definite-length item"));
                    }
                    self.skip_rest(inner, depth + 1)?;
                }
            }
            _ => loop {
                let inner = self.next()?;
                if inner == Item::Break {
                    break;
                }
                self.skip_rest(inner, depth + 1)?;
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn heads_and_integers_follow_rfc_8949_appendix_a() {
        // Appendix A's examples.
        assert_eq!(encoded(|o| int(o, 0)), [0x00]);
        assert_eq!(encoded(|o| int(o, 23)), [0x17]);
        assert_eq!(encoded(|o| int(o, 24)), [0x18, 0x18]);
        assert_eq!(encoded(|o| int(o, 1000)), [0x19, 0x03, 0xe8]);
        assert_eq!(
            encoded(|o| int(o, 1_000_000)),
            [0x1a, 0x00, 0x0f, 0x42, 0x40]
        );
        assert_eq!(
            encoded(|o| int(o, 1_000_000_000_000)),
            [0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00]
        );
        assert_eq!(encoded(|o| int(o, -1)), [0x20]);
        assert_eq!(encoded(|o| int(o, -100)), [0x38, 0x63]);
        assert_eq!(encoded(|o| int(o, -1000)), [0x39, 0x03, 0xe7]);
        assert_eq!(encoded(|o| int(o, i64::MIN))[0], 0x3b);
        assert_eq!(encoded(|o| text(o, &["IETF"])), b"\x64IETF");
        assert_eq!(encoded(|o| text(o, &["a", "", "b"])), b"\x62ab");
        assert_eq!(encoded(|o| boolean(o, false)), [0xf4]);
        assert_eq!(encoded(|o| boolean(o, true)), [0xf5]);
    }

    #[test]
    fn numbers_take_the_smallest_exact_form() {
        // Appendix A's float examples.
        assert_eq!(encoded(|o| number(o, 1.5)), [0xf9, 0x3e, 0x00]);
        assert_eq!(encoded(|o| number(o, -0.0)), [0xf9, 0x80, 0x00]);
        assert_eq!(
            encoded(|o| number(o, 65504.5)),
            [0xfa, 0x47, 0x7f, 0xe0, 0x80]
        );
        assert_eq!(
            encoded(|o| number(o, 5.960_464_477_539_063e-8)),
            [0xf9, 0x00, 0x01]
        );
        assert_eq!(
            encoded(|o| number(o, 0.000_061_035_156_25)),
            [0xf9, 0x04, 0x00]
        );
        assert_eq!(
            encoded(|o| number(o, 100_000.5)),
            [0xfa, 0x47, 0xc3, 0x50, 0x40]
        );
        assert_eq!(
            encoded(|o| number(o, 1.1)),
            [0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
        );
        assert_eq!(encoded(|o| number(o, 98.0)), [0x18, 0x62]);
        assert_eq!(encoded(|o| number(o, -5.0)), [0x24]);
    }

    #[test]
    fn every_number_reads_back_bit_for_bit() {
        let values = [
            0.0,
            -0.0,
            1.5,
            -1.5,
            21.5,
            0.1,
            1e-7,
            3.0e-8,
            6.0e-5,
            65504.0,
            65520.0,
            1e300,
            -2.75,
            1_732_550_400.123_456,
            9.3e18,
            -9.3e18,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        for value in values {
            let bytes = encoded(|o| number(o, value));
            let mut reader = Reader::new("test", &bytes);
            let read = match reader.next() {
                Ok(Item::Float(f)) => f,
                Ok(Item::Unsigned(n)) => n as f64,
                Ok(Item::Negative(n)) => -1.0 - n as f64,
                other => panic!("{value}: {other:?}"),
            };
            assert_eq!(read.to_bits(), value.to_bits(), "{value} as {bytes:02x?}");
            assert!(reader.at_end());
        }
        // All 65536 halves that are finite convert back exactly.
        for bits in 0..=u16::MAX {
            let value = f16_value(bits);
            if value.is_finite() {
                assert_eq!(f16_bits(value as f32), Some(bits), "{bits:#06x}");
            }
        }
    }

    #[test]
    fn skipping_walks_over_nested_and_indefinite_items() {
        // [1, {"a": [h'0102', tag 4 [-2, 27315]]}, [_ 1, 2], true], then 7.
        let bytes = [
            0x84, 0x01, 0xa1, 0x61, b'a', 0x82, 0x42, 0x01, 0x02, 0xc4, 0x82, 0x21, 0x19, 0x6a,
            0xb3, 0x9f, 0x01, 0x02, 0xff, 0xf5, 0x07,
        ];
        let mut reader = Reader::new("test", &bytes);
        let head = reader.next().unwrap_or_else(|e| panic!("{e}"));
        reader.skip_rest(head, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reader.next().ok(), Some(Item::Unsigned(7)));
        assert!(reader.at_end());
    }

    #[test]
    fn truncated_and_malformed_input_is_an_error_with_its_offset() {
        let mut reader = Reader::new("test", &[0x82, 0x01]);
        let head = reader.next().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reader.skip_rest(head, 0).map_err(|e| e.offset), Err(2));
        assert_eq!(
            Reader::new("test", &[0x63, b'a'])
                .next()
                .map_err(|e| e.offset),
            Err(0)
        );
        assert_eq!(
            Reader::new("test", &[0x1c]).next().map_err(|e| e.offset),
            Err(0)
        );
        assert!(Reader::new("test", &[0x7f]).next().is_err());
        assert!(Reader::new("test", &[0x62, 0xff, 0xfe]).next().is_err());
        let deep = vec![0x81; 100];
        let mut reader = Reader::new("test", &deep);
        let head = reader.next().unwrap_or_else(|e| panic!("{e}"));
        assert!(reader.skip_rest(head, 0).is_err());
    }
}
