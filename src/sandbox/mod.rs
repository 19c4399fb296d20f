//! The sandbox: emulators of the servers gislicense talks to, speaking the same wire as the
//! real ones, on loopback, with latency and fault injection and a log of what they received.

pub mod faults;
pub mod openlm;
pub mod portal;
pub mod seed;
pub mod tls;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
pub use faults::{FaultKind, FaultRates};
pub use openlm::{Checkout, OpenLmOptions, OpenLmSite};
pub use portal::{PortalMember, PortalSite, PortalSiteOptions};

/// Largest request body the sandbox reads.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Requests kept in the log; the oldest go first.
const LOG_CAPACITY: usize = 200_000;

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Makes the seeded data (and random faults) repeatable.
    pub seed: u64,
    /// Address to listen on. Anything but loopback makes the sandbox reachable from other
    /// machines: it then warns, and passwords left at their well-known defaults are replaced
    /// by random ones (see [`Sandbox::options`] for the ones in force).
    pub host: String,
    /// Port for OpenLM; 0 picks a free one.
    pub openlm_port: u16,
    /// Serve OpenLM over HTTPS, as behind a TLS proxy (plain HTTP otherwise, as OpenLM does).
    pub openlm_tls: bool,
    pub openlm: OpenLmOptions,
    /// Port for the portal; 0 picks a free one.
    pub portal_port: u16,
    /// Serve the portal over HTTPS (as real portals do); plain HTTP otherwise.
    pub portal_tls: bool,
    /// PKI: the portal requires a client certificate from the sandbox's client CA, and a
    /// request without a token is the member the certificate names (web-tier sign-in).
    pub portal_pki: bool,
    pub portal: PortalSiteOptions,
    /// Added to every request before it is answered.
    pub latency: Duration,
    pub faults: FaultRates,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            seed: 1,
            host: "127.0.0.1".into(),
            openlm_port: 0,
            openlm_tls: false,
            openlm: OpenLmOptions::default(),
            portal_port: 0,
            portal_pki: false,
            portal_tls: true,
            portal: PortalSiteOptions::default(),
            latency: Duration::ZERO,
            faults: FaultRates::default(),
        }
    }
}

/// One request the sandbox received.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Seconds since the sandbox started.
    pub time: f64,
    pub service: &'static str,
    pub method: String,
    pub path: String,
    /// The query string, secrets replaced by `***` (a token here would be a leak).
    pub query: String,
    /// The OpenLM message type, or the last part of a portal path (`updateUserLicenseType`).
    pub operation: String,
    /// Request parameters (query and body); secrets are replaced by `***`.
    pub params: Vec<(String, String)>,
    /// The OpenLM session id, or the portal user the token belongs to.
    pub session: Option<String>,
    /// Where a portal token came in: `"body"`, `"query"`, `"x-esri-authorization"`, `"authorization"`.
    pub token_in: Option<&'static str>,
    /// The Referer header.
    pub referer: Option<String>,
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
}

/// Which emulator a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    OpenLm,
    Portal,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::OpenLm => "openlm",
            Service::Portal => "portal",
        }
    }
}

