//! Decide, then apply: commands are checked against a claim's current state and turned into
//! events ([`decide_record`], [`decide_revise`]); a pure fold ([`ClaimState::apply`]) applies
//! events to state. Every view the ledger shows is this fold over the log.

use crate::input::{RecordCommand, ReviseCommand};
use crate::{
    Claim, ClaimId, ClaimRecorded, ClaimRevised, Event, FieldError, Key, RevisionKind, Timestamp,
};

/// A claim as of its latest revision: the fold of its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimState {
    pub id: ClaimId,
    pub key: Option<Key>,
    pub revision: u32,
    pub claim: Claim,
    pub recorded_at: Timestamp,
    pub revised_at: Timestamp,
}

impl ClaimState {
    /// The state a `ClaimRecorded` creates.
    pub fn recorded(event: &ClaimRecorded) -> ClaimState {
        ClaimState {
            id: event.claim_id,
            key: event.key.clone(),
            revision: 1,
            claim: event.claim.clone(),
            recorded_at: event.recorded_at,
            revised_at: event.recorded_at,
        }
    }

    /// Folds one more event of this claim in, or says why it does not follow.
    pub fn apply(&mut self, event: &Event) -> Result<(), String> {
        match event {
            Event::ClaimRecorded(e) => {
                Err(format!("claim {} is recorded a second time", e.claim_id))
            }
            Event::ClaimRevised(e) if e.claim_id != self.id => Err(format!(
                "revision of claim {} applied to claim {}",
                e.claim_id, self.id
            )),
            Event::ClaimRevised(e) if e.revision != self.revision + 1 => Err(format!(
                "claim {} jumps from revision {} to revision {}",
                self.id, self.revision, e.revision
            )),
            Event::ClaimRevised(e) => {
                self.revision = e.revision;
                self.claim = e.claim.clone();
                self.revised_at = e.recorded_at;
                Ok(())
            }
        }
    }

    /// Folds a claim's events, first to last.
    pub fn fold<'a>(
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Option<ClaimState>, String> {
        let mut state: Option<ClaimState> = None;
        for event in events {
            match (&mut state, event) {
                (None, Event::ClaimRecorded(e)) => state = Some(ClaimState::recorded(e)),
                (None, Event::ClaimRevised(e)) => {
                    return Err(format!(
                        "claim {} is revised before it is recorded",
                        e.claim_id
                    ))
                }
                (Some(current), event) => current.apply(event)?,
            }
        }
        Ok(state)
    }
}

/// Who and when, supplied by the caller: the core reads no clock and no environment.
#[derive(Clone, Debug)]
pub struct EventContext {
    pub now: Timestamp,
    /// Used when the command names no author of its own.
    pub default_author: String,
}

