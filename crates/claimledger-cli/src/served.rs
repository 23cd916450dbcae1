//! `claims` beside `claims serve`. While a server holds the ledger, a `claims` command on it
//! is run by the server, through the local socket in the ledger directory
//! (`claimledger_server::local`), instead of waiting for the lock and giving up as busy.
//!
//! - The client ([`beside_server`]): if the command needs the ledger and a server of this user
//!   answers on the socket, send the command line, the environment variables `claims` reads
//!   and this process's standard streams, serve the server's requests to open files, and exit
//!   with the code it answers. Nothing else: no ledger, no thread pool.
//! - The server ([`Commands`]): parse the same command line, build the same `Env` from the
//!   client's variables, and run the same `cmd_*` on a [`Ctx`] whose `Io` is the client's
//!   streams and files and whose ledger is the server's: its latest view to read, the ledger
//!   itself, lent by the writer, to write (or for `verify`, which must see nothing change).
//!
//! Output, errors and exit codes are therefore those of the command run alone.

use crate::cli::{Args, Command, KeyCommand};
use crate::commands;
use crate::ctx::{submit_held, Ctx, Ledgers};
use crate::env::{Env, DEFAULT_LEDGER_DIR};
use crate::error::{CliError, CliResult, Exit, ExitKind};
use crate::io::{Files, Io, OpenHow, Stop};
use claimledger_core::input::Command as InputCommand;
use claimledger_server::local::client::{ClientError, Connection, Served};
use claimledger_server::local::{
    ClientFiles, ClientSignals, LocalCommands, Request, Session, SessionLedger, StopReason,
};
use claimledger_server::writer::{LendError, Lent, View, WriteError};
use claimledger_store::{EvidenceStore, Ledger, Receipt, SledStorage, SubmitContext, SubmitError};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a command runs when a server holds its ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// It needs the ledger: the server runs it.
    Served,
    /// It does not touch the ledger: it runs here, server or not.
    Here,
    /// It needs the ledger to itself (`init`, `serve`, `demo --ledger`): it cannot run while a
    /// server holds it.
    NotBeside(&'static str),
}

pub fn route(args: &Args) -> Route {
    match &args.command {
        Command::Add(_)
        | Command::Revise(_)
        | Command::Import(_)
        | Command::Archive(_)
        | Command::Evidence(_)
        | Command::Show(_)
        | Command::List(_)
        | Command::History(_)
        | Command::Compare(_)
        | Command::Subjects(_)
        | Command::Log(_)
        | Command::Head(_)
        | Command::Export(_)
        | Command::Checkpoint(_)
        | Command::Prove(_)
        | Command::Publish(_) => Route::Served,
        Command::Verify(verify) if verify.bundle.is_none() => Route::Served,
        Command::Key(key) => match &key.command {
            KeyCommand::Generate(generate) if generate.name.is_none() => Route::Served,
            _ => Route::Here,
        },
        Command::Init(_) => Route::NotBeside("init"),
        Command::Serve(_) => Route::NotBeside("serve"),
        Command::Demo if args.ledger.is_some() => Route::NotBeside("demo"),
        Command::Verify(_)
        | Command::Demo
        | Command::Completions { .. }
        | Command::Man(_)
        | Command::Token(_)
        | Command::VerifyProof(_)
        | Command::Monitor(_)
        | Command::Witness(_) => Route::Here,
    }
}

/// The request's variables that carry what the client's clap read from its environment: the
/// ledger and the author, as parsed there.
const LEDGER_VAR: &str = "--ledger";
const AUTHOR_VAR: &str = "--author";
/// The client's working directory, where a relative directory it names is (`publish`,
/// `export --evidence`, `import --evidence-dir`).
const CWD_VAR: &str = "--cwd";
/// The client's variables for S3 (`publish`): each `AWS_*` under its own name.
const AWS_PREFIX: &str = "AWS_";

/// The environment variables `claims` reads besides the two clap reads.
const ENV_VARS: [&str; 3] = [
    crate::env::NOW_VAR,
    crate::env::STALL_TIMEOUT_VAR,
    crate::env::COPY_MAX_VAR,
];

