//! The MPU-6050/6500 driver against the register-level devsim chip: values across ranges and
//! orientations, the datasheet's waits, 1 kHz FIFO streaming on the virtual clock, the machine
//! vibration's spectrum, overflow loss reports checked against what the chip dropped, and every
//! injected fault with recovery afterwards.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::TAU;
use std::time::Duration;

use edgewise_devsim::mpu6050::Mpu6050Model;
use edgewise_devsim::vibration::{BearingGeometry, Harmonic, MachineVibration, MechanicalFault, G};
use edgewise_devsim::{Device, Fault, SimClock, SimDelay, SimI2cBus, Times};
use edgewise_sensors::mpu6050::{
    AccelRange, Address, Config, Error, Field, GyroRange, Mpu6050, Mpu6050Async, Sample,
    SingleRead, Variant,
};
use edgewise_sensors::units::Quantity;
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};

const ADDR: u8 = 0x68;
const FS: f64 = 1000.0;

struct Rig {
    bus: SimI2cBus,
    chip: Device<Mpu6050Model>,
    imu: Mpu6050<SimI2cBus>,
    delay: SimDelay,
}

impl Rig {
    fn new(model: Mpu6050Model, config: Config) -> Self {
        let bus = SimI2cBus::new(SimClock::virtual_clock());
        let chip = bus.attach(ADDR, model);
        let delay = bus.clock().delay();
        let mut imu = Mpu6050::new(bus.clone(), Address::Ad0Low, config);
        imu.init(&mut delay.clone())
            .expect("init on a healthy simulated chip");
        Self {
            bus,
            chip,
            imu,
            delay,
        }
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.bus.clock().now_ns())
    }

    fn measure(&mut self) -> Result<Sample, Error<ErrorKind>> {
        self.imu.measure(&mut self.delay)
    }

    fn drain(&mut self, out: &mut [Sample]) -> Result<usize, Error<ErrorKind>> {
        let now = self.now();
        self.imu.read_fifo(now, out).map(|batch| batch.samples)
    }

    /// `n` consecutive samples from the FIFO, draining every `batch_ms`.
    fn stream(&mut self, n: usize, batch_ms: u32) -> Vec<Sample> {
        let now = self.now();
        self.imu.start_fifo(now).unwrap();
        let mut out = vec![Sample::default(); 128];
        let mut samples = Vec::with_capacity(n);
        while samples.len() < n {
            self.delay.delay_ms(batch_ms);
            let got = self.drain(&mut out).unwrap();
            samples.extend_from_slice(&out[..got]);
        }
        samples.truncate(n);
        samples
    }
}

fn vibrating(machine: MachineVibration) -> Mpu6050Model {
    Mpu6050Model::mpu6050().with_vibration(machine)
}

/// Peak amplitude of the component at `f` Hz (a single-frequency DFT).
fn amplitude_at(xs: &[f64], f: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, x) in xs.iter().enumerate() {
        let phase = TAU * f * n as f64 / FS;
        re += x * phase.cos();
        im -= x * phase.sin();
    }
    2.0 * (re * re + im * im).sqrt() / xs.len() as f64
}

fn axis(samples: &[Sample], axis: usize) -> Vec<f64> {
    samples
        .iter()
        .map(|s| f64::from(s.acceleration[axis].value()))
        .collect()
}

#[test]
fn gravity_reads_back_in_every_orientation_and_range() {
    // Tilted 30° about Y, and upside down; every range.
    let orientations = [[0.5, 0.0, 0.866_025], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]];
    for gravity in orientations {
        for (range, lsb_per_g) in [
            (AccelRange::G2, 16_384.0),
            (AccelRange::G4, 8_192.0),
            (AccelRange::G8, 4_096.0),
            (AccelRange::G16, 2_048.0),
        ] {
            let config = Config {
                accel_range: range,
                ..Config::vibration_1khz()
            };
            let mut rig = Rig::new(vibrating(MachineVibration::at_rest(gravity)), config);
            let sample = rig.measure().unwrap();
            for axis in 0..3 {
                let expected = gravity[axis] * G;
                let got = f64::from(sample.acceleration[axis].value());
                // Quantisation: half an LSB.
                assert!(
                    (got - expected).abs() <= 0.5 * G / lsb_per_g + 1e-6,
                    "{range:?} {gravity:?} axis {axis}: {got} vs {expected}"
                );
            }
            assert!((sample.temperature.unwrap().celsius() - 25.0).abs() < 0.01);
        }
    }
}

