//! HTTPS for the sandbox: a CA made at start, a server certificate it signs for
//! 127.0.0.1 and localhost, and the CA written to a file clients can trust (`ca_bundle=`),
//! in a private directory of its own (mode 0700, random name) removed when the sandbox stops.
//! For PKI, a second CA issues client certificates (and PKCS#12 files) the portal requires,
//! and a stranger CA issues ones it must refuse.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// The portal's acceptor when it requires client certificates (PKI).
    pub pki_acceptor: Option<TlsAcceptor>,
    pub ca_pem: String,
    dir: PathBuf,
    client_ca: CertifiedIssuer<'static, KeyPair>,
    stranger_ca: CertifiedIssuer<'static, KeyPair>,
}

/// A client certificate issued here: its files and its DER (to know who presents it).
pub struct IssuedClientCert {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub der: Vec<u8>,
    key: KeyPair,
    cert_der: Vec<u8>,
    ca_der: Vec<u8>,
}

fn failed(what: &str, err: impl std::fmt::Display) -> Error {
    Error::invalid(format!("the sandbox cannot {what}: {err}"))
}

impl Tls {
    /// A fresh CA and a server certificate for `host` (plus 127.0.0.1 and localhost); with
    /// `pki`, an acceptor that requires a client certificate from the client CA.
    pub fn generate(host: &str, pki: bool) -> Result<Tls> {
        let ca = make_ca("gislicense sandbox CA")?;
        let client_ca = make_ca("gislicense sandbox client CA")?;
        let stranger_ca = make_ca("a CA the sandbox does not trust")?;

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
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("set up TLS", e))?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| failed("set up TLS", e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let pki_acceptor = if pki {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(client_ca.der().clone())
                .map_err(|e| failed("trust its client CA", e))?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| failed("require client certificates", e))?;
            let mut config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| failed("set up TLS", e))?
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)
                .map_err(|e| failed("set up TLS", e))?;
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(TlsAcceptor::from(Arc::new(config)))
        } else {
            None
        };

        let dir = private_dir(&std::env::temp_dir()).map_err(|e| failed("write its CA file", e))?;
        let ca_pem = ca.pem();
        if let Err(e) = write_new(&dir.join("ca.pem"), ca_pem.as_bytes()) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(failed("write its CA file", e));
        }
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            pki_acceptor,
            ca_pem,
            dir,
            client_ca,
            stranger_ca,
        })
    }

    /// The CA certificate as a PEM file, for `ca_bundle=`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A client certificate for `username` from the client CA (or, `untrusted`, from a CA
    /// the portal does not trust; `expired`, one that ended in 2021), written as PEM files.
    pub fn issue_client_cert(
        &self,
        username: &str,
        expired: bool,
        untrusted: bool,
    ) -> Result<IssuedClientCert> {
        let key = KeyPair::generate().map_err(|e| failed("make a key", e))?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("name a user", e))?;
        params.distinguished_name.push(DnType::CommonName, username);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let issuer = if untrusted {
            &self.stranger_ca
        } else {
            &self.client_ca
        };
        let cert = params
            .signed_by(&key, issuer)
            .map_err(|e| failed("sign a client certificate", e))?;
        let name = format!(
            "{}-{:08x}",
            username
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>(),
            rand::random::<u32>()
        );
        let cert_file = self.dir.join(format!("{name}.pem"));
        let key_file = self.dir.join(format!("{name}.key"));
        write_new(
            &cert_file,
            format!("{}{}", cert.pem(), issuer.pem()).as_bytes(),
        )
        .and_then(|()| write_new(&key_file, key.serialize_pem().as_bytes()))
        .map_err(|e| failed("write a client certificate", e))?;
        Ok(IssuedClientCert {
            cert_file,
            key_file,
            der: cert.der().to_vec(),
            cert_der: cert.der().to_vec(),
            ca_der: issuer.der().to_vec(),
            key,
        })
    }
}

