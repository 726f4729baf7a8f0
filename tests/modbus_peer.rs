//! The Modbus TCP source against a real Modbus server: pymodbus (< 4) on 127.0.0.1, holding
//! register contents packed by Python's `struct`, cross-checked with mbpoll.
//!
//! Needs `$EDGEWISE_PEERS_PYTHON` (a Python with pymodbus<4) and `mbpoll` on PATH; `cargo xtask
//! test` provides both.

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, SystemTime};

use edgewise_link::modbus::{
    DataType, Exception, ModbusConfig, ModbusSource, Point, PollError, RegisterKind, WordOrder,
};
use edgewise_link::reading::{unix_nanos, Value};
use edgewise_tests::peers::free_tcp_port;
use edgewise_tests::peers::modbus::{mbpoll_32bit, mbpoll_registers, ModbusServer};

use DataType::*;
use RegisterKind::*;
use WordOrder::*;

const UNIT: u8 = 17;

/// Every data type, both word orders for the 32-bit ones, scaling, both register kinds, with
/// the engineering value the server stores for each point.
fn meter_map() -> Vec<(Point, &'static str)> {
    let p = Point::new;
    vec![
        (p("count", Holding, 0, U16), "51234"),
        (
            p("temperature", Holding, 1, I16).scale(0.1).unit("Cel"),
            "-1234",
        ),
        (p("serial", Holding, 2, U32), "305419896"),
        (
            p("energy", Holding, 4, U32)
                .word_order(LowWordFirst)
                .scale(0.001)
                .unit("kWh"),
            "3000000000",
        ),
        (p("position", Holding, 6, I32), "-123456789"),
        (
            p("balance", Holding, 8, I32)
                .word_order(LowWordFirst)
                .scale(0.5)
                .offset(100.0),
            "-2",
        ),
        (p("voltage", Holding, 10, F32).unit("V"), "230.125"),
        (
            p("current", Holding, 12, F32)
                .word_order(LowWordFirst)
                .unit("A"),
            "-12.625",
        ),
        // Six unused registers before it: read through (max_gap 8), no extra request.
        (p("status", Holding, 20, U16), "7"),
        (
            p("frequency", Input, 0, F32)
                .word_order(LowWordFirst)
                .unit("Hz"),
            "49.98",
        ),
        (p("pressure_delta", Input, 2, I16).unit("Pa"), "-32768"),
        (
            p("humidity", Input, 3, U16)
                .scale(0.01)
                .offset(-10.0)
                .unit("%RH"),
            "4321",
        ),
        (p("power", Input, 4, F32).unit("W"), "-1500.5"),
        // 34 unused registers before it: a request of its own.
        (p("flow", Input, 40, I32).word_order(LowWordFirst), "-70000"),
    ]
}

fn source(name: &'static str, address: String, points: &[(Point, &str)]) -> ModbusSource {
    let mut config = ModbusConfig::new(name, address).unit_id(UNIT);
    config.points = points.iter().map(|(point, _)| point.clone()).collect();
    ModbusSource::new(config).unwrap_or_else(|e| panic!("{e}"))
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test]
async fn every_type_and_word_order_decodes_to_what_python_struct_packed() {
    let map = meter_map();
    let server = ModbusServer::start(UNIT, &map);
    let mut meter = source("meter", server.address(), &map);

    let spans: Vec<_> = meter
        .plan()
        .iter()
        .map(|r| (r.kind, r.start, r.count))
        .collect();
    assert_eq!(spans, [(Holding, 0, 21), (Input, 0, 6), (Input, 40, 2)]);
    assert_eq!(meter.requests_per_poll(), 3);

    let before = unix_nanos(SystemTime::now());
    let reading = meter.poll().await.unwrap_or_else(|e| panic!("poll: {e}"));
    let after = unix_nanos(SystemTime::now());
    assert_eq!(reading.sensor, "meter");
    assert!(before <= reading.time_ns && reading.time_ns <= after);
    assert_eq!(reading.fields.len(), map.len());
    for ((point, stored), field) in map.iter().zip(&reading.fields) {
        assert_eq!(field.channel, point.name);
        assert_eq!(field.unit, point.unit);
        // Exact: the same IEEE operations (f32 widened, times scale, plus offset) as Python's.
        assert_eq!(
            number(&field.value),
            server.expected(&point.name),
            "point {} (stored {stored})",
            point.name
        );
    }

    // mbpoll, an independent master, sees the registers the script says it stored at the
    // addresses we read...
    for kind in [Holding, Input] {
        let stored = server.registers(kind);
        let count = u16::try_from(stored.len()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            mbpoll_registers(server.port(), UNIT, kind, 0, count),
            stored,
            "{kind}"
        );
    }
    // ...and decodes the unscaled 32-bit values as we do, in both word orders.
    for ((point, _), field) in map.iter().zip(&reading.fields) {
        if point.registers() != 2 || point.scale != 1.0 || point.offset != 0.0 {
            continue;
        }
        let theirs = mbpoll_32bit(
            server.port(),
            UNIT,
            point.kind,
            point.address,
            point.data_type,
            point.word_order,
        );
        let ours = number(&field.value);
        // mbpoll prints six significant digits.
        assert!(
            (ours - theirs).abs() <= ours.abs() * 1e-5,
            "point {}: ours {ours}, mbpoll {theirs}",
            point.name
        );
    }
}

