//! The configuration file's shape: one serde type per table, each refusing keys it does not
//! know (`deny_unknown_fields`), so a typo is an error rather than a silently ignored setting.
//!
//! Checks that need more than one value at a time (a pipeline naming a sensor, an address the
//! chip cannot have) are in [`super::validate`]; settings that are names from an open-ended or
//! documented list (driver, transport, encoder, bus) are strings here and checked there, so
//! every such mistake in a file is reported at once, with a suggestion.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::secret::SecretSource;
use super::units::{ByteSize, HumanDuration};

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who this device is.
    pub device: Device,
    /// The hardware the sensors are attached to.
    pub board: Board,
    /// How much the agent logs.
    #[serde(default)]
    pub log_level: LogLevel,
    /// The sensors, each read on its own schedule.
    pub sensors: Vec<SensorConfig>,
    /// The outputs: relays, fans, valves, servos.
    #[serde(default)]
    pub actuators: Vec<ActuatorConfig>,
    /// What happens to readings: windows, features, a model or detector, rules, sinks.
    pub pipelines: Vec<PipelineConfig>,
    /// Where readings and events go.
    pub sinks: Vec<SinkConfig>,
    /// The durable queue every reading passes through on its way to the sinks.
    #[serde(default)]
    pub outbox: OutboxSettings,
    /// The `/health` and `/metrics` endpoint; absent: not served.
    pub health: Option<HealthSettings>,
    /// The simulated board's scenario (`board = "sim"` only).
    pub sim: Option<SimSettings>,
    /// Remote commands over MQTT; absent: none are accepted.
    pub commands: Option<CommandSettings>,
}

/// What the simulated board simulates, beyond healthy chips: for demos and tests.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// The seed of the simulated noise, so runs repeat; default 1.
    pub seed: Option<u64>,
    /// A fault the simulated machine develops.
    pub machine_fault: Option<SimFaultSettings>,
}

/// A mechanical fault in the simulated machine.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimFaultSettings {
    /// Which fault.
    pub kind: SimFault,
    /// When it begins, after start.
    pub onset: HumanDuration,
}

/// The faults the simulated machine can develop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimFault {
    /// A spall on a bearing's outer race.
    OuterRaceDefect,
    /// A rotor's imbalance growing.
    ImbalanceGrowth,
}

/// The device's identity, as it appears in topics and payloads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// A stable, unique id: the `{device}` of topics, the SenML base name. Letters, digits,
    /// `-`, `_` and `.` only, so it is safe in any topic or URL.
    pub id: String,
    /// Free text for people.
    pub description: Option<String>,
    /// Where the device is (free text).
    pub location: Option<String>,
}

/// The hardware the agent runs on, which decides how buses are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Board {
    /// Simulated chips (edgewise-devsim): runs anywhere.
    Sim,
    /// Any embedded Linux board: `/dev/i2c-N`, `/dev/spidevB.C`.
    Linux,
    /// A Raspberry Pi, through rppal's bus numbering.
    Rpi,
}

impl Board {
    /// The name a config uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sim => "sim",
            Self::Linux => "linux",
            Self::Rpi => "rpi",
        }
    }
}

/// How much the agent logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// And what the agent is doing (the default).
    #[default]
    Info,
    /// And details for diagnosing a deployment.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The name a config uses (and `tracing`'s filter syntax).
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// One sensor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    /// The name pipelines and readings use (`{sensor}` in topics).
    pub name: String,
    /// The driver: `bme280`, `sht3x`, `mpu6050`, … (see [`super::drivers::DRIVERS`]).
    pub driver: String,
    /// The bus: `i2c-1` (`/dev/i2c-1`, rppal's I2C bus 1) or `spi-0.0` (bus 0, chip select 0).
    pub bus: String,
    /// The I²C address; default: the driver's usual breakout address. Not used on SPI.
    pub address: Option<u8>,
    /// The channels to report; default: all the driver has.
    pub channels: Option<Vec<String>>,
    /// How often to sample: `"1s"`, `"250ms"`. For a FIFO chip (an IMU), the sample period;
    /// the FIFO is then read in bursts.
    pub interval: HumanDuration,
}

