//! Real protocol peers on 127.0.0.1 for the link tests: a free port, a process that is killed
//! when the test ends, and the Python with the peer packages (pymodbus, cbor2, paho-mqtt, PyJWT, pycose).
//!
//! Each peer (mosquitto, libcoap's server, a Modbus server) gets its own module under
//! `peers/`; they share what is here.

pub mod coap;
pub mod commands;
pub mod http;
pub mod modbus;
pub mod text_encoder;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::time::{Duration, Instant};

pub mod mosquitto;

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free TCP port on 127.0.0.1: {e}"))
}

/// A UDP port on 127.0.0.1 that nothing is bound to right now.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|socket| socket.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free UDP port on 127.0.0.1: {e}"))
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_tcp(port: u16, within: Duration) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let start = Instant::now();
    while start.elapsed() < within {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("nothing listened on {addr} within {within:?}"))
}

/// A peer process, killed (SIGKILL) and reaped when dropped, so a failing test leaves none
/// behind.
#[derive(Debug)]
pub struct PeerProcess {
    name: String,
    child: Option<Child>,
}

impl PeerProcess {
    /// Starts `command`; `name` is used in messages.
    pub fn spawn(name: &str, mut command: Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        Self {
            name: name.to_string(),
            child: Some(child),
        }
    }

    /// The process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it is still running (it may have exited on a bad configuration).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// How it exited, once it has (without waiting).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// Kills it now and waits for it to go.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Its standard output, when it was spawned with `Stdio::piped()` (once).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.as_mut().and_then(|child| child.stdout.take())
    }

    /// Its name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Python that has the peer packages, from `EDGEWISE_PEERS_PYTHON` (set by
/// `cargo xtask test`), or a panic saying how to get one.
pub fn peers_python() -> PathBuf {
    let python = std::env::var_os("EDGEWISE_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "this test needs a Python with pymodbus<4, cbor2, paho-mqtt, PyJWT, \
                 cryptography and pycose in $EDGEWISE_PEERS_PYTHON: run it through `cargo \
                 xtask test`, which creates target/peers-venv, or `python3 -m venv V && \
                 V/bin/pip install 'pymodbus<4' cbor2 'paho-mqtt<3' PyJWT cryptography pycose` \
                 and set the variable to V/bin/python"
            )
        });
    assert!(
        python.is_file(),
        "$EDGEWISE_PEERS_PYTHON points at {}, which does not exist",
        python.display()
    );
    python
}

/// A fresh directory for one test's files (configs, certificates, databases), removed when
/// dropped.
pub fn scratch_dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("edgewise-{test}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a scratch directory: {e}"))
}
