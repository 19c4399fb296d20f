//! The sandbox's ArcGIS License Manager: a state file that a stand-in `lmutil` reads and
//! changes, answering `lmstat -a` in the real format with its quirks, honouring (or
//! refusing) `lmremove -h`, and writing a debug log of what happened.
//!
//! The stand-in is a small program (written by the Python facade) that calls [`lmutil`]
//! with its arguments; each run locks the state, so concurrent lmremoves are safe.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::flexnet::time::LocalTime;

/// A feature the License Manager serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    pub issued: u32,
    #[serde(default = "version")]
    pub version: String,
    /// Shown instead of the totals: `Error: 48 licenses, unsupported by licensed server`.
    #[serde(default)]
    pub error: Option<String>,
}

fn version() -> String {
    "10.1".into()
}

/// A license checked out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionSpec {
    pub feature: String,
    pub username: String,
    pub workstation: String,
    #[serde(default)]
    pub display: String,
    #[serde(default = "version")]
    pub version: String,
    #[serde(default)]
    pub handle: u64,
    /// `yyyy-mm-dd hh:mm`.
    pub start: String,
    #[serde(default = "one")]
    pub licenses: u32,
    #[serde(default)]
    pub borrowed: bool,
    #[serde(default)]
    pub pid: Option<u32>,
    /// The application is still running: it checks the license out again at once after
    /// an lmremove (a new handle), as FlexNet warns.
    #[serde(default)]
    pub checks_out_again: bool,
}

fn one() -> u32 {
    1
}

/// The whole License Manager, as its state file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenseManager {
    pub host: String,
    pub port: u16,
    /// The status line's time, `yyyy-mm-dd hh:mm`.
    pub now: String,
    pub features: Vec<FeatureSpec>,
    pub sessions: Vec<SessionSpec>,
    /// Refuse lmremove, as `lmgrd -x lmremove` (or lmadmin without `-allowLicenseReclaim`).
    #[serde(default)]
    pub refuse_remove: bool,
    /// The server does not answer.
    #[serde(default)]
    pub down: bool,
    #[serde(default)]
    pub next_handle: u64,
    /// The debug log it writes.
    #[serde(default)]
    pub log: Option<PathBuf>,
}

const FEATURES: &[(&str, u32)] = &[
    ("ARC/INFO", 5),
    ("Editor", 10),
    ("Viewer", 20),
    ("desktopAdvP", 10),
    ("desktopStdP", 15),
    ("desktopBasicP", 25),
    ("Spatial", 5),
    ("3DAnalyst", 1),
];
const NAMES: &[&str] = &[
    "jsmith", "akhan", "mgarcia", "lchen", "pnovak", "sokafor", "tnguyen", "rmuller", "elarsen",
    "dpatel", "hsato", "bwilson",
];

impl LicenseManager {
    /// A License Manager with `sessions` licenses checked out over the last two weeks,
    /// showing every quirk of the real output: ArcMap's encoded display strings, lines
    /// holding two licenses, PIDs, a borrowed license, a feature of one license, and a
    /// named-user feature listed with an error.
    pub fn seeded(seed: u64, sessions: usize, now: LocalTime) -> LicenseManager {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut features: Vec<FeatureSpec> = FEATURES
            .iter()
            .map(|(name, issued)| FeatureSpec {
                name: (*name).into(),
                issued: (*issued).max(u32::try_from(sessions / 3).unwrap_or(u32::MAX)),
                version: "10.1".into(),
                error: None,
            })
            .collect();
        features[7].issued = 1;
        features.push(FeatureSpec {
            name: "desktopAdvN".into(),
            issued: 0,
            version: "10.1".into(),
            error: Some("Error: 48 licenses, unsupported by licensed server".into()),
        });
        let mut manager = LicenseManager {
            host: "gislic01".into(),
            port: 27000,
            now: format_time(&now),
            features,
            sessions: Vec::new(),
            refuse_remove: false,
            down: false,
            next_handle: 101,
            log: None,
        };
        for n in 0..sessions {
            let feature = if n == 0 { 7 } else { rng.random_range(0..7) };
            let name = format!("{}{}", NAMES[n % NAMES.len()], n / NAMES.len());
            let workstation = format!("WS-GIS-{:03}", n + 1);
            let display = if feature < 3 && rng.random_bool(0.5) {
                (0..22)
                    .map(|_| rng.random_range(b'!'..=b'~') as char)
                    .collect()
            } else {
                workstation.clone()
            };
            let age_minutes = rng.random_range(5..14 * 24 * 60);
            let start = LocalTime::from_seconds(now.seconds() - age_minutes * 60);
            manager.sessions.push(SessionSpec {
                feature: manager.features[feature].name.clone(),
                username: name,
                workstation,
                display,
                version: "10.1".into(),
                handle: 0,
                start: format_time(&start),
                licenses: if n % 17 == 5 { 2 } else { 1 },
                borrowed: n % 23 == 11,
                pid: (n % 3 == 0).then(|| 1000 + u32::try_from(n).unwrap_or(0)),
                checks_out_again: false,
            });
        }
        manager.number_handles();
        manager
    }

