//! The parts of `claims` that others reach directly: the readers of untrusted files (import
//! files, JSON Lines and CSV, and proof files), for tests and the fuzz targets (`fuzz/`); and
//! the claim flags and read views that the benchmark's SQLite alternative shares with `claims`;
//! and the fetch of a source into a WARC file (`fetch`), which the tests drive against their own
//! hostile server.
//! The binary, `claims`, is `src/main.rs`.

pub mod csv_input;
pub mod fetch;
pub mod fields;
pub mod import_file;
pub mod proof_file;
pub mod view;
