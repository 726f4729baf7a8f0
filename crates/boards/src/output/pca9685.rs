//! PCA9685 channels as outputs, several actuators sharing one chip.
//!
//! A PCA9685 has one prescaler for its 16 channels: the first actuator on a chip opens the
//! bus and initialises the chip at its frequency; the others get a handle on the same
//! initialised driver ([`Pca9685Chips`], one per board, keyed by bus and address). A second
//! frequency on one chip is refused with both frequencies named: the chip can only make one,
//! and silently re-initialising it would change the first actuator's output. Two
//! frequencies that round to the same PRE_SCALE are the same frequency to the chip and are
//! accepted.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use edgewise_sensors::pca9685::{Address, Config, Counts, Error, Pca9685, COUNTS};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use embedded_hal::pwm::SetDutyCycle;

use super::actuator_error;
use crate::{ActuatorSpec, BoardError, BusAddress, OutputSpec};

/// One initialised chip and who asked for its frequency first.
struct SharedChip<I2C> {
    driver: Mutex<Pca9685<I2C>>,
    frequency_hz: u32,
    prescale: u8,
    period_ns: u64,
    first_actuator: String,
}

/// Where a chip is: its bus and 7-bit address.
type ChipLocation = (BusAddress, u8);

/// The PCA9685s a board has initialised, by (bus, address).
pub struct Pca9685Chips<I2C> {
    chips: Mutex<HashMap<ChipLocation, Arc<SharedChip<I2C>>>>,
}

impl<I2C> fmt::Debug for Pca9685Chips<I2C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chips = lock(&self.chips);
        let mut list = f.debug_list();
        for (bus, address) in chips.keys() {
            list.entry(&format_args!("{bus} 0x{address:02x}"));
        }
        list.finish()
    }
}

impl<I2C> Default for Pca9685Chips<I2C> {
    fn default() -> Self {
        Self {
            chips: Mutex::new(HashMap::new()),
        }
    }
}

/// The channel `spec` names, with the chip's real PWM period (ns) for servo pulses and
/// whether this call initialised the chip.
pub struct OpenedChannel<I2C> {
    /// The channel.
    pub channel: Pca9685Output<I2C>,
    /// The period the chip's prescaler makes, ns.
    pub period_ns: u64,
    /// Whether the chip was initialised by this call (the first actuator on it).
    pub initialised: bool,
}

impl<I2C> fmt::Debug for OpenedChannel<I2C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedChannel")
            .field("channel", &self.channel)
            .field("period_ns", &self.period_ns)
            .field("initialised", &self.initialised)
            .finish()
    }
}

impl<I2C: I2c + Send> Pca9685Chips<I2C> {
    /// No chips yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The channel of a `OutputSpec::Pca9685` spec. The first channel of a chip opens its bus
    /// with `open_bus` and initialises it (sleep, PRE_SCALE, wake) with `delay`; later ones
    /// share it and must ask for the same frequency.
    pub fn open(
        &self,
        spec: &ActuatorSpec,
        open_bus: impl FnOnce() -> Result<I2C, BoardError>,
        delay: &mut impl DelayNs,
    ) -> Result<OpenedChannel<I2C>, BoardError> {
        let OutputSpec::Pca9685 {
            bus,
            address,
            channel,
            frequency_hz,
        } = spec.output
        else {
            return Err(actuator_error(spec, "is not a PCA9685 channel"));
        };
        super::check(spec)?;
        let chip_address = Address::from_bits(address).ok_or_else(|| {
            actuator_error(
                spec,
                format!(
                    "0x{address:02x} is not a PCA9685 address (0x40..=0x7f, except the \
                     all-call 0x70)"
                ),
            )
        })?;
        // check() made sure the frequency is a positive number; the chip's range is far
        // inside u32, and Config::prescale refuses what is outside it.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let hz = frequency_hz.round() as u32;
        let config = Config::with_frequency(hz);
        let prescale = config.prescale().map_err(|_| {
            actuator_error(
                spec,
                format!(
                    "a PCA9685 makes about 24..=1526 Hz, not {frequency_hz} Hz \
                     (PRE_SCALE must lie in 3..=255)"
                ),
            )
        })?;

        let mut chips = lock(&self.chips);
        let (chip, initialised) = match chips.get(&(bus, address)) {
            Some(chip) => {
                if chip.prescale != prescale {
                    return Err(actuator_error(
                        spec,
                        format!(
                            "the PCA9685 at {bus} 0x{address:02x} already runs at {} Hz for \
                             actuator `{}`; {frequency_hz} Hz cannot be set on the same chip \
                             (its 16 channels share one prescaler): use one frequency for \
                             both, or another chip",
                            chip.frequency_hz, chip.first_actuator
                        ),
                    ));
                }
                (Arc::clone(chip), false)
            }
            None => {
                let mut driver = Pca9685::new(open_bus()?, chip_address, config);
                driver.init(delay).map_err(|error| {
                    actuator_error(
                        spec,
                        format!("initialising the PCA9685 at {bus} 0x{address:02x}: {error}"),
                    )
                })?;
                let period_ns = driver.period_ns().unwrap_or_default();
                let chip = Arc::new(SharedChip {
                    driver: Mutex::new(driver),
                    frequency_hz: hz,
                    prescale,
                    period_ns,
                    first_actuator: spec.name.clone(),
                });
                chips.insert((bus, address), Arc::clone(&chip));
                (chip, true)
            }
        };
        Ok(OpenedChannel {
            period_ns: chip.period_ns,
            channel: Pca9685Output { chip, channel },
            initialised,
        })
    }

    /// Forgets the chip at (`bus`, `address`): the next channel opened there initialises it
    /// again (the simulated board replaced the chip).
    pub fn forget(&self, bus: BusAddress, address: u8) {
        lock(&self.chips).remove(&(bus, address));
    }
}

/// One channel of a shared PCA9685 as an embedded-hal PWM channel: 4096 counts per period,
/// 0 full off and 4096 full on, each set one 5-byte write under the chip's lock.
pub struct Pca9685Output<I2C> {
    chip: Arc<SharedChip<I2C>>,
    channel: u8,
}

impl<I2C> fmt::Debug for Pca9685Output<I2C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pca9685Output {{ channel: {}, frequency_hz: {} }}",
            self.channel, self.chip.frequency_hz
        )
    }
}

impl<I2C: I2c> embedded_hal::pwm::ErrorType for Pca9685Output<I2C> {
    type Error = Error<I2C::Error>;
}

impl<I2C: I2c> SetDutyCycle for Pca9685Output<I2C> {
    fn max_duty_cycle(&self) -> u16 {
        COUNTS
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), Self::Error> {
        lock(&self.chip.driver).set_counts(self.channel, Counts::high_for(duty))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a chip leaves a usable driver: every write is one transaction.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
