//! The one HTTP layer every client shares: timeouts, TLS trust, retries with backoff,
//! redaction, and turning transport failures into errors that name their real cause.

use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use crate::error::{body_start, Error, Result};

pub const USER_AGENT: &str = concat!("gislicense/", env!("CARGO_PKG_VERSION"));

pub use crate::http_trust::ClientIdentity;

/// Longest pause between two attempts, whatever the backoff and Retry-After say.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(30);

/// How a client talks HTTP. The defaults are what a careful administrator would pick.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Longest wait for one whole request (connect, send, read the reply).
    pub timeout: Duration,
    /// Longest wait for the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Verify TLS certificates. Turning this off is for test machines only.
    pub verify: bool,
    /// A PEM file of extra CAs to trust beside the operating system's store.
    pub ca_bundle: Option<PathBuf>,
    /// Further attempts after a failure that is safe to retry.
    pub retries: u32,
    /// The first pause between attempts; it doubles each time (with jitter).
    pub backoff: Duration,
    /// Also retry requests that change something after failures where the server may
    /// have acted (timeouts, dropped connections, HTTP 500/502/504). Connection failures
    /// and HTTP 503, where the server did not handle the request, are retried for every
    /// request.
    pub retry_writes: bool,
    /// The largest reply body read, in bytes; a longer one is an error while it streams in,
    /// so a server that never stops sending cannot exhaust memory.
    pub max_reply_bytes: u64,
    /// A client certificate presented to servers that ask for one (PKI).
    pub client_identity: Option<std::sync::Arc<crate::http_trust::ClientIdentity>>,
}

/// 256 MiB: ten times the largest listing page a real server sends, far below what hurts.
pub const DEFAULT_MAX_REPLY_BYTES: u64 = 256 * 1024 * 1024;

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            verify: true,
            ca_bundle: None,
            retries: 2,
            backoff: Duration::from_millis(200),
            retry_writes: false,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
            client_identity: None,
        }
    }
}

/// What a request does to the server, which decides whether repeating it is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only reads.
    Read,
    /// Sets something to a given state (a user type, a role): doing it twice is doing it once.
    Idempotent,
    /// Changes something where a repeat may differ (closing an application).
    Write,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    /// `application/x-www-form-urlencoded`, the Portal REST convention.
    Form(Vec<(String, String)>),
    /// An XML document, the OpenLM convention.
    Xml(String),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    pub effect: Effect,
}

impl Request {
    pub fn post(url: Url, body: Body, effect: Effect) -> Self {
        Request {
            method: reqwest::Method::POST,
            url,
            headers: Vec::new(),
            body,
            effect,
        }
    }

