//! The claim model of claimledger: claims, their validation, the events that record and revise
//! them, and the exact bytes that are stored and hashed.
//!
//! This crate does no I/O, reads no clock and no environment: callers supply the time, the
//! author and new claim ids. Storage lives in `claimledger-store`, the terminal in
//! `claimledger-cli`.
//!
//! ```
//! use claimledger_core::{input, decide, ClaimId, Entry, EntryHash, Event, Seq, Timestamp};
//!
//! let line = r#"{"key":"mz-named","subject":"russia/military-deaths","claimant":"Mediazona",
//!     "statement":"95,300 named dead","value":{"amount":95300,"unit":"people"}}"#;
//! let input::Command::Record(command) = input::parse_command(line).unwrap() else { unreachable!() };
//! let context = decide::EventContext {
//!     now: Timestamp::parse("2025-02-25T09:30:00.000000Z").unwrap(),
//!     default_author: "ana".into(),
//! };
//! let id = ClaimId::parse("01953a1c-8f00-7000-8000-000000000001").unwrap();
//! let event = decide::decide_record(&command, id, None, &context).unwrap();
//! let entry = Entry { seq: Seq::FIRST, prev: EntryHash::ZERO, event };
//! let bytes = entry.encode();
//! assert_eq!(Entry::decode(&bytes).unwrap(), entry);
//! println!("entry 1 hash {}", EntryHash::of(&bytes));
//! ```

pub mod canonical;
pub mod checkpoint;
mod claim;
mod date;
pub mod decide;
mod decimal;
pub mod diff;
mod event;
pub mod evidence;
pub mod input;
pub mod merkle;

pub use claim::{
    check_nonempty_text, check_text, escape_controls, limits, Bound, Claim, FieldError, Key, Lines,
    Period, Source, Status, Subject, Tag, Value,
};
pub use date::{Date, Precision};
pub use decimal::Decimal;
pub use event::{
    ClaimId, ClaimRecorded, ClaimRevised, DecodeError, Entry, EntryHash, Event, Seq, Timestamp,
    ENTRY_FORMAT_VERSION, ENTRY_LEN_MAX,
};
pub use evidence::{Archived, SnapshotHash};
pub use input::RevisionKind;
