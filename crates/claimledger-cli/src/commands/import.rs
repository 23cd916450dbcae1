//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use crate::progress::Progress;
use claimledger_cli::import_file::Batches;
use claimledger_core::input::Command;
use claimledger_store::{Storage, StreamError, SubmitError};
use std::io::{BufReader, Read};

pub fn cmd_import<S: Storage>(ctx: &mut Ctx<'_, S>, args: ImportArgs) -> CliResult<Exit> {
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
            Ok(batch) => Some(Ok(batch
                .into_iter()
                .map(|(line, command)| {
                    line_numbers.push(line);
                    command
                })
                .collect::<Vec<Command>>())),
            // Input that ends in an error after Ctrl-C ended because of it.
            Err(error) => Some(Err(stop.check().err().unwrap_or_else(|| in_file(error)))),
        }
    });
    let submitted = ledger.submit_stream(&mut batches, &context);
    progress.finish();
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
