//! `claims`: the command-line tool of claimledger. This file only parses arguments and owns
//! exit codes; each command lives in `commands/`.

mod cli;
mod commands;
mod env;
mod error;
mod fields;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(error) => error.report(),
    }
}
