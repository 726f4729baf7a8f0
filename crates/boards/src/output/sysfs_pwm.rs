//! A PWM channel of the SoC through the kernel's sysfs interface
//! (Documentation/ABI/testing/sysfs-class-pwm), as an embedded-hal `SetDutyCycle`.
//!
//! `/sys/class/pwm/pwmchip<N>/` holds `export`; writing a channel number there creates
//! `pwm<M>/` with `period` and `duty_cycle` (ns, active time; duty ≤ period at all times) and
//! `enable` (0/1). Opening exports the channel if `pwm<M>` is absent (waiting for it to
//! appear, and for udev to give it a group, which happens just after) and writes the
//! period; the first duty written also enables the channel, so opening never starts an
//! output the caller has not set.
//!
//! Resolution: `max_duty_cycle` is the period in ns when it fits a `u16` (25 kHz: 40 000,
//! every ns addressable); longer periods (a 50 Hz servo's 20 000 000 ns) are scaled to
//! 65 535 steps (305 ns each at 50 Hz), and a duty is written as
//! round(duty · period / max_duty_cycle) ns.
//!
//! The sysfs root is a parameter so tests run against a directory laid out like the kernel's.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use embedded_hal::pwm::SetDutyCycle;

use super::OutputError;

/// Where the kernel puts PWM chips.
pub const SYSFS_PWM: &str = "/sys/class/pwm";

/// How long to wait for `pwm<M>/` and its permissions after an export: udev applies group
/// rules asynchronously, typically within tens of milliseconds.
const EXPORT_WAIT: Duration = Duration::from_secs(2);
const EXPORT_POLL: Duration = Duration::from_millis(10);

/// One exported PWM channel.
#[derive(Debug)]
pub struct SysfsPwm {
    channel_dir: PathBuf,
    period_ns: u64,
    enabled: bool,
}

impl SysfsPwm {
    /// Channel `channel` of `pwmchip<chip>` under `root` (normally [`SYSFS_PWM`]), exported
    /// if needed, with its period set for `period_ns`. The duty is left as it is and the
    /// channel's enable untouched until the first [`SetDutyCycle::set_duty_cycle`].
    pub fn open(root: &Path, chip: u32, channel: u32, period_ns: u64) -> Result<Self, OutputError> {
        let chip_dir = root.join(format!("pwmchip{chip}"));
        if !chip_dir.is_dir() {
            return Err(OutputError(format!(
                "{} does not exist: no such PWM chip (`ls {}` lists the chips there are; \
                 the PWM must be enabled in the device tree, e.g. `dtoverlay=pwm` or \
                 `dtoverlay=pwm-2chan` in /boot/firmware/config.txt on a Raspberry Pi)",
                chip_dir.display(),
                root.display()
            )));
        }
        let channel_dir = chip_dir.join(format!("pwm{channel}"));
        if !channel_dir.is_dir() {
            let export = chip_dir.join("export");
            fs::write(&export, channel.to_string())
                .map_err(|error| write_error(&export, &error, "export the channel"))?;
            wait_for_export(&channel_dir, &export, channel)?;
        }
        let mut pwm = Self {
            channel_dir,
            period_ns,
            enabled: false,
        };
        // The kernel refuses a period shorter than the duty in force: clear a longer duty
        // first (the channel is then at 0, which is off, never more than asked).
        let duty_path = pwm.channel_dir.join("duty_cycle");
        let current_duty = fs::read_to_string(&duty_path)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if current_duty > period_ns {
            pwm.write("duty_cycle", 0)?;
        }
        pwm.write("period", period_ns)?;
        pwm.enabled =
            fs::read_to_string(pwm.channel_dir.join("enable")).is_ok_and(|text| text.trim() == "1");
        Ok(pwm)
    }

    /// The channel's directory (`…/pwmchip0/pwm0`).
    pub fn path(&self) -> &Path {
        &self.channel_dir
    }

    /// The period written, ns.
    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }

    fn write(&self, file: &str, value: u64) -> Result<(), OutputError> {
        let path = self.channel_dir.join(file);
        fs::write(&path, value.to_string())
            .map_err(|error| write_error(&path, &error, &format!("write {value}")))
    }
}

/// Waits for the kernel to create `pwm<M>/` and udev to make its files writable.
fn wait_for_export(channel_dir: &Path, export: &Path, channel: u32) -> Result<(), OutputError> {
    let period = channel_dir.join("period");
    let started = Instant::now();
    loop {
        let writable = fs::OpenOptions::new().write(true).open(&period).is_ok();
        if writable {
            return Ok(());
        }
        if started.elapsed() >= EXPORT_WAIT {
            let problem = if channel_dir.is_dir() {
                format!(
                    "{} is not writable after export: add the user to the group a udev rule \
                     gives /sys/class/pwm to (`gpio` on Raspberry Pi OS; elsewhere a rule \
                     such as SUBSYSTEM==\"pwm\", RUN+=\"/bin/chgrp -R gpio /sys%p\")",
                    period.display()
                )
            } else {
                format!(
                    "wrote {channel} to {} but {} did not appear: the chip has no channel \
                     {channel} (`cat {}` gives the count)",
                    export.display(),
                    channel_dir.display(),
                    export.with_file_name("npwm").display()
                )
            };
            return Err(OutputError(problem));
        }
        std::thread::sleep(EXPORT_POLL);
    }
}

