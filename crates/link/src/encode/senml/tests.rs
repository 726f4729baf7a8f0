//! SenML against RFC 8428's own examples (section 5's JSON, section 6's CBOR bytes), exact
//! encodings, round trips and refusals.

use super::*;
use crate::reading::Field;

const NOW_NS: i64 = 1_700_000_000_000_000_000;

fn decode_json(text: &str) -> Vec<Reading> {
    SenmlEncoder::json("unused")
        .decode_at(text.as_bytes(), NOW_NS)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn decode_error(encoder: &SenmlEncoder, bytes: &[u8]) -> DecodeError {
    match encoder.decode_at(bytes, NOW_NS) {
        Ok(readings) => panic!("decoded as {readings:?}"),
        Err(e) => e,
    }
}

fn number(reading: &Reading, index: usize) -> f64 {
    match reading.fields[index].value {
        Value::Number(n) => n,
        ref other => panic!("field {index} is {other:?}"),
    }
}

fn assert_time(reading: &Reading, seconds: f64) {
    let expected = seconds_as_nanos(seconds);
    assert!(
        (reading.time_ns - expected).abs() <= 1_000,
        "time {} ns, expected {expected} ns",
        reading.time_ns
    );
}

fn seconds_as_nanos(seconds: f64) -> i64 {
    (seconds * 1e9).round() as i64
}

// --- RFC 8428 section 5.1 examples --------------------------------------------------------

#[test]
fn rfc_5_1_1_single_data_point_is_now() {
    let readings = decode_json(r#"[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]"#);
    assert_eq!(readings.len(), 1);
    let reading = &readings[0];
    assert_eq!(reading.sensor, "urn:dev:ow:10e2073a01080063");
    assert_eq!(reading.time_ns, NOW_NS, "no time means now");
    assert_eq!(reading.fields[0].channel, "");
    assert_eq!(reading.fields[0].unit, "Cel");
    assert_eq!(number(reading, 0), 23.1);
}

#[test]
fn rfc_5_1_2_multiple_data_points() {
    let readings = decode_json(
        r#"[
  {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
  {"n":"current","u":"A","v":1.2}
]"#,
    );
    let names: Vec<_> = readings.iter().map(|r| r.sensor.as_ref()).collect();
    assert_eq!(
        names,
        [
            "urn:dev:ow:10e2073a01080063:voltage",
            "urn:dev:ow:10e2073a01080063:current"
        ]
    );
    assert_eq!(
        (number(&readings[0], 0), readings[0].fields[0].unit.as_ref()),
        (120.1, "V")
    );
    assert_eq!(
        (number(&readings[1], 0), readings[1].fields[0].unit.as_ref()),
        (1.2, "A")
    );
}

const RFC_5_1_2_WITH_TIMES: &str = r#"[
     {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
      "bu":"A","bver":5,
      "n":"voltage","u":"V","v":120.1},
     {"n":"current","t":-5,"v":1.2},
     {"n":"current","t":-4,"v":1.3},
     {"n":"current","t":-3,"v":1.4},
     {"n":"current","t":-2,"v":1.5},
     {"n":"current","t":-1,"v":1.6},
     {"n":"current","v":1.7}
   ]"#;

#[test]
fn rfc_5_1_2_base_time_base_unit_and_relative_record_times() {
    let readings = decode_json(RFC_5_1_2_WITH_TIMES);
    assert_eq!(readings.len(), 7);
    assert_eq!(readings[0].sensor, "urn:dev:ow:10e2073a0108006:voltage");
    assert_eq!(
        readings[0].fields[0].unit, "V",
        "the record's own unit wins"
    );
    assert_time(&readings[0], 1_276_020_076.001);
    for (i, reading) in readings[1..].iter().enumerate() {
        assert_eq!(reading.sensor, "urn:dev:ow:10e2073a0108006:current");
        assert_eq!(reading.fields[0].unit, "A", "the base unit applies");
        assert_time(reading, 1_276_020_076.001 - 5.0 + i as f64);
        assert_eq!(number(reading, 0), [1.2, 1.3, 1.4, 1.5, 1.6, 1.7][i]);
    }
}

/// Section 6's dump: "the CBOR example for the same sensor measurement as in Section 5.1.2".
const RFC_6_CBOR: &[u8] = &[
    0x87, 0xa7, 0x21, 0x78, 0x1b, 0x75, 0x72, 0x6e, 0x3a, 0x64, 0x65, 0x76, 0x3a, 0x6f, 0x77, 0x3a,
    0x31, 0x30, 0x65, 0x32, 0x30, 0x37, 0x33, 0x61, 0x30, 0x31, 0x30, 0x38, 0x30, 0x30, 0x36, 0x3a,
    0x22, 0xfb, 0x41, 0xd3, 0x03, 0xa1, 0x5b, 0x00, 0x10, 0x62, 0x23, 0x61, 0x41, 0x20, 0x05, 0x00,
    0x67, 0x76, 0x6f, 0x6c, 0x74, 0x61, 0x67, 0x65, 0x01, 0x61, 0x56, 0x02, 0xfb, 0x40, 0x5e, 0x06,
    0x66, 0x66, 0x66, 0x66, 0x66, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06,
    0x24, 0x02, 0xfb, 0x3f, 0xf3, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0xa3, 0x00, 0x67, 0x63, 0x75,
    0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x23, 0x02, 0xfb, 0x3f, 0xf4, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
    0xcd, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x22, 0x02, 0xfb, 0x3f,
    0xf6, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e,
    0x74, 0x06, 0x21, 0x02, 0xf9, 0x3e, 0x00, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e,
    0x74, 0x06, 0x20, 0x02, 0xfb, 0x3f, 0xf9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0xa3, 0x00, 0x67,
    0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x00, 0x02, 0xfb, 0x3f, 0xfb, 0x33, 0x33, 0x33,
    0x33, 0x33, 0x33,
];

#[test]
fn rfc_6_cbor_example_decodes_to_the_same_readings_as_its_json() {
    assert_eq!(RFC_6_CBOR.len(), 0xc3, "the dump is 0xc3 bytes long");
    let from_cbor = SenmlEncoder::cbor("unused")
        .decode_at(RFC_6_CBOR, NOW_NS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_cbor, decode_json(RFC_5_1_2_WITH_TIMES));
    assert_eq!(number(&from_cbor[4], 0), 1.5, "the half float f9 3e 00");
}

#[test]
fn rfc_5_1_3_multiple_measurements_resolve_to_section_5_1_4() {
    let packed = decode_json(
        r#"[
     {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
      "bu":"%RH","v":20},
     {"u":"lon","v":24.30621},
     {"u":"lat","v":60.07965},
     {"t":60,"v":20.3},
     {"u":"lon","t":60,"v":24.30622},
     {"u":"lat","t":60,"v":60.07965},
     {"t":120,"v":20.7},
     {"u":"lon","t":120,"v":24.30623},
     {"u":"lat","t":120,"v":60.07966},
     {"u":"%EL","t":150,"v":98},
     {"t":180,"v":21.2},
     {"u":"lon","t":180,"v":24.30628},
     {"u":"lat","t":180,"v":60.07967}
   ]"#,
    );
    let resolved = decode_json(
        r#"[
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,
      "v":20},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,
      "v":24.30621},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,
      "v":60.07965},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,
      "v":20.3},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,
      "v":24.30622},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,
      "v":60.07965},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,
      "v":20.7},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,
      "v":24.30623},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,
      "v":60.07966},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,
      "v":98},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,
      "v":21.2},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,
      "v":24.30628},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,
      "v":60.07967}
   ]"#,
    );
    assert_eq!(packed, resolved);
    // Grouped by time: the position fixes go with the humidity measured at the same instant.
    let shape: Vec<usize> = packed.iter().map(|r| r.fields.len()).collect();
    assert_eq!(shape, [3, 3, 3, 1, 3]);
    let units: Vec<&str> = packed[0].fields.iter().map(|f| f.unit.as_ref()).collect();
    assert_eq!(units, ["%RH", "lon", "lat"]);
    assert_eq!(packed[3].fields[0].unit, "%EL");
    assert_time(&packed[4], 1_320_067_644.0);
}

