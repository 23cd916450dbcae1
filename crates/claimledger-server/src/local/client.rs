//! The client's side of the local socket: what a `claims` process does when the ledger it
//! names is held by `claims serve`. It only connects, sends, and answers the server's requests
//! to open files, so that it stays small and quick: no ledger, no threads, no runtime.

use super::wire::{self, Frame};
use super::{OpenHow, SOCKET_NAME};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a command sent to the server ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// The server ran it; the process exits with this code.
    Exit(u8),
    /// The server did not take it (it was stopping): run it here.
    NotTaken,
}

/// Why a command sent to the server did not end as the server's commands do.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server did not take the command within the wait.
    #[error("claims serve, which holds the ledger, did not take the command within {0:?}")]
    Busy(Duration),
    /// The server went away while it ran the command.
    #[error("claims serve, which holds the ledger, stopped before the command ended")]
    Lost,
    /// The server refused the request (another protocol version).
    #[error("{message}")]
    Refused { code: u8, message: String },
    #[error("the local socket of claims serve: {0}")]
    Io(#[from] std::io::Error),
}

/// A connection to the server holding a ledger.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    /// The same socket, for frames sent from another thread (Ctrl-C): one frame at a time.
    sender: Arc<Mutex<UnixStream>>,
}

/// Tells the server that the user pressed Ctrl-C.
#[derive(Debug, Clone)]
pub struct Interrupter(Arc<Mutex<UnixStream>>);

impl Interrupter {
    pub fn interrupt(&self) {
        if let Ok(stream) = self.0.lock() {
            let _ = Frame::new(wire::INTERRUPT).send(&stream, &[]);
        }
    }
}

/// Whether a stream of this process is open (a closed one is not sent).
fn is_open(fd: BorrowedFd<'_>) -> bool {
    rustix::io::fcntl_getfd(fd).is_ok()
}

impl Connection {
    /// Connects to the server holding the ledger in `ledger_dir`, if one answers there and
    /// runs as this process's user. A socket nobody answers (a server that crashed) or that
    /// another user's process holds is ignored: the command then runs here.
    pub fn open(ledger_dir: &Path) -> Option<Connection> {
        let (address, _dir) = super::address_of(ledger_dir).ok()?;
        let stream = UnixStream::connect(&address).ok()?;
        let server = rustix::net::sockopt::socket_peercred(&stream).ok()?;
        if server.uid != rustix::process::geteuid() {
            return None;
        }
        let sender = Arc::new(Mutex::new(stream.try_clone().ok()?));
        Some(Connection { stream, sender })
    }

    /// The socket's path in `ledger_dir`.
    pub fn path(ledger_dir: &Path) -> PathBuf {
        ledger_dir.join(SOCKET_NAME)
    }

    /// What sends Ctrl-C to the server, from a signal handler's thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(Arc::clone(&self.sender))
    }

    /// Sends the command (`args`, the program's name first, and `vars`), with this process's
    /// standard streams, and serves the server's requests until it answers. `wait` bounds the
    /// time until the server takes the command, as `--wait` bounds the wait for the lock.
    pub fn run(
        self,
        args: &[OsString],
        vars: &[(String, Option<OsString>)],
        wait: Duration,
    ) -> Result<Served, ClientError> {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        let streams = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
        let mut mask = 0u8;
        let mut fds = Vec::new();
        for (bit, fd) in streams.into_iter().enumerate() {
            if is_open(fd) {
                mask |= 1 << bit;
                fds.push(fd);
            }
        }
        let mut frame = Frame::new(wire::REQUEST)
            .u32(wire::PROTOCOL)
            .u8(mask)
            .u32(u32::try_from(args.len()).unwrap_or(u32::MAX));
        for arg in args {
            frame = frame.bytes(arg.as_encoded_bytes());
        }
        frame = frame.u32(u32::try_from(vars.len()).unwrap_or(u32::MAX));
        for (name, value) in vars {
            frame = frame
                .bytes(name.as_bytes())
                .u8(u8::from(value.is_some()))
                .bytes(value.as_ref().map_or(&[][..], |v| v.as_encoded_bytes()));
        }
        {
            let sender = self.sender.lock().map_err(|_| ClientError::Lost)?;
            if frame.send(&sender, &fds).is_err() {
                // The server closed the connection unread: it is stopping.
                return Ok(Served::NotTaken);
            }
        }
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match wire::receive(&self.stream, wire::FRAME_BYTES_MAX, 0) {
            Ok(Some(frame)) if frame.kind == wire::ACCEPTED => {}
            Ok(Some(mut frame)) if frame.kind == wire::REFUSED => {
                let code = frame.fields.u8()?;
                let message = String::from_utf8_lossy(frame.fields.bytes()?).into_owned();
                return Err(ClientError::Refused { code, message });
            }
            Ok(Some(_)) => return Err(ClientError::Lost),
            Ok(None) => return Ok(Served::NotTaken),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(ClientError::Busy(wait))
            }
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {
                return Ok(Served::NotTaken)
            }
            Err(error) => return Err(error.into()),
        }
        // The command runs as long as it runs, as it would here.
        self.stream.set_read_timeout(None)?;
        loop {
            let Some(mut frame) = wire::receive(&self.stream, wire::FRAME_BYTES_MAX, 0)
                .map_err(|_| ClientError::Lost)?
            else {
                return Err(ClientError::Lost);
            };
            let fields = &mut frame.fields;
            let path = |fields: &mut wire::Fields| -> std::io::Result<PathBuf> {
                Ok(PathBuf::from(OsString::from_vec(fields.bytes()?.to_vec())))
            };
            let reply = Frame::new(wire::REPLY);
            let sender = self.sender.lock().map_err(|_| ClientError::Lost)?;
            match frame.kind {
                wire::EXIT => return Ok(Served::Exit(fields.u8()?)),
                wire::OPEN => {
                    let path = path(fields)?;
                    let flags = fields.u8()?;
                    let how = OpenHow::from_flags(flags, fields.u32()?);
                    match how.open(&path) {
                        Ok(file) => reply.u8(0).send(&sender, &[file.as_fd()])?,
                        Err(error) => wire::put_error(reply.u8(1), &error).send(&sender, &[])?,
                    }
                }
                wire::CANONICALIZE => match path(fields)?.canonicalize() {
                    Ok(path) => reply
                        .u8(0)
                        .bytes(path.as_os_str().as_encoded_bytes())
                        .send(&sender, &[])?,
                    Err(error) => wire::put_error(reply.u8(1), &error).send(&sender, &[])?,
                },
                wire::REMOVE => match std::fs::remove_file(path(fields)?) {
                    Ok(()) => reply.u8(0).send(&sender, &[])?,
                    Err(error) => wire::put_error(reply.u8(1), &error).send(&sender, &[])?,
                },
                _ => return Err(ClientError::Lost),
            }
        }
    }
}
