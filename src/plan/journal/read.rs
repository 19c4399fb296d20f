//! A journal read back: each item's steps and outcome as the run left them, what a resume
//! plans again, and what an undo takes back.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::JournalRecord;
use crate::error::{Error, Result};
use crate::plan::{Action, Plan, PlanItem, Predicted};

/// What one step of one item came to, as the journal tells.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub action: Action,
    /// The outcome's status; None when the step was sent and no answer was journaled.
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

impl StepRecord {
    /// Whether the step may have changed something: done, unknown, or sent unanswered.
    pub fn may_have_happened(&self) -> bool {
        !matches!(
            self.outcome.as_deref(),
            Some("failed" | "skipped" | "unchanged")
        )
    }
}

/// An item's outcome, rebuilt from a journal.
#[derive(Debug, Clone)]
pub struct ItemReport {
    pub index: usize,
    pub item: String,
    pub status: String,
    pub reason: Option<String>,
    pub steps: Vec<StepRecord>,
    /// False when the run stopped before the item's outcome was known: a resume plans it again.
    pub finished: bool,
}

/// What a resume plans again: (item index, target) pairs and the plan's options.
pub type Resumed<T> = (Vec<(usize, Result<T>)>, Map<String, Value>);

/// A journal, read.
pub struct JournalRead {
    /// The plans applied: the first, then one per resume.
    pub plans: Vec<Plan>,
    pub records: Vec<JournalRecord>,
}

impl JournalRead {
    /// Whether the last plan applied ran to its end.
    pub fn ended(&self) -> bool {
        let last = self.plans.len() - 1;
        self.records
            .iter()
            .any(|r| matches!(r, JournalRecord::End { plan, .. } if *plan == last))
    }

    /// Whether nothing is left to do: the last run ended, and every item has its outcome
    /// (none unknown, none left unread for a resume).
    pub fn finished(&self) -> bool {
        self.ended() && self.report().iter().all(|r| r.finished)
    }

    /// Every step sent, by item index, in the order sent: across all plans.
    pub fn steps(&self) -> HashMap<usize, Vec<StepRecord>> {
        let mut steps: HashMap<usize, Vec<StepRecord>> = HashMap::new();
        for record in &self.records {
            match record {
                JournalRecord::Send { index, action, .. } => {
                    steps.entry(*index).or_default().push(StepRecord {
                        action: action.clone(),
                        outcome: None,
                        reason: None,
                    })
                }
                JournalRecord::Result {
                    index,
                    action,
                    outcome,
                    reason,
                    ..
                } => {
                    let list = steps.entry(*index).or_default();
                    match list
                        .iter_mut()
                        .rev()
                        .find(|s| s.outcome.is_none() && s.action == *action)
                    {
                        Some(sent) => {
                            sent.outcome = Some(outcome.clone());
                            sent.reason = reason.clone();
                        }
                        // A step stopped before sending (re-checked and found changed).
                        None => list.push(StepRecord {
                            action: action.clone(),
                            outcome: Some(outcome.clone()),
                            reason: reason.clone(),
                        }),
                    }
                }
                _ => {}
            }
        }
        steps
    }

    /// Each item's outcome, for the items of the first plan, in their order: the latest
    /// plan that holds an item decides its outcome.
    pub fn report(&self) -> Vec<ItemReport> {
        let steps = self.steps();
        let mut latest: BTreeMap<usize, (usize, &PlanItem)> = BTreeMap::new();
        for (n, plan) in self.plans.iter().enumerate() {
            for item in &plan.items {
                latest.insert(item.index, (n, item));
            }
        }
        let ended: Vec<usize> = self
            .records
            .iter()
            .filter_map(|r| match r {
                JournalRecord::End { plan, .. } => Some(*plan),
                _ => None,
            })
            .collect();
        latest
            .into_iter()
            .map(|(index, (n, item))| {
                let own: Vec<StepRecord> = steps.get(&index).cloned().unwrap_or_default();
                let lost = own
                    .iter()
                    .any(|s| matches!(s.outcome.as_deref(), None | Some("unknown")));
                let (status, reason, finished) = match item.predicted {
                    Predicted::WouldChange => {
                        item_status(item, &own, ended.contains(&n), &self.plans[n].names)
                    }
                    // Sent by an interrupted run, its answer lost, and a resume found it
                    // done: this run made the change.
                    Predicted::Unchanged if n > 0 && lost => (
                        item.word.done().to_owned(),
                        Some("its answer was lost; the resume found it done".to_owned()),
                        true,
                    ),
                    // Its state could not be read: nothing was sent, a resume tries again.
                    _ => (
                        item.status().to_owned(),
                        item.reason.clone(),
                        !item.is_left(),
                    ),
                };
                ItemReport {
                    index,
                    item: item.item.clone(),
                    status,
                    reason,
                    steps: own,
                    finished,
                }
            })
            .collect()
    }