/// The least time the client waits for the server to take a command: a busy server takes one
/// in well under a second, and `--wait 0` must not fail for scheduling alone.
const TAKEN_WAIT_MIN: Duration = Duration::from_secs(5);

/// Runs the command through the server holding its ledger, if one does: the exit, or `None`
/// to run it here.
pub fn beside_server(args: &Args) -> Option<Exit> {
    let route = route(args);
    if route == Route::Here {
        return None;
    }
    let dir = args
        .ledger
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER_DIR));
    let connection = Connection::open(&dir)?;
    let mut stderr = std::io::stderr();
    if let Route::NotBeside(command) = route {
        return Some(
            CliError::busy(format!(
                "claims serve holds the ledger in {}, and `claims {command}` cannot run \
                 beside it; stop the server first (SIGTERM or Ctrl-C)",
                dir.display()
            ))
            .report(&mut stderr),
        );
    }
    let argv: Vec<OsString> = std::env::args_os().collect();
    let mut vars: Vec<(String, Option<OsString>)> = ENV_VARS
        .iter()
        .map(|name| ((*name).to_owned(), std::env::var_os(name)))
        .collect();
    vars.push((
        LEDGER_VAR.to_owned(),
        args.ledger.as_ref().map(|l| l.clone().into_os_string()),
    ));
    vars.push((
        AUTHOR_VAR.to_owned(),
        args.author.clone().map(OsString::from),
    ));
    let cwd = std::env::current_dir().ok().map(PathBuf::into_os_string);
    vars.push((CWD_VAR.to_owned(), cwd));
    if matches!(args.command, Command::Publish(_)) {
        vars.extend(
            std::env::vars_os()
                .filter_map(|(name, value)| Some((name.into_string().ok()?, value)))
                .filter(|(name, _)| name.starts_with(AWS_PREFIX))
                .map(|(name, value)| (name, Some(value))),
        );
    }
    if matches!(args.command, Command::Import(_)) {
        // Ctrl-C stops an import between batches, at the server (interrupt.rs).
        let interrupter = connection.interrupter();
        let _ = ctrlc::set_handler(move || interrupter.interrupt());
    }
    let wait = Duration::try_from_secs_f64(args.wait)
        .unwrap_or(Duration::ZERO)
        .max(TAKEN_WAIT_MIN);
    match connection.run(&argv, &vars, wait) {
        Ok(Served::Exit(code)) => Some(Exit(code)),
        Ok(Served::NotTaken) => None,
        Err(ClientError::Refused { code, message }) => {
            let _ = writeln!(stderr, "error: {message}");
            Some(Exit(code))
        }
        Err(error @ ClientError::Busy(_)) => Some(
            CliError::busy(format!(
                "ledger busy: {error}; try again, or wait longer with --wait"
            ))
            .report(&mut stderr),
        ),
        Err(error) => Some(
            CliError::io(format!(
                "{error}; anything it wrote is in the ledger (see `claims head`)"
            ))
            .report(&mut stderr),
        ),
    }
}

/// The commands `claims serve` runs for the `claims` processes beside it.
#[derive(Debug)]
pub struct Commands;

