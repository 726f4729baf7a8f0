//! CoAP over UDP (RFC 7252): each batch is POSTed (or PUT) as a Confirmable request to one
//! resource, with the encoder's Content-Format.
//!
//! - **Reliability** is CoAP's own (section 4.2): a request is retransmitted after a random
//!   first timeout in `[ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR]`, the timeout doubling
//!   each time, up to `MAX_RETRANSMIT` retransmissions; then the batch fails with
//!   [`ErrorKind::Timeout`]. Every request has a fresh message ID and a fresh random token.
//! - **Responses** may be piggybacked on the ACK, or separate (section 5.2.2): an empty ACK
//!   first, then a Confirmable response that this transport acknowledges. The wait for a
//!   separate response is bounded by `response_timeout`.
//! - **Outcome**: 2.xx acknowledges the readings, 4.xx is [`ErrorKind::Rejected`] (with the
//!   diagnostic payload), 5.xx and a Reset are [`ErrorKind::PeerFailure`].
//! - **Large batches are split by readings**, not with Block1 (RFC 7959): readings are packed
//!   into requests whose payload stays within `max_payload` (default 1024 bytes, which keeps a
//!   datagram under the 1280-byte IPv6 minimum MTU). Each request is a complete, decodable
//!   batch of its own, so a receiver needs no block-wise reassembly, and the readings of
//!   requests that succeeded are acknowledged even when a later one fails. A single reading
//!   larger than the limit is sent alone, in one datagram.
//!
//! The socket is not connected: ICMP "port unreachable" is ignored like any lost datagram
//! (RFC 7252 treats the network as lossy), and datagrams from other addresses are dropped.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::encode::Encoder;
use crate::reading::Reading;
use crate::transport::{
    ConfigError, Delivery, ErrorKind, PublishFuture, Transport, TransportError,
};

/// The CoAP default port (RFC 7252, section 6.1).
pub const DEFAULT_PORT: u16 = 5683;
/// How many tokens of finished exchanges are remembered, to re-acknowledge a separate response
/// whose ACK was lost rather than reset it.
const RECENT_TOKENS: usize = 16;
/// How much of an error response's diagnostic payload goes into the error message.
const PAYLOAD_EXCERPT: usize = 200;

/// The request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoapMethod {
    /// POST: the resource processes each batch (the default).
    #[default]
    Post,
    /// PUT: each batch replaces the resource's state.
    Put,
}

/// RFC 7252 section 4.8 transmission parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransmissionParameters {
    /// ACK_TIMEOUT: the shortest first wait for an acknowledgement (2 s).
    pub ack_timeout: Duration,
    /// ACK_RANDOM_FACTOR: the first wait is drawn from `[ack_timeout, ack_timeout × this]`
    /// (1.5).
    pub ack_random_factor: f64,
    /// MAX_RETRANSMIT: retransmissions before giving up (4).
    pub max_retransmit: u32,
}

impl Default for TransmissionParameters {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor: 1.5,
            max_retransmit: 4,
        }
    }
}

/// Where to send and how.
#[derive(Debug, Clone, PartialEq)]
pub struct CoapConfig {
    /// `coap://host[:port]/path[?query]`.
    pub url: String,
    /// POST or PUT.
    pub method: CoapMethod,
    /// The largest payload per request; larger batches are split by readings.
    pub max_payload: usize,
    /// The Content-Format number; `None` takes it from the encoder's content type, and
    /// leaves the option out for a type CoAP has no number for.
    pub content_format: Option<u16>,
    /// Retransmission timing.
    pub transmission: TransmissionParameters,
    /// How long to wait for a separate response after the server's empty ACK.
    pub response_timeout: Duration,
}

impl CoapConfig {
    /// `url` with POST, 1024-byte payloads, RFC 7252's default timing, and 30 s for a
    /// separate response.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: CoapMethod::Post,
            max_payload: 1024,
            content_format: None,
            transmission: TransmissionParameters::default(),
            response_timeout: Duration::from_secs(30),
        }
    }
}

