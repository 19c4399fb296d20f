//! Bindings for the Portal client. Records travel as dicts; the Python facade
//! (`gislicense.portal`) wraps them in `User`, `UserType` and `Role`.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::portal::{self as core, Credentials, PortalOptions, UserQuery, UserType};
use crate::python::bulk::Outcomes;
use crate::python::errors::to_pyerr;
use crate::python::json::{dict, JsonObject, JsonObjects};
use crate::python::options::HttpOptions;
use crate::python::text::MemberItems;
use crate::python::wait::{awaitable, wait};

fn users_to_maps(users: Vec<core::User>) -> Vec<Map<String, Value>> {
    users.into_iter().map(core::User::into_json).collect()
}

/// A user type as a plain JSON object for the facade: id, name, seats, raw.
fn user_type_map(t: UserType) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("id".into(), Value::String(t.id));
    map.insert("name".into(), Value::String(t.name));
    let (in_use, maximum) = match t.seats {
        Some((in_use, maximum)) => (Value::from(in_use), Value::from(maximum)),
        None => (Value::Null, Value::Null),
    };
    map.insert("in_use".into(), in_use);
    map.insert("maximum".into(), maximum);
    map.insert("raw".into(), Value::Object(t.raw));
    map
}

fn role_map(r: core::Role) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("id".into(), Value::String(r.id));
    map.insert("name".into(), Value::String(r.name));
    map.insert("description".into(), Value::String(r.description));
    map
}

/// The Portal client behind ``gislicense.GIS``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct PortalClient {
    client: Arc<core::Portal>,
}

