use super::print_json;
use crate::cli::JsonArg;
use crate::ctx::Ctx;
use crate::error::{CliResult, Exit};
use claimledger_store::Storage;
use serde_json::json;

pub fn cmd_head<S: Storage>(ctx: &mut Ctx<'_, S>, args: JsonArg) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    let head = ledger.head();
    let out = &mut *io.out;
    if args.json {
        print_json(
            out,
            &json!({"count": head.count, "hash": head.hash.to_hex(), "origin": ledger.origin()?}),
        )?;
    } else {
        writeln!(out, "{head}")?;
    }
    Ok(Exit::SUCCESS)
}