#[test]
fn out_of_range_values_saturate_at_full_scale() {
    let mut machine = MachineVibration::at_rest([0.0, 0.0, 3.0]);
    machine.rocking = [0.0; 3];
    let mut rig = Rig::new(vibrating(machine), Config::vibration_1khz());
    // 3 g at ±2 g: the ADC clips at 32767 LSB, just under 2 g.
    let z = rig.measure().unwrap().acceleration[2].value();
    assert!((f64::from(z) - 32_767.0 / 16_384.0 * G).abs() < 1e-3, "{z}");
    rig.imu
        .set_config(Config {
            accel_range: AccelRange::G4,
            ..Config::vibration_1khz()
        })
        .unwrap();
    rig.delay.delay_ms(2);
    let z = rig.measure().unwrap().acceleration[2].value();
    assert!((f64::from(z) - 3.0 * G).abs() < 0.01, "{z}");
}

#[test]
fn gyroscope_reads_rocking_at_every_range() {
    for range in [
        GyroRange::Dps250,
        GyroRange::Dps500,
        GyroRange::Dps1000,
        GyroRange::Dps2000,
    ] {
        let mut machine = MachineVibration::at_rest([0.0, 0.0, 1.0]);
        machine.rocking = [0.0, 0.0, 2.0]; // 2 rad/s peak about Z at 1×
        let config = Config {
            gyro_range: range,
            ..Config::vibration_1khz()
        };
        let mut rig = Rig::new(vibrating(machine.clone()), config);
        let samples = rig.stream(2000, 50);
        let z: Vec<f64> = samples
            .iter()
            .map(|s| f64::from(s.angular_rate[2].value()))
            .collect();
        // Through the single-pole 188 Hz DLPF: 2 / √(1 + (29.5/188)²) = 1.976 rad/s.
        let amplitude = amplitude_at(&z, machine.shaft_hz);
        assert!((amplitude - 1.976).abs() < 0.02, "{range:?}: {amplitude}");
    }
}

#[test]
fn init_and_readings_wait_exactly_the_datasheet_times() {
    for (model, startup_ms) in [(Mpu6050Model::mpu6050(), 30), (Mpu6050Model::mpu6500(), 35)] {
        let bus = SimI2cBus::new(SimClock::virtual_clock());
        bus.attach(ADDR, model);
        let delay = bus.clock().delay();
        let mut imu = Mpu6050::new(bus.clone(), Address::Ad0Low, Config::vibration_1khz());
        imu.init(&mut delay.clone()).unwrap();
        // 100 ms reset, then the gyroscope start-up time.
        assert_eq!(delay.waited_ns(), (100 + startup_ms) * 1_000_000);
        assert_eq!(delay.calls(), 2);

        // A latest-sample reading waits nothing: one write of the address, one 14-byte burst.
        let before = bus.stats_for(ADDR);
        delay.reset_counters();
        imu.measure(&mut delay.clone()).unwrap();
        let cost = bus.stats_for(ADDR).since(&before);
        assert_eq!(
            (cost.transactions, cost.bytes_written, cost.bytes_read),
            (1, 1, 14)
        );
        assert_eq!(delay.waited_ns(), 0);

        // After sleep, the reading wakes the chip and waits the start-up time, then the
        // data registers hold a fresh sample (+1 g on Z lying flat).
        imu.sleep().unwrap();
        delay.reset_counters();
        let z = imu.measure(&mut delay.clone()).unwrap().acceleration[2].raw();
        assert_eq!(delay.waited_ns(), startup_ms * 1_000_000);
        assert!((z - 9_806_650).abs() < 1_000, "{z}");
    }
}

#[test]
fn next_sample_readings_wait_one_sample_period_each() {
    let config = Config {
        single_read: SingleRead::NextSample,
        sample_rate_divider: 4, // 200 Hz
        ..Config::vibration_1khz()
    };
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), config);
    rig.measure().unwrap();
    rig.delay.reset_counters();
    let samples_before = rig.chip.with(|c| c.samples());
    for _ in 0..10 {
        rig.measure().unwrap();
    }
    // Back to back, each reading waits for the next sample: exactly 5 ms apiece.
    assert_eq!(rig.delay.waited_ns(), 10 * 5_000_000);
    assert_eq!(rig.chip.with(|c| c.samples()) - samples_before, 10);
}

