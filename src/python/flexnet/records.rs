//! The License Manager's records in Python: features, sessions, a whole status, and the
//! debug log's events. Times are naive datetimes on the license server's clock (FlexNet
//! writes no zone).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::flexnet::lmstat::StatusReader;
use crate::flexnet::log::Event;
use crate::flexnet::time::{Day, LocalTime};
use crate::flexnet::{Feature, Session, Status};
use crate::python::collector::{untracked, CollectorPause};

/// A naive `datetime.datetime` (None for no time).
pub fn naive(py: Python<'_>, time: Option<LocalTime>) -> PyResult<Py<PyAny>> {
    static DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let Some(t) = time else {
        return Ok(py.None());
    };
    let class = DATETIME.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("datetime")?.getattr("datetime")?.unbind())
    })?;
    Ok(class
        .bind(py)
        .call1((t.year, t.month, t.day, t.hour, t.minute, t.second))?
        .unbind())
}

fn date(py: Python<'_>, day: Option<Day>) -> PyResult<Py<PyAny>> {
    let Some(d) = day else {
        return Ok(py.None());
    };
    Ok(py
        .import("datetime")?
        .getattr("date")?
        .call1((d.year, d.month, d.day))?
        .unbind())
}

/// A feature of the License Manager, as ``lmstat -a`` shows it.
#[pyclass(frozen, eq, module = "gislicense", name = "FlexNetFeature")]
#[derive(PartialEq)]
pub struct FlexNetFeature {
    pub inner: Feature,
}

#[pymethods]
impl FlexNetFeature {
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    #[getter]
    fn vendor(&self) -> Option<&str> {
        self.inner.vendor.as_deref()
    }
    #[getter]
    fn version(&self) -> Option<&str> {
        self.inner.version.as_deref()
    }
    /// Licenses issued; None when the server gives an error instead.
    #[getter]
    fn issued(&self) -> Option<u32> {
        self.inner.issued
    }
    #[getter]
    fn in_use(&self) -> Option<u32> {
        self.inner.in_use
    }
    /// Issued less in use (None without totals).
    #[getter]
    fn free(&self) -> Option<u32> {
        Some(self.inner.issued?.saturating_sub(self.inner.in_use?))
    }
    /// The server's words instead of totals (``Error: 48 licenses, unsupported by
    /// licensed server``).
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    /// Licenses held by RESERVATION lines.
    #[getter]
    fn reserved(&self) -> u32 {
        self.inner.reserved
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        d.set_item("vendor", self.vendor())?;
        d.set_item("version", self.version())?;
        d.set_item("issued", self.issued())?;
        d.set_item("in_use", self.in_use())?;
        d.set_item("free", self.free())?;
        d.set_item("error", self.error())?;
        d.set_item("reserved", self.reserved())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        match (&self.inner.error, self.inner.issued, self.inner.in_use) {
            (Some(error), _, _) => {
                format!("FlexNetFeature({:?}, error={error:?})", self.inner.name)
            }
            (_, Some(i), Some(u)) => {
                format!(
                    "FlexNetFeature({:?}, issued={i}, in_use={u})",
                    self.inner.name
                )
            }
            _ => format!("FlexNetFeature({:?})", self.inner.name),
        }
    }
}

/// A license checked out from the License Manager: the fields an OpenLM session has
/// (``feature``, ``username``, ``workstation``, ``start_time``, ``version``, ``licenses``)
/// and FlexNet's own (``display``, ``server``, ``port``, ``handle``, ``borrowed``).
#[pyclass(frozen, eq, module = "gislicense", name = "FlexNetSession")]
#[derive(PartialEq)]
pub struct FlexNetSession {
    pub inner: Session,
}