    pub fn get(url: Url) -> Self {
        Request {
            method: reqwest::Method::GET,
            url,
            headers: Vec::new(),
            body: Body::Empty,
            effect: Effect::Read,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    /// The request URL, redacted: safe for messages and logs.
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    /// The server's Retry-After, in seconds, when it sent one.
    pub retry_after: Option<u64>,
    pub body: Bytes,
    /// A change was sent again after the answer to an earlier attempt was lost: a refusal
    /// now may only mean the earlier attempt did it.
    pub after_lost_answer: bool,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error for a status that no protocol envelope explained.
    pub fn status_error(&self) -> Error {
        let url = self.url.clone();
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let start = body_start(&self.body, 200);
        match self.status {
            300..=399 => Error::Server {
                url,
                status: Some(self.status),
                code: None,
                message: match &self.location {
                    Some(to) => format!("redirected to {}; use that URL instead", redact_url(to)),
                    None => format!("HTTP {} {reason} without a Location", self.status),
                },
                details: vec![],
            },
            401 => Error::Authentication {
                url,
                message: format!(
                    "HTTP 401 {reason}: the server wants credentials (for a portal behind Windows \
                     sign-in, IWA, sign in through its page with client_id= (OAuth), or with \
                     GIS(\"pro\"))"
                ),
            },
            403 => Error::PermissionDenied {
                url,
                message: format!("HTTP 403 {reason}"),
            },
            404 => Error::NotFound {
                url,
                message: "HTTP 404 Not Found: check the URL".into(),
            },
            _ => Error::Server {
                url,
                status: Some(self.status),
                code: None,
                message: format!("HTTP {} {reason}", self.status),
                details: if start.is_empty() {
                    vec![]
                } else {
                    vec![start]
                },
            },
        }
    }

    /// The error a reply stands for, judged by what the request did. For a change, a reply
    /// that cannot be read says nothing of what the server did, and neither does a refusal
    /// of a repeat whose first answer was lost (the first attempt may have done it).
    pub fn judge(&self, effect: Effect, err: Error) -> Error {
        if effect == Effect::Read {
            return err;
        }
        match err {
            Error::UnreadableReply { problem, .. } => Error::OutcomeUnknown {
                url: self.url.clone(),
                cause: format!(
                    "the request was sent, and its answer could not be read ({problem})"
                ),
            },
            err if self.after_lost_answer => Error::OutcomeUnknown {
                url: self.url.clone(),
                cause: format!(
                    "the answer to the first attempt was lost, and the repeat was refused ({}), \
                     perhaps because the first attempt had done it",
                    err.reason()
                ),
            },
            err => err,
        }
    }

    /// An "unreadable reply" error with the start of this body.
    pub fn unreadable(&self, problem: impl Into<String>) -> Error {
        Error::UnreadableReply {
            url: self.url.clone(),
            status: self.status,
            problem: problem.into(),
            body_start: body_start(&self.body, 200),
        }
    }
}

/// An HTTP client: one connection pool and one set of options.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    options: HttpOptions,
}

impl Http {
    /// A client for one server. Proxies come from the environment (and the system settings
    /// on Windows and macOS), except for a server on this machine: a corporate proxy cannot
    /// reach the sandbox on 127.0.0.1.
    pub fn new(options: HttpOptions, server: &Url) -> Result<Self> {
        install_crypto_provider();
        if options.timeout.is_zero() || options.connect_timeout.is_zero() {
            return Err(Error::invalid("timeouts must be greater than zero"));
        }
        if options.max_reply_bytes == 0 {
            return Err(Error::invalid("max_reply_bytes must be greater than zero"));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            // Tokens travel in headers; never follow a redirect to another host with them.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_origin = attempt.previous().first().is_some_and(|first| {
                    first.host_str() == attempt.url().host_str()
                        && first.port_or_known_default() == attempt.url().port_or_known_default()
                        && first.scheme() == attempt.url().scheme()
                });
                if same_origin && attempt.previous().len() < 5 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .pool_idle_timeout(Duration::from_secs(60));
        let identity = options.client_identity.as_deref();
        if identity.is_some() && !options.verify {
            return Err(Error::invalid(
                "a client certificate is presented only to a verified server: drop verify=False \
                 (pass ca_bundle= with the portal's CA file instead)",
            ));
        }
        let mut bundle = Vec::new();
        if let Some(path) = &options.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| {
                Error::invalid(format!("ca_bundle: cannot read {}: {e}", path.display()))
            })?;
            bundle = crate::http_trust::pem_certificates(&pem).map_err(|e| {
                Error::invalid(format!(
                    "ca_bundle: {} is not a PEM certificate file: {e}",
                    path.display()
                ))
            })?;
            if bundle.is_empty() {
                return Err(Error::invalid(format!(
                    "ca_bundle: {} holds no PEM certificate",
                    path.display()
                )));
            }
        }
        // With verify=False nothing is checked, so the bundle does not matter.
        if options.verify && (!bundle.is_empty() || identity.is_some()) {
            // The bundle's CAs beside the system's, and a server presenting exactly one of the
            // bundle's certificates (a self-signed one) trusted as such; the client
            // certificate for servers that ask.
            let shown = options.ca_bundle.as_ref().map_or_else(
                || "client certificate".to_owned(),
                |p| p.display().to_string(),
            );
            let tls = crate::http_trust::client_config(bundle, identity)
                .map_err(|e| Error::invalid(format!("{shown}: {e}")))?;
            builder = builder.tls_backend_preconfigured(tls);
        }
        if !options.verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if is_loopback(server) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| Error::invalid(format!("cannot set up HTTP: {}", error_chain(&e))))?;
        Ok(Http { client, options })
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Send a request, retrying what is safe to retry, and return the reply whatever its status.
    pub async fn send(&self, request: &Request) -> Result<Response> {
        let shown_url = redact_url(request.url.as_str());
        let mut attempt: u32 = 0;
        // Whether an earlier attempt may have reached the server without its answer reaching us.
        let mut lost_before = false;
        loop {
            let started = Instant::now();
            // reqwest's `timeout` runs until the body is read, so it also stops a server
            // that trickles an endless reply.
            let outcome = self.send_once(request, &shown_url).await;
            let elapsed_ms = started.elapsed().as_millis();
            let retry = match &outcome {
                Ok(reply) if matches!(reply.status, 500 | 502..=504) => {
                    log::debug!(
                        "{} {shown_url} -> {} in {elapsed_ms} ms",
                        request.method,
                        reply.status
                    );
                    let failure = if reply.status == 503 {
                        Failure::Unavailable
                    } else {
                        Failure::GatewayStatus
                    };
                    self.may_retry(request.effect, failure)
                }
                Ok(reply) => {
                    log::debug!(
                        "{} {shown_url} -> {} in {elapsed_ms} ms",
                        request.method,
                        reply.status
                    );
                    false
                }
                Err((failure, err)) => {
                    log::debug!(
                        "{} {shown_url} failed in {elapsed_ms} ms: {err}",
                        request.method
                    );
                    self.may_retry(request.effect, *failure)
                }
            };
            if !retry || attempt >= self.options.retries {
                return finish(request.effect, outcome, lost_before);
            }
            lost_before |= match &outcome {
                Ok(reply) => may_have_acted(reply.status),
                Err((failure, _)) => failure.may_have_acted(),
            };
            let pause = self.pause_before_retry(attempt, outcome.as_ref().ok());
            log::info!(
                "retrying {} {shown_url} in {} ms (attempt {} of {}): {}",
                request.method,
                pause.as_millis(),
                attempt + 2,
                self.options.retries + 1,
                match &outcome {
                    Ok(reply) => format!("HTTP {}", reply.status),
                    Err((_, err)) => err.to_string(),
                }
            );
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        request: &Request,
        shown_url: &str,
    ) -> std::result::Result<Response, (Failure, Error)> {
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone());
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                (
                    Failure::NotSent,
                    Error::invalid(format!("header {name} holds characters HTTP cannot carry")),
                )
            })?;
            headers.insert(*name, value);
        }
        match &request.body {
            Body::Empty => {}
            Body::Form(fields) => {
                let encoded = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish();
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                builder = builder.body(encoded);
            }
            Body::Xml(xml) => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/xml; charset=utf-8"),
                );
                builder = builder.body(xml.clone());
            }
        }
        let mut reply = builder
            .headers(headers)
            .send()
            .await
            .map_err(|e| self.classify(&e, shown_url))?;
        let status = reply.status().as_u16();
        let header = |name| {
            reply
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let location = header(reqwest::header::LOCATION);
        let retry_after = header(RETRY_AFTER);
        let body = self.read_body(&mut reply, shown_url, status).await?;
        Ok(Response {
            url: shown_url.to_owned(),
            status,
            content_type,
            location,
            retry_after: retry_after.and_then(|v| v.trim().parse::<u64>().ok()),
            body,
            after_lost_answer: false,
        })
    }

    /// The reply body, read chunk by chunk and refused once it passes `max_reply_bytes`
    /// (at once when the server announces a longer one).
    async fn read_body(
        &self,
        reply: &mut reqwest::Response,
        shown_url: &str,
        status: u16,
    ) -> std::result::Result<Bytes, (Failure, Error)> {
        let limit = self.options.max_reply_bytes;
        let too_long = |what: String| {
            (
                Failure::TooLong,
                Error::UnreadableReply {
                    url: shown_url.to_owned(),
                    status,
                    problem: format!(
                        "{what}, more than max_reply_bytes allows ({limit} bytes); \
                         raise max_reply_bytes if this server's replies really are that large"
                    ),
                    body_start: String::new(),
                },
            )
        };
        if let Some(announced) = reply.content_length().filter(|n| *n > limit) {
            return Err(too_long(format!("the reply announces {announced} bytes")));
        }
        let mut body = bytes::BytesMut::with_capacity(
            reply.content_length().unwrap_or(0).min(limit).min(1 << 20) as usize,
        );
        while let Some(chunk) = reply
            .chunk()
            .await
            .map_err(|e| self.classify(&e, shown_url))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_long("the reply is longer".to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn may_retry(&self, effect: Effect, failure: Failure) -> bool {
        match failure {
            Failure::NotSent | Failure::Tls | Failure::TooLong => false,
            Failure::Connect | Failure::Unavailable => true,
            Failure::Timeout | Failure::Broken | Failure::GatewayStatus => {
                effect != Effect::Write || self.options.retry_writes
            }
        }
    }

    /// Whether a request that is safe to repeat, whose reply carried a transient server
    /// error (an error envelope with code 500 to 504 in an HTTP 200 reply), may be sent
    /// again after `attempts` attempts, and the pause before it: as an HTTP 500 is retried.
    pub(crate) fn retry_read_after(&self, attempts: u32, code: Option<i64>) -> Option<Duration> {
        let transient = matches!(code, Some(500 | 502..=504));
        (transient && attempts <= self.options.retries)
            .then(|| self.pause_before_retry(attempts - 1, None))
    }

    fn pause_before_retry(&self, attempt: u32, reply: Option<&Response>) -> Duration {
        if let Some(seconds) = reply.and_then(|r| r.retry_after) {
            return Duration::from_secs(seconds).min(MAX_RETRY_PAUSE);
        }
        let base = self.options.backoff.saturating_mul(1u32 << attempt.min(16));
        // Full jitter between half and all of the base keeps many clients from retrying in step.
        let jitter = 0.5 + rand::random::<f64>() * 0.5;
        base.mul_f64(jitter).min(MAX_RETRY_PAUSE)
    }

    fn classify(&self, err: &reqwest::Error, url: &str) -> (Failure, Error) {
        let cause = error_chain(err);
        if let Some(tls) = tls_cause(err) {
            return (
                Failure::Tls,
                Error::Tls {
                    url: url.to_owned(),
                    cause: tls,
                },
            );
        }
        if err.is_timeout() {
            let (failure, seconds) = if err.is_connect() {
                (Failure::Connect, self.options.connect_timeout)
            } else {
                (Failure::Timeout, self.options.timeout)
            };
            return (
                failure,
                Error::Timeout {
                    url: url.to_owned(),
                    seconds: seconds.as_secs_f64(),
                    cause: if err.is_connect() {
                        "while connecting".into()
                    } else {
                        "waiting for the reply".into()
                    },
                },
            );
        }
        let failure = if err.is_connect() {
            Failure::Connect
        } else if err.is_builder() {
            Failure::NotSent
        } else {
            Failure::Broken
        };
        let cause = match failure {
            Failure::Broken if closed_early(&cause) => {
                "the server closed the connection before it answered".to_owned()
            }
            _ => cause,
        };
        (
            failure,
            Error::Transport {
                url: url.to_owned(),
                cause,
            },
        )
    }
}

/// Whether a broken exchange's causes say the server hung up without an answer; hyper and
/// rustls say it in words meant for their own developers (with links to their manuals).
fn closed_early(cause: &str) -> bool {
    let cause = cause.to_ascii_lowercase();
    [
        "close_notify",
        "unexpected eof",
        "unexpected-eof",
        "connection closed before message completed",
        "incomplete message",
    ]
    .iter()
    .any(|words| cause.contains(words))
}

/// A 500 (a server that broke while handling the request), or a 502 or 504 (a gateway's
/// answer, which says nothing of what the server behind it did): the change may have been
/// made. A 503 is not among them: the server says it did not handle the request.
fn may_have_acted(status: u16) -> bool {
    matches!(status, 500 | 502 | 504)
}

/// The result of the last attempt as the caller sees it. For a request that changes
/// something, a failure after the request may have reached the server is an unknown
/// outcome, not a failure: the change may have been made.
fn finish(
    effect: Effect,
    outcome: std::result::Result<Response, (Failure, Error)>,
    lost_before: bool,
) -> Result<Response> {
    if effect == Effect::Read {
        return outcome.map_err(|(_, err)| err);
    }
    match outcome {
        Err((failure, err)) if lost_before || failure.may_have_acted() => {
            Err(err.unknown_outcome())
        }
        Err((_, err)) => Err(err),
        Ok(reply) if may_have_acted(reply.status) => Err(reply.status_error().unknown_outcome()),
        Ok(mut reply) => {
            // A refusal of the repeat proves nothing: the first attempt may have made the
            // change (a repeated close finds the session gone; a portal restarting after a
            // change answers 503). `judge` turns such a refusal into an unknown outcome.
            reply.after_lost_answer = lost_before;
            Ok(reply)
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl Failure {
    /// Whether the server may have received the request and acted on it.
    fn may_have_acted(self) -> bool {
        match self {
            Failure::Timeout | Failure::Broken | Failure::TooLong => true,
            Failure::GatewayStatus
            | Failure::Unavailable
            | Failure::NotSent
            | Failure::Connect
            | Failure::Tls => false,
        }
    }
}

/// What went wrong with one attempt, for the retry decision.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// The request could not even be built; retrying cannot help.
    NotSent,
    /// No connection was made, so the server never saw the request.
    Connect,
    Tls,
    Timeout,
    /// The connection broke after the request may have arrived.
    Broken,
    /// 500, 502 or 504 from the server or a gateway in front of it: often passing.
    GatewayStatus,
    /// 503: the server (or a gateway) says it cannot handle the request now, so it did not:
    /// a repeat is safe for every request.
    Unavailable,
    /// The reply passed `max_reply_bytes`; the next one would too.
    TooLong,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// What went wrong, in a sentence for a person: the common failures said plainly, else the
/// deepest cause (the layers above it only repeat where), without reqwest's own line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(plain) = plain_cause(err) {
        return plain.to_owned();
    }
    let mut causes: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = cause.source();
    }
    if causes.is_empty() {
        let text = err.to_string();
        // reqwest puts the URL in parentheses at the end of its own message: drop it.
        let text = match text.find(" for url (") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        return text;
    }
    causes.pop().unwrap_or_default()
}

/// The failures people meet most, said plainly: a host name that does not resolve, a port
/// nothing answers on, a network that cannot be reached, a connection cut, plain HTTP sent
/// to an HTTPS port.
fn plain_cause(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use std::io::ErrorKind;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(this) = cause {
        if let Some(io) = this.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => {
                    return Some(
                        "connection refused: nothing answers on that port (is the server \
                         running, and is the port in the URL right?)",
                    )
                }
                ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable => {
                    return Some("the network or the host cannot be reached from here")
                }
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                    return Some("the connection was cut by the server or the network")
                }
                _ => {}
            }
        }
        let text = this.to_string();
        if text.contains("invalid HTTP version") {
            // A TLS server answers a plain HTTP request with a TLS record, not a status line.
            return Some(
                "the server did not answer in plain HTTP: it most likely serves HTTPS on this \
                 port; use https:// in the URL",
            );
        }
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some(
                "the host name was not found (DNS): check the URL's host name, or this \
                 computer's network",
            );
        }
        cause = this.source();
    }
    None
}

