//! A process for the outbox crash test (`tests/outbox_crash.rs`): accepts numbered readings in
//! batches and acknowledges some of them the way a delivery loop would, reporting each durable
//! step on stdout *after* it returned, until it is killed.
//!
//! Usage: `outbox_writer DB SEED [KEY_FILE]`. Output lines (each flushed):
//!
//! - `O s0=N s1=N s2=N`: opened; the next seq of each sensor, read from the database;
//! - `A SENSOR FIRST LAST`: readings FIRST..=LAST of SENSOR were accepted (committed);
//! - `B SENSOR:SEQ ...`: about to acknowledge these keys;
//! - `D SENSOR:SEQ ...`: that acknowledgement committed, and deleted exactly these.
//!
//! Every reading carries its expected seq as the value of field `n`, so the test can check
//! that what comes back under a seq is the reading written under it. Exits 2 on an outbox
//! error and 3 when the outbox numbers or deletes differently from what this process expects.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use edgewise_link::outbox::{EncryptionKey, Limits, Outbox, OutboxConfig, OutboxKey};
use edgewise_link::Reading;

const SENSORS: [&str; 3] = ["s0", "s1", "s2"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("outbox_writer: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn outbox_error(e: impl std::fmt::Display) -> Failure {
    (2, e.to_string())
}

fn run() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(seed)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        return Err((1, "usage: outbox_writer DB SEED [KEY_FILE]".into()));
    };
    let encryption = match args.get(3) {
        Some(path) => Some(EncryptionKey::from_file(path).map_err(outbox_error)?),
        None => None,
    };
    let outbox = Outbox::open(
        db,
        OutboxConfig {
            limits: Limits::unbounded(),
            encryption,
            ..OutboxConfig::default()
        },
    )
    .map_err(outbox_error)?;

    let mut next: BTreeMap<&str, u64> = BTreeMap::new();
    for sensor in SENSORS {
        next.insert(sensor, outbox.next_seq(sensor).map_err(outbox_error)?);
    }
    let opened: Vec<String> = next.iter().map(|(s, n)| format!("{s}={n}")).collect();
    say(&format!("O {}", opened.join(" ")));

    let mut rng = SplitMix(seed);
    loop {
        if rng.below(3) < 2 {
            accept_batch(&outbox, &mut rng, &mut next)?;
        } else {
            acknowledge_some(&outbox, &mut rng)?;
        }
    }
}

fn accept_batch(
    outbox: &Outbox,
    rng: &mut SplitMix,
    next: &mut BTreeMap<&'static str, u64>,
) -> Result<(), Failure> {
    let size = 1 + rng.below(40);
    let mut expected = next.clone();
    let batch: Vec<Reading> = (0..size)
        .map(|_| {
            let sensor = SENSORS[rng.below(SENSORS.len() as u64) as usize];
            let seq = expected.entry(sensor).or_default();
            let reading = Reading::new(sensor, SystemTime::now()).with_number("n", "", *seq as f64);
            *seq += 1;
            reading
        })
        .collect();
    let report = outbox.accept(&batch).map_err(outbox_error)?;
    for range in &report.seqs {
        let sensor = range.sensor.as_str();
        let (want_first, want_next) = (next.get(sensor).copied(), expected.get(sensor).copied());
        if Some(range.first) != want_first || Some(range.last + 1) != want_next {
            return Err((
                3,
                format!("{sensor}: accepted {range:?}, expected {want_first:?}..{want_next:?}"),
            ));
        }
        say(&format!("A {sensor} {} {}", range.first, range.last));
    }
    *next = expected;
    Ok(())
}

fn acknowledge_some(outbox: &Outbox, rng: &mut SplitMix) -> Result<(), Failure> {
    let batch = outbox
        .peek(1 + rng.below(60) as usize)
        .map_err(outbox_error)?;
    let acked: Vec<OutboxKey> = batch
        .keys
        .iter()
        .filter(|_| rng.below(10) < 7)
        .cloned()
        .collect();
    if acked.is_empty() {
        return Ok(());
    }
    // What the order rule deletes: per sensor, the acknowledged keys that continue an unbroken
    // run from the sensor's first peeked (= oldest pending) reading.
    let mut oldest: BTreeMap<&str, u64> = BTreeMap::new();
    for key in &batch.keys {
        oldest.entry(key.sensor()).or_insert(key.seq());
    }
    let mut deleted = Vec::new();
    for (sensor, head) in &oldest {
        let mut seq = *head;
        while acked
            .iter()
            .any(|k| k.sensor() == *sensor && k.seq() == seq)
        {
            deleted.push(format!("{sensor}:{seq}"));
            seq += 1;
        }
    }
    let listed: Vec<String> = acked
        .iter()
        .map(|k| format!("{}:{}", k.sensor(), k.seq()))
        .collect();
    say(&format!("B {}", listed.join(" ")));
    let report = outbox.ack(&acked).map_err(outbox_error)?;
    if report.deleted != deleted.len() as u64 {
        return Err((
            3,
            format!(
                "ack deleted {} readings, expected {deleted:?}",
                report.deleted
            ),
        ));
    }
    say(&format!("D {}", deleted.join(" ")));
    Ok(())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe means the test is gone; there is no one left to tell.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// splitmix64: reproducible from the seed the test passes.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound.max(1)
    }
}
