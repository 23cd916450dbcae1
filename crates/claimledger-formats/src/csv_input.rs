//! Claims as CSV: one row per record or revise, a column per field, turned into the JSON of the
//! input format so that CSV goes through the same parser and rules as JSON Lines.
//!
//! Columns (any order, any subset; the header row names them; an empty cell is "not given"):
//! `op`, `key`, `claim`, `reason`, `kind`, `expected_revision`, `subject`, `claimant`,
//! `statement`, `amount`, `low`, `high`, `bound`, `unit`, `from`, `to`, `stated_on`, `method`,
//! `source_url`, `publisher`, `source_title`, `published_on`, `retrieved_on`, `quote`,
//! `status`, `tags` (separated by `;`), `author`, `note`.

use serde_json::{Map, Value as Json};

/// The columns (and the `add`/`revise` flags, with `-` for `_`) that describe one source, with
/// the field of the input format each sets.
pub const SOURCE_COLUMNS: [(&str, &str); 6] = [
    ("source_url", "url"),
    ("publisher", "publisher"),
    ("source_title", "title"),
    ("published_on", "published_on"),
    ("retrieved_on", "retrieved_on"),
    ("quote", "quote"),
];

/// Every column a header may name.
pub const COLUMNS: [&str; 28] = [
    "op",
    "key",
    "claim",
    "reason",
    "kind",
    "expected_revision",
    "subject",
    "claimant",
    "statement",
    "amount",
    "low",
    "high",
    "bound",
    "unit",
    "from",
    "to",
    "stated_on",
    "method",
    "source_url",
    "publisher",
    "source_title",
    "published_on",
    "retrieved_on",
    "quote",
    "status",
    "tags",
    "author",
    "note",
];

/// Checks a header row and returns the column names in order.
pub fn check_header(header: &csv::StringRecord) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_owned();
        if !COLUMNS.contains(&name.as_str()) {
            return Err(format!(
                "column {} of the header, {name:?}, is not a field; the columns are {}",
                i + 1,
                COLUMNS.join(", ")
            ));
        }
        if names.contains(&name) {
            return Err(format!("column {name:?} appears twice in the header"));
        }
        names.push(name);
    }
    Ok(names)
}

/// One row as an input-format JSON object.
pub fn row_to_json(columns: &[String], row: &csv::StringRecord) -> Result<Json, String> {
    if row.len() != columns.len() {
        return Err(format!(
            "has {} cells but the header has {} columns",
            row.len(),
            columns.len()
        ));
    }
    let cell = |name: &str| -> Option<String> {
        let i = columns.iter().position(|c| c == name)?;
        let text = row.get(i)?;
        (!text.is_empty()).then(|| text.to_owned())
    };
    let mut object = Map::new();
    for name in [
        "op",
        "key",
        "claim",
        "reason",
        "kind",
        "subject",
        "claimant",
        "statement",
        "stated_on",
        "method",
        "status",
        "author",
        "note",
    ] {
        if let Some(text) = cell(name) {
            object.insert(name.to_owned(), Json::String(text));
        }
    }
    if let Some(text) = cell("expected_revision") {
        let number: u64 = text
            .trim()
            .parse()
            .map_err(|_| format!("field `expected_revision`: {text:?} is not a whole number"))?;
        object.insert("expected_revision".into(), number.into());
    }
    let mut value = Map::new();
    for (column, field) in [
        ("amount", "amount"),
        ("low", "low"),
        ("high", "high"),
        ("bound", "bound"),
        ("unit", "unit"),
    ] {
        if let Some(text) = cell(column) {
            value.insert(field.to_owned(), Json::String(text));
        }
    }
    if !value.is_empty() {
        object.insert("value".into(), Json::Object(value));
    }
    let mut period = Map::new();
    for field in ["from", "to"] {
        if let Some(text) = cell(field) {
            period.insert(field.to_owned(), Json::String(text));
        }
    }
    if !period.is_empty() {
        object.insert("period".into(), Json::Object(period));
    }
    let mut source = Map::new();
    for (column, field) in SOURCE_COLUMNS {
        if let Some(text) = cell(column) {
            source.insert(field.to_owned(), Json::String(text));
        }
    }
    if !source.is_empty() {
        object.insert("sources".into(), Json::Array(vec![Json::Object(source)]));
    }
    if let Some(text) = cell("tags") {
        let tags = text
            .split(';')
            .map(|t| Json::String(t.trim().to_owned()))
            .collect();
        object.insert("tags".into(), Json::Array(tags));
    }
    Ok(Json::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimledger_core::input::{command_from_json, Command};

    fn rows(text: &str) -> Vec<Result<Command, String>> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let columns = check_header(reader.headers().unwrap()).unwrap();
        reader
            .records()
            .map(|r| {
                row_to_json(&columns, &r.unwrap())
                    .and_then(|j| command_from_json(&j).map_err(|e| e.to_string()))
            })
            .collect()
    }

    #[test]
    fn records_and_revisions() {
        let parsed = rows(
            "op,key,claim,reason,subject,claimant,statement,amount,bound,unit,from,to,stated_on,publisher,quote,tags\n\
             ,mz,,,russia/military-deaths,Mediazona,\"95,300 named dead\",95300,,people,2022-02-24,2025-02-24,2025-02-24,AFP,\"stands at 95,300\",named-dead;open-source\n\
             revise,,mz,new count,,,\"121,507 named dead\",121507,,people,,2025-07-31,2025-08,,,\n",
        );
        let Ok(Command::Record(record)) = &parsed[0] else {
            panic!("{:?}", parsed[0])
        };
        assert_eq!(record.claim.tags.len(), 2);
        assert_eq!(
            record
                .claim
                .value
                .as_ref()
                .unwrap()
                .amount
                .as_ref()
                .unwrap()
                .as_str(),
            "95300"
        );
        assert_eq!(record.claim.sources[0].publisher.as_deref(), Some("AFP"));
        let Ok(Command::Revise(revise)) = &parsed[1] else {
            panic!("{:?}", parsed[1])
        };
        assert_eq!(revise.claim, "mz");
        assert_eq!(
            revise
                .changes
                .period
                .as_ref()
                .unwrap()
                .as_ref()
                .unwrap()
                .to
                .as_ref()
                .unwrap()
                .as_str(),
            "2025-07-31"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let parsed = rows("subject,claimant,statement,amount\ns,c,x,1.5e3\n");
        assert_eq!(parsed[0].as_ref().unwrap_err(), "field `value.amount`: \"1.5e3\" is not a decimal: use digits with an optional '-' and '.', no exponent, no thousands separators");
        let mut reader = csv::ReaderBuilder::new().from_reader("subject,colour\n".as_bytes());
        assert!(check_header(reader.headers().unwrap())
            .unwrap_err()
            .contains("\"colour\", is not a field"));
    }
}
