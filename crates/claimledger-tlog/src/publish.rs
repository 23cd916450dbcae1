//! `claims publish`: a ledger written out as a c2sp.org/tlog-tiles log ([`crate::layout`]),
//! incrementally and in an order that keeps the published log valid at every moment.
//!
//! What was published is read from the published checkpoint, never from local state: the
//! checkpoint names the size whose tiles are all there, so a publish writes the objects of
//! the sizes past it ([`new_objects`]), then the new checkpoint. A publish killed at any point
//! leaves the old checkpoint, whose objects are untouched (a partial tile is replaced only by a
//! wider one, whose first hashes are the same), and the next publish writes everything past
//! it again. Before writing anything, the published checkpoint must be a checkpoint of this
//! ledger: its origin, and a root its first entries give.

use crate::layout::{self, new_objects, ObjectName, CHECKPOINT_LEN_MAX, CHECKPOINT_PATH};
use crate::objects::{ObjectError, ObjectSink};
use crate::witness_client::{self, WitnessTarget};
use claimledger_core::checkpoint::{self, Checkpoint, VerifierKeyText};
use claimledger_core::merkle::Hash;
use claimledger_store::{Ledger, Storage, StoreError};

/// Objects read from the ledger and written in one go: up to about 32 MB of bundles.
const BATCH_OBJECTS: usize = 512;

/// What to publish with.
#[derive(Debug, Default)]
pub struct PublishOptions<'a> {
    /// The ledger's private key text: the checkpoint is signed with it.
    pub signing_key: Option<String>,
    /// Witnesses asked to cosign the checkpoint (needs `signing_key`).
    pub witnesses: Vec<WitnessTarget>,
    /// How many of them must cosign before the checkpoint is published.
    pub quorum: usize,
    /// Objects the new entries need beside them (such as the snapshots of sources they name,
    /// as `evidence/<sha256>`), written after the tiles and bundles and before the checkpoint.
    pub companions: Option<&'a dyn Companions>,
}

/// Objects published with the entries that name them, written one at a time so that memory
/// holds one object. A path names its content (such as `evidence/<sha256>`): one the
/// destination holds already is not written again.
pub trait Companions: std::fmt::Debug {
    /// The paths of the objects the entries `after + 1 ..= size` need. A path must not be
    /// `checkpoint` or under `tile/`.
    fn paths(&self, after: u64, size: u64) -> Result<Vec<String>, PublishError>;
    /// One object's bytes, checked (a damaged object is an error, never published).
    fn read(&self, path: &str) -> Result<Vec<u8>, PublishError>;
}

/// What a publish did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PublishReport {
    /// The destination, as named.
    pub destination: String,
    /// The size of the published checkpoint found there (0: none).
    pub old_size: u64,
    /// The size published now.
    pub size: u64,
    pub tiles_written: u64,
    pub bundles_written: u64,
    pub other_objects_written: u64,
    /// Bytes of every object written, the checkpoint included.
    pub bytes_written: u64,
    /// Whether a checkpoint was written (not when the published one was already this one).
    pub checkpoint_written: bool,
    pub signed: bool,
    /// The witnesses whose cosignatures the checkpoint carries.
    pub cosigned_by: Vec<String>,
    /// The checkpoint now published.
    pub checkpoint: String,
}

/// Why a publish wrote nothing new.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The published log is not this ledger's, or not a prefix of it.
    #[error("{0}")]
    Diverged(String),
    /// What was asked cannot be done (a key of another ledger, witnesses without a key).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Destination(#[from] ObjectError),
    #[error("{0}")]
    Ledger(#[from] StoreError),
    /// Fewer witnesses than the quorum cosigned: nothing new was published.
    #[error("{0}")]
    Witnesses(String),
    /// An object published with the entries is missing or damaged at its source: nothing
    /// new was published as checkpoint.
    #[error("{0}")]
    Companion(String),
}

