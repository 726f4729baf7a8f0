//! How edgewise talks to the rest of an IoT system.
//!
//! Everything that leaves the device is a batch of [`Reading`]s. The pieces, each behind one
//! small interface so the orchestrator can combine them from configuration:
//!
//! - [`encode`]: a batch to bytes: JSON, SenML (RFC 8428) in JSON and CBOR, InfluxDB line
//!   protocol; each with a decoder, so tests (and users) can check a round trip;
//! - [`transport`]: bytes to a peer, and which readings the peer acknowledged: MQTT 3.1.1 and 5,
//!   HTTP(S), CoAP, a rotated JSON-lines file, stdout;
//! - [`outbox`]: the durable queue in between. A reading counts as accepted only once it is
//!   committed to disk, and is deleted only when a transport acknowledged it, so neither a
//!   network outage nor a crash loses it;
//! - [`modbus`]: a source, polling registers of a PLC or meter over Modbus TCP into the same
//!   readings as a local sensor.
//!
//! [`backoff`] and [`tls`] are shared by the transports.

pub mod backoff;
pub mod command;
pub mod encode;
pub mod modbus;
pub mod outbox;
pub mod reading;
pub mod tls;
pub mod transport;

pub use reading::{Field, Reading, Value};
