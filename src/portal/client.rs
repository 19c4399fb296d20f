//! The Portal client: its endpoints, signing in, tokens, and the one request path every
//! Portal operation goes through.
//!
//! Tokens travel in the POST body (`token`) and the `X-Esri-Authorization` header, never in
//! a URL, with the Referer the token was made for. A token this client can make again (from
//! a password, app credentials, an OAuth refresh token, or a source such as ArcGIS Pro) is
//! renewed before it expires and again, once, when the portal rejects it (498/499): long
//! bulk jobs outlive their tokens.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::http::{Body, Effect, Http, HttpOptions, Request, Response};
use crate::portal::envelope;
use crate::portal::oauth::AuthorizationCode;
use crate::portal::release::platform_of;
use crate::portal::url::portal_url;
use crate::portal::users::{Role, UserType};
use crate::portal::versions::Platform;
use crate::renewal::{Renew, Renewable};

mod sign_in;

/// Which API a path is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `<portal>/sharing/rest`: users, user types, licenses, tokens.
    Sharing,
    /// `<portal>/portaladmin`: the classic Portal Administrator API.
    PortalAdmin,
    /// `<portal>/admin`: the Enterprise Administrator API (ArcGIS Enterprise on Kubernetes).
    Admin,
}

impl Root {
    /// Its path under the portal's URL.
    pub fn path(self) -> &'static str {
        match self {
            Root::Sharing => "sharing/rest",
            Root::PortalAdmin => "portaladmin",
            Root::Admin => "admin",
        }
    }
}

/// How the client proves who it is.
pub enum Credentials {
    Anonymous,
    /// Signs in with generateToken and renews the token as needed.
    Password {
        username: String,
        password: String,
    },
    /// A token (or API key) made elsewhere; it cannot be renewed here.
    Token {
        token: String,
        expires_ms: Option<i64>,
    },
    /// App credentials: the client_credentials grant of `oauth2/token`, made again as tokens
    /// expire.
    App {
        client_id: String,
        client_secret: String,
    },
    /// A person signed in through OAuth 2.0 (`crate::portal::oauth`): the authorization code
    /// is exchanged once, then the refresh token it brings renews the access token.
    OAuth {
        client_id: String,
        grant: Mutex<OAuthGrant>,
    },
    /// Tokens asked for again from elsewhere when they expire (ArcGIS Pro's sign-in): the
    /// source gives a token and when it expires (ms since 1970), if known.
    Source(Arc<TokenSource>),
}

/// Where an OAuth sign-in stands: a code to exchange, then a refresh token; spent when the
/// portal gave none (the sign-in then lasts as long as its access token).
pub enum OAuthGrant {
    Code(AuthorizationCode),
    Refresh(String),
    Spent,
}

