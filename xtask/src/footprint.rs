//! `cargo xtask bench footprint`: the edgewise agent beside the same pipeline in plain Python
//! (`tests/footprint/pipeline.py`), measured the same way in one run.
//!
//! Each side publishes to its own mosquitto on a free loopback port for `--seconds` (60 by
//! default). Measured from outside the process, from /proc: resident memory (VmRSS) after that
//! time and its peak (VmHWM), CPU seconds (utime + stime of all threads) scaled to an hour,
//! wake-ups per second (voluntary and involuntary context switches of every live thread), and
//! the time from spawning the process to the first message an independent `mosquitto_sub`
//! receives. Then the stripped release binary sizes per board.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::boards::{self, Board};
use crate::cmd::{cargo, target_dir, workspace_root, Cmd, Fail};
use crate::dist::human_size;
use crate::install;

/// `--seconds N` (default 60) and `--no-sizes` (skip the release builds for binary sizes).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seconds: u64,
    pub sizes: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, Fail> {
        let mut options = Self {
            seconds: 60,
            sizes: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--seconds" => {
                    let value = it.next().ok_or_else(|| Fail("--seconds needs a value".into()))?;
                    options.seconds = value
                        .parse()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| Fail(format!("--seconds {value}: expected whole seconds > 0")))?;
                }
                "--no-sizes" => options.sizes = false,
                other => {
                    return Err(Fail(format!(
                        "bench footprint: unexpected argument `{other}` (expected --seconds N, --no-sizes)"
                    )))
                }
            }
        }
        Ok(options)
    }
}

/// What was measured of one process.
#[derive(Debug, Clone)]
struct Footprint {
    rss_kib: u64,
    hwm_kib: u64,
    cpu_seconds: f64,
    context_switches: u64,
    /// Spawn to the subscriber's first message.
    first_delivered: Option<Duration>,
    messages: usize,
    /// The process's own report, if it makes one (the Python pipeline's `first-delivered`).
    self_reported: Option<String>,
}

/// Runs both sides and prints the table. The Python side is measured even when the agent
/// cannot run; the agent's failure is returned after the table.
pub fn bench(options: Options) -> Result<(), Fail> {
    install::protocol_peers()?;
    let python = install::footprint_python()?;
    let dir = target_dir().join("footprint");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Fail(format!("cannot clear {}: {e}", dir.display())))?;
    }
    create_dir(&dir)?;
    let seconds = options.seconds;

    let python_side = {
        let broker = Broker::start(&dir.join("python-broker"))?;
        let mut command = Command::new(&python);
        command
            .arg(workspace_root().join("tests/footprint/pipeline.py"))
            .args(["--host", "127.0.0.1", "--port"])
            .arg(broker.port.to_string())
            .args(["--for", &(seconds + 30).to_string()]);
        measure(
            "python",
            command,
            &dir,
            &broker,
            "footprint/python-pipeline/#",
            seconds,
        )?
    };

    let agent_side =
        agent_command(&dir, "edgewise-mqtt.toml", seconds).and_then(|(command, broker)| {
            measure(
                "edgewise",
                command,
                &dir,
                &broker,
                "footprint/edgewise-agent/#",
                seconds,
            )
        });
    // The same measurement with one sensor read once a second: how often the agent wakes.
    let one_hz = agent_command(&dir, "edgewise-1hz.toml", seconds).and_then(|(command, broker)| {
        measure(
            "edgewise-1hz",
            command,
            &dir,
            &broker,
            "footprint/edgewise-agent/#",
            seconds,
        )
    });

    let sizes = if options.sizes {
        binary_sizes()?
    } else {
        Vec::new()
    };
    print_table(
        seconds,
        agent_side.as_ref().ok(),
        &python_side,
        &sizes,
        &python,
    );
    if let Ok(one_hz) = &one_hz {
        println!(
            "\nAt a 1 Hz sampling config (tests/footprint/edgewise-1hz.toml): {:.2} wake-ups per \
             second (context switches of all threads), {:.1} CPU seconds per hour, {} resident.",
            one_hz.context_switches as f64 / seconds as f64,
            one_hz.cpu_seconds * 3600.0 / seconds as f64,
            human_size(one_hz.rss_kib * 1024)
        );
    }
    agent_side.and(one_hz).map(drop)
}

