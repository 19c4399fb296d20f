//! Paging through listings, for every client: the numbers a server sends (totals, offsets)
//! are bounded before they size anything, and a listing whose pages come without a total
//! ends when the pages stop bringing anything new; offsets that stop advancing are an error.

use std::collections::HashSet;
use std::future::Future;
use std::hash::{BuildHasher, Hash, RandomState};

use crate::bulk;

use crate::error::Error;

/// The most items gislicense reads from one listing. No organization or license server
/// comes near it; a server that claims more is not believed (a total of 2^64 - 1 once sized
/// a vector of page offsets and ended the process).
pub const MAX_LISTING_ITEMS: u64 = 5_000_000;

fn too_long(url: &str, problem: String) -> Error {
    Error::UnreadableReply {
        url: url.to_owned(),
        status: 200,
        problem,
        body_start: String::new(),
    }
}

/// The starts of the pages after the first of a listing that says it has `total` items,
/// for pages of `page_size` starting at `first_start` (0 for OpenLM, 1 for Portal). Reads
/// at most `max_items` when given; a total beyond [`MAX_LISTING_ITEMS`] is an error.
pub fn later_starts(
    url: &str,
    total: u64,
    page_size: u64,
    first_start: u64,
    max_items: Option<u64>,
) -> Result<Vec<u64>, Error> {
    let page_size = page_size.max(1);
    let wanted = max_items.map_or(total, |max| total.min(max));
    if wanted > MAX_LISTING_ITEMS {
        return Err(too_long(
            url,
            format!(
                "the server says the listing has {total} items, more than any real one \
                 (gislicense reads at most {MAX_LISTING_ITEMS}); the reply is not believable"
            ),
        ));
    }
    Ok((1..wanted.div_ceil(page_size))
        .map(|n| first_start + n * page_size)
        .collect())
}

/// Pages a wave: fetched `concurrency` at a time, a wave of this many times that.
const WAVE: usize = 8;

/// Fetch the pages at `starts` (from [`later_starts`]), `concurrency` at a time, in waves:
/// a wave that brings an empty page ends the listing, so a total larger than the listing
/// (a server's lie, or members removed meanwhile) costs at most one wave of requests.
pub async fn fetch_pages<P, Fut>(
    url: &str,
    starts: Vec<u64>,
    concurrency: usize,
    mut fetch: impl FnMut(u64) -> Fut,
    is_empty: impl Fn(&P) -> bool,
) -> Result<Vec<P>, Error>
where
    Fut: Future<Output = Result<P, Error>>,
{
    let mut pages = Vec::with_capacity(starts.len());
    for wave in starts.chunks(concurrency.max(1) * WAVE) {
        let mut ended = false;
        for page in bulk::run_ordered(wave.to_vec(), concurrency, &mut fetch).await {
            let page = page?;
            ended |= is_empty(&page);
            pages.push(page);
        }
        if ended {
            log::warn!("{url}: a page came back empty before the total the server gave; no more pages are asked for");
            break;
        }
    }
    Ok(pages)
}

/// Follows a listing one page after another when the server gives no total: each page must
/// start further on than the one before, and there are at most as many pages as
/// [`MAX_LISTING_ITEMS`] allows; [`PageWalk::brings_new`] tells a page that repeats.
pub struct PageWalk {
    url: String,
    max_pages: u64,
    pages: u64,
    last_start: u64,
    seen: HashSet<u64>,
    hasher: RandomState,
}

