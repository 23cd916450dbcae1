//! The claim: who asserted what figure, when, about which subject, for which period, on which
//! sources.
//!
//! Every type here is validated when it is built, whether from user input ([`crate::input`]) or
//! from stored bytes ([`crate::entry`]): a value of these types always satisfies the rules of the
//! claim input format.

use crate::evidence::{check_archived_list, Archived};
use crate::{Date, Decimal};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Limits on what comes from outside. Each is documented in docs/FORMAT.md.
pub mod limits {
    pub const KEY_LEN_MAX: usize = 128;
    pub const SUBJECT_LEN_MAX: usize = 200;
    pub const CLAIMANT_LEN_MAX: usize = 200;
    pub const STATEMENT_LEN_MAX: usize = 4_000;
    pub const METHOD_LEN_MAX: usize = 4_000;
    pub const NOTE_LEN_MAX: usize = 4_000;
    pub const REASON_LEN_MAX: usize = 4_000;
    pub const AUTHOR_LEN_MAX: usize = 200;
    pub const UNIT_LEN_MAX: usize = 100;
    pub const URL_LEN_MAX: usize = 2_000;
    pub const PUBLISHER_LEN_MAX: usize = 200;
    pub const TITLE_LEN_MAX: usize = 1_000;
    pub const QUOTE_LEN_MAX: usize = 4_000;
    pub const SOURCE_COUNT_MAX: usize = 100;
    pub const TAG_COUNT_MAX: usize = 64;
}
use limits::*;

/// A rule broken by one field: `field` is a path such as `value.amount` or `sources[2].url`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error for a field nested one level further out: `url` becomes `sources[2].url`.
    pub fn within(self, outer: &str) -> FieldError {
        FieldError {
            field: format!("{outer}.{}", self.field),
            reason: self.reason,
        }
    }
}

/// Whether a text field may span lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// `text` with its control characters (line breaks too) written as escapes (`\n`, `\u{1b}`):
/// for messages that quote outside text, such as serde's "unknown variant `...`", so that they
/// stay one line and cannot drive a terminal.
pub fn escape_controls(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_debug());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Checks a free-text field: its length in characters and that it holds no control
/// characters (line breaks and tabs are allowed in multi-line fields).
pub fn check_text(field: &str, text: &str, len_max: usize, lines: Lines) -> Result<(), FieldError> {
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\t' | '\r');
    // Most text is ASCII: one byte a character, and its control characters are the bytes
    // below 0x20 and 0x7F.
    let (len, control) = if text.is_ascii() {
        let control = text
            .bytes()
            .find(|&b| (b < 0x20 || b == 0x7f) && !allowed(char::from(b)))
            .map(char::from);
        (text.len(), control)
    } else {
        let control = text.chars().find(|&c| c.is_control() && !allowed(c));
        (text.chars().count(), control)
    };
    if len > len_max {
        return Err(FieldError::new(
            field,
            format!("is {len} characters long; the limit is {len_max}"),
        ));
    }
    if let Some(c) = control {
        return Err(FieldError::new(
            field,
            format!("contains the control character {:?}", c),
        ));
    }
    Ok(())
}

/// Like [`check_text`], and the text must hold something other than white space.
pub fn check_nonempty_text(
    field: &str,
    text: &str,
    len_max: usize,
    lines: Lines,
) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "is empty"));
    }
    check_text(field, text, len_max, lines)
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
}

