//! The running agent: sensors → pipelines → outboxes → sinks, with `/health` and a bounded,
//! flushing shutdown.
//!
//! ```text
//!  sampling task per sensor        pipeline thread each             publisher      delivery loop per sink
//!  (tokio, sleeps between   ──▶  (window, features, model, ──▶  (commits to    ──▶  (outbox → transport,
//!   slots; driver calls on       rules; drop-oldest input      each sink's        acks delete)
//!   the blocking pool)           queue)                        outbox)
//! ```
//!
//! Outputs have one owner, the outputs thread ([`actuators`]): it opens every actuator and
//! applies its safe state before the first sensor is sampled, takes rule levels and
//! controller inputs from the pipelines and remote commands from [`ActuatorControl`], and
//! publishes every change as an `actions` event.
//!
//! Stopping runs the same path to its end: the sampling tasks stop, each pipeline finishes
//! the samples it has, the outputs go to their safe state, the publisher commits everything
//! they produced, and each delivery loop drains its outbox until it is empty or the flush
//! time is up. Whatever is not delivered by then is in the outbox and goes out after the
//! next start.

pub mod actuators;
pub mod commands;
pub mod health;
pub mod live;
pub mod pipeline;
pub mod queue;
pub mod rules;
mod sampler;
pub mod schedule;
pub mod sinks;
pub mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use edgewise_boards::{
    Board, BoardChoice, BoardError, BusAddress, SensorSpec, SimFaultKind, SimMachineFault,
    SimOptions,
};
use edgewise_link::backoff::Backoff;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{self, Bus, Config};
use actuators::{ActuatorControl, Request, RunningOutputs};
use pipeline::{Pipeline, SampleBatch};
use queue::DropOldestQueue;
use sampler::{Consumer, Sampler};
use sinks::RunningSink;
use status::AgentStatus;

/// Sample batches a pipeline may have waiting before its oldest is dropped.
const PIPELINE_QUEUE: usize = 256;
/// Outgoing batches between the pipelines and the publisher.
const PUBLISH_QUEUE: usize = 64;

/// How the agent runs, beyond its config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where outboxes and file sinks with relative paths live.
    pub data_dir: PathBuf,
    /// Where model paths in the config are relative to (the config file's directory).
    pub config_dir: PathBuf,
    /// Take one reading from every sensor, deliver, stop.
    pub once: bool,
    /// Where to show readings, windows and events as they happen.
    pub live: Option<live::LiveSender>,
    /// The longest a shutdown waits for the sinks to deliver what is pending.
    pub flush_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("edgewise-data"),
            config_dir: PathBuf::from("."),
            once: false,
            live: None,
            flush_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the agent could not start. Each names the part of the config at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The board could not be opened.
    #[error("board: {0}")]
    Board(#[from] BoardError),
    /// A pipeline could not be built (its model, its features).
    #[error("pipeline `{pipeline}`: {problem}")]
    Pipeline {
        /// The pipeline.
        pipeline: String,
        /// What is wrong.
        problem: String,
    },
    /// A sink could not be set up (a secret, a TLS file, a URL).
    #[error("sink `{sink}`: {problem}")]
    Sink {
        /// The sink.
        sink: String,
        /// What is wrong.
        problem: String,
    },
    /// The outbox could not be opened.
    #[error("outbox: {0}")]
    Outbox(String),
    /// The health endpoint could not listen.
    #[error("{0}")]
    Health(String),
    /// Remote commands could not be set up (the key, the sink).
    #[error("commands: {0}")]
    Commands(String),
    /// An actuator could not be opened.
    #[error("actuator `{actuator}`: {problem}")]
    Actuator {
        /// The actuator.
        actuator: String,
        /// What is wrong.
        problem: String,
    },
}

/// What a shutdown achieved, per sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkReport {
    /// The sink.
    pub sink: String,
    /// Readings delivered during this run.
    pub delivered: u64,
    /// Readings still in its outbox (sent after the next start).
    pub pending: u64,
    /// The delivery loop finished within the flush time.
    pub flushed: bool,
    /// Why it was failing when it stopped, if it was.
    pub last_error: Option<String>,
}

/// The file the sim board records its outputs' changes in, inside the data directory.
pub const SIM_OUTPUTS_LOG: &str = "sim-outputs.jsonl";

/// The board a config asks for; the sim board records its outputs in
/// `<data_dir>/sim-outputs.jsonl`.
pub fn board_choice(config: &Config, data_dir: &std::path::Path) -> BoardChoice {
    match config.board {
        config::Board::Sim => {
            let sim = config.sim.as_ref();
            BoardChoice::Sim(SimOptions {
                seed: sim.and_then(|s| s.seed).unwrap_or(1),
                machine_fault: sim.and_then(|s| s.machine_fault).map(|f| SimMachineFault {
                    kind: match f.kind {
                        config::SimFault::OuterRaceDefect => SimFaultKind::OuterRaceDefect,
                        config::SimFault::ImbalanceGrowth => SimFaultKind::ImbalanceGrowth,
                    },
                    onset: f.onset.get(),
                }),
                outputs_log: Some(data_dir.join(SIM_OUTPUTS_LOG)),
            })
        }
        config::Board::Linux => BoardChoice::Linux,
        config::Board::Rpi => BoardChoice::Rpi,
    }
}

