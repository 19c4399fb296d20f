//! HTTP options handed from Python to every client.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::http;
use crate::python::errors::to_pyerr;
use crate::python::keywords::Keywords;

/// How a client talks HTTP; made by the Python facade from its keyword arguments.
#[pyclass(frozen, module = "gislicense._core")]
#[derive(Clone)]
pub struct HttpOptions {
    pub inner: http::HttpOptions,
}

/// What the facade passes for a client's HTTP options, as read from its dict.
struct HttpSettings {
    timeout: f64,
    connect_timeout: f64,
    verify: bool,
    ca_bundle: Option<PathBuf>,
    retries: u32,
    backoff: f64,
    retry_writes: bool,
    max_reply_bytes: u64,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    cert_password: Option<String>,
}

impl<'a, 'py> FromPyObject<'a, 'py> for HttpSettings {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let keys = Keywords::new(&obj, "HTTP options")?;
        let settings = HttpSettings {
            timeout: keys.get("timeout")?,
            connect_timeout: keys.get("connect_timeout")?,
            verify: keys.get("verify")?,
            ca_bundle: keys.get("ca_bundle")?,
            retries: keys.get("retries")?,
            backoff: keys.get("backoff")?,
            retry_writes: keys.get("retry_writes")?,
            max_reply_bytes: keys.get("max_reply_bytes")?,
            cert_file: keys.get("cert_file")?,
            key_file: keys.get("key_file")?,
            cert_password: keys.get("cert_password")?,
        };
        keys.finish()?;
        Ok(settings)
    }
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
    /// `settings`: the dict `gislicense._http.http_options` builds, one key per setting.
    #[new]
    fn new(settings: HttpSettings) -> PyResult<Self> {
        let HttpSettings {
            timeout,
            connect_timeout,
            verify,
            ca_bundle,
            retries,
            backoff,
            retry_writes,
            max_reply_bytes,
            cert_file,
            key_file,
            cert_password,
        } = settings;
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