/// `target/release/edgewise run tests/footprint/edgewise-mqtt.toml --for Ns --data-dir DIR`
/// against its own broker; a clear failure while `edgewise run` does not exist.
fn agent_command(dir: &Path, config_name: &str, seconds: u64) -> Result<(Command, Broker), Fail> {
    cargo(&["build", "--release", "-p", "edgewise"]).run()?;
    let binary = target_dir().join("release/edgewise");
    if !Cmd::new(&binary).args(["run", "--help"]).succeeds() {
        return Err(Fail(format!(
            "`{} run` is not available in this build: the agent column stays empty until the \
             `run` subcommand lands",
            binary.display()
        )));
    }
    let name = config_name.trim_end_matches(".toml");
    let broker = Broker::start(&dir.join(format!("{name}-broker")))?;
    let template_path = workspace_root().join("tests/footprint").join(config_name);
    let template = std::fs::read_to_string(&template_path)
        .map_err(|e| Fail(format!("cannot read {}: {e}", template_path.display())))?;
    let config = substitute_once(&template, "port = 1883", &format!("port = {}", broker.port))
        .and_then(|c| substitute_once(&c, "127.0.0.1:9464", &format!("127.0.0.1:{}", free_port()?)))
        .map_err(|Fail(e)| Fail(format!("{}: {e}", template_path.display())))?;
    let data_dir = dir.join(format!("{name}-data"));
    create_dir(&data_dir)?;
    let config_path = dir.join(config_name);
    std::fs::write(&config_path, config)
        .map_err(|e| Fail(format!("cannot write {}: {e}", config_path.display())))?;
    let mut command = Command::new(binary);
    command
        .arg("run")
        .arg(&config_path)
        .args(["--for", &format!("{}s", seconds + 30), "--data-dir"])
        .arg(&data_dir)
        .current_dir(&data_dir);
    Ok((command, broker))
}

/// `text` with the one occurrence of `placeholder` replaced.
fn substitute_once(text: &str, placeholder: &str, value: &str) -> Result<String, Fail> {
    match text.matches(placeholder).count() {
        1 => Ok(text.replacen(placeholder, value, 1)),
        n => Err(Fail(format!(
            "expected `{placeholder}` exactly once (the benchmark substitutes it), found {n}"
        ))),
    }
}

/// Runs `command` for `seconds` with a subscriber on `topic` watching, reads its footprint
/// from /proc, then stops it with SIGTERM.
fn measure(
    label: &str,
    mut command: Command,
    dir: &Path,
    broker: &Broker,
    topic: &str,
    seconds: u64,
) -> Result<Footprint, Fail> {
    let subscriber = Subscriber::start(broker.port, topic)?;
    let stdout_path = dir.join(format!("{label}.stdout"));
    let stderr_path = dir.join(format!("{label}.stderr"));
    let started = Instant::now();
    let mut child = command
        .stdout(create_file(&stdout_path)?)
        .stderr(create_file(&stderr_path)?)
        .spawn()
        .map_err(|e| Fail(format!("cannot start {label} ({command:?}): {e}")))?;
    eprintln!(
        "$ {command:?}  (pid {}, measured for {seconds} s)",
        child.id()
    );
    let mut process = Running {
        child: &mut child,
        label,
        stderr_path: &stderr_path,
    };

    std::thread::sleep(Duration::from_secs(seconds));
    process.still_running()?;
    let pid = process.child.id();
    let status = read_proc(&format!("/proc/{pid}/status"))?;
    let stat = read_proc(&format!("/proc/{pid}/stat"))?;
    let rss_kib = status_kib(&status, "VmRSS:")?;
    let hwm_kib = status_kib(&status, "VmHWM:")?;
    let cpu_seconds = cpu_seconds(&stat)?;
    let context_switches = context_switches(pid)?;
    process.stop()?;

    let (first_delivered, messages) = subscriber.finish(started);
    let self_reported = std::fs::read_to_string(&stdout_path).ok().and_then(|out| {
        out.lines()
            .find(|l| l.starts_with("first-delivered"))
            .map(String::from)
    });
    Ok(Footprint {
        rss_kib,
        hwm_kib,
        cpu_seconds,
        context_switches,
        first_delivered,
        messages,
        self_reported,
    })
}

/// The measured child; killed if the measurement fails half-way.
struct Running<'a> {
    child: &'a mut Child,
    label: &'a str,
    stderr_path: &'a Path,
}

