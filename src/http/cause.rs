//! What went wrong with an exchange, in a sentence for a person.

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
pub(super) fn tls_cause(err: &(dyn std::error::Error + 'static)) -> Option<String> {
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
