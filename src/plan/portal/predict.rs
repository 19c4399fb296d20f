//! Predicting one member: the steps their change needs, in the order the portal accepts, or
//! why it is unchanged, skipped or will fail. Each of the portal's rules is one check here;
//! the first that refuses ends the item.

use std::borrow::Cow;
use std::collections::HashMap;

use super::rules::{
    auto_level_1_role, auto_role, fits_level, over_committed, role_name, role_rank, type_holds_pro,
    type_max_rank, type_name, ADMIN_ROLE,
};
use super::state::{Known, State, CHECK_OUTS, MEMBER_LISTING};
use super::wanted::{Expect, Guards, Wanted};
use crate::error::Error;
use crate::plan::{Action, PlanItem, Predicted};
use crate::portal::licenses::sorted;
use crate::portal::{App, Member};

/// What is left to give while items are predicted in order: seats of each user type, of
/// each entitlement and of each level, and the administrators.
#[derive(Default)]
pub(super) struct Left {
    pub(super) types: HashMap<String, i64>,
    pub(super) entitlements: HashMap<String, i64>,
    pub(super) level: HashMap<u8, i64>,
    pub(super) admins: Option<usize>,
}

/// Who gets a seat first: the member idle longest (never signed in before any sign-in),
/// then by user name. One rule for every plan: the library's, the command line's and the
/// examples'.
pub(super) fn seat_priority(item: &PlanItem, state: &State) -> (i64, String) {
    let key = item.item.to_lowercase();
    let last_login = match &state.members {
        Ok(all) => all.get(&key).and_then(|m| m.last_login),
        Err(_) => None,
    };
    (last_login.unwrap_or(i64::MIN), key)
}

/// Why an item ends without steps: a prediction with its reason, or a read that failed.
enum Ending<'a> {
    End(Predicted, String),
    Unread(&'static str, &'a Error),
}

fn fail<'a>(reason: impl Into<String>) -> Ending<'a> {
    Ending::End(Predicted::Failed, reason.into())
}

/// Where a member is going, as the checks work it out.
struct Target<'a> {
    found: &'a Known,
    /// Lower-case user name.
    key: &'a str,
    /// Apps they have checked out.
    offline: Vec<App>,
    /// The app whose check-out is asked to be released, and the same when they have it out.
    release: Option<App>,
    released: Option<App>,
    user_type: String,
    type_changes: bool,
    role: String,
    level_now: Option<u8>,
    level: Option<u8>,
    level_changes: bool,
}

impl Target<'_> {
    fn username(&self) -> &str {
        &self.found.username
    }

    /// Check-outs that block a change: all but the one released first.
    fn blocking(&self) -> impl Iterator<Item = &App> {
        self.offline.iter().filter(|a| Some(**a) != self.released)
    }

    fn role_changes(&self) -> bool {
        self.role != self.found.role
    }
}

/// Predict `item`, the member `member`, towards `wanted`; the seats and administrators it
/// takes come off `left`.
pub(super) fn predict(
    item: &mut PlanItem,
    member: &Member,
    wanted: &Wanted,
    state: &State,
    guards: &Guards,
    left: &mut Left,
) {
    let key = member.username.to_lowercase();
    let found: Cow<'_, Known> = match &state.members {
        Ok(all) => match all.get(&key) {
            Some(found) => Cow::Borrowed(found),
            None => {
                return item.not_found(format!(
                    "{} is not a member of the organization",
                    member.username
                ))
            }
        },
        // An account that may not list the members may not change them either.
        Err(err @ Error::PermissionDenied { .. }) => return item.unread(MEMBER_LISTING, err),
        // The caller's record of the member, when it says what is needed.
        Err(err) => match (&member.user_type, &member.role) {
            (Some(user_type), Some(role)) => Cow::Owned(Known {
                username: member.username.clone(),
                user_type: user_type.clone(),
                role: role.clone(),
                level: None,
                last_login: None,
            }),
            _ => return item.unread(MEMBER_LISTING, err),
        },
    };
    match steps(&found, &key, wanted, state, guards, left) {
        Ok(steps) => {
            item.item = found.username.clone();
            item.steps = steps;
        }
        Err(Ending::End(predicted, reason)) => item.end(predicted, reason),
        Err(Ending::Unread(what, err)) => item.unread(what, err),
    }
}