impl Running<'_> {
    fn still_running(&mut self) -> Result<(), Fail> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Fail(format!(
                "{} exited early ({status}); its stderr:\n{}",
                self.label,
                std::fs::read_to_string(self.stderr_path).unwrap_or_default()
            ))),
            Err(e) => Err(Fail(format!("cannot wait for {}: {e}", self.label))),
        }
    }

    /// SIGTERM, then up to 20 s for a clean exit (the agent flushes), then SIGKILL.
    fn stop(&mut self) -> Result<(), Fail> {
        Cmd::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .run()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("{} stopped: {status}", self.label);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop within 20 s of SIGTERM: killed", self.label);
        Ok(())
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `mosquitto_sub` on a topic, independent of the measured process. It is known to be
/// subscribed once a probe message published on the topic comes back; after that, the first
/// other message is the first delivered reading.
struct Subscriber {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

const PROBE: &str = "footprint-probe";

impl Subscriber {
    fn start(port: u16, topic: &str) -> Result<Self, Fail> {
        let mut child = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-q",
                "1",
                "-t",
                topic,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Fail(format!("cannot start mosquitto_sub: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Fail("mosquitto_sub has no stdout".into()))?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let probe_topic = topic.replace('#', "probe");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            // A failed publish is retried like a probe that did not come back.
            let _ = Cmd::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    &probe_topic,
                    "-m",
                    PROBE,
                ])
                .succeeds();
            if let Ok((_, line)) = lines.recv_timeout(Duration::from_millis(200)) {
                if line == PROBE {
                    // Drain probes still in flight.
                    while lines.recv_timeout(Duration::from_millis(100)).is_ok() {}
                    return Ok(Self { child, lines });
                }
            }
        }
        let _ = child.kill();
        Err(Fail(format!(
            "mosquitto_sub on port {port} never received its probe"
        )))
    }

    /// Time from `started` to the first message, and how many arrived.
    fn finish(mut self, started: Instant) -> (Option<Duration>, usize) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let received: Vec<Instant> = self
            .lines
            .try_iter()
            .filter(|(_, line)| line != PROBE)
            .map(|(at, _)| at)
            .collect();
        let first = received
            .first()
            .map(|at| at.saturating_duration_since(started));
        (first, received.len())
    }
}

/// mosquitto on a free loopback port, killed when dropped.
struct Broker {
    port: u16,
    child: Child,
}

impl Broker {
    fn start(dir: &Path) -> Result<Self, Fail> {
        create_dir(dir)?;
        let port = free_port()?;
        let config = dir.join("mosquitto.conf");
        // `user root`: run as whoever started it (as root it would switch to `mosquitto`).
        let text = format!(
            "user root\npersistence false\nallow_anonymous true\nlistener {port} 127.0.0.1\n\
             max_queued_messages 0\nlog_dest file {}\n",
            dir.join("mosquitto.log").display()
        );
        std::fs::write(&config, text)
            .map_err(|e| Fail(format!("cannot write {}: {e}", config.display())))?;
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Fail(format!("cannot start mosquitto: {e}")))?;
        let broker = Self { port, child };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(Fail(format!(
                    "mosquitto did not listen on port {port} within 5 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(broker)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, Fail> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Fail(format!("no free port on 127.0.0.1: {e}")))
}

fn read_proc(path: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail(format!("cannot read {path}: {e}")))
}

/// A `Name:  1234 kB` line of /proc/PID/status.
fn status_kib(status: &str, key: &str) -> Result<u64, Fail> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| Fail(format!("no `{key}` in /proc/PID/status")))
}

/// utime + stime of /proc/PID/stat (every thread's, live and exited), in seconds.
fn cpu_seconds(stat: &str) -> Result<f64, Fail> {
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| Fail("unexpected /proc/PID/stat".into()))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat; 3 is the first after the name.
    let ticks = |index: usize| -> Result<u64, Fail> {
        fields
            .get(index - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| Fail(format!("no field {index} in /proc/PID/stat")))
    };
    let clock_ticks: f64 = Cmd::new("getconf")
        .args(["CLK_TCK"])
        .probe()
        .and_then(|out| out.trim().parse().ok())
        .unwrap_or(100.0);
    #[allow(clippy::cast_precision_loss)] // tick counts far below 2^52
    Ok((ticks(14)? + ticks(15)?) as f64 / clock_ticks)
}

/// Voluntary and involuntary context switches summed over the live threads.
fn context_switches(pid: u32) -> Result<u64, Fail> {
    let tasks = format!("/proc/{pid}/task");
    let entries =
        std::fs::read_dir(&tasks).map_err(|e| Fail(format!("cannot list {tasks}: {e}")))?;
    let mut total = 0;
    for entry in entries.filter_map(Result::ok) {
        // A thread may end between listing and reading.
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        for key in ["voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"] {
            total += status_kib(&status, key).unwrap_or(0);
        }
    }
    Ok(total)
}

