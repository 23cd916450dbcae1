//! `claims serve`: the ledger as web pages for readers and a JSON API for a team of writers.
//!
//! The server holds the ledger open. One writer thread owns it ([`writer`]) and commits
//! writes in groups; readers are answered from the view it publishes after each durable
//! commit, so that a read never waits for a write and never sees one that is not yet durable.
//!
//! - [`pages`]: server-rendered HTML (no script needed to read; the one script, for "check it
//!   yourself", is served from the binary like the style sheet);
//! - [`api`]: `/api/v1/`, whose responses have the shapes of `claims ... --json`
//!   (docs/CLI.md), described by the OpenAPI document at `/api/v1/openapi.json`;
//! - [`tokens`]: who may write (and, with `--private`, read).
//!
//! Snapshots of sources (`claims archive`) are served from the ledger's evidence store as
//! downloads that cannot act in the ledger's origin: `Content-Disposition: attachment`, a
//! `Content-Security-Policy` with `sandbox`, and `X-Content-Type-Options: nosniff`.
//!
//! ```no_run
//! use claimledger_server::{Config, Server};
//! let config = Config::new("ledger".into(), "127.0.0.1:0".parse().unwrap());
//! let server = Server::start(config).unwrap();
//! println!("serving on http://{}", server.addr());
//! server.shutdown().unwrap();
//! ```

pub mod api;
mod chart;
mod http;
pub mod local;
pub mod pages;
pub mod tokens;
pub mod writer;

use claimledger_core::checkpoint::{self, VerifierKeyText};
use claimledger_core::Timestamp;
use claimledger_store::{Ledger, SledStorage, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokens::Tokens;
use writer::{Views, Writer};

/// The port `claims serve` listens on unless `--listen` says otherwise.
pub const DEFAULT_PORT: u16 = 7878;

/// The address `claims serve` listens on by default: loopback only.
pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))
}

/// Limits on what a client may send or take (docs/RELIABILITY.md, "The server").
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest body of an add or revise.
    pub body_bytes_max: usize,
    /// The largest body of an import.
    pub import_bytes_max: usize,
    /// How long a request may take, from its headers to its answer (streams excepted: see
    /// `stream_stall`).
    pub request_time_max: Duration,
    /// How long a client may take to send a request's headers (and how long an idle
    /// connection is kept).
    pub header_time_max: Duration,
    /// The most bytes of request line and headers.
    pub header_bytes_max: usize,
    /// The most headers in one request.
    pub header_count_max: usize,
    /// Connections served at once; more wait to be accepted.
    pub connections_max: usize,
    /// How long a streamed answer (export, log) may wait for the client to take more.
    pub stream_stall: Duration,
    /// How long shutdown waits for requests under way.
    pub shutdown_grace: Duration,
    /// Commands run at once for `claims` processes on the local socket; more wait to be taken.
    pub local_connections_max: usize,
    /// How long a local command's input or output may stall while it reads.
    pub local_stall: Duration,
    /// How long it may stall while it holds the ledger (writes, verify), which every writer
    /// then waits for.
    pub local_stall_holding: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes_max: 1 << 20,
            import_bytes_max: 64 << 20,
            request_time_max: Duration::from_secs(30),
            header_time_max: Duration::from_secs(10),
            header_bytes_max: 16 << 10,
            header_count_max: 64,
            connections_max: 1024,
            stream_stall: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            local_connections_max: 64,
            local_stall: Duration::from_secs(600),
            local_stall_holding: Duration::from_secs(30),
        }
    }
}

/// What `claims serve` was asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    pub ledger_dir: PathBuf,
    pub listen: SocketAddr,
    /// The tokens; `None`: nobody may write.
    pub tokens: Option<Tokens>,
    /// Reads need a token too.
    pub private: bool,
    /// The signing key's text (`claims key generate`), to sign checkpoints with.
    pub signing_key: Option<String>,
    /// How long to wait for another process to release the ledger.
    pub wait: Duration,
    /// A pinned clock (`CLAIMS_NOW`): entries get this time and derived ids.
    pub pinned_now: Option<Timestamp>,
    pub limits: Limits,
    /// The commands of `claims` processes beside the server, run through the local socket in
    /// the ledger directory ([`local`]); `None`: no socket.
    pub local: Option<Arc<dyn local::LocalCommands>>,
}

impl Config {
    pub fn new(ledger_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            ledger_dir,
            listen,
            tokens: None,
            private: false,
            signing_key: None,
            wait: claimledger_store::DEFAULT_WAIT,
            pinned_now: None,
            limits: Limits::default(),
            local: None,
        }
    }
}

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("--sign: {0}")]
    Key(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("--private needs --tokens: without tokens nobody could read")]
    PrivateWithoutTokens,
    #[error("cannot make the local socket {path}: {source}")]
    Socket {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    pub views: Arc<Views>,
    /// The ledger's snapshots of sources, which claim pages link (`pages::snapshot`).
    pub evidence: claimledger_store::EvidenceStore,
    pub writer: Writer,
    pub tokens: Option<Tokens>,
    pub private: bool,
    pub signing_key: Option<SigningKey>,
    pub limits: Limits,
}

/// The key checkpoints are signed with, and its verifier key, which pages name.
pub struct SigningKey {
    pub text: String,
    pub verifier: VerifierKeyText,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.verifier)
    }
}