/// A readable explanation when the failure was TLS, with what to do about it.
fn tls_cause(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    find_rustls_error(err).map(explain_tls)
}

/// The rustls error somewhere in a chain. I/O errors hide their inner error from `source()`,
/// so they are opened too (tokio-rustls wraps rustls errors in I/O errors, sometimes twice).
fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if let Some(tls) = find_rustls_error(inner) {
            return Some(tls);
        }
    }
    err.source().and_then(find_rustls_error)
}

fn explain_tls(err: &rustls::Error) -> String {
    use rustls::{CertificateError, Error as E};
    match err {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            format!("certificate not trusted: it was issued by an unknown CA; {TRUST_HOW}")
        }
        E::InvalidCertificate(CertificateError::Other(other))
            if other.0.to_string().contains("CaUsedAsEndEntity") =>
        {
            format!("certificate not trusted: the server presents a CA certificate as its own, as self-signed ones do; {TRUST_HOW}")
        }
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "certificate expired".into()
        }
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "certificate is not valid for this host name".into()
        }
        E::InvalidCertificate(other) => format!("certificate not trusted: {other:?}"),
        E::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "the server answered in plain HTTP, not HTTPS: use an http:// URL (for a portal, \
             with allow_insecure_http=True)"
                .into()
        }
        E::AlertReceived(alert) => {
            use rustls::AlertDescription as A;
            match alert {
                A::CertificateRequired => format!(
                    "the server asked for a client certificate (PKI) and got none it takes \
                     ({alert:?}): pass cert_file= (with key_file=, or a PKCS#12 file with \
                     cert_password=)"
                ),
                A::HandshakeFailure => format!(
                    "the server ended the TLS handshake ({alert:?}): it shares no TLS version \
                     or cipher with this client, or it wants a client certificate it did not \
                     get (pass cert_file=)"
                ),
                A::UnknownCA
                | A::BadCertificate
                | A::CertificateUnknown
                | A::CertificateExpired
                | A::CertificateRevoked
                | A::AccessDenied => format!(
                    "the server refused the client certificate ({alert:?}): use one issued by a \
                     CA the server trusts, valid today and not revoked"
                ),
                other => format!("the server ended the TLS handshake: {other:?}"),
            }
        }
        other => other.to_string(),
    }
}

