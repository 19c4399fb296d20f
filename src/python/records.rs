//! Records built straight from the core's structs: each exists once, as a frozen class
//! whose fields are the core's. (Members are `gislicense.User`, one Python class over the
//! raw member the portal sent; ActiveProduct lives with the OpenLM bindings.)

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3::IntoPyObjectExt;

use crate::portal::licenses::{EntitlementCount as CoreCount, UserEntitlement as CoreEntitlement};
use crate::portal::{Role as CoreRole, UserType as CoreUserType};
use crate::python::json::dict;
use crate::python::time::utc_from_ms;

fn hash_of(value: &Bound<'_, PyAny>) -> PyResult<isize> {
    value.hash()
}

/// A record read by key, as the official client's dicts are: its own fields by name, then
/// (where it keeps them) the portal's fields as received; KeyError for anything else.
fn by_key<'py>(
    record: &Bound<'py, PyAny>,
    fields: &[&str],
    raw: Option<&Py<PyAny>>,
    key: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if fields.contains(&key) {
        return record.getattr(key);
    }
    match raw {
        Some(raw) => raw.bind(record.py()).get_item(key),
        None => Err(pyo3::exceptions::PyKeyError::new_err(key.to_owned())),
    }
}

/// A user type (named-user license type) of the portal.
///
/// Attributes: ``id`` (``creatorUT``), ``name`` ("Creator"), ``in_use`` and ``maximum``
/// (seats, when the signed-in user may read the license), ``raw`` (every field as received).
#[pyclass(frozen, module = "gislicense", name = "UserType")]
pub struct UserType {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    in_use: Option<i64>,
    #[pyo3(get)]
    maximum: Option<i64>,
    #[pyo3(get)]
    raw: Py<PyAny>,
}

impl UserType {
    pub fn from_core(py: Python<'_>, t: CoreUserType) -> PyResult<Self> {
        let (in_use, maximum) = t.seats.unzip();
        Ok(UserType {
            id: t.id,
            name: t.name,
            in_use,
            maximum,
            raw: dict(py, &t.raw)?.into_any().unbind(),
        })
    }

    fn key(&self) -> (&str, &str, Option<i64>, Option<i64>) {
        (&self.id, &self.name, self.in_use, self.maximum)
    }
}

#[pymethods]
impl UserType {
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let fields = ["id", "name", "in_use", "maximum"];
        by_key(slf.as_any(), &fields, Some(&slf.get().raw), key)
    }

    #[new]
    #[pyo3(signature = (id, name, in_use=None, maximum=None, raw=None))]
    fn new(
        py: Python<'_>,
        id: String,
        name: String,
        in_use: Option<i64>,
        maximum: Option<i64>,
        raw: Option<Py<PyAny>>,
    ) -> Self {
        let raw = raw.unwrap_or_else(|| PyDict::new(py).into_any().unbind());
        UserType {
            id,
            name,
            in_use,
            maximum,
            raw,
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let t = slf.get();
        let args = (
            &t.id,
            &t.name,
            t.in_use,
            t.maximum,
            t.raw.clone_ref(slf.py()),
        );
        (slf.get_type(), args).into_bound_py_any(slf.py())
    }

    /// Seats left, when known.
    #[getter]
    fn available(&self) -> Option<i64> {
        Some((self.maximum? - self.in_use?).max(0))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<UserType>()
            .is_ok_and(|o| o.get().key() == self.key())
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        hash_of(&self.key().into_pyobject(py)?.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "UserType(id={}, name={}, in_use={}, maximum={})",
            repr_str(&self.id),
            repr_str(&self.name),
            repr_opt(self.in_use),
            repr_opt(self.maximum)
        )
    }
}

/// A role: a built-in one (``org_admin``...) or a custom one (Viewer, Data Editor...).
#[pyclass(frozen, module = "gislicense", name = "Role")]
pub struct Role {
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    description: String,
}

impl From<CoreRole> for Role {
    fn from(r: CoreRole) -> Self {
        Role {
            id: r.id,
            name: r.name,
            description: r.description,
        }
    }
}

#[pymethods]
impl Role {
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        by_key(slf.as_any(), &["id", "name", "description"], None, key)
    }

    /// The official client's name for ``id``.
    #[getter]
    fn role_id(&self) -> &str {
        &self.id
    }

    #[new]
    #[pyo3(signature = (id, name, description=""))]
    fn new(id: String, name: String, description: &str) -> Self {
        Role {
            id,
            name,
            description: description.to_owned(),
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let r = slf.get();
        (slf.get_type(), (&r.id, &r.name, &r.description)).into_bound_py_any(slf.py())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Role>()
            .is_ok_and(|o| (&o.get().id, &o.get().name) == (&self.id, &self.name))
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        hash_of(&(&self.id, &self.name).into_pyobject(py)?.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "Role(id={}, name={})",
            repr_str(&self.id),
            repr_str(&self.name)
        )
    }
}

/// One member's entitlements under a license.
///
/// Attributes: ``username``, ``entitlements`` (ids such as ``desktopAdvN``),
/// ``disconnected`` (the app is checked out for offline use), ``last_login``, ``raw``.
#[pyclass(frozen, module = "gislicense", name = "UserEntitlement")]
pub struct UserEntitlement {
    #[pyo3(get)]
    username: String,
    #[pyo3(get)]
    entitlements: Py<PyList>,
    #[pyo3(get)]
    disconnected: bool,
    /// Last sign-in as received (ms since 1970); read through `last_login`.
    last_login_ms: Py<PyAny>,
    #[pyo3(get)]
    raw: Py<PyAny>,
}

