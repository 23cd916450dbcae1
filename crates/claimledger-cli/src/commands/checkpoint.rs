//! `claims checkpoint`: the ledger's Merkle tree head as a C2SP checkpoint, signed or not; and
//! what the proof commands and `verify --checkpoint` share: reading checkpoint and key files,
//! signing, and comparing the ledger with a checkpoint saved earlier.

use crate::cli::CheckpointArgs;
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use claimledger_core::checkpoint::{self, Checkpoint, CheckpointError};
use claimledger_core::merkle::Hash;
use claimledger_core::EntryHash;
use claimledger_store::{default_origin, default_origin_with, Ledger, Problem, Storage};
use std::io::Read;
use std::path::Path;

/// The largest private key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

pub fn cmd_checkpoint<S: Storage>(ctx: &mut Ctx<'_, S>, args: CheckpointArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let ledger = ledgers.read(env, io.err)?;
    let text = checkpoint_text(io, ledger, args.sign.as_deref())?;
    let out = &mut *io.out;
    if args.json {
        // The body's three lines: origin, size, base64 root (docs/FORMAT.md, "Checkpoints").
        let parsed = checkpoint::parse_unsigned_or_signed(&text)
            .map_err(|e| CliError::integrity(format!("the ledger's checkpoint: {e}")))?;
        let root = parsed
            .to_body()
            .lines()
            .nth(2)
            .unwrap_or_default()
            .to_owned();
        super::print_json(
            out,
            &serde_json::json!({
                "origin": parsed.origin,
                "size": parsed.size,
                "root": root,
                "signed": args.sign.is_some(),
                "checkpoint": text,
            }),
        )?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(Exit::SUCCESS)
}

/// `claims init --origin`: the origin given, if it can name a ledger and its key, or a
/// default one for the ledger directory: random, or with the clock pinned (`CLAIMS_NOW`)
/// derived from the time, so that runs are reproducible.
pub fn origin_for(env: &Env, given: Option<String>) -> CliResult<String> {
    match given {
        None => Ok(match env.pinned_now {
            None => default_origin(&env.ledger_dir),
            Some(now) => {
                let hash = EntryHash::of(now.to_string().as_bytes());
                let suffix = hash.0[..4].try_into().expect("a hash has 32 bytes");
                default_origin_with(&env.ledger_dir, suffix)
            }
        }),
        Some(origin) => {
            checkpoint::validate_origin(&origin)
                .map_err(|e| CliError::input(format!("--origin: {e}")))?;
            Ok(origin)
        }
    }
}

/// The ledger's current checkpoint: the body, or the signed note with `sign`.
pub fn checkpoint_text<S: Storage>(
    io: &mut Io,
    ledger: &Ledger<S>,
    sign: Option<&Path>,
) -> CliResult<String> {
    let current = ledger.checkpoint()?;
    match sign {
        None => Ok(current.to_body()),
        Some(key_file) => sign_with(io, &current, key_file),
    }
}

fn sign_with(io: &mut Io, current: &Checkpoint, key_file: &Path) -> CliResult<String> {
    let name = key_file.display();
    let key = read_text(io, key_file, KEY_FILE_LEN_MAX, "key file")?;
    checkpoint::sign_checkpoint(current, key.trim_end()).map_err(|error| match error {
        CheckpointError::OriginMismatch { origin, key_name } => CliError::input(format!(
            "{name}: the key is named {key_name:?}, but this ledger's origin is {origin:?}; a \
             ledger's checkpoints are signed with a key named after its origin (make one with \
             `claims key generate`)"
        )),
        other => CliError::input(format!("{name}: {other}")),
    })
}

/// A file's text, refusing one longer than `limit` bytes without reading all of it. `-` is
/// standard input.
pub fn read_text(io: &mut Io, path: &Path, limit: u64, what: &str) -> CliResult<String> {
    let name = path.display();
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        (&mut *io.input).take(limit + 1).read_to_end(&mut bytes)
    } else {
        io.open_read(path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| CliError::file(&format!("read {what}"), path, &e))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::input(format!(
            "{name}: longer than {limit} bytes; is this a {what}?"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        CliError::input(format!(
            "{name}: not valid UTF-8 (at byte {}); is this a {what}?",
            e.utf8_error().valid_up_to() + 1
        ))
    })
}

/// A checkpoint file as `claims checkpoint` wrote it, signed or not (signatures are not
/// checked: the file is the user's own record): its exact text and what it says.
pub fn read_checkpoint_file(io: &mut Io, path: &Path) -> CliResult<(String, Checkpoint)> {
    let text = read_text(
        io,
        path,
        checkpoint::SIGNED_CHECKPOINT_LEN_MAX as u64,
        "checkpoint",
    )?;
    let parsed = checkpoint::parse_unsigned_or_signed(&text)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    Ok((text, parsed))
}

/// Whether the ledger extends `earlier`: same origin, at least as many entries, and its
/// first `earlier.size` entries give `earlier.root`. The reason when it does not.
///
/// The root is read from the stored tree, which `verify` checks against the log.
pub fn extends<S: Storage>(ledger: &Ledger<S>, earlier: &Checkpoint) -> CliResult<Option<String>> {
    let origin = ledger.origin()?;
    if earlier.origin != origin {
        return Ok(Some(format!(
            "the checkpoint is of the ledger {:?}, but this ledger's origin is {origin:?}",
            earlier.origin
        )));
    }
    let count = ledger.head().count;
    if earlier.size > count {
        return Ok(Some(format!(
            "the checkpoint has {} but the ledger holds only {count}: it was rolled back, and \
             entries {} to {} are gone",
            crate::output::plural(earlier.size, "entry", "entries"),
            count + 1,
            earlier.size
        )));
    }
    let root = ledger.tree_root(earlier.size)?;
    if root.0 != earlier.root {
        return Ok(Some(format!(
            "the ledger's first {} do not give the checkpoint's root (they give {}, \
             the checkpoint says {}): history up to entry {} was rewritten since the \
             checkpoint, or the checkpoint was made before store format 4, by a build whose \
             tree hashed with BLAKE3",
            crate::output::plural(earlier.size, "entry", "entries"),
            root,
            Hash(earlier.root),
            earlier.size
        )));
    }
    Ok(None)
}

/// `claims verify --checkpoint FILE`: the ledger extends the checkpoint in `path`, or the
/// problem that says how it does not. Call it once verify has found the ledger sound, so that
/// the stored tree it reads is known to be the log's.
pub fn check_against_checkpoint<S: Storage>(
    io: &mut Io,
    ledger: &Ledger<S>,
    path: &Path,
) -> CliResult<Option<Problem>> {
    let (_, earlier) = read_checkpoint_file(io, path)?;
    Ok(match extends(ledger, &earlier)? {
        Some(what) => Some(Problem {
            seq: None,
            what: format!("{}: {what}", path.display()),
        }),
        None => {
            io.say(format_args!(
                "the ledger extends the checkpoint in {} ({} of {})",
                path.display(),
                crate::output::plural(earlier.size, "entry", "entries"),
                earlier.origin
            ));
            None
        }
    })
}
