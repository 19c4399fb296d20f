//! A streaming reader of the License Manager's debug log (`lmgrd9.log`): usage events
//! (`OUT`, `IN`, `DENIED`, `UNSUPPORTED`, `QUEUED`, `DEQUEUED`) with their dates, and every
//! other line kept as a raw event.
//!
//! Lines carry a time but no date (`hh:mm:ss (daemon) message`): the date comes from
//! `TIMESTAMP m/d/yyyy` lines and from messages ending with a date in parentheses (the
//! start-up banner), is carried forward, and rolls to the next day when the clock goes back
//! by more than an hour (midnight; a smaller step back is two daemons writing out of order).
//! `lmgrd -datestamp` lines carry their own date. One line at a time, in a bounded buffer:
//! a log of any size is read in constant memory, and an odd line is a raw event, never an
//! error.

use std::io::{self, BufRead};

use super::time::{parse_clock, Day, LocalTime};

/// The longest line kept; the rest of a longer line is skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// What a line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Out,
    In,
    Denied,
    Unsupported,
    Queued,
    Dequeued,
    /// Any other line: start-up, TIMESTAMP, errors, lines this reader does not know.
    Raw,
}

impl Kind {
    /// As the log writes it: "OUT", "IN"...; "RAW" for other lines.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Out => "OUT",
            Kind::In => "IN",
            Kind::Denied => "DENIED",
            Kind::Unsupported => "UNSUPPORTED",
            Kind::Queued => "QUEUED",
            Kind::Dequeued => "DEQUEUED",
            Kind::Raw => "RAW",
        }
    }

    const USAGE: [Kind; 6] = [
        Kind::Out,
        Kind::In,
        Kind::Denied,
        Kind::Unsupported,
        Kind::Queued,
        Kind::Dequeued,
    ];
}

/// One line of the log, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// On the license server's clock; None before the log has given a date.
    pub time: Option<LocalTime>,
    pub kind: Kind,
    pub feature: Option<String>,
    pub user: Option<String>,
    pub workstation: Option<String>,
    /// Why: a denial's reason, an IN's `INACTIVE`...
    pub reason: Option<String>,
    /// Licenses the event is about (1 unless the line says `(n licenses)`; 0 for raw lines).
    pub licenses: u32,
    /// The line as written.
    pub raw: String,
}

/// Reads lines one at a time, carrying the date forward.
#[derive(Debug, Default, Clone)]
pub struct LogParser {
    day: Option<Day>,
    last: Option<u32>,
}

impl LogParser {
    pub fn new() -> LogParser {
        LogParser::default()
    }

    /// The event a line holds.
    pub fn feed(&mut self, line: &str) -> Event {
        let line = line.trim_end_matches(['\r', '\n']);
        let mut event = Event {
            time: None,
            kind: Kind::Raw,
            feature: None,
            user: None,
            workstation: None,
            reason: None,
            licenses: 0,
            raw: line.to_owned(),
        };
        let Some((day, clock, message)) = split_stamp(line) else {
            return event;
        };
        // A line that states its date (an ISO stamp, a TIMESTAMP line, the banner) sets the
        // day outright; only an undated line after a later clock means midnight has passed.
        let stated = day.or_else(|| message_date(message));
        if let Some(day) = stated {
            self.day = Some(day);
        }
        let seconds = clock.0 * 3600 + clock.1 * 60 + clock.2;
        if stated.is_none() {
            if let (Some(last), Some(today)) = (self.last, self.day) {
                if last > seconds + 3600 {
                    self.day = Some(today.next());
                }
            }
        }
        self.last = Some(seconds);
        event.time = self.day.map(|d| d.at(clock));
        read_usage(&mut event, message);
        event
    }
}

/// An hour, minute and second.
type Clock = (u32, u32, u32);

