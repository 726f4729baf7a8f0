//! The MQTT side of remote commands: a connection of its own to the broker an MQTT sink uses
//! (same host, TLS and credentials; client id `<sink's client id>-commands`, no last will),
//! subscribed at QoS 1 to the device's command topic, handing each message over in arrival
//! order, and publishing replies at QoS 1, not retained.
//!
//! The connection speaks MQTT 3.1.1 whatever the sink speaks: every broker does, and commands
//! need nothing of MQTT 5. It subscribes again after every (re)connect (a broker that lost
//! the session has lost the subscription too), reconnects with the sink's back-off, and
//! reports its state like the transport: [`ChannelMonitor::is_connected`] and
//! [`ChannelMonitor::last_error`].

use std::time::{Duration, Instant};

use rumqttc::{Event, Packet, QoS, SubscribeReasonCode};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::transport::mqtt::{classify_v311, v311_connection, MqttConfig, MqttConfigError};
use crate::transport::{ErrorKind, TransportError};

/// The command topic when the configuration does not name one.
pub const DEFAULT_TOPIC: &str = "edgewise/{device}/commands";
/// The reply topic when the configuration does not name one.
pub const DEFAULT_REPLY_TOPIC: &str = "edgewise/{device}/commands/reply";

/// How many received commands may wait for the service before the connection stops reading.
const QUEUE: usize = 32;
/// A connection must last this long for the next failure to start the back-off afresh.
const STABLE_CONNECTION: Duration = Duration::from_secs(5);

/// The connection's state.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Connecting,
    Up,
    Down(TransportError),
}

/// Watches a [`CommandChannel`]'s connection (for health and metrics), also after the
/// channel moved into the service.
#[derive(Debug, Clone)]
pub struct ChannelMonitor {
    status: watch::Receiver<Status>,
    peer: String,
    topic: String,
}

impl ChannelMonitor {
    /// Whether the broker accepted the connection and the subscription.
    pub fn is_connected(&self) -> bool {
        matches!(*self.status.borrow(), Status::Up)
    }

    /// Why the connection (or the subscription) last failed, while it is down.
    pub fn last_error(&self) -> Option<TransportError> {
        match &*self.status.borrow() {
            Status::Down(error) => Some(error.clone()),
            Status::Connecting | Status::Up => None,
        }
    }

    /// The broker, as `mqtt://host:port`.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The command topic subscribed to.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// Commands in, replies out, over MQTT. Dropping it ends the connection.
#[derive(Debug)]
pub struct CommandChannel {
    client: rumqttc::AsyncClient,
    messages: mpsc::Receiver<Vec<u8>>,
    monitor: ChannelMonitor,
    reply_topic: String,
    task: JoinHandle<()>,
}

impl CommandChannel {
    /// Connects to the broker of `sink` and subscribes to `topic`; replies go to
    /// `reply_topic`. Both may contain `{device}`, replaced by the sink's device. Call inside
    /// a Tokio runtime; connection failures are retried, not returned.
    pub fn start(
        sink: &MqttConfig,
        topic: &str,
        reply_topic: &str,
    ) -> Result<Self, MqttConfigError> {
        sink.validate()?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| MqttConfigError::NoRuntime)?;
        let topic = concrete_topic("commands.topic", topic, &sink.device, true)?;
        let reply_topic = concrete_topic("commands.reply_topic", reply_topic, &sink.device, false)?;
        let tls = sink
            .tls
            .as_ref()
            .map(crate::tls::TlsFiles::client_config)
            .transpose()?;
        let uses_tls = tls.is_some();
        let mut config = sink.clone();
        // The sink's last will says the device is gone; a dropped command connection does not.
        config.last_will = None;
        let client_id = format!("{}-commands", sink.client_id);
        let (client, eventloop) = v311_connection(&config, client_id, tls, QUEUE);
        let (status_tx, status) = watch::channel(Status::Connecting);
        let (messages_tx, messages) = mpsc::channel(QUEUE);
        let peer = sink.describe();
        let connection = Connection {
            eventloop,
            client: client.clone(),
            topic: topic.clone(),
            peer: peer.clone(),
            uses_tls,
            status: status_tx,
            messages: messages_tx,
        };
        let task = runtime.spawn(connection.run(sink.reconnect.clone()));
        Ok(Self {
            client,
            messages,
            monitor: ChannelMonitor {
                status,
                peer,
                topic,
            },
            reply_topic,
            task,
        })
    }

