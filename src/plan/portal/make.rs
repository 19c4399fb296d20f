//! Making a plan of members: read the state once, resolve what was asked, predict each
//! member in seat order, and report them in the order given.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::predict::{predict, seat_priority, Left};
use super::rules::ADMIN_ROLE;
use super::state::{read_state, Needs, State};
use super::wanted::{Guards, Wanted};
use crate::error::{Error, Result};
use crate::plan::{skip_repeats, Operation, Plan, PlanItem, Predicted, Verb};
use crate::portal::users::{check_username, resolve_role, resolve_user_type};
use crate::portal::{Member, Portal};

/// A user type or role a change names as a person would ("viewer", "Publisher"): resolved
/// to its id from the types and roles planning reads anyway, so that resolving it costs no
/// requests of its own before the member listing starts.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub user_type: Option<String>,
    pub role: Option<String>,
}

/// What a plan of members is made as: its operation, what applying an item does ("changed",
/// "assigned"...), the guards lifted, the options it records, and what was asked by name.
pub struct Planning<'a> {
    pub operation: Operation,
    pub word: Verb,
    pub guards: &'a Guards,
    pub options: Map<String, Value>,
    pub asked: Asked,
}

/// Members as the planner takes them: each one's place, the member, and what they should
/// end as.
pub type Members = Vec<(usize, Result<Member>, Wanted)>;

/// Plan members towards what each is `wanted` as, with every member's user type or role
/// as `planning.asked`, resolved once read.
pub async fn plan(portal: &Portal, planning: Planning<'_>, mut members: Members) -> Result<Plan> {
    let mut plan = Plan::new(planning.operation, portal.url(), planning.options);
    let asked = &planning.asked;
    let state = read_state(portal, needs(&members, asked), &mut plan.notes).await?;
    resolve_asked(&mut plan, &state, asked, &mut members)?;
    let mut left = left_at_start(&state);
    let (mut items, checked): (Vec<PlanItem>, Vec<(Option<Member>, Wanted)>) =
        items_of(members, planning.word).unzip();
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
            predict(item, member, wanted, &state, planning.guards, &mut left);
        }
    }
    plan.items = slots.into_iter().map(|(item, _, _)| item).collect();
    let types = state.types.iter().map(|t| (&t.id, &t.name));
    let roles = state.roles.iter().map(|r| (&r.id, &r.name));
    plan.names = types
        .chain(roles)
        .map(|(id, name)| (id.clone(), name.clone()))
        .collect();
    not_everyone(&plan, &state, planning.guards)?;
    // The organization's member map (10,000 members: milliseconds to free) is freed on a
    // blocking thread, not before the plan is handed back.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(move || drop(state));
    }
    Ok(plan)
}

/// What planning `members` towards what they are wanted as needs read.
fn needs(members: &Members, asked: &Asked) -> Needs {
    let any = |is: fn(&Wanted) -> bool| members.iter().any(|(_, _, w)| is(w));
    Needs {
        types: asked.user_type.is_some()
            || asked.role.is_some()
            || any(|w| w.user_type.is_some() || w.role.is_some() || w.level.is_some()),
        offline: asked.user_type.is_some()
            || any(|w| w.user_type.is_some() || w.entitlements.is_some() || w.release.is_some()),
        license: members
            .iter()
            .find_map(|(_, _, w)| w.entitlements.as_ref().map(|e| e.license.clone())),
        levels: any(|w| w.level.is_some()),
    }
}

/// The user type and role asked for by name, as ids: recorded in the plan's options and
/// given to every member.
fn resolve_asked(
    plan: &mut Plan,
    state: &State,
    asked: &Asked,
    members: &mut Members,
) -> Result<()> {
    if state.before_user_types && asked.user_type.is_some() {
        return Err(Error::invalid(
            "this portal is from before user types (10.7): a member's license is their \
             level, 1 or 2; change levels instead (update_level)",
        ));
    }
    if let Some(name) = &asked.user_type {
        let id = resolve_user_type(&state.types, name)?;
        plan.options.insert("user_type".into(), json!(id));
        for (_, _, wanted) in members.iter_mut() {
            wanted.user_type = Some(id.clone());
        }
    }
    if let Some(name) = &asked.role {
        let id = resolve_role(&state.roles, name)?;
        plan.options.insert("role".into(), json!(id));
        for (_, _, wanted) in members.iter_mut() {
            wanted.role = Some(id.clone());
        }
    }
    Ok(())
}

/// The seats and administrators there are before any member is predicted.
fn left_at_start(state: &State) -> Left {
    let types = state.types.iter().filter_map(|t| {
        t.seats
            .map(|(used, max)| (t.id.clone(), (max - used).max(0)))
    });
    let entitlements = match &state.license {
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
    Left {
        types: types.collect(),
        entitlements,
        level: state.level_seats.clone().unwrap_or_default(),
        admins: match &state.members {
            Ok(all) => Some(all.values().filter(|m| m.role == ADMIN_ROLE).count()),
            Err(_) => None,
        },
    }
}

/// One item per member, in order; a member that cannot be one (no user name) fails now.
fn items_of(
    members: Members,
    word: Verb,
) -> impl Iterator<Item = (PlanItem, (Option<Member>, Wanted))> {
    let mut last_wanted: Option<(Wanted, Arc<Value>)> = None;
    members.into_iter().map(move |(index, member, wanted)| {
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
}

/// A plan that would change every member of the organization is refused unless asked for.
fn not_everyone(plan: &Plan, state: &State, guards: &Guards) -> Result<()> {
    let Ok(all) = &state.members else {
        return Ok(());
    };
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
    Ok(())
}
