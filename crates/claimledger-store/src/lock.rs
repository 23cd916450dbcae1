//! One process at a time per ledger, across processes, with a bounded wait.
//!
//! sled refuses a second process outright with a generic error; a lock file of the ledger's
//! own lets a second `claims` wait its turn and then say clearly that the ledger is busy.

use crate::storage::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a waiting process tries the lock again.
const RETRY_INTERVAL: Duration = Duration::from_millis(10);

/// An exclusive lock on a ledger directory, released when dropped (or when the process ends,
/// however it ends: the operating system releases it).
#[derive(Debug)]
pub struct LedgerLock {
    _file: File,
}

impl LedgerLock {
    /// A shared lock on a ledger that this process will only copy: the lock file opened to
    /// read (a user who may not write the ledger can still lock it so), shared with other
    /// readers, excluding writers while it is held. `None` when the ledger has no lock file,
    /// which only a ledger no process has opened lacks.
    pub fn acquire_shared(dir: &Path, wait: Duration) -> Result<Option<LedgerLock>, StoreError> {
        let path: PathBuf = dir.join("lock");
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let started = Instant::now();
        loop {
            match file.try_lock_shared() {
                Ok(()) => return Ok(Some(LedgerLock { _file: file })),
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(RETRY_INTERVAL)
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy {
                        path: dir.to_path_buf(),
                        waited: started.elapsed(),
                    })
                }
                Err(TryLockError::Error(source)) => return Err(StoreError::Io { path, source }),
            }
        }
    }

    pub fn acquire(dir: &Path, wait: Duration) -> Result<LedgerLock, StoreError> {
        let path: PathBuf = dir.join("lock");
        let io_error = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(LedgerLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(RETRY_INTERVAL)
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy {
                        path: dir.to_path_buf(),
                        waited: started.elapsed(),
                    })
                }
                Err(TryLockError::Error(source)) => return Err(io_error(source)),
            }
        }
    }
}
