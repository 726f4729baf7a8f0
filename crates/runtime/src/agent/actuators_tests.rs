//! The outputs' control logic on devsim outputs with a virtual clock: the timeline of a relay
//! shows hysteresis and minimum on/off times exactly, the watchdog trips and control
//! resumes, and remote commands are refused or applied.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_boards::actuator::{Command, State};
use edgewise_boards::{
    ActuatorFault, ActuatorSpec, Board, BoardError, BusAddress, DynActuator, DynSensor, OutputSpec,
    ScanHit, SensorSpec,
};
use edgewise_devsim::output::{OutputTimeline, OutputValue, SimOutputPin, SimPwmChannel};
use edgewise_devsim::SimClock;
use edgewise_sensors::actuator::{Actuator, ActuatorError, GpioOutput, PwmOutput};

use super::*;
use crate::agent::rules::Rule;
use crate::config;

/// Any embedded-hal actuator as a board's output.
struct Adapter<A>(A);

impl<A> DynActuator for Adapter<A>
where
    A: Actuator + Send,
{
    fn set(&mut self, command: Command) -> Result<State, ActuatorFault> {
        self.0.set(command).map_err(|e| ActuatorFault {
            kind: e.kind(),
            message: e.to_string(),
        })?;
        self.0.state().ok_or(ActuatorFault {
            kind: edgewise_boards::actuator::ActuatorErrorKind::NotInitialized,
            message: "no state".into(),
        })
    }
    fn state(&self) -> Option<State> {
        self.0.state()
    }
    fn safe_state(&self) -> State {
        self.0.safe_state()
    }
}

/// A board with devsim outputs only.
struct OutputsBoard {
    clock: SimClock,
    timeline: OutputTimeline,
}

impl Board for OutputsBoard {
    fn name(&self) -> &'static str {
        "test"
    }
    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
        Err(BoardError::Unsupported {
            sensor: spec.name.clone(),
            problem: "no sensors".into(),
        })
    }
    fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
        match spec.output {
            OutputSpec::Gpio { polarity, .. } => {
                let pin = SimOutputPin::new(&spec.name, self.clock.clone(), self.timeline.clone());
                Ok(Box::new(Adapter(GpioOutput::new(
                    pin,
                    polarity,
                    spec.safe_state == State::On,
                ))))
            }
            _ => {
                let channel =
                    SimPwmChannel::new(&spec.name, self.clock.clone(), self.timeline.clone());
                Ok(Box::new(Adapter(PwmOutput::new(channel, spec.safe_state))))
            }
        }
    }
    fn scan(&self, _bus: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
        Ok(Vec::new())
    }
}

const CONFIG: &str = r#"
board = "sim"
[device]
id = "control-test"
[[sensors]]
name = "room"
driver = "bme280"
bus = "i2c-1"
interval = "10s"
[[actuators]]
name = "fan"
driver = "gpio"
pin = 17
safe = "off"
watchdog = "300s"
[[actuators]]
name = "heater"
driver = "pwm"
channel = 0
frequency = 1000.0
safe = 0.0
remote = false
[[pipelines]]
name = "climate"
sources = ["room"]
sinks = ["log"]
[[pipelines.rules]]
name = "too-hot"
kind = "hysteresis"
channel = "temperature"
above = 30.0
clear_below = 27.0
[[pipelines.actions]]
name = "cooling"
when = "too-hot"
actuator = "fan"
min_on = "60s"
min_off = "30s"
interlock = true
[[sinks]]
name = "log"
transport = "stdout"
encoder = "json"
"#;

/// The virtual clock's zero as a wall-clock time.
fn epoch() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn at(seconds: u64) -> SystemTime {
    epoch() + Duration::from_secs(seconds)
}

struct Rig {
    board: OutputsBoard,
    outputs: Outputs,
    rule: Rule,
}

impl Rig {
    fn new() -> Self {
        let config = config::parse(CONFIG, "test.toml").unwrap();
        let board = OutputsBoard {
            clock: SimClock::virtual_clock(),
            timeline: OutputTimeline::new(),
        };
        let statuses: Vec<_> = config
            .actuators
            .iter()
            .map(|a| Arc::new(ActuatorStatus::new(&a.name)))
            .collect();
        let outputs = Outputs::open(&config, &board, &statuses, vec![None], at(0)).unwrap();
        let rule = Rule::new("too-hot", config.pipelines[0].rules[0].condition().unwrap());
        Self {
            board,
            outputs,
            rule,
        }
    }

