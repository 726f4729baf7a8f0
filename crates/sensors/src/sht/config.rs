//! Measurement settings and the timing the datasheets give for them.
//!
//! Every wait the drivers make is one of these maxima: SHT3x-DIS datasheet v5 table 4
//! ("System timing specifications") and section 4.8; SHT4x datasheet, "System timing
//! specifications" table.

use super::commands::{sht3x, sht4x};

/// How closely repeated measurements agree: higher repeatability takes longer and draws more
/// energy. The SHT4x datasheet calls the same three levels "precision".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Repeatability {
    /// SHT3x: 0.04 °C / 0.08 %RH (3σ), 15 ms. SHT4x: 0.04 °C / 0.08 %RH, 8.3 ms.
    #[default]
    High,
    /// SHT3x: 0.08 °C / 0.15 %RH, 6 ms. SHT4x: 0.07 °C / 0.15 %RH, 4.5 ms.
    Medium,
    /// SHT3x: 0.15 °C / 0.21 %RH, 4 ms. SHT4x: 0.1 °C / 0.25 %RH, 1.6 ms.
    Low,
}

impl Repeatability {
    /// SHT3x maximum measurement time in µs (t_MEAS,h/m/l max: 15, 6, 4 ms).
    pub const fn sht3x_max_measurement_us(self) -> u32 {
        match self {
            Self::High => 15_000,
            Self::Medium => 6_000,
            Self::Low => 4_000,
        }
    }

    /// SHT4x maximum measurement time in µs (t_MEAS,h/m/l max: 8.3, 4.5, 1.6 ms).
    pub const fn sht4x_max_measurement_us(self) -> u32 {
        match self {
            Self::High => 8_300,
            Self::Medium => 4_500,
            Self::Low => 1_600,
        }
    }

    const fn column(self) -> usize {
        match self {
            Self::High => 0,
            Self::Medium => 1,
            Self::Low => 2,
        }
    }

    /// The SHT3x single-shot command without clock stretching.
    pub(crate) const fn sht3x_single_shot(self) -> u16 {
        match self {
            Self::High => sht3x::SINGLE_SHOT_HIGH,
            Self::Medium => sht3x::SINGLE_SHOT_MEDIUM,
            Self::Low => sht3x::SINGLE_SHOT_LOW,
        }
    }

    /// The SHT4x measurement command.
    pub(crate) const fn sht4x_measure(self) -> u8 {
        match self {
            Self::High => sht4x::MEASURE_HIGH,
            Self::Medium => sht4x::MEASURE_MEDIUM,
            Self::Low => sht4x::MEASURE_LOW,
        }
    }
}

/// SHT3x periodic acquisition rate (datasheet table 10). At 10 per second the datasheet warns
/// that the sensor may heat itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MeasurementsPerSecond {
    /// One measurement every 2 s.
    Half,
    /// One per second.
    #[default]
    One,
    /// Two per second.
    Two,
    /// Four per second.
    Four,
    /// Ten per second.
    Ten,
}

impl MeasurementsPerSecond {
    /// Time between two measurements, µs.
    pub const fn period_us(self) -> u32 {
        match self {
            Self::Half => 2_000_000,
            Self::One => 1_000_000,
            Self::Two => 500_000,
            Self::Four => 250_000,
            Self::Ten => 100_000,
        }
    }

    const fn row(self) -> usize {
        match self {
            Self::Half => 0,
            Self::One => 1,
            Self::Two => 2,
            Self::Four => 3,
            Self::Ten => 4,
        }
    }
}

/// How the SHT3x measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sht3xMode {
    /// Each reading starts one measurement and waits for it; the chip idles (0.2 µA) in
    /// between. The lowest-energy choice at intervals above a few seconds.
    #[default]
    SingleShot,
    /// The chip measures by itself at this rate; a reading fetches the latest result without
    /// waiting. A fetch sooner than one period after the previous one finds nothing new.
    Periodic(MeasurementsPerSecond),
}

/// SHT3x settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sht3xConfig {
    /// Repeatability of every measurement.
    pub repeatability: Repeatability,
    /// Single shot or periodic.
    pub mode: Sht3xMode,
}

impl Sht3xConfig {
    /// The command that starts this configuration's periodic mode, if it is periodic.
    pub(crate) const fn periodic_command(&self) -> Option<u16> {
        match self.mode {
            Sht3xMode::SingleShot => None,
            Sht3xMode::Periodic(mps) => {
                Some(sht3x::PERIODIC[mps.row()][self.repeatability.column()])
            }
        }
    }

    /// The shortest interval between two readings: the measurement time in single shot, the
    /// period in periodic mode.
    pub const fn min_interval_us(&self) -> u32 {
        match self.mode {
            Sht3xMode::SingleShot => self.repeatability.sht3x_max_measurement_us(),
            Sht3xMode::Periodic(mps) => mps.period_us(),
        }
    }
}

/// SHT4x settings. The SHT4x has no periodic mode: every reading is a single shot, and the
/// chip idles at 80 nA in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sht4xConfig {
    /// Repeatability ("precision") of every measurement.
    pub repeatability: Repeatability,
}

/// SHT4x heater power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaterPower {
    /// 200 mW.
    Mw200,
    /// 110 mW.
    Mw110,
    /// 20 mW.
    Mw20,
}

