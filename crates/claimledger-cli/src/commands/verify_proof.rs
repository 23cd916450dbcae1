//! `claims verify-proof`: checks a proof file from `claims prove` with nothing but the file and
//! the ledger's verifier key, as any third party would (docs/FORMAT.md, "Proof files"): no
//! ledger is opened.
//!
//! The checks themselves are in `proof_file` of the library.

use super::checkpoint::read_text;
use crate::cli::VerifyProofArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use claimledger_cli::proof_file;
use claimledger_core::checkpoint::VerifierKeyText;
use claimledger_core::ENTRY_LEN_MAX;
use claimledger_store::Storage;
use std::path::Path;

/// The largest proof file read: an entry of the largest size with every byte escaped, two
/// checkpoints of the largest size, and the path.
const PROOF_FILE_LEN_MAX: u64 = 6 * ENTRY_LEN_MAX as u64 + 3 * 1024 * 1024;

/// The largest verifier key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

pub fn cmd_verify_proof<S: Storage>(
    ctx: &mut Ctx<'_, S>,
    args: VerifyProofArgs,
) -> CliResult<Exit> {
    let io = &mut ctx.io;
    let key = args
        .key
        .as_deref()
        .map(|k| verifier_key(io, k))
        .transpose()?;
    let witnesses = super::monitor::witness_keys(io, &args.witness_key)?;
    let quorum = super::monitor::quorum(args.witness_quorum, witnesses.len())?;
    let name = args.file.display().to_string();
    let text = read_text(io, &args.file, PROOF_FILE_LEN_MAX, "proof file")?;
    match proof_file::verify(&text, key.as_ref()) {
        Ok(proven) => {
            let cosigned_by = if witnesses.is_empty() {
                Vec::new()
            } else {
                let checkpoint = proof_file::checkpoint_text(&text).map_err(|e| {
                    CliError::integrity(format!("{name}: the proof does not verify: {e}"))
                })?;
                claimledger_tlog::cosignature::check_quorum(&checkpoint, &witnesses, quorum)
                    .map_err(|e| {
                        CliError::integrity(format!("{name}: the proof's checkpoint: {e}"))
                    })?
            };
            let out = &mut *io.out;
            if args.json {
                let mut json = serde_json::to_value(&proven).map_err(std::io::Error::from)?;
                if let Some(object) = json.as_object_mut() {
                    object.insert("ok".into(), true.into());
                    object.insert("file".into(), name.into());
                    if !witnesses.is_empty() {
                        object.insert("cosigned_by".into(), cosigned_by.into());
                    }
                }
                super::print_json(out, &json)?;
            } else {
                writeln!(out, "OK: {proven}")?;
                if !cosigned_by.is_empty() {
                    writeln!(out, "cosigned by {}", cosigned_by.join(", "))?;
                }
            }
            Ok(Exit::SUCCESS)
        }
        Err(reason) => Err(CliError::integrity(format!(
            "{name}: the proof does not verify: {reason}"
        ))),
    }
}

/// `--key`: the verifier key's text, or a file holding it.
pub fn verifier_key(io: &mut Io, given: &str) -> CliResult<VerifierKeyText> {
    let text = if Path::new(given).is_file() {
        read_text(io, Path::new(given), KEY_FILE_LEN_MAX, "verifier key file")?
    } else {
        given.to_owned()
    };
    VerifierKeyText::parse(text.trim()).map_err(|e| CliError::input(format!("--key: {e}")))
}
