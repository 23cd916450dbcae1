//! The ledger's local socket: `claims` commands on the same machine, run by the server that
//! holds the ledger, instead of waiting for its lock.
//!
//! While `claims serve` runs, the ledger directory holds a Unix socket, [`SOCKET_NAME`]
//! (mode 0600; a connection is taken only from a process of the server's own user, checked
//! with `SO_PEERCRED`). A `claims` process that finds it ([`client`]) sends its command line
//! and the environment variables `claims` reads, with its own standard input, output and
//! error as file descriptors (`SCM_RIGHTS`); the server runs the command ([`LocalCommands`],
//! which the CLI provides: this crate knows nothing of its commands) against the ledger it
//! holds, writing straight to the client's streams, and answers with the exit code. A file the
//! command names is opened by the client, as its user, in its working directory, and handed
//! over the same way ([`ClientFiles`]). So what the command prints, where it reads and the
//! exit code are those of the same command run alone, by construction.
//!
//! A command reads the latest view ([`SessionLedger::view`]) or has the ledger itself, lent by
//! the writer thread for its duration ([`SessionLedger::lend`]), as a `claims` process has it
//! under the lock. Everything from the client is bounded: the request's size and the time to
//! send it, the number of commands at once, and, while a command holds the ledger, how long
//! its input and output may stall; a client that goes away stops its command before it
//! writes. The protocol is in [`wire`]; docs/SERVING.md says what users see.

pub mod client;
pub mod wire;

use crate::writer::{LendError, Lent, View, Views, Writer};
use crate::Limits;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::cell::Cell;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wire::{Frame, Received};

/// The socket's name in the ledger directory.
pub const SOCKET_NAME: &str = "serve.sock";

/// The longest socket path the system takes (`sun_path`, less its terminating zero); a longer
/// one is reached through the directory's descriptor (`/proc/self/fd/N/serve.sock`).
const SOCKET_PATH_MAX: usize = 107;

/// How to open a file, as `std::fs::OpenOptions` says it (what commands use of it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenHow {
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub create_new: bool,
    pub truncate: bool,
    /// The permission bits of a file created (`None`: 0o666 less the umask).
    pub mode: Option<u32>,
}

impl OpenHow {
    /// To read: `File::open`.
    pub const READ: OpenHow = OpenHow {
        read: true,
        write: false,
        create: false,
        create_new: false,
        truncate: false,
        mode: None,
    };

    /// To replace or create: `File::create`.
    pub const CREATE: OpenHow = OpenHow {
        read: false,
        write: true,
        create: true,
        create_new: false,
        truncate: true,
        mode: None,
    };

    /// Opens `path` in this process.
    pub fn open(&self, path: &Path) -> std::io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options
            .read(self.read)
            .write(self.write)
            .create(self.create)
            .create_new(self.create_new)
            .truncate(self.truncate);
        if let Some(mode) = self.mode {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        options.open(path)
    }

    fn flags(&self) -> u8 {
        u8::from(self.read)
            | u8::from(self.write) << 1
            | u8::from(self.create) << 2
            | u8::from(self.create_new) << 3
            | u8::from(self.truncate) << 4
            | u8::from(self.mode.is_some()) << 5
    }

    fn from_flags(flags: u8, mode: u32) -> OpenHow {
        OpenHow {
            read: flags & 1 != 0,
            write: flags & 2 != 0,
            create: flags & 4 != 0,
            create_new: flags & 8 != 0,
            truncate: flags & 16 != 0,
            mode: (flags & 32 != 0).then_some(mode),
        }
    }
}

/// What a client asks: its command line (`argv`, the program's name first) and the variables
/// of its environment it chose to send (`None`: not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub args: Vec<OsString>,
    pub vars: Vec<(String, Option<OsString>)>,
}

impl Request {
    /// The value of `name`, as the client sent it.
    pub fn var(&self, name: &str) -> Option<&OsString> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, value)| value.as_ref())
    }
}

/// Runs the commands clients send: the CLI's commands, given by `claims serve`.
pub trait LocalCommands: Send + Sync + std::fmt::Debug {
    /// Runs one command for a client, writing to its streams in `session`; gives its exit
    /// code.
    fn run(&self, request: &Request, session: &mut Session) -> u8;
}

