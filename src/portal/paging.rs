//! Paging through Portal listings: pages of `num` items from `start` (counting from 1), a
//! `total` in the first reply when the portal gives one, `nextStart` (-1 on the last page)
//! when it does not. The bounds every listing keeps are in [`crate::paging`].

use serde_json::{Map, Value};

use crate::error::Result;
use crate::http::Effect;
use crate::paging;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::number;

/// The largest page the portal serves.
pub const PAGE_SIZE: usize = 100;
/// Pages fetched at once after the first.
pub const PAGE_CONCURRENCY: usize = 25;

/// What tells one listed item from another: its id or user name, else the whole item.
fn item_key(item: &Map<String, Value>) -> String {
    ["id", "username"]
        .iter()
        .find_map(|key| item.get(*key).and_then(Value::as_str))
        .map_or_else(|| Value::Object(item.clone()).to_string(), str::to_owned)
}

/// Ask `path` for `start`, `num` pages: the first page gives `total`, and the others are
/// fetched concurrently, in the server's order. Stops at `max` items.
pub(crate) async fn paged(
    portal: &Portal,
    path: &str,
    params: &[(&str, String)],
    list_key: &str,
    max: Option<usize>,
) -> Result<Vec<Map<String, Value>>> {
    let page = |start: usize| {
        let mut fields: Vec<(&str, String)> = params.to_vec();
        fields.push(("start", start.to_string()));
        fields.push(("num", PAGE_SIZE.to_string()));
        async move {
            portal
                .call(Root::Sharing, path, &fields, Effect::Read)
                .await
        }
    };
    // Taken out of the reply, not copied: a listing of 10,000 members is 10 MB of JSON.
    let items = |reply: &mut Map<String, Value>| -> Vec<Map<String, Value>> {
        match reply.remove(list_key) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(item) => Some(item),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    };
    let mut first = page(1).await?;
    let mut all = items(&mut first);
    let url = portal.url();
    match number(first.get("total")) {
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
                |start| page(start as usize),
                |reply: &Map<String, Value>| {
                    !matches!(reply.get(list_key), Some(Value::Array(a)) if !a.is_empty())
                },
            )
            .await?;
            for mut reply in pages {
                all.extend(items(&mut reply));
            }
        }
        None => {
            // No total: follow nextStart (-1 on the last page) one page after another, while
            // it advances and the pages bring items not seen yet.
            let mut walk = paging::PageWalk::new(url, PAGE_SIZE as u64, 1);
            walk.brings_new(all.iter().map(item_key));
            let mut next = number(first.get("nextStart"));
            while let Some(start) = next.filter(|s| *s > 0) {
                if max.is_some_and(|m| all.len() >= m) || !walk.ask(start as u64)? {
                    break;
                }
                let mut reply = page(start as usize).await?;
                let got = items(&mut reply);
                if got.is_empty() || !walk.brings_new(got.iter().map(item_key)) {
                    break;
                }
                all.extend(got);
                next = number(reply.get("nextStart"));
            }
        }
    }
    if let Some(max) = max {
        all.truncate(max);
    }
    Ok(all)
}
