//! Times to and from Python: built and read through Python's datetime module (the C datetime
//! API is not in the stable ABI). The one place that turns a server's time into a datetime,
//! for OpenLM sessions and Portal members alike, and a time a person gave into milliseconds.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};

struct DateTimeTools {
    epoch: Py<PyAny>,
    // Read by the sandbox's bindings only (`moment_ms`).
    #[cfg(feature = "sandbox")]
    datetime: Py<PyAny>,
    timedelta: Py<PyAny>,
}

fn datetime_tools(py: Python<'_>) -> PyResult<&DateTimeTools> {
    static TOOLS: PyOnceLock<DateTimeTools> = PyOnceLock::new();
    TOOLS.get_or_try_init(py, || {
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let epoch = datetime
            .getattr("datetime")?
            .call((1970, 1, 1, 0, 0, 0, 0, utc), None)?;
        Ok(DateTimeTools {
            epoch: epoch.unbind(),
            #[cfg(feature = "sandbox")]
            datetime: datetime.getattr("datetime")?.unbind(),
            timedelta: datetime.getattr("timedelta")?.unbind(),
        })
    })
}

// Times a person gives (as a sandbox session's start and idle time).
#[cfg(feature = "sandbox")]
mod given;
#[cfg(feature = "sandbox")]
pub use given::{moment_ms, span_ms};

/// Milliseconds from 1970 to the first and the last instant Python's datetime can hold
/// (0001-01-01 and 9999-12-31 23:59:59.999 UTC).
const DATETIME_MS: std::ops::RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// The longest timedelta, in seconds (999,999,999 days).
const TIMEDELTA_MAX_SECONDS: f64 = 999_999_999.0 * 86_400.0;

/// A UTC datetime, or None when Python's datetime cannot hold the time (a server sent
/// nonsense): the typed field reads as None and the raw value stays as received.
pub fn utc_datetime(py: Python<'_>, ms: i64) -> PyResult<Py<PyAny>> {
    if !DATETIME_MS.contains(&ms) {
        return Ok(py.None());
    }
    let tools = datetime_tools(py)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("milliseconds", ms)?;
    let delta = tools.timedelta.bind(py).call((), Some(&kwargs))?;
    Ok(tools.epoch.bind(py).add(delta)?.unbind())
}

/// A timedelta, or None when Python's timedelta cannot hold it.
pub fn timedelta(py: Python<'_>, seconds: f64) -> PyResult<Py<PyAny>> {
    if !(seconds.is_finite() && seconds.abs() < TIMEDELTA_MAX_SECONDS) {
        return Ok(py.None());
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("seconds", seconds)?;
    Ok(datetime_tools(py)?
        .timedelta
        .bind(py)
        .call((), Some(&kwargs))?
        .unbind())
}

/// A Portal time (ms since 1970, as a JSON number) as a UTC datetime; None for never (-1),
/// missing, garbage, or a time Python's datetime cannot hold.
#[pyfunction]
pub fn utc_from_ms(py: Python<'_>, ms: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if ms.is_instance_of::<PyBool>() {
        return Ok(py.None());
    }
    let whole = if ms.is_instance_of::<PyInt>() {
        // An int too large for i64 is past any datetime.
        ms.extract::<i64>().unwrap_or(i64::MAX)
    } else if ms.is_instance_of::<PyFloat>() {
        let value: f64 = ms.extract()?;
        if !value.is_finite() || value.abs() > 1e18 {
            return Ok(py.None());
        }
        value as i64
    } else {
        return Ok(py.None());
    };
    if whole <= 0 {
        return Ok(py.None());
    }
    utc_datetime(py, whole)
}
