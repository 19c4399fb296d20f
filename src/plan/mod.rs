//! Change plans: the one way every change runs.
//!
//! Planning reads the state a change needs and predicts, item by item, what the server will
//! do: the steps an item needs (a role before a user type, a release before either), or why
//! it is unchanged, skipped or will fail. A dry run is the plan, not applied. Applying runs
//! the steps in waves (every item's first step, then every item's second...), reversible steps
//! before irreversible ones, and an irreversible step only for an item whose state is still as
//! planned; it journals every step (`journal.rs`) as it goes, so an interrupted run leaves a
//! record that can be resumed or undone (`Journal::read`).
//!
//! The planners live with what they change: `portal.rs` (members: user types, roles,
//! entitlements, releases) and `openlm.rs` (closing sessions). Both hand the engine an
//! [`Executor`] that sends one batch of steps.

pub mod journal;
pub mod oneshot;
pub mod openlm;
pub mod portal;
pub mod recheck;

use std::collections::hash_map::{Entry, HashMap};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bulk::{self, Outcome};
use crate::error::{Error, Result};
use crate::openlm::CloseTarget;
pub use journal::{Journal, JournalRecord};

/// The plan file format; a newer file is refused rather than misread.
pub const FORMAT: u32 = 1;

/// One step of one item: what it changes, from what, to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A member's role (role ids).
    Role {
        username: String,
        from: String,
        to: String,
    },
    /// A member's user type (ids).
    UserType {
        username: String,
        from: String,
        to: String,
    },
    /// A member's level (1 or 2), on a portal before user types (10.7).
    Level { username: String, from: u8, to: u8 },
    /// A member's entitlements under one license (its listing's item id).
    Entitlements {
        username: String,
        license: String,
        title: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Release the license of `app` (an appId) that the member checked out for offline use.
    Release { username: String, app: String },
    /// Close the application holding an OpenLM session.
    Close { session: CloseTarget },
}

impl Action {
    /// The step's name in reports and journals.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Role { .. } => "role",
            Action::UserType { .. } => "user_type",
            Action::Level { .. } => "level",
            Action::Entitlements { .. } => "entitlements",
            Action::Release { .. } => "release",
            Action::Close { .. } => "close",
        }
    }

    /// What the step does, done.
    pub fn word(&self) -> &'static str {
        match self {
            Action::Role { .. } | Action::UserType { .. } | Action::Level { .. } => "changed",
            Action::Entitlements { to, .. } if to.is_empty() => "revoked",
            Action::Entitlements { .. } => "assigned",
            Action::Release { .. } => "released",
            Action::Close { .. } => "closed",
        }
    }

    /// Whether undoing it is possible: a closed application or a released check-out is gone.
    pub fn reversible(&self) -> bool {
        !matches!(self, Action::Release { .. } | Action::Close { .. })
    }

    /// The member it changes, or the session's user.
    pub fn username(&self) -> &str {
        match self {
            Action::Role { username, .. }
            | Action::UserType { username, .. }
            | Action::Level { username, .. }
            | Action::Entitlements { username, .. }
            | Action::Release { username, .. } => username,
            Action::Close { session } => &session.username,
        }
    }

    /// Whom or what the step is about.
    pub fn subject(&self) -> String {
        match self {
            Action::Role { username, .. }
            | Action::UserType { username, .. }
            | Action::Level { username, .. }
            | Action::Entitlements { username, .. }
            | Action::Release { username, .. } => username.clone(),
            Action::Close { session } => session.describe(),
        }
    }

    /// The value before and after, as the journal records them.
    pub fn before_after(&self) -> (Value, Value) {
        match self {
            Action::Role { from, to, .. } | Action::UserType { from, to, .. } => {
                (Value::from(from.as_str()), Value::from(to.as_str()))
            }
            Action::Level { from, to, .. } => (Value::from(*from), Value::from(*to)),
            Action::Entitlements { from, to, .. } => {
                (Value::from(from.clone()), Value::from(to.clone()))
            }
            Action::Release { app, .. } => (
                Value::from(format!("{app} checked out")),
                Value::from("released"),
            ),
            Action::Close { .. } => (Value::from("open"), Value::from("closed")),
        }
    }

    /// One line for people: "role org_user → iAAAAAAAAAAAAAAA".
    pub fn describe(&self) -> String {
        self.describe_named(&BTreeMap::new())
    }

    /// One line for people, with the ids of user types and roles given by the names in
    /// `names` where it has them (a plan's `names`): "role User → Viewer". The one wording
    /// of a step: the facade shows these words, it does not make its own.
    pub fn describe_named(&self, names: &BTreeMap<String, String>) -> String {
        let name = |id: &String| names.get(id).unwrap_or(id).clone();
        match self {
            Action::Role { from, to, .. } => format!("role {} → {}", name(from), name(to)),
            Action::UserType { from, to, .. } => {
                format!("user type {} → {}", name(from), name(to))
            }
            Action::Level { from, to, .. } => format!("level {from} → {to}"),
            Action::Entitlements {
                title, from, to, ..
            } => {
                format!(
                    "{title} entitlements [{}] → [{}]",
                    from.join(", "),
                    to.join(", ")
                )
            }
            Action::Release { app, .. } => format!("release the {app} license checked out"),
            Action::Close { session } => format!("close {}", session.describe()),
        }
    }
}

