//! Running commands with clear failures.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A failure with the message the user sees.
#[derive(Debug)]
pub struct Fail(pub String);

/// A command to run, echoed before it runs.
pub struct Cmd(Command);

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self(Command::new(program))
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    pub fn arg_path(mut self, path: &std::path::Path) -> Self {
        self.0.arg(path);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        for (key, value) in self.0.get_envs() {
            if let Some(value) = value {
                text += &format!("{}={} ", key.to_string_lossy(), value.to_string_lossy());
            }
        }
        text += &self.0.get_program().to_string_lossy();
        for arg in self.0.get_args() {
            text += " ";
            text += &arg.to_string_lossy();
        }
        text
    }

    /// Runs with inherited output; a non-zero exit is a failure naming the command.
    pub fn run(mut self) -> Result<(), Fail> {
        let description = self.describe();
        eprintln!("$ {description}");
        let status = self
            .0
            .status()
            .map_err(|e| Fail(format!("cannot start `{description}`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Fail(format!("`{description}` failed ({status})")))
        }
    }

    /// Runs and returns stdout (stderr passes through); a non-zero exit is a failure.
    pub fn output(mut self) -> Result<String, Fail> {
        let description = self.describe();
        eprintln!("$ {description}");
        let out = self
            .0
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| Fail(format!("cannot start `{description}`: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(Fail(format!(
                "`{description}` failed ({}):\n{stdout}",
                out.status
            )))
        }
    }

    /// Runs quietly and reports only whether it succeeded (for probes).
    pub fn succeeds(mut self) -> bool {
        self.0
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs quietly and returns stdout when it succeeded (for probes).
    pub fn probe(mut self) -> Option<String> {
        let out = self.0.stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The cargo that runs xtask (`$CARGO`), so the same toolchain builds everything.
pub fn cargo(args: &[&str]) -> Cmd {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Cmd::new(cargo).args(args)
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
