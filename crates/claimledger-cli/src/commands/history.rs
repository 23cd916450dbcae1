use super::{as_of_seq, find_claim_as_of, print_json};
use crate::cli::HistoryArgs;
use crate::ctx::Ctx;
use crate::error::{CliResult, Exit};
use crate::output;
use claimledger_cli::view::revision_json;
use claimledger_core::diff::{diff_claims, FieldChange};
use claimledger_core::Event;
use claimledger_formats::changes::change_lines;
use claimledger_store::{Revision, Storage};
use serde_json::Value as Json;
use std::io::Write;

pub fn cmd_history<S: Storage>(ctx: &mut Ctx<'_, S>, args: HistoryArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    let as_of = as_of_seq(ledger, &args.as_of)?;
    let state = find_claim_as_of(ledger, &args.claim, as_of)?;
    let revisions = ledger.history_as_of(state.id, as_of)?;
    let out = &mut *io.out;
    if args.json {
        let items = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let previous = i.checked_sub(1).map(|p| revisions[p].entry.event.claim());
                revision_json(&r.entry, &r.hash, previous)
            })
            .collect();
        print_json(out, &Json::Array(items))?;
    } else {
        write_history(out, &output::claim_name(&state), &revisions)?;
    }
    Ok(Exit::SUCCESS)
}

fn changes(revision: &Revision, previous: Option<&Revision>) -> Vec<FieldChange> {
    previous
        .map(|p| diff_claims(p.entry.event.claim(), revision.entry.event.claim()))
        .unwrap_or_default()
}

pub fn write_history(
    out: &mut dyn Write,
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
            for line in change_lines(&change) {
                writeln!(out, "  {}", indent_continuation(&line))?;
            }
        }
    }
    Ok(())
}

/// Indents every line after the first, so that a multi-line value stays inside its block.
fn indent_continuation(text: &str) -> String {
    text.replace('\n', "\n    ")
}
