//! The ledger's Merkle tree, as stored: what lets a reader check one entry, or that the ledger
//! only grew, from a checkpoint and O(log n) hashes (docs/FORMAT.md, "The Merkle tree").
//!
//! The tree is the RFC 6962 tree over SHA-256 of c2sp.org/tlog-checkpoint
//! ([`claimledger_core::merkle`], the `tlog_tiles` crate): leaf i is entry i+1. It is stored
//! as c2sp.org/tlog-tiles stores it: in tiles of height 8, each up to 256 consecutive hashes of
//! one of the tree levels 0, 8, 16, … ([`TileHash`]); the levels between are recomputed from the
//! tile below when read. A tile only grows at its end, and each hash is written in the same
//! atomic write as the entry that completes it ([`TreeAppender`], used inside
//! [`Storage::commit`]). A ledger of n entries stores about n·(1 + 1/256 + …) hashes.
//!
//! Roots and proofs for any size up to the head read O(log n) tiles through
//! [`StoredHashes`], a `tlog_tiles::HashReader` ([`Ledger::tree_root`],
//! [`Ledger::inclusion_proof`], [`Ledger::consistency_proof`]); a publisher reads tiles and
//! entry bundles by their tile coordinates ([`Ledger::read_tile`], [`Ledger::read_entry_bundle`]).
//!
//! The tree is derived from the log like the index, and `verify` recomputes every tile
//! ([`TreeCheck`]). A ledger of store format 3, whose tree was BLAKE3's, gets its tree rebuilt
//! as tiles when it is next opened to write ([`catch_up`]).
//!
//! ```
//! use claimledger_core::input::parse_command;
//! use claimledger_core::merkle::{self, record_hash, Hash};
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
//! merkle::verify_inclusion(record_hash(&entry), 1, 3, &path, Hash(checkpoint.root)).unwrap();
//! // The tile of level 0 holds the three leaf hashes.
//! assert_eq!(ledger.read_tile(0, 0, 3).unwrap().len(), 3 * 32);
//! ```

use crate::ledger::Ledger;
use crate::storage::{Storage, StoreError};
use crate::verify::Problem;
use claimledger_core::checkpoint::Checkpoint;
use claimledger_core::merkle::{
    record_hash, Frontier, Hash, HashReader, Tile, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH,
};
use claimledger_core::Seq;
use rayon::prelude::*;
use std::cell::RefCell;
use std::ops::ControlFlow;

/// The tile levels a tree of up to u64::MAX leaves has: tree levels 0, 8, …, 56.
pub const TILE_LEVELS: u8 = 64 / TILE_HEIGHT;

/// Tiles by (level, index), with their bytes: a whole tree in memory.
pub type Tiles = std::collections::BTreeMap<(u8, u64), Vec<u8>>;

/// The most bytes a tile holds: 256 hashes.
pub const TILE_LEN_MAX: usize = TILE_WIDTH as usize * HASH_SIZE;

/// Entries whose tiles are gathered into one write when the tree is rebuilt: about 66,000
/// hashes, 2 MB.
pub const TREE_BATCH_ENTRIES: u64 = 1 << 16;

/// Entries hashed in parallel per step.
const HASH_BATCH_ENTRIES: usize = 4096;

/// One hash a tile holds: the `index`th hash of tree level 8·`level`, which is hash
/// `index` mod 256 of tile (`level`, `index` div 256).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileHash {
    pub level: u8,
    pub index: u64,
    pub hash: Hash,
}

impl TileHash {
    /// The tile holding this hash, and the hash's byte offset in it.
    pub fn tile(&self) -> (u64, usize) {
        (
            self.index / TILE_WIDTH,
            (self.index % TILE_WIDTH) as usize * HASH_SIZE,
        )
    }
}

/// The entries hash `index` of tree level 8·`level` covers, as people count them (from 1):
/// `257 to 512`.
pub fn hash_entries(level: u8, index: u64) -> String {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    let first = (u128::from(index) << shift) + 1;
    let last = (u128::from(index) + 1) << shift;
    if first == last {
        first.to_string()
    } else {
        format!("{first} to {last}")
    }
}

