//! Reading a ledger the user may not write: a ledger owned by someone else, or on a read-only
//! mount.
//!
//! sled 0.34 cannot open a database read-only: it takes an exclusive lock on its own file and
//! writes when it opens, so neither it nor the ledger's lock file can be opened by such a user.
//! Instead, the database is copied, under a shared lock on the ledger's lock file (which
//! excludes writers, so the copy is of one consistent moment, and admits other readers), into
//! a temporary directory of this user's, and the copy is opened. The original is never opened
//! for writing. The copy costs its size in temporary space and the time to copy it (`std::fs::copy`
//! shares blocks where the file system can, as on btrfs or XFS), so it is bounded: a ledger
//! larger than the limit the caller gives is refused, with `StoreError::CopyTooLarge`. The
//! copy is removed when the storage is dropped.

use crate::lock::LedgerLock;
use crate::{SledStorage, StoreError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The most files a ledger's database directory may hold to be copied; sled writes a handful.
const COPY_FILES_MAX: usize = 10_000;

/// What reading through a private copy took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateCopy {
    /// Bytes copied.
    pub bytes: u64,
    /// How long the copy took.
    pub elapsed: Duration,
    /// Where the copy is, until the storage is dropped.
    pub dir: PathBuf,
}

/// Whether opening a ledger failed because this user may not write where it is (its
/// directory, lock file or database): then it can still be read through a private copy.
pub fn is_not_writable(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Io { source, .. }
            if matches!(
                source.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            )
    )
}

impl SledStorage {
    /// Opens a private copy of the ledger in `dir` to read it, as [`SledStorage::open_read`]
    /// would open the ledger itself, waiting up to `wait` for a writer to finish. Refuses a
    /// ledger of more than `bytes_max` bytes.
    pub fn open_private_copy(
        dir: &Path,
        wait: Duration,
        bytes_max: u64,
    ) -> Result<(SledStorage, PrivateCopy), StoreError> {
        let db = dir.join("db");
        if !db.is_dir() {
            return Err(StoreError::NotALedger(dir.to_path_buf()));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        let started = Instant::now();
        let lock = LedgerLock::acquire_shared(dir, wait)?;
        let mut files = Vec::new();
        let bytes = list_files(&db, Path::new(""), &mut files)?;
        if bytes > bytes_max {
            return Err(StoreError::CopyTooLarge {
                path: dir.to_path_buf(),
                bytes,
                limit: bytes_max,
            });
        }
        let temporary = tempfile::Builder::new()
            .prefix("claims-read-")
            .tempdir()
            .map_err(io(&std::env::temp_dir()))?;
        let copy = temporary.path().join("ledger");
        let copy_db = copy.join("db");
        std::fs::create_dir_all(&copy_db).map_err(io(&copy_db))?;
        for (relative, is_dir) in &files {
            let (from, to) = (db.join(relative), copy_db.join(relative));
            if *is_dir {
                std::fs::create_dir_all(&to).map_err(io(&to))?;
            } else {
                std::fs::copy(&from, &to).map_err(io(&to))?;
                // The copy keeps the original's mode, which may forbid writing: sled opens its
                // files to write, and the copy is this user's alone.
                writable_by_owner(&to).map_err(io(&to))?;
            }
        }
        drop(lock);
        let elapsed = started.elapsed();
        let storage = SledStorage::open_read(&copy, wait)?.owning(temporary);
        Ok((
            storage,
            PrivateCopy {
                bytes,
                elapsed,
                dir: copy,
            },
        ))
    }
}

#[cfg(unix)]
fn writable_by_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn writable_by_owner(path: &Path) -> std::io::Result<()> {
    let mut permissions = std::fs::metadata(path)?.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions)
}

/// Lists the regular files and directories under `root`/`relative` (directories before what
/// they hold), and gives the files' total size. Anything else is refused: a database holds
/// nothing else.
fn list_files(
    root: &Path,
    relative: &Path,
    files: &mut Vec<(PathBuf, bool)>,
) -> Result<u64, StoreError> {
    let here = root.join(relative);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    let mut bytes = 0u64;
    for item in std::fs::read_dir(&here).map_err(io(&here))? {
        let item = item.map_err(io(&here))?;
        let path = relative.join(item.file_name());
        let kind = item.file_type().map_err(io(&item.path()))?;
        if files.len() >= COPY_FILES_MAX {
            return Err(StoreError::corrupt(
                None,
                format!("{} holds more than {COPY_FILES_MAX} files", root.display()),
            ));
        }
        if kind.is_dir() {
            files.push((path.clone(), true));
            bytes = bytes.saturating_add(list_files(root, &path, files)?);
        } else if kind.is_file() {
            let len = item.metadata().map_err(io(&item.path()))?.len();
            bytes = bytes.saturating_add(len);
            files.push((path, false));
        } else {
            return Err(StoreError::corrupt(
                None,
                format!(
                    "{} is neither a file nor a directory, which a ledger's database never holds",
                    item.path().display()
                ),
            ));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ledger, Storage};

    /// A copy reads as the original, leaves the original untouched, and goes when dropped.
    #[test]
    fn a_private_copy_reads_as_the_original_and_goes_away() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ledger_dir = dir.path().join("ledger");
        let mut ledger =
            Ledger::open(SledStorage::create(&ledger_dir, Duration::from_secs(5)).expect("create"))
                .expect("open");
        let command = claimledger_core::input::parse_command(
            r#"{"key":"k","subject":"s","claimant":"C","statement":"S"}"#,
        )
        .expect("a record");
        ledger
            .submit(&[command], &crate::ledger_tests::context())
            .expect("submit");
        let head = ledger.head();
        drop(ledger);
        let before = snapshot(&ledger_dir);

        let (storage, copy) =
            SledStorage::open_private_copy(&ledger_dir, Duration::from_secs(5), 1 << 30)
                .expect("a copy");
        assert!(copy.bytes > 0);
        assert!(copy.dir.starts_with(std::env::temp_dir()));
        assert_eq!(storage.head().expect("head"), head);
        let copied = copy.dir.clone();
        assert!(copied.exists());
        drop(storage);
        assert!(!copied.exists(), "the copy is removed");
        assert_eq!(snapshot(&ledger_dir), before, "the original is untouched");

        assert!(matches!(
            SledStorage::open_private_copy(&ledger_dir, Duration::from_secs(5), 10),
            Err(StoreError::CopyTooLarge { limit: 10, .. })
        ));
        assert!(matches!(
            SledStorage::open_private_copy(dir.path(), Duration::from_secs(5), 1 << 30),
            Err(StoreError::NotALedger(_))
        ));
    }

    /// Every file's name and bytes.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        list_files(dir, Path::new(""), &mut files).expect("list");
        let mut out: Vec<(PathBuf, Vec<u8>)> = files
            .into_iter()
            .filter(|(_, is_dir)| !is_dir)
            .map(|(p, _)| {
                let bytes = std::fs::read(dir.join(&p)).expect("read");
                (p, bytes)
            })
            .collect();
        out.sort();
        out
    }
}
