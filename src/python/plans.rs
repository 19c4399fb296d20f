//! Plans and journals at the edge: a plan the core made reaches Python as a [`CorePlan`],
//! which is applied as it is (5,000 items once took 30 ms to write as JSON and read back);
//! a plan loaded or edited in Python travels as its JSON text. Outcomes travel as the
//! step-outcome tuples of `bulk.rs`, and a journal is read here into report rows. A plan of
//! members is asked for with one typed request ([`member_request`]), read strictly.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};

use crate::error::Error;
use crate::plan::portal::{
    level_refused, Change, Guards, Mode, PlanRequest, ReleaseAndUpdate, Request, Roles,
};
use crate::plan::{self, Executor, Journal, Operation, Plan};
use crate::python::bulk::StepOutcomesList;
use crate::python::errors::to_pyerr;

/// What every plan of members takes besides its operation's own fields.
const COMMON: [&str; 4] = ["operation", "allow_admin_demotion", "allow_all", "notes"];

/// The fields each operation planned for members takes.
fn fields_of(operation: Operation) -> Result<&'static [&'static str], Error> {
    Ok(match operation {
        Operation::UpdateLicenseType => &["user_type", "roles"],
        Operation::UpdateRole => &["role"],
        Operation::UpdateLevel => &["level", "roles"],
        Operation::Provision => &["license", "mode", "entitlements"],
        Operation::Release => &["app"],
        Operation::ReleaseAndUpdate => &["app", "user_type", "license", "entitlements", "roles"],
        Operation::CloseApplications | Operation::Undo => {
            return Err(Error::invalid(format!(
                "{operation} is not a change of members to plan"
            )))
        }
    })
}

/// A request's fields as given, None left out (the same as not given).
struct Fields<'py> {
    operation: Operation,
    given: HashMap<String, Bound<'py, PyAny>>,
}

