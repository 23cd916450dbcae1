//! One module per command; `run` dispatches.

mod add;
mod checkpoint;
mod compare;
mod completions;
mod demo;
mod export;
mod head;
mod history;
mod import;
mod init;
mod key;
mod list;
mod log;
mod prove;
mod revise;
mod serve;
mod show;
mod subjects;
mod verify;
mod verify_proof;

use crate::cli::{Args, Command};
use crate::env::Env;
use crate::error::{CliError, CliResult};
use claimledger_cli::import_file::utf8;
use claimledger_core::decide::ClaimState;
use claimledger_core::input::{self, Command as InputCommand};
use claimledger_store::{Ledger, Storage};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: Args) -> CliResult<ExitCode> {
    let env = Env::from_args(&args)?;
    crate::watchdog::start(env.stall_timeout);
    match args.command {
        Command::Init(init) => init::cmd_init(&env, init),
        Command::Add(add) => add::cmd_add(&env, add),
        Command::Revise(revise) => revise::cmd_revise(&env, revise),
        Command::Import(import) => import::cmd_import(&env, import),
        Command::Show(show) => show::cmd_show(&env, show),
        Command::List(list) => list::cmd_list(&env, list),
        Command::History(history) => history::cmd_history(&env, history),
        Command::Compare(compare) => compare::cmd_compare(&env, compare),
        Command::Subjects(subjects) => subjects::cmd_subjects(&env, subjects),
        Command::Log(log) => log::cmd_log(&env, log),
        Command::Verify(verify) => verify::cmd_verify(&env, verify),
        Command::Head(head) => head::cmd_head(&env, head),
        Command::Export => export::cmd_export(&env),
        Command::Demo => demo::cmd_demo(&env),
        Command::Completions { shell } => completions::cmd_completions(shell),
        Command::Man => completions::cmd_man(),
        Command::Key(key) => key::cmd_key(&env, key),
        Command::Checkpoint(checkpoint) => checkpoint::cmd_checkpoint(&env, checkpoint),
        Command::Prove(prove) => prove::cmd_prove(&env, prove),
        Command::VerifyProof(proof) => verify_proof::cmd_verify_proof(&env, proof),
        Command::Serve(serve) => serve::cmd_serve(&env, serve),
        Command::Token(token) => serve::cmd_token(token),
    }
}

/// The largest single JSON object `add --json` and `revise --json` read.
pub const JSON_OBJECT_LEN_MAX: u64 = 1 << 20;

/// Reads one JSON value from a file or `-` (standard input), refusing oversized input
/// without reading all of it.
fn read_json(path: &Path) -> CliResult<serde_json::Value> {
    let mut text = Vec::new();
    let name = path.display().to_string();
    let read = if name == "-" {
        std::io::stdin()
            .lock()
            .take(JSON_OBJECT_LEN_MAX + 1)
            .read_to_end(&mut text)
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(JSON_OBJECT_LEN_MAX + 1).read_to_end(&mut text))
    };
    read.map_err(|e| CliError::input(format!("cannot read {name}: {e}")))?;
    if text.len() as u64 > JSON_OBJECT_LEN_MAX {
        return Err(CliError::input(format!(
            "{name}: longer than {JSON_OBJECT_LEN_MAX} bytes"
        )));
    }
    let text = utf8(&text).map_err(|why| CliError::input(format!("{name}: {why}")))?;
    input::parse_json(text).map_err(|e| CliError::input(format!("{name}: {e}")))
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
                "--as-of {seq}: the ledger holds {} entries",
                ledger.head().count
            )));
        }
        return Ok(Some(claimledger_core::Seq(seq)));
    }
    let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| {
        CliError::input(format!(
            "--as-of {text:?}: expected an entry number or an RFC 3339 time"
        ))
    })?;
    let at = claimledger_core::Timestamp::new(at.with_timezone(&chrono::Utc));
    // Before the first entry, the ledger was empty: entry 0.
    Ok(Some(
        ledger.seq_at_time(at)?.unwrap_or(claimledger_core::Seq(0)),
    ))
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
fn print_committed_id(receipt: &claimledger_store::Receipt) -> CliResult {
    use std::io::Write;
    match writeln!(std::io::stdout(), "{}", receipt.claim_id) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::BrokenPipe),
        Err(e) => Err(CliError::io(format!(
            "claim {} was recorded as entry {}, but its id could not be written: {e}",
            receipt.claim_id, receipt.seq
        ))),
    }
}

/// Prints a JSON value, pretty, and a line break.
fn print_json(out: &mut impl std::io::Write, value: &impl serde::Serialize) -> CliResult {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// Prints a JSON array of the values `items` yields, each made as it is written, so that a
/// listing of many claims never holds the JSON of all of them at once. The output is the same
/// as [`print_json`] of the whole array.
fn print_json_array(
    out: &mut impl std::io::Write,
    items: impl Iterator<Item = serde_json::Value>,
) -> CliResult {
    struct Items<I>(std::cell::RefCell<Option<I>>);
    impl<I: Iterator<Item = serde_json::Value>> serde::Serialize for Items<I> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let items = self.0.borrow_mut().take();
            serializer.collect_seq(items.into_iter().flatten())
        }
    }
    print_json(out, &Items(std::cell::RefCell::new(Some(items))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A streamed array prints exactly what the whole array would.
    #[test]
    fn json_arrays_stream_as_they_print_whole() {
        let items = |n: usize| -> Vec<serde_json::Value> {
            (0..n)
                .map(|i| serde_json::json!({"i": i, "nested": {"list": [i, "x"]}, "empty": []}))
                .collect()
        };
        for n in [0, 1, 3] {
            let mut whole = Vec::new();
            print_json(&mut whole, &serde_json::Value::Array(items(n))).expect("print");
            let mut streamed = Vec::new();
            print_json_array(&mut streamed, items(n).into_iter()).expect("print");
            assert_eq!(
                String::from_utf8(streamed).expect("UTF-8"),
                String::from_utf8(whole).expect("UTF-8"),
                "{n} items"
            );
        }
    }
}
