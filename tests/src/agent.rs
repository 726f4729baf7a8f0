//! Driving the `edgewise` binary from a test: starting it, its HTTP endpoints, signals, and
//! reading what it published.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::edgewise_binary;
use crate::peers::PeerProcess;

/// Writes `text` to `dir/name`; returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// `edgewise run CONFIG --data-dir DATA --quiet EXTRA…`, logging at info.
pub fn agent_command(config: &Path, data_dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(edgewise_binary());
    command
        .arg("run")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--quiet")
        .args(extra)
        .env("EDGEWISE_LOG", "info");
    command
}

/// `GET path` on 127.0.0.1:`port`: the status line and the body.
pub fn http_get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to 127.0.0.1:{port}: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap_or_else(|e| panic!("cannot send GET {path}: {e}"));
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("cannot read the answer to GET {path}: {e}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// Waits until `port` accepts connections; fails if `process` exits first.
pub fn wait_for_port(port: u16, process: &mut PeerProcess) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            process.is_running(),
            "the agent exited before serving /health"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "/health never came up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SenML records, resolved: (name, value) pairs of one message, with the base name applied.
pub fn senml_records(payload: &str) -> Vec<(String, Value)> {
    let records: Vec<Value> = serde_json::from_str(payload)
        .unwrap_or_else(|e| panic!("not a SenML JSON array ({e}): {payload}"));
    let mut base = String::new();
    records
        .iter()
        .map(|record| {
            if let Some(bn) = record.get("bn").and_then(Value::as_str) {
                base = bn.to_string();
            }
            let name = format!(
                "{base}{}",
                record.get("n").and_then(Value::as_str).unwrap_or("")
            );
            let value = record
                .get("v")
                .or_else(|| record.get("vs"))
                .or_else(|| record.get("vb"))
                .cloned()
                .unwrap_or(Value::Null);
            (name, value)
        })
        .collect()
}

/// Sends signal `name` (`TERM`, `HUP`, `KILL`) to the running `process`.
pub fn signal(process: &PeerProcess, name: &str) {
    let pid = process
        .id()
        .unwrap_or_else(|| panic!("{} is not running", process.name()))
        .to_string();
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(status.success(), "kill -{name} {pid}");
}

/// Polls `done` every 50 ms until it holds; fails after `within`.
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
