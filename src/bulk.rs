//! Bulk operations: every item ends with its own outcome, in the order the items were given,
//! and one failure never stops the others. Changes are planned and applied by `plan`; this
//! module holds what that builds on: the outcomes, the bounded runner (`run_ordered`), and
//! settling a change whose answer was lost by a re-read of the state (`settle_unknown`).

use std::collections::HashMap;
use std::future::Future;

use futures::stream::{self, StreamExt};

use crate::error::Error;

/// What happened to one item of a bulk operation.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Done; the word says what ("closed", "changed", "released"...).
    Done(&'static str),
    /// Already as asked; nothing was sent for it.
    Unchanged(String),
    /// A dry run: this is what would be done.
    WouldDo(&'static str),
    /// Left alone on purpose, with the reason.
    Skipped(String),
    /// Tried or refused, with the error.
    Failed(Error),
    /// Sent, and what the server did is not known (an `Error::OutcomeUnknown`): its answer
    /// was lost and re-reading the state could not confirm it.
    Unknown(Error),
    /// Done, as re-reading the state showed after the answer was lost; the word and why.
    Confirmed(&'static str, String),
}

/// What re-reading the state says of an item whose outcome was unknown.
pub enum Reread {
    /// The state is as the change asked.
    Done,
    /// The state is not (yet) as asked: what it is.
    NotDone(String),
    /// The state could not be read.
    Failed(Error),
}

impl Outcome {
    /// The outcome of a change that was sent: done (`word`), unknown, or failed.
    pub fn of(result: Result<(), Error>, word: &'static str) -> Outcome {
        match result {
            Ok(()) => Outcome::Done(word),
            Err(err @ Error::OutcomeUnknown { .. }) => Outcome::Unknown(err),
            Err(err) => Outcome::Failed(err),
        }
    }

    /// An unknown outcome settled by a re-read of the state: confirmed as `word` when the
    /// state is as asked; otherwise still unknown, with what the re-read found.
    pub fn settle(self, reread: Reread, word: &'static str) -> Outcome {
        let Outcome::Unknown(Error::OutcomeUnknown { url, cause }) = self else {
            return self;
        };
        match reread {
            Reread::Done => Outcome::Confirmed(
                word,
                format!("{cause}; re-reading the state showed it done"),
            ),
            Reread::NotDone(state) => Outcome::Unknown(Error::OutcomeUnknown {
                url,
                cause: format!("{cause}; re-reading the state showed {state}"),
            }),
            Reread::Failed(err) => Outcome::Unknown(Error::OutcomeUnknown {
                url,
                cause: format!(
                    "{cause}; re-reading the state failed too ({})",
                    err.reason()
                ),
            }),
        }
    }

    /// A single change's outcome as its result: an error when it failed or stayed unknown.
    pub fn into_result(self) -> Result<(), Error> {
        match self {
            Outcome::Failed(err) | Outcome::Unknown(err) => Err(err),
            _ => Ok(()),
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_))
    }

    /// The status word reported to the caller.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Done(word) | Outcome::Confirmed(word, _) => word,
            Outcome::Unknown(_) => "unknown",
            Outcome::Unchanged(_) => "unchanged",
            Outcome::WouldDo(word) => word,
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Outcome::Done(_) | Outcome::WouldDo(_) => None,
            Outcome::Unchanged(reason)
            | Outcome::Skipped(reason)
            | Outcome::Confirmed(_, reason) => Some(reason.clone()),
            Outcome::Failed(err) | Outcome::Unknown(err) => Some(err.reason()),
        }
    }
}

