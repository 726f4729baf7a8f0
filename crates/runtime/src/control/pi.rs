//! A PI controller for a PWM output: a fan's duty from a temperature, a heater's from a
//! setpoint.
//!
//! - The error is `setpoint − value` for `direct` (a heater: the output rises below the
//!   setpoint) and `value − setpoint` for `reverse` (a cooler).
//! - The time step comes from the readings' own timestamps, never from a clock: the first
//!   reading gives the proportional term only, each later one integrates over the time since
//!   the one before (a reading with a time not after its predecessor's adds nothing).
//! - Anti-windup: the integral term is clamped to the output range, so it never holds more
//!   than the output can show, and a long saturation unwinds as soon as the error turns.
//!   The output (P + I) is clamped to the range too.
//! - Changes are reported only when the output moved by at least [`REPORT_STEP`] (0.01 of
//!   the duty range) since the last reported value: a duty that dithers in the fourth decimal
//!   would otherwise flood the sinks with events and the bus with writes.

use std::time::Duration;

use crate::config::ControlDirection;

/// The smallest output change that is reported and applied.
pub const REPORT_STEP: f64 = 0.01;

/// A controller's settings, from the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiSettings {
    /// The value regulated towards.
    pub setpoint: f64,
    /// Proportional gain: output per unit of error.
    pub kp: f64,
    /// Integral gain: output per unit of error and second.
    pub ki: f64,
    /// Which way the output moves with the error.
    pub direction: ControlDirection,
    /// The lowest output.
    pub min: f64,
    /// The highest output.
    pub max: f64,
}

/// A PI controller's state.
#[derive(Debug, Clone, PartialEq)]
pub struct PiController {
    settings: PiSettings,
    integral: f64,
    last: Option<Duration>,
    reported: Option<f64>,
}

impl PiController {
    /// A controller that has seen no reading yet.
    pub fn new(settings: PiSettings) -> Self {
        Self {
            settings,
            integral: 0.0,
            last: None,
            reported: None,
        }
    }

    /// The last reported output.
    pub fn output(&self) -> Option<f64> {
        self.reported
    }

    /// Feeds a reading taken at `at`; returns the new output when it moved by at least
    /// [`REPORT_STEP`] since the last one reported (always for the first reading).
    pub fn update(&mut self, value: f64, at: Duration) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        let s = self.settings;
        let error = match s.direction {
            ControlDirection::Direct => s.setpoint - value,
            ControlDirection::Reverse => value - s.setpoint,
        };
        let proportional = s.kp * error;
        match self.last {
            None => self.last = Some(at),
            Some(last) if at > last => {
                let dt = (at - last).as_secs_f64();
                self.integral = (self.integral + s.ki * error * dt).clamp(s.min, s.max);
                self.last = Some(at);
            }
            Some(_) => {}
        }
        let output = (proportional + self.integral).clamp(s.min, s.max);
        match self.reported {
            Some(previous) if (output - previous).abs() < REPORT_STEP => None,
            _ => {
                self.reported = Some(output);
                Some(output)
            }
        }
    }

    /// Forgets the last reported output (the output was forced elsewhere): the next reading
    /// reports again.
    pub fn reset_report(&mut self) {
        self.reported = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_reverse_controller_against_a_hand_computed_sequence() {
        // A cooling fan: 28 °C setpoint, kp 0.25 per °C, ki 0.125 per °C·s, duty 0..1.
        let mut pi = PiController::new(PiSettings {
            setpoint: 28.0,
            kp: 0.25,
            ki: 0.125,
            direction: ControlDirection::Reverse,
            min: 0.0,
            max: 1.0,
        });
        // t=0: e=2, P only: 0.5.
        assert_eq!(pi.update(30.0, Duration::ZERO), Some(0.5));
        // t=2: e=2, P=0.5, I=0.125·2·2=0.5: 1.0.
        assert_eq!(pi.update(30.0, 2 * S), Some(1.0));
        // t=4: e=4, P=1.0, I=0.5+1.0=1.5, clamped to 1.0: output 1.0, unchanged, not reported.
        assert_eq!(pi.update(32.0, 4 * S), None);
        // t=6: e=0: P=0, I=1.0: 1.0 (the integral holds the output), not reported.
        assert_eq!(pi.update(28.0, 6 * S), None);
        // t=8: e=−2, P=−0.5, I=1.0−0.5=0.5: 0.0. Without anti-windup I would be 1.0 and
        // the output still 0.5.
        assert_eq!(pi.update(26.0, 8 * S), Some(0.0));
        // t=9: e=1, P=0.25, I=0.5+0.125=0.625: 0.875.
        assert_eq!(pi.update(29.0, 9 * S), Some(0.875));
        // t=9 again: no time step, only the proportional part moves: e=1.03125,
        // P=0.2578125, output 0.8828125: less than 0.01 away, not reported.
        assert_eq!(pi.update(29.031_25, 9 * S), None);
        assert_eq!(pi.output(), Some(0.875));
    }

    #[test]
    fn a_direct_controller_rises_below_its_setpoint_within_its_range() {
        let mut pi = PiController::new(PiSettings {
            setpoint: 20.0,
            kp: 0.5,
            ki: 0.0,
            direction: ControlDirection::Direct,
            min: 0.25,
            max: 0.75,
        });
        assert_eq!(pi.update(19.0, Duration::ZERO), Some(0.5));
        assert_eq!(pi.update(10.0, S), Some(0.75));
        assert_eq!(pi.update(25.0, 2 * S), Some(0.25));
        assert_eq!(pi.update(f64::NAN, 3 * S), None);
    }
}
