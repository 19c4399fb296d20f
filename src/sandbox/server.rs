//! The sandbox's HTTP server: accepting connections (TLS and client certificates included),
//! reading requests, injecting faults, routing to the emulated servers, and logging.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{
    lock, openlm, portal, FaultKind, LoggedRequest, Service, Shared, LOG_CAPACITY, MAX_BODY,
};

pub(super) async fn accept_loop(
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
    let Some(body) = read_body(body).await else {
        return Ok(reply(
            413,
            HTML,
            "<html><body>Request too large</body></html>",
        ));
    };
    let parsed = match service {
        Service::OpenLm => parse_openlm(&body),
        Service::Portal => parse_portal(&shared, &parts, &body),
    };
    let fault = lock(&shared.faults).next(&parsed.operation);
    pause(&shared, fault).await;
    let path = parts.uri.path();
    let outcome = injected_fault(fault, service, path).unwrap_or_else(|| {
        Ok(match service {
            Service::OpenLm => route_openlm(&shared, parts.method.as_str(), path, &parsed),
            Service::Portal => route_portal(&shared, scheme, web_user.as_deref(), &parts, &parsed),
        })
    });
    // Done above; now the answer is lost.
    let outcome = match (fault, outcome) {
        (Some(FaultKind::DropAfter), Ok(_)) => Err(DropConnection),
        (_, outcome) => outcome,
    };
    let entry = LoggedRequest {
        time: received,
        service: service.name(),
        method: parts.method.to_string(),
        path: path.to_owned(),
        query: parsed.query,
        operation: parsed.operation,
        params: parsed.params,
        session: parsed.session,
        token_in: parsed.token_in,
        referer: parsed.referer,
        status: outcome.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
        fault: fault.map(FaultKind::name),
    };
    log_request(&shared, entry);
    outcome
}

/// The request's body, or `None` past `MAX_BODY`.
async fn read_body(body: Incoming) -> Option<Bytes> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

/// The latency set for every request, and the fault's own delay for a slow one.
async fn pause(shared: &Shared, fault: Option<FaultKind>) {
    let mut delay = *lock(&shared.latency);
    if fault == Some(FaultKind::Slow) {
        delay += lock(&shared.faults).rates().slow_delay;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// What an injected fault answers instead of the server, or `None` for a fault that lets the
/// request through (slow, or dropped after it is done).
fn injected_fault(
    fault: Option<FaultKind>,
    service: Service,
    path: &str,
) -> Option<std::result::Result<Reply, DropConnection>> {
    match fault? {
        FaultKind::Drop => Some(Err(DropConnection)),
        FaultKind::Http500 => Some(Ok(reply(
            500,
            HTML,
            "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>",
        ))),
        FaultKind::Http503 => Some(Ok(reply(
            503,
            HTML,
            "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>",
        ))),
        FaultKind::Error => Some(Ok(match service {
            Service::OpenLm => reply(200, XML, openlm::error_reply("Server Error")),
            Service::Portal => {
                let (status, content_type, body) = portal::fault_reply(&normalize_path(path));
                reply(status, content_type, body)
            }
        })),
        FaultKind::Slow | FaultKind::DropAfter => None,
    }
}

fn route_portal(
    shared: &Shared,
    scheme: &str,
    web_user: Option<&str>,
    parts: &hyper::http::request::Parts,
    parsed: &Parsed,
) -> Reply {
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let origin = format!("{scheme}://{host}");
    let normalized = normalize_path(parts.uri.path());
    let request = portal::PortalRequest {
        method: parts.method.as_str(),
        path: normalized.trim_end_matches('/'),
        params: &parsed.portal_params,
        header_token: parsed.header_token.as_deref(),
        referer: parsed.referer.as_deref(),
        origin: &origin,
        web_user,
    };
    let (status, content_type, body) = shared.portal.respond(&request);
    if content_type != portal::REDIRECT {
        return reply(status, content_type, body);
    }
    match hyper::header::HeaderValue::from_str(&body) {
        Ok(location) => {
            let mut redirect = reply(status, HTML, "<html><body>Redirecting</body></html>");
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
}

/// Keep `entry` in the request log, forgetting the oldest past `LOG_CAPACITY`.
fn log_request(shared: &Shared, entry: LoggedRequest) {
    let mut log = lock(&shared.log);
    if log.len() >= LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(entry);
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
