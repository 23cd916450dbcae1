//! The stored form of an entry, read strictly (docs/FORMAT.md, section 2).
//!
//! One content has one byte form: [`EntryView::parse`] accepts exactly the bytes that
//! [`Entry::encode`](crate::Entry::encode) writes for some entry, and refuses everything else,
//! naming what is wrong (white space, an escape §2 does not write, a field out of order, `null`,
//! an empty list, a number written another way, ...). So decoding then encoding gives back the
//! same bytes, and equal claims are equal bytes.
//!
//! The reader is hand-written for that form: it walks the bytes once, borrows every string that
//! holds no escape (nearly all of them) and allocates nothing per field, and checks every field
//! rule of the claim format on the way. [`EntryView`] is what `verify` reads; the owning
//! [`Entry`](crate::Entry) that the ledger's readers use is built from it.

use crate::claim::{
    check_label, check_nonempty_text, check_period, check_source, check_source_count,
    check_tag_count, check_tag_unique, check_value, limits::*, Lines,
};
use crate::date::Span;
use crate::evidence::{check_archived_item, check_archived_list, check_size, check_status};
use crate::{
    Archived, Bound, Claim, ClaimId, ClaimRecorded, ClaimRevised, Date, Decimal, DecodeError,
    Entry, EntryHash, Event, FieldError, Key, Period, RevisionKind, Seq, SnapshotHash, Source,
    Status, Subject, Tag, Timestamp, Value, ENTRY_FORMAT_VERSION, ENTRY_LEN_MAX,
};
use std::borrow::Cow;
use std::fmt;

/// A stored entry, checked and read in place: what it says, borrowed from its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryView<'a> {
    pub seq: Seq,
    pub prev: EntryHash,
    pub recorded_at: Timestamp,
    pub author: Cow<'a, str>,
    pub claim_id: ClaimId,
    pub event: EventView<'a>,
    pub note: Option<Cow<'a, str>>,
    pub claim: ClaimView<'a>,
}

/// What kind of event an entry records, with the fields only that kind has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventView<'a> {
    Recorded {
        key: Option<&'a str>,
    },
    Revised {
        revision: u32,
        kind: RevisionKind,
        reason: Cow<'a, str>,
    },
}

