//! Signing a person in through OAuth 2.0 (RFC 6749, with PKCE, RFC 7636): the portal's
//! `oauth2/authorize` page does the sign-in, so every identity provider the portal federates
//! (SAML, OIDC) works. The authorization code comes back to a one-request loopback listener on
//! 127.0.0.1 (RFC 8252), or, where no browser can open here, on the portal's own page
//! (`urn:ietf:wg:oauth:2.0:oob`) for the person to paste. [`Portal`](super::Portal) then
//! exchanges it once and renews with the refresh token it brings (`Credentials::OAuth`).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::distr::{Alphanumeric, SampleString};
use ring::digest::{digest, SHA256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::error::{Error, Result};
use crate::portal::url::portal_url;

/// The redirect URI of a code shown on the portal's page instead of sent to an app.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The most a browser's request to the loopback listener may hold before its blank line.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// What a token request exchanging a code needs: the code, and what proves it is ours.
#[derive(Clone)]
pub struct AuthorizationCode {
    pub code: String,
    pub verifier: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuthorizationCode(***, redirect_uri={:?})",
            self.redirect_uri
        )
    }
}

/// One sign-in under way: the page to open and how its code comes back.
pub struct Authorization {
    url: String,
    redirect_uri: String,
    verifier: String,
    state: String,
    listener: Option<std::net::TcpListener>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL carries only the challenge and the state, not the verifier.
        f.debug_struct("Authorization")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Authorization {
    /// A sign-in for `client_id` at `portal`: with `loopback`, the code comes back to a
    /// listener on 127.0.0.1 (a port the system picks); without, it is shown to be pasted.
    /// `refresh_minutes` asks for a refresh token of that life (in the code flow,
    /// `expiration` on `oauth2/authorize` is the refresh token's; access tokens last what the
    /// portal gives, 30 minutes by default).
    pub fn start(
        portal: &str,
        client_id: &str,
        loopback: bool,
        refresh_minutes: u32,
        allow_insecure_http: bool,
    ) -> Result<Authorization> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(Error::invalid("client_id is empty"));
        }
        let portal = portal_url(portal, allow_insecure_http)?;
        let (listener, redirect_uri) = if loopback {
            let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
                Error::invalid(format!(
                    "cannot listen on 127.0.0.1 for the sign-in to come back: {e}"
                ))
            })?;
            let port = listener
                .local_addr()
                .map_err(|e| Error::invalid(format!("cannot read the listener's port: {e}")))?
                .port();
            (Some(listener), format!("http://127.0.0.1:{port}/"))
        } else {
            (None, OOB.to_owned())
        };
        // 64 letters and digits from the thread's CSPRNG: within RFC 7636's 43 to 128.
        let verifier = Alphanumeric.sample_string(&mut rand::rng(), 64);
        let state = Alphanumeric.sample_string(&mut rand::rng(), 24);
        let mut url = Url::parse(&format!(
            "{}/sharing/rest/oauth2/authorize",
            portal.as_str().trim_end_matches('/')
        ))
        .map_err(|e| Error::invalid(format!("bad portal URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("expiration", &refresh_minutes.to_string());
        Ok(Authorization {
            url: url.into(),
            redirect_uri,
            verifier,
            state,
            listener,
        })
    }

    /// The portal's sign-in page to open in a browser.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the code comes back to the loopback listener (else it is pasted).
    pub fn is_loopback(&self) -> bool {
        self.listener.is_some()
    }

    /// Wait for the browser to come back to the loopback listener with the code, for at most
    /// `timeout`. Requests that are not the sign-in's (a favicon) are answered and ignored.
    pub async fn receive(&self, timeout: Duration) -> Result<AuthorizationCode> {
        let Some(listener) = &self.listener else {
            return Err(Error::invalid(
                "this sign-in shows its code on the portal's page: paste it instead",
            ));
        };
        let listener = listener
            .try_clone()
            .and_then(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            })
            .map_err(|e| Error::invalid(format!("cannot wait for the sign-in: {e}")))?;
        let waited = tokio::time::timeout(timeout, async {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    // Out of file handles, say: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let target = match read_request_target(&mut stream).await {
                    Some(target) => target,
                    None => continue,
                };
                // Only the redirect path with this sign-in's state counts: anything else (a
                // favicon, a request forged by another page or process) is answered and the
                // wait goes on.
                let outcome = self.code_from_target(&target);
                let (status, text) = match &outcome {
                    Some(Ok(_)) => ("200 OK", "Signed in. You can close this window and return to your script."),
                    Some(Err(_)) => ("400 Bad Request", "The sign-in did not complete. Return to your script for the reason."),
                    None => ("400 Bad Request", "This is not the sign-in this script started."),
                };
                let page = format!(
                    "<html><head><title>gislicense</title></head><body><p>{text}</p></body></html>"
                );
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
                if let Some(outcome) = outcome {
                    return outcome;
                }
            }
        })
        .await;
        waited.unwrap_or_else(|_| {
            Err(Error::Authentication {
                url: self.shown_url(),
                message: format!(
                    "no sign-in came back within {} s: open the sign-in page and sign in, or try \
                     again",
                    timeout.as_secs()
                ),
            })
        })
    }

    /// The code from what a person pasted: the code itself (or the page's title, `SUCCESS
    /// code=...`), or the whole address the browser ended on.
    pub fn code_from_text(&self, text: &str) -> Result<AuthorizationCode> {
        let text = text.trim();
        let text = text.strip_prefix("SUCCESS code=").unwrap_or(text).trim();
        if text.is_empty() {
            return Err(Error::invalid("no code was given"));
        }
        let is_address = text.contains("://") || text.contains('?') || text.contains('#');
        if is_address || text.contains("code=") || text.contains("error=") {
            let query = text.split_once(['?', '#']).map_or(text, |(_, query)| query);
            return self.code_from_query(query).unwrap_or_else(|| {
                Err(Error::invalid(
                    "the pasted address holds no code: paste the code the portal's page shows, \
                     or the address the browser ended on after signing in",
                ))
            });
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid(
                "the pasted code holds spaces or control characters: copy the code alone, as \
                 the portal shows it",
            ));
        }
        Ok(self.code(text))
    }

    fn code(&self, code: &str) -> AuthorizationCode {
        AuthorizationCode {
            code: code.to_owned(),
            verifier: self.verifier.clone(),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    /// The outcome of a request to the listener: None when it is not the sign-in's (another
    /// path, or not this sign-in's state).
    fn code_from_target(&self, target: &str) -> Option<Result<AuthorizationCode>> {
        let (path, query) = target.split_once('?')?;
        if path != "/" {
            return None;
        }
        self.code_from_query(query)
            .filter(|outcome| !matches!(outcome, Err(Error::Authentication { message, .. }) if message.contains("state")))
    }

    /// The code, or the portal's refusal, from a redirect's query; the state must be this
    /// sign-in's (RFC 6749 10.12: a code or error someone else sends is not taken).
    fn code_from_query(&self, query: &str) -> Option<Result<AuthorizationCode>> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if get("code").is_none() && get("error").is_none() {
            return None;
        }
        if get("state") != Some(self.state.as_str()) {
            return Some(Err(Error::Authentication {
                url: self.shown_url(),
                message: "the sign-in that came back is not the one started here (its state \
                          differs or is missing): start again"
                    .into(),
            }));
        }
        if let Some(error) = get("error") {
            let description = get("error_description").unwrap_or(error);
            return Some(Err(Error::Authentication {
                url: self.shown_url(),
                message: format!("the portal did not sign you in: {description}"),
            }));
        }
        get("code").map(|code| Ok(self.code(code)))
    }

    /// The sign-in page's URL without its query, for messages.
    fn shown_url(&self) -> String {
        self.url.split('?').next().unwrap_or("").to_owned()
    }
}

