//! From a checked config to `edgewise-link`'s types: encoders, transport configurations and
//! the outbox's settings. Secrets are read here, at start-up, not when the file is parsed:
//! `edgewise check` never needs them.

use std::sync::Arc;

use edgewise_link::encode::{Encoder, JsonEncoder, LineProtocolEncoder, SenmlEncoder};
use edgewise_link::outbox::{self, EncryptionKey, Limits, OutboxConfig, OutboxError};
use edgewise_link::tls::TlsFiles;
use edgewise_link::transport::coap::{self, CoapConfig};
use edgewise_link::transport::file::FileConfig;
use edgewise_link::transport::http::HttpConfig;
use edgewise_link::transport::mqtt::{Credentials, LastWill, MqttConfig, ProtocolVersion, Qos};

use super::schema::{CoapMethod, Device, FullPolicy, OutboxSettings, SinkConfig, TlsSettings};
use super::secret::SecretError;

/// A sink's transport, configured.
#[derive(Debug, Clone)]
pub enum TransportConfig {
    /// MQTT 3.1.1 or 5.
    Mqtt(Box<MqttConfig>),
    /// HTTP(S) POST.
    Http(HttpConfig),
    /// CoAP.
    Coap(CoapConfig),
    /// A rotated file of lines.
    File(FileConfig),
    /// Standard output.
    Stdout,
}

/// Why a sink could not be set up from a checked config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// A secret could not be read.
    #[error("sink `{sink}`: {source}")]
    Secret {
        /// The sink.
        sink: String,
        /// What went wrong.
        source: SecretError,
    },
    /// The config was not checked: a setting is still invalid.
    #[error("sink `{sink}`: {problem}")]
    Invalid {
        /// The sink.
        sink: String,
        /// What is wrong.
        problem: String,
    },
}

impl SinkConfig {
    /// The encoder, for `device`. Line-oriented transports (file, stdout) get JSON Lines for
    /// `json`, so each reading is one line.
    pub fn encoder(&self, device: &Device) -> Result<Arc<dyn Encoder>, SetupError> {
        let id = device.id.clone();
        let line_oriented = matches!(self.transport.as_str(), "file" | "stdout");
        Ok(match self.encoder.as_str() {
            "json" if line_oriented => Arc::new(JsonEncoder::lines(id)),
            "json" => Arc::new(JsonEncoder::new(id)),
            "senml-json" => Arc::new(SenmlEncoder::json(id)),
            "senml-cbor" => Arc::new(SenmlEncoder::cbor(id)),
            "line" => Arc::new(LineProtocolEncoder::new(id)),
            other => return Err(self.invalid(format!("unknown encoder `{other}`"))),
        })
    }

    fn invalid(&self, problem: String) -> SetupError {
        SetupError::Invalid {
            sink: self.name.clone(),
            problem,
        }
    }

    fn secret(&self, source: SecretError) -> SetupError {
        SetupError::Secret {
            sink: self.name.clone(),
            source,
        }
    }

