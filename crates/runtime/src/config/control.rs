//! Outputs and local control in the config: the checks of `[[actuators]]`,
//! `[[pipelines.actions]]`, `[[pipelines.controllers]]` and `[commands]`, and the mapping of
//! a checked actuator onto what a board opens ([`ActuatorSpec`]).
//!
//! The checks follow the same rules as the rest of [`super::validate`]: every problem is
//! reported at the key it concerns, with what is expected or a close match.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use edgewise_boards::{ActuatorSpec, BusAddress, OutputSpec, ServoSpec};
use edgewise_link::transport::mqtt::TopicTemplate;
use edgewise_sensors::actuator::{Polarity, State};

use super::error::unknown;
use super::schema::{
    ActionConfig, ActuatorConfig, Config, ControllerConfig, OutputLevel, PipelineConfig,
    ScheduleSettings,
};
use super::validate::Checker;

/// The drivers an actuator can use.
pub const ACTUATOR_DRIVERS: &[&str] = &["gpio", "pwm", "pca9685"];
/// The frequencies a PCA9685 can make, Hz (prescale 255 down to 3 at its 25 MHz oscillator).
pub const PCA9685_FREQUENCY_HZ: (f64, f64) = (24.0, 1526.0);

impl OutputLevel {
    /// The state this level sets.
    pub fn state(self) -> State {
        match self {
            Self::Off => State::Off,
            Self::On => State::On,
            // Checked to be within 0..=1; an f32 holds a duty fraction's precision.
            #[allow(clippy::cast_possible_truncation)]
            Self::Fraction(x) => State::Fraction(x as f32),
        }
    }
}

impl ActuatorConfig {
    /// The state the config declares safe.
    pub fn safe_state(&self) -> State {
        self.safe.state()
    }

    /// What a board opens for this (checked) actuator.
    pub fn spec(&self) -> ActuatorSpec {
        let frequency_hz = self.frequency.unwrap_or(50.0);
        let channel = self.channel.unwrap_or(0);
        let output = match self.driver.as_str() {
            "pwm" => OutputSpec::Pwm {
                chip: self.pwm_chip.unwrap_or(0),
                channel,
                frequency_hz,
            },
            "pca9685" => OutputSpec::Pca9685 {
                bus: self
                    .bus
                    .as_deref()
                    .and_then(BusAddress::parse)
                    .unwrap_or(BusAddress::I2c { bus: 1 }),
                address: self.address.unwrap_or(0x40),
                channel: u8::try_from(channel).unwrap_or(0),
                frequency_hz,
            },
            _ => OutputSpec::Gpio {
                chip: self.chip.clone(),
                line: self.pin.unwrap_or(0),
                polarity: if self.active_low.unwrap_or(false) {
                    Polarity::ActiveLow
                } else {
                    Polarity::ActiveHigh
                },
            },
        };
        // Checked to be within 0..=1.
        #[allow(clippy::cast_possible_truncation)]
        let duty_limits = self.duty.map(|d| (d.min as f32, d.max as f32));
        #[allow(clippy::cast_possible_truncation)]
        let servo = self.servo.map(|s| ServoSpec {
            min_pulse_us: s.min_pulse_us,
            max_pulse_us: s.max_pulse_us,
            range_degrees: s.range_degrees as f32,
        });
        ActuatorSpec {
            name: self.name.clone(),
            output,
            safe_state: self.safe_state(),
            duty_limits,
            servo,
        }
    }
}

impl Config {
    /// The actuator called `name`.
    pub fn actuator(&self, name: &str) -> Option<&ActuatorConfig> {
        self.actuators.iter().find(|a| a.name == name)
    }

    /// The pipeline (by index) whose actions or controllers drive each actuator.
    pub fn actuator_drivers(&self) -> BTreeMap<&str, usize> {
        let mut drivers = BTreeMap::new();
        for (index, pipeline) in self.pipelines.iter().enumerate() {
            for name in pipeline.driven_actuators() {
                drivers.entry(name).or_insert(index);
            }
        }
        drivers
    }
}

impl PipelineConfig {
    /// The actuators its actions and controllers set.
    pub fn driven_actuators(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .actions
            .iter()
            .filter_map(|a| a.actuator.as_deref())
            .chain(self.controllers.iter().map(|c| c.actuator.as_str()))
            .collect();
        names.dedup();
        names
    }
}

/// A daily window, UTC: from and to, as seconds of the day. `to < from` crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    /// Where it starts, seconds after midnight.
    pub from: u32,
    /// Where it ends, seconds after midnight.
    pub to: u32,
}