/// The steps `found` needs to end as `wanted`, in the order the portal accepts, each rule
/// checked in turn.
fn steps<'a>(
    found: &'a Known,
    key: &'a str,
    wanted: &Wanted,
    state: &'a State,
    guards: &Guards,
    left: &mut Left,
) -> Result<Vec<Action>, Ending<'a>> {
    let offline: Vec<App> = match &state.offline {
        Ok(map) => map.get(key).cloned().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let needs_offline =
        wanted.user_type.is_some() || wanted.entitlements.is_some() || wanted.release.is_some();
    if let (Err(err), true) = (&state.offline, needs_offline) {
        return Err(Ending::Unread(CHECK_OUTS, err));
    }
    if let Some(expect) = &wanted.expect {
        if let Some(reason) = moved_on(expect, found, state, key) {
            return Err(Ending::End(Predicted::Skipped, reason));
        }
    }
    let target = target(found, key, offline, wanted, state)?;
    role_fits_type(&target, wanted, state)?;
    admin_kept(&target, state, guards, left)?;
    pro_fits_type(&target, wanted, state)?;
    seats_left(&target, state, left)?;
    let entitlements = entitlements_step(&target, wanted, state, left)?;
    let steps = ordered_steps(&target, state, entitlements);
    if steps.is_empty() {
        let reason = unchanged_reason(wanted, target.release);
        return Err(Ending::End(Predicted::Unchanged, reason));
    }
    take_seats(&target, left);
    Ok(steps)
}

/// The user type, role and level `found` is to end with; the role `roles="auto"` gives
/// where the user type or level cannot hold theirs.
fn target<'a>(
    found: &'a Known,
    key: &'a str,
    offline: Vec<App>,
    wanted: &Wanted,
    state: &State,
) -> Result<Target<'a>, Ending<'a>> {
    // 1. Release the check-out, when asked and there is one.
    let release = wanted
        .release
        .as_deref()
        .and_then(|app| App::parse(app).ok());
    let released = release.filter(|app| offline.contains(app));
    // 2. User type and role.
    let user_type = wanted
        .user_type
        .clone()
        .unwrap_or_else(|| found.user_type.clone());
    let type_changes = !user_type.eq_ignore_ascii_case(&found.user_type);
    let mut role = wanted.role.clone().unwrap_or_else(|| found.role.clone());
    if wanted.role.is_none()
        && wanted.roles_auto
        && role_rank(&state.roles, &role) > type_max_rank(&user_type)
    {
        role = auto_role(&user_type).to_owned();
    }
    let mut target = Target {
        found,
        key,
        offline,
        release,
        released,
        user_type,
        type_changes,
        role,
        level_now: found.level,
        level: wanted.level.or(found.level),
        level_changes: false,
    };
    level_rules(&mut target, wanted, state)?;
    Ok(target)
}

/// Levels. Where user types exist the level follows the type (updateUserLevel accepts only
/// that level); before them the level limits the role instead of the type.
fn level_rules<'a>(
    target: &mut Target<'_>,
    wanted: &Wanted,
    state: &State,
) -> Result<(), Ending<'a>> {
    let found = target.found;
    let username = &found.username;
    if let (Some(_), None) = (wanted.level, target.level_now) {
        return Err(Ending::End(
            Predicted::Skipped,
            format!("cannot predict: the listing does not say {username}'s level"),
        ));
    }
    // Whether this portal has user types is the organization's, not the member's: a row
    // that happens to lack one is not taken for a member of a portal before 10.7.
    let has_types = !state.before_user_types;
    if let (Some(wanted_level), Some(now), true) = (wanted.level, target.level_now, has_types) {
        if now != wanted_level {
            return Err(fail(format!(
                "on this portal a member's level follows their user type ({username}'s \
                 user type '{}' gives level {now}): change the user type instead",
                type_name(&state.types, &found.user_type),
            )));
        }
    }
    target.level_changes = !has_types && wanted.level.is_some() && target.level != target.level_now;
    let (false, Some(level)) = (has_types, target.level) else {
        return Ok(());
    };
    if wanted.role.is_none() && wanted.roles_auto && !fits_level(&state.roles, &target.role, level)
    {
        match auto_level_1_role(&state.roles) {
            Some(id) => target.role = id.to_owned(),
            None => {
                return Err(fail(
                    "no role of the organization is a level 1 role (one whose privileges \
                     are all level 1 privileges): create one first",
                ))
            }
        }
    }
    if fits_level(&state.roles, &target.role, level) {
        return Ok(());
    }
    let role = role_name(&state.roles, &target.role);
    Err(fail(if wanted.role.is_some() {
        format!(
            "the role '{role}' cannot be held by {username}, a level {level} member: only \
             custom roles with level 1 privileges can"
        )
    } else {
        format!(
            "{username}'s role '{role}' cannot be held at level {level}: change the role \
             first, or plan with roles=\"auto\" to add that step"
        )
    }))
}

