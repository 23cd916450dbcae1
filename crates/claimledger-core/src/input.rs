//! The claim input format (docs/FORMAT.md, "Input"): one JSON object per record or revise.
//!
//! A line is read in two steps. First serde_json reads it into [`Line`], typed slots that borrow
//! every string holding no escape, one per field of either operation, each knowing whether the
//! field was left out, `null` (which a revise reads as "remove"), a value of the expected type,
//! or something else (kept as JSON, for the message). Only syntax fails here, and a field named
//! twice at any depth. Then the slots are checked in a fixed order, so that every error names
//! the exact field (`sources[1].url`) and says why in words a user can act on.

use crate::claim::{check_nonempty_text, check_text, limits::*, Lines};
use crate::evidence::{check_size, check_status, Archived, SnapshotHash};
use crate::{
    Bound, Claim, Date, Decimal, FieldError, Key, Period, Source, Status, Subject, Tag, Value,
};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use std::borrow::Cow;

/// One line of input, checked against the format but not yet against the ledger.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Record(RecordCommand),
    Revise(ReviseCommand),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordCommand {
    pub key: Option<Key>,
    pub claim: Claim,
    pub author: Option<String>,
    pub note: Option<String>,
}

/// Why a claim is revised.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    /// The claimant published a new figure or wording.
    #[default]
    Update,
    /// The ledger's own entry was wrong.
    Correction,
    /// Only the status changes.
    Status,
    /// Only the snapshots of the sources (their `archived` lists) change.
    Evidence,
}

impl RevisionKind {
    pub const ALL: [RevisionKind; 4] = [
        RevisionKind::Update,
        RevisionKind::Correction,
        RevisionKind::Status,
        RevisionKind::Evidence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Update => "update",
            RevisionKind::Correction => "correction",
            RevisionKind::Status => "status",
            RevisionKind::Evidence => "evidence",
        }
    }

    pub fn parse(text: &str) -> Result<RevisionKind, String> {
        RevisionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "{text:?} is not a revision kind; use update, correction, status or evidence"
                )
            })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReviseCommand {
    /// The claim's id or key, as given.
    pub claim: String,
    pub reason: String,
    pub kind: RevisionKind,
    pub expected_revision: Option<u32>,
    pub changes: ClaimChanges,
    pub author: Option<String>,
    pub note: Option<String>,
}

/// The fields a revise sets. `None`: carried over. For optional fields, `Some(None)`: removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimChanges {
    pub subject: Option<Subject>,
    pub claimant: Option<String>,
    pub statement: Option<String>,
    pub value: Option<Option<Value>>,
    pub period: Option<Option<Period>>,
    pub stated_on: Option<Option<Date>>,
    pub method: Option<Option<String>>,
    pub sources: Option<Vec<Source>>,
    pub status: Option<Status>,
    pub tags: Option<Vec<Tag>>,
}

impl ClaimChanges {
    /// The claim that results from applying these changes to `claim`, validated whole.
    pub fn apply(&self, claim: &Claim) -> Result<Claim, FieldError> {
        fn pick<T: Clone>(change: &Option<T>, current: &T) -> T {
            change.as_ref().unwrap_or(current).clone()
        }
        let next = Claim {
            subject: pick(&self.subject, &claim.subject),
            claimant: pick(&self.claimant, &claim.claimant),
            statement: pick(&self.statement, &claim.statement),
            value: pick(&self.value, &claim.value),
            period: pick(&self.period, &claim.period),
            stated_on: pick(&self.stated_on, &claim.stated_on),
            method: pick(&self.method, &claim.method),
            sources: pick(&self.sources, &claim.sources),
            status: pick(&self.status, &claim.status),
            tags: pick(&self.tags, &claim.tags),
        };
        next.validate()?;
        Ok(next)
    }

    /// The names of the fields this change sets, other than `status`.
    pub fn fields_other_than_status(&self) -> Vec<&'static str> {
        let set = [
            ("subject", self.subject.is_some()),
            ("claimant", self.claimant.is_some()),
            ("statement", self.statement.is_some()),
            ("value", self.value.is_some()),
            ("period", self.period.is_some()),
            ("stated_on", self.stated_on.is_some()),
            ("method", self.method.is_some()),
            ("sources", self.sources.is_some()),
            ("tags", self.tags.is_some()),
        ];
        set.into_iter()
            .filter(|(_, is_set)| *is_set)
            .map(|(name, _)| name)
            .collect()
    }
}

/// A line that breaks the input format: the field at fault (if one is) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Field(#[from] FieldError),
    #[error("{0}")]
    Syntax(String),
}

impl InputError {
    fn field(field: &str, reason: impl Into<String>) -> InputError {
        InputError::Field(FieldError::new(field, reason))
    }
}

/// The fields a record may have.
const RECORD_FIELDS: &[&str] = &[
    "op",
    "key",
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
    "author",
    "note",
];

/// The fields only a revise has.
const REVISE_ONLY_FIELDS: &[&str] = &["claim", "reason", "kind", "expected_revision"];

/// Parses one input object from JSON text.
pub fn parse_command(text: &str) -> Result<Command, InputError> {
    let line: Given<Line<'_>> =
        serde_json::from_str(text).map_err(|e| InputError::Syntax(json_error(&e)))?;
    command_from_line(line)
}

/// Parses one input object from parsed JSON.
pub fn command_from_json(json: &Json) -> Result<Command, InputError> {
    // A `Value` has no syntax to get wrong and no field twice: reading it cannot fail.
    let line = Given::<Line<'_>>::deserialize(json)
        .map_err(|e| InputError::Syntax(crate::escape_controls(&e.to_string())))?;
    command_from_line(line)
}

