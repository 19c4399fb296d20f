//! Planning and applying `lmremove`s of License Manager (FlexNet) sessions: the same plan,
//! journal and outcomes as OpenLM closes (operation `close_applications`, verb `closed`).
//!
//! Planning reads one `lmstat`: a session no longer listed is unchanged, a borrowed one is
//! predicted to fail (lmremove cannot take back a borrowed license before its borrow period
//! ends), and with `keep_free` only as many of each feature's sessions, longest-running
//! first, as it takes to leave that many licenses free are closed (FlexNet knows each
//! feature's issued count; it has no idle time). Applying sends `lmremove -h` for each, and
//! a close is `closed` only when a fresh `lmstat` no longer shows the handle.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::journal::JournalRead;
use super::{skip_repeats, Action, Executor, Operation, Plan, PlanItem, Predicted, Recheck, Verb};
use crate::bulk::Outcome;
use crate::error::{Error, Result};
use crate::flexnet::{FlexNet, RemoveTarget, Session, Status};

/// What a close sent and not yet seen done says, until a fresh lmstat settles it.
const SENT: &str = "lmremove was accepted";

/// Plan removing `items` (their places are their indexes).
pub async fn plan_close(
    client: &FlexNet,
    items: Vec<Result<RemoveTarget>>,
    allow_all: bool,
    keep_free: Option<u32>,
) -> Result<Plan> {
    let mut options = Map::new();
    if let Some(n) = keep_free {
        options.insert("keep_free".into(), json!(n));
    }
    plan_indexed(
        client,
        items.into_iter().enumerate().collect(),
        allow_all,
        options,
    )
    .await
}

async fn plan_indexed(
    client: &FlexNet,
    items: Vec<(usize, Result<RemoveTarget>)>,
    allow_all: bool,
    options: Map<String, Value>,
) -> Result<Plan> {
    let mut plan = Plan::new(Operation::CloseApplications, client.server(), options);
    let listed = client.status().await;
    if let Err(err) = &listed {
        plan.notes.push(format!(
            "the sessions could not be listed ({})",
            err.reason()
        ));
    }
    for (index, target) in items {
        let target = target.and_then(|t| t.validate().map(|()| t));
        let (name, wanted) = match &target {
            Ok(t) => (t.describe(), serde_json::to_value(t).unwrap_or(Value::Null)),
            Err(_) => (String::new(), Value::Null),
        };
        let mut item = PlanItem::new(index, name, Verb::Closed, wanted);
        match (target, &listed) {
            (Err(err), _) => item.end(Predicted::Failed, err.reason()),
            (Ok(_), Err(err)) => item.unread("the sessions", err),
            (Ok(target), Ok(status)) => match status.sessions.iter().find(|s| target.is(s)) {
                None => item.end(Predicted::Unchanged, "the session is no longer open"),
                Some(s) if s.borrowed => item.end(
                    Predicted::Failed,
                    "the license is borrowed: lmremove cannot take it back before its borrow period ends",
                ),
                Some(_) => item.steps.push(Action::Remove { license: target }),
            },
        }
        plan.items.push(item);
    }
    skip_repeats(
        &mut plan.items,
        |item| key_of(item).unwrap_or_default(),
        |first| format!("the same session as item {first}, which closes it"),
    );
    if let Ok(status) = &listed {
        if let Some(n) = plan.options.get("keep_free").and_then(Value::as_u64) {
            keep_free(
                &mut plan.items,
                status,
                u32::try_from(n).unwrap_or(u32::MAX),
            );
        }
        let closing = plan
            .items
            .iter()
            .filter(|i| i.predicted == Predicted::WouldChange)
            .count();
        if !allow_all && closing > 1 && closing >= status.sessions.len() {
            return Err(Error::invalid(format!(
                "this would close every open session on the License Manager ({closing}); \
                 if that is meant, pass allow_all=True"
            )));
        }
    }
    Ok(plan)
}

fn target_of(item: &PlanItem) -> Option<&RemoveTarget> {
    item.steps.iter().find_map(|s| match s {
        Action::Remove { license } => Some(license),
        _ => None,
    })
}

fn key_of(item: &PlanItem) -> Option<String> {
    target_of(item).map(|t| {
        format!(
            "{}/{}/{}/{}",
            t.feature,
            t.server.to_lowercase(),
            t.port,
            t.handle
        )
    })
}

