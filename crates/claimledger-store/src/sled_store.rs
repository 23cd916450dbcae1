//! The durable store: one sled tree holding the log in chunks, the head, and the index.
//!
//! Keys (docs/FORMAT.md, "Storage layout"; integers big-endian):
//! - `L` chunk:u64 → the entries of sequence numbers chunk·128+1 ..= chunk·128+128, each as a
//!   u32 length and the entry's bytes. Packing entries 128 to a value keeps sled's per-key
//!   cost off the hot path: bulk writes and full scans run several times faster than with one
//!   key per entry.
//! - `M` "format" → u32 store format; `M` "head" → u64 count and 32-byte hash; `M` "indexed"
//!   → u64, how far the index reflects the log; `M` "tree" → u64, how many leaves the stored
//!   Merkle tree covers; `M` "origin" → the ledger's origin, UTF-8.
//! - `T` level:u8 index:u64 → Merkle tree tile (level, index): the hashes of tree level
//!   8·level with indices index·256 to index·256+255, as many as are complete, in index order,
//!   32 bytes each (c2sp.org/tlog-tiles' tiles of height 8). Hash i of tree level l is the root
//!   of the perfect subtree over leaves i·2^l to (i+1)·2^l − 1 (entries one more than those);
//!   the levels between the tile levels are computed from the tile below when read. Each hash
//!   is written once, in the write that stores the entry completing it, and a tile only grows
//!   at its end until it is full, as the log's chunks do. The tree's keys sort after the log and
//!   the meta keys, so that appending to the last tile of each level never lands in a leaf of
//!   sled's that holds log chunks (the reason the index sorts after the log, below).
//! - `X` key → value: the index of [`crate::index`], packed like the log, so that a million
//!   claims take about 85,000 sled keys rather than five million:
//!   - `X` `c` first-id:16 → the claim block starting at claim first-id: up to 128 claim
//!     records in ascending id order, each the claim's id (16 bytes), its key's length (u8,
//!     0 for no key) and bytes, its revision count r (u32, at least 1), then r sequence
//!     numbers (u64 each), revision 1 first;
//!   - `X` `k` bucket:u16 → key records, each a key's length (u8) and bytes and the claim id
//!     it names (16 bytes); a key's bucket is the first two bytes of BLAKE3(key);
//!   - `X` `s` | `a` | `t`, label, 0x00, block:u32 → up to 256 claim ids of 16 bytes,
//!     concatenated: claims whose latest revision has that subject (`s`), claimant (`a`) or
//!     tag (`t`).
//!
//! The index sorts after the log on purpose. sled keeps up to 16 pairs per leaf, and a run of
//! new keys inserted in order lands again and again in the leaf that holds the next greater
//! key; were that leaf full of 64 KiB log chunks (as it was when the index sorted just before
//! them, under `I`), sled would rewrite it whole, as a file of its own, every few inserts.
//!
//! Store format 4 is this layout. Format 3 differed only in its tree: BLAKE3 nodes of every
//! level. Opening a format 3 ledger to write rebuilds its tree as tiles, in durable batches
//! (`M` "upgrade" → u64, how far the new tiles go, until the last batch writes format 4);
//! opening one to read leaves it as it is and computes its tiles from the log when first
//! asked for. Formats 1 and 2 are refused.
//!
//! The head is the commit point: nothing past it is ever read, and whatever a crash left past
//! it (log chunks, tile hashes) is removed when the ledger is next opened to write. A small
//! commit is one atomic sled batch (chunks, tile hashes, index, head, tree mark) followed by a
//! flush; a large one writes its chunks with their tile hashes, flushes, then moves the head and
//! the tree mark in one batch and flushes again, and the index follows in batches
//! ([`Storage::apply_index`]).

use crate::chunk::{self, ENTRIES_PER_BLOCK, ENTRIES_PER_CHUNK};
use crate::lock::LedgerLock;
use crate::storage::{
    assert_commit_follows, assert_stage_follows, prefix_end, Head, IndexOp, Storage, StoreError,
    Visit, VisitIndex,
};
use crate::tree::{TileHash, Tiles, TreeAppender, TILE_LEN_MAX, TILE_LEVELS};
use claimledger_core::checkpoint;
use claimledger_core::merkle::{HASH_SIZE, TILE_HEIGHT};
use claimledger_core::Seq;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long a command waits for another process to finish with the ledger, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The store layout version this build writes and reads: 4 keeps the Merkle tree as SHA-256
/// tiles.
pub const STORE_FORMAT: u32 = 4;

/// The one older layout this build opens: its tree (BLAKE3 nodes) is rebuilt as tiles when it
/// is opened to write. Formats 1 and 2 were development layouts; this build refuses them.
const UPGRADED_FORMAT: u32 = 3;

/// Chunks written per sled batch in a large commit.
const CHUNKS_PER_BATCH: usize = 64;

/// The most chunks a scan decodes at a time (in parallel).
const SCAN_CHUNKS_MAX: usize = 32;

const META_FORMAT: &[u8] = b"Mformat";
const META_HEAD: &[u8] = b"Mhead";
const META_INDEXED: &[u8] = b"Mindexed";
const META_TREE: &[u8] = b"Mtree";
const META_ORIGIN: &[u8] = b"Morigin";
/// While a format 3 ledger's tree is rebuilt: how many leaves the new tiles cover.
const META_UPGRADE: &[u8] = b"Mupgrade";
const LOG_PREFIX: u8 = b'L';
const TREE_PREFIX: u8 = b'T';
const INDEX_PREFIX: u8 = b'X';

/// sled's page cache. Its default (1 GiB) would let a large import grow far past what the
/// ledger itself needs; reads are served from the operating system's page cache anyway.
const SLED_CACHE_BYTES: u64 = 64 << 20;

#[derive(Debug)]
pub struct SledStorage {
    db: sled::Db,
    path: PathBuf,
    head: Head,
    indexed_through: u64,
    tree_size: u64,
    origin: String,
    /// Entries staged past the head by [`Storage::stage`], and the tree appender over them.
    staged: u64,
    stage_tree: Option<TreeAppender>,
    /// A format 3 ledger opened to write: its tree is being rebuilt as tiles.
    upgrading: bool,
    /// A format 3 ledger opened to read: its tiles, computed from the log when first read
    /// (shared by the handles of [`ShareRead::share_read`]).
    computed_tiles: Option<Arc<OnceLock<Tiles>>>,
    /// A handle from [`ShareRead::share_read`], which must never write.
    shared_read: bool,
    _lock: Arc<LedgerLock>,
    /// The temporary directory of a private copy (private_copy.rs), removed when the last
    /// handle on the storage is dropped; declared last so that sled is closed before its
    /// files go.
    _copy: Option<Arc<tempfile::TempDir>>,
}

fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut key = [TREE_PREFIX; 10];
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

/// A default origin for a new ledger in `dir`: `claimledger/<name>/<8 random hex digits>`,
/// where the name is the directory's (or, for a hidden directory such as `.claims`, its
/// parent's), with anything a key name cannot hold replaced by `-`. Unique enough that two
/// ledgers do not share one by accident; `claims init --origin` chooses a better one.
pub fn default_origin(dir: &Path) -> String {
    // uuid's v4 generator is the operating system's random source.
    let random = uuid::Uuid::new_v4();
    let random: [u8; 4] = random.as_bytes()[..4]
        .try_into()
        .expect("a UUID has 16 bytes");
    default_origin_with(dir, random)
}

/// [`default_origin`] with the 8 hex digits given, for reproducible runs (a pinned clock).
pub fn default_origin_with(dir: &Path, suffix: [u8; 4]) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut names = absolute.components().rev().filter_map(|c| match c {
        std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
        _ => None,
    });
    let name = match names.next() {
        Some(hidden) if hidden.starts_with('.') => names.next().unwrap_or(hidden),
        Some(name) => name,
        None => "ledger".to_owned(),
    };
    let name: String = name
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '+' || c == '/' {
                '-'
            } else {
                c
            }
        })
        .take(64)
        .collect();
    let name = if name.is_empty() {
        "ledger".to_owned()
    } else {
        name
    };
    let origin = format!("claimledger/{name}/{:08x}", u32::from_be_bytes(suffix));
    debug_assert_eq!(checkpoint::validate_origin(&origin), Ok(()));
    origin
}

