//! `claims monitor SOURCE --key VKEY [--state FILE]`: follows a published log with
//! `claimledger_tlog::monitor`, checking its checkpoint and everything new since the state's,
//! and reports what is new. The state is written only when everything checked out.

use super::verify_proof::verifier_key;
use crate::cli::MonitorArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use crate::output::{bytes, plural};
use claimledger_store::Storage;
use claimledger_tlog::cosignature::CosignatureVerifier;
use claimledger_tlog::monitor::{self, MonitorError, MonitorOptions};
use claimledger_tlog::objects::{open_source, Location};

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
    let (report, state) =
        monitor::run(&*source, &options, state, &mut |_, _, _| Ok(())).map_err(|e| match e {
            MonitorError::Integrity(message) => CliError::integrity(message),
            MonitorError::Unavailable(message) => CliError::io(message),
            MonitorError::Usage(message) => CliError::input(message),
        })?;
    if let Some(path) = &args.state {
        monitor::save_state(path, &state).map_err(CliError::io)?;
    }
    let out = &mut *io.out;
    if args.json {
        super::print_json(out, &report)?;
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
    Ok(Exit::SUCCESS)
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
