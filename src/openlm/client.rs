//! The OpenLM client: log in when the server asks for it, list the licenses in use,
//! close applications. Async; the Python bindings run it on the shared runtime.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::bulk::{self, Reread};
use crate::error::{Error, Result};
use crate::http::{typed_url, Body, Effect, Http, HttpOptions, Request, Response};
use crate::openlm::product::{ActiveProduct, CloseTarget};
use crate::openlm::reply::{error_from_reply, is_session_expired, read_message};
use crate::openlm::sessions::OpenSessions;
use crate::openlm::xml::{self, Message, Paging, RequestDoc};
use crate::paging;
use crate::renewal::{Renew, Renewable};

/// Default OpenLM Server port, the UI listener that serves the XML API.
pub const DEFAULT_PORT: u16 = 7014;

/// How many pages of a paged listing are fetched at once.
const PAGE_CONCURRENCY: usize = 4;

/// Rows a page when sessions are listed again to settle closes whose answer was lost.
const REREAD_PAGE_SIZE: u64 = 1000;

/// Session id of a server with permissions off.
const NO_SESSION: &str = "0";

// Whether the server answers GetActiveProducts2 (paged), learned from the first listing.
const PAGING_UNKNOWN: u8 = 0;
const PAGING_YES: u8 = 1;
const PAGING_NO: u8 = 2;

struct Credentials {
    username: String,
    password: String,
}

/// Why an acknowledged close is not yet done (see [`OpenLm::queued`]).
pub(crate) const QUEUED: &str = "OpenLM acknowledged the close and queued it for the OpenLM Agent";

/// How long closes are watched by default: an Agent acts within seconds when it is running.
pub const DEFAULT_CLOSE_WAIT: Duration = Duration::from_secs(30);

pub struct OpenLm {
    http: Http,
    url: Url,
    shown_url: String,
    credentials: Option<Credentials>,
    session: Renewable<str>,
    paging: AtomicU8,
    /// How long to wait for closed sessions to end (see [`OpenLm::await_closed`]).
    close_wait: Duration,
}

impl std::fmt::Debug for OpenLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLm")
            .field("url", &self.shown_url)
            .field("username", &self.username())
            .finish_non_exhaustive()
    }
}

/// The server's URL from what an administrator types: `host`, `host:7014`,
/// `http://host:7014`, or the full `http://host:7014/OpenLMServer`.
pub fn server_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    let mut url = typed_url(raw, "OpenLM", "http", |scheme| match scheme {
        "http" | "https" => Ok(()),
        other => Err(Error::invalid(format!(
            "{raw:?}: OpenLM speaks http (or https behind a proxy), not {other}"
        ))),
    })?;
    let bare = url.path() == "/" || url.path().is_empty();
    if bare {
        if url.port().is_none() && !raw.contains("://") {
            let _ = url.set_port(Some(DEFAULT_PORT));
        }
        url.set_path("/OpenLMServer");
    }
    Ok(url)
}

