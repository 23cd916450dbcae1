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
