//! Claim fields given as flags, turned into the JSON of the input format, so that flags and
//! files go through one parser and one set of rules.

use crate::cli::FieldArgs;
use serde_json::{Map, Value as Json};

/// Sets `name` to a string if given.
fn set(object: &mut Map<String, Json>, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        object.insert(name.to_owned(), Json::String(value.clone()));
    }
}

impl FieldArgs {
    /// The input-format fields these flags set. `current` is the claim's stored JSON when
    /// revising: value, period and source flags then change only the parts they name.
    pub fn to_json(&self, current: Option<&Map<String, Json>>) -> Map<String, Json> {
        let mut object = Map::new();
        set(&mut object, "subject", &self.subject);
        set(&mut object, "claimant", &self.claimant);
        set(&mut object, "statement", &self.statement);
        set(&mut object, "stated_on", &self.stated_on);
        set(&mut object, "method", &self.method);
        set(&mut object, "status", &self.status);
        let part = |name: &str| -> Map<String, Json> {
            match current.and_then(|c| c.get(name)) {
                Some(Json::Object(existing)) => existing.clone(),
                _ => Map::new(),
            }
        };
        if [&self.amount, &self.low, &self.high, &self.bound, &self.unit]
            .iter()
            .any(|f| f.is_some())
        {
            let mut value = part("value");
            if self.bound.as_deref().is_some_and(|b| b == "range") {
                value.remove("amount");
            } else if self.amount.is_some()
                && self.bound.is_none()
                && value.get("bound").and_then(Json::as_str) == Some("range")
            {
                value.remove("bound");
            }
            if self.amount.is_some() {
                value.remove("low");
                value.remove("high");
            }
            set(&mut value, "amount", &self.amount);
            set(&mut value, "low", &self.low);
            set(&mut value, "high", &self.high);
            set(&mut value, "bound", &self.bound);
            set(&mut value, "unit", &self.unit);
            object.insert("value".into(), Json::Object(value));
        }
        if self.from.is_some() || self.to.is_some() {
            let mut period = part("period");
            set(&mut period, "from", &self.from);
            set(&mut period, "to", &self.to);
            object.insert("period".into(), Json::Object(period));
        }
        let source_flags = [
            &self.source_url,
            &self.publisher,
            &self.source_title,
            &self.published_on,
            &self.retrieved_on,
            &self.quote,
        ];
        if source_flags.iter().any(|f| f.is_some()) {
            let mut source = Map::new();
            set(&mut source, "url", &self.source_url);
            set(&mut source, "publisher", &self.publisher);
            set(&mut source, "title", &self.source_title);
            set(&mut source, "published_on", &self.published_on);
            set(&mut source, "retrieved_on", &self.retrieved_on);
            set(&mut source, "quote", &self.quote);
            object.insert("sources".into(), Json::Array(vec![Json::Object(source)]));
        }
        if !self.tags.is_empty() {
            object.insert(
                "tags".into(),
                Json::Array(self.tags.iter().cloned().map(Json::String).collect()),
            );
        }
        set(&mut object, "note", &self.note);
        object
    }
}
