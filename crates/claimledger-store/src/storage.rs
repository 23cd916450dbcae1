//! The seam between the ledger and the bytes on disk: a small trait in plain Rust types.
//!
//! A [`Storage`] keeps two things: the log (entry bytes by sequence number, up to a committed
//! head) and an ordered key-value index derived from the log. It knows nothing of claims;
//! [`crate::Ledger`] decides what to write. [`crate::SledStorage`] is the durable
//! implementation; [`crate::MemoryStorage`] makes tests fast and proves the seam is real.

use claimledger_core::merkle::{NodeHash, NodeId};
use claimledger_core::{EntryHash, Seq};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

/// The committed end of the log: how many entries it holds and the hash of the last one
/// ([`EntryHash::ZERO`] when empty). What a user writes down to detect a rollback later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Head {
    pub count: u64,
    pub hash: EntryHash,
}

impl Head {
    pub const EMPTY: Head = Head {
        count: 0,
        hash: EntryHash::ZERO,
    };

    /// The sequence number the next entry gets.
    pub fn next_seq(&self) -> Seq {
        Seq(self.count + 1)
    }

    /// Encodes as 8 bytes of count (big-endian) and 32 bytes of hash.
    pub fn to_bytes(self) -> [u8; 40] {
        let mut bytes = [0; 40];
        bytes[..8].copy_from_slice(&self.count.to_be_bytes());
        bytes[8..].copy_from_slice(&self.hash.0);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Head> {
        let bytes: &[u8; 40] = bytes.try_into().ok()?;
        let count = u64::from_be_bytes(bytes[..8].try_into().ok()?);
        Some(Head {
            count,
            hash: EntryHash(bytes[8..].try_into().ok()?),
        })
    }
}

impl Default for Head {
    fn default() -> Head {
        Head::EMPTY
    }
}

impl std::fmt::Display for Head {
    /// `COUNT:HASH`, the form `--expect-head` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.count, self.hash)
    }
}

/// One change to the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexOp {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// What can go wrong below the ledger.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("ledger busy: another claims process held {} for {} s; try again, or wait longer with --wait", path.display(), waited.as_secs_f32())]
    Busy { path: PathBuf, waited: Duration },
    #[error("no ledger at {}: run `claims init` to create one, or name another with --ledger", .0.display())]
    NotALedger(PathBuf),
    #[error("{} already holds a ledger", .0.display())]
    AlreadyExists(PathBuf),
    #[error("{} was written by a newer claimledger (store format {found}, this build reads {supported})", path.display())]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{} holds store format {found}, a development layout this build cannot read (it reads format {supported}); export it with the build that wrote it and restore the export with `claims init --from-bundle`", path.display())]
    OlderFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("storage error: {0}")]
    Backend(String),
    /// The ledger may only be read through a private copy (`SledStorage::open_private_copy`),
    /// and it is larger than the copy may be.
    #[error("{} is read-only for this user, and reading it means copying it, but it holds {bytes} bytes, more than the {limit} a copy may hold", path.display())]
    CopyTooLarge {
        path: PathBuf,
        bytes: u64,
        limit: u64,
    },
    #[error("storage corrupted{}: {reason}", seq.map(|s| format!(" at entry {s}")).unwrap_or_default())]
    Corrupt { seq: Option<Seq>, reason: String },
}

impl StoreError {
    pub fn corrupt(seq: Option<Seq>, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            seq,
            reason: reason.into(),
        }
    }
}

/// The error for an entry the index names but the log does not hold.
pub fn missing_entry(seq: Seq) -> StoreError {
    StoreError::corrupt(Some(seq), "the index names an entry the log does not hold")
}

/// The least key greater than every key starting with `prefix` (`None` when there is none:
/// the prefix is empty or all 0xff).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A stored Merkle tree node: which perfect subtree, and its hash.
pub type TreeNode = (NodeId, NodeHash);