#[test]
fn fifo_at_1khz_delivers_one_sample_per_millisecond_in_cheap_batches() {
    for (model, batch_ms) in [
        (Mpu6050Model::mpu6050(), 80u32),
        (Mpu6050Model::mpu6500(), 40),
    ] {
        let mut rig = Rig::new(model, Config::vibration_1khz());
        let start = rig.now();
        rig.imu.start_fifo(start).unwrap();
        let before = rig.bus.stats_for(ADDR);
        let mut out = vec![Sample::default(); 100];
        let mut total = 0;
        for _ in 0..25 {
            rig.delay.delay_ms(batch_ms);
            let got = rig.drain(&mut out).unwrap();
            // Exactly one sample per millisecond of virtual time.
            assert_eq!(got, batch_ms as usize);
            total += got;
            assert!(out[..got]
                .iter()
                .all(|s| (s.acceleration[2].raw() - 9_806_650).abs() < 1_000));
        }
        let elapsed_ms = (rig.now() - start).as_millis() as usize;
        assert_eq!(total, elapsed_ms);
        // Per batch: one FIFO_COUNT read and one burst, 12 bytes per sample.
        let cost = rig.bus.stats_for(ADDR).since(&before);
        assert_eq!(cost.transactions, 2 * 25);
        assert_eq!(cost.bytes_read, 2 * 25 + 12 * total as u64);
        rig.chip.with(|c| {
            assert_eq!(c.fifo_frames_delivered(), total as u64);
            assert_eq!(c.fifo_frames_lost(), 0);
        });
    }
}

#[test]
fn the_vibration_dominant_frequency_is_where_the_machine_runs() {
    let machine = MachineVibration {
        shaft_hz: 29.5,
        harmonics: vec![
            Harmonic {
                order: 1.0,
                amplitude: 1.0,
                phase: 0.0,
            },
            Harmonic {
                order: 2.0,
                amplitude: 0.3,
                phase: 0.5,
            },
        ],
        seed: 11,
        ..MachineVibration::default()
    };
    let mut rig = Rig::new(vibrating(machine), Config::vibration_1khz());
    let x = axis(&rig.stream(2000, 50), 0);
    let one_x = amplitude_at(&x, 29.5);
    let two_x = amplitude_at(&x, 59.0);
    // Through the 184 Hz single-pole DLPF: 1/√(1 + (29.5/184)²) = 0.987, 0.952 at 59 Hz.
    assert!((one_x - 0.987).abs() < 0.02, "1×: {one_x}");
    assert!((two_x - 0.3 * 0.952).abs() < 0.02, "2×: {two_x}");
    for neighbour in [20.0, 25.0, 27.0, 32.0, 35.0, 45.0, 75.0, 150.0] {
        let other = amplitude_at(&x, neighbour);
        assert!(other < one_x / 20.0, "{neighbour} Hz: {other} vs {one_x}");
    }
    // Z carries gravity and noise only: no 1× there.
    let z = axis(&rig.stream(2000, 50), 2);
    assert!(amplitude_at(&z, 29.5) < 0.02);
}

#[test]
fn imbalance_growth_raises_the_one_x_amplitude_over_time() {
    let mut machine = MachineVibration::default();
    machine.faults.push(MechanicalFault::ImbalanceGrowth {
        onset_s: 0.0,
        rate: 0.5,
        max: 10.0,
    });
    let mut rig = Rig::new(vibrating(machine.clone()), Config::vibration_1khz());
    let t0 = rig.now().as_secs_f64();
    let early = amplitude_at(&axis(&rig.stream(2000, 50), 0), 29.5);
    rig.delay.delay_ms(4_000);
    let t1 = rig.now().as_secs_f64();
    let late = amplitude_at(&axis(&rig.stream(2000, 50), 0), 29.5);
    let dlpf = 0.987;
    // Window averages of the 1× amplitude: it grew by 0.5 m/s² per second between windows.
    let expected_early = machine.one_x_amplitude(t0 + 1.0) * dlpf;
    let expected_late = machine.one_x_amplitude(t1 + 1.0) * dlpf;
    assert!(
        (early - expected_early).abs() < 0.05,
        "{early} vs {expected_early}"
    );
    assert!(
        (late - expected_late).abs() < 0.05,
        "{late} vs {expected_late}"
    );
    assert!(late > early + 1.5);
    // The 2× order stays where it was.
    let two_x = amplitude_at(&axis(&rig.stream(2000, 50), 0), 59.0);
    assert!((two_x - 0.15 * 0.952).abs() < 0.02, "{two_x}");
}

