//! Times a person gives: a moment (an aware datetime, or seconds ago) and a length of time (a
//! timedelta, or seconds), in milliseconds.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use super::{datetime_tools, TIMEDELTA_MAX_SECONDS};
use crate::error::Error;
use crate::python::errors::to_pyerr;

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
