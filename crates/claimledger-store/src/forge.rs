//! Deliberate alterations of stored data, as an attacker with write access or a failing disk
//! would make them. No command that records or reads claims uses this; it exists so that the
//! demo and the integrity tests can show `verify` catching each kind of alteration.

use crate::storage::StoreError;
use crate::SledStorage;
use claimledger_core::Seq;

/// Replaces entry `seq`'s stored bytes with `bytes`, changing nothing else.
pub fn overwrite_entry(
    storage: &mut SledStorage,
    seq: Seq,
    bytes: &[u8],
) -> Result<(), StoreError> {
    storage.overwrite_entry(seq, bytes)
}
