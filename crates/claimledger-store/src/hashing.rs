//! Hash maps sized for what they hold, with hashers that cost little: claim ids are random in
//! their low 64 bits already, and text keys are hashed with foldhash (seeded per process, so
//! that input chosen to collide cannot slow a map down) rather than SipHash.

use claimledger_core::ClaimId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for values that are random already (claim ids, digests): it keeps their last 8
/// bytes. A claim id's last 8 bytes are 62 random bits and its variant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes.iter().rev().take(8).rev() {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }

    fn write_usize(&mut self, _: usize) {
        // The length of a fixed-size value, which says nothing.
    }
}

/// Builds [`Prehashed`] hashers.
pub type IdHash = BuildHasherDefault<Prehashed>;

/// A map from claim ids.
pub type IdMap<V> = HashMap<ClaimId, V, IdHash>;

/// A map keyed by text (or other variable-length data).
pub type TextMap<V, K = Box<str>> = HashMap<K, V, foldhash::fast::RandomState>;
