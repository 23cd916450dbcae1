//! How claims are ordered and shaped as JSON for reading: shared by `claims` and the
//! benchmark's SQLite alternative, so that both answer alike.

use claimledger_core::decide::ClaimState;
use claimledger_core::diff::diff_claims;
use claimledger_core::{Bound, Claim, Decimal, Entry, EntryHash, Event};
use serde_json::{json, Value as Json};
use std::cmp::Ordering;

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
