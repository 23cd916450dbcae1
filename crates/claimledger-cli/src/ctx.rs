//! What every command is given: its environment ([`Env`]), its streams and files ([`Io`]), and
//! the ledger ([`Ledgers`]), which it asks for when it needs it, in the way it needs it.
//!
//! A command run by `claims` alone opens the ledger itself ([`LocalLedgers`]: sled, the lock,
//! a wait of `--wait`); run by `claims serve` for a `claims` beside it, it gets the ledger the
//! server holds (`served.rs`: the latest read view, or the ledger itself, lent by the server's
//! writer for the command's duration). The command's code is the same either way, generic over
//! the storage.

use crate::env::{CliLedger, Env};
use crate::error::{CliError, CliResult};
use crate::io::Io;
use claimledger_core::input::Command;
use claimledger_store::{EvidenceStore, Ledger, Receipt, Storage, SubmitContext};
use std::io::Write;

/// How a command reaches the ledger. Each command asks once; `err` takes what is said on the
/// way (a private copy, an upgrade).
pub trait Ledgers<S: Storage> {
    /// The ledger to read, as it stands now.
    fn read(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&Ledger<S>>;
    /// The ledger to read with nothing written to it until the command ends (`verify`, which
    /// compares the whole index with the log).
    fn read_still(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&Ledger<S>>;
    /// The ledger to append to, held until the command ends.
    fn write(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&mut Ledger<S>>;
    /// The ledger's evidence store (snapshots of sources, docs/FORMAT.md).
    fn evidence(&mut self, env: &Env) -> EvidenceStore {
        EvidenceStore::of_ledger(&env.ledger_dir)
    }
    /// The ledger to read now and append to afterwards with [`Ledgers::write`], when what
    /// comes between may take long (`archive --fetch`): here, the ledger held to write from
    /// the start; in `claims serve`, its latest view, the ledger being lent only once the
    /// command asks to write (so that a slow fetch holds up no other writer). What was read
    /// must then be read again from what `write` gives.
    fn read_to_write(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&Ledger<S>> {
        Ok(self.write(env, err)?)
    }
    /// Commits one command that needs nothing read first (`add`), once durable: the receipt,
    /// and the head just after its entry. By default, on the ledger [`Ledgers::write`] gives.
    fn submit_one(
        &mut self,
        env: &Env,
        err: &mut dyn Write,
        command: Command,
        context: &SubmitContext,
    ) -> CliResult<Receipt> {
        submit_held(self.write(env, err)?, command, context)
    }
}

/// Commits `command` on a ledger held.
pub fn submit_held<S: Storage>(
    ledger: &mut Ledger<S>,
    command: Command,
    context: &SubmitContext,
) -> CliResult<Receipt> {
    ledger
        .submit(&[command], context)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::io("the ledger gave no receipt for the command"))
}

/// The ledger opened by this process.
#[derive(Debug, Default)]
pub struct LocalLedgers {
    ledger: Option<CliLedger>,
    /// Whether `ledger` was opened to write.
    writable: bool,
}

impl Ledgers<claimledger_store::Watched<claimledger_store::SledStorage>> for LocalLedgers {
    fn read(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&CliLedger> {
        Ok(self.ledger.insert(env.open(err)?))
    }

    fn read_still(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&CliLedger> {
        // The lock keeps writers out while this process holds the ledger.
        self.read(env, err)
    }

    fn write(&mut self, env: &Env, err: &mut dyn Write) -> CliResult<&mut CliLedger> {
        // Once opened to write (`read_to_write`), the same ledger, still held.
        if !self.writable || self.ledger.is_none() {
            self.ledger = Some(env.open_to_write(err)?);
            self.writable = true;
        }
        self.ledger
            .as_mut()
            .ok_or_else(|| CliError::io("the ledger was not opened"))
    }
}

/// A command's surroundings.
pub struct Ctx<'a, S: Storage> {
    pub env: Env,
    pub io: Io<'a>,
    pub ledgers: &'a mut dyn Ledgers<S>,
}

impl<S: Storage> std::fmt::Debug for Ctx<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("env", &self.env)
            .field("io", &self.io)
            .finish()
    }
}
