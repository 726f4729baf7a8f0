//! A switched output on one GPIO pin: a relay, a solenoid valve, an LED.
//!
//! Relay boards differ in which level energises the coil: many opto-isolated modules are
//! active-low (the input pulls the LED of the opto-coupler to ground). [`Polarity`] maps the
//! logical on/off the orchestrator speaks to the pin level, so "on" always means energised.

use core::fmt;

use embedded_hal::digital::OutputPin;

use super::{Actuator, ActuatorError, Command, ErrorKind, State};

/// Which pin level switches the load on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Polarity {
    /// High is on (a MOSFET or transistor driver, an LED to ground).
    #[default]
    ActiveHigh,
    /// Low is on (most opto-isolated relay modules, an LED to the supply).
    ActiveLow,
}

/// Errors of a [`GpioOutput`], generic over the pin's error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GpioError<E> {
    /// The pin reported an error; the output level is unknown.
    Pin(E),
    /// A switch takes on and off (and fractions 0.0 and 1.0) only.
    Unsupported(Command),
}

impl<E: fmt::Debug> fmt::Display for GpioError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pin(e) => write!(f, "output pin error: {e:?}"),
            Self::Unsupported(command) => write!(
                f,
                "a switched output takes on or off (or fraction 0/1), not {command:?}"
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for GpioError<E> {}

impl<E: fmt::Debug> ActuatorError for GpioError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Pin(_) => ErrorKind::Hardware,
            Self::Unsupported(_) => ErrorKind::Unsupported,
        }
    }
}

/// A load switched by one output pin.
///
/// ```
/// # use embedded_hal_mock::eh1::digital::{Mock, State as PinState, Transaction};
/// use edgewise_sensors::actuator::{GpioOutput, Polarity};
/// # let pin = Mock::new(&[Transaction::set(PinState::Low), Transaction::set(PinState::High)]);
/// // An active-low relay module whose safe state is released (off).
/// let mut relay = GpioOutput::new(pin, Polarity::ActiveLow, false);
/// relay.set_on()?;   // drives the pin low
/// relay.set_off()?;  // drives it high
/// # relay.release().done();
/// # Ok::<(), edgewise_sensors::actuator::GpioError<embedded_hal_mock::eh1::MockError>>(())
/// ```
#[derive(Debug)]
pub struct GpioOutput<P> {
    pin: P,
    polarity: Polarity,
    safe_on: bool,
    /// The logical state last driven; `None` until the first write, or after a failed one.
    on: Option<bool>,
}

impl<P: OutputPin> GpioOutput<P> {
    /// An output on `pin`. Nothing is driven until the first set: the pin keeps whatever
    /// level the board gave it (callers apply the safe state at start). `safe_on` is the
    /// state the user declared safe.
    pub fn new(pin: P, polarity: Polarity, safe_on: bool) -> Self {
        Self {
            pin,
            polarity,
            safe_on,
            on: None,
        }
    }

    /// Switches the load on (energised), whatever the polarity.
    pub fn set_on(&mut self) -> Result<(), GpioError<P::Error>> {
        self.drive(true)
    }

    /// Switches the load off.
    pub fn set_off(&mut self) -> Result<(), GpioError<P::Error>> {
        self.drive(false)
    }

    /// Switches the load to the other state; from an unknown state, on.
    pub fn toggle(&mut self) -> Result<(), GpioError<P::Error>> {
        self.drive(self.on != Some(true))
    }

    /// Whether the load is on, as last driven; `None` before the first write or after a
    /// failed one.
    pub fn is_on(&self) -> Option<bool> {
        self.on
    }

    /// The polarity in use.
    pub fn polarity(&self) -> Polarity {
        self.polarity
    }

    /// Hands the pin back.
    pub fn release(self) -> P {
        self.pin
    }

    fn drive(&mut self, on: bool) -> Result<(), GpioError<P::Error>> {
        let high = match self.polarity {
            Polarity::ActiveHigh => on,
            Polarity::ActiveLow => !on,
        };
        let result = if high {
            self.pin.set_high()
        } else {
            self.pin.set_low()
        };
        match result {
            Ok(()) => {
                self.on = Some(on);
                Ok(())
            }
            Err(e) => {
                self.on = None;
                Err(GpioError::Pin(e))
            }
        }
    }
}

