//! The License Manager's formats, pinned by the golden files in `tests/golden/flexnet/`,
//! written by hand from Revenera's License Administration Guide and the public parsers'
//! notes (`spec/flexnet-lmstat.md`), one line per quirk:
//!
//! - `lmstat-quirks.txt` → `lmstat-quirks.json`: start times without a year (one after the
//!   status date, so of the year before), ArcMap's encoded display string holding
//!   parentheses and `, start`, `1 license` / `7 license in use`, `, 2 licenses`, `, PID: n`,
//!   `-asec` seconds, a borrowed `(linger: ...)` line, an `ACTIVATED LICENSE(S)` line, a
//!   RESERVATION line, a broken line kept as unread, a named-user feature listed as
//!   `(Error: 48 licenses, unsupported by licensed server)`.
//! - `lmgrd-quirks.log` → `lmgrd-quirks.json`: lines before any date, the start-up banner's
//!   date, OUT/IN/DENIED/UNSUPPORTED/QUEUED/DEQUEUED, nested reasons, `(2 licenses)`, a user
//!   name holding `@`, verbose `^^^` fields, midnight rolled, a line a second out of order
//!   (not a new day), TIMESTAMP, a bad time, garbage, an ISO 8601 (`-datestamp`) line.
//! - `sandbox-lmstat.txt`: what the sandbox's stand-in lmutil prints for a fixed site.
//!
//! `GISLICENSE_BLESS=1 cargo test --test flexnet_golden` rewrites the .json files; read
//! the difference line by line against the notes above before committing it.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use gislicense::flexnet::lmstat;
use gislicense::flexnet::log::{Event, LogParser};
use gislicense::flexnet::time::LocalTime;

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/flexnet")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn time(t: Option<LocalTime>) -> Value {
    t.map_or(Value::Null, |t| {
        json!(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        ))
    })
}

fn matches_golden(name: &str, got: Value) {
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("GISLICENSE_BLESS").is_some() {
        std::fs::write(path(name), &text).unwrap();
    }
    let want: Value = serde_json::from_str(&read(name)).unwrap();
    assert_eq!(got, want, "{name} differs; got:\n{text}");
}

fn status_json(status: &lmstat::Status) -> Value {
    let features: Vec<Value> = status
        .features
        .iter()
        .map(|f| {
            json!({"name": f.name, "vendor": f.vendor, "version": f.version, "issued": f.issued,
                   "in_use": f.in_use, "error": f.error, "reserved": f.reserved})
        })
        .collect();
    let sessions: Vec<Value> = status
        .sessions
        .iter()
        .map(|s| {
            json!({"feature": s.feature(), "username": s.username(), "workstation": s.workstation(),
                   "display": s.display(), "version": s.version(), "server": s.server(), "port": s.port,
                   "handle": s.handle(), "start_time": time(s.start), "licenses": s.licenses,
                   "borrowed": s.borrowed, "pid": s.pid})
        })
        .collect();
    json!({"features": features, "sessions": sessions, "unread": status.unread})
}

fn event_json(e: &Event) -> Value {
    json!({"time": time(e.time), "kind": e.kind.name(), "feature": e.feature, "user": e.user,
           "workstation": e.workstation, "reason": e.reason, "licenses": e.licenses})
}

#[test]
fn lmstat_quirks_read_as_documented() {
    let status = lmstat::parse(&read("lmstat-quirks.txt"));
    matches_golden("lmstat-quirks.json", status_json(&status));
}

#[test]
fn lmstat_read_a_line_at_a_time_is_the_same() {
    let text = read("lmstat-quirks.txt");
    let mut reader = lmstat::StatusReader::new();
    for line in text.split_inclusive('\n') {
        reader.feed(line);
    }
    assert_eq!(reader.finish(), lmstat::parse(&text));
    // Windows line ends change nothing.
    assert_eq!(
        lmstat::parse(&text.replace('\n', "\r\n")),
        lmstat::parse(&text)
    );
}

#[test]
fn debug_log_quirks_read_as_documented() {
    let mut parser = LogParser::new();
    let text = read("lmgrd-quirks.log");
    let events: Vec<Value> = text.lines().map(|l| event_json(&parser.feed(l))).collect();
    matches_golden("lmgrd-quirks.json", Value::from(events));
}

#[cfg(feature = "sandbox")]
#[test]
fn the_sandbox_prints_the_documented_format() {
    use gislicense::sandbox::flexnet::{render_status, LicenseManager};
    let site: LicenseManager = serde_json::from_value(json!({
        "host": "gislic01", "port": 27000, "now": "2020-01-02 10:15",
        "features": [
            {"name": "ARC/INFO", "issued": 5},
            {"name": "Editor", "issued": 1},
            {"name": "desktopAdvN", "issued": 0, "error": "Error: 48 licenses, unsupported by licensed server"},
            {"name": "Spatial", "issued": 3}
        ],
        "sessions": [
            {"feature": "ARC/INFO", "username": "jsmith", "workstation": "WS-GIS-014", "handle": 412, "start": "2020-01-02 08:33"},
            {"feature": "ARC/INFO", "username": "akhan", "workstation": "LAPTOP-7", "display": ",_6!/#bE-mN*5kgRxhN~xU", "handle": 517, "start": "2019-12-31 09:05", "licenses": 2, "pid": 4411},
            {"feature": "Editor", "username": "sokafor", "workstation": "WS-GIS-023", "handle": 604, "start": "2019-12-20 16:40", "borrowed": true}
        ]
    }))
    .unwrap();
    let text = render_status(&site);
    if std::env::var_os("GISLICENSE_BLESS").is_some() {
        std::fs::write(path("sandbox-lmstat.txt"), &text).unwrap();
    }
    assert_eq!(text, read("sandbox-lmstat.txt"));
    // And the reader gets the site back from it.
    let status = lmstat::parse(&text);
    assert_eq!(status.sessions.len(), 3);
    assert_eq!(status.sessions[1].licenses, 2);
    assert_eq!(status.sessions[1].start.unwrap().year, 2019);
    assert!(status.sessions[2].borrowed);
    assert_eq!(status.features[1].in_use, Some(1));
    assert!(status.features[2].error.is_some());
}
