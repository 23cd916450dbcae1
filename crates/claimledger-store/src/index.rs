//! The index: what it holds, how its keys and values are spelt byte by byte, and the facts it
//! states.
//!
//! Everything here is derived from the log; nothing in it is trusted by `verify`, which
//! recomputes it. The index is packed: a key-value store's cost is per key, not per byte, so
//! each value holds many small records (as the log holds 128 entries per value). Integers are
//! big-endian; `id` is a claim id's 16 bytes.
//!
//! | key | value | holds |
//! |---|---|---|
//! | `c` first-id | claim records, ids ascending, at most 128 | where each revision of each claim is |
//! | `k` bucket:u16 | key records | which claim each key names |
//! | `s` subject 0x00 block:u32 | id × n, n ≤ 256 | claims whose latest revision has this subject |
//! | `a` claimant 0x00 block:u32 | id × n, n ≤ 256 | likewise for the claimant |
//! | `t` tag 0x00 block:u32 | id × n, n ≤ 256 | likewise for each tag |
//!
//! **Claim blocks** (`c`, 17-byte keys). A claim record is the claim's id (16 bytes); its key's
//! length (u8; 0 when it has none) and the key's bytes; its number of revisions `r` (u32, at
//! least 1); then `r` sequence numbers (u64 each), the entries of revisions 1, 2, …, `r`. The
//! block's key is `c` and the id of its first claim. A block holds the claims whose ids lie
//! from its own first id up to (not including) the next block's first id, in ascending order;
//! to find a claim, take the block with the greatest first id not above the claim's id (a
//! reverse seek) and search it. Claim ids increase in log order (the ledger makes them so and
//! `verify` checks it), so a new claim always joins the last block, and a new block is started
//! when that one holds [`CLAIMS_PER_BLOCK`]. A revision rewrites its claim's block. A new claim
//! whose id is not greater than every indexed one is refused as corruption (`index_batch`).
//!
//! **Key buckets** (`k`, 3-byte keys). A key's bucket is the first two bytes of BLAKE3 of the
//! key's bytes, read as a u16 ([`key_bucket`]): 65,536 buckets. A key record is the key's
//! length (u8) and bytes, then the id of the claim it names (16 bytes), in the order the keys
//! were recorded. To resolve a key, read its bucket and scan it.
//!
//! **Posting lists** (`s`, `a`, `t`). One list per label: the key is the kind byte, the label's
//! bytes, 0x00 and the block number (u32, from 0); the value is up to
//! [`IDS_PER_POSTING_BLOCK`] claim ids of 16 bytes, concatenated. A claim is in the list of each
//! label of its latest revision, once. A new member joins the label's last block (a reverse
//! seek finds it), or a new block numbered one higher when that one is full. A revision that
//! drops a label removes the claim from the block that holds it, and a block left empty is
//! deleted, so numbers may have gaps; order within a list means nothing. Subjects, claimants
//! and tags cannot contain 0x00 (control characters are refused), so the separator is
//! unambiguous, and `s` subject `/` is the prefix of every subject below a subject.
//!
//! `verify` compares the index with the log by *logical facts* ([`Fact`]), not bytes: where
//! revision `n` of a claim is, which key a claim has, which claim a key names, and which
//! claims carry a label. How records happen to be packed is not a fact.

use crate::storage::{Storage, StoreError};
use claimledger_core::{Claim, ClaimId, Key, Seq};
use std::borrow::Cow;
use std::ops::ControlFlow;

pub const CLAIM: u8 = b'c';
pub const KEY: u8 = b'k';
pub const SUBJECT: u8 = b's';
pub const CLAIMANT: u8 = b'a';
pub const TAG: u8 = b't';

/// The most claims one claim block holds.
pub const CLAIMS_PER_BLOCK: usize = 128;

/// The most claim ids one posting block holds.
pub const IDS_PER_POSTING_BLOCK: usize = 256;

/// How many key buckets there are: every u16.
pub const KEY_BUCKETS: usize = 1 << 16;

const ID_LEN: usize = 16;

fn id_at(bytes: &[u8]) -> Result<ClaimId, String> {
    let bytes: [u8; ID_LEN] = bytes
        .try_into()
        .map_err(|_| format!("a claim id is {} bytes, not 16", bytes.len()))?;
    ClaimId::from_bytes(bytes)
}

