//! The detector on the real MPU-6050 driver reading the devsim chip at 1 kHz through its
//! FIFO: it learns a healthy machine, stays quiet on a long healthy run, and flags an outer
//! race defect and a growing imbalance soon after they start.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use edgewise_devsim::mpu6050::Mpu6050Model;
use edgewise_devsim::vibration::{BearingGeometry, MachineVibration, MechanicalFault};
use edgewise_devsim::{SimClock, SimI2cBus};
use edgewise_infer::anomaly::{DetectorConfig, FeatureDetector, Score, Verdict};
use edgewise_infer::dsp::{Band, FeatureConfig, FeatureExtractor, SpectralConfig, Windower};
use edgewise_sensors::mpu6050::{Address, Config, Mpu6050, Sample};
use edgewise_sensors::units::Quantity;

const ADDR: u8 = 0x68;
/// 512 frames (0.512 s at 1 kHz), a new window every 256.
const WINDOW: usize = 512;
const HOP: usize = 256;
const BASELINE_WINDOWS: usize = 200;
const HEALTHY_WINDOWS: usize = 1200;
/// Robust z above which a window is anomalous, calibrated on healthy data: the largest healthy
/// score over 1200 windows was 7.3–8.5 across five noise seeds (this test prints it), mostly
/// the peak frequency of an axis that carries noise only.
const THRESHOLD: f32 = 8.0;
/// Allowed false-positive rate on healthy windows.
const MAX_FALSE_POSITIVE_RATE: f64 = 0.01;
/// A fault must be flagged within this many windows of the first window that contains it.
const MAX_DETECTION_DELAY: usize = 4;

/// The driver streaming accelerometer frames from the simulated chip.
struct Imu {
    bus: SimI2cBus,
    imu: Mpu6050<SimI2cBus>,
    drained: Vec<Sample>,
    interleaved: Vec<f32>,
}

impl Imu {
    fn new(machine: MachineVibration) -> Self {
        let bus = SimI2cBus::new(SimClock::virtual_clock());
        bus.attach(ADDR, Mpu6050Model::mpu6050().with_vibration(machine));
        let mut imu = Mpu6050::new(bus.clone(), Address::Ad0Low, Config::vibration_1khz());
        imu.init(&mut bus.clock().delay()).unwrap();
        imu.start_fifo(now(&bus)).unwrap();
        Self {
            bus,
            imu,
            drained: vec![Sample::default(); 128],
            interleaved: Vec::with_capacity(3 * 128),
        }
    }

    /// Virtual seconds since the bus was created.
    fn seconds(&self) -> f64 {
        now(&self.bus).as_secs_f64()
    }

    /// Lets 50 ms pass and drains the FIFO: 50 accelerometer frames, x y z interleaved.
    fn next_batch(&mut self) -> &[f32] {
        self.bus.clock().advance(Duration::from_millis(50));
        let got = self
            .imu
            .read_fifo(now(&self.bus), &mut self.drained)
            .unwrap()
            .samples;
        self.interleaved.clear();
        for sample in &self.drained[..got] {
            self.interleaved
                .extend(sample.acceleration.iter().map(|a| a.value()));
        }
        &self.interleaved
    }
}

fn now(bus: &SimI2cBus) -> Duration {
    Duration::from_nanos(bus.clock().now_ns())
}

/// What the pipeline would run: every time feature and the spectrum of each axis, with bands
/// around the running speed orders, the bearing frequencies and the structural resonances.
fn extractor() -> FeatureExtractor {
    FeatureExtractor::new(FeatureConfig {
        spectral: Some(SpectralConfig {
            bands: vec![
                Band::new(0.0, 50.0),
                Band::new(50.0, 150.0),
                Band::new(150.0, 250.0),
                Band::new(250.0, 500.0),
            ],
            peaks: 3,
            ..SpectralConfig::default()
        }),
        ..FeatureConfig::new(1000.0, WINDOW, &["accel_x", "accel_y", "accel_z"])
    })
    .unwrap()
}

/// A window's score with the time of its last frame, seconds after the stream started.
struct Scored {
    end_s: f64,
    score: Score,
}

