//! Bindings for the sandbox.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::Error;
use crate::python::errors::to_pyerr;
use crate::runtime::runtime;
use crate::sandbox::{self as core, portal, FaultKind, FaultRates, PortalSiteOptions};

mod arguments;
mod request;

use arguments::{seconds, SandboxSettings, SessionSettings};
pub use request::SandboxRequest;

/// Emulated license servers on loopback, speaking the real wire protocols: the base of
/// ``gislicense.Sandbox``, which takes the public keywords.
#[pyclass(frozen, subclass, module = "gislicense._core")]
pub struct Sandbox {
    running: Mutex<Option<core::Sandbox>>,
    openlm_credentials: (String, String),
    portal: PortalSiteOptions,
}

impl Sandbox {
    fn with<T>(&self, f: impl FnOnce(&core::Sandbox) -> T) -> PyResult<T> {
        let guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(sandbox) => Ok(f(sandbox)),
            None => Err(to_pyerr(Error::invalid("the sandbox is stopped"))),
        }
    }
}

#[pymethods]
impl Sandbox {
    /// `settings`: the dict ``gislicense.Sandbox`` builds from its keywords, read here rather
    /// than as a typed argument so that a bad value names only the keyword it came from.
    #[new]
    fn new(py: Python<'_>, settings: &Bound<'_, PyAny>) -> PyResult<Self> {
        crate::python::ensure_logging();
        let options = settings.extract::<SandboxSettings>()?.options()?;
        let sandbox = py
            .detach(|| runtime().block_on(core::Sandbox::start(options)))
            .map_err(to_pyerr)?;
        // Read back: beyond loopback, random passwords replace the well-known ones.
        let credentials = (
            sandbox.options().openlm.username.clone(),
            sandbox.options().openlm.password.clone(),
        );
        let portal = sandbox.options().portal.clone();
        Ok(Sandbox {
            running: Mutex::new(Some(sandbox)),
            openlm_credentials: credentials,
            portal,
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) {
        self.stop(py);
    }

    fn __repr__(&self) -> String {
        match self.with(|s| (s.openlm_url(), s.portal_url())) {
            Ok((openlm, portal)) => {
                format!("Sandbox(openlm_url={openlm:?}, portal_url={portal:?})")
            }
            Err(_) => "Sandbox(stopped)".into(),
        }
    }

    /// The user name OpenLM accepts in permissions mode.
    #[getter]
    fn openlm_username(&self) -> &str {
        &self.openlm_credentials.0
    }

    /// The password OpenLM accepts in permissions mode (a test credential, shown on purpose).
    #[getter]
    fn openlm_password(&self) -> &str {
        &self.openlm_credentials.1
    }

    /// An administrator of the sandbox portal's organization.
    #[getter]
    fn admin_username(&self) -> &str {
        &self.portal.admin_username
    }

    /// The administrator's password (a test credential, shown on purpose).
    #[getter]
    fn admin_password(&self) -> &str {
        &self.portal.admin_password
    }

    /// An ordinary member (role User, user type Creator) of the sandbox portal.
    #[getter]
    fn user_username(&self) -> &str {
        &self.portal.user_username
    }

    /// The ordinary member's password (a test credential, shown on purpose).
    #[getter]
    fn user_password(&self) -> &str {
        &self.portal.user_password
    }

    /// The client id of the sandbox portal's registered OAuth app (redirects to loopback
    /// addresses on any port, or ``urn:ietf:wg:oauth:2.0:oob``).
    #[getter]
    fn oauth_client_id(&self) -> &str {
        &self.portal.oauth_client_id
    }

    /// The registered app's client secret, for app credentials (a test credential, shown on
    /// purpose).
    #[getter]
    fn oauth_client_secret(&self) -> &str {
        &self.portal.oauth_client_secret
    }

    /// The portal, as ``https://127.0.0.1:<port>/portal``; trust it with ``ca_bundle=sb.ca_file``.
    #[getter]
    fn portal_url(&self) -> PyResult<String> {
        self.with(|s| s.portal_url())
    }

    /// Every member of the sandbox portal, as dicts (the REST fields plus ``proOffline``).
    fn portal_users<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let members = self.with(|s| s.shared().portal.members())?;
        members
            .iter()
            .map(|m| crate::python::json::dict(py, &portal::member_map(m)))
            .collect()
    }

    /// One member of the sandbox portal, by user name or id, as a dict.
    fn portal_user<'py>(&self, py: Python<'py>, username: &str) -> PyResult<Bound<'py, PyDict>> {
        let member = self.with(|s| s.shared().portal.member(username))?;
        match member {
            Some(m) => crate::python::json::dict(py, &portal::member_map(&m)),
            None => Err(to_pyerr(Error::invalid(format!(
                "the sandbox portal has no member {username:?}"
            )))),
        }
    }

    /// Check a member's ArcGIS Pro license out for offline use (or back in).
    #[pyo3(signature = (username, offline = true))]
    fn set_pro_offline(&self, username: &str, offline: bool) -> PyResult<()> {
        self.with(|s| s.shared().portal.set_pro_offline(username, offline))?
            .map_err(to_pyerr)
    }

    /// Check a member's license of ``app`` (``arcgisprodesktop``, ``drone2map``,
    /// ``arcgisallsource``) out for offline use (or back in).
    #[pyo3(signature = (username, app = "arcgisprodesktop", offline = true))]
    fn set_offline(&self, username: &str, app: &str, offline: bool) -> PyResult<()> {
        self.with(|s| s.shared().portal.set_offline(username, app, offline))?
            .map_err(to_pyerr)
    }

    /// Set how many of an entitlement (``desktopAdvN``...) the organization bought.
    fn set_entitlement_seats(&self, entitlement: &str, seats: i64) -> PyResult<()> {
        self.with(|s| s.shared().portal.set_entitlement_seats(entitlement, seats))?
            .map_err(to_pyerr)
    }

    /// Set how many members a user type may have.
    fn set_seats(&self, user_type: &str, seats: i64) -> PyResult<()> {
        self.with(|s| s.shared().portal.set_seats(user_type, seats))?
            .map_err(to_pyerr)
    }

    /// Set how many members a level (1 or 2) may have, on a portal before 10.7.
    fn set_level_seats(&self, level: i64, seats: i64) -> PyResult<()> {
        self.with(|s| s.shared().portal.set_level_seats(level, seats))?
            .map_err(to_pyerr)
    }

    /// Revoke every portal token now, as a portal restart or an administrator would.
    fn expire_portal_tokens(&self) -> PyResult<()> {
        self.with(|s| s.shared().portal.expire_tokens())
    }

    /// A client certificate naming `username`, for a sandbox with ``portal_pki=True``: the
    /// paths of its PEM certificate (with its CA) and key. ``untrusted`` makes one from a CA
    /// the portal does not trust; ``expired``, one that ended in 2021.
    #[pyo3(signature = (username, *, expired = false, untrusted = false))]
    fn client_certificate(
        &self,
        username: &str,
        expired: bool,
        untrusted: bool,
    ) -> PyResult<(std::path::PathBuf, std::path::PathBuf)> {
        let issued = self
            .with(|s| s.issue_client_cert(username, expired, untrusted))?
            .map_err(to_pyerr)?;
        Ok((issued.cert_file, issued.key_file))
    }

    /// A client certificate naming `username` as a PKCS#12 file opened with `password`.
    fn client_pkcs12(&self, username: &str, password: &str) -> PyResult<std::path::PathBuf> {
        let issued = self
            .with(|s| s.issue_client_cert(username, false, false))?
            .map_err(to_pyerr)?;
        issued.write_pkcs12(password).map_err(to_pyerr)
    }

    /// Revoke every OAuth refresh token now: the next renewal with one is refused.
    fn revoke_refresh_tokens(&self) -> PyResult<()> {
        self.with(|s| s.shared().portal.revoke_refresh_tokens())
    }

    #[getter]
    fn running(&self) -> bool {
        self.running.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    #[getter]
    fn openlm_url(&self) -> PyResult<String> {
        self.with(|s| s.openlm_url())
    }

    /// The sandbox CA's certificate (PEM file): ``ca_bundle=sb.ca_file`` trusts its HTTPS.
    #[getter]
    fn ca_file(&self) -> PyResult<std::path::PathBuf> {
        self.with(|s| s.ca_file())
    }

    #[getter]
    fn latency(&self) -> PyResult<f64> {
        self.with(|s| s.latency().as_secs_f64())
    }

    #[setter]
    fn set_latency(&self, seconds_: f64) -> PyResult<()> {
        let latency = seconds("latency", seconds_)?;
        self.with(|s| s.set_latency(latency))
    }

    #[pyo3(signature = (*, error = 0.0, http500 = 0.0, http503 = 0.0, drop = 0.0, slow = 0.0, slow_seconds = 2.0))]
    fn set_faults(
        &self,
        error: f64,
        http500: f64,
        http503: f64,
        drop: f64,
        slow: f64,
        slow_seconds: f64,
    ) -> PyResult<()> {
        let rates = FaultRates {
            error,
            http500,
            http503,
            drop,
            slow,
            slow_delay: seconds("slow_seconds", slow_seconds)?,
        };
        self.with(|s| s.set_fault_rates(rates))?.map_err(to_pyerr)
    }

    #[pyo3(signature = (fault, count = 1, *, operation = None))]
    fn fail_next(&self, fault: &str, count: usize, operation: Option<String>) -> PyResult<()> {
        let kind = FaultKind::parse(fault).map_err(to_pyerr)?;
        self.with(|s| s.fail_next(kind, count, operation))
    }

    fn clear_faults(&self) -> PyResult<()> {
        self.with(|s| s.clear_faults())
    }

    #[pyo3(signature = (*, service = None, operation = None))]
    fn requests(
        &self,
        service: Option<String>,
        operation: Option<String>,
    ) -> PyResult<Vec<SandboxRequest>> {
        self.with(|s| {
            s.requests()
                .into_iter()
                .filter(|r| service.as_deref().is_none_or(|want| r.service == want))
                .filter(|r| {
                    operation
                        .as_deref()
                        .is_none_or(|want| r.operation.eq_ignore_ascii_case(want))
                })
                .map(SandboxRequest::from)
                .collect()
        })
    }

    fn clear_requests(&self) -> PyResult<()> {
        self.with(|s| s.clear_requests())
    }

    /// The licenses in use now, as dicts.
    fn openlm_sessions<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let checkouts = self.with(|s| s.shared().openlm.checkouts())?;
        checkouts
            .into_iter()
            .map(|c| {
                let d = PyDict::new(py);
                d.set_item("handle", c.handle)?;
                d.set_item("product", c.product)?;
                d.set_item("username", c.username)?;
                d.set_item("workstation", c.workstation)?;
                d.set_item("server", c.server)?;
                d.set_item("vendor", c.vendor)?;
                d.set_item("feature", c.feature)?;
                d.set_item("version", c.version)?;
                d.set_item("start_ms", c.start_ms)?;
                d.set_item("idle_since_ms", c.idle_since_ms)?;
                d.set_item("licenses", c.licenses)?;
                d.set_item("borrowed", c.borrowed)?;
                d.set_item("full_name", c.full_name)?;
                d.set_item("group", c.group)?;
                d.set_item("project", c.project)?;
                d.set_item("host_ip", c.host_ip)?;
                Ok(d)
            })
            .collect()
    }

    fn openlm_session_count(&self) -> PyResult<usize> {
        self.with(|s| s.shared().openlm.checkout_count())
    }

    /// Adds a license in use; `session`: the dict ``gislicense.Sandbox.add_openlm_session``
    /// builds from its keywords.
    fn _add_openlm_session(&self, session: &Bound<'_, PyAny>) -> PyResult<u64> {
        let checkout = session.extract::<SessionSettings<'_>>()?.checkout()?;
        self.with(|s| s.shared().openlm.add_checkout(checkout))?
            .map_err(to_pyerr)
    }

    fn workstations_without_agent(&self) -> PyResult<Vec<String>> {
        self.with(|s| s.shared().openlm.workstations_without_agent())
    }

    #[pyo3(signature = (workstation, installed = true, acts = true))]
    fn set_agent(&self, workstation: &str, installed: bool, acts: bool) -> PyResult<()> {
        self.with(|s| s.shared().openlm.set_agent(workstation, installed, acts))
    }

    fn expire_openlm_logins(&self) -> PyResult<()> {
        self.with(|s| s.shared().openlm.expire_logins())
    }

    fn stop(&self, py: Python<'_>) {
        let taken = self.running.lock().map(|mut g| g.take()).unwrap_or(None);
        if let Some(mut sandbox) = taken {
            py.detach(|| {
                // Dropped inside the runtime so its tasks are aborted cleanly.
                let _guard = runtime().enter();
                sandbox.stop();
            });
        }
    }
}
