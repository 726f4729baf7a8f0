//! A Modbus TCP source: polls the registers of a PLC, meter or inverter into [`Reading`]s, the
//! same as a local sensor's.
//!
//! - [`config`]: the device and its register map ([`ModbusConfig`], [`Point`]), checked once;
//! - [`plan`]: the few read requests a poll sends, planned once from the map;
//! - [`error`]: why a poll failed ([`PollError`]), by kind, with the request and points;
//! - here, [`ModbusSource`]: the connection and [`ModbusSource::poll`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use edgewise_link::modbus::{DataType, ModbusConfig, ModbusSource, Point, RegisterKind, WordOrder};
//!
//! let config = ModbusConfig::new("meter", "192.168.1.20:502")
//!     .unit_id(1)
//!     .point(Point::at_reference("voltage", "30001", DataType::F32)?.unit("V"))
//!     .point(
//!         Point::new("energy", RegisterKind::Holding, 100, DataType::U32)
//!             .word_order(WordOrder::LowWordFirst)
//!             .scale(0.01)
//!             .unit("kWh"),
//!     );
//! let mut meter = ModbusSource::new(config)?;
//! let reading = meter.poll().await?; // fields "voltage" and "energy", in map order
//! # Ok(()) }
//! ```
//!
//! The client is tokio-modbus (TCP only). The source connects on its first poll and keeps the
//! connection between polls. A kept connection found broken when a request is sent on it (the
//! device restarted, or closed it while idle) is replaced at once and the request sent again,
//! once, so such a poll still succeeds. A new connection that breaks, or a request that times
//! out, fails the poll; the next poll connects again. A connection attempt that fails makes the following polls wait out a
//! [`Backoff`] (they return [`PollError::WaitingToReconnect`] at once, without touching the
//! network), so a device that is down is not hammered at the poll rate.

pub mod config;
pub mod error;
pub mod plan;

use std::fmt;
use std::io;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::TcpStream;
use tokio_modbus::client::{tcp, Context, Reader};
use tokio_modbus::Slave;

pub use config::{
    parse_reference, ConfigError, DataType, ModbusConfig, Point, RegisterKind, WordOrder,
    MAX_REGISTERS_PER_READ,
};
pub use error::{Exception, PollError, RequestInfo};
pub use plan::PlannedRead;

use crate::backoff::Backoff;
use crate::reading::{Field, Reading, Value};
use plan::PointSlot;

/// A Modbus TCP device polled into readings.
pub struct ModbusSource {
    config: ModbusConfig,
    reads: Vec<PlannedRead>,
    slots: Vec<PointSlot>,
    connection: Option<Context>,
    backoff: Backoff,
    /// After a failed connect: not before this instant, and why it failed.
    reconnect_after: Option<(Instant, String)>,
    /// Connections opened so far.
    connects: u64,
}

