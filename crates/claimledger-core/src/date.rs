//! Dates with the precision they were given in.
//!
//! "At the end of 2024" is `2024-12`: a month, not the first day of it. A [`Date`] keeps the
//! text as written and knows the span of time it stands for, so that dates of different
//! precision can still be compared.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::fmt;

/// How precisely a [`Date`] was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
    Instant,
}

/// A validated `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or RFC 3339 timestamp, kept as written.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Date {
    text: String,
    precision: Precision,
    /// First instant the date stands for (calendar dates are taken in UTC).
    start: DateTime<Utc>,
    /// First instant after the date.
    end: DateTime<Utc>,
}

/// The longest date text accepted.
const DATE_LEN_MAX: usize = 64;

impl Date {
    /// Parses date text, or says why it is not a date.
    pub fn parse(text: &str) -> Result<Date, String> {
        const HINT: &str = "expected YYYY, YYYY-MM, YYYY-MM-DD or an RFC 3339 timestamp";
        if text.len() > DATE_LEN_MAX {
            return Err(format!("is longer than {DATE_LEN_MAX} characters; {HINT}"));
        }
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let bad = || format!("{text:?} is not a date; {HINT}");
        // Every form is ASCII, which also makes the slices below fall on character boundaries.
        if !text.is_ascii() {
            return Err(bad());
        }
        let bytes = text.as_bytes();
        let (precision, start, end) = if digits(text, 4) {
            let year: i32 = text.parse().map_err(|_| bad())?;
            let start = day_start(year, 1, 1).ok_or_else(bad)?;
            let end = day_start(year + 1, 1, 1).ok_or_else(bad)?;
            (Precision::Year, start, end)
        } else if text.len() == 7
            && digits(&text[..4], 4)
            && bytes[4] == b'-'
            && digits(&text[5..], 2)
        {
            let year: i32 = text[..4].parse().map_err(|_| bad())?;
            let month: u32 = text[5..].parse().map_err(|_| bad())?;
            if !(1..=12).contains(&month) {
                return Err(format!("{text:?} has month {month}; months are 01 to 12"));
            }
            let start = day_start(year, month, 1).ok_or_else(bad)?;
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let end = day_start(next_year, next_month, 1).ok_or_else(bad)?;
            (Precision::Month, start, end)
        } else if text.len() == 10 {
            if !(digits(&text[..4], 4) && bytes[4] == b'-' && bytes[7] == b'-') {
                return Err(bad());
            }
            let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("{text:?} is not a calendar date"))?;
            let start = day_start(day.year(), day.month(), day.day()).ok_or_else(bad)?;
            (Precision::Day, start, start + chrono::Duration::days(1))
        } else {
            if !is_strict_rfc3339(bytes) {
                return Err(bad());
            }
            let instant = DateTime::parse_from_rfc3339(text).map_err(|_| bad())?;
            let start = instant.with_timezone(&Utc);
            (
                Precision::Instant,
                start,
                start + chrono::Duration::nanoseconds(1),
            )
        };
        Ok(Date {
            text: text.to_owned(),
            precision,
            start,
            end,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The first instant this date stands for.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after this date.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether `self` can come no later than `other`: some instant of `self` is at or before
    /// some instant of `other`. `2024` may precede `2024-06`, and `2024-07` may precede `2024`.
    pub fn may_precede(&self, other: &Date) -> bool {
        self.start < other.end
    }

    /// Chronological order by first instant, then by precision and text, for sorting.
    pub fn cmp_chronological(&self, other: &Date) -> std::cmp::Ordering {
        self.start
            .cmp(&other.start)
            .then(self.precision.cmp(&other.precision))
            .then_with(|| self.text.cmp(&other.text))
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits, then `Z` or `+HH:MM`/`-HH:MM`:
/// RFC 3339's `date-time` with an upper-case `T` and `Z` and no space, so that every reader of
/// the format accepts what the ledger stores. (Field ranges are left to chrono.)
fn is_strict_rfc3339(bytes: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| bytes.get(i) == Some(&c);
    if !(digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && at(10, b'T')
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19))
    {
        return false;
    }
    let mut rest = &bytes[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

fn day_start(year: i32, month: u32, day: u32) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({})", self.text)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `claim_validator` fuzz target: a non-ASCII character where a slice would
    /// cut it panicked instead of refusing the date.
    #[test]
    fn non_ascii_is_refused_not_sliced() {
        for text in [
            "202\u{2c8}02-25",
            "20\u{e9}-01",
            "2025-\u{e9}1",
            "\u{e9}025-01-0",
            "2025",
        ] {
            let parsed = Date::parse(text);
            if text.is_ascii() {
                assert!(parsed.is_ok(), "{text:?}");
            } else {
                let error = parsed.expect_err(text);
                assert!(error.contains("is not a date"), "{error}");
            }
        }
    }

    fn check(text: &str, expected: Option<Precision>) {
        assert_eq!(
            Date::parse(text).ok().map(|d| d.precision()),
            expected,
            "{text:?}"
        );
    }

    #[test]
    fn precision_kept() {
        check("2024", Some(Precision::Year));
        check("2024-12", Some(Precision::Month));
        check("2025-02-24", Some(Precision::Day));
        check("2025-08-12T10:30:00+03:00", Some(Precision::Instant));
        check("2025-08-12T10:30:00Z", Some(Precision::Instant));
        check(
            "2025-08-12T10:30:00.123456789-05:00",
            Some(Precision::Instant),
        );
        assert_eq!(Date::parse("2024-12").unwrap().to_string(), "2024-12");
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-00",
            "2025-02-30",
            "2024-1",
            "2024/12/01",
            "12-2024",
            "2024-12-01T25:00:00Z",
            "2024-12-01 10:00",
            "yesterday",
            "+2024",
            "２０２４",
            "2024-01-01 10:00:00Z",
            "2024-01-01t10:00:00z",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00.1234567890Z",
            "2024-01-01T10:00:00+0100",
            "2024-01-01T10:00Z",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn spans() {
        let year = Date::parse("2024").unwrap();
        let june = Date::parse("2024-06").unwrap();
        let july_2025 = Date::parse("2025-07").unwrap();
        assert!(year.may_precede(&june));
        assert!(june.may_precede(&year));
        assert!(!july_2025.may_precede(&year));
        assert_eq!(
            Date::parse("2024-02").unwrap().end(),
            Date::parse("2024-03-01").unwrap().start()
        );
    }
}
