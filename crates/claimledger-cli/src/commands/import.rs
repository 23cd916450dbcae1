//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output;
use crate::progress::Progress;
use claimledger_cli::import_file::Batches;
use claimledger_core::input::Command;
use claimledger_core::SnapshotHash;
use claimledger_store::evidence::CopyError;
use claimledger_store::{EvidenceStore, StreamError, SubmitError};
use std::io::{BufReader, Read, Write};
use std::process::ExitCode;

pub fn cmd_import(env: &Env, args: ImportArgs) -> CliResult<ExitCode> {
    let name = args.file.display().to_string();
    let reader: Box<dyn Read + Send> = if name == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file).map_err(|e| CliError::file("read", &args.file, &e))?,
        )
    };
    let size = if name == "-" {
        0
    } else {
        std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0)
    };
    let progress = Progress::bytes(env.quiet || size == 0, size, "reading");
    let reader = BufReader::with_capacity(
        1 << 16,
        Counted {
            inner: reader,
            read: 0,
            progress: &progress,
        },
    );
    let context = env.submit_context()?;
    let supplied = match &args.evidence_dir {
        Some(dir) if !dir.is_dir() => {
            return Err(CliError::input(format!(
                "--evidence-dir {}: not a directory",
                dir.display()
            )))
        }
        Some(dir) => Some(EvidenceStore::flat(dir)),
        None => None,
    };
    let store = EvidenceStore::of_ledger(&env.ledger_dir);
    let mut created: Vec<SnapshotHash> = Vec::new();
    let mut ledger = env.open_to_write()?;
    crate::interrupt::watch("nothing was imported; the ledger is as it was");
    let in_file = |error| CliError::input(format!("{name}: {error}"));
    let mut source = Batches::new(reader, args.csv).map_err(in_file)?;
    let mut line_numbers: Vec<u64> = Vec::new();
    // The file is read and parsed a batch ahead, on a thread of its own, while the batch
    // before is decided and written: on two cores, parsing overlaps the writing.
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let submitted = std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let batch = source.next_batch();
            let last = batch.as_ref().map_or(true, Vec::is_empty);
            if sender.send(batch).is_err() || last {
                return;
            }
        });
        let mut batches = std::iter::from_fn(|| {
            if let Err(interrupted) = crate::interrupt::check() {
                return Some(Err(interrupted));
            }
            match receiver.recv() {
                Ok(Ok(batch)) if batch.is_empty() => {
                    // Everything is read and checked: what follows is the write itself.
                    crate::interrupt::committing();
                    progress.phase("writing");
                    None
                }
                Ok(Ok(batch)) => {
                    let mut commands = Vec::with_capacity(batch.len());
                    for (line, command) in batch {
                        if let Err(error) = take_snapshots(
                            || format!("{name}: line {line}"),
                            &command,
                            &store,
                            supplied.as_ref(),
                            &mut created,
                        ) {
                            return Some(Err(error));
                        }
                        line_numbers.push(line);
                        commands.push(command);
                    }
                    Some(Ok(commands))
                }
                Ok(Err(error)) => Some(Err(in_file(error))),
                // The reading thread ended without saying the file ended: never taken for the
                // end of the file, which would commit part of it.
                Err(std::sync::mpsc::RecvError) => Some(Err(CliError::io(format!(
                    "{name}: the reading of the file stopped before its end; nothing was imported"
                )))),
            }
        });
        let submitted = ledger.submit_stream(&mut batches, &context);
        // A submission refused before the end of the file stops the reading thread.
        drop(receiver);
        // Stopped for Ctrl-C: the reading thread may be blocked on input that never ends
        // (`claims import -`), and leaving this scope would wait for it.
        if submitted.is_err() {
            crate::interrupt::exit_if_stopping();
        }
        submitted
    });
    progress.finish();
    if matches!(
        submitted,
        Err(StreamError::Input(_)) | Err(StreamError::Submit(SubmitError::Rejected { .. }))
    ) {
        // Refused, so no entry names them: the snapshots this import put in place go too.
        for sha256 in &created {
            store.remove(sha256).ok();
        }
    }
    let submitted = submitted.map_err(|error| match error {
        StreamError::Input(error) => error,
        StreamError::Submit(SubmitError::Rejected { command, reason }) => CliError::input(format!(
            "{name}: line {}: {reason}; nothing was imported",
            line_numbers[command]
        )),
        StreamError::Submit(SubmitError::Store(store)) => store.into(),
    })?;
    if submitted.entries == 0 {
        return Err(CliError::input(format!("{name}: no claims in the file")));
    }
    writeln!(
        std::io::stdout(),
        "imported {} {} ({} recorded, {} revised); head {}",
        submitted.entries,
        output::noun(submitted.entries, "entry", "entries"),
        submitted.recorded,
        submitted.entries - submitted.recorded,
        ledger.head()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Puts in the evidence store the snapshots a line's sources list that it lacks, from the
/// directory given with `--evidence-dir`, each checked against its hash and size; notes those
/// it put there in `created`. Says what is missing or wrong, naming the field.
fn take_snapshots(
    at: impl Fn() -> String,
    command: &Command,
    store: &EvidenceStore,
    supplied: Option<&EvidenceStore>,
    created: &mut Vec<SnapshotHash>,
) -> CliResult {
    let refused = |why: String| CliError::input(format!("{}: {why}; nothing was imported", at()));
    let sources = match command {
        Command::Record(record) => &record.claim.sources,
        Command::Revise(revise) => match &revise.changes.sources {
            Some(sources) => sources,
            None => return Ok(()),
        },
    };
    for (i, source) in sources.iter().enumerate() {
        for (j, item) in source.archived.iter().enumerate() {
            if store.contains(&item.sha256) {
                continue;
            }
            let field = format!("field `sources[{i}].archived[{j}].sha256`");
            let Some(supplied) = supplied else {
                return Err(refused(format!(
                    "{field}: the ledger keeps no snapshot {}; supply the file with --evidence-dir DIR (named by its SHA-256)",
                    item.sha256
                )));
            };
            match store.put_from(supplied, &item.sha256, item.size) {
                Ok(Some(stored)) => {
                    if stored.created {
                        created.push(stored.sha256);
                    }
                }
                Ok(None) => {
                    return Err(refused(format!(
                        "{field}: snapshot {} is neither in the ledger nor in {}",
                        item.sha256,
                        supplied.root().display()
                    )))
                }
                Err(CopyError::Write(e)) => return Err(CliError::io(e.to_string())),
                Err(CopyError::Read { path, error }) => {
                    return Err(CliError::file("read", &path, &error))
                }
                Err(e) => return Err(refused(format!("{field}: {e}"))),
            }
        }
    }
    Ok(())
}

/// Counts the bytes read, for the progress bar.
struct Counted<'a, R> {
    inner: R,
    read: u64,
    progress: &'a Progress,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.read += read as u64;
        self.progress.set(self.read);
        Ok(read)
    }
}