/// The user's own name for a claim: `[a-z0-9][a-z0-9._-]{0,127}`, and not shaped like a UUID,
/// so that an argument naming a claim is never ambiguous between id and key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Key(String);

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        Key::check(text)?;
        Ok(Key(text.to_owned()))
    }

    /// Checks key text without keeping it.
    pub(crate) fn check(text: &str) -> Result<(), String> {
        check_label(text)?;
        if uuid::Uuid::try_parse(text).is_ok() {
            return Err(format!(
                "{text:?} has the form of a claim id; choose a key that does not"
            ));
        }
        Ok(())
    }

    /// A key from text [`Key::check`] accepted.
    pub(crate) fn from_checked(text: &str) -> Key {
        Key(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks the syntax keys and tags share.
pub(crate) fn check_label(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err("is empty".into());
    }
    if bytes.len() > KEY_LEN_MAX {
        return Err(format!(
            "is {} characters long; the limit is {KEY_LEN_MAX}",
            text.chars().count()
        ));
    }
    if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        || !bytes.iter().all(|&b| is_key_char(b))
    {
        return Err(format!(
            "{text:?} is not a valid name: use a lowercase letter or digit, then lowercase \
             letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(())
}

/// A free label on a claim, with the same syntax as a key (UUID shapes allowed).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub fn parse(text: &str) -> Result<Tag, String> {
        check_label(text)?;
        Ok(Tag(text.to_owned()))
    }

    /// A tag from text [`check_label`] accepted.
    pub(crate) fn from_checked(text: &str) -> Tag {
        Tag(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a claim is about: segments of `[a-z0-9._-]+` joined by `/`, at most 200 characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Subject(String);

impl Subject {
    pub fn parse(text: &str) -> Result<Subject, String> {
        Subject::check(text)?;
        Ok(Subject(text.to_owned()))
    }

    /// A subject from text [`Subject::check`] accepted.
    pub(crate) fn from_checked(text: &str) -> Subject {
        Subject(text.to_owned())
    }

    /// Checks subject text without keeping it.
    pub(crate) fn check(text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.len() > SUBJECT_LEN_MAX {
            return Err(format!(
                "is {} characters long; the limit is {SUBJECT_LEN_MAX}",
                text.chars().count()
            ));
        }
        if text
            .split('/')
            .any(|segment| segment.is_empty() || !segment.bytes().all(is_key_char))
        {
            return Err(format!(
                "{text:?} is not a subject path: use lowercase segments of letters, digits, \
                 '.', '_' or '-' joined by '/', e.g. \"russia/military-deaths\""
            ));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! label_impls {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($ty), self.0)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
label_impls!(Key, Tag, Subject);

/// How a figure relates to the truth as the claimant put it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    #[default]
    Exact,
    /// "more than", "over", "at least"
    AtLeast,
    /// "up to", "at most"
    AtMost,
    /// "around", "nearly", "about"
    Approx,
    /// "between low and high"
    Range,
}

impl Bound {
    pub const ALL: [Bound; 5] = [
        Bound::Exact,
        Bound::AtLeast,
        Bound::AtMost,
        Bound::Approx,
        Bound::Range,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Bound::Exact => "exact",
            Bound::AtLeast => "at_least",
            Bound::AtMost => "at_most",
            Bound::Approx => "approx",
            Bound::Range => "range",
        }
    }

    pub fn parse(text: &str) -> Result<Bound, String> {
        Bound::ALL
            .into_iter()
            .find(|b| b.as_str() == text)
            .ok_or_else(|| {
                format!("{text:?} is not a bound; use exact, at_least, at_most, approx or range")
            })
    }
}

/// A figure: one amount with its bound, or a range.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Value {
    pub bound: Bound,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Value {
    /// Field paths in errors are relative to the value object.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_value(
            self.bound,
            self.amount.as_ref().map(Decimal::as_str),
            self.low.as_ref().map(Decimal::as_str),
            self.high.as_ref().map(Decimal::as_str),
            self.unit.as_deref(),
        )
    }
}

/// The rules of a value object whose decimals are each valid: which of `amount`, `low` and
/// `high` its bound takes, `low` ≤ `high`, and the unit. Field paths are relative to the value.
pub(crate) fn check_value(
    bound: Bound,
    amount: Option<&str>,
    low: Option<&str>,
    high: Option<&str>,
    unit: Option<&str>,
) -> Result<(), FieldError> {
    if bound == Bound::Range {
        if amount.is_some() {
            return Err(FieldError::new(
                "amount",
                "a range has `low` and `high`, not `amount`",
            ));
        }
        let (Some(low), Some(high)) = (low, high) else {
            let missing = if low.is_none() { "low" } else { "high" };
            return Err(FieldError::new(missing, "is required when bound is range"));
        };
        if crate::decimal::cmp_text(low, high).is_gt() {
            return Err(FieldError::new(
                "low",
                format!("{low} is greater than high {high}"),
            ));
        }
    } else {
        if amount.is_none() {
            return Err(FieldError::new(
                "amount",
                format!("is required when bound is {}", bound.as_str()),
            ));
        }
        if let Some(field) = [("low", low), ("high", high)]
            .iter()
            .find(|(_, v)| v.is_some())
        {
            return Err(FieldError::new(field.0, "is only for bound range"));
        }
    }
    if let Some(unit) = unit {
        check_nonempty_text("unit", unit, UNIT_LEN_MAX, Lines::One)?;
    }
    Ok(())
}

/// The span of time a figure covers; either end may be open.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
}

impl Period {
    pub fn validate(&self) -> Result<(), FieldError> {
        check_period(
            self.from.as_ref().map(|d| (d.as_str(), d.start())),
            self.to.as_ref().map(|d| (d.as_str(), d.end())),
        )
    }

    /// Whether the period covers any part of `date`.
    pub fn covers(&self, date: &Date) -> bool {
        self.from
            .as_ref()
            .is_none_or(|from| from.start() < date.end())
            && self.to.as_ref().is_none_or(|to| date.start() < to.end())
    }
}

/// The rules of a period whose dates are each valid, given as the text and first instant of
/// `from` and the text and end of `to`: at least one end, and `from` no later than `to`.
pub(crate) fn check_period(
    from: Option<(&str, chrono::DateTime<chrono::Utc>)>,
    to: Option<(&str, chrono::DateTime<chrono::Utc>)>,
) -> Result<(), FieldError> {
    match (from, to) {
        (None, None) => Err(FieldError::new(
            "from",
            "a period needs `from`, `to` or both",
        )),
        (Some((from, start)), Some((to, end))) if start >= end => {
            Err(FieldError::new("from", format!("{from} is after to {to}")))
        }
        _ => Ok(()),
    }
}

/// Where a claim was published or reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieved_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Snapshots of the source kept in the ledger's evidence store, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub archived: Vec<Archived>,
}

impl Source {
    /// The stored field names, in order.
    pub const FIELDS: [&'static str; 7] = [
        "url",
        "publisher",
        "title",
        "published_on",
        "retrieved_on",
        "quote",
        "archived",
    ];

    pub fn validate(&self) -> Result<(), FieldError> {
        check_source(
            self.url.as_deref(),
            self.publisher.as_deref(),
            self.title.as_deref(),
            self.quote.as_deref(),
        )?;
        for (i, item) in self.archived.iter().enumerate() {
            item.validate()
                .map_err(|e| e.within(&format!("archived[{i}]")))?;
        }
        check_archived_list(
            self.archived.len(),
            self.archived.iter().map(|item| &item.sha256),
        )
    }

    /// The source as it is apart from its snapshots.
    pub fn without_archived(&self) -> Source {
        Source {
            archived: Vec::new(),
            ..self.clone()
        }
    }
}

/// The rules of a source whose dates are each valid. Field paths are relative to the source.
pub(crate) fn check_source(
    url: Option<&str>,
    publisher: Option<&str>,
    title: Option<&str>,
    quote: Option<&str>,
) -> Result<(), FieldError> {
    if url.is_none() && publisher.is_none() {
        return Err(FieldError::new(
            "url",
            "a source needs `url`, `publisher` or both",
        ));
    }
    if let Some(url) = url {
        check_url(url).map_err(|reason| FieldError::new("url", reason))?;
    }
    if let Some(publisher) = publisher {
        check_nonempty_text("publisher", publisher, PUBLISHER_LEN_MAX, Lines::One)?;
    }
    if let Some(title) = title {
        check_nonempty_text("title", title, TITLE_LEN_MAX, Lines::One)?;
    }
    if let Some(quote) = quote {
        check_nonempty_text("quote", quote, QUOTE_LEN_MAX, Lines::Many)?;
    }
    Ok(())
}

pub(crate) fn check_url(text: &str) -> Result<(), String> {
    if text.len() > URL_LEN_MAX {
        return Err(format!(
            "is {} bytes long; the limit is {URL_LEN_MAX}",
            text.len()
        ));
    }
    // The URL parser drops tabs and line breaks, and trims other control characters at either
    // end: without this they would be stored, though the parser never saw them.
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} is not an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    Ok(())
}

/// Where a claim stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Disputed,
    Retracted,
    Superseded,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::Disputed,
        Status::Retracted,
        Status::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disputed => "disputed",
            Status::Retracted => "retracted",
            Status::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!("{text:?} is not a status; use active, disputed, retracted or superseded")
            })
    }
}

