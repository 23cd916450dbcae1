//! The evidence store: snapshots of sources, as files named by the SHA-256 of their bytes
//! (docs/FORMAT.md, section 5).
//!
//! A snapshot is written before the entry that refers to it commits: streamed into a temporary
//! file in `evidence/tmp/` and hashed on the way (never held whole in memory), fsynced, renamed
//! to `evidence/sha256/<first two hex digits>/<all 64>`, and its directory fsynced. So an
//! acknowledged archive is durable, and a crash leaves at most a file no entry refers to, which
//! is not damage. The files are the bytes and nothing else: the store costs no disk beyond them
//! but the directories.
//!
//! The same code reads a flat directory of snapshots named by their hash alone, as `claims
//! export --evidence DIR` writes them and `claims import --evidence-dir DIR` reads them.

use claimledger_core::input::Command;
use claimledger_core::SnapshotHash;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The buffer snapshots are copied and hashed through.
const COPY_BUFFER_BYTES: usize = 1 << 20;

/// Where snapshots are, and how they are named there.
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    root: PathBuf,
    layout: Layout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// A ledger's own store: `sha256/ab/abcd…` under `<ledger>/evidence`.
    Store,
    /// A directory of files named by their hash alone: `abcd…`.
    Flat,
}

/// A snapshot the log records: where it is first named, and the size it states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRef {
    pub sha256: SnapshotHash,
    pub size: u64,
    /// The entry that first lists it, its claim and the source's index in it.
    pub seq: claimledger_core::Seq,
    pub claim_id: claimledger_core::ClaimId,
    pub source: usize,
}

/// What is wrong with a stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotFault {
    Missing,
    /// The file's length is not the size the log records.
    WrongSize(u64),
    /// The file's bytes do not hash to its name.
    WrongHash(SnapshotHash),
}

impl std::fmt::Display for SnapshotFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotFault::Missing => f.write_str("is missing"),
            SnapshotFault::WrongSize(size) => write!(
                f,
                "is {size} bytes, not the size the ledger records: it was cut short or altered"
            ),
            SnapshotFault::WrongHash(hash) => {
                write!(f, "was altered: its bytes hash to {hash}")
            }
        }
    }
}

/// Why a snapshot could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("it is larger than {limit} bytes, the most a snapshot may be here")]
    TooLarge { limit: u64 },
    #[error("it is empty: a snapshot holds at least one byte")]
    Empty,
    /// Reading the input failed (not the store).
    #[error("{0}")]
    Read(io::Error),
    /// Writing the store failed.
    #[error("I/O error on {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// A snapshot copied into the store's temporary directory and hashed, not yet in place.
#[derive(Debug)]
pub struct Staged {
    file: tempfile::NamedTempFile,
    pub sha256: SnapshotHash,
    pub size: u64,
}

/// A snapshot put in place by [`EvidenceStore::put`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: SnapshotHash,
    pub size: u64,
    /// False when the store held these bytes already.
    pub created: bool,
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> AddError + '_ {
    move |source| AddError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Copies `reader` to `out` while hashing, refusing more than `size_max` bytes (it reads one
/// byte past the limit to know). Returns the hash and the length.
pub fn copy_hashing(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    size_max: u64,
) -> Result<(SnapshotHash, u64), AddError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; COPY_BUFFER_BYTES];
    let mut size: u64 = 0;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AddError::Read(e)),
        };
        size += read as u64;
        if size > size_max {
            return Err(AddError::TooLarge { limit: size_max });
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(|source| AddError::Write {
                path: PathBuf::new(),
                source,
            })?;
    }
    Ok((SnapshotHash(hasher.finalize().into()), size))
}

/// SHA-256 of a file's bytes and its length, read in a stream.
pub fn hash_file(path: &Path) -> io::Result<(SnapshotHash, u64)> {
    let mut file = File::open(path)?;
    match copy_hashing(&mut file, &mut io::sink(), u64::MAX) {
        Ok(found) => Ok(found),
        Err(AddError::Read(e)) => Err(e),
        Err(other) => Err(io::Error::other(other.to_string())),
    }
}

impl EvidenceStore {
    /// The store of the ledger in `ledger_dir`.
    pub fn of_ledger(ledger_dir: &Path) -> EvidenceStore {
        EvidenceStore {
            root: ledger_dir.join("evidence"),
            layout: Layout::Store,
        }
    }

