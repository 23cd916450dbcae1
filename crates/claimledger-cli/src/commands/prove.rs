//! `claims prove`: a proof file that a third party checks with nothing but the file and the
//! ledger's verifier key (`claims verify-proof`; docs/FORMAT.md, "Proof files"):
//! - of inclusion: an entry's exact bytes, its leaf index, the audit path, and the checkpoint
//!   whose root the path leads to;
//! - of consistency: a checkpoint saved earlier, the current one, and the hashes that show the
//!   later tree extends the earlier one.

use super::checkpoint::{checkpoint_text, extends, read_checkpoint_file};
use crate::cli::ProveArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::{Io, OpenHow};
use claimledger_cli::proof_file::ProofFile;
use claimledger_core::merkle::{self, Hash};
use claimledger_core::{Entry, Seq};
use claimledger_store::{Ledger, Storage};
use std::io::Write;
use std::path::Path;

pub fn cmd_prove<S: Storage>(ctx: &mut Ctx<'_, S>, args: ProveArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    let target = target(io, ledger, &args)?;
    let (proof, summary) = match &args.since {
        Some(old) => consistency(io, ledger, old, &target)?,
        None => inclusion(ledger, &args, &target)?,
    };
    let mut text = serde_json::to_string_pretty(&proof).map_err(std::io::Error::from)?;
    text.push('\n');
    match &args.out {
        None => {
            io.out.write_all(text.as_bytes())?;
            io.out.flush()?;
        }
        Some(path) => io
            .files
            .open(path, OpenHow::CREATE)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|e| CliError::file("write", path, &e))?,
    }
    let file = args
        .out
        .as_ref()
        .map_or("FILE".to_owned(), |p| p.display().to_string());
    io.say(format_args!(
        "{summary}; check it with `claims verify-proof {file} --key VERIFIER_KEY`"
    ));
    Ok(Exit::SUCCESS)
}

/// The checkpoint a proof leads to: its size and text.
struct Target {
    size: u64,
    text: String,
}

/// The ledger's current checkpoint (signed with --sign), or with --checkpoint a checkpoint of
/// the ledger kept earlier, such as the published one with its witnesses' cosignatures.
fn target<S: Storage>(io: &mut Io, ledger: &Ledger<S>, args: &ProveArgs) -> CliResult<Target> {
    let Some(file) = &args.checkpoint else {
        return Ok(Target {
            size: ledger.head().count,
            text: checkpoint_text(io, ledger, args.sign.as_deref())?,
        });
    };
    let (text, checkpoint) = read_checkpoint_file(io, file)?;
    if let Some(problem) = extends(ledger, &checkpoint)? {
        return Err(CliError::integrity(format!(
            "{}: not a checkpoint of this ledger: {problem}",
            file.display()
        )));
    }
    Ok(Target {
        size: checkpoint.size,
        text,
    })
}

fn hex_path(path: &[Hash]) -> Vec<String> {
    path.iter().map(merkle::to_hex).collect()
}

fn inclusion<S: Storage>(
    ledger: &Ledger<S>,
    args: &ProveArgs,
    target: &Target,
) -> CliResult<(ProofFile, String)> {
    let count = target.size;
    let seq = match (&args.claim, args.seq) {
        (_, Some(seq)) => {
            if seq == 0 || seq > count {
                return Err(CliError::input(format!(
                    "--seq {seq}: the {} holds {}, numbered from 1",
                    if args.checkpoint.is_some() {
                        "checkpoint"
                    } else {
                        "ledger"
                    },
                    crate::output::plural(count, "entry", "entries")
                )));
            }
            Seq(seq)
        }
        (Some(claim), None) => {
            let state = super::find_claim(ledger, claim)?;
            let latest = ledger
                .revisions(state.id)?
                .into_iter()
                .rfind(|r| r.seq.0 <= count)
                .map(|r| r.seq);
            latest.ok_or_else(|| {
                CliError::input(format!(
                    "claim {claim} was recorded after the checkpoint's {}",
                    crate::output::plural(count, "entry", "entries")
                ))
            })?
        }
        (None, None) => unreachable!("clap requires ID|KEY, --seq or --since"),
    };
    let bytes = ledger.entry_bytes(seq)?;
    let entry = Entry::decode(&bytes).map_err(|e| {
        CliError::integrity(format!(
            "entry {seq} does not decode ({e}); run `claims verify`"
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CliError::integrity(format!("entry {seq} is not UTF-8; run `claims verify`"))
    })?;
    let path = ledger.inclusion_proof(seq, count)?;
    let checkpoint = target.text.clone();
    let summary = format!(
        "proved entry {seq} (revision {} of claim {}) in the checkpoint of {}",
        entry.event.revision(),
        entry.event.claim_id(),
        crate::output::plural(count, "entry", "entries")
    );
    let proof = ProofFile::Inclusion {
        entry: text,
        index: seq.0 - 1,
        tree_size: count,
        path: hex_path(&path),
        checkpoint,
    };
    Ok((proof, summary))
}

fn consistency<S: Storage>(
    io: &mut Io,
    ledger: &Ledger<S>,
    old: &Path,
    target: &Target,
) -> CliResult<(ProofFile, String)> {
    let (old_text, earlier) = read_checkpoint_file(io, old)?;
    let origin = ledger.origin()?;
    if earlier.origin != origin {
        return Err(CliError::input(format!(
            "{}: the checkpoint is of the ledger {:?}, but this ledger's origin is {origin:?}",
            old.display(),
            earlier.origin
        )));
    }
    if earlier.size == 0 {
        return Err(CliError::input(format!(
            "{}: the checkpoint is of the empty ledger, which every ledger extends: there is \
             nothing to prove",
            old.display()
        )));
    }
    if let Some(problem) = extends(ledger, &earlier)? {
        return Err(CliError::integrity(format!(
            "{}: no proof can be made: {problem}",
            old.display()
        )));
    }
    let count = target.size;
    if earlier.size > count {
        return Err(CliError::input(format!(
            "{}: the checkpoint has {}, more than the {} the proof leads to",
            old.display(),
            crate::output::plural(earlier.size, "entry", "entries"),
            crate::output::count(count)
        )));
    }
    let path = ledger.consistency_proof(earlier.size, count)?;
    let checkpoint = target.text.clone();
    let summary = format!(
        "proved that the ledger of {} extends its checkpoint of {}{}",
        crate::output::plural(count, "entry", "entries"),
        crate::output::plural(earlier.size, "entry", "entries"),
        if earlier.size == count {
            " (the same)"
        } else {
            ""
        }
    );
    let proof = ProofFile::Consistency {
        old_checkpoint: old_text,
        checkpoint,
        path: hex_path(&path),
    };
    Ok((proof, summary))
}
