//! A virtual I²C bus and a virtual SPI device, both implementing the embedded-hal 1.0 blocking
//! and async traits, with fault injection and an account of every transaction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use embedded_hal::i2c::{self, NoAcknowledgeSource};
use embedded_hal::spi;

use crate::clock::SimClock;
use crate::fault::{corrupt, Fault, FaultQueue, Times};

/// A simulated I²C device: sees the bytes of each transaction as the silicon would.
pub trait I2cTarget: Send {
    /// A write operation: the bytes after the address byte.
    fn write(&mut self, now_ns: u64, bytes: &[u8]);
    /// A read operation: fill `buf`.
    fn read(&mut self, now_ns: u64, buf: &mut [u8]);
    /// Whether the device acknowledges its address for the next operation, a read or a write.
    /// A chip that is busy or has nothing to send may refuse (the SHT3x and SHT4x do while
    /// measuring); the transaction then fails with `NoAcknowledge(Address)`. Register chips
    /// always acknowledge.
    fn acknowledges(&mut self, now_ns: u64, read: bool) -> bool {
        let _ = (now_ns, read);
        true
    }
}

/// A simulated SPI device: one byte in, one byte out, framed by chip-select.
pub trait SpiTarget: Send {
    /// Chip-select asserted.
    fn select(&mut self, now_ns: u64);
    /// Exchanges one byte: `mosi` in, the returned byte out on MISO.
    fn exchange(&mut self, now_ns: u64, mosi: u8) -> u8;
    /// Chip-select released.
    fn deselect(&mut self, now_ns: u64);
}

/// What crossed the bus. Bytes are data bytes: I²C address bytes are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Transactions (one START…STOP on I²C, one chip-select assertion on SPI).
    pub transactions: u64,
    /// Bytes sent to devices.
    pub bytes_written: u64,
    /// Bytes returned by devices.
    pub bytes_read: u64,
    /// Transactions that failed (NACK, injected fault).
    pub errors: u64,
}

impl BusStats {
    /// All data bytes in both directions.
    pub fn bytes(&self) -> u64 {
        self.bytes_written + self.bytes_read
    }

    /// The difference `self - earlier`, for measuring one operation.
    pub fn since(&self, earlier: &BusStats) -> BusStats {
        BusStats {
            transactions: self.transactions - earlier.transactions,
            bytes_written: self.bytes_written - earlier.bytes_written,
            bytes_read: self.bytes_read - earlier.bytes_read,
            errors: self.errors - earlier.errors,
        }
    }
}

/// A handle to a simulated chip after it was attached to a bus, for steering it in a test.
#[derive(Debug)]
pub struct Device<T>(Arc<Mutex<T>>);

impl<T> Clone for Device<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Device<T> {
    /// Runs `f` on the chip.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut lock(&self.0))
    }
}

/// A poisoned lock only means another test thread panicked mid-access; the simulated state is
/// still the best we have, so keep going.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Slot {
    device: Arc<Mutex<dyn I2cTarget>>,
    faults: FaultQueue,
    stats: BusStats,
}

#[derive(Default)]
struct BusState {
    devices: BTreeMap<u8, Slot>,
    stats: BusStats,
}

/// A virtual I²C bus with devices attached by 7-bit address. Clones share the bus, so several
/// drivers (and the test steering them) can hold it at once.
#[derive(Clone)]
pub struct SimI2cBus {
    state: Arc<Mutex<BusState>>,
    clock: SimClock,
}

impl std::fmt::Debug for SimI2cBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("SimI2cBus")
            .field("addresses", &state.devices.keys().collect::<Vec<_>>())
            .field("stats", &state.stats)
            .finish()
    }
}

impl Default for SimI2cBus {
    fn default() -> Self {
        Self::new(SimClock::default())
    }
}

impl SimI2cBus {
    /// An empty bus on `clock`.
    pub fn new(clock: SimClock) -> Self {
        Self {
            state: Arc::default(),
            clock,
        }
    }

