//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use crate::progress::Progress;
use claimledger_cli::import_file::Batches;
use claimledger_core::input::Command;
use claimledger_core::SnapshotHash;
use claimledger_store::evidence::CopyError;
use claimledger_store::{EvidenceStore, Storage, StreamError, SubmitError};
use std::io::{BufReader, Read};
use std::path::Path;

pub fn cmd_import<S: Storage + Sync>(ctx: &mut Ctx<'_, S>, args: ImportArgs) -> CliResult<Exit> {
    let Ctx { env, io, ledgers } = ctx;
    let name = args.file.display().to_string();
    let (file, size) = if name == "-" {
        (None, 0)
    } else {
        let file = io
            .open_read(&args.file)
            .map_err(|e| CliError::file("read", &args.file, &e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Some(file), size)
    };
    let progress = Progress::bytes(io, size == 0, size, "reading");
    let reader: Box<dyn Read + '_> = match file {
        None => Box::new(&mut *io.input),
        Some(file) => Box::new(file),
    };
    let reader = BufReader::with_capacity(
        1 << 16,
        Counted {
            inner: reader,
            read: 0,
            progress: &progress,
        },
    );
    let context = env.submit_context()?;
    // A directory the user names is found from the user's working directory.
    let supplied = match &args.evidence_dir {
        Some(dir) if !env.user_path(dir).is_dir() => {
            return Err(CliError::input(format!(
                "--evidence-dir {}: not a directory",
                dir.display()
            )))
        }
        Some(dir) => Some((EvidenceStore::flat(&env.user_path(dir)), dir.as_path())),
        None => None,
    };
    let store = ledgers.evidence(env);
    let mut created: Vec<SnapshotHash> = Vec::new();
    let ledger = ledgers.write(env, io.err)?;
    let stop = &mut *io.stop;
    stop.watch("nothing was imported; the ledger is as it was");
    let in_file = |error| CliError::input(format!("{name}: {error}"));
    let mut source = Batches::new(reader, args.csv).map_err(in_file)?;
    let mut line_numbers: Vec<u64> = Vec::new();
    let mut batches = std::iter::from_fn(|| {
        if let Err(interrupted) = stop.check() {
            return Some(Err(interrupted));
        }
        match source.next_batch() {
            Ok(batch) if batch.is_empty() => {
                // Everything is read and checked: what follows is the write itself.
                stop.committing();
                progress.phase("writing");
                None
            }
            Ok(batch) => {
                let mut commands = Vec::with_capacity(batch.len());
                let supplied_ref = supplied.as_ref().map(|(store, name)| (store, *name));
                for (line, command) in batch {
                    if let Err(error) = take_snapshots(
                        || format!("{name}: line {line}"),
                        &command,
                        &store,
                        supplied_ref,
                        &mut created,
                    ) {
                        return Some(Err(error));
                    }
                    line_numbers.push(line);
                    commands.push(command);
                }
                Some(Ok(commands))
            }
            // Input that ends in an error after Ctrl-C ended because of it.
            Err(error) => Some(Err(stop.check().err().unwrap_or_else(|| in_file(error)))),
        }
    });
    let submitted = ledger.submit_stream(&mut batches, &context);
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
        io.out,
        "imported {} {} ({} recorded, {} revised); head {}",
        submitted.entries,
        output::noun(submitted.entries, "entry", "entries"),
        submitted.recorded,
        submitted.entries - submitted.recorded,
        ledger.head()
    )?;
    Ok(Exit::SUCCESS)
}

/// Puts in the evidence store the snapshots a line's sources list that it lacks, from the
/// directory given with `--evidence-dir`, each checked against its hash and size; notes those
/// it put there in `created`. Says what is missing or wrong, naming the field.
fn take_snapshots(
    at: impl Fn() -> String,
    command: &Command,
    store: &EvidenceStore,
    supplied: Option<(&EvidenceStore, &Path)>,
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
            let Some((supplied, supplied_name)) = supplied else {
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
                        supplied_name.display()
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
