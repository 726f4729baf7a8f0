//! Encryption at rest: XChaCha20-Poly1305 over each record's payload.
//!
//! Each record gets a fresh random 24-byte nonce (XChaCha's nonce is long enough that random
//! nonces never collide in practice, so no nonce counter has to survive crashes). The associated
//! data is the record's key in the database and its plaintext header, so a record copied under
//! another key, or with its acceptance time edited, fails authentication instead of decoding.
//!
//! Sensor names also key the per-sensor seq table; in an encrypted database that key is an
//! HMAC-SHA256 digest of the name under a key derived from the encryption key, so the file does
//! not list the sensors either.
//!
//! A key check value (a constant sealed with the key) is stored when the database is created;
//! opening it with another key fails at once with a clear error instead of yielding garbage
//! later.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};

use super::codec::{decode_payload, Header, FORMAT_PLAIN_V1, FORMAT_SEALED_V1, HEADER_LEN};
use crate::reading::Reading;

/// Bytes of the random nonce stored in front of each sealed payload.
pub(crate) const NONCE_LEN: usize = 24;
/// Bytes the authentication tag adds.
pub(crate) const TAG_LEN: usize = 16;

const SENSOR_NAME_KEY_LABEL: &[u8] = b"edgewise outbox sensor-name digest key v1";
const KEY_CHECK_PLAINTEXT: &[u8] = b"edgewise outbox key check v1";
const KEY_CHECK_AAD: &[u8] = b"edgewise-outbox-key-check";

/// A 32-byte key for encrypting outbox records at rest.
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a key file: exactly 32 raw bytes, or 64 hexadecimal digits (surrounding whitespace,
    /// such as a trailing newline, is ignored). Anything else is an error naming the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, super::OutboxError> {
        let path = path.as_ref();
        let key_file_error = |reason: String| super::OutboxError::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let contents =
            std::fs::read(path).map_err(|e| key_file_error(format!("cannot read: {e}")))?;
        if let Ok(raw) = <[u8; 32]>::try_from(contents.as_slice()) {
            return Ok(Self(raw));
        }
        let text = contents.trim_ascii();
        if text.len() != 64 {
            return Err(key_file_error(format!(
                "holds {} bytes; expected 32 raw bytes or 64 hexadecimal digits",
                contents.len()
            )));
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => *byte = (high * 16 + low) as u8,
                _ => {
                    return Err(key_file_error(
                        "64 characters but not all hexadecimal digits; expected 32 raw bytes or 64 hexadecimal digits".into(),
                    ))
                }
            }
        }
        Ok(Self(key))
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(..)")
    }
}

/// Seals and opens record payloads with one key.
pub(crate) struct RecordCipher {
    aead: XChaCha20Poly1305,
    /// Keys the sensor-name digests; derived from the key, never the key itself.
    names: ring::hmac::Key,
}

impl fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordCipher(XChaCha20-Poly1305)")
    }
}

impl RecordCipher {
    pub(crate) fn new(key: &EncryptionKey) -> Self {
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key.0);
        let name_key = ring::hmac::sign(&derive, SENSOR_NAME_KEY_LABEL);
        Self {
            aead: XChaCha20Poly1305::new(&Key::from(key.0)),
            names: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, name_key.as_ref()),
        }
    }

    /// A keyed digest of a sensor name (HMAC-SHA256, first 16 bytes): the per-sensor table can
    /// look a sensor up without storing its name in the clear.
    pub(crate) fn sensor_digest(&self, sensor: &str) -> [u8; 16] {
        let tag = ring::hmac::sign(&self.names, sensor.as_bytes());
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&tag.as_ref()[..16]);
        digest
    }

    /// Appends `nonce || ciphertext || tag` of `payload` to `out`, bound to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], payload: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| format!("no random nonce from the OS: {e}"))?;
        let sealed = self
            .aead
            .encrypt(&XNonce::from(nonce), Payload { msg: payload, aad })
            .map_err(|_| "encryption failed".to_string())?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(())
    }

    /// The payload of a body written by [`RecordCipher::seal`] with the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
        let (nonce, sealed) = body
            .split_at_checked(NONCE_LEN)
            .filter(|(_, sealed)| sealed.len() >= TAG_LEN)
            .ok_or("sealed body too short")?;
        let nonce = XNonce::try_from(nonce).map_err(|_| "bad nonce length")?;
        self.aead
            .decrypt(&nonce, Payload { msg: sealed, aad })
            .map_err(|_| {
                "authentication failed (wrong key, or the record was altered or moved)".into()
            })
    }

    /// A value that only this key opens: stored at creation, checked at every open.
    pub(crate) fn key_check(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT, &mut out)?;
        Ok(out)
    }

    /// Whether `stored` was made by [`RecordCipher::key_check`] with this key.
    pub(crate) fn verifies(&self, stored: &[u8]) -> bool {
        self.open(KEY_CHECK_AAD, stored)
            .is_ok_and(|plain| plain == KEY_CHECK_PLAINTEXT)
    }
}

/// How records are written and read: in the clear, or sealed with a [`RecordCipher`].
#[derive(Debug)]
pub(crate) struct Sealer {
    cipher: Option<RecordCipher>,
}