fn write_error(path: &Path, error: &io::Error, what: &str) -> OutputError {
    let cure = match error.kind() {
        io::ErrorKind::PermissionDenied => {
            ": permission denied: add the user to the `gpio` group (Raspberry Pi OS), or \
             give /sys/class/pwm to a group with a udev rule"
        }
        io::ErrorKind::NotFound => {
            ": the channel is not exported (write its number to the \
                                     chip's `export`)"
        }
        _ => "",
    };
    OutputError(format!(
        "cannot {what} to {}: {error}{cure}",
        path.display()
    ))
}

impl embedded_hal::pwm::ErrorType for SysfsPwm {
    type Error = OutputError;
}

impl SetDutyCycle for SysfsPwm {
    fn max_duty_cycle(&self) -> u16 {
        u16::try_from(self.period_ns).unwrap_or(u16::MAX).max(1)
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), OutputError> {
        let max = u64::from(self.max_duty_cycle());
        let duty = u64::from(duty).min(max);
        let duty_ns = (duty * self.period_ns + max / 2) / max;
        self.write("duty_cycle", duty_ns)?;
        if !self.enabled {
            self.write("enable", 1)?;
            self.enabled = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A temp dir laid out as sysfs-class-pwm documents: pwmchip<N>/{export,unexport,npwm}
    /// and, when exported, pwm<M>/{period,duty_cycle,enable,polarity}.
    fn sysfs(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("edgewise-sysfs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let chip = root.join("pwmchip0");
        fs::create_dir_all(&chip).unwrap();
        fs::write(chip.join("export"), "").unwrap();
        fs::write(chip.join("unexport"), "").unwrap();
        fs::write(chip.join("npwm"), "2\n").unwrap();
        root
    }

    fn export_channel(root: &Path, channel: u32) {
        let dir = root.join(format!("pwmchip0/pwm{channel}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("period"), "0\n").unwrap();
        fs::write(dir.join("duty_cycle"), "0\n").unwrap();
        fs::write(dir.join("enable"), "0\n").unwrap();
        fs::write(dir.join("polarity"), "normal\n").unwrap();
    }

    fn read(root: &Path, file: &str) -> String {
        fs::read_to_string(root.join("pwmchip0").join(file)).unwrap()
    }

    #[test]
    fn a_fan_at_25_khz_writes_period_then_duty_then_enable() {
        let root = sysfs("fan");
        export_channel(&root, 0);
        let mut pwm = SysfsPwm::open(&root, 0, 0, 40_000).unwrap();
        // Opening sets the period only: the output is not started.
        assert_eq!(read(&root, "pwm0/period"), "40000");
        assert_eq!(read(&root, "pwm0/duty_cycle"), "0\n");
        assert_eq!(read(&root, "pwm0/enable"), "0\n");
        // Nothing was exported: pwm0 was there.
        assert_eq!(read(&root, "export"), "");
        assert_eq!(pwm.max_duty_cycle(), 40_000);
        pwm.set_duty_cycle(10_000).unwrap();
        assert_eq!(read(&root, "pwm0/duty_cycle"), "10000");
        assert_eq!(read(&root, "pwm0/enable"), "1");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_servo_at_50_hz_scales_the_duty_to_nanoseconds() {
        let root = sysfs("servo");
        export_channel(&root, 1);
        // A duty left from before, longer than nothing: cleared only if above the period.
        fs::write(root.join("pwmchip0/pwm1/duty_cycle"), "1500000\n").unwrap();
        let mut pwm = SysfsPwm::open(&root, 0, 1, 20_000_000).unwrap();
        assert_eq!(read(&root, "pwm1/period"), "20000000");
        assert_eq!(read(&root, "pwm1/duty_cycle"), "1500000\n");
        assert_eq!(pwm.max_duty_cycle(), u16::MAX);
        // 4915 / 65535 of 20 ms = 1 499 961.8 → 1 499 962 ns (the 1500 µs servo centre).
        pwm.set_duty_cycle(4_915).unwrap();
        assert_eq!(read(&root, "pwm1/duty_cycle"), "1499962");
        pwm.set_duty_cycle(u16::MAX).unwrap();
        assert_eq!(read(&root, "pwm1/duty_cycle"), "20000000");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_longer_duty_in_force_is_cleared_before_a_shorter_period() {
        let root = sysfs("shorter");
        export_channel(&root, 0);
        fs::write(root.join("pwmchip0/pwm0/duty_cycle"), "1500000\n").unwrap();
        SysfsPwm::open(&root, 0, 0, 40_000).unwrap();
        assert_eq!(read(&root, "pwm0/duty_cycle"), "0");
        assert_eq!(read(&root, "pwm0/period"), "40000");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_absent_channel_is_exported_and_waited_for() {
        let root = sysfs("export");
        // The kernel's part: pwm1/ appears once "1" is written to export.
        let kernel_root = root.clone();
        let kernel = std::thread::spawn(move || {
            let export = kernel_root.join("pwmchip0/export");
            for _ in 0..500 {
                if fs::read_to_string(&export).unwrap() == "1" {
                    export_channel(&kernel_root, 1);
                    return true;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            false
        });
        let pwm = SysfsPwm::open(&root, 0, 1, 40_000).unwrap();
        assert!(kernel.join().unwrap(), "export was never written");
        assert_eq!(pwm.path(), root.join("pwmchip0/pwm1"));
        assert_eq!(read(&root, "pwm1/period"), "40000");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_chip_names_its_path_and_the_overlay() {
        let root = sysfs("missing");
        let error = SysfsPwm::open(&root, 7, 0, 40_000).unwrap_err();
        let expected = format!(
            "{} does not exist: no such PWM chip",
            root.join("pwmchip7").display()
        );
        assert!(error.0.starts_with(&expected), "{error}");
        assert!(error.0.contains("dtoverlay=pwm"), "{error}");
        fs::remove_dir_all(&root).unwrap();
    }
}
