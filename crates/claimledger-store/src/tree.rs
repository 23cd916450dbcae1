//! The ledger's Merkle tree, as stored: what lets a reader check one entry, or that the ledger
//! only grew, from a checkpoint and O(log n) hashes (docs/FORMAT.md, "The Merkle tree").
//!
//! The tree is RFC 9162's over the entries' stored bytes, with BLAKE3
//! ([`claimledger_core::merkle`]): leaf i is entry i+1. A storage keeps every perfect subtree
//! root ([`NodeId`]) once, written in the same atomic write as the entry that completes it
//! ([`TreeAppender`], used inside [`Storage::commit`]), and never changed. An append writes
//! 1 + (trailing ones of the size) nodes, two on average; the frontier needed for the next
//! append is read back from the stored nodes, one per set bit of the size; roots and proofs
//! for any size up to the head read O(log n) nodes ([`Ledger::inclusion_proof`],
//! [`Ledger::consistency_proof`]).
//!
//! The tree is derived from the log like the index, and `verify` recomputes it
//! ([`Ledger::check_tree`]). A ledger written before the tree existed gets it built from the
//! log when it is next opened ([`catch_up`]).
//!
//! ```
//! use claimledger_core::input::parse_command;
//! use claimledger_core::merkle::{self, Blake3Tree, LeafIndex, NodeHash, TreeHash};
//! use claimledger_core::{Seq, Timestamp};
//! use claimledger_store::{IdBits, Ledger, MemoryStorage, SubmitContext};
//!
//! let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
//! let context = SubmitContext {
//!     now: Timestamp::parse("2025-02-25T09:30:00.000000Z").unwrap(),
//!     default_author: "ana".into(),
//!     id_bits: IdBits::Derived,
//! };
//! let commands: Vec<_> = ["a", "b", "c"]
//!     .iter()
//!     .map(|s| parse_command(&format!(r#"{{"subject":"{s}","claimant":"X","statement":"x"}}"#)).unwrap())
//!     .collect();
//! ledger.submit(&commands, &context).unwrap();
//!
//! let checkpoint = ledger.checkpoint().unwrap();
//! assert_eq!(checkpoint.size, 3);
//! let entry = ledger.entry_bytes(Seq(2)).unwrap();
//! let path = ledger.inclusion_proof(Seq(2), 3).unwrap();
//! merkle::verify_inclusion::<Blake3Tree>(
//!     &Blake3Tree::leaf(&entry), LeafIndex(1), 3, &path, &NodeHash(checkpoint.root),
//! ).unwrap();
//! ```

use crate::ledger::Ledger;
use crate::storage::{Storage, StoreError, TreeNode};
use crate::verify::Problem;
use claimledger_core::checkpoint::Checkpoint;
use claimledger_core::merkle::{
    self, Blake3Tree, Frontier, LeafIndex, NodeHash, NodeId, StoredTreeError, TreeHash,
};
use claimledger_core::Seq;
use rayon::prelude::*;
use std::ops::ControlFlow;

/// Entries whose nodes are gathered into one write when the tree of a ledger written before
/// it is built: about 130,000 nodes, 6 MB.
pub const TREE_BATCH_ENTRIES: u64 = 1 << 16;

/// Entries hashed in parallel per step.
const HASH_BATCH_ENTRIES: usize = 4096;

/// A stored node, or the corruption its absence is.
pub(crate) fn fetch<S: Storage + ?Sized>(
    storage: &S,
    node: NodeId,
) -> Result<NodeHash, StoreError> {
    storage.tree_node(node)?.ok_or_else(|| {
        StoreError::corrupt(
            None,
            format!(
                "the Merkle tree node {node} (entries {}) is missing",
                entry_range(node)
            ),
        )
    })
}

/// The entries a node covers, as people count them (from 1): `9 to 16`.
pub fn entry_range(node: NodeId) -> String {
    let first = (u128::from(node.index) << node.level) + 1;
    let last = (u128::from(node.index) + 1) << node.level;
    if first == last {
        first.to_string()
    } else {
        format!("{first} to {last}")
    }
}

/// What reading the stored tree can fail with: only fetching, since every caller checks the
/// sizes and indices it asks for first.
fn from_stored(error: StoredTreeError<StoreError>) -> StoreError {
    match error {
        StoredTreeError::Fetch { source, .. } => source,
        out_of_range => {
            panic!("the stored tree was asked for something outside it: {out_of_range}")
        }
    }
}

