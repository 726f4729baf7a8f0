//! From the pipelines to the peers: every reading and event is committed to a sink's durable
//! outbox (one file per sink, so a sink that is down never holds back another), and one
//! delivery loop per sink sends what its outbox holds.
//!
//! The publisher commits whatever the pipelines produced since its last commit in one
//! transaction per sink: one fsync covers many readings when they arrive fast, and a single
//! reading is committed at once when they arrive slowly. A commit that fails (a full disk)
//! keeps the readings in memory, up to a bound, and retries them with back-off; nothing the
//! outbox has accepted is ever lost.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use edgewise_link::backoff::Backoff;
use edgewise_link::outbox::{self, DeliverSettings, DeliveryMonitor, DeliveryStats, Hold, Outbox};
use edgewise_link::transport::coap::CoapTransport;
use edgewise_link::transport::file::FileTransport;
use edgewise_link::transport::http::HttpTransport;
use edgewise_link::transport::mqtt::MqttTransport;
use edgewise_link::transport::stdout::StdoutTransport;
use edgewise_link::transport::Transport;
use edgewise_link::Reading;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::pipeline::Outgoing;
use super::status::{AgentStatus, Counter, SinkStatus};
use super::StartError;
use crate::config::{Config, SinkConfig, TransportConfig};

/// Readings held in memory per sink while its outbox refuses commits (a full disk); beyond
/// this the oldest are dropped and counted.
const MAX_HELD_IN_MEMORY: usize = 100_000;

/// A running sink: its outbox and its delivery loop.
#[derive(Debug)]
pub struct RunningSink {
    /// Its status (shared with `/health`).
    pub status: Arc<SinkStatus>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<DeliveryStats>,
}

impl RunningSink {
    /// Lets the delivery loop drain its outbox and waits for it, at most `limit`. What is
    /// not delivered by then stays in the outbox for the next start.
    pub async fn finish(self, limit: Duration) -> Option<DeliveryStats> {
        let _ = self.stop.send(());
        let abort = self.task.abort_handle();
        match tokio::time::timeout(limit, self.task).await {
            Ok(Ok(stats)) => Some(stats),
            Ok(Err(_)) => None,
            Err(_) => {
                abort.abort();
                None
            }
        }
    }
}

/// The outbox file of `sink`: `outbox.redb` → `outbox-<sink>.redb`, beside it.
pub fn outbox_path(configured: &Path, data_dir: &Path, sink: &str) -> PathBuf {
    let path = data_dir.join(configured);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "outbox".into());
    let extension = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{sink}{extension}"))
}

/// Opens every sink's outbox and starts its transport and delivery loop. Call inside the
/// runtime (transports start background connections).
pub fn start(
    config: &Config,
    data_dir: &Path,
    status: &AgentStatus,
) -> Result<Vec<RunningSink>, StartError> {
    let outbox_config = config
        .outbox
        .outbox_config()
        .map_err(|e| StartError::Outbox(e.to_string()))?;
    let mut running = Vec::new();
    for sink in &config.sinks {
        let path = outbox_path(&config.outbox.path, data_dir, &sink.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| StartError::Outbox(format!("creating {}: {e}", parent.display())))?;
        }
        let outbox = Outbox::open(&path, outbox_config.clone())
            .map_err(|e| StartError::Outbox(e.to_string()))?;
        let transport = transport(config, sink, data_dir)?;
        let monitor = DeliveryMonitor::default();
        let sink_status = Arc::new(SinkStatus {
            name: sink.name.clone(),
            peer: transport.describe(),
            outbox: outbox.clone(),
            delivery: monitor.clone(),
            accepted: Counter::default(),
            accept_errors: Counter::default(),
            dropped: Counter::default(),
        });
        status.add_sink(Arc::clone(&sink_status));
        if let Ok(stats) = outbox.stats() {
            if stats.pending > 0 {
                tracing::info!(
                    sink = %sink.name,
                    "{} readings from an earlier run are waiting in {}",
                    stats.pending,
                    path.display()
                );
            }
        }
        let settings = DeliverSettings {
            batch_size: DeliverSettings::default().batch_size,
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(60)),
            monitor,
            hold: sink.batch.map(|b| Hold {
                readings: b.readings.map(|n| n as usize),
                max_wait: b.interval.map(|i| i.get()),
            }),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(outbox::deliver(outbox, transport, settings, async {
            let _ = stopped.await;
        }));
        running.push(RunningSink {
            status: sink_status,
            stop,
            task,
        });
    }
    Ok(running)
}