/// Splits `n` bytes off the front of `rest`, or says what was cut short.
fn take<'a>(rest: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], String> {
    if rest.len() < n {
        return Err(format!("it ends inside {what}"));
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

// ---------------------------------------------------------------------------------------------
// Claim blocks

/// The key of the claim block whose first claim is `first`.
pub fn claim_block_key(first: ClaimId) -> [u8; 17] {
    let mut key = [CLAIM; 17];
    key[1..].copy_from_slice(first.as_bytes());
    key
}

/// The first claim id a claim block key names.
pub fn claim_block_first(key: &[u8]) -> Result<ClaimId, String> {
    match key {
        [CLAIM, id @ ..] if id.len() == ID_LEN => id_at(id),
        _ => Err("a claim block key is `c` and 16 bytes".into()),
    }
}

/// One claim's record in a claim block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimSlot {
    pub id: ClaimId,
    pub key: Option<Key>,
    /// The entry of each revision: `seqs[0]` is revision 1.
    pub seqs: Vec<Seq>,
}

impl ClaimSlot {
    /// Records that revision `revision` is entry `seq`. Setting a revision already recorded
    /// overwrites it (so replaying entries changes nothing); one past the last appends; a gap
    /// is an error.
    pub fn set_revision(&mut self, revision: u32, seq: Seq) -> Result<(), String> {
        let index = revision as usize;
        if index == 0 || index > self.seqs.len() + 1 {
            return Err(format!(
                "the index holds {} revisions of claim {}, so it cannot place revision {revision}",
                self.seqs.len(),
                self.id
            ));
        }
        if index == self.seqs.len() + 1 {
            self.seqs.push(seq);
        } else {
            self.seqs[index - 1] = seq;
        }
        Ok(())
    }

    /// Every fact this record states.
    pub fn facts(&self, visit: &mut dyn FnMut(Fact<'_>)) {
        for (i, &seq) in self.seqs.iter().enumerate() {
            visit(Fact::Revision {
                id: self.id,
                revision: i as u32 + 1,
                seq,
            });
        }
        if let Some(key) = &self.key {
            visit(Fact::ClaimKey {
                id: self.id,
                key: Cow::Borrowed(key.as_str()),
            });
        }
    }

    fn encoded_len(&self) -> usize {
        ID_LEN + 1 + self.key.as_ref().map_or(0, |k| k.as_str().len()) + 4 + 8 * self.seqs.len()
    }
}

pub fn encode_claim_block(claims: &[ClaimSlot]) -> Vec<u8> {
    let mut value = Vec::with_capacity(claims.iter().map(ClaimSlot::encoded_len).sum());
    for claim in claims {
        value.extend_from_slice(claim.id.as_bytes());
        let key = claim.key.as_ref().map_or("", |k| k.as_str());
        value.push(u8::try_from(key.len()).expect("keys are at most 128 bytes"));
        value.extend_from_slice(key.as_bytes());
        let count = u32::try_from(claim.seqs.len()).expect("revisions fit in a u32");
        value.extend_from_slice(&count.to_be_bytes());
        for seq in &claim.seqs {
            value.extend_from_slice(&seq.0.to_be_bytes());
        }
    }
    value
}

/// Splits one claim record off the front of `rest`, without decoding its key: its id and its
/// bytes.
fn split_record<'a>(rest: &mut &'a [u8]) -> Result<(&'a [u8], &'a [u8]), String> {
    let record = *rest;
    let id = take(rest, ID_LEN, "a claim id")?;
    let key_len = take(rest, 1, "a key length")?[0] as usize;
    take(rest, key_len, "a key")?;
    let count = take(rest, 4, "a revision count")?;
    let count = u32::from_be_bytes(count.try_into().expect("4 bytes")) as usize;
    if count > rest.len() / 8 {
        return Err(format!(
            "it ends inside the revisions of claim {}",
            id_at(id).map_or_else(|e| e, |id| id.to_string())
        ));
    }
    take(rest, 8 * count, "the revisions")?;
    Ok((id, &record[..record.len() - rest.len()]))
}

/// Decodes one claim record, whole.
fn decode_record(record: &[u8]) -> Result<ClaimSlot, String> {
    let mut rest = record;
    let id = id_at(take(&mut rest, ID_LEN, "a claim id")?)?;
    let key_len = take(&mut rest, 1, "a key length")?[0] as usize;
    let key = match key_len {
        0 => None,
        n => {
            let bytes = take(&mut rest, n, "a key")?;
            let text = std::str::from_utf8(bytes).map_err(|_| "a key is not UTF-8")?;
            Some(Key::parse(text).map_err(|e| format!("key {text:?} {e}"))?)
        }
    };
    let count = take(&mut rest, 4, "a revision count")?;
    if count == [0; 4] {
        return Err(format!("claim {id} has no revisions"));
    }
    let seqs = rest
        .chunks_exact(8)
        .map(|b| Seq(u64::from_be_bytes(b.try_into().expect("8 bytes"))))
        .collect();
    Ok(ClaimSlot { id, key, seqs })
}

