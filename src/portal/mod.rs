//! ArcGIS Portal / Enterprise: signing in, the sharing API (users, user types, roles), and
//! the administrator APIs.

pub mod client;
pub mod credentials;
pub mod envelope;
pub mod licenses;
pub(crate) mod listings;
pub mod oauth;
pub mod paging;
pub mod release;
pub mod roles;
pub mod url;
pub mod user_types;
pub mod users;
pub mod versions;

pub use client::{Credentials, OAuthGrant, Portal, PortalOptions, Root, TokenSource};
pub use credentials::{SignInParts, SignInWay};
pub use licenses::{App, Deployment, EntitlementCount, License, UserEntitlement};
pub use users::{Member, Role, User, UserQuery, UserType};
