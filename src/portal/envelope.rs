//! The one place that reads Portal replies: JSON or not, and the two error envelopes.
//!
//! Sharing API: `{"error": {"code", "message", "messageCode"?, "details"?}}`, usually with
//! HTTP 200 (the body decides, not the status). Admin APIs: `{"status": "error",
//! "messages": [...], "code"?}`. Anything else that is not JSON (a web adaptor error page, a
//! SAML or IWA login page, a proxy) is an unreadable reply that shows its first characters.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::http::Response;

/// Hint added to a 403: the seed's case, where a member who is not an administrator tried.
const ADMIN_HINT: &str =
    "this operation needs an administrator of the organization (or a role with the privilege for it)";

/// A reply type read straight from the body that also reads the envelope's marks (the
/// top-level `error` and `status` keys, as `Option<IgnoredAny>` fields), so one pass both
/// reads it and tells whether the reply was an error.
pub trait Enveloped: DeserializeOwned {
    /// Whether the reply carried `error`, or a `status` (an admin API's error form).
    fn marked(&self) -> bool;
}

/// A successful reply read straight into `T`, which takes only the fields it names (a
/// listing page's members without every other field): far less work than a whole JSON
/// value. A reply with an error envelope, or not of `T`'s form, is judged by [`check`].
pub fn check_as<T: Enveloped>(response: &Response) -> Result<T, Error> {
    check_read(response, |body| {
        serde_json::from_slice::<T>(body)
            .ok()
            .filter(|read| !read.marked())
    })
}

/// A successful reply read by `read`, which gives None for a body it cannot read or one
/// that carries the envelope's marks; such a reply is judged by [`check`], so an error
/// envelope still becomes its error.
pub fn check_read<T>(
    response: &Response,
    read: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<T, Error> {
    if response.is_success() {
        if let Some(read) = read(&response.body) {
            return Ok(read);
        }
    }
    match check(response) {
        Err(err) => Err(err),
        Ok(_) => Err(response.unreadable("the reply is not of the form expected")),
    }
}

/// The JSON object of a successful reply, or the error the reply stands for.
pub fn check(response: &Response) -> Result<Map<String, Value>, Error> {
    let json: Value = match serde_json::from_slice(&response.body) {
        Ok(value) => value,
        Err(parse_error) => return Err(not_json(response, &parse_error)),
    };
    let Value::Object(object) = json else {
        return Err(response.unreadable("the reply is JSON but not an object"));
    };
    if let Some(error) = object.get("error") {
        return Err(sharing_error(response, error));
    }
    if object
        .get("status")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("error"))
    {
        return Err(admin_error(response, &object));
    }
    if !response.is_success() {
        return Err(status_error(response));
    }
    Ok(object)
}

/// The error for a status no envelope explained. Every portal has the sharing API, so a 404
/// there says the URL is not a portal's: most often it lacks the web adaptor's name.
fn status_error(response: &Response) -> Error {
    match response.status_error() {
        Error::NotFound { url, message } => match no_portal_at(&url) {
            Some(advice) => Error::NotFound {
                url,
                message: format!("HTTP 404 Not Found: {advice}"),
            },
            None => Error::NotFound { url, message },
        },
        other => other,
    }
}

/// What to do when a sharing API request is a 404: None for other requests.
fn no_portal_at(request_url: &str) -> Option<String> {
    let url = url::Url::parse(request_url).ok()?;
    let path = url.path();
    let base = &path[..path.find("/sharing/")?];
    let origin = url.origin().ascii_serialization();
    Some(if base.trim_matches('/').is_empty() {
        format!(
            "no portal answers at {origin}/: add the portal's web adaptor name to the URL, \
             usually {origin}/portal (the address the browser shows before /home)"
        )
    } else {
        format!(
            "no portal answers at {origin}{base}: check the web adaptor name in the URL \
             (often /portal; the address the browser shows before /home)"
        )
    })
}

