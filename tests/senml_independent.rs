//! SenML as another implementation reads it: a varied batch is encoded as SenML CBOR and SenML
//! JSON, then decoded by Python (cbor2 for CBOR, the standard json module for JSON) with a
//! small script that resolves the base fields as RFC 8428 section 4.6 says
//! (`scripts/senml_resolve.py`). The resolved records must be exactly the input: names,
//! units, values (bit for bit) and times (within 1 µs).
//!
//! Needs the peers Python with cbor2 (`$EDGEWISE_PEERS_PYTHON`, set by `cargo xtask test`).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use edgewise_link::encode::{Encoder, SenmlEncoder};
use edgewise_link::{Field, Reading, Value};
use edgewise_tests::peers;
use serde_json::Value as Json;

const RESOLVER: &str = include_str!("scripts/senml_resolve.py");
const DEVICE: &str = "pi-1";

fn text(channel: &'static str, value: &'static str) -> Field {
    Field {
        channel: channel.into(),
        unit: "".into(),
        value: Value::Text(value.into()),
    }
}

fn flag(channel: &'static str, value: bool) -> Field {
    Field {
        channel: channel.into(),
        unit: "".into(),
        value: Value::Bool(value),
    }
}

/// Several sensors, units shared and mixed and absent, every value type, negative and
/// fractional numbers, sub-second times.
fn varied_batch() -> Vec<Reading> {
    let at = |time_ns: i64, sensor: &'static str| Reading {
        sensor: sensor.into(),
        seq: 0,
        time_ns,
        fields: Vec::new(),
    };
    vec![
        at(1_732_550_400_123_456_789, "bme280")
            .with_number("temperature", "Cel", f64::from(-12.37_f32))
            .with_number("pressure", "Pa", 101_325.0)
            .with_number("humidity", "%RH", 40.25),
        // One shared unit: written as a base unit.
        at(1_732_550_400_500_000_000, "mpu6050")
            .with_number("accel_x", "m/s2", -0.125)
            .with_number("accel_y", "m/s2", 0.061_035_156_25)
            .with_number("accel_z", "m/s2", 9.806_65),
        // Mixed with unitless fields right after a base unit: the base unit must be cleared.
        at(1_732_550_400_999_999_001, "mpu6050")
            .with_number("accel_x", "m/s2", 1e-9)
            .with_number("samples", "", 128.0)
            .with_field(flag("saturated", false)),
        at(1_732_550_401_000_000_000, "door.north")
            .with_field(flag("open", true))
            .with_field(text("state", "ajar \"50%\" \\ ☃\nnext"))
            .with_number("openings", "count", 1e12),
        at(1_732_550_401_333_333_333, "adc:0")
            .with_number("in_0", "V", -0.000_187_5)
            .with_number("in_1", "V", -0.0)
            .with_number("power", "W", 1.0 / 3.0),
        at(1_732_550_402_000_000_000, "classifier")
            .with_field(text("label", "bearing_wear"))
            .with_number("score", "", 0.987_654_321),
    ]
}

/// The records the RFC's resolution should give, in order.
fn expected_records(batch: &[Reading]) -> Vec<(String, &str, &Value, f64)> {
    batch
        .iter()
        .flat_map(|reading| {
            reading.fields.iter().map(move |field| {
                (
                    format!("{DEVICE}/{}/{}", reading.sensor, field.channel),
                    field.unit.as_ref(),
                    &field.value,
                    reading.time_ns as f64 / 1e9,
                )
            })
        })
        .collect()
}

/// Runs the resolver on `bytes` and returns its records.
fn resolve_in_python(kind: &str, bytes: &[u8]) -> Vec<Json> {
    let python = peers::peers_python();
    let check = Command::new(&python)
        .args(["-c", "import cbor2"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        check.status.success(),
        "{} has no cbor2 ({}): `{} -m pip install cbor2`, or run through `cargo xtask test`",
        python.display(),
        String::from_utf8_lossy(&check.stderr).trim(),
        python.display()
    );
    let dir = peers::scratch_dir("senml-independent");
    let pack = dir.path().join(format!("pack.{kind}"));
    let script = dir.path().join("senml_resolve.py");
    std::fs::write(&pack, bytes).unwrap_or_else(|e| panic!("write {}: {e}", pack.display()));
    std::fs::write(&script, RESOLVER).unwrap_or_else(|e| panic!("write {}: {e}", script.display()));
    let output = Command::new(&python)
        .arg(&script)
        .arg(kind)
        .arg(&pack)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "the resolver failed on the {kind} pack: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout) {
        Ok(Json::Array(records)) => records,
        other => panic!(
            "the resolver printed {other:?}: {}",
            String::from_utf8_lossy(&output.stdout)
        ),
    }
}

fn check_against_input(kind: &str, records: &[Json], batch: &[Reading]) {
    let expected = expected_records(batch);
    assert_eq!(records.len(), expected.len(), "{kind}: {records:?}");
    for (record, (name, unit, value, seconds)) in records.iter().zip(expected) {
        let context = format!("{kind}: {record} for {name}");
        assert_eq!(record["n"].as_str(), Some(name.as_str()), "{context}");
        let resolved_unit = record.get("u").and_then(Json::as_str).unwrap_or("");
        assert_eq!(resolved_unit, unit, "{context}");
        match value {
            Value::Number(number) => {
                let read = record["v"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{context}: no v"));
                assert_eq!(
                    read.to_bits(),
                    number.to_bits(),
                    "{context}: {read} vs {number}"
                );
            }
            Value::Bool(flag) => assert_eq!(record["vb"].as_bool(), Some(*flag), "{context}"),
            Value::Text(text) => {
                assert_eq!(record["vs"].as_str(), Some(text.as_ref()), "{context}")
            }
        }
        let time = record["t"]
            .as_f64()
            .unwrap_or_else(|| panic!("{context}: no t"));
        assert!(
            (time - seconds).abs() < 1e-6,
            "{context}: t {time} vs {seconds}"
        );
    }
}

#[test]
fn senml_cbor_resolved_by_cbor2_is_the_input() {
    let batch = varied_batch();
    let mut bytes = Vec::new();
    SenmlEncoder::cbor(DEVICE)
        .encode(&batch, &mut bytes)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    check_against_input("cbor", &resolve_in_python("cbor", &bytes), &batch);
}

#[test]
fn senml_json_resolved_by_pythons_json_is_the_input() {
    let batch = varied_batch();
    let mut bytes = Vec::new();
    SenmlEncoder::json(DEVICE)
        .encode(&batch, &mut bytes)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    check_against_input("json", &resolve_in_python("json", &bytes), &batch);
}
