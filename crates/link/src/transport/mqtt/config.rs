//! What an MQTT transport needs to know: the broker, the session, security, and where
//! readings go.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::encode::Encoder;
use crate::tls::{TlsError, TlsFiles};

use super::topic::{TopicTemplate, TopicTemplateError};

/// The MQTT protocol version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1, which every broker speaks.
    #[default]
    V311,
    /// MQTT 5: reason codes on acknowledgements, session expiry, a content-type property.
    V5,
}

/// The delivery guarantee per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Qos {
    /// QoS 0: a message counts as delivered once written to the connection. Weaker: a
    /// message written just before the connection drops is lost without anyone knowing.
    AtMostOnce,
    /// QoS 1: a message counts as delivered when the broker's PUBACK arrives.
    #[default]
    AtLeastOnce,
}

/// A username and password for the broker.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Configurations end up in logs: never print the password.
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The message the broker publishes for us when we vanish without saying goodbye (power
/// loss, a dead link): how the rest of the system learns that the device is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Its topic (concrete: no wildcards, no placeholders).
    pub topic: String,
    /// Its payload, e.g. `offline`.
    pub payload: Vec<u8>,
    /// Its QoS.
    pub qos: Qos,
    /// Whether the broker keeps it as the topic's retained message, so late subscribers see
    /// it too (usual for a status topic).
    pub retain: bool,
}

/// Everything an MQTT transport is configured with. [`MqttConfig::new`] fills in the
/// defaults; change fields as needed.
#[derive(Clone)]
pub struct MqttConfig {
    /// The broker's host name or IP address. With TLS, the server's certificate must name it
    /// (subjectAltName).
    pub host: String,
    /// The broker's port; default 1883 (8883 is usual for TLS).
    pub port: u16,
    /// MQTT 3.1.1 (default) or 5.
    pub protocol: ProtocolVersion,
    /// The client identifier: unique per device, and stable across restarts so the broker can
    /// keep the session.
    pub client_id: String,
    /// The `{device}` in topics; default: the client id.
    pub device: String,
    /// TLS (CA file, and a client certificate and key for mutual TLS); `None`: plain TCP.
    pub tls: Option<TlsFiles>,
    /// A username and password, if the broker wants them.
    pub credentials: Option<Credentials>,
    /// The last will, if any.
    pub last_will: Option<LastWill>,
    /// Whether the broker keeps our session (and the messages in flight) across disconnects:
    /// MQTT 3.1.1 `clean_session = false`, MQTT 5 clean start off with
    /// [`MqttConfig::session_expiry`]. Default: on.
    pub persistent_session: bool,
    /// How long an MQTT 5 broker keeps a persistent session after we disconnect; default 1 h.
    pub session_expiry: Duration,
    /// The keep-alive interval: the broker drops us (and publishes the last will) after 1.5×
    /// this without traffic. Default 30 s; MQTT 5 needs at least 5 s.
    pub keep_alive: Duration,
    /// QoS 0 or 1 (default).
    pub qos: Qos,
    /// Where messages go: a topic with `{device}`, `{sensor}` and `{channel}` placeholders.
    /// With `{channel}`, each field of a reading is its own message. Default
    /// `edgewise/{device}/{sensor}`.
    pub topic: String,
    /// The delay before each reconnection attempt; default 100 ms doubling to 30 s, jittered.
    pub reconnect: Backoff,
    /// How long a publish waits for the broker's acknowledgements; default 10 s.
    pub ack_timeout: Duration,
    /// How long a connection attempt (TCP, TLS, CONNECT/CONNACK) may take; default 5 s.
    pub connect_timeout: Duration,
    /// How many QoS 1 messages may await their PUBACK at once; default 100.
    pub max_inflight: u16,
    /// The largest MQTT packet we send or accept, in bytes; default 256 KiB.
    pub max_packet_size: usize,
    /// How each message's payload is encoded.
    pub encoder: Arc<dyn Encoder>,
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("protocol", &self.protocol)
            .field("client_id", &self.client_id)
            .field("device", &self.device)
            .field("tls", &self.tls)
            .field("credentials", &self.credentials)
            .field("last_will", &self.last_will)
            .field("persistent_session", &self.persistent_session)
            .field("session_expiry", &self.session_expiry)
            .field("keep_alive", &self.keep_alive)
            .field("qos", &self.qos)
            .field("topic", &self.topic)
            .field("reconnect", &self.reconnect)
            .field("ack_timeout", &self.ack_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_inflight", &self.max_inflight)
            .field("max_packet_size", &self.max_packet_size)
            .field("encoder", &self.encoder.content_type())
            .finish()
    }
}

