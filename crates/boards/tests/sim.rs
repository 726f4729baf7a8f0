//! The simulated board end to end: every driver opened on it reads values inside its
//! datasheet's ranges, the IMU's FIFO keeps pace with the real clock, a machine fault changes
//! the vibration, and a scan recognises the default population.
#![cfg(feature = "sim")]

use std::time::{Duration, Instant};

use edgewise_boards::sim::SimBoard;
use edgewise_boards::{
    Board, BusAddress, DynSensor, Reading, ScanHit, SensorSpec, SimFaultKind, SimMachineFault,
    SimOptions,
};

fn spec(driver: &str, bus: BusAddress, address: Option<u8>, interval: Duration) -> SensorSpec {
    SensorSpec {
        name: format!("test-{driver}"),
        driver: driver.into(),
        bus,
        address,
        channels: Vec::new(),
        interval,
    }
}

const I2C1: BusAddress = BusAddress::I2c { bus: 1 };

fn open(board: &SimBoard, spec: &SensorSpec) -> Box<dyn DynSensor> {
    let mut sensor = match board.open_sensor(spec) {
        Ok(sensor) => sensor,
        Err(error) => panic!("opening {}: {error}", spec.driver),
    };
    if let Err(fault) = sensor.init() {
        panic!("init of {}: {fault}", spec.driver);
    }
    sensor
}

/// One reading as (channel, value) pairs.
fn read(sensor: &mut dyn DynSensor) -> Vec<(&'static str, f32)> {
    let reading = match sensor.read() {
        Ok(reading) => reading,
        Err(fault) => panic!("read: {fault}"),
    };
    let names: Vec<&'static str> = sensor.channels().iter().map(|c| c.name).collect();
    assert_eq!(names.len(), reading.values().len(), "one value per channel");
    names
        .into_iter()
        .zip(reading.values().iter().copied())
        .collect()
}

fn value(values: &[(&str, f32)], channel: &str) -> f32 {
    values
        .iter()
        .find(|(name, _)| *name == channel)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no channel {channel} in {values:?}"))
}

fn assert_in(values: &[(&str, f32)], channel: &str, low: f32, high: f32) {
    let v = value(values, channel);
    assert!(
        (low..=high).contains(&v),
        "{channel} = {v}, expected {low}..={high}"
    );
}

/// The simulated room: indoors at sea level (the datasheets' operating ranges are far wider;
/// these bounds check that the chain of registers, compensation and units is right).
fn assert_room(values: &[(&str, f32)], pressure: bool, humidity: bool) {
    assert_in(values, "temperature", 15.0, 30.0);
    if pressure {
        // Pa; the BME280's range is 300..1100 hPa.
        assert_in(values, "pressure", 95_000.0, 105_000.0);
    }
    if humidity {
        assert_in(values, "humidity", 20.0, 80.0);
    }
}

#[test]
fn every_driver_reads_plausible_values() {
    let board = SimBoard::new(SimOptions::default());
    let second = Duration::from_secs(1);

    for driver in ["bme280", "bmp280"] {
        let values = read(open(&board, &spec(driver, I2C1, Some(0x77), second)).as_mut());
        assert_room(&values, true, driver == "bme280");
        assert_eq!(values.len(), if driver == "bme280" { 3 } else { 2 });
    }
    let spi = BusAddress::Spi {
        bus: 0,
        chip_select: 0,
    };
    assert_room(
        &read(open(&board, &spec("bme280", spi, None, second)).as_mut()),
        true,
        true,
    );

    for (driver, address) in [("sht3x", 0x45), ("sht4x", 0x46)] {
        let values = read(open(&board, &spec(driver, I2C1, Some(address), second)).as_mut());
        assert_room(&values, false, true);
    }

    // The ADC: AIN1 is a 3.3 V rail halved; every input stays within the 3.3 V supply.
    for (driver, address) in [("ads1115", 0x49), ("ads1015", 0x4A)] {
        let values = read(open(&board, &spec(driver, I2C1, Some(address), second)).as_mut());
        assert_eq!(values.len(), 4);
        assert_in(&values, "ain1", 1.60, 1.70);
        for (_, v) in &values {
            assert!((-0.3..=3.6).contains(v), "{driver}: {values:?}");
        }
    }

    // The current monitors on a 5 V device drawing 80 or 250 mA through 0.1 Ω.
    for (driver, address) in [("ina219", 0x41), ("ina226", 0x42)] {
        let values = read(open(&board, &spec(driver, I2C1, Some(address), second)).as_mut());
        assert_in(&values, "bus_voltage", 4.9, 5.05);
        assert_in(&values, "current", 0.07, 0.26);
        // V_shunt = I·R.
        let shunt = value(&values, "shunt_voltage");
        let current = value(&values, "current");
        assert!((shunt - current * 0.1).abs() < 0.001, "{values:?}");
        assert_in(&values, "power", 0.3, 1.3);
    }

    // The IMUs, lying flat on a running machine: about 1 g on Z, small rotation rates.
    for (driver, address) in [("mpu6050", 0x69), ("mpu6500", 0x68), ("mpu9250", 0x68)] {
        let mut imu = open(
            &board,
            &spec(driver, I2C1, Some(address), Duration::from_millis(1)),
        );
        let values = read(imu.as_mut());
        // m/s²: 1 g = 9.81, plus up to ~1 m/s² of vibration.
        assert_in(&values, "accel_z", 8.0, 11.5);
        assert_in(&values, "accel_y", -2.0, 2.0);
        for axis in ["gyro_x", "gyro_y", "gyro_z"] {
            assert_in(&values, axis, -0.5, 0.5); // rad/s
        }
        assert_in(&values, "temperature", 15.0, 40.0);
        assert!(imu.as_buffered().is_some(), "{driver} buffers in its FIFO");
    }
}

