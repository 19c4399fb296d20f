//! Sending a request: one connection pool per server, timeouts, retries with backoff, and
//! the outcome of a change whose answer was lost.

use std::sync::Once;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use super::cause::tls_cause;
use super::{
    error_chain, redact_url, Body, Effect, HttpOptions, Request, Response, MAX_RETRY_PAUSE,
    USER_AGENT,
};
use crate::error::{Error, Result};

/// Its log lines keep the logger name they had before this module was split out of its
/// parent: `gislicense.http`, which users' logging configurations name.
const LOG_TARGET: &str = "gislicense::http";

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
                        target: LOG_TARGET,
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
                        target: LOG_TARGET,
                        "{} {shown_url} -> {} in {elapsed_ms} ms",
                        request.method,
                        reply.status
                    );
                    false
                }
                Err((failure, err)) => {
                    log::debug!(
                        target: LOG_TARGET,
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
                target: LOG_TARGET,
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
