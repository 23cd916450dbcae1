use super::{parse_object, read_json};
use crate::cli::AddArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use claimledger_core::input::{self, Command};
use serde_json::Value as Json;
use std::process::ExitCode;

pub fn cmd_add(env: &Env, args: AddArgs) -> CliResult<ExitCode> {
    let command = match &args.json {
        Some(path) => parse_object(&path.display().to_string(), &read_json(path)?)?,
        None => {
            let mut object = args.fields.to_json(None);
            if let Some(key) = &args.key {
                object.insert("key".into(), Json::String(key.clone()));
            }
            input::command_from_json(&Json::Object(object))
                .map_err(|e| CliError::input(e.to_string()))?
        }
    };
    if !matches!(command, Command::Record(_)) {
        return Err(CliError::input(
            "field `op`: `claims add` records a new claim; use `claims revise` to revise one",
        ));
    }
    let context = env.submit_context()?;
    let mut ledger = env.open_to_write()?;
    super::snapshots_held(env, &command)?;
    let receipts = ledger.submit(&[command], &context)?;
    let receipt = &receipts[0];
    super::print_committed_id(receipt)?;
    env.say(format_args!(
        "recorded claim {} as entry {}; head {}",
        receipt
            .key
            .as_ref()
            .map_or_else(|| receipt.claim_id.to_string(), |k| k.to_string()),
        receipt.seq,
        ledger.head()
    ));
    Ok(ExitCode::SUCCESS)
}
