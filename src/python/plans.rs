//! Plans and journals at the edge: a plan the core made reaches Python as a [`CorePlan`],
//! which is applied as it is (5,000 items once took 30 ms to write as JSON and read back);
//! a plan loaded or edited in Python travels as its JSON text. Outcomes travel as the
//! step-outcome tuples of `bulk.rs`, and a journal is read here into report rows.

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

/// A plan the core made, kept as it is. Its JSON text is made only when the facade asks
/// for it (to show the items, or save the plan).
#[pyclass(frozen, module = "gislicense._core")]
pub struct CorePlan(pub Arc<Plan>);

impl CorePlan {
    pub fn of(plan: Plan) -> CorePlan {
        CorePlan(Arc::new(plan))
    }
}

#[pymethods]
impl CorePlan {
    /// The plan as JSON text, as it is saved.
    fn json(&self) -> String {
        self.0.to_json()
    }
}

/// A plan as the facade passes it: the core's own, or JSON text.
fn plan_of(plan: &Bound<'_, PyAny>) -> PyResult<Arc<Plan>> {
    if let Ok(core) = plan.cast::<CorePlan>() {
        return Ok(core.get().0.clone());
    }
    let text: String = plan.extract()?;
    Ok(Arc::new(Plan::from_json(&text).map_err(to_pyerr)?))
}

/// A plan (the core's own, or JSON text) for the service at `url`.
pub fn plan_for(plan: &Bound<'_, PyAny>, url: &str) -> PyResult<Arc<Plan>> {
    let plan = plan_of(plan)?;
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
    plan: Arc<Plan>,
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

/// The plan with only the items `keep` names (all when None), less those `exclude` names.
#[pyfunction]
#[pyo3(signature = (plan, keep, exclude))]
pub fn select_items(
    plan: &Bound<'_, PyAny>,
    keep: Option<Vec<String>>,
    exclude: Vec<String>,
) -> PyResult<CorePlan> {
    let selected = plan_of(plan)?
        .select(keep.as_deref(), &exclude)
        .map_err(to_pyerr)?;
    Ok(CorePlan::of(selected))
}

/// A plan's predictions as a dry run reports them: the same `(status, reason, error,
/// steps)` tuples, errors and reasons as applying gives, made by the one rule in the core.
#[pyfunction]
pub fn plan_predictions(plan: &Bound<'_, PyAny>) -> PyResult<StepOutcomesList> {
    Ok(StepOutcomesList(plan_of(plan)?.predictions()))
}

/// Each item's steps described for people by the core, in the names the plan knows the ids
/// by (the one wording of a step; the facade shows it as it is).
#[pyfunction]
pub fn step_descriptions(plan: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<String>>> {
    Ok(plan_of(plan)?.step_descriptions())
}

/// A journal's report: one `(index, item, status, reason, finished)` row per item first
/// planned, the first plan's JSON text, whether nothing is left to do, and whether the last
/// run ended.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn read_journal(
    path: PathBuf,
) -> PyResult<(
    Vec<(usize, String, String, Option<String>, bool)>,
    String,
    bool,
    bool,
)> {
    let read = Journal::read(&path).map_err(to_pyerr)?;
    let rows: Vec<_> = read
        .report()
        .into_iter()
        .map(|r| (r.index, r.item, r.status, r.reason, r.finished))
        .collect();
    let finished = read.ended() && rows.iter().all(|r| r.4);
    Ok((rows, read.plans[0].to_json(), finished, read.ended()))
}
