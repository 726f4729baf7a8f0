//! Outputs on the simulated board: what the hardware does (the devsim timeline, the PCA9685
//! model's registers) and what the outputs log says, for relays, fans, servos and PCA9685
//! channels, refused commands, failing pins, and a restart after a crash.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use edgewise_boards::actuator::{ActuatorErrorKind, Command, Polarity, State};
use edgewise_boards::sim::SimBoard;
use edgewise_boards::{
    ActuatorSpec, Board, BusAddress, DynActuator, OutputSpec, ScanHit, ServoSpec, SimOptions,
};
use edgewise_devsim::output::OutputValue;
use edgewise_devsim::{Fault, Times};
use serde_json::Value;

fn relay(name: &str, line: u32, polarity: Polarity) -> ActuatorSpec {
    ActuatorSpec {
        name: name.into(),
        output: OutputSpec::Gpio {
            chip: None,
            line,
            polarity,
        },
        safe_state: State::Off,
        duty_limits: None,
        servo: None,
    }
}

fn pwm(name: &str, frequency_hz: f64) -> ActuatorSpec {
    ActuatorSpec {
        name: name.into(),
        output: OutputSpec::Pwm {
            chip: 0,
            channel: 0,
            frequency_hz,
        },
        safe_state: State::Off,
        duty_limits: None,
        servo: None,
    }
}

fn pca_channel(name: &str, channel: u8, frequency_hz: f64) -> ActuatorSpec {
    ActuatorSpec {
        name: name.into(),
        output: OutputSpec::Pca9685 {
            bus: BusAddress::I2c { bus: 1 },
            address: 0x41,
            channel,
            frequency_hz,
        },
        safe_state: State::Off,
        duty_limits: None,
        servo: None,
    }
}

