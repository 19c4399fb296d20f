//! Paging through Portal listings: pages of `num` items from `start` (counting from 1), a
//! `total` in the first reply when the portal gives one, `nextStart` (-1 on the last page)
//! when it does not. The bounds every listing keeps are in [`crate::paging`].

use std::future::Future;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::Effect;
use crate::paging;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};
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
    /// What tells one listed item from another (a repeating page is caught by it).
    fn key(&self, item: &Self::Item) -> String;
    /// The path it lists: whether the portal windows it depends on it ([`windowed`]).
    fn path(&self) -> &str;
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

/// A listing read as JSON objects, its items under `list_key`.
struct Objects<'a> {
    portal: &'a Portal,
    path: &'a str,
    params: Vec<(&'a str, String)>,
    list_key: &'a str,
}

impl Listing for Objects<'_> {
    type Page = Map<String, Value>;
    type Item = Map<String, Value>;

    async fn page(&self, start: usize) -> Result<Self::Page> {
        let fields = page_fields(&self.params, start);
        self.portal
            .call(Root::Sharing, self.path, &fields, Effect::Read)
            .await
    }

    fn total(&self, page: &Self::Page) -> Option<i64> {
        number(page.get("total"))
    }

    fn next_start(&self, page: &Self::Page) -> Option<i64> {
        number(page.get("nextStart"))
    }

    // Taken out of the reply, not copied: a listing of 10,000 members is 10 MB of JSON.
    fn take(&self, page: &mut Self::Page) -> Vec<Self::Item> {
        match page.remove(self.list_key) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(item) => Some(item),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    }

    /// Its id or user name, else the whole item.
    fn key(&self, item: &Self::Item) -> String {
        ["id", "username"]
            .iter()
            .find_map(|key| item.get(*key).and_then(Value::as_str))
            .map_or_else(|| Value::Object(item.clone()).to_string(), str::to_owned)
    }

    fn path(&self) -> &str {
        self.path
    }
}

/// An item of a listing read straight into a struct of the few fields a caller needs (no
/// JSON object per item: a listing of 10,000 members is 10 MB of JSON).
pub(crate) trait Row: DeserializeOwned {
    /// What tells one listed item from another (see [`Listing::key`]).
    fn key(&self) -> String;
}

/// A page of a listing read as [`Row`]s: the members (`users`) or a license's holders
/// (`userEntitlements`).
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct RowsPage<T> {
    #[serde(default)]
    pub(crate) total: Option<Value>,
    #[serde(rename = "nextStart", default)]
    next_start: Option<Value>,
    #[serde(alias = "users", alias = "userEntitlements", default = "Vec::new")]
    pub(crate) rows: Vec<T>,
    /// The envelope's marks: an error reply has one.
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    status: Option<IgnoredAny>,
}

impl<T: DeserializeOwned> envelope::Enveloped for RowsPage<T> {
    fn marked(&self) -> bool {
        self.error.is_some() || self.status.is_some()
    }
}

struct Rows<'a, T> {
    portal: &'a Portal,
    path: &'a str,
    params: &'a [(&'a str, String)],
    row: PhantomData<T>,
}

impl<T: Row> Listing for Rows<'_, T> {
    type Page = RowsPage<T>;
    type Item = T;

    async fn page(&self, start: usize) -> Result<Self::Page> {
        let fields = page_fields(self.params, start);
        self.portal
            .call_as(Root::Sharing, self.path, &fields, Effect::Read)
            .await
    }

    fn total(&self, page: &Self::Page) -> Option<i64> {
        number(page.total.as_ref())
    }

    fn next_start(&self, page: &Self::Page) -> Option<i64> {
        number(page.next_start.as_ref())
    }

    fn take(&self, page: &mut Self::Page) -> Vec<T> {
        std::mem::take(&mut page.rows)
    }

    fn key(&self, item: &T) -> String {
        item.key()
    }

    fn path(&self) -> &str {
        self.path
    }
}

/// Every item of the listing at `path`, read as [`Row`]s (see [`list`]).
pub(crate) async fn rows<T: Row>(
    portal: &Portal,
    path: &str,
    params: &[(&str, String)],
) -> Result<Vec<T>> {
    let listing = Rows {
        portal,
        path,
        params,
        row: PhantomData,
    };
    list(portal.url(), &listing, None).await
}

/// Text, or None for a value of another kind (a number, null, an object), which is skipped.
pub(crate) fn text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(Text)
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

/// Ask `path` for `start`, `num` pages, the items under `list_key` (see [`list`]).
pub(crate) async fn paged(
    portal: &Portal,
    path: &str,
    params: &[(&str, String)],
    list_key: &str,
    max: Option<usize>,
) -> Result<Vec<Map<String, Value>>> {
    let listing = Objects {
        portal,
        path,
        params: params.to_vec(),
        list_key,
    };
    list(portal.url(), &listing, max).await
}

/// Every member `search` finds, as JSON objects (see [`search`]).
pub(crate) async fn searched(
    portal: &Portal,
    search: &MemberSearch,
) -> Result<Vec<Map<String, Value>>> {
    let listing = |search: MemberSearch| Objects {
        portal,
        path: search.path,
        params: search.params,
        list_key: search.list_key,
    };
    self::search(portal.url(), search, &listing).await
}

