use super::{as_of_seq, covering, print_json_array};
use crate::cli::ListArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output;
use claimledger_cli::view::claim_json;
use claimledger_core::{Status, Subject, Tag};
use claimledger_store::Filter;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_list(env: &Env, args: ListArgs) -> CliResult<ExitCode> {
    let bad = |flag: &str, reason: String| CliError::input(format!("--{flag}: {reason}"));
    let filter = Filter {
        subject: args
            .subject
            .as_deref()
            .map(Subject::parse)
            .transpose()
            .map_err(|r| bad("subject", r))?,
        claimant: args.claimant.clone(),
        status: args
            .status
            .as_deref()
            .map(Status::parse)
            .transpose()
            .map_err(|r| bad("status", r))?,
        tag: args
            .tag
            .as_deref()
            .map(Tag::parse)
            .transpose()
            .map_err(|r| bad("tag", r))?,
    };
    let covering = covering(&args.covering)?;
    let ledger = env.open()?;
    let as_of = as_of_seq(&ledger, &args.as_of)?;
    let mut claims = ledger.list_as_of(&filter, as_of)?;
    if let Some(date) = &covering {
        claims.retain(|c| c.claim.period.as_ref().is_some_and(|p| p.covers(date)));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        print_json_array(&mut out, claims.iter().map(claim_json))?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows = claims
        .iter()
        .map(|state| {
            vec![
                output::claim_name(state),
                state.claim.subject.to_string(),
                state.claim.claimant.clone(),
                state
                    .claim
                    .value
                    .as_ref()
                    .map(output::figure)
                    .unwrap_or_default(),
                state
                    .claim
                    .stated_on
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                state.revision.to_string(),
                state.claim.status.as_str().to_owned(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        output::table(
            &["CLAIM", "SUBJECT", "CLAIMANT", "FIGURE", "STATED", "REV", "STATUS"],
            rows
        )
    )?;
    env.say(format_args!(
        "{} claim{}",
        claims.len(),
        if claims.len() == 1 { "" } else { "s" }
    ));
    Ok(ExitCode::SUCCESS)
}
