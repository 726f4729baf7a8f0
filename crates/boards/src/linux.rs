//! Any embedded Linux board: I²C through `/dev/i2c-N` and SPI through `/dev/spidevB.C`
//! (linux-embedded-hal), each sensor with its own handle on the kernel's shared bus.

use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
use linux_embedded_hal::{I2cdev, SpidevDevice};

use crate::device_node::{bus_error, check_access, SleepDelay};
use crate::{driver, Board, BoardError, BusAddress, DynSensor, ScanHit, SensorSpec};

/// SPI clock for the BME280/BMP280: well under their 10 MHz maximum, robust on jumper wires.
const SPI_CLOCK_HZ: u32 = 1_000_000;

/// A Linux board's kernel buses.
#[derive(Debug, Default)]
pub struct LinuxBoard;

impl LinuxBoard {
    /// The board (nothing is opened until a sensor or a scan needs a bus).
    pub fn new() -> Self {
        Self
    }
}

/// Opens `/dev/i2c-N`.
fn open_i2c(bus: BusAddress) -> Result<I2cdev, BoardError> {
    check_access(bus)?;
    I2cdev::new(bus.device_path()).map_err(|error| BoardError::Bus {
        bus,
        problem: format!("{}: {error}", bus.device_path()),
    })
}

/// Opens `/dev/spidevB.C` in SPI mode 0 (the BME280 takes mode 0 or 3).
fn open_spi(bus: BusAddress) -> Result<SpidevDevice, BoardError> {
    check_access(bus)?;
    let mut device = SpidevDevice::open(bus.device_path()).map_err(|error| BoardError::Bus {
        bus,
        problem: format!("{}: {error}", bus.device_path()),
    })?;
    let options = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(SPI_CLOCK_HZ)
        .mode(SpiModeFlags::SPI_MODE_0)
        .build();
    device
        .configure(&options)
        .map_err(|error| bus_error(bus, &error))?;
    Ok(device)
}

impl Board for LinuxBoard {
    fn name(&self) -> &'static str {
        "linux"
    }

    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
        match spec.bus {
            BusAddress::I2c { .. } => driver::open_i2c(spec, open_i2c(spec.bus)?, SleepDelay),
            BusAddress::Spi { .. } => driver::open_spi(spec, open_spi(spec.bus)?, SleepDelay),
        }
    }

    fn open_actuator(
        &self,
        spec: &crate::ActuatorSpec,
    ) -> Result<Box<dyn crate::DynActuator>, BoardError> {
        Err(BoardError::Unsupported {
            sensor: spec.name.clone(),
            problem: "outputs are not mapped on the linux board yet".to_string(),
        })
    }

    fn scan(&self, bus: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
        match bus {
            BusAddress::I2c { .. } => Ok(crate::scan::scan(&mut open_i2c(bus)?, &mut SleepDelay)),
            BusAddress::Spi { .. } => Err(BoardError::Bus {
                bus,
                problem: "only I²C buses can be scanned (SPI has no addresses)".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_bus_names_its_device_node() {
        let board = LinuxBoard::new();
        let bus = BusAddress::I2c { bus: 99 };
        let Err(BoardError::Bus {
            bus: reported,
            problem,
        }) = board.scan(bus)
        else {
            panic!("scanning a missing bus must fail with a bus error");
        };
        assert_eq!(reported, bus);
        assert!(
            problem.starts_with("/dev/i2c-99 does not exist: the I²C bus is not enabled"),
            "{problem}"
        );
        let spec = SensorSpec {
            name: "room".into(),
            driver: "bme280".into(),
            bus,
            address: None,
            channels: Vec::new(),
            interval: std::time::Duration::from_secs(1),
        };
        let Err(error) = board.open_sensor(&spec) else {
            panic!("opening a sensor on a missing bus must fail");
        };
        assert!(
            error
                .to_string()
                .starts_with("i2c-99: /dev/i2c-99 does not exist"),
            "{error}"
        );
    }
}