#[test]
fn an_unknown_driver_is_refused_with_the_known_ones() {
    let board = SimBoard::new(SimOptions::default());
    let Err(error) = board.open_sensor(&spec("dht22", I2C1, Some(0x10), Duration::from_secs(1)))
    else {
        panic!("an unknown driver must not open");
    };
    assert_eq!(
        error.to_string(),
        "sensor `test-dht22`: driver `dht22` has no simulated model on the sim board"
    );
}

/// Starts a 1 kHz FIFO stream and drains it every ~20 ms for `for_how_long`, returning every
/// sample with the real time spent.
fn stream(imu: &mut dyn DynSensor, for_how_long: Duration) -> (Vec<Reading>, Duration) {
    let Some(fifo) = imu.as_buffered() else {
        panic!("the IMU has a FIFO");
    };
    let start = Instant::now();
    if let Err(fault) = fifo.start_buffering(start.elapsed()) {
        panic!("start: {fault}");
    }
    let mut samples = Vec::new();
    let mut batch = [Reading::new(); 256];
    while start.elapsed() < for_how_long {
        std::thread::sleep(Duration::from_millis(20));
        match fifo.drain(start.elapsed(), &mut batch) {
            Ok(n) => samples.extend_from_slice(&batch[..n]),
            Err(fault) => panic!("drain: {fault}"),
        }
    }
    (samples, start.elapsed())
}

#[test]
fn fifo_at_1khz_delivers_one_sample_per_millisecond() {
    let board = SimBoard::new(SimOptions::default());
    let mut imu = open(
        &board,
        &spec("mpu6050", I2C1, None, Duration::from_millis(1)),
    );
    let Some(fifo) = imu.as_buffered() else {
        panic!("the IMU has a FIFO");
    };
    let names: Vec<&str> = fifo.buffered_channels().iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"]
    );
    // 1024-byte FIFO, 12-byte frames at 1 kHz: about 84 ms.
    assert!(fifo.max_drain_interval() > Duration::from_millis(50));

    let (samples, elapsed) = stream(imu.as_mut(), Duration::from_millis(500));
    // `init` waited out the gyroscope start-up, so sampling runs from the start: N ms of
    // streaming give N samples, less the few that arrived between the last drain and the end
    // (the count does not depend on how often the drains ran, only on the chip's clock).
    let expected = elapsed.as_secs_f64() * 1000.0;
    let got = samples.len() as f64;
    assert!(
        got >= 0.95 * expected - 5.0 && got <= 1.01 * expected + 2.0,
        "{got} samples in {elapsed:?}"
    );
    for sample in &samples {
        assert_eq!(sample.values().len(), 6);
    }
}

/// Mean square of the X acceleration (the machine's radial direction) without its mean.
fn vibration_energy(samples: &[Reading]) -> f64 {
    let x: Vec<f64> = samples.iter().map(|s| f64::from(s.values()[0])).collect();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64
}

