//! Shell completions and the manual page, generated from the same clap definitions as the
//! parser, so they never disagree with it.

use crate::cli::Args;
use crate::error::CliResult;
use clap::CommandFactory;
use std::process::ExitCode;

pub fn cmd_completions(shell: clap_complete::Shell) -> CliResult<ExitCode> {
    let mut command = Args::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "claims", &mut out);
    Ok(ExitCode::SUCCESS)
}

pub fn cmd_man() -> CliResult<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Args::command()).render(&mut out)?;
    Ok(ExitCode::SUCCESS)
}
