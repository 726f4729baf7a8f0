//! `cargo xtask dist --board B [--onnx]`: a tarball a user unpacks on the device and installs
//! as a hardened systemd service.
//!
//! `target/dist/edgewise-<version>-<board>.tar.gz` holds one directory with the release binary,
//! the board's example config (as `edgewise.toml`), `edgewise.service`, `install.sh` and a
//! `README`. The unit is generated from the config: it may open only the device nodes the
//! config's sensors use (`bus = "i2c-1"` → `/dev/i2c-1`), runs in only those devices' groups,
//! and waits on stop as long as the config's sinks may take to flush.
//!
//! A config with actuators gets `ExecStopPost=edgewise safe-state`: systemd runs it after the
//! agent has exited for any reason (a stop, a crash, SIGKILL, a watchdog kill), so an output
//! the agent left on (a heater, a pump) is put in its declared safe state even when the agent
//! had no chance to do it itself.
//!
//! The service runs as a static system user `edgewise` (created by `install.sh`) rather than
//! with `DynamicUser=yes`: the files a config names (TLS client key, password file, model) sit
//! in /etc/edgewise and must be readable by a stable owner (`root:edgewise`, mode 0640), which a
//! UID allocated at each start cannot be given.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::boards::{self, Board};
use crate::cmd::{target_dir, workspace_root, Cmd, Fail};

/// Where the service finds its files on the device.
const INSTALLED_BINARY: &str = "/usr/local/bin/edgewise";
const INSTALLED_CONFIG: &str = "/etc/edgewise/edgewise.toml";
/// `StateDirectory=edgewise`: the only path the service may write (the outbox lives here).
const STATE_DIRECTORY: &str = "/var/lib/edgewise";

/// How long a sink may wait for an acknowledgement when its config does not say: the MQTT
/// `ack_timeout` and HTTP `request_timeout` defaults of the runtime's schema.
const DEFAULT_SINK_TIMEOUT: Duration = Duration::from_secs(10);
/// Added to the longest sink timeout for `TimeoutStopSec=`: closing the outbox and the
/// connections after the last flush.
const STOP_MARGIN: Duration = Duration::from_secs(5);

/// The files in the tarball's directory, in the order `tar` lists them.
pub const TARBALL_FILES: [&str; 5] = [
    "edgewise",
    "edgewise.toml",
    "edgewise.service",
    "install.sh",
    "README",
];

/// Builds the board's binary and packs the tarball; prints the binary's and the tarball's size.
pub fn dist(board: Board, onnx: bool) -> Result<PathBuf, Fail> {
    let config_path = workspace_root().join(example_config(board));
    let config = std::fs::read_to_string(&config_path)
        .map_err(|e| Fail(format!("cannot read {}: {e}", config_path.display())))?;
    // Checked before the (long) build: a config the unit cannot be made for fails at once.
    let service = ServicePlan::from_config(&config, &config_path)?;

    let mut features = board.agent_features().to_string();
    if onnx {
        features.push_str(",onnx");
    }
    let binary = boards::build_agent(board, &features)?;
    println!(
        "edgewise for {} (features {features}): {}",
        board.name(),
        human_size(file_size(&binary)?)
    );

    let name = format!("edgewise-{}-{}", env!("CARGO_PKG_VERSION"), board.name());
    let tarball = pack(
        &target_dir().join("dist"),
        &name,
        &binary,
        &config,
        &service,
    )?;
    println!(
        "{}: {}",
        tarball.display(),
        human_size(file_size(&tarball)?)
    );
    Ok(tarball)
}

/// The example config shipped for a board (relative to the workspace root).
fn example_config(board: Board) -> &'static str {
    match board {
        Board::Rpi4 | Board::RpiZero2 => "examples/configs/rpi4.toml",
        Board::LinuxArm64 => "examples/configs/linux.toml",
        Board::Host => "examples/configs/sim.toml",
    }
}

