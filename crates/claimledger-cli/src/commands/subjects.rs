//! `claims subjects`: what the ledger holds claims about.

use super::listing::Query;
use super::print_json;
use crate::cli::SubjectsArgs;
use crate::env::Env;
use crate::error::CliResult;
use crate::output;
use claimledger_core::Date;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

pub fn cmd_subjects(env: &Env, args: SubjectsArgs) -> CliResult<ExitCode> {
    let ledger = env.open()?;
    // Subject → (claim count, latest statement date), the claims read a batch at a time.
    let mut subjects: BTreeMap<String, (u64, Option<Date>)> = BTreeMap::new();
    Query::default().each(&ledger, &mut |batch| {
        for state in batch {
            let entry = subjects.entry(state.claim.subject.to_string()).or_default();
            entry.0 += 1;
            if let Some(stated) = state.claim.stated_on {
                if entry
                    .1
                    .as_ref()
                    .is_none_or(|latest| stated.cmp_chronological(latest).is_gt())
                {
                    entry.1 = Some(stated);
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows = subjects
            .iter()
            .map(|(subject, (count, latest))| json!({"subject": subject, "claims": count, "latest_stated_on": latest}))
            .collect();
        print_json(&mut out, &serde_json::Value::Array(rows))?;
    } else {
        let rows = subjects
            .iter()
            .map(|(subject, (count, latest))| {
                vec![
                    subject.clone(),
                    count.to_string(),
                    latest.as_ref().map(ToString::to_string).unwrap_or_default(),
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
