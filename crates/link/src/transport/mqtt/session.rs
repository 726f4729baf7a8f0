//! The connection task: it owns rumqttc's event loop (3.1.1 or 5), reconnects with back-off,
//! feeds the [`AckTracker`] and hands each resolved message back to the publish that waits
//! for it.
//!
//! `publish` queues messages with rumqttc's client and registers them with the tracker under
//! one lock, so the tracker's queue order is rumqttc's. The task never cancels a `poll` of
//! the event loop midway (rumqttc's poll is not safe to cancel); it runs until the transport
//! is dropped, which aborts it and closes the socket without a DISCONNECT, as a power loss
//! would (the broker then publishes the last will).

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rumqttc::tokio_rustls::rustls::ClientConfig;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::tls::explain_handshake_error;
use crate::transport::{ErrorKind, TransportError};

use super::config::{MqttConfig, MqttConfigError, ProtocolVersion, Qos};
use super::replay::ReplayOrder;
use super::tracker::{AckTracker, Lost, Resolution};

/// How long a connection must have lasted for the next failure to start the back-off afresh:
/// a broker that accepts us and drops us at once must not be reconnected to in a tight loop.
const STABLE_CONNECTION: Duration = Duration::from_secs(5);

/// Where the outcome of one message goes: the publish call's channel and the reading's index
/// in its batch.
#[derive(Debug)]
pub(super) struct Waiter {
    pub reply: mpsc::UnboundedSender<(usize, Result<(), TransportError>)>,
    pub reading: usize,
}

/// The connection as publishers see it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LinkStatus {
    /// Not connected yet.
    Connecting,
    /// Connected (CONNACK received).
    Up,
    /// The last attempt failed with this error; reconnecting after a back-off.
    Down(TransportError),
}

/// What the publishers and the connection task share.
#[derive(Debug)]
pub(super) struct Shared {
    tracker: Mutex<AckTracker<Waiter>>,
    /// The connection state, for publishers to fail fast on errors retrying cannot fix.
    pub status: watch::Sender<LinkStatus>,
    /// Signalled after every event: rumqttc's request queue may have room again.
    pub progress: Notify,
}

impl Shared {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            tracker: Mutex::new(AckTracker::default()),
            status: watch::Sender::new(LinkStatus::Connecting),
            progress: Notify::new(),
        })
    }

    pub fn tracker(&self) -> MutexGuard<'_, AckTracker<Waiter>> {
        // The tracker stays consistent even if a holder panicked: every method completes its
        // bookkeeping before anything can panic.
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// rumqttc's client handle for the configured protocol version.
#[derive(Debug)]
pub(super) enum Client {
    V311(rumqttc::AsyncClient),
    V5 {
        client: rumqttc::v5::AsyncClient,
        /// The encoder's MIME type, sent as MQTT 5's content-type property.
        content_type: String,
    },
}

impl Client {
    /// Queues one publish without waiting; when the queue is full, the payload comes back.
    pub fn try_publish(&self, topic: &str, qos: Qos, payload: Vec<u8>) -> Result<(), Vec<u8>> {
        match self {
            Self::V311(client) => client
                .try_publish(topic, v311_qos(qos), false, payload)
                .map_err(|error| match error {
                    rumqttc::ClientError::Request(rumqttc::Request::Publish(publish))
                    | rumqttc::ClientError::TryRequest(rumqttc::Request::Publish(publish)) => {
                        Vec::from(publish.payload)
                    }
                    _ => Vec::new(),
                }),
            Self::V5 {
                client,
                content_type,
            } => {
                let properties = rumqttc::v5::mqttbytes::v5::PublishProperties {
                    content_type: Some(content_type.clone()),
                    ..Default::default()
                };
                client
                    .try_publish_with_properties(topic, v5_qos(qos), false, payload, properties)
                    .map_err(|error| match error {
                        rumqttc::v5::ClientError::Request(rumqttc::v5::Request::Publish(p))
                        | rumqttc::v5::ClientError::TryRequest(rumqttc::v5::Request::Publish(p)) => {
                            Vec::from(p.payload)
                        }
                        _ => Vec::new(),
                    })
            }
        }
    }
}

