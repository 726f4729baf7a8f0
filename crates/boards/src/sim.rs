//! The simulated board: devsim chips on virtual buses, on the real clock.
//!
//! The board "wires" what the config asks for: opening a sensor attaches a register-level
//! devsim model of that chip at that address (one [`SimI2cBus`] per bus number, one
//! [`SimSpiDevice`] per chip select) and puts the same driver on it that a real board would.
//! Time is the wall clock ([`SimClock::real`]) and delays really sleep, so the agent runs at
//! real speed and its sleep/wake behaviour is the real one.
//!
//! The signals are slowly varying and plausible:
//! - BME280/BMP280 and SHT3x/SHT4x: a room whose temperature swings ±1.5 °C around 21.5 °C
//!   over 30 minutes, humidity moving the other way, pressure drifting by ±150 Pa;
//! - ADS1115/ADS1015: a potentiometer slowly turned on AIN0, a 3.3 V rail through a 1:2
//!   divider on AIN1, a thermistor divider on AIN2, a slow sine on AIN3;
//! - INA219/INA226: a 5 V device drawing 80 mA idle and 250 mA while active, 2 s in every 10;
//! - MPU-6050/6500/9250: bolted to a running 4-pole motor (devsim's `MachineVibration`), with
//!   [`SimOptions::machine_fault`] developing at its onset.
//!
//! [`SimOptions::seed`] seeds every chip's noise (mixed with its bus and address, so two
//! chips do not share a noise sequence), so runs repeat.
//!
//! Bus 1 also carries a default population, found by a scan before any sensor is opened:
//! BME280 at 0x76, MPU-6050 at 0x68, SHT3x at 0x44, INA219 at 0x40, ADS1115 at 0x48.
//!
//! Outputs: a GPIO line is a devsim [`SimOutputPin`], a PWM channel a [`SimPwmChannel`],
//! both named after their actuator; a PCA9685 channel attaches a devsim [`Pca9685Model`] at
//! its address (a scan finds it) and runs the real driver on it. Every change of every
//! output is on one timeline ([`SimBoard::outputs`]): the electrical value (a pin's level,
//! after polarity; a channel's duty), stamped with the clock. With
//! [`SimOptions::outputs_log`] each change of an output's logical state is also appended to
//! that file (see `outputs_log`), and an output opened again starts in the state the file
//! last recorded, as a latching relay would after its agent was killed.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use edgewise_devsim::ads1x15::{Ads1x15Model, AnalogInput};
use edgewise_devsim::bme280::{Bme280Model, Environment, Signal as EnvironmentSignal};
use edgewise_devsim::ina219::{Ina219Model, Load, Waveform};
use edgewise_devsim::ina226::Ina226Model;
use edgewise_devsim::mpu6050::{Mpu6050Model, Variant as ImuVariant};
use edgewise_devsim::output::{OutputTimeline, SimOutputPin, SimPwmChannel};
use edgewise_devsim::pca9685::Pca9685Model;
use edgewise_devsim::sht::{Climate, ShtModel, Signal as ClimateSignal};
use edgewise_devsim::vibration::{BearingGeometry, MachineVibration, MechanicalFault};
use edgewise_devsim::{Device, SimClock, SimI2cBus, SimSpiDevice};

use crate::driver::{self, default_address};
use crate::output::pca9685::Pca9685Chips;
use crate::output::{self, actuator_error};
use crate::{
    ActuatorSpec, Board, BoardError, BusAddress, DynActuator, DynSensor, OutputSpec, ScanHit,
    SensorSpec, SimFaultKind, SimOptions,
};

mod devices;
mod outputs_log;

use devices::{RecordedChannel, SimOutput, Switched};
use outputs_log::OutputsLog;

/// The driver name `wired` records for a PCA9685.
const PCA9685: &str = "pca9685";

/// The bus that carries the default population.
pub const DEFAULT_BUS: u8 = 1;

/// The chips on bus 1 before any sensor is opened: (driver, address).
pub const DEFAULT_POPULATION: &[(&str, u8)] = &[
    ("bme280", 0x76),
    ("mpu6050", 0x68),
    ("sht3x", 0x44),
    ("ina219", 0x40),
    ("ads1115", 0x48),
];

/// The shunt of the simulated current monitors: the common breakout's, which the drivers'
/// default calibration assumes.
const SHUNT_OHMS: f64 = 0.1;
/// Half the room's temperature swing, °C, and its period: a change visible within minutes.
const ROOM_SWING_C: f64 = 1.5;
const ROOM_PERIOD_S: f64 = 1800.0;

