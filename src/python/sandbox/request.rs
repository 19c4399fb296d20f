//! One request the sandbox received, as Python sees it.

use pyo3::prelude::*;

use crate::sandbox::LoggedRequest;

/// One request the sandbox received.
#[pyclass(frozen, get_all, module = "gislicense")]
pub struct SandboxRequest {
    /// Seconds since the sandbox started.
    time: f64,
    /// ``"openlm"`` or ``"portal"``.
    service: &'static str,
    method: String,
    path: String,
    /// The query string; secrets show as ``***``.
    query: String,
    /// The OpenLM message type, or the last part of the portal path (``updateUserLicenseType``).
    operation: String,
    /// Parameters of the request (query and body); secrets show as ``***``.
    params: Vec<(String, String)>,
    /// The OpenLM session id, or the portal user the token belongs to.
    session: Option<String>,
    /// Where a portal token came in: ``"body"``, ``"query"``, ``"x-esri-authorization"``,
    /// ``"authorization"``, or None.
    token_in: Option<&'static str>,
    /// The Referer header.
    referer: Option<String>,
    /// HTTP status of the reply, 0 when the connection was dropped.
    status: u16,
    /// The injected fault (``"error"``, ``"http500"``, ``"http503"``, ``"drop"``, ``"slow"``) or None.
    fault: Option<&'static str>,
}

#[pymethods]
impl SandboxRequest {
    fn __repr__(&self) -> String {
        format!(
            "SandboxRequest({} {} {:?} -> {}{})",
            self.method,
            self.path,
            self.operation,
            self.status,
            self.fault
                .map(|f| format!(", fault={f}"))
                .unwrap_or_default()
        )
    }
}

impl From<LoggedRequest> for SandboxRequest {
    fn from(r: LoggedRequest) -> Self {
        SandboxRequest {
            time: r.time,
            service: r.service,
            method: r.method,
            path: r.path,
            query: r.query,
            operation: r.operation,
            params: r.params,
            session: r.session,
            token_in: r.token_in,
            referer: r.referer,
            status: r.status,
            fault: r.fault,
        }
    }
}