/// What planning predicts for an item. Applying gives the same, with `would_x` done as `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicted {
    /// The steps will be sent.
    WouldChange,
    /// Already as asked: nothing is sent.
    Unchanged,
    /// Left alone: named twice, or its state could not be read (the reason says which).
    Skipped,
    /// The server would refuse it (or a guard does): nothing is sent.
    Failed,
}

/// One item of a plan: what was named, what it needs, what is predicted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanItem {
    /// The item's place among the items first given (kept through resumes).
    pub index: usize,
    /// The item as named: a user name, or a session.
    pub item: String,
    pub predicted: Predicted,
    /// What applying it does, done ("changed", "released", "closed"...).
    pub word: String,
    pub reason: Option<String>,
    pub steps: Vec<Action>,
    /// What the item should end as, for the planner that made it (resume plans it again).
    #[serde(default)]
    /// Shared: 5,000 items changed alike share one.
    pub wanted: Arc<Value>,
    /// For a predicted failure: what kind of refusal, so it reports the error the server's
    /// own refusal would have given.
    #[serde(default)]
    pub refusal: Refusal,
}

/// The kind of a predicted failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The request would be refused as it stands (no seat, a role the type cannot hold, a
    /// guard): `InvalidInput`.
    #[default]
    Invalid,
    /// What it names does not exist (not a member): `NotFound`.
    NotFound,
    /// The signed-in account may not make this change: `PermissionDenied`.
    Permission,
    /// The state the item needs could not be read (a listing that failed): the read's own
    /// error, by its kind. Nothing is sent, and the item stays unfinished: a resume plans it
    /// again.
    Unread(String),
}

impl PlanItem {
    pub fn new(
        index: usize,
        item: impl Into<String>,
        word: &str,
        wanted: impl Into<Arc<Value>>,
    ) -> PlanItem {
        PlanItem {
            index,
            item: item.into(),
            predicted: Predicted::WouldChange,
            word: word.to_owned(),
            reason: None,
            steps: Vec::new(),
            wanted: wanted.into(),
            refusal: Refusal::Invalid,
        }
    }

    /// The names a selection finds it by: its own, and a session's user and workstation.
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec![self.item.as_str()];
        // A session's, kept in what it was wanted as even when no step is planned.
        for key in ["username", "workstation"] {
            names.extend(self.wanted.get(key).and_then(Value::as_str));
        }
        for step in &self.steps {
            match step {
                Action::Close { session } => {
                    names.extend([session.username.as_str(), session.workstation.as_str()])
                }
                other => names.push(other.username()),
            }
        }
        names
    }

    /// Predict that it fails because what it names does not exist.
    pub fn not_found(&mut self, reason: impl Into<String>) {
        self.end(Predicted::Failed, reason);
        self.refusal = Refusal::NotFound;
    }

    /// Predict that it fails because the signed-in account may not make it.
    pub fn denied(&mut self, reason: impl Into<String>) {
        self.end(Predicted::Failed, reason);
        self.refusal = Refusal::Permission;
    }

    /// It cannot be predicted: `err` stopped the read of what it needs. It is not sent, and
    /// stays unfinished for a resume.
    pub fn unread(&mut self, what: &str, err: &Error) {
        if let Error::PermissionDenied { .. } = err {
            return self.denied(format!(
                "{what} could not be read: the signed-in account may not read it ({}); \
                 changing members needs an administrator",
                err.reason()
            ));
        }
        self.end(
            Predicted::Failed,
            format!(
                "cannot predict: {what} could not be read ({}); nothing was sent: a resume \
                 tries it again",
                err.reason()
            ),
        );
        self.refusal = Refusal::Unread(err.kind().to_owned());
    }

    /// Whether it was left for a resume: its state could not be read.
    pub fn is_left(&self) -> bool {
        matches!(self.refusal, Refusal::Unread(_)) && self.predicted == Predicted::Failed
    }

    pub fn end(&mut self, predicted: Predicted, reason: impl Into<String>) {
        self.predicted = predicted;
        self.reason = Some(reason.into());
        self.steps.clear();
    }

    /// The predicted status as reported: `would_changed` is spelled `would_change`.
    pub fn status(&self) -> String {
        match self.predicted {
            Predicted::WouldChange => would(&self.word).to_owned(),
            Predicted::Unchanged => "unchanged".into(),
            Predicted::Skipped => "skipped".into(),
            Predicted::Failed => "failed".into(),
        }
    }
}

