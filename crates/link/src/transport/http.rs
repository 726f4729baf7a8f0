//! HTTP and HTTPS: each batch is one POST of the encoder's bytes, with its content type.
//!
//! - **Success** is a 2xx answer only. A 3xx is not followed (point `url` at the final
//!   address).
//! - **Retries inside [`Transport::publish`]**: a 5xx, 408 or 429 answer, no answer within
//!   `request_timeout`, or a connection that broke during the exchange are retried with
//!   [`Backoff`] until `max_attempts` attempts or `max_retry_time` have been spent; then the
//!   last error is returned ([`ErrorKind::PeerFailure`], [`ErrorKind::Timeout`]).
//! - **No retry** for any other 4xx ([`ErrorKind::Rejected`], with the status and the start of
//!   the body: the peer said what it dislikes), for a failed TLS handshake
//!   ([`ErrorKind::Tls`]), and for a peer that cannot be reached at all ([`ErrorKind::Connect`]):
//!   the outbox waits with its own back-off before the next publish.
//! - **One connection, kept alive** between batches (HTTP/1.1 keep-alive). A connection the
//!   server closed while idle is replaced at once, without counting as a failed attempt.
//!
//! The client is hyper's HTTP/1 connection API over tokio, with tokio-rustls (ring) for HTTPS:
//! no connection pool, no HTTP/2 and no system TLS library, as one transport talks to one
//! server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::backoff::Backoff;
use crate::encode::Encoder;
use crate::reading::Reading;
use crate::tls::{explain_handshake_error, TlsFiles};
use crate::transport::{
    ConfigError, Delivery, ErrorKind, PublishFuture, Transport, TransportError,
};

/// How much of an error answer's body goes into the error message.
const BODY_EXCERPT: usize = 200;
/// Answers longer than this are not read to the end; the connection is closed instead.
const MAX_BODY: usize = 64 * 1024;

/// Where to POST and how hard to try.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// `http://host:port/path` or `https://…`; no credentials in the URL (use `headers`).
    pub url: String,
    /// The CA (and optional client certificate) for `https` URLs.
    pub tls: TlsFiles,
    /// Extra request headers, e.g. `("Authorization", "Bearer …")`.
    pub headers: Vec<(String, String)>,
    /// The limit for one attempt: connecting, sending, and reading the answer.
    pub request_timeout: Duration,
    /// Attempts per batch, the first included (at least 1).
    pub max_attempts: u32,
    /// The limit for all attempts of one batch and the waits between them.
    pub max_retry_time: Duration,
    /// The first wait between attempts; it doubles (with jitter) up to `backoff_cap`.
    pub backoff_initial: Duration,
    /// The longest wait between attempts.
    pub backoff_cap: Duration,
}

impl HttpConfig {
    /// `url` with the defaults: 10 s per attempt, 5 attempts within 60 s, waits from 200 ms
    /// doubling up to 10 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            tls: TlsFiles::default(),
            headers: Vec::new(),
            request_timeout: Duration::from_secs(10),
            max_attempts: 5,
            max_retry_time: Duration::from_secs(60),
            backoff_initial: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(10),
        }
    }
}

/// What the HTTP transport has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Attempts after the first one of a batch.
    pub retries: u64,
    /// Connections opened (1 for any number of batches while keep-alive holds).
    pub connections: u64,
}

/// POSTs batches to an HTTP(S) URL.
pub struct HttpTransport {
    config: HttpConfig,
    encoder: Arc<dyn Encoder>,
    target: Target,
    headers: HeaderMap,
    tls: Option<TlsConnector>,
    connection: Option<SendRequest<Full<Bytes>>>,
    backoff: Backoff,
    body: Vec<u8>,
    stats: HttpStats,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.config.url)
            .field("encoding", &self.encoder.content_type())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The parsed URL.
