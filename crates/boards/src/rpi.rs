//! The Raspberry Pi: I²C and SPI through rppal, by the Pi's own bus numbers (`i2c-1` is the
//! header's pins 3 and 5; `spi-0.0` is SPI0 with CE0).
//!
//! Outputs: a GPIO pin by its BCM number through rppal (taken as an output at its safe
//! state's level, so the load cannot glitch on); a hardware PWM channel (0 or 1; GPIO 12/18
//! and 13/19 with `dtoverlay=pwm-2chan`) through rppal's sysfs PWM; a PCA9685 on an I²C
//! bus, shared by the actuators on its channels. Pins and channels are left as they are
//! when the agent exits (rppal would reset them): the safe state the agent applied on its
//! way out is what the hardware keeps.

use rppal::gpio::Gpio;
use rppal::i2c::I2c;
use rppal::pwm::{Channel as PwmChannel, Polarity as PwmPolarity, Pwm};
use rppal::spi::{Bus, Mode, SimpleHalSpiDevice, SlaveSelect, Spi};

use crate::device_node::{check_access, SleepDelay};
use crate::output::pca9685::Pca9685Chips;
use crate::output::{self, actuator_error, NamedPin, OutputError};
use crate::{
    driver, ActuatorSpec, Board, BoardError, BusAddress, DynActuator, DynSensor, OutputSpec,
    ScanHit, SensorSpec,
};

/// SPI clock for the BME280/BMP280: well under their 10 MHz maximum, robust on jumper wires.
const SPI_CLOCK_HZ: u32 = 1_000_000;

/// A Raspberry Pi's buses and outputs.
#[derive(Debug, Default)]
pub struct RpiBoard {
    pca9685: Pca9685Chips<I2c>,
}

impl RpiBoard {
    /// The board (nothing is opened until a sensor, an output or a scan needs it).
    pub fn new() -> Self {
        Self::default()
    }
}

/// The fix for a GPIO or PWM that cannot be opened.
const GPIO_GROUP: &str = "add the user to the `gpio` group (`sudo usermod -aG gpio $USER`, \
                          then log in again)";

/// BCM pin `line` as an output at `high`.
fn open_gpio_pin(
    spec: &ActuatorSpec,
    line: u32,
    high: bool,
) -> Result<NamedPin<rppal::gpio::OutputPin>, BoardError> {
    let error = |problem: String| actuator_error(spec, format!("GPIO{line}: {problem}"));
    let pin_number = u8::try_from(line)
        .map_err(|_| error("no such pin (BCM numbers are 0..=27 on the header)".into()))?;
    let gpio = Gpio::new().map_err(|e| match e {
        rppal::gpio::Error::PermissionDenied(path) => {
            error(format!("permission denied opening {path}: {GPIO_GROUP}"))
        }
        other => error(other.to_string()),
    })?;
    let pin = gpio.get(pin_number).map_err(|e| match e {
        rppal::gpio::Error::PinUsed(_) => error(
            "already in use by another output or program (`pinctrl get` shows its mode)".into(),
        ),
        rppal::gpio::Error::PinNotAvailable(_) => {
            error("no such pin (BCM numbers are 0..=27 on the header)".into())
        }
        other => error(other.to_string()),
    })?;
    let mut pin = if high {
        pin.into_output_high()
    } else {
        pin.into_output_low()
    };
    pin.set_reset_on_drop(false);
    Ok(NamedPin::new(pin, format!("GPIO{line}")))
}

/// A hardware PWM channel as an embedded-hal `SetDutyCycle`: 65 535 steps of the period,
/// enabled by the first duty written (opening leaves it disabled).
#[derive(Debug)]
pub struct RpiPwm {
    pwm: Pwm,
    channel: u32,
    enabled: bool,
}

impl embedded_hal::pwm::ErrorType for RpiPwm {
    type Error = OutputError;
}

impl embedded_hal::pwm::SetDutyCycle for RpiPwm {
    fn max_duty_cycle(&self) -> u16 {
        u16::MAX
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), OutputError> {
        let channel = self.channel;
        let fail = |e: rppal::pwm::Error| OutputError(format!("PWM channel {channel}: {e}"));
        self.pwm
            .set_duty_cycle(f64::from(duty) / f64::from(u16::MAX))
            .map_err(fail)?;
        if !self.enabled {
            self.pwm.enable().map_err(fail)?;
            self.enabled = true;
        }
        Ok(())
    }
}

/// Hardware PWM channel `channel` at `frequency_hz`, disabled until its first duty.
fn open_pwm(spec: &ActuatorSpec, channel: u32, frequency_hz: f64) -> Result<RpiPwm, BoardError> {
    let overlay = "enable it with `dtoverlay=pwm` (channel 0 on GPIO 18) or \
                   `dtoverlay=pwm-2chan` (channels 0 and 1 on GPIO 18 and 19) in \
                   /boot/firmware/config.txt, then reboot";
    let error = |problem: String| actuator_error(spec, format!("PWM channel {channel}: {problem}"));
    let pwm_channel = match channel {
        0 => PwmChannel::Pwm0,
        1 => PwmChannel::Pwm1,
        2 => PwmChannel::Pwm2,
        3 => PwmChannel::Pwm3,
        _ => {
            return Err(error(
                "no such channel (the Pi has channels 0 and 1)".into(),
            ))
        }
    };
    let mut pwm = Pwm::with_frequency(pwm_channel, frequency_hz, 0.0, PwmPolarity::Normal, false)
        .map_err(|e| match e {
        rppal::pwm::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            error(format!("permission denied: {GPIO_GROUP}"))
        }
        rppal::pwm::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            error(format!("not available ({io}): {overlay}"))
        }
        rppal::pwm::Error::InvalidChannel => error(format!("not available: {overlay}")),
        other => error(other.to_string()),
    })?;
    pwm.set_reset_on_drop(false);
    Ok(RpiPwm {
        pwm,
        channel,
        enabled: false,
    })
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

    fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
        output::check(spec)?;
        match spec.output {
            OutputSpec::Gpio { line, .. } => {
                let high = output::safe_level_high(spec)?;
                output::gpio_output(spec, open_gpio_pin(spec, line, high)?)
            }
            OutputSpec::Pwm {
                channel,
                frequency_hz,
                ..
            } => {
                let period_ns = output::period_ns(spec, frequency_hz)?;
                output::pwm_output(spec, open_pwm(spec, channel, frequency_hz)?, period_ns)
            }
            OutputSpec::Pca9685 { bus, .. } => {
                let BusAddress::I2c { bus: number } = bus else {
                    return Err(actuator_error(
                        spec,
                        format!("a PCA9685 is an I²C chip; {bus} is an SPI bus"),
                    ));
                };
                let opened = self
                    .pca9685
                    .open(spec, || open_i2c(bus, number), &mut SleepDelay)?;
                output::pwm_output(spec, opened.channel, opened.period_ns)
            }
        }
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
