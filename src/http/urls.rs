//! URLs as administrators type them, and as they may be shown (secrets hidden).

use url::Url;

use crate::error::{Error, Result};

/// A server's URL from what an administrator types (`what` names the server: "portal",
/// "OpenLM"): `default_scheme://` goes before a bare host, `check_scheme` judges the scheme,
/// and a URL that names no host or carries a user name or password is refused.
pub fn typed_url(
    raw: &str,
    what: &str,
    default_scheme: &str,
    check_scheme: impl FnOnce(&str) -> Result<()>,
) -> Result<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(format!("the {what} URL is empty")));
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("{default_scheme}://{raw}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::invalid(format!("{raw:?} is not a valid {what} URL: {e}")))?;
    check_scheme(url.scheme())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!("{raw:?} names no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(format!(
            "put the {what} user name and password in username= and password=, not in the URL"
        )));
    }
    Ok(url)
}

/// A URL safe to show: no user info, and the values of secret-looking query fields hidden.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        // Not a URL we can take apart: show only up to the query, where secrets would be.
        return raw.split(['?', '#']).next().unwrap_or("").to_owned();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = is_secret_field(&k);
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string()
}

/// Field names whose values are secrets.
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token", "password", "pwd", "secret", "key", "code", "refresh",
    ]
    .iter()
    .any(|s| name.contains(s))
}
