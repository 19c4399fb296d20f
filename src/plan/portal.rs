//! Planning and applying changes of members: user types, roles, entitlements, and releasing
//! licenses checked out for offline use.
//!
//! Planning reads, at once: the members, the user types with their seats, the roles, who is
//! signed in, and who has an app checked out (and the entitlements of the license being
//! changed). Then it applies the portal's rules to each member, in order:
//! - a role must fit the user type: a Viewer holds only the Viewer role; a Contributor or a
//!   Mobile Worker holds no role that publishes or administers (Esri, "User types, roles,
//!   and privileges"). A custom role's rank comes from its privileges. `roles="auto"` adds
//!   the role step a change needs; without it such a member is predicted to fail.
//! - a user type or entitlement change waits for the member's check-out to be released;
//! - a member takes a seat of the new user type (and of each entitlement gained) while any
//!   is left; seats freed by members who move away are not counted on (the order in which
//!   concurrent requests land is not known), so the prediction errs on the safe side;
//! - the signed-in administrator and the last administrator are not demoted unless asked.
//!
//! Levels (1 or 2): on a portal with user types (10.7 and later, ArcGIS Online) a member's
//! level follows their user type and updateUserLevel accepts only that level, so a level
//! change is predicted to fail with a pointer to the user type. Before 10.7 the level was
//! the member's license: a level 1 member holds only a custom role whose privileges are all
//! level 1 privileges (`LEVEL_1_PRIVILEGES`; the built-in roles are level 2), and each
//! level has a number of seats (`portals/self` → `subscriptionInfo.maxUsersPerLevel`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::journal::JournalRead;
use super::{skip_repeats, Action, Executor, Plan, PlanItem, Predicted, Recheck};
use crate::bulk::{self, Outcome, Reread};
use crate::error::{Error, Result};
use crate::portal::envelope::number;
use crate::portal::licenses::{per_member_error, sorted, MAX_PROVISION_BATCH};
use crate::portal::users::{
    check_username, has_level, has_role, has_user_type, resolve_role, resolve_user_type,
    LEVEL_1_PRIVILEGES,
};
use crate::portal::{App, License, Member, Portal, Role, UserType};

/// What planning reads, as its notes and reasons name it.
const MEMBER_LISTING: &str = "the member listing";
const CHECK_OUTS: &str = "who has a license checked out";

/// The built-in Viewer role's id.
const VIEWER_ROLE: &str = "iAAAAAAAAAAAAAAA";
const ADMIN_ROLE: &str = "org_admin";

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
    /// "set", "add" or "remove".
    pub mode: String,
    pub ids: Vec<String>,
}

