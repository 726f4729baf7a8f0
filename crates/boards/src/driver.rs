//! From a config's driver name to a running `edgewise-sensors` driver behind [`DynSensor`].
//!
//! Written once, generic over the embedded-hal 1.0 bus and delay, so the simulated, Linux and
//! Raspberry Pi boards put exactly the same driver code on their buses. The defaults chosen
//! here are the ones a config cannot (yet) spell out:
//!
//! - BME280/BMP280: forced mode, ×1 oversampling, filter off (the datasheet's weather
//!   monitoring setting: the chip sleeps between readings);
//! - SHT3x/SHT4x: single shot, high repeatability (the chip idles between readings);
//! - ADS1115/ADS1015: single-shot conversions of the inputs the config asks for (all four
//!   single-ended inputs when it names none), ±4.096 V so a 3.3 V signal fits;
//! - INA219/INA226: the common breakout board's 0.1 Ω shunt, triggered conversions;
//! - MPU-6050/6500/9250: a sample rate that follows [`SensorSpec::interval`], ±2 g and
//!   ±250 °/s, the FIFO carrying accelerometer and gyroscope (and temperature when asked).

use std::fmt;
use std::time::Duration;

use edgewise_sensors::ads1x15::{self, Ads1x15, Chip, DataRate, FullScale, Input, Scan};
use edgewise_sensors::bme280::{self, Bme280};
use edgewise_sensors::ina219::{self, Ina219};
use edgewise_sensors::ina226::{self, Ina226};
use edgewise_sensors::mpu6050::{self, Dlpf, FifoFrame, Mpu6050};
use edgewise_sensors::sensor::{BufferedSensor, Sensor, SensorError};
use edgewise_sensors::sht::{Repeatability, Sht3x, Sht3xConfig, Sht4x, Sht4xConfig};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use embedded_hal::spi::SpiDevice;

use crate::{BoardError, Channel, DynBufferedSensor, DynSensor, Reading, SensorFault, SensorSpec};

/// The drivers this adapter can build, as a config names them.
pub const DRIVER_NAMES: &[&str] = &[
    "bme280", "bmp280", "sht3x", "sht4x", "ads1115", "ads1015", "ina219", "ina226", "mpu6050",
    "mpu6500", "mpu9250",
];

/// The address a driver's chip answers on when a config names none (the usual breakout's).
pub fn default_address(driver: &str) -> Option<u8> {
    Some(match driver {
        "bme280" | "bmp280" => bme280::ADDRESS_PRIMARY,
        "sht3x" => edgewise_sensors::sht::ADDRESS_SHT3X_LOW,
        "sht4x" => edgewise_sensors::sht::ADDRESS_SHT4X_A,
        "ads1115" | "ads1015" => ads1x15::ADDRESS_GND,
        "ina219" | "ina226" => ina219::Address::default().bits(),
        "mpu6050" | "mpu6500" | "mpu9250" => mpu6050::ADDRESS_AD0_LOW,
        _ => return None,
    })
}