impl Sealer {
    pub(crate) fn new(cipher: Option<RecordCipher>) -> Self {
        Self { cipher }
    }

    pub(crate) fn cipher(&self) -> Option<&RecordCipher> {
        self.cipher.as_ref()
    }

    /// The key of `sensor` in the `sensors` table: its name, or in an encrypted database a keyed
    /// digest of it, so the file does not reveal sensor names.
    pub(crate) fn sensor_key<'a>(&self, sensor: &'a str) -> std::borrow::Cow<'a, [u8]> {
        match &self.cipher {
            None => std::borrow::Cow::Borrowed(sensor.as_bytes()),
            Some(cipher) => std::borrow::Cow::Owned(cipher.sensor_digest(sensor).to_vec()),
        }
    }

    /// The stored record for `payload`, accepted at `accepted_ns`, under key `id`.
    pub(crate) fn seal_record(
        &self,
        id: u64,
        accepted_ns: i64,
        payload: &[u8],
    ) -> Result<Vec<u8>, String> {
        let format = if self.cipher.is_some() {
            FORMAT_SEALED_V1
        } else {
            FORMAT_PLAIN_V1
        };
        let header = Header {
            format,
            accepted_ns,
        }
        .to_bytes();
        let mut record = Vec::with_capacity(HEADER_LEN + NONCE_LEN + payload.len() + TAG_LEN);
        record.extend_from_slice(&header);
        match &self.cipher {
            None => record.extend_from_slice(payload),
            Some(cipher) => cipher.seal(&associated_data(id, &header), payload, &mut record)?,
        }
        Ok(record)
    }

    /// The reading stored as `record` under key `id`.
    pub(crate) fn open_record(&self, id: u64, record: &[u8]) -> Result<Reading, String> {
        let (header, body) = Header::split(record)?;
        match (header.format, &self.cipher) {
            (FORMAT_PLAIN_V1, None) => decode_payload(body),
            (FORMAT_SEALED_V1, Some(cipher)) => {
                let payload = cipher.open(&associated_data(id, &header.to_bytes()), body)?;
                decode_payload(&payload)
            }
            (FORMAT_PLAIN_V1, Some(_)) => Err("a plaintext record in an encrypted database".into()),
            (FORMAT_SEALED_V1, None) => Err("an encrypted record, but no key is configured".into()),
            (other, _) => Err(format!("unknown record format {other}")),
        }
    }
}

/// What a sealed record is bound to: its key in the table and its plaintext header.
fn associated_data(id: u64, header: &[u8; HEADER_LEN]) -> [u8; 8 + HEADER_LEN] {
    let mut aad = [0u8; 8 + HEADER_LEN];
    aad[..8].copy_from_slice(&id.to_le_bytes());
    aad[8..].copy_from_slice(header);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("edgewise-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("scratch dir: {e}"));
        dir
    }

    #[test]
    fn key_files_hold_raw_bytes_or_hex_and_anything_else_names_the_file() {
        let dir = scratch();
        let raw = dir.join("raw.key");
        std::fs::write(&raw, [7u8; 32]).unwrap_or_else(|e| panic!("write: {e}"));
        assert_eq!(
            EncryptionKey::from_file(&raw).map(|k| k.0).ok(),
            Some([7u8; 32])
        );

        let hex = dir.join("hex.key");
        let digits: String = (0..32u8).map(|b| format!("{b:02X}")).collect();
        std::fs::write(&hex, format!("{digits}\n")).unwrap_or_else(|e| panic!("write: {e}"));
        let expected: Vec<u8> = (0..32u8).collect();
        assert_eq!(
            EncryptionKey::from_file(&hex).map(|k| k.0.to_vec()).ok(),
            Some(expected)
        );

        for (name, contents) in [
            ("short.key", b"0123".to_vec()),
            ("nothex.key", vec![b'z'; 64]),
            ("long.key", vec![1u8; 33]),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write: {e}"));
            let message = EncryptionKey::from_file(&path)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(message.contains(name), "{message}");
        }
        let missing = EncryptionKey::from_file(dir.join("missing.key"))
            .map(|_| ())
            .unwrap_err();
        assert!(missing.to_string().contains("missing.key"), "{missing}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn sealed_payloads_open_only_with_the_same_key_and_associated_data() {
        let cipher = RecordCipher::new(&EncryptionKey::from_bytes([1; 32]));
        let mut body = Vec::new();
        cipher
            .seal(b"key-1", b"payload", &mut body)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.len(), NONCE_LEN + 7 + TAG_LEN);
        assert_eq!(cipher.open(b"key-1", &body).ok(), Some(b"payload".to_vec()));
        assert!(cipher.open(b"key-2", &body).is_err(), "moved record opened");
        let other = RecordCipher::new(&EncryptionKey::from_bytes([2; 32]));
        assert!(other.open(b"key-1", &body).is_err(), "wrong key opened");

        let check = cipher.key_check().unwrap_or_else(|e| panic!("{e}"));
        assert!(cipher.verifies(&check));
        assert!(!other.verifies(&check));
    }
}