/// Why a command should stop before it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The client asked (Ctrl-C).
    Interrupted,
    /// The client went away: nobody is waiting for the command.
    ClientGone,
    /// The server is stopping (SIGTERM).
    ServerStopping,
}

/// One client's command, as a command sees it: the client's streams and files, and the ledger.
#[derive(Debug)]
pub struct Session {
    pub stdin: ClientInput,
    pub stdout: ClientOutput,
    pub stderr: ClientOutput,
    pub files: ClientFiles,
    pub signals: ClientSignals,
    pub ledger: SessionLedger,
}

/// The connection to the client, shared by a session's parts (all on the session's thread).
#[derive(Debug)]
struct Link {
    stream: UnixStream,
    interrupted: Cell<bool>,
    gone: Cell<bool>,
    stopping: Arc<AtomicBool>,
    /// How long input or output may stall: longer for reads, shorter once the session holds
    /// the ledger, which every writer then waits for.
    stall: Cell<Duration>,
    stall_holding: Duration,
}

fn timespec(duration: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(duration.subsec_nanos()),
    }
}

fn client_gone() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
}

impl Link {
    /// Takes what the client sent unasked (Ctrl-C), and notices whether it went away, without
    /// waiting.
    fn service(&self) {
        while !self.gone.get() {
            let mut fds = [PollFd::new(&self.stream, PollFlags::IN)];
            match poll(&mut fds, Some(&timespec(Duration::ZERO))) {
                Ok(0) => return,
                Ok(_) => self.take_unasked(),
                Err(_) => return,
            }
        }
    }

    /// Reads one frame the client sent unasked: Ctrl-C, or the end.
    fn take_unasked(&self) {
        match wire::receive(&self.stream, wire::FRAME_BYTES_MAX, 0) {
            Ok(Some(frame)) if frame.kind == wire::INTERRUPT => self.interrupted.set(true),
            // Closed, broken, or speaking out of turn.
            _ => self.gone.set(true),
        }
    }

    fn stop_reason(&self) -> Option<StopReason> {
        self.service();
        if self.gone.get() {
            Some(StopReason::ClientGone)
        } else if self.stopping.load(Ordering::SeqCst) {
            Some(StopReason::ServerStopping)
        } else if self.interrupted.get() {
            Some(StopReason::Interrupted)
        } else {
            None
        }
    }

    /// Waits until `fd` is ready for `flags`, minding the client meanwhile. `reading`: Ctrl-C
    /// ends the wait (a command blocked reading its input cannot check for it otherwise).
    fn wait_ready(
        &self,
        fd: BorrowedFd<'_>,
        flags: PollFlags,
        reading: bool,
    ) -> std::io::Result<()> {
        let started = Instant::now();
        loop {
            if self.gone.get() {
                return Err(client_gone());
            }
            if reading && self.interrupted.get() {
                return Err(std::io::Error::other("interrupted"));
            }
            let stall = self.stall.get();
            let left = stall.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the {} stalled for {} s (the limit through claims serve)",
                        if reading { "input" } else { "output" },
                        stall.as_secs()
                    ),
                ));
            }
            let mut fds = [
                PollFd::from_borrowed_fd(fd, flags),
                PollFd::new(&self.stream, PollFlags::IN),
            ];
            match poll(&mut fds, Some(&timespec(left))) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(error) => return Err(error.into()),
            }
            let (ready, client) = (fds[0].revents(), fds[1].revents());
            if !client.is_empty() {
                self.take_unasked();
                continue;
            }
            if !ready.is_empty() {
                return Ok(());
            }
        }
    }

    /// Sends `frame` and waits for the client's reply, taking Ctrl-C on the way.
    fn ask(&self, frame: Frame) -> std::io::Result<Received> {
        if self.gone.get() {
            return Err(client_gone());
        }
        frame.send(&self.stream, &[]).map_err(|_| {
            self.gone.set(true);
            client_gone()
        })?;
        let _ = self.stream.set_read_timeout(Some(self.stall.get()));
        loop {
            match wire::receive(&self.stream, wire::FRAME_BYTES_MAX, 1) {
                Ok(Some(reply)) if reply.kind == wire::REPLY => return Ok(reply),
                Ok(Some(frame)) if frame.kind == wire::INTERRUPT => self.interrupted.set(true),
                Ok(_) => {
                    self.gone.set(true);
                    return Err(client_gone());
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    self.gone.set(true);
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client did not answer",
                    ));
                }
                Err(_) => {
                    self.gone.set(true);
                    return Err(client_gone());
                }
            }
        }
    }
}