/// The PKCE S256 challenge of a verifier: base64url of its SHA-256, unpadded.
fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// The target of a request's first line (`GET /?code=... HTTP/1.1` → `/?code=...`).
async fn read_request_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_HEAD {
            return None;
        }
        // Short: an idle connection (a browser's preconnect) must not hold up the redirect.
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer))
            .await
            .ok()?
            .ok()?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut first = head.lines().next()?.split_whitespace();
    let (method, target) = (first.next()?, first.next()?);
    (method == "GET").then(|| target.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_sandboxs() {
        let verifier = "a-verifier-of-enough-length-for-pkce-0123456789";
        assert_eq!(
            challenge(verifier),
            crate::sandbox::portal::pkce_challenge(verifier)
        );
    }

    #[test]
    fn pasted_codes_and_urls_are_read_and_states_checked() {
        let auth = Authorization::start("https://gis.example.com/portal", "app", false, 60, false)
            .unwrap();
        assert!(auth.url().starts_with(
            "https://gis.example.com/portal/sharing/rest/oauth2/authorize?client_id=app"
        ));
        assert!(auth.url().contains("code_challenge_method=S256"));
        assert!(!auth.url().contains(&auth.verifier));
        assert_eq!(auth.code_from_text(" abc123 \n").unwrap().code, "abc123");
        assert_eq!(
            auth.code_from_text("SUCCESS code=abc123").unwrap().code,
            "abc123"
        );
        let link = auth.code_from_text(auth.url()).unwrap_err();
        assert!(link.to_string().contains("holds no code"), "{link}");
        let back = format!("https://x/?code=xyz&state={}", auth.state);
        assert_eq!(auth.code_from_text(&back).unwrap().code, "xyz");
        let other = auth
            .code_from_text("https://x/?code=xyz&state=someone-else")
            .unwrap_err();
        assert_eq!(other.kind(), "authentication");
        let denied = auth
            .code_from_text(&format!(
                "https://x/?error=access_denied&error_description=The+user+denied&state={}",
                auth.state
            ))
            .unwrap_err();
        assert!(denied.to_string().contains("The user denied"), "{denied}");
        // Without the state, a code is not taken (login CSRF).
        let stateless = auth.code_from_text("https://x/?code=xyz").unwrap_err();
        assert!(stateless.to_string().contains("state"), "{stateless}");
        assert!(auth.code_from_text("two words").is_err());
        assert!(!format!("{:?}", auth.code_from_text("abc123").unwrap()).contains("abc123"));
    }

    #[tokio::test]
    async fn the_loopback_listener_takes_the_code_and_ignores_the_rest() {
        let auth =
            Authorization::start("https://gis.example.com/portal", "app", true, 60, false).unwrap();
        let redirect = auth.redirect_uri.clone();
        let state = auth.state.clone();
        let browser = tokio::spawn(async move {
            let address = redirect
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
            let get = |path: String| {
                let address = address.clone();
                async move {
                    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
                    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
                    stream.write_all(request.as_bytes()).await.unwrap();
                    let mut reply = String::new();
                    stream.read_to_string(&mut reply).await.unwrap();
                    reply
                }
            };
            let favicon = get(format!("/favicon.ico?code=x&state={state}")).await;
            assert!(favicon.starts_with("HTTP/1.1 400"), "{favicon}");
            // A code forged without this sign-in's state is refused and the wait goes on.
            let forged = get("/?code=forged".into()).await;
            assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
            get(format!("/?code=the-code&state={state}")).await
        });
        let code = auth.receive(Duration::from_secs(10)).await.unwrap();
        assert_eq!(code.code, "the-code");
        assert_eq!(code.verifier, auth.verifier);
        assert!(browser.await.unwrap().starts_with("HTTP/1.1 200"));
        let nothing =
            Authorization::start("https://gis.example.com/portal", "app", true, 60, false)
                .unwrap()
                .receive(Duration::from_millis(50))
                .await
                .unwrap_err();
        assert!(
            nothing.to_string().contains("no sign-in came back"),
            "{nothing}"
        );
    }
}
