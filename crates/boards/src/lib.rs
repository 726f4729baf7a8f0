#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::time::Duration;

pub use edgewise_sensors::sensor::{Channel, ErrorKind, Reading};

pub mod actuator;
pub use actuator::{ActuatorFault, ActuatorSpec, DynActuator, OutputSpec, ServoSpec};

#[cfg(any(feature = "linux", feature = "rpi"))]
mod device_node;
pub mod driver;
#[cfg(feature = "linux")]
pub mod linux;
pub mod output;
#[cfg(feature = "rpi")]
pub mod rpi;
pub mod scan;
#[cfg(feature = "sim")]
pub mod sim;

/// A bus as a config names it: `i2c-1`, `spi-0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusAddress {
    /// I²C bus `bus` (`/dev/i2c-<bus>`, rppal's bus number).
    I2c {
        /// The bus number.
        bus: u8,
    },
    /// SPI bus `bus`, chip select `chip_select` (`/dev/spidev<bus>.<chip_select>`).
    Spi {
        /// The bus number.
        bus: u8,
        /// The chip-select line.
        chip_select: u8,
    },
}

impl fmt::Display for BusAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::I2c { bus } => write!(f, "i2c-{bus}"),
            Self::Spi { bus, chip_select } => write!(f, "spi-{bus}.{chip_select}"),
        }
    }
}

/// What to open: one sensor of a checked config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorSpec {
    /// The sensor's name in the config (for messages).
    pub name: String,
    /// The driver: `bme280`, `mpu6050`, … (the config checker's driver table).
    pub driver: String,
    /// The bus it is on.
    pub bus: BusAddress,
    /// The I²C address (ignored on SPI); `None`: the driver's usual one.
    pub address: Option<u8>,
    /// The channels the config wants; a board may configure the chip to measure only these
    /// (a FIFO that buffers accelerometer axes only), but may also report more.
    pub channels: Vec<String>,
    /// The sampling interval: for a buffering chip, its sample period.
    pub interval: Duration,
}

/// A failed sensor operation: the driver's error kind (which decides retry or discard) and
/// its message, which names the chip and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorFault {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// In words.
    pub message: String,
}

impl fmt::Display for SensorFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SensorFault {}

/// One opened sensor, any chip on any board. Calls block (bus transfers, the chip's
/// conversion time): the orchestrator makes them off its async workers.
pub trait DynSensor: Send {
    /// The channels of a reading, in order (valid after a successful `init`).
    fn channels(&self) -> &[Channel];

    /// The shortest interval between two readings the chip supports as configured.
    fn min_interval(&self) -> Duration;

    /// Identifies the chip and configures it; also recovers a chip that was reset.
    fn init(&mut self) -> Result<(), SensorFault>;

    /// Takes one reading (a forced measurement where the chip has one), waiting no longer
    /// than the chip needs.
    fn read(&mut self) -> Result<Reading, SensorFault>;

    /// Puts the chip in its lowest-power state between readings.
    fn power_down(&mut self) -> Result<(), SensorFault>;

    /// For a chip that buffers samples in a FIFO: its buffered interface.
    fn as_buffered(&mut self) -> Option<&mut dyn DynBufferedSensor>;
}

/// A sensor that buffers samples in a FIFO at its own rate.
pub trait DynBufferedSensor: Send {
    /// The channels of a buffered sample, in order.
    fn buffered_channels(&self) -> &[Channel];

    /// The longest time between drains before the FIFO can overflow.
    fn max_drain_interval(&self) -> Duration;

    /// Empties the FIFO and starts filling it; `now` is the caller's monotonic clock.
    fn start_buffering(&mut self, now: Duration) -> Result<(), SensorFault>;

    /// Moves buffered samples into `out`, oldest first; returns how many. After an overflow
    /// the fault's kind is [`ErrorKind::DataLost`] and buffering restarts.
    fn drain(&mut self, now: Duration, out: &mut [Reading]) -> Result<usize, SensorFault>;
}

/// An address that answered on a bus scan, and the chip recognised there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanHit {
    /// The 7-bit I²C address.
    pub address: u8,
    /// The chip recognised by its chip-id register, if any (`"bme280"`, `"mpu6050"`).
    pub chip: Option<&'static str>,
}

/// Where the sensors are: opens buses and puts drivers on them.
pub trait Board: Send + Sync {
    /// The name a config uses (`sim`, `linux`, `rpi`).
    fn name(&self) -> &'static str;

    /// Opens the sensor `spec` describes (not yet initialised: the caller calls
    /// [`DynSensor::init`] and retries it with back-off).
    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError>;

    /// Opens the output `spec` describes and configures it (a PWM frequency, a GPIO line
    /// as an output) without setting it: the caller applies the safe state next.
    fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError>;

    /// Lists the addresses that acknowledge on an I²C bus, with the chips recognised there.
    fn scan(&self, bus: BusAddress) -> Result<Vec<ScanHit>, BoardError>;
}