/// Decodes a claim block, checking that it is well formed: records that parse, ids ascending
/// from the id its key names, at most [`CLAIMS_PER_BLOCK`] records.
pub fn decode_claim_block(key: &[u8], value: &[u8]) -> Result<Vec<ClaimSlot>, String> {
    let first = claim_block_first(key)?;
    let mut claims: Vec<ClaimSlot> = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if claims.len() == CLAIMS_PER_BLOCK {
            return Err(format!("it holds more than {CLAIMS_PER_BLOCK} claims"));
        }
        let (_, record) = split_record(&mut rest)?;
        let claim = decode_record(record)?;
        match claims.last() {
            None if claim.id != first => {
                return Err(format!(
                    "its first claim is {}, not the {first} its key names",
                    claim.id
                ))
            }
            Some(last) if claim.id <= last.id => {
                return Err(format!(
                    "claim {} comes after {}: ids must ascend",
                    claim.id, last.id
                ))
            }
            _ => {}
        }
        claims.push(claim);
    }
    if claims.is_empty() {
        return Err("it is empty".into());
    }
    Ok(claims)
}

/// The record of claim `id` in a claim block, decoding that record only: a point lookup's
/// share of a block. (`verify` decodes and checks blocks whole.)
pub fn find_in_block(value: &[u8], id: ClaimId) -> Result<Option<ClaimSlot>, String> {
    let mut rest = value;
    while !rest.is_empty() {
        let (record_id, record) = split_record(&mut rest)?;
        match record_id.cmp(id.as_bytes().as_slice()) {
            std::cmp::Ordering::Less => continue,
            std::cmp::Ordering::Equal => return decode_record(record).map(Some),
            std::cmp::Ordering::Greater => return Ok(None),
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// Key buckets

/// The bucket of a key: the first two bytes of BLAKE3 of its bytes, big-endian.
pub fn key_bucket(key: &str) -> u16 {
    let hash = blake3::hash(key.as_bytes());
    u16::from_be_bytes([hash.as_bytes()[0], hash.as_bytes()[1]])
}

pub fn bucket_key(bucket: u16) -> [u8; 3] {
    let [high, low] = bucket.to_be_bytes();
    [KEY, high, low]
}

pub fn bucket_of_key(key: &[u8]) -> Result<u16, String> {
    match key {
        [KEY, high, low] => Ok(u16::from_be_bytes([*high, *low])),
        _ => Err("a key bucket key is `k` and a u16".into()),
    }
}

pub fn encode_bucket(records: &[(Key, ClaimId)]) -> Vec<u8> {
    let mut value = Vec::with_capacity(records.iter().map(|(k, _)| 17 + k.as_str().len()).sum());
    for (key, id) in records {
        value.push(u8::try_from(key.as_str().len()).expect("keys are at most 128 bytes"));
        value.extend_from_slice(key.as_str().as_bytes());
        value.extend_from_slice(id.as_bytes());
    }
    value
}

/// Decodes a key bucket, checking that each key belongs in it and appears once.
pub fn decode_bucket(key: &[u8], value: &[u8]) -> Result<Vec<(Key, ClaimId)>, String> {
    let bucket = bucket_of_key(key)?;
    let mut records: Vec<(Key, ClaimId)> = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let len = take(&mut rest, 1, "a key length")?[0] as usize;
        let bytes = take(&mut rest, len, "a key")?;
        let text = std::str::from_utf8(bytes).map_err(|_| "a key is not UTF-8")?;
        let key = Key::parse(text).map_err(|e| format!("key {text:?} {e}"))?;
        let id = id_at(take(&mut rest, ID_LEN, "a claim id")?)?;
        if key_bucket(key.as_str()) != bucket {
            return Err(format!(
                "key {key} belongs in bucket {}",
                key_bucket(key.as_str())
            ));
        }
        if records.iter().any(|(k, _)| k == &key) {
            return Err(format!("key {key} is in it twice"));
        }
        records.push((key, id));
    }
    Ok(records)
}

// ---------------------------------------------------------------------------------------------
// Posting lists

/// The prefix of one label's posting list: the kind, the label, 0x00.
pub fn label_prefix(kind: u8, label: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(label.len() + 6);
    key.push(kind);
    key.extend_from_slice(label.as_bytes());
    key.push(0);
    key
}

pub fn posting_key(kind: u8, label: &str, block: u32) -> Vec<u8> {
    let mut key = label_prefix(kind, label);
    key.extend_from_slice(&block.to_be_bytes());
    key
}

/// The kind, label and block number a posting key names.
pub fn parse_posting_key(key: &[u8]) -> Result<(u8, &str, u32), String> {
    let malformed = || "a posting key is a kind, a label, 0x00 and a u32".to_string();
    let (&kind, rest) = key.split_first().ok_or_else(malformed)?;
    if !matches!(kind, SUBJECT | CLAIMANT | TAG) || rest.len() < 6 {
        return Err(malformed());
    }
    let (label, tail) = rest.split_at(rest.len() - 5);
    if tail[0] != 0 || label.contains(&0) {
        return Err(malformed());
    }
    let label = std::str::from_utf8(label).map_err(|_| "a label is not UTF-8".to_string())?;
    let block = u32::from_be_bytes(tail[1..].try_into().expect("4 bytes"));
    Ok((kind, label, block))
}

pub fn encode_posting(ids: &[ClaimId]) -> Vec<u8> {
    let mut value = Vec::with_capacity(ids.len() * ID_LEN);
    for id in ids {
        value.extend_from_slice(id.as_bytes());
    }
    value
}

pub fn decode_posting(value: &[u8]) -> Result<Vec<ClaimId>, String> {
    if !value.len().is_multiple_of(ID_LEN) {
        return Err(format!("its {} bytes are not whole claim ids", value.len()));
    }
    if value.len() / ID_LEN > IDS_PER_POSTING_BLOCK {
        return Err(format!(
            "it holds more than {IDS_PER_POSTING_BLOCK} claim ids"
        ));
    }
    value.chunks_exact(ID_LEN).map(id_at).collect()
}

/// The name of a label kind, for messages.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        SUBJECT => "subject",
        CLAIMANT => "claimant",
        TAG => "tag",
        _ => "label",
    }
}

