//! The journal of an applied plan: JSON Lines, appended as applying goes and written out per
//! batch, so that Ctrl-C or a crash leaves a file that says exactly what was done.
//!
//! Records: `plan` (the plan applied; a resume appends the plan of what was left), `send`
//! (a step about to be sent: written before the request, so an interrupted run still shows
//! which changes may have happened), `result` (a step's outcome, with before and after),
//! and `end`. A last line cut short by a crash is ignored when reading.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, ItemOutcome, Plan, Predicted};
use crate::bulk::Outcome;
use crate::error::{Error, Result};
use crate::portal::now_ms;

/// One line of a journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JournalRecord {
    Plan {
        time_ms: i64,
        plan: Plan,
    },
    Send {
        time_ms: i64,
        /// Which plan of the journal (0 the first, then one per resume).
        plan: usize,
        /// The item's place among the items first given.
        index: usize,
        item: String,
        step: String,
        action: Action,
    },
    Result {
        time_ms: i64,
        plan: usize,
        index: usize,
        item: String,
        step: String,
        before: Value,
        after: Value,
        outcome: String,
        reason: Option<String>,
        action: Action,
    },
    End {
        time_ms: i64,
        plan: usize,
        counts: BTreeMap<String, usize>,
    },
}

/// The `plan` line as written: the plan borrowed, not copied (a copy of 5,000 items took
/// half the time of writing it). Read back as [`JournalRecord::Plan`].
#[derive(Serialize)]
#[serde(tag = "event", rename = "plan")]
struct PlanLine<'a> {
    time_ms: i64,
    plan: &'a Plan,
}

/// A journal being written.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// The ordinal of the plan being applied, and the items' places by position.
    current: Mutex<usize>,
}