/// What the CoAP transport has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoapStats {
    /// Requests, each counted once however often it was transmitted.
    pub requests: u64,
    /// Retransmissions of requests after an ACK timeout.
    pub retransmissions: u64,
    /// Responses that came separately from their ACK.
    pub separate_responses: u64,
}

/// Sends batches as CoAP requests.
pub struct CoapTransport {
    config: CoapConfig,
    encoder: Arc<dyn Encoder>,
    host: String,
    port: u16,
    path: Vec<String>,
    query: Vec<String>,
    content_format: Option<u16>,
    describe: String,
    /// Bound and resolved at the first batch.
    socket: Option<(UdpSocket, SocketAddr)>,
    next_message_id: u16,
    recent_tokens: VecDeque<Vec<u8>>,
    random: SplitMix,
    payload: Vec<u8>,
    /// Room for the largest UDP datagram, kept between requests.
    receive_buffer: Vec<u8>,
    stats: CoapStats,
}

impl std::fmt::Debug for CoapTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoapTransport")
            .field("url", &self.describe)
            .field("encoding", &self.encoder.content_type())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The end of one request.
enum Exchange {
    /// A response code (class.detail as one byte) and its payload.
    Response(u8, Vec<u8>),
    Reset,
    Timeout(String),
}

impl CoapTransport {
    /// A transport for `config`; checks the URL now. The host is resolved and the socket bound
    /// at the first batch.
    pub fn new(config: CoapConfig, encoder: Arc<dyn Encoder>) -> Result<Self, ConfigError> {
        let url = config.url.as_str();
        let error = |problem: &str| ConfigError::new("url", format!("`{url}`: {problem}"));
        let rest = url
            .strip_prefix("coap://")
            .ok_or_else(|| error("the scheme must be coap (coaps is not supported)"))?;
        let (authority, path_and_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = split_host_port(authority).ok_or_else(|| error("bad host or port"))?;
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let path: Vec<String> = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_string)
            .collect();
        let query: Vec<String> = query
            .split('&')
            .filter(|part| !part.is_empty())
            .map(str::to_string)
            .collect();
        if path.iter().chain(&query).any(|part| part.contains('%')) {
            return Err(error("percent-encoded paths are not supported"));
        }
        if path.iter().chain(&query).any(|part| part.len() > 255) {
            return Err(error(
                "a path segment or query part is longer than 255 bytes",
            ));
        }
        if config.max_payload == 0 {
            return Err(ConfigError::new("max_payload", "must be at least 1 byte"));
        }
        let parameters = config.transmission;
        if parameters.ack_timeout.is_zero()
            || !(parameters.ack_random_factor >= 1.0 && parameters.ack_random_factor <= 10.0)
        {
            return Err(ConfigError::new(
                "transmission",
                "ack_timeout must be positive and ack_random_factor between 1 and 10",
            ));
        }
        let content_format = config
            .content_format
            .or_else(|| content_format_of(encoder.content_type()));
        let mut random = SplitMix::from_entropy();
        Ok(Self {
            describe: format!("coap://{authority}{path_and_query}"),
            host,
            port,
            path,
            query,
            content_format,
            encoder,
            socket: None,
            // Section 4.4: start at a random message ID, so a restart does not reuse recent
            // IDs the server still remembers.
            next_message_id: random.next() as u16,
            recent_tokens: VecDeque::with_capacity(RECENT_TOKENS),
            random,
            payload: Vec::new(),
            receive_buffer: vec![0; 65_536],
            stats: CoapStats::default(),
            config,
        })
    }

    /// What this transport has done so far.
    pub fn stats(&self) -> &CoapStats {
        &self.stats
    }

    async fn publish_batch(&mut self, batch: &[Reading]) -> Delivery {
        let mut delivery = Delivery::none(batch.len());
        let mut start = 0;
        while start < batch.len() {
            let end = match self.encode_chunk(batch, start) {
                Ok(end) => end,
                Err(error) => return delivery.with_error(error),
            };
            if let Err(error) = self.request().await {
                return delivery.with_error(error);
            }
            for index in start..end {
                delivery.ack(index);
            }
            start = end;
        }
        delivery
    }

