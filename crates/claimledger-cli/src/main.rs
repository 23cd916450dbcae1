//! `claims`: the command-line tool of claimledger. This file only parses arguments, chooses
//! where the command runs, and owns exit codes; each command lives in `commands/`.

mod cli;
mod commands;
mod ctx;
mod env;
mod error;
mod interrupt;
mod io;
mod output;
mod progress;
mod served;
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
    if let Some(exit) = served::beside_server(&args) {
        return exit.into();
    }
    run_here(args).into()
}

/// Runs the command in this process, on the process's own streams and files.
fn run_here(args: cli::Args) -> error::Exit {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let env = match env::Env::from_args(&args, &|name| std::env::var(name).ok()) {
        Ok(env) => env,
        Err(error) => return error.report(&mut err),
    };
    watchdog::start(env.stall_timeout);
    let mut ledgers = ctx::LocalLedgers::default();
    let quiet = env.quiet;
    let mut ctx = ctx::Ctx {
        env,
        io: io::Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
            files: &mut io::LocalFiles,
            stop: &mut io::LocalStop,
            bars: &io::local_bars,
            quiet,
        },
        ledgers: &mut ledgers,
    };
    commands::run_to_exit(&mut ctx, args.command)
}
