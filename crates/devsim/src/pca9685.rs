//! A register-level NXP PCA9685 16-channel, 12-bit PWM controller that records what its
//! outputs did.
//!
//! The model answers the same register reads and writes as the silicon (datasheet Rev. 4,
//! section 7.3): MODE1 (power-on 11h: asleep, all-call), MODE2 (04h), the sub-address and
//! all-call registers, the four ON/OFF registers per channel with the full-on (ON_H bit 4)
//! and full-off (OFF_H bit 4, power-on set) flags, the write-only ALL_LED registers (they
//! load every channel and read 0) and PRE_SCALE (power-on 1Eh). With MODE1.AI the register
//! pointer increments after each byte, wrapping from 45h to MODE1 and from FEh to MODE1;
//! without it every byte of a transaction goes to the same register.
//!
//! What the silicon does and the model too:
//! - PRE_SCALE writes are ignored unless MODE1.SLEEP is set;
//! - asleep, the oscillator is off and every output is off; going to sleep with a channel
//!   running sets MODE1.RESTART; after waking, the channels stay halted until RESTART is
//!   written (or a PWM register is, which also clears it). A RESTART written less than
//!   500 µs after SLEEP was cleared is counted ([`Pca9685Model::early_restarts`]): the
//!   datasheet forbids it;
//! - a channel's effective duty is 0 with full off (which wins), 1 with full on, otherwise
//!   (OFF − ON) mod 4096 counts of 4096, and 0 when ON equals OFF.
//!
//! Every change of a channel's effective duty is recorded with the virtual clock's time
//! ([`Pca9685Model::timeline`]), once per bus transaction (the chip applies new values at
//! the I²C STOP with MODE2.OCH = 0). The duty is the fraction of the period the output is
//! active, before MODE2.INVRT; the PWM frequency follows from PRE_SCALE
//! ([`Pca9685Model::frequency_hz`]). OE and the external clock input are not modelled.

use crate::bus::I2cTarget;

const MODE1: u8 = 0x00;
const MODE2: u8 = 0x01;
const LED0_ON_L: u8 = 0x06;
const LED15_OFF_H: u8 = 0x45;
const ALL_LED_ON_L: u8 = 0xFA;
const ALL_LED_OFF_H: u8 = 0xFD;
const PRE_SCALE: u8 = 0xFE;

const RESTART: u8 = 1 << 7;
const AI: u8 = 1 << 5;
const SLEEP: u8 = 1 << 4;
const FULL_FLAG: u8 = 1 << 4;

const CHANNELS: usize = 16;
const COUNTS: u16 = 4096;
const OSCILLATOR_HZ: f64 = 25_000_000.0;
const OSCILLATOR_STARTUP_NS: u64 = 500_000;

/// One change of a channel's effective duty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DutyChange {
    /// The virtual clock at the transaction that caused it, ns.
    pub at_ns: u64,
    /// The channel, 0..=15.
    pub channel: u8,
    /// The fraction of the period the output is now active, 0.0..=1.0.
    pub duty: f32,
}

/// A simulated PCA9685.
#[derive(Debug, Clone)]
pub struct Pca9685Model {
    registers: [u8; 256],
    /// MODE1.RESTART, kept apart: it is set by the chip, not by writes.
    restart: bool,
    /// When SLEEP was last cleared.
    woke_at_ns: u64,
    pointer: u8,
    duties: [f32; CHANNELS],
    timeline: Vec<DutyChange>,
    early_restarts: u64,
}

impl Default for Pca9685Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Pca9685Model {
    /// A chip as after power-on: asleep, every channel full off, PRE_SCALE 1Eh (200 Hz).
    pub fn new() -> Self {
        let mut registers = [0u8; 256];
        registers[usize::from(MODE1)] = 0x11;
        registers[usize::from(MODE2)] = 0x04;
        // SUBADR1..3 and ALLCALLADR (8-bit forms).
        registers[0x02] = 0xE2;
        registers[0x03] = 0xE4;
        registers[0x04] = 0xE8;
        registers[0x05] = 0xE0;
        for channel in 0..CHANNELS {
            registers[Self::led_register(channel) + 3] = FULL_FLAG;
        }
        registers[usize::from(PRE_SCALE)] = 0x1E;
        Self {
            registers,
            restart: false,
            woke_at_ns: 0,
            pointer: 0,
            duties: [0.0; CHANNELS],
            timeline: Vec::new(),
            early_restarts: 0,
        }
    }

    /// Every change of a channel's effective duty, oldest first.
    pub fn timeline(&self) -> &[DutyChange] {
        &self.timeline
    }

    /// Forgets the recorded timeline (the chip is unchanged).
    pub fn clear_timeline(&mut self) {
        self.timeline.clear();
    }