#[test]
fn outer_race_defect_shows_bpfo_in_the_envelope() {
    let bearing = BearingGeometry::deep_groove_6205();
    let healthy = MachineVibration {
        seed: 5,
        ..MachineVibration::default()
    };
    let mut faulty = healthy.clone();
    faulty.faults.push(MechanicalFault::OuterRaceDefect {
        bearing,
        impact: 3.0,
        resonance_hz: 320.0,
        damping_ratio: 0.08,
        onset_s: 0.0,
    });
    let bpfo = bearing.bpfo(healthy.shaft_hz); // 105.75 Hz
                                               // Envelope: square of the first difference (a crude high-pass that suppresses the
                                               // running-speed orders and keeps the resonance band).
    let envelope = |machine: MachineVibration| {
        let mut rig = Rig::new(vibrating(machine), Config::vibration_1khz());
        let x = axis(&rig.stream(4000, 50), 0);
        let e: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        e.iter().map(|v| v - mean).collect::<Vec<_>>()
    };
    let sick = envelope(faulty);
    let fine = envelope(healthy);
    let at_bpfo = amplitude_at(&sick, bpfo);
    assert!(
        at_bpfo > 5.0 * amplitude_at(&fine, bpfo),
        "{at_bpfo} vs healthy {}",
        amplitude_at(&fine, bpfo)
    );
    for neighbour in [bpfo - 7.0, bpfo + 7.0] {
        assert!(
            amplitude_at(&sick, neighbour) < at_bpfo / 3.0,
            "{neighbour} Hz"
        );
    }
}

#[test]
fn overflow_loss_report_matches_what_the_chip_dropped() {
    for model in [Mpu6050Model::mpu6050(), Mpu6050Model::mpu6500()] {
        let mut rig = Rig::new(model, Config::vibration_1khz());
        let now = rig.now();
        rig.imu.start_fifo(now).unwrap();
        let mut out = vec![Sample::default(); 100];
        rig.delay.delay_ms(30);
        assert_eq!(rig.drain(&mut out).unwrap(), 30);
        // Leave five samples behind, then stall well past the FIFO's capacity.
        rig.delay.delay_ms(20);
        assert_eq!(rig.drain(&mut out[..15]).unwrap(), 15);
        rig.delay.delay_ms(237);
        let err = rig.drain(&mut out).unwrap_err();
        let dropped = rig.chip.with(|c| c.fifo_frames_lost());
        let Error::FifoOverflow { lost, uncertainty } = err else {
            panic!("{err:?}")
        };
        // The chip dropped the 5 left behind plus 237 new ones; the driver's estimate is
        // within ±1 of it on an exact clock and within its stated uncertainty.
        assert_eq!(dropped, 242);
        assert!(
            u64::from(lost).abs_diff(dropped) <= 1,
            "{lost} vs {dropped}"
        );
        assert!(u64::from(lost).abs_diff(dropped) <= u64::from(uncertainty));
        // The FIFO restarted: the next drains are whole again and nothing more is lost.
        rig.delay.delay_ms(20);
        assert_eq!(rig.drain(&mut out).unwrap(), 20);
        rig.delay.delay_ms(20);
        assert_eq!(rig.drain(&mut out).unwrap(), 20);
        rig.chip.with(|c| assert_eq!(c.fifo_frames_lost(), dropped));
    }
}

// ---- faults: each gives the matching error, and the next reading works again ----

#[test]
fn nack_then_recovery_without_losing_fifo_samples() {
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    rig.bus.inject(ADDR, Fault::Nack, Times::Once);
    assert_eq!(
        rig.measure(),
        Err(Error::Bus(ErrorKind::NoAcknowledge(
            NoAcknowledgeSource::Address
        )))
    );
    assert!(rig.measure().is_ok());

    let now = rig.now();
    rig.imu.start_fifo(now).unwrap();
    let mut out = vec![Sample::default(); 100];
    rig.delay.delay_ms(20);
    rig.bus.inject(ADDR, Fault::Nack, Times::Once);
    assert!(matches!(rig.drain(&mut out), Err(Error::Bus(_))));
    rig.delay.delay_ms(20);
    // The samples stayed in the FIFO: all 40 arrive at the next drain.
    assert_eq!(rig.drain(&mut out).unwrap(), 40);
    rig.chip.with(|c| assert_eq!(c.fifo_frames_lost(), 0));
}

