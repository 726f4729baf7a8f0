//! `edgewise scan`: which addresses answer on an I²C bus, and which chips are there.

use clap::{Args, ValueEnum};
use edgewise_boards::{BoardChoice, BusAddress, ScanHit, SimOptions};

use crate::error::CliError;

/// The board a scan runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BoardName {
    /// Simulated chips (a default population on i2c-1).
    Sim,
    /// Any embedded Linux board (/dev/i2c-N).
    Linux,
    /// A Raspberry Pi (rppal).
    Rpi,
}

impl BoardName {
    /// The real board this binary was built for, else the simulated one.
    fn built_default() -> Self {
        if cfg!(feature = "board-linux") {
            Self::Linux
        } else if cfg!(feature = "board-rpi") {
            Self::Rpi
        } else {
            Self::Sim
        }
    }
}

/// `edgewise scan` arguments.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The I²C bus: `/dev/i2c-1` or `i2c-1`.
    #[arg(long, default_value = "i2c-1")]
    bus: String,
    /// The board [default: linux when built in, else rpi when built in, else sim].
    #[arg(long, value_enum)]
    board: Option<BoardName>,
}

/// Scans the bus and prints one line per responding address.
pub fn run(args: &ScanArgs) -> Result<(), CliError> {
    let bus = match BusAddress::parse(&args.bus) {
        Some(bus @ BusAddress::I2c { .. }) => bus,
        _ => {
            return Err(CliError::new(format!(
                "--bus `{}`: expected an I²C bus such as `/dev/i2c-1` or `i2c-1`",
                args.bus
            )))
        }
    };
    let choice = match args.board.unwrap_or_else(BoardName::built_default) {
        BoardName::Sim => BoardChoice::Sim(SimOptions::default()),
        BoardName::Linux => BoardChoice::Linux,
        BoardName::Rpi => BoardChoice::Rpi,
    };
    let board = edgewise_boards::open(&choice).map_err(|e| CliError::new(e.to_string()))?;
    let hits = board.scan(bus).map_err(|e| CliError::new(e.to_string()))?;
    print!("{}", table(bus, board.name(), &hits));
    Ok(())
}

/// The scan's result as text: a heading, then address and chip per line.
fn table(bus: BusAddress, board: &str, hits: &[ScanHit]) -> String {
    let mut out = format!(
        "{bus} on the {board} board: {} responding address{}\n",
        hits.len(),
        if hits.len() == 1 { "" } else { "es" }
    );
    if !hits.is_empty() {
        out.push_str("address  chip\n");
    }
    for hit in hits {
        out.push_str(&format!(
            "0x{:02x}     {}\n",
            hit.address,
            hit.chip.unwrap_or("unknown")
        ));
    }
    out
}
