//! TLS trust for `ca_bundle=`, and the client certificate for PKI, kept in one place.
//!
//! A bundle's certificates are trusted as CAs beside the operating system's store, and the
//! usual (webpki / platform) verification decides, as reqwest does by itself. One addition:
//! when the server presents, as its own certificate, exactly (byte for byte) one of the
//! bundle's certificates, it is trusted, provided it names the host and is within its dates.
//! That is how an administrator trusts a server's self-signed certificate: the one
//! `openssl req -x509` makes carries `CA:TRUE`, and webpki refuses a CA certificate used as
//! the server's own ("CaUsedAsEndEntity").
//!
//! The server still proves it holds the certificate's private key: the handshake signature
//! is checked by the normal verifier in every case.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::error::Error;

/// A client TLS configuration trusting the operating system's store, the CAs of `bundle`,
/// and a server whose own certificate is one of `bundle`'s; presenting `identity`, if given,
/// to a server that asks for a client certificate.
pub fn client_config(
    bundle: Vec<CertificateDer<'static>>,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let normal =
        rustls_platform_verifier::Verifier::new_with_extra_roots(bundle.clone(), provider.clone())?;
    let verifier = PinnedOrNormal {
        pinned: bundle,
        normal: Arc::new(normal),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(identity) => {
            builder.with_client_auth_cert(identity.certs.clone(), identity.key.clone_key())?
        }
        None => builder.with_no_client_auth(),
    };
    // What reqwest offers by itself (HTTP/2 and HTTP/1.1); a preconfigured TLS setup must say so.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM file, in order. Anything that is not a certificate is skipped.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[derive(Debug)]
struct PinnedOrNormal {
    pinned: Vec<CertificateDer<'static>>,
    normal: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for PinnedOrNormal {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return self.normal.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        let (not_before, not_after) =
            validity(end_entity.as_ref()).ok_or(CertificateError::BadEncoding)?;
        let now = now.as_secs();
        if now < not_before {
            return Err(CertificateError::NotValidYet.into());
        }
        if now > not_after {
            return Err(CertificateError::Expired.into());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.normal.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.normal.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.normal.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.normal.root_hint_subjects()
    }
}

/// A certificate's notBefore and notAfter, in seconds since 1970, read from its DER:
/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
/// signature, issuer, validity SEQUENCE { notBefore, notAfter }, ... }, ... }.
fn validity(der: &[u8]) -> Option<(u64, u64)> {
    let (_, certificate, _) = read_tlv(der)?;
    let (_, tbs, _) = read_tlv(certificate)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xA0) {
        rest = read_tlv(rest)?.2;
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        rest = read_tlv(rest)?.2;
    }
    let (tag, validity, _) = read_tlv(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, not_before, rest) = read_tlv(validity)?;
    let not_before = der_time(tag, not_before)?;
    let (tag, not_after, _) = read_tlv(rest)?;
    Some((not_before, der_time(tag, not_after)?))
}

/// One DER element: its tag, its contents, and what follows it.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, tag 0x18).
fn der_time(tag: u8, text: &[u8]) -> Option<u64> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest.last() != Some(&b'Z') {
        return None;
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_since_1970(year, month, day)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(60))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`); None before 1970.
fn days_since_1970(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = i64::try_from(year).ok()? - i64::from(month <= 2);
    let month = i64::try_from(month).ok()?;
    let day = i64::try_from(day).ok()?;
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    u64::try_from(era * 146_097 + day_of_era - 719_468).ok()
}

/// A client certificate with its private key, presented to servers that ask for one (a
/// portal behind PKI). The key never shows in `Debug`.
pub struct ClientIdentity {
    pub(crate) certs: Vec<CertificateDer<'static>>,
    pub(crate) key: rustls::pki_types::PrivateKeyDer<'static>,
    /// The certificate's subject, for messages.
    pub subject: String,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity {
            certs: self.certs.clone(),
            key: self.key.clone_key(),
            subject: self.subject.clone(),
        }
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientIdentity({:?}, key ***)", self.subject)
    }
}

impl ClientIdentity {
    /// Read a client certificate: a PEM certificate (chain) with its key in `key_file` or in
    /// the same file, or a PKCS#12 file (`.p12`, `.pfx`) opened with `password`. A
    /// certificate outside its dates is refused here, before anything is sent.
    pub fn load(
        cert_file: &Path,
        key_file: Option<&Path>,
        password: Option<&str>,
    ) -> crate::error::Result<ClientIdentity> {
        let shown = cert_file.display().to_string();
        let data = read_file(cert_file, "file")?;
        // PEM anywhere in the file (openssl writes "Bag Attributes" before its blocks).
        let is_pem = data.windows(11).any(|w| w == b"-----BEGIN ");
        // What cannot be PKCS#12 (text, or empty) is said to be no certificate at all.
        let is_text = std::str::from_utf8(&data).is_ok();
        if !is_pem && is_text {
            return Err(Error::invalid(format!(
                "{shown} holds no PEM certificate (and text is no PKCS#12 file): give the client \
                 certificate as cert_file= (PEM, or a PKCS#12 .p12/.pfx file)"
            )));
        }
        if is_pem && password.is_some() {
            return Err(Error::invalid(format!(
                "cert_password= opens a PKCS#12 file, and {shown} is PEM: give its key as \
                 key_file= (not encrypted) instead"
            )));
        }
        let (certs, key) = if is_pem {
            pem_identity(&data, key_file, &shown)?
        } else {
            if key_file.is_some() {
                return Err(Error::invalid(format!(
                    "{shown} is not PEM, so it is read as PKCS#12, which holds its own key: \
                     drop key_file="
                )));
            }
            pkcs12_identity(&data, password, &shown)?
        };
        usable_identity(certs, key, &shown)
    }
}

fn read_file(path: &Path, what: &str) -> crate::error::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read the client certificate's {what} {:?}: {e}",
            path.display().to_string()
        ))
    })
}

/// The certificates of a PEM file, and the key in `key_file` or in the same file.
fn pem_identity(
    data: &[u8],
    key_file: Option<&Path>,
    shown: &str,
) -> crate::error::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let certs = pem_certificates(data)
        .map_err(|e| Error::invalid(format!("{shown} is not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{shown} holds no PEM certificate: give the client certificate as cert_file= \
             (PEM, or a PKCS#12 .p12/.pfx file)"
        )));
    }
    let key_data = match key_file {
        Some(path) => read_file(path, "key file")?,
        None => data.to_vec(),
    };
    let key_shown = key_file.map_or_else(|| shown.to_owned(), |p| p.display().to_string());
    let text = String::from_utf8_lossy(&key_data);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(Error::invalid(format!(
            "the private key in {key_shown} is encrypted: give the certificate and key as \
             a PKCS#12 file with cert_password=, or a key without a passphrase \
             (openssl pkey -in key.pem -out key-plain.pem)"
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_data).map_err(|_| {
        Error::invalid(format!(
            "{key_shown} holds no private key: give the client certificate's key as \
             key_file= (PEM), or a PKCS#12 file"
        ))
    })?;
    Ok((certs, key))
}

/// The certificate chain and key of a PKCS#12 file opened with `password`.
fn pkcs12_identity(
    data: &[u8],
    password: Option<&str>,
    shown: &str,
) -> crate::error::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let store = p12_keystore::KeyStore::from_pkcs12(
        data,
        password.unwrap_or(""),
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|e| {
        let what = if x509_parser::parse_x509_certificate(data).is_ok() {
            "it is a certificate alone (DER): give the certificate and its key as \
             PEM files (cert_file=, key_file=), or a PKCS#12 file"
                .to_owned()
        } else if password.is_none() {
            format!("no cert_password= was given, or it is not a .p12/.pfx file: {e}")
        } else {
            format!("wrong cert_password=, or not a .p12/.pfx file: {e}")
        };
        Error::invalid(format!("cannot open {shown} as PKCS#12: {what}"))
    })?;
    let Some((_, chain)) = store.private_key_chain() else {
        return Err(Error::invalid(format!(
            "{shown} holds no private key with its certificate"
        )));
    };
    let certs: Vec<CertificateDer<'static>> = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{shown} holds a key without its certificate"
        )));
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// The identity, once its key is known to be the certificate's and usable here, and the
/// certificate within its dates: said now, naming the file.
fn usable_identity(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    shown: &str,
) -> crate::error::Result<ClientIdentity> {
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(certs.clone(), key.clone_key(), &provider).map_err(
        |e| {
            Error::invalid(format!(
                "the client certificate in {shown} cannot be used with its key: {e}"
            ))
        },
    )?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&certs[0]).map_err(|e| {
        Error::invalid(format!(
            "the client certificate in {shown} cannot be read: {e}"
        ))
    })?;
    let subject = parsed.subject().to_string();
    let validity = parsed.validity();
    let now = x509_parser::time::ASN1Time::now();
    if validity.not_after < now {
        return Err(Error::invalid(format!(
            "the client certificate in {shown} ({subject}) expired on {}: get a new one",
            validity.not_after
        )));
    }
    if validity.not_before > now {
        return Err(Error::invalid(format!(
            "the client certificate in {shown} ({subject}) is not valid before {}",
            validity.not_before
        )));
    }
    Ok(ClientIdentity {
        certs,
        key,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Body, Effect, Http, HttpOptions, Request};
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use url::Url;

    /// A self-signed certificate as `openssl req -x509 -subj /CN=localhost -addext
    /// subjectAltName=DNS:localhost,IP:127.0.0.1` makes it: CA:TRUE, used as the server's own.
    fn self_signed() -> (CertificateDer<'static>, String, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.self_signed(&key).unwrap();
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert.der().clone(), cert.pem(), private)
    }

    /// An HTTPS server on 127.0.0.1 presenting `cert` and answering every request with a
    /// tiny OpenLM-like body. Returns its URL.
    async fn serve(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> Url {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let body = "<ULM/>";
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Url::parse(&format!("https://127.0.0.1:{port}/OpenLMServer")).unwrap()
    }

    async fn fetch(url: &Url, ca_bundle: Option<std::path::PathBuf>) -> crate::error::Result<u16> {
        let options = HttpOptions {
            retries: 0,
            ca_bundle,
            ..HttpOptions::default()
        };
        let http = Http::new(options, url)?;
        let reply = http
            .send(&Request::post(url.clone(), Body::Empty, Effect::Read))
            .await?;
        Ok(reply.status)
    }

    fn write_pem(dir: &std::path::Path, name: &str, pem: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path
    }

    #[tokio::test]
    async fn a_self_signed_certificate_is_trusted_exactly_when_it_is_in_the_bundle() {
        let (cert, pem, key) = self_signed();
        let (_, other_pem, _) = self_signed();
        let url = serve(cert, key).await;
        let dir = std::env::temp_dir().join(format!(
            "gislicense-trust-test-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir(&dir).unwrap();

        let refused = fetch(&url, None).await.unwrap_err();
        let text = refused.to_string();
        assert_eq!(refused.kind(), "tls", "{text}");
        assert!(text.contains("ca_bundle="), "{text}");
        assert!(text.contains("self-signed"), "{text}");

        let own = write_pem(&dir, "own.pem", &pem);
        assert_eq!(fetch(&url, Some(own)).await.unwrap(), 200);

        // Another certificate, and the server's own beside it in one bundle.
        let other = write_pem(&dir, "other.pem", &other_pem);
        let refused = fetch(&url, Some(other)).await.unwrap_err();
        assert_eq!(refused.kind(), "tls", "{refused}");
        let both = write_pem(&dir, "both.pem", &format!("{other_pem}{pem}"));
        assert_eq!(fetch(&url, Some(both)).await.unwrap(), 200);

        // The pinned certificate must still name the host asked for.
        let by_name = Url::parse(&url.as_str().replace("127.0.0.1", "localhost")).unwrap();
        let own = dir.join("own.pem");
        assert_eq!(fetch(&by_name, Some(own.clone())).await.unwrap(), 200);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_pinned_certificate_must_name_the_host_and_be_within_its_dates() {
        let (cert, _, _) = self_signed();
        let verifier = PinnedOrNormal {
            pinned: vec![cert.clone()],
            normal: Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    vec![cert.clone()],
                    Arc::new(rustls::crypto::ring::default_provider()),
                )
                .unwrap(),
            ),
        };
        let name = |n: &str| ServerName::try_from(n.to_owned()).unwrap();
        let now = UnixTime::now();
        assert!(verifier
            .verify_server_cert(&cert, &[], &name("localhost"), &[], now)
            .is_ok());
        assert!(verifier
            .verify_server_cert(&cert, &[], &name("127.0.0.1"), &[], now)
            .is_ok());
        let wrong_name = verifier
            .verify_server_cert(&cert, &[], &name("portal.example.com"), &[], now)
            .unwrap_err();
        assert!(
            matches!(
                wrong_name,
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                )
            ),
            "{wrong_name:?}"
        );
        // rcgen's default validity is 1975-01-01 to 4096-01-01.
        let (not_before, not_after) = validity(cert.as_ref()).unwrap();
        assert_eq!(not_before, 157_766_400);
        assert!(not_after > 4_000_000_000);
        let before = UnixTime::since_unix_epoch(std::time::Duration::from_secs(100));
        assert_eq!(
            verifier
                .verify_server_cert(&cert, &[], &name("localhost"), &[], before)
                .unwrap_err(),
            rustls::Error::InvalidCertificate(CertificateError::NotValidYet)
        );
    }

    #[test]
    fn der_times() {
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der_time(0x17, b"000301000000Z"), Some(951_868_800));
        assert_eq!(der_time(0x18, b"20380119031408Z"), Some(2_147_483_648));
        assert_eq!(der_time(0x17, b"700101000000"), None);
        assert_eq!(der_time(0x18, b"2038011903140Z"), None);
        assert_eq!(der_time(0x18, b"19691231235959Z"), None);
        assert_eq!(validity(b"\x30\x03\x30\x01"), None);
    }
}
