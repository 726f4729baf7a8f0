//! What delivering a batch costs on each transport, against the same real peers as the tests:
//! a file on the target directory's disk (fsync per batch), Python's `http.server`, libcoap's
//! `coap-server-notls`, and a sink for stdout. Prints readings per second and ratios measured in
//! this one run; asserts nothing.
//!
//! `cargo bench -p edgewise-tests --bench link_transports`

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgewise_link::transport::coap::{CoapConfig, CoapMethod, CoapTransport};
use edgewise_link::transport::file::{FileConfig, FileTransport};
use edgewise_link::transport::http::{HttpConfig, HttpTransport};
use edgewise_link::transport::stdout::StdoutTransport;
use edgewise_link::transport::Transport;
use edgewise_link::Reading;
use edgewise_tests::bench::full_run;
use edgewise_tests::peers::coap::CoapServer;
use edgewise_tests::peers::http::{HttpPeer, HttpPeerOptions};
use edgewise_tests::peers::text_encoder::{temperatures, TextEncoder};

/// Publishes `rounds` batches of `batch_size` readings; returns readings per second.
async fn readings_per_second(transport: &mut dyn Transport, batch_size: u64, rounds: u64) -> f64 {
    let batch: Vec<Reading> = temperatures("bench", 0, batch_size);
    let start = Instant::now();
    for _ in 0..rounds {
        let delivery = transport.publish(&batch).await;
        assert!(delivery.is_complete(), "{delivery:?}");
    }
    (batch_size * rounds) as f64 / start.elapsed().as_secs_f64()
}

/// Rounds for a full run, or 3 for a smoke run.
fn rounds(full: u64) -> u64 {
    if full_run() {
        full
    } else {
        3
    }
}

fn row(name: &str, per_second: f64, baseline: f64) {
    println!(
        "{name:<52} {per_second:>12.0} {:>8.2}",
        per_second / baseline
    );
}

async fn run() {
    let encoder = Arc::new(TextEncoder);
    println!("\nreadings per second by transport and batch size (ratio to the row marked 1.00)");
    println!(
        "{:<52} {:>12} {:>8}",
        "transport / batch", "readings/s", "ratio"
    );

    // File: one fsync per batch, so batching is what makes it fast.
    let dir = tempfile::Builder::new()
        .prefix("edgewise-bench-file-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let mut file = FileTransport::new(FileConfig::new(dir.path().join("r.txt")), encoder.clone());
    let file_1 = readings_per_second(&mut file, 1, rounds(300)).await;
    row("file, batch of 1 (fsync each)", file_1, file_1);
    for size in [10, 100] {
        let rate = readings_per_second(&mut file, size, rounds(300)).await;
        row(&format!("file, batch of {size}"), rate, file_1);
    }

    // Stdout into a sink: the encoding and line handling alone.
    let mut sink = StdoutTransport::with_writer(encoder.clone(), Box::new(std::io::sink()));
    let sink_100 = readings_per_second(&mut sink, 100, rounds(2000)).await;
    row("stdout to a sink, batch of 100", sink_100, file_1);

    // HTTP: a kept-alive connection against a new connection per batch.
    let http_dir = tempfile::tempdir().unwrap();
    let peer = HttpPeer::start(http_dir.path(), HttpPeerOptions::default());
    let url = format!("http://127.0.0.1:{}/", peer.port);
    let mut http = HttpTransport::new(HttpConfig::new(url.clone()), encoder.clone()).unwrap();
    let keep_alive = readings_per_second(&mut http, 10, rounds(300)).await;
    let batch = temperatures("bench", 0, 10);
    let fresh_rounds = rounds(300);
    let start = Instant::now();
    for _ in 0..fresh_rounds {
        let mut fresh = HttpTransport::new(HttpConfig::new(url.clone()), encoder.clone()).unwrap();
        assert!(fresh.publish(&batch).await.is_complete());
    }
    let fresh = (10 * fresh_rounds) as f64 / start.elapsed().as_secs_f64();
    println!();
    row(
        "HTTP (Python http.server), batch of 10, new conn",
        fresh,
        fresh,
    );
    row(
        "HTTP, batch of 10, one kept-alive connection",
        keep_alive,
        fresh,
    );

    // CoAP: one confirmable exchange per batch.
    let server = CoapServer::start(10, None);
    let mut coap = CoapTransport::new(
        CoapConfig {
            method: CoapMethod::Put,
            ..CoapConfig::new(server.url("bench"))
        },
        encoder.clone(),
    )
    .unwrap();
    let coap_1 = readings_per_second(&mut coap, 1, rounds(1000)).await;
    let coap_10 = readings_per_second(&mut coap, 10, rounds(1000)).await;
    println!();
    row("CoAP (coap-server-notls), batch of 1", coap_1, coap_1);
    row("CoAP, batch of 10", coap_10, coap_1);
    println!(
        "CoAP retransmissions during the run: {} (loopback, none expected)",
        coap.stats().retransmissions
    );
    // The peers stop when dropped; give the sink's blocking writes nothing to finish.
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn main() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}
