//! How a batch of entries changes the packed index ([`crate::index`]): the ledger feeds the
//! batch's events in log order, then [`IndexBatch::finish`] reads each block the batch touches
//! once, merges the batch's changes into it in memory, and emits one write per touched block.
//!
//! # Applying a batch again changes nothing
//!
//! A large commit's index is applied after its entries, and a crash can interrupt that; the
//! ledger then applies the same entries again from the last mark, over an index that may
//! already hold some of the batch's writes ([`crate::SledStorage`] writes them one at a
//! time). Every block's new value is therefore computed so that starting from a block the
//! batch already wrote gives that same block again:
//!
//! - a claim record *sets* revision `n` to its entry rather than appending one, and a claim
//!   already present is not added again;
//! - a key already in its bucket is not added again;
//! - a posting list change is the batch's *net* change per claim (its labels before the batch
//!   against its labels after it), removals first: a removal finds the claim wherever it is
//!   and does nothing if it is gone, and an addition is skipped if the claim is already in the
//!   label's trailing blocks that hold any of the batch's additions (the blocks an earlier
//!   attempt filled).
//!
//! Claim ids increase in log order (the ledger makes them so, and `verify` requires it), so new
//! claims only ever join the last claim block or new blocks after it, and no stored record
//! moves. A block already written holds exactly what the batch puts in it, and a block not yet
//! written is computed from its state before the batch; whichever subset of the writes
//! survived, applying the batch again loses nothing and adds nothing twice, and when the writes
//! that survived are a prefix of the batch's (writes are emitted in key order, and a label's
//! blocks in block order) it yields the same bytes as one uninterrupted application. A new
//! claim whose id is not greater than every claim the index already holds is refused as
//! corruption: no ledger writes one.

use crate::hashing::{IdMap, TextMap};
use crate::index::{
    self, bucket_key, claim_block_first, claim_block_key, decode_bucket, decode_claim_block,
    decode_posting, encode_bucket, encode_claim_block, encode_posting, key_bucket, label_prefix,
    parse_posting_key, posting_key, ClaimSlot, CLAIM, CLAIMS_PER_BLOCK, IDS_PER_POSTING_BLOCK,
};
use crate::storage::{IndexOp, Storage, StoreError};
use claimledger_core::canonical::{ClaimView, EntryView, EventView};
use claimledger_core::{Claim, ClaimId, Event, Key, Seq, Tag};
use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;

/// Labels, and sets of labels, interned to small numbers: a batch sees few distinct labels
/// (and few distinct combinations) many times.
#[derive(Debug)]
struct Labels {
    by_kind: [TextMap<u32>; 3],
    names: Vec<(u8, Box<str>)>,
    set_ids: TextMap<u32, Box<[u32]>>,
    /// Set 0 is the empty set.
    sets: Vec<Box<[u32]>>,
    scratch: Vec<u32>,
}

impl Default for Labels {
    fn default() -> Labels {
        let mut set_ids = TextMap::default();
        set_ids.insert(Box::default(), 0);
        Labels {
            by_kind: Default::default(),
            names: Vec::new(),
            set_ids,
            sets: vec![Box::default()],
            scratch: Vec::new(),
        }
    }
}

impl Labels {
    fn id(&mut self, kind: u8, label: &str) -> u32 {
        let slot = match kind {
            index::SUBJECT => 0,
            index::CLAIMANT => 1,
            _ => 2,
        };
        if let Some(&id) = self.by_kind[slot].get(label) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 4 billion labels a batch");
        self.names.push((kind, label.into()));
        self.by_kind[slot].insert(label.into(), id);
        id
    }

    /// The number of the set of these labels.
    fn set_of<'a>(&mut self, labels: impl Iterator<Item = (u8, &'a str)>) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(labels.map(|(kind, label)| self.id(kind, label)));
        let id = match self.set_ids.get(scratch.as_slice()) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.sets.len()).expect("fewer than 4 billion sets");
                self.sets.push(scratch.as_slice().into());
                self.set_ids.insert(scratch.as_slice().into(), id);
                id
            }
        };
        self.scratch = scratch;
        id
    }

    fn set(&self, id: u32) -> &[u32] {
        &self.sets[id as usize]
    }
}

