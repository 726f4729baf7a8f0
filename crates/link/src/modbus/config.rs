//! What to poll: the device, and the register map of the points to read from it.
//!
//! A [`ModbusConfig`] is plain data (the runtime fills it from its TOML file); it is checked
//! once, when a [`super::ModbusSource`] is built from it, and every problem found is a
//! [`ConfigError`] naming the source and the point.
//!
//! ## Addresses
//!
//! [`Point::address`] is the 0-based *protocol* address, the number that goes on the wire. Device
//! manuals often list Modicon reference numbers instead: `40001` is holding register 0, `30001`
//! is input register 0 (six-digit forms `400001`, `300001` likewise). [`parse_reference`] and
//! [`Point::at_reference`] turn such a reference into kind and address, so a map can be copied
//! from a manual without off-by-one mistakes; a plain address is never reinterpreted.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The most registers one read request may ask for (Modbus Application Protocol v1.1b3,
/// functions 0x03 and 0x04).
pub const MAX_REGISTERS_PER_READ: u16 = 125;

/// A Modbus TCP device to poll and the points to read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModbusConfig {
    /// The source's name in its readings (`Reading::sensor`), e.g. `"meter"`.
    pub sensor: Cow<'static, str>,
    /// Where the device (or gateway) listens: `host:port`, e.g. `"192.168.1.20:502"`,
    /// `"plc.local:502"` or `"[fd00::7]:502"`. Names are resolved at every (re)connect.
    pub address: String,
    /// The unit identifier (slave id) sent with every request. Gateways use it to pick the
    /// serial device behind them; a device on TCP directly usually accepts 1, 0 or 255.
    /// Default 1.
    pub unit_id: u8,
    /// How long to wait for the connection, and for each response. Default 1 s.
    pub timeout: Duration,
    /// How many unused registers between two points a read may span, to save a round trip
    /// (two bytes each instead of a request). Some devices answer "illegal data address" for
    /// registers they do not implement; set 0 for those. Default 8.
    pub max_gap: u16,
    /// The first wait before reconnecting after a failed connect; it doubles (with jitter)
    /// up to [`ModbusConfig::backoff_cap`]. Default 100 ms.
    pub backoff_initial: Duration,
    /// The longest wait between connection attempts. Default 30 s.
    pub backoff_cap: Duration,
    /// The points, in the order their fields appear in each reading.
    pub points: Vec<Point>,
}

impl ModbusConfig {
    /// A source named `sensor` polling the device at `address` (`host:port`), with the
    /// defaults above and no points yet.
    pub fn new(sensor: impl Into<Cow<'static, str>>, address: impl Into<String>) -> Self {
        Self {
            sensor: sensor.into(),
            address: address.into(),
            unit_id: 1,
            timeout: Duration::from_secs(1),
            max_gap: 8,
            backoff_initial: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(30),
            points: Vec::new(),
        }
    }

    /// Sets the unit identifier.
    pub fn unit_id(mut self, unit_id: u8) -> Self {
        self.unit_id = unit_id;
        self
    }

    /// Sets the connect and response timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how many unused registers a read may span.
    pub fn max_gap(mut self, registers: u16) -> Self {
        self.max_gap = registers;
        self
    }

    /// Sets the reconnect back-off: the first wait and the longest.
    pub fn backoff(mut self, initial: Duration, cap: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_cap = cap;
        self
    }

    /// Adds a point.
    pub fn point(mut self, point: Point) -> Self {
        self.points.push(point);
        self
    }

