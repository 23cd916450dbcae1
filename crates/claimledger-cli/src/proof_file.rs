//! Proof files (`claims prove`, `claims verify-proof`; docs/FORMAT.md, "Proof files"), and
//! their checking with nothing but the file and, optionally, the ledger's verifier key.
//!
//! An inclusion proof: the entry decodes and is the entry its index says; its leaf hash, with
//! the audit path, leads to the checkpoint's root for the checkpoint's size; and, with a key,
//! the checkpoint is signed by it. A consistency proof: both checkpoints name the same ledger,
//! the proof leads from the first root to the second, and, with a key, both are signed by it.
//! Without a key the hashes are checked against checkpoints nobody vouches for, which the
//! verdict says.

use claimledger_core::checkpoint::{self, Checkpoint, VerifierKeyText};
use claimledger_core::merkle::{self, record_hash, Hash};
use claimledger_core::{escape_controls, Entry};
use serde::{Deserialize, Serialize};

/// A proof file, as written and read. Fields appear in this order; no others are allowed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ProofFile {
    Inclusion {
        /// The entry's stored bytes, exactly, as a JSON string.
        entry: String,
        /// The entry's leaf index: its sequence number minus one.
        index: u64,
        /// The size of the tree the path leads up through: the checkpoint's size.
        tree_size: u64,
        /// The audit path, lowest level first, as 64 lowercase hex digits each.
        path: Vec<String>,
        /// The checkpoint the path leads to: a signed note, or an unsigned body.
        checkpoint: String,
    },
    Consistency {
        /// The earlier checkpoint, exactly as it was given.
        old_checkpoint: String,
        /// The current checkpoint.
        checkpoint: String,
        /// The consistency proof, as 64 lowercase hex digits each.
        path: Vec<String>,
    },
}

/// What a proof file was found to prove. Its `Display` is the one line `claims verify-proof`
/// prints; its JSON (`serde`) the object `verify-proof --json` prints (docs/CLI.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Proven {
    /// Entry `seq` is in the ledger `origin` of `size` entries.
    Inclusion {
        seq: u64,
        claim_id: String,
        /// The claim's key, when the entry holds it (the entry of revision 1 does).
        key: Option<String>,
        revision: u32,
        origin: String,
        size: u64,
        /// `<name>+<key id>` of the key that signed the checkpoint; `None` without --key.
        signed_by: Option<String>,
    },
    /// The ledger `origin` of `size` entries extends its checkpoint of `old_size` entries.
    Consistency {
        origin: String,
        size: u64,
        old_size: u64,
        signed_by: Option<String>,
    },
}

fn entries(n: u64) -> String {
    format!("{n} {}", if n == 1 { "entry" } else { "entries" })
}

impl std::fmt::Display for Proven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proven::Inclusion {
                seq,
                claim_id,
                key,
                revision,
                origin,
                size,
                signed_by,
            } => {
                let claim = match key {
                    Some(key) => format!("{key} ({claim_id})"),
                    None => claim_id.clone(),
                };
                write!(
                    f,
                    "entry {seq} (revision {revision} of claim {claim}) is in the ledger \
                     {origin} of {}; {}",
                    entries(*size),
                    vouched(signed_by.as_deref(), "checkpoint")
                )
            }
            Proven::Consistency {
                origin,
                size,
                old_size,
                signed_by,
            } => write!(
                f,
                "the ledger {origin} of {} extends its checkpoint of {}; {}",
                entries(*size),
                entries(*old_size),
                vouched(signed_by.as_deref(), "checkpoints")
            ),
        }
    }
}

/// Checks a proof file's text: what it proves, or why it does not verify (one line).
pub fn verify(text: &str, key: Option<&VerifierKeyText>) -> Result<Proven, String> {
    // serde quotes an unknown type or field name as it is: escaped, a message stays one line
    // and cannot drive a terminal.
    let proof = serde_json::from_str::<ProofFile>(text).map_err(|e| {
        format!(
            "it is not a proof file from `claims prove`: {}",
            escape_controls(&e.to_string())
        )
    })?;
    match proof {
        ProofFile::Inclusion {
            entry,
            index,
            tree_size,
            path,
            checkpoint,
        } => check_inclusion(&entry, index, tree_size, &path, &checkpoint, key),
        ProofFile::Consistency {
            old_checkpoint,
            checkpoint,
            path,
        } => check_consistency(&old_checkpoint, &checkpoint, &path, key),
    }
}

