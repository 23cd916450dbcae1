//! One module per command; `run` dispatches.

mod add;
mod archive;
mod checkpoint;
mod compare;
mod completions;
mod demo;
mod evidence;
mod export;
mod head;
mod history;
mod import;
mod init;
mod key;
mod list;
mod listing;
mod log;
mod monitor;
mod prove;
mod publish;
mod revise;
mod serve;
mod show;
mod subjects;
mod verify;
mod verify_proof;
mod witness;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::Io;
use claimledger_cli::import_file::utf8;
use claimledger_core::decide::ClaimState;
use claimledger_core::input::{self, Command as InputCommand};
use claimledger_store::{Ledger, Storage};
use std::io::Read;
use std::path::Path;

/// Runs one command to its exit code, an error reported on the context's standard error, then
/// flushes what is left of its output, as the process's own exit would (if it can still be
/// written). What both the process and `claims serve`, running a command for a client, do.
pub fn run_to_exit<S: Storage + Sync>(ctx: &mut Ctx<'_, S>, command: Command) -> Exit {
    let exit = match run(ctx, command) {
        Ok(exit) => exit,
        Err(error) => error.report(ctx.io.err),
    };
    let _ = ctx.io.out.flush();
    exit
}

/// Runs one command. Which of them may run inside `claims serve` is `served::route`'s to say.
pub fn run<S: Storage + Sync>(ctx: &mut Ctx<'_, S>, command: Command) -> CliResult<Exit> {
    match command {
        Command::Init(init) => init::cmd_init(ctx, init),
        Command::Add(add) => add::cmd_add(ctx, add),
        Command::Revise(revise) => revise::cmd_revise(ctx, revise),
        Command::Import(import) => import::cmd_import(ctx, import),
        Command::Archive(archive) => archive::cmd_archive(ctx, archive),
        Command::Evidence(evidence) => evidence::cmd_evidence(ctx, evidence),
        Command::Show(show) => show::cmd_show(ctx, show),
        Command::List(list) => list::cmd_list(ctx, list),
        Command::History(history) => history::cmd_history(ctx, history),
        Command::Compare(compare) => compare::cmd_compare(ctx, compare),
        Command::Subjects(subjects) => subjects::cmd_subjects(ctx, subjects),
        Command::Log(log) => log::cmd_log(ctx, log),
        Command::Verify(verify) => verify::cmd_verify(ctx, verify),
        Command::Head(head) => head::cmd_head(ctx, head),
        Command::Export(args) => export::cmd_export(ctx, args),
        Command::Demo => demo::cmd_demo(ctx),
        Command::Completions { shell } => completions::cmd_completions(ctx, shell),
        Command::Man(man) => completions::cmd_man(ctx, man),
        Command::Key(key) => key::cmd_key(ctx, key),
        Command::Checkpoint(checkpoint) => checkpoint::cmd_checkpoint(ctx, checkpoint),
        Command::Prove(prove) => prove::cmd_prove(ctx, prove),
        Command::VerifyProof(proof) => verify_proof::cmd_verify_proof(ctx, proof),
        Command::Publish(publish) => publish::cmd_publish(ctx, publish),
        Command::Monitor(monitor) => monitor::cmd_monitor(ctx, monitor),
        Command::Witness(witness) => witness::cmd_witness(ctx, witness),
        Command::Serve(serve) => serve::cmd_serve(ctx, serve),
        Command::Token(token) => serve::cmd_token(ctx, token),
    }
}

/// The largest single JSON object `add --json` and `revise --json` read.
pub const JSON_OBJECT_LEN_MAX: u64 = 1 << 20;

