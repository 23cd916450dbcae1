//! `claims init`: an empty ledger, or one restored from a verified bundle, with the origin the
//! bundle names.

use crate::cli::InitArgs;
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use crate::progress::Progress;
use claimledger_store::evidence::CopyError;
use claimledger_store::{
    verify_bundle, BundleCheckpoint, EvidenceStore, Ledger, SledStorage, Storage, StoreError,
};
use std::io::BufRead;
use std::path::Path;

/// Entries appended per write when restoring a bundle.
const RESTORE_BATCH_ENTRIES: usize = 65_536;

pub fn cmd_init<S: Storage>(ctx: &mut Ctx<'_, S>, args: InitArgs) -> CliResult<Exit> {
    let Ctx { env, io, .. } = ctx;
    match &args.from_bundle {
        None => {
            let origin = super::checkpoint::origin_for(env, args.origin)?;
            SledStorage::create_with_origin(&env.ledger_dir, env.wait, &origin)?;
            io.say(format_args!(
                "created an empty ledger in {} (origin {origin})",
                env.ledger_dir.display()
            ));
        }
        Some(bundle) => restore(env, io, bundle, args.origin, args.evidence.as_deref())?,
    }
    Ok(Exit::SUCCESS)
}

/// Verifies `bundle`, then builds the ledger from it beside the target directory and moves it
/// into place only when complete: an interrupted restore leaves no half-built ledger behind.
/// The ledger keeps the origin the bundle names, so that its checkpoints go on from the
/// original's; a bundle from before bundles named one takes `--origin`, or a default.
fn restore(
    env: &Env,
    io: &mut Io,
    bundle: &Path,
    given_origin: Option<String>,
    evidence: Option<&Path>,
) -> CliResult {
    let name = bundle.display().to_string();
    super::refuse_import_file(io, bundle)?;
    let dir = &env.ledger_dir;
    if dir.join("db").exists() {
        return Err(StoreError::AlreadyExists(dir.clone()).into());
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(CliError::input(format!(
            "{} exists and is not empty; restore into a new directory",
            dir.display()
        )));
    }
    let open = |io: &mut Io| {
        io.open_read(bundle)
            .map_err(|e| CliError::file("read", bundle, &e))
    };
    let size = open(io)?.metadata().map(|m| m.len()).unwrap_or(0);

    let progress = Progress::bytes(io, size == 0, size, "checking");
    let report = verify_bundle(
        &mut std::io::BufReader::with_capacity(1 << 20, open(io)?),
        None,
        None,
        &mut |_| {},
    )
    .map_err(|e| CliError::io(format!("cannot read {name}: {e}")))?;
    progress.finish();
    if let Some(problem) = report.problem {
        return Err(CliError::integrity(format!(
            "{name} fails verification, so no ledger was made: {problem}"
        )));
    }
    let origin = match (report.origin, given_origin) {
        (Some(named), None) => named,
        (Some(named), Some(given)) if given == named => named,
        (Some(named), Some(given)) => {
            return Err(CliError::input(format!(
                "--origin {given:?}: {name} is of the ledger {named:?}, and a restored ledger \
                 keeps its origin; leave out --origin"
            )))
        }
        (None, given) => super::checkpoint::origin_for(env, given)?,
    };
    let origin = origin.as_str();
    let supplied = match (evidence, report.snapshots.len()) {
        (Some(dir), _) if !dir.is_dir() => {
            return Err(CliError::input(format!(
                "--evidence {}: not a directory",
                dir.display()
            )))
        }
        (Some(dir), _) => Some(EvidenceStore::flat(dir)),
        (None, 0) => None,
        (None, count) => {
            return Err(CliError::input(format!(
                "{name}: its entries name {}; give the directory `claims export --evidence DIR` \
                 wrote them to with --evidence DIR, so that the restored ledger holds them",
                crate::output::plural(count as u64, "snapshot", "snapshots")
            )))
        }
    };
    // A bundle with a header has one line before its entries.
    let skip = usize::from(report.checkpoint != BundleCheckpoint::Absent);

    io.stop.watch("no ledger was made");
    let file_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("ledger");
    let staging = dir.with_file_name(format!(".{file_name}.restoring-{}", std::process::id()));
    let result =
        build(env, io, bundle, &staging, origin, skip, report.head.count).and_then(|head| {
            if let Some(supplied) = &supplied {
                let store = EvidenceStore::of_ledger(&staging);
                for r in &report.snapshots {
                    let what = format!(
                        "snapshot {} of source {} of claim {} (entry {})",
                        r.sha256,
                        r.source + 1,
                        r.claim_id,
                        r.seq
                    );
                    match store.put_from(supplied, &r.sha256, r.size) {
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            return Err(CliError::input(format!(
                                "--evidence {}: {what} is not there, so no ledger was made",
                                supplied.root().display()
                            )))
                        }
                        Err(CopyError::Write(e)) => return Err(CliError::io(e.to_string())),
                        Err(e) => {
                            return Err(CliError::input(format!(
                                "--evidence: {what}: {e}, so no ledger was made"
                            )))
                        }
                    }
                }
            }
            if head != report.head {
                return Err(CliError::integrity(format!(
                    "{name} changed while it was restored (head {head}, verified {})",
                    report.head
                )));
            }
            if dir.exists() {
                std::fs::remove_dir(dir)
                    .map_err(|e| CliError::io(format!("cannot replace {}: {e}", dir.display())))?;
            }
            std::fs::rename(&staging, dir).map_err(|e| {
                CliError::io(format!(
                    "cannot move the restored ledger to {}: {e}",
                    dir.display()
                ))
            })?;
            Ok(head)
        });
    match result {
        Ok(head) => {
            io.say(format_args!(
                "restored {} from {name} into {} (origin {origin}); head {head}",
                crate::output::plural(head.count, "entry", "entries"),
                dir.display()
            ));
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

/// Appends the bundle's `total` entries, as they are, to a new ledger in `staging`: the lines
/// after the first `skip` (a header), up to the checkpoint line.
fn build(
    env: &Env,
    io: &mut Io,
    bundle: &Path,
    staging: &Path,
    origin: &str,
    skip: usize,
    total: u64,
) -> CliResult<claimledger_store::Head> {
    let name = bundle.display();
    let mut ledger = Ledger::open(SledStorage::create_with_origin(staging, env.wait, origin)?)?;
    let file = io
        .open_read(bundle)
        .map_err(|e| CliError::file("read", bundle, &e))?;
    let progress = Progress::new(io, false, total, "writing", "entries");
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(RESTORE_BATCH_ENTRIES);
    let lines = std::io::BufReader::with_capacity(1 << 20, file).split(b'\n');
    for line in lines.skip(skip).take(total as usize) {
        io.stop.check()?;
        batch.push(line.map_err(|e| CliError::io(format!("cannot read {name}: {e}")))?);
        if batch.len() == RESTORE_BATCH_ENTRIES {
            ledger.append_verified(&batch)?;
            batch.clear();
            progress.set(ledger.head().count);
        }
    }
    ledger.append_verified(&batch)?;
    progress.finish();
    Ok(ledger.head())
}
