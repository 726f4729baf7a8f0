//! The sim board's outputs log: every change of every output as one JSON line, which also
//! models latching hardware across restarts.
//!
//! A line is `{"at_unix_ns": <wall clock>, "output": "fan", "state": "on" | "off" | 0.25}`,
//! with `"inherited": true` when an output opened again starts in the state the log last
//! recorded for it: a relay keeps its level when the process that set it is killed, so a
//! restarted agent finds it as it was, and the log shows that it did.
//!
//! Reading is forgiving (a missing file is empty, a line that does not parse, such as one
//! cut short by a crash, is skipped); writing appends one whole line per change with a
//! single write, so it is in the file (not in a buffer) as soon as the change is made.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use edgewise_sensors::actuator::State;
use serde_json::Value;

/// An append-only JSON-lines file of output changes.
#[derive(Debug)]
pub(crate) struct OutputsLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl OutputsLog {
    /// The log at `path`; nothing is opened until the first line is written.
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file: Mutex::new(None),
        }
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The state of `output` on the last line that records it; `None` for an output the log
    /// has never seen, a missing file, or an unreadable one (the output then starts unknown).
    pub(crate) fn last_state(&self, output: &str) -> Option<State> {
        let text = fs::read_to_string(&self.path).ok()?;
        text.lines().rev().find_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            (value.get("output")?.as_str()? == output)
                .then(|| parse_state(value.get("state")?))
                .flatten()
        })
    }

    /// Appends a change of `output` to `state` (`inherited`: found at open, not set).
    pub(crate) fn append(&self, output: &str, state: State, inherited: bool) -> io::Result<()> {
        let at_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let name = serde_json::to_string(output)?;
        let state = match state {
            State::On => "\"on\"".to_string(),
            State::Off => "\"off\"".to_string(),
            // f32's shortest representation: 0.35, not 0.3499999940395355.
            State::Fraction(fraction) => serde_json::to_string(&fraction)?,
        };
        let inherited = if inherited { ",\"inherited\":true" } else { "" };
        let line = format!(
            "{{\"at_unix_ns\":{at_unix_ns},\"output\":{name},\"state\":{state}{inherited}}}\n"
        );
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if file.is_none() {
            *file = Some(self.open_for_append()?);
        }
        match file.as_mut() {
            Some(file) => file.write_all(line.as_bytes()),
            None => Ok(()),
        }
    }

    /// Opens the file for appending; a last line cut short by a crash is ended first, so the
    /// next line is a line of its own.
    fn open_for_append(&self) -> io::Result<File> {
        // The data directory may not exist yet: outputs are opened before anything else.
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)?;
        let length = file.metadata()?.len();
        if length > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(length - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(file)
    }
}

/// `"on"`, `"off"` or a fraction 0.0..=1.0.
fn parse_state(value: &Value) -> Option<State> {
    match value {
        Value::String(text) if text == "on" => Some(State::On),
        Value::String(text) if text == "off" => Some(State::Off),
        Value::Number(number) => {
            let fraction = number.as_f64()?;
            // A fraction in 0..=1 is exact enough in f32 for a duty.
            #[allow(clippy::cast_possible_truncation)]
            (0.0..=1.0)
                .contains(&fraction)
                .then_some(State::Fraction(fraction as f32))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn temp_log(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "edgewise-outputs-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = fs::remove_file(&path);
        path
    }

    #[test]
    fn lines_round_trip_and_the_last_one_of_an_output_wins() {
        let path = temp_log("round-trip");
        let log = OutputsLog::new(&path);
        assert_eq!(log.last_state("fan"), None, "a missing file is empty");
        log.append("fan", State::On, false).unwrap();
        log.append("lamp", State::Fraction(0.35), false).unwrap();
        log.append("fan", State::Off, true).unwrap();
        assert_eq!(log.last_state("fan"), Some(State::Off));
        assert_eq!(log.last_state("lamp"), Some(State::Fraction(0.35)));
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].ends_with(",\"output\":\"lamp\",\"state\":0.35}"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(",\"output\":\"fan\",\"state\":\"off\",\"inherited\":true}"),
            "{}",
            lines[2]
        );
        let first: Value = serde_json::from_str(lines[0]).unwrap();
        assert!(first["at_unix_ns"].as_u64().unwrap() > 1_600_000_000_000_000_000);
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn corrupt_and_cut_lines_are_skipped_and_ended() {
        let path = temp_log("corrupt");
        fs::write(
            &path,
            "{\"at_unix_ns\":1,\"output\":\"fan\",\"state\":\"on\"}\n\
             not json at all\n\
             {\"at_unix_ns\":2,\"output\":\"fan\",\"state\":\"sideways\"}\n\
             {\"at_unix_ns\":3,\"output\":\"fan\",\"state\":7.5}\n\
             {\"at_unix_ns\":4,\"output\":\"fan\",\"sta",
        )
        .unwrap();
        let log = OutputsLog::new(&path);
        assert_eq!(log.last_state("fan"), Some(State::On));
        log.append("fan", State::Off, false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        // The cut line was ended, so the new one is a line of its own.
        assert!(text.contains("\"sta\n{\"at_unix_ns\":"), "{text}");
        assert_eq!(log.last_state("fan"), Some(State::Off));
        fs::remove_file(&path).unwrap();
    }
}
