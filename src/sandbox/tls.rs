//! HTTPS for the sandbox: a CA made at start, a server certificate it signs for
//! 127.0.0.1 and localhost, and the CA written to a file clients can trust (`ca_bundle=`),
//! in a private directory of its own (mode 0700, random name) removed when the sandbox stops.

use std::path::{Path, PathBuf};
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

        let dir = private_dir(&std::env::temp_dir()).map_err(|e| failed("write its CA file", e))?;
        let ca_pem = ca.pem();
        if let Err(e) = write_new(&dir.join("ca.pem"), ca_pem.as_bytes()) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(failed("write its CA file", e));
        }
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
        let first = Tls::generate("127.0.0.1").unwrap();
        let second = Tls::generate("127.0.0.1").unwrap();
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
        let tls = Tls::generate("127.0.0.1").unwrap();
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
