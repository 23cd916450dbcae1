//! `claims subjects`: what the ledger holds claims about.

use super::print_json;
use crate::cli::SubjectsArgs;
use crate::env::Env;
use crate::error::CliResult;
use crate::output;
use claimledger_cli::view;
use claimledger_store::Filter;
use std::io::Write;
use std::process::ExitCode;

pub fn cmd_subjects(env: &Env, args: SubjectsArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    let claims = ledger.list(&Filter::default())?;
    let subjects = view::subjects(&claims);
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows = subjects
            .iter()
            .map(|(subject, summary)| view::subject_json(subject, summary))
            .collect();
        print_json(&mut out, &serde_json::Value::Array(rows))?;
    } else {
        let rows = subjects
            .iter()
            .map(|(subject, summary)| {
                vec![
                    subject.clone(),
                    summary.claims.to_string(),
                    summary
                        .latest_stated_on
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ]
            })
            .collect();
        writeln!(
            out,
            "{}",
            output::table(&["SUBJECT", "CLAIMS", "LATEST STATED"], rows)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