/// Leaves each feature's closes to the fewest, longest-running first, that leave `keep`
/// licenses free; the others are skipped, saying why.
fn keep_free(items: &mut [PlanItem], status: &Status, keep: u32) {
    let mut by_feature: HashMap<String, Vec<(usize, &Session)>> = HashMap::new();
    for (at, item) in items.iter().enumerate() {
        if item.predicted != Predicted::WouldChange {
            continue;
        }
        if let Some(session) =
            target_of(item).and_then(|t| status.sessions.iter().find(|s| t.is(s)))
        {
            by_feature
                .entry(session.feature().to_owned())
                .or_default()
                .push((at, session));
        }
    }
    for (feature, mut closing) in by_feature {
        let totals = status.features.iter().find(|f| f.name == feature);
        let (Some(issued), Some(in_use)) =
            (totals.and_then(|f| f.issued), totals.and_then(|f| f.in_use))
        else {
            for (at, _) in closing {
                items[at].end(
                    Predicted::Skipped,
                    format!("the License Manager gives no total for {feature}, so keep_free cannot be judged"),
                );
            }
            continue;
        };
        let free = issued.saturating_sub(in_use);
        let mut needed = keep.saturating_sub(free);
        // Longest-running first; a start not known goes last.
        closing.sort_by_key(|(at, s)| (s.start.is_none(), s.start, *at));
        for (at, session) in closing {
            if needed == 0 {
                items[at].end(
                    Predicted::Skipped,
                    format!("not needed: {keep} licenses of {feature} are free without it (keep_free={keep})"),
                );
            } else {
                needed = needed.saturating_sub(session.licenses.max(1));
            }
        }
    }
}

/// Plan again the removes a journal left unfinished.
pub async fn plan_resume(client: &FlexNet, read: &JournalRead) -> Result<Plan> {
    read.plans[0].check_service(client.server())?;
    let (items, mut options) = read.unfinished_targets::<RemoveTarget>()?;
    // A resume finishes what was planned: the threshold was applied then.
    options.remove("keep_free");
    plan_indexed(client, items, true, options).await
}

/// Sends a plan's `lmremove`s, one at a time each batch. lmremove's silence is not proof:
/// once a wave was sent, one fresh `lmstat` settles them, `closed` only for a handle gone.
pub struct RemoveExecutor<'a>(pub &'a FlexNet);

impl Executor for RemoveExecutor<'_> {
    fn batch_key(&self, action: &Action) -> (String, usize) {
        (action.subject(), 1)
    }

    async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for action in batch {
            outcomes.push(match action {
                Action::Remove { license } => match self.0.remove(&license).await {
                    Ok(()) => Outcome::Unknown(Error::OutcomeUnknown {
                        url: self.0.server().to_owned(),
                        cause: SENT.to_owned(),
                    }),
                    Err(err @ Error::Server { .. }) => match self.0.status().await {
                        Ok(status) if !status.sessions.iter().any(|s| license.is(s)) => {
                            Outcome::Unchanged(format!(
                                "the session had already ended (lmremove answered: {})",
                                err.reason()
                            ))
                        }
                        _ => Outcome::Failed(err),
                    },
                    Err(err) => Outcome::of(Err(err.unknown_outcome()), "closed"),
                },
                other => Outcome::Failed(Error::invalid(format!(
                    "the License Manager cannot {}",
                    other.describe()
                ))),
            });
        }
        outcomes
    }

    const RECHECKS_LAST_STEPS: bool = true;

    async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
        let status = match self.0.status().await {
            Ok(status) => status,
            Err(err) => {
                log::warn!(
                    "{}: the sessions could not be listed again before lmremove ({}); removing as planned",
                    self.0.server(),
                    err.reason()
                );
                return items.iter().map(|_| Recheck::AsPlanned).collect();
            }
        };
        items
            .iter()
            .map(|(action, _)| match action {
                Action::Remove { license } if !status.sessions.iter().any(|s| license.is(s)) => {
                    Recheck::AlreadySo("the session was closed".into())
                }
                _ => Recheck::AsPlanned,
            })
            .collect()
    }

    async fn settle(&self, lost: Vec<(Action, Outcome)>) -> Vec<Outcome> {
        let status = self.0.status().await;
        lost.into_iter()
            .map(|(action, outcome)| {
                let Action::Remove { license } = &action else {
                    return outcome;
                };
                let sent = matches!(&outcome, Outcome::Unknown(Error::OutcomeUnknown { cause, .. }) if cause == SENT);
                match (&status, outcome) {
                    (Ok(s), Outcome::Unknown(err)) => {
                        let open = s.sessions.iter().any(|x| license.is(x));
                        match (open, sent) {
                            (false, true) => Outcome::Done("closed"),
                            (false, false) => Outcome::Confirmed(
                                "closed",
                                format!("{}; a fresh lmstat no longer shows the handle", err.reason()),
                            ),
                            (true, _) => Outcome::Unknown(Error::OutcomeUnknown {
                                url: self.0.server().to_owned(),
                                cause: format!(
                                    "{}, but a fresh lmstat still shows handle {}: the application may have checked the license out again",
                                    err.reason(),
                                    license.handle
                                ),
                            }),
                        }
                    }
                    (Err(read), Outcome::Unknown(_)) => Outcome::Unknown(Error::OutcomeUnknown {
                        url: self.0.server().to_owned(),
                        cause: format!("{SENT}, and lmstat could not be read to confirm it ({})", read.reason()),
                    }),
                    (_, other) => other,
                }
            })
            .collect()
    }
}