/// The labels a claim is listed under: its subject, its claimant and each tag.
pub fn labels(claim: &Claim) -> impl Iterator<Item = (u8, &str)> {
    labels_of(
        claim.subject.as_str(),
        &claim.claimant,
        claim.tags.iter().map(|tag| tag.as_str()),
    )
}

/// [`labels`] of a claim given by its subject, claimant and tags.
pub fn labels_of<'a>(
    subject: &'a str,
    claimant: &'a str,
    tags: impl Iterator<Item = &'a str>,
) -> impl Iterator<Item = (u8, &'a str)> {
    [(SUBJECT, subject), (CLAIMANT, claimant)]
        .into_iter()
        .chain(tags.map(|tag| (TAG, tag)))
}

// ---------------------------------------------------------------------------------------------
// Reading records back

/// A decoded revision: where revision `revision` of claim `id` is. `key` is the claim's key,
/// given on revision 1 only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionRecord {
    pub id: ClaimId,
    pub revision: u32,
    pub seq: Seq,
    pub key: Option<Key>,
}

impl RevisionRecord {
    /// The revisions a claim record lists, first to last.
    pub fn of_slot(slot: &ClaimSlot) -> Vec<RevisionRecord> {
        slot.seqs
            .iter()
            .enumerate()
            .map(|(i, &seq)| RevisionRecord {
                id: slot.id,
                revision: i as u32 + 1,
                seq,
                key: if i == 0 { slot.key.clone() } else { None },
            })
            .collect()
    }
}

fn corrupt_block(key: &[u8], why: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(
        None,
        format!("{} does not decode: {why}", describe_key(key)),
    )
}

/// A claim's record: a reverse seek to its block and a walk through it.
pub fn find_claim<S: Storage + ?Sized>(
    storage: &S,
    id: ClaimId,
) -> Result<Option<ClaimSlot>, StoreError> {
    let mut found = None;
    storage.index_scan_from(&[CLAIM], &claim_block_key(id), true, &mut |key, value| {
        found = Some(find_in_block(value, id).map_err(|why| corrupt_block(key, why)));
        ControlFlow::Break(())
    })?;
    found.transpose().map(Option::flatten)
}

/// The claim a key names: its bucket, scanned.
pub fn find_key<S: Storage + ?Sized>(
    storage: &S,
    key: &Key,
) -> Result<Option<ClaimId>, StoreError> {
    let bucket_key = bucket_key(key_bucket(key.as_str()));
    let Some(value) = storage.index_get(&bucket_key)? else {
        return Ok(None);
    };
    let records =
        decode_bucket(&bucket_key, &value).map_err(|why| corrupt_block(&bucket_key, why))?;
    Ok(records
        .into_iter()
        .find_map(|(k, id)| (&k == key).then_some(id)))
}

/// The last claim of the last claim block: the greatest claim id in the index.
pub fn last_claim_id<S: Storage + ?Sized>(storage: &S) -> Result<Option<ClaimId>, StoreError> {
    let mut last = None;
    let mut failure = None;
    storage.index_scan(&[CLAIM], true, &mut |key, value| {
        match decode_claim_block(key, value) {
            Ok(claims) => last = claims.last().map(|c| c.id),
            Err(why) => failure = Some(corrupt_block(key, why)),
        }
        ControlFlow::Break(())
    })?;
    match failure {
        Some(error) => Err(error),
        None => Ok(last),
    }
}

