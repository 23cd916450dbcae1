//! What `list`, `compare` and `subjects` share: which claims a query selects, a batch at a
//! time (`Ledger::list_each_as_of`), each as of recording time `--as-of` and, with
//! `--stated-by`, as its claimant had stated it by then; and the CSV shape of a claim.

use crate::error::{CliError, CliResult};
use crate::output;
use claimledger_core::decide::ClaimState;
use claimledger_core::{Date, Seq};
use claimledger_store::{Filter, Ledger, Storage};
use std::ops::ControlFlow;

/// A selection of claims.
#[derive(Debug, Default)]
pub struct Query {
    /// Selected by the index, as the ledger held the claims after entry `as_of`.
    pub filter: Filter,
    pub as_of: Option<Seq>,
    /// Only claims about exactly `filter.subject`, not the subjects below it.
    pub exact_subject: bool,
    /// Each claim at its latest revision stated on or before this date (`--stated-by`).
    pub stated_by: Option<Date>,
    /// Of what is shown: only claims whose period covers this date.
    pub covering: Option<Date>,
    /// Of what is shown: only claims whose statement, claimant or key contains this text,
    /// compared in lower case.
    pub text: Option<String>,
}

impl Query {
    /// Calls `visit` with each batch of selected claims, in recording order, until it breaks.
    pub fn each<S: Storage>(
        &self,
        ledger: &Ledger<S>,
        visit: &mut dyn FnMut(Vec<ClaimState>) -> CliResult<ControlFlow<()>>,
    ) -> CliResult {
        let text = self.text.as_ref().map(|t| t.to_lowercase());
        let mut failure = None;
        ledger.list_each_as_of(&self.filter, self.as_of, &mut |batch| {
            let mut shown = Vec::with_capacity(batch.len());
            for state in batch {
                let state = match &self.stated_by {
                    None => Some(state),
                    Some(by) => match stated_by(ledger, state, by, self.as_of) {
                        Ok(state) => state,
                        Err(error) => {
                            failure = Some(error);
                            return ControlFlow::Break(());
                        }
                    },
                };
                let Some(state) = state else { continue };
                if self.keeps(&state, text.as_deref()) {
                    shown.push(state);
                }
            }
            if shown.is_empty() {
                return ControlFlow::Continue(());
            }
            match visit(shown) {
                Ok(flow) => flow,
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(())
                }
            }
        })?;
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Every selected claim (for `compare`, which sorts them: one subject's claims).
    pub fn all<S: Storage>(&self, ledger: &Ledger<S>) -> CliResult<Vec<ClaimState>> {
        let mut claims = Vec::new();
        self.each(ledger, &mut |batch| {
            claims.extend(batch);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(claims)
    }

    fn keeps(&self, state: &ClaimState, text: Option<&str>) -> bool {
        let claim = &state.claim;
        if self.exact_subject
            && self
                .filter
                .subject
                .as_ref()
                .is_some_and(|s| s != &claim.subject)
        {
            return false;
        }
        if let Some(date) = &self.covering {
            if !claim.period.as_ref().is_some_and(|p| p.covers(date)) {
                return false;
            }
        }
        if let Some(text) = text {
            let found = claim.statement.to_lowercase().contains(text)
                || claim.claimant.to_lowercase().contains(text)
                || state
                    .key
                    .as_ref()
                    .is_some_and(|k| k.as_str().to_lowercase().contains(text));
            if !found {
                return false;
            }
        }
        true
    }
}

/// Whether a statement dated `stated` was made on or before `by`: all of its span ends by the
/// end of `by`'s. `2025-02` was stated by `2025-03` and by `2025-02`, but not by `2025-02-15`,
/// since it may have been said later in February.
pub fn stated_on_or_before(stated: &Date, by: &Date) -> bool {
    stated.end() <= by.end()
}

/// `state` (the claim as of `as_of`) at its latest revision whose statement date is on or
/// before `by`, or `None` if no revision up to `as_of` has one.
pub fn stated_by<S: Storage>(
    ledger: &Ledger<S>,
    state: ClaimState,
    by: &Date,
    as_of: Option<Seq>,
) -> CliResult<Option<ClaimState>> {
    let qualifies = |claim: &claimledger_core::Claim| {
        claim
            .stated_on
            .as_ref()
            .is_some_and(|d| stated_on_or_before(d, by))
    };
    if qualifies(&state.claim) {
        return Ok(Some(state));
    }
    if state.revision == 1 {
        return Ok(None);
    }
    let history = ledger.history_as_of(state.id, as_of)?;
    let chosen = history
        .iter()
        .rev()
        .find(|r| qualifies(r.entry.event.claim()));
    Ok(chosen.map(|revision| ClaimState {
        id: state.id,
        key: state.key.clone(),
        revision: revision.entry.event.revision(),
        claim: revision.entry.event.claim().clone(),
        recorded_at: state.recorded_at,
        revised_at: revision.entry.event.recorded_at(),
    }))
}

/// Parses a `--stated-by DATE`.
pub fn parse_stated_by(text: &Option<String>) -> CliResult<Option<Date>> {
    text.as_deref()
        .map(|d| Date::parse(d).map_err(|why| CliError::input(format!("--stated-by: {why}"))))
        .transpose()
}

/// The columns of `--csv`: one claim a row, as `show --json` has it, flattened.
pub const CSV_HEADER: [&str; 21] = [
    "id",
    "key",
    "revision",
    "subject",
    "claimant",
    "statement",
    "figure",
    "bound",
    "amount",
    "low",
    "high",
    "unit",
    "from",
    "to",
    "stated_on",
    "method",
    "status",
    "tags",
    "sources",
    "recorded_at",
    "revised_at",
];

/// A text cell as a spreadsheet will not take for a formula: one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (the usual guard against formula
/// injection; the ledger's own data is unchanged).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// One claim as a CSV row of [`CSV_HEADER`].
pub fn csv_row(state: &ClaimState) -> Vec<String> {
    let claim = &state.claim;
    let value = claim.value.as_ref();
    let number = |d: Option<&claimledger_core::Decimal>| {
        d.map(|d| d.as_str().to_owned()).unwrap_or_default()
    };
    let date = |d: Option<&Date>| d.map(ToString::to_string).unwrap_or_default();
    let sources: Vec<String> = claim
        .sources
        .iter()
        .map(|s| {
            let mut parts: Vec<String> = Vec::new();
            parts.extend(s.publisher.clone());
            parts.extend(s.url.as_ref().map(|u| format!("<{u}>")));
            parts.join(" ")
        })
        .collect();
    vec![
        state.id.to_string(),
        state
            .key
            .as_ref()
            .map(|k| k.to_string())
            .unwrap_or_default(),
        state.revision.to_string(),
        cell(claim.subject.as_str()),
        cell(&claim.claimant),
        cell(&claim.statement),
        cell(&value.map(output::figure).unwrap_or_default()),
        value
            .map(|v| v.bound.as_str().to_owned())
            .unwrap_or_default(),
        number(value.and_then(|v| v.amount.as_ref())),
        number(value.and_then(|v| v.low.as_ref())),
        number(value.and_then(|v| v.high.as_ref())),
        cell(value.and_then(|v| v.unit.as_deref()).unwrap_or_default()),
        date(claim.period.as_ref().and_then(|p| p.from.as_ref())),
        date(claim.period.as_ref().and_then(|p| p.to.as_ref())),
        date(claim.stated_on.as_ref()),
        cell(claim.method.as_deref().unwrap_or_default()),
        claim.status.as_str().to_owned(),
        claim
            .tags
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        cell(&sources.join("; ")),
        state.recorded_at.to_string(),
        state.revised_at.to_string(),
    ]
}

/// A CSV failure as the I/O error it is (only writing can fail).
pub fn csv_error(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