#[test]
fn missing_chip_is_a_nack_at_init() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let mut imu = Mpu6050::new(bus.clone(), Address::Ad0High, Config::default());
    let err = imu.init(&mut bus.clock().delay()).unwrap_err();
    assert!(
        matches!(err, Error::Bus(ErrorKind::NoAcknowledge(_))),
        "{err:?}"
    );
}

#[test]
fn corrupted_bytes_are_implausible_then_recovery() {
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    // Byte 6 of the burst is TEMP_OUT_H: bit 7 flipped moves 25 °C to about 121 °C.
    rig.bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 6,
            mask: 0x80,
        },
        Times::Once,
    );
    assert_eq!(rig.measure(), Err(Error::Implausible(Field::Temperature)));
    assert!((rig.measure().unwrap().temperature.unwrap().celsius() - 25.0).abs() < 0.01);

    let now = rig.now();
    rig.imu.start_fifo(now).unwrap();
    let mut out = vec![Sample::default(); 100];
    rig.delay.delay_ms(20);
    // FIFO_COUNT_H with bit 7 flipped: more bytes than the FIFO holds.
    rig.bus.inject(
        ADDR,
        Fault::CorruptRead {
            index: 0,
            mask: 0x80,
        },
        Times::Once,
    );
    assert_eq!(
        rig.drain(&mut out),
        Err(Error::Implausible(Field::FifoCount))
    );
    // Nothing was read or reset: the next drain gets every sample.
    rig.delay.delay_ms(10);
    assert_eq!(rig.drain(&mut out).unwrap(), 30);
    rig.chip.with(|c| assert_eq!(c.fifo_frames_lost(), 0));
}

#[test]
fn frozen_chip_is_not_ready_or_stalled_then_recovery() {
    let config = Config {
        single_read: SingleRead::NextSample,
        ..Config::vibration_1khz()
    };
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), config);
    let now = rig.now();
    rig.imu.start_fifo(now).unwrap();
    let mut out = vec![Sample::default(); 100];
    rig.delay.delay_ms(10);
    assert_eq!(rig.drain(&mut out).unwrap(), 10);
    rig.chip.with(|c| c.set_frozen(true));
    // DATA_RDY latched by the last sample before the freeze is still there once …
    assert!(rig.measure().is_ok());
    // … then it never comes again: the reading gives up after one period plus 1 %.
    rig.delay.reset_counters();
    assert_eq!(rig.measure(), Err(Error::NotReady { waited_us: 1_010 }));
    assert_eq!(rig.delay.waited_ns(), 1_010_000);
    rig.delay.delay_ms(10);
    assert!(matches!(
        rig.drain(&mut out),
        Err(Error::FifoStalled { expected: 10 })
    ));
    rig.chip.with(|c| c.set_frozen(false));
    assert!(rig.measure().is_ok());
    rig.delay.delay_ms(10);
    assert!(rig.drain(&mut out).unwrap() >= 9);
}

#[test]
fn wrong_who_am_i_and_a_reset_that_never_ends_fail_init() {
    let mut model = Mpu6050Model::mpu6050();
    model.set_who_am_i(Some(0x98));
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let chip = bus.attach(ADDR, model);
    let mut imu = Mpu6050::new(bus.clone(), Address::Ad0Low, Config::default());
    let mut delay = bus.clock().delay();
    assert_eq!(imu.init(&mut delay), Err(Error::UnknownChipId(0x98)));

    chip.with(|c| {
        c.set_who_am_i(None);
        c.set_stuck_in_reset(true);
    });
    assert_eq!(
        imu.init(&mut delay),
        Err(Error::NotReady { waited_us: 100_000 })
    );
    chip.with(|c| c.set_stuck_in_reset(false));
    assert_eq!(imu.init(&mut delay), Ok(Variant::Mpu6050));
    assert!(imu.measure(&mut delay).is_ok());
}

