//! Faults a test can inject into a bus, per device address.

/// A fault applied to one bus transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The device does not acknowledge its address: the transaction fails with
    /// `NoAcknowledge(Address)` and nothing reaches the device.
    Nack,
    /// XOR `mask` into byte `index` of the data the device returns in the next transaction
    /// that reads (counting across its read operations). A glitch on SDA/MISO.
    CorruptRead {
        /// Which returned byte, from 0.
        index: usize,
        /// Bits to flip.
        mask: u8,
    },
}

/// How many transactions a fault lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The next matching transaction only.
    Once,
    /// The next `n` transactions.
    Count(u32),
    /// Until cleared.
    Always,
}

#[derive(Debug, Clone)]
pub(crate) struct ActiveFault {
    pub fault: Fault,
    pub remaining: Times,
}

/// The faults waiting for one device; each transaction takes the first, counting it down.
#[derive(Debug, Default, Clone)]
pub(crate) struct FaultQueue(Vec<ActiveFault>);

impl FaultQueue {
    pub fn push(&mut self, fault: Fault, times: Times) {
        if times != Times::Count(0) {
            self.0.push(ActiveFault {
                fault,
                remaining: times,
            });
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The fault for a transaction, if any. A read corruption waits for a transaction that
    /// reads.
    pub fn take(&mut self, transaction_reads: bool) -> Option<Fault> {
        let active = self.0.first_mut()?;
        if matches!(active.fault, Fault::CorruptRead { .. }) && !transaction_reads {
            return None;
        }
        let fault = active.fault;
        let exhausted = match &mut active.remaining {
            Times::Always => false,
            Times::Once => true,
            Times::Count(n) => {
                *n -= 1;
                *n == 0
            }
        };
        if exhausted {
            self.0.remove(0);
        }
        Some(fault)
    }
}

/// Applies a read-corruption fault to the bytes a device returned.
pub(crate) fn corrupt(fault: Option<Fault>, offset: usize, bytes: &mut [u8]) {
    if let Some(Fault::CorruptRead { index, mask }) = fault {
        if let Some(b) = index.checked_sub(offset).and_then(|i| bytes.get_mut(i)) {
            *b ^= mask;
        }
    }
}
