//! How claims are ordered and shaped as JSON for reading: shared by `claims`, the API of
//! `claims serve` and the benchmark's SQLite alternative, so that all answer alike.

use claimledger_core::decide::ClaimState;
use claimledger_core::diff::diff_claims;
use claimledger_core::{Bound, Claim, Date, Decimal, Entry, EntryHash, Event};
use serde_json::{json, Value as Json};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// By statement date; claims with no statement date come last.
pub fn by_stated(a: &ClaimState, b: &ClaimState) -> Ordering {
    match (&a.claim.stated_on, &b.claim.stated_on) {
        (Some(x), Some(y)) => x.cmp_chronological(y),
        (x, y) => x.is_none().cmp(&y.is_none()),
    }
}

/// The amount a figure sorts by: its amount, or a range's low end. Claims with no figure last.
fn sort_amount(claim: &ClaimState) -> Option<&Decimal> {
    let value = claim.claim.value.as_ref()?;
    match value.bound {
        Bound::Range => value.low.as_ref(),
        _ => value.amount.as_ref(),
    }
}

/// By figure (a range by its low end); claims with no figure come last.
pub fn by_amount(a: &ClaimState, b: &ClaimState) -> Ordering {
    match (sort_amount(a), sort_amount(b)) {
        (Some(x), Some(y)) => x.cmp_value(y),
        (x, y) => x.is_none().cmp(&y.is_none()),
    }
}

/// A comparison's order (`compare`): by statement date, then figure.
pub fn sort_by_stated(claims: &mut [ClaimState]) {
    claims.sort_by(|a, b| by_stated(a, b).then_with(|| by_amount(a, b)));
}

/// A comparison's order (`compare --sort amount`): by figure, then statement date.
pub fn sort_by_amount(claims: &mut [ClaimState]) {
    claims.sort_by(|a, b| by_amount(a, b).then_with(|| by_stated(a, b)));
}

/// The JSON shape of a claim as of a revision (show, list).
pub fn claim_json(state: &ClaimState) -> Json {
    json!({
        "id": state.id.to_string(),
        "key": state.key.as_ref().map(|k| k.to_string()),
        "revision": state.revision,
        "recorded_at": state.recorded_at.to_string(),
        "revised_at": state.revised_at.to_string(),
        "claim": state.claim,
    })
}

/// The JSON shape of one row of a comparison (`compare --json`).
pub fn compare_row_json(state: &ClaimState) -> Json {
    let claim = &state.claim;
    json!({
        "id": state.id.to_string(),
        "key": state.key.as_ref().map(|k| k.to_string()),
        "subject": claim.subject,
        "claimant": claim.claimant,
        "figure": claim.value.as_ref().map(crate::text::figure),
        "value": claim.value,
        "period": claim.period,
        "stated_on": claim.stated_on,
        "revisions": state.revision,
        "status": claim.status,
        "statement": claim.statement,
    })
}

/// What the ledger holds about one subject (`subjects`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectSummary {
    pub claims: u64,
    /// The latest statement date of its claims.
    pub latest_stated_on: Option<Date>,
}

/// The subjects of `claims`, in order, with their counts and latest statement dates.
pub fn subjects<'a>(
    claims: impl IntoIterator<Item = &'a ClaimState>,
) -> BTreeMap<String, SubjectSummary> {
    let mut subjects = BTreeMap::new();
    for state in claims {
        count_subject(&mut subjects, state);
    }
    subjects
}

/// Counts one claim into `subjects`: for listings read a batch at a time.
pub fn count_subject(subjects: &mut BTreeMap<String, SubjectSummary>, state: &ClaimState) {
    let entry = subjects.entry(state.claim.subject.to_string()).or_default();
    entry.claims += 1;
    if let Some(stated) = &state.claim.stated_on {
        if entry
            .latest_stated_on
            .as_ref()
            .is_none_or(|latest| stated.cmp_chronological(latest).is_gt())
        {
            entry.latest_stated_on = Some(stated.clone());
        }
    }
}

/// The JSON shape of one subject (`subjects --json`).
pub fn subject_json(subject: &str, summary: &SubjectSummary) -> Json {
    json!({
        "subject": subject,
        "claims": summary.claims,
        "latest_stated_on": summary.latest_stated_on,
    })
}

/// The JSON shape of one revision in a claim's history: `entry`, whose stored bytes hash to
/// `hash`, and what changed from `previous`, the claim as the revision before left it.
pub fn revision_json(entry: &Entry, hash: &EntryHash, previous: Option<&Claim>) -> Json {
    let event = &entry.event;
    let (kind, reason) = match event {
        Event::ClaimRecorded(_) => (None, None),
        Event::ClaimRevised(e) => (Some(e.kind.as_str()), Some(e.reason.as_str())),
    };
    let changes: Vec<Json> = previous
        .map(|p| diff_claims(p, event.claim()))
        .unwrap_or_default()
        .into_iter()
        .map(|c| json!({"field": c.field, "before": c.before, "after": c.after}))
        .collect();
    json!({
        "revision": event.revision(),
        "seq": entry.seq.0,
        "hash": hash.to_hex(),
        "type": event.type_name(),
        "recorded_at": event.recorded_at().to_string(),
        "author": event.author(),
        "kind": kind,
        "reason": reason,
        "note": event.note(),
        "claim": event.claim(),
        "changes": changes,
    })
}
