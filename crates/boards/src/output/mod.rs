//! Outputs on any board, written once over embedded-hal's `OutputPin` and `SetDutyCycle` (as
//! [`crate::driver`] does for sensors): each board turns an [`OutputSpec`] into a pin or a
//! PWM channel of its own, and the functions here put the `edgewise-sensors` output on it
//! ([`GpioOutput`], [`PwmOutput`] in duty or servo mode) behind [`DynActuator`].
//!
//! - [`check`] refuses what no hardware could do (a duty limit on a relay, a servo pulse
//!   longer than its period, a frequency of zero) before a board touches a pin, so the
//!   error names the setting rather than a half-configured output;
//! - [`Output`] maps a driver error to an [`ActuatorFault`] with the driver's
//!   [`ActuatorErrorKind`] and a message naming the output (``actuator `fan`: …``);
//! - [`pca9685`] shares one initialised PCA9685 between the actuators on its channels;
//! - [`OutputError`] is the error of the board-specific pins and channels: a message that
//!   says what failed, where, and the likely fix.

use std::fmt;

use edgewise_sensors::actuator::{
    Actuator, DutyLimits, GpioOutput, Polarity, PwmOutput, Servo, State,
};
use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;

use crate::actuator::ActuatorErrorKind;
use crate::{ActuatorFault, ActuatorSpec, BoardError, DynActuator, OutputSpec};

pub mod pca9685;
#[cfg(feature = "linux")]
pub mod sysfs_pwm;

/// An `edgewise-sensors` output behind [`DynActuator`], named for its messages.
#[derive(Debug)]
pub struct Output<A> {
    name: String,
    inner: A,
}

impl<A: Actuator> Output<A> {
    /// `inner`, reported as the actuator `name`.
    pub fn new(name: &str, inner: A) -> Self {
        Self {
            name: name.to_string(),
            inner,
        }
    }

    /// The driver inside.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    fn fault(&self, kind: ActuatorErrorKind, problem: impl fmt::Display) -> ActuatorFault {
        ActuatorFault {
            kind,
            message: format!("actuator `{}`: {problem}", self.name),
        }
    }
}

impl<A: Actuator + Send> DynActuator for Output<A> {
    fn set(
        &mut self,
        command: edgewise_sensors::actuator::Command,
    ) -> Result<State, ActuatorFault> {
        use edgewise_sensors::actuator::ActuatorError;
        self.inner
            .set(command)
            .map_err(|error| self.fault(error.kind(), &error))?;
        // Every driver remembers what a successful set applied; this is a broken driver.
        self.inner.state().ok_or_else(|| {
            self.fault(
                ActuatorErrorKind::NotInitialized,
                "the driver reported success but no state",
            )
        })
    }

    fn state(&self) -> Option<State> {
        self.inner.state()
    }

    fn safe_state(&self) -> State {
        self.inner.safe_state()
    }
}

/// The error of a board's own pin or PWM channel: what failed, where, and the likely fix.
/// `Debug` prints the message too, because the output drivers quote their channel's error
/// with `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct OutputError(pub String);

impl fmt::Debug for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutputError {}

