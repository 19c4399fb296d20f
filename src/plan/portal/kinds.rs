//! The changes of members a plan is made for, one planner each, named for its operation
//! (`plan_license_type` plans `update_license_type`...): user type, role, level,
//! entitlements (`provision`), release, and release-then-update; and [`plan_request`], which plans any
//! of them as a [`PlanRequest`] (the bindings' one typed request) asks.

use serde_json::{json, Map, Value};

use super::make::{plan, Asked, Members, Planning};
use super::rules::check_level;
use super::wanted::{Change, EntitlementsWanted, Guards, Mode, Roles, Wanted};
use crate::error::{Error, Result};
use crate::plan::{Operation, Plan, Verb};
use crate::portal::users::resolve_user_type;
use crate::portal::{App, Member, Portal};

/// Members as the planner takes them, each wanted alike.
pub fn with_wanted(members: Vec<Result<Member>>, wanted: &Wanted) -> Members {
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
pub async fn plan_license_type(
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
    let planning = Planning {
        operation: Operation::UpdateLicenseType,
        word: Verb::Changed,
        guards,
        options: options(&[("roles", roles.option())]),
        asked: Asked {
            user_type: Some(user_type.to_owned()),
            role: roles.named(),
        },
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
}

/// Plan a change of role.
pub async fn plan_role(
    portal: &Portal,
    members: Vec<Result<Member>>,
    role: &str,
    guards: &Guards,
) -> Result<Plan> {
    let planning = Planning {
        operation: Operation::UpdateRole,
        word: Verb::Changed,
        guards,
        options: Map::new(),
        asked: Asked {
            user_type: None,
            role: Some(role.to_owned()),
        },
    };
    plan(portal, planning, with_wanted(members, &Wanted::default())).await
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
    let mut options = options(&[("roles", roles.option())]);
    options.insert("level".into(), json!(level));
    let planning = Planning {
        operation: Operation::UpdateLevel,
        word: Verb::Changed,
        guards,
        options,
        asked: Asked {
            user_type: None,
            role: roles.named(),
        },
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
}

/// Plan a change of entitlements under a license.
pub async fn plan_provision(
    portal: &Portal,
    license: &str,
    members: Vec<Result<Member>>,
    change: Change,
    guards: &Guards,
) -> Result<Plan> {
    let license = portal.license(license).await?;
    let change = change.canonical(&license)?;
    let (mode, ids) = change.parts();
    let word = match mode {
        Mode::Set if ids.is_empty() => Verb::Revoked,
        Mode::Set | Mode::Add => Verb::Assigned,
        Mode::Remove => Verb::Revoked,
    };
    if mode != Mode::Set && ids.is_empty() {
        return Err(Error::invalid("name at least one entitlement"));
    }
    let wanted = Wanted {
        entitlements: Some(EntitlementsWanted {
            license: license.item_id.clone(),
            title: license.title.clone(),
            mode,
            ids: ids.to_vec(),
        }),
        ..Wanted::default()
    };
    let planning = Planning {
        operation: Operation::Provision,
        word,
        guards,
        options: options(&[
            ("license", json!(license.title)),
            ("mode", json!(mode.name())),
            ("entitlements", json!(ids)),
        ]),
        asked: Asked::default(),
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
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
    let planning = Planning {
        operation: Operation::Release,
        word: Verb::Released,
        guards,
        options: options(&[("app", json!(app.id()))]),
        asked: Asked::default(),
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
}

/// The administrators' workflow: release each member's check-out of `app`, then change
/// their user type and/or set their entitlements under `license` (`Some(vec![])` revokes
/// them all).
#[derive(Debug, Clone)]
pub struct ReleaseAndUpdate {
    pub app: String,
    pub user_type: Option<String>,
    pub license: String,
    pub entitlements: Option<Vec<String>>,
    pub roles: Roles,
}

/// Plan the administrators' workflow (see [`ReleaseAndUpdate`]).
pub async fn plan_release_and_update(
    portal: &Portal,
    members: Vec<Result<Member>>,
    asked: &ReleaseAndUpdate,
    guards: &Guards,
) -> Result<Plan> {
    if asked.user_type.is_none() && asked.entitlements.is_none() {
        return Err(Error::invalid(
            "say what to change after the release: user_type=, entitlements=, or both",
        ));
    }
    let app = App::parse(&asked.app)?;
    portal.release_endpoint(app).await?;
    let user_type = match &asked.user_type {
        Some(wanted) => Some(resolve_user_type(&portal.user_types().await?, wanted)?),
        None => None,
    };
    let entitlements = match &asked.entitlements {
        Some(ids) => {
            let license = portal.license(&asked.license).await?;
            let ids = license.entitlements_named(ids)?;
            Some(EntitlementsWanted {
                license: license.item_id.clone(),
                title: license.title.clone(),
                mode: Mode::Set,
                ids,
            })
        }
        None => None,
    };
    let roles = &asked.roles;
    let options = options(&[
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
    let planning = Planning {
        operation: Operation::ReleaseAndUpdate,
        word: Verb::Changed,
        guards,
        options,
        asked: Asked {
            user_type: None,
            role: roles.named(),
        },
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
}

/// A change of members, as asked: one kind each, with what that kind takes.
#[derive(Debug, Clone)]
pub enum Request {
    /// `update_license_type`: a user type (id or name), with `roles`.
    LicenseType { user_type: String, roles: Roles },
    /// `update_role`: a role (id or name).
    Role { role: String },
    /// `update_level`: 1 or 2, with `roles`.
    Level { level: i64, roles: Roles },
    /// `provision`: entitlements under a license (title, friendly name or item id).
    Provision { license: String, change: Change },
    /// `release`: the check-outs of an app.
    Release { app: String },
    /// `release_and_update`.
    ReleaseAndUpdate(ReleaseAndUpdate),
}

impl Request {
    /// The operation a plan of it is.
    pub fn operation(&self) -> Operation {
        match self {
            Request::LicenseType { .. } => Operation::UpdateLicenseType,
            Request::Role { .. } => Operation::UpdateRole,
            Request::Level { .. } => Operation::UpdateLevel,
            Request::Provision { .. } => Operation::Provision,
            Request::Release { .. } => Operation::Release,
            Request::ReleaseAndUpdate(_) => Operation::ReleaseAndUpdate,
        }
    }
}

/// A plan of members as the bindings and the command line ask for it: the change, the
/// guards lifted, and notes (what the caller's selection left out).
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub change: Request,
    pub guards: Guards,
    pub notes: Vec<String>,
}

/// Plan what `request` asks of `members`.
pub async fn plan_request(
    portal: &Portal,
    members: Vec<Result<Member>>,
    request: PlanRequest,
) -> Result<Plan> {
    let guards = &request.guards;
    let mut plan = match request.change {
        Request::LicenseType { user_type, roles } => {
            plan_license_type(portal, members, &user_type, &roles, guards).await?
        }
        Request::Role { role } => plan_role(portal, members, &role, guards).await?,
        Request::Level { level, roles } => {
            plan_level(portal, members, level, &roles, guards).await?
        }
        Request::Provision { license, change } => {
            plan_provision(portal, &license, members, change, guards).await?
        }
        Request::Release { app } => plan_release(portal, members, &app, guards).await?,
        Request::ReleaseAndUpdate(asked) => {
            plan_release_and_update(portal, members, &asked, guards).await?
        }
    };
    let lifted = [
        ("allow_admin_demotion", guards.allow_admin_demotion),
        ("allow_all", guards.allow_all),
    ];
    for (key, _) in lifted.iter().filter(|(_, on)| *on) {
        plan.options.insert((*key).into(), Value::Bool(true));
    }
    // What the caller's selection left out, said where the plan is read.
    plan.notes.extend(request.notes);
    Ok(plan)
}
