//! Bindings for the License Manager (FlexNet) client, its readers and its plans.

mod records;
#[cfg(feature = "sandbox")]
pub mod sandbox;

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::PyMapping;

use crate::error::Error;
use crate::flexnet::log::{LogParser, LogReader};
use crate::flexnet::time::Day;
use crate::flexnet::{self as core, RemoveTarget};
use crate::plan;
use crate::python::errors::to_pyerr;
use crate::python::plans;
use crate::python::text::{text, type_name};
use crate::python::wait::Call;
pub use records::{FlexNetFeature, FlexNetSession, LicenseEvent, LicenseStatus, ReadStatus};

/// Reads saved ``lmstat -a`` output; `date` (year, month, day) dates start times when the
/// output has no status line.
#[pyfunction]
#[pyo3(signature = (text, date=None))]
pub fn parse_lmstat(
    py: Python<'_>,
    text: &str,
    date: Option<(i32, u32, u32)>,
) -> PyResult<LicenseStatus> {
    let day = match date {
        Some((y, m, d)) => Some(
            Day::new(y, m, d)
                .ok_or_else(|| to_pyerr(Error::invalid(format!("{y}-{m}-{d} is not a date"))))?,
        ),
        None => None,
    };
    LicenseStatus::read(py, text, day)
}

/// Events read from a debug log file, one line at a time.
#[pyclass(module = "gislicense._core")]
pub struct LmgrdLogFile {
    reader: Mutex<LogReader<BufReader<File>>>,
    path: PathBuf,
}

#[pymethods]
impl LmgrdLogFile {
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        let file = File::open(&path).map_err(|e| {
            to_pyerr(Error::invalid(format!(
                "{} cannot be read: {e}",
                path.display()
            )))
        })?;
        Ok(LmgrdLogFile {
            reader: Mutex::new(LogReader::new(BufReader::with_capacity(256 * 1024, file))),
            path,
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self) -> PyResult<LicenseEvent> {
        let mut reader = self
            .reader
            .lock()
            .map_err(|_| to_pyerr(Error::invalid("the log reader broke")))?;
        match reader.next() {
            Some(Ok(inner)) => Ok(LicenseEvent { inner }),
            Some(Err(e)) => Err(to_pyerr(Error::invalid(format!(
                "{} could not be read further: {e}",
                self.path.display()
            )))),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

/// Reads debug log lines handed to it one at a time, carrying the date forward.
#[pyclass(module = "gislicense._core")]
#[derive(Default)]
pub struct LmgrdLogParser(Mutex<LogParser>);

#[pymethods]
impl LmgrdLogParser {
    #[new]
    fn new() -> Self {
        LmgrdLogParser::default()
    }

    fn feed(&self, line: &str) -> PyResult<LicenseEvent> {
        let mut parser = self
            .0
            .lock()
            .map_err(|_| to_pyerr(Error::invalid("the log parser broke")))?;
        Ok(LicenseEvent {
            inner: parser.feed(line),
        })
    }
}

/// The License Manager client behind ``gislicense.FlexNet``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct FlexNetClient {
    client: Arc<core::FlexNet>,
}

#[pymethods]
impl FlexNetClient {
    #[new]
    #[pyo3(signature = (server, lmutil, timeout, max_output))]
    fn new(
        server: &str,
        lmutil: Option<PathBuf>,
        timeout: f64,
        max_output: usize,
    ) -> PyResult<Self> {
        crate::python::ensure_logging();
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
            return Err(to_pyerr(Error::invalid(format!(
                "timeout is seconds above 0 and up to 3600, not {timeout}"
            ))));
        }
        let client = core::FlexNet::new(
            server,
            lmutil.as_deref(),
            Duration::from_secs_f64(timeout),
            max_output,
        )
        .map_err(to_pyerr)?;
        Ok(FlexNetClient {
            client: Arc::new(client),
        })
    }

    #[getter]
    fn server(&self) -> &str {
        self.client.server()
    }

    #[getter]
    fn lmutil(&self) -> PathBuf {
        self.client.lmutil().to_owned()
    }

    /// ``lmstat -a``, read: a LicenseStatus.
    fn status(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { Ok(ReadStatus(client.status().await?)) })
    }

    /// ``lmremove -h`` of one session (a FlexNetSession or a mapping).
    fn remove(&self, item: &Bound<'_, PyAny>) -> PyResult<Call> {
        let target = remove_target(0, item)?.map_err(to_pyerr)?;
        let client = self.client.clone();
        Ok(Call::new(async move { client.remove(&target).await }))
    }

    /// Plan taking back sessions (FlexNetSessions or mappings): the plan.
    #[pyo3(signature = (items, allow_all, keep_free))]
    fn plan_close(
        &self,
        items: Vec<Bound<'_, PyAny>>,
        allow_all: bool,
        keep_free: Option<u32>,
    ) -> PyResult<Call> {
        let targets = items
            .iter()
            .enumerate()
            .map(|(index, item)| remove_target(index, item))
            .collect::<PyResult<Vec<_>>>()?;
        let client = self.client.clone();
        Ok(Call::new(async move {
            let plan = plan::flexnet::plan_close(&client, targets, allow_all, keep_free).await?;
            Ok(plans::CorePlan::of(plan))
        }))
    }

    /// Plan again, from the sessions open now, the removes a journal left unfinished.
    fn plan_resume(&self, journal: PathBuf) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let read = plan::Journal::read(&journal)?;
            Ok(plans::CorePlan::of(
                plan::flexnet::plan_resume(&client, &read).await?,
            ))
        })
    }

    /// Apply a plan, journaled to `journal` when given.
    #[pyo3(signature = (plan, journal, concurrency, progress=None))]
    fn apply_plan(
        &self,
        plan: &Bound<'_, PyAny>,
        journal: Option<PathBuf>,
        concurrency: usize,
        progress: Option<PyRef<'_, plans::ApplyProgress>>,
    ) -> PyResult<Call> {
        let plan = plans::plan_for(plan, self.client.server())?;
        let client = self.client.clone();
        let progress = progress.map(|p| p.0.clone());
        Ok(Call::new(async move {
            let executor = plan::flexnet::RemoveExecutor(&client);
            plans::apply_journaled(plan, &executor, journal, concurrency, progress).await
        }))
    }
}