/// A claim object as stored. Its sources are handed to the caller of
/// [`EntryView::parse_with`] one by one as they are read, so that reading them needs no list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimView<'a> {
    pub subject: &'a str,
    pub claimant: Cow<'a, str>,
    pub statement: Cow<'a, str>,
    pub value: Option<ValueView<'a>>,
    pub period: Option<PeriodView<'a>>,
    pub stated_on: Option<DateView<'a>>,
    pub method: Option<Cow<'a, str>>,
    pub source_count: usize,
    pub status: Status,
    /// The tags as stored, between the brackets: `"a","b"` (a tag holds no `"` or `,`).
    tags: &'a str,
    /// The claim object's bytes, braces included.
    bytes: &'a [u8],
    /// Where `,"status":"..."` lies within `bytes`.
    status_field: (usize, usize),
    /// Where each source's `,"archived":[...]` lies within `bytes`, with the source's index.
    archived_fields: Vec<(usize, usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateView<'a> {
    pub text: &'a str,
    span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueView<'a> {
    pub bound: Bound,
    pub amount: Option<&'a str>,
    pub low: Option<&'a str>,
    pub high: Option<&'a str>,
    pub unit: Option<Cow<'a, str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodView<'a> {
    pub from: Option<DateView<'a>>,
    pub to: Option<DateView<'a>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceView<'a> {
    pub url: Option<Cow<'a, str>>,
    pub publisher: Option<Cow<'a, str>>,
    pub title: Option<Cow<'a, str>>,
    pub published_on: Option<DateView<'a>>,
    pub retrieved_on: Option<DateView<'a>>,
    pub quote: Option<Cow<'a, str>>,
    pub archived: Vec<ArchivedView<'a>>,
}

/// One item of a source's `archived` list, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedView<'a> {
    pub sha256: SnapshotHash,
    pub size: u64,
    pub media_type: &'a str,
    pub captured_at: DateView<'a>,
    pub url: Option<Cow<'a, str>>,
    pub status: Option<u16>,
}

impl<'a> EntryView<'a> {
    /// Checks stored bytes and reads them, sources aside (see [`EntryView::parse_with`]).
    pub fn parse(bytes: &'a [u8]) -> Result<EntryView<'a>, DecodeError> {
        EntryView::parse_with(bytes, &mut |_| {})
    }

    /// Checks stored bytes and reads them, handing each source, in order, to `on_source`.
    pub fn parse_with(
        bytes: &'a [u8],
        on_source: &mut dyn FnMut(SourceView<'a>),
    ) -> Result<EntryView<'a>, DecodeError> {
        if bytes.len() > ENTRY_LEN_MAX {
            return Err(DecodeError(format!(
                "entry is {} bytes; the limit is {ENTRY_LEN_MAX}",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            DecodeError(format!(
                "entry is not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ))
        })?;
        let mut reader = Reader {
            text,
            at: 0,
            archived_fields: Vec::new(),
        };
        let entry = reader.entry(on_source)?;
        if reader.at != bytes.len() {
            return Err(reader.misplaced("after the end of the entry"));
        }
        Ok(entry)
    }

    /// The owning entry, given the sources [`EntryView::parse_with`] handed out.
    pub fn to_entry(&self, sources: Vec<Source>) -> Entry {
        let claim = self.claim.to_claim(sources);
        let author = self.author.clone().into_owned();
        let note = self.note.clone().map(Cow::into_owned);
        let event = match &self.event {
            EventView::Recorded { key } => Event::ClaimRecorded(ClaimRecorded {
                claim_id: self.claim_id,
                key: key.map(Key::from_checked),
                author,
                note,
                recorded_at: self.recorded_at,
                claim,
            }),
            EventView::Revised {
                revision,
                kind,
                reason,
            } => Event::ClaimRevised(ClaimRevised {
                claim_id: self.claim_id,
                revision: *revision,
                kind: *kind,
                reason: reason.clone().into_owned(),
                author,
                note,
                recorded_at: self.recorded_at,
                claim,
            }),
        };
        Entry {
            seq: self.seq,
            prev: self.prev,
            event,
        }
    }

    /// The revision of its claim this entry makes.
    pub fn revision(&self) -> u32 {
        match self.event {
            EventView::Recorded { .. } => 1,
            EventView::Revised { revision, .. } => revision,
        }
    }
}

impl<'a> ClaimView<'a> {
    /// The tags, in stored order.
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + '_ {
        let tags: &'a str = self.tags;
        tags.split(',')
            .filter(|tag| !tag.is_empty())
            .map(|tag| tag.trim_matches('"'))
    }

    /// The claim object's stored bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The claim object's stored bytes around its `status` field: equal for two claims exactly
    /// when they differ in nothing but their status.
    pub fn bytes_without_status(&self) -> (&'a [u8], &'a [u8]) {
        let (start, end) = self.status_field;
        (&self.bytes[..start], &self.bytes[end..])
    }

    /// The claim object's stored bytes but its `status` field and its sources' `archived`
    /// fields, in order: equal for two claims exactly when they differ in nothing but their
    /// status and their snapshots.
    pub fn bytes_without_status_and_archived(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let bytes: &'a [u8] = self.bytes;
        // The archived fields all come before the status, in the sources.
        let mut cuts = self
            .archived_fields
            .iter()
            .map(|&(_, start, end)| (start, end))
            .chain(std::iter::once(self.status_field));
        let mut from = Some(0);
        std::iter::from_fn(move || {
            let start = from?;
            match cuts.next() {
                Some((cut, end)) => {
                    from = Some(end);
                    Some(&bytes[start..cut])
                }
                None => {
                    from = None;
                    Some(&bytes[start..])
                }
            }
        })
    }

    /// Each source's `,"archived":[...]` field as stored, with the source's index.
    pub fn archived_fields(&self) -> impl Iterator<Item = (usize, &'a [u8])> + '_ {
        let bytes: &'a [u8] = self.bytes;
        self.archived_fields
            .iter()
            .map(move |&(source, start, end)| (source, &bytes[start..end]))
    }

    fn to_claim(&self, sources: Vec<Source>) -> Claim {
        let text = |text: &Cow<'_, str>| text.clone().into_owned();
        Claim {
            subject: Subject::from_checked(self.subject),
            claimant: text(&self.claimant),
            statement: text(&self.statement),
            value: self.value.as_ref().map(|value| Value {
                bound: value.bound,
                amount: value.amount.map(Decimal::from_checked),
                low: value.low.map(Decimal::from_checked),
                high: value.high.map(Decimal::from_checked),
                unit: value.unit.as_ref().map(text),
            }),
            period: self.period.map(|period| Period {
                from: period.from.map(DateView::to_date),
                to: period.to.map(DateView::to_date),
            }),
            stated_on: self.stated_on.map(DateView::to_date),
            method: self.method.as_ref().map(text),
            sources,
            status: self.status,
            tags: self.tags().map(Tag::from_checked).collect(),
        }
    }
}

impl DateView<'_> {
    pub fn to_date(self) -> Date {
        Date::from_span(self.text, self.span)
    }
}

impl SourceView<'_> {
    pub fn to_source(&self) -> Source {
        let text = |text: &Option<Cow<'_, str>>| text.clone().map(Cow::into_owned);
        Source {
            url: text(&self.url),
            publisher: text(&self.publisher),
            title: text(&self.title),
            published_on: self.published_on.map(DateView::to_date),
            retrieved_on: self.retrieved_on.map(DateView::to_date),
            quote: text(&self.quote),
            archived: self
                .archived
                .iter()
                .map(ArchivedView::to_archived)
                .collect(),
        }
    }
}

impl ArchivedView<'_> {
    pub fn to_archived(&self) -> Archived {
        Archived {
            sha256: self.sha256,
            size: self.size,
            media_type: self.media_type.to_owned(),
            captured_at: self.captured_at.to_date(),
            url: self.url.clone().map(Cow::into_owned),
            status: self.status,
        }
    }
}

impl Entry {
    /// Decodes and checks stored bytes: their form (docs/FORMAT.md section 2: one content,
    /// one byte form), every field rule of the claim format, and the rules of the event type.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut sources = Vec::new();
        let view = EntryView::parse_with(bytes, &mut |source| sources.push(source.to_source()))?;
        Ok(view.to_entry(sources))
    }
}

// ---------------------------------------------------------------------------------------------
// Field paths, for messages

/// Where in an entry a field is: `seq`, `claim.value.amount`, `claim.sources[2].url`.
#[derive(Clone, Copy, Debug)]
enum Path {
    Entry(&'static str),
    Claim(&'static str),
    Value(&'static str),
    Period(&'static str),
    Source(usize, &'static str),
    Archived(usize, usize, &'static str),
    Tag(usize),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Entry(name) => f.write_str(name),
            Path::Claim("") => f.write_str("claim"),
            Path::Claim(name) => write!(f, "claim.{name}"),
            Path::Value("") => f.write_str("claim.value"),
            Path::Value(name) => write!(f, "claim.value.{name}"),
            Path::Period("") => f.write_str("claim.period"),
            Path::Period(name) => write!(f, "claim.period.{name}"),
            Path::Source(i, "") => write!(f, "claim.sources[{i}]"),
            Path::Source(i, name) => write!(f, "claim.sources[{i}].{name}"),
            Path::Archived(i, j, "") => write!(f, "claim.sources[{i}].archived[{j}]"),
            Path::Archived(i, j, name) => write!(f, "claim.sources[{i}].archived[{j}].{name}"),
            Path::Tag(i) => write!(f, "claim.tags[{i}]"),
        }
    }
}

/// The objects of an entry, each with its fields in stored order.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Recorded,
    Revised,
    Claim,
    Value,
    Period,
    Source(usize),
    Archived(usize, usize),
}

const RECORDED_FIELDS: &[&str] = &[
    "v",
    "seq",
    "prev",
    "type",
    "recorded_at",
    "author",
    "claim_id",
    "key",
    "note",
    "claim",
];
const REVISED_FIELDS: &[&str] = &[
    "v",
    "seq",
    "prev",
    "type",
    "recorded_at",
    "author",
    "claim_id",
    "revision",
    "kind",
    "reason",
    "note",
    "claim",
];

impl Shape {
    fn fields(self) -> &'static [&'static str] {
        match self {
            Shape::Recorded => RECORDED_FIELDS,
            Shape::Revised => REVISED_FIELDS,
            Shape::Claim => &Claim::FIELDS,
            Shape::Value => &["bound", "amount", "low", "high", "unit"],
            Shape::Period => &["from", "to"],
            Shape::Source(_) => &Source::FIELDS,
            Shape::Archived(..) => &Archived::FIELDS,
        }
    }

    fn path(self, name: &'static str) -> Path {
        match self {
            Shape::Recorded | Shape::Revised => Path::Entry(name),
            Shape::Claim => Path::Claim(name),
            Shape::Value => Path::Value(name),
            Shape::Period => Path::Period(name),
            Shape::Source(i) => Path::Source(i, name),
            Shape::Archived(i, j) => Path::Archived(i, j, name),
        }
    }

    /// The field `name` of this object, with its path.
    fn field(self, i: usize) -> Path {
        self.path(self.fields()[i])
    }
}

// ---------------------------------------------------------------------------------------------
// The reader

/// Bytes being read; `at` is the next byte. `text` is valid UTF-8, and `at` only ever stops
/// on an ASCII byte or the end, so that slices of `text` fall on character boundaries.
struct Reader<'a> {
    text: &'a str,
    at: usize,
    /// Where each source's `,"archived":[...]` field lies in `text`, with the source's index.
    archived_fields: Vec<(usize, usize, usize)>,
}

fn not_canonical(what: impl fmt::Display) -> DecodeError {
    DecodeError(format!("entry is not in canonical form: {what}"))
}

fn invalid(path: Path, reason: impl fmt::Display) -> DecodeError {
    match path {
        Path::Entry(_) => DecodeError(format!("entry is invalid: field `{path}`: {reason}")),
        _ => DecodeError(format!(
            "entry's claim is invalid: field `{path}`: {reason}"
        )),
    }
}

/// A rule of the claim format broken inside object `path` (a claim, value, period or source),
/// whose message names the field relative to it.
fn broken_rule(outer: Path, error: FieldError) -> DecodeError {
    let field = match outer {
        Path::Claim("") => format!("claim.{}", error.field),
        other => format!("{other}.{}", error.field),
    };
    DecodeError(format!(
        "entry's claim is invalid: field `{field}`: {}",
        error.reason
    ))
}

fn is_white_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn eat(&mut self, literal: &[u8]) -> bool {
        if self
            .bytes()
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(literal))
        {
            self.at += literal.len();
            true
        } else {
            false
        }
    }

    /// Reads `"name":` (after a `,` unless `first`).
    fn eat_name(&mut self, name: &str, first: bool) -> bool {
        let comma = usize::from(!first);
        let len = comma + name.len() + 3;
        let Some(window) = self.bytes().get(self.at..self.at + len) else {
            return false;
        };
        let matches = (first || window[0] == b',')
            && window[comma] == b'"'
            && window[len - 2] == b'"'
            && window[len - 1] == b':'
            && &window[comma + 1..len - 2] == name.as_bytes();
        if matches {
            self.at += len;
        }
        matches
    }

    /// Says what is at `at`, where `expected` should have been.
    fn misplaced(&self, expected: &str) -> DecodeError {
        let position = self.at + 1;
        match self.peek() {
            None => DecodeError(format!(
                "entry ends early (byte {position}: expected {expected})"
            )),
            Some(b) if is_white_space(b) => not_canonical(format_args!(
                "white space at byte {position} (entries have none outside strings)"
            )),
            Some(_) if expected == "after the end of the entry" => not_canonical(format_args!(
                "bytes after the end of the entry (byte {position})"
            )),
            Some(b) => DecodeError(format!(
                "entry does not decode: {:?} at byte {position} where {expected} should be",
                char::from(b)
            )),
        }
    }

    /// Something other than the value of `path` is at `at`: white space, `null`, or a value
    /// of another type.
    fn wrong_value(&self, path: Path, expected: &str) -> DecodeError {
        let rest = self.bytes().get(self.at..).unwrap_or_default();
        match rest.first() {
            Some(b'n') if rest.starts_with(b"null") => not_canonical(format_args!(
                "field `{path}` is null (a field without a value is left out, never null)"
            )),
            Some(b'[') if rest.starts_with(b"[]") => not_canonical(format_args!(
                "field `{path}` is an empty list (an empty list is left out)"
            )),
            Some(b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'{' | b'[') => {
                let found = match rest[0] {
                    b'"' => "a string",
                    b'{' => "an object",
                    b'[' => "an array",
                    b't' | b'f' => "a boolean",
                    _ => "a number",
                };
                let stored_as_string = matches!(path, Path::Value("amount" | "low" | "high"));
                if stored_as_string && found == "a number" {
                    not_canonical(format_args!(
                        "field `{path}` is a number (decimals are stored as strings)"
                    ))
                } else {
                    invalid(path, format_args!("must be {expected}, not {found}"))
                }
            }
            _ => self.misplaced(&format!("the value of `{path}`")),
        }
    }

    /// A field was expected (`expected`, an index into `shape`'s fields, or the end of the
    /// object) but something else is here: say what.
    fn misfit(&self, shape: Shape, seen: u32, expected: Option<usize>) -> DecodeError {
        let fields = shape.fields();
        let bytes = self.bytes();
        let name_at = match bytes.get(self.at) {
            Some(b',') => self.at + 1,
            Some(b'"') => self.at,
            Some(b'}') => {
                return match expected {
                    Some(i) => not_canonical(format_args!("field `{}` is missing", shape.field(i))),
                    None => self.misplaced("`}`"),
                }
            }
            _ => {
                return self.misplaced(&match expected {
                    Some(i) => format!("field `{}`", shape.field(i)),
                    None => "`}`".to_owned(),
                })
            }
        };
        let white_space = |at: usize| {
            not_canonical(format_args!(
                "white space at byte {} (entries have none outside strings)",
                at + 1
            ))
        };
        if bytes.get(name_at).copied().is_some_and(is_white_space) {
            return white_space(name_at);
        }
        let Some((name, raw)) = lenient_string(bytes, name_at) else {
            return self.misplaced("a field name");
        };
        let after_name = name_at + raw.len() + 2;
        if bytes.get(after_name).copied().is_some_and(is_white_space) {
            return white_space(after_name);
        }
        let mut at = name_at + 1;
        while at < name_at + 1 + raw.len() {
            if bytes[at] == b'\\' {
                if let Err(why) = check_escape(bytes, at) {
                    return not_canonical(format_args!("{why} at byte {} in a field name", at + 1));
                }
                at += 1;
            }
            at += 1;
        }
        let named = |name: &str| match shape {
            Shape::Recorded | Shape::Revised => name.escape_debug().to_string(),
            _ => format!("{}.{}", shape.path(""), name.escape_debug()),
        };
        match fields.iter().position(|f| *f == name) {
            Some(j) if seen & (1 << j) != 0 => {
                not_canonical(format_args!("field `{}` appears twice", named(&name)))
            }
            Some(j) => {
                // A field of this object, in the wrong place: before one it must follow, or
                // after one that is missing.
                let missing = expected.filter(|&i| {
                    i < j && {
                        let quoted = format!("\"{}\":", fields[i]);
                        !self.text[self.at..].contains(&quoted)
                    }
                });
                match (missing, expected) {
                    (Some(i), _) => {
                        not_canonical(format_args!("field `{}` is missing", shape.field(i)))
                    }
                    (None, Some(i)) if i < j => not_canonical(format_args!(
                        "field `{}` is out of order (`{}` comes before it)",
                        named(&name),
                        fields[i]
                    )),
                    _ => match (j + 1..fields.len()).find(|k| seen & (1 << k) != 0) {
                        Some(k) => not_canonical(format_args!(
                            "field `{}` is out of order (it comes before `{}`)",
                            named(&name),
                            fields[k]
                        )),
                        None => {
                            not_canonical(format_args!("field `{}` is out of order", named(&name)))
                        }
                    },
                }
            }
            None => {
                let other = match shape {
                    Shape::Recorded => Some((REVISED_FIELDS, "claim_recorded")),
                    Shape::Revised => Some((RECORDED_FIELDS, "claim_revised")),
                    _ => None,
                };
                match other {
                    Some((other_fields, kind)) if other_fields.contains(&name.as_str()) => invalid(
                        Path::Entry("type"),
                        format_args!("a {kind} entry has no field `{name}`"),
                    ),
                    _ => not_canonical(format_args!("unknown field `{}`", named(&name))),
                }
            }
        }
    }

    /// A string, unescaped: borrowed unless it holds an escape. Every escape must be one that
    /// section 2 writes.
    fn string(&mut self, path: Path) -> Result<Cow<'a, str>, DecodeError> {
        if self.peek() != Some(b'"') {
            return Err(self.wrong_value(path, "a string"));
        }
        let bytes = self.bytes();
        let start = self.at + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            // Most strings hold no escape: find their end in one scan, then look for control
            // characters, which are never written as themselves, in another.
            let rest = bytes.get(at..).unwrap_or_default();
            let stop = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
            let raw = rest[..stop]
                .iter()
                .fold(false, |found, &b| found | (b < 0x20));
            at += match raw {
                true => rest.iter().position(|&b| b < 0x20).unwrap_or(stop),
                false => stop,
            };
            match bytes.get(at) {
                None => {
                    self.at = at;
                    return Err(self.misplaced(&format!("the end of `{path}`")));
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    check_escape(bytes, at).map_err(|why| {
                        not_canonical(format_args!("{why} at byte {} in `{path}`", at + 1))
                    })?;
                    escaped = true;
                    at += if bytes[at + 1] == b'u' { 6 } else { 2 };
                }
                Some(&b) => {
                    return Err(not_canonical(format_args!(
                        "the control character U+{b:04X} is written as itself at byte {} in \
                         `{path}` (it is written as an escape)",
                        at + 1
                    )));
                }
            }
        }
        self.at = at + 1;
        let raw = &self.text[start..at];
        Ok(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// A string that holds no escape: every field whose rules allow no `"`, `\` or control
    /// character (a subject, key, tag, date, decimal, hash, id or time).
    fn plain(
        &mut self,
        path: Path,
        mut check: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<&'a str, DecodeError> {
        match self.string(path)? {
            Cow::Borrowed(text) => check(text).map(|()| text).map_err(|why| invalid(path, why)),
            Cow::Owned(text) => Err(invalid(
                path,
                check(&text)
                    .err()
                    .unwrap_or_else(|| format!("{text:?} holds an escaped character")),
            )),
        }
    }

    /// A text field: at most `len_max` characters, not empty, no control character (but line
    /// breaks and tabs where `lines` allows).
    fn text(
        &mut self,
        path: Path,
        len_max: usize,
        lines: Lines,
    ) -> Result<Cow<'a, str>, DecodeError> {
        let text = self.string(path)?;
        check_nonempty_text("", &text, len_max, lines).map_err(|e| invalid(path, e.reason))?;
        Ok(text)
    }

    fn date(&mut self, path: Path) -> Result<DateView<'a>, DecodeError> {
        let mut span = None;
        let text = self.plain(path, |text| {
            crate::Date::span_of(text).map(|found| {
                span = Some(found);
            })
        })?;
        // `plain` succeeded, so the check ran and found the span.
        let span = span.ok_or_else(|| invalid(path, "is not a date"))?;
        Ok(DateView { text, span })
    }

    /// A whole number as section 2 writes it: digits, no sign, no leading zero, no fraction or
    /// exponent, at most `max`.
    fn integer(&mut self, path: Path, max: u64) -> Result<u64, DecodeError> {
        let bytes = self.bytes();
        let start = self.at;
        let form = || {
            not_canonical(format_args!(
                "field `{path}` is not written as section 2 writes integers (digits, without \
                 sign, leading zero, fraction or exponent)"
            ))
        };
        match bytes.get(start) {
            Some(b'0'..=b'9') => {}
            Some(b'-' | b'+') => return Err(form()),
            _ => return Err(self.wrong_value(path, "a whole number")),
        }
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = start + digits;
        if (digits > 1 && bytes[start] == b'0')
            || matches!(bytes.get(end), Some(b'.' | b'e' | b'E'))
        {
            return Err(form());
        }
        let value = bytes[start..end]
            .iter()
            .try_fold(0u64, |value, &d| {
                value.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .filter(|&value| value <= max)
            .ok_or_else(|| {
                invalid(
                    path,
                    format_args!("{} is larger than {max}", &self.text[start..end]),
                )
            })?;
        self.at = end;
        Ok(value)
    }

    fn entry(
        &mut self,
        on_source: &mut dyn FnMut(SourceView<'a>),
    ) -> Result<EntryView<'a>, DecodeError> {
        if self.bytes().starts_with("\u{feff}".as_bytes()) {
            return Err(not_canonical("it starts with a byte order mark"));
        }
        if !self.eat(b"{") {
            return Err(self.misplaced("`{`"));
        }
        // The shape is known once `type` is read: until then both agree.
        let mut object = Object::new(Shape::Revised);
        object.need(self, 0)?;
        let v = self.integer(Path::Entry("v"), u64::MAX)?;
        if v != u64::from(ENTRY_FORMAT_VERSION) {
            return Err(DecodeError(format!(
                "entry has format version {v}, expected {ENTRY_FORMAT_VERSION}"
            )));
        }
        object.need(self, 1)?;
        let seq = Seq(self.integer(Path::Entry("seq"), u64::MAX)?);
        if seq.0 == 0 {
            return Err(DecodeError(
                "entry has sequence number 0; numbering starts at 1".into(),
            ));
        }
        object.need(self, 2)?;
        let prev = EntryHash::parse(self.plain(Path::Entry("prev"), |_| Ok(()))?)
            .map_err(|why| invalid(Path::Entry("prev"), why))?;
        object.need(self, 3)?;
        let type_name = self.string(Path::Entry("type"))?;
        let revised = match &*type_name {
            "claim_recorded" => false,
            "claim_revised" => true,
            other => return Err(DecodeError(format!("entry has unknown type {:?}", other))),
        };
        if !revised {
            object.shape = Shape::Recorded;
        }
        object.need(self, 4)?;
        let recorded_at = Timestamp::parse(self.plain(Path::Entry("recorded_at"), |_| Ok(()))?)
            .map_err(|why| invalid(Path::Entry("recorded_at"), why))?;
        object.need(self, 5)?;
        let author = self.text(Path::Entry("author"), AUTHOR_LEN_MAX, Lines::One)?;
        object.need(self, 6)?;
        let claim_id = ClaimId::parse(self.plain(Path::Entry("claim_id"), |_| Ok(()))?)
            .map_err(|why| invalid(Path::Entry("claim_id"), why))?;
        let (event, note_at) = if revised {
            object.need(self, 7)?;
            let revision = self.integer(Path::Entry("revision"), u64::from(u32::MAX))?;
            if revision < 2 {
                return Err(invalid(
                    Path::Entry("revision"),
                    format_args!("is {revision}; a claim_revised makes revision 2 or later"),
                ));
            }
            object.need(self, 8)?;
            let kind = self.plain(Path::Entry("kind"), |text| {
                RevisionKind::parse(text).map(drop)
            })?;
            let kind =
                RevisionKind::parse(kind).map_err(|why| invalid(Path::Entry("kind"), why))?;
            object.need(self, 9)?;
            let reason = self.text(Path::Entry("reason"), REASON_LEN_MAX, Lines::Many)?;
            let event = EventView::Revised {
                revision: u32::try_from(revision).unwrap_or(u32::MAX),
                kind,
                reason,
            };
            (event, 10)
        } else {
            let key = if object.has(self, 7) {
                Some(self.plain(Path::Entry("key"), Key::check)?)
            } else {
                None
            };
            (EventView::Recorded { key }, 8)
        };
        let note = if object.has(self, note_at) {
            Some(self.text(Path::Entry("note"), NOTE_LEN_MAX, Lines::Many)?)
        } else {
            None
        };
        object.need(self, note_at + 1)?;
        let claim = self.claim(on_source)?;
        object.end(self)?;
        Ok(EntryView {
            seq,
            prev,
            recorded_at,
            author,
            claim_id,
            event,
            note,
            claim,
        })
    }

    /// The `[` of a list that is not empty (an empty list is left out).
    fn open_list(&mut self, path: Path) -> Result<(), DecodeError> {
        let bytes = self.bytes();
        if bytes.get(self.at) != Some(&b'[') || bytes.get(self.at + 1) == Some(&b']') {
            return Err(self.wrong_value(path, "an array"));
        }
        self.at += 1;
        Ok(())
    }

    fn open(&mut self, path: Path) -> Result<(), DecodeError> {
        if self.eat(b"{") {
            Ok(())
        } else {
            Err(self.wrong_value(path, "an object"))
        }
    }

    fn claim(
        &mut self,
        on_source: &mut dyn FnMut(SourceView<'a>),
    ) -> Result<ClaimView<'a>, DecodeError> {
        let start = self.at;
        self.open(Path::Claim(""))?;
        let mut object = Object::new(Shape::Claim);
        object.need(self, 0)?;
        let subject = self.plain(Path::Claim("subject"), Subject::check)?;
        object.need(self, 1)?;
        let claimant = self.text(Path::Claim("claimant"), CLAIMANT_LEN_MAX, Lines::One)?;
        object.need(self, 2)?;
        let statement = self.text(Path::Claim("statement"), STATEMENT_LEN_MAX, Lines::Many)?;
        let value = if object.has(self, 3) {
            Some(self.value()?)
        } else {
            None
        };
        let period = if object.has(self, 4) {
            Some(self.period()?)
        } else {
            None
        };
        let stated_on = if object.has(self, 5) {
            Some(self.date(Path::Claim("stated_on"))?)
        } else {
            None
        };
        let method = if object.has(self, 6) {
            Some(self.text(Path::Claim("method"), METHOD_LEN_MAX, Lines::Many)?)
        } else {
            None
        };
        let source_count = if object.has(self, 7) {
            self.sources(on_source)?
        } else {
            0
        };
        let status_start = self.at - start;
        object.need(self, 8)?;
        let status = self.plain(Path::Claim("status"), |text| Status::parse(text).map(drop))?;
        let status = Status::parse(status).map_err(|why| invalid(Path::Claim("status"), why))?;
        let status_end = self.at - start;
        let tags = if object.has(self, 9) {
            self.tags()?
        } else {
            ""
        };
        object.end(self)?;
        Ok(ClaimView {
            subject,
            claimant,
            statement,
            value,
            period,
            stated_on,
            method,
            source_count,
            status,
            tags,
            bytes: &self.bytes()[start..self.at],
            status_field: (status_start, status_end),
            archived_fields: std::mem::take(&mut self.archived_fields)
                .into_iter()
                .map(|(source, from, to)| (source, from - start, to - start))
                .collect(),
        })
    }

    fn value(&mut self) -> Result<ValueView<'a>, DecodeError> {
        self.open(Path::Claim("value"))?;
        let mut object = Object::new(Shape::Value);
        object.need(self, 0)?;
        let bound = self.plain(Path::Value("bound"), |text| Bound::parse(text).map(drop))?;
        let bound = Bound::parse(bound).map_err(|why| invalid(Path::Value("bound"), why))?;
        let mut decimal = |object: &mut Object, i: usize, name: &'static str| {
            if object.has(self, i) {
                self.plain(Path::Value(name), Decimal::check).map(Some)
            } else {
                Ok(None)
            }
        };
        let amount = decimal(&mut object, 1, "amount")?;
        let low = decimal(&mut object, 2, "low")?;
        let high = decimal(&mut object, 3, "high")?;
        let unit = if object.has(self, 4) {
            Some(self.string(Path::Value("unit"))?)
        } else {
            None
        };
        object.end(self)?;
        check_value(bound, amount, low, high, unit.as_deref())
            .map_err(|e| broken_rule(Path::Value(""), e))?;
        Ok(ValueView {
            bound,
            amount,
            low,
            high,
            unit,
        })
    }

    fn period(&mut self) -> Result<PeriodView<'a>, DecodeError> {
        self.open(Path::Claim("period"))?;
        let mut object = Object::new(Shape::Period);
        let from = if object.has(self, 0) {
            Some(self.date(Path::Period("from"))?)
        } else {
            None
        };
        let to = if object.has(self, 1) {
            Some(self.date(Path::Period("to"))?)
        } else {
            None
        };
        object.end(self)?;
        check_period(
            from.map(|d| (d.text, d.span.start)),
            to.map(|d| (d.text, d.span.end)),
        )
        .map_err(|e| broken_rule(Path::Period(""), e))?;
        Ok(PeriodView { from, to })
    }

    /// The sources list, each handed to `on_source`; returns how many there are.
    fn sources(&mut self, on_source: &mut dyn FnMut(SourceView<'a>)) -> Result<usize, DecodeError> {
        self.open_list(Path::Claim("sources"))?;
        let mut count = 0;
        loop {
            let source = self.source(count)?;
            count += 1;
            on_source(source);
            if self.eat(b"]") {
                break;
            }
            if !self.eat(b",") {
                return Err(self.misplaced("`,` or `]`"));
            }
        }
        check_source_count(count).map_err(|e| broken_rule(Path::Claim(""), e))?;
        Ok(count)
    }

    fn source(&mut self, i: usize) -> Result<SourceView<'a>, DecodeError> {
        self.open(Path::Source(i, ""))?;
        let shape = Shape::Source(i);
        let mut object = Object::new(shape);
        let mut source = SourceView::default();
        if object.has(self, 0) {
            source.url = Some(self.string(shape.field(0))?);
        }
        if object.has(self, 1) {
            source.publisher = Some(self.string(shape.field(1))?);
        }
        if object.has(self, 2) {
            source.title = Some(self.string(shape.field(2))?);
        }
        if object.has(self, 3) {
            source.published_on = Some(self.date(shape.field(3))?);
        }
        if object.has(self, 4) {
            source.retrieved_on = Some(self.date(shape.field(4))?);
        }
        if object.has(self, 5) {
            source.quote = Some(self.string(shape.field(5))?);
        }
        let field_start = self.at;
        if object.has(self, 6) {
            source.archived = self.archived(i)?;
            self.archived_fields.push((i, field_start, self.at));
        }
        object.end(self)?;
        check_source(
            source.url.as_deref(),
            source.publisher.as_deref(),
            source.title.as_deref(),
            source.quote.as_deref(),
        )
        .map_err(|e| broken_rule(Path::Source(i, ""), e))?;
        Ok(source)
    }

    /// The `archived` list of source `i`, checked.
    fn archived(&mut self, i: usize) -> Result<Vec<ArchivedView<'a>>, DecodeError> {
        self.open_list(Path::Source(i, "archived"))?;
        let mut items: Vec<ArchivedView<'a>> = Vec::new();
        loop {
            let j = items.len();
            // Past the limit the count alone refuses the list.
            if j == crate::evidence::ARCHIVED_COUNT_MAX {
                return Err(broken_rule(
                    Path::Source(i, ""),
                    FieldError::new(
                        "archived",
                        format!(
                            "has more than {} snapshots",
                            crate::evidence::ARCHIVED_COUNT_MAX
                        ),
                    ),
                ));
            }
            items.push(self.archived_item(i, j)?);
            if self.eat(b"]") {
                break;
            }
            if !self.eat(b",") {
                return Err(self.misplaced("`,` or `]`"));
            }
        }
        check_archived_list(items.len(), items.iter().map(|item| &item.sha256))
            .map_err(|e| broken_rule(Path::Source(i, ""), e))?;
        Ok(items)
    }

    fn archived_item(&mut self, i: usize, j: usize) -> Result<ArchivedView<'a>, DecodeError> {
        self.open(Path::Archived(i, j, ""))?;
        let shape = Shape::Archived(i, j);
        let mut object = Object::new(shape);
        object.need(self, 0)?;
        let sha256 = SnapshotHash::parse(self.plain(shape.field(0), |_| Ok(()))?)
            .map_err(|why| invalid(shape.field(0), why))?;
        object.need(self, 1)?;
        let size = self.integer(shape.field(1), u64::MAX)?;
        check_size(size).map_err(|why| invalid(shape.field(1), why))?;
        object.need(self, 2)?;
        let media_type = self.plain(shape.field(2), crate::evidence::check_media_type)?;
        object.need(self, 3)?;
        let captured_at = self.date(shape.field(3))?;
        let url = if object.has(self, 4) {
            Some(self.string(shape.field(4))?)
        } else {
            None
        };
        let status = if object.has(self, 5) {
            let status = self.integer(shape.field(5), u64::MAX)?;
            check_status(status).map_err(|why| invalid(shape.field(5), why))?;
            Some(u16::try_from(status).unwrap_or(u16::MAX))
        } else {
            None
        };
        object.end(self)?;
        check_archived_item(size, media_type, url.as_deref(), status)
            .map_err(|e| broken_rule(Path::Archived(i, j, ""), e))?;
        Ok(ArchivedView {
            sha256,
            size,
            media_type,
            captured_at,
            url,
            status,
        })
    }

    /// The tags list, checked; returns it as stored, between the brackets.
    fn tags(&mut self) -> Result<&'a str, DecodeError> {
        self.open_list(Path::Claim("tags"))?;
        let start = self.at;
        let mut count = 0;
        loop {
            let tag = self.plain(Path::Tag(count), check_label)?;
            // Past the limit the count alone refuses the list: no need to compare each tag
            // with every one before it.
            if count < TAG_COUNT_MAX {
                let before = self.text[start..self.at - tag.len() - 2]
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(|t| t.trim_matches('"'));
                check_tag_unique(count, tag, before)
                    .map_err(|e| broken_rule(Path::Claim(""), e))?;
            }
            count += 1;
            if self.peek() == Some(b']') {
                break;
            }
            if !self.eat(b",") {
                return Err(self.misplaced("`,` or `]`"));
            }
        }
        let tags = &self.text[start..self.at];
        self.at += 1;
        check_tag_count(count).map_err(|e| broken_rule(Path::Claim(""), e))?;
        Ok(tags)
    }
}

