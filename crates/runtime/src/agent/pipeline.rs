//! A pipeline: its sources' samples → (window → features → detector or model) → rules →
//! what it publishes, on its own OS thread.
//!
//! The work here is CPU-bound (an FFT per channel per window, a model run), so it runs on a
//! thread of its own rather than on the async workers that wake the sampling tasks: a slow
//! inference delays only this pipeline, never a sample. Samples arrive through a
//! [`DropOldestQueue`]; what the pipeline publishes goes to the publisher through a bounded
//! channel, waited on with `blocking_send` (a publisher that cannot keep up slows this thread,
//! which then drops its oldest input: counted, never silent).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use edgewise_boards::{Channel, Reading as Frame};
use edgewise_infer::anomaly::{DetectorConfig, FeatureDetector, ReconstructionScorer, Verdict};
use edgewise_infer::dsp::{
    Band, FeatureConfig, FeatureExtractor, SpectralConfig, TimeFeature as DspTimeFeature, Window,
    WindowFunction as DspWindowFunction, Windower,
};
use edgewise_infer::Model;
use edgewise_link::reading::decimal_f64;
use edgewise_link::Reading;
use tokio::sync::mpsc;

use super::actuators::{Observation, PipelineBindings, Request};
use super::live::{LiveEvent, LiveSender};
use super::queue::DropOldestQueue;
use super::rules::{Rule, RuleEvent};
use super::status::PipelineStatus;
use super::StartError;
use crate::config::{self, Config, PipelineConfig, Publish};

/// The sensor name events are published under.
pub const EVENTS_SENSOR: &str = "events";
/// The field a window's anomaly score is published in.
pub const SCORE_FIELD: &str = "anomaly_score";

/// Samples of one sensor, taken together (one reading, or one FIFO drain).
#[derive(Debug)]
pub struct SampleBatch {
    /// The sensor's index in the config.
    pub sensor: usize,
    /// Its name.
    pub sensor_name: Arc<str>,
    /// The channels of each frame (those the config selected, in its order).
    pub channels: Arc<[Channel]>,
    /// The samples, oldest first, each with the time it was taken.
    pub frames: Vec<(SystemTime, Frame)>,
}

/// Readings for some of the sinks.
#[derive(Debug)]
pub struct Outgoing {
    /// The sinks' indices in the config.
    pub sinks: Arc<[usize]>,
    /// The readings.
    pub readings: Vec<Reading>,
}

/// One pipeline, built from its config, ready to run on its thread.
pub struct Pipeline {
    name: Arc<str>,
    sources: Vec<usize>,
    sinks: Arc<[usize]>,
    publish_readings: bool,
    publish_windows: bool,
    rules: Vec<Rule>,
    windowing: Option<Windowing>,
    status: Arc<PipelineStatus>,
    live: Option<LiveSender>,
    control: Option<Control>,
}

/// Where a pipeline's rule levels and controller inputs go: the outputs thread.
struct Control {
    requests: std::sync::mpsc::Sender<Request>,
    /// (rule index, action index) for each action a rule drives.
    rule_actions: Vec<(usize, usize)>,
    /// (channel, controller index).
    controllers: Vec<(String, usize)>,
    /// The rules evaluated in the current batch: (rule index, time, raised after, edge).
    evaluated: Vec<(usize, SystemTime, bool, bool)>,
}

impl Control {
    /// The observations of one batch: every edge in order, then each bound rule's latest
    /// level (the heartbeat that keeps an actuator's watchdog satisfied).
    fn observations(&mut self, out: &mut Vec<Observation>) {
        for &(rule, at, raised, edge) in &self.evaluated {
            if edge {
                for &(r, action) in &self.rule_actions {
                    if r == rule {
                        out.push(Observation::Rule { action, raised, at });
                    }
                }
            }
        }
        for &(r, action) in &self.rule_actions {
            if let Some(&(_, at, raised, edge)) =
                self.evaluated.iter().rev().find(|(rule, ..)| *rule == r)
            {
                if !edge {
                    out.push(Observation::Rule { action, raised, at });
                }
            }
        }
        self.evaluated.clear();
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("sources", &self.sources)
            .field("windowed", &self.windowing.is_some())
            .finish_non_exhaustive()
    }
}

/// Windows, features and scoring.
struct Windowing {
    windower: Windower,
    extractor: Option<FeatureExtractor>,
    /// Frames waiting for the other sources' samples of the same instant.
    pending: Vec<VecDeque<(SystemTime, Frame)>>,
    /// One frame of all sources' channels, interleaved as the windower wants it.
    frame: Vec<f32>,
    /// The window's features (or its raw samples, without `features`).
    vector: Vec<f32>,
    feature_names: Vec<String>,
    detector: Option<FeatureDetector>,
    model: Option<ModelStage>,
}