/// A fresh log path for one test.
fn log_path(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "edgewise-sim-outputs-{test}-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

fn board_with_log(path: &Path) -> SimBoard {
    SimBoard::new(SimOptions {
        outputs_log: Some(path.to_path_buf()),
        ..SimOptions::default()
    })
}

/// Each line of the log as JSON.
fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// (output, state, inherited) of each log line.
fn log_states(path: &Path) -> Vec<(String, Value, bool)> {
    log_lines(path)
        .into_iter()
        .map(|line| {
            (
                line["output"].as_str().unwrap().to_string(),
                line["state"].clone(),
                line.get("inherited") == Some(&Value::Bool(true)),
            )
        })
        .collect()
}

fn values(board: &SimBoard, output: &str) -> Vec<OutputValue> {
    board
        .outputs()
        .changes_of(output)
        .into_iter()
        .map(|change| change.value)
        .collect()
}

fn open(board: &SimBoard, spec: &ActuatorSpec) -> Box<dyn DynActuator> {
    board
        .open_actuator(spec)
        .unwrap_or_else(|error| panic!("opening {}: {error}", spec.name))
}

#[test]
fn an_active_low_relay_is_low_when_on_and_the_log_says_on() {
    let path = log_path("relay");
    let board = board_with_log(&path);
    let mut pump = open(&board, &relay("pump", 17, Polarity::ActiveLow));
    // Opening does not drive the line.
    assert!(values(&board, "pump").is_empty());
    assert_eq!(pump.state(), None);
    assert_eq!(pump.apply_safe_state(), Ok(State::Off));
    assert_eq!(pump.set(Command::On), Ok(State::On));
    assert_eq!(pump.set(Command::On), Ok(State::On));
    assert_eq!(pump.set(Command::Off), Ok(State::Off));
    assert_eq!(
        values(&board, "pump"),
        [OutputValue::High, OutputValue::Low, OutputValue::High]
    );
    // One line per change of the logical state, the repeated "on" not among them.
    assert_eq!(
        log_states(&path),
        [
            ("pump".into(), Value::from("off"), false),
            ("pump".into(), Value::from("on"), false),
            ("pump".into(), Value::from("off"), false),
        ]
    );
    // Stamped with the wall clock, in order.
    let stamps: Vec<u64> = log_lines(&path)
        .iter()
        .map(|line| line["at_unix_ns"].as_u64().unwrap())
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    assert!(
        stamps.windows(2).all(|pair| pair[0] <= pair[1]),
        "{stamps:?}"
    );
    assert!(u128::from(stamps[2]) <= now && now - u128::from(stamps[0]) < 60_000_000_000);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_pwm_fan_is_clamped_to_its_duty_limits() {
    let path = log_path("fan");
    let board = board_with_log(&path);
    let spec = ActuatorSpec {
        duty_limits: Some((0.2, 0.8)),
        ..pwm("fan", 25_000.0)
    };
    let mut fan = open(&board, &spec);
    assert_eq!(fan.set(Command::Fraction(0.05)), Ok(State::Fraction(0.2)));
    assert_eq!(fan.set(Command::Fraction(0.95)), Ok(State::Fraction(0.8)));
    assert_eq!(fan.set(Command::On), Ok(State::Fraction(0.8)));
    assert_eq!(fan.set(Command::Off), Ok(State::Off));
    // The channel's 16-bit duty: 0.2 × 65535 = 13107, 0.8 × 65535 = 52428.
    assert_eq!(
        values(&board, "fan"),
        [
            OutputValue::Duty(13_107.0 / 65_535.0),
            OutputValue::Duty(52_428.0 / 65_535.0),
            OutputValue::Duty(0.0),
        ]
    );
    let states: Vec<Value> = log_states(&path).into_iter().map(|(_, s, _)| s).collect();
    assert_eq!(
        states,
        [Value::from(0.2), Value::from(0.8), Value::from("off")]
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_servo_at_50_hz_gets_the_duty_of_its_pulse() {
    let board = SimBoard::new(SimOptions::default());
    let spec = ActuatorSpec {
        servo: Some(ServoSpec {
            min_pulse_us: 1000,
            max_pulse_us: 2000,
            range_degrees: 180.0,
        }),
        ..pwm("flap", 50.0)
    };
    let mut flap = open(&board, &spec);
    assert_eq!(flap.set(Command::Angle(90.0)), Ok(State::Fraction(0.5)));
    assert_eq!(flap.set(Command::Angle(0.0)), Ok(State::Fraction(0.0)));
    assert_eq!(flap.set(Command::Angle(180.0)), Ok(State::Fraction(1.0)));
    // 1500, 1000 and 2000 µs of a 20 000 µs period, to the channel's 1/65535 resolution.
    let duties: Vec<f32> = values(&board, "flap")
        .into_iter()
        .map(|value| match value {
            OutputValue::Duty(duty) => duty,
            other => panic!("a PWM channel recorded {other:?}"),
        })
        .collect();
    let expected = [1500.0 / 20_000.0, 1000.0 / 20_000.0, 2000.0 / 20_000.0];
    assert_eq!(duties.len(), 3, "{duties:?}");
    for (duty, pulse) in duties.iter().zip(expected) {
        assert!((duty - pulse).abs() <= 1.0 / 65_535.0, "{duty} vs {pulse}");
    }
    let fault = flap.set(Command::Angle(200.0)).unwrap_err();
    assert_eq!(fault.kind, ActuatorErrorKind::InvalidValue);
    assert_eq!(values(&board, "flap").len(), 3);
}

#[test]
fn pca9685_channels_share_one_chip_at_one_frequency() {
    let board = SimBoard::new(SimOptions::default());
    let mut fan = open(&board, &pca_channel("fan", 3, 1000.0));
    let mut lamp = open(&board, &pca_channel("lamp", 5, 1000.0));
    let model = board.pca9685(1, 0x41).expect("the chip was attached");
    // PRE_SCALE = round(25 MHz / (4096 · 1000)) − 1 = round(6.10) − 1 = 5: 1017.25 Hz.
    assert_eq!(model.with(|chip| chip.prescale()), 5);
    let hz = model.with(|chip| chip.frequency_hz());
    assert!((hz - 25e6 / (4096.0 * 6.0)).abs() < 1e-9, "{hz}");
    assert!(!model.with(|chip| chip.is_asleep()));

    assert_eq!(fan.set(Command::Fraction(0.25)), Ok(State::Fraction(0.25)));
    assert_eq!(lamp.set(Command::On), Ok(State::Fraction(1.0)));
    assert_eq!(model.with(|chip| chip.duty(3)), Some(0.25));
    assert_eq!(model.with(|chip| chip.duty(5)), Some(1.0));
    assert_eq!(fan.set(Command::Off), Ok(State::Off));
    assert_eq!(model.with(|chip| chip.duty(3)), Some(0.0));
    assert_eq!(model.with(|chip| chip.duty(5)), Some(1.0));
    // The board's timeline shows the channels under their actuators' names.
    assert_eq!(
        values(&board, "fan"),
        [OutputValue::Duty(0.25), OutputValue::Duty(0.0)]
    );
    assert_eq!(values(&board, "lamp"), [OutputValue::Duty(1.0)]);

    // A scan finds the chip where the outputs put it.
    let hits = board.scan(BusAddress::I2c { bus: 1 }).unwrap();
    assert!(
        hits.iter().any(|hit| hit.address == 0x41),
        "{:?}",
        hits.iter().map(|h: &ScanHit| h.address).collect::<Vec<_>>()
    );

    // A third actuator asking the same chip for another frequency is refused, and nothing
    // about the chip changes.
    let Err(error) = board.open_actuator(&pca_channel("servo", 7, 50.0)) else {
        panic!("a second frequency on one chip must be refused");
    };
    assert_eq!(
        error.to_string(),
        "actuator `servo`: the PCA9685 at i2c-1 0x41 already runs at 1000 Hz for actuator \
         `fan`; 50 Hz cannot be set on the same chip (its 16 channels share one prescaler): \
         use one frequency for both, or another chip"
    );
    assert_eq!(model.with(|chip| chip.prescale()), 5);

    // A bus failure is a fault that leaves the state unknown.
    board.i2c_bus(1).inject(0x41, Fault::Nack, Times::Once);
    let fault = lamp.set(Command::Fraction(0.5)).unwrap_err();
    assert!(fault.message.starts_with("actuator `lamp`: "), "{fault}");
    assert_eq!(lamp.state(), None);
    assert_eq!(lamp.set(Command::Fraction(0.5)), Ok(State::Fraction(0.5)));
    assert_eq!(model.with(|chip| chip.duty(5)), Some(0.5));
}

#[test]
fn an_angle_for_a_relay_is_refused_and_nothing_changes() {
    let path = log_path("angle");
    let board = board_with_log(&path);
    let mut valve = open(&board, &relay("valve", 22, Polarity::ActiveHigh));
    assert_eq!(valve.set(Command::On), Ok(State::On));
    let fault = valve.set(Command::Angle(45.0)).unwrap_err();
    assert_eq!(fault.kind, ActuatorErrorKind::Unsupported);
    assert!(fault.message.starts_with("actuator `valve`: "), "{fault}");
    let fault = valve.set(Command::Fraction(0.4)).unwrap_err();
    assert_eq!(fault.kind, ActuatorErrorKind::Unsupported);
    assert_eq!(valve.state(), Some(State::On));
    assert_eq!(values(&board, "valve"), [OutputValue::High]);
    assert_eq!(log_states(&path).len(), 1);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_failing_pin_gives_a_fault_and_an_unknown_state() {
    let board = SimBoard::new(SimOptions::default());
    let mut valve = open(&board, &relay("valve", 22, Polarity::ActiveHigh));
    assert_eq!(valve.set(Command::On), Ok(State::On));
    board.set_output_failing("valve", true);
    let fault = valve.set(Command::Off).unwrap_err();
    assert_eq!(fault.kind, ActuatorErrorKind::Hardware);
    assert!(fault.message.starts_with("actuator `valve`: "), "{fault}");
    assert_eq!(valve.state(), None);
    // The line kept its level: nothing new on the timeline.
    assert_eq!(values(&board, "valve"), [OutputValue::High]);
    board.set_output_failing("valve", false);
    assert_eq!(valve.set(Command::Off), Ok(State::Off));
    assert_eq!(
        values(&board, "valve"),
        [OutputValue::High, OutputValue::Low]
    );

    // PWM channels fail the same way.
    let mut fan = open(&board, &pwm("fan", 25_000.0));
    board.set_output_failing("fan", true);
    assert_eq!(
        fan.set(Command::Fraction(0.5)).unwrap_err().kind,
        ActuatorErrorKind::Hardware
    );
    assert_eq!(fan.state(), None);
}

#[test]
fn after_a_crash_an_output_reopens_in_the_state_it_was_left() {
    let path = log_path("crash");
    {
        let board = board_with_log(&path);
        let mut heater = open(&board, &relay("heater", 5, Polarity::ActiveLow));
        let mut fan = open(&board, &pwm("fan", 25_000.0));
        heater.apply_safe_state().unwrap();
        heater.set(Command::On).unwrap();
        fan.set(Command::Fraction(0.4)).unwrap();
        // The process dies here: no safe state is applied.
    }
    let board = board_with_log(&path);
    let mut heater = open(&board, &relay("heater", 5, Polarity::ActiveLow));
    let fan = open(&board, &pwm("fan", 25_000.0));
    // The hardware is as it was left (on is low for this relay), recorded at open; the
    // caller has set nothing yet.
    assert_eq!(values(&board, "heater"), [OutputValue::Low]);
    assert_eq!(
        values(&board, "fan"),
        [OutputValue::Duty(26_214.0 / 65_535.0)]
    );
    assert_eq!(heater.state(), None);
    assert_eq!(fan.state(), None);
    let states = log_states(&path);
    assert_eq!(
        states[3..],
        [
            ("heater".into(), Value::from("on"), true),
            ("fan".into(), Value::from(0.4), true),
        ]
    );
    // The caller then applies the safe state, which the log records as a change.
    assert_eq!(heater.apply_safe_state(), Ok(State::Off));
    assert_eq!(
        values(&board, "heater"),
        [OutputValue::Low, OutputValue::High]
    );
    assert_eq!(
        log_states(&path).last().cloned(),
        Some(("heater".into(), Value::from("off"), false))
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_pca9685_on_an_spi_bus_or_channel_16_is_refused() {
    let board = SimBoard::new(SimOptions::default());
    let mut spec = pca_channel("fan", 16, 1000.0);
    let error = board.open_actuator(&spec).err().unwrap();
    assert_eq!(
        error.to_string(),
        "actuator `fan`: PCA9685 channel 16 does not exist (0..=15)"
    );
    spec.output = OutputSpec::Pca9685 {
        bus: BusAddress::Spi {
            bus: 0,
            chip_select: 0,
        },
        address: 0x40,
        channel: 0,
        frequency_hz: 1000.0,
    };
    let error = board.open_actuator(&spec).err().unwrap();
    assert_eq!(
        error.to_string(),
        "actuator `fan`: a PCA9685 is an I²C chip; spi-0.0 is an SPI bus"
    );
}

#[test]
fn the_log_is_created_with_its_directory_when_the_first_output_is_set() {
    // Outputs are opened before the agent creates its data directory.
    let dir = std::env::temp_dir().join(format!("edgewise-sim-outputs-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("data").join("sim-outputs.jsonl");
    let board = board_with_log(&path);
    let mut relay = open(&board, &relay("relay", 17, Polarity::ActiveHigh));
    assert_eq!(relay.apply_safe_state(), Ok(State::Off));
    assert_eq!(
        log_states(&path),
        [("relay".to_string(), Value::from("off"), false)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
