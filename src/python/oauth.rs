//! Bindings for an OAuth 2.0 sign-in under way (`crate::portal::oauth`): the page to open,
//! and the code, from the loopback listener or pasted. Codes stay opaque to Python.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::portal::oauth::{self as core, AuthorizationCode};
use crate::python::errors::to_pyerr;
use crate::python::wait::Call;

/// One sign-in under way, behind ``GIS(url, client_id=...)``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct Authorization {
    inner: Arc<core::Authorization>,
}

#[pymethods]
impl Authorization {
    #[new]
    #[pyo3(signature = (url, client_id, loopback, refresh_minutes, allow_insecure_http))]
    fn new(
        url: &str,
        client_id: &str,
        loopback: bool,
        refresh_minutes: u32,
        allow_insecure_http: bool,
    ) -> PyResult<Self> {
        let inner = core::Authorization::start(
            url,
            client_id,
            loopback,
            refresh_minutes,
            allow_insecure_http,
        )
        .map_err(to_pyerr)?;
        Ok(Authorization {
            inner: Arc::new(inner),
        })
    }

    /// The portal's sign-in page to open.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    /// Whether the code comes back to the loopback listener (else it is pasted).
    #[getter]
    fn is_loopback(&self) -> bool {
        self.inner.is_loopback()
    }

    /// Wait (at most `timeout` seconds) for the browser to bring the code back.
    fn receive(&self, timeout: f64) -> Call {
        let timeout = match Duration::try_from_secs_f64(timeout) {
            Ok(t) if !t.is_zero() && t <= Duration::from_secs(86_400) => t,
            _ => {
                return Call::failed(Error::invalid(format!(
                    "sign_in_timeout must be a number of seconds above 0 and at most 86400, not \
                     {timeout}"
                )))
            }
        };
        let inner = self.inner.clone();
        Call::new(async move {
            let code = inner.receive(timeout).await?;
            Ok(Code { inner: code })
        })
    }

    /// The code from what a person pasted: the code, or the whole redirect URL.
    fn code_from_text(&self, text: &str) -> PyResult<Code> {
        let code = self.inner.code_from_text(text).map_err(to_pyerr)?;
        Ok(Code { inner: code })
    }

    fn __repr__(&self) -> String {
        format!("Authorization(url={:?})", self.inner.url())
    }
}

/// An authorization code and its PKCE verifier, to exchange once; never shown.
#[pyclass(frozen, module = "gislicense._core")]
pub struct Code {
    pub(crate) inner: AuthorizationCode,
}

#[pymethods]
impl Code {
    fn __repr__(&self) -> &'static str {
        "Code(***)"
    }
}
