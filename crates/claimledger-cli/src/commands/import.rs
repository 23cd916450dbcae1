//! `claims import`: JSON Lines, validated whole, then committed all or nothing.

use crate::cli::ImportArgs;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use claimledger_core::input::{self, Command};
use claimledger_store::SubmitError;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

/// The longest line accepted, in bytes. A longer line is refused as soon as this much of it
/// has been read, so a hostile input cannot make the reader hold it whole.
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
    let (commands, line_numbers) = parse_lines(BufReader::with_capacity(1 << 16, reader), &name)?;
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

/// Parses every line, stopping at the first bad one. Blank lines are skipped.
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
