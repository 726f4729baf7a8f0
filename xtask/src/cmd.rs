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
        exit_ok(&description, status)
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

    /// Runs a `cargo test` with its output passed through, adding up the harness's
    /// `test result:` lines. A failing run is a failure after its output was shown.
    pub fn run_counting_tests(mut self, totals: &mut TestTotals) -> Result<(), Fail> {
        use std::io::{BufRead, BufReader};
        let description = self.describe();
        eprintln!("$ {description}");
        let mut child = self
            .0
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Fail(format!("cannot start `{description}`: {e}")))?;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                totals.add_harness_line(&line);
            }
        }
        let status = child
            .wait()
            .map_err(|e| Fail(format!("`{description}` did not finish: {e}")))?;
        exit_ok(&description, status)
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

/// A non-zero exit as a failure naming the command.
fn exit_ok(description: &str, status: std::process::ExitStatus) -> Result<(), Fail> {
    if status.success() {
        Ok(())
    } else {
        Err(Fail(format!("`{description}` failed ({status})")))
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

/// Where cargo puts its builds: `$CARGO_TARGET_DIR` (relative to the workspace root when
/// relative, as cargo reads it) or the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Tests counted across several `cargo test` runs.
#[derive(Debug, Default)]
pub struct TestTotals {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestTotals {
    /// Adds a libtest summary such as
    /// `test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; …`.
    fn add_harness_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(kind), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

impl std::fmt::Display for TestTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        )
    }
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn adds_up_libtest_summaries() {
        let mut totals = TestTotals::default();
        totals.add_harness_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        );
        totals.add_harness_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured");
        totals.add_harness_line("running 12 tests");
        assert_eq!((totals.passed, totals.failed, totals.ignored), (15, 2, 1));
        assert_eq!(totals.to_string(), "15 passed, 2 failed, 1 skipped");
    }
}
