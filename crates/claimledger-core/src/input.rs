//! The claim input format (docs/FORMAT.md, "Input"): one JSON object per record or revise.
//!
//! Parsing goes through [`serde_json::Value`] rather than derived deserialisers so that every
//! error names the exact field (`sources[1].url`) and says why in words a user can act on, and
//! so that a revise can tell a field left out (carried over) from a field set to `null`
//! (removed).

use crate::claim::{check_nonempty_text, check_text, limits::*, Lines};
use crate::{
    Bound, Claim, Date, Decimal, FieldError, Key, Period, Source, Status, Subject, Tag, Value,
};
use serde_json::{Map, Value as Json};

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
}

impl RevisionKind {
    pub const ALL: [RevisionKind; 3] = [
        RevisionKind::Update,
        RevisionKind::Correction,
        RevisionKind::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Update => "update",
            RevisionKind::Correction => "correction",
            RevisionKind::Status => "status",
        }
    }

    pub fn parse(text: &str) -> Result<RevisionKind, String> {
        RevisionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                format!("{text:?} is not a revision kind; use update, correction or status")
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
const REVISE_FIELDS: &[&str] = &[
    "op",
    "claim",
    "reason",
    "kind",
    "expected_revision",
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

/// Parses one input object from JSON text.
pub fn parse_command(text: &str) -> Result<Command, InputError> {
    command_from_json(&parse_json(text)?)
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
        // The only data errors come from `Unique`: a field named twice. The message is the
        // visitor's; serde_json adds the position.
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

/// A JSON value built as [`serde_json::Value`] builds itself, but refusing duplicate fields.
/// Costs nothing over `Value` when there are none: the map insert finds the clash.
struct Unique(Json);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Unique, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
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

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Json, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            match map.entry(name) {
                serde_json::map::Entry::Occupied(field) => {
                    // Escaped: the name comes from the input and could hold control characters.
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate field `{}`",
                        field.key().escape_debug()
                    )));
                }
                serde_json::map::Entry::Vacant(field) => {
                    let Unique(value) = access.next_value()?;
                    field.insert(value);
                }
            }
        }
        Ok(Json::Object(map))
    }
}

/// Parses one input object from parsed JSON.
pub fn command_from_json(json: &Json) -> Result<Command, InputError> {
    let Json::Object(map) = json else {
        return Err(InputError::Syntax(format!(
            "expected a JSON object, got {}",
            json_kind(json)
        )));
    };
    let object = Object { map, path: "" };
    let op = object.optional_str("op")?.unwrap_or("record");
    match op {
        "record" => Ok(Command::Record(parse_record(&object)?)),
        "revise" => Ok(Command::Revise(parse_revise(&object)?)),
        other => Err(InputError::field(
            "op",
            format!("{other:?} is not an operation; use record or revise"),
        )),
    }
}

fn parse_record(object: &Object) -> Result<RecordCommand, InputError> {
    object.deny_unknown(RECORD_FIELDS)?;
    let claim = Claim {
        subject: object.required("subject", parse_subject)?,
        claimant: object.required("claimant", |v, f| one_line(v, f, CLAIMANT_LEN_MAX))?,
        statement: object.required("statement", |v, f| many_lines(v, f, STATEMENT_LEN_MAX))?,
        value: object.optional("value", parse_value)?,
        period: object.optional("period", parse_period)?,
        stated_on: object.optional("stated_on", parse_date)?,
        method: object.optional("method", |v, f| many_lines(v, f, METHOD_LEN_MAX))?,
        sources: object
            .optional("sources", parse_sources)?
            .unwrap_or_default(),
        status: object.optional("status", parse_status)?.unwrap_or_default(),
        tags: object.optional("tags", parse_tags)?.unwrap_or_default(),
    };
    claim.validate()?;
    Ok(RecordCommand {
        key: object.optional("key", parse_key)?,
        claim,
        author: object.optional("author", |v, f| one_line(v, f, AUTHOR_LEN_MAX))?,
        note: object.optional("note", |v, f| many_lines(v, f, NOTE_LEN_MAX))?,
    })
}