/// Calls `visit` with every claim record, in id order.
pub fn scan_claims<S: Storage + ?Sized>(
    storage: &S,
    visit: &mut dyn FnMut(&ClaimSlot),
) -> Result<(), StoreError> {
    scan_claims_from(storage, None, &mut |slot| {
        visit(slot);
        ControlFlow::Continue(())
    })
}

/// Calls `visit` with the claim records from the block that covers `from` on (every record with
/// `None`), in id order, until it breaks. Records below `from` in that first block are visited
/// too.
pub fn scan_claims_from<S: Storage + ?Sized>(
    storage: &S,
    from: Option<ClaimId>,
    visit: &mut dyn FnMut(&ClaimSlot) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let mut start = vec![CLAIM];
    if let Some(from) = from {
        storage.index_scan_from(&[CLAIM], &claim_block_key(from), true, &mut |key, _| {
            start = key.to_vec();
            ControlFlow::Break(())
        })?;
    }
    let mut failure = None;
    storage.index_scan_from(
        &[CLAIM],
        &start,
        false,
        &mut |key, value| match decode_claim_block(key, value) {
            Ok(claims) => claims.iter().try_for_each(&mut *visit),
            Err(why) => {
                failure = Some(corrupt_block(key, why));
                ControlFlow::Break(())
            }
        },
    )?;
    failure.map_or(Ok(()), Err)
}

/// The ids in posting blocks under `prefix` (one label's list, or with a partial label, all
/// the lists of the labels that start so).
pub fn posting_ids<S: Storage + ?Sized>(
    storage: &S,
    prefix: &[u8],
    visit: &mut dyn FnMut(ClaimId),
) -> Result<(), StoreError> {
    let mut failure = None;
    storage.index_scan(
        prefix,
        false,
        &mut |key, value| match parse_posting_key(key).and_then(|_| decode_posting(value)) {
            Ok(ids) => {
                ids.into_iter().for_each(&mut *visit);
                ControlFlow::Continue(())
            }
            Err(why) => {
                failure = Some(corrupt_block(key, why));
                ControlFlow::Break(())
            }
        },
    )?;
    failure.map_or(Ok(()), Err)
}

// ---------------------------------------------------------------------------------------------
// Facts

/// One thing the index states, whatever block it sits in. The index is right when the facts
/// it holds are exactly the facts the log implies, each once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact<'a> {
    /// Revision `revision` of claim `id` is entry `seq`.
    Revision {
        id: ClaimId,
        revision: u32,
        seq: Seq,
    },
    /// Claim `id` has key `key` (its claim record says so).
    ClaimKey { id: ClaimId, key: Cow<'a, str> },
    /// Key `key` names claim `id` (its key bucket says so).
    KeyClaim { key: Cow<'a, str>, id: ClaimId },
    /// Claim `id`'s latest revision has this subject, claimant or tag.
    Label {
        kind: u8,
        label: Cow<'a, str>,
        id: ClaimId,
    },
}

impl Fact<'_> {
    pub fn into_owned(self) -> Fact<'static> {
        match self {
            Fact::Revision { id, revision, seq } => Fact::Revision { id, revision, seq },
            Fact::ClaimKey { id, key } => Fact::ClaimKey {
                id,
                key: Cow::Owned(key.into_owned()),
            },
            Fact::KeyClaim { key, id } => Fact::KeyClaim {
                key: Cow::Owned(key.into_owned()),
                id,
            },
            Fact::Label { kind, label, id } => Fact::Label {
                kind,
                label: Cow::Owned(label.into_owned()),
                id,
            },
        }
    }

    /// A 128-bit hash of the fact under `key`: a tag, the fixed-size fields, then the one text
    /// field.
    pub fn hash128(&self, key: &FactKey) -> u128 {
        match self {
            Fact::Revision { id, revision, seq } => key.hash(&[
                &[1],
                id.as_bytes(),
                &revision.to_be_bytes(),
                &seq.0.to_be_bytes(),
            ]),
            Fact::ClaimKey { id, key: text } => key.hash(&[&[2], id.as_bytes(), text.as_bytes()]),
            Fact::KeyClaim { key: text, id } => key.hash(&[&[3], id.as_bytes(), text.as_bytes()]),
            Fact::Label { kind, label, id } => {
                key.hash(&[&[4, *kind], id.as_bytes(), label.as_bytes()])
            }
        }
    }
}

/// The key of the 128-bit hashes with which `verify` digests facts (and compares claims), chosen
/// at random for each run: SipHash-1-3 under a key no one knows is a pseudorandom function, so
/// that no one can pick facts whose hashes cancel out in a digest's sum, and each hash costs a
/// fraction of a BLAKE3 one on inputs this short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FactKey {
    k0: u64,
    k1: u64,
}

