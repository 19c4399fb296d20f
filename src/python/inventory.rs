//! Bindings for what OpenLM watches: its license servers and vendors (GetServerList,
//! GetVendorList). Their reply shapes are unverified, so each record keeps the attributes it
//! did not understand in `extra`, as received.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::openlm::{LicenseServer, Vendor};

fn extra_dict<'py>(py: Python<'py>, extra: &[(String, String)]) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in extra {
        if !dict.contains(name)? {
            dict.set_item(name, value)?;
        }
    }
    Ok(dict)
}

/// A license server OpenLM watches, from a GetServerList reply.
///
/// The reply's shape is unverified: fields the reply did not give are None, and every
/// attribute not read into a field is in ``extra``, as received.
#[pyclass(frozen, eq, module = "gislicense", name = "OpenLMServer")]
#[derive(PartialEq)]
pub struct OpenLMServer {
    pub inner: LicenseServer,
}

#[pymethods]
impl OpenLMServer {
    /// The descriptive name configured in OpenLM (what ``close_application`` wants).
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    #[getter]
    fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }

    #[getter]
    fn port(&self) -> Option<u16> {
        self.inner.port
    }

    #[getter]
    fn vendor(&self) -> Option<&str> {
        self.inner.vendor.as_deref()
    }

    #[getter]
    fn status(&self) -> Option<&str> {
        self.inner.status.as_deref()
    }

    #[getter]
    fn issued(&self) -> Option<u64> {
        self.inner.issued
    }

    #[getter]
    fn in_use(&self) -> Option<u64> {
        self.inner.in_use
    }

    /// The reply element's tag, as received.
    #[getter]
    fn tag(&self) -> &str {
        &self.inner.tag
    }

    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        extra_dict(py, &self.inner.extra)
    }

    /// The fields and ``extra`` as a dict (for tables and JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let s = &self.inner;
        dict.set_item("name", &s.name)?;
        dict.set_item("host", &s.host)?;
        dict.set_item("port", s.port)?;
        dict.set_item("vendor", &s.vendor)?;
        dict.set_item("status", &s.status)?;
        dict.set_item("issued", s.issued)?;
        dict.set_item("in_use", s.in_use)?;
        dict.set_item("extra", self.extra(py)?)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "OpenLMServer(name={:?}, host={:?}, port={:?}, vendor={:?}, issued={:?}, in_use={:?})",
            s.name, s.host, s.port, s.vendor, s.issued, s.in_use
        )
    }
}

/// A vendor (license manager daemon) OpenLM watches, from a GetVendorList reply.
///
/// The reply's shape is unverified: fields the reply did not give are None, and every
/// attribute not read into a field is in ``extra``, as received.
#[pyclass(frozen, eq, module = "gislicense", name = "OpenLMVendor")]
#[derive(PartialEq)]
pub struct OpenLMVendor {
    pub inner: Vendor,
}

#[pymethods]
impl OpenLMVendor {
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// How many of OpenLM's license servers serve it.
    #[getter]
    fn servers(&self) -> Option<u64> {
        self.inner.servers
    }

    #[getter]
    fn issued(&self) -> Option<u64> {
        self.inner.issued
    }

    #[getter]
    fn in_use(&self) -> Option<u64> {
        self.inner.in_use
    }

    #[getter]
    fn tag(&self) -> &str {
        &self.inner.tag
    }

    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        extra_dict(py, &self.inner.extra)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let v = &self.inner;
        dict.set_item("name", &v.name)?;
        dict.set_item("servers", v.servers)?;
        dict.set_item("issued", v.issued)?;
        dict.set_item("in_use", v.in_use)?;
        dict.set_item("extra", self.extra(py)?)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let v = &self.inner;
        format!(
            "OpenLMVendor(name={:?}, servers={:?}, issued={:?}, in_use={:?})",
            v.name, v.servers, v.issued, v.in_use
        )
    }
}