impl embedded_hal::digital::Error for OutputError {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl embedded_hal::pwm::Error for OutputError {
    fn kind(&self) -> embedded_hal::pwm::ErrorKind {
        embedded_hal::pwm::ErrorKind::Other
    }
}

/// A pin whose errors say which pin it is: `what` (`/dev/gpiochip0 line 17`) prefixes the
/// HAL's own message, which rarely names anything.
#[derive(Debug)]
pub struct NamedPin<P> {
    pin: P,
    what: String,
}

impl<P> NamedPin<P> {
    /// `pin`, described as `what` in its errors.
    pub fn new(pin: P, what: impl Into<String>) -> Self {
        Self {
            pin,
            what: what.into(),
        }
    }
}

impl<P: embedded_hal::digital::ErrorType> embedded_hal::digital::ErrorType for NamedPin<P> {
    type Error = OutputError;
}

impl<P: OutputPin> OutputPin for NamedPin<P>
where
    P::Error: fmt::Debug,
{
    fn set_low(&mut self) -> Result<(), OutputError> {
        let result = self.pin.set_low();
        result.map_err(|error| OutputError(format!("{}: {error:?}", self.what)))
    }

    fn set_high(&mut self) -> Result<(), OutputError> {
        let result = self.pin.set_high();
        result.map_err(|error| OutputError(format!("{}: {error:?}", self.what)))
    }
}

/// An [`BoardError::Actuator`] for `spec`.
pub fn actuator_error(spec: &ActuatorSpec, problem: impl Into<String>) -> BoardError {
    BoardError::Actuator {
        actuator: spec.name.clone(),
        problem: problem.into(),
    }
}

/// Refuses a spec no hardware could honour, before a board touches anything: duty limits or
/// a servo on a GPIO line, a switch's safe state that is neither on nor off, a frequency
/// that is not a positive number, a servo whose pulses do not fit its period.
pub fn check(spec: &ActuatorSpec) -> Result<(), BoardError> {
    let error = |problem: String| Err(actuator_error(spec, problem));
    match &spec.output {
        OutputSpec::Gpio { .. } => {
            if spec.duty_limits.is_some() || spec.servo.is_some() {
                return error(
                    "duty limits and servos need a PWM output (pwm or pca9685), not a GPIO line"
                        .into(),
                );
            }
            safe_level_on(spec)?;
        }
        OutputSpec::Pwm { frequency_hz, .. } | OutputSpec::Pca9685 { frequency_hz, .. } => {
            period_ns(spec, *frequency_hz)?;
            if let OutputSpec::Pca9685 { channel, .. } = spec.output {
                if channel >= edgewise_sensors::pca9685::CHANNELS {
                    return error(format!("PCA9685 channel {channel} does not exist (0..=15)"));
                }
            }
            if let Some((min, max)) = spec.duty_limits {
                if spec.servo.is_some() {
                    return error(
                        "duty limits do not apply to a servo (its range is its pulse range)".into(),
                    );
                }
                if DutyLimits::new(min, max).is_none() {
                    return error(format!(
                        "duty limits {min}..={max} must satisfy 0 ≤ min ≤ max ≤ 1"
                    ));
                }
            }
            if let Some(servo) = spec.servo {
                if servo.min_pulse_us >= servo.max_pulse_us
                    || servo.range_degrees.is_nan()
                    || servo.range_degrees <= 0.0
                {
                    return error(format!(
                        "servo pulses {}..{} µs over {}° must rise over a positive range",
                        servo.min_pulse_us, servo.max_pulse_us, servo.range_degrees
                    ));
                }
                if spec.safe_state == State::On {
                    return error(
                        "a servo's safe state is off (no pulses) or a position 0.0..=1.0, not on"
                            .into(),
                    );
                }
            }
            if let State::Fraction(fraction) = spec.safe_state {
                if !(0.0..=1.0).contains(&fraction) {
                    return error(format!("safe state {fraction} is not a fraction 0.0..=1.0"));
                }
            }
        }
    }
    Ok(())
}

/// Whether a switch's safe state is on; a fraction other than 0 or 1 is refused.
fn safe_level_on(spec: &ActuatorSpec) -> Result<bool, BoardError> {
    match spec.safe_state {
        State::Off | State::Fraction(0.0) => Ok(false),
        State::On | State::Fraction(1.0) => Ok(true),
        State::Fraction(fraction) => Err(actuator_error(
            spec,
            format!("a GPIO output is on or off; its safe state cannot be {fraction}"),
        )),
    }
}

/// The electrical level (true: high) of a GPIO spec's safe state: what a board requests the
/// line with, so taking the line as an output does not glitch to the unsafe state before the
/// caller applies the safe state.
pub fn safe_level_high(spec: &ActuatorSpec) -> Result<bool, BoardError> {
    let on = safe_level_on(spec)?;
    Ok(match gpio_polarity(spec)? {
        Polarity::ActiveHigh => on,
        Polarity::ActiveLow => !on,
    })
}

fn gpio_polarity(spec: &ActuatorSpec) -> Result<Polarity, BoardError> {
    match spec.output {
        OutputSpec::Gpio { polarity, .. } => Ok(polarity),
        _ => Err(actuator_error(spec, "is not a GPIO output")),
    }
}

/// The PWM period for `frequency_hz`, ns (rounded); refuses a frequency that is not a
/// positive number or is above 1 GHz.
pub fn period_ns(spec: &ActuatorSpec, frequency_hz: f64) -> Result<u64, BoardError> {
    if !(frequency_hz.is_finite() && frequency_hz > 0.0) {
        return Err(actuator_error(
            spec,
            format!("PWM frequency {frequency_hz} Hz is not a positive number"),
        ));
    }
    let period = (1e9 / frequency_hz).round();
    if period < 1.0 {
        return Err(actuator_error(
            spec,
            format!("PWM frequency {frequency_hz} Hz is above 1 GHz"),
        ));
    }
    // A positive finite value of at most 1e9 / f64::MIN_POSITIVE saturates, never wraps.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(period as u64)
}

/// A relay, valve or LED on `pin`, as `spec` describes it.
pub fn gpio_output<P>(spec: &ActuatorSpec, pin: P) -> Result<Box<dyn DynActuator>, BoardError>
where
    P: OutputPin + Send + 'static,
    P::Error: fmt::Debug,
{
    check(spec)?;
    let output = GpioOutput::new(pin, gpio_polarity(spec)?, safe_level_on(spec)?);
    Ok(Box::new(Output::new(&spec.name, output)))
}

/// A fan, dimmer or servo on `pwm`, a channel running with a period of `period_ns` (the one
/// it really makes: a servo's pulses are computed in it). Duty limits and the servo's pulse
/// range come from `spec`.
pub fn pwm_output<P>(
    spec: &ActuatorSpec,
    pwm: P,
    period_ns: u64,
) -> Result<Box<dyn DynActuator>, BoardError>
where
    P: SetDutyCycle + Send + 'static,
    P::Error: fmt::Debug,
{
    check(spec)?;
    let output = match spec.servo {
        Some(servo) => {
            let period_us = u32::try_from((period_ns + 500) / 1000).unwrap_or(u32::MAX);
            if servo.max_pulse_us >= period_us {
                return Err(actuator_error(
                    spec,
                    format!(
                        "servo pulses up to {} µs do not fit the {period_us} µs PWM period \
                         (servos run at about 50 Hz)",
                        servo.max_pulse_us
                    ),
                ));
            }
            let timing = Servo {
                period_us,
                min_pulse_us: servo.min_pulse_us,
                max_pulse_us: servo.max_pulse_us,
                range_deg: servo.range_degrees,
            };
            PwmOutput::servo(pwm, timing, spec.safe_state)
        }
        None => {
            let output = PwmOutput::new(pwm, spec.safe_state);
            match spec
                .duty_limits
                .and_then(|(min, max)| DutyLimits::new(min, max))
            {
                Some(limits) => output.with_limits(limits),
                None => output,
            }
        }
    };
    Ok(Box::new(Output::new(&spec.name, output)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ServoSpec;
    use edgewise_sensors::actuator::Command;
    use embedded_hal_mock::eh1::digital::{Mock as PinMock, State as Level, Transaction};
    use embedded_hal_mock::eh1::pwm::{Mock as PwmMock, Transaction as PwmTransaction};
    use embedded_hal_mock::eh1::MockError;

    fn relay(polarity: Polarity, safe_state: State) -> ActuatorSpec {
        ActuatorSpec {
            name: "pump".into(),
            output: OutputSpec::Gpio {
                chip: None,
                line: 17,
                polarity,
            },
            safe_state,
            duty_limits: None,
            servo: None,
        }
    }

    fn fan(frequency_hz: f64) -> ActuatorSpec {
        ActuatorSpec {
            name: "fan".into(),
            output: OutputSpec::Pwm {
                chip: 0,
                channel: 0,
                frequency_hz,
            },
            safe_state: State::Fraction(1.0),
            duty_limits: Some((0.2, 0.9)),
            servo: None,
        }
    }

    #[test]
    fn a_pin_error_becomes_a_hardware_fault_naming_the_actuator() {
        let pin = PinMock::new(&[
            Transaction::set(Level::Low),
            Transaction::set(Level::High).with_error(MockError::Io(std::io::ErrorKind::Other)),
        ]);
        let mut clone = pin.clone();
        let mut pump = gpio_output(&relay(Polarity::ActiveLow, State::Off), pin).unwrap();
        assert_eq!(pump.set(Command::On), Ok(State::On));
        let fault = pump.set(Command::Off).unwrap_err();
        assert_eq!(fault.kind, ActuatorErrorKind::Hardware);
        assert!(fault.message.starts_with("actuator `pump`: "), "{fault}");
        assert_eq!(pump.state(), None);
        let fault = pump.set(Command::Angle(3.0)).unwrap_err();
        assert_eq!(fault.kind, ActuatorErrorKind::Unsupported);
        clone.done();
    }

    #[test]
    fn pwm_limits_and_servo_timing_come_from_the_spec() {
        // 25 kHz: 40 000 ns. Limits 0.2..=0.9 at max 1000: 0.05 → 200, On → 900.
        let pwm = PwmMock::new(&[
            PwmTransaction::max_duty_cycle(1000),
            PwmTransaction::set_duty_cycle(200),
            PwmTransaction::max_duty_cycle(1000),
            PwmTransaction::set_duty_cycle(900),
        ]);
        let mut clone = pwm.clone();
        let mut output = pwm_output(&fan(25_000.0), pwm, 40_000).unwrap();
        assert_eq!(
            output.set(Command::Fraction(0.05)),
            Ok(State::Fraction(0.2))
        );
        assert_eq!(output.set(Command::On), Ok(State::Fraction(0.9)));
        assert_eq!(output.safe_state(), State::Fraction(1.0));
        clone.done();

        // A servo at 50 Hz: 1500 µs of 20 000 µs at max 20 000 is 1500.
        let pwm = PwmMock::new(&[
            PwmTransaction::max_duty_cycle(20_000),
            PwmTransaction::set_duty_cycle(1_500),
        ]);
        let mut clone = pwm.clone();
        let spec = ActuatorSpec {
            duty_limits: None,
            servo: Some(ServoSpec {
                min_pulse_us: 1000,
                max_pulse_us: 2000,
                range_degrees: 180.0,
            }),
            safe_state: State::Off,
            ..fan(50.0)
        };
        let mut servo = pwm_output(&spec, pwm, 20_000_000).unwrap();
        assert_eq!(servo.set(Command::Angle(90.0)), Ok(State::Fraction(0.5)));
        clone.done();
    }

    #[test]
    fn impossible_specs_are_refused_before_any_hardware() {
        let message = |spec: &ActuatorSpec| check(spec).unwrap_err().to_string();
        let mut spec = relay(Polarity::ActiveHigh, State::Off);
        spec.duty_limits = Some((0.1, 0.5));
        assert!(message(&spec).starts_with("actuator `pump`: duty limits and servos need a PWM"));
        assert!(message(&relay(Polarity::ActiveHigh, State::Fraction(0.5)))
            .contains("its safe state cannot be 0.5"));
        assert!(message(&fan(0.0)).contains("PWM frequency 0 Hz is not a positive number"));
        assert!(message(&fan(f64::NAN)).contains("is not a positive number"));
        let mut inverted = fan(100.0);
        inverted.duty_limits = Some((0.9, 0.2));
        assert!(message(&inverted).contains("0 ≤ min ≤ max ≤ 1"));
        // Active-low: the line is requested high for a safe "off".
        assert_eq!(
            safe_level_high(&relay(Polarity::ActiveLow, State::Off)),
            Ok(true)
        );
        assert_eq!(
            safe_level_high(&relay(Polarity::ActiveHigh, State::Off)),
            Ok(false)
        );
        assert_eq!(period_ns(&fan(25_000.0), 25_000.0), Ok(40_000));
        assert_eq!(period_ns(&fan(50.0), 50.0), Ok(20_000_000));
    }
}
