//! The one HTTP layer every client shares: timeouts, TLS trust, retries with backoff,
//! redaction, and turning transport failures into errors that name their real cause.
//!
//! Here: the options, requests and replies; `client`: sending with retries; `cause`: what
//! went wrong, in words; `urls`: URLs typed by people and shown to them.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::error::{body_start, Error};

pub const USER_AGENT: &str = concat!("gislicense/", env!("CARGO_PKG_VERSION"));

pub use crate::http_trust::ClientIdentity;

mod cause;
mod client;
mod urls;

pub use cause::error_chain;
pub use client::Http;
pub use urls::{is_secret_field, redact_url, typed_url};

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

#[cfg(test)]
mod tests;
