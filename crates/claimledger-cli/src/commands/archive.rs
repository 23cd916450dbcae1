//! `claims archive`: a snapshot of a claim's source kept in the ledger's evidence store and
//! bound into the log by a revision of kind `evidence`.
//!
//! Order matters: the snapshot is streamed into the store's temporary directory and hashed,
//! the revision is decided, and only then, before the entry is written, is the snapshot put in
//! place durably (`Ledger::submit_with`). A refusal at any step before leaves the ledger and
//! its evidence store as they were; a crash after leaves at most a snapshot no entry names.

use super::find_claim;
use crate::cli::ArchiveArgs;
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use claimledger_cli::fetch::{self, FetchError, Limits};
use claimledger_core::decide::ClaimState;
use claimledger_core::evidence::check_media_type;
use claimledger_core::input::{ClaimChanges, Command, ReviseCommand};
use claimledger_core::{Archived, Date, RevisionKind};
use claimledger_store::evidence::{AddError, Staged};
use claimledger_store::{EvidenceStore, Ledger, Receipt, Storage, StoreError, SubmitContext};
use serde_json::json;
use std::io::Read;
use std::time::Duration;

/// The most redirects a fetch follows.
const REDIRECTS_MAX: u32 = 10;
/// The longest a fetch waits for the next bytes.
const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of a file is read to guess its media type.
const SNIFF_BYTES: usize = 8192;