/// A configuration that cannot work, with the setting at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MqttConfigError {
    /// The topic template is malformed.
    #[error(transparent)]
    Topic(#[from] TopicTemplateError),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Some other setting is out of range.
    #[error("MQTT setting `{setting}`: {problem}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The transport was created outside a Tokio runtime, so its connection has nowhere to run.
    #[error("the MQTT transport must be started inside a Tokio runtime")]
    NoRuntime,
}

impl MqttConfig {
    /// A configuration for the broker at `host`:1883 with client id `client_id`, payloads
    /// from `encoder`, and the defaults documented on each field.
    pub fn new(
        host: impl Into<String>,
        client_id: impl Into<String>,
        encoder: Arc<dyn Encoder>,
    ) -> Self {
        let client_id = client_id.into();
        Self {
            host: host.into(),
            port: 1883,
            protocol: ProtocolVersion::V311,
            device: client_id.clone(),
            client_id,
            tls: None,
            credentials: None,
            last_will: None,
            persistent_session: true,
            session_expiry: Duration::from_secs(3600),
            keep_alive: Duration::from_secs(30),
            qos: Qos::AtLeastOnce,
            topic: "edgewise/{device}/{sensor}".into(),
            reconnect: Backoff::default(),
            ack_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_inflight: 100,
            max_packet_size: 256 * 1024,
            encoder,
        }
    }

    /// The peer as logs and errors name it: `mqtt://host:port` or `mqtts://host:port`.
    pub fn describe(&self) -> String {
        let scheme = if self.tls.is_some() { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Checks every setting; on success, the parsed topic template.
    pub(crate) fn validate(&self) -> Result<TopicTemplate, MqttConfigError> {
        let invalid = |setting, problem: &str| MqttConfigError::Invalid {
            setting,
            problem: problem.to_string(),
        };
        if self.host.is_empty() {
            return Err(invalid("host", "is empty"));
        }
        if self.port == 0 {
            return Err(invalid("port", "0 is not a port a broker can listen on"));
        }
        if self.client_id.is_empty() {
            return Err(invalid(
                "client_id",
                "is empty; the broker needs it to tell devices apart and to keep the session",
            ));
        }
        if self.client_id.starts_with(char::is_whitespace) {
            return Err(invalid("client_id", "starts with whitespace"));
        }
        let min_keep_alive = match self.protocol {
            ProtocolVersion::V311 => Duration::from_secs(1),
            ProtocolVersion::V5 => Duration::from_secs(5),
        };
        if self.keep_alive < min_keep_alive || self.keep_alive > Duration::from_secs(65_535) {
            return Err(MqttConfigError::Invalid {
                setting: "keep_alive",
                problem: format!(
                    "{:?} is outside {min_keep_alive:?}..=65535 s (the range rumqttc accepts for \
                     this protocol version)",
                    self.keep_alive
                ),
            });
        }
        if self.max_inflight == 0 {
            return Err(invalid("max_inflight", "must be at least 1"));
        }
        if self.ack_timeout.is_zero() {
            return Err(invalid("ack_timeout", "must be longer than zero"));
        }
        if self.connect_timeout < Duration::from_secs(1) {
            return Err(invalid(
                "connect_timeout",
                "must be at least 1 s (rumqttc counts it in whole seconds)",
            ));
        }
        if self.max_packet_size < 128 {
            return Err(invalid("max_packet_size", "is too small for any reading"));
        }
        if let Some(will) = &self.last_will {
            if will.topic.is_empty() || will.topic.contains(['+', '#', '\0']) {
                return Err(invalid(
                    "last_will.topic",
                    "must be a concrete topic: not empty, no `+`, `#` or NUL",
                ));
            }
        }
        if let Some(tls) = &self.tls {
            tls.client_config()?;
        }
        Ok(TopicTemplate::parse(&self.topic)?)
    }
}
