//! Plans and journals at the edge: a plan travels as its JSON text (the facade's `Plan`
//! keeps it as a dict and saves it as it is), outcomes as the step-outcome tuples of
//! `bulk.rs`, and a journal is read here into report rows.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use crate::error::Error;
use crate::plan::{self, Executor, Journal, Plan};
use crate::python::bulk::StepOutcomesList;
use crate::python::errors::to_pyerr;

/// The arguments of a planned operation, from the facade's JSON text.
pub fn args(text: &str) -> PyResult<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(text)
        .map_err(|e| to_pyerr(Error::invalid(format!("the plan's arguments: {e}"))))
}

/// A plan from its JSON text, for the service at `url`.
pub fn plan_for(text: &str, url: &str) -> PyResult<Plan> {
    let plan = Plan::from_json(text).map_err(to_pyerr)?;
    plan.check_service(url).map_err(to_pyerr)?;
    Ok(plan)
}

/// How far an apply has got: items finished, of all. The facade reads it while it waits
/// (a progress bar, ArcGIS Pro's progressor).
#[pyclass(frozen, module = "gislicense._core")]
#[derive(Default)]
pub struct ApplyProgress(pub Arc<plan::Progress>);

#[pymethods]
impl ApplyProgress {
    #[new]
    fn new() -> Self {
        ApplyProgress::default()
    }

    /// Items finished (applied, failed, or not to be sent) and items in all.
    fn get(&self) -> (usize, usize) {
        self.0.get()
    }
}

/// Apply `plan` with `executor`, journaled to `journal` when given, counting into `progress`.
pub async fn apply_journaled<E: Executor>(
    plan: Plan,
    executor: &E,
    journal: Option<PathBuf>,
    concurrency: usize,
    progress: Option<Arc<plan::Progress>>,
) -> Result<StepOutcomesList, Error> {
    let journal = match journal {
        Some(path) => Some(Journal::create(&path)?),
        None => None,
    };
    let counted = progress.as_deref();
    let outcomes = plan::apply(&plan, executor, journal.as_ref(), concurrency, counted).await?;
    Ok(StepOutcomesList(outcomes))
}

/// A plan's predictions as a dry run reports them: the same `(status, reason, error,
/// steps)` tuples, errors and reasons as applying gives, made by the one rule in the core.
#[pyfunction]
pub fn plan_predictions(text: &str) -> PyResult<StepOutcomesList> {
    let plan = Plan::from_json(text).map_err(to_pyerr)?;
    Ok(StepOutcomesList(plan.predictions()))
}

/// A journal's report: one `(index, item, status, reason, finished)` row per item first
/// planned, and the first plan's JSON text.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn read_journal(
    path: PathBuf,
) -> PyResult<(
    Vec<(usize, String, String, Option<String>, bool)>,
    String,
    bool,
)> {
    let read = Journal::read(&path).map_err(to_pyerr)?;
    let rows = read
        .report()
        .into_iter()
        .map(|r| (r.index, r.item, r.status, r.reason, r.finished))
        .collect();
    Ok((rows, read.plans[0].to_json(), read.finished()))
}
