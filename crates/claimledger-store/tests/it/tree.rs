//! The Merkle tree a sled ledger stores: the same as the definition over its entries, whichever
//! way they were committed, and the same after reopening.

use crate::support::{command, context, lines, steps};
use claimledger_core::merkle::{self, record_hash, Frontier, Hash, VecHashes};
use claimledger_core::Seq;
use claimledger_store::{Ledger, SledStorage, Storage};
use proptest::prelude::*;
use std::ops::ControlFlow;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// The leaf hashes of the log, and every hash of the stored-hash layout over them, made in
/// memory from the leaves alone.
fn reference(ledger: &Ledger<SledStorage>) -> (Vec<Hash>, Vec<Hash>) {
    let mut leaves = Vec::new();
    ledger
        .scan_entries(Seq::FIRST, &mut |_, bytes| {
            leaves.push(record_hash(bytes));
            ControlFlow::Continue(())
        })
        .unwrap();
    let mut frontier = Frontier::new();
    let mut stored = Vec::new();
    for &leaf in &leaves {
        stored.extend(frontier.push(leaf).map(|(_, _, hash)| hash));
    }
    (leaves, stored)
}

/// Every size's root is the root of its leaves, and proofs from the stored tiles verify.
fn check(ledger: &Ledger<SledStorage>) {
    let (leaves, stored) = reference(ledger);
    let reader = VecHashes(&stored);
    let n = leaves.len() as u64;
    for size in (1..=n).filter(|s| s % 7 == 1 || *s == n) {
        let root = tlog_tiles::tree_hash(size, &reader).unwrap();
        assert_eq!(ledger.tree_root(size).unwrap(), root, "size {size}");
        for index in [0, size / 2, size - 1] {
            let path = ledger.inclusion_proof(Seq(index + 1), size).unwrap();
            merkle::verify_inclusion(leaves[index as usize], index, size, &path, root).unwrap();
        }
        let old = size.div_ceil(3);
        let proof = ledger.consistency_proof(old, size).unwrap();
        let old_root = tlog_tiles::tree_hash(old, &reader).unwrap();
        merkle::verify_consistency(old, size, &proof, old_root, root).unwrap();
    }
    assert_eq!(ledger.check_tree().unwrap(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Random histories in random batches, some past the large-commit threshold.
    #[test]
    fn the_stored_root_is_the_root_of_the_entries(
        steps in steps(60),
        split in 1usize..25,
        large in 2usize..10,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger");
        let mut ledger = Ledger::open(SledStorage::create(&path, WAIT).unwrap()).unwrap();
        ledger.set_large_commit_threshold(large);
        for batch in lines(&steps).chunks(split) {
            let commands: Vec<_> = batch.iter().map(|l| command(l)).collect();
            // A revision that changes nothing is refused, and then the whole batch is.
            let _ = ledger.submit(&commands, &context());
            check(&ledger);
        }
        let checkpoint = ledger.checkpoint().unwrap();
        prop_assert_eq!(checkpoint.size, ledger.head().count);
        drop(ledger);
        let ledger = Ledger::open(SledStorage::open(&path, WAIT).unwrap()).unwrap();
        prop_assert_eq!(ledger.checkpoint().unwrap(), checkpoint);
        prop_assert_eq!(ledger.storage().tree_size().unwrap(), ledger.head().count);
        check(&ledger);
    }
}

/// Enough entries to fill several tiles of level 0 and start one of level 1, in commits of
/// every kind, with a reopen between each.
#[test]
fn many_blocks_across_commits_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::open(SledStorage::create(&path, WAIT).unwrap()).unwrap();
    let mut next = 0;
    for (round, size) in [1usize, 255, 2, 700, 1, 1, 90, 600].into_iter().enumerate() {
        ledger.set_large_commit_threshold(if round % 2 == 0 { 4096 } else { 50 });
        let commands: Vec<_> = (next..next + size)
            .map(|i| {
                command(&format!(
                    r#"{{"subject":"s","claimant":"c","statement":"x{i}"}}"#
                ))
            })
            .collect();
        next += size;
        ledger.submit(&commands, &context()).unwrap();
        let checkpoint = ledger.checkpoint().unwrap();
        drop(ledger);
        ledger = Ledger::open(SledStorage::open(&path, WAIT).unwrap()).unwrap();
        assert_eq!(ledger.checkpoint().unwrap(), checkpoint);
    }
    assert_eq!(ledger.head().count, 1650);
    check(&ledger);
}
