use super::{as_of_seq, find_claim_as_of, print_json};
use crate::cli::ShowArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use claimledger_cli::view::claim_json;
use claimledger_core::decide::ClaimState;
use claimledger_store::Storage;
use std::io::Write;

pub fn cmd_show<S: Storage>(ctx: &mut Ctx<'_, S>, args: ShowArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let stated_by = super::listing::parse_stated_by(&args.stated_by.stated_by)?;
    let ledger = ledgers.read(env, io.err)?;
    let as_of = as_of_seq(ledger, &args.as_of)?;
    let state = find_claim_as_of(ledger, &args.claim, as_of)?;
    let state = match &stated_by {
        None => state,
        Some(by) => {
            let first_stated = state.claim.stated_on.clone();
            super::listing::stated_by(ledger, state, by, as_of)?.ok_or_else(|| {
                CliError::input(format!(
                    "claim {:?} has no revision stated on or before {by}{}",
                    args.claim,
                    first_stated
                        .map(|d| format!(" (its latest is stated {d})"))
                        .unwrap_or_default()
                ))
            })?
        }
    };
    if args.json {
        print_json(io.out, &claim_json(&state))?;
    } else {
        write_claim(io.out, &state)?;
    }
    Ok(Exit::SUCCESS)
}

/// A claim as labelled lines, for people.
pub fn write_claim(out: &mut dyn Write, state: &ClaimState) -> std::io::Result<()> {
    let claim = &state.claim;
    let mut rows: Vec<(&str, String)> = Vec::new();
    let id = match &state.key {
        Some(key) => format!("{key} ({})", state.id),
        None => state.id.to_string(),
    };
    rows.push(("claim", id));
    rows.push(("subject", claim.subject.to_string()));
    rows.push(("claimant", claim.claimant.clone()));
    rows.push(("statement", claim.statement.clone()));
    if let Some(value) = &claim.value {
        rows.push(("figure", output::figure(value)));
    }
    if let Some(period) = &claim.period {
        rows.push(("period", output::period(period)));
    }
    if let Some(stated_on) = &claim.stated_on {
        rows.push(("stated on", stated_on.to_string()));
    }
    if let Some(method) = &claim.method {
        rows.push(("method", method.clone()));
    }
    rows.push(("status", claim.status.as_str().to_owned()));
    if !claim.tags.is_empty() {
        rows.push((
            "tags",
            claim
                .tags
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    for (i, source) in claim.sources.iter().enumerate() {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(source.publisher.clone());
        parts.extend(source.title.as_ref().map(|t| format!("\"{t}\"")));
        parts.extend(
            source
                .published_on
                .as_ref()
                .map(|d| format!("published {d}")),
        );
        parts.extend(
            source
                .retrieved_on
                .as_ref()
                .map(|d| format!("retrieved {d}")),
        );
        parts.extend(source.url.clone());
        rows.push((
            if i == 0 { "sources" } else { "" },
            format!("{}. {}", i + 1, parts.join(", ")),
        ));
        if let Some(quote) = &source.quote {
            rows.push(("", format!("   “{quote}”")));
        }
        for archived in &source.archived {
            let fetched = match (&archived.url, archived.status) {
                (Some(url), Some(status)) => format!(", fetched {url}: {status}"),
                (Some(url), None) => format!(", from {url}"),
                _ => String::new(),
            };
            rows.push((
                "",
                format!(
                    "   snapshot {} ({}, {}, captured {}{fetched})",
                    archived.sha256,
                    archived.media_type,
                    output::bytes(archived.size),
                    archived.captured_at
                ),
            ));
        }
    }
    rows.push((
        "revision",
        format!(
            "{} (recorded {}, last revised {})",
            state.revision,
            output::timestamp(state.recorded_at),
            output::timestamp(state.revised_at)
        ),
    ));
    for (label, value) in rows {
        let mut lines = value.lines();
        writeln!(out, "{label:<11}{}", lines.next().unwrap_or_default())?;
        for line in lines {
            writeln!(out, "{:<11}{line}", "")?;
        }
    }
    Ok(())
}
