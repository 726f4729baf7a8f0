//! Secrets (passwords, tokens) are named in a config, never written into it.
//!
//! A config file is copied around, committed, attached to bug reports and printed by
//! `edgewise check`, so it holds only *where* a secret is: a file (`{ file = "/etc/…" }`,
//! readable by the agent's user alone) or an environment variable (`{ env = "NAME" }`, e.g.
//! from a systemd credential). An inline string is refused with a message that does not
//! repeat it, and a resolved [`Secret`] prints as `<hidden>` in Debug output.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The contents of a file, without a trailing newline.
    File(PathBuf),
    /// The value of an environment variable.
    Env(String),
}

/// A secret's value. Debug output never shows it; use [`Secret::expose`] where it is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for handing to the transport that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// A secret that could not be read; says where it was looked for, never what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The file cannot be read.
    #[error("cannot read secret file {path}: {problem}")]
    File {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// The variable is not set (or not valid UTF-8).
    #[error("environment variable `{0}` is not set (or not valid UTF-8)")]
    Env(String),
    /// The secret is empty.
    #[error("the secret from {0} is empty")]
    Empty(String),
}

impl SecretSource {
    /// Reads the secret. A file's trailing newline (`echo secret > file`) is not part of it.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let value = match self {
            Self::File(path) => std::fs::read_to_string(path)
                .map_err(|e| SecretError::File {
                    path: path.clone(),
                    problem: e.to_string(),
                })?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            Self::Env(name) => std::env::var(name).map_err(|_| SecretError::Env(name.clone()))?,
        };
        if value.is_empty() {
            return Err(SecretError::Empty(self.to_string()));
        }
        Ok(Secret(value))
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(name) => write!(f, "environment variable `{name}`"),
        }
    }
}

/// What a secret setting must look like; the message for every other shape.
const SECRET_EXPECTED: &str = "a table naming where the secret is: `{ file = \"/path\" }` or \
                               `{ env = \"VARIABLE\" }` (inline secrets are not accepted)";

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;

        // Every visit_* other than a table fails with the same message, which never includes
        // the value: that value may well be the secret itself.
        fn refuse<E: de::Error>() -> E {
            E::custom(format!("expected {SECRET_EXPECTED}"))
        }

        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = SecretSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SECRET_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretSource, E> {
                Err(refuse())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretSource, E> {
                Err(refuse())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretSource, E> {
                Err(refuse())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretSource, E> {
                Err(refuse())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretSource, E> {
                Err(refuse())
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<SecretSource, A::Error> {
                Err(refuse())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSource, A::Error> {
                let mut source = None;
                while let Some(key) = map.next_key::<String>()? {
                    let next = match key.as_str() {
                        "file" => SecretSource::File(map.next_value()?),
                        "env" => SecretSource::Env(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["file", "env"])),
                    };
                    if source.replace(next).is_some() {
                        return Err(de::Error::custom("give either `file` or `env`, not both"));
                    }
                }
                source.ok_or_else(|| de::Error::custom(format!("expected {SECRET_EXPECTED}")))
            }
        }
        deserializer.deserialize_any(SourceVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[allow(dead_code)]
        password: SecretSource,
    }

    #[test]
    fn an_inline_secret_is_refused_without_repeating_it() {
        let error = toml::from_str::<Holder>("password = \"hunter2\"\n").unwrap_err();
        assert_eq!(error.message(), format!("expected {SECRET_EXPECTED}"));
    }

    #[test]
    fn file_and_env_sources() {
        let holder: Holder = toml::from_str("password = { env = \"MQTT_PASSWORD\" }").unwrap();
        assert_eq!(holder.password, SecretSource::Env("MQTT_PASSWORD".into()));
        let holder: Holder = toml::from_str("password = { file = \"/run/secret\" }").unwrap();
        assert_eq!(holder.password, SecretSource::File("/run/secret".into()));
        let error =
            toml::from_str::<Holder>("password = { file = \"/a\", env = \"B\" }").unwrap_err();
        assert_eq!(error.message(), "give either `file` or `env`, not both");
    }

    #[test]
    fn a_resolved_secret_is_hidden_in_debug_output() {
        let dir = std::env::temp_dir().join(format!("edgewise-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("password");
        std::fs::write(&path, "s3cret-value\n").unwrap();
        let secret = SecretSource::File(path.clone()).resolve().unwrap();
        assert_eq!(secret.expose(), "s3cret-value");
        assert_eq!(format!("{secret:?}"), "<hidden>");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_secret_names_where_it_was_looked_for() {
        let error = SecretSource::Env("EDGEWISE_TEST_SURELY_UNSET".into())
            .resolve()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable `EDGEWISE_TEST_SURELY_UNSET` is not set (or not valid UTF-8)"
        );
    }
}
