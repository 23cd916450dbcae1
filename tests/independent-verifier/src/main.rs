//! `verify-export`: an independent verifier for claimledger exports.
//!
//! Written from `docs/FORMAT.md` alone (sections 1 to 4, and the tree of section 8), without
//! reading or linking any claimledger code, to show that the document is enough to check an
//! export, its checkpoint's root included.
//!
//! ```text
//! verify-export [--expect-head COUNT:HASH] [FILE]
//! ```
//!
//! Reads FILE (or stdin when FILE is absent or `-`). On success prints
//! `OK N entries, head N:HASH` and what the bundle's checkpoint showed, and exits 0; on the first failure prints
//! `FAILED line N: <reason>` and exits 1; usage and I/O errors exit 2.

use independent_verifier::{parse_head, verify, Head};
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: verify-export [--expect-head COUNT:HASH] [FILE]";

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("verify-export: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Err` is a usage or I/O error (exit 2).
fn run() -> Result<ExitCode, String> {
    let mut expect: Option<Head> = None;
    let mut file: Option<String> = None;
    let mut args = std::env::args_os().skip(1);
    let mut options_done = false;
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|a| format!("argument is not valid UTF-8: {a:?}\n{USAGE}"))?;
        if !options_done && (arg == "-h" || arg == "--help") {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{USAGE}").map_err(|e| format!("cannot write to stdout: {e}"))?;
            return Ok(ExitCode::SUCCESS);
        } else if !options_done && arg == "--" {
            options_done = true;
        } else if !options_done && (arg == "--expect-head" || arg.starts_with("--expect-head=")) {
            let value = match arg.strip_prefix("--expect-head=") {
                Some(v) => v.to_owned(),
                None => args
                    .next()
                    .ok_or_else(|| format!("--expect-head needs a value COUNT:HASH\n{USAGE}"))?
                    .into_string()
                    .map_err(|a| format!("argument is not valid UTF-8: {a:?}\n{USAGE}"))?,
            };
            if expect.is_some() {
                return Err(format!("--expect-head given more than once\n{USAGE}"));
            }
            expect = Some(parse_head(&value).map_err(|e| format!("--expect-head: {e}\n{USAGE}"))?);
        } else if !options_done && arg.starts_with('-') && arg != "-" {
            return Err(format!("unknown option {arg:?}\n{USAGE}"));
        } else if file.is_some() {
            return Err(format!("more than one FILE given\n{USAGE}"));
        } else {
            file = Some(arg);
        }
    }

    let mut input = Vec::new();
    match file.as_deref() {
        None | Some("-") => std::io::stdin()
            .lock()
            .read_to_end(&mut input)
            .map_err(|e| format!("cannot read stdin: {e}"))?,
        Some(path) => {
            input = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            input.len()
        }
    };

    let (message, code) = match verify(&input, expect.as_ref()) {
        Ok(report) => (
            format!(
                "OK {} entries, head {}{}",
                report.entries,
                report.head(),
                match &report.checkpoint {
                    None => "; no checkpoint (entries alone)".to_owned(),
                    Some(c) => format!(
                        "; checkpoint of {} matches ({})",
                        c.origin,
                        if c.signed {
                            "signed; signature not checked"
                        } else {
                            "unsigned"
                        }
                    ),
                }
            ),
            ExitCode::SUCCESS,
        ),
        Err(failure) => (failure.to_string(), ExitCode::from(1)),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{message}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    Ok(code)
}
