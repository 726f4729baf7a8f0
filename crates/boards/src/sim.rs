//! The simulated board: devsim chips on virtual buses, on the real clock.

use crate::{Board, BoardError, BusAddress, DynSensor, ScanHit, SensorSpec, SimOptions};

/// Simulated chips, wired as the config asks.
#[derive(Debug)]
pub struct SimBoard {
    options: SimOptions,
}

impl SimBoard {
    /// A simulated board with `options`.
    pub fn new(options: SimOptions) -> Self {
        Self { options }
    }
}

impl Board for SimBoard {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn open_sensor(&self, spec: &SensorSpec) -> Result<Box<dyn DynSensor>, BoardError> {
        let _ = &self.options;
        Err(BoardError::Unsupported {
            sensor: spec.name.clone(),
            problem: "not yet wired".into(),
        })
    }

    fn scan(&self, _bus: BusAddress) -> Result<Vec<ScanHit>, BoardError> {
        Ok(Vec::new())
    }
}
