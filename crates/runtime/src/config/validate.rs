//! Checks beyond types: references between tables (a pipeline's sensors and sinks), names
//! from fixed lists (drivers, transports, encoders, channels), ranges, and combinations that
//! cannot work (an I²C-only chip on an SPI bus, a bus the board does not have, a binary
//! encoding on a line-oriented sink).
//!
//! Every check runs; each problem is an `Issue` naming the key path it concerns, which the
//! caller turns into a position in the file.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use edgewise_link::transport::mqtt::TopicTemplate;

use super::drivers::{self, DriverInfo, Interfaces};
use super::error::unknown;
use super::schema::{
    Board, Config, PipelineConfig, RuleConfig, RuleKind, SensorConfig, SinkConfig,
};

/// One problem: the key path it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    pub path: String,
    pub message: String,
}

/// The transports a sink can use.
pub const TRANSPORTS: &[&str] = &["mqtt", "http", "coap", "file", "stdout"];
/// The encoders a sink can use.
pub const ENCODERS: &[&str] = &["json", "senml-json", "senml-cbor", "line"];

/// A sensor's bus, parsed from `i2c-N` or `spi-B.C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// I²C bus N (`/dev/i2c-N`).
    I2c(u8),
    /// SPI bus B, chip select C (`/dev/spidevB.C`).
    Spi {
        /// The bus.
        bus: u8,
        /// The chip select.
        chip_select: u8,
    },
}

impl Bus {
    /// Parses `i2c-1` or `spi-0.1`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "expected `i2c-N` (e.g. `i2c-1` for /dev/i2c-1) or `spi-B.C` (e.g. \
                        `spi-0.0` for /dev/spidev0.0)";
        if let Some(number) = text.strip_prefix("i2c-") {
            if let Ok(bus) = number.parse() {
                return Ok(Self::I2c(bus));
            }
        }
        if let Some(rest) = text.strip_prefix("spi-") {
            if let Some((bus, cs)) = rest.split_once('.') {
                if let (Ok(bus), Ok(chip_select)) = (bus.parse(), cs.parse()) {
                    return Ok(Self::Spi { bus, chip_select });
                }
            }
        }
        Err(format!("unknown bus `{text}`; {expected}"))
    }
}

impl SensorConfig {
    /// The bus, parsed.
    pub fn parsed_bus(&self) -> Result<Bus, String> {
        Bus::parse(&self.bus)
    }

    /// The driver's description, if the driver is known.
    pub fn driver_info(&self) -> Option<&'static DriverInfo> {
        drivers::driver(&self.driver)
    }

    /// The channels it reports: those configured, or all the driver has.
    pub fn effective_channels(&self) -> Vec<String> {
        match (&self.channels, self.driver_info()) {
            (Some(channels), _) => channels.clone(),
            (None, Some(info)) => info.channels.iter().map(|c| c.to_string()).collect(),
            (None, None) => Vec::new(),
        }
    }

    /// The I²C address: the configured one or the driver's usual one.
    pub fn effective_address(&self) -> Option<u8> {
        self.address.or_else(|| {
            self.driver_info()
                .and_then(|d| d.addresses.first().copied())
        })
    }
}

/// A rule's condition, with the keys its kind needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Raised while the value is above `above` or below `below` (either or both).
    Threshold {
        /// The channel or feature.
        channel: String,
        /// Upper limit.
        above: Option<f64>,
        /// Lower limit.
        below: Option<f64>,
    },
    /// Raised when the value crosses `raise`, cleared when it crosses back past `clear`.
    Hysteresis {
        /// The channel or feature.
        channel: String,
        /// Where it is raised.
        raise: Limit,
        /// Where it is cleared (on the near side of `raise`).
        clear: f64,
    },
    /// Raised when the value changes faster than `max_per_second` (either direction).
    RateOfChange {
        /// The channel or feature.
        channel: String,
        /// The largest change per second that is normal.
        max_per_second: f64,
    },
    /// Raised when the anomaly score is above `above` for `for_windows` windows in a row.
    Anomaly {
        /// The score limit.
        above: f64,
        /// Consecutive windows.
        for_windows: u32,
    },
}

