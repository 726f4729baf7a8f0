//! The terminal view of a running agent: one line per reading of the slow sensors, a line a
//! second per windowed pipeline (its anomaly score, or how far its baseline is), and every
//! event, marked so it stands out.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgewise_link::{Reading, Value};
use edgewise_runtime::agent::live::LiveEvent;
use edgewise_runtime::agent::status::rfc3339;
use tokio::sync::mpsc;

/// A windowed pipeline shows at most one line per this period.
const WINDOW_LINE_PERIOD: Duration = Duration::from_secs(1);
/// Features shown next to the score.
const FEATURES_SHOWN: usize = 3;

/// Prints events until the channel closes.
pub async fn show(mut events: mpsc::Receiver<LiveEvent>) {
    let mut last_window_line: HashMap<Arc<str>, Instant> = HashMap::new();
    while let Some(event) = events.recv().await {
        let line = match event {
            LiveEvent::Reading { reading, .. } => {
                format!(
                    "{}  {:<12} {}",
                    clock(&reading),
                    reading.sensor,
                    fields(&reading, usize::MAX)
                )
            }
            LiveEvent::Window { pipeline, reading } => {
                let now = Instant::now();
                let due = last_window_line
                    .get(&pipeline)
                    .is_none_or(|last| now.duration_since(*last) >= WINDOW_LINE_PERIOD);
                if !due {
                    continue;
                }
                last_window_line.insert(Arc::clone(&pipeline), now);
                format!("{}  {:<12} {}", clock(&reading), pipeline, window(&reading))
            }
            LiveEvent::Event { event, .. } => {
                format!("{}  >>> {}", clock(&event), describe_event(&event))
            }
            LiveEvent::Action { event, .. } => {
                format!("{}  >>> {}", clock(&event), describe_action(&event))
            }
        };
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (a pipe whose reader left) must not stop the agent.
        if writeln!(stdout, "{line}").is_err() {
            continue;
        }
        let _ = stdout.flush();
    }
}

fn clock(reading: &Reading) -> String {
    let stamp = rfc3339(edgewise_link::reading::system_time(reading.time_ns));
    // `2026-11-25T21:38:26.123Z` → `21:38:26`
    stamp.get(11..19).unwrap_or(&stamp).to_string()
}

/// `temperature 22.41 °C  pressure 1013.25 hPa  humidity 45.1 %RH`
fn fields(reading: &Reading, limit: usize) -> String {
    let mut out = String::new();
    for field in reading.fields.iter().take(limit) {
        if let Value::Number(value) = field.value {
            let (value, unit) = display_unit(value, &field.unit);
            let _ = write!(
                out,
                "{}{} {value:.2}{unit}",
                if out.is_empty() { "" } else { "  " },
                field.channel
            );
        }
    }
    out
}

/// SenML units as people read them.
fn display_unit(value: f64, unit: &str) -> (f64, String) {
    match unit {
        "" => (value, String::new()),
        "Cel" => (value, " °C".into()),
        "Pa" => (value / 100.0, " hPa".into()),
        "m/s2" => (value, " m/s²".into()),
        other => (value, format!(" {other}")),
    }
}

fn window(reading: &Reading) -> String {
    if let (Some(seen), Some(needed)) = (
        reading.number("baseline_windows"),
        reading.number("baseline_needed"),
    ) {
        return format!("learning the healthy baseline: {seen:.0}/{needed:.0} windows");
    }
    let features = fields(
        &Reading {
            fields: reading
                .fields
                .iter()
                .filter(|f| f.channel != "anomaly_score")
                .take(FEATURES_SHOWN)
                .cloned()
                .collect(),
            ..reading.clone()
        },
        FEATURES_SHOWN,
    );
    match reading.number("anomaly_score") {
        Some(score) => format!("anomaly score {score:>6.2}   {features}"),
        None => features,
    }
}

/// `fan ON (rule too-hot raised)`, `fan 0.35 (controller fan-speed)`,
/// `motor every 1ms (rule vibration-anomaly raised)`.
fn describe_action(event: &Reading) -> String {
    let cause = event.text("cause").unwrap_or("?");
    if let Some(actuator) = event.text("actuator") {
        let state = match (event.text("state"), event.number("state")) {
            (Some(text), _) => text.to_uppercase(),
            (None, Some(duty)) => format!("{duty}"),
            (None, None) => "?".into(),
        };
        return format!("{actuator} {state} ({cause})");
    }
    let sensor = event.text("sensor").unwrap_or("?");
    let interval = event.text("interval").unwrap_or("?");
    format!("{sensor} sampled every {interval} ({cause})")
}

fn describe_event(event: &Reading) -> String {
    let rule = event.text("rule").unwrap_or("?");
    let state = event.text("state").unwrap_or("?");
    let pipeline = event.text("pipeline").unwrap_or("?");
    let value = event.number("value").unwrap_or(f64::NAN);
    let limit = event.number("limit").unwrap_or(f64::NAN);
    let what = match event.text("channel") {
        Some(channel) => format!("{channel} {value:.2}"),
        None => format!("score {value:.2}"),
    };
    format!(
        "{rule} {} ({pipeline}): {what}, limit {limit:.2}",
        state.to_uppercase()
    )
}
