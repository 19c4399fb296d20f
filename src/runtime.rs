//! The one tokio runtime every client and the sandbox run on.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// The shared multi-threaded runtime, started on first use.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("gislicense")
            .enable_all()
            .build()
            // Creating threads and an I/O driver fails only when the OS refuses resources;
            // nothing in this library can work then.
            .unwrap_or_else(|e| panic!("gislicense cannot start its I/O runtime: {e}"))
    })
}