/// Why a command is refused by the ledger's state (not by the input format).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("field `key`: {0} is already used by claim {1}")]
    KeyTaken(Key, ClaimId),
    #[error("field `expected_revision`: the claim is at revision {actual}, not {expected}; read it again and retry")]
    StaleRevision { expected: u32, actual: u32 },
    #[error("field `kind`: a status revision changes only `status`, but this one also sets {0}")]
    StatusKindChangesMore(String),
    #[error("field `status`: a status revision must change the status, which is already {0}")]
    StatusUnchanged(&'static str),
    #[error("field `kind`: an evidence revision changes only the sources' snapshots (`archived`), but this one also sets {0}")]
    EvidenceKindChangesMore(String),
    #[error("field `sources`: an evidence revision changes only the sources' snapshots (`archived`), but {0}")]
    EvidenceChangesSources(String),
    #[error("the revision changes nothing: every field it sets already has that value")]
    NothingChanges,
    #[error("{0}")]
    Invalid(#[from] FieldError),
}

/// Records a new claim. `key_owner` is the claim that already holds the command's key, if any.
pub fn decide_record(
    command: &RecordCommand,
    claim_id: ClaimId,
    key_owner: Option<ClaimId>,
    context: &EventContext,
) -> Result<Event, DecideError> {
    if let (Some(key), Some(owner)) = (&command.key, key_owner) {
        return Err(DecideError::KeyTaken(key.clone(), owner));
    }
    command.claim.validate()?;
    Ok(Event::ClaimRecorded(ClaimRecorded {
        claim_id,
        key: command.key.clone(),
        author: command
            .author
            .clone()
            .unwrap_or_else(|| context.default_author.clone()),
        note: command.note.clone(),
        recorded_at: context.now,
        claim: command.claim.clone(),
    }))
}

/// Revises a claim from its current state.
pub fn decide_revise(
    command: &ReviseCommand,
    current: &ClaimState,
    context: &EventContext,
) -> Result<Event, DecideError> {
    if let Some(expected) = command.expected_revision {
        if expected != current.revision {
            return Err(DecideError::StaleRevision {
                expected,
                actual: current.revision,
            });
        }
    }
    if command.kind == RevisionKind::Status {
        let others = command.changes.fields_other_than_status();
        if !others.is_empty() {
            return Err(DecideError::StatusKindChangesMore(others.join(", ")));
        }
        if command
            .changes
            .status
            .is_none_or(|status| status == current.claim.status)
        {
            return Err(DecideError::StatusUnchanged(current.claim.status.as_str()));
        }
    }
    if command.kind == RevisionKind::Evidence {
        let others: Vec<&str> = command
            .changes
            .fields_other_than_status()
            .into_iter()
            .filter(|field| *field != "sources")
            .chain(command.changes.status.map(|_| "status"))
            .collect();
        if !others.is_empty() {
            return Err(DecideError::EvidenceKindChangesMore(others.join(", ")));
        }
        if let Some(sources) = &command.changes.sources {
            check_only_archived_changes(&current.claim.sources, sources)?;
        }
    }
    let claim = command.changes.apply(&current.claim)?;
    if claim == current.claim {
        return Err(DecideError::NothingChanges);
    }
    Ok(Event::ClaimRevised(ClaimRevised {
        claim_id: current.id,
        revision: current.revision + 1,
        kind: command.kind,
        reason: command.reason.clone(),
        author: command
            .author
            .clone()
            .unwrap_or_else(|| context.default_author.clone()),
        note: command.note.clone(),
        recorded_at: context.now,
        claim,
    }))
}

/// The sources of an evidence revision must be the claim's, each with the same fields but its
/// `archived` list.
fn check_only_archived_changes(
    current: &[crate::Source],
    next: &[crate::Source],
) -> Result<(), DecideError> {
    if current.len() != next.len() {
        return Err(DecideError::EvidenceChangesSources(format!(
            "it gives {} sources where the claim has {}",
            next.len(),
            current.len()
        )));
    }
    match current
        .iter()
        .zip(next)
        .position(|(a, b)| a.without_archived() != b.without_archived())
    {
        Some(i) => Err(DecideError::EvidenceChangesSources(format!(
            "sources[{i}] differs in more than its snapshots"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{parse_command, Command};

    fn context() -> EventContext {
        EventContext {
            now: Timestamp::parse("2025-08-13T00:00:00.000000Z").unwrap(),
            default_author: "ana".into(),
        }
    }

    fn id(n: u8) -> ClaimId {
        ClaimId::parse(&format!("01953a1c-8f00-7000-8000-0000000000{n:02}")).unwrap()
    }

    fn record(json: &str) -> ClaimState {
        let Command::Record(command) = parse_command(json).unwrap() else {
            panic!("not a record")
        };
        let Event::ClaimRecorded(event) = decide_record(&command, id(1), None, &context()).unwrap()
        else {
            unreachable!()
        };
        ClaimState::recorded(&event)
    }

    /// Revises the base claim with `json` and compares the error text (or "ok") with `expected`.
    fn check_revise(json: &str, expected: &str) {
        let state = record(
            r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300","value":{"amount":95300}}"#,
        );
        let Command::Revise(command) = parse_command(json).unwrap() else {
            panic!("not a revise")
        };
        let actual = match decide_revise(&command, &state, &context()) {
            Ok(event) => {
                let mut next = state.clone();
                next.apply(&event).unwrap();
                assert_eq!(next.revision, 2);
                "ok".to_owned()
            }
            Err(e) => e.to_string(),
        };
        assert_eq!(actual, expected, "{json}");
    }

    #[test]
    fn revise_rules() {
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"new count","value":{"amount":121507}}"#,
            "ok",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","expected_revision":1,"statement":"121,507"}"#,
            "ok",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","expected_revision":2,"statement":"x"}"#,
            "field `expected_revision`: the claim is at revision 1, not 2; read it again and retry",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","value":{"amount":95300}}"#,
            "the revision changes nothing: every field it sets already has that value",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","kind":"status","status":"disputed"}"#,
            "ok",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","kind":"status","status":"active"}"#,
            "field `status`: a status revision must change the status, which is already active",
        );
        check_revise(r#"{"op":"revise","claim":"mz","reason":"r","kind":"status","status":"disputed","statement":"x"}"#,
            "field `kind`: a status revision changes only `status`, but this one also sets statement");
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","period":{"from":"2025"}}"#,
            "ok",
        );
        check_revise(
            r#"{"op":"revise","claim":"mz","reason":"r","value":null}"#,
            "ok",
        );
    }

    #[test]
    fn evidence_revisions_change_only_snapshots() {
        let state = record(
            r#"{"key":"mz","subject":"s","claimant":"c","statement":"x","sources":[{"publisher":"AFP"},{"url":"https://a.org/"}]}"#,
        );
        let check = |json: &str, expected: &str| {
            let Command::Revise(command) = parse_command(json).unwrap() else {
                panic!("not a revise")
            };
            let actual = match decide_revise(&command, &state, &context()) {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.to_string(),
            };
            assert_eq!(actual, expected, "{json}");
        };
        let item = r#"{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":3,"media_type":"application/pdf","captured_at":"2025-08-13"}"#;
        check(
            &format!(
                r#"{{"op":"revise","claim":"mz","reason":"r","kind":"evidence","sources":[{{"publisher":"AFP","archived":[{item}]}},{{"url":"https://a.org/"}}]}}"#
            ),
            "ok",
        );
        check(
            &format!(r#"{{"op":"revise","claim":"mz","reason":"r","kind":"evidence","sources":[{{"publisher":"AFP","archived":[{item}]}}]}}"#),
            "field `sources`: an evidence revision changes only the sources' snapshots (`archived`), but it gives 1 sources where the claim has 2",
        );
        check(
            &format!(r#"{{"op":"revise","claim":"mz","reason":"r","kind":"evidence","sources":[{{"publisher":"AFP"}},{{"url":"https://b.org/","archived":[{item}]}}]}}"#),
            "field `sources`: an evidence revision changes only the sources' snapshots (`archived`), but sources[1] differs in more than its snapshots",
        );
        check(
            &format!(r#"{{"op":"revise","claim":"mz","reason":"r","kind":"evidence","statement":"y","sources":[{{"publisher":"AFP","archived":[{item}]}},{{"url":"https://a.org/"}}]}}"#),
            "field `kind`: an evidence revision changes only the sources' snapshots (`archived`), but this one also sets statement",
        );
        check(
            r#"{"op":"revise","claim":"mz","reason":"r","kind":"evidence","sources":[{"publisher":"AFP"},{"url":"https://a.org/"}]}"#,
            "the revision changes nothing: every field it sets already has that value",
        );
        check(
            r#"{"op":"revise","claim":"mz","reason":"r","kind":"evidence","status":"disputed"}"#,
            "field `kind`: an evidence revision changes only the sources' snapshots (`archived`), but this one also sets status",
        );
    }

    #[test]
    fn key_taken() {
        let Command::Record(command) =
            parse_command(r#"{"key":"mz","subject":"s","claimant":"c","statement":"x"}"#).unwrap()
        else {
            panic!()
        };
        let error = decide_record(&command, id(2), Some(id(1)), &context()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "field `key`: mz is already used by claim 01953a1c-8f00-7000-8000-000000000001"
        );
    }

    #[test]
    fn fold_refuses_gaps() {
        let state = record(r#"{"subject":"s","claimant":"c","statement":"x"}"#);
        let mut claim = state.claim.clone();
        claim.statement = "y".into();
        let jump = Event::ClaimRevised(ClaimRevised {
            claim_id: state.id,
            revision: 3,
            kind: RevisionKind::Update,
            reason: "r".into(),
            author: "a".into(),
            note: None,
            recorded_at: context().now,
            claim,
        });
        assert!(state.clone().apply(&jump).is_err());
    }
}