/// The tags of an event, from a decoded entry or from one read in place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tags<'a> {
    Decoded(&'a [Tag]),
    Stored(&'a ClaimView<'a>),
}

/// What the index needs of one event, borrowed from the entry (decoded, or read in place).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexEvent<'a> {
    pub seq: Seq,
    pub id: ClaimId,
    pub revision: u32,
    /// The key a record gives the claim.
    pub key: Option<&'a str>,
    pub subject: &'a str,
    pub claimant: &'a str,
    pub tags: Tags<'a>,
}

impl<'a> IndexEvent<'a> {
    pub fn of_event(event: &'a Event, seq: Seq) -> IndexEvent<'a> {
        let claim = event.claim();
        IndexEvent {
            seq,
            id: event.claim_id(),
            revision: event.revision(),
            key: match event {
                Event::ClaimRecorded(e) => e.key.as_ref().map(Key::as_str),
                Event::ClaimRevised(_) => None,
            },
            subject: claim.subject.as_str(),
            claimant: &claim.claimant,
            tags: Tags::Decoded(&claim.tags),
        }
    }

    /// The event of an entry read in place ([`EntryView`]).
    pub fn of_view(view: &'a EntryView<'a>) -> IndexEvent<'a> {
        IndexEvent {
            seq: view.seq,
            id: view.claim_id,
            revision: view.revision(),
            key: match view.event {
                EventView::Recorded { key } => key,
                EventView::Revised { .. } => None,
            },
            subject: view.claim.subject,
            claimant: &view.claim.claimant,
            tags: Tags::Stored(&view.claim),
        }
    }

    fn labels(&self) -> impl Iterator<Item = (u8, &'a str)> + 'a {
        let tags: Box<dyn Iterator<Item = &'a str>> = match self.tags {
            Tags::Decoded(tags) => Box::new(tags.iter().map(Tag::as_str)),
            Tags::Stored(claim) => Box::new(claim.tags()),
        };
        index::labels_of(self.subject, self.claimant, tags)
    }
}

/// No key, or no later revision.
const NONE: u32 = u32::MAX;

/// What the batch does to one claim (kept small: a batch may touch a million claims).
#[derive(Clone, Copy, Debug)]
struct Change {
    /// Where in the batch's keys the claim's is, when the batch records it with one.
    key: u32,
    /// The claim's first revision in the batch and its entry; its later ones are in
    /// [`IndexBatch::more`].
    first_revision: u32,
    first_seq: Seq,
    /// The set of the claim's labels before the batch (the empty set when the batch records
    /// it), and after the batch's last event for it.
    before: u32,
    after: u32,
}

/// The index changes of a run of consecutive entries.
///
/// Kept compact, since an import builds one for all its entries: the claims the batch records
/// come in increasing id order (ids increase in log order), so they are kept in a sorted
/// vector; the claims recorded before it and revised in it are in a map.
#[derive(Debug, Default)]
pub(crate) struct IndexBatch {
    labels: Labels,
    /// Claims the batch records, in log order, which is id order.
    recorded: Vec<(ClaimId, Change)>,
    /// Claims recorded before the batch and revised in it.
    revised: IdMap<Change>,
    /// The revisions after a claim's first in the batch, in log order: (claim, revision, entry).
    more: Vec<(ClaimId, u32, Seq)>,
    /// The keys the batch records: their text one after another, and each key's end in it
    /// with the claim it names, in log order.
    key_text: String,
    keys: Vec<(u32, ClaimId)>,
}

impl IndexBatch {
    pub fn new() -> IndexBatch {
        IndexBatch::default()
    }

    fn change_mut(&mut self, id: ClaimId) -> Option<&mut Change> {
        match self.recorded.last() {
            Some((last, _)) if *last >= id => {
                if let Ok(i) = self.recorded.binary_search_by_key(&id, |(id, _)| *id) {
                    return Some(&mut self.recorded[i].1);
                }
            }
            _ => {}
        }
        self.revised.get_mut(&id)
    }

