//! gislicense: see and manage who holds GIS licenses.
//!
//! The Rust core knows nothing of Python; the `python` feature adds the bindings.

pub mod bulk;
pub mod clock;
pub mod error;
pub mod files;
pub mod flexnet;
pub mod http;
mod http_trust;
pub mod openlm;
mod packed;
pub mod paging;
pub mod plan;
pub mod portal;
mod renewal;
pub mod runtime;
#[cfg(feature = "sandbox")]
pub mod sandbox;

#[cfg(feature = "python")]
mod python;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Memory freed goes back to the system at once, and arenas are committed as they are
/// used: with mimalloc's defaults a listing of 50,000 members peaked at 214 MiB, against
/// 177 MiB with glibc's malloc; with these, about 182 MiB. An option set by its `MIMALLOC_*`
/// variable is left as set. The numbers are `mi_option_e`'s in the mimalloc v3 that
/// libmimalloc-sys (pinned by Cargo.lock) builds; its Rust constants lack these two.
#[cfg(feature = "mimalloc")]
pub fn tune_allocator() {
    use libmimalloc_sys::{mi_option_set, mi_option_t};
    const ARENA_EAGER_COMMIT: mi_option_t = 4;
    const PURGE_DELAY: mi_option_t = 15;
    for (option, variable) in [
        (ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT"),
        (PURGE_DELAY, "MIMALLOC_PURGE_DELAY"),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: setting an option is thread-safe in mimalloc; these two are read
            // as memory is next committed or purged.
            unsafe { mi_option_set(option, 0) };
        }
    }
}

pub use error::{Error, Result};
