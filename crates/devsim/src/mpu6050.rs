//! A register-level InvenSense MPU-6050 / MPU-6500 / MPU-9250 (accelerometer and gyroscope).
//!
//! The model answers the registers the silicon has (RM-MPU-6000A-00, RM-MPU-6500A-00,
//! RM-MPU-9250A-00): WHO_AM_I, PWR_MGMT_1 with DEVICE_RESET (the 6050 comes out of reset
//! asleep, 0x40; the 6500 family awake, 0x01), SMPLRT_DIV, CONFIG (DLPF_CFG; FIFO_MODE on the
//! 6500), GYRO_CONFIG/ACCEL_CONFIG ranges, FIFO_EN, INT_ENABLE, INT_STATUS (cleared by
//! reading), the 14 data registers, USER_CTRL (FIFO_EN, FIFO_RESET), FIFO_COUNT (latched by
//! reading its high byte) and FIFO_R_W.
//!
//! Time: after waking, the first sample lands after the gyroscope start-up time, then one
//! every sample period, as the virtual clock advances. The signal path runs at 8 kHz: a
//! [`MachineVibration`] is evaluated each tick, with noise, through a single-pole low-pass at
//! the DLPF bandwidth (the silicon's filter is steeper); the accelerometer output updates at
//! 1 kHz (RM 4.2 note); every (1 + SMPLRT_DIV) gyroscope output periods a sample is quantised
//! and saturated at the configured ranges into the data registers and, if enabled, the FIFO.
//! Asleep, nothing is sampled and the data registers keep their values.
//!
//! The FIFO holds 1024 bytes (6050) or 512 (6500 family). Full, it drops its oldest byte per
//! new byte (frame alignment is lost) and sets FIFO_OFLOW_INT; with the 6500's FIFO_MODE = 1 a
//! new frame that does not fit is not written (the register map does not say what happens to
//! a frame that partly fits; this model drops it whole). The model counts every frame lost,
//! overwritten or discarded by FIFO_RESET, so tests can check a driver's loss report.
//!
//! Chip faults: frozen data (the sampling engine hangs: no DATA_RDY, no FIFO writes), a
//! wrong WHO_AM_I (a clone or a different part), and DEVICE_RESET that never clears.

use std::collections::VecDeque;

use crate::bus::I2cTarget;
use crate::noise::Noise;
use crate::vibration::{MachineVibration, G};

/// Which chip the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// MPU-6050: WHO_AM_I 0x68, 1024-byte FIFO, powers up asleep.
    Mpu6050,
    /// MPU-6500: WHO_AM_I 0x70, 512-byte FIFO, FIFO_MODE, ACCEL_CONFIG2.
    Mpu6500,
    /// MPU-9250 (its accelerometer/gyroscope die): WHO_AM_I 0x71, otherwise a 6500.
    Mpu9250,
}

impl Variant {
    fn who_am_i(self) -> u8 {
        match self {
            Self::Mpu6050 => 0x68,
            Self::Mpu6500 => 0x70,
            Self::Mpu9250 => 0x71,
        }
    }

    fn is_6050(self) -> bool {
        self == Self::Mpu6050
    }

    /// FIFO size, bytes.
    pub fn fifo_capacity(self) -> usize {
        if self.is_6050() {
            1024
        } else {
            512
        }
    }

    /// PWR_MGMT_1 after reset: SLEEP on the 6050, CLKSEL = 1 (auto) on the 6500 family.
    fn pwr_mgmt_1_reset(self) -> u8 {
        if self.is_6050() {
            0x40
        } else {
            0x01
        }
    }

    /// Time from wake to the first valid sample: 30 ms (PS-MPU-6000A-00 6.1), 35 ms
    /// (PS-MPU-9250A-01 4.23).
    fn startup_ns(self) -> u64 {
        if self.is_6050() {
            30_000_000
        } else {
            35_000_000
        }
    }
}