    /// Whether an earlier event of the batch touched this claim.
    pub fn knows(&self, id: ClaimId) -> bool {
        self.recorded
            .binary_search_by_key(&id, |(id, _)| *id)
            .is_ok()
            || self.revised.contains_key(&id)
    }

    /// Adds the next event of the log. `previous` is the claim as of the revision before, and
    /// is needed only for a revision of a claim the batch does not know yet.
    pub fn add(
        &mut self,
        event: IndexEvent<'_>,
        previous: Option<&Claim>,
    ) -> Result<(), StoreError> {
        let after = self.labels.set_of(event.labels());
        let IndexEvent {
            seq,
            id,
            revision,
            key,
            ..
        } = event;
        let key = match key {
            None => NONE,
            Some(key) => {
                self.key_text.push_str(key);
                let end = u32::try_from(self.key_text.len()).expect("keys of a batch fit 4 GiB");
                self.keys.push((end, id));
                u32::try_from(self.keys.len() - 1).expect("fewer than 4 billion keys a batch")
            }
        };
        if let Some(change) = self.change_mut(id) {
            change.after = after;
            if key != NONE {
                change.key = key;
            }
            self.more.push((id, revision, seq));
            return Ok(());
        }
        let before = if revision == 1 {
            0
        } else {
            let previous = previous.ok_or_else(|| {
                StoreError::corrupt(
                    Some(seq),
                    format!("revision {revision} of claim {id} has no revision before it"),
                )
            })?;
            self.labels.set_of(index::labels(previous))
        };
        let change = Change {
            key,
            first_revision: revision,
            first_seq: seq,
            before,
            after,
        };
        match self.recorded.last() {
            Some((last, _)) if *last >= id => {
                self.revised.insert(id, change);
            }
            _ if revision == 1 => self.recorded.push((id, change)),
            _ => {
                self.revised.insert(id, change);
            }
        }
        Ok(())
    }

    /// The key number `i` of the batch.
    fn key(&self, i: u32) -> (&str, ClaimId) {
        let (end, id) = self.keys[i as usize];
        let start = match i.checked_sub(1) {
            Some(before) => self.keys[before as usize].0,
            None => 0,
        };
        (&self.key_text[start as usize..end as usize], id)
    }