    /// Checks everything that can be checked without the device; the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let source_error = |problem: String| ConfigError {
            sensor: self.sensor.to_string(),
            point: None,
            problem,
        };
        if self.sensor.trim().is_empty() {
            return Err(source_error("the sensor name is empty".into()));
        }
        check_address(&self.address).map_err(source_error)?;
        if self.timeout.is_zero() {
            return Err(source_error("the timeout is zero".into()));
        }
        if self.backoff_initial.is_zero() || self.backoff_cap < self.backoff_initial {
            return Err(source_error(format!(
                "the reconnect back-off must start above zero and not exceed its cap \
                 (initial {:?}, cap {:?})",
                self.backoff_initial, self.backoff_cap
            )));
        }
        if self.points.is_empty() {
            return Err(source_error("no points to read".into()));
        }
        for (index, point) in self.points.iter().enumerate() {
            let point_error = |problem: String| ConfigError {
                sensor: self.sensor.to_string(),
                point: Some(if point.name.is_empty() {
                    format!("#{}", index + 1)
                } else {
                    point.name.to_string()
                }),
                problem,
            };
            point.validate().map_err(point_error)?;
            if self.points[..index].iter().any(|p| p.name == point.name) {
                return Err(point_error(
                    "the name is used by an earlier point; channel names must be unique".into(),
                ));
            }
        }
        Ok(())
    }
}

/// `host:port` with a non-empty host and a port in 1..=65535.
fn check_address(address: &str) -> Result<(), String> {
    let problem = |what: &str| format!("address `{address}`: {what}; expected `host:port`");
    let (host, port) = address.rsplit_once(':').ok_or_else(|| problem("no port"))?;
    if host.is_empty() || host == "[]" {
        return Err(problem("no host"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(problem(
            "an IPv6 address needs brackets, as in `[fd00::7]:502`",
        ));
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(problem("the port is not a number in 1..=65535")),
        Ok(_) => Ok(()),
    }
}

/// One value read from the device: which registers, how to decode them, and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The channel name of its field in the reading, e.g. `"voltage_l1"`.
    pub name: Cow<'static, str>,
    /// The SenML unit symbol (RFC 8428 section 12.1, e.g. `"V"`, `"A"`, `"W"`, `"Cel"`), or
    /// empty when unitless. Free-form here apart from a check for printable ASCII; the SenML
    /// encoder checks it against the registry.
    pub unit: Cow<'static, str>,
    /// Holding (function 0x03) or input (0x04) registers.
    pub kind: RegisterKind,
    /// The 0-based protocol address of its first register (see the module docs).
    pub address: u16,
    /// How the registers encode the raw value.
    pub data_type: DataType,
    /// Which register holds the high word of a 32-bit value.
    pub word_order: WordOrder,
    /// The value is `raw · scale + offset`. Default 1.
    pub scale: f64,
    /// See [`Point::scale`]. Default 0.
    pub offset: f64,
}

impl Point {
    /// A unitless point of `data_type` at protocol `address`, big-endian word order, no
    /// scaling.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        kind: RegisterKind,
        address: u16,
        data_type: DataType,
    ) -> Self {
        Self {
            name: name.into(),
            unit: Cow::Borrowed(""),
            kind,
            address,
            data_type,
            word_order: WordOrder::HighWordFirst,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// The same from a Modicon reference number as manuals print it (`"40001"`, `"300017"`).
    pub fn at_reference(
        name: impl Into<Cow<'static, str>>,
        reference: &str,
        data_type: DataType,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        let (kind, address) = parse_reference(reference).map_err(|problem| ConfigError {
            sensor: String::new(),
            point: Some(name.to_string()),
            problem,
        })?;
        Ok(Self::new(name, kind, address, data_type))
    }

    /// Sets the SenML unit.
    pub fn unit(mut self, unit: impl Into<Cow<'static, str>>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Sets the word order (32-bit types only).
    pub fn word_order(mut self, order: WordOrder) -> Self {
        self.word_order = order;
        self
    }

    /// Sets the scale: value = raw · scale + offset.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// Sets the offset: value = raw · scale + offset.
    pub fn offset(mut self, offset: f64) -> Self {
        self.offset = offset;
        self
    }

    /// How many registers the point occupies.
    pub fn registers(&self) -> u16 {
        self.data_type.registers()
    }

    /// The value the point's registers hold, scaled. `words` are its registers as read, in
    /// address order (exactly [`Point::registers`] of them).
    pub fn value(&self, words: &[u16]) -> f64 {
        self.data_type.decode(self.word_order, words) * self.scale + self.offset
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("the name is empty".into());
        }
        if let Some(bad) = self.unit.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "unit `{}` contains {bad:?}; SenML units are printable ASCII without spaces \
                 (`Cel`, `%RH`, `m/s2`)",
                self.unit
            ));
        }
        let last = u32::from(self.address) + u32::from(self.registers()) - 1;
        if last > u32::from(u16::MAX) {
            return Err(format!(
                "a {} at address {} needs registers up to {last}, past the last address 65535",
                self.data_type, self.address
            ));
        }
        if self.registers() == 1 && self.word_order != WordOrder::HighWordFirst {
            return Err(format!(
                "word order {} applies to 32-bit types only, and this point is a {}",
                self.word_order, self.data_type
            ));
        }
        if !self.scale.is_finite() || self.scale == 0.0 {
            return Err(format!(
                "scale {} must be a finite, non-zero number",
                self.scale
            ));
        }
        if !self.offset.is_finite() {
            return Err(format!("offset {} must be a finite number", self.offset));
        }
        Ok(())
    }
}