    /// The bus's clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Attaches `device` at `address`, replacing whatever answered there.
    pub fn attach<T: I2cTarget + 'static>(&self, address: u8, device: T) -> Device<T> {
        let device = Arc::new(Mutex::new(device));
        let slot = Slot {
            device: device.clone(),
            faults: FaultQueue::default(),
            stats: BusStats::default(),
        };
        lock(&self.state).devices.insert(address, slot);
        Device(device)
    }

    /// Removes the device at `address`; it NACKs from now on (unplugged).
    pub fn detach(&self, address: u8) {
        lock(&self.state).devices.remove(&address);
    }

    /// Applies `fault` to the next transactions addressed to `address`.
    pub fn inject(&self, address: u8, fault: Fault, times: Times) {
        if let Some(slot) = lock(&self.state).devices.get_mut(&address) {
            slot.faults.push(fault, times);
        }
    }

    /// Removes all pending faults for `address`.
    pub fn clear_faults(&self, address: u8) {
        if let Some(slot) = lock(&self.state).devices.get_mut(&address) {
            slot.faults.clear();
        }
    }

    /// Everything that crossed the bus.
    pub fn stats(&self) -> BusStats {
        lock(&self.state).stats
    }

    /// What crossed the bus to and from one address.
    pub fn stats_for(&self, address: u8) -> BusStats {
        lock(&self.state)
            .devices
            .get(&address)
            .map(|slot| slot.stats)
            .unwrap_or_default()
    }

    fn run(
        &self,
        address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), i2c::ErrorKind> {
        let now = self.clock.now_ns();
        let mut state = lock(&self.state);
        let state = &mut *state;
        state.stats.transactions += 1;
        let nack = i2c::ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
        let Some(slot) = state.devices.get_mut(&address) else {
            state.stats.errors += 1;
            return Err(nack);
        };
        slot.stats.transactions += 1;
        let reads = operations
            .iter()
            .any(|op| matches!(op, i2c::Operation::Read(buf) if !buf.is_empty()));
        let fault = slot.faults.take(reads);
        if fault == Some(Fault::Nack) {
            state.stats.errors += 1;
            slot.stats.errors += 1;
            return Err(nack);
        }
        let mut device = lock(&slot.device);
        let mut read_offset = 0;
        for op in operations {
            let read = matches!(op, i2c::Operation::Read(_));
            if !device.acknowledges(now, read) {
                state.stats.errors += 1;
                slot.stats.errors += 1;
                return Err(nack);
            }
            match op {
                i2c::Operation::Write(bytes) => {
                    device.write(now, bytes);
                    slot.stats.bytes_written += bytes.len() as u64;
                    state.stats.bytes_written += bytes.len() as u64;
                }
                i2c::Operation::Read(buf) => {
                    device.read(now, buf);
                    corrupt(fault, read_offset, buf);
                    read_offset += buf.len();
                    slot.stats.bytes_read += buf.len() as u64;
                    state.stats.bytes_read += buf.len() as u64;
                }
            }
        }
        Ok(())
    }
}

impl i2c::ErrorType for SimI2cBus {
    type Error = i2c::ErrorKind;
}

impl i2c::I2c for SimI2cBus {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.run(address, operations)
    }
}

impl embedded_hal_async::i2c::I2c for SimI2cBus {
    async fn transaction(
        &mut self,
        address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.run(address, operations)
    }
}

/// One simulated chip on its own SPI chip-select, as an embedded-hal `SpiDevice`.
pub struct SimSpiDevice<T> {
    device: Device<T>,
    clock: SimClock,
    faults: Arc<Mutex<FaultQueue>>,
    stats: Arc<Mutex<BusStats>>,
}