const SMPLRT_DIV: u8 = 0x19;
const CONFIG: u8 = 0x1A;
const GYRO_CONFIG: u8 = 0x1B;
const ACCEL_CONFIG: u8 = 0x1C;
const FIFO_EN: u8 = 0x23;
const INT_ENABLE: u8 = 0x38;
const INT_STATUS: u8 = 0x3A;
const DATA_FIRST: u8 = 0x3B;
const DATA_LAST: u8 = 0x48;
const USER_CTRL: u8 = 0x6A;
const PWR_MGMT_1: u8 = 0x6B;
const FIFO_COUNT_H: u8 = 0x72;
const FIFO_COUNT_L: u8 = 0x73;
const FIFO_R_W: u8 = 0x74;
const WHO_AM_I: u8 = 0x75;

const INT_FIFO_OFLOW: u8 = 1 << 4;
const INT_DATA_RDY: u8 = 1 << 0;
const USER_FIFO_EN: u8 = 1 << 6;
const USER_FIFO_RESET: u8 = 1 << 2;
const PWR_RESET: u8 = 1 << 7;
const PWR_SLEEP: u8 = 1 << 6;
const CONFIG_FIFO_MODE: u8 = 1 << 6;

/// The signal path's tick: the 8 kHz gyroscope output rate.
const TICK_NS: u64 = 125_000;
/// How long the model takes to finish DEVICE_RESET (well within the 100 ms drivers wait).
const RESET_NS: u64 = 15_000_000;

/// One byte in the FIFO and the frame it belongs to.
#[derive(Debug, Clone, Copy)]
struct FifoByte {
    value: u8,
    frame: u64,
    last_of_frame: bool,
}

/// Single-pole low-pass state per axis.
#[derive(Debug, Clone, Copy, Default)]
struct Filtered {
    accel: [f64; 3],
    gyro: [f64; 3],
    primed: bool,
}

/// A simulated MPU-6050 family chip.
#[derive(Debug, Clone)]
pub struct Mpu6050Model {
    variant: Variant,
    regs: [u8; 128],
    pointer: u8,
    /// DEVICE_RESET in progress until this time.
    reset_until_ns: u64,
    /// Time of the next signal-path tick while awake.
    next_tick_ns: u64,
    /// When the first sample after waking lands (start-up time).
    first_sample_ns: u64,
    ticks_to_output: u64,
    ticks_to_accel: u64,
    filtered: Filtered,
    /// Accelerometer value as last updated at 1 kHz.
    accel_latched: [f64; 3],
    /// Data registers 0x3B..0x48.
    data: [u8; 14],
    int_status: u8,
    fifo: VecDeque<FifoByte>,
    fifo_count_latch: u16,
    last_fifo_byte: u8,
    next_frame: u64,
    last_lost_frame: Option<u64>,
    machine: MachineVibration,
    noise: Noise,
    die_temperature: f64,
    // Counters and faults.
    samples: u64,
    frames_written: u64,
    frames_lost: u64,
    frames_delivered: u64,
    frozen: bool,
    who_am_i_override: Option<u8>,
    stuck_in_reset: bool,
}

impl Mpu6050Model {
    /// An MPU-6050 lying flat at rest, 25 °C, as after power-on.
    pub fn mpu6050() -> Self {
        Self::new(Variant::Mpu6050)
    }

    /// An MPU-6500 lying flat at rest, 25 °C, as after power-on.
    pub fn mpu6500() -> Self {
        Self::new(Variant::Mpu6500)
    }

    /// A chip of `variant` at rest, as after power-on.
    pub fn new(variant: Variant) -> Self {
        let machine = MachineVibration::at_rest([0.0, 0.0, 1.0]);
        let mut model = Self {
            variant,
            regs: [0; 128],
            pointer: 0,
            reset_until_ns: 0,
            next_tick_ns: 0,
            first_sample_ns: 0,
            ticks_to_output: 1,
            ticks_to_accel: 1,
            filtered: Filtered::default(),
            accel_latched: [0.0; 3],
            data: [0; 14],
            int_status: 0,
            fifo: VecDeque::new(),
            fifo_count_latch: 0,
            last_fifo_byte: 0,
            next_frame: 0,
            last_lost_frame: None,
            noise: Noise::seeded(machine.seed),
            machine,
            die_temperature: 25.0,
            samples: 0,
            frames_written: 0,
            frames_lost: 0,
            frames_delivered: 0,
            frozen: false,
            who_am_i_override: None,
            stuck_in_reset: false,
        };
        model.reset_registers(0);
        model
    }

