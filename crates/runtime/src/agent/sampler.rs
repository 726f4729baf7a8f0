//! One sampling task per sensor: open it, initialise it, read it on its schedule, hand the
//! samples to its pipelines, and recover from failures with back-off while the other sensors
//! keep running.
//!
//! Driver calls block (bus transfers, the chip's conversion time), so each one runs on
//! tokio's blocking pool with the sensor moved into it and back; the task itself only sleeps
//! until the next slot. Between readings the chip is put into its lowest-power state when
//! the interval leaves time for it; a chip with a FIFO (an IMU at 1 kHz) is drained in bursts
//! instead of being woken per sample.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use edgewise_boards::{
    Board, Channel, DynSensor, ErrorKind, Reading as Frame, SensorFault, SensorSpec,
};
use edgewise_link::backoff::Backoff;
use tokio::sync::watch;

use super::pipeline::SampleBatch;
use super::queue::DropOldestQueue;
use super::schedule::Schedule;
use super::status::{PipelineStatus, SensorStatus};

/// Where a sensor's samples go: each pipeline that lists it.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The pipeline's input.
    pub queue: Arc<DropOldestQueue<Arc<SampleBatch>>>,
    /// Its status, where drops are counted.
    pub status: Arc<PipelineStatus>,
}

/// Everything one sampling task needs.
#[derive(Debug)]
pub struct Sampler {
    /// The sensor's index in the config.
    pub index: usize,
    /// What to open.
    pub spec: SensorSpec,
    /// Its state for `/health` and `/metrics`.
    pub status: Arc<SensorStatus>,
    /// Its pipelines.
    pub consumers: Vec<Consumer>,
    /// Take one reading and stop (`--once`).
    pub once: bool,
    /// Waits between recovery attempts.
    pub backoff: Backoff,
    /// Adaptive sampling: the interval an action sets; a change re-opens the sensor with it
    /// (a FIFO chip's rate is configured at init) and restarts its schedule.
    pub interval: Option<watch::Receiver<Duration>>,
}

/// The longest a chip stays powered down between readings: shorter intervals keep it awake
/// (waking costs a reset of its filters and more than it saves).
const POWER_DOWN_MIN_INTERVAL: Duration = Duration::from_millis(100);
/// Failed reads in a row after which the chip is initialised again.
const REINIT_AFTER_FAILURES: u32 = 3;
/// `--once`: attempts before a sensor is given up.
const ONCE_ATTEMPTS: u32 = 3;
/// How many samples one FIFO drain moves at most.
const DRAIN_CHUNK: usize = 256;

/// Why a sensor stopped being read in the current session.
enum Stop {
    /// The agent is stopping (or `--once` is done).
    Done,
    /// Needs a fresh open and init after a back-off.
    Recover,
    /// Its interval changed: open and init it again at once.
    Reconfigure,
}

/// What ended a wait for the next slot.
enum Wait {
    Slot,
    Stop,
    Reconfigure,
}

