//! A PWM output on one `SetDutyCycle` channel: a fan, a dimmer, a heater on a solid-state
//! relay, or a hobby servo.
//!
//! Two modes:
//! - duty: the command's fraction is the duty cycle. [`DutyLimits`] keep a running output
//!   inside a window (a fan that stalls below 20 %, a lamp capped at 80 %) while 0 still
//!   means off;
//! - servo ([`Servo`]): the fraction (or an angle) is a position, sent as a pulse width
//!   between the servo's minimum and maximum (1000–2000 µs in a 20 ms period for most hobby
//!   servos). Off stops the pulses, which leaves the servo unpowered where it stands.
//!
//! The duty is recomputed from the channel's `max_duty_cycle()` on every set, as a HAL may
//! change its resolution when its frequency changes.

use core::fmt;

use embedded_hal::pwm::SetDutyCycle;

use super::{clamp_fraction, fraction_of, Actuator, ActuatorError, Command, ErrorKind, State};

/// The window a running duty output is kept in: a non-zero fraction is clamped to
/// `min..=max`, zero stays zero (off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DutyLimits {
    min: f32,
    max: f32,
}

impl DutyLimits {
    /// No limits: 0.0..=1.0.
    pub const FULL: DutyLimits = DutyLimits { min: 0.0, max: 1.0 };

    /// Limits `min..=max`; `None` unless 0 ≤ min ≤ max ≤ 1 (NaN fails).
    pub fn new(min: f32, max: f32) -> Option<Self> {
        (0.0 <= min && min <= max && max <= 1.0).then_some(Self { min, max })
    }

    /// The lowest running duty.
    pub fn min(&self) -> f32 {
        self.min
    }

    /// The highest duty, also what [`Command::On`] sets.
    pub fn max(&self) -> f32 {
        self.max
    }

    fn apply(&self, fraction: f32) -> f32 {
        if fraction == 0.0 {
            0.0
        } else {
            fraction.clamp(self.min, self.max)
        }
    }
}

impl Default for DutyLimits {
    fn default() -> Self {
        Self::FULL
    }
}

/// A hobby servo's timing: pulses of `min_pulse_us..=max_pulse_us` every `period_us`, the
/// pulse range spanning `range_deg` degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Servo {
    /// The PWM period the channel runs at, µs (20 000 at 50 Hz).
    pub period_us: u32,
    /// The pulse at position 0.0 (angle 0°), µs.
    pub min_pulse_us: u32,
    /// The pulse at position 1.0 (angle `range_deg`), µs.
    pub max_pulse_us: u32,
    /// Degrees between the two end positions.
    pub range_deg: f32,
}

impl Servo {
    /// The common hobby servo: 1000–2000 µs at 50 Hz over 180°.
    pub const STANDARD: Servo = Servo {
        period_us: 20_000,
        min_pulse_us: 1_000,
        max_pulse_us: 2_000,
        range_deg: 180.0,
    };

    /// The pulse width for a position 0.0..=1.0, rounded to the microsecond.
    pub fn pulse_us(&self, position: f32) -> u32 {
        let span = self.max_pulse_us.saturating_sub(self.min_pulse_us);
        let offset = fraction_of(position, u16::try_from(span).unwrap_or(u16::MAX));
        self.min_pulse_us + u32::from(offset)
    }
}

impl Default for Servo {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// The duty count of a `pulse_us` pulse in a `period_us` period at `max_duty` counts per
/// period, rounded to the nearest count; `None` if the pulse is longer than the period or
/// the period is zero.
pub fn duty_for_pulse(pulse_us: u32, period_us: u32, max_duty: u16) -> Option<u16> {
    if period_us == 0 || pulse_us > period_us {
        return None;
    }
    let (pulse, period) = (u64::from(pulse_us), u64::from(period_us));
    let duty = (pulse * u64::from(max_duty) + period / 2) / period;
    u16::try_from(duty).ok()
}

/// Errors of a [`PwmOutput`], generic over the PWM channel's error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PwmError<E> {
    /// The PWM channel reported an error; the output is unknown.
    Pwm(E),
    /// The fraction or angle was NaN.
    NotANumber,
    /// A duty output has no angle; a servo has no "on".
    Unsupported(Command),
    /// The angle is outside the servo's range.
    AngleOutOfRange {
        /// The angle asked for, degrees.
        angle: f32,
        /// The servo's range, degrees from 0.
        range: f32,
    },
    /// The pulse does not fit in the period.
    PulseTooLong {
        /// The pulse asked for, µs.
        pulse_us: u32,
        /// The PWM period, µs.
        period_us: u32,
    },
}

