//! A streaming reader of `lmutil lmstat -a` output: features with their totals (or the
//! server's error) and the sessions holding them.
//!
//! Session lines are read from the right: the display field can hold anything (ArcMap
//! writes an encoded string there), so the reader anchors on the `(vVERSION) (host/port
//! handle), start Dow M/D H:MM` tail and its optional `, N licenses`, `, PID: n` and
//! `(linger: ...)` suffixes. Start times carry no year: the status line's date gives it, and
//! a start after that date belongs to the year before.

use super::time::{date_start, parse_clock, Day, LocalTime};
use crate::packed::nth;

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
///
/// Its words (feature, user, workstation...) are kept in one buffer, one allocation per
/// session: a status of 100,000 sessions is read in the time a bare scan of it takes, and
/// a session kept alone does not keep the whole output alive.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Session {
    words: Box<str>,
    /// Where each of `Word`'s fields ends in `words`.
    ends: [u32; WORDS],
    has_vendor: bool,
    pub port: u32,
    /// The start, dated by the status line (None when the output has no status date).
    pub start: Option<LocalTime>,
    pub licenses: u32,
    /// Borrowed for offline use (a `(linger: ...)` tail or an `ACTIVATED LICENSE(S)` line):
    /// lmremove cannot return it before its borrow period ends.
    pub borrowed: bool,
    pub pid: Option<u32>,
}

/// The words of a session, in the order `Session::words` holds them.
#[derive(Clone, Copy)]
enum Word {
    Feature,
    Vendor,
    Username,
    Workstation,
    Display,
    Version,
    Server,
    Handle,
    StartText,
}
const WORDS: usize = 9;

impl Session {
    fn word(&self, word: Word) -> &str {
        nth(&self.words, &self.ends, word as usize)
    }
    pub fn feature(&self) -> &str {
        self.word(Word::Feature)
    }
    /// The vendor daemon, from the feature's description line when shown.
    pub fn vendor(&self) -> Option<&str> {
        self.has_vendor.then(|| self.word(Word::Vendor))
    }
    pub fn username(&self) -> &str {
        self.word(Word::Username)
    }
    pub fn workstation(&self) -> &str {
        self.word(Word::Workstation)
    }
    /// The display field: often the workstation again, for ArcMap an encoded string.
    pub fn display(&self) -> &str {
        self.word(Word::Display)
    }
    pub fn version(&self) -> &str {
        self.word(Word::Version)
    }
    /// The license server host the handle belongs to (what `lmremove -h` takes, with the
    /// port).
    pub fn server(&self) -> &str {
        self.word(Word::Server)
    }
    pub fn handle(&self) -> &str {
        self.word(Word::Handle)
    }
    /// The start as written (`Wed 12/18 8:33`).
    pub fn start_text(&self) -> &str {
        self.word(Word::StartText)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("feature", &self.feature())
            .field("vendor", &self.vendor())
            .field("username", &self.username())
            .field("workstation", &self.workstation())
            .field("display", &self.display())
            .field("version", &self.version())
            .field("server", &self.server())
            .field("port", &self.port)
            .field("handle", &self.handle())
            .field("start", &self.start)
            .field("start_text", &self.start_text())
            .field("licenses", &self.licenses)
            .field("borrowed", &self.borrowed)
            .field("pid", &self.pid)
            .finish()
    }
}

/// A session's words as slices of its line, before they are copied into one buffer.
#[derive(Default)]
struct Words<'a>([&'a str; WORDS]);

impl<'a> Words<'a> {
    fn set(&mut self, word: Word, text: &'a str) {
        self.0[word as usize] = text;
    }

    fn into_session(self, mut session: Session) -> Option<Session> {
        let mut words = String::with_capacity(self.0.iter().map(|w| w.len()).sum());
        for (at, word) in self.0.iter().enumerate() {
            words.push_str(word);
            session.ends[at] = u32::try_from(words.len()).ok()?;
        }
        session.words = words.into_boxed_str();
        Some(session)
    }
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

    /// Starts with the date, if given, for output that has no status line (a saved
    /// excerpt); a status line read later still dates what follows it.
    pub fn dated(day: Option<Day>) -> StatusReader {
        let mut reader = StatusReader::default();
        reader.status.date = day;
        reader
    }