#[tokio::test]
async fn an_unmapped_address_is_an_illegal_data_address_naming_the_point() {
    // The server holds holding registers 0-3 only.
    let stored = [
        (Point::new("a", Holding, 0, U16), "1"),
        (Point::new("b", Holding, 3, U16), "2"),
    ];
    let server = ModbusServer::start(UNIT, &stored);

    let map = [
        (Point::new("a", Holding, 0, U16), ""),
        (Point::new("missing", Holding, 5000, F32), ""),
    ];
    let mut plc = source("plc", server.address(), &map);
    for _ in 0..2 {
        match plc.poll().await {
            Err(
                ref error @ PollError::Exception {
                    exception: Exception::IllegalDataAddress,
                    ref request,
                    ..
                },
            ) => {
                assert_eq!(request.points, ["missing"]);
                assert_eq!((request.read.start, request.read.count), (5000, 2));
                let message = error.to_string();
                assert!(
                    message.contains("illegal data address (exception 0x02)")
                        && message.contains("holding registers 5000-5001 (45001-45002")
                        && message.contains("point missing"),
                    "{message}"
                );
                assert!(!error.is_transient());
            }
            other => panic!("expected illegal data address, got {other:?}"),
        }
        // An exception is a well-formed answer: the connection stays.
        assert!(plc.is_connected());
        assert_eq!(plc.connects(), 1);
    }

    // Reading through unused registers past the end of the device's map: the error says so.
    let map = [
        (Point::new("a", Holding, 0, U16), ""),
        (Point::new("beyond", Holding, 6, U16), ""),
    ];
    let mut gappy = source("gappy", server.address(), &map);
    let message = gappy
        .poll()
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("illegal data address")
            && message.contains("points a, beyond")
            && message.contains("unused registers 1-5")
            && message.contains("set max_gap = 0"),
        "{message}"
    );
}

#[tokio::test]
async fn a_dead_port_is_a_connection_error_and_the_next_poll_waits_out_the_backoff() {
    let address = format!("127.0.0.1:{}", free_tcp_port());
    let config = ModbusConfig::new("nobody", address.clone())
        .backoff(Duration::from_secs(60), Duration::from_secs(600))
        .point(Point::new("x", Holding, 0, U16));
    let mut source = ModbusSource::new(config).unwrap_or_else(|e| panic!("{e}"));

    match source.poll().await {
        Err(PollError::Connect {
            peer,
            kind,
            message,
        }) => {
            assert_eq!(peer, address);
            assert_eq!(kind, std::io::ErrorKind::ConnectionRefused, "{message}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    match source.poll().await {
        Err(error @ PollError::WaitingToReconnect { .. }) => {
            assert!(error.to_string().contains("refused"), "{error}");
            assert!(error.is_transient());
        }
        other => panic!("expected to wait out the back-off, got {other:?}"),
    }
    assert!(source.reconnect_in() > Duration::from_secs(1));
    assert_eq!(source.connects(), 0);
}

#[tokio::test]
async fn after_the_server_restarts_the_next_poll_reconnects() {
    let map = [
        (Point::new("voltage", Input, 0, F32).unit("V"), "229.5"),
        (
            Point::new("energy", Holding, 0, U32).word_order(LowWordFirst),
            "123456",
        ),
    ];
    let mut server = ModbusServer::start(UNIT, &map);
    let mut meter = source("meter", server.address(), &map);
    let first = meter
        .poll()
        .await
        .unwrap_or_else(|e| panic!("first poll: {e}"));
    assert_eq!(number(&first.fields[0].value), server.expected("voltage"));

    server.restart();
    // The kept connection died with the old server; the poll replaces it and still succeeds.
    let second = meter
        .poll()
        .await
        .unwrap_or_else(|e| panic!("poll after the restart: {e}"));
    assert_eq!(meter.connects(), 2);
    assert_eq!(number(&second.fields[0].value), server.expected("voltage"));
    assert_eq!(number(&second.fields[1].value), server.expected("energy"));
    assert!(second.time_ns > first.time_ns);
}

#[tokio::test]
async fn a_device_that_never_answers_times_out_and_the_connection_is_dropped() {
    // A socket that accepts connections (the kernel completes them) and never replies.
    let silent = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| panic!("{e}"));
    let address = silent
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let config = ModbusConfig::new("mute", address)
        .timeout(Duration::from_millis(200))
        .point(Point::new("x", Input, 7, U16));
    let mut source = ModbusSource::new(config).unwrap_or_else(|e| panic!("{e}"));
    match source.poll().await {
        Err(error @ PollError::Timeout { .. }) => {
            assert!(
                error
                    .to_string()
                    .contains("no answer within 200 ms to read of input registers 7-7"),
                "{error}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(!source.is_connected());
}