impl LocalCommands for Commands {
    fn run(&self, request: &Request, session: &mut Session) -> u8 {
        let Session {
            stdin,
            stdout,
            stderr,
            files,
            signals,
            ledger,
        } = session;
        let terminal = stderr.terminal();
        let mut out = std::io::LineWriter::new(stdout);
        let args = match parse(request) {
            Ok(args) => args,
            Err(error) => return error.report(stderr).0,
        };
        let env = match Env::from_args(&args, &|name| {
            request
                .var(name)
                .and_then(|value| value.to_str())
                .map(str::to_owned)
        }) {
            Ok(env) => env,
            Err(error) => return error.report(stderr).0,
        };
        let mut env = env;
        env.cwd = Some(
            request
                .var(CWD_VAR)
                .map_or_else(|| PathBuf::from("/"), PathBuf::from),
        );
        if matches!(args.command, Command::Publish(_)) {
            env.aws = Some(
                request
                    .vars
                    .iter()
                    .filter(|(name, _)| name.starts_with(AWS_PREFIX))
                    .filter_map(|(name, value)| {
                        Some((name.clone(), value.as_ref()?.to_str()?.to_owned()))
                    })
                    .collect(),
            );
        }
        let quiet = env.quiet;
        let bars = move || {
            let (file, width) = terminal.as_ref()?;
            let term = ClientTerminal {
                file: std::sync::Mutex::new(file.try_clone().ok()?),
                width: *width,
            };
            Some(indicatif::ProgressDrawTarget::term_like_with_hz(
                Box::new(term),
                10,
            ))
        };
        let mut ledgers = ServedLedgers {
            ledger,
            view: None,
            lent: None,
        };
        let mut ctx = Ctx {
            env,
            io: Io {
                out: &mut out,
                err: stderr,
                input: stdin,
                files: &mut ServedFiles(files),
                stop: &mut ServedStop {
                    signals,
                    phase: Phase::Off,
                    nothing_written: "nothing was written",
                },
                bars: &bars,
                quiet,
            },
            ledgers: &mut ledgers,
        };
        commands::run_to_exit(&mut ctx, args.command).0
    }
}

/// The client's command line as its own process parsed it: clap reads no environment here (the
/// server's is not the client's); the ledger and author it read there come in the request.
fn parse(request: &Request) -> CliResult<Args> {
    let mut args = Args::parse_from(request.args.iter().cloned(), false).map_err(|error| {
        CliError::input(format!(
            "the command line does not parse inside claims serve: {}",
            error.kind()
        ))
    })?;
    args.ledger = request.var(LEDGER_VAR).map(PathBuf::from);
    args.author = match request.var(AUTHOR_VAR) {
        None => None,
        Some(author) => Some(
            author
                .to_str()
                .ok_or_else(|| CliError::input("--author: not valid UTF-8"))?
                .to_owned(),
        ),
    };
    if route(&args) != Route::Served {
        return Err(CliError::input(
            "this command does not run through claims serve; run it with the same build of \
             claims as the server",
        ));
    }
    Ok(args)
}

/// The ledger the server holds.
struct ServedLedgers<'s> {
    ledger: &'s SessionLedger,
    view: Option<View>,
    lent: Option<Lent>,
}

impl ServedLedgers<'_> {
    fn lend(&mut self, env: &Env) -> CliResult<&mut Lent> {
        let lent = self.ledger.lend(env.wait).map_err(|error| match error {
            LendError::Busy(waited) => CliError::busy(format!(
                "ledger busy: claims serve, which holds {}, was writing for {}; try again, or \
                 wait longer with --wait",
                env.ledger_dir.display(),
                crate::output::duration(waited)
            )),
            LendError::ShuttingDown => CliError::busy(format!(
                "ledger busy: claims serve, which holds {}, is stopping; try again once it has",
                env.ledger_dir.display()
            )),
        })?;
        Ok(self.lent.insert(lent))
    }
}

