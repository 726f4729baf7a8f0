//! The outputs thread: the one owner of every opened actuator, and where local control,
//! remote commands and the fail-safe meet.
//!
//! ```text
//!  pipeline threads ──(rule levels, controller inputs)──┐
//!  command service  ──(remote commands, with a reply)───┼─▶ outputs thread ──▶ actuators
//!  the agent        ──(a pipeline stopped, shutdown)────┘        │
//!                                                                └─▶ `actions` events → publisher, live view
//! ```
//!
//! Setting an output blocks (a pin write, a bus transfer), so the actuators live on an OS
//! thread of their own and everything reaches them as a [`Request`] on one channel, applied
//! in order. Between requests the thread sleeps until the next deadline the control pieces
//! report (a deferred change at the end of a minimum on/off time, a schedule's edge, a
//! watchdog): nothing polls.
//!
//! The fail-safe: every actuator is opened and set to its safe state before any sensor is
//! sampled (`safe state: start`); it goes back to it when the pipeline that drives it ends
//! while the agent runs (`safe state: control stopped`), when its watchdog sees no healthy
//! evaluation for too long (`safe state: watchdog`), and at shutdown after the pipelines have
//! finished (`safe state: shutdown`). After a crash, the systemd unit's `ExecStopPost` runs
//! `edgewise safe-state`, which does the same from a fresh process.
//!
//! Every change is an event reading of sensor [`ACTIONS_SENSOR`] with the fields `actuator`,
//! `state` (`"on"`, `"off"` or the duty) and `cause`, delivered to the sinks of the pipeline
//! that drives the actuator (all sinks when none does) and shown in the live view. A set that
//! fails is logged, counted and retried with the next request.

use std::fmt;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_boards::actuator::{Command, State};
use edgewise_boards::{Board, DynActuator};
use edgewise_link::reading::decimal_f64;
use edgewise_link::Reading;
use tokio::sync::{mpsc, oneshot, watch};

use super::live::{LiveEvent, LiveSender};
use super::pipeline::Outgoing;
use super::status::ActuatorStatus;
use super::StartError;
use crate::config::{Config, OutputLevel};
use crate::control::{Calendar, PiController, PiSettings, Switch, Switching, Watchdog};

/// The sensor name action events are published under.
pub const ACTIONS_SENSOR: &str = "actions";

/// What reaches the outputs thread.
#[derive(Debug)]
pub enum Request {
    /// What a pipeline evaluated in one batch, in order.
    Observations(Vec<Observation>),
    /// A remote command; the result goes back on `reply`.
    Remote {
        /// The actuator's name.
        target: String,
        /// What to do.
        command: Command,
        /// The command's id (in the event's cause).
        id: String,
        /// Where the result goes.
        reply: oneshot::Sender<Result<State, RemoteRefusal>>,
    },
    /// A pipeline's thread ended.
    PipelineStopped(usize),
    /// The agent is stopping: pipelines that end from now on are not lost control.
    Stopping,
    /// Apply the safe states and end.
    Shutdown,
}

/// One evaluation by a pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observation {
    /// The rule of action `action` (an index over every pipeline's actions, in config order)
    /// was evaluated at `at` and is `raised` or not.
    Rule {
        /// The action.
        action: usize,
        /// The rule's level after the evaluation.
        raised: bool,
        /// The time of the reading or window evaluated.
        at: SystemTime,
    },
    /// A reading of controller `controller`'s channel (index over every pipeline's
    /// controllers, in config order).
    Value {
        /// The controller.
        controller: usize,
        /// The channel's value.
        value: f64,
        /// When it was read.
        at: SystemTime,
    },
}

/// Why a remote command was refused. The display starts with a stable reason.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteRefusal {
    /// No actuator of that name accepts remote commands.
    UnknownTarget(String),
    /// The value does not fit the actuator.
    OutOfRange(String),
    /// A raised interlock holds the actuator.
    Interlocked {
        /// The rule (or schedule) that holds it.
        rule: String,
    },
    /// The output failed to take it.
    Failed(String),
    /// The agent is stopping.
    Stopped,
}

