//! `claims`: the command-line tool of claimledger. This file only parses arguments and owns
//! exit codes; each command lives in `commands/`.

mod cli;
mod commands;
mod env;
mod error;
mod interrupt;
mod output;
mod progress;
mod watchdog;

use std::process::ExitCode;

/// mimalloc instead of the system allocator: verify, import and listings allocate for every
/// entry they decode, on every core, where glibc's malloc spent a third of verify's time
/// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    watchdog::install_panic_hook();
    let args = match cli::Args::parse_with_sources() {
        Ok(args) => args,
        Err(error) => return error::usage(error),
    };
    match commands::run(args) {
        Ok(code) => code,
        Err(error) => error.report(),
    }
}
