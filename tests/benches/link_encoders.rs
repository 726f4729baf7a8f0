//! What each encoder costs: bytes on the wire per reading and encoding throughput, for a
//! BME280-like reading (3 fields) and an MPU6050-like IMU reading (7 fields), in batches of 1
//! and 64. Values are f32 driver values widened to f64, as `Reading::from_channels` makes
//! them. Prints a table; asserts nothing (numbers are reported, not checked).
//!
//! `cargo bench -p edgewise-tests --bench link_encoders` (or `cargo xtask bench`)

// Benchmarks may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use edgewise_link::encode::{Encoder, JsonEncoder, LineProtocolEncoder, SenmlEncoder};
use edgewise_link::Reading;
use edgewise_sensors::sensor::Channel;
use edgewise_sensors::units::Unit;
use edgewise_tests::bench::ns_per_call;

/// The BME280 driver's channel table.
const BME280: [Channel; 3] = [
    Channel::new("temperature", Unit::Celsius),
    Channel::new("pressure", Unit::Pascal),
    Channel::new("humidity", Unit::RelativeHumidity),
];

/// The MPU6050 driver's channel table.
const MPU6050: [Channel; 7] = [
    Channel::new("accel_x", Unit::MetrePerSecondSquared),
    Channel::new("accel_y", Unit::MetrePerSecondSquared),
    Channel::new("accel_z", Unit::MetrePerSecondSquared),
    Channel::new("gyro_x", Unit::RadianPerSecond),
    Channel::new("gyro_y", Unit::RadianPerSecond),
    Channel::new("gyro_z", Unit::RadianPerSecond),
    Channel::new("temperature", Unit::Celsius),
];

fn time(i: usize) -> std::time::SystemTime {
    // 10 Hz with a few microseconds of jitter: sub-second times, as sampled.
    UNIX_EPOCH + Duration::from_nanos(1_732_550_400_000_000_000 + i as u64 * 100_003_217)
}

fn bme280_batch(len: usize) -> Vec<Reading> {
    (0..len)
        .map(|i| {
            let x = i as f32;
            Reading::from_channels(
                "bme280",
                time(i),
                &BME280,
                &[21.53 + x * 0.01, 101_325.37 - x * 0.13, 40.71 + x * 0.02],
            )
        })
        .collect()
}

/// The IMU reading; the gyro channels go unitless because SenML refuses `rad/s` (not in the
/// SenML units registry), and every encoder should encode the same readings.
fn imu_batch(len: usize) -> Vec<Reading> {
    (0..len)
        .map(|i| {
            let x = i as f32 * 0.001;
            let mut reading = Reading::from_channels(
                "mpu6050",
                time(i),
                &MPU6050,
                &[
                    -0.1234 + x,
                    0.0567 - x,
                    9.8012 + x,
                    0.0123,
                    -0.0045 + x,
                    0.0009,
                    36.53,
                ],
            );
            for field in &mut reading.fields[3..6] {
                field.unit = "".into();
            }
            reading
        })
        .collect()
}

/// Makes a batch of the given length.
type MakeBatch = fn(usize) -> Vec<Reading>;

fn encoders() -> Vec<(&'static str, Box<dyn Encoder>)> {
    vec![
        ("JSON (array)", Box::new(JsonEncoder::new("pi-1"))),
        ("JSON Lines", Box::new(JsonEncoder::lines("pi-1"))),
        ("SenML JSON", Box::new(SenmlEncoder::json("pi-1"))),
        ("SenML CBOR", Box::new(SenmlEncoder::cbor("pi-1"))),
        ("line protocol", Box::new(LineProtocolEncoder::new("pi-1"))),
    ]
}

fn main() {
    println!("\nEncoders: bytes per reading and encoding throughput (device name `pi-1`)");
    println!(
        "{:<17} {:>5} {:<14} {:>13} {:>14} {:>9}",
        "reading", "batch", "encoder", "bytes/reading", "readings/s", "vs JSON"
    );
    let kinds: [(&str, MakeBatch); 2] = [
        ("BME280, 3 fields", bme280_batch),
        ("IMU, 7 fields*", imu_batch),
    ];
    for (kind, make) in kinds {
        for batch_len in [1, 64] {
            let batch = make(batch_len);
            let calls = if batch_len == 1 { 100_000 } else { 2_000 };
            let mut json_rate = None;
            for (name, encoder) in encoders() {
                let mut out = Vec::new();
                encoder.encode(&batch, &mut out).unwrap();
                let bytes_per_reading = out.len() as f64 / batch_len as f64;
                let ns = ns_per_call(calls, |_| {
                    out.clear();
                    encoder.encode(black_box(&batch), &mut out).unwrap();
                    black_box(&out);
                });
                let rate = batch_len as f64 / (ns * 1e-9);
                let relative = rate / *json_rate.get_or_insert(rate);
                println!(
                    "{kind:<17} {batch_len:>5} {name:<14} {bytes_per_reading:>13.1} {rate:>14.0} {relative:>8.2}×"
                );
            }
        }
    }
    let mut driver_units = Reading::from_channels("mpu6050", time(0), &MPU6050, &[0.0; 7]);
    driver_units.fields.truncate(4);
    let refusal = SenmlEncoder::cbor("pi-1")
        .encode(&[driver_units], &mut Vec::new())
        .err()
        .map_or_else(|| "accepted".to_string(), |e| e.to_string());
    println!(
        "* gyro channels unitless in every row; with the driver's units SenML says: {refusal}"
    );
}
