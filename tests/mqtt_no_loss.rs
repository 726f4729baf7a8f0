//! No accepted reading is lost or reordered on its way from the outbox through the MQTT
//! transport and a real mosquitto to a subscriber, while the broker is restarted twice and the
//! publisher is killed once, mid-stream.
//!
//! - mosquitto on 127.0.0.1 keeps sessions and queued messages on disk (`persistence true`,
//!   unlimited queues) and is stopped with SIGTERM, so it saves them, then started again on
//!   the same port;
//! - the subscriber is `mosquitto_sub` with a persistent session at QoS 1, independent of our
//!   code; it reconnects by itself after each broker restart;
//! - the publisher (`src/bin/noloss_publisher.rs`) accepts 4 × 2 500 numbered readings into a
//!   durable outbox at a steady pace while `outbox::deliver` sends them through
//!   `MqttTransport`; killed with SIGKILL, it is started again on the same database and goes on
//!   where the outbox says it stopped.
//!
//! Each fault waits until the subscriber has seen a given number of messages, so it lands
//! mid-stream however fast the machine is. In the end every `(sensor, seq)` must have arrived,
//! and per sensor no seq may arrive for the first time after a later one (a gap filled late
//! is a reordering). Duplicates are allowed (at least once) and counted. The run is made once
//! with the publisher speaking MQTT 3.1.1 and once with MQTT 5.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgewise_tests::peers::mosquitto::{BrokerOptions, Mosquitto};
use edgewise_tests::peers::{scratch_dir, PeerProcess};
use edgewise_tests::require_program;

const SENSORS: usize = 4;
const PER_SENSOR: u64 = 2_500;
const TOTAL: usize = SENSORS * PER_SENSOR as usize;
/// The whole run, faults included, must finish within this.
const DEADLINE: Duration = Duration::from_secs(120);
/// How long the broker stays down at each restart: longer than the publisher's ack timeout
/// (1 s), so its publishes time out and the outbox sends their readings again.
const BROKER_DOWN: Duration = Duration::from_millis(1_500);
/// Once the publisher has finished, how long the subscriber may go without a new message
/// before what is missing counts as lost.
const QUIET: Duration = Duration::from_secs(10);

#[test]
fn mqtt_3_1_1_every_reading_arrives_in_order_through_broker_restarts_and_a_publisher_kill() {
    no_loss("3.1.1");
}

#[test]
fn mqtt_5_every_reading_arrives_in_order_through_broker_restarts_and_a_publisher_kill() {
    no_loss("5");
}

/// The run described in the module docs, with the publisher speaking MQTT `protocol`.
fn no_loss(protocol: &'static str) {
    let dir = scratch_dir("mqtt-no-loss");
    let persistence = dir.path().join("broker-db");
    std::fs::create_dir_all(&persistence)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", persistence.display()));
    let mut broker = Mosquitto::start(
        dir.path(),
        &BrokerOptions {
            persistence: Some(persistence),
            ..BrokerOptions::default()
        },
    );
    let subscriber = Subscriber::start(broker.observer_port);
    let db = dir.path().join("outbox.redb");
    let start = Instant::now();
    let run = Run {
        start,
        subscriber: &subscriber,
        dir: dir.path(),
        protocol,
    };

    let mut publisher = run.publisher(&db, broker.port, 1);

    run.wait_for(2_000, "before the first broker restart", &broker);
    broker.restart_gracefully(BROKER_DOWN);

    run.wait_for(4_500, "before the publisher is killed", &broker);
    assert!(
        publisher.exit_status().is_none(),
        "the publisher finished before it could be killed mid-run: {}",
        run.publisher_output(1)
    );
    publisher.kill();
    std::thread::sleep(Duration::from_millis(300));
    let mut publisher = run.publisher(&db, broker.port, 2);

    run.wait_for(7_000, "before the second broker restart", &broker);
    broker.restart_gracefully(BROKER_DOWN);

    // The publisher exits 0 once everything is accepted and acknowledged.
    let status = loop {
        if let Some(status) = publisher.exit_status() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            panic!(
                "the publisher did not finish within {DEADLINE:?}; {}\n{}",
                run.report(),
                run.publisher_output(2)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "the restarted publisher failed ({status}): {}",
        run.publisher_output(2)
    );
    // Everything is acknowledged by the broker; the subscriber may still be receiving. Stop
    // waiting when all arrived, or after QUIET without a new message (what is missing then
    // does not come).
    let (mut messages, mut since) = (subscriber.messages(), Instant::now());
    while subscriber.distinct() < TOTAL && since.elapsed() < QUIET && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(20));
        if subscriber.messages() != messages {
            (messages, since) = (subscriber.messages(), Instant::now());
        }
    }

    let analysis = subscriber.analysis();
    let sent: Vec<u64> = (1..=2).map(|n| run.readings_sent(n)).collect();
    let resent = sent.iter().sum::<u64>().saturating_sub(TOTAL as u64);
    println!(
        "no-loss run, MQTT {protocol}: {} messages received for {TOTAL} readings in {:.1} s: {} duplicates; \
         the outbox handed {} readings to the transport ({} by the killed publisher, {} by its \
         successor), {resent} of them again; the subscriber connected {} times",
        analysis.messages,
        start.elapsed().as_secs_f64(),
        analysis.duplicates,
        sent.iter().sum::<u64>(),
        sent[0],
        sent[1],
        subscriber.connections(),
    );
    println!("{}", run.publisher_output(2).trim_end());
    assert!(
        analysis.malformed.is_empty(),
        "messages that are not the readings sent: {:?}",
        analysis.malformed
    );
    let out_of_order = match &analysis.out_of_order[..] {
        [] => "none arrived out of order".to_string(),
        some => format!(
            "{} arrived out of order, e.g. {:?}",
            some.len(),
            &some[..some.len().min(10)]
        ),
    };
    assert!(
        analysis.distinct == TOTAL && analysis.out_of_order.is_empty(),
        "{} of {TOTAL} readings arrived ({}); {out_of_order}",
        analysis.distinct,
        analysis.missing(),
    );
    assert!(
        subscriber.connections() >= 3,
        "the subscriber connected {} times: the broker restarts did not reach it",
        subscriber.connections()
    );
}

