//! The exact register traffic of the PCA9685 driver against the datasheet (NXP Rev. 4):
//! prescale = round(25 MHz / (4096 · f)) − 1 (equation 1), PRE_SCALE written only while
//! asleep, RESTART 500 µs after waking (section 7.3.1.1), one auto-incremented 5-byte write
//! per channel (figure 21's auto-increment, registers of table 4). embedded-hal-mock fails the
//! test on any extra, missing or different transaction.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgewise_sensors::actuator::{
    Actuator, ActuatorError, ErrorKind as ActuatorErrorKind, PwmOutput, State,
};
use edgewise_sensors::pca9685::{
    Address, Config, Counts, Error, OutputDriver, Pca9685, Pca9685Async, Pca9685Channel,
};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};

const ADDR: u8 = 0x40;
const MODE1: u8 = 0x00;
const MODE2: u8 = 0x01;
const PRE_SCALE: u8 = 0xFE;
/// MODE1 at power-on: SLEEP and ALLCALL (table 5).
const MODE1_POWER_ON: u8 = 0x11;
const RESTART: u8 = 0x80;
const AI: u8 = 0x20;
const SLEEP: u8 = 0x10;
const ALLCALL: u8 = 0x01;
/// MODE2.OUTDRV: totem pole.
const OUTDRV: u8 = 0x04;

/// Equation 1 in floating point, independent of the driver's integer arithmetic.
fn prescale_for(hz: f64) -> u8 {
    let prescale = (25_000_000.0 / (4096.0 * hz)).round() - 1.0;
    u8::try_from(prescale as i64).unwrap()
}

fn write(bytes: &[u8]) -> I2c {
    I2c::write(ADDR, bytes.to_vec())
}

/// init from a chip in state `mode1`: read MODE1, sleep, PRE_SCALE, MODE2, wake with AI,
/// (500 µs), RESTART.
fn init_traffic(mode1: u8, prescale: u8, mode2: u8) -> Vec<I2c> {
    let awake = (mode1 & !(RESTART | SLEEP)) | AI;
    vec![
        I2c::write_read(ADDR, vec![MODE1], vec![mode1]),
        write(&[MODE1, (mode1 & !RESTART) | SLEEP]),
        write(&[PRE_SCALE, prescale]),
        write(&[MODE2, mode2]),
        write(&[MODE1, awake]),
        write(&[MODE1, awake | RESTART]),
    ]
}

fn oscillator_wait() -> CheckedDelay {
    CheckedDelay::new(&[Delay::delay_us(500)])
}

fn initialised(config: Config, prescale: u8, after_init: Vec<I2c>) -> (Pca9685<I2cMock>, I2cMock) {
    let mut expected = init_traffic(MODE1_POWER_ON, prescale, OUTDRV);
    expected.extend(after_init);
    let i2c = I2cMock::new(&expected);
    let mut delay = oscillator_wait();
    let mut pwm = Pca9685::new(i2c.clone(), Address::default(), config);
    pwm.init(&mut delay).unwrap();
    delay.done();
    (pwm, i2c)
}

#[test]
fn init_at_50_hz_writes_prescale_121_while_asleep() {
    let prescale = prescale_for(50.0);
    assert_eq!(prescale, 121);
    let (pwm, mut i2c) = initialised(Config::servo(), prescale, vec![]);
    assert_eq!(pwm.prescale(), Some(121));
    // 4096 · 122 / 25 MHz.
    assert_eq!(pwm.period_ns(), Some(19_988_480));
    drop(pwm);
    i2c.done();
}

#[test]
fn init_at_1_khz_writes_prescale_5() {
    let prescale = prescale_for(1000.0);
    assert_eq!(prescale, 5);
    let (_pwm, mut i2c) = initialised(Config::with_frequency(1000), prescale, vec![]);
    i2c.done();
}

#[test]
fn reinit_of_a_running_chip_keeps_its_mode1_bits_and_open_drain_inverted_mode2() {
    // A chip running with AI and ALLCALL: sleep from that, wake to it, then RESTART.
    let running = AI | ALLCALL;
    let config = Config {
        output: OutputDriver::OpenDrain,
        invert: true,
        ..Config::with_frequency(1000)
    };
    let expected = init_traffic(running, prescale_for(1000.0), 0x10);
    assert_eq!(expected[1], write(&[MODE1, 0x31]));
    assert_eq!(expected[4], write(&[MODE1, 0x21]));
    assert_eq!(expected[5], write(&[MODE1, 0xA1]));
    let mut i2c = I2cMock::new(&expected);
    let mut delay = oscillator_wait();
    let mut pwm = Pca9685::new(i2c.clone(), Address::default(), config);
    pwm.init(&mut delay).unwrap();
    delay.done();
    i2c.done();
}

