//! The journal of an applied plan: JSON Lines, appended as applying goes and written out per
//! batch, so that Ctrl-C or a crash leaves a file that says exactly what was done.
//!
//! Records: `plan` (the plan applied; a resume appends the plan of what was left), `send`
//! (a step about to be sent: written before the request, so an interrupted run still shows
//! which changes may have happened), `result` (a step's outcome, with before and after),
//! and `end`. A last line cut short by a crash is ignored when reading.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, ItemOutcome, Plan, Predicted};
use crate::bulk::Outcome;
use crate::error::{Error, Result};
use crate::files;
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

/// A journal being written. One process at a time: it holds a lock (the file beside it,
/// `<journal>.lock`) while it exists.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// The ordinal of the plan being applied, and the items' places by position.
    current: Mutex<usize>,
    /// Steps journaled as sent, and those whose answer was journaled: for saying what a
    /// failed write leaves.
    sent: AtomicUsize,
    answered: AtomicUsize,
    /// Why a write failed: then nothing more is written, so nothing more is sent.
    broken: Mutex<Option<String>>,
    _lock: JournalLock,
}

impl Journal {
    /// A new journal, or an existing one to append to (a resume). The folder is made. A
    /// last line cut short by a crash (a full disk, a killed process) is cut off first, so
    /// that what is appended starts a line of its own.
    pub fn create(path: &Path) -> Result<Journal> {
        let cannot = |e: std::io::Error| {
            Error::invalid(format!("cannot write the journal {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::private_dir_all(dir).map_err(cannot)?;
        }
        let lock = JournalLock::take(path)?;
        let plans = if path.exists() {
            Journal::read(path)?.plans.len()
        } else {
            0
        };
        let file = files::private_append(path).map_err(cannot)?;
        end_cleanly(&file).map_err(cannot)?;
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            current: Mutex::new(plans),
            sent: AtomicUsize::new(0),
            answered: AtomicUsize::new(0),
            broken: Mutex::new(None),
            _lock: lock,
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
        let mut broken = self.broken.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(why) = broken.as_deref() {
            return Err(self.cannot_write(why));
        }
        // One write per batch: the lines of a batch land together.
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| {
                let why = broken.insert(e.to_string());
                self.cannot_write(why)
            })
    }

    /// What a failed write leaves, and how to finish: in words for the person running it.
    fn cannot_write(&self, why: &str) -> Error {
        let path = self.path.display();
        let sent = self.sent.load(Ordering::SeqCst);
        let unanswered = sent.saturating_sub(self.answered.load(Ordering::SeqCst));
        let message = if sent == 0 {
            format!("cannot write the journal {path} ({why}): nothing was sent")
        } else {
            format!(
                "cannot write the journal {path} ({why}): the run stopped sending. {sent} \
                 step(s) were sent and journaled as sent; the answers of up to {unanswered} of \
                 them could not be written, and those read as unknown. Make room (or make the \
                 folder writable), then finish with `gislicense journal resume {path} --apply` \
                 (or Plan.resume): it reads each item's state again before sending anything"
            )
        };
        Error::Journal {
            path: path.to_string(),
            message,
        }
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
        self.write(&records)?;
        self.sent.fetch_add(records.len(), Ordering::SeqCst);
        Ok(())
    }

    /// The answers to steps `wave` that were sent, each with its item's position in the
    /// plan.
    pub fn results<'a>(
        &self,
        plan: &Plan,
        wave: usize,
        outcomes: impl IntoIterator<Item = (usize, &'a Outcome)>,
    ) -> Result<()> {
        let records = self.result_records(plan, wave, outcomes);
        self.write(&records)?;
        self.answered.fetch_add(records.len(), Ordering::SeqCst);
        Ok(())
    }

    /// One step's outcome, for a step stopped before it was sent.
    pub fn result(
        &self,
        plan: &Plan,
        position: usize,
        wave: usize,
        outcome: &Outcome,
    ) -> Result<()> {
        self.write(&self.result_records(plan, wave, [(position, outcome)]))
    }

    fn result_records<'a>(
        &self,
        plan: &Plan,
        wave: usize,
        outcomes: impl IntoIterator<Item = (usize, &'a Outcome)>,
    ) -> Vec<JournalRecord> {
        let ordinal = self.ordinal();
        let time_ms = now_ms();
        outcomes
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
            .collect()
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
        let bytes = std::fs::read(path).map_err(|e| {
            Error::invalid(format!("cannot read the journal {}: {e}", path.display()))
        })?;
        // Lossy: a line cut short may end inside a character.
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut records = Vec::with_capacity(lines.len());
        for (n, line) in lines.iter().enumerate() {
            match read_line(line) {
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
        if let Some(newer) = plans.iter().find(|p| p.format > super::FORMAT) {
            return Err(Error::invalid(format!(
                "{} was written by a newer gislicense (plan format {}; this one reads up to \
                 {}): upgrade gislicense to read it",
                path.display(),
                newer.format,
                super::FORMAT
            )));
        }
        Ok(JournalRead { plans, records })
    }
}

/// One line. A line that starts with the cut-off rest of a record (written before a crash,
/// then appended to by a gislicense that did not cut it off first) is read from where its
/// last whole record starts.
fn read_line(line: &str) -> serde_json::Result<JournalRecord> {
    serde_json::from_str(line).or_else(|err| match line.rfind("{\"event\":").filter(|&at| at > 0) {
        Some(at) => {
            let record = serde_json::from_str(&line[at..]).map_err(|_| err)?;
            log::warn!("a journal line began with a record cut short; it is ignored");
            Ok(record)
        }
        None => Err(err),
    })
}

/// Cut a last line that a crash left without its end, so that what is appended next starts
/// a line of its own: the file reads the same (a cut last line is ignored) before and after.
fn end_cleanly(mut file: &File) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Back to the last newline: the cut line is at most one batch's records.
    let mut text = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut text)?;
    let keep = text
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    log::warn!(
        "the journal's last line was cut short ({} bytes); it is cut off before appending",
        text.len() - keep
    );
    file.set_len(keep as u64)
}

/// The lock of a journal being written: one process at a time applies a journal (two
/// resumes of one run at once would send the same changes twice). The lock is the file
/// `<journal>.lock`, held locked while the journal is written; the operating system lets it
/// go when the process ends however it ends.
struct JournalLock {
    path: PathBuf,
    _file: File,
}

impl JournalLock {
    fn take(journal: &Path) -> Result<JournalLock> {
        let mut name = journal.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let cannot = |e: std::io::Error| {
            Error::invalid(format!(
                "cannot lock the journal {}: {e}",
                journal.display()
            ))
        };
        let mut attempts = 0;
        loop {
            let file = files::private_append(&path).map_err(cannot)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Journal {
                        path: journal.display().to_string(),
                        message: format!(
                            "the journal {} is being written by another run (it holds {}): \
                             nothing was sent; one run at a time may apply a journal: wait \
                             for that one to end, then resume",
                            journal.display(),
                            path.display()
                        ),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(cannot(e)),
            }
            // The lock file of a run that just ended may have been removed after this one
            // opened it: then this lock is on a file no longer there; take the new one's.
            attempts += 1;
            if same_file(&file, &path) || attempts == 3 {
                return Ok(JournalLock { path, _file: file });
            }
        }
    }
}

impl Drop for JournalLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run locks a file about to go.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
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
                    Predicted::WouldChange => {
                        item_status(item, &own, ended.contains(&n), &self.plans[n].names)
                    }
                    // Sent by an interrupted run, its answer lost, and a resume found it
                    // done: this run made the change.
                    Predicted::Unchanged if n > 0 && lost => (
                        item.word.clone(),
                        Some("its answer was lost; the resume found it done".to_owned()),
                        true,
                    ),
                    // Its state could not be read: nothing was sent, a resume tries again.
                    _ => (item.status(), item.reason.clone(), !item.is_left()),
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
        return (item.word.clone(), confirmed, true);
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
