//! Instantiates every driver of `edgewise-sensors`, blocking and async, with concrete bus
//! types. A generic driver compiled on its own is only type-checked; its code is generated
//! where it is used. `cargo xtask check-nostd` builds this crate for bare-metal targets so
//! that every driver's code paths are really compiled for them (no std, no alloc).
#![no_std]

mod bus;

use edgewise_sensors::sensor::{BufferedSensor, BufferedSensorAsync, Reading, Sensor, SensorAsync};
use embassy_futures::block_on;

pub use bus::{NullDelay, NullI2c, NullPin, NullSpi};

/// Initialises a sensor through the common interface, reads it once and powers it down;
/// returns how many values the reading carried.
fn exercise_blocking<S: Sensor>(sensor: &mut S) -> Option<usize> {
    sensor.init(&mut NullDelay).ok()?;
    let values = sensor.read(&mut NullDelay).ok()?.values().len();
    sensor.power_down().ok()?;
    Some(values)
}

/// [`exercise_blocking`] through the async interface.
fn exercise_async<S: SensorAsync>(sensor: &mut S) -> Option<usize> {
    block_on(async {
        sensor.init(&mut NullDelay).await.ok()?;
        let values = sensor.read(&mut NullDelay).await.ok()?.values().len();
        sensor.power_down().await.ok()?;
        Some(values)
    })
}

/// BME280 over I²C and SPI, blocking.
pub fn bme280_blocking() -> Option<usize> {
    use edgewise_sensors::bme280::{Address, Bme280, Config};
    let mut i2c = Bme280::new_i2c(NullI2c, Address::Primary, Config::weather_monitoring());
    let mut spi = Bme280::new_spi(NullSpi, Config::default());
    let measured = i2c.measure(&mut NullDelay).is_ok();
    Some(exercise_blocking(&mut i2c)? + exercise_blocking(&mut spi)? + usize::from(measured))
}

/// BME280 over I²C and SPI, async.
pub fn bme280_async() -> Option<usize> {
    use edgewise_sensors::bme280::{Address, Bme280Async, Config};
    let mut i2c = Bme280Async::new_i2c(NullI2c, Address::Primary, Config::weather_monitoring());
    let mut spi = Bme280Async::new_spi(NullSpi, Config::default());
    Some(exercise_async(&mut i2c)? + exercise_async(&mut spi)?)
}

/// INA219, blocking.
pub fn ina219_blocking() -> Option<usize> {
    use edgewise_sensors::ina219::{Address, Calibration, Config, Ina219};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    exercise_blocking(&mut Ina219::new(NullI2c, Address::default(), config))
}

/// INA219, async.
pub fn ina219_async() -> Option<usize> {
    use edgewise_sensors::ina219::{Address, Calibration, Config, Ina219Async};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    exercise_async(&mut Ina219Async::new(NullI2c, Address::default(), config))
}

/// INA226, blocking.
pub fn ina226_blocking() -> Option<usize> {
    use edgewise_sensors::ina226::{Address, Calibration, Config, Ina226};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    exercise_blocking(&mut Ina226::new(NullI2c, Address::default(), config))
}

/// INA226, async.
pub fn ina226_async() -> Option<usize> {
    use edgewise_sensors::ina226::{Address, Calibration, Config, Ina226Async};
    let config = Config::new(Calibration::BREAKOUT_100_MILLIOHM);
    exercise_async(&mut Ina226Async::new(NullI2c, Address::default(), config))
}

/// SHT3x and SHT4x, blocking.
pub fn sht_blocking() -> Option<usize> {
    use edgewise_sensors::sht::{
        Sht3x, Sht3xAddress, Sht3xConfig, Sht4x, Sht4xAddress, Sht4xConfig,
    };
    let mut sht3x = Sht3x::new(NullI2c, Sht3xAddress::Low, Sht3xConfig::default());
    let mut sht4x = Sht4x::new(NullI2c, Sht4xAddress::A, Sht4xConfig::default());
    Some(exercise_blocking(&mut sht3x)? + exercise_blocking(&mut sht4x)?)
}

/// SHT3x and SHT4x, async.
pub fn sht_async() -> Option<usize> {
    use edgewise_sensors::sht::{
        Sht3xAddress, Sht3xAsync, Sht3xConfig, Sht4xAddress, Sht4xAsync, Sht4xConfig,
    };
    let mut sht3x = Sht3xAsync::new(NullI2c, Sht3xAddress::Low, Sht3xConfig::default());
    let mut sht4x = Sht4xAsync::new(NullI2c, Sht4xAddress::A, Sht4xConfig::default());
    Some(exercise_async(&mut sht3x)? + exercise_async(&mut sht4x)?)
}

