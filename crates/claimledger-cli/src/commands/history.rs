use super::{as_of_seq, find_claim_as_of, print_json};
use crate::cli::ShowArgs;
use crate::env::Env;
use crate::error::CliResult;
use crate::output;
use claimledger_cli::view::revision_json;
use claimledger_core::diff::{diff_claims, FieldChange};
use claimledger_core::{Event, Period, Value};
use claimledger_store::Revision;
use serde_json::Value as Json;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_history(env: &Env, args: ShowArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let as_of = as_of_seq(&ledger, &args.as_of)?;
    let state = find_claim_as_of(&ledger, &args.claim, as_of)?;
    let revisions = ledger.history_as_of(state.id, as_of)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let items = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let previous = i.checked_sub(1).map(|p| revisions[p].entry.event.claim());
                revision_json(&r.entry, &r.hash, previous)
            })
            .collect();
        print_json(&mut out, &Json::Array(items))?;
    } else {
        write_history(&mut out, &output::claim_name(&state), &revisions)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn changes(revision: &Revision, previous: Option<&Revision>) -> Vec<FieldChange> {
    previous
        .map(|p| diff_claims(p.entry.event.claim(), revision.entry.event.claim()))
        .unwrap_or_default()
}

/// A field's value the way `show` puts it.
fn render(field: &str, value: &Option<Json>) -> String {
    let Some(value) = value else {
        return "(none)".into();
    };
    match field {
        "value" => serde_json::from_value::<Value>(value.clone())
            .map(|v| output::figure(&v))
            .unwrap_or_else(|_| value.to_string()),
        "period" => serde_json::from_value::<Period>(value.clone())
            .map(|p| output::period(&p))
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
                .map(|s| {
                    s.get("publisher")
                        .or_else(|| s.get("url"))
                        .and_then(Json::as_str)
                        .unwrap_or("?")
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        },
    }
}

pub fn write_history(
    out: &mut impl Write,
    name: &str,
    revisions: &[Revision],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{name}: {}",
        output::plural(revisions.len() as u64, "revision", "revisions")
    )?;
    for (i, revision) in revisions.iter().enumerate() {
        let event = &revision.entry.event;
        writeln!(out)?;
        writeln!(
            out,
            "revision {} · entry {} · {} · by {}",
            event.revision(),
            revision.seq,
            output::timestamp(event.recorded_at()),
            event.author()
        )?;
        match event {
            Event::ClaimRecorded(e) => {
                writeln!(
                    out,
                    "  recorded: {}",
                    e.claim
                        .value
                        .as_ref()
                        .map(output::figure)
                        .unwrap_or_else(|| e.claim.statement.clone())
                )?;
            }
            Event::ClaimRevised(e) => writeln!(
                out,
                "  {}: {}",
                e.kind.as_str(),
                indent_continuation(&e.reason)
            )?,
        }
        if let Some(note) = event.note() {
            writeln!(out, "  note: {}", indent_continuation(note))?;
        }
        writeln!(out, "  hash {}", revision.hash)?;
        for change in changes(revision, i.checked_sub(1).map(|p| &revisions[p])) {
            let line = format!(
                "{}: {} → {}",
                change.field,
                render(&change.field, &change.before),
                render(&change.field, &change.after)
            );
            writeln!(out, "  {}", indent_continuation(&line))?;
        }
    }
    Ok(())
}

/// Indents every line after the first, so that a multi-line value stays inside its block.
fn indent_continuation(text: &str) -> String {
    text.replace('\n', "\n    ")
}
