//! The interface the orchestrator drives every output through, and the outputs built on
//! embedded-hal's own traits.
//!
//! The counterpart of [`crate::sensor`] for the other direction: a rule, a controller or a
//! remote command produces a [`Command`]; an [`Actuator`] applies it, remembers what it
//! applied ([`Actuator::state`]) and knows the state the user declared safe
//! ([`Actuator::safe_state`]), which the orchestrator applies at start, on shutdown and when
//! control is lost. Errors say what kind of failure they are ([`ErrorKind`]) so a caller can
//! tell a refused command from a broken output without knowing the hardware.
//!
//! - [`GpioOutput`]: a relay, valve or LED on an `OutputPin`, active-high or active-low;
//! - [`PwmOutput`]: a fan, dimmer or servo on a `SetDutyCycle` channel, with duty limits and
//!   servo pulse helpers. A [`crate::pca9685`] channel is one such channel.
//!
//! The trait is blocking and object-safe (`dyn Actuator<Error = E>`): setting an output is
//! one pin write or one bus transaction, and embedded-hal has no async output pin to await.

use core::fmt;

mod gpio;
mod pwm;

pub use gpio::{GpioError, GpioOutput, Polarity};
pub use pwm::{duty_for_pulse, DutyLimits, PwmError, PwmOutput, Servo};

/// What an output is asked to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// Switch off: a relay released, a fan stopped, a servo's pulses stopped.
    Off,
    /// Switch on: a relay energised, a PWM output at its highest allowed duty.
    On,
    /// A PWM output's duty (or a servo's position) as a fraction of its range, 0.0..=1.0.
    /// Values outside are clamped; NaN is refused. A switch takes 0.0 and 1.0 only.
    Fraction(f32),
    /// A servo's angle in degrees within its configured range.
    Angle(f32),
}

/// What an output was last set to, after limits and clamping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    /// Off (a PWM output at duty 0).
    Off,
    /// On (a switch energised).
    On,
    /// A PWM output's duty, or a servo's position, as a fraction 0.0..=1.0.
    Fraction(f32),
}

impl From<State> for Command {
    fn from(state: State) -> Self {
        match state {
            State::Off => Command::Off,
            State::On => Command::On,
            State::Fraction(fraction) => Command::Fraction(fraction),
        }
    }
}

/// What kind of failure an actuator error is, as far as the orchestrator is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The bus transfer failed (NACK, I/O error): the output may not have changed. Retry,
    /// and report the output as unknown until a set succeeds.
    Bus,
    /// The pin or PWM peripheral refused the operation (a GPIO line taken, a PWM channel
    /// not exported): the output may not have changed.
    Hardware,
    /// This kind of output cannot take this command (an angle for a relay, a duty of 0.4
    /// for a switch). Nothing was changed; the command is refused, not retried.
    Unsupported,
    /// The command's value is unusable (NaN, an angle outside the servo's range, a pulse
    /// longer than the period). Nothing was changed; the command is refused.
    InvalidValue,
    /// The output's configuration cannot be applied (a frequency the chip cannot make).
    Config,
    /// The chip behind the output has not been initialised, or lost its state.
    NotInitialized,
}

/// An actuator error that can say what kind of failure it is.
pub trait ActuatorError: fmt::Debug + fmt::Display {
    /// The kind of failure.
    fn kind(&self) -> ErrorKind;
}

/// An output the orchestrator can set.
pub trait Actuator {
    /// The driver's error.
    type Error: ActuatorError;

    /// Applies `command`. On error the remembered [`Actuator::state`] is left as it was for
    /// a refused command, and becomes unknown (`None`) when the hardware may be half-set.
    fn set(&mut self, command: Command) -> Result<(), Self::Error>;

    /// What the output was last set to; `None` before the first successful set, or after a
    /// failed one left it unknown.
    fn state(&self) -> Option<State>;

    /// The state the user declared safe for this output (a heater off, a valve closed, a fan
    /// at full speed).
    fn safe_state(&self) -> State;

    /// Applies [`Actuator::safe_state`].
    fn apply_safe_state(&mut self) -> Result<(), Self::Error> {
        self.set(self.safe_state().into())
    }
}

/// A fraction for a PWM output: NaN refused, everything else clamped to 0.0..=1.0.
pub(crate) fn clamp_fraction(fraction: f32) -> Option<f32> {
    if fraction.is_nan() {
        None
    } else {
        Some(fraction.clamp(0.0, 1.0))
    }
}

/// `fraction` (0.0..=1.0) of `max` counts, rounded to the nearest count. `core` has no
/// `f32::round`; the value is non-negative, so adding one half and truncating rounds.
pub(crate) fn fraction_of(fraction: f32, max: u16) -> u16 {
    let counts = fraction * f32::from(max) + 0.5;
    // Truncation is the rounding step; `as` saturates, and counts ≤ max + 0.5.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let counts = counts as u32;
    u16::try_from(counts).unwrap_or(max).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_round_to_the_nearest_count_and_nan_is_refused() {
        assert_eq!(clamp_fraction(f32::NAN), None);
        assert_eq!(clamp_fraction(-0.5), Some(0.0));
        assert_eq!(clamp_fraction(1.5), Some(1.0));
        assert_eq!(clamp_fraction(f32::INFINITY), Some(1.0));
        assert_eq!(fraction_of(0.0, 100), 0);
        assert_eq!(fraction_of(1.0, 100), 100);
        // 0.254 × 100 = 25.4 → 25; 0.255 × 100 = 25.5 → 26 (f32 rounds 0.255 up slightly).
        assert_eq!(fraction_of(0.254, 100), 25);
        assert_eq!(fraction_of(0.256, 100), 26);
        assert_eq!(fraction_of(1.0, u16::MAX), u16::MAX);
    }

    #[test]
    fn a_state_is_the_command_that_restores_it() {
        assert_eq!(Command::from(State::Off), Command::Off);
        assert_eq!(Command::from(State::On), Command::On);
        assert_eq!(
            Command::from(State::Fraction(0.25)),
            Command::Fraction(0.25)
        );
    }
}
