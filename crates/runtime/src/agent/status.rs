//! What the running agent knows about itself: every counter and last-seen state the sampling
//! tasks, pipelines and sinks update, rendered as `/health` JSON and `/metrics` Prometheus
//! text.
//!
//! Counters are atomics (updated on the hot path without locking); the few values that are
//! not numbers (last error, last reading time) sit behind a mutex each, touched once per
//! reading at most.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use edgewise_link::outbox::{DeliveryMonitor, Outbox};
pub use edgewise_link::reading::rfc3339;
use serde_json::{json, Value};

use super::commands::CommandsStatus;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking updater leaves a value that is still the best information there is.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One sensor's state.
#[derive(Debug)]
pub struct SensorStatus {
    /// Its name in the config.
    pub name: String,
    /// Its driver.
    pub driver: String,
    /// Samples taken.
    pub samples: Counter,
    /// Samples that started noticeably after their slot.
    pub late: Counter,
    /// Slots skipped because the sensor was still busy with an earlier one.
    pub skipped: Counter,
    /// Reads or drains that failed.
    pub errors: Counter,
    /// Samples the chip's FIFO lost before they were read.
    pub lost: Counter,
    /// Initialisations attempted (the first, and every retry).
    pub init_attempts: Counter,
    /// Wake-ups of the sampling task.
    pub wakeups: Counter,
    state: Mutex<SensorState>,
}

#[derive(Debug, Default)]
struct SensorState {
    last_reading: Option<SystemTime>,
    last_error: Option<String>,
    failing: bool,
}

impl SensorStatus {
    fn new(name: &str, driver: &str) -> Self {
        Self {
            name: name.to_string(),
            driver: driver.to_string(),
            samples: Counter::default(),
            late: Counter::default(),
            skipped: Counter::default(),
            errors: Counter::default(),
            lost: Counter::default(),
            init_attempts: Counter::default(),
            wakeups: Counter::default(),
            state: Mutex::new(SensorState::default()),
        }
    }

    /// Records a successful reading at `time`.
    pub fn record_reading(&self, time: SystemTime, samples: u64) {
        self.samples.add(samples);
        let mut state = lock(&self.state);
        state.last_reading = Some(time);
        state.failing = false;
    }

    /// Records a failure; `failing` marks the sensor down until its next good reading.
    pub fn record_error(&self, message: String, failing: bool) {
        self.errors.inc();
        let mut state = lock(&self.state);
        state.last_error = Some(message);
        state.failing |= failing;
    }

    /// Whether the sensor is failing (not read since its last error).
    pub fn is_failing(&self) -> bool {
        lock(&self.state).failing
    }
}

/// One pipeline's state.
#[derive(Debug)]
pub struct PipelineStatus {
    /// Its name.
    pub name: String,
    /// Sample batches dropped because the pipeline fell behind its sources.
    pub dropped: Counter,
    /// Windows processed.
    pub windows: Counter,
    /// Events raised or cleared.
    pub events: Counter,
    /// Model runs that failed.
    pub model_errors: Counter,
    /// Total time spent in feature extraction, scoring and inference, µs.
    pub busy_micros: Counter,
    last_score: Mutex<Option<f64>>,
}

impl PipelineStatus {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            dropped: Counter::default(),
            windows: Counter::default(),
            events: Counter::default(),
            model_errors: Counter::default(),
            busy_micros: Counter::default(),
            last_score: Mutex::new(None),
        }
    }

    /// Records the latest anomaly score.
    pub fn record_score(&self, score: f64) {
        *lock(&self.last_score) = Some(score);
    }
}

/// One sink's state: its outbox and its delivery loop.
#[derive(Debug)]
pub struct SinkStatus {
    /// Its name.
    pub name: String,
    /// Its transport, in words (`mqtt://broker:1883`).
    pub peer: String,
    /// Its outbox.
    pub outbox: Outbox,
    /// Its delivery loop's progress.
    pub delivery: DeliveryMonitor,
    /// Readings accepted into its outbox.
    pub accepted: Counter,
    /// Commits to its outbox that failed (a full disk); the readings are retried.
    pub accept_errors: Counter,
    /// Readings dropped before reaching the outbox (the outbox kept failing and the
    /// in-memory hold was full).
    pub dropped: Counter,
}

