//! The unit and tarball against the shipped example configs, `systemd-analyze verify` and
//! `tar tzf`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{pack, ServicePlan, TARBALL_FILES};
use crate::cmd::workspace_root;

fn plan_for(example: &str) -> ServicePlan {
    let path = workspace_root().join("examples/configs").join(example);
    let config = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    ServicePlan::from_config(&config, &path)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.0))
}

fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .map(String::from)
        .collect()
}

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_rpi4_unit_allows_exactly_the_i2c_bus_and_gpio_its_config_uses() {
    let unit = plan_for("rpi4.toml").unit("/usr/local/bin/edgewise");
    // The sensors' I²C bus, and the SoC's GPIO registers for the cabinet fan's relay.
    assert_eq!(
        lines_starting(&unit, "DeviceAllow="),
        ["DeviceAllow=/dev/gpiomem rw", "DeviceAllow=/dev/i2c-1 rw"]
    );
    assert_eq!(
        lines_starting(&unit, "DevicePolicy="),
        ["DevicePolicy=closed"]
    );
    assert_eq!(
        lines_starting(&unit, "SupplementaryGroups="),
        ["SupplementaryGroups=gpio i2c"]
    );
    assert_eq!(
        lines_starting(&unit, "ExecStopPost="),
        ["ExecStopPost=/usr/local/bin/edgewise safe-state /etc/edgewise/edgewise.toml --data-dir /var/lib/edgewise"]
    );
    assert_eq!(
        lines_starting(&unit, "ExecStart="),
        ["ExecStart=/usr/local/bin/edgewise run /etc/edgewise/edgewise.toml --data-dir /var/lib/edgewise"]
    );
    for setting in [
        "User=edgewise",
        "StateDirectory=edgewise",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "ExecReload=/bin/kill -HUP $MAINPID",
        // rpi4.toml sets no sink timeout: the 10 s default plus 5 s to close.
        "TimeoutStopSec=15s",
    ] {
        assert!(
            unit.lines().any(|l| l == setting),
            "no `{setting}` in\n{unit}"
        );
    }
}

#[test]
fn the_linux_unit_allows_its_i2c_and_spi_nodes_once_each() {
    // linux.toml has three sensors on i2c-2 and one on spi-1.0.
    let plan = plan_for("linux.toml");
    let unit = plan.unit("/usr/local/bin/edgewise");
    assert_eq!(
        lines_starting(&unit, "DeviceAllow="),
        ["DeviceAllow=/dev/i2c-2 rw", "DeviceAllow=/dev/spidev1.0 rw"]
    );
    assert_eq!(
        lines_starting(&unit, "SupplementaryGroups="),
        ["SupplementaryGroups=i2c spi"]
    );
    let script = plan.install_script();
    assert!(script.contains("groupadd --system i2c"), "{script}");
    assert!(script.contains("groupadd --system spi"), "{script}");
}

#[test]
fn gpio_buses_map_to_gpiochip_nodes_and_a_longer_ack_timeout_to_a_longer_stop() {
    let config = "[[sensors]]\nname = \"door\"\nbus = \"gpio\"\n\
                  [[sensors]]\nname = \"relay\"\nbus = \"gpiochip4\"\n\
                  [[sinks]]\nname = \"b\"\n[sinks.mqtt]\nhost = \"h\"\nack_timeout = \"30s\"\n";
    let plan = ServicePlan::from_config(config, Path::new("gpio.toml")).expect("plan");
    assert_eq!(plan.devices, ["/dev/gpiochip0", "/dev/gpiochip4"]);
    assert_eq!(plan.groups, ["gpio"]);
    assert_eq!(plan.stop_timeout_secs, 35);
}

#[test]
fn actuators_open_their_nodes_and_restore_safe_states_after_any_exit() {
    let config = "board = \"linux\"\n\
                  [[actuators]]\nname = \"heater\"\ndriver = \"gpio\"\nchip = \"gpiochip2\"\n\
                  [[actuators]]\nname = \"fan\"\ndriver = \"pwm\"\n\
                  [[actuators]]\nname = \"valve\"\ndriver = \"pca9685\"\nbus = \"i2c-3\"\n";
    let plan = ServicePlan::from_config(config, Path::new("outputs.toml")).expect("plan");
    assert_eq!(plan.devices, ["/dev/gpiochip2", "/dev/i2c-3"]);
    assert_eq!(plan.groups, ["gpio", "i2c"]);
    let unit = plan.unit("/usr/local/bin/edgewise");
    assert_eq!(
        lines_starting(&unit, "ExecStopPost="),
        [
            "ExecStopPost=/usr/local/bin/edgewise safe-state /etc/edgewise/edgewise.toml \
          --data-dir /var/lib/edgewise"
        ]
    );
    assert_eq!(
        lines_starting(&unit, "ProtectKernelTunables="),
        ["ProtectKernelTunables=no"]
    );
    assert!(plan.readme("x").contains("safe-state"));

    // On a Raspberry Pi, rppal drives GPIO through /dev/gpiomem.
    let rpi = "board = \"rpi\"\n[[actuators]]\nname = \"relay\"\ndriver = \"gpio\"\npin = 17\n";
    let plan = ServicePlan::from_config(rpi, Path::new("rpi.toml")).expect("plan");
    assert_eq!(plan.devices, ["/dev/gpiomem"]);

    // Without actuators there is nothing to restore; without PWM /sys stays read-only.
    let plain = "[[sensors]]\nname = \"room\"\nbus = \"i2c-1\"\n";
    let unit = ServicePlan::from_config(plain, Path::new("plain.toml"))
        .expect("plan")
        .unit("/usr/local/bin/edgewise");
    assert!(lines_starting(&unit, "ExecStopPost=").is_empty());
    assert_eq!(
        lines_starting(&unit, "ProtectKernelTunables="),
        ["ProtectKernelTunables=yes"]
    );
    let unit = plan_for("rpi4.toml").unit("/usr/local/bin/edgewise");
    assert_eq!(
        lines_starting(&unit, "ProtectKernelTunables="),
        ["ProtectKernelTunables=yes"]
    );
}

