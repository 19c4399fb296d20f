//! The sandbox's License Manager, for the facade: seeded settings, the state file, and the
//! stand-in lmutil's one entry point.

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::error::Error;
use crate::flexnet::time::LocalTime;
use crate::python::errors::to_pyerr;
use crate::sandbox::flexnet::{self, LicenseManager};

/// A seeded License Manager's settings as JSON (`now` as ``yyyy-mm-dd hh:mm``).
#[pyfunction]
pub fn flexnet_seeded(seed: u64, sessions: usize, now: &str) -> PyResult<String> {
    let now = LocalTime::parse(now)
        .ok_or_else(|| to_pyerr(Error::invalid(format!("{now:?} is not yyyy-mm-dd hh:mm"))))?;
    serde_json::to_string(&LicenseManager::seeded(seed, sessions, now))
        .map_err(|e| to_pyerr(Error::invalid(e.to_string())))
}

/// Writes the state file (and starts the debug log) from settings as JSON.
#[pyfunction]
pub fn flexnet_create(state: PathBuf, settings: &str) -> PyResult<()> {
    let manager: LicenseManager = serde_json::from_str(settings)
        .map_err(|e| to_pyerr(Error::invalid(format!("License Manager settings: {e}"))))?;
    flexnet::create(&state, manager).map_err(to_pyerr)
}

/// The state as JSON.
#[pyfunction]
pub fn flexnet_state(state: PathBuf) -> PyResult<String> {
    let manager = flexnet::load(&state).map_err(to_pyerr)?;
    serde_json::to_string(&manager).map_err(|e| to_pyerr(Error::invalid(e.to_string())))
}

/// Runs the stand-in lmutil: (exit code, output).
#[pyfunction]
pub fn flexnet_lmutil(py: Python<'_>, state: PathBuf, args: Vec<String>) -> (i32, String) {
    py.detach(|| flexnet::lmutil(&state, &args))
}