/// Reads one JSON value from a file or `-` (standard input), refusing oversized input
/// without reading all of it.
fn read_json(io: &mut Io, path: &Path) -> CliResult<serde_json::Value> {
    let mut text = Vec::new();
    let name = path.display().to_string();
    let read = if name == "-" {
        (&mut *io.input)
            .take(JSON_OBJECT_LEN_MAX + 1)
            .read_to_end(&mut text)
    } else {
        io.open_read(path)
            .and_then(|f| f.take(JSON_OBJECT_LEN_MAX + 1).read_to_end(&mut text))
    };
    read.map_err(|e| CliError::file("read", path, &e))?;
    if text.len() as u64 > JSON_OBJECT_LEN_MAX {
        return Err(CliError::input(format!(
            "{name}: longer than {JSON_OBJECT_LEN_MAX} bytes"
        )));
    }
    let text = text
        .strip_prefix(claimledger_cli::import_file::BOM)
        .unwrap_or(&text);
    let text = utf8(text).map_err(|why| CliError::input(format!("{name}: {why}")))?;
    input::parse_json(text).map_err(|e| CliError::input(format!("{name}: {e}")))
}

/// Refuses a file given as a bundle (`verify --bundle`, `init --from-bundle`) that is an import
/// file instead: claims in the input format (docs/FORMAT.md §1), whose first line has no `seq`
/// and `prev` but fields such as `subject` or `op`. Anything else is left to the bundle's own
/// checks.
fn refuse_import_file(io: &mut Io, path: &Path) -> CliResult {
    use std::io::BufRead;
    let Ok(file) = io.open_read(path) else {
        return Ok(()); // The caller reports what is wrong with opening it.
    };
    let mut first = Vec::new();
    let limit = claimledger_cli::import_file::LINE_LEN_MAX as u64;
    if std::io::BufReader::new(file)
        .take(limit)
        .read_until(b'\n', &mut first)
        .is_err()
    {
        return Ok(());
    }
    let first = first
        .strip_prefix(claimledger_cli::import_file::BOM)
        .unwrap_or(&first);
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(first) else {
        let csv_header = first.starts_with(b"op,")
            || std::str::from_utf8(first).is_ok_and(|line| {
                line.split(',')
                    .any(|column| matches!(column.trim(), "subject" | "claimant" | "statement"))
            });
        if csv_header {
            return Err(import_file_error(path, " --csv"));
        }
        return Ok(());
    };
    let input_fields = ["op", "subject", "claimant", "statement", "claim", "reason"];
    if !object.contains_key("seq")
        && !object.contains_key("prev")
        && input_fields.iter().any(|f| object.contains_key(*f))
    {
        return Err(import_file_error(path, ""));
    }
    Ok(())
}

fn import_file_error(path: &Path, flag: &str) -> CliError {
    let name = path.display();
    CliError::input(format!(
        "{name} is an import file (claims in the input format), not a bundle from `claims \
         export`; to record its claims, use `claims import{flag} {name}`"
    ))
}

/// Parses one input object, naming the file in errors.
fn parse_object(name: &str, json: &serde_json::Value) -> CliResult<InputCommand> {
    input::command_from_json(json).map_err(|e| CliError::input(format!("{name}: {e}")))
}

/// Turns `--as-of SEQ|TIME` into the last entry it includes (`None`: now).
fn as_of_seq<S: Storage>(
    ledger: &Ledger<S>,
    as_of: &crate::cli::AsOfArg,
) -> CliResult<Option<claimledger_core::Seq>> {
    let Some(text) = &as_of.as_of else {
        return Ok(None);
    };
    if let Ok(seq) = text.parse::<u64>() {
        if seq > ledger.head().count {
            return Err(CliError::input(format!(
                "--as-of {seq}: the ledger holds {}",
                crate::output::plural(ledger.head().count, "entry", "entries")
            )));
        }
        return Ok(Some(claimledger_core::Seq(seq)));
    }
    let at = recording_time_of(text).map_err(|why| CliError::input(format!("--as-of: {why}")))?;
    // Before the first entry, the ledger was empty: entry 0.
    Ok(Some(
        ledger.seq_at_time(at)?.unwrap_or(claimledger_core::Seq(0)),
    ))
}

