//! Three drivers on one I²C bus: a BME280 (0x76), an SHT31 (0x44) and an INA219 (0x40),
//! simulated chips behind one virtual bus, shared the way a Linux or std program shares an
//! `I2cdev`: through embedded-hal-bus devices (`RefCellDevice` in one thread, `MutexDevice`
//! across threads). Each driver reads through the common sensor interface, and the bus
//! accounting shows each chip got exactly its own traffic.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::sync::Mutex;

use edgewise_devsim::bme280::{Bme280Model, Environment};
use edgewise_devsim::ina219::{Ina219Model, Load, Waveform};
use edgewise_devsim::sht::{Climate, ShtModel};
use edgewise_devsim::{Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::bme280::{self, Bme280};
use edgewise_sensors::ina219::{self, Calibration, Ina219};
use edgewise_sensors::sensor::{ErrorKind, Sensor, SensorError};
use edgewise_sensors::sht::{Sht3x, Sht3xAddress, Sht3xConfig};
use edgewise_sensors::units::Unit;
use embedded_hal_bus::i2c::{MutexDevice, RefCellDevice};

const BME280: u8 = 0x76;
const SHT31: u8 = 0x44;
const INA219: u8 = 0x40;

/// Bus transactions per reading, from each driver's documentation: BME280 forced mode (start,
/// burst read), SHT3x single shot (command, read), INA219 triggered (start, four registers).
const PER_READING: [(u8, u64); 3] = [(BME280, 2), (SHT31, 2), (INA219, 5)];

/// One bus with the three chips in a known environment.
fn populated_bus() -> SimI2cBus {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let weather = bus.attach(BME280, Bme280Model::bme280());
    weather.with(|chip| {
        chip.set_environment(Environment {
            temperature: 23.0,
            pressure: 98_000.0,
            humidity: 40.0,
        })
    });
    let climate = bus.attach(SHT31, ShtModel::sht3x());
    climate.with(|chip| {
        chip.set_climate(Climate {
            temperature: 19.0,
            humidity: 62.0,
        })
    });
    bus.attach(
        INA219,
        Ina219Model::new(0.1).with_load(Load {
            supply_volts: 5.0,
            current: Waveform::Dc(0.25),
            noise_amps: 0.0,
        }),
    );
    bus
}

/// The value of the channel called `name`, checking the reading has one value per channel.
fn value_of<S: Sensor>(sensor: &mut S, delay: &mut SimDelay, name: &str) -> (f32, Unit) {
    let reading = sensor.read(delay).expect("reading from a healthy chip");
    let channels = sensor.channels();
    assert_eq!(
        reading.values().len(),
        channels.len(),
        "one value per channel"
    );
    let index = channels
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no channel {name} in {channels:?}"));
    (reading.values()[index], channels[index].unit)
}

fn assert_near(what: &str, got: f32, want: f32, tolerance: f32) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: read {got}, the chip sees {want} (±{tolerance})"
    );
}

/// Reads every driver once and checks what it says against the simulated environment.
fn read_all<B: Sensor, S: Sensor, I: Sensor>(
    weather: &mut B,
    climate: &mut S,
    power: &mut I,
    delay: &mut SimDelay,
) {
    let (t, unit) = value_of(weather, delay, "temperature");
    assert_eq!(unit, Unit::Celsius);
    assert_near("BME280 temperature", t, 23.0, 0.05);
    let (p, unit) = value_of(weather, delay, "pressure");
    assert_eq!(unit, Unit::Pascal);
    assert_near("BME280 pressure", p, 98_000.0, 5.0);

    let (rh, unit) = value_of(climate, delay, "humidity");
    assert_eq!(unit, Unit::RelativeHumidity);
    assert_near("SHT31 humidity", rh, 62.0, 0.1);
    let (t, _) = value_of(climate, delay, "temperature");
    assert_near("SHT31 temperature", t, 19.0, 0.05);

    let (amps, unit) = value_of(power, delay, "current");
    assert_eq!(unit, Unit::Ampere);
    assert_near("INA219 current", amps, 0.25, 0.001);
    let (volts, unit) = value_of(power, delay, "bus_voltage");
    assert_eq!(unit, Unit::Volt);
    // The bus voltage is measured at IN−, after the 0.1 Ω shunt's 25 mV drop.
    assert_near("INA219 bus voltage", volts, 4.975, 0.004);
}

/// The three drivers, each on its own `RefCellDevice` of the one bus, initialised.
fn initialised_drivers<'a>(
    shared: &'a RefCell<SimI2cBus>,
    delay: &mut SimDelay,
) -> (impl Sensor + 'a, impl Sensor + 'a, impl Sensor + 'a) {
    let mut weather = Bme280::new_i2c(
        RefCellDevice::new(shared),
        bme280::Address::Primary,
        bme280::Config::default(),
    );
    let mut climate = Sht3x::new(
        RefCellDevice::new(shared),
        Sht3xAddress::Low,
        Sht3xConfig::default(),
    );
    let mut power = Ina219::new(
        RefCellDevice::new(shared),
        ina219::Address::default(),
        ina219::Config::new(Calibration::BREAKOUT_100_MILLIOHM),
    );
    Sensor::init(&mut weather, delay).unwrap();
    Sensor::init(&mut climate, delay).unwrap();
    Sensor::init(&mut power, delay).unwrap();
    (weather, climate, power)
}