#[test]
fn rfc_5_1_5_multiple_data_types_and_the_data_value_a_reading_cannot_hold() {
    let readings = decode_json(
        r#"[
    {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
    {"n":"label","vs":"Machine Room"},
    {"n":"open","vb":false}
  ]"#,
    );
    assert_eq!(
        readings[1].fields[0].value,
        Value::Text("Machine Room".into())
    );
    assert_eq!(readings[2].fields[0].value, Value::Bool(false));
    let e = decode_error(
        &SenmlEncoder::json("d"),
        br#"[{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},{"n":"nfv-reader","vd":"aGkgCg"}]"#,
    );
    assert!(
        e.problem.contains("vd") && e.problem.contains("nfv-reader"),
        "{e}"
    );
    assert_eq!(e.offset, 69, "the offset of the record");
}

#[test]
fn rfc_5_1_6_collection_of_resources_keeps_base_time_across_a_new_base_name() {
    let readings = decode_json(
        r#"[
     {"bn":"2001:db8::2/","bt":1.320078429e+09,
      "n":"temperature","u":"Cel","v":25.2},
     {"n":"humidity","u":"%RH","v":30},
     {"bn":"2001:db8::1/","n":"temperature","u":"Cel","v":12.3},
     {"n":"humidity","u":"%RH","v":67}
   ]"#,
    );
    assert_eq!(readings.len(), 2);
    for (reading, sensor, values) in [
        (&readings[0], "2001:db8::2", [25.2, 30.0]),
        (&readings[1], "2001:db8::1", [12.3, 67.0]),
    ] {
        assert_eq!(reading.sensor, sensor);
        assert_time(reading, 1_320_078_429.0);
        let channels: Vec<_> = reading.fields.iter().map(|f| f.channel.as_ref()).collect();
        assert_eq!(channels, ["temperature", "humidity"]);
        assert_eq!([number(reading, 0), number(reading, 1)], values);
    }
}

