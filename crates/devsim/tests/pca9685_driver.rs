//! The PCA9685 driver against the register-level model on the simulated bus: the timeline of
//! effective duties with the virtual clock's timestamps, and the PWM frequency the chip
//! makes from the PRE_SCALE the driver wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use edgewise_devsim::pca9685::{DutyChange, Pca9685Model};
use edgewise_devsim::{SimClock, SimI2cBus};
use edgewise_sensors::actuator::{Actuator, PwmOutput, State};
use edgewise_sensors::pca9685::{Address, Config, Pca9685, Pca9685Channel};
use embedded_hal::i2c::I2c;

const ADDR: u8 = 0x40;

fn change(at_ns: u64, channel: u8, duty: f32) -> DutyChange {
    DutyChange {
        at_ns,
        channel,
        duty,
    }
}

#[test]
fn servo_and_fan_outputs_on_the_timeline_at_50_hz() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let chip = bus.attach(ADDR, Pca9685Model::new());
    let mut delay = bus.clock().delay();
    let mut pwm = Pca9685::new(bus.clone(), Address::default(), Config::servo());
    pwm.init(&mut delay).unwrap();

    // PRE_SCALE 121: 25 MHz / (4096 · 122) = 50.03 Hz.
    chip.with(|c| {
        assert_eq!(c.prescale(), 121);
        assert!((c.frequency_hz() - 25e6 / (4096.0 * 122.0)).abs() < 1e-9);
        assert!(!c.is_asleep());
        assert_eq!(c.early_restarts(), 0);
        // Power-on: every channel off, nothing changed yet.
        assert!(c.timeline().is_empty());
    });
    // init waited exactly the oscillator's 500 µs.
    assert_eq!(delay.waited_ns(), 500_000);

    // t = 0.5 ms: a servo to its centre, 1500 µs → 307 counts.
    pwm.set_pulse_us(0, 1_500).unwrap();
    bus.clock().advance(Duration::from_secs(2));
    // t = 2.0005 s: a fan on channel 5 at 40 % (1638 counts).
    pwm.set_duty(5, 0.4).unwrap();
    bus.clock().advance(Duration::from_secs(1));
    // t = 3.0005 s: asleep, both stop; woken, both resume 500 µs later with RESTART.
    pwm.sleep().unwrap();
    pwm.wake(&mut delay).unwrap();
    bus.clock().advance(Duration::from_millis(10));
    // t = 3.011 s: everything off.
    pwm.all_off().unwrap();

    let servo = 307.0 / 4096.0;
    let fan = 1638.0 / 4096.0;
    chip.with(|c| {
        assert_eq!(
            c.timeline(),
            &[
                change(500_000, 0, servo),
                change(2_000_500_000, 5, fan),
                change(3_000_500_000, 0, 0.0),
                change(3_000_500_000, 5, 0.0),
                change(3_001_000_000, 0, servo),
                change(3_001_000_000, 5, fan),
                change(3_011_000_000, 0, 0.0),
                change(3_011_000_000, 5, 0.0),
            ]
        );
        assert_eq!(c.early_restarts(), 0);
    });
}

#[test]
fn a_new_frequency_goes_through_sleep_and_prescale_is_ignored_while_awake() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let chip = bus.attach(ADDR, Pca9685Model::new());
    let mut delay = bus.clock().delay();
    let mut pwm = Pca9685::new(bus.clone(), Address::default(), Config::servo());
    pwm.init(&mut delay).unwrap();
    pwm.set_duty(3, 0.5).unwrap();

    // A direct PRE_SCALE write while running: the silicon ignores it, so does the model.
    let mut raw = bus.clone();
    raw.write(ADDR, &[0xFE, 5]).unwrap();
    assert_eq!(chip.with(|c| c.prescale()), 121);

    // Through the driver: 1 kHz → PRE_SCALE 5, 25 MHz / (4096 · 6) = 1017.25 Hz; the
    // running channel is restarted after the oscillator's wait, not before.
    pwm.set_config(Config::with_frequency(1000), &mut delay)
        .unwrap();
    chip.with(|c| {
        assert_eq!(c.prescale(), 5);
        assert!((c.frequency_hz() - 25e6 / (4096.0 * 6.0)).abs() < 1e-9);
        assert_eq!(c.duty(3), Some(0.5));
        assert_eq!(c.early_restarts(), 0);
        let channel3: Vec<(u64, f32)> = c
            .timeline()
            .iter()
            .filter(|e| e.channel == 3)
            .map(|e| (e.at_ns, e.duty))
            .collect();
        // On at 0.5 ms; off while asleep for the new prescaler; back 500 µs later.
        assert_eq!(channel3, [(500_000, 0.5), (500_000, 0.0), (1_000_000, 0.5)]);
    });
}

#[test]
fn a_channel_as_an_actuator_applies_its_safe_state() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let chip = bus.attach(ADDR, Pca9685Model::new());
    let mut pwm = Pca9685::new(
        bus.clone(),
        Address::default(),
        Config::with_frequency(1000),
    );
    pwm.init(&mut bus.clock().delay()).unwrap();
    let channel = Pca9685Channel::new(bus.clone(), Address::default(), 9).unwrap();
    let mut heater = PwmOutput::new(channel, State::Off);
    heater.set_fraction(0.75).unwrap();
    bus.clock().advance(Duration::from_secs(60));
    heater.apply_safe_state().unwrap();
    chip.with(|c| {
        assert_eq!(
            c.timeline(),
            &[change(500_000, 9, 0.75), change(60_000_500_000, 9, 0.0)]
        );
    });
}