/// Writes the tarball's directory under `out_dir` and packs it as `<name>.tar.gz` there.
pub fn pack(
    out_dir: &Path,
    name: &str,
    binary: &Path,
    config: &str,
    service: &ServicePlan,
) -> Result<PathBuf, Fail> {
    let staging = out_dir.join(name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| Fail(format!("cannot remove {}: {e}", staging.display())))?;
    }
    create_dir(&staging)?;
    copy(binary, &staging.join("edgewise"))?;
    write(&staging.join("edgewise.toml"), config)?;
    write(
        &staging.join("edgewise.service"),
        &service.unit(INSTALLED_BINARY),
    )?;
    write(&staging.join("install.sh"), &service.install_script())?;
    write(&staging.join("README"), &service.readme(name))?;
    make_executable(&staging.join("install.sh"))?;
    make_executable(&staging.join("edgewise"))?;

    let tarball = out_dir.join(format!("{name}.tar.gz"));
    let mut args = vec![
        "--owner=0".to_string(),
        "--group=0".to_string(),
        "--numeric-owner".to_string(),
        "-czf".to_string(),
        tarball.display().to_string(),
        "-C".to_string(),
        out_dir.display().to_string(),
    ];
    args.extend(TARBALL_FILES.iter().map(|file| format!("{name}/{file}")));
    Cmd::new("tar").args(args).run()?;
    Ok(tarball)
}

/// What the systemd unit and the installer need to know about a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    /// Device nodes the sensors use, sorted, each once.
    pub devices: Vec<String>,
    /// The groups that own those nodes on Raspberry Pi OS (and after `install.sh` elsewhere).
    pub groups: Vec<&'static str>,
    /// `TimeoutStopSec=`, whole seconds.
    pub stop_timeout_secs: u64,
    /// The config has actuators: `ExecStopPost=` restores their safe states.
    pub actuators: bool,
    /// An actuator is a sysfs PWM channel (`/sys/class/pwm`), which the service must write.
    pub sysfs_pwm: bool,
}

/// A kind of device node a sensor's bus opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceKind {
    I2c,
    Spi,
    Gpio,
}

impl DeviceKind {
    /// The group that owns such nodes on Raspberry Pi OS.
    fn group(self) -> &'static str {
        match self {
            Self::I2c => "i2c",
            Self::Spi => "spi",
            Self::Gpio => "gpio",
        }
    }

    /// A udev rule giving such nodes to [`Self::group`], for systems that do not.
    fn udev_rule(self) -> &'static str {
        match self {
            Self::I2c => r#"SUBSYSTEM=="i2c-dev", GROUP="i2c", MODE="0660""#,
            Self::Spi => r#"SUBSYSTEM=="spidev", GROUP="spi", MODE="0660""#,
            Self::Gpio => r#"SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660""#,
        }
    }

    fn from_group(group: &str) -> Option<Self> {
        [Self::I2c, Self::Spi, Self::Gpio]
            .into_iter()
            .find(|kind| kind.group() == group)
    }
}

/// The device node a config's `bus` opens: `i2c-1` → `/dev/i2c-1`, `spi-0.1` →
/// `/dev/spidev0.1`, `gpio` / `gpiochipN` → `/dev/gpiochip0` / `/dev/gpiochipN`.
fn device_node(bus: &str) -> Option<(DeviceKind, String)> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(number) = bus.strip_prefix("i2c-").filter(|n| all_digits(n)) {
        return Some((DeviceKind::I2c, format!("/dev/i2c-{number}")));
    }
    if let Some((bus_number, chip_select)) =
        bus.strip_prefix("spi-").and_then(|r| r.split_once('.'))
    {
        if all_digits(bus_number) && all_digits(chip_select) {
            return Some((
                DeviceKind::Spi,
                format!("/dev/spidev{bus_number}.{chip_select}"),
            ));
        }
    }
    if bus == "gpio" {
        return Some((DeviceKind::Gpio, "/dev/gpiochip0".into()));
    }
    if let Some(chip) = bus.strip_prefix("gpiochip").filter(|n| all_digits(n)) {
        return Some((DeviceKind::Gpio, format!("/dev/gpiochip{chip}")));
    }
    None
}

