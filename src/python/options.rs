//! HTTP options handed from Python to every client.

use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::http;
use crate::python::errors::to_pyerr;

/// How a client talks HTTP; made by the Python facade from its keyword arguments.
#[pyclass(frozen, module = "gislicense._core")]
#[derive(Clone)]
pub struct HttpOptions {
    pub inner: http::HttpOptions,
}

fn seconds(name: &str, value: f64) -> Result<Duration, Error> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::invalid(format!(
            "{name} must be a number of seconds above 0 and at most 86400, not {value}"
        )))
    }
}

#[pymethods]
impl HttpOptions {
    #[new]
    #[pyo3(signature = (*, timeout, connect_timeout, verify, ca_bundle, retries, backoff, retry_writes, max_reply_bytes, cert_file = None, key_file = None, cert_password = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        timeout: f64,
        connect_timeout: f64,
        verify: bool,
        ca_bundle: Option<std::path::PathBuf>,
        retries: u32,
        backoff: f64,
        retry_writes: bool,
        max_reply_bytes: u64,
        cert_file: Option<std::path::PathBuf>,
        key_file: Option<std::path::PathBuf>,
        cert_password: Option<String>,
    ) -> PyResult<Self> {
        let build = || -> Result<http::HttpOptions, Error> {
            if retries > 10 {
                return Err(Error::invalid(format!(
                    "retries must be at most 10, not {retries}"
                )));
            }
            if !(backoff.is_finite() && (0.0..=60.0).contains(&backoff)) {
                return Err(Error::invalid(format!(
                    "backoff must be between 0 and 60 seconds, not {backoff}"
                )));
            }
            let client_identity = match (&cert_file, &key_file, &cert_password) {
                (Some(cert), key, password) => Some(std::sync::Arc::new(
                    crate::http_trust::ClientIdentity::load(
                        cert,
                        key.as_deref(),
                        password.as_deref(),
                    )?,
                )),
                (None, Some(_), _) => {
                    return Err(Error::invalid(
                        "key_file= needs its certificate as cert_file=",
                    ))
                }
                (None, None, Some(_)) => {
                    return Err(Error::invalid(
                        "cert_password= opens a PKCS#12 file given as cert_file=",
                    ))
                }
                (None, None, None) => None,
            };
            Ok(http::HttpOptions {
                timeout: seconds("timeout", timeout)?,
                connect_timeout: seconds("connect_timeout", connect_timeout)?,
                verify,
                ca_bundle,
                retries,
                backoff: Duration::from_secs_f64(backoff),
                retry_writes,
                max_reply_bytes,
                client_identity,
            })
        };
        build().map(|inner| HttpOptions { inner }).map_err(to_pyerr)
    }

    #[getter]
    fn timeout(&self) -> f64 {
        self.inner.timeout.as_secs_f64()
    }

    #[getter]
    fn verify(&self) -> bool {
        self.inner.verify
    }
}
