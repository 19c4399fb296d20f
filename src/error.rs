//! The one error type of the crate. Every failure a caller can act on has its own variant;
//! the Python bindings map each variant to one exception class.
//!
//! Messages say what failed, where, and what to do. They never carry a password or a token:
//! URLs are redacted before they get here (see `http::redact_url`).

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Bad input, found before anything was sent.
    #[error("{0}")]
    InvalidInput(String),

    /// The server could not be reached, or the connection broke.
    #[error("cannot reach {url}: {cause}")]
    Transport { url: String, cause: String },

    /// No answer in time.
    #[error("{url} did not answer within {seconds:.1} s ({cause})")]
    Timeout {
        url: String,
        seconds: f64,
        cause: String,
    },

    /// The TLS handshake failed: an untrusted certificate, a wrong host name, an old protocol.
    #[error("TLS failed with {url}: {cause}")]
    Tls { url: String, cause: String },

    /// Sign-in failed, or the server wants a sign-in it did not get.
    #[error("authentication failed at {url}: {message}")]
    Authentication { url: String, message: String },

    /// A fixed token (one the library cannot renew) has expired or was revoked. Inside the
    /// clients it also says that a server rejected a credential, which `renewal` renews.
    #[error("the token was rejected by {url}: {message}")]
    TokenExpired { url: String, message: String },

    /// Signed in, but not allowed to do this.
    #[error("permission denied at {url}: {message}")]
    PermissionDenied { url: String, message: String },

    /// The thing asked for does not exist (a user, a listing, an endpoint).
    #[error("not found at {url}: {message}")]
    NotFound { url: String, message: String },

    /// The server understood the request and refused it, with its own code and message.
    #[error("{}", server_error_text(Some(.url), *.status, *.code, .message, .details))]
    Server {
        url: String,
        status: Option<u16>,
        code: Option<i64>,
        message: String,
        details: Vec<String>,
    },

    /// A request that changes something reached the server (or may have), and what the
    /// server did is not known: its answer was lost, unreadable, or said neither yes nor no.
    /// Only a re-read of the state can tell.
    #[error(
        "{url} may or may not have done it: {cause}; check the current state before repeating it"
    )]
    OutcomeUnknown { url: String, cause: String },

    /// A listing the server will not serve whole: a portal pages through only the first
    /// 10,000 results of a search, and gislicense could not split the listing into parts
    /// each within that window. Never a silently short list.
    #[error("{url} serves only part of this listing: {message}")]
    ListingCutOff { url: String, message: String },

    /// The reply is not what the protocol promises: HTML, garbage, truncated XML or JSON.
    #[error("unreadable reply from {url} (HTTP {status}): {problem}; the reply starts with: {body_start:?}")]
    UnreadableReply {
        url: String,
        status: u16,
        problem: String,
        body_start: String,
    },

    /// The journal of a run could not be written (a full disk, a folder made read-only):
    /// the run stopped sending, and the message says what the journal holds and how to
    /// finish.
    #[error("{message}")]
    Journal { path: String, message: String },
}

fn server_error_text(
    url: Option<&str>,
    status: Option<u16>,
    code: Option<i64>,
    message: &str,
    details: &[String],
) -> String {
    let mut text = match url {
        Some(url) => format!("{url} refused the request: {message}"),
        None => message.to_owned(),
    };
    if let Some(code) = code {
        text.push_str(&format!(" (code {code})"));
    } else if let Some(status) = status {
        text.push_str(&format!(" (HTTP {status})"));
    }
    let details: Vec<&str> = details
        .iter()
        .map(String::as_str)
        .filter(|d| !d.is_empty() && *d != message)
        .collect();
    if !details.is_empty() {
        text.push_str(": ");
        text.push_str(&details.join("; "));
    }
    text
}

impl Error {
    pub fn invalid(message: impl fmt::Display) -> Self {
        Error::InvalidInput(message.to_string())
    }

