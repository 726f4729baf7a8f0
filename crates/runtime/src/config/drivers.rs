//! What the config checker knows about each driver in `edgewise-sensors`: the names a config
//! uses for it, its channels, the addresses the chip can answer on and the buses it speaks.
//!
//! The channel names are the drivers' own (`SensorInfo::channels`), so a pipeline or rule
//! naming a channel here names the same field the reading will carry.

/// The buses a chip speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interfaces {
    /// I²C only.
    I2c,
    /// I²C or SPI.
    I2cOrSpi,
}

/// One driver as a config names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverInfo {
    /// The name in `driver = "…"`.
    pub name: &'static str,
    /// What it is, for summaries.
    pub description: &'static str,
    /// Every channel a reading can carry, in the driver's order.
    pub channels: &'static [&'static str],
    /// The I²C addresses the chip can be strapped to; the first is the usual breakout default.
    pub addresses: &'static [u8],
    /// The buses it speaks.
    pub interfaces: Interfaces,
    /// Whether the `sim` board can simulate it on an SPI bus (devsim's SPI models).
    pub simulated_on_spi: bool,
    /// Whether the chip buffers samples in a FIFO (so high rates are read in bursts).
    pub buffered: bool,
}

const ENVIRONMENT: &[&str] = &["temperature", "pressure", "humidity"];
const TEMPERATURE_HUMIDITY: &[&str] = &["temperature", "humidity"];
const POWER: &[&str] = &["bus_voltage", "shunt_voltage", "current", "power"];
const ADC: &[&str] = &[
    "ain0",
    "ain1",
    "ain2",
    "ain3",
    "ain0_ain1",
    "ain0_ain3",
    "ain1_ain3",
    "ain2_ain3",
];
const IMU: &[&str] = &[
    "accel_x",
    "accel_y",
    "accel_z",
    "gyro_x",
    "gyro_y",
    "gyro_z",
    "temperature",
];
const INA_ADDRESSES: &[u8] = &[
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
];

const fn i2c(
    name: &'static str,
    description: &'static str,
    channels: &'static [&'static str],
    addresses: &'static [u8],
) -> DriverInfo {
    DriverInfo {
        name,
        description,
        channels,
        addresses,
        interfaces: Interfaces::I2c,
        simulated_on_spi: false,
        buffered: false,
    }
}

/// Every driver a config can name.
pub const DRIVERS: &[DriverInfo] = &[
    DriverInfo {
        interfaces: Interfaces::I2cOrSpi,
        simulated_on_spi: true,
        ..i2c(
            "bme280",
            "Bosch BME280 temperature, pressure and humidity",
            ENVIRONMENT,
            &[0x76, 0x77],
        )
    },
    DriverInfo {
        interfaces: Interfaces::I2cOrSpi,
        simulated_on_spi: true,
        ..i2c(
            "bmp280",
            "Bosch BMP280 temperature and pressure",
            &["temperature", "pressure"],
            &[0x76, 0x77],
        )
    },
    i2c(
        "sht3x",
        "Sensirion SHT3x temperature and humidity",
        TEMPERATURE_HUMIDITY,
        &[0x44, 0x45],
    ),
    i2c(
        "sht4x",
        "Sensirion SHT4x temperature and humidity",
        TEMPERATURE_HUMIDITY,
        &[0x44, 0x45, 0x46],
    ),
    i2c(
        "ads1115",
        "TI ADS1115 16-bit ADC",
        ADC,
        &[0x48, 0x49, 0x4A, 0x4B],
    ),
    i2c(
        "ads1015",
        "TI ADS1015 12-bit ADC",
        ADC,
        &[0x48, 0x49, 0x4A, 0x4B],
    ),
    i2c(
        "ina219",
        "TI INA219 current and power monitor",
        POWER,
        INA_ADDRESSES,
    ),
    i2c(
        "ina226",
        "TI INA226 current and power monitor",
        POWER,
        INA_ADDRESSES,
    ),
    DriverInfo {
        buffered: true,
        ..i2c(
            "mpu6050",
            "InvenSense MPU-6050 6-axis IMU",
            IMU,
            &[0x68, 0x69],
        )
    },
    DriverInfo {
        buffered: true,
        ..i2c(
            "mpu6500",
            "InvenSense MPU-6500 6-axis IMU",
            IMU,
            &[0x68, 0x69],
        )
    },
    DriverInfo {
        buffered: true,
        ..i2c(
            "mpu9250",
            "InvenSense MPU-9250 IMU (accelerometer and gyroscope)",
            IMU,
            &[0x68, 0x69],
        )
    },
];

/// The driver called `name`.
pub fn driver(name: &str) -> Option<&'static DriverInfo> {
    DRIVERS.iter().find(|d| d.name == name)
}

/// The names of every driver, for "expected one of" messages.
pub fn driver_names() -> impl Iterator<Item = &'static str> {
    DRIVERS.iter().map(|d| d.name)
}
