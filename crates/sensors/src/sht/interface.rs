//! The bus framing both families share: a command is one write; a result is one read of
//! 16-bit words, each followed by its CRC. A chip that has nothing to send (still measuring, no
//! new periodic data) does not acknowledge the read header, which the caller interprets.

use embedded_hal::i2c::{Error as _, ErrorKind as I2cErrorKind};
use embedded_hal_async::i2c::{ErrorType, I2c};

use super::conversion::checked_words;
use super::{Error, Word};

pub(crate) type BusResult<T, I2C> = Result<T, Error<<I2C as ErrorType>::Error>>;

/// The chip on an I²C bus at one address.
#[derive(Debug)]
pub(crate) struct Device<I2C> {
    pub(crate) i2c: I2C,
    pub(crate) address: u8,
}

impl<I2C: I2c> Device<I2C> {
    /// Sends one command (with its arguments, if any) in one write.
    pub(crate) async fn send(&mut self, command: &[u8]) -> BusResult<(), I2C> {
        self.i2c
            .write(self.address, command)
            .await
            .map_err(Error::Bus)
    }

    /// Reads `N` words (at most two) and checks their CRCs. A NACK of the read becomes
    /// `on_nack` where the chip uses it to say "nothing to send yet" after an acknowledged
    /// command; otherwise, and for any other failure, it is a bus error.
    pub(crate) async fn read_words<const N: usize>(
        &mut self,
        names: [Word; N],
        on_nack: Option<Error<I2C::Error>>,
    ) -> BusResult<[u16; N], I2C> {
        const { assert!(N <= 2, "the chips send at most two words at a time") };
        let mut buf = [0u8; 6];
        let bytes = &mut buf[..3 * N];
        match self.i2c.read(self.address, bytes).await {
            Ok(()) => checked_words(bytes, names),
            Err(e) => match on_nack {
                Some(not_yet) if matches!(e.kind(), I2cErrorKind::NoAcknowledge(_)) => Err(not_yet),
                _ => Err(Error::Bus(e)),
            },
        }
    }
}