#[test]
fn rfc_5_1_7_actuation_examples() {
    // A first record with only a base name sets it for the rest.
    let readings = decode_json(
        r#"[
     {"bn":"urn:dev:ow:10e2073a01080063:"},
     {"n":"temp","u":"Cel","v":23.1},
     {"n":"heat","u":"/","v":1},
     {"n":"fan","u":"/","v":0}
   ]"#,
    );
    let names: Vec<_> = readings.iter().map(|r| r.sensor.as_ref()).collect();
    assert_eq!(
        names,
        [
            "urn:dev:ow:10e2073a01080063:temp",
            "urn:dev:ow:10e2073a01080063:heat",
            "urn:dev:ow:10e2073a01080063:fan"
        ]
    );
    let readings = decode_json(
        r#"[
     {"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":0.5},
     {"n":"2001:db8::4","v":0.5},
     {"n":"2001:db8::3","t":0.1,"v":0},
     {"n":"2001:db8::4","t":0.1,"v":0}
   ]"#,
    );
    assert_eq!(readings.len(), 4);
    assert_eq!(readings[3].sensor, "2001:db8::4");
    assert_eq!(readings[3].fields[0].unit, "/");
    assert_time(&readings[3], 1_320_078_429.1);
    assert_eq!(number(&readings[0], 0), 0.5);
}

// --- Encoding ------------------------------------------------------------------------------

fn bme280() -> Reading {
    Reading {
        sensor: "bme280".into(),
        seq: 4,
        time_ns: 1_732_550_400_250_000_000,
        fields: Vec::new(),
    }
    .with_number("temperature", "Cel", 21.5)
    .with_number("pressure", "Pa", 101_325.0)
    .with_number("humidity", "%RH", 40.25)
}

fn encode(encoder: &SenmlEncoder, batch: &[Reading]) -> Vec<u8> {
    let mut out = Vec::new();
    encoder
        .encode(batch, &mut out)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    out
}

