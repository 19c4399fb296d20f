//! Bindings for the Portal client. Each operation is one entry returning a `Call`. Members
//! travel as the raw dicts `gislicense.User` wraps; user types and roles as their records.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::Error;
use crate::plan;
use crate::portal::{self as core, PortalOptions, SignInParts, UserQuery};
use crate::python::errors::to_pyerr;
use crate::python::json::JsonObject;
use crate::python::keywords::Keywords;
use crate::python::listing::{self, PyObjects};
use crate::python::options::HttpOptions;
use crate::python::plans;
use crate::python::text::MemberItems;
use crate::python::wait::Call;
use std::path::PathBuf;

/// The way of signing in that these parts choose (``"anonymous"``, ``"password"``,
/// ``"token"``, ``"app"``, ``"oauth"``), or InvalidInputError saying why they are not one way:
/// ``gislicense.GIS`` asks before it opens a sign-in page.
#[pyfunction]
#[pyo3(signature = (*, username, password, token, client_id, client_secret))]
pub fn sign_in_way(
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> PyResult<&'static str> {
    let parts = SignInParts {
        username,
        password,
        token,
        client_id,
        client_secret,
    };
    parts.way().map(|way| way.name()).map_err(to_pyerr)
}

/// What ``gislicense.GIS`` passes to connect, as read from its dict. `token_source`, when
/// given, is called (with no arguments) for a new token whenever one is needed, and returns
/// `(token, expires_ms or None)`: ArcGIS Pro's sign-in.
struct PortalSettings<'py> {
    url: String,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    token_expires: Option<i64>,
    referer: String,
    expiration: u32,
    allow_insecure_http: bool,
    options: PyRef<'py, HttpOptions>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<PyRef<'py, crate::python::oauth::Code>>,
    token_source: Option<Py<PyAny>>,
}

impl<'a, 'py> FromPyObject<'a, 'py> for PortalSettings<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let keys = Keywords::new(&obj, "Portal settings")?;
        let settings = PortalSettings {
            url: keys.get("url")?,
            username: keys.get("username")?,
            password: keys.get("password")?,
            token: keys.get("token")?,
            token_expires: keys.get("token_expires")?,
            referer: keys.get("referer")?,
            expiration: keys.get("expiration")?,
            allow_insecure_http: keys.get("allow_insecure_http")?,
            options: keys.get("options")?,
            client_id: keys.get("client_id")?,
            client_secret: keys.get("client_secret")?,
            code: keys.get("code")?,
            token_source: keys.get("token_source")?,
        };
        keys.finish()?;
        Ok(settings)
    }
}

/// The Portal client behind ``gislicense.GIS``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct PortalClient {
    client: Arc<core::Portal>,
}

