//! Portal URLs: the portal's own from what an administrator types, and the names (user
//! names, item ids) put in endpoint paths, escaped.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use url::Url;

use crate::error::{Error, Result};
use crate::http::typed_url;

/// A portal URL from what an administrator types: `https://host/portal`, an Online org,
/// or the same with `/sharing/rest...` or `/home...` pasted from a browser.
pub fn portal_url(raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let raw = raw.trim();
    let mut url = typed_url(raw, "portal", "https", |scheme| match scheme {
        "https" => Ok(()),
        "http" if allow_insecure_http => Ok(()),
        "http" => Err(Error::invalid(format!(
            "{raw} is plain http: the password and tokens would travel in clear. Use https, \
             or pass allow_insecure_http=True for a test portal"
        ))),
        other => Err(Error::invalid(format!(
            "{raw:?}: a portal URL starts with https://, not {other}://"
        ))),
    })?;
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    let lower = path.to_ascii_lowercase();
    let cut = [
        "/sharing/rest",
        "/sharing",
        "/home",
        "/portaladmin",
        "/admin",
    ]
    .iter()
    .filter_map(|suffix| lower.find(suffix))
    .min();
    let path = match cut {
        Some(at) => path[..at].to_owned(),
        None => path,
    };
    url.set_path(&path);
    Ok(url)
}

/// Characters escaped in a URL path segment (a user name may hold `@`, `.`, spaces, `/`...).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// `text` escaped to stand as one segment of a URL path.
pub(crate) fn path_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_cleaned_and_http_refused() {
        let url = |raw| portal_url(raw, false).map(|u| u.to_string());
        assert_eq!(
            url("https://gis.example.com/portal/").unwrap(),
            "https://gis.example.com/portal"
        );
        assert_eq!(
            url("gis.example.com/portal").unwrap(),
            "https://gis.example.com/portal"
        );
        assert_eq!(
            url("https://gis.example.com/portal/sharing/rest/portals/self?f=json").unwrap(),
            "https://gis.example.com/portal"
        );
        assert_eq!(
            url("https://gis.example.com/portal/home/index.html").unwrap(),
            "https://gis.example.com/portal"
        );
        assert_eq!(
            url("https://org.maps.arcgis.com").unwrap(),
            "https://org.maps.arcgis.com/"
        );
        let err = url("http://gis.example.com/portal").unwrap_err();
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        assert!(portal_url("http://gis.example.com/portal", true).is_ok());
        assert!(url("https://admin:pw@gis.example.com/portal").is_err());
        assert!(url("ftp://gis.example.com").is_err());
    }

    #[test]
    fn names_stay_one_path_segment() {
        assert_eq!(path_segment("ann smith@x.org"), "ann%20smith@x.org");
        assert_eq!(path_segment("a/b?c#d%"), "a%2Fb%3Fc%23d%25");
    }
}