fn encode_json(batch: &[Reading]) -> String {
    String::from_utf8(encode(&SenmlEncoder::json("pi-1"), batch)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn json_records_carry_base_name_base_time_and_one_record_per_field() {
    assert_eq!(
        encode_json(&[bme280()]),
        r#"[{"bn":"pi-1/bme280/","bt":1732550400.25,"n":"temperature","u":"Cel","v":21.5},{"n":"pressure","u":"Pa","v":101325},{"n":"humidity","u":"%RH","v":40.25}]"#
    );
}

#[test]
fn a_unit_shared_by_all_fields_becomes_the_base_unit_and_is_cleared_when_needed() {
    let accel = Reading {
        sensor: "imu".into(),
        seq: 0,
        time_ns: 1_732_550_401_000_000_000,
        fields: Vec::new(),
    }
    .with_number("x", "m/s2", 0.5)
    .with_number("y", "m/s2", -9.75);
    let mixed = Reading {
        time_ns: 1_732_550_402_000_000_000,
        ..accel.clone()
    }
    .with_number("count", "", 3.0);
    let mut mixed_only = mixed.clone();
    mixed_only.fields.drain(..2);
    mixed_only.fields.push(Field {
        channel: "g".into(),
        unit: "m/s2".into(),
        value: Value::Number(1.0),
    });
    let text = encode_json(&[accel.clone(), accel.clone(), mixed_only]);
    assert_eq!(
        text,
        r#"[{"bn":"pi-1/imu/","bt":1732550401,"bu":"m/s2","n":"x","v":0.5},{"n":"y","v":-9.75},{"bn":"pi-1/imu/","bt":1732550401,"n":"x","v":0.5},{"n":"y","v":-9.75},{"bn":"pi-1/imu/","bt":1732550402,"bu":"","n":"count","v":3},{"n":"g","u":"m/s2","v":1}]"#
    );
    // Whatever the encoder left out, resolution gives every field its own unit back.
    for encoder in [SenmlEncoder::json("pi-1"), SenmlEncoder::cbor("pi-1")] {
        let batch = [accel.clone(), mixed.clone(), accel.clone()];
        let decoded = encoder
            .decode_at(&encode(&encoder, &batch), NOW_NS)
            .unwrap_or_else(|e| panic!("{e}"));
        let units: Vec<Vec<&str>> = decoded
            .iter()
            .map(|r| r.fields.iter().map(|f| f.unit.as_ref()).collect())
            .collect();
        assert_eq!(
            units,
            [
                vec!["m/s2", "m/s2"],
                vec!["m/s2", "m/s2", ""],
                vec!["m/s2", "m/s2"]
            ]
        );
    }
}

#[test]
fn cbor_uses_integer_labels_and_the_smallest_exact_numbers() {
    let reading = Reading {
        sensor: "t".into(),
        seq: 0,
        time_ns: 1_073_741_824_000_000_000, // 2^30 s: an integer base time
        fields: Vec::new(),
    }
    .with_number("x", "", 1.5)
    .with_field(Field {
        channel: "on".into(),
        unit: "".into(),
        value: Value::Bool(true),
    })
    .with_field(Field {
        channel: "s".into(),
        unit: "".into(),
        value: Value::Text("hi".into()),
    });
    let mut expected = vec![0x83, 0xa4, 0x21, 0x67];
    expected.extend_from_slice(b"pi-1/t/");
    expected.extend_from_slice(&[0x22, 0x1a, 0x40, 0x00, 0x00, 0x00]); // bt: 2^30
    expected.extend_from_slice(&[0x00, 0x61, b'x', 0x02, 0xf9, 0x3e, 0x00]); // n, v: half 1.5
    expected.extend_from_slice(&[0xa2, 0x00, 0x62, b'o', b'n', 0x04, 0xf5]); // vb: true
    expected.extend_from_slice(&[0xa2, 0x00, 0x61, b's', 0x03, 0x62, b'h', b'i']); // vs
    assert_eq!(encode(&SenmlEncoder::cbor("pi-1"), &[reading]), expected);
}

fn varied_batch() -> Vec<Reading> {
    let at = |ns: i64, sensor: &'static str| Reading {
        sensor: sensor.into(),
        seq: 0,
        time_ns: ns,
        fields: Vec::new(),
    };
    vec![
        bme280(),
        at(1_732_550_400_123_456_000, "mpu-6050")
            .with_number("accel_x", "m/s2", -0.125)
            .with_number("accel_y", "m/s2", 9.806_65)
            .with_number("temperature", "Cel", f64::from(36.53_f32)),
        at(1_732_550_400_999_999_000, "door.north")
            .with_field(Field {
                channel: "open".into(),
                unit: "".into(),
                value: Value::Bool(false),
            })
            .with_field(Field {
                channel: "state".into(),
                unit: "".into(),
                value: Value::Text("ajar \"50%\"\n☃".into()),
            })
            .with_number("count", "count", 1e12)
            .with_number("tiny", "", -3.5e-9),
        at(1_732_550_401_000_000_000, "adc:0").with_number("in_0", "V", -0.000_187_5),
    ]
}

#[test]
fn both_representations_round_trip_names_units_values_and_times() {
    let batch = varied_batch();
    for encoder in [SenmlEncoder::json("pi-1"), SenmlEncoder::cbor("pi-1")] {
        let bytes = encode(&encoder, &batch);
        let decoded = encoder
            .decode_at(&bytes, NOW_NS)
            .unwrap_or_else(|e| panic!("{}: {e}", encoder.content_type()));
        assert_eq!(decoded.len(), batch.len());
        for (got, sent) in decoded.iter().zip(&batch) {
            assert!((got.time_ns - sent.time_ns).abs() <= 1_000, "{got:?}");
            assert_eq!(got.seq, 0);
            assert_eq!(
                Reading {
                    time_ns: sent.time_ns,
                    seq: sent.seq,
                    ..got.clone()
                },
                *sent
            );
        }
    }
}

#[test]
fn cbor_is_smaller_than_json() {
    let batch = varied_batch();
    let json = encode(&SenmlEncoder::json("pi-1"), &batch).len();
    let cbor = encode(&SenmlEncoder::cbor("pi-1"), &batch).len();
    assert!(cbor * 10 < json * 7, "cbor {cbor} bytes, json {json} bytes");
}

#[test]
fn what_senml_cannot_carry_is_refused_with_a_clear_error() {
    let refused = |encoder: SenmlEncoder, batch: Vec<Reading>, needles: &[&str]| {
        let mut out = b"kept".to_vec();
        let message = encoder
            .encode(&batch, &mut out)
            .err()
            .unwrap_or_else(|| panic!("{needles:?}: encoded"))
            .to_string();
        for needle in needles {
            assert!(message.contains(needle), "`{message}` lacks `{needle}`");
        }
        assert_eq!(out, b"kept", "the buffer is left as it was");
    };
    let one = |sensor: &'static str, channel: &'static str, unit: &'static str, value: f64| {
        vec![Reading {
            sensor: sensor.into(),
            seq: 0,
            time_ns: 1_732_550_400_000_000_000,
            fields: Vec::new(),
        }
        .with_number(channel, unit, value)]
    };
    for format in [SenmlEncoder::json, SenmlEncoder::cbor] {
        refused(
            format("pi-1"),
            one("mpu6050", "gyro_x", "rad/s", 0.1),
            &["unit `rad/s`", "registry", "`gyro_x`", "`mpu6050`"],
        );
        refused(format("pi-1"), one("s", "t", "°C", 1.0), &["`°C`"]);
        refused(
            format("pi 1"),
            one("s", "t", "", 1.0),
            &["device name `pi 1`", "` `", "4.5.1"],
        );
        refused(
            format("-pi"),
            one("s", "t", "", 1.0),
            &["must start with a letter or digit"],
        );
        refused(
            format("pi-1"),
            one("a/b", "t", "", 1.0),
            &["sensor name `a/b`", "ambiguous"],
        );
        refused(
            format("pi-1"),
            one("s", "temp°", "", 1.0),
            &["channel name `temp°`", "`°`"],
        );
        refused(format("pi-1"), one("s", "t", "", f64::NAN), &["NaN"]);
        refused(
            format("pi-1"),
            one("s", "t", "", f64::NEG_INFINITY),
            &["-inf"],
        );
        let mut unset_clock = one("s", "t", "", 1.0);
        unset_clock[0].time_ns = 1_000_000_000; // one second after the epoch
        refused(format("pi-1"), unset_clock, &["relative", "clock"]);
    }
    // A device name with `/` is fine: only the sensor and channel must not contain one.
    let encoder = SenmlEncoder::json("site-a/pi-1");
    let decoded = encoder
        .decode_at(&encode(&encoder, &one("s", "t", "", 1.0)), NOW_NS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            decoded[0].sensor.as_ref(),
            decoded[0].fields[0].channel.as_ref()
        ),
        ("s", "t")
    );
}