/// One pipeline: source sensors → window → features → model or detector → rules → sinks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Its name, in logs, events and metrics.
    pub name: String,
    /// The sensors whose readings enter it.
    pub sources: Vec<String>,
    /// Cut the stream into windows (needed by features).
    pub window: Option<WindowSettings>,
    /// Turn each window into a feature vector.
    pub features: Option<FeatureSettings>,
    /// A model file that scores each feature vector.
    pub model: Option<ModelSettings>,
    /// A detector that learns a healthy baseline and scores each feature vector.
    pub detector: Option<DetectorSettings>,
    /// Conditions that raise events.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// What the rules (or schedules) do: switch outputs, change sampling intervals.
    #[serde(default)]
    pub actions: Vec<ActionConfig>,
    /// PI controllers driving PWM outputs from a channel.
    #[serde(default)]
    pub controllers: Vec<ControllerConfig>,
    /// What goes to the sinks besides events; default: each window's features and score
    /// when the pipeline has `features`, else every reading.
    pub publish: Option<Publish>,
    /// The sinks that receive its readings and events, by name.
    pub sinks: Vec<String>,
}

/// What a pipeline sends to its sinks besides events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publish {
    /// Every reading of its sources.
    Readings,
    /// One reading per window: its features, model outputs and anomaly score.
    Features,
    /// Both.
    Both,
    /// Events only.
    Events,
}

/// A sliding or tumbling window, in samples (frames of all the sources' channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    /// Samples per window.
    pub size: usize,
    /// Samples the window advances by; `size` for tumbling windows.
    pub hop: usize,
}

/// Which features each window yields.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSettings {
    /// Time-domain statistics per channel.
    #[serde(default)]
    pub time: Vec<TimeFeature>,
    /// Spectral features per channel (from a real FFT).
    pub spectral: Option<SpectralSettings>,
}

/// A time-domain statistic (edgewise-infer's `TimeFeature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum TimeFeature {
    Mean,
    Rms,
    Std,
    Peak,
    PeakToPeak,
    CrestFactor,
    Kurtosis,
    Skewness,
}

impl TimeFeature {
    /// The name a config uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Rms => "rms",
            Self::Std => "std",
            Self::Peak => "peak",
            Self::PeakToPeak => "peak_to_peak",
            Self::CrestFactor => "crest_factor",
            Self::Kurtosis => "kurtosis",
            Self::Skewness => "skewness",
        }
    }
}

/// Spectral features.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectralSettings {
    /// The taper before the FFT; default Hann.
    #[serde(default)]
    pub window_function: WindowFunction,
    /// Subtract each channel's mean first (gravity on an accelerometer); default on.
    #[serde(default = "yes")]
    pub remove_mean: bool,
    /// Energy bands, `[low, high]` in Hz.
    #[serde(default)]
    pub bands_hz: Vec<[f32; 2]>,
    /// How many of the strongest peaks to report (frequency and magnitude).
    #[serde(default)]
    pub peaks: usize,
    /// Whether to report the spectral centroid.
    #[serde(default)]
    pub centroid: bool,
}

fn yes() -> bool {
    true
}

/// The taper applied before the FFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowFunction {
    /// None.
    Rectangular,
    /// Periodic Hann.
    #[default]
    Hann,
}

/// A model that runs on each feature vector.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// The model file (`.tflite` or `.onnx`); relative paths are relative to the config file.
    pub path: PathBuf,
    /// Score the model as an autoencoder: its output is compared with its input and the
    /// reconstruction error is the anomaly score.
    #[serde(default)]
    pub autoencoder: bool,
}

/// The baseline anomaly detector (edgewise-infer's `FeatureDetector`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSettings {
    /// Windows learnt as the healthy baseline before scoring starts.
    pub baseline_windows: usize,
    /// The robust z-score above which a window counts as anomalous.
    pub threshold: f32,
}

/// One rule. Which keys apply depends on `kind`; [`RuleConfig::condition`] checks them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule's name, carried by the events it raises.
    pub name: String,
    /// What kind of condition it is.
    pub kind: RuleKind,
    /// The channel (or feature, `accel_x.rms`) it watches; not for `anomaly`.
    pub channel: Option<String>,
    /// `threshold`: raise above this; `hysteresis`: raise above this…
    pub above: Option<f64>,
    /// `threshold`: raise below this; `hysteresis`: raise below this…
    pub below: Option<f64>,
    /// `hysteresis`: …and clear once the value is back below this.
    pub clear_below: Option<f64>,
    /// `hysteresis`: …and clear once the value is back above this.
    pub clear_above: Option<f64>,
    /// `rate_of_change`: raise when the value changes faster than this, per second.
    pub max_per_second: Option<f64>,
    /// `anomaly`: how many consecutive windows must score above `above`.
    pub for_windows: Option<u32>,
}

