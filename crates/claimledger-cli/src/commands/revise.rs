use super::{find_claim, parse_object, read_json};
use crate::cli::ReviseArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use claimledger_core::input::{self, Command};
use claimledger_store::Storage;
use serde_json::{Map, Value as Json};

/// The fields `--clear` may remove.
const CLEARABLE: [&str; 6] = ["value", "period", "stated_on", "method", "sources", "tags"];

pub fn cmd_revise<S: Storage>(ctx: &mut Ctx<'_, S>, args: ReviseArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let context = env.submit_context()?;
    let store = ledgers.evidence(env);
    let ledger = ledgers.write(env, io.err)?;
    let command = match &args.json {
        Some(path) => {
            let name = path.display().to_string();
            let mut json = read_json(io, path)?;
            if let (Some(claim), Json::Object(object)) = (&args.claim, &mut json) {
                if let Some(named) = object.get("claim").and_then(Json::as_str) {
                    let same = named == claim || {
                        let resolved = ledger.resolve(named)?;
                        resolved.is_some() && resolved == ledger.resolve(claim)?
                    };
                    if !same {
                        return Err(CliError::input(format!(
                            "{name}: field `claim`: {named:?} is not the claim named on the command line, {claim:?}"
                        )));
                    }
                }
                object.insert("claim".into(), Json::String(claim.clone()));
                object.entry("op").or_insert_with(|| "revise".into());
            }
            match parse_object(&name, &json)? {
                command @ Command::Revise(_) => command,
                Command::Record(_) => {
                    return Err(CliError::input(format!("{name}: field `op`: `claims revise` takes a revise object (\"op\": \"revise\")")))
                }
            }
        }
        None => {
            let claim = args
                .claim
                .clone()
                .expect("clap requires the claim without --json");
            let current = find_claim(ledger, &claim)?;
            let current_json = match serde_json::to_value(&current.claim) {
                Ok(Json::Object(map)) => map,
                _ => Map::new(),
            };
            if args.replace_sources && args.fields.sources().is_empty() {
                return Err(CliError::input(
                    "--replace-sources: give the new sources with the source flags \
                     (--source-url, --publisher, ...), or remove every source with --clear sources",
                ));
            }
            let mut object = args
                .fields
                .to_json_with(Some(&current_json), args.replace_sources);
            for field in &args.clear {
                if !CLEARABLE.contains(&field.as_str()) {
                    return Err(CliError::input(format!(
                        "--clear {field}: only {} can be removed",
                        CLEARABLE.join(", ")
                    )));
                }
                if object.contains_key(field) {
                    return Err(CliError::input(format!(
                        "--clear {field}: the field is also set by another flag"
                    )));
                }
                object.insert(field.clone(), Json::Null);
            }
            object.insert("op".into(), "revise".into());
            object.insert("claim".into(), Json::String(claim));
            object.insert(
                "reason".into(),
                Json::String(
                    args.reason
                        .clone()
                        .expect("clap requires --reason without --json"),
                ),
            );
            if let Some(kind) = &args.kind {
                object.insert("kind".into(), Json::String(kind.clone()));
            }
            if let Some(expected) = args.expect_revision {
                object.insert("expected_revision".into(), expected.into());
            }
            input::command_from_json(&Json::Object(object))
                .map_err(|e| CliError::input(e.to_string()))?
        }
    };
    super::snapshots_held(&store, &command)?;
    io.stop.check()?;
    let receipts = ledger.submit(&[command], &context)?;
    let receipt = &receipts[0];
    super::print_committed_id(io.out, receipt)?;
    let name = receipt
        .key
        .as_ref()
        .map_or_else(|| receipt.claim_id.to_string(), |k| k.to_string());
    io.say(format_args!(
        "revised claim {name} to revision {} as entry {}; head {}",
        receipt.revision,
        receipt.seq,
        ledger.head()
    ));
    Ok(Exit::SUCCESS)
}
