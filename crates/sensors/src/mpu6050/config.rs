//! Ranges, filter and sample rate, and the timing and scaling the datasheets derive from them.

use super::Variant;

/// Accelerometer full-scale range (RM 4.5 AFS_SEL; PS-MPU-6000A-00 6.2 sensitivities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccelRange {
    /// ±2 g, 16384 LSB/g.
    #[default]
    G2,
    /// ±4 g, 8192 LSB/g.
    G4,
    /// ±8 g, 4096 LSB/g.
    G8,
    /// ±16 g, 2048 LSB/g.
    G16,
}

impl AccelRange {
    /// The 2-bit AFS_SEL code.
    pub const fn code(self) -> u8 {
        match self {
            Self::G2 => 0,
            Self::G4 => 1,
            Self::G8 => 2,
            Self::G16 => 3,
        }
    }

    /// Sensitivity in LSB per g.
    pub const fn lsb_per_g(self) -> i32 {
        16_384 >> self.code()
    }
}

/// Gyroscope full-scale range (RM 4.4 FS_SEL; PS-MPU-6000A-00 6.1 sensitivities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GyroRange {
    /// ±250 °/s, 131 LSB/(°/s).
    #[default]
    Dps250,
    /// ±500 °/s, 65.5 LSB/(°/s).
    Dps500,
    /// ±1000 °/s, 32.8 LSB/(°/s).
    Dps1000,
    /// ±2000 °/s, 16.4 LSB/(°/s).
    Dps2000,
}

impl GyroRange {
    /// The 2-bit FS_SEL code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Dps250 => 0,
            Self::Dps500 => 1,
            Self::Dps1000 => 2,
            Self::Dps2000 => 3,
        }
    }

    /// Sensitivity in tenths of an LSB per °/s, as the datasheet prints it (131, 65.5, 32.8,
    /// 16.4): kept in integers so the conversion needs no floating point.
    pub const fn tenth_lsb_per_dps(self) -> i64 {
        match self {
            Self::Dps250 => 1310,
            Self::Dps500 => 655,
            Self::Dps1000 => 328,
            Self::Dps2000 => 164,
        }
    }
}

/// Digital low-pass filter, DLPF_CFG (RM 4.3; 6500: CONFIG and ACCEL_CONFIG2 with the same
/// code). Named by the MPU-6050's accelerometer bandwidth; the 6500's bandwidths are close
/// (gyroscope 250/184/92/41/20/10/5 Hz). With the filter off the gyroscope outputs at 8 kHz,
/// otherwise at 1 kHz; the sample rate divides that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)] // the names are the bandwidths
pub enum Dlpf {
    /// DLPF_CFG = 0: accelerometer 260 Hz, gyroscope 256 Hz at an 8 kHz output rate.
    Off,
    #[default]
    Hz184,
    Hz94,
    Hz44,
    Hz21,
    Hz10,
    Hz5,
}

impl Dlpf {
    /// The 3-bit DLPF_CFG code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Off => 0,
            Self::Hz184 => 1,
            Self::Hz94 => 2,
            Self::Hz44 => 3,
            Self::Hz21 => 4,
            Self::Hz10 => 5,
            Self::Hz5 => 6,
        }
    }

    /// Gyroscope output rate in Hz: 8 kHz with the filter off, 1 kHz with it on (RM 4.2).
    pub const fn gyro_output_rate_hz(self) -> u32 {
        match self {
            Self::Off => 8_000,
            _ => 1_000,
        }
    }

    /// The filter's -3 dB bandwidth in Hz on `variant` (RM-MPU-6000A 4.3 accelerometer column;
    /// RM-MPU-6500A 4.6 gyroscope column).
    pub const fn bandwidth_hz(self, variant: Variant) -> u32 {
        let mpu6050 = matches!(variant, Variant::Mpu6050);
        match self {
            Self::Off if mpu6050 => 260,
            Self::Off => 250,
            Self::Hz184 => 184,
            Self::Hz94 if mpu6050 => 94,
            Self::Hz94 => 92,
            Self::Hz44 if mpu6050 => 44,
            Self::Hz44 => 41,
            Self::Hz21 if mpu6050 => 21,
            Self::Hz21 => 20,
            Self::Hz10 => 10,
            Self::Hz5 => 5,
        }
    }
}

/// What each FIFO frame carries. Data enter the FIFO in register order (RM 4.31):
/// accelerometer X/Y/Z, then temperature if chosen, then gyroscope X/Y/Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FifoFrame {
    /// Accelerometer and gyroscope, 12 bytes per sample.
    #[default]
    AccelGyro,
    /// Accelerometer, temperature and gyroscope, 14 bytes per sample.
    AccelTempGyro,
}

impl FifoFrame {
    /// Bytes per sample in the FIFO.
    pub const fn bytes(self) -> usize {
        match self {
            Self::AccelGyro => 12,
            Self::AccelTempGyro => 14,
        }
    }

    /// FIFO_EN register value.
    pub(crate) const fn fifo_en(self) -> u8 {
        match self {
            Self::AccelGyro => super::registers::FIFO_EN_ACCEL_GYRO,
            Self::AccelTempGyro => {
                super::registers::FIFO_EN_ACCEL_GYRO | super::registers::FIFO_EN_TEMP
            }
        }
    }
}

/// How a single reading (`measure`) gets its sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SingleRead {
    /// Burst-read the data registers at once: one bus transaction, the most recent sample
    /// (at most one sample period old; the same sample again if read faster than the rate).
    #[default]
    Latest,
    /// Poll INT_STATUS until DATA_RDY is set, then burst-read: a fresh sample every reading,
    /// at the cost of at least one more transaction, waiting at most one sample period
    /// (+1 % clock tolerance). Reading INT_STATUS also clears its FIFO overflow flag; the FIFO
    /// drain does not depend on it.
    NextSample,
}

