//! The journal of an applied plan: JSON Lines, appended as applying goes and written out per
//! batch, so that Ctrl-C or a crash leaves a file that says exactly what was done.
//!
//! Records: `plan` (the plan applied; a resume appends the plan of what was left), `send`
//! (a step about to be sent: written before the request, so an interrupted run still shows
//! which changes may have happened), `result` (a step's outcome, with before and after),
//! and `end`. A last line cut short by a crash is ignored when reading.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod read;

pub use read::{ItemReport, JournalRead, StepRecord};

use super::{Action, ItemOutcome, Plan};
use crate::bulk::Outcome;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::files;

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
