//! What `claims` and `claims serve` both speak, so that a claim read through either looks the
//! same: the readers of import files (JSON Lines and CSV, which the fuzz targets drive too),
//! the JSON shapes and orders of read views (docs/CLI.md), and figures, periods and times as
//! a reader says them.
//!
//! ```
//! use claimledger_core::{Bound, Decimal, Value};
//! let value = Value {
//!     bound: Bound::AtLeast,
//!     amount: Some(Decimal::parse("46000").unwrap()),
//!     low: None,
//!     high: None,
//!     unit: Some("people".into()),
//! };
//! assert_eq!(claimledger_formats::text::figure(&value), "≥ 46,000 people");
//! ```

pub mod changes;
pub mod csv_input;
pub mod import_file;
pub mod text;
pub mod view;
