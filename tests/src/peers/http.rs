//! An HTTP(S) peer on 127.0.0.1: `tests/peers/http_peer.py`, a Python standard-library server
//! that fails the first requests on purpose and records every request it got, and throwaway
//! certificates made with the `openssl` command for its HTTPS mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{free_tcp_port, wait_for_tcp, PeerProcess};
use crate::require_program;

/// How the peer answers.
#[derive(Debug, Clone, Default)]
pub struct HttpPeerOptions {
    /// Answer `fail_status` to this many requests first, then 200.
    pub fail_first: u32,
    /// The status of the failing answers (500 when 0).
    pub fail_status: u16,
    /// Delay the first `delay_first` answers by `delay`.
    pub delay_first: u32,
    /// How long the delayed answers wait.
    pub delay: Duration,
    /// Close kept-alive connections silently after this idle time.
    pub idle_timeout: Option<Duration>,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// One request the peer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The status it answered.
    pub status: u16,
    /// The request target.
    pub path: String,
    /// The Content-Type header.
    pub content_type: String,
    /// The Authorization header ("" when absent).
    pub authorization: String,
    /// The client's TCP port: equal for requests on one kept-alive connection.
    pub client_port: u16,
    /// The body, as received.
    pub body: Vec<u8>,
}

/// A running peer, stopped when dropped.
#[derive(Debug)]
pub struct HttpPeer {
    /// The port it listens on.
    pub port: u16,
    record: PathBuf,
    _process: PeerProcess,
}

impl HttpPeer {
    /// Starts the peer in `dir` (where it keeps its record) and waits until it listens.
    pub fn start(dir: &Path, options: HttpPeerOptions) -> Self {
        let python = require_program("python3", "install Python 3 (`apt-get install python3`)");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/http_peer.py");
        let port = free_tcp_port();
        let record = dir.join(format!("requests-{port}.tsv"));
        let mut command = Command::new(python);
        command
            .arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--record")
            .arg(&record)
            .arg("--fail-first")
            .arg(options.fail_first.to_string())
            .arg("--fail-status")
            .arg(match options.fail_status {
                0 => "500".to_string(),
                status => status.to_string(),
            })
            .arg("--delay-first")
            .arg(options.delay_first.to_string())
            .arg("--delay")
            .arg(options.delay.as_secs_f64().to_string())
            .stdout(Stdio::null());
        if let Some(idle) = options.idle_timeout {
            command
                .arg("--idle-timeout")
                .arg(idle.as_secs_f64().to_string());
        }
        if let Some((cert, key)) = &options.tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let process = PeerProcess::spawn("http_peer.py", command);
        wait_for_tcp(port, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("the HTTP peer did not start: {e}"));
        Self {
            port,
            record,
            _process: process,
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let text = match std::fs::read_to_string(&self.record) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", self.record.display()),
        };
        text.lines()
            .map(|line| {
                let parts: Vec<&str> = line.split('\t').collect();
                assert_eq!(parts.len(), 6, "bad record line {line:?}");
                RecordedRequest {
                    status: parts[0].parse().unwrap_or_else(|e| panic!("{line}: {e}")),
                    path: parts[1].to_string(),
                    content_type: parts[2].to_string(),
                    authorization: parts[3].to_string(),
                    client_port: parts[4].parse().unwrap_or_else(|e| panic!("{line}: {e}")),
                    body: from_hex(parts[5]),
                }
            })
            .collect()
    }
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| {
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .unwrap_or_else(|e| panic!("bad hex {hex:?}: {e}"))
        })
        .collect()
}

/// A throwaway CA and a server certificate it signs for `localhost` and 127.0.0.1 (PEERS.md's
/// recipe): `(ca.crt, server.crt, server.key)` in `dir`, with `name` as the file prefix so
/// several CAs can share a directory.
pub fn throwaway_certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = require_program("openssl", "install OpenSSL (`apt-get install openssl`)");
    let path = |file: &str| dir.join(format!("{name}-{file}"));
    let (ca_key, ca_crt) = (path("ca.key"), path("ca.crt"));
    let (key, csr, crt, ext) = (
        path("server.key"),
        path("server.csr"),
        path("server.crt"),
        path("server.ext"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap_or_else(|e| panic!("{}: {e}", ext.display()));
    let run = |args: &[&std::ffi::OsStr]| {
        let output = Command::new(&openssl)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("openssl: {e}"));
        assert!(
            output.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let subject = format!("/CN=edgewise-test-{name}");
    run(&[
        os("req"),
        os("-x509"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-keyout"),
        ca_key.as_os_str(),
        os("-out"),
        ca_crt.as_os_str(),
        os("-days"),
        os("2"),
        os("-subj"),
        std::ffi::OsStr::new(&subject),
    ]);
    run(&[
        os("req"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-keyout"),
        key.as_os_str(),
        os("-out"),
        csr.as_os_str(),
        os("-subj"),
        os("/CN=localhost"),
    ]);
    run(&[
        os("x509"),
        os("-req"),
        os("-in"),
        csr.as_os_str(),
        os("-CA"),
        ca_crt.as_os_str(),
        os("-CAkey"),
        ca_key.as_os_str(),
        os("-CAcreateserial"),
        os("-out"),
        crt.as_os_str(),
        os("-days"),
        os("2"),
        os("-extfile"),
        ext.as_os_str(),
    ]);
    (ca_crt, crt, key)
}
