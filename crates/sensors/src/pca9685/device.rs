//! The driver: every bus sequence written once (async), with blocking and async facades, and
//! one channel as an embedded-hal `SetDutyCycle`.

use embedded_hal::i2c::ErrorType;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::i2c::I2c;

use super::config::{period_ns, Config};
use super::interface::Address;
use super::registers::*;
use super::Error;
use crate::actuator::{clamp_fraction, fraction_of};
use crate::blocking::{run_to_completion, Blocking};

/// One channel's four PWM registers: 12-bit ON and OFF counts and the full-on/full-off flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Count (0..=4095) at which the output turns on.
    pub on: u16,
    /// Count (0..=4095) at which it turns off.
    pub off: u16,
    /// LEDn_ON_H bit 4: always on.
    pub full_on: bool,
    /// LEDn_OFF_H bit 4: always off; wins over `full_on`.
    pub full_off: bool,
}

impl Counts {
    /// Always off (the power-on state of every channel).
    pub const FULL_OFF: Counts = Counts {
        on: 0,
        off: 0,
        full_on: false,
        full_off: true,
    };
    /// Always on.
    pub const FULL_ON: Counts = Counts {
        on: 0,
        off: 0,
        full_on: true,
        full_off: false,
    };

    /// On from count 0 for `counts` of the 4096 counts: 0 is full off, 4096 (or more) full on.
    pub fn high_for(counts: u16) -> Self {
        Self::delayed(0, counts)
    }

    /// On at count `on` for `counts` counts, wrapping past 4095 (section 7.3.3): 0 is full
    /// off, 4096 full on.
    fn delayed(on: u16, counts: u16) -> Self {
        match counts {
            0 => Self::FULL_OFF,
            c if c >= COUNTS => Self::FULL_ON,
            c => Self {
                on,
                off: (on + c) % COUNTS,
                full_on: false,
                full_off: false,
            },
        }
    }

    /// A `duty` (fraction of the period) starting `delay` (fraction) into it, by the
    /// datasheet's examples in section 7.3.3: ON = round(delay · 4096) − 1 (the counter
    /// starts at 0), OFF = ON + round(duty · 4096), modulo 4096. NaN is refused; the rest is
    /// clamped to 0.0..=1.0.
    pub fn from_fractions(delay: f32, duty: f32) -> Option<Self> {
        let delay = clamp_fraction(delay)?;
        let duty = clamp_fraction(duty)?;
        let on = fraction_of(delay, COUNTS).saturating_sub(1).min(COUNTS - 1);
        Some(Self::delayed(on, fraction_of(duty, COUNTS)))
    }

    /// The register bytes ON_L, ON_H, OFF_L, OFF_H.
    pub fn bytes(&self) -> [u8; 4] {
        let [on_h, on_l] = self.on.to_be_bytes();
        let [off_h, off_l] = self.off.to_be_bytes();
        [
            on_l,
            on_h | if self.full_on { FULL_ON } else { 0 },
            off_l,
            off_h | if self.full_off { FULL_OFF } else { 0 },
        ]
    }
}

fn check_channel<E>(channel: u8) -> Result<u8, Error<E>> {
    if channel < CHANNELS {
        Ok(LED0_ON_L + 4 * channel)
    } else {
        Err(Error::Channel(channel))
    }
}

/// State shared by both facades: the bus plus what the driver knows of the chip.
#[derive(Debug)]
struct Driver<I2C> {
    i2c: I2C,
    address: u8,
    config: Config,
    /// PRE_SCALE as programmed by the last successful init.
    prescale: Option<u8>,
    /// MODE1 while running, as written by init (AI set, SLEEP and RESTART clear).
    mode1: u8,
}

type DriverResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: I2c> Driver<I2C> {
    async fn write(&mut self, bytes: &[u8]) -> DriverResult<(), I2C> {
        self.i2c
            .write(self.address, bytes)
            .await
            .map_err(Error::Bus)
    }

    async fn read_mode1(&mut self) -> DriverResult<u8, I2C> {
        let mut mode1 = [0u8];
        self.i2c
            .write_read(self.address, &[MODE1], &mut mode1)
            .await
            .map_err(Error::Bus)?;
        Ok(mode1[0])
    }

    /// The datasheet's sequence for a new prescaler (section 7.3.5 with 7.3.1.1): PRE_SCALE
    /// is only writable while asleep, and RESTART only 500 µs after waking.
    async fn init(&mut self, config: Config, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        let prescale = config.prescale().map_err(|prescale| Error::Frequency {
            hz: config.frequency_hz,
            prescale,
        })?;
        self.prescale = None;
        let old = self.read_mode1().await?;
        // Writing 0 to RESTART has no effect; it is left out so the bit means what it says.
        self.write(&[MODE1, (old & !MODE1_RESTART) | MODE1_SLEEP])
            .await?;
        self.write(&[PRE_SCALE, prescale]).await?;
        self.write(&[MODE2, config.mode2()]).await?;
        // Keep EXTCLK, the sub-addresses and ALLCALL as found; wake with auto-increment.
        let awake = (old & !(MODE1_RESTART | MODE1_SLEEP)) | MODE1_AI;
        self.write(&[MODE1, awake]).await?;
        delay.delay_us(OSCILLATOR_STARTUP_US).await;
        // Restarts the channels that ran before the sleep (a no-op when none did).
        self.write(&[MODE1, awake | MODE1_RESTART]).await?;
        self.config = config;
        self.prescale = Some(prescale);
        self.mode1 = awake;
        Ok(())
    }

    fn require_init(&self) -> DriverResult<u8, I2C> {
        self.prescale.ok_or(Error::NotInitialized)
    }

    async fn set_counts(&mut self, channel: u8, counts: Counts) -> DriverResult<(), I2C> {
        let register = check_channel(channel)?;
        if counts.on >= COUNTS || counts.off >= COUNTS {
            return Err(Error::Counts {
                on: counts.on,
                off: counts.off,
            });
        }
        self.require_init()?;
        let [on_l, on_h, off_l, off_h] = counts.bytes();
        self.write(&[register, on_l, on_h, off_l, off_h]).await
    }

    async fn set_duty(&mut self, channel: u8, duty: f32) -> DriverResult<(), I2C> {
        let counts = Counts::from_fractions(0.0, duty).ok_or(Error::NotANumber)?;
        self.set_counts(channel, counts).await
    }

    async fn set_pulse_us(&mut self, channel: u8, pulse_us: u32) -> DriverResult<(), I2C> {
        check_channel::<I2C::Error>(channel)?;
        let period_ns = self.period_ns().ok_or(Error::NotInitialized)?;
        // counts = pulse / period · 4096, rounded.
        let pulse_ns = u64::from(pulse_us) * 1_000;
        let counts = (pulse_ns * u64::from(COUNTS) + period_ns / 2) / period_ns.max(1);
        match u16::try_from(counts) {
            Ok(c) if c < COUNTS => self.set_counts(channel, Counts::high_for(c)).await,
            _ => Err(Error::PulseTooLong {
                pulse_us,
                period_ns,
            }),
        }
    }

    async fn all_off(&mut self) -> DriverResult<(), I2C> {
        self.write(&[ALL_LED_OFF_H, FULL_OFF]).await
    }

    async fn sleep(&mut self) -> DriverResult<(), I2C> {
        self.require_init()?;
        self.write(&[MODE1, self.mode1 | MODE1_SLEEP]).await
    }

    /// Section 7.3.1.1: clear SLEEP, wait for the oscillator, restart the channels if the
    /// chip says they were running.
    async fn wake(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        self.require_init()?;
        let mode1 = self.read_mode1().await?;
        self.write(&[MODE1, self.mode1]).await?;
        delay.delay_us(OSCILLATOR_STARTUP_US).await;
        if mode1 & MODE1_RESTART != 0 {
            self.write(&[MODE1, self.mode1 | MODE1_RESTART]).await?;
        }
        Ok(())
    }
}

impl<I2C> Driver<I2C> {
    fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            i2c,
            address: address.bits(),
            config,
            prescale: None,
            mode1: 0,
        }
    }

    fn period_ns(&self) -> Option<u64> {
        self.prescale
            .map(|p| period_ns(p, self.config.oscillator_hz))
    }
}

macro_rules! shared_accessors {
    () => {
        /// The configuration in force (or to be applied by `init`).
        pub fn config(&self) -> &Config {
            &self.driver.config
        }

        /// PRE_SCALE as programmed; `None` before a successful `init`.
        pub fn prescale(&self) -> Option<u8> {
            self.driver.prescale
        }

        /// The PWM period the chip makes, ns: 4096 · (PRE_SCALE + 1) / oscillator.
        pub fn period_ns(&self) -> Option<u64> {
            self.driver.period_ns()
        }
    };
}