/// What to do about a certificate no trusted CA vouches for.
const TRUST_HOW: &str = "pass ca_bundle= with the server's certificate file (PEM): your organization's CA file, or, for a self-signed certificate, that certificate itself (if one was passed, it holds neither)";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_user_info_and_secret_fields() {
        assert_eq!(
            redact_url(
                "https://admin:hunter2@portal.example.com/portal/sharing/rest?f=json&token=abc"
            ),
            "https://portal.example.com/portal/sharing/rest?f=json&token=***"
        );
        assert_eq!(redact_url("not a url?password=x"), "not a url");
    }

    #[tokio::test]
    async fn refused_connection_names_the_cause_and_the_url() {
        // Bind and drop a listener so the port is (almost certainly) closed.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = Url::parse(&format!("http://127.0.0.1:{port}/OpenLMServer")).unwrap();
        let options = HttpOptions {
            retries: 0,
            ..HttpOptions::default()
        };
        let http = Http::new(options, &url).unwrap();
        let err = http
            .send(&Request::post(url, Body::Empty, Effect::Read))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), "transport", "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{port}/OpenLMServer")),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }

    #[test]
    fn missing_ca_bundle_is_invalid_input() {
        let options = HttpOptions {
            ca_bundle: Some("/nonexistent/ca.pem".into()),
            ..HttpOptions::default()
        };
        let err =
            Http::new(options, &Url::parse("https://portal.example.com").unwrap()).unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        assert!(err.to_string().contains("/nonexistent/ca.pem"));
    }
}
