//! Appending text to a caller's byte buffer without allocating anything else: numbers in their
//! shortest round-trip form and JSON strings with their escapes. Shared by the JSON, SenML
//! JSON and line protocol encoders.

use std::fmt::{self, Write};

/// A `fmt::Write` over the caller's buffer, so `write!` formats straight into it.
struct Append<'a>(&'a mut Vec<u8>);

impl Write for Append<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends `value` as `Display` writes it (integers: their decimal digits).
pub(crate) fn display(out: &mut Vec<u8>, value: impl fmt::Display) {
    // Appending to a Vec cannot fail, and integer and float formatting never report errors.
    let _ = write!(Append(out), "{value}");
}

/// Appends a finite `value` so that parsing the text gives back exactly the same f64.
///
/// `Display` is the shortest round-trip form but never uses an exponent (1e300 would be 301
/// digits, 5e-324 over 300); outside everyday magnitudes `LowerExp`, also shortest
/// round-trip, keeps it short. Both are valid JSON numbers and line protocol floats, with a
/// lower-case `e` as RFC 8428 asks. Negative zero is `-0.0`: many JSON readers (Python's
/// among them) take `-0` for the integer 0 and lose the sign.
pub(crate) fn float(out: &mut Vec<u8>, value: f64) {
    let magnitude = value.abs();
    if value == 0.0 && value.is_sign_negative() {
        out.extend_from_slice(b"-0.0");
    } else if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        let _ = write!(Append(out), "{value:e}");
    } else {
        display(out, value);
    }
}

/// Appends `s` as a JSON string (RFC 8259): quotes, with `"`, `\` and control characters
/// escaped; everything else, including non-ASCII, as UTF-8.
pub(crate) fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    json_escaped(out, s);
    out.push(b'"');
}

/// Appends the inside of a JSON string for `s`: [`json_string`] without the quotes, so a
/// string can be written from several parts.
pub(crate) fn json_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run_start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        run_start = i + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap_or_else(|e| panic!("not UTF-8: {e}"))
    }

    #[test]
    fn floats_are_short_and_round_trip() {
        for (value, expected) in [
            (21.5, "21.5"),
            (20.0, "20"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e-5, "0.00001"),
            (1.5e-7, "1.5e-7"),
            (1e16, "1e16"),
            (-2.5e300, "-2.5e300"),
            (5e-324, "5e-324"),
            (1_732_550_400.123_456, "1732550400.123456"),
        ] {
            let written = text(|out| float(out, value));
            assert_eq!(written, expected);
            let parsed: f64 = written.parse().unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(parsed.to_bits(), value.to_bits(), "{written}");
        }
        for value in [
            f64::MAX,
            f64::MIN_POSITIVE,
            1.0 / 3.0,
            123_456.789e-3,
            -7.25e-9,
        ] {
            let written = text(|out| float(out, value));
            assert_eq!(written.parse::<f64>().ok(), Some(value), "{written}");
        }
    }

    #[test]
    fn json_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(
            text(|out| json_string(out, "a\"b\\c\nd\te\u{1}f\u{7f}é☃")),
            "\"a\\\"b\\\\c\\nd\\te\\u0001f\u{7f}é☃\""
        );
        assert_eq!(text(|out| json_string(out, "")), "\"\"");
    }
}
