//! Local control, pure: what an output should do, given rule levels, readings and the time.
//!
//! Nothing here reads a clock or touches hardware. Time is passed in as a [`Duration`] since
//! the Unix epoch (the time readings carry), so every piece is tested with exact times and
//! the agent's outputs thread (`agent::actuators`) sleeps until the next deadline a piece
//! reports instead of polling:
//!
//! - [`Switching`]: a rule raised → the `on` value, cleared → `off`, with minimum on and off
//!   times (a change that comes too early is deferred to the exact moment it is allowed);
//! - [`Calendar`]: `every`/`on_for` periods and daily UTC windows as on/off edges;
//! - [`PiController`]: a PI controller with anti-windup for PWM outputs;
//! - [`Watchdog`]: the safe state after too long without a healthy control loop.
//!
//! [`Duration`]: std::time::Duration

mod calendar;
mod pi;
mod switching;
mod watchdog;

pub use calendar::Calendar;
pub use pi::{PiController, PiSettings, REPORT_STEP};
pub use switching::{Switch, Switching};
pub use watchdog::Watchdog;
