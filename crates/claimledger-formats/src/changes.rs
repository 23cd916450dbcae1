//! What changed between two revisions of a claim, as `claims history` and the claim page of
//! `claims serve` both say it: a field's value as `show` puts it, and inside the sources, which
//! source changed and how (`sources[1].url: a → b`, `sources[2]: added: ...`).

use crate::text;
use claimledger_core::diff::FieldChange;
use claimledger_core::{Period, Value};
use serde_json::Value as Json;

/// What changed in one field, a line each: `field: before → after`, or for the sources, a
/// line per source changed ([`source_changes`]).
pub fn change_lines(change: &FieldChange) -> Vec<String> {
    match source_lines(change) {
        Some(lines) => lines,
        None => vec![format!(
            "{}: {} → {}",
            change.field,
            field_text(&change.field, &change.before),
            field_text(&change.field, &change.after)
        )],
    }
}

/// For a change of the sources from one list to another, what changed in them
/// ([`source_changes`]); `None` for any other change.
pub fn source_lines(change: &FieldChange) -> Option<Vec<String>> {
    match (change.field.as_str(), &change.before, &change.after) {
        ("sources", Some(Json::Array(before)), Some(Json::Array(after))) => {
            Some(source_changes(before, after))
        }
        _ => None,
    }
}

/// A field's value the way `show` puts it; `(none)` when absent.
pub fn field_text(field: &str, value: &Option<Json>) -> String {
    let Some(value) = value else {
        return "(none)".into();
    };
    match field {
        "value" => serde_json::from_value::<Value>(value.clone())
            .map(|v| text::figure(&v))
            .unwrap_or_else(|_| value.to_string()),
        "period" => serde_json::from_value::<Period>(value.clone())
            .map(|p| text::period(&p))
            .unwrap_or_else(|_| value.to_string()),
        "statement" | "method" => format!("“{}”", value.as_str().unwrap_or_default()),
        _ => match value {
            Json::String(text) => text.clone(),
            Json::Array(items) if field == "tags" => items
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            Json::Array(items) if field == "sources" => items
                .iter()
                .map(describe_source)
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        },
    }
}

/// The fields of a source, in the order of the input format.
const SOURCE_FIELDS: [&str; 6] = [
    "publisher",
    "title",
    "url",
    "published_on",
    "retrieved_on",
    "quote",
];

