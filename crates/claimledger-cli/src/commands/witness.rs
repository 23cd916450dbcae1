//! `claims witness serve`: a c2sp.org/tlog-witness witness for the logs named with `--log`,
//! served by `claimledger_tlog::witness` until SIGINT or SIGTERM. Loopback by default.

use super::checkpoint::read_text;
use crate::cli::{WitnessArgs, WitnessCommand, WitnessServeArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use claimledger_core::checkpoint::VerifierKeyText;
use claimledger_store::Storage;
use claimledger_tlog::witness::{self, Witness};

pub fn cmd_witness<S: Storage>(ctx: &mut Ctx<'_, S>, args: WitnessArgs) -> CliResult<Exit> {
    match args.command {
        WitnessCommand::Serve(serve) => cmd_witness_serve(&mut ctx.io, serve),
    }
}

fn cmd_witness_serve(io: &mut Io, args: WitnessServeArgs) -> CliResult<Exit> {
    let key = read_text(io, &args.key, 4096, "witness key file")?;
    let mut logs = Vec::new();
    for log in &args.logs {
        let (origin, vkey) = log
            .split_once('=')
            .ok_or_else(|| CliError::input(format!("--log {log:?}: expected ORIGIN=VKEY")))?;
        let vkey = VerifierKeyText::parse(vkey.trim())
            .map_err(|e| CliError::input(format!("--log {origin}: {e}")))?;
        if vkey.name() != origin {
            return Err(CliError::input(format!(
                "--log {origin}: the key is named {:?}; a log's key is named after its origin",
                vkey.name()
            )));
        }
        logs.push(vkey);
    }
    let witness = Witness::new(
        key.trim_end(),
        logs,
        &args.state,
        Box::new(witness::system_time),
    )
    .map_err(|e| CliError::input(format!("{}: {e}", args.key.display())))?;
    let listener = std::net::TcpListener::bind(&args.listen)
        .map_err(|e| CliError::io(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::io(format!("cannot listen on {}: {e}", args.listen)))?;
    io.say(format_args!(
        "witness {} listening on http://{address}{}add-checkpoint (state in {})",
        witness.verifier_key(),
        witness::normalize_prefix(&args.prefix),
        args.state.display()
    ));
    witness::serve(
        std::sync::Arc::new(witness),
        listener,
        &args.prefix,
        witness::stop_signal(),
    )
    .map_err(|e| CliError::io(format!("the witness stopped: {e}")))?;
    Ok(Exit::SUCCESS)
}