impl<T> Clone for SimSpiDevice<T> {
    fn clone(&self) -> Self {
        Self {
            device: self.device.clone(),
            clock: self.clock.clone(),
            faults: self.faults.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<T> std::fmt::Debug for SimSpiDevice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSpiDevice")
            .field("stats", &*lock(&self.stats))
            .finish()
    }
}

impl<T: SpiTarget> SimSpiDevice<T> {
    /// Puts `device` behind a chip-select on `clock`.
    pub fn new(clock: SimClock, device: T) -> Self {
        Self {
            device: Device(Arc::new(Mutex::new(device))),
            clock,
            faults: Arc::default(),
            stats: Arc::default(),
        }
    }

    /// A handle for steering the chip.
    pub fn device(&self) -> Device<T> {
        self.device.clone()
    }

    /// Applies `fault` to the next transactions. [`Fault::Nack`] has no SPI equivalent and is
    /// reported as `ErrorKind::Other` (a controller-level failure).
    pub fn inject(&self, fault: Fault, times: Times) {
        lock(&self.faults).push(fault, times);
    }

    /// What crossed the bus.
    pub fn stats(&self) -> BusStats {
        *lock(&self.stats)
    }

    fn run(&self, operations: &mut [spi::Operation<'_, u8>]) -> Result<(), spi::ErrorKind> {
        let mut stats = lock(&self.stats);
        stats.transactions += 1;
        let reads = operations.iter().any(|op| {
            matches!(
                op,
                spi::Operation::Read(_)
                    | spi::Operation::Transfer(..)
                    | spi::Operation::TransferInPlace(_)
            )
        });
        let fault = lock(&self.faults).take(reads);
        if fault == Some(Fault::Nack) {
            stats.errors += 1;
            return Err(spi::ErrorKind::Other);
        }
        let mut chip = lock(&self.device.0);
        chip.select(self.clock.now_ns());
        let mut offset = 0;
        for op in operations {
            let now = self.clock.now_ns();
            // Every clocked byte goes both ways; count what the device drove on MISO as read
            // only where the controller keeps it.
            match op {
                spi::Operation::Read(buf) => {
                    for b in buf.iter_mut() {
                        *b = chip.exchange(now, 0x00);
                    }
                    corrupt(fault, offset, buf);
                    offset += buf.len();
                    stats.bytes_read += buf.len() as u64;
                }
                spi::Operation::Write(bytes) => {
                    for &b in bytes.iter() {
                        chip.exchange(now, b);
                    }
                    stats.bytes_written += bytes.len() as u64;
                }
                spi::Operation::Transfer(read, write) => {
                    for i in 0..read.len().max(write.len()) {
                        let out = chip.exchange(now, write.get(i).copied().unwrap_or(0));
                        if let Some(r) = read.get_mut(i) {
                            *r = out;
                        }
                    }
                    corrupt(fault, offset, read);
                    offset += read.len();
                    stats.bytes_written += write.len() as u64;
                    stats.bytes_read += read.len() as u64;
                }
                spi::Operation::TransferInPlace(buf) => {
                    for b in buf.iter_mut() {
                        *b = chip.exchange(now, *b);
                    }
                    corrupt(fault, offset, buf);
                    offset += buf.len();
                    stats.bytes_written += buf.len() as u64;
                    stats.bytes_read += buf.len() as u64;
                }
                spi::Operation::DelayNs(ns) => {
                    self.clock
                        .advance(std::time::Duration::from_nanos(u64::from(*ns)));
                }
            }
        }
        chip.deselect(self.clock.now_ns());
        Ok(())
    }
}

impl<T> spi::ErrorType for SimSpiDevice<T> {
    type Error = spi::ErrorKind;
}

impl<T: SpiTarget> spi::SpiDevice for SimSpiDevice<T> {
    fn transaction(
        &mut self,
        operations: &mut [spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        self.run(operations)
    }
}

impl<T: SpiTarget> embedded_hal_async::spi::SpiDevice for SimSpiDevice<T> {
    async fn transaction(
        &mut self,
        operations: &mut [spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        self.run(operations)
    }
}