    /// Moves the virtual clock to `seconds`.
    fn clock_to(&self, seconds: u64) {
        let now = Duration::from_nanos(self.board.clock.now_ns());
        self.board
            .clock
            .advance(Duration::from_secs(seconds).saturating_sub(now));
    }

    /// A temperature reading at `seconds`, through the rule, as the pipeline sends it.
    fn reading(&mut self, seconds: u64, celsius: f64) {
        self.clock_to(seconds);
        self.rule.observe(celsius, at(seconds));
        self.outputs.observe(Observation::Rule {
            action: 0,
            raised: self.rule.is_raised(),
            at: at(seconds),
        });
    }

    /// Sleeps until the next deadline (as the outputs thread does) and applies it.
    fn sleep_until_deadline(&mut self) -> u64 {
        let deadline = self.outputs.next_deadline().unwrap();
        let seconds = (deadline - since_epoch(epoch())).as_secs();
        self.clock_to(seconds);
        self.outputs.tick(at(seconds));
        seconds
    }

    fn fan_timeline(&self) -> Vec<(u64, OutputValue)> {
        self.board
            .timeline
            .changes_of("fan")
            .into_iter()
            .map(|c| (c.at_ns / 1_000_000_000, c.value))
            .collect()
    }

    fn causes(&mut self) -> Vec<(String, String)> {
        self.outputs
            .take_events()
            .into_iter()
            .map(|(_, _, e)| {
                let state = e
                    .text("state")
                    .map(String::from)
                    .or_else(|| e.number("state").map(|n| n.to_string()))
                    .unwrap_or_default();
                (
                    format!("{} {state}", e.text("actuator").unwrap_or("?")),
                    e.text("cause").unwrap_or("?").to_string(),
                )
            })
            .collect()
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn the_relay_timeline_shows_hysteresis_and_minimum_on_and_off_times_exactly() {
    let mut rig = Rig::new();
    assert_eq!(
        rig.causes(),
        [
            pair("fan off", "safe state: start"),
            pair("heater off", "safe state: start")
        ]
    );
    rig.reading(0, 29.0);
    rig.reading(10, 31.0); // raised: on at 10 s (the start's off started no min_off)
    rig.reading(20, 28.0); // above clear_below: still raised
    rig.reading(30, 26.0); // cleared, but min_on runs until 70 s
    assert_eq!(rig.outputs.next_deadline(), Some(since_epoch(at(70))));
    assert_eq!(rig.sleep_until_deadline(), 70);
    rig.reading(80, 31.0); // raised again, but min_off runs until 100 s
    assert_eq!(rig.sleep_until_deadline(), 100);
    // Raised and cleared again within min_on: nothing at all happens.
    rig.reading(110, 26.0);
    assert_eq!(rig.outputs.next_deadline(), Some(since_epoch(at(160))));
    rig.reading(120, 31.0);
    // Only the watchdog (300 s after the last evaluation) is left to wait for.
    assert_eq!(rig.outputs.next_deadline(), Some(since_epoch(at(420))));
    assert_eq!(
        rig.fan_timeline(),
        [
            (0, OutputValue::Low),
            (10, OutputValue::High),
            (70, OutputValue::Low),
            (100, OutputValue::High),
        ]
    );
    assert_eq!(
        rig.causes(),
        [
            pair("fan on", "rule too-hot raised"),
            pair("fan off", "rule too-hot cleared"),
            pair("fan on", "rule too-hot raised"),
        ]
    );
    rig.clock_to(125);
    rig.outputs.shutdown(at(125));
    assert_eq!(rig.fan_timeline().last(), Some(&(125, OutputValue::Low)));
    assert_eq!(rig.causes()[0], pair("fan off", "safe state: shutdown"));
}

#[test]
fn the_watchdog_applies_the_safe_state_and_control_resumes_on_the_next_evaluation() {
    let mut rig = Rig::new();
    rig.causes();
    rig.reading(5, 31.0); // on at 5 s
                          // No evaluation after 5 s: the 300 s watchdog is due at 305 s.
    assert_eq!(rig.outputs.next_deadline(), Some(since_epoch(at(305))));
    assert_eq!(rig.sleep_until_deadline(), 305);
    assert_eq!(rig.outputs.outputs[0].status.watchdog_trips.get(), 1);
    // The next healthy evaluation re-applies what the rule wants.
    rig.reading(320, 31.0);
    assert_eq!(
        rig.fan_timeline(),
        [
            (0, OutputValue::Low),
            (5, OutputValue::High),
            (305, OutputValue::Low),
            (320, OutputValue::High),
        ]
    );
    assert_eq!(
        rig.causes(),
        [
            pair("fan on", "rule too-hot raised"),
            pair("fan off", "safe state: watchdog"),
            pair("fan on", "rule too-hot raised"),
        ]
    );
}

#[test]
fn remote_commands_are_refused_with_a_reason_or_applied_with_their_id() {
    let mut rig = Rig::new();
    rig.causes();
    let refused = |r: Result<State, RemoteRefusal>| r.unwrap_err().to_string();
    assert_eq!(
        refused(rig.outputs.remote("pump", Command::On, "c-1", at(1))),
        "unknown target `pump`"
    );
    // `remote = false`: as unknown as a missing one.
    assert_eq!(
        refused(
            rig.outputs
                .remote("heater", Command::Fraction(0.5), "c-2", at(1))
        ),
        "unknown target `heater`"
    );
    assert_eq!(
        refused(
            rig.outputs
                .remote("fan", Command::Fraction(0.5), "c-3", at(1))
        ),
        "out of range: `fan` is a switch: it takes on or off, not 0.5"
    );
    assert_eq!(
        refused(
            rig.outputs
                .remote("fan", Command::Angle(90.0), "c-4", at(1))
        ),
        "out of range: `fan` is not a servo: it takes no angle"
    );
    assert_eq!(
        rig.outputs.remote("fan", Command::On, "c-5", at(2)),
        Ok(State::On)
    );
    assert_eq!(rig.causes(), [pair("fan on", "command c-5")]);
    // The interlocking rule raised: remote commands wait until it clears.
    rig.reading(3, 26.0); // the rule's first evaluation switches the fan off
    rig.reading(4, 31.0);
    assert_eq!(
        refused(rig.outputs.remote("fan", Command::Off, "c-6", at(5))),
        "interlocked by rule too-hot"
    );
    assert_eq!(rig.outputs.outputs[0].device.state(), Some(State::On));
}

#[test]
fn a_failed_set_is_counted_and_retried_with_the_next_request() {
    let config = config::parse(CONFIG, "test.toml").unwrap();
    let statuses: Vec<_> = config
        .actuators
        .iter()
        .map(|a| Arc::new(ActuatorStatus::new(&a.name)))
        .collect();
    /// A relay whose first `fails` sets fail.
    struct Flaky {
        fails: u32,
        state: Option<State>,
    }
    impl DynActuator for Flaky {
        fn set(&mut self, command: Command) -> Result<State, ActuatorFault> {
            if self.fails > 0 {
                self.fails -= 1;
                return Err(ActuatorFault {
                    kind: edgewise_boards::actuator::ActuatorErrorKind::Hardware,
                    message: "line busy".into(),
                });
            }
            let state = match command {
                Command::On => State::On,
                _ => State::Off,
            };
            self.state = Some(state);
            Ok(state)
        }
        fn state(&self) -> Option<State> {
            self.state
        }
        fn safe_state(&self) -> State {
            State::Off
        }
    }
    struct FlakyBoard;
    impl Board for FlakyBoard {
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
            Err(BoardError::Unsupported {
                sensor: spec.name.clone(),
                problem: "none".into(),
            })
        }
        fn open_actuator(&self, _: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
            Ok(Box::new(Flaky {
                fails: 1,
                state: None,
            }))
        }
        fn scan(&self, _: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
            Ok(Vec::new())
        }
    }
    let mut outputs = Outputs::open(&config, &FlakyBoard, &statuses, vec![None], at(0)).unwrap();
    assert!(statuses[0].is_failing());
    assert_eq!(statuses[0].errors.get(), 1);
    assert!(outputs.take_events().is_empty());
    outputs.retry_failed(at(1));
    assert!(!statuses[0].is_failing());
    assert_eq!(statuses[0].state(), Some(State::Off));
    assert_eq!(statuses[0].cause().as_deref(), Some("safe state: start"));
}

#[test]
fn an_actuator_that_cannot_be_opened_stops_the_start_naming_it() {
    struct NoOutputs;
    impl Board for NoOutputs {
        fn name(&self) -> &'static str {
            "none"
        }
        fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
            Err(BoardError::Unsupported {
                sensor: spec.name.clone(),
                problem: "none".into(),
            })
        }
        fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
            Err(BoardError::Unsupported {
                sensor: spec.name.clone(),
                problem: "GPIO line 17 is busy".into(),
            })
        }
        fn scan(&self, _: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
            Ok(Vec::new())
        }
    }
    let config = config::parse(CONFIG, "test.toml").unwrap();
    let error = Outputs::open(&config, &NoOutputs, &[], vec![None], at(0)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "actuator `fan`: sensor `fan`: GPIO line 17 is busy"
    );
}