/// Puts the driver `spec` names on an I²C bus and wraps it as a [`DynSensor`]. The chip is
/// not touched until [`DynSensor::init`].
pub fn open_i2c<I2C, D>(
    spec: &SensorSpec,
    i2c: I2C,
    delay: D,
) -> Result<Box<dyn DynSensor>, BoardError>
where
    I2C: I2c + Send + 'static,
    D: DelayNs + Send + 'static,
{
    let address = match spec.address.or_else(|| default_address(&spec.driver)) {
        Some(address) => address,
        None => return Err(unknown_driver(spec)),
    };
    let label = Label::new(spec, address);
    let sensor: Box<dyn DynSensor> = match spec.driver.as_str() {
        "bme280" | "bmp280" => {
            let driver =
                Bme280::with_i2c_address(i2c, address, bme280::Config::weather_monitoring());
            Box::new(Adapted::new(driver, delay, label))
        }
        "sht3x" => {
            let config = Sht3xConfig {
                repeatability: Repeatability::High,
                ..Sht3xConfig::default()
            };
            Box::new(Adapted::new(
                Sht3x::with_i2c_address(i2c, address, config),
                delay,
                label,
            ))
        }
        "sht4x" => {
            let config = Sht4xConfig {
                repeatability: Repeatability::High,
            };
            Box::new(Adapted::new(
                Sht4x::with_i2c_address(i2c, address, config),
                delay,
                label,
            ))
        }
        "ads1115" | "ads1015" => {
            let chip = if spec.driver == "ads1115" {
                Chip::Ads1115
            } else {
                Chip::Ads1015
            };
            let config = ads1x15::Config::single_shot(
                adc_inputs(spec)?,
                FullScale::V4_096,
                // The one rate both chips have that settles a 4-input scan within ~20 ms.
                DataRate::Sps250,
            );
            Box::new(Adapted::new(
                Ads1x15::new(i2c, chip, address, config),
                delay,
                label,
            ))
        }
        "ina219" => {
            let address = ina_address(spec, address)?;
            Box::new(Adapted::new(
                Ina219::new(i2c, address, ina219::Config::default()),
                delay,
                label,
            ))
        }
        "ina226" => {
            let address = ina_address(spec, address)?;
            Box::new(Adapted::new(
                Ina226::new(i2c, address, ina226::Config::default()),
                delay,
                label,
            ))
        }
        "mpu6050" | "mpu6500" | "mpu9250" => {
            let driver = Mpu6050::with_address(i2c, address, imu_config(spec));
            Box::new(Buffered(Adapted::new(driver, delay, label)))
        }
        _ => return Err(unknown_driver(spec)),
    };
    Ok(sensor)
}

/// Puts a BME280 or BMP280 on an SPI device (the only chips here with an SPI interface).
pub fn open_spi<SPI, D>(
    spec: &SensorSpec,
    spi: SPI,
    delay: D,
) -> Result<Box<dyn DynSensor>, BoardError>
where
    SPI: SpiDevice + Send + 'static,
    D: DelayNs + Send + 'static,
{
    match spec.driver.as_str() {
        "bme280" | "bmp280" => {
            let driver = Bme280::new_spi(spi, bme280::Config::weather_monitoring());
            let label = Label {
                chip: chip_name(&spec.driver),
                place: format!("`{}` on {}", spec.name, spec.bus),
            };
            Ok(Box::new(Adapted::new(driver, delay, label)))
        }
        _ if DRIVER_NAMES.contains(&spec.driver.as_str()) => Err(BoardError::Unsupported {
            sensor: spec.name.clone(),
            problem: format!(
                "the {} speaks I²C only; put it on an `i2c-N` bus",
                chip_name(&spec.driver)
            ),
        }),
        _ => Err(unknown_driver(spec)),
    }
}

fn unknown_driver(spec: &SensorSpec) -> BoardError {
    BoardError::Unsupported {
        sensor: spec.name.clone(),
        problem: format!(
            "unknown driver `{}` (known: {})",
            spec.driver,
            DRIVER_NAMES.join(", ")
        ),
    }
}

/// The chip's name as its datasheet spells it, for messages.
fn chip_name(driver: &str) -> &'static str {
    match driver {
        "bme280" => "BME280",
        "bmp280" => "BMP280",
        "sht3x" => "SHT3x",
        "sht4x" => "SHT4x",
        "ads1115" => "ADS1115",
        "ads1015" => "ADS1015",
        "ina219" => "INA219",
        "ina226" => "INA226",
        "mpu6050" => "MPU-6050",
        "mpu6500" => "MPU-6500",
        "mpu9250" => "MPU-9250",
        _ => "sensor",
    }
}

fn ina_address(spec: &SensorSpec, address: u8) -> Result<ina219::Address, BoardError> {
    ina219::Address::from_bits(address).ok_or_else(|| BoardError::Unsupported {
        sensor: spec.name.clone(),
        problem: format!(
            "the {} answers on 0x40..=0x4F only, not 0x{address:02X}",
            chip_name(&spec.driver)
        ),
    })
}

