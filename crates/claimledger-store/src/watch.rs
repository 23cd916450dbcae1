//! Progress of storage work, for a watchdog: sled 0.34 has been seen to spin forever on
//! damaged data, inside its own code, where nothing can interrupt it cooperatively. So the
//! store counts what it gets done, and a program that cannot afford to hang (the `claims`
//! binary) watches the count from another thread: when a storage operation is under way and the
//! count has not moved for a bounded time, it ends the process with a clear error.
//!
//! - [`tick`] records progress: the store ticks at the start and end of every storage
//!   operation and on every entry or index pair a scan reads.
//! - [`busy`] marks a storage operation under way, until the guard is dropped (they nest).
//!   Waiting for the ledger's lock is not storage work and is never marked busy.
//! - [`Watched`] wraps any [`Storage`] so that every call is busy and ticks, and a scan's
//!   visitor (which may block on a slow reader of standard output) is not counted as busy.
//!
//! The counters are process-wide: one process, one ledger.

use crate::storage::{Head, IndexOp, Storage, StoreError, Visit, VisitIndex};
use crate::tree::TileHash;
use claimledger_core::Seq;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static TICKS: AtomicU64 = AtomicU64::new(0);
static BUSY: AtomicI64 = AtomicI64::new(0);

/// Records progress.
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// The progress count so far, and whether a storage operation is under way.
pub fn state() -> (u64, bool) {
    (
        TICKS.load(Ordering::Relaxed),
        BUSY.load(Ordering::Relaxed) > 0,
    )
}

/// Marks storage work under way until dropped.
#[derive(Debug)]
#[must_use = "storage work is marked busy only while the guard lives"]
pub struct Busy(());

/// Marks storage work under way until the guard is dropped.
pub fn busy() -> Busy {
    BUSY.fetch_add(1, Ordering::Relaxed);
    tick();
    Busy(())
}

impl Drop for Busy {
    fn drop(&mut self) {
        tick();
        BUSY.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Suspends the busy mark while the caller's own code runs (a scan's visitor), until dropped.
#[derive(Debug)]
struct Paused(());

fn paused() -> Paused {
    tick();
    BUSY.fetch_sub(1, Ordering::Relaxed);
    Paused(())
}

impl Drop for Paused {
    fn drop(&mut self) {
        BUSY.fetch_add(1, Ordering::Relaxed);
        tick();
    }
}

/// A [`Storage`] whose every operation is marked [`busy`] and ticks, entry by entry in scans.
/// Dropping it (sled flushes and stops its threads) is busy too.
#[derive(Debug)]
pub struct Watched<S> {
    storage: S,
    /// Dropped after `storage`: ends the busy mark [`Watched`]'s `drop` starts.
    _disarm: Disarm,
}

impl<S> Watched<S> {
    pub fn new(storage: S) -> Watched<S> {
        Watched {
            storage,
            _disarm: Disarm(()),
        }
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        BUSY.fetch_add(1, Ordering::Relaxed);
        tick();
    }
}

#[derive(Debug)]
struct Disarm(());

impl Drop for Disarm {
    fn drop(&mut self) {
        tick();
        BUSY.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<S: Storage> Storage for Watched<S> {
    fn head(&self) -> Result<Head, StoreError> {
        let _busy = busy();
        self.storage.head()
    }

    fn indexed_through(&self) -> Result<u64, StoreError> {
        let _busy = busy();
        self.storage.indexed_through()
    }

    fn scan_entries(&self, first: Seq, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.scan_entries(first, &mut |seq, bytes| {
            let _paused = paused();
            visit(seq, bytes)
        })
    }

    fn entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        let _busy = busy();
        self.storage.entry(seq)
    }

    fn entries_at(&self, seqs: &[Seq]) -> Result<Vec<Vec<u8>>, StoreError> {
        let _busy = busy();
        self.storage.entries_at(seqs)
    }

    fn index_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let _busy = busy();
        self.storage.index_get(key)
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.index_scan(prefix, reverse, &mut |key, value| {
            let _paused = paused();
            visit(key, value)
        })
    }

    fn index_scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage
            .index_scan_from(prefix, from, reverse, &mut |key, value| {
                let _paused = paused();
                visit(key, value)
            })
    }

    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        head: Head,
        index: Option<&[IndexOp]>,
    ) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.commit(entries, head, index)
    }

    fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.stage(entries)
    }

    fn staged_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        let _busy = busy();
        self.storage.staged_entry(seq)
    }

    fn commit_staged(&mut self, head: Head) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.commit_staged(head)
    }

    fn discard_staged(&mut self) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.discard_staged()
    }

    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.apply_index(index, through)
    }

    fn tree_size(&self) -> Result<u64, StoreError> {
        let _busy = busy();
        self.storage.tree_size()
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let _busy = busy();
        self.storage.tile(level, index)
    }

    fn stores_tree(&self) -> bool {
        self.storage.stores_tree()
    }

    fn apply_tree(&mut self, hashes: &[TileHash], through: u64) -> Result<(), StoreError> {
        let _busy = busy();
        self.storage.apply_tree(hashes, through)
    }

    fn origin(&self) -> Result<String, StoreError> {
        let _busy = busy();
        self.storage.origin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;
    use std::ops::ControlFlow;

    #[test]
    fn scans_tick_and_visitors_are_not_busy() {
        let storage = Watched::new(MemoryStorage::new());
        let (before, _) = state();
        storage
            .index_scan(b"", false, &mut |_, _| ControlFlow::Continue(()))
            .expect("scan");
        let (after, _) = state();
        assert!(after > before);
        let guard = busy();
        assert!(state().1);
        {
            let _paused = paused();
        }
        assert!(state().1);
        drop(guard);
    }
}
