//! The apply engine against a fake service.

use std::collections::HashMap;

use serde_json::Value;

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
                Outcome::Done(action.word().done())
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
    let mut item = PlanItem::new(index, name, Verb::Changed, Value::Null);
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
    let mut plan = Plan::new(Operation::UpdateRole, "https://x", Default::default());
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
    let mut plan = Plan::new(Operation::UpdateRole, "https://x", Default::default());
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
    let mut plan = Plan::new(
        Operation::UpdateLicenseType,
        "https://x",
        Default::default(),
    );
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

#[test]
fn plans_round_trip_as_json() {
    let mut plan = Plan::new(Operation::UpdateRole, "https://x", Default::default());
    plan.items = vec![member(0, "ann", vec![role("ann")])];
    let back = Plan::from_json(&plan.to_json()).unwrap();
    assert_eq!(back.items[0].steps, plan.items[0].steps);
    assert_eq!(back.items[0].status(), "would_change");
    assert!(Plan::from_json("{}").is_err());
    let mut newer = plan.clone();
    newer.format = FORMAT + 1;
    assert!(Plan::from_json(&newer.to_json()).is_err());
}
