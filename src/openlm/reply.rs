//! Reading OpenLM's replies: an XML `Error` reply is the server's refusal, in its words,
//! whatever the HTTP status; a session expiry is told apart, so the client logs in again.

use crate::error::{Error, Result};
use crate::http::{Effect, Response};
use crate::openlm::xml::{self, Message};

/// Read the reply to a request with `effect`. After a lost answer, an `Error` reply to a
/// change may only mean the lost attempt did it; a session expiry is left to the caller.
pub(super) fn read_message(response: &Response, effect: Effect) -> Result<Message> {
    let reply = read_reply(response).map_err(|err| response.judge(effect, err))?;
    if response.after_lost_answer
        && reply.kind.eq_ignore_ascii_case("Error")
        && !is_session_expired(&reply)
    {
        let refusal = error_from_reply(&response.url, Some(response.status), &reply);
        return Err(response.judge(effect, refusal));
    }
    Ok(reply)
}

/// Read an OpenLM reply whatever its HTTP status: an XML `Error` explains a failure
/// better than the status does.
fn read_reply(response: &Response) -> Result<Message> {
    match xml::read(&response.body) {
        Ok(message) if response.is_success() => Ok(message),
        Ok(message) if message.kind.eq_ignore_ascii_case("Error") => Err(error_from_reply(
            &response.url,
            Some(response.status),
            &message,
        )),
        Ok(_) => Err(response.status_error()),
        Err(problem) if response.is_success() => Err(response.unreadable(problem.0)),
        Err(_) => Err(response.status_error()),
    }
}

/// The error an `Error` reply stands for.
pub(super) fn error_from_reply(url: &str, status: Option<u16>, reply: &Message) -> Error {
    let text = reply.text.trim();
    let lower = text.to_lowercase();
    let message = if text.is_empty() {
        "the server replied Error without a message".to_owned()
    } else {
        text.to_owned()
    };
    if [
        "permission",
        "not authorized",
        "unauthorized",
        "access denied",
        "not allowed",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return Error::PermissionDenied {
            url: url.to_owned(),
            message,
        };
    }
    Error::Server {
        url: url.to_owned(),
        status,
        code: reply
            .param("code")
            .or_else(|| {
                reply
                    .message_attrs
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("code"))
                    .map(|(_, v)| v.as_str())
            })
            .and_then(|c| c.trim().parse().ok()),
        message,
        details: reply
            .params
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("code"))
            .map(|(name, value)| format!("{name}: {value}"))
            .collect(),
    }
}

/// Whether a reply says the session is gone. How a real server says it is unverified,
/// so the plausible forms are all taken.
pub(super) fn is_session_expired(reply: &Message) -> bool {
    let kind = reply.kind.to_ascii_lowercase();
    if matches!(
        kind.as_str(),
        "sessionexpired"
            | "showloginform"
            | "loginrequired"
            | "notauthenticated"
            | "invalidsession"
    ) {
        return true;
    }
    if kind != "error" {
        return false;
    }
    let text = reply.text.to_lowercase();
    (text.contains("session")
        && [
            "expired",
            "invalid",
            "not valid",
            "unknown",
            "timed out",
            "timeout",
        ]
        .iter()
        .any(|w| text.contains(w)))
        || text.contains("not logged in")
        || text.contains("login required")
        || text.contains("please log in")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_expiry_is_recognised_in_its_plausible_forms() {
        let reply = |kind: &str, text: &str| Message {
            kind: kind.into(),
            text: text.into(),
            ..Default::default()
        };
        assert!(is_session_expired(&reply(
            "Error",
            "Session expired. Please log in again."
        )));
        assert!(is_session_expired(&reply("Error", "Invalid session id")));
        assert!(is_session_expired(&reply("SessionExpired", "")));
        assert!(!is_session_expired(&reply("Error", "Server Error")));
        assert!(!is_session_expired(&reply("Success", "session expired")));
    }
}
