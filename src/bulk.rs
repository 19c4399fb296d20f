//! Bounded-concurrency runner for bulk operations: every item ends with its own outcome,
//! in the order the items were given, and one failure never stops the others.

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
}

impl Outcome {
    /// The status word reported to the caller.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Done(word) => word,
            Outcome::Unchanged(_) => "unchanged",
            Outcome::WouldDo(word) => word,
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Outcome::Done(_) | Outcome::WouldDo(_) => None,
            Outcome::Unchanged(reason) | Outcome::Skipped(reason) => Some(reason.clone()),
            Outcome::Failed(err) => Some(err.reason()),
        }
    }
}

/// Run `work` over `items`, at most `concurrency` at a time, and return the results in item order.
pub async fn run_ordered<T, R, F, Fut>(items: Vec<T>, concurrency: usize, work: F) -> Vec<R>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = R>,
{
    stream::iter(items)
        .map(work)
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// Check a concurrency setting given by a caller.
pub fn check_concurrency(concurrency: usize) -> Result<usize, Error> {
    match concurrency {
        1..=256 => Ok(concurrency),
        _ => Err(Error::invalid(format!(
            "concurrency must be between 1 and 256, not {concurrency}"
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

    #[test]
    fn concurrency_is_bounded() {
        assert!(check_concurrency(0).is_err());
        assert!(check_concurrency(257).is_err());
        assert_eq!(check_concurrency(16).unwrap(), 16);
    }
}
