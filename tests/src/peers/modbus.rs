//! A pymodbus Modbus TCP server with known register contents (`tests/peers/modbus_server.py`)
//! and mbpoll, an independent Modbus master, to read it back.
//!
//! The server packs each point's engineering value into registers with Python's `struct` and
//! reports what it stored and the value each point decodes to, so tests compare against
//! values computed outside the code under test.

use std::collections::HashMap;
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use edgewise_link::modbus::{DataType, Point, RegisterKind, WordOrder};

use super::{free_tcp_port, peers_python, scratch_dir, PeerProcess};

/// A running pymodbus server holding a set of points.
#[derive(Debug)]
pub struct ModbusServer {
    process: PeerProcess,
    port: u16,
    arguments: Vec<String>,
    expect_file: PathBuf,
    expected: HashMap<String, f64>,
    registers: HashMap<RegisterKind, Vec<u16>>,
    _dir: tempfile::TempDir,
}

impl ModbusServer {
    /// Starts a server on a free port answering unit `unit_id`, holding each point's
    /// `value` (its engineering value before scaling, as Python would write it: `-1234`,
    /// `21.375`). Points must not share registers.
    pub fn start(unit_id: u8, points: &[(Point, &str)]) -> Self {
        let dir = scratch_dir("modbus");
        let expect_file = dir.path().join("expect.txt");
        let port = free_tcp_port();
        let mut arguments = vec![
            port.to_string(),
            unit_id.to_string(),
            expect_file.display().to_string(),
        ];
        arguments.extend(points.iter().map(|(point, value)| {
            format!(
                "{},{},{},{},{},{value},{},{}",
                point.name,
                point.kind,
                point.address,
                point.data_type,
                point.word_order,
                point.scale,
                point.offset
            )
        }));
        let process = spawn(&arguments);
        let mut server = Self {
            process,
            port,
            arguments,
            expect_file,
            expected: HashMap::new(),
            registers: HashMap::new(),
            _dir: dir,
        };
        server.wait_until_serving();
        server.read_expectations();
        server
    }

    /// Where it listens, as `host:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The value point `name` decodes to by Python's `struct`, scaled.
    pub fn expected(&self, name: &str) -> f64 {
        *self
            .expected
            .get(name)
            .unwrap_or_else(|| panic!("the server reported no value for point `{name}`"))
    }

    /// The registers of `kind` the server holds, from protocol address 0.
    pub fn registers(&self, kind: RegisterKind) -> &[u16] {
        self.registers.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Kills the server (connections drop) and starts it again on the same port with the
    /// same contents.
    pub fn restart(&mut self) {
        self.process.kill();
        std::fs::remove_file(&self.expect_file).ok();
        self.process = spawn(&self.arguments);
        self.wait_until_serving();
    }

    fn wait_until_serving(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            assert!(
                self.process.is_running(),
                "the pymodbus server exited (its error is above); arguments {:?}",
                self.arguments
            );
            if self.expect_file.is_file()
                && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the pymodbus server did not listen on port {} within 30 s",
            self.port
        );
    }

    fn read_expectations(&mut self) {
        let text = std::fs::read_to_string(&self.expect_file)
            .unwrap_or_else(|e| panic!("{}: {e}", self.expect_file.display()));
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["registers", kind, "0", values @ ..] => {
                    let kind: RegisterKind = kind.parse().unwrap_or_else(|e| panic!("{e}"));
                    let values = values.iter().map(|v| parse(v, line)).collect();
                    self.registers.insert(kind, values);
                }
                ["expect", name, value] => {
                    self.expected.insert(name.to_string(), parse(value, line));
                }
                _ => panic!("unexpected line from the modbus server: {line:?}"),
            }
        }
    }
}

fn spawn(arguments: &[String]) -> PeerProcess {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/modbus_server.py");
    let mut command = Command::new(peers_python());
    command.arg(script).args(arguments);
    PeerProcess::spawn("pymodbus server", command)
}

fn parse<T: std::str::FromStr>(text: &str, line: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .unwrap_or_else(|e| panic!("`{text}` in {line:?}: {e}"))
}

fn mbpoll() -> PathBuf {
    crate::require_program("mbpoll", "apt-get install mbpoll")
}

/// Runs mbpoll once against 127.0.0.1:`port` with PDU (0-based) addressing and returns the
/// value column of its output, one entry per value read.
fn run_mbpoll(
    port: u16,
    unit_id: u8,
    table: &str,
    start: u16,
    count: u16,
    extra: &[&str],
) -> Vec<String> {
    let mut command = Command::new(mbpoll());
    command
        .args(["-m", "tcp", "-0", "-1", "-o", "5"])
        .args(extra);
    command.args(["-a", &unit_id.to_string(), "-p", &port.to_string()]);
    command.args([
        "-r",
        &start.to_string(),
        "-c",
        &count.to_string(),
        "-t",
        table,
    ]);
    let output = command
        .arg("127.0.0.1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{command:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Value lines look like `[12]: \t64302 (-1234)`.
    let values: Vec<String> = stdout
        .lines()
        .filter(|line| line.starts_with('['))
        .filter_map(|line| line.split_once("]:"))
        .filter_map(|(_, value)| value.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(values.len(), usize::from(count), "mbpoll printed: {stdout}");
    values
}

fn table(kind: RegisterKind) -> &'static str {
    match kind {
        RegisterKind::Holding => "4",
        RegisterKind::Input => "3",
    }
}

/// `count` registers of `kind` from protocol address `start`, as mbpoll reads them.
pub fn mbpoll_registers(
    port: u16,
    unit_id: u8,
    kind: RegisterKind,
    start: u16,
    count: u16,
) -> Vec<u16> {
    run_mbpoll(port, unit_id, table(kind), start, count, &[])
        .iter()
        .map(|value| parse(value, "mbpoll output"))
        .collect()
}

/// The 32-bit value (`i32`, `u32` or `f32`) at `address`, decoded by mbpoll in `order`.
/// mbpoll prints floats to six significant digits and integers as signed.
pub fn mbpoll_32bit(
    port: u16,
    unit_id: u8,
    kind: RegisterKind,
    address: u16,
    data_type: DataType,
    order: WordOrder,
) -> f64 {
    let suffix = match data_type {
        DataType::F32 => "float",
        DataType::I32 | DataType::U32 => "int",
        DataType::U16 | DataType::I16 => panic!("mbpoll_32bit: {data_type} is not 32-bit"),
    };
    let table = format!("{}:{suffix}", table(kind));
    // mbpoll's default is low word first (CDAB); -B asks for high word first.
    let order_flag: &[&str] = match order {
        WordOrder::HighWordFirst => &["-B"],
        WordOrder::LowWordFirst => &[],
    };
    let values = run_mbpoll(port, unit_id, &table, address, 1, order_flag);
    let value: f64 = parse(&values[0], "mbpoll output");
    if data_type == DataType::U32 && value < 0.0 {
        value + 4_294_967_296.0
    } else {
        value
    }
}
