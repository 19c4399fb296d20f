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

pub use error::{Error, Result};