impl PageWalk {
    /// A walk whose first page (already read) started at `first_start`.
    pub fn new(url: &str, page_size: u64, first_start: u64) -> PageWalk {
        PageWalk {
            url: url.to_owned(),
            max_pages: MAX_LISTING_ITEMS.div_ceil(page_size.max(1)),
            pages: 1,
            last_start: first_start,
            seen: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// Go on to the page at `start`, `read` items into the listing. A start that does not
    /// advance past the last page's is a [`Error::ListingCutOff`]: the server's paging
    /// stalls (or goes back), and what it served cannot be told to be the whole listing.
    /// An error past the page cap too.
    pub fn ask(&mut self, start: u64, read: usize) -> Result<(), Error> {
        if start <= self.last_start {
            return Err(Error::ListingCutOff {
                url: self.url.clone(),
                message: format!(
                    "its pages stopped advancing (the page after the one at {} was said to \
                     start at {start}), so the {read} items read may not be all of them and \
                     the listing is refused; try again, and if it persists report it to the \
                     server's administrator",
                    self.last_start
                ),
            });
        }
        if self.pages >= self.max_pages {
            return Err(too_long(
                &self.url,
                format!(
                    "the server kept sending pages past {} items, more than any real listing \
                     (gislicense reads at most {MAX_LISTING_ITEMS})",
                    MAX_LISTING_ITEMS
                ),
            ));
        }
        self.pages += 1;
        self.last_start = start;
        Ok(())
    }

    /// Remember a page's items by key; false when none of them is new (a server sending
    /// the same page again and again), which ends the listing.
    pub fn brings_new<K: Hash>(&mut self, keys: impl IntoIterator<Item = K>) -> bool {
        let mut new = false;
        for key in keys {
            new |= self.seen.insert(self.hasher.hash_one(key));
        }
        if !new {
            log::warn!(
                "{}: a page brought nothing that earlier pages had not; the listing ends here",
                self.url
            );
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_totals_are_errors_not_allocations() {
        for total in [u64::MAX, i64::MAX as u64, 1_000_000_000] {
            let err = later_starts("u", total, 100, 1, None).unwrap_err();
            assert_eq!(err.kind(), "unreadable_reply");
            assert!(err.to_string().contains("not believable"), "{err}");
        }
        // A cap by the caller makes even an absurd total harmless.
        assert_eq!(
            later_starts("u", u64::MAX, 100, 1, Some(250)).unwrap(),
            [101, 201]
        );
        assert_eq!(later_starts("u", 250, 100, 0, None).unwrap(), [100, 200]);
        assert!(later_starts("u", 100, 100, 1, None).unwrap().is_empty());
        assert!(later_starts("u", 0, 0, 1, None).unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_total_larger_than_the_listing_costs_one_wave() {
        let starts = later_starts("u", 4_000_000, 100, 1, None).unwrap();
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let pages = fetch_pages(
            "u",
            starts,
            4,
            |start| {
                asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async move { Ok::<_, Error>(if start < 1_000 { vec![start] } else { vec![] }) }
            },
            Vec::is_empty,
        )
        .await
        .unwrap();
        assert_eq!(asked.into_inner(), 32, "one wave of 4 x 8 pages");
        assert_eq!(pages.iter().filter(|p| !p.is_empty()).count(), 9);
    }

    #[test]
    fn walks_end_when_pages_repeat_and_fail_when_offsets_stall() {
        let mut walk = PageWalk::new("u", 100, 1);
        assert!(walk.brings_new(["a", "b"]));
        walk.ask(101, 2).unwrap();
        assert!(walk.brings_new(["c"]));
        let again = walk.ask(101, 3).unwrap_err();
        assert_eq!(again.kind(), "listing_cut_off", "the same start again");
        assert!(again.to_string().contains("stopped advancing"), "{again}");
        assert!(again.to_string().contains("the 3 items read"), "{again}");
        assert_eq!(
            walk.ask(50, 3).unwrap_err().kind(),
            "listing_cut_off",
            "going back"
        );
        walk.ask(201, 3).unwrap();
        assert!(!walk.brings_new(["a", "c"]), "nothing new");
    }

    #[test]
    fn walks_stop_at_the_page_cap() {
        // Four pages make the cap; the first is read before the walk begins.
        let mut walk = PageWalk::new("u", MAX_LISTING_ITEMS / 4, 0);
        walk.ask(1, 0).unwrap();
        walk.ask(2, 0).unwrap();
        walk.ask(3, 0).unwrap();
        assert_eq!(walk.ask(4, 0).unwrap_err().kind(), "unreadable_reply");
    }
}
