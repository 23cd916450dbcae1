//! `claims import`: JSON Lines (or CSV with --csv), validated whole, then committed all or
//! nothing.

use crate::cli::ImportArgs;
use crate::csv_input;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use claimledger_core::input::{self, Command};
use claimledger_store::{StreamError, SubmitError};
use rayon::prelude::*;
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
    let context = env.submit_context()?;
    let mut ledger = env.open()?;
    let mut source = if args.csv {
        Source::Csv(CsvRows::new(reader, &name)?)
    } else {
        Source::Lines(Lines::new(reader))
    };
    let mut line_numbers: Vec<u64> = Vec::new();
    let mut batches = std::iter::from_fn(|| {
        let batch = match &mut source {
            Source::Lines(lines) => lines.next_batch(&name),
            Source::Csv(rows) => rows.next_batch(&name),
        };
        match batch {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => Some(Ok(batch
                .into_iter()
                .map(|(line, command)| {
                    line_numbers.push(line);
                    command
                })
                .collect::<Vec<Command>>())),
            Err(error) => Some(Err(error)),
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
        std::io::stdout(),
        "imported {} entries ({} recorded, {} revised); head {}",
        submitted.entries,
        submitted.recorded,
        submitted.entries - submitted.recorded,
        ledger.head()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Lines read per batch: parsed in parallel, then submitted, so that memory holds one batch.
const BATCH_LINES: usize = 4096;

/// Where commands come from, each with its line number.
enum Source<R: Read> {
    Lines(Lines<R>),
    Csv(CsvRows<R>),
}

/// JSON Lines, read a batch at a time.
struct Lines<R> {
    reader: R,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R) -> Lines<R> {
        Lines { reader, number: 0 }
    }

    /// The next batch of commands (empty at the end), or the first bad line's error. Lines
    /// are read in order and parsed in parallel. Blank lines are skipped.
    fn next_batch(&mut self, name: &str) -> CliResult<Vec<(u64, Command)>> {
        let mut lines: Vec<(u64, Vec<u8>)> = Vec::with_capacity(BATCH_LINES);
        while lines.len() < BATCH_LINES {
            let mut line = Vec::with_capacity(1024);
            self.number += 1;
            let number = self.number;
            let read = (&mut self.reader)
                .take(LINE_LEN_MAX as u64 + 2)
                .read_until(b'\n', &mut line)
                .map_err(|e| CliError::input(format!("{name}: line {number}: cannot read: {e}")))?;
            if read == 0 {
                break;
            }
            let content_len = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(&line)
                .len();
            if content_len > LINE_LEN_MAX {
                return Err(CliError::input(format!(
                    "{name}: line {number}: longer than {LINE_LEN_MAX} bytes"
                )));
            }
            line.truncate(content_len);
            lines.push((number, line));
        }
        let parsed: Vec<CliResult<Option<(u64, Command)>>> = lines
            .par_iter()
            .map(|(number, content)| {
                let text = super::utf8(content)
                    .map_err(|why| CliError::input(format!("{name}: line {number}: {why}")))?;
                if text.trim().is_empty() {
                    return Ok(None);
                }
                let command = input::parse_command(text)
                    .map_err(|e| CliError::input(format!("{name}: line {number}: {e}")))?;
                Ok(Some((*number, command)))
            })
            .collect();
        parsed.into_iter().filter_map(Result::transpose).collect()
    }
}

/// A CSV file with a header row (see `csv_input`), read a batch of records at a time.
struct CsvRows<R: Read> {
    csv: csv::Reader<LineCap<R>>,
    columns: Vec<String>,
    record: csv::StringRecord,
}

impl<R: Read> CsvRows<R> {
    fn new(reader: R, name: &str) -> CliResult<CsvRows<R>> {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(LineCap {
                inner: reader,
                run: 0,
            });
        let at = |line: u64, why: String| CliError::input(format!("{name}: line {line}: {why}"));
        let header = csv.headers().map_err(|e| at(1, csv_error(&e)))?.clone();
        let columns = csv_input::check_header(&header).map_err(|why| at(1, why))?;
        Ok(CsvRows {
            csv,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    /// The next batch of commands (empty at the end), or the first bad record's error.
    fn next_batch(&mut self, name: &str) -> CliResult<Vec<(u64, Command)>> {
        let at = |line: u64, why: String| CliError::input(format!("{name}: line {line}: {why}"));
        let mut commands = Vec::with_capacity(BATCH_LINES);
        while commands.len() < BATCH_LINES {
            let line = self.csv.position().line() + 1;
            match self.csv.read_record(&mut self.record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(at(e.position().map_or(line, |p| p.line()), csv_error(&e))),
            }
            let record = &self.record;
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
            let json =
                csv_input::row_to_json(&self.columns, record).map_err(|why| at(line, why))?;
            let command = input::command_from_json(&json).map_err(|e| at(line, e.to_string()))?;
            commands.push((line, command));
        }
        Ok(commands)
    }
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
