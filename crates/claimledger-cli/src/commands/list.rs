//! `claims list`: the claims a query selects, streamed a batch at a time as a table, JSON or
//! CSV, so that memory holds one batch whatever the ledger's size.

use super::listing::{self, Query};
use super::{as_of_seq, covering};
use crate::cli::ListArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, JsonArrayWriter, TableWriter};
use claimledger_cli::view::claim_json;
use claimledger_core::decide::ClaimState;
use claimledger_core::{Status, Subject, Tag};
use claimledger_store::{Filter, Storage};
use std::io::Write;
use std::ops::ControlFlow;

pub fn cmd_list<S: Storage>(ctx: &mut Ctx<'_, S>, args: ListArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
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
    let mut query = Query {
        filter,
        exact_subject: args.exact,
        stated_by: listing::parse_stated_by(&args.stated_by.stated_by)?,
        covering: covering(&args.covering)?,
        text: args.text.clone(),
        ..Query::default()
    };
    let ledger = ledgers.read(env, io.err)?;
    query.as_of = as_of_seq(ledger, &args.as_of)?;

    let mut out = std::io::BufWriter::new(&mut *io.out);
    let mut sink = Sink::new(&args.format);
    let limit = args.limit.unwrap_or(u64::MAX);
    let (mut skipped, mut shown, mut more) = (0u64, 0u64, false);
    query.each(ledger, &mut |batch| {
        let mut page: Vec<ClaimState> = Vec::with_capacity(batch.len());
        for state in batch {
            if skipped < args.offset {
                skipped += 1;
            } else if shown < limit {
                shown += 1;
                page.push(state);
            } else {
                more = true;
                break;
            }
        }
        sink.write(&mut out, &page)?;
        Ok(if more {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    sink.finish(&mut out)?;
    out.flush()?;
    drop(out);
    if !args.format.json && !args.format.csv {
        if more && shown > 0 {
            io.say(format_args!(
                "claims {} to {} shown; more follow (--offset {})",
                output::count(args.offset + 1),
                output::count(args.offset + shown),
                args.offset + shown
            ));
        } else {
            io.say(output::plural(shown, "claim", "claims"));
        }
    }
    Ok(Exit::SUCCESS)
}

/// Where the listing goes: a table, a JSON array or CSV, written a batch at a time.
enum Sink {
    Table(TableWriter),
    Json(JsonArrayWriter),
    Csv { header_written: bool },
}

impl Sink {
    fn new(format: &crate::cli::FormatArg) -> Sink {
        if format.json {
            Sink::Json(JsonArrayWriter::default())
        } else if format.csv {
            Sink::Csv {
                header_written: false,
            }
        } else {
            Sink::Table(TableWriter::new(&[
                "CLAIM", "SUBJECT", "CLAIMANT", "FIGURE", "STATED", "REV", "STATUS",
            ]))
        }
    }

    fn write(&mut self, out: &mut dyn Write, claims: &[ClaimState]) -> CliResult {
        match self {
            Sink::Json(writer) => {
                for state in claims {
                    writer.write(out, &claim_json(state))?;
                }
            }
            Sink::Csv { header_written } => {
                let mut csv = csv::Writer::from_writer(out);
                if !*header_written {
                    *header_written = true;
                    csv.write_record(listing::CSV_HEADER)
                        .map_err(listing::csv_error)?;
                }
                for state in claims {
                    csv.write_record(listing::csv_row(state))
                        .map_err(listing::csv_error)?;
                }
                csv.flush()?;
            }
            Sink::Table(table) => {
                let rows = claims.iter().map(row).collect();
                table.write_batch(out, rows)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> CliResult {
        match self {
            Sink::Json(writer) => writer.finish(out)?,
            Sink::Csv { .. } => self.write(out, &[])?,
            Sink::Table(table) => table.finish(out)?,
        }
        Ok(())
    }
}

fn row(state: &ClaimState) -> Vec<String> {
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
}