    /// Encodes the longest run of readings from `start` whose payload fits `max_payload`
    /// (at least one reading) into `self.payload`; returns where the run ends.
    fn encode_chunk(&mut self, batch: &[Reading], start: usize) -> Result<usize, TransportError> {
        let encode_error = |e: crate::encode::EncodeError| {
            TransportError::new(ErrorKind::Encode, &self.describe, e.to_string())
        };
        self.payload.clear();
        self.encoder
            .encode(&batch[start..], &mut self.payload)
            .map_err(encode_error)?;
        if self.payload.len() <= self.config.max_payload {
            return Ok(batch.len());
        }
        // Grow the run one reading at a time. Each trial encodes at most one limit's worth
        // of readings, so the work stays linear in the batch.
        let mut end = start + 1;
        while end < batch.len() {
            self.payload.clear();
            self.encoder
                .encode(&batch[start..=end], &mut self.payload)
                .map_err(encode_error)?;
            if self.payload.len() > self.config.max_payload {
                break;
            }
            end += 1;
        }
        self.payload.clear();
        self.encoder
            .encode(&batch[start..end], &mut self.payload)
            .map_err(encode_error)?;
        Ok(end)
    }

    /// Sends `self.payload` as one Confirmable request and waits for its response.
    async fn request(&mut self) -> Result<(), TransportError> {
        self.ensure_socket().await?;
        let message_id = self.next_message_id;
        self.next_message_id = self.next_message_id.wrapping_add(1);
        let token = self.random.next().to_be_bytes().to_vec();
        let datagram = self.request_datagram(message_id, &token)?;
        self.stats.requests += 1;
        let exchange = self.exchange(&datagram, message_id, &token).await;
        if self.recent_tokens.len() == RECENT_TOKENS {
            self.recent_tokens.pop_front();
        }
        self.recent_tokens.push_back(token);
        let error = |kind, message: String| Err(TransportError::new(kind, &self.describe, message));
        match exchange? {
            Exchange::Response(code, payload) => {
                let class = code >> 5;
                let text = format!("{}.{:02}", class, code & 0x1f);
                let excerpt =
                    String::from_utf8_lossy(&payload[..payload.len().min(PAYLOAD_EXCERPT)])
                        .trim()
                        .to_string();
                let with_payload = |what: &str| {
                    if excerpt.is_empty() {
                        format!("the server answered {text} ({what})")
                    } else {
                        format!("the server answered {text} ({what}): {excerpt}")
                    }
                };
                match class {
                    2 => Ok(()),
                    4 => error(ErrorKind::Rejected, with_payload("client error")),
                    5 => error(ErrorKind::PeerFailure, with_payload("server error")),
                    _ => error(ErrorKind::PeerFailure, with_payload("not a response code")),
                }
            }
            Exchange::Reset => error(
                ErrorKind::PeerFailure,
                "the server reset the request (RST): it could not process it".into(),
            ),
            Exchange::Timeout(message) => error(ErrorKind::Timeout, message),
        }
    }

    fn request_datagram(&self, message_id: u16, token: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut packet = Packet::new();
        packet.header.set_version(1);
        packet.header.set_type(MessageType::Confirmable);
        packet.header.code = MessageClass::Request(match self.config.method {
            CoapMethod::Post => RequestType::Post,
            CoapMethod::Put => RequestType::Put,
        });
        packet.header.message_id = message_id;
        packet.set_token(token.to_vec());
        for segment in &self.path {
            packet.add_option(CoapOption::UriPath, segment.as_bytes().to_vec());
        }
        if let Some(format) = self.content_format {
            packet.add_option(CoapOption::ContentFormat, uint_option(format.into()));
        }
        for part in &self.query {
            packet.add_option(CoapOption::UriQuery, part.as_bytes().to_vec());
        }
        packet.payload = self.payload.clone();
        packet.to_bytes_unlimited().map_err(|e| {
            TransportError::new(
                ErrorKind::Encode,
                &self.describe,
                format!("cannot build the CoAP message: {e}"),
            )
        })
    }