/// One actuator's state.
#[derive(Debug)]
pub struct ActuatorStatus {
    /// Its name in the config.
    pub name: String,
    /// State changes applied.
    pub changes: Counter,
    /// Sets that failed (retried on the next request).
    pub errors: Counter,
    /// Times its watchdog applied the safe state.
    pub watchdog_trips: Counter,
    state: Mutex<ActuatorState>,
}

#[derive(Debug, Default)]
struct ActuatorState {
    state: Option<edgewise_sensors::actuator::State>,
    last_change: Option<SystemTime>,
    cause: Option<String>,
    last_error: Option<String>,
    failing: bool,
}

impl ActuatorStatus {
    /// A fresh status for actuator `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            changes: Counter::default(),
            errors: Counter::default(),
            watchdog_trips: Counter::default(),
            state: Mutex::new(ActuatorState::default()),
        }
    }

    /// Records a state applied at `time` because of `cause`.
    pub fn record_change(
        &self,
        state: edgewise_sensors::actuator::State,
        time: SystemTime,
        cause: &str,
    ) {
        self.changes.inc();
        let mut current = lock(&self.state);
        current.state = Some(state);
        current.last_change = Some(time);
        current.cause = Some(cause.to_string());
        current.failing = false;
    }

    /// Records a set that succeeded without changing the state (ends a failure).
    pub fn record_ok(&self) {
        lock(&self.state).failing = false;
    }

    /// Records a failed set.
    pub fn record_error(&self, message: String) {
        self.errors.inc();
        let mut current = lock(&self.state);
        current.last_error = Some(message);
        current.failing = true;
    }

    /// The state last applied.
    pub fn state(&self) -> Option<edgewise_sensors::actuator::State> {
        lock(&self.state).state
    }

    /// Why it last changed.
    pub fn cause(&self) -> Option<String> {
        lock(&self.state).cause.clone()
    }

    /// Whether its last set failed.
    pub fn is_failing(&self) -> bool {
        lock(&self.state).failing
    }
}

/// A state as `/health` and events show it: `"on"`, `"off"` or the duty fraction.
pub fn state_json(state: edgewise_sensors::actuator::State) -> Value {
    use edgewise_sensors::actuator::State;
    match state {
        State::Off => json!("off"),
        State::On => json!("on"),
        State::Fraction(x) => json!(edgewise_link::reading::decimal_f64(x)),
    }
}

/// Everything `/health` and `/metrics` report.
#[derive(Debug)]
pub struct AgentStatus {
    /// The device id.
    pub device: String,
    /// When the agent started.
    pub started: SystemTime,
    /// The sensors, in config order.
    pub sensors: Vec<Arc<SensorStatus>>,
    /// The pipelines, in config order.
    pub pipelines: Vec<Arc<PipelineStatus>>,
    /// The sinks, in config order (filled in as they start).
    pub sinks: Mutex<Vec<Arc<SinkStatus>>>,
    /// The actuators, in config order.
    pub actuators: Vec<Arc<ActuatorStatus>>,
    /// Remote commands, once their service runs.
    commands: OnceLock<Arc<CommandsStatus>>,
}