/// Run `work` over `items`, at most `concurrency` at a time, and return the results in item order.
/// Items complete in any order: a slow one holds only its own slot, never the items behind it.
pub async fn run_ordered<T, R, F, Fut>(items: Vec<T>, concurrency: usize, mut work: F) -> Vec<R>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = R>,
{
    let count = items.len();
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(count).collect();
    let mut done = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| {
            let future = work(item);
            async move { (index, future.await) }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((index, result)) = done.next().await {
        slots[index] = Some(result);
    }
    // Every index was filled exactly once by the loop above.
    slots.into_iter().flatten().collect()
}

/// Settle the unknown outcomes among `outcomes` by re-reading the state: `key` names what
/// to re-read for an item, and `reread` reads them all (in the order given) and says of
/// each whether it is as the change (`word`) asked.
pub async fn settle_unknown<K, Fut>(
    outcomes: &mut [Outcome],
    key: impl Fn(usize) -> Option<K>,
    word: &'static str,
    reread: impl FnOnce(Vec<K>) -> Fut,
) where
    Fut: Future<Output = Vec<Reread>>,
{
    let (unknown, keys): (Vec<usize>, Vec<K>) = outcomes
        .iter()
        .enumerate()
        .filter(|(_, outcome)| outcome.is_unknown())
        .filter_map(|(i, _)| key(i).map(|k| (i, k)))
        .unzip();
    if unknown.is_empty() {
        return;
    }
    log::info!("re-reading {} items whose answer was lost", unknown.len());
    for (i, found) in unknown.into_iter().zip(reread(keys).await) {
        let outcome = std::mem::replace(&mut outcomes[i], Outcome::Skipped(String::new()));
        outcomes[i] = outcome.settle(found, word);
    }
}

/// How many items are re-read at once to settle outcomes whose answer was lost.
pub const REREAD_CONCURRENCY: usize = 8;

/// [`settle_unknown`] for items re-read one at a time: `sent` names what to re-read for
/// each item sent, and `read` re-reads one.
pub async fn settle_each<K, Fut>(
    outcomes: &mut [Outcome],
    sent: &HashMap<usize, K>,
    word: &'static str,
    read: impl FnMut(K) -> Fut,
) where
    K: Clone,
    Fut: Future<Output = Reread>,
{
    settle_unknown(
        outcomes,
        |i| sent.get(&i).cloned(),
        word,
        |keys| run_ordered(keys, REREAD_CONCURRENCY, read),
    )
    .await;
}

/// A single change's result, settled by `read` when its answer was lost: Ok when the
/// change is done (or confirmed), else the error (`OutcomeUnknown` with what the re-read found).
pub async fn settle_one<Fut>(
    result: Result<(), Error>,
    word: &'static str,
    read: impl FnOnce() -> Fut,
) -> Result<(), Error>
where
    Fut: Future<Output = Reread>,
{
    settled(result, word, read).await.into_result()
}

/// A single change's outcome, settled by `read` when its answer was lost (a confirmation
/// keeps how it was confirmed).
pub async fn settled<Fut>(
    result: Result<(), Error>,
    word: &'static str,
    read: impl FnOnce() -> Fut,
) -> Outcome
where
    Fut: Future<Output = Reread>,
{
    let mut outcomes = [Outcome::of(result, word)];
    settle_unknown(
        &mut outcomes,
        |_| Some(()),
        word,
        |_| async move { vec![read().await] },
    )
    .await;
    let [outcome] = outcomes;
    outcome
}

/// Requests in flight at once: the most a caller may ask for.
pub const MAX_CONCURRENCY: usize = 256;

/// Check a concurrency setting given by a caller.
pub fn check_concurrency(concurrency: usize) -> Result<usize, Error> {
    check_concurrency_given(&concurrency.to_string(), Some(concurrency))
}

/// The one concurrency check, for a value as the caller gave it (`given`, for the message)
/// and read as a whole number where it is one.
pub fn check_concurrency_given(given: &str, concurrency: Option<usize>) -> Result<usize, Error> {
    match concurrency {
        Some(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {given}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn keeps_order_and_bounds_concurrency() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let items: Vec<u64> = (0..40).collect();
        let results = run_ordered(items, 5, |i| {
            let running = running.clone();
            let peak = peak.clone();
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Later items finish sooner, so ordering is really tested.
                tokio::time::sleep(Duration::from_millis(40 - i)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        })
        .await;
        assert_eq!(results, (0..40).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_item_delays_only_itself() {
        // 200 items, 4 at a time, each 10 ms, except item 3 which takes 2 s: in order
        // collection would hold three slots idle behind it for those 2 s.
        let started = tokio::time::Instant::now();
        let results = run_ordered((0..200u64).collect(), 4, |i| async move {
            let pause = if i == 3 { 2_000 } else { 10 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            i
        })
        .await;
        assert_eq!(results, (0..200).collect::<Vec<_>>());
        let elapsed = started.elapsed();
        // Three slots carry 199 items of 10 ms (about 0.67 s) while the fourth waits 2 s.
        assert!(elapsed < Duration::from_millis(2_100), "{elapsed:?}");
    }

    #[test]
    fn concurrency_is_bounded() {
        assert!(check_concurrency(0).is_err());
        assert!(check_concurrency(257).is_err());
        assert_eq!(check_concurrency(16).unwrap(), 16);
        let refused = check_concurrency_given("True", None)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("from 1 to 256, not True"), "{refused}");
    }
}