pub fn cmd_archive<S: Storage>(ctx: &mut Ctx<'_, S>, args: ArchiveArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let context = env.submit_context()?;
    let size_max = args
        .max_size
        .checked_mul(1_000_000)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| {
            CliError::input(format!(
                "--max-size {}: expected 1 MB or more",
                args.max_size
            ))
        })?;
    let media_type = args
        .media_type
        .as_deref()
        .map(|text| {
            let text = text.trim().to_ascii_lowercase();
            check_media_type(&text)
                .map(|()| text)
                .map_err(|why| CliError::input(format!("--media-type: {why}")))
        })
        .transpose()?;
    let captured_at = args
        .captured_at
        .as_deref()
        .map(|text| {
            Date::parse(text).map_err(|why| CliError::input(format!("--captured-at: {why}")))
        })
        .transpose()?;
    if args.source == 0 {
        return Err(CliError::input(
            "--source 0: sources are counted from 1, as `claims show` numbers them",
        ));
    }
    let reason = args
        .reason
        .clone()
        .unwrap_or_else(|| format!("snapshot of source {} archived", args.source));
    claimledger_core::check_nonempty_text(
        "reason",
        &reason,
        claimledger_core::limits::REASON_LEN_MAX,
        claimledger_core::Lines::Many,
    )
    .map_err(|e| CliError::input(format!("--reason: {}", e.reason)))?;
    if let Some(note) = &args.note {
        claimledger_core::input::check_note(note)
            .map_err(|e| CliError::input(format!("--note: {}", e.reason)))?;
    }
    // The file is opened before the ledger is, so that a wrong path costs no wait.
    let file = args
        .file
        .as_ref()
        .map(|path| {
            io.open_read(path)
                .map_err(|e| CliError::file("read", path, &e))
        })
        .transpose()?;

    // The claim as it stands: its source is what is fetched. The snapshot is taken before the
    // ledger is written to, and the claim is read again from the ledger held to write
    // (`Ledgers::read_to_write`), so that in `claims serve` a slow fetch holds up no writer.
    let store = ledgers.evidence(env);
    let state = find_claim(ledgers.read_to_write(env, io.err)?, &args.claim)?;
    let claim_name = state
        .key
        .as_ref()
        .map_or_else(|| state.id.to_string(), |k| k.to_string());
    let index = (args.source - 1) as usize;
    let Some(source) = state.claim.sources.get(index) else {
        return Err(CliError::input(format!(
            "--source {}: claim {claim_name} has {}",
            args.source,
            output::plural(state.claim.sources.len() as u64, "source", "sources")
        )));
    };
    let url_read = source.url.clone();
    let (staged, item) = match file {
        Some(mut file) => {
            let mut head = Vec::with_capacity(SNIFF_BYTES);
            (&mut file)
                .take(SNIFF_BYTES as u64)
                .read_to_end(&mut head)
                .map_err(|e| {
                    CliError::file(
                        "read",
                        args.file.as_deref().unwrap_or_else(|| "".as_ref()),
                        &e,
                    )
                })?;
            let media_type = media_type.unwrap_or_else(|| guess_media_type(&head).to_owned());
            let staged = store
                .stage(&mut std::io::Cursor::new(head).chain(file), size_max)
                .map_err(|e| add_error(&args, e))?;
            let captured_at = captured_at.unwrap_or_else(|| now_date(env));
            let item = Archived {
                sha256: staged.sha256,
                size: staged.size,
                media_type,
                captured_at,
                url: None,
                status: None,
            };
            (staged, item)
        }
        None => {
            let Some(url) = &source.url else {
                return Err(CliError::input(format!(
                    "--fetch: source {} of claim {claim_name} has no url to fetch; keep a saved copy with --file",
                    args.source
                )));
            };
            let limits = Limits {
                body_bytes_max: size_max,
                time_max: Duration::from_secs(args.timeout.max(1)),
                read_timeout: READ_TIMEOUT.min(Duration::from_secs(args.timeout.max(1))),
                redirects_max: REDIRECTS_MAX,
            };
            let software = format!("claimledger/{}", env!("CARGO_PKG_VERSION"));
            let now = || env.now().get();
            let capture = fetch::fetch(url, &limits, &software, &now).map_err(|e| match e {
                FetchError::Refused(why) => CliError::input(format!("--fetch: {why}")),
                FetchError::Spool(e) => {
                    CliError::io(format!("--fetch: cannot write a temporary file: {e}"))
                }
            })?;
            let staged = store
                .stage_written(u64::MAX, &mut |out| {
                    fetch::write_warc(&capture, &software, out)
                })
                .map_err(|e| add_error(&args, e))?;
            let status = capture.status();
            if !(200..300).contains(&status) {
                io.say(format_args!(
                    "note: {} answered with status {status}; the snapshot records that answer",
                    capture.final_url()
                ));
            }
            let at = claimledger_core::Timestamp::new(capture.captured_at());
            let item = Archived {
                sha256: staged.sha256,
                size: staged.size,
                media_type: "application/warc".to_owned(),
                captured_at: seconds_date(at),
                url: Some(capture.final_url().to_owned()),
                status: Some(status),
            };
            (staged, item)
        }
    };
    let ledger = ledgers.write(env, io.err)?;
    let state = find_claim(ledger, &args.claim)?;
    let Some(source) = state.claim.sources.get(index) else {
        return Err(CliError::input(format!(
            "--source {}: claim {claim_name} has {}",
            args.source,
            output::plural(state.claim.sources.len() as u64, "source", "sources")
        )));
    };
    if args.file.is_none() && source.url != url_read {
        return Err(CliError::busy(format!(
            "the url of source {} of claim {claim_name} was revised while it was fetched; \
             nothing was written, try again",
            args.source
        )));
    }
    if let Some(listed) = source.archived.iter().find(|a| a.sha256 == item.sha256) {
        // The same bytes again: nothing to record, but if the store lost or damaged its copy,
        // these bytes put it right (they hash to what the ledger names).
        let intact = store
            .check(&listed.sha256, listed.size)
            .map_err(|e| CliError::io(format!("cannot read the evidence store: {e}")))?
            .is_none();
        if !intact && listed.size == staged.size {
            store.put(staged).map_err(|e| add_error(&args, e))?;
            io.say(format_args!(
                "snapshot {} of source {} of claim {claim_name} was missing or damaged in the evidence store; these bytes, which hash to it, restored it (no entry was written)",
                item.sha256, args.source
            ));
            writeln!(io.out, "{}", item.sha256)?;
            return Ok(Exit::SUCCESS);
        }
    }
    if let Some(at) = source.archived.iter().position(|a| a.sha256 == item.sha256) {
        return Err(CliError::input(format!(
            "snapshot {} is already archived for source {} of claim {claim_name} (its snapshot {} of {}); nothing was written",
            item.sha256,
            args.source,
            at + 1,
            source.archived.len()
        )));
    }
    let receipt = record_snapshot(
        ledger,
        &store,
        &state,
        index,
        staged,
        item.clone(),
        reason,
        args.note.clone(),
        &context,
    )?;
    let out = &mut *io.out;
    if args.json {
        super::print_json(
            out,
            &json!({
                "claim_id": receipt.claim_id.to_string(),
                "key": receipt.key.as_ref().map(|k| k.to_string()),
                "source": args.source,
                "revision": receipt.revision,
                "seq": receipt.seq.0,
                "archived": item,
            }),
        )?;
    } else {
        writeln!(out, "{}", item.sha256)?;
    }
    io.say(format_args!(
        "archived snapshot {} ({}, {}) of source {} of claim {claim_name} as revision {}, entry {}",
        item.sha256,
        output::bytes(item.size),
        item.media_type,
        args.source,
        receipt.revision,
        receipt.seq
    ));
    Ok(Exit::SUCCESS)
}