/// Computes the nodes that appending entries completes, from the frontier the storage holds.
/// A storage's [`Storage::commit`] uses it to write the nodes with the entries.
#[derive(Debug)]
pub struct TreeAppender {
    frontier: Frontier<Blake3Tree>,
}

impl TreeAppender {
    /// Reads the frontier of the stored tree: one node per set bit of its size.
    pub fn open<S: Storage + ?Sized>(storage: &S) -> Result<TreeAppender, StoreError> {
        let size = storage.tree_size()?;
        let frontier =
            Frontier::from_stored(size, &mut |node| fetch(storage, node)).map_err(from_stored)?;
        Ok(TreeAppender { frontier })
    }

    /// The number of leaves so far.
    pub fn tree_size(&self) -> u64 {
        self.frontier.tree_size()
    }

    /// Appends the entries as leaves and returns the nodes they complete, each exactly once
    /// across calls. Leaves are hashed in parallel.
    pub fn push<B: AsRef<[u8]> + Sync>(&mut self, entries: &[B]) -> Vec<TreeNode> {
        let leaves: Vec<NodeHash> = if entries.len() >= 64 {
            entries
                .par_iter()
                .map(|bytes| Blake3Tree::leaf(bytes.as_ref()))
                .collect()
        } else {
            entries
                .iter()
                .map(|bytes| Blake3Tree::leaf(bytes.as_ref()))
                .collect()
        };
        let mut nodes = Vec::with_capacity(2 * leaves.len() + 64);
        for leaf in leaves {
            nodes.extend(self.frontier.push(leaf));
        }
        nodes
    }
}

/// Builds the stored tree up to the head from the log, if it is behind: a ledger written before
/// the tree existed, or by a build that did not keep it. Runs under the ledger lock, as every
/// open does; each batch is durable, so an interrupted build goes on from where it stopped.
pub(crate) fn catch_up<S: Storage>(storage: &mut S) -> Result<(), StoreError> {
    catch_up_in_batches(storage, TREE_BATCH_ENTRIES)
}

fn catch_up_in_batches<S: Storage>(storage: &mut S, batch_entries: u64) -> Result<(), StoreError> {
    let head = storage.head()?.count;
    let mut through = storage.tree_size()?;
    if through > head {
        return Err(StoreError::corrupt(
            None,
            format!("the Merkle tree covers {through} entries but the head says {head}"),
        ));
    }
    if through == head {
        return Ok(());
    }
    let mut appender = TreeAppender::open(&*storage)?;
    while through < head {
        let batch_end = (through + batch_entries).min(head);
        let mut nodes = Vec::new();
        let mut raw: Vec<Vec<u8>> = Vec::with_capacity(HASH_BATCH_ENTRIES);
        storage.scan_entries(Seq(through + 1), &mut |seq, bytes| {
            if seq.0 > batch_end {
                return ControlFlow::Break(());
            }
            raw.push(bytes.to_vec());
            if raw.len() == HASH_BATCH_ENTRIES {
                nodes.extend(appender.push(&raw));
                raw.clear();
            }
            ControlFlow::Continue(())
        })?;
        nodes.extend(appender.push(&raw));
        if appender.tree_size() != batch_end {
            return Err(StoreError::corrupt(
                Some(Seq(appender.tree_size() + 1)),
                "the log ends before the head",
            ));
        }
        storage.apply_tree(&nodes, batch_end)?;
        through = batch_end;
    }
    Ok(())
}

impl<S: Storage> Ledger<S> {
    /// The ledger's origin, the first line of its checkpoints.
    pub fn origin(&self) -> Result<String, StoreError> {
        self.storage().origin()
    }

    /// One committed entry's stored bytes, as hashed into the tree.
    pub fn entry_bytes(&self, seq: Seq) -> Result<Vec<u8>, StoreError> {
        self.storage()
            .entry(seq)?
            .ok_or_else(|| StoreError::corrupt(Some(seq), "the entry is missing from the log"))
    }

    /// The root of the tree of the first `tree_size` entries, from one stored node per set bit
    /// of the size.
    ///
    /// # Panics
    ///
    /// If `tree_size` is past the head.
    pub fn tree_root(&self, tree_size: u64) -> Result<NodeHash, StoreError> {
        self.assert_within_head(tree_size);
        merkle::stored_root::<Blake3Tree, _>(tree_size, &mut |node| fetch(self.storage(), node))
            .map_err(from_stored)
    }

