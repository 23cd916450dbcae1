//! A claimledger ledger as a transparency log others can follow, check and witness: published
//! as c2sp.org/tlog-tiles, monitored, and cosigned per c2sp.org/tlog-witness and
//! c2sp.org/tlog-cosignature (docs/FORMAT.md §9).
//!
//! - [`layout`]: the published objects (checkpoint, tiles, entry bundles), their paths and the
//!   bundle encoding.
//! - [`objects`]: where they live, behind [`objects::ObjectSource`] / [`objects::ObjectSink`]: a
//!   directory, S3-compatible object storage (`object_store`), or an http(s) base URL (read).
//! - [`publish`]: writes a ledger's new tiles and bundles, then its checkpoint.
//! - [`monitor`]: follows a published log from a state file and checks everything new.
//! - [`cosignature`]: `cosignature/v1` keys, signing and verifying (the `signed_note` traits).
//! - [`witness`]: the witness's state machine and HTTP service; [`witness_client`]: asking
//!   witnesses to cosign.
//!
//! This crate does no terminal I/O; the `claims` commands `publish`, `monitor` and
//! `witness serve` are thin layers over it.
//!
//! ```
//! use claimledger_tlog::layout::{new_objects, ObjectName};
//!
//! // A log that grows from 255 to 257 entries completes tile 0 and bundle 0, and starts
//! // tile 1, bundle 1 and the first tile of level 1.
//! let paths: Vec<String> = new_objects(255, 257).iter().map(ObjectName::path).collect();
//! assert_eq!(paths, [
//!     "tile/entries/000", "tile/0/000", "tile/entries/001.p/1", "tile/0/001.p/1", "tile/1/000.p/1",
//! ]);
//! ```

pub mod cosignature;
pub mod layout;
pub mod monitor;
pub mod objects;
pub mod publish;
pub mod witness;
pub mod witness_client;
