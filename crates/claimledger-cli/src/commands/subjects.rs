//! `claims subjects`: what the ledger holds claims about.

use super::listing::Query;
use super::print_json;
use crate::cli::SubjectsArgs;
use crate::env::Env;
use crate::error::CliResult;
use crate::output;
use claimledger_cli::view;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_subjects(env: &Env, args: SubjectsArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    // The claims read a batch at a time.
    let mut subjects = BTreeMap::new();
    Query::default().each(&ledger, &mut |batch| {
        for state in batch {
            view::count_subject(&mut subjects, &state);
        }
        Ok(ControlFlow::Continue(()))
    })?;
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