/// A source on one line: `publisher AFP, url https://…, quote “…”, 1 snapshot`.
fn describe_source(source: &Json) -> String {
    let snapshots = source
        .get("archived")
        .and_then(Json::as_array)
        .map(|items| text::plural(items.len() as u64, "snapshot", "snapshots"));
    SOURCE_FIELDS
        .iter()
        .filter_map(|field| {
            source
                .get(*field)
                .map(|value| format!("{field} {}", source_field(field, Some(value))))
        })
        .chain(snapshots)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A snapshot on one line: `4f2a… (application/pdf, 1.2 MB, captured 2025-08-13)`.
fn describe_snapshot(item: &Json) -> String {
    let field = |name: &str| item.get(name).and_then(Json::as_str).unwrap_or("?");
    let size = item.get("size").and_then(Json::as_u64).unwrap_or(0);
    let fetched = match (
        item.get("status").and_then(Json::as_u64),
        item.get("url").and_then(Json::as_str),
    ) {
        (Some(status), Some(url)) => format!(", fetched {url}: {status}"),
        (None, Some(url)) => format!(", from {url}"),
        _ => String::new(),
    };
    format!(
        "{} ({}, {}, captured {}{fetched})",
        field("sha256"),
        field("media_type"),
        text::bytes(size),
        field("captured_at")
    )
}

/// What changed in one source's snapshots: each added and each removed, by hash.
fn snapshot_changes(new: usize, before: Option<&Json>, after: Option<&Json>) -> Vec<String> {
    let items = |list: Option<&Json>| -> Vec<Json> {
        list.and_then(Json::as_array).cloned().unwrap_or_default()
    };
    let (before, after) = (items(before), items(after));
    let hash = |item: &Json| item.get("sha256").cloned();
    let mut lines = Vec::new();
    for item in &before {
        if !after.iter().any(|other| hash(other) == hash(item)) {
            lines.push(format!(
                "sources[{new}].archived: removed snapshot {}",
                describe_snapshot(item)
            ));
        }
    }
    for item in &after {
        match before.iter().find(|other| hash(other) == hash(item)) {
            None => lines.push(format!(
                "sources[{new}].archived: added snapshot {}",
                describe_snapshot(item)
            )),
            Some(other) if other != item => lines.push(format!(
                "sources[{new}].archived: snapshot {} → {}",
                describe_snapshot(other),
                describe_snapshot(item)
            )),
            Some(_) => {}
        }
    }
    lines
}

/// One field of a source as `show` puts it.
fn source_field(field: &str, value: Option<&Json>) -> String {
    match value {
        None => "(none)".into(),
        Some(Json::String(text)) if matches!(field, "title" | "quote") => format!("“{text}”"),
        Some(Json::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// What changed in a claim's sources, a line each: a source kept where it was says nothing;
/// one changed in place gives its changed fields (`sources[1].url: a → b`); the others are
/// `sources[2]: added: ...`, `sources[0]: removed: ...` or `sources[0]: moved from
/// sources[1]`. Positions count from 0, as in the input format's error messages, in the new
/// list (added, changed, moved) or the old (removed).
pub fn source_changes(before: &[Json], after: &[Json]) -> Vec<String> {
    // The longest run of sources kept unchanged, in order. Between two kept sources, a source
    // found on both sides moved; the others pair up, old with new, as changed in place; what
    // is left was removed or added.
    let (n, m) = (before.len(), after.len());
    let mut longest = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if before[i] == after[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    // Runs of (removed, added) between kept sources.
    let mut runs: Vec<(Vec<usize>, Vec<usize>)> = vec![(Vec::new(), Vec::new())];
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let run = runs.last_mut().expect("one run at least");
        if i < n && j < m && before[i] == after[j] {
            runs.push((Vec::new(), Vec::new()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || longest[i + 1][j] >= longest[i][j + 1]) {
            run.0.push(i);
            i += 1;
        } else {
            run.1.push(j);
            j += 1;
        }
    }
    let mut moved_from: Vec<Option<usize>> = vec![None; m];
    let mut taken = vec![false; n];
    for &new in runs.iter().flat_map(|(_, added)| added) {
        let old = runs
            .iter()
            .flat_map(|(removed, _)| removed)
            .find(|&&old| !taken[old] && before[old] == after[new]);
        if let Some(&old) = old {
            taken[old] = true;
            moved_from[new] = Some(old);
        }
    }
    let mut lines = Vec::new();
    for (removed, added) in &runs {
        let removed: Vec<usize> = removed.iter().copied().filter(|&o| !taken[o]).collect();
        let added: Vec<usize> = added
            .iter()
            .copied()
            .filter(|&a| moved_from[a].is_none())
            .collect();
        for (&old, &new) in removed.iter().zip(&added) {
            for field in SOURCE_FIELDS {
                let (a, b) = (before[old].get(field), after[new].get(field));
                if a != b {
                    lines.push(format!(
                        "sources[{new}].{field}: {} → {}",
                        source_field(field, a),
                        source_field(field, b)
                    ));
                }
            }
            lines.extend(snapshot_changes(
                new,
                before[old].get("archived"),
                after[new].get("archived"),
            ));
        }
        let paired = removed.len().min(added.len());
        for &old in &removed[paired..] {
            lines.push(format!(
                "sources[{old}]: removed: {}",
                describe_source(&before[old])
            ));
        }
        for &new in &added[paired..] {
            lines.push(format!(
                "sources[{new}]: added: {}",
                describe_source(&after[new])
            ));
        }
    }
    for (new, old) in moved_from.iter().enumerate() {
        if let Some(old) = old {
            lines.push(format!("sources[{new}]: moved from sources[{old}]"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::source_changes;
    use serde_json::json;

    #[track_caller]
    fn check(before: serde_json::Value, after: serde_json::Value, expected: &[&str]) {
        let (Some(before), Some(after)) = (before.as_array(), after.as_array()) else {
            panic!("arrays")
        };
        assert_eq!(source_changes(before, after), expected);
    }

    #[test]
    fn source_changes_name_the_source_and_field() {
        let afp = json!({"publisher": "AFP", "quote": "95,300"});
        let bbc = json!({"publisher": "BBC", "url": "https://bbc.example/a"});
        let bbc_moved = json!({"publisher": "BBC", "url": "https://bbc.example/b"});
        let new = json!({"publisher": "Mediazona", "quote": "121,507"});
        check(
            json!([afp]),
            json!([afp, new]),
            &["sources[1]: added: publisher Mediazona, quote “121,507”"],
        );
        check(
            json!([afp, bbc]),
            json!([afp, bbc_moved]),
            &["sources[1].url: https://bbc.example/a → https://bbc.example/b"],
        );
        check(
            json!([afp, bbc]),
            json!([bbc]),
            &["sources[0]: removed: publisher AFP, quote “95,300”"],
        );
        check(
            json!([afp]),
            json!([new]),
            &[
                "sources[0].publisher: AFP → Mediazona",
                "sources[0].quote: “95,300” → “121,507”",
            ],
        );
        check(
            json!([afp, bbc]),
            json!([new, bbc, afp]),
            &[
                "sources[0]: added: publisher Mediazona, quote “121,507”",
                "sources[2]: moved from sources[0]",
            ],
        );
        check(
            json!([afp, bbc]),
            json!([bbc, afp]),
            &["sources[1]: moved from sources[0]"],
        );
        check(
            json!([]),
            json!([afp]),
            &["sources[0]: added: publisher AFP, quote “95,300”"],
        );
        check(json!([afp]), json!([afp]), &[]);
    }
}
