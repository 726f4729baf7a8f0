//! mosquitto on 127.0.0.1 for the MQTT tests and benchmark: a broker with a generated
//! configuration (plain, TLS, mutual TLS, passwords), `mosquitto_sub` as an independent
//! subscriber, and a throwaway certificate authority made with the openssl CLI.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use edgewise_link::encode::{DecodeError, EncodeError, Encoder};
use edgewise_link::Reading;

use super::{free_tcp_port, wait_for_tcp, PeerProcess};
use crate::require_program;

const INSTALL: &str = "apt-get install mosquitto mosquitto-clients";

/// How to set up the broker's main listener.
#[derive(Debug, Clone, Default)]
pub struct BrokerOptions {
    /// TLS on the main listener: (CA, server certificate, server key).
    pub tls: Option<(PathBuf, PathBuf, PathBuf)>,
    /// Demand a client certificate signed by the CA (mutual TLS).
    pub require_certificate: bool,
    /// Users and passwords; when set, anonymous clients are refused.
    pub users: Vec<(String, String)>,
    /// `set_tcp_nodelay true`: the broker sends each packet at once instead of holding small
    /// ones back (Nagle) until the client acknowledges the last; mosquitto's default is off.
    pub tcp_nodelay: bool,
}

/// A running mosquitto with a main listener (`port`, as configured) and a plain observer
/// listener (`observer_port`) for `mosquitto_sub`. Killed when dropped.
#[derive(Debug)]
pub struct Mosquitto {
    /// The main listener.
    pub port: u16,
    /// A plain listener on the same broker, for subscribers.
    pub observer_port: u16,
    config: PathBuf,
    process: PeerProcess,
}

impl Mosquitto {
    /// Starts a broker configured by `options`, its files in `dir`.
    pub fn start(dir: &Path, options: &BrokerOptions) -> Self {
        let mosquitto = require_program("mosquitto", INSTALL);
        let port = free_tcp_port();
        let observer_port = free_tcp_port();
        let mut config = format!(
            "user root\npersistence false\nlog_dest file {}\nlog_type all\n",
            dir.join("mosquitto.log").display()
        );
        if options.users.is_empty() {
            config.push_str("allow_anonymous true\n");
        } else {
            let passwords = dir.join("passwords");
            std::fs::write(&passwords, "")
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", passwords.display()));
            let tool = require_program("mosquitto_passwd", INSTALL);
            for (user, password) in &options.users {
                let status = Command::new(&tool)
                    .arg("-b")
                    .arg(&passwords)
                    .args([user, password])
                    .status()
                    .unwrap_or_else(|e| panic!("cannot run mosquitto_passwd: {e}"));
                assert!(status.success(), "mosquitto_passwd -b failed: {status}");
            }
            config.push_str(&format!(
                "allow_anonymous false\npassword_file {}\n",
                passwords.display()
            ));
        }
        if options.tcp_nodelay {
            config.push_str("set_tcp_nodelay true\n");
        }
        config.push_str(&format!("listener {observer_port} 127.0.0.1\n"));
        config.push_str(&format!("listener {port} 127.0.0.1\n"));
        if let Some((ca, cert, key)) = &options.tls {
            config.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
            if options.require_certificate {
                config.push_str("require_certificate true\n");
            }
        }
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let process = spawn(&mosquitto, &path, port);
        Self {
            port,
            observer_port,
            config: path,
            process,
        }
    }

    /// Stops the broker (SIGKILL: it vanishes like a crashed one).
    pub fn stop(&mut self) {
        self.process.kill();
    }

    /// Starts it again with the same configuration, on the same ports.
    pub fn restart(&mut self) {
        self.process.kill();
        let mosquitto = require_program("mosquitto", INSTALL);
        self.process = spawn(&mosquitto, &self.config, self.port);
    }

    /// A `mosquitto_sub` on the observer listener, subscribed to `filter` once this returns.
    pub fn subscribe(&self, filter: &str, credentials: Option<(&str, &str)>) -> Subscriber {
        Subscriber::start(self.observer_port, filter, credentials)
    }
}

