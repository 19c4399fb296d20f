//! JSON from a server to Python objects (dict, list, str, int, float, bool, None).

use pyo3::prelude::*;
use std::collections::HashMap;

use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Map, Value};

/// Key strings made once per conversion: 10,000 users share some 30 field names, and a
/// reused key object also keeps its hash.
type Keys<'a, 'py> = HashMap<&'a str, Bound<'py, PyString>>;

fn convert<'a, 'py>(
    py: Python<'py>,
    value: &'a Value,
    keys: &mut Keys<'a, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(convert(py, item, keys)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => dict_with(py, map, keys)?.into_any(),
    })
}

pub fn dict<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    dict_with(py, map, &mut HashMap::new())
}

fn dict_with<'a, 'py>(
    py: Python<'py>,
    map: &'a Map<String, Value>,
    keys: &mut Keys<'a, 'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in map {
        let key_object = keys
            .entry(key.as_str())
            .or_insert_with(|| PyString::new(py, key))
            .clone();
        dict.set_item(key_object, convert(py, value, keys)?)?;
    }
    Ok(dict)
}

/// A JSON object that becomes a dict when it reaches Python (async results).
pub struct JsonObject(pub Map<String, Value>);

impl<'py> IntoPyObject<'py> for JsonObject {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        dict(py, &self.0)
    }
}

/// JSON objects that become a list of dicts.
pub struct JsonObjects(pub Vec<Map<String, Value>>);

impl<'py> IntoPyObject<'py> for JsonObjects {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        // Making 10,000 dicts would run Python's cycle collector again and again over
        // objects that cannot form cycles; it is paused meanwhile.
        let gc = py.import("gc")?;
        let pause = self.0.len() > 1000 && gc.call_method0("isenabled")?.is_truthy()?;
        if pause {
            gc.call_method0("disable")?;
        }
        let mut keys = HashMap::new();
        let dicts = self
            .0
            .iter()
            .map(|m| dict_with(py, m, &mut keys))
            .collect::<PyResult<Vec<_>>>();
        if pause {
            gc.call_method0("enable")?;
        }
        PyList::new(py, dicts?)
    }
}