    /// A directory of snapshots named by their hash alone.
    pub fn flat(dir: &Path) -> EvidenceStore {
        EvidenceStore {
            root: dir.to_owned(),
            layout: Layout::Flat,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the snapshot with this hash is, or would be.
    pub fn path_of(&self, sha256: &SnapshotHash) -> PathBuf {
        let hex = sha256.to_hex();
        match self.layout {
            Layout::Store => self.root.join("sha256").join(&hex[..2]).join(hex),
            Layout::Flat => self.root.join(hex),
        }
    }

    /// Whether a file with this hash's name is there (not whether its bytes are right).
    pub fn contains(&self, sha256: &SnapshotHash) -> bool {
        self.path_of(sha256).is_file()
    }

    pub fn open(&self, sha256: &SnapshotHash) -> io::Result<File> {
        File::open(self.path_of(sha256))
    }

    /// Where files are written before they are renamed into place: `tmp/` in a ledger's
    /// store; a flat directory itself, under hidden names.
    fn tmp_dir(&self) -> PathBuf {
        match self.layout {
            Layout::Store => self.root.join("tmp"),
            Layout::Flat => self.root.clone(),
        }
    }

    /// Streams `reader` into a temporary file of the store, hashing it: at most `size_max`
    /// bytes, at least one. Nothing is in place until [`EvidenceStore::put`]; dropping the
    /// result removes the file.
    pub fn stage(&self, reader: &mut dyn Read, size_max: u64) -> Result<Staged, AddError> {
        let tmp = self.tmp_dir();
        fs::create_dir_all(&tmp).map_err(write_error(&tmp))?;
        let mut file = tempfile::Builder::new()
            .prefix(".snapshot-")
            .tempfile_in(&tmp)
            .map_err(write_error(&tmp))?;
        let (sha256, size) = {
            let mut out = io::BufWriter::with_capacity(COPY_BUFFER_BYTES, file.as_file_mut());
            let found = copy_hashing(reader, &mut out, size_max).map_err(|e| match e {
                AddError::Write { source, .. } => AddError::Write {
                    path: tmp.clone(),
                    source,
                },
                other => other,
            })?;
            out.flush().map_err(write_error(&tmp))?;
            found
        };
        if size == 0 {
            return Err(AddError::Empty);
        }
        Ok(Staged { file, sha256, size })
    }

    /// [`EvidenceStore::stage`] for bytes that `write` produces (a WARC file being assembled).
    /// `write`'s own errors are reading errors ([`AddError::Read`]).
    pub fn stage_written(
        &self,
        size_max: u64,
        write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> Result<Staged, AddError> {
        let tmp = self.tmp_dir();
        fs::create_dir_all(&tmp).map_err(write_error(&tmp))?;
        let mut file = tempfile::Builder::new()
            .prefix(".snapshot-")
            .tempfile_in(&tmp)
            .map_err(write_error(&tmp))?;
        let (sha256, size) = {
            let mut out = HashingWriter {
                inner: io::BufWriter::with_capacity(COPY_BUFFER_BYTES, file.as_file_mut()),
                hasher: Sha256::new(),
                size: 0,
                size_max,
            };
            write(&mut out).map_err(|e| match e.kind() {
                io::ErrorKind::FileTooLarge => AddError::TooLarge { limit: size_max },
                _ => AddError::Read(e),
            })?;
            out.inner.flush().map_err(write_error(&tmp))?;
            (SnapshotHash(out.hasher.finalize().into()), out.size)
        };
        if size == 0 {
            return Err(AddError::Empty);
        }
        Ok(Staged { file, sha256, size })
    }

    /// Puts a staged snapshot in place, durably: the file fsynced, renamed to its hash's name
    /// (replacing a file of that name, which can only hold the same bytes or damaged ones),
    /// and its directory fsynced.
    pub fn put(&self, staged: Staged) -> Result<Stored, AddError> {
        let path = self.path_of(&staged.sha256);
        let created = !path.is_file();
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        let new_dir = !dir.is_dir();
        fs::create_dir_all(&dir).map_err(write_error(&dir))?;
        // Read-only, as a kept snapshot never changes (a slip of an editor is refused).
        let mut permissions = staged
            .file
            .as_file()
            .metadata()
            .map_err(write_error(staged.file.path()))?
            .permissions();
        permissions.set_readonly(true);
        staged
            .file
            .as_file()
            .set_permissions(permissions)
            .map_err(write_error(staged.file.path()))?;
        staged
            .file
            .as_file()
            .sync_all()
            .map_err(write_error(staged.file.path()))?;
        staged
            .file
            .persist(&path)
            .map_err(|e| write_error(&path)(e.error))?;
        sync_dir(&dir).map_err(write_error(&dir))?;
        if new_dir {
            // The new directory's own entry, in the directory above it.
            let parent = dir.parent().unwrap_or(&self.root);
            sync_dir(parent).map_err(write_error(parent))?;
            if let Some(grandparent) = parent.parent() {
                sync_dir(grandparent).map_err(write_error(grandparent))?;
            }
        }
        Ok(Stored {
            sha256: staged.sha256,
            size: staged.size,
            created,
        })
    }

    /// Copies the snapshot with this hash from `from` into this store, checking that its bytes
    /// are `size` bytes that hash to it. `Ok(None)`: `from` has no such file.
    pub fn put_from(
        &self,
        from: &EvidenceStore,
        sha256: &SnapshotHash,
        size: u64,
    ) -> Result<Option<Stored>, CopyError> {
        let source = from.path_of(sha256);
        let mut file = match File::open(&source) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(CopyError::Read {
                    path: source,
                    error,
                })
            }
        };
        let staged = self.stage(&mut file, size).map_err(|e| match e {
            AddError::TooLarge { .. } => CopyError::Mismatch {
                path: source.clone(),
                why: format!("it is larger than the {size} bytes recorded"),
            },
            AddError::Empty => CopyError::Mismatch {
                path: source.clone(),
                why: "it is empty".into(),
            },
            AddError::Read(error) => CopyError::Read {
                path: source.clone(),
                error,
            },
            write @ AddError::Write { .. } => CopyError::Write(write),
        })?;
        if staged.size != size {
            return Err(CopyError::Mismatch {
                path: source,
                why: format!("it is {} bytes, not the {size} recorded", staged.size),
            });
        }
        if staged.sha256 != *sha256 {
            return Err(CopyError::Mismatch {
                path: source,
                why: format!("its bytes hash to {}", staged.sha256),
            });
        }
        self.put(staged).map(Some).map_err(CopyError::Write)
    }

    /// Removes a snapshot this process put in place for a write that was then refused.
    pub fn remove(&self, sha256: &SnapshotHash) -> io::Result<()> {
        match fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The first snapshot a command's sources list that this store lacks: the field naming
    /// it (`sources[i].archived[j].sha256`) and its hash. A write may list only snapshots the
    /// store holds; an entry naming bytes the ledger lacks would fail verification.
    pub fn first_missing(&self, command: &Command) -> Option<(String, SnapshotHash)> {
        let sources = match command {
            Command::Record(record) => &record.claim.sources,
            Command::Revise(revise) => revise.changes.sources.as_ref()?,
        };
        sources.iter().enumerate().find_map(|(i, source)| {
            source.archived.iter().enumerate().find_map(|(j, item)| {
                (!self.contains(&item.sha256))
                    .then(|| (format!("sources[{i}].archived[{j}].sha256"), item.sha256))
            })
        })
    }

    /// Checks one snapshot: there, of its size, hashing to its name.
    pub fn check(&self, sha256: &SnapshotHash, size: u64) -> io::Result<Option<SnapshotFault>> {
        let path = self.path_of(sha256);
        let length = match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => meta.len(),
            Ok(_) => return Ok(Some(SnapshotFault::Missing)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Some(SnapshotFault::Missing))
            }
            Err(e) => return Err(e),
        };
        if length != size {
            return Ok(Some(SnapshotFault::WrongSize(length)));
        }
        let (found, read) = hash_file(&path)?;
        if read != size {
            return Ok(Some(SnapshotFault::WrongSize(read)));
        }
        Ok((found != *sha256).then_some(SnapshotFault::WrongHash(found)))
    }