/// Everything the driver writes to SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG(2) and
/// FIFO_EN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Accelerometer range.
    pub accel_range: AccelRange,
    /// Gyroscope range.
    pub gyro_range: GyroRange,
    /// Digital low-pass filter; also picks the 8 kHz or 1 kHz gyroscope output rate.
    pub dlpf: Dlpf,
    /// SMPLRT_DIV: sample rate = gyroscope output rate / (1 + divider).
    pub sample_rate_divider: u8,
    /// FIFO frame contents used by `start_fifo`.
    pub fifo_frame: FifoFrame,
    /// How `measure` waits for its sample.
    pub single_read: SingleRead,
}

impl Config {
    /// 1 kHz sampling for vibration monitoring: DLPF 184 Hz (1 kHz output rate, divider 0),
    /// ±2 g and ±250 °/s for the best resolution on a machine housing, accelerometer and
    /// gyroscope in the FIFO.
    pub const fn vibration_1khz() -> Self {
        Self {
            accel_range: AccelRange::G2,
            gyro_range: GyroRange::Dps250,
            dlpf: Dlpf::Hz184,
            sample_rate_divider: 0,
            fifo_frame: FifoFrame::AccelGyro,
            single_read: SingleRead::Latest,
        }
    }

    /// Sample rate in mHz (exact: 8 000 000 / (1 + div) or 1 000 000 / (1 + div)).
    pub const fn sample_rate_millihertz(&self) -> u32 {
        self.dlpf.gyro_output_rate_hz() * 1000 / (1 + self.sample_rate_divider as u32)
    }

    /// Sample period in ns: (1 + div) gyroscope output periods of 125 µs or 1 ms, exact.
    pub const fn sample_period_ns(&self) -> u64 {
        let tick_ns = 1_000_000_000 / self.dlpf.gyro_output_rate_hz() as u64;
        tick_ns * (1 + self.sample_rate_divider as u64)
    }

    /// CONFIG register: DLPF_CFG, FSYNC off, FIFO_MODE 0 (a full FIFO overwrites its oldest
    /// data on both chips, so overflow behaves the same way).
    pub(crate) const fn config_register(&self) -> u8 {
        self.dlpf.code()
    }

    pub(crate) const fn gyro_config(&self) -> u8 {
        self.gyro_range.code() << 3
    }

    pub(crate) const fn accel_config(&self) -> u8 {
        self.accel_range.code() << 3
    }

    /// ACCEL_CONFIG2 (6500): ACCEL_FCHOICE_B = 0 and the same filter code as the gyroscope.
    pub(crate) const fn accel_config2(&self) -> u8 {
        self.dlpf.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivities_are_the_datasheet_table() {
        // PS-MPU-6000A-00 6.2: 16384, 8192, 4096, 2048 LSB/g.
        let accel: [i32; 4] = [
            AccelRange::G2,
            AccelRange::G4,
            AccelRange::G8,
            AccelRange::G16,
        ]
        .map(AccelRange::lsb_per_g);
        assert_eq!(accel, [16_384, 8_192, 4_096, 2_048]);
        // 6.1: 131, 65.5, 32.8, 16.4 LSB/(°/s).
        let gyro = [
            GyroRange::Dps250,
            GyroRange::Dps500,
            GyroRange::Dps1000,
            GyroRange::Dps2000,
        ]
        .map(GyroRange::tenth_lsb_per_dps);
        assert_eq!(gyro, [1310, 655, 328, 164]);
    }

    #[test]
    fn sample_rate_follows_the_register_map_formula() {
        // RM 4.2: Sample Rate = Gyroscope Output Rate / (1 + SMPLRT_DIV), 8 kHz with DLPF_CFG 0.
        let c = Config::vibration_1khz();
        assert_eq!(c.sample_rate_millihertz(), 1_000_000);
        assert_eq!(c.sample_period_ns(), 1_000_000);
        let c = Config {
            dlpf: Dlpf::Off,
            sample_rate_divider: 7,
            ..c
        };
        assert_eq!(c.sample_rate_millihertz(), 1_000_000);
        assert_eq!(c.sample_period_ns(), 1_000_000);
        let c = Config {
            dlpf: Dlpf::Hz44,
            sample_rate_divider: 255,
            ..c
        };
        // 1 kHz / 256 = 3.90625 Hz, the datasheet's slowest rate ("3.9 samples per second").
        assert_eq!(c.sample_rate_millihertz(), 3_906);
        assert_eq!(c.sample_period_ns(), 256_000_000);
    }

    #[test]
    fn register_values() {
        let c = Config {
            accel_range: AccelRange::G16,
            gyro_range: GyroRange::Dps500,
            dlpf: Dlpf::Hz21,
            ..Config::default()
        };
        assert_eq!(c.accel_config(), 0b0001_1000);
        assert_eq!(c.gyro_config(), 0b0000_1000);
        assert_eq!(c.config_register(), 4);
        assert_eq!(FifoFrame::AccelGyro.fifo_en(), 0x78);
        assert_eq!(FifoFrame::AccelTempGyro.fifo_en(), 0xF8);
        assert_eq!(Dlpf::Hz94.bandwidth_hz(Variant::Mpu6050), 94);
        assert_eq!(Dlpf::Hz94.bandwidth_hz(Variant::Mpu6500), 92);
    }
}