/// (what, size in bytes) of each stripped release binary (the release profile strips).
fn binary_sizes() -> Result<Vec<(String, u64)>, Fail> {
    let mut sizes = Vec::new();
    for board in [Board::Host, Board::Rpi4] {
        let plain = match board {
            Board::Host => "board-sim".to_string(),
            _ => board.agent_features().to_string(),
        };
        for features in [plain.clone(), format!("{plain},onnx")] {
            let binary = boards::build_agent(board, &features)?;
            let size = std::fs::metadata(&binary)
                .map_err(|e| Fail(format!("cannot read {}: {e}", binary.display())))?
                .len();
            let target = board.target().unwrap_or("host");
            sizes.push((format!("binary, {target} ({features})"), size));
        }
    }
    Ok(sizes)
}

/// Bytes of the files under `dir` (the Python side's "binary": its venv's packages).
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => tree_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// The table's rows for one side: (metric, value).
#[allow(clippy::cast_precision_loss)] // sizes, counts and seconds far below 2^52
fn rows(f: &Footprint, seconds: u64) -> Vec<(String, String)> {
    let seconds_f = seconds as f64;
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    vec![
        (
            format!("resident memory after {seconds} s (VmRSS)"),
            mib(f.rss_kib),
        ),
        ("peak resident memory (VmHWM)".into(), mib(f.hwm_kib)),
        (
            "CPU seconds per hour (utime+stime)".into(),
            format!("{:.1}", f.cpu_seconds * 3600.0 / seconds_f),
        ),
        (
            "wake-ups per second (context switches, all threads)".into(),
            format!("{:.0}", f.context_switches as f64 / seconds_f),
        ),
        (
            "startup to first delivered reading (independent subscriber)".into(),
            f.first_delivered.map_or("none arrived".into(), |d| {
                format!("{:.3} s", d.as_secs_f64())
            }),
        ),
        (
            format!("messages the subscriber received in about {seconds} s"),
            f.messages.to_string(),
        ),
    ]
}

fn print_table(
    seconds: u64,
    agent: Option<&Footprint>,
    python: &Footprint,
    sizes: &[(String, u64)],
    python_binary: &Path,
) {
    println!(
        "\nFootprint: the default pipeline (1 Hz environment, 1 kHz vibration, FFT features, \
         anomaly detector) to mosquitto with QoS 1\n"
    );
    println!("| metric | edgewise | Python |");
    println!("|---|---|---|");
    let ours = agent.map(|f| rows(f, seconds));
    for (index, (metric, theirs)) in rows(python, seconds).into_iter().enumerate() {
        let ours = ours
            .as_ref()
            .and_then(|rows| rows.get(index))
            .map_or("—", |(_, value)| value.as_str());
        println!("| {metric} | {ours} | {theirs} |");
    }
    for (what, size) in sizes {
        println!("| {what} | {} | |", human_size(*size));
    }
    let venv_lib = python_binary
        .parent()
        .and_then(Path::parent)
        .map_or(0, |venv| tree_size(&venv.join("lib")));
    println!(
        "| installed packages (venv lib/, without the interpreter) | | {} |",
        human_size(venv_lib)
    );
    if let Some(line) = &python.self_reported {
        println!("\nThe Python pipeline's own report (PUBACK, from its interpreter start): {line}");
    }
}

fn create_dir(path: &Path) -> Result<(), Fail> {
    std::fs::create_dir_all(path)
        .map_err(|e| Fail(format!("cannot create {}: {e}", path.display())))
}

fn create_file(path: &PathBuf) -> Result<std::fs::File, Fail> {
    std::fs::File::create(path).map_err(|e| Fail(format!("cannot create {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark substitutes the broker's and the health endpoint's ports; a second
    /// occurrence (in a comment, say) would stop it before it measures anything.
    #[test]
    fn each_agent_config_has_its_placeholders_exactly_once() {
        for name in ["edgewise-mqtt.toml", "edgewise-1hz.toml"] {
            let path = workspace_root().join("tests/footprint").join(name);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let substituted = substitute_once(&text, "port = 1883", "port = 40000")
                .and_then(|t| substitute_once(&t, "127.0.0.1:9464", "127.0.0.1:40001"));
            assert!(
                substituted.is_ok(),
                "{}: {:?}",
                path.display(),
                substituted.err().map(|f| f.0)
            );
        }
    }
}
