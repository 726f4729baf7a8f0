//! Remote commands: edgewise-link's MQTT command service, wired to the outputs thread.
//!
//! ```text
//!  broker ──▶ command channel ──▶ verify (signature, expiry, device) ──▶ remember the id
//!  (own MQTT connection,           (edgewise-link)                        (the sink's outbox
//!   the sink's broker)                                                     file, fsync'd)
//!                                   reply ◀── outputs thread (range, interlocks, the set)
//! ```
//!
//! The `[commands]` table names an MQTT sink: the command connection uses its broker, TLS and
//! credentials, and the command ids are remembered in its outbox file, so a command is run at
//! most once across restarts. What the outputs thread refuses (an unknown target, a value out
//! of range, an interlock) is answered with the same reasons the verifier uses.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use edgewise_link::command::{
    serve, ChannelMonitor, CommandChannel, CommandCounters, CommandHandler, CommandVerifier,
    Refusal, RemoteCommand, Reply, VerifyKey,
};
use edgewise_sensors::actuator::State;
use tokio::task::JoinHandle;

use super::actuators::{ActuatorControl, RemoteRefusal};
use super::sinks::RunningSink;
use super::StartError;
use crate::config::{CommandSettings, Config, TransportConfig};
use edgewise_link::transport::mqtt::MqttConfig;

/// How far ahead a command may expire when the config does not say.
const DEFAULT_MAX_TTL: Duration = Duration::from_secs(3600);

/// What `/health` and `/metrics` show about remote commands.
#[derive(Debug)]
pub struct CommandsStatus {
    /// The topic commands arrive on.
    pub topic: String,
    /// Received, executed, refused per reason.
    pub counters: CommandCounters,
    /// The command connection's state.
    pub monitor: ChannelMonitor,
}

/// The running command service.
#[derive(Debug)]
pub struct RunningCommands {
    task: JoinHandle<()>,
}

