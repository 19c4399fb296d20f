//! Signing in to a portal and renewing its token: from a password, app credentials, an
//! OAuth grant, or a token source; and what a refused sign-in says.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use url::Url;

use super::{now_ms, Credentials, OAuthGrant, Portal, Root, Token};
use crate::error::{Error, Result};
use crate::http::{Body, Effect, Request, Response};
use crate::portal::envelope;
use crate::renewal::Renew;

/// Its log lines keep the logger name they had before this module was split out of its
/// parent: `gislicense.portal.client`, which users' logging configurations name.
const LOG_TARGET: &str = "gislicense::portal::client";

/// A token from username and password is renewed early by its lifetime and when the portal
/// rejects it; a token given with token= is used as it is.
impl Renew for Portal {
    type Credential = Token;
    const NAME: &'static str = "token";
    const RENEWING: &'static str = "signing in again";

    fn is_due(&self, token: &Token) -> bool {
        self.can_renew() && token.needs_renewal()
    }

    fn can_renew(&self) -> bool {
        !matches!(
            self.credentials,
            Credentials::Anonymous | Credentials::Token { .. }
        )
    }

    /// Sign in again, the way the credentials say.
    async fn renew(&self) -> Result<Arc<Token>> {
        match &self.credentials {
            Credentials::Password { username, password } => {
                self.generate_token(username, password).await
            }
            Credentials::App {
                client_id,
                client_secret,
            } => {
                let params = [
                    ("grant_type", "client_credentials".to_owned()),
                    ("client_id", client_id.clone()),
                    ("client_secret", client_secret.clone()),
                    ("expiration", self.options.expiration_minutes.to_string()),
                ];
                let what = format!("signing in with the app credentials of {client_id:?}");
                self.oauth_token(&params, &what, Effect::Read)
                    .await
                    .map(|(token, _)| token)
            }
            Credentials::OAuth { client_id, grant } => self.oauth_renew(client_id, grant).await,
            Credentials::Source(source) => {
                let (value, expires_ms) = source().map_err(|err| match err {
                    // The source does not know where it is used.
                    Error::Authentication { url, message } if url.is_empty() => {
                        Error::Authentication {
                            url: self.url().to_owned(),
                            message,
                        }
                    }
                    other => other,
                })?;
                if value.trim().is_empty() {
                    return Err(Error::Authentication {
                        url: self.url().to_owned(),
                        message: "the token source gave no token: sign in again".into(),
                    });
                }
                Ok(Arc::new(Token {
                    value: Arc::from(value),
                    expires_ms,
                    issued_ms: now_ms(),
                }))
            }
            Credentials::Anonymous | Credentials::Token { .. } => Err(Error::invalid(
                "a token given with token= cannot be made again here",
            )),
        }
    }

    /// A refusal of what this client sends the portal (a password, app credentials, a code or
    /// refresh token) stands. A token source is asked again: asking ArcGIS Pro sends the
    /// portal nothing, and Pro may have signed in again meanwhile.
    fn refusal_is_final(&self) -> bool {
        !matches!(self.credentials, Credentials::Source(_))
    }

    fn rejected(&self, url: String, message: String) -> Error {
        match &self.credentials {
            Credentials::Anonymous => Error::Authentication {
                url,
                message: format!(
                    "{message}: this needs a signed-in user; pass username= and password=, token=, client_id= or cert_file="
                ),
            },
            Credentials::Token { .. } => Error::TokenExpired {
                url,
                message: format!(
                    "{message}: the token given with token= has expired or was revoked; get a new one"
                ),
            },
            _ => Error::Authentication {
                url,
                message: format!("{message}, even with a token made just now"),
            },
        }
    }
}

impl Portal {
    /// An OAuth sign-in's next token: the code exchanged (once), else the refresh token used.
    async fn oauth_renew(&self, client_id: &str, grant: &Mutex<OAuthGrant>) -> Result<Arc<Token>> {
        let (params, what, effect) = {
            let held = grant
                .lock()
                .map_err(|_| Error::invalid("the sign-in state is unusable"))?;
            match &*held {
                OAuthGrant::Code(code) => (
                    vec![
                        ("grant_type", "authorization_code".to_owned()),
                        ("client_id", client_id.to_owned()),
                        ("code", code.code.clone()),
                        ("code_verifier", code.verifier.clone()),
                        ("redirect_uri", code.redirect_uri.clone()),
                    ],
                    "signing in with the code from the sign-in page".to_owned(),
                    // A code is spent by the server's first answer: never sent twice.
                    Effect::Write,
                ),
                OAuthGrant::Refresh(refresh) => (
                    vec![
                        ("grant_type", "refresh_token".to_owned()),
                        ("client_id", client_id.to_owned()),
                        ("refresh_token", refresh.clone()),
                    ],
                    "renewing the sign-in with its refresh token (revoked or expired: sign \
                     in again with GIS(url, client_id=...))"
                        .to_owned(),
                    Effect::Read,
                ),
                OAuthGrant::Spent => {
                    return Err(Error::Authentication {
                        url: self.url().to_owned(),
                        message: "the portal gave this sign-in no refresh token, and its access \
                                  token has run out: sign in again with GIS(url, client_id=...)"
                            .into(),
                    })
                }
            }
        };
        let exchanging = effect == Effect::Write;
        let (token, reply) = self.oauth_token(&params, &what, effect).await?;
        let refresh = reply.get("refresh_token").and_then(Value::as_str);
        if let Ok(mut held) = grant.lock() {
            match refresh {
                Some(refresh) => *held = OAuthGrant::Refresh(refresh.to_owned()),
                None if exchanging => *held = OAuthGrant::Spent,
                None => {}
            }
        }
        if let Some(username) = reply.get("username").and_then(Value::as_str) {
            if let Ok(mut who) = self.signed_in_as.lock() {
                if who.is_none() {
                    log::info!(target: LOG_TARGET, "signed in to {} as {username} (OAuth)", self.url());
                }
                *who = Some(username.to_owned());
            }
        }
        Ok(token)
    }

