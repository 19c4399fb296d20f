//! Planning and applying closes of OpenLM sessions.
//!
//! Planning lists the sessions open now: a session no longer listed is unchanged (nothing to
//! close), one on a workstation the listing marks not closable (no OpenLM Agent) is predicted
//! to fail as the server would refuse it, and a plan that would close every open session is
//! refused unless asked for (`allow_all`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::journal::JournalRead;
use super::{skip_repeats, Action, Executor, Operation, Plan, PlanItem, Predicted, Recheck, Verb};
use crate::bulk::{self, Outcome};
use crate::error::{Error, Result};
use crate::openlm::client::QUEUED;
use crate::openlm::sessions::OpenSessions;
use crate::openlm::{CloseTarget, OpenLm};

/// Plan closing `items` (their places are their indexes).
pub async fn plan_close(
    client: &OpenLm,
    items: Vec<Result<CloseTarget>>,
    allow_all: bool,
) -> Result<Plan> {
    plan_indexed(
        client,
        items.into_iter().enumerate().collect(),
        allow_all,
        Map::new(),
    )
    .await
}

async fn plan_indexed(
    client: &OpenLm,
    items: Vec<(usize, Result<CloseTarget>)>,
    allow_all: bool,
    options: Map<String, Value>,
) -> Result<Plan> {
    let mut plan = Plan::new(Operation::CloseApplications, client.url(), options);
    let listed = client.sessions_now().await;
    // Each open session, and whether its workstation takes a close (None: not said).
    let open: std::result::Result<OpenSessions, &Error> = match &listed {
        Ok(products) => Ok(OpenSessions::of(products)),
        Err(err) => Err(err),
    };
    if let Err(err) = &open {
        plan.notes.push(format!(
            "the open sessions could not be listed ({})",
            err.reason()
        ));
    }
    let mut keys = Vec::with_capacity(items.len());
    for (index, target) in items {
        let target = target.and_then(|t| t.validate().map(|()| t));
        let (name, wanted) = match &target {
            Ok(t) => (t.describe(), serde_json::to_value(t).unwrap_or(Value::Null)),
            Err(_) => (String::new(), Value::Null),
        };
        let mut item = PlanItem::new(index, name, Verb::Closed, wanted);
        match target {
            Err(err) => item.end(Predicted::Failed, err.reason()),
            Ok(target) => {
                keys.push((index, target.session_key()));
                match &open {
                    Err(err) => item.unread("the open sessions", err),
                    Ok(open) => match open.find(&target) {
                        None => item.end(Predicted::Unchanged, "the session is no longer open"),
                        Some(Some(false)) => item.end(
                            Predicted::Failed,
                            format!(
                                "no OpenLM Agent on {}: the listing marks its sessions not closable",
                                target.workstation
                            ),
                        ),
                        Some(_) => item.steps.push(Action::Close { session: target }),
                    },
                }
            }
        }
        plan.items.push(item);
    }
    let keys: HashMap<usize, _> = keys.into_iter().collect();
    skip_repeats(
        &mut plan.items,
        |item| format!("{:?}", keys.get(&item.index)),
        |first| format!("the same session as item {first}, which closes it"),
    );
    if let Ok(products) = &listed {
        let closing = plan
            .items
            .iter()
            .filter(|i| i.predicted == Predicted::WouldChange)
            .count();
        if !allow_all && closing > 1 && closing >= products.len() {
            return Err(Error::invalid(format!(
                "this would close every open session on the server ({closing}); \
                 if that is meant, pass allow_all=True"
            )));
        }
    }
    Ok(plan)
}

/// Plan again the closes a journal left unfinished.
pub async fn plan_resume(client: &OpenLm, read: &JournalRead) -> Result<Plan> {
    read.plans[0].check_service(client.url())?;
    let (items, options) = read.unfinished_targets::<CloseTarget>()?;
    plan_indexed(client, items, true, options).await
}

/// Sends a plan's closes, one request each. OpenLM acknowledges a close once it has queued
/// it for the Agent on the workstation, so an acknowledged close is not yet done: once all
/// of a wave were sent, its acknowledged closes and those whose answer was lost are settled
/// together by watching the open sessions (one listing at a time, not one each) until
/// their sessions end or the client's `close_wait` is over. Closed is said only of a
/// session seen gone; one still open then stays unknown, with why.
pub struct CloseExecutor<'a> {
    client: &'a OpenLm,
    /// Whether the open sessions are listed again before the closes go (see `recheck`).
    reread: bool,
}