pub struct Shared {
    pub openlm: OpenLmSite,
    pub portal: PortalSite,
    faults: Mutex<faults::Faults>,
    latency: Mutex<Duration>,
    log: Mutex<VecDeque<LoggedRequest>>,
    started: Instant,
    /// Client certificates issued for PKI (their DER) and the member each names.
    client_certs: Mutex<HashMap<Vec<u8>, String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox. Dropping it stops it.
pub struct Sandbox {
    /// The options in force (passwords included, when random ones replaced the defaults).
    options: SandboxOptions,
    shared: Arc<Shared>,
    tls: tls::Tls,
    openlm_addr: SocketAddr,
    openlm_scheme: &'static str,
    portal_addr: SocketAddr,
    portal_scheme: &'static str,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Seed the site and start listening. Must run inside a tokio runtime.
    pub async fn start(mut options: SandboxOptions) -> Result<Sandbox> {
        options.faults.check()?;
        if !is_loopback_host(&options.host) {
            let replaced = replace_well_known_passwords(&mut options);
            log::warn!(
                "the sandbox listens on {}: it is reachable from other machines. It is a test \
                 server with made-up data and test credentials; {}. Listen on 127.0.0.1 unless \
                 other machines must reach it.",
                options.host,
                if replaced {
                    "its well-known passwords were replaced by random ones"
                } else {
                    "it uses the passwords it was given"
                }
            );
        }
        let shared = Arc::new(Shared {
            openlm: OpenLmSite::seeded(options.openlm.clone(), options.seed)?,
            portal: PortalSite::seeded(options.portal.clone(), options.seed)?,
            faults: Mutex::new(faults::Faults::new(options.faults.clone(), options.seed)),
            latency: Mutex::new(options.latency),
            log: Mutex::new(VecDeque::new()),
            started: Instant::now(),
            client_certs: Mutex::new(HashMap::new()),
        });
        if options.portal_pki && !options.portal_tls {
            return Err(Error::invalid(
                "portal_pki needs HTTPS: client certificates travel in the TLS handshake",
            ));
        }
        let (openlm_listener, openlm_addr) = listen(&options.host, options.openlm_port).await?;
        let (portal_listener, portal_addr) = listen(&options.host, options.portal_port).await?;
        let tls = tls::Tls::generate(&options.host, options.portal_pki)?;
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(accept_loop(
                openlm_listener,
                options.openlm_tls.then(|| tls.acceptor.clone()),
                Service::OpenLm,
                shared.clone(),
                stopped.clone(),
            )),
            tokio::spawn(accept_loop(
                portal_listener,
                match &tls.pki_acceptor {
                    Some(pki) => Some(pki.clone()),
                    None => options.portal_tls.then(|| tls.acceptor.clone()),
                },
                Service::Portal,
                shared.clone(),
                stopped,
            )),
        ];
        let scheme = |tls: bool| if tls { "https" } else { "http" };
        let sandbox = Sandbox {
            openlm_scheme: scheme(options.openlm_tls),
            portal_scheme: scheme(options.portal_tls),
            options,
            shared,
            tls,
            openlm_addr,
            portal_addr,
            stop,
            tasks,
        };
        log::info!(
            "sandbox listening: OpenLM {}, portal {}",
            sandbox.openlm_url(),
            sandbox.portal_url()
        );
        Ok(sandbox)
    }

    pub fn openlm_url(&self) -> String {
        format!("{}://{}/OpenLMServer", self.openlm_scheme, self.openlm_addr)
    }

    /// The portal URL, as users type it: `https://127.0.0.1:<port>/portal`.
    pub fn portal_url(&self) -> String {
        format!("{}://{}/portal", self.portal_scheme, self.portal_addr)
    }

    /// The sandbox CA's certificate file: pass it as `ca_bundle=` to trust the sandbox's HTTPS.
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.tls.ca_file()
    }

    /// The options it runs with, passwords included.
    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// A client certificate naming `username` (PKI), as PEM files: from the client CA the
    /// portal trusts, or (`untrusted`) from one it does not; `expired`, one that ended in 2021.
    pub fn issue_client_cert(
        &self,
        username: &str,
        expired: bool,
        untrusted: bool,
    ) -> Result<tls::IssuedClientCert> {
        let issued = self.tls.issue_client_cert(username, expired, untrusted)?;
        lock(&self.shared.client_certs).insert(issued.der.clone(), username.to_owned());
        Ok(issued)
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.shared.latency)
    }

    pub fn set_fault_rates(&self, rates: FaultRates) -> Result<()> {
        lock(&self.shared.faults).set_rates(rates)
    }

    pub fn fault_rates(&self) -> FaultRates {
        lock(&self.shared.faults).rates().clone()
    }

    /// The next `count` requests (to `operation`, when given) get `kind`.
    pub fn fail_next(&self, kind: FaultKind, count: usize, operation: Option<String>) {
        lock(&self.shared.faults).queue(kind, count, operation);
    }

    /// No more faults, queued or random.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `host` (an address or a name, IPv6 with or without brackets) reaches only this
