//! `claims verify`: the ledger, or a bundle with no ledger at hand, recomputed and checked.

use super::{parse_head, print_json};
use crate::cli::VerifyArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit, ExitKind};
use crate::output;
use crate::progress::Progress;
use claimledger_store::{verify_bundle, BundleCheckpoint, BundleReport, Head, Problem, Storage};
use serde_json::json;
use std::io::Write;

pub fn cmd_verify<S: Storage + Sync>(ctx: &mut Ctx<'_, S>, args: VerifyArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let expect = args
        .expect_head
        .as_deref()
        .map(|h| parse_head(h, "--expect-head"))
        .transpose()?;
    let key = args
        .key
        .as_deref()
        .map(|k| super::verify_proof::verifier_key(io, k))
        .transpose()?;
    let mut bundle_info = None;
    let (what, head, entries, claims, problem) = match &args.bundle {
        Some(path) => {
            let name = path.display().to_string();
            super::refuse_import_file(io, path)?;
            let file = io
                .open_read(path)
                .map_err(|e| CliError::file("read", path, &e))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = Progress::bytes(io, size == 0, size, "checking");
            let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
            let report = verify_bundle(&mut reader, expect, key.as_ref(), &mut |_| {})
                .map_err(|e| CliError::io(format!("cannot read {name}: {e}")))?;
            progress.finish();
            let info = BundleInfo::of(&report);
            bundle_info = Some(info);
            (
                name,
                report.head,
                report.head.count,
                report.claim_count,
                report.problem,
            )
        }
        None => {
            let ledger = ledgers.read_still(env, io.err)?;
            let progress = Progress::new(io, false, ledger.head().count, "checking", "entries");
            let report = ledger.verify_against(expect, &mut |checked| progress.set(checked))?;
            progress.finish();
            // --checkpoint (commands/checkpoint.rs), once the ledger itself is sound.
            let problem = match (report.problem, &args.checkpoint) {
                (None, Some(path)) => {
                    super::checkpoint::check_against_checkpoint(io, ledger, path)?
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
        io.out,
        args.json,
        of,
        bundle_info.as_ref(),
        head,
        entries,
        claims,
        &problem,
        expect,
    )?;
    Ok(match problem {
        None => Exit::SUCCESS,
        Some(_) => Exit::failed(ExitKind::Integrity),
    })
}

/// What a bundle's first and last lines said, for the report.
struct BundleInfo {
    origin: Option<String>,
    /// `none`, `unsigned`, `signed` (not checked) or `verified`.
    checkpoint: &'static str,
    /// How the OK line ends.
    said: String,
}

impl BundleInfo {
    fn of(report: &BundleReport) -> BundleInfo {
        let origin = report.origin.clone().unwrap_or_default();
        let (checkpoint, said) = match &report.checkpoint {
            BundleCheckpoint::Absent => (
                "none",
                "; the bundle has no checkpoint (an export from an older claimledger), so its \
                 last entry is not protected: check its head against one kept elsewhere with \
                 --expect-head"
                    .to_owned(),
            ),
            BundleCheckpoint::Unsigned => (
                "unsigned",
                format!(
                    "; its checkpoint of {origin} matches; unsigned, it shows the bundle \
                     intact, not who made it (sign with `claims export --sign`)"
                ),
            ),
            BundleCheckpoint::SignedUnchecked => (
                "signed",
                format!("; its checkpoint of {origin} matches; signature not checked (no --key)"),
            ),
            BundleCheckpoint::Verified { key } => (
                "verified",
                format!("; its checkpoint of {origin} matches, signed by {key}"),
            ),
        };
        BundleInfo {
            origin: report.origin.clone(),
            checkpoint,
            said,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    out: &mut dyn Write,
    json: bool,
    bundle: Option<&str>,
    bundle_info: Option<&BundleInfo>,
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
                "origin": bundle_info.and_then(|b| b.origin.as_deref()),
                "checkpoint": bundle_info.map(|b| b.checkpoint),
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
            if let Some(info) = bundle_info {
                write!(out, "{}", info.said)?;
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
