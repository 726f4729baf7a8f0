//! Outputs as the orchestrator sees them: what to open ([`ActuatorSpec`]) and one
//! object-safe interface over every kind on every board ([`DynActuator`]).
//!
//! A board maps each [`OutputSpec`] onto its hardware: the sim board onto devsim outputs
//! that record every change, Linux onto gpio-cdev lines and sysfs PWM, the Raspberry Pi onto
//! rppal's GPIO and hardware PWM, and every board onto a PCA9685 on one of its I²C buses.

use std::fmt;

pub use edgewise_sensors::actuator::{Command, ErrorKind as ActuatorErrorKind, Polarity, State};

use crate::BusAddress;

/// What to open: one output of a checked config.
#[derive(Debug, Clone, PartialEq)]
pub struct ActuatorSpec {
    /// The actuator's name in the config (for messages and the sim timeline).
    pub name: String,
    /// Where the output is.
    pub output: OutputSpec,
    /// The state the user declared safe.
    pub safe_state: State,
    /// PWM only: the lowest and highest duty fraction the output may be set to.
    pub duty_limits: Option<(f32, f32)>,
    /// PWM only: the output drives a servo (angle commands).
    pub servo: Option<ServoSpec>,
}

/// The hardware behind an output.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpec {
    /// A GPIO line: a relay, valve or LED.
    Gpio {
        /// Linux: the GPIO chip (`gpiochip0`, the default, or a path); ignored elsewhere.
        chip: Option<String>,
        /// The line offset on the chip (the BCM number on a Raspberry Pi and on sim).
        line: u32,
        /// Whether "on" drives the line high or low.
        polarity: Polarity,
    },
    /// A PWM channel of the SoC: Linux `/sys/class/pwm/pwmchip<chip>/pwm<channel>`, the
    /// Raspberry Pi's hardware PWM channel.
    Pwm {
        /// Linux: the pwmchip number; ignored elsewhere.
        chip: u32,
        /// The channel.
        channel: u32,
        /// The PWM frequency, Hz.
        frequency_hz: f64,
    },
    /// One channel of an NXP PCA9685 on an I²C bus.
    Pca9685 {
        /// The bus.
        bus: BusAddress,
        /// The chip's address (0x40 by default).
        address: u8,
        /// The channel, 0..=15.
        channel: u8,
        /// The PWM frequency, Hz (24–1526).
        frequency_hz: f64,
    },
}

/// A servo's pulse range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServoSpec {
    /// The pulse at angle 0, µs.
    pub min_pulse_us: u32,
    /// The pulse at `range_degrees`, µs.
    pub max_pulse_us: u32,
    /// Degrees between the end positions.
    pub range_degrees: f32,
}

/// A failed output operation: the kind (refused, or the hardware failed) and a message that
/// names the output and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActuatorFault {
    /// What kind of failure.
    pub kind: ActuatorErrorKind,
    /// In words.
    pub message: String,
}

impl fmt::Display for ActuatorFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ActuatorFault {}

/// One opened output, any kind on any board. Calls block (a pin write, a bus transfer): the
/// orchestrator makes them off its async workers.
pub trait DynActuator: Send {
    /// Applies `command`; returns the state applied (after limits and clamping).
    fn set(&mut self, command: Command) -> Result<State, ActuatorFault>;

    /// What the output was last set to; `None` before the first set or after a failed one
    /// left it unknown.
    fn state(&self) -> Option<State>;

    /// The state the user declared safe.
    fn safe_state(&self) -> State;

    /// Applies the safe state.
    fn apply_safe_state(&mut self) -> Result<State, ActuatorFault> {
        self.set(self.safe_state().into())
    }
}