impl fmt::Display for RemoteRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTarget(target) => write!(f, "unknown target `{target}`"),
            Self::OutOfRange(why) => write!(f, "out of range: {why}"),
            Self::Interlocked { rule } => write!(f, "interlocked by rule {rule}"),
            Self::Failed(why) => write!(f, "output failed: {why}"),
            Self::Stopped => f.write_str("the agent is stopping"),
        }
    }
}

impl std::error::Error for RemoteRefusal {}

/// The command side's handle on the outputs: cheap to clone.
#[derive(Debug, Clone)]
pub struct ActuatorControl {
    requests: std_mpsc::Sender<Request>,
}

impl ActuatorControl {
    /// Applies a remote command to `target` unless it is refused (unknown or `remote =
    /// false`, out of range, interlocked); a success is an event with cause `command <id>`.
    pub async fn remote(
        &self,
        target: &str,
        value: Command,
        command_id: &str,
    ) -> Result<State, RemoteRefusal> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Remote {
                target: target.to_string(),
                command: value,
                id: command_id.to_string(),
                reply,
            })
            .map_err(|_| RemoteRefusal::Stopped)?;
        answer.await.unwrap_or(Err(RemoteRefusal::Stopped))
    }
}

/// Which actions and controllers a pipeline feeds, by global index.
#[derive(Debug, Clone, Default)]
pub struct PipelineBindings {
    /// (rule name, action index) for each action with `when`.
    pub rule_actions: Vec<(String, usize)>,
    /// (channel, controller index).
    pub controllers: Vec<(String, usize)>,
}

/// The bindings of pipeline `index` of `config`.
pub fn bindings(config: &Config, index: usize) -> PipelineBindings {
    let action_base: usize = config.pipelines[..index]
        .iter()
        .map(|p| p.actions.len())
        .sum();
    let controller_base: usize = config.pipelines[..index]
        .iter()
        .map(|p| p.controllers.len())
        .sum();
    let pipeline = &config.pipelines[index];
    PipelineBindings {
        rule_actions: pipeline
            .actions
            .iter()
            .enumerate()
            .filter_map(|(j, a)| a.when.clone().map(|rule| (rule, action_base + j)))
            .collect(),
        controllers: pipeline
            .controllers
            .iter()
            .enumerate()
            .map(|(j, c)| (c.channel.clone(), controller_base + j))
            .collect(),
    }
}

/// A time as the control pieces take it: since the Unix epoch.
pub fn since_epoch(time: SystemTime) -> Duration {
    time.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn command(level: OutputLevel) -> Command {
    level.state().into()
}

struct Output {
    name: String,
    device: Box<dyn DynActuator>,
    status: Arc<ActuatorStatus>,
    sinks: Arc<[usize]>,
    pipeline: Option<Arc<str>>,
    watchdog: Option<Watchdog>,
    remote: bool,
    switch: bool,
    servo_range: Option<f32>,
    /// A set that failed, retried with the next request.
    retry: Option<(Command, String)>,
}

enum Target {
    Actuator {
        index: usize,
        on: Command,
        off: Command,
    },
    Sample {
        sensor: usize,
        name: String,
        fast: Duration,
        normal: Duration,
    },
}

struct Action {
    name: String,
    pipeline: usize,
    rule: Option<String>,
    calendar: Option<Calendar>,
    target: Target,
    interlock: bool,
    raised: bool,
    active: bool,
    switching: Switching,
}

impl Action {
    fn actuator(&self) -> Option<usize> {
        match self.target {
            Target::Actuator { index, .. } => Some(index),
            Target::Sample { .. } => None,
        }
    }

    fn cause(&self, on: bool) -> String {
        match &self.rule {
            Some(rule) => format!("rule {rule} {}", if on { "raised" } else { "cleared" }),
            None => format!("schedule {} {}", self.name, if on { "on" } else { "off" }),
        }
    }

    /// What holds an interlock: the rule, or the scheduled action.
    fn holder(&self) -> String {
        self.rule
            .clone()
            .unwrap_or_else(|| format!("schedule {}", self.name))
    }
}

struct Controller {
    name: String,
    pipeline: usize,
    actuator: usize,
    active: bool,
    pi: PiController,
}

/// Every actuator and every action and controller driving them. The thread's loop is
/// `run`; the methods are the control logic with time passed in, so tests drive them
/// directly.
pub struct Outputs {
    outputs: Vec<Output>,
    actions: Vec<Action>,
    controllers: Vec<Controller>,
    all_sinks: Arc<[usize]>,
    samplers: Vec<Option<watch::Sender<Duration>>>,
    pipelines: Vec<Arc<str>>,
    events: Vec<(Arc<[usize]>, Arc<str>, Reading)>,
    /// The time of the last `tick`: schedules' next edges count from it.
    clock: Duration,
}

impl fmt::Debug for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outputs")
            .field(
                "actuators",
                &self.outputs.iter().map(|o| &o.name).collect::<Vec<_>>(),
            )
            .field("actions", &self.actions.len())
            .field("controllers", &self.controllers.len())
            .finish_non_exhaustive()
    }
}