/// A stream of the client's, as the client's own process would have it; `None`: the client's
/// was closed.
#[derive(Debug)]
pub struct ClientOutput {
    file: Option<File>,
    /// A regular file never makes a writer wait.
    regular: bool,
    /// Standard output, which stops when the server does (standard error stays, to say why).
    data: bool,
    link: Rc<Link>,
}

impl ClientOutput {
    fn new(fd: Option<OwnedFd>, data: bool, link: &Rc<Link>) -> ClientOutput {
        let file = fd.map(File::from);
        let regular = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .is_some_and(|m| m.file_type().is_file());
        ClientOutput {
            file,
            regular,
            data,
            link: Rc::clone(link),
        }
    }

    /// Whether the stream is a terminal.
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        self.file.as_ref().is_some_and(|f| f.is_terminal())
    }

    /// Another handle on the stream, for a progress bar drawn from another thread, and the
    /// terminal's width; `None` unless the stream is a terminal.
    pub fn terminal(&self) -> Option<(File, u16)> {
        let file = self.file.as_ref().filter(|_| self.is_terminal())?;
        let width = rustix::termios::tcgetwinsize(file)
            .map(|size| size.ws_col)
            .unwrap_or(80);
        Some((file.try_clone().ok()?, width))
    }
}

impl Write for ClientOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(file) = &mut self.file else {
            // A closed stream takes everything, as the standard library's does.
            return Ok(buf.len());
        };
        if self.data && self.link.stopping.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("claims serve is stopping"));
        }
        if self.regular {
            self.link.service();
            if self.link.gone.get() {
                return Err(client_gone());
            }
        } else {
            self.link.wait_ready(file.as_fd(), PollFlags::OUT, false)?;
        }
        file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The client's standard input; empty if the client's was closed.
#[derive(Debug)]
pub struct ClientInput {
    file: Option<File>,
    link: Rc<Link>,
}

impl Read for ClientInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(file) = &mut self.file else {
            return Ok(0);
        };
        self.link.wait_ready(file.as_fd(), PollFlags::IN, true)?;
        file.read(buf)
    }
}

/// The files a command names, opened by the client: as its user, in its working directory.
#[derive(Debug)]
pub struct ClientFiles {
    link: Rc<Link>,
}

impl ClientFiles {
    pub fn open(&mut self, path: &Path, how: OpenHow) -> std::io::Result<File> {
        let frame = Frame::new(wire::OPEN)
            .bytes(path.as_os_str().as_encoded_bytes())
            .u8(how.flags())
            .u32(how.mode.unwrap_or(0));
        let mut reply = self.link.ask(frame)?;
        match reply.fields.u8()? {
            0 => reply
                .fds
                .pop()
                .map(File::from)
                .ok_or_else(|| std::io::Error::other("the client sent no file")),
            _ => Err(wire::get_error(&mut reply.fields)?),
        }
    }

    pub fn canonicalize(&mut self, path: &Path) -> std::io::Result<PathBuf> {
        let frame = Frame::new(wire::CANONICALIZE).bytes(path.as_os_str().as_encoded_bytes());
        let mut reply = self.link.ask(frame)?;
        match reply.fields.u8()? {
            0 => Ok(PathBuf::from(OsString::from_vec(
                reply.fields.bytes()?.to_vec(),
            ))),
            _ => Err(wire::get_error(&mut reply.fields)?),
        }
    }

    pub fn remove_file(&mut self, path: &Path) -> std::io::Result<()> {
        let frame = Frame::new(wire::REMOVE).bytes(path.as_os_str().as_encoded_bytes());
        let mut reply = self.link.ask(frame)?;
        match reply.fields.u8()? {
            0 => Ok(()),
            _ => Err(wire::get_error(&mut reply.fields)?),
        }
    }
}

/// Whether the command should stop: Ctrl-C at the client, the client gone, the server
/// stopping.
#[derive(Debug, Clone)]
pub struct ClientSignals {
    link: Rc<Link>,
}

impl ClientSignals {
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.link.stop_reason()
    }
}

