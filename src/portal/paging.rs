//! Paging through Portal listings: pages of `num` items from `start` (counting from 1), a
//! `total` in the first reply when the portal gives one, `nextStart` (-1 on the last page)
//! when it does not. The bounds every listing keeps are in [`crate::paging`]; the kinds of
//! listing (how their pages are read) are in `portal/listings.rs`.

use std::collections::HashSet;
use std::future::Future;

use crate::error::{Error, Result};
use crate::paging;
use crate::portal::users::MemberSearch;

/// The largest page the portal serves.
pub const PAGE_SIZE: usize = 100;
/// Pages fetched at once after the first.
pub const PAGE_CONCURRENCY: usize = 25;

/// One kind of Portal listing: how its pages are asked for and read. Every listing pages
/// the same way ([`list`]); only the reading differs (a whole JSON object per item, or a
/// few fields read straight into a struct).
pub(crate) trait Listing {
    type Page;
    type Item;
    /// The page of `num` items from `start` (counting from 1).
    fn page(&self, start: usize) -> impl Future<Output = Result<Self::Page>>;
    fn total(&self, page: &Self::Page) -> Option<i64>;
    fn next_start(&self, page: &Self::Page) -> Option<i64>;
    /// Its items, taken out of the page.
    fn take(&self, page: &mut Self::Page) -> Vec<Self::Item>;
    /// The field that tells its items apart.
    fn item_key(&self) -> ItemKey;
    /// An item's value of that field; None when it lacks one (the listing is refused then).
    fn key<'i>(&self, item: &'i Self::Item) -> Option<&'i str>;
    /// The path it lists: whether the portal windows it depends on it ([`windowed`]).
    fn path(&self) -> &str;
    /// Pages read at once after the first. A listing that reads a page after its request
    /// is done (the Python binding) keeps more than [`PAGE_CONCURRENCY`] under way, still
    /// holding its requests in flight to that many itself.
    fn pages_at_once(&self) -> usize {
        PAGE_CONCURRENCY
    }
}

/// The field that tells a listing's items apart, which each item must have once, and what
/// the items are called in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemKey {
    pub field: &'static str,
    pub items: &'static str,
}

impl ItemKey {
    pub const MEMBERS: ItemKey = ItemKey {
        field: "username",
        items: "members",
    };
    pub const HOLDERS: ItemKey = ItemKey {
        field: "username",
        items: "license holders",
    };
    pub const USER_TYPES: ItemKey = ItemKey {
        field: "id",
        items: "user types",
    };
    pub const ROLES: ItemKey = ItemKey {
        field: "id",
        items: "roles",
    };
}

/// The most results of one search a portal pages through: "Only the first 10,000 results
/// can be paginated" (Esri's REST API, considerations and limitations). Past it pages come
/// back empty while `total` still counts every match.
pub const SEARCH_WINDOW: usize = 10_000;

/// Whether the portal serves only the first [`SEARCH_WINDOW`] items of the listing at
/// `path`: its searches, and a license's holders (large organizations see the official
/// client's `License.all()` stop at 10,000: Esri/arcgis-python-api#1815). The member
/// listing `portals/self/users` is not a search: the official client lists 15,000 members
/// with it in its own documentation.
pub(crate) fn windowed(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    path == "community/users" || path.ends_with("/search") || path.ends_with("/userentitlements")
}

