//! The sandbox: emulators of the servers gislicense talks to, speaking the same wire as the
//! real ones, on loopback, with latency and fault injection and a log of what they received.

pub mod faults;
pub mod flexnet;
pub mod openlm;
pub mod portal;
pub mod seed;
mod server;
pub mod tls;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
pub use faults::{FaultKind, FaultRates};
pub use openlm::{Checkout, OpenLmOptions, OpenLmSite};
pub use portal::{PortalMember, PortalSite, PortalSiteOptions};
use server::accept_loop;

/// Largest request body the sandbox reads.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Requests kept in the log; the oldest go first.
const LOG_CAPACITY: usize = 200_000;

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Makes the seeded data (and random faults) repeatable.
    pub seed: u64,
    /// Address to listen on. Anything but loopback makes the sandbox reachable from other
    /// machines: it then warns, and passwords left at their well-known defaults are replaced
    /// by random ones (see [`Sandbox::options`] for the ones in force).
    pub host: String,
    /// Port for OpenLM; 0 picks a free one.
    pub openlm_port: u16,
    /// Serve OpenLM over HTTPS, as behind a TLS proxy (plain HTTP otherwise, as OpenLM does).
    pub openlm_tls: bool,
    pub openlm: OpenLmOptions,
    /// Port for the portal; 0 picks a free one.
    pub portal_port: u16,
    /// Serve the portal over HTTPS (as real portals do); plain HTTP otherwise.
    pub portal_tls: bool,
    /// PKI: the portal requires a client certificate from the sandbox's client CA, and a
    /// request without a token is the member the certificate names (web-tier sign-in).
    pub portal_pki: bool,
    pub portal: PortalSiteOptions,
    /// Added to every request before it is answered.
    pub latency: Duration,
    pub faults: FaultRates,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            seed: 1,
            host: "127.0.0.1".into(),
            openlm_port: 0,
            openlm_tls: false,
            openlm: OpenLmOptions::default(),
            portal_port: 0,
            portal_pki: false,
            portal_tls: true,
            portal: PortalSiteOptions::default(),
            latency: Duration::ZERO,
            faults: FaultRates::default(),
        }
    }
}

/// One request the sandbox received.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Seconds since the sandbox started.
    pub time: f64,
    pub service: &'static str,
    pub method: String,
    pub path: String,
    /// The query string, secrets replaced by `***` (a token here would be a leak).
    pub query: String,
    /// The OpenLM message type, or the last part of a portal path (`updateUserLicenseType`).
    pub operation: String,
    /// Request parameters (query and body); secrets are replaced by `***`.
    pub params: Vec<(String, String)>,
    /// The OpenLM session id, or the portal user the token belongs to.
    pub session: Option<String>,
    /// Where a portal token came in: `"body"`, `"query"`, `"x-esri-authorization"`, `"authorization"`.
    pub token_in: Option<&'static str>,
    /// The Referer header.
    pub referer: Option<String>,
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
}

/// Which emulator a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    OpenLm,
    Portal,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::OpenLm => "openlm",
            Service::Portal => "portal",
        }
    }
}

pub struct Shared {
    pub openlm: OpenLmSite,
    pub portal: PortalSite,
    faults: Mutex<faults::Faults>,
    latency: Mutex<Duration>,
    log: Mutex<VecDeque<LoggedRequest>>,
    started: Instant,
    /// Client certificates issued for PKI (their DER) and the member each names.
    client_certs: Mutex<HashMap<Vec<u8>, String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox. Dropping it stops it.
pub struct Sandbox {
    /// The options in force (passwords included, when random ones replaced the defaults).
    options: SandboxOptions,
    shared: Arc<Shared>,
    tls: tls::Tls,
    openlm_addr: SocketAddr,
    openlm_scheme: &'static str,
    portal_addr: SocketAddr,
    portal_scheme: &'static str,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Seed the site and start listening. Must run inside a tokio runtime.
    pub async fn start(mut options: SandboxOptions) -> Result<Sandbox> {
        options.faults.check()?;
        if !is_loopback_host(&options.host) {
            let replaced = replace_well_known_passwords(&mut options);
            log::warn!(
                "the sandbox listens on {}: it is reachable from other machines. It is a test \
                 server with made-up data and test credentials; {}. Listen on 127.0.0.1 unless \
                 other machines must reach it.",
                options.host,
                if replaced {
                    "its well-known passwords were replaced by random ones"
                } else {
                    "it uses the passwords it was given"
                }
            );
        }
        let shared = Arc::new(Shared {
            openlm: OpenLmSite::seeded(options.openlm.clone(), options.seed)?,
            portal: PortalSite::seeded(options.portal.clone(), options.seed)?,
            faults: Mutex::new(faults::Faults::new(options.faults.clone(), options.seed)),
            latency: Mutex::new(options.latency),
            log: Mutex::new(VecDeque::new()),
            started: Instant::now(),
            client_certs: Mutex::new(HashMap::new()),
        });
        if options.portal_pki && !options.portal_tls {
            return Err(Error::invalid(
                "portal_pki needs HTTPS: client certificates travel in the TLS handshake",
            ));
        }
        let (openlm_listener, openlm_addr) = listen(&options.host, options.openlm_port).await?;
        let (portal_listener, portal_addr) = listen(&options.host, options.portal_port).await?;
        let tls = tls::Tls::generate(&options.host, options.portal_pki)?;
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(accept_loop(
                openlm_listener,
                options.openlm_tls.then(|| tls.acceptor.clone()),
                Service::OpenLm,
                shared.clone(),
                stopped.clone(),
            )),
            tokio::spawn(accept_loop(
                portal_listener,
                match &tls.pki_acceptor {
                    Some(pki) => Some(pki.clone()),
                    None => options.portal_tls.then(|| tls.acceptor.clone()),
                },
                Service::Portal,
                shared.clone(),
                stopped,
            )),
        ];
        let scheme = |tls: bool| if tls { "https" } else { "http" };
        let sandbox = Sandbox {
            openlm_scheme: scheme(options.openlm_tls),
            portal_scheme: scheme(options.portal_tls),
            options,
            shared,
            tls,
            openlm_addr,
            portal_addr,
            stop,
            tasks,
        };
        log::info!(
            "sandbox listening: OpenLM {}, portal {}",
            sandbox.openlm_url(),
            sandbox.portal_url()
        );
        Ok(sandbox)
    }