    /// The transport's configuration, with secrets read from their files or variables.
    pub fn transport_config(&self, device: &Device) -> Result<TransportConfig, SetupError> {
        let missing = || self.invalid(format!("no `[{}]` settings table", self.transport));
        match self.transport.as_str() {
            "mqtt" => {
                let settings = self.mqtt.as_ref().ok_or_else(missing)?;
                let client_id = settings
                    .client_id
                    .clone()
                    .unwrap_or_else(|| device.id.clone());
                let mut config =
                    MqttConfig::new(settings.host.clone(), client_id, self.encoder(device)?);
                config.device = device.id.clone();
                config.tls = settings.tls.as_ref().map(tls_files);
                config.port =
                    settings
                        .port
                        .unwrap_or(if config.tls.is_some() { 8883 } else { 1883 });
                if settings.protocol.as_deref() == Some("5") {
                    config.protocol = ProtocolVersion::V5;
                }
                if settings.qos == Some(0) {
                    config.qos = Qos::AtMostOnce;
                }
                if let Some(persistent) = settings.persistent_session {
                    config.persistent_session = persistent;
                }
                if let Some(keep_alive) = settings.keep_alive {
                    config.keep_alive = keep_alive.get();
                }
                if let Some(timeout) = settings.ack_timeout {
                    config.ack_timeout = timeout.get();
                }
                if let Some(topic) = &self.topic {
                    config.topic = topic.clone();
                }
                if let Some(credentials) = &settings.credentials {
                    let password = credentials.password.resolve().map_err(|e| self.secret(e))?;
                    config.credentials = Some(Credentials {
                        username: credentials.username.clone(),
                        password: password.expose().to_string(),
                    });
                }
                config.last_will = settings.last_will.as_ref().map(|will| LastWill {
                    topic: will.topic.clone(),
                    payload: will.payload.clone().into_bytes(),
                    qos: config.qos,
                    retain: will.retain.unwrap_or(true),
                });
                Ok(TransportConfig::Mqtt(Box::new(config)))
            }
            "http" => {
                let settings = self.http.as_ref().ok_or_else(missing)?;
                let mut config = HttpConfig::new(settings.url.clone());
                config.tls = settings.tls.as_ref().map(tls_files).unwrap_or_default();
                config.headers = settings
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Some(source) = &settings.authorization {
                    let value = source.resolve().map_err(|e| self.secret(e))?;
                    config
                        .headers
                        .push(("Authorization".into(), value.expose().to_string()));
                }
                if let Some(timeout) = settings.request_timeout {
                    config.request_timeout = timeout.get();
                }
                if let Some(attempts) = settings.max_attempts {
                    config.max_attempts = attempts;
                }
                Ok(TransportConfig::Http(config))
            }
            "coap" => {
                let settings = self.coap.as_ref().ok_or_else(missing)?;
                let mut config = CoapConfig::new(settings.url.clone());
                config.method = match settings.method {
                    CoapMethod::Post => coap::CoapMethod::Post,
                    CoapMethod::Put => coap::CoapMethod::Put,
                };
                if let Some(size) = settings.max_payload {
                    config.max_payload = usize::try_from(size.0).unwrap_or(usize::MAX);
                }
                Ok(TransportConfig::Coap(config))
            }
            "file" => {
                let settings = self.file.as_ref().ok_or_else(missing)?;
                let mut config = FileConfig::new(settings.path.clone());
                if let Some(size) = settings.max_bytes {
                    config.max_bytes = size.0;
                }
                if let Some(keep) = settings.keep {
                    config.keep = keep;
                }
                Ok(TransportConfig::File(config))
            }
            "stdout" => Ok(TransportConfig::Stdout),
            other => Err(self.invalid(format!("unknown transport `{other}`"))),
        }
    }
}

fn tls_files(tls: &TlsSettings) -> TlsFiles {
    TlsFiles {
        ca_file: Some(tls.ca_file.clone()),
        client_cert: tls.client_cert.clone(),
        client_key: tls.client_key.clone(),
    }
}

impl OutboxSettings {
    /// The outbox's configuration; reads the key file if one is named. Limits left out take
    /// the outbox's defaults.
    pub fn outbox_config(&self) -> Result<OutboxConfig, OutboxError> {
        let defaults = Limits::default();
        Ok(OutboxConfig {
            limits: Limits {
                max_bytes: self.max_bytes.map(|b| b.0).or(defaults.max_bytes),
                max_readings: self.max_readings.or(defaults.max_readings),
                max_age: self.max_age.map(|a| a.get()).or(defaults.max_age),
            },
            when_full: match self.when_full {
                FullPolicy::DropOldest => outbox::FullPolicy::DropOldest,
                FullPolicy::RefuseNew => outbox::FullPolicy::RefuseNew,
            },
            encryption: self
                .key_file
                .as_ref()
                .map(EncryptionKey::from_file)
                .transpose()?,
        })
    }
}