/// machine.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Replace every password still at its well-known default (the same in every sandbox, and in
/// the docs) by a random one. Says whether any was replaced.
fn replace_well_known_passwords(options: &mut SandboxOptions) -> bool {
    let openlm = OpenLmOptions::default();
    let portal = PortalSiteOptions::default();
    let mut replaced = false;
    for (password, well_known) in [
        (&mut options.openlm.password, &openlm.password),
        (&mut options.portal.admin_password, &portal.admin_password),
        (&mut options.portal.user_password, &portal.user_password),
        (
            &mut options.portal.oauth_client_secret,
            &portal.oauth_client_secret,
        ),
    ] {
        if password == well_known {
            *password = random_password();
            replaced = true;
        }
    }
    replaced
}

/// 20 letters and digits from the thread's CSPRNG (about 119 bits).
fn random_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

async fn listen(host: &str, port: u16) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|e| Error::invalid(format!("the sandbox cannot listen on {host}:{port}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::invalid(format!("the sandbox has no local address: {e}")))?;
    Ok((listener, addr))
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    service: Service,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    match tls {
                        // A client that does not trust the CA ends the handshake; nothing to do.
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                // PKI: who the verified client certificate names.
                                let web_user = stream
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|chain| chain.first())
                                    .and_then(|cert| {
                                        lock(&shared.client_certs).get(cert.as_ref()).cloned()
                                    })
                                    .map(Arc::<str>::from);
                                serve(stream, shared, service, "https", web_user).await;
                            }
                        }
                        None => serve(stream, shared, service, "http", None).await,
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    connections.abort_all();
}

async fn serve<S>(
    stream: S,
    shared: Arc<Shared>,
    service: Service,
    scheme: &'static str,
    web_user: Option<Arc<str>>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let handler = service_fn(move |request| {
        handle(shared.clone(), service, scheme, web_user.clone(), request)
    });
    // A dropped connection (fault injection) ends here with an error; that is the point.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), handler)
        .await;
}

/// Returned by the handler to close the connection without a reply.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injection: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

type Reply = hyper::Response<Full<Bytes>>;

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut response = hyper::Response::new(Full::new(body.into()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

const HTML: &str = "text/html; charset=utf-8";
const XML: &str = "application/xml; charset=utf-8";

/// What the sandbox understood of a request, before answering it.
struct Parsed {
    operation: String,
    /// For the log: secrets replaced by `***`.
    params: Vec<(String, String)>,
    query: String,
    session: Option<String>,
    token_in: Option<&'static str>,
    referer: Option<String>,
    /// The OpenLM request, or why it could not be read; `None` for the portal.
    openlm: Option<std::result::Result<openlm::Request, String>>,
    /// Portal parameters as received (query, then form body).
    portal_params: Vec<(String, String)>,
    header_token: Option<String>,
}

fn parse_openlm(body: &[u8]) -> Parsed {
    let mut parsed = Parsed {
        operation: String::new(),
        params: vec![],
        query: String::new(),
        session: None,
        token_in: None,
        referer: None,
        openlm: None,
        portal_params: vec![],
        header_token: None,
    };
    let request = openlm::read_request(body);
    if let Ok(request) = &request {
        let mut params = request.params.clone();
        for (tag, text) in &request.texts {
            let secret = crate::http::is_secret_field(tag) || tag.eq_ignore_ascii_case("PWD");
            params.push((
                tag.clone(),
                if secret { "***".into() } else { text.clone() },
            ));
        }
        parsed.operation = request.kind.clone();
        parsed.params = params;
        parsed.session = request.session_id.clone();
    }
    parsed.openlm = Some(request);
    parsed
}

fn redacted(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let value = if crate::http::is_secret_field(k) {
                "***".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), value)
        })
        .collect()
}