/// The ADC inputs the config's channels name, in the config's order; all four single-ended
/// inputs when it names none.
fn adc_inputs(spec: &SensorSpec) -> Result<Scan, BoardError> {
    if spec.channels.is_empty() {
        return Ok(Scan::single_ended());
    }
    let mut inputs = Vec::with_capacity(spec.channels.len());
    for channel in &spec.channels {
        let input = Input::ALL
            .into_iter()
            .find(|input| input.name() == channel)
            .ok_or_else(|| BoardError::Unsupported {
                sensor: spec.name.clone(),
                problem: format!("the {} has no input `{channel}`", chip_name(&spec.driver)),
            })?;
        if !inputs.contains(&input) {
            inputs.push(input);
        }
    }
    Scan::new(&inputs).ok_or_else(|| BoardError::Unsupported {
        sensor: spec.name.clone(),
        problem: format!(
            "one reading converts at most {} inputs, the config asks for {}",
            ads1x15::MAX_INPUTS,
            inputs.len()
        ),
    })
}

/// The IMU configuration for `spec`: the sample rate nearest to 1 / interval the chip can do
/// (1 kHz / (1 + divider) with the 184 Hz filter, 8 kHz / (1 + divider) below 1 ms).
fn imu_config(spec: &SensorSpec) -> mpu6050::Config {
    let base = mpu6050::Config::vibration_1khz();
    let interval_ns = spec.interval.as_nanos().max(1);
    let (dlpf, tick_ns) = if interval_ns < 1_000_000 {
        (Dlpf::Off, 125_000u128)
    } else {
        (Dlpf::Hz184, 1_000_000u128)
    };
    let ticks = ((interval_ns + tick_ns / 2) / tick_ns).clamp(1, 256);
    let wants_temperature = spec.channels.iter().any(|c| c == "temperature");
    mpu6050::Config {
        dlpf,
        sample_rate_divider: u8::try_from(ticks - 1).unwrap_or(u8::MAX),
        fifo_frame: if wants_temperature {
            FifoFrame::AccelTempGyro
        } else {
            FifoFrame::AccelGyro
        },
        ..base
    }
}

/// Which sensor a fault message is about: the chip and where it sits.
#[derive(Debug, Clone)]
struct Label {
    chip: &'static str,
    place: String,
}

impl Label {
    fn new(spec: &SensorSpec, address: u8) -> Self {
        Self {
            chip: chip_name(&spec.driver),
            place: format!("`{}` on {} at 0x{address:02X}", spec.name, spec.bus),
        }
    }

    fn fault(&self, error: &impl SensorError) -> SensorFault {
        SensorFault {
            kind: error.kind(),
            message: format!("{} {}: {error}", self.chip, self.place),
        }
    }
}

/// A blocking driver with the delay it waits on.
struct Adapted<S, D> {
    sensor: S,
    delay: D,
    label: Label,
}

impl<S, D> Adapted<S, D> {
    fn new(sensor: S, delay: D, label: Label) -> Self {
        Self {
            sensor,
            delay,
            label,
        }
    }
}

impl<S, D> fmt::Debug for Adapted<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adapted")
            .field("chip", &self.label.chip)
            .field("place", &self.label.place)
            .finish_non_exhaustive()
    }
}

impl<S, D> DynSensor for Adapted<S, D>
where
    S: Sensor + Send,
    D: DelayNs + Send,
{
    fn channels(&self) -> &[Channel] {
        self.sensor.channels()
    }

    fn min_interval(&self) -> Duration {
        self.sensor.min_interval()
    }

    fn init(&mut self) -> Result<(), SensorFault> {
        self.sensor
            .init(&mut self.delay)
            .map_err(|e| self.label.fault(&e))
    }

    fn read(&mut self) -> Result<Reading, SensorFault> {
        self.sensor
            .read(&mut self.delay)
            .map_err(|e| self.label.fault(&e))
    }

    fn power_down(&mut self) -> Result<(), SensorFault> {
        self.sensor.power_down().map_err(|e| self.label.fault(&e))
    }

    fn as_buffered(&mut self) -> Option<&mut dyn DynBufferedSensor> {
        None
    }
}