impl RunningCommands {
    /// Stops taking commands: the connection closes, a command in flight is not answered
    /// (its id is remembered only if it was run).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The command service a config describes, checked and ready to start: its key read, its
/// broker settings resolved. Everything here fails on bad input, before anything runs.
#[derive(Debug)]
pub struct PreparedCommands {
    settings: CommandSettings,
    mqtt: MqttConfig,
    verifier: CommandVerifier,
}

/// Reads the key and the sink's broker settings of the config's `[commands]` table, if any.
pub fn prepare(config: &Config, config_dir: &Path) -> Result<Option<PreparedCommands>, StartError> {
    let Some(settings) = &config.commands else {
        return Ok(None);
    };
    let fail = |problem: String| StartError::Commands(problem);
    let sink_config = config
        .sinks
        .iter()
        .find(|sink| sink.name == settings.sink)
        .ok_or_else(|| fail(format!("no sink `{}`", settings.sink)))?;
    let mqtt = match sink_config
        .transport_config(&config.device)
        .map_err(|e| fail(format!("sink `{}`: {e}", settings.sink)))?
    {
        TransportConfig::Mqtt(mqtt) => *mqtt,
        _ => {
            return Err(fail(format!(
                "sink `{}` is not an MQTT sink",
                settings.sink
            )))
        }
    };
    let mut verifier = CommandVerifier::new(verify_key(settings, config_dir)?, &config.device.id);
    verifier.max_ttl = settings.max_ttl.map_or(DEFAULT_MAX_TTL, |ttl| ttl.get());
    Ok(Some(PreparedCommands {
        settings: settings.clone(),
        mqtt,
        verifier,
    }))
}

impl PreparedCommands {
    /// Connects and serves: command ids go to the outbox of the command sink (one of
    /// `sinks`), commands to `control`.
    pub fn start(
        self,
        sinks: &[RunningSink],
        control: ActuatorControl,
    ) -> Result<(RunningCommands, Arc<CommandsStatus>), StartError> {
        let Self {
            settings,
            mqtt,
            verifier,
        } = self;
        let fail = |problem: String| StartError::Commands(problem);
        let outbox = sinks
            .iter()
            .find(|sink| sink.status.name == settings.sink)
            .map(|sink| sink.status.outbox.clone())
            .ok_or_else(|| fail(format!("sink `{}` is not running", settings.sink)))?;
        let channel = CommandChannel::start(&mqtt, settings.topic(), settings.reply_topic())
            .map_err(|e| fail(e.to_string()))?;
        let monitor = channel.monitor();
        let counters = CommandCounters::new();
        let status = Arc::new(CommandsStatus {
            topic: monitor.topic().to_string(),
            counters: counters.clone(),
            monitor,
        });
        tracing::info!(
            topic = %status.topic,
            broker = %status.monitor.peer(),
            "taking remote commands"
        );
        let task = tokio::spawn(serve(
            channel,
            verifier,
            outbox,
            ToOutputs { control },
            counters,
        ));
        Ok((RunningCommands { task }, status))
    }
}

/// The key commands must be signed with: an Ed25519 public key file (relative to the config
/// file's directory) or the shared HMAC secret, whose text as written is the key.
fn verify_key(settings: &CommandSettings, config_dir: &Path) -> Result<VerifyKey, StartError> {
    let key = match (&settings.ed25519_public_key, &settings.hmac_key) {
        (Some(path), _) => VerifyKey::ed25519_from_file(config_dir.join(path)),
        (None, Some(secret)) => {
            let secret = secret
                .resolve()
                .map_err(|e| StartError::Commands(format!("hmac_key: {e}")))?;
            VerifyKey::hmac_sha256(secret.expose().as_bytes())
        }
        // A checked config has one of them.
        (None, None) => {
            return Err(StartError::Commands(
                "no `ed25519_public_key` or `hmac_key`".into(),
            ))
        }
    };
    key.map_err(|e| StartError::Commands(e.to_string()))
}

/// Hands verified commands to the outputs thread and logs every answer.
struct ToOutputs {
    control: ActuatorControl,
}

impl CommandHandler for ToOutputs {
    async fn execute(&mut self, command: RemoteCommand) -> Result<State, Refusal> {
        let value = command.value.to_command()?;
        self.control
            .remote(&command.target, value, &command.id)
            .await
            .map_err(|refusal| match refusal {
                RemoteRefusal::UnknownTarget(target) => Refusal::unknown_target(&target),
                RemoteRefusal::OutOfRange(why) => Refusal::out_of_range(why),
                RemoteRefusal::Interlocked { rule } => {
                    Refusal::interlocked(format!("by rule `{rule}`"))
                }
                RemoteRefusal::Failed(why) => Refusal::failed(why),
                RemoteRefusal::Stopped => Refusal::failed("the agent is stopping"),
            })
    }

    fn replied(&mut self, reply: &Reply) {
        let id = reply.id.as_deref().unwrap_or("?");
        let target = reply.target.as_deref().unwrap_or("?");
        match &reply.outcome {
            Ok(state) => tracing::info!(command = id, target, ?state, "command done"),
            Err(refusal) => {
                tracing::warn!(command = id, target, "command refused: {}", refusal.text());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretSource;

    fn settings(key: Option<&Path>, hmac: Option<SecretSource>) -> CommandSettings {
        CommandSettings {
            sink: "broker".into(),
            topic: None,
            reply_topic: None,
            ed25519_public_key: key.map(Path::to_path_buf),
            hmac_key: hmac,
            max_ttl: None,
        }
    }

    #[test]
    fn the_hmac_key_is_the_secret_text_and_a_short_or_missing_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        std::fs::write(dir.path().join("hmac.key"), format!("{secret}\n")).unwrap();
        let key = verify_key(
            &settings(None, Some(SecretSource::File(dir.path().join("hmac.key")))),
            dir.path(),
        )
        .unwrap();
        assert_eq!(key, VerifyKey::HmacSha256(secret.as_bytes().to_vec()));

        std::fs::write(dir.path().join("short.key"), "too short").unwrap();
        let short = verify_key(
            &settings(None, Some(SecretSource::File(dir.path().join("short.key")))),
            dir.path(),
        )
        .unwrap_err();
        assert!(short.to_string().contains("at least 32 bytes"), "{short}");

        // A relative key path is relative to the config file's directory.
        let missing = verify_key(
            &settings(Some(Path::new("operator.pub.pem")), None),
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains(&dir.path().join("operator.pub.pem").display().to_string()),
            "{missing}"
        );
    }
}
