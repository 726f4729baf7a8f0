//! Blocking APIs on top of drivers written once, as async.
//!
//! Each driver's bus sequences are written a single time against the embedded-hal-async
//! traits. The blocking API wraps the blocking bus and delay in [`Blocking`], whose futures
//! finish on their first poll, and drives the driver's future with a poll-once loop. No
//! executor, no allocation, and the two APIs cannot drift apart.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embedded_hal::{delay, i2c, spi};
use embedded_hal_async as hal_async;

/// A blocking bus or delay presented through the async traits (like embassy's `BlockingAsync`).
#[derive(Debug)]
pub struct Blocking<T>(pub T);

impl<T> Blocking<T> {
    /// The wrapped blocking bus or delay.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: i2c::ErrorType> i2c::ErrorType for Blocking<T> {
    type Error = T::Error;
}

impl<T: i2c::I2c> hal_async::i2c::I2c for Blocking<T> {
    async fn transaction(
        &mut self,
        address: u8,
        operations: &mut [i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.0.transaction(address, operations)
    }

    // The convenience methods map one to one, so a HAL's optimised `write_read` (one combined
    // i2c-dev transfer on Linux) is kept.
    async fn read(&mut self, address: u8, read: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(address, read)
    }

    async fn write(&mut self, address: u8, write: &[u8]) -> Result<(), Self::Error> {
        self.0.write(address, write)
    }

    async fn write_read(
        &mut self,
        address: u8,
        write: &[u8],
        read: &mut [u8],
    ) -> Result<(), Self::Error> {
        self.0.write_read(address, write, read)
    }
}

impl<T: spi::ErrorType> spi::ErrorType for Blocking<T> {
    type Error = T::Error;
}

impl<T: spi::SpiDevice> hal_async::spi::SpiDevice for Blocking<T> {
    async fn transaction(
        &mut self,
        operations: &mut [spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        self.0.transaction(operations)
    }

    async fn read(&mut self, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(buf)
    }

    async fn write(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0.write(buf)
    }

    async fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), Self::Error> {
        self.0.transfer(read, write)
    }

    async fn transfer_in_place(&mut self, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.0.transfer_in_place(buf)
    }
}

impl<T: delay::DelayNs> hal_async::delay::DelayNs for Blocking<T> {
    async fn delay_ns(&mut self, ns: u32) {
        self.0.delay_ns(ns);
    }

    async fn delay_us(&mut self, us: u32) {
        self.0.delay_us(us);
    }

    async fn delay_ms(&mut self, ms: u32) {
        self.0.delay_ms(ms);
    }
}

/// Runs a future whose every await point is a [`Blocking`] operation. Such a future is ready
/// on its first poll, so this returns after one poll in practice; it keeps polling rather than
/// panicking should a future ever report pending.
pub(crate) fn run_to_completion<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