    pub fn openlm_url(&self) -> String {
        format!("{}://{}/OpenLMServer", self.openlm_scheme, self.openlm_addr)
    }

    /// The portal URL, as users type it: `https://127.0.0.1:<port>/portal`, or for an
    /// ArcGIS Online organization the host alone (`https://127.0.0.1:<port>`).
    pub fn portal_url(&self) -> String {
        format!(
            "{}://{}{}",
            self.portal_scheme,
            self.portal_addr,
            self.options.portal.web_root()
        )
    }

    /// The sandbox CA's certificate file: pass it as `ca_bundle=` to trust the sandbox's HTTPS.
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.tls.ca_file()
    }

    /// The options it runs with, passwords included.
    pub fn options(&self) -> &SandboxOptions {
        &self.options
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// A client certificate naming `username` (PKI), as PEM files: from the client CA the
    /// portal trusts, or (`untrusted`) from one it does not; `expired`, one that ended in 2021.
    pub fn issue_client_cert(
        &self,
        username: &str,
        expired: bool,
        untrusted: bool,
    ) -> Result<tls::IssuedClientCert> {
        let issued = self.tls.issue_client_cert(username, expired, untrusted)?;
        lock(&self.shared.client_certs).insert(issued.der.clone(), username.to_owned());
        Ok(issued)
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.shared.latency)
    }

    pub fn set_fault_rates(&self, rates: FaultRates) -> Result<()> {
        lock(&self.shared.faults).set_rates(rates)
    }

    pub fn fault_rates(&self) -> FaultRates {
        lock(&self.shared.faults).rates().clone()
    }

    /// The next `count` requests (to `operation`, when given) get `kind`.
    pub fn fail_next(&self, kind: FaultKind, count: usize, operation: Option<String>) {
        lock(&self.shared.faults).queue(kind, count, operation);
    }

    /// No more faults, queued or random.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `host` (an address or a name, IPv6 with or without brackets) reaches only this
/// machine.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Replace every password still at its well-known default (the same in every sandbox, and in
/// the docs) by a random one. Says whether any was replaced.
fn replace_well_known_passwords(options: &mut SandboxOptions) -> bool {
    let openlm = OpenLmOptions::default();
    let portal = PortalSiteOptions::default();
    let mut replaced = false;
    for (password, well_known) in [
        (&mut options.openlm.password, &openlm.password),
        (&mut options.portal.admin_password, &portal.admin_password),
        (&mut options.portal.user_password, &portal.user_password),
        (
            &mut options.portal.oauth_client_secret,
            &portal.oauth_client_secret,
        ),
    ] {
        if password == well_known {
            *password = random_password();
            replaced = true;
        }
    }
    replaced
}

/// 20 letters and digits from the thread's CSPRNG (about 119 bits).
fn random_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

async fn listen(host: &str, port: u16) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|e| Error::invalid(format!("the sandbox cannot listen on {host}:{port}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::invalid(format!("the sandbox has no local address: {e}")))?;
    Ok((listener, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "0.0.0.0",
            "::",
            "[::]",
            "192.168.1.5",
            "sandbox.example.com",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[tokio::test]
    async fn beyond_loopback_the_well_known_passwords_are_replaced() {
        let well_known = SandboxOptions::default();
        let start = |options: SandboxOptions| async move {
            Sandbox::start(SandboxOptions {
                host: "0.0.0.0".into(),
                ..options
            })
            .await
            .unwrap()
        };
        let first = start(SandboxOptions::default()).await;
        let second = start(SandboxOptions::default()).await;
        for sb in [&first, &second] {
            let o = sb.options();
            assert_ne!(o.openlm.password, well_known.openlm.password);
            assert_ne!(o.portal.admin_password, well_known.portal.admin_password);
            assert_ne!(o.portal.user_password, well_known.portal.user_password);
            assert!(o.openlm.password.len() >= 20);
            assert_eq!(
                sb.shared().portal.options().admin_password,
                o.portal.admin_password
            );
        }
        assert_ne!(
            first.options().portal.admin_password,
            second.options().portal.admin_password
        );

        // Passwords given explicitly are kept.
        let mut given = SandboxOptions::default();
        given.openlm.password = "chosen-openlm".into();
        given.portal.admin_password = "chosen-admin".into();
        let sb = start(given).await;
        assert_eq!(sb.options().openlm.password, "chosen-openlm");
        assert_eq!(sb.options().portal.admin_password, "chosen-admin");
        assert_ne!(
            sb.options().portal.user_password,
            well_known.portal.user_password
        );

        // On loopback, the well-known ones stay (tests and docs use them).
        let local = Sandbox::start(SandboxOptions::default()).await.unwrap();
        assert_eq!(local.options().openlm.password, well_known.openlm.password);
        assert_eq!(
            local.options().portal.admin_password,
            well_known.portal.admin_password
        );
    }
}