fn chunk_key(chunk: u64) -> [u8; 9] {
    let mut key = [LOG_PREFIX; 9];
    key[1..].copy_from_slice(&chunk.to_be_bytes());
    key
}

fn chunk_of(seq: Seq) -> u64 {
    (seq.0 - 1) / ENTRIES_PER_CHUNK
}

fn index_key(key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(1 + key.len());
    full.push(INDEX_PREFIX);
    full.extend_from_slice(key);
    full
}

/// A chunk's problem as the store reports it: at the entry it names.
fn chunk_corrupt(chunk: u64, (position, why): chunk::ChunkError) -> StoreError {
    StoreError::corrupt(
        Some(Seq(chunk * ENTRIES_PER_CHUNK + position as u64 + 1)),
        why,
    )
}

impl SledStorage {
    /// Creates a new, empty ledger in `dir` (which may exist, but must not hold a ledger), with
    /// a [`default_origin`].
    pub fn create(dir: &Path, wait: Duration) -> Result<SledStorage, StoreError> {
        SledStorage::create_with_origin(dir, wait, &default_origin(dir))
    }

    /// Creates a new, empty ledger in `dir` whose checkpoints name it `origin`.
    ///
    /// # Panics
    ///
    /// If `origin` fails [`checkpoint::validate_origin`]: callers check what users give them.
    pub fn create_with_origin(
        dir: &Path,
        wait: Duration,
        origin: &str,
    ) -> Result<SledStorage, StoreError> {
        if let Err(error) = checkpoint::validate_origin(origin) {
            panic!("a ledger is created with a valid origin: {error}");
        }
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = LedgerLock::acquire(dir, wait)?;
        let _busy = crate::watch::busy();
        let db_path = dir.join("db");
        if db_path.exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        let db = open_db(&db_path, wait)?;
        let mut batch = sled::Batch::default();
        batch.insert(META_FORMAT, STORE_FORMAT.to_be_bytes().as_slice());
        batch.insert(META_HEAD, Head::EMPTY.to_bytes().as_slice());
        batch.insert(META_INDEXED, 0u64.to_be_bytes().as_slice());
        batch.insert(META_TREE, 0u64.to_be_bytes().as_slice());
        batch.insert(META_ORIGIN, origin.as_bytes());
        let storage = SledStorage {
            db,
            path: db_path,
            head: Head::EMPTY,
            indexed_through: 0,
            tree_size: 0,
            origin: origin.to_owned(),
            staged: 0,
            stage_tree: None,
            upgrading: false,
            computed_tiles: None,
            shared_read: false,
            _lock: Arc::new(lock),
            _copy: None,
        };
        storage
            .db
            .apply_batch(batch)
            .map_err(|e| storage.error(e))?;
        storage.flush()?;
        Ok(storage)
    }

    /// Opens the ledger in `dir`, waiting up to `wait` for another process to release it.
    pub fn open(dir: &Path, wait: Duration) -> Result<SledStorage, StoreError> {
        SledStorage::open_as(dir, wait, true)
    }

    /// Opens a ledger to read it: as [`SledStorage::open`], except that whatever lies past the
    /// recorded head is left in place. An interrupted write leaves such data, and the next
    /// open to write removes it; but a head moved back by damage or by hand leaves committed
    /// entries past it, which a command that only reads must not destroy (`verify` then reports
    /// the head, and the entries are still there to examine). Nothing past the head is read.
    pub fn open_read(dir: &Path, wait: Duration) -> Result<SledStorage, StoreError> {
        SledStorage::open_as(dir, wait, false)
    }