/// A plan: what was asked, of which service, and each item's prediction and steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    /// "update_license_type", "update_role", "provision", "release", "release_and_update",
    /// "close_applications", "undo".
    pub operation: String,
    /// The portal or OpenLM server the plan is for.
    pub service: String,
    /// When it was made, ms since 1970.
    pub created_ms: i64,
    /// What was asked, for people and for planning again.
    pub options: serde_json::Map<String, Value>,
    /// What planning could not read or check, and what it assumed instead.
    pub notes: Vec<String>,
    pub items: Vec<PlanItem>,
    /// The names people know the ids in the steps by (user types, roles): for showing the
    /// plan ("role User → Viewer"); the steps keep the ids the server takes.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub names: std::collections::BTreeMap<String, String>,
}

impl Plan {
    pub fn new(operation: &str, service: &str, options: serde_json::Map<String, Value>) -> Plan {
        Plan {
            format: FORMAT,
            operation: operation.to_owned(),
            service: service.to_owned(),
            created_ms: crate::portal::now_ms(),
            options,
            notes: Vec::new(),
            items: Vec::new(),
            names: Default::default(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Each item's steps for people, in the names the plan knows the ids by.
    pub fn step_descriptions(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .map(|item| {
                let words = item.steps.iter().map(|s| s.describe_named(&self.names));
                words.collect()
            })
            .collect()
    }

    pub fn from_json(text: &str) -> Result<Plan> {
        let plan: Plan = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("this is not a gislicense plan: {e}")))?;
        if plan.format > FORMAT {
            return Err(Error::invalid(format!(
                "this plan was written by a newer gislicense (format {}); upgrade to apply it",
                plan.format
            )));
        }
        Ok(plan)
    }

    /// The plan's outcomes, not applied: a dry run.
    pub fn predictions(&self) -> Vec<ItemOutcome> {
        self.items
            .iter()
            .map(|item| {
                let steps = item
                    .steps
                    .iter()
                    .map(|s| (s.name(), Outcome::WouldDo(would(s.word()))))
                    .collect();
                (settled(item, &self.service), steps)
            })
            .collect()
    }

    /// The plan with only the items named in `keep` (all of them when None), less those named
    /// in `exclude`: an item is named by its name (a user name), or a session's user or
    /// workstation, in any letter case. A name in `keep` that names no item is refused: a
    /// typo must not shrink a change silently.
    pub fn select(&self, keep: Option<&[String]>, exclude: &[String]) -> Result<Plan> {
        let fold = |names: &[String]| -> Vec<String> {
            names.iter().map(|n| n.trim().to_lowercase()).collect()
        };
        let (keep, exclude) = (keep.map(fold), fold(exclude));
        let named = |item: &PlanItem, names: &[String]| {
            item.names()
                .iter()
                .any(|n| names.contains(&n.to_lowercase()))
        };
        if let Some(keep) = &keep {
            let missing: Vec<&String> = keep
                .iter()
                .filter(|name| {
                    !self
                        .items
                        .iter()
                        .any(|i| named(i, std::slice::from_ref(*name)))
                })
                .collect();
            if !missing.is_empty() {
                let missing: Vec<&str> = missing.iter().map(|n| n.as_str()).collect();
                return Err(Error::invalid(format!(
                    "not in this plan: {}; its items are named by user name (or a session's \
                     workstation)",
                    missing.join(", ")
                )));
            }
        }
        let mut selected = self.clone();
        selected.items.retain(|item| {
            keep.as_ref().is_none_or(|keep| named(item, keep)) && !named(item, &exclude)
        });
        Ok(selected)
    }

    /// Refuse a plan for another service than the client's.
    pub fn check_service(&self, url: &str) -> Result<()> {
        if self.service.trim_end_matches('/') == url.trim_end_matches('/') {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "this plan is for {}, not {url}: apply it with a client of that server",
                self.service
            )))
        }
    }
}

