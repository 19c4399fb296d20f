//! Bulk outcomes to Python: one `(status, reason, exception or None)` tuple per item, which
//! `gislicense.bulk.BulkReport` pairs with the items.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyTuple};

use crate::bulk::{check_concurrency_given, Outcome};
use crate::python::errors::to_pyerr;

/// Refuse, before anything is read, a concurrency that is not a whole number from 1 to 256
/// (the core's rule; `True` is not a number here).
#[pyfunction]
pub fn check_concurrency(concurrency: &Bound<'_, PyAny>) -> PyResult<usize> {
    let whole = if concurrency.is_instance_of::<PyBool>() {
        None
    } else {
        concurrency.extract::<usize>().ok()
    };
    check_concurrency_given(&crate::python::plans::shown(concurrency), whole).map_err(to_pyerr)
}

/// The status, reason and exception (or None) of one outcome, as Python objects.
fn outcome_parts(py: Python<'_>, outcome: Outcome) -> PyResult<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
    let status = outcome.status().into_pyobject(py)?.into_any().unbind();
    let reason = outcome.reason().into_pyobject(py)?.unbind();
    let error = match outcome {
        Outcome::Failed(err) | Outcome::Unknown(err) => to_pyerr(err).into_value(py).into_any(),
        _ => py.None(),
    };
    Ok((status, reason, error))
}

/// Each member's outcome and the outcomes of its steps: `(status, reason, error, steps)`,
/// where each step is `(name, status, reason, error)`.
pub struct StepOutcomesList(pub Vec<crate::plan::ItemOutcome>);

impl<'py> IntoPyObject<'py> for StepOutcomesList {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self
            .0
            .into_iter()
            .map(|(overall, steps)| {
                let steps = steps
                    .into_iter()
                    .map(|(name, outcome)| {
                        let (status, reason, error) = outcome_parts(py, outcome)?;
                        PyTuple::new(
                            py,
                            [
                                name.into_pyobject(py)?.into_any().unbind(),
                                status,
                                reason,
                                error,
                            ],
                        )
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                let (status, reason, error) = outcome_parts(py, overall)?;
                PyTuple::new(
                    py,
                    [
                        status,
                        reason,
                        error,
                        PyList::new(py, steps)?.into_any().unbind(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }
}