/// Parses JSON text as the input format reads it: like [`serde_json::from_str`], except that an
/// object naming a field twice is refused (which of the two would count is ambiguous).
pub fn parse_json(text: &str) -> Result<Json, InputError> {
    serde_json::from_str::<Unique>(text)
        .map(|unique| unique.0)
        .map_err(|e| InputError::Syntax(json_error(&e)))
}

fn json_error(error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Eof => {
            format!("the JSON ends too early (column {})", error.column())
        }
        // The only data errors come from the readers here: a field named twice. The message is
        // theirs; serde_json adds the position.
        serde_json::error::Category::Data => {
            let message = error.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(message, _)| message);
            format!("{message} (column {})", error.column())
        }
        _ => format!("invalid JSON: {error}"),
    }
}

fn duplicate<E: serde::de::Error>(name: &str) -> E {
    // Escaped: the name comes from the input and could hold control characters.
    E::custom(format_args!("duplicate field `{}`", name.escape_debug()))
}

// ---------------------------------------------------------------------------------------------
// Step 1: the line's fields, as given

/// A field as a line gives it.
#[derive(Debug, Default)]
enum Given<T> {
    /// Left out.
    #[default]
    Absent,
    Null,
    Value(T),
    /// A value of another type than the field takes, for the message.
    Other(Json),
}

/// What a field takes: the JSON types it reads into `Self`. Any other type is kept as JSON
/// (read by [`Unique`], which refuses fields named twice there too), to be refused later with
/// a message that names the field.
trait Shape<'de>: Sized {
    fn string(text: Cow<'de, str>) -> Given<Self> {
        Given::Other(Json::String(text.into_owned()))
    }

    fn number(number: serde_json::Number) -> Given<Self> {
        Given::Other(Json::Number(number))
    }

    fn map<A: MapAccess<'de>>(map: A) -> Result<Given<Self>, A::Error> {
        UniqueVisitor.visit_map(map).map(Given::Other)
    }

    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Given<Self>, A::Error> {
        UniqueVisitor.visit_seq(seq).map(Given::Other)
    }

    /// The error for a value of another type.
    fn wrong(json: &Json, field: &Path<'_>) -> FieldError;
}

impl<'de, T: Shape<'de>> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GivenVisitor(std::marker::PhantomData))
    }
}