/// A role must fit the user type: a Viewer holds only the Viewer role; a Contributor or a
/// Mobile Worker holds no role that publishes or administers.
fn role_fits_type<'a>(
    target: &Target<'_>,
    wanted: &Wanted,
    state: &State,
) -> Result<(), Ending<'a>> {
    if role_rank(&state.roles, &target.role) <= type_max_rank(&target.user_type) {
        return Ok(());
    }
    let username = target.username();
    let role = role_name(&state.roles, &target.role);
    let user_type = type_name(&state.types, &target.user_type);
    Err(fail(if wanted.role.is_some() {
        format!(
            "the role '{role}' cannot be held by {username}'s user type '{user_type}': change \
             the user type first"
        )
    } else {
        format!(
            "{username}'s role '{role}' cannot be held by the user type '{user_type}': change \
             the role first, or plan with roles=\"auto\" to add that step"
        )
    }))
}

/// The signed-in administrator and the last administrator are not demoted unless asked.
fn admin_kept<'a>(
    target: &Target<'_>,
    state: &State,
    guards: &Guards,
    left: &Left,
) -> Result<(), Ending<'a>> {
    if !target.role_changes() || target.found.role != ADMIN_ROLE || guards.allow_admin_demotion {
        return Ok(());
    }
    let username = target.username();
    if state.me.as_deref() == Some(target.key) {
        return Err(fail(format!(
            "{username} is the signed-in administrator: refusing to demote them; \
             pass allow_admin_demotion=True if that is meant"
        )));
    }
    if left.admins == Some(1) {
        return Err(fail(format!(
            "{username} is the organization's last administrator: refusing to demote \
             them; pass allow_admin_demotion=True if that is meant"
        )));
    }
    Ok(())
}

/// A user type change waits for the member's check-out to be released, and takes a seat
/// of the new type (or level) while any is left.
fn seats_left<'a>(target: &Target<'_>, state: &State, left: &Left) -> Result<(), Ending<'a>> {
    if target.type_changes {
        if let Some(app) = target.blocking().next() {
            return Err(fail(format!(
                "{}'s {} license is checked out for offline use: release it first \
                 (gis.admin.license.release_and_update does both)",
                target.username(),
                app.title()
            )));
        }
        if left.types.get(&target.user_type).is_some_and(|n| *n <= 0) {
            return Err(fail(format!(
                "no seat left for the user type '{}' (all of them taken)",
                type_name(&state.types, &target.user_type)
            )));
        }
    }
    if let (true, Some(level)) = (target.level_changes, target.level) {
        if left.level.get(&level).is_some_and(|n| *n <= 0) {
            return Err(fail(format!(
                "no seat left at level {level} (all of them taken)"
            )));
        }
    }
    Ok(())
}

/// ArcGIS Pro and its extensions only for user types that can hold Pro: not granted to a
/// member whose type (after the change) cannot hold it; the portal refuses the request.
fn pro_fits_type<'a>(
    target: &Target<'_>,
    wanted: &Wanted,
    state: &State,
) -> Result<(), Ending<'a>> {
    let (Some(ew), Some((license, holders))) = (&wanted.entitlements, &state.license) else {
        return Ok(());
    };
    if type_holds_pro(&target.user_type) || App::parse(&license.title).ok() != Some(App::Pro) {
        return Ok(());
    }
    let now = holders.get(target.key).cloned().unwrap_or_default();
    let after = ew.change().target(&now);
    if after.is_empty() || after == now {
        return Ok(());
    }
    let username = target.username();
    let user_type = type_name(&state.types, &target.user_type);
    Err(fail(format!(
        "the user type '{user_type}' cannot hold ArcGIS Pro licenses, so {username} cannot \
         be given them: only Creator, Professional and Professional Plus can"
    )))
}

/// The entitlements step, when they change: it waits for the license's check-out to be
/// released, and takes a seat of each entitlement gained.
fn entitlements_step<'a>(
    target: &Target<'_>,
    wanted: &Wanted,
    state: &State,
    left: &mut Left,
) -> Result<Option<Action>, Ending<'a>> {
    let (Some(ew), Some((license, holders))) = (&wanted.entitlements, &state.license) else {
        return Ok(None);
    };
    let now = holders.get(target.key).cloned().unwrap_or_default();
    let to = ew.change().target(&now);
    if to == now {
        return Ok(None);
    }
    let username = target.username();
    let blocked = App::parse(&license.title).ok();
    if let Some(app) = blocked.filter(|a| target.blocking().any(|b| b == a)) {
        return Err(fail(format!(
            "{username}'s {} license is checked out for offline use: release it first",
            app.title()
        )));
    }
    let gains: Vec<&String> = to.iter().filter(|e| !now.contains(e)).collect();
    if let Some(short) = gains
        .iter()
        .find(|e| left.entitlements.get(**e).copied().unwrap_or(0) <= 0)
    {
        return Err(fail(format!(
            "no {short} license left to give {username} (all assigned)"
        )));
    }
    if let Some(reason) = over_committed(&to, &now, license, &left.entitlements) {
        return Err(fail(format!("{username}: {reason}")));
    }
    for e in gains {
        if let Some(n) = left.entitlements.get_mut(e) {
            *n -= 1;
        }
    }
    Ok(Some(Action::Entitlements {
        username: username.to_owned(),
        license: license.item_id.clone(),
        title: license.title.clone(),
        from: now,
        to,
    }))
}