/// The ledger, as a session reaches it.
#[derive(Debug)]
pub struct SessionLedger {
    dir: std::path::PathBuf,
    views: Arc<Views>,
    writer: Writer,
    link: Rc<Link>,
}

impl SessionLedger {
    /// The ledger's directory, as the server names it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The latest view: what every reader sees now.
    pub fn view(&self) -> View {
        self.views.latest()
    }

    /// The time the server's writer gives entries, when pinned (`CLAIMS_NOW`).
    pub fn pinned_now(&self) -> Option<claimledger_core::Timestamp> {
        self.writer.pinned_now()
    }

    /// Commits one record or revise in the writer's next group commit (it names its author);
    /// answers once it is durable.
    pub fn submit(
        &self,
        command: claimledger_core::input::Command,
    ) -> Result<claimledger_store::Receipt, crate::writer::WriteError> {
        if self.link.stop_reason() == Some(StopReason::ClientGone) {
            return Err(crate::writer::WriteError::ShuttingDown);
        }
        self.writer.submit_blocking(command)
    }

    /// The ledger itself, lent by the writer once the writes before it are committed (waiting
    /// at most `wait`), until the [`Lent`] is dropped. From then on the client's input and
    /// output may stall only briefly.
    pub fn lend(&self, wait: Duration) -> Result<Lent, LendError> {
        if self.link.stop_reason() == Some(StopReason::ClientGone) {
            return Err(LendError::ShuttingDown);
        }
        let lent = self.writer.lend(wait)?;
        self.link.stall.set(self.link.stall_holding);
        Ok(lent)
    }
}

/// What every session of one server shares.
#[derive(Debug)]
pub(crate) struct Local {
    pub commands: Arc<dyn LocalCommands>,
    pub ledger_dir: std::path::PathBuf,
    pub views: Arc<Views>,
    pub writer: Writer,
    pub limits: Limits,
    pub stopping: Arc<AtomicBool>,
}

/// The socket file, removed when dropped.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the socket in `ledger_dir`, replacing a stale one (the server holds the ledger's
/// lock, so no other server can be using it), readable and writable by the owner only.
pub(crate) fn bind(ledger_dir: &Path) -> std::io::Result<(tokio::net::UnixListener, SocketFile)> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let path = ledger_dir.join(SOCKET_NAME);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(&path)?,
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ))
        }
        Err(_) => {}
    }
    let (address, _dir) = address_of(ledger_dir)?;
    let listener = tokio::net::UnixListener::bind(&address)?;
    let file = SocketFile { path };
    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, file))
}

/// The path to bind or connect to for the socket in `dir`, and the directory's descriptor to
/// hold meanwhile when the path is reached through it.
fn address_of(dir: &Path) -> std::io::Result<(PathBuf, Option<File>)> {
    let path = dir.join(SOCKET_NAME);
    if path.as_os_str().len() <= SOCKET_PATH_MAX {
        return Ok((path, None));
    }
    use std::os::fd::AsRawFd;
    let dir = File::open(dir)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET_NAME}", dir.as_raw_fd()));
    Ok((short, Some(dir)))
}

