//! The one place where failures become messages and exit codes.

use claimledger_store::{StoreError, SubmitError};
use std::process::ExitCode;

/// How a command ended: the process's exit code (README, "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit(pub u8);

impl Exit {
    pub const SUCCESS: Exit = Exit(0);

    pub fn failed(kind: ExitKind) -> Exit {
        Exit(kind as u8)
    }
}

/// The exit codes `claims` uses (README, "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// An integrity failure was found: verify failed, or stored data does not decode.
    Integrity = 1,
    /// Bad input or usage; nothing was changed.
    Input = 2,
    /// Another process held the ledger for longer than the wait.
    Busy = 3,
    /// The environment failed: I/O, a full disk, permissions.
    Io = 4,
    /// Interrupted (Ctrl-C) before anything was written: 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

#[derive(Debug)]
pub enum CliError {
    Failed {
        kind: ExitKind,
        message: String,
    },
    /// Standard output was closed (`claims log | head`): stop quietly.
    BrokenPipe,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> CliError {
        CliError::Failed {
            kind: ExitKind::Input,
            message: message.into(),
        }
    }

    pub fn busy(message: impl Into<String>) -> CliError {
        CliError::Failed {
            kind: ExitKind::Busy,
            message: message.into(),
        }
    }

    pub fn integrity(message: impl Into<String>) -> CliError {
        CliError::Failed {
            kind: ExitKind::Integrity,
            message: message.into(),
        }
    }

    pub fn io(message: impl Into<String>) -> CliError {
        CliError::Failed {
            kind: ExitKind::Io,
            message: message.into(),
        }
    }

    /// A file the user named could not be opened, read, created or written. Whether that is
    /// bad input or the environment depends on why (CLI.md, "Exit codes"): a path that names
    /// nothing, a directory, or a file that must not be replaced is bad input, exit 2; the
    /// system refusing (permissions, a read-only or full disk, an I/O error) is exit 4.
    pub fn file(action: &str, path: &std::path::Path, error: &std::io::Error) -> CliError {
        use std::io::ErrorKind as K;
        let message = format!("cannot {action} {}: {error}", path.display());
        match error.kind() {
            K::NotFound
            | K::NotADirectory
            | K::IsADirectory
            | K::AlreadyExists
            | K::InvalidInput
            | K::InvalidFilename => CliError::input(message),
            _ => CliError::io(message),
        }
    }

    /// Prints the error as one line on standard error (`err`) and gives the exit code.
    pub fn report(self, err: &mut dyn std::io::Write) -> Exit {
        match self {
            CliError::BrokenPipe => Exit::SUCCESS,
            CliError::Failed { kind, message } => {
                let one_line = message.replace(['\n', '\r'], " ");
                // Standard error itself may be closed or full; the exit code still tells.
                let _ = err.write_all(format!("error: {one_line}\n").as_bytes());
                Exit::failed(kind)
            }
        }
    }
}

/// Writes one line to the process's standard error, ignoring failure: `eprintln!` would panic
/// on a closed or full standard error. For what a process says outside any command (the
/// watchdog, Ctrl-C); commands write to their `Io`.
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(line.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// What sled says when its own files do not hold what it wrote (a `conf` it cannot read, a
/// page it does not expect): damage, not an environment failure.
const SLED_REFUSALS: [&str; 3] = [
    "Unsupported: ",
    "Unexpected bug has happened: ",
    "Collection ",
];

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> CliError {
        let (kind, mut message) = match &error {
            StoreError::Busy { path, waited } => (
                ExitKind::Busy,
                format!(
                    "ledger busy: another claims process held {} for {}; try again, or wait \
                     longer with --wait",
                    path.display(),
                    crate::output::duration(*waited)
                ),
            ),
            StoreError::NotALedger(_) | StoreError::AlreadyExists(_) => {
                (ExitKind::Input, error.to_string())
            }
            StoreError::Corrupt { .. } => (ExitKind::Integrity, error.to_string()),
            StoreError::Backend(what) if SLED_REFUSALS.iter().any(|s| what.starts_with(s)) => (
                ExitKind::Integrity,
                format!("storage corrupted: the storage engine refuses the ledger: {what}"),
            ),
            StoreError::NewerFormat { .. }
            | StoreError::OlderFormat { .. }
            | StoreError::Io { .. }
            | StoreError::CopyTooLarge { .. }
            | StoreError::Backend(_) => (ExitKind::Io, error.to_string()),
        };
        // sled's corruption report ends in a backtrace: not for users.
        if let Some(at) = message.find(" backtrace ") {
            message.truncate(at);
        }
        CliError::Failed { kind, message }
    }
}

impl From<SubmitError> for CliError {
    fn from(error: SubmitError) -> CliError {
        match error {
            SubmitError::Store(store) => store.into(),
            rejected @ SubmitError::Rejected { .. } => CliError::input(rejected.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> CliError {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::io(format!("cannot write output: {error}"))
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.0)
    }
}

/// Reports a command-line parsing failure: help and version go to standard output as clap
/// renders them; a usage error becomes one line and exit code 2, like every other bad input.
pub fn usage(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Written here rather than by clap, which ignores a failed write.
            use std::io::Write;
            let text = error.render().to_string();
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => CliError::from(e).report(&mut std::io::stderr()).into(),
            }
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(ExitKind::Input as u8)
        }
        _ => {
            let rendered = error.render().to_string();
            // clap's first paragraph is the error (the required arguments it lists follow on
            // indented lines); usage and tips come after a blank line.
            let paragraph: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|line| !line.is_empty())
                .collect();
            let joined = paragraph.join(" ");
            let message = joined.strip_prefix("error: ").unwrap_or(&joined);
            CliError::input(format!("{message} (see `claims --help`)"))
                .report(&mut std::io::stderr())
                .into()
        }
    }
}