    fn open_as(dir: &Path, wait: Duration, to_write: bool) -> Result<SledStorage, StoreError> {
        let db_path = dir.join("db");
        if !db_path.is_dir() {
            return Err(StoreError::NotALedger(dir.to_path_buf()));
        }
        let lock = LedgerLock::acquire(dir, wait)?;
        let _busy = crate::watch::busy();
        let db = open_db(&db_path, wait)?;
        let mut storage = SledStorage {
            db,
            path: db_path,
            head: Head::EMPTY,
            indexed_through: 0,
            tree_size: 0,
            origin: String::new(),
            staged: 0,
            stage_tree: None,
            upgrading: false,
            computed_tiles: None,
            shared_read: false,
            _lock: Arc::new(lock),
            _copy: None,
        };
        let format = storage.meta(META_FORMAT)?;
        let format = u32::from_be_bytes(
            format
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::corrupt(None, "the store format record is malformed"))?,
        );
        if format > STORE_FORMAT {
            return Err(StoreError::NewerFormat {
                path: dir.to_path_buf(),
                found: format,
                supported: STORE_FORMAT,
            });
        }
        if format < UPGRADED_FORMAT {
            return Err(StoreError::OlderFormat {
                path: dir.to_path_buf(),
                found: format,
                supported: STORE_FORMAT,
            });
        }
        storage.head = Head::from_bytes(&storage.meta(META_HEAD)?)
            .ok_or_else(|| StoreError::corrupt(None, "the head record is malformed"))?;
        storage.indexed_through = storage.meta_u64(META_INDEXED, "index mark")?;
        if storage.indexed_through > storage.head.count {
            return Err(StoreError::corrupt(None, "the index mark is past the head"));
        }
        // The origin is the ledger's identity: a missing one is damage, never replaced by a
        // new one, even when the ledger is only read.
        storage.origin = storage.read_origin()?;
        if format == UPGRADED_FORMAT {
            if to_write {
                storage.start_upgrade()?;
                storage.remove_uncommitted()?;
                storage.finish_upgrade_if_complete()?;
            } else {
                // Read as it is: the tiles of its tree are computed from the log when first
                // read, and its old tree is not read.
                storage.tree_size = storage.head.count;
                storage.computed_tiles = Some(Arc::new(OnceLock::new()));
            }
            return Ok(storage);
        }
        storage.tree_size = storage.meta_u64(META_TREE, "tree mark")?;
        if storage.tree_size != storage.head.count {
            return Err(StoreError::corrupt(
                None,
                format!(
                    "the tree mark says the Merkle tree covers {} entries, but the head says {}",
                    storage.tree_size, storage.head.count
                ),
            ));
        }
        if to_write {
            storage.remove_uncommitted()?;
        }
        Ok(storage)
    }

    /// Keeps `copy`, the directory this storage was opened from, until the storage is dropped.
    pub(crate) fn owning(mut self, copy: tempfile::TempDir) -> SledStorage {
        self._copy = Some(Arc::new(copy));
        self
    }

    /// A u64 meta record, which must be present.
    fn meta_u64(&self, key: &[u8], name: &str) -> Result<u64, StoreError> {
        let value = self
            .db
            .get(key)
            .map_err(|e| self.error(e))?
            .ok_or_else(|| StoreError::corrupt(None, format!("the {name} is missing")))?;
        Ok(u64::from_be_bytes(value.as_ref().try_into().map_err(
            |_| StoreError::corrupt(None, format!("the {name} is malformed")),
        )?))
    }

    /// The recorded origin, which must be there and valid.
    fn read_origin(&self) -> Result<String, StoreError> {
        let value = self
            .db
            .get(META_ORIGIN)
            .map_err(|e| self.error(e))?
            .ok_or_else(|| StoreError::corrupt(None, "the origin record is missing"))?;
        let origin = String::from_utf8(value.to_vec())
            .map_err(|_| StoreError::corrupt(None, "the origin record is not UTF-8"))?;
        checkpoint::validate_origin(&origin)
            .map_err(|e| StoreError::corrupt(None, format!("the origin record: {e}")))?;
        Ok(origin)
    }

    /// Begins (or goes on with) rebuilding a format 3 ledger's tree as tiles: the first time,
    /// removes the old tree and its mark in one durable write, and records that no tiles are
    /// built yet; after an interruption, goes on from what the upgrade record says.
    /// [`crate::Ledger::open`] then builds the tiles up to the head ([`Storage::apply_tree`]).
    fn start_upgrade(&mut self) -> Result<(), StoreError> {
        self.upgrading = true;
        if self
            .db
            .get(META_UPGRADE)
            .map_err(|e| self.error(e))?
            .is_some()
        {
            self.tree_size = self.meta_u64(META_UPGRADE, "upgrade record")?;
            if self.tree_size > self.head.count {
                return Err(StoreError::corrupt(
                    None,
                    "the upgrade record is past the head",
                ));
            }
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for item in self.db.scan_prefix([TREE_PREFIX]) {
            let (key, _) = item.map_err(|e| self.error(e))?;
            batch.remove(key);
        }
        batch.remove(META_TREE);
        batch.insert(META_UPGRADE, 0u64.to_be_bytes().as_slice());
        self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        self.flush()?;
        self.tree_size = 0;
        Ok(())
    }

    /// Ends an upgrade whose tiles reach the head: store format 4 from now on.
    fn finish_upgrade_if_complete(&mut self) -> Result<(), StoreError> {
        if !self.upgrading || self.tree_size != self.head.count {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        finish_upgrade(&mut batch, self.head.count);
        self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        self.flush()?;
        self.upgrading = false;
        Ok(())
    }

    /// The entries whose tree is to be rebuilt when this ledger, of store format 3 and opened
    /// to write, is opened as a [`crate::Ledger`]; `None` when there is nothing to upgrade.
    pub fn upgrade_pending(&self) -> Option<u64> {
        self.upgrading.then_some(self.head.count)
    }

    /// Whether this is a ledger of store format 3 opened to read, whose tree is computed from
    /// the log for this run.
    pub fn tree_computed_in_memory(&self) -> bool {
        self.computed_tiles.is_some()
    }

    fn error(&self, error: sled::Error) -> StoreError {
        match error {
            sled::Error::Io(source) => StoreError::Io {
                path: self.path.clone(),
                source,
            },
            sled::Error::Corruption { .. } => {
                StoreError::corrupt(None, format!("sled reports: {error}"))
            }
            other => StoreError::Backend(other.to_string()),
        }
    }

    fn meta(&self, key: &[u8]) -> Result<Vec<u8>, StoreError> {
        let value = self.db.get(key).map_err(|e| self.error(e))?;
        let name = String::from_utf8_lossy(&key[1..]).into_owned();
        value
            .map(|v| v.to_vec())
            .ok_or_else(|| StoreError::corrupt(None, format!("the {name} record is missing")))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(drop).map_err(|e| self.error(e))
    }

    /// Removes what an interrupted large commit left past the head: log chunks, entries in the
    /// head's chunk, and Merkle tree hashes over leaves past it.
    fn remove_uncommitted(&mut self) -> Result<(), StoreError> {
        let last_chunk = if self.head.count == 0 {
            None
        } else {
            Some(chunk_of(Seq(self.head.count)))
        };
        let first_garbage = last_chunk.map_or(0, |c| c + 1);
        let mut batch = sled::Batch::default();
        let mut dirty = false;
        for item in self
            .db
            .range(chunk_key(first_garbage)..=chunk_key(u64::MAX))
        {
            let (key, _) = item.map_err(|e| self.error(e))?;
            batch.remove(key);
            dirty = true;
        }
        // A hash of tree level l is past the head from index count >> l on: its last leaf,
        // (index + 1)·2^l − 1, is then at or past the count.
        for level in 0..TILE_LEVELS {
            let kept = self.head.count >> (u32::from(level) * u32::from(TILE_HEIGHT));
            let (tile, kept_len) = TileHash {
                level,
                index: kept,
                hash: claimledger_core::merkle::EMPTY_HASH,
            }
            .tile();
            let key = tile_key(level, tile);
            let first_garbage = if kept_len == 0 {
                key
            } else {
                if let Some(value) = self.db.get(key).map_err(|e| self.error(e))? {
                    if value.len() > kept_len {
                        batch.insert(&key, &value[..kept_len]);
                        dirty = true;
                    }
                }
                tile_key(level, tile + 1)
            };
            let last = tile_key(level, u64::MAX);
            for item in self.db.range(first_garbage..=last) {
                let (key, _) = item.map_err(|e| self.error(e))?;
                batch.remove(key);
                dirty = true;
            }
        }
        if let Some(chunk) = last_chunk {
            let keep = (self.head.count - chunk * ENTRIES_PER_CHUNK) as usize;
            if let Some(value) = self.db.get(chunk_key(chunk)).map_err(|e| self.error(e))? {
                // A chunk too damaged to trim is left for verify to report.
                if let Ok(entries) = chunk::decode_chunk(&value) {
                    if entries.len() > keep {
                        batch.insert(&chunk_key(chunk), chunk::encode_chunk(&entries[..keep]));
                        dirty = true;
                    }
                }
            }
        }
        if dirty {
            self.db.apply_batch(batch).map_err(|e| self.error(e))?;
            self.flush()?;
        }
        Ok(())
    }

    /// Writes entries past the head and whatever is staged already, with the tree hashes they
    /// complete, in batches of [`CHUNKS_PER_BATCH`] chunks, where nothing reads them until the
    /// head moves (and the next open removes them if it never does).
    fn write_past_head(
        &self,
        base: u64,
        entries: &[Vec<u8>],
        tree: &mut TreeAppender,
    ) -> Result<(), StoreError> {
        let chunks = self.chunks_for(base, entries)?;
        let mut written = 0;
        for group in chunks.chunks(CHUNKS_PER_BATCH) {
            crate::watch::tick();
            let mut batch = sled::Batch::default();
            for (chunk, value) in group {
                batch.insert(&chunk_key(*chunk), value.as_slice());
            }
            let (last_chunk, _) = group.last().expect("chunks() gives non-empty groups");
            let group_end = ((last_chunk + 1) * ENTRIES_PER_CHUNK).min(base + entries.len() as u64);
            let group_entries = (group_end - base) as usize - written;
            self.add_tile_hashes(
                &mut batch,
                &tree.push(&entries[written..written + group_entries]),
            )?;
            written += group_entries;
            self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        }
        assert_eq!(written, entries.len(), "every entry is in a chunk");
        Ok(())
    }

    /// The chunk values that result from appending `entries` after the first `base` entries
    /// of the log: the chunk holding entry `base` read and extended, the others new, compressed
    /// in parallel.
    fn chunks_for(
        &self,
        base: u64,
        entries: &[Vec<u8>],
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut chunks = Vec::with_capacity(entries.len() / ENTRIES_PER_CHUNK as usize + 2);
        let in_chunk = (base % ENTRIES_PER_CHUNK) as usize;
        let mut rest = entries;
        if in_chunk > 0 && !entries.is_empty() {
            let chunk = base / ENTRIES_PER_CHUNK;
            let existing = self
                .db
                .get(chunk_key(chunk))
                .map_err(|e| self.error(e))?
                .ok_or_else(|| {
                    StoreError::corrupt(
                        Some(Seq(base)),
                        "the log chunk holding this entry is missing",
                    )
                })?;
            let take = (ENTRIES_PER_CHUNK as usize - in_chunk).min(entries.len());
            let value = chunk::extend_chunk(&existing, in_chunk, &entries[..take])
                .map_err(|e| chunk_corrupt(chunk, e))?;
            chunks.push((chunk, value));
            rest = &entries[take..];
        }
        let first_new = (base + (entries.len() - rest.len()) as u64) / ENTRIES_PER_CHUNK;
        let new: Vec<(u64, Vec<u8>)> = rest
            .par_chunks(ENTRIES_PER_CHUNK as usize)
            .enumerate()
            .map(|(i, group)| (first_new + i as u64, chunk::encode_chunk(group)))
            .collect();
        chunks.extend(new);
        Ok(chunks)
    }

    /// Entry `seq`, read from the log whether or not the head covers it.
    fn read_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        let chunk = chunk_of(seq);
        let Some(value) = self.db.get(chunk_key(chunk)).map_err(|e| self.error(e))? else {
            return Ok(None);
        };
        let position = (seq.0 - 1 - chunk * ENTRIES_PER_CHUNK) as usize;
        let blocks = chunk::split_blocks(&value).map_err(|e| chunk_corrupt(chunk, e))?;
        let block = position / ENTRIES_PER_BLOCK;
        let Some(compressed) = blocks.get(block) else {
            return Ok(None);
        };
        BLOCK.with(|cell| {
            let mut entries = cell.borrow_mut();
            entries.clear();
            chunk::decode_block_into(compressed, block, block + 1 == blocks.len(), &mut entries)
                .map_err(|e| chunk_corrupt(chunk, e))?;
            Ok(entries
                .get(position % ENTRIES_PER_BLOCK)
                .map(<[u8]>::to_vec))
        })
    }

    /// Decodes the entries `first..=last` that the chunks hold (in parallel), and visits them
    /// in order.
    fn visit_chunks(
        &self,
        chunks: &[(u64, sled::IVec)],
        first: Seq,
        last: Seq,
        visit: &mut Visit<'_>,
    ) -> Result<ControlFlow<()>, StoreError> {
        // Each chunk's entries, and what stopped its decoding short, if anything: the entries
        // before a damaged or missing one are visited first, so that an entry removed from a
        // chunk shows as the next one out of place, which names the first bad entry.
        let decoded: Vec<(chunk::Entries, Option<StoreError>)> = chunks
            .par_iter()
            .map(|(chunk, value)| {
                let chunk_first = chunk * ENTRIES_PER_CHUNK + 1;
                let from = (first.0.max(chunk_first) - chunk_first) as usize;
                let wanted = (last.0 - chunk_first + 1).min(ENTRIES_PER_CHUNK) as usize;
                let mut entries = chunk::Entries::new();
                let blocks = match chunk::split_blocks(value) {
                    Ok(blocks) => blocks,
                    Err(e) => return (entries, Some(chunk_corrupt(*chunk, e))),
                };
                let first_block = from / ENTRIES_PER_BLOCK;
                let mut failure = None;
                for block in first_block..wanted.div_ceil(ENTRIES_PER_BLOCK) {
                    let Some(compressed) = blocks.get(block) else {
                        break;
                    };
                    let last_block = block + 1 == blocks.len();
                    if let Err(e) =
                        chunk::decode_block_into(compressed, block, last_block, &mut entries)
                    {
                        failure = Some(chunk_corrupt(*chunk, e));
                        break;
                    }
                }
                // The entries of the first block before `from`, and those past `wanted`.
                entries.truncate(wanted - first_block * ENTRIES_PER_BLOCK);
                entries.skip(from - first_block * ENTRIES_PER_BLOCK);
                let short = failure.or_else(|| {
                    (from + entries.len() < wanted).then(|| {
                        StoreError::corrupt(
                            Some(Seq(chunk_first + (from + entries.len()) as u64)),
                            "the entry is missing from its log chunk",
                        )
                    })
                });
                (entries, short)
            })
            .collect();
        for ((chunk, _), (entries, short)) in chunks.iter().zip(decoded) {
            crate::watch::tick();
            let chunk_first = chunk * ENTRIES_PER_CHUNK + 1;
            let from = first.0.max(chunk_first);
            for (i, bytes) in entries.iter().enumerate() {
                if visit(Seq(from + i as u64), bytes).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            if let Some(error) = short {
                return Err(error);
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

thread_local! {
    /// Each thread's buffer for the entries of one block, when one entry of it is read.
    static BLOCK: std::cell::RefCell<chunk::Entries> =
        std::cell::RefCell::new(chunk::Entries::new());
}

/// Removes snapshot files that a killed process left half-written. sled 0.34.7 writes a new
/// snapshot as `snap.<lsn>.generating` and renames it when complete, but reads the file with the
/// greatest name when it opens, `.generating` or not (spacejam/sled#1527): one process killed
/// at that moment would leave every later open reporting corruption. The caller holds the
/// ledger lock, so no other process can be writing one now; sled rebuilds from its log.
fn remove_unfinished_snapshots(path: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(|source| StoreError::Io {
                path: entry.path(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Opens sled, retrying while a process that just released the ledger lock still has sled's
/// own file lock (sled may finish closing on a background thread).
fn open_db(path: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
    remove_unfinished_snapshots(path)?;
    let started = Instant::now();
    loop {
        crate::watch::tick();
        match sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            .open()
        {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::Other && started.elapsed() < wait =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(sled::Error::Io(source)) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
            Err(error @ sled::Error::Corruption { .. }) => {
                return Err(StoreError::corrupt(None, format!("sled reports: {error}")))
            }
            Err(other) => return Err(StoreError::Backend(other.to_string())),
        }
    }
}

impl crate::ledger::ShareRead for SledStorage {
    /// Shares the database (sled's handles are shared, and safe to use from many threads) and
    /// the ledger's lock, which is released when the last handle is dropped.
    fn share_read(&self) -> SledStorage {
        assert_eq!(self.staged, 0, "a read handle is made with nothing staged");
        SledStorage {
            db: self.db.clone(),
            path: self.path.clone(),
            head: self.head,
            indexed_through: self.indexed_through,
            tree_size: self.tree_size,
            origin: self.origin.clone(),
            staged: 0,
            stage_tree: None,
            upgrading: false,
            computed_tiles: self.computed_tiles.clone(),
            shared_read: true,
            _lock: Arc::clone(&self._lock),
            _copy: self._copy.clone(),
        }
    }
}

impl Storage for SledStorage {
    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.head)
    }

    fn indexed_through(&self) -> Result<u64, StoreError> {
        Ok(self.indexed_through)
    }

    fn scan_entries(&self, first: Seq, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let first = Seq(first.0.max(1));
        if first.0 > self.head.count {
            return Ok(());
        }
        let last = Seq(self.head.count);
        let mut expected_chunk = chunk_of(first);
        // Chunks are decoded in parallel, a growing number at a time: a scan that stops early
        // (one entry, a short range) decodes little more than it visits.
        let mut pending: Vec<(u64, sled::IVec)> = Vec::with_capacity(SCAN_CHUNKS_MAX);
        let mut wanted = 1;
        for item in self
            .db
            .range(chunk_key(chunk_of(first))..=chunk_key(chunk_of(last)))
        {
            let (key, value) = item.map_err(|e| self.error(e))?;
            let chunk = u64::from_be_bytes(
                key[1..]
                    .try_into()
                    .map_err(|_| StoreError::corrupt(None, "a log key is malformed"))?,
            );
            if chunk != expected_chunk {
                break;
            }
            pending.push((chunk, value));
            expected_chunk += 1;
            if pending.len() == wanted {
                if self.visit_chunks(&pending, first, last, visit)?.is_break() {
                    return Ok(());
                }
                pending.clear();
                wanted = (wanted * 2).min(SCAN_CHUNKS_MAX);
            }
        }
        if self.visit_chunks(&pending, first, last, visit)?.is_break() {
            return Ok(());
        }
        if expected_chunk <= chunk_of(last) {
            return Err(StoreError::corrupt(
                Some(Seq(expected_chunk * ENTRIES_PER_CHUNK + 1).max(first)),
                "the log chunk holding this entry is missing",
            ));
        }
        Ok(())
    }

    fn entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        if seq.0 < 1 || seq.0 > self.head.count {
            return Ok(None);
        }
        match self.read_entry(seq)? {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(StoreError::corrupt(
                Some(seq),
                "the entry is missing from its log chunk",
            )),
        }
    }

    fn entries_at(&self, seqs: &[Seq]) -> Result<Vec<Vec<u8>>, StoreError> {
        debug_assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]));
        // The wanted entries of each chunk; each chunk is then read and decoded in parallel.
        let mut chunks: Vec<(u64, &[Seq])> = Vec::new();
        let mut rest = seqs;
        while let Some(&first) = rest.first() {
            if first.0 < 1 || first.0 > self.head.count {
                return Err(crate::storage::missing_entry(first));
            }
            let chunk = chunk_of(first);
            let within = rest.partition_point(|&seq| chunk_of(seq) == chunk);
            chunks.push((chunk, &rest[..within]));
            rest = &rest[within..];
        }
        let read: Vec<Result<Vec<Vec<u8>>, StoreError>> = chunks
            .par_iter()
            .map(|&(chunk, wanted)| {
                let value = self
                    .db
                    .get(chunk_key(chunk))
                    .map_err(|e| self.error(e))?
                    .ok_or_else(|| {
                        StoreError::corrupt(
                            Some(wanted[0]),
                            "the log chunk holding this entry is missing",
                        )
                    })?;
                crate::watch::tick();
                let blocks = chunk::split_blocks(&value).map_err(|e| chunk_corrupt(chunk, e))?;
                let mut entries = Vec::with_capacity(wanted.len());
                let mut decoded = chunk::Entries::new();
                let mut decoded_block = None;
                for &seq in wanted {
                    let position = (seq.0 - 1 - chunk * ENTRIES_PER_CHUNK) as usize;
                    let block = position / ENTRIES_PER_BLOCK;
                    if decoded_block != Some(block) {
                        let compressed = blocks.get(block).ok_or_else(|| {
                            StoreError::corrupt(
                                Some(seq),
                                "the entry is missing from its log chunk",
                            )
                        })?;
                        let last = block + 1 == blocks.len();
                        decoded.clear();
                        chunk::decode_block_into(compressed, block, last, &mut decoded)
                            .map_err(|e| chunk_corrupt(chunk, e))?;
                        decoded_block = Some(block);
                    }
                    let entry = decoded.get(position % ENTRIES_PER_BLOCK).ok_or_else(|| {
                        StoreError::corrupt(Some(seq), "the entry is missing from its log chunk")
                    })?;
                    entries.push(entry.to_vec());
                }
                Ok(entries)
            })
            .collect();
        let mut entries = Vec::with_capacity(seqs.len());
        for chunk_entries in read {
            entries.extend(chunk_entries?);
        }
        Ok(entries)
    }

    fn index_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.db.get(index_key(key)).map_err(|e| self.error(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        let mut iter = self.db.scan_prefix(index_key(prefix));
        loop {
            let item = if reverse {
                iter.next_back()
            } else {
                iter.next()
            };
            let Some(item) = item else { return Ok(()) };
            let (key, value) = item.map_err(|e| self.error(e))?;
            if visit(&key[1..], &value).is_break() {
                return Ok(());
            }
        }
    }

    fn index_scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        let prefix = index_key(prefix);
        let from = index_key(from);
        let mut iter = if reverse {
            if from < prefix {
                return Ok(());
            }
            let upper = match prefix_end(&prefix) {
                _ if from.starts_with(&prefix) => Bound::Included(from),
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            };
            self.db.range((Bound::Included(prefix.clone()), upper))
        } else {
            self.db.range(from.max(prefix.clone())..)
        };
        loop {
            let item = if reverse {
                iter.next_back()
            } else {
                iter.next()
            };
            let Some(item) = item else { return Ok(()) };
            let (key, value) = item.map_err(|e| self.error(e))?;
            if !key.starts_with(&prefix) || visit(&key[1..], &value).is_break() {
                return Ok(());
            }
        }
    }

    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        head: Head,
        index: Option<&[IndexOp]>,
    ) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        assert_commit_follows(
            self.head,
            self.indexed_through,
            self.tree_size,
            head,
            entries,
        );
        assert_eq!(self.staged, 0, "commit with entries staged");
        match index {
            Some(index) => {
                let mut tree = TreeAppender::open(&*self)?;
                let mut batch = sled::Batch::default();
                for (chunk, value) in self.chunks_for(self.head.count, entries)? {
                    batch.insert(&chunk_key(chunk), value);
                }
                self.add_tile_hashes(&mut batch, &tree.push(entries))?;
                add_index_ops(&mut batch, index);
                batch.insert(META_HEAD, head.to_bytes().as_slice());
                batch.insert(META_INDEXED, head.count.to_be_bytes().as_slice());
                batch.insert(META_TREE, head.count.to_be_bytes().as_slice());
                self.db.apply_batch(batch).map_err(|e| self.error(e))?;
                self.flush()?;
                self.indexed_through = head.count;
            }
            None => {
                self.stage(entries)?;
                return self.commit_staged(head);
            }
        }
        self.head = head;
        self.tree_size = head.count;
        Ok(())
    }

    /// Applies the changes one by one, then moves the mark and flushes.
    ///
    /// A crash part-way leaves the mark behind and some of the changes applied; the ledger
    /// then computes the same batch again from the log, over an index that holds some of the
    /// batch's blocks already, and applies it again. That is harmless because each change is
    /// a whole block computed so that starting from the block the batch already wrote gives
    /// that same block (`index_batch` has the details): a claim record *sets* revision `n`
    /// rather than appending it; a key, or a posting-list member, already present is not added
    /// twice; a member already removed is not looked for again. Claim ids increase in log
    /// order (the ledger makes them so, and indexing refuses a log where they do not), so no
    /// stored record ever moves between blocks, and that holds whichever subset of the changes
    /// survived, as long as what survives is a prefix of the writes. sled gives that: its log is
    /// recovered in order, stopping at the first torn write, and one thread's inserts are
    /// logged in the order they are made (sled's `pagecache/segment.rs` and
    /// `doc/testing_strategies`).
    ///
    /// Separate inserts rather than one atomic sled batch, measured on imports of 200,000 and
    /// a million claims: the batch took 0.05–0.2 s longer, 70 MB more memory, and left the
    /// store about 45% larger on disk (320 MB against 220 MB at 200,000 claims).
    fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        assert_stage_follows(self.head, self.indexed_through, self.tree_size, entries);
        let mut tree = match self.stage_tree.take() {
            Some(tree) => tree,
            None => TreeAppender::open(&*self)?,
        };
        let written = self.write_past_head(self.head.count + self.staged, entries, &mut tree);
        self.stage_tree = Some(tree);
        written?;
        self.staged += entries.len() as u64;
        Ok(())
    }

    fn staged_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        if seq.0 <= self.head.count || seq.0 > self.head.count + self.staged {
            return Ok(None);
        }
        self.read_entry(seq)
    }

    fn commit_staged(&mut self, head: Head) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        assert_eq!(
            head.count,
            self.head.count + self.staged,
            "the new head counts the staged entries"
        );
        self.flush()?;
        let mut batch = sled::Batch::default();
        batch.insert(META_HEAD, head.to_bytes().as_slice());
        batch.insert(META_TREE, head.count.to_be_bytes().as_slice());
        self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        self.flush()?;
        self.staged = 0;
        self.stage_tree = None;
        self.head = head;
        self.tree_size = head.count;
        Ok(())
    }

    fn discard_staged(&mut self) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        self.staged = 0;
        self.stage_tree = None;
        self.remove_uncommitted()
    }

    fn tree_size(&self) -> Result<u64, StoreError> {
        Ok(self.tree_size)
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(computed) = &self.computed_tiles {
            let tiles = match computed.get() {
                Some(tiles) => tiles,
                None => {
                    let tiles = crate::tree::tiles_of_log(self)?;
                    computed.get_or_init(|| tiles)
                }
            };
            return Ok(tiles.get(&(level, index)).cloned());
        }
        let key = tile_key(level, index);
        let Some(data) = self.db.get(key).map_err(|e| self.error(e))? else {
            return Ok(None);
        };
        check_tile(level, index, &data)?;
        Ok(Some(data.to_vec()))
    }

    fn stores_tree(&self) -> bool {
        self.computed_tiles.is_none()
    }

    fn apply_tree(&mut self, hashes: &[TileHash], through: u64) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        assert!(through <= self.head.count, "the tree cannot pass the head");
        assert!(
            self.computed_tiles.is_none(),
            "a ledger opened to read is not written"
        );
        let mut batch = sled::Batch::default();
        self.add_tile_hashes(&mut batch, hashes)?;
        let finished = self.upgrading && through == self.head.count;
        if finished {
            finish_upgrade(&mut batch, through);
        } else if self.upgrading {
            batch.insert(META_UPGRADE, through.to_be_bytes().as_slice());
        } else {
            batch.insert(META_TREE, through.to_be_bytes().as_slice());
        }
        self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        self.flush()?;
        self.tree_size = through;
        self.upgrading &= !finished;
        Ok(())
    }

    fn origin(&self) -> Result<String, StoreError> {
        Ok(self.origin.clone())
    }

    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError> {
        assert!(!self.shared_read, "a shared read handle never writes");
        assert!(through <= self.head.count, "the index cannot pass the head");
        for op in index {
            match op {
                IndexOp::Put(key, value) => {
                    self.db.insert(index_key(key), value.as_slice()).map(drop)
                }
                IndexOp::Delete(key) => self.db.remove(index_key(key)).map(drop),
            }
            .map_err(|e| self.error(e))?;
        }
        self.db
            .insert(META_INDEXED, through.to_be_bytes().as_slice())
            .map_err(|e| self.error(e))?;
        self.flush()?;
        self.indexed_through = through;
        Ok(())
    }
}

