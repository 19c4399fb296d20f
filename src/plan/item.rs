//! An item of a plan: what was named, what is predicted for it, and the steps it needs.

use std::collections::hash_map::{Entry, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, Verb};
use crate::error::Error;

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
    pub word: Verb,
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
        word: Verb,
        wanted: impl Into<Arc<Value>>,
    ) -> PlanItem {
        PlanItem {
            index,
            item: item.into(),
            predicted: Predicted::WouldChange,
            word,
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
                Action::Remove { license } => {
                    names.extend([license.username.as_str(), license.workstation.as_str()])
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
    pub fn status(&self) -> &'static str {
        match self.predicted {
            Predicted::WouldChange => self.word.would(),
            Predicted::Unchanged => "unchanged",
            Predicted::Skipped => "skipped",
            Predicted::Failed => "failed",
        }
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