/// The steps in the order the portal accepts: a role the current type can hold goes first
/// (reversible before irreversible); a role only the new type can hold goes after the type.
fn ordered_steps(target: &Target<'_>, state: &State, entitlements: Option<Action>) -> Vec<Action> {
    let username = target.username();
    let role_step = target.role_changes().then(|| Action::Role {
        username: username.to_owned(),
        from: target.found.role.clone(),
        to: target.role.clone(),
    });
    let role_first = if state.before_user_types {
        // A role the present level can hold goes first (down to level 1: the level 1 role,
        // then the level); a level 2 role goes after the move up to level 2.
        fits_level(&state.roles, &target.role, target.level_now.unwrap_or(2))
    } else {
        role_rank(&state.roles, &target.role) <= type_max_rank(&target.found.user_type)
    };
    let (role_before, role_after) = if role_first {
        (role_step, None)
    } else {
        (None, role_step)
    };
    let mut steps: Vec<Action> = Vec::new();
    steps.extend(role_before);
    if let Some(app) = target.released {
        steps.push(Action::Release {
            username: username.to_owned(),
            app: app.id().to_owned(),
        });
    }
    // Licenses the new user type cannot hold are revoked before the type changes.
    let revoke_first = !type_holds_pro(&target.user_type)
        && matches!(&entitlements, Some(Action::Entitlements { to, .. }) if to.is_empty());
    let (entitlements_before, entitlements) = if revoke_first {
        (entitlements, None)
    } else {
        (None, entitlements)
    };
    steps.extend(entitlements_before);
    if target.type_changes {
        steps.push(Action::UserType {
            username: username.to_owned(),
            from: target.found.user_type.clone(),
            to: target.user_type.clone(),
        });
    }
    if let (true, Some(from), Some(to)) = (target.level_changes, target.level_now, target.level) {
        steps.push(Action::Level {
            username: username.to_owned(),
            from,
            to,
        });
    }
    steps.extend(role_after);
    steps.extend(entitlements);
    steps
}

/// Why a member with nothing to do is unchanged.
fn unchanged_reason(wanted: &Wanted, release: Option<App>) -> String {
    if wanted.release.is_some() && wanted.user_type.is_none() && wanted.entitlements.is_none() {
        format!(
            "no {} license checked out",
            release.map_or("such", |a| a.title())
        )
    } else if wanted.entitlements.is_some() && wanted.user_type.is_none() {
        "already has those entitlements".into()
    } else if wanted.user_type.is_some() {
        "already that user type".into()
    } else if let (Some(level), None) = (wanted.level, &wanted.role) {
        format!("already level {level}")
    } else {
        "already that role".into()
    }
}

/// Seats and administrators are taken only by items that will go.
fn take_seats(target: &Target<'_>, left: &mut Left) {
    if target.type_changes {
        if let Some(n) = left.types.get_mut(&target.user_type) {
            *n -= 1;
        }
    }
    if let (true, Some(level)) = (target.level_changes, target.level) {
        if let Some(n) = left.level.get_mut(&level) {
            *n -= 1;
        }
    }
    if target.role_changes() && target.found.role == ADMIN_ROLE {
        left.admins = left.admins.map(|n| n.saturating_sub(1));
    }
}

/// Why an undo leaves a member alone: they changed since the journal's run.
fn moved_on(expect: &Expect, found: &Known, state: &State, key: &str) -> Option<String> {
    let username = &found.username;
    if let Some(t) = &expect.user_type {
        if !t.eq_ignore_ascii_case(&found.user_type) {
            return Some(format!(
                "{username} changed since the journal's run: their user type is {}, not {t}; left alone",
                found.user_type
            ));
        }
    }
    if let Some(r) = &expect.role {
        if *r != found.role {
            return Some(format!(
                "{username} changed since the journal's run: their role is {}, not {r}; left alone",
                found.role
            ));
        }
    }
    if let Some(l) = expect.level {
        if found.level != Some(l) {
            return Some(format!(
                "{username} changed since the journal's run: their level is {}, not {l}; left alone",
                found.level.map_or("not stated".to_owned(), |n| n.to_string())
            ));
        }
    }
    if let (Some(e), Some((_, holders))) = (&expect.entitlements, &state.license) {
        let now = holders.get(key).cloned().unwrap_or_default();
        if sorted(e) != now {
            return Some(format!(
                "{username} changed since the journal's run: their entitlements are {now:?}; left alone"
            ));
        }
    }
    None
}
