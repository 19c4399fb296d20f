//! Signing in to the emulated portal: generateToken with its lockout after failed attempts,
//! the tokens it issues (bound to a referer when the client asks for one), and who a request
//! comes from and what they may do.

use std::time::{Duration, Instant};

use serde_json::json;

use super::org::UPDATE_USERS;
use super::wire::{error_answer, forbidden, formatted, Answer, Api, PortalRequest, JSON};
use super::PortalSite;
use crate::clock::now_ms;

pub(super) const FAILED_LOGINS_BEFORE_LOCK: u32 = 5;
const LOCK_TIME: Duration = Duration::from_secs(15 * 60);

/// What a token is made of.
pub(super) const TOKEN_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

/// A token the portal issued: whose, until when, and the referer it is bound to (if any).
pub(super) struct IssuedToken {
    pub(super) username: String,
    pub(super) expires_ms: i64,
    pub(super) referer: String,
    /// Made for an app by its credentials (client_credentials), not by a member's sign-in.
    pub(super) app: bool,
}

impl PortalSite {
    /// The member's user name a token belongs to, if the token is valid now.
    pub fn token_user(&self, token: &str) -> Option<String> {
        let state = self.state();
        let issued = state.tokens.get(token)?;
        (issued.expires_ms > now_ms()).then(|| issued.username.clone())
    }

    /// Revoke every token: the next request with one gets 498.
    pub fn expire_tokens(&self) {
        self.state().tokens.clear();
    }

    pub(super) fn generate_token(&self, request: &PortalRequest<'_>) -> Answer {
        let fail =
            |detail: &str| error_answer(Api::Sharing, 400, "Unable to generate token.", &[detail]);
        if request.method != "POST" {
            return fail("Token requests must be made with POST.");
        }
        let (Some(username), Some(password)) =
            (request.param("username"), request.param("password"))
        else {
            return fail("'username' and 'password' must be specified.");
        };
        let i = match self.check_password(username, password) {
            Ok(i) => i,
            Err(refusal) => return fail(&refusal),
        };
        let minutes = request
            .param("expiration")
            .and_then(|e| e.trim().parse::<i64>().ok())
            .filter(|m| *m > 0)
            .unwrap_or(60);
        let client = request
            .param("client")
            .unwrap_or("referer")
            .to_ascii_lowercase();
        let referer = if client == "referer" {
            request.param("referer").unwrap_or("").to_owned()
        } else {
            String::new()
        };
        let mut state = self.state();
        let canonical = state.members[i].username.clone();
        state.members[i].last_login = now_ms();
        let (token, expires_ms) = self.issue_token(&mut state, &canonical, minutes, referer, false);
        let ssl = request.origin.starts_with("https");
        formatted(
            request,
            &json!({"token": token, "expires": expires_ms, "ssl": ssl}),
        )
    }

    /// A member's password, with the lockout after failed attempts (generateToken and the
    /// OAuth sign-in page alike): the member's index, or the refusal's words.
    pub(super) fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> std::result::Result<usize, String> {
        let key = username.to_lowercase();
        let mut state = self.state();
        if let Some((count, last)) = state.failed_logins.get(&key) {
            if *count >= FAILED_LOGINS_BEFORE_LOCK && last.elapsed() < LOCK_TIME {
                return Err("Too many invalid logon attempts. Please try again later.".into());
            }
        }
        let expected = if key == self.options.admin_username.to_lowercase() {
            Some(&self.options.admin_password)
        } else if key == self.options.user_username.to_lowercase() {
            Some(&self.options.user_password)
        } else {
            None
        };
        let Some(i) = state
            .find(username)
            .filter(|_| expected.is_some_and(|p| p == password))
        else {
            let entry = state
                .failed_logins
                .entry(key)
                .or_insert((0, Instant::now()));
            if entry.1.elapsed() >= LOCK_TIME {
                entry.0 = 0;
            }
            entry.0 += 1;
            entry.1 = Instant::now();
            return Err("Invalid username or password.".into());
        };
        if state.members[i].disabled {
            return Err("This account has been disabled.".into());
        }
        state.failed_logins.remove(&key);
        Ok(i)
    }

    /// Who is calling: Ok(None) anonymous, Ok(Some(index)) signed in, Err(answer) rejected.
    pub(super) fn caller(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
    ) -> std::result::Result<Option<usize>, Answer> {
        let Some(token) = request.token() else {
            // PKI: without a token, the member the client certificate names (the web tier
            // signed them in).
            let Some(name) = request.web_user else {
                return Ok(None);
            };
            let state = self.state();
            return match state.find(name) {
                Some(i) if !state.members[i].disabled => Ok(Some(i)),
                // A certificate the CA vouches for, of no member who may sign in.
                _ => Err(error_answer(
                    api,
                    403,
                    &format!("The account '{name}' of the client certificate cannot sign in: it does not exist or is disabled."),
                    &[],
                )),
            };
        };
        let state = self.state();
        let valid = state.tokens.get(token).filter(|t| {
            t.expires_ms > now_ms()
                && (t.referer.is_empty() || request.referer == Some(t.referer.as_str()))
        });
        // An app token before 11.4 carries no member's privileges.
        if valid.is_some_and(|t| t.app) && !self.app_tokens_act() {
            return Err(error_answer(
                api,
                403,
                &format!(
                    "App credentials reach no administrative operation before ArcGIS Enterprise \
                     11.4 (this portal reports REST {}).",
                    self.options().version
                ),
                &[],
            ));
        }
        match valid.and_then(|t| state.find(&t.username)) {
            Some(i) if !state.members[i].disabled => Ok(Some(i)),
            _ => Err(error_answer(api, 498, "Invalid token.", &[])),
        }
    }

    pub(super) fn signed_in(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
    ) -> std::result::Result<usize, Answer> {
        match self.caller(request, api)? {
            Some(i) => Ok(i),
            None => Err(match api {
                Api::Sharing => (
                    200,
                    JSON,
                    // As ArcGIS Online and Enterprise send it: `details` repeats the message.
                    json!({"error": {"code": 499, "message": "Token Required", "messageCode": "GWM_0003", "details": ["Token Required"]}})
                        .to_string(),
                ),
                Api::Admin => error_answer(api, 499, "Token Required", &[]),
            }),
        }
    }

    pub(super) fn admin(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
    ) -> std::result::Result<usize, Answer> {
        self.privileged(request, api, UPDATE_USERS)
    }

    /// The caller, if signed in with `privilege`; a 403 in the envelope of `api` otherwise.
    pub(super) fn privileged(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
        privilege: &str,
    ) -> std::result::Result<usize, Answer> {
        let i = self.signed_in(request, api)?;
        if self.state().members[i].has_privilege(privilege) {
            Ok(i)
        } else {
            Err(forbidden(api))
        }
    }
}
