use super::{parse_object, read_json};
use crate::cli::AddArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use claimledger_core::input::{self, Command};
use claimledger_store::{Head, Storage};
use serde_json::Value as Json;

pub fn cmd_add<S: Storage>(ctx: &mut Ctx<'_, S>, args: AddArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let command = match &args.json {
        Some(path) => parse_object(&path.display().to_string(), &read_json(io, path)?)?,
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
    super::snapshots_held(&ledgers.evidence(env), &command)?;
    io.stop.check()?;
    let receipt = ledgers.submit_one(env, io.err, command, &context)?;
    super::print_committed_id(io.out, &receipt)?;
    io.say(format_args!(
        "recorded claim {} as entry {}; head {}",
        receipt
            .key
            .as_ref()
            .map_or_else(|| receipt.claim_id.to_string(), |k| k.to_string()),
        receipt.seq,
        Head {
            count: receipt.seq.0,
            hash: receipt.hash
        }
    ));
    Ok(Exit::SUCCESS)
}