#[derive(Debug, Clone)]
struct Target {
    https: bool,
    /// Host name or IP address, without IPv6 brackets.
    host: String,
    port: u16,
    /// The `Host` header value.
    authority: HeaderValue,
    path_and_query: Uri,
    /// `https://host:port/path`, for messages.
    describe: String,
}

/// How one attempt ended.
enum Attempt {
    Delivered,
    Failed { error: TransportError, retry: bool },
}

impl HttpTransport {
    /// A transport for `config`; checks the URL, the headers and the TLS files now, so a bad
    /// configuration is reported at start-up. Connects at the first batch.
    pub fn new(config: HttpConfig, encoder: Arc<dyn Encoder>) -> Result<Self, ConfigError> {
        let target = parse_url(&config.url)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let setting = || format!("headers.{name}");
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ConfigError::new(setting(), format!("not a header name: {e}")))?;
            let mut header_value = HeaderValue::from_str(value)
                .map_err(|e| ConfigError::new(setting(), format!("not a header value: {e}")))?;
            // Keep credentials out of debug output of the request.
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        let tls = if target.https {
            Some(TlsConnector::from(config.tls.client_config()?))
        } else {
            None
        };
        if config.max_attempts == 0 {
            return Err(ConfigError::new("max_attempts", "must be at least 1"));
        }
        Ok(Self {
            backoff: Backoff::new(config.backoff_initial, config.backoff_cap),
            config,
            encoder,
            target,
            headers,
            tls,
            connection: None,
            body: Vec::new(),
            stats: HttpStats::default(),
        })
    }

    /// What this transport has done so far.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    async fn publish_batch(&mut self, batch: &[Reading]) -> Delivery {
        if batch.is_empty() {
            return Delivery::all(0);
        }
        self.body.clear();
        if let Err(error) = self.encoder.encode(batch, &mut self.body) {
            return Delivery::failed(
                batch.len(),
                TransportError::new(ErrorKind::Encode, self.describe(), error.to_string()),
            );
        }
        // One copy into shared bytes, so a retry re-sends without re-encoding.
        let body = Bytes::copy_from_slice(&self.body);
        let started = Instant::now();
        self.backoff.reset();
        let mut attempt = 1;
        loop {
            let error = match self.attempt(body.clone()).await {
                Attempt::Delivered => return Delivery::all(batch.len()),
                Attempt::Failed {
                    error,
                    retry: false,
                } => return Delivery::failed(batch.len(), error),
                Attempt::Failed { error, retry: true } => error,
            };
            let wait = self.backoff.next_delay();
            if attempt >= self.config.max_attempts
                || started.elapsed() + wait > self.config.max_retry_time
            {
                let error = TransportError {
                    message: format!("{} (gave up after {attempt} attempts)", error.message),
                    ..error
                };
                return Delivery::failed(batch.len(), error);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
            self.stats.retries += 1;
        }
    }

    /// One POST, on the kept-alive connection if there is one. A kept-alive connection that
    /// turns out to be closed is replaced once within the same attempt.
    async fn attempt(&mut self, body: Bytes) -> Attempt {
        let timeout = self.config.request_timeout;
        let describe = self.target.describe.clone();
        let outcome = tokio::time::timeout(timeout, async {
            let reused = self.connection.is_some();
            match self.exchange(body.clone()).await {
                Err(ExchangeError::ConnectionLost(_)) if reused => {
                    // The server closed the idle connection (its keep-alive timeout): an
                    // ordinary event, not a failure of this attempt.
                    self.connection = None;
                    self.exchange(body).await
                }
                other => other,
            }
        })
        .await;
        let result = match outcome {
            Ok(result) => result,
            Err(_elapsed) => {
                // The connection is in an unknown state (a half-sent request): start afresh.
                self.connection = None;
                return Attempt::Failed {
                    error: TransportError::new(
                        ErrorKind::Timeout,
                        describe,
                        format!("no answer within {timeout:?}"),
                    ),
                    retry: true,
                };
            }
        };
        match result {
            Ok(()) => Attempt::Delivered,
            Err(ExchangeError::Status { status, excerpt }) => {
                let transient = status.is_server_error()
                    || status == StatusCode::REQUEST_TIMEOUT
                    || status == StatusCode::TOO_MANY_REQUESTS;
                let kind = if transient {
                    ErrorKind::PeerFailure
                } else {
                    ErrorKind::Rejected
                };
                let mut message = format!("the server answered {status}");
                if !excerpt.is_empty() {
                    message.push_str(": ");
                    message.push_str(&excerpt);
                }
                Attempt::Failed {
                    error: TransportError::new(kind, describe, message),
                    retry: transient,
                }
            }
            Err(ExchangeError::Connect(message)) => Attempt::Failed {
                error: TransportError::new(ErrorKind::Connect, describe, message),
                retry: false,
            },
            Err(ExchangeError::Tls(message)) => Attempt::Failed {
                error: TransportError::new(ErrorKind::Tls, describe, message),
                retry: false,
            },
            Err(ExchangeError::ConnectionLost(message)) => {
                self.connection = None;
                Attempt::Failed {
                    error: TransportError::new(ErrorKind::PeerFailure, describe, message),
                    retry: true,
                }
            }
        }
    }

    /// Sends the request and reads the answer.
    async fn exchange(&mut self, body: Bytes) -> Result<(), ExchangeError> {
        let sender = match self.connection.as_mut() {
            Some(sender) if !sender.is_closed() => sender,
            _ => {
                let sender = self.connect().await?;
                self.connection.insert(sender)
            }
        };
        sender
            .ready()
            .await
            .map_err(|e| ExchangeError::ConnectionLost(format!("the connection closed: {e}")))?;
        let mut request = Request::post(self.target.path_and_query.clone())
            .header(HOST, self.target.authority.clone())
            .header(CONTENT_TYPE, self.encoder.content_type())
            .body(Full::new(body))
            .map_err(|e| ExchangeError::ConnectionLost(format!("cannot build the request: {e}")))?;
        request.headers_mut().extend(self.headers.clone());
        self.stats.requests += 1;
        let response = sender.send_request(request).await.map_err(|e| {
            ExchangeError::ConnectionLost(format!("the connection broke during the request: {e}"))
        })?;
        let status = response.status();
        let (body, complete) = read_body(response.into_body()).await;
        if !complete {
            // An unread rest would be taken for the next answer: do not reuse the connection.
            self.connection = None;
        }
        if status.is_success() {
            Ok(())
        } else {
            let excerpt = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)])
                .trim()
                .to_string();
            Err(ExchangeError::Status { status, excerpt })
        }
    }

    /// Opens a TCP connection, the TLS session for `https`, and the HTTP/1.1 connection.
    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, ExchangeError> {
        let target = &self.target;
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| ExchangeError::Connect(format!("cannot connect: {e}")))?;
        // Small requests and answers: do not wait to fill a segment.
        tcp.set_nodelay(true).ok();
        self.stats.connections += 1;
        match &self.tls {
            None => handshake(tcp).await,
            Some(tls) => {
                let name = ServerName::try_from(target.host.clone()).map_err(|e| {
                    ExchangeError::Tls(format!(
                        "`{}` is not a valid TLS server name: {e}",
                        target.host
                    ))
                })?;
                let stream =
                    tls.connect(name, tcp).await.map_err(|e| {
                        match explain_handshake_error(&e) {
                            Some(explained) => ExchangeError::Tls(explained),
                            None => ExchangeError::Tls(format!("TLS handshake failed: {e}")),
                        }
                    })?;
                handshake(stream).await
            }
        }
    }
}