/// A portal request: parameters from the query and the form body, the token and where it
/// came from, and the operation (the path's last part).
fn parse_portal(shared: &Shared, parts: &hyper::http::request::Parts, body: &[u8]) -> Parsed {
    let query = parts.uri.query().unwrap_or("");
    let from_query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut params = from_query.clone();
    let is_form = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form && !body.is_empty() {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let bearer = |value: String| {
        let value = value.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        Some(token.trim().to_owned()).filter(|t| !t.is_empty())
    };
    let esri = header("x-esri-authorization").and_then(bearer);
    let authorization = header("authorization").and_then(bearer);
    let in_query = from_query
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("token"));
    let in_body = params.len() > from_query.len()
        && params[from_query.len()..]
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("token"));
    let token_in = if in_body {
        Some("body")
    } else if in_query {
        Some("query")
    } else if esri.is_some() {
        Some("x-esri-authorization")
    } else if authorization.is_some() {
        Some("authorization")
    } else {
        None
    };
    let header_token = esri.or(authorization);
    let token = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("token"))
        .map(|(_, v)| v.clone())
        .filter(|t| !t.is_empty())
        .or_else(|| header_token.clone());
    let shown_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(redacted(&from_query))
        .finish();
    Parsed {
        operation: parts
            .uri
            .path()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_owned(),
        params: redacted(&params),
        query: shown_query,
        session: token.and_then(|t| shared.portal.token_user(&t)),
        token_in,
        referer: header("referer"),
        openlm: None,
        portal_params: params,
        header_token,
    }
}

/// `//` collapsed, lower case: real clients are sloppy about paths.
fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