    /// Mounts the chip on `machine`; its seed restarts the noise.
    pub fn with_vibration(mut self, machine: MachineVibration) -> Self {
        self.set_vibration(machine);
        self
    }

    /// Replaces the machine; its seed restarts the noise.
    pub fn set_vibration(&mut self, machine: MachineVibration) {
        self.noise = Noise::seeded(machine.seed);
        self.machine = machine;
    }

    /// The machine, to add faults while running.
    pub fn vibration_mut(&mut self) -> &mut MachineVibration {
        &mut self.machine
    }

    /// Die temperature, °C.
    pub fn set_die_temperature(&mut self, celsius: f64) {
        self.die_temperature = celsius;
    }

    /// Fault: the sampling engine hangs (no new data, no DATA_RDY, no FIFO writes) or resumes.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }

    /// Fault: WHO_AM_I reads `id` instead of the variant's value (`None` restores it).
    pub fn set_who_am_i(&mut self, id: Option<u8>) {
        self.who_am_i_override = id;
    }

    /// Fault: DEVICE_RESET never clears.
    pub fn set_stuck_in_reset(&mut self, stuck: bool) {
        self.stuck_in_reset = stuck;
    }

    /// The variant.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Whether PWR_MGMT_1.SLEEP is set.
    pub fn is_sleeping(&self) -> bool {
        self.regs[usize::from(PWR_MGMT_1)] & PWR_SLEEP != 0
    }

    /// Samples taken since power-on.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Frames written into the FIFO since power-on.
    pub fn fifo_frames_written(&self) -> u64 {
        self.frames_written
    }

    /// Frames that never reached the host whole: overwritten on overflow, not written in
    /// FIFO_MODE = 1, or discarded by FIFO_RESET.
    pub fn fifo_frames_lost(&self) -> u64 {
        self.frames_lost
    }

    /// Frames the host read completely from FIFO_R_W.
    pub fn fifo_frames_delivered(&self) -> u64 {
        self.frames_delivered
    }

    /// Bytes in the FIFO now.
    pub fn fifo_len(&self) -> usize {
        self.fifo.len()
    }

    fn reset_registers(&mut self, now_ns: u64) {
        self.regs = [0; 128];
        self.regs[usize::from(PWR_MGMT_1)] = self.variant.pwr_mgmt_1_reset();
        self.data = [0; 14];
        self.int_status = 0;
        self.drop_fifo();
        self.filtered = Filtered::default();
        if !self.is_sleeping() {
            self.wake(now_ns);
        }
    }

    fn in_reset(&self, now_ns: u64) -> bool {
        self.stuck_in_reset || now_ns < self.reset_until_ns
    }

    fn dlpf_cfg(&self) -> u8 {
        self.regs[usize::from(CONFIG)] & 0b111
    }

    /// Signal-path ticks (125 µs) per output sample.
    fn ticks_per_sample(&self) -> u64 {
        let per_gyro_output = match self.dlpf_cfg() {
            0 | 7 => 1,
            _ => 8,
        };
        per_gyro_output * (1 + u64::from(self.regs[usize::from(SMPLRT_DIV)]))
    }

    /// First sample one start-up time after waking.
    fn wake(&mut self, now_ns: u64) {
        self.first_sample_ns = now_ns + self.variant.startup_ns();
        self.schedule_first_sample(now_ns);
    }

    /// Runs the filter for up to one sample period before the first sample, which lands at
    /// `first_sample_ns`.
    fn schedule_first_sample(&mut self, now_ns: u64) {
        let n = self.ticks_per_sample();
        let first_sample = self.first_sample_ns;
        self.next_tick_ns = first_sample.saturating_sub((n - 1) * TICK_NS).max(now_ns);
        self.ticks_to_output = (first_sample.saturating_sub(self.next_tick_ns)) / TICK_NS + 1;
        self.ticks_to_accel = 1;
    }