#[pymethods]
impl FlexNetSession {
    #[getter]
    fn feature(&self) -> &str {
        self.inner.feature()
    }
    /// The feature again (OpenLM's sessions name a product; FlexNet knows features).
    #[getter]
    fn product(&self) -> &str {
        self.inner.feature()
    }
    #[getter]
    fn vendor(&self) -> Option<&str> {
        self.inner.vendor()
    }
    #[getter]
    fn username(&self) -> &str {
        self.inner.username()
    }
    #[getter]
    fn workstation(&self) -> &str {
        self.inner.workstation()
    }
    #[getter]
    fn display(&self) -> &str {
        self.inner.display()
    }
    #[getter]
    fn version(&self) -> &str {
        self.inner.version()
    }
    /// The license server host the handle belongs to.
    #[getter]
    fn server(&self) -> &str {
        self.inner.server()
    }
    #[getter]
    fn port(&self) -> u32 {
        self.inner.port
    }
    #[getter]
    fn handle(&self) -> &str {
        self.inner.handle()
    }
    /// A naive datetime on the license server's clock (None when the output had no date).
    #[getter]
    fn start_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        naive(py, self.inner.start)
    }
    /// The start as lmstat wrote it (``Wed 12/18 8:33``).
    #[getter]
    fn start_text(&self) -> &str {
        self.inner.start_text()
    }
    #[getter]
    fn licenses(&self) -> u32 {
        self.inner.licenses
    }
    #[getter]
    fn borrowed(&self) -> bool {
        self.inner.borrowed
    }
    #[getter]
    fn pid(&self) -> Option<u32> {
        self.inner.pid
    }
    /// FlexNet keeps no idle time: always None (kept so code written for OpenLM's
    /// sessions reads both).
    #[getter]
    fn idle_time(&self, py: Python<'_>) -> Py<PyAny> {
        py.None()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("feature", self.feature())?;
        d.set_item("username", self.username())?;
        d.set_item("workstation", self.workstation())?;
        d.set_item("start_time", self.start_time(py)?)?;
        d.set_item("version", self.version())?;
        d.set_item("licenses", self.licenses())?;
        d.set_item("display", self.display())?;
        d.set_item("server", self.server())?;
        d.set_item("port", self.port())?;
        d.set_item("handle", self.handle())?;
        d.set_item("borrowed", self.borrowed())?;
        d.set_item("vendor", self.vendor())?;
        d.set_item("pid", self.pid())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "FlexNetSession(feature={:?}, username={:?}, workstation={:?}, handle={:?})",
            s.feature(),
            s.username(),
            s.workstation(),
            s.handle()
        )
    }
}

/// What one ``lmstat -a`` told: ``features`` and ``sessions``.
#[pyclass(frozen, module = "gislicense", name = "LicenseStatus")]
pub struct LicenseStatus {
    features: Py<PyList>,
    sessions: Py<PyList>,
    date: Option<Day>,
    unread: Vec<String>,
}

impl LicenseStatus {
    /// The records made once, moved (not copied) into their Python objects.
    pub fn of(py: Python<'_>, status: Status) -> PyResult<LicenseStatus> {
        let _paused = CollectorPause::start();
        let sessions = status
            .sessions
            .into_iter()
            .map(|inner| Ok(untracked(Bound::new(py, FlexNetSession { inner })?)))
            .collect::<PyResult<Vec<_>>>()?;
        LicenseStatus::with(py, status.features, sessions, status.date, status.unread)
    }

    /// Reads a whole output, making each session's record a few thousand lines after it
    /// is read: the sessions never wait in one long list of their own (10 MB for 100,000),
    /// so memory is touched once, and the reading itself lets go of the GIL.
    pub fn read(py: Python<'_>, text: &str, day: Option<Day>) -> PyResult<LicenseStatus> {
        const CHUNK: usize = 4096;
        let _paused = CollectorPause::start();
        let mut reader = StatusReader::dated(day);
        let mut lines = text.lines();
        let mut sessions = Vec::with_capacity(text.len() / 80);
        loop {
            let more = py.detach(|| {
                for line in lines.by_ref() {
                    reader.feed(line);
                    if reader.sessions_waiting() == CHUNK {
                        return true;
                    }
                }
                false
            });
            for inner in reader.take_sessions() {
                sessions.push(untracked(Bound::new(py, FlexNetSession { inner })?));
            }
            if !more {
                break;
            }
        }
        let status = reader.finish();
        LicenseStatus::with(py, status.features, sessions, status.date, status.unread)
    }

