//! What every command needs from its surroundings: which ledger, how long to wait, who is
//! writing, and what time it is. Read once, here, so that nothing below reads the environment.

use crate::cli::Args;
use crate::error::{CliError, CliResult};
use claimledger_core::{input, Timestamp};
use claimledger_store::{IdBits, Ledger, SledStorage, SubmitContext, Watched};
use std::path::PathBuf;
use std::time::Duration;

/// The ledger used when neither --ledger nor CLAIMS_LEDGER names one.
pub const DEFAULT_LEDGER_DIR: &str = ".claims";

/// Pins the clock (RFC 3339), for reproducible runs: ids are then derived, not random.
pub const NOW_VAR: &str = "CLAIMS_NOW";

/// How long a storage operation may make no progress before `claims` gives up on the ledger
/// as damaged, in seconds; 0 never gives up (watchdog.rs).
pub const STALL_TIMEOUT_VAR: &str = "CLAIMS_STALL_TIMEOUT";

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
    pub quiet: bool,
    pub pinned_now: Option<Timestamp>,
    /// The watchdog's limit; `None`: off.
    pub stall_timeout: Option<Duration>,
}

impl Env {
    pub fn from_args(args: &Args) -> CliResult<Env> {
        if !args.wait.is_finite() || args.wait < 0.0 || args.wait > WAIT_MAX.as_secs_f64() {
            return Err(CliError::input(format!(
                "--wait {}: expected seconds from 0 to {}",
                args.wait,
                WAIT_MAX.as_secs()
            )));
        }
        let pinned_now = match std::env::var(NOW_VAR) {
            Ok(text) => Some(parse_now(&text)?),
            Err(_) => None,
        };
        let stall_timeout = match std::env::var(STALL_TIMEOUT_VAR) {
            Err(_) => Some(crate::watchdog::DEFAULT_STALL_TIMEOUT),
            Ok(text) => match text.trim().parse::<f64>() {
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
        Ok(Env {
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
        })
    }

    /// Opens the ledger to read it (`SledStorage::open_read`: nothing past the head is
    /// removed).
    /// A ledger of store format 3 is read as it is, its Merkle tree computed from the log for
    /// this run (docs/FORMAT.md, "Version changes"); the next command that writes upgrades it.
    pub fn open(&self) -> CliResult<CliLedger> {
        let storage = SledStorage::open_read(&self.ledger_dir, self.wait)?;
        if storage.tree_computed_in_memory() {
            self.say(format_args!(
                "note: {} is in store format 3; its Merkle tree is computed from the log for \
                 each command until a command that writes (add, revise, import) upgrades it to \
                 format 4",
                self.ledger_dir.display()
            ));
        }
        Ok(Ledger::open(Watched::new(storage))?)
    }

    /// Opens the ledger to append to it. A ledger of store format 3 has its Merkle tree rebuilt
    /// now, once (Ledger::open), which this says.
    pub fn open_to_write(&self) -> CliResult<CliLedger> {
        let storage = SledStorage::open(&self.ledger_dir, self.wait)?;
        if let Some(entries) = storage.upgrade_pending() {
            self.say(format_args!(
                "upgrading the ledger's Merkle tree to the standard SHA-256 tree (store format \
                 4): {entries} entries…"
            ));
        }
        Ok(Ledger::open(Watched::new(storage))?)
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

    /// Prints a remark for people (not a result) on standard error, unless --quiet.
    pub fn say(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{message}");
        }
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
