//! `claims verify-proof`: checks a proof file from `claims prove` with nothing but the file and
//! the ledger's verifier key, as any third party would (docs/FORMAT.md, "Proof files"): no
//! ledger is opened.
//!
//! An inclusion proof: the entry decodes and is the entry its index says; its leaf hash, with
//! the audit path, leads to the checkpoint's root for the checkpoint's size; and, with a key,
//! the checkpoint is signed by it. A consistency proof: both checkpoints name the same ledger,
//! the proof leads from the first root to the second, and, with a key, both are signed by it.
//! Without a key the hashes are checked against checkpoints nobody vouches for, which the OK
//! line says.

use super::checkpoint::read_text;
use super::prove::ProofFile;
use crate::cli::VerifyProofArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use claimledger_core::checkpoint::{self, Checkpoint, VerifierKeyText};
use claimledger_core::merkle::{self, Blake3Tree, LeafIndex, NodeHash, TreeHash};
use claimledger_core::{Entry, ENTRY_LEN_MAX};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// The largest proof file read: an entry of the largest size with every byte escaped, two
/// checkpoints of the largest size, and the path.
const PROOF_FILE_LEN_MAX: u64 = 6 * ENTRY_LEN_MAX as u64 + 3 * 1024 * 1024;

/// The largest verifier key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

pub fn cmd_verify_proof(_env: &Env, args: VerifyProofArgs) -> CliResult<ExitCode> {
    let key = args.key.as_deref().map(verifier_key).transpose()?;
    let name = args.file.display().to_string();
    let text = read_text(&args.file, PROOF_FILE_LEN_MAX, "proof file")?;
    let verdict = serde_json::from_str::<ProofFile>(&text)
        .map_err(|e| format!("it is not a proof file from `claims prove`: {e}"))
        .and_then(|proof| match proof {
            ProofFile::Inclusion {
                entry,
                index,
                tree_size,
                path,
                checkpoint,
            } => check_inclusion(&entry, index, tree_size, &path, &checkpoint, key.as_ref()),
            ProofFile::Consistency {
                old_checkpoint,
                checkpoint,
                path,
            } => check_consistency(&old_checkpoint, &checkpoint, &path, key.as_ref()),
        });
    match verdict {
        Ok(proven) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "OK: {proven}")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(reason) => Err(CliError::integrity(format!(
            "{name}: the proof does not verify: {reason}"
        ))),
    }
}

/// `--key`: the verifier key's text, or a file holding it.
fn verifier_key(given: &str) -> CliResult<VerifierKeyText> {
    let text = if Path::new(given).is_file() {
        read_text(Path::new(given), KEY_FILE_LEN_MAX, "verifier key file")?
    } else {
        given.to_owned()
    };
    VerifierKeyText::parse(text.trim()).map_err(|e| CliError::input(format!("--key: {e}")))
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

fn parse_path(path: &[String]) -> Result<Vec<NodeHash>, String> {
    path.iter()
        .enumerate()
        .map(|(i, hash)| NodeHash::parse(hash).map_err(|e| format!("`path[{i}]`: {e}")))
        .collect()
}

/// How the OK line ends: who vouches for the checkpoints.
fn vouched(key: Option<&VerifierKeyText>, checkpoints: &str) -> String {
    match key {
        Some(key) => format!("{checkpoints} signed by {}", key_label(key)),
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
) -> Result<String, String> {
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
    let leaf = Blake3Tree::leaf(entry_text.as_bytes());
    merkle::verify_inclusion::<Blake3Tree>(
        &leaf,
        LeafIndex(index),
        checkpoint.size,
        &path,
        &NodeHash(checkpoint.root),
    )
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "entry {seq} (revision {} of claim {}) is in the ledger {} of {} entries; {}",
        entry.event.revision(),
        entry.event.claim_id(),
        checkpoint.origin,
        checkpoint.size,
        vouched(key, "checkpoint")
    ))
}

fn check_consistency(
    old_text: &str,
    new_text: &str,
    path: &[String],
    key: Option<&VerifierKeyText>,
) -> Result<String, String> {
    let old = open_checkpoint(old_text, key, "old_checkpoint")?;
    let new = open_checkpoint(new_text, key, "checkpoint")?;
    if old.origin != new.origin {
        return Err(format!(
            "its checkpoints are of two ledgers, {:?} and {:?}",
            old.origin, new.origin
        ));
    }
    let path = parse_path(path)?;
    merkle::verify_consistency::<Blake3Tree>(
        old.size,
        new.size,
        &path,
        &NodeHash(old.root),
        &NodeHash(new.root),
    )
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "the ledger {} of {} entries extends its checkpoint of {} entries; {}",
        new.origin,
        new.size,
        old.size,
        vouched(key, "checkpoints")
    ))
}
