//! libcoap's example server (`coap-server-notls`, Debian's libcoap3-bin) on 127.0.0.1, and its
//! client to read back what was stored.
//!
//! Started with `-d N`, the server creates a resource for each PUT or POST to an unknown path
//! and stores the payload; a GET returns the last payload stored (PUT and POST both replace
//! it). `-l 30%` makes it drop that share of the datagrams it sends, acknowledgements included.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{free_udp_port, PeerProcess};
use crate::require_program;

const INSTALL: &str = "install libcoap's tools (`apt-get install libcoap3-bin`)";

/// A running `coap-server-notls`, stopped when dropped.
#[derive(Debug)]
pub struct CoapServer {
    /// Its UDP port.
    pub port: u16,
    process: PeerProcess,
}

impl CoapServer {
    /// Starts the server with room for `max_resources` created resources, dropping `loss` of
    /// its datagrams (`"30%"`) when given, and waits until it answers.
    pub fn start(max_resources: u32, loss: Option<&str>) -> Self {
        let server = require_program("coap-server-notls", INSTALL);
        let port = free_udp_port();
        let mut command = Command::new(server);
        command
            .args(["-A", "127.0.0.1", "-p", &port.to_string()])
            .args(["-d", &max_resources.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(loss) = loss {
            command.args(["-l", loss]);
        }
        let mut peer = Self {
            port,
            process: PeerProcess::spawn("coap-server-notls", command),
        };
        peer.wait_until_ready();
        peer
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!(
            "coap://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// GETs `path` with `coap-client-notls` and returns the payload, or the error the client
    /// printed (it exits 0 even on failure, so the output is what tells).
    pub fn get(&self, path: &str, dir: &Path) -> Result<Vec<u8>, String> {
        let client = require_program("coap-client-notls", INSTALL);
        let out = dir.join(format!("get-{}.bin", self.port));
        std::fs::remove_file(&out).ok();
        let output = Command::new(client)
            // -B: give up after 5 s; -o: the payload, byte for byte, into a file.
            .args(["-m", "get", "-B", "5", "-o"])
            .arg(&out)
            .arg(self.url(path))
            .output()
            .map_err(|e| format!("cannot run coap-client-notls: {e}"))?;
        match std::fs::read(&out) {
            Ok(payload) => Ok(payload),
            Err(_) => Err(format!(
                "GET {path} returned no payload: {}{}",
                String::from_utf8_lossy(&output.stdout).trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        }
    }

    fn wait_until_ready(&mut self) {
        // Ask for a resource the example server always has until it answers.
        let dir = std::env::temp_dir();
        for _ in 0..50 {
            assert!(
                self.process.is_running(),
                "coap-server-notls exited at start (port {})",
                self.port
            );
            if self.get("time", &dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("coap-server-notls did not answer on port {}", self.port);
    }
}
