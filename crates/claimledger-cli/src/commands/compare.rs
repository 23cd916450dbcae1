//! `claims compare SUBJECT`: every claimant's figure about a subject and the subjects below it,
//! side by side.

use super::listing::{self, Query};
use super::{as_of_seq, covering};
use crate::cli::{CompareArgs, CompareSort};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, JsonArrayWriter};
use claimledger_cli::view::{by_amount, by_stated, compare_row_json};
use claimledger_core::decide::ClaimState;
use claimledger_core::{Seq, Subject};
use claimledger_store::{Filter, Ledger, Storage};
use std::io::Write;

pub fn cmd_compare<S: Storage>(ctx: &mut Ctx<'_, S>, args: CompareArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let subject =
        Subject::parse(&args.subject).map_err(|r| CliError::input(format!("SUBJECT: {r}")))?;
    let mut query = Query {
        filter: Filter {
            subject: Some(subject.clone()),
            ..Filter::default()
        },
        exact_subject: args.exact,
        stated_by: listing::parse_stated_by(&args.stated_by.stated_by)?,
        covering: covering(&args.covering)?,
        ..Query::default()
    };
    let ledger = ledgers.read(env, io.err)?;
    query.as_of = as_of_seq(ledger, &args.as_of)?;
    let mut claims = query.all(ledger)?;
    sort(&mut claims, args.sort);
    let mut out = std::io::BufWriter::new(&mut *io.out);
    if args.format.json {
        let mut writer = JsonArrayWriter::default();
        for c in &claims {
            writer.write(&mut out, &compare_row_json(c))?;
        }
        writer.finish(&mut out)?;
    } else if args.format.csv {
        let mut csv = csv::Writer::from_writer(&mut out);
        csv.write_record(listing::CSV_HEADER)
            .map_err(listing::csv_error)?;
        for c in &claims {
            csv.write_record(listing::csv_row(c))
                .map_err(listing::csv_error)?;
        }
        csv.flush()?;
    } else {
        write_comparison(&mut out, &subject, &claims)?;
    }
    out.flush()?;
    drop(out);
    if !args.format.json && !args.format.csv {
        io.say(format_args!(
            "{} about {subject}{}",
            output::plural(claims.len() as u64, "claim", "claims"),
            if args.exact { "" } else { " and below" }
        ));
    }
    Ok(Exit::SUCCESS)
}

fn sort(claims: &mut [ClaimState], sort: CompareSort) {
    match sort {
        CompareSort::Stated => claims.sort_by(|a, b| by_stated(a, b).then_with(|| by_amount(a, b))),
        CompareSort::Amount => claims.sort_by(|a, b| by_amount(a, b).then_with(|| by_stated(a, b))),
    }
}

/// The claims about `subject` (and below it, unless `exact`), as the ledger stood after
/// `as_of`, sorted.
pub fn comparison<S: Storage>(
    ledger: &Ledger<S>,
    subject: &Subject,
    exact: bool,
    order: CompareSort,
    as_of: Option<Seq>,
) -> CliResult<Vec<ClaimState>> {
    let query = Query {
        filter: Filter {
            subject: Some(subject.clone()),
            ..Filter::default()
        },
        exact_subject: exact,
        as_of,
        ..Query::default()
    };
    let mut claims = query.all(ledger)?;
    sort(&mut claims, order);
    Ok(claims)
}

/// The comparison as a table: a claim a row, named by key (or id), with the part of its
/// subject below `subject` when there is one.
pub fn write_comparison(
    out: &mut dyn Write,
    subject: &Subject,
    claims: &[ClaimState],
) -> std::io::Result<()> {
    let below = |c: &ClaimState| {
        c.claim
            .subject
            .as_str()
            .strip_prefix(subject.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or_default()
            .to_owned()
    };
    let with_subjects = claims.iter().any(|c| !below(c).is_empty());
    let rows = claims
        .iter()
        .map(|c| {
            let mut row = vec![output::claim_name(c)];
            if with_subjects {
                row.push(below(c));
            }
            row.extend([
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
            ]);
            row
        })
        .collect();
    let mut header = vec!["CLAIM"];
    if with_subjects {
        header.push("BELOW");
    }
    header.extend(["CLAIMANT", "FIGURE", "PERIOD", "STATED", "REV", "STATUS"]);
    writeln!(out, "{}", output::table(&header, rows))
}
