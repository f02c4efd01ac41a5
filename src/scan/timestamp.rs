//! The timestamp a log line starts with, for a pattern's first and last occurrence.
//!
//! Only leading timestamps are read (a date inside a message is not the line's time), in the forms
//! the logs doctor reads actually use. They are normalised to ISO 8601 text
//! (`2025-01-03T10:09:19.123Z`); a form without a zone stays without one (nginx and syslog write
//! local time), and nothing is converted, so the text is what the log said.
//!
//! | form | example | written by |
//! | --- | --- | --- |
//! | RFC 3339 / ISO 8601 | `2025-01-03T10:09:19.123456789Z`, `2025-01-03 10:09:19,412`, `2026-11-27  7:07:44` | docker `--timestamps`, MySQL 5.7+/8, MariaDB 10.x, logback, Python logging |
//! | slashes | `2025/01/03 10:09:19` | nginx error log, Go's `log` |
//! | MySQL ≤ 5.6 | `250103 10:09:19`, `250103  9:09:19` | old MySQL/MariaDB error log |
//! | syslog (RFC 3164) | `Jan  3 10:09:19` | rsyslog, kernel messages in `/var/log/kern.log` (no year: the caller's year is used) |
//! | NestJS logger | `[Nest] 27  - 01/03/2025, 8:29:05 AM` | NestJS `Logger` (en-US locale) |

use std::fmt::Write as _;

/// The year and month a year-less (syslog) timestamp is assumed to be in: the year of `now`, or
/// the year before when the month lies after `now`'s month (a January run reading December lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearHint {
    pub year: i32,
    pub month: u32,
}

impl YearHint {
    /// Today's year and month (UTC).
    pub fn now() -> Self {
        Self::at(std::time::SystemTime::now())
    }

    /// The year and month (UTC) of `t`.
    pub fn at(t: std::time::SystemTime) -> Self {
        let days = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400) as i64;
        // Civil-from-days (Howard Hinnant's algorithm, public domain).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        YearHint {
            year: year as i32,
            month: month as u32,
        }
    }
}

/// A parsed timestamp: plain numbers, so the scanner keeps one per pattern without allocating;
/// text only when it is output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    /// Fraction digits as written (up to 9).
    frac: [u8; 9],
    frac_len: usize,
    zone: Zone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    Unknown,
    Utc,
    Offset { sign: u8, h: u32, m: u32 },
}

impl Stamp {
    fn new(y: u32, mo: u32, d: u32, (h, mi, s): (u32, u32, u32)) -> Self {
        Stamp {
            y,
            mo,
            d,
            h,
            mi,
            s,
            frac: [0; 9],
            frac_len: 0,
            zone: Zone::Unknown,
        }
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.y, self.mo, self.d, self.h, self.mi, self.s
        )?;
        if self.frac_len > 0 {
            f.write_str(".")?;
            for &b in &self.frac[..self.frac_len] {
                f.write_char(char::from(b))?;
            }
        }
        match self.zone {
            Zone::Unknown => Ok(()),
            Zone::Utc => f.write_str("Z"),
            Zone::Offset { sign, h, m } => write!(f, "{}{h:02}:{m:02}", char::from(sign)),
        }
    }
}

/// The normalised leading timestamp of `line`, if it has one.
pub fn leading(line: &[u8], hint: Option<YearHint>) -> Option<String> {
    stamp(line, hint).map(|s| s.to_string())
}