/// The name of a tile in messages.
fn tile_name(level: u8, index: u64) -> String {
    format!("the Merkle tree tile (level {level}, index {index})")
}

/// Reads the hashes of the stored tree, each from its tile (computing the levels between the
/// tile levels from the tile below): how roots and proofs are made, with `tlog_tiles`.
///
/// A storage error cannot pass through `tlog_tiles`' own error type, so it is kept here, and
/// [`StoredHashes::error`] turns what a `tlog_tiles` call returned into it.
pub struct StoredHashes<'a, S: ?Sized> {
    storage: &'a S,
    error: RefCell<Option<StoreError>>,
}

impl<S: ?Sized> std::fmt::Debug for StoredHashes<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredHashes").finish_non_exhaustive()
    }
}

impl<'a, S: Storage + ?Sized> StoredHashes<'a, S> {
    pub fn new(storage: &'a S) -> StoredHashes<'a, S> {
        StoredHashes {
            storage,
            error: RefCell::new(None),
        }
    }

    /// The storage error behind a failed `tlog_tiles` call. Only reading can fail, since every
    /// caller checks the sizes and indices it asks for first.
    fn error(&self, error: tlog_tiles::Error) -> StoreError {
        match self.error.borrow_mut().take() {
            Some(error) => error,
            None => panic!("the stored tree was asked for something outside it: {error}"),
        }
    }

    fn fail(&self, error: StoreError) -> tlog_tiles::Error {
        *self.error.borrow_mut() = Some(error);
        tlog_tiles::Error::InvalidTile
    }

    /// The stored bytes of tile (`level`, `index`), which must hold at least `width` hashes.
    fn tile(&self, level: u8, index: u64, width: u32) -> Result<Vec<u8>, StoreError> {
        let data = self.storage.tile(level, index)?.ok_or_else(|| {
            StoreError::corrupt(None, format!("{} is missing", tile_name(level, index)))
        })?;
        if data.len() < width as usize * HASH_SIZE {
            return Err(StoreError::corrupt(
                None,
                format!(
                    "{} holds {} hashes; the tree needs at least {width}",
                    tile_name(level, index),
                    data.len() / HASH_SIZE
                ),
            ));
        }
        Ok(data)
    }
}

impl<S: Storage + ?Sized> HashReader for StoredHashes<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut held: Option<(Tile, Vec<u8>)> = None;
        let mut hashes = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let tile = Tile::from_index(TILE_HEIGHT, index);
            let same = held.as_ref().is_some_and(|(t, data)| {
                t.level() == tile.level()
                    && t.level_index() == tile.level_index()
                    && data.len() >= tile.width() as usize * HASH_SIZE
            });
            if !same {
                let data = self
                    .tile(tile.level(), tile.level_index(), tile.width())
                    .map_err(|e| self.fail(e))?;
                held = Some((tile, data));
            }
            let (_, data) = held.as_ref().expect("held above");
            hashes.push(tile.hash_at_index(data, index)?);
        }
        Ok(hashes)
    }
}

/// Computes the tile hashes that appending entries completes, from the frontier of the stored
/// tree. A storage's [`Storage::commit`] uses it to write them with the entries.
#[derive(Debug)]
pub struct TreeAppender {
    frontier: Frontier,
}

impl TreeAppender {
    /// An appender for the empty tree.
    pub fn new() -> TreeAppender {
        TreeAppender {
            frontier: Frontier::new(),
        }
    }

    /// Reads the frontier of the stored tree: one hash per set bit of its size.
    pub fn open<S: Storage + ?Sized>(storage: &S) -> Result<TreeAppender, StoreError> {
        let size = storage.tree_size()?;
        let reader = StoredHashes::new(storage);
        let frontier = Frontier::read(size, &reader).map_err(|e| reader.error(e))?;
        Ok(TreeAppender { frontier })
    }