    /// The ledger's current checkpoint: origin, entry count and root (unsigned).
    pub fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let size = self.head().count;
        Ok(Checkpoint {
            origin: self.origin()?,
            size,
            root: self.tree_root(size)?.0,
            extensions: Vec::new(),
        })
    }

    /// The audit path of entry `seq` in the tree of the first `tree_size` entries (RFC 9162
    /// 2.1.3.1), lowest level first.
    ///
    /// # Panics
    ///
    /// If `seq` is not within the first `tree_size` entries, or `tree_size` is past the head.
    pub fn inclusion_proof(&self, seq: Seq, tree_size: u64) -> Result<Vec<NodeHash>, StoreError> {
        self.assert_within_head(tree_size);
        assert!(
            seq.0 >= 1 && seq.0 <= tree_size,
            "entry {seq} is not in a tree of {tree_size} entries"
        );
        merkle::inclusion_proof::<Blake3Tree, _>(LeafIndex(seq.0 - 1), tree_size, &mut |node| {
            fetch(self.storage(), node)
        })
        .map_err(from_stored)
    }

    /// The proof that the tree of the first `new_size` entries extends the tree of the first
    /// `old_size` (RFC 9162 2.1.4.1); empty when the sizes are equal.
    ///
    /// # Panics
    ///
    /// Unless 1 ≤ `old_size` ≤ `new_size` ≤ the head's count.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<NodeHash>, StoreError> {
        self.assert_within_head(new_size);
        assert!(
            old_size >= 1 && old_size <= new_size,
            "no consistency proof from {old_size} entries to {new_size}"
        );
        merkle::consistency_proof::<Blake3Tree, _>(old_size, new_size, &mut |node| {
            fetch(self.storage(), node)
        })
        .map_err(from_stored)
    }

    fn assert_within_head(&self, tree_size: u64) {
        assert!(
            tree_size <= self.head().count,
            "the tree of {tree_size} entries is past the head, {}",
            self.head()
        );
    }

    /// Recomputes the Merkle tree from the log and compares every stored node with it, naming
    /// the first that is missing or differs. Reads the log once and every stored node once
    /// (2n − popcount(n) of them). `verify` does the same in its own pass over the log
    /// ([`TreeCheck`]) and reports tree problems only once the log and index check out.
    pub fn check_tree(&self) -> Result<Option<Problem>, StoreError> {
        let storage = self.storage();
        let mut tree = TreeCheck::new(storage)?;
        let mut raw: Vec<Vec<u8>> = Vec::with_capacity(HASH_BATCH_ENTRIES);
        let mut outcome = Ok(());
        let scanned = storage.scan_entries(Seq::FIRST, &mut |_, bytes| {
            raw.push(bytes.to_vec());
            if raw.len() == HASH_BATCH_ENTRIES {
                outcome = tree.push(storage, &leaves_of(&raw));
                raw.clear();
                if outcome.is_err() || tree.problem.is_some() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        let outcome = outcome
            .and(scanned)
            .and_then(|()| tree.push(storage, &leaves_of(&raw)));
        match outcome {
            Ok(()) => Ok(tree.finish(storage.head()?.count)),
            Err(StoreError::Corrupt { seq, reason }) => Ok(Some(Problem { seq, what: reason })),
            Err(other) => Err(other),
        }
    }
}

/// The leaf hashes of entries, computed in parallel.
pub(crate) fn leaves_of(entries: &[Vec<u8>]) -> Vec<NodeHash> {
    entries
        .par_iter()
        .map(|bytes| Blake3Tree::leaf(bytes))
        .collect()
}

/// Recomputes the Merkle tree from the leaves of the log, fed in order, and compares each node
/// they complete with the stored one, keeping the first that is missing or differs.
pub(crate) struct TreeCheck {
    frontier: Frontier<Blake3Tree>,
    stored: StoredNodes,
    problem: Option<Problem>,
}

impl TreeCheck {
    pub(crate) fn new<S: Storage + ?Sized>(storage: &S) -> Result<TreeCheck, StoreError> {
        let head = storage.head()?.count;
        let tree_size = storage.tree_size()?;
        let problem = (tree_size != head).then(|| Problem {
            seq: None,
            what: format!("the Merkle tree covers {tree_size} entries but the head says {head}"),
        });
        Ok(TreeCheck {
            frontier: Frontier::new(),
            stored: StoredNodes::default(),
            problem,
        })
    }

    /// Appends the next leaves and compares the nodes they complete, unless a problem was
    /// already found. Stored nodes that do not decode are a problem, not an error.
    pub(crate) fn push<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        leaves: &[NodeHash],
    ) -> Result<(), StoreError> {
        match self.compare(storage, leaves) {
            Err(StoreError::Corrupt { seq, reason }) => {
                self.problem = Some(Problem { seq, what: reason });
                Ok(())
            }
            other => other,
        }
    }

    fn compare<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        leaves: &[NodeHash],
    ) -> Result<(), StoreError> {
        if self.problem.is_some() {
            return Ok(());
        }
        for &leaf in leaves {
            for (node, hash) in self.frontier.push(leaf) {
                let what = match self.stored.get(storage, node)? {
                    Some(stored) if stored == hash => continue,
                    Some(_) => "is not the hash of those entries: the stored tree was altered",
                    None => "is missing",
                };
                self.problem = Some(Problem {
                    seq: None,
                    what: format!(
                        "the stored Merkle tree node {node} (entries {}) {what}",
                        entry_range(node)
                    ),
                });
                return Ok(());
            }
        }
        Ok(())
    }

    /// The first problem found, once every leaf of a log of `head` entries was pushed.
    pub(crate) fn finish(self, head: u64) -> Option<Problem> {
        self.problem.or_else(|| {
            (self.frontier.tree_size() != head).then(|| Problem {
                seq: None,
                what: format!(
                    "the log holds {} entries but the head says {head}",
                    self.frontier.tree_size()
                ),
            })
        })
    }
}

