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
    /// The low end of a range (--low and --high alone make the bound a range)
    #[arg(long, allow_hyphen_values = true)]
    pub low: Option<String>,
    /// The high end of a range
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
    /// A source's URL (http or https). The source flags describe one source; give one of
    /// them again to start the next: --source-url A --quote "..." --source-url B
    #[arg(long, value_name = "URL", help_heading = SOURCES)]
    pub source_url: Vec<String>,
    /// A source's publisher: AFP
    #[arg(long, value_name = "NAME", help_heading = SOURCES)]
    pub publisher: Vec<String>,
    /// A source's title
    #[arg(long, value_name = "TITLE", help_heading = SOURCES)]
    pub source_title: Vec<String>,
    /// When a source was published
    #[arg(long, value_name = "DATE", help_heading = SOURCES)]
    pub published_on: Vec<String>,
    /// When a source was retrieved
    #[arg(long, value_name = "DATE", help_heading = SOURCES)]
    pub retrieved_on: Vec<String>,
    /// The exact words of a source relied on
    #[arg(long, value_name = "TEXT", help_heading = SOURCES)]
    pub quote: Vec<String>,
    /// A free label; repeat for several
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// active, disputed, retracted or superseded
    #[arg(long)]
    pub status: Option<String>,
    /// A remark by the person recording it
    #[arg(long)]
    pub note: Option<String>,
    /// The sources the source flags describe, in the order given: set by
    /// [`FieldArgs::group_sources`] from where each flag stood on the command line. Without
    /// it, the nth value of each source flag describes the nth source.
    #[arg(skip)]
    pub source_groups: Option<Vec<Map<String, Json>>>,
}

/// The help heading of the source flags.
const SOURCES: &str = "Source options";

/// Sets `name` to a string if given.
fn set(object: &mut Map<String, Json>, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        object.insert(name.to_owned(), Json::String(value.clone()));
    }
}

impl FieldArgs {
    /// Groups the source flags into sources by where they stood on the command line
    /// (`matches` are those of the command these flags belong to): each source flag starts a
    /// new source when the current one already has that field. `--publisher AFP --quote A
    /// --publisher Reuters --quote B` makes two sources; so does `--source-url A --source-url B
    /// --quote Q`, whose quote goes with B.
    pub fn group_sources(&mut self, matches: &clap::ArgMatches) {
        let mut given: Vec<(usize, &str, String)> = Vec::new();
        for (id, field) in claimledger_formats::csv_input::SOURCE_COLUMNS {
            let (Some(indices), Ok(Some(values))) =
                (matches.indices_of(id), matches.try_get_many::<String>(id))
            else {
                continue;
            };
            given.extend(
                indices
                    .zip(values)
                    .map(|(index, value)| (index, field, value.clone())),
            );
        }
        given.sort_by_key(|(index, _, _)| *index);
        let mut groups: Vec<Map<String, Json>> = Vec::new();
        for (_, field, value) in given {
            match groups.last_mut() {
                Some(group) if !group.contains_key(field) => {
                    group.insert(field.to_owned(), Json::String(value));
                }
                _ => {
                    let mut group = Map::new();
                    group.insert(field.to_owned(), Json::String(value));
                    groups.push(group);
                }
            }
        }
        self.source_groups = Some(groups);
    }

    /// The sources the source flags describe (none when no source flag is given).
    pub fn sources(&self) -> Vec<Map<String, Json>> {
        if let Some(groups) = &self.source_groups {
            return groups.clone();
        }
        let lists = [
            ("url", &self.source_url),
            ("publisher", &self.publisher),
            ("title", &self.source_title),
            ("published_on", &self.published_on),
            ("retrieved_on", &self.retrieved_on),
            ("quote", &self.quote),
        ];
        let count = lists.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        (0..count)
            .map(|i| {
                lists
                    .iter()
                    .filter_map(|(field, list)| {
                        list.get(i)
                            .map(|v| ((*field).to_owned(), Json::String(v.clone())))
                    })
                    .collect()
            })
            .collect()
    }

    /// The input-format fields these flags set. `current` is the claim's stored JSON when
    /// revising: value, period and source flags then change only the parts they name, and
    /// the sources given are added after the claim's own unless `replace_sources`.
    pub fn to_json(&self, current: Option<&Map<String, Json>>) -> Map<String, Json> {
        self.to_json_with(current, false)
    }

    /// [`FieldArgs::to_json`], with the sources given replacing the claim's own when
    /// `replace_sources` (`revise --replace-sources`).
    pub fn to_json_with(
        &self,
        current: Option<&Map<String, Json>>,
        replace_sources: bool,
    ) -> Map<String, Json> {
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
            // --low and --high without --bound or --amount can only mean a range.
            let implied_range = self.bound.is_none()
                && self.amount.is_none()
                && (self.low.is_some() || self.high.is_some());
            if implied_range {
                value.insert("bound".into(), "range".into());
            }
            if implied_range || self.bound.as_deref().is_some_and(|b| b == "range") {
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
        let given = self.sources();
        if !given.is_empty() {
            let mut sources = match current.and_then(|c| c.get("sources")) {
                Some(Json::Array(existing)) if !replace_sources => existing.clone(),
                _ => Vec::new(),
            };
            sources.extend(given.into_iter().map(Json::Object));
            object.insert("sources".into(), Json::Array(sources));
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