/// The instant a `--as-of TIME` stands for: an RFC 3339 time itself; a date alone
/// (`2025-03`, `2025-03-01`; a year alone is read as an entry number, so the end of 2025 is
/// `2025-12`) the last instant of that month or day, in UTC, so that `--as-of 2025-03` is the
/// ledger as it stood at the end of March.
fn recording_time_of(text: &str) -> Result<claimledger_core::Timestamp, String> {
    let date = claimledger_core::Date::parse(text).map_err(|_| {
        format!(
            "{text:?} is not an entry number or a time; expected SEQ, YYYY-MM, YYYY-MM-DD or \
             an RFC 3339 time"
        )
    })?;
    let at = match date.precision() {
        claimledger_core::Precision::Instant => date.start(),
        // Entries are recorded to the microsecond: the last one of the span.
        _ => date.end() - chrono::Duration::microseconds(1),
    };
    Ok(claimledger_core::Timestamp::new(at))
}

/// Parses `COUNT:HASH`, as `claims head` prints it.
fn parse_head(text: &str, flag: &str) -> CliResult<claimledger_store::Head> {
    let bad = |why: String| CliError::input(format!("{flag} {text:?}: {why}"));
    let (count, hash) = text
        .split_once(':')
        .ok_or_else(|| bad("expected COUNT:HASH, as `claims head` prints it".into()))?;
    let count = count
        .parse::<u64>()
        .map_err(|_| bad(format!("{count:?} is not an entry count")))?;
    let hash = claimledger_core::EntryHash::parse(hash).map_err(bad)?;
    Ok(claimledger_store::Head { count, hash })
}

/// Parses `--covering DATE`.
fn covering(date: &Option<String>) -> CliResult<Option<claimledger_core::Date>> {
    date.as_deref()
        .map(|d| {
            claimledger_core::Date::parse(d)
                .map_err(|why| CliError::input(format!("--covering: {why}")))
        })
        .transpose()
}

/// Resolves an id or key to the claim, or says plainly that there is none.
fn find_claim<S: Storage>(ledger: &Ledger<S>, id_or_key: &str) -> CliResult<ClaimState> {
    find_claim_as_of(ledger, id_or_key, None)
}

/// [`find_claim`] as the ledger stood after entry `as_of`.
fn find_claim_as_of<S: Storage>(
    ledger: &Ledger<S>,
    id_or_key: &str,
    as_of: Option<claimledger_core::Seq>,
) -> CliResult<ClaimState> {
    let missing = || CliError::input(format!("no claim has the id or key {id_or_key:?}"));
    let id = ledger.resolve(id_or_key)?.ok_or_else(missing)?;
    let state = ledger.claim_as_of(id, as_of)?;
    match (state, as_of) {
        (Some(state), _) => Ok(state),
        (None, Some(seq)) if seq.0 == 0 => Err(CliError::input(format!(
            "the ledger held no claims yet at that time, so not {id_or_key:?}"
        ))),
        (None, Some(seq)) => Err(CliError::input(format!(
            "claim {id_or_key:?} was recorded after entry {seq}"
        ))),
        (None, None) => Err(missing()),
    }
}

/// Prints the id of a claim just written. The entry is already durable, so a failure to print
/// says so: whoever retries must not record the claim twice.
fn print_committed_id(
    out: &mut dyn std::io::Write,
    receipt: &claimledger_store::Receipt,
) -> CliResult {
    match writeln!(out, "{}", receipt.claim_id).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::BrokenPipe),
        Err(e) => Err(CliError::io(format!(
            "claim {} was recorded as entry {}, but its id could not be written: {e}",
            receipt.claim_id, receipt.seq
        ))),
    }
}

/// A claim written with `add` or `revise` may list only snapshots the evidence store holds:
/// `claims archive` keeps them, `claims import --evidence-dir` brings them.
fn snapshots_held(store: &claimledger_store::EvidenceStore, command: &InputCommand) -> CliResult {
    match store.first_missing(command) {
        None => Ok(()),
        Some((field, sha256)) => Err(CliError::input(format!(
            "field `{field}`: the ledger keeps no snapshot {sha256}; keep one with `claims \
             archive`, or bring it with `claims import --evidence-dir DIR`"
        ))),
    }
}

/// Prints a JSON value, pretty, and a line break.
fn print_json(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> CliResult {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
