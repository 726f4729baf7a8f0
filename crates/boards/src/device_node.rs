//! Device nodes of real buses (`/dev/i2c-N`, `/dev/spidevB.C`), shared by the Linux and
//! Raspberry Pi boards: opening them with errors that say what to do, and a sleeping delay.

use std::fs::OpenOptions;
use std::io;
use std::time::Duration;

use crate::{BoardError, BusAddress};

/// Checks that `bus`'s device node exists and can be opened for reading and writing, so a
/// missing bus or a missing permission is reported with its path and its cure before a HAL
/// turns it into a bare errno.
pub(crate) fn check_access(bus: BusAddress) -> Result<(), BoardError> {
    let path = bus.device_path();
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map(drop)
        .map_err(|error| bus_error(bus, &error))
}

/// `error`, met opening or using `bus`'s device node, as a [`BoardError::Bus`] naming the path.
pub(crate) fn bus_error(bus: BusAddress, error: &io::Error) -> BoardError {
    let path = bus.device_path();
    let (kind, group) = match bus {
        BusAddress::I2c { .. } => ("I²C", "i2c"),
        BusAddress::Spi { .. } => ("SPI", "spi"),
    };
    let problem = match error.kind() {
        io::ErrorKind::NotFound => format!(
            "{path} does not exist: the {kind} bus is not enabled or has another number \
             (on a Raspberry Pi enable it with `raspi-config` or `dtparam={group}_arm=on`; \
             `ls /dev/{group}*` lists the buses there are)"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "{path}: permission denied: add the user to the `{group}` group \
             (`sudo usermod -aG {group} $USER`, then log in again)"
        ),
        _ => format!("{path}: {error}"),
    };
    BoardError::Bus { bus, problem }
}

/// `std::thread::sleep` as an embedded-hal delay: the process sleeps, nothing spins.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SleepDelay;

impl embedded_hal::delay::DelayNs for SleepDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(Duration::from_nanos(u64::from(ns)));
    }
}
