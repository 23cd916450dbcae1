//! `claims monitor SOURCE --key VKEY [--state FILE]`: follows a published log with
//! `claimledger_tlog::monitor`, checking its checkpoint and everything new since the state's,
//! and reports what is new. The state is written only when everything checked out. The
//! snapshots of sources that new entries name are fetched (as `evidence/<sha256>`, each at most
//! the size its entry records and `--evidence-max-size`) and hashed.

use super::verify_proof::verifier_key;
use crate::cli::MonitorArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use crate::output::{bytes, plural};
use claimledger_core::canonical::EntryView;
use claimledger_core::{Seq, SnapshotHash};
use claimledger_store::Storage;
use claimledger_tlog::cosignature::CosignatureVerifier;
use claimledger_tlog::monitor::{self, MonitorError, MonitorOptions};
use claimledger_tlog::objects::{open_source, Location, ObjectError, ObjectSource};
use sha2::Digest;
use std::collections::HashSet;

pub fn cmd_monitor<S: Storage>(ctx: &mut Ctx<'_, S>, args: MonitorArgs) -> CliResult<Exit> {
    let io = &mut ctx.io;
    let location =
        Location::parse(&args.source).map_err(|e| CliError::input(format!("SOURCE {e}")))?;
    let key = verifier_key(io, &args.key)?;
    let witnesses = witness_keys(io, &args.witness_key)?;
    let quorum = quorum(args.witness_quorum, witnesses.len())?;
    let state = match &args.state {
        Some(path) => monitor::load_state(path).map_err(CliError::input)?,
        None => None,
    };
    let source = open_source(&location).map_err(|e| CliError::io(e.to_string()))?;
    let options = MonitorOptions {
        key,
        witnesses,
        quorum,
    };
    let mut snapshots = SnapshotCheck {
        size_max: args.evidence_max_size.saturating_mul(1_000_000),
        ..SnapshotCheck::default()
    };
    let ran = monitor::run(&*source, &options, state, &mut |seq, bytes, source| {
        snapshots.entry(seq, bytes, source)
    });
    let (report, state) = ran.map_err(|e| match e {
        // A snapshot that could not be fetched is not evidence of anything wrong.
        MonitorError::Integrity(message)
            if snapshots
                .unavailable
                .as_deref()
                .is_some_and(|why| message.ends_with(why)) =>
        {
            CliError::io(message)
        }
        MonitorError::Integrity(message) => CliError::integrity(message),
        MonitorError::Unavailable(message) => CliError::io(message),
        MonitorError::Usage(message) => CliError::input(message),
    })?;
    if let Some(path) = &args.state {
        monitor::save_state(path, &state).map_err(CliError::io)?;
    }
    let out = &mut *io.out;
    if args.json {
        let mut json = serde_json::to_value(&report).map_err(std::io::Error::other)?;
        if let Some(object) = json.as_object_mut() {
            object.insert("snapshots_checked".into(), snapshots.checked.into());
            object.insert("snapshot_bytes_fetched".into(), snapshots.bytes.into());
            object.insert("snapshots_unchecked".into(), snapshots.too_large.into());
        }
        super::print_json(out, &json)?;
        return Ok(Exit::SUCCESS);
    }
    let cosigned = if report.cosigned_by.is_empty() {
        String::new()
    } else {
        format!(", cosigned by {}", report.cosigned_by.join(", "))
    };
    if report.new_entries == 0 {
        writeln!(
            out,
            "OK: {} still publishes {}{cosigned}: nothing new",
            report.origin,
            plural(report.size, "entry", "entries")
        )?;
    } else {
        writeln!(
            out,
            "OK: {} grew from {} to {}{cosigned}: {} new {}, {} recorded and {} of earlier \
             claims; {} and {} checked ({} fetched)",
            report.origin,
            plural(report.old_size, "entry", "entries"),
            crate::output::count(report.size),
            crate::output::count(report.new_entries),
            crate::output::noun(report.new_entries, "entry", "entries"),
            plural(report.claims_recorded, "claim", "claims"),
            plural(report.revisions_recorded, "revision", "revisions"),
            plural(report.bundles_checked, "entry bundle", "entry bundles"),
            plural(report.tiles_checked, "tile", "tiles"),
            bytes(report.bytes_fetched)
        )?;
    }
    if snapshots.checked > 0 {
        writeln!(
            out,
            "{} of sources hashed as their entries record ({} fetched)",
            plural(snapshots.checked, "snapshot", "snapshots"),
            bytes(snapshots.bytes)
        )?;
    }
    if snapshots.too_large > 0 {
        writeln!(
            out,
            "{} larger than --evidence-max-size {} MB left unchecked",
            plural(snapshots.too_large, "snapshot", "snapshots"),
            args.evidence_max_size
        )?;
    }
    Ok(Exit::SUCCESS)
}