/// Publishes the ledger to `sink`: writes the tiles and bundles the published checkpoint
/// lacks, then the ledger's checkpoint (signed and cosigned as `options` say). `progress` is
/// told the objects written so far and their total.
pub fn publish<S: Storage>(
    ledger: &Ledger<S>,
    sink: &dyn ObjectSink,
    options: &PublishOptions<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PublishReport, PublishError> {
    let origin = ledger.origin()?;
    let verifier = options
        .signing_key
        .as_deref()
        .map(|key| {
            checkpoint::verifier_key_of(key)
                .map_err(|e| PublishError::Usage(format!("the signing key: {e}")))
        })
        .transpose()?;
    if let Some(verifier) = &verifier {
        if verifier.name() != origin {
            return Err(PublishError::Usage(format!(
                "the signing key is named {:?}, but this ledger's origin is {origin:?}; a \
                 ledger's checkpoints are signed with a key named after its origin",
                verifier.name()
            )));
        }
    }
    if !options.witnesses.is_empty() && options.signing_key.is_none() {
        return Err(PublishError::Usage(
            "witnesses cosign only a checkpoint signed by the log's key: give --sign".into(),
        ));
    }
    if options.quorum > options.witnesses.len() {
        return Err(PublishError::Usage(format!(
            "a quorum of {} needs at least as many witnesses; {} given",
            options.quorum,
            options.witnesses.len()
        )));
    }
    let destination = sink.describe();
    let published_text = sink.get(CHECKPOINT_PATH, CHECKPOINT_LEN_MAX)?;
    let published = match &published_text {
        None => None,
        Some(bytes) => Some(read_published(bytes, &destination, verifier.as_ref())?),
    };
    let old_size = published.as_ref().map_or(0, |p| p.size);
    let size = ledger.head().count;
    if let Some(published) = &published {
        check_prefix(ledger, published, &origin, &destination)?;
    }

    let mut report = PublishReport {
        destination,
        old_size,
        size,
        signed: options.signing_key.is_some(),
        ..PublishReport::default()
    };
    let objects = new_objects(old_size, size);
    let companions = match &options.companions {
        None => Vec::new(),
        Some(companions) => companions.paths(old_size, size)?,
    };
    for path in &companions {
        if path == CHECKPOINT_PATH || path.starts_with("tile/") {
            return Err(PublishError::Usage(format!(
                "{path}: objects published with the entries go beside the log's own, not over them"
            )));
        }
    }
    let total = (objects.len() + companions.len()) as u64;
    let mut done = 0;
    progress(done, total);
    for batch in objects.chunks(BATCH_OBJECTS) {
        let mut writes = Vec::with_capacity(batch.len());
        for name in batch {
            let bytes = read_object(ledger, name)?;
            match name {
                ObjectName::Tile { .. } => report.tiles_written += 1,
                ObjectName::Bundle { .. } => report.bundles_written += 1,
            }
            report.bytes_written += bytes.len() as u64;
            writes.push((name.path(), bytes));
        }
        sink.put_all(writes)?;
        done += batch.len() as u64;
        progress(done, total);
    }
    if let Some(source) = &options.companions {
        for path in companions {
            // Read with a limit of 0 bytes: `TooLarge` says the object is there (and not empty)
            // without fetching it.
            if let Err(ObjectError::TooLarge { .. }) = sink.get(&path, 0) {
                done += 1;
                progress(done, total);
                continue;
            }
            let bytes = source.read(&path)?;
            report.other_objects_written += 1;
            report.bytes_written += bytes.len() as u64;
            sink.put_all(vec![(path, bytes)])?;
            done += 1;
            progress(done, total);
        }
    }

    let current = ledger.checkpoint()?;
    let mut text = match &options.signing_key {
        None => current.to_body(),
        Some(key) => checkpoint::sign_checkpoint(&current, key)
            .map_err(|e| PublishError::Usage(format!("the signing key: {e}")))?,
    };
    if !options.witnesses.is_empty() {
        let cosigned = witness_client::collect(&options.witnesses, &text, size, old_size, &|old| {
            consistency_lines(ledger, old, size)
        });
        let (lines, labels, failures) = cosigned.into_parts();
        if labels.len() < options.quorum {
            return Err(PublishError::Witnesses(format!(
                "{} of the {} witnesses cosigned the checkpoint of {size} entries, fewer than \
                 the quorum of {}; nothing new was published as checkpoint (tiles and bundles \
                 past the published checkpoint may have been written, which is harmless): {}",
                labels.len(),
                options.witnesses.len(),
                options.quorum,
                failures.join("; ")
            )));
        }
        text.push_str(&lines);
        report.cosigned_by = labels;
    }
    if published_text.as_deref() != Some(text.as_bytes()) {
        report.bytes_written += text.len() as u64;
        sink.put_all(vec![(
            CHECKPOINT_PATH.to_owned(),
            text.clone().into_bytes(),
        )])?;
        report.checkpoint_written = true;
    }
    report.checkpoint = text;
    Ok(report)
}

/// The published checkpoint, read: signed by this ledger's key when publishing with it.
fn read_published(
    bytes: &[u8],
    destination: &str,
    verifier: Option<&VerifierKeyText>,
) -> Result<Checkpoint, PublishError> {
    let unreadable = |why: String| {
        PublishError::Diverged(format!(
            "{destination}/checkpoint cannot be read as a checkpoint ({why}); it was not \
             written by claims publish, or was damaged: move it away to publish afresh"
        ))
    };
    let text = std::str::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))?;
    match verifier {
        // A checkpoint published unsigned is read as it is: signing starts now.
        Some(key) if text.contains("\n\n") => {
            checkpoint::open_signed_checkpoint(text, key.as_str()).map_err(|e| {
                PublishError::Diverged(format!(
                    "{destination}/checkpoint is not a checkpoint of this ledger signed with \
                     its key: {e}"
                ))
            })
        }
        _ => checkpoint::parse_unsigned_or_signed(text).map_err(|e| unreadable(e.to_string())),
    }
}

