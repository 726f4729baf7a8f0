//! Readings as lines on standard output, for piping into another program (`edgewise run |
//! jq .`) or for watching what a configuration produces.
//!
//! The lines are the same as the [file transport](super::file) writes. A batch is acknowledged
//! once its lines are written and flushed. A reader that went away (a closed pipe) is an
//! [`ErrorKind::Io`] error, not a crash: Rust ignores SIGPIPE, so the write fails with
//! `BrokenPipe` and the readings stay in the outbox.
//!
//! Writes run on tokio's blocking pool, so a slow reader stalls only this transport.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use crate::encode::Encoder;
use crate::reading::Reading;
use crate::transport::lines::Lines;
use crate::transport::{Delivery, ErrorKind, PublishFuture, Transport, TransportError};

/// Writes readings as lines to standard output (or any [`Write`]).
pub struct StdoutTransport {
    encoder: Arc<dyn Encoder>,
    lines: Lines,
    /// Shared with the write running on the blocking pool, so a cancelled publish does not
    /// lose it.
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for StdoutTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdoutTransport")
            .field("encoding", &self.encoder.content_type())
            .finish_non_exhaustive()
    }
}

impl StdoutTransport {
    /// Lines on the process's standard output.
    pub fn new(encoder: Arc<dyn Encoder>) -> Self {
        Self::with_writer(encoder, Box::new(std::io::stdout()))
    }

    /// Lines on `writer` instead (tests, or a pipe set up by the caller).
    pub fn with_writer(encoder: Arc<dyn Encoder>, writer: Box<dyn Write + Send>) -> Self {
        Self {
            encoder,
            lines: Lines::default(),
            writer: Arc::new(Mutex::new(writer)),
        }
    }

    async fn publish_batch(&mut self, batch: &[Reading]) -> Delivery {
        if batch.is_empty() {
            return Delivery::all(0);
        }
        if let Err(error) = self.lines.encode(self.encoder.as_ref(), batch, "stdout") {
            return Delivery::failed(batch.len(), error);
        }
        let writer = Arc::clone(&self.writer);
        let lines = std::mem::take(&mut self.lines);
        let joined = tokio::task::spawn_blocking(move || {
            // A writer whose earlier write panicked is still a writer: keep using it.
            let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
            let written = writer.write_all(&lines.bytes).and_then(|()| writer.flush());
            (lines, written)
        })
        .await;
        let Ok((lines, written)) = joined else {
            return Delivery::failed(
                batch.len(),
                TransportError::new(
                    ErrorKind::Io,
                    "stdout",
                    "the write to standard output panicked",
                ),
            );
        };
        self.lines = lines;
        match written {
            Ok(()) => Delivery::all(batch.len()),
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Delivery::failed(
                batch.len(),
                TransportError::new(
                    ErrorKind::Io,
                    "stdout",
                    format!("the reader of standard output has gone (closed pipe): {error}"),
                ),
            ),
            Err(error) => Delivery::failed(
                batch.len(),
                TransportError::new(
                    ErrorKind::Io,
                    "stdout",
                    format!("cannot write to standard output: {error}"),
                ),
            ),
        }
    }
}

impl Transport for StdoutTransport {
    fn describe(&self) -> String {
        "stdout".into()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(self.publish_batch(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::lines::test_encoder::{readings, CsvEncoder};

    /// A writer whose bytes the test can read after the transport took ownership.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn lines_are_written_and_acknowledged() {
        let out = Shared::default();
        let mut stdout =
            StdoutTransport::with_writer(Arc::new(CsvEncoder::default()), Box::new(out.clone()));
        let delivery = stdout.publish(&readings(2)).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        assert!(stdout.publish(&readings(1)).await.is_complete());
        let written = out.0.lock().map(|b| b.clone()).unwrap_or_default();
        assert_eq!(written, b"s,0,0\ns,1,1.5\ns,0,0\n");
    }

    #[tokio::test]
    async fn a_closed_pipe_is_an_io_error_not_a_panic() {
        // A real pipe whose reading end is closed: the write fails with EPIPE (Rust ignores
        // SIGPIPE), exactly as when `edgewise run | head -1` has printed its line.
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
        drop(reader);
        let mut stdout =
            StdoutTransport::with_writer(Arc::new(CsvEncoder::default()), Box::new(writer));
        for _ in 0..2 {
            let delivery = stdout.publish(&readings(3)).await;
            assert_eq!(delivery.acked_count(), 0);
            let error = delivery.error.unwrap_or_else(|| panic!("no error"));
            assert_eq!(error.kind, ErrorKind::Io);
            assert!(error.to_string().contains("closed pipe"), "{error}");
        }
    }
}