impl<'py> Fields<'py> {
    fn of(request: &Bound<'py, PyDict>) -> PyResult<Fields<'py>> {
        let mut given = HashMap::new();
        for (key, value) in request.iter() {
            if !value.is_none() {
                given.insert(key.extract::<String>()?, value);
            }
        }
        let name = match given.get("operation") {
            Some(op) => op.extract::<String>()?,
            None => {
                return Err(to_pyerr(Error::invalid(
                    "a plan request names its operation",
                )))
            }
        };
        let operation = Operation::parse(&name).map_err(to_pyerr)?;
        let takes = fields_of(operation).map_err(to_pyerr)?;
        let unknown = given
            .keys()
            .find(|k| !takes.contains(&k.as_str()) && !COMMON.contains(&k.as_str()));
        if let Some(other) = unknown {
            return Err(to_pyerr(Error::invalid(format!(
                "{operation} takes no {other}=; it takes {}=",
                takes.join("=, ")
            ))));
        }
        Ok(Fields { operation, given })
    }

    /// The refusal of a field's value, saying what it must be.
    fn refused(&self, key: &str, what: &str) -> PyErr {
        let shown = self.given.get(key).map_or(String::new(), shown);
        to_pyerr(Error::invalid(format!("{key} must be {what}, not {shown}")))
    }

    fn text(&self, key: &str) -> PyResult<Option<String>> {
        match self.given.get(key) {
            None => Ok(None),
            Some(value) => value
                .extract::<String>()
                .map(Some)
                .map_err(|_| self.refused(key, "text")),
        }
    }

    fn needed(&self, key: &str) -> PyResult<String> {
        self.text(key)?
            .ok_or_else(|| to_pyerr(Error::invalid(format!("{} needs {key}=", self.operation))))
    }

    fn flag(&self, key: &str) -> PyResult<bool> {
        match self.given.get(key) {
            None => Ok(false),
            Some(value) if value.is_instance_of::<PyBool>() => value.extract(),
            Some(_) => Err(self.refused(key, "True or False")),
        }
    }

    fn texts(&self, key: &str) -> PyResult<Option<Vec<String>>> {
        match self.given.get(key) {
            None => Ok(None),
            Some(value) if value.is_instance_of::<PyString>() => {
                Err(self.refused(key, "a list of text"))
            }
            Some(value) => value
                .extract::<Vec<String>>()
                .map(Some)
                .map_err(|_| self.refused(key, "a list of text")),
        }
    }

    fn roles(&self) -> PyResult<Roles> {
        Ok(Roles::parse(self.text("roles")?.as_deref()))
    }

    /// The level: a whole number (not True or False), judged by the core's one rule.
    fn level(&self) -> PyResult<i64> {
        let Some(value) = self.given.get("level") else {
            return Err(to_pyerr(Error::invalid(format!(
                "{} needs level= (1 or 2)",
                self.operation
            ))));
        };
        let whole = !value.is_instance_of::<PyBool>() && value.is_instance_of::<PyInt>();
        let level = whole.then(|| value.extract::<i64>().ok()).flatten();
        level.ok_or_else(|| to_pyerr(level_refused(shown(value))))
    }

    /// The change asked for, of the operation's kind.
    fn change(&self) -> PyResult<Request> {
        Ok(match self.operation {
            Operation::UpdateLicenseType => Request::LicenseType {
                user_type: self.needed("user_type")?,
                roles: self.roles()?,
            },
            Operation::UpdateRole => Request::Role {
                role: self.needed("role")?,
            },
            Operation::UpdateLevel => Request::Level {
                level: self.level()?,
                roles: self.roles()?,
            },
            Operation::Provision => {
                let mode = Mode::parse(&self.needed("mode")?).map_err(to_pyerr)?;
                let ids = self.texts("entitlements")?.unwrap_or_default();
                Request::Provision {
                    license: self.needed("license")?,
                    change: Change::of(mode, ids),
                }
            }
            Operation::Release => Request::Release {
                app: self.needed("app")?,
            },
            _ => Request::ReleaseAndUpdate(ReleaseAndUpdate {
                app: self.needed("app")?,
                user_type: self.text("user_type")?,
                license: self.needed("license")?,
                entitlements: self.texts("entitlements")?,
                roles: self.roles()?,
            }),
        })
    }
}

/// A value as Python writes it, for a message.
pub(crate) fn shown(value: &Bound<'_, PyAny>) -> String {
    value
        .repr()
        .map_or_else(|_| "?".to_owned(), |r| r.to_string())
}

/// A plan of members as the facade asks for it: a dict with `operation` (its name) and
/// what that operation takes, plus `allow_admin_demotion`, `allow_all` and `notes`; None
/// is the same as not given. Read strictly: an unknown operation, mode or field, or a value
/// of the wrong kind, is refused, saying what is taken.
pub fn member_request(request: &Bound<'_, PyDict>) -> PyResult<PlanRequest> {
    let fields = Fields::of(request)?;
    Ok(PlanRequest {
        change: fields.change()?,
        guards: Guards {
            allow_admin_demotion: fields.flag("allow_admin_demotion")?,
            allow_all: fields.flag("allow_all")?,
        },
        notes: fields.texts("notes")?.unwrap_or_default(),
    })
}

/// Refuse, before anything is read, a batch size `operation`'s requests cannot carry: a
/// whole number from 1 to 100 for user types, to 25 for entitlements (the core's rule).
#[pyfunction]
pub fn check_batch_size(operation: &str, batch_size: &Bound<'_, PyAny>) -> PyResult<usize> {
    let operation = Operation::parse(operation).map_err(to_pyerr)?;
    let whole = if batch_size.is_instance_of::<PyBool>() {
        None
    } else {
        batch_size.extract::<usize>().ok()
    };
    plan::check_batch_size(operation, &shown(batch_size), whole).map_err(to_pyerr)
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

/// Each item's status as the core reports it: `would_change` (`would_assign`,
/// `would_release`...), `unchanged`, `skipped` or `failed`.
#[pyfunction]
pub fn item_statuses(plan: &Bound<'_, PyAny>) -> PyResult<Vec<&'static str>> {
    Ok(plan_of(plan)?.statuses())
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