/// A driver whose chip buffers samples in a FIFO.
#[derive(Debug)]
struct Buffered<S, D>(Adapted<S, D>);

impl<S, D> DynSensor for Buffered<S, D>
where
    S: BufferedSensor + Send,
    D: DelayNs + Send,
{
    fn channels(&self) -> &[Channel] {
        self.0.channels()
    }

    fn min_interval(&self) -> Duration {
        self.0.min_interval()
    }

    fn init(&mut self) -> Result<(), SensorFault> {
        self.0.init()
    }

    fn read(&mut self) -> Result<Reading, SensorFault> {
        self.0.read()
    }

    fn power_down(&mut self) -> Result<(), SensorFault> {
        self.0.power_down()
    }

    fn as_buffered(&mut self) -> Option<&mut dyn DynBufferedSensor> {
        Some(self)
    }
}

impl<S, D> DynBufferedSensor for Buffered<S, D>
where
    S: BufferedSensor + Send,
    D: DelayNs + Send,
{
    fn buffered_channels(&self) -> &[Channel] {
        self.0.sensor.buffered_channels()
    }

    fn max_drain_interval(&self) -> Duration {
        self.0.sensor.max_drain_interval()
    }

    fn start_buffering(&mut self, now: Duration) -> Result<(), SensorFault> {
        let Adapted { sensor, label, .. } = &mut self.0;
        sensor.start_buffering(now).map_err(|e| label.fault(&e))
    }

    fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, SensorFault> {
        let Adapted { sensor, label, .. } = &mut self.0;
        sensor.drain(now, out).map_err(|e| label.fault(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BusAddress;

    fn spec(driver: &str, channels: &[&str], interval: Duration) -> SensorSpec {
        SensorSpec {
            name: "s".into(),
            driver: driver.into(),
            bus: BusAddress::I2c { bus: 1 },
            address: None,
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            interval,
        }
    }

    #[test]
    fn imu_rate_follows_the_interval() {
        // RM-MPU-6000A 4.2: rate = 1 kHz / (1 + SMPLRT_DIV) with the DLPF on.
        let c = imu_config(&spec("mpu6050", &[], Duration::from_millis(1)));
        assert_eq!(c.sample_period_ns(), 1_000_000);
        let c = imu_config(&spec("mpu6050", &[], Duration::from_millis(10)));
        assert_eq!(c.sample_period_ns(), 10_000_000);
        assert_eq!(c.fifo_frame, FifoFrame::AccelGyro);
        // 8 kHz with the filter off, for intervals under 1 ms.
        let c = imu_config(&spec(
            "mpu6050",
            &["temperature"],
            Duration::from_micros(250),
        ));
        assert_eq!(c.sample_period_ns(), 250_000);
        assert_eq!(c.fifo_frame, FifoFrame::AccelTempGyro);
        // Slower than the chip can go: its slowest rate, 1 kHz / 256.
        let c = imu_config(&spec("mpu6050", &[], Duration::from_secs(1)));
        assert_eq!(c.sample_period_ns(), 256_000_000);
    }

    #[test]
    fn adc_inputs_follow_the_channels() {
        let s = spec("ads1115", &["ain2", "ain0_ain1"], Duration::from_secs(1));
        assert_eq!(
            adc_inputs(&s).map(|scan| scan.inputs().to_vec()),
            Ok(vec![Input::Ain2, Input::Ain0Ain1])
        );
        let s = spec("ads1115", &["ain7"], Duration::from_secs(1));
        assert_eq!(
            adc_inputs(&s).map(|_| ()),
            Err(BoardError::Unsupported {
                sensor: "s".into(),
                problem: "the ADS1115 has no input `ain7`".into()
            })
        );
    }
}