impl Ledgers<SledStorage> for ServedLedgers<'_> {
    fn read(&mut self, _: &Env, _: &mut dyn Write) -> CliResult<&Ledger<SledStorage>> {
        Ok(self.view.insert(self.ledger.view()))
    }

    fn read_still(&mut self, env: &Env, _: &mut dyn Write) -> CliResult<&Ledger<SledStorage>> {
        Ok(self.lend(env)?)
    }

    fn write(&mut self, env: &Env, _: &mut dyn Write) -> CliResult<&mut Ledger<SledStorage>> {
        Ok(self.lend(env)?)
    }

    fn read_to_write(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&Ledger<SledStorage>> {
        self.read(env, err)
    }

    fn evidence(&mut self, _: &Env) -> EvidenceStore {
        EvidenceStore::of_ledger(self.ledger.dir())
    }

    /// In the writer's next group commit, with the HTTP writes of the moment; on the ledger
    /// lent, if the client's clock is not the server's (`CLAIMS_NOW` on one side only), so
    /// that the entry has the time the client gave.
    fn submit_one(
        &mut self,
        env: &Env,
        err: &mut dyn Write,
        command: InputCommand,
        context: &SubmitContext,
    ) -> CliResult<Receipt> {
        if env.pinned_now != self.ledger.pinned_now() {
            return submit_held(self.write(env, err)?, command, context);
        }
        let command = match command {
            InputCommand::Record(mut record) => {
                record
                    .author
                    .get_or_insert_with(|| context.default_author.clone());
                InputCommand::Record(record)
            }
            InputCommand::Revise(mut revise) => {
                revise
                    .author
                    .get_or_insert_with(|| context.default_author.clone());
                InputCommand::Revise(revise)
            }
        };
        self.ledger.submit(command).map_err(|error| match error {
            WriteError::Rejected { reason, .. } => {
                SubmitError::Rejected { command: 0, reason }.into()
            }
            WriteError::Store(message) => CliError::io(message),
            WriteError::Busy => CliError::busy(format!(
                "ledger busy: claims serve, which holds {}, has too many writes waiting; try \
                 again shortly",
                env.ledger_dir.display()
            )),
            WriteError::ShuttingDown => CliError::busy(format!(
                "ledger busy: claims serve, which holds {}, is stopping; try again once it has",
                env.ledger_dir.display()
            )),
        })
    }
}

/// The files the command names, opened by the client.
struct ServedFiles<'s>(&'s mut ClientFiles);

impl Files for ServedFiles<'_> {
    fn open(&mut self, path: &Path, how: OpenHow) -> std::io::Result<std::fs::File> {
        self.0.open(path, how)
    }

    fn canonicalize(&mut self, path: &Path) -> std::io::Result<PathBuf> {
        self.0.canonicalize(path)
    }

    fn remove_file(&mut self, path: &Path) -> std::io::Result<()> {
        self.0.remove_file(path)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Off,
    Stoppable,
    Stopping,
    Committing,
}

/// Ctrl-C at the client, which sends it over the socket, with the phases of `interrupt.rs`;
/// and what the server adds: a command whose client went away, or whose server is stopping,
/// stops before it writes.
struct ServedStop<'s> {
    signals: &'s ClientSignals,
    phase: Phase,
    nothing_written: &'static str,
}

impl Stop for ServedStop<'_> {
    fn watch(&mut self, nothing_written: &'static str) {
        self.nothing_written = nothing_written;
        self.phase = Phase::Stoppable;
    }

    fn check(&mut self) -> CliResult {
        if matches!(self.phase, Phase::Committing | Phase::Stopping) {
            return Ok(());
        }
        match self.signals.stop_reason() {
            None => Ok(()),
            Some(StopReason::ClientGone) => Err(CliError::io(format!(
                "the client went away; {}",
                self.nothing_written
            ))),
            Some(StopReason::ServerStopping) => Err(CliError::busy(format!(
                "claims serve is stopping; {}",
                self.nothing_written
            ))),
            Some(StopReason::Interrupted) if self.phase == Phase::Stoppable => {
                self.phase = Phase::Stopping;
                Err(CliError::Failed {
                    kind: ExitKind::Interrupted,
                    message: format!("interrupted: {}", self.nothing_written),
                })
            }
            Some(StopReason::Interrupted) => Ok(()),
        }
    }

    fn committing(&mut self) {
        if self.phase == Phase::Stoppable {
            self.phase = Phase::Committing;
        }
    }
}

/// The client's terminal, for progress bars drawn on its standard error.
#[derive(Debug)]
struct ClientTerminal {
    file: std::sync::Mutex<std::fs::File>,
    width: u16,
}

impl ClientTerminal {
    fn put(&self, text: &str) -> std::io::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the terminal's lock"))?;
        file.write_all(text.as_bytes())
    }
}

impl indicatif::TermLike for ClientTerminal {
    fn width(&self) -> u16 {
        self.width
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}A"))
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}B"))
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}C"))
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}D"))
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}