/// The request's fields for the page at `start`.
pub(crate) fn page_fields<'a>(
    params: &[(&'a str, String)],
    start: usize,
) -> Vec<(&'a str, String)> {
    let mut fields: Vec<(&str, String)> = params.to_vec();
    fields.push(("start", start.to_string()));
    fields.push(("num", PAGE_SIZE.to_string()));
    fields
}

/// Every item of a listing: the first page gives `total`, and the others are fetched
/// concurrently, in the server's order; without a total, `nextStart` is followed. Stops at
/// `max` items. A windowed listing with more items than the window is an error (a member
/// search is split instead: [`search`]), and so is a listing that does not hold together
/// (see [`Seen`] and [`list_within`]): never a silently short, repeated or nameless list.
pub(crate) async fn list<L: Listing>(
    url: &str,
    listing: &L,
    max: Option<usize>,
) -> Result<Vec<L::Item>> {
    match list_within(url, listing, max, &mut Seen::default()).await? {
        Listed::All(items) => Ok(items),
        Listed::PastWindow { total } => Err(Error::ListingCutOff {
            url: url.to_owned(),
            message: format!(
                "{} has {total} items (a portal counts at most {SEARCH_WINDOW}, so perhaps \
                 more), and it pages through only the first {SEARCH_WINDOW} of them; this \
                 listing takes no query to split it by",
                listing.path()
            ),
        }),
    }
}

/// What [`list_within`] read.
enum Listed<T> {
    All(Vec<T>),
    /// More than the [`SEARCH_WINDOW`] of a windowed listing: nothing past the first page
    /// is fetched.
    PastWindow {
        total: u64,
    },
}

/// The items of a listing, each page checked by `seen` as it is taken in: the pages after
/// the first fetched by the total it gives ([`read_counted`]), or by following `nextStart`
/// ([`follow`]).
async fn list_within<L: Listing>(
    url: &str,
    listing: &L,
    max: Option<usize>,
    seen: &mut Seen,
) -> Result<Listed<L::Item>> {
    let mut first = listing.page(1).await?;
    let Some(total) = listing.total(&first) else {
        return follow(url, listing, first, max, seen)
            .await
            .map(Listed::All);
    };
    let total = total.max(0) as u64;
    // A total of 10,000 may be capped: the organization search counts matches "up to
    // 10,000, then 10,000 is returned" (Esri's Search Users page), so a listing that
    // counts the whole window is taken as going past it unless fewer are wanted.
    let past = total >= SEARCH_WINDOW as u64 && max.is_none_or(|m| m > SEARCH_WINDOW);
    if past && windowed(listing.path()) {
        return Ok(Listed::PastWindow { total });
    }
    let items = listing.take(&mut first);
    read_counted(url, listing, items, total, max, seen)
        .await
        .map(Listed::All)
}

/// A listing whose first page (its `items` here) gave its `total`: the other pages are
/// fetched concurrently. A page that comes back empty while the total counts more is a
/// [`Error::ListingCutOff`]: the rest cannot be reached.
async fn read_counted<L: Listing>(
    url: &str,
    listing: &L,
    mut all: Vec<L::Item>,
    total: u64,
    max: Option<usize>,
    seen: &mut Seen,
) -> Result<Vec<L::Item>> {
    let counted = format!("counted {total}");
    if all.is_empty() && total > 0 && max != Some(0) {
        return Err(empty_page(url, listing, 1, 0, &counted));
    }
    seen.page(url, listing, 1, &all)?;
    let starts = paging::later_starts(url, total, PAGE_SIZE as u64, 1, max.map(|m| m as u64))?;
    let pages = paging::fetch_pages(
        url,
        starts,
        listing.pages_at_once(),
        |start| async move {
            let mut page = listing.page(start as usize).await?;
            Ok((start as usize, listing.take(&mut page)))
        },
        |(_, items): &(usize, Vec<L::Item>)| items.is_empty(),
    )
    .await?;
    for (start, items) in pages {
        if items.is_empty() {
            return Err(empty_page(url, listing, start, all.len(), &counted));
        }
        seen.page(url, listing, start, &items)?;
        all.extend(items);
    }
    if let Some(max) = max {
        all.truncate(max);
    }
    Ok(all)
}

/// A listing without a total: `nextStart` (-1 on the last page) is followed one page after
/// another from the `page` at 1. A `nextStart` that does not advance, and a page that comes
/// back empty yet names a next one, are a [`Error::ListingCutOff`].
async fn follow<L: Listing>(
    url: &str,
    listing: &L,
    mut page: L::Page,
    max: Option<usize>,
    seen: &mut Seen,
) -> Result<Vec<L::Item>> {
    let mut walk = paging::PageWalk::new(url, PAGE_SIZE as u64, 1);
    let mut all = Vec::new();
    let mut start = 1;
    loop {
        let items = listing.take(&mut page);
        let next = listing.next_start(&page).filter(|s| *s > 0);
        if let (true, Some(after)) = (items.is_empty(), next) {
            let named = format!("named a next page at {after}");
            return Err(empty_page(url, listing, start, all.len(), &named));
        }
        seen.page(url, listing, start, &items)?;
        all.extend(items);
        let Some(next) = next else { break };
        if max.is_some_and(|m| all.len() >= m) {
            break;
        }
        walk.ask(next as u64, all.len())?;
        start = next as usize;
        page = listing.page(start).await?;
    }
    if let Some(max) = max {
        all.truncate(max);
    }
    Ok(all)
}

/// A page that came back empty while the portal said there was more (`said`).
fn empty_page<L: Listing>(url: &str, listing: &L, start: usize, read: usize, said: &str) -> Error {
    let items = listing.item_key().items;
    Error::ListingCutOff {
        url: url.to_owned(),
        message: format!(
            "the page of {} at start {start} came back with no {items} while the portal \
             {said}; {read} {items} were read before it, so the listing is refused rather \
             than returned short (were {items} removed meanwhile? try again)",
            listing.path()
        ),
    }
}

/// The keys of one listing's items, to check every page as it is taken in: each item has
/// its key, and no key comes twice. A portal that repeats items cannot be trusted to have
/// listed every one; a member without a user name is no member a caller can use. One set
/// for a whole listing, kept across the parts of a split search.
#[derive(Default)]
struct Seen {
    keys: HashSet<String>,
}

impl Seen {
    fn page<L: Listing>(
        &mut self,
        url: &str,
        listing: &L,
        start: usize,
        items: &[L::Item],
    ) -> Result<()> {
        let mut missing = 0;
        let mut repeated = None;
        for item in items {
            match listing.key(item) {
                None => missing += 1,
                Some(key) if !self.keys.insert(key.to_owned()) => {
                    repeated = repeated.or(Some(key));
                }
                Some(_) => {}
            }
        }
        let ItemKey { field, items: what } = listing.item_key();
        let problem = match repeated {
            _ if missing > 0 => format!(
                "the page of {} at start {start} has {missing} of its {} {what} with no \
                 {field}, which is what tells them apart: the listing is refused rather than \
                 returned without them or with empty names",
                listing.path(),
                items.len()
            ),
            Some(key) => format!(
                "the portal listed the {field} {key:?} twice (again on the page of {} at \
                 start {start}): it repeated {what}, so this listing cannot be trusted to \
                 hold every one of them; try again, and if it persists report it to the \
                 portal's administrator",
                listing.path()
            ),
            None => return Ok(()),
        };
        Err(Error::UnreadableReply {
            url: url.to_owned(),
            status: 200,
            problem,
            body_start: String::new(),
        })
    }
}

/// Characters a user name may begin with, in the order a portal sorts user names
/// (case aside): the splits of a search past the window are read in this order.
const NAME_CHARS: &str = "-.0123456789@_abcdefghijklmnopqrstuvwxyz";

/// How deep a search is split by user name before giving up (a prefix this long that still
/// matches more than 10,000 members is not a real organization's).
const MAX_SPLIT_DEPTH: usize = 6;

/// Every member a search matches, in user name order. A search matching more than the
/// portal's [`SEARCH_WINDOW`] is split by the beginning of the user name (`a*`, `b*`..., and
/// deeper where a part is still too large), each part within the window; the parts must
/// account for every match, or the search is a [`Error::ListingCutOff`] that says how many
/// could not be reached.
pub(crate) async fn search<L, F>(url: &str, search: &MemberSearch, make: &F) -> Result<Vec<L::Item>>
where
    L: Listing,
    F: Fn(MemberSearch) -> L,
{
    let listing = make(search.clone());
    let mut seen = Seen::default();
    let total = match list_within(url, &listing, search.max, &mut seen).await? {
        Listed::All(items) => return Ok(items),
        Listed::PastWindow { total } => total,
    };
    // Parts are read depth first, in user name order: a part still too large is replaced
    // by its own parts.
    let mut all = Vec::new();
    let mut parts: Vec<(String, bool)> = name_parts("").into_iter().rev().collect();
    while let Some((part, begins)) = parts.pop() {
        let cut_off = || Error::ListingCutOff {
            url: url.to_owned(),
            message: format!(
                "even the members whose user names begin with {part:?} are more than the \
                 {SEARCH_WINDOW} a portal pages through: narrow the search"
            ),
        };
        let narrowed = search.narrowed(&part, begins).ok_or_else(cut_off)?;
        match list_within(url, &make(narrowed), None, &mut seen).await? {
            Listed::All(items) => all.extend(items),
            Listed::PastWindow { .. } if begins && part.chars().count() < MAX_SPLIT_DEPTH => {
                parts.extend(name_parts(&part).into_iter().rev());
            }
            Listed::PastWindow { .. } => return Err(cut_off()),
        }
    }
    if (all.len() as u64) < total {
        return Err(Error::ListingCutOff {
            url: url.to_owned(),
            message: format!(
                "the search matches {total} members and the portal pages through only the \
                 first {SEARCH_WINDOW} of a search; split by user name, gislicense reached {} \
                 of them (the others have user names beginning with characters it does not \
                 split by): narrow the search",
                all.len()
            ),
        });
    }
    if let Some(max) = search.max {
        all.truncate(max);
    }
    Ok(all)
}

/// The parts of the user names beginning with `prefix`, in order: the name `prefix` itself
/// (exactly), then the names beginning with `prefix` and each next character.
fn name_parts(prefix: &str) -> Vec<(String, bool)> {
    let whole = (!prefix.is_empty()).then(|| (prefix.to_owned(), false));
    whole
        .into_iter()
        .chain(NAME_CHARS.chars().map(|c| (format!("{prefix}{c}"), true)))
        .collect()
}

#[cfg(test)]
mod tests;