impl FactKey {
    /// A key from the operating system's random source.
    pub fn random() -> FactKey {
        // uuid's v4 generator is the operating system's random source: 122 random bits each.
        let half = || {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
                ^ u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes")).rotate_left(32)
        };
        FactKey {
            k0: half(),
            k1: half(),
        }
    }

    /// The key's 16 bytes, to keep a digest's key with the digest (a monitor's saved state).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.k0.to_le_bytes());
        bytes[8..].copy_from_slice(&self.k1.to_le_bytes());
        bytes
    }

    /// The key [`FactKey::to_bytes`] gave.
    pub fn from_bytes(bytes: [u8; 16]) -> FactKey {
        let (k0, k1) = bytes.split_at(8);
        FactKey {
            k0: u64::from_le_bytes(k0.try_into().expect("8 bytes")),
            k1: u64::from_le_bytes(k1.try_into().expect("8 bytes")),
        }
    }

    /// The hash of the concatenated `parts`.
    pub fn hash(&self, parts: &[&[u8]]) -> u128 {
        self.hash_of(parts.iter().copied())
    }

    /// The hash of the concatenated `parts`, however many.
    pub fn hash_of<'a>(&self, parts: impl IntoIterator<Item = &'a [u8]>) -> u128 {
        use siphasher::sip128::Hasher128;
        use std::hash::Hasher;
        let mut hasher = siphasher::sip128::SipHasher13::new_with_keys(self.k0, self.k1);
        for part in parts {
            hasher.write(part);
        }
        hasher.finish128().as_u128()
    }
}

impl std::fmt::Display for Fact<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fact::Revision { id, revision, seq } => {
                write!(
                    f,
                    "the location of revision {revision} of claim {id} (entry {seq})"
                )
            }
            Fact::ClaimKey { id, key } => write!(f, "the key {key:?} of claim {id}"),
            Fact::KeyClaim { key, id } => write!(f, "the claim {id} of key {key:?}"),
            Fact::Label { kind, label, id } => {
                write!(f, "the {} {label:?} of claim {id}", kind_name(*kind))
            }
        }
    }
}

/// An order-independent digest of a multiset of facts: the wrapping sum of their 128-bit
/// hashes, and their count, so that facts can be added and taken away in any order. `verify`
/// compares the digest of the stored index's facts with the digest of the facts the log
/// implies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexDigest {
    pub sum: u128,
    pub count: u64,
}

impl IndexDigest {
    pub fn add(&mut self, key: &FactKey, fact: &Fact<'_>) {
        self.sum = self.sum.wrapping_add(fact.hash128(key));
        self.count += 1;
    }

    pub fn add_digest(&mut self, other: IndexDigest) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.count += other.count;
    }

    pub fn remove_digest(&mut self, other: IndexDigest) {
        self.sum = self.sum.wrapping_sub(other.sum);
        self.count -= other.count;
    }
}