    /// The items a resume should plan again: sent and unanswered, unknown, or not reached.
    pub fn unfinished(&self) -> Vec<ItemReport> {
        self.report().into_iter().filter(|r| !r.finished).collect()
    }

    /// What a resume of one-target-per-item plans (closes, removes) plans again: each
    /// unfinished item's index with the target the last plan wanted, and that plan's
    /// options marked with the number of resumes.
    pub fn unfinished_targets<T: DeserializeOwned>(&self) -> Result<Resumed<T>> {
        let last = &self.plans[self.plans.len() - 1];
        let mut targets = Vec::new();
        for report in self.unfinished() {
            if let Some(item) = last.items.iter().find(|i| i.index == report.index) {
                let target: T = serde_json::from_value((*item.wanted).clone()).map_err(|e| {
                    Error::invalid(format!("the journal's plan cannot be read: {e}"))
                })?;
                targets.push((item.index, Ok(target)));
            }
        }
        let mut options = last.options.clone();
        options.insert("resumes".into(), json!(self.plans.len()));
        Ok((targets, options))
    }
}

/// The outcome of an item that was to change, from its journaled steps.
fn item_status(
    item: &PlanItem,
    steps: &[StepRecord],
    ended: bool,
    names: &BTreeMap<String, String>,
) -> (String, Option<String>, bool) {
    // The steps of this item in this plan: the last `item.steps.len()` records that match.
    let ours: Vec<&StepRecord> = item
        .steps
        .iter()
        .filter_map(|action| steps.iter().rev().find(|s| s.action == *action))
        .collect();
    if let Some(stop) = ours
        .iter()
        .find(|s| matches!(s.outcome.as_deref(), Some("failed" | "skipped" | "unknown")))
    {
        let status = stop.outcome.clone().unwrap_or_default();
        let finished = status != "unknown";
        let reason = format!(
            "{}: {}",
            stop.action.name(),
            stop.reason.clone().unwrap_or_default()
        );
        return (status, Some(reason), finished);
    }
    if let Some(open) = ours.iter().find(|s| s.outcome.is_none()) {
        return (
            "unknown".into(),
            Some(format!(
                "{}: sent, and the run was interrupted before its answer was journaled",
                open.action.name()
            )),
            false,
        );
    }
    if ours.len() == item.steps.len() {
        // Every step found things already so (as `nothing_changed` in applying).
        if !ours.is_empty()
            && ours
                .iter()
                .all(|s| s.outcome.as_deref() == Some("unchanged"))
        {
            let why = ours.last().and_then(|s| s.reason.clone());
            return ("unchanged".into(), why, true);
        }
        let confirmed = ours.iter().find_map(|s| {
            s.reason
                .clone()
                .filter(|_| s.outcome.as_deref() != Some("unchanged"))
        });
        return (item.word.done().to_owned(), confirmed, true);
    }
    if ended {
        return ("skipped".into(), Some("not done".into()), true);
    }
    if ours.is_empty() {
        let reason = "the run was interrupted before this item: nothing was sent for it";
        return ("skipped".into(), Some(reason.into()), false);
    }
    // Part of it went through: the item is changed on the server, not as planned.
    let done: Vec<String> = ours
        .iter()
        .map(|s| s.action.describe_named(names))
        .collect();
    let left: Vec<String> = item
        .steps
        .iter()
        .filter(|a| !ours.iter().any(|s| s.action == **a))
        .map(|a| a.describe_named(names))
        .collect();
    let reason = format!(
        "the run was interrupted part way: done: {}; not sent: {}; a resume finishes it",
        done.join("; "),
        left.join("; ")
    );
    ("unknown".into(), Some(reason), false)
}
