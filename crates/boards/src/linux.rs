//! Any embedded Linux board: I²C through `/dev/i2c-N` and SPI through `/dev/spidevB.C`
//! (linux-embedded-hal), each sensor with its own handle on the kernel's shared bus.
//!
//! Outputs: a GPIO line through the character device `/dev/gpiochipN` (gpio-cdev, requested
//! as an output with consumer `edgewise`, at its safe state's level so taking it cannot
//! glitch the load on); a PWM channel through sysfs ([`crate::output::sysfs_pwm`]); a
//! PCA9685 on `/dev/i2c-N`, shared by the actuators on its channels.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
use linux_embedded_hal::{CdevPin, I2cdev, SpidevDevice};

use crate::device_node::{bus_error, check_access, SleepDelay};
use crate::output::pca9685::Pca9685Chips;
use crate::output::sysfs_pwm::{SysfsPwm, SYSFS_PWM};
use crate::output::{self, actuator_error, NamedPin};
use crate::{
    driver, ActuatorSpec, Board, BoardError, BusAddress, DynActuator, DynSensor, OutputSpec,
    ScanHit, SensorSpec,
};

/// The consumer name the kernel shows for our lines (`gpioinfo`).
const GPIO_CONSUMER: &str = "edgewise";

/// SPI clock for the BME280/BMP280: well under their 10 MHz maximum, robust on jumper wires.
const SPI_CLOCK_HZ: u32 = 1_000_000;

/// A Linux board's kernel buses and outputs.
#[derive(Debug)]
pub struct LinuxBoard {
    pca9685: Pca9685Chips<I2cdev>,
    sysfs_pwm: PathBuf,
}

impl Default for LinuxBoard {
    fn default() -> Self {
        Self::new()
    }
}

impl LinuxBoard {
    /// The board (nothing is opened until a sensor, an output or a scan needs it).
    pub fn new() -> Self {
        Self::with_sysfs_pwm(Path::new(SYSFS_PWM))
    }

    /// The board with PWM chips under `root` instead of `/sys/class/pwm` (a directory laid
    /// out like the kernel's, for tests).
    pub fn with_sysfs_pwm(root: &Path) -> Self {
        Self {
            pca9685: Pca9685Chips::new(),
            sysfs_pwm: root.to_path_buf(),
        }
    }
}

/// The device node of a GPIO chip as a config names it: none is `/dev/gpiochip0`, a bare
/// name is under `/dev`, a path is itself.
pub fn gpio_chip_path(chip: Option<&str>) -> PathBuf {
    match chip {
        None => PathBuf::from("/dev/gpiochip0"),
        Some(name) if !name.contains('/') => Path::new("/dev").join(name),
        Some(path) => PathBuf::from(path),
    }
}

/// Line `line` of the GPIO chip at `path`, taken as an output at `high`.
fn open_gpio_line(
    spec: &ActuatorSpec,
    path: &Path,
    line: u32,
    high: bool,
) -> Result<NamedPin<CdevPin>, BoardError> {
    let shown = path.display();
    // Check access first: the cdev error for a missing node or permission is a bare errno.
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|error| {
            let problem = match error.kind() {
                io::ErrorKind::NotFound => format!(
                    "{shown} does not exist: no such GPIO chip (`ls /dev/gpiochip*` or \
                     `gpiodetect` lists the chips there are)"
                ),
                io::ErrorKind::PermissionDenied => format!(
                    "{shown}: permission denied: add the user to the `gpio` group (`sudo \
                     usermod -aG gpio $USER`, then log in again), or give the chip to a group \
                     with a udev rule (SUBSYSTEM==\"gpio\", GROUP=\"gpio\", MODE=\"0660\")"
                ),
                _ => format!("{shown}: {error}"),
            };
            actuator_error(spec, problem)
        })?;
    let mut chip =
        Chip::new(path).map_err(|error| actuator_error(spec, format!("{shown}: {error}")))?;
    if line >= chip.num_lines() {
        return Err(actuator_error(
            spec,
            format!(
                "{shown} has lines 0..={}; there is no line {line}",
                chip.num_lines().saturating_sub(1)
            ),
        ));
    }
    let handle = chip
        .get_line(line)
        .and_then(|gpio| gpio.request(LineRequestFlags::OUTPUT, u8::from(high), GPIO_CONSUMER))
        .map_err(|error| {
            let text = error.to_string();
            let problem = if text.contains("EBUSY") {
                format!(
                    "line {line} of {shown} is in use by another program (`gpioinfo` shows its \
                     consumer): {text}"
                )
            } else {
                format!("requesting line {line} of {shown} as an output: {text}")
            };
            actuator_error(spec, problem)
        })?;
    let pin = CdevPin::new(handle)
        .map_err(|error| actuator_error(spec, format!("line {line} of {shown}: {error}")))?;
    Ok(NamedPin::new(pin, format!("line {line} of {shown}")))
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

    fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
        output::check(spec)?;
        match &spec.output {
            OutputSpec::Gpio { chip, line, .. } => {
                let path = gpio_chip_path(chip.as_deref());
                let high = output::safe_level_high(spec)?;
                output::gpio_output(spec, open_gpio_line(spec, &path, *line, high)?)
            }
            OutputSpec::Pwm {
                chip,
                channel,
                frequency_hz,
            } => {
                let period_ns = output::period_ns(spec, *frequency_hz)?;
                let pwm = SysfsPwm::open(&self.sysfs_pwm, *chip, *channel, period_ns)
                    .map_err(|error| actuator_error(spec, error.0))?;
                output::pwm_output(spec, pwm, period_ns)
            }
            OutputSpec::Pca9685 { bus, .. } => {
                if !matches!(bus, BusAddress::I2c { .. }) {
                    return Err(actuator_error(
                        spec,
                        format!("a PCA9685 is an I²C chip; {bus} is an SPI bus"),
                    ));
                }
                let opened = self
                    .pca9685
                    .open(spec, || open_i2c(*bus), &mut SleepDelay)?;
                output::pwm_output(spec, opened.channel, opened.period_ns)
            }
        }
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