/// The check of the snapshots new entries name: each fetched once, bounded by the size its
/// entry records (and `size_max`), and hashed.
#[derive(Debug, Default)]
struct SnapshotCheck {
    size_max: u64,
    seen: HashSet<SnapshotHash>,
    checked: u64,
    bytes: u64,
    too_large: u64,
    /// Why a fetch failed for want of the log, not because of what it served.
    unavailable: Option<String>,
}

impl SnapshotCheck {
    fn entry(&mut self, _seq: Seq, bytes: &[u8], source: &dyn ObjectSource) -> Result<(), String> {
        if memchr::memmem::find(bytes, br#","archived":["#).is_none() {
            return Ok(());
        }
        let mut items = Vec::new();
        EntryView::parse_with(bytes, &mut |s| {
            items.extend(s.archived.iter().map(|item| (item.sha256, item.size)));
        })
        .map_err(|e| e.0)?;
        for (sha256, size) in items {
            if !self.seen.insert(sha256) {
                continue;
            }
            if size > self.size_max {
                self.too_large += 1;
                continue;
            }
            let path = format!("evidence/{sha256}");
            // The size checked above is at most --evidence-max-size, so it fits in memory.
            let limit = usize::try_from(size).unwrap_or(usize::MAX);
            let fetched = match source.get(&path, limit) {
                Ok(Some(fetched)) => fetched,
                Ok(None) => {
                    return Err(format!(
                        "it names snapshot {sha256}, but the log does not publish {path}"
                    ))
                }
                Err(ObjectError::TooLarge { .. }) => {
                    return Err(format!(
                        "{path} is larger than the {size} bytes the entry records: it was altered"
                    ))
                }
                Err(e) => {
                    let why = format!("cannot fetch {path}: {e}");
                    self.unavailable = Some(why.clone());
                    return Err(why);
                }
            };
            if fetched.len() as u64 != size {
                return Err(format!(
                    "{path} is {} bytes, not the {size} the entry records: it was cut short or altered",
                    fetched.len()
                ));
            }
            let found = SnapshotHash(sha2::Sha256::digest(&fetched).into());
            if found != sha256 {
                return Err(format!(
                    "{path} was altered: its bytes hash to {found}, not the hash the entry records"
                ));
            }
            self.checked += 1;
            self.bytes += size;
        }
        Ok(())
    }
}

/// `--witness-key`s: each the key's text or a file holding it.
pub fn witness_keys(io: &mut Io, given: &[String]) -> CliResult<Vec<CosignatureVerifier>> {
    given
        .iter()
        .map(|text| {
            let text = if std::path::Path::new(text).is_file() {
                super::checkpoint::read_text(
                    io,
                    std::path::Path::new(text),
                    4096,
                    "witness key file",
                )?
            } else {
                text.clone()
            };
            CosignatureVerifier::parse(text.trim())
                .map_err(|e| CliError::input(format!("--witness-key: {e}")))
        })
        .collect()
}

/// `--witness-quorum`: at least 1 and at most the witnesses given; all of them by default.
pub fn quorum(given: Option<usize>, witnesses: usize) -> CliResult<usize> {
    match given {
        None => Ok(witnesses),
        Some(n) if witnesses == 0 => Err(CliError::input(format!(
            "--witness-quorum {n}: no witnesses are given"
        ))),
        Some(0) => Err(CliError::input("--witness-quorum: at least 1")),
        Some(n) if n > witnesses => Err(CliError::input(format!(
            "--witness-quorum {n}: only {} given",
            plural(witnesses as u64, "witness is", "witnesses are")
        ))),
        Some(n) => Ok(n),
    }
}
