//! A binding that needs many settings takes them as one dict the Python facade builds from its
//! own keyword arguments. `Keywords` reads that dict: every key is required (the facade
//! writes the defaults), a value that does not convert fails as the same keyword argument
//! would, and a key nobody read is refused, so a facade bug never passes silently.

use std::cell::RefCell;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub struct Keywords<'py> {
    dict: Bound<'py, PyDict>,
    what: &'static str,
    read: RefCell<Vec<&'static str>>,
}

impl<'py> Keywords<'py> {
    /// The settings dict of `what` (named in errors: `"Sandbox settings"`).
    pub fn new(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Self> {
        let dict = obj.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} are a dict, not {}",
                type_name(obj).unwrap_or_default()
            ))
        })?;
        Ok(Keywords {
            dict: dict.clone(),
            what,
            read: RefCell::new(Vec::new()),
        })
    }

    /// The value of `name`, converted; an error reads as the keyword argument's would.
    pub fn get<T: FromPyObjectOwned<'py>>(&self, name: &'static str) -> PyResult<T> {
        self.read.borrow_mut().push(name);
        let Some(value) = self.dict.get_item(name)? else {
            return Err(PyTypeError::new_err(format!(
                "{} are missing {name:?}",
                self.what
            )));
        };
        value.extract::<T>().map_err(|err| {
            let err: PyErr = err.into();
            let py = self.dict.py();
            // What PyO3 adds to a keyword argument that does not convert.
            let _ = err
                .value(py)
                .call_method1("add_note", (format!("while processing '{name}'"),));
            err
        })
    }

    /// After every `get`: refuses the keys nobody read.
    pub fn finish(self) -> PyResult<()> {
        let read = self.read.borrow();
        for key in self.dict.keys() {
            let known = key
                .extract::<String>()
                .is_ok_and(|k| read.contains(&k.as_str()));
            if !known {
                return Err(PyTypeError::new_err(format!(
                    "{} have no {}",
                    self.what,
                    key.repr()?
                )));
            }
        }
        Ok(())
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.get_type().name()?.to_string())
}
