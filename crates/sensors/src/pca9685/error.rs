use core::fmt;

use crate::actuator::{ActuatorError, ErrorKind};

/// Everything that can go wrong driving a PCA9685, generic over the bus error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Error<E> {
    /// The bus reported an error (NACK, arbitration loss, …).
    Bus(E),
    /// The frequency needs a PRE_SCALE outside 3..=255 (about 24..=1526 Hz on the internal
    /// oscillator).
    Frequency {
        /// The frequency asked for, Hz.
        hz: u32,
        /// What the datasheet's formula gave for it.
        prescale: u32,
    },
    /// The chip has channels 0..=15.
    Channel(u8),
    /// A duty or delay was NaN.
    NotANumber,
    /// ON or OFF counts beyond 12 bits (0..=4095).
    Counts {
        /// The ON count asked for.
        on: u16,
        /// The OFF count asked for.
        off: u16,
    },
    /// The pulse does not fit in one PWM period.
    PulseTooLong {
        /// The pulse asked for, µs.
        pulse_us: u32,
        /// The PWM period, ns.
        period_ns: u64,
    },
    /// Used before a successful `init`.
    NotInitialized,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::Frequency { hz, prescale } => write!(
                f,
                "PWM frequency {hz} Hz needs PRE_SCALE {prescale}, outside the chip's 3..=255 (about 24..=1526 Hz)"
            ),
            Self::Channel(channel) => write!(f, "channel {channel} does not exist (0..=15)"),
            Self::NotANumber => f.write_str("duty or delay is NaN"),
            Self::Counts { on, off } => write!(
                f,
                "ON/OFF counts {on}/{off} do not fit in 12 bits (0..=4095)"
            ),
            Self::PulseTooLong {
                pulse_us,
                period_ns,
            } => write!(
                f,
                "pulse of {pulse_us} µs does not fit in the {period_ns} ns PWM period"
            ),
            Self::NotInitialized => f.write_str("PCA9685 used before init() succeeded"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E: fmt::Debug> ActuatorError for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::Frequency { .. } => ErrorKind::Config,
            Self::Channel(_) => ErrorKind::Config,
            Self::NotANumber | Self::Counts { .. } | Self::PulseTooLong { .. } => {
                ErrorKind::InvalidValue
            }
            Self::NotInitialized => ErrorKind::NotInitialized,
        }
    }
}

/// A channel used as an embedded-hal PWM output reports its errors as `Other`.
impl<E: fmt::Debug> embedded_hal::pwm::Error for Error<E> {
    fn kind(&self) -> embedded_hal::pwm::ErrorKind {
        embedded_hal::pwm::ErrorKind::Other
    }
}