/// Streams the machine for `windows` windows after the baseline and scores them.
fn run(machine: MachineVibration, windows: usize) -> (FeatureExtractor, Vec<Scored>, f64) {
    let mut imu = Imu::new(machine);
    let stream_start_s = imu.seconds();
    let mut extractor = extractor();
    let mut detector = FeatureDetector::new(DetectorConfig {
        threshold: THRESHOLD,
        ..DetectorConfig::new(extractor.len(), BASELINE_WINDOWS)
    })
    .unwrap();
    let mut windower = Windower::new(3, WINDOW, HOP).unwrap();
    let mut features = vec![0.0; extractor.len()];
    let mut scored = Vec::with_capacity(windows);
    while scored.len() < windows {
        let batch = imu.next_batch();
        windower.push(batch, |window| {
            extractor.extract(&window, &mut features).unwrap();
            if let Verdict::Scored(score) = detector.observe(&features).unwrap() {
                let end_frame = window.start_frame() + WINDOW as u64;
                scored.push(Scored {
                    end_s: stream_start_s + end_frame as f64 / 1000.0,
                    score,
                });
            }
        });
    }
    (extractor, scored, stream_start_s)
}

fn healthy() -> MachineVibration {
    MachineVibration {
        seed: 2024,
        ..MachineVibration::default()
    }
}

/// Windows from the first one holding post-onset samples to the first flagged one.
fn detection_delay(scored: &[Scored], onset_s: f64, names: &[String]) -> usize {
    let first_faulty = scored
        .iter()
        .position(|s| s.end_s > onset_s)
        .expect("the run reaches the onset");
    let quiet_before = scored[..first_faulty]
        .iter()
        .filter(|s| s.score.anomalous)
        .count();
    let flagged = scored[first_faulty..]
        .iter()
        .position(|s| s.score.anomalous)
        .expect("the fault is flagged at all");
    let hit = &scored[first_faulty + flagged].score;
    println!(
        "  flagged {flagged} windows after the first faulty one, score {:.1} on {} (z {:+.1}); \
         {quiet_before} false alarms before onset",
        hit.value, names[hit.feature], hit.signed
    );
    flagged
}

#[test]
fn quiet_on_a_long_healthy_run() {
    let (extractor, scored, _) = run(healthy(), HEALTHY_WINDOWS);
    let false_alarms = scored.iter().filter(|s| s.score.anomalous).count();
    let rate = false_alarms as f64 / scored.len() as f64;
    let worst = scored
        .iter()
        .map(|s| s.score)
        .max_by(|a, b| a.value.total_cmp(&b.value))
        .unwrap();
    println!(
        "healthy: {false_alarms} of {} windows flagged (false-positive rate {:.2} %), \
         largest score {:.2} on {}",
        scored.len(),
        100.0 * rate,
        worst.value,
        extractor.names()[worst.feature]
    );
    assert!(rate < MAX_FALSE_POSITIVE_RATE, "false-positive rate {rate}");
}

#[test]
fn flags_an_outer_race_defect_within_a_few_windows() {
    let onset_s = 200.0;
    let mut machine = healthy();
    machine.faults.push(MechanicalFault::OuterRaceDefect {
        bearing: BearingGeometry::deep_groove_6205(),
        // An early spall: each strike rings at 0.5 m/s², the 1× line's own amplitude.
        impact: 0.5,
        resonance_hz: 320.0,
        damping_ratio: 0.08,
        onset_s,
    });
    // The baseline takes ~51 s; onset leaves ~580 healthy scored windows before it.
    let (extractor, scored, _) = run(machine, 620);
    println!("outer race defect, 0.5 m/s² strikes:");
    let delay = detection_delay(&scored, onset_s, extractor.names());
    assert!(delay <= MAX_DETECTION_DELAY, "{delay} windows");
}

#[test]
fn flags_a_growing_imbalance_within_a_few_windows() {
    let onset_s = 200.0;
    let mut machine = healthy();
    machine.faults.push(MechanicalFault::ImbalanceGrowth {
        onset_s,
        // 1× grows by 0.05 m/s² per second: +10 % of its healthy amplitude each second.
        rate: 0.05,
        max: 5.0,
    });
    let (extractor, scored, _) = run(machine, 650);
    println!("imbalance growth, +0.05 m/s² per second:");
    let delay = detection_delay(&scored, onset_s, extractor.names());
    // A trend needs time to leave the healthy spread: allow 2 s (8 windows).
    assert!(delay <= 8, "{delay} windows");
}