#[test]
fn a_bearing_fault_raises_the_vibration_energy_after_its_onset() {
    let onset = Duration::from_millis(1200);
    // The board's clock starts at its creation; this one starts just before.
    let created = Instant::now();
    let board = SimBoard::new(SimOptions {
        seed: 7,
        machine_fault: Some(SimMachineFault {
            kind: SimFaultKind::OuterRaceDefect,
            onset,
        }),
        outputs_log: None,
    });
    let mut imu = open(
        &board,
        &spec("mpu6050", I2C1, None, Duration::from_millis(1)),
    );
    // init takes ~130 ms of the board's clock; stream healthy samples before the onset,
    // then wait past it and stream the faulty machine.
    let (healthy, _) = stream(imu.as_mut(), Duration::from_millis(600));
    assert!(
        created.elapsed() < onset,
        "the healthy stream must end before the onset (the machine is too loaded to tell)"
    );
    std::thread::sleep((onset + Duration::from_millis(100)).saturating_sub(created.elapsed()));
    let (faulty, _) = stream(imu.as_mut(), Duration::from_millis(600));
    assert!(healthy.len() > 300 && faulty.len() > 300);
    let (before, after) = (vibration_energy(&healthy), vibration_energy(&faulty));
    assert!(
        after > 1.5 * before,
        "energy {before} before, {after} after the onset"
    );
}

#[test]
fn scan_finds_the_default_population() {
    let board = SimBoard::new(SimOptions::default());
    let hits = match board.scan(I2C1) {
        Ok(hits) => hits,
        Err(error) => panic!("{error}"),
    };
    let hit = |address, chip| ScanHit {
        address,
        chip: Some(chip),
    };
    assert_eq!(
        hits,
        vec![
            hit(0x40, "ina219"),
            hit(0x44, "sht3x"),
            hit(0x48, "ads1x15"),
            hit(0x68, "mpu6050"),
            hit(0x76, "bme280"),
        ]
    );
    // A bus with nothing on it answers nowhere.
    assert_eq!(board.scan(BusAddress::I2c { bus: 3 }), Ok(Vec::new()));
}

#[test]
fn scan_lists_the_chips_a_config_wired() {
    let board = SimBoard::new(SimOptions::default());
    let bus = BusAddress::I2c { bus: 2 };
    for (driver, address) in [
        ("ina226", 0x45),
        ("sht4x", 0x46),
        ("bmp280", 0x77),
        ("mpu6500", 0x69),
    ] {
        // Opened but not initialised: the chips are as after power-on.
        if let Err(error) =
            board.open_sensor(&spec(driver, bus, Some(address), Duration::from_secs(1)))
        {
            panic!("{error}");
        }
    }
    let found: Vec<(u8, Option<&str>)> = match board.scan(bus) {
        Ok(hits) => hits.into_iter().map(|h| (h.address, h.chip)).collect(),
        Err(error) => panic!("{error}"),
    };
    assert_eq!(
        found,
        vec![
            (0x45, Some("ina226")),
            (0x46, Some("sht4x")),
            (0x69, Some("mpu6500")),
            (0x77, Some("bmp280")),
        ]
    );
}

#[test]
fn a_wired_chip_is_the_one_the_sensor_opens() {
    use edgewise_devsim::ina219::{Ina219Model, Load, Waveform};
    let board = SimBoard::new(SimOptions::default());
    let bus = BusAddress::I2c { bus: 2 };
    board.wire(
        2,
        0x45,
        "ina219",
        Ina219Model::new(0.1).with_load(Load {
            supply_volts: 12.0,
            current: Waveform::Dc(0.5),
            noise_amps: 0.0,
        }),
    );
    let mut sensor = open(
        &board,
        &spec("ina219", bus, Some(0x45), Duration::from_millis(10)),
    );
    let reading = sensor.read().expect("read");
    let value = |name: &str| {
        let index = sensor
            .channels()
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no channel {name}"));
        f64::from(reading.values()[index])
    };
    // The board's own INA219 would show a 5 V device drawing 80–250 mA.
    assert!(
        (value("current") - 0.5).abs() < 0.01,
        "{}",
        value("current")
    );
    // The bus voltage is measured at IN-, after the shunt: 12 V − 0.5 A × 0.1 Ω, in 4 mV steps.
    assert!(
        (value("bus_voltage") - 11.95).abs() < 0.005,
        "{}",
        value("bus_voltage")
    );
}
