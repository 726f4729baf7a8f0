//! Machine vibration as an accelerometer/gyroscope bolted to a machine housing senses it: the
//! signal source of the simulated MPU-6050, and honest test data for anomaly detection.
//!
//! The physics, kept to what condition monitoring relies on:
//! - **Running speed and harmonics.** A rotating shaft at f_r excites the housing at f_r (1×)
//!   and its integer multiples: residual imbalance gives 1× (a rotating force m·e·ω²),
//!   misalignment and looseness add 2× and 3×. Each [`Harmonic`] is a sinusoid of a given
//!   peak acceleration along [`MachineVibration::direction`].
//! - **Imbalance growth** ([`MechanicalFault::ImbalanceGrowth`]): material build-up or loss on
//!   a rotor raises the 1× amplitude over time while the other orders stay put, the classic
//!   trend a monitoring system alarms on.
//! - **Outer-race bearing defect** ([`MechanicalFault::OuterRaceDefect`]): each rolling element
//!   rolling over a spall on the stationary outer race strikes it, at the ball-pass frequency
//!   BPFO = n/2 · f_r · (1 − d/D · cos φ) (n elements of diameter d on pitch diameter D,
//!   contact angle φ). Each strike rings the housing's structural resonance f_n as a decaying
//!   sinusoid A·e^(−ζω_n·τ)·sin(ω_d·τ). The spectrum shows a resonance band modulated at BPFO;
//!   envelope analysis recovers BPFO. (Real bearings slip 1–2 %, so the strikes jitter; this
//!   model keeps them periodic so tests can find BPFO exactly.)
//! - **Gravity.** An accelerometer measures specific force: at rest it reads +1 g opposite to
//!   gravity, e.g. +1 g on Z lying flat ([`MachineVibration::gravity`]).
//! - **Rocking.** A housing on compliant mounts also rotates slightly at 1×: the gyroscope sees
//!   an angular rate of amplitude [`MachineVibration::rocking`].
//! - **Sensor noise**: white, Gaussian, from a seeded generator so runs repeat exactly.
//!   Defaults follow the MPU-6050's noise figures (PS-MPU-6000A-00 6.1/6.2: 400 µg/√Hz,
//!   0.05 °/s rms at 100 Hz bandwidth).

use std::f64::consts::TAU;

/// Standard gravity in m/s².
pub const G: f64 = 9.806_65;

/// One order of the running speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Harmonic {
    /// Multiple of the shaft frequency (1.0 = 1×).
    pub order: f64,
    /// Peak acceleration, m/s².
    pub amplitude: f64,
    /// Phase at t = 0, radians.
    pub phase: f64,
}

/// Rolling-element bearing geometry, for the defect frequencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BearingGeometry {
    /// Number of rolling elements n.
    pub rolling_elements: u32,
    /// Rolling element diameter d, mm.
    pub ball_diameter_mm: f64,
    /// Pitch diameter D, mm.
    pub pitch_diameter_mm: f64,
    /// Contact angle φ, degrees.
    pub contact_angle_deg: f64,
}

impl BearingGeometry {
    /// A 6205 deep-groove ball bearing (9 balls of 7.94 mm on a 39.04 mm pitch circle, 0°),
    /// the bearing of the widely used Case Western Reserve University bearing data set.
    pub const fn deep_groove_6205() -> Self {
        Self {
            rolling_elements: 9,
            ball_diameter_mm: 7.94,
            pitch_diameter_mm: 39.04,
            contact_angle_deg: 0.0,
        }
    }

    /// Ball-pass frequency of the outer race, Hz: n/2 · f_r · (1 − d/D · cos φ).
    pub fn bpfo(&self, shaft_hz: f64) -> f64 {
        let ratio = self.ball_diameter_mm / self.pitch_diameter_mm
            * self.contact_angle_deg.to_radians().cos();
        f64::from(self.rolling_elements) / 2.0 * shaft_hz * (1.0 - ratio)
    }
}

