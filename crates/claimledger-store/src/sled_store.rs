//! The durable store: one sled tree holding the log in chunks, the head, and the index.
//!
//! Keys (docs/FORMAT.md, "Storage layout"; integers big-endian):
//! - `L` chunk:u64 → the entries of sequence numbers chunk·128+1 ..= chunk·128+128, each as a
//!   u32 length and the entry's bytes. Packing entries 128 to a value keeps sled's per-key
//!   cost off the hot path: bulk writes and full scans run several times faster than with one
//!   key per entry.
//! - `M` "format" → u32 store format; `M` "head" → u64 count and 32-byte hash; `M` "indexed"
//!   → u64, how far the index reflects the log.
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
//! Store format 2 is this layout. Format 1 kept one index pair per fact under `I`; opening a
//! format 1 store removes that index (the log is the same), and the ledger then rebuilds the
//! index from the log.
//!
//! The head is the commit point: nothing past it is ever read, and whatever a crash left past
//! it is removed when the ledger is next opened. A small commit is one atomic sled batch
//! (chunks, index, head) followed by a flush; a large one writes its chunks, flushes, then
//! moves the head and flushes again, and the index follows in batches
//! ([`Storage::apply_index`]).

use crate::lock::LedgerLock;
use crate::storage::{prefix_end, Head, IndexOp, Storage, StoreError, Visit, VisitIndex};
use claimledger_core::Seq;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a command waits for another process to finish with the ledger, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Entries per log chunk.
pub const ENTRIES_PER_CHUNK: u64 = 128;

/// The store layout version this build writes and reads.
const STORE_FORMAT: u32 = 2;

/// The layout whose index held one key per fact; its log is the same.
const STORE_FORMAT_UNPACKED_INDEX: u32 = 1;

/// Index keys removed per sled batch when dropping an old index.
const REMOVALS_PER_BATCH: usize = 65_536;

/// Chunks written per sled batch in a large commit.
const CHUNKS_PER_BATCH: usize = 64;

const META_FORMAT: &[u8] = b"Mformat";
const META_HEAD: &[u8] = b"Mhead";
const META_INDEXED: &[u8] = b"Mindexed";
const LOG_PREFIX: u8 = b'L';
const INDEX_PREFIX: u8 = b'X';
/// Where format 1 kept its index.
const UNPACKED_INDEX_PREFIX: u8 = b'I';

#[derive(Debug)]
pub struct SledStorage {
    db: sled::Db,
    path: PathBuf,
    head: Head,
    indexed_through: u64,
    _lock: LedgerLock,
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

/// Splits a chunk value into its entries, or says at which position it breaks.
fn split_chunk(value: &[u8]) -> Result<Vec<&[u8]>, (usize, String)> {
    let mut entries = Vec::with_capacity(ENTRIES_PER_CHUNK as usize);
    let mut rest = value;
    while !rest.is_empty() {
        let position = entries.len();
        if position as u64 == ENTRIES_PER_CHUNK {
            return Err((
                position,
                format!("the log chunk holds more than {ENTRIES_PER_CHUNK} entries"),
            ));
        }
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err((
                position,
                "the log chunk ends inside an entry's length".into(),
            ));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > tail.len() {
            return Err((
                position,
                format!("the entry's length {len} runs past the end of its log chunk"),
            ));
        }
        entries.push(&tail[..len]);
        rest = &tail[len..];
    }
    Ok(entries)
}

fn push_frame(chunk: &mut Vec<u8>, entry: &[u8]) {
    let len = u32::try_from(entry.len()).expect("entries are far smaller than 4 GiB");
    chunk.extend_from_slice(&len.to_be_bytes());
    chunk.extend_from_slice(entry);
}

impl SledStorage {
    /// Creates a new, empty ledger in `dir` (which may exist, but must not hold a ledger).
    pub fn create(dir: &Path, wait: Duration) -> Result<SledStorage, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = LedgerLock::acquire(dir, wait)?;
        let db_path = dir.join("db");
        if db_path.exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        let db = open_db(&db_path, wait)?;
        let mut batch = sled::Batch::default();
        batch.insert(META_FORMAT, STORE_FORMAT.to_be_bytes().as_slice());
        batch.insert(META_HEAD, Head::EMPTY.to_bytes().as_slice());
        batch.insert(META_INDEXED, 0u64.to_be_bytes().as_slice());
        let storage = SledStorage {
            db,
            path: db_path,
            head: Head::EMPTY,
            indexed_through: 0,
            _lock: lock,
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
        let db_path = dir.join("db");
        if !db_path.is_dir() {
            return Err(StoreError::NotALedger(dir.to_path_buf()));
        }
        let lock = LedgerLock::acquire(dir, wait)?;
        let db = open_db(&db_path, wait)?;
        let mut storage = SledStorage {
            db,
            path: db_path,
            head: Head::EMPTY,
            indexed_through: 0,
            _lock: lock,
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
        storage.head = Head::from_bytes(&storage.meta(META_HEAD)?)
            .ok_or_else(|| StoreError::corrupt(None, "the head record is malformed"))?;
        let indexed = storage.meta(META_INDEXED)?;
        storage.indexed_through = u64::from_be_bytes(
            indexed
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::corrupt(None, "the index mark is malformed"))?,
        );
        if storage.indexed_through > storage.head.count {
            return Err(StoreError::corrupt(None, "the index mark is past the head"));
        }
        storage.remove_uncommitted()?;
        if format == STORE_FORMAT_UNPACKED_INDEX {
            storage.drop_unpacked_index()?;
        }
        Ok(storage)
    }

