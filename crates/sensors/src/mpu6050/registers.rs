//! Register map of the MPU-6050 (RM-MPU-6000A-00 rev 4.2, section 3) and the MPU-6500
//! (RM-MPU-6500A-00 rev 2.1; the same accelerometer/gyroscope map as RM-MPU-9250A-00 rev 1.4).

/// I²C address with AD0 tied low.
pub const ADDRESS_AD0_LOW: u8 = 0x68;
/// I²C address with AD0 tied high.
pub const ADDRESS_AD0_HIGH: u8 = 0x69;

pub(crate) const SMPLRT_DIV: u8 = 0x19;
/// CONFIG: EXT_SYNC_SET[5:3], DLPF_CFG[2:0]; on the 6500 also FIFO_MODE[6].
pub(crate) const CONFIG: u8 = 0x1A;
/// GYRO_CONFIG: FS_SEL[4:3] (6500: FCHOICE_B[1:0], kept 00).
pub(crate) const GYRO_CONFIG: u8 = 0x1B;
/// ACCEL_CONFIG: AFS_SEL[4:3].
pub(crate) const ACCEL_CONFIG: u8 = 0x1C;
/// ACCEL_CONFIG2, 6500 only: ACCEL_FCHOICE_B[3], A_DLPF_CFG[2:0] (RM-MPU-9250A-00 4.8).
pub(crate) const ACCEL_CONFIG2: u8 = 0x1D;
/// FIFO_EN: TEMP[7], XG[6], YG[5], ZG[4], ACCEL[3] (RM 4.6).
pub(crate) const FIFO_EN: u8 = 0x23;
/// INT_ENABLE: FIFO_OFLOW_EN[4], DATA_RDY_EN[0] (RM 4.15).
pub(crate) const INT_ENABLE: u8 = 0x38;
/// INT_STATUS: FIFO_OFLOW_INT[4], DATA_RDY_INT[0]; cleared by reading (RM 4.16).
pub(crate) const INT_STATUS: u8 = 0x3A;
/// ACCEL_XOUT_H: first of the 14 data registers (accel x/y/z, temperature, gyro x/y/z), all
/// big-endian two's complement. A burst read returns one sampling instant (RM 4.17-4.19).
pub(crate) const ACCEL_XOUT_H: u8 = 0x3B;
pub(crate) const DATA_LEN: usize = 14;
/// USER_CTRL: FIFO_EN[6], FIFO_RESET[2] (RM 4.29).
pub(crate) const USER_CTRL: u8 = 0x6A;
/// PWR_MGMT_1: DEVICE_RESET[7], SLEEP[6], CYCLE[5], TEMP_DIS[3], CLKSEL[2:0] (RM 4.28).
pub(crate) const PWR_MGMT_1: u8 = 0x6B;
/// FIFO_COUNT_H: read high byte first, it latches both (RM 4.30).
pub(crate) const FIFO_COUNT_H: u8 = 0x72;
/// FIFO_R_W: a burst read here returns successive FIFO bytes (RM 4.31).
pub(crate) const FIFO_R_W: u8 = 0x74;
pub(crate) const WHO_AM_I: u8 = 0x75;

pub(crate) const PWR_DEVICE_RESET: u8 = 1 << 7;
pub(crate) const PWR_SLEEP: u8 = 1 << 6;
/// CLKSEL = 1: PLL with the X gyroscope as reference, which the register map "highly
/// recommends" over the internal oscillator; on the 6500, 1 auto-selects the PLL when ready.
pub(crate) const PWR_CLKSEL_PLL: u8 = 0x01;

pub(crate) const USER_CTRL_FIFO_EN: u8 = 1 << 6;
pub(crate) const USER_CTRL_FIFO_RESET: u8 = 1 << 2;

pub(crate) const FIFO_EN_TEMP: u8 = 1 << 7;
/// XG, YG, ZG and ACCEL.
pub(crate) const FIFO_EN_ACCEL_GYRO: u8 = 0b0111_1000;

pub(crate) const INT_FIFO_OFLOW: u8 = 1 << 4;
pub(crate) const INT_DATA_RDY: u8 = 1 << 0;

/// WHO_AM_I of the MPU-6050 (and MPU-6000): the upper six bits of its I²C address (RM 4.32).
pub(crate) const ID_MPU6050: u8 = 0x68;
/// WHO_AM_I of the MPU-6500 (RM-MPU-6500A-00 section 3).
pub(crate) const ID_MPU6500: u8 = 0x70;
/// WHO_AM_I of the MPU-9250, whose accelerometer/gyroscope die is the MPU-6500's
/// (RM-MPU-9250A-00 4.38).
pub(crate) const ID_MPU9250: u8 = 0x71;
