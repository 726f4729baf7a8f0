//! The HTTP transport against a real HTTP/1.1 server on 127.0.0.1 that shares no code with it:
//! Python's standard-library `http.server` (`peers/http_peer.py`), which fails the first
//! requests on purpose and records what it received. HTTPS uses throwaway certificates made
//! with the `openssl` command.

use std::sync::Arc;
use std::time::Duration;

use edgewise_link::tls::TlsFiles;
use edgewise_link::transport::http::{HttpConfig, HttpTransport};
use edgewise_link::transport::{ErrorKind, Transport};
use edgewise_tests::peers::free_tcp_port;
use edgewise_tests::peers::http::{throwaway_certificates, HttpPeer, HttpPeerOptions};
use edgewise_tests::peers::scratch_dir;
use edgewise_tests::peers::text_encoder::{encoded, temperatures, TextEncoder};

/// Quick retries, so the tests do not wait for production back-off.
fn config(url: String) -> HttpConfig {
    HttpConfig {
        max_attempts: 4,
        backoff_initial: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(50),
        request_timeout: Duration::from_secs(10),
        ..HttpConfig::new(url)
    }
}

fn transport(config: HttpConfig) -> HttpTransport {
    HttpTransport::new(config, Arc::new(TextEncoder)).unwrap_or_else(|e| panic!("config: {e}"))
}

#[tokio::test]
async fn a_batch_is_delivered_after_server_errors_with_the_encoders_bytes() {
    let dir = scratch_dir("http-retry");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            fail_first: 2,
            fail_status: 500,
            ..HttpPeerOptions::default()
        },
    );
    let mut http = transport(HttpConfig {
        headers: vec![("Authorization".into(), "Bearer t0k3n".into())],
        ..config(format!("http://127.0.0.1:{}/ingest?site=test", peer.port))
    });
    let batch = temperatures("bme280", 7, 3);
    let delivery = http.publish(&batch).await;
    assert!(delivery.is_complete(), "{delivery:?}");

    let requests = peer.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [500, 500, 200],
        "two failures, then the retry that succeeded"
    );
    for request in &requests {
        assert_eq!(
            request.body,
            encoded(&batch),
            "the body is the encoder's output"
        );
        assert_eq!(request.content_type, "text/plain; charset=utf-8");
        assert_eq!(request.path, "/ingest?site=test");
        assert_eq!(request.authorization, "Bearer t0k3n");
    }
    assert_eq!(http.stats().retries, 2);
}

#[tokio::test]
async fn batches_share_one_kept_alive_connection() {
    let dir = scratch_dir("http-keepalive");
    let peer = HttpPeer::start(dir.path(), HttpPeerOptions::default());
    let mut http = transport(config(format!("http://127.0.0.1:{}/", peer.port)));
    let batches: Vec<_> = (0..3).map(|i| temperatures("sht31", i * 2, 2)).collect();
    for batch in &batches {
        assert!(http.publish(batch).await.is_complete());
    }
    let requests = peer.requests();
    assert_eq!(requests.len(), 3);
    for (request, batch) in requests.iter().zip(&batches) {
        assert_eq!(request.body, encoded(batch));
        // The server saw every request come from the same client port: one connection.
        assert_eq!(request.client_port, requests[0].client_port);
    }
    assert_eq!(http.stats().connections, 1);
}

#[tokio::test]
async fn a_client_error_is_rejected_without_retrying() {
    let dir = scratch_dir("http-4xx");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            fail_first: 100,
            fail_status: 400,
            ..HttpPeerOptions::default()
        },
    );
    let mut http = transport(config(format!("http://127.0.0.1:{}/", peer.port)));
    let delivery = http.publish(&temperatures("bme280", 0, 2)).await;
    assert_eq!(delivery.acked_count(), 0);
    let error = delivery.error.unwrap_or_else(|| panic!("no error"));
    assert_eq!(error.kind, ErrorKind::Rejected);
    let message = error.to_string();
    // The status and the start of the server's explanation.
    assert!(message.contains("400"), "{message}");
    assert!(message.contains("peer says no"), "{message}");
    assert_eq!(peer.requests().len(), 1, "a 4xx must not be retried");
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_max_attempts() {
    let dir = scratch_dir("http-5xx");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            fail_first: 100,
            fail_status: 503,
            ..HttpPeerOptions::default()
        },
    );
    let mut http = transport(config(format!("http://127.0.0.1:{}/", peer.port)));
    let delivery = http.publish(&temperatures("bme280", 0, 1)).await;
    let error = delivery.error.unwrap_or_else(|| panic!("no error"));
    assert_eq!(error.kind, ErrorKind::PeerFailure);
    assert!(error.to_string().contains("503"), "{error}");
    assert!(error.to_string().contains("4 attempts"), "{error}");
    assert_eq!(peer.requests().len(), 4);
}

