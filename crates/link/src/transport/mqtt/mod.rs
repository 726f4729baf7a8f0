//! MQTT 3.1.1 and 5 over TCP or TLS, on rumqttc.
//!
//! Each reading becomes one message on the topic its [`MqttConfig::topic`] template names, or,
//! when the template contains `{channel}`, one message per field (the reading then counts as
//! acknowledged once all of its messages are). At QoS 1 a message counts as acknowledged when
//! the broker's PUBACK arrives; at QoS 0 once it is written to the connection, which is weaker
//! (a message written just before the connection drops is lost unnoticed).
//!
//! The layout:
//! - [`config`]: the settings and their defaults, checked at start;
//! - [`topic`]: the topic template;
//! - `tracker`: pairs rumqttc's packet ids with the messages they carry;
//! - `replay`: puts what rumqttc resends after a reconnect back into the original send order;
//! - `session`: the connection task that runs rumqttc's event loop, reconnects with capped,
//!   jittered back-off, and explains failures (refused connection, bad credentials, TLS).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use edgewise_link::transport::mqtt::{MqttConfig, MqttTransport};
//! # use edgewise_link::transport::Transport;
//! # async fn run(encoder: Arc<dyn edgewise_link::encode::Encoder>, batch: &[edgewise_link::Reading]) {
//! let mut config = MqttConfig::new("broker.local", "pump-7", encoder);
//! config.topic = "plant/{device}/{sensor}".into();
//! let mut mqtt = MqttTransport::start(config).unwrap();
//! let delivery = mqtt.publish(batch).await;
//! # }
//! ```

pub mod config;
mod replay;
mod session;
pub mod topic;
mod tracker;

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::encode::Encoder;
use crate::reading::Reading;
use crate::transport::{Delivery, ErrorKind, PublishFuture, Transport, TransportError};

pub use config::{Credentials, LastWill, MqttConfig, MqttConfigError, ProtocolVersion, Qos};
pub use topic::{TopicTemplate, TopicTemplateError};

pub(crate) use session::{classify_v311, v311_connection};
use session::{Client, LinkStatus, Shared, Waiter};

/// Delivers readings to an MQTT broker. The connection is made, and kept, by a task on the
/// Tokio runtime that [`MqttTransport::start`] runs on; dropping the transport ends it.
pub struct MqttTransport {
    peer: String,
    device: String,
    qos: Qos,
    topic: TopicTemplate,
    encoder: Arc<dyn Encoder>,
    ack_timeout: Duration,
    client: Client,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MqttTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttTransport")
            .field("peer", &self.peer)
            .field("topic", &self.topic.as_str())
            .field("qos", &self.qos)
            .field("encoder", &self.encoder.content_type())
            .field("status", &*self.shared.status.borrow())
            .finish_non_exhaustive()
    }
}

impl MqttTransport {
    /// Checks `config` and starts connecting in the background; call inside a Tokio runtime.
    /// Connection problems do not fail this: they are retried with back-off and reported by
    /// [`Transport::publish`] (and [`MqttTransport::last_error`]).
    pub fn start(config: MqttConfig) -> Result<Self, MqttConfigError> {
        let topic = config.validate()?;
        let tls = config
            .tls
            .as_ref()
            .map(crate::tls::TlsFiles::client_config)
            .transpose()?;
        let shared = Shared::new();
        let (client, task) = session::start(&config, tls, Arc::clone(&shared))?;
        Ok(Self {
            peer: config.describe(),
            device: config.device,
            qos: config.qos,
            topic,
            encoder: config.encoder,
            ack_timeout: config.ack_timeout,
            client,
            shared,
            task,
        })
    }

    /// Whether the broker has accepted the connection (and it has not failed since).
    pub fn is_connected(&self) -> bool {
        matches!(*self.shared.status.borrow(), LinkStatus::Up)
    }

    /// Why the last connection attempt failed, while the transport is not connected.
    pub fn last_error(&self) -> Option<TransportError> {
        match &*self.shared.status.borrow() {
            LinkStatus::Down(error) => Some(error.clone()),
            LinkStatus::Connecting | LinkStatus::Up => None,
        }
    }

    /// The error to fail a publish with at once: the broker refused us for a reason that
    /// retrying will not fix (TLS, credentials).
    fn lasting_failure(&self) -> Option<TransportError> {
        self.last_error().filter(|error| !error.is_transient())
    }

    /// The messages for one reading: topic and payload each.
    fn messages(&self, reading: &Reading) -> Result<Vec<(String, Vec<u8>)>, TransportError> {
        let encode_error =
            |message: String| TransportError::new(ErrorKind::Encode, &self.peer, message);
        let encode = |part: &Reading| {
            let mut payload = Vec::new();
            self.encoder
                .encode(std::slice::from_ref(part), &mut payload)
                .map(|()| payload)
                .map_err(|e| encode_error(e.to_string()))
        };
        let topic = |channel: &str| {
            self.topic
                .render(&self.device, &reading.sensor, channel)
                .map_err(|e| encode_error(format!("sensor `{}`: {e}", reading.sensor)))
        };
        if !self.topic.per_channel() {
            return Ok(vec![(topic("")?, encode(reading)?)]);
        }
        reading
            .fields
            .iter()
            .map(|field| {
                let single = Reading {
                    sensor: reading.sensor.clone(),
                    seq: reading.seq,
                    time_ns: reading.time_ns,
                    fields: vec![field.clone()],
                };
                Ok((topic(&field.channel)?, encode(&single)?))
            })
            .collect()
    }

