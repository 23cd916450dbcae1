//! Integration tests of the store: the ledger against a simple model, on both storages.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod group;
mod model;
mod sled;
mod support;
mod tree;
