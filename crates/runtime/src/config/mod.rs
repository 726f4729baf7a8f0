//! The agent's configuration: one TOML file describing the device, its board, sensors,
//! pipelines, sinks, outbox, health endpoint and log level.
//!
//! Loading goes in three steps, each reporting in the same form
//! (`FILE:LINE:COL: key: message`, see [`ConfigError`]):
//!
//! 1. TOML syntax ([`toml::de::DeTable`], which recovers and reports every syntax error);
//! 2. the shape ([`schema`]: serde with `deny_unknown_fields`), which stops at the first
//!    mismatch because serde does;
//! 3. meaning ([`validate`]): references, names from fixed lists, ranges and combinations,
//!    all of them collected.
//!
//! Positions come from one index of the file's spans (the `spans` module), so a check names
//! a key path and never computes a position itself.
//!
//! ```
//! let config = edgewise_runtime::config::parse(edgewise_runtime::config::DEFAULT_CONFIG, "default")?;
//! assert_eq!(config.board, edgewise_runtime::config::Board::Sim);
//! # Ok::<(), edgewise_runtime::config::LoadError>(())
//! ```

pub mod control;
pub mod drivers;
mod error;
mod link;
pub mod schema;
mod secret;
mod spans;
mod summary;
pub mod units;
pub mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

pub use control::{DailyWindow, ScheduleKind};
pub use error::{ConfigError, LoadError};
pub use link::{SetupError, TransportConfig};
pub use schema::*;
pub use secret::{Secret, SecretError, SecretSource};
pub use units::{ByteSize, HumanDuration};
pub use validate::{Bus, Condition, Limit};

use spans::{line_column, SpanIndex};

/// The built-in configuration (`edgewise run` without a file): the sim board, a BME280
/// environment pipeline and a vibration pipeline with FFT features and an anomaly detector,
/// printing to stdout.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and checks `text`; errors name `file`.
pub fn parse(text: &str, file: &str) -> Result<Config, LoadError> {
    let at = |offset: usize, key: String, message: String| {
        let (line, column) = line_column(text, offset);
        ConfigError {
            file: file.to_string(),
            line,
            column,
            key,
            message,
        }
    };

    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        // After a syntax error the parser resynchronises at the next line; further errors on
        // the same line are usually echoes of the first.
        let mut errors: Vec<ConfigError> = Vec::new();
        for error in &syntax_errors {
            let offset = error.span().map_or(0, |s| s.start);
            let error = at(offset, String::new(), syntax_message(error.message()));
            if errors.last().is_none_or(|last| last.line != error.line) {
                errors.push(error);
            }
        }
        return Err(LoadError::Invalid(errors));
    }

    let index = SpanIndex::new(&document);
    let config = Config::deserialize(toml::de::Deserializer::from(document)).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        // A missing key is reported with the span of the table that lacks it (the whole
        // file for the top level); anything else at the key or value it concerns.
        let path = if e.message().starts_with("missing field") {
            index.path_spanning(&span).unwrap_or("")
        } else {
            index.path_at(span.start)
        };
        let (key, message) = error::explain(e.message(), path);
        let offset = span.start;
        LoadError::Invalid(vec![at(offset, key, message)])
    })?;

    let mut errors: Vec<ConfigError> = validate::check(&config)
        .into_iter()
        .map(|issue| {
            let offset = index.value_span(&issue.path).map_or(0, |s| s.start);
            at(offset, issue.path, issue.message)
        })
        .collect();
    if errors.is_empty() {
        return Ok(config);
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(LoadError::Invalid(errors))
}

/// toml's syntax messages are several lines (the problem, then what was expected); one line
/// reads better after `FILE:LINE:COL:`.
fn syntax_message(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The built-in configuration, parsed.
pub fn default_config() -> Result<Config, LoadError> {
    parse(DEFAULT_CONFIG, "<built-in config>")
}
