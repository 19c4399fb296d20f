//! Bindings for named-user licenses (`gis.admin.license`). Each operation is one entry
//! returning a `Call`; member entitlements and counts reach Python as their record classes,
//! a license as the dict `gislicense.License` is made from.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::portal::licenses::entitlement_report;
use crate::portal::{self as core, License};
use crate::python::json::dict;
use crate::python::wait::Call;

/// A license reaches Python as the dict `gislicense.License` is made from: its item id,
/// title, entitlement counts in the portal's order, and the purchase as received.
impl<'py> IntoPyObject<'py> for License {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let data = PyDict::new(py);
        data.set_item("item_id", self.item_id)?;
        data.set_item("title", self.title)?;
        let counts = PyDict::new(py);
        for (id, number) in self.entitlements {
            counts.set_item(id, number)?;
        }
        data.set_item("entitlements", counts)?;
        data.set_item("raw", dict(py, &self.raw)?)?;
        Ok(data)
    }
}

/// The license operations of one portal connection, behind ``gis.admin.license``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct LicenseAdmin {
    client: Arc<core::Portal>,
}

impl LicenseAdmin {
    pub fn new(client: Arc<core::Portal>) -> Self {
        LicenseAdmin { client }
    }
}

#[pymethods]
impl LicenseAdmin {
    fn licenses(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.licenses().await })
    }

    fn license(&self, name: String) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.license(&name).await })
    }

    fn users(&self, item_id: String) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.user_entitlements(&item_id).await })
    }

    fn user(&self, item_id: String, username: String) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.user_entitlement(&item_id, &username).await })
    }

    fn report(&self, license: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let license = client.license(&license).await?;
            let users = client.user_entitlements(&license.item_id).await?;
            Ok(entitlement_report(&license, &users))
        })
    }

    fn release(&self, username: String, app: String) -> Call {
        let client = self.client.clone();
        Call::new(async move { crate::plan::oneshot::release(&client, &username, &app).await })
    }
}