/// An item's outcome, and each of its steps' (named).
pub type ItemOutcome = (Outcome, Vec<(&'static str, Outcome)>);

/// The words of done things, as the static strings outcomes carry.
const WORDS: &[&str] = &["changed", "assigned", "revoked", "released", "closed"];

fn word(text: &str) -> &'static str {
    WORDS
        .iter()
        .find(|w| **w == text)
        .copied()
        .unwrap_or("changed")
}

/// "would_change" for "changed", "would_close" for "closed"...
pub fn would(done: &str) -> &'static str {
    match done {
        "assigned" => "would_assign",
        "revoked" => "would_revoke",
        "released" => "would_release",
        "closed" => "would_close",
        _ => "would_change",
    }
}

/// The outcome of an item whose prediction is final (nothing to send), or its dry-run form.
fn settled(item: &PlanItem, service: &str) -> Outcome {
    let reason = item.reason.clone().unwrap_or_default();
    let url = service.to_owned();
    match (item.predicted, &item.refusal) {
        (Predicted::WouldChange, _) => Outcome::WouldDo(would(&item.word)),
        (Predicted::Unchanged, _) => Outcome::Unchanged(reason),
        (Predicted::Skipped, _) => Outcome::Skipped(reason),
        (Predicted::Failed, Refusal::Invalid) => Outcome::Failed(Error::invalid(reason)),
        (Predicted::Failed, Refusal::NotFound) => Outcome::Failed(Error::NotFound {
            url,
            message: reason,
        }),
        (Predicted::Failed, Refusal::Permission) => Outcome::Failed(Error::PermissionDenied {
            url,
            message: reason,
        }),
        (Predicted::Failed, Refusal::Unread(kind)) => {
            Outcome::Failed(Error::of_kind(kind, &url, reason))
        }
    }
}

/// What re-reading an item's state before an irreversible step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// As planned: the step goes.
    AsPlanned,
    /// Changed since planning, as said: the item stops there, skipped.
    Changed(String),
    /// Already as the step would make it, as said (a session closed meanwhile): nothing is
    /// sent, and an item with no step done before ends unchanged.
    AlreadySo(String),
}

/// What the engine needs of a service to apply steps.
pub trait Executor: Sync {
    /// Steps with the same key may share one request, at most `most` of them.
    fn batch_key(&self, action: &Action) -> (String, usize);

    /// Send one batch of steps (all of one key); one outcome each, in order, with answers
    /// that were lost settled by re-reading the state.
    fn run(&self, batch: Vec<Action>) -> impl Future<Output = Vec<Outcome>> + Send;

    /// Whether [`Executor::recheck`] also runs before an irreversible step that ends its
    /// item. Worth it when one read checks a whole wave (a listing of the open sessions
    /// before closes, for a plan saved and applied later); not when it costs a request per
    /// item, which would double the requests of a last step.
    const RECHECKS_LAST_STEPS: bool = false;

    /// Before an irreversible step: whether each item's state is still as the step and
    /// those after it expect.
    fn recheck(
        &self,
        items: Vec<(Action, Vec<Action>)>,
    ) -> impl Future<Output = Vec<Recheck>> + Send;

    /// Settle, once all of a wave's steps were sent, the steps whose answer was lost: one
    /// outcome each, in order. Executors whose re-read is cheap per batch settle in `run`,
    /// and theirs pass through unchanged; closes are settled here, by one listing between
    /// them.
    fn settle(&self, lost: Vec<(Action, Outcome)>) -> impl Future<Output = Vec<Outcome>> + Send {
        async move { lost.into_iter().map(|(_, outcome)| outcome).collect() }
    }
}

/// How far applying has got: items finished, of all.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub total: AtomicUsize,
}

