//! NXP PCA9685: 16-channel, 12-bit PWM controller over I²C (0x40..=0x7F), for LEDs, fans
//! through MOSFETs, and hobby servos (datasheet Rev. 4).
//!
//! What the driver does, and why:
//! - the PWM frequency comes from one prescaler for all channels, PRE_SCALE =
//!   round(25 MHz / (4096 · f)) − 1, valid 3..=255 (about 24..=1526 Hz); a frequency outside
//!   is refused before any bus traffic ([`Config::prescale`]);
//! - PRE_SCALE can only be written while MODE1.SLEEP is set (writes are ignored otherwise),
//!   so `init` puts the chip to sleep, writes PRE_SCALE and MODE2, wakes it with register
//!   auto-increment, waits the 500 µs the oscillator needs and writes RESTART, which resumes
//!   channels that ran before the sleep;
//! - a channel is set with one 5-byte write of its ON/OFF counts (auto-increment); 0 % and
//!   100 % use the full-off and full-on flags, as 12-bit counts cannot express a whole
//!   period; [`Counts::from_fractions`] reproduces the datasheet's delayed-start examples;
//! - servo pulses are converted with the period the prescaler really makes (19.988 ms at
//!   "50 Hz"), not the nominal one, so a 1500 µs pulse is 307 counts, not 307.2;
//! - the OE pin is the board's business: the driver never touches it.
//!
//! For the orchestrator a channel becomes an [`crate::actuator::PwmOutput`] through
//! [`Pca9685Channel`], an embedded-hal `SetDutyCycle`.

mod config;
mod device;
mod error;
mod interface;
mod registers;

pub use config::{Config, OutputDriver};
pub use device::{Counts, Pca9685, Pca9685Async, Pca9685Channel};
pub use error::Error;
pub use interface::{Address, ADDRESS_FIRST, ADDRESS_LAST, ALL_CALL};
pub use registers::{CHANNELS, COUNTS, INTERNAL_OSCILLATOR_HZ, PRESCALE_MAX, PRESCALE_MIN};