/// Decodes every block of the index into facts, in key order. A block that does not decode
/// ends the scan: its description is returned as `Ok(Some(..))`.
pub fn scan_facts<S: Storage + ?Sized>(
    storage: &S,
    visit: &mut dyn FnMut(Fact<'_>),
) -> Result<Option<String>, StoreError> {
    let mut problem = None;
    storage.index_scan(&[], false, &mut |key, value| {
        let decoded: Result<(), String> = match key.first() {
            Some(&CLAIM) => decode_claim_block(key, value).map(|claims| {
                claims.iter().for_each(|claim| claim.facts(&mut *visit));
            }),
            Some(&KEY) => decode_bucket(key, value).map(|records| {
                for (k, id) in &records {
                    visit(Fact::KeyClaim {
                        key: Cow::Borrowed(k.as_str()),
                        id: *id,
                    });
                }
            }),
            Some(&(SUBJECT | CLAIMANT | TAG)) => {
                parse_posting_key(key).and_then(|(kind, label, _)| {
                    let ids = decode_posting(value)?;
                    for id in ids {
                        visit(Fact::Label {
                            kind,
                            label: Cow::Borrowed(label),
                            id,
                        });
                    }
                    Ok(())
                })
            }
            _ => Err("the index has no such kind of key".into()),
        };
        match decoded {
            Ok(()) => ControlFlow::Continue(()),
            Err(why) => {
                problem = Some(format!("{} does not decode: {why}", describe_key(key)));
                ControlFlow::Break(())
            }
        }
    })?;
    Ok(problem)
}

/// A readable name for an index key, for messages.
pub fn describe_key(key: &[u8]) -> String {
    let hex = || key.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match key.first() {
        Some(&CLAIM) => match claim_block_first(key) {
            Ok(id) => format!("the claim block starting at claim {id}"),
            Err(_) => format!("the claim block key {}", hex()),
        },
        Some(&KEY) => match bucket_of_key(key) {
            Ok(bucket) => format!("key bucket {bucket}"),
            Err(_) => format!("the key bucket key {}", hex()),
        },
        Some(&(SUBJECT | CLAIMANT | TAG)) => match parse_posting_key(key) {
            Ok((kind, label, block)) => {
                format!(
                    "block {block} of the claims of {} {label:?}",
                    kind_name(kind)
                )
            }
            Err(_) => format!("the posting key {}", hex()),
        },
        _ => format!("the index key {}", hex()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 7 id whose 74 random bits are `n`.
    pub(crate) fn id(n: u128) -> ClaimId {
        let value = (0x0198_a34d_2a00u128 << 80)
            | (0x7 << 76)
            | ((n >> 62) << 64)
            | (0b10 << 62)
            | (n & ((1 << 62) - 1));
        ClaimId::from_bytes(value.to_be_bytes()).expect("a version 7 id")
    }

    fn key(text: &str) -> Key {
        Key::parse(text).expect("a key")
    }

    fn slot(n: u128, key: Option<&str>, revisions: u64) -> ClaimSlot {
        ClaimSlot {
            id: id(n),
            key: key.map(self::key),
            seqs: (1..=revisions)
                .map(|r| Seq((n % 1000) as u64 * 10 + r))
                .collect(),
        }
    }

    #[test]
    fn claim_blocks_round_trip() {
        let long_key = "k".repeat(claimledger_core::limits::KEY_LEN_MAX);
        let full: Vec<ClaimSlot> = (0..CLAIMS_PER_BLOCK as u128)
            .map(|n| {
                let key = format!("c{n}");
                slot(
                    n * 7 + 1,
                    (n % 2 == 0).then_some(key.as_str()),
                    1 + n as u64 % 5,
                )
            })
            .collect();
        for claims in [
            vec![slot(1, None, 1)],
            vec![
                slot(1, Some(&long_key), 3),
                slot(u128::from(u64::MAX) << 10, None, 1),
            ],
            full,
        ] {
            let value = encode_claim_block(&claims);
            let key = claim_block_key(claims[0].id);
            assert_eq!(decode_claim_block(&key, &value), Ok(claims));
        }
    }

    #[test]
    fn claim_blocks_refuse_what_is_malformed() {
        let two = encode_claim_block(&[slot(1, Some("a"), 2), slot(2, None, 1)]);
        let too_many: Vec<ClaimSlot> = (0..=CLAIMS_PER_BLOCK as u128)
            .map(|n| slot(n, None, 1))
            .collect();
        let mut not_v7 = encode_claim_block(&[slot(1, None, 1)]);
        not_v7[6] = 0x40;
        let mut no_revisions = encode_claim_block(&[slot(1, None, 1)]);
        no_revisions.truncate(no_revisions.len() - 12);
        no_revisions.extend_from_slice(&0u32.to_be_bytes());
        let mut bad_key = encode_claim_block(&[slot(1, Some("a"), 1)]);
        bad_key[17] = b'A';
        let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
            (claim_block_key(id(1)).to_vec(), Vec::new(), "it is empty"),
            (claim_block_key(id(2)).to_vec(), two.clone(), "not the"),
            (
                claim_block_key(id(2)).to_vec(),
                encode_claim_block(&[slot(2, None, 1), slot(1, None, 1)]),
                "ids must ascend",
            ),
            (
                claim_block_key(id(1)).to_vec(),
                encode_claim_block(&[slot(1, None, 1), slot(1, None, 1)]),
                "ids must ascend",
            ),
            (
                claim_block_key(id(1)).to_vec(),
                two[..two.len() - 1].to_vec(),
                "ends inside",
            ),
            (
                claim_block_key(id(1)).to_vec(),
                two[..20].to_vec(),
                "ends inside",
            ),
            (
                claim_block_key(id(0)).to_vec(),
                encode_claim_block(&too_many),
                "more than 128",
            ),
            (claim_block_key(id(1)).to_vec(), not_v7, "version 7"),
            (
                claim_block_key(id(1)).to_vec(),
                no_revisions,
                "no revisions",
            ),
            (claim_block_key(id(1)).to_vec(), bad_key, "key \"A\""),
            (vec![CLAIM, 1, 2], two, "16 bytes"),
        ];
        for (key, value, expected) in cases {
            let error = decode_claim_block(&key, &value).expect_err(expected);
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        }
    }

    #[test]
    fn claim_records_set_revisions() {
        let mut claim = slot(1, None, 1);
        claim.set_revision(2, Seq(20)).expect("the next revision");
        claim
            .set_revision(2, Seq(20))
            .expect("the same revision again");
        claim
            .set_revision(1, Seq(10))
            .expect("an earlier revision again");
        assert_eq!(claim.seqs, [Seq(10), Seq(20)]);
        assert!(claim.set_revision(4, Seq(40)).is_err());
        assert!(claim.set_revision(0, Seq(40)).is_err());
    }

    #[test]
    fn posting_blocks_round_trip() {
        for count in [0, 1, 2, IDS_PER_POSTING_BLOCK] {
            let ids: Vec<ClaimId> = (0..count as u128).map(|n| id(n * 3)).collect();
            assert_eq!(decode_posting(&encode_posting(&ids)), Ok(ids));
        }
        let over: Vec<ClaimId> = (0..=IDS_PER_POSTING_BLOCK as u128).map(id).collect();
        assert!(decode_posting(&encode_posting(&over))
            .expect_err("too many")
            .contains("more than 256"));
        assert!(decode_posting(&[0; 17]).is_err());
        assert!(decode_posting(&[0; 16]).is_err());
    }

    #[test]
    fn posting_keys_round_trip() {
        for (kind, label, block) in [
            (SUBJECT, "russia/military-deaths", 0),
            (CLAIMANT, "Mediazona & BBC Russian Service", 7),
            (CLAIMANT, "Минобороны", u32::MAX),
            (TAG, "t", 256),
        ] {
            let key = posting_key(kind, label, block);
            assert!(key.starts_with(&label_prefix(kind, label)));
            assert_eq!(parse_posting_key(&key), Ok((kind, label, block)));
        }
        for bad in [
            &b"s"[..],
            b"sa\x00\x00\x00\x00",
            b"xab\x00\x00\x00\x00\x01",
            b"sa\x00b\x00\x00\x00\x00\x01",
            b"sab\x01\x00\x00\x00\x01",
        ] {
            assert!(parse_posting_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_buckets_are_stable() {
        // Computed once: a bucket function that changed would strand every stored key.
        for (key, bucket) in [("mz", 64920), ("c0", 55764), ("a", 6006), ("peskov", 44207)] {
            assert_eq!(key_bucket(key), bucket, "{key}");
        }
        assert_eq!(KEY_BUCKETS, usize::from(u16::MAX) + 1);
        for bucket in [0, 1, 0x1234, u16::MAX] {
            assert_eq!(bucket_of_key(&bucket_key(bucket)), Ok(bucket));
        }
    }

    #[test]
    fn key_buckets_round_trip() {
        let keys = ["mz", "c0", "a", "peskov", "k".repeat(128).leak()];
        for text in keys {
            let bucket = key_bucket(text);
            let records = vec![(key(text), id(1))];
            let value = encode_bucket(&records);
            assert_eq!(
                decode_bucket(&bucket_key(bucket), &value),
                Ok(records.clone())
            );
            let elsewhere = bucket_key(bucket.wrapping_add(1));
            assert!(decode_bucket(&elsewhere, &value)
                .expect_err("misplaced")
                .contains("belongs in bucket"));
            let twice = encode_bucket(&[records[0].clone(), (key(text), id(2))]);
            assert!(decode_bucket(&bucket_key(bucket), &twice)
                .expect_err("twice")
                .contains("twice"));
        }
        // Many keys share a bucket once there are more keys than buckets.
        let bucket = key_bucket("c0");
        let shared: Vec<(Key, ClaimId)> = (0..400_000u32)
            .map(|n| format!("c{n}"))
            .filter(|k| key_bucket(k) == bucket)
            .enumerate()
            .map(|(n, k)| (key(&k), id(n as u128)))
            .collect();
        assert!(shared.len() > 1);
        let value = encode_bucket(&shared);
        assert_eq!(decode_bucket(&bucket_key(bucket), &value), Ok(shared));
    }

    #[test]
    fn facts_describe_themselves() {
        let cases = [
            (
                Fact::Revision {
                    id: id(1),
                    revision: 2,
                    seq: Seq(9),
                },
                "the location of revision 2 of claim",
            ),
            (
                Fact::Label {
                    kind: TAG,
                    label: "t".into(),
                    id: id(1),
                },
                "the tag \"t\" of claim",
            ),
            (
                Fact::KeyClaim {
                    key: "mz".into(),
                    id: id(1),
                },
                "of key \"mz\"",
            ),
        ];
        for (fact, words) in cases {
            assert!(fact.to_string().contains(words), "{fact}");
        }
        let revision = |seq| Fact::Revision {
            id: id(1),
            revision: 1,
            seq: Seq(seq),
        };
        let key = FactKey::random();
        assert_ne!(revision(1).hash128(&key), revision(2).hash128(&key));
        assert_ne!(
            revision(1).hash128(&key),
            revision(1).hash128(&FactKey::random())
        );
        let mut a = IndexDigest::default();
        let mut b = IndexDigest::default();
        a.add(&key, &revision(1));
        a.add(&key, &revision(2));
        b.add(&key, &revision(2));
        b.add(&key, &revision(1));
        assert_eq!(a, b);
    }
}
