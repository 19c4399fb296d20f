//! What a sandbox is made with, and a session added to it, checked and converted.

use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::python::errors::to_pyerr;
use crate::python::keywords::Keywords;
use crate::python::time;
use crate::sandbox::{
    portal, Checkout, FaultRates, OpenLmOptions, PortalSiteOptions, SandboxOptions,
};

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
fn session_times(
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
fn check_sizes(sessions: usize, portal_members: usize, token_lifetime: f64) -> PyResult<()> {
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
fn deployment(name: &str) -> PyResult<portal::Deployment> {
    match name.to_ascii_lowercase().as_str() {
        "classic" => Ok(portal::Deployment::Classic),
        "kubernetes" => Ok(portal::Deployment::Kubernetes),
        "online" => Ok(portal::Deployment::Online),
        other => Err(to_pyerr(Error::invalid(format!(
            "portal_deployment is \"classic\", \"kubernetes\" or \"online\", not {other:?}"
        )))),
    }
}

/// What ``gislicense.Sandbox`` is made with, as read from the dict its constructor builds
/// (the public keywords and their defaults live there).
pub(super) struct SandboxSettings {
    sessions: usize,
    users: Option<usize>,
    seed: u64,
    permissions: bool,
    openlm_username: String,
    openlm_password: String,
    login_lifetime: f64,
    paging: bool,
    close_delay: f64,
    latency: f64,
    host: String,
    openlm_port: u16,
    openlm_tls: bool,
    portal_members: usize,
    portal_offline: usize,
    portal_version: String,
    token_lifetime: f64,
    portal_port: u16,
    portal_tls: bool,
    portal_deployment: String,
    portal_pki: bool,
    admin_password: Option<String>,
    user_password: Option<String>,
}

impl<'a, 'py> FromPyObject<'a, 'py> for SandboxSettings {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let keys = Keywords::new(&obj, "Sandbox settings")?;
        let settings = SandboxSettings {
            sessions: keys.get("sessions")?,
            users: keys.get("users")?,
            seed: keys.get("seed")?,
            permissions: keys.get("permissions")?,
            openlm_username: keys.get("openlm_username")?,
            openlm_password: keys.get("openlm_password")?,
            login_lifetime: keys.get("login_lifetime")?,
            paging: keys.get("paging")?,
            close_delay: keys.get("close_delay")?,
            latency: keys.get("latency")?,
            host: keys.get("host")?,
            openlm_port: keys.get("openlm_port")?,
            openlm_tls: keys.get("openlm_tls")?,
            portal_members: keys.get("portal_members")?,
            portal_offline: keys.get("portal_offline")?,
            portal_version: keys.get("portal_version")?,
            token_lifetime: keys.get("token_lifetime")?,
            portal_port: keys.get("portal_port")?,
            portal_tls: keys.get("portal_tls")?,
            portal_deployment: keys.get("portal_deployment")?,
            portal_pki: keys.get("portal_pki")?,
            admin_password: keys.get("admin_password")?,
            user_password: keys.get("user_password")?,
        };
        keys.finish()?;
        Ok(settings)
    }
}

impl SandboxSettings {
    /// The sandbox's options, or the first setting out of range.
    pub(super) fn options(self) -> PyResult<SandboxOptions> {
        check_sizes(self.sessions, self.portal_members, self.token_lifetime)?;
        let deployment = deployment(&self.portal_deployment)?;
        let defaults = PortalSiteOptions::default();
        let portal = PortalSiteOptions {
            admin_password: self.admin_password.unwrap_or(defaults.admin_password),
            user_password: self.user_password.unwrap_or(defaults.user_password),
            deployment,
            members: self.portal_members,
            offline_members: self.portal_offline,
            version: self.portal_version,
            token_lifetime: Duration::from_secs_f64(self.token_lifetime),
            ..defaults
        };
        Ok(SandboxOptions {
            seed: self.seed,
            host: self.host,
            openlm_port: self.openlm_port,
            openlm_tls: self.openlm_tls,
            openlm: OpenLmOptions {
                sessions: self.sessions,
                users: self.users,
                permissions: self.permissions,
                username: self.openlm_username,
                password: self.openlm_password,
                login_lifetime: seconds("login_lifetime", self.login_lifetime)?,
                paging: self.paging,
                close_delay: seconds("close_delay", self.close_delay)?,
            },
            portal_port: self.portal_port,
            portal_tls: self.portal_tls,
            portal_pki: self.portal_pki,
            portal,
            latency: seconds("latency", self.latency)?,
            faults: FaultRates::default(),
        })
    }
}

/// A license in use to add, as read from the dict ``Sandbox.add_openlm_session`` builds.
pub(super) struct SessionSettings<'py> {
    product: String,
    username: String,
    workstation: String,
    server: String,
    vendor: String,
    feature: Option<String>,
    version: String,
    licenses: u32,
    borrowed: bool,
    full_name: String,
    group: String,
    project: String,
    host_ip: String,
    start: Option<Bound<'py, PyAny>>,
    idle: Option<Bound<'py, PyAny>>,
}

impl<'a, 'py> FromPyObject<'a, 'py> for SessionSettings<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let keys = Keywords::new(&obj, "OpenLM session settings")?;
        let settings = SessionSettings {
            product: keys.get("product")?,
            username: keys.get("username")?,
            workstation: keys.get("workstation")?,
            server: keys.get("server")?,
            vendor: keys.get("vendor")?,
            feature: keys.get("feature")?,
            version: keys.get("version")?,
            licenses: keys.get("licenses")?,
            borrowed: keys.get("borrowed")?,
            full_name: keys.get("full_name")?,
            group: keys.get("group")?,
            project: keys.get("project")?,
            host_ip: keys.get("host_ip")?,
            start: keys.get("start")?,
            idle: keys.get("idle")?,
        };
        keys.finish()?;
        Ok(settings)
    }
}

impl SessionSettings<'_> {
    /// The checkout to add (its handle given by the sandbox), or the first value no server
    /// could list.
    pub(super) fn checkout(self) -> PyResult<Checkout> {
        let (start_ms, idle_since_ms) = session_times(self.start.as_ref(), self.idle.as_ref())?;
        let feature = self.feature.unwrap_or_else(|| self.product.clone());
        for (name, value) in [
            ("product", &self.product),
            ("username", &self.username),
            ("workstation", &self.workstation),
            ("server", &self.server),
            ("vendor", &self.vendor),
            ("feature", &feature),
            ("version", &self.version),
            ("full_name", &self.full_name),
            ("group", &self.group),
            ("project", &self.project),
            ("host_ip", &self.host_ip),
        ] {
            crate::openlm::xml::check_value(name, value).map_err(to_pyerr)?;
        }
        Ok(Checkout {
            handle: 0,
            product: self.product,
            username: self.username,
            workstation: self.workstation,
            server: self.server,
            vendor: self.vendor,
            feature,
            version: self.version,
            start_ms,
            idle_since_ms,
            licenses: self.licenses,
            borrowed: self.borrowed,
            full_name: self.full_name,
            group: self.group,
            project: self.project,
            host_ip: self.host_ip,
        })
    }
}
