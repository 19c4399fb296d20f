//! Times to and from Python: built and read through Python's datetime module (the C datetime
//! API is not in the stable ABI). The one place that turns a server's time into a datetime,
//! for OpenLM sessions and Portal members alike, and a time a person gave into milliseconds.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};

use crate::error::Error;
use crate::python::errors::to_pyerr;

struct DateTimeTools {
    epoch: Py<PyAny>,
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
            datetime: datetime.getattr("datetime")?.unbind(),
            timedelta: datetime.getattr("timedelta")?.unbind(),
        })
    })
}

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

/// A moment a person gave as `name`: a timezone-aware datetime, or a number of seconds before
/// `now_ms`; in ms since 1970. A naive datetime is refused: its zone would be a guess.
pub fn moment_ms(value: &Bound<'_, PyAny>, name: &str, now_ms: i64) -> PyResult<i64> {
    let py = value.py();
    let tools = datetime_tools(py)?;
    if !value.is_instance(tools.datetime.bind(py))? {
        return Ok(now_ms - seconds_ms(value, name)?);
    }
    if value.call_method0("utcoffset")?.is_none() {
        return Err(invalid(format!(
            "{name} is a datetime without a timezone: give an aware one, e.g. \
             datetime.now(timezone.utc) - timedelta(days=2), or seconds ago"
        )));
    }
    let since_epoch = value.sub(tools.epoch.bind(py))?;
    seconds_ms(&since_epoch.call_method0("total_seconds")?, name)
}

/// A length of time a person gave as `name`: a timedelta or a number of seconds, 0 or more;
/// in ms.
pub fn span_ms(value: &Bound<'_, PyAny>, name: &str) -> PyResult<i64> {
    let py = value.py();
    let ms = if value.is_instance(datetime_tools(py)?.timedelta.bind(py))? {
        seconds_ms(&value.call_method0("total_seconds")?, name)?
    } else {
        seconds_ms(value, name)?
    };
    if ms < 0 {
        return Err(invalid(format!("{name} is negative: give 0 or more")));
    }
    Ok(ms)
}

/// A number of seconds (an int or a float, not a bool) as whole milliseconds.
fn seconds_ms(value: &Bound<'_, PyAny>, name: &str) -> PyResult<i64> {
    let number = !value.is_instance_of::<PyBool>()
        && (value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>());
    let seconds: Option<f64> = if number { value.extract().ok() } else { None };
    match seconds {
        // Within Python's datetime range, so the milliseconds fit an i64 with room to spare.
        Some(s) if s.is_finite() && s.abs() < TIMEDELTA_MAX_SECONDS => {
            Ok((s * 1000.0).round() as i64)
        }
        Some(_) => Err(invalid(format!("{name} is too far from now"))),
        None => Err(invalid(format!(
            "{name} must be a datetime, a timedelta or a number of seconds, not {}",
            value.get_type().name()?
        ))),
    }
}

fn invalid(message: String) -> PyErr {
    to_pyerr(Error::invalid(message))
}