fn parse_revise(object: &Object) -> Result<ReviseCommand, InputError> {
    if object.map.contains_key("key") {
        return Err(InputError::field(
            "key",
            "a claim's key never changes; name the claim with `claim`",
        ));
    }
    object.deny_unknown(REVISE_FIELDS)?;
    let changes = ClaimChanges {
        subject: object.optional("subject", parse_subject)?,
        claimant: object.optional("claimant", |v, f| one_line(v, f, CLAIMANT_LEN_MAX))?,
        statement: object.optional("statement", |v, f| many_lines(v, f, STATEMENT_LEN_MAX))?,
        value: object.removable("value", parse_value)?,
        period: object.removable("period", parse_period)?,
        stated_on: object.removable("stated_on", parse_date)?,
        method: object.removable("method", |v, f| many_lines(v, f, METHOD_LEN_MAX))?,
        sources: object
            .removable("sources", parse_sources)?
            .map(Option::unwrap_or_default),
        status: object
            .removable("status", parse_status)?
            .map(Option::unwrap_or_default),
        tags: object
            .removable("tags", parse_tags)?
            .map(Option::unwrap_or_default),
    };
    for required in ["subject", "claimant", "statement"] {
        if object.map.get(required).is_some_and(Json::is_null) {
            return Err(InputError::field(
                required,
                "is required and cannot be removed",
            ));
        }
    }
    Ok(ReviseCommand {
        claim: object.required("claim", |v, f| {
            let text = string(v, f)?;
            if text.is_empty() {
                return Err(FieldError::new(f, "is empty"));
            }
            Ok(text.to_owned())
        })?,
        reason: object.required("reason", |v, f| many_lines(v, f, REASON_LEN_MAX))?,
        kind: object
            .optional("kind", |v, f| {
                string(v, f).and_then(|s| RevisionKind::parse(s).map_err(|r| FieldError::new(f, r)))
            })?
            .unwrap_or_default(),
        expected_revision: object.optional("expected_revision", parse_revision_number)?,
        changes,
        author: object.optional("author", |v, f| one_line(v, f, AUTHOR_LEN_MAX))?,
        note: object.optional("note", |v, f| many_lines(v, f, NOTE_LEN_MAX))?,
    })
}

/// A JSON object being read, with its path for error messages (`""` at the top).
struct Object<'a> {
    map: &'a Map<String, Json>,
    path: &'a str,
}

impl Object<'_> {
    fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn deny_unknown(&self, allowed: &[&str]) -> Result<(), FieldError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            // A name is shown escaped: it comes from the input and could hold terminal
            // control sequences.
            Some(unknown) => Err(FieldError::new(
                self.path_of(&unknown.escape_debug().to_string()),
                "is not a field of the input format",
            )),
            None => Ok(()),
        }
    }

    fn required<T>(
        &self,
        name: &str,
        parse: impl Fn(&Json, &str) -> Result<T, FieldError>,
    ) -> Result<T, FieldError> {
        let path = self.path_of(name);
        match self.map.get(name) {
            None | Some(Json::Null) => Err(FieldError::new(path, "is required")),
            Some(value) => parse(value, &path),
        }
    }

    /// An optional field: absent and `null` both mean "not given".
    fn optional<T>(
        &self,
        name: &str,
        parse: impl Fn(&Json, &str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        Ok(self.removable(name, parse)?.flatten())
    }

    /// A field of a revise: absent is `None`, `null` is `Some(None)`.
    fn removable<T>(
        &self,
        name: &str,
        parse: impl Fn(&Json, &str) -> Result<T, FieldError>,
    ) -> Result<Option<Option<T>>, FieldError> {
        let path = self.path_of(name);
        match self.map.get(name) {
            None => Ok(None),
            Some(Json::Null) => Ok(Some(None)),
            Some(value) => parse(value, &path).map(|v| Some(Some(v))),
        }
    }

    fn optional_str(&self, name: &str) -> Result<Option<&str>, FieldError> {
        match self.map.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(value) => string(value, &self.path_of(name)).map(Some),
        }
    }
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

fn string<'a>(json: &'a Json, field: &str) -> Result<&'a str, FieldError> {
    json.as_str()
        .ok_or_else(|| FieldError::new(field, format!("must be a string, got {}", json_kind(json))))
}

fn object<'a>(json: &'a Json, field: &'a str) -> Result<Object<'a>, FieldError> {
    match json {
        Json::Object(map) => Ok(Object { map, path: field }),
        other => Err(FieldError::new(
            field,
            format!("must be an object, got {}", json_kind(other)),
        )),
    }
}

fn array<'a>(json: &'a Json, field: &str) -> Result<&'a [Json], FieldError> {
    match json {
        Json::Array(items) => Ok(items),
        other => Err(FieldError::new(
            field,
            format!("must be an array, got {}", json_kind(other)),
        )),
    }
}

fn one_line(json: &Json, field: &str, len_max: usize) -> Result<String, FieldError> {
    let text = string(json, field)?;
    check_nonempty_text(field, text, len_max, Lines::One)?;
    Ok(text.to_owned())
}

