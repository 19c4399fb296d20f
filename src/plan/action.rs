//! A step of a plan: what it changes, from what, to what, and its words for people.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::flexnet::RemoveTarget;
use crate::openlm::CloseTarget;

/// One step of one item: what it changes, from what, to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A member's role (role ids).
    Role {
        username: String,
        from: String,
        to: String,
    },
    /// A member's user type (ids).
    UserType {
        username: String,
        from: String,
        to: String,
    },
    /// A member's level (1 or 2), on a portal before user types (10.7).
    Level { username: String, from: u8, to: u8 },
    /// A member's entitlements under one license (its listing's item id).
    Entitlements {
        username: String,
        license: String,
        title: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Release the license of `app` (an appId) that the member checked out for offline use.
    Release { username: String, app: String },
    /// Close the application holding an OpenLM session.
    Close { session: CloseTarget },
    /// Take back a License Manager (FlexNet) session's license: `lmremove -h`.
    Remove { license: RemoveTarget },
}

impl Action {
    /// The step's name in reports and journals.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Role { .. } => "role",
            Action::UserType { .. } => "user_type",
            Action::Level { .. } => "level",
            Action::Entitlements { .. } => "entitlements",
            Action::Release { .. } => "release",
            Action::Close { .. } => "close",
            Action::Remove { .. } => "remove",
        }
    }

    /// What the step does, done.
    pub fn word(&self) -> Verb {
        match self {
            Action::Role { .. } | Action::UserType { .. } | Action::Level { .. } => Verb::Changed,
            Action::Entitlements { to, .. } if to.is_empty() => Verb::Revoked,
            Action::Entitlements { .. } => Verb::Assigned,
            Action::Release { .. } => Verb::Released,
            Action::Close { .. } | Action::Remove { .. } => Verb::Closed,
        }
    }

    /// Whether undoing it is possible: a closed application or a released check-out is gone.
    pub fn reversible(&self) -> bool {
        !matches!(
            self,
            Action::Release { .. } | Action::Close { .. } | Action::Remove { .. }
        )
    }

    /// The member it changes, or the session's user.
    pub fn username(&self) -> &str {
        match self {
            Action::Role { username, .. }
            | Action::UserType { username, .. }
            | Action::Level { username, .. }
            | Action::Entitlements { username, .. }
            | Action::Release { username, .. } => username,
            Action::Close { session } => &session.username,
            Action::Remove { license } => &license.username,
        }
    }

    /// Whom or what the step is about.
    pub fn subject(&self) -> String {
        match self {
            Action::Role { username, .. }
            | Action::UserType { username, .. }
            | Action::Level { username, .. }
            | Action::Entitlements { username, .. }
            | Action::Release { username, .. } => username.clone(),
            Action::Close { session } => session.describe(),
            Action::Remove { license } => license.describe(),
        }
    }

    /// The value before and after, as the journal records them.
    pub fn before_after(&self) -> (Value, Value) {
        match self {
            Action::Role { from, to, .. } | Action::UserType { from, to, .. } => {
                (Value::from(from.as_str()), Value::from(to.as_str()))
            }
            Action::Level { from, to, .. } => (Value::from(*from), Value::from(*to)),
            Action::Entitlements { from, to, .. } => {
                (Value::from(from.clone()), Value::from(to.clone()))
            }
            Action::Release { app, .. } => (
                Value::from(format!("{app} checked out")),
                Value::from("released"),
            ),
            Action::Close { .. } | Action::Remove { .. } => {
                (Value::from("open"), Value::from("closed"))
            }
        }
    }

    /// One line for people: "role org_user → iAAAAAAAAAAAAAAA".
    pub fn describe(&self) -> String {
        self.describe_named(&BTreeMap::new())
    }

    /// One line for people, with the ids of user types and roles given by the names in
    /// `names` where it has them (a plan's `names`): "role User → Viewer". The one wording
    /// of a step: the facade shows these words, it does not make its own.
    pub fn describe_named(&self, names: &BTreeMap<String, String>) -> String {
        let name = |id: &String| names.get(id).unwrap_or(id).clone();
        match self {
            Action::Role { from, to, .. } => format!("role {} → {}", name(from), name(to)),
            Action::UserType { from, to, .. } => {
                format!("user type {} → {}", name(from), name(to))
            }
            Action::Level { from, to, .. } => format!("level {from} → {to}"),
            Action::Entitlements {
                title, from, to, ..
            } => {
                format!(
                    "{title} entitlements [{}] → [{}]",
                    from.join(", "),
                    to.join(", ")
                )
            }
            Action::Release { app, .. } => format!("release the {app} license checked out"),
            Action::Close { session } => format!("close {}", session.describe()),
            Action::Remove { license } => format!("lmremove {}", license.describe()),
        }
    }
}

/// What applying an item (or a step) does, done: its status once applied, and its
/// `would_` form in a dry run. Written in plans as the word ("changed"...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Changed,
    Assigned,
    Revoked,
    Released,
    Closed,
}

impl Verb {
    /// The status of it done: "changed", "released"...
    pub fn done(self) -> &'static str {
        match self {
            Verb::Changed => "changed",
            Verb::Assigned => "assigned",
            Verb::Revoked => "revoked",
            Verb::Released => "released",
            Verb::Closed => "closed",
        }
    }

    /// The status of it predicted: "would_change", "would_release"...
    pub fn would(self) -> &'static str {
        match self {
            Verb::Changed => "would_change",
            Verb::Assigned => "would_assign",
            Verb::Revoked => "would_revoke",
            Verb::Released => "would_release",
            Verb::Closed => "would_close",
        }
    }
}