    pub fn feed(&mut self, line: &str) {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        // Session lines are nearly all of a big status: tried first, by their tail.
        if self.in_feature && trimmed.ends_with(|c: char| c.is_ascii_alphanumeric() || c == ')') {
            if let Some(feature) = self.status.features.last() {
                if let Some(session) = parse_session(trimmed, self.status.date, feature) {
                    self.status.sessions.push(session);
                    return;
                }
            }
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
            let line = line.trim_end_matches(['\r', '\n']);
            read_feature_line(&mut self.status, trimmed, line);
        }
    }

    /// The sessions read since the last call, taken out: a caller making its own records
    /// of them as it reads keeps only a few sessions at a time.
    pub fn take_sessions(&mut self) -> std::vec::Drain<'_, Session> {
        self.status.sessions.drain(..)
    }

    /// How many sessions were read and not yet taken.
    pub fn sessions_waiting(&self) -> usize {
        self.status.sessions.len()
    }

    pub fn finish(self) -> Status {
        self.status
    }
}

/// Reads a whole output.
pub fn parse(text: &str) -> Status {
    let mut reader = StatusReader::new();
    // Room made once (a session line is longer than 32 bytes): growing the list would
    // move every session already read. Pages not used are never touched.
    reader.status.sessions.reserve(text.len() / 32);
    for line in text.lines() {
        reader.feed(line);
    }
    reader.finish()
}