/// The date (when the line has one), the clock and the message after `(daemon)`.
fn split_stamp(line: &str) -> Option<(Option<Day>, Clock, &str)> {
    let line = line.trim_start();
    let (first, rest) = line.split_once(' ')?;
    let (day, clock, rest) = if let Some((date, clock)) = first.split_once('T') {
        (Some(Day::parse_iso(date)?), clock, rest)
    } else if let Some(day) = Day::parse_mdy(first).or_else(|| Day::parse_iso(first)) {
        let (clock, rest) = rest.trim_start().split_once(' ')?;
        (Some(day), clock, rest)
    } else {
        (None, first, rest)
    };
    let clock = parse_clock(clock.split(['.', '+', 'Z']).next()?)?;
    let rest = rest.trim_start();
    let message = match rest.strip_prefix('(') {
        Some(daemon) => daemon.split_once(')')?.1.trim_start(),
        None => rest,
    };
    Some((day, clock, message))
}

/// The date of a `TIMESTAMP m/d/yyyy` line, or of a message ending `(m/d/yyyy)`.
fn message_date(message: &str) -> Option<Day> {
    if let Some(date) = message.strip_prefix("TIMESTAMP ") {
        return Day::parse_mdy(date.trim());
    }
    let inner = message.trim_end().strip_suffix(')')?;
    let open = inner.rfind('(')?;
    Day::parse_mdy(&inner[open + 1..])
}

/// `OUT: "feature" user@host  (2 licenses)`, `DENIED: "feature" user@host  (reason)`...
fn read_usage(event: &mut Event, message: &str) {
    let Some(kind) = Kind::USAGE
        .into_iter()
        .find(|k| message.starts_with(k.name()) && message[k.name().len()..].starts_with(':'))
    else {
        return;
    };
    // Verbose logs add `^^^`-delimited fields: the event is what comes before them.
    let body = message[kind.name().len() + 1..]
        .split("^^^")
        .next()
        .unwrap_or("");
    let mut rest = body.trim();
    let feature = match rest.strip_prefix('"').and_then(|r| r.split_once('"')) {
        Some((feature, after)) => {
            rest = after.trim();
            feature
        }
        None => match rest.split_once(' ') {
            Some((feature, after)) => {
                rest = after.trim();
                feature
            }
            None => return,
        },
    };
    let mut reasons = Vec::new();
    let mut licenses = 1;
    while let Some((group, before)) = last_group(rest) {
        match license_count(group) {
            Some(n) => licenses = n,
            None => reasons.push(group),
        }
        rest = before.trim_end();
    }
    reasons.reverse();
    let who = rest.split_whitespace().rev().find(|w| w.contains('@'));
    let (user, host) = match who.and_then(|w| w.rsplit_once('@')) {
        Some((user, host)) => (Some(user.to_owned()), Some(host.to_owned())),
        None => (rest.split_whitespace().last().map(str::to_owned), None),
    };
    event.kind = kind;
    event.feature = Some(feature.to_owned());
    event.user = user;
    event.workstation = host;
    event.reason = (!reasons.is_empty()).then(|| reasons.join("; "));
    event.licenses = licenses;
}

/// The last balanced `( ... )` group ending the text: its inside, and the text before it.
fn last_group(text: &str) -> Option<(&str, &str)> {
    let inner_end = text.len().checked_sub(1)?;
    if !text.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (at, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some((&text[at + 1..inner_end], &text[..at]));
                }
            }
            _ => {}
        }
    }
    None
}

fn license_count(text: &str) -> Option<u32> {
    let (n, word) = text.trim().split_once(' ')?;
    matches!(word, "license" | "licenses")
        .then(|| n.parse().ok())
        .flatten()
}

/// Events read from a log, one line at a time.
pub struct LogReader<R> {
    input: R,
    parser: LogParser,
    buffer: Vec<u8>,
}

impl<R: BufRead> LogReader<R> {
    pub fn new(input: R) -> LogReader<R> {
        LogReader {
            input,
            parser: LogParser::new(),
            buffer: Vec::with_capacity(256),
        }
    }
}

