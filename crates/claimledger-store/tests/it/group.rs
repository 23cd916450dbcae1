//! Group commit (`Ledger::submit_each`) and read views (`Ledger::view`).

use crate::support::{command, context, lines, steps};
use claimledger_core::input::Command;
use claimledger_core::Seq;
use claimledger_store::{
    Filter, Ledger, MemoryStorage, Receipt, RejectReason, SledStorage, Storage, SubmitError,
};
use proptest::prelude::*;
use std::time::Duration;

type Outcome = Result<Receipt, RejectReason>;

/// Each command submitted alone, as separate writers without group commit would.
fn one_by_one<S: Storage>(ledger: &mut Ledger<S>, commands: &[Command]) -> Vec<Outcome> {
    commands
        .iter()
        .map(
            |c| match ledger.submit(std::slice::from_ref(c), &context()) {
                Ok(mut receipts) => Ok(receipts.remove(0)),
                Err(SubmitError::Rejected { reason, .. }) => Err(reason),
                Err(SubmitError::Store(e)) => panic!("storage failed: {e}"),
            },
        )
        .collect()
}

/// The same commands decided in groups of `group` and committed a group at a time.
fn grouped<S: Storage>(ledger: &mut Ledger<S>, commands: &[Command], group: usize) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for chunk in commands.chunks(group.max(1)) {
        let before = ledger.head();
        let results = ledger.submit_each(chunk, &context()).unwrap();
        assert_eq!(results.len(), chunk.len());
        let accepted = results.iter().filter(|r| r.is_ok()).count() as u64;
        assert_eq!(ledger.head().count, before.count + accepted);
        outcomes.extend(results);
    }
    outcomes
}

/// Random histories with refused commands mixed in: a key recorded twice, a revise of a claim
/// that does not exist, a stale `expected_revision`, a revise that changes nothing.
fn with_refusals(lines: Vec<String>, every: usize) -> Vec<Command> {
    let mut out = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        out.push(command(&line));
        if i % every.max(1) == 0 {
            out.push(command(match i % 4 {
                0 => r#"{"key":"k0","subject":"s","claimant":"c","statement":"again"}"#,
                1 => r#"{"op":"revise","claim":"nobody","reason":"r","statement":"x"}"#,
                2 => r#"{"op":"revise","claim":"k0","reason":"r","statement":"x","expected_revision":999}"#,
                _ => r#"{"op":"revise","claim":"k0","reason":"r","status":"active"}"#,
            }));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Group commit decides and writes exactly what the same commands one at a time would:
    /// the same result for each, the same entries (so the same head), the same views.
    #[test]
    fn groups_commit_what_single_commands_would(
        steps in steps(60),
        every in 1usize..6,
        group in 1usize..20,
    ) {
        let commands = with_refusals(lines(&steps), every);
        let mut single = Ledger::open(MemoryStorage::new()).unwrap();
        let mut together = Ledger::open(MemoryStorage::new()).unwrap();
        let expected = one_by_one(&mut single, &commands);
        let outcomes = grouped(&mut together, &commands, group);
        prop_assert_eq!(outcomes, expected);
        prop_assert_eq!(together.head(), single.head());
        prop_assert_eq!(
            together.list(&Filter::default()).unwrap(),
            single.list(&Filter::default()).unwrap()
        );
        prop_assert_eq!(together.verify(&mut |_| {}).unwrap().problem, None);
    }
}

#[test]
fn a_group_of_refusals_writes_nothing() {
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    let commands = [
        command(r#"{"op":"revise","claim":"nobody","reason":"r","statement":"x"}"#),
        command(r#"{"op":"revise","claim":"k1","reason":"r","statement":"x"}"#),
    ];
    let results = ledger.submit_each(&commands, &context()).unwrap();
    assert!(results.iter().all(|r| r.is_err()), "{results:?}");
    assert_eq!(ledger.head().count, 0);
}

#[test]
fn a_view_reads_the_ledger_as_it_was_made() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SledStorage::create(&dir.path().join("ledger"), Duration::from_secs(5)).unwrap();
    let mut ledger = Ledger::open(storage).unwrap();
    let record = |key: &str| {
        command(&format!(
            r#"{{"key":"{key}","subject":"s/a","claimant":"c","statement":"one","tags":["t"]}}"#
        ))
    };
    ledger.submit(&[record("k0")], &context()).unwrap();
    let view = ledger.view();
    let checkpoint = view.checkpoint().unwrap();
    ledger
        .submit(
            &[
                command(r#"{"op":"revise","claim":"k0","reason":"r","statement":"two"}"#),
                record("k1"),
            ],
            &context(),
        )
        .unwrap();

    assert_eq!(view.head().count, 1);
    let k0 = view.resolve("k0").unwrap().unwrap();
    let state = view.claim(k0).unwrap().unwrap();
    assert_eq!((state.revision, state.claim.statement.as_str()), (1, "one"));
    assert_eq!(view.history(k0).unwrap().len(), 1);
    // k1's key is in the shared index, but the claim was recorded after the view.
    let k1 = view.resolve("k1").unwrap().unwrap();
    assert_eq!(view.claim(k1).unwrap(), None);
    assert_eq!(view.list(&Filter::default()).unwrap().len(), 1);
    assert_eq!(view.checkpoint().unwrap(), checkpoint);
    assert!(
        view.entry(Seq(2)).is_err(),
        "the view reads nothing past its head"
    );

    let now = ledger.view();
    assert_eq!(now.head(), ledger.head());
    assert_eq!(now.claim(k0).unwrap().unwrap().revision, 2);
    assert_eq!(now.list(&Filter::default()).unwrap().len(), 2);
    assert_eq!(now.checkpoint().unwrap(), ledger.checkpoint().unwrap());

    // The ledger's lock is held until the last view is dropped.
    drop(ledger);
    drop(now);
    let busy = SledStorage::open(&dir.path().join("ledger"), Duration::ZERO);
    assert!(busy.is_err(), "a view still holds the ledger");
    drop(view);
    SledStorage::open(&dir.path().join("ledger"), Duration::ZERO).unwrap();
}