impl DailyWindow {
    /// Parses `"06:00-08:30"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = || {
            format!("`{text}` is not a daily window; expected \"HH:MM-HH:MM\" (UTC), e.g. \"06:00-08:00\"")
        };
        let (from, to) = text.split_once('-').ok_or_else(expected)?;
        let time = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 3600 + m * 60)
        };
        let (from, to) = (
            time(from).ok_or_else(expected)?,
            time(to).ok_or_else(expected)?,
        );
        if from == to {
            return Err(format!("`{text}` is empty: its start and end are the same"));
        }
        Ok(Self { from, to })
    }
}

/// What a checked schedule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleKind {
    /// On for `on_for` at every multiple of `every` since the Unix epoch.
    Periodic {
        /// The period.
        every: Duration,
        /// How long it is on each period.
        on_for: Duration,
    },
    /// On within these windows every day, UTC.
    Daily(Vec<DailyWindow>),
}

impl ScheduleSettings {
    /// The schedule, or the key at fault and why.
    pub fn kind(&self) -> Result<ScheduleKind, (&'static str, String)> {
        match (self.every, self.on_for, &self.daily) {
            (Some(every), Some(on_for), None) => {
                if on_for.get().is_zero() {
                    Err(("on_for", "must be longer than zero".into()))
                } else if on_for >= every {
                    Err((
                        "on_for",
                        format!("must be shorter than `every` ({every}), or the output never switches off"),
                    ))
                } else {
                    Ok(ScheduleKind::Periodic {
                        every: every.get(),
                        on_for: on_for.get(),
                    })
                }
            }
            (None, None, Some(windows)) => {
                if windows.is_empty() {
                    return Err((
                        "daily",
                        "is empty; list windows like \"06:00-08:00\"".into(),
                    ));
                }
                windows
                    .iter()
                    .map(|w| DailyWindow::parse(w))
                    .collect::<Result<Vec<_>, _>>()
                    .map(ScheduleKind::Daily)
                    .map_err(|e| ("daily", e))
            }
            (Some(_), None, None) | (None, Some(_), None) => Err((
                "every",
                "a periodic schedule needs both `every` and `on_for`".into(),
            )),
            (None, None, None) => Err((
                "every",
                "a schedule needs `every` with `on_for`, or `daily` windows".into(),
            )),
            _ => Err((
                "daily",
                "a schedule is `every`/`on_for` or `daily`, not both".into(),
            )),
        }
    }
}