fn many_lines(json: &Json, field: &str, len_max: usize) -> Result<String, FieldError> {
    let text = string(json, field)?;
    check_nonempty_text(field, text, len_max, Lines::Many)?;
    Ok(text.to_owned())
}

fn with_field<T>(field: &str, result: Result<T, String>) -> Result<T, FieldError> {
    result.map_err(|reason| FieldError::new(field, reason))
}

fn parse_subject(json: &Json, field: &str) -> Result<Subject, FieldError> {
    with_field(field, Subject::parse(string(json, field)?))
}

fn parse_key(json: &Json, field: &str) -> Result<Key, FieldError> {
    with_field(field, Key::parse(string(json, field)?))
}

fn parse_date(json: &Json, field: &str) -> Result<Date, FieldError> {
    with_field(field, Date::parse(string(json, field)?))
}

fn parse_status(json: &Json, field: &str) -> Result<Status, FieldError> {
    with_field(field, Status::parse(string(json, field)?))
}

fn parse_revision_number(json: &Json, field: &str) -> Result<u32, FieldError> {
    json.as_u64()
        .filter(|&n| n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!("must be a revision number (a whole number from 1), got {json}"),
            )
        })
}

/// A decimal given as a JSON string or a JSON integer; never a float, which would round.
fn parse_decimal(json: &Json, field: &str) -> Result<Decimal, FieldError> {
    match json {
        Json::String(text) => with_field(field, Decimal::parse(text)),
        Json::Number(n) if n.is_i64() || n.is_u64() => with_field(field, Decimal::parse(&n.to_string())),
        Json::Number(n) => Err(FieldError::new(
            field,
            format!("{n} is not an integer within 64 bits; write decimals and larger integers as strings, e.g. \"0.5\", so they are kept exactly"),
        )),
        other => Err(FieldError::new(field, format!("must be a decimal string or an integer, got {}", json_kind(other)))),
    }
}

fn parse_value(json: &Json, field: &str) -> Result<Value, FieldError> {
    let value = object(json, field)?;
    value.deny_unknown(&["amount", "low", "high", "bound", "unit"])?;
    let parsed = Value {
        bound: value
            .optional("bound", |v, f| with_field(f, Bound::parse(string(v, f)?)))?
            .unwrap_or_default(),
        amount: value.optional("amount", parse_decimal)?,
        low: value.optional("low", parse_decimal)?,
        high: value.optional("high", parse_decimal)?,
        unit: value.optional("unit", |v, f| one_line(v, f, UNIT_LEN_MAX))?,
    };
    parsed.validate().map_err(|e| e.within(field))?;
    Ok(parsed)
}

fn parse_period(json: &Json, field: &str) -> Result<Period, FieldError> {
    let period = object(json, field)?;
    period.deny_unknown(&["from", "to"])?;
    let parsed = Period {
        from: period.optional("from", parse_date)?,
        to: period.optional("to", parse_date)?,
    };
    parsed.validate().map_err(|e| e.within(field))?;
    Ok(parsed)
}

fn parse_sources(json: &Json, field: &str) -> Result<Vec<Source>, FieldError> {
    let items = array(json, field)?;
    if items.len() > SOURCE_COUNT_MAX {
        return Err(FieldError::new(
            field,
            format!(
                "has {} sources; the limit is {SOURCE_COUNT_MAX}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{field}[{i}]");
            let source = object(item, &path)?;
            source.deny_unknown(&[
                "url",
                "publisher",
                "title",
                "published_on",
                "retrieved_on",
                "quote",
            ])?;
            let parsed = Source {
                url: source.optional("url", |v, f| string(v, f).map(str::to_owned))?,
                publisher: source.optional("publisher", |v, f| string(v, f).map(str::to_owned))?,
                title: source.optional("title", |v, f| string(v, f).map(str::to_owned))?,
                published_on: source.optional("published_on", parse_date)?,
                retrieved_on: source.optional("retrieved_on", parse_date)?,
                quote: source.optional("quote", |v, f| string(v, f).map(str::to_owned))?,
            };
            parsed.validate().map_err(|e| e.within(&path))?;
            Ok(parsed)
        })
        .collect()
}

fn parse_tags(json: &Json, field: &str) -> Result<Vec<Tag>, FieldError> {
    let items = array(json, field)?;
    if items.len() > TAG_COUNT_MAX {
        return Err(FieldError::new(
            field,
            format!("has {} tags; the limit is {TAG_COUNT_MAX}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{field}[{i}]");
            with_field(&path, Tag::parse(string(item, &path)?))
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
            "field `kind`: \"fix\" is not a revision kind; use update, correction or status",
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