    fn number_handles(&mut self) {
        self.next_handle = self.next_handle.max(101);
        for session in &mut self.sessions {
            if session.handle == 0 {
                session.handle = self.next_handle;
                self.next_handle += 1;
            }
        }
    }

    fn server(&self) -> String {
        format!("{}@{}", self.port, self.host)
    }
}

pub fn format_time(t: &LocalTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

fn parse_time(text: &str) -> Result<LocalTime> {
    LocalTime::parse(text)
        .ok_or_else(|| Error::invalid(format!("{text:?} is not a time as yyyy-mm-dd hh:mm")))
}

/// Writes a License Manager's state file (owner only) and starts its debug log with the
/// start-up banner, a TIMESTAMP, and an OUT line for each session open, in time order.
pub fn create(state: &Path, mut manager: LicenseManager) -> Result<()> {
    let now = parse_time(&manager.now)?;
    for s in &manager.sessions {
        parse_time(&s.start)?;
        if !manager.features.iter().any(|f| f.name == s.feature) {
            return Err(Error::invalid(format!(
                "the session's feature {} is not served",
                s.feature
            )));
        }
    }
    manager.number_handles();
    if let Some(log) = &manager.log {
        let mut first = manager
            .sessions
            .iter()
            .filter_map(|s| LocalTime::parse(&s.start))
            .min()
            .unwrap_or(now);
        first = LocalTime::from_seconds(first.seconds() - 60);
        let mut text = format!(
            "{} (lmgrd) FlexNet Licensing (v11.16.2.0 build 242433 x64_n6) started on {} (IBM PC) ({}/{}/{})\n",
            clock(&first), manager.host, first.month, first.day, first.year
        );
        let _ = writeln!(
            text,
            "{} (lmgrd) TIMESTAMP {}/{}/{}",
            clock(&first),
            first.month,
            first.day,
            first.year
        );
        let mut opened: Vec<&SessionSpec> = manager.sessions.iter().collect();
        opened.sort_by_key(|s| LocalTime::parse(&s.start));
        let mut day = first.day();
        for s in opened {
            let t = parse_time(&s.start)?;
            if t.day() != day {
                day = t.day();
                let _ = writeln!(
                    text,
                    " 0:00:00 (lmgrd) TIMESTAMP {}/{}/{}",
                    t.month, t.day, t.year
                );
            }
            text.push_str(&usage_line(&t, "OUT", s, None));
        }
        write_private(log, text.as_bytes(), false)?;
    }
    save(state, &manager)
}

fn clock(t: &LocalTime) -> String {
    format!("{:>2}:{:02}:{:02}", t.hour, t.minute, t.second)
}

fn usage_line(t: &LocalTime, kind: &str, s: &SessionSpec, reason: Option<&str>) -> String {
    let count = if s.licenses > 1 {
        format!("  ({} licenses)", s.licenses)
    } else {
        String::new()
    };
    let reason = reason.map(|r| format!("  ({r})")).unwrap_or_default();
    format!(
        "{} (ARCGIS) {kind}: \"{}\" {}@{}{count}{reason}\n",
        clock(t),
        s.feature,
        s.username,
        s.workstation
    )
}

fn write_private(path: &Path, bytes: &[u8], append: bool) -> Result<()> {
    let fail =
        |e: std::io::Error| Error::invalid(format!("{} cannot be written: {e}", path.display()));
    if !append && path.exists() {
        fs::remove_file(path).map_err(fail)?;
    }
    crate::files::private_append(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(fail)
}

fn save(state: &Path, manager: &LicenseManager) -> Result<()> {
    let text = serde_json::to_vec_pretty(manager).map_err(|e| Error::invalid(e.to_string()))?;
    let partial = state.with_extension("json.partial");
    write_private(&partial, &text, false)?;
    fs::rename(&partial, state)
        .map_err(|e| Error::invalid(format!("{} cannot be written: {e}", state.display())))
}

pub fn load(state: &Path) -> Result<LicenseManager> {
    let text = fs::read(state)
        .map_err(|e| Error::invalid(format!("{} cannot be read: {e}", state.display())))?;
    serde_json::from_slice(&text).map_err(|e| {
        Error::invalid(format!(
            "{} is not a License Manager's state: {e}",
            state.display()
        ))
    })
}

/// Holds the state's lock file while alive.
struct Lock(PathBuf);

impl Lock {
    fn take(state: &Path) -> Result<Lock> {
        let path = state.with_extension("lock");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Lock(path)),
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(3)),
                Err(e) => {
                    return Err(Error::invalid(format!(
                        "{} stayed locked: {e}",
                        path.display()
                    )))
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

const BANNER: &str = "lmutil - Copyright (c) 1989-2019 Flexera. All Rights Reserved.\n";

/// Runs the stand-in lmutil: its exit code and what it prints.
pub fn lmutil(state: &Path, args: &[String]) -> (i32, String) {
    let Ok(_lock) = Lock::take(state) else {
        return (1, format!("{BANNER}Error: the sandbox's state is locked\n"));
    };
    let mut manager = match load(state) {
        Ok(m) => m,
        Err(err) => return (1, format!("{BANNER}Error: {err}\n")),
    };
    let server = args
        .iter()
        .position(|a| a == "-c")
        .and_then(|i| args.get(i + 1));
    let reachable = !manager.down
        && server.is_some_and(|s| {
            s.eq_ignore_ascii_case(&manager.server()) || s == &format!("@{}", manager.host)
        });
    let refused = format!(
        "{BANNER}Error getting status: Cannot connect to license server system. (-15,10:10061 \"WinSock: Connection refused\")\n"
    );
    match args.first().map(String::as_str) {
        Some("lmstat") if !reachable => (1, refused),
        Some("lmstat") => (0, render_status(&manager)),
        Some("lmremove") if !reachable => (1, refused),
        Some("lmremove") => remove(state, &mut manager, args),
        _ => (1, format!("{BANNER}Usage: lmutil lmstat -a -c port@host | lmremove -c port@host -h feature host port handle\n")),
    }
}

fn remove(state: &Path, manager: &mut LicenseManager, args: &[String]) -> (i32, String) {
    let Some(at) = args.iter().position(|a| a == "-h") else {
        return (
            1,
            format!("{BANNER}Error: the sandbox takes lmremove -h feature host port handle only\n"),
        );
    };
    let [feature, host, port, handle] = match args.get(at + 1..at + 5) {
        Some([a, b, c, d]) => [a, b, c, d],
        _ => {
            return (
                1,
                format!("{BANNER}Error: lmremove -h needs feature host port handle\n"),
            )
        }
    };
    if manager.refuse_remove {
        // Unverified wording: the License Administration Guide says lmremove is disabled;
        // the text a disabled server gives is the sandbox's choice.
        return (1, format!("{BANNER}lmremove: Error: lmremove is not allowed on this license server (lmgrd -x lmremove) (-70)\n"));
    }
    let found = manager.sessions.iter().position(|s| {
        s.feature == *feature
            && s.handle.to_string() == *handle
            && host.eq_ignore_ascii_case(&manager.host)
            && port == &manager.port.to_string()
    });
    let Some(found) = found else {
        return (1, format!("{BANNER}lmremove: Error: no license with handle {handle} of {feature} is checked out (-9)\n"));
    };
    let session = manager.sessions.remove(found);
    let now = LocalTime::parse(&manager.now).unwrap_or(LocalTime::from_seconds(0));
    let mut lines = usage_line(&now, "IN", &session, Some("REMOVED"));
    if session.checks_out_again {
        let mut again = session.clone();
        again.handle = manager.next_handle;
        manager.next_handle += 1;
        again.start = manager.now.clone();
        lines.push_str(&usage_line(&now, "OUT", &again, None));
        manager.sessions.push(again);
    }
    if let Some(log) = &manager.log {
        let _ = write_private(log, lines.as_bytes(), true);
    }
    match save(state, manager) {
        Ok(()) => (0, BANNER.to_owned()),
        Err(err) => (1, format!("{BANNER}Error: {err}\n")),
    }
}

/// `lmstat -a` as lmutil prints it.
pub fn render_status(m: &LicenseManager) -> String {
    let now = LocalTime::parse(&m.now).unwrap_or(LocalTime::from_seconds(0));
    let mut out = String::from(BANNER);
    let _ = write!(
        out,
        "Flexible License Manager status on {} {}/{}/{} {}:{:02}\n\n[Detecting lmgrd processes...]\nLicense server status: {}\n    License file(s) on {}: C:\\Program Files (x86)\\ArcGIS\\LicenseManager\\bin\\service.txt:\n\n{}: license server UP (MASTER) v11.16.2\n\nVendor daemon status (on {}):\n\n    ARCGIS: UP v11.16.2\nFeature usage info:\n\n",
        now.weekday(), now.month, now.day, now.year, now.hour, now.minute, m.server(), m.host, m.host, m.host
    );
    for f in &m.features {
        let held: Vec<&SessionSpec> = m.sessions.iter().filter(|s| s.feature == f.name).collect();
        if let Some(error) = &f.error {
            let _ = write!(out, "Users of {}:  ({error})\n\n", f.name);
            continue;
        }
        let in_use: u32 = held.iter().map(|s| s.licenses).sum();
        let _ = write!(
            out,
            "Users of {}:  (Total of {} {} issued;  Total of {} {} in use)\n\n",
            f.name,
            f.issued,
            plural(f.issued),
            in_use,
            plural(in_use)
        );
        if held.is_empty() {
            continue;
        }
        let _ = write!(out, "  \"{}\" v{}, vendor: ARCGIS, expiry: permanent(no expiration date)\n  floating license\n\n", f.name, f.version);
        for s in held {
            out.push_str(&session_line(s, m));
        }
        out.push('\n');
    }
    out
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        "license"
    } else {
        "licenses"
    }
}

fn session_line(s: &SessionSpec, m: &LicenseManager) -> String {
    let start = LocalTime::parse(&s.start).unwrap_or(LocalTime::from_seconds(0));
    let display = if s.display.is_empty() {
        &s.workstation
    } else {
        &s.display
    };
    let mut line = format!(
        "    {} {} {} (v{}) ({}/{} {}), start {} {}/{} {}:{:02}",
        s.username,
        s.workstation,
        display,
        s.version,
        m.host,
        m.port,
        s.handle,
        start.weekday(),
        start.month,
        start.day,
        start.hour,
        start.minute
    );
    if s.licenses > 1 {
        let _ = write!(line, ", {} licenses", s.licenses);
    }
    if let Some(pid) = s.pid {
        let _ = write!(line, ", PID: {pid}");
    }
    if s.borrowed {
        line.push_str(" (linger: 2592000 / 1209600)");
    }
    line.push('\n');
    line
}