impl Outputs {
    /// Opens every actuator of `config` on `board` and applies its safe state
    /// (`safe state: start`); `statuses` are the actuators' status entries in config order,
    /// `samplers` each sensor's interval channel (for adaptive sampling). `now` starts the
    /// watchdogs.
    pub fn open(
        config: &Config,
        board: &dyn Board,
        statuses: &[Arc<ActuatorStatus>],
        samplers: Vec<Option<watch::Sender<Duration>>>,
        now: SystemTime,
    ) -> Result<Self, StartError> {
        let sink_indices = |names: &[String]| -> Arc<[usize]> {
            names
                .iter()
                .filter_map(|n| config.sinks.iter().position(|s| &s.name == n))
                .collect()
        };
        let drivers = config.actuator_drivers();
        let mut outputs = Vec::new();
        for (i, actuator) in config.actuators.iter().enumerate() {
            let device =
                board
                    .open_actuator(&actuator.spec())
                    .map_err(|e| StartError::Actuator {
                        actuator: actuator.name.clone(),
                        problem: e.to_string(),
                    })?;
            let driver = drivers.get(actuator.name.as_str()).copied();
            // A watchdog needs a driver that evaluates on readings; schedules alone never
            // stop, so an actuator driven by schedules only keeps no watchdog.
            let evaluated = config.pipelines.iter().any(|p| {
                p.actions
                    .iter()
                    .any(|a| a.actuator.as_ref() == Some(&actuator.name) && a.when.is_some())
                    || p.controllers.iter().any(|c| c.actuator == actuator.name)
            });
            outputs.push(Output {
                name: actuator.name.clone(),
                device,
                status: statuses
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(ActuatorStatus::new(&actuator.name))),
                sinks: match driver {
                    Some(p) => sink_indices(&config.pipelines[p].sinks),
                    None => (0..config.sinks.len()).collect(),
                },
                pipeline: driver.map(|p| Arc::from(config.pipelines[p].name.as_str())),
                watchdog: actuator
                    .watchdog
                    .filter(|_| evaluated)
                    .map(|limit| Watchdog::new(limit.get(), since_epoch(now))),
                remote: actuator.accepts_remote(),
                switch: actuator.is_switch(),
                servo_range: actuator.servo.map(|s| s.range_degrees as f32),
                retry: None,
            });
        }
        let mut actions = Vec::new();
        let mut controllers = Vec::new();
        for (p, pipeline) in config.pipelines.iter().enumerate() {
            for action in &pipeline.actions {
                let target = match (&action.actuator, &action.sample) {
                    (Some(name), _) => Target::Actuator {
                        index: config
                            .actuators
                            .iter()
                            .position(|a| &a.name == name)
                            .unwrap_or(0),
                        on: command(action.on.unwrap_or(OutputLevel::On)),
                        off: command(action.off.unwrap_or(OutputLevel::Off)),
                    },
                    (None, Some(sample)) => {
                        let sensor = config
                            .sensors
                            .iter()
                            .position(|s| s.name == sample.sensor)
                            .unwrap_or(0);
                        Target::Sample {
                            sensor,
                            name: sample.sensor.clone(),
                            fast: sample.interval.get(),
                            normal: config.sensors[sensor].interval.get(),
                        }
                    }
                    (None, None) => continue,
                };
                let calendar = action
                    .schedule
                    .as_ref()
                    .and_then(|s| s.kind().ok())
                    .map(Calendar::new);
                actions.push(Action {
                    name: action.name.clone(),
                    pipeline: p,
                    rule: action.when.clone(),
                    calendar,
                    target,
                    interlock: action.interlock.unwrap_or(false),
                    raised: false,
                    active: true,
                    switching: Switching::new(
                        action.min_on.map(|d| d.get()).unwrap_or_default(),
                        action.min_off.map(|d| d.get()).unwrap_or_default(),
                    ),
                });
            }
            for controller in &pipeline.controllers {
                let output = controller
                    .output
                    .unwrap_or(crate::config::DutyRange { min: 0.0, max: 1.0 });
                controllers.push(Controller {
                    name: controller.name.clone(),
                    pipeline: p,
                    actuator: config
                        .actuators
                        .iter()
                        .position(|a| a.name == controller.actuator)
                        .unwrap_or(0),
                    active: true,
                    pi: PiController::new(PiSettings {
                        setpoint: controller.setpoint,
                        kp: controller.kp,
                        ki: controller.ki.unwrap_or(0.0),
                        direction: controller.direction,
                        min: output.min,
                        max: output.max,
                    }),
                });
            }
        }
        let mut this = Self {
            outputs,
            actions,
            controllers,
            all_sinks: (0..config.sinks.len()).collect(),
            samplers,
            pipelines: config
                .pipelines
                .iter()
                .map(|p| Arc::from(p.name.as_str()))
                .collect(),
            events: Vec::new(),
            clock: since_epoch(now),
        };
        for index in 0..this.outputs.len() {
            this.safe_state(index, "safe state: start", now);
        }
        // Schedules start in the state they are in now.
        this.tick(now);
        Ok(this)
    }

    /// The events produced since the last call: (sinks, pipeline, event).
    pub fn take_events(&mut self) -> Vec<(Arc<[usize]>, Arc<str>, Reading)> {
        std::mem::take(&mut self.events)
    }

    /// Applies what a pipeline evaluated.
    pub fn observe(&mut self, observation: Observation) {
        match observation {
            Observation::Rule { action, raised, at } => {
                let Some(a) = self.actions.get_mut(action) else {
                    return;
                };
                if !a.active {
                    return;
                }
                a.raised = raised;
                if let Some(index) = a.actuator() {
                    self.healthy(index, at);
                }
                let a = &mut self.actions[action];
                if let Some(switch) = a.switching.level(raised, since_epoch(at)) {
                    self.switch(action, switch);
                }
            }
            Observation::Value {
                controller,
                value,
                at,
            } => {
                let Some(c) = self.controllers.get(controller) else {
                    return;
                };
                if !c.active {
                    return;
                }
                let index = c.actuator;
                self.healthy(index, at);
                let c = &mut self.controllers[controller];
                if let Some(output) = c.pi.update(value, since_epoch(at)) {
                    let cause = format!("controller {}", c.name);
                    if self.interlock_holder(index, None).is_none() {
                        // The duty is within 0..=1; an f32 holds its precision.
                        #[allow(clippy::cast_possible_truncation)]
                        let duty = Command::Fraction(output as f32);
                        let _ = self.set(index, duty, &cause, at);
                    }
                }
            }
        }
    }

    /// A remote command.
    pub fn remote(
        &mut self,
        target: &str,
        command: Command,
        id: &str,
        now: SystemTime,
    ) -> Result<State, RemoteRefusal> {
        let Some(index) = self
            .outputs
            .iter()
            .position(|o| o.name == target && o.remote)
        else {
            return Err(RemoteRefusal::UnknownTarget(target.to_string()));
        };
        let output = &self.outputs[index];
        match command {
            Command::Fraction(x) if x.is_nan() || !(0.0..=1.0).contains(&x) => {
                return Err(RemoteRefusal::OutOfRange(format!(
                    "{x} is not a fraction from 0.0 to 1.0"
                )))
            }
            Command::Fraction(x) if output.switch && x != 0.0 && x != 1.0 => {
                return Err(RemoteRefusal::OutOfRange(format!(
                    "`{target}` is a switch: it takes on or off, not {x}"
                )))
            }
            Command::Angle(angle) => match output.servo_range {
                None => {
                    return Err(RemoteRefusal::OutOfRange(format!(
                        "`{target}` is not a servo: it takes no angle"
                    )))
                }
                Some(range) if angle.is_nan() || !(0.0..=range).contains(&angle) => {
                    return Err(RemoteRefusal::OutOfRange(format!(
                        "{angle}° is outside the servo's 0 to {range}°"
                    )))
                }
                Some(_) => {}
            },
            _ => {}
        }
        if let Some(rule) = self.interlock_holder(index, None) {
            return Err(RemoteRefusal::Interlocked { rule });
        }
        self.set(index, command, &format!("command {id}"), now)
            .map_err(RemoteRefusal::Failed)
    }

    /// Applies what is due at `now`: deferred changes, schedule edges, watchdogs.
    pub fn tick(&mut self, now: SystemTime) {
        let t = since_epoch(now);
        self.clock = self.clock.max(t);
        for action in 0..self.actions.len() {
            let a = &mut self.actions[action];
            if !a.active {
                continue;
            }
            if let Some(on) = a.calendar.as_ref().map(|c| c.is_on(t)) {
                a.raised = on;
                if let Some(switch) = a.switching.level(on, t) {
                    self.switch(action, switch);
                }
            }
            if let Some(switch) = self.actions[action].switching.poll(t) {
                self.switch(action, switch);
            }
        }
        for index in 0..self.outputs.len() {
            let tripped = self.outputs[index]
                .watchdog
                .as_mut()
                .is_some_and(|w| w.check(t));
            if tripped {
                tracing::warn!(actuator = %self.outputs[index].name, "no healthy control loop within its watchdog time: safe state");
                self.safe_state(index, "safe state: watchdog", now);
                // Counted once the state is applied: whoever sees the count sees the state.
                self.outputs[index].status.watchdog_trips.inc();
            }
        }
    }

    /// The next moment something is due; `None`: nothing until a request.
    pub fn next_deadline(&self) -> Option<Duration> {
        let actions = self.actions.iter().filter(|a| a.active).flat_map(|a| {
            [
                a.switching.next_deadline(),
                a.calendar.as_ref().map(|c| c.next_edge(self.clock)),
            ]
        });
        let watchdogs = self
            .outputs
            .iter()
            .map(|o| o.watchdog.as_ref().and_then(Watchdog::next_deadline));
        actions.chain(watchdogs).flatten().min()
    }

    /// Retries the sets that failed.
    pub fn retry_failed(&mut self, now: SystemTime) {
        for index in 0..self.outputs.len() {
            if let Some((command, cause)) = self.outputs[index].retry.take() {
                let _ = self.set(index, command, &cause, now);
            }
        }
    }

    /// The pipeline `pipeline` ended while the agent runs: its actuators go to their safe
    /// state and stay there.
    pub fn pipeline_stopped(&mut self, pipeline: usize, now: SystemTime) {
        let mut affected = Vec::new();
        for action in self.actions.iter_mut().filter(|a| a.pipeline == pipeline) {
            action.active = false;
            affected.extend(action.actuator());
        }
        for controller in self
            .controllers
            .iter_mut()
            .filter(|c| c.pipeline == pipeline)
        {
            controller.active = false;
            affected.push(controller.actuator);
        }
        affected.sort_unstable();
        affected.dedup();
        for index in affected {
            // Nothing will evaluate any more; the safe state holds without a watchdog.
            self.outputs[index].watchdog = None;
            tracing::error!(actuator = %self.outputs[index].name, "its pipeline stopped: safe state");
            self.safe_state(index, "safe state: control stopped", now);
        }
    }

    /// Applies every safe state (`safe state: shutdown`).
    pub fn shutdown(&mut self, now: SystemTime) {
        for index in 0..self.outputs.len() {
            self.safe_state(index, "safe state: shutdown", now);
        }
    }

    /// A healthy evaluation of something driving actuator `index`; a watchdog trip ends and
    /// every driver applies its wanted value again.
    fn healthy(&mut self, index: usize, at: SystemTime) {
        let resumed = self.outputs[index]
            .watchdog
            .as_mut()
            .is_some_and(|w| w.healthy(since_epoch(at)));
        if resumed {
            tracing::info!(actuator = %self.outputs[index].name, "control resumed");
            for action in self
                .actions
                .iter_mut()
                .filter(|a| a.actuator() == Some(index))
            {
                action.switching.reset();
            }
            for controller in self.controllers.iter_mut().filter(|c| c.actuator == index) {
                controller.pi.reset_report();
            }
        }
    }

    /// A raised interlock on actuator `index` other than action `except`: its holder.
    fn interlock_holder(&self, index: usize, except: Option<usize>) -> Option<String> {
        self.actions
            .iter()
            .enumerate()
            .find(|(i, a)| {
                a.interlock
                    && a.active
                    && a.raised
                    && a.actuator() == Some(index)
                    && Some(*i) != except
            })
            .map(|(_, a)| a.holder())
    }

    /// Action `action` switches.
    fn switch(&mut self, action: usize, switch: Switch) {
        let at = UNIX_EPOCH + switch.at;
        let a = &self.actions[action];
        let cause = a.cause(switch.on);
        match &a.target {
            &Target::Actuator { index, on, off } => {
                let tripped = self.outputs[index]
                    .watchdog
                    .as_ref()
                    .is_some_and(Watchdog::is_tripped);
                if tripped || (!a.interlock && self.interlock_holder(index, Some(action)).is_some())
                {
                    return;
                }
                let _ = self.set(index, if switch.on { on } else { off }, &cause, at);
            }
            Target::Sample {
                sensor,
                name,
                fast,
                normal,
            } => {
                let interval = if switch.on { *fast } else { *normal };
                let changed = self
                    .samplers
                    .get(*sensor)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| {
                        s.send_if_modified(|i| std::mem::replace(i, interval) != interval)
                    });
                if changed {
                    let pipeline = Arc::clone(&self.pipelines[a.pipeline]);
                    let event = Reading::new(ACTIONS_SENSOR, at)
                        .with_text("sensor", name.clone())
                        .with_text(
                            "interval",
                            crate::config::HumanDuration(interval).to_string(),
                        )
                        .with_text("cause", cause);
                    let sinks = Arc::clone(&self.all_sinks);
                    self.events.push((sinks, pipeline, event));
                }
            }
        }
    }

    fn safe_state(&mut self, index: usize, cause: &str, now: SystemTime) {
        let safe = self.outputs[index].device.safe_state();
        let _ = self.set(index, safe.into(), cause, now);
    }

    /// Sets actuator `index`; a change is an event. A failure is logged, counted and kept
    /// for a retry.
    fn set(
        &mut self,
        index: usize,
        command: Command,
        cause: &str,
        at: SystemTime,
    ) -> Result<State, String> {
        let output = &mut self.outputs[index];
        let before = output.device.state();
        match output.device.set(command) {
            Ok(state) => {
                output.retry = None;
                if before == Some(state) {
                    output.status.record_ok();
                } else {
                    output.status.record_change(state, at, cause);
                    tracing::info!(actuator = %output.name, state = %describe(state), "{cause}");
                    let event = action_event(&output.name, state, cause, at);
                    let pipeline = output
                        .pipeline
                        .clone()
                        .unwrap_or_else(|| Arc::from("outputs"));
                    self.events
                        .push((Arc::clone(&output.sinks), pipeline, event));
                }
                Ok(state)
            }
            Err(fault) => {
                tracing::warn!(actuator = %output.name, "setting it failed ({cause}): {fault}");
                output.status.record_error(fault.message.clone());
                output.retry = Some((command, cause.to_string()));
                Err(fault.message)
            }
        }
    }
}

