//! The kinds of Portal listing, each paged by [`paging::list`]: read as whole JSON objects
//! ([`paged`], [`searched`]), or as [`Row`]s of the few fields a caller needs ([`rows`]).

use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::http::Effect;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};
use crate::portal::paging::{self, list, page_fields, ItemKey, Listing};
use crate::portal::users::MemberSearch;

/// A listing read as JSON objects, its items under `list_key`.
struct Objects<'a> {
    portal: &'a Portal,
    path: &'a str,
    params: Vec<(&'a str, String)>,
    list_key: &'a str,
    item_key: ItemKey,
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

    fn item_key(&self) -> ItemKey {
        self.item_key
    }

    fn key<'i>(&self, item: &'i Self::Item) -> Option<&'i str> {
        item.get(self.item_key.field).and_then(Value::as_str)
    }

    fn path(&self) -> &str {
        self.path
    }
}

/// An item of a listing read straight into a struct of the few fields a caller needs (no
/// JSON object per item: a listing of 10,000 members is 10 MB of JSON).
pub(crate) trait Row: DeserializeOwned {
    /// The field that tells the rows apart (see [`Listing::key`]).
    const KEY: ItemKey;
    /// A row's value of it, None when it has none.
    fn key(&self) -> Option<&str>;
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

    fn item_key(&self) -> ItemKey {
        T::KEY
    }

    fn key<'i>(&self, item: &'i T) -> Option<&'i str> {
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

/// Ask `path` for `start`, `num` pages, the items under `list_key`, told apart by
/// `item_key` (see [`list`]).
pub(crate) async fn paged(
    portal: &Portal,
    path: &str,
    list_key: &str,
    item_key: ItemKey,
) -> Result<Vec<Map<String, Value>>> {
    let listing = Objects {
        portal,
        path,
        params: Vec::new(),
        list_key,
        item_key,
    };
    list(portal.url(), &listing, None).await
}

/// Every member `search` finds, as JSON objects (see [`paging::search`]).
pub(crate) async fn searched(
    portal: &Portal,
    search: &MemberSearch,
) -> Result<Vec<Map<String, Value>>> {
    let listing = |search: MemberSearch| Objects {
        portal,
        path: search.path,
        params: search.params,
        list_key: search.list_key,
        item_key: ItemKey::MEMBERS,
    };
    paging::search(portal.url(), search, &listing).await
}