#[pymethods]
impl PortalClient {
    /// `settings`: the dict ``gislicense.GIS`` builds (see `PortalSettings`).
    #[new]
    fn new(settings: PortalSettings<'_>) -> PyResult<Self> {
        let PortalSettings {
            url,
            username,
            password,
            token,
            token_expires,
            referer,
            expiration,
            allow_insecure_http,
            options,
            client_id,
            client_secret,
            code,
            token_source,
        } = settings;
        crate::python::ensure_logging();
        // ArcGIS Pro's sign-in: its token first, then Pro asked again as tokens expire.
        let source = token_source
            .zip(token.clone())
            .map(|(source, token)| python_token_source(source, token, token_expires));
        let parts = SignInParts {
            username,
            password,
            token,
            client_id,
            client_secret,
        };
        let credentials = parts
            .credentials(token_expires, code.map(|code| code.inner.clone()), source)
            .map_err(to_pyerr)?;
        let portal_options = PortalOptions {
            referer,
            expiration_minutes: expiration,
            allow_insecure_http,
        };
        let client = core::Portal::new(&url, credentials, portal_options, options.inner.clone())
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
    fn username(&self) -> Option<String> {
        self.client.username()
    }

    fn sign_in(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.sign_in().await })
    }

    fn properties(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { Ok(JsonObject(client.properties().await?.as_ref().clone())) })
    }

    fn version(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.version().await })
    }

    fn org_id(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.org_id().await })
    }

    /// A member as the raw dict `gislicense.User` wraps (the roles read alongside, once,
    /// for [`PortalClient::role_name`]).
    fn get_user(&self, username: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let user = with_role_names(&client, client.get_user(&username)).await?;
            Ok(JsonObject(user.into_json()))
        })
    }

    fn me(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            Ok(JsonObject(
                with_role_names(&client, client.me()).await?.into_json(),
            ))
        })
    }

    /// What a member's role reads as, from its id: a custom role's name (Viewer...), or the
    /// id of a built-in role. Sends nothing: the calls that return members read the roles.
    fn role_name<'a>(&'a self, role_id: &'a str) -> &'a str {
        self.client.role_name(role_id)
    }

    /// Members, each made by `wrap` from its raw dict as its page arrives.
    #[pyo3(signature = (query, user_type, role, max_users, wrap))]
    fn search_users(
        &self,
        query: Option<String>,
        user_type: Option<String>,
        role: Option<String>,
        max_users: Option<usize>,
        wrap: Py<PyAny>,
    ) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let query = resolved_query(&client, query, user_type, role, max_users).await?;
            let Some(search) = client.member_search(&query).await? else {
                return Ok(PyObjects(vec![]));
            };
            let members = listing::members(&client, &search, &wrap);
            Ok(PyObjects(with_role_names(&client, members).await?))
        })
    }

    fn user_types(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { client.user_types().await })
    }

    fn roles(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move { Ok(client.cached_roles().await?.to_vec()) })
    }

    /// The user type a name or id stands for, as its record.
    fn user_type(&self, wanted: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let id = client.resolve_user_type(&wanted).await?;
            let types = client.user_types().await?;
            types
                .into_iter()
                .find(|t| t.id == id)
                .ok_or_else(|| Error::invalid(format!("no user type {wanted:?}")))
        })
    }

    /// The role a name or id stands for, as its record.
    fn role(&self, wanted: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let id = client.resolve_role(&wanted).await?;
            let roles = client.cached_roles().await?;
            roles
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| Error::invalid(format!("no role {wanted:?}")))
        })
    }

    /// Set a member's user type, then read the member again.
    fn update_license_type(&self, username: String, user_type: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            plan::oneshot::update_license_type(&client, &username, &user_type).await?;
            let user = with_role_names(&client, client.get_user(&username)).await?;
            Ok(JsonObject(user.into_json()))
        })
    }

    /// Set a member's role, then read the member again.
    fn update_role(&self, username: String, role: String) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            plan::oneshot::update_role(&client, &username, &role).await?;
            let user = with_role_names(&client, client.get_user(&username)).await?;
            Ok(JsonObject(user.into_json()))
        })
    }

    /// Set a member's level, then read the member again.
    fn update_level(&self, username: String, level: i64) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            plan::oneshot::update_level(&client, &username, level).await?;
            let user = with_role_names(&client, client.get_user(&username)).await?;
            Ok(JsonObject(user.into_json()))
        })
    }

    /// Plan a change of members, as `request` asks (see `plans::member_request`).
    #[pyo3(signature = (request, items))]
    fn plan(&self, request: &Bound<'_, PyDict>, items: MemberItems) -> PyResult<Call> {
        let request = plans::member_request(request)?;
        let client = self.client.clone();
        Ok(Call::new(async move {
            let plan = plan::portal::plan_request(&client, items.0, request).await?;
            Ok(plans::CorePlan::of(plan))
        }))
    }

    /// Plan again, from the state now, what a journal left unfinished.
    fn plan_resume(&self, journal: PathBuf) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let read = plan::Journal::read(&journal)?;
            Ok(plans::CorePlan::of(
                plan::portal::plan_resume(&client, &read).await?,
            ))
        })
    }

    /// Plan undoing what a journal shows done.
    fn plan_undo(&self, journal: PathBuf) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let read = plan::Journal::read(&journal)?;
            Ok(plans::CorePlan::of(
                plan::portal::plan_undo(&client, &read).await?,
            ))
        })
    }

    /// Apply a plan (the core's, or its JSON text), journaled to `journal` when given.
    /// `recheck`: plan its items again from the state now first (a plan made moments ago
    /// by the same call needs not).
    #[pyo3(signature = (plan, journal, batch_size, concurrency, progress=None, recheck=true))]
    fn apply_plan(
        &self,
        plan: &Bound<'_, PyAny>,
        journal: Option<PathBuf>,
        batch_size: usize,
        concurrency: usize,
        progress: Option<PyRef<'_, plans::ApplyProgress>>,
        recheck: bool,
    ) -> PyResult<Call> {
        let plan = plans::plan_for(plan, self.client.url())?;
        // Members per user-type request; entitlements' requests take at most 25 of them.
        let shown = batch_size.to_string();
        let batch_size =
            plan::check_batch_size(plan::Operation::UpdateLicenseType, &shown, Some(batch_size))
                .map_err(to_pyerr)?;
        let client = self.client.clone();
        let progress = progress.map(|p| p.0.clone());
        Ok(Call::new(async move {
            let plan = if recheck {
                std::sync::Arc::new(plan::portal::recheck(&client, &plan).await?)
            } else {
                plan
            };
            let executor = plan::portal::PortalExecutor {
                portal: &client,
                batch_size,
            };
            plans::apply_journaled(plan, &executor, journal, concurrency, progress).await
        }))
    }
}

/// What `work` gives, once the roles are read too (alongside it, once per client): every
/// call that returns members does this, so that their roles read as names. Work refused
/// before it sends anything (a user name that cannot be one) sends no roles request either:
/// `work` is polled first, and the first failure ends both.
async fn with_role_names<T>(
    client: &core::Portal,
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let (value, ()) = futures::future::try_join(work, client.read_role_names()).await?;
    Ok(value)
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

/// A token source calling a Python function: the first token is the one given; each later
/// one comes from `source()`, which returns `(token, expires_ms or None)`.
fn python_token_source(
    source: Py<PyAny>,
    first: String,
    first_expires: Option<i64>,
) -> Arc<core::TokenSource> {
    let first = std::sync::Mutex::new(Some((first, first_expires)));
    Arc::new(move || {
        if let Some(given) = first.lock().ok().and_then(|mut f| f.take()) {
            return Ok(given);
        }
        Python::attach(|py| {
            let made = source
                .call0(py)
                .and_then(|v| v.extract::<(String, Option<i64>)>(py));
            made.map_err(|e| Error::Authentication {
                url: String::new(),
                message: format!("getting a new token failed: {e}"),
            })
        })
    })
}
