//! The portal's wire: the request as the emulator sees it, the reply formats (`f=json`,
//! `pjson`, or an HTML page), the two error envelopes, and the sharing API's paging.

use serde_json::{json, Value};

/// A request, as the portal emulator needs it.
pub struct PortalRequest<'a> {
    pub method: &'a str,
    /// Normalized: lower case, `//` collapsed, without the trailing slash.
    pub path: &'a str,
    pub params: &'a [(String, String)],
    /// A token from `X-Esri-Authorization` or `Authorization`.
    pub header_token: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// `scheme://host:port`, to build URLs in replies.
    pub origin: &'a str,
    /// The member the request's client certificate names (PKI), if any.
    pub web_user: Option<&'a str>,
}

impl PortalRequest<'_> {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn token(&self) -> Option<&str> {
        self.param("token")
            .filter(|t| !t.is_empty())
            .or(self.header_token)
    }
}

/// A reply: HTTP status, content type, body.
pub type Answer = (u16, &'static str, String);

pub(super) const JSON: &str = "application/json; charset=utf-8";
pub(super) const HTML: &str = "text/html; charset=utf-8";
/// A redirect: the body is the `Location`, which the server sends as that header.
pub const REDIRECT: &str = "redirect";

/// Which envelope errors take.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Api {
    Sharing,
    Admin,
}

/// An error reply in the envelope of `api`, with HTTP 200 as real portals send it.
pub(super) fn error_answer(api: Api, code: i64, message: &str, details: &[&str]) -> Answer {
    let body = match api {
        Api::Sharing => json!({"error": {"code": code, "message": message, "details": details}}),
        Api::Admin => {
            let mut messages = vec![message];
            messages.extend_from_slice(details);
            json!({"status": "error", "messages": messages, "code": code})
        }
    };
    (200, JSON, body.to_string())
}

/// The reply a fault of kind "error" gets.
pub fn fault_reply(path: &str) -> Answer {
    let api = if path.contains("/portaladmin") || path.contains("/admin/") {
        Api::Admin
    } else {
        Api::Sharing
    };
    error_answer(
        api,
        500,
        "Unable to complete the operation: an internal error occurred.",
        &[],
    )
}

/// The JSON in the format `f` asks for: json, pjson, or (default) an HTML page.
pub(super) fn formatted(request: &PortalRequest<'_>, value: &Value) -> Answer {
    match request.param("f").map(str::to_ascii_lowercase).as_deref() {
        Some("json") => (200, JSON, value.to_string()),
        Some("pjson") => (
            200,
            JSON,
            serde_json::to_string_pretty(value).unwrap_or_default(),
        ),
        _ => {
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            let escaped = pretty
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            (
                200,
                HTML,
                format!("<html><head><title>ArcGIS Portal Directory</title></head><body><pre>{escaped}</pre></body></html>"),
            )
        }
    }
}

pub(super) fn not_found_page() -> Answer {
    (
        404,
        HTML,
        "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
            .into(),
    )
}

fn number_param(request: &PortalRequest<'_>, name: &str, default: usize) -> usize {
    request
        .param(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(default, |n| n.max(0) as usize)
}

/// A name from a URL path segment (`community/users/<name>`), percent-decoded.
pub(super) fn path_segment(segment: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy()
}

/// The window a listing asks for, as the sharing API pages: 1-based `start`, and `num`
/// (at most 100).
pub(super) fn window(request: &PortalRequest<'_>) -> (usize, usize) {
    let start = number_param(request, "start", 1).max(1);
    let num = number_param(request, "num", 10).min(100);
    (start, num)
}

/// A page of `items` as the sharing API pages. Only the page's items are turned into JSON:
/// a listing of 10,000 members stays cheap.
pub(super) fn page<T>(
    request: &PortalRequest<'_>,
    items: Vec<T>,
    key: &str,
    to_json: impl Fn(T) -> Value,
) -> Value {
    served_page(request, items, key, to_json, usize::MAX)
}

/// The most results of one search that can be paged through: "Only the first 10,000
/// results can be paginated" (Esri's REST API considerations and limitations). Past it a
/// page has no results, while `total` still counts every match.
pub const SEARCH_WINDOW: usize = 10_000;

/// A page of a search's `items` ([`page`]), within the [`SEARCH_WINDOW`].
pub(super) fn search_page<T>(
    request: &PortalRequest<'_>,
    items: Vec<T>,
    key: &str,
    to_json: impl Fn(T) -> Value,
) -> Value {
    served_page(request, items, key, to_json, SEARCH_WINDOW)
}

/// The page (`start`, `num`) of `items`, of which only the first `served` can be paged
/// through: `total` counts them all, and the last page within them has no `nextStart`.
fn served_page<T>(
    request: &PortalRequest<'_>,
    items: Vec<T>,
    key: &str,
    to_json: impl Fn(T) -> Value,
    served: usize,
) -> Value {
    let total = items.len();
    let (start, num) = window(request);
    let chosen: Vec<Value> = items
        .into_iter()
        .skip(start - 1)
        .take(num.min(served.saturating_add(1).saturating_sub(start)))
        .map(to_json)
        .collect();
    let (next, num) = next_start(total.min(served), start, num, chosen.len());
    json!({"total": total, "start": start, "num": num, "nextStart": next, key: chosen})
}

/// `nextStart` (-1 on the last page) and `num` of a page of `count` items.
pub(super) fn next_start(total: usize, start: usize, num: usize, count: usize) -> (i64, usize) {
    let end = start - 1 + count;
    let next = if end < total && num > 0 {
        (end + 1) as i64
    } else {
        -1
    };
    (next, num)
}

/// A sharing path naming the organization by its id (`portals/<orgId>/users`, as Esri's
/// documentation writes them) as the same path under `portals/self`.
pub(super) fn self_path(path: &str) -> String {
    let Some(rest) = path.strip_prefix("portals/") else {
        return path.to_owned();
    };
    let (id, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if id.eq_ignore_ascii_case(super::org::ORG_ID) {
        format!("portals/self{tail}")
    } else {
        path.to_owned()
    }
}

pub(super) fn user_missing() -> Answer {
    error_answer(
        Api::Sharing,
        400,
        "User does not exist or is inaccessible.",
        &[],
    )
}

/// The 403 a signed-in member without the privilege gets, in the envelope of `api`.
pub(super) fn forbidden(api: Api) -> Answer {
    error_answer(
        api,
        403,
        "You do not have permissions to access this resource or perform this operation.",
        &[],
    )
}

pub(super) fn only_post(request: &PortalRequest<'_>, api: Api) -> std::result::Result<(), Answer> {
    if request.method == "POST" {
        Ok(())
    } else {
        Err(error_answer(
            api,
            405,
            "This operation is supported only with POST.",
            &[],
        ))
    }
}