fn not_json(response: &Response, parse_error: &serde_json::Error) -> Error {
    if !response.is_success() {
        return status_error(response);
    }
    let start =
        String::from_utf8_lossy(&response.body[..response.body.len().min(2048)]).to_lowercase();
    let problem = if start.contains("<form")
        && (start.contains("password") || start.contains("saml"))
    {
        "a login page came instead of JSON: the portal (or a proxy before it) wants a browser sign-in (SAML, IWA or web-tier authentication); sign in through the portal's page with client_id= (OAuth), or with GIS(\"pro\") inside ArcGIS Pro, or a client certificate (cert_file=) where the portal uses PKI"
            .to_owned()
    } else if start.trim_start().starts_with('<') {
        "HTML came instead of JSON: check that the URL is the portal (https://host/portal), not a web page or an ArcGIS Server site".to_owned()
    } else {
        format!("not JSON ({parse_error})")
    };
    response.unreadable(problem)
}

fn text_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

/// A number the portal sent as a number or as text ("total": "250", "code": 498.0).
pub(crate) fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn sharing_error(response: &Response, error: &Value) -> Error {
    let code = number(error.get("code"));
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the portal replied with an error and no message")
        .to_owned();
    let mut details = text_list(error.get("details"));
    if let Some(message_code) = error.get("messageCode").and_then(Value::as_str) {
        details.push(format!("messageCode {message_code}"));
    }
    classify(
        response.url.clone(),
        Some(response.status),
        code,
        message,
        details,
    )
}

fn admin_error(response: &Response, object: &Map<String, Value>) -> Error {
    let messages = text_list(object.get("messages"));
    let message = match messages.first() {
        Some(first) => first.clone(),
        None => "the portal replied with status error and no message".to_owned(),
    };
    let details = messages.into_iter().skip(1).collect();
    classify(
        response.url.clone(),
        Some(response.status),
        number(object.get("code")),
        message,
        details,
    )
}

/// An error object inside a successful reply (one user's result in a batch):
/// `{"error": {"code", "message", "details"}}`, or a `message` beside the result.
pub fn item_error(url: &str, result: &Value, fallback: &str) -> Error {
    let error = result.get("error").unwrap_or(result);
    let message = error
        .get("message")
        .or_else(|| result.get("message"))
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_owned();
    let details = text_list(error.get("details"));
    classify(
        url.to_owned(),
        None,
        number(error.get("code")),
        message,
        details,
    )
}

/// The answer of a change: done only when the reply says so (`"success": true`, or an admin
/// API's `"status": "success"`); a refusal with the portal's reason; anything else (`{}`)
/// is no evidence either way.
pub fn success(url: &str, reply: &Map<String, Value>, fallback: &str) -> Result<(), Error> {
    let success = reply.get("success").and_then(Value::as_bool);
    let status = reply.get("status").and_then(Value::as_str);
    match (success, status) {
        (Some(true), _) => Ok(()),
        (None, Some(status)) if status.eq_ignore_ascii_case("success") => Ok(()),
        (Some(false), _) | (None, Some(_)) => {
            Err(item_error(url, &Value::Object(reply.clone()), fallback))
        }
        (None, None) => Err(Error::OutcomeUnknown {
            url: url.to_owned(),
            cause: format!(
                "the reply says neither done nor refused: {}",
                json_start(reply)
            ),
        }),
    }
}

/// A successful reply that lacks what the operation needs (an id, an object), with its start.
pub fn lacking(url: &str, reply: &Map<String, Value>, problem: impl Into<String>) -> Error {
    Error::UnreadableReply {
        url: url.to_owned(),
        status: 200,
        problem: problem.into(),
        body_start: json_start(reply),
    }
}

/// The first characters of a reply already read as JSON, for messages.
fn json_start(reply: &Map<String, Value>) -> String {
    crate::error::body_start(Value::Object(reply.clone()).to_string().as_bytes(), 200)
}