impl ModbusSource {
    /// A source for `config`, checked and with its reads planned. Does not connect yet: the
    /// first [`ModbusSource::poll`] does.
    pub fn new(config: ModbusConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (reads, slots) = plan::plan_reads(&config);
        let backoff = Backoff::new(config.backoff_initial, config.backoff_cap);
        Ok(Self {
            config,
            reads,
            slots,
            connection: None,
            backoff,
            reconnect_after: None,
            connects: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModbusConfig {
        &self.config
    }

    /// The requests each poll sends, in order.
    pub fn plan(&self) -> &[PlannedRead] {
        &self.reads
    }

    /// How many requests (round trips) each poll sends.
    pub fn requests_per_poll(&self) -> usize {
        self.reads.len()
    }

    /// Whether a connection is open (it may still turn out broken on the next request).
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// How many connections the source has opened (1 while the first one lasts), for
    /// health reporting.
    pub fn connects(&self) -> u64 {
        self.connects
    }

    /// The wait left before the next connection attempt after a failed one (zero when the
    /// next poll may connect at once).
    pub fn reconnect_in(&self) -> Duration {
        self.reconnect_after
            .as_ref()
            .map(|(after, _)| after.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// Reads every point once: one [`Reading`] named after the source, with one numeric field
    /// per point in configuration order, timed when the last response arrived.
    ///
    /// Any failure fails the whole poll (a reading has all its fields or is not made); see
    /// [`PollError`] for what each kind means for the connection.
    pub async fn poll(&mut self) -> Result<Reading, PollError> {
        let mut responses = Vec::with_capacity(self.reads.len());
        for index in 0..self.reads.len() {
            responses.push(self.read(index).await?);
        }
        let time = SystemTime::now();

        let mut reading = Reading::new(self.config.sensor.clone(), time);
        reading.fields.reserve(self.config.points.len());
        for (point, slot) in self.config.points.iter().zip(&self.slots) {
            let registers = usize::from(point.registers());
            let words = responses
                .get(slot.request)
                .and_then(|words: &Vec<u16>| words.get(slot.offset..slot.offset + registers))
                .unwrap_or_default();
            reading.fields.push(Field {
                channel: point.name.clone(),
                unit: point.unit.clone(),
                value: Value::Number(point.value(words)),
            });
        }
        Ok(reading)
    }

    /// Closes the connection, if one is open; the next poll connects again.
    pub async fn disconnect(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            // Closing a socket the device already dropped fails harmlessly.
            tokio_modbus::client::Client::disconnect(&mut connection)
                .await
                .ok();
        }
    }

    /// Sends request `index` (connecting first if needed) and returns its registers.
    ///
    /// Devices and NAT routers drop idle connections, so a kept connection found broken is
    /// not yet an outage: the request is sent once more, on a new connection.
    async fn read(&mut self, index: usize) -> Result<Vec<u16>, PollError> {
        let reused = self.connection.is_some();
        match self.read_once(index).await {
            Err(PollError::ConnectionLost { .. }) if reused => self.read_once(index).await,
            result => result,
        }
    }

    /// One attempt at [`ModbusSource::read`].
    async fn read_once(&mut self, index: usize) -> Result<Vec<u16>, PollError> {
        let timeout = self.config.timeout;
        let peer = self.config.address.clone();
        let read = self.reads[index].clone();
        let connection = self.connect().await?;
        let response = match read.kind {
            RegisterKind::Holding => {
                tokio::time::timeout(
                    timeout,
                    connection.read_holding_registers(read.start, read.count),
                )
                .await
            }
            RegisterKind::Input => {
                tokio::time::timeout(
                    timeout,
                    connection.read_input_registers(read.start, read.count),
                )
                .await
            }
        };
        let request = || self.describe(index);
        let error = match response {
            Ok(Ok(Ok(words))) if words.len() == usize::from(read.count) => return Ok(words),
            Ok(Ok(Ok(words))) => PollError::Protocol {
                peer,
                request: request(),
                problem: format!("{} registers instead of {}", words.len(), read.count),
            },
            Ok(Ok(Err(exception))) => {
                // A well-formed answer: the connection is fine.
                return Err(PollError::Exception {
                    peer,
                    exception: Exception::from_code(exception.into()),
                    request: request(),
                });
            }
            Ok(Err(tokio_modbus::Error::Transport(io))) => PollError::ConnectionLost {
                peer,
                request: request(),
                kind: lost_kind(&io),
                message: lost_message(&io),
            },
            Ok(Err(tokio_modbus::Error::Protocol(problem))) => PollError::Protocol {
                peer,
                request: request(),
                problem: problem.to_string(),
            },
            Err(_elapsed) => PollError::Timeout {
                peer,
                request: request(),
                timeout,
            },
        };
        // After a broken, late or garbled answer the stream cannot be trusted to be in step.
        self.connection = None;
        Err(error)
    }

    /// The open connection, or a new one; a failed attempt starts (or continues) the back-off.
    async fn connect(&mut self) -> Result<&mut Context, PollError> {
        if self.connection.is_none() {
            let peer = &self.config.address;
            if let Some((after, last)) = &self.reconnect_after {
                let now = Instant::now();
                if now < *after {
                    return Err(PollError::WaitingToReconnect {
                        peer: peer.clone(),
                        retry_in: *after - now,
                        last: last.clone(),
                    });
                }
            }
            match tokio::time::timeout(self.config.timeout, open_stream(peer)).await {
                Ok(Ok(stream)) => {
                    self.connects += 1;
                    self.backoff.reset();
                    self.reconnect_after = None;
                    let unit = Slave(self.config.unit_id);
                    self.connection = Some(tcp::attach_slave(stream, unit));
                }
                failure => {
                    let (kind, message) = match failure {
                        Ok(Err(e)) => (e.kind(), e.to_string()),
                        _ => (
                            io::ErrorKind::TimedOut,
                            format!(
                                "no connection within {} ms",
                                self.config.timeout.as_millis()
                            ),
                        ),
                    };
                    let wait = self.backoff.next_delay();
                    self.reconnect_after = Some((Instant::now() + wait, message.clone()));
                    return Err(PollError::Connect {
                        peer: peer.clone(),
                        kind,
                        message,
                    });
                }
            }
        }
        self.connection.as_mut().ok_or_else(|| PollError::Connect {
            peer: self.config.address.clone(),
            kind: io::ErrorKind::NotConnected,
            message: "not connected".into(),
        })
    }

    fn describe(&self, index: usize) -> RequestInfo {
        let read = self.reads[index].clone();
        let points = read
            .points
            .iter()
            .filter_map(|&i| self.config.points.get(i))
            .map(|point| point.name.to_string())
            .collect();
        RequestInfo { read, points }
    }
}

/// A TCP connection to `peer` (`host:port`, resolved now), trying each address it resolves
/// to. No Nagle delay: every request is one small write that waits for its answer.
async fn open_stream(peer: &str) -> io::Result<TcpStream> {
    let mut last_error = None;
    for address in tokio::net::lookup_host(peer).await? {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("`{peer}` resolves to no address"),
        )
    }))
}

/// tokio-modbus reports a connection the device closed as whatever the last OS error was
/// (often "success" or "would block", neither of which reaches an async caller otherwise):
/// call it what it is.
fn closed_by_peer(error: &io::Error) -> bool {
    error.raw_os_error() == Some(0) || error.kind() == io::ErrorKind::WouldBlock
}

fn lost_kind(error: &io::Error) -> io::ErrorKind {
    if closed_by_peer(error) {
        io::ErrorKind::UnexpectedEof
    } else {
        error.kind()
    }
}

fn lost_message(error: &io::Error) -> String {
    if closed_by_peer(error) {
        "the device closed the connection".into()
    } else {
        error.to_string()
    }
}

impl fmt::Debug for ModbusSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModbusSource")
            .field("sensor", &self.config.sensor)
            .field("address", &self.config.address)
            .field("unit_id", &self.config.unit_id)
            .field("points", &self.config.points.len())
            .field("requests_per_poll", &self.reads.len())
            .field("connected", &self.connection.is_some())
            .finish()
    }
}
