//! `claims demo`: a short tour on real claims, on a fresh temporary ledger (or --ledger).

use super::history::write_history;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output;
use claimledger_core::input::parse_command;
use claimledger_core::{Seq, Subject};
use claimledger_store::{forge, Filter, Ledger, SledStorage, Storage};
use std::io::Write;
use std::process::ExitCode;

/// Every claim in two news reports on war casualties, in the claim input format.
pub const SEED_CLAIMS: &str = include_str!("../../../../examples/seed-claims.jsonl");

/// The claim whose revision the tour follows.
const FOLLOWED_KEY: &str = "mediazona-named-dead";

pub fn cmd_demo(env: &Env) -> CliResult<ExitCode> {
    let temporary = if env.ledger_named {
        None
    } else {
        Some(
            tempfile::tempdir()
                .map_err(|e| CliError::io(format!("cannot make a temporary directory: {e}")))?,
        )
    };
    let dir = temporary
        .as_ref()
        .map_or(env.ledger_dir.clone(), |t| t.path().join("ledger"));
    let mut out = std::io::stdout().lock();
    let rule = |out: &mut std::io::StdoutLock, title: &str| {
        writeln!(
            out,
            "\n── {title} {}",
            "─".repeat(70usize.saturating_sub(title.chars().count()))
        )
    };

    rule(
        &mut out,
        "1. A new ledger, and the claims of two news reports",
    )?;
    let mut ledger = Ledger::open(SledStorage::create(&dir, env.wait)?)?;
    let commands = SEED_CLAIMS
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            parse_command(line)
                .map_err(|e| CliError::input(format!("seed claims line {}: {e}", i + 1)))
        })
        .collect::<CliResult<Vec<_>>>()?;
    let receipts = ledger.submit(&commands, &env.submit_context()?)?;
    writeln!(out, "ledger: {}", dir.display())?;
    writeln!(out, "imported {} entries from examples/seed-claims.jsonl (AFP, 25 Feb 2025; a report of 13 Aug 2025)", receipts.len())?;

    rule(&mut out, "2. Who says how many Russian soldiers have died?")?;
    let filter = Filter {
        subject: Some(Subject::parse("russia/military-deaths").expect("a valid subject")),
        ..Filter::default()
    };
    let mut claims: Vec<_> = ledger
        .list(&filter)?
        .into_iter()
        .filter(|c| c.claim.subject.as_str() == "russia/military-deaths")
        .collect();
    claims.sort_by(|a, b| match (&a.claim.stated_on, &b.claim.stated_on) {
        (Some(x), Some(y)) => x.cmp_chronological(y),
        (x, y) => x.is_none().cmp(&y.is_none()),
    });
    let rows = claims
        .iter()
        .map(|c| {
            vec![
                c.claim.claimant.clone(),
                c.claim
                    .value
                    .as_ref()
                    .map(output::figure)
                    .unwrap_or_else(|| "(no figure)".into()),
                c.claim
                    .period
                    .as_ref()
                    .map(output::period)
                    .unwrap_or_default(),
                c.claim
                    .stated_on
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                c.revision.to_string(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        output::table(&["CLAIMANT", "FIGURE", "PERIOD", "STATED", "REV"], rows)
    )?;

    rule(&mut out, "3. How one figure changed, and why")?;
    let followed = ledger
        .resolve(FOLLOWED_KEY)?
        .ok_or_else(|| CliError::input(format!("the seed claims lack {FOLLOWED_KEY}")))?;
    let history = ledger.history(followed)?;
    write_history(&mut out, FOLLOWED_KEY, &history)?;

    rule(&mut out, "4. Proving nothing was quietly edited")?;
    let report = ledger.verify(&mut |_| {})?;
    match &report.problem {
        None => writeln!(
            out,
            "verify: OK, {} entries, {} claims",
            report.entries_checked, report.claim_count
        )?,
        Some(problem) => {
            return Err(CliError::integrity(format!(
                "the demo ledger failed verification: {problem}"
            )))
        }
    }
    writeln!(
        out,
        "head:   {}   (write this down, or publish it)",
        report.head
    )?;

    rule(
        &mut out,
        "5. Someone edits one stored byte: 95,300 becomes 85,300",
    )?;
    let original = history
        .first()
        .ok_or_else(|| CliError::integrity("the followed claim has no revisions"))?;
    let bytes = ledger
        .storage()
        .entry(original.seq)?
        .ok_or_else(|| CliError::integrity("entry missing"))?;
    let text = String::from_utf8_lossy(&bytes);
    let edited = text
        .replacen("\"95300\"", "\"85300\"", 1)
        .replacen("95,300", "85,300", 1);
    let mut storage = ledger.into_storage();
    forge::overwrite_entry(&mut storage, original.seq, edited.as_bytes())?;
    let ledger = Ledger::open(storage)?;
    let report = ledger.verify(&mut |_| {})?;
    match &report.problem {
        Some(problem) => writeln!(out, "verify: FAILED: {problem}")?,
        None => return Err(CliError::integrity("verify missed a forged entry")),
    }
    writeln!(out, "\nThe alteration of entry {} is caught: every entry commits to the BLAKE3 hash of the one before.", Seq(original.seq.0))?;
    if temporary.is_some() {
        writeln!(out, "(The temporary ledger is removed now. Try it on your own: claims init; claims import examples/seed-claims.jsonl)")?;
    }
    Ok(ExitCode::SUCCESS)
}
