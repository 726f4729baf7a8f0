//! base64url without padding (RFC 4648 section 5, as RFC 7515 section 2 uses it), strict:
//! no padding, no whitespace, no stray bits, so one signature has one encoding.

/// The bytes `text` encodes, or what is wrong with it.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 4 == 1 {
        return Err(format!(
            "{} characters is not a base64url length",
            text.len()
        ));
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for (position, byte) in text.bytes().enumerate() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => {
                return Err(format!(
                    "character {position} ({:?}) is not base64url (padding and `+/` are not \
                     allowed)",
                    char::from(byte)
                ))
            }
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if buffer != 0 {
        return Err("the last character has bits set beyond the data".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc_4648_vectors_in_the_url_alphabet() {
        let cases: [(&str, &[u8]); 7] = [
            ("", b""),
            ("Zg", b"f"),
            ("Zm8", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYg", b"foob"),
            ("Zm9vYmE", b"fooba"),
            ("Zm9vYmFy", b"foobar"),
        ];
        for (text, bytes) in cases {
            assert_eq!(decode(text).as_deref(), Ok(bytes), "{text}");
        }
        assert_eq!(decode("-_8").as_deref(), Ok([0xfb, 0xff].as_slice()));
    }

    #[test]
    fn refuses_padding_other_alphabets_and_stray_bits() {
        assert!(decode("Zg==").is_err());
        assert!(decode("+/8").is_err());
        assert!(decode("Z").is_err());
        assert!(decode("Zh").is_err());
        assert!(decode("Zm 9v").is_err());
    }
}
