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

/// A stored key and its value.
pub type RawPair = (Vec<u8>, Vec<u8>);

/// Every stored key and value of the ledger, in key order: the log chunks (`L`), the meta
/// records (`M`), the Merkle tree tiles (`T`) and the index (`X`) of docs/FORMAT.md section 5.
pub fn raw_pairs(storage: &SledStorage) -> Result<Vec<RawPair>, StoreError> {
    storage
        .raw_db()
        .iter()
        .map(|item| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| StoreError::Backend(e.to_string()))
        })
        .collect()
}

/// One stored value, by its raw key.
pub fn raw_get(storage: &SledStorage, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    storage
        .raw_db()
        .get(key)
        .map(|v| v.map(|v| v.to_vec()))
        .map_err(|e| StoreError::Backend(e.to_string()))
}

/// Writes (`Some`) or removes (`None`) raw keys, in one batch (not flushed: see [`raw_flush`]).
/// Values a running [`SledStorage`] keeps in memory (the head, the index and tree marks) are not
/// updated: open the ledger again to see altered meta records.
pub fn raw_write(
    storage: &SledStorage,
    pairs: &[(Vec<u8>, Option<Vec<u8>>)],
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for (key, value) in pairs {
        match value {
            Some(value) => batch.insert(key.as_slice(), value.as_slice()),
            None => batch.remove(key.as_slice()),
        }
    }
    storage
        .raw_db()
        .apply_batch(batch)
        .map_err(|e| StoreError::Backend(e.to_string()))
}

/// Makes raw writes durable, for another process to see.
pub fn raw_flush(storage: &SledStorage) -> Result<(), StoreError> {
    storage
        .raw_db()
        .flush()
        .map(drop)
        .map_err(|e| StoreError::Backend(e.to_string()))
}

/// The entries a raw log chunk value holds (docs/FORMAT.md section 5), or why it cannot be
/// read: how a test takes a chunk apart to alter it.
pub fn decode_chunk(value: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    crate::chunk::decode_chunk(value).map_err(|(position, why)| format!("entry {position}: {why}"))
}

/// The raw log chunk value holding `entries`, as the store writes it; unlike the store, it
/// takes more than 128 (a chunk with an entry too many).
pub fn encode_chunk(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut value = Vec::new();
    for block in entries.chunks(crate::chunk::ENTRIES_PER_BLOCK) {
        crate::chunk::push_block(&mut value, block);
    }
    value
}
