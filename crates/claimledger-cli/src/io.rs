//! What a command reads and writes besides the ledger: standard output and error, standard
//! input, the files it names, and Ctrl-C. A command touches none of these directly, but
//! through the [`Io`] it is given, so that the same code runs in its own process (`claims`
//! alone: the process's streams, `std::fs`) and inside `claims serve` for a `claims` process
//! beside it (the client's own streams and files, passed to the server: `served.rs`). Its
//! output is then the same by construction.

use crate::error::CliResult;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use claimledger_server::local::OpenHow;

/// The files a command names on its command line, opened as its user, relative to its working
/// directory.
pub trait Files {
    fn open(&mut self, path: &Path, how: OpenHow) -> std::io::Result<File>;
    fn canonicalize(&mut self, path: &Path) -> std::io::Result<PathBuf>;
    fn remove_file(&mut self, path: &Path) -> std::io::Result<()>;
}

/// Files in this process.
#[derive(Debug, Default)]
pub struct LocalFiles;

impl Files for LocalFiles {
    fn open(&mut self, path: &Path, how: OpenHow) -> std::io::Result<File> {
        how.open(path)
    }

    fn canonicalize(&mut self, path: &Path) -> std::io::Result<PathBuf> {
        path.canonicalize()
    }

    fn remove_file(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
    }
}

/// Ctrl-C during a long write (`import`): see `interrupt.rs`.
pub trait Stop {
    /// From now on, Ctrl-C stops the command; `nothing_written` completes "interrupted: ...".
    fn watch(&mut self, nothing_written: &'static str);
    /// Between batches: the error to stop with, once asked.
    fn check(&mut self) -> CliResult;
    /// The write is landing: from now on Ctrl-C waits for it.
    fn committing(&mut self);
}

/// Ctrl-C in this process (`interrupt.rs`).
#[derive(Debug, Default)]
pub struct LocalStop;

impl Stop for LocalStop {
    fn watch(&mut self, nothing_written: &'static str) {
        crate::interrupt::watch(nothing_written);
    }

    fn check(&mut self) -> CliResult {
        crate::interrupt::check()
    }

    fn committing(&mut self) {
        crate::interrupt::committing();
    }
}

/// Where progress bars are drawn: made when a bar is, if standard error is a terminal.
pub type BarTarget<'a> = &'a dyn Fn() -> Option<indicatif::ProgressDrawTarget>;

/// Everything a command reads and writes but the ledger.
pub struct Io<'a> {
    /// Standard output, line-buffered as the process's own is.
    pub out: &'a mut dyn Write,
    /// Standard error, unbuffered.
    pub err: &'a mut dyn Write,
    /// Standard input.
    pub input: &'a mut dyn Read,
    pub files: &'a mut dyn Files,
    pub stop: &'a mut dyn Stop,
    /// Where a progress bar is drawn; `None` from it: not drawn.
    pub bars: BarTarget<'a>,
    /// `--quiet`: no remarks, no progress bars.
    pub quiet: bool,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").field("quiet", &self.quiet).finish()
    }
}

impl Io<'_> {
    /// Prints a remark for people (not a result) on standard error, unless --quiet. Standard
    /// error may be closed or full: a remark is not worth failing for.
    pub fn say(&mut self, message: impl std::fmt::Display) {
        remark(self.err, self.quiet, message);
    }

    /// Opens a file the user named, to read it.
    pub fn open_read(&mut self, path: &Path) -> std::io::Result<File> {
        self.files.open(path, OpenHow::READ)
    }
}

/// Writes a remark for people on standard error `err`, unless `quiet`, ignoring failure.
pub fn remark(err: &mut dyn Write, quiet: bool, message: impl std::fmt::Display) {
    if !quiet {
        let mut line = message.to_string();
        line.push('\n');
        let _ = err.write_all(line.as_bytes());
    }
}

/// The process's own standard error as a progress bar's target, when it is a terminal.
pub fn local_bars() -> Option<indicatif::ProgressDrawTarget> {
    use std::io::IsTerminal;
    std::io::stderr()
        .is_terminal()
        .then(|| indicatif::ProgressDrawTarget::stderr_with_hz(10))
}