    /// Upgrades a format 1 store: its index, one key per fact, is removed, and the mark set to
    /// zero so that [`crate::Ledger::open`] rebuilds the packed index from the log. The mark
    /// moves first and the format last, so an interrupted upgrade starts over when the ledger
    /// is next opened (and an older build opening it meanwhile rebuilds its own index).
    fn drop_unpacked_index(&mut self) -> Result<(), StoreError> {
        self.db
            .insert(META_INDEXED, 0u64.to_be_bytes().as_slice())
            .map_err(|e| self.error(e))?;
        self.flush()?;
        self.indexed_through = 0;
        loop {
            let mut batch = sled::Batch::default();
            let mut removed = 0;
            for item in self
                .db
                .scan_prefix([UNPACKED_INDEX_PREFIX])
                .take(REMOVALS_PER_BATCH)
            {
                let (key, _) = item.map_err(|e| self.error(e))?;
                batch.remove(key);
                removed += 1;
            }
            if removed == 0 {
                break;
            }
            self.db.apply_batch(batch).map_err(|e| self.error(e))?;
        }
        self.flush()?;
        self.db
            .insert(META_FORMAT, STORE_FORMAT.to_be_bytes().as_slice())
            .map_err(|e| self.error(e))?;
        self.flush()
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

    /// Removes what an interrupted large commit left past the head.
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
        if let Some(chunk) = last_chunk {
            let keep = (self.head.count - chunk * ENTRIES_PER_CHUNK) as usize;
            if let Some(value) = self.db.get(chunk_key(chunk)).map_err(|e| self.error(e))? {
                if let Ok(entries) = split_chunk(&value) {
                    if entries.len() > keep {
                        let mut trimmed = Vec::new();
                        entries[..keep]
                            .iter()
                            .for_each(|e| push_frame(&mut trimmed, e));
                        batch.insert(&chunk_key(chunk), trimmed);
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

    /// The chunk values that result from appending `entries` after the head.
    fn chunks_for(&self, entries: &[Vec<u8>]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut seq = self.head.next_seq();
        for entry in entries {
            let chunk = chunk_of(seq);
            if chunks.last().is_none_or(|(c, _)| *c != chunk) {
                let mut value = Vec::with_capacity(64 * 1024);
                let committed_in_chunk = (seq.0 - 1 - chunk * ENTRIES_PER_CHUNK) as usize;
                if committed_in_chunk > 0 {
                    let existing = self
                        .db
                        .get(chunk_key(chunk))
                        .map_err(|e| self.error(e))?
                        .ok_or_else(|| {
                            StoreError::corrupt(
                                Some(Seq(self.head.count)),
                                "the log chunk holding the head is missing",
                            )
                        })?;
                    let existing = split_chunk(&existing).map_err(|(i, why)| {
                        StoreError::corrupt(
                            Some(Seq(chunk * ENTRIES_PER_CHUNK + i as u64 + 1)),
                            why,
                        )
                    })?;
                    if existing.len() < committed_in_chunk {
                        return Err(StoreError::corrupt(
                            Some(Seq(self.head.count)),
                            "the log chunk holding the head lacks entries",
                        ));
                    }
                    existing[..committed_in_chunk]
                        .iter()
                        .for_each(|e| push_frame(&mut value, e));
                }
                chunks.push((chunk, value));
            }
            push_frame(
                &mut chunks.last_mut().expect("a chunk was just pushed").1,
                entry,
            );
            seq = seq.next();
        }
        Ok(chunks)
    }
}

/// Opens sled, retrying while a process that just released the ledger lock still has sled's
/// own file lock (sled may finish closing on a background thread).
fn open_db(path: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
    let started = Instant::now();
    loop {
        match sled::Config::new().path(path).open() {
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
            let chunk_first = Seq(chunk * ENTRIES_PER_CHUNK + 1);
            if chunk != expected_chunk {
                return Err(StoreError::corrupt(
                    Some(Seq(expected_chunk * ENTRIES_PER_CHUNK + 1).max(first)),
                    "the log chunk holding this entry is missing",
                ));
            }
            let entries = split_chunk(&value).map_err(|(i, why)| {
                StoreError::corrupt(Some(Seq(chunk_first.0 + i as u64)), why)
            })?;
            let wanted = (last.0 - chunk_first.0 + 1).min(ENTRIES_PER_CHUNK) as usize;
            if entries.len() < wanted {
                return Err(StoreError::corrupt(
                    Some(Seq(chunk_first.0 + entries.len() as u64)),
                    "the entry is missing from its log chunk",
                ));
            }
            for (i, bytes) in entries.iter().enumerate().take(wanted) {
                let seq = Seq(chunk_first.0 + i as u64);
                if seq >= first && visit(seq, bytes).is_break() {
                    return Ok(());
                }
            }
            expected_chunk += 1;
        }
        if expected_chunk <= chunk_of(last) {
            return Err(StoreError::corrupt(
                Some(Seq(expected_chunk * ENTRIES_PER_CHUNK + 1).max(first)),
                "the log chunk holding this entry is missing",
            ));
        }
        Ok(())
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
        assert_eq!(
            self.indexed_through, self.head.count,
            "commit with the index behind the log"
        );
        assert_eq!(
            head.count,
            self.head.count + entries.len() as u64,
            "head count must match the entries"
        );
        let chunks = self.chunks_for(entries)?;
        match index {
            Some(index) => {
                let mut batch = sled::Batch::default();
                for (chunk, value) in chunks {
                    batch.insert(&chunk_key(chunk), value);
                }
                add_index_ops(&mut batch, index);
                batch.insert(META_HEAD, head.to_bytes().as_slice());
                batch.insert(META_INDEXED, head.count.to_be_bytes().as_slice());
                self.db.apply_batch(batch).map_err(|e| self.error(e))?;
                self.flush()?;
                self.indexed_through = head.count;
            }
            None => {
                for group in chunks.chunks(CHUNKS_PER_BATCH) {
                    let mut batch = sled::Batch::default();
                    for (chunk, value) in group {
                        batch.insert(&chunk_key(*chunk), value.as_slice());
                    }
                    self.db.apply_batch(batch).map_err(|e| self.error(e))?;
                }
                self.flush()?;
                self.db
                    .insert(META_HEAD, head.to_bytes().as_slice())
                    .map_err(|e| self.error(e))?;
                self.flush()?;
            }
        }
        self.head = head;
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
    /// twice; a member already removed is not looked for again. When claim ids increase in
    /// log order (as the ledger makes them and `verify` requires), no stored record ever moves
    /// between blocks, and that holds whichever subset of the changes survived. In a log whose
    /// ids do not increase (written before ids were monotonic), a claim can land in the middle
    /// of a full block, which is then cut: the blocks cut from it are written before it
    /// shrinks, so that a crash loses nothing as long as what survives is a prefix of the
    /// writes. sled gives that: its log is recovered in order, stopping at the first torn
    /// write, and one thread's inserts are logged in the order they are made (sled's
    /// `pagecache/segment.rs` and `doc/testing_strategies`).
    ///
    /// Separate inserts rather than one atomic sled batch, measured on imports of 200,000 and
    /// a million claims: the batch took 0.05–0.2 s longer, 70 MB more memory, and left the
    /// store about 45% larger on disk (320 MB against 220 MB at 200,000 claims).
    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError> {
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

fn add_index_ops(batch: &mut sled::Batch, index: &[IndexOp]) {
    for op in index {
        match op {
            IndexOp::Put(key, value) => batch.insert(index_key(key), value.as_slice()),
            IndexOp::Delete(key) => batch.remove(index_key(key)),
        }
    }
}

impl SledStorage {
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
        let entries = split_chunk(&value).map_err(|(i, why)| {
            StoreError::corrupt(Some(Seq(chunk * ENTRIES_PER_CHUNK + i as u64 + 1)), why)
        })?;
        let position = (seq.0 - 1 - chunk * ENTRIES_PER_CHUNK) as usize;
        let mut rewritten = Vec::with_capacity(value.len() + bytes.len());
        for (i, entry) in entries.iter().enumerate() {
            push_frame(&mut rewritten, if i == position { bytes } else { entry });
        }
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
    use crate::ledger_tests::{check, run, Model, Op};
    use crate::MemoryStorage;
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

    #[test]
    fn a_format_1_index_is_dropped_and_rebuilt() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = SledStorage::create(dir.path(), DEFAULT_WAIT).expect("create");
        let mut ledger = Ledger::open(storage).expect("open");
        let mut model = Model::default();
        run(&mut ledger, &mut model, &batches()[..3]);
        let storage = ledger.into_storage();
        let mut batch = sled::Batch::default();
        batch.insert(META_FORMAT, 1u32.to_be_bytes().as_slice());
        for key in [&b"Ir0000"[..], b"Ikmz", b"Isa\x00id"] {
            batch.insert(key, b"old".as_slice());
        }
        storage.db.apply_batch(batch).expect("write");
        storage.flush().expect("flush");
        drop(storage);

        let storage = SledStorage::open(dir.path(), DEFAULT_WAIT).expect("reopen");
        assert_eq!(storage.indexed_through().expect("mark"), 0);
        assert_eq!(storage.db.scan_prefix([UNPACKED_INDEX_PREFIX]).count(), 0);
        let format = storage.meta(META_FORMAT).expect("format");
        assert_eq!(format, STORE_FORMAT.to_be_bytes());
        let ledger = Ledger::open(storage).expect("open");
        check(&ledger, &model);
    }
}
