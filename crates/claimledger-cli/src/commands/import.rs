//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use claimledger_cli::import_file::{self, Parsed};
use claimledger_store::SubmitError;
use std::io::{BufReader, Read, Write};
use std::process::ExitCode;

pub fn cmd_import(env: &Env, args: ImportArgs) -> CliResult<ExitCode> {
    let name = args.file.display().to_string();
    let reader: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .map_err(|e| CliError::input(format!("cannot read {name}: {e}")))?,
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
    let Parsed {
        commands,
        line_numbers,
    } = if args.csv {
        import_file::parse_csv(reader)
    } else {
        import_file::parse_lines(reader)
    }
    .map_err(|e| CliError::input(format!("{name}: {e}")))?;
    progress.finish();
    if commands.is_empty() {
        return Err(CliError::input(format!("{name}: no claims in the file")));
    }
    let context = env.submit_context()?;
    let mut ledger = env.open()?;
    let receipts = ledger
        .submit(&commands, &context)
        .map_err(|error| match error {
            SubmitError::Rejected { command, reason } => CliError::input(format!(
                "{name}: line {}: {reason}; nothing was imported",
                line_numbers[command]
            )),
            SubmitError::Store(store) => store.into(),
        })?;
    let recorded = receipts.iter().filter(|r| r.revision == 1).count();
    writeln!(
        std::io::stdout(),
        "imported {} entries ({recorded} recorded, {} revised); head {}",
        receipts.len(),
        receipts.len() - recorded,
        ledger.head()
    )?;
    Ok(ExitCode::SUCCESS)
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
