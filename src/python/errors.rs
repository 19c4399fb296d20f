//! `Error` to Python exception: the classes live in `gislicense.exceptions` (Python), so that
//! users can read, subclass and document them; here they are only looked up and raised.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::error::Error;

fn exceptions_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || py.import("gislicense.exceptions").map(Bound::unbind))
        .map(|m| m.bind(py))
}

fn class_name(err: &Error) -> &'static str {
    match err {
        Error::InvalidInput(_) => "InvalidInputError",
        Error::Transport { .. } => "TransportError",
        Error::Timeout { .. } => "RequestTimeoutError",
        Error::Tls { .. } => "TLSError",
        Error::Authentication { .. } => "AuthenticationError",
        Error::TokenExpired { .. } => "TokenExpiredError",
        Error::PermissionDenied { .. } => "PermissionDeniedError",
        Error::NotFound { .. } => "NotFoundError",
        Error::Server { .. } => "ServerError",
        Error::UnreadableReply { .. } => "UnreadableReplyError",
        Error::OutcomeUnknown { .. } => "OutcomeUnknownError",
        Error::ListingCutOff { .. } => "ListingCutOffError",
        Error::Journal { .. } => "JournalError",
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let class = exceptions_module(py)?.getattr(class_name(err))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("url", err.url())?;
    match err {
        Error::Server {
            status,
            code,
            details,
            message,
            ..
        } => {
            kwargs.set_item("status", status)?;
            kwargs.set_item("code", code)?;
            kwargs.set_item("server_message", message)?;
            kwargs.set_item("details", details.clone())?;
        }
        Error::UnreadableReply {
            status, body_start, ..
        } => {
            kwargs.set_item("status", status)?;
            kwargs.set_item("body_start", body_start)?;
        }
        Error::Journal { path, .. } => kwargs.set_item("path", path)?,
        _ => {}
    }
    let instance = class.call((err.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// The Python exception for an error.
pub fn to_pyerr(err: Error) -> PyErr {
    Python::attach(|py| build(py, &err).unwrap_or_else(|lookup| lookup))
}

/// A panic or cancelled task in the runtime: never lose it silently, never abort Python.
pub fn internal(what: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(format!("gislicense internal error: {what}"))
}
