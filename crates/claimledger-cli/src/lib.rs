//! The parts of `claims` that read untrusted files without opening a ledger: import files
//! (JSON Lines and CSV) and proof files. They form a library so that tests and the fuzz targets
//! (`fuzz/`) can drive them directly; the binary, `claims`, is `src/main.rs`.

pub mod csv_input;
pub mod import_file;
pub mod proof_file;
