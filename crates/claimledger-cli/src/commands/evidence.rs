//! `claims evidence list` and `claims evidence get`: the snapshots the ledger keeps.

use super::{find_claim, print_json};
use crate::cli::{EvidenceArgs, EvidenceCommand, EvidenceGetArgs, EvidenceListArgs};
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output::{self, TableWriter};
use claimledger_core::decide::ClaimState;
use claimledger_core::{Archived, SnapshotHash};
use claimledger_store::evidence::hash_file;
use claimledger_store::{EvidenceStore, Filter};
use serde_json::json;
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_evidence(env: &Env, args: EvidenceArgs) -> CliResult<ExitCode> {
    match args.command {
        EvidenceCommand::List(list) => cmd_list(env, list),
        EvidenceCommand::Get(get) => cmd_get(env, get),
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

fn cmd_list(env: &Env, args: EvidenceListArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let mut claims: Vec<ClaimState> = Vec::new();
    match &args.claim {
        Some(claim) => claims.push(find_claim(&ledger, claim)?),
        None => ledger.list_each_as_of(&Filter::default(), None, &mut |batch| {
            claims.extend(
                batch
                    .into_iter()
                    .filter(|state| snapshots(state).next().is_some()),
            );
            ControlFlow::Continue(())
        })?,
    }
    let mut out = std::io::stdout().lock();
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
        print_json(&mut out, &rows)?;
        return Ok(ExitCode::SUCCESS);
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
    table.write_batch(&mut out, rows)?;
    if empty {
        env.say(match &args.claim {
            Some(claim) => {
                format!("claim {claim} has no snapshots; keep one with `claims archive`")
            }
            None => "the ledger keeps no snapshots; keep one with `claims archive`".to_owned(),
        });
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_get(env: &Env, args: EvidenceGetArgs) -> CliResult<ExitCode> {
    let sha256 = SnapshotHash::parse(&args.sha256.to_ascii_lowercase())
        .map_err(|why| CliError::input(format!("SHA256: {why}")))?;
    // Reading the files needs no lock; opening the ledger checks that it is one.
    let _ledger = env.open()?;
    let store = EvidenceStore::of_ledger(&env.ledger_dir);
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
    match &args.out {
        Some(out_path) => {
            // Into a temporary file beside FILE, renamed to FILE only once the hash checks out.
            let dir = out_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| ".".as_ref());
            if out_path.exists() {
                return Err(CliError::input(format!(
                    "{} exists; `claims evidence get` writes a new file",
                    out_path.display()
                )));
            }
            let mut temp = tempfile::Builder::new()
                .prefix(".claims-evidence-")
                .tempfile_in(dir)
                .map_err(|e| CliError::file("create", out_path, &e))?;
            let (found, _) =
                claimledger_store::evidence::copy_hashing(&mut file, temp.as_file_mut(), u64::MAX)
                    .map_err(|e| {
                        CliError::io(format!(
                            "cannot copy {sha256} to {}: {e}",
                            out_path.display()
                        ))
                    })?;
            if found != sha256 {
                return Err(altered(found));
            }
            temp.persist_noclobber(out_path)
                .map_err(|e| CliError::file("create", out_path, &e.error))?;
            env.say(format_args!(
                "wrote snapshot {sha256} to {} ({})",
                out_path.display(),
                output::bytes(std::fs::metadata(out_path).map(|m| m.len()).unwrap_or(0))
            ));
        }
        None => {
            // Standard output cannot be taken back: check first, then copy.
            let (found, _) = hash_file(&path).map_err(|e| CliError::file("read", &path, &e))?;
            if found != sha256 {
                return Err(altered(found));
            }
            let mut out = std::io::stdout().lock();
            std::io::copy(&mut file, &mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