impl EntitlementsWanted {
    fn change(&self) -> Change {
        // Planning writes only the three modes; anything else is read as "set".
        Change::from_mode(&self.mode, self.ids.clone())
            .unwrap_or_else(|_| Change::Set(self.ids.clone()))
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
    /// The change a mode names: "set" (exactly these), "add" or "remove".
    pub fn from_mode(mode: &str, ids: Vec<String>) -> Result<Change> {
        match mode {
            "set" => Ok(Change::Set(ids)),
            "add" => Ok(Change::Add(ids)),
            "remove" => Ok(Change::Remove(ids)),
            other => Err(Error::invalid(format!("unknown change {other:?}"))),
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
    fn option(&self) -> Value {
        match self {
            Roles::Keep => Value::Null,
            Roles::Auto => json!("auto"),
            Roles::Named(role) => json!(role),
        }
    }

    fn named(&self) -> Option<String> {
        match self {
            Roles::Named(role) => Some(role.clone()),
            _ => None,
        }
    }
}

/// A member as planning knows them.
#[derive(Debug, Clone)]
struct Known {
    username: String,
    /// Empty on a portal before user types.
    user_type: String,
    role: String,
    level: Option<u8>,
    /// ms since 1970; None for never signed in.
    last_login: Option<i64>,
}

/// The state a plan is made from.
struct State {
    me: Option<String>,
    /// By lower-case user name; Err: what stopped the listing.
    members: std::result::Result<HashMap<String, Known>, Error>,
    types: Vec<UserType>,
    roles: Vec<Role>,
    /// Apps each member has checked out (lower-case user name); Err: what stopped the read.
    offline: std::result::Result<HashMap<String, Vec<App>>, Error>,
    /// The license whose entitlements change, and who holds what under it.
    license: Option<(License, HashMap<String, Vec<String>>)>,
    /// Seats per level (portals before user types), when the portal says them.
    level_seats: Option<HashMap<u8, i64>>,
    /// A portal before 10.7: members have levels, not user types.
    before_user_types: bool,
}

/// The rank of a role: what user types may hold it (0 Viewer ... 4 Administrator).
fn role_rank(roles: &[Role], id: &str) -> u8 {
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
fn type_max_rank(user_type: &str) -> u8 {
    match user_type {
        "viewerUT" => 0,
        "editorUT" | "fieldWorkerUT" | "storytellerUT" | "insightsAnalystUT" => 2,
        _ => 4,
    }
}

/// The role `roles="auto"` gives a member whose role the user type cannot hold.
fn auto_role(user_type: &str) -> &'static str {
    if type_max_rank(user_type) == 0 {
        VIEWER_ROLE
    } else {
        "org_user"
    }
}

/// Whether a member of `level` may hold the role, on a portal before user types: the
/// built-in roles are level 2; a custom role is level 1 when all its privileges are. A role
/// not among those read is not judged here: the portal judges it.
fn fits_level(roles: &[Role], id: &str, level: u8) -> bool {
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
fn auto_level_1_role(roles: &[Role]) -> Option<&str> {
    let fits = |r: &&Role| fits_level(roles, &r.id, 1);
    roles
        .iter()
        .filter(fits)
        .find(|r| r.id == VIEWER_ROLE)
        .or_else(|| roles.iter().find(fits))
        .map(|r| r.id.as_str())
}

fn type_name<'a>(types: &'a [UserType], id: &'a str) -> &'a str {
    types
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(id))
        .map_or(id, |t| t.name.as_str())
}

fn role_name<'a>(roles: &'a [Role], id: &'a str) -> &'a str {
    roles
        .iter()
        .find(|r| r.id == id)
        .map_or(id, |r| r.name.as_str())
}

/// What a plan of members needs read.
struct Needs {
    types: bool,
    /// The seats per level (`portals/self`).
    levels: bool,
    offline: bool,
    license: Option<String>,
}

async fn read_state(portal: &Portal, needs: Needs, notes: &mut Vec<String>) -> Result<State> {
    // Only name, user type and role of each member: the listing is most of planning's cost.
    let members = portal.member_rows();
    let me = async {
        if portal.is_signed_in() {
            portal.me().await.ok().map(|u| u.username().to_lowercase())
        } else {
            None
        }
    };
    let types = async {
        if needs.types {
            portal.user_types_and_seats().await
        } else {
            Ok((Vec::new(), None))
        }
    };
    let roles = portal.roles();
    let level_seats = async {
        if !needs.levels {
            return None;
        }
        let properties = portal.properties().await.ok()?;
        let per_level = properties
            .get("subscriptionInfo")?
            .get("maxUsersPerLevel")?
            .as_object()?;
        let seats: HashMap<u8, i64> = [1u8, 2]
            .into_iter()
            .filter_map(|l| Some((l, number(per_level.get(&l.to_string()))?)))
            .collect();
        (!seats.is_empty()).then_some(seats)
    };
    // The purchases are read once, and each license's holders once: who has an app checked
    // out, and who holds what under the license being changed, come from the same listings.
    let licensing = async {
        let mut offline: std::result::Result<HashMap<String, Vec<App>>, Error> = Ok(HashMap::new());
        let mut changed = None;
        if !needs.offline && needs.license.is_none() {
            return Ok((offline, changed));
        }
        // The licenses that matter, their holders read all at once (a few listings).
        let needed: Vec<_> = portal
            .licenses()
            .await?
            .into_iter()
            .filter_map(|license| {
                let app = App::parse(&license.title).ok();
                let is_changed = needs.license.as_deref() == Some(license.item_id.as_str());
                (is_changed || (needs.offline && app.is_some()))
                    .then_some((license, app, is_changed))
            })
            .collect();
        let read = futures::future::join_all(
            needed
                .iter()
                .map(|(license, _, _)| portal.holders(&license.item_id)),
        )
        .await;
        for ((license, app, is_changed), holders) in needed.into_iter().zip(read) {
            let holders = match holders {
                Ok(holders) => holders,
                Err(err) if is_changed => return Err(err),
                Err(err) => {
                    offline = Err(err);
                    continue;
                }
            };
            if let (true, Some(app), Ok(out)) = (needs.offline, app, &mut offline) {
                for holder in holders.iter().filter(|h| h.disconnected) {
                    out.entry(holder.username.to_lowercase())
                        .or_default()
                        .push(app);
                }
            }
            if is_changed {
                let held = holders
                    .into_iter()
                    .map(|h| (h.username.to_lowercase(), sorted(&h.entitlements)))
                    .collect();
                changed = Some((license, held));
            }
        }
        if let (Some(item_id), None) = (&needs.license, &changed) {
            return Err(Error::NotFound {
                url: portal.url().to_owned(),
                message: format!("the organization has no license {item_id:?} now"),
            });
        }
        Ok::<_, Error>((offline, changed))
    };
    let (members, me, types, roles, licensing, level_seats) =
        futures::join!(members, me, types, roles, licensing, level_seats);
    // Without the license being changed nothing can be planned; without who has what
    // checked out, the members it concerns are not predicted.
    let (offline, license) = match licensing {
        Ok((offline, license)) => (offline, license),
        Err(err) if needs.license.is_some() => return Err(err),
        Err(err) => (Err(err), None),
    };
    let members = members.map(|rows| {
        rows.into_iter()
            .map(|row| {
                let level = row.level();
                let last_login = row.last_login_ms();
                let role = row.role_id().unwrap_or("").to_owned();
                let known = Known {
                    username: row.username.unwrap_or_default(),
                    user_type: row.user_type.unwrap_or_default(),
                    role,
                    level,
                    last_login,
                };
                (known.username.to_lowercase(), known)
            })
            .collect::<HashMap<String, Known>>()
    });
    if let Err(err) = &members {
        notes.push(format!(
            "{MEMBER_LISTING} could not be read ({}): members it does not know are not predicted",
            err.reason()
        ));
    }
    // Seats left per level: the seats less the members at each level now.
    let level_seats = match (level_seats, &members) {
        (Some(max), Ok(all)) => Some(
            max.into_iter()
                .map(|(level, seats)| {
                    let used = all
                        .values()
                        .filter(|m: &&Known| m.level == Some(level))
                        .count() as i64;
                    (level, (seats - used).max(0))
                })
                .collect(),
        ),
        _ => None,
    };
    // A portal before user types (10.7) lists members without one.
    let before_user_types = members
        .as_ref()
        .is_ok_and(|all| !all.is_empty() && all.values().all(|m| m.user_type.is_empty()));
    if needs.levels && before_user_types && level_seats.is_none() {
        notes.push(
            "the seats of each level could not be read (portals/self, maxUsersPerLevel): \
             a change may still be refused for want of seats"
                .into(),
        );
    }
    // Such a portal has no user types to list either.
    let (types, seats_unread) = match types {
        Err(_) if before_user_types => (Vec::new(), None),
        types => types?,
    };
    if let Some(why) = seats_unread.filter(|_| needs.types && !before_user_types) {
        notes.push(format!(
            "the seats of each user type could not be read ({why}): \
             a change may still be refused for want of seats"
        ));
    }
    if let Err(err) = &offline {
        notes.push(format!("{CHECK_OUTS} could not be read ({})", err.reason()));
    }
    Ok(State {
        me,
        members,
        types,
        roles: roles?,
        offline,
        license,
        level_seats,
        before_user_types,
    })
}

/// What is left to give while items are predicted in order: seats of each user type, of
/// each entitlement and of each level, and the administrators.
#[derive(Default)]
struct Left {
    types: HashMap<String, i64>,
    entitlements: HashMap<String, i64>,
    level: HashMap<u8, i64>,
    admins: Option<usize>,
}

/// A user type or role a change names as a person would ("viewer", "Publisher"): resolved
/// to its id from the types and roles planning reads anyway, so that resolving it costs no
/// requests of its own before the member listing starts.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub user_type: Option<String>,
    pub role: Option<String>,
}

/// Plan members towards what each is `wanted` as.
pub async fn plan(
    portal: &Portal,
    operation: &str,
    word: &str,
    members: Vec<(usize, Result<Member>, Wanted)>,
    guards: &Guards,
    options: Map<String, Value>,
) -> Result<Plan> {
    plan_asked(
        portal,
        operation,
        word,
        members,
        guards,
        options,
        Asked::default(),
    )
    .await
}

/// [`plan`], with every member's user type or role as `asked`, resolved once read.
pub async fn plan_asked(
    portal: &Portal,
    operation: &str,
    word: &str,
    mut members: Vec<(usize, Result<Member>, Wanted)>,
    guards: &Guards,
    options: Map<String, Value>,
    asked: Asked,
) -> Result<Plan> {
    let mut plan = Plan::new(operation, portal.url(), options);
    let needs = Needs {
        types: asked.user_type.is_some()
            || asked.role.is_some()
            || members
                .iter()
                .any(|(_, _, w)| w.user_type.is_some() || w.role.is_some() || w.level.is_some()),
        offline: asked.user_type.is_some()
            || members.iter().any(|(_, _, w)| {
                w.user_type.is_some() || w.entitlements.is_some() || w.release.is_some()
            }),
        license: members
            .iter()
            .find_map(|(_, _, w)| w.entitlements.as_ref().map(|e| e.license.clone())),
        levels: members.iter().any(|(_, _, w)| w.level.is_some()),
    };
    let state = read_state(portal, needs, &mut plan.notes).await?;
    if state.before_user_types && asked.user_type.is_some() {
        return Err(Error::invalid(
            "this portal is from before user types (10.7): a member's license is their \
             level, 1 or 2; change levels instead (update_level)",
        ));
    }
    if let Some(name) = &asked.user_type {
        let id = resolve_user_type(&state.types, name)?;
        plan.options.insert("user_type".into(), json!(id));
        for (_, _, wanted) in &mut members {
            wanted.user_type = Some(id.clone());
        }
    }
    if let Some(name) = &asked.role {
        let id = resolve_role(&state.roles, name)?;
        plan.options.insert("role".into(), json!(id));
        for (_, _, wanted) in &mut members {
            wanted.role = Some(id.clone());
        }
    }
    let mut left = Left {
        level: state.level_seats.clone().unwrap_or_default(),
        ..Left::default()
    };
    left.types = state
        .types
        .iter()
        .filter_map(|t| {
            t.seats
                .map(|(used, max)| (t.id.clone(), (max - used).max(0)))
        })
        .collect();
    left.entitlements = match &state.license {
        Some((license, holders)) => license
            .entitlements
            .iter()
            .map(|(id, total)| {
                // Below 0 when more are assigned than bought (a renewal with fewer seats).
                let held = holders.values().filter(|h| h.contains(id)).count() as i64;
                (id.clone(), total - held)
            })
            .collect(),
        None => HashMap::new(),
    };
    left.admins = match &state.members {
        Ok(all) => Some(all.values().filter(|m| m.role == ADMIN_ROLE).count()),
        Err(_) => None,
    };
    let mut last_wanted: Option<(Wanted, Arc<Value>)> = None;
    let (mut items, checked): (Vec<PlanItem>, Vec<(Option<Member>, Wanted)>) = members
        .into_iter()
        .map(|(index, member, wanted)| {
            let name = member
                .as_ref()
                .map(|m| m.username.clone())
                .unwrap_or_default();
            // Items changed alike (all of them, usually) share one JSON form.
            let wanted_json = match &last_wanted {
                Some((last, json)) if *last == wanted => Arc::clone(json),
                _ => {
                    let json = Arc::new(serde_json::to_value(&wanted).unwrap_or(Value::Null));
                    last_wanted = Some((wanted.clone(), Arc::clone(&json)));
                    json
                }
            };
            let mut item = PlanItem::new(index, name, word, wanted_json);
            let member = match member.and_then(|m| check_username(&m.username).map(|()| m)) {
                Ok(member) => Some(member),
                Err(err) => {
                    item.end(Predicted::Failed, err.reason());
                    None
                }
            };
            (item, (member, wanted))
        })
        .unzip();
    // Repeats are skipped before anything is predicted: a repeat takes no seat.
    skip_repeats(
        &mut items,
        |item| item.item.to_lowercase(),
        |first| format!("listed before, as item {first}"),
    );
    // Seats go longest idle first, then by user name: predicted in that order, reported
    // in the order given.
    let mut slots: Vec<(PlanItem, Option<Member>, Wanted)> = items
        .into_iter()
        .zip(checked)
        .map(|(item, (member, wanted))| (item, member, wanted))
        .collect();
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_cached_key(|&i| seat_priority(&slots[i].0, &state));
    for i in order {
        let (item, member, wanted) = &mut slots[i];
        if let (Some(member), Predicted::WouldChange) = (member.as_ref(), item.predicted) {
            predict(item, member, wanted, &state, guards, &mut left);
        }
    }
    plan.items = slots.into_iter().map(|(item, _, _)| item).collect();
    let types = state.types.iter().map(|t| (&t.id, &t.name));
    let roles = state.roles.iter().map(|r| (&r.id, &r.name));
    plan.names = types
        .chain(roles)
        .map(|(id, name)| (id.clone(), name.clone()))
        .collect();
    if let Ok(all) = &state.members {
        let changing = plan
            .items
            .iter()
            .filter(|i| i.predicted == Predicted::WouldChange)
            .count();
        if !guards.allow_all && changing > 1 && changing >= all.len() {
            return Err(Error::invalid(format!(
                "this plan would change every member of the organization ({changing}); \
                 if that is meant, pass allow_all=True"
            )));
        }
    }
    // The organization's member map (10,000 members: milliseconds to free) is freed on a
    // blocking thread, not before the plan is handed back.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(move || drop(state));
    }
    Ok(plan)
}

/// Who gets a seat first: the member idle longest (never signed in before any sign-in),
/// then by user name. One rule for every plan: the library's, the command line's and the
/// examples'.
fn seat_priority(item: &PlanItem, state: &State) -> (i64, String) {
    let key = item.item.to_lowercase();
    let last_login = match &state.members {
        Ok(all) => all.get(&key).and_then(|m| m.last_login),
        Err(_) => None,
    };
    (last_login.unwrap_or(i64::MIN), key)
}

fn predict(
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
    let username = found.username.clone();
    let offline: Vec<App> = match &state.offline {
        Ok(map) => map.get(&key).cloned().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let needs_offline =
        wanted.user_type.is_some() || wanted.entitlements.is_some() || wanted.release.is_some();
    if let (Err(err), true) = (&state.offline, needs_offline) {
        return item.unread(CHECK_OUTS, err);
    }
    if let Some(expect) = &wanted.expect {
        if let Some(reason) = moved_on(expect, &found, state, &key) {
            return item.end(Predicted::Skipped, reason);
        }
    }
    let mut steps: Vec<Action> = Vec::new();
    // 1. Release the check-out, when asked and there is one.
    let release = wanted
        .release
        .as_deref()
        .and_then(|app| App::parse(app).ok());
    let released: Option<App> = release.filter(|app| offline.contains(app));
    // 2. User type and role.
    let target_type = wanted
        .user_type
        .clone()
        .unwrap_or_else(|| found.user_type.clone());
    let type_changes = !target_type.eq_ignore_ascii_case(&found.user_type);
    let mut target_role = wanted.role.clone().unwrap_or_else(|| found.role.clone());
    let max = type_max_rank(&target_type);
    if wanted.role.is_none() && role_rank(&state.roles, &target_role) > max && wanted.roles_auto {
        target_role = auto_role(&target_type).to_owned();
    }
    // Levels. Where user types exist the level follows the type (updateUserLevel accepts
    // only that level); before them the level limits the role instead of the type.
    let level_now = found.level;
    let target_level = wanted.level.or(level_now);
    // Whether this portal has user types is the organization's, not the member's: a row
    // that happens to lack one is not taken for a member of a portal before 10.7.
    let has_types = !state.before_user_types;
    if let (Some(_), None) = (wanted.level, level_now) {
        return item.end(
            Predicted::Skipped,
            format!("cannot predict: the listing does not say {username}'s level"),
        );
    }
    if let (Some(wanted_level), Some(now), true) = (wanted.level, level_now, has_types) {
        if now != wanted_level {
            return item.end(
                Predicted::Failed,
                format!(
                    "on this portal a member's level follows their user type ({username}'s \
                     user type '{}' gives level {now}): change the user type instead",
                    type_name(&state.types, &found.user_type),
                ),
            );
        }
    }
    let level_changes = !has_types && wanted.level.is_some() && target_level != level_now;
    if let (false, Some(level)) = (has_types, target_level) {
        if wanted.role.is_none()
            && wanted.roles_auto
            && !fits_level(&state.roles, &target_role, level)
        {
            match auto_level_1_role(&state.roles) {
                Some(id) => target_role = id.to_owned(),
                None => {
                    return item.end(
                        Predicted::Failed,
                        "no role of the organization is a level 1 role (one whose privileges \
                         are all level 1 privileges): create one first",
                    )
                }
            }
        }
        if !fits_level(&state.roles, &target_role, level) {
            let reason = if wanted.role.is_some() {
                format!(
                    "the role '{}' cannot be held by {username}, a level {level} member: only \
                     custom roles with level 1 privileges can",
                    role_name(&state.roles, &target_role)
                )
            } else {
                format!(
                    "{username}'s role '{}' cannot be held at level {level}: change the role \
                     first, or plan with roles=\"auto\" to add that step",
                    role_name(&state.roles, &target_role)
                )
            };
            return item.end(Predicted::Failed, reason);
        }
    }
    if role_rank(&state.roles, &target_role) > max {
        let reason = if wanted.role.is_some() {
            format!(
                "the role '{}' cannot be held by {username}'s user type '{}': change the \
                 user type first",
                role_name(&state.roles, &target_role),
                type_name(&state.types, &target_type)
            )
        } else {
            format!(
                "{username}'s role '{}' cannot be held by the user type '{}': change the role \
                 first, or plan with roles=\"auto\" to add that step",
                role_name(&state.roles, &target_role),
                type_name(&state.types, &target_type)
            )
        };
        return item.end(Predicted::Failed, reason);
    }
    let role_changes = target_role != found.role;
    if role_changes && found.role == ADMIN_ROLE && !guards.allow_admin_demotion {
        if state.me.as_deref() == Some(key.as_str()) {
            return item.end(
                Predicted::Failed,
                format!(
                    "{username} is the signed-in administrator: refusing to demote them; \
                     pass allow_admin_demotion=True if that is meant"
                ),
            );
        }
        if left.admins == Some(1) {
            return item.end(
                Predicted::Failed,
                format!(
                    "{username} is the organization's last administrator: refusing to demote \
                     them; pass allow_admin_demotion=True if that is meant"
                ),
            );
        }
    }
    let blocking: Vec<&App> = offline.iter().filter(|a| Some(**a) != released).collect();
    if type_changes {
        if let Some(app) = blocking.first() {
            return item.end(
                Predicted::Failed,
                format!(
                    "{username}'s {} license is checked out for offline use: release it first \
                     (gis.admin.license.release_and_update does both)",
                    app.title()
                ),
            );
        }
        if let Some(left) = left.types.get(&target_type) {
            if *left <= 0 {
                return item.end(
                    Predicted::Failed,
                    format!(
                        "no seat left for the user type '{}' (all of them taken)",
                        type_name(&state.types, &target_type)
                    ),
                );
            }
        }
    }
    if let (true, Some(level)) = (level_changes, target_level) {
        if left.level.get(&level).is_some_and(|n| *n <= 0) {
            return item.end(
                Predicted::Failed,
                format!("no seat left at level {level} (all of them taken)"),
            );
        }
    }
    // 3. Entitlements.
    let mut entitlements_step = None;
    if let (Some(ew), Some((license, holders))) = (&wanted.entitlements, &state.license) {
        let now = holders.get(&key).cloned().unwrap_or_default();
        let to = ew.change().target(&now);
        if to != now {
            if let Some(app) = App::parse(&license.title)
                .ok()
                .filter(|a| blocking.contains(&a))
            {
                return item.end(
                    Predicted::Failed,
                    format!(
                        "{username}'s {} license is checked out for offline use: release it first",
                        app.title()
                    ),
                );
            }
            let gains: Vec<&String> = to.iter().filter(|e| !now.contains(e)).collect();
            if let Some(short) = gains
                .iter()
                .find(|e| left.entitlements.get(**e).copied().unwrap_or(0) <= 0)
            {
                return item.end(
                    Predicted::Failed,
                    format!("no {short} license left to give {username} (all assigned)"),
                );
            }
            if let Some(reason) = over_committed(&to, &now, license, &left.entitlements) {
                return item.end(Predicted::Failed, format!("{username}: {reason}"));
            }
            for e in gains {
                if let Some(n) = left.entitlements.get_mut(e) {
                    *n -= 1;
                }
            }
            entitlements_step = Some(Action::Entitlements {
                username: username.clone(),
                license: license.item_id.clone(),
                title: license.title.clone(),
                from: now,
                to,
            });
        }
    }
    // The order the portal accepts: a role the current type can hold goes first (reversible
    // before irreversible); a role only the new type can hold goes after the type.
    let role_step = role_changes.then(|| Action::Role {
        username: username.clone(),
        from: found.role.clone(),
        to: target_role.clone(),
    });
    let role_first = if has_types {
        role_rank(&state.roles, &target_role) <= type_max_rank(&found.user_type)
    } else {
        // A role the present level can hold goes first (down to level 1: the level 1 role,
        // then the level); a level 2 role goes after the move up to level 2.
        fits_level(&state.roles, &target_role, level_now.unwrap_or(2))
    };
    if role_first {
        steps.extend(role_step.clone());
    }
    if let Some(app) = released {
        steps.push(Action::Release {
            username: username.clone(),
            app: app.id().to_owned(),
        });
    }
    if type_changes {
        steps.push(Action::UserType {
            username: username.clone(),
            from: found.user_type.clone(),
            to: target_type.clone(),
        });
    }
    if let (true, Some(from), Some(to)) = (level_changes, level_now, target_level) {
        steps.push(Action::Level {
            username: username.clone(),
            from,
            to,
        });
    }
    if !role_first {
        steps.extend(role_step);
    }
    steps.extend(entitlements_step);
    if steps.is_empty() {
        let reason = if wanted.release.is_some()
            && wanted.user_type.is_none()
            && wanted.entitlements.is_none()
        {
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
        };
        return item.end(Predicted::Unchanged, reason);
    }
    // Seats and administrators are taken only by items that will go.
    if type_changes {
        if let Some(left) = left.types.get_mut(&target_type) {
            *left -= 1;
        }
    }
    if let (true, Some(level)) = (level_changes, target_level) {
        if let Some(n) = left.level.get_mut(&level) {
            *n -= 1;
        }
    }
    if role_changes && found.role == ADMIN_ROLE {
        left.admins = left.admins.map(|n| n.saturating_sub(1));
    }
    item.item = username;
    item.steps = steps;
}

/// Why a request keeping an entitlement a member holds is refused: the portal counts every
/// member a request names ("the total number of currently provisioned users plus users
/// specified in requests should be no larger than the maximum number of users allowed",
/// Esri's provisionUserEntitlements), so when more are assigned than were bought, any
/// request that assigns that entitlement is refused, even for a member who holds it.
fn over_committed(
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

/// Members as the planner takes them, with their place and what they should end as.
pub fn with_wanted(
    members: Vec<Result<Member>>,
    wanted: &Wanted,
) -> Vec<(usize, Result<Member>, Wanted)> {
    members
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i, m, wanted.clone()))
        .collect()
}

fn options(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Plan a change of user type, with `roles` (see [`Roles`]).
pub async fn plan_user_type(
    portal: &Portal,
    members: Vec<Result<Member>>,
    user_type: &str,
    roles: &Roles,
    guards: &Guards,
) -> Result<Plan> {
    let wanted = Wanted {
        roles_auto: *roles == Roles::Auto,
        ..Wanted::default()
    };
    let opts = options(&[("roles", roles.option())]);
    let asked = Asked {
        user_type: Some(user_type.to_owned()),
        role: roles.named(),
    };
    plan_asked(
        portal,
        "update_license_type",
        "changed",
        with_wanted(members, &wanted),
        guards,
        opts,
        asked,
    )
    .await
}

/// Plan a change of role.
pub async fn plan_role(
    portal: &Portal,
    members: Vec<Result<Member>>,
    role: &str,
    guards: &Guards,
) -> Result<Plan> {
    let asked = Asked {
        user_type: None,
        role: Some(role.to_owned()),
    };
    plan_asked(
        portal,
        "update_role",
        "changed",
        with_wanted(members, &Wanted::default()),
        guards,
        Map::new(),
        asked,
    )
    .await
}

/// Plan a change of level, 1 or 2, with `roles` (see [`Roles`]; `Auto` gives a member going
/// to level 1 a level 1 role first). On a portal with user types the level follows the user
/// type, so a member not already at `level` is predicted to fail, saying so.
pub async fn plan_level(
    portal: &Portal,
    members: Vec<Result<Member>>,
    level: i64,
    roles: &Roles,
    guards: &Guards,
) -> Result<Plan> {
    let level = check_level(level)?;
    let wanted = Wanted {
        level: Some(level),
        roles_auto: *roles == Roles::Auto,
        ..Wanted::default()
    };
    let mut opts = options(&[("roles", roles.option())]);
    opts.insert("level".into(), json!(level));
    let asked = Asked {
        user_type: None,
        role: roles.named(),
    };
    plan_asked(
        portal,
        "update_level",
        "changed",
        with_wanted(members, &wanted),
        guards,
        opts,
        asked,
    )
    .await
}

/// A level as the portal takes it: 1 or 2.
pub fn check_level(level: i64) -> Result<u8> {
    match level {
        1 => Ok(1),
        2 => Ok(2),
        other => Err(Error::invalid(format!(
            "a user level is 1 or 2, not {other}"
        ))),
    }
}

/// Plan a change of entitlements under a license.
pub async fn plan_entitlements(
    portal: &Portal,
    license: &str,
    members: Vec<Result<Member>>,
    change: Change,
    guards: &Guards,
) -> Result<Plan> {
    let license = portal.license(license).await?;
    let change = change.canonical(&license)?;
    let (mode, ids, word) = match &change {
        Change::Set(ids) if ids.is_empty() => ("set", ids.clone(), "revoked"),
        Change::Set(ids) => ("set", ids.clone(), "assigned"),
        Change::Add(ids) => ("add", ids.clone(), "assigned"),
        Change::Remove(ids) => ("remove", ids.clone(), "revoked"),
    };
    if mode != "set" && ids.is_empty() {
        return Err(Error::invalid("name at least one entitlement"));
    }
    let wanted = Wanted {
        entitlements: Some(EntitlementsWanted {
            license: license.item_id.clone(),
            title: license.title.clone(),
            mode: mode.into(),
            ids: ids.clone(),
        }),
        ..Wanted::default()
    };
    let opts = options(&[
        ("license", json!(license.title)),
        ("mode", json!(mode)),
        ("entitlements", json!(ids)),
    ]);
    plan(
        portal,
        "provision",
        word,
        with_wanted(members, &wanted),
        guards,
        opts,
    )
    .await
}

/// Plan releasing the check-outs of `app`.
pub async fn plan_release(
    portal: &Portal,
    members: Vec<Result<Member>>,
    app: &str,
    guards: &Guards,
) -> Result<Plan> {
    let app = App::parse(app)?;
    // A portal that cannot release this app is refused before anything is planned.
    portal.release_endpoint(app).await?;
    let wanted = Wanted {
        release: Some(app.id().to_owned()),
        ..Wanted::default()
    };
    let opts = options(&[("app", json!(app.id()))]);
    plan(
        portal,
        "release",
        "released",
        with_wanted(members, &wanted),
        guards,
        opts,
    )
    .await
}

/// Plan the administrators' workflow: release each member's check-out of `app`, then change
/// their user type and/or entitlements under `license`.
#[allow(clippy::too_many_arguments)]
pub async fn plan_release_and_update(
    portal: &Portal,
    members: Vec<Result<Member>>,
    app: &str,
    user_type: Option<&str>,
    license: &str,
    entitlements: Option<Vec<String>>,
    roles: &Roles,
    guards: &Guards,
) -> Result<Plan> {
    if user_type.is_none() && entitlements.is_none() {
        return Err(Error::invalid(
            "say what to change after the release: user_type=, entitlements=, or both",
        ));
    }
    let app = App::parse(app)?;
    portal.release_endpoint(app).await?;
    let user_type = match user_type {
        Some(wanted) => Some(resolve_user_type(&portal.user_types().await?, wanted)?),
        None => None,
    };
    let entitlements = match entitlements {
        Some(ids) => {
            let license = portal.license(license).await?;
            let ids = license.entitlements_named(&ids)?;
            Some(EntitlementsWanted {
                license: license.item_id.clone(),
                title: license.title.clone(),
                mode: "set".into(),
                ids,
            })
        }
        None => None,
    };
    let opts = options(&[
        ("app", json!(app.id())),
        ("user_type", json!(user_type)),
        (
            "entitlements",
            entitlements.as_ref().map_or(Value::Null, |e| json!(e.ids)),
        ),
        ("roles", roles.option()),
    ]);
    let wanted = Wanted {
        user_type,
        roles_auto: *roles == Roles::Auto,
        entitlements,
        release: Some(app.id().to_owned()),
        ..Wanted::default()
    };
    let asked = Asked {
        user_type: None,
        role: roles.named(),
    };
    plan_asked(
        portal,
        "release_and_update",
        "changed",
        with_wanted(members, &wanted),
        guards,
        opts,
        asked,
    )
    .await
}

/// Plan what a journal left unfinished again, from the state now: the same items, the same
/// wanted ends. Applying it appends to the same journal.
pub async fn plan_resume(portal: &Portal, read: &JournalRead) -> Result<Plan> {
    let first = &read.plans[0];
    first.check_service(portal.url())?;
    let last = &read.plans[read.plans.len() - 1];
    let unfinished: HashSet<usize> = read.unfinished().iter().map(|r| r.index).collect();
    let items = last.items.iter().filter(|i| unfinished.contains(&i.index));
    let mut options = last.options.clone();
    options.insert("resumes".into(), json!(read.plans.len()));
    plan_again(portal, last, items, options).await
}

/// The plan to apply, re-checked: the items of `planned` that would change, planned again
/// from the state now and reconciled with what was planned (see `recheck`).
pub async fn recheck(portal: &Portal, planned: &Plan) -> Result<Plan> {
    planned.check_service(portal.url())?;
    let items = planned
        .items
        .iter()
        .filter(|i| i.predicted == Predicted::WouldChange);
    let fresh = plan_again(portal, planned, items, planned.options.clone()).await?;
    Ok(super::recheck::reconcile(planned, fresh))
}

/// Plan `items` of `source` again, from the state now, towards what each was wanted as.
async fn plan_again<'a>(
    portal: &Portal,
    source: &Plan,
    items: impl Iterator<Item = &'a PlanItem>,
    options: Map<String, Value>,
) -> Result<Plan> {
    let mut members = Vec::new();
    let mut word = None;
    for item in items {
        let wanted: Wanted = serde_json::from_value((*item.wanted).clone())
            .map_err(|e| Error::invalid(format!("the plan's items cannot be read: {e}")))?;
        word.get_or_insert(super::word(&item.word));
        members.push((item.index, Ok(Member::named(item.item.clone())), wanted));
    }
    let guards = Guards {
        allow_admin_demotion: source.options.get("allow_admin_demotion")
            == Some(&Value::Bool(true))
            || source.operation == "undo",
        allow_all: true,
    };
    let word = word.unwrap_or("changed");
    plan(portal, &source.operation, word, members, &guards, options).await
}

/// Plan undoing what a journal shows done: each member back to what the journal found
/// before, if they are still as it left them. Steps that cannot be undone (a released
/// check-out) are listed as skipped items, with who it was.
pub async fn plan_undo(portal: &Portal, read: &JournalRead) -> Result<Plan> {
    let first = &read.plans[0];
    first.check_service(portal.url())?;
    let steps = read.steps();
    let mut indexes: Vec<usize> = steps.keys().copied().collect();
    indexes.sort_unstable();
    let mut members = Vec::new();
    let mut irreversible = Vec::new();
    for index in indexes {
        let mut wanted = Wanted::default();
        let mut expect = Expect::default();
        let mut username = None;
        for step in steps[&index].iter().filter(|s| s.may_have_happened()) {
            match &step.action {
                Action::UserType {
                    username: u,
                    from,
                    to,
                } => {
                    username.get_or_insert(u.clone());
                    wanted.user_type.get_or_insert(from.clone());
                    expect.user_type = Some(to.clone());
                }
                Action::Role {
                    username: u,
                    from,
                    to,
                } => {
                    username.get_or_insert(u.clone());
                    wanted.role.get_or_insert(from.clone());
                    expect.role = Some(to.clone());
                }
                Action::Level {
                    username: u,
                    from,
                    to,
                } => {
                    username.get_or_insert(u.clone());
                    wanted.level.get_or_insert(*from);
                    expect.level = Some(*to);
                }
                Action::Entitlements {
                    username: u,
                    license,
                    title,
                    from,
                    to,
                } => {
                    username.get_or_insert(u.clone());
                    if wanted.entitlements.is_none() {
                        wanted.entitlements = Some(EntitlementsWanted {
                            license: license.clone(),
                            title: title.clone(),
                            mode: "set".into(),
                            ids: from.clone(),
                        });
                    }
                    expect.entitlements = Some(to.clone());
                }
                other => irreversible.push((index, other.clone())),
            }
        }
        if let Some(username) = username {
            wanted.expect = Some(expect);
            members.push((index, Ok(Member::named(username)), wanted));
        }
    }
    let license = members
        .iter()
        .filter_map(|(_, _, w)| w.entitlements.as_ref().map(|e| e.license.clone()))
        .collect::<HashSet<_>>();
    if license.len() > 1 {
        return Err(Error::invalid(
            "this journal changed entitlements under several licenses; undo each separately",
        ));
    }
    let guards = Guards {
        allow_admin_demotion: true,
        allow_all: true,
    };
    let mut options = Map::new();
    options.insert("undoes".into(), json!(first.operation));
    let mut plan = plan(portal, "undo", "changed", members, &guards, options).await?;
    for (index, action) in irreversible {
        let mut item = PlanItem::new(index, action.subject(), "changed", Value::Null);
        item.end(
            Predicted::Skipped,
            format!(
                "cannot be undone: {} for {}",
                action.describe_named(&plan.names),
                action.subject()
            ),
        );
        plan.items.push(item);
    }
    plan.items.sort_by_key(|i| i.index);
    Ok(plan)
}

/// Plan `operation` ("update_license_type", "update_role", "update_level", "provision",
/// "release", "release_and_update") with its arguments as the bindings and the command line
/// give them: `user_type`, `roles` ("auto", or a role's name or id), `role`, `level`, `license`, `mode`, `entitlements`, `app`,
/// `allow_admin_demotion`, `allow_all`, and `notes` (what the caller's selection left out).
pub async fn plan_operation(
    portal: &Portal,
    operation: &str,
    members: Vec<Result<Member>>,
    args: &Map<String, Value>,
) -> Result<Plan> {
    let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::to_owned);
    let needed =
        |key: &str| text(key).ok_or_else(|| Error::invalid(format!("{operation} needs {key}=")));
    let flag = |key: &str| args.get(key).and_then(Value::as_bool).unwrap_or(false);
    let ids = |key: &str| -> Option<Vec<String>> {
        args.get(key).and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    };
    let roles = Roles::parse(text("roles").as_deref());
    let guards = Guards {
        allow_admin_demotion: flag("allow_admin_demotion"),
        allow_all: flag("allow_all"),
    };
    let mut plan = match operation {
        "update_license_type" => {
            plan_user_type(portal, members, &needed("user_type")?, &roles, &guards).await?
        }
        "update_role" => plan_role(portal, members, &needed("role")?, &guards).await?,
        "update_level" => {
            let level = args
                .get("level")
                .and_then(Value::as_i64)
                .ok_or_else(|| Error::invalid("update_level needs level= (1 or 2)"))?;
            plan_level(portal, members, level, &roles, &guards).await?
        }
        "provision" => {
            let ids = ids("entitlements").unwrap_or_default();
            let change = Change::from_mode(text("mode").as_deref().unwrap_or("set"), ids)?;
            plan_entitlements(portal, &needed("license")?, members, change, &guards).await?
        }
        "release" => plan_release(portal, members, &needed("app")?, &guards).await?,
        "release_and_update" => {
            plan_release_and_update(
                portal,
                members,
                &text("app").unwrap_or_else(|| "arcgisprodesktop".into()),
                text("user_type").as_deref(),
                &text("license").unwrap_or_else(|| "ArcGIS Pro".into()),
                ids("entitlements"),
                &roles,
                &guards,
            )
            .await?
        }
        other => return Err(Error::invalid(format!("no such change: {other:?}"))),
    };
    for key in ["allow_admin_demotion", "allow_all"] {
        if flag(key) {
            plan.options.insert(key.into(), Value::Bool(true));
        }
    }
    // What the caller's selection left out, said where the plan is read.
    plan.notes.extend(ids("notes").unwrap_or_default());
    Ok(plan)
}

