//! Simulated outputs: a GPIO pin and a PWM channel that record every change with a timestamp.
//!
//! A relay on a GPIO line or a fan on a PWM channel has no registers to model: what matters
//! is what the output did and when. [`SimOutputPin`] (embedded-hal `OutputPin` and
//! `StatefulOutputPin`) and [`SimPwmChannel`] (`SetDutyCycle`) append every change of their
//! electrical state to a shared [`OutputTimeline`], stamped with the [`SimClock`], so a test
//! can check that a fan switched on exactly when a rule said and stayed on for its minimum
//! time. Writes that do not change the output (setting a high pin high) are not recorded.
//!
//! Both can be told to fail ([`SimOutputPin::set_failing`]), as a GPIO line taken by another
//! process or an unexported PWM channel would.

use std::sync::{Arc, Mutex, MutexGuard};

use embedded_hal::digital::{self, ErrorType as PinErrorType, OutputPin, StatefulOutputPin};
use embedded_hal::pwm::{self, ErrorType as PwmErrorType, SetDutyCycle};

use crate::SimClock;

/// What an output is electrically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputValue {
    /// A pin driven low.
    Low,
    /// A pin driven high.
    High,
    /// A PWM channel's duty, as a fraction of the period, 0.0..=1.0.
    Duty(f32),
}

/// One change of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    /// The clock when it changed, ns.
    pub at_ns: u64,
    /// The output's name.
    pub output: String,
    /// What it became.
    pub value: OutputValue,
}

/// The changes of every output sharing it, in the order they happened. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct OutputTimeline {
    changes: Arc<Mutex<Vec<OutputChange>>>,
}

impl OutputTimeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every change so far.
    pub fn changes(&self) -> Vec<OutputChange> {
        self.lock().clone()
    }

    /// The changes of one output.
    pub fn changes_of(&self, output: &str) -> Vec<OutputChange> {
        self.lock()
            .iter()
            .filter(|change| change.output == output)
            .cloned()
            .collect()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Appends a change of `output` made by something other than [`SimOutputPin`] or
    /// [`SimPwmChannel`] (a channel of a simulated PWM expander, recorded under the name of
    /// the output it drives).
    pub fn record(&self, at_ns: u64, output: &str, value: OutputValue) {
        self.lock().push(OutputChange {
            at_ns,
            output: output.to_string(),
            value,
        });
    }

    fn lock(&self) -> MutexGuard<'_, Vec<OutputChange>> {
        // A test that panicked while holding the lock leaves a usable list behind.
        self.changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The error a failing simulated output returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOutputError;

impl core::fmt::Display for SimOutputError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("simulated output failure")
    }
}

impl digital::Error for SimOutputError {
    fn kind(&self) -> digital::ErrorKind {
        digital::ErrorKind::Other
    }
}

impl pwm::Error for SimOutputError {
    fn kind(&self) -> pwm::ErrorKind {
        pwm::ErrorKind::Other
    }
}

/// A GPIO output line.
#[derive(Debug, Clone)]
pub struct SimOutputPin {
    name: String,
    clock: SimClock,
    timeline: OutputTimeline,
    high: Option<bool>,
    failing: bool,
}

impl SimOutputPin {
    /// A pin named `name` whose level is unknown until first driven (a line just requested).
    pub fn new(name: &str, clock: SimClock, timeline: OutputTimeline) -> Self {
        Self {
            name: name.to_string(),
            clock,
            timeline,
            high: None,
            failing: false,
        }
    }

    /// A pin that starts at a level it already had (latching hardware after a restart); the
    /// starting level is recorded on the timeline.
    pub fn with_level(mut self, high: bool) -> Self {
        self.drive(high);
        self
    }

    /// The level it is driven to; `None` before the first write.
    pub fn level(&self) -> Option<bool> {
        self.high
    }

    /// Makes every following write fail (or succeed again).
    pub fn set_failing(&mut self, failing: bool) {
        self.failing = failing;
    }

    fn drive(&mut self, high: bool) {
        if self.high != Some(high) {
            let value = if high {
                OutputValue::High
            } else {
                OutputValue::Low
            };
            self.timeline.record(self.clock.now_ns(), &self.name, value);
            self.high = Some(high);
        }
    }

    fn write(&mut self, high: bool) -> Result<(), SimOutputError> {
        if self.failing {
            return Err(SimOutputError);
        }
        self.drive(high);
        Ok(())
    }
}

impl PinErrorType for SimOutputPin {
    type Error = SimOutputError;
}