    /// Every claim the batch touches with its change, in the order the batch first touches
    /// them: the order they join posting lists.
    fn in_log_order(&self) -> Vec<(ClaimId, Change)> {
        let mut revised: Vec<(ClaimId, Change)> = self
            .revised
            .iter()
            .map(|(id, change)| (*id, *change))
            .collect();
        revised.sort_unstable_by_key(|(_, change)| change.first_seq);
        let mut all = Vec::with_capacity(self.recorded.len() + revised.len());
        let (mut a, mut b) = (
            self.recorded.iter().peekable(),
            revised.into_iter().peekable(),
        );
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.1.first_seq < y.1.first_seq,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_a {
                all.push(*a.next().expect("peeked"));
            } else {
                all.push(b.next().expect("peeked"));
            }
        }
        all
    }

    /// Reads the blocks the batch touches from `storage` (the index as it was before the
    /// batch) and returns one write per block: the changes of a commit small enough to apply
    /// in one atomic write.
    pub fn finish<S: Storage + ?Sized>(self, storage: &S) -> Result<Vec<IndexOp>, StoreError> {
        let mut ops = Vec::new();
        self.claim_ops(storage, &mut ops)?;
        self.key_ops(storage, &mut ops)?;
        self.posting_ops(storage, &mut ops)?;
        Ok(ops)
    }

    /// Applies the batch, the changes of the entries up to `through`, with
    /// [`Storage::apply_index`]: the claim blocks, then the key buckets, then the posting
    /// lists, each kind read from `storage` (the index as it was before the batch, or with
    /// some of the batch's own writes in it) and written before the next is computed, so that
    /// memory holds the new blocks of one kind. The index mark moves with the last.
    pub fn apply<S: Storage + ?Sized>(
        self,
        storage: &mut S,
        through: u64,
    ) -> Result<(), StoreError> {
        let mark = storage.indexed_through()?;
        let mut ops = Vec::new();
        self.claim_ops(&*storage, &mut ops)?;
        storage.apply_index(&ops, mark)?;
        ops.clear();
        self.key_ops(&*storage, &mut ops)?;
        storage.apply_index(&ops, mark)?;
        ops.clear();
        self.posting_ops(&*storage, &mut ops)?;
        storage.apply_index(&ops, through)
    }

    fn claim_ops<S: Storage + ?Sized>(
        &self,
        storage: &S,
        ops: &mut Vec<IndexOp>,
    ) -> Result<(), StoreError> {
        let mut revised: Vec<(ClaimId, Change)> = self
            .revised
            .iter()
            .map(|(id, change)| (*id, *change))
            .collect();
        revised.sort_unstable_by_key(|(id, _)| *id);
        let mut more = self.more.clone();
        more.sort_by_key(|&(id, revision, _)| (id, revision));
        let mut more = more.as_slice();
        let mut blocks = ClaimBlocks::default();
        let mut recorded = self.recorded.iter().peekable();
        let mut revised = revised.iter().peekable();
        loop {
            let (id, change) = match (recorded.peek(), revised.peek()) {
                (Some(a), Some(b)) if a.0 < b.0 => *recorded.next().expect("peeked"),
                (Some(_), Some(_)) | (None, Some(_)) => *revised.next().expect("peeked"),
                (Some(_), None) => *recorded.next().expect("peeked"),
                (None, None) => break,
            };
            let later = more.partition_point(|&(other, _, _)| other <= id);
            let (mine, rest) = more.split_at(later);
            more = rest;
            let block = blocks.locate(storage, id)?;
            let last_block = block.upper.is_none();
            let claims = &mut block.claims;
            let at = match claims.last() {
                Some(last) if last.id < id => Err(claims.len()),
                None => Err(0),
                Some(_) => claims.binary_search_by_key(&id, |c| c.id),
            };
            let slot = match at {
                Ok(i) => &mut claims[i],
                Err(i) if i < claims.len() || !last_block => {
                    return Err(StoreError::corrupt(
                        Some(change.first_seq),
                        format!(
                            "claim id {id} is not greater than the ids of the claims recorded \
                             before it: claim ids must increase in the order claims are recorded"
                        ),
                    ));
                }
                Err(i) => {
                    claims.insert(
                        i,
                        ClaimSlot {
                            id,
                            key: None,
                            seqs: Vec::with_capacity(1 + mine.len()),
                        },
                    );
                    &mut claims[i]
                }
            };
            let revisions = std::iter::once((change.first_revision, change.first_seq))
                .chain(mine.iter().map(|&(_, revision, seq)| (revision, seq)));
            for (revision, seq) in revisions {
                slot.set_revision(revision, seq)
                    .map_err(|why| StoreError::corrupt(Some(seq), why))?;
            }
            if change.key != NONE {
                let (key, _) = self.key(change.key);
                slot.key = Some(
                    Key::parse(key).map_err(|e| StoreError::corrupt(Some(change.first_seq), e))?,
                );
            }
            block.dirty = true;
        }
        ops.extend(blocks.into_ops());
        Ok(())
    }

    fn key_ops<S: Storage + ?Sized>(
        &self,
        storage: &S,
        ops: &mut Vec<IndexOp>,
    ) -> Result<(), StoreError> {
        let mut keys: Vec<(u16, u32)> = (0..self.keys.len() as u32)
            .map(|i| (key_bucket(self.key(i).0), i))
            .collect();
        keys.sort_by_key(|(bucket, _)| *bucket);
        for group in keys.chunk_by(|a, b| a.0 == b.0) {
            let key = bucket_key(group[0].0);
            let mut records = match storage.index_get(&key)? {
                None => Vec::new(),
                Some(value) => decode_bucket(&key, &value).map_err(|why| corrupt(&key, why))?,
            };
            let before = records.len();
            for &(_, i) in group {
                let (claim_key, id) = self.key(i);
                if !records.iter().any(|(k, _)| k.as_str() == claim_key) {
                    let claim_key = Key::parse(claim_key)
                        .map_err(|e| StoreError::corrupt(None, format!("key {claim_key:?} {e}")))?;
                    records.push((claim_key, id));
                }
            }
            if records.len() != before {
                ops.push(IndexOp::Put(key.to_vec(), encode_bucket(&records)));
            }
        }
        Ok(())
    }

    fn posting_ops<S: Storage + ?Sized>(
        &self,
        storage: &S,
        ops: &mut Vec<IndexOp>,
    ) -> Result<(), StoreError> {
        // Per label: (claims leaving it, claims joining it), in the order the batch first
        // touches them.
        let mut changes: Vec<(Vec<ClaimId>, Vec<ClaimId>)> =
            vec![Default::default(); self.labels.names.len()];
        for (id, change) in self.in_log_order() {
            if change.before == change.after {
                continue;
            }
            let (before, after) = (
                self.labels.set(change.before),
                self.labels.set(change.after),
            );
            for label in before {
                if !after.contains(label) {
                    changes[*label as usize].0.push(id);
                }
            }
            for label in after {
                if !before.contains(label) {
                    changes[*label as usize].1.push(id);
                }
            }
        }
        let mut labels: Vec<usize> = (0..changes.len())
            .filter(|&l| !changes[l].0.is_empty() || !changes[l].1.is_empty())
            .collect();
        labels.sort_by(|&a, &b| self.labels.names[a].cmp(&self.labels.names[b]));
        for label in labels {
            let (kind, name) = &self.labels.names[label];
            let (leaving, joining) = &changes[label];
            update_posting_list(storage, *kind, name, leaving, joining, ops)?;
        }
        Ok(())
    }
}

