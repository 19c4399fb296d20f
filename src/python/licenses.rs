//! Bindings for named-user licenses (`gis.admin.license`). Records travel as dicts; the
//! facade (`gislicense.licenses`) wraps them. Each operation is one future that the sync
//! method waits for and the `_async` method returns as an awaitable.

use std::future::Future;
use std::sync::Arc;

use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::bulk::Outcome;
use crate::error::Error;
use crate::portal::licenses::{entitlement_report, StepOutcomes};
use crate::portal::{self as core, Change, License, UserEntitlement};
use crate::python::bulk::{Outcomes, StepOutcomesList};
use crate::python::json::{JsonObject, JsonObjects};
use crate::python::wait::{awaitable, wait};

type Items = crate::python::text::MemberItems;

fn license_map(license: License) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("item_id".into(), Value::String(license.item_id));
    map.insert("title".into(), Value::String(license.title));
    let counts: Map<String, Value> = license
        .entitlements
        .into_iter()
        .map(|(id, num)| (id, Value::from(num)))
        .collect();
    map.insert("entitlements".into(), Value::Object(counts));
    map.insert("raw".into(), Value::Object(license.raw));
    map
}

fn user_entitlement_map(user: UserEntitlement) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("username".into(), Value::String(user.username));
    map.insert("entitlements".into(), Value::from(user.entitlements));
    map.insert("disconnected".into(), Value::Bool(user.disconnected));
    map.insert("last_login".into(), Value::from(user.last_login_ms));
    map.insert("raw".into(), Value::Object(user.raw));
    map
}

fn change(mode: &str, entitlements: Vec<String>) -> Result<Change, Error> {
    match mode {
        "set" => Ok(Change::Set(entitlements)),
        "add" => Ok(Change::Add(entitlements)),
        "remove" => Ok(Change::Remove(entitlements)),
        other => Err(Error::invalid(format!("unknown change {other:?}"))),
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

    fn licenses(&self) -> impl Future<Output = Result<JsonObjects, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let licenses = client.licenses().await?;
            Ok(JsonObjects(licenses.into_iter().map(license_map).collect()))
        }
    }

    fn license(
        &self,
        name: String,
    ) -> impl Future<Output = Result<JsonObject, Error>> + Send + 'static {
        let client = self.client.clone();
        async move { Ok(JsonObject(license_map(client.license(&name).await?))) }
    }

    fn users(
        &self,
        item_id: String,
    ) -> impl Future<Output = Result<JsonObjects, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let users = client.user_entitlements(&item_id).await?;
            Ok(JsonObjects(
                users.into_iter().map(user_entitlement_map).collect(),
            ))
        }
    }

    fn user(
        &self,
        item_id: String,
        username: String,
    ) -> impl Future<Output = Result<Option<JsonObject>, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let one = client.user_entitlement(&item_id, &username).await?;
            Ok(one.map(|u| JsonObject(user_entitlement_map(u))))
        }
    }

    fn report(
        &self,
        license: String,
    ) -> impl Future<Output = Result<JsonObjects, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let license = client.license(&license).await?;
            let users = client.user_entitlements(&license.item_id).await?;
            let rows = entitlement_report(&license, &users)
                .into_iter()
                .map(|c| {
                    let mut row = Map::new();
                    row.insert("entitlement".into(), Value::String(c.entitlement));
                    row.insert("total".into(), Value::from(c.total));
                    row.insert("assigned".into(), Value::from(c.assigned));
                    row.insert("remaining".into(), Value::from(c.remaining));
                    row
                })
                .collect();
            Ok(JsonObjects(rows))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn provision(
        &self,
        license: String,
        items: Items,
        mode: String,
        entitlements: Vec<String>,
        dry_run: bool,
        batch_size: usize,
        concurrency: usize,
    ) -> impl Future<Output = Result<Outcomes, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let change = change(&mode, entitlements)?;
            let outcomes = client
                .bulk_provision(&license, items.0, change, dry_run, batch_size, concurrency)
                .await?;
            Ok(Outcomes(outcomes))
        }
    }

    fn release(
        &self,
        username: String,
        app: String,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let client = self.client.clone();
        async move { client.release_license(&username, &app).await }
    }

    fn release_many(
        &self,
        items: Items,
        app: String,
        dry_run: bool,
        concurrency: usize,
    ) -> impl Future<Output = Result<Outcomes, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let outcomes: Vec<Outcome> = client
                .bulk_release(items.0, &app, dry_run, concurrency)
                .await?;
            Ok(Outcomes(outcomes))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn release_and_update(
        &self,
        items: Items,
        app: String,
        user_type: Option<String>,
        license: String,
        entitlements: Option<Vec<String>>,
        dry_run: bool,
        concurrency: usize,
    ) -> impl Future<Output = Result<StepOutcomesList, Error>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let outcomes: Vec<StepOutcomes> = client
                .release_and_update(
                    items.0,
                    &app,
                    user_type.as_deref(),
                    &license,
                    entitlements,
                    dry_run,
                    concurrency,
                )
                .await?;
            Ok(StepOutcomesList(outcomes))
        }
    }
}