impl ServicePlan {
    /// Reads the sensors' buses and the sinks' timeouts from a config's TOML text. Only what
    /// the unit needs is read: whether the rest is valid is `edgewise check`'s job.
    pub fn from_config(config: &str, path: &Path) -> Result<Self, Fail> {
        let at = path.display();
        let table = toml::Table::from_str(config)
            .map_err(|e| Fail(format!("{at}: not valid TOML: {e}")))?;

        let mut devices = Vec::new();
        let mut groups = Vec::new();
        for (index, sensor) in array_of_tables(&table, "sensors", &at)?.iter().enumerate() {
            let name = sensor
                .get("name")
                .and_then(toml::Value::as_str)
                .map_or_else(|| format!("sensors[{index}]"), |n| format!("sensor `{n}`"));
            let bus = sensor
                .get("bus")
                .and_then(toml::Value::as_str)
                .ok_or_else(|| Fail(format!("{at}: {name} has no `bus` string")))?;
            let (kind, node) = device_node(bus).ok_or_else(|| {
                Fail(format!(
                    "{at}: {name}: bus `{bus}` names no device node; expected `i2c-N`, \
                     `spi-B.C`, `gpio` or `gpiochipN`"
                ))
            })?;
            devices.push(node);
            groups.push(kind.group());
        }
        let actuators = array_of_tables(&table, "actuators", &at)?;
        let mut sysfs_pwm = false;
        let rpi = table.get("board").and_then(toml::Value::as_str) == Some("rpi");
        for (index, actuator) in actuators.iter().enumerate() {
            let name = actuator
                .get("name")
                .and_then(toml::Value::as_str)
                .map_or_else(
                    || format!("actuators[{index}]"),
                    |n| format!("actuator `{n}`"),
                );
            let text = |key: &str| actuator.get(key).and_then(toml::Value::as_str);
            match text("driver") {
                // rppal drives GPIO through the SoC's registers in /dev/gpiomem.
                Some("gpio") if rpi => {
                    devices.push("/dev/gpiomem".into());
                    groups.push(DeviceKind::Gpio.group());
                }
                Some("gpio") => {
                    let chip = text("chip").unwrap_or("gpiochip0");
                    let node = if chip.starts_with('/') {
                        chip.to_string()
                    } else {
                        format!("/dev/{chip}")
                    };
                    devices.push(node);
                    groups.push(DeviceKind::Gpio.group());
                }
                Some("pca9685") => {
                    let bus = text("bus").ok_or_else(|| {
                        Fail(format!("{at}: {name} is a pca9685 with no `bus` string"))
                    })?;
                    let (kind, node) = device_node(bus).ok_or_else(|| {
                        Fail(format!(
                            "{at}: {name}: bus `{bus}` names no device node; expected `i2c-N`"
                        ))
                    })?;
                    devices.push(node);
                    groups.push(kind.group());
                }
                // PWM channels are files in /sys/class/pwm, owned by group gpio on
                // Raspberry Pi OS.
                Some("pwm") => {
                    sysfs_pwm = true;
                    groups.push(DeviceKind::Gpio.group());
                }
                // Whether the driver exists is `edgewise check`'s job.
                _ => {}
            }
        }
        devices.sort();
        devices.dedup();
        groups.sort_unstable();
        groups.dedup();

        let mut longest_sink_timeout = DEFAULT_SINK_TIMEOUT;
        for (index, sink) in array_of_tables(&table, "sinks", &at)?.iter().enumerate() {
            for (transport, key) in [("mqtt", "ack_timeout"), ("http", "request_timeout")] {
                let Some(text) = sink.get(transport).and_then(|t| t.get(key)) else {
                    continue;
                };
                let timeout = text.as_str().and_then(parse_duration).ok_or_else(|| {
                    let found = text
                        .as_str()
                        .map_or_else(|| text.type_str().to_string(), |s| format!("\"{s}\""));
                    Fail(format!(
                        "{at}: sinks[{index}].{transport}.{key}: expected a duration like \
                         \"10s\", found {found}"
                    ))
                })?;
                longest_sink_timeout = longest_sink_timeout.max(timeout);
            }
        }
        let stop = longest_sink_timeout + STOP_MARGIN;
        let stop_timeout_secs = stop.as_secs() + u64::from(stop.subsec_nanos() > 0);

        Ok(Self {
            devices,
            groups,
            stop_timeout_secs,
            actuators: !actuators.is_empty(),
            sysfs_pwm,
        })
    }