#[pymethods]
impl PortalClient {
    #[new]
    #[pyo3(signature = (url, username, password, token, token_expires, referer, expiration, allow_insecure_http, options))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
        token: Option<String>,
        token_expires: Option<i64>,
        referer: String,
        expiration: u32,
        allow_insecure_http: bool,
        options: &HttpOptions,
    ) -> PyResult<Self> {
        crate::python::ensure_logging();
        let credentials = match (username, password, token) {
            (_, _, Some(token)) => Credentials::Token {
                token,
                expires_ms: token_expires,
            },
            (Some(username), Some(password), None) => Credentials::Password { username, password },
            (Some(_), None, None) => {
                return Err(to_pyerr(Error::invalid("a username needs a password")))
            }
            (None, _, None) => Credentials::Anonymous,
        };
        let portal_options = PortalOptions {
            referer,
            expiration_minutes: expiration,
            allow_insecure_http,
        };
        let client = core::Portal::new(url, credentials, portal_options, options.inner.clone())
            .map_err(to_pyerr)?;
        Ok(PortalClient {
            client: Arc::new(client),
        })
    }

    #[getter]
    fn url(&self) -> &str {
        self.client.url()
    }

    /// The license operations of this connection.
    fn license_admin(&self) -> crate::python::licenses::LicenseAdmin {
        crate::python::licenses::LicenseAdmin::new(self.client.clone())
    }

    #[getter]
    fn username(&self) -> Option<&str> {
        self.client.username()
    }

    fn sign_in(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.client.clone();
        wait(py, async move { client.sign_in().await })
    }

    fn sign_in_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.sign_in().await })
    }

    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let client = self.client.clone();
        let properties = wait(py, async move { client.properties().await })?;
        dict(py, &properties)
    }

    fn properties_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            Ok(JsonObject(client.properties().await?.as_ref().clone()))
        })
    }

    fn version(&self, py: Python<'_>) -> PyResult<String> {
        let client = self.client.clone();
        wait(py, async move { client.version().await })
    }

    fn version_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.version().await })
    }

    fn org_id(&self, py: Python<'_>) -> PyResult<String> {
        let client = self.client.clone();
        wait(py, async move { client.org_id().await })
    }

    fn org_id_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.org_id().await })
    }

    fn get_user<'py>(&self, py: Python<'py>, username: String) -> PyResult<Bound<'py, PyDict>> {
        let client = self.client.clone();
        let user = wait(py, async move { client.get_user(&username).await })?;
        dict(py, user.raw())
    }

    fn get_user_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            Ok(JsonObject(client.get_user(&username).await?.into_json()))
        })
    }

    fn me<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let client = self.client.clone();
        let user = wait(py, async move { client.me().await })?;
        dict(py, user.raw())
    }

    fn me_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(
            py,
            async move { Ok(JsonObject(client.me().await?.into_json())) },
        )
    }

    #[pyo3(signature = (query, user_type, role, max_users))]
    fn search_users<'py>(
        &self,
        py: Python<'py>,
        query: Option<String>,
        user_type: Option<String>,
        role: Option<String>,
        max_users: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = self.client.clone();
        let users = wait(py, async move {
            let query = resolved_query(&client, query, user_type, role, max_users).await?;
            client.search_users(&query).await
        })?;
        JsonObjects(users_to_maps(users)).into_pyobject(py)
    }

    #[pyo3(signature = (query, user_type, role, max_users))]
    fn search_users_async<'py>(
        &self,
        py: Python<'py>,
        query: Option<String>,
        user_type: Option<String>,
        role: Option<String>,
        max_users: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            let query = resolved_query(&client, query, user_type, role, max_users).await?;
            Ok(JsonObjects(users_to_maps(
                client.search_users(&query).await?,
            )))
        })
    }

    fn user_types<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let client = self.client.clone();
        let types = wait(py, async move { client.user_types().await })?;
        JsonObjects(types.into_iter().map(user_type_map).collect()).into_pyobject(py)
    }

    fn user_types_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            let types = client.user_types().await?;
            Ok(JsonObjects(types.into_iter().map(user_type_map).collect()))
        })
    }

    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let client = self.client.clone();
        let roles = wait(py, async move { client.roles().await })?;
        JsonObjects(roles.into_iter().map(role_map).collect()).into_pyobject(py)
    }

    fn roles_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            let roles = client.roles().await?;
            Ok(JsonObjects(roles.into_iter().map(role_map).collect()))
        })
    }

    /// The id of a user type given by id or name.
    fn resolve_user_type(&self, py: Python<'_>, wanted: String) -> PyResult<String> {
        let client = self.client.clone();
        wait(py, async move { client.resolve_user_type(&wanted).await })
    }

    fn resolve_user_type_async<'py>(
        &self,
        py: Python<'py>,
        wanted: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.resolve_user_type(&wanted).await })
    }

    /// The id of a role given by id or name.
    fn resolve_role(&self, py: Python<'_>, wanted: String) -> PyResult<String> {
        let client = self.client.clone();
        wait(py, async move { client.resolve_role(&wanted).await })
    }

    fn resolve_role_async<'py>(
        &self,
        py: Python<'py>,
        wanted: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.resolve_role(&wanted).await })
    }

    fn update_license_type(
        &self,
        py: Python<'_>,
        username: String,
        user_type: String,
    ) -> PyResult<()> {
        let client = self.client.clone();
        wait(py, async move {
            client.set_user_type(&username, &user_type).await
        })
    }

    fn update_license_type_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        user_type: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            client.set_user_type(&username, &user_type).await
        })
    }

    fn update_role(&self, py: Python<'_>, username: String, role: String) -> PyResult<()> {
        let client = self.client.clone();
        wait(py, async move { client.set_role(&username, &role).await })
    }

    fn update_role_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        role: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.set_role(&username, &role).await })
    }

    fn update_level(&self, py: Python<'_>, username: String, level: i64) -> PyResult<()> {
        let client = self.client.clone();
        wait(
            py,
            async move { client.update_level(&username, level).await },
        )
    }

    fn update_level_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        level: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(
            py,
            async move { client.update_level(&username, level).await },
        )
    }

    #[pyo3(signature = (items, user_type, dry_run, batch_size, concurrency))]
    fn bulk_update_license_type<'py>(
        &self,
        py: Python<'py>,
        items: MemberItems,
        user_type: String,
        dry_run: bool,
        batch_size: usize,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = self.client.clone();
        let outcomes = wait(py, async move {
            client
                .bulk_update_license_type(items.0, &user_type, dry_run, batch_size, concurrency)
                .await
        })?;
        Outcomes(outcomes).into_pyobject(py)
    }

    #[pyo3(signature = (items, user_type, dry_run, batch_size, concurrency))]
    fn bulk_update_license_type_async<'py>(
        &self,
        py: Python<'py>,
        items: MemberItems,
        user_type: String,
        dry_run: bool,
        batch_size: usize,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            Ok(Outcomes(
                client
                    .bulk_update_license_type(items.0, &user_type, dry_run, batch_size, concurrency)
                    .await?,
            ))
        })
    }

    #[pyo3(signature = (items, role, dry_run, concurrency))]
    fn bulk_update_role<'py>(
        &self,
        py: Python<'py>,
        items: MemberItems,
        role: String,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = self.client.clone();
        let outcomes = wait(py, async move {
            client
                .bulk_update_role(items.0, &role, dry_run, concurrency)
                .await
        })?;
        Outcomes(outcomes).into_pyobject(py)
    }

    #[pyo3(signature = (items, role, dry_run, concurrency))]
    fn bulk_update_role_async<'py>(
        &self,
        py: Python<'py>,
        items: MemberItems,
        role: String,
        dry_run: bool,
        concurrency: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move {
            Ok(Outcomes(
                client
                    .bulk_update_role(items.0, &role, dry_run, concurrency)
                    .await?,
            ))
        })
    }
}

/// A listing query with the user type and role resolved from the names people use.
async fn resolved_query(
    client: &core::Portal,
    query: Option<String>,
    user_type: Option<String>,
    role: Option<String>,
    max_users: Option<usize>,
) -> Result<UserQuery, Error> {
    let user_type = match user_type {
        Some(wanted) => Some(client.resolve_user_type(&wanted).await?),
        None => None,
    };
    let role = match role {
        Some(wanted) => Some(client.resolve_role(&wanted).await?),
        None => None,
    };
    Ok(UserQuery {
        query: query.filter(|q| !q.trim().is_empty()),
        user_type,
        role,
        max_users,
    })
}
