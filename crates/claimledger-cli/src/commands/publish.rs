//! `claims publish DEST`: the ledger as a c2sp.org/tlog-tiles log in a directory or an S3
//! bucket, written by `claimledger_tlog::publish` (docs/FORMAT.md §9). Only what the published
//! checkpoint lacks is written, tiles and bundles before the checkpoint.

use super::checkpoint::read_text;
use crate::cli::PublishArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{bytes, count, plural};
use crate::progress::Progress;
use claimledger_store::Storage;
use claimledger_tlog::objects::{open_sink_for, Location, ObjectError};
use claimledger_tlog::publish::{publish, PublishError, PublishOptions};
use claimledger_tlog::witness_client::WitnessTarget;

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
    let ledger = ledgers.read(env, io.err)?;
    let sink = open_sink_for(&location, env.cwd.as_deref(), env.aws.as_deref())
        .map_err(CliError::input)?;
    let options = PublishOptions {
        signing_key,
        witnesses,
        quorum,
        extra_objects: Vec::new(),
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
    let objects = report.tiles_written + report.bundles_written;
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
    writeln!(
        out,
        "published {} to {}: {} and {} past the {} published before, then the {}checkpoint{cosigned} ({} written)",
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
    }
}