/// Blocking PCA9685 driver.
///
/// ```
/// # use embedded_hal_mock::eh1::{i2c::Mock, delay::NoopDelay};
/// use edgewise_sensors::pca9685::{Address, Config, Pca9685};
/// # fn demo(i2c: Mock) -> Result<(), edgewise_sensors::pca9685::Error<embedded_hal::i2c::ErrorKind>> {
/// let mut pwm = Pca9685::new(i2c, Address::default(), Config::servo());
/// pwm.init(&mut NoopDelay)?;       // 50 Hz: PRE_SCALE 121
/// pwm.set_pulse_us(0, 1_500)?;     // servo on channel 0 to its centre
/// pwm.set_duty(15, 0.25)?;         // an LED on channel 15 at 25 %
/// let i2c = pwm.release();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Pca9685<I2C> {
    driver: Driver<Blocking<I2C>>,
}

/// Async PCA9685 driver; the same operations as [`Pca9685`], awaited.
#[derive(Debug)]
pub struct Pca9685Async<I2C> {
    driver: Driver<I2C>,
}

type BlockingResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

impl<I2C: embedded_hal::i2c::I2c> Pca9685<I2C> {
    /// A driver for the chip at `address`. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            driver: Driver::new(Blocking(i2c), address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.i2c.into_inner()
    }

    /// Programs the frequency and output stage: reads MODE1, sleeps, writes PRE_SCALE and
    /// MODE2, wakes with auto-increment, waits the oscillator's 500 µs and writes RESTART
    /// (one read, five writes). Channels keep their settings (all off after power-on). A
    /// frequency the chip cannot make is refused before any bus traffic.
    pub fn init<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> BlockingResult<(), I2C> {
        let config = self.driver.config;
        run_to_completion(self.driver.init(config, &mut Blocking(delay)))
    }

    /// Applies a new configuration (the `init` sequence).
    pub fn set_config<D: embedded_hal::delay::DelayNs>(
        &mut self,
        config: Config,
        delay: &mut D,
    ) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.init(config, &mut Blocking(delay)))
    }

    /// Sets `channel` (0..=15) to `duty` of the period, starting at count 0; clamped to
    /// 0.0..=1.0, NaN refused. 0 and 1 use the full-off and full-on flags (one write).
    pub fn set_duty(&mut self, channel: u8, duty: f32) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.set_duty(channel, duty))
    }

    /// Writes a channel's ON/OFF counts and flags as given (one write); see
    /// [`Counts::from_fractions`] for a delayed start.
    pub fn set_counts(&mut self, channel: u8, counts: Counts) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.set_counts(channel, counts))
    }

    /// Sends `pulse_us` pulses on `channel` (a servo: 1000–2000 µs at 50 Hz), rounded to the
    /// nearest count of the period the chip really makes. A pulse of a whole period or
    /// longer is refused.
    pub fn set_pulse_us(&mut self, channel: u8, pulse_us: u32) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.set_pulse_us(channel, pulse_us))
    }

    /// Turns every channel fully off in one write (ALL_LED_OFF_H bit 4); channels must be
    /// set again afterwards.
    pub fn all_off(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.all_off())
    }

    /// Stops the oscillator (MODE1.SLEEP): outputs off, registers kept.
    pub fn sleep(&mut self) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.sleep())
    }

    /// Wakes the chip and, after the oscillator's 500 µs, restarts the channels that were
    /// running when it went to sleep.
    pub fn wake<D: embedded_hal::delay::DelayNs>(
        &mut self,
        delay: &mut D,
    ) -> BlockingResult<(), I2C> {
        run_to_completion(self.driver.wake(&mut Blocking(delay)))
    }

    shared_accessors!();
}

impl<I2C: I2c> Pca9685Async<I2C> {
    /// A driver for the chip at `address`. Nothing is sent until `init`.
    pub fn new(i2c: I2C, address: Address, config: Config) -> Self {
        Self {
            driver: Driver::new(i2c, address, config),
        }
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.driver.i2c
    }

    /// See [`Pca9685::init`].
    pub async fn init(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        let config = self.driver.config;
        self.driver.init(config, delay).await
    }

    /// See [`Pca9685::set_config`].
    pub async fn set_config(
        &mut self,
        config: Config,
        delay: &mut impl DelayNs,
    ) -> DriverResult<(), I2C> {
        self.driver.init(config, delay).await
    }

    /// See [`Pca9685::set_duty`].
    pub async fn set_duty(&mut self, channel: u8, duty: f32) -> DriverResult<(), I2C> {
        self.driver.set_duty(channel, duty).await
    }