/// Options for the simulated board.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimOptions {
    /// The seed of every simulated signal's noise, so runs repeat.
    pub seed: u64,
    /// A fault that develops in the simulated machine the vibration sensor sits on.
    pub machine_fault: Option<SimMachineFault>,
    /// Where the outputs' changes are appended as JSON lines (wall-clock time, output,
    /// state); the file also models latching hardware: an output opened again starts in the
    /// state its last line records.
    pub outputs_log: Option<std::path::PathBuf>,
}

/// A mechanical fault the simulated machine develops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimMachineFault {
    /// Which fault.
    pub kind: SimFaultKind,
    /// When it starts, counted from the board's creation.
    pub onset: Duration,
}

/// The faults the simulated machine can develop (edgewise-devsim's `MechanicalFault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFaultKind {
    /// A spall on a bearing's outer race: impacts at the ball-pass frequency.
    OuterRaceDefect,
    /// A rotor's imbalance growing: the 1× amplitude rises.
    ImbalanceGrowth,
}

/// Which board to open and its options.
#[derive(Debug, Clone, PartialEq)]
pub enum BoardChoice {
    /// Simulated chips.
    Sim(SimOptions),
    /// Any embedded Linux board.
    Linux,
    /// A Raspberry Pi.
    Rpi,
}

impl BoardChoice {
    /// The name a config uses.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sim(_) => "sim",
            Self::Linux => "linux",
            Self::Rpi => "rpi",
        }
    }

    /// The cargo feature of the `edgewise` binary that builds this board in.
    pub fn feature(&self) -> &'static str {
        match self {
            Self::Sim(_) => "board-sim",
            Self::Linux => "board-linux",
            Self::Rpi => "board-rpi",
        }
    }
}

/// Why a board or a sensor on it could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    /// The binary was built without this board.
    #[error(
        "this edgewise binary was built without the `{board}` board; rebuild it with \
         `--features {feature}` (e.g. `cargo build --release -p edgewise --features {feature}`)"
    )]
    NotBuilt {
        /// The board's name.
        board: &'static str,
        /// The `edgewise` feature that builds it in.
        feature: &'static str,
    },
    /// A bus could not be opened (a missing device node, no permission).
    #[error("{bus}: {problem}")]
    Bus {
        /// The bus.
        bus: BusAddress,
        /// What went wrong, with the device path.
        problem: String,
    },
    /// An output could not be opened or configured (a missing GPIO chip, an unexported PWM
    /// channel, a PCA9685 asked for two frequencies).
    #[error("actuator `{actuator}`: {problem}")]
    Actuator {
        /// The actuator's name in the config.
        actuator: String,
        /// What went wrong, with the path or pin and the likely fix.
        problem: String,
    },
    /// The board cannot put this driver on this bus.
    #[error("sensor `{sensor}`: {problem}")]
    Unsupported {
        /// The sensor.
        sensor: String,
        /// Why.
        problem: String,
    },
}

impl BusAddress {
    /// Parses a bus as a config or the command line names it: `i2c-1`, `/dev/i2c-1`,
    /// `spi-0.1`, `/dev/spidev0.1`.
    pub fn parse(text: &str) -> Option<Self> {
        let name = text.strip_prefix("/dev/").unwrap_or(text);
        if let Some(bus) = name.strip_prefix("i2c-") {
            return bus.parse().ok().map(|bus| Self::I2c { bus });
        }
        let spi = name
            .strip_prefix("spidev")
            .or_else(|| name.strip_prefix("spi-"))?;
        let (bus, chip_select) = spi.split_once('.')?;
        Some(Self::Spi {
            bus: bus.parse().ok()?,
            chip_select: chip_select.parse().ok()?,
        })
    }

    /// The Linux device node of this bus: `/dev/i2c-1`, `/dev/spidev0.1`.
    pub fn device_path(&self) -> String {
        match self {
            Self::I2c { bus } => format!("/dev/i2c-{bus}"),
            Self::Spi { bus, chip_select } => format!("/dev/spidev{bus}.{chip_select}"),
        }
    }
}

/// Opens the board `choice` names, or says which feature builds it in.
pub fn open(choice: &BoardChoice) -> Result<Box<dyn Board>, BoardError> {
    #[cfg_attr(
        all(feature = "sim", feature = "linux", feature = "rpi"),
        allow(unused_variables)
    )]
    let not_built = || BoardError::NotBuilt {
        board: choice.name(),
        feature: choice.feature(),
    };
    match choice {
        #[cfg(feature = "sim")]
        BoardChoice::Sim(options) => Ok(Box::new(sim::SimBoard::new(options.clone()))),
        #[cfg(not(feature = "sim"))]
        BoardChoice::Sim(_) => Err(not_built()),
        #[cfg(feature = "linux")]
        BoardChoice::Linux => Ok(Box::new(linux::LinuxBoard::new())),
        #[cfg(not(feature = "linux"))]
        BoardChoice::Linux => Err(not_built()),
        #[cfg(feature = "rpi")]
        BoardChoice::Rpi => Ok(Box::new(rpi::RpiBoard::new())),
        #[cfg(not(feature = "rpi"))]
        BoardChoice::Rpi => Err(not_built()),
    }
}
