//! `bme280-read`: readings from a BME280/BMP280, on the simulated bus (default) or on a Linux
//! I²C device.
//!
//! ```text
//! bme280-read [--bus sim|/dev/i2c-N] [--addr 0x76|0x77] [--count N] [--interval-ms MS]
//!             [--oversampling 1|2|4|8|16] [--json]
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use edgewise_devsim::bme280::{Bme280Model, Environment, Signal};
use edgewise_devsim::{SimClock, SimI2cBus, StdDelay};
use edgewise_sensors::bme280::{Address, Bme280, Config, Measurement, Oversampling, Variant};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

const USAGE: &str = "usage: bme280-read [--bus sim|/dev/i2c-N] [--addr 0x76|0x77] [--count N] \
[--interval-ms MS] [--oversampling 1|2|4|8|16] [--json]";

struct Options {
    bus: String,
    address: Address,
    count: Option<u64>,
    interval: Duration,
    oversampling: Oversampling,
    json: bool,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        bus: "sim".into(),
        address: Address::Primary,
        count: None,
        interval: Duration::from_secs(1),
        oversampling: Oversampling::X1,
        json: false,
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--bus" => options.bus = value()?,
            "--addr" => {
                let text = value()?;
                let bits = u8::from_str_radix(text.trim_start_matches("0x"), 16)
                    .map_err(|_| format!("--addr {text}: not a hexadecimal address"))?;
                options.address = Address::from_bits(bits).ok_or_else(|| {
                    format!(
                        "--addr {text}: a BME280 answers only at 0x76 (SDO low) or 0x77 (SDO high)"
                    )
                })?;
            }
            "--count" => {
                let text = value()?;
                options.count = Some(
                    text.parse()
                        .map_err(|_| format!("--count {text}: not a whole number"))?,
                );
            }
            "--interval-ms" => {
                let text = value()?;
                let ms: u64 = text
                    .parse()
                    .map_err(|_| format!("--interval-ms {text}: not a whole number"))?;
                options.interval = Duration::from_millis(ms);
            }
            "--oversampling" => {
                let text = value()?;
                options.oversampling = match text.as_str() {
                    "1" => Oversampling::X1,
                    "2" => Oversampling::X2,
                    "4" => Oversampling::X4,
                    "8" => Oversampling::X8,
                    "16" => Oversampling::X16,
                    _ => return Err(format!("--oversampling {text}: one of 1, 2, 4, 8, 16")),
                };
            }
            "--json" => options.json = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn print(m: &Measurement, started: Instant, json: bool) {
    let t = started.elapsed().as_secs_f64();
    if json {
        let mut line = format!(
            "{{\"t_s\":{t:.3},\"temperature_c\":{:.2}",
            m.temperature.celsius()
        );
        if let Some(p) = m.pressure {
            line += &format!(",\"pressure_pa\":{:.2}", p.pascals());
        }
        if let Some(h) = m.humidity {
            line += &format!(",\"humidity_pct\":{:.3}", h.percent());
        }
        println!("{line}}}");
    } else {
        let mut line = format!("t={t:8.3}s  temperature {:6.2} °C", m.temperature.celsius());
        if let Some(p) = m.pressure {
            line += &format!("  pressure {:7.2} hPa", p.hectopascals());
        }
        if let Some(h) = m.humidity {
            line += &format!("  humidity {:5.1} %RH", h.percent());
        }
        println!("{line}");
    }
}

/// Takes readings until `count` is reached; a failed reading is reported and retried on the
/// next tick, as a sensor on a noisy bus needs.
fn read_loop<I2C: I2c, D: DelayNs>(i2c: I2C, mut delay: D, options: &Options) -> Result<(), String>
where
    I2C::Error: std::fmt::Debug,
{
    let config = Config {
        temperature: options.oversampling,
        pressure: options.oversampling,
        humidity: options.oversampling,
        ..Config::weather_monitoring()
    };
    let mut sensor = Bme280::new_i2c(i2c, options.address, config);
    let variant = sensor.init(&mut delay).map_err(|e| {
        format!(
            "BME280 at {} on {}: {e}",
            format_address(options.address),
            options.bus
        )
    })?;
    eprintln!(
        "{} at {} on {}: forced mode, ×{} oversampling, {:.1} ms per reading",
        match variant {
            Variant::Bme280 => "BME280",
            Variant::Bmp280 => "BMP280",
        },
        format_address(options.address),
        options.bus,
        options.oversampling.samples(),
        f64::from(sensor.max_measurement_time_us()) / 1000.0
    );
    let started = Instant::now();
    let mut taken = 0;
    loop {
        let tick = Instant::now();
        match sensor.measure(&mut delay) {
            Ok(m) => print(&m, started, options.json),
            Err(e) => eprintln!("reading failed: {e}"),
        }
        taken += 1;
        if options.count.is_some_and(|count| taken >= count) {
            return Ok(());
        }
        // Sleep what is left of the interval: readings stay on a fixed cadence.
        std::thread::sleep(options.interval.saturating_sub(tick.elapsed()));
    }
}

fn format_address(address: Address) -> String {
    format!("0x{:02X}", address.bits())
}

fn run(options: &Options) -> Result<(), String> {
    if options.bus == "sim" {
        // A simulated chip on the real clock: a weather-like day compressed into ten minutes.
        let bus = SimI2cBus::new(SimClock::real());
        let chip = Bme280Model::bme280()
            .with_noise(0x5EED)
            .with_signal(Signal::Diurnal {
                mean: Environment::default(),
                temperature_swing: 3.0,
                period_s: 600.0,
            });
        bus.attach(options.address.bits(), chip);
        return read_loop(bus, StdDelay, options);
    }
    open_linux_bus(options)
}

#[cfg(target_os = "linux")]
fn open_linux_bus(options: &Options) -> Result<(), String> {
    let i2c = linux_embedded_hal::I2cdev::new(&options.bus).map_err(|e| {
        format!(
            "cannot open I²C bus {}: {e}. Is I²C enabled and the device present? \
             (Raspberry Pi: `sudo raspi-config nonint do_i2c 0`, then `ls /dev/i2c-*`)",
            options.bus
        )
    })?;
    read_loop(i2c, StdDelay, options)
}

#[cfg(not(target_os = "linux"))]
fn open_linux_bus(options: &Options) -> Result<(), String> {
    Err(format!(
        "--bus {}: real I²C buses are supported on Linux only; use --bus sim",
        options.bus
    ))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