impl OpenLm {
    pub fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
        options: HttpOptions,
    ) -> Result<Self> {
        let url = server_url(url)?;
        let credentials = match (username, password) {
            (Some(username), Some(password)) => {
                if username.trim().is_empty() {
                    return Err(Error::invalid("username is empty"));
                }
                xml::check_value("username", &username)?;
                xml::check_value("password", &password)?;
                Some(Credentials { username, password })
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::invalid("a username was given without a password"))
            }
            (None, Some(_)) => {
                return Err(Error::invalid("a password was given without a username"))
            }
        };
        Ok(OpenLm {
            http: Http::new(options, &url)?,
            shown_url: crate::http::redact_url(url.as_str()),
            url,
            credentials,
            session: Renewable::new(None),
            paging: AtomicU8::new(PAGING_UNKNOWN),
            close_wait: DEFAULT_CLOSE_WAIT,
        })
    }

    pub fn url(&self) -> &str {
        &self.shown_url
    }

    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.username.as_str())
    }

    /// Post one document and read the reply. No session handling here.
    async fn post(&self, xml: String, effect: Effect) -> Result<Message> {
        read_message(&self.send(xml, effect).await?, effect)
    }

    async fn send(&self, xml: String, effect: Effect) -> Result<Response> {
        let request = Request::post(self.url.clone(), Body::Xml(xml), effect);
        self.http.send(&request).await
    }

    /// Log in: ask whether the server wants a login, and log in when it does.
    async fn log_in(&self) -> Result<Arc<str>> {
        let settings = RequestDoc {
            message_type: "GetLoginFormSettings",
            session_id: NO_SESSION,
            ..Default::default()
        };
        let reply = self.post(settings.to_xml()?, Effect::Read).await?;
        if reply.kind.eq_ignore_ascii_case("Error") {
            return Err(self.error_reply(&reply));
        }
        let id: Arc<str> = if reply.kind.eq_ignore_ascii_case("ShowLoginForm") {
            let Some(credentials) = &self.credentials else {
                return Err(Error::Authentication {
                    url: self.shown_url.clone(),
                    message: "this OpenLM server requires a login: pass username= and password="
                        .into(),
                });
            };
            let login = RequestDoc {
                message_type: "UserAuthentication",
                session_id: NO_SESSION,
                credentials: Some((&credentials.username, &credentials.password)),
                ..Default::default()
            };
            let reply = self.post(login.to_xml()?, Effect::Read).await?;
            match reply.session_id.as_deref() {
                Some(id) if !reply.kind.eq_ignore_ascii_case("Error") && !id.is_empty() => {
                    log::info!(
                        "logged in to {} as {}",
                        self.shown_url,
                        credentials.username
                    );
                    Arc::from(id)
                }
                _ => {
                    let why = if reply.text.is_empty() {
                        format!("the server replied {:?} without a session id", reply.kind)
                    } else {
                        reply.text.clone()
                    };
                    return Err(Error::Authentication {
                        url: self.shown_url.clone(),
                        message: format!("login as {:?} failed: {why}", credentials.username),
                    });
                }
            }
        } else {
            // SkipLoginForm (or a server that does not know the question): permissions are off.
            Arc::from(NO_SESSION)
        };
        Ok(id)
    }

    /// Send a request that needs a session; log in again once if the session has expired.
    /// An `Error` reply becomes an error.
    pub(crate) async fn call(
        &self,
        effect: Effect,
        build: impl Fn(&str) -> Result<String>,
    ) -> Result<Message> {
        let reply = self.exchange(effect, build).await?;
        if reply.kind.eq_ignore_ascii_case("Error") {
            return Err(self.error_reply(&reply));
        }
        Ok(reply)
    }

    /// Like `call`, but an `Error` reply is returned as it came.
    async fn exchange(
        &self,
        effect: Effect,
        build: impl Fn(&str) -> Result<String>,
    ) -> Result<Message> {
        let build = &build;
        let send = |session: Arc<str>| async move { self.send(build(&session)?, effect).await };
        let read = |response: &Response| {
            let reply = read_message(response, effect)?;
            if is_session_expired(&reply) {
                return Err(Error::TokenExpired {
                    url: response.url.clone(),
                    message: if reply.text.is_empty() {
                        reply.kind
                    } else {
                        reply.text
                    },
                });
            }
            Ok(reply)
        };
        self.session.with_renewal(self, send, read).await
    }

    fn error_reply(&self, reply: &Message) -> Error {
        error_from_reply(&self.shown_url, None, reply)
    }

    /// Every license in use. Pages through GetActiveProducts2 when the server has it
    /// (`page_size` rows per request, pages after the first fetched concurrently), and
    /// falls back to the unpaged GetActiveProducts when it does not. `page_size` 0 asks
    /// for the unpaged request straight away.
    pub async fn get_active_products(&self, page_size: u64) -> Result<Vec<ActiveProduct>> {
        if page_size == 0 || self.paging.load(Ordering::Relaxed) == PAGING_NO {
            return self.unpaged_products().await;
        }
        let first = self
            .exchange(Effect::Read, |session| page_request(session, 0, page_size))
            .await?;
        if first.kind.eq_ignore_ascii_case("Error") {
            if self.paging.load(Ordering::Relaxed) == PAGING_UNKNOWN {
                // Servers before GetActiveProducts2 answer it with an Error reply.
                log::info!(
                    "{} refused GetActiveProducts2 ({}); using GetActiveProducts",
                    self.shown_url,
                    first.text
                );
                self.paging.store(PAGING_NO, Ordering::Relaxed);
                return self.unpaged_products().await;
            }
            return Err(self.error_reply(&first));
        }
        self.paging.store(PAGING_YES, Ordering::Relaxed);
        let total = first.total();
        let mut products = ActiveProduct::from_records(first.records);
        let received = products.len() as u64;
        match total {
            Some(total) if total > received => {
                let starts = paging::later_starts(&self.shown_url, total, page_size, 0, None)?;
                let pages = paging::fetch_pages(
                    &self.shown_url,
                    starts,
                    PAGE_CONCURRENCY,
                    |start| self.page(start, page_size),
                    |page: &Message| page.records.is_empty(),
                )
                .await?;
                for page in pages {
                    products.extend(ActiveProduct::from_records(page.records));
                }
            }
            Some(_) => {}
            None => {
                // No total in the reply: read on while pages come back full and bring
                // sessions not seen yet (a server may send the same full page forever).
                let mut walk = paging::PageWalk::new(&self.shown_url, page_size, 0);
                walk.brings_new(products.iter().map(row_key));
                let mut start = page_size;
                let mut last = received;
                while last == page_size {
                    walk.ask(start, products.len())?;
                    let page =
                        ActiveProduct::from_records(self.page(start, page_size).await?.records);
                    last = page.len() as u64;
                    if !walk.brings_new(page.iter().map(row_key)) {
                        break;
                    }
                    products.extend(page);
                    start = start.saturating_add(page_size);
                }
            }
        }
        Ok(products)
    }

    async fn page(&self, start: u64, size: u64) -> Result<Message> {
        self.call(Effect::Read, |session| page_request(session, start, size))
            .await
    }

    async fn unpaged_products(&self) -> Result<Vec<ActiveProduct>> {
        let reply = self
            .call(Effect::Read, |session| {
                RequestDoc {
                    message_type: "GetActiveProducts",
                    session_id: session,
                    ..Default::default()
                }
                .to_xml()
            })
            .await?;
        Ok(ActiveProduct::from_records(reply.records))
    }

    /// Ask the OpenLM Agent on the target's workstation to close the application
    /// holding the license. The server may queue the request rather than finish it. When the
    /// answer is lost, the sessions are listed again: Ok if the session is gone, else an
    /// `OutcomeUnknown` error.
    /// Close one application: Ok once its session has ended. OpenLM acknowledges a close
    /// when it has queued it for the Agent on the workstation; the session is then watched
    /// for up to `close_wait` (see [`OpenLm::await_closed`]).
    pub async fn close_application(&self, target: &CloseTarget) -> Result<()> {
        let result = self.send_close(target).await;
        bulk::settle_one(
            result.and_then(|()| Err(self.queued())),
            "closed",
            || async { self.await_closed(&[target]).await.remove(0) },
        )
        .await
    }

    /// How long to wait for closed sessions to end: OpenLM answers a close once it has
    /// queued it for the Agent, which closes the application some time later.
    pub fn with_close_wait(mut self, wait: Duration) -> OpenLm {
        self.close_wait = wait;
        self
    }

    /// A close acknowledged: not done until its session is gone from the listing.
    pub(crate) fn queued(&self) -> Error {
        Error::OutcomeUnknown {
            url: self.shown_url.clone(),
            cause: QUEUED.into(),
        }
    }

    /// Whether each target's session has ended, looking at the open sessions again (after a
    /// fortieth of a second, then less often) until none of them is open or `close_wait` is
    /// over. A session still open then is not called closed: the Agent has not acted (yet).
    pub(crate) async fn await_closed(&self, targets: &[&CloseTarget]) -> Vec<Reread> {
        let started = Instant::now();
        let mut late_pause = Duration::from_millis(250);
        loop {
            let listing = Instant::now();
            let open = self.open_sessions().await;
            // Agents take a fraction of a second: look again soon while that is what it
            // takes, never listing more than half the time; after the first second, less often.
            let pause = if started.elapsed() < Duration::from_secs(1) {
                listing.elapsed().max(Duration::from_millis(25))
            } else {
                let pause = late_pause;
                late_pause = (late_pause * 2).min(Duration::from_secs(2));
                pause
            };
            let still: Vec<bool> = match &open {
                Ok(open) => targets.iter().map(|t| open.contains(t)).collect(),
                Err(_) => vec![false; targets.len()],
            };
            let waited = started.elapsed();
            if open.is_ok() && still.contains(&true) && waited + pause <= self.close_wait {
                tokio::time::sleep(pause).await;
                continue;
            }
            return targets
                .iter()
                .zip(still)
                .map(|(target, open_now)| match &open {
                    Err(err) => Reread::Failed(err.clone()),
                    Ok(_) if open_now => Reread::NotDone(format!(
                        "the session still open {:.0} s later: the OpenLM Agent on {} has not \
                         closed the application (yet)",
                        waited.as_secs_f64(),
                        target.workstation
                    )),
                    Ok(_) => Reread::Done,
                })
                .collect();
        }
    }

    pub(crate) async fn send_close(&self, target: &CloseTarget) -> Result<()> {
        target.validate()?;
        let reply = self
            .call(Effect::Write, |session| {
                RequestDoc {
                    message_type: "CloseApplication",
                    session_id: session,
                    params: target.params().to_vec(),
                    ..Default::default()
                }
                .to_xml()
            })
            .await?;
        // Only Success says the server took the request; anything else is no evidence.
        if !reply.kind.eq_ignore_ascii_case("Success") {
            return Err(Error::OutcomeUnknown {
                url: self.shown_url.clone(),
                cause: format!(
                    "the server answered {:?}, which says neither that it took the request nor that it refused it",
                    reply.kind
                ),
            });
        }
        Ok(())
    }

    /// The sessions open now, listed as a re-read lists them (large pages when the server
    /// pages). A listing is a read: one that fails is tried again, twice.
    pub(crate) async fn sessions_now(&self) -> Result<Vec<ActiveProduct>> {
        let page_size = if self.paging.load(Ordering::Relaxed) == PAGING_NO {
            0
        } else {
            REREAD_PAGE_SIZE
        };
        let mut listed = self.get_active_products(page_size).await;
        for _ in 0..2 {
            if listed.is_ok() {
                break;
            }
            listed = self.get_active_products(page_size).await;
        }
        listed
    }

    /// The sessions open now, for telling whether a close's session is among them.
    pub(crate) async fn open_sessions(&self) -> Result<OpenSessions> {
        Ok(OpenSessions::of(&self.sessions_now().await?))
    }
}

