//! The Raspberry Pi: I²C and SPI through rppal, by the Pi's own bus numbers (`i2c-1` is the
//! header's pins 3 and 5; `spi-0.0` is SPI0 with CE0).

use rppal::i2c::I2c;
use rppal::spi::{Bus, Mode, SimpleHalSpiDevice, SlaveSelect, Spi};

use crate::device_node::{check_access, SleepDelay};
use crate::{driver, Board, BoardError, BusAddress, DynSensor, ScanHit, SensorSpec};

/// SPI clock for the BME280/BMP280: well under their 10 MHz maximum, robust on jumper wires.
const SPI_CLOCK_HZ: u32 = 1_000_000;

/// A Raspberry Pi's buses.
#[derive(Debug, Default)]
pub struct RpiBoard;

impl RpiBoard {
    /// The board (nothing is opened until a sensor or a scan needs a bus).
    pub fn new() -> Self {
        Self
    }
}

fn open_i2c(bus: BusAddress, number: u8) -> Result<I2c, BoardError> {
    check_access(bus)?;
    I2c::with_bus(number).map_err(|error| BoardError::Bus {
        bus,
        problem: format!("{}: {error}", bus.device_path()),
    })
}

fn open_spi(
    bus: BusAddress,
    number: u8,
    chip_select: u8,
) -> Result<SimpleHalSpiDevice, BoardError> {
    let unsupported = || BoardError::Bus {
        bus,
        problem: format!("the Raspberry Pi has no SPI bus {number} with chip select {chip_select}"),
    };
    let spi_bus = match number {
        0 => Bus::Spi0,
        1 => Bus::Spi1,
        2 => Bus::Spi2,
        3 => Bus::Spi3,
        4 => Bus::Spi4,
        5 => Bus::Spi5,
        6 => Bus::Spi6,
        _ => return Err(unsupported()),
    };
    let slave_select = match chip_select {
        0 => SlaveSelect::Ss0,
        1 => SlaveSelect::Ss1,
        2 => SlaveSelect::Ss2,
        _ => return Err(unsupported()),
    };
    check_access(bus)?;
    let spi = Spi::new(spi_bus, slave_select, SPI_CLOCK_HZ, Mode::Mode0).map_err(|error| {
        BoardError::Bus {
            bus,
            problem: format!("{}: {error}", bus.device_path()),
        }
    })?;
    Ok(SimpleHalSpiDevice::new(spi))
}

impl Board for RpiBoard {
    fn name(&self) -> &'static str {
        "rpi"
    }

    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
        match spec.bus {
            BusAddress::I2c { bus } => driver::open_i2c(spec, open_i2c(spec.bus, bus)?, SleepDelay),
            BusAddress::Spi { bus, chip_select } => {
                driver::open_spi(spec, open_spi(spec.bus, bus, chip_select)?, SleepDelay)
            }
        }
    }

    fn open_actuator(
        &self,
        spec: &crate::ActuatorSpec,
    ) -> Result<Box<dyn crate::DynActuator>, BoardError> {
        Err(BoardError::Unsupported {
            sensor: spec.name.clone(),
            problem: "outputs are not mapped on the rpi board yet".to_string(),
        })
    }

    fn scan(&self, bus: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
        match bus {
            BusAddress::I2c { bus: number } => Ok(crate::scan::scan(
                &mut open_i2c(bus, number)?,
                &mut SleepDelay,
            )),
            BusAddress::Spi { .. } => Err(BoardError::Bus {
                bus,
                problem: "only I²C buses can be scanned (SPI has no addresses)".into(),
            }),
        }
    }
}
