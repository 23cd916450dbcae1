//! `claims subjects`: what the ledger holds claims about.

use super::listing::Query;
use super::print_json;
use crate::cli::SubjectsArgs;
use crate::ctx::Ctx;
use crate::error::{CliResult, Exit};
use crate::output;
use claimledger_cli::view;
use claimledger_store::Storage;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

pub fn cmd_subjects<S: Storage>(ctx: &mut Ctx<'_, S>, args: SubjectsArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    // The claims read a batch at a time.
    let mut subjects = BTreeMap::new();
    Query::default().each(ledger, &mut |batch| {
        for state in batch {
            view::count_subject(&mut subjects, &state);
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let out = &mut *io.out;
    if args.json {
        let rows = subjects
            .iter()
            .map(|(subject, summary)| view::subject_json(subject, summary))
            .collect();
        print_json(out, &serde_json::Value::Array(rows))?;
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
    Ok(Exit::SUCCESS)
}