#[test]
fn a_sample_action_sets_the_sensors_interval_while_raised_and_restores_it() {
    let text = CONFIG.replace(
        "interlock = true\n",
        "interlock = true\n\n[[pipelines.actions]]\nname = \"closer-look\"\nwhen = \"too-hot\"\nsample = { sensor = \"room\", interval = \"1s\" }\n",
    );
    let config = config::parse(&text, "test.toml").unwrap();
    let board = OutputsBoard {
        clock: SimClock::virtual_clock(),
        timeline: OutputTimeline::new(),
    };
    let (interval, sampler) = watch::channel(Duration::from_secs(10));
    let mut outputs = Outputs::open(&config, &board, &[], vec![Some(interval)], at(0)).unwrap();
    outputs.take_events();
    outputs.observe(Observation::Rule {
        action: 1,
        raised: true,
        at: at(5),
    });
    assert_eq!(*sampler.borrow(), Duration::from_secs(1));
    outputs.observe(Observation::Rule {
        action: 1,
        raised: false,
        at: at(6),
    });
    assert_eq!(*sampler.borrow(), Duration::from_secs(10));
    let events: Vec<(String, String)> = outputs
        .take_events()
        .into_iter()
        .map(|(_, _, e)| {
            (
                format!(
                    "{} {}",
                    e.text("sensor").unwrap(),
                    e.text("interval").unwrap()
                ),
                e.text("cause").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            pair("room 1s", "rule too-hot raised"),
            pair("room 10s", "rule too-hot cleared")
        ]
    );
}

#[test]
fn a_controller_drives_its_pwm_output_and_a_stopped_pipeline_leaves_it_safe() {
    let text = CONFIG.replace(
        "[[sinks]]",
        "[[pipelines.controllers]]\nname = \"warmth\"\nactuator = \"heater\"\nchannel = \"temperature\"\nsetpoint = 20.0\nkp = 0.25\nki = 0.125\ndirection = \"direct\"\n\n[[sinks]]",
    );
    let config = config::parse(&text, "test.toml").unwrap();
    let board = OutputsBoard {
        clock: SimClock::virtual_clock(),
        timeline: OutputTimeline::new(),
    };
    let mut outputs = Outputs::open(&config, &board, &[], vec![None], at(0)).unwrap();
    outputs.take_events();
    let mut rig = |value: f64, seconds: u64| {
        outputs.observe(Observation::Value {
            controller: 0,
            value,
            at: at(seconds),
        });
    };
    rig(18.0, 0); // e=2: P=0.5
    rig(18.0, 2); // P=0.5, I=0.5: 1.0
    rig(19.96, 3); // e=0.04: P=0.01, I=0.505: 0.515
    rig(19.96, 3); // the same again: no change
    let mut rig = Rig {
        board,
        outputs,
        rule: Rule::new("too-hot", config.pipelines[0].rules[0].condition().unwrap()),
    };
    assert_eq!(
        rig.causes(),
        [
            pair("heater 0.5", "controller warmth"),
            pair("heater 1", "controller warmth"),
            pair("heater 0.515", "controller warmth"),
        ]
    );
    rig.outputs.pipeline_stopped(0, at(4));
    assert_eq!(
        rig.causes(),
        [pair("heater off", "safe state: control stopped")]
    );
    // Nothing drives it any more.
    rig.outputs.observe(Observation::Value {
        controller: 0,
        value: 10.0,
        at: at(5),
    });
    assert!(rig.causes().is_empty());
    assert_eq!(rig.outputs.next_deadline(), None);
}
