//! One paragraph saying what a checked config will run, for `edgewise check` and the
//! agent's start-up log.

use std::fmt::Write;

use super::schema::{ActuatorConfig, Config, PipelineConfig, SensorConfig, SinkConfig};
use super::validate::Bus;

impl Config {
    /// What this config runs, in one paragraph.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "Device `{}` on the {} board samples {}: {}. ",
            self.device.id,
            self.board.name(),
            count(self.sensors.len(), "sensor"),
            self.sensors
                .iter()
                .map(sensor)
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = write!(
            text,
            "{}: {}. ",
            capitalise(&count(self.pipelines.len(), "pipeline")),
            self.pipelines
                .iter()
                .map(pipeline)
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = write!(
            text,
            "Readings and events go through a durable outbox per sink ({} in the data \
             directory) to {}: {}.",
            self.outbox.path.display(),
            count(self.sinks.len(), "sink"),
            self.sinks.iter().map(sink).collect::<Vec<_>>().join("; ")
        );
        if !self.actuators.is_empty() {
            let _ = write!(
                text,
                " Actuators: {}.",
                self.actuators
                    .iter()
                    .map(actuator)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if let Some(commands) = &self.commands {
            let _ = write!(
                text,
                " Signed remote commands arrive on {} through sink `{}`.",
                commands.topic(),
                commands.sink
            );
        }
        match &self.health {
            Some(health) => {
                let _ = write!(
                    text,
                    " Health and metrics are served on http://{}.",
                    health.listen
                );
            }
            None => text.push_str(" No health endpoint."),
        }
        let _ = write!(text, " Log level {}.", self.log_level.name());
        text
    }
}

fn sensor(sensor: &SensorConfig) -> String {
    let place = match sensor.parsed_bus() {
        Ok(Bus::I2c(_)) => format!(
            "{} at 0x{:02X}",
            sensor.bus,
            sensor.effective_address().unwrap_or_default()
        ),
        _ => sensor.bus.clone(),
    };
    format!(
        "{} ({} on {}: {} every {})",
        sensor.name,
        sensor.driver,
        place,
        sensor.effective_channels().join(", "),
        sensor.interval
    )
}

fn pipeline(pipeline: &PipelineConfig) -> String {
    let mut stages = vec![pipeline.sources.join(" + ")];
    if let Some(window) = pipeline.window {
        stages.push(format!(
            "windows of {} samples every {} samples",
            window.size, window.hop
        ));
    }
    if let Some(features) = &pipeline.features {
        let mut kinds: Vec<String> = features.time.iter().map(|f| f.name().to_string()).collect();
        if let Some(spectral) = &features.spectral {
            kinds.push(format!("{} FFT bands", spectral.bands_hz.len()));
            if spectral.peaks > 0 {
                kinds.push(format!("{} peaks", spectral.peaks));
            }
            if spectral.centroid {
                kinds.push("centroid".into());
            }
        }
        stages.push(format!("features ({})", kinds.join(", ")));
    }
    if let Some(model) = &pipeline.model {
        stages.push(format!("model {}", model.path.display()));
    }
    if let Some(detector) = pipeline.detector {
        stages.push(format!(
            "anomaly detector (baseline {} windows, threshold {})",
            detector.baseline_windows, detector.threshold
        ));
    }
    if !pipeline.rules.is_empty() {
        let names: Vec<&str> = pipeline.rules.iter().map(|r| r.name.as_str()).collect();
        stages.push(format!("rules {}", names.join(", ")));
    }
    if !pipeline.actions.is_empty() || !pipeline.controllers.is_empty() {
        let names: Vec<&str> = pipeline
            .actions
            .iter()
            .map(|a| a.name.as_str())
            .chain(pipeline.controllers.iter().map(|c| c.name.as_str()))
            .collect();
        stages.push(format!("control {}", names.join(", ")));
    }
    stages.push(pipeline.sinks.join(" + "));
    format!("{} ({})", pipeline.name, stages.join(" → "))
}

fn actuator(actuator: &ActuatorConfig) -> String {
    let frequency = actuator
        .frequency
        .map(|f| format!(" at {f} Hz"))
        .unwrap_or_default();
    let place = match actuator.driver.as_str() {
        "gpio" => format!(
            "gpio pin {}{}",
            actuator.pin.unwrap_or_default(),
            if actuator.active_low == Some(true) {
                " active-low"
            } else {
                ""
            }
        ),
        "pwm" => format!(
            "pwm channel {}{frequency}",
            actuator.channel.unwrap_or_default()
        ),
        driver => format!(
            "{driver} {} channel {}{frequency}",
            actuator.bus.as_deref().unwrap_or("?"),
            actuator.channel.unwrap_or_default()
        ),
    };
    let mut extras = vec![format!("safe {}", actuator.safe)];
    if let Some(watchdog) = actuator.watchdog {
        extras.push(format!("watchdog {watchdog}"));
    }
    if !actuator.accepts_remote() {
        extras.push("no remote commands".into());
    }
    format!("{} ({place}, {})", actuator.name, extras.join(", "))
}

fn sink(sink: &SinkConfig) -> String {
    let target = match sink.transport.as_str() {
        "mqtt" => sink.mqtt.as_ref().map(|m| {
            let tls = m.tls.is_some();
            let port = m.port.unwrap_or(if tls { 8883 } else { 1883 });
            format!(
                " {}://{}:{port}",
                if tls { "mqtts" } else { "mqtt" },
                m.host
            )
        }),
        "http" => sink.http.as_ref().map(|h| format!(" {}", h.url)),
        "coap" => sink.coap.as_ref().map(|c| format!(" {}", c.url)),
        "file" => sink.file.as_ref().map(|f| format!(" {}", f.path.display())),
        _ => None,
    }
    .unwrap_or_default();
    format!(
        "{} ({}{target}, {})",
        sink.name, sink.transport, sink.encoder
    )
}

fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
