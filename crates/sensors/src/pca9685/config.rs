//! What `init` programs: the PWM frequency (as PRE_SCALE) and the output stage (MODE2).

use super::registers::*;

/// How the outputs drive their pins (MODE2.OUTDRV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputDriver {
    /// Push-pull: drives servos, MOSFET gates and LEDs directly (the power-on setting).
    #[default]
    TotemPole,
    /// Open-drain: sinks current only, for LEDs to a higher supply or external drivers.
    OpenDrain,
}

/// The chip's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The wanted PWM frequency, Hz: about 24..=1526 with the internal oscillator. The chip
    /// makes `oscillator_hz / (4096 · (PRE_SCALE + 1))`, the nearest it can.
    pub frequency_hz: u32,
    /// Totem-pole or open-drain outputs.
    pub output: OutputDriver,
    /// Inverts every output (MODE2.INVRT), for an external inverting driver.
    pub invert: bool,
    /// The oscillator clocking the PWM: the internal 25 MHz, or a measured value when a
    /// board's oscillator is off enough to matter for servo pulses.
    pub oscillator_hz: u32,
}

impl Config {
    /// Servos: 50 Hz, totem pole.
    pub const fn servo() -> Self {
        Self::with_frequency(50)
    }

    /// `frequency_hz`, totem pole, internal oscillator.
    pub const fn with_frequency(frequency_hz: u32) -> Self {
        Self {
            frequency_hz,
            output: OutputDriver::TotemPole,
            invert: false,
            oscillator_hz: INTERNAL_OSCILLATOR_HZ,
        }
    }

    /// PRE_SCALE for the frequency: round(osc / (4096 · f)) − 1 (datasheet equation 1),
    /// which must lie in 3..=255. On error, returns what the formula gave.
    pub fn prescale(&self) -> Result<u8, u32> {
        let per_count = u64::from(COUNTS) * u64::from(self.frequency_hz);
        if per_count == 0 {
            return Err(0);
        }
        // Integer rounding: (a + b/2) / b; 4096 · f is even, so b/2 is exact.
        let rounded = (u64::from(self.oscillator_hz) + per_count / 2) / per_count;
        let prescale = u32::try_from(rounded.saturating_sub(1)).unwrap_or(u32::MAX);
        match u8::try_from(prescale) {
            Ok(p) if p >= PRESCALE_MIN => Ok(p),
            _ => Err(prescale),
        }
    }

    /// The MODE2 value: OUTDRV and INVRT; OCH 0 (outputs change on the I²C STOP), OUTNE 00.
    pub(crate) fn mode2(&self) -> u8 {
        let outdrv = match self.output {
            OutputDriver::TotemPole => MODE2_OUTDRV,
            OutputDriver::OpenDrain => 0,
        };
        outdrv | if self.invert { MODE2_INVRT } else { 0 }
    }
}

impl Default for Config {
    /// 200 Hz: PRE_SCALE 1Eh, the chip's power-on value.
    fn default() -> Self {
        Self::with_frequency(200)
    }
}

/// The PWM period for `prescale` at `oscillator_hz`, ns: 4096 · (PRE_SCALE + 1) / osc.
pub(crate) fn period_ns(prescale: u8, oscillator_hz: u32) -> u64 {
    let counts = u64::from(COUNTS) * (u64::from(prescale) + 1);
    (counts * 1_000_000_000 + u64::from(oscillator_hz) / 2) / u64::from(oscillator_hz.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prescale_follows_equation_1() {
        // 25 MHz / (4096 · 50) = 122.07 → 122 − 1 = 121; / (4096 · 1000) = 6.10 → 5;
        // / (4096 · 200) = 30.5 → 31 − 1 = 30 (1Eh, the power-on value).
        assert_eq!(Config::servo().prescale(), Ok(121));
        assert_eq!(Config::with_frequency(1000).prescale(), Ok(5));
        assert_eq!(Config::default().prescale(), Ok(0x1E));
        // The datasheet's limits: 1526 Hz → 4.0 → 3; 24 Hz → 254.3 → 253.
        assert_eq!(Config::with_frequency(1526).prescale(), Ok(3));
        assert_eq!(Config::with_frequency(24).prescale(), Ok(253));
        // 2 kHz → 3.05 → 2, below the minimum; 23 Hz → 265.4 → 264; 0 Hz is nothing.
        assert_eq!(Config::with_frequency(2000).prescale(), Err(2));
        assert_eq!(Config::with_frequency(23).prescale(), Err(264));
        assert_eq!(Config::with_frequency(0).prescale(), Err(0));
    }

    #[test]
    fn period_of_the_servo_prescale() {
        // 4096 · 122 / 25 MHz = 19.98848 ms.
        assert_eq!(period_ns(121, INTERNAL_OSCILLATOR_HZ), 19_988_480);
    }

    #[test]
    fn mode2_bits() {
        assert_eq!(Config::default().mode2(), 0x04);
        let open_inverted = Config {
            output: OutputDriver::OpenDrain,
            invert: true,
            ..Config::default()
        };
        assert_eq!(open_inverted.mode2(), 0x10);
    }
}