pub type TokenSource = dyn Fn() -> Result<(String, Option<i64>)> + Send + Sync;

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Password { username, .. } => write!(f, "Password({username:?}, ***)"),
            Credentials::Token { .. } => f.write_str("Token(***)"),
            Credentials::App { client_id, .. } => write!(f, "App({client_id:?}, ***)"),
            Credentials::OAuth { client_id, .. } => write!(f, "OAuth({client_id:?}, ***)"),
            Credentials::Source(_) => f.write_str("Source"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PortalOptions {
    /// The Referer tokens are made for and sent with.
    pub referer: String,
    /// Minutes a generated token should last.
    pub expiration_minutes: u32,
    /// Allow `http://` portals (a password would travel in clear).
    pub allow_insecure_http: bool,
}

impl Default for PortalOptions {
    fn default() -> Self {
        PortalOptions {
            referer: "gislicense".into(),
            expiration_minutes: 60,
            allow_insecure_http: false,
        }
    }
}

pub(crate) struct Token {
    value: Arc<str>,
    /// When the portal says it expires (ms since 1970), if it said.
    expires_ms: Option<i64>,
    /// When it was made here (ms since 1970), to renew early by its lifetime.
    issued_ms: i64,
}

impl Token {
    /// Renew when less than a tenth of its life (at least 30 s, at most 5 min) is left.
    fn needs_renewal(&self) -> bool {
        let Some(expires) = self.expires_ms else {
            return false;
        };
        // Saturating: `expires` is the portal's number, whatever it is.
        let life = expires.saturating_sub(self.issued_ms).max(0);
        let margin = (life / 10).clamp(30_000, 300_000).min(life / 2);
        now_ms() >= expires.saturating_sub(margin)
    }
}

pub struct Portal {
    http: Http,
    url: Url,
    shown_url: String,
    credentials: Credentials,
    options: PortalOptions,
    token: Renewable<Token>,
    properties: OnceCell<Arc<Map<String, Value>>>,
    /// User types and roles, to resolve names given for single changes; fetched once.
    pub(crate) user_type_names: OnceCell<Vec<UserType>>,
    pub(crate) role_names: OnceCell<Vec<Role>>,
    /// The signed-in user may not read the roles: members' roles read as their ids.
    pub(crate) roles_refused: AtomicBool,
    /// Who an OAuth sign-in signed in as (the token endpoint says), once it has.
    signed_in_as: Mutex<Option<String>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("url", &self.shown_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Portal {
    pub fn new(
        url: &str,
        credentials: Credentials,
        options: PortalOptions,
        http: HttpOptions,
    ) -> Result<Portal> {
        let url = portal_url(url, options.allow_insecure_http)?;
        match &credentials {
            Credentials::Password { username, .. } if username.trim().is_empty() => {
                return Err(Error::invalid("username is empty"))
            }
            Credentials::Token { token, .. } if token.trim().is_empty() => {
                return Err(Error::invalid("token is empty"))
            }
            Credentials::App { client_id, .. } | Credentials::OAuth { client_id, .. }
                if client_id.trim().is_empty() =>
            {
                return Err(Error::invalid("client_id is empty"))
            }
            Credentials::App { client_secret, .. } if client_secret.trim().is_empty() => {
                return Err(Error::invalid("client_secret is empty"))
            }
            _ => {}
        }
        if options.referer.trim().is_empty() {
            return Err(Error::invalid("referer is empty"));
        }
        // The referer travels twice: in the Referer header of every request and in the
        // generateToken `referer` field, which the portal compares with that header. A header
        // value is visible ASCII (RFC 9110); other bytes would go out raw, as bytes the portal
        // decodes its own way, and the token would not match. Percent-encoding it here would
        // make a referer the user did not choose, so it is refused: an internationalized
        // referer is given in its ASCII form (punycode host, percent-encoded path).
        if let Some(c) = options.referer.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(Error::invalid(format!(
                "referer contains {c:?} (U+{:04X}): a Referer header carries only visible ASCII; \
                 give the ASCII form (punycode host, percent-encoded path)",
                c as u32
            )));
        }
        if !(1..=20_160).contains(&options.expiration_minutes) {
            return Err(Error::invalid(format!(
                "expiration must be between 1 and 20160 minutes (14 days), not {}",
                options.expiration_minutes
            )));
        }
        let token = match &credentials {
            Credentials::Token { token, expires_ms } => Some(Arc::new(Token {
                value: Arc::from(token.as_str()),
                expires_ms: *expires_ms,
                issued_ms: now_ms(),
            })),
            _ => None,
        };
        Ok(Portal {
            http: Http::new(http, &url)?,
            shown_url: crate::http::redact_url(url.as_str()),
            url,
            credentials,
            options,
            token: Renewable::new(token),
            properties: OnceCell::new(),
            user_type_names: OnceCell::new(),
            role_names: OnceCell::new(),
            roles_refused: AtomicBool::new(false),
            signed_in_as: Mutex::new(None),
        })
    }

    /// The portal URL, without a trailing slash.
    pub fn url(&self) -> &str {
        self.shown_url.trim_end_matches('/')
    }

    /// The user signing in with a password, or signed in through OAuth (once signed in).
    pub fn username(&self) -> Option<String> {
        match &self.credentials {
            Credentials::Password { username, .. } => Some(username.clone()),
            Credentials::OAuth { .. } => self.signed_in_as.lock().ok()?.clone(),
            _ => None,
        }
    }

    pub fn endpoint(&self, root: Root, path: &str) -> Result<Url> {
        let base = self.url.as_str().trim_end_matches('/');
        let root = root.path();
        let path = path.trim_start_matches('/');
        // A "." or ".." segment (a user name, an id from a reply) would move the request to
        // another path: URLs resolve them, written plainly or as %2e.
        if path.split('/').any(|segment| {
            let segment = segment.to_ascii_lowercase().replace("%2e", ".");
            segment == "." || segment == ".."
        }) {
            return Err(Error::invalid(format!(
                "{path:?} holds a \".\" or \"..\" segment, which would change the URL's path"
            )));
        }
        let joined = if path.is_empty() {
            format!("{base}/{root}")
        } else {
            format!("{base}/{root}/{path}")
        };
        Url::parse(&joined).map_err(|e| Error::invalid(format!("bad endpoint {joined}: {e}")))
    }

    /// Check the credentials now (otherwise the first request signs in).
    pub async fn sign_in(&self) -> Result<()> {
        if self.can_renew() {
            self.token.renew(self, None).await.map(|_| ())
        } else {
            self.properties().await.map(|_| ())
        }
    }

    /// POST a request to a Portal endpoint and return the reply's JSON object: the one path
    /// every Portal operation takes. A rejected token is renewed and the request repeated,
    /// once; a token that cannot be renewed is a TokenExpired error.
    pub async fn call(
        &self,
        root: Root,
        path: &str,
        params: &[(&str, String)],
        effect: Effect,
    ) -> Result<Map<String, Value>> {
        self.call_reading(root, path, params, effect, envelope::check)
            .await
    }

    /// [`Portal::call`], with the reply read straight into `T` (see [`envelope::check_as`]).
    pub async fn call_as<T: envelope::Enveloped>(
        &self,
        root: Root,
        path: &str,
        params: &[(&str, String)],
        effect: Effect,
    ) -> Result<T> {
        self.call_reading(root, path, params, effect, envelope::check_as::<T>)
            .await
    }

    /// [`Portal::call`], with the reply read by `check`, which judges it through
    /// [`envelope::check_read`] (the Python binding reads listing pages straight into
    /// Python objects this way).
    pub async fn call_reading<T>(
        &self,
        root: Root,
        path: &str,
        params: &[(&str, String)],
        effect: Effect,
        check: impl Fn(&Response) -> Result<T>,
    ) -> Result<T> {
        if let Some(platform) = self.known_platform_without(root) {
            return Err(Error::invalid(format!(
                "this is {}: it has no administrator API ({}/{path} is ArcGIS Enterprise's); \
                 nothing was sent",
                platform.name(),
                root.path()
            )));
        }
        // A transient error envelope (code 500 to 504 in an HTTP 200 reply: a portal's way of
        // saying what an HTTP 500 says) is answered as that status is: a read, or a change
        // that is safe to repeat, is sent again; a change whose last answer is still a 500
        // (or 502, 504) may have been made, and its outcome is unknown.
        let mut attempts = 1;
        loop {
            let result = self.call_once(root, path, params, effect, &check).await;
            let code = match &result {
                Err(Error::Server { code, .. }) if effect != Effect::Write => *code,
                _ => return result,
            };
            match self.http.retry_read_after(attempts, code) {
                Some(pause) => {
                    log::info!("{path}: the portal answered error {code:?}; sending it again");
                    tokio::time::sleep(pause).await;
                    attempts += 1;
                }
                None if effect == Effect::Idempotent && matches!(code, Some(500 | 502 | 504)) => {
                    return result.map_err(Error::unknown_outcome);
                }
                None => return result,
            }
        }
    }

    async fn call_once<T>(
        &self,
        root: Root,
        path: &str,
        params: &[(&str, String)],
        effect: Effect,
        check: &impl Fn(&Response) -> Result<T>,
    ) -> Result<T> {
        let url = &self.endpoint(root, path)?;
        let read = |response: &Response| match check(response) {
            // A rejected token is renewed, or said as it is: not judged as a refusal.
            Err(rejected @ Error::TokenExpired { .. }) => Err(rejected),
            other => other.map_err(|err| response.judge(effect, err)),
        };
        // Without a token there is nothing to renew: a rejection says a sign-in is needed.
        if let Credentials::Anonymous = self.credentials {
            return match read(&self.post(url, params, effect, None).await?) {
                Err(Error::TokenExpired { url, message }) => Err(self.rejected(url, message)),
                answered => answered,
            };
        }
        let send = |token: Arc<Token>| async move {
            self.post(url, params, effect, Some(&token.value)).await
        };
        self.token.with_renewal(self, send, read).await
    }

    /// Send a request with the token, in the body and the header, never in the URL.
    async fn post(
        &self,
        url: &Url,
        params: &[(&str, String)],
        effect: Effect,
        token: Option<&str>,
    ) -> Result<Response> {
        let mut fields: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        fields.push(("f".into(), "json".into()));
        let mut request = Request::post(url.clone(), Body::Form(Vec::new()), effect)
            .header("Referer", self.options.referer.clone());
        if let Some(token) = token {
            fields.push(("token".into(), token.to_owned()));
            request = request.header("X-Esri-Authorization", format!("Bearer {token}"));
        }
        request.body = Body::Form(fields);
        self.http.send(&request).await
    }

    /// `portals/self`: the organization, and the signed-in user under `user`. Fetched once.
    pub async fn properties(&self) -> Result<Arc<Map<String, Value>>> {
        self.properties
            .get_or_try_init(|| async {
                self.call(Root::Sharing, "portals/self", &[], Effect::Read)
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The platform `portals/self` said, once read, when it has no administrator API and
    /// `root` is one (the version table's `Platform::admin_api`): ArcGIS Online.
    fn known_platform_without(&self, root: Root) -> Option<Platform> {
        if root == Root::Sharing {
            return None;
        }
        let platform = platform_of(self.properties.get()?);
        platform.admin_api().is_none().then_some(platform)
    }

    /// The organization id (`portals/self` → `id`).
    pub async fn org_id(&self) -> Result<String> {
        let properties = self.properties().await?;
        properties
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                envelope::lacking(
                    self.url(),
                    &properties,
                    "portals/self has no organization id",
                )
            })
    }

    /// The portal's REST version (`<sharing>?f=json` → `currentVersion`).
    pub async fn version(&self) -> Result<String> {
        let reply = self.call(Root::Sharing, "", &[], Effect::Read).await?;
        Ok(match reply.get("currentVersion") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        })
    }

    /// Whether someone is signed in: by any credentials, or by a client certificate (PKI,
    /// where the portal knows the user by the certificate and no token is needed).
    pub fn is_signed_in(&self) -> bool {
        !matches!(self.credentials, Credentials::Anonymous)
            || self.http.options().client_identity.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_without_double_slashes() {
        let portal = Portal::new(
            "https://gis.example.com/portal/",
            Credentials::Anonymous,
            PortalOptions::default(),
            HttpOptions::default(),
        )
        .unwrap();
        assert_eq!(
            portal
                .endpoint(Root::Sharing, "/portals/self")
                .unwrap()
                .as_str(),
            "https://gis.example.com/portal/sharing/rest/portals/self"
        );
        assert_eq!(
            portal
                .endpoint(Root::PortalAdmin, "license")
                .unwrap()
                .as_str(),
            "https://gis.example.com/portal/portaladmin/license"
        );
        assert_eq!(
            portal.endpoint(Root::Sharing, "").unwrap().as_str(),
            "https://gis.example.com/portal/sharing/rest"
        );
        for path in [
            "community/users/..",
            "community/users/.",
            "orgs/%2E%2e/license",
            "a/./b",
        ] {
            let err = portal.endpoint(Root::Sharing, path).unwrap_err();
            assert_eq!(err.kind(), "invalid_input", "{path}");
        }
        assert!(portal
            .endpoint(Root::Sharing, "community/users/john.smith..x")
            .is_ok());
    }

    #[test]
    fn tokens_renew_early_by_their_lifetime() {
        let now = now_ms();
        let fresh = Token {
            value: Arc::from("t"),
            expires_ms: Some(now + 3_600_000),
            issued_ms: now,
        };
        assert!(!fresh.needs_renewal());
        let late = Token {
            value: Arc::from("t"),
            expires_ms: Some(now + 60_000),
            issued_ms: now - 3_540_000,
        };
        assert!(late.needs_renewal());
        let short = Token {
            value: Arc::from("t"),
            expires_ms: Some(now + 4_000),
            issued_ms: now - 1_000,
        };
        assert!(
            !short.needs_renewal(),
            "a 5 s token is used for half its life"
        );
        for expires in [i64::MIN, i64::MAX, -1] {
            let odd = Token {
                value: Arc::from("t"),
                expires_ms: Some(expires),
                issued_ms: now,
            };
            assert_eq!(odd.needs_renewal(), expires < now, "{expires}");
        }
        let forever = Token {
            value: Arc::from("t"),
            expires_ms: None,
            issued_ms: now,
        };
        assert!(!forever.needs_renewal());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let portal = Portal::new(
            "https://gis.example.com/portal",
            Credentials::Password {
                username: "admin".into(),
                password: "hunter2".into(),
            },
            PortalOptions::default(),
            HttpOptions::default(),
        )
        .unwrap();
        let shown = format!("{portal:?}");
        assert!(
            shown.contains("admin") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