impl OutputPin for SimOutputPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.write(false)
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.write(true)
    }
}

impl StatefulOutputPin for SimOutputPin {
    fn is_set_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.high == Some(true))
    }

    fn is_set_low(&mut self) -> Result<bool, Self::Error> {
        Ok(self.high == Some(false))
    }
}

/// A PWM channel with 16-bit duty resolution.
#[derive(Debug, Clone)]
pub struct SimPwmChannel {
    name: String,
    clock: SimClock,
    timeline: OutputTimeline,
    duty: Option<u16>,
    failing: bool,
}

impl SimPwmChannel {
    /// A channel named `name` whose duty is unknown until first set.
    pub fn new(name: &str, clock: SimClock, timeline: OutputTimeline) -> Self {
        Self {
            name: name.to_string(),
            clock,
            timeline,
            duty: None,
            failing: false,
        }
    }

    /// A channel that starts at a duty it already had (after a restart); recorded.
    pub fn with_duty(mut self, fraction: f32) -> Self {
        let max = f32::from(u16::MAX);
        // The fraction is clamped, so the product fits a u16.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let duty = (fraction.clamp(0.0, 1.0) * max + 0.5) as u16;
        self.apply(duty);
        self
    }

    /// The duty as a fraction; `None` before the first set.
    pub fn duty(&self) -> Option<f32> {
        self.duty.map(fraction)
    }

    /// Makes every following set fail (or succeed again).
    pub fn set_failing(&mut self, failing: bool) {
        self.failing = failing;
    }

    fn apply(&mut self, duty: u16) {
        if self.duty != Some(duty) {
            self.timeline.record(
                self.clock.now_ns(),
                &self.name,
                OutputValue::Duty(fraction(duty)),
            );
            self.duty = Some(duty);
        }
    }
}

fn fraction(duty: u16) -> f32 {
    f32::from(duty) / f32::from(u16::MAX)
}

impl PwmErrorType for SimPwmChannel {
    type Error = SimOutputError;
}

impl SetDutyCycle for SimPwmChannel {
    fn max_duty_cycle(&self) -> u16 {
        u16::MAX
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), Self::Error> {
        if self.failing {
            return Err(SimOutputError);
        }
        self.apply(duty);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_pin_records_each_change_with_the_clock_and_skips_repeats() {
        let clock = SimClock::virtual_clock();
        let timeline = OutputTimeline::new();
        let mut pin = SimOutputPin::new("relay", clock.clone(), timeline.clone());
        pin.set_low().unwrap();
        clock.advance(Duration::from_millis(5));
        pin.set_high().unwrap();
        pin.set_high().unwrap();
        clock.advance(Duration::from_millis(7));
        pin.set_low().unwrap();
        let values: Vec<(u64, OutputValue)> = timeline
            .changes_of("relay")
            .into_iter()
            .map(|c| (c.at_ns, c.value))
            .collect();
        assert_eq!(
            values,
            [
                (0, OutputValue::Low),
                (5_000_000, OutputValue::High),
                (12_000_000, OutputValue::Low)
            ]
        );
        assert!(pin.is_set_low().unwrap());
    }

    #[test]
    fn a_failing_pin_refuses_and_keeps_its_level() {
        let timeline = OutputTimeline::new();
        let mut pin = SimOutputPin::new("valve", SimClock::virtual_clock(), timeline.clone())
            .with_level(true);
        pin.set_failing(true);
        assert_eq!(pin.set_low(), Err(SimOutputError));
        assert_eq!(pin.level(), Some(true));
        assert_eq!(timeline.changes().len(), 1);
    }

    #[test]
    fn a_pwm_channel_records_duty_fractions() {
        let clock = SimClock::virtual_clock();
        let timeline = OutputTimeline::new();
        let mut fan = SimPwmChannel::new("fan", clock.clone(), timeline.clone());
        fan.set_duty_cycle_percent(50).unwrap();
        clock.advance(Duration::from_secs(1));
        fan.set_duty_cycle_fully_on().unwrap();
        let changes = timeline.changes_of("fan");
        assert_eq!(changes.len(), 2);
        // 50 % of 65535 is 32767 (embedded-hal rounds down): 0.49999 of the period.
        assert_eq!(
            changes[0].value,
            OutputValue::Duty(32_767.0 / 65_535.0),
            "{changes:?}"
        );
        assert_eq!(changes[1].at_ns, 1_000_000_000);
        assert_eq!(changes[1].value, OutputValue::Duty(1.0));
        assert_eq!(fan.duty(), Some(1.0));
    }
}