    fn bandwidths_hz(&self) -> (f64, f64) {
        let cfg = self.dlpf_cfg();
        let gyro: f64 = match (cfg, self.variant.is_6050()) {
            (0, true) => 256.0,
            (0, false) => 250.0,
            (1, true) => 188.0,
            (1, false) => 184.0,
            (2, true) => 98.0,
            (2, false) => 92.0,
            (3, true) => 42.0,
            (3, false) => 41.0,
            (4, _) => 20.0,
            (5, _) => 10.0,
            (6, _) => 5.0,
            _ => 3600.0,
        };
        let accel: f64 = match (cfg, self.variant.is_6050()) {
            (0, true) => 260.0,
            (0, false) => 460.0,
            (1, _) => 184.0,
            (2, true) => 94.0,
            (2, false) => 92.0,
            (3, true) => 44.0,
            (3, false) => 41.0,
            (4, true) => 21.0,
            (4, false) => 20.0,
            (5, _) => 10.0,
            (6, _) => 5.0,
            _ => 460.0,
        };
        (accel, gyro)
    }

    /// Runs the signal path up to `now_ns`.
    fn advance(&mut self, now_ns: u64) {
        if self.is_sleeping() || self.in_reset(now_ns) {
            return;
        }
        if self.frozen {
            self.next_tick_ns = self.next_tick_ns.max(now_ns);
            return;
        }
        let (accel_bw, gyro_bw) = self.bandwidths_hz();
        let tick_s = TICK_NS as f64 * 1e-9;
        let alpha = |bw: f64| 1.0 - (-std::f64::consts::TAU * bw * tick_s).exp();
        let (a_accel, a_gyro) = (alpha(accel_bw), alpha(gyro_bw));
        while self.next_tick_ns <= now_ns {
            let t = self.next_tick_ns;
            let motion = self.machine.motion(t as f64 * 1e-9);
            let f = &mut self.filtered;
            for axis in 0..3 {
                let a = motion.acceleration[axis]
                    + self.machine.accel_noise_rms * self.noise.gaussian();
                let w =
                    motion.angular_rate[axis] + self.machine.gyro_noise_rms * self.noise.gaussian();
                if f.primed {
                    f.accel[axis] += a_accel * (a - f.accel[axis]);
                    f.gyro[axis] += a_gyro * (w - f.gyro[axis]);
                } else {
                    f.accel[axis] = a;
                    f.gyro[axis] = w;
                }
            }
            f.primed = true;
            self.ticks_to_accel -= 1;
            if self.ticks_to_accel == 0 {
                self.accel_latched = self.filtered.accel;
                self.ticks_to_accel = 8;
            }
            self.ticks_to_output -= 1;
            if self.ticks_to_output == 0 {
                self.output_sample();
                self.ticks_to_output = self.ticks_per_sample();
            }
            self.next_tick_ns += TICK_NS;
        }
    }

    /// Quantises the filtered signals into the data registers and the FIFO.
    fn output_sample(&mut self) {
        self.samples += 1;
        let quantise = |value: f64| value.round().clamp(-32768.0, 32767.0) as i16;
        let accel_lsb_per_g =
            f64::from(16_384u16 >> ((self.regs[usize::from(ACCEL_CONFIG)] >> 3) & 3));
        let gyro_lsb_per_dps =
            [131.0, 65.5, 32.8, 16.4][usize::from((self.regs[usize::from(GYRO_CONFIG)] >> 3) & 3)];
        let temperature_raw = if self.variant.is_6050() {
            (self.die_temperature - 36.53) * 340.0
        } else {
            (self.die_temperature - 21.0) * 333.87
        };
        let mut words = [0i16; 7];
        for axis in 0..3 {
            words[axis] = quantise(self.accel_latched[axis] / G * accel_lsb_per_g);
            words[4 + axis] = quantise(self.filtered.gyro[axis].to_degrees() * gyro_lsb_per_dps);
        }
        words[3] = quantise(temperature_raw);
        for (slot, word) in self.data.chunks_exact_mut(2).zip(words) {
            slot.copy_from_slice(&word.to_be_bytes());
        }
        if self.regs[usize::from(INT_ENABLE)] & INT_DATA_RDY != 0 {
            self.int_status |= INT_DATA_RDY;
        }
        if self.regs[usize::from(USER_CTRL)] & USER_FIFO_EN != 0 {
            self.push_frame();
        }
    }

