//! The sandbox: emulators of the servers gislicense talks to, speaking the same wire as the
//! real ones, on loopback, with latency and fault injection and a log of what they received.

pub mod faults;
pub mod openlm;
pub mod seed;
pub mod tls;

use std::collections::VecDeque;
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
use crate::openlm::xml;
pub use faults::{FaultKind, FaultRates};
pub use openlm::{Checkout, OpenLmOptions, OpenLmSite};

/// Largest request body the sandbox reads.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Requests kept in the log; the oldest go first.
const LOG_CAPACITY: usize = 200_000;

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Makes the seeded data (and random faults) repeatable.
    pub seed: u64,
    /// Address to listen on.
    pub host: String,
    /// Port for OpenLM; 0 picks a free one.
    pub openlm_port: u16,
    /// Serve OpenLM over HTTPS, as behind a TLS proxy (plain HTTP otherwise, as OpenLM does).
    pub openlm_tls: bool,
    pub openlm: OpenLmOptions,
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
    /// The OpenLM message type.
    pub operation: String,
    /// Request parameters; secrets are replaced by `***`.
    pub params: Vec<(String, String)>,
    pub session: Option<String>,
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
}

/// Which emulator a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    OpenLm,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::OpenLm => "openlm",
        }
    }
}

pub struct Shared {
    pub openlm: OpenLmSite,
    faults: Mutex<faults::Faults>,
    latency: Mutex<Duration>,
    log: Mutex<VecDeque<LoggedRequest>>,
    started: Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox. Dropping it stops it.
pub struct Sandbox {
    shared: Arc<Shared>,
    tls: tls::Tls,
    openlm_addr: SocketAddr,
    openlm_scheme: &'static str,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Seed the site and start listening. Must run inside a tokio runtime.
    pub async fn start(options: SandboxOptions) -> Result<Sandbox> {
        options.faults.check()?;
        let shared = Arc::new(Shared {
            openlm: OpenLmSite::seeded(options.openlm.clone(), options.seed)?,
            faults: Mutex::new(faults::Faults::new(options.faults.clone(), options.seed)),
            latency: Mutex::new(options.latency),
            log: Mutex::new(VecDeque::new()),
            started: Instant::now(),
        });
        let listener = TcpListener::bind((options.host.as_str(), options.openlm_port))
            .await
            .map_err(|e| {
                Error::invalid(format!(
                    "the sandbox cannot listen on {}:{}: {e}",
                    options.host, options.openlm_port
                ))
            })?;
        let openlm_addr = listener
            .local_addr()
            .map_err(|e| Error::invalid(format!("the sandbox has no local address: {e}")))?;
        let tls = tls::Tls::generate(&options.host)?;
        let (stop, stopped) = watch::channel(false);
        let acceptor = options.openlm_tls.then(|| tls.acceptor.clone());
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            Service::OpenLm,
            shared.clone(),
            stopped,
        ));
        let sandbox = Sandbox {
            shared,
            tls,
            openlm_addr,
            openlm_scheme: if options.openlm_tls { "https" } else { "http" },
            stop,
            tasks: vec![task],
        };
        log::info!("sandbox OpenLM listening on {}", sandbox.openlm_url());
        Ok(sandbox)
    }

    pub fn openlm_url(&self) -> String {
        format!("{}://{}/OpenLMServer", self.openlm_scheme, self.openlm_addr)
    }

    /// The sandbox CA's certificate file: pass it as `ca_bundle=` to trust the sandbox's HTTPS.
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.tls.ca_file()
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
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
                                serve(stream, shared, service).await;
                            }
                        }
                        None => serve(stream, shared, service).await,
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    connections.abort_all();
}

async fn serve<S>(stream: S, shared: Arc<Shared>, service: Service)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let handler = service_fn(move |request| handle(shared.clone(), service, request));
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
    params: Vec<(String, String)>,
    session: Option<String>,
    message: Option<xml::Message>,
}

fn parse_openlm(body: &[u8]) -> Parsed {
    match xml::read(body) {
        Ok(message) => {
            let mut params = message.params.clone();
            for (tag, text) in &message.texts {
                let secret = crate::http::is_secret_field(tag) || tag.eq_ignore_ascii_case("PWD");
                params.push((
                    tag.clone(),
                    if secret { "***".into() } else { text.clone() },
                ));
            }
            Parsed {
                operation: message.kind.clone(),
                params,
                session: message.session_id.clone(),
                message: Some(message),
            }
        }
        Err(_) => Parsed {
            operation: String::new(),
            params: vec![],
            session: None,
            message: None,
        },
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
    request: hyper::Request<Incoming>,
) -> std::result::Result<Reply, DropConnection> {
    let received = shared.started.elapsed().as_secs_f64();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(reply(
                413,
                HTML,
                "<html><body>Request too large</body></html>",
            ))
        }
    };
    let parsed = parse_openlm(&body);
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
        Some(FaultKind::Error) => Ok(reply(200, XML, OpenLmSite::error_reply("Server Error"))),
        Some(FaultKind::Slow) | None => Ok(route(&shared, service, &method, &path, &parsed, &body)),
    };
    let entry = LoggedRequest {
        time: received,
        service: service.name(),
        method,
        path,
        operation: parsed.operation,
        params: parsed.params,
        session: parsed.session,
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

fn route(
    shared: &Shared,
    service: Service,
    method: &str,
    path: &str,
    parsed: &Parsed,
    body: &[u8],
) -> Reply {
    let path = normalize_path(path);
    match service {
        Service::OpenLm => {
            if !matches!(path.as_str(), "/openlmserver" | "/openlmserver/" | "/") {
                return reply(
                    404,
                    HTML,
                    "<html><body><h1>404 Not Found</h1></body></html>",
                );
            }
            if method != "POST" {
                return reply(
                    405,
                    HTML,
                    "<html><body>The OpenLM API takes POST requests with an XML body</body></html>",
                );
            }
            match &parsed.message {
                Some(message) => reply(200, XML, shared.openlm.respond(message)),
                None => {
                    let problem = match xml::read(body) {
                        Err(e) => e.0,
                        Ok(_) => "unreadable request".into(),
                    };
                    reply(
                        200,
                        XML,
                        OpenLmSite::error_reply(&format!("Bad request: {problem}")),
                    )
                }
            }
        }
    }
}