/// Starts the connection task for `config` on the current Tokio runtime.
pub(super) fn start(
    config: &MqttConfig,
    tls: Option<Arc<ClientConfig>>,
    shared: Arc<Shared>,
) -> Result<(Client, JoinHandle<()>), MqttConfigError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| MqttConfigError::NoRuntime)?;
    let peer = config.describe();
    // Room for a full window of messages besides those in flight, so a batch rarely waits.
    let queue_capacity = usize::from(config.max_inflight).max(16);
    let backoff = config.reconnect.clone();
    let connect_timeout = config.connect_timeout.as_secs().max(1);
    let uses_tls = tls.is_some();
    match config.protocol {
        ProtocolVersion::V311 => {
            let (client, eventloop) =
                v311_connection(config, config.client_id.clone(), tls, queue_capacity);
            let source = V311Source {
                eventloop,
                peer: peer.clone(),
                uses_tls,
                up: false,
                replay: ReplayOrder::default(),
            };
            let task = runtime.spawn(drive(source, shared, backoff, peer));
            Ok((Client::V311(client), task))
        }
        ProtocolVersion::V5 => {
            use rumqttc::v5::mqttbytes::v5::LastWill;
            let mut options = rumqttc::v5::MqttOptions::new(
                config.client_id.clone(),
                config.host.clone(),
                config.port,
            );
            let expiry = u32::try_from(config.session_expiry.as_secs()).unwrap_or(u32::MAX);
            options
                .set_keep_alive(config.keep_alive)
                .set_clean_start(!config.persistent_session)
                .set_outgoing_inflight_upper_limit(config.max_inflight)
                .set_request_channel_capacity(queue_capacity)
                .set_connection_timeout(connect_timeout)
                .set_max_packet_size(u32::try_from(config.max_packet_size).ok());
            if config.persistent_session {
                options.set_session_expiry_interval(Some(expiry));
            }
            if let Some(credentials) = &config.credentials {
                options.set_credentials(&credentials.username, &credentials.password);
            }
            if let Some(will) = &config.last_will {
                options.set_last_will(LastWill::new(
                    &will.topic,
                    will.payload.clone(),
                    v5_qos(will.qos),
                    will.retain,
                    None,
                ));
            }
            if let Some(tls) = tls {
                options.set_transport(rumqttc::Transport::tls_with_config(
                    rumqttc::TlsConfiguration::Rustls(tls),
                ));
            }
            let mut network = rumqttc::NetworkOptions::new();
            network.set_tcp_nodelay(true);
            options.set_network_options(network);
            let (client, eventloop) = rumqttc::v5::AsyncClient::new(options, queue_capacity);
            let source = V5Source {
                eventloop,
                peer: peer.clone(),
                uses_tls,
                up: false,
                replay: ReplayOrder::default(),
            };
            let task = runtime.spawn(drive(source, shared, backoff, peer));
            let content_type = config.encoder.content_type().to_string();
            Ok((
                Client::V5 {
                    client,
                    content_type,
                },
                task,
            ))
        }
    }
}

/// rumqttc's MQTT 3.1.1 client and event loop for `config` (broker, session, credentials,
/// last will, TLS, timeouts) under `client_id`. Shared with the command channel, which makes
/// its own connection to the same broker.
pub(crate) fn v311_connection(
    config: &MqttConfig,
    client_id: String,
    tls: Option<Arc<ClientConfig>>,
    queue_capacity: usize,
) -> (rumqttc::AsyncClient, rumqttc::EventLoop) {
    let mut options = rumqttc::MqttOptions::new(client_id, config.host.clone(), config.port);
    options
        .set_keep_alive(config.keep_alive)
        .set_clean_session(!config.persistent_session)
        .set_inflight(config.max_inflight)
        .set_request_channel_capacity(queue_capacity)
        .set_max_packet_size(config.max_packet_size, config.max_packet_size);
    if let Some(credentials) = &config.credentials {
        options.set_credentials(&credentials.username, &credentials.password);
    }
    if let Some(will) = &config.last_will {
        options.set_last_will(rumqttc::LastWill::new(
            &will.topic,
            will.payload.clone(),
            v311_qos(will.qos),
            will.retain,
        ));
    }
    if let Some(tls) = tls {
        options.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(tls),
        ));
    }
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, queue_capacity);
    let mut network = rumqttc::NetworkOptions::new();
    network.set_connection_timeout(config.connect_timeout.as_secs().max(1));
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    (client, eventloop)
}