/// Takes connections until `stop`; runs each accepted command on the blocking pool, at most
/// `local_connections_max` at once. Gives back when every session has ended (or the shutdown
/// grace has passed).
pub(crate) async fn accept(
    listener: tokio::net::UnixListener,
    socket: SocketFile,
    local: Arc<Local>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let sessions = Arc::new(tokio::sync::Semaphore::new(
        local.limits.local_connections_max,
    ));
    let own = rustix::process::geteuid().as_raw();
    loop {
        if *stop.borrow() {
            break;
        }
        let permit = tokio::select! {
            permit = Arc::clone(&sessions).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        // The ledger's owner only: another user's process is closed on, unread.
        match stream.peer_cred() {
            Ok(peer) if peer.uid() == own => {}
            _ => continue,
        }
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let local = Arc::clone(&local);
        tokio::task::spawn_blocking(move || {
            session(stream, &local);
            drop(permit);
        });
    }
    // New clients now run their commands themselves, waiting for the lock.
    drop(socket);
    drop(listener);
    let max = u32::try_from(local.limits.local_connections_max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(local.limits.shutdown_grace, sessions.acquire_many(max)).await;
}

/// Serves one connection: reads the request, runs the command, answers its exit code.
fn session(stream: UnixStream, local: &Local) {
    let _ = stream.set_read_timeout(Some(local.limits.header_time_max));
    let _ = stream.set_write_timeout(Some(local.limits.local_stall_holding));
    let Ok(Some(first)) = wire::receive(&stream, wire::REQUEST_BYTES_MAX, wire::FDS_MAX) else {
        return;
    };
    let (request, mut fds) = match read_request(first) {
        Ok(read) => read,
        Err(message) => {
            let _ = Frame::new(wire::REFUSED)
                .u8(REFUSED_EXIT)
                .bytes(message.as_bytes())
                .send(&stream, &[]);
            return;
        }
    };
    let link = Rc::new(Link {
        stream,
        interrupted: Cell::new(false),
        gone: Cell::new(false),
        stopping: Arc::clone(&local.stopping),
        stall: Cell::new(local.limits.local_stall),
        stall_holding: local.limits.local_stall_holding,
    });
    let mut session = Session {
        stdin: ClientInput {
            file: fds[0].take().map(File::from),
            link: Rc::clone(&link),
        },
        stdout: ClientOutput::new(fds[1].take(), true, &link),
        stderr: ClientOutput::new(fds[2].take(), false, &link),
        files: ClientFiles {
            link: Rc::clone(&link),
        },
        signals: ClientSignals {
            link: Rc::clone(&link),
        },
        ledger: SessionLedger {
            dir: local.ledger_dir.clone(),
            views: Arc::clone(&local.views),
            writer: local.writer.clone(),
            link: Rc::clone(&link),
        },
    };
    if Frame::new(wire::ACCEPTED).send(&link.stream, &[]).is_err() {
        return;
    }
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        local.commands.run(&request, &mut session)
    }));
    let code = ran.unwrap_or_else(|_| {
        let _ = session
            .stderr
            .write_all(b"error: the command failed inside claims serve (a bug: see its log)\n");
        PANIC_EXIT
    });
    drop(session);
    let _ = Frame::new(wire::EXIT).u8(code).send(&link.stream, &[]);
}

/// The exit code of a request the server cannot take (another protocol): an environment
/// error, as the CLI counts them.
const REFUSED_EXIT: u8 = 4;

/// The exit code of a command that panicked, as a process that panics exits.
const PANIC_EXIT: u8 = 101;

/// The request's command line and variables, and the client's standard streams (in order;
/// `None`: closed at the client).
type Streams = [Option<OwnedFd>; 3];

fn read_request(mut frame: Received) -> Result<(Request, Streams), String> {
    if frame.kind != wire::REQUEST {
        return Err("the first frame is not a request".into());
    }
    let malformed = |e: std::io::Error| format!("a malformed request: {e}");
    let fields = &mut frame.fields;
    let version = fields.u32().map_err(malformed)?;
    if version != wire::PROTOCOL {
        return Err(format!(
            "this claims speaks version {version} of the local socket's protocol, and the \
             claims serve holding the ledger version {}: use one build for both, or stop the \
             server",
            wire::PROTOCOL
        ));
    }
    let mask = fields.u8().map_err(malformed)?;
    let argc = fields.u32().map_err(malformed)?;
    let mut args = Vec::new();
    for _ in 0..argc {
        args.push(OsString::from_vec(
            fields.bytes().map_err(malformed)?.to_vec(),
        ));
    }
    let varc = fields.u32().map_err(malformed)?;
    let mut vars = Vec::new();
    for _ in 0..varc {
        let name = String::from_utf8_lossy(fields.bytes().map_err(malformed)?).into_owned();
        let present = fields.u8().map_err(malformed)? != 0;
        let value = fields.bytes().map_err(malformed)?.to_vec();
        vars.push((name, present.then(|| OsString::from_vec(value))));
    }
    fields.end().map_err(malformed)?;
    let wanted = (0..3).filter(|bit| mask & (1 << bit) != 0).count();
    if frame.fds.len() != wanted {
        return Err(format!(
            "the request names {wanted} streams but {} came with it",
            frame.fds.len()
        ));
    }
    let mut given = frame.fds.into_iter();
    let mut streams: Streams = [None, None, None];
    for (bit, stream) in streams.iter_mut().enumerate() {
        if mask & (1 << bit) != 0 {
            *stream = given.next();
        }
    }
    Ok((Request { args, vars }, streams))
}