/// The fields of one object being read, in order: which were present, and where reading is.
struct Object {
    shape: Shape,
    /// The fields read so far, a bit each.
    seen: u32,
    first: bool,
}

impl Object {
    fn new(shape: Shape) -> Object {
        Object {
            shape,
            seen: 0,
            first: true,
        }
    }

    /// Reads the name of field `i` if it comes next.
    fn has(&mut self, reader: &mut Reader<'_>, i: usize) -> bool {
        let found = reader.eat_name(self.shape.fields()[i], self.first);
        if found {
            self.first = false;
            self.seen |= 1 << i;
        }
        found
    }

    /// Reads the name of field `i`, which must come next.
    fn need(&mut self, reader: &mut Reader<'_>, i: usize) -> Result<(), DecodeError> {
        if self.has(reader, i) {
            Ok(())
        } else {
            Err(reader.misfit(self.shape, self.seen, Some(i)))
        }
    }

    /// Reads the end of the object, which must come next.
    fn end(&mut self, reader: &mut Reader<'_>) -> Result<(), DecodeError> {
        if reader.eat(b"}") {
            Ok(())
        } else {
            Err(reader.misfit(self.shape, self.seen, None))
        }
    }
}

/// Checks the escape at `bytes[at]` (a backslash): one of `\"`, `\\`, `\b`, `\t`, `\n`,
/// `\f`, `\r`, or `\u00XX` with lowercase hex for a character below U+0020 that has no short
/// escape. Says what is wrong with any other.
fn check_escape(bytes: &[u8], at: usize) -> Result<(), String> {
    match bytes.get(at + 1) {
        Some(b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r') => Ok(()),
        Some(b'u') => {
            let hex = bytes.get(at + 2..at + 6).unwrap_or_default();
            // Escaped: what follows `\u` is input, and messages stay one line.
            let shown = String::from_utf8_lossy(hex).escape_debug().to_string();
            let value = std::str::from_utf8(hex)
                .ok()
                .filter(|h| h.len() == 4 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("the escape `\\u{shown}` is not valid JSON"))?;
            let short = match value {
                0x08 => Some("\\b"),
                0x09 => Some("\\t"),
                0x0a => Some("\\n"),
                0x0c => Some("\\f"),
                0x0d => Some("\\r"),
                0x22 => Some("\\\""),
                0x5c => Some("\\\\"),
                _ => None,
            };
            if let Some(short) = short {
                Err(format!(
                    "the escape `\\u{shown}` (U+{value:04X} is written `{short}`)"
                ))
            } else if value >= 0x20 {
                Err(format!(
                    "the escape `\\u{shown}` (U+{value:04X} is written as its UTF-8 bytes)"
                ))
            } else if hex.iter().any(u8::is_ascii_uppercase) {
                Err(format!(
                    "the escape `\\u{shown}` (its hex digits are written in lowercase)"
                ))
            } else {
                Ok(())
            }
        }
        Some(b'/') => Err("the escape `\\/` (`/` is written as itself)".to_owned()),
        Some(&other) => Err(format!(
            "the escape `\\{}`, which is not valid JSON",
            char::from(other).escape_debug()
        )),
        None => Err("a `\\` at the end of the entry".to_owned()),
    }
}

/// The text of a string whose escapes [`check_escape`] accepted.
fn unescape(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => text.push('\u{8}'),
            Some('t') => text.push('\t'),
            Some('n') => text.push('\n'),
            Some('f') => text.push('\u{c}'),
            Some('r') => text.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let value = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                text.extend(value);
            }
            Some(other) => text.push(other),
            None => {}
        }
    }
    text
}