    /// The short name of the variant; the bindings and logs use it.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "invalid_input",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            Error::Tls { .. } => "tls",
            Error::Authentication { .. } => "authentication",
            Error::TokenExpired { .. } => "token_expired",
            Error::PermissionDenied { .. } => "permission_denied",
            Error::NotFound { .. } => "not_found",
            Error::Server { .. } => "server",
            Error::UnreadableReply { .. } => "unreadable_reply",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
            Error::ListingCutOff { .. } => "listing_cut_off",
            Error::Journal { .. } => "journal",
        }
    }

    /// An error of the variant `kind` names (as [`Error::kind`] gives it) saying `message`:
    /// for a failure kept as its kind and words (a plan item whose state could not be read,
    /// saved in a plan file), raised again as the same Python exception.
    pub fn of_kind(kind: &str, url: &str, message: String) -> Error {
        let url = url.to_owned();
        match kind {
            "transport" | "timeout" => Error::Transport {
                url,
                cause: message,
            },
            "tls" => Error::Tls {
                url,
                cause: message,
            },
            "authentication" | "token_expired" => Error::Authentication { url, message },
            "permission_denied" => Error::PermissionDenied { url, message },
            "not_found" => Error::NotFound { url, message },
            "unreadable_reply" => Error::UnreadableReply {
                url,
                status: 200,
                problem: message,
                body_start: String::new(),
            },
            "listing_cut_off" => Error::ListingCutOff { url, message },
            "server" | "outcome_unknown" => Error::Server {
                url,
                status: None,
                code: None,
                message,
                details: Vec::new(),
            },
            _ => Error::InvalidInput(message),
        }
    }

    /// The error without the URL, for per-item reasons in bulk reports (where every item
    /// went to the same server).
    pub fn reason(&self) -> String {
        match self {
            Error::InvalidInput(message) => message.clone(),
            Error::Transport { cause, .. } => format!("cannot reach the server: {cause}"),
            Error::Timeout { seconds, cause, .. } => {
                format!("no answer within {seconds:.1} s ({cause})")
            }
            Error::Tls { cause, .. } => format!("TLS failed: {cause}"),
            Error::Authentication { message, .. } => format!("authentication failed: {message}"),
            Error::TokenExpired { message, .. } => format!("the token was rejected: {message}"),
            Error::PermissionDenied { message, .. } => format!("permission denied: {message}"),
            Error::NotFound { message, .. } => format!("not found: {message}"),
            Error::Server {
                status,
                code,
                message,
                details,
                ..
            } => server_error_text(None, *status, *code, message, details),
            Error::UnreadableReply { problem, .. } => format!("unreadable reply: {problem}"),
            Error::OutcomeUnknown { cause, .. } => format!("result unknown: {cause}"),
            Error::ListingCutOff { message, .. } => format!("listing cut off: {message}"),
            Error::Journal { message, .. } => message.clone(),
        }
    }

    /// The URL the failure happened at, when there is one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::InvalidInput(_) | Error::Journal { .. } => None,
            Error::Transport { url, .. }
            | Error::Timeout { url, .. }
            | Error::Tls { url, .. }
            | Error::Authentication { url, .. }
            | Error::TokenExpired { url, .. }
            | Error::PermissionDenied { url, .. }
            | Error::NotFound { url, .. }
            | Error::Server { url, .. }
            | Error::UnreadableReply { url, .. }
            | Error::OutcomeUnknown { url, .. }
            | Error::ListingCutOff { url, .. } => Some(url),
        }
    }
}

impl Error {
    /// The same failure, for a request that changes something and may have reached the
    /// server: what the server did is unknown.
    pub fn unknown_outcome(self) -> Error {
        match self {
            Error::OutcomeUnknown { .. } => self,
            other => Error::OutcomeUnknown {
                url: other.url().unwrap_or_default().to_owned(),
                cause: match &other {
                    Error::Timeout { seconds, .. } => {
                        format!("the request was sent, and no answer came within {seconds:.1} s")
                    }
                    Error::Transport { cause, .. } => {
                        format!("the request was sent, and no answer came ({cause})")
                    }
                    _ => format!(
                        "the request was sent, and the answer was lost ({})",
                        other.reason()
                    ),
                },
            },
        }
    }
}

/// The first `max` characters of a reply body, for error messages.
pub fn body_start(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max * 4)]);
    let trimmed = text.trim_start();
    let mut out: String = trimmed.chars().take(max).collect();
    if trimmed.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_lists_code_and_details() {
        let err = Error::Server {
            url: "https://portal/sharing/rest/x".into(),
            status: Some(200),
            code: Some(400),
            message: "Unable to generate token.".into(),
            details: vec!["Invalid username or password.".into()],
        };
        assert_eq!(
            err.to_string(),
            "https://portal/sharing/rest/x refused the request: Unable to generate token. (code 400): Invalid username or password."
        );
    }

    #[test]
    fn body_start_is_bounded_and_marks_truncation() {
        assert_eq!(body_start(b"  <html>", 10), "<html>");
        assert_eq!(body_start("ééééé".as_bytes(), 3), "ééé…");
    }
}