    /// Transmits `datagram` until it is acknowledged (section 4.2), then waits for the response
    /// if it comes separately (section 5.2.2).
    async fn exchange(
        &mut self,
        datagram: &[u8],
        message_id: u16,
        token: &[u8],
    ) -> Result<Exchange, TransportError> {
        let parameters = self.config.transmission;
        let mut timeout = parameters
            .ack_timeout
            .mul_f64(1.0 + (parameters.ack_random_factor - 1.0) * self.random.unit());
        let mut retransmissions = 0;
        let mut acknowledged = false;
        self.send(datagram).await?;
        let mut deadline = Instant::now() + timeout;
        loop {
            let received = match &self.socket {
                Some((socket, peer)) => {
                    match tokio::time::timeout_at(
                        deadline,
                        socket.recv_from(&mut self.receive_buffer),
                    )
                    .await
                    {
                        Ok(Ok((len, from))) if from == *peer => Some(len),
                        // From someone else, or an error such as an ICMP report: not ours.
                        Ok(_) => continue,
                        Err(_elapsed) => None,
                    }
                }
                None => return Ok(Exchange::Timeout("the socket is gone".into())),
            };
            let Some(len) = received else {
                if acknowledged {
                    return Ok(Exchange::Timeout(format!(
                        "the server acknowledged the request but sent no response within {:?}",
                        self.config.response_timeout
                    )));
                }
                if retransmissions == parameters.max_retransmit {
                    return Ok(Exchange::Timeout(format!(
                        "no acknowledgement after {} transmissions (is a CoAP server listening?)",
                        retransmissions + 1
                    )));
                }
                retransmissions += 1;
                self.stats.retransmissions += 1;
                timeout *= 2;
                self.send(datagram).await?;
                deadline = Instant::now() + timeout;
                continue;
            };
            let Ok(packet) = Packet::from_bytes(&self.receive_buffer[..len]) else {
                continue; // Not CoAP: ignore (section 4.2 allows silently ignoring).
            };
            let kind = packet.header.get_type();
            let code: u8 = packet.header.code.into();
            let ours = packet.get_token() == token;
            match kind {
                MessageType::Acknowledgement | MessageType::Reset
                    if packet.header.message_id != message_id =>
                {
                    // An ACK of an earlier request (a duplicate): nothing to do.
                }
                MessageType::Reset => return Ok(Exchange::Reset),
                MessageType::Acknowledgement if code == 0 => {
                    if !acknowledged {
                        acknowledged = true;
                        self.stats.separate_responses += 1;
                        deadline = Instant::now() + self.config.response_timeout;
                    }
                }
                MessageType::Acknowledgement if ours => {
                    return Ok(Exchange::Response(code, packet.payload));
                }
                MessageType::Acknowledgement => {}
                MessageType::Confirmable => {
                    let known = ours || self.recent_tokens.iter().any(|t| t == packet.get_token());
                    let is_response = code >> 5 >= 2;
                    // Acknowledge our responses (again, if our ACK was lost); reset anything
                    // else, as section 4.2 asks for a message we cannot process.
                    let reply = if known && is_response {
                        MessageType::Acknowledgement
                    } else {
                        MessageType::Reset
                    };
                    self.send(&empty_message(reply, packet.header.message_id))
                        .await?;
                    if ours && is_response {
                        if !acknowledged {
                            // The response overtook (or replaced) the empty ACK.
                            self.stats.separate_responses += 1;
                        }
                        return Ok(Exchange::Response(code, packet.payload));
                    }
                }
                MessageType::NonConfirmable => {
                    if ours && code >> 5 >= 2 {
                        return Ok(Exchange::Response(code, packet.payload));
                    }
                }
            }
        }
    }

    async fn send(&mut self, datagram: &[u8]) -> Result<(), TransportError> {
        let Some((socket, peer)) = &self.socket else {
            return Err(TransportError::new(
                ErrorKind::Io,
                &self.describe,
                "no socket",
            ));
        };
        match socket.send_to(datagram, peer).await {
            Ok(_) => Ok(()),
            // An earlier ICMP error reported on this send, or a full buffer: a lost datagram.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
            Err(e) => Err(TransportError::new(
                ErrorKind::Connect,
                &self.describe,
                format!("cannot send to {peer}: {e}"),
            )),
        }
    }