/// The JSON string starting at `bytes[at]` (a `"`), read leniently, and its raw bytes: for
/// messages about a field name that is out of place.
fn lenient_string(bytes: &[u8], at: usize) -> Option<(String, &[u8])> {
    let rest = bytes.get(at..)?.strip_prefix(b"\"")?;
    let mut end = 0;
    while let Some(&b) = rest.get(end) {
        match b {
            b'"' => break,
            b'\\' => end += 2,
            _ => end += 1,
        }
    }
    let raw = rest.get(..end)?;
    Some((unescape(std::str::from_utf8(raw).ok()?), raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of docs/FORMAT.md, section 3.
    const RECORDED: &str = r#"{"v":1,"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","type":"claim_recorded","recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","claim_id":"0198a34d-2a00-75f1-82b8-54b4d5723eb2","key":"mz-named-dead","claim":{"subject":"russia/military-deaths","claimant":"Mediazona & BBC Russian Service","statement":"95,300 named Russian military dead","value":{"bound":"exact","amount":"95300","unit":"people"},"period":{"from":"2022-02-24","to":"2025-02-24"},"stated_on":"2025-02-24","sources":[{"publisher":"AFP","quote":"currently stands at 95,300"}],"status":"active"}}"#;
    const REVISED: &str = r#"{"v":1,"seq":2,"prev":"4eab37672d6b2c4b921228097743a2193168a2a333d6318648adb8c858d4b7f3","type":"claim_revised","recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","claim_id":"0198a34d-2a00-75f1-82b8-54b4d5723eb2","revision":2,"kind":"update","reason":"List updated to 31 July 2025","claim":{"subject":"russia/military-deaths","claimant":"Mediazona & BBC Russian Service","statement":"121,507 named Russian military dead","value":{"bound":"exact","amount":"121507","unit":"people"},"period":{"from":"2022-02-24","to":"2025-07-31"},"stated_on":"2025-08","sources":[{"publisher":"AFP","quote":"currently stands at 95,300"}],"status":"active"}}"#;

    #[test]
    fn canonical_entries_decode_and_encode_to_the_same_bytes() {
        for line in [
            RECORDED,
            REVISED,
            // Every escape section 2 writes, non-ASCII text, a range, every source field.
            &RECORDED.replace(
                r#""claimant":"Mediazona & BBC Russian Service""#,
                r#""claimant":"\"Zona\" \\ “Медиазона” 🎉""#,
            ),
            &RECORDED.replace(
                r#""statement":"95,300 named Russian military dead""#,
                r#""statement":"line\nline\ttab\rreturn""#,
            ),
            &RECORDED.replace(
                r#""value":{"bound":"exact","amount":"95300","unit":"people"}"#,
                r#""value":{"bound":"range","low":"-0.5","high":"12"}"#,
            ),
            &RECORDED.replace(
                r#"{"publisher":"AFP","quote":"currently stands at 95,300"}"#,
                r#"{"url":"https://example.org/a?b=c","publisher":"P","title":"T","published_on":"2025","retrieved_on":"2025-08-12T10:30:00.5+03:00","quote":"q"},{"url":"http://x.org"}"#,
            ),
            &RECORDED.replace(r#""status":"active""#, r#""status":"disputed","tags":["a","b.c"]"#),
            &RECORDED.replace(r#""key":"mz-named-dead","#, r#""note":"n","#),
            &REVISED.replace(r#""reason":"List updated to 31 July 2025","#, r#""reason":"r","note":"n","#),
            &REVISED.replace(r#""kind":"update""#, r#""kind":"evidence""#).replace(
                r#""quote":"currently stands at 95,300"}"#,
                &format!(r#""quote":"currently stands at 95,300","archived":[{ARCHIVED},{FETCHED}]}}"#),
            ),
        ] {
            let entry = Entry::decode(line.as_bytes()).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_eq!(String::from_utf8(entry.encode()).expect("UTF-8"), line);
        }
    }

    /// `base` with its one occurrence of `from` replaced by `to`, refused with a message that
    /// holds `expected`.
    #[track_caller]
    fn check(base: &str, from: &str, to: &str, expected: &str) {
        assert_eq!(base.matches(from).count(), 1, "{from:?} must occur once");
        let bad = base.replacen(from, to, 1);
        let error = Entry::decode(bad.as_bytes()).expect_err(&bad).to_string();
        assert!(error.contains(expected), "{from} -> {to}: {error}");
        assert!(!error.chars().any(char::is_control), "{error:?}");
    }

    const ARCHIVED: &str = r#"{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":12,"media_type":"application/pdf","captured_at":"2025-08-13"}"#;
    const FETCHED: &str = r#"{"sha256":"0e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85","size":4096,"media_type":"application/warc","captured_at":"2025-08-13T12:00:00Z","url":"https://example.org/a","status":200}"#;

    #[test]
    fn archived_lists_are_read_strictly() {
        let base = RECORDED.replace(
            r#""quote":"currently stands at 95,300"}"#,
            &format!(r#""quote":"currently stands at 95,300","archived":[{ARCHIVED}]}}"#),
        );
        let entry = Entry::decode(base.as_bytes()).expect("valid");
        assert_eq!(entry.encode(), base.as_bytes());
        let b = base.as_str();
        check(
            b,
            r#""size":12"#,
            r#""size":012"#,
            "field `claim.sources[0].archived[0].size` is not written as section 2 writes integers",
        );
        check(
            b,
            r#""size":12"#,
            r#""size":"12""#,
            "field `claim.sources[0].archived[0].size`: must be a whole number, not a string",
        );
        check(
            b,
            r#""size":12"#,
            r#""size":0"#,
            "field `claim.sources[0].archived[0].size`: is 0",
        );
        check(b, "application/pdf", "Application/pdf", "field `claim.sources[0].archived[0].media_type`: \"Application/pdf\" is not a media type");
        check(
            b,
            r#""captured_at":"2025-08-13""#,
            r#""captured_at":"2025-08-13","status":200"#,
            "field `claim.sources[0].archived[0].status`: is the status of a fetch",
        );
        check(
            b,
            r#","size":12"#,
            "",
            "field `claim.sources[0].archived[0].size` is missing",
        );
        check(
            b,
            r#""sha256":"e3b0"#,
            r#""sha256":"E3b0"#,
            "field `claim.sources[0].archived[0].sha256`",
        );
        check(
            b,
            r#"{"sha256""#,
            r#"{"sha1":"x","sha256""#,
            "unknown field `claim.sources[0].archived[0].sha1`",
        );
        check(
            b,
            &format!("[{ARCHIVED}]"),
            "[]",
            "field `claim.sources[0].archived` is an empty list",
        );
        check(
            b,
            &format!("[{ARCHIVED}]"),
            &format!("[{ARCHIVED},{ARCHIVED}]"),
            "field `claim.sources[0].archived[1].sha256`: snapshot e3b0c442",
        );
        let view = EntryView::parse(base.as_bytes()).expect("valid");
        let without: Vec<u8> = view
            .claim
            .bytes_without_status_and_archived()
            .collect::<Vec<_>>()
            .concat();
        let plain = EntryView::parse(RECORDED.as_bytes()).expect("valid");
        let (before, after) = plain.claim.bytes_without_status();
        assert_eq!(without, [before, after].concat());
        let fields: Vec<(usize, &[u8])> = view.claim.archived_fields().collect();
        assert_eq!(
            fields,
            vec![(0, format!(r#","archived":[{ARCHIVED}]"#).as_bytes())]
        );
    }

    #[test]
    fn one_content_one_byte_form() {
        let r = RECORDED;
        let not = "entry is not in canonical form: ";
        // White space, anywhere outside strings.
        check(
            r,
            r#""author":"ana""#,
            r#""author": "ana""#,
            &format!("{not}white space at byte 167"),
        );
        check(
            r,
            r#","author""#,
            r#", "author""#,
            "white space at byte 158",
        );
        check(r, r#"{"v":1"#, r#" {"v":1"#, "white space at byte 1 ");
        check(
            r,
            r#""active"}}"#,
            "\"active\"}}\n",
            "white space at byte 604",
        );
        check(r, r#""active"}}"#, "\"active\" }}", "white space");
        check(r, r#"{"v":1"#, "{\r\n\"v\":1", "white space at byte 2");
        // Escapes other than the ones section 2 writes.
        check(
            r,
            r#""ana""#,
            r#""\u0061na""#,
            "the escape `\\u0061` (U+0061 is written as its UTF-8 bytes) at byte 168 in `author`",
        );
        check(
            r,
            r#""AFP""#,
            r#""A\/FP""#,
            "the escape `\\/` (`/` is written as itself)",
        );
        check(
            r,
            r#""ana""#,
            r#""an\u001Ba""#,
            "the escape `\\u001B` (its hex digits are written in lowercase)",
        );
        check(
            r,
            "95,300 named",
            r"95,300\u000anamed",
            "the escape `\\u000a` (U+000A is written `\\n`) at byte",
        );
        check(
            r,
            "95,300 named",
            r"95,300\u0022named",
            "(U+0022 is written `\\\"`)",
        );
        check(
            r,
            "95,300 named",
            r"95,300\u005cnamed",
            "(U+005C is written `\\\\`)",
        );
        check(
            r,
            "95,300 named",
            r"95,300 \ud83c\udf89 named",
            "the escape `\\ud83c` (U+D83C is written as its UTF-8 bytes)",
        );
        check(
            r,
            "95,300 named",
            r"95,300\x named",
            "the escape `\\x`, which is not valid JSON",
        );
        check(
            r,
            "95,300 named",
            "95,300\tnamed",
            "the control character U+0009 is written as itself",
        );
        check(r, r#""key":"#, r#""k\u0065y":"#, "the escape `\\u0065` (U+0065 is written as its UTF-8 bytes) at byte 225 in a field name");
        // null, and empty lists.
        check(
            r,
            r#""key":"mz-named-dead","#,
            r#""key":"mz-named-dead","note":null,"#,
            &format!("{not}field `note` is null"),
        );
        check(
            r,
            r#""stated_on":"2025-02-24""#,
            r#""stated_on":null"#,
            "field `claim.stated_on` is null",
        );
        check(
            r,
            r#","unit":"people""#,
            r#","unit":null"#,
            "field `claim.value.unit` is null",
        );
        check(
            r,
            r#""claimant":"Mediazona & BBC Russian Service""#,
            r#""claimant":null"#,
            "field `claim.claimant` is null",
        );
        check(
            r,
            r#"[{"publisher":"AFP","quote":"currently stands at 95,300"}]"#,
            "[]",
            &format!("{not}field `claim.sources` is an empty list"),
        );
        check(
            r,
            r#""status":"active""#,
            r#""status":"active","tags":[]"#,
            "field `claim.tags` is an empty list",
        );
        // Fields out of order, twice, unknown, or missing.
        check(
            r,
            r#""recorded_at":"2025-08-13T12:00:00.000000Z","author":"ana","#,
            r#""author":"ana","recorded_at":"2025-08-13T12:00:00.000000Z","#,
            "field `author` is out of order (`recorded_at` comes before it)",
        );
        check(
            r,
            r#""bound":"exact","amount":"95300""#,
            r#""amount":"95300","bound":"exact""#,
            "field `claim.value.amount` is out of order (`bound` comes before it)",
        );
        check(
            r,
            r#""amount":"95300","unit":"people""#,
            r#""unit":"people","amount":"95300""#,
            "field `claim.value.amount` is out of order (it comes before `unit`)",
        );
        check(
            r,
            r#","status":"active""#,
            "",
            "field `claim.status` is missing",
        );
        check(
            r,
            r#""author":"ana""#,
            r#""author":"ana","author":"ana""#,
            "field `author` appears twice",
        );
        check(
            r,
            r#""author":"ana""#,
            r#""author":"ana","extra":1"#,
            "unknown field `extra`",
        );
        check(
            r,
            r#""quote":"currently"#,
            r#""page":"#,
            "unknown field `claim.sources[0].page`",
        );
        check(
            r,
            r#""key":"mz-named-dead","#,
            r#""revision":1,"#,
            "a claim_recorded entry has no field `revision`",
        );
        check(
            REVISED,
            r#""kind":"update","#,
            "",
            "field `kind` is missing",
        );
        // Numbers.
        check(
            REVISED,
            r#""seq":2"#,
            r#""seq":02"#,
            "field `seq` is not written as section 2 writes integers",
        );
        check(
            REVISED,
            r#""seq":2"#,
            r#""seq":2.0"#,
            "field `seq` is not written as section 2 writes integers",
        );
        check(
            REVISED,
            r#""seq":2"#,
            r#""seq":2e0"#,
            "field `seq` is not written",
        );
        check(
            REVISED,
            r#""seq":2"#,
            r#""seq":-2"#,
            "field `seq` is not written",
        );
        check(
            REVISED,
            r#""revision":2"#,
            r#""revision":2.0"#,
            "field `revision` is not written",
        );
        check(
            REVISED,
            r#""revision":2"#,
            r#""revision":4294967296"#,
            "field `revision`: 4294967296 is larger than 4294967295",
        );
        check(
            REVISED,
            r#""seq":2"#,
            r#""seq":"2""#,
            "field `seq`: must be a whole number, not a string",
        );
        check(r, r#""v":1"#, r#""v":1E0"#, "field `v` is not written");
        check(
            r,
            r#""amount":"95300""#,
            r#""amount":95300"#,
            "field `claim.value.amount` is a number (decimals are stored as strings)",
        );
        // Fixed forms.
        check(
            REVISED,
            "4eab37672d6b2c4b",
            "4EAB37672D6B2C4B",
            "field `prev`: \"4EAB37672D6B2C4B",
        );
        check(r, "0198a34d-2a00-75f1", "0198A34D-2A00-75F1", "field `claim_id`: \"0198A34D-2A00-75F1-82b8-54b4d5723eb2\" is not a claim id in lowercase hyphenated form");
        check(
            r,
            "0198a34d-2a00-75f1-82b8",
            "0198a34d-2a00-75f1-02b8",
            "is not a version 7 UUID",
        );
        for time in [
            "2025-08-13T12:00:00Z",
            "2025-08-13t12:00:00.000000z",
            "2025-08-13T12:00:00.000000+00:00",
            "2025-08-13T12:00:00.000000000Z",
            "2025-08-13T12:00:60.000000Z",
        ] {
            check(
                r,
                "2025-08-13T12:00:00.000000Z",
                time,
                "field `recorded_at`: ",
            );
        }
        // Around the object.
        check(
            r,
            r#"{"v":1"#,
            "\u{feff}{\"v\":1",
            "it starts with a byte order mark",
        );
        check(
            r,
            r#""active"}}"#,
            r#""active"}}}"#,
            "bytes after the end of the entry (byte 604)",
        );
        check(r, r#""active"}}"#, r#""active"}"#, "entry ends early");
        check(
            r,
            r#""claimant":"Mediazona & BBC Russian Service""#,
            r#""claimant":true"#,
            "field `claim.claimant`: must be a string, not a boolean",
        );
    }

    #[test]
    fn rules_of_the_claim_format_hold_in_entries() {
        let r = RECORDED;
        for (from, to, expected) in [
            (
                r#""subject":"russia/military-deaths""#,
                r#""subject":"Russia""#,
                "entry's claim is invalid: field `claim.subject`: \"Russia\" is not a subject path",
            ),
            (
                r#""statement":"95,300 named Russian military dead""#,
                r#""statement":" ""#,
                "field `claim.statement`: is empty",
            ),
            (
                r#""amount":"95300""#,
                r#""amount":"095300""#,
                "field `claim.value.amount`: \"095300\" has a leading zero",
            ),
            (
                r#""bound":"exact","amount":"95300""#,
                r#""bound":"range","low":"2","high":"1""#,
                "field `claim.value.low`: 2 is greater than high 1",
            ),
            (
                r#""to":"2025-02-24""#,
                r#""to":"2021""#,
                "field `claim.period.from`: 2022-02-24 is after to 2021",
            ),
            (
                r#""stated_on":"2025-02-24""#,
                r#""stated_on":"2025-02-30""#,
                "field `claim.stated_on`: \"2025-02-30\" is not a calendar date",
            ),
            (
                r#"{"publisher":"AFP","#,
                "{",
                "field `claim.sources[0].url`: a source needs `url`, `publisher` or both",
            ),
            (
                r#""status":"active""#,
                r#""status":"gone""#,
                "field `claim.status`: \"gone\" is not a status",
            ),
            (
                r#""status":"active""#,
                r#""status":"active","tags":["a","b","a"]"#,
                "field `claim.tags[2]`: a is listed twice",
            ),
            (
                r#""key":"mz-named-dead""#,
                r#""key":"0198a34d-2a00-75f1-82b8-54b4d5723eb3""#,
                "entry is invalid: field `key`: ",
            ),
            (
                r#""author":"ana""#,
                r#""author":"a\nb""#,
                "entry is invalid: field `author`: contains the control character",
            ),
            (
                r#""type":"claim_recorded""#,
                r#""type":"claim_deleted""#,
                "entry has unknown type \"claim_deleted\"",
            ),
            (
                r#""v":1"#,
                r#""v":2"#,
                "entry has format version 2, expected 1",
            ),
            (r#""seq":1"#, r#""seq":0"#, "entry has sequence number 0"),
        ] {
            check(r, from, to, expected);
        }
        check(
            REVISED,
            r#""revision":2"#,
            r#""revision":1"#,
            "field `revision`: is 1; a claim_revised makes revision 2 or later",
        );
        let tags: Vec<String> = (0..=TAG_COUNT_MAX).map(|i| format!("\"t{i}\"")).collect();
        check(
            r,
            r#""status":"active""#,
            &format!(r#""status":"active","tags":[{}]"#, tags.join(",")),
            "field `claim.tags`: has 65 tags; the limit is 64",
        );
    }

    /// Found by the `entry_decode` fuzz target: a `\u` followed by a NUL was shown raw in the
    /// message. (The input is a seed, `fuzz/seeds/entry_decode/escape-with-nul.json`.)
    #[test]
    fn messages_show_no_control_characters() {
        for bytes in [
            &b"{\"vnline\x1ett;bar\\utbb\x00}}"[..],
            b"{\"v\":1,\"seq\":1,\"prev\":\"\\u00\x07\x01\"",
            b"{\"v\":1,\"\x1b[2J\":1}",
            b"{\"v\":1,\"seq\":1,\"prev\":\"\x00\"}",
        ] {
            let error = Entry::decode(bytes).expect_err("not an entry").to_string();
            assert!(!error.chars().any(char::is_control), "{error:?}");
        }
    }

    #[test]
    fn views_give_what_verify_reads() {
        let line = RECORDED.replace(
            r#""status":"active""#,
            r#""status":"disputed","tags":["a","b.c"]"#,
        );
        let view = EntryView::parse(line.as_bytes()).expect("a view");
        assert_eq!(view.claim.tags().collect::<Vec<_>>(), ["a", "b.c"]);
        assert_eq!(view.claim.source_count, 1);
        assert_eq!(
            view.event,
            EventView::Recorded {
                key: Some("mz-named-dead")
            }
        );
        let claim_start = line.find(r#"{"subject""#).expect("a claim");
        assert_eq!(
            view.claim.bytes(),
            &line.as_bytes()[claim_start..line.len() - 1]
        );
        let (before, after) = view.claim.bytes_without_status();
        assert!(
            before.ends_with(b"}]"),
            "{}",
            String::from_utf8_lossy(before)
        );
        assert_eq!(after, br#","tags":["a","b.c"]}"#);
        assert!(matches!(view.claim.claimant, Cow::Borrowed(_)));
        let escaped = RECORDED.replace("Mediazona &", r#"\"Mediazona\" &"#);
        let view = EntryView::parse(escaped.as_bytes()).expect("a view");
        assert_eq!(view.claim.claimant, "\"Mediazona\" & BBC Russian Service");
    }
}
