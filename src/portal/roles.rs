//! Roles: the built-in ones and the organization's custom ones, read once per portal, and
//! how a member's role reads (as the official client shows it: a custom role by its name,
//! a built-in role by its id).

use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::portal::client::Portal;
use crate::portal::listings::paged;
use crate::portal::paging::ItemKey;
use crate::portal::users::squash;

/// A role: a built-in one or a custom one from `portals/self/roles`.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    /// A custom role's privileges; empty for the built-in roles.
    pub privileges: Vec<String>,
}

/// The built-in roles every organization has, with the names people use for them.
const BUILT_IN_ROLES: &[(&str, &str, &[&str])] = &[
    (
        "org_admin",
        "Administrator",
        &["administrator", "admin", "org_admin"],
    ),
    (
        "org_publisher",
        "Publisher",
        &["publisher", "org_publisher"],
    ),
    ("org_user", "User", &["user", "org_user"]),
    ("iAAAAAAAAAAAAAAA", "Viewer", &["viewer"]),
    (
        "iBBBBBBBBBBBBBBB",
        "Data Editor",
        &["data editor", "dataeditor", "data_editor", "editor role"],
    ),
];

/// The id of a role given by id, by name (built-in or custom), or by a friendly name.
pub fn resolve_role(custom: &[Role], wanted: &str) -> Result<String> {
    let key = squash(wanted);
    if key.is_empty() {
        return Err(Error::invalid("the role is empty"));
    }
    let built_in = BUILT_IN_ROLES
        .iter()
        .find(|(id, _, names)| {
            id.eq_ignore_ascii_case(wanted.trim()) || names.contains(&key.as_str())
        })
        .map(|(id, _, _)| (*id).to_owned());
    let custom_match = || {
        custom
            .iter()
            .find(|r| r.id == wanted.trim() || squash(&r.name) == key)
            .map(|r| r.id.clone())
    };
    built_in.or_else(custom_match).ok_or_else(|| {
        let mut names: Vec<String> = BUILT_IN_ROLES
            .iter()
            .map(|(_, name, _)| name.to_lowercase())
            .collect();
        names.extend(
            custom
                .iter()
                .filter(|r| !BUILT_IN_ROLES.iter().any(|(id, _, _)| *id == r.id))
                .map(|r| r.name.clone()),
        );
        Error::invalid(format!(
            "unknown role {wanted:?}; roles are: {} (or a role id)",
            names.join(", ")
        ))
    })
}

/// The built-in roles a member's role reads as by id, as the official client shows them
/// (it looks a role's name up among the organization's roles, which do not list these).
const BASE_ROLES: [&str; 3] = ["org_admin", "org_publisher", "org_user"];

impl Portal {
    /// The organization's roles: the built-in ones and the custom ones.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        let custom = paged(self, "portals/self/roles", "roles", ItemKey::ROLES).await?;
        let mut roles: Vec<Role> = BUILT_IN_ROLES
            .iter()
            .map(|(id, name, _)| Role {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                description: String::new(),
                privileges: Vec::new(),
            })
            .collect();
        for raw in custom {
            let Some(id) = raw.get("id").and_then(Value::as_str) else {
                continue;
            };
            let role = Role {
                id: id.to_owned(),
                name: raw
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_owned(),
                description: raw
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                privileges: match raw.get("privileges") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                },
            };
            match roles.iter_mut().find(|r| r.id == role.id) {
                Some(existing) => *existing = role,
                None => roles.push(role),
            }
        }
        Ok(roles)
    }

    /// The organization's roles, read once (`portals/self/roles`) and kept for the life of
    /// this client: what names given for roles are resolved against, and what members'
    /// roles read as.
    pub async fn cached_roles(&self) -> Result<&[Role]> {
        let roles = self.role_names.get_or_try_init(|| self.roles()).await?;
        Ok(roles)
    }

    /// The id of a role given by id or name (the portal's roles are fetched once).
    pub async fn resolve_role(&self, wanted: &str) -> Result<String> {
        resolve_role(self.cached_roles().await?, wanted)
    }

    /// Reads the roles (once) so that [`Portal::role_name`] can name members' roles. A
    /// signed-in user who may not read them (or a portal without them) is no failure: their
    /// members' roles then read as ids, as in the official client. Any other failure is.
    pub async fn read_role_names(&self) -> Result<()> {
        if self.roles_refused.load(Ordering::Relaxed) {
            return Ok(());
        }
        match self.cached_roles().await {
            Ok(_) => Ok(()),
            Err(
                Error::PermissionDenied { .. }
                | Error::Authentication { .. }
                | Error::NotFound { .. },
            ) => {
                self.roles_refused.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// What a member's role reads as, given its id: a custom role's name (Viewer, Data
    /// Editor, or the organization's own), or the id of a built-in one (`org_admin`,
    /// `org_publisher`, `org_user`) and of a role not (yet) read. Never waits: the roles
    /// are read by [`Portal::read_role_names`], alongside the members.
    pub fn role_name<'a>(&'a self, role_id: &'a str) -> &'a str {
        if BASE_ROLES.contains(&role_id) {
            return role_id;
        }
        self.role_names
            .get()
            .and_then(|roles| roles.iter().find(|r| r.id == role_id))
            .map_or(role_id, |r| r.name.as_str())
    }
}

/// Whether a role id is one of the built-in `org_admin`, `org_publisher`, `org_user`, on
/// which custom roles are based: a portal's filter by such a role may also match members
/// of the custom roles based on it.
pub fn is_base_role(role_id: &str) -> bool {
    BASE_ROLES.contains(&role_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_id_name_or_friendly_name() {
        let custom = vec![Role {
            id: "xyz123".into(),
            name: "Analyst".into(),
            description: String::new(),
            privileges: Vec::new(),
        }];
        assert_eq!(resolve_role(&custom, "viewer").unwrap(), "iAAAAAAAAAAAAAAA");
        assert_eq!(resolve_role(&custom, "Administrator").unwrap(), "org_admin");
        assert_eq!(
            resolve_role(&custom, "org_publisher").unwrap(),
            "org_publisher"
        );
        assert_eq!(resolve_role(&custom, "analyst").unwrap(), "xyz123");
        assert_eq!(resolve_role(&custom, "xyz123").unwrap(), "xyz123");
        let err = resolve_role(&custom, "boss").unwrap_err();
        assert!(err.to_string().contains("Analyst"), "{err}");
    }
}
