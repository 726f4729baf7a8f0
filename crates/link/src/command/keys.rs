//! The key a device verifies commands with: an Ed25519 public key (the operator keeps the
//! private key, the device cannot sign) or a shared HMAC-SHA256 secret.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::SubjectPublicKeyInfoDer;

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING (0 unused bits) }, followed by the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The shortest HMAC key accepted: RFC 7518 section 3.2 requires a key as long as the hash.
pub const MIN_HMAC_KEY_BYTES: usize = 32;

/// What a device verifies command signatures with.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyKey {
    /// An Ed25519 public key (JWS `EdDSA`, COSE_Sign1 alg -8).
    Ed25519([u8; 32]),
    /// A shared HMAC-SHA256 secret (JWS `HS256`, COSE_Mac0 alg 5), at least
    /// [`MIN_HMAC_KEY_BYTES`] long when made by [`VerifyKey::hmac_sha256`].
    HmacSha256(Vec<u8>),
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyKey::Ed25519(key) => f.debug_tuple("Ed25519").field(key).finish(),
            // A secret: never in logs.
            VerifyKey::HmacSha256(key) => write!(f, "HmacSha256(<{} bytes hidden>)", key.len()),
        }
    }
}

/// A key that cannot be used, naming the file (when there is one) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", source_prefix(.path))]
pub struct KeyError {
    /// The key file, if the key came from one.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub problem: String,
}

fn source_prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|path| format!("command key file {}: ", path.display()))
        .unwrap_or_else(|| "command key: ".into())
}

impl VerifyKey {
    /// A shared secret for HMAC-SHA256; refused when shorter than [`MIN_HMAC_KEY_BYTES`].
    pub fn hmac_sha256(secret: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        let secret = secret.into();
        if secret.len() < MIN_HMAC_KEY_BYTES {
            return Err(KeyError {
                path: None,
                problem: format!(
                    "an HMAC-SHA256 key must be at least {MIN_HMAC_KEY_BYTES} bytes (RFC 7518 \
                     section 3.2), this one has {}",
                    secret.len()
                ),
            });
        }
        Ok(VerifyKey::HmacSha256(secret))
    }

    /// An Ed25519 public key from a file: PEM (`-----BEGIN PUBLIC KEY-----`, as `openssl pkey
    /// -pubout` writes it) or the 32 raw key bytes.
    pub fn ed25519_from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let error = |problem: String| KeyError {
            path: Some(path.to_path_buf()),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        Self::ed25519_from_bytes(&bytes).map_err(|e| error(e.problem))
    }

    /// An Ed25519 public key from a file's contents: PEM or 32 raw bytes.
    pub fn ed25519_from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let error = |problem: String| KeyError {
            path: None,
            problem,
        };
        if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
            return Ok(VerifyKey::Ed25519(raw));
        }
        let text = String::from_utf8_lossy(bytes);
        if text.contains("PRIVATE KEY-----") {
            return Err(error(
                "this is a private key; the device needs only the public key (`openssl pkey \
                 -in private.pem -pubout -out public.pem`), keep the private key with the \
                 operator"
                    .into(),
            ));
        }
        if !text.contains("-----BEGIN") {
            return Err(error(format!(
                "neither a PEM public key (`-----BEGIN PUBLIC KEY-----`) nor 32 raw key bytes \
                 ({} bytes)",
                bytes.len()
            )));
        }
        let spki = SubjectPublicKeyInfoDer::from_pem_slice(bytes).map_err(|e| {
            error(format!(
                "no `-----BEGIN PUBLIC KEY-----` block can be read ({e})"
            ))
        })?;
        Self::ed25519_from_spki(spki.as_ref()).map_err(|e| error(e.problem))
    }

    /// An Ed25519 public key from DER SubjectPublicKeyInfo (RFC 8410).
    pub fn ed25519_from_spki(der: &[u8]) -> Result<Self, KeyError> {
        match der.strip_prefix(ED25519_SPKI_PREFIX.as_slice()) {
            Some(key) => <[u8; 32]>::try_from(key)
                .map(VerifyKey::Ed25519)
                .map_err(|_| KeyError {
                    path: None,
                    problem: format!("the Ed25519 key has {} bytes, not 32", key.len()),
                }),
            None => Err(KeyError {
                path: None,
                problem: format!(
                    "a public key of another type ({}); commands are verified with Ed25519 \
                     (`openssl genpkey -algorithm ed25519`) or an HMAC key",
                    spki_algorithm(der)
                ),
            }),
        }
    }

    /// The kind, for messages: `Ed25519` or `HMAC-SHA256`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyKey::Ed25519(_) => "Ed25519",
            VerifyKey::HmacSha256(_) => "HMAC-SHA256",
        }
    }
}

/// The algorithm a SubjectPublicKeyInfo names, as far as we can tell, for the error message.
fn spki_algorithm(der: &[u8]) -> &'static str {
    let contains = |oid: &[u8]| der.windows(oid.len()).any(|window| window == oid);
    if contains(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]) {
        "RSA"
    } else if contains(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]) {
        "EC (ECDSA)"
    } else if contains(&[0x06, 0x03, 0x2b, 0x65, 0x6e]) {
        "X25519, a key-agreement key"
    } else if contains(&[0x06, 0x03, 0x2b, 0x65, 0x71]) {
        "Ed448"
    } else {
        "not recognised"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8410 section 10.1: an Ed25519 public key in PEM.
    const RFC8410_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
        -----END PUBLIC KEY-----\n";

    #[test]
    fn reads_the_rfc_8410_public_key() {
        let key =
            VerifyKey::ed25519_from_bytes(RFC8410_PEM.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let VerifyKey::Ed25519(bytes) = key else {
            panic!("not Ed25519")
        };
        assert_eq!(&bytes[..4], &[0x19, 0xbf, 0x44, 0x09]);
    }

    #[test]
    fn explains_wrong_keys_with_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("operator.pem");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let error = VerifyKey::ed25519_from_file(&path)
            .err()
            .map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(error.starts_with(&format!("command key file {}: ", path.display())));
        assert!(error.contains("private key"), "{error}");

        // An EC P-256 public key (RFC 9500 section 2.3's test key, its SPKI header).
        let ec = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        let error = VerifyKey::ed25519_from_spki(&ec)
            .err()
            .map(|e| e.to_string());
        assert!(error.unwrap_or_default().contains("EC (ECDSA)"));

        let missing = dir.path().join("missing.pem");
        let error = VerifyKey::ed25519_from_file(&missing)
            .err()
            .map(|e| e.to_string());
        assert!(error.unwrap_or_default().contains("cannot read it"));

        assert!(VerifyKey::ed25519_from_bytes(b"hello").is_err());
        assert!(VerifyKey::hmac_sha256(vec![7; 16]).is_err());
        assert!(VerifyKey::hmac_sha256(vec![7; 32]).is_ok());
        assert_eq!(
            format!("{:?}", VerifyKey::HmacSha256(vec![1; 32])),
            "HmacSha256(<32 bytes hidden>)"
        );
    }
}
