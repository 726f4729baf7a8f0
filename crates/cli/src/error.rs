//! The one error type every subcommand returns: a message for the user.

use std::fmt;

/// A failure to report to the user: what went wrong and where, in words.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}