    /// The systemd unit, starting `binary`.
    pub fn unit(&self, binary: &str) -> String {
        let mut unit = String::new();
        let mut line = |text: &str| {
            unit.push_str(text);
            unit.push('\n');
        };
        line("[Unit]");
        line(
            "Description=edgewise agent: sensors, a local model, delivery over standard protocols",
        );
        line("Wants=network-online.target");
        line("After=network-online.target");
        line("");
        line("[Service]");
        line("Type=simple");
        line(&format!(
            "ExecStart={binary} run {INSTALLED_CONFIG} --data-dir {STATE_DIRECTORY}"
        ));
        line("# The agent reloads its config on SIGHUP (a bad new config is rejected).");
        line("ExecReload=/bin/kill -HUP $MAINPID");
        if self.actuators {
            line("# Runs after the agent exited for any reason, a crash or SIGKILL included: puts");
            line("# every output in the safe state the config declares, so a heater or pump the");
            line("# agent left on does not stay on. `Restart=` waits for it.");
            line(&format!(
                "ExecStopPost={binary} safe-state {INSTALLED_CONFIG} --data-dir {STATE_DIRECTORY}"
            ));
        }
        line("# SIGTERM: stop sampling, flush to the sinks, close. The wait covers the longest");
        line("# sink acknowledgement timeout plus closing; what is not delivered by then stays");
        line("# in the outbox on disk and goes out after the restart.");
        line("KillSignal=SIGTERM");
        line(&format!("TimeoutStopSec={}s", self.stop_timeout_secs));
        line("Restart=on-failure");
        line("RestartSec=5s");
        line("# Passwords given as { env = \"…\" } in the config go in this file (mode 0600).");
        line("EnvironmentFile=-/etc/edgewise/edgewise.env");
        line("");
        line("# A dedicated system user (created by install.sh), in the groups of the device");
        line("# nodes the config uses and no others.");
        line("User=edgewise");
        line("Group=edgewise");
        if !self.groups.is_empty() {
            line(&format!("SupplementaryGroups={}", self.groups.join(" ")));
        }
        line("UMask=0077");
        line("");
        line("# Read-only everywhere except the state directory, where the outbox lives.");
        line("StateDirectory=edgewise");
        line("StateDirectoryMode=0750");
        line("ProtectSystem=strict");
        line("ProtectHome=yes");
        line("PrivateTmp=yes");
        line("");
        line("# Only the device nodes the config's sensors use.");
        line("DevicePolicy=closed");
        for device in &self.devices {
            line(&format!("DeviceAllow={device} rw"));
        }
        line("");
        line("# No privileges, and no way to gain any.");
        line("NoNewPrivileges=yes");
        line("CapabilityBoundingSet=");
        line("AmbientCapabilities=");
        line("RestrictSUIDSGID=yes");
        line("LockPersonality=yes");
        line("MemoryDenyWriteExecute=yes");
        line("RestrictRealtime=yes");
        line("RestrictNamespaces=yes");
        line("RemoveIPC=yes");
        line("ProtectClock=yes");
        line("ProtectHostname=yes");
        if self.sysfs_pwm {
            line("# PWM outputs are written through /sys/class/pwm, which ProtectKernelTunables");
            line("# would make read-only.");
            line("ProtectKernelTunables=no");
        } else {
            line("ProtectKernelTunables=yes");
        }
        line("ProtectKernelModules=yes");
        line("ProtectKernelLogs=yes");
        line("ProtectControlGroups=yes");
        line("ProtectProc=invisible");
        line("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX");
        line("SystemCallArchitectures=native");
        line("SystemCallFilter=@system-service");
        line("SystemCallErrorNumber=EPERM");
        line("");
        line("[Install]");
        line("WantedBy=multi-user.target");
        unit
    }

