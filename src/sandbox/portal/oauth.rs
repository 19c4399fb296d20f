//! OAuth 2.0 on the emulated portal, as the official client and gislicense use it:
//! `oauth2/authorize` (its sign-in page carries the `oauth_state`), the sign-in form post
//! (`oauth2/signin`), and `oauth2/token` with the authorization code (PKCE checked when a
//! challenge was sent), refresh token, refresh token exchange and client credentials grants.
//!
//! Apps: the built-in public ones real clients name (`arcgisonline`, `pythonapi`,
//! `arcgispro`), whose redirect URIs are the portal's own origin and
//! `urn:ietf:wg:oauth:2.0:oob`, and one registered app (`oauth_client_id`, with a secret)
//! whose redirect URIs are loopback addresses on any port (RFC 8252) and oob.
//!
//! Choices where Esri documents nothing exact: the sign-in page states its `oauth_state` in a
//! `var oAuthInfo = {...};` line (where both of the official client's flows look for it);
//! a refused sign-in shows the page again with `OAUTH_0015` and "Invalid username or
//! password."; the oob redirect ends on a page titled `SUCCESS code=<code>`; token errors
//! come as `{"error": {"code", "error", "error_description", "message", "details"}}`; an
//! app token acts as the app's owner (the administrator) from 11.4, where OAuth credentials
//! gained assignable administrative privileges, and before 11.4 reaches no member operation.

use std::time::Duration;

use ring::digest::{digest, SHA256};
use serde_json::json;

use super::auth::IssuedToken;
use super::org::PortalState;
use super::wire::{formatted, Answer, PortalRequest, HTML, JSON, REDIRECT};
use super::PortalSite;
use crate::clock::now_ms;
use crate::portal::versions::Feature;

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The public apps of every portal.
const BUILT_IN_APPS: &[&str] = &["arcgisonline", "pythonapi", "arcgispro"];
/// How long an authorization code can be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// A refresh token's life when `oauth2/authorize` asked for none (`expiration`, in minutes, is
/// the refresh token's in the code flow): two weeks, the documented default.
const REFRESH_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);
/// An access token from a code or a refresh token: 30 minutes, what portals give.
const OAUTH_ACCESS_MINUTES: i64 = 30;
/// An app token when the request asks for no `expiration`: 2 hours, the documented default.
const APP_TOKEN_MINUTES: i64 = 120;
const STATE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A sign-in page shown and not yet answered.
pub(super) struct PendingSignIn {
    client_id: String,
    redirect_uri: String,
    /// "code" or "token" (implicit).
    response_type: String,
    state: Option<String>,
    code_challenge: Option<String>,
    expiration_minutes: Option<i64>,
}

/// An authorization code: one exchange, within its lifetime, by the app it was made for.
pub(super) struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    username: String,
    code_challenge: Option<String>,
    expires_ms: i64,
    expiration_minutes: Option<i64>,
}

pub(super) struct IssuedRefresh {
    client_id: String,
    username: String,
    expires_ms: i64,
}

