//! Reading an import file (`claims import`): JSON Lines, or CSV with a header row, each line
//! checked against the input format (docs/FORMAT.md, "Input") but not yet against the ledger.

use crate::csv_input;
use claimledger_core::input::{self, Command};
use rayon::prelude::*;
use std::io::{BufRead, Read};

/// The longest line accepted, in bytes, not counting its line break. A longer line is refused
/// as soon as this much of it has been read, so a hostile input cannot make the reader hold it
/// whole. CSV records are held to the same limit.
pub const LINE_LEN_MAX: usize = 1 << 20;

/// A file's commands, each with the line it starts on.
#[derive(Debug, Default)]
pub struct Parsed {
    pub commands: Vec<Command>,
    pub line_numbers: Vec<u64>,
}

/// Why a file is refused: the first bad line and what is wrong with it. One line of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for LineError {}

fn at(line: u64, reason: impl Into<String>) -> LineError {
    LineError {
        line,
        reason: reason.into(),
    }
}

/// The UTF-8 byte order mark, which some editors put at the start of a file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Input bytes as text, or where they stop being UTF-8 (counting bytes from 1).
pub fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1))
}

/// Lines read per batch: parsed in parallel, then handed on, so that memory holds one batch.
pub const BATCH_LINES: usize = 4096;

/// An import file read a batch of commands at a time: JSON Lines or CSV.
#[derive(Debug)]
pub enum Batches<R: Read> {
    Lines(Lines<R>),
    Csv(CsvRows<R>),
}

impl<R: BufRead> Batches<R> {
    /// Starts reading; a CSV file's header row is read and checked here.
    pub fn new(reader: R, csv: bool) -> Result<Batches<R>, LineError> {
        Ok(if csv {
            Batches::Csv(CsvRows::new(reader)?)
        } else {
            Batches::Lines(Lines::new(reader))
        })
    }

    /// The next batch of commands with their line numbers (empty at the end), or the first bad
    /// line's error.
    pub fn next_batch(&mut self) -> Result<Vec<(u64, Command)>, LineError> {
        match self {
            Batches::Lines(lines) => lines.next_batch(),
            Batches::Csv(rows) => rows.next_batch(),
        }
    }

    /// Reads the whole file, stopping at the first bad line.
    pub fn read_all(mut self) -> Result<Parsed, LineError> {
        let mut parsed = Parsed::default();
        loop {
            let batch = self.next_batch()?;
            if batch.is_empty() {
                return Ok(parsed);
            }
            for (line, command) in batch {
                parsed.commands.push(command);
                parsed.line_numbers.push(line);
            }
        }
    }
}

/// Parses every JSON line, stopping at the first bad one. Blank lines are skipped.
pub fn parse_lines(reader: impl BufRead) -> Result<Parsed, LineError> {
    Batches::new(reader, false)?.read_all()
}

/// Parses a CSV file with a header row (see `csv_input`), stopping at the first bad record.
pub fn parse_csv(reader: impl BufRead) -> Result<Parsed, LineError> {
    Batches::new(reader, true)?.read_all()
}

/// JSON Lines, read a batch at a time.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines { reader, number: 0 }
    }

    /// The next batch of commands (empty at the end), or the first bad line's error. Lines are
    /// read in order and parsed in parallel; blank lines are skipped.
    pub fn next_batch(&mut self) -> Result<Vec<(u64, Command)>, LineError> {
        let mut lines: Vec<(u64, Vec<u8>)> = Vec::with_capacity(BATCH_LINES);
        while lines.len() < BATCH_LINES {
            let mut line = Vec::with_capacity(1024);
            self.number += 1;
            let number = self.number;
            let read = (&mut self.reader)
                .take(LINE_LEN_MAX as u64 + 2)
                .read_until(b'\n', &mut line)
                .map_err(|e| at(number, format!("cannot read: {e}")))?;
            if read == 0 {
                break;
            }
            let content_len = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(&line)
                .len();
            if content_len > LINE_LEN_MAX {
                return Err(at(number, format!("longer than {LINE_LEN_MAX} bytes")));
            }
            line.truncate(content_len);
            // A byte order mark, as some editors write, is accepted at the start of the file
            // (as CSV accepts it); anywhere else it is named rather than left to the JSON parser.
            if let Some(rest) = line.strip_prefix(BOM) {
                if number != 1 {
                    return Err(at(
                        number,
                        "starts with a byte order mark (U+FEFF), which may only start the file",
                    ));
                }
                line = rest.to_vec();
            }
            lines.push((number, line));
        }
        let parsed: Vec<Result<Option<(u64, Command)>, LineError>> = lines
            .par_iter()
            .map(|(number, content)| {
                let text = utf8(content).map_err(|why| at(*number, why))?;
                if text.trim().is_empty() {
                    return Ok(None);
                }
                let command = input::parse_command(text).map_err(|e| at(*number, e.to_string()))?;
                Ok(Some((*number, command)))
            })
            .collect();
        parsed.into_iter().filter_map(Result::transpose).collect()
    }
}