#[test]
fn duty_writes_one_auto_incremented_channel_block() {
    // Channel 3 at 06h + 12 = 12h. 25 %: OFF = 1024 = 400h. 100 %: ON_H bit 4. 0 %: OFF_H
    // bit 4. Channel 15 at 42h.
    let (mut pwm, mut i2c) = initialised(
        Config::default(),
        prescale_for(200.0),
        vec![
            write(&[0x12, 0x00, 0x00, 0x00, 0x04]),
            write(&[0x12, 0x00, 0x10, 0x00, 0x00]),
            write(&[0x12, 0x00, 0x00, 0x00, 0x10]),
            write(&[0x42, 0x00, 0x00, 0xFF, 0x0F]),
        ],
    );
    pwm.set_duty(3, 0.25).unwrap();
    pwm.set_duty(3, 1.0).unwrap();
    pwm.set_duty(3, 0.0).unwrap();
    // 4095/4096 of the period: the last count before full on.
    pwm.set_duty(15, 4095.0 / 4096.0).unwrap();
    drop(pwm);
    i2c.done();
}

#[test]
fn datasheet_examples_as_register_writes() {
    // Section 7.3.3 example 1 (delay 10 %, duty 20 %): LED0_ON = 199h, LED0_OFF = 4CCh.
    // Example 2 (delay 90 %, duty 90 %): LED0_ON = E65h, LED0_OFF = CCBh.
    let (mut pwm, mut i2c) = initialised(
        Config::default(),
        prescale_for(200.0),
        vec![
            write(&[0x06, 0x99, 0x01, 0xCC, 0x04]),
            write(&[0x06, 0x65, 0x0E, 0xCB, 0x0C]),
        ],
    );
    pwm.set_counts(0, Counts::from_fractions(0.1, 0.2).unwrap())
        .unwrap();
    pwm.set_counts(0, Counts::from_fractions(0.9, 0.9).unwrap())
        .unwrap();
    drop(pwm);
    i2c.done();
}

#[test]
fn servo_pulses_use_the_real_period() {
    // At PRE_SCALE 121 one count is 122 / 25 MHz = 4.88 µs: 1000 µs → 204.8 → 205 (CDh),
    // 1500 µs → 307.4 → 307 (133h), 2000 µs → 409.8 → 410 (19Ah).
    let count = |us: f64| (us * 25.0 / 122.0).round() as u16;
    assert_eq!(
        (count(1000.0), count(1500.0), count(2000.0)),
        (205, 307, 410)
    );
    let (mut pwm, mut i2c) = initialised(
        Config::servo(),
        121,
        vec![
            write(&[0x06, 0x00, 0x00, 0xCD, 0x00]),
            write(&[0x0A, 0x00, 0x00, 0x33, 0x01]),
            write(&[0x0E, 0x00, 0x00, 0x9A, 0x01]),
        ],
    );
    pwm.set_pulse_us(0, 1_000).unwrap();
    pwm.set_pulse_us(1, 1_500).unwrap();
    pwm.set_pulse_us(2, 2_000).unwrap();
    // A pulse of the whole period (19 988.48 µs rounds to 4096 counts) cannot be made.
    assert!(matches!(
        pwm.set_pulse_us(0, 19_990),
        Err(Error::PulseTooLong {
            pulse_us: 19_990,
            period_ns: 19_988_480
        })
    ));
    drop(pwm);
    i2c.done();
}

#[test]
fn all_off_sleep_and_wake_with_restart() {
    let awake = AI | ALLCALL;
    let (mut pwm, mut i2c) = initialised(
        Config::default(),
        prescale_for(200.0),
        vec![
            // Figure 24: ALL_LED_OFF_H bit 4.
            write(&[0xFD, 0x10]),
            write(&[MODE1, awake | SLEEP]),
            // Asleep with channels that were running: RESTART reads 1.
            I2c::write_read(ADDR, vec![MODE1], vec![RESTART | awake | SLEEP]),
            write(&[MODE1, awake]),
            write(&[MODE1, awake | RESTART]),
        ],
    );
    pwm.all_off().unwrap();
    pwm.sleep().unwrap();
    let mut delay = oscillator_wait();
    pwm.wake(&mut delay).unwrap();
    delay.done();
    drop(pwm);
    i2c.done();
}

