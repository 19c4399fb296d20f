//! Paging through Portal listings: pages of `num` items from `start` (counting from 1), a
//! `total` in the first reply when the portal gives one, `nextStart` (-1 on the last page)
//! when it does not. The bounds every listing keeps are in [`crate::paging`].

use std::future::Future;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::http::Effect;
use crate::paging;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};

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
}

/// A listing read as JSON objects, its items under `list_key`.
struct Objects<'a> {
    portal: &'a Portal,
    path: &'a str,
    params: &'a [(&'a str, String)],
    list_key: &'a str,
}

impl Listing for Objects<'_> {
    type Page = Map<String, Value>;
    type Item = Map<String, Value>;

    async fn page(&self, start: usize) -> Result<Self::Page> {
        let fields = page_fields(self.params, start);
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
        params,
        list_key,
    };
    list(portal.url(), &listing, max).await
}

/// Every item of a listing: the first page gives `total`, and the others are fetched
/// concurrently, in the server's order; without a total, `nextStart` is followed. Stops at
/// `max` items.
pub(crate) async fn list<L: Listing>(
    url: &str,
    listing: &L,
    max: Option<usize>,
) -> Result<Vec<L::Item>> {
    let mut first = listing.page(1).await?;
    let mut all = listing.take(&mut first);
    match listing.total(&first) {
        Some(total) => {
            let starts = paging::later_starts(
                url,
                total.max(0) as u64,
                PAGE_SIZE as u64,
                1,
                max.map(|m| m as u64),
            )?;
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
    Ok(all)
}
