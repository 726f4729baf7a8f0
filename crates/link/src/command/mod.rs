//! Remote commands: verified, executed at most once, answered.
//!
//! Placeholder docs; see below.

mod cbor_value;
pub mod channel;
pub mod envelope;
pub mod keys;
pub mod refusal;
pub mod reply;
pub mod service;
pub mod verifier;

pub use channel::{ChannelMonitor, CommandChannel, DEFAULT_REPLY_TOPIC, DEFAULT_TOPIC};
pub use envelope::EnvelopeKind;
pub use keys::{KeyError, VerifyKey};
pub use refusal::{Reason, Refusal};
pub use reply::Reply;
pub use service::{serve, CommandCounters, CommandHandler, CommandRequest, CommandStats};
pub use verifier::{identify, CommandValue, CommandVerifier, RemoteCommand};
