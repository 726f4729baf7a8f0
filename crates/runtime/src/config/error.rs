//! Config errors as a user reads them: `FILE:LINE:COL: key: message`.
//!
//! serde's messages are written for programmers (`invalid type: string "x", expected u8`,
//! `unknown field`); [`explain`] rewrites them in the file's terms (integer, table, key) and
//! adds a close match for a misspelt key or value. Messages never quote the source line: a
//! line may hold a secret someone pasted by mistake.

use std::fmt;
use std::path::PathBuf;

/// One problem in a config file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The key path (`pipelines[1].sinks[0]`); empty for the top level or a syntax error.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("{}: cannot read the configuration: {problem}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// The file has errors, all of them listed (one per line when displayed).
    #[error("{}", display_all(.0))]
    Invalid(Vec<ConfigError>),
}

fn display_all(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl LoadError {
    /// The individual errors (none for an unreadable file).
    pub fn errors(&self) -> &[ConfigError] {
        match self {
            Self::Read { .. } => &[],
            Self::Invalid(errors) => errors,
        }
    }
}

/// A serde/toml message rewritten for the file's author, and the key path it concerns
/// (`path`, the innermost key at the error's position, is extended for a missing key).
pub(crate) fn explain(message: &str, path: &str) -> (String, String) {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, allowed) = split_expected(rest);
        // The error points at the unknown key itself: report it at its table.
        let table = path
            .strip_suffix(&spans_join_suffix(&name))
            .unwrap_or(path)
            .to_string();
        return (table, unknown("key", &name, &allowed));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (name, allowed) = split_expected(rest);
        return (path.to_string(), unknown("value", &name, &allowed));
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return (
            path.to_string(),
            format!("missing required key {}", rest.trim()),
        );
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.split_once(", expected ") {
                return (
                    path.to_string(),
                    format!(
                        "expected {}, found {}",
                        describe_expected(expected),
                        describe_found(found)
                    ),
                );
            }
        }
    }
    (path.to_string(), message.to_string())
}

/// The `.name` a path ends with for key `name`.
fn spans_join_suffix(name: &str) -> String {
    let joined = super::spans::join("x", name);
    joined[1..].to_string()
}

/// Splits "`name`, expected one of `a`, `b`" into the name and the allowed names.
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let (name, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let name = name.trim().trim_matches('`').to_string();
    let allowed = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    (name, allowed)
}

/// "unknown key `intervl`, did you mean `interval`?" or the list of what is allowed.
pub(crate) fn unknown(what: &str, name: &str, allowed: &[String]) -> String {
    if let Some(close) = closest(name, allowed.iter().map(String::as_str)) {
        return format!("unknown {what} `{name}`, did you mean `{close}`?");
    }
    match allowed {
        [] => format!("unknown {what} `{name}`: this table takes no keys"),
        [only] => format!("unknown {what} `{name}`, expected `{only}`"),
        _ => format!(
            "unknown {what} `{name}`, expected one of: {}",
            allowed.join(", ")
        ),
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely misspelling: at
/// most a third of its characters differ, at least one for names of three or more (a
/// one-letter name is "close" to every other one-letter name, which helps nobody).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    if length < 3 {
        return None;
    }
    let limit = (length / 3).max(1);
    candidates
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// Edit distance in characters, counting a swap of two neighbours as one edit (the usual
/// typo: `evn` for `env`): the optimal string alignment distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// serde's "expected" in TOML terms.
fn describe_expected(expected: &str) -> String {
    match expected {
        "u8" => "an integer from 0 to 255".into(),
        "u16" => "an integer from 0 to 65535".into(),
        "u32" | "u64" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array".into(),
        "a map" => "a table".into(),
        "path string" => "a path (a string)".into(),
        other if other.starts_with("struct ") => "a table".into(),
        other if other.starts_with("variant identifier") => "a string".into(),
        other if other.starts_with("enum ") => "a string".into(),
        other => other.into(),
    }
}

/// serde's "unexpected" in TOML terms.
fn describe_found(found: &str) -> String {
    if let Some(value) = found.strip_prefix("integer ") {
        return format!("integer {}", value.trim_matches('`'));
    }
    if let Some(value) = found.strip_prefix("floating point ") {
        return format!("number {}", value.trim_matches('`'));
    }
    if let Some(value) = found.strip_prefix("boolean ") {
        return format!("boolean {}", value.trim_matches('`'));
    }
    match found {
        "map" => "a table".into(),
        "sequence" => "an array".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches() {
        let keys = ["name", "driver", "bus", "address", "channels", "interval"];
        assert_eq!(closest("intervl", keys.into_iter()), Some("interval"));
        assert_eq!(closest("adress", keys.into_iter()), Some("address"));
        assert_eq!(closest("colour", keys.into_iter()), None);
        assert_eq!(closest("y", ["x"].into_iter()), None);
        assert_eq!(closest("evn", ["env", "imu"].into_iter()), Some("env"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("evn", "env"), 1);
    }

    #[test]
    fn serde_messages_in_the_files_terms() {
        assert_eq!(
            explain(
                "unknown field `intervl`, expected one of `name`, `interval`",
                "sensors[0].intervl"
            ),
            (
                "sensors[0]".into(),
                "unknown key `intervl`, did you mean `interval`?".into()
            )
        );
        assert_eq!(
            explain(
                "unknown field `colour`, expected one of `name`, `interval`",
                "sensors[0].colour"
            ),
            (
                "sensors[0]".into(),
                "unknown key `colour`, expected one of: name, interval".into()
            )
        );
        assert_eq!(
            explain(
                "invalid type: string \"0x76\", expected u8",
                "sensors[0].address"
            )
            .1,
            "expected an integer from 0 to 255, found string \"0x76\""
        );
        assert_eq!(
            explain(
                "invalid value: integer `300`, expected u8",
                "sensors[0].address"
            )
            .1,
            "expected an integer from 0 to 255, found integer 300"
        );
        assert_eq!(
            explain("missing field `driver`", "sensors[0]"),
            ("sensors[0]".into(), "missing required key `driver`".into())
        );
    }
}
