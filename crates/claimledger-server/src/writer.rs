//! The one writer: a thread that owns the [`Ledger`], takes write requests from a queue, and
//! commits them in groups (group commit).
//!
//! Requests that arrive while a commit is under way wait in the queue; the writer then takes
//! every waiting single-claim request (up to [`GROUP_MAX`]), decides each on its own with
//! [`Ledger::submit_each`] (a refused one changes nothing for the others) and commits the
//! accepted ones in one durable write, so that many writers share one flush. Each request is
//! answered only after that write is durable. An import (all or nothing) is committed on its
//! own, between groups.
//!
//! After every commit the writer publishes a fresh [`LedgerView`], from which every read is
//! answered without waiting for the writer: readers never see an entry before it is durable.
//!
//! The writer can also lend the ledger itself, between groups ([`Writer::lend`]): a `claims`
//! command run for a client on the local socket (`local`) holds it as a `claims` process
//! holds the ledger's lock, and the writer waits for it back.

use claimledger_core::input::Command;
use claimledger_core::Timestamp;
use claimledger_store::{
    Head, IdBits, Ledger, LedgerView, Receipt, RejectReason, SledStorage, StreamError,
    SubmitContext, SubmitError, Submitted,
};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most single-claim requests committed together.
pub const GROUP_MAX: usize = 1024;

/// Requests that may wait for the writer; past this a write is refused as busy (503).
pub const QUEUE_MAX: usize = 8192;

/// The ledger as the server reads it: the view published after the last commit.
pub type View = Arc<LedgerView<SledStorage>>;

/// Where readers find the latest view.
#[derive(Debug)]
pub struct Views(RwLock<View>);

impl Views {
    pub fn latest(&self) -> View {
        // A poisoned lock still holds a complete view: the writer replaces it whole.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn publish(&self, view: LedgerView<SledStorage>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(view);
    }
}

/// Why a write was not committed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Refused by the ledger's rules; for an import, `command` is its 0-based place.
    #[error("{reason}")]
    Rejected {
        command: usize,
        reason: RejectReason,
    },
    /// The storage failed (the message of a [`StoreError`]); nothing of the request was written.
    #[error("{0}")]
    Store(String),
    #[error("the server is shutting down; try again later")]
    ShuttingDown,
    #[error("too many writes are waiting; try again shortly")]
    Busy,
}

enum Job {
    One {
        command: Box<Command>,
        reply: oneshot::Sender<Result<Receipt, WriteError>>,
    },
    Import {
        commands: Vec<Command>,
        reply: oneshot::Sender<Result<Submitted, WriteError>>,
    },
    Lend {
        reply: std::sync::mpsc::SyncSender<Lent>,
    },
}

/// The ledger itself, lent by the writer ([`Writer::lend`]) to one holder, who has it alone
/// until this is dropped; then the writer publishes a view of what the holder wrote and takes
/// the ledger back.
pub struct Lent {
    ledger: Option<Ledger<SledStorage>>,
    head: Head,
    views: Arc<Views>,
    back: std::sync::mpsc::SyncSender<Ledger<SledStorage>>,
}

impl std::fmt::Debug for Lent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lent({})", self.head)
    }
}

impl std::ops::Deref for Lent {
    type Target = Ledger<SledStorage>;

    fn deref(&self) -> &Ledger<SledStorage> {
        self.ledger
            .as_ref()
            .expect("a lent ledger is held until dropped")
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut Ledger<SledStorage> {
        self.ledger
            .as_mut()
            .expect("a lent ledger is held until dropped")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(ledger) = self.ledger.take() {
            // Published before the ledger goes back, so that whatever the holder answers
            // next, every reader already sees what it wrote.
            if ledger.head() != self.head {
                self.views.publish(ledger.view());
            }
            let _ = self.back.send(ledger);
        }
    }
}

/// Why the writer did not lend the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LendError {
    #[error("the writer was busy for {0:?}")]
    Busy(Duration),
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// What the writer thread needs besides its ledger: the clock, or a pinned time.
#[derive(Clone, Debug)]
pub struct Clock {
    pub pinned: Option<Timestamp>,
}

impl Clock {
    fn context(&self) -> SubmitContext {
        SubmitContext {
            now: self
                .pinned
                .unwrap_or_else(|| Timestamp::new(chrono::Utc::now())),
            // Every command the server takes names its author (the token's).
            default_author: "server".into(),
            id_bits: if self.pinned.is_some() {
                IdBits::Derived
            } else {
                IdBits::Random
            },
        }
    }
}

/// The handle through which requests reach the writer. Dropping every handle ends the
/// writer once it has answered what it took.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    /// The time the writer gives entries, when pinned (`CLAIMS_NOW`).
    pinned: Option<Timestamp>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::One { .. } => "Job::One",
            Job::Import { .. } => "Job::Import",
            Job::Lend { .. } => "Job::Lend",
        })
    }
}

