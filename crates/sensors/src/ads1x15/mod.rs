//! TI ADS1115 (16-bit) and ADS1015 (12-bit) four-input ADCs with PGA and comparator, over I²C.
//! The usual way analog sensors (current clamps, pressure transducers, vibration pickups)
//! reach an edge device.
//!
//! What the driver does per reading, and why:
//! - single-shot mode (the default): per input one write of the config register with OS set
//!   (it carries the input, range and rate, so nothing else needs writing), a wait of the
//!   datasheet's maximum conversion time for the data rate (25 µs wake-up plus one period at
//!   the −10 % data-rate limit; or polling of OS, see [`Completion`]), and one read of the
//!   conversion register. The chip powers down by itself after each conversion;
//! - continuous mode: the input is selected once and each reading is a single 2-byte read of
//!   the latest result (the chip keeps its register pointer, so the pointer byte is not sent
//!   again). Selecting another input waits two conversion periods, because the conversion
//!   in progress finishes with the old input first (datasheet 9.4.2.2); scanning several
//!   inputs is therefore cheaper in single-shot mode;
//! - results become [`Voltage`]s with integer arithmetic from the datasheet's LSB sizes, and
//!   keep their raw code;
//! - values the chip cannot produce (an ADS1015 result with its always-zero low bits set, a
//!   single-ended input far below GND) are errors, never readings.
//!
//! Limits: [`Completion::WaitMax`] trusts the datasheet's timing, so a chip stuck
//! mid-conversion returns its previous result (poll OS to catch it); in continuous mode a
//! chip that lost power reads 0 until `init` is called again, since reading the result is
//! all that crosses the bus. Single-shot mode recovers from power loss by itself (every
//! start carries the whole config register), except for the comparator thresholds.
//!
//! The chips have no id register; `init` checks that the config register reads back what it
//! wrote. Which chip is on the bus (ADS1115 or ADS1015) is told to the constructor: they
//! differ in resolution and data rates, not in anything the bus shows.

mod config;
mod device;
mod error;
mod interface;
mod registers;

pub use config::{
    Alert, Comparator, ComparatorKind, Completion, Config, DataRate, FullScale, Input, Mode,
    Polarity, Queue, Scan, MAX_INPUTS, WAKE_UP_US,
};
pub use device::{Ads1x15, Ads1x15Async};
pub use error::Error;
pub use interface::Address;
pub use registers::{ADDRESS_GND, ADDRESS_SCL, ADDRESS_SDA, ADDRESS_VDD, RESET_CONFIG};

use crate::units::Voltage;

/// Which chip the driver talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Chip {
    /// ADS1115: 16-bit results, 8 to 860 SPS.
    #[default]
    Ads1115,
    /// ADS1015: 12-bit results (left-justified in the 16-bit register), 128 to 3300 SPS.
    Ads1015,
}

/// One conversion of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The input converted.
    pub input: Input,
    /// The result code in the chip's resolution: −32768..=32767 on the ADS1115,
    /// −2048..=2047 on the ADS1015.
    pub code: i16,
    /// The input voltage (code × LSB size for the full-scale range).
    pub voltage: Voltage,
    /// The code is a full-scale code: the input is at or beyond the range, so `voltage` is
    /// a bound, not a measurement. Choose a wider range.
    pub clipped: bool,
}

impl Sample {
    const NONE: Sample = Sample {
        input: Input::Ain0Ain1,
        code: 0,
        voltage: Voltage::from_nanovolts(0),
        clipped: false,
    };
}

/// One conversion per input of the configured [`Scan`], in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Samples {
    samples: [Sample; MAX_INPUTS],
    len: u8,
}

impl Samples {
    fn new() -> Self {
        Self {
            samples: [Sample::NONE; MAX_INPUTS],
            len: 0,
        }
    }

    fn push(&mut self, sample: Sample) {
        if let Some(slot) = self.samples.get_mut(usize::from(self.len)) {
            *slot = sample;
            self.len += 1;
        }
    }

    /// The samples, in scan order.
    pub fn as_slice(&self) -> &[Sample] {
        &self.samples[..usize::from(self.len)]
    }

    /// The sample of `input`, if the scan converted it.
    pub fn get(&self, input: Input) -> Option<&Sample> {
        self.as_slice().iter().find(|s| s.input == input)
    }
}