    /// `install.sh`: the user, the device groups, the files, the unit enabled (not started:
    /// the shipped config names a broker and certificates the user has to fill in first).
    pub fn install_script(&self) -> String {
        let mut script = String::from(
            "#!/bin/sh\n\
             # Installs edgewise as a systemd service. Run as root from this directory.\n\
             set -eu\n\
             cd \"$(dirname \"$0\")\"\n\
             if [ \"$(id -u)\" -ne 0 ]; then\n\
             \x20   echo \"install.sh: run as root (sudo ./install.sh)\" >&2\n\
             \x20   exit 1\n\
             fi\n\n",
        );
        if !self.groups.is_empty() {
            script.push_str(
                "# The device nodes' groups. Raspberry Pi OS has them (and udev rules giving them\n\
                 # the nodes); elsewhere they are created with a rule that does.\n",
            );
            for group in &self.groups {
                let rule = DeviceKind::from_group(group).map_or("", DeviceKind::udev_rule);
                let _ = writeln!(
                    script,
                    "if ! getent group {group} >/dev/null; then\n\
                     \x20   groupadd --system {group}\n\
                     \x20   echo '{rule}' >> /etc/udev/rules.d/60-edgewise.rules\n\
                     \x20   reload_udev=yes\n\
                     fi"
                );
            }
            script.push_str(
                "if [ \"${reload_udev:-no}\" = yes ]; then\n\
                 \x20   udevadm control --reload && udevadm trigger\n\
                 fi\n\n",
            );
        }
        script.push_str(&format!(
            "# The service's own user: no login, no home; its data is in {STATE_DIRECTORY}.\n\
             if ! getent passwd edgewise >/dev/null; then\n\
             \x20   useradd --system --user-group --no-create-home --home-dir {STATE_DIRECTORY} \\\n\
             \x20       --shell /usr/sbin/nologin edgewise\n\
             fi\n\n\
             install -m 0755 edgewise {INSTALLED_BINARY}\n\
             # The config and its secrets are readable by the service, writable by root only.\n\
             install -d -m 0750 -o root -g edgewise /etc/edgewise\n\
             if [ -e {INSTALLED_CONFIG} ]; then\n\
             \x20   echo \"keeping the existing {INSTALLED_CONFIG} (the shipped one is ./edgewise.toml)\"\n\
             else\n\
             \x20   install -m 0640 -o root -g edgewise edgewise.toml {INSTALLED_CONFIG}\n\
             fi\n\
             install -m 0644 edgewise.service /etc/systemd/system/edgewise.service\n\
             systemctl daemon-reload\n\
             systemctl enable edgewise.service\n\n\
             if {INSTALLED_BINARY} check {INSTALLED_CONFIG}; then\n\
             \x20   echo \"installed and enabled: sudo systemctl start edgewise\"\n\
             else\n\
             \x20   echo \"installed and enabled; fix {INSTALLED_CONFIG} as shown, then: sudo systemctl start edgewise\"\n\
             fi\n"
        ));
        script
    }