/// `on`, `off` or the duty.
pub fn describe(state: State) -> String {
    match state {
        State::Off => "off".into(),
        State::On => "on".into(),
        State::Fraction(x) => decimal_f64(x).to_string(),
    }
}

/// An `actions` event.
pub fn action_event(actuator: &str, state: State, cause: &str, at: SystemTime) -> Reading {
    let reading = Reading::new(ACTIONS_SENSOR, at).with_text("actuator", actuator.to_string());
    let reading = match state {
        State::Off => reading.with_text("state", "off"),
        State::On => reading.with_text("state", "on"),
        State::Fraction(x) => reading.with_number("state", "", decimal_f64(x)),
    };
    reading.with_text("cause", cause.to_string())
}

/// The running outputs thread.
#[derive(Debug)]
pub struct RunningOutputs {
    /// Requests to it.
    pub requests: std_mpsc::Sender<Request>,
    /// The thread.
    pub thread: std::thread::JoinHandle<()>,
}

impl RunningOutputs {
    /// The command side's handle.
    pub fn control(&self) -> ActuatorControl {
        ActuatorControl {
            requests: self.requests.clone(),
        }
    }
}

/// Opens the actuators on their own thread, applies their safe states and runs the thread;
/// returns once the safe states are applied (or an actuator could not be opened).
pub async fn start(
    config: &Config,
    board: Arc<dyn Board>,
    statuses: Vec<Arc<ActuatorStatus>>,
    samplers: Vec<Option<watch::Sender<Duration>>>,
    publisher: mpsc::Sender<Outgoing>,
    live: Option<LiveSender>,
) -> Result<RunningOutputs, StartError> {
    let (requests, incoming) = std_mpsc::channel();
    let (ready, opened) = oneshot::channel();
    let config = config.clone();
    let thread = std::thread::Builder::new()
        .name("outputs".into())
        .spawn(move || {
            match Outputs::open(
                &config,
                board.as_ref(),
                &statuses,
                samplers,
                SystemTime::now(),
            ) {
                Ok(outputs) => {
                    let _ = ready.send(Ok(()));
                    run(outputs, &incoming, &publisher, live.as_ref());
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            }
        })
        .map_err(|e| StartError::Actuator {
            actuator: "*".into(),
            problem: format!("starting the outputs thread: {e}"),
        })?;
    match opened.await {
        Ok(Ok(())) => Ok(RunningOutputs { requests, thread }),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(StartError::Actuator {
            actuator: "*".into(),
            problem: "the outputs thread ended while opening".into(),
        }),
    }
}

/// The outputs thread's loop: applies requests in order, sleeps until the next deadline.
fn run(
    mut outputs: Outputs,
    requests: &std_mpsc::Receiver<Request>,
    publisher: &mpsc::Sender<Outgoing>,
    live: Option<&LiveSender>,
) {
    let mut stopping = false;
    loop {
        deliver(&mut outputs, publisher, live);
        let request = match outputs.next_deadline() {
            Some(deadline) => {
                let wait = deadline.saturating_sub(since_epoch(SystemTime::now()));
                match requests.recv_timeout(wait) {
                    Ok(request) => Some(request),
                    Err(std_mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => Some(Request::Shutdown),
                }
            }
            None => Some(requests.recv().unwrap_or(Request::Shutdown)),
        };
        let now = SystemTime::now();
        if request.is_some() {
            outputs.retry_failed(now);
        }
        match request {
            None => {}
            Some(Request::Observations(observations)) => {
                for observation in observations {
                    outputs.observe(observation);
                }
            }
            Some(Request::Remote {
                target,
                command,
                id,
                reply,
            }) => {
                let result = outputs.remote(&target, command, &id, now);
                let _ = reply.send(result);
            }
            Some(Request::PipelineStopped(pipeline)) if !stopping => {
                outputs.pipeline_stopped(pipeline, now);
            }
            Some(Request::PipelineStopped(_)) => {}
            Some(Request::Stopping) => stopping = true,
            Some(Request::Shutdown) => {
                outputs.shutdown(now);
                deliver(&mut outputs, publisher, live);
                return;
            }
        }
        outputs.tick(SystemTime::now());
    }
}

fn deliver(outputs: &mut Outputs, publisher: &mpsc::Sender<Outgoing>, live: Option<&LiveSender>) {
    for (sinks, pipeline, event) in outputs.take_events() {
        if let Some(live) = live {
            live.send(LiveEvent::Action {
                pipeline,
                event: event.clone(),
            });
        }
        // A publisher that is gone (a stop without flush) loses only the event; the output
        // itself is set.
        let _ = publisher.blocking_send(Outgoing {
            sinks,
            readings: vec![event],
        });
    }
}

#[cfg(test)]
#[path = "actuators_tests.rs"]
mod tests;