/// The kinds of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A value above (or below) a limit.
    Threshold,
    /// A value crossing a limit, cleared only after it crosses back past a second one.
    Hysteresis,
    /// A value changing faster than a rate.
    RateOfChange,
    /// The pipeline's anomaly score above a limit for n consecutive windows.
    Anomaly,
}

/// One sink: a transport and an encoder.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// The name pipelines use.
    pub name: String,
    /// `mqtt`, `http`, `coap`, `file` or `stdout`; its settings are in the table of the same
    /// name (`[sinks.mqtt]`).
    pub transport: String,
    /// `json`, `senml-json`, `senml-cbor` or `line`.
    pub encoder: String,
    /// MQTT: where messages go, with `{device}`, `{sensor}`, `{channel}` placeholders.
    pub topic: Option<String>,
    /// MQTT settings.
    pub mqtt: Option<MqttSettings>,
    /// HTTP(S) settings.
    pub http: Option<HttpSettings>,
    /// CoAP settings.
    pub coap: Option<CoapSettings>,
    /// File settings.
    pub file: Option<FileSettings>,
    /// Hold readings back and publish them together, so a radio can stay off between
    /// publications; absent: publish as soon as readings arrive.
    pub batch: Option<BatchSettings>,
}

/// When a sink publishes held-back readings: as soon as `readings` are waiting or the oldest
/// has waited `interval`, whichever comes first (and at shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// Publish once this many readings are waiting.
    pub readings: Option<u32>,
    /// Publish once the oldest waiting reading is this old.
    pub interval: Option<HumanDuration>,
}

/// An MQTT broker.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSettings {
    /// The broker's host name or address.
    pub host: String,
    /// Its port; default 1883, or 8883 with TLS.
    pub port: Option<u16>,
    /// `"3.1.1"` (default) or `"5"`.
    pub protocol: Option<String>,
    /// 0 or 1 (default).
    pub qos: Option<u8>,
    /// The client id; default: the device id.
    pub client_id: Option<String>,
    /// Keep the session across disconnects; default on.
    pub persistent_session: Option<bool>,
    /// Keep-alive interval; default 30 s.
    pub keep_alive: Option<HumanDuration>,
    /// How long a publish waits for PUBACKs; default 10 s.
    pub ack_timeout: Option<HumanDuration>,
    /// TLS; absent: plain TCP.
    pub tls: Option<TlsSettings>,
    /// A username and where its password is.
    pub credentials: Option<MqttCredentials>,
    /// The message the broker publishes when the device vanishes.
    pub last_will: Option<LastWillSettings>,
}

/// A broker login.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttCredentials {
    /// The username (not a secret).
    pub username: String,
    /// Where the password is: `{ file = "…" }` or `{ env = "…" }`.
    pub password: SecretSource,
}

/// An MQTT last will.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastWillSettings {
    /// Its topic.
    pub topic: String,
    /// Its payload, e.g. `offline`.
    pub payload: String,
    /// Whether the broker retains it; default on.
    pub retain: Option<bool>,
}

/// TLS files (PEM).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The CA that signs the server's certificate.
    pub ca_file: PathBuf,
    /// The client certificate, for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// The client key, for mutual TLS.
    pub client_key: Option<PathBuf>,
}

/// An HTTP(S) endpoint that readings are POSTed to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `http://host:port/path` or `https://…`, without credentials.
    pub url: String,
    /// TLS for `https` URLs.
    pub tls: Option<TlsSettings>,
    /// Extra headers that are not secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the `Authorization` header's value (`Bearer …`) is.
    pub authorization: Option<SecretSource>,
    /// The limit for one attempt; default 10 s.
    pub request_timeout: Option<HumanDuration>,
    /// Attempts per batch; default 5.
    pub max_attempts: Option<u32>,
}

/// A CoAP resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoapSettings {
    /// `coap://host[:port]/path`.
    pub url: String,
    /// `post` (default) or `put`.
    #[serde(default)]
    pub method: CoapMethod,
    /// The largest payload per request; default 1024 bytes.
    pub max_payload: Option<ByteSize>,
}

/// The CoAP request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoapMethod {
    /// POST.
    #[default]
    Post,
    /// PUT.
    Put,
}

/// A rotated file of lines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// The file appended to.
    pub path: PathBuf,
    /// Rotate at this size; default 10 MiB.
    pub max_bytes: Option<ByteSize>,
    /// Rotated files to keep; default 5.
    pub keep: Option<u32>,
}