/// The index changes of a commit, in the batches that bringing the index up to the log after
/// a crash uses ([`crate::Ledger`]'s `catch_up_index`): one [`IndexBatch`] per run of
/// `batch_entries` entries from the index mark. A large commit writes its index after its
/// entries, batch by batch; were that interrupted, the catch-up computes each batch again from
/// the log over the same entries, so that its writes are the ones the interrupted run made
/// (see the module's documentation).
#[derive(Debug)]
pub(crate) struct IndexBatches {
    batch_entries: u64,
    /// Batches complete, each with the last entry it covers.
    done: Vec<(IndexBatch, u64)>,
    current: IndexBatch,
    /// The last entry the current batch may cover, and the last it does.
    current_end: u64,
    last: u64,
}

impl IndexBatches {
    /// Batches for the entries after `mark`, the index mark.
    pub fn new(mark: u64, batch_entries: u64) -> IndexBatches {
        let batch_entries = batch_entries.max(1);
        IndexBatches {
            batch_entries,
            done: Vec::new(),
            current: IndexBatch::new(),
            current_end: mark.saturating_add(batch_entries),
            last: mark,
        }
    }

    /// Adds the next event of the log (see [`IndexBatch::add`]).
    pub fn add(
        &mut self,
        event: IndexEvent<'_>,
        previous: Option<&Claim>,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(event.seq.0, self.last + 1, "events come in log order");
        self.begin(event.seq);
        self.last = event.seq.0;
        self.current.add(event, previous)
    }

    /// Starts the batch that entry `seq` belongs to, if it is not the current one.
    pub fn begin(&mut self, seq: Seq) {
        while seq.0 > self.current_end {
            let done = std::mem::take(&mut self.current);
            self.done.push((done, self.current_end));
            self.current_end = self.current_end.saturating_add(self.batch_entries);
        }
    }

    /// Whether an earlier event of the batch entry `seq` belongs to touched this claim.
    pub fn knows(&mut self, seq: Seq, id: ClaimId) -> bool {
        self.begin(seq);
        self.current.knows(id)
    }

