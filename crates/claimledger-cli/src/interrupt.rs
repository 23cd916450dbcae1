//! Ctrl-C during a long write (`import`, `init --from-bundle`): the command stops, removes what
//! it had staged, and says that nothing was written, exit 130; once the write is landing, it is
//! let finish, so that what is reported is what happened. Other commands keep the default: a
//! read has nothing to undo, and add and revise are one atomic write.
//!
//! The signal only sets a flag, which the command checks between batches. A command blocked
//! reading its input (`claims import -` from a terminal) cannot check it, so after a short
//! grace the handler thread itself reports and exits, which is safe while nothing has been
//! committed: entries staged past the head are never read and are removed by the next write.

use crate::error::{stderr_line, CliError, ExitKind};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static PHASE: AtomicU8 = AtomicU8::new(Phase::Off as u8);
static MESSAGE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// How long the handler waits for the command to stop by itself.
const GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Not watching.
    Off,
    /// Reading and staging: nothing is committed, so stopping loses nothing acknowledged.
    Stoppable,
    /// The command saw the request and is stopping, cleaning up as it goes.
    Stopping,
    /// The write is landing: let it finish and report it.
    Committing,
}

/// Starts watching for Ctrl-C. `nothing_written` completes "interrupted: ...", e.g. "nothing
/// was imported; the ledger is as it was".
pub fn watch(nothing_written: &'static str) {
    let _ = MESSAGE.set(nothing_written);
    PHASE.store(Phase::Stoppable as u8, Ordering::SeqCst);
    // Without the handler (another one is set), Ctrl-C ends the process as before.
    let _ = ctrlc::set_handler(|| {
        REQUESTED.store(true, Ordering::SeqCst);
        std::thread::sleep(GRACE);
        if PHASE.load(Ordering::SeqCst) == Phase::Stoppable as u8 {
            stderr_line(&format!("error: {}", message()));
            std::process::exit(ExitKind::Interrupted as i32);
        }
    });
}

fn message() -> String {
    format!(
        "interrupted: {}",
        MESSAGE.get().copied().unwrap_or("nothing was written")
    )
}

/// Checks for Ctrl-C between batches: the error to stop with, once asked.
pub fn check() -> Result<(), CliError> {
    if REQUESTED.load(Ordering::SeqCst)
        && PHASE
            .compare_exchange(
                Phase::Stoppable as u8,
                Phase::Stopping as u8,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    {
        return Err(CliError::Failed {
            kind: ExitKind::Interrupted,
            message: message(),
        });
    }
    Ok(())
}

/// The write is about to land: from now on Ctrl-C waits for it.
pub fn committing() {
    let _ = PHASE.compare_exchange(
        Phase::Stoppable as u8,
        Phase::Committing as u8,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
}