/// Sends a plan's steps to a portal.
pub struct PortalExecutor<'a> {
    pub portal: &'a Portal,
    /// Members per updateUserLicenseType request.
    pub batch_size: usize,
}

impl PortalExecutor<'_> {
    async fn user_types(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let (names, target): (Vec<String>, String) = match batch.first() {
            Some(Action::UserType { to, .. }) => {
                (batch.iter().map(Action::subject).collect(), to.clone())
            }
            _ => return Vec::new(),
        };
        let mut outcomes: Vec<Outcome> =
            match self.portal.update_user_license_type(&names, &target).await {
                Ok(per_user) => per_user
                    .into_iter()
                    .map(|(_, result)| Outcome::of(result, "changed"))
                    .collect(),
                Err(err) => names
                    .iter()
                    .map(|_| Outcome::of(Err(err.clone()), "changed"))
                    .collect(),
            };
        let sent: HashMap<usize, String> = names.into_iter().enumerate().collect();
        let is_done = has_user_type(&target);
        let is_done = &is_done;
        bulk::settle_each(&mut outcomes, &sent, "changed", |name| async move {
            self.portal.reread_member(&name, is_done).await
        })
        .await;
        outcomes
    }

    async fn role(&self, username: String, to: String) -> Outcome {
        let result = self.portal.update_user_role(&username, &to).await;
        let is_done = has_role(&to);
        bulk::settled(result, "changed", || {
            self.portal.reread_member(&username, &is_done)
        })
        .await
    }

    async fn level(&self, username: String, to: u8) -> Outcome {
        let result = self.portal.update_user_level(&username, to).await;
        let is_done = has_level(to);
        bulk::settled(result, "changed", || {
            self.portal.reread_member(&username, &is_done)
        })
        .await
    }

    async fn entitlements(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let Some(Action::Entitlements { license, to, .. }) = batch.first().cloned() else {
            return Vec::new();
        };
        let word = batch[0].word();
        let names: Vec<String> = batch.iter().map(Action::subject).collect();
        let mut outcomes = match self
            .portal
            .provision_user_entitlements(&license, &names, &to)
            .await
        {
            Ok(()) => names.iter().map(|_| Outcome::Done(word)).collect(),
            // One member the portal refuses fails the whole request: send each alone.
            Err(err) if names.len() > 1 && per_member_error(&err) => {
                let mut alone = Vec::with_capacity(names.len());
                for name in &names {
                    let result = self
                        .portal
                        .provision_user_entitlements(&license, std::slice::from_ref(name), &to)
                        .await;
                    alone.push(Outcome::of(result, word));
                }
                alone
            }
            Err(err) => names
                .iter()
                .map(|_| Outcome::of(Err(err.clone()), word))
                .collect(),
        };
        let sent: HashMap<usize, String> = names.into_iter().enumerate().collect();
        let (license, to) = (&license, &to);
        bulk::settle_each(&mut outcomes, &sent, word, |name| async move {
            match self.portal.user_entitlement(license, &name).await {
                Ok(found) => {
                    let now = found.map(|f| sorted(&f.entitlements)).unwrap_or_default();
                    if now == *to {
                        Reread::Done
                    } else {
                        Reread::NotDone(format!("the member's entitlements are {now:?}"))
                    }
                }
                Err(err) => Reread::Failed(err),
            }
        })
        .await;
        outcomes
    }

    async fn release(&self, username: String, app: String) -> Outcome {
        let app = match App::parse(&app) {
            Ok(app) => app,
            Err(err) => return Outcome::Failed(err),
        };
        let sent = match self.portal.release_endpoint(app).await {
            Ok(endpoint) => self.portal.release_license(&endpoint, &username, app).await,
            Err(err) => Err(err),
        };
        bulk::settled(sent, "released", || async {
            match self.portal.license(app.title()).await {
                Ok(license) => self.portal.reread_release(&license, &username, app).await,
                Err(err) => Reread::Failed(err),
            }
        })
        .await
    }
}

