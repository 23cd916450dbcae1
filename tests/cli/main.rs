//! End-to-end tests of the `claims` binary: each test runs the real executable on a temporary
//! ledger, with the clock and the author pinned through the environment (see `support.rs`), so
//! that claim ids, hashes and output are the same on every run.
//!
//! One module per area; each area has a `check` helper so that adding a case is one line.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod add;
mod bad_input;
mod beside;
mod bundles;
mod busy;
mod concurrency;
mod concurrency_800;
mod conventions;
mod crash;
mod demo;
mod env_faults;
mod evidence;
mod format_doc;
mod history;
mod hostile;
mod import;
mod interop;
mod listings;
mod monitor;
mod pipes;
mod proofs;
mod publish;
mod published_evidence;
mod readme;
mod research;
mod revise;
mod s3;
mod serve;
mod sled_flips;
mod support;
mod tamper;
mod tlog_support;
mod upgrade;
mod verify;
mod witness;