    /// See [`Pca9685::set_counts`].
    pub async fn set_counts(&mut self, channel: u8, counts: Counts) -> DriverResult<(), I2C> {
        self.driver.set_counts(channel, counts).await
    }

    /// See [`Pca9685::set_pulse_us`].
    pub async fn set_pulse_us(&mut self, channel: u8, pulse_us: u32) -> DriverResult<(), I2C> {
        self.driver.set_pulse_us(channel, pulse_us).await
    }

    /// See [`Pca9685::all_off`].
    pub async fn all_off(&mut self) -> DriverResult<(), I2C> {
        self.driver.all_off().await
    }

    /// See [`Pca9685::sleep`].
    pub async fn sleep(&mut self) -> DriverResult<(), I2C> {
        self.driver.sleep().await
    }

    /// See [`Pca9685::wake`].
    pub async fn wake(&mut self, delay: &mut impl DelayNs) -> DriverResult<(), I2C> {
        self.driver.wake(delay).await
    }

    shared_accessors!();
}

/// One channel of a PCA9685 that was initialised by [`Pca9685`], as an embedded-hal PWM
/// output, so a [`crate::actuator::PwmOutput`] can drive it. Share the bus between the
/// driver and its channels with an embedded-hal-bus device (`RefCellDevice`, …). The duty
/// resolution is 4096 counts: 0 is full off, 4096 full on.
#[derive(Debug)]
pub struct Pca9685Channel<I2C> {
    i2c: I2C,
    address: u8,
    register: u8,
}

impl<I2C: embedded_hal::i2c::I2c> Pca9685Channel<I2C> {
    /// Channel `channel` (0..=15) of the chip at `address`.
    pub fn new(i2c: I2C, address: Address, channel: u8) -> Result<Self, Error<I2C::Error>> {
        Ok(Self {
            i2c,
            address: address.bits(),
            register: check_channel(channel)?,
        })
    }

    /// Hands the bus back.
    pub fn release(self) -> I2C {
        self.i2c
    }
}

impl<I2C: embedded_hal::i2c::I2c> embedded_hal::pwm::ErrorType for Pca9685Channel<I2C> {
    type Error = Error<I2C::Error>;
}

impl<I2C: embedded_hal::i2c::I2c> embedded_hal::pwm::SetDutyCycle for Pca9685Channel<I2C> {
    fn max_duty_cycle(&self) -> u16 {
        COUNTS
    }

    /// One write of the channel's four registers.
    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), Self::Error> {
        let [on_l, on_h, off_l, off_h] = Counts::high_for(duty).bytes();
        self.i2c
            .write(self.address, &[self.register, on_l, on_h, off_l, off_h])
            .map_err(Error::Bus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasheet_example_1_delay_10_percent_duty_20_percent() {
        // Section 7.3.3 example 1: delay 409.6 → 410 − 1 = 199h; on for 819.2 → 819 counts;
        // OFF = 409 + 819 = 1228 = 4CCh.
        let counts = Counts::from_fractions(0.1, 0.2).unwrap_or(Counts::FULL_OFF);
        assert_eq!((counts.on, counts.off), (0x199, 0x4CC));
        assert_eq!(counts.bytes(), [0x99, 0x01, 0xCC, 0x04]);
    }

    #[test]
    fn datasheet_example_2_delay_90_percent_duty_90_percent_wraps() {
        // Example 2: delay 3686.4 → 3686 − 1 = E65h; on for 3686 counts; OFF = 3685 + 3686
        // − 4096 = 3275 = CCBh.
        let counts = Counts::from_fractions(0.9, 0.9).unwrap_or(Counts::FULL_OFF);
        assert_eq!((counts.on, counts.off), (0xE65, 0xCCB));
        assert_eq!(counts.bytes(), [0x65, 0x0E, 0xCB, 0x0C]);
    }

    #[test]
    fn full_on_and_full_off_flags() {
        assert_eq!(Counts::high_for(0).bytes(), [0, 0, 0, 0x10]);
        assert_eq!(Counts::high_for(4096).bytes(), [0, 0x10, 0, 0]);
        assert_eq!(Counts::from_fractions(0.5, 1.0), Some(Counts::FULL_ON));
        assert_eq!(Counts::from_fractions(0.0, f32::NAN), None);
        assert_eq!(Counts::from_fractions(f32::NAN, 0.5), None);
    }
}
