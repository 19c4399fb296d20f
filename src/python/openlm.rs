//! Bindings for the OpenLM client and its records.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyMapping, PyString};

use crate::error::Error;
use crate::openlm::product::Kind;
use crate::openlm::{self as core, xml, CloseTarget, Field, FilterValue, ProductFilter};
use crate::plan;
use crate::python::collector::{untracked, CollectorPause};
use crate::python::errors::to_pyerr;
use crate::python::inventory::{OpenLMServer, OpenLMVendor};
use crate::python::options::HttpOptions;
use crate::python::plans;
use crate::python::strings::StringCache;
use crate::python::text::{text, type_name};
use crate::python::time::{timedelta, utc_datetime};
use crate::python::wait::Call;

/// A license in use, from a GetActiveProducts reply.
///
/// Typed attributes for the fields OpenLM reports; ``attributes`` holds every attribute
/// exactly as received, including ones this version of gislicense does not know.
#[pyclass(frozen, eq, module = "gislicense", name = "ActiveProduct")]
pub struct ActiveProduct {
    pub inner: core::ActiveProduct,
    /// The product name (for ArcGIS, the feature: ``Editor``, ``Viewer``, ``ARC/INFO``).
    // A reply names a handful of products: each row's is one of a few shared strings, made
    // once, and read by Python as a struct member (a frozen class's `Py` field) without a
    // call into Rust. Users and workstations are not shared so: tens of thousands of
    // distinct ones made a table lookup per row miss the CPU's caches, costing more than
    // making each string when it is read.
    #[pyo3(get)]
    product: Py<PyString>,
}

impl PartialEq for ActiveProduct {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

/// Makes the Python objects of a reply's products; rows with the same product share one
/// string of it.
#[derive(Default)]
struct ProductMaker {
    product: StringCache,
}

impl ProductMaker {
    fn make(&mut self, py: Python<'_>, inner: core::ActiveProduct) -> ActiveProduct {
        ActiveProduct {
            product: self.product.get(py, inner.product()),
            inner,
        }
    }
}

impl ActiveProduct {
    fn field_value(&self, py: Python<'_>, field: Field) -> PyResult<Py<PyAny>> {
        let p = &self.inner;
        Ok(match field.kind() {
            Kind::Text => match field {
                Field::Product | Field::Username | Field::Workstation | Field::Feature => p
                    .text_field(field)
                    .unwrap_or("")
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
                _ => p.text_field(field).into_pyobject(py)?.unbind(),
            },
            Kind::Time => match p.time_ms(field) {
                Some(ms) => utc_datetime(py, ms)?,
                None => py.None(),
            },
            Kind::Seconds => match p.seconds(field) {
                Some(s) => timedelta(py, s)?,
                None => py.None(),
            },
            Kind::Int => p.licenses().into_pyobject(py)?.into_any().unbind(),
            Kind::Bool => match field {
                Field::Borrowed => p
                    .borrowed()
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any()
                    .unbind(),
                _ => p.flag(field).into_pyobject(py)?.unbind(),
            },
        })
    }
}

#[pymethods]
impl ActiveProduct {
    /// The user holding the license.
    #[getter]
    fn username(&self) -> &str {
        self.inner.username()
    }
    /// The workstation the license is used on.
    #[getter]
    fn workstation(&self) -> &str {
        self.inner.workstation()
    }
    /// The license server's descriptive name in OpenLM, or None.
    #[getter]
    fn server(&self) -> Option<&str> {
        self.inner.server()
    }
    /// The vendor daemon (``ARCGIS``, ``adskflex``, ``MLM``), or None.
    #[getter]
    fn vendor(&self) -> Option<&str> {
        self.inner.vendor()
    }
    /// The license feature; the product name when the server reports no feature.
    #[getter]
    fn feature(&self) -> &str {
        self.inner.feature()
    }
    #[getter]
    fn version(&self) -> Option<&str> {
        self.inner.text_field(Field::Version)
    }
    /// When the license was checked out (timezone-aware UTC), or None.
    #[getter]
    fn start_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field_value(py, Field::StartTime)
    }
    /// How long the license has been in use, as the server reported it, or None.
    #[getter]
    fn duration(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field_value(py, Field::Duration)
    }
    /// How long the application has been idle, or None.
    #[getter]
    fn idle_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.field_value(py, Field::IdleTime)
    }
    /// The FlexNet license handle, or None.
    #[getter]
    fn handle(&self) -> Option<&str> {
        self.inner.text_field(Field::Handle)
    }
    /// Number of licenses this session holds (1 unless the server says otherwise).
    #[getter]
    fn licenses(&self) -> i64 {
        self.inner.licenses()
    }
    /// Whether the license is borrowed (checked out for offline use).
    #[getter]
    fn borrowed(&self) -> bool {
        self.inner.borrowed()
    }
    /// Whether OpenLM can close this session (its Agent is on the workstation), or None if unknown.
    #[getter]
    fn closable(&self) -> Option<bool> {
        self.inner.flag(Field::Closable)
    }
    #[getter]
    fn full_name(&self) -> Option<&str> {
        self.inner.text_field(Field::FullName)
    }
    #[getter]
    fn group(&self) -> Option<&str> {
        self.inner.text_field(Field::Group)
    }
    #[getter]
    fn project(&self) -> Option<&str> {
        self.inner.text_field(Field::Project)
    }
    #[getter]
    fn host_ip(&self) -> Option<&str> {
        self.inner.text_field(Field::HostIp)
    }

    /// Every attribute exactly as received, in order.
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.inner.record().iter() {
            if !dict.contains(name)? {
                dict.set_item(name, value)?;
            }
        }
        Ok(dict)
    }

    /// The typed fields as a dict (for tables and JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for field in Field::ALL {
            dict.set_item(field.name(), self.field_value(py, *field)?)?;
        }
        Ok(dict)
    }

    /// A notebook's view: the typed fields as a two-column table, escaped.
    fn _repr_html_(&self, py: Python<'_>) -> PyResult<String> {
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut rows = String::new();
        for field in Field::ALL {
            let value = self.field_value(py, *field)?.into_bound(py);
            if value.is_none() {
                continue;
            }
            rows.push_str(&format!(
                "<tr><th style='text-align:left'>{}</th><td style='text-align:left'>{}</td></tr>",
                escape(field.name()),
                escape(&value.str()?.to_string())
            ));
        }
        Ok(format!(
            "<div><b>Session of {} on {}</b><table>{rows}</table></div>",
            escape(self.inner.username()),
            escape(self.inner.workstation())
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "ActiveProduct(product={:?}, username={:?}, workstation={:?}, server={:?})",
            self.inner.product(),
            self.inner.username(),
            self.inner.workstation(),
            self.inner.server().unwrap_or("")
        )
    }
}