/// The durable outbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// The database file; relative paths are relative to the data directory (`--data-dir`,
    /// default `edgewise-data`). Each sink has its own file beside it, named after the sink
    /// (`outbox.redb` → `outbox-<sink>.redb`), so a sink that is down never holds back another.
    #[serde(default = "default_outbox_path")]
    pub path: PathBuf,
    /// The most bytes of records kept; default 64 MiB.
    pub max_bytes: Option<ByteSize>,
    /// The most readings kept; default one million.
    pub max_readings: Option<u64>,
    /// The longest a reading waits before it is dropped; default 7 days.
    pub max_age: Option<HumanDuration>,
    /// What to do when full; default `drop-oldest`.
    #[serde(default)]
    pub when_full: FullPolicy,
    /// A file holding the 32-byte key that encrypts records at rest; absent: not encrypted.
    pub key_file: Option<PathBuf>,
}

fn default_outbox_path() -> PathBuf {
    PathBuf::from("outbox.redb")
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            path: default_outbox_path(),
            max_bytes: None,
            max_readings: None,
            max_age: None,
            when_full: FullPolicy::default(),
            key_file: None,
        }
    }
}

/// What the outbox does when full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FullPolicy {
    /// Delete the oldest readings to make room.
    #[default]
    DropOldest,
    /// Refuse new readings.
    RefuseNew,
}

/// The health and metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSettings {
    /// `127.0.0.1:9464`: a loopback address and port (the endpoint has no authentication).
    pub listen: String,
}

/// One output: a relay or valve on a GPIO line, a fan or dimmer on a PWM channel, one
/// channel of a PCA9685. Which keys apply depends on `driver`; the checks say which.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActuatorConfig {
    /// The name actions, controllers, remote commands and events use.
    pub name: String,
    /// `gpio`, `pwm` or `pca9685`.
    pub driver: String,
    /// gpio: the line (the BCM number on rpi and sim).
    pub pin: Option<u32>,
    /// gpio on linux: the GPIO chip (default `gpiochip0`).
    pub chip: Option<String>,
    /// gpio: "on" drives the line low.
    pub active_low: Option<bool>,
    /// pwm: the channel of `pwmchip<pwm_chip>` (the rpi PWM channel); pca9685: 0..=15.
    pub channel: Option<u32>,
    /// pwm on linux: the pwmchip number (default 0).
    pub pwm_chip: Option<u32>,
    /// pca9685: its I²C bus (`i2c-1`).
    pub bus: Option<String>,
    /// pca9685: its address (default 0x40).
    pub address: Option<u8>,
    /// pwm, pca9685: the PWM frequency, Hz.
    pub frequency: Option<f64>,
    /// pwm, pca9685: the lowest and highest duty fraction the output may be set to.
    pub duty: Option<DutyRange>,
    /// pwm, pca9685: the output drives a servo (angle commands).
    pub servo: Option<ServoSettings>,
    /// The state applied at start, on shutdown, when control stops and on watchdog.
    pub safe: OutputLevel,
    /// Apply the safe state after this long without a healthy control loop.
    pub watchdog: Option<HumanDuration>,
    /// Whether remote commands may set it; default on.
    pub remote: Option<bool>,
}

impl ActuatorConfig {
    /// Whether remote commands may set it.
    pub fn accepts_remote(&self) -> bool {
        self.remote.unwrap_or(true)
    }

    /// Whether it is a switch (on/off only) rather than a PWM output.
    pub fn is_switch(&self) -> bool {
        self.driver == "gpio"
    }
}

/// The duty fractions a PWM output may be set to.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyRange {
    /// The lowest non-zero duty (a fan that stalls below it).
    pub min: f64,
    /// The highest duty.
    pub max: f64,
}

/// A servo's pulse range.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServoSettings {
    /// The pulse at angle 0, µs.
    pub min_pulse_us: u32,
    /// The pulse at `range_degrees`, µs.
    pub max_pulse_us: u32,
    /// Degrees between the end positions.
    pub range_degrees: f64,
}

/// What an output is set to, as a config writes it: `"on"`, `"off"` (or `true`/`false`), or
/// a duty fraction `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputLevel {
    /// Off.
    Off,
    /// On.
    On,
    /// A duty fraction (checked to be within 0..=1).
    Fraction(f64),
}

impl std::fmt::Display for OutputLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::On => f.write_str("on"),
            Self::Fraction(x) => write!(f, "{x}"),
        }
    }
}