impl<'a> CloseExecutor<'a> {
    /// Closes of a plan made earlier (saved, selected, resumed): the open sessions are
    /// listed again before they go.
    pub fn new(client: &'a OpenLm) -> Self {
        CloseExecutor {
            client,
            reread: true,
        }
    }

    /// Closes of a plan this same call made a moment ago: its listing is the re-read just
    /// before the closes, so they go without a second one. Sound because the re-read only
    /// tells "closed meanwhile" from "refused": a session that ends between the plan's
    /// listing and its close is still told apart, by the one look a refused close takes
    /// (`run`), and every acknowledged close is still confirmed by the listings after it.
    pub fn planned_just_now(client: &'a OpenLm) -> Self {
        CloseExecutor {
            client,
            reread: false,
        }
    }
}

impl Executor for CloseExecutor<'_> {
    fn batch_key(&self, action: &Action) -> (String, usize) {
        (action.subject(), 1)
    }

    async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for action in batch {
            outcomes.push(match action {
                // Acknowledged is queued, not done: settled by watching the session end.
                Action::Close { session } => match self.client.send_close(&session).await {
                    Ok(()) => Outcome::Unknown(self.client.queued()),
                    // Refused: a session that ended meanwhile (its Agent acting on an
                    // earlier close) is no failure. Refusals are few: one look each.
                    Err(err @ Error::Server { .. }) => match self.client.open_sessions().await {
                        Ok(open) if !open.contains(&session) => Outcome::Unchanged(format!(
                            "the session had already ended (the server answered: {})",
                            err.reason()
                        )),
                        _ => Outcome::Failed(err),
                    },
                    Err(err) => Outcome::of(Err(err), "closed"),
                },
                other => Outcome::Failed(Error::invalid(format!(
                    "OpenLM cannot {}",
                    other.describe()
                ))),
            });
        }
        outcomes
    }

    // A plan saved and applied later must not report sessions closed meanwhile as failed
    // closes: one listing before the closes tells them apart, for the whole wave.
    const RECHECKS_LAST_STEPS: bool = true;

    /// Each close whose session the listing no longer shows is already so. A session still
    /// listed (or a listing that cannot be read) leaves the close as planned: the server
    /// judges it, as it would have without this look.
    async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
        if !self.reread {
            return items.iter().map(|_| Recheck::AsPlanned).collect();
        }
        let open = match self.client.open_sessions().await {
            Ok(open) => open,
            Err(err) => {
                log::warn!(
                    "{}: the open sessions could not be listed again before closing ({}); closing as planned",
                    self.client.url(),
                    err.reason()
                );
                return items.iter().map(|_| Recheck::AsPlanned).collect();
            }
        };
        items
            .iter()
            .map(|(action, _)| match action {
                Action::Close { session } if !open.contains(session) => {
                    Recheck::AlreadySo("the session was closed".into())
                }
                _ => Recheck::AsPlanned,
            })
            .collect()
    }

    async fn settle(&self, lost: Vec<(Action, Outcome)>) -> Vec<Outcome> {
        let (actions, mut outcomes): (Vec<Action>, Vec<Outcome>) = lost.into_iter().unzip();
        let queued: Vec<bool> = outcomes
            .iter()
            .map(|o| {
                matches!(o, Outcome::Unknown(Error::OutcomeUnknown { cause, .. }) if cause == QUEUED)
            })
            .collect();
        bulk::settle_unknown(
            &mut outcomes,
            |n| match &actions[n] {
                Action::Close { session } => Some(session),
                _ => None,
            },
            "closed",
            |sessions| async move { self.client.await_closed(&sessions).await },
        )
        .await;
        // A close acknowledged and seen done is plainly closed; only a lost answer settled
        // by the listing says how it was confirmed.
        for (outcome, queued) in outcomes.iter_mut().zip(queued) {
            if queued && matches!(outcome, Outcome::Confirmed(..)) {
                *outcome = Outcome::Done("closed");
            }
        }
        outcomes
    }
}
