//! Storage in memory: for tests, and to keep the [`Storage`] seam honest.

use crate::storage::{
    assert_commit_follows, assert_stage_follows, prefix_end, Head, IndexOp, Storage, StoreError,
    Visit, VisitIndex,
};
use crate::tree::{TileHash, Tiles, TreeAppender, TILE_LEVELS};
use claimledger_core::merkle::{HASH_SIZE, TILE_HEIGHT, TILE_WIDTH};
use claimledger_core::Seq;
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

/// Entries, Merkle tree and index in plain collections. Commits are atomic by construction; a
/// write failure can be injected to test what callers do with one.
#[derive(Debug, Clone)]
pub struct MemoryStorage {
    entries: Vec<Vec<u8>>,
    head: Head,
    indexed_through: u64,
    index: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The Merkle tree's tiles, by (level, index), as the sled store keeps them.
    tiles: Tiles,
    tree_size: u64,
    origin: String,
    /// Entries staged past the head by [`Storage::stage`].
    staged: Vec<Vec<u8>>,
    /// When set, the commit that would take the entry count past this fails and changes nothing.
    pub fail_commits_past: Option<u64>,
}

/// The origin of a [`MemoryStorage`] made by [`MemoryStorage::new`].
pub const MEMORY_ORIGIN: &str = "claimledger/memory";

impl Default for MemoryStorage {
    fn default() -> MemoryStorage {
        MemoryStorage::with_origin(MEMORY_ORIGIN)
    }
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    /// An empty storage whose ledger has this origin (not checked: tests may want a bad one).
    pub fn with_origin(origin: &str) -> MemoryStorage {
        MemoryStorage {
            entries: Vec::new(),
            head: Head::EMPTY,
            indexed_through: 0,
            index: BTreeMap::new(),
            tiles: Tiles::new(),
            tree_size: 0,
            origin: origin.to_owned(),
            staged: Vec::new(),
            fail_commits_past: None,
        }
    }

    /// The stored Merkle tree tiles, by (level, index).
    pub fn tiles(&self) -> &Tiles {
        &self.tiles
    }

    /// The stored Merkle tree tiles, to let tests alter them, or drop them all (with
    /// [`MemoryStorage::set_tree_size`]) as a tree being rebuilt would be.
    pub fn tiles_mut(&mut self) -> &mut Tiles {
        &mut self.tiles
    }

    pub fn set_tree_size(&mut self, tree_size: u64) {
        self.tree_size = tree_size;
    }

    /// The stored entries, to let tests alter them as a failing disk or an attacker would.
    pub fn entries_mut(&mut self) -> &mut Vec<Vec<u8>> {
        &mut self.entries
    }

    /// The stored index.
    pub fn index(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.index
    }

    /// The stored index, for the same purpose.
    pub fn index_mut(&mut self) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        &mut self.index
    }

    /// Moves the head, as an attacker rolling the ledger back would; the tree follows it, as
    /// it would when a sled store drops what lies past its head.
    pub fn set_head(&mut self, head: Head) {
        self.head = head;
        if self.tree_size > head.count {
            for level in 0..TILE_LEVELS {
                let kept = (head.count >> (u32::from(level) * u32::from(TILE_HEIGHT))) as usize;
                let tile_width = TILE_WIDTH as usize;
                self.tiles.retain(|&(l, index), data| {
                    if l != level {
                        return true;
                    }
                    let first = index as usize * tile_width;
                    data.truncate(kept.saturating_sub(first).min(tile_width) * HASH_SIZE);
                    !data.is_empty()
                });
            }
            self.tree_size = head.count;
        }
    }

    /// Writes each hash into its tile, over whatever the tile held from that place on.
    fn add_tile_hashes(&mut self, hashes: &[TileHash]) {
        for hash in hashes {
            let (tile, offset) = hash.tile();
            let data = self.tiles.entry((hash.level, tile)).or_default();
            assert!(data.len() >= offset, "a tile grows at its end");
            data.truncate(offset);
            data.extend_from_slice(&hash.hash.0);
        }
    }

    fn apply(&mut self, index: &[IndexOp]) {
        for op in index {
            match op {
                IndexOp::Put(key, value) => self.index.insert(key.clone(), value.clone()),
                IndexOp::Delete(key) => self.index.remove(key),
            };
        }
    }
}