    /// All of it as one batch, for a commit that writes its index in one atomic write.
    pub fn into_one(self) -> IndexBatch {
        assert!(self.done.is_empty(), "one batch");
        self.current
    }

    /// Writes each batch in turn ([`IndexBatch::apply`]), moving the index mark to its end.
    pub fn apply<S: Storage + ?Sized>(self, storage: &mut S) -> Result<(), StoreError> {
        for (batch, end) in self.done {
            batch.apply(storage, end)?;
        }
        self.current.apply(storage, self.last)
    }
}

fn corrupt(key: &[u8], why: String) -> StoreError {
    StoreError::corrupt(
        None,
        format!("{} does not decode: {why}", index::describe_key(key)),
    )
}

/// A claim block read for the batch, with the batch's changes merged in.
#[derive(Debug)]
struct CachedBlock {
    /// Every claim in the block's range, ascending: may exceed a block's capacity (new claims
    /// at its end) until the block is cut up on output.
    claims: Vec<ClaimSlot>,
    /// The next stored block's first id: this block covers ids below it. `None` for the last
    /// block, the only one new claims join.
    upper: Option<ClaimId>,
    dirty: bool,
}

/// The claim blocks a batch touches. A stored block covers the ids from its first up to the
/// next stored block's first; ids below every stored block go to `below`, a new block (the
/// first, when no block is stored yet).
#[derive(Debug, Default)]
struct ClaimBlocks {
    stored: BTreeMap<ClaimId, CachedBlock>,
    below: Option<CachedBlock>,
}

impl ClaimBlocks {
    fn locate<S: Storage + ?Sized>(
        &mut self,
        storage: &S,
        id: ClaimId,
    ) -> Result<&mut CachedBlock, StoreError> {
        let covers = |block: &CachedBlock| block.upper.is_none_or(|upper| id < upper);
        let cached = self
            .stored
            .range(..=id)
            .next_back()
            .filter(|(_, block)| covers(block))
            .map(|(first, _)| *first);
        if let Some(first) = cached {
            return Ok(self.stored.get_mut(&first).expect("just found"));
        }
        if self.below.as_ref().is_some_and(covers) {
            return Ok(self.below.as_mut().expect("just checked"));
        }
        let mut floor = None;
        storage.index_scan_from(&[CLAIM], &claim_block_key(id), true, &mut |key, value| {
            floor = Some((key.to_vec(), value.to_vec()));
            ControlFlow::Break(())
        })?;
        match floor {
            Some((key, value)) => {
                let claims = decode_claim_block(&key, &value).map_err(|why| corrupt(&key, why))?;
                let first = claims[0].id;
                let upper = next_stored_block(storage, Some(first))?;
                Ok(self.stored.entry(first).or_insert(CachedBlock {
                    claims,
                    upper,
                    dirty: false,
                }))
            }
            None => {
                let upper = next_stored_block(storage, None)?;
                Ok(self.below.insert(CachedBlock {
                    claims: Vec::new(),
                    upper,
                    dirty: false,
                }))
            }
        }
    }

    /// One write per block, cut into blocks of [`CLAIMS_PER_BLOCK`], in ascending key order:
    /// a block's stored records stay in it, and the new claims past its capacity start the
    /// next blocks.
    fn into_ops(self) -> Vec<IndexOp> {
        let mut ops = Vec::new();
        for block in self.below.into_iter().chain(self.stored.into_values()) {
            if !block.dirty {
                continue;
            }
            ops.extend(block.claims.chunks(CLAIMS_PER_BLOCK).map(|chunk| {
                IndexOp::Put(
                    claim_block_key(chunk[0].id).to_vec(),
                    encode_claim_block(chunk),
                )
            }));
        }
        ops
    }
}

