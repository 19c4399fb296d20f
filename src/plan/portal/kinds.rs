//! The changes of members a plan is made for, one planner each: user type, role, level,
//! entitlements, release, and release-then-update; and [`plan_operation`], which plans any
//! of them as the bindings ask.

use serde_json::{json, Map, Value};

use super::make::{plan, Asked, Members, Planning};
use super::rules::check_level;
use super::wanted::{Change, EntitlementsWanted, Guards, Roles, Wanted};
use crate::error::{Error, Result};
use crate::plan::Plan;
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
    let planning = Planning {
        operation: "update_license_type",
        word: "changed",
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
        operation: "update_role",
        word: "changed",
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
        operation: "update_level",
        word: "changed",
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
    let planning = Planning {
        operation: "provision",
        word,
        guards,
        options: options(&[
            ("license", json!(license.title)),
            ("mode", json!(mode)),
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
        operation: "release",
        word: "released",
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
                mode: "set".into(),
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
        operation: "release_and_update",
        word: "changed",
        guards,
        options,
        asked: Asked {
            user_type: None,
            role: roles.named(),
        },
    };
    plan(portal, planning, with_wanted(members, &wanted)).await
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
            let asked = ReleaseAndUpdate {
                app: text("app").unwrap_or_else(|| "arcgisprodesktop".into()),
                user_type: text("user_type"),
                license: text("license").unwrap_or_else(|| "ArcGIS Pro".into()),
                entitlements: ids("entitlements"),
                roles,
            };
            plan_release_and_update(portal, members, &asked, &guards).await?
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
