use super::print_json;
use crate::cli::JsonArg;
use crate::env::Env;
use crate::error::CliResult;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_head(env: &Env, args: JsonArg) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let head = ledger.head();
    let mut out = std::io::stdout().lock();
    if args.json {
        print_json(
            &mut out,
            &json!({"count": head.count, "hash": head.hash.to_hex(), "origin": ledger.origin()?}),
        )?;
    } else {
        writeln!(out, "{head}")?;
    }
    Ok(ExitCode::SUCCESS)
}