impl Sampler {
    /// Runs until `stop` turns true (or, with `once`, after one reading or giving up).
    pub async fn run(mut self, board: Arc<dyn Board>, mut stop: watch::Receiver<bool>) {
        let mut attempts = 0u32;
        loop {
            if *stop.borrow() {
                return;
            }
            if let Some(interval) = self.interval.as_mut() {
                self.spec.interval = *interval.borrow_and_update();
            }
            attempts += 1;
            match self.session(&board, &mut stop).await {
                Stop::Done => return,
                Stop::Reconfigure => {
                    attempts = 0;
                    tracing::info!(sensor = %self.spec.name, "sampling interval changed; re-initialising");
                }
                Stop::Recover if self.once && attempts >= ONCE_ATTEMPTS => {
                    tracing::error!(sensor = %self.spec.name, "gave up after {attempts} attempts");
                    return;
                }
                Stop::Recover => {
                    let delay = self.backoff.next_delay();
                    tracing::info!(
                        sensor = %self.spec.name,
                        "retrying in {:.1} s",
                        delay.as_secs_f64()
                    );
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = stop.wait_for(|&s| s) => return,
                    }
                }
            }
        }
    }

    /// Opens and initialises the sensor, then samples it until it fails or the agent stops.
    async fn session(&mut self, board: &Arc<dyn Board>, stop: &mut watch::Receiver<bool>) -> Stop {
        self.status.init_attempts.inc();
        let opened = {
            let board = Arc::clone(board);
            let spec = self.spec.clone();
            tokio::task::spawn_blocking(move || board.open_sensor(&spec)).await
        };
        let sensor = match opened {
            Ok(Ok(sensor)) => sensor,
            Ok(Err(error)) => {
                self.fail(error.to_string());
                return Stop::Recover;
            }
            Err(join) => {
                self.fail(format!("opening panicked: {join}"));
                return Stop::Recover;
            }
        };
        let (sensor, result) = blocking(sensor, |s| s.init()).await;
        let Some(mut sensor) = sensor else {
            self.fail("the driver panicked during init".into());
            return Stop::Recover;
        };
        if let Err(fault) = result {
            self.fail(format!("init: {fault}"));
            return Stop::Recover;
        }
        tracing::info!(sensor = %self.spec.name, driver = %self.spec.driver, bus = %self.spec.bus, "initialised");
        let buffered = !self.once
            && sensor
                .as_buffered()
                .is_some_and(|b| b.max_drain_interval() > self.spec.interval * 4);
        if buffered {
            self.drain_loop(sensor, stop).await
        } else {
            self.read_loop(sensor, stop).await
        }
    }

    async fn read_loop(
        &mut self,
        sensor: Box<dyn DynSensor>,
        stop: &mut watch::Receiver<bool>,
    ) -> Stop {
        let Some(map) = self.channel_map(sensor.channels()) else {
            return Stop::Recover;
        };
        let power_down = self.spec.interval >= POWER_DOWN_MIN_INTERVAL;
        let mut schedule = Schedule::new(Instant::now(), self.spec.interval);
        let mut sensor = Some(sensor);
        let mut failures = 0u32;
        loop {
            match self.next_slot(&mut schedule, stop).await {
                Wait::Slot => {}
                Wait::Stop => return Stop::Done,
                Wait::Reconfigure => return Stop::Reconfigure,
            }
            let Some(current) = sensor.take() else {
                return Stop::Recover;
            };
            let (back, result) = blocking(current, move |s| {
                let reading = s.read();
                if power_down && reading.is_ok() {
                    // A failed power-down costs only power; the next read wakes the chip.
                    let _ = s.power_down();
                }
                reading
            })
            .await;
            sensor = back;
            let time = SystemTime::now();
            match result {
                Ok(frame) => {
                    failures = 0;
                    self.status.record_reading(time, 1);
                    self.deliver(&map, vec![(time, frame)]);
                    if self.once {
                        return Stop::Done;
                    }
                }
                Err(fault) => match fault.kind {
                    // Polled faster than the chip measures: not a fault.
                    ErrorKind::NoNewData => {}
                    // This reading is bad; the next one is independent.
                    ErrorKind::Corrupt | ErrorKind::OutOfRange | ErrorKind::DataLost => {
                        self.status.record_error(fault.to_string(), false);
                        tracing::warn!(sensor = %self.spec.name, "reading discarded: {fault}");
                    }
                    _ => {
                        failures += 1;
                        self.fail(fault.to_string());
                        if failures >= REINIT_AFTER_FAILURES
                            || fault.kind == ErrorKind::NotInitialized
                            || self.once
                        {
                            return Stop::Recover;
                        }
                    }
                },
            }
        }
    }

    async fn drain_loop(
        &mut self,
        mut sensor: Box<dyn DynSensor>,
        stop: &mut watch::Receiver<bool>,
    ) -> Stop {
        let Some(buffered) = sensor.as_buffered() else {
            return Stop::Recover;
        };
        let Some(map) = self.channel_map(buffered.buffered_channels()) else {
            return Stop::Recover;
        };
        // Drain at half the time the FIFO takes to fill, but not more often than 20 times a
        // second: fewer wake-ups, fewer bus bursts.
        let period = (buffered.max_drain_interval() / 2)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let sample_period = self.spec.interval;
        let clock = Instant::now();
        let (back, started) = blocking(sensor, move |s| match s.as_buffered() {
            Some(b) => b.start_buffering(clock.elapsed()),
            None => Err(SensorFault {
                kind: ErrorKind::Config,
                message: "not a buffering sensor".into(),
            }),
        })
        .await;
        let Some(back) = back else {
            self.fail("the driver panicked while starting its FIFO".into());
            return Stop::Recover;
        };
        if let Err(fault) = started {
            self.fail(format!("starting the FIFO: {fault}"));
            return Stop::Recover;
        }
        let mut sensor = Some(back);
        let mut schedule = Schedule::new(Instant::now() + period, period);
        let mut failures = 0u32;
        loop {
            match self.next_slot(&mut schedule, stop).await {
                Wait::Slot => {}
                Wait::Stop => return Stop::Done,
                Wait::Reconfigure => return Stop::Reconfigure,
            }
            let Some(current) = sensor.take() else {
                return Stop::Recover;
            };
            let (back, result) = blocking(current, move |s| drain_all(s, clock.elapsed())).await;
            sensor = back;
            let now = SystemTime::now();
            match result {
                Ok(frames) => {
                    failures = 0;
                    if frames.is_empty() {
                        continue;
                    }
                    // Samples are evenly spaced and the newest was taken just now.
                    let n = frames.len();
                    let timed: Vec<(SystemTime, Frame)> = frames
                        .into_iter()
                        .enumerate()
                        .map(|(i, frame)| {
                            let age = sample_period * u32::try_from(n - 1 - i).unwrap_or(0);
                            (now.checked_sub(age).unwrap_or(now), frame)
                        })
                        .collect();
                    self.status.record_reading(now, n as u64);
                    self.deliver(&map, timed);
                }
                Err(fault) if fault.kind == ErrorKind::DataLost => {
                    // The driver says how many; buffering has restarted.
                    self.status.lost.inc();
                    self.status.record_error(fault.to_string(), false);
                    tracing::warn!(sensor = %self.spec.name, "{fault}");
                }
                Err(fault) => {
                    failures += 1;
                    self.fail(fault.to_string());
                    if failures >= REINIT_AFTER_FAILURES || fault.kind == ErrorKind::NotInitialized
                    {
                        return Stop::Recover;
                    }
                }
            }
        }
    }

    /// Waits for the schedule's next slot and counts it (a wake-up, late, skipped slots),
    /// unless the agent stops or the interval changes first.
    async fn next_slot(
        &mut self,
        schedule: &mut Schedule,
        stop: &mut watch::Receiver<bool>,
    ) -> Wait {
        let interval_changed = async {
            let changed = match self.interval.as_mut() {
                Some(interval) => interval.changed().await.is_ok(),
                None => false,
            };
            // A closed channel (the outputs thread ended) changes nothing any more.
            if !changed {
                std::future::pending::<()>().await;
            }
        };
        let slot = tokio::select! {
            slot = schedule.tick() => slot,
            _ = stop.wait_for(|&s| s) => return Wait::Stop,
            () = interval_changed => return Wait::Reconfigure,
        };
        self.status.wakeups.inc();
        self.status.late.add(u64::from(slot.late));
        self.status.skipped.add(slot.skipped);
        Wait::Slot
    }

    /// For each configured channel, its position in the driver's frames.
    fn channel_map(&mut self, driver_channels: &[Channel]) -> Option<ChannelMap> {
        let mut positions = Vec::new();
        let mut channels = Vec::new();
        for wanted in &self.spec.channels {
            match driver_channels.iter().position(|c| c.name == wanted) {
                Some(i) => {
                    positions.push(i);
                    channels.push(driver_channels[i]);
                }
                None => {
                    let have: Vec<&str> = driver_channels.iter().map(|c| c.name).collect();
                    self.fail(format!(
                        "the driver reports no channel `{wanted}` (it has {})",
                        have.join(", ")
                    ));
                    return None;
                }
            }
        }
        Some(ChannelMap {
            sensor: Arc::from(self.spec.name.as_str()),
            positions,
            channels: channels.into(),
        })
    }

    /// Hands samples to every pipeline of this sensor.
    fn deliver(&self, map: &ChannelMap, frames: Vec<(SystemTime, Frame)>) {
        let frames = frames
            .into_iter()
            .map(|(time, frame)| {
                let values = frame.values();
                let mut selected = Frame::new();
                for &i in &map.positions {
                    selected.push(values.get(i).copied().unwrap_or(f32::NAN));
                }
                (time, selected)
            })
            .collect();
        let batch = Arc::new(SampleBatch {
            sensor: self.index,
            sensor_name: Arc::clone(&map.sensor),
            channels: Arc::clone(&map.channels),
            frames,
        });
        for consumer in &self.consumers {
            if consumer.queue.push(Arc::clone(&batch)) {
                consumer.status.dropped.inc();
                tracing::warn!(
                    pipeline = %consumer.status.name,
                    "falling behind: dropped its oldest batch of samples"
                );
            }
        }
    }

    fn fail(&self, message: String) {
        tracing::warn!(sensor = %self.spec.name, "{message}");
        self.status.record_error(message, true);
    }
}