    /// The next command message, in arrival order; `None` once the connection task ended
    /// (it only ends when the channel is dropped).
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        self.messages.recv().await
    }

    /// Queues `payload` for the reply topic (QoS 1, not retained). rumqttc sends it once
    /// connected and resends it until the broker acknowledges it.
    pub async fn reply(&self, payload: Vec<u8>) -> Result<(), TransportError> {
        self.client
            .publish(&self.reply_topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| {
                TransportError::new(
                    ErrorKind::Io,
                    &self.monitor.peer,
                    format!("cannot queue the reply: {e}"),
                )
            })
    }

    /// A handle on the connection's state.
    pub fn monitor(&self) -> ChannelMonitor {
        self.monitor.clone()
    }

    /// The reply topic.
    pub fn reply_topic(&self) -> &str {
        &self.reply_topic
    }
}

impl Drop for CommandChannel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `template` with `{device}` filled in; `wildcards` allows `+` and `#` (a subscription).
fn concrete_topic(
    setting: &'static str,
    template: &str,
    device: &str,
    wildcards: bool,
) -> Result<String, MqttConfigError> {
    let topic = template.replace("{device}", device);
    let problem = if topic.is_empty() {
        Some("is empty".to_string())
    } else if topic.contains(['{', '}']) {
        Some(format!("`{template}`: the only placeholder is {{device}}"))
    } else if topic.contains('\0') {
        Some("contains NUL".into())
    } else if !wildcards && topic.contains(['+', '#']) {
        Some(format!(
            "`{topic}`: a topic to publish to cannot contain `+` or `#`"
        ))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(MqttConfigError::Invalid { setting, problem }),
        None => Ok(topic),
    }
}

/// The task that owns rumqttc's event loop.
struct Connection {
    eventloop: rumqttc::EventLoop,
    client: rumqttc::AsyncClient,
    topic: String,
    peer: String,
    uses_tls: bool,
    status: watch::Sender<Status>,
    messages: mpsc::Sender<Vec<u8>>,
}

impl Connection {
    async fn run(mut self, mut backoff: crate::backoff::Backoff) {
        let mut connected_at: Option<Instant> = None;
        let mut up = false;
        loop {
            match self.eventloop.poll().await {
                Ok(event) => {
                    if connected_at.is_some_and(|at| at.elapsed() >= STABLE_CONNECTION) {
                        backoff.reset();
                    }
                    match event {
                        Event::Incoming(Packet::ConnAck(_)) => {
                            up = true;
                            connected_at = Some(Instant::now());
                            // Queued, not awaited: the event loop must keep polling to send it.
                            if let Err(e) = self.client.try_subscribe(&self.topic, QoS::AtLeastOnce)
                            {
                                self.down(format!("cannot subscribe to `{}`: {e}", self.topic));
                            }
                        }
                        Event::Incoming(Packet::SubAck(ack)) => {
                            if ack
                                .return_codes
                                .iter()
                                .any(|code| matches!(code, SubscribeReasonCode::Failure))
                            {
                                self.down(format!(
                                    "the broker refused the subscription to `{}` (check its ACL)",
                                    self.topic
                                ));
                            } else {
                                self.status.send_replace(Status::Up);
                            }
                        }
                        // In arrival order; waits while the service is busy (then the
                        // broker holds further messages back at QoS 1). The service gone means
                        // the channel was dropped: stop.
                        Event::Incoming(Packet::Publish(publish))
                            if self.messages.send(publish.payload.to_vec()).await.is_err() =>
                        {
                            return;
                        }
                        _ => {}
                    }
                }
                Err(error) => {
                    let attempt = !std::mem::replace(&mut up, false);
                    connected_at = None;
                    self.status.send_replace(Status::Down(classify_v311(
                        &error,
                        &self.peer,
                        self.uses_tls,
                        attempt,
                    )));
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        }
    }

    fn down(&self, message: String) {
        self.status.send_replace(Status::Down(TransportError::new(
            ErrorKind::Rejected,
            &self.peer,
            message,
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_take_the_device_and_refuse_what_cannot_work() {
        assert_eq!(
            concrete_topic("t", DEFAULT_TOPIC, "pump-7", true)
                .ok()
                .as_deref(),
            Some("edgewise/pump-7/commands")
        );
        assert!(concrete_topic("t", "a/{sensor}", "d", true).is_err());
        assert!(concrete_topic("t", "", "d", true).is_err());
        assert!(concrete_topic("t", "a/+/reply", "d", false).is_err());
        assert!(concrete_topic("t", "a/+/commands", "d", true).is_ok());
    }
}