    /// The number of leaves so far.
    pub fn tree_size(&self) -> u64 {
        self.frontier.tree_size()
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Appends the entries as leaves and returns the tile hashes they complete, each exactly
    /// once across calls, in the order a tile grows. Leaves are hashed in parallel.
    pub fn push<B: AsRef<[u8]> + Sync>(&mut self, entries: &[B]) -> Vec<TileHash> {
        let leaves: Vec<Hash> = if entries.len() >= 64 {
            entries
                .par_iter()
                .map(|bytes| record_hash(bytes.as_ref()))
                .collect()
        } else {
            entries
                .iter()
                .map(|bytes| record_hash(bytes.as_ref()))
                .collect()
        };
        self.push_leaves(&leaves)
    }

    /// [`TreeAppender::push`] for leaf hashes already computed.
    pub fn push_leaves(&mut self, leaves: &[Hash]) -> Vec<TileHash> {
        let mut hashes = Vec::with_capacity(leaves.len() + leaves.len() / 128 + 8);
        for &leaf in leaves {
            hashes.extend(
                self.frontier
                    .push(leaf)
                    .filter(|(level, _, _)| level % TILE_HEIGHT == 0)
                    .map(|(level, index, hash)| TileHash {
                        level: level / TILE_HEIGHT,
                        index,
                        hash,
                    }),
            );
        }
        hashes
    }
}

impl Default for TreeAppender {
    fn default() -> TreeAppender {
        TreeAppender::new()
    }
}

/// Builds the stored tree up to the head from the log, if it is behind: only while a ledger of
/// store format 3 is upgraded, since every commit writes the tree with its entries. Runs under
/// the ledger lock, as every open does; each batch is durable, so an interrupted build goes on
/// from where it stopped.
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
        let mut hashes = Vec::new();
        let mut raw: Vec<Vec<u8>> = Vec::with_capacity(HASH_BATCH_ENTRIES);
        storage.scan_entries(Seq(through + 1), &mut |seq, bytes| {
            if seq.0 > batch_end {
                return ControlFlow::Break(());
            }
            raw.push(bytes.to_vec());
            if raw.len() == HASH_BATCH_ENTRIES {
                hashes.extend(appender.push(&raw));
                raw.clear();
            }
            ControlFlow::Continue(())
        })?;
        hashes.extend(appender.push(&raw));
        if appender.tree_size() != batch_end {
            return Err(StoreError::corrupt(
                Some(Seq(appender.tree_size() + 1)),
                "the log ends before the head",
            ));
        }
        storage.apply_tree(&hashes, batch_end)?;
        through = batch_end;
    }
    Ok(())
}

