//! The durable store: one sled tree holding the log in chunks, the index, and the head.
//!
//! Keys (docs/FORMAT.md, "Storage layout"):
//! - `L` chunk:u64be → the entries of sequence numbers chunk·128+1 ..= chunk·128+128, each as
//!   a u32be length and the entry's bytes. Packing entries 128 to a value keeps sled's per-key
//!   cost off the hot path: bulk writes and full scans run several times faster than with one
//!   key per entry.
//! - `M` "format" → u32be store format; `M` "head" → u64be count and 32-byte hash;
//!   `M` "indexed" → u64be, how far the index reflects the log.
//! - `I` key → value: the index of [`crate::index`].
//!
//! The head is the commit point: nothing past it is ever read, and whatever a crash left past
//! it is removed when the ledger is next opened. A small commit is one atomic sled batch
//! (chunks, index, head) followed by a flush; a large one writes its chunks, flushes, then
//! moves the head and flushes again, and the index follows in batches.

use crate::lock::LedgerLock;
use crate::storage::{Head, IndexOp, Storage, StoreError, Visit, VisitIndex};
use claimledger_core::Seq;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a command waits for another process to finish with the ledger, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Entries per log chunk.
pub const ENTRIES_PER_CHUNK: u64 = 128;

/// The store layout version this build writes and reads.
const STORE_FORMAT: u32 = 1;

/// Chunks written per sled batch in a large commit.
const CHUNKS_PER_BATCH: usize = 64;

const META_FORMAT: &[u8] = b"Mformat";
const META_HEAD: &[u8] = b"Mhead";
const META_INDEXED: &[u8] = b"Mindexed";
const LOG_PREFIX: u8 = b'L';
const INDEX_PREFIX: u8 = b'I';

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
        Ok(storage)
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

    /// Applies the changes one by one rather than as one batch: for many small keys, sled's
    /// single inserts are about twice as fast as a batch and use a fraction of the memory. A
    /// crash part-way is harmless: the mark moves only after every change, and reapplying the
    /// whole sequence from the mark gives every key its final value again.
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