/// Which side of a limit raises a hysteresis rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// Raised above the value.
    Above(f64),
    /// Raised below the value.
    Below(f64),
}

impl RuleConfig {
    /// The condition this rule describes, or each key that is missing, misplaced or out of
    /// range (key name, message).
    pub fn condition(&self) -> Result<Condition, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let kind = kind_name(self.kind);
        let present = [
            ("channel", self.channel.is_some()),
            ("above", self.above.is_some()),
            ("below", self.below.is_some()),
            ("clear_below", self.clear_below.is_some()),
            ("clear_above", self.clear_above.is_some()),
            ("max_per_second", self.max_per_second.is_some()),
            ("for_windows", self.for_windows.is_some()),
        ];
        let allowed: &[&str] = match self.kind {
            RuleKind::Threshold => &["channel", "above", "below"],
            RuleKind::Hysteresis => &["channel", "above", "below", "clear_below", "clear_above"],
            RuleKind::RateOfChange => &["channel", "max_per_second"],
            RuleKind::Anomaly => &["above", "for_windows"],
        };
        for (key, is_present) in present {
            if is_present && !allowed.contains(&key) {
                problems.push((
                    key,
                    format!(
                        "does not apply to a `{kind}` rule (it takes: {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        for (key, value) in [
            ("above", self.above),
            ("below", self.below),
            ("clear_below", self.clear_below),
            ("clear_above", self.clear_above),
            ("max_per_second", self.max_per_second),
        ] {
            if value.is_some_and(|v| !v.is_finite()) {
                problems.push((key, "must be a finite number".to_string()));
            }
        }
        let mut channel = || match &self.channel {
            Some(channel) => channel.clone(),
            None => {
                problems.push((
                    "channel",
                    format!("a `{kind}` rule needs the channel it watches"),
                ));
                String::new()
            }
        };
        let condition = match self.kind {
            RuleKind::Threshold => {
                let channel = channel();
                if self.above.is_none() && self.below.is_none() {
                    problems.push((
                        "above",
                        "a threshold rule needs `above`, `below` or both".into(),
                    ));
                }
                if let (Some(above), Some(below)) = (self.above, self.below) {
                    if below >= above {
                        problems.push((
                            "below",
                            format!("must be less than `above` ({above}); otherwise the rule is always raised"),
                        ));
                    }
                }
                Condition::Threshold {
                    channel,
                    above: self.above,
                    below: self.below,
                }
            }
            RuleKind::Hysteresis => {
                let channel = channel();
                let (raise, clear) = match (
                    self.above,
                    self.below,
                    self.clear_below,
                    self.clear_above,
                ) {
                    (Some(above), None, Some(clear), None) => {
                        if clear >= above {
                            problems.push((
                                "clear_below",
                                format!("must be less than `above` ({above}): the rule clears on the way back down"),
                            ));
                        }
                        (Limit::Above(above), clear)
                    }
                    (None, Some(below), None, Some(clear)) => {
                        if clear <= below {
                            problems.push((
                                "clear_above",
                                format!("must be greater than `below` ({below}): the rule clears on the way back up"),
                            ));
                        }
                        (Limit::Below(below), clear)
                    }
                    _ => {
                        problems.push((
                            "above",
                            "a hysteresis rule needs `above` with `clear_below`, or `below` with `clear_above`".into(),
                        ));
                        (Limit::Above(0.0), 0.0)
                    }
                };
                Condition::Hysteresis {
                    channel,
                    raise,
                    clear,
                }
            }
            RuleKind::RateOfChange => {
                let channel = channel();
                let max_per_second = match self.max_per_second {
                    Some(rate) if rate > 0.0 => rate,
                    Some(_) => {
                        problems.push(("max_per_second", "must be greater than zero".into()));
                        0.0
                    }
                    None => {
                        problems.push((
                            "max_per_second",
                            "a rate_of_change rule needs `max_per_second`".into(),
                        ));
                        0.0
                    }
                };
                Condition::RateOfChange {
                    channel,
                    max_per_second,
                }
            }
            RuleKind::Anomaly => {
                let above = self.above.unwrap_or_else(|| {
                    problems.push((
                        "above",
                        "an anomaly rule needs the score limit `above`".into(),
                    ));
                    0.0
                });
                let for_windows = match self.for_windows {
                    None => 1,
                    Some(0) => {
                        problems.push(("for_windows", "must be at least 1".into()));
                        1
                    }
                    Some(n) => n,
                };
                Condition::Anomaly { above, for_windows }
            }
        };
        if problems.is_empty() {
            Ok(condition)
        } else {
            Err(problems)
        }
    }
}

fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Threshold => "threshold",
        RuleKind::Hysteresis => "hysteresis",
        RuleKind::RateOfChange => "rate_of_change",
        RuleKind::Anomaly => "anomaly",
    }
}

/// Collects the issues of a whole config (its outputs' checks are in `control.rs`).
pub(super) struct Checker<'a> {
    pub(super) config: &'a Config,
    pub(super) issues: Vec<Issue>,
}