/// Which register table a point lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegisterKind {
    /// Holding registers: read with function 0x03; references 4xxxx.
    Holding,
    /// Input registers: read with function 0x04; references 3xxxx.
    Input,
}

impl RegisterKind {
    /// The Modbus function code that reads this kind.
    pub fn function_code(self) -> u8 {
        match self {
            Self::Holding => 0x03,
            Self::Input => 0x04,
        }
    }

    /// The Modicon reference of protocol address `address` (`40001` for holding register 0).
    pub fn reference(self, address: u16) -> u32 {
        let base = match self {
            Self::Holding => 40_001,
            Self::Input => 30_001,
        };
        // Addresses beyond 9998 only have the six-digit form (400001 + address).
        if address <= 9_998 {
            base + u32::from(address)
        } else {
            base * 10 - 9 + u32::from(address)
        }
    }
}

impl fmt::Display for RegisterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Holding => "holding",
            Self::Input => "input",
        })
    }
}

impl FromStr for RegisterKind {
    type Err = String;

    /// `holding` or `input`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "holding" => Ok(Self::Holding),
            "input" => Ok(Self::Input),
            other => Err(format!(
                "register kind `{other}`: expected `holding` or `input` (coils and discrete \
                 inputs are not supported)"
            )),
        }
    }
}

/// How a point's registers encode its raw value. Within a register, bytes are big-endian, as
/// the Modbus specification fixes; byte-swapped 32-bit layouts (`BADC`, `DCBA`) are not
/// supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Unsigned 16-bit integer, one register.
    U16,
    /// Signed (two's complement) 16-bit integer, one register.
    I16,
    /// Unsigned 32-bit integer, two registers.
    U32,
    /// Signed (two's complement) 32-bit integer, two registers.
    I32,
    /// IEEE 754 single precision, two registers.
    F32,
}

impl DataType {
    /// How many registers a value occupies.
    pub fn registers(self) -> u16 {
        match self {
            Self::U16 | Self::I16 => 1,
            Self::U32 | Self::I32 | Self::F32 => 2,
        }
    }

    /// The raw value of `words` (a value's registers in address order).
    fn decode(self, order: WordOrder, words: &[u16]) -> f64 {
        let word = |i: usize| words.get(i).copied().unwrap_or(0);
        let (high, low) = match order {
            WordOrder::HighWordFirst => (word(0), word(1)),
            WordOrder::LowWordFirst => (word(1), word(0)),
        };
        let bits = (u32::from(high) << 16) | u32::from(low);
        match self {
            Self::U16 => f64::from(word(0)),
            Self::I16 => f64::from(word(0).cast_signed()),
            Self::U32 => f64::from(bits),
            Self::I32 => f64::from(bits.cast_signed()),
            Self::F32 => f64::from(f32::from_bits(bits)),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::U16 => "u16",
            Self::I16 => "i16",
            Self::U32 => "u32",
            Self::I32 => "i32",
            Self::F32 => "f32",
        })
    }
}

impl FromStr for DataType {
    type Err = String;

    /// `u16`, `i16`, `u32`, `i32` or `f32`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "u16" => Ok(Self::U16),
            "i16" => Ok(Self::I16),
            "u32" => Ok(Self::U32),
            "i32" => Ok(Self::I32),
            "f32" => Ok(Self::F32),
            other => Err(format!(
                "data type `{other}`: expected one of u16, i16, u32, i32, f32"
            )),
        }
    }
}