impl Executor for PortalExecutor<'_> {
    fn batch_key(&self, action: &Action) -> (String, usize) {
        match action {
            Action::UserType { to, .. } => (format!("user_type {to}"), self.batch_size),
            Action::Entitlements { license, to, .. } => (
                format!("entitlements {license} {}", to.join(",")),
                self.batch_size.min(MAX_PROVISION_BATCH),
            ),
            other => (format!("{} {}", other.name(), other.subject()), 1),
        }
    }

    async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
        match batch.first() {
            Some(Action::UserType { .. }) => self.user_types(batch).await,
            Some(Action::Entitlements { .. }) => self.entitlements(batch).await,
            _ => {
                let mut outcomes = Vec::with_capacity(batch.len());
                for action in batch {
                    outcomes.push(match action {
                        Action::Role { username, to, .. } => self.role(username, to).await,
                        Action::Level { username, to, .. } => self.level(username, to).await,
                        Action::Release { username, app } => self.release(username, app).await,
                        other => Outcome::Failed(Error::invalid(format!(
                            "a portal cannot {}",
                            other.describe()
                        ))),
                    });
                }
                outcomes
            }
        }
    }

    async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
        let checked = bulk::run_ordered(
            items,
            bulk::REREAD_CONCURRENCY,
            |(action, later)| async move {
                let user = match self.portal.get_user(&action.subject()).await {
                    Ok(user) => user,
                    Err(err) => {
                        return Err(format!(
                            "the member could not be read again ({})",
                            err.reason()
                        ))
                    }
                };
                for step in &later {
                    match step {
                        Action::UserType { from, .. }
                            if user.user_type() != Some(from.as_str()) =>
                        {
                            return Err(format!(
                                "their user type is now {}, not {from}",
                                user.user_type().unwrap_or("not stated")
                            ))
                        }
                        Action::Level { from, .. } if user.level() != Some(i64::from(*from)) => {
                            return Err(format!(
                                "their level is now {}, not {from}",
                                user.level()
                                    .map_or("not stated".to_owned(), |l| l.to_string())
                            ))
                        }
                        Action::Role { from, .. } if user.role_id() != Some(from.as_str()) => {
                            return Err(format!(
                                "their role is now {}, not {from}",
                                user.role_id().unwrap_or("not stated")
                            ))
                        }
                        _ => {}
                    }
                }
                Ok(())
            },
        )
        .await;
        checked
            .into_iter()
            .map(|check| check.map_or_else(Recheck::Changed, |()| Recheck::AsPlanned))
            .collect()
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