impl Checker<'_> {
    pub(super) fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Reports names that are empty, unsafe in topics, or used twice in one list.
    pub(super) fn check_names<'n>(&mut self, list: &str, names: impl Iterator<Item = &'n str>) {
        let mut seen = HashSet::new();
        for (i, name) in names.enumerate() {
            let path = format!("{list}[{i}].name");
            if let Err(problem) = check_identifier(name) {
                self.report(&path, problem);
            } else if !seen.insert(name) {
                self.report(
                    &path,
                    format!("`{name}` is already the name of another entry in `{list}`"),
                );
            }
        }
    }

    fn device(&mut self) {
        if let Err(problem) = check_identifier(&self.config.device.id) {
            self.report("device.id", problem);
        }
    }

    fn sensors(&mut self) {
        let config = self.config;
        if config.sensors.is_empty() {
            self.report(
                "sensors",
                "no sensors: add at least one `[[sensors]]` table",
            );
        }
        self.check_names("sensors", config.sensors.iter().map(|s| s.name.as_str()));
        for (i, sensor) in config.sensors.iter().enumerate() {
            self.sensor(&format!("sensors[{i}]"), sensor);
        }
    }

    fn sensor(&mut self, at: &str, sensor: &SensorConfig) {
        if sensor.interval.get().is_zero() {
            self.report(
                format!("{at}.interval"),
                "must be longer than zero, e.g. \"1s\"",
            );
        }
        let Some(info) = sensor.driver_info() else {
            let names: Vec<String> = drivers::driver_names().map(String::from).collect();
            self.report(
                format!("{at}.driver"),
                unknown("driver", &sensor.driver, &names),
            );
            return;
        };
        if let Some(channels) = &sensor.channels {
            if channels.is_empty() {
                self.report(
                    format!("{at}.channels"),
                    "is empty; leave it out to report every channel",
                );
            }
            let allowed: Vec<String> = info.channels.iter().map(|c| c.to_string()).collect();
            let mut seen = HashSet::new();
            for (j, channel) in channels.iter().enumerate() {
                let path = format!("{at}.channels[{j}]");
                if !info.channels.contains(&channel.as_str()) {
                    let message = unknown(&format!("{} channel", info.name), channel, &allowed);
                    self.report(path, message);
                } else if !seen.insert(channel) {
                    self.report(path, format!("`{channel}` is listed twice"));
                }
            }
        }
        let bus = match sensor.parsed_bus() {
            Ok(bus) => bus,
            Err(problem) => {
                self.report(format!("{at}.bus"), problem);
                return;
            }
        };
        match bus {
            Bus::I2c(number) => {
                if let Some(address) = sensor.address {
                    if !info.addresses.contains(&address) {
                        let list: Vec<String> = info
                            .addresses
                            .iter()
                            .map(|a| format!("0x{a:02X}"))
                            .collect();
                        self.report(
                            format!("{at}.address"),
                            format!(
                                "the {} answers on {}, not 0x{address:02X}",
                                info.name,
                                one_of(&list)
                            ),
                        );
                    }
                }
                if self.config.board == Board::Rpi && !RPI_I2C_BUSES.contains(&number) {
                    self.report(
                        format!("{at}.bus"),
                        format!(
                            "the rpi board has no I²C bus {number} for sensors (I2C2 and I2C7 drive \
                             HDMI); use i2c-1 (pins 3 and 5) or i2c-0, i2c-3 … i2c-6 after \
                             enabling their overlay"
                        ),
                    );
                }
            }
            Bus::Spi { bus, chip_select } => {
                if info.interfaces == Interfaces::I2c {
                    self.report(
                        format!("{at}.bus"),
                        format!("the {} speaks I²C only; expected `i2c-N`", info.name),
                    );
                } else if self.config.board == Board::Sim && !info.simulated_on_spi {
                    self.report(
                        format!("{at}.bus"),
                        format!("the sim board simulates the {} on I²C only", info.name),
                    );
                }
                if sensor.address.is_some() {
                    self.report(
                        format!("{at}.address"),
                        "an SPI device is chosen by its chip select, not an address; remove `address`",
                    );
                }
                if self.config.board == Board::Rpi {
                    if let Some(max_cs) = rpi_spi_chip_selects(bus) {
                        if chip_select > max_cs {
                            self.report(
                                format!("{at}.bus"),
                                format!("SPI{bus} on the rpi board has chip selects 0 to {max_cs}"),
                            );
                        }
                    } else {
                        self.report(
                            format!("{at}.bus"),
                            format!("the rpi board has no SPI bus {bus}; expected spi-0, spi-1 or spi-3 … spi-6"),
                        );
                    }
                }
            }
        }
    }

    fn pipelines(&mut self) {
        let config = self.config;
        if config.pipelines.is_empty() {
            self.report(
                "pipelines",
                "no pipelines: add at least one `[[pipelines]]` table",
            );
        }
        self.check_names(
            "pipelines",
            config.pipelines.iter().map(|p| p.name.as_str()),
        );
        for (i, pipeline) in config.pipelines.iter().enumerate() {
            self.pipeline(&format!("pipelines[{i}]"), pipeline);
        }
    }

    fn pipeline(&mut self, at: &str, pipeline: &PipelineConfig) {
        let config = self.config;
        let sensor_names: Vec<String> = config.sensors.iter().map(|s| s.name.clone()).collect();
        let sink_names: Vec<String> = config.sinks.iter().map(|s| s.name.clone()).collect();
        if pipeline.sources.is_empty() {
            self.report(
                format!("{at}.sources"),
                "is empty; name at least one sensor",
            );
        }
        let mut sources = Vec::new();
        for (j, source) in pipeline.sources.iter().enumerate() {
            match config.sensors.iter().find(|s| &s.name == source) {
                Some(sensor) => sources.push(sensor),
                None => self.report(
                    format!("{at}.sources[{j}]"),
                    unknown("sensor", source, &sensor_names),
                ),
            }
        }
        if pipeline.sinks.is_empty() {
            self.report(format!("{at}.sinks"), "is empty; name at least one sink");
        }
        for (j, sink) in pipeline.sinks.iter().enumerate() {
            if !sink_names.contains(sink) {
                self.report(
                    format!("{at}.sinks[{j}]"),
                    unknown("sink", sink, &sink_names),
                );
            }
        }

        if let Some(window) = pipeline.window {
            if window.size < 2 {
                self.report(format!("{at}.window.size"), "must be at least 2 samples");
            }
            if window.hop == 0 {
                self.report(format!("{at}.window.hop"), "must be at least 1 sample");
            }
            let intervals: HashSet<Duration> = sources.iter().map(|s| s.interval.get()).collect();
            if intervals.len() > 1 {
                self.report(
                    format!("{at}.window"),
                    "the sources of a windowed pipeline must share one sampling interval",
                );
            }
        }
        let sample_rate_hz = sources
            .first()
            .map(|s| s.interval.get().as_secs_f64())
            .filter(|&period| period > 0.0)
            .map(|period| 1.0 / period);
        if let Some(features) = &pipeline.features {
            if pipeline.window.is_none() {
                self.report(
                    format!("{at}.features"),
                    "features are computed per window: add `window`",
                );
            }
            if features.time.is_empty() && features.spectral.is_none() {
                self.report(
                    format!("{at}.features"),
                    "selects no features: add `time` or `spectral`",
                );
            }
            if let (Some(spectral), Some(rate)) = (&features.spectral, sample_rate_hz) {
                let nyquist = rate / 2.0;
                for (j, [low, high]) in spectral.bands_hz.iter().enumerate() {
                    let path = format!("{at}.features.spectral.bands_hz[{j}]");
                    if !(low.is_finite() && high.is_finite() && *low >= 0.0 && low < high) {
                        self.report(path, "expected [low, high] with 0 <= low < high");
                    } else if f64::from(*high) > nyquist {
                        self.report(
                            path,
                            format!(
                                "{high} Hz is above the Nyquist frequency ({nyquist} Hz) of \
                                 sources sampled every {}",
                                sources
                                    .first()
                                    .map(|s| s.interval.to_string())
                                    .unwrap_or_default()
                            ),
                        );
                    }
                }
            }
        }
        if pipeline.model.is_some() && pipeline.detector.is_some() {
            self.report(
                format!("{at}.detector"),
                "a pipeline runs a model or a detector, not both",
            );
        }
        for (key, present) in [
            ("model", pipeline.model.is_some()),
            ("detector", pipeline.detector.is_some()),
        ] {
            if present && pipeline.features.is_none() {
                self.report(
                    format!("{at}.{key}"),
                    format!("a {key} scores feature vectors: add `features`"),
                );
            }
        }
        if let Some(detector) = pipeline.detector {
            if detector.baseline_windows < 2 {
                self.report(
                    format!("{at}.detector.baseline_windows"),
                    "must be at least 2: a baseline of one window has no spread",
                );
            }
            if !(detector.threshold.is_finite() && detector.threshold > 0.0) {
                self.report(
                    format!("{at}.detector.threshold"),
                    "must be a positive number",
                );
            }
        }

        let channels: Vec<String> = sources
            .iter()
            .flat_map(|s| s.effective_channels())
            .collect();
        let scores = pipeline.model.is_some() || pipeline.detector.is_some();
        for (j, rule) in pipeline.rules.iter().enumerate() {
            let rule_at = format!("{at}.rules[{j}]");
            if let Err(problems) = rule.condition() {
                for (key, message) in problems {
                    self.report(format!("{rule_at}.{key}"), message);
                }
            }
            if rule.kind == RuleKind::Anomaly && !scores {
                self.report(
                    format!("{rule_at}.kind"),
                    "an anomaly rule needs a `detector` or `model` in its pipeline to score windows",
                );
            }
            // A feature is `channel.feature`; its channel part must be a source's channel.
            if let (Some(channel), false) = (&rule.channel, sources.is_empty()) {
                let base = channel.split('.').next().unwrap_or_default();
                if rule.kind != RuleKind::Anomaly && !channels.iter().any(|c| c == base) {
                    self.report(
                        format!("{rule_at}.channel"),
                        unknown("channel", channel, &channels),
                    );
                }
            }
        }
    }

    fn sinks(&mut self) {
        let config = self.config;
        if config.sinks.is_empty() {
            self.report("sinks", "no sinks: add at least one `[[sinks]]` table");
        }
        self.check_names("sinks", config.sinks.iter().map(|s| s.name.as_str()));
        for (i, sink) in config.sinks.iter().enumerate() {
            self.sink(&format!("sinks[{i}]"), sink);
        }
    }

    fn sink(&mut self, at: &str, sink: &SinkConfig) {
        let transport = sink.transport.as_str();
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if !TRANSPORTS.contains(&transport) {
            self.report(
                format!("{at}.transport"),
                unknown("transport", transport, &names(TRANSPORTS)),
            );
        }
        if !ENCODERS.contains(&sink.encoder.as_str()) {
            self.report(
                format!("{at}.encoder"),
                unknown("encoder", &sink.encoder, &names(ENCODERS)),
            );
        } else if matches!(transport, "file" | "stdout") && sink.encoder == "senml-cbor" {
            self.report(
                format!("{at}.encoder"),
                format!("senml-cbor is binary and the {transport} transport writes lines; use json, senml-json or line"),
            );
        }
        // Each transport's settings live in the table of its name; a table for another
        // transport is a mistake (a copy-paste leftover, or the wrong `transport`).
        let tables = [
            ("mqtt", sink.mqtt.is_some()),
            ("http", sink.http.is_some()),
            ("coap", sink.coap.is_some()),
            ("file", sink.file.is_some()),
        ];
        for (name, present) in tables {
            if present && name != transport && TRANSPORTS.contains(&transport) {
                self.report(
                    format!("{at}.{name}"),
                    format!("settings for the {name} transport, but this sink's transport is `{transport}`"),
                );
            }
            if !present && name == transport {
                self.report(
                    at.to_string(),
                    format!("the {name} transport needs a `[{at}.{name}]` table"),
                );
            }
        }
        if let Some(batch) = sink.batch {
            if batch.readings.is_none() && batch.interval.is_none() {
                self.report(
                    format!("{at}.batch"),
                    "says neither `readings` nor `interval`: when should the batch go out?",
                );
            }
            if batch.readings == Some(0) {
                self.report(format!("{at}.batch.readings"), "must be at least 1");
            }
            if batch.interval.is_some_and(|i| i.get().is_zero()) {
                self.report(format!("{at}.batch.interval"), "must be longer than 0");
            }
        }
        if let Some(topic) = &sink.topic {
            if transport != "mqtt" {
                self.report(format!("{at}.topic"), "only mqtt sinks have a topic");
            } else if let Err(e) = TopicTemplate::parse(topic) {
                self.report(format!("{at}.topic"), e.problem);
            }
        }
        if let Some(mqtt) = &sink.mqtt {
            if mqtt.host.is_empty() {
                self.report(format!("{at}.mqtt.host"), "is empty");
            }
            if mqtt.port == Some(0) {
                self.report(
                    format!("{at}.mqtt.port"),
                    "0 is not a port a broker can listen on",
                );
            }
            if let Some(protocol) = &mqtt.protocol {
                if !matches!(protocol.as_str(), "3.1.1" | "5") {
                    self.report(
                        format!("{at}.mqtt.protocol"),
                        format!("unknown MQTT version `{protocol}`, expected \"3.1.1\" or \"5\""),
                    );
                }
            }
            if mqtt.qos.is_some_and(|q| q > 1) {
                self.report(
                    format!("{at}.mqtt.qos"),
                    "expected 0 or 1 (QoS 2 is not supported)",
                );
            }
            if mqtt
                .keep_alive
                .is_some_and(|k| k.get() < Duration::from_secs(1))
            {
                self.report(format!("{at}.mqtt.keep_alive"), "must be at least 1s");
            }
            if mqtt.ack_timeout.is_some_and(|t| t.get().is_zero()) {
                self.report(format!("{at}.mqtt.ack_timeout"), "must be longer than zero");
            }
            if let Some(tls) = &mqtt.tls {
                self.tls(&format!("{at}.mqtt.tls"), tls);
            }
        }
        if let Some(http) = &sink.http {
            let scheme = http.url.split_once("://").map(|(s, _)| s);
            match scheme {
                Some("http") | Some("https") => {}
                _ => self.report(
                    format!("{at}.http.url"),
                    "expected an http:// or https:// URL",
                ),
            }
            let authority = http
                .url
                .split_once("://")
                .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
            if authority.contains('@') {
                // Not quoted: the part before `@` is a password.
                self.report(
                    format!("{at}.http.url"),
                    "holds credentials (`user:password@`); put them in `authorization = { file = … }` instead",
                );
            }
            if scheme == Some("https") && http.tls.is_none() {
                self.report(
                    format!("{at}.http"),
                    format!("an https URL needs `[{at}.http.tls]` with the CA file that signs the server's certificate"),
                );
            }
            if scheme == Some("http") && http.tls.is_some() {
                self.report(
                    format!("{at}.http.tls"),
                    "TLS settings for a plain http:// URL; use https://",
                );
            }
            for name in http.headers.keys() {
                if name.eq_ignore_ascii_case("authorization") {
                    self.report(
                        super::spans::join(&format!("{at}.http.headers"), name),
                        "secrets are not written in the config: use `authorization = { file = \"…\" }` or `{ env = \"…\" }`",
                    );
                }
            }
            if http.max_attempts == Some(0) {
                self.report(format!("{at}.http.max_attempts"), "must be at least 1");
            }
            if let Some(tls) = &http.tls {
                self.tls(&format!("{at}.http.tls"), tls);
            }
        }
        if let Some(coap) = &sink.coap {
            if !coap.url.starts_with("coap://") {
                self.report(
                    format!("{at}.coap.url"),
                    "expected a coap:// URL (coaps is not supported)",
                );
            }
        }
        if let Some(file) = &sink.file {
            if file.path.as_os_str().is_empty() {
                self.report(format!("{at}.file.path"), "is empty");
            }
            if file.max_bytes.is_some_and(|b| b.0 == 0) {
                self.report(format!("{at}.file.max_bytes"), "must be more than zero");
            }
        }
    }

    fn tls(&mut self, at: &str, tls: &super::schema::TlsSettings) {
        if tls.client_cert.is_some() != tls.client_key.is_some() {
            self.report(
                at.to_string(),
                "mutual TLS needs both `client_cert` and `client_key`",
            );
        }
    }

    fn outbox(&mut self) {
        let outbox = &self.config.outbox;
        if outbox.path.as_os_str().is_empty() {
            self.report("outbox.path", "is empty");
        }
        if outbox.max_bytes.is_some_and(|b| b.0 == 0) {
            self.report("outbox.max_bytes", "must be more than zero");
        }
        if outbox.max_readings == Some(0) {
            self.report("outbox.max_readings", "must be more than zero");
        }
        if outbox.max_age.is_some_and(|a| a.get().is_zero()) {
            self.report("outbox.max_age", "must be longer than zero");
        }
    }

    fn sim(&mut self) {
        if self.config.sim.is_some() && self.config.board != Board::Sim {
            self.report(
                "sim",
                format!(
                    "a simulation scenario, but the board is `{}`; remove `[sim]` or use board = \"sim\"",
                    self.config.board.name()
                ),
            );
        }
    }

    fn health(&mut self) {
        let Some(health) = &self.config.health else {
            return;
        };
        match health.listen.parse::<SocketAddr>() {
            Ok(address) if address.ip().is_loopback() => {}
            Ok(address) => self.report(
                "health.listen",
                format!(
                    "{} is not a loopback address; the endpoint has no authentication, so it \
                     listens on 127.0.0.1 or ::1 only (put a proxy in front to expose it)",
                    address.ip()
                ),
            ),
            Err(_) => self.report(
                "health.listen",
                format!(
                    "expected a loopback address and port like \"127.0.0.1:9464\", found \"{}\"",
                    health.listen
                ),
            ),
        }
    }
}

/// The I²C buses a Raspberry Pi offers for sensors (rppal's numbering).
const RPI_I2C_BUSES: &[u8] = &[0, 1, 3, 4, 5, 6];

/// The highest chip select of a Raspberry Pi SPI bus, or `None` for a bus it does not have.
fn rpi_spi_chip_selects(bus: u8) -> Option<u8> {
    match bus {
        0 | 3..=6 => Some(1),
        1 => Some(2),
        _ => None,
    }
}

/// Names that appear in topics, metrics and file names: letters, digits, `-`, `_`, `.`.
pub(crate) fn check_identifier(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{bad:?} is not allowed; use letters, digits, `-`, `_` and `.` (names appear in topics and metrics)"
        ));
    }
    Ok(())
}

/// "0x76 or 0x77", "0x44, 0x45 or 0x46".
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Every semantic problem of `config`.
pub(crate) fn check(config: &Config) -> Vec<Issue> {
    let mut checker = Checker {
        config,
        issues: Vec::new(),
    };
    checker.device();
    checker.sensors();
    checker.pipelines();
    checker.sinks();
    checker.outbox();
    checker.health();
    checker.sim();
    checker.actuators();
    checker.control();
    checker.commands();
    checker.issues
}
