//! The ArcGIS License Manager (FlexNet Publisher) through its `lmutil`: who holds which
//! license (`lmstat -a`), taking one back (`lmremove -h`), and its debug log.
//!
//! A wire client like `openlm/`: it runs `lmutil` (no shell, a timeout, bounded output) and
//! reads what it prints; it knows nothing of plans or the sandbox.

pub mod lmstat;
pub mod log;
pub mod process;
pub mod time;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use lmstat::{Feature, Session, Status};

/// The longest lmutil output read, by default (a status of 100,000 sessions is ~10 MB).
pub const DEFAULT_MAX_OUTPUT: usize = 256 * 1024 * 1024;

/// A License Manager reached through `lmutil`.
#[derive(Debug, Clone)]
pub struct FlexNet {
    server: String,
    lmutil: PathBuf,
    timeout: Duration,
    max_output: usize,
}

/// The session `lmremove -h` takes back: feature, server host, port and handle (the user
/// and workstation are for people and for matching).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RemoveTarget {
    pub feature: String,
    pub server: String,
    pub port: u32,
    pub handle: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub workstation: String,
}

impl RemoveTarget {
    pub fn of(session: &Session) -> RemoveTarget {
        RemoveTarget {
            feature: session.feature().to_owned(),
            server: session.server().to_owned(),
            port: session.port,
            handle: session.handle().to_owned(),
            username: session.username().to_owned(),
            workstation: session.workstation().to_owned(),
        }
    }

    /// Each value is one argument of lmremove: not empty, not an option, no whitespace
    /// (lmutil would read it as two), the handle a number.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("feature", &self.feature),
            ("server", &self.server),
            ("handle", &self.handle),
        ] {
            if value.is_empty()
                || value.starts_with('-')
                || value.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::invalid(format!(
                    "the session's {name} {value:?} cannot be given to lmremove"
                )));
            }
        }
        if !self.handle.bytes().all(|b| b.is_ascii_digit()) || self.port == 0 || self.port > 65535 {
            return Err(Error::invalid(format!(
                "{} is not a FlexNet handle and port (handle {:?}, port {})",
                self.describe(),
                self.handle,
                self.port
            )));
        }
        Ok(())
    }

    /// "Editor held by jsmith on WS-1 (handle 412)".
    pub fn describe(&self) -> String {
        format!(
            "{} held by {} on {} (handle {} on {}/{})",
            self.feature, self.username, self.workstation, self.handle, self.server, self.port
        )
    }

    /// Whether a listed session is this one.
    pub fn is(&self, session: &Session) -> bool {
        session.handle() == self.handle
            && session.feature() == self.feature
            && session.port == self.port
            && session.server().eq_ignore_ascii_case(&self.server)
    }
}

impl FlexNet {
    /// `server` is what `lmutil -c` takes: `27000@licsrv`, `@licsrv`, or a license file.
    pub fn new(
        server: &str,
        lmutil: Option<&Path>,
        timeout: Duration,
        max_output: usize,
    ) -> Result<FlexNet> {
        let server = server.trim();
        if server.is_empty() || server.starts_with('-') || server.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "{server:?} is not a license server: give it as 27000@host"
            )));
        }
        if let Some((port, _)) = server.split_once('@') {
            if !port.is_empty() && port.parse::<u16>().is_err() {
                return Err(Error::invalid(format!(
                    "{server:?} is not a license server: the port before @ must be a number"
                )));
            }
        }
        Ok(FlexNet {
            server: server.to_owned(),
            lmutil: process::find_lmutil(lmutil)?,
            timeout,
            max_output,
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn lmutil(&self) -> &Path {
        &self.lmutil
    }

    async fn lmutil_run(&self, args: Vec<String>) -> Result<process::Output> {
        let (program, timeout, max, about) = (
            self.lmutil.clone(),
            self.timeout,
            self.max_output,
            self.server.clone(),
        );
        tokio::task::spawn_blocking(move || process::run(&program, &args, timeout, max, &about))
            .await
            .map_err(|e| Error::Transport {
                url: self.server.clone(),
                cause: format!("lmutil's runner stopped: {e}"),
            })?
    }

    /// `lmutil lmstat -a -c SERVER`, read.
    pub async fn status(&self) -> Result<Status> {
        let args = ["lmstat", "-a", "-c", &self.server]
            .map(str::to_owned)
            .to_vec();
        let out = self.lmutil_run(args).await?;
        let status = lmstat::parse(&out.stdout);
        if status.features.is_empty() {
            if let Some(problem) = failure_line(&out) {
                return Err(Error::Transport {
                    url: self.server.clone(),
                    cause: problem,
                });
            }
        }
        Ok(status)
    }

    /// `lmutil lmremove -c SERVER -h FEATURE HOST PORT HANDLE`. A server that refuses
    /// (lmgrd started with `-x lmremove`, lmadmin without `-allowLicenseReclaim`) or any
    /// other error lmutil reports is a server error with its words.
    pub async fn remove(&self, target: &RemoveTarget) -> Result<()> {
        target.validate()?;
        let args = [
            "lmremove",
            "-c",
            &self.server,
            "-h",
            &target.feature,
            &target.server,
            &target.port.to_string(),
            &target.handle,
        ]
        .map(str::to_owned)
        .to_vec();
        let out = self.lmutil_run(args).await?;
        match failure_line(&out) {
            None if out.code == Some(0) => Ok(()),
            problem => Err(Error::Server {
                url: self.server.clone(),
                status: None,
                code: out.code.map(i64::from),
                message: problem.unwrap_or_else(|| format!("lmremove ended with {:?}", out.code)),
                details: Vec::new(),
            }),
        }
    }
}

/// The line saying what went wrong, when lmutil wrote one (`Error getting status: ...`,
/// `lmremove ...: ... not allowed`), or its non-zero exit's first line.
fn failure_line(out: &process::Output) -> Option<String> {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let said = text.lines().map(str::trim).find(|l| {
        let lower = l.to_ascii_lowercase();
        lower.contains("error") || lower.contains("not allowed") || lower.contains("cannot")
    });
    match said {
        Some(line) => Some(line.to_owned()),
        None if out.code != Some(0) => text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(str::to_owned),
        None => None,
    }
}