impl<'de> Deserialize<'de> for OutputLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LevelVisitor;
        impl serde::de::Visitor<'_> for LevelVisitor {
            type Value = OutputLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"on\", \"off\" or a duty fraction from 0.0 to 1.0")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OutputLevel, E> {
                match v {
                    "on" => Ok(OutputLevel::On),
                    "off" => Ok(OutputLevel::Off),
                    other => Err(E::custom(format!(
                        "unknown output level `{other}`, expected \"on\", \"off\" or a duty fraction from 0.0 to 1.0"
                    ))),
                }
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<OutputLevel, E> {
                Ok(if v { OutputLevel::On } else { OutputLevel::Off })
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<OutputLevel, E> {
                Ok(OutputLevel::Fraction(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<OutputLevel, E> {
                Ok(OutputLevel::Fraction(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<OutputLevel, E> {
                Ok(OutputLevel::Fraction(v as f64))
            }
        }
        deserializer.deserialize_any(LevelVisitor)
    }
}

/// An action of a pipeline: while its rule is raised (or its schedule is on), an output is
/// set to `on`, else to `off`; or a sensor is sampled at another interval.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// Its name, in events and logs.
    pub name: String,
    /// The rule of this pipeline that drives it (xor `schedule`).
    pub when: Option<String>,
    /// A time schedule that drives it (xor `when`).
    pub schedule: Option<ScheduleSettings>,
    /// The output it sets (xor `sample`).
    pub actuator: Option<String>,
    /// The value while raised; default "on".
    pub on: Option<OutputLevel>,
    /// The value while cleared; default "off".
    pub off: Option<OutputLevel>,
    /// The shortest time the output stays on once switched on.
    pub min_on: Option<HumanDuration>,
    /// The shortest time it stays off once switched off.
    pub min_off: Option<HumanDuration>,
    /// While raised, remote commands to the actuator are refused.
    pub interlock: Option<bool>,
    /// Adaptive sampling: while raised, sample this sensor at this interval.
    pub sample: Option<SampleSettings>,
}

/// When a scheduled action is on: `every`/`on_for`, or daily UTC windows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// The period; the action switches on at every multiple of it since the Unix epoch
    /// (`"1h"`: at the top of each hour, UTC).
    pub every: Option<HumanDuration>,
    /// How long it stays on each period.
    pub on_for: Option<HumanDuration>,
    /// Daily windows, UTC: `["06:00-08:00", "18:30-19:00"]`.
    pub daily: Option<Vec<String>>,
}

/// A sensor's interval while an action is raised.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSettings {
    /// The sensor.
    pub sensor: String,
    /// Its interval while raised.
    pub interval: HumanDuration,
}

/// A PI controller that drives a PWM output towards a setpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerConfig {
    /// Its name, in events and logs.
    pub name: String,
    /// The PWM output it drives.
    pub actuator: String,
    /// The channel of this pipeline's sources it regulates.
    pub channel: String,
    /// The value it regulates towards.
    pub setpoint: f64,
    /// Proportional gain: output per unit of error.
    pub kp: f64,
    /// Integral gain: output per unit of error and second; default 0 (P only).
    pub ki: Option<f64>,
    /// `direct`: the output rises below the setpoint (a heater); `reverse`: above (a cooler).
    pub direction: ControlDirection,
    /// The output's range, duty fractions; default 0.0 to 1.0.
    pub output: Option<DutyRange>,
}

/// Which way a controller's output moves with the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlDirection {
    /// The output rises while the value is below the setpoint (a heater).
    Direct,
    /// The output rises while the value is above the setpoint (a cooler).
    Reverse,
}

/// Remote commands over MQTT.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSettings {
    /// The MQTT sink whose broker, TLS and credentials the command client reuses.
    pub sink: String,
    /// Where commands arrive; default `edgewise/{device}/commands`.
    pub topic: Option<String>,
    /// Where replies go; default `edgewise/{device}/commands/reply`.
    pub reply_topic: Option<String>,
    /// The operator's Ed25519 public key (PEM) that signs commands (xor `hmac_key`).
    pub ed25519_public_key: Option<PathBuf>,
    /// Where the shared HMAC-SHA256 key is (xor `ed25519_public_key`).
    pub hmac_key: Option<SecretSource>,
    /// Commands expiring further ahead than this are refused.
    pub max_ttl: Option<HumanDuration>,
}

impl CommandSettings {
    /// The command topic.
    pub fn topic(&self) -> &str {
        self.topic
            .as_deref()
            .unwrap_or("edgewise/{device}/commands")
    }

    /// The reply topic.
    pub fn reply_topic(&self) -> &str {
        self.reply_topic
            .as_deref()
            .unwrap_or("edgewise/{device}/commands/reply")
    }
}
