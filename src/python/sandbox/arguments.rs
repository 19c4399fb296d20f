//! What a sandbox is made with, and a session added to it, checked and converted.

use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::python::errors::to_pyerr;
use crate::python::time;
use crate::sandbox::portal;

pub(super) fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    if value.is_finite() && (0.0..=3600.0).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(to_pyerr(Error::invalid(format!(
            "{name} must be between 0 and 3600 seconds, not {value}"
        ))))
    }
}

/// A session's start and idle-since times (ms since 1970) from `start` (a datetime or seconds
/// ago; now when not given) and `idle` (a timedelta or seconds; in use when not given or 0).
pub(super) fn session_times(
    start: Option<&Bound<'_, PyAny>>,
    idle: Option<&Bound<'_, PyAny>>,
) -> PyResult<(i64, Option<i64>)> {
    let now = crate::clock::now_ms();
    let start_ms = match start {
        Some(start) => time::moment_ms(start, "start", now)?,
        None => now,
    };
    let idle_since_ms = match idle {
        Some(idle) => Some(time::span_ms(idle, "idle")?)
            .filter(|ms| *ms > 0)
            .map(|ms| now - ms),
        None => None,
    };
    Ok((start_ms, idle_since_ms))
}

/// The sizes and the token lifetime a sandbox can be made with.
pub(super) fn check_sizes(
    sessions: usize,
    portal_members: usize,
    token_lifetime: f64,
) -> PyResult<()> {
    if sessions > 2_000_000 {
        return Err(to_pyerr(Error::invalid("sessions must be at most 2000000")));
    }
    if portal_members > 1_000_000 {
        return Err(to_pyerr(Error::invalid(
            "portal_members must be at most 1000000",
        )));
    }
    if !(token_lifetime.is_finite() && (1.0..=1_209_600.0).contains(&token_lifetime)) {
        return Err(to_pyerr(Error::invalid(format!(
            "token_lifetime must be between 1 second and 14 days (1209600 s), not {token_lifetime}"
        ))));
    }
    Ok(())
}

/// The portal's deployment from its name, in any letter case.
pub(super) fn deployment(name: &str) -> PyResult<portal::Deployment> {
    match name.to_ascii_lowercase().as_str() {
        "classic" => Ok(portal::Deployment::Classic),
        "kubernetes" => Ok(portal::Deployment::Kubernetes),
        other => Err(to_pyerr(Error::invalid(format!(
            "portal_deployment is \"classic\" or \"kubernetes\", not {other:?}"
        )))),
    }
}
