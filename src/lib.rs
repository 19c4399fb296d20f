//! gislicense: see and manage who holds GIS licenses.
//!
//! The Rust core knows nothing of Python; the `python` feature adds the bindings.

pub mod bulk;
pub mod error;
pub mod http;
mod http_trust;
pub mod openlm;
pub mod paging;
pub mod plan;
pub mod portal;
mod renewal;
pub mod runtime;
pub mod sandbox;

#[cfg(feature = "python")]
mod python;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Memory freed goes back to the system at once, and arenas are committed as they are
/// used: with mimalloc's defaults a listing of 50,000 members peaked at 214 MiB, against
/// 177 MiB with glibc's malloc; with these, 182 MiB. Left alone when the options are not at
/// their documented defaults (set by `MIMALLOC_*` variables, or renumbered in a new
/// mimalloc: the numbers are `mi_option_e`'s in mimalloc v3's `mimalloc.h`).
#[cfg(feature = "mimalloc")]
pub fn tune_allocator() {
    use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};
    const ARENA_EAGER_COMMIT: mi_option_t = 4;
    const PURGE_DELAY: mi_option_t = 15;
    // SAFETY: reading and setting options is thread-safe in mimalloc, and these two are
    // read as memory is next committed or purged.
    unsafe {
        if mi_option_get(ARENA_EAGER_COMMIT) == 2 && mi_option_get(PURGE_DELAY) == 10 {
            mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi_option_set(PURGE_DELAY, 0);
        }
    }
}

pub use error::{Error, Result};