/// How a driver's frames map to the configured channels, worked out once per session.
struct ChannelMap {
    /// The sensor's name, shared by every batch.
    sensor: Arc<str>,
    positions: Vec<usize>,
    channels: Arc<[Channel]>,
}

/// Drains the FIFO until it is empty.
fn drain_all(sensor: &mut Box<dyn DynSensor>, now: Duration) -> Result<Vec<Frame>, SensorFault> {
    let Some(buffered) = sensor.as_buffered() else {
        return Ok(Vec::new());
    };
    let mut frames = Vec::new();
    let mut chunk = [Frame::new(); DRAIN_CHUNK];
    loop {
        let n = buffered.drain(now, &mut chunk)?;
        frames.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            return Ok(frames);
        }
    }
}

/// Runs `f` on the sensor on the blocking pool; the sensor comes back unless `f` panicked.
async fn blocking<T: Send + 'static>(
    mut sensor: Box<dyn DynSensor>,
    f: impl FnOnce(&mut Box<dyn DynSensor>) -> Result<T, SensorFault> + Send + 'static,
) -> (Option<Box<dyn DynSensor>>, Result<T, SensorFault>) {
    let joined = tokio::task::spawn_blocking(move || {
        let result = f(&mut sensor);
        (sensor, result)
    })
    .await;
    match joined {
        Ok((sensor, result)) => (Some(sensor), result),
        Err(join) => (
            None,
            Err(SensorFault {
                kind: ErrorKind::Bus,
                message: format!("the driver panicked: {join}"),
            }),
        ),
    }
}
