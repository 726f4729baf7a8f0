//! The command loop: message → [`CommandVerifier::check`] → [`Outbox::remember_command_id`]
//! (a replay is refused `replayed`) → the runtime's [`CommandHandler`] → the reply.
//!
//! The id is committed to disk before the command is handed over, so a crash between the two
//! loses the command rather than running it twice: at most once. A command whose id cannot be
//! recorded (the disk is full) is refused `failed` for the same reason. Refused messages are
//! never remembered: a forged or expired message cannot use up a genuine command's id.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use edgewise_sensors::actuator::State;
use tokio::sync::{mpsc, oneshot};

use crate::outbox::Outbox;

use super::channel::CommandChannel;
use super::refusal::{Reason, Refusal};
use super::reply::Reply;
use super::verifier::{identify, CommandVerifier, RemoteCommand};

/// What the runtime does with a verified, first-seen command.
pub trait CommandHandler: Send {
    /// Applies `command` to its actuator: the state applied, or why not (`unknown target`,
    /// `out of range`, `interlocked`, `failed`, made with the [`Refusal`] constructors).
    fn execute(
        &mut self,
        command: RemoteCommand,
    ) -> impl Future<Output = Result<State, Refusal>> + Send;

    /// Sees every reply before it is published, refusals included (to log them). Default:
    /// nothing.
    fn replied(&mut self, _reply: &Reply) {}
}

/// A command sent to the runtime over a channel, with where its outcome goes.
#[derive(Debug)]
pub struct CommandRequest {
    /// The verified command.
    pub command: RemoteCommand,
    /// Where the outcome goes.
    pub done: oneshot::Sender<Result<State, Refusal>>,
}

/// The simplest handler: each command goes to the runtime's receiver as a [`CommandRequest`].
impl CommandHandler for mpsc::Sender<CommandRequest> {
    async fn execute(&mut self, command: RemoteCommand) -> Result<State, Refusal> {
        let (done, outcome) = oneshot::channel();
        if self.send(CommandRequest { command, done }).await.is_err() {
            return Err(Refusal::failed("the actuators are not running"));
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(Refusal::failed("the actuator gave no answer")))
    }
}

/// Live counters, shared with the runtime (for `/metrics`).
#[derive(Debug, Clone, Default)]
pub struct CommandCounters {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    executed: AtomicU64,
    refused: [AtomicU64; Reason::ALL.len()],
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStats {
    /// Messages received on the command topic.
    pub received: u64,
    /// Commands the actuator applied.
    pub executed: u64,
    refused: [u64; Reason::ALL.len()],
}

impl CommandStats {
    /// Messages refused for `reason`.
    pub fn refused(&self, reason: Reason) -> u64 {
        self.refused[reason.index()]
    }

    /// Messages refused for any reason.
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().sum()
    }

    /// Every reason with its count (zeros included, for a complete metrics family).
    pub fn refused_by_reason(&self) -> impl Iterator<Item = (Reason, u64)> + '_ {
        Reason::ALL
            .iter()
            .map(|reason| (*reason, self.refused(*reason)))
    }
}

impl CommandCounters {
    /// New counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counts now.
    pub fn snapshot(&self) -> CommandStats {
        let inner = &self.inner;
        CommandStats {
            received: inner.received.load(Ordering::Relaxed),
            executed: inner.executed.load(Ordering::Relaxed),
            refused: std::array::from_fn(|i| inner.refused[i].load(Ordering::Relaxed)),
        }
    }

    fn count(&self, outcome: &Result<State, Refusal>) {
        match outcome {
            Ok(_) => self.inner.executed.fetch_add(1, Ordering::Relaxed),
            Err(refusal) => {
                self.inner.refused[refusal.reason().index()].fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// Serves commands until the channel ends (when it is dropped, or this future is).
pub async fn serve(
    mut channel: CommandChannel,
    verifier: CommandVerifier,
    outbox: Outbox,
    mut handler: impl CommandHandler,
    counters: CommandCounters,
) {
    while let Some(message) = channel.next().await {
        counters.inner.received.fetch_add(1, Ordering::Relaxed);
        let reply = handle(&message, &verifier, &outbox, &mut handler).await;
        counters.count(&reply.outcome);
        handler.replied(&reply);
        // A reply that cannot be queued is lost; the channel reports the connection's state.
        channel.reply(reply.to_json()).await.ok();
    }
}

/// One message, from bytes to reply.
async fn handle(
    message: &[u8],
    verifier: &CommandVerifier,
    outbox: &Outbox,
    handler: &mut impl CommandHandler,
) -> Reply {
    let refused = |refusal: Refusal| {
        let (id, target) = identify(message);
        Reply {
            id,
            outcome: Err(refusal),
            target,
            at: SystemTime::now(),
        }
    };
    let command = match verifier.check(message, SystemTime::now()) {
        Ok(command) => command,
        Err(refusal) => return refused(refusal),
    };
    let remembered = {
        let outbox = outbox.clone();
        let id = command.id.clone();
        let expires = command.expires;
        // An fsync: off the runtime's worker threads.
        tokio::task::spawn_blocking(move || outbox.remember_command_id(&id, expires)).await
    };
    let outcome = match remembered {
        Ok(Ok(true)) => handler.execute(command.clone()).await,
        Ok(Ok(false)) => Err(Refusal::replayed(format!(
            "command `{}` was received before",
            command.id
        ))),
        Ok(Err(error)) => Err(Refusal::failed(format!(
            "the command id cannot be recorded, so it is not run: {error}"
        ))),
        Err(join) => Err(Refusal::failed(format!(
            "recording the command id failed: {join}"
        ))),
    };
    Reply {
        id: Some(command.id),
        outcome,
        target: Some(command.target),
        at: SystemTime::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_per_reason() {
        let counters = CommandCounters::new();
        counters.count(&Ok(State::On));
        counters.count(&Err(Refusal::replayed("")));
        counters.count(&Err(Refusal::replayed("")));
        counters.count(&Err(Refusal::unsigned("")));
        let stats = counters.snapshot();
        assert_eq!(stats.executed, 1);
        assert_eq!(stats.refused(Reason::Replayed), 2);
        assert_eq!(stats.refused(Reason::Unsigned), 1);
        assert_eq!(stats.refused_total(), 3);
        assert_eq!(stats.refused_by_reason().count(), Reason::ALL.len());
    }
}