impl<P: OutputPin> Actuator for GpioOutput<P> {
    type Error = GpioError<P::Error>;

    fn set(&mut self, command: Command) -> Result<(), Self::Error> {
        match command {
            Command::On => self.set_on(),
            Command::Off => self.set_off(),
            Command::Fraction(1.0) => self.set_on(),
            Command::Fraction(0.0) => self.set_off(),
            Command::Fraction(_) | Command::Angle(_) => Err(GpioError::Unsupported(command)),
        }
    }

    fn state(&self) -> Option<State> {
        self.on.map(|on| if on { State::On } else { State::Off })
    }

    fn safe_state(&self) -> State {
        if self.safe_on {
            State::On
        } else {
            State::Off
        }
    }
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic is the failure report.
    #![allow(clippy::unwrap_used)]

    extern crate std;

    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock, State as Level, Transaction};
    use embedded_hal_mock::eh1::MockError;

    fn levels(levels: &[Level]) -> Mock {
        let transactions: std::vec::Vec<Transaction> =
            levels.iter().copied().map(Transaction::set).collect();
        Mock::new(&transactions)
    }

    #[test]
    fn active_high_drives_high_for_on() {
        let pin = levels(&[Level::High, Level::Low, Level::High, Level::Low]);
        let mut out = GpioOutput::new(pin, Polarity::ActiveHigh, false);
        assert_eq!(out.is_on(), None);
        assert_eq!(out.state(), None);
        out.set_on().unwrap();
        assert_eq!(out.state(), Some(State::On));
        out.set_off().unwrap();
        out.toggle().unwrap();
        assert_eq!(out.is_on(), Some(true));
        out.toggle().unwrap();
        assert_eq!(out.is_on(), Some(false));
        out.release().done();
    }

    #[test]
    fn active_low_drives_low_for_on() {
        let pin = levels(&[Level::Low, Level::High, Level::Low]);
        let mut out = GpioOutput::new(pin, Polarity::ActiveLow, false);
        out.set_on().unwrap();
        out.set_off().unwrap();
        // From unknown, toggle switches on; here from off, on again.
        out.toggle().unwrap();
        assert_eq!(out.state(), Some(State::On));
        out.release().done();
    }

    #[test]
    fn commands_and_the_safe_state_go_through_polarity() {
        // Safe state on (a fan that must run), active-low: the pin goes low.
        let pin = levels(&[Level::Low, Level::High, Level::Low, Level::High]);
        let mut out = GpioOutput::new(pin, Polarity::ActiveLow, true);
        assert_eq!(out.safe_state(), State::On);
        out.apply_safe_state().unwrap();
        out.set(Command::Off).unwrap();
        out.set(Command::Fraction(1.0)).unwrap();
        out.set(Command::Fraction(0.0)).unwrap();
        assert_eq!(out.state(), Some(State::Off));
        out.release().done();
    }

    #[test]
    fn duty_and_angle_are_refused_without_touching_the_pin() {
        let pin = levels(&[Level::High]);
        let mut out = GpioOutput::new(pin, Polarity::ActiveHigh, false);
        out.set_on().unwrap();
        let err = out.set(Command::Fraction(0.4)).unwrap_err();
        assert_eq!(err, GpioError::Unsupported(Command::Fraction(0.4)));
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert_eq!(
            out.set(Command::Angle(90.0)).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        // The remembered state is untouched by a refused command.
        assert_eq!(out.state(), Some(State::On));
        out.release().done();
    }

    #[test]
    fn a_pin_error_leaves_the_state_unknown() {
        let pin = Mock::new(&[
            Transaction::set(Level::High),
            Transaction::set(Level::Low).with_error(MockError::Io(std::io::ErrorKind::Other)),
        ]);
        let mut out = GpioOutput::new(pin, Polarity::ActiveHigh, false);
        out.set_on().unwrap();
        let err = out.set_off().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Hardware);
        assert_eq!(out.state(), None);
        out.release().done();
    }
}