#[test]
fn decoding_refuses_what_rfc_8428_says_to_refuse() {
    let json = SenmlEncoder::json("d");
    let e = decode_error(&json, br#"[{"n":"a","v":1,"x_":2}]"#);
    assert!(e.problem.contains("`x_`") && e.offset == 21, "{e}");
    let e = decode_error(&json, br#"[{"bver":11,"n":"a","v":1}]"#);
    assert!(e.problem.contains("version 11"), "{e}");
    let e = decode_error(&json, br#"[{"n":"a","v":1,"vb":true}]"#);
    assert!(e.problem.contains("more than one value"), "{e}");
    let e = decode_error(&json, br#"[{"n":"a","s":1}]"#);
    assert!(e.problem.contains("sum"), "{e}");
    let e = decode_error(&json, br#"[{"n":"a b","v":1}]"#);
    assert!(e.problem.contains("4.5.1"), "{e}");
    let e = decode_error(&json, br#"[{"n":"a","v":"1"}]"#);
    assert!(e.problem.contains("v must be a number"), "{e}");
    let e = decode_error(&json, br#"{"n":"a","v":1}"#);
    assert!(e.problem.contains("array"), "{e}");
    // Unknown fields without `_` are ignored.
    assert_eq!(decode_json(r#"[{"n":"a","v":1,"x":[{}],"ut":5}]"#).len(), 1);

    let cbor = SenmlEncoder::cbor("d");
    // [{0: "a", 2: 1, 0: "b"}]
    let e = decode_error(
        &cbor,
        &[0x81, 0xa3, 0x00, 0x61, b'a', 0x02, 0x01, 0x00, 0x61, b'b'],
    );
    assert!(e.problem.contains("twice") && e.offset == 7, "{e}");
    // [{0: "a", 2: 1}] then a stray byte.
    let e = decode_error(&cbor, &[0x81, 0xa2, 0x00, 0x61, b'a', 0x02, 0x01, 0x00]);
    assert!(e.problem.contains("after the end") && e.offset == 7, "{e}");
    // [{0: "a", "x_": 1, 2: 1}]
    let e = decode_error(
        &cbor,
        &[
            0x81, 0xa3, 0x00, 0x61, b'a', 0x62, b'x', b'_', 0x01, 0x02, 0x01,
        ],
    );
    assert!(e.problem.contains("`x_`"), "{e}");
    // Truncated.
    let e = decode_error(&cbor, &RFC_6_CBOR[..100]);
    assert!(e.problem.contains("ends"), "{e}");
    // [{0: "a", 2: 4([-2, 27315])}]: a decimal fraction, 273.15; and an unknown label 99.
    let decoded = cbor
        .decode_at(
            &[
                0x81, 0xa3, 0x00, 0x61, b'a', 0x02, 0xc4, 0x82, 0x21, 0x19, 0x6a, 0xb3, 0x18, 99,
                0xf6,
            ],
            NOW_NS,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(number(&decoded[0], 0), 273.15);
    // An indefinite-length pack (SensML streaming style) is read too.
    let decoded = cbor
        .decode_at(&[0x9f, 0xa2, 0x00, 0x61, b'a', 0x02, 0x01, 0xff], NOW_NS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(number(&decoded[0], 0), 1.0);
}

#[test]
fn content_types_are_the_registered_media_types() {
    assert_eq!(
        SenmlEncoder::json("d").content_type(),
        "application/senml+json"
    );
    assert_eq!(
        SenmlEncoder::cbor("d").content_type(),
        "application/senml+cbor"
    );
}