#[test]
fn a_bus_that_names_no_device_node_is_an_error_naming_the_sensor() {
    let config = "[[sensors]]\nname = \"pump\"\nbus = \"/dev/i2c-1\"\n";
    let error = ServicePlan::from_config(config, Path::new("pump.toml")).expect_err("bad bus");
    assert_eq!(
        error.0,
        "pump.toml: sensor `pump`: bus `/dev/i2c-1` names no device node; expected `i2c-N`, \
         `spi-B.C`, `gpio` or `gpiochipN`"
    );
    let error = ServicePlan::from_config(
        "[[sinks]]\nname = \"b\"\n[sinks.mqtt]\nack_timeout = 10\n",
        Path::new("b.toml"),
    )
    .expect_err("a number is not a duration");
    assert_eq!(
        error.0,
        "b.toml: sinks[0].mqtt.ack_timeout: expected a duration like \"10s\", found integer"
    );
}

/// `systemd-analyze verify` accepts the unit `plan` makes, without a warning about it.
fn assert_verifies(plan: &ServicePlan, name: &str) {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(
        analyze.is_file(),
        "systemd-analyze is missing: install systemd (`apt-get install systemd`)"
    );
    let dir = TempDir::new(name);
    // verify checks that ExecStart's program exists and is executable.
    let binary = dir.0.join("edgewise");
    std::fs::write(&binary, "#!/bin/sh\n").expect("write the stand-in binary");
    super::make_executable(&binary).expect("chmod");
    let unit_path = dir.0.join("edgewise.service");
    let unit = plan.unit(&binary.display().to_string());
    std::fs::write(&unit_path, &unit).expect("write the unit");

    let output = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&unit_path)
        .output()
        .expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "systemd-analyze verify failed ({}):\n{stderr}\n{unit}",
        output.status
    );
    // Warnings (an unknown or misspelt setting) do not fail verify; no line may name the unit.
    let about_unit: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("edgewise.service"))
        .collect();
    assert!(
        about_unit.is_empty(),
        "systemd-analyze verify warns:\n{stderr}"
    );
}

#[test]
fn the_rpi4_unit_passes_systemd_analyze_verify() {
    assert_verifies(&plan_for("rpi4.toml"), "unit-verify");
}

#[test]
fn a_unit_with_outputs_passes_systemd_analyze_verify() {
    let config = "[[actuators]]\nname = \"fan\"\ndriver = \"pwm\"\n\
                  [[actuators]]\nname = \"heater\"\ndriver = \"gpio\"\n";
    let plan = ServicePlan::from_config(config, Path::new("outputs.toml")).expect("plan");
    assert!(plan.actuators && plan.sysfs_pwm);
    assert_verifies(&plan, "unit-verify-outputs");
}

#[test]
fn the_tarball_holds_the_binary_config_unit_installer_and_readme() {
    let dir = TempDir::new("dist-pack");
    let binary = dir.0.join("built-edgewise");
    std::fs::write(&binary, "stand-in for the agent").expect("write the stand-in binary");
    let path = workspace_root().join("examples/configs/rpi4.toml");
    let config = std::fs::read_to_string(&path).expect("read rpi4.toml");
    let plan = ServicePlan::from_config(&config, &path).expect("plan");

    let name = "edgewise-0.0.0-rpi4";
    let tarball = pack(&dir.0, name, &binary, &config, &plan).expect("pack");
    assert_eq!(tarball, dir.0.join("edgewise-0.0.0-rpi4.tar.gz"));

    let output = Command::new("tar")
        .arg("tzvf")
        .arg(&tarball)
        .output()
        .expect("run tar");
    assert!(output.status.success(), "tar tzvf failed: {output:?}");
    let listing = String::from_utf8_lossy(&output.stdout);
    let listed: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let mode = fields.next()?;
            Some((mode, fields.last()?))
        })
        .collect();
    let expected: Vec<String> = TARBALL_FILES
        .iter()
        .map(|f| format!("{name}/{f}"))
        .collect();
    assert_eq!(
        listed.iter().map(|(_, path)| *path).collect::<Vec<_>>(),
        expected
    );
    for (mode, path) in &listed {
        let executable = path.ends_with("/edgewise") || path.ends_with("/install.sh");
        assert_eq!(mode.contains('x'), executable, "{mode} {path}");
    }
    // The config goes in unchanged.
    let unpacked = dir.0.join(name).join("edgewise.toml");
    assert_eq!(
        std::fs::read_to_string(unpacked).expect("staged config"),
        config
    );
}