async fn handle(
    shared: Arc<Shared>,
    service: Service,
    scheme: &'static str,
    web_user: Option<Arc<str>>,
    request: hyper::Request<Incoming>,
) -> std::result::Result<Reply, DropConnection> {
    let received = shared.started.elapsed().as_secs_f64();
    let (parts, body) = request.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(reply(
                413,
                HTML,
                "<html><body>Request too large</body></html>",
            ))
        }
    };
    let parsed = match service {
        Service::OpenLm => parse_openlm(&body),
        Service::Portal => parse_portal(&shared, &parts, &body),
    };
    let fault = lock(&shared.faults).next(&parsed.operation);
    let mut delay = *lock(&shared.latency);
    if fault == Some(FaultKind::Slow) {
        delay += lock(&shared.faults).rates().slow_delay;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let outcome: std::result::Result<Reply, DropConnection> = match fault {
        Some(FaultKind::Drop) => Err(DropConnection),
        Some(FaultKind::Http500) => Ok(reply(
            500,
            HTML,
            "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>",
        )),
        Some(FaultKind::Http503) => Ok(reply(
            503,
            HTML,
            "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>",
        )),
        Some(FaultKind::Error) => Ok(match service {
            Service::OpenLm => reply(200, XML, openlm::error_reply("Server Error")),
            Service::Portal => {
                let (status, content_type, body) = portal::fault_reply(&normalize_path(&path));
                reply(status, content_type, body)
            }
        }),
        Some(FaultKind::Slow | FaultKind::DropAfter) | None => Ok(match service {
            Service::OpenLm => route_openlm(&shared, &method, &path, &parsed),
            Service::Portal => {
                let host = parts
                    .headers
                    .get(hyper::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1");
                let origin = format!("{scheme}://{host}");
                let normalized = normalize_path(&path);
                let request = portal::PortalRequest {
                    method: &method,
                    path: normalized.trim_end_matches('/'),
                    params: &parsed.portal_params,
                    header_token: parsed.header_token.as_deref(),
                    referer: parsed.referer.as_deref(),
                    origin: &origin,
                    web_user: web_user.as_deref(),
                };
                let (status, content_type, body) = shared.portal.respond(&request);
                if content_type == portal::REDIRECT {
                    match hyper::header::HeaderValue::from_str(&body) {
                        Ok(location) => {
                            let mut redirect =
                                reply(status, HTML, "<html><body>Redirecting</body></html>");
                            redirect
                                .headers_mut()
                                .insert(hyper::header::LOCATION, location);
                            redirect
                        }
                        // A redirect URI no header can carry: say so rather than redirect nowhere.
                        Err(_) => reply(
                            500,
                            HTML,
                            "<html><body>Error: the redirect URI cannot be sent</body></html>",
                        ),
                    }
                } else {
                    reply(status, content_type, body)
                }
            }
        }),
    };
    // Done above; now the answer is lost.
    let outcome = match (fault, outcome) {
        (Some(FaultKind::DropAfter), Ok(_)) => Err(DropConnection),
        (_, outcome) => outcome,
    };
    let entry = LoggedRequest {
        time: received,
        service: service.name(),
        method,
        path,
        query: parsed.query,
        operation: parsed.operation,
        params: parsed.params,
        session: parsed.session,
        token_in: parsed.token_in,
        referer: parsed.referer,
        status: outcome.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
        fault: fault.map(FaultKind::name),
    };
    {
        let mut log = lock(&shared.log);
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }
    outcome
}

fn route_openlm(shared: &Shared, method: &str, path: &str, parsed: &Parsed) -> Reply {
    let path = normalize_path(path);
    if !matches!(path.as_str(), "/openlmserver" | "/openlmserver/" | "/") {
        return reply(
            404,
            HTML,
            "<html><body><h1>404 Not Found</h1></body></html>",
        );
    }
    // Refused as OpenLM refuses anything it cannot do: an Error reply (HTTP 200).
    if method != "POST" {
        return reply(
            200,
            XML,
            openlm::error_reply(&format!(
                "Bad request: the OpenLM API takes POST requests with an XML body, not {method}"
            )),
        );
    }
    match &parsed.openlm {
        Some(Ok(request)) => reply(200, XML, shared.openlm.respond(request)),
        unread => {
            let problem = match unread {
                Some(Err(problem)) => problem.as_str(),
                _ => "unreadable request",
            };
            reply(
                200,
                XML,
                openlm::error_reply(&format!("Bad request: {problem}")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "0.0.0.0",
            "::",
            "[::]",
            "192.168.1.5",
            "sandbox.example.com",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[tokio::test]
    async fn beyond_loopback_the_well_known_passwords_are_replaced() {
        let well_known = SandboxOptions::default();
        let start = |options: SandboxOptions| async move {
            Sandbox::start(SandboxOptions {
                host: "0.0.0.0".into(),
                ..options
            })
            .await
            .unwrap()
        };
        let first = start(SandboxOptions::default()).await;
        let second = start(SandboxOptions::default()).await;
        for sb in [&first, &second] {
            let o = sb.options();
            assert_ne!(o.openlm.password, well_known.openlm.password);
            assert_ne!(o.portal.admin_password, well_known.portal.admin_password);
            assert_ne!(o.portal.user_password, well_known.portal.user_password);
            assert!(o.openlm.password.len() >= 20);
            assert_eq!(
                sb.shared().portal.options().admin_password,
                o.portal.admin_password
            );
        }
        assert_ne!(
            first.options().portal.admin_password,
            second.options().portal.admin_password
        );

        // Passwords given explicitly are kept.
        let mut given = SandboxOptions::default();
        given.openlm.password = "chosen-openlm".into();
        given.portal.admin_password = "chosen-admin".into();
        let sb = start(given).await;
        assert_eq!(sb.options().openlm.password, "chosen-openlm");
        assert_eq!(sb.options().portal.admin_password, "chosen-admin");
        assert_ne!(
            sb.options().portal.user_password,
            well_known.portal.user_password
        );

        // On loopback, the well-known ones stay (tests and docs use them).
        let local = Sandbox::start(SandboxOptions::default()).await.unwrap();
        assert_eq!(local.options().openlm.password, well_known.openlm.password);
        assert_eq!(
            local.options().portal.admin_password,
            well_known.portal.admin_password
        );
    }
}
