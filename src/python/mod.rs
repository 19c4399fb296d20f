//! PyO3 bindings: the `gislicense._core` extension module. Thin wrappers only: they convert
//! types and errors at the edge and release the GIL around every network wait.

mod bulk;
mod collector;
mod errors;
mod exit;
mod flexnet;
mod inventory;
mod json;
mod keywords;
mod licenses;
mod listing;
mod member;
mod oauth;
mod openlm;
mod options;
mod plans;
mod portal;
mod records;
#[cfg(feature = "sandbox")]
mod sandbox;
mod strings;
mod text;
mod time;
mod wait;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(feature = "mimalloc")]
    crate::tune_allocator();
    // Before Python finalizes, the runtime's threads stop calling into it (see exit.rs).
    let before_exit = wrap_pyfunction!(exit::before_exit, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (before_exit,))?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("USER_AGENT", crate::http::USER_AGENT)?;
    // Benchmarks refuse to measure a debug build.
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    m.add_class::<options::HttpOptions>()?;
    m.add_class::<openlm::OpenLMClient>()?;
    m.add_class::<openlm::ActiveProduct>()?;
    m.add_class::<inventory::OpenLMServer>()?;
    m.add_class::<inventory::OpenLMVendor>()?;
    m.add_function(wrap_pyfunction!(openlm::parse_active_products, m)?)?;
    m.add_function(wrap_pyfunction!(openlm::active_product_fields, m)?)?;
    m.add_class::<portal::PortalClient>()?;
    m.add_class::<member::ListedMember>()?;
    m.add_function(wrap_pyfunction!(portal::sign_in_way, m)?)?;
    m.add_class::<oauth::Authorization>()?;
    m.add_class::<oauth::Code>()?;
    m.add_class::<licenses::LicenseAdmin>()?;
    m.add_class::<wait::Call>()?;
    m.add_class::<records::UserType>()?;
    m.add_class::<records::Role>()?;
    m.add_class::<records::UserEntitlement>()?;
    m.add_class::<records::EntitlementCount>()?;
    m.add_function(wrap_pyfunction!(time::utc_from_ms, m)?)?;
    m.add_function(wrap_pyfunction!(plans::read_journal, m)?)?;
    m.add_function(wrap_pyfunction!(plans::plan_predictions, m)?)?;
    m.add_function(wrap_pyfunction!(plans::select_items, m)?)?;
    m.add_function(wrap_pyfunction!(plans::step_descriptions, m)?)?;
    m.add_function(wrap_pyfunction!(plans::item_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(plans::check_batch_size, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::check_concurrency, m)?)?;
    m.add_class::<collector::CollectorPaused>()?;
    m.add_function(wrap_pyfunction!(collector::collector_paused, m)?)?;
    m.add_class::<plans::ApplyProgress>()?;
    m.add_class::<plans::CorePlan>()?;
    m.add_class::<flexnet::FlexNetClient>()?;
    m.add_class::<flexnet::FlexNetFeature>()?;
    m.add_class::<flexnet::FlexNetSession>()?;
    m.add_class::<flexnet::LicenseStatus>()?;
    m.add_class::<flexnet::LicenseEvent>()?;
    m.add_class::<flexnet::LmgrdLogFile>()?;
    m.add_class::<flexnet::LmgrdLogParser>()?;
    m.add_function(wrap_pyfunction!(flexnet::parse_lmstat, m)?)?;
    #[cfg(feature = "sandbox")]
    {
        m.add_function(wrap_pyfunction!(flexnet::sandbox::flexnet_seeded, m)?)?;
        m.add_function(wrap_pyfunction!(flexnet::sandbox::flexnet_create, m)?)?;
        m.add_function(wrap_pyfunction!(flexnet::sandbox::flexnet_state, m)?)?;
        m.add_function(wrap_pyfunction!(flexnet::sandbox::flexnet_lmutil, m)?)?;
        m.add_class::<sandbox::Sandbox>()?;
        m.add_class::<sandbox::SandboxRequest>()?;
    }
    Ok(())
}

/// Route the crate's log lines to Python's `logging`. Installed when the first client or
/// sandbox is made (not at import: importing `logging` costs start-up time). Levels are
/// cached for speed, so the cache is refreshed each time a client is made: levels set
/// before making a client apply to it.
pub(crate) fn ensure_logging() {
    static HANDLE: std::sync::OnceLock<Option<pyo3_log::ResetHandle>> = std::sync::OnceLock::new();
    let installed = HANDLE.get_or_init(|| {
        let logger = Python::attach(|py| {
            pyo3_log::Logger::new(py, pyo3_log::Caching::LoggersAndLevels).ok()
        })?
        .filter(log::LevelFilter::Debug);
        let handle = logger.reset_handle();
        // Installing fails only if another logger is installed already; then that one gets
        // the lines.
        log::set_boxed_logger(Box::new(UntilExit(logger))).ok()?;
        log::set_max_level(log::LevelFilter::Debug);
        Some(handle)
    });
    if let Some(handle) = installed {
        handle.reset();
    }
}

/// Python's logging, for as long as Python is not exiting (a runtime thread may log).
struct UntilExit(pyo3_log::Logger);

impl log::Log for UntilExit {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("gislicense") && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        // gislicense's own lines only: those of the libraries underneath (a TLS library's
        // warning for each failed handshake) would reach the user's terminal through
        // Python's last-resort handler; our errors say what they mean.
        if !record.target().starts_with("gislicense") {
            return;
        }
        if let Some(_inside) = exit::enter() {
            self.0.log(record);
        }
    }

    fn flush(&self) {}
}