/// The checkpoint a proof file leads to (for a consistency proof, the later one), as its text:
/// where witnesses' cosignatures are.
pub fn checkpoint_text(text: &str) -> Result<String, String> {
    match serde_json::from_str::<ProofFile>(text) {
        Ok(ProofFile::Inclusion { checkpoint, .. } | ProofFile::Consistency { checkpoint, .. }) => {
            Ok(checkpoint)
        }
        Err(e) => Err(escape_controls(&e.to_string())),
    }
}

/// `<name>+<key id>`, how people tell keys apart.
fn key_label(key: &VerifierKeyText) -> String {
    let mut parts = key.as_str().splitn(3, '+');
    format!(
        "{}+{}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    )
}

/// Reads a checkpoint, verifying its signature when a key is given.
fn open_checkpoint(
    text: &str,
    key: Option<&VerifierKeyText>,
    field: &str,
) -> Result<Checkpoint, String> {
    match key {
        Some(key) => checkpoint::open_signed_checkpoint(text, key.as_str()),
        None => checkpoint::parse_unsigned_or_signed(text),
    }
    .map_err(|e| format!("`{field}`: {e}"))
}

fn parse_path(path: &[String]) -> Result<Vec<Hash>, String> {
    path.iter()
        .enumerate()
        .map(|(i, hash)| merkle::parse_hex(hash).map_err(|e| format!("`path[{i}]`: {e}")))
        .collect()
}

/// How the OK line ends: who vouches for the checkpoints.
fn vouched(signed_by: Option<&str>, checkpoints: &str) -> String {
    match signed_by {
        Some(label) => format!("{checkpoints} signed by {label}"),
        None => format!(
            "{checkpoints} signature not checked (no --key): this shows only that the hashes \
             agree"
        ),
    }
}

fn check_inclusion(
    entry_text: &str,
    index: u64,
    tree_size: u64,
    path: &[String],
    checkpoint_text: &str,
    key: Option<&VerifierKeyText>,
) -> Result<Proven, String> {
    let checkpoint = open_checkpoint(checkpoint_text, key, "checkpoint")?;
    // The path does not commit to the size: the size must be the checkpoint's.
    if tree_size != checkpoint.size {
        return Err(format!(
            "its `tree_size` is {tree_size}, but its checkpoint is of {} entries",
            checkpoint.size
        ));
    }
    let entry = Entry::decode(entry_text.as_bytes())
        .map_err(|e| format!("its `entry` is not a valid entry: {e}"))?;
    let seq = entry.seq.0;
    if index.checked_add(1) != Some(seq) {
        return Err(format!(
            "its `entry` is entry {seq}, whose leaf index is {}, but its `index` is {index}",
            seq - 1
        ));
    }
    let path = parse_path(path)?;
    let leaf = record_hash(entry_text.as_bytes());
    merkle::verify_inclusion(leaf, index, checkpoint.size, &path, Hash(checkpoint.root))
        .map_err(|e| e.to_string())?;
    let key_of_claim = match &entry.event {
        claimledger_core::Event::ClaimRecorded(recorded) => {
            recorded.key.as_ref().map(|k| k.to_string())
        }
        claimledger_core::Event::ClaimRevised(_) => None,
    };
    Ok(Proven::Inclusion {
        seq,
        claim_id: entry.event.claim_id().to_string(),
        key: key_of_claim,
        revision: entry.event.revision(),
        origin: checkpoint.origin,
        size: checkpoint.size,
        signed_by: key.map(key_label),
    })
}

fn check_consistency(
    old_text: &str,
    new_text: &str,
    path: &[String],
    key: Option<&VerifierKeyText>,
) -> Result<Proven, String> {
    let old = open_checkpoint(old_text, key, "old_checkpoint")?;
    let new = open_checkpoint(new_text, key, "checkpoint")?;
    if old.origin != new.origin {
        return Err(format!(
            "its checkpoints are of two ledgers, {:?} and {:?}",
            old.origin, new.origin
        ));
    }
    let path = parse_path(path)?;
    merkle::verify_consistency(old.size, new.size, &path, Hash(old.root), Hash(new.root))
        .map_err(|e| e.to_string())?;
    Ok(Proven::Consistency {
        origin: new.origin,
        size: new.size,
        old_size: old.size,
        signed_by: key.map(key_label),
    })
}