/// A session is used until the server says it expired, then one new login serves every
/// request that found it expired.
impl Renew for OpenLm {
    type Credential = str;
    const NAME: &'static str = "session";
    const RENEWING: &'static str = "logging in again";

    async fn renew(&self) -> Result<Arc<str>> {
        self.log_in().await
    }

    fn rejected(&self, url: String, message: String) -> Error {
        Error::Authentication {
            url,
            message: format!("the server rejected the session right after a new login: {message}"),
        }
    }
}

/// A row as a whole, to tell a page of new rows from one already read.
fn row_key(product: &ActiveProduct) -> Vec<(&str, &str)> {
    let record = product.record();
    (0..record.len())
        .map(|i| (record.name(i), record.value(i)))
        .collect()
}

fn page_request(session: &str, start: u64, size: u64) -> Result<String> {
    RequestDoc {
        message_type: "GetActiveProducts2",
        session_id: session,
        paging: Some(Paging {
            start,
            end: start.saturating_add(size - 1),
            dir: "ASC".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
    .to_xml()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_completed_the_way_administrators_type_them() {
        assert_eq!(
            server_url("lic01").unwrap().as_str(),
            "http://lic01:7014/OpenLMServer"
        );
        assert_eq!(
            server_url("lic01:8080").unwrap().as_str(),
            "http://lic01:8080/OpenLMServer"
        );
        assert_eq!(
            server_url("http://lic01:7014").unwrap().as_str(),
            "http://lic01:7014/OpenLMServer"
        );
        assert_eq!(
            server_url("http://lic01:7014/OpenLMServer/")
                .unwrap()
                .as_str(),
            "http://lic01:7014/OpenLMServer/"
        );
        assert!(server_url("").is_err());
        assert!(server_url("ftp://lic01").is_err());
        assert!(server_url("http://admin:pw@lic01:7014")
            .unwrap_err()
            .to_string()
            .contains("username="));
    }

    #[test]
    fn credentials_must_come_in_pairs_and_never_show_in_debug() {
        assert!(OpenLm::new("lic01", Some("admin".into()), None, HttpOptions::default()).is_err());
        let client = OpenLm::new(
            "lic01",
            Some("admin".into()),
            Some("s3cret!".into()),
            HttpOptions::default(),
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(
            shown.contains("admin") && !shown.contains("s3cret!"),
            "{shown}"
        );
    }
}