/// A running server: its address, and how to stop it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Opens the ledger, binds, and serves on threads of its own until [`Server::shutdown`]
    /// (or, with [`Server::run`], until SIGTERM or SIGINT).
    pub fn start(config: Config) -> Result<Server, ServeError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("claims-serve".into())
            .spawn(move || {
                serve_until(config, Some(ready_tx.clone()), async {
                    let _ = stopped.await;
                })
            })?;
        match ready_rx.recv() {
            Ok(Ok(addr)) => Ok(Server {
                addr,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => match thread.join() {
                Ok(Err(error)) => Err(error),
                _ => Err(ServeError::Io(std::io::Error::other(
                    "the server stopped before it started",
                ))),
            },
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking connections, finishes the requests under way (every write acknowledged is
    /// durable), closes the ledger, and returns.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ServeError::Io(std::io::Error::other(
                "the server thread panicked",
            ))),
            None => Ok(()),
        }
    }

    /// Serves in this thread until SIGTERM or SIGINT, then shuts down as
    /// [`Server::shutdown`] does. `started` is called with the address once listening.
    pub fn run(config: Config, started: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("claims-serve".into())
            .spawn(move || serve_until(config, Some(ready_tx), http::signalled()))?;
        match ready_rx.recv() {
            Ok(Ok(addr)) => started(addr),
            Ok(Err(error)) => {
                let _ = thread.join();
                return Err(error);
            }
            Err(_) => {}
        }
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(ServeError::Io(std::io::Error::other(
                "the server thread panicked",
            ))),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

type Ready = std::sync::mpsc::Sender<Result<SocketAddr, ServeError>>;

fn serve_until(
    config: Config,
    ready: Option<Ready>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let fail = |error: ServeError| {
        if let Some(ready) = &ready {
            let _ = ready.send(Err(error));
            return Err(ServeError::Io(std::io::Error::other("reported")));
        }
        Err(error)
    };
    if config.private && config.tokens.as_ref().is_none_or(Tokens::is_empty) {
        return fail(ServeError::PrivateWithoutTokens);
    }
    let signing_key = match &config.signing_key {
        None => None,
        Some(text) => match checkpoint::verifier_key_of(text.trim_end()) {
            Ok(verifier) => Some(SigningKey {
                text: text.trim_end().to_owned(),
                verifier,
            }),
            Err(error) => return fail(ServeError::Key(error.to_string())),
        },
    };
    let ledger = match SledStorage::open(&config.ledger_dir, config.wait).and_then(Ledger::open) {
        Ok(ledger) => ledger,
        Err(error) => return fail(error.into()),
    };
    if let Some(key) = &signing_key {
        match ledger.origin() {
            Ok(origin) if origin == key.verifier.name() => {}
            Ok(origin) => {
                return fail(ServeError::Key(format!(
                    "the key is named {:?}, but this ledger's origin is {origin:?}; a \
                     ledger's checkpoints are signed with a key named after its origin",
                    key.verifier.name()
                )))
            }
            Err(error) => return fail(error.into()),
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("claims-serve-worker")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(error.into()),
    };
    let listener = match runtime.block_on(tokio::net::TcpListener::bind(config.listen)) {
        Ok(listener) => listener,
        Err(source) => {
            return fail(ServeError::Listen {
                addr: config.listen,
                source,
            })
        }
    };
    let addr = listener.local_addr()?;
    let socket = match &config.local {
        None => None,
        Some(_) => {
            let _runtime = runtime.enter();
            match local::bind(&config.ledger_dir) {
                Ok(bound) => Some(bound),
                Err(source) => {
                    return fail(ServeError::Socket {
                        path: config.ledger_dir.join(local::SOCKET_NAME),
                        source,
                    })
                }
            }
        }
    };
    let (writer, views, writer_thread) = Writer::start(
        ledger,
        writer::Clock {
            pinned: config.pinned_now,
        },
    )?;
    let (stopped, stop_watch) = tokio::sync::watch::channel(false);
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let local_task = match (socket, &config.local) {
        (Some((listener, file)), Some(commands)) => {
            let local = Arc::new(local::Local {
                commands: Arc::clone(commands),
                ledger_dir: config.ledger_dir.clone(),
                views: Arc::clone(&views),
                writer: writer.clone(),
                limits: config.limits.clone(),
                stopping: Arc::clone(&stopping),
            });
            Some(runtime.spawn(local::accept(listener, file, local, stop_watch)))
        }
        _ => None,
    };
    let stop = {
        let stopping = Arc::clone(&stopping);
        async move {
            stop.await;
            stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = stopped.send(true);
        }
    };
    let state = Arc::new(AppState {
        views,
        evidence: claimledger_store::EvidenceStore::of_ledger(&config.ledger_dir),
        writer,
        tokens: config.tokens.clone(),
        private: config.private,
        signing_key,
        limits: config.limits.clone(),
    });
    if let Some(ready) = ready {
        let _ = ready.send(Ok(addr));
    }
    let limits = config.limits.clone();
    runtime.block_on(http::serve(listener, Arc::clone(&state), limits, stop));
    if let Some(task) = local_task {
        // Until the commands under way end (each gives the ledger back if it holds it).
        let _ = runtime.block_on(task);
    }
    // Every handler is done: dropping the last writer handle lets the writer answer what it
    // holds and close the ledger.
    drop(state);
    runtime.shutdown_timeout(Duration::from_secs(1));
    writer_thread
        .join()
        .map_err(|_| ServeError::Io(std::io::Error::other("the writer thread panicked")))?;
    Ok(())
}
