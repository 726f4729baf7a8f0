//! Differential test: our driver and the `bme280` crate (0.5.1) read identical simulated chips.
//! Both implement Bosch's formulas, ours in the vendor's integers, theirs in f32; where they
//! differ by more than f32 rounding, the reason is stated next to the bound.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bme280::i2c::BME280;
use bme280::Oversampling as TheirOversampling;
use edgewise_devsim::bme280::{Bme280Model, Environment};
use edgewise_devsim::{SimClock, SimI2cBus};
use edgewise_sensors::bme280::{Address, Bme280, Oversampling};
use edgewise_tests::{bme280_oversampling_everywhere, reference_crate_config};

fn chip_on_bus(env: Environment) -> (SimI2cBus, edgewise_devsim::Device<Bme280Model>) {
    let bus = SimI2cBus::new(SimClock::virtual_clock());
    let chip = bus.attach(0x76, Bme280Model::bme280());
    chip.with(|c| c.set_environment(env));
    (bus, chip)
}

struct Pair {
    ours: Bme280<
        edgewise_sensors::bme280::I2cInterface<edgewise_sensors::blocking::Blocking<SimI2cBus>>,
    >,
    our_bus: SimI2cBus,
    our_chip: edgewise_devsim::Device<Bme280Model>,
    theirs: BME280<SimI2cBus>,
    their_bus: SimI2cBus,
    their_chip: edgewise_devsim::Device<Bme280Model>,
}

impl Pair {
    fn new(ours: Oversampling, theirs: TheirOversampling) -> Self {
        let (our_bus, our_chip) = chip_on_bus(Environment::default());
        let (their_bus, their_chip) = chip_on_bus(Environment::default());
        let mut driver = Bme280::new_i2c(
            our_bus.clone(),
            Address::Primary,
            bme280_oversampling_everywhere(ours),
        );
        driver.init(&mut our_bus.clock().delay()).unwrap();
        let mut reference = BME280::new_primary(their_bus.clone());
        reference
            .init_with_config(
                &mut their_bus.clock().delay(),
                reference_crate_config(theirs),
            )
            .unwrap();
        Self {
            ours: driver,
            our_bus,
            our_chip,
            theirs: reference,
            their_bus,
            their_chip,
        }
    }

    /// Both chips see `env`; returns (ours, theirs) as (°C, Pa, %RH).
    fn read(&mut self, env: Environment) -> ((f32, f32, f32), (f32, f32, f32)) {
        self.our_chip.with(|c| c.set_environment(env));
        self.their_chip.with(|c| c.set_environment(env));
        let a = self
            .ours
            .measure(&mut self.our_bus.clock().delay())
            .unwrap();
        let b = self
            .theirs
            .measure(&mut self.their_bus.clock().delay())
            .unwrap();
        (
            (
                a.temperature.celsius(),
                a.pressure.unwrap().pascals(),
                a.humidity.unwrap().percent(),
            ),
            (b.temperature, b.pressure, b.humidity),
        )
    }
}

#[test]
fn values_agree_across_the_operating_range_at_x1() {
    let mut pair = Pair::new(Oversampling::X1, TheirOversampling::Oversampling1X);
    for step in 0..25 {
        // Off-grid values so nothing lands exactly on a rounding boundary by construction.
        let env = Environment {
            temperature: -39.63 + 5.0 * f64::from(step),
            pressure: 30_011.0 + 3_200.0 * f64::from(step),
            humidity: f64::from(step * 4),
        };
        let (a, b) = pair.read(env);
        // Temperature: ours is Bosch's integer result in 0.01 °C steps, theirs the f32 of the
        // double formula: at most half a step apart, plus f32 rounding.
        assert!((a.0 - b.0).abs() <= 0.006, "{env:?}: {a:?} vs {b:?}");
        // Pressure: integer Q24.8 (1/256 Pa) against f32 arithmetic (a 24-bit mantissa holds
        // ~0.008 Pa at 100 kPa, and the formula's intermediates lose a few more bits).
        assert!((a.1 - b.1).abs() <= 0.05, "{env:?}: {a:?} vs {b:?}");
        // Humidity: Q22.10 against f32; both clamp to 0..100 %.
        assert!((a.2 - b.2).abs() <= 0.01, "{env:?}: {a:?} vs {b:?}");
    }
}

#[test]
fn above_the_datasheet_range_theirs_clamps_silently_ours_reports_the_value() {
    let mut pair = Pair::new(Oversampling::X1, TheirOversampling::Oversampling1X);
    let env = Environment {
        temperature: 85.37,
        pressure: 110_011.0,
        humidity: 50.0,
    };
    let (a, b) = pair.read(env);
    assert_eq!(
        (b.0, b.1),
        (85.0, 110_000.0),
        "the bme280 crate clamps to its limits"
    );
    assert!(
        (a.0 - 85.37).abs() < 0.01 && (a.1 - 110_011.0).abs() < 3.0,
        "{a:?}"
    );
}

#[test]
fn at_x16_theirs_reads_before_the_conversion_ends_ours_waits_t_max() {
    // ×16 everywhere takes up to 112.8 ms; the bme280 crate waits a fixed 40 ms. It then reads
    // the data registers before the first conversion completed (reset values 0x80000), and on
    // the next call finds the chip still in forced mode, soft-resets it, and from then on
    // triggers conversions with every channel skipped: it keeps returning the compensated reset
    // values, whatever the air does. Ours waits the datasheet's 112.8 ms.
    let mut pair = Pair::new(Oversampling::X16, TheirOversampling::Oversampling16X);
    let mut theirs_seen = Vec::new();
    for t in [10.0, 20.0, 30.0, 40.0] {
        let env = Environment {
            temperature: t,
            ..Environment::default()
        };
        let (a, b) = pair.read(env);
        assert!(
            (f64::from(a.0) - t).abs() < 0.01,
            "ours tracks the air: {a:?}"
        );
        theirs_seen.push(b);
    }
    assert!(
        theirs_seen.windows(2).all(|w| w[0] == w[1]),
        "theirs is stuck on one value: {theirs_seen:?}"
    );
    assert!((theirs_seen[0].0 - 10.0).abs() > 5.0, "{theirs_seen:?}");
    assert_eq!(pair.our_chip.with(|c| c.conversions()), 4);
}