fn spawn(mosquitto: &Path, config: &Path, port: u16) -> PeerProcess {
    let mut command = Command::new(mosquitto);
    command
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut process = PeerProcess::spawn("mosquitto", command);
    if let Err(e) = wait_for_tcp(port, Duration::from_secs(5)) {
        let log = config.with_file_name("mosquitto.log");
        panic!(
            "mosquitto did not start (running: {}): {e}; its log {}:\n{}",
            process.is_running(),
            log.display(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    process
}

/// `mosquitto_sub -v`: each message as (topic, payload).
#[derive(Debug)]
pub struct Subscriber {
    messages: mpsc::Receiver<(String, String)>,
    _process: PeerProcess,
}

impl Subscriber {
    fn start(port: u16, filter: &str, credentials: Option<(&str, &str)>) -> Self {
        let tool = require_program("mosquitto_sub", INSTALL);
        // mosquitto_sub buffers its output when it is not a terminal: stdbuf makes it print
        // each line as it happens, so the SUBACK is seen before the test publishes.
        let stdbuf = require_program("stdbuf", "apt-get install coreutils");
        let mut command = Command::new(stdbuf);
        command
            .arg("-oL")
            .arg(tool)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", filter])
            .args(["-q", "1", "-v", "-d"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some((user, password)) = credentials {
            command.args(["-u", user, "-P", password]);
        }
        let mut process = PeerProcess::spawn("mosquitto_sub", command);
        let stdout = process
            .take_stdout()
            .unwrap_or_else(|| panic!("mosquitto_sub has no stdout"));
        let (subscribed_tx, subscribed) = mpsc::channel();
        let (messages_tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // `-d` prints the protocol exchange, each line starting with "Client ".
                if line.starts_with("Client ") {
                    if line.contains("received SUBACK") {
                        subscribed_tx.send(()).ok();
                    }
                    continue;
                }
                if line.starts_with("Subscribed ") {
                    continue;
                }
                let (topic, payload) = line.split_once(' ').unwrap_or((&line, ""));
                if messages_tx
                    .send((topic.to_string(), payload.to_string()))
                    .is_err()
                {
                    break;
                }
            }
        });
        subscribed
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| {
                panic!("mosquitto_sub did not subscribe to `{filter}` on port {port} within 5 s")
            });
        Self {
            messages,
            _process: process,
        }
    }

    /// The next message, if one arrives within `within`.
    pub fn next(&self, within: Duration) -> Option<(String, String)> {
        self.messages.recv_timeout(within).ok()
    }
}

/// A throwaway CA with a server certificate for `localhost`/127.0.0.1, an expired one, and a
/// client certificate, made with the openssl CLI in `dir`.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The server certificate and key.
    pub server: (PathBuf, PathBuf),
    /// A server certificate that expired a day ago, and its key.
    pub expired_server: (PathBuf, PathBuf),
    /// A client certificate and key signed by the CA.
    pub client: (PathBuf, PathBuf),
    /// Another CA that signed nothing here: trusting it means trusting the wrong CA.
    pub other_ca: PathBuf,
}

impl TestPki {
    /// Generates everything in `dir`.
    pub fn generate(dir: &Path) -> Self {
        let openssl = require_program("openssl", "apt-get install openssl");
        let run = |args: &[&str]| {
            let output = Command::new(&openssl)
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
            assert!(
                output.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        for (name, cn) in [("ca", "edge-test-ca"), ("other-ca", "edge-other-ca")] {
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
            ]);
        }
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap_or_else(|e| panic!("cannot write server.ext: {e}"));
        std::fs::write(
            dir.join("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=clientAuth\n",
        )
        .unwrap_or_else(|e| panic!("cannot write client.ext: {e}"));
        // `-days -1` makes a certificate whose validity ended a day before it began.
        for (name, cn, ext, days) in [
            ("server", "localhost", "server.ext", "2"),
            ("expired", "localhost", "server.ext", "-1"),
            ("client", "edge-client", "client.ext", "2"),
        ] {
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                days,
                "-extfile",
                ext,
            ]);
        }
        let pair = |name: &str| {
            (
                dir.join(format!("{name}.crt")),
                dir.join(format!("{name}.key")),
            )
        };
        Self {
            ca: dir.join("ca.crt"),
            server: pair("server"),
            expired_server: pair("expired"),
            client: pair("client"),
            other_ca: dir.join("other-ca.crt"),
        }
    }

    /// The broker options for TLS with `server` as its certificate.
    pub fn broker_tls(&self, server: &(PathBuf, PathBuf)) -> Option<(PathBuf, PathBuf, PathBuf)> {
        Some((self.ca.clone(), server.0.clone(), server.1.clone()))
    }
}

/// A minimal encoder for tests and benchmarks: `sensor seq field=value,...` as one line of
/// text, padded with spaces to at least `min_len` bytes (the benchmark's payload size).
#[derive(Debug, Clone, Default)]
pub struct LineEncoder {
    /// The least payload size in bytes.
    pub min_len: usize,
}

impl Encoder for LineEncoder {
    fn content_type(&self) -> &'static str {
        "text/plain"
    }

    fn encode(&self, batch: &[Reading], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for reading in batch {
            let start = out.len();
            let fields: Vec<String> = reading
                .fields
                .iter()
                .map(|f| match &f.value {
                    edgewise_link::Value::Number(v) => format!("{}={v}", f.channel),
                    edgewise_link::Value::Bool(v) => format!("{}={v}", f.channel),
                    edgewise_link::Value::Text(v) => format!("{}={v}", f.channel),
                })
                .collect();
            out.extend_from_slice(
                format!("{} {} {}", reading.sensor, reading.seq, fields.join(",")).as_bytes(),
            );
            while out.len() - start < self.min_len {
                out.push(b' ');
            }
        }
        Ok(())
    }

    fn decode(&self, _bytes: &[u8]) -> Result<Vec<Reading>, DecodeError> {
        Err(DecodeError {
            format: "test line",
            offset: 0,
            problem: "the test encoder does not decode".into(),
        })
    }
}