    /// POST `oauth2/token`: the access token and the whole reply. A refusal is an
    /// authentication error saying `what` was being done, with the portal's reason.
    async fn oauth_token(
        &self,
        params: &[(&str, String)],
        what: &str,
        effect: Effect,
    ) -> Result<(Arc<Token>, Map<String, Value>)> {
        let url = self.endpoint(Root::Sharing, "oauth2/token")?;
        let mut fields: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        fields.push(("f".to_owned(), "json".to_owned()));
        let (issued_ms, response, reply) = self.sign_in_request(url, fields, effect, what).await?;
        let value = reply
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                without_body(response.unreadable("oauth2/token replied without an access_token"))
            })?;
        // Seconds, as a number or (some releases) a string.
        let expires_in = match reply.get("expires_in") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let token = Arc::new(Token {
            value: Arc::from(value),
            expires_ms: expires_in.map(|s| issued_ms.saturating_add(s.saturating_mul(1000))),
            issued_ms,
        });
        Ok((token, reply))
    }

    /// Post a sign-in form (generateToken, oauth2/token) with the Referer: when it was sent
    /// (to date the token), the reply, and its JSON; a refusal is an authentication error
    /// saying `what` was being done.
    async fn sign_in_request(
        &self,
        url: Url,
        fields: Vec<(String, String)>,
        effect: Effect,
        what: &str,
    ) -> Result<(i64, Response, Map<String, Value>)> {
        let request = Request::post(url, Body::Form(fields), effect)
            .header("Referer", self.options.referer.clone());
        let issued_ms = now_ms();
        let response = self.http.send(&request).await?;
        let reply = envelope::check(&response).map_err(|err| refused_sign_in(err, what))?;
        Ok((issued_ms, response, reply))
    }

    /// Sign in with generateToken.
    async fn generate_token(&self, username: &str, password: &str) -> Result<Arc<Token>> {
        let url = self.endpoint(Root::Sharing, "generateToken")?;
        let fields = vec![
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("client".to_owned(), "referer".to_owned()),
            ("referer".to_owned(), self.options.referer.clone()),
            (
                "expiration".to_owned(),
                self.options.expiration_minutes.to_string(),
            ),
            ("f".to_owned(), "json".to_owned()),
        ];
        let what = format!("sign-in as {username:?}");
        let (issued_ms, response, reply) = self
            .sign_in_request(url, fields, Effect::Read, &what)
            .await?;
        let value = reply
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                without_body(response.unreadable("generateToken replied without a token"))
            })?;
        log::info!(target: LOG_TARGET, "signed in to {} as {username}", self.url());
        Ok(Arc::new(Token {
            value: Arc::from(value),
            expires_ms: reply.get("expires").and_then(Value::as_i64),
            issued_ms,
        }))
    }
}

/// A token endpoint's reply may hold secrets (a refresh token beside an empty access token):
/// its text stays out of the error.
fn without_body(err: Error) -> Error {
    match err {
        Error::UnreadableReply {
            url,
            status,
            problem,
            ..
        } => Error::UnreadableReply {
            url,
            status,
            problem,
            body_start: String::new(),
        },
        other => other,
    }
}

/// A refusal of credentials as an authentication error; a server failing (HTTP 5xx, or code
/// 500 and up in the envelope) stays a server error: it says nothing of the credentials.
fn refused_sign_in(err: Error, what: &str) -> Error {
    match err {
        Error::Server {
            url,
            message,
            details,
            status,
            code,
        } if code.unwrap_or(status.map_or(0, i64::from)) < 500 => Error::Authentication {
            url,
            message: if details.is_empty() {
                format!("{what} failed: {message}")
            } else {
                format!("{what} failed: {message} {}", details.join(" "))
            },
        },
        Error::TokenExpired { url, message } => Error::Authentication {
            url,
            message: format!("{what} failed: {message}"),
        },
        other => other,
    }
}
