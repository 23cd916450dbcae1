//! `claims evidence list` and `claims evidence get`: the snapshots the ledger keeps.

use super::{find_claim, print_json};
use crate::cli::{EvidenceArgs, EvidenceCommand, EvidenceGetArgs, EvidenceListArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::OpenHow;
use crate::output::{self, TableWriter};
use claimledger_core::decide::ClaimState;
use claimledger_core::{Archived, SnapshotHash};
use claimledger_store::evidence::hash_file;
use claimledger_store::{Filter, Storage};
use serde_json::json;
use std::ops::ControlFlow;

pub fn cmd_evidence<S: Storage>(ctx: &mut Ctx<'_, S>, args: EvidenceArgs) -> CliResult<Exit> {
    match args.command {
        EvidenceCommand::List(list) => cmd_list(ctx, list),
        EvidenceCommand::Get(get) => cmd_get(ctx, get),
    }
}

/// Each snapshot of a claim's sources, with the source's number (from 1).
fn snapshots(state: &ClaimState) -> impl Iterator<Item = (usize, &Archived)> {
    state
        .claim
        .sources
        .iter()
        .enumerate()
        .flat_map(|(i, source)| source.archived.iter().map(move |a| (i + 1, a)))
}

fn cmd_list<S: Storage>(ctx: &mut Ctx<'_, S>, args: EvidenceListArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    let mut claims: Vec<ClaimState> = Vec::new();
    match &args.claim {
        Some(claim) => claims.push(find_claim(ledger, claim)?),
        None => ledger.list_each_as_of(&Filter::default(), None, &mut |batch| {
            claims.extend(
                batch
                    .into_iter()
                    .filter(|state| snapshots(state).next().is_some()),
            );
            ControlFlow::Continue(())
        })?,
    }
    let out = &mut *io.out;
    if args.json {
        let rows: Vec<serde_json::Value> = claims
            .iter()
            .flat_map(|state| {
                snapshots(state).map(|(source, archived)| {
                    json!({
                        "claim_id": state.id.to_string(),
                        "key": state.key.as_ref().map(|k| k.to_string()),
                        "source": source,
                        "archived": archived,
                    })
                })
            })
            .collect();
        print_json(out, &rows)?;
        return Ok(Exit::SUCCESS);
    }
    let mut table = TableWriter::new(&[
        "CLAIM",
        "SOURCE",
        "CAPTURED",
        "MEDIA TYPE",
        "SIZE",
        "SHA256",
        "FETCHED",
    ]);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for state in &claims {
        let name = state
            .key
            .as_ref()
            .map_or_else(|| state.id.to_string(), |k| k.to_string());
        for (source, archived) in snapshots(state) {
            let fetched = match (&archived.url, archived.status) {
                (Some(url), Some(status)) => format!("{status} {url}"),
                (Some(url), None) => url.clone(),
                _ => String::new(),
            };
            rows.push(vec![
                name.clone(),
                source.to_string(),
                archived.captured_at.to_string(),
                archived.media_type.clone(),
                output::bytes(archived.size),
                archived.sha256.to_hex(),
                fetched,
            ]);
        }
    }
    let empty = rows.is_empty();
    table.write_batch(out, rows)?;
    if empty {
        io.say(match &args.claim {
            Some(claim) => {
                format!("claim {claim} has no snapshots; keep one with `claims archive`")
            }
            None => "the ledger keeps no snapshots; keep one with `claims archive`".to_owned(),
        });
    }
    Ok(Exit::SUCCESS)
}

fn cmd_get<S: Storage>(ctx: &mut Ctx<'_, S>, args: EvidenceGetArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let sha256 = SnapshotHash::parse(&args.sha256.to_ascii_lowercase())
        .map_err(|why| CliError::input(format!("SHA256: {why}")))?;
    // Reading the files needs no lock; opening the ledger checks that it is one.
    let store = ledgers.evidence(env);
    ledgers.read(env, io.err)?;
    let path = store.path_of(&sha256);
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::input(format!(
                "the evidence store holds no snapshot {sha256} (`claims evidence list` lists them)"
            )))
        }
        Err(e) => return Err(CliError::file("read", &path, &e)),
    };
    let altered = |found: SnapshotHash| {
        CliError::integrity(format!(
            "snapshot {sha256} was altered in the evidence store: its bytes hash to {found}; `claims verify` names the claim"
        ))
    };
    // Checked first, then copied: standard output cannot be taken back, and a file named with
    // --out is not made for bytes that do not hash to their name (hashed again on the way).
    let (found, _) = hash_file(&path).map_err(|e| CliError::file("read", &path, &e))?;
    if found != sha256 {
        return Err(altered(found));
    }
    match &args.out {
        Some(out_path) => {
            // A new file, opened as the user (in `claims serve`, by the client): never one
            // that exists; removed again if the bytes do not hash to the name.
            let how = OpenHow {
                write: true,
                create_new: true,
                ..OpenHow::default()
            };
            let mut target = io.files.open(out_path, how).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    CliError::input(format!(
                        "{} exists; `claims evidence get` writes a new file",
                        out_path.display()
                    ))
                } else {
                    CliError::file("create", out_path, &e)
                }
            })?;
            let copied =
                claimledger_store::evidence::copy_hashing(&mut file, &mut target, u64::MAX)
                    .map_err(|e| {
                        CliError::io(format!(
                            "cannot copy {sha256} to {}: {e}",
                            out_path.display()
                        ))
                    })
                    .and_then(|(found, size)| {
                        if found != sha256 {
                            return Err(altered(found));
                        }
                        target.sync_all().map_err(|e| {
                            CliError::io(format!("cannot write {}: {e}", out_path.display()))
                        })?;
                        Ok(size)
                    });
            let size = match copied {
                Ok(size) => size,
                Err(error) => {
                    drop(target);
                    let _ = io.files.remove_file(out_path);
                    return Err(error);
                }
            };
            io.say(format_args!(
                "wrote snapshot {sha256} to {} ({})",
                out_path.display(),
                output::bytes(size)
            ));
        }
        None => {
            std::io::copy(&mut file, &mut *io.out)?;
            io.out.flush()?;
        }
    }
    Ok(Exit::SUCCESS)
}