/// A fault that develops in the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MechanicalFault {
    /// A spall on the outer race from `onset_s` on.
    OuterRaceDefect {
        /// The bearing.
        bearing: BearingGeometry,
        /// Peak acceleration of each strike's ring-down, m/s².
        impact: f64,
        /// Structural resonance the strikes excite, Hz.
        resonance_hz: f64,
        /// Damping ratio ζ of that resonance (0.02–0.1 for steel housings).
        damping_ratio: f64,
        /// Virtual time the defect appears, s.
        onset_s: f64,
    },
    /// The 1× amplitude grows linearly from `onset_s` on, up to `max` extra.
    ImbalanceGrowth {
        /// Virtual time growth starts, s.
        onset_s: f64,
        /// Extra 1× peak acceleration per second, m/s²/s.
        rate: f64,
        /// Largest extra 1× amplitude, m/s².
        max: f64,
    },
}

/// What the sensor senses at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Motion {
    /// Specific force along X, Y, Z, m/s² (gravity included).
    pub acceleration: [f64; 3],
    /// Angular rate about X, Y, Z, rad/s.
    pub angular_rate: [f64; 3],
}

/// A configurable machine: running speed, harmonics, mounting, noise and faults.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineVibration {
    /// Shaft frequency f_r, Hz.
    pub shaft_hz: f64,
    /// Orders of the running speed present in the healthy machine.
    pub harmonics: Vec<Harmonic>,
    /// Direction of the radial vibration in the sensor frame (normalised on use).
    pub direction: [f64; 3],
    /// What the accelerometer reads at rest, in g (lying flat: [0, 0, 1]).
    pub gravity: [f64; 3],
    /// Peak angular rate of the housing's rocking at 1×, rad/s, about X, Y, Z.
    pub rocking: [f64; 3],
    /// Accelerometer noise, m/s² rms per sample.
    pub accel_noise_rms: f64,
    /// Gyroscope noise, rad/s rms per sample.
    pub gyro_noise_rms: f64,
    /// Seed of the noise generator.
    pub seed: u64,
    /// Faults, active from their onset.
    pub faults: Vec<MechanicalFault>,
}

impl Default for MachineVibration {
    /// A healthy 4-pole motor at 1770 rpm (29.5 Hz), horizontal radial vibration along X,
    /// sensor lying flat, with the MPU-6050's noise at a 184 Hz bandwidth.
    fn default() -> Self {
        Self {
            shaft_hz: 29.5,
            harmonics: vec![
                Harmonic {
                    order: 1.0,
                    amplitude: 0.5,
                    phase: 0.0,
                },
                Harmonic {
                    order: 2.0,
                    amplitude: 0.15,
                    phase: 0.4,
                },
                Harmonic {
                    order: 3.0,
                    amplitude: 0.05,
                    phase: 1.1,
                },
            ],
            direction: [1.0, 0.0, 0.0],
            gravity: [0.0, 0.0, 1.0],
            rocking: [0.0, 0.0, 0.002],
            // 400 µg/√Hz over 184 Hz · π/2 (single-pole noise bandwidth) ≈ 6.8 mg.
            accel_noise_rms: 0.067,
            // 0.005 °/s/√Hz over the same bandwidth ≈ 0.085 °/s.
            gyro_noise_rms: 0.0015,
            seed: 1,
            faults: Vec::new(),
        }
    }
}

impl MachineVibration {
    /// A machine at rest: gravity only, no vibration, no noise.
    pub fn at_rest(gravity: [f64; 3]) -> Self {
        Self {
            harmonics: Vec::new(),
            gravity,
            rocking: [0.0; 3],
            accel_noise_rms: 0.0,
            gyro_noise_rms: 0.0,
            ..Self::default()
        }
    }

    /// The 1× peak amplitude at `t_s`, imbalance growth included.
    pub fn one_x_amplitude(&self, t_s: f64) -> f64 {
        let base: f64 = self
            .harmonics
            .iter()
            .filter(|h| (h.order - 1.0).abs() < 1e-9)
            .map(|h| h.amplitude)
            .sum();
        base + self.imbalance_growth(t_s)
    }

    fn imbalance_growth(&self, t_s: f64) -> f64 {
        self.faults
            .iter()
            .map(|fault| match *fault {
                MechanicalFault::ImbalanceGrowth { onset_s, rate, max } if t_s > onset_s => {
                    ((t_s - onset_s) * rate).min(max)
                }
                _ => 0.0,
            })
            .sum()
    }

