//! What one poll of a 20-point Modbus map costs against a real server (pymodbus on
//! 127.0.0.1): requests per poll and polls per second, for the planned reads (adjacent points
//! merged, small gaps read through), for planning without reading through gaps, and for one
//! request per point. The server is Python, so absolute rates say more about it than about
//! us; the ratios show what planning saves. Prints a table; asserts nothing.
//!
//! `cargo bench -p edgewise-tests --bench modbus_poll` (needs `$EDGEWISE_PEERS_PYTHON`, see
//! `tests/modbus_peer.rs`)

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use edgewise_link::modbus::{DataType, ModbusConfig, ModbusSource, Point, RegisterKind, WordOrder};
use edgewise_tests::bench::full_run;
use edgewise_tests::peers::modbus::ModbusServer;

const UNIT: u8 = 1;

/// A three-phase energy meter: twelve f32 measurements in input registers, four 32-bit
/// energy counters and four status words in holding registers, with two unused registers
/// between counters and status.
fn meter_map() -> Vec<(Point, &'static str)> {
    let measurements = [
        ("voltage_l1", "V"),
        ("voltage_l2", "V"),
        ("voltage_l3", "V"),
        ("current_l1", "A"),
        ("current_l2", "A"),
        ("current_l3", "A"),
        ("power_l1", "W"),
        ("power_l2", "W"),
        ("power_l3", "W"),
        ("power", "W"),
        ("frequency", "Hz"),
        ("power_factor", "/"),
    ];
    let mut map: Vec<(Point, &str)> = measurements
        .iter()
        .zip(0u16..)
        .map(|(&(name, unit), i)| {
            let point = Point::new(name, RegisterKind::Input, i * 2, DataType::F32).unit(unit);
            (point, "230.5")
        })
        .collect();
    for (i, name) in (0u16..).zip(["import_l1", "import_l2", "import_l3", "export"]) {
        let point = Point::new(name, RegisterKind::Holding, 100 + i * 2, DataType::U32)
            .word_order(WordOrder::LowWordFirst)
            .scale(0.01)
            .unit("kWh");
        map.push((point, "1234567"));
    }
    for (i, name) in (0u16..).zip(["status", "alarms", "tariff", "errors"]) {
        map.push((
            Point::new(name, RegisterKind::Holding, 110 + i, DataType::U16),
            "3",
        ));
    }
    map
}

fn sources(
    address: &str,
    points: &[Point],
    max_gap: u16,
    one_per_point: bool,
) -> Vec<ModbusSource> {
    let config = |points: Vec<Point>| {
        let mut config = ModbusConfig::new("meter", address.to_string()).max_gap(max_gap);
        config.points = points;
        ModbusSource::new(config).unwrap()
    };
    if one_per_point {
        points
            .iter()
            .map(|point| config(vec![point.clone()]))
            .collect()
    } else {
        vec![config(points.to_vec())]
    }
}

/// Polls every source of a variant once: one poll of the map.
async fn poll_once(sources: &mut [ModbusSource]) {
    for source in sources.iter_mut() {
        std::hint::black_box(source.poll().await.unwrap());
    }
}

/// Seconds per poll of the map for each variant: the median of seven batches of `polls`,
/// the variants' batches interleaved so that drift in the server (a Python process warming
/// up, collecting garbage) hits them alike.
async fn seconds_per_poll(variants: &mut [Vec<ModbusSource>], polls: u32) -> Vec<f64> {
    for sources in variants.iter_mut() {
        poll_once(sources).await; // connect outside the timing
    }
    let mut batches = vec![Vec::new(); variants.len()];
    for _ in 0..7 {
        for (sources, times) in variants.iter_mut().zip(&mut batches) {
            let start = Instant::now();
            for _ in 0..polls {
                poll_once(sources).await;
            }
            times.push(start.elapsed().as_secs_f64() / f64::from(polls));
        }
    }
    batches
        .into_iter()
        .map(|mut times| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        })
        .collect()
}

fn main() {
    let map = meter_map();
    let server = ModbusServer::start(UNIT, &map);
    let points: Vec<Point> = map.into_iter().map(|(point, _)| point).collect();
    let polls = if full_run() { 300 } else { 1 };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let variants = [
        ("planned (max_gap 8, the default)", 8, false),
        ("planned without reading through gaps", 0, false),
        ("one request per point", 0, true),
    ];
    let mut sources: Vec<Vec<ModbusSource>> = variants
        .iter()
        .map(|&(_, max_gap, one_per_point)| {
            sources(&server.address(), &points, max_gap, one_per_point)
        })
        .collect();
    let times = runtime.block_on(seconds_per_poll(&mut sources, polls));

    println!(
        "\nModbus TCP poll of a {}-point map against pymodbus on 127.0.0.1 (median of 7 \
         interleaved batches of {polls} polls)",
        points.len()
    );
    println!(
        "{:<40} {:>14} {:>9} {:>9} {:>12}",
        "plan", "requests/poll", "polls/s", "ms/poll", "time vs plan"
    );
    for (((name, _, _), sources), seconds) in variants.iter().zip(&sources).zip(&times) {
        let requests: usize = sources.iter().map(ModbusSource::requests_per_poll).sum();
        println!(
            "{name:<40} {requests:>14} {:>9.0} {:>9.3} {:>11.2}x",
            1.0 / seconds,
            seconds * 1e3,
            seconds / times[0]
        );
    }
}