struct ModelStage {
    model: Model,
    output: Vec<f32>,
    /// Scores the reconstruction error of an autoencoder.
    scorer: Option<ReconstructionScorer>,
}

/// Windows learnt as the baseline when a model scores as an autoencoder without a detector.
const DEFAULT_BASELINE_WINDOWS: usize = 100;
const DEFAULT_THRESHOLD: f32 = 6.0;

impl Pipeline {
    /// Builds pipeline `index` of `config`: loads its model, sizes its features. Errors name
    /// the pipeline and what is wrong.
    pub fn build(
        config: &Config,
        index: usize,
        config_dir: &Path,
        status: Arc<PipelineStatus>,
        live: Option<LiveSender>,
    ) -> Result<Self, StartError> {
        let settings = &config.pipelines[index];
        let fail = |problem: String| StartError::Pipeline {
            pipeline: settings.name.clone(),
            problem,
        };
        let sources: Vec<usize> = settings
            .sources
            .iter()
            .filter_map(|name| config.sensors.iter().position(|s| &s.name == name))
            .collect();
        let sinks: Arc<[usize]> = settings
            .sinks
            .iter()
            .filter_map(|name| config.sinks.iter().position(|s| &s.name == name))
            .collect();
        let rules = settings
            .rules
            .iter()
            .map(|rule| {
                rule.condition()
                    .map(|condition| Rule::new(&rule.name, condition))
                    .map_err(|problems| {
                        let text: Vec<String> = problems
                            .into_iter()
                            .map(|(k, m)| format!("{k}: {m}"))
                            .collect();
                        fail(format!("rule `{}`: {}", rule.name, text.join("; ")))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let windowing = match settings.window {
            Some(_) => {
                Some(Windowing::build(config, settings, &sources, config_dir).map_err(fail)?)
            }
            None => None,
        };
        let publish = settings.publish.unwrap_or(if settings.features.is_some() {
            Publish::Features
        } else {
            Publish::Readings
        });
        Ok(Self {
            name: Arc::from(settings.name.as_str()),
            sources,
            sinks,
            publish_readings: matches!(publish, Publish::Readings | Publish::Both),
            publish_windows: windowing.is_some()
                && matches!(publish, Publish::Features | Publish::Both),
            rules,
            windowing,
            status,
            live,
            control: None,
        })
    }

    /// Sends its rule levels and controller inputs to the outputs thread.
    pub fn connect_outputs(
        &mut self,
        requests: std::sync::mpsc::Sender<Request>,
        bindings: PipelineBindings,
    ) {
        if bindings.rule_actions.is_empty() && bindings.controllers.is_empty() {
            return;
        }
        let rule_actions = bindings
            .rule_actions
            .iter()
            .filter_map(|(name, action)| {
                self.rules
                    .iter()
                    .position(|r| &r.name == name)
                    .map(|r| (r, *action))
            })
            .collect();
        self.control = Some(Control {
            requests,
            rule_actions,
            controllers: bindings.controllers,
            evaluated: Vec::new(),
        });
    }

    /// Publishes every reading of its sources, whatever the config says (`--once`: one
    /// reading per sensor is all there is, and it must reach the sinks).
    pub fn publish_every_reading(&mut self) {
        self.publish_readings = true;
    }

    /// The sensors it reads, by index.
    pub fn sources(&self) -> &[usize] {
        &self.sources
    }

    /// Processes batches until `input` is closed and drained, sending what it publishes to
    /// `output`. Returns when done (after the last batch, at shutdown).
    pub fn run(
        mut self,
        input: &DropOldestQueue<Arc<SampleBatch>>,
        output: &mpsc::Sender<Outgoing>,
    ) {
        while let Some(batch) = input.pop() {
            // A panic in feature or model code (a bug, or a third-party parser surprised by
            // its input) costs this batch, not the pipeline: it is logged and counted.
            let processed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.process(&batch)));
            let readings = match processed {
                Ok(readings) => readings,
                Err(_) => {
                    self.status.model_errors.inc();
                    tracing::error!(pipeline = %self.name, "processing a batch panicked; it was skipped");
                    continue;
                }
            };
            if !readings.is_empty() {
                let outgoing = Outgoing {
                    sinks: Arc::clone(&self.sinks),
                    readings,
                };
                if output.blocking_send(outgoing).is_err() {
                    // The publisher is gone: the agent is stopping without a flush.
                    break;
                }
            }
        }
    }

    /// One batch: its readings, its windows, the rules.
    fn process(&mut self, batch: &SampleBatch) -> Vec<Reading> {
        let mut out = Vec::new();
        let Some(source_slot) = self.sources.iter().position(|&s| s == batch.sensor) else {
            return out;
        };
        let mut observations = Vec::new();
        for (time, frame) in &batch.frames {
            let values = frame.values();
            // The live view shows the readings of unwindowed pipelines; a windowed pipeline's
            // samples (a kHz stream) are shown by their windows.
            let live = self.live.as_ref().filter(|_| self.windowing.is_none());
            if self.publish_readings || live.is_some() {
                let reading = Reading::from_channels(
                    batch.sensor_name.to_string(),
                    *time,
                    &batch.channels,
                    values,
                );
                if let Some(live) = live {
                    live.send(LiveEvent::Reading {
                        pipeline: Arc::clone(&self.name),
                        reading: reading.clone(),
                    });
                }
                if self.publish_readings {
                    out.push(reading);
                }
            }
            // Rules on raw channels.
            for (index, rule) in self.rules.iter_mut().enumerate() {
                let Some(channel) = rule.channel() else {
                    continue;
                };
                if channel.contains('.') {
                    continue;
                }
                if let Some(i) = batch.channels.iter().position(|c| c.name == channel) {
                    if let Some(&value) = values.get(i) {
                        let event = rule.observe(f64::from(value), *time);
                        if let Some(control) = &mut self.control {
                            control.evaluated.push((
                                index,
                                *time,
                                rule.is_raised(),
                                event.is_some(),
                            ));
                        }
                        if let Some(event) = event {
                            out.push(event_reading(&self.name, rule, &event, *time));
                        }
                    }
                }
            }
            if let Some(control) = &self.control {
                for (channel, controller) in &control.controllers {
                    if let Some(i) = batch.channels.iter().position(|c| c.name == channel) {
                        if let Some(&value) = values.get(i) {
                            observations.push(Observation::Value {
                                controller: *controller,
                                value: f64::from(value),
                                at: *time,
                            });
                        }
                    }
                }
            }
        }
        if self.windowing.is_some() {
            self.window(source_slot, batch, &mut out);
        }
        if let Some(control) = &mut self.control {
            control.observations(&mut observations);
            if !observations.is_empty() {
                // The outputs thread is gone only when the agent stops.
                let _ = control.requests.send(Request::Observations(observations));
            }
        }
        for event in out.iter().filter(|r| r.sensor == EVENTS_SENSOR) {
            self.status.events.inc();
            if let Some(live) = &self.live {
                live.send(LiveEvent::Event {
                    pipeline: Arc::clone(&self.name),
                    event: event.clone(),
                });
            }
        }
        out
    }

    fn window(&mut self, source_slot: usize, batch: &SampleBatch, out: &mut Vec<Reading>) {
        let Some(w) = self.windowing.as_mut() else {
            return;
        };
        if let Some(queue) = w.pending.get_mut(source_slot) {
            queue.extend(batch.frames.iter().copied());
        }
        // A frame is complete when every source has a sample for it.
        while w.pending.iter().all(|q| !q.is_empty()) {
            w.frame.clear();
            let mut time = SystemTime::UNIX_EPOCH;
            for queue in &mut w.pending {
                if let Some((t, frame)) = queue.pop_front() {
                    w.frame.extend_from_slice(frame.values());
                    time = time.max(t);
                }
            }
            let mut window_done = false;
            let Windowing {
                windower,
                extractor,
                vector,
                frame,
                ..
            } = w;
            windower.push(frame, |window: Window<'_>| {
                let result = match extractor {
                    Some(extractor) => {
                        vector.resize(extractor.len(), 0.0);
                        extractor
                            .extract(&window, vector)
                            .map_err(|e| e.to_string())
                    }
                    None => {
                        vector.clear();
                        vector.extend_from_slice(window.interleaved());
                        Ok(())
                    }
                };
                window_done = result.is_ok();
            });
            if window_done {
                let started = Instant::now();
                let reading = score_window(&self.name, w, &self.status, time);
                self.status.windows.inc();
                self.status
                    .busy_micros
                    .add(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                let evaluated = self.control.as_mut().map(|c| &mut c.evaluated);
                window_rules(&mut self.rules, &self.name, &reading, time, out, evaluated);
                if let Some(live) = &self.live {
                    live.send(LiveEvent::Window {
                        pipeline: Arc::clone(&self.name),
                        reading: reading.clone(),
                    });
                }
                if self.publish_windows {
                    out.push(reading);
                }
            }
        }
    }
}

/// Rules on features (`channel.feature`) and on the anomaly score.
fn window_rules(
    rules: &mut [Rule],
    pipeline: &str,
    reading: &Reading,
    time: SystemTime,
    out: &mut Vec<Reading>,
    mut evaluated: Option<&mut Vec<(usize, SystemTime, bool, bool)>>,
) {
    for (index, rule) in rules.iter_mut().enumerate() {
        let name = match rule.channel() {
            Some(channel) if channel.contains('.') => channel,
            Some(_) => continue,
            None if rule.watches_score() => SCORE_FIELD,
            None => continue,
        };
        if let Some(value) = reading.number(name) {
            let event = rule.observe(value, time);
            if let Some(evaluated) = evaluated.as_deref_mut() {
                evaluated.push((index, time, rule.is_raised(), event.is_some()));
            }
            if let Some(event) = event {
                out.push(event_reading(pipeline, rule, &event, time));
            }
        }
    }
}

/// Scores the window whose features are in `w.vector` and makes its reading.
fn score_window(
    pipeline: &str,
    w: &mut Windowing,
    status: &PipelineStatus,
    time: SystemTime,
) -> Reading {
    let mut reading = Reading::new(pipeline.to_string(), time);
    if w.extractor.is_some() {
        for (name, &value) in w.feature_names.iter().zip(&w.vector) {
            reading = reading.with_number(name.clone(), "", decimal_f64(value));
        }
    }
    let mut score = None;
    let mut learning = None;
    if let Some(detector) = &mut w.detector {
        match detector.observe(&w.vector) {
            Ok(Verdict::Scored(s)) => score = Some(decimal_f64(s.value)),
            Ok(Verdict::Learning { seen, needed }) => learning = Some((seen, needed)),
            Err(_) => status.model_errors.inc(),
        }
    }
    if let Some(stage) = &mut w.model {
        match stage.model.run_f32(&[&w.vector], &mut [&mut stage.output]) {
            Ok(()) => {
                if let Some(scorer) = &mut stage.scorer {
                    match scorer.observe(&w.vector, &stage.output) {
                        Ok(Verdict::Scored(s)) => score = Some(decimal_f64(s.z)),
                        Ok(Verdict::Learning { seen, needed }) => {
                            learning = Some((seen, needed));
                        }
                        Err(_) => status.model_errors.inc(),
                    }
                } else {
                    for (i, &value) in stage.output.iter().enumerate() {
                        reading =
                            reading.with_number(format!("output_{i}"), "", decimal_f64(value));
                    }
                }
            }
            Err(_) => status.model_errors.inc(),
        }
    }
    if let Some(score) = score {
        status.record_score(score);
        reading = reading.with_number(SCORE_FIELD, "", score);
    } else if let Some((seen, needed)) = learning {
        reading = reading.with_number("baseline_windows", "", seen as f64);
        reading = reading.with_number("baseline_needed", "", needed as f64);
    }
    reading
}

/// An event as a reading: published to sinks like any other.
fn event_reading(pipeline: &str, rule: &Rule, event: &RuleEvent, time: SystemTime) -> Reading {
    let mut reading = Reading::new(EVENTS_SENSOR, time)
        .with_text("pipeline", pipeline.to_string())
        .with_text("rule", rule.name.clone())
        .with_text("kind", rule.kind())
        .with_text("state", event.transition.name());
    if let Some(channel) = rule.channel() {
        reading = reading.with_text("channel", channel.to_string());
    }
    reading
        .with_number("value", "", event.value)
        .with_number("limit", "", event.limit)
}

impl Windowing {
    fn build(
        config: &Config,
        settings: &PipelineConfig,
        sources: &[usize],
        config_dir: &Path,
    ) -> Result<Self, String> {
        let window = settings.window.ok_or("no window")?;
        let mut channel_names: Vec<String> = Vec::new();
        for &source in sources {
            for channel in config.sensors[source].effective_channels() {
                if channel_names.contains(&channel) {
                    return Err(format!(
                        "two sources have a channel `{channel}`; a windowed pipeline needs distinct channel names"
                    ));
                }
                channel_names.push(channel);
            }
        }
        let interval = sources
            .first()
            .map(|&s| config.sensors[s].interval.get())
            .ok_or("no sources")?;
        let sample_rate_hz = (1.0 / interval.as_secs_f64()) as f32;
        let windower = Windower::new(channel_names.len(), window.size, window.hop)
            .map_err(|e| format!("window: {e}"))?;
        let extractor = match &settings.features {
            Some(features) => {
                let names: Vec<&str> = channel_names.iter().map(String::as_str).collect();
                let mut feature_config = FeatureConfig::new(sample_rate_hz, window.size, &names);
                feature_config.time_features =
                    features.time.iter().map(|&t| time_feature(t)).collect();
                feature_config.spectral = features.spectral.as_ref().map(spectral_config);
                Some(FeatureExtractor::new(feature_config).map_err(|e| format!("features: {e}"))?)
            }
            None => None,
        };
        let feature_names: Vec<String> = extractor
            .as_ref()
            .map(|e| e.names().to_vec())
            .unwrap_or_default();
        let vector_len = extractor
            .as_ref()
            .map_or(window.size * channel_names.len(), FeatureExtractor::len);
        let detector = match settings.detector {
            Some(d) => {
                let mut detector_config = DetectorConfig::new(vector_len, d.baseline_windows);
                detector_config.threshold = d.threshold;
                Some(FeatureDetector::new(detector_config).map_err(|e| format!("detector: {e}"))?)
            }
            None => None,
        };
        let model = match &settings.model {
            Some(m) => Some(ModelStage::load(
                m,
                settings,
                config_dir,
                vector_len,
                &feature_names,
            )?),
            None => None,
        };
        Ok(Self {
            windower,
            extractor,
            pending: vec![VecDeque::new(); sources.len()],
            frame: Vec::with_capacity(channel_names.len()),
            vector: Vec::with_capacity(vector_len),
            feature_names,
            detector,
            model,
        })
    }
}

impl ModelStage {
    fn load(
        settings: &config::ModelSettings,
        pipeline: &PipelineConfig,
        config_dir: &Path,
        vector_len: usize,
        feature_names: &[String],
    ) -> Result<Self, String> {
        let path = config_dir.join(&settings.path);
        let model = Model::load(&path).map_err(|e| format!("model {}: {e}", path.display()))?;
        let what = if feature_names.is_empty() {
            "raw window values"
        } else {
            "features"
        };
        let inputs = model.inputs();
        if inputs.len() != 1 || inputs[0].len() != vector_len {
            let shapes: Vec<String> = inputs.iter().map(|t| format!("{:?}", t.shape)).collect();
            return Err(format!(
                "model {} takes inputs of shape {}, but the pipeline gives it {vector_len} {what} per window",
                path.display(),
                shapes.join(", ")
            ));
        }
        let outputs = model.outputs();
        if outputs.len() != 1 {
            return Err(format!(
                "model {} has {} outputs; the pipeline reads one",
                path.display(),
                outputs.len()
            ));
        }
        let output_len = outputs[0].len();
        let scorer = if settings.autoencoder {
            if output_len != vector_len {
                return Err(format!(
                    "model {} is used as an autoencoder, but its output has {output_len} values for {vector_len} inputs",
                    path.display()
                ));
            }
            let (baseline, threshold) = pipeline
                .detector
                .map_or((DEFAULT_BASELINE_WINDOWS, DEFAULT_THRESHOLD), |d| {
                    (d.baseline_windows, d.threshold)
                });
            Some(ReconstructionScorer::new(baseline, threshold).map_err(|e| e.to_string())?)
        } else {
            None
        };
        Ok(Self {
            model,
            output: vec![0.0; output_len],
            scorer,
        })
    }
}

fn time_feature(feature: config::TimeFeature) -> DspTimeFeature {
    use config::TimeFeature as T;
    match feature {
        T::Mean => DspTimeFeature::Mean,
        T::Rms => DspTimeFeature::Rms,
        T::Std => DspTimeFeature::Std,
        T::Peak => DspTimeFeature::Peak,
        T::PeakToPeak => DspTimeFeature::PeakToPeak,
        T::CrestFactor => DspTimeFeature::CrestFactor,
        T::Kurtosis => DspTimeFeature::Kurtosis,
        T::Skewness => DspTimeFeature::Skewness,
    }
}

fn spectral_config(settings: &config::SpectralSettings) -> SpectralConfig {
    SpectralConfig {
        window_function: match settings.window_function {
            config::WindowFunction::Hann => DspWindowFunction::Hann,
            config::WindowFunction::Rectangular => DspWindowFunction::Rectangular,
        },
        remove_mean: settings.remove_mean,
        bands: settings
            .bands_hz
            .iter()
            .map(|&[low, high]| Band::new(low, high))
            .collect(),
        peaks: settings.peaks,
        centroid: settings.centroid,
    }
}