/// One revision's full claim. The key is not part of it: a key names the claim for life.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub subject: Subject,
    pub claimant: String,
    pub statement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Claim {
    /// The claim's fields in stored order.
    pub const FIELDS: [&'static str; 10] = [
        "subject",
        "claimant",
        "statement",
        "value",
        "period",
        "stated_on",
        "method",
        "sources",
        "status",
        "tags",
    ];

    /// Checks every rule that the field types alone do not enforce.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_nonempty_text("claimant", &self.claimant, CLAIMANT_LEN_MAX, Lines::One)?;
        check_nonempty_text("statement", &self.statement, STATEMENT_LEN_MAX, Lines::Many)?;
        if let Some(value) = &self.value {
            value.validate().map_err(|e| e.within("value"))?;
        }
        if let Some(period) = &self.period {
            period.validate().map_err(|e| e.within("period"))?;
        }
        if let Some(method) = &self.method {
            check_nonempty_text("method", method, METHOD_LEN_MAX, Lines::Many)?;
        }
        check_source_count(self.sources.len())?;
        for (i, source) in self.sources.iter().enumerate() {
            source
                .validate()
                .map_err(|e| e.within(&format!("sources[{i}]")))?;
        }
        check_tag_count(self.tags.len())?;
        for (i, tag) in self.tags.iter().enumerate() {
            check_tag_unique(i, tag.as_str(), self.tags[..i].iter().map(Tag::as_str))?;
        }
        Ok(())
    }
}