pub type Visit<'a> = dyn FnMut(Seq, &[u8]) -> ControlFlow<()> + 'a;
pub type VisitIndex<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// Durable, append-only storage of entry bytes, the Merkle tree over them, and a derived index.
///
/// Contract:
/// - Entries are numbered densely from 1. Nothing is ever read past the committed head.
/// - [`Storage::commit`] is atomic and durable: when it returns `Ok`, the entries, the Merkle
///   tree nodes they complete, the new head and the index changes survive a crash; when it
///   fails or the process dies first, the storage holds either all of them or none of them.
///   (The index may be reapplied from the log after a crash: see [`Storage::indexed_through`].)
/// - The Merkle tree (RFC 9162, leaf i = entry i+1; see [`crate::tree`]) is kept by the
///   storage itself: every commit computes the nodes its entries complete, with
///   [`crate::tree::TreeAppender`], and writes them with the entries, each once. A stored
///   node never changes.
/// - Index changes are only ever derived from log entries, so the index can always be rebuilt.
pub trait Storage {
    fn head(&self) -> Result<Head, StoreError>;

    /// The last entry the index reflects. Equal to the head count except after a crash in the
    /// middle of a large commit, when [`crate::Ledger::open`] reapplies the rest.
    fn indexed_through(&self) -> Result<u64, StoreError>;

    /// Calls `visit` for each committed entry from `first` on, in order, until it breaks.
    fn scan_entries(&self, first: Seq, visit: &mut Visit<'_>) -> Result<(), StoreError>;

    /// One committed entry's bytes.
    fn entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        let mut found = None;
        if seq.0 >= 1 && seq.0 <= self.head()?.count {
            self.scan_entries(seq, &mut |_, bytes| {
                found = Some(bytes.to_vec());
                ControlFlow::Break(())
            })?;
        }
        Ok(found)
    }

    /// The bytes of the committed entries `seqs` (ascending, each once), in that order: many
    /// entries read together, each log block read once, which is how listings read. An entry
    /// the log does not hold is corruption, since callers take `seqs` from the index.
    fn entries_at(&self, seqs: &[Seq]) -> Result<Vec<Vec<u8>>, StoreError> {
        seqs.iter()
            .map(|&seq| self.entry(seq)?.ok_or_else(|| missing_entry(seq)))
            .collect()
    }

    fn index_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Calls `visit` for each index pair whose key starts with `prefix`, in key order (or
    /// reverse order), until it breaks.
    fn index_scan(
        &self,
        prefix: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError>;

    /// Calls `visit` for each index pair whose key starts with `prefix`, starting at `from`:
    /// forwards over the keys `>= from` in key order, or (`reverse`) backwards over the keys
    /// `<= from`, until it breaks. `from` need not be a stored key. With `reverse`, the first
    /// pair visited is the floor of `from` within the prefix: how a packed block is found from
    /// any key it covers.
    ///
    /// The default implementation filters [`Storage::index_scan`]; storages with ordered keys
    /// should seek instead.
    fn index_scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        self.index_scan(prefix, reverse, &mut |key, value| {
            let in_range = if reverse { key <= from } else { key >= from };
            if in_range {
                visit(key, value)
            } else {
                ControlFlow::Continue(())
            }
        })
    }

    /// Appends `entries` (numbered on from the current head) and makes `head` the head,
    /// atomically and durably. With `Some(index)`, applies those index changes in the same
    /// atomic write and moves `indexed_through` to the new head; with `None` (large commits,
    /// whose index changes would not fit in memory), leaves the index behind for
    /// [`Storage::apply_index`] to bring up. Requires `indexed_through() == head().count`.
    ///
    /// The Merkle tree nodes the entries complete are written in the same atomic write as the
    /// entries (before the head moves, on the large path), and [`Storage::tree_size`] moves to
    /// the new head with it. Requires `tree_size() == head().count`.
    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        head: Head,
        index: Option<&[IndexOp]>,
    ) -> Result<(), StoreError>;