    /// Writes the enabled data registers, in register order, as one frame (RM 4.31).
    fn push_frame(&mut self) {
        let enable = self.regs[usize::from(FIFO_EN)];
        let mut frame = [0u8; 14];
        let mut len = 0;
        let mut take = |range: std::ops::Range<usize>, data: &[u8; 14]| {
            for i in range {
                frame[len] = data[i];
                len += 1;
            }
        };
        if enable & (1 << 3) != 0 {
            take(0..6, &self.data);
        }
        if enable & (1 << 7) != 0 {
            take(6..8, &self.data);
        }
        for (bit, start) in [(6, 8), (5, 10), (4, 12)] {
            if enable & (1 << bit) != 0 {
                take(start..start + 2, &self.data);
            }
        }
        if len == 0 {
            return;
        }
        let id = self.next_frame;
        self.next_frame += 1;
        self.frames_written += 1;
        let capacity = self.variant.fifo_capacity();
        let stop_when_full =
            !self.variant.is_6050() && self.regs[usize::from(CONFIG)] & CONFIG_FIFO_MODE != 0;
        if stop_when_full && self.fifo.len() + len > capacity {
            self.mark_lost(id);
            self.set_overflow();
            return;
        }
        for (i, &value) in frame[..len].iter().enumerate() {
            if self.fifo.len() == capacity {
                if let Some(dropped) = self.fifo.pop_front() {
                    self.mark_lost(dropped.frame);
                }
                self.set_overflow();
            }
            self.fifo.push_back(FifoByte {
                value,
                frame: id,
                last_of_frame: i + 1 == len,
            });
        }
    }

    fn set_overflow(&mut self) {
        if self.regs[usize::from(INT_ENABLE)] & INT_FIFO_OFLOW != 0 {
            self.int_status |= INT_FIFO_OFLOW;
        }
    }

    /// Bytes leave the FIFO oldest first, so a frame's lost bytes arrive together.
    fn mark_lost(&mut self, frame: u64) {
        if self.last_lost_frame != Some(frame) {
            self.last_lost_frame = Some(frame);
            self.frames_lost += 1;
        }
    }

    fn drop_fifo(&mut self) {
        while let Some(byte) = self.fifo.pop_front() {
            self.mark_lost(byte.frame);
        }
    }

    fn read_register(&mut self, now_ns: u64, register: u8) -> u8 {
        self.advance(now_ns);
        match register {
            WHO_AM_I => self
                .who_am_i_override
                .unwrap_or_else(|| self.variant.who_am_i()),
            PWR_MGMT_1 if self.in_reset(now_ns) => self.regs[usize::from(PWR_MGMT_1)] | PWR_RESET,
            INT_STATUS => std::mem::take(&mut self.int_status),
            DATA_FIRST..=DATA_LAST => self.data[usize::from(register - DATA_FIRST)],
            FIFO_COUNT_H => {
                self.fifo_count_latch = u16::try_from(self.fifo.len()).unwrap_or(u16::MAX);
                (self.fifo_count_latch >> 8) as u8
            }
            FIFO_COUNT_L => self.fifo_count_latch as u8,
            FIFO_R_W => {
                // Empty, it repeats the last byte read (RM 4.31).
                if let Some(byte) = self.fifo.pop_front() {
                    self.last_fifo_byte = byte.value;
                    if byte.last_of_frame && self.last_lost_frame != Some(byte.frame) {
                        self.frames_delivered += 1;
                    }
                }
                self.last_fifo_byte
            }
            r if usize::from(r) < self.regs.len() => self.regs[usize::from(r)],
            _ => 0,
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u8) {
        self.advance(now_ns);
        if self.in_reset(now_ns) {
            return;
        }
        match register {
            PWR_MGMT_1 if value & PWR_RESET != 0 => {
                self.reset_until_ns = now_ns + RESET_NS;
                self.reset_registers(self.reset_until_ns);
            }
            PWR_MGMT_1 => {
                let was_sleeping = self.is_sleeping();
                self.regs[usize::from(PWR_MGMT_1)] = value;
                if was_sleeping && !self.is_sleeping() {
                    self.wake(now_ns);
                }
            }
            USER_CTRL => {
                // 6050: FIFO_RESET acts "while FIFO_EN equals 0" (RM 4.29); the 6500 resets
                // regardless (RM-MPU-9250A 4.27).
                let reset = value & USER_FIFO_RESET != 0
                    && (!self.variant.is_6050() || value & USER_FIFO_EN == 0);
                if reset {
                    self.drop_fifo();
                }
                self.regs[usize::from(USER_CTRL)] = value & !USER_FIFO_RESET;
            }
            SMPLRT_DIV | CONFIG => {
                self.regs[usize::from(register)] = value;
                if now_ns < self.first_sample_ns {
                    self.schedule_first_sample(now_ns);
                } else {
                    // The sample clock restarts on the new divider.
                    self.ticks_to_output = self.ticks_per_sample();
                }
            }
            INT_STATUS | DATA_FIRST..=DATA_LAST | FIFO_COUNT_H | FIFO_COUNT_L | WHO_AM_I => {}
            FIFO_R_W => {}
            r if usize::from(r) < self.regs.len() => self.regs[usize::from(r)] = value,
            _ => {}
        }
    }
}

impl Default for Mpu6050Model {
    fn default() -> Self {
        Self::mpu6050()
    }
}

/// I²C framing (PS-MPU-6000A-00 9.3): the first written byte is the register address; further
/// written bytes and read bytes auto-increment it, except at FIFO_R_W, where a burst read
/// drains the FIFO.
impl I2cTarget for Mpu6050Model {
    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        let Some((&first, values)) = bytes.split_first() else {
            return;
        };
        self.pointer = first;
        for &value in values {
            self.write_register(now_ns, self.pointer, value);
            if self.pointer != FIFO_R_W {
                self.pointer = self.pointer.wrapping_add(1);
            }
        }
    }

