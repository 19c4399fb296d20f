//! Planning again from a journal or a plan held for a while: resuming what a run left
//! unfinished, re-checking a plan just before it is applied, and undoing a run.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::make::{plan, Asked, Members, Planning};
use super::wanted::{EntitlementsWanted, Expect, Guards, Mode, Wanted};
use crate::error::{Error, Result};
use crate::plan::journal::{JournalRead, StepRecord};
use crate::plan::{Action, Operation, Plan, PlanItem, Predicted, Verb};
use crate::portal::{Member, Portal};

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
    Ok(crate::plan::recheck::reconcile(planned, fresh))
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
        word.get_or_insert(item.word);
        members.push((item.index, Ok(Member::named(item.item.clone())), wanted));
    }
    let guards = Guards {
        allow_admin_demotion: source.options.get("allow_admin_demotion")
            == Some(&Value::Bool(true))
            || source.operation == Operation::Undo,
        allow_all: true,
    };
    let planning = Planning {
        operation: source.operation,
        word: word.unwrap_or(Verb::Changed),
        guards: &guards,
        options,
        asked: Asked::default(),
    };
    plan(portal, planning, members).await
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
    let mut members: Members = Vec::new();
    let mut irreversible = Vec::new();
    for index in indexes {
        let (back, cannot) = undo_of(&steps[&index]);
        irreversible.extend(cannot.into_iter().map(|action| (index, action)));
        if let Some((username, wanted)) = back {
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
    let planning = Planning {
        operation: Operation::Undo,
        word: Verb::Changed,
        guards: &guards,
        options,
        asked: Asked::default(),
    };
    let mut plan = plan(portal, planning, members).await?;
    for (index, action) in irreversible {
        let mut item = PlanItem::new(index, action.subject(), Verb::Changed, Value::Null);
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

/// What undoing one item's journaled steps wants: the member and what they go back to, on
/// condition they are still as the steps left them; and the steps that cannot be undone.
fn undo_of(steps: &[StepRecord]) -> (Option<(String, Wanted)>, Vec<Action>) {
    let mut wanted = Wanted::default();
    let mut expect = Expect::default();
    let mut username = None;
    let mut irreversible = Vec::new();
    for step in steps.iter().filter(|s| s.may_have_happened()) {
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
                        mode: Mode::Set,
                        ids: from.clone(),
                    });
                }
                expect.entitlements = Some(to.clone());
            }
            other => irreversible.push(other.clone()),
        }
    }
    wanted.expect = Some(expect);
    (username.map(|u| (u, wanted)), irreversible)
}