/// The writes that end an upgrade from store format 3: the tree mark, format 4.
fn finish_upgrade(batch: &mut sled::Batch, tree_size: u64) {
    batch.remove(META_UPGRADE);
    batch.insert(META_TREE, tree_size.to_be_bytes().as_slice());
    batch.insert(META_FORMAT, STORE_FORMAT.to_be_bytes().as_slice());
}

/// A tile holds whole hashes, at most 256 of them.
fn check_tile(level: u8, index: u64, data: &[u8]) -> Result<(), StoreError> {
    if data.len().is_multiple_of(HASH_SIZE) && data.len() <= TILE_LEN_MAX && !data.is_empty() {
        return Ok(());
    }
    Err(StoreError::corrupt(
        None,
        format!(
            "the Merkle tree tile (level {level}, index {index}) is {} bytes, not a multiple of \
             {HASH_SIZE} from {HASH_SIZE} to {TILE_LEN_MAX}",
            data.len(),
        ),
    ))
}

impl SledStorage {
    /// Adds tree hashes to a batch, each into its tile: appended after the hashes the tile
    /// holds, or written over itself (and whatever follows it, which an interrupted write left
    /// there) when stored again. Hashes come in the order appends complete them, so each tile
    /// grows at its end.
    fn add_tile_hashes(
        &self,
        batch: &mut sled::Batch,
        hashes: &[TileHash],
    ) -> Result<(), StoreError> {
        let mut tiles: BTreeMap<(u8, u64), Vec<u8>> = BTreeMap::new();
        for hash in hashes {
            let (index, offset) = hash.tile();
            let data = match tiles.entry((hash.level, index)) {
                std::collections::btree_map::Entry::Occupied(data) => data.into_mut(),
                std::collections::btree_map::Entry::Vacant(vacant) => {
                    let stored = self
                        .db
                        .get(tile_key(hash.level, index))
                        .map_err(|e| self.error(e))?;
                    let mut data = Vec::with_capacity(TILE_LEN_MAX);
                    if let Some(stored) = stored {
                        check_tile(hash.level, index, &stored)?;
                        data.extend_from_slice(&stored);
                    }
                    vacant.insert(data)
                }
            };
            if data.len() < offset {
                return Err(StoreError::corrupt(
                    None,
                    format!(
                        "the Merkle tree tile (level {}, index {index}) holds {} hashes; hash {} \
                         cannot follow them",
                        hash.level,
                        data.len() / HASH_SIZE,
                        offset / HASH_SIZE
                    ),
                ));
            }
            data.truncate(offset);
            data.extend_from_slice(&hash.hash.0);
        }
        for ((level, index), data) in tiles {
            batch.insert(&tile_key(level, index), data);
        }
        Ok(())
    }
}