/// Which of a 32-bit value's two registers holds its high word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordOrder {
    /// `ABCD`: the high word at the lower address (big-endian throughout; the common case).
    HighWordFirst,
    /// `CDAB`: the low word at the lower address ("word-swapped", as many meters and PLCs
    /// store 32-bit values).
    LowWordFirst,
}

impl fmt::Display for WordOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HighWordFirst => "ABCD",
            Self::LowWordFirst => "CDAB",
        })
    }
}

impl FromStr for WordOrder {
    type Err = String;

    /// `ABCD` or `CDAB`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "ABCD" => Ok(Self::HighWordFirst),
            "CDAB" => Ok(Self::LowWordFirst),
            other => Err(format!(
                "word order `{other}`: expected `ABCD` (high word first) or `CDAB` (low word \
                 first)"
            )),
        }
    }
}

/// The register kind and 0-based protocol address of a Modicon reference number: `40001`–
/// `49999` and `400001`–`465536` are holding registers, `30001`–`39999` and `300001`–`365536`
/// input registers, each counted from 1.
pub fn parse_reference(reference: &str) -> Result<(RegisterKind, u16), String> {
    let problem = |what: &str| {
        format!(
            "reference `{reference}`: {what}; expected 4xxxx/4xxxxx (holding) or 3xxxx/3xxxxx \
             (input), counted from 1"
        )
    };
    if !(reference.len() == 5 || reference.len() == 6)
        || !reference.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(problem("not a five- or six-digit reference number"));
    }
    let (table, number) = reference.split_at(1);
    let kind =
        match table {
            "4" => RegisterKind::Holding,
            "3" => RegisterKind::Input,
            "0" | "1" => return Err(problem(
                "coils and discrete inputs (0xxxx, 1xxxx) are bits; this source reads registers",
            )),
            _ => return Err(problem("unknown register table")),
        };
    let number: u32 = number.parse().map_err(|_| problem("not a number"))?;
    match number.checked_sub(1).map(u16::try_from) {
        Some(Ok(address)) => Ok((kind, address)),
        _ => Err(problem("the register number must be in 1..=65536")),
    }
}

