//! OpenLM Server's XML API: the protocol, the records, the client.

pub mod client;
pub mod inventory;
pub mod product;
mod reply;
pub(crate) mod sessions;
pub mod xml;

pub use client::OpenLm;
pub use inventory::{LicenseServer, Vendor};
pub use product::{ActiveProduct, CloseTarget, Field, FilterValue, ProductFilter};
