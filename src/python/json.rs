//! JSON from a server to Python objects (dict, list, str, int, float, bool, None).

use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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

// ---------------------------------------------------------------------------------------------
// JSON text straight to Python objects: no `serde_json::Value` tree in between.

/// Key strings made once per listing and shared by all its members: 10,000 members share
/// some 30 field names, and a reused key object also keeps its hash. Used only while
/// attached to Python; the lock is never held across anything that could run Python code.
#[derive(Default)]
pub struct KeyStrings(Mutex<HashMap<Box<str>, Py<PyString>>>);

impl KeyStrings {
    fn get<'py>(&self, py: Python<'py>, key: &str) -> Bound<'py, PyString> {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(made) = keys.get(key) {
            return made.bind(py).clone();
        }
        // Making a str runs no Python code (a str is no container the collector tracks).
        let made = PyString::new(py, key);
        keys.insert(key.into(), made.clone().unbind());
        made
    }
}

/// Reads one JSON value into its Python form.
#[derive(Clone, Copy)]
pub struct PyValue<'k, 'py> {
    pub py: Python<'py>,
    pub keys: &'k KeyStrings,
}

impl<'de, 'py> DeserializeSeed<'de> for PyValue<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn py_error<E: de::Error>(err: PyErr) -> E {
    E::custom(err)
}

impl<'de, 'py> Visitor<'de> for PyValue<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, v).into_any())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, v).into_any())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, v).into_any())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, v).into_any())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(PyList::new(self.py, items).map_err(py_error)?.into_any())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key_seed(PyKey(self))? {
            let value = map.next_value_seed(self)?;
            dict.set_item(key, value).map_err(py_error)?;
        }
        Ok(dict.into_any())
    }
}

/// Reads an object's key, made once per listing ([`KeyStrings`]).
struct PyKey<'k, 'py>(PyValue<'k, 'py>);

impl<'de, 'py> DeserializeSeed<'de> for PyKey<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for PyKey<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.keys.get(self.0.py, v))
    }
}
