//! The ledger against a model: whatever is submitted, each claim's shown state is the fold of
//! its history, and the index answers as a scan of all claims would.

use crate::support::{command, context, lines, steps};
use claimledger_core::decide::ClaimState;
use claimledger_core::{Seq, Status, Subject, Tag};
use claimledger_store::{Filter, Ledger, MemoryStorage, Storage};
use proptest::prelude::*;

/// Checks every claim of `ledger` against the fold of its history, and every filter against a
/// plain scan of all claims.
fn check_views<S: Storage + Sync>(ledger: &Ledger<S>) {
    let all = ledger.list(&Filter::default()).unwrap();
    for state in &all {
        let history = ledger.history(state.id).unwrap();
        let folded = ClaimState::fold(history.iter().map(|r| &r.entry.event))
            .unwrap()
            .unwrap();
        assert_eq!(&folded, state, "the fold of the history is the shown state");
        assert_eq!(ledger.claim(state.id).unwrap().as_ref(), Some(state));
        if let Some(key) = &state.key {
            assert_eq!(ledger.resolve(key.as_str()).unwrap(), Some(state.id));
        }
        assert_eq!(
            ledger.resolve(&state.id.to_string()).unwrap(),
            Some(state.id)
        );
    }
    let filters = [
        Filter {
            subject: Some(Subject::parse("russia").unwrap()),
            ..Filter::default()
        },
        Filter {
            subject: Some(Subject::parse("russia/military-deaths").unwrap()),
            ..Filter::default()
        },
        Filter {
            claimant: Some("Mediazona".into()),
            ..Filter::default()
        },
        Filter {
            tag: Some(Tag::parse("official").unwrap()),
            ..Filter::default()
        },
        Filter {
            status: Some(Status::Disputed),
            claimant: Some("Ukraine General Staff".into()),
            ..Filter::default()
        },
    ];
    // The ledger as it stood after a few earlier entries: each claim the fold of its history up
    // to then.
    let head = ledger.head().count;
    let as_ofs: Vec<u64> = [1, head / 3, head / 2, head.saturating_sub(1)]
        .into_iter()
        .filter(|&seq| seq >= 1)
        .collect();
    let states_as_of = |as_of: u64| -> Vec<ClaimState> {
        all.iter()
            .filter_map(|state| {
                let history = ledger.history(state.id).unwrap();
                ClaimState::fold(
                    history
                        .iter()
                        .filter(|r| r.seq.0 <= as_of)
                        .map(|r| &r.entry.event),
                )
                .unwrap()
            })
            .collect()
    };
    for filter in filters.iter().chain([&Filter::default()]) {
        let expected: Vec<_> = all
            .iter()
            .filter(|s| filter.matches(&s.claim))
            .cloned()
            .collect();
        assert_eq!(ledger.list(filter).unwrap(), expected, "{filter:?}");
        for &as_of in &as_ofs {
            let expected: Vec<_> = states_as_of(as_of)
                .into_iter()
                .filter(|s| filter.matches(&s.claim))
                .collect();
            assert_eq!(
                ledger.list_as_of(filter, Some(Seq(as_of))).unwrap(),
                expected,
                "{filter:?} as of {as_of}"
            );
        }
    }
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.claim_count, all.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn views_are_folds_of_the_log(steps in steps(40), split in 1usize..8) {
        let lines = lines(&steps);
        let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
        let mut seen = 0u64;
        for batch in lines.chunks(split) {
            let commands: Vec<_> = batch.iter().map(|l| command(l)).collect();
            match ledger.submit(&commands, &context()) {
                Ok(receipts) => seen += receipts.len() as u64,
                // A revision that changes nothing is refused, and then the whole batch is.
                Err(error) => prop_assert!(error.to_string().contains("changes nothing"), "{error}"),
            }
            prop_assert_eq!(ledger.head().count, seen);
        }
        check_views(&ledger);
    }
}

#[test]
fn a_refused_batch_writes_nothing() {
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    let first = [command(
        r#"{"key":"a","subject":"s","claimant":"c","statement":"x"}"#,
    )];
    ledger.submit(&first, &context()).unwrap();
    let head = ledger.head();
    let batch = [
        command(r#"{"key":"b","subject":"s","claimant":"c","statement":"y"}"#),
        command(r#"{"op":"revise","claim":"b","reason":"r","statement":"z"}"#),
        command(r#"{"key":"a","subject":"s","claimant":"c","statement":"dup"}"#),
    ];
    let error = ledger.submit(&batch, &context()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "field `key`: a is already used by claim ".to_owned()
            + &ledger.resolve("a").unwrap().unwrap().to_string()
    );
    assert!(matches!(
        error,
        claimledger_store::SubmitError::Rejected { command: 2, .. }
    ));
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.resolve("b").unwrap(), None);
}

#[test]
fn a_failed_write_loses_nothing_acknowledged() {
    let mut storage = MemoryStorage::new();
    storage.fail_commits_past = Some(2);
    let mut ledger = Ledger::open(storage).unwrap();
    let add = |n: u32| {
        command(&format!(
            r#"{{"key":"k{n}","subject":"s","claimant":"c","statement":"x{n}"}}"#
        ))
    };
    ledger.submit(&[add(1), add(2)], &context()).unwrap();
    let head = ledger.head();
    assert!(ledger.submit(&[add(3)], &context()).is_err());
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.storage().head().unwrap(), head);
    assert!(ledger.resolve("k2").unwrap().is_some());
    assert_eq!(ledger.verify(&mut |_| {}).unwrap().problem, None);
}

#[test]
fn revisions_in_one_submission_follow_each_other() {
    // Regression: a revise naming by key a claim recorded in an earlier submission must see
    // the revisions made earlier in its own submission.
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger
        .submit(
            &[command(
                r#"{"key":"k0","subject":"s","claimant":"M","statement":"a"}"#,
            )],
            &context(),
        )
        .unwrap();
    let batch = [
        command(r#"{"op":"revise","claim":"k0","reason":"r","claimant":"U","statement":"b"}"#),
        command(r#"{"op":"revise","claim":"k0","reason":"r","statement":"c"}"#),
    ];
    let receipts = ledger.submit(&batch, &context()).unwrap();
    assert_eq!(
        receipts.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [2, 3]
    );
    check_views(&ledger);
}
