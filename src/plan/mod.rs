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
//! The planners live with what they change: `portal/` (members: user types, roles,
//! entitlements, releases) and `openlm.rs` (closing sessions). Both hand the engine an
//! [`Executor`] that sends one batch of steps. What a plan is of ([`Operation`]), what its
//! steps do ([`Action`], [`Verb`]) and what is predicted ([`Predicted`]) are enums from the
//! planner to the binding; their names are the ones plan and journal files carry.

mod action;
mod apply;
pub mod flexnet;
mod item;
pub mod journal;
pub mod oneshot;
pub mod openlm;
mod operation;
pub mod portal;
pub mod recheck;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bulk::Outcome;
use crate::error::{Error, Result};
pub use action::{Action, Verb};
use apply::settled;
pub use apply::{apply, Executor, Progress, Recheck};
pub use item::{skip_repeats, PlanItem, Predicted, Refusal};
pub use journal::{Journal, JournalRecord};
pub use operation::{check_batch_size, Operation};

/// The plan file format; a newer file is refused rather than misread.
pub const FORMAT: u32 = 1;

/// A plan: what was asked, of which service, and each item's prediction and steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    /// What it changes; written as its name ("update_license_type"...).
    pub operation: Operation,
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
    pub fn new(
        operation: Operation,
        service: &str,
        options: serde_json::Map<String, Value>,
    ) -> Plan {
        Plan {
            format: FORMAT,
            operation,
            service: service.to_owned(),
            created_ms: crate::clock::now_ms(),
            options,
            notes: Vec::new(),
            items: Vec::new(),
            names: Default::default(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Each item's status as reported: `would_change` (`would_release`...), `unchanged`,
    /// `skipped` or `failed`.
    pub fn statuses(&self) -> Vec<&'static str> {
        self.items.iter().map(PlanItem::status).collect()
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
                    .map(|s| (s.name(), Outcome::WouldDo(s.word().would())))
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

#[cfg(test)]
mod tests;