/// The published checkpoint must be of this ledger, and of a prefix of it.
fn check_prefix<S: Storage>(
    ledger: &Ledger<S>,
    published: &Checkpoint,
    origin: &str,
    destination: &str,
) -> Result<(), PublishError> {
    if published.origin != origin {
        return Err(PublishError::Diverged(format!(
            "{destination} holds the log of {:?}, not of this ledger ({origin:?}); publish \
             each ledger to its own place",
            published.origin
        )));
    }
    let count = ledger.head().count;
    if published.size > count {
        return Err(PublishError::Diverged(format!(
            "{destination} has published {} entries, but this ledger holds {count}: it was \
             published from another copy of the ledger, or this one was rolled back",
            published.size
        )));
    }
    let root = ledger.tree_root(published.size)?;
    if root.0 != published.root {
        return Err(PublishError::Diverged(format!(
            "the checkpoint published at {destination} has root {} for {} entries, but this \
             ledger's first {} give {root}: the published log is not this ledger's history",
            Hash(published.root),
            published.size,
            published.size
        )));
    }
    Ok(())
}

/// A tile's bytes, or a bundle's, as published.
fn read_object<S: Storage>(ledger: &Ledger<S>, name: &ObjectName) -> Result<Vec<u8>, PublishError> {
    match *name {
        ObjectName::Tile {
            level,
            index,
            width,
        } => Ok(ledger.read_tile(level, index, width)?),
        ObjectName::Bundle { index, width } => {
            let entries = ledger.read_entry_bundle(index, width)?;
            layout::encode_bundle(&entries).map_err(|e| {
                PublishError::Ledger(StoreError::corrupt(
                    None,
                    format!("entry bundle {index}: {e}"),
                ))
            })
        }
    }
}

/// The consistency proof from `old` entries to `size`, as base64 lines.
fn consistency_lines<S: Storage>(
    ledger: &Ledger<S>,
    old: u64,
    size: u64,
) -> Result<Vec<Hash>, String> {
    if old == 0 || old == size {
        return Ok(Vec::new());
    }
    ledger
        .consistency_proof(old, size)
        .map_err(|e| format!("cannot make the consistency proof from {old} entries: {e}"))
}