/// Every item of a listing: the first page gives `total`, and the others are fetched
/// concurrently, in the server's order; without a total, `nextStart` is followed. Stops at
/// `max` items. A windowed listing with more items than the window is an error (a member
/// search is split instead: [`search`]).
pub(crate) async fn list<L: Listing>(
    url: &str,
    listing: &L,
    max: Option<usize>,
) -> Result<Vec<L::Item>> {
    match list_within(url, listing, max).await? {
        Listed::All(items) => Ok(items),
        Listed::PastWindow { total } => Err(Error::ListingCutOff {
            url: url.to_owned(),
            message: format!(
                "{} has {total} items, and the portal pages through only the first \
                 {SEARCH_WINDOW} of them; this listing takes no query to split it by",
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

async fn list_within<L: Listing>(
    url: &str,
    listing: &L,
    max: Option<usize>,
) -> Result<Listed<L::Item>> {
    let mut first = listing.page(1).await?;
    let mut all = listing.take(&mut first);
    match listing.total(&first) {
        Some(total) => {
            let total = total.max(0) as u64;
            let wanted = max.map_or(total, |m| total.min(m as u64));
            if wanted > SEARCH_WINDOW as u64 && windowed(listing.path()) {
                return Ok(Listed::PastWindow { total });
            }
            let starts =
                paging::later_starts(url, total, PAGE_SIZE as u64, 1, max.map(|m| m as u64))?;
            let pages = paging::fetch_pages(
                url,
                starts,
                PAGE_CONCURRENCY,
                |start| async move {
                    let mut page = listing.page(start as usize).await?;
                    Ok(listing.take(&mut page))
                },
                Vec::is_empty,
            )
            .await?;
            for items in pages {
                all.extend(items);
            }
        }
        None => {
            // No total: follow nextStart (-1 on the last page) one page after another, while
            // it advances and the pages bring items not seen yet.
            let mut walk = paging::PageWalk::new(url, PAGE_SIZE as u64, 1);
            walk.brings_new(all.iter().map(|item| listing.key(item)));
            let mut next = listing.next_start(&first);
            while let Some(start) = next.filter(|s| *s > 0) {
                if max.is_some_and(|m| all.len() >= m) || !walk.ask(start as u64)? {
                    break;
                }
                let mut page = listing.page(start as usize).await?;
                let got = listing.take(&mut page);
                if got.is_empty() || !walk.brings_new(got.iter().map(|item| listing.key(item))) {
                    break;
                }
                all.extend(got);
                next = listing.next_start(&page);
            }
        }
    }
    if let Some(max) = max {
        all.truncate(max);
    }
    Ok(Listed::All(all))
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
    let total = match list_within(url, &listing, search.max).await? {
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
        match list_within(url, &make(narrowed), None).await? {
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
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A listing of `total` numbered items at `path`, counting the pages asked for.
    struct Numbers {
        path: &'static str,
        total: usize,
        asked: AtomicUsize,
    }

    impl Listing for Numbers {
        type Page = Vec<usize>;
        type Item = usize;

        async fn page(&self, start: usize) -> Result<Vec<usize>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Ok((start..start + PAGE_SIZE)
                .filter(|n| *n <= self.total)
                .collect())
        }
        fn total(&self, _: &Vec<usize>) -> Option<i64> {
            Some(self.total as i64)
        }
        fn next_start(&self, _: &Vec<usize>) -> Option<i64> {
            None
        }
        fn take(&self, page: &mut Vec<usize>) -> Vec<usize> {
            std::mem::take(page)
        }
        fn key(&self, item: &usize) -> String {
            item.to_string()
        }
        fn path(&self) -> &str {
            self.path
        }
    }

    #[tokio::test]
    async fn a_windowed_listing_past_the_window_is_an_error_after_one_page() {
        let holders = Numbers {
            path: "content/listings/abc/userEntitlements",
            total: 12_000,
            asked: AtomicUsize::new(0),
        };
        let err = list("https://portal", &holders, None).await.unwrap_err();
        assert_eq!(err.kind(), "listing_cut_off");
        assert!(err.to_string().contains("12000 items"), "{err}");
        assert!(err.to_string().contains("first 10000"), "{err}");
        assert_eq!(holders.asked.load(Ordering::SeqCst), 1);
        // Asking for no more than the window reads it.
        let some = list("https://portal", &holders, Some(250)).await.unwrap();
        assert_eq!(some.len(), 250);
        // The member listing is not windowed.
        let members = Numbers {
            path: "portals/self/users",
            total: 12_000,
            asked: AtomicUsize::new(0),
        };
        assert_eq!(
            list("https://portal", &members, None).await.unwrap().len(),
            12_000
        );
        assert!(windowed("community/users") && windowed("portals/self/users/search"));
        assert!(!windowed("portals/self/users"));
    }

    #[test]
    fn a_search_splits_by_user_name_in_order() {
        let parts: Vec<String> = name_parts("ab").into_iter().map(|(p, _)| p).collect();
        assert_eq!(parts[0], "ab");
        assert_eq!(parts[1], "ab-");
        assert_eq!(parts.last().unwrap(), "abz");
        let mut sorted = parts.clone();
        sorted.sort();
        assert_eq!(parts, sorted, "parts are read in user name order");
        let search = MemberSearch {
            path: "community/users",
            params: vec![
                ("q", "(*) AND orgid:X".into()),
                ("sortField", "username".into()),
            ],
            list_key: "results",
            max: Some(5),
        };
        let narrowed = search.narrowed("-a", true).unwrap();
        assert_eq!(narrowed.params[0].1, "((*) AND orgid:X) AND username:\\-a*");
        assert_eq!(narrowed.params[1].1, "username");
        assert_eq!(narrowed.max, None);
        let listing = MemberSearch {
            path: "portals/self/users",
            params: vec![],
            list_key: "users",
            max: None,
        };
        assert!(listing.narrowed("a", true).is_none());
    }
}