/// A line under a feature that is not a session.
fn read_feature_line(status: &mut Status, trimmed: &str, line: &str) {
    let Some(feature) = status.features.last_mut() else {
        return;
    };
    if trimmed.starts_with('"') {
        read_description(feature, trimmed);
    } else if let Some(n) = reservation(trimmed) {
        feature.reserved += n;
    } else if trimmed.contains(", start ") || !is_known_filler(trimmed) {
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

/// One session line of `feature`, read from the right.
fn parse_session(line: &str, date: Option<Day>, feature: &Feature) -> Option<Session> {
    let mut rest = line.trim_ascii();
    let mut session = Session {
        licenses: 1,
        has_vendor: feature.vendor.is_some(),
        ..Session::default()
    };
    let mut words = Words::default();
    words.set(Word::Feature, &feature.name);
    words.set(Word::Vendor, feature.vendor.as_deref().unwrap_or(""));
    if rest.ends_with(')') {
        if let Some(at) = rest.rfind(" (linger:") {
            session.borrowed = true;
            rest = rest[..at].trim_end();
        }
    }
    // The tail, peeled from the right: `, PID: n`, then `, N licenses`, then the start
    // (each found at the last `, `: no search of the whole line for a suffix it lacks).
    let (mut before, mut last) = last_comma(rest)?;
    if let Some(pid) = last.strip_prefix("PID: ") {
        if let Ok(pid) = pid.trim().parse() {
            session.pid = Some(pid);
            (before, last) = last_comma(before)?;
        }
    }
    if let Some(n) = license_count(last) {
        session.licenses = n;
        (before, last) = last_comma(before)?;
    }
    let start = match last.strip_prefix("start ") {
        Some(start) => start.trim_ascii(),
        None => {
            // An unknown tail after the start: kept in the start's text, as written.
            let unpeeled = &rest[..before.len() + 2 + last.len()];
            let (at, start) = unpeeled.rsplit_once(", start ")?;
            before = at;
            start.trim_ascii()
        }
    };
    words.set(Word::StartText, start);
    session.start = date.and_then(|d| start_of(start, d));
    // (server/port handle)
    let inner = before.trim_ascii_end().strip_suffix(')')?;
    let (inner, place) = rsplit_byte(inner, b'(')?;
    let (place, handle) = rsplit_byte(place.trim_ascii(), b' ')?;
    let (server, port) = rsplit_byte(place, b'/')?;
    words.set(Word::Server, server);
    session.port = port.parse().ok()?;
    words.set(Word::Handle, handle.trim_ascii());
    // (vVERSION)
    let mut inner = inner.trim_ascii_end().strip_suffix(')')?;
    let version = loop {
        let (before, version) = rsplit_byte(inner, b'(')?;
        if let Some(version) = version.strip_prefix('v') {
            inner = before;
            break version;
        }
        inner = before;
    };
    words.set(Word::Version, version);
    read_who(&mut session, &mut words, inner.trim_ascii_end());
    words.into_session(session)
}

/// Split at the last `byte` (an ASCII byte: never inside a character), found by a plain
/// loop: the byte is a few places from the end, nearer than a vectorised search's set-up.
fn rsplit_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// Split at the first `byte` (ASCII), as `rsplit_byte` from the left.
fn split_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// `user user_host display`: the first two words, then the rest. A borrowed license is
/// shown as `ACTIVATED LICENSE(S)` where the user would be (unverified: public parsers).
fn read_who<'a>(session: &mut Session, words: &mut Words<'a>, who: &'a str) {
    if who.contains("ACTIVATED LICENSE") {
        session.borrowed = true;
    }
    if who.starts_with("ACTIVATED LICENSE") {
        words.set(Word::Display, who);
        return;
    }
    let (user, rest) = split_byte(who, b' ').unwrap_or((who, ""));
    let (host, display) = split_byte(rest, b' ').unwrap_or((rest, ""));
    words.set(Word::Username, user);
    words.set(Word::Workstation, host.trim_ascii());
    words.set(Word::Display, display.trim_ascii());
}

/// Split at the last `, ` (a byte loop: it is a few places from the end).
fn last_comma(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let at = (0..bytes.len().saturating_sub(1))
        .rev()
        .find(|&at| bytes[at] == b',' && bytes[at + 1] == b' ')?;
    Some((&text[..at], &text[at + 2..]))
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
    let (rest, clock) = rsplit_byte(text.trim_ascii(), b' ')?;
    let clock = parse_clock(clock)?;
    let date = rest.trim_ascii_end();
    let date = rsplit_byte(date, b' ').map_or(date, |(_, date)| date);
    let (month, day) = split_byte(date, b'/')?;
    date_start(status, month.parse().ok()?, day.parse().ok()?, clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_session_from_the_right() {
        let day = Day::new(2019, 12, 18);
        let feature = Feature {
            name: "Editor".into(),
            vendor: Some("ARCGIS".into()),
            ..Feature::default()
        };
        let s = parse_session(
            "    akhan LAPTOP-7 ,_6!/#bE-mN*5 (v9) (x/1 2), start kgRxhN~xU (v10.1) (gislic01/27000 517), start Wed 12/18 9:05, 2 licenses, PID: 4411",
            day,
            &feature,
        )
        .unwrap();
        assert_eq!((s.feature(), s.vendor()), ("Editor", Some("ARCGIS")));
        assert_eq!(s.username(), "akhan");
        assert_eq!(s.workstation(), "LAPTOP-7");
        assert_eq!(s.display(), ",_6!/#bE-mN*5 (v9) (x/1 2), start kgRxhN~xU");
        assert_eq!((s.server(), s.port, s.handle()), ("gislic01", 27000, "517"));
        assert_eq!(s.version(), "10.1");
        assert_eq!(s.start_text(), "Wed 12/18 9:05");
        assert_eq!((s.licenses, s.pid), (2, Some(4411)));
        assert_eq!(s.start.unwrap().hour, 9);
    }

    #[test]
    fn an_unknown_tail_after_the_start_is_kept_with_it() {
        let feature = Feature::default();
        let line =
            "    jsmith WS-1 WS-1 (v10.1) (gislic01/27000 412), start Wed 12/18 8:33, queued";
        let s = parse_session(line, Day::new(2019, 12, 18), &feature).unwrap();
        assert_eq!(
            (s.handle(), s.start_text()),
            ("412", "Wed 12/18 8:33, queued")
        );
        let line =
            "    jsmith WS-1 WS-1 (v10.1) (gislic01/27000 412), start Wed 12/18 8:33, 3 licenses";
        let s = parse_session(line, Day::new(2019, 12, 18), &feature).unwrap();
        assert_eq!(
            (s.licenses, s.start_text(), s.pid),
            (3, "Wed 12/18 8:33", None)
        );
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