/// A configuration that cannot work, with the source and point it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The source's sensor name (empty for a point checked on its own).
    pub sensor: String,
    /// The point's name (or `#n`, its position, when it has none), if a point is at fault.
    pub point: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("modbus source")?;
        if !self.sensor.is_empty() {
            write!(f, " `{}`", self.sensor)?;
        }
        if let Some(point) = &self.point {
            write!(f, ", point `{point}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter() -> ModbusConfig {
        ModbusConfig::new("meter", "127.0.0.1:502")
            .point(Point::new("voltage", RegisterKind::Input, 0, DataType::F32).unit("V"))
    }

    fn problem_of(config: &ModbusConfig) -> String {
        match config.validate() {
            Ok(()) => panic!("accepted: {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn decodes_the_ieee_and_twos_complement_examples_in_both_word_orders() {
        // 21.5 is 0x41AC_0000 in IEEE 754 single precision.
        assert_eq!(
            DataType::F32.decode(WordOrder::HighWordFirst, &[0x41AC, 0x0000]),
            21.5
        );
        assert_eq!(
            DataType::F32.decode(WordOrder::LowWordFirst, &[0x0000, 0x41AC]),
            21.5
        );
        assert_eq!(
            DataType::I32.decode(WordOrder::HighWordFirst, &[0xFFFF, 0xFFFE]),
            -2.0
        );
        assert_eq!(
            DataType::U32.decode(WordOrder::LowWordFirst, &[0x5678, 0x1234]),
            f64::from(0x1234_5678_u32)
        );
        assert_eq!(
            DataType::I16.decode(WordOrder::HighWordFirst, &[0x8000]),
            -32768.0
        );
        assert_eq!(
            DataType::U16.decode(WordOrder::HighWordFirst, &[0x8000]),
            32768.0
        );
        let scaled = Point::new("p", RegisterKind::Holding, 0, DataType::I16)
            .scale(0.1)
            .offset(-40.0);
        assert_eq!(scaled.value(&[0xFFF6]), -10.0 * 0.1 - 40.0);
    }

    #[test]
    fn modicon_references_count_from_one() {
        assert_eq!(parse_reference("40001"), Ok((RegisterKind::Holding, 0)));
        assert_eq!(parse_reference("30010"), Ok((RegisterKind::Input, 9)));
        assert_eq!(
            parse_reference("465536"),
            Ok((RegisterKind::Holding, 65535))
        );
        assert_eq!(parse_reference("300001"), Ok((RegisterKind::Input, 0)));
        for bad in [
            "40000", "00001", "10001", "4001", "465537", "4000a", "50001",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad} accepted");
        }
        for address in [0, 9, 9_998, 9_999, 65_535] {
            for kind in [RegisterKind::Holding, RegisterKind::Input] {
                let reference = kind.reference(address).to_string();
                assert_eq!(
                    parse_reference(&reference),
                    Ok((kind, address)),
                    "{reference}"
                );
            }
        }
        let point = Point::at_reference("v", "30001", DataType::U16)
            .unwrap_or_else(|e| panic!("30001: {e}"));
        assert_eq!((point.kind, point.address), (RegisterKind::Input, 0));
    }

    #[test]
    fn a_valid_map_passes_and_each_mistake_is_named() {
        assert_eq!(meter().validate(), Ok(()));

        let cases: [(ModbusConfig, &str); 10] = [
            (
                ModbusConfig {
                    sensor: " ".into(),
                    ..meter()
                },
                "sensor name is empty",
            ),
            (
                ModbusConfig {
                    address: "127.0.0.1".into(),
                    ..meter()
                },
                "no port",
            ),
            (
                ModbusConfig {
                    address: "host:0".into(),
                    ..meter()
                },
                "port",
            ),
            (
                ModbusConfig {
                    address: "::1:502".into(),
                    ..meter()
                },
                "brackets",
            ),
            (
                ModbusConfig {
                    timeout: Duration::ZERO,
                    ..meter()
                },
                "timeout is zero",
            ),
            (
                ModbusConfig {
                    points: vec![],
                    ..meter()
                },
                "no points",
            ),
            (
                meter().point(Point::new(
                    "voltage",
                    RegisterKind::Holding,
                    9,
                    DataType::U16,
                )),
                "point `voltage`: the name is used by an earlier point",
            ),
            (
                meter().point(Point::new("t", RegisterKind::Holding, 65535, DataType::F32)),
                "point `t`: a f32 at address 65535 needs registers up to 65536",
            ),
            (
                meter().point(
                    Point::new("t", RegisterKind::Holding, 1, DataType::I16)
                        .word_order(WordOrder::LowWordFirst),
                ),
                "word order CDAB applies to 32-bit types only",
            ),
            (
                meter().point(Point::new("t", RegisterKind::Holding, 1, DataType::I16).unit("° C")),
                "unit `° C` contains '°'",
            ),
        ];
        for (config, expected) in cases {
            let problem = problem_of(&config);
            assert!(problem.contains(expected), "{problem:?} lacks {expected:?}");
            assert!(problem.starts_with("modbus source `"), "{problem}");
        }
        let nan_scale =
            meter().point(Point::new("t", RegisterKind::Holding, 1, DataType::U16).scale(f64::NAN));
        assert!(problem_of(&nan_scale).contains("scale NaN"));
        let nameless = meter().point(Point::new("", RegisterKind::Holding, 1, DataType::U16));
        assert!(problem_of(&nameless).contains("point `#2`: the name is empty"));
    }

    #[test]
    fn names_in_config_files_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!("f32".parse(), Ok(DataType::F32));
        assert_eq!("CDAB".parse(), Ok(WordOrder::LowWordFirst));
        assert_eq!("input".parse(), Ok(RegisterKind::Input));
        let error = "float".parse::<DataType>().err().unwrap_or_default();
        assert!(error.contains("u16, i16, u32, i32, f32"), "{error}");
        let error = "coil".parse::<RegisterKind>().err().unwrap_or_default();
        assert!(error.contains("coils"), "{error}");
    }
}