/// Every tile of the tree of the log, computed in memory: (level, index) and its bytes. For a
/// storage that keeps no tree of this kind (a ledger of store format 3 opened to read).
pub(crate) fn tiles_of_log<S: Storage + ?Sized>(storage: &S) -> Result<Tiles, StoreError> {
    let mut tiles = Tiles::new();
    let mut appender = TreeAppender::new();
    let mut raw: Vec<Vec<u8>> = Vec::with_capacity(HASH_BATCH_ENTRIES);
    let add = |hashes: Vec<TileHash>, tiles: &mut Tiles| {
        for hash in hashes {
            let (tile, _) = hash.tile();
            tiles
                .entry((hash.level, tile))
                .or_insert_with(|| Vec::with_capacity(TILE_LEN_MAX))
                .extend_from_slice(&hash.hash.0);
        }
    };
    storage.scan_entries(Seq::FIRST, &mut |_, bytes| {
        raw.push(bytes.to_vec());
        if raw.len() == HASH_BATCH_ENTRIES {
            add(appender.push(&raw), &mut tiles);
            raw.clear();
        }
        ControlFlow::Continue(())
    })?;
    add(appender.push(&raw), &mut tiles);
    let head = storage.head()?.count;
    if appender.tree_size() != head {
        return Err(StoreError::corrupt(
            Some(Seq(appender.tree_size() + 1)),
            "the log ends before the head",
        ));
    }
    Ok(tiles)
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

    /// The root of the tree of the first `tree_size` entries, from O(log n) stored tiles.
    ///
    /// # Panics
    ///
    /// If `tree_size` is past the head.
    pub fn tree_root(&self, tree_size: u64) -> Result<Hash, StoreError> {
        self.assert_within_head(tree_size);
        let reader = StoredHashes::new(self.storage());
        tlog_tiles::tree_hash(tree_size, &reader).map_err(|e| reader.error(e))
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

    /// The audit path of entry `seq` in the tree of the first `tree_size` entries, lowest
    /// level first (RFC 6962's order).
    ///
    /// # Panics
    ///
    /// If `seq` is not within the first `tree_size` entries, or `tree_size` is past the head.
    pub fn inclusion_proof(&self, seq: Seq, tree_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.assert_within_head(tree_size);
        assert!(
            seq.0 >= 1 && seq.0 <= tree_size,
            "entry {seq} is not in a tree of {tree_size} entries"
        );
        let reader = StoredHashes::new(self.storage());
        tlog_tiles::prove_record(tree_size, seq.0 - 1, &reader).map_err(|e| reader.error(e))
    }

    /// The proof that the tree of the first `new_size` entries extends the tree of the first
    /// `old_size` (RFC 6962 2.1.2); empty when the sizes are equal.
    ///
    /// # Panics
    ///
    /// Unless 1 ≤ `old_size` ≤ `new_size` ≤ the head's count.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.assert_within_head(new_size);
        assert!(
            old_size >= 1 && old_size <= new_size,
            "no consistency proof from {old_size} entries to {new_size}"
        );
        let reader = StoredHashes::new(self.storage());
        tlog_tiles::prove_tree(new_size, old_size, &reader).map_err(|e| reader.error(e))
    }

    /// The first `width` hashes (32 bytes each, in order) of tile (`level`, `index`): the tile
    /// c2sp.org/tlog-tiles publishes as `tile/<level>/<index>`, or, with fewer than 256, the
    /// partial tile `.p/<width>` of a tree of (index·256 + width)·256^level entries. Any tile
    /// of a tree up to the head can be read: a partial tile of a smaller tree is the start of
    /// the stored one.
    ///
    /// # Panics
    ///
    /// Unless `width` is 1 to 256 and the tile's hashes are within the head.
    pub fn read_tile(&self, level: u8, index: u64, width: u32) -> Result<Vec<u8>, StoreError> {
        assert!(
            (1..=TILE_WIDTH as u32).contains(&width) && level < TILE_LEVELS,
            "no tile (level {level}, index {index}) of width {width}"
        );
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let hashes_at_level = self.head().count >> shift;
        assert!(
            u128::from(index) * u128::from(TILE_WIDTH) + u128::from(width)
                <= u128::from(hashes_at_level),
            "tile (level {level}, index {index}) of width {width} is past the head"
        );
        let mut data = StoredHashes::new(self.storage()).tile(level, index, width)?;
        data.truncate(width as usize * HASH_SIZE);
        Ok(data)
    }

    /// The entries of entry bundle `index` of `width` entries: entries index·256 + 1 to
    /// index·256 + `width`, as stored, which c2sp.org/tlog-tiles publishes as
    /// `tile/entries/<index>[.p/<width>]`.
    ///
    /// # Panics
    ///
    /// Unless `width` is 1 to 256 and the entries are within the head.
    pub fn read_entry_bundle(&self, index: u64, width: u32) -> Result<Vec<Vec<u8>>, StoreError> {
        assert!((1..=TILE_WIDTH as u32).contains(&width), "width {width}");
        let first = u128::from(index) * u128::from(TILE_WIDTH) + 1;
        let last = first + u128::from(width) - 1;
        assert!(
            last <= u128::from(self.head().count),
            "entry bundle {index} of width {width} is past the head"
        );
        let (first, last) = (first as u64, last as u64);
        let mut entries = Vec::with_capacity(width as usize);
        self.storage().scan_entries(Seq(first), &mut |seq, bytes| {
            entries.push(bytes.to_vec());
            if seq.0 == last {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        if entries.len() != width as usize {
            return Err(StoreError::corrupt(
                Some(Seq(first + entries.len() as u64)),
                "the entry is missing from the log",
            ));
        }
        Ok(entries)
    }

    fn assert_within_head(&self, tree_size: u64) {
        assert!(
            tree_size <= self.head().count,
            "the tree of {tree_size} entries is past the head, {}",
            self.head()
        );
    }

    /// Recomputes the Merkle tree from the log and compares every stored tile with it, naming
    /// the first that is missing or differs. Reads the log once and every stored tile once.
    /// `verify` does the same in its own pass over the log ([`TreeCheck`]) and reports tree
    /// problems only once the log and index check out.
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
pub(crate) fn leaves_of(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.par_iter().map(|bytes| record_hash(bytes)).collect()
}

/// Recomputes the Merkle tree from the leaves of the log, fed in order, and compares each tile
/// hash they complete with the stored one, keeping the first that is missing or differs.
pub(crate) struct TreeCheck {
    appender: TreeAppender,
    /// The tile of each level last read: its index and stored bytes (`None`: not stored).
    held: Vec<Option<(u64, Option<Vec<u8>>)>>,
    problem: Option<Problem>,
    /// Whether there is a stored tree to check (see [`Storage::stores_tree`]).
    stored: bool,
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
            appender: TreeAppender::new(),
            held: vec![None; usize::from(TILE_LEVELS)],
            problem,
            stored: storage.stores_tree(),
        })
    }

    /// Appends the next leaves and compares the tile hashes they complete, unless a problem
    /// was already found. Stored tiles that do not decode are a problem, not an error.
    pub(crate) fn push<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        leaves: &[Hash],
    ) -> Result<(), StoreError> {
        match self.compare(storage, leaves) {
            Err(StoreError::Corrupt { seq, reason }) => {
                self.problem = Some(Problem { seq, what: reason });
                Ok(())
            }
            other => other,
        }
    }

    /// The stored bytes of tile (`level`, `index`), read once while the check is in it.
    fn held<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        level: u8,
        index: u64,
    ) -> Result<Option<&[u8]>, StoreError> {
        let slot = &mut self.held[usize::from(level)];
        if slot.as_ref().is_none_or(|(at, _)| *at != index) {
            *slot = Some((index, storage.tile(level, index)?));
        }
        Ok(slot.as_ref().and_then(|(_, data)| data.as_deref()))
    }

    fn compare<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        leaves: &[Hash],
    ) -> Result<(), StoreError> {
        if self.problem.is_some() {
            return Ok(());
        }
        let hashes = self.appender.push_leaves(leaves);
        if !self.stored {
            return Ok(());
        }
        for hash in hashes {
            let (tile, offset) = hash.tile();
            let at = offset / HASH_SIZE;
            let what = match self.held(storage, hash.level, tile)? {
                Some(data) if data.get(offset..offset + HASH_SIZE) == Some(&hash.hash.0[..]) => {
                    continue
                }
                Some(data) if data.len() <= offset => {
                    format!(
                        "holds {} hashes, fewer than the tree has",
                        data.len() / HASH_SIZE
                    )
                }
                Some(_) => format!(
                    "does not hold the hash of entries {} at position {at}: the stored tree was \
                     altered",
                    hash_entries(hash.level, hash.index)
                ),
                None => "is missing".to_owned(),
            };
            self.problem = Some(Problem {
                seq: None,
                what: format!("{} {what}", tile_name(hash.level, tile)),
            });
            return Ok(());
        }
        Ok(())
    }

    /// The first problem found, once every leaf of a log of `head` entries was pushed. Hashes
    /// past the head are not a problem: an interrupted write leaves them, nothing reads them,
    /// and the next open to write removes them.
    pub(crate) fn finish(mut self, head: u64) -> Option<Problem> {
        self.problem.take().or_else(|| {
            (self.appender.tree_size() != head).then(|| Problem {
                seq: None,
                what: format!(
                    "the log holds {} entries but the head says {head}",
                    self.appender.tree_size()
                ),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger_tests::{context, op, Model};
    use crate::MemoryStorage;
    use claimledger_core::merkle::{self, VecHashes};
    use proptest::prelude::*;

    /// The tree of the log by the definition: every stored hash of the layout, from the
    /// leaves alone.
    fn reference(ledger: &Ledger<MemoryStorage>) -> (Vec<Hash>, Vec<Hash>) {
        let mut leaves = Vec::new();
        ledger
            .scan_entries(Seq::FIRST, &mut |_, bytes| {
                leaves.push(record_hash(bytes));
                ControlFlow::Continue(())
            })
            .expect("scan");
        let mut frontier = Frontier::new();
        let mut stored = Vec::new();
        for &leaf in &leaves {
            stored.extend(frontier.push(leaf).map(|(_, _, h)| h));
        }
        (leaves, stored)
    }

    /// The stored tree is the tree of the log: its tiles hold exactly the hashes of levels 0,
    /// 8, … of the layout, and every root, inclusion proof and consistency proof comes out
    /// as the definition says.
    fn check_stored_tree(ledger: &Ledger<MemoryStorage>) {
        let (leaves, stored) = reference(ledger);
        let n = leaves.len() as u64;
        assert_eq!(ledger.storage().tree_size().expect("size"), n);
        let mut expected = Tiles::new();
        for (index, hash) in stored.iter().enumerate() {
            let (level, at) = tlog_tiles::split_stored_hash_index(index as u64);
            if level % TILE_HEIGHT == 0 {
                expected
                    .entry((level / TILE_HEIGHT, at / TILE_WIDTH))
                    .or_default()
                    .extend_from_slice(&hash.0);
            }
        }
        assert_eq!(
            ledger.storage().tiles(),
            &expected,
            "the tiles of {n} entries"
        );
        let reader = VecHashes(&stored);
        let sizes: Vec<u64> = (1..=n)
            .filter(|s| n <= 40 || s % 17 == 0 || *s == n)
            .collect();
        for &size in &sizes {
            let root = tlog_tiles::tree_hash(size, &reader).expect("root");
            assert_eq!(ledger.tree_root(size).expect("root"), root, "size {size}");
            for index in (0..size).filter(|i| size <= 40 || i % 13 == 0 || *i == size - 1) {
                let path = ledger.inclusion_proof(Seq(index + 1), size).expect("proof");
                merkle::verify_inclusion(leaves[index as usize], index, size, &path, root)
                    .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
            }
            for &old in sizes.iter().filter(|old| **old <= size) {
                let proof = ledger.consistency_proof(old, size).expect("proof");
                let old_root = tlog_tiles::tree_hash(old, &reader).expect("root");
                merkle::verify_consistency(old, size, &proof, old_root, root)
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
            // The same ledger with its tree to rebuild, as an upgrade does: the tree is built
            // on open, in batches, and comes out the same.
            let checkpoint = ledger.checkpoint().expect("checkpoint");
            let mut storage = ledger.into_storage();
            storage.tiles_mut().clear();
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
    fn verify_names_an_altered_missing_or_extra_tile() {
        let check = |edit: &dyn Fn(&mut MemoryStorage), expected: &str| {
            let mut storage = ledger_of(600).into_storage();
            edit(&mut storage);
            let ledger = Ledger::open(storage).expect("open");
            let problem = ledger.verify(&mut |_| {}).expect("verify").problem;
            assert_eq!(problem.map(|p| p.to_string()).as_deref(), Some(expected));
            let problem = ledger.check_tree().expect("check");
            assert_eq!(problem.map(|p| p.to_string()).as_deref(), Some(expected));
        };
        fn tile(s: &mut MemoryStorage, level: u8, index: u64) -> &mut Vec<u8> {
            s.tiles_mut().get_mut(&(level, index)).expect("a tile")
        }
        check(
            &|s| tile(s, 0, 1)[4 * 32 + 31] ^= 1,
            "the Merkle tree tile (level 0, index 1) does not hold the hash of entries 261 at \
             position 4: the stored tree was altered",
        );
        check(
            &|s| tile(s, 1, 0)[32] ^= 0x80,
            "the Merkle tree tile (level 1, index 0) does not hold the hash of entries 257 to \
             512 at position 1: the stored tree was altered",
        );
        check(
            &|s| {
                s.tiles_mut().remove(&(0, 2));
            },
            "the Merkle tree tile (level 0, index 2) is missing",
        );
        check(
            &|s| tile(s, 0, 2).truncate(32 * 80),
            "the Merkle tree tile (level 0, index 2) holds 80 hashes, fewer than the tree has",
        );
        // Hashes past the head, as an interrupted write leaves them, are never read: not a
        // problem.
        for edit in [
            &(|s: &mut MemoryStorage| tile(s, 0, 2).extend_from_slice(&[7; 32]))
                as &dyn Fn(&mut MemoryStorage),
            &|s| {
                s.tiles_mut().insert((2, 0), vec![1; 32]);
            },
            &|s| {
                s.tiles_mut().insert((0, 3), vec![1; 32]);
            },
        ] {
            let mut storage = ledger_of(600).into_storage();
            edit(&mut storage);
            let ledger = Ledger::open(storage).expect("open");
            assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
            assert_eq!(ledger.check_tree().expect("check"), None);
        }
    }

    #[test]
    fn a_missing_frontier_tile_is_named_when_committing() {
        let mut storage = ledger_of(300).into_storage();
        storage.tiles_mut().remove(&(1, 0));
        let mut ledger = Ledger::open(storage).expect("open");
        let more = [claimledger_core::input::parse_command(
            r#"{"subject":"s","claimant":"c","statement":"y"}"#,
        )
        .expect("a record")];
        let error = ledger.submit(&more, &context()).expect_err("a broken tree");
        assert_eq!(
            error.to_string(),
            "storage corrupted: the Merkle tree tile (level 1, index 0) is missing"
        );
        assert_eq!(ledger.head().count, 300);
    }

    /// Tiles and entry bundles by their coordinates: any tile of any tree up to the head is
    /// the start of the stored one.
    #[test]
    fn tiles_and_bundles_by_coordinates() {
        let ledger = ledger_of(600);
        let (_, stored) = reference(&ledger);
        let reader = VecHashes(&stored);
        let level_0: Vec<u8> = (0..600u64)
            .flat_map(|i| {
                reader
                    .read_hashes(&[tlog_tiles::stored_hash_index(0, i)])
                    .expect("a leaf")[0]
                    .0
            })
            .collect();
        assert_eq!(
            ledger.read_tile(0, 0, 256).expect("tile"),
            &level_0[..256 * 32]
        );
        assert_eq!(
            ledger.read_tile(0, 2, 88).expect("tile"),
            &level_0[512 * 32..]
        );
        assert_eq!(
            ledger.read_tile(0, 2, 5).expect("tile"),
            &level_0[512 * 32..517 * 32]
        );
        let level_8: Vec<u8> = (0..2u64)
            .flat_map(|i| {
                reader
                    .read_hashes(&[tlog_tiles::stored_hash_index(8, i)])
                    .expect("a node")[0]
                    .0
            })
            .collect();
        assert_eq!(ledger.read_tile(1, 0, 2).expect("tile"), level_8);
        let bundle = ledger.read_entry_bundle(2, 88).expect("bundle");
        assert_eq!(bundle.len(), 88);
        assert_eq!(bundle[0], ledger.entry_bytes(Seq(513)).expect("entry"));
        assert_eq!(bundle[87], ledger.entry_bytes(Seq(600)).expect("entry"));
        // Published tiles of a tree of 513 entries: tlog_tiles names them, the ledger reads them.
        for tile in Tile::new_tiles(TILE_HEIGHT, 0, 513) {
            let data = ledger
                .read_tile(tile.level(), tile.level_index(), tile.width())
                .expect("tile");
            assert_eq!(data.len(), tile.width() as usize * 32);
        }
    }
}
