//! What a member should end as, and what a caller asks of a plan: the guards it lifts
//! and what a change of user type does with roles.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::portal::License;

/// What a member should end as. Unset fields are left as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Wanted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// A role id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A level, 1 or 2 (portals before user types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// Change the role when the user type (or level) cannot hold the member's role.
    #[serde(default)]
    pub roles_auto: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<EntitlementsWanted>,
    /// Release this app's check-out (an appId) first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// An undo's condition: the member is still as the journal left them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// Entitlements under one license: set exactly, add, or remove.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntitlementsWanted {
    /// The license's listing item id.
    pub license: String,
    pub title: String,
    pub mode: Mode,
    pub ids: Vec<String>,
}

impl EntitlementsWanted {
    pub(super) fn change(&self) -> Change {
        Change::of(self.mode, self.ids.clone())
    }
}

/// How an entitlement change treats what a member has: written in plans as "set", "add"
/// or "remove".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Exactly these (none revokes all).
    Set,
    /// These besides what the member has.
    Add,
    /// Take these away.
    Remove,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Set => "set",
            Mode::Add => "add",
            Mode::Remove => "remove",
        }
    }

    /// The mode a name names; any other is refused.
    pub fn parse(name: &str) -> Result<Mode> {
        match name {
            "set" => Ok(Mode::Set),
            "add" => Ok(Mode::Add),
            "remove" => Ok(Mode::Remove),
            other => Err(Error::invalid(format!(
                "unknown mode {other:?}: an entitlement change is \"set\", \"add\" or \"remove\""
            ))),
        }
    }
}

/// What an entitlement change does to each member's entitlements.
#[derive(Debug, Clone)]
pub enum Change {
    /// Exactly these (an empty list revokes all).
    Set(Vec<String>),
    /// These besides what the member has.
    Add(Vec<String>),
    /// Take these away.
    Remove(Vec<String>),
}

impl Change {
    /// The change of `mode` with these entitlements.
    pub fn of(mode: Mode, ids: Vec<String>) -> Change {
        match mode {
            Mode::Set => Change::Set(ids),
            Mode::Add => Change::Add(ids),
            Mode::Remove => Change::Remove(ids),
        }
    }

    /// Its mode and entitlements.
    pub fn parts(&self) -> (Mode, &[String]) {
        match self {
            Change::Set(ids) => (Mode::Set, ids),
            Change::Add(ids) => (Mode::Add, ids),
            Change::Remove(ids) => (Mode::Remove, ids),
        }
    }

    pub(crate) fn target(&self, current: &[String]) -> Vec<String> {
        let mut target: Vec<String> = match self {
            Change::Set(ids) => ids.clone(),
            Change::Add(ids) => {
                let mut all = current.to_vec();
                all.extend(ids.iter().filter(|id| !current.contains(id)).cloned());
                all
            }
            Change::Remove(ids) => current
                .iter()
                .filter(|e| !ids.iter().any(|id| id.eq_ignore_ascii_case(e)))
                .cloned()
                .collect(),
        };
        target.sort();
        target.dedup();
        target
    }

    pub(crate) fn canonical(self, license: &License) -> Result<Change> {
        Ok(match self {
            Change::Set(ids) => Change::Set(license.entitlements_named(&ids)?),
            Change::Add(ids) => Change::Add(license.entitlements_named(&ids)?),
            Change::Remove(ids) => Change::Remove(license.entitlements_named(&ids)?),
        })
    }
}

/// What an undo expects to find: the values the journal's steps left.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
}

/// Switches a caller sets on a plan.
#[derive(Debug, Clone, Default)]
pub struct Guards {
    /// Let the plan demote the signed-in administrator or the last administrator.
    pub allow_admin_demotion: bool,
    /// Let the plan change every member of the organization.
    pub allow_all: bool,
}

/// What a change of user type or level does with roles (`roles=` in Python, `--role` on the
/// command line).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Roles {
    /// Roles stay; a member whose role the new type cannot hold is predicted to fail.
    #[default]
    Keep,
    /// `"auto"`: where the new type (or level) cannot hold the member's role, the role step
    /// it needs comes first (the Viewer role for a Viewer, User otherwise).
    Auto,
    /// Every member ends with this role (a name or id, custom roles included): "down to
    /// Contributor with the Data Editor role" in one run.
    Named(String),
}

impl Roles {
    /// `roles=` as given: None, "auto", or a role's name or id.
    pub fn parse(text: Option<&str>) -> Roles {
        match text.map(str::trim) {
            None | Some("") => Roles::Keep,
            Some(auto) if auto.eq_ignore_ascii_case("auto") => Roles::Auto,
            Some(named) => Roles::Named(named.to_owned()),
        }
    }

    /// As the plan's options record it: "auto", or the role asked for.
    pub(super) fn option(&self) -> Value {
        match self {
            Roles::Keep => Value::Null,
            Roles::Auto => json!("auto"),
            Roles::Named(role) => json!(role),
        }
    }

    pub(super) fn named(&self) -> Option<String> {
        match self {
            Roles::Named(role) => Some(role.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_compute_each_members_target() {
        let now = vec!["desktopStdN".to_owned(), "3DAnalystN".to_owned()];
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            Change::Set(ids(&["desktopAdvN"])).target(&now),
            ids(&["desktopAdvN"])
        );
        assert_eq!(
            Change::Add(ids(&["spatialAnalystN"])).target(&now),
            ids(&["3DAnalystN", "desktopStdN", "spatialAnalystN"])
        );
        assert_eq!(
            Change::Remove(ids(&["3DAnalystN"])).target(&now),
            ids(&["desktopStdN"])
        );
        assert!(Change::Set(vec![]).target(&now).is_empty());
    }
}
