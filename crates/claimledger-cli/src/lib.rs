//! The parts of `claims` that others reach directly: the claim flags, and (from
//! `claimledger-formats`, which `claims serve` shares) the readers of untrusted import files
//! and the read views; the proof files; and the fetch of a source into a WARC file (`fetch`),
//! which the tests drive against a hostile server of their own. The readers of untrusted files
//! are here for tests and the fuzz targets (`fuzz/`); the flags and views for the benchmark's
//! SQLite alternative.
//! The binary, `claims`, is `src/main.rs`.

pub use claimledger_formats::{csv_input, import_file, view};
pub mod fetch;
pub mod fields;
pub mod proof_file;
