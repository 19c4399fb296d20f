//! A streaming reader of `lmutil lmstat -a` output: features with their totals (or the
//! server's error) and the sessions holding them.
//!
//! Session lines are read from the right: the display field can hold anything (ArcMap
//! writes an encoded string there), so the reader anchors on the `(vVERSION) (host/port
//! handle), start Dow M/D H:MM` tail and its optional `, N licenses`, `, PID: n` and
//! `(linger: ...)` suffixes. Start times carry no year: the status line's date gives it, and
//! a start after that date belongs to the year before.

use super::time::{date_start, parse_clock, Day, LocalTime};

/// A feature as `Users of FEATURE:` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Feature {
    pub name: String,
    /// From the `"FEATURE" v10.1, vendor: ARCGIS` line, when shown.
    pub vendor: Option<String>,
    pub version: Option<String>,
    /// Licenses issued; None when the server gives an error instead.
    pub issued: Option<u32>,
    pub in_use: Option<u32>,
    /// The server's words where it gives no totals: `Error: 48 licenses, unsupported by
    /// licensed server` (a named-user feature on a concurrent server), `Uncounted`...
    pub error: Option<String>,
    /// Licenses held by `RESERVATION for ...` lines (options-file reservations).
    pub reserved: u32,
}

/// One session: a user's check-out of a feature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Session {
    pub feature: String,
    pub vendor: Option<String>,
    pub username: String,
    pub workstation: String,
    /// The display field: often the workstation again, for ArcMap an encoded string.
    pub display: String,
    pub version: String,
    /// The license server host and port the handle belongs to (what `lmremove -h` takes).
    pub server: String,
    pub port: u32,
    pub handle: String,
    /// The start, dated by the status line (None when the output has no status date).
    pub start: Option<LocalTime>,
    /// The start as written (`Wed 12/18 8:33`).
    pub start_text: String,
    pub licenses: u32,
    /// Borrowed for offline use (a `(linger: ...)` tail or an `ACTIVATED LICENSE(S)` line):
    /// lmremove cannot return it before its borrow period ends.
    pub borrowed: bool,
    pub pid: Option<u32>,
}

/// What one `lmstat -a` told.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// The day of the status line (`Flexible License Manager status on Wed 12/18/2019 10:15`).
    pub date: Option<Day>,
    pub features: Vec<Feature>,
    pub sessions: Vec<Session>,
    /// Lines under a feature that were not understood (never fatal: counted, kept).
    pub unread: Vec<String>,
}

/// Reads lmstat output a line at a time.
#[derive(Debug, Default)]
pub struct StatusReader {
    status: Status,
    /// Whether lines belong to the last feature (not to a next server's header, when
    /// `-c` names several servers).
    in_feature: bool,
}

impl StatusReader {
    pub fn new() -> StatusReader {
        StatusReader::default()
    }

    /// Starts with a date for output that has no status line (a saved excerpt).
    pub fn dated(day: Day) -> StatusReader {
        let mut reader = StatusReader::default();
        reader.status.date = Some(day);
        reader
    }

    pub fn feed(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("Users of ") {
            self.status.features.push(parse_header(rest));
            self.in_feature = true;
        } else if trimmed.starts_with("License server status") {
            self.in_feature = false;
        } else if let Some(at) = trimmed.find("status on ") {
            if let Some(day) = trimmed[at + 10..]
                .split_whitespace()
                .find_map(Day::parse_mdy)
            {
                self.status.date = Some(day);
            }
        } else if self.in_feature {
            read_feature_line(&mut self.status, trimmed, line);
        }
    }

    pub fn finish(self) -> Status {
        self.status
    }
}

/// Reads a whole output.
pub fn parse(text: &str) -> Status {
    let mut reader = StatusReader::new();
    for line in text.lines() {
        reader.feed(line);
    }
    reader.finish()
}