#[test]
fn three_drivers_share_one_bus_through_refcell_devices() {
    let bus = populated_bus();
    let mut delay = bus.clock().delay();
    // The program owns one bus, as it owns one /dev/i2c-1; the devices borrow it in turn.
    let shared = RefCell::new(bus.clone());
    let (mut weather, mut climate, mut power) = initialised_drivers(&shared, &mut delay);

    const ROUNDS: u64 = 5;
    let before: Vec<_> = PER_READING
        .iter()
        .map(|&(address, _)| bus.stats_for(address))
        .collect();
    let total_before = bus.stats();
    for _ in 0..ROUNDS {
        // read_all takes two readings from each driver.
        read_all(&mut weather, &mut climate, &mut power, &mut delay);
    }
    let mut expected_total = 0;
    for (&(address, per_reading), before) in PER_READING.iter().zip(&before) {
        let traffic = bus.stats_for(address).since(before);
        assert_eq!(
            traffic.transactions,
            ROUNDS * 2 * per_reading,
            "transactions at 0x{address:02X}"
        );
        assert_eq!(traffic.errors, 0, "errors at 0x{address:02X}");
        expected_total += traffic.transactions;
    }
    assert_eq!(
        bus.stats().since(&total_before).transactions,
        expected_total,
        "no traffic to any other address"
    );
}

#[test]
fn a_fault_on_one_chip_leaves_the_others_reading() {
    let bus = populated_bus();
    let mut delay = bus.clock().delay();
    let shared = RefCell::new(bus.clone());
    let (mut weather, mut climate, mut power) = initialised_drivers(&shared, &mut delay);

    // The SHT31 drops off the bus (a loose wire): it NACKs everything.
    bus.inject(SHT31, Fault::Nack, Times::Always);
    for _ in 0..3 {
        let err = Sensor::read(&mut climate, &mut delay).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Bus, "{err}");
        assert_near(
            "BME280",
            value_of(&mut weather, &mut delay, "temperature").0,
            23.0,
            0.05,
        );
        assert_near(
            "INA219",
            value_of(&mut power, &mut delay, "current").0,
            0.25,
            0.001,
        );
    }
    // Wired back: the next reading works without re-initialising anything.
    bus.clear_faults(SHT31);
    assert_near(
        "SHT31",
        value_of(&mut climate, &mut delay, "humidity").0,
        62.0,
        0.1,
    );
}

/// Initialises `sensor`, reads `channel` READINGS times checking it against `want`, and
/// checks that exactly the documented transactions per reading reached `address`.
fn read_in_thread<S: Sensor>(
    bus: &SimI2cBus,
    mut sensor: S,
    (address, per_reading): (u8, u64),
    (channel, want, tolerance): (&str, f32, f32),
) {
    const READINGS: u64 = 50;
    let mut delay = bus.clock().delay();
    sensor.init(&mut delay).unwrap();
    let before = bus.stats_for(address);
    for _ in 0..READINGS {
        let (value, _) = value_of(&mut sensor, &mut delay, channel);
        assert_near(channel, value, want, tolerance);
    }
    let traffic = bus.stats_for(address).since(&before);
    assert_eq!(traffic.errors, 0, "errors at 0x{address:02X}");
    assert_eq!(
        traffic.transactions,
        READINGS * per_reading,
        "transactions at 0x{address:02X}"
    );
}

#[test]
fn drivers_on_three_threads_share_one_bus_through_a_mutex() {
    let bus = populated_bus();
    let shared = Mutex::new(bus.clone());
    let shared = &shared;
    std::thread::scope(|scope| {
        let bus = &bus;
        scope.spawn(move || {
            let sensor = Bme280::new_i2c(
                MutexDevice::new(shared),
                bme280::Address::Primary,
                bme280::Config::default(),
            );
            read_in_thread(bus, sensor, PER_READING[0], ("temperature", 23.0, 0.05));
        });
        scope.spawn(move || {
            let sensor = Sht3x::new(
                MutexDevice::new(shared),
                Sht3xAddress::Low,
                Sht3xConfig::default(),
            );
            read_in_thread(bus, sensor, PER_READING[1], ("humidity", 62.0, 0.1));
        });
        scope.spawn(move || {
            let sensor = Ina219::new(
                MutexDevice::new(shared),
                ina219::Address::default(),
                ina219::Config::new(Calibration::BREAKOUT_100_MILLIOHM),
            );
            read_in_thread(bus, sensor, PER_READING[2], ("current", 0.25, 0.001));
        });
    });
}