/// A running agent.
#[derive(Debug)]
pub struct Agent {
    status: Arc<AgentStatus>,
    outputs: RunningOutputs,
    commands: Option<commands::RunningCommands>,
    stop: watch::Sender<bool>,
    samplers: Vec<JoinHandle<()>>,
    queues: Vec<Arc<DropOldestQueue<Arc<SampleBatch>>>>,
    pipelines: Vec<std::thread::JoinHandle<()>>,
    publisher: JoinHandle<()>,
    sinks: Vec<RunningSink>,
    health: Option<JoinHandle<()>>,
    watchers: Vec<JoinHandle<()>>,
    flush_timeout: Duration,
}

impl Agent {
    /// Starts everything `config` describes on `board`. Must be called inside a tokio
    /// runtime. On error nothing keeps running.
    pub async fn start(
        config: &Config,
        board: Arc<dyn Board>,
        options: RunOptions,
    ) -> Result<Self, StartError> {
        let status = Arc::new(
            AgentStatus::new(
                &config.device.id,
                config
                    .sensors
                    .iter()
                    .map(|s| (s.name.as_str(), s.driver.as_str())),
                config.pipelines.iter().map(|p| p.name.as_str()),
            )
            .with_actuators(config.actuators.iter().map(|a| a.name.as_str())),
        );
        // Everything that can fail on bad input comes first, before any task starts.
        let mut pipelines = Vec::new();
        for (index, pipeline_status) in status.pipelines.iter().enumerate() {
            let mut pipeline = Pipeline::build(
                config,
                index,
                &options.config_dir,
                Arc::clone(pipeline_status),
                options.live.clone(),
            )?;
            if options.once {
                pipeline.publish_every_reading();
            }
            pipelines.push(pipeline);
        }
        let prepared_commands = commands::prepare(config, &options.config_dir)?;
        // The outputs come first: every actuator is in its safe state before anything else
        // starts, and a missing one stops the start. Their start-up events wait in the
        // publisher's channel until the publisher runs.
        let (to_publisher, from_pipelines) = mpsc::channel(PUBLISH_QUEUE);
        let mut intervals: Vec<Option<watch::Sender<Duration>>> =
            config.sensors.iter().map(|_| None).collect();
        let mut interval_receivers: Vec<Option<watch::Receiver<Duration>>> =
            config.sensors.iter().map(|_| None).collect();
        for action in config.pipelines.iter().flat_map(|p| &p.actions) {
            let Some(sample) = &action.sample else {
                continue;
            };
            if let Some(i) = config.sensors.iter().position(|s| s.name == sample.sensor) {
                if intervals[i].is_none() {
                    let (sender, receiver) = watch::channel(config.sensors[i].interval.get());
                    intervals[i] = Some(sender);
                    interval_receivers[i] = Some(receiver);
                }
            }
        }
        let outputs = actuators::start(
            config,
            Arc::clone(&board),
            status.actuators.clone(),
            intervals,
            to_publisher.clone(),
            options.live.clone(),
        )
        .await?;
        let listener = match &config.health {
            Some(health) => Some(
                health::bind(&health.listen)
                    .await
                    .map_err(StartError::Health)?,
            ),
            None => None,
        };
        let sinks = sinks::start(config, &options.data_dir, &status)?;
        let commands = match prepared_commands {
            Some(prepared) => {
                let (running, commands_status) = prepared.start(&sinks, outputs.control())?;
                status.set_commands(commands_status);
                Some(running)
            }
            None => None,
        };

        let (stop, stopped) = watch::channel(false);
        let health = listener.map(|listener| {
            tokio::spawn(health::serve(
                listener,
                Arc::clone(&status),
                stopped.clone(),
            ))
        });
        let watchers: Vec<JoinHandle<()>> = sinks
            .iter()
            .map(|s| tokio::spawn(sinks::watch(Arc::clone(&s.status), stopped.clone())))
            .collect();
        let publisher = tokio::spawn(sinks::publish(
            from_pipelines,
            sinks.iter().map(|s| Arc::clone(&s.status)).collect(),
        ));

        let mut queues = Vec::new();
        let mut consumers: Vec<Vec<Consumer>> = vec![Vec::new(); config.sensors.len()];
        let mut threads = Vec::new();
        for mut pipeline in pipelines {
            let index = queues.len();
            pipeline.connect_outputs(outputs.requests.clone(), actuators::bindings(config, index));
            let queue = Arc::new(DropOldestQueue::new(PIPELINE_QUEUE));
            for &source in pipeline.sources() {
                consumers[source].push(Consumer {
                    queue: Arc::clone(&queue),
                    status: Arc::clone(&status.pipelines[index]),
                });
            }
            let input = Arc::clone(&queue);
            let output = to_publisher.clone();
            let name = format!("pipeline-{}", status.pipelines[index].name);
            // Tells the outputs thread when this thread ends, however it ends: its
            // actuators then go to their safe state.
            let ended = PipelineEnded {
                index,
                requests: outputs.requests.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let _ended = ended;
                    pipeline.run(&input, &output);
                })
                .map_err(|e| StartError::Pipeline {
                    pipeline: status.pipelines[index].name.clone(),
                    problem: format!("starting its thread: {e}"),
                })?;
            threads.push(thread);
            queues.push(queue);
        }
        // Only the pipelines and the outputs thread hold senders now: the publisher ends
        // when they all have.
        drop(to_publisher);

