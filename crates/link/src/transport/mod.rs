//! Transports: a batch of readings to a peer, and which of them the peer acknowledged.
//!
//! A transport's [`Transport::publish`] reports, per reading, whether the peer confirmed it
//! (MQTT PUBACK, HTTP 2xx, CoAP ACK; a file or stdout once written and flushed). The outbox
//! deletes only what was acknowledged; the rest is sent again later, so a transport never has
//! to keep anything across calls to be safe.
//!
//! Transports: [`http`] (HTTP/1.1 and HTTPS POST), [`coap`] (CoAP over UDP),
//! [`file`](mod@file) (a rotated file of lines) and [`stdout`] (the same lines on standard
//! output).

pub mod coap;
pub mod file;
pub mod http;
mod lines;
pub mod stdout;

use std::future::Future;
use std::pin::Pin;

use crate::reading::Reading;

pub mod mqtt;

/// The future [`Transport::publish`] returns: boxed so transports can be chosen at run time
/// (`Box<dyn Transport>`). One allocation per batch, not per reading.
pub type PublishFuture<'a> = Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;

/// A way to deliver readings to a peer.
pub trait Transport: Send {
    /// A short description for logs and errors: `mqtt://127.0.0.1:1883`.
    fn describe(&self) -> String;

    /// Sends `batch` and waits for the peer's acknowledgements (each transport bounds the
    /// wait by its own timeout). Never panics on network trouble: the failure is in
    /// [`Delivery::error`], with what was acknowledged before it.
    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a>;
}

/// The outcome of one publish: which readings were acknowledged, which can never be sent by
/// this transport, and what went wrong, if anything did.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    outcomes: Vec<Outcome>,
    /// Why not everything was acknowledged.
    pub error: Option<TransportError>,
}

/// What became of one reading of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Not (yet) acknowledged: it will be sent again.
    Pending,
    /// The peer confirmed it.
    Acked,
    /// This transport can never send it (its encoder cannot represent it): sending it again
    /// would only block the readings behind it.
    Unsendable,
}

impl Delivery {
    /// A delivery of `len` readings, none acknowledged yet.
    pub fn none(len: usize) -> Self {
        Self {
            outcomes: vec![Outcome::Pending; len],
            error: None,
        }
    }

    /// Every one of `len` readings acknowledged.
    pub fn all(len: usize) -> Self {
        Self {
            outcomes: vec![Outcome::Acked; len],
            error: None,
        }
    }

    /// Nothing acknowledged, because of `error`.
    pub fn failed(len: usize, error: TransportError) -> Self {
        Self {
            outcomes: vec![Outcome::Pending; len],
            error: Some(error),
        }
    }

    /// Marks reading `index` of the batch acknowledged (out-of-range indices are ignored).
    pub fn ack(&mut self, index: usize) {
        self.set(index, Outcome::Acked);
    }

    /// Marks reading `index` as one this transport can never send (it cannot be encoded).
    pub fn mark_unsendable(&mut self, index: usize) {
        self.set(index, Outcome::Unsendable);
    }

    fn set(&mut self, index: usize, outcome: Outcome) {
        if let Some(slot) = self.outcomes.get_mut(index) {
            *slot = outcome;
        }
    }

    /// Whether reading `index` was acknowledged.
    pub fn is_acked(&self, index: usize) -> bool {
        self.outcomes.get(index) == Some(&Outcome::Acked)
    }

    /// Whether reading `index` can never be sent by this transport.
    pub fn is_unsendable(&self, index: usize) -> bool {
        self.outcomes.get(index) == Some(&Outcome::Unsendable)
    }

    /// How many readings were acknowledged.
    pub fn acked_count(&self) -> usize {
        self.count(Outcome::Acked)
    }

    /// How many readings can never be sent.
    pub fn unsendable_count(&self) -> usize {
        self.count(Outcome::Unsendable)
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.iter().filter(|&&o| o == outcome).count()
    }

    /// Whether every reading is settled: acknowledged, or known to be unsendable.
    pub fn is_complete(&self) -> bool {
        self.outcomes.iter().all(|&o| o != Outcome::Pending)
    }

    /// Records `error` (keeping the acknowledgements so far).
    pub fn with_error(mut self, error: TransportError) -> Self {
        self.error = Some(error);
        self
    }
}

/// What kind of failure a transport error is, for deciding whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The peer could not be reached (refused, unreachable, DNS): retry with back-off.
    Connect,
    /// The TLS handshake failed (unknown CA, expired or mismatched certificate, plaintext on a
    /// TLS port): retrying will not help until the configuration or the peer changes.
    Tls,
    /// The peer refused our credentials.
    Auth,
    /// The peer answered but refused the data (HTTP 4xx, MQTT reason code, CoAP 4.xx).
    Rejected,
    /// The peer failed (HTTP 5xx, CoAP 5.xx): retry with back-off.
    PeerFailure,
    /// No answer within the timeout: retry with back-off.
    Timeout,
    /// A local failure (a full disk, a closed stdout).
    Io,
    /// The data could not be encoded for this transport.
    Encode,
}

/// A transport failure: what kind, against which peer, and the underlying message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{peer}: {message}")]
pub struct TransportError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The peer (`mqtts://localhost:8883`) or file.
    pub peer: String,
    /// What happened, in words.
    pub message: String,
}

impl TransportError {
    /// An error of `kind` against `peer`.
    pub fn new(kind: ErrorKind, peer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            peer: peer.into(),
            message: message.into(),
        }
    }

    /// Whether trying again later (with back-off) can succeed without a configuration change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect | ErrorKind::PeerFailure | ErrorKind::Timeout | ErrorKind::Io
        )
    }
}

/// A transport setting that cannot work (a malformed URL, an unreadable CA file), found when
/// the transport is built, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    /// The setting (or file) at fault: `url`, `headers.Authorization`, `/etc/edgewise/ca.crt`.
    pub setting: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// An error in `setting`.
    pub fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

impl From<crate::tls::TlsError> for ConfigError {
    fn from(error: crate::tls::TlsError) -> Self {
        Self {
            setting: error.path,
            problem: format!("TLS: {}", error.problem),
        }
    }
}