    /// A channel's effective duty now.
    pub fn duty(&self, channel: u8) -> Option<f32> {
        self.duties.get(usize::from(channel)).copied()
    }

    /// PRE_SCALE as the chip holds it.
    pub fn prescale(&self) -> u8 {
        self.registers[usize::from(PRE_SCALE)]
    }

    /// The PWM frequency PRE_SCALE makes: 25 MHz / (4096 · (PRE_SCALE + 1)).
    pub fn frequency_hz(&self) -> f64 {
        OSCILLATOR_HZ / (f64::from(COUNTS) * (f64::from(self.prescale()) + 1.0))
    }

    /// Whether the oscillator is off (MODE1.SLEEP).
    pub fn is_asleep(&self) -> bool {
        self.registers[usize::from(MODE1)] & SLEEP != 0
    }

    /// MODE2 as written (INVRT, OCH, OUTDRV, OUTNE).
    pub fn mode2(&self) -> u8 {
        self.registers[usize::from(MODE2)]
    }

    /// RESTART writes that came less than 500 µs after SLEEP was cleared.
    pub fn early_restarts(&self) -> u64 {
        self.early_restarts
    }

    fn led_register(channel: usize) -> usize {
        usize::from(LED0_ON_L) + 4 * channel
    }

    fn next_pointer(&self, pointer: u8) -> u8 {
        if self.registers[usize::from(MODE1)] & AI == 0 {
            return pointer;
        }
        match pointer {
            LED15_OFF_H | PRE_SCALE..=u8::MAX => MODE1,
            p => p + 1,
        }
    }

    fn write_register(&mut self, now_ns: u64, register: u8, value: u8) {
        match register {
            MODE1 => self.write_mode1(now_ns, value),
            PRE_SCALE if self.is_asleep() => self.registers[usize::from(PRE_SCALE)] = value,
            LED0_ON_L..=LED15_OFF_H => {
                self.registers[usize::from(register)] = value;
                self.restart = false;
            }
            ALL_LED_ON_L..=ALL_LED_OFF_H => {
                let offset = usize::from(register - ALL_LED_ON_L);
                for channel in 0..CHANNELS {
                    self.registers[Self::led_register(channel) + offset] = value;
                }
                self.restart = false;
            }
            // MODE2, SUBADR1..3, ALLCALLADR.
            0x01..=0x05 => self.registers[usize::from(register)] = value,
            // Unimplemented addresses and TestMode: ignored.
            _ => {}
        }
    }

    fn write_mode1(&mut self, now_ns: u64, value: u8) {
        let was_asleep = self.is_asleep();
        let sleep = value & SLEEP != 0;
        if !was_asleep && sleep && self.duties.iter().any(|&d| d > 0.0) {
            self.restart = true;
        }
        if was_asleep && !sleep {
            self.woke_at_ns = now_ns;
        }
        if value & RESTART != 0 && self.restart && !sleep {
            if now_ns.saturating_sub(self.woke_at_ns) < OSCILLATOR_STARTUP_NS {
                self.early_restarts += 1;
            }
            self.restart = false;
        }
        self.registers[usize::from(MODE1)] = value & !RESTART;
    }

    fn read_register(&self, register: u8) -> u8 {
        match register {
            MODE1 => self.registers[usize::from(MODE1)] | if self.restart { RESTART } else { 0 },
            ALL_LED_ON_L..=ALL_LED_OFF_H => 0,
            r => self.registers[usize::from(r)],
        }
    }

    fn effective_duty(&self, channel: usize) -> f32 {
        if self.is_asleep() || self.restart {
            return 0.0;
        }
        let base = Self::led_register(channel);
        let r = &self.registers[base..base + 4];
        if r[3] & FULL_FLAG != 0 {
            return 0.0;
        }
        if r[1] & FULL_FLAG != 0 {
            return 1.0;
        }
        let on = u16::from_le_bytes([r[0], r[1] & 0x0F]);
        let off = u16::from_le_bytes([r[2], r[3] & 0x0F]);
        let high = (off + COUNTS - on) % COUNTS;
        f32::from(high) / f32::from(COUNTS)
    }

    /// Records the channels whose effective duty changed.
    fn update_outputs(&mut self, now_ns: u64) {
        for channel in 0..CHANNELS {
            let duty = self.effective_duty(channel);
            if duty != self.duties[channel] {
                self.duties[channel] = duty;
                self.timeline.push(DutyChange {
                    at_ns: now_ns,
                    channel: u8::try_from(channel).unwrap_or(u8::MAX),
                    duty,
                });
            }
        }
    }
}