    /// The first stage of a commit too large to hold in memory: writes `entries`, numbered on
    /// from the head and from whatever was staged before, with the Merkle tree nodes they
    /// complete, where nothing reads them until [`Storage::commit_staged`] moves the head.
    /// Not durable by itself. Entries staged but never committed are removed by
    /// [`Storage::discard_staged`], or by the next open after a crash. Requires
    /// `indexed_through() == head().count` and `tree_size() == head().count`.
    fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), StoreError>;

    /// A staged entry's bytes (`seq` past the head, within what was staged), `None` otherwise.
    fn staged_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError>;

    /// Makes everything staged durable, then moves the head to `head`, which must count exactly
    /// the committed and the staged entries, durably. Like [`Storage::commit`] without an index,
    /// it leaves the index behind for [`Storage::apply_index`]. When it fails or the process
    /// dies first, the head stays where it was.
    fn commit_staged(&mut self, head: Head) -> Result<(), StoreError>;

    /// Removes everything staged; the head stays where it was.
    fn discard_staged(&mut self) -> Result<(), StoreError>;

    /// Applies index changes derived from entries up to `through`, durably, and moves
    /// `indexed_through` to `through` (large commits, and crash recovery). If it fails or the
    /// process dies, the ledger applies the same entries again from `indexed_through`; the
    /// changes it computes then are the same whether none, some or all of the earlier
    /// attempt's changes were kept, in order (see the ledger's `index_batch` module).
    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError>;

    /// How many leaves (entries, from the first) the stored Merkle tree covers. Equal to the
    /// head count, except in a ledger written before the tree existed (0), or by a build that
    /// did not keep it, which [`crate::Ledger::open`] brings up with [`Storage::apply_tree`].
    fn tree_size(&self) -> Result<u64, StoreError>;

    /// A stored Merkle tree node, `None` if it is not stored. Only nodes within the first
    /// [`Storage::tree_size`] leaves are meaningful.
    fn tree_node(&self, node: NodeId) -> Result<Option<NodeHash>, StoreError>;

    /// The stored nodes of one level from index `first` on, consecutively, at most `max` of
    /// them (fewer where one is not stored): how verify reads the whole tree without a read per
    /// node. The default reads them one by one.
    fn tree_nodes(&self, level: u8, first: u64, max: usize) -> Result<Vec<NodeHash>, StoreError> {
        let mut nodes = Vec::with_capacity(max.min(1024));
        for index in first..first.saturating_add(max as u64) {
            match self.tree_node(NodeId { level, index })? {
                Some(hash) => nodes.push(hash),
                None => break,
            }
        }
        Ok(nodes)
    }

    /// Stores Merkle tree nodes computed from committed entries, and moves
    /// [`Storage::tree_size`] to `through` (at most the head), durably: how the tree of a ledger
    /// written before it is built. The nodes are those completed by appending leaves
    /// `tree_size()` to `through - 1`; writing one again writes the same hash, so an
    /// interrupted build can start over from `tree_size()`.
    fn apply_tree(&mut self, nodes: &[TreeNode], through: u64) -> Result<(), StoreError>;

    /// The ledger's origin: its name in checkpoints and the name of its signing key
    /// (docs/FORMAT.md, "Checkpoints"). Chosen when the ledger is created; never changes.
    fn origin(&self) -> Result<String, StoreError>;
}

/// The preconditions of [`Storage::commit`], asserted by every implementation: the index and
/// the tree are up to the head, and `head` counts exactly the new entries.
pub(crate) fn assert_commit_follows(
    before: Head,
    indexed_through: u64,
    tree_size: u64,
    head: Head,
    entries: &[Vec<u8>],
) {
    assert_eq!(
        indexed_through, before.count,
        "commit with the index behind the log"
    );
    assert_eq!(
        tree_size, before.count,
        "commit with the Merkle tree behind the log"
    );
    assert_eq!(
        head.count,
        before.count + entries.len() as u64,
        "head count must match the entries"
    );
}

/// The preconditions of [`Storage::stage`]: those of a commit of the entries, with nothing
/// else staged being the caller's concern.
pub(crate) fn assert_stage_follows(
    before: Head,
    indexed_through: u64,
    tree_size: u64,
    entries: &[Vec<u8>],
) {
    let head = Head {
        count: before.count + entries.len() as u64,
        hash: before.hash,
    };
    assert_commit_follows(before, indexed_through, tree_size, head, entries);
}
