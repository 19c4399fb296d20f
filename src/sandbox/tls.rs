//! HTTPS for the sandbox: a CA made at start, a server certificate it signs for
//! 127.0.0.1 and localhost, and the CA written to a file clients can trust (`ca_bundle=`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_pem: String,
    dir: PathBuf,
}

fn failed(what: &str, err: impl std::fmt::Display) -> Error {
    Error::invalid(format!("the sandbox cannot {what}: {err}"))
}

impl Tls {
    /// A fresh CA and a server certificate for `host` (plus 127.0.0.1 and localhost).
    pub fn generate(host: &str) -> Result<Tls> {
        let ca_key = KeyPair::generate().map_err(|e| failed("make a key", e))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("make a CA", e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "gislicense sandbox CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
            .map_err(|e| failed("sign the CA", e))?;

        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        if !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
        let server_key = KeyPair::generate().map_err(|e| failed("make a key", e))?;
        let mut params = CertificateParams::new(names).map_err(|e| failed("name the server", e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "gislicense sandbox");
        let server_cert = params
            .signed_by(&server_key, &ca)
            .map_err(|e| failed("sign the server certificate", e))?;

        let chain = vec![server_cert.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("set up TLS", e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| failed("set up TLS", e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];

        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gislicense-sandbox-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| failed("write its CA file", e))?;
        let ca_pem = ca.pem();
        std::fs::write(dir.join("ca.pem"), &ca_pem).map_err(|e| failed("write its CA file", e))?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_pem,
            dir,
        })
    }

    /// The CA certificate as a PEM file, for `ca_bundle=`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