#[pymethods]
impl LicenseAdmin {
    #[pyo3(name = "licenses")]
    fn py_licenses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(wait(py, self.licenses())?.into_pyobject(py)?.into_any())
    }

    fn licenses_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.licenses())
    }

    #[pyo3(name = "license")]
    fn py_license<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        Ok(wait(py, self.license(name))?.into_pyobject(py)?.into_any())
    }

    fn license_async<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.license(name))
    }

    #[pyo3(name = "users")]
    fn py_users<'py>(&self, py: Python<'py>, item_id: String) -> PyResult<Bound<'py, PyAny>> {
        Ok(wait(py, self.users(item_id))?.into_pyobject(py)?.into_any())
    }

    fn users_async<'py>(&self, py: Python<'py>, item_id: String) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.users(item_id))
    }

    #[pyo3(name = "user")]
    fn py_user<'py>(
        &self,
        py: Python<'py>,
        item_id: String,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(wait(py, self.user(item_id, username))?
            .into_pyobject(py)?
            .into_any())
    }

    fn user_async<'py>(
        &self,
        py: Python<'py>,
        item_id: String,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.user(item_id, username))
    }

    #[pyo3(name = "report")]
    fn py_report<'py>(&self, py: Python<'py>, license: String) -> PyResult<Bound<'py, PyAny>> {
        Ok(wait(py, self.report(license))?
            .into_pyobject(py)?
            .into_any())
    }

    fn report_async<'py>(&self, py: Python<'py>, license: String) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.report(license))
    }

    #[pyo3(name = "provision", signature = (license, items, mode, entitlements, dry_run, batch_size, concurrency))]
    #[allow(clippy::too_many_arguments)]
    fn py_provision<'py>(
        &self,
        py: Python<'py>,
        license: String,
        items: Items,
        mode: String,
        entitlements: Vec<String>,
        dry_run: bool,
        batch_size: usize,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let future = self.provision(
            license,
            items,
            mode,
            entitlements,
            dry_run,
            batch_size,
            concurrency,
        );
        Ok(wait(py, future)?.into_pyobject(py)?.into_any())
    }

    #[pyo3(signature = (license, items, mode, entitlements, dry_run, batch_size, concurrency))]
    #[allow(clippy::too_many_arguments)]
    fn provision_async<'py>(
        &self,
        py: Python<'py>,
        license: String,
        items: Items,
        mode: String,
        entitlements: Vec<String>,
        dry_run: bool,
        batch_size: usize,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let future = self.provision(
            license,
            items,
            mode,
            entitlements,
            dry_run,
            batch_size,
            concurrency,
        );
        awaitable(py, future)
    }

    #[pyo3(name = "release")]
    fn py_release(&self, py: Python<'_>, username: String, app: String) -> PyResult<()> {
        wait(py, self.release(username, app))
    }

    fn release_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        app: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.release(username, app))
    }

    #[pyo3(name = "release_many")]
    fn py_release_many<'py>(
        &self,
        py: Python<'py>,
        items: Items,
        app: String,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let future = self.release_many(items, app, dry_run, concurrency);
        Ok(wait(py, future)?.into_pyobject(py)?.into_any())
    }

    fn release_many_async<'py>(
        &self,
        py: Python<'py>,
        items: Items,
        app: String,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.release_many(items, app, dry_run, concurrency))
    }

    #[pyo3(name = "release_and_update", signature = (items, app, user_type, license, entitlements, dry_run, concurrency))]
    #[allow(clippy::too_many_arguments)]
    fn py_release_and_update<'py>(
        &self,
        py: Python<'py>,
        items: Items,
        app: String,
        user_type: Option<String>,
        license: String,
        entitlements: Option<Vec<String>>,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let future = self.release_and_update(
            items,
            app,
            user_type,
            license,
            entitlements,
            dry_run,
            concurrency,
        );
        Ok(wait(py, future)?.into_pyobject(py)?.into_any())
    }

    #[pyo3(signature = (items, app, user_type, license, entitlements, dry_run, concurrency))]
    #[allow(clippy::too_many_arguments)]
    fn release_and_update_async<'py>(
        &self,
        py: Python<'py>,
        items: Items,
        app: String,
        user_type: Option<String>,
        license: String,
        entitlements: Option<Vec<String>>,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let future = self.release_and_update(
            items,
            app,
            user_type,
            license,
            entitlements,
            dry_run,
            concurrency,
        );
        awaitable(py, future)
    }
}