impl Storage for MemoryStorage {
    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.head)
    }

    fn indexed_through(&self) -> Result<u64, StoreError> {
        Ok(self.indexed_through)
    }

    fn scan_entries(&self, first: Seq, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let start = first.0.max(1);
        for seq in start..=self.head.count {
            let bytes = self
                .entries
                .get((seq - 1) as usize)
                .ok_or_else(|| StoreError::corrupt(Some(Seq(seq)), "the entry is missing"))?;
            if visit(Seq(seq), bytes).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn index_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.index.get(key).cloned())
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        let range = self
            .index
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix));
        let pairs: Vec<_> = if reverse {
            range.collect::<Vec<_>>().into_iter().rev().collect()
        } else {
            range.collect()
        };
        for (key, value) in pairs {
            if visit(key, value) == ControlFlow::Break(()) {
                break;
            }
        }
        Ok(())
    }

    fn index_scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        if reverse {
            if from < prefix {
                return Ok(());
            }
            let end = prefix_end(prefix);
            let upper = match &end {
                _ if from.starts_with(prefix) => Bound::Included(from),
                Some(end) => Bound::Excluded(end.as_slice()),
                None => Bound::Unbounded,
            };
            let range = self
                .index
                .range::<[u8], _>((Bound::Included(prefix), upper));
            for (key, value) in range.rev().take_while(|(k, _)| k.starts_with(prefix)) {
                if visit(key, value).is_break() {
                    break;
                }
            }
        } else {
            let start = from.max(prefix);
            let range = self
                .index
                .range::<[u8], _>((Bound::Included(start), Bound::Unbounded));
            for (key, value) in range.take_while(|(k, _)| k.starts_with(prefix)) {
                if visit(key, value).is_break() {
                    break;
                }
            }
        }
        Ok(())
    }

    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        head: Head,
        index: Option<&[IndexOp]>,
    ) -> Result<(), StoreError> {
        assert_commit_follows(
            self.head,
            self.indexed_through,
            self.tree_size,
            head,
            entries,
        );
        let hashes = TreeAppender::open(&*self)?.push(entries);
        if self
            .fail_commits_past
            .is_some_and(|limit| head.count > limit)
        {
            return Err(StoreError::Io {
                path: "memory".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "injected write failure",
                ),
            });
        }
        self.entries.truncate(self.head.count as usize);
        self.entries.extend(entries.iter().cloned());
        self.add_tile_hashes(&hashes);
        self.tree_size = head.count;
        self.head = head;
        if let Some(index) = index {
            self.apply(index);
            self.indexed_through = head.count;
        }
        Ok(())
    }

    fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        assert_stage_follows(self.head, self.indexed_through, self.tree_size, entries);
        self.staged.extend(entries.iter().cloned());
        Ok(())
    }

    fn staged_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(seq
            .0
            .checked_sub(self.head.count + 1)
            .and_then(|i| self.staged.get(i as usize))
            .cloned())
    }

    fn commit_staged(&mut self, head: Head) -> Result<(), StoreError> {
        let staged = std::mem::take(&mut self.staged);
        let committed = self.commit(&staged, head, None);
        if committed.is_err() {
            self.staged = staged;
        }
        committed
    }

    fn discard_staged(&mut self) -> Result<(), StoreError> {
        self.staged.clear();
        Ok(())
    }

    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError> {
        self.apply(index);
        self.indexed_through = through;
        Ok(())
    }

    fn tree_size(&self) -> Result<u64, StoreError> {
        Ok(self.tree_size)
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tiles.get(&(level, index)).cloned())
    }

    fn apply_tree(&mut self, hashes: &[TileHash], through: u64) -> Result<(), StoreError> {
        assert!(through <= self.head.count, "the tree cannot pass the head");
        self.add_tile_hashes(hashes);
        self.tree_size = through;
        Ok(())
    }

    fn origin(&self) -> Result<String, StoreError> {
        Ok(self.origin.clone())
    }
}
