//! Bounded time on damaged storage. sled 0.34 has been seen to spin forever, or panic, on a
//! database with a flipped bit, inside its own code where nothing can interrupt it. `claims`
//! must still end, with one clear line, and never report a damaged ledger intact:
//!
//! - a watchdog thread watches the store's progress count ([`claimledger_store::watch`]): when a
//!   storage operation is under way and the count has not moved for the stall timeout
//!   (`CLAIMS_STALL_TIMEOUT` seconds, default 30; 0 turns the watchdog off), it prints
//!   `error: storage corrupted: no progress reading the ledger for N s ...` and ends the
//!   process with exit code 1 (integrity). Waiting for another process's lock is not storage
//!   work, and a scan's consumer blocked on a slow reader of standard output is not counted.
//!   Ending a write this way is a crash, which the store is built to survive (the crash loop
//!   of tests/cli/crash.rs): the write lands whole or not at all.
//! - a panic while storage work is under way, or in sled's code (in any thread), prints
//!   `error: storage corrupted: ...` on one line and ends the process with exit code 1. Other
//!   panics are bugs and keep Rust's report.

use claimledger_store::watch;
use std::time::{Duration, Instant};

/// The stall timeout when `CLAIMS_STALL_TIMEOUT` is not set.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The exit code of both: integrity (error.rs).
const EXIT: i32 = crate::error::ExitKind::Integrity as i32;

/// Starts the watchdog thread; `None` turns it off.
pub fn start(timeout: Option<Duration>) {
    let Some(timeout) = timeout else { return };
    let poll = (timeout / 20).clamp(Duration::from_millis(10), Duration::from_millis(500));
    let spawned = std::thread::Builder::new()
        .name("claims-watchdog".into())
        .spawn(move || {
            let mut last = watch::state().0;
            let mut since = Instant::now();
            loop {
                std::thread::sleep(poll);
                let (ticks, busy) = watch::state();
                if !busy || ticks != last {
                    last = ticks;
                    since = Instant::now();
                } else if since.elapsed() >= timeout {
                    crate::error::stderr_line(&format!(
                        "error: storage corrupted: no progress reading the ledger for {} s; the \
                         storage engine is stuck, most likely on damaged data (run `claims \
                         verify`; CLAIMS_STALL_TIMEOUT sets this limit)",
                        crate::output::duration(timeout).trim_end_matches(" s")
                    ));
                    std::process::exit(EXIT);
                }
            }
        });
    // Without the thread, commands still work; they only lose the bound on a stuck read.
    drop(spawned);
}

/// Turns panics during storage work, or in sled, into one line and exit code 1.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info.location();
        let in_sled = location.is_some_and(|l| l.file().contains("sled"));
        if watch::state().1 || in_sled {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            // A dependency's path starts with the registry's; from its name on is enough.
            let at = location
                .map(|l| {
                    let file = l.file();
                    let file = file.find("sled-").map_or(file, |i| &file[i..]);
                    format!(" at {file}:{}", l.line())
                })
                .unwrap_or_default();
            let line = format!(
                "error: storage corrupted: reading the ledger failed ({message}{at}); run \
                 `claims verify`"
            )
            .replace(['\n', '\r'], " ");
            crate::error::stderr_line(&line);
            std::process::exit(EXIT);
        }
        default(info);
    }));
}
