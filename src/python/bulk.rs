//! Bulk outcomes to Python: one `(status, reason, exception or None)` tuple per item, which
//! `gislicense.bulk.BulkReport` pairs with the items.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::bulk::Outcome;
use crate::python::errors::to_pyerr;

/// One bulk outcome as a Python tuple: (status, reason, exception or None).
fn outcome_tuple<'py>(py: Python<'py>, outcome: Outcome) -> PyResult<Bound<'py, PyTuple>> {
    let status = outcome.status();
    let reason = outcome.reason();
    let error = match outcome {
        Outcome::Failed(err) => to_pyerr(err).into_value(py).into_any(),
        _ => py.None(),
    };
    PyTuple::new(
        py,
        [
            status.into_pyobject(py)?.into_any().unbind(),
            reason.into_pyobject(py)?.unbind(),
            error,
        ],
    )
}

pub struct Outcomes(pub Vec<Outcome>);

impl<'py> IntoPyObject<'py> for Outcomes {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let tuples = self
            .0
            .into_iter()
            .map(|o| outcome_tuple(py, o))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, tuples)
    }
}
