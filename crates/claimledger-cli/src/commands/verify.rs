//! `claims verify`: the ledger, or a bundle with no ledger at hand, recomputed and checked.

use super::{parse_head, print_json};
use crate::cli::VerifyArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit, ExitKind};
use crate::io::Io;
use crate::output;
use crate::progress::Progress;
use claimledger_store::{
    verify_bundle, BundleCheckpoint, BundleReport, EvidenceStore, Head, Problem, SnapshotRef,
    Storage,
};
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
    let mut snapshots = Snapshots::default();
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
            let problem = match (report.problem, &args.evidence) {
                (None, Some(dir)) => {
                    if !env.user_path(dir).is_dir() {
                        return Err(CliError::input(format!(
                            "--evidence {}: not a directory",
                            dir.display()
                        )));
                    }
                    snapshots.checked = true;
                    check_snapshots(
                        io,
                        &EvidenceStore::flat(&env.user_path(dir)),
                        &report.snapshots,
                        &mut snapshots,
                        &|r| r.claim_id.to_string(),
                        &dir.display().to_string(),
                    )?
                }
                (problem, _) => {
                    snapshots.count = report.snapshots.len() as u64;
                    snapshots.bytes = report.snapshots.iter().map(|r| r.size).sum();
                    problem
                }
            };
            (
                name,
                report.head,
                report.head.count,
                report.claim_count,
                problem,
            )
        }
        None => {
            let store = ledgers.evidence(env);
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
            // Then the snapshots the log names, each hashed (docs/FORMAT.md, section 5).
            let problem = match problem {
                None => {
                    snapshots.checked = true;
                    let name = |r: &SnapshotRef| match ledger.claim(r.claim_id) {
                        Ok(Some(state)) => state
                            .key
                            .map_or_else(|| r.claim_id.to_string(), |k| k.to_string()),
                        _ => r.claim_id.to_string(),
                    };
                    let problem = check_snapshots(
                        io,
                        &store,
                        &report.snapshots,
                        &mut snapshots,
                        &name,
                        "the evidence store",
                    )?;
                    if problem.is_none() {
                        note_unreferenced(io, &store, &report.snapshots);
                    }
                    problem
                }
                problem => problem,
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
        &snapshots,
        &problem,
        expect,
    )?;
    Ok(match problem {
        None => Exit::SUCCESS,
        Some(_) => Exit::failed(ExitKind::Integrity),
    })
}

/// The snapshots the entries name, and whether their files were checked.
#[derive(Default)]
struct Snapshots {
    count: u64,
    bytes: u64,
    checked: bool,
}

/// Hashes every snapshot of `refs` in `store`, in parallel; the first one missing, cut short or
/// altered is the problem, naming its claim (by `name`), source and hash.
fn check_snapshots(
    io: &Io,
    store: &EvidenceStore,
    refs: &[SnapshotRef],
    snapshots: &mut Snapshots,
    name: &dyn Fn(&SnapshotRef) -> String,
    place: &str,
) -> CliResult<Option<Problem>> {
    snapshots.count = refs.len() as u64;
    snapshots.bytes = refs.iter().map(|r| r.size).sum();
    let progress = Progress::bytes(io, refs.is_empty(), snapshots.bytes, "hashing snapshots");
    let found = store
        .check_all(refs, &|size| progress.add(size))
        .map_err(|e| {
            CliError::io(format!(
                "cannot read the evidence in {}: {e}",
                store.root().display()
            ))
        })?;
    progress.finish();
    Ok(found.map(|(r, fault)| Problem {
        seq: None,
        what: format!(
            "snapshot {} of source {} of claim {} (named by entry {}) {fault}, in {}",
            r.sha256,
            r.source + 1,
            name(&r),
            r.seq,
            place
        ),
    }))
}

/// Says so when the evidence store holds files no entry names: what a write interrupted
/// between putting its snapshot in place and committing its entry leaves. Not damage.
fn note_unreferenced(io: &mut Io, store: &EvidenceStore, refs: &[SnapshotRef]) {
    let Ok((present, leftovers)) = store.list() else {
        return;
    };
    let named: std::collections::HashSet<_> = refs.iter().map(|r| r.sha256).collect();
    let unnamed = present.iter().filter(|h| !named.contains(h)).count() as u64;
    if unnamed > 0 || leftovers > 0 {
        io.say(format_args!(
            "note: the evidence store holds {} that no entry names and {} (left by an \
             interrupted archive or import; not damage)",
            output::plural(unnamed, "snapshot file", "snapshot files"),
            output::plural(leftovers as u64, "temporary file", "temporary files")
        ));
    }
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
    snapshots: &Snapshots,
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
                "snapshots": {"count": snapshots.count, "bytes": snapshots.bytes, "checked": snapshots.checked},
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
            if snapshots.count > 0 {
                write!(
                    out,
                    "; {} ({}) {}",
                    output::plural(snapshots.count, "snapshot", "snapshots"),
                    output::bytes(snapshots.bytes),
                    if snapshots.checked {
                        "hashed and intact"
                    } else {
                        "named, not checked (give --evidence DIR)"
                    }
                )?;
            }
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
