//! A small JSON reader (RFC 8259) for the decoders: a tree of values that remember their byte
//! offset, so a decode error can say where the problem is. Numbers keep their text, so a
//! nanosecond timestamp is read as an exact integer and a value as the f64 nearest to it.
//!
//! Deliberately strict: one document, no trailing commas, no duplicate object keys, nesting at
//! most [`MAX_DEPTH`] deep (a hostile peer cannot exhaust the stack).

use std::borrow::Cow;

use super::DecodeError;

/// How deeply arrays and objects may nest; our formats need three levels.
const MAX_DEPTH: usize = 32;

/// A JSON value and where it starts in the input.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    /// Byte offset of the value's first character in the whole input.
    pub offset: usize,
    /// The value.
    pub value: Json<'a>,
}

/// A JSON value.
#[derive(Debug)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's text, validated against the JSON grammar.
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in document order.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl Json<'_> {
    /// The JSON type's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Parses `text` as one JSON document; `base` is the offset of `text` in the whole input
/// (error offsets are relative to the whole input).
pub(crate) fn parse<'a>(
    format: &'static str,
    text: &'a str,
    base: usize,
) -> Result<Node<'a>, DecodeError> {
    let mut reader = Reader {
        format,
        text,
        pos: 0,
        base,
    };
    reader.skip_whitespace();
    let node = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos < text.len() {
        return Err(reader.error_here("unexpected text after the JSON value"));
    }
    Ok(node)
}

/// The input as UTF-8 (RFC 8259 allows no other encoding), or where it stops being UTF-8.
pub(crate) fn utf8<'a>(format: &'static str, bytes: &'a [u8]) -> Result<&'a str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError {
        format,
        offset: e.valid_up_to(),
        problem: "not valid UTF-8".into(),
    })
}