/// The leading timestamp of `line`, parsed.
pub fn stamp(line: &[u8], hint: Option<YearHint>) -> Option<Stamp> {
    let mut c = Cursor { s: line, i: 0 };
    if c.eat_str(b"[Nest] ") {
        return nest(&mut c);
    }
    c.eat(b'[');
    let start = c.i;
    if let Some(t) = iso(&mut c) {
        return Some(t);
    }
    c.i = start;
    if let Some(t) = mysql_old(&mut c) {
        return Some(t);
    }
    c.i = start;
    syslog(&mut c, hint?)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &[u8]) -> bool {
        if self.s[self.i..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let d = self.s.get(self.i..self.i + n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(d.iter().fold(0, |a, b| a * 10 + u32::from(b - b'0')))
    }
    /// One to `max` digits.
    fn some_digits(&mut self, max: usize) -> Option<u32> {
        let n = self.s[self.i..]
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n == 0 {
            return None;
        }
        self.digits(n)
    }
}

fn date_ok(y: u32, m: u32, d: u32) -> bool {
    (1970..=2999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
}

fn time_ok(h: u32, mi: u32, s: u32) -> bool {
    h < 24 && mi < 60 && s <= 60
}

/// `HH:MM:SS` (hour may have one digit when `loose`).
fn clock(c: &mut Cursor<'_>, loose: bool) -> Option<(u32, u32, u32)> {
    let h = if loose {
        c.some_digits(2)?
    } else {
        c.digits(2)?
    };
    c.eat(b':').then_some(())?;
    let mi = c.digits(2)?;
    c.eat(b':').then_some(())?;
    let s = c.digits(2)?;
    time_ok(h, mi, s).then_some((h, mi, s))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.,frac][zone]` and `YYYY/MM/DD HH:MM:SS`.
fn iso(c: &mut Cursor<'_>) -> Option<Stamp> {
    let y = c.digits(4)?;
    let sep = c.peek()?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    c.i += 1;
    let m = c.digits(2)?;
    c.eat(sep).then_some(())?;
    let d = c.digits(2)?;
    // MariaDB pads a one-digit hour with a space: `2026-11-27  7:07:44`.
    let t = if c.eat(b'T') {
        clock(c, false)?
    } else if c.eat(b' ') {
        let padded = c.eat(b' ');
        clock(c, padded)?
    } else {
        return None;
    };
    if !date_ok(y, m, d) {
        return None;
    }
    let mut out = Stamp::new(y, m, d, t);
    if sep == b'/' {
        return Some(out);
    }
    if c.peek() == Some(b'.') || c.peek() == Some(b',') {
        c.i += 1;
        let n = c.s[c.i..]
            .iter()
            .take(9)
            .take_while(|b| b.is_ascii_digit())
            .count();
        out.frac[..n].copy_from_slice(&c.s[c.i..c.i + n]);
        out.frac_len = n;
        c.i += n;
    }
    if c.eat(b'Z') {
        out.zone = Zone::Utc;
    } else if let Some(sign @ (b'+' | b'-')) = c.peek() {
        c.i += 1;
        let h = c.digits(2)?;
        c.eat(b':');
        let m = c.digits(2)?;
        if h < 24 && m < 60 {
            out.zone = Zone::Offset { sign, h, m };
        }
    }
    Some(out)
}

/// `YYMMDD HH:MM:SS` or `YYMMDD  H:MM:SS` (MySQL 5.5/5.6, MariaDB before 10.1.4).
fn mysql_old(c: &mut Cursor<'_>) -> Option<Stamp> {
    let y = c.digits(2)? + 2000;
    let m = c.digits(2)?;
    let d = c.digits(2)?;
    c.eat(b' ').then_some(())?;
    c.eat(b' ');
    let t = clock(c, true)?;
    date_ok(y, m, d).then(|| Stamp::new(y, m, d, t))
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `Mon DD HH:MM:SS` with the day space-padded.
fn syslog(c: &mut Cursor<'_>, hint: YearHint) -> Option<Stamp> {
    let name = c.s.get(c.i..c.i + 3)?;
    let m = MONTHS.iter().position(|x| *x == name)? as u32 + 1;
    c.i += 3;
    c.eat(b' ').then_some(())?;
    c.eat(b' ');
    let d = c.some_digits(2)?;
    c.eat(b' ').then_some(())?;
    let t = clock(c, false)?;
    let year = if m > hint.month {
        hint.year - 1
    } else {
        hint.year
    };
    let y = u32::try_from(year).ok()?;
    date_ok(y, m, d).then(|| Stamp::new(y, m, d, t))
}

/// `[Nest] PID  - MM/DD/YYYY, H:MM:SS AM` (the `[Nest] ` already eaten).
fn nest(c: &mut Cursor<'_>) -> Option<Stamp> {
    c.some_digits(10)?;
    while c.eat(b' ') {}
    c.eat(b'-').then_some(())?;
    while c.eat(b' ') {}
    let m = c.some_digits(2)?;
    c.eat(b'/').then_some(())?;
    let d = c.some_digits(2)?;
    c.eat(b'/').then_some(())?;
    let y = c.digits(4)?;
    c.eat(b',').then_some(())?;
    c.eat(b' ').then_some(())?;
    let (mut h, mi, s) = clock(c, true)?;
    c.eat(b' ');
    if c.eat_str(b"PM") {
        if h < 12 {
            h += 12;
        }
    } else if c.eat_str(b"AM") {
        if h == 12 {
            h = 0;
        }
    } else {
        return None;
    }
    date_ok(y, m, d).then(|| Stamp::new(y, m, d, (h, mi, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: Option<YearHint> = Some(YearHint {
        year: 2025,
        month: 1,
    });

    fn ts(line: &str) -> Option<String> {
        leading(line.as_bytes(), HINT)
    }

    #[test]
    fn the_forms_doctor_reads() {
        assert_eq!(
            ts("2025-01-03T10:09:19.123456789Z stdout: Error: Queue limit reached.").as_deref(),
            Some("2025-01-03T10:09:19.123456789Z"),
            "docker --timestamps"
        );
        assert_eq!(
            ts("2025-01-03T10:09:19.123456Z 42 [Note] [MY-010914] [Server] Aborted connection")
                .as_deref(),
            Some("2025-01-03T10:09:19.123456Z")
        );
        assert_eq!(
            ts("2025-01-03 10:09:19 42 [Warning] Aborted connection 42").as_deref(),
            Some("2025-01-03T10:09:19")
        );
        assert_eq!(
            ts("2026-11-27  7:07:44 3 [Warning] Aborted connection 3").as_deref(),
            Some("2026-11-27T07:07:44"),
            "MariaDB 10.11 pads the hour with a space"
        );
        assert_eq!(
            ts("2025-01-03 10:09:19,412 ERROR QueuePool limit").as_deref(),
            Some("2025-01-03T10:09:19.412")
        );
        assert_eq!(
            ts("[2025-01-03T10:09:19+09:00] error").as_deref(),
            Some("2025-01-03T10:09:19+09:00")
        );
        assert_eq!(
            ts("2025-01-03T10:09:19+0000 host kernel: x").as_deref(),
            Some("2025-01-03T10:09:19+00:00")
        );
        assert_eq!(
            ts("2025/01/03 10:09:19 [error] 29#29: *1 upstream timed out").as_deref(),
            Some("2025-01-03T10:09:19")
        );
        assert_eq!(
            ts("250103 10:09:19 [Warning] Aborted connection").as_deref(),
            Some("2025-01-03T10:09:19")
        );
        assert_eq!(
            ts("250103  9:09:19 [Warning] Aborted connection").as_deref(),
            Some("2025-01-03T09:09:19")
        );
        assert_eq!(
            ts("Jan  3 10:09:19 web1 kernel: Out of memory: Killed process 1").as_deref(),
            Some("2025-01-03T10:09:19")
        );
        assert_eq!(
            ts("Dec 31 23:59:59 web1 kernel: x").as_deref(),
            Some("2024-12-31T23:59:59"),
            "a month after the hint's is last year"
        );
        assert_eq!(
            ts("[Nest] 27  - 01/03/2025, 8:29:05 PM   ERROR [ExceptionsHandler] Queue limit reached.")
                .as_deref(),
            Some("2025-01-03T20:29:05")
        );
        assert_eq!(
            ts("[Nest] 27  - 01/03/2025, 12:29:05 AM   ERROR x").as_deref(),
            Some("2025-01-03T00:29:05")
        );
    }

    #[test]
    fn year_hint_is_the_civil_date() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |s| YearHint::at(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(
            at(1_735_898_959),
            YearHint {
                year: 2025,
                month: 1
            }
        ); // 2025-01-03
        assert_eq!(
            at(951_782_400),
            YearHint {
                year: 2000,
                month: 2
            }
        ); // 2000-02-29
        assert_eq!(
            at(1_767_225_599),
            YearHint {
                year: 2025,
                month: 12
            }
        ); // 2025-12-31 23:59:59
    }

    #[test]
    fn lines_without_a_leading_timestamp_have_none() {
        for line in [
            "Error: Queue limit reached.",
            "    at Pool.getConnection (/app/node_modules/mysql2/lib/pool.js:72:17)",
            "[12345.678901] Out of memory: Killed process 1",
            "2025-13-03 10:09:19 bad month",
            "2025-01-03 25:09:19 bad hour",
            "2025-01-03",
            "",
            "Jan",
            "\u{0}\u{1}binary",
        ] {
            assert_eq!(ts(line), None, "{line:?}");
        }
        assert_eq!(leading(b"Jan  3 10:09:19 x", None), None, "no year to use");
    }
}
