//! Applying a plan: its items' steps in waves (every item's first step, then every item's
//! second...), reversible steps before irreversible ones, an irreversible step only where
//! the item's state is still as planned, every step journaled as it goes.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Action, ItemOutcome, Journal, Plan, PlanItem, Predicted, Refusal};
use crate::bulk::{self, Outcome};
use crate::error::{Error, Result};

/// The outcome of an item whose prediction is final (nothing to send), or its dry-run form.
pub(super) fn settled(item: &PlanItem, service: &str) -> Outcome {
    let reason = item.reason.clone().unwrap_or_default();
    let url = service.to_owned();
    match (item.predicted, &item.refusal) {
        (Predicted::WouldChange, _) => Outcome::WouldDo(item.word.would()),
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
    let run = Run {
        plan,
        executor,
        journal,
        progress,
        concurrency,
    };
    let mut results: Vec<ItemOutcome> = plan
        .items
        .iter()
        .map(|item| match item.predicted {
            Predicted::WouldChange => (Outcome::Done(item.word.done()), Vec::new()),
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
        run.recheck(wave, &mut now, &mut results, &mut going)
            .await?;
        let mut outcomes = run.send(wave, &now).await?;
        run.settle_lost(wave, &mut outcomes).await?;
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
                results[i].0 = Outcome::Confirmed(item.word.done(), how.clone());
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

/// One apply: the plan, where its steps go, where they are journaled and counted.
struct Run<'a, E> {
    plan: &'a Plan,
    executor: &'a E,
    journal: Option<&'a Journal>,
    progress: Option<&'a Progress>,
    concurrency: usize,
}

impl<E: Executor> Run<'_, E> {
    /// An irreversible step goes only where the state the steps after it start from is
    /// still as planned (a release before a user-type change). A last step is re-checked
    /// only where one read serves the whole wave (see `RECHECKS_LAST_STEPS`). The items of
    /// `now` that stop here, or whose step is found already so, leave it.
    async fn recheck(
        &self,
        wave: usize,
        now: &mut Vec<usize>,
        results: &mut [ItemOutcome],
        going: &mut [bool],
    ) -> Result<()> {
        let plan = self.plan;
        let irreversible: Vec<usize> = now
            .iter()
            .copied()
            .filter(|&i| {
                let steps = &plan.items[i].steps;
                !steps[wave].reversible() && (E::RECHECKS_LAST_STEPS || steps.len() > wave + 1)
            })
            .collect();
        if irreversible.is_empty() {
            return Ok(());
        }
        let asked = irreversible.iter().map(|&i| {
            let steps = &plan.items[i].steps;
            (steps[wave].clone(), steps[wave + 1..].to_vec())
        });
        let checks = self.executor.recheck(asked.collect()).await;
        let mut already_so = vec![false; plan.items.len()];
        for (&i, check) in irreversible.iter().zip(checks) {
            let step = &plan.items[i].steps[wave];
            let (outcome, ends_item) = match check {
                Recheck::AsPlanned => continue,
                // Nothing to send for this step; the item goes on with its others.
                Recheck::AlreadySo(why) => {
                    already_so[i] = true;
                    let outcome = Outcome::Unchanged(format!("{why} since planning"));
                    results[i].1.push((step.name(), outcome.clone()));
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
            if let Some(journal) = self.journal {
                journal.result(plan, i, wave, &outcome)?;
            }
            if let (Some(progress), true) = (self.progress, ends_item) {
                progress.done.fetch_add(1, Ordering::Relaxed);
            }
        }
        now.retain(|&i| going[i] && !already_so[i]);
        Ok(())
    }

    /// Send step `wave` of the items `now`, in batches of steps that may share a request,
    /// `concurrency` at a time: each item's outcome, in item order.
    async fn send(&self, wave: usize, now: &[usize]) -> Result<Vec<(usize, Outcome)>> {
        let ran = bulk::run_ordered(self.batches(wave, now), self.concurrency, |batch| {
            self.send_batch(wave, batch)
        })
        .await;
        let mut outcomes: Vec<(usize, Outcome)> = Vec::with_capacity(now.len());
        for batch in ran {
            outcomes.extend(batch?);
        }
        Ok(outcomes)
    }

    /// Batches of steps that may share a request, in item order.
    fn batches(&self, wave: usize, now: &[usize]) -> Vec<Vec<usize>> {
        let mut groups: Vec<(String, usize, Vec<usize>)> = Vec::new();
        for &i in now {
            let (key, most) = self.executor.batch_key(&self.plan.items[i].steps[wave]);
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, members)) => members.push(i),
                None => groups.push((key, most.max(1), vec![i])),
            }
        }
        groups
            .into_iter()
            .flat_map(|(_, most, members)| {
                members
                    .chunks(most)
                    .map(<[usize]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Send one batch, journaled before and after.
    async fn send_batch(&self, wave: usize, batch: Vec<usize>) -> Result<Vec<(usize, Outcome)>> {
        let plan = self.plan;
        let actions: Vec<Action> = batch
            .iter()
            .map(|&i| plan.items[i].steps[wave].clone())
            .collect();
        // Written before sending: an interrupted run still shows what may have changed.
        // A journal that cannot be written stops the run: nothing goes unjournaled.
        if let Some(journal) = self.journal {
            journal.sending(plan, &batch, wave)?;
        }
        let outcomes = self.executor.run(actions).await;
        if let Some(journal) = self.journal {
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
        let landed = batch.iter().copied().zip(&outcomes);
        count_ended(self.progress, plan, wave, landed, false);
        Ok(batch.into_iter().zip(outcomes).collect())
    }

    /// Settle the steps of the wave whose answer was lost, once all were sent.
    async fn settle_lost(&self, wave: usize, outcomes: &mut [(usize, Outcome)]) -> Result<()> {
        let lost: Vec<usize> = (0..outcomes.len())
            .filter(|&n| outcomes[n].1.is_unknown())
            .collect();
        if lost.is_empty() {
            return Ok(());
        }
        let plan = self.plan;
        let asked = lost.iter().map(|&n| {
            let (i, outcome) = &outcomes[n];
            (plan.items[*i].steps[wave].clone(), outcome.clone())
        });
        let settled = self.executor.settle(asked.collect()).await;
        for (&n, outcome) in lost.iter().zip(settled) {
            outcomes[n].1 = outcome;
        }
        let settled = || lost.iter().map(|&n| (outcomes[n].0, &outcomes[n].1));
        if let Some(journal) = self.journal {
            journal.results(plan, wave, settled())?;
        }
        count_ended(self.progress, plan, wave, settled(), true);
        Ok(())
    }
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