impl IssuedClientCert {
    /// The certificate, its CA and its key as a PKCS#12 file opened with `password`.
    pub fn write_pkcs12(&self, password: &str) -> Result<PathBuf> {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let cert =
            Certificate::from_der(&self.cert_der).map_err(|e| failed("read a certificate", e))?;
        let ca =
            Certificate::from_der(&self.ca_der).map_err(|e| failed("read a certificate", e))?;
        let key =
            PrivateKey::from_der(&self.key.serialize_der()).map_err(|e| failed("read a key", e))?;
        let chain = PrivateKeyChain::new(b"client".to_vec(), key, [cert, ca]);
        let mut store = KeyStore::new();
        store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
        let data = store
            .writer(password)
            .write()
            .map_err(|e| failed("write a PKCS#12 file", e))?;
        let path = self.cert_file.with_extension("p12");
        write_new(&path, &data).map_err(|e| failed("write a PKCS#12 file", e))?;
        Ok(path)
    }
}

/// A self-signed CA.
fn make_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>> {
    let ca_key = KeyPair::generate().map_err(|e| failed("make a key", e))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("make a CA", e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, name);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| failed("sign the CA", e))
}

/// A new directory under `parent` that only this user can enter, with a random name.
/// It is made here and now (an existing directory, or a symlink planted at the name, is
/// never reused or followed: the name is drawn again).
fn private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let mut attempts = 0;
    loop {
        let dir = parent.join(format!("gislicense-sandbox-{:016x}", rand::random::<u64>()));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Write a file that must not exist yet (never through a symlink, never over another file).
fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sandbox_gets_a_new_private_directory_removed_at_the_end() {
        let first = Tls::generate("127.0.0.1", false).unwrap();
        let second = Tls::generate("127.0.0.1", false).unwrap();
        assert_ne!(first.dir(), second.dir());
        for tls in [&first, &second] {
            assert!(tls.dir().starts_with(std::env::temp_dir()));
            let meta = std::fs::symlink_metadata(tls.dir()).unwrap();
            assert!(meta.is_dir());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(meta.permissions().mode() & 0o777, 0o700);
            }
            assert_eq!(std::fs::read_to_string(tls.ca_file()).unwrap(), tls.ca_pem);
        }
        let dir = first.dir().to_owned();
        drop(first);
        assert!(!dir.exists());
        assert!(second.dir().exists());
    }

    #[test]
    fn an_existing_name_is_never_reused_and_a_file_never_overwritten() {
        let parent = std::env::temp_dir().join(format!(
            "gislicense-tls-test-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir(&parent).unwrap();
        let dir = private_dir(&parent).unwrap();
        let victim = parent.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // A file, or a symlink to one, at the name: refused, the victim untouched.
        assert!(write_new(&victim, b"x").is_err());
        #[cfg(unix)]
        {
            let link = dir.join("ca.pem");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            assert!(write_new(&link, b"overwritten").is_err());
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_dir_all(&parent).unwrap();
    }

    /// The names the sandbox used to take (`gislicense-sandbox-<pid>-<n>`), planted as
    /// symlinks to a victim directory, are left alone and nothing is written through them.
    #[cfg(unix)]
    #[test]
    fn planted_symlinks_at_the_old_predictable_names_are_not_followed() {
        let temp = std::env::temp_dir();
        let victim = temp.join(format!(
            "gislicense-tls-victim-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("ca.pem"), "precious").unwrap();
        let planted: Vec<PathBuf> = (0..64)
            .map(|n| temp.join(format!("gislicense-sandbox-{}-{n}", std::process::id())))
            .filter(|link| std::os::unix::fs::symlink(&victim, link).is_ok())
            .collect();
        let tls = Tls::generate("127.0.0.1", false).unwrap();
        assert!(!planted.iter().any(|p| p == tls.dir()));
        drop(tls);
        assert_eq!(
            std::fs::read_to_string(victim.join("ca.pem")).unwrap(),
            "precious"
        );
        for link in &planted {
            assert!(std::fs::symlink_metadata(link).unwrap().is_symlink());
            std::fs::remove_file(link).unwrap();
        }
        std::fs::remove_dir_all(&victim).unwrap();
    }
}