fn read_feature_line(status: &mut Status, trimmed: &str, line: &str) {
    let Some(feature) = status.features.last_mut() else {
        return;
    };
    if trimmed.starts_with('"') {
        read_description(feature, trimmed);
    } else if let Some(n) = reservation(trimmed) {
        feature.reserved += n;
    } else if trimmed.contains(", start ") {
        match parse_session(trimmed, status.date) {
            Some(mut session) => {
                session.feature.clone_from(&feature.name);
                session.vendor.clone_from(&feature.vendor);
                status.sessions.push(session);
            }
            None => status.unread.push(line.to_owned()),
        }
    } else if !is_known_filler(trimmed) {
        status.unread.push(line.to_owned());
    }
}

/// Lines under a feature that hold nothing to read.
fn is_known_filler(line: &str) -> bool {
    line.ends_with(" license")
        && !line.contains(", start ")
        && (line.starts_with("floating")
            || line.starts_with("nodelocked")
            || line.starts_with("uncounted"))
        || line.contains("queued for")
        || line.ends_with(':')
}

/// `FEATURE:  (Total of 10 licenses issued;  Total of 2 licenses in use)`, or an error.
fn parse_header(rest: &str) -> Feature {
    let (name, inner) = match rest.rfind(":  (").or_else(|| rest.find(": (")) {
        Some(at) => {
            let inner = rest[at + 1..].trim().trim_start_matches('(');
            (&rest[..at], inner.strip_suffix(')').unwrap_or(inner))
        }
        None => (rest.trim_end_matches(':'), ""),
    };
    let mut feature = Feature {
        name: name.trim().to_owned(),
        ..Feature::default()
    };
    let mut totals = inner.split(';').map(|part| {
        part.trim()
            .strip_prefix("Total of ")
            .and_then(|n| n.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
    });
    match (totals.next().flatten(), totals.next().flatten()) {
        (Some(issued), Some(in_use)) => {
            feature.issued = Some(issued);
            feature.in_use = Some(in_use);
        }
        _ if !inner.is_empty() => feature.error = Some(inner.trim().to_owned()),
        _ => {}
    }
    feature
}

/// `"Editor" v10.1, vendor: ARCGIS, expiry: ...`
fn read_description(feature: &mut Feature, line: &str) {
    for part in line.split(", ") {
        if let Some(vendor) = part.strip_prefix("vendor: ") {
            feature.vendor = Some(vendor.trim().to_owned());
        } else if let Some(at) = part.rfind("\" v") {
            feature.version = Some(part[at + 3..].trim().to_owned());
        }
    }
}

/// `1 RESERVATION for USER jsmith (gislic01/27000)`: how many licenses.
fn reservation(line: &str) -> Option<u32> {
    let (count, rest) = line.split_once(' ')?;
    if !(rest.starts_with("RESERVATION") || rest.starts_with("RESERVATIONs")) {
        return None;
    }
    count.parse().ok()
}

/// One session line, read from the right.
pub fn parse_session(line: &str, date: Option<Day>) -> Option<Session> {
    let mut rest = line.trim();
    let mut session = Session {
        licenses: 1,
        ..Session::default()
    };
    if rest.ends_with(')') {
        if let Some(at) = rest.rfind(" (linger:") {
            session.borrowed = true;
            rest = rest[..at].trim_end();
        }
    }
    if let Some(at) = rest.rfind(", PID: ") {
        if let Ok(pid) = rest[at + 7..].trim().parse() {
            session.pid = Some(pid);
            rest = &rest[..at];
        }
    }
    if let Some(at) = rest.rfind(", ") {
        if let Some(n) = license_count(&rest[at + 2..]) {
            session.licenses = n;
            rest = &rest[..at];
        }
    }
    let at = rest.rfind(", start ")?;
    session.start_text = rest[at + 8..].trim().to_owned();
    session.start = date.and_then(|d| start_of(&session.start_text, d));
    rest = rest[..at].trim_end();
    // (server/port handle)
    let inner = rest.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let (place, handle) = inner[open + 1..].trim().rsplit_once(' ')?;
    let (server, port) = place.rsplit_once('/')?;
    session.server = server.to_owned();
    session.port = port.parse().ok()?;
    session.handle = handle.trim().to_owned();
    rest = inner[..open].trim_end();
    // (vVERSION)
    let inner = rest.strip_suffix(')')?;
    let open = inner.rfind("(v")?;
    session.version = inner[open + 2..].to_owned();
    rest = inner[..open].trim_end();
    read_who(&mut session, rest);
    Some(session)
}

/// `user user_host display`: the first two words, then the rest. A borrowed license is
/// shown as `ACTIVATED LICENSE(S)` where the user would be (unverified: public parsers).
fn read_who(session: &mut Session, who: &str) {
    if who.contains("ACTIVATED LICENSE") {
        session.borrowed = true;
    }
    if who.starts_with("ACTIVATED LICENSE") {
        session.display = who.to_owned();
        return;
    }
    let mut words = who.splitn(3, ' ');
    session.username = words.next().unwrap_or("").to_owned();
    session.workstation = words.next().unwrap_or("").trim().to_owned();
    session.display = words.next().unwrap_or("").trim().to_owned();
}

/// `2 licenses` / `1 license`.
fn license_count(text: &str) -> Option<u32> {
    let (n, word) = text.trim().split_once(' ')?;
    matches!(word, "license" | "licenses")
        .then(|| n.parse().ok())
        .flatten()
}

/// `Wed 12/18 8:33` (the weekday is optional), dated by the status day.
fn start_of(text: &str, status: Day) -> Option<LocalTime> {
    let mut words = text.split_whitespace().rev();
    let clock = parse_clock(words.next()?)?;
    let (month, day) = words.next()?.split_once('/')?;
    date_start(status, month.parse().ok()?, day.parse().ok()?, clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_session_from_the_right() {
        let day = Day::new(2019, 12, 18);
        let s = parse_session(
            "    akhan LAPTOP-7 ,_6!/#bE-mN*5 (v9) (x/1 2), start kgRxhN~xU (v10.1) (gislic01/27000 517), start Wed 12/18 9:05, 2 licenses, PID: 4411",
            day,
        )
        .unwrap();
        assert_eq!(s.username, "akhan");
        assert_eq!(s.workstation, "LAPTOP-7");
        assert_eq!(s.display, ",_6!/#bE-mN*5 (v9) (x/1 2), start kgRxhN~xU");
        assert_eq!(
            (s.server.as_str(), s.port, s.handle.as_str()),
            ("gislic01", 27000, "517")
        );
        assert_eq!(s.version, "10.1");
        assert_eq!((s.licenses, s.pid), (2, Some(4411)));
        assert_eq!(s.start.unwrap().hour, 9);
    }

    #[test]
    fn headers_with_totals_or_errors() {
        let f = parse_header("Editor:  (Total of 1 license issued;  Total of 7 license in use)");
        assert_eq!((f.issued, f.in_use), (Some(1), Some(7)));
        let e = parse_header("desktopAdvN:  (Error: 48 licenses, unsupported by licensed server)");
        assert_eq!(
            e.error.as_deref(),
            Some("Error: 48 licenses, unsupported by licensed server")
        );
        assert_eq!(e.issued, None);
    }

    #[test]
    fn a_second_servers_header_is_not_read_as_the_last_features_lines() {
        let text = "Users of Editor:  (Total of 2 licenses issued;  Total of 0 licenses in use)\n\
                    License server status: 27000@b\n\
                    b: license server UP (MASTER) v11.16.2\n    ARCGIS: UP v11.16.2\n\
                    Users of Viewer:  (Total of 1 license issued;  Total of 0 licenses in use)\n";
        let status = parse(text);
        assert_eq!(status.features.len(), 2);
        assert!(status.unread.is_empty(), "{:?}", status.unread);
    }

    #[test]
    fn broken_lines_are_kept_not_fatal() {
        let status = parse("Users of Editor:  (Total of 2 licenses issued;  Total of 1 license in use)\n    garbage, start nowhere\n");
        assert_eq!(status.sessions.len(), 0);
        assert_eq!(status.unread.len(), 1);
    }
}