fn transport(
    config: &Config,
    sink: &SinkConfig,
    data_dir: &Path,
) -> Result<Box<dyn Transport>, StartError> {
    let fail = |problem: String| StartError::Sink {
        sink: sink.name.clone(),
        problem,
    };
    let encoder = sink
        .encoder(&config.device)
        .map_err(|e| fail(e.to_string()))?;
    let configured = sink
        .transport_config(&config.device)
        .map_err(|e| fail(e.to_string()))?;
    Ok(match configured {
        TransportConfig::Mqtt(mqtt) => {
            Box::new(MqttTransport::start(*mqtt).map_err(|e| fail(e.to_string()))?)
        }
        TransportConfig::Http(http) => {
            Box::new(HttpTransport::new(http, encoder).map_err(|e| fail(e.to_string()))?)
        }
        TransportConfig::Coap(coap) => {
            Box::new(CoapTransport::new(coap, encoder).map_err(|e| fail(e.to_string()))?)
        }
        TransportConfig::File(mut file) => {
            // Like the outbox, a relative file lives in the data directory.
            file.path = data_dir.join(&file.path);
            if let Some(parent) = file.path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| fail(format!("creating {}: {e}", parent.display())))?;
            }
            Box::new(FileTransport::new(file, encoder))
        }
        TransportConfig::Stdout => Box::new(StdoutTransport::new(encoder)),
    })
}

/// Logs `sink` when it starts failing (with the error) and when it delivers again, until
/// `stop` turns true. The delivery loop only counts; this turns its transitions into log
/// lines, woken by the loop itself rather than by a timer.
pub async fn watch(sink: Arc<SinkStatus>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = sink.delivery.health_changed() => {}
            _ = stop.wait_for(|&s| s) => return,
        }
        let stats = sink.delivery.snapshot();
        if stats.consecutive_failures > 0 {
            tracing::warn!(
                sink = %sink.name,
                "cannot deliver to {}: {}; readings stay in the outbox and are retried",
                sink.peer,
                stats.last_error.as_deref().unwrap_or("no acknowledgement")
            );
        } else {
            tracing::info!(sink = %sink.name, "delivering to {} again", sink.peer);
        }
    }
}

/// Commits what the pipelines send into the sinks' outboxes until every pipeline has
/// finished (the channel closes), then makes a last attempt and returns.
pub async fn publish(mut input: mpsc::Receiver<Outgoing>, sinks: Vec<Arc<SinkStatus>>) {
    let mut held: Vec<VecDeque<Reading>> = vec![VecDeque::new(); sinks.len()];
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    let mut open = true;
    while open || held.iter().any(|h| !h.is_empty()) {
        // Wait for something new, unless readings are already waiting for a retry.
        if held.iter().all(VecDeque::is_empty) {
            match input.recv().await {
                Some(outgoing) => hold(&mut held, &sinks, outgoing),
                None => open = false,
            }
        }
        // Take everything else that is ready: one commit for all of it.
        while open {
            match input.try_recv() {
                Ok(outgoing) => hold(&mut held, &sinks, outgoing),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        let mut failed = false;
        for (index, sink) in sinks.iter().enumerate() {
            if held[index].is_empty() {
                continue;
            }
            let batch: Vec<Reading> = held[index].iter().cloned().collect();
            let outbox = sink.outbox.clone();
            let count = batch.len();
            let result = tokio::task::spawn_blocking(move || outbox.accept(&batch)).await;
            match result {
                Ok(Ok(_)) => {
                    held[index].clear();
                    sink.accepted.add(count as u64);
                }
                Ok(Err(error)) => {
                    failed = true;
                    sink.accept_errors.inc();
                    tracing::error!(sink = %sink.name, "{error} ({count} readings kept in memory, retrying)");
                }
                Err(join) => {
                    failed = true;
                    sink.accept_errors.inc();
                    tracing::error!(sink = %sink.name, "outbox commit panicked: {join}");
                }
            }
        }
        if failed {
            if !open {
                // Stopping: the readings that could not be committed are reported, not waited
                // for indefinitely.
                let lost: usize = held.iter().map(VecDeque::len).sum();
                tracing::error!("{lost} readings could not be committed before shutdown");
                for (index, sink) in sinks.iter().enumerate() {
                    sink.dropped.add(held[index].len() as u64);
                }
                return;
            }
            // New readings keep arriving meanwhile; they queue in the channel and join the
            // next attempt.
            tokio::time::sleep(backoff.next_delay()).await;
        } else {
            backoff.reset();
        }
    }
}

fn hold(held: &mut [VecDeque<Reading>], sinks: &[Arc<SinkStatus>], outgoing: Outgoing) {
    let Outgoing {
        sinks: targets,
        readings,
    } = outgoing;
    for (position, &sink) in targets.iter().enumerate() {
        let Some(queue) = held.get_mut(sink) else {
            continue;
        };
        if position + 1 == targets.len() {
            queue.extend(readings);
            break;
        }
        queue.extend(readings.iter().cloned());
    }
    for (queue, sink) in held.iter_mut().zip(sinks) {
        let excess = queue.len().saturating_sub(MAX_HELD_IN_MEMORY);
        if excess > 0 {
            queue.drain(..excess);
            sink.dropped.add(excess as u64);
        }
    }
}
