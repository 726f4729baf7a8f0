//! Why a poll failed, classified so the caller can tell a network fault (retry) from a wrong
//! register map (fix the configuration), and worded so the log line alone says which device,
//! which request and which points.

use std::fmt;
use std::io;
use std::time::Duration;

use super::plan::PlannedRead;

/// A failed poll.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// No TCP connection could be made (refused, unreachable, unresolvable, or no answer
    /// within the timeout). The next attempt waits out the back-off.
    #[error("modbus {peer}: cannot connect: {message}")]
    Connect {
        /// The configured `host:port`.
        peer: String,
        /// The I/O error's kind (`ConnectionRefused`, `TimedOut`, …).
        kind: io::ErrorKind,
        /// The error in words.
        message: String,
    },
    /// The last connection attempt failed and the back-off has not elapsed yet; nothing was
    /// sent.
    #[error(
        "modbus {peer}: not connected; next connection attempt in {} ms (after: {last})",
        retry_in.as_millis()
    )]
    WaitingToReconnect {
        /// The configured `host:port`.
        peer: String,
        /// How long until the next attempt.
        retry_in: Duration,
        /// Why the last attempt failed.
        last: String,
    },
    /// The connection broke during a request (reset, closed by the device): a new
    /// connection, or a kept one and then its replacement too. The next poll connects again
    /// at once.
    #[error("modbus {peer}: connection lost during {request}: {message}")]
    ConnectionLost {
        /// The configured `host:port`.
        peer: String,
        /// The request that was under way.
        request: RequestInfo,
        /// The I/O error's kind (`ConnectionReset`, `UnexpectedEof`, …).
        kind: io::ErrorKind,
        /// The error in words.
        message: String,
    },
    /// The device did not answer within the timeout. The connection is dropped (a late
    /// answer would be mistaken for the next one) and made again on the next poll.
    #[error("modbus {peer}: no answer within {} ms to {request}", timeout.as_millis())]
    Timeout {
        /// The configured `host:port`.
        peer: String,
        /// The request that went unanswered.
        request: RequestInfo,
        /// The configured timeout.
        timeout: Duration,
    },
    /// The device answered with a Modbus exception. The connection stays up.
    #[error("modbus {peer}: the device answered {exception} to {request}{}", gap_hint(*exception, request))]
    Exception {
        /// The configured `host:port`.
        peer: String,
        /// The exception.
        exception: Exception,
        /// The request it answered.
        request: RequestInfo,
    },
    /// The answer did not fit the request (wrong transaction or unit id, function, length).
    /// The connection is dropped and made again on the next poll.
    #[error("modbus {peer}: unexpected answer to {request}: {problem}")]
    Protocol {
        /// The configured `host:port`.
        peer: String,
        /// The request.
        request: RequestInfo,
        /// What did not fit.
        problem: String,
    },
}

impl PollError {
    /// Whether polling again later can succeed without changing the configuration or the
    /// device: true for network faults and busy devices, false for exceptions that mean the
    /// register map does not match the device (illegal function, address or value).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Exception { exception, .. } => matches!(
                exception,
                Exception::Acknowledge
                    | Exception::ServerDeviceBusy
                    | Exception::ServerDeviceFailure
                    | Exception::GatewayPathUnavailable
                    | Exception::GatewayTargetDeviceFailedToRespond
            ),
            _ => true,
        }
    }
}

/// A request as errors report it: what was read, and for which points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The request.
    pub read: PlannedRead,
    /// The names of the points it reads.
    pub points: Vec<String>,
}

impl fmt::Display for RequestInfo {
    /// `read of input registers 0-3 (30001-30004, function 0x04) for points a, b`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.points.len() == 1 {
            "point"
        } else {
            "points"
        };
        write!(f, "{} for {noun} {}", self.read, self.points.join(", "))
    }
}

/// After "illegal data address" for a request that read through registers no point uses:
/// the likely cause and the fix.
fn gap_hint(exception: Exception, request: &RequestInfo) -> String {
    if exception != Exception::IllegalDataAddress || request.read.gaps.is_empty() {
        return String::new();
    }
    let gaps: Vec<String> = request
        .read
        .gaps
        .iter()
        .map(|&(first, count)| format!("{first}-{}", first + (count - 1)))
        .collect();
    format!(
        "; the request also reads unused registers {} between points: if the device does not \
         implement them, set max_gap = 0",
        gaps.join(", ")
    )
}