/// A CSV file with a header row (see `csv_input`), read a batch of records at a time.
#[derive(Debug)]
pub struct CsvRows<R: Read> {
    csv: csv::Reader<LineCap<R>>,
    columns: Vec<String>,
    record: csv::StringRecord,
}

impl<R: Read> CsvRows<R> {
    pub fn new(reader: R) -> Result<CsvRows<R>, LineError> {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(LineCap::new(reader));
        let header = csv.headers().map_err(|e| at(1, csv_error(&e)))?.clone();
        csv.get_ref().check_quotes_closed()?;
        let columns = csv_input::check_header(&header).map_err(|why| at(1, why))?;
        Ok(CsvRows {
            csv,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    /// The next batch of commands (empty at the end), or the first bad record's error.
    pub fn next_batch(&mut self) -> Result<Vec<(u64, Command)>, LineError> {
        let mut commands = Vec::with_capacity(BATCH_LINES);
        while commands.len() < BATCH_LINES {
            let line = self.csv.position().line() + 1;
            match self.csv.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.csv.get_ref().check_quotes_closed()?;
                    break;
                }
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
            // A quote left open swallows the rest of the file into one field, which the csv
            // reader accepts: refuse it before anything is read from that field.
            self.csv.get_ref().check_quotes_closed()?;
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

/// Where the CSV reader is, as far as quotes go (RFC 4180 quoting, as the csv reader reads it:
/// a quote opens a field only at its start, and `""` inside quotes is a quote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of `""`.
    QuoteInQuoted,
}

/// Passes the bytes of a CSV file to the CSV reader while watching them: fails a read once more
/// than [`LINE_LEN_MAX`] bytes come without a line break, so that the CSV reader, which holds a
/// record whole, never holds an endless one; and notes a quoted field still open at the end.
#[derive(Debug)]
struct LineCap<R> {
    inner: R,
    run: usize,
    line: u64,
    quoting: Quoting,
    /// The line the open quoted field started on.
    quote_line: u64,
    ended: bool,
}

impl<R> LineCap<R> {
    fn new(inner: R) -> LineCap<R> {
        LineCap {
            inner,
            run: 0,
            line: 1,
            quoting: Quoting::FieldStart,
            quote_line: 0,
            ended: false,
        }
    }

    /// Refuses a file that ended inside a quoted field.
    fn check_quotes_closed(&self) -> Result<(), LineError> {
        if self.ended && self.quoting == Quoting::Quoted {
            return Err(at(
                self.quote_line,
                "a quoted field opened on this line is not closed by the end of the file",
            ));
        }
        Ok(())
    }

    fn watch(&mut self, byte: u8) {
        let line_break = byte == b'\n' || byte == b'\r';
        self.quoting = match (self.quoting, byte) {
            (Quoting::FieldStart, b'"') => {
                self.quote_line = self.line;
                Quoting::Quoted
            }
            (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
            (Quoting::Quoted, _) => Quoting::Quoted,
            (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
            (_, b',') => Quoting::FieldStart,
            (_, _) if line_break => Quoting::FieldStart,
            (_, _) => Quoting::Unquoted,
        };
        if byte == b'\n' {
            self.line += 1;
        }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read == 0 && !buf.is_empty() {
            self.ended = true;
        }
        for &byte in &buf[..read] {
            self.run = if byte == b'\n' { 0 } else { self.run + 1 };
            if self.run > LINE_LEN_MAX + 1 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line is longer than {LINE_LEN_MAX} bytes"),
                ));
            }
            self.watch(byte);
        }
        Ok(read)
    }
}
