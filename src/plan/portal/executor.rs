//! Sending a plan's steps to a portal: user types in batches, entitlements in batches that
//! share a target, roles, levels and releases one member each; a lost answer settled by
//! reading the member again.

use std::collections::HashMap;

use crate::bulk::{self, Outcome, Reread};
use crate::error::Error;
use crate::plan::{Action, Executor, Recheck};
use crate::portal::licenses::{per_member_error, sorted, MAX_PROVISION_BATCH};
use crate::portal::user_types::has_user_type;
use crate::portal::users::{has_level, has_role};
use crate::portal::{App, Portal};

/// Sends a plan's steps to a portal.
pub struct PortalExecutor<'a> {
    pub portal: &'a Portal,
    /// Members per updateUserLicenseType request.
    pub batch_size: usize,
}

impl PortalExecutor<'_> {
    async fn user_types(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let (names, target): (Vec<String>, String) = match batch.first() {
            Some(Action::UserType { to, .. }) => {
                (batch.iter().map(Action::subject).collect(), to.clone())
            }
            _ => return Vec::new(),
        };
        let mut outcomes: Vec<Outcome> =
            match self.portal.update_user_license_type(&names, &target).await {
                Ok(per_user) => per_user
                    .into_iter()
                    .map(|(_, result)| Outcome::of(result, "changed"))
                    .collect(),
                Err(err) => names
                    .iter()
                    .map(|_| Outcome::of(Err(err.clone()), "changed"))
                    .collect(),
            };
        let sent: HashMap<usize, String> = names.into_iter().enumerate().collect();
        let is_done = has_user_type(&target);
        let is_done = &is_done;
        bulk::settle_each(&mut outcomes, &sent, "changed", |name| async move {
            self.portal.reread_member(&name, is_done).await
        })
        .await;
        outcomes
    }

    async fn role(&self, username: String, to: String) -> Outcome {
        let result = self.portal.update_user_role(&username, &to).await;
        let is_done = has_role(&to);
        bulk::settled(result, "changed", || {
            self.portal.reread_member(&username, &is_done)
        })
        .await
    }

    async fn level(&self, username: String, to: u8) -> Outcome {
        let result = self.portal.update_user_level(&username, to).await;
        let is_done = has_level(to);
        bulk::settled(result, "changed", || {
            self.portal.reread_member(&username, &is_done)
        })
        .await
    }

    async fn entitlements(&self, batch: Vec<Action>) -> Vec<Outcome> {
        let Some(Action::Entitlements { license, to, .. }) = batch.first().cloned() else {
            return Vec::new();
        };
        let word = batch[0].word().done();
        let names: Vec<String> = batch.iter().map(Action::subject).collect();
        let mut outcomes = match self
            .portal
            .provision_user_entitlements(&license, &names, &to)
            .await
        {
            Ok(()) => names.iter().map(|_| Outcome::Done(word)).collect(),
            // One member the portal refuses fails the whole request: send each alone.
            Err(err) if names.len() > 1 && per_member_error(&err) => {
                let mut alone = Vec::with_capacity(names.len());
                for name in &names {
                    let result = self
                        .portal
                        .provision_user_entitlements(&license, std::slice::from_ref(name), &to)
                        .await;
                    alone.push(Outcome::of(result, word));
                }
                alone
            }
            Err(err) => names
                .iter()
                .map(|_| Outcome::of(Err(err.clone()), word))
                .collect(),
        };
        let sent: HashMap<usize, String> = names.into_iter().enumerate().collect();
        let (license, to) = (&license, &to);
        bulk::settle_each(&mut outcomes, &sent, word, |name| async move {
            match self.portal.user_entitlement(license, &name).await {
                Ok(found) => {
                    let now = found.map(|f| sorted(&f.entitlements)).unwrap_or_default();
                    if now == *to {
                        Reread::Done
                    } else {
                        Reread::NotDone(format!("the member's entitlements are {now:?}"))
                    }
                }
                Err(err) => Reread::Failed(err),
            }
        })
        .await;
        outcomes
    }

    async fn release(&self, username: String, app: String) -> Outcome {
        let app = match App::parse(&app) {
            Ok(app) => app,
            Err(err) => return Outcome::Failed(err),
        };
        let sent = match self.portal.release_endpoint(app).await {
            Ok(endpoint) => self.portal.release_license(&endpoint, &username, app).await,
            Err(err) => Err(err),
        };
        bulk::settled(sent, "released", || async {
            match self.portal.license(app.title()).await {
                Ok(license) => self.portal.reread_release(&license, &username, app).await,
                Err(err) => Reread::Failed(err),
            }
        })
        .await
    }
}

impl Executor for PortalExecutor<'_> {
    fn batch_key(&self, action: &Action) -> (String, usize) {
        match action {
            Action::UserType { to, .. } => (format!("user_type {to}"), self.batch_size),
            Action::Entitlements { license, to, .. } => (
                format!("entitlements {license} {}", to.join(",")),
                self.batch_size.min(MAX_PROVISION_BATCH),
            ),
            other => (format!("{} {}", other.name(), other.subject()), 1),
        }
    }

    async fn run(&self, batch: Vec<Action>) -> Vec<Outcome> {
        match batch.first() {
            Some(Action::UserType { .. }) => self.user_types(batch).await,
            Some(Action::Entitlements { .. }) => self.entitlements(batch).await,
            _ => {
                let mut outcomes = Vec::with_capacity(batch.len());
                for action in batch {
                    outcomes.push(match action {
                        Action::Role { username, to, .. } => self.role(username, to).await,
                        Action::Level { username, to, .. } => self.level(username, to).await,
                        Action::Release { username, app } => self.release(username, app).await,
                        other => Outcome::Failed(Error::invalid(format!(
                            "a portal cannot {}",
                            other.describe()
                        ))),
                    });
                }
                outcomes
            }
        }
    }

    async fn recheck(&self, items: Vec<(Action, Vec<Action>)>) -> Vec<Recheck> {
        let checked = bulk::run_ordered(
            items,
            bulk::REREAD_CONCURRENCY,
            |(action, later)| async move {
                let user = match self.portal.get_user(&action.subject()).await {
                    Ok(user) => user,
                    Err(err) => {
                        return Err(format!(
                            "the member could not be read again ({})",
                            err.reason()
                        ))
                    }
                };
                for step in &later {
                    match step {
                        Action::UserType { from, .. }
                            if user.user_type() != Some(from.as_str()) =>
                        {
                            return Err(format!(
                                "their user type is now {}, not {from}",
                                user.user_type().unwrap_or("not stated")
                            ))
                        }
                        Action::Level { from, .. } if user.level() != Some(i64::from(*from)) => {
                            return Err(format!(
                                "their level is now {}, not {from}",
                                user.level()
                                    .map_or("not stated".to_owned(), |l| l.to_string())
                            ))
                        }
                        Action::Role { from, .. } if user.role_id() != Some(from.as_str()) => {
                            return Err(format!(
                                "their role is now {}, not {from}",
                                user.role_id().unwrap_or("not stated")
                            ))
                        }
                        _ => {}
                    }
                }
                Ok(())
            },
        )
        .await;
        checked
            .into_iter()
            .map(|check| check.map_or_else(Recheck::Changed, |()| Recheck::AsPlanned))
            .collect()
    }
}