impl Writer {
    /// Starts the writer thread on `ledger`; returns its handle, the views readers use, and the
    /// thread, which ends (dropping the ledger) once every handle is gone and the queue is
    /// empty.
    pub fn start(
        ledger: Ledger<SledStorage>,
        clock: Clock,
    ) -> std::io::Result<(Writer, Arc<Views>, std::thread::JoinHandle<()>)> {
        let views = Arc::new(Views(RwLock::new(Arc::new(ledger.view()))));
        let (queue, jobs) = mpsc::channel(QUEUE_MAX);
        let published = Arc::clone(&views);
        let pinned = clock.pinned;
        let thread = std::thread::Builder::new()
            .name("claims-writer".into())
            .spawn(move || run(ledger, jobs, published, &clock))?;
        Ok((Writer { queue, pinned }, views, thread))
    }

    /// The time the writer gives entries: `Some` when pinned (`CLAIMS_NOW`).
    pub fn pinned_now(&self) -> Option<Timestamp> {
        self.pinned
    }

    /// Commits one record or revise; answers once it is durable.
    pub async fn submit(&self, command: Command) -> Result<Receipt, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::One {
            command: Box::new(command),
            reply,
        })?;
        answer.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// [`Writer::submit`] from a thread that is not an async task: blocks it until the
    /// command is durable (or refused).
    pub fn submit_blocking(&self, command: Command) -> Result<Receipt, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::One {
            command: Box::new(command),
            reply,
        })?;
        answer
            .blocking_recv()
            .map_err(|_| WriteError::ShuttingDown)?
    }

    /// Commits an import, all or nothing; answers once it is durable.
    pub async fn import(&self, commands: Vec<Command>) -> Result<Submitted, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Import { commands, reply })?;
        answer.await.map_err(|_| WriteError::ShuttingDown)?
    }

    /// Lends the ledger, once the writes before it are committed: blocks the calling thread
    /// (not an async task) for up to `wait`.
    pub fn lend(&self, wait: Duration) -> Result<Lent, LendError> {
        let (reply, lent) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Lend { reply })
            .map_err(|error| match error {
                WriteError::Busy => LendError::Busy(Duration::ZERO),
                _ => LendError::ShuttingDown,
            })?;
        lent.recv_timeout(wait).map_err(|error| match error {
            std::sync::mpsc::RecvTimeoutError::Timeout => LendError::Busy(wait),
            std::sync::mpsc::RecvTimeoutError::Disconnected => LendError::ShuttingDown,
        })
    }

    fn send(&self, job: Job) -> Result<(), WriteError> {
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Busy,
            mpsc::error::TrySendError::Closed(_) => WriteError::ShuttingDown,
        })
    }
}

fn run(
    mut ledger: Ledger<SledStorage>,
    mut jobs: mpsc::Receiver<Job>,
    views: Arc<Views>,
    clock: &Clock,
) {
    let mut pending: Option<Job> = None;
    loop {
        let first = match pending.take() {
            Some(job) => job,
            None => match jobs.blocking_recv() {
                Some(job) => job,
                None => return,
            },
        };
        match first {
            Job::Lend { reply } => {
                let (back, returned) = std::sync::mpsc::sync_channel(1);
                let lent = Lent {
                    head: ledger.head(),
                    ledger: Some(ledger),
                    views: Arc::clone(&views),
                    back,
                };
                ledger = match reply.send(lent) {
                    // The holder gave up waiting: the ledger comes straight back.
                    Err(std::sync::mpsc::SendError(mut lent)) => match lent.ledger.take() {
                        Some(ledger) => ledger,
                        None => return,
                    },
                    Ok(()) => match returned.recv() {
                        Ok(ledger) => ledger,
                        // Only a holder that never dropped its loan gets here: the process
                        // is ending.
                        Err(_) => return,
                    },
                };
            }
            Job::Import { commands, reply } => {
                let result = ledger
                    .submit_stream(
                        &mut std::iter::once(Ok::<_, std::convert::Infallible>(commands)),
                        &clock.context(),
                    )
                    .map_err(|error| match error {
                        StreamError::Input(never) => match never {},
                        StreamError::Submit(SubmitError::Rejected { command, reason }) => {
                            WriteError::Rejected { command, reason }
                        }
                        StreamError::Submit(SubmitError::Store(error)) => {
                            WriteError::Store(error.to_string())
                        }
                    });
                if result.is_ok() {
                    views.publish(ledger.view());
                }
                let _ = reply.send(result);
            }
            Job::One { command, reply } => {
                let mut commands = vec![*command];
                let mut replies = vec![reply];
                while commands.len() < GROUP_MAX {
                    match jobs.try_recv() {
                        Ok(Job::One { command, reply }) => {
                            commands.push(*command);
                            replies.push(reply);
                        }
                        Ok(import) => {
                            pending = Some(import);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                match ledger.submit_each(&commands, &clock.context()) {
                    Ok(results) => {
                        views.publish(ledger.view());
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(
                                result
                                    .map_err(|reason| WriteError::Rejected { command: 0, reason }),
                            );
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(WriteError::Store(message.clone())));
                        }
                    }
                }
            }
        }
    }
}