    /// Checks every snapshot of `refs`, in parallel, each read in a stream; returns the first
    /// (in `refs`' order) that is wrong. `tick` is called with each snapshot's size once it
    /// is checked.
    pub fn check_all(
        &self,
        refs: &[SnapshotRef],
        tick: &(dyn Fn(u64) + Sync),
    ) -> io::Result<Option<(SnapshotRef, SnapshotFault)>> {
        let faults: Vec<io::Result<Option<SnapshotFault>>> = refs
            .par_iter()
            .with_max_len(1)
            .map(|r| {
                let fault = self.check(&r.sha256, r.size);
                tick(r.size);
                fault
            })
            .collect();
        for (r, fault) in refs.iter().zip(faults) {
            if let Some(fault) = fault? {
                return Ok(Some((r.clone(), fault)));
            }
        }
        Ok(None)
    }

    /// The hashes of every snapshot file in the store, and how many temporary files an
    /// interrupted write left.
    pub fn list(&self) -> io::Result<(Vec<SnapshotHash>, usize)> {
        let mut hashes = Vec::new();
        let read_dir = |dir: &Path| match fs::read_dir(dir) {
            Ok(entries) => Ok(Some(entries)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let named = |entry: &fs::DirEntry| {
            entry
                .file_name()
                .to_str()
                .and_then(|name| SnapshotHash::parse(name).ok())
        };
        match self.layout {
            Layout::Flat => {
                for entry in read_dir(&self.root)?.into_iter().flatten() {
                    hashes.extend(named(&entry?));
                }
            }
            Layout::Store => {
                for fan in read_dir(&self.root.join("sha256"))?.into_iter().flatten() {
                    for entry in read_dir(&fan?.path())?.into_iter().flatten() {
                        hashes.extend(named(&entry?));
                    }
                }
            }
        }
        let leftovers = match self.layout {
            Layout::Flat => 0,
            Layout::Store => read_dir(&self.tmp_dir())?
                .into_iter()
                .flatten()
                .filter(|e| e.is_ok())
                .count(),
        };
        hashes.sort();
        Ok((hashes, leftovers))
    }
}

/// Why a snapshot could not be copied from another directory.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("{} is not the snapshot the ledger records: {why}", path.display())]
    Mismatch { path: PathBuf, why: String },
    #[error(transparent)]
    Write(AddError),
}

/// A writer that hashes and counts what passes through it, refusing more than `size_max`.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
    size_max: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size + buf.len() as u64 > self.size_max {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("more than {} bytes", self.size_max),
            ));
        }
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(bytes: &[u8]) -> SnapshotHash {
        SnapshotHash(Sha256::digest(bytes).into())
    }

    #[test]
    fn put_check_and_tamper() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = EvidenceStore::of_ledger(dir.path());
        let bytes = b"%PDF-1.4 a report".to_vec();
        let staged = store.stage(&mut &bytes[..], 1 << 20).expect("staged");
        assert_eq!(staged.sha256, hash_of(&bytes));
        assert_eq!(staged.size, bytes.len() as u64);
        let stored = store.put(staged).expect("stored");
        assert!(stored.created);
        let path = store.path_of(&stored.sha256);
        let hex = stored.sha256.to_hex();
        assert!(path.ends_with(format!("evidence/sha256/{}/{hex}", &hex[..2])));
        assert_eq!(fs::read(&path).expect("read"), bytes);
        // Nothing is left in the temporary directory.
        assert_eq!(store.list().expect("list"), (vec![stored.sha256], 0));
        let size = bytes.len() as u64;
        assert_eq!(store.check(&stored.sha256, size).expect("check"), None);
        // The same bytes again: in place already.
        let again = store.stage(&mut &bytes[..], 1 << 20).expect("staged");
        assert!(!store.put(again).expect("stored").created);

        let mut altered = bytes.clone();
        altered[0] ^= 1;
        fs::write(&path, &altered).expect("write");
        assert_eq!(
            store.check(&stored.sha256, size).expect("check"),
            Some(SnapshotFault::WrongHash(hash_of(&altered)))
        );
        fs::write(&path, &bytes[..3]).expect("write");
        assert_eq!(
            store.check(&stored.sha256, size).expect("check"),
            Some(SnapshotFault::WrongSize(3))
        );
        fs::remove_file(&path).expect("remove");
        assert_eq!(
            store.check(&stored.sha256, size).expect("check"),
            Some(SnapshotFault::Missing)
        );
    }

    #[test]
    fn limits_leave_nothing_behind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = EvidenceStore::of_ledger(dir.path());
        let bytes = vec![7u8; 1000];
        assert!(matches!(
            store.stage(&mut &bytes[..], 999),
            Err(AddError::TooLarge { limit: 999 })
        ));
        assert!(store.stage(&mut &bytes[..], 1000).is_ok());
        assert!(matches!(
            store.stage(&mut &b""[..], 10),
            Err(AddError::Empty)
        ));
        assert_eq!(store.list().expect("list"), (vec![], 0));
    }

    #[test]
    fn copies_from_a_flat_directory_are_checked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let flat = tempfile::tempdir().expect("a temporary directory");
        let store = EvidenceStore::of_ledger(dir.path());
        let from = EvidenceStore::flat(flat.path());
        let bytes = b"<html>page</html>".to_vec();
        let hash = hash_of(&bytes);
        let size = bytes.len() as u64;
        assert!(store
            .put_from(&from, &hash, size)
            .expect("no file")
            .is_none());
        fs::write(from.path_of(&hash), &bytes).expect("write");
        let error = store
            .put_from(&from, &hash, size - 1)
            .expect_err("too large");
        assert!(
            error.to_string().contains("larger than the 16 bytes"),
            "{error}"
        );
        fs::write(from.path_of(&hash), b"<html>PAGE</html>").expect("write");
        let error = store.put_from(&from, &hash, size).expect_err("altered");
        assert!(error.to_string().contains("its bytes hash to"), "{error}");
        assert_eq!(store.list().expect("list"), (vec![], 0));
        fs::write(from.path_of(&hash), &bytes).expect("write");
        let stored = store.put_from(&from, &hash, size).expect("copied");
        assert!(stored.is_some_and(|s| s.created));
        assert_eq!(store.check(&hash, size).expect("check"), None);
        assert_eq!(from.list().expect("list"), (vec![hash], 0));
    }
}