/// A RemoveTarget from one item: a FlexNetSession, or a mapping with feature, server,
/// port and handle (username and workstation optional, for people).
fn remove_target(index: usize, item: &Bound<'_, PyAny>) -> PyResult<Result<RemoveTarget, Error>> {
    if let Ok(session) = item.cast::<FlexNetSession>() {
        return Ok(Ok(RemoveTarget::of(&session.get().inner)));
    }
    let Ok(mapping) = item.cast::<PyMapping>() else {
        return Ok(Err(Error::invalid(format!(
            "item {index} is a {}, not a FlexNetSession or a mapping",
            type_name(item)
        ))));
    };
    let mut values = Vec::with_capacity(6);
    for key in [
        "feature",
        "server",
        "port",
        "handle",
        "username",
        "workstation",
    ] {
        let value = match mapping.get_item(key) {
            Ok(v) if !v.is_none() => match v.extract::<u32>() {
                Ok(n) => n.to_string(),
                Err(_) => match text(&format!("item {index}: {key}"), &v) {
                    Ok(v) => v,
                    Err(err) => return Ok(Err(err)),
                },
            },
            _ if matches!(key, "username" | "workstation") => String::new(),
            _ => return Ok(Err(Error::invalid(format!("item {index} has no {key}")))),
        };
        values.push(value);
    }
    let Ok(port) = values[2].parse::<u32>() else {
        return Ok(Err(Error::invalid(format!(
            "item {index}: port {:?} is not a number",
            values[2]
        ))));
    };
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or_default();
    let target = RemoveTarget {
        feature: next(),
        server: next(),
        port: {
            next();
            port
        },
        handle: next(),
        username: next(),
        workstation: next(),
    };
    Ok(target.validate().map(|()| target))
}
