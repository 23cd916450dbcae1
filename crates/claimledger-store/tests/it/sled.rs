//! The sled store: reopening, the large-commit path, and alterations of stored bytes.

use crate::support::{command, context, lines, steps};
use claimledger_core::Seq;
use claimledger_store::{forge, Filter, Ledger, SledStorage, Storage, LARGE_COMMIT_ENTRIES};
use proptest::prelude::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn fresh() -> (tempfile::TempDir, Ledger<SledStorage>) {
    let dir = tempfile::tempdir().unwrap();
    let ledger =
        Ledger::open(SledStorage::create(&dir.path().join("ledger"), WAIT).unwrap()).unwrap();
    (dir, ledger)
}

fn reopen(dir: &tempfile::TempDir) -> Ledger<SledStorage> {
    Ledger::open(SledStorage::open(&dir.path().join("ledger"), WAIT).unwrap()).unwrap()
}

fn submit_lines(ledger: &mut Ledger<SledStorage>, lines: &[String]) -> u64 {
    let commands: Vec<_> = lines.iter().map(|l| command(l)).collect();
    ledger
        .submit(&commands, &context())
        .map(|r| r.len() as u64)
        .unwrap_or(0)
}

#[test]
fn reopening_gives_the_same_ledger() {
    let (dir, mut ledger) = fresh();
    let lines: Vec<String> = (0..300)
        .map(|i| {
            format!(
                r#"{{"key":"k{i}","subject":"s/{}","claimant":"c{}","statement":"x{i}"}}"#,
                i % 7,
                i % 5
            )
        })
        .collect();
    for batch in lines.chunks(37) {
        submit_lines(&mut ledger, batch);
    }
    let head = ledger.head();
    let claims = ledger.list(&Filter::default()).unwrap();
    drop(ledger);
    let ledger = reopen(&dir);
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.list(&Filter::default()).unwrap(), claims);
    assert_eq!(ledger.verify(&mut |_| {}).unwrap().problem, None);
}

#[test]
fn a_large_commit_builds_the_same_index_as_small_ones() {
    let count = LARGE_COMMIT_ENTRIES + 500;
    let mut all: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"key":"k{i}","subject":"s/{}","claimant":"c{}","statement":"x{i}","tags":["t{}"]}}"#, i % 11, i % 13, i % 3))
        .collect();
    all.extend((0..400).map(|i| {
        format!(
            r#"{{"op":"revise","claim":"k{}","reason":"r","subject":"moved/{}","tags":[]}}"#,
            i * 7,
            i % 3
        )
    }));
    let (_large_dir, mut large) = fresh();
    assert_eq!(submit_lines(&mut large, &all), all.len() as u64);
    let (_small_dir, mut small) = fresh();
    for batch in all.chunks(1000) {
        submit_lines(&mut small, batch);
    }
    assert_eq!(large.head().count, small.head().count);
    for filter in [
        Filter::default(),
        Filter {
            subject: Some(claimledger_core::Subject::parse("moved").unwrap()),
            ..Filter::default()
        },
    ] {
        let names = |ledger: &Ledger<SledStorage>| -> Vec<_> {
            ledger
                .list(&filter)
                .unwrap()
                .into_iter()
                .map(|s| (s.key, s.revision, s.claim))
                .collect()
        };
        assert_eq!(names(&large), names(&small));
    }
    assert_eq!(large.verify(&mut |_| {}).unwrap().problem, None);
}

/// Flips one byte of one stored entry and returns the entry verify names.
fn flip_and_verify(dir: &tempfile::TempDir, seq: Seq, offset: usize, xor: u8) -> Option<Seq> {
    let ledger = reopen(dir);
    let mut bytes = ledger.storage().entry(seq).unwrap().unwrap();
    let position = offset % bytes.len();
    bytes[position] ^= xor;
    let mut storage = ledger.into_storage();
    forge::overwrite_entry(&mut storage, seq, &bytes).unwrap();
    let ledger = Ledger::open(storage).unwrap();
    let report = ledger.verify(&mut |_| {}).unwrap();
    report.problem.and_then(|p| p.seq)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the history, any byte of any stored entry, changed to any other value, makes
    /// verify fail naming exactly that entry.
    #[test]
    fn any_flipped_byte_is_caught_and_named(steps in steps(30), pick in any::<u64>(), offset in any::<usize>(), xor in 1u8..=255) {
        let (dir, mut ledger) = fresh();
        let count = submit_lines(&mut ledger, &lines(&steps));
        prop_assume!(count > 0);
        drop(ledger);
        let seq = Seq(pick % count + 1);
        prop_assert_eq!(flip_and_verify(&dir, seq, offset, xor), Some(seq));
    }
}

#[test]
fn every_byte_of_one_entry_is_covered() {
    let (dir, mut ledger) = fresh();
    let lines = [
        r#"{"key":"a","subject":"s","claimant":"c","statement":"x","value":{"amount":"95300"}}"#
            .to_owned(),
        r#"{"op":"revise","claim":"a","reason":"r","value":{"amount":121507}}"#.to_owned(),
        r#"{"key":"b","subject":"s","claimant":"c","statement":"y"}"#.to_owned(),
    ];
    submit_lines(&mut ledger, &lines);
    let length = ledger.storage().entry(Seq(2)).unwrap().unwrap().len();
    drop(ledger);
    for offset in 0..length {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&dir.path().join("ledger"), &copy.path().join("ledger"));
        assert_eq!(
            flip_and_verify(&copy, Seq(2), offset, 0x01),
            Some(Seq(2)),
            "byte {offset}"
        );
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

#[test]
fn a_second_opener_waits_then_reports_busy() {
    let (dir, ledger) = fresh();
    let started = std::time::Instant::now();
    let error =
        SledStorage::open(&dir.path().join("ledger"), Duration::from_millis(200)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(error.to_string().starts_with("ledger busy"), "{error}");
    drop(ledger);
    assert!(SledStorage::open(&dir.path().join("ledger"), WAIT).is_ok());
}