/// The stored nodes verify compares with, read a run of each level at a time.
#[derive(Default)]
struct StoredNodes {
    /// Per level: the index of the first node held, and the nodes from it on.
    runs: Vec<(u64, Vec<NodeHash>)>,
}

/// Nodes read per level at a time.
const NODES_PER_READ: usize = 256;

impl StoredNodes {
    fn get<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        node: NodeId,
    ) -> Result<Option<NodeHash>, StoreError> {
        let level = usize::from(node.level);
        if self.runs.len() <= level {
            self.runs.resize_with(level + 1, || (0, Vec::new()));
        }
        let (first, run) = &mut self.runs[level];
        let held = node
            .index
            .checked_sub(*first)
            .and_then(|i| run.get(i as usize));
        if let Some(hash) = held {
            return Ok(Some(*hash));
        }
        *first = node.index;
        *run = storage.tree_nodes(node.level, node.index, NODES_PER_READ)?;
        Ok(run.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger_tests::{context, op, Model};
    use crate::MemoryStorage;
    use proptest::prelude::*;

    fn leaves<S: Storage>(ledger: &Ledger<S>) -> Vec<NodeHash> {
        let mut leaves = Vec::new();
        ledger
            .scan_entries(Seq::FIRST, &mut |_, bytes| {
                leaves.push(Blake3Tree::leaf(bytes));
                ControlFlow::Continue(())
            })
            .expect("scan");
        leaves
    }

    /// The stored tree is the tree of the log: every root, every inclusion proof and the
    /// consistency proofs between sizes come out as the definition says.
    fn check_stored_tree(ledger: &Ledger<MemoryStorage>) {
        let leaves = leaves(ledger);
        let n = leaves.len() as u64;
        assert_eq!(ledger.storage().tree_size().expect("size"), n);
        assert_eq!(
            ledger.storage().tree().len() as u64,
            2 * n - u64::from(n.count_ones()),
            "each perfect subtree stored once"
        );
        assert_eq!(
            ledger.checkpoint().expect("checkpoint").root,
            merkle::root::<Blake3Tree>(&leaves).0
        );
        let sizes: Vec<u64> = (1..=n)
            .filter(|s| n <= 40 || s % 17 == 0 || *s == n)
            .collect();
        for &size in &sizes {
            let root = merkle::root::<Blake3Tree>(&leaves[..size as usize]);
            assert_eq!(ledger.tree_root(size).expect("root"), root, "size {size}");
            for index in (0..size).filter(|i| size <= 40 || i % 13 == 0 || *i == size - 1) {
                let path = ledger.inclusion_proof(Seq(index + 1), size).expect("proof");
                merkle::verify_inclusion::<Blake3Tree>(
                    &leaves[index as usize],
                    LeafIndex(index),
                    size,
                    &path,
                    &root,
                )
                .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
            }
            for &old in sizes.iter().filter(|old| **old <= size) {
                let proof = ledger.consistency_proof(old, size).expect("proof");
                let old_root = merkle::root::<Blake3Tree>(&leaves[..old as usize]);
                merkle::verify_consistency::<Blake3Tree>(old, size, &proof, &old_root, &root)
                    .unwrap_or_else(|e| panic!("{old} to {size}: {e}"));
            }
        }
        assert_eq!(ledger.check_tree().expect("check"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Random histories, submitted in random batches on both commit paths.
        #[test]
        fn the_stored_tree_is_the_tree_of_the_log(
            batches in proptest::collection::vec(proptest::collection::vec(op(), 1..8), 1..6),
            large in 1usize..6,
            rebuild_batch in 1u64..50,
        ) {
            let mut ledger = Ledger::open_with(MemoryStorage::new(), large, 7).expect("open");
            let mut model = Model::default();
            for ops in &batches {
                let (commands, targets) = model.commands(ops);
                if commands.is_empty() {
                    continue;
                }
                let receipts = ledger.submit(&commands, &context()).expect("submit");
                model.receive(&targets, &receipts);
                check_stored_tree(&ledger);
            }
            // The same ledger as written before the tree: the tree is built on open, in
            // batches, and comes out the same.
            let checkpoint = ledger.checkpoint().expect("checkpoint");
            let mut storage = ledger.into_storage();
            storage.tree_mut().clear();
            storage.set_tree_size(0);
            catch_up_in_batches(&mut storage, rebuild_batch).expect("build");
            let ledger = Ledger::open(storage).expect("open");
            prop_assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
            check_stored_tree(&ledger);
        }
    }

    fn ledger_of(count: usize) -> Ledger<MemoryStorage> {
        let mut ledger = Ledger::open(MemoryStorage::new()).expect("open");
        let commands: Vec<_> = (0..count)
            .map(|i| {
                claimledger_core::input::parse_command(&format!(
                    r#"{{"subject":"s","claimant":"c","statement":"x{i}"}}"#
                ))
                .expect("a record")
            })
            .collect();
        ledger.submit(&commands, &context()).expect("submit");
        ledger
    }

    #[test]
    fn verify_names_an_altered_or_missing_node() {
        let node = |level, index| NodeId { level, index };
        let check = |edit: &dyn Fn(&mut MemoryStorage), expected: &str| {
            let mut storage = ledger_of(11).into_storage();
            edit(&mut storage);
            let ledger = Ledger::open(storage).expect("open");
            let problem = ledger.verify(&mut |_| {}).expect("verify").problem;
            assert_eq!(problem.map(|p| p.to_string()).as_deref(), Some(expected));
        };
        check(
            &|s| {
                s.tree_mut().get_mut(&node(0, 4)).expect("a leaf").0[31] ^= 1;
            },
            "the stored Merkle tree node (level 0, index 4) (entries 5) is not the hash of \
             those entries: the stored tree was altered",
        );
        check(
            &|s| {
                s.tree_mut().get_mut(&node(3, 0)).expect("a node").0[0] ^= 0x80;
            },
            "the stored Merkle tree node (level 3, index 0) (entries 1 to 8) is not the hash of \
             those entries: the stored tree was altered",
        );
        check(
            &|s| {
                s.tree_mut().remove(&node(1, 4));
            },
            "the stored Merkle tree node (level 1, index 4) (entries 9 to 10) is missing",
        );
        // A tree mark behind the head is not a problem but a tree to finish, which opening does.
        let mut storage = ledger_of(11).into_storage();
        storage.set_tree_size(9);
        storage
            .tree_mut()
            .retain(|node, _| (node.index + 1) << node.level <= 9);
        let ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.storage().tree_size().expect("size"), 11);
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
        assert_eq!(
            ledger.checkpoint().expect("checkpoint"),
            ledger_of(11).checkpoint().expect("checkpoint")
        );
    }

    #[test]
    fn a_missing_frontier_node_is_named_when_committing() {
        let mut storage = ledger_of(6).into_storage();
        storage.tree_mut().remove(&NodeId { level: 1, index: 2 });
        let mut ledger = Ledger::open(storage).expect("open");
        let more = [claimledger_core::input::parse_command(
            r#"{"subject":"s","claimant":"c","statement":"y"}"#,
        )
        .expect("a record")];
        let error = ledger.submit(&more, &context()).expect_err("a broken tree");
        assert_eq!(
            error.to_string(),
            "storage corrupted: the Merkle tree node (level 1, index 2) (entries 5 to 6) is \
             missing"
        );
        assert_eq!(ledger.head().count, 6);
    }
}