/// Starts HTTP/1.1 on `stream`; the connection runs in its own task until the sender is
/// dropped or the server closes it.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, ExchangeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ExchangeError::Connect(format!("HTTP/1.1 handshake failed: {e}")))?;
    tokio::spawn(async move {
        // Its errors surface on the sender's next request, where they are handled.
        connection.await.ok();
    });
    Ok(sender)
}

/// Reads an answer's body up to [`MAX_BODY`]; returns it and whether it was read to its end.
async fn read_body(mut body: hyper::body::Incoming) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return (bytes, false);
        };
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > MAX_BODY {
                return (bytes, false);
            }
            bytes.extend_from_slice(data);
        }
    }
    (bytes, true)
}

/// Why one exchange failed, before it is classified into a [`TransportError`].
enum ExchangeError {
    Connect(String),
    Tls(String),
    ConnectionLost(String),
    Status { status: StatusCode, excerpt: String },
}

impl Transport for HttpTransport {
    fn describe(&self) -> String {
        self.target.describe.clone()
    }

    fn publish<'a>(&'a mut self, batch: &'a [Reading]) -> PublishFuture<'a> {
        Box::pin(self.publish_batch(batch))
    }
}

fn parse_url(url: &str) -> Result<Target, ConfigError> {
    let error = |problem: &str| ConfigError::new("url", format!("`{url}`: {problem}"));
    let uri: Uri = url.parse().map_err(|e| error(&format!("not a URL: {e}")))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(error("the scheme must be http or https")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| error("the URL has no host"))?;
    if authority.as_str().contains('@') {
        return Err(error(
            "credentials in the URL are not supported; put them in an Authorization header",
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if host.is_empty() {
        return Err(error("the URL has no host"));
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path_and_query: Uri = uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()
        .map_err(|e| error(&format!("bad path: {e}")))?;
    let authority_header =
        HeaderValue::from_str(authority.as_str()).map_err(|e| error(&format!("bad host: {e}")))?;
    Ok(Target {
        https,
        describe: format!(
            "{}://{}{}",
            if https { "https" } else { "http" },
            authority,
            path_and_query
        ),
        host,
        port,
        authority: authority_header,
        path_and_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::lines::test_encoder::CsvEncoder;

    fn new(config: HttpConfig) -> Result<HttpTransport, ConfigError> {
        HttpTransport::new(config, Arc::new(CsvEncoder::default()))
    }

    #[test]
    fn urls_are_checked_when_the_transport_is_built() {
        for (url, problem) in [
            ("ftp://example.org/x", "scheme"),
            ("example.org/x", "not a URL"),
            ("example.org:80", "scheme"),
            ("http://user:secret@example.org/x", "Authorization"),
            ("http:///x", "not a URL"),
        ] {
            let error = new(HttpConfig::new(url))
                .err()
                .unwrap_or_else(|| panic!("{url} was accepted"));
            assert_eq!(error.setting, "url");
            assert!(error.problem.contains(problem), "{url}: {error}");
        }
        let transport = new(HttpConfig::new("http://[::1]:8080/ingest?site=a"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(transport.target.host, "::1");
        assert_eq!(transport.target.port, 8080);
        assert_eq!(transport.target.path_and_query, "/ingest?site=a");
        assert_eq!(transport.describe(), "http://[::1]:8080/ingest?site=a");
        let transport =
            new(HttpConfig::new("http://example.org")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(transport.target.port, 80);
        assert_eq!(transport.target.path_and_query, "/");
    }

    #[test]
    fn https_without_a_ca_file_is_a_configuration_error() {
        let error = new(HttpConfig::new("https://example.org/"))
            .err()
            .unwrap_or_else(|| panic!("https without a CA was accepted"));
        assert!(error.to_string().contains("CA file"), "{error}");
    }

    #[test]
    fn bad_headers_name_the_header() {
        let config = HttpConfig {
            headers: vec![("Bad Name".into(), "x".into())],
            ..HttpConfig::new("http://example.org/")
        };
        let error = new(config).err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!(error.setting, "headers.Bad Name");
    }
}
