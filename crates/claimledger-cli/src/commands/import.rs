//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::csv_input;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use claimledger_core::input::{self, Command};
use claimledger_store::SubmitError;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

/// The longest line accepted, in bytes, not counting its line break. A longer line is refused
/// as soon as this much of it has been read, so a hostile input cannot make the reader hold it
/// whole. CSV records are held to the same limit.
pub const LINE_LEN_MAX: usize = 1 << 20;

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
    let (commands, line_numbers) = if args.csv {
        parse_csv(reader, &name)?
    } else {
        parse_lines(reader, &name)?
    };
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

/// Parses every JSON line, stopping at the first bad one. Blank lines are skipped.
fn parse_lines(mut reader: impl BufRead, name: &str) -> CliResult<(Vec<Command>, Vec<u64>)> {
    let mut commands = Vec::new();
    let mut line_numbers = Vec::new();
    let mut line = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        let read = (&mut reader)
            .take(LINE_LEN_MAX as u64 + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| CliError::input(format!("{name}: line {number}: cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        let content = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(&line);
        if content.len() > LINE_LEN_MAX {
            return Err(CliError::input(format!(
                "{name}: line {number}: longer than {LINE_LEN_MAX} bytes"
            )));
        }
        let text = super::utf8(content)
            .map_err(|why| CliError::input(format!("{name}: line {number}: {why}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let command = input::parse_command(text)
            .map_err(|e| CliError::input(format!("{name}: line {number}: {e}")))?;
        commands.push(command);
        line_numbers.push(number);
    }
    Ok((commands, line_numbers))
}

/// Parses a CSV file with a header row (see `csv_input`), stopping at the first bad record.
fn parse_csv(reader: impl Read, name: &str) -> CliResult<(Vec<Command>, Vec<u64>)> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineCap {
            inner: reader,
            run: 0,
        });
    let at = |line: u64, why: String| CliError::input(format!("{name}: line {line}: {why}"));
    let header = csv.headers().map_err(|e| at(1, csv_error(&e)))?.clone();
    let columns = csv_input::check_header(&header).map_err(|why| at(1, why))?;
    let mut commands = Vec::new();
    let mut line_numbers = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(at(e.position().map_or(line, |p| p.line()), csv_error(&e))),
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.as_slice().len() > LINE_LEN_MAX {
            return Err(at(
                line,
                format!("the record is longer than {LINE_LEN_MAX} bytes"),
            ));
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let json = csv_input::row_to_json(&columns, &record).map_err(|why| at(line, why))?;
        let command = input::command_from_json(&json).map_err(|e| at(line, e.to_string()))?;
        commands.push(command);
        line_numbers.push(line);
    }
    Ok((commands, line_numbers))
}

fn csv_error(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("not valid UTF-8 (in field {})", err.field() + 1)
        }
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        _ => format!("not valid CSV: {error}"),
    }
}

/// Fails a read once more than [`LINE_LEN_MAX`] bytes come without a line break, so that the CSV
/// reader, which holds a record whole, never holds an endless one.
struct LineCap<R> {
    inner: R,
    run: usize,
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            self.run = if byte == b'\n' { 0 } else { self.run + 1 };
            if self.run > LINE_LEN_MAX + 1 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line is longer than {LINE_LEN_MAX} bytes"),
                ));
            }
        }
        Ok(read)
    }
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
