//! The index: what it holds, how its keys are spelt, and how each event changes it.
//!
//! Everything here is derived from the log; nothing in it is trusted by `verify`, which
//! recomputes it. Keys (all integers big-endian, `id` the claim id's 16 bytes):
//!
//! | key | value | meaning |
//! |---|---|---|
//! | `r` id revision:u32 | seq:u64, then for revision 1 the key's bytes | where each revision is |
//! | `k` key | id | which claim a key names |
//! | `s` subject 0x00 id | empty | claims whose latest revision has this subject |
//! | `a` claimant 0x00 id | empty | likewise for the claimant |
//! | `t` tag 0x00 id | empty | likewise for each tag |
//!
//! Subjects, claimants and tags cannot contain 0x00 (control characters are refused), so the
//! separator is unambiguous.

use crate::storage::IndexOp;
use claimledger_core::{Claim, ClaimId, Event, Key, Seq};

pub const REVISION: u8 = b'r';
pub const KEY: u8 = b'k';
pub const SUBJECT: u8 = b's';
pub const CLAIMANT: u8 = b'a';
pub const TAG: u8 = b't';

pub fn revision_key(id: ClaimId, revision: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(21);
    key.push(REVISION);
    key.extend_from_slice(id.as_bytes());
    key.extend_from_slice(&revision.to_be_bytes());
    key
}

/// The prefix under which all of a claim's revisions sit, in revision order.
pub fn revisions_prefix(id: ClaimId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(REVISION);
    key.extend_from_slice(id.as_bytes());
    key
}

pub fn revision_value(seq: Seq, key: Option<&Key>) -> Vec<u8> {
    let mut value = seq.0.to_be_bytes().to_vec();
    if let Some(key) = key {
        value.extend_from_slice(key.as_str().as_bytes());
    }
    value
}

/// A decoded `r` pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionRecord {
    pub id: ClaimId,
    pub revision: u32,
    pub seq: Seq,
    pub key: Option<Key>,
}

impl RevisionRecord {
    pub fn decode(key: &[u8], value: &[u8]) -> Option<RevisionRecord> {
        if key.len() != 21 || key[0] != REVISION || value.len() < 8 {
            return None;
        }
        let id = ClaimId::from_bytes(key[1..17].try_into().ok()?).ok()?;
        let revision = u32::from_be_bytes(key[17..21].try_into().ok()?);
        let seq = Seq(u64::from_be_bytes(value[..8].try_into().ok()?));
        let key = match &value[8..] {
            [] => None,
            bytes => Some(Key::parse(std::str::from_utf8(bytes).ok()?).ok()?),
        };
        Some(RevisionRecord {
            id,
            revision,
            seq,
            key,
        })
    }
}

pub fn key_key(key: &Key) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + key.as_str().len());
    bytes.push(KEY);
    bytes.extend_from_slice(key.as_str().as_bytes());
    bytes
}

/// The prefix of a labelled index (`s`, `a`, `t`) for one exact label.
pub fn label_prefix(kind: u8, label: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + label.len() + 16);
    key.push(kind);
    key.extend_from_slice(label.as_bytes());
    key.push(0);
    key
}

fn label_key(kind: u8, label: &str, id: ClaimId) -> Vec<u8> {
    let mut key = label_prefix(kind, label);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The claim id at the end of a labelled index key.
pub fn label_key_id(key: &[u8]) -> Option<ClaimId> {
    let tail: [u8; 16] = key.get(key.len().checked_sub(16)?..)?.try_into().ok()?;
    ClaimId::from_bytes(tail).ok()
}

/// The labelled-index keys a claim's current revision puts in the index.
pub fn current_keys(id: ClaimId, claim: &Claim) -> Vec<Vec<u8>> {
    let mut keys = vec![
        label_key(SUBJECT, claim.subject.as_str(), id),
        label_key(CLAIMANT, &claim.claimant, id),
    ];
    keys.extend(
        claim
            .tags
            .iter()
            .map(|tag| label_key(TAG, tag.as_str(), id)),
    );
    keys
}

/// Every pair an event adds to the index, and the labelled keys it removes, given the claim as
/// it was before the event (`None` for a record).
pub fn ops_for(event: &Event, seq: Seq, previous: Option<&Claim>) -> Vec<IndexOp> {
    let id = event.claim_id();
    let mut ops = Vec::with_capacity(5);
    let key = match event {
        Event::ClaimRecorded(e) => e.key.as_ref(),
        Event::ClaimRevised(_) => None,
    };
    ops.push(IndexOp::Put(
        revision_key(id, event.revision()),
        revision_value(seq, key),
    ));
    if let Some(key) = key {
        ops.push(IndexOp::Put(key_key(key), id.as_bytes().to_vec()));
    }
    let new_keys = current_keys(id, event.claim());
    let old_keys = previous
        .map(|claim| current_keys(id, claim))
        .unwrap_or_default();
    ops.extend(
        old_keys
            .iter()
            .filter(|k| !new_keys.contains(k))
            .map(|k| IndexOp::Delete(k.clone())),
    );
    ops.extend(
        new_keys
            .into_iter()
            .filter(|k| !old_keys.contains(k))
            .map(|k| IndexOp::Put(k, Vec::new())),
    );
    ops
}

/// An order-independent digest of a set of index pairs: the wrapping sum of a 128-bit hash of
/// each pair, so that pairs can be added and taken away in any order. `verify` compares the
/// digest of the stored index with the digest of the index the log implies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexDigest {
    pub sum: u128,
    pub count: u64,
}

impl IndexDigest {
    fn pair_hash(key: &[u8], value: &[u8]) -> u128 {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(key.len() as u64).to_le_bytes());
        hasher.update(key);
        hasher.update(value);
        let bytes: [u8; 16] = hasher.finalize().as_bytes()[..16]
            .try_into()
            .expect("16 of 32 bytes");
        u128::from_le_bytes(bytes)
    }

    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.sum = self.sum.wrapping_add(Self::pair_hash(key, value));
        self.count += 1;
    }

    pub fn remove(&mut self, key: &[u8], value: &[u8]) {
        self.sum = self.sum.wrapping_sub(Self::pair_hash(key, value));
        self.count -= 1;
    }
}
