//! Signing a person in through OAuth 2.0 (RFC 6749, with PKCE, RFC 7636): the portal's
//! `oauth2/authorize` page does the sign-in, so every identity provider the portal federates
//! (SAML, OIDC) works. The authorization code comes back to a loopback listener on 127.0.0.1
//! (RFC 8252), which serves its connections side by side, each with a deadline; or, where no
//! browser can open here, on the portal's own page (`urn:ietf:wg:oauth:2.0:oob`) for the
//! person to paste. [`Portal`](super::Portal) then exchanges it once and renews with the
//! refresh token it brings (`Credentials::OAuth`).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::stream::{FuturesUnordered, StreamExt};
use rand::distr::{Alphanumeric, SampleString};
use ring::digest::{digest, SHA256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::error::{Error, Result};
use crate::portal::url::portal_url;

/// The redirect URI of a code shown on the portal's page instead of sent to an app.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The most a browser's request to the loopback listener may hold before its blank line.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long a connection to the loopback listener has for its whole request line and
/// headers (a browser sends them at once): one that sends nothing (a preconnect) or trickles
/// bytes is closed then, whatever it sends meanwhile.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the system's queue until one ends.
const MAX_CONNECTIONS: usize = 64;

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
        let waited = tokio::time::timeout(timeout, self.serve(&listener)).await;
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

    /// Serve the listener's connections side by side until one brings this sign-in's
    /// outcome: any local process can connect, and one that stalls must not keep the
    /// browser's redirect waiting.
    async fn serve(&self, listener: &TcpListener) -> Result<AuthorizationCode> {
        let mut serving = FuturesUnordered::new();
        loop {
            tokio::select! {
                accepted = listener.accept(), if serving.len() < MAX_CONNECTIONS => match accepted {
                    Ok((stream, _)) => serving.push(self.answer(stream)),
                    // Out of file handles, say: do not spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(outcome) = serving.next(), if !serving.is_empty() => {
                    if let Some(outcome) = outcome {
                        return outcome;
                    }
                }
            }
        }
    }

    /// Read one request, within [`REQUEST_DEADLINE`], and answer it. Only the redirect path
    /// with this sign-in's state counts: anything else (a favicon, a request forged by
    /// another page or process) is answered and gives None.
    async fn answer(&self, mut stream: TcpStream) -> Option<Result<AuthorizationCode>> {
        let target = tokio::time::timeout(REQUEST_DEADLINE, read_request_target(&mut stream))
            .await
            .ok()??;
        let outcome = self.code_from_target(&target);
        let (status, text) = match &outcome {
            Some(Ok(_)) => (
                "200 OK",
                "Signed in. You can close this window and return to your script.",
            ),
            Some(Err(_)) => (
                "400 Bad Request",
                "The sign-in did not complete. Return to your script for the reason.",
            ),
            None => (
                "400 Bad Request",
                "This is not the sign-in this script started.",
            ),
        };
        let page = format!(
            "<html><head><title>gislicense</title></head><body><p>{text}</p></body></html>"
        );
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{page}",
            page.len()
        );
        // The outcome stands whether or not the page reaches the browser.
        let _ = tokio::time::timeout(REQUEST_DEADLINE, async {
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        })
        .await;
        outcome
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
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_HEAD {
            return None;
        }
        let read = stream.read(&mut buffer).await.ok()?;
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
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, Appendix B: the S256 challenge of its example verifier.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
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

    fn loopback() -> (Authorization, String) {
        let auth =
            Authorization::start("https://gis.example.com/portal", "app", true, 60, false).unwrap();
        let address = auth
            .redirect_uri
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        (auth, address)
    }

    /// A connection that sends a request line a byte at a time, a byte every 200 ms, until
    /// the listener closes it: how long that took.
    async fn trickle(address: &str) -> Duration {
        let started = std::time::Instant::now();
        let (mut reader, mut writer) = TcpStream::connect(address).await.unwrap().into_split();
        let mut reply = [0u8; 64];
        let sending = async {
            for byte in b"GET /?code=slow HTTP/1.1\r\n".iter().cycle() {
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        tokio::select! {
            _ = reader.read(&mut reply) => {},
            _ = sending => {},
        }
        started.elapsed()
    }

    async fn redirect(address: &str, query: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!("GET /?{query} HTTP/1.1\r\nHost: {address}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    }

    #[tokio::test]
    async fn connections_that_stall_do_not_hold_up_the_redirect() {
        let (auth, address) = loopback();
        // Both are queued before the listener takes any, ahead of the browser's redirect.
        let trickling = tokio::spawn({
            let address = address.clone();
            async move { trickle(&address).await }
        });
        let _silent = TcpStream::connect(&address).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let query = format!("code=the-code&state={}", auth.state);
        let browser = tokio::spawn({
            let address = address.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                redirect(&address, &query).await
            }
        });
        let started = std::time::Instant::now();
        let code = auth.receive(Duration::from_secs(10)).await.unwrap();
        assert_eq!(code.code, "the-code");
        assert!(
            started.elapsed() < REQUEST_DEADLINE / 2,
            "the redirect waited {:?}",
            started.elapsed()
        );
        assert!(browser.await.unwrap().starts_with("HTTP/1.1 200"));
        trickling.abort();
    }

    #[tokio::test]
    async fn a_request_has_a_deadline_for_its_whole_head_not_for_each_byte() {
        let (auth, address) = loopback();
        let query = format!("code=the-code&state={}", auth.state);
        let browser = async {
            let held = trickle(&address).await;
            redirect(&address, &query).await;
            held
        };
        let both = async { tokio::join!(auth.receive(Duration::from_secs(15)), browser) };
        let (code, held) = tokio::time::timeout(Duration::from_secs(20), both)
            .await
            .expect("the trickling connection was never closed");
        assert_eq!(code.unwrap().code, "the-code");
        assert!(
            held >= REQUEST_DEADLINE - Duration::from_millis(300)
                && held < REQUEST_DEADLINE + Duration::from_secs(2),
            "a trickling connection was held {held:?}"
        );
    }
}