/// ADS1115 and ADS1015, blocking.
pub fn ads1x15_blocking() -> Option<usize> {
    use edgewise_sensors::ads1x15::{Address, Ads1x15, Config};
    let mut ads1115 = Ads1x15::new_ads1115(NullI2c, Address::Gnd, Config::default());
    let mut ads1015 = Ads1x15::new_ads1015(NullI2c, Address::Vdd, Config::default());
    Some(exercise_blocking(&mut ads1115)? + exercise_blocking(&mut ads1015)?)
}

/// ADS1115 and ADS1015, async.
pub fn ads1x15_async() -> Option<usize> {
    use edgewise_sensors::ads1x15::{Address, Ads1x15Async, Config};
    let mut ads1115 = Ads1x15Async::new_ads1115(NullI2c, Address::Gnd, Config::default());
    let mut ads1015 = Ads1x15Async::new_ads1015(NullI2c, Address::Vdd, Config::default());
    Some(exercise_async(&mut ads1115)? + exercise_async(&mut ads1015)?)
}

/// MPU-6050/6500, blocking: single readings and a FIFO drain.
pub fn mpu6050_blocking() -> Option<usize> {
    use core::time::Duration;
    use edgewise_sensors::mpu6050::{Address, Config, Mpu6050, Sample};
    let mut imu = Mpu6050::new(NullI2c, Address::Ad0Low, Config::vibration_1khz());
    let values = exercise_blocking(&mut imu)?;
    let mut batch = [Sample::default(); 16];
    imu.start_fifo(Duration::ZERO).ok()?;
    imu.read_fifo(Duration::from_millis(10), &mut batch).ok()?;
    let mut readings = [Reading::new(); 16];
    imu.start_buffering(Duration::ZERO).ok()?;
    Some(values + imu.drain(Duration::from_millis(10), &mut readings).ok()?)
}

/// MPU-6050/6500, async: single readings and a FIFO drain.
pub fn mpu6050_async() -> Option<usize> {
    use core::time::Duration;
    use edgewise_sensors::mpu6050::{Address, Config, Mpu6050Async, Sample};
    let mut imu = Mpu6050Async::new(NullI2c, Address::Ad0Low, Config::vibration_1khz());
    let values = exercise_async(&mut imu)?;
    let mut batch = [Sample::default(); 16];
    block_on(async {
        imu.start_fifo(Duration::ZERO).await.ok()?;
        imu.read_fifo(Duration::from_millis(10), &mut batch)
            .await
            .ok()
    })?;
    let mut readings = [Reading::new(); 16];
    let drained = block_on(async {
        imu.start_buffering(Duration::ZERO).await.ok()?;
        imu.drain(Duration::from_millis(10), &mut readings)
            .await
            .ok()
    })?;
    Some(values + drained)
}

/// PCA9685, blocking: init, a duty, a servo pulse, all off; a channel as a PWM actuator.
pub fn pca9685_blocking() -> Option<usize> {
    use edgewise_sensors::actuator::{Actuator, PwmOutput, State};
    use edgewise_sensors::pca9685::{Address, Config, Pca9685, Pca9685Channel};
    let mut pwm = Pca9685::new(NullI2c, Address::default(), Config::servo());
    pwm.init(&mut NullDelay).ok()?;
    pwm.set_duty(0, 0.5).ok()?;
    pwm.set_pulse_us(1, 1_500).ok()?;
    pwm.all_off().ok()?;
    let channel = Pca9685Channel::new(NullI2c, Address::default(), 2).ok()?;
    let mut fan = PwmOutput::new(channel, State::Off);
    fan.set_fraction(0.3).ok()?;
    fan.apply_safe_state().ok()?;
    Some(usize::from(pwm.prescale()?))
}

/// PCA9685, async.
pub fn pca9685_async() -> Option<usize> {
    use edgewise_sensors::pca9685::{Address, Config, Pca9685Async};
    let mut pwm = Pca9685Async::new(NullI2c, Address::default(), Config::servo());
    block_on(async {
        pwm.init(&mut NullDelay).await.ok()?;
        pwm.set_duty(0, 0.5).await.ok()?;
        pwm.set_pulse_us(1, 1_500).await.ok()?;
        pwm.sleep().await.ok()?;
        pwm.wake(&mut NullDelay).await.ok()
    })?;
    Some(usize::from(pwm.prescale()?))
}

/// A GPIO switch through the actuator interface, on a pin that does nothing.
pub fn gpio_output() -> Option<usize> {
    use edgewise_sensors::actuator::{Actuator, Command, GpioOutput, Polarity};
    let mut relay = GpioOutput::new(NullPin, Polarity::ActiveLow, false);
    relay.apply_safe_state().ok()?;
    relay.set(Command::On).ok()?;
    relay.toggle().ok()?;
    Some(usize::from(relay.is_on()?))
}
