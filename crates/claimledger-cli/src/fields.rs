//! Claim fields given as flags, turned into the JSON of the input format, so that flags and
//! files go through one parser and one set of rules. In the library so that the benchmark's
//! SQLite alternative takes the same flags.

use clap::Args as ClapArgs;
use serde_json::{Map, Value as Json};

/// The claim fields that `add` and `revise` take as flags.
#[derive(Debug, Default, ClapArgs)]
pub struct FieldArgs {
    /// What the claim is about, as a path: russia/military-deaths
    #[arg(long)]
    pub subject: Option<String>,
    /// Who asserts it
    #[arg(long)]
    pub claimant: Option<String>,
    /// The claim in words
    #[arg(long)]
    pub statement: Option<String>,
    /// The figure, an exact decimal: 121507 or 0.5
    #[arg(long, allow_hyphen_values = true)]
    pub amount: Option<String>,
    /// The low end of a range (with --bound range)
    #[arg(long, allow_hyphen_values = true)]
    pub low: Option<String>,
    /// The high end of a range (with --bound range)
    #[arg(long, allow_hyphen_values = true)]
    pub high: Option<String>,
    /// exact, at_least ("more than"), at_most ("up to"), approx ("around") or range
    #[arg(long)]
    pub bound: Option<String>,
    /// The figure's unit: people
    #[arg(long)]
    pub unit: Option<String>,
    /// Start of the period the figure covers: YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// End of the period the figure covers
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// When the claimant made the claim
    #[arg(long, value_name = "DATE")]
    pub stated_on: Option<String>,
    /// How the claimant arrived at it
    #[arg(long)]
    pub method: Option<String>,
    /// The source's URL (http or https)
    #[arg(long, value_name = "URL")]
    pub source_url: Option<String>,
    /// The source's publisher: AFP
    #[arg(long)]
    pub publisher: Option<String>,
    /// The source's title
    #[arg(long)]
    pub source_title: Option<String>,
    /// When the source was published
    #[arg(long, value_name = "DATE")]
    pub published_on: Option<String>,
    /// When the source was retrieved
    #[arg(long, value_name = "DATE")]
    pub retrieved_on: Option<String>,
    /// The exact words relied on
    #[arg(long)]
    pub quote: Option<String>,
    /// A free label; repeat for several
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// active, disputed, retracted or superseded
    #[arg(long)]
    pub status: Option<String>,
    /// A remark by the person recording it
    #[arg(long)]
    pub note: Option<String>,
}

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