    async fn ensure_socket(&mut self) -> Result<(), TransportError> {
        if self.socket.is_some() {
            return Ok(());
        }
        let peer = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                TransportError::new(
                    ErrorKind::Connect,
                    &self.describe,
                    format!("cannot resolve: {e}"),
                )
            })?
            .next()
            .ok_or_else(|| {
                TransportError::new(
                    ErrorKind::Connect,
                    &self.describe,
                    "the host has no address",
                )
            })?;
        let local: SocketAddr = if peer.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(|e| {
            TransportError::new(
                ErrorKind::Io,
                &self.describe,
                format!("cannot open a UDP socket: {e}"),
            )
        })?;
        self.socket = Some((socket, peer));
        Ok(())
    }
}

impl Transport for CoapTransport {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(self.publish_batch(batch))
    }
}

/// An empty ACK or RST (no token, no code) for `message_id`.
fn empty_message(kind: MessageType, message_id: u16) -> Vec<u8> {
    let type_bits: u8 = match kind {
        MessageType::Confirmable => 0,
        MessageType::NonConfirmable => 1,
        MessageType::Acknowledgement => 2,
        MessageType::Reset => 3,
    };
    let [high, low] = message_id.to_be_bytes();
    vec![0x40 | (type_bits << 4), 0, high, low]
}