struct Reader<'a> {
    format: &'static str,
    text: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn error_at(&self, pos: usize, problem: impl Into<String>) -> DecodeError {
        DecodeError {
            format: self.format,
            offset: self.base + pos,
            problem: problem.into(),
        }
    }

    fn error_here(&self, problem: impl Into<String>) -> DecodeError {
        self.error_at(self.pos, problem)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &str) -> Result<(), DecodeError> {
        if self.text[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(self.error_here("expected a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, DecodeError> {
        let offset = self.base + self.pos;
        let value = match self.peek() {
            None => return Err(self.error_here("the input ends where a value should be")),
            Some(b'n') => self.expect_literal("null").map(|()| Json::Null)?,
            Some(b't') => self.expect_literal("true").map(|()| Json::Bool(true))?,
            Some(b'f') => self.expect_literal("false").map(|()| Json::Bool(false))?,
            Some(b'"') => Json::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Json::Number(self.number()?),
            Some(b'[') => self.array(depth + 1)?,
            Some(b'{') => self.object(depth + 1)?,
            Some(_) => return Err(self.error_here("expected a JSON value")),
        };
        Ok(Node { offset, value })
    }

    fn check_depth(&self, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            Err(self.error_here(format!("nested more than {MAX_DEPTH} levels deep")))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, DecodeError> {
        self.check_depth(depth)?;
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error_here("expected `,` or `]` in an array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, DecodeError> {
        self.check_depth(depth)?;
        self.pos += 1; // {
        let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key_pos = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error_here("expected a string key in an object"));
            }
            let key = self.string()?;
            if members.iter().any(|(existing, _)| *existing == key) {
                return Err(self.error_at(key_pos, format!("key `{key}` appears twice")));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error_here("expected `:` after an object key"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error_here("expected `,` or `}` in an object")),
            }
        }
    }

    fn number(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |pos: &mut usize| {
            let from = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos - from
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        match bytes.get(pos) {
            Some(b'0') => pos += 1,
            Some(b'1'..=b'9') => {
                digits(&mut pos);
            }
            _ => return Err(self.error_at(pos, "a number needs digits")),
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if digits(&mut pos) == 0 {
                return Err(self.error_at(pos, "a number needs digits after `.`"));
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if digits(&mut pos) == 0 {
                return Err(self.error_at(pos, "a number needs digits in its exponent"));
            }
        }
        self.pos = pos;
        Ok(&self.text[start..pos])
    }

    fn string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        self.pos += 1; // opening quote
        let start = self.pos;
        let bytes = self.text.as_bytes();
        // Fast path: no escapes, borrow the text.
        while let Some(&byte) = bytes.get(self.pos) {
            match byte {
                b'"' => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                b'\\' => break,
                0x00..=0x1f => return Err(self.error_here("control character inside a string")),
                _ => self.pos += 1,
            }
        }
        let mut owned = String::from(&self.text[start..self.pos]);
        loop {
            let Some(&byte) = bytes.get(self.pos) else {
                return Err(self.error_at(start - 1, "string never ends"));
            };
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                b'\\' => {
                    let escape_at = self.pos;
                    let letter = bytes.get(escape_at + 1).copied();
                    self.pos = escape_at + 2;
                    let unescaped = match letter {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape(escape_at)?,
                        _ => return Err(self.error_at(escape_at, "unknown escape in a string")),
                    };
                    owned.push(unescaped);
                }
                0x00..=0x1f => return Err(self.error_here("control character inside a string")),
                _ => {
                    // Copy one whole UTF-8 character.
                    let ch_len = self.text[self.pos..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                    owned.push_str(&self.text[self.pos..self.pos + ch_len]);
                    self.pos += ch_len;
                }
            }
        }
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` when the first is a high surrogate.
    fn unicode_escape(&mut self, escape_at: usize) -> Result<char, DecodeError> {
        let high = self.hex4(escape_at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.text[self.pos..].starts_with("\\u") {
                return Err(self.error_at(escape_at, "unpaired surrogate in a \\u escape"));
            }
            self.pos += 2;
            let low = self.hex4(escape_at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error_at(escape_at, "unpaired surrogate in a \\u escape"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code)
            .ok_or_else(|| self.error_at(escape_at, "a \\u escape that is no character"))
    }

    fn hex4(&mut self, escape_at: usize) -> Result<u32, DecodeError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error_at(escape_at, "a \\u escape needs four hex digits"))?;
        let value = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error_at(escape_at, "a \\u escape needs four hex digits"))?;
        self.pos += 4;
        Ok(value)
    }
}

/// Typed access for the decoders, each failure naming what was expected and where.
impl<'a> Node<'a> {
    fn error(&self, format: &'static str, problem: String) -> DecodeError {
        DecodeError {
            format,
            offset: self.offset,
            problem,
        }
    }

    fn expected(&self, format: &'static str, what: &str, expected: &str) -> DecodeError {
        self.error(
            format,
            format!("{what} must be {expected}, not {}", self.value.kind()),
        )
    }

    /// The members of an object.
    pub fn object(
        &self,
        format: &'static str,
        what: &str,
    ) -> Result<&[(Cow<'a, str>, Node<'a>)], DecodeError> {
        match &self.value {
            Json::Object(members) => Ok(members),
            _ => Err(self.expected(format, what, "an object")),
        }
    }

    /// The items of an array.
    pub fn array(&self, format: &'static str, what: &str) -> Result<&[Node<'a>], DecodeError> {
        match &self.value {
            Json::Array(items) => Ok(items),
            _ => Err(self.expected(format, what, "an array")),
        }
    }

    /// A string.
    pub fn string(&self, format: &'static str, what: &str) -> Result<&str, DecodeError> {
        match &self.value {
            Json::String(s) => Ok(s),
            _ => Err(self.expected(format, what, "a string")),
        }
    }

    /// A boolean.
    pub fn boolean(&self, format: &'static str, what: &str) -> Result<bool, DecodeError> {
        match self.value {
            Json::Bool(b) => Ok(b),
            _ => Err(self.expected(format, what, "true or false")),
        }
    }

    /// A number as the nearest f64; numbers too large for an f64 are an error.
    pub fn number(&self, format: &'static str, what: &str) -> Result<f64, DecodeError> {
        match self.value {
            Json::Number(text) => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| self.error(format, format!("{what} {text} is out of range"))),
            _ => Err(self.expected(format, what, "a number")),
        }
    }

    /// A number that must be an integer in `T`'s range, read exactly.
    pub fn integer<T: std::str::FromStr>(
        &self,
        format: &'static str,
        what: &str,
    ) -> Result<T, DecodeError> {
        match self.value {
            Json::Number(text) => text.parse::<T>().map_err(|_| {
                self.error(
                    format,
                    format!("{what} must be an integer in range, not {text}"),
                )
            }),
            _ => Err(self.expected(format, what, "an integer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node<'_> {
        parse("test", text, 0).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn parse_err(text: &str) -> DecodeError {
        match parse("test", text, 0) {
            Ok(node) => panic!("{text} parsed as {node:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_nested_values_with_offsets() {
        let node = parse_ok(r#" [ {"a": 1.5e3, "b": [true, null, "x"]}, -0 ] "#);
        let items = node.array("test", "top").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(node.offset, 1);
        assert_eq!(items.len(), 2);
        let members = items[0]
            .object("test", "item")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(members[0].0, "a");
        assert_eq!(members[0].1.number("test", "a").ok(), Some(1500.0));
        assert_eq!(members[0].1.offset, 9);
        assert_eq!(
            items[1].number("test", "x").map(f64::to_bits),
            Ok((-0.0f64).to_bits())
        );
    }

    #[test]
    fn unescapes_strings_including_surrogate_pairs() {
        let node = parse_ok(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00e""#);
        assert_eq!(node.string("test", "s").ok(), Some("a\"b\\c/d\né😀e"));
        let node = parse_ok("\"plain ☃\"");
        assert_eq!(node.string("test", "s").ok(), Some("plain ☃"));
    }

    #[test]
    fn integers_are_exact() {
        let node = parse_ok("1732550400123456789");
        assert_eq!(
            node.integer::<i64>("test", "t").ok(),
            Some(1_732_550_400_123_456_789)
        );
        assert!(parse_ok("1.5").integer::<i64>("test", "t").is_err());
    }

    #[test]
    fn rejects_malformed_documents_with_the_offset() {
        assert_eq!(parse_err("[1,]").offset, 3);
        assert_eq!(parse_err("[1 2]").offset, 3);
        assert_eq!(parse_err(r#"{"a":1,"a":2}"#).offset, 7);
        assert_eq!(parse_err("01").offset, 1);
        assert_eq!(parse_err("1.").offset, 2);
        assert_eq!(parse_err("\"abc").offset, 0);
        assert_eq!(parse_err("\"a\\x\"").offset, 2);
        assert_eq!(parse_err("\"\\ud800\"").offset, 1);
        assert_eq!(parse_err("[] x").offset, 3);
        assert_eq!(parse_err("").offset, 0);
        assert!(parse_err(&"[".repeat(100)).problem.contains("nested"));
        assert!(parse_ok("1e400").number("test", "v").is_err());
    }
}
