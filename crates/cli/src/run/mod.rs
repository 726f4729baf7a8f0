//! `edgewise run [CONFIG]`: the agent.
//!
//! Without a file it runs the built-in config on the sim board. The process owns what is
//! process-wide: the tokio runtime (sized for a 1–4 core board), logging, signals (SIGTERM and
//! SIGINT stop with a flush, SIGHUP reloads the config file and keeps the old config running
//! when the new one is bad), `--for` and `--once`, and the live view on the terminal.

mod live;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use edgewise_runtime::agent::{self, Agent, RunOptions, SinkReport};
use edgewise_runtime::config::{self, units::parse_duration, Config, LoadError};
use tokio::signal::unix::{signal, SignalKind};

use crate::error::CliError;

/// `edgewise run`'s options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The config file (TOML); without it, the built-in config on the sim board.
    pub config: Option<PathBuf>,
    /// Run for this long, then stop cleanly (`30s`, `5m`).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// Take one reading from every sensor, deliver it and exit (for cron or systemd timers).
    #[arg(long, conflicts_with = "run_for")]
    pub once: bool,
    /// Where the outboxes (and file sinks with relative paths) live.
    #[arg(
        long,
        value_name = "DIR",
        env = "EDGEWISE_DATA_DIR",
        default_value = "edgewise-data"
    )]
    pub data_dir: PathBuf,
    /// Do not print readings and events on the terminal (logs still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// The longest a stop waits for the sinks to deliver what is pending.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub flush_timeout: Duration,
}

/// Runs the agent until it is told to stop.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let config = load(args.config.as_deref())?;
    init_logging(config.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(16)
        .thread_name("edgewise")
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("starting the runtime: {e}")))?;
    runtime.block_on(supervise(config, args))
}

/// One async worker, whatever the board: the async side only sleeps until the next sample
/// and moves readings between stages, which one core does with room to spare, and a second
/// worker costs wake-ups (it is woken to steal work; measured: 41 → 34 context switches per
/// second at a 1 Hz config). CPU-bound pipelines run on threads of their own and blocking
/// driver and disk calls on tokio's blocking pool, so they use the other cores of a 2–4 core
/// board without it.
const WORKER_THREADS: usize = 1;

/// The config at `path`, or the built-in one; errors listed one per line.
pub(crate) fn load(path: Option<&Path>) -> Result<Config, CliError> {
    let loaded = match path {
        Some(path) => config::load(path),
        None => config::default_config(),
    };
    loaded.map_err(|error| match error {
        LoadError::Invalid(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            CliError::new(format!(
                "the config has {} error{}:\n{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                lines.join("\n")
            ))
        }
        read @ LoadError::Read { .. } => CliError::new(read.to_string()),
    })
}

fn init_logging(level: config::LogLevel) {
    // EDGEWISE_LOG overrides the config's level for one run (`EDGEWISE_LOG=debug`).
    let level = std::env::var("EDGEWISE_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::level_filters::LevelFilter>().ok())
        .unwrap_or_else(|| {
            level
                .name()
                .parse()
                .unwrap_or(tracing::level_filters::LevelFilter::INFO)
        });
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

async fn supervise(mut config: Config, args: RunArgs) -> Result<(), CliError> {
    let config_dir = args
        .config
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let (live, view) = match args.quiet {
        true => (None, None),
        false => {
            let (sender, receiver) = agent::live::channel(1024);
            (Some(sender), Some(tokio::spawn(live::show(receiver))))
        }
    };
    let options = RunOptions {
        data_dir: args.data_dir.clone(),
        config_dir,
        once: args.once,
        live,
        flush_timeout: args.flush_timeout,
    };
    let mut agent = start(&config, options.clone()).await?;

    let signals = |kind: SignalKind| {
        signal(kind).map_err(|e| CliError::new(format!("installing a signal handler: {e}")))
    };
    let mut terminate = signals(SignalKind::terminate())?;
    let mut interrupt = signals(SignalKind::interrupt())?;
    let mut hangup = signals(SignalKind::hangup())?;
    let deadline = args.run_for.map(|d| tokio::time::Instant::now() + d);
    let until_deadline = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until_deadline);

    let reports = if args.once {
        tokio::select! {
            () = agent.sampling_done() => {}
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        let failing: Vec<String> = agent
            .status()
            .sensors
            .iter()
            .filter(|s| s.is_failing())
            .map(|s| s.name.clone())
            .collect();
        let reports = agent.shutdown().await;
        print_reports(&reports);
        if !failing.is_empty() {
            return Err(CliError::new(format!(
                "no reading from {} (see the log above)",
                failing.join(", ")
            )));
        }
        reports
    } else {
        loop {
            tokio::select! {
                () = &mut until_deadline => {
                    tracing::info!("run time is up; stopping");
                    break;
                }
                _ = terminate.recv() => {
                    tracing::info!("SIGTERM: stopping");
                    break;
                }
                _ = interrupt.recv() => {
                    tracing::info!("SIGINT: stopping");
                    break;
                }
                _ = hangup.recv() => {
                    agent = reload(agent, &mut config, args.config.as_deref(), &options).await?;
                }
            }
        }
        let reports = agent.shutdown().await;
        print_reports(&reports);
        reports
    };
    drop(options);
    if let Some(view) = view {
        // The view ends when the last sender (inside the agent's pipelines) is gone.
        let _ = tokio::time::timeout(Duration::from_secs(1), view).await;
    }
    drop(reports);
    Ok(())
}

async fn start(config: &Config, options: RunOptions) -> Result<Agent, CliError> {
    let board = edgewise_boards::open(&agent::board_choice(config, &options.data_dir))
        .map_err(|e| CliError::new(format!("board `{}`: {e}", config.board.name())))?;
    Agent::start(config, Arc::from(board), options)
        .await
        .map_err(|e| CliError::new(e.to_string()))
}

/// SIGHUP: reads the config file again. A bad file is reported and the running agent keeps
/// going; a good one replaces it (the old one stops with a flush first, so each outbox file
/// has one owner at a time). Should the new config fail to start, the old one is started
/// again.
async fn reload(
    agent: Agent,
    config: &mut Config,
    path: Option<&Path>,
    options: &RunOptions,
) -> Result<Agent, CliError> {
    let Some(path) = path else {
        tracing::warn!("SIGHUP: running the built-in config, there is no file to reload");
        return Ok(agent);
    };
    let new = match load(Some(path)) {
        Ok(new) => new,
        Err(error) => {
            tracing::error!("SIGHUP: {error}; keeping the running config");
            return Ok(agent);
        }
    };
    tracing::info!("SIGHUP: {} is valid; restarting with it", path.display());
    let reports = agent.shutdown().await;
    print_reports(&reports);
    match start(&new, options.clone()).await {
        Ok(agent) => {
            *config = new;
            Ok(agent)
        }
        Err(error) => {
            tracing::error!("SIGHUP: the new config does not start: {error}; back to the old one");
            start(config, options.clone()).await
        }
    }
}

fn print_reports(reports: &[SinkReport]) {
    for report in reports {
        let mut state = String::new();
        if !report.flushed {
            state.push_str(" (flush time up)");
        }
        if let Some(error) = &report.last_error {
            state.push_str("; last error: ");
            state.push_str(error);
        }
        tracing::info!(
            sink = %report.sink,
            "delivered {} readings; {} waiting in the outbox{state}",
            report.delivered,
            report.pending
        );
    }
}