    fn read(&mut self, now_ns: u64, buf: &mut [u8]) {
        for b in buf {
            *b = self.read_register(now_ns, self.pointer);
            if self.pointer != FIFO_R_W {
                self.pointer = self.pointer.wrapping_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(chip: &mut Mpu6050Model, now: u64, register: u8) -> i16 {
        i16::from_be_bytes([
            chip.read_register(now, register),
            chip.read_register(now, register + 1),
        ])
    }

    #[test]
    fn the_6050_powers_up_asleep_with_frozen_data_and_the_6500_awake() {
        let mut chip = Mpu6050Model::mpu6050();
        assert_eq!(chip.read_register(0, WHO_AM_I), 0x68);
        assert_eq!(chip.read_register(0, PWR_MGMT_1), 0x40);
        assert_eq!(word(&mut chip, 1_000_000_000, 0x3F), 0);
        assert_eq!(chip.samples(), 0);
        let mut chip = Mpu6050Model::mpu6500();
        assert_eq!(chip.read_register(0, WHO_AM_I), 0x70);
        assert_eq!(chip.read_register(0, PWR_MGMT_1), 0x01);
        // Lying flat: +1 g on Z at ±2 g once the start-up time has passed.
        assert_eq!(word(&mut chip, 34_000_000, 0x3F), 0);
        assert_eq!(word(&mut chip, 36_000_000, 0x3F), 16_384);
    }

    #[test]
    fn samples_arrive_at_the_configured_rate_after_start_up() {
        let mut chip = Mpu6050Model::mpu6050();
        chip.write_register(0, CONFIG, 1); // DLPF on: 1 kHz
        chip.write_register(0, INT_ENABLE, INT_DATA_RDY);
        chip.write_register(0, PWR_MGMT_1, 0x01);
        assert_eq!(chip.read_register(29_999_999, INT_STATUS), 0);
        assert_eq!(chip.read_register(30_000_000, INT_STATUS), INT_DATA_RDY);
        assert_eq!(
            chip.read_register(30_000_000, INT_STATUS),
            0,
            "cleared by reading"
        );
        assert_eq!(chip.read_register(30_999_999, INT_STATUS), 0);
        assert_eq!(chip.read_register(31_000_000, INT_STATUS), INT_DATA_RDY);
        assert_eq!(chip.samples(), 2);
        chip.write_register(31_000_000, SMPLRT_DIV, 9); // 100 Hz
        chip.read_register(131_000_000, INT_STATUS);
        assert_eq!(chip.samples(), 12);
    }

    #[test]
    fn a_full_fifo_overwrites_its_oldest_bytes_and_counts_the_lost_frames() {
        let mut chip = Mpu6050Model::mpu6050();
        chip.write_register(0, CONFIG, 1);
        chip.write_register(0, FIFO_EN, 0x78); // 12-byte frames
        chip.write_register(0, INT_ENABLE, INT_FIFO_OFLOW);
        chip.write_register(0, USER_CTRL, USER_FIFO_EN);
        chip.write_register(0, PWR_MGMT_1, 0x01);
        // 85 frames fit in 1024 bytes (1020); the 86th overwrites 8 bytes of the first.
        chip.read_register(30_000_000 + 84_000_000, INT_STATUS);
        assert_eq!(chip.fifo_len(), 1020);
        assert_eq!(chip.fifo_frames_lost(), 0);
        assert_eq!(chip.read_register(115_000_000, INT_STATUS), INT_FIFO_OFLOW);
        assert_eq!(chip.fifo_len(), 1024);
        assert_eq!(chip.fifo_frames_lost(), 1);
        // The 6050 ignores FIFO_RESET while FIFO_EN is written 1 …
        chip.write_register(115_000_000, USER_CTRL, USER_FIFO_EN | USER_FIFO_RESET);
        assert_eq!(chip.fifo_len(), 1024);
        // … and empties the FIFO with it 0: the 85 frames still in it are lost too.
        chip.write_register(115_000_000, USER_CTRL, USER_FIFO_RESET);
        assert_eq!(chip.fifo_len(), 0);
        assert_eq!(chip.fifo_frames_lost(), 86);
        assert_eq!(chip.fifo_frames_written(), 86);
    }

    #[test]
    fn fifo_mode_on_the_6500_keeps_the_oldest_frames() {
        let mut chip = Mpu6050Model::mpu6500();
        chip.write_register(0, CONFIG, 1 | CONFIG_FIFO_MODE);
        chip.write_register(0, FIFO_EN, 0x78);
        chip.write_register(0, USER_CTRL, USER_FIFO_EN);
        chip.read_register(35_000_000 + 99_000_000, INT_STATUS);
        assert_eq!(chip.fifo_frames_written(), 100);
        assert_eq!(chip.fifo_len(), 42 * 12);
        assert_eq!(chip.fifo_frames_lost(), 58);
        // The oldest frame is still first: its accel Z reads +1 g.
        let mut frame = [0u8; 12];
        chip.read(134_000_000, &mut []);
        chip.pointer = FIFO_R_W;
        chip.read(134_000_000, &mut frame);
        assert_eq!(i16::from_be_bytes([frame[4], frame[5]]), 16_384);
        assert_eq!(chip.fifo_frames_delivered(), 1);
    }

    #[test]
    fn ranges_quantise_and_saturate() {
        let mut chip =
            Mpu6050Model::mpu6500().with_vibration(MachineVibration::at_rest([0.0, 0.0, 3.0]));
        chip.write_register(0, ACCEL_CONFIG, 0); // ±2 g: 3 g saturates
        assert_eq!(word(&mut chip, 40_000_000, 0x3F), 32_767);
        chip.write_register(40_000_000, ACCEL_CONFIG, 2 << 3); // ±8 g: 4096 LSB/g
        assert_eq!(word(&mut chip, 50_000_000, 0x3F), 12_288);
    }

    #[test]
    fn device_reset_takes_time_and_restores_defaults() {
        let mut chip = Mpu6050Model::mpu6050();
        chip.write_register(0, PWR_MGMT_1, 0x01);
        chip.write_register(0, SMPLRT_DIV, 7);
        chip.write_register(1_000, PWR_MGMT_1, PWR_RESET);
        assert_eq!(chip.read_register(2_000, PWR_MGMT_1), 0xC0);
        assert_eq!(chip.read_register(1_000 + RESET_NS, PWR_MGMT_1), 0x40);
        assert_eq!(chip.read_register(1_000 + RESET_NS, SMPLRT_DIV), 0);
        chip.set_stuck_in_reset(true);
        assert_eq!(
            chip.read_register(1_000_000_000, PWR_MGMT_1) & PWR_RESET,
            PWR_RESET
        );
    }
}