#[tokio::test]
async fn a_port_without_a_server_is_a_connect_error() {
    let port = free_tcp_port();
    let mut http = transport(config(format!("http://127.0.0.1:{port}/")));
    let delivery = http.publish(&temperatures("bme280", 0, 1)).await;
    let error = delivery.error.unwrap_or_else(|| panic!("no error"));
    assert_eq!(error.kind, ErrorKind::Connect, "{error}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
    assert!(error.to_string().contains("refused"), "{error}");
}

#[tokio::test]
async fn https_with_a_throwaway_ca_delivers_and_a_wrong_ca_is_a_tls_error() {
    let dir = scratch_dir("https");
    let (ca, cert, key) = throwaway_certificates(dir.path(), "right");
    let (other_ca, _, _) = throwaway_certificates(dir.path(), "wrong");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            tls: Some((cert, key)),
            ..HttpPeerOptions::default()
        },
    );

    let batch = temperatures("bme280", 0, 4);
    for host in ["localhost", "127.0.0.1"] {
        let mut https = transport(HttpConfig {
            tls: TlsFiles {
                ca_file: Some(ca.clone()),
                ..TlsFiles::default()
            },
            ..config(format!("https://{host}:{}/secure", peer.port))
        });
        let delivery = https.publish(&batch).await;
        assert!(delivery.is_complete(), "{host}: {delivery:?}");
    }
    let requests = peer.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body == encoded(&batch)));

    let mut wrong = transport(HttpConfig {
        tls: TlsFiles {
            ca_file: Some(other_ca),
            ..TlsFiles::default()
        },
        ..config(format!("https://localhost:{}/secure", peer.port))
    });
    let delivery = wrong.publish(&batch).await;
    let error = delivery
        .error
        .unwrap_or_else(|| panic!("a wrong CA was accepted"));
    assert_eq!(error.kind, ErrorKind::Tls, "{error}");
    assert!(
        error
            .to_string()
            .contains("not signed by the configured CA"),
        "{error}"
    );
    assert_eq!(peer.requests().len(), 2, "nothing reached the server");
}

#[tokio::test]
async fn a_stalled_answer_times_out_and_the_retry_delivers() {
    let dir = scratch_dir("http-timeout");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            delay_first: 1,
            delay: Duration::from_secs(2),
            ..HttpPeerOptions::default()
        },
    );
    let mut http = transport(HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..config(format!("http://127.0.0.1:{}/", peer.port))
    });
    let batch = temperatures("bme280", 0, 2);
    let delivery = http.publish(&batch).await;
    assert!(delivery.is_complete(), "{delivery:?}");
    assert_eq!(http.stats().retries, 1);
    // The stalled request was received too: at-least-once means the server may see a batch
    // twice, and the sequence numbers let it drop the duplicate.
    let requests = peer.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body == encoded(&batch)));

    // Without retries, the timeout is the error.
    let stalled = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            delay_first: 1,
            delay: Duration::from_secs(2),
            ..HttpPeerOptions::default()
        },
    );
    let mut once = transport(HttpConfig {
        request_timeout: Duration::from_millis(300),
        max_attempts: 1,
        ..config(format!("http://127.0.0.1:{}/", stalled.port))
    });
    let error = once
        .publish(&batch)
        .await
        .error
        .unwrap_or_else(|| panic!("no error"));
    assert_eq!(error.kind, ErrorKind::Timeout, "{error}");
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_without_a_failure() {
    let dir = scratch_dir("http-idle");
    let peer = HttpPeer::start(
        dir.path(),
        HttpPeerOptions {
            idle_timeout: Some(Duration::from_millis(200)),
            ..HttpPeerOptions::default()
        },
    );
    let mut http = transport(config(format!("http://127.0.0.1:{}/", peer.port)));
    for i in 0..3 {
        let batch = temperatures("bme280", i, 1);
        let delivery = http.publish(&batch).await;
        assert!(delivery.is_complete(), "batch {i}: {delivery:?}");
        // Longer than the server's idle timeout: it closes the connection in between.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(http.stats().retries, 0, "{:?}", http.stats());
    assert_eq!(http.stats().connections, 3);
    let requests = peer.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.status == 200));
}