    fn with(
        py: Python<'_>,
        features: Vec<Feature>,
        sessions: Vec<Bound<'_, FlexNetSession>>,
        date: Option<Day>,
        unread: Vec<String>,
    ) -> PyResult<LicenseStatus> {
        let features = features
            .into_iter()
            .map(|inner| Ok(untracked(Bound::new(py, FlexNetFeature { inner })?)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(LicenseStatus {
            features: PyList::new(py, features)?.unbind(),
            sessions: PyList::new(py, sessions)?.unbind(),
            date,
            unread,
        })
    }
}

/// A status read by the core, made into Python objects once the GIL is held.
pub struct ReadStatus(pub Status);

impl<'py> IntoPyObject<'py> for ReadStatus {
    type Target = LicenseStatus;
    type Output = Bound<'py, LicenseStatus>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, LicenseStatus>> {
        Bound::new(py, LicenseStatus::of(py, self.0)?)
    }
}

#[pymethods]
impl LicenseStatus {
    /// A new list each time (the features are shared).
    #[getter]
    fn features<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        copied(self.features.bind(py))
    }
    /// A new list each time (the sessions are shared).
    #[getter]
    fn sessions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        copied(self.sessions.bind(py))
    }
    /// The status line's day (None when the output had none).
    #[getter]
    fn date(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        date(py, self.date)
    }
    /// Lines under a feature that were not understood.
    #[getter]
    fn unread(&self) -> Vec<String> {
        self.unread.clone()
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "LicenseStatus({} features, {} sessions)",
            self.features.bind(py).len(),
            self.sessions.bind(py).len()
        )
    }
}

fn copied<'py>(list: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyList>> {
    list.get_slice(0, list.len())
        .cast_into::<PyList>()
        .map_err(Into::into)
}

/// One line of the License Manager's debug log.
#[pyclass(frozen, eq, module = "gislicense", name = "LicenseEvent")]
#[derive(PartialEq)]
pub struct LicenseEvent {
    pub inner: Event,
}

#[pymethods]
impl LicenseEvent {
    /// A naive datetime on the license server's clock; None before the log gave a date.
    #[getter]
    fn time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        naive(py, self.inner.time)
    }
    /// ``"OUT"``, ``"IN"``, ``"DENIED"``, ``"UNSUPPORTED"``, ``"QUEUED"``, ``"DEQUEUED"``,
    /// or ``"RAW"`` for any other line.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.name()
    }
    #[getter]
    fn feature(&self) -> Option<&str> {
        self.inner.feature.as_deref()
    }
    #[getter]
    fn user(&self) -> Option<&str> {
        self.inner.user.as_deref()
    }
    #[getter]
    fn workstation(&self) -> Option<&str> {
        self.inner.workstation.as_deref()
    }
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }
    #[getter]
    fn licenses(&self) -> u32 {
        self.inner.licenses
    }
    #[getter]
    fn raw(&self) -> &str {
        &self.inner.raw
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("time", self.time(py)?)?;
        d.set_item("kind", self.kind())?;
        d.set_item("feature", self.feature())?;
        d.set_item("user", self.user())?;
        d.set_item("workstation", self.workstation())?;
        d.set_item("reason", self.reason())?;
        d.set_item("licenses", self.licenses())?;
        d.set_item("raw", self.raw())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        let e = &self.inner;
        format!(
            "LicenseEvent(kind={:?}, feature={:?}, user={:?}, workstation={:?})",
            e.kind.name(),
            e.feature,
            e.user,
            e.workstation
        )
    }
}