impl Journal {
    /// A new journal, or an existing one to append to (a resume). The folder is made.
    pub fn create(path: &Path) -> Result<Journal> {
        let cannot = |e: std::io::Error| {
            Error::invalid(format!("cannot write the journal {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(cannot)?;
        }
        let plans = if path.exists() {
            Journal::read(path)?.plans.len()
        } else {
            0
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(cannot)?;
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            current: Mutex::new(plans),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<R: Serialize>(&self, records: &[R]) -> Result<()> {
        let mut text = String::new();
        for record in records {
            text.push_str(&serde_json::to_string(record).unwrap_or_default());
            text.push('\n');
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // One write per batch: the lines of a batch land together.
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| {
                Error::invalid(format!(
                    "cannot write the journal {}: {e}",
                    self.path.display()
                ))
            })
    }

    fn ordinal(&self) -> usize {
        *self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The plan about to be applied.
    pub fn plan(&self, plan: &Plan) -> Result<()> {
        self.write(&[PlanLine {
            time_ms: now_ms(),
            plan,
        }])
    }

    /// Steps `wave` of the items at `positions` (in the plan) are about to be sent.
    pub fn sending(&self, plan: &Plan, positions: &[usize], wave: usize) -> Result<()> {
        let ordinal = self.ordinal();
        let time_ms = now_ms();
        let records: Vec<JournalRecord> = positions
            .iter()
            .map(|&i| {
                let item = &plan.items[i];
                let action = item.steps[wave].clone();
                JournalRecord::Send {
                    time_ms,
                    plan: ordinal,
                    index: item.index,
                    item: item.item.clone(),
                    step: action.name().to_owned(),
                    action,
                }
            })
            .collect();
        self.write(&records)
    }

    /// The outcomes of steps `wave`, each with its item's position in the plan.
    pub fn results<'a>(
        &self,
        plan: &Plan,
        wave: usize,
        outcomes: impl IntoIterator<Item = (usize, &'a Outcome)>,
    ) -> Result<()> {
        let ordinal = self.ordinal();
        let time_ms = now_ms();
        let records: Vec<JournalRecord> = outcomes
            .into_iter()
            .map(|(i, outcome)| {
                let item = &plan.items[i];
                let action = item.steps[wave].clone();
                let (before, after) = action.before_after();
                JournalRecord::Result {
                    time_ms,
                    plan: ordinal,
                    index: item.index,
                    item: item.item.clone(),
                    step: action.name().to_owned(),
                    before,
                    after,
                    outcome: outcome.status().to_owned(),
                    reason: outcome.reason(),
                    action,
                }
            })
            .collect();
        self.write(&records)
    }

    /// One step's outcome (a step stopped before it was sent).
    pub fn result(
        &self,
        plan: &Plan,
        position: usize,
        wave: usize,
        outcome: &Outcome,
    ) -> Result<()> {
        self.results(plan, wave, [(position, outcome)])
    }

    /// The plan is applied: counts of the items' outcomes.
    pub fn end(&self, _plan: &Plan, results: &[ItemOutcome]) -> Result<()> {
        let mut counts = BTreeMap::new();
        for (outcome, _) in results {
            *counts.entry(outcome.status().to_owned()).or_insert(0) += 1;
        }
        let ordinal = self.ordinal();
        self.write(&[JournalRecord::End {
            time_ms: now_ms(),
            plan: ordinal,
            counts,
        }])?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Ok(())
    }

    /// Read a journal; a last line cut short is ignored, any other unreadable line refused.
    pub fn read(path: &Path) -> Result<JournalRead> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid(format!("cannot read the journal {}: {e}", path.display()))
        })?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut records = Vec::with_capacity(lines.len());
        for (n, line) in lines.iter().enumerate() {
            match serde_json::from_str::<JournalRecord>(line) {
                Ok(record) => records.push(record),
                Err(_) if n + 1 == lines.len() && !text.ends_with('\n') => {
                    log::warn!("the journal's last line was cut short; it is ignored")
                }
                Err(e) => {
                    return Err(Error::invalid(format!(
                        "{} is not a gislicense journal (line {}: {e})",
                        path.display(),
                        n + 1
                    )))
                }
            }
        }
        let plans: Vec<Plan> = records
            .iter()
            .filter_map(|r| match r {
                JournalRecord::Plan { plan, .. } => Some(plan.clone()),
                _ => None,
            })
            .collect();
        if plans.is_empty() {
            return Err(Error::invalid(format!(
                "{} holds no plan: it is not a gislicense journal",
                path.display()
            )));
        }
        Ok(JournalRead { plans, records })
    }
}

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

/// A journal, read.
pub struct JournalRead {
    /// The plans applied: the first, then one per resume.
    pub plans: Vec<Plan>,
    pub records: Vec<JournalRecord>,
}

impl JournalRead {
    /// Whether the last plan applied ran to its end.
    pub fn finished(&self) -> bool {
        let last = self.plans.len() - 1;
        self.records
            .iter()
            .any(|r| matches!(r, JournalRecord::End { plan, .. } if *plan == last))
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
        let mut latest: BTreeMap<usize, (usize, &super::PlanItem)> = BTreeMap::new();
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
                    Predicted::WouldChange => item_status(item, &own, ended.contains(&n)),
                    // Sent by an interrupted run, its answer lost, and a resume found it
                    // done: this run made the change.
                    Predicted::Unchanged if n > 0 && lost => (
                        item.word.clone(),
                        Some("its answer was lost; the resume found it done".to_owned()),
                        true,
                    ),
                    _ => (item.status(), item.reason.clone(), true),
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
}

/// The outcome of an item that was to change, from its journaled steps.
fn item_status(
    item: &super::PlanItem,
    steps: &[StepRecord],
    ended: bool,
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
        return (item.word.clone(), confirmed, true);
    }
    let reason = if ended {
        return ("skipped".into(), Some("not done".into()), true);
    } else {
        let done: Vec<String> = ours.iter().map(|s| s.action.describe()).collect();
        if done.is_empty() {
            "the run was interrupted before this item".to_owned()
        } else {
            format!("the run was interrupted after: {}", done.join("; "))
        }
    };
    ("skipped".into(), Some(reason), false)
}