/// The checks of outputs, actions, controllers and commands, on the config's one checker.
impl Checker<'_> {
    pub(super) fn actuators(&mut self) {
        let config = self.config;
        self.check_names(
            "actuators",
            config.actuators.iter().map(|a| a.name.as_str()),
        );
        let drivers = config.actuator_drivers();
        for (i, actuator) in config.actuators.iter().enumerate() {
            let at = format!("actuators[{i}]");
            self.actuator(&at, actuator);
            if let Some(watchdog) = actuator.watchdog {
                if watchdog.get().is_zero() {
                    self.report(format!("{at}.watchdog"), "must be longer than zero");
                } else if let Some(&pipeline) = drivers.get(actuator.name.as_str()) {
                    // Evaluations come with readings: a watchdog shorter than the slowest
                    // source's interval trips between two healthy readings.
                    let slowest = config.pipelines[pipeline]
                        .sources
                        .iter()
                        .filter_map(|s| config.sensors.iter().find(|c| &c.name == s))
                        .max_by_key(|s| s.interval);
                    if let Some(sensor) = slowest.filter(|s| s.interval >= watchdog) {
                        self.report(
                            format!("{at}.watchdog"),
                            format!(
                                "{watchdog} is not longer than the interval of sensor `{}` ({}) that drives `{}`: it would trip between two healthy readings",
                                sensor.name, sensor.interval, actuator.name
                            ),
                        );
                    }
                } else {
                    self.report(
                        format!("{at}.watchdog"),
                        format!(
                            "no action or controller drives `{}`, so no control loop can keep its watchdog satisfied; remove `watchdog` or drive it from a pipeline",
                            actuator.name
                        ),
                    );
                }
            }
        }
    }

    fn actuator(&mut self, at: &str, actuator: &ActuatorConfig) {
        let driver = actuator.driver.as_str();
        if !ACTUATOR_DRIVERS.contains(&driver) {
            let names: Vec<String> = ACTUATOR_DRIVERS.iter().map(|s| s.to_string()).collect();
            self.report(
                format!("{at}.driver"),
                unknown("actuator driver", driver, &names),
            );
            return;
        }
        let present = [
            ("pin", actuator.pin.is_some()),
            ("chip", actuator.chip.is_some()),
            ("active_low", actuator.active_low.is_some()),
            ("channel", actuator.channel.is_some()),
            ("pwm_chip", actuator.pwm_chip.is_some()),
            ("bus", actuator.bus.is_some()),
            ("address", actuator.address.is_some()),
            ("frequency", actuator.frequency.is_some()),
            ("duty", actuator.duty.is_some()),
            ("servo", actuator.servo.is_some()),
        ];
        let (allowed, required): (&[&str], &[&str]) = match driver {
            "gpio" => (&["pin", "chip", "active_low"], &["pin"]),
            "pwm" => (
                &["channel", "pwm_chip", "frequency", "duty", "servo"],
                &["channel", "frequency"],
            ),
            _ => (
                &["bus", "address", "channel", "frequency", "duty", "servo"],
                &["bus", "channel", "frequency"],
            ),
        };
        for (key, is_present) in present {
            if is_present && !allowed.contains(&key) {
                self.report(
                    format!("{at}.{key}"),
                    format!(
                        "does not apply to a `{driver}` actuator (it takes: {})",
                        allowed.join(", ")
                    ),
                );
            }
            if !is_present && required.contains(&key) {
                self.report(
                    at.to_string(),
                    format!("a `{driver}` actuator needs `{key}`"),
                );
            }
        }
        if let Some(frequency) = actuator.frequency {
            let (low, high) = PCA9685_FREQUENCY_HZ;
            if !(frequency.is_finite() && frequency > 0.0) {
                self.report(format!("{at}.frequency"), "must be a positive number of Hz");
            } else if driver == "pca9685" && !(low..=high).contains(&frequency) {
                self.report(
                    format!("{at}.frequency"),
                    format!("the PCA9685 makes {low} to {high} Hz, not {frequency} Hz"),
                );
            }
            if let Some(servo) = actuator.servo {
                let period_us = 1e6 / frequency;
                if servo.min_pulse_us >= servo.max_pulse_us {
                    self.report(
                        format!("{at}.servo.min_pulse_us"),
                        "must be shorter than `max_pulse_us`",
                    );
                } else if period_us < f64::from(servo.max_pulse_us) {
                    self.report(
                        format!("{at}.frequency"),
                        format!(
                            "a servo's period must hold its longest pulse: at {frequency} Hz the period is {period_us:.0} µs, shorter than max_pulse_us = {} µs; servos expect about 50 Hz",
                            servo.max_pulse_us
                        ),
                    );
                }
                if !(servo.range_degrees.is_finite() && servo.range_degrees > 0.0) {
                    self.report(
                        format!("{at}.servo.range_degrees"),
                        "must be a positive number of degrees",
                    );
                }
            }
        }
        if driver == "pca9685" {
            if let Some(channel) = actuator.channel.filter(|&c| c > 15) {
                self.report(
                    format!("{at}.channel"),
                    format!("the PCA9685 has channels 0 to 15, not {channel}"),
                );
            }
            if let Some(bus) = &actuator.bus {
                if !matches!(BusAddress::parse(bus), Some(BusAddress::I2c { .. })) {
                    self.report(
                        format!("{at}.bus"),
                        format!("unknown bus `{bus}`; the PCA9685 is on an I²C bus, e.g. `i2c-1`"),
                    );
                }
            }
        }
        if let Some(duty) = actuator.duty {
            if !(0.0..=1.0).contains(&duty.min) || !(0.0..=1.0).contains(&duty.max) {
                self.report(
                    format!("{at}.duty"),
                    "`min` and `max` are duty fractions from 0.0 to 1.0",
                );
            } else if duty.min > duty.max {
                self.report(format!("{at}.duty.min"), "must not be above `max`");
            }
        }
        self.level(&format!("{at}.safe"), actuator.safe, actuator);
    }

    /// A level an output is set to: a switch takes on/off only, a fraction is 0..=1.
    fn level(&mut self, path: &str, level: OutputLevel, actuator: &ActuatorConfig) {
        if let OutputLevel::Fraction(x) = level {
            if actuator.is_switch() {
                self.report(
                    path,
                    format!(
                        "`{}` is a gpio switch: it takes \"on\" or \"off\", not a fraction",
                        actuator.name
                    ),
                );
            } else if !(0.0..=1.0).contains(&x) {
                self.report(
                    path,
                    format!("{x} is not a duty fraction; expected 0.0 to 1.0"),
                );
            }
        }
    }

    /// The actions and controllers of every pipeline.
    pub(super) fn control(&mut self) {
        let config = self.config;
        let mut driven_by: BTreeMap<&str, &str> = BTreeMap::new();
        for (i, pipeline) in config.pipelines.iter().enumerate() {
            let at = format!("pipelines[{i}]");
            self.check_names(
                &format!("{at}.actions"),
                pipeline.actions.iter().map(|a| a.name.as_str()),
            );
            self.check_names(
                &format!("{at}.controllers"),
                pipeline.controllers.iter().map(|c| c.name.as_str()),
            );
            for (j, action) in pipeline.actions.iter().enumerate() {
                self.action(&format!("{at}.actions[{j}]"), pipeline, action);
            }
            for (j, controller) in pipeline.controllers.iter().enumerate() {
                self.controller(&format!("{at}.controllers[{j}]"), pipeline, controller);
            }
            // One pipeline drives an actuator: two would fight over it with no order.
            let paths = pipeline
                .actions
                .iter()
                .enumerate()
                .filter_map(|(j, a)| {
                    a.actuator
                        .as_deref()
                        .map(|n| (n, format!("{at}.actions[{j}].actuator")))
                })
                .chain(pipeline.controllers.iter().enumerate().map(|(j, c)| {
                    (
                        c.actuator.as_str(),
                        format!("{at}.controllers[{j}].actuator"),
                    )
                }));
            let mut reported = HashSet::new();
            for (name, path) in paths {
                match driven_by.get(name) {
                    Some(&other) if other != pipeline.name => {
                        if reported.insert(name) {
                            self.report(
                                path,
                                format!(
                                    "`{name}` is already driven by pipeline `{other}`; one pipeline drives an actuator, so put these actions in `{other}` (or use another actuator)"
                                ),
                            );
                        }
                    }
                    Some(_) => {}
                    None => {
                        driven_by.insert(name, &pipeline.name);
                    }
                }
            }
        }
    }

    fn action(&mut self, at: &str, pipeline: &PipelineConfig, action: &ActionConfig) {
        let config = self.config;
        match (&action.when, &action.schedule) {
            (Some(_), Some(_)) => self.report(
                format!("{at}.schedule"),
                "an action follows a rule (`when`) or a `schedule`, not both",
            ),
            (None, None) => self.report(
                at.to_string(),
                "an action needs `when = \"<rule>\"` (a rule of this pipeline) or a `schedule`",
            ),
            _ => {}
        }
        if let Some(rule) = &action.when {
            if !pipeline.rules.iter().any(|r| &r.name == rule) {
                let names: Vec<String> = pipeline.rules.iter().map(|r| r.name.clone()).collect();
                self.report(format!("{at}.when"), unknown("rule", rule, &names));
            }
        }
        if let Some(schedule) = &action.schedule {
            if let Err((key, problem)) = schedule.kind() {
                self.report(format!("{at}.schedule.{key}"), problem);
            }
        }
        match (&action.actuator, &action.sample) {
            (Some(_), Some(_)) => self.report(
                format!("{at}.sample"),
                "an action sets an `actuator` or a sensor's `sample` interval, not both",
            ),
            (None, None) => self.report(
                at.to_string(),
                "an action needs the `actuator` it sets (or `sample` for adaptive sampling)",
            ),
            _ => {}
        }
        if let Some(name) = &action.actuator {
            match config.actuator(name) {
                Some(actuator) => {
                    for (key, level) in [("on", action.on), ("off", action.off)] {
                        if let Some(level) = level {
                            self.level(&format!("{at}.{key}"), level, actuator);
                        }
                    }
                }
                None => {
                    let names: Vec<String> =
                        config.actuators.iter().map(|a| a.name.clone()).collect();
                    self.report(format!("{at}.actuator"), unknown("actuator", name, &names));
                }
            }
        }
        if let Some(sample) = &action.sample {
            if !config.sensors.iter().any(|s| s.name == sample.sensor) {
                let names: Vec<String> = config.sensors.iter().map(|s| s.name.clone()).collect();
                self.report(
                    format!("{at}.sample.sensor"),
                    unknown("sensor", &sample.sensor, &names),
                );
            }
            if sample.interval.get().is_zero() {
                self.report(
                    format!("{at}.sample.interval"),
                    "must be longer than zero, e.g. \"1ms\"",
                );
            }
            for (key, present) in [
                ("on", action.on.is_some()),
                ("off", action.off.is_some()),
                ("interlock", action.interlock.is_some()),
            ] {
                if present {
                    self.report(
                        format!("{at}.{key}"),
                        "applies to an action that sets an `actuator`, not to `sample`",
                    );
                }
            }
        }
    }

    fn controller(&mut self, at: &str, pipeline: &PipelineConfig, controller: &ControllerConfig) {
        let config = self.config;
        match config.actuator(&controller.actuator) {
            Some(actuator) if actuator.is_switch() => self.report(
                format!("{at}.actuator"),
                format!(
                    "`{}` is a gpio switch; a controller sets a duty on a `pwm` or `pca9685` output (switch it with an action instead)",
                    actuator.name
                ),
            ),
            Some(_) => {}
            None => {
                let names: Vec<String> = config.actuators.iter().map(|a| a.name.clone()).collect();
                self.report(
                    format!("{at}.actuator"),
                    unknown("actuator", &controller.actuator, &names),
                );
            }
        }
        let channels: Vec<String> = pipeline
            .sources
            .iter()
            .filter_map(|s| config.sensors.iter().find(|c| &c.name == s))
            .flat_map(|s| s.effective_channels())
            .collect();
        if !channels.is_empty() && !channels.contains(&controller.channel) {
            self.report(
                format!("{at}.channel"),
                unknown("channel", &controller.channel, &channels),
            );
        }
        for (key, value) in [
            ("setpoint", Some(controller.setpoint)),
            ("kp", Some(controller.kp)),
            ("ki", controller.ki),
        ] {
            if value.is_some_and(|v| !v.is_finite()) {
                self.report(format!("{at}.{key}"), "must be a finite number");
            }
        }
        if controller.ki.is_some_and(|k| k < 0.0) || controller.kp < 0.0 {
            self.report(
                format!("{at}.kp"),
                "gains are not negative; `direction` says which way the output moves",
            );
        }
        if let Some(output) = controller.output {
            if !(0.0..=1.0).contains(&output.min) || !(0.0..=1.0).contains(&output.max) {
                self.report(
                    format!("{at}.output"),
                    "`min` and `max` are duty fractions from 0.0 to 1.0",
                );
            } else if output.min >= output.max {
                self.report(format!("{at}.output.min"), "must be below `max`");
            }
        }
    }

    pub(super) fn commands(&mut self) {
        let config = self.config;
        let Some(commands) = &config.commands else {
            return;
        };
        match config.sinks.iter().find(|s| s.name == commands.sink) {
            Some(sink) if sink.transport != "mqtt" => self.report(
                "commands.sink",
                format!(
                    "`{}` is a {} sink; commands arrive over MQTT, so name an mqtt sink whose broker they come from",
                    sink.name, sink.transport
                ),
            ),
            Some(_) => {}
            None => {
                let names: Vec<String> = config.sinks.iter().map(|s| s.name.clone()).collect();
                self.report("commands.sink", unknown("sink", &commands.sink, &names));
            }
        }
        match (&commands.ed25519_public_key, &commands.hmac_key) {
            (Some(_), Some(_)) => self.report(
                "commands.hmac_key",
                "commands are checked with `ed25519_public_key` or `hmac_key`, not both",
            ),
            (None, None) => self.report(
                "commands",
                "commands must be signed: set `ed25519_public_key = \"<PEM file>\"` (Ed25519) or `hmac_key = { file = \"…\" }` (HMAC-SHA256)",
            ),
            (Some(path), None) if path.as_os_str().is_empty() => {
                self.report("commands.ed25519_public_key", "is empty");
            }
            _ => {}
        }
        for (key, topic) in [
            ("topic", commands.topic()),
            ("reply_topic", commands.reply_topic()),
        ] {
            if let Err(e) = TopicTemplate::parse(topic) {
                self.report(format!("commands.{key}"), e.problem);
            } else if topic.contains("{sensor}") || topic.contains("{channel}") {
                self.report(
                    format!("commands.{key}"),
                    "only the `{device}` placeholder applies to a command topic",
                );
            }
        }
        if commands.topic() == commands.reply_topic() {
            self.report(
                "commands.reply_topic",
                "is the command topic; replies need a topic of their own",
            );
        }
        if commands.max_ttl.is_some_and(|t| t.get().is_zero()) {
            self.report("commands.max_ttl", "must be longer than zero");
        }
    }
}
