//! `claims compare SUBJECT`: every claimant's figure about one subject, side by side.

use super::{as_of_seq, covering, print_json_array};
use crate::cli::{CompareArgs, CompareSort};
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output;
use claimledger_cli::view::{compare_row_json, sort_by_amount, sort_by_stated};
use claimledger_core::decide::ClaimState;
use claimledger_core::{Seq, Subject};
use claimledger_store::{Filter, Ledger, Storage};
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_compare(env: &Env, args: CompareArgs) -> CliResult<ExitCode> {
    let subject =
        Subject::parse(&args.subject).map_err(|r| CliError::input(format!("SUBJECT: {r}")))?;
    let covering = covering(&args.covering)?;
    let ledger = env.open()?;
    let as_of = as_of_seq(&ledger, &args.as_of)?;
    let mut claims = comparison(&ledger, &subject, args.sort, as_of)?;
    if let Some(date) = &covering {
        claims.retain(|c| c.claim.period.as_ref().is_some_and(|p| p.covers(date)));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows = claims.iter().map(compare_row_json);
        print_json_array(&mut out, rows)?;
    } else {
        write_comparison(&mut out, &claims)?;
        env.say(format_args!(
            "{} claim{} about {subject}",
            claims.len(),
            if claims.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The claims about exactly `subject`, sorted.
pub fn comparison<S: Storage>(
    ledger: &Ledger<S>,
    subject: &Subject,
    sort: CompareSort,
    as_of: Option<Seq>,
) -> CliResult<Vec<ClaimState>> {
    let filter = Filter {
        subject: Some(subject.clone()),
        ..Filter::default()
    };
    let mut claims: Vec<ClaimState> = ledger
        .list_as_of(&filter, as_of)?
        .into_iter()
        .filter(|c| &c.claim.subject == subject)
        .collect();
    match sort {
        CompareSort::Stated => sort_by_stated(&mut claims),
        CompareSort::Amount => sort_by_amount(&mut claims),
    }
    Ok(claims)
}

pub fn write_comparison(out: &mut impl Write, claims: &[ClaimState]) -> std::io::Result<()> {
    let rows = claims
        .iter()
        .map(|c| {
            vec![
                c.claim.claimant.clone(),
                c.claim
                    .value
                    .as_ref()
                    .map(output::figure)
                    .unwrap_or_else(|| format!("“{}”", output::shorten(&c.claim.statement, 40))),
                c.claim
                    .period
                    .as_ref()
                    .map(output::period)
                    .unwrap_or_default(),
                c.claim
                    .stated_on
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                c.revision.to_string(),
                c.claim.status.as_str().to_owned(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        output::table(
            &[
                "CLAIMANT",
                "FIGURE",
                "PERIOD",
                "STATED",
                "REVISIONS",
                "STATUS"
            ],
            rows
        )
    )
}
