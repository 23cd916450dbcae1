//! Integration tests of the store: the ledger against a simple model, on both storages.

mod model;
mod sled;
mod support;