impl Progress {
    pub fn get(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Apply a plan: the items' steps in waves, journaled; one outcome per item.
pub async fn apply<E: Executor>(
    plan: &Plan,
    executor: &E,
    journal: Option<&Journal>,
    concurrency: usize,
    progress: Option<&Progress>,
) -> Result<Vec<ItemOutcome>> {
    let concurrency = bulk::check_concurrency(concurrency)?;
    if let Some(journal) = journal {
        journal.plan(plan)?;
    }
    let mut results: Vec<ItemOutcome> = plan
        .items
        .iter()
        .map(|item| match item.predicted {
            Predicted::WouldChange => (Outcome::Done(word(&item.word)), Vec::new()),
            _ => (settled(item, &plan.service), Vec::new()),
        })
        .collect();
    if let Some(progress) = progress {
        progress.total.store(plan.items.len(), Ordering::Relaxed);
        let finished = plan
            .items
            .iter()
            .filter(|i| i.predicted != Predicted::WouldChange || i.steps.is_empty())
            .count();
        progress.done.store(finished, Ordering::Relaxed);
    }
    // Items still going, by place among the plan's items.
    let mut going: Vec<bool> = plan
        .items
        .iter()
        .map(|i| i.predicted == Predicted::WouldChange)
        .collect();
    let waves = plan.items.iter().map(|i| i.steps.len()).max().unwrap_or(0);
    for wave in 0..waves {
        let mut now: Vec<usize> = (0..plan.items.len())
            .filter(|&i| going[i] && plan.items[i].steps.len() > wave)
            .collect();
        // An irreversible step goes only where the state the steps after it start from is
        // still as planned (a release before a user-type change). A last step is re-checked
        // only where one read serves the whole wave (see `RECHECKS_LAST_STEPS`).
        let irreversible: Vec<usize> = now
            .iter()
            .copied()
            .filter(|&i| {
                let steps = &plan.items[i].steps;
                !steps[wave].reversible() && (E::RECHECKS_LAST_STEPS || steps.len() > wave + 1)
            })
            .collect();
        if !irreversible.is_empty() {
            let checks = executor
                .recheck(
                    irreversible
                        .iter()
                        .map(|&i| {
                            let steps = &plan.items[i].steps;
                            (steps[wave].clone(), steps[wave + 1..].to_vec())
                        })
                        .collect(),
                )
                .await;
            let mut already_so = vec![false; plan.items.len()];
            for (&i, check) in irreversible.iter().zip(checks) {
                let (outcome, ends_item) = match check {
                    Recheck::AsPlanned => continue,
                    // Nothing to send for this step; the item goes on with its others.
                    Recheck::AlreadySo(why) => {
                        already_so[i] = true;
                        let outcome = Outcome::Unchanged(format!("{why} since planning"));
                        results[i]
                            .1
                            .push((plan.items[i].steps[wave].name(), outcome.clone()));
                        (outcome, wave + 1 == plan.items[i].steps.len())
                    }
                    Recheck::Changed(changed) => {
                        going[i] = false;
                        let reason =
                            format!("changed since planning: {changed}; nothing more was done");
                        let outcome = Outcome::Skipped(reason);
                        stop_item(&mut results[i], plan, i, wave, outcome.clone());
                        (outcome, true)
                    }
                };
                if let Some(journal) = journal {
                    journal.result(plan, i, wave, &outcome)?;
                }
                if let (Some(progress), true) = (progress, ends_item) {
                    progress.done.fetch_add(1, Ordering::Relaxed);
                }
            }
            now.retain(|&i| going[i] && !already_so[i]);
        }
        // Batches of steps that may share a request, in item order.
        let mut groups: Vec<(String, usize, Vec<usize>)> = Vec::new();
        for &i in &now {
            let (key, most) = executor.batch_key(&plan.items[i].steps[wave]);
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, members)) => members.push(i),
                None => groups.push((key, most.max(1), vec![i])),
            }
        }
        let batches: Vec<Vec<usize>> = groups
            .into_iter()
            .flat_map(|(_, most, members)| {
                members
                    .chunks(most)
                    .map(<[usize]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        let ran = bulk::run_ordered(batches, concurrency, |batch| async move {
            let actions: Vec<Action> = batch
                .iter()
                .map(|&i| plan.items[i].steps[wave].clone())
                .collect();
            // Written before sending: an interrupted run still shows what may have changed.
            // A journal that cannot be written stops the run: nothing goes unjournaled.
            if let Some(journal) = journal {
                journal.sending(plan, &batch, wave)?;
            }
            let outcomes = executor.run(actions).await;
            if let Some(journal) = journal {
                // Lost answers are journaled once the wave's settling has had its look.
                let answered = batch
                    .iter()
                    .copied()
                    .zip(&outcomes)
                    .filter(|(_, outcome)| !outcome.is_unknown());
                journal.results(plan, wave, answered)?;
            }
            // Counted as each batch lands, not at the wave's end: a wave may be all of a run.
            // A lost answer is counted once settled (it may let the item go on).
            count_ended(
                progress,
                plan,
                wave,
                batch.iter().copied().zip(&outcomes),
                false,
            );
            Ok::<_, Error>(batch.into_iter().zip(outcomes).collect::<Vec<_>>())
        })
        .await;
        let mut outcomes: Vec<(usize, Outcome)> = Vec::with_capacity(now.len());
        for batch in ran {
            outcomes.extend(batch?);
        }
        let lost: Vec<usize> = (0..outcomes.len())
            .filter(|&n| outcomes[n].1.is_unknown())
            .collect();
        if !lost.is_empty() {
            let settled = executor
                .settle(
                    lost.iter()
                        .map(|&n| {
                            let (i, outcome) = &outcomes[n];
                            (plan.items[*i].steps[wave].clone(), outcome.clone())
                        })
                        .collect(),
                )
                .await;
            for (&n, outcome) in lost.iter().zip(settled) {
                outcomes[n].1 = outcome;
            }
            let settled = || lost.iter().map(|&n| (outcomes[n].0, &outcomes[n].1));
            if let Some(journal) = journal {
                journal.results(plan, wave, settled())?;
            }
            count_ended(progress, plan, wave, settled(), true);
        }
        for (i, outcome) in outcomes {
            let item = &plan.items[i];
            if matches!(
                outcome,
                Outcome::Failed(_) | Outcome::Unknown(_) | Outcome::Skipped(_)
            ) {
                stop_item(&mut results[i], plan, i, wave, outcome);
                going[i] = false;
                continue;
            }
            if let Outcome::Confirmed(_, how) = &outcome {
                // The item's outcome says how its lost answer was settled.
                results[i].0 = Outcome::Confirmed(word(&item.word), how.clone());
            }
            results[i].1.push((item.steps[wave].name(), outcome));
        }
    }
    for result in &mut results {
        if let Some(why) = nothing_changed(result) {
            result.0 = Outcome::Unchanged(why);
        }
    }
    if let Some(journal) = journal {
        journal.end(plan, &results)?;
    }
    Ok(results)
}

/// An item done whose every step found things already so changed nothing: it is unchanged,
/// for the last step's reason (a session closed between planning and applying).
fn nothing_changed(result: &ItemOutcome) -> Option<String> {
    let (Outcome::Done(_), steps) = result else {
        return None;
    };
    if steps.is_empty() {
        return None;
    }
    let mut why = None;
    for (_, outcome) in steps {
        match outcome {
            Outcome::Unchanged(reason) => why = Some(reason.clone()),
            _ => return None,
        }
    }
    why
}

/// Count the items whose step `wave` ended them: failed, skipped, or done with their last
/// step. Unknown outcomes wait for settling unless `settled` (then they end the item too).
fn count_ended<'a>(
    progress: Option<&Progress>,
    plan: &Plan,
    wave: usize,
    outcomes: impl IntoIterator<Item = (usize, &'a Outcome)>,
    settled: bool,
) {
    let Some(progress) = progress else { return };
    let ended = outcomes
        .into_iter()
        .filter(|(i, outcome)| match outcome {
            Outcome::Unknown(_) => settled,
            Outcome::Failed(_) | Outcome::Skipped(_) => true,
            _ => wave + 1 == plan.items[*i].steps.len(),
        })
        .count();
    progress.done.fetch_add(ended, Ordering::Relaxed);
}

/// End an item at step `wave` with `outcome`: the overall outcome says which steps went
/// through before it, and the steps after it are skipped.
fn stop_item(result: &mut ItemOutcome, plan: &Plan, i: usize, wave: usize, outcome: Outcome) {
    let item = &plan.items[i];
    let step = item.steps[wave].name();
    let done: Vec<String> = item.steps[..wave]
        .iter()
        .map(|a| a.describe_named(&plan.names))
        .collect();
    let before = if done.is_empty() {
        String::new()
    } else {
        format!(" (done before it: {})", done.join("; "))
    };
    result.0 = match &outcome {
        Outcome::Failed(err) => Outcome::Failed(with_context(err, step, &before)),
        Outcome::Unknown(err) => Outcome::Unknown(with_context(err, step, &before)),
        other => Outcome::Skipped(format!(
            "{step}: {}{before}",
            other.reason().unwrap_or_default()
        )),
    };
    result.1.push((step, outcome));
    for later in &item.steps[wave + 1..] {
        result.1.push((
            later.name(),
            Outcome::Skipped(format!("the {step} step did not go through")),
        ));
    }
}

/// An error of one step, saying the step and what went through before it; the variant (and
/// so the Python exception) stays.
fn with_context(err: &Error, step: &str, before: &str) -> Error {
    if before.is_empty() && step.is_empty() {
        return err.clone();
    }
    match err.clone() {
        Error::InvalidInput(m) => Error::InvalidInput(format!("{step}: {m}{before}")),
        Error::OutcomeUnknown { url, cause } => Error::OutcomeUnknown {
            url,
            cause: format!("{step}: {cause}{before}"),
        },
        Error::Server {
            url,
            status,
            code,
            message,
            details,
        } => Error::Server {
            url,
            status,
            code,
            message: format!("{step}: {message}{before}"),
            details,
        },
        other if before.is_empty() => other,
        other => Error::InvalidInput(format!("{step}: {}{before}", other.reason())),
    }
}

/// Items named twice: among the items still to change, one with the same `key` as an earlier
/// one is skipped, `repeat` saying why (given the earlier one's index).
pub fn skip_repeats(
    items: &mut [PlanItem],
    key: impl Fn(&PlanItem) -> String,
    repeat: impl Fn(usize) -> String,
) {
    let mut first: HashMap<String, usize> = HashMap::new();
    for item in items.iter_mut() {
        if item.predicted != Predicted::WouldChange {
            continue;
        }
        match first.entry(key(item)) {
            Entry::Occupied(earlier) => item.end(Predicted::Skipped, repeat(*earlier.get())),
            Entry::Vacant(slot) => {
                slot.insert(item.index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Runs steps against a map of values; fails the names in `refuse`.
    struct Fake {
        state: Mutex<HashMap<String, String>>,
        refuse: Vec<String>,
        sent: Mutex<Vec<String>>,
    }

    impl Fake {
        fn refusing(names: &[&str]) -> Fake {
            Fake {
                state: Mutex::new(HashMap::new()),
                refuse: names.iter().map(|n| (*n).to_owned()).collect(),
                sent: Mutex::new(Vec::new()),
            }
        }
    }

    impl Executor for Fake {
        fn batch_key(&self, action: &Action) -> (String, usize) {
            (action.name().to_owned(), 2)
        }

        async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
            batch
                .into_iter()
                .map(|action| {
                    let who = action.subject();
                    self.sent
                        .lock()
                        .unwrap()
                        .push(format!("{}:{who}", action.name()));
                    if self.refuse.contains(&who) {
                        return Outcome::Failed(Error::invalid("refused"));
                    }
                    if let Action::UserType { to, .. } | Action::Role { to, .. } = &action {
                        self.state.lock().unwrap().insert(who, to.clone());
                    }
                    Outcome::Done(action.word())
                })
                .collect()
        }

        async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
            items
                .iter()
                .map(|(a, _)| {
                    if a.subject() == "moved" {
                        Recheck::Changed("moved on".into())
                    } else {
                        Recheck::AsPlanned
                    }
                })
                .collect()
        }
    }

    fn member(index: usize, name: &str, steps: Vec<Action>) -> PlanItem {
        let mut item = PlanItem::new(index, name, "changed", Value::Null);
        item.steps = steps;
        item
    }

    fn role(name: &str) -> Action {
        Action::Role {
            username: name.into(),
            from: "org_user".into(),
            to: "viewer".into(),
        }
    }

    fn user_type(name: &str) -> Action {
        Action::UserType {
            username: name.into(),
            from: "creatorUT".into(),
            to: "viewerUT".into(),
        }
    }

    fn release(name: &str) -> Action {
        Action::Release {
            username: name.into(),
            app: "arcgisprodesktop".into(),
        }
    }

    #[tokio::test]
    async fn a_failed_step_stops_its_item_and_says_what_went_through() {
        let mut plan = Plan::new("test", "https://x", Default::default());
        plan.items = vec![
            member(0, "ann", vec![role("ann"), user_type("ann")]),
            member(
                1,
                "bob",
                vec![role("bob"), release("bob"), user_type("bob")],
            ),
            member(
                2,
                "moved",
                vec![role("moved"), release("moved"), user_type("moved")],
            ),
            member(3, "cy", vec![]),
            // A lone release has nothing after it to check: it is not re-read (here a
            // re-read would say "moved on"), only sent.
            member(4, "moved", vec![release("moved")]),
        ];
        plan.items[3].end(Predicted::Failed, "no seat left");
        let fake = Fake::refusing(&["bob"]);
        let dir = std::env::temp_dir().join(format!("gislicense-plan-{}", std::process::id()));
        let path = dir.join("journal.jsonl");
        let journal = Journal::create(&path).unwrap();
        let progress = Progress::default();
        let results = apply(&plan, &fake, Some(&journal), 4, Some(&progress))
            .await
            .unwrap();
        // Every item counted once: failed, changed, predicted, and found changed alike.
        assert_eq!(progress.get(), (5, 5));
        let statuses: Vec<&str> = results.iter().map(|(o, _)| o.status()).collect();
        assert_eq!(
            statuses,
            ["changed", "failed", "skipped", "failed", "changed"]
        );
        // bob failed at the role step: no release, no user type.
        assert!(!fake.sent.lock().unwrap().iter().any(|s| s == "release:bob"));
        // moved changed its role, then was found changed: no release for item 2; the
        // one release sent is item 4's.
        let moved = results[2].0.reason().unwrap();
        assert!(moved.contains("role org_user → viewer"), "{moved}");
        let releases = fake
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| *s == "release:moved")
            .count();
        assert_eq!(releases, 1);
        // The journal rebuilds the same outcomes.
        let read = Journal::read(&path).unwrap();
        let rebuilt = read.report();
        assert_eq!(
            rebuilt
                .iter()
                .map(|r| r.status.as_str())
                .collect::<Vec<_>>(),
            statuses
        );
        assert!(read.finished());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The fake, re-checking last steps too, finding "gone…" members' releases already so.
    struct Rechecking(Fake);

    impl Executor for Rechecking {
        const RECHECKS_LAST_STEPS: bool = true;

        fn batch_key(&self, action: &Action) -> (String, usize) {
            self.0.batch_key(action)
        }

        async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
            self.0.run(batch).await
        }

        async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
            items
                .iter()
                .map(|(a, _)| match a.subject() {
                    gone if gone.starts_with("gone") => {
                        Recheck::AlreadySo("the license was released".into())
                    }
                    _ => Recheck::AsPlanned,
                })
                .collect()
        }
    }

    #[tokio::test]
    async fn a_step_found_already_so_is_not_sent_and_the_item_goes_on() {
        let mut plan = Plan::new("test", "https://x", Default::default());
        plan.items = vec![
            member(0, "gone", vec![release("gone")]),
            member(1, "gone2", vec![release("gone2"), user_type("gone2")]),
            member(2, "here", vec![release("here")]),
        ];
        let fake = Rechecking(Fake::refusing(&[]));
        let dir = std::env::temp_dir().join(format!("gislicense-plan-so-{}", std::process::id()));
        let path = dir.join("journal.jsonl");
        let journal = Journal::create(&path).unwrap();
        let progress = Progress::default();
        let results = apply(&plan, &fake, Some(&journal), 4, Some(&progress))
            .await
            .unwrap();
        assert_eq!(progress.get(), (3, 3));
        let statuses: Vec<&str> = results.iter().map(|(o, _)| o.status()).collect();
        // Nothing changed for "gone"; "gone2"'s user type still changed.
        assert_eq!(statuses, ["unchanged", "changed", "changed"]);
        assert_eq!(
            results[0].0.reason().as_deref(),
            Some("the license was released since planning")
        );
        // The releases are the first wave, the user type the second.
        assert_eq!(
            *fake.0.sent.lock().unwrap(),
            ["release:here", "user_type:gone2"]
        );
        let read = Journal::read(&path).unwrap();
        let rebuilt: Vec<String> = read.report().into_iter().map(|r| r.status).collect();
        assert_eq!(rebuilt, statuses);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn steps_are_described_in_the_names_the_plan_knows() {
        let mut plan = Plan::new("update_license_type", "https://x", Default::default());
        plan.items = vec![member(0, "ann", vec![role("ann"), user_type("ann")])];
        plan.names = [("creatorUT", "Creator"), ("viewerUT", "Viewer")]
            .map(|(id, name)| (id.to_owned(), name.to_owned()))
            .into();
        let words = plan.step_descriptions();
        assert_eq!(words[0][1], "user type Creator → Viewer");
        // An id the plan has no name for stays the id.
        assert_eq!(words[0][0], "role org_user → viewer");
        assert_eq!(
            user_type("ann").describe(),
            "user type creatorUT → viewerUT"
        );
    }

    /// The wire clients sit below the operations: none of their files names the plan engine.
    #[test]
    fn wire_modules_know_nothing_of_plans() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for folder in ["portal", "openlm"] {
            for entry in std::fs::read_dir(root.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().map(str::trim) {
                    let names_plans = line.contains("crate::plan") || line.contains("super::plan");
                    assert!(!names_plans, "{}: {line}", path.display());
                }
            }
        }
    }

    #[test]
    fn plans_round_trip_as_json() {
        let mut plan = Plan::new("update_role", "https://x", Default::default());
        plan.items = vec![member(0, "ann", vec![role("ann")])];
        let back = Plan::from_json(&plan.to_json()).unwrap();
        assert_eq!(back.items[0].steps, plan.items[0].steps);
        assert_eq!(back.items[0].status(), "would_change");
        assert!(Plan::from_json("{}").is_err());
        let mut newer = plan.clone();
        newer.format = FORMAT + 1;
        assert!(Plan::from_json(&newer.to_json()).is_err());
    }
}
