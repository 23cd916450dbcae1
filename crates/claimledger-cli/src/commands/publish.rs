//! `claims publish DEST`: the ledger as a c2sp.org/tlog-tiles log in a directory or an S3
//! bucket, written by `claimledger_tlog::publish` (docs/FORMAT.md §9). Only what the published
//! checkpoint lacks is written, tiles and bundles before the checkpoint. The snapshots the new
//! entries name are published beside them as `evidence/<sha256>`, each checked against its hash
//! on the way and written before the checkpoint that covers the entries naming them.

use super::checkpoint::read_text;
use crate::cli::PublishArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{bytes, count, plural};
use crate::progress::Progress;
use claimledger_core::canonical::EntryView;
use claimledger_core::{Seq, SnapshotHash};
use claimledger_store::evidence::SnapshotFault;
use claimledger_store::{EvidenceStore, Ledger, Storage, StoreError};
use claimledger_tlog::objects::{open_sink_for, Location, ObjectError};
use claimledger_tlog::publish::{publish, Companions, PublishError, PublishOptions};
use claimledger_tlog::witness_client::WitnessTarget;
use std::collections::HashMap;
use std::sync::Mutex;

/// The largest private key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

pub fn cmd_publish<S: Storage + Sync>(ctx: &mut Ctx<'_, S>, args: PublishArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let location = Location::parse(&args.dest).map_err(|e| CliError::input(format!("DEST {e}")))?;
    let signing_key = args
        .sign
        .as_deref()
        .map(|path| {
            read_text(io, path, KEY_FILE_LEN_MAX, "key file").map(|t| t.trim_end().to_owned())
        })
        .transpose()?;
    let witnesses = args
        .witness
        .iter()
        .map(|w| WitnessTarget::parse(w).map_err(|e| CliError::input(format!("--witness {e}"))))
        .collect::<CliResult<Vec<_>>>()?;
    let quorum = super::monitor::quorum(args.witness_quorum, witnesses.len())?;
    let store = ledgers.evidence(env);
    let ledger = ledgers.read(env, io.err)?;
    let sink = open_sink_for(&location, env.cwd.as_deref(), env.aws.as_deref())
        .map_err(CliError::input)?;
    let snapshots = Snapshots {
        ledger,
        store,
        named: Mutex::new(HashMap::new()),
    };
    let options = PublishOptions {
        signing_key,
        witnesses,
        quorum,
        companions: Some(&snapshots),
    };
    let mut bar: Option<Progress> = None;
    let published = publish(ledger, &*sink, &options, &mut |done, total| {
        bar.get_or_insert_with(|| Progress::new(io, false, total, "publishing", "objects"))
            .set(done);
    });
    drop(bar);
    let report = published.map_err(publish_error)?;
    let out = &mut *io.out;
    if args.json {
        super::print_json(out, &report)?;
        return Ok(Exit::SUCCESS);
    }
    let objects = report.tiles_written + report.bundles_written + report.other_objects_written;
    if objects == 0 && !report.checkpoint_written {
        writeln!(
            out,
            "{} already publishes the checkpoint of {}: nothing new",
            report.destination,
            plural(report.size, "entry", "entries")
        )?;
        return Ok(Exit::SUCCESS);
    }
    let cosigned = if report.cosigned_by.is_empty() {
        String::new()
    } else {
        format!(", cosigned by {}", report.cosigned_by.join(", "))
    };
    let snapshots = if report.other_objects_written == 0 {
        String::new()
    } else {
        format!(
            " with {} they name",
            plural(report.other_objects_written, "snapshot", "snapshots")
        )
    };
    writeln!(
        out,
        "published {} to {}: {} and {}{snapshots} past the {} published before, then the {}checkpoint{cosigned} ({} written)",
        plural(report.size, "entry", "entries"),
        report.destination,
        plural(report.tiles_written, "tile", "tiles"),
        plural(report.bundles_written, "entry bundle", "entry bundles"),
        count(report.old_size),
        if report.signed { "signed " } else { "" },
        bytes(report.bytes_written)
    )?;
    Ok(Exit::SUCCESS)
}

fn publish_error(error: PublishError) -> CliError {
    match error {
        PublishError::Diverged(message) => CliError::integrity(message),
        PublishError::Usage(message) => CliError::input(message),
        PublishError::Destination(e @ ObjectError::TooLarge { .. }) => {
            CliError::integrity(e.to_string())
        }
        PublishError::Destination(e) => CliError::io(e.to_string()),
        PublishError::Ledger(e) => e.into(),
        PublishError::Witnesses(message) => CliError::io(message),
        PublishError::Companion(message) => CliError::integrity(message),
    }
}

/// The snapshots of sources that new entries name, published as `evidence/<sha256>`.
struct Snapshots<'a, S: Storage> {
    ledger: &'a Ledger<S>,
    store: EvidenceStore,
    /// Each path listed, with the snapshot's hash, size and the first new entry naming it.
    named: Mutex<HashMap<String, (SnapshotHash, u64, Seq)>>,
}

impl<S: Storage> std::fmt::Debug for Snapshots<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshots({})", self.store.root().display())
    }
}

impl<S: Storage + Sync> Companions for Snapshots<'_, S> {
    /// Every snapshot listed by an entry past `after`: the new ones, and those an evidence
    /// revision lists again (which the destination holds already, and so are not written).
    fn paths(&self, after: u64, size: u64) -> Result<Vec<String>, PublishError> {
        let finder = memchr::memmem::Finder::new(br#","archived":["#);
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        let mut paths = Vec::new();
        if after >= size {
            return Ok(paths);
        }
        self.ledger
            .scan_entries(Seq(after + 1), &mut |seq, bytes| {
                if seq.0 > size {
                    return std::ops::ControlFlow::Break(());
                }
                if finder.find(bytes).is_some() {
                    // Stored entries were checked as they were written; one that does not read
                    // names no snapshot here, and `claims verify` reports it.
                    let _ = EntryView::parse_with(bytes, &mut |source| {
                        for item in &source.archived {
                            let path = format!("evidence/{}", item.sha256);
                            if !named.contains_key(&path) {
                                named.insert(path.clone(), (item.sha256, item.size, seq));
                                paths.push(path);
                            }
                        }
                    });
                }
                std::ops::ControlFlow::Continue(())
            })?;
        Ok(paths)
    }

    /// The snapshot's bytes, read whole (one at a time) and hashed: a snapshot missing from
    /// the store or altered there is not published, and neither is the checkpoint.
    fn read(&self, path: &str) -> Result<Vec<u8>, PublishError> {
        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&(sha256, size, seq)) = named.get(path) else {
            return Err(PublishError::Usage(format!(
                "{path}: not a snapshot the log names"
            )));
        };
        drop(named);
        let refused = |fault: SnapshotFault| {
            PublishError::Companion(format!(
                "snapshot {sha256}, named by entry {seq}, is {fault} in the evidence store;                  nothing new was published as checkpoint (`claims verify` names the claim)"
            ))
        };
        let file = self.store.path_of(&sha256);
        let io = |source: std::io::Error| {
            PublishError::Ledger(StoreError::Io {
                path: file.clone(),
                source,
            })
        };
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refused(SnapshotFault::Missing))
            }
            Err(e) => return Err(io(e)),
        };
        if bytes.len() as u64 != size {
            return Err(refused(SnapshotFault::WrongSize(bytes.len() as u64)));
        }
        let found = SnapshotHash(<sha2::Sha256 as sha2::Digest>::digest(&bytes).into());
        if found != sha256 {
            return Err(refused(SnapshotFault::WrongHash(found)));
        }
        Ok(bytes)
    }
}
