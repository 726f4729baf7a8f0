//! Encoding allocates nothing but the caller's buffer: with a buffer that already has the
//! room, a batch of 64 readings is encoded without a single allocation, by every encoder. A
//! counting global allocator watches every call on this thread.

// A global allocator can only be written with `unsafe` (GlobalAlloc is an unsafe trait); this
// one forwards to the system allocator unchanged and only counts.
#![allow(unsafe_code)]
// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use edgewise_link::encode::{Encoder, JsonEncoder, LineProtocolEncoder, SenmlEncoder};
use edgewise_link::{Field, Reading, Value};

struct CountingAllocator;

thread_local! {
    // Per thread: the test harness allocates on its own threads meanwhile.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s
// guarantees carry over; counting touches only a const-initialised thread-local Cell.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations made on this thread while `f` runs.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// 64 readings of every value type: BME280-like, IMU-like with a shared unit, and a door with
/// a boolean, a string and a unitless count; times with sub-second parts.
fn batch() -> Vec<Reading> {
    (0..64u32)
        .map(|i| {
            let time_ns = 1_732_550_400_000_000_000 + i64::from(i) * 250_123_456;
            let reading = Reading {
                sensor: "bme280".into(),
                seq: u64::from(i),
                time_ns,
                fields: Vec::new(),
            };
            let x = f64::from(i);
            match i % 3 {
                0 => reading
                    .with_number("temperature", "Cel", 21.5 + x / 16.0)
                    .with_number("pressure", "Pa", 101_325.0 - x * 3.25)
                    .with_number("humidity", "%RH", 40.0 + x / 7.0),
                1 => Reading {
                    sensor: "mpu6050".into(),
                    ..reading
                }
                .with_number("accel_x", "m/s2", -0.125 * x)
                .with_number("accel_y", "m/s2", 0.061)
                .with_number("accel_z", "m/s2", 9.806_65),
                _ => Reading {
                    sensor: "door".into(),
                    ..reading
                }
                .with_field(Field {
                    channel: "open".into(),
                    unit: "".into(),
                    value: Value::Bool(i % 2 == 0),
                })
                .with_field(Field {
                    channel: "state".into(),
                    unit: "".into(),
                    value: Value::Text("ajar \"a bit\"".into()),
                })
                .with_number("openings", "count", x),
            }
        })
        .collect()
}

#[test]
fn encoding_a_batch_into_a_buffer_with_room_allocates_nothing() {
    let batch = batch();
    let encoders: Vec<Box<dyn Encoder>> = vec![
        Box::new(JsonEncoder::new("pi-1")),
        Box::new(JsonEncoder::lines("pi-1")),
        Box::new(SenmlEncoder::json("pi-1")),
        Box::new(SenmlEncoder::cbor("pi-1")),
        Box::new(LineProtocolEncoder::new("pi-1")),
    ];
    for encoder in &encoders {
        // Learn the size, then give a buffer exactly that much room.
        let mut sizing = Vec::new();
        encoder
            .encode(&batch, &mut sizing)
            .unwrap_or_else(|e| panic!("{}: {e}", encoder.content_type()));
        let mut out = Vec::with_capacity(sizing.len());
        let mut result = Ok(());
        let allocations = allocations_during(|| result = encoder.encode(&batch, &mut out));
        result.unwrap_or_else(|e| panic!("{}: {e}", encoder.content_type()));
        assert_eq!(
            out,
            sizing,
            "{}: the same bytes again",
            encoder.content_type()
        );
        assert_eq!(
            allocations,
            0,
            "{} allocated while encoding {} readings ({} bytes)",
            encoder.content_type(),
            batch.len(),
            out.len()
        );
    }
}

#[test]
fn the_counter_sees_an_allocation() {
    // Guards the test above against a counter that never counts.
    let allocations = allocations_during(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert!(allocations >= 1);
}