struct GivenVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Shape<'de>> Visitor<'de> for GivenVisitor<T> {
    type Value = Given<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Given<T>, E> {
        Ok(Given::Other(Json::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Given<T>, E> {
        Ok(T::number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Given<T>, E> {
        Ok(T::number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Given<T>, E> {
        Ok(match serde_json::Number::from_f64(value) {
            Some(number) => T::number(number),
            None => Given::Null,
        })
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Given<T>, E> {
        Ok(T::string(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Given<T>, E> {
        Ok(T::string(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Given<T>, E> {
        Ok(T::string(Cow::Owned(value)))
    }

    fn visit_none<E>(self) -> Result<Given<T>, E> {
        Ok(Given::Null)
    }

    fn visit_unit<E>(self) -> Result<Given<T>, E> {
        Ok(Given::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Given<T>, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Given<T>, A::Error> {
        T::map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Given<T>, A::Error> {
        T::seq(seq)
    }
}

/// A text field.
type Text<'a> = Cow<'a, str>;

impl<'de> Shape<'de> for Cow<'de, str> {
    fn string(text: Cow<'de, str>) -> Given<Self> {
        Given::Value(text)
    }

    fn wrong(json: &Json, field: &Path<'_>) -> FieldError {
        field.error(format!("must be a string, got {}", json_kind(json)))
    }
}

/// A decimal, given as a JSON string or a JSON number (refused later unless an integer).
#[derive(Debug)]
enum Amount<'a> {
    Text(Cow<'a, str>),
    Number(serde_json::Number),
}

impl<'de> Shape<'de> for Amount<'de> {
    fn string(text: Cow<'de, str>) -> Given<Self> {
        Given::Value(Amount::Text(text))
    }

    fn number(number: serde_json::Number) -> Given<Self> {
        Given::Value(Amount::Number(number))
    }

    fn wrong(json: &Json, field: &Path<'_>) -> FieldError {
        field.error(format!(
            "must be a decimal string or an integer, got {}",
            json_kind(json)
        ))
    }
}

/// A field read as JSON whatever its type (`expected_revision`, whose message shows it).
impl<'de> Shape<'de> for Json {
    fn string(text: Cow<'de, str>) -> Given<Self> {
        Given::Value(Json::String(text.into_owned()))
    }

    fn number(number: serde_json::Number) -> Given<Self> {
        Given::Value(Json::Number(number))
    }

    fn map<A: MapAccess<'de>>(map: A) -> Result<Given<Self>, A::Error> {
        UniqueVisitor.visit_map(map).map(Given::Value)
    }

    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Given<Self>, A::Error> {
        UniqueVisitor.visit_seq(seq).map(Given::Value)
    }

    fn wrong(json: &Json, field: &Path<'_>) -> FieldError {
        field.error(format!("cannot be {}", json_kind(json)))
    }
}

/// A list field: each item as given.
impl<'de, T: Shape<'de>> Shape<'de> for Vec<Given<T>> {
    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Given<Self>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
        while let Some(item) = seq.next_element::<Given<T>>()? {
            items.push(item);
        }
        Ok(Given::Value(items))
    }

    fn wrong(json: &Json, field: &Path<'_>) -> FieldError {
        field.error(format!("must be an array, got {}", json_kind(json)))
    }
}

/// A field name, borrowed when it holds no escape.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a field name")
            }

            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E>(self, value: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// The names of an object's fields that the format does not know: each once (a second is a
/// duplicate), and the first in alphabetical order, which is the one an error names.
#[derive(Debug, Default)]
struct Unknown<'a> {
    names: std::collections::HashSet<Cow<'a, str>>,
}

impl<'a> Unknown<'a> {
    /// Notes an unknown field and reads (and discards) its value.
    fn read<'de: 'a, A: MapAccess<'de>>(
        &mut self,
        name: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if self.names.contains(&name) {
            return Err(duplicate(&name));
        }
        map.next_value::<Unique>()?;
        self.names.insert(name);
        Ok(())
    }

    /// The first unknown field, alphabetically, among these and `more`.
    fn first<'s>(&'s self, more: impl Iterator<Item = &'s str>) -> Option<&'s str> {
        self.names
            .iter()
            .map(|name| name.as_ref())
            .chain(more)
            .min()
    }
}

/// Declares the struct of an object's fields and reads it from a JSON object: each known field
/// into its slot (a second time is a duplicate), the others noted as unknown.
macro_rules! fields {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty => $json:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        struct $name<'a> {
            $($field: Given<$ty>,)*
            unknown: Unknown<'a>,
        }

        impl<'de> Shape<'de> for $name<'de> {
            fn map<A: MapAccess<'de>>(mut map: A) -> Result<Given<Self>, A::Error> {
                let mut object = $name::default();
                while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                    match &*name {
                        $($json => {
                            if !matches!(object.$field, Given::Absent) {
                                return Err(duplicate(&name));
                            }
                            object.$field = map.next_value()?;
                        })*
                        _ => object.unknown.read(name, &mut map)?,
                    }
                }
                Ok(Given::Value(object))
            }

            fn wrong(json: &Json, field: &Path<'_>) -> FieldError {
                field.error(format!("must be an object, got {}", json_kind(json)))
            }
        }
    };
}

fields!(
    /// An input line: every field of either operation.
    Line {
        op: Text<'a> => "op",
        key: Text<'a> => "key",
        subject: Text<'a> => "subject",
        claimant: Text<'a> => "claimant",
        statement: Text<'a> => "statement",
        value: ValueFields<'a> => "value",
        period: PeriodFields<'a> => "period",
        stated_on: Text<'a> => "stated_on",
        method: Text<'a> => "method",
        sources: Vec<Given<SourceFields<'a>>> => "sources",
        status: Text<'a> => "status",
        tags: Vec<Given<Text<'a>>> => "tags",
        author: Text<'a> => "author",
        note: Text<'a> => "note",
        claim: Text<'a> => "claim",
        reason: Text<'a> => "reason",
        kind: Text<'a> => "kind",
        expected_revision: Json => "expected_revision",
    }
);

fields!(ValueFields {
    amount: Amount<'a> => "amount",
    low: Amount<'a> => "low",
    high: Amount<'a> => "high",
    bound: Text<'a> => "bound",
    unit: Text<'a> => "unit",
});

fields!(PeriodFields {
    from: Text<'a> => "from",
    to: Text<'a> => "to",
});

fields!(SourceFields {
    url: Text<'a> => "url",
    publisher: Text<'a> => "publisher",
    title: Text<'a> => "title",
    published_on: Text<'a> => "published_on",
    retrieved_on: Text<'a> => "retrieved_on",
    quote: Text<'a> => "quote",
    archived: Vec<Given<ArchivedFields<'a>>> => "archived",
});

fields!(ArchivedFields {
    sha256: Text<'a> => "sha256",
    size: Json => "size",
    media_type: Text<'a> => "media_type",
    captured_at: Text<'a> => "captured_at",
    url: Text<'a> => "url",
    status: Json => "status",
});

/// A JSON value built as [`serde_json::Value`] builds itself, but refusing duplicate fields.
/// Costs nothing over `Value` when there are none: the map insert finds the clash.
struct Unique(Json);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Unique, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Json;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
        Ok(Json::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
        Ok(Json::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Json, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            match map.entry(name) {
                serde_json::map::Entry::Occupied(field) => return Err(duplicate(field.key())),
                serde_json::map::Entry::Vacant(field) => {
                    let Unique(value) = access.next_value()?;
                    field.insert(value);
                }
            }
        }
        Ok(Json::Object(map))
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: the fields checked, in a fixed order

/// Where a field is, for messages: `subject`, `value.amount`, `sources[1].url`, `tags[3]`.
#[derive(Clone, Copy, Debug)]
enum Path<'a> {
    Top(&'a str),
    In(&'a str, &'a str),
    Source(usize, &'a str),
    Item(&'a str, usize),
    /// `sources[i].archived[j]`, and a field of it.
    ArchivedItem(usize, usize),
    Archived(usize, usize, &'a str),
}

impl Path<'_> {
    fn error(&self, reason: impl Into<String>) -> FieldError {
        FieldError::new(self.to_string(), reason)
    }

    fn field<'n>(&self, name: &'n str) -> Path<'n>
    where
        Self: 'n,
    {
        match *self {
            Path::Top(outer) => Path::In(outer, name),
            Path::Item("sources", i) => Path::Source(i, name),
            Path::ArchivedItem(i, j) => Path::Archived(i, j, name),
            _ => Path::Top(name),
        }
    }

    /// The path of this object's field `name`, escaped for a message.
    fn unknown(&self, name: &str) -> FieldError {
        let name = name.escape_debug().to_string();
        let path = match *self {
            Path::Top("") => name,
            other => format!("{other}.{name}"),
        };
        FieldError::new(path, "is not a field of the input format")
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Top(name) => f.write_str(name),
            Path::In(outer, name) => write!(f, "{outer}.{name}"),
            Path::Source(i, name) => write!(f, "sources[{i}].{name}"),
            Path::Item(outer, i) => write!(f, "{outer}[{i}]"),
            Path::ArchivedItem(i, j) => write!(f, "sources[{i}].archived[{j}]"),
            Path::Archived(i, j, name) => write!(f, "sources[{i}].archived[{j}].{name}"),
        }
    }
}

impl<'de, T: Shape<'de>> Given<T> {
    /// A field of a revise: left out is `None`, `null` is `Some(None)`.
    fn removable(&self, field: Path<'_>) -> Result<Option<Option<&T>>, FieldError> {
        match self {
            Given::Absent => Ok(None),
            Given::Null => Ok(Some(None)),
            Given::Value(value) => Ok(Some(Some(value))),
            Given::Other(json) => Err(T::wrong(json, &field)),
        }
    }

    /// An optional field: left out and `null` both mean "not given".
    fn optional(&self, field: Path<'_>) -> Result<Option<&T>, FieldError> {
        Ok(self.removable(field)?.flatten())
    }

    fn required(&self, field: Path<'_>) -> Result<&T, FieldError> {
        self.optional(field)?
            .ok_or_else(|| field.error("is required"))
    }

    fn is_given(&self) -> bool {
        !matches!(self, Given::Absent)
    }
}

fn command_from_line(line: Given<Line<'_>>) -> Result<Command, InputError> {
    let line = match line {
        Given::Value(line) => line,
        Given::Other(json) => {
            return Err(InputError::Syntax(format!(
                "expected a JSON object, got {}",
                json_kind(&json)
            )))
        }
        Given::Absent | Given::Null => {
            return Err(InputError::Syntax(
                "expected a JSON object, got null".to_owned(),
            ))
        }
    };
    let op = line.op.optional(Path::Top("op"))?.map_or("record", |op| op);
    match op {
        "record" => Ok(Command::Record(parse_record(&line)?)),
        "revise" => Ok(Command::Revise(parse_revise(&line)?)),
        other => Err(InputError::field(
            "op",
            format!("{other:?} is not an operation; use record or revise"),
        )),
    }
}

fn parse_record(line: &Line<'_>) -> Result<RecordCommand, InputError> {
    let revise_only = [
        line.claim.is_given(),
        line.reason.is_given(),
        line.kind.is_given(),
        line.expected_revision.is_given(),
    ];
    let present = REVISE_ONLY_FIELDS
        .iter()
        .zip(revise_only)
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name);
    if let Some(unknown) = line.unknown.first(present) {
        return Err(Path::Top("").unknown(unknown).into());
    }
    debug_assert!(RECORD_FIELDS.contains(&"subject"));
    let claim = Claim {
        subject: parse_subject(
            line.subject.required(Path::Top("subject"))?,
            Path::Top("subject"),
        )?,
        claimant: one_line(
            line.claimant.required(Path::Top("claimant"))?,
            Path::Top("claimant"),
            CLAIMANT_LEN_MAX,
        )?,
        statement: many_lines(
            line.statement.required(Path::Top("statement"))?,
            Path::Top("statement"),
            STATEMENT_LEN_MAX,
        )?,
        value: line
            .value
            .optional(Path::Top("value"))?
            .map(|v| parse_value(v, Path::Top("value")))
            .transpose()?,
        period: line
            .period
            .optional(Path::Top("period"))?
            .map(|p| parse_period(p, Path::Top("period")))
            .transpose()?,
        stated_on: line
            .stated_on
            .optional(Path::Top("stated_on"))?
            .map(|d| parse_date(d, Path::Top("stated_on")))
            .transpose()?,
        method: line
            .method
            .optional(Path::Top("method"))?
            .map(|m| many_lines(m, Path::Top("method"), METHOD_LEN_MAX))
            .transpose()?,
        sources: line
            .sources
            .optional(Path::Top("sources"))?
            .map(|s| parse_sources(s))
            .transpose()?
            .unwrap_or_default(),
        status: line
            .status
            .optional(Path::Top("status"))?
            .map(|s| parse_status(s, Path::Top("status")))
            .transpose()?
            .unwrap_or_default(),
        tags: line
            .tags
            .optional(Path::Top("tags"))?
            .map(|t| parse_tags(t))
            .transpose()?
            .unwrap_or_default(),
    };
    claim.validate()?;
    Ok(RecordCommand {
        key: line
            .key
            .optional(Path::Top("key"))?
            .map(|k| parse_key(k, Path::Top("key")))
            .transpose()?,
        claim,
        author: line
            .author
            .optional(Path::Top("author"))?
            .map(|a| one_line(a, Path::Top("author"), AUTHOR_LEN_MAX))
            .transpose()?,
        note: line
            .note
            .optional(Path::Top("note"))?
            .map(|n| many_lines(n, Path::Top("note"), NOTE_LEN_MAX))
            .transpose()?,
    })
}

fn parse_revise(line: &Line<'_>) -> Result<ReviseCommand, InputError> {
    if line.key.is_given() {
        return Err(InputError::field(
            "key",
            "a claim's key never changes; name the claim with `claim`",
        ));
    }
    if let Some(unknown) = line.unknown.first(std::iter::empty()) {
        return Err(Path::Top("").unknown(unknown).into());
    }
    fn removable<'v, T, R>(
        given: &'v Given<T>,
        name: &'static str,
        parse: impl Fn(&'v T, Path<'_>) -> Result<R, FieldError>,
    ) -> Result<Option<Option<R>>, FieldError>
    where
        T: Shape<'v>,
    {
        let path = Path::Top(name);
        Ok(match given.removable(path)? {
            None => None,
            Some(None) => Some(None),
            Some(Some(value)) => Some(Some(parse(value, path)?)),
        })
    }
    let changes = ClaimChanges {
        subject: removable(&line.subject, "subject", parse_subject)?.flatten(),
        claimant: removable(&line.claimant, "claimant", |v, p| {
            one_line(v, p, CLAIMANT_LEN_MAX)
        })?
        .flatten(),
        statement: removable(&line.statement, "statement", |v, p| {
            many_lines(v, p, STATEMENT_LEN_MAX)
        })?
        .flatten(),
        value: removable(&line.value, "value", parse_value)?,
        period: removable(&line.period, "period", parse_period)?,
        stated_on: removable(&line.stated_on, "stated_on", parse_date)?,
        method: removable(&line.method, "method", |v, p| {
            many_lines(v, p, METHOD_LEN_MAX)
        })?,
        sources: removable(&line.sources, "sources", |v, _| parse_sources(v))?
            .map(Option::unwrap_or_default),
        status: removable(&line.status, "status", parse_status)?.map(Option::unwrap_or_default),
        tags: removable(&line.tags, "tags", |v, _| parse_tags(v))?.map(Option::unwrap_or_default),
    };
    for (name, null) in [
        ("subject", matches!(line.subject, Given::Null)),
        ("claimant", matches!(line.claimant, Given::Null)),
        ("statement", matches!(line.statement, Given::Null)),
    ] {
        if null {
            return Err(InputError::field(name, "is required and cannot be removed"));
        }
    }
    let claim = line.claim.required(Path::Top("claim"))?;
    if claim.is_empty() {
        return Err(InputError::field("claim", "is empty"));
    }
    Ok(ReviseCommand {
        claim: claim.clone().into_owned(),
        reason: many_lines(
            line.reason.required(Path::Top("reason"))?,
            Path::Top("reason"),
            REASON_LEN_MAX,
        )?,
        kind: line
            .kind
            .optional(Path::Top("kind"))?
            .map(|kind| RevisionKind::parse(kind).map_err(|r| Path::Top("kind").error(r)))
            .transpose()?
            .unwrap_or_default(),
        expected_revision: line
            .expected_revision
            .optional(Path::Top("expected_revision"))?
            .map(|json| parse_revision_number(json, Path::Top("expected_revision")))
            .transpose()?,
        changes,
        author: line
            .author
            .optional(Path::Top("author"))?
            .map(|a| one_line(a, Path::Top("author"), AUTHOR_LEN_MAX))
            .transpose()?,
        note: line
            .note
            .optional(Path::Top("note"))?
            .map(|n| many_lines(n, Path::Top("note"), NOTE_LEN_MAX))
            .transpose()?,
    })
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn one_line(text: &str, field: Path<'_>, len_max: usize) -> Result<String, FieldError> {
    check_nonempty_text("", text, len_max, Lines::One).map_err(|e| field.error(e.reason))?;
    Ok(text.to_owned())
}

fn many_lines(text: &str, field: Path<'_>, len_max: usize) -> Result<String, FieldError> {
    check_nonempty_text("", text, len_max, Lines::Many).map_err(|e| field.error(e.reason))?;
    Ok(text.to_owned())
}

fn with_field<T>(field: Path<'_>, result: Result<T, String>) -> Result<T, FieldError> {
    result.map_err(|reason| field.error(reason))
}

fn parse_subject(text: &Text<'_>, field: Path<'_>) -> Result<Subject, FieldError> {
    with_field(field, Subject::parse(text))
}

fn parse_key(text: &Text<'_>, field: Path<'_>) -> Result<Key, FieldError> {
    with_field(field, Key::parse(text))
}

fn parse_date(text: &Text<'_>, field: Path<'_>) -> Result<Date, FieldError> {
    with_field(field, Date::parse(text))
}

fn parse_status(text: &Text<'_>, field: Path<'_>) -> Result<Status, FieldError> {
    with_field(field, Status::parse(text))
}

fn parse_revision_number(json: &Json, field: Path<'_>) -> Result<u32, FieldError> {
    json.as_u64()
        .filter(|&n| n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            field.error(format!(
                "must be a revision number (a whole number from 1), got {json}"
            ))
        })
}

/// A decimal given as a JSON string or a JSON integer; never a float, which would round.
fn parse_decimal(amount: &Amount<'_>, field: Path<'_>) -> Result<Decimal, FieldError> {
    match amount {
        Amount::Text(text) => with_field(field, Decimal::parse(text)),
        Amount::Number(n) if n.is_i64() || n.is_u64() => with_field(field, Decimal::parse(&n.to_string())),
        Amount::Number(n) => Err(field.error(format!(
            "{n} is not an integer within 64 bits; write decimals and larger integers as strings, e.g. \"0.5\", so they are kept exactly"
        ))),
    }
}

fn parse_value(value: &ValueFields<'_>, field: Path<'_>) -> Result<Value, FieldError> {
    if let Some(unknown) = value.unknown.first(std::iter::empty()) {
        return Err(field.unknown(unknown));
    }
    let at = |name| field.field(name);
    let parsed = Value {
        bound: value
            .bound
            .optional(at("bound"))?
            .map(|b| with_field(at("bound"), Bound::parse(b)))
            .transpose()?
            .unwrap_or_default(),
        amount: value
            .amount
            .optional(at("amount"))?
            .map(|a| parse_decimal(a, at("amount")))
            .transpose()?,
        low: value
            .low
            .optional(at("low"))?
            .map(|a| parse_decimal(a, at("low")))
            .transpose()?,
        high: value
            .high
            .optional(at("high"))?
            .map(|a| parse_decimal(a, at("high")))
            .transpose()?,
        unit: value
            .unit
            .optional(at("unit"))?
            .map(|u| one_line(u, at("unit"), UNIT_LEN_MAX))
            .transpose()?,
    };
    parsed
        .validate()
        .map_err(|e| e.within(&field.to_string()))?;
    Ok(parsed)
}

fn parse_period(period: &PeriodFields<'_>, field: Path<'_>) -> Result<Period, FieldError> {
    if let Some(unknown) = period.unknown.first(std::iter::empty()) {
        return Err(field.unknown(unknown));
    }
    let at = |name| field.field(name);
    let parsed = Period {
        from: period
            .from
            .optional(at("from"))?
            .map(|d| parse_date(d, at("from")))
            .transpose()?,
        to: period
            .to
            .optional(at("to"))?
            .map(|d| parse_date(d, at("to")))
            .transpose()?,
    };
    parsed
        .validate()
        .map_err(|e| e.within(&field.to_string()))?;
    Ok(parsed)
}

fn parse_sources(items: &[Given<SourceFields<'_>>]) -> Result<Vec<Source>, FieldError> {
    if items.len() > SOURCE_COUNT_MAX {
        return Err(Path::Top("sources").error(format!(
            "has {} sources; the limit is {SOURCE_COUNT_MAX}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = Path::Item("sources", i);
            let source = match item {
                Given::Value(source) => source,
                Given::Other(json) => return Err(SourceFields::wrong(json, &path)),
                Given::Absent | Given::Null => return Err(SourceFields::wrong(&Json::Null, &path)),
            };
            if let Some(unknown) = source.unknown.first(std::iter::empty()) {
                return Err(path.unknown(unknown));
            }
            let at = |name| path.field(name);
            let text = |given: &Given<Text<'_>>, name| -> Result<Option<String>, FieldError> {
                Ok(given.optional(at(name))?.map(|t| t.clone().into_owned()))
            };
            let date = |given: &Given<Text<'_>>, name| -> Result<Option<Date>, FieldError> {
                given
                    .optional(at(name))?
                    .map(|d| parse_date(d, at(name)))
                    .transpose()
            };
            let parsed = Source {
                url: text(&source.url, "url")?,
                publisher: text(&source.publisher, "publisher")?,
                title: text(&source.title, "title")?,
                published_on: date(&source.published_on, "published_on")?,
                retrieved_on: date(&source.retrieved_on, "retrieved_on")?,
                quote: text(&source.quote, "quote")?,
                archived: source
                    .archived
                    .optional(at("archived"))?
                    .map(|items| parse_archived(i, items))
                    .transpose()?
                    .unwrap_or_default(),
            };
            parsed.validate().map_err(|e| e.within(&path.to_string()))?;
            Ok(parsed)
        })
        .collect()
}

/// The `archived` list of source `source`.
fn parse_archived(
    source: usize,
    items: &[Given<ArchivedFields<'_>>],
) -> Result<Vec<Archived>, FieldError> {
    if items.len() > crate::evidence::ARCHIVED_COUNT_MAX {
        return Err(Path::Source(source, "archived").error(format!(
            "has {} snapshots; the limit is {}",
            items.len(),
            crate::evidence::ARCHIVED_COUNT_MAX
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(j, item)| {
            let path = Path::ArchivedItem(source, j);
            let item = match item {
                Given::Value(item) => item,
                Given::Other(json) => return Err(ArchivedFields::wrong(json, &path)),
                Given::Absent | Given::Null => {
                    return Err(ArchivedFields::wrong(&Json::Null, &path))
                }
            };
            if let Some(unknown) = item.unknown.first(std::iter::empty()) {
                return Err(path.unknown(unknown));
            }
            let at = |name| path.field(name);
            let whole = |json: &Json, name, check: fn(u64) -> Result<(), String>| {
                let n = json
                    .as_u64()
                    .ok_or_else(|| at(name).error(format!("must be a whole number, got {json}")))?;
                check(n).map(|()| n).map_err(|why| at(name).error(why))
            };
            let parsed = Archived {
                sha256: with_field(
                    at("sha256"),
                    SnapshotHash::parse(item.sha256.required(at("sha256"))?),
                )?,
                size: whole(item.size.required(at("size"))?, "size", check_size)?,
                media_type: item
                    .media_type
                    .required(at("media_type"))?
                    .clone()
                    .into_owned(),
                captured_at: parse_date(
                    item.captured_at.required(at("captured_at"))?,
                    at("captured_at"),
                )?,
                url: item
                    .url
                    .optional(at("url"))?
                    .map(|u| u.clone().into_owned()),
                status: item
                    .status
                    .optional(at("status"))?
                    .map(|json| whole(json, "status", check_status))
                    .transpose()?
                    .map(|n| u16::try_from(n).unwrap_or(u16::MAX)),
            };
            parsed.validate().map_err(|e| e.within(&path.to_string()))?;
            Ok(parsed)
        })
        .collect()
}

fn parse_tags(items: &[Given<Text<'_>>]) -> Result<Vec<Tag>, FieldError> {
    if items.len() > TAG_COUNT_MAX {
        return Err(Path::Top("tags").error(format!(
            "has {} tags; the limit is {TAG_COUNT_MAX}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = Path::Item("tags", i);
            let text = match item {
                Given::Value(text) => text,
                Given::Other(json) => return Err(Text::wrong(json, &path)),
                Given::Absent | Given::Null => return Err(Text::wrong(&Json::Null, &path)),
            };
            with_field(path, Tag::parse(text))
        })
        .collect()
}

/// Checks an author name given outside the JSON (a flag or the environment).
pub fn check_author(author: &str) -> Result<(), FieldError> {
    check_nonempty_text("author", author, AUTHOR_LEN_MAX, Lines::One)
}

/// Checks a note given outside the JSON.
pub fn check_note(note: &str) -> Result<(), FieldError> {
    check_text("note", note, NOTE_LEN_MAX, Lines::Many)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and compares the error text (or "ok") with `expected`.
    fn check(input: &str, expected: &str) {
        let actual = match parse_command(input) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        assert_eq!(actual, expected, "input: {input}");
    }

    const BASE: &str = r#""subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named dead""#;

    fn record(extra: &str) -> String {
        if extra.is_empty() {
            format!("{{{BASE}}}")
        } else {
            format!("{{{BASE},{extra}}}")
        }
    }

    #[test]
    fn archived_snapshots() {
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let with = |item: &str| {
            record(&format!(
                r#""sources":[{{"url":"https://a.org/","archived":[{item}]}}]"#
            ))
        };
        let good = format!(
            r#"{{"sha256":"{hash}","size":12,"media_type":"application/pdf","captured_at":"2025-08-13"}}"#
        );
        check(&with(&good), "ok");
        check(
            &with(&format!(
                r#"{{"sha256":"{hash}","size":12,"media_type":"application/warc","captured_at":"2025-08-13T12:00:00Z","url":"https://a.org/b","status":200}}"#
            )),
            "ok",
        );
        check(
            &with(&good.replace(hash, "ab")),
            "field `sources[0].archived[0].sha256`: \"ab\" is not a SHA-256 hash: expected 64 lowercase hex digits",
        );
        check(
            &with(&good.replace("12", "\"12\"")),
            "field `sources[0].archived[0].size`: must be a whole number, got \"12\"",
        );
        check(
            &with(&good.replace("12", "0")),
            "field `sources[0].archived[0].size`: is 0: a snapshot holds at least one byte",
        );
        check(
            &with(&good.replace("application/pdf", "PDF")),
            "field `sources[0].archived[0].media_type`: \"PDF\" is not a media type: write `type/subtype` in lowercase, without parameters, e.g. \"application/pdf\" or \"text/html\"",
        );
        check(
            &with(&good.replace(r#","captured_at":"2025-08-13""#, "")),
            "field `sources[0].archived[0].captured_at`: is required",
        );
        check(
            &with(&good.replace("}", r#","status":200}"#)),
            "field `sources[0].archived[0].status`: is the status of a fetch, which names its `url`",
        );
        check(
            &with(&good.replace("}", r#","sha1":"x"}"#)),
            "field `sources[0].archived[0].sha1`: is not a field of the input format",
        );
        check(
            &with(&format!("{good},{good}")),
            &format!("field `sources[0].archived[1].sha256`: snapshot {hash} is listed twice"),
        );
        check(
            &with("1"),
            "field `sources[0].archived[0]`: must be an object, got a number",
        );
    }

    #[test]
    fn records() {
        check(&record(""), "ok");
        check(
            &record(r#""value":{"amount":121507,"unit":"people"}"#),
            "ok",
        );
        check(&record(r#""value":{"amount":"0.5"}"#), "ok");
        check(
            &record(r#""value":{"bound":"range","low":"1","high":"2"}"#),
            "ok",
        );
        check(
            &record(r#""period":{"from":"2022-02-24","to":"2025-07-31"},"stated_on":"2024-12""#),
            "ok",
        );
        check(
            &record(r#""sources":[{"publisher":"AFP"}],"tags":["a","b"],"key":"k1","op":"record""#),
            "ok",
        );
    }

    #[test]
    fn record_errors() {
        check("{", "the JSON ends too early (column 1)");
        check("[]", "expected a JSON object, got an array");
        check(
            r#"{"claimant":"x","statement":"y"}"#,
            "field `subject`: is required",
        );
        check(
            &record(r#""op":"delete""#),
            "field `op`: \"delete\" is not an operation; use record or revise",
        );
        check(
            &record(r#""colour":"red""#),
            "field `colour`: is not a field of the input format",
        );
        check(&record(r#""value":{"amount":1.5}"#), "field `value.amount`: 1.5 is not an integer within 64 bits; write decimals and larger integers as strings, e.g. \"0.5\", so they are kept exactly");
        check(&record(r#""value":{"amount":"1e5"}"#), "field `value.amount`: \"1e5\" is not a decimal: use digits with an optional '-' and '.', no exponent, no thousands separators");
        check(
            &record(r#""value":{"bound":"range","low":"3","high":"2"}"#),
            "field `value.low`: 3 is greater than high 2",
        );
        check(
            &record(r#""value":{"bound":"range","amount":"3"}"#),
            "field `value.amount`: a range has `low` and `high`, not `amount`",
        );
        check(&record(r#""value":{"bound":"about","amount":"3"}"#), "field `value.bound`: \"about\" is not a bound; use exact, at_least, at_most, approx or range");
        check(
            &record(r#""value":{"unit":"people"}"#),
            "field `value.amount`: is required when bound is exact",
        );
        check(
            &record(r#""period":{"from":"2025","to":"2024"}"#),
            "field `period.from`: 2025 is after to 2024",
        );
        check(
            &record(r#""stated_on":"2024-13""#),
            "field `stated_on`: \"2024-13\" has month 13; months are 01 to 12",
        );
        check(
            &record(r#""sources":[{"title":"x"}]"#),
            "field `sources[0].url`: a source needs `url`, `publisher` or both",
        );
        check(
            &record(r#""sources":[{"url":"ftp://x.org"}]"#),
            "field `sources[0].url`: \"ftp://x.org\" is not an http or https URL",
        );
        check(
            &record(r#""tags":["a","a"]"#),
            "field `tags[1]`: a is listed twice",
        );
        check(&record(r#""tags":["A"]"#), "field `tags[0]`: \"A\" is not a valid name: use a lowercase letter or digit, then lowercase letters, digits, '.', '_' or '-'");
        check(&record(r#""status":"gone""#), "field `status`: \"gone\" is not a status; use active, disputed, retracted or superseded");
        check(
            &record(r#""claimant":"""#.replace(r#""claimant":"""#, r#""note":"""#).as_str()),
            "field `note`: is empty",
        );
        let long = "x".repeat(4001);
        check(
            &format!(r#"{{"subject":"a","claimant":"c","statement":"{long}"}}"#),
            "field `statement`: is 4001 characters long; the limit is 4000",
        );
    }

    /// Rules FORMAT.md section 1 states for outsiders, at their edges.
    #[test]
    fn documented_edges() {
        let integer_only = "is not an integer within 64 bits; write decimals and larger integers as strings, e.g. \"0.5\", so they are kept exactly";
        check(&record(r#""value":{"amount":-9223372036854775808}"#), "ok");
        check(&record(r#""value":{"amount":18446744073709551615}"#), "ok");
        check(
            &record(r#""value":{"amount":-9223372036854775809}"#),
            &format!("field `value.amount`: -9.223372036854776e+18 {integer_only}"),
        );
        check(
            &record(r#""value":{"amount":18446744073709551616}"#),
            &format!("field `value.amount`: 1.8446744073709552e+19 {integer_only}"),
        );
        check(
            &record(r#""value":{"amount":-0}"#),
            &format!("field `value.amount`: -0.0 {integer_only}"),
        );
        check(&record(r#""value":{"amount":"-0"}"#), "ok");
        check(&record(r#""value":null,"period":null,"key":null"#), "ok");
        check(
            r#"{"subject":"a","claimant":"   ","statement":"x"}"#,
            "field `claimant`: is empty",
        );
        check(
            r#"{"subject":"a","claimant":"\u00a0","statement":"x"}"#,
            "field `claimant`: is empty",
        );
        check(
            &record(r#""sources":[{"url":"https://example.org/\nx"}]"#),
            "field `sources[0].url`: contains the control character '\\n'",
        );
        check(&record(r#""key":"0198a34d2a0075f182b854b4d5723eb2""#), "field `key`: \"0198a34d2a0075f182b854b4d5723eb2\" has the form of a claim id; choose a key that does not");
        for (date, ok) in [
            ("2024-01-01T10:00:00.123456789Z", true),
            ("2016-12-31T23:59:60+00:00", true),
            ("2024-01-01T10:00:00+23:59", true),
            ("2024-01-01T10:00:00.1234567890Z", false),
            ("2024-01-01t10:00:00Z", false),
            ("2024-01-01T10:00:00z", false),
            ("2024-01-01 10:00:00Z", false),
            ("2024-01-01T10:00:00+24:00", false),
        ] {
            let result = parse_command(&record(&format!(r#""stated_on":"{date}""#)));
            assert_eq!(result.is_ok(), ok, "{date}: {result:?}");
        }
        check(
            r#"{"op":"revise","claim":"k","reason":"r","statement":"s","expected_revision":4294967295}"#,
            "ok",
        );
        check(r#"{"op":"revise","claim":"k","reason":"r","statement":"s","expected_revision":4294967296}"#, "field `expected_revision`: must be a revision number (a whole number from 1), got 4294967296");
        check(
            r#"{"op":"revise","claim":"k","reason":"r","statement":"s","expected_revision":1.0}"#,
            "field `expected_revision`: must be a revision number (a whole number from 1), got 1.0",
        );
    }

    #[test]
    fn revises() {
        check(
            r#"{"op":"revise","claim":"k1","reason":"new count","value":{"amount":"121507"}}"#,
            "ok",
        );
        check(
            r#"{"op":"revise","claim":"k1","reason":"r","method":null,"expected_revision":2}"#,
            "ok",
        );
        check(
            r#"{"op":"revise","claim":"k1","reason":"r","key":"k2"}"#,
            "field `key`: a claim's key never changes; name the claim with `claim`",
        );
        check(
            r#"{"op":"revise","claim":"k1"}"#,
            "field `reason`: is required",
        );
        check(
            r#"{"op":"revise","claim":"k1","reason":"r","subject":null}"#,
            "field `subject`: is required and cannot be removed",
        );
        check(
            r#"{"op":"revise","claim":"k1","reason":"r","expected_revision":0}"#,
            "field `expected_revision`: must be a revision number (a whole number from 1), got 0",
        );
        check(
            r#"{"op":"revise","claim":"k1","reason":"r","kind":"fix"}"#,
            "field `kind`: \"fix\" is not a revision kind; use update, correction, status or evidence",
        );
    }

    #[test]
    fn duplicate_fields() {
        for (input, field) in [
            (r#"{"subject":"a","subject":"a"}"#.to_owned(), "subject"),
            (record(r#""value":{"amount":"1","amount":"2"}"#), "amount"),
            (
                record(r#""period":{"from":"2024","to":"2025","from":"2023"}"#),
                "from",
            ),
            (
                record(r#""sources":[{"url":"https://a.org"},{"url":"https://b.org","url":"x"}]"#),
                "url",
            ),
            (
                r#"{"op":"revise","claim":"k","reason":"r","reason":"s"}"#.to_owned(),
                "reason",
            ),
            (r#"{"a\nb":1,"a\nb":2}"#.to_owned(), "a\\nb"),
        ] {
            let error = parse_command(&input).expect_err(&input).to_string();
            assert!(
                error.starts_with(&format!("duplicate field `{field}` (column ")),
                "{input}: {error}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
        // The same name in two objects is no duplicate; the value read is serde_json's.
        let line =
            record(r#""sources":[{"publisher":"A"},{"publisher":"B"}],"value":{"amount":1}"#);
        check(&line, "ok");
        assert_eq!(
            parse_json(&line).ok(),
            serde_json::from_str::<Json>(&line).ok()
        );
        let numbers = r#"[1,-1,1.5,18446744073709551615,1e300,-0,"x",null,true,{}]"#;
        assert_eq!(
            parse_json(numbers).ok(),
            serde_json::from_str::<Json>(numbers).ok()
        );
    }

    #[test]
    fn revise_null_removes() {
        let Ok(Command::Revise(revise)) =
            parse_command(r#"{"op":"revise","claim":"k","reason":"r","value":null,"tags":null}"#)
        else {
            panic!("expected a revise");
        };
        assert_eq!(revise.changes.value, Some(None));
        assert_eq!(revise.changes.tags, Some(vec![]));
        assert_eq!(revise.changes.period, None);
    }
}
