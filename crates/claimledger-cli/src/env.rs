//! What every command needs from its surroundings: which ledger, how long to wait, who is
//! writing, and what time it is. Read once, here, so that nothing below reads the environment.

use crate::cli::Args;
use crate::error::{CliError, CliResult};
use crate::io::remark;
use crate::output;
use claimledger_core::{input, Timestamp};
use claimledger_store::{
    is_not_writable, IdBits, Ledger, SledStorage, StoreError, SubmitContext, Watched,
};
use std::path::PathBuf;
use std::time::Duration;

/// The ledger used when neither --ledger nor CLAIMS_LEDGER names one.
pub const DEFAULT_LEDGER_DIR: &str = ".claims";

/// Pins the clock (RFC 3339), for reproducible runs: ids are then derived, not random.
pub const NOW_VAR: &str = "CLAIMS_NOW";

/// How long a storage operation may make no progress before `claims` gives up on the ledger
/// as damaged, in seconds; 0 never gives up (watchdog.rs).
pub const STALL_TIMEOUT_VAR: &str = "CLAIMS_STALL_TIMEOUT";

/// The largest ledger, in MB (10^6 bytes), that a read command copies to read it when the user
/// may not write it; default [`COPY_MAX_MB_DEFAULT`].
pub const COPY_MAX_VAR: &str = "CLAIMS_COPY_MAX_MB";

/// The default of [`COPY_MAX_VAR`]: a copy of up to 1 GB.
const COPY_MAX_MB_DEFAULT: u64 = 1000;

/// Why an open failed, for a message: the operating system's words.
fn io_reason(error: &StoreError) -> String {
    match error {
        StoreError::Io { path, source } => format!("{source} on {}", path.display()),
        other => other.to_string(),
    }
}

/// The ledger as commands use it: sled, watched for progress (watchdog.rs).
pub type CliLedger = Ledger<Watched<SledStorage>>;

/// The longest --wait accepted.
const WAIT_MAX: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug)]
pub struct Env {
    pub ledger_dir: PathBuf,
    /// Whether the user named the ledger (the demo uses a temporary one otherwise).
    pub ledger_named: bool,
    pub wait: Duration,
    pub author: Option<String>,
    /// `--quiet`: no remarks, no progress bars.
    pub quiet: bool,
    pub pinned_now: Option<Timestamp>,
    /// The watchdog's limit; `None`: off.
    pub stall_timeout: Option<Duration>,
    /// The largest private copy a read command makes of a ledger the user may not write.
    pub copy_bytes_max: u64,
    /// The user's working directory, when the command runs in another process (`claims
    /// serve`): where a relative directory the user names is (`publish`, `export --evidence`,
    /// `import --evidence-dir`). `None`: this process's.
    pub cwd: Option<PathBuf>,
    /// The user's `AWS_*` variables, when the command runs in another process (`publish` to
    /// S3). `None`: this process's.
    pub aws: Option<Vec<(String, String)>>,
}

