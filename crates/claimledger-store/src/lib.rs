//! Storage for claimledger: an append-only log of hash-chained entries with a derived index,
//! behind the small [`Storage`] trait, and the [`Ledger`] that writes and reads it.
//!
//! ```
//! use claimledger_core::{input::parse_command, Timestamp};
//! use claimledger_store::{IdBits, Ledger, MemoryStorage, SubmitContext};
//!
//! let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
//! let context = SubmitContext {
//!     now: Timestamp::parse("2025-02-25T09:30:00.000000Z").unwrap(),
//!     default_author: "ana".into(),
//!     id_bits: IdBits::Derived,
//! };
//! let record = parse_command(r#"{"key":"mz","subject":"russia/military-deaths",
//!     "claimant":"Mediazona","statement":"95,300 named dead","value":{"amount":95300}}"#).unwrap();
//! let revise = parse_command(r#"{"op":"revise","claim":"mz","reason":"list updated",
//!     "statement":"121,507 named dead","value":{"amount":121507}}"#).unwrap();
//! ledger.submit(&[record, revise], &context).unwrap();
//!
//! let id = ledger.resolve("mz").unwrap().unwrap();
//! assert_eq!(ledger.claim(id).unwrap().unwrap().revision, 2);
//! assert!(ledger.verify(&mut |_| {}).unwrap().problem.is_none());
//! ```

mod bundle;
mod chunk;
pub mod evidence;
pub mod forge;
pub mod index;
mod index_batch;
mod ledger;
#[cfg(test)]
mod ledger_tests;
mod lock;
mod memory;
mod private_copy;
mod sled_store;
mod storage;
pub mod tree;
mod verify;
pub mod watch;

pub use bundle::{checkpoint_line, header_line, BUNDLE_FORMAT};
pub use evidence::{EvidenceStore, SnapshotFault, SnapshotRef};
pub use ledger::{
    id_after, Filter, IdBits, Ledger, LedgerView, Receipt, RejectReason, Revision, ShareRead,
    StreamError, SubmitContext, SubmitError, Submitted, INDEX_BATCH_ENTRIES, LARGE_COMMIT_ENTRIES,
};
pub use memory::{MemoryStorage, MEMORY_ORIGIN};
pub use private_copy::{is_not_writable, PrivateCopy};
pub use sled_store::{
    default_origin, default_origin_with, SledStorage, DEFAULT_WAIT, STORE_FORMAT,
};
pub use storage::{Head, IndexOp, Storage, StoreError};
pub use verify::{
    verify_bundle, BundleCheckpoint, BundleReport, EntryCheck, Problem, VerifyReport,
};
pub use watch::Watched;
