//! Choosing how to sign in from what a caller gave: the one place for the rule "one way to
//! sign in" and its messages. The Python facade asks it before starting a browser sign-in,
//! and the client's credentials are made through it.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::portal::client::{Credentials, OAuthGrant, TokenSource};
use crate::portal::oauth::AuthorizationCode;

/// What a caller gave to sign in with; any part may be missing.
#[derive(Default)]
pub struct SignInParts {
    pub username: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The way of signing in that the given parts choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInWay {
    Anonymous,
    /// A user name, and its password (which may still be asked for).
    Password,
    /// A token or API key made elsewhere.
    Token,
    /// App credentials: a client id and its secret.
    App,
    /// A client id alone: a person signs in on the portal's sign-in page.
    OAuthCode,
}

impl SignInWay {
    /// Its name for the facade.
    pub fn name(self) -> &'static str {
        match self {
            SignInWay::Anonymous => "anonymous",
            SignInWay::Password => "password",
            SignInWay::Token => "token",
            SignInWay::App => "app",
            SignInWay::OAuthCode => "oauth",
        }
    }
}

/// Refused when a client id comes with the wrong companion: a secret and a sign-in page's
/// code, or neither.
const APP_OR_CODE: &str = "client_id signs in with client_secret (app credentials) or with the \
                           code of a sign-in page, not both";

impl SignInParts {
    /// The one way these parts sign in, or why they are not one way. A user name without its
    /// password is the password way: the caller may still ask for the password.
    pub fn way(&self) -> Result<SignInWay> {
        let person = self.username.is_some() || self.password.is_some();
        if self.token.is_some() && person {
            return Err(Error::invalid(
                "pass token= or username= and password=, not both",
            ));
        }
        if self.client_secret.is_some() && self.client_id.is_none() {
            return Err(Error::invalid("client_secret= needs the app's client_id="));
        }
        if self.client_id.is_some() && (person || self.token.is_some()) {
            return Err(Error::invalid(
                "pass client_id= (OAuth), or username= and password=, or token=: one way to \
                 sign in",
            ));
        }
        Ok(match (&self.client_id, &self.client_secret) {
            (Some(_), Some(_)) => SignInWay::App,
            (Some(_), None) => SignInWay::OAuthCode,
            (None, _) if self.token.is_some() => SignInWay::Token,
            (None, _) if self.username.is_some() => SignInWay::Password,
            // A password without a user name signs nobody in.
            (None, _) => SignInWay::Anonymous,
        })
    }

    /// The client's credentials. `token_expires_ms`: when a given token expires, if known;
    /// `code`: the sign-in page's code, for the OAuth way; `source`: where a given token is
    /// asked for again when it expires (ArcGIS Pro's sign-in), if anywhere.
    pub fn credentials(
        self,
        token_expires_ms: Option<i64>,
        code: Option<AuthorizationCode>,
        source: Option<Arc<TokenSource>>,
    ) -> Result<Credentials> {
        let way = self.way()?;
        let SignInParts {
            username,
            password,
            token,
            client_id,
            client_secret,
        } = self;
        Ok(match (way, code) {
            (SignInWay::App, None) => Credentials::App {
                client_id: client_id.unwrap_or_default(),
                client_secret: client_secret.unwrap_or_default(),
            },
            (SignInWay::OAuthCode, Some(code)) => Credentials::OAuth {
                client_id: client_id.unwrap_or_default(),
                grant: Mutex::new(OAuthGrant::Code(code)),
            },
            (SignInWay::App | SignInWay::OAuthCode, _) => return Err(Error::invalid(APP_OR_CODE)),
            (SignInWay::Token, _) => match source {
                Some(source) => Credentials::Source(source),
                None => Credentials::Token {
                    token: token.unwrap_or_default(),
                    expires_ms: token_expires_ms,
                },
            },
            (SignInWay::Password, _) => match (username, password) {
                (Some(username), Some(password)) => Credentials::Password { username, password },
                _ => return Err(Error::invalid("a username needs a password")),
            },
            (SignInWay::Anonymous, _) => Credentials::Anonymous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(given: &[(&str, &str)]) -> SignInParts {
        let get = |name: &str| {
            given
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        SignInParts {
            username: get("username"),
            password: get("password"),
            token: get("token"),
            client_id: get("client_id"),
            client_secret: get("client_secret"),
        }
    }

    fn refusal(given: &[(&str, &str)]) -> String {
        parts(given).way().unwrap_err().to_string()
    }

    #[test]
    fn each_way_from_its_parts() {
        let cases: [(&[(&str, &str)], SignInWay); 6] = [
            (&[], SignInWay::Anonymous),
            (&[("password", "p")], SignInWay::Anonymous),
            (&[("username", "u")], SignInWay::Password),
            (&[("username", "u"), ("password", "p")], SignInWay::Password),
            (&[("token", "t")], SignInWay::Token),
            (&[("client_id", "c")], SignInWay::OAuthCode),
        ];
        for (given, way) in cases {
            assert_eq!(parts(given).way().unwrap(), way);
        }
        let app = parts(&[("client_id", "c"), ("client_secret", "s")]);
        assert_eq!(app.way().unwrap().name(), "app");
    }

    #[test]
    fn more_than_one_way_is_refused_with_the_first_rule_broken() {
        assert!(refusal(&[("token", "t"), ("username", "u")]).contains("not both"));
        assert!(
            refusal(&[("token", "t"), ("client_id", "c"), ("password", "p")])
                .contains("pass token= or username= and password=, not both")
        );
        assert!(refusal(&[("client_secret", "s")]).contains("needs the app's client_id="));
        assert!(refusal(&[("client_id", "c"), ("username", "u")]).contains("one way to sign in"));
        assert!(refusal(&[("client_id", "c"), ("token", "t")]).contains("one way to sign in"));
    }

    #[test]
    fn credentials_need_what_their_way_needs() {
        let no_password = parts(&[("username", "u")]).credentials(None, None, None);
        assert!(no_password
            .unwrap_err()
            .to_string()
            .contains("a username needs a password"));
        let no_code = parts(&[("client_id", "c")]).credentials(None, None, None);
        assert!(no_code.unwrap_err().to_string().contains("not both"));
        let token = parts(&[("token", "t")]).credentials(Some(5), None, None);
        assert!(matches!(
            token.unwrap(),
            Credentials::Token {
                expires_ms: Some(5),
                ..
            }
        ));
    }
}