fn v311_qos(qos: Qos) -> rumqttc::QoS {
    match qos {
        Qos::AtMostOnce => rumqttc::QoS::AtMostOnce,
        Qos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
    }
}

fn v5_qos(qos: Qos) -> rumqttc::v5::mqttbytes::QoS {
    match qos {
        Qos::AtMostOnce => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        Qos::AtLeastOnce => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
    }
}

/// What the tracker needs to hear from an event loop, the same for both protocol versions.
#[derive(Debug, Clone, PartialEq)]
enum LinkEvent {
    Connected { session_present: bool },
    Written(u16),
    Parked(u16),
    Acked { pkid: u16, refused: Option<String> },
    Other,
}

/// One protocol version's event loop, seen through [`LinkEvent`]s.
trait EventSource: Send {
    /// The next event, or the failure of the connection (or of the attempt to make one).
    fn next(&mut self) -> impl Future<Output = Result<LinkEvent, TransportError>> + Send;
    /// Events rumqttc had buffered when the connection failed (acks it had already read, a
    /// publish whose write failed).
    fn take_buffered(&mut self) -> Vec<LinkEvent>;
    /// How many never-written publishes rumqttc holds in its replay queue.
    fn replay_queued(&self) -> usize;
}

/// Runs the event loop until the transport is dropped.
async fn drive(
    mut source: impl EventSource,
    shared: Arc<Shared>,
    mut backoff: Backoff,
    peer: String,
) {
    let mut resolved: Vec<Resolution<Waiter>> = Vec::new();
    let mut connected_at: Option<Instant> = None;
    loop {
        match source.next().await {
            Ok(event) => {
                let mut tracker = shared.tracker();
                match event {
                    LinkEvent::Connected { session_present } => {
                        tracker.connected(session_present, &mut resolved);
                        connected_at = Some(Instant::now());
                        shared.status.send_replace(LinkStatus::Up);
                    }
                    LinkEvent::Written(pkid) => tracker.written(pkid, &mut resolved),
                    LinkEvent::Parked(pkid) => tracker.parked(pkid),
                    LinkEvent::Acked { pkid, refused } => {
                        tracker.acked(pkid, refused, &mut resolved)
                    }
                    LinkEvent::Other => {}
                }
                drop(tracker);
                if connected_at.is_some_and(|at| at.elapsed() >= STABLE_CONNECTION) {
                    backoff.reset();
                }
                deliver(&mut resolved, &peer);
                shared.progress.notify_waiters();
            }
            Err(error) => {
                {
                    let mut tracker = shared.tracker();
                    for event in source.take_buffered() {
                        match event {
                            LinkEvent::Written(pkid) => {
                                tracker.written_before_failure(pkid, &mut resolved)
                            }
                            LinkEvent::Parked(pkid) => tracker.parked(pkid),
                            LinkEvent::Acked { pkid, refused } => {
                                tracker.acked(pkid, refused, &mut resolved)
                            }
                            LinkEvent::Connected { .. } | LinkEvent::Other => {}
                        }
                    }
                    tracker.disconnected(source.replay_queued());
                }
                deliver(&mut resolved, &peer);
                connected_at = None;
                shared.status.send_replace(LinkStatus::Down(error));
                shared.progress.notify_waiters();
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Keeps `replay` up to date with what was written and acknowledged.
fn note_for_replay(replay: &mut ReplayOrder, event: &LinkEvent) {
    match *event {
        LinkEvent::Written(pkid) => replay.written(pkid),
        LinkEvent::Acked { pkid, .. } => replay.acked(pkid),
        LinkEvent::Connected {
            session_present: false,
        } => replay.session_lost(),
        LinkEvent::Connected { .. } | LinkEvent::Parked(_) | LinkEvent::Other => {}
    }
}

/// Hands each resolved message to its publish call (which may have given up already).
fn deliver(resolved: &mut Vec<Resolution<Waiter>>, peer: &str) {
    for (waiter, outcome) in resolved.drain(..) {
        let outcome = outcome.map_err(|lost| match lost {
            Lost::NotWritten => TransportError::new(
                ErrorKind::Connect,
                peer,
                "the connection failed before the message was written (QoS 0: not resent)",
            ),
            Lost::SessionGone => TransportError::new(
                ErrorKind::Connect,
                peer,
                "the broker started a new session (it lost ours, e.g. restarted without \
                 persistence) and the message in flight was dropped",
            ),
            Lost::Refused(reason) => TransportError::new(
                ErrorKind::Rejected,
                peer,
                format!("the broker refused the message: {reason}"),
            ),
        });
        waiter.reply.send((waiter.reading, outcome)).ok();
    }
}

struct V311Source {
    eventloop: rumqttc::EventLoop,
    peer: String,
    uses_tls: bool,
    /// Whether the connection is up (CONNACK received), to tell a failed attempt from a
    /// dropped connection.
    up: bool,
    /// Restores the original send order of what rumqttc will resend.
    replay: ReplayOrder,
}

fn v311_event(event: rumqttc::Event) -> LinkEvent {
    use rumqttc::{Event, Outgoing, Packet};
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => LinkEvent::Connected {
            session_present: ack.session_present,
        },
        Event::Incoming(Packet::PubAck(ack)) => LinkEvent::Acked {
            pkid: ack.pkid,
            refused: None,
        },
        Event::Outgoing(Outgoing::Publish(pkid)) => LinkEvent::Written(pkid),
        Event::Outgoing(Outgoing::AwaitAck(pkid)) => LinkEvent::Parked(pkid),
        _ => LinkEvent::Other,
    }
}

impl EventSource for V311Source {
    async fn next(&mut self) -> Result<LinkEvent, TransportError> {
        match self.eventloop.poll().await {
            Ok(event) => {
                let event = v311_event(event);
                if matches!(event, LinkEvent::Connected { .. }) {
                    self.up = true;
                }
                note_for_replay(&mut self.replay, &event);
                Ok(event)
            }
            Err(error) => {
                // Events rumqttc buffered before the failure count too (`take_buffered` hands
                // them to the tracker next).
                for event in self.eventloop.state.events.iter().cloned().map(v311_event) {
                    note_for_replay(&mut self.replay, &event);
                }
                self.replay
                    .sort(&mut self.eventloop.pending, |request| match request {
                        rumqttc::Request::Publish(publish) => Some(publish.pkid),
                        _ => None,
                    });
                let attempt = !std::mem::replace(&mut self.up, false);
                Err(classify_v311(&error, &self.peer, self.uses_tls, attempt))
            }
        }
    }

    fn take_buffered(&mut self) -> Vec<LinkEvent> {
        self.eventloop
            .state
            .events
            .drain(..)
            .map(v311_event)
            .collect()
    }

    fn replay_queued(&self) -> usize {
        self.eventloop
            .pending
            .iter()
            .filter(|request| matches!(request, rumqttc::Request::Publish(p) if p.pkid == 0))
            .count()
    }
}

struct V5Source {
    eventloop: rumqttc::v5::EventLoop,
    peer: String,
    uses_tls: bool,
    up: bool,
    replay: ReplayOrder,
}

fn v5_event(event: rumqttc::v5::Event) -> LinkEvent {
    use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
    use rumqttc::v5::Event;
    use rumqttc::Outgoing;
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => LinkEvent::Connected {
            session_present: ack.session_present,
        },
        Event::Incoming(Packet::PubAck(ack)) => LinkEvent::Acked {
            pkid: ack.pkid,
            refused: match ack.reason {
                PubAckReason::Success | PubAckReason::NoMatchingSubscribers => None,
                reason => Some(format!("PUBACK reason {reason:?}")),
            },
        },
        Event::Outgoing(Outgoing::Publish(pkid)) => LinkEvent::Written(pkid),
        Event::Outgoing(Outgoing::AwaitAck(pkid)) => LinkEvent::Parked(pkid),
        _ => LinkEvent::Other,
    }
}

impl EventSource for V5Source {
    async fn next(&mut self) -> Result<LinkEvent, TransportError> {
        match self.eventloop.poll().await {
            Ok(event) => {
                let event = v5_event(event);
                if matches!(event, LinkEvent::Connected { .. }) {
                    self.up = true;
                }
                note_for_replay(&mut self.replay, &event);
                Ok(event)
            }
            Err(error) => {
                // Events rumqttc buffered before the failure count too (`take_buffered` hands
                // them to the tracker next).
                for event in self.eventloop.state.events.iter().cloned().map(v5_event) {
                    note_for_replay(&mut self.replay, &event);
                }
                self.replay
                    .sort(&mut self.eventloop.pending, |request| match request {
                        rumqttc::v5::Request::Publish(publish) => Some(publish.pkid),
                        _ => None,
                    });
                let attempt = !std::mem::replace(&mut self.up, false);
                Err(classify_v5(&error, &self.peer, self.uses_tls, attempt))
            }
        }
    }

    fn take_buffered(&mut self) -> Vec<LinkEvent> {
        self.eventloop
            .state
            .events
            .drain(..)
            .map(v5_event)
            .collect()
    }

    fn replay_queued(&self) -> usize {
        self.eventloop
            .pending
            .iter()
            .filter(|request| matches!(request, rumqttc::v5::Request::Publish(p) if p.pkid == 0))
            .count()
    }
}

/// A CONNACK refusal in words, and whether it is about credentials.
fn refusal(code: &str) -> (ErrorKind, String) {
    match code {
        "BadUserNamePassword" => (
            ErrorKind::Auth,
            "the broker refused the username or password (CONNACK: bad user name or password)"
                .into(),
        ),
        "NotAuthorized" => (
            ErrorKind::Auth,
            "the broker refused this client: a wrong username or password, or one it does not \
             allow (CONNACK: not authorized)"
                .into(),
        ),
        "BadAuthenticationMethod" | "Banned" => (
            ErrorKind::Auth,
            format!("the broker refused this client's authentication (CONNACK: {code})"),
        ),
        "ServiceUnavailable" | "ServerUnavailable" | "ServerBusy" | "ConnectionRateExceeded" => (
            ErrorKind::PeerFailure,
            format!("the broker cannot take the connection now (CONNACK: {code})"),
        ),
        _ => (
            ErrorKind::Rejected,
            format!("the broker refused the connection (CONNACK: {code})"),
        ),
    }
}

/// An I/O error on the connection: a refused connection, or a TLS failure reported through
/// the TLS stream.
fn classify_io(error: &io::Error, peer: &str, during_tls_handshake: bool) -> TransportError {
    if let Some(explained) = explain_handshake_error(error) {
        return TransportError::new(ErrorKind::Tls, peer, explained);
    }
    let kind = error.kind();
    if during_tls_handshake
        && matches!(
            kind,
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        )
    {
        return TransportError::new(
            ErrorKind::Tls,
            peer,
            format!(
                "the broker closed the connection during the TLS handshake ({error}): a \
                 plaintext port, or a server that refused our client certificate"
            ),
        );
    }
    if during_tls_handshake {
        return TransportError::new(
            ErrorKind::Tls,
            peer,
            format!("TLS handshake failed: {error}"),
        );
    }
    let message = match kind {
        io::ErrorKind::ConnectionRefused => {
            format!(
                "connection refused: is the broker running and listening on this port? ({error})"
            )
        }
        io::ErrorKind::TimedOut => format!("the connection timed out ({error})"),
        _ => format!("connection failed: {error}"),
    };
    TransportError::new(ErrorKind::Connect, peer, message)
}

fn classify_tls(error: &rumqttc::TlsError, peer: &str) -> TransportError {
    match error {
        rumqttc::TlsError::Io(io) => classify_io(io, peer, true),
        rumqttc::TlsError::DNSName(_) => TransportError::new(
            ErrorKind::Tls,
            peer,
            "the host is not a valid DNS name or IP address for checking the server's certificate",
        ),
        other => TransportError::new(
            ErrorKind::Tls,
            peer,
            explain_handshake_error(other).unwrap_or_else(|| format!("TLS setup failed: {other}")),
        ),
    }
}

/// The broker closed the connection before a CONNACK: on a plaintext connection, the usual
/// reason is a port that expects TLS.
fn closed_before_connack(
    error: &dyn std::fmt::Display,
    peer: &str,
    uses_tls: bool,
) -> TransportError {
    if uses_tls {
        TransportError::new(
            ErrorKind::Connect,
            peer,
            format!("the broker dropped the connection without answering CONNECT ({error})"),
        )
    } else {
        TransportError::new(
            ErrorKind::Tls,
            peer,
            format!(
                "the broker dropped the connection without answering CONNECT ({error}): this \
                 port probably expects TLS (configure `tls`)"
            ),
        )
    }
}

pub(crate) fn classify_v311(
    error: &rumqttc::ConnectionError,
    peer: &str,
    uses_tls: bool,
    attempt: bool,
) -> TransportError {
    use rumqttc::{ConnectionError as E, StateError as S};
    match error {
        E::ConnectionRefused(code) => {
            let (kind, message) = refusal(&format!("{code:?}"));
            TransportError::new(kind, peer, message)
        }
        E::Tls(tls) => classify_tls(tls, peer),
        E::Io(io) | E::MqttState(S::Io(io)) => classify_io(io, peer, false),
        E::NetworkTimeout => TransportError::new(
            ErrorKind::Timeout,
            peer,
            "no CONNACK within the connect timeout",
        ),
        E::FlushTimeout => {
            TransportError::new(ErrorKind::Timeout, peer, "writing to the broker timed out")
        }
        E::MqttState(S::ConnectionAborted | S::Deserialization(_)) if attempt => {
            closed_before_connack(error, peer, uses_tls)
        }
        E::MqttState(S::ConnectionAborted) => {
            TransportError::new(ErrorKind::Connect, peer, "the broker closed the connection")
        }
        E::MqttState(S::AwaitPingResp) => TransportError::new(
            ErrorKind::Timeout,
            peer,
            "the broker stopped answering keep-alive pings",
        ),
        other => TransportError::new(
            ErrorKind::Connect,
            peer,
            format!("MQTT connection: {other}"),
        ),
    }
}

fn classify_v5(
    error: &rumqttc::v5::ConnectionError,
    peer: &str,
    uses_tls: bool,
    attempt: bool,
) -> TransportError {
    use rumqttc::v5::{ConnectionError as E, StateError as S};
    match error {
        E::ConnectionRefused(code) | E::MqttState(S::ConnFail { reason: code }) => {
            let (kind, message) = refusal(&format!("{code:?}"));
            TransportError::new(kind, peer, message)
        }
        E::Tls(tls) => classify_tls(tls, peer),
        E::Io(io) | E::MqttState(S::Io(io)) => classify_io(io, peer, false),
        E::Timeout(_) => TransportError::new(
            ErrorKind::Timeout,
            peer,
            "no CONNACK within the connect timeout",
        ),
        E::MqttState(S::ConnectionAborted | S::Deserialization(_)) if attempt => {
            closed_before_connack(error, peer, uses_tls)
        }
        E::MqttState(S::ConnectionAborted) => {
            TransportError::new(ErrorKind::Connect, peer, "the broker closed the connection")
        }
        E::MqttState(S::AwaitPingResp) => TransportError::new(
            ErrorKind::Timeout,
            peer,
            "the broker stopped answering keep-alive pings",
        ),
        E::MqttState(S::ServerDisconnect {
            reason_code,
            reason_string,
        }) => TransportError::new(
            ErrorKind::PeerFailure,
            peer,
            format!(
                "the broker disconnected us ({reason_code:?}{})",
                reason_string
                    .as_deref()
                    .map(|reason| format!(": {reason}"))
                    .unwrap_or_default()
            ),
        ),
        other => TransportError::new(
            ErrorKind::Connect,
            peer,
            format!("MQTT connection: {other}"),
        ),
    }
}