/// Map a portal error code to the error a caller can act on.
fn classify(
    url: String,
    status: Option<u16>,
    code: Option<i64>,
    message: String,
    details: Vec<String>,
) -> Error {
    let lower = message.to_lowercase();
    match code {
        Some(498 | 499) => Error::TokenExpired { url, message },
        Some(403) => Error::PermissionDenied {
            url,
            message: format!("{message} ({ADMIN_HINT})"),
        },
        Some(401) => Error::Authentication { url, message },
        Some(404) => Error::NotFound { url, message },
        Some(400)
            if lower.contains("does not exist")
                || lower.contains("not found")
                || lower.contains("inaccessible") =>
        {
            Error::NotFound {
                url,
                message: join(&message, &details),
            }
        }
        _ => Error::Server {
            url,
            status,
            code,
            message,
            details,
        },
    }
}

fn join(message: &str, details: &[String]) -> String {
    let extra: Vec<&str> = details
        .iter()
        .map(String::as_str)
        .filter(|d| !d.is_empty() && *d != message)
        .collect();
    if extra.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({})", extra.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    fn reply(status: u16, body: &str) -> Response {
        reply_bytes(status, body.as_bytes())
    }

    fn reply_bytes(status: u16, body: &[u8]) -> Response {
        Response {
            url: "https://portal.example.com/portal/sharing/rest/x".into(),
            status,
            content_type: "application/json".into(),
            location: None,
            retry_after: None,
            body: Bytes::copy_from_slice(body),
            after_lost_answer: false,
        }
    }

    #[test]
    fn a_404_from_the_sharing_api_says_what_a_portal_url_looks_like() {
        let at = |url: &str| {
            let mut response = reply(404, "<html>Not Found</html>");
            response.url = url.into();
            check(&response).unwrap_err().to_string()
        };
        let root = at("https://gis.example.com/sharing/rest/generateToken");
        assert!(
            root.contains("usually https://gis.example.com/portal"),
            "{root}"
        );
        let named = at("https://gis.example.com:7443/arcgis/sharing/rest/portals/self");
        assert!(named.contains("no portal answers at https://gis.example.com:7443/arcgis: check the web adaptor name"), "{named}");
        // A 404 elsewhere (an admin API a deployment does not have) is not about the URL.
        let admin = at("https://gis.example.com/portal/portaladmin/license");
        assert!(
            admin.ends_with("HTTP 404 Not Found: check the URL"),
            "{admin}"
        );
    }

    /// A page type as a listing reads it: one field, and the marks.
    #[derive(Debug, serde::Deserialize)]
    struct Page {
        #[serde(default)]
        users: Vec<Value>,
        #[serde(default)]
        error: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        status: Option<serde::de::IgnoredAny>,
    }

    impl Enveloped for Page {
        fn marked(&self) -> bool {
            self.error.is_some() || self.status.is_some()
        }
    }

    #[test]
    fn a_typed_read_still_tells_an_error_envelope_from_a_page() {
        let page: Page =
            check_as(&reply(200, r#"{"total": 1, "users": [{"username": "a"}]}"#)).unwrap();
        assert_eq!(page.users.len(), 1);
        // An error envelope has the page's form (every field defaults) but is an error.
        let err = check_as::<Page>(&reply(
            200,
            r#"{"error": {"code": 403, "message": "You do not have permissions"}}"#,
        ))
        .unwrap_err();
        assert_eq!(err.kind(), "permission_denied", "{err}");
        let err = check_as::<Page>(&reply(
            200,
            r#"{"status": "error", "messages": ["Token Required"], "code": 499}"#,
        ))
        .unwrap_err();
        assert_ne!(err.kind(), "unreadable_reply", "{err}");
        // Not the page's form at all: unreadable.
        let err = check_as::<Page>(&reply(200, r#"{"users": 5}"#)).unwrap_err();
        assert_eq!(err.kind(), "unreadable_reply", "{err}");
    }

    /// The kinds of error `check` may give: a typed error a caller can act on.
    const KINDS: [&str; 6] = [
        "token_expired",
        "permission_denied",
        "authentication",
        "not_found",
        "server",
        "unreadable_reply",
    ];

    /// Any JSON value, with the envelope's own keys likely to come up.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![
                Just("error".to_owned()),
                Just("Error".to_owned()),
                Just("498".to_owned()),
                any::<String>()
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let key = prop_oneof![
                Just("error".to_owned()),
                Just("status".to_owned()),
                Just("messages".to_owned()),
                Just("message".to_owned()),
                Just("messageCode".to_owned()),
                Just("code".to_owned()),
                Just("details".to_owned()),
                any::<String>(),
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(key, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn check_is_ok_or_typed(response: &Response) -> Result<(), TestCaseError> {
        if let Err(err) = check(response) {
            prop_assert!(KINDS.contains(&err.kind()), "{:?}", err);
            prop_assert!(!err.to_string().is_empty());
        }
        Ok(())
    }

    // Cases: PROPTEST_CASES (CI sets 100000), else proptest's default.
    proptest! {
        #[test]
        fn arbitrary_bytes_give_an_object_or_a_typed_error(
            status in prop_oneof![Just(200u16), 100u16..600],
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            check_is_ok_or_typed(&reply_bytes(status, &body))?;
        }

        #[test]
        fn arbitrary_json_gives_an_object_or_a_typed_error(
            status in prop_oneof![Just(200u16), 100u16..600],
            value in json(),
        ) {
            let body = serde_json::to_vec(&value).unwrap_or_default();
            check_is_ok_or_typed(&reply_bytes(status, &body))?;
            let err = item_error("https://portal.example.com/x", &value, "failed");
            prop_assert!(KINDS.contains(&err.kind()), "{:?}", err);
        }
    }

    #[test]
    fn the_error_envelope_decides_not_the_status() {
        let err = check(&reply(200, r#"{"error":{"code":403,"message":"You do not have permissions to access this resource or perform this operation.","details":[]}}"#)).unwrap_err();
        assert_eq!(err.kind(), "permission_denied");
        assert!(err.to_string().contains("needs an administrator"), "{err}");

        let err = check(&reply(200, r#"{"error":{"code":400,"message":"User does not exist or is inaccessible.","details":[]}}"#)).unwrap_err();
        assert_eq!(err.kind(), "not_found");

        let err = check(&reply(
            200,
            r#"{"error":{"code":498,"message":"Invalid token.","details":[]}}"#,
        ))
        .unwrap_err();
        assert_eq!(err.kind(), "token_expired");

        let err = check(&reply(200, r#"{"error":{"code":400,"message":"Unable to generate token.","details":["Invalid username or password."]}}"#)).unwrap_err();
        let Error::Server { code, details, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*code, details.as_slice()),
            (Some(400), &["Invalid username or password.".to_owned()][..])
        );
    }

    #[test]
    fn the_admin_envelope() {
        let err = check(&reply(200, r#"{"status":"error","messages":["User 'x' has no license checked out.","second"],"code":500}"#)).unwrap_err();
        assert_eq!(err.kind(), "server");
        assert!(
            err.to_string().contains("has no license checked out"),
            "{err}"
        );
        assert!(err.to_string().contains("second"), "{err}");
        assert!(check(&reply(200, r#"{"status":"success"}"#)).is_ok());
    }

    #[test]
    fn html_and_login_pages_are_named() {
        let err = check(&reply(
            200,
            "<html><form action='/saml'><input name='password'></form></html>",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("login page"), "{err}");
        let err = check(&reply(200, "<!DOCTYPE html><html>Welcome</html>")).unwrap_err();
        assert!(
            err.to_string().contains("HTML came instead of JSON"),
            "{err}"
        );
        let err = check(&reply(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert_eq!(err.kind(), "server");
        assert!(err.to_string().contains("502"), "{err}");
    }
}