fn add_index_ops(batch: &mut sled::Batch, index: &[IndexOp]) {
    for op in index {
        match op {
            IndexOp::Put(key, value) => batch.insert(index_key(key), value.as_slice()),
            IndexOp::Delete(key) => batch.remove(index_key(key)),
        }
    }
}

impl SledStorage {
    /// The sled database itself, for [`crate::forge`] only.
    pub(crate) fn raw_db(&self) -> &sled::Db {
        &self.db
    }

    /// Replaces the stored bytes of a committed entry, leaving the head and index alone: what
    /// an attacker with write access, or a failing disk, could do. For [`crate::forge`] only.
    pub(crate) fn overwrite_entry(&mut self, seq: Seq, bytes: &[u8]) -> Result<(), StoreError> {
        assert!(
            seq.0 >= 1 && seq.0 <= self.head.count,
            "only committed entries can be overwritten"
        );
        let chunk = chunk_of(seq);
        let value = self
            .db
            .get(chunk_key(chunk))
            .map_err(|e| self.error(e))?
            .ok_or_else(|| StoreError::corrupt(Some(seq), "log chunk missing"))?;
        let mut entries = chunk::decode_chunk(&value).map_err(|e| chunk_corrupt(chunk, e))?;
        let position = (seq.0 - 1 - chunk * ENTRIES_PER_CHUNK) as usize;
        entries[position] = bytes.to_vec();
        let rewritten = chunk::encode_chunk(&entries);
        self.db
            .insert(chunk_key(chunk), rewritten)
            .map_err(|e| self.error(e))?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;
    use crate::ledger::{StreamError, SubmitError, Submitted};
    use crate::ledger_tests::{check, run, Model, Op};
    use crate::MemoryStorage;
    use claimledger_core::merkle::TILE_WIDTH;
    use std::ops::ControlFlow;

    fn pairs(
        storage: &impl Storage,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        storage
            .index_scan_from(prefix, from, reverse, &mut |key, _| {
                keys.push(key.to_vec());
                if keys.len() == limit {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .expect("scan");
        keys
    }

    #[test]
    fn seeks_agree_with_memory_and_a_plain_filter() {
        let keys: Vec<Vec<u8>> = [
            &b"a"[..],
            b"ab",
            b"ab\x00\x00\x00\x00\x01",
            b"ab\x00\x00\x00\x00\x07",
            b"ab/c\x00\x00\x00\x00\x00",
            b"abc\x00\x00\x00\x00\x00",
            b"c\x01",
            b"c\x05",
            b"c\x09",
            b"k\x00\x00",
            b"k\xff\xff",
        ]
        .iter()
        .map(|k| k.to_vec())
        .collect();
        let ops: Vec<IndexOp> = keys
            .iter()
            .map(|k| IndexOp::Put(k.clone(), vec![1]))
            .collect();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut sled = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
        sled.apply_index(&ops, 0).expect("apply");
        let mut memory = MemoryStorage::new();
        memory.apply_index(&ops, 0).expect("apply");
        let queries: [(&[u8], &[u8]); 10] = [
            (b"c", b"c\x05"),
            (b"c", b"c\x06"),
            (b"c", b"c\x00"),
            (b"c", b"c\xff"),
            (b"ab\x00", b"ab\x00\xff\xff\xff\xff"),
            (b"ab\x00", b"ab\x00\x00\x00\x00\x03"),
            (b"ab", b"ab/"),
            (b"", b"k"),
            (b"k", b"a"),
            (b"a", b"z"),
        ];
        for (prefix, from) in queries {
            for reverse in [false, true] {
                for limit in [1, 100] {
                    let expected: Vec<Vec<u8>> = {
                        let mut matching: Vec<Vec<u8>> = keys
                            .iter()
                            .filter(|k| k.starts_with(prefix))
                            .filter(|k| {
                                if reverse {
                                    &k[..] <= from
                                } else {
                                    &k[..] >= from
                                }
                            })
                            .cloned()
                            .collect();
                        if reverse {
                            matching.reverse();
                        }
                        matching.truncate(limit);
                        matching
                    };
                    let what = format!("{prefix:?} {from:?} {reverse} {limit}");
                    assert_eq!(
                        pairs(&sled, prefix, from, reverse, limit),
                        expected,
                        "{what}"
                    );
                    assert_eq!(
                        pairs(&memory, prefix, from, reverse, limit),
                        expected,
                        "{what}"
                    );
                }
            }
        }
    }

    fn batches() -> Vec<Vec<Op>> {
        let record = |subject| Op::Record {
            keyed: true,
            subject,
            claimant: 0,
            tags: 3,
        };
        let revise = |target, subject| Op::Revise {
            target,
            subject: Some(subject),
            claimant: Some(1),
            tags: Some(2),
            status: Some(1),
        };
        vec![
            vec![record(0), record(1)],
            vec![Op::Bulk {
                count: 290,
                subject: 2,
            }],
            vec![revise(0, 4), record(3), revise(100, 0)],
            vec![
                Op::Bulk {
                    count: 140,
                    subject: 2,
                },
                revise(5, 1),
                revise(291, 3),
            ],
            vec![revise(1, 2)],
        ]
    }

    #[test]
    fn a_ledger_on_sled_answers_as_the_model_does() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
        let mut ledger = Ledger::open_with(storage, 4, 100).expect("open");
        let mut model = Model::default();
        run(&mut ledger, &mut model, &batches());
        drop(ledger);
        let ledger = Ledger::open(SledStorage::open(dir.path(), DEFAULT_WAIT).expect("reopen"))
            .expect("open");
        check(&ledger, &model);
    }

    /// Formats 1 and 2 kept the log uncompressed: they are refused by name, not misread.
    #[test]
    fn an_older_format_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
        storage
            .db
            .insert(META_FORMAT, 2u32.to_be_bytes().as_slice())
            .expect("write");
        storage.flush().expect("flush");
        drop(storage);
        let error = SledStorage::open(dir.path(), DEFAULT_WAIT).expect_err("refused");
        assert!(
            matches!(
                error,
                StoreError::OlderFormat {
                    found: 2,
                    supported: 4,
                    ..
                }
            ),
            "{error}"
        );
    }

    fn records(
        from: usize,
        count: usize,
        statement: &str,
    ) -> Vec<claimledger_core::input::Command> {
        (from..from + count)
            .map(|i| {
                claimledger_core::input::parse_command(&format!(
                    r#"{{"key":"k{i}","subject":"s","claimant":"c","statement":"{statement}{i}"}}"#
                ))
                .expect("a record")
            })
            .collect()
    }

    fn revise(claim: &str, statement: &str) -> claimledger_core::input::Command {
        claimledger_core::input::parse_command(&format!(
            r#"{{"op":"revise","claim":"{claim}","reason":"r","statement":"{statement}"}}"#
        ))
        .expect("a revise")
    }

    /// A streamed submission past the large-commit threshold: later batches revise claims
    /// recorded in earlier ones (read back from what was staged); the result is what one
    /// plain submission of the same commands gives, byte for byte. A refused command or an
    /// input error in the last batch leaves the ledger exactly as it was.
    #[test]
    fn a_streamed_submission_equals_a_plain_one_or_writes_nothing() {
        let context = crate::ledger_tests::context();
        let mut batches: Vec<Vec<claimledger_core::input::Command>> =
            (0..6).map(|b| records(b * 50, 50, "first")).collect();
        batches.push(
            (0..300)
                .step_by(7)
                .map(|i| revise(&format!("k{i}"), "second"))
                .collect(),
        );
        batches.push(
            (0..300)
                .step_by(21)
                .map(|i| revise(&format!("k{i}"), "third"))
                .collect(),
        );
        let all: Vec<_> = batches.concat();

        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut streamed =
            Ledger::open(SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create"))
                .expect("open");
        streamed.set_large_commit_threshold(60);
        streamed
            .submit(&records(1000, 3, "before"), &context)
            .expect("submit");
        let before = streamed.head();
        let bad_reject: Vec<_> = batches
            .iter()
            .cloned()
            .chain([vec![revise("k-nowhere", "x")]])
            .collect();
        let mut source = bad_reject.into_iter().map(Ok::<_, ()>);
        match streamed.submit_stream(&mut source, &context) {
            Err(StreamError::Submit(SubmitError::Rejected { command, .. })) => {
                assert_eq!(command, all.len(), "the last command is refused")
            }
            other => panic!("refused, not {other:?}"),
        }
        let mut source = batches.iter().cloned().map(Ok).chain([Err("bad line")]);
        assert!(matches!(
            streamed.submit_stream(&mut source, &context),
            Err(StreamError::Input("bad line"))
        ));
        assert_eq!(streamed.head(), before);
        let reopened = SledStorage::open(dir.path(), DEFAULT_WAIT);
        assert!(
            matches!(reopened, Err(StoreError::Busy { .. })),
            "the ledger is still held"
        );

        let mut source = batches.iter().cloned().map(Ok::<_, ()>);
        let submitted = streamed
            .submit_stream(&mut source, &context)
            .expect("stream");
        assert_eq!(
            submitted,
            Submitted {
                entries: all.len() as u64,
                recorded: 300
            }
        );

        let mut plain = Ledger::open(MemoryStorage::new()).expect("open");
        plain
            .submit(&records(1000, 3, "before"), &context)
            .expect("submit");
        plain.submit(&all, &context).expect("submit");
        assert_eq!(streamed.head(), plain.head());
        assert_eq!(streamed.verify(&mut |_| {}).expect("verify").problem, None);
        assert_eq!(
            streamed.tree_root(streamed.head().count).expect("root"),
            plain.tree_root(plain.head().count).expect("root")
        );
        let id = streamed
            .resolve("k42")
            .expect("resolve")
            .expect("k42 is there");
        let history = streamed.history(id).expect("history");
        assert_eq!(history.len(), 3, "recorded, revised by key twice");
    }

    /// Every stored tile hash, as (tile level, index within its tree level).
    fn tile_hashes(storage: &SledStorage) -> Vec<(u8, u64)> {
        let mut hashes = Vec::new();
        for item in storage.db.scan_prefix([TREE_PREFIX]) {
            let (key, tile) = item.expect("a key");
            let first = u64::from_be_bytes(key[2..].try_into().expect("10-byte keys")) * TILE_WIDTH;
            assert_eq!(tile.len() % HASH_SIZE, 0);
            for i in 0..(tile.len() / HASH_SIZE) as u64 {
                hashes.push((key[1], first + i));
            }
        }
        hashes
    }

    /// A large commit that dies after writing its chunks and tile hashes, before the head
    /// moves, leaves the ledger as it was; the next open removes what it wrote, and the next
    /// commit writes its own hashes, not the dead one's.
    #[test]
    fn a_large_commit_interrupted_before_the_head_leaves_no_trace() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
        let mut ledger = Ledger::open(storage).expect("open");
        ledger
            .submit(&records(0, 200, "x"), &crate::ledger_tests::context())
            .expect("submit");
        let checkpoint = ledger.checkpoint().expect("checkpoint");
        let hashes_before = tile_hashes(ledger.storage());
        assert_eq!(hashes_before.len(), 200, "the leaves; no level-8 hash yet");

        // What a crashed large commit leaves: the first stage written, the head not moved.
        let mut other = Ledger::open(MemoryStorage::new()).expect("open");
        other
            .submit(&records(0, 200, "x"), &crate::ledger_tests::context())
            .expect("submit");
        other
            .submit(&records(200, 300, "dead"), &crate::ledger_tests::context())
            .expect("submit");
        let mut dead = Vec::new();
        other
            .scan_entries(Seq(201), &mut |_, bytes| {
                dead.push(bytes.to_vec());
                std::ops::ControlFlow::Continue(())
            })
            .expect("scan");
        let storage = ledger.into_storage();
        let mut tree = TreeAppender::open(&storage).expect("frontier");
        storage
            .write_past_head(200, &dead, &mut tree)
            .expect("write");
        storage.flush().expect("flush");
        assert_eq!(
            tile_hashes(&storage).len(),
            500 + 1,
            "500 leaves and one level-8 hash"
        );
        let log_keys = storage.db.scan_prefix([LOG_PREFIX]).count();
        assert!(log_keys > 2);
        drop(storage);

        // Opened to read, it reads as before and removes nothing past the head.
        let storage = SledStorage::open_read(dir.path(), DEFAULT_WAIT).expect("open to read");
        assert_eq!(storage.db.scan_prefix([LOG_PREFIX]).count(), log_keys);
        let read = Ledger::open(storage).expect("open");
        assert_eq!(read.checkpoint().expect("checkpoint"), checkpoint);
        assert_eq!(read.verify(&mut |_| {}).expect("verify").problem, None);
        drop(read);

        // Opened to write, the interrupted write is gone.
        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("reopen");
        assert_eq!(tile_hashes(&storage), hashes_before);
        assert_eq!(storage.db.scan_prefix([LOG_PREFIX]).count(), 2);
        let mut ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
        ledger
            .submit(&records(200, 300, "live"), &crate::ledger_tests::context())
            .expect("submit");
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
        assert_ne!(
            ledger.tree_root(500).expect("root"),
            other.tree_root(500).expect("root")
        );
    }

    /// Every stored pair, read with sled alone (a damaged ledger does not open).
    fn raw(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
        let db = open_db(&dir.join("db"), DEFAULT_WAIT).expect("open");
        db.iter()
            .map(|item| {
                let (k, v) = item.expect("a pair");
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    /// A ledger of `count` entries, then rewritten as store format 3 kept it: the same log,
    /// index, head and origin, and in place of the tiles the old tree (BLAKE3 nodes of every
    /// level, in blocks under `T` level:u8 block:u64, whose contents this build never reads).
    /// Gives the checkpoint the ledger had as format 4.
    fn format_3_ledger(dir: &Path, count: usize) -> claimledger_core::checkpoint::Checkpoint {
        let storage =
            SledStorage::create_with_origin(dir, DEFAULT_WAIT, "example.org/old").expect("create");
        let mut ledger = Ledger::open(storage).expect("open");
        ledger
            .submit(&records(0, count, "x"), &crate::ledger_tests::context())
            .expect("submit");
        let checkpoint = ledger.checkpoint().expect("checkpoint");
        let storage = ledger.into_storage();
        let mut batch = sled::Batch::default();
        for item in storage.db.scan_prefix([TREE_PREFIX]) {
            batch.remove(item.expect("a key").0);
        }
        for level in 0..10u8 {
            let nodes = (count as u64 >> level).min(TILE_WIDTH) as usize;
            if nodes > 0 {
                batch.insert(&tile_key(level, 0), vec![level; nodes * HASH_SIZE]);
            }
        }
        batch.insert(META_FORMAT, 3u32.to_be_bytes().as_slice());
        storage.db.apply_batch(batch).expect("write");
        storage.flush().expect("flush");
        checkpoint
    }

    /// Opened to read, a format 3 ledger is left byte for byte as it was, and gives the
    /// checkpoint and proofs of the standard tree, computed from its log. Opened to write, its
    /// tree is rebuilt as tiles, once: its entries, head, index and origin stay, and it is
    /// format 4 from then on.
    #[test]
    fn a_format_3_ledger_is_read_as_it_is_and_upgraded_when_written() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let checkpoint = format_3_ledger(dir.path(), 300);
        let before = raw(dir.path());

        let storage = SledStorage::open_read(dir.path(), DEFAULT_WAIT).expect("open to read");
        assert!(storage.tree_computed_in_memory());
        assert_eq!(storage.upgrade_pending(), None);
        let ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
        assert_eq!(
            ledger.read_tile(0, 1, 44).expect("tile").len(),
            44 * HASH_SIZE
        );
        drop(ledger);
        assert_eq!(raw(dir.path()), before, "reading wrote nothing");

        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("open to write");
        assert_eq!(storage.upgrade_pending(), Some(300));
        let ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
        assert!(ledger.storage().stores_tree());
        assert_eq!(tile_hashes(ledger.storage()).len(), 300 + 1);
        drop(ledger);
        let after = raw(dir.path());
        let meta = |pairs: &[(Vec<u8>, Vec<u8>)], key: &[u8]| {
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        assert_eq!(meta(&after, META_FORMAT), Some(4u32.to_be_bytes().to_vec()));
        assert_eq!(meta(&after, META_TREE), Some(300u64.to_be_bytes().to_vec()));
        assert_eq!(meta(&after, META_UPGRADE), None);
        let not_tree = |pairs: &[(Vec<u8>, Vec<u8>)]| -> Vec<(Vec<u8>, Vec<u8>)> {
            pairs
                .iter()
                .filter(|(k, _)| k[0] != TREE_PREFIX && k != META_FORMAT && k != META_TREE)
                .cloned()
                .collect()
        };
        assert_eq!(
            not_tree(&after),
            not_tree(&before),
            "log, head, index, origin kept"
        );

        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("reopen");
        assert_eq!(storage.upgrade_pending(), None, "upgraded once");
    }

    /// An upgrade interrupted after some of its batches goes on from where it stopped.
    #[test]
    fn an_interrupted_upgrade_goes_on() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let checkpoint = format_3_ledger(dir.path(), 700);
        let mut storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("open to write");
        let mut entries = Vec::new();
        storage
            .scan_entries(Seq::FIRST, &mut |_, bytes| {
                entries.push(bytes.to_vec());
                ControlFlow::Continue(())
            })
            .expect("scan");
        let mut tree = TreeAppender::new();
        storage
            .apply_tree(&tree.push(&entries[..300]), 300)
            .expect("a first batch");
        drop(storage); // killed here

        let storage = SledStorage::open_read(dir.path(), DEFAULT_WAIT).expect("open to read");
        let ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
        drop(ledger);
        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("open to write");
        assert_eq!(storage.tree_size().expect("size"), 300);
        assert_eq!(storage.upgrade_pending(), Some(700));
        let ledger = Ledger::open(storage).expect("open");
        assert_eq!(ledger.checkpoint().expect("checkpoint"), checkpoint);
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
    }

    /// An empty format 3 ledger is upgraded on open.
    #[test]
    fn an_empty_format_3_ledger_is_upgraded() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        format_3_ledger(dir.path(), 0);
        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("open to write");
        assert_eq!(storage.upgrade_pending(), None);
        drop(storage);
        let pairs = raw(dir.path());
        assert!(pairs.contains(&(META_FORMAT.to_vec(), 4u32.to_be_bytes().to_vec())));
    }

    /// A ledger whose origin, tree mark, head or index mark is missing is damaged: it is
    /// refused, opened to read or to write, and nothing is written to it (no new identity).
    #[test]
    fn a_missing_mark_is_corruption_never_repaired() {
        for (key, expected) in [
            (
                META_ORIGIN,
                "storage corrupted: the origin record is missing",
            ),
            (META_TREE, "storage corrupted: the tree mark is missing"),
            (META_INDEXED, "storage corrupted: the index mark is missing"),
            (META_HEAD, "storage corrupted: the head record is missing"),
        ] {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let storage = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
            let mut ledger = Ledger::open(storage).expect("open");
            ledger
                .submit(&records(0, 5, "x"), &crate::ledger_tests::context())
                .expect("submit");
            let storage = ledger.into_storage();
            storage.db.remove(key).expect("remove");
            storage.flush().expect("flush");
            drop(storage);
            let before = raw(dir.path());
            for to_write in [false, true] {
                let error =
                    SledStorage::open_as(dir.path(), DEFAULT_WAIT, to_write).expect_err("damaged");
                assert_eq!(error.to_string(), expected);
                assert_eq!(raw(dir.path()), before);
            }
        }
    }

    #[test]
    fn default_origins() {
        for (dir, name) in [
            ("/home/ana/war-counts/.claims", "war-counts"),
            ("/home/ana/ledger one", "ledger-one"),
            ("/tmp/a+b", "a-b"),
            ("/.claims", "claims"),
            ("/", "ledger"),
        ] {
            let origin = default_origin(Path::new(dir));
            let prefix = format!("claimledger/{name}/");
            assert!(origin.starts_with(&prefix), "{dir}: {origin}");
            assert_eq!(origin.len(), prefix.len() + 8, "{origin}");
            assert_eq!(checkpoint::validate_origin(&origin), Ok(()));
        }
        assert_ne!(
            default_origin(Path::new("x")),
            default_origin(Path::new("x"))
        );
    }
}