/// The first id of the first stored claim block after the one starting at `after` (or of the
/// first block at all).
fn next_stored_block<S: Storage + ?Sized>(
    storage: &S,
    after: Option<ClaimId>,
) -> Result<Option<ClaimId>, StoreError> {
    let from = after.map(claim_block_key);
    let mut next = None;
    let mut bad = None;
    storage.index_scan_from(
        &[CLAIM],
        from.as_ref().map_or(&[CLAIM][..], |k| &k[..]),
        false,
        &mut |key, _| {
            if from.as_ref().is_some_and(|from| key == &from[..]) {
                return ControlFlow::Continue(());
            }
            match claim_block_first(key) {
                Ok(id) => next = Some(id),
                Err(why) => bad = Some(corrupt(key, why)),
            }
            ControlFlow::Break(())
        },
    )?;
    bad.map_or(Ok(next), Err)
}

/// A posting block read for the batch.
#[derive(Debug)]
struct PostingBlock {
    number: u32,
    ids: Vec<ClaimId>,
    dirty: bool,
}

/// Applies one label's net change: `leaving` are removed, then `joining` appended.
fn update_posting_list<S: Storage + ?Sized>(
    storage: &S,
    kind: u8,
    label: &str,
    leaving: &[ClaimId],
    joining: &[ClaimId],
    ops: &mut Vec<IndexOp>,
) -> Result<(), StoreError> {
    let prefix = label_prefix(kind, label);
    // Sorted when first needed: a list with no blocks yet (a new label) never needs it.
    let mut joining_sorted: Option<Vec<ClaimId>> = None;
    let mut is_joining = |id: &ClaimId| {
        joining_sorted
            .get_or_insert_with(|| {
                let mut sorted = joining.to_vec();
                sorted.sort_unstable();
                sorted
            })
            .binary_search(id)
            .is_ok()
    };
    let mut blocks: Vec<PostingBlock> = Vec::new();
    let mut bad = None;
    let mut read = |key: &[u8], value: &[u8]| -> Option<PostingBlock> {
        match parse_posting_key(key).and_then(|(_, _, number)| Ok((number, decode_posting(value)?)))
        {
            Ok((number, ids)) => Some(PostingBlock {
                number,
                ids,
                dirty: false,
            }),
            Err(why) => {
                bad = Some(corrupt(key, why));
                None
            }
        }
    };
    if !leaving.is_empty() {
        // A removal may be anywhere: read the whole list.
        storage.index_scan(&prefix, false, &mut |key, value| match read(key, value) {
            Some(block) => {
                blocks.push(block);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Break(()),
        })?;
    } else {
        // The last block, and before it any block holding claims this batch adds (written
        // by an interrupted attempt at this same batch).
        storage.index_scan(&prefix, true, &mut |key, value| match read(key, value) {
            Some(block) => {
                let more = block.ids.iter().any(&mut is_joining);
                blocks.push(block);
                if more {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            }
            None => ControlFlow::Break(()),
        })?;
        blocks.reverse();
    }
    if let Some(error) = bad {
        return Err(error);
    }
    if !leaving.is_empty() {
        let leaving_set: HashSet<ClaimId, crate::hashing::IdHash> =
            leaving.iter().copied().collect();
        for block in &mut blocks {
            let before = block.ids.len();
            block.ids.retain(|id| !leaving_set.contains(id));
            block.dirty |= block.ids.len() != before;
        }
    }
    let present: HashSet<ClaimId, crate::hashing::IdHash> = blocks
        .iter()
        .flat_map(|block| &block.ids)
        .filter(|id| is_joining(id))
        .copied()
        .collect();
    for id in joining {
        if present.contains(id) {
            continue;
        }
        match blocks.last_mut() {
            Some(last) if last.ids.len() < IDS_PER_POSTING_BLOCK => {
                last.ids.push(*id);
                last.dirty = true;
            }
            last => {
                let number = last.map_or(0, |b| b.number + 1);
                blocks.push(PostingBlock {
                    number,
                    ids: vec![*id],
                    dirty: true,
                });
            }
        }
    }
    for block in blocks.into_iter().filter(|b| b.dirty) {
        let key = posting_key(kind, label, block.number);
        ops.push(if block.ids.is_empty() {
            IndexOp::Delete(key)
        } else {
            IndexOp::Put(key, encode_posting(&block.ids))
        });
    }
    Ok(())
}