impl I2cTarget for Pca9685Model {
    fn write(&mut self, now_ns: u64, bytes: &[u8]) {
        let Some((&pointer, data)) = bytes.split_first() else {
            return;
        };
        self.pointer = pointer;
        for &value in data {
            self.write_register(now_ns, self.pointer, value);
            self.pointer = self.next_pointer(self.pointer);
        }
        self.update_outputs(now_ns);
    }

    fn read(&mut self, _now_ns: u64, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = self.read_register(self.pointer);
            self.pointer = self.next_pointer(self.pointer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn awake_with_ai() -> Pca9685Model {
        let mut chip = Pca9685Model::new();
        chip.write(0, &[MODE1, AI]);
        chip
    }

    #[test]
    fn power_on_state() {
        let mut chip = Pca9685Model::new();
        let mut buf = [0u8; 2];
        chip.write(0, &[MODE1]);
        chip.read(0, &mut buf);
        // Without AI both bytes come from MODE1.
        assert_eq!(buf, [0x11, 0x11]);
        assert_eq!(chip.prescale(), 0x1E);
        assert!(chip.timeline().is_empty());
        assert!((0..16).all(|c| chip.duty(c) == Some(0.0)));
    }

    #[test]
    fn prescale_is_ignored_while_awake() {
        let mut chip = awake_with_ai();
        chip.write(0, &[PRE_SCALE, 5]);
        assert_eq!(chip.prescale(), 0x1E);
        chip.write(0, &[MODE1, AI | SLEEP]);
        chip.write(0, &[PRE_SCALE, 5]);
        assert_eq!(chip.prescale(), 5);
        // 25 MHz / (4096 · 6).
        assert!((chip.frequency_hz() - 1_017.252_604).abs() < 1e-6);
    }

    #[test]
    fn auto_increment_writes_a_channel_and_wraps_after_led15() {
        let mut chip = awake_with_ai();
        // LED15: ON 0, OFF 1024, then the pointer wraps to MODE1 (written AI again).
        chip.write(7, &[0x42, 0x00, 0x00, 0x00, 0x04, AI]);
        assert_eq!(
            chip.timeline(),
            &[DutyChange {
                at_ns: 7,
                channel: 15,
                duty: 0.25
            }]
        );
        assert!(!chip.is_asleep());
        let mut buf = [0u8; 4];
        chip.write(8, &[0x42]);
        chip.read(8, &mut buf);
        assert_eq!(buf, [0x00, 0x00, 0x00, 0x04]);
    }

    #[test]
    fn without_auto_increment_bytes_land_on_one_register() {
        let mut chip = Pca9685Model::new();
        chip.write(0, &[MODE1, 0x00]);
        // Both bytes go to LED0_OFF_H: the last one (08h, full off clear) stays, so OFF =
        // 800h = half the period; LED1_ON_L (0Ah) is untouched.
        chip.write(0, &[0x09, 0x10, 0x08]);
        assert_eq!(chip.duty(0), Some(0.5));
        assert_eq!(chip.read_register(0x0A), 0);
        assert_eq!(chip.read_register(0x09), 0x08);
    }

    #[test]
    fn sleep_halts_outputs_and_restart_resumes_them() {
        let mut chip = awake_with_ai();
        chip.write(10, &[LED0_ON_L, 0x00, 0x10, 0x00, 0x00]);
        chip.write(20, &[MODE1, AI | SLEEP]);
        let mut mode1 = [0u8];
        chip.write(20, &[MODE1]);
        chip.read(20, &mut mode1);
        assert_eq!(mode1[0], RESTART | AI | SLEEP);
        chip.write(30, &[MODE1, AI]);
        assert_eq!(chip.duty(0), Some(0.0));
        // Too early: 100 ns after waking.
        chip.write(130, &[MODE1, AI | RESTART]);
        assert_eq!(chip.early_restarts(), 1);
        let duties: Vec<(u64, f32)> = chip.timeline().iter().map(|c| (c.at_ns, c.duty)).collect();
        assert_eq!(duties, [(10, 1.0), (20, 0.0), (130, 1.0)]);
    }

    #[test]
    fn all_led_registers_load_every_channel_and_read_zero() {
        let mut chip = awake_with_ai();
        chip.write(5, &[ALL_LED_ON_L, 0x00, 0x00, 0x00, 0x08]);
        assert!((0..16).all(|c| chip.duty(c) == Some(0.5)));
        chip.write(6, &[ALL_LED_OFF_H, FULL_FLAG]);
        assert!((0..16).all(|c| chip.duty(c) == Some(0.0)));
        assert_eq!(chip.timeline().len(), 32);
        let mut buf = [0xAAu8; 4];
        chip.write(6, &[ALL_LED_ON_L]);
        chip.read(6, &mut buf);
        assert_eq!(buf, [0; 4]);
    }
}