/// What the test needs while it runs the faults.
struct Run<'a> {
    start: Instant,
    subscriber: &'a Subscriber,
    dir: &'a Path,
    protocol: &'static str,
}

impl Run<'_> {
    /// Starts publisher number `n` (1, then 2 after the kill) on the outbox `db`.
    fn publisher(&self, db: &Path, port: u16, n: u32) -> PeerProcess {
        let output = |what: &str| {
            let path = self.output_path(n, what);
            File::create(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_noloss_publisher"));
        command
            .arg(db)
            .args([
                port.to_string(),
                SENSORS.to_string(),
                PER_SENSOR.to_string(),
                self.protocol.to_string(),
            ])
            .stdout(Stdio::from(output("out")))
            .stderr(Stdio::from(output("err")));
        PeerProcess::spawn("noloss_publisher", command)
    }

    fn output_path(&self, n: u32, what: &str) -> PathBuf {
        self.dir.join(format!("publisher-{n}.{what}"))
    }

    /// Waits until the subscriber has received `count` messages, or fails the test.
    fn wait_for(&self, count: usize, what: &str, broker: &Mosquitto) {
        while self.subscriber.messages() < count {
            if self.start.elapsed() > DEADLINE {
                panic!(
                    "{what}: the subscriber has not received {count} messages within \
                     {DEADLINE:?}; {}\npublisher 1: {}\npublisher 2: {}\nbroker log (tail):\n{}",
                    self.report(),
                    self.publisher_output(1),
                    self.publisher_output(2),
                    tail(&broker.log(), 30)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What has arrived so far, in words.
    fn report(&self) -> String {
        let analysis = self.subscriber.analysis();
        format!(
            "received {} messages, {} distinct readings of {TOTAL}; {}",
            analysis.messages,
            analysis.distinct,
            analysis.missing()
        )
    }

    /// Publisher `n`'s stderr and the last lines of its stdout.
    fn publisher_output(&self, n: u32) -> String {
        let read = |what| std::fs::read_to_string(self.output_path(n, what)).unwrap_or_default();
        format!(
            "stderr: {}; stdout (tail):\n{}",
            read("err").trim(),
            tail(&read("out"), 5)
        )
    }

    /// How many readings publisher `n` handed to the transport (its last `sent` line).
    fn readings_sent(&self, n: u32) -> u64 {
        std::fs::read_to_string(self.output_path(n, "out"))
            .unwrap_or_default()
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("sent ")?.parse().ok())
            .unwrap_or(0)
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `mosquitto_sub` with a persistent session (`-c -i noloss-sub`) at QoS 1; a thread reads its
/// output as it comes and keeps the [`Analysis`] up to date.
struct Subscriber {
    seen: Arc<Mutex<Seen>>,
    _process: PeerProcess,
}

#[derive(Default)]
struct Seen {
    analysis: Analysis,
    /// CONNACKs received: the first connection and one per broker restart.
    connections: usize,
    subscribed: bool,
}

impl Subscriber {
    fn start(port: u16) -> Self {
        const INSTALL: &str = "apt-get install mosquitto-clients";
        let tool = require_program("mosquitto_sub", INSTALL);
        // Line-buffered, so each message is readable as soon as it arrives.
        let stdbuf = require_program("stdbuf", "apt-get install coreutils");
        let mut command = Command::new(stdbuf);
        command
            .arg("-oL")
            .arg(tool)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "noloss/#"])
            .args(["-q", "1", "-c", "-i", "noloss-sub", "-v", "-d"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut process = PeerProcess::spawn("mosquitto_sub", command);
        let stdout = process
            .take_stdout()
            .unwrap_or_else(|| panic!("mosquitto_sub has no stdout"));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut seen = sink.lock().unwrap_or_else(|p| p.into_inner());
                // `-d` prints the protocol exchange, each line starting with "Client ".
                if line.starts_with("Client ") {
                    seen.connections += usize::from(line.contains("received CONNACK"));
                    seen.subscribed |= line.contains("received SUBACK");
                } else if !line.starts_with("Subscribed ") {
                    seen.analysis.add(&line);
                }
            }
        });
        let subscriber = Self {
            seen,
            _process: process,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !subscriber.lock().subscribed {
            assert!(
                Instant::now() < deadline,
                "mosquitto_sub did not subscribe to noloss/# on port {port} within 5 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        subscriber
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn connections(&self) -> usize {
        self.lock().connections
    }

    fn messages(&self) -> usize {
        self.lock().analysis.messages
    }

    fn distinct(&self) -> usize {
        self.lock().analysis.distinct
    }

    fn analysis(&self) -> Analysis {
        self.lock().analysis.clone()
    }
}

/// What the subscriber's messages show so far.
#[derive(Debug, Clone)]
struct Analysis {
    messages: usize,
    /// Distinct `(sensor, seq)` received.
    distinct: usize,
    duplicates: usize,
    /// Per sensor and seq, whether it arrived.
    received: Vec<Vec<bool>>,
    /// Per sensor, one past the highest seq received.
    due: [u64; SENSORS],
    /// First arrivals of a seq after a later one of the same sensor.
    out_of_order: Vec<String>,
    /// Messages that are not one of the readings sent, with why.
    malformed: Vec<String>,
}

impl Default for Analysis {
    fn default() -> Self {
        Self {
            messages: 0,
            distinct: 0,
            duplicates: 0,
            received: vec![vec![false; PER_SENSOR as usize]; SENSORS],
            due: [0; SENSORS],
            out_of_order: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

impl Analysis {
    /// Takes in one `mosquitto_sub -v` line.
    fn add(&mut self, line: &str) {
        self.messages += 1;
        let (sensor, seq) = match parse(line) {
            Ok(key) => key,
            Err(why) => {
                self.malformed.push(format!("{why}: {line}"));
                return;
            }
        };
        let slot = &mut self.received[sensor][seq as usize];
        if *slot {
            self.duplicates += 1;
            return;
        }
        *slot = true;
        self.distinct += 1;
        let due = &mut self.due[sensor];
        if seq < *due {
            // A gap filled late. (A gap never filled is a loss, which `missing` reports.)
            self.out_of_order.push(format!(
                "s{sensor}: seq {seq} arrived after seq {} had",
                *due - 1
            ));
        }
        *due = (*due).max(seq + 1);
    }

    /// Per sensor, the seqs not received yet, as ranges.
    fn missing(&self) -> String {
        let mut parts = Vec::new();
        for (sensor, received) in self.received.iter().enumerate() {
            let mut ranges = Vec::new();
            let mut seq = 0;
            while seq < received.len() {
                if received[seq] {
                    seq += 1;
                    continue;
                }
                let first = seq;
                while seq < received.len() && !received[seq] {
                    seq += 1;
                }
                ranges.push(format!("{first}..{seq}"));
            }
            if !ranges.is_empty() {
                parts.push(format!("s{sensor} missing {}", ranges.join(" ")));
            }
        }
        if parts.is_empty() {
            "nothing missing".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The `(sensor index, seq)` of one `mosquitto_sub -v` line, after checking that the topic and
/// the JSON payload belong to the same reading and its `n` field is its seq.
fn parse(line: &str) -> Result<(usize, u64), String> {
    let (topic, payload) = line.split_once(' ').ok_or("no payload")?;
    let json: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| format!("not JSON: {e}"))?;
    let [reading] = json.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err("not an array of one reading".into());
    };
    let sensor = reading["sensor"].as_str().ok_or("no sensor")?;
    let seq = reading["seq"].as_u64().ok_or("no seq")?;
    if topic != format!("noloss/{sensor}") {
        return Err(format!("sensor {sensor} on topic {topic}"));
    }
    let n = &reading["fields"][0];
    if n["channel"] != "n" || n["value"].as_f64() != Some(seq as f64) {
        return Err(format!("seq {seq} carries another reading's field {n}"));
    }
    let index: usize = sensor
        .strip_prefix('s')
        .and_then(|i| i.parse().ok())
        .filter(|&i| i < SENSORS)
        .ok_or_else(|| format!("unknown sensor {sensor}"))?;
    if seq >= PER_SENSOR {
        return Err(format!("seq {seq} beyond the {PER_SENSOR} sent"));
    }
    Ok((index, seq))
}