/// SHT4x heater pulse length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaterDuration {
    /// 1 s (at most 1.1 s).
    Long,
    /// 0.1 s (at most 0.11 s).
    Short,
}

/// One SHT4x heater pulse. The chip heats, takes a high-precision measurement just before
/// switching the heater off, and returns it. The datasheet limits the heater to a 10 % duty
/// cycle: after a 1 s pulse, leave at least 9 s before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaterPulse {
    /// Heater power.
    pub power: HeaterPower,
    /// Pulse length.
    pub duration: HeaterDuration,
}

impl HeaterPulse {
    /// The longest pulse at full power: the datasheet's choice for removing condensation
    /// or creep.
    pub const fn strongest() -> Self {
        Self {
            power: HeaterPower::Mw200,
            duration: HeaterDuration::Long,
        }
    }

    /// Time from the command to the result, µs: the pulse's maximum length, which includes
    /// the measurement at its end (1.1 s or 0.11 s).
    pub const fn max_duration_us(self) -> u32 {
        match self.duration {
            HeaterDuration::Long => 1_100_000,
            HeaterDuration::Short => 110_000,
        }
    }

    pub(crate) const fn command(self) -> u8 {
        match (self.power, self.duration) {
            (HeaterPower::Mw200, HeaterDuration::Long) => sht4x::HEATER_200MW_1S,
            (HeaterPower::Mw200, HeaterDuration::Short) => sht4x::HEATER_200MW_100MS,
            (HeaterPower::Mw110, HeaterDuration::Long) => sht4x::HEATER_110MW_1S,
            (HeaterPower::Mw110, HeaterDuration::Short) => sht4x::HEATER_110MW_100MS,
            (HeaterPower::Mw20, HeaterDuration::Long) => sht4x::HEATER_20MW_1S,
            (HeaterPower::Mw20, HeaterDuration::Short) => sht4x::HEATER_20MW_100MS,
        }
    }
}

/// SHT3x soft reset time, t_SR max (table 4).
pub(crate) const SHT3X_SOFT_RESET_US: u32 = 1_500;
/// SHT3x: the break command takes 1 ms before the chip accepts the next command (4.8).
pub(crate) const SHT3X_BREAK_US: u32 = 1_000;
/// SHT4x soft reset time, t_SR max.
pub(crate) const SHT4X_SOFT_RESET_US: u32 = 1_000;
/// Time between a serial-number command and its result. Neither datasheet gives one; the
/// SHT3x needs 1 ms between a command and the next read header (table 9 note) and an SHT4x
/// read at once is not acknowledged, so both wait the 1 ms.
pub(crate) const SERIAL_NUMBER_US: u32 = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sht3x_periodic_command_table_matches_datasheet_table_10() {
        let periodic = |mps, repeatability| {
            Sht3xConfig {
                repeatability,
                mode: Sht3xMode::Periodic(mps),
            }
            .periodic_command()
        };
        use MeasurementsPerSecond::*;
        use Repeatability::*;
        assert_eq!(periodic(Half, High), Some(0x2032));
        assert_eq!(periodic(Half, Low), Some(0x202F));
        assert_eq!(periodic(One, High), Some(0x2130));
        assert_eq!(periodic(Two, Medium), Some(0x2220));
        assert_eq!(periodic(Four, Low), Some(0x2329));
        assert_eq!(periodic(Ten, High), Some(0x2737));
        assert_eq!(periodic(Ten, Medium), Some(0x2721));
        assert_eq!(Sht3xConfig::default().periodic_command(), None);
    }

    #[test]
    fn single_shot_commands_and_waits_match_the_datasheets() {
        use Repeatability::*;
        let sht3x: [(u16, u32); 3] =
            [High, Medium, Low].map(|r| (r.sht3x_single_shot(), r.sht3x_max_measurement_us()));
        assert_eq!(sht3x, [(0x2400, 15_000), (0x240B, 6_000), (0x2416, 4_000)]);
        let sht4x: [(u8, u32); 3] =
            [High, Medium, Low].map(|r| (r.sht4x_measure(), r.sht4x_max_measurement_us()));
        assert_eq!(sht4x, [(0xFD, 8_300), (0xF6, 4_500), (0xE0, 1_600)]);
    }

    #[test]
    fn heater_pulse_commands() {
        use HeaterDuration::*;
        use HeaterPower::*;
        let all = [
            (Mw200, Long, 0x39),
            (Mw200, Short, 0x32),
            (Mw110, Long, 0x2F),
            (Mw110, Short, 0x24),
            (Mw20, Long, 0x1E),
            (Mw20, Short, 0x15),
        ];
        for (power, duration, code) in all {
            let pulse = HeaterPulse { power, duration };
            assert_eq!(pulse.command(), code, "{pulse:?}");
        }
        assert_eq!(HeaterPulse::strongest().max_duration_us(), 1_100_000);
    }

    #[test]
    fn min_interval_is_measurement_time_or_period() {
        let single = Sht3xConfig::default();
        assert_eq!(single.min_interval_us(), 15_000);
        let periodic = Sht3xConfig {
            repeatability: Repeatability::Low,
            mode: Sht3xMode::Periodic(MeasurementsPerSecond::Four),
        };
        assert_eq!(periodic.min_interval_us(), 250_000);
    }
}