impl UserEntitlement {
    pub fn from_core(py: Python<'_>, u: CoreEntitlement) -> PyResult<Self> {
        Ok(UserEntitlement {
            username: u.username,
            entitlements: PyList::new(py, u.entitlements)?.unbind(),
            disconnected: u.disconnected,
            last_login_ms: u.last_login_ms.into_pyobject(py)?.into_any().unbind(),
            raw: dict(py, &u.raw)?.into_any().unbind(),
        })
    }
}

#[pymethods]
impl UserEntitlement {
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let fields = ["username", "entitlements", "disconnected", "last_login"];
        by_key(slf.as_any(), &fields, Some(&slf.get().raw), key)
    }

    /// From a mapping with ``username``, ``entitlements``, ``disconnected``, ``last_login``
    /// (ms since 1970 or None) and ``raw``.
    #[new]
    fn new(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let entitlements = data.get_item("entitlements")?;
        Ok(UserEntitlement {
            username: data.get_item("username")?.extract()?,
            entitlements: PyList::new(py, entitlements.try_iter()?.collect::<PyResult<Vec<_>>>()?)?
                .unbind(),
            disconnected: data.get_item("disconnected")?.is_truthy()?,
            last_login_ms: data.get_item("last_login")?.unbind(),
            raw: data.get_item("raw")?.unbind(),
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let u = slf.get();
        let data = PyDict::new(py);
        data.set_item("username", &u.username)?;
        data.set_item("entitlements", u.entitlements.bind(py))?;
        data.set_item("disconnected", u.disconnected)?;
        data.set_item("last_login", u.last_login_ms.bind(py))?;
        data.set_item("raw", u.raw.bind(py))?;
        (slf.get_type(), (data,)).into_bound_py_any(py)
    }

    /// Last sign-in (UTC), or None if never.
    #[getter]
    fn last_login(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        utc_from_ms(py, self.last_login_ms.bind(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let offline = if self.disconnected {
            ", disconnected=True"
        } else {
            ""
        };
        Ok(format!(
            "UserEntitlement({}, {}{offline})",
            repr_str(&self.username),
            self.entitlements.bind(py).repr()?
        ))
    }
}

/// One row of ``License.report``: bought, assigned and left of an entitlement.
#[pyclass(frozen, eq, hash, module = "gislicense", name = "EntitlementCount")]
#[derive(PartialEq, Hash)]
pub struct EntitlementCount {
    #[pyo3(get)]
    entitlement: String,
    #[pyo3(get)]
    total: i64,
    #[pyo3(get)]
    assigned: i64,
    #[pyo3(get)]
    remaining: i64,
}

impl From<CoreCount> for EntitlementCount {
    fn from(c: CoreCount) -> Self {
        EntitlementCount {
            entitlement: c.entitlement,
            total: c.total,
            assigned: c.assigned,
            remaining: c.remaining,
        }
    }
}

#[pymethods]
impl EntitlementCount {
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let fields = ["entitlement", "total", "assigned", "remaining"];
        by_key(slf.as_any(), &fields, None, key)
    }

    #[new]
    fn new(entitlement: String, total: i64, assigned: i64, remaining: i64) -> Self {
        EntitlementCount {
            entitlement,
            total,
            assigned,
            remaining,
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let c = slf.get();
        let args = (&c.entitlement, c.total, c.assigned, c.remaining);
        (slf.get_type(), args).into_bound_py_any(slf.py())
    }

    /// The row as a dict, for tables: ``pandas.DataFrame(r.as_dict() for r in report)``.
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let row = PyDict::new(py);
        row.set_item("entitlement", &self.entitlement)?;
        row.set_item("total", self.total)?;
        row.set_item("assigned", self.assigned)?;
        row.set_item("remaining", self.remaining)?;
        Ok(row)
    }

    fn __repr__(&self) -> String {
        format!(
            "EntitlementCount({}, total={}, assigned={}, remaining={})",
            repr_str(&self.entitlement),
            self.total,
            self.assigned,
            self.remaining
        )
    }
}

/// Each core record becomes its class on reaching Python, so a `Vec` of them becomes a list.
macro_rules! into_record {
    ($core:ty => $record:ty, $make:expr) => {
        impl<'py> IntoPyObject<'py> for $core {
            type Target = $record;
            type Output = Bound<'py, $record>;
            type Error = PyErr;

            fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, $record>> {
                let make: fn(Python<'py>, $core) -> PyResult<$record> = $make;
                Bound::new(py, make(py, self)?)
            }
        }
    };
}

into_record!(CoreUserType => UserType, UserType::from_core);
into_record!(CoreRole => Role, |_, r| Ok(Role::from(r)));
into_record!(CoreEntitlement => UserEntitlement, UserEntitlement::from_core);
into_record!(CoreCount => EntitlementCount, |_, c| Ok(EntitlementCount::from(c)));

/// A Rust str as Python's repr would show it.
fn repr_str(text: &str) -> String {
    Python::attach(|py| {
        pyo3::types::PyString::new(py, text)
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| format!("{text:?}"))
    })
}

fn repr_opt(value: Option<i64>) -> String {
    value.map_or_else(|| "None".to_owned(), |v| v.to_string())
}