impl<R: BufRead> Iterator for LogReader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<io::Result<Event>> {
        loop {
            self.buffer.clear();
            match read_line_capped(&mut self.input, &mut self.buffer, MAX_LINE) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) => return Some(Err(err)),
            }
            let line = String::from_utf8_lossy(&self.buffer);
            if !line.trim().is_empty() {
                return Some(Ok(self.parser.feed(&line)));
            }
        }
    }
}

/// One line into `buffer` (at most `max` bytes of it kept): the bytes consumed.
fn read_line_capped<R: BufRead>(
    input: &mut R,
    buffer: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            return Ok(consumed);
        }
        let (used, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(buffer.len());
        buffer.extend_from_slice(&available[..used.min(room)]);
        input.consume(used);
        consumed += used;
        if ended {
            return Ok(consumed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_from_timestamps_and_roll_at_midnight() {
        let mut p = LogParser::new();
        assert_eq!(p.feed(" 8:00:00 (ARCGIS) OUT: \"Editor\" a@b").time, None);
        p.feed("23:50:00 (lmgrd) TIMESTAMP 12/31/2019");
        let e = p.feed(" 0:10:00 (ARCGIS) IN: \"Editor\" jsmith@WS1  (INACTIVE)");
        let t = e.time.unwrap();
        assert_eq!((t.year, t.month, t.day, t.minute), (2020, 1, 1, 10));
        assert_eq!(e.kind, Kind::In);
        assert_eq!(e.reason.as_deref(), Some("INACTIVE"));
        // A second back is two daemons out of order, not a new day.
        let back = p
            .feed(" 0:09:59 (ARCGIS) OUT: \"Editor\" a@b")
            .time
            .unwrap();
        assert_eq!(back.day, 1);
    }

    #[test]
    fn a_timestamp_written_at_midnight_sets_the_day_without_rolling_it_again() {
        let mut p = LogParser::new();
        p.feed("23:58:00 (lmgrd) TIMESTAMP 11/25/2026");
        p.feed("23:59:30 (ARCGIS) OUT: \"Editor\" a@b");
        p.feed(" 0:00:00 (lmgrd) TIMESTAMP 11/26/2026");
        let t = p.feed(" 0:05:00 (ARCGIS) IN: \"Editor\" a@b").time.unwrap();
        assert_eq!((t.year, t.month, t.day, t.minute), (2026, 11, 26, 5));
    }

    #[test]
    fn reads_denials_with_nested_reasons_and_counts() {
        let mut p = LogParser::new();
        let e = p.feed("9:12:00 (ARCGIS) DENIED: \"desktopAdvP\" akhan@LAPTOP-7  (Licensed number of users already reached. (-4,342:10054 \"\"))");
        assert_eq!(e.kind, Kind::Denied);
        assert_eq!(e.user.as_deref(), Some("akhan"));
        assert_eq!(e.workstation.as_deref(), Some("LAPTOP-7"));
        assert_eq!(
            e.reason.as_deref(),
            Some("Licensed number of users already reached. (-4,342:10054 \"\")")
        );
        let two = p.feed("9:13:00 (ARCGIS) OUT: \"Editor\" a.b@corp@WS2  (2 licenses)");
        assert_eq!((two.licenses, two.user.as_deref()), (2, Some("a.b@corp")));
    }

    #[test]
    fn odd_lines_are_raw() {
        let mut p = LogParser::new();
        for line in [
            "",
            "garbage",
            "99:99:99 (x) OUT:",
            "1:00:00 (ARCGIS) OUT:",
            "((",
        ] {
            assert_eq!(p.feed(line).kind, Kind::Raw, "{line}");
        }
    }

    #[test]
    fn long_lines_are_cut_not_held() {
        let text = format!("{}\n1:00:00 (lmgrd) x\n", "a".repeat(MAX_LINE * 3));
        let events: Vec<Event> = LogReader::new(io::Cursor::new(text))
            .map(Result::unwrap)
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].raw.len(), MAX_LINE);
    }
}