impl Env {
    /// What `args` and the environment variables (read through `var`, as `std::env::var` reads
    /// them: a value that is not Unicode counts as absent) say.
    pub fn from_args(args: &Args, var: &dyn Fn(&str) -> Option<String>) -> CliResult<Env> {
        if !args.wait.is_finite() || args.wait < 0.0 || args.wait > WAIT_MAX.as_secs_f64() {
            return Err(CliError::input(format!(
                "--wait {}: expected seconds from 0 to {}",
                args.wait,
                WAIT_MAX.as_secs()
            )));
        }
        let pinned_now = match var(NOW_VAR) {
            Some(text) => Some(parse_now(&text)?),
            None => None,
        };
        let stall_timeout = match var(STALL_TIMEOUT_VAR) {
            None => Some(crate::watchdog::DEFAULT_STALL_TIMEOUT),
            Some(text) => match text.trim().parse::<f64>() {
                Ok(0.0) => None,
                Ok(s) if s.is_finite() && s > 0.0 && s <= WAIT_MAX.as_secs_f64() => {
                    Some(Duration::from_secs_f64(s))
                }
                _ => {
                    return Err(CliError::input(format!(
                        "{STALL_TIMEOUT_VAR}={text:?}: expected seconds from 0 (no limit) to {}",
                        WAIT_MAX.as_secs()
                    )))
                }
            },
        };
        let copy_bytes_max = match var(COPY_MAX_VAR) {
            None => COPY_MAX_MB_DEFAULT * 1_000_000,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(mb) if mb <= u64::MAX / 1_000_000 => mb * 1_000_000,
                _ => {
                    return Err(CliError::input(format!(
                        "{COPY_MAX_VAR}={text:?}: expected a whole number of megabytes"
                    )))
                }
            },
        };
        Ok(Env {
            copy_bytes_max,
            ledger_dir: args
                .ledger
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER_DIR)),
            ledger_named: args.ledger.is_some(),
            wait: Duration::from_secs_f64(args.wait),
            author: args.author.clone(),
            quiet: args.quiet,
            pinned_now,
            stall_timeout,
            cwd: None,
            aws: None,
        })
    }

    /// Opens the ledger to read it (`SledStorage::open_read`: nothing past the head is
    /// removed). A ledger this user may not write (someone else's, or on a read-only mount) is
    /// read through a private copy (`SledStorage::open_private_copy`, docs/RELIABILITY.md),
    /// with a remark that says so and what it cost.
    /// A ledger of store format 3 is read as it is, its Merkle tree computed from the log for
    /// this run (docs/FORMAT.md, "Version changes"); the next command that writes upgrades it.
    pub fn open(&self, err: &mut dyn std::io::Write) -> CliResult<CliLedger> {
        let storage = match SledStorage::open_read(&self.ledger_dir, self.wait) {
            Ok(storage) => storage,
            Err(error) if is_not_writable(&error) => {
                let limit = self.copy_bytes_max;
                let (storage, copy) = SledStorage::open_private_copy(
                    &self.ledger_dir,
                    self.wait,
                    limit,
                )
                .map_err(|e| match e {
                    StoreError::CopyTooLarge { path, bytes, limit } => CliError::io(format!(
                        "{} is read-only for you ({error}), and reading it means copying \
                                 it, but it holds {}, more than {COPY_MAX_VAR} allows ({}); \
                                 raise {COPY_MAX_VAR}, or ask its owner for an export \
                                 (`claims export`) and read that with `claims verify --bundle` \
                                 or `claims init --from-bundle`",
                        path.display(),
                        output::bytes(bytes),
                        output::bytes(limit)
                    )),
                    StoreError::Io { path, source }
                        if source.kind() == std::io::ErrorKind::PermissionDenied =>
                    {
                        CliError::io(format!(
                            "cannot read the ledger in {}: {source} on {}; reading it needs \
                             read access to its files (ask its owner for that, or for an export \
                             to check with `claims verify --bundle`)",
                            self.ledger_dir.display(),
                            path.display()
                        ))
                    }
                    other => CliError::from(other),
                })?;
                remark(
                    err,
                    self.quiet,
                    format_args!(
                    "note: you may not write to the ledger in {} ({}), so this reads a private \
                     copy of it: {} copied in {} to {}, removed afterwards",
                    self.ledger_dir.display(),
                    io_reason(&error),
                    output::bytes(copy.bytes),
                    output::duration(copy.elapsed),
                    copy.dir.display()
                ),
                );
                storage
            }
            Err(error) => return Err(error.into()),
        };
        if storage.tree_computed_in_memory() {
            remark(
                err,
                self.quiet,
                format_args!(
                    "note: {} is in store format 3; its Merkle tree is computed from the log for \
                 each command until a command that writes (add, revise, import) upgrades it to \
                 format 4",
                    self.ledger_dir.display()
                ),
            );
        }
        Ok(Ledger::open(Watched::new(storage))?)
    }

    /// Opens the ledger to append to it. A ledger of store format 3 has its Merkle tree rebuilt
    /// now, once (Ledger::open), which this says.
    pub fn open_to_write(&self, err: &mut dyn std::io::Write) -> CliResult<CliLedger> {
        let storage = SledStorage::open(&self.ledger_dir, self.wait).map_err(|error| {
            if is_not_writable(&error) {
                CliError::io(format!(
                    "cannot write to the ledger in {}: {}; writing needs write access to the \
                     directory and its files (commands that only read work without it)",
                    self.ledger_dir.display(),
                    io_reason(&error)
                ))
            } else {
                error.into()
            }
        })?;
        if let Some(entries) = storage.upgrade_pending() {
            remark(
                err,
                self.quiet,
                format_args!(
                "upgrading the ledger's Merkle tree to the standard SHA-256 tree (store format \
                 4): {}…",
                output::plural(entries, "entry", "entries")
            ),
            );
        }
        Ok(Ledger::open(Watched::new(storage))?)
    }

    /// A path the user named, as this process finds it: relative to the user's working
    /// directory ([`Env::cwd`]) when the command runs in another process.
    pub fn user_path(&self, path: &std::path::Path) -> PathBuf {
        match &self.cwd {
            Some(cwd) => cwd.join(path),
            None => path.to_owned(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.pinned_now
            .unwrap_or_else(|| Timestamp::new(chrono::Utc::now()))
    }

    /// Who writes, and when: --author, then CLAIMS_AUTHOR, then the OS user name.
    pub fn submit_context(&self) -> CliResult<SubmitContext> {
        let author = match &self.author {
            Some(author) => author.clone(),
            None => whoami::username(),
        };
        input::check_author(&author)
            .map_err(|e| CliError::input(format!("author {author:?}: {}", e.reason)))?;
        Ok(SubmitContext {
            now: self.now(),
            default_author: author,
            id_bits: if self.pinned_now.is_some() {
                IdBits::Derived
            } else {
                IdBits::Random
            },
        })
    }
}

fn parse_now(text: &str) -> CliResult<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp::new(t.with_timezone(&chrono::Utc)))
        .map_err(|e| {
            CliError::input(format!(
                "{NOW_VAR}={text:?} is not an RFC 3339 timestamp: {e}"
            ))
        })
}