    /// The tarball's README.
    pub fn readme(&self, name: &str) -> String {
        let devices = if self.devices.is_empty() {
            "none (no sensor on a device bus)".to_string()
        } else {
            self.devices.join(", ")
        };
        let safe_state = if self.actuators {
            format!(
                "\nOutputs: the agent puts every actuator in its declared safe state at start,\n\
                 on stop, when its control loop stops and when a watchdog expires. After a\n\
                 crash or SIGKILL the unit's ExecStopPost runs\n\
                 `{INSTALLED_BINARY} safe-state {INSTALLED_CONFIG}`, which does the same from a\n\
                 fresh process; run it by hand to check the wiring.\n"
            )
        } else {
            String::new()
        };
        format!(
            "{name}\n\n\
             The edgewise agent for this board, as a systemd service.\n\n\
             \x20 edgewise          the agent ({INSTALLED_BINARY})\n\
             \x20 edgewise.toml     an example config ({INSTALLED_CONFIG}); edit it first:\n\
             \x20                   broker, certificates, model path, sensors\n\
             \x20 edgewise.service  the systemd unit\n\
             \x20 install.sh        creates the `edgewise` user, installs and enables the unit\n\n\
             Install:\n\n\
             \x20 sudo ./install.sh\n\
             \x20 sudoedit {INSTALLED_CONFIG}\n\
             \x20 edgewise check {INSTALLED_CONFIG}\n\
             \x20 sudo systemctl start edgewise\n\
             \x20 journalctl -u edgewise -f\n\n\
             Try it first without hardware: `./edgewise run` runs the built-in config on\n\
             simulated chips.\n\n\
             The service runs as the unprivileged user `edgewise`, may write only\n\
             {STATE_DIRECTORY} (its outbox), and may open only these device nodes: {devices}.\n\
             A sensor on another bus needs a DeviceAllow= line (and its group in\n\
             SupplementaryGroups=) in /etc/systemd/system/edgewise.service, or rebuild the\n\
             tarball from the changed config. Files the config names (model, certificates,\n\
             password files) belong in /etc/edgewise, owned root:edgewise, mode 0640.\n\
             `systemctl reload edgewise` reloads the config; a bad one is rejected and the old\n\
             one keeps running.\n{safe_state}"
        )
    }
}

/// `[[key]]` tables of a config; absent means none.
fn array_of_tables<'t>(
    table: &'t toml::Table,
    key: &str,
    at: &impl std::fmt::Display,
) -> Result<Vec<&'t toml::Table>, Fail> {
    let Some(value) = table.get(key) else {
        return Ok(Vec::new());
    };
    let not_tables = || {
        Fail(format!(
            "{at}: `{key}` must be an array of tables ([[{key}]])"
        ))
    };
    value
        .as_array()
        .ok_or_else(not_tables)?
        .iter()
        .map(|item| item.as_table().ok_or_else(not_tables))
        .collect()
}

/// `"10s"`, `"500ms"`, `"2m"`, `"1.5s"` (the units a sink timeout is written in).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds_per_unit = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(number * seconds_per_unit).ok()
}

fn file_size(path: &Path) -> Result<u64, Fail> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Fail(format!("cannot read {}: {e}", path.display())))
}

/// `12.3 MiB (12901234 bytes)`.
pub fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a size to print
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("{mib:.1} MiB ({bytes} bytes)")
}

fn create_dir(path: &Path) -> Result<(), Fail> {
    std::fs::create_dir_all(path)
        .map_err(|e| Fail(format!("cannot create {}: {e}", path.display())))
}

fn write(path: &Path, contents: &str) -> Result<(), Fail> {
    std::fs::write(path, contents)
        .map_err(|e| Fail(format!("cannot write {}: {e}", path.display())))
}

fn copy(from: &Path, to: &Path) -> Result<(), Fail> {
    std::fs::copy(from, to).map(drop).map_err(|e| {
        Fail(format!(
            "cannot copy {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

fn make_executable(path: &Path) -> Result<(), Fail> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Fail(format!("cannot make {} executable: {e}", path.display())))
}

#[cfg(test)]
mod tests;
