//! The portal's rules, as planning applies them: which roles a user type or a level may
//! hold, the role `roles="auto"` gives, and when the entitlements bought are over-committed.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::portal::users::LEVEL_1_PRIVILEGES;
use crate::portal::{License, Role, UserType};

/// The built-in Viewer role's id.
pub(super) const VIEWER_ROLE: &str = "iAAAAAAAAAAAAAAA";
pub(super) const ADMIN_ROLE: &str = "org_admin";

/// The rank of a role: what user types may hold it (0 Viewer ... 4 Administrator).
pub(super) fn role_rank(roles: &[Role], id: &str) -> u8 {
    match id {
        ADMIN_ROLE => return 4,
        "org_publisher" => return 3,
        "org_user" => return 2,
        "iBBBBBBBBBBBBBBB" => return 1,
        VIEWER_ROLE => return 0,
        _ => {}
    }
    let Some(role) = roles.iter().find(|r| r.id == id) else {
        return 2;
    };
    let has = |p: &dyn Fn(&str) -> bool| role.privileges.iter().any(|x| p(x));
    if has(&|p| p.contains(":admin:")) {
        4
    } else if has(&|p| p.contains(":publisher:")) {
        3
    } else if has(&|p| {
        p.starts_with("premium:")
            || p.ends_with(":createItem")
            || p.ends_with(":createGroup")
            || p.ends_with(":shareToGroup")
    }) {
        2
    } else if has(&|p| p.ends_with(":edit")) {
        1
    } else {
        0
    }
}

/// The highest role rank a user type may hold. Unknown types are not limited here: the
/// portal judges them.
pub(super) fn type_max_rank(user_type: &str) -> u8 {
    match user_type {
        "viewerUT" => 0,
        "editorUT" | "fieldWorkerUT" | "storytellerUT" | "insightsAnalystUT" => 2,
        _ => 4,
    }
}

/// Whether a member of `user_type` may hold ArcGIS Pro and its extensions: Creator,
/// Professional and Professional Plus (Enterprise 10.7–10.9: GIS Professional), as Esri's
/// user types pages say. The types known to have no Pro are refused; unknown types, and a
/// portal before user types (no type), are left to the portal to judge.
pub(super) fn type_holds_pro(user_type: &str) -> bool {
    !matches!(
        user_type,
        "viewerUT" | "editorUT" | "fieldWorkerUT" | "storytellerUT" | "insightsAnalystUT"
    )
}

/// The role `roles="auto"` gives a member whose role the user type cannot hold.
pub(super) fn auto_role(user_type: &str) -> &'static str {
    if type_max_rank(user_type) == 0 {
        VIEWER_ROLE
    } else {
        "org_user"
    }
}

/// Whether a member of `level` may hold the role, on a portal before user types: the
/// built-in roles are level 2; a custom role is level 1 when all its privileges are. A role
/// not among those read is not judged here: the portal judges it.
pub(super) fn fits_level(roles: &[Role], id: &str, level: u8) -> bool {
    if level != 1 {
        return true;
    }
    if matches!(id, ADMIN_ROLE | "org_publisher" | "org_user") {
        return false;
    }
    roles.iter().find(|r| r.id == id).is_none_or(|role| {
        role.privileges
            .iter()
            .all(|p| LEVEL_1_PRIVILEGES.contains(&p.as_str()))
    })
}

/// The role `roles="auto"` gives a member going to level 1 whose role is level 2: the
/// Viewer role when it is a level 1 role, else the first custom role that is.
pub(super) fn auto_level_1_role(roles: &[Role]) -> Option<&str> {
    let fits = |r: &&Role| fits_level(roles, &r.id, 1);
    roles
        .iter()
        .filter(fits)
        .find(|r| r.id == VIEWER_ROLE)
        .or_else(|| roles.iter().find(fits))
        .map(|r| r.id.as_str())
}

pub(super) fn type_name<'a>(types: &'a [UserType], id: &'a str) -> &'a str {
    types
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(id))
        .map_or(id, |t| t.name.as_str())
}