/// A CoAP uint option value: big-endian without leading zero bytes (section 3.2).
fn uint_option(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// The registered Content-Format number of a MIME type (RFC 7252 section 12.3, RFC 8428
/// section 12.3).
pub fn content_format_of(content_type: &str) -> Option<u16> {
    let normalized: String = content_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match normalized.as_str() {
        "text/plain;charset=utf-8" => 0,
        "application/link-format" => 40,
        "application/xml" => 41,
        "application/octet-stream" => 42,
        "application/json" => 50,
        "application/cbor" => 60,
        "application/senml+json" => 110,
        "application/sensml+json" => 111,
        "application/senml+cbor" => 112,
        "application/sensml+cbor" => 113,
        _ => return None,
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => DEFAULT_PORT,
    };
    Some((host.to_string(), port))
}

/// splitmix64 for message IDs, tokens and timeout jitter; seeded from std's per-process random
/// hasher keys. Tokens need to be unpredictable to an off-path attacker (section 5.3.1), not
/// cryptographically strong.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn from_entropy() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        Self(hasher.finish())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    //! The exchange logic against a scripted peer on 127.0.0.1, for the cases libcoap's example
    //! server cannot produce (separate responses to POST, 5.xx, dropped first transmissions);
    //! `tests/coap_peer.rs` runs against the real server.

    use super::*;
    use crate::transport::lines::test_encoder::{readings, CsvEncoder};

    /// Fast retransmissions for tests.
    fn fast() -> TransmissionParameters {
        TransmissionParameters {
            ack_timeout: Duration::from_millis(40),
            ack_random_factor: 1.5,
            max_retransmit: 4,
        }
    }

    async fn peer() -> (UdpSocket, u16) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = socket.local_addr().map(|a| a.port()).unwrap_or_default();
        (socket, port)
    }

    async fn receive(socket: &UdpSocket) -> (Packet, SocketAddr) {
        let mut buffer = vec![0u8; 4096];
        let (len, from) = socket
            .recv_from(&mut buffer)
            .await
            .unwrap_or_else(|e| panic!("peer recv: {e}"));
        let packet = Packet::from_bytes(&buffer[..len]).unwrap_or_else(|e| panic!("not CoAP: {e}"));
        (packet, from)
    }

    fn response(
        kind: MessageType,
        code: u8,
        message_id: u16,
        token: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let mut packet = Packet::new();
        packet.header.set_version(1);
        packet.header.set_type(kind);
        packet.header.code = MessageClass::from(code);
        packet.header.message_id = message_id;
        packet.set_token(token.to_vec());
        packet.payload = payload.to_vec();
        packet.to_bytes().unwrap_or_else(|e| panic!("{e}"))
    }

    fn transport(port: u16, configure: impl FnOnce(&mut CoapConfig)) -> CoapTransport {
        let mut config = CoapConfig::new(format!("coap://127.0.0.1:{port}/sensors/batch"));
        config.transmission = fast();
        configure(&mut config);
        CoapTransport::new(config, Arc::new(CsvEncoder::default()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    const CHANGED: u8 = 0x44; // 2.04
    const BAD_REQUEST: u8 = 0x80; // 4.00
    const SERVICE_UNAVAILABLE: u8 = 0xA3; // 5.03

    #[tokio::test]
    async fn a_separate_response_is_awaited_and_acknowledged() {
        let (server, port) = peer().await;
        let mut coap = transport(port, |_| {});
        let script = tokio::spawn(async move {
            let (request, client) = receive(&server).await;
            assert_eq!(request.header.get_type(), MessageType::Confirmable);
            assert_eq!(
                request.header.code,
                MessageClass::Request(RequestType::Post)
            );
            // "I got it, the answer follows": the empty ACK of section 5.2.2 ...
            let empty = empty_message(MessageType::Acknowledgement, request.header.message_id);
            server.send_to(&empty, client).await.ok();
            tokio::time::sleep(Duration::from_millis(100)).await;
            // ... then the response in a Confirmable message of the server's own.
            let separate = response(
                MessageType::Confirmable,
                CHANGED,
                0x7001,
                request.get_token(),
                b"",
            );
            server.send_to(&separate, client).await.ok();
            let (ack, _) = receive(&server).await;
            (request, ack)
        });
        let delivery = coap.publish(&readings(3)).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        let (request, ack) = script.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.payload, b"s,0,0|s,1,1.5|s,2,3");
        let path: Vec<&[u8]> = request
            .get_option(CoapOption::UriPath)
            .map(|segments| segments.iter().map(Vec::as_slice).collect())
            .unwrap_or_default();
        assert_eq!(path, [b"sensors".as_slice(), b"batch"]);
        assert_eq!(ack.header.get_type(), MessageType::Acknowledgement);
        assert_eq!(ack.header.message_id, 0x7001);
        assert_eq!(ack.header.code, MessageClass::Empty);
        assert_eq!(coap.stats().separate_responses, 1);
        assert_eq!(coap.stats().retransmissions, 0);
    }

    #[tokio::test]
    async fn a_lost_request_is_retransmitted_with_the_same_id_and_token() {
        let (server, port) = peer().await;
        let mut coap = transport(port, |c| c.method = CoapMethod::Put);
        let script = tokio::spawn(async move {
            let (first, _) = receive(&server).await; // "lost"
            let (second, client) = receive(&server).await;
            let ack = response(
                MessageType::Acknowledgement,
                CHANGED,
                second.header.message_id,
                second.get_token(),
                b"",
            );
            server.send_to(&ack, client).await.ok();
            (first, second)
        });
        let delivery = coap.publish(&readings(1)).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        let (first, second) = script.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.header.code, MessageClass::Request(RequestType::Put));
        assert_eq!(first.header.message_id, second.header.message_id);
        assert_eq!(first.get_token(), second.get_token());
        assert_eq!(coap.stats().retransmissions, 1);
    }

    #[tokio::test]
    async fn client_and_server_errors_are_told_apart() {
        for (code, kind, text) in [
            (BAD_REQUEST, ErrorKind::Rejected, "4.00"),
            (SERVICE_UNAVAILABLE, ErrorKind::PeerFailure, "5.03"),
        ] {
            let (server, port) = peer().await;
            let mut coap = transport(port, |_| {});
            let script = tokio::spawn(async move {
                let (request, client) = receive(&server).await;
                let answer = response(
                    MessageType::Acknowledgement,
                    code,
                    request.header.message_id,
                    request.get_token(),
                    b"try later",
                );
                server.send_to(&answer, client).await.ok();
            });
            let delivery = coap.publish(&readings(2)).await;
            script.await.ok();
            assert_eq!(delivery.acked_count(), 0);
            let error = delivery.error.unwrap_or_else(|| panic!("{text}: no error"));
            assert_eq!(error.kind, kind, "{error}");
            let message = error.to_string();
            assert!(
                message.contains(text) && message.contains("try later"),
                "{message}"
            );
        }
    }

    #[tokio::test]
    async fn large_batches_are_split_by_readings_under_the_payload_limit() {
        let (server, port) = peer().await;
        let limit = 40;
        let mut coap = transport(port, |c| c.max_payload = limit);
        let batch = readings(20);
        let script = tokio::spawn(async move {
            let mut requests = Vec::new();
            loop {
                let (request, client) = receive(&server).await;
                let ack = response(
                    MessageType::Acknowledgement,
                    CHANGED,
                    request.header.message_id,
                    request.get_token(),
                    b"",
                );
                server.send_to(&ack, client).await.ok();
                let last = request.payload.ends_with(b"s,19,28.5");
                requests.push(request);
                if last {
                    return requests;
                }
            }
        });
        let delivery = coap.publish(&batch).await;
        assert!(delivery.is_complete(), "{delivery:?}");
        let requests = script.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(requests.len() > 1);
        assert_eq!(coap.stats().requests, requests.len() as u64);
        let mut all = Vec::new();
        for request in &requests {
            assert!(
                request.payload.len() <= limit,
                "{} bytes",
                request.payload.len()
            );
            all.push(String::from_utf8_lossy(&request.payload).into_owned());
        }
        // Every request is a whole batch of its own; together they are the batch, in order.
        let mut whole = Vec::new();
        CsvEncoder::default().encode(&batch, &mut whole).ok();
        assert_eq!(all.join("|"), String::from_utf8_lossy(&whole));
        // Each request a fresh message ID and token.
        for pair in requests.windows(2) {
            assert_ne!(pair[0].header.message_id, pair[1].header.message_id);
            assert_ne!(pair[0].get_token(), pair[1].get_token());
        }
    }

    #[tokio::test]
    async fn silence_is_a_timeout_after_max_retransmit() {
        let (server, port) = peer().await;
        let mut coap = transport(port, |c| c.transmission.max_retransmit = 2);
        let script = tokio::spawn(async move {
            for _ in 0..3 {
                receive(&server).await;
            }
        });
        let delivery = coap.publish(&readings(1)).await;
        script.await.ok();
        let error = delivery.error.unwrap_or_else(|| panic!("no error"));
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(error.to_string().contains("3 transmissions"), "{error}");
        assert_eq!(coap.stats().retransmissions, 2);
    }

    #[test]
    fn content_formats_follow_the_registry() {
        assert_eq!(content_format_of("application/senml+json"), Some(110));
        assert_eq!(content_format_of("application/senml+cbor"), Some(112));
        assert_eq!(content_format_of("text/plain; charset=utf-8"), Some(0));
        assert_eq!(content_format_of("application/json"), Some(50));
        assert_eq!(content_format_of("text/csv"), None);
        assert_eq!(uint_option(0), Vec::<u8>::new());
        assert_eq!(uint_option(110), vec![110]);
        assert_eq!(uint_option(11050), vec![0x2B, 0x2A]);
    }

    #[test]
    fn urls_are_checked_when_the_transport_is_built() {
        let build =
            |url: &str| CoapTransport::new(CoapConfig::new(url), Arc::new(CsvEncoder::default()));
        let coap = build("coap://[::1]/a/b?x=1&y").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((coap.host.as_str(), coap.port), ("::1", DEFAULT_PORT));
        assert_eq!(coap.path, ["a", "b"]);
        assert_eq!(coap.query, ["x=1", "y"]);
        for bad in ["http://h/x", "coaps://h/x", "coap://h:port/x", "coap:///x"] {
            assert!(build(bad).is_err(), "{bad} was accepted");
        }
    }
}