        let mut samplers = Vec::new();
        for (index, sensor) in config.sensors.iter().enumerate() {
            let sampler = Sampler {
                index,
                spec: sensor_spec(sensor),
                status: Arc::clone(&status.sensors[index]),
                consumers: std::mem::take(&mut consumers[index]),
                once: options.once,
                backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(60)),
                interval: interval_receivers[index].take(),
            };
            samplers.push(tokio::spawn(
                sampler.run(Arc::clone(&board), stopped.clone()),
            ));
        }
        tracing::info!(
            device = %config.device.id,
            board = board.name(),
            sensors = config.sensors.len(),
            pipelines = config.pipelines.len(),
            sinks = config.sinks.len(),
            actuators = config.actuators.len(),
            "running"
        );
        Ok(Self {
            status,
            outputs,
            commands,
            stop,
            samplers,
            queues,
            pipelines: threads,
            publisher,
            sinks,
            health,
            watchers,
            flush_timeout: options.flush_timeout,
        })
    }

    /// The live status (what `/health` and `/metrics` show).
    pub fn status(&self) -> Arc<AgentStatus> {
        Arc::clone(&self.status)
    }

    /// The command side's handle on the actuators (remote commands).
    pub fn actuator_control(&self) -> ActuatorControl {
        self.outputs.control()
    }

    /// Waits until every sampling task has ended by itself: with `once`, after each sensor
    /// gave its reading or up.
    pub async fn sampling_done(&mut self) {
        for task in &mut self.samplers {
            let _ = task.await;
        }
        self.samplers.clear();
    }

    /// Stops sampling, lets the pipelines finish, commits everything to the outboxes and
    /// lets each sink deliver for at most the flush time.
    pub async fn shutdown(self) -> Vec<SinkReport> {
        let Self {
            status,
            outputs,
            commands,
            stop,
            samplers,
            queues,
            pipelines,
            publisher,
            sinks,
            health,
            watchers,
            flush_timeout,
        } = self;
        // Commands first: none may arrive while the outputs go to their safe states.
        if let Some(commands) = commands {
            commands.stop().await;
        }
        let _ = stop.send(true);
        for task in samplers {
            let _ = task.await;
        }
        // Pipelines that end from here on are stopping, not losing control.
        let _ = outputs.requests.send(Request::Stopping);
        for queue in &queues {
            queue.close();
        }
        let _ = tokio::task::spawn_blocking(move || {
            for thread in pipelines {
                let _ = thread.join();
            }
            // The pipelines have finished: the outputs go to their safe state last.
            let _ = outputs.requests.send(Request::Shutdown);
            let _ = outputs.thread.join();
        })
        .await;
        let _ = publisher.await;
        if let Some(health) = health {
            let _ = health.await;
        }
        for watcher in watchers {
            let _ = watcher.await;
        }
        let finishing: Vec<_> = sinks
            .into_iter()
            .map(|sink| {
                let name = sink.status.name.clone();
                let outbox = sink.status.outbox.clone();
                let monitor = sink.status.delivery.clone();
                let task = tokio::spawn(sink.finish(flush_timeout));
                (name, outbox, monitor, task)
            })
            .collect();
        let mut reports = Vec::new();
        for (sink, outbox, monitor, task) in finishing {
            let flushed = matches!(task.await, Ok(Some(_)));
            let pending = outbox.stats().map(|s| s.pending).unwrap_or(0);
            let stats = monitor.snapshot();
            reports.push(SinkReport {
                sink,
                delivered: stats.delivered,
                pending,
                flushed,
                last_error: stats.last_error.filter(|_| stats.consecutive_failures > 0),
            });
        }
        drop(status);
        reports
    }
}

/// Sends [`Request::PipelineStopped`] when dropped: at the end of a pipeline's thread,
/// however it ends.
struct PipelineEnded {
    index: usize,
    requests: std::sync::mpsc::Sender<Request>,
}

impl Drop for PipelineEnded {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::PipelineStopped(self.index));
    }
}

/// What the board needs to open a configured sensor.
fn sensor_spec(sensor: &config::SensorConfig) -> SensorSpec {
    let bus = match sensor.parsed_bus() {
        Ok(Bus::Spi { bus, chip_select }) => BusAddress::Spi { bus, chip_select },
        Ok(Bus::I2c(bus)) => BusAddress::I2c { bus },
        // A checked config has a valid bus.
        Err(_) => BusAddress::I2c { bus: 0 },
    };
    SensorSpec {
        name: sensor.name.clone(),
        driver: sensor.driver.clone(),
        bus,
        address: sensor.effective_address(),
        channels: sensor.effective_channels(),
        interval: sensor.interval.get(),
    }
}