/// A Modbus exception response, by its name in the Modbus Application Protocol
/// specification (v1.1b3, section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exception {
    /// 0x01: the device does not support the function (e.g. it has no input registers).
    IllegalFunction,
    /// 0x02: an address in the request is not one the device has.
    IllegalDataAddress,
    /// 0x03: a value in the request (e.g. the register count) is not allowed.
    IllegalDataValue,
    /// 0x04: the device failed while handling the request.
    ServerDeviceFailure,
    /// 0x05: accepted, but it will take long.
    Acknowledge,
    /// 0x06: the device is busy with a long command; retry later.
    ServerDeviceBusy,
    /// 0x08: the device found a parity error in its memory.
    MemoryParityError,
    /// 0x0A: the gateway has no path to the addressed unit.
    GatewayPathUnavailable,
    /// 0x0B: the unit behind the gateway did not answer.
    GatewayTargetDeviceFailedToRespond,
    /// Any other code.
    Other(u8),
}

impl Exception {
    /// The exception of `code`.
    pub fn from_code(code: u8) -> Self {
        match code {
            0x01 => Self::IllegalFunction,
            0x02 => Self::IllegalDataAddress,
            0x03 => Self::IllegalDataValue,
            0x04 => Self::ServerDeviceFailure,
            0x05 => Self::Acknowledge,
            0x06 => Self::ServerDeviceBusy,
            0x08 => Self::MemoryParityError,
            0x0A => Self::GatewayPathUnavailable,
            0x0B => Self::GatewayTargetDeviceFailedToRespond,
            other => Self::Other(other),
        }
    }

    /// The exception code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Self::IllegalFunction => 0x01,
            Self::IllegalDataAddress => 0x02,
            Self::IllegalDataValue => 0x03,
            Self::ServerDeviceFailure => 0x04,
            Self::Acknowledge => 0x05,
            Self::ServerDeviceBusy => 0x06,
            Self::MemoryParityError => 0x08,
            Self::GatewayPathUnavailable => 0x0A,
            Self::GatewayTargetDeviceFailedToRespond => 0x0B,
            Self::Other(code) => code,
        }
    }

    /// The specification's name, in lower case (`"illegal data address"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::IllegalFunction => "illegal function",
            Self::IllegalDataAddress => "illegal data address",
            Self::IllegalDataValue => "illegal data value",
            Self::ServerDeviceFailure => "server device failure",
            Self::Acknowledge => "acknowledge",
            Self::ServerDeviceBusy => "server device busy",
            Self::MemoryParityError => "memory parity error",
            Self::GatewayPathUnavailable => "gateway path unavailable",
            Self::GatewayTargetDeviceFailedToRespond => "gateway target device failed to respond",
            Self::Other(_) => "unknown exception",
        }
    }
}

impl fmt::Display for Exception {
    /// `illegal data address (exception 0x02)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (exception 0x{:02X})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::config::RegisterKind;

    #[test]
    fn codes_round_trip_and_print_by_name() {
        for code in 0..=255u8 {
            assert_eq!(Exception::from_code(code).code(), code);
        }
        assert_eq!(
            Exception::from_code(2).to_string(),
            "illegal data address (exception 0x02)"
        );
    }

    #[test]
    fn an_illegal_address_over_a_gap_suggests_reading_without_gaps() {
        let request = RequestInfo {
            read: PlannedRead {
                kind: RegisterKind::Holding,
                start: 100,
                count: 10,
                points: vec![0, 1],
                gaps: vec![(102, 6)],
            },
            points: vec!["a".into(), "b".into()],
        };
        let error = PollError::Exception {
            peer: "10.0.0.5:502".into(),
            exception: Exception::IllegalDataAddress,
            request,
        };
        assert_eq!(
            error.to_string(),
            "modbus 10.0.0.5:502: the device answered illegal data address (exception 0x02) to \
             read of holding registers 100-109 (40101-40110, function 0x03) for points a, b; \
             the request also reads unused registers 102-107 between points: if the device \
             does not implement them, set max_gap = 0"
        );
        assert!(!error.is_transient());
    }
}
