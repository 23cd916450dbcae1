//! `claims export`: the ledger as a bundle (docs/FORMAT.md, "Bundles"): a header naming its
//! origin, every stored entry byte for byte, one per line, and the checkpoint of the last one,
//! signed with `--sign`.

use crate::cli::ExportArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::progress::Progress;
use claimledger_core::canonical::EntryView;
use claimledger_core::{Seq, SnapshotHash};
use claimledger_store::evidence::CopyError;
use claimledger_store::{checkpoint_line, header_line, EvidenceStore, Storage};
use std::collections::HashSet;
use std::io::Write;
use std::ops::ControlFlow;

pub fn cmd_export<S: Storage>(ctx: &mut Ctx<'_, S>, args: ExportArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    // A directory the user names is found from the user's working directory.
    let target = match &args.evidence {
        Some(dir) => {
            let at = env.user_path(dir);
            std::fs::create_dir_all(&at).map_err(|e| CliError::file("create", dir, &e))?;
            Some(EvidenceStore::flat(&at))
        }
        None => None,
    };
    let store = ledgers.evidence(env);
    let ledger = ledgers.read(env, io.err)?;
    let mut snapshots: Vec<(SnapshotHash, u64, Seq)> = Vec::new();
    let mut seen: HashSet<SnapshotHash> = HashSet::new();
    let finder = memchr::memmem::Finder::new(br#","archived":["#);
    // The checkpoint first: a key that cannot sign fails before anything is written.
    let checkpoint = super::checkpoint::checkpoint_text(io, ledger, args.sign.as_deref())?;
    let progress = Progress::new(io, false, ledger.head().count, "exporting", "entries");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *io.out);
    writeln!(out, "{}", header_line(&ledger.origin()?))?;
    let mut failed = None;
    ledger.scan_entries(Seq::FIRST, &mut |seq, bytes| {
        if target.is_some() && finder.find(bytes).is_some() {
            // Only entries that list snapshots are read; the scan checked the others' bytes.
            let _ = EntryView::parse_with(bytes, &mut |source| {
                for item in &source.archived {
                    if seen.insert(item.sha256) {
                        snapshots.push((item.sha256, item.size, seq));
                    }
                }
            });
        }
        match out.write_all(bytes).and_then(|()| out.write_all(b"\n")) {
            Ok(()) => {
                if seq.0 % 4096 == 0 {
                    progress.set(seq.0);
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(error) = failed {
        return Err(error.into());
    }
    writeln!(out, "{}", checkpoint_line(&checkpoint))?;
    out.flush()?;
    drop(out);
    if let Some(target) = &target {
        let bytes: u64 = snapshots.iter().map(|(_, size, _)| size).sum();
        let progress = Progress::bytes(io, snapshots.is_empty(), bytes, "copying snapshots");
        for (sha256, size, seq) in &snapshots {
            let what = format!("snapshot {sha256} (named by entry {seq})");
            match target.put_from(&store, sha256, *size) {
                Ok(Some(_)) => progress.add(*size),
                Ok(None) => {
                    return Err(CliError::integrity(format!(
                        "{what} is missing from the evidence store; the bundle was written, its snapshots are incomplete (`claims verify` says more)"
                    )))
                }
                Err(CopyError::Write(e)) => return Err(CliError::io(e.to_string())),
                Err(e) => {
                    return Err(CliError::integrity(format!(
                        "{what}: {e}; the bundle was written, its snapshots are incomplete (`claims verify` says more)"
                    )))
                }
            }
        }
        progress.finish();
        io.say(format_args!(
            "copied {} ({}) to {}",
            crate::output::plural(snapshots.len() as u64, "snapshot", "snapshots"),
            crate::output::bytes(bytes),
            args.evidence.as_deref().unwrap_or(target.root()).display()
        ));
    }
    Ok(Exit::SUCCESS)
}
