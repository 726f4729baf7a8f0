//! The sim board's outputs: devsim pins and PWM channels that a test can make fail, PCA9685
//! channels recorded on the board's timeline under their actuator's name, and the wrapper
//! that writes every change to the outputs log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use edgewise_devsim::output::{
    OutputTimeline, OutputValue, SimOutputError, SimOutputPin, SimPwmChannel,
};
use edgewise_devsim::SimClock;
use edgewise_sensors::actuator::{Command, ErrorKind, State};
use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;

use super::outputs_log::OutputsLog;
use crate::{ActuatorFault, DynActuator};

/// A devsim output whose failure a test switches from outside, through the board
/// ([`super::SimBoard::set_output_failing`]), after the output was boxed behind
/// [`DynActuator`].
#[derive(Debug)]
pub(crate) struct Switched<P> {
    inner: P,
    failing: Arc<AtomicBool>,
}

impl<P> Switched<P> {
    pub(crate) fn new(inner: P, failing: Arc<AtomicBool>) -> Self {
        Self { inner, failing }
    }

    fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }
}

impl embedded_hal::digital::ErrorType for Switched<SimOutputPin> {
    type Error = SimOutputError;
}

impl OutputPin for Switched<SimOutputPin> {
    fn set_low(&mut self) -> Result<(), SimOutputError> {
        self.inner.set_failing(self.failing());
        self.inner.set_low()
    }

    fn set_high(&mut self) -> Result<(), SimOutputError> {
        self.inner.set_failing(self.failing());
        self.inner.set_high()
    }
}

impl embedded_hal::pwm::ErrorType for Switched<SimPwmChannel> {
    type Error = SimOutputError;
}

impl SetDutyCycle for Switched<SimPwmChannel> {
    fn max_duty_cycle(&self) -> u16 {
        self.inner.max_duty_cycle()
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), SimOutputError> {
        self.inner.set_failing(self.failing());
        self.inner.set_duty_cycle(duty)
    }
}

/// A PWM channel (a PCA9685's) whose successful changes are put on the board's timeline
/// under the actuator's name, as the devsim pins and channels do for themselves.
#[derive(Debug)]
pub(crate) struct RecordedChannel<P> {
    inner: P,
    name: String,
    clock: SimClock,
    timeline: OutputTimeline,
    last: Option<u16>,
}

impl<P> RecordedChannel<P> {
    pub(crate) fn new(inner: P, name: &str, clock: SimClock, timeline: OutputTimeline) -> Self {
        Self {
            inner,
            name: name.to_string(),
            clock,
            timeline,
            last: None,
        }
    }
}

impl<P: SetDutyCycle> embedded_hal::pwm::ErrorType for RecordedChannel<P> {
    type Error = P::Error;
}

impl<P: SetDutyCycle> SetDutyCycle for RecordedChannel<P> {
    fn max_duty_cycle(&self) -> u16 {
        self.inner.max_duty_cycle()
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), P::Error> {
        let result = self.inner.set_duty_cycle(duty);
        match result {
            Ok(()) if self.last != Some(duty) => {
                let fraction = f32::from(duty) / f32::from(self.max_duty_cycle().max(1));
                self.timeline.record(
                    self.clock.now_ns(),
                    &self.name,
                    OutputValue::Duty(fraction.min(1.0)),
                );
                self.last = Some(duty);
            }
            Ok(()) => {}
            Err(_) => self.last = None,
        }
        result
    }
}

/// An opened output that appends each change of its logical state to the outputs log, and
/// reports no state until its first set (an inherited state is the hardware's, not one the
/// caller applied).
pub(crate) struct SimOutput {
    inner: Box<dyn DynActuator>,
    name: String,
    log: Option<Arc<OutputsLog>>,
    /// The state the log last recorded for this output; `None` when unknown.
    logged: Option<State>,
    set_once: bool,
}

impl SimOutput {
    pub(crate) fn new(
        inner: Box<dyn DynActuator>,
        name: &str,
        log: Option<Arc<OutputsLog>>,
        inherited: Option<State>,
    ) -> Self {
        Self {
            inner,
            name: name.to_string(),
            log,
            logged: inherited,
            set_once: false,
        }
    }
}

impl DynActuator for SimOutput {
    fn set(&mut self, command: Command) -> Result<State, ActuatorFault> {
        let state = match self.inner.set(command) {
            Ok(state) => state,
            Err(fault) => {
                if self.inner.state().is_none() {
                    self.logged = None;
                }
                return Err(fault);
            }
        };
        self.set_once = true;
        if self.logged != Some(state) {
            if let Some(log) = &self.log {
                log.append(&self.name, state, false)
                    .map_err(|error| ActuatorFault {
                        kind: ErrorKind::Hardware,
                        message: format!(
                            "actuator `{}`: set to {state:?}, but the outputs log {} could not \
                         be written: {error}",
                            self.name,
                            log.path().display()
                        ),
                    })?;
            }
            self.logged = Some(state);
        }
        Ok(state)
    }

    fn state(&self) -> Option<State> {
        if self.set_once {
            self.inner.state()
        } else {
            None
        }
    }

    fn safe_state(&self) -> State {
        self.inner.safe_state()
    }
}
