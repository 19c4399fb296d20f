//! Dates and times as FlexNet writes them: local to the license server, with no zone, and
//! often with no year (lmstat's start times) or no date at all (the debug log's lines).

/// A date and time on the license server's clock (no zone: FlexNet writes none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// A real calendar day, or None (13/40, 2/30...).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Day> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Day { year, month, day })
    }

    /// `m/d/yyyy`, as TIMESTAMP lines and lmstat's status line write it.
    pub fn parse_mdy(text: &str) -> Option<Day> {
        let mut parts = text.trim().splitn(3, '/');
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        let year: i32 = parts.next()?.parse().ok()?;
        Day::new(year, month, day)
    }

    /// `yyyy-mm-dd` (`lmgrd -datestamp`).
    pub fn parse_iso(text: &str) -> Option<Day> {
        let mut parts = text.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Day::new(year, month, day)
    }

    /// The day after.
    pub fn next(self) -> Day {
        if self.day < days_in_month(self.year, self.month) {
            Day {
                day: self.day + 1,
                ..self
            }
        } else if self.month < 12 {
            Day {
                month: self.month + 1,
                day: 1,
                ..self
            }
        } else {
            Day {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        }
    }

    pub fn at(self, (hour, minute, second): (u32, u32, u32)) -> LocalTime {
        LocalTime {
            year: self.year,
            month: self.month,
            day: self.day,
            hour,
            minute,
            second,
        }
    }
}

impl LocalTime {
    pub fn day(&self) -> Day {
        Day {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }

    /// `Wed`: the weekday lmstat writes before a start.
    pub fn weekday(&self) -> &'static str {
        const NAMES: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        NAMES[days_from_civil(self.year, self.month, self.day).rem_euclid(7) as usize]
    }

    /// `2019-12-18 08:33[:05]` (the sandbox's own files).
    pub fn parse(text: &str) -> Option<LocalTime> {
        let (date, clock) = text.trim().split_once([' ', 'T'])?;
        Some(Day::parse_iso(date)?.at(parse_clock(clock)?))
    }

    /// Seconds since 1970-01-01 00:00 on the same (zoneless) clock: for differences only.
    pub fn seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }
}

impl LocalTime {
    /// The time `seconds` after 1970-01-01 00:00 on the same clock (the sandbox's ages).
    pub fn from_seconds(seconds: i64) -> LocalTime {
        let days = seconds.div_euclid(86_400);
        let rest = u32::try_from(seconds.rem_euclid(86_400)).unwrap_or(0);
        let (year, month, day) = civil_from_days(days);
        LocalTime {
            year,
            month,
            day,
            hour: rest / 3600,
            minute: rest / 60 % 60,
            second: rest % 60,
        }
    }
}

/// The day `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (i32::try_from(year).unwrap_or(1970), month, day)
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `h:mm` or `h:mm:ss` (hour 0 to 23).
pub fn parse_clock(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour, minute, second.min(59)))
}

/// A start time written without a year (`12/18 8:33`), dated by the status line's day:
/// the year of the status, or the one before when that would put the start after the
/// status (a session started 12/31, listed 1/2). February 29th goes back to the last leap year
/// up to eight years before.
pub fn date_start(status: Day, month: u32, day: u32, clock: (u32, u32, u32)) -> Option<LocalTime> {
    let mut year = status.year;
    for _ in 0..8 {
        if let Some(d) = Day::new(year, month, day) {
            if d <= status {
                return Some(d.at(clock));
            }
        }
        year -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_after_the_status_day_is_last_year() {
        let status = Day::new(2020, 1, 2).unwrap();
        let t = date_start(status, 12, 31, (9, 5, 0)).unwrap();
        assert_eq!((t.year, t.month, t.day), (2019, 12, 31));
        let same = date_start(status, 1, 2, (23, 0, 0)).unwrap();
        assert_eq!(same.year, 2020);
        let leap = date_start(Day::new(2023, 3, 1).unwrap(), 2, 29, (8, 0, 0)).unwrap();
        assert_eq!(leap.year, 2020);
    }

    #[test]
    fn days_roll_over_months_and_years() {
        assert_eq!(
            Day::new(2019, 12, 31).unwrap().next(),
            Day::new(2020, 1, 1).unwrap()
        );
        assert_eq!(
            Day::new(2020, 2, 28).unwrap().next(),
            Day::new(2020, 2, 29).unwrap()
        );
        assert_eq!(
            Day::new(2019, 2, 28).unwrap().next(),
            Day::new(2019, 3, 1).unwrap()
        );
        assert!(Day::new(2019, 2, 29).is_none());
        assert_eq!(Day::parse_mdy("12/19/2019"), Day::new(2019, 12, 19));
        assert_eq!(Day::parse_iso("2019-12-19"), Day::new(2019, 12, 19));
        assert_eq!(parse_clock(" 8:33"), Some((8, 33, 0)));
        assert_eq!(parse_clock("24:00"), None);
        let a = Day::new(1970, 1, 2).unwrap().at((0, 0, 1)).seconds();
        assert_eq!(a, 86_401);
        let t = Day::new(2020, 2, 29).unwrap().at((23, 59, 7));
        assert_eq!(LocalTime::from_seconds(t.seconds()), t);
        assert_eq!(
            Day::new(2019, 12, 18).unwrap().at((0, 0, 0)).weekday(),
            "Wed"
        );
    }
}