fn to_python_products(
    py: Python<'_>,
    products: impl ExactSizeIterator<Item = core::ActiveProduct>,
) -> PyResult<Bound<'_, PyList>> {
    // The objects hold only strings: the cycle collector has nothing to find among them,
    // neither while they are made nor after.
    let _paused = CollectorPause::start();
    let mut maker = ProductMaker::default();
    let list = PyList::new(py, products.map(|inner| maker.make(py, inner)))?;
    for product in list.iter() {
        untracked(product);
    }
    Ok(list)
}

/// Read a GetActiveProducts reply (bytes of XML) into ActiveProduct objects.
#[pyfunction]
pub fn parse_active_products<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
) -> PyResult<Bound<'py, PyList>> {
    let bytes = data.as_bytes();
    let parsed = py.detach(|| xml::read(bytes).map(|m| m.records));
    let records = parsed.map_err(|problem| {
        to_pyerr(Error::UnreadableReply {
            url: "(bytes)".into(),
            status: 200,
            problem: problem.0,
            body_start: crate::error::body_start(bytes, 200),
        })
    })?;
    to_python_products(py, core::ActiveProduct::of_records(records))
}

/// The typed fields of ActiveProduct, with their kinds: (name, kind) pairs.
#[pyfunction]
pub fn active_product_fields() -> Vec<(&'static str, &'static str)> {
    Field::ALL
        .iter()
        .map(|f| {
            let kind = match f.kind() {
                Kind::Text => "text",
                Kind::Time => "time",
                Kind::Seconds => "seconds",
                Kind::Int => "int",
                Kind::Bool => "bool",
            };
            (f.name(), kind)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// A value of a filter, from Python: str, int or bool.
fn filter_value(value: &Bound<'_, PyAny>) -> PyResult<FilterValue> {
    // bool before int: True is an int in Python.
    if let Ok(b) = value.cast::<pyo3::types::PyBool>() {
        return Ok(FilterValue::Bool(b.is_true()));
    }
    if let Ok(i) = value.extract::<i64>() {
        return Ok(FilterValue::Int(i));
    }
    if value.is_instance_of::<pyo3::types::PyString>() {
        return text("a filter value", value)
            .map(FilterValue::Text)
            .map_err(to_pyerr);
    }
    Err(to_pyerr(Error::invalid(format!(
        "a filter value must be text, a whole number or True/False, not {}",
        type_name(value)
    ))))
}

fn build_filter(
    fields: Vec<(String, Vec<Bound<'_, PyAny>>)>,
    attributes: Vec<(String, Vec<String>)>,
) -> PyResult<ProductFilter> {
    let mut filter = ProductFilter::default();
    for (name, values) in fields {
        let values = values
            .iter()
            .map(filter_value)
            .collect::<PyResult<Vec<_>>>()?;
        filter.field(&name, values).map_err(to_pyerr)?;
    }
    for (name, values) in attributes {
        filter.attribute(&name, values).map_err(to_pyerr)?;
    }
    Ok(filter)
}

fn check_page_size(page_size: u64) -> PyResult<u64> {
    if page_size > 1_000_000 {
        return Err(to_pyerr(Error::invalid(format!(
            "page_size must be at most 1000000 (0 for no paging), not {page_size}"
        ))));
    }
    Ok(page_size)
}

/// A CloseTarget from one item handed to close_applications: an ActiveProduct or a mapping.
fn close_target(
    index: usize,
    item: &Bound<'_, PyAny>,
    server: Option<&str>,
    vendor: Option<&str>,
) -> PyResult<Result<CloseTarget, Error>> {
    if let Ok(product) = item.cast::<ActiveProduct>() {
        return Ok(product.get().inner.close_target(server, vendor));
    }
    let Ok(mapping) = item.cast::<PyMapping>() else {
        return Ok(Err(Error::invalid(format!(
            "item {index} is a {}, not an ActiveProduct or a mapping",
            type_name(item)
        ))));
    };
    let mut values: Vec<String> = Vec::with_capacity(5);
    for (key, given) in [
        ("username", None),
        ("workstation", None),
        ("server", server),
        ("vendor", vendor),
        ("feature", None),
    ] {
        let value = match given {
            Some(v) => Some(v.to_owned()),
            // A mapping that fails to give a key (KeyError or otherwise) has no such value.
            None => match mapping.get_item(key) {
                Ok(v) if !v.is_none() => match text(&format!("item {index}: {key}"), &v) {
                    Ok(v) => Some(v),
                    Err(err) => return Ok(Err(err)),
                },
                _ => None,
            },
        };
        match value {
            Some(v) => values.push(v),
            None => return Ok(Err(Error::invalid(format!("item {index} has no {key}")))),
        }
    }
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or_default();
    let target = CloseTarget {
        username: next(),
        workstation: next(),
        server: next(),
        vendor: next(),
        feature: next(),
    };
    Ok(target.validate().map(|()| target))
}

struct Products(Vec<core::ActiveProduct>);

impl<'py> IntoPyObject<'py> for Products {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        to_python_products(py, self.0.into_iter())
    }
}

/// The OpenLM client behind ``gislicense.OpenLM``.
#[pyclass(frozen, module = "gislicense._core")]
pub struct OpenLMClient {
    client: Arc<core::OpenLm>,
}

#[pymethods]
impl OpenLMClient {
    #[new]
    #[pyo3(signature = (url, username, password, options, close_wait = 30.0))]
    fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
        options: &HttpOptions,
        close_wait: f64,
    ) -> PyResult<Self> {
        crate::python::ensure_logging();
        if !(close_wait.is_finite() && (0.0..=3600.0).contains(&close_wait)) {
            return Err(to_pyerr(Error::invalid(format!(
                "close_wait is seconds from 0 to 3600, not {close_wait}"
            ))));
        }
        let client = core::OpenLm::new(url, username, password, options.inner.clone())
            .map_err(to_pyerr)?
            .with_close_wait(std::time::Duration::from_secs_f64(close_wait));
        Ok(OpenLMClient {
            client: Arc::new(client),
        })
    }

    #[getter]
    fn url(&self) -> &str {
        self.client.url()
    }

    #[getter]
    fn username(&self) -> Option<&str> {
        self.client.username()
    }

    /// The license servers OpenLM watches (GetServerList).
    fn get_servers(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let servers = client.get_servers().await?;
            Ok(servers
                .into_iter()
                .map(|inner| OpenLMServer { inner })
                .collect::<Vec<_>>())
        })
    }

    /// The vendors OpenLM watches (GetVendorList).
    fn get_vendors(&self) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let vendors = client.get_vendors().await?;
            Ok(vendors
                .into_iter()
                .map(|inner| OpenLMVendor { inner })
                .collect::<Vec<_>>())
        })
    }

    #[pyo3(signature = (page_size, fields, attributes))]
    fn get_active_products(
        &self,
        page_size: u64,
        fields: Vec<(String, Vec<Bound<'_, PyAny>>)>,
        attributes: Vec<(String, Vec<String>)>,
    ) -> PyResult<Call> {
        let filter = build_filter(fields, attributes)?;
        let page_size = check_page_size(page_size)?;
        let client = self.client.clone();
        Ok(Call::new(async move {
            let products = client.get_active_products(page_size).await?;
            Ok(Products(filtered(products, &filter)))
        }))
    }

    fn close_application(
        &self,
        username: String,
        workstation: String,
        server: String,
        vendor: String,
        feature: String,
    ) -> PyResult<Call> {
        let target = CloseTarget {
            username,
            workstation,
            server,
            vendor,
            feature,
        };
        target.validate().map_err(to_pyerr)?;
        let client = self.client.clone();
        Ok(Call::new(
            async move { client.close_application(&target).await },
        ))
    }

    /// Plan closing sessions (ActiveProducts or mappings): the plan's JSON.
    #[pyo3(signature = (items, server, vendor, allow_all))]
    fn plan_close(
        &self,
        items: Vec<Bound<'_, PyAny>>,
        server: Option<String>,
        vendor: Option<String>,
        allow_all: bool,
    ) -> PyResult<Call> {
        let targets = targets(&items, server.as_deref(), vendor.as_deref())?;
        let client = self.client.clone();
        Ok(Call::new(async move {
            let plan = plan::openlm::plan_close(&client, targets, allow_all).await?;
            Ok(plans::CorePlan::of(plan))
        }))
    }

    /// Plan again, from the sessions open now, the closes a journal left unfinished.
    fn plan_resume(&self, journal: std::path::PathBuf) -> Call {
        let client = self.client.clone();
        Call::new(async move {
            let read = plan::Journal::read(&journal)?;
            Ok(plans::CorePlan::of(
                plan::openlm::plan_resume(&client, &read).await?,
            ))
        })
    }

    /// Apply a plan (its JSON text), journaled to `journal` when given. `recheck`: list the
    /// open sessions again before the closes go (a plan made moments ago by the same call
    /// passes False: its listing is that re-read).
    #[pyo3(signature = (plan, journal, concurrency, progress=None, recheck=true))]
    fn apply_plan(
        &self,
        plan: &Bound<'_, PyAny>,
        journal: Option<std::path::PathBuf>,
        concurrency: usize,
        progress: Option<PyRef<'_, plans::ApplyProgress>>,
        recheck: bool,
    ) -> PyResult<Call> {
        let plan = plans::plan_for(plan, self.client.url())?;
        let client = self.client.clone();
        let progress = progress.map(|p| p.0.clone());
        Ok(Call::new(async move {
            let executor = if recheck {
                plan::openlm::CloseExecutor::new(&client)
            } else {
                plan::openlm::CloseExecutor::planned_just_now(&client)
            };
            plans::apply_journaled(plan, &executor, journal, concurrency, progress).await
        }))
    }
}

fn targets(
    items: &[Bound<'_, PyAny>],
    server: Option<&str>,
    vendor: Option<&str>,
) -> PyResult<Vec<Result<CloseTarget, Error>>> {
    for (what, value) in [("server", server), ("vendor", vendor)] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            return Err(to_pyerr(Error::invalid(format!("{what}= is empty"))));
        }
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| close_target(index, item, server, vendor))
        .collect()
}

fn filtered(
    products: Vec<core::ActiveProduct>,
    filter: &ProductFilter,
) -> Vec<core::ActiveProduct> {
    if filter.is_empty() {
        return products;
    }
    products.into_iter().filter(|p| filter.matches(p)).collect()
}