    /// Acceleration along [`MachineVibration::direction`] from the bearing strikes at `t_s`.
    fn bearing_ring_down(&self, t_s: f64) -> f64 {
        let mut total = 0.0;
        for fault in &self.faults {
            let MechanicalFault::OuterRaceDefect {
                bearing,
                impact,
                resonance_hz,
                damping_ratio,
                onset_s,
            } = *fault
            else {
                continue;
            };
            if t_s < onset_s {
                continue;
            }
            let bpfo = bearing.bpfo(self.shaft_hz);
            let omega_n = TAU * resonance_hz;
            let decay = damping_ratio * omega_n;
            let omega_d = omega_n * (1.0 - damping_ratio * damping_ratio).max(0.0).sqrt();
            // Strikes older than 10 time constants have rung down below e^-10.
            let horizon = 10.0 / decay.max(1e-9);
            let last = ((t_s - onset_s) * bpfo).floor();
            let mut k = last;
            while k >= 0.0 {
                let tau = t_s - (onset_s + k / bpfo);
                if tau > horizon {
                    break;
                }
                total += impact * (-decay * tau).exp() * (omega_d * tau).sin();
                k -= 1.0;
            }
        }
        total
    }

    /// The noiseless motion at `t_s`.
    pub fn motion(&self, t_s: f64) -> Motion {
        let phase = TAU * self.shaft_hz * t_s;
        let growth = self.imbalance_growth(t_s);
        let mut radial: f64 = self
            .harmonics
            .iter()
            .map(|h| h.amplitude * (h.order * phase + h.phase).sin())
            .sum();
        radial += growth * phase.sin();
        radial += self.bearing_ring_down(t_s);
        let norm = self.direction.iter().map(|c| c * c).sum::<f64>().sqrt();
        let direction = if norm > 0.0 {
            self.direction.map(|c| c / norm)
        } else {
            [0.0; 3]
        };
        let mut acceleration = [0.0; 3];
        let mut angular_rate = [0.0; 3];
        for axis in 0..3 {
            acceleration[axis] = self.gravity[axis] * G + direction[axis] * radial;
            angular_rate[axis] = self.rocking[axis] * phase.sin();
        }
        Motion {
            acceleration,
            angular_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpfo_of_a_6205_is_3_585_times_running_speed() {
        // CWRU's published defect frequency for the 6205 drive-end bearing: 3.5848 × f_r.
        let bpfo = BearingGeometry::deep_groove_6205().bpfo(1.0);
        assert!((bpfo - 3.5848).abs() < 1e-3, "{bpfo}");
    }

    #[test]
    fn at_rest_reads_one_g_against_gravity() {
        let m = MachineVibration::at_rest([0.0, 0.0, 1.0]).motion(0.37);
        assert_eq!(m.acceleration, [0.0, 0.0, G]);
        assert_eq!(m.angular_rate, [0.0; 3]);
    }

    #[test]
    fn imbalance_grows_the_one_x_amplitude_only_after_onset() {
        let mut machine = MachineVibration::default();
        machine.faults.push(MechanicalFault::ImbalanceGrowth {
            onset_s: 10.0,
            rate: 0.1,
            max: 1.0,
        });
        assert_eq!(machine.one_x_amplitude(5.0), 0.5);
        assert!((machine.one_x_amplitude(13.0) - 0.8).abs() < 1e-12);
        assert!((machine.one_x_amplitude(100.0) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn bearing_strikes_ring_down_at_bpfo() {
        let mut machine = MachineVibration::at_rest([0.0; 3]);
        machine.faults.push(MechanicalFault::OuterRaceDefect {
            bearing: BearingGeometry::deep_groove_6205(),
            impact: 5.0,
            resonance_hz: 300.0,
            damping_ratio: 0.1,
            onset_s: 0.0,
        });
        let period = 1.0 / BearingGeometry::deep_groove_6205().bpfo(machine.shaft_hz);
        // RMS over the first and the last quarter of one strike period: the ring-down decays
        // by e^(−ζω_n·T/2) ≈ 0.17 between them.
        let rms = |from: f64| {
            let n = 200;
            let sum: f64 = (0..n)
                .map(|i| {
                    let t = 10.0 * period + (from + 0.25 * f64::from(i) / f64::from(n)) * period;
                    machine.motion(t).acceleration[0].powi(2)
                })
                .sum();
            (sum / f64::from(n)).sqrt()
        };
        let (early, late) = (rms(0.0), rms(0.75));
        assert!(early > 2.5 && late < early / 3.0, "{early} {late}");
    }
}
