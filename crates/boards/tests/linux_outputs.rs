//! Outputs on the Linux board without hardware: a missing GPIO chip or PWM chip is an error
//! that names its path, and a PWM channel writes the values sysfs-class-pwm documents
//! (against a directory laid out like `/sys/class/pwm`).
#![cfg(feature = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use edgewise_boards::actuator::{Command, Polarity, State};
use edgewise_boards::linux::{gpio_chip_path, LinuxBoard};
use edgewise_boards::{ActuatorSpec, Board, OutputSpec};

fn relay(chip: Option<&str>) -> ActuatorSpec {
    ActuatorSpec {
        name: "relay".into(),
        output: OutputSpec::Gpio {
            chip: chip.map(str::to_string),
            line: 17,
            polarity: Polarity::ActiveLow,
        },
        safe_state: State::Off,
        duty_limits: None,
        servo: None,
    }
}

fn fan(chip: u32, channel: u32) -> ActuatorSpec {
    ActuatorSpec {
        name: "fan".into(),
        output: OutputSpec::Pwm {
            chip,
            channel,
            frequency_hz: 25_000.0,
        },
        safe_state: State::Fraction(1.0),
        duty_limits: Some((0.2, 1.0)),
        servo: None,
    }
}

#[test]
fn gpio_chips_are_named_as_the_config_says() {
    assert_eq!(gpio_chip_path(None), Path::new("/dev/gpiochip0"));
    assert_eq!(
        gpio_chip_path(Some("gpiochip4")),
        Path::new("/dev/gpiochip4")
    );
    assert_eq!(
        gpio_chip_path(Some("/dev/gpiochip2")),
        Path::new("/dev/gpiochip2")
    );
}

#[test]
fn a_missing_gpio_chip_names_its_device_node() {
    let board = LinuxBoard::new();
    let Err(error) = board.open_actuator(&relay(Some("gpiochip99"))) else {
        panic!("/dev/gpiochip99 does not exist here");
    };
    let message = error.to_string();
    assert!(
        message.starts_with(
            "actuator `relay`: /dev/gpiochip99 does not exist: no such GPIO chip (`ls \
             /dev/gpiochip*` or `gpiodetect` lists the chips there are)"
        ),
        "{message}"
    );
}

#[test]
fn a_missing_pwm_chip_names_its_sysfs_directory() {
    // The real sysfs: no machine here has 100 PWM chips.
    let board = LinuxBoard::new();
    let Err(error) = board.open_actuator(&fan(99, 0)) else {
        panic!("pwmchip99 does not exist here");
    };
    let message = error.to_string();
    assert!(
        message.starts_with(
            "actuator `fan`: /sys/class/pwm/pwmchip99 does not exist: no such PWM chip"
        ),
        "{message}"
    );
    assert!(message.contains("dtoverlay=pwm"), "{message}");
}

/// `root/pwmchip0` with `export`, `npwm` and an exported `pwm0`, as the kernel lays it out.
fn sysfs(test: &str) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("edgewise-linux-pwm-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let chip = root.join("pwmchip0");
    fs::create_dir_all(chip.join("pwm0")).unwrap();
    fs::write(chip.join("export"), "").unwrap();
    fs::write(chip.join("npwm"), "1\n").unwrap();
    for (file, value) in [
        ("period", "0\n"),
        ("duty_cycle", "0\n"),
        ("enable", "0\n"),
        ("polarity", "normal\n"),
    ] {
        fs::write(chip.join("pwm0").join(file), value).unwrap();
    }
    root
}

fn read(root: &Path, file: &str) -> String {
    fs::read_to_string(root.join("pwmchip0/pwm0").join(file)).unwrap()
}

#[test]
fn a_fan_on_sysfs_pwm_writes_period_duty_and_enable_in_nanoseconds() {
    let root = sysfs("fan");
    let board = LinuxBoard::with_sysfs_pwm(&root);
    let mut fan = board.open_actuator(&fan(0, 0)).unwrap();
    // 25 kHz is a 40 000 ns period; opening does not start the output.
    assert_eq!(read(&root, "period"), "40000");
    assert_eq!(read(&root, "enable"), "0\n");
    // 50 % of 40 000 ns; the first duty enables the channel.
    assert_eq!(fan.set(Command::Fraction(0.5)), Ok(State::Fraction(0.5)));
    assert_eq!(read(&root, "duty_cycle"), "20000");
    assert_eq!(read(&root, "enable"), "1");
    // Below the 20 % minimum: 8000 ns.
    assert_eq!(fan.set(Command::Fraction(0.1)), Ok(State::Fraction(0.2)));
    assert_eq!(read(&root, "duty_cycle"), "8000");
    assert_eq!(fan.apply_safe_state(), Ok(State::Fraction(1.0)));
    assert_eq!(read(&root, "duty_cycle"), "40000");
    assert_eq!(fan.set(Command::Off), Ok(State::Off));
    assert_eq!(read(&root, "duty_cycle"), "0");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_duty_that_cannot_be_written_is_a_fault_naming_the_file() {
    let root = sysfs("broken");
    let board = LinuxBoard::with_sysfs_pwm(&root);
    let mut fan = board.open_actuator(&fan(0, 0)).unwrap();
    // The channel disappears (unexported by someone else).
    fs::remove_dir_all(root.join("pwmchip0/pwm0")).unwrap();
    let fault = fan.set(Command::Fraction(0.5)).unwrap_err();
    let expected = format!(
        "actuator `fan`: PWM channel error: cannot write 20000 to {}",
        root.join("pwmchip0/pwm0/duty_cycle").display()
    );
    assert!(fault.message.starts_with(&expected), "{fault}");
    assert!(fault.message.contains("not exported"), "{fault}");
    assert_eq!(fan.state(), None);
    fs::remove_dir_all(&root).unwrap();
}