/// Records `item`, the snapshot `staged` holds, in source `index` of the claim `state` as an
/// evidence revision: decided first, then the snapshot put in place durably, then the entry
/// written (`Ledger::submit_with`).
#[allow(clippy::too_many_arguments)]
pub(super) fn record_snapshot<S: Storage>(
    ledger: &mut Ledger<S>,
    store: &EvidenceStore,
    state: &ClaimState,
    index: usize,
    staged: Staged,
    item: Archived,
    reason: String,
    note: Option<String>,
    context: &SubmitContext,
) -> CliResult<Receipt> {
    item.validate()
        .map_err(|e| CliError::input(format!("the snapshot: {e}")))?;
    let mut sources = state.claim.sources.clone();
    let source = sources
        .get_mut(index)
        .ok_or_else(|| CliError::input(format!("the claim has no source {}", index + 1)))?;
    source.archived.push(item);
    let command = Command::Revise(ReviseCommand {
        claim: state.id.to_string(),
        reason,
        kind: RevisionKind::Evidence,
        expected_revision: Some(state.revision),
        changes: ClaimChanges {
            sources: Some(sources),
            ..ClaimChanges::default()
        },
        author: None,
        note,
    });
    let mut staged: Option<Staged> = Some(staged);
    let mut receipts = ledger.submit_with(&[command], context, &mut || {
        let staged = staged.take().expect("the snapshot is put in place once");
        store.put(staged).map_err(store_error)?;
        Ok(())
    })?;
    receipts
        .pop()
        .ok_or_else(|| CliError::integrity("the ledger wrote no entry for the snapshot"))
}

/// A media type from a file's first bytes: the `infer` crate's signatures, then the shapes it
/// does not know (a WARC file, HTML, plain text).
fn guess_media_type(head: &[u8]) -> &'static str {
    if head.starts_with(b"WARC/1.") {
        return "application/warc";
    }
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        // A multi-byte character cut at the end of what was read.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(text) => {
            let start = text
                .trim_start()
                .get(..256.min(text.trim_start().len()))
                .unwrap_or("");
            let lower = start.to_ascii_lowercase();
            if lower.starts_with("<!doctype html") || lower.contains("<html") {
                "text/html"
            } else {
                "text/plain"
            }
        }
        None => "application/octet-stream",
    }
}

/// The command's time as a DATE to the second: `2025-08-13T12:00:00Z`.
fn now_date(env: &Env) -> Date {
    seconds_date(env.now())
}

fn seconds_date(at: claimledger_core::Timestamp) -> Date {
    let text = at.get().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Date::parse(&text).expect("a UTC time to the second is a DATE")
}

pub(super) fn add_error(args: &ArchiveArgs, error: AddError) -> CliError {
    let what = match &args.file {
        Some(path) => path.display().to_string(),
        None => "--fetch".to_owned(),
    };
    match error {
        AddError::TooLarge { limit } => CliError::input(format!(
            "{what}: larger than --max-size {} MB ({limit} bytes); nothing was written",
            args.max_size
        )),
        AddError::Empty => {
            CliError::input(format!("{what}: the file is empty; nothing was written"))
        }
        AddError::Read(e) => CliError::io(format!("cannot read {what}: {e}")),
        AddError::Write { path, source } => StoreError::Io { path, source }.into(),
    }
}

fn store_error(error: AddError) -> StoreError {
    match error {
        AddError::Write { path, source } => StoreError::Io { path, source },
        other => StoreError::Io {
            path: std::path::PathBuf::new(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}