pub(super) fn role_name<'a>(roles: &'a [Role], id: &'a str) -> &'a str {
    roles
        .iter()
        .find(|r| r.id == id)
        .map_or(id, |r| r.name.as_str())
}
/// A level as the portal takes it: 1 or 2.
pub fn check_level(level: i64) -> Result<u8> {
    match level {
        1 => Ok(1),
        2 => Ok(2),
        other => Err(level_refused(other)),
    }
}

/// The refusal of a level that is not 1 or 2, as given (`shown`: a number, or how a
/// caller wrote something that is none).
pub fn level_refused(shown: impl std::fmt::Display) -> Error {
    Error::invalid(format!("a user level is 1 or 2, not {shown}"))
}

/// Why a request keeping an entitlement a member holds is refused: the portal counts every
/// member a request names ("the total number of currently provisioned users plus users
/// specified in requests should be no larger than the maximum number of users allowed",
/// Esri's provisionUserEntitlements), so when more are assigned than were bought, any
/// request that assigns that entitlement is refused, even for a member who holds it.
pub(super) fn over_committed(
    to: &[String],
    now: &[String],
    license: &License,
    left: &HashMap<String, i64>,
) -> Option<String> {
    let kept = to.iter().filter(|e| now.contains(e));
    let (e, short) = kept
        .filter_map(|e| Some((e, *left.get(e)?)))
        .find(|(_, n)| *n < 0)?;
    let bought = license
        .entitlements
        .iter()
        .find_map(|(id, n)| (id == e).then_some(*n))
        .unwrap_or(0);
    Some(format!(
        "the {e} licenses are over-committed ({} assigned, {bought} bought): the portal \
         refuses any request that assigns {e}, even to a member who holds one, until {} are \
         revoked",
        bought - short,
        -short
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, privileges: &[&str]) -> Role {
        Role {
            id: id.into(),
            name: id.into(),
            description: String::new(),
            privileges: privileges.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn level_1_holds_only_custom_roles_of_level_1_privileges() {
        let roles = vec![
            role(
                VIEWER_ROLE,
                &["portal:user:joinGroup", "portal:user:viewOrgItems"],
            ),
            role(
                "editor",
                &["features:user:edit", "portal:user:viewOrgItems"],
            ),
        ];
        assert!(fits_level(&roles, VIEWER_ROLE, 1));
        assert!(!fits_level(&roles, "editor", 1));
        for built_in in ["org_user", "org_publisher", "org_admin"] {
            assert!(!fits_level(&roles, built_in, 1));
            assert!(fits_level(&roles, built_in, 2));
        }
        // A role planning did not read is left to the portal to judge.
        assert!(fits_level(&roles, "unheard-of", 1));
        assert_eq!(auto_level_1_role(&roles), Some(VIEWER_ROLE));
        assert_eq!(auto_level_1_role(&roles[1..]), None);
    }

    #[test]
    fn role_ranks_come_from_privileges() {
        let roles = vec![
            role(
                "analyst",
                &["portal:user:createItem", "premium:user:spatialanalysis"],
            ),
            role(
                "editor",
                &["features:user:edit", "portal:user:viewOrgItems"],
            ),
            role("boss", &["portal:admin:viewUsers"]),
            role("looker", &["portal:user:viewOrgItems"]),
        ];
        assert_eq!(role_rank(&roles, "analyst"), 2);
        assert_eq!(role_rank(&roles, "editor"), 1);
        assert_eq!(role_rank(&roles, "boss"), 4);
        assert_eq!(role_rank(&roles, "looker"), 0);
        assert_eq!(role_rank(&roles, VIEWER_ROLE), 0);
        assert!(role_rank(&roles, "org_publisher") > type_max_rank("editorUT"));
        assert_eq!(auto_role("viewerUT"), VIEWER_ROLE);
        assert_eq!(auto_role("fieldWorkerUT"), "org_user");
    }
}
