//! Why a command was not executed: one [`Reason`] per cause, each with one spelling on the
//! wire, so operators and tests can match the stable prefix of a reply's `reason`.

use std::fmt;

/// The cause of a refusal. [`Reason::as_str`] is its stable spelling, the prefix of every
/// reply's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The message carries no signature (a bare command, or a JWS with `alg` `none`).
    Unsigned,
    /// The signature or MAC does not verify, or the envelope names an algorithm, key kind or
    /// critical header this device does not accept.
    BadSignature,
    /// The command's expiry has passed.
    Expired,
    /// A command with this id was received before.
    Replayed,
    /// No actuator of that name accepts remote commands.
    UnknownTarget,
    /// The value is outside what the actuator takes.
    OutOfRange,
    /// The message or the command in it cannot be read.
    Malformed,
    /// The command names another device.
    WrongDevice,
    /// A local rule holds the actuator (a safety interlock wins over remote commands).
    Interlocked,
    /// The expiry is further ahead than the device allows.
    ExpiryTooFar,
    /// The actuator failed while applying the command (a bus or pin error): the command was
    /// accepted but its effect is unknown.
    Failed,
}

impl Reason {
    /// Every reason, in a fixed order (for counters).
    pub const ALL: [Reason; 11] = [
        Reason::Unsigned,
        Reason::BadSignature,
        Reason::Expired,
        Reason::Replayed,
        Reason::UnknownTarget,
        Reason::OutOfRange,
        Reason::Malformed,
        Reason::WrongDevice,
        Reason::Interlocked,
        Reason::ExpiryTooFar,
        Reason::Failed,
    ];

    /// The stable spelling: `unsigned`, `bad signature`, `expired`, `replayed`,
    /// `unknown target`, `out of range`, `malformed`, `wrong device`, `interlocked`,
    /// `expiry too far`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unsigned => "unsigned",
            Reason::BadSignature => "bad signature",
            Reason::Expired => "expired",
            Reason::Replayed => "replayed",
            Reason::UnknownTarget => "unknown target",
            Reason::OutOfRange => "out of range",
            Reason::Malformed => "malformed",
            Reason::WrongDevice => "wrong device",
            Reason::Interlocked => "interlocked",
            Reason::ExpiryTooFar => "expiry too far",
            Reason::Failed => "failed",
        }
    }

    /// The position in [`Reason::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused command: the reason and, for the operator, what exactly was wrong. Displays as
/// `<reason>: <detail>` (or just the reason when there is no detail), which is the reply's
/// `reason` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct Refusal {
    reason: Reason,
    detail: String,
}

impl Refusal {
    /// A refusal for `reason`, explained by `detail` (may be empty).
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The explanation after the reason.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// `<reason>: <detail>`, as the reply carries it.
    pub fn text(&self) -> String {
        if self.detail.is_empty() {
            self.reason.as_str().to_string()
        } else {
            format!("{}: {}", self.reason.as_str(), self.detail)
        }
    }

    /// `unsigned`.
    pub fn unsigned(detail: impl Into<String>) -> Self {
        Self::new(Reason::Unsigned, detail)
    }

    /// `bad signature`.
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        Self::new(Reason::BadSignature, detail)
    }

    /// `expired`.
    pub fn expired(detail: impl Into<String>) -> Self {
        Self::new(Reason::Expired, detail)
    }

    /// `replayed`.
    pub fn replayed(detail: impl Into<String>) -> Self {
        Self::new(Reason::Replayed, detail)
    }

    /// `unknown target`, naming the target.
    pub fn unknown_target(target: &str) -> Self {
        Self::new(
            Reason::UnknownTarget,
            format!("no actuator `{target}` takes remote commands"),
        )
    }

    /// `out of range`.
    pub fn out_of_range(detail: impl Into<String>) -> Self {
        Self::new(Reason::OutOfRange, detail)
    }

    /// `malformed`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(Reason::Malformed, detail)
    }

    /// `wrong device`.
    pub fn wrong_device(detail: impl Into<String>) -> Self {
        Self::new(Reason::WrongDevice, detail)
    }

    /// `interlocked`, naming the rule that holds the actuator.
    pub fn interlocked(detail: impl Into<String>) -> Self {
        Self::new(Reason::Interlocked, detail)
    }

    /// `expiry too far`.
    pub fn expiry_too_far(detail: impl Into<String>) -> Self {
        Self::new(Reason::ExpiryTooFar, detail)
    }

    /// `failed`: the actuator reported an error while applying the command.
    pub fn failed(detail: impl Into<String>) -> Self {
        Self::new(Reason::Failed, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_contract_spelling_and_index() {
        let spellings: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            spellings,
            [
                "unsigned",
                "bad signature",
                "expired",
                "replayed",
                "unknown target",
                "out of range",
                "malformed",
                "wrong device",
                "interlocked",
                "expiry too far",
                "failed"
            ]
        );
        for (index, reason) in Reason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), index);
        }
        assert_eq!(Refusal::expired("").to_string(), "expired");
        assert_eq!(
            Refusal::unknown_target("pump").to_string(),
            "unknown target: no actuator `pump` takes remote commands"
        );
    }
}