impl<E: fmt::Debug> fmt::Display for PwmError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pwm(e) => write!(f, "PWM channel error: {e:?}"),
            Self::NotANumber => f.write_str("PWM command value is NaN"),
            Self::Unsupported(command) => write!(f, "this PWM output cannot take {command:?}"),
            Self::AngleOutOfRange { angle, range } => {
                write!(f, "servo angle {angle}° outside its range 0..={range}°")
            }
            Self::PulseTooLong {
                pulse_us,
                period_us,
            } => write!(
                f,
                "pulse of {pulse_us} µs does not fit in the {period_us} µs PWM period"
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for PwmError<E> {}

impl<E: fmt::Debug> ActuatorError for PwmError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Pwm(_) => ErrorKind::Hardware,
            Self::Unsupported(_) => ErrorKind::Unsupported,
            Self::NotANumber | Self::AngleOutOfRange { .. } | Self::PulseTooLong { .. } => {
                ErrorKind::InvalidValue
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Duty(DutyLimits),
    Servo(Servo),
}

/// A load driven by one PWM channel.
///
/// ```
/// # use embedded_hal_mock::eh1::pwm::{Mock, Transaction};
/// use edgewise_sensors::actuator::{DutyLimits, PwmOutput, State};
/// # let pwm = Mock::new(&[Transaction::max_duty_cycle(1000), Transaction::set_duty_cycle(200)]);
/// // A fan that stalls below 20 %, running at full speed when control is lost.
/// let limits = DutyLimits::new(0.2, 1.0).unwrap();
/// let mut fan = PwmOutput::new(pwm, State::Fraction(1.0)).with_limits(limits);
/// fan.set_fraction(0.05)?; // raised to the 20 % minimum: duty 200 of 1000
/// # fan.release().done();
/// # Ok::<(), edgewise_sensors::actuator::PwmError<embedded_hal_mock::eh1::MockError>>(())
/// ```
#[derive(Debug)]
pub struct PwmOutput<P> {
    pwm: P,
    mode: Mode,
    safe: State,
    state: Option<State>,
}

impl<P: SetDutyCycle> PwmOutput<P> {
    /// A duty output on `pwm` without limits, whose safe state is `safe`. Nothing is written
    /// until the first set.
    pub fn new(pwm: P, safe: State) -> Self {
        Self {
            pwm,
            mode: Mode::Duty(DutyLimits::FULL),
            safe,
            state: None,
        }
    }

    /// A servo on `pwm` (which must already run at `servo.period_us`), whose safe state is
    /// `safe` (a position, or [`State::Off`]: no pulses).
    pub fn servo(pwm: P, servo: Servo, safe: State) -> Self {
        Self {
            pwm,
            mode: Mode::Servo(servo),
            safe,
            state: None,
        }
    }

    /// Keeps a running duty output inside `limits` (no effect on a servo).
    pub fn with_limits(mut self, limits: DutyLimits) -> Self {
        if let Mode::Duty(_) = self.mode {
            self.mode = Mode::Duty(limits);
        }
        self
    }

    /// Duty output: sets the duty to `fraction`, clamped to 0.0..=1.0 and then to the
    /// limits. Servo: moves to the position `fraction` (0.0 = minimum pulse). NaN is refused.
    pub fn set_fraction(&mut self, fraction: f32) -> Result<(), PwmError<P::Error>> {
        let fraction = clamp_fraction(fraction).ok_or(PwmError::NotANumber)?;
        match self.mode {
            Mode::Duty(limits) => {
                let duty = limits.apply(fraction);
                self.write_fraction(duty)?;
                self.state = Some(if duty == 0.0 {
                    State::Off
                } else {
                    State::Fraction(duty)
                });
                Ok(())
            }
            Mode::Servo(servo) => {
                self.write_pulse(servo.pulse_us(fraction), servo.period_us)?;
                self.state = Some(State::Fraction(fraction));
                Ok(())
            }
        }
    }

    /// Servo: moves to `angle` degrees, 0..=`range_deg`. A duty output refuses angles.
    pub fn set_angle(&mut self, angle: f32) -> Result<(), PwmError<P::Error>> {
        let Mode::Servo(servo) = self.mode else {
            return Err(PwmError::Unsupported(Command::Angle(angle)));
        };
        if angle.is_nan() {
            return Err(PwmError::NotANumber);
        }
        if !(0.0..=servo.range_deg).contains(&angle) || servo.range_deg <= 0.0 {
            return Err(PwmError::AngleOutOfRange {
                angle,
                range: servo.range_deg,
            });
        }
        self.set_fraction(angle / servo.range_deg)
    }

    /// Sends pulses of `pulse_us` in a `period_us` period (the channel's own period), for a
    /// servo or an ESC outside the configured range. The state becomes the pulse's duty.
    pub fn set_pulse_us(
        &mut self,
        pulse_us: u32,
        period_us: u32,
    ) -> Result<(), PwmError<P::Error>> {
        self.write_pulse(pulse_us, period_us)?;
        self.state = Some(State::Fraction(pulse_us as f32 / period_us as f32));
        Ok(())
    }

    /// Stops the output: duty 0 (no pulses for a servo).
    pub fn set_off(&mut self) -> Result<(), PwmError<P::Error>> {
        self.write_fraction(0.0)?;
        self.state = Some(State::Off);
        Ok(())
    }

    /// Hands the PWM channel back.
    pub fn release(self) -> P {
        self.pwm
    }

    fn write_fraction(&mut self, fraction: f32) -> Result<(), PwmError<P::Error>> {
        let max = self.max_duty()?;
        self.write_duty(fraction_of(fraction, max))
    }

    fn write_pulse(&mut self, pulse_us: u32, period_us: u32) -> Result<(), PwmError<P::Error>> {
        let max = self.max_duty()?;
        let duty = duty_for_pulse(pulse_us, period_us, max).ok_or(PwmError::PulseTooLong {
            pulse_us,
            period_us,
        })?;
        self.write_duty(duty)
    }

    fn max_duty(&mut self) -> Result<u16, PwmError<P::Error>> {
        // `max_duty_cycle` cannot fail by its signature; a HAL error shows on the write.
        Ok(self.pwm.max_duty_cycle())
    }

    fn write_duty(&mut self, duty: u16) -> Result<(), PwmError<P::Error>> {
        self.pwm.set_duty_cycle(duty).map_err(|e| {
            self.state = None;
            PwmError::Pwm(e)
        })
    }
}

impl<P: SetDutyCycle> Actuator for PwmOutput<P> {
    type Error = PwmError<P::Error>;

    /// Duty output: off is duty 0, on the highest allowed duty. Servo: off stops the pulses,
    /// on is refused (which position?).
    fn set(&mut self, command: Command) -> Result<(), Self::Error> {
        match (command, self.mode) {
            (Command::Off, _) => self.set_off(),
            (Command::On, Mode::Duty(limits)) => self.set_fraction(limits.max),
            (Command::Fraction(fraction), _) => self.set_fraction(fraction),
            (Command::Angle(angle), Mode::Servo(_)) => self.set_angle(angle),
            (Command::On, Mode::Servo(_)) | (Command::Angle(_), Mode::Duty(_)) => {
                Err(PwmError::Unsupported(command))
            }
        }
    }

    fn state(&self) -> Option<State> {
        self.state
    }

    fn safe_state(&self) -> State {
        self.safe
    }
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic is the failure report.
    #![allow(clippy::unwrap_used)]

    extern crate std;

    use super::*;
    use embedded_hal_mock::eh1::pwm::{Mock, Transaction};
    use embedded_hal_mock::eh1::MockError;
    use std::vec::Vec;

    /// Each set reads the resolution, then writes one duty.
    fn sets(max: u16, duties: &[u16]) -> Mock {
        let transactions: Vec<Transaction> = duties
            .iter()
            .flat_map(|&d| {
                [
                    Transaction::max_duty_cycle(max),
                    Transaction::set_duty_cycle(d),
                ]
            })
            .collect();
        Mock::new(&transactions)
    }

    #[test]
    fn fractions_are_clamped_and_rounded_to_the_channel_resolution() {
        // 12-bit channel (max 4095): 0.5 × 4095 = 2047.5 → 2048; 0.1 × 4095 = 409.5 → 410
        // (0.1 in f32 is a little above 0.1); -0.3 → 0; 7.0 → 4095.
        let pwm = sets(4095, &[2048, 410, 0, 4095]);
        let mut fan = PwmOutput::new(pwm, State::Off);
        fan.set_fraction(0.5).unwrap();
        assert_eq!(fan.state(), Some(State::Fraction(0.5)));
        fan.set_fraction(0.1).unwrap();
        fan.set_fraction(-0.3).unwrap();
        assert_eq!(fan.state(), Some(State::Off));
        fan.set_fraction(7.0).unwrap();
        assert_eq!(fan.state(), Some(State::Fraction(1.0)));
        fan.release().done();
    }

    #[test]
    fn nan_is_refused_without_a_write() {
        let pwm = sets(100, &[30]);
        let mut fan = PwmOutput::new(pwm, State::Off);
        fan.set_fraction(0.3).unwrap();
        let err = fan.set_fraction(f32::NAN).unwrap_err();
        assert_eq!(err, PwmError::NotANumber);
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert_eq!(fan.state(), Some(State::Fraction(0.3)));
        fan.release().done();
    }

    #[test]
    fn limits_raise_a_running_duty_and_cap_it_but_zero_stays_off() {
        // min 0.25, max 0.75 of 1000: 0.1 → 250, 0.9 → 750, On → 750, 0 → 0, Off → 0.
        let pwm = sets(1000, &[250, 750, 750, 0, 0, 500]);
        let limits = DutyLimits::new(0.25, 0.75).unwrap();
        let mut fan = PwmOutput::new(pwm, State::Fraction(0.5)).with_limits(limits);
        fan.set_fraction(0.1).unwrap();
        assert_eq!(fan.state(), Some(State::Fraction(0.25)));
        fan.set_fraction(0.9).unwrap();
        fan.set(Command::On).unwrap();
        assert_eq!(fan.state(), Some(State::Fraction(0.75)));
        fan.set_fraction(0.0).unwrap();
        fan.set(Command::Off).unwrap();
        assert_eq!(fan.state(), Some(State::Off));
        fan.apply_safe_state().unwrap();
        assert_eq!(
            fan.set(Command::Angle(10.0)).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        fan.release().done();
        assert_eq!(DutyLimits::new(0.8, 0.2), None);
        assert_eq!(DutyLimits::new(f32::NAN, 1.0), None);
        assert_eq!(DutyLimits::new(0.0, 1.5), None);
    }

    #[test]
    fn servo_pulses_at_50_hz() {
        // Period 20 000 µs at 16-bit resolution (max 65535): duty = round(pulse × 65535 /
        // 20000). 1000 µs → 3276.75 → 3277; 1500 µs → 4915.125 → 4915; 2000 µs → 6553.5 →
        // 6554 (half rounds up); 90° is position 0.5, 1500 µs; 45° is 1250 µs → 4095.9375
        // → 4096.
        let pwm = sets(65535, &[3277, 4915, 6554, 4915, 4096, 0]);
        let mut servo = PwmOutput::servo(pwm, Servo::STANDARD, State::Fraction(0.5));
        servo.set_fraction(0.0).unwrap();
        servo.set_fraction(0.5).unwrap();
        servo.set_fraction(1.0).unwrap();
        servo.set(Command::Angle(90.0)).unwrap();
        assert_eq!(servo.state(), Some(State::Fraction(0.5)));
        servo.set_angle(45.0).unwrap();
        servo.set(Command::Off).unwrap();
        assert_eq!(servo.state(), Some(State::Off));
        assert_eq!(
            servo.set_angle(181.0).unwrap_err(),
            PwmError::AngleOutOfRange {
                angle: 181.0,
                range: 180.0
            }
        );
        assert_eq!(servo.set_angle(f32::NAN).unwrap_err(), PwmError::NotANumber);
        assert_eq!(
            servo.set(Command::On).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        servo.release().done();
    }

    #[test]
    fn pulses_longer_than_the_period_are_refused() {
        // 1 ms in a 20 ms period at max 1000: exactly 50.
        // The second set reads the resolution, then refuses before writing.
        let pwm = Mock::new(&[
            Transaction::max_duty_cycle(1000),
            Transaction::set_duty_cycle(50),
            Transaction::max_duty_cycle(1000),
        ]);
        let mut esc = PwmOutput::new(pwm, State::Off);
        esc.set_pulse_us(1_000, 20_000).unwrap();
        assert_eq!(
            esc.set_pulse_us(20_001, 20_000).unwrap_err(),
            PwmError::PulseTooLong {
                pulse_us: 20_001,
                period_us: 20_000
            }
        );
        esc.release().done();
        assert_eq!(duty_for_pulse(1, 0, 100), None);
        assert_eq!(duty_for_pulse(20_000, 20_000, 4096), Some(4096));
    }

    #[test]
    fn a_channel_error_leaves_the_state_unknown() {
        let pwm = Mock::new(&[
            Transaction::max_duty_cycle(100),
            Transaction::set_duty_cycle(40).with_error(MockError::Io(std::io::ErrorKind::Other)),
        ]);
        let mut fan = PwmOutput::new(pwm, State::Off);
        let err = fan.set_fraction(0.4).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Hardware);
        assert_eq!(fan.state(), None);
        fan.release().done();
    }
}
