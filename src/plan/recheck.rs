//! Re-checking a plan just before applying it.
//!
//! A plan held for a while (saved and applied later, a resume or an undo planned and looked
//! at first) was predicted from the state its planning read. Before it is applied, its
//! planner plans the items that would change again from the state now, and [`reconcile`]
//! keeps, item by item, what still holds:
//! - the state is as planned, or part way along the plan (a step already done by someone
//!   else): the steps still needed go, as now read, so the journal's "before" is what was
//!   there just before the change;
//! - it is already as wanted: unchanged;
//! - the server would now refuse it (no seat left, a check-out since): the predicted
//!   failure, as a dry run now would give it;
//! - it moved elsewhere (a Creator planned to Contributor who is a Viewer now): skipped,
//!   saying what it is now; nothing is sent, since what was planned was a change from what
//!   planning saw.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{Action, Plan, PlanItem, Predicted, Refusal};

/// The plan to apply: `planned`, with each item that would change judged against `fresh`,
/// the same items planned again from the state now.
pub fn reconcile(planned: &Plan, fresh: Plan) -> Plan {
    let mut checked = planned.clone();
    for note in fresh.notes {
        if !checked.notes.contains(&note) {
            checked.notes.push(note);
        }
    }
    checked
        .options
        .insert("rechecked_ms".into(), Value::from(crate::clock::now_ms()));
    let mut now: HashMap<usize, PlanItem> = fresh.items.into_iter().map(|i| (i.index, i)).collect();
    for item in &mut checked.items {
        if item.predicted != Predicted::WouldChange {
            continue;
        }
        if let Some(now) = now.remove(&item.index) {
            reconcile_item(item, now, &planned.names);
        }
    }
    checked
}

fn reconcile_item(item: &mut PlanItem, now: PlanItem, names: &BTreeMap<String, String>) {
    match now.predicted {
        Predicted::WouldChange if now.steps.iter().all(|s| item.steps.contains(s)) => {
            item.steps = now.steps;
        }
        Predicted::WouldChange => {
            let what = moved(&item.steps, &now.steps, names);
            item.end(
                Predicted::Skipped,
                format!("changed since planning: {what}; nothing was sent: plan it again"),
            );
        }
        Predicted::Unchanged => {
            let why = now.reason.unwrap_or_default();
            item.end(Predicted::Unchanged, format!("{why} (since planning)"));
        }
        Predicted::Skipped | Predicted::Failed => {
            let reason = now.reason.unwrap_or_default();
            // A read that failed says so itself; a rule now refusing it happened since.
            let reason = match now.refusal {
                Refusal::Invalid | Refusal::NotFound if now.predicted == Predicted::Failed => {
                    format!("since planning: {reason}")
                }
                _ => reason,
            };
            item.end(now.predicted, reason);
            item.refusal = now.refusal;
        }
    }
}

/// What differs: "their user type is now Viewer, not Creator".
fn moved(planned: &[Action], now: &[Action], names: &BTreeMap<String, String>) -> String {
    let name = |v: &Value| -> String {
        match v {
            Value::String(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
            Value::Array(ids) => {
                let ids: Vec<String> = ids
                    .iter()
                    .map(|i| i.as_str().unwrap_or("").into())
                    .collect();
                format!("[{}]", ids.join(", "))
            }
            other => other.to_string(),
        }
    };
    let parts: Vec<String> = now
        .iter()
        .filter(|step| !planned.contains(step))
        .map(|step| {
            let kind = step.name().replace('_', " ");
            let (was_now, _) = step.before_after();
            match planned.iter().find(|p| p.name() == step.name()) {
                Some(p) => format!(
                    "their {kind} is now {}, not {}",
                    name(&was_now),
                    name(&p.before_after().0)
                ),
                None => format!("it now needs another step: {}", step.describe_named(names)),
            }
        })
        .collect();
    parts.join("; ")
}