pub(crate) fn check_source_count(count: usize) -> Result<(), FieldError> {
    if count > SOURCE_COUNT_MAX {
        return Err(FieldError::new(
            "sources",
            format!("has {count} sources; the limit is {SOURCE_COUNT_MAX}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_tag_count(count: usize) -> Result<(), FieldError> {
    if count > TAG_COUNT_MAX {
        return Err(FieldError::new(
            "tags",
            format!("has {count} tags; the limit is {TAG_COUNT_MAX}"),
        ));
    }
    Ok(())
}

/// Tag number `i` must not be one of the tags before it.
pub(crate) fn check_tag_unique<'a>(
    i: usize,
    tag: &str,
    mut before: impl Iterator<Item = &'a str>,
) -> Result<(), FieldError> {
    if before.any(|other| other == tag) {
        return Err(FieldError::new(
            format!("tags[{i}]"),
            format!("{tag} is listed twice"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_subjects() {
        assert!(Key::parse("mediazona-named-dead").is_ok());
        assert!(Key::parse("a").is_ok());
        assert!(Key::parse(&"a".repeat(128)).is_ok());
        for bad in [
            "",
            "-a",
            "A",
            "a b",
            "ä",
            &"a".repeat(129),
            "0193f3c2-1c3a-7d2e-8c1a-3f0b6a2e9d11",
        ] {
            assert!(Key::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Subject::parse("russia/military-deaths").is_ok());
        for bad in ["", "/a", "a/", "a//b", "Russia", "a b", &"a".repeat(201)] {
            assert!(Subject::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_checks() {
        assert!(check_text("f", "line\nline", 100, Lines::Many).is_ok());
        assert!(check_text("f", "line\nline", 100, Lines::One).is_err());
        assert!(check_text("f", "nul\0", 100, Lines::Many).is_err());
        assert!(check_text("f", &"é".repeat(10), 10, Lines::One).is_ok());
        assert!(check_nonempty_text("f", "  ", 10, Lines::One).is_err());
    }

    #[test]
    fn urls() {
        assert!(check_url("https://200.zona.media/").is_ok());
        for bad in [
            "ftp://x.org",
            "/relative",
            "https://",
            "mailto:a@b.c",
            "not a url",
            // The URL parser would drop or trim these; FORMAT.md allows no control character.
            "https://example.org/a\nb",
            "https://exam\tple.org/",
            "\u{1}https://example.org/",
            "https://example.org/\u{7f}",
            "https://example.org/\u{85}",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn period_covers() {
        let period = Period {
            from: Some(Date::parse("2022-02-24").unwrap()),
            to: Some(Date::parse("2025-07-31").unwrap()),
        };
        assert!(period.covers(&Date::parse("2024").unwrap()));
        assert!(period.covers(&Date::parse("2022-02").unwrap()));
        assert!(!period.covers(&Date::parse("2025-08").unwrap()));
        let open = Period {
            from: None,
            to: Some(Date::parse("2024").unwrap()),
        };
        assert!(open.covers(&Date::parse("1999").unwrap()));
    }
}
