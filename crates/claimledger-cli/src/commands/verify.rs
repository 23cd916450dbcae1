//! `claims verify`: the ledger, or a bundle with no ledger at hand, recomputed and checked.

use super::{parse_head, print_json};
use crate::cli::VerifyArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult, ExitKind};
use crate::output;
use crate::progress::Progress;
use claimledger_store::{verify_bundle, Head, Problem};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_verify(env: &Env, args: VerifyArgs) -> CliResult<ExitCode> {
    let expect = args
        .expect_head
        .as_deref()
        .map(|h| parse_head(h, "--expect-head"))
        .transpose()?;
    let (what, head, entries, claims, problem) = match &args.bundle {
        Some(path) => {
            let name = path.display().to_string();
            super::refuse_import_file(path)?;
            let file = std::fs::File::open(path).map_err(|e| CliError::file("read", path, &e))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = Progress::bytes(env.quiet || size == 0, size, "checking");
            let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
            let report = verify_bundle(&mut reader, expect, &mut |_| {})
                .map_err(|e| CliError::io(format!("cannot read {name}: {e}")))?;
            progress.finish();
            (
                name,
                report.head,
                report.head.count,
                report.claim_count,
                report.problem,
            )
        }
        None => {
            let ledger = env.open()?;
            let progress = Progress::new(env.quiet, ledger.head().count, "checking", "entries");
            let report = ledger.verify_against(expect, &mut |checked| progress.set(checked))?;
            progress.finish();
            // --checkpoint (commands/checkpoint.rs), once the ledger itself is sound.
            let problem = match (report.problem, &args.checkpoint) {
                (None, Some(path)) => {
                    super::checkpoint::check_against_checkpoint(env, &ledger, path)?
                }
                (problem, _) => problem,
            };
            (
                "ledger".to_owned(),
                report.head,
                report.entries_checked,
                report.claim_count,
                problem,
            )
        }
    };
    let of = if args.bundle.is_some() {
        Some(what.as_str())
    } else {
        None
    };
    write_report(
        &mut std::io::stdout().lock(),
        args.json,
        of,
        head,
        entries,
        claims,
        &problem,
        expect,
    )?;
    Ok(match problem {
        None => ExitCode::SUCCESS,
        Some(_) => ExitCode::from(ExitKind::Integrity as u8),
    })
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    out: &mut impl Write,
    json: bool,
    bundle: Option<&str>,
    head: Head,
    entries: u64,
    claims: u64,
    problem: &Option<Problem>,
    expect: Option<Head>,
) -> CliResult {
    if json {
        let problem = problem
            .as_ref()
            .map(|p| json!({"seq": p.seq.map(|s| s.0), "what": p.what}));
        print_json(
            out,
            &json!({
                "ok": problem.is_none(),
                "bundle": bundle,
                "entries": entries,
                "claims": claims,
                "head": {"count": head.count, "hash": head.hash.to_hex()},
                "expected_head": expect.map(|e| json!({"count": e.count, "hash": e.hash.to_hex()})),
                "problem": problem,
            }),
        )?;
        return Ok(());
    }
    match problem {
        None => {
            write!(
                out,
                "OK: {entries} {}, {claims} {}; head {head}",
                output::noun(entries, "entry", "entries"),
                output::noun(claims, "claim", "claims")
            )?;
            if let Some(expect) = expect {
                write!(out, "; holds the expected head {expect}")?;
            }
            writeln!(out)?;
        }
        Some(problem) => match bundle {
            Some(name) => writeln!(out, "FAILED: {name}: {problem}")?,
            None => writeln!(out, "FAILED: {problem}")?,
        },
    }
    Ok(())
}