    /// Queues one message with rumqttc, waiting (until `deadline`) while its queue is full.
    async fn queue(
        &self,
        topic: &str,
        mut payload: Vec<u8>,
        waiter: Waiter,
        deadline: Instant,
    ) -> Result<(), TransportError> {
        loop {
            let mut progress = pin!(self.shared.progress.notified());
            progress.as_mut().enable();
            {
                // Queue and register under one lock: the tracker's order must be rumqttc's.
                let mut tracker = self.shared.tracker();
                match self.client.try_publish(topic, self.qos, payload) {
                    Ok(()) => {
                        tracker.queued(waiter);
                        return Ok(());
                    }
                    Err(returned) => payload = returned,
                }
            }
            if self.task.is_finished() {
                return Err(TransportError::new(
                    ErrorKind::Io,
                    &self.peer,
                    "the MQTT connection task has ended",
                ));
            }
            tokio::select! {
                () = progress => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Err(self.timeout_error("the broker took no new messages"));
                }
            }
        }
    }

    /// A timeout, explained by the connection's state.
    fn timeout_error(&self, what: &str) -> TransportError {
        match self.last_error() {
            Some(error) => TransportError::new(
                error.kind,
                &self.peer,
                format!(
                    "{what} within {:?}; the connection is down: {}",
                    self.ack_timeout, error.message
                ),
            ),
            None => TransportError::new(
                ErrorKind::Timeout,
                &self.peer,
                format!("{what} within {:?}", self.ack_timeout),
            ),
        }
    }

    async fn publish_batch(&mut self, batch: &[Reading]) -> Delivery {
        if let Some(error) = self.lasting_failure() {
            return Delivery::failed(batch.len(), error);
        }
        let deadline = Instant::now() + self.ack_timeout;
        let (reply, mut replies) = mpsc::unbounded_channel();
        // Per reading: messages still awaiting their outcome, and whether one failed.
        let mut outstanding = vec![0usize; batch.len()];
        let mut failed = vec![false; batch.len()];
        // Readings no topic or payload can be made for: sending them again cannot help.
        let mut unsendable = Vec::new();
        let mut reached = 0;
        let mut first_error: Option<TransportError> = None;
        'readings: for (index, reading) in batch.iter().enumerate() {
            reached = index + 1;
            let messages = match self.messages(reading) {
                Ok(messages) => messages,
                Err(error) => {
                    failed[index] = true;
                    unsendable.push(index);
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            for (topic, payload) in messages {
                let waiter = Waiter {
                    reply: reply.clone(),
                    reading: index,
                };
                match self.queue(&topic, payload, waiter, deadline).await {
                    Ok(()) => outstanding[index] += 1,
                    Err(error) => {
                        failed[index] = true;
                        first_error.get_or_insert(error);
                        break 'readings;
                    }
                }
            }
        }
        drop(reply);
        let mut delivery = Delivery::none(batch.len());
        for &index in &unsendable {
            delivery.mark_unsendable(index);
        }
        // A reading without messages (no fields under a per-channel topic) has nothing to send.
        for index in 0..reached {
            if outstanding[index] == 0 && !failed[index] {
                delivery.ack(index);
            }
        }
        let mut remaining: usize = outstanding.iter().sum();
        let mut status = self.shared.status.subscribe();
        // One timer for the whole wait, not one per message.
        let mut timeout = pin!(tokio::time::sleep_until(deadline));
        while remaining > 0 {
            tokio::select! {
                outcome = replies.recv() => {
                    let Some((index, outcome)) = outcome else { break };
                    remaining -= 1;
                    outstanding[index] -= 1;
                    match outcome {
                        Ok(()) if outstanding[index] == 0 && !failed[index] => delivery.ack(index),
                        Ok(()) => {}
                        Err(error) => {
                            failed[index] = true;
                            first_error.get_or_insert(error);
                        }
                    }
                }
                changed = status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let lasting = match &*status.borrow_and_update() {
                        LinkStatus::Down(error) if !error.is_transient() => Some(error.clone()),
                        _ => None,
                    };
                    if let Some(error) = lasting {
                        first_error.get_or_insert(error);
                        break;
                    }
                }
                () = &mut timeout => {
                    let what = format!("{remaining} message(s) were not acknowledged");
                    first_error.get_or_insert(self.timeout_error(&what));
                    break;
                }
            }
        }
        match first_error {
            Some(error) => delivery.with_error(error),
            None => delivery,
        }
    }
}

impl Transport for MqttTransport {
    fn describe(&self) -> String {
        self.peer.clone()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(self.publish_batch(batch))
    }
}

impl Drop for MqttTransport {
    fn drop(&mut self) {
        // Ends the connection without a DISCONNECT, so the broker publishes the last will:
        // a transport that goes away is a device that went away.
        self.task.abort();
    }
}
