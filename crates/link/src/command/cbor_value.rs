//! A CBOR data item as a tree, built on the encoder module's item reader: the subset COSE
//! and commands need (maps, arrays, byte and text strings, integers, floats, booleans, null,
//! tags). Byte strings borrow from the input, so a COSE structure's protected header and
//! payload are the exact bytes that were signed.

use crate::encode::cbor::{Item, Reader};
use crate::encode::DecodeError;

/// How deeply items may nest: a command needs three levels; a hostile peer gets no more.
const MAX_DEPTH: usize = 16;

/// One CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cbor<'a> {
    /// An integer (major types 0 and 1), within i128.
    Int(i128),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Cbor<'a>>),
    /// Pairs in input order.
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
    Tag(u64, Box<Cbor<'a>>),
    Float(f64),
    Bool(bool),
    /// null or undefined.
    Null,
}

impl Cbor<'_> {
    /// The item's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Cbor::Int(_) => "an integer",
            Cbor::Bytes(_) => "a byte string",
            Cbor::Text(_) => "a text string",
            Cbor::Array(_) => "an array",
            Cbor::Map(_) => "a map",
            Cbor::Tag(..) => "a tagged item",
            Cbor::Float(_) => "a float",
            Cbor::Bool(_) => "a boolean",
            Cbor::Null => "null",
        }
    }

    /// The value under integer label `label` of a map.
    pub fn get_int(&self, label: i128) -> Option<&Self> {
        match self {
            Cbor::Map(pairs) => pairs
                .iter()
                .find(|(key, _)| *key == Cbor::Int(label))
                .map(|(_, value)| value),
            _ => None,
        }
    }
}

/// Reads exactly one item from `bytes` (nothing may follow it).
pub(crate) fn parse<'a>(format: &'static str, bytes: &'a [u8]) -> Result<Cbor<'a>, DecodeError> {
    let mut reader = Reader::new(format, bytes);
    let value = item(&mut reader, 0)?;
    if !reader.at_end() {
        return Err(reader.error_at(reader.offset(), "bytes after the CBOR item"));
    }
    Ok(value)
}

fn item<'a>(reader: &mut Reader<'a>, depth: usize) -> Result<Cbor<'a>, DecodeError> {
    let start = reader.offset();
    if depth > MAX_DEPTH {
        return Err(reader.error_at(start, format!("nested more than {MAX_DEPTH} deep")));
    }
    Ok(match reader.next()? {
        Item::Unsigned(n) => Cbor::Int(i128::from(n)),
        Item::Negative(n) => Cbor::Int(-1 - i128::from(n)),
        Item::Bytes(bytes) => Cbor::Bytes(bytes),
        Item::Text(text) => Cbor::Text(text),
        Item::Array(len) => {
            let mut items = Vec::new();
            for_each_entry(reader, len, start, |reader| {
                items.push(item(reader, depth + 1)?);
                Ok(())
            })?;
            Cbor::Array(items)
        }
        Item::Map(len) => {
            let mut pairs = Vec::new();
            for_each_entry(reader, len, start, |reader| {
                let key_at = reader.offset();
                let key = item(reader, depth + 1)?;
                if pairs.iter().any(|(existing, _)| *existing == key) {
                    return Err(reader.error_at(key_at, "a duplicate map key"));
                }
                let value = item(reader, depth + 1)?;
                pairs.push((key, value));
                Ok(())
            })?;
            Cbor::Map(pairs)
        }
        Item::Tag(tag) => Cbor::Tag(tag, Box::new(item(reader, depth + 1)?)),
        Item::Bool(b) => Cbor::Bool(b),
        Item::Null | Item::Undefined => Cbor::Null,
        Item::Float(f) => Cbor::Float(f),
        Item::Break => return Err(reader.error_at(start, "a break outside a container")),
    })
}

/// Calls `entry` once per entry of a container of `len` entries (or until a break when the
/// length is indefinite).
fn for_each_entry<'a>(
    reader: &mut Reader<'a>,
    len: Option<u64>,
    start: usize,
    mut entry: impl FnMut(&mut Reader<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    match len {
        Some(len) => {
            // Each entry takes at least one byte: a length beyond the input is a lie.
            let remaining = reader.remaining();
            if len > remaining as u64 {
                return Err(reader.error_at(start, "a container longer than the input"));
            }
            for _ in 0..len {
                entry(reader)?;
            }
        }
        None => loop {
            if reader.peek_break() {
                reader.next()?;
                break;
            }
            entry(reader)?;
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc_8949_appendix_a_items() {
        fn parsed(bytes: &[u8]) -> Cbor<'_> {
            parse("test", bytes).unwrap_or_else(|e| panic!("{e}"))
        }
        // {"a": 1, "b": [2, 3]}
        let map = parsed(&[0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x82, 0x02, 0x03]);
        assert_eq!(
            map,
            Cbor::Map(vec![
                (Cbor::Text("a"), Cbor::Int(1)),
                (
                    Cbor::Text("b"),
                    Cbor::Array(vec![Cbor::Int(2), Cbor::Int(3)])
                ),
            ])
        );
        // [_ 1, [2, 3], [_ 4, 5]]
        let nested = parsed(&[0x9f, 0x01, 0x82, 0x02, 0x03, 0x9f, 0x04, 0x05, 0xff, 0xff]);
        assert!(matches!(nested, Cbor::Array(ref items) if items.len() == 3));
        assert_eq!(
            parsed(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Cbor::Int(-18_446_744_073_709_551_616)
        );
        assert_eq!(
            parsed(&[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0]),
            Cbor::Tag(1, Box::new(Cbor::Int(1_363_896_240)))
        );
        assert_eq!(
            parsed(&[0x44, 0x01, 0x02, 0x03, 0x04]),
            Cbor::Bytes(&[1, 2, 3, 4])
        );
        assert_eq!(parsed(&[0xf9, 0x3c, 0x00]), Cbor::Float(1.0));
        assert_eq!(parsed(&[0xf6]), Cbor::Null);
        assert_eq!(map.get_int(1), None);
    }

    #[test]
    fn refuses_trailing_bytes_duplicate_keys_and_lying_lengths() {
        assert!(parse("test", &[0x01, 0x02]).is_err());
        assert!(parse("test", &[0xa2, 0x01, 0x02, 0x01, 0x03]).is_err());
        assert!(parse(
            "test",
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        )
        .is_err());
        assert!(parse("test", &[0xff]).is_err());
        assert!(parse("test", &[0x81; 40]).is_err());
    }
}
