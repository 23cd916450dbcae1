use super::print_json;
use crate::cli::JsonArg;
use crate::env::Env;
use crate::error::{CliResult, ExitKind};
use crate::progress::Progress;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_verify(env: &Env, args: JsonArg) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let progress = Progress::new(env.quiet, ledger.head().count, "verifying", "entries");
    let report = ledger.verify(&mut |checked| progress.set(checked))?;
    progress.finish();
    let mut out = std::io::stdout().lock();
    if args.json {
        let problem = report
            .problem
            .as_ref()
            .map(|p| json!({"seq": p.seq.map(|s| s.0), "what": p.what}));
        print_json(
            &mut out,
            &json!({
                "ok": report.problem.is_none(),
                "entries": report.entries_checked,
                "claims": report.claim_count,
                "head": {"count": report.head.count, "hash": report.head.hash.to_hex()},
                "problem": problem,
            }),
        )?;
    } else {
        match &report.problem {
            None => writeln!(
                out,
                "OK: {} entries, {} claims; head {}",
                report.entries_checked, report.claim_count, report.head
            )?,
            Some(problem) => writeln!(out, "FAILED: {problem}")?,
        }
    }
    Ok(match report.problem {
        None => ExitCode::SUCCESS,
        Some(_) => ExitCode::from(ExitKind::Integrity as u8),
    })
}