/// A token, code or state: from the thread's CSPRNG, never from the seed, so that no one can
/// predict what a sandbox reachable from other machines hands out.
fn secret_text(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// An OAuth error as the token endpoint gives it.
fn oauth_error(code: i64, error: &str, description: &str) -> Answer {
    (
        200,
        JSON,
        json!({"error": {
            "code": code,
            "error": error,
            "error_description": description,
            "message": description,
            "details": [],
        }})
        .to_string(),
    )
}

/// The token endpoint answers JSON whatever `f` says (clients post without it).
fn json_answer(value: &serde_json::Value) -> Answer {
    (200, JSON, value.to_string())
}

/// The page a browser sees for an error before sign-in (unknown app, redirect URI).
fn error_page(message: &str) -> Answer {
    (
        400,
        HTML,
        format!(
            "<html><head><title>Error</title></head><body><p>Error: {message}</p></body></html>"
        ),
    )
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    url.scheme() == "http" && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// The PKCE S256 challenge of a verifier: base64url of its SHA-256, unpadded.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

impl PortalSite {
    /// Whether `client_id` is an app of this portal, and its secret if it has one.
    fn app(&self, client_id: &str) -> Option<Option<&str>> {
        if BUILT_IN_APPS.contains(&client_id) {
            Some(None)
        } else if client_id == self.options.oauth_client_id {
            Some(Some(self.options.oauth_client_secret.as_str()))
        } else {
            None
        }
    }

    fn redirect_allowed(&self, client_id: &str, uri: &str, origin: &str) -> bool {
        uri == OOB
            || if BUILT_IN_APPS.contains(&client_id) {
                // The portal's own origin, exactly (scheme, host and port).
                url::Url::parse(uri).is_ok_and(|u| u.origin().ascii_serialization() == origin)
            } else {
                is_loopback_redirect(uri)
            }
    }

    /// GET `oauth2/authorize`: the sign-in page, with the pending sign-in's `oauth_state`.
    pub(super) fn authorize(&self, request: &PortalRequest<'_>) -> Answer {
        let client_id = request.param("client_id").unwrap_or("");
        if self.app(client_id).is_none() {
            return error_page("Invalid client_id");
        }
        let redirect_uri = request.param("redirect_uri").unwrap_or("");
        if !self.redirect_allowed(client_id, redirect_uri, request.origin) {
            return error_page("Invalid redirect_uri");
        }
        let response_type = request.param("response_type").unwrap_or("");
        if !matches!(response_type, "code" | "token") {
            return error_page("Invalid response_type");
        }
        if response_type == "token" && redirect_uri == OOB {
            return error_page("Invalid redirect_uri: response_type token needs a redirect URL");
        }
        let challenge = request.param("code_challenge").map(str::to_owned);
        if challenge.is_some()
            && !request
                .param("code_challenge_method")
                .is_some_and(|m| m.eq_ignore_ascii_case("S256"))
        {
            return error_page("Invalid code_challenge_method: only S256 is supported");
        }
        let mut state = self.state();
        let oauth_state = secret_text(40, STATE_CHARS);
        state.pending_sign_ins.insert(
            oauth_state.clone(),
            PendingSignIn {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                response_type: response_type.to_owned(),
                state: request.param("state").map(str::to_owned),
                code_challenge: challenge,
                expiration_minutes: request
                    .param("expiration")
                    .and_then(|e| e.trim().parse().ok()),
            },
        );
        drop(state);
        sign_in_page(request, self.web_root(), &oauth_state, client_id, None)
    }

    /// POST `oauth2/signin`: the sign-in form. Success redirects to the app (the code or, for
    /// response_type token, the token in the fragment); a refusal shows the page again.
    pub(super) fn oauth_sign_in(&self, request: &PortalRequest<'_>) -> Answer {
        let oauth_state = request.param("oauth_state").unwrap_or("");
        let (username, password) = (
            request.param("username").unwrap_or(""),
            request.param("password").unwrap_or(""),
        );
        let Some(client_id) = self
            .state()
            .pending_sign_ins
            .get(oauth_state)
            .map(|p| p.client_id.clone())
        else {
            return error_page("Invalid oauth_state: the sign-in page has expired; start again");
        };
        let i = match self.check_password(username, password) {
            Ok(i) => i,
            Err(refusal) => {
                return sign_in_page(
                    request,
                    self.web_root(),
                    oauth_state,
                    &client_id,
                    Some(refusal),
                )
            }
        };
        let mut state = self.state();
        let Some(pending) = state.pending_sign_ins.remove(oauth_state) else {
            return error_page("Invalid oauth_state: the sign-in page has expired; start again");
        };
        let username = state.members[i].username.clone();
        state.members[i].last_login = now_ms();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if pending.response_type == "token" {
            let minutes = pending.expiration_minutes.unwrap_or(120);
            let (token, expires_ms) =
                self.issue_token(&mut state, &username, minutes, String::new(), false);
            query.append_pair("access_token", &token);
            query.append_pair("expires_in", &((expires_ms - now_ms()) / 1000).to_string());
            query.append_pair("username", &username);
            query.append_pair("ssl", &request.origin.starts_with("https").to_string());
            query.append_pair("token_type", "bearer");
        } else {
            let code = secret_text(48, STATE_CHARS);
            state.codes.insert(
                code.clone(),
                IssuedCode {
                    client_id: pending.client_id,
                    redirect_uri: pending.redirect_uri.clone(),
                    username,
                    code_challenge: pending.code_challenge,
                    expires_ms: now_ms() + CODE_LIFETIME.as_millis() as i64,
                    expiration_minutes: pending.expiration_minutes,
                },
            );
            if pending.redirect_uri == OOB {
                // The code is shown for the user to copy.
                return (
                    200,
                    HTML,
                    format!("<html><head><title>SUCCESS code={code}</title></head><body><p>Copy this code into your application: <code>{code}</code></p></body></html>"),
                );
            }
            query.append_pair("code", &code);
        }
        if let Some(s) = &pending.state {
            query.append_pair("state", s);
        }
        let separator = if pending.response_type == "token" {
            '#'
        } else if pending.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        (
            302,
            REDIRECT,
            format!("{}{separator}{}", pending.redirect_uri, query.finish()),
        )
    }

    /// POST `oauth2/token`.
    pub(super) fn oauth_token(&self, request: &PortalRequest<'_>) -> Answer {
        if request.method != "POST" {
            return oauth_error(
                400,
                "invalid_request",
                "Token requests must be made with POST.",
            );
        }
        let client_id = request.param("client_id").unwrap_or("");
        let Some(secret) = self.app(client_id) else {
            return oauth_error(400, "invalid_client", "Invalid client_id");
        };
        let mut state = self.state();
        match request.param("grant_type").unwrap_or("") {
            "authorization_code" => self.code_grant(&mut state, request, client_id),
            grant @ ("refresh_token" | "exchange_refresh_token") => {
                let exchange = grant == "exchange_refresh_token";
                self.refresh_grant(&mut state, request, client_id, exchange)
            }
            "client_credentials" => self.app_grant(&mut state, request, secret),
            _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type"),
        }
    }

    /// An authorization code (with its PKCE verifier) for an access and a refresh token.
    fn code_grant(
        &self,
        state: &mut PortalState,
        request: &PortalRequest<'_>,
        client_id: &str,
    ) -> Answer {
        let code = request.param("code").unwrap_or("");
        let Some(issued) = state.codes.remove(code) else {
            return oauth_error(400, "invalid_grant", "Invalid authorization code");
        };
        if issued.expires_ms <= now_ms() || issued.client_id != client_id {
            return oauth_error(400, "invalid_grant", "Invalid authorization code");
        }
        if request.param("redirect_uri").unwrap_or("") != issued.redirect_uri {
            return oauth_error(400, "invalid_grant", "Invalid redirect_uri");
        }
        if let Some(challenge) = &issued.code_challenge {
            // RFC 7636 4.1: 43 to 128 unreserved characters.
            let verifier = request.param("code_verifier").unwrap_or("");
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed || pkce_challenge(verifier) != *challenge {
                return oauth_error(400, "invalid_grant", "Invalid code_verifier");
            }
        }
        let refresh_ms = issued
            .expiration_minutes
            .filter(|m| *m > 0)
            .map_or(REFRESH_LIFETIME.as_millis() as i64, |m| {
                m.saturating_mul(60_000)
            });
        let refresh = secret_text(64, STATE_CHARS);
        state.refresh_tokens.insert(
            refresh.clone(),
            IssuedRefresh {
                client_id: client_id.to_owned(),
                username: issued.username.clone(),
                expires_ms: now_ms().saturating_add(refresh_ms),
            },
        );
        let (token, expires_ms) = self.issue_token(
            state,
            &issued.username,
            OAUTH_ACCESS_MINUTES,
            String::new(),
            false,
        );
        json_answer(&json!({
            "access_token": token,
            "expires_in": (expires_ms - now_ms()) / 1000,
            "username": issued.username,
            "ssl": request.origin.starts_with("https"),
            "refresh_token": refresh,
            "refresh_token_expires_in": refresh_ms / 1000,
        }))
    }

    /// A refresh token for an access token; with `exchange`, for a new refresh token too
    /// (the old one is spent).
    fn refresh_grant(
        &self,
        state: &mut PortalState,
        request: &PortalRequest<'_>,
        client_id: &str,
        exchange: bool,
    ) -> Answer {
        let given = request.param("refresh_token").unwrap_or("");
        let Some(username) = state
            .refresh_tokens
            .get(given)
            .filter(|r| r.client_id == client_id && r.expires_ms > now_ms())
            .map(|r| r.username.clone())
        else {
            return oauth_error(498, "invalid_token", "Invalid refresh_token");
        };
        if state
            .find(&username)
            .is_none_or(|i| state.members[i].disabled)
        {
            return oauth_error(400, "invalid_grant", "This account has been disabled.");
        }
        let (token, expires_ms) =
            self.issue_token(state, &username, OAUTH_ACCESS_MINUTES, String::new(), false);
        let mut reply = json!({
            "access_token": token,
            "expires_in": (expires_ms - now_ms()) / 1000,
            "username": username,
            "ssl": request.origin.starts_with("https"),
        });
        if exchange {
            state.refresh_tokens.remove(given);
            let refresh = secret_text(64, STATE_CHARS);
            state.refresh_tokens.insert(
                refresh.clone(),
                IssuedRefresh {
                    client_id: client_id.to_owned(),
                    username,
                    expires_ms: now_ms() + REFRESH_LIFETIME.as_millis() as i64,
                },
            );
            reply["refresh_token"] = json!(refresh);
            reply["refresh_token_expires_in"] = json!(REFRESH_LIFETIME.as_secs());
        }
        json_answer(&reply)
    }

    /// An app's credentials for a token of its own, owned by the administrator.
    fn app_grant(
        &self,
        state: &mut PortalState,
        request: &PortalRequest<'_>,
        secret: Option<&str>,
    ) -> Answer {
        let Some(expected) = secret else {
            return oauth_error(400, "invalid_client", "Invalid client_id");
        };
        if request.param("client_secret") != Some(expected) {
            return oauth_error(400, "invalid_client", "Invalid client_secret");
        }
        let minutes = request
            .param("expiration")
            .and_then(|e| e.trim().parse::<i64>().ok());
        let owner = self.options.admin_username.clone();
        let (token, expires_ms) = self.issue_token(
            state,
            &owner,
            minutes.unwrap_or(APP_TOKEN_MINUTES),
            String::new(),
            true,
        );
        json_answer(&json!({"access_token": token, "expires_in": (expires_ms - now_ms()) / 1000}))
    }

    /// Revoke every refresh token: the next refresh is refused.
    pub fn revoke_refresh_tokens(&self) {
        self.state().refresh_tokens.clear();
    }

    /// Whether an app token may act for its owner at this release.
    pub(super) fn app_tokens_act(&self) -> bool {
        self.options.serves(Feature::AppCredentials)
    }
}

/// The sign-in page: the `oauth_state` in its `oAuthInfo` line, and a refusal if there was one.
fn sign_in_page(
    request: &PortalRequest<'_>,
    web_root: &str,
    oauth_state: &str,
    client_id: &str,
    refusal: Option<String>,
) -> Answer {
    let mut info = json!({
        "oauth_state": oauth_state,
        "clientId": client_id,
        "appTitle": "gislicense sandbox",
        "portalName": "Portal for ArcGIS",
    });
    if let Some(message) = refusal {
        info["error"] = json!({"code": "OAUTH_0015", "message": message});
        info["messages"] = json!([message]);
    }
    if request
        .param("f")
        .is_some_and(|f| f.eq_ignore_ascii_case("json"))
    {
        return formatted(request, &info);
    }
    let action = format!("{}{web_root}/sharing/oauth2/signin", request.origin);
    (
        200,
        HTML,
        format!(
            "<html><head><title>Sign In</title><script>\nvar oAuthInfo = {info};\n</script></head>\
             <body><form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"oauth_state\" value=\"{oauth_state}\">\
             <input name=\"username\"><input name=\"password\" type=\"password\">\
             <button type=\"submit\">Sign In</button></form></body></html>"
        ),
    )
}

/// Tokens and codes issued by sign-in, for [`PortalSite::issue_token`].
impl PortalSite {
    pub(super) fn issue_token(
        &self,
        state: &mut super::org::PortalState,
        username: &str,
        minutes: i64,
        referer: String,
        app: bool,
    ) -> (String, i64) {
        let lifetime_ms = (minutes.max(1).saturating_mul(60_000))
            .min(self.options.token_lifetime.as_millis() as i64);
        let expires_ms = now_ms() + lifetime_ms;
        let token = secret_text(96, super::auth::TOKEN_CHARS);
        state.tokens.insert(
            token.clone(),
            IssuedToken {
                username: username.to_owned(),
                expires_ms,
                referer,
                app,
            },
        );
        (token, expires_ms)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pkce_challenge_is_unpadded_base64url_of_sha256() {
        // As the official client computes it: base64.urlsafe_b64encode(
        // hashlib.sha256(verifier).digest()).strip("=").
        assert_eq!(
            super::pkce_challenge("dBjftJeZ4CVP-mJ0kZmh1c8Hg0b-7XbQ5RsRyUW6Ylc"),
            "9sm2ypS8u8MJXLQQn6Qh6HVcwQJHCf2pJbj9URApUmo"
        );
        // RFC 7636, Appendix B, as the client's own test checks it.
        assert_eq!(
            super::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