impl AgentStatus {
    /// A fresh status for the sensors and pipelines of a config.
    pub fn new<'a>(
        device: &str,
        sensors: impl IntoIterator<Item = (&'a str, &'a str)>,
        pipelines: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self {
            device: device.to_string(),
            started: SystemTime::now(),
            sensors: sensors
                .into_iter()
                .map(|(name, driver)| Arc::new(SensorStatus::new(name, driver)))
                .collect(),
            pipelines: pipelines
                .into_iter()
                .map(|name| Arc::new(PipelineStatus::new(name)))
                .collect(),
            sinks: Mutex::new(Vec::new()),
            actuators: Vec::new(),
            commands: OnceLock::new(),
        }
    }

    /// With the actuators of a config, in order.
    pub fn with_actuators<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.actuators = names
            .into_iter()
            .map(|name| Arc::new(ActuatorStatus::new(name)))
            .collect();
        self
    }

    /// Shows the remote command service (once; later calls are ignored).
    pub fn set_commands(&self, commands: Arc<CommandsStatus>) {
        let _ = self.commands.set(commands);
    }

    /// Adds a started sink.
    pub fn add_sink(&self, sink: Arc<SinkStatus>) {
        lock(&self.sinks).push(sink);
    }

    fn sinks(&self) -> Vec<Arc<SinkStatus>> {
        lock(&self.sinks).clone()
    }

    /// Whether every sensor is reading and every sink delivering.
    pub fn is_healthy(&self) -> bool {
        self.sensors.iter().all(|s| !s.is_failing())
            && self.actuators.iter().all(|a| !a.is_failing())
            && self
                .sinks()
                .iter()
                .all(|s| s.delivery.snapshot().consecutive_failures == 0)
    }

    /// The `/health` document.
    pub fn health_json(&self) -> Value {
        let sensors: Vec<Value> = self
            .sensors
            .iter()
            .map(|sensor| {
                let state = lock(&sensor.state);
                json!({
                    "name": sensor.name,
                    "driver": sensor.driver,
                    "state": if state.failing { "failing" } else if state.last_reading.is_some() { "ok" } else { "starting" },
                    "last_reading": state.last_reading.map(rfc3339),
                    "last_error": state.last_error,
                    "samples": sensor.samples.get(),
                    "errors": sensor.errors.get(),
                    "late": sensor.late.get(),
                    "skipped": sensor.skipped.get(),
                })
            })
            .collect();
        let pipelines: Vec<Value> = self
            .pipelines
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "windows": p.windows.get(),
                    "events": p.events.get(),
                    "dropped": p.dropped.get(),
                    "anomaly_score": *lock(&p.last_score),
                })
            })
            .collect();
        let sinks: Vec<Value> = self
            .sinks()
            .iter()
            .map(|sink| {
                let delivery = sink.delivery.snapshot();
                let outbox = sink.outbox.stats().ok();
                json!({
                    "name": sink.name,
                    "peer": sink.peer,
                    "state": transport_state(delivery.consecutive_failures, delivery.batches),
                    "last_error": delivery.last_error,
                    "delivered": delivery.delivered,
                    "outbox": outbox.map(|o| json!({
                        "depth": o.pending,
                        "bytes": o.pending_bytes,
                        "oldest_age_s": o.oldest_pending_age.map(|a| a.as_secs_f64()),
                    })),
                })
            })
            .collect();
        let actuators: Vec<Value> = self
            .actuators
            .iter()
            .map(|actuator| {
                let state = lock(&actuator.state);
                json!({
                    "name": actuator.name,
                    "state": state.state.map(state_json),
                    "last_change": state.last_change.map(rfc3339),
                    "cause": state.cause,
                    "last_error": state.last_error,
                    "failing": state.failing,
                    "changes": actuator.changes.get(),
                    "errors": actuator.errors.get(),
                    "watchdog_trips": actuator.watchdog_trips.get(),
                })
            })
            .collect();
        json!({
            "status": if self.is_healthy() { "ok" } else { "degraded" },
            "device": self.device,
            "uptime_s": self.started.elapsed().unwrap_or_default().as_secs_f64(),
            "sensors": sensors,
            "pipelines": pipelines,
            "sinks": sinks,
            "actuators": actuators,
            "commands": self.commands.get().map(|commands| {
                let stats = commands.counters.snapshot();
                let refused: serde_json::Map<String, Value> = stats
                    .refused_by_reason()
                    .filter(|(_, count)| *count > 0)
                    .map(|(reason, count)| (reason.as_str().to_string(), json!(count)))
                    .collect();
                json!({
                    "topic": commands.topic,
                    "broker": commands.monitor.peer(),
                    "connected": commands.monitor.is_connected(),
                    "last_error": commands.monitor.last_error().map(|e| e.to_string()),
                    "received": stats.received,
                    "executed": stats.executed,
                    "refused": refused,
                })
            }),
        })
    }

    /// The `/metrics` text (Prometheus exposition format 0.0.4).
    pub fn metrics_text(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP edgewise_{name} {help}");
            let _ = writeln!(out, "# TYPE edgewise_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "edgewise_{name}{labels} {value}");
            }
        };
        let by_sensor = |get: &dyn Fn(&SensorStatus) -> u64| -> Vec<(String, f64)> {
            self.sensors
                .iter()
                .map(|s| (label("sensor", &s.name), get(s) as f64))
                .collect()
        };
        family(
            "sensor_samples_total",
            "counter",
            "Samples taken.",
            by_sensor(&|s| s.samples.get()),
        );
        family(
            "sensor_errors_total",
            "counter",
            "Failed reads.",
            by_sensor(&|s| s.errors.get()),
        );
        family(
            "sensor_late_samples_total",
            "counter",
            "Samples started noticeably after their slot.",
            by_sensor(&|s| s.late.get()),
        );
        family(
            "sensor_skipped_slots_total",
            "counter",
            "Sampling slots skipped because the sensor was busy.",
            by_sensor(&|s| s.skipped.get()),
        );
        family(
            "sensor_lost_samples_total",
            "counter",
            "Samples a chip's FIFO lost before they were read.",
            by_sensor(&|s| s.lost.get()),
        );
        family(
            "sensor_wakeups_total",
            "counter",
            "Wake-ups of the sampling task.",
            by_sensor(&|s| s.wakeups.get()),
        );
        family(
            "sensor_up",
            "gauge",
            "1 while the sensor reads, 0 while it fails.",
            by_sensor(&|s| u64::from(!s.is_failing())),
        );
        let by_pipeline = |get: &dyn Fn(&PipelineStatus) -> u64| -> Vec<(String, f64)> {
            self.pipelines
                .iter()
                .map(|p| (label("pipeline", &p.name), get(p) as f64))
                .collect()
        };
        family(
            "pipeline_dropped_batches_total",
            "counter",
            "Sample batches dropped (oldest first) because the pipeline fell behind.",
            by_pipeline(&|p| p.dropped.get()),
        );
        family(
            "pipeline_windows_total",
            "counter",
            "Windows processed.",
            by_pipeline(&|p| p.windows.get()),
        );
        family(
            "pipeline_events_total",
            "counter",
            "Events raised or cleared.",
            by_pipeline(&|p| p.events.get()),
        );
        family(
            "pipeline_model_errors_total",
            "counter",
            "Model runs that failed.",
            by_pipeline(&|p| p.model_errors.get()),
        );
        family(
            "pipeline_busy_seconds_total",
            "counter",
            "Time spent on features, scoring and inference.",
            by_pipeline(&|p| p.busy_micros.get())
                .into_iter()
                .map(|(l, v)| (l, v / 1e6))
                .collect(),
        );
        let scores: Vec<(String, f64)> = self
            .pipelines
            .iter()
            .filter_map(|p| (*lock(&p.last_score)).map(|s| (label("pipeline", &p.name), s)))
            .collect();
        family(
            "pipeline_anomaly_score",
            "gauge",
            "The latest window's anomaly score.",
            scores,
        );
        let sinks = self.sinks();
        let stats: Vec<_> = sinks
            .iter()
            .map(|s| {
                (
                    label("sink", &s.name),
                    s.delivery.snapshot(),
                    s.outbox.stats().ok(),
                )
            })
            .collect();
        let by_sink = |get: &dyn Fn(&SinkStatus) -> u64| -> Vec<(String, f64)> {
            sinks
                .iter()
                .map(|s| (label("sink", &s.name), get(s) as f64))
                .collect()
        };
        family(
            "sink_accepted_total",
            "counter",
            "Readings committed to the sink's outbox.",
            by_sink(&|s| s.accepted.get()),
        );
        family(
            "sink_accept_errors_total",
            "counter",
            "Outbox commits that failed (and were retried).",
            by_sink(&|s| s.accept_errors.get()),
        );
        family(
            "sink_dropped_total",
            "counter",
            "Readings dropped before reaching the outbox.",
            by_sink(&|s| s.dropped.get()),
        );
        family(
            "sink_delivered_total",
            "counter",
            "Readings acknowledged by the peer.",
            stats
                .iter()
                .map(|(l, d, _)| (l.clone(), d.delivered as f64))
                .collect(),
        );
        family(
            "sink_unsendable_total",
            "counter",
            "Readings the sink's encoder can never represent (dropped).",
            stats
                .iter()
                .map(|(l, d, _)| (l.clone(), d.unsendable as f64))
                .collect(),
        );
        family(
            "sink_failed_rounds_total",
            "counter",
            "Delivery rounds that failed.",
            stats
                .iter()
                .map(|(l, d, _)| (l.clone(), (d.transport_errors + d.outbox_errors) as f64))
                .collect(),
        );
        family(
            "sink_up",
            "gauge",
            "1 while the sink delivers, 0 while it fails.",
            stats
                .iter()
                .map(|(l, d, _)| (l.clone(), f64::from(u8::from(d.consecutive_failures == 0))))
                .collect(),
        );
        family(
            "outbox_depth",
            "gauge",
            "Readings waiting in the outbox.",
            stats
                .iter()
                .filter_map(|(l, _, o)| o.map(|o| (l.clone(), o.pending as f64)))
                .collect(),
        );
        family(
            "outbox_bytes",
            "gauge",
            "Bytes waiting in the outbox.",
            stats
                .iter()
                .filter_map(|(l, _, o)| o.map(|o| (l.clone(), o.pending_bytes as f64)))
                .collect(),
        );
        family(
            "outbox_oldest_age_seconds",
            "gauge",
            "Age of the oldest waiting reading.",
            stats
                .iter()
                .filter_map(|(l, _, o)| {
                    o.and_then(|o| o.oldest_pending_age)
                        .map(|a| (l.clone(), a.as_secs_f64()))
                })
                .collect(),
        );
        let by_actuator = |get: &dyn Fn(&ActuatorStatus) -> f64| -> Vec<(String, f64)> {
            self.actuators
                .iter()
                .map(|a| (label("actuator", &a.name), get(a)))
                .collect()
        };
        family(
            "actuator_state",
            "gauge",
            "The actuator's state: 0 off, 1 on, or the duty fraction; absent until first set.",
            self.actuators
                .iter()
                .filter_map(|a| {
                    a.state().map(|s| {
                        let value = match s {
                            edgewise_sensors::actuator::State::Off => 0.0,
                            edgewise_sensors::actuator::State::On => 1.0,
                            edgewise_sensors::actuator::State::Fraction(x) => {
                                edgewise_link::reading::decimal_f64(x)
                            }
                        };
                        (label("actuator", &a.name), value)
                    })
                })
                .collect(),
        );
        family(
            "actuator_changes_total",
            "counter",
            "State changes applied.",
            by_actuator(&|a| a.changes.get() as f64),
        );
        family(
            "actuator_errors_total",
            "counter",
            "Sets that failed (retried on the next request).",
            by_actuator(&|a| a.errors.get() as f64),
        );
        family(
            "actuator_watchdog_trips_total",
            "counter",
            "Times the watchdog applied the safe state.",
            by_actuator(&|a| a.watchdog_trips.get() as f64),
        );
        if let Some(commands) = self.commands.get() {
            let stats = commands.counters.snapshot();
            let count = |n: u64| vec![(String::new(), n as f64)];
            family(
                "commands_connected",
                "gauge",
                "1 while the command connection is subscribed.",
                count(u64::from(commands.monitor.is_connected())),
            );
            family(
                "commands_received_total",
                "counter",
                "Messages received on the command topic.",
                count(stats.received),
            );
            family(
                "commands_executed_total",
                "counter",
                "Commands applied to an output.",
                count(stats.executed),
            );
            family(
                "commands_refused_total",
                "counter",
                "Commands refused, by reason.",
                stats
                    .refused_by_reason()
                    .map(|(reason, n)| {
                        (
                            label("reason", &reason.as_str().replace(' ', "_")),
                            n as f64,
                        )
                    })
                    .collect(),
            );
        }
        family(
            "uptime_seconds",
            "gauge",
            "Seconds since the agent started.",
            vec![(
                String::new(),
                self.started.elapsed().unwrap_or_default().as_secs_f64(),
            )],
        );
        out
    }
}

fn transport_state(consecutive_failures: u32, batches: u64) -> &'static str {
    match (consecutive_failures, batches) {
        (0, 0) => "idle",
        (0, _) => "up",
        _ => "failing",
    }
}

/// `{key="value"}` with the value escaped as the exposition format requires.
fn label(key: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{{{key}=\"{escaped}\"}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_labels_are_escaped() {
        assert_eq!(label("sensor", "a\"b\\c"), r#"{sensor="a\"b\\c"}"#);
    }
}