#[test]
fn power_cycled_chip_is_recovered_by_init() {
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    // A fresh part answers: asleep, data registers zero.
    rig.bus.attach(ADDR, Mpu6050Model::mpu6050());
    assert_eq!(rig.measure().unwrap().acceleration[2].raw(), 0);
    rig.imu.init(&mut rig.delay).unwrap();
    assert!((rig.measure().unwrap().acceleration[2].raw() - 9_806_650).abs() < 1_000);
}

#[test]
fn async_round_trip() {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Mpu6050Model::mpu6500());
    let mut delay = bus.clock().delay();
    let mut imu = Mpu6050Async::new(bus.clone(), Address::Ad0Low, Config::vibration_1khz());
    let clock = bus.clock().clone();
    let got = embassy_futures::block_on(async {
        imu.init(&mut delay).await.unwrap();
        let z = imu.measure(&mut delay).await.unwrap().acceleration[2].raw();
        assert!((z - 9_806_650).abs() < 1_000, "{z}");
        imu.start_fifo(Duration::from_nanos(clock.now_ns()))
            .await
            .unwrap();
        DelayNs::delay_ms(&mut delay, 25);
        let mut out = [Sample::default(); 64];
        imu.read_fifo(Duration::from_nanos(clock.now_ns()), &mut out)
            .await
            .unwrap()
            .samples
    });
    assert_eq!(got, 25);
    assert_eq!(delay.waited_ns(), (100 + 35 + 25) * 1_000_000);
}

// ---- the common buffered-sensor interface the orchestrator uses ----

#[test]
fn buffered_interface_drains_readings_in_one_burst_and_reports_loss_by_kind() {
    use edgewise_sensors::sensor::{
        BufferedSensor, BufferedSensorAsync, ErrorKind as Kind, Reading, SensorError,
    };
    let mut rig = Rig::new(Mpu6050Model::mpu6050(), Config::vibration_1khz());
    let channels: Vec<_> = rig.imu.buffered_channels().iter().map(|c| c.name).collect();
    assert_eq!(
        channels,
        ["accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"],
        "12-byte frames carry no temperature"
    );
    // 85 frames of 12 bytes fit the 6050's 1024-byte FIFO: 84 ms at 1 kHz, less 1 % clock
    // tolerance and a frame of margin.
    assert_eq!(
        BufferedSensor::max_drain_interval(&rig.imu),
        Duration::from_nanos(83_168_316)
    );

    let now = rig.now();
    rig.imu.start_buffering(now).unwrap();
    let mut out = [Reading::new(); 100];
    rig.delay.delay_ms(50);
    let before = rig.bus.stats_for(ADDR);
    let now = rig.now();
    let got = rig.imu.drain(now, &mut out).unwrap();
    assert_eq!(got, 50, "one sample per millisecond");
    assert_eq!(rig.bus.stats_for(ADDR).since(&before).transactions, 2);
    for reading in &out[..got] {
        let [_, _, z, ..] = reading.values() else {
            panic!("{reading:?}")
        };
        assert!(
            (z - 9.80665).abs() < 0.01,
            "lying flat: +1 g on Z, read {z}"
        );
        assert_eq!(reading.values().len(), 6);
    }

    // Not drained for 200 ms: the FIFO overflows and the loss is an error of kind DataLost.
    rig.delay.delay_ms(200);
    let now = rig.now();
    let err = rig.imu.drain(now, &mut out).unwrap_err();
    assert_eq!(err.kind(), Kind::DataLost, "{err}");
    rig.delay.delay_ms(10);
    let now = rig.now();
    assert_eq!(rig.imu.drain(now, &mut out).unwrap(), 10, "restarted");

    // The async facade, the same sequence.
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    bus.attach(ADDR, Mpu6050Model::mpu6500());
    let mut delay = bus.clock().delay();
    let mut imu = Mpu6050Async::new(bus.clone(), Address::Ad0Low, Config::vibration_1khz());
    embassy_futures::block_on(async {
        imu.init(&mut delay).await.unwrap();
        let now = Duration::from_nanos(bus.clock().now_ns());
        imu.start_buffering(now).await.unwrap();
        bus.clock().advance(Duration::from_millis(20));
        let now = Duration::from_nanos(bus.clock().now_ns());
        assert_eq!(imu.drain(now, &mut out).await.unwrap(), 20);
    });
}