/// Simulated chips, wired as the config asks.
#[derive(Debug)]
pub struct SimBoard {
    options: SimOptions,
    clock: SimClock,
    buses: Mutex<BTreeMap<u8, SimI2cBus>>,
    /// Which chip sits at each (bus, address): opening a sensor again (a retry after a
    /// failure) finds the same chip, with its state and any injected fault, as real hardware
    /// would; only a different driver replaces it.
    wired: Mutex<BTreeMap<(u8, u8), String>>,
    /// Every change of every output.
    outputs: OutputTimeline,
    outputs_log: Option<Arc<OutputsLog>>,
    /// Per output name: whether its pin or channel fails (set by tests).
    failing: Mutex<BTreeMap<String, Arc<AtomicBool>>>,
    /// The PCA9685s initialised for outputs, shared by the actuators on their channels.
    pca9685: Pca9685Chips<SimI2cBus>,
    /// The PCA9685 models attached, by (bus, address).
    pca9685_models: Mutex<BTreeMap<(u8, u8), Device<Pca9685Model>>>,
}

impl SimBoard {
    /// A simulated board with `options`; its clock (and a machine fault's onset) starts now.
    pub fn new(options: SimOptions) -> Self {
        let outputs_log = options
            .outputs_log
            .as_deref()
            .map(|path| Arc::new(OutputsLog::new(path)));
        Self {
            options,
            clock: SimClock::real(),
            buses: Mutex::new(BTreeMap::new()),
            wired: Mutex::new(BTreeMap::new()),
            outputs: OutputTimeline::new(),
            outputs_log,
            failing: Mutex::new(BTreeMap::new()),
            pca9685: Pca9685Chips::new(),
            pca9685_models: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every change of every output opened on this board (PCA9685 channels included), by
    /// actuator name, stamped with the board's clock. Clones share it.
    pub fn outputs(&self) -> OutputTimeline {
        self.outputs.clone()
    }

    /// Makes every following write to the output `name` (a GPIO line or PWM channel, opened
    /// or not yet) fail, as a line taken by another process would, or succeed again. A
    /// PCA9685 channel fails through its bus instead ([`SimI2cBus::inject`]).
    pub fn set_output_failing(&self, name: &str, failing: bool) {
        self.fault_switch(name)
            .store(failing, std::sync::atomic::Ordering::Relaxed);
    }

    /// The PCA9685 model at `address` on bus `bus`, once an output attached it.
    pub fn pca9685(&self, bus: u8, address: u8) -> Option<Device<Pca9685Model>> {
        lock(&self.pca9685_models).get(&(bus, address)).cloned()
    }

    fn fault_switch(&self, name: &str) -> Arc<AtomicBool> {
        Arc::clone(lock(&self.failing).entry(name.to_string()).or_default())
    }

    /// Bus `number` with a PCA9685 model at `address`, attached unless one is there already
    /// (several outputs share it); a chip wired there before is replaced.
    fn wire_pca9685(&self, number: u8, address: u8) -> SimI2cBus {
        let bus = self.i2c_bus(number);
        let mut wired = lock(&self.wired);
        if wired.get(&(number, address)).map(String::as_str) != Some(PCA9685) {
            let device = bus.attach(address, Pca9685Model::new());
            lock(&self.pca9685_models).insert((number, address), device);
            self.pca9685
                .forget(BusAddress::I2c { bus: number }, address);
            wired.insert((number, address), PCA9685.to_string());
        }
        bus
    }

    /// The output `spec` describes on simulated hardware, not yet wrapped for the log.
    fn open_output(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
        match spec.output {
            OutputSpec::Gpio { .. } => {
                let pin = SimOutputPin::new(&spec.name, self.clock.clone(), self.outputs());
                output::gpio_output(spec, Switched::new(pin, self.fault_switch(&spec.name)))
            }
            OutputSpec::Pwm { frequency_hz, .. } => {
                let period_ns = output::period_ns(spec, frequency_hz)?;
                let channel = SimPwmChannel::new(&spec.name, self.clock.clone(), self.outputs());
                let channel = Switched::new(channel, self.fault_switch(&spec.name));
                output::pwm_output(spec, channel, period_ns)
            }
            OutputSpec::Pca9685 { bus, address, .. } => {
                let BusAddress::I2c { bus: number } = bus else {
                    return Err(actuator_error(
                        spec,
                        format!("a PCA9685 is an I²C chip; {bus} is an SPI bus"),
                    ));
                };
                let i2c = self.wire_pca9685(number, address);
                let opened = self
                    .pca9685
                    .open(spec, || Ok(i2c), &mut self.clock.delay())?;
                let channel = RecordedChannel::new(
                    opened.channel,
                    &spec.name,
                    self.clock.clone(),
                    self.outputs(),
                );
                output::pwm_output(spec, channel, opened.period_ns)
            }
        }
    }

    /// The virtual I²C bus `number`, created (with the default population on bus 1) on first
    /// use. Tests use it to steer chips or inject faults.
    pub fn i2c_bus(&self, number: u8) -> SimI2cBus {
        let mut buses = lock(&self.buses);
        buses
            .entry(number)
            .or_insert_with(|| {
                let bus = SimI2cBus::new(self.clock.clone());
                if number == DEFAULT_BUS {
                    for &(driver, address) in DEFAULT_POPULATION {
                        // Every entry is a driver `attach` knows.
                        if self.attach(&bus, number, driver, address) {
                            lock(&self.wired).insert((number, address), driver.to_string());
                        }
                    }
                }
                bus
            })
            .clone()
    }

    /// Puts `chip` at `address` on bus `number` as the chip of `driver`, replacing what was
    /// there: a test or benchmark that needs a signal of its own (a load switching every
    /// 100 ms) wires it before the agent opens the sensor, which then finds it as it would
    /// find a chip the board wired itself.
    pub fn wire<T: edgewise_devsim::I2cTarget + 'static>(
        &self,
        number: u8,
        address: u8,
        driver: &str,
        chip: T,
    ) -> Device<T> {
        let bus = self.i2c_bus(number);
        let device = bus.attach(address, chip);
        lock(&self.wired).insert((number, address), driver.to_string());
        device
    }

    /// The clock the board's chips and outputs run on.
    pub fn clock(&self) -> SimClock {
        self.clock.clone()
    }

    /// Attaches a devsim model of `driver` at `address`; false for a driver with no model.
    fn attach(&self, bus: &SimI2cBus, number: u8, driver: &str, address: u8) -> bool {
        let seed = self.chip_seed(number, address);
        match driver {
            "bme280" => drop(bus.attach(address, environment_chip(Bme280Model::bme280(), seed))),
            "bmp280" => drop(bus.attach(address, environment_chip(Bme280Model::bmp280(), seed))),
            "sht3x" => drop(bus.attach(address, climate_chip(ShtModel::sht3x(), seed))),
            "sht4x" => drop(bus.attach(address, climate_chip(ShtModel::sht4x(), seed))),
            "ads1115" => drop(bus.attach(address, adc_chip(Ads1x15Model::ads1115(), seed))),
            "ads1015" => drop(bus.attach(address, adc_chip(Ads1x15Model::ads1015(), seed))),
            "ina219" => drop(
                bus.attach(
                    address,
                    Ina219Model::new(SHUNT_OHMS)
                        .with_noise(seed)
                        .with_load(device_load()),
                ),
            ),
            "ina226" => drop(
                bus.attach(
                    address,
                    Ina226Model::new(SHUNT_OHMS)
                        .with_noise(seed)
                        .with_load(device_load()),
                ),
            ),
            "mpu6050" | "mpu6500" | "mpu9250" => {
                let variant = match driver {
                    "mpu6050" => ImuVariant::Mpu6050,
                    "mpu6500" => ImuVariant::Mpu6500,
                    _ => ImuVariant::Mpu9250,
                };
                let model = Mpu6050Model::new(variant).with_vibration(self.machine(seed));
                drop(bus.attach(address, model));
            }
            _ => return false,
        }
        true
    }

    /// The running machine the IMU sits on, with the configured fault.
    fn machine(&self, seed: u64) -> MachineVibration {
        let mut machine = MachineVibration {
            seed,
            ..MachineVibration::default()
        };
        if let Some(fault) = self.options.machine_fault {
            let onset_s = fault.onset.as_secs_f64();
            machine.faults.push(match fault.kind {
                // Strikes ringing a housing resonance inside the 184 Hz filter's passband,
                // so a 1 kHz FIFO stream sees them.
                SimFaultKind::OuterRaceDefect => MechanicalFault::OuterRaceDefect {
                    bearing: BearingGeometry::deep_groove_6205(),
                    impact: 4.0,
                    resonance_hz: 150.0,
                    damping_ratio: 0.05,
                    onset_s,
                },
                // Doubling the 1× amplitude over a minute, then tripling it at most.
                SimFaultKind::ImbalanceGrowth => MechanicalFault::ImbalanceGrowth {
                    onset_s,
                    rate: 0.5 / 60.0,
                    max: 1.0,
                },
            });
        }
        machine
    }

    /// One chip's noise seed: the board's seed mixed with where the chip sits (splitmix64).
    fn chip_seed(&self, bus: u8, address: u8) -> u64 {
        let mut z = self.options.seed ^ (u64::from(bus) << 8 | u64::from(address));
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Board for SimBoard {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
        let delay = self.clock.delay();
        match spec.bus {
            BusAddress::I2c { bus: number } => {
                let address = spec
                    .address
                    .or_else(|| default_address(&spec.driver))
                    .ok_or_else(|| unsupported(spec, "has no simulated model"))?;
                let bus = self.i2c_bus(number);
                let mut wired = lock(&self.wired);
                if wired.get(&(number, address)) != Some(&spec.driver) {
                    if !self.attach(&bus, number, &spec.driver, address) {
                        return Err(unsupported(spec, "has no simulated model"));
                    }
                    wired.insert((number, address), spec.driver.clone());
                }
                drop(wired);
                driver::open_i2c(spec, bus, delay)
            }
            BusAddress::Spi { bus, chip_select } => match spec.driver.as_str() {
                "bme280" | "bmp280" => {
                    // SPI chips get seeds apart from any I²C address (bus numbers stay < 128).
                    let seed = self.chip_seed(0x80 | bus, chip_select);
                    let model = if spec.driver == "bme280" {
                        Bme280Model::bme280()
                    } else {
                        Bme280Model::bmp280()
                    };
                    let device =
                        SimSpiDevice::new(self.clock.clone(), environment_chip(model, seed));
                    driver::open_spi(spec, device, delay)
                }
                _ => Err(unsupported(spec, "is simulated on I²C only")),
            },
        }
    }

    fn open_actuator(&self, spec: &ActuatorSpec) -> Result<Box<dyn DynActuator>, BoardError> {
        output::check(spec)?;
        let mut output = self.open_output(spec)?;
        // Latching hardware: the output is where the last run left it. A state this output
        // can no longer take (its config changed kind) is not restored: it starts unknown.
        let log = self.outputs_log.clone();
        let inherited = log
            .as_deref()
            .and_then(|log| log.last_state(&spec.name))
            .filter(|state| output.set((*state).into()).is_ok());
        if let (Some(log), Some(state)) = (&log, inherited) {
            log.append(&spec.name, state, true).map_err(|error| {
                actuator_error(
                    spec,
                    format!(
                        "the outputs log {} could not be written: {error}",
                        log.path().display()
                    ),
                )
            })?;
        }
        Ok(Box::new(SimOutput::new(output, &spec.name, log, inherited)))
    }

    fn scan(&self, bus: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
        match bus {
            BusAddress::I2c { bus: number } => {
                let mut i2c = self.i2c_bus(number);
                Ok(crate::scan::scan(&mut i2c, &mut self.clock.delay()))
            }
            BusAddress::Spi { .. } => Err(BoardError::Bus {
                bus,
                problem: "only I²C buses can be scanned (SPI has no addresses)".into(),
            }),
        }
    }
}

fn unsupported(spec: &SensorSpec, why: &str) -> BoardError {
    BoardError::Unsupported {
        sensor: spec.name.clone(),
        problem: format!("driver `{}` {why} on the sim board", spec.driver),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the map leaves it consistent (inserts are atomic).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A room at sea level, drifting over half an hour.
fn environment_chip(model: Bme280Model, seed: u64) -> Bme280Model {
    model
        .with_noise(seed)
        .with_signal(EnvironmentSignal::Diurnal {
            mean: Environment::default(),
            temperature_swing: ROOM_SWING_C,
            period_s: ROOM_PERIOD_S,
        })
}

/// The same room, as a humidity sensor sees it.
fn climate_chip(model: ShtModel, seed: u64) -> ShtModel {
    model.with_noise(seed).with_signal(ClimateSignal::Diurnal {
        mean: Climate::default(),
        temperature_swing: ROOM_SWING_C,
        period_s: ROOM_PERIOD_S,
    })
}

/// Four slowly changing analog signals within a 3.3 V supply.
fn adc_chip(model: Ads1x15Model, seed: u64) -> Ads1x15Model {
    model
        .with_noise_seed(seed)
        // A potentiometer turned slowly back and forth.
        .with_input(
            0,
            AnalogInput::sine(1.65, 1.2, 1.0 / 120.0).with_noise(0.000_5),
        )
        // The 3.3 V rail through a 1:2 divider.
        .with_input(1, AnalogInput::dc(1.65).with_noise(0.000_2))
        // A 10 kΩ NTC divider at room temperature, drifting a little.
        .with_input(
            2,
            AnalogInput::sine(1.4, 0.05, 1.0 / ROOM_PERIOD_S).with_noise(0.000_5),
        )
        // A slow process signal.
        .with_input(
            3,
            AnalogInput::sine(0.8, 0.3, 1.0 / 300.0).with_noise(0.000_5),
        )
}

/// A 5 V device that wakes for 2 s in every 10.
fn device_load() -> Load {
    Load {
        supply_volts: 5.0,
        current: Waveform::Square {
            low: 0.080,
            high: 0.250,
            period_s: 10.0,
            duty: 0.2,
        },
        noise_amps: 0.002,
    }
}