#[test]
fn out_of_range_frequency_is_refused_before_any_traffic() {
    let mut i2c = I2cMock::new(&[]);
    for (hz, prescale) in [(2000, 2), (23, 264), (0, 0)] {
        let mut pwm = Pca9685::new(i2c.clone(), Address::default(), Config::with_frequency(hz));
        let err = pwm.init(&mut NoopDelay).unwrap_err();
        assert_eq!(err, Error::Frequency { hz, prescale });
        assert_eq!(err.kind(), ActuatorErrorKind::Config);
        assert!(err.to_string().contains(&format!("{hz} Hz")));
        assert_eq!(pwm.prescale(), None);
    }
    i2c.done();
}

#[test]
fn bad_channel_nan_and_use_before_init_are_refused_without_traffic() {
    let (mut pwm, mut i2c) = initialised(Config::default(), prescale_for(200.0), vec![]);
    assert_eq!(pwm.set_duty(16, 0.5), Err(Error::Channel(16)));
    assert_eq!(pwm.set_pulse_us(200, 1500), Err(Error::Channel(200)));
    assert_eq!(pwm.set_duty(0, f32::NAN), Err(Error::NotANumber));
    let counts = Counts {
        on: 4096,
        off: 0,
        full_on: false,
        full_off: false,
    };
    assert_eq!(
        pwm.set_counts(0, counts),
        Err(Error::Counts { on: 4096, off: 0 })
    );
    drop(pwm);
    i2c.done();

    let mut idle = I2cMock::new(&[]);
    let mut pwm = Pca9685::new(idle.clone(), Address::default(), Config::default());
    assert_eq!(pwm.set_duty(0, 0.5), Err(Error::NotInitialized));
    assert_eq!(pwm.sleep(), Err(Error::NotInitialized));
    assert!(Pca9685Channel::new(idle.clone(), Address::default(), 16).is_err());
    idle.done();
}

#[test]
fn a_nack_is_a_bus_error() {
    let mut i2c = I2cMock::new(&[I2c::write_read(ADDR, vec![MODE1], vec![0])
        .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address))]);
    let mut pwm = Pca9685::new(i2c.clone(), Address::default(), Config::default());
    let err = pwm.init(&mut NoopDelay).unwrap_err();
    assert_eq!(err.kind(), ActuatorErrorKind::Bus);
    i2c.done();
}

#[test]
fn async_init_and_duty_match_blocking() {
    let mut expected = init_traffic(MODE1_POWER_ON, 121, OUTDRV);
    expected.push(write(&[0x06, 0x00, 0x00, 0x00, 0x08]));
    let mut i2c = I2cMock::new(&expected);
    let mut pwm = Pca9685Async::new(i2c.clone(), Address::default(), Config::servo());
    let mut delay = oscillator_wait();
    embassy_futures::block_on(async {
        pwm.init(&mut delay).await.unwrap();
        pwm.set_duty(0, 0.5).await.unwrap();
    });
    delay.done();
    i2c.done();
}

#[test]
fn a_channel_drives_a_pwm_output_actuator() {
    // A fan on channel 7 (06h + 28 = 22h), safe at full speed: full on, then 40 % =
    // 1638.4 → 1638 = 666h, then off.
    let mut i2c = I2cMock::new(&[
        write(&[0x22, 0x00, 0x10, 0x00, 0x00]),
        write(&[0x22, 0x00, 0x00, 0x66, 0x06]),
        write(&[0x22, 0x00, 0x00, 0x00, 0x10]),
    ]);
    let channel = Pca9685Channel::new(i2c.clone(), Address::default(), 7).unwrap();
    let mut fan = PwmOutput::new(channel, State::Fraction(1.0));
    fan.apply_safe_state().unwrap();
    fan.set_fraction(0.4).unwrap();
    fan.set_off().unwrap();
    assert_eq!(fan.state(), Some(State::Off));
    drop(fan);
    i2c.done();
}
