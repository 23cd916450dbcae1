//! `verify`: recompute everything from the stored bytes and compare.
//!
//! Checks, in one pass over the log: every entry is in the canonical byte form and decodes to a
//! valid event (`canonical::EntryView`); sequence numbers are dense from 1; each entry's `prev`
//! is the BLAKE3 hash of the entry before (the first's is zero); the last entry's hash is the
//! recorded head; recording times never decrease; each claim is recorded once, with a key no
//! other claim has, and revised with contiguous revision numbers, each revision changing the
//! claim, and a `status` revision changing nothing but its status; claim ids increase in the
//! order claims are recorded (which the index's claim blocks rely on). In the same pass, the
//! Merkle tree is recomputed from the entries and every stored tile compared with it
//! (`tree::TreeCheck`); what that finds is reported only if the log and the index check out.
//!
//! Then the index, by logical facts rather than bytes ([`index::Fact`]): every stored block
//! must decode, and the digest of the facts the blocks state must equal the digest of the facts
//! the log implies. If it does not, a second pass collects both sets of facts to name the
//! first that differs.

use crate::bundle;
use crate::evidence::SnapshotRef;
use crate::index::{self, Fact, FactKey, IndexDigest};
use crate::ledger::Ledger;
use crate::storage::{Head, Storage, StoreError};
use crate::tree::{TreeAppender, TreeCheck};
use claimledger_core::canonical::{EntryView, EventView};
use claimledger_core::checkpoint::{self, VerifierKeyText};
use claimledger_core::merkle::{record_hash, Hash};
use claimledger_core::{
    Claim, ClaimId, Entry, EntryHash, Event, RevisionKind, Seq, SnapshotHash, Status, Timestamp,
};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;

/// Entries decoded in parallel per step.
const VERIFY_BATCH_ENTRIES: usize = 4096;

/// The first thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The first bad entry, where the problem is in one.
    pub seq: Option<Seq>,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "entry {seq}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// What verify found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The head as recorded in the ledger.
    pub head: Head,
    pub entries_checked: u64,
    pub claim_count: u64,
    pub problem: Option<Problem>,
    /// Every snapshot the log records, once, in the order the log first names them: what the
    /// evidence store must hold ([`crate::EvidenceStore::check_all`]).
    pub snapshots: Vec<SnapshotRef>,
}

/// Per-claim state verify keeps: the latest revision, the digest of the label facts of the
/// claim's latest revision (so that the next revision can take them away again), and a digest
/// of that revision's claim without its status, with the status (so that the next revision can
/// be checked to change something, and a `status` revision to change only the status).
///
/// 40 bytes, kept in byte arrays so that nothing pads it: with its id, 56 bytes a claim.
struct ClaimTrack {
    labels: [u8; 16],
    claim: [u8; 16],
    revision: u32,
    /// At most 66: a subject, a claimant and 64 tags.
    label_count: u8,
    status: Status,
}

impl ClaimTrack {
    fn new(revision: u32, entry: &Summary) -> ClaimTrack {
        ClaimTrack {
            labels: entry.labels.sum.to_le_bytes(),
            claim: entry.claim.to_le_bytes(),
            revision,
            label_count: u8::try_from(entry.labels.count).unwrap_or(u8::MAX),
            status: entry.status,
        }
    }

    fn labels(&self) -> IndexDigest {
        IndexDigest {
            sum: u128::from_le_bytes(self.labels),
            count: u64::from(self.label_count),
        }
    }

    fn claim(&self) -> u128 {
        u128::from_le_bytes(self.claim)
    }
}

/// The claims seen so far, in the order they were recorded, which is the order of their ids
/// (verify checks it as it goes): a sorted vector, half the memory of a hash map of the same.
#[derive(Default)]
struct Claims(Vec<(ClaimId, ClaimTrack)>);

impl Claims {
    fn get_mut(&mut self, id: ClaimId) -> Option<&mut ClaimTrack> {
        match self.0.binary_search_by_key(&id, |(id, _)| *id) {
            Ok(i) => Some(&mut self.0[i].1),
            Err(_) => None,
        }
    }

    fn contains(&self, id: ClaimId) -> bool {
        self.0.binary_search_by_key(&id, |(id, _)| *id).is_ok()
    }

    /// Adds a claim whose id is greater than every id before it.
    fn push(&mut self, id: ClaimId, track: ClaimTrack) {
        debug_assert!(self.0.last().is_none_or(|(last, _)| *last < id));
        self.0.push((id, track));
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// What the in-order checks need of an entry: read from its bytes, and digested, where the
/// entry is read (in parallel), so that the checks hold no entry and redo no work.
struct Summary {
    seq: Seq,
    prev: EntryHash,
    recorded_at: Timestamp,
    claim_id: ClaimId,
    /// The key a record gives its claim, and its hash.
    key: Option<(Box<str>, u128)>,
    revision: u32,
    /// A revision's kind; `None` for a record.
    kind: Option<RevisionKind>,
    /// The index facts the entry adds, but for its claim's labels: where its revision is, and
    /// a record's key.
    facts: IndexDigest,
    /// The label facts of the entry's claim.
    labels: IndexDigest,
    /// The hash of the claim object's bytes without its `status` field and its sources'
    /// `archived` fields: since one content has one byte form, equal for two claims exactly when
    /// they differ at most in their status and snapshots (but for a collision, which under a key
    /// no one knows takes some 2^64 tries to find).
    claim: u128,
    status: Status,
    /// The hash, under the checker's key, of the sources' `archived` fields, each after its
    /// source's index; `None` when no source has one.
    archived: Option<u128>,
    /// The snapshots the sources list: (source, hash, size).
    snapshots: Vec<(usize, SnapshotHash, u64)>,
}

impl Summary {
    /// Reads entry `seq`'s stored bytes (every rule of their form and their fields) and
    /// digests what the in-order checks need, with hashes under `key`.
    fn of(key: &FactKey, seq: Seq, bytes: &[u8]) -> Result<Summary, String> {
        let mut snapshots = Vec::new();
        let mut source_index = 0;
        let view = EntryView::parse_with(bytes, &mut |source| {
            for item in &source.archived {
                snapshots.push((source_index, item.sha256, item.size));
            }
            source_index += 1;
        })
        .map_err(|e| e.0)?;
        let id = view.claim_id;
        let revision = view.revision();
        let mut facts = IndexDigest::default();
        facts.add(key, &Fact::Revision { id, revision, seq });
        let (claim_key, kind) = match &view.event {
            EventView::Recorded { key: claim_key } => {
                let claim_key = match claim_key {
                    None => None,
                    Some(text) => {
                        facts.add(
                            key,
                            &Fact::ClaimKey {
                                id,
                                key: Cow::Borrowed(text),
                            },
                        );
                        facts.add(
                            key,
                            &Fact::KeyClaim {
                                key: Cow::Borrowed(text),
                                id,
                            },
                        );
                        Some((Box::from(*text), key.hash(&[text.as_bytes()])))
                    }
                };
                (claim_key, None)
            }
            EventView::Revised { kind, .. } => (None, Some(*kind)),
        };
        let claim = &view.claim;
        let mut labels = IndexDigest::default();
        for (kind, label) in index::labels_of(claim.subject, &claim.claimant, claim.tags()) {
            labels.add(
                key,
                &Fact::Label {
                    kind,
                    label: Cow::Borrowed(label),
                    id,
                },
            );
        }
        let archived = claim
            .archived_fields()
            .fold(None, |digest, (source, field)| {
                let index = (source as u64).to_le_bytes();
                let previous = digest.unwrap_or(0u128).to_le_bytes();
                Some(key.hash(&[&previous, &index, field]))
            });
        Ok(Summary {
            seq: view.seq,
            prev: view.prev,
            recorded_at: view.recorded_at,
            claim_id: id,
            key: claim_key,
            revision,
            kind,
            facts,
            labels,
            claim: key.hash_of(claim.bytes_without_status_and_archived()),
            status: claim.status,
            archived,
            snapshots,
        })
    }
}

struct Checker {
    /// The head recorded with the entries, where there is one (a bundle has none).
    head: Option<Head>,
    /// A head written down earlier: the entry at its count must have its hash.
    expect: Option<Head>,
    expected_seq: u64,
    prev_hash: EntryHash,
    /// A link that did not hold: (the entry before, the entry after, the after's hash). Which
    /// of the two was altered shows at the next link.
    suspect: Option<(Seq, Seq, EntryHash)>,
    claims: Claims,
    /// The hash of each key used: a key's text would take several times as much.
    keys: HashSet<u128, crate::hashing::IdHash>,
    /// The key of the hashes of facts, keys and claims.
    key: FactKey,
    /// The id of the claim recorded last.
    last_recorded: Option<ClaimId>,
    /// When the entry before was recorded: recording times never decrease along the log.
    last_time: Option<Timestamp>,
    /// The facts the log implies so far.
    digest: IndexDigest,
    /// The digest of the snapshots of each claim whose latest revision lists any (few do, so
    /// they are kept here rather than in every claim's track).
    archived: HashMap<ClaimId, u128>,
    /// Every snapshot named so far, once, and where in `snapshots` each is.
    snapshots: Vec<SnapshotRef>,
    snapshot_at: HashMap<SnapshotHash, usize>,
}

impl Checker {
    fn new(head: Option<Head>, expect: Option<Head>) -> Checker {
        Checker {
            head,
            expect,
            expected_seq: 1,
            prev_hash: EntryHash::ZERO,
            suspect: None,
            claims: Claims::default(),
            keys: HashSet::default(),
            key: FactKey::random(),
            last_recorded: None,
            last_time: None,
            digest: IndexDigest::default(),
            archived: HashMap::new(),
            snapshots: Vec::new(),
            snapshot_at: HashMap::new(),
        }
    }

    /// What is left to check once the last entry is checked: a link found broken at the end,
    /// and that the log reached the expected head, if any.
    fn finish(&mut self) -> Option<Problem> {
        if let Some((before, after, after_hash)) = self.suspect.take() {
            return Some(self.blame(before, after, after_hash, None));
        }
        let expect = self.expect?;
        let entries = self.expected_seq - 1;
        if expect.count > entries {
            Some(Problem {
                seq: None,
                what: format!("it holds {entries} entries, fewer than the expected head's {}: it was rolled back or truncated", expect.count),
            })
        } else if expect.count == 0 && expect.hash != EntryHash::ZERO {
            Some(Problem {
                seq: None,
                what: "an expected head of 0 entries must have the zero hash".into(),
            })
        } else {
            None
        }
    }

    fn problem(seq: Seq, what: impl Into<String>) -> Problem {
        Problem {
            seq: Some(seq),
            what: what.into(),
        }
    }

    /// Checks the next entry, given its stored bytes decoded and hashed.
    fn check(
        &mut self,
        seq: Seq,
        decoded: Result<Summary, String>,
        hash: EntryHash,
    ) -> Result<(), Problem> {
        if let Some((before, after, after_hash)) = self.suspect.take() {
            return Err(self.blame(before, after, after_hash, Some(&decoded)));
        }
        let entry = decoded.map_err(|e| Self::problem(seq, e))?;
        if entry.seq.0 != self.expected_seq {
            return Err(Self::problem(
                seq,
                format!(
                    "it says it is entry {}; sequence numbers must be dense",
                    entry.seq
                ),
            ));
        }
        if entry.prev != self.prev_hash {
            if seq == Seq::FIRST {
                return Err(Self::problem(seq, "the first entry's prev is not zero"));
            }
            self.suspect = Some((Seq(seq.0 - 1), seq, hash));
            // The next entry decides which of the two was altered; until then nothing this
            // entry says about its place in the log (its time, its claim) can be trusted.
            self.prev_hash = hash;
            self.expected_seq += 1;
            return Ok(());
        }
        if let Some(expect) = self.expect.filter(|e| e.count == seq.0) {
            if expect.hash != hash {
                return Err(Self::problem(seq, format!(
                    "its hash {hash} is not the expected head's {}: the ledger was rewritten after that head was written down",
                    expect.hash
                )));
            }
        }
        let recorded_at = entry.recorded_at;
        if self.last_time.is_some_and(|last| recorded_at < last) {
            return Err(Self::problem(seq, format!("it was recorded at {recorded_at}, before the entry ahead of it; recording times never decrease")));
        }
        self.last_time = Some(recorded_at);
        self.check_event(seq, entry)?;
        self.prev_hash = hash;
        self.expected_seq += 1;
        Ok(())
    }

    /// A link from `before` to `after` did not hold. If `after`'s own hash is what the entry
    /// after it (or the head) records, `after` is intact and `before` was altered; otherwise
    /// `after` was.
    fn blame(
        &self,
        before: Seq,
        after: Seq,
        after_hash: EntryHash,
        next: Option<&Result<Summary, String>>,
    ) -> Problem {
        let after_is_intact = match next {
            Some(Ok(next)) => next.prev == after_hash,
            Some(Err(_)) => false,
            None => [self.head, self.expect]
                .iter()
                .flatten()
                .any(|h| h.count == after.0 && h.hash == after_hash),
        };
        if after_is_intact {
            Self::problem(
                before,
                format!(
                    "its hash is not the prev recorded by entry {after}: its bytes were altered"
                ),
            )
        } else {
            Self::problem(
                after,
                format!("its prev is not the hash of entry {before}: the chain is broken here"),
            )
        }
    }

    /// Notes the snapshots an entry's sources list: each hash must always state one size.
    fn note_snapshots(&mut self, seq: Seq, entry: &Summary) -> Result<(), Problem> {
        for &(source, sha256, size) in &entry.snapshots {
            match self.snapshot_at.get(&sha256) {
                Some(&at) => {
                    let first = &self.snapshots[at];
                    if first.size != size {
                        return Err(Self::problem(
                            seq,
                            format!(
                                "snapshot {sha256} is recorded as {size} bytes here and as {} \
                                 bytes by entry {}: one hash has one size",
                                first.size, first.seq
                            ),
                        ));
                    }
                }
                None => {
                    self.snapshot_at.insert(sha256, self.snapshots.len());
                    self.snapshots.push(SnapshotRef {
                        sha256,
                        size,
                        seq,
                        claim_id: entry.claim_id,
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    fn check_event(&mut self, seq: Seq, entry: Summary) -> Result<(), Problem> {
        self.note_snapshots(seq, &entry)?;
        let id = entry.claim_id;
        let Some(kind) = entry.kind else {
            // Claims are recorded in id order, so an id above the last is new: only one that
            // is not needs looking for.
            if let Some(last) = self.last_recorded.filter(|last| id <= *last) {
                if self.claims.contains(id) {
                    return Err(Self::problem(
                        seq,
                        format!("claim {id} is recorded a second time"),
                    ));
                }
                return Err(Self::problem(
                    seq,
                    format!(
                        "claim id {id} is not greater than {last}, the id of the claim \
                         recorded before it: claim ids must increase in the order claims \
                         are recorded"
                    ),
                ));
            }
            self.last_recorded = Some(id);
            if let Some((key, digest)) = &entry.key {
                if !self.keys.insert(*digest) {
                    return Err(Self::problem(
                        seq,
                        format!("key {key} is already used by another claim"),
                    ));
                }
            }
            self.digest.add_digest(entry.facts);
            self.digest.add_digest(entry.labels);
            if let Some(digest) = entry.archived {
                self.archived.insert(id, digest);
            }
            self.claims.push(id, ClaimTrack::new(1, &entry));
            return Ok(());
        };
        let Some(track) = self.claims.get_mut(id) else {
            return Err(Self::problem(
                seq,
                format!("claim {id} is revised but was never recorded"),
            ));
        };
        let revision = entry.revision;
        if revision != track.revision + 1 {
            return Err(Self::problem(
                seq,
                format!(
                    "claim {id} goes from revision {} to {revision}",
                    track.revision
                ),
            ));
        }
        let archived_before = self.archived.get(&id).copied();
        let same_archived = entry.archived == archived_before;
        if entry.claim == track.claim() && entry.status == track.status && same_archived {
            return Err(Self::problem(
                seq,
                format!(
                    "revision {revision} of claim {id} changes nothing: its claim is the same \
                     as revision {}'s, and a revision must change it",
                    track.revision
                ),
            ));
        }
        if kind == RevisionKind::Status && (entry.claim != track.claim() || !same_archived) {
            return Err(Self::problem(
                seq,
                format!(
                    "revision {revision} of claim {id} is of kind status but changes more than \
                     the status; a status revision changes only `status`"
                ),
            ));
        }
        if kind == RevisionKind::Evidence
            && (entry.claim != track.claim() || entry.status != track.status)
        {
            return Err(Self::problem(
                seq,
                format!(
                    "revision {revision} of claim {id} is of kind evidence but changes more \
                     than the sources' snapshots; an evidence revision changes only their \
                     `archived` lists"
                ),
            ));
        }
        match entry.archived {
            Some(digest) => self.archived.insert(id, digest),
            None => self.archived.remove(&id),
        };
        let old = track.labels();
        *track = ClaimTrack::new(revision, &entry);
        self.digest.add_digest(entry.facts);
        self.digest.remove_digest(old);
        self.digest.add_digest(entry.labels);
        Ok(())
    }
}

/// Every fact the log implies, each with how many times (once, in a sound log).
fn expected_facts(
    storage: &(impl Storage + ?Sized),
) -> Result<BTreeMap<Fact<'static>, u32>, StoreError> {
    let mut facts: BTreeMap<Fact<'static>, u32> = BTreeMap::new();
    let mut latest: HashMap<ClaimId, Claim> = HashMap::new();
    let owned_labels = |id: ClaimId, claim: &Claim| -> Vec<Fact<'static>> {
        index::labels(claim)
            .map(|(kind, label)| Fact::Label {
                kind,
                label: Cow::Owned(label.to_owned()),
                id,
            })
            .collect()
    };
    storage.scan_entries(Seq::FIRST, &mut |seq, bytes| {
        if let Ok(entry) = Entry::decode(bytes) {
            let id = entry.event.claim_id();
            let mut add = |fact: Fact<'static>| *facts.entry(fact).or_default() += 1;
            add(Fact::Revision {
                id,
                revision: entry.event.revision(),
                seq,
            });
            if let Event::ClaimRecorded(e) = &entry.event {
                if let Some(key) = &e.key {
                    let key: Cow<'static, str> = Cow::Owned(key.as_str().to_owned());
                    add(Fact::ClaimKey {
                        id,
                        key: key.clone(),
                    });
                    add(Fact::KeyClaim { key, id });
                }
            }
            if let Some(previous) = latest.get(&id) {
                for fact in owned_labels(id, previous) {
                    if let Some(count) = facts.get_mut(&fact) {
                        *count -= 1;
                        if *count == 0 {
                            facts.remove(&fact);
                        }
                    }
                }
            }
            for fact in owned_labels(id, entry.event.claim()) {
                *facts.entry(fact).or_default() += 1;
            }
            latest.insert(id, entry.event.claim().clone());
        }
        ControlFlow::Continue(())
    })?;
    Ok(facts)
}

/// An entry as the parallel step of [`LogChecker`] leaves it: read, hashed, and its Merkle
/// leaf hashed if wanted.
type Decoded = (Seq, Result<Summary, String>, EntryHash, Option<Hash>);

/// Checks entries as they stream past, in parallel batches: everything verify checks that
/// needs nothing but the entries (their form, the chain, the order of times and claim ids, every
/// rule of a claim's history, and the digest of the index facts they imply). The one checker of
/// [`Ledger::verify`], [`verify_bundle`], [`EntryCheck`] (a monitor's entries, across runs) and
/// the benchmark's SQLite alternative, which thereby differ only in where the entries come from.
pub struct LogChecker {
    checker: Checker,
    batch: Vec<(Seq, Vec<u8>)>,
    /// The batch before `batch`: decoded, not yet checked.
    decoded: Vec<Decoded>,
    problem: Option<Problem>,
    /// With `Some`, the Merkle leaf of each entry checked is hashed in the same parallel step
    /// and kept here until taken.
    leaves: Option<Vec<Hash>>,
    /// With `Some`, the hash of each entry checked is kept here until taken.
    hashes: Option<Vec<EntryHash>>,
}

impl std::fmt::Debug for LogChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogChecker")
            .field("entries_checked", &self.entries_checked())
            .field("claim_count", &self.claim_count())
            .field("problem", &self.problem)
            .finish_non_exhaustive()
    }
}

impl LogChecker {
    /// A checker of a log from its first entry. `head` is the head recorded with the entries,
    /// where there is one (it tells which of two entries a broken link altered; see
    /// [`LogChecker::set_head`]); `expect` is a head written down earlier, which the log must
    /// still hold.
    pub fn new(head: Option<Head>, expect: Option<Head>) -> LogChecker {
        LogChecker {
            checker: Checker::new(head, expect),
            batch: Vec::with_capacity(VERIFY_BATCH_ENTRIES),
            decoded: Vec::new(),
            problem: None,
            leaves: None,
            hashes: None,
        }
    }

    /// Sets the head the entries were recorded with, once known (a stream learns it at its
    /// end), before [`LogChecker::finish`].
    pub fn set_head(&mut self, head: Option<Head>) {
        self.checker.head = head;
    }

    /// Keeps the hash of each entry checked, in order, for [`LogChecker::take_hashes`]: how a
    /// storage that also stores each entry's hash compares it without hashing twice.
    pub fn keep_hashes(&mut self) {
        self.hashes.get_or_insert_with(Vec::new);
    }

    /// The hashes of the entries checked since the last call (with
    /// [`LogChecker::keep_hashes`]; empty without).
    pub fn take_hashes(&mut self) -> Vec<EntryHash> {
        self.hashes.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Takes the next entry; breaks at the first problem, which [`LogChecker::finish`] (or
    /// [`LogChecker::problem`]) then returns. Entries are checked a batch at a time, so a
    /// problem shows up to two batches after its entry was pushed.
    pub fn push(&mut self, seq: Seq, bytes: &[u8]) -> ControlFlow<()> {
        self.batch.push((seq, bytes.to_vec()));
        if self.batch.len() == VERIFY_BATCH_ENTRIES {
            self.step();
        }
        if self.problem.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Decodes and hashes the batch just filled, in parallel, while this thread checks the
    /// batch decoded before it, in order: the checks, which cannot be parallel, overlap with
    /// the decoding. A problem is therefore found one batch later than it could be, which
    /// changes nothing but when the scan stops.
    fn step(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(VERIFY_BATCH_ENTRIES));
        let pending = std::mem::take(&mut self.decoded);
        let want_leaves = self.leaves.is_some();
        let key = self.checker.key;
        let (checker, leaves, hashes, problem) = (
            &mut self.checker,
            &mut self.leaves,
            &mut self.hashes,
            &mut self.problem,
        );
        let ((), decoded) = rayon::join(
            || {
                if problem.is_some() {
                    return;
                }
                for (seq, entry, hash, leaf) in pending {
                    if let Err(found) = checker.check(seq, entry, hash) {
                        *problem = Some(found);
                        return;
                    }
                    if let (Some(leaves), Some(leaf)) = (&mut *leaves, leaf) {
                        leaves.push(leaf);
                    }
                    if let Some(hashes) = &mut *hashes {
                        hashes.push(hash);
                    }
                }
            },
            || {
                batch
                    .par_iter()
                    .map(|(seq, bytes)| {
                        (
                            *seq,
                            Summary::of(&key, *seq, bytes),
                            EntryHash::of(bytes),
                            want_leaves.then(|| record_hash(bytes)),
                        )
                    })
                    .collect::<Vec<Decoded>>()
            },
        );
        self.decoded = decoded;
    }

    /// Checks every entry pushed so far (unless a problem was found), without the checks of
    /// the end ([`LogChecker::finish`]).
    pub fn drain(&mut self) {
        self.step();
        self.step();
    }

    /// Entries pushed but not yet checked.
    fn pending(&self) -> u64 {
        (self.batch.len() + self.decoded.len()) as u64
    }

    /// Checks what is left, and that the expected head (if any) was reached: the first
    /// problem, if any.
    pub fn finish(&mut self) -> Option<Problem> {
        self.drain();
        if self.problem.is_none() {
            self.problem = self.checker.finish();
        }
        self.problem.clone()
    }

    /// The first problem found so far.
    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }

    /// The entries checked so far.
    pub fn entries_checked(&self) -> u64 {
        self.checker.expected_seq - 1
    }

    /// The claims recorded by the entries checked so far.
    pub fn claim_count(&self) -> u64 {
        self.checker.claims.len() as u64
    }

    /// The hash of the last entry checked (zero before the first): the head the entries give.
    pub fn last_hash(&self) -> EntryHash {
        self.checker.prev_hash
    }

    /// The digest of the index facts ([`index::Fact`]) the entries checked imply, under
    /// [`LogChecker::fact_key`]: equal to the digest of the facts an index states, under the
    /// same key, exactly when the index is right (but for a collision).
    pub fn index_digest(&self) -> IndexDigest {
        self.checker.digest
    }

    /// The key of this checker's fact digests: each checker draws its own.
    pub fn fact_key(&self) -> FactKey {
        self.checker.key
    }

    /// What this checker knows of claim `id`: its latest revision, or `None` if the entries
    /// checked never recorded it.
    pub fn claim_revision(&self, id: ClaimId) -> Option<u32> {
        self.checker
            .claims
            .0
            .binary_search_by_key(&id, |(id, _)| *id)
            .ok()
            .map(|i| self.checker.claims.0[i].1.revision)
    }
}

/// What a bundle's checkpoint showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleCheckpoint {
    /// No checkpoint: an export written before bundles carried one (plain entry lines). Nothing
    /// in the bundle protects its last entry.
    Absent,
    /// The checkpoint's root is the root of the entries; it is not signed, so it shows that
    /// the bundle is intact, not who made it.
    Unsigned,
    /// Signed, but no key was given, so the signature was not checked.
    SignedUnchecked,
    /// Signed, and the signature checked with the key given (`<name>+<key id>`).
    Verified { key: String },
}

/// What checking a bundle found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleReport {
    /// The head the bundle's entries give.
    pub head: Head,
    pub claim_count: u64,
    /// The origin the bundle's first line names; `None` for an export without one.
    pub origin: Option<String>,
    pub checkpoint: BundleCheckpoint,
    pub problem: Option<Problem>,
    /// Every snapshot the entries record, as in [`VerifyReport::snapshots`].
    pub snapshots: Vec<SnapshotRef>,
}

/// Checks a bundle — the output of `claims export`: a header naming the origin, one entry per
/// line, then the checkpoint of the last entry (docs/FORMAT.md, "Bundles"), or, from builds
/// before that, the entries alone — with no ledger at hand: every check of [`Ledger::verify`]
/// that needs only the entries, and that the checkpoint's size and root are those of the
/// entries. With `key`, the checkpoint must be signed by it. `expect` is a head written down
/// earlier. Only I/O failures are errors; everything wrong with the data is in the report.
pub fn verify_bundle(
    reader: &mut dyn std::io::BufRead,
    expect: Option<Head>,
    key: Option<&VerifierKeyText>,
    progress: &mut dyn FnMut(u64),
) -> Result<BundleReport, std::io::Error> {
    let mut check = LogChecker::new(None, expect);
    check.leaves = Some(Vec::with_capacity(VERIFY_BATCH_ENTRIES));
    let mut tree = TreeAppender::new();
    let limit = claimledger_core::ENTRY_LEN_MAX.max(bundle::CHECKPOINT_LINE_LEN_MAX) as u64 + 2;
    let mut line = Vec::with_capacity(1024);
    let mut seq = Seq::FIRST;
    let mut last_hash = EntryHash::ZERO;
    let mut origin = None;
    let mut checkpoint_text = None;
    let mut framing = None;
    let mut first_line = true;
    loop {
        line.clear();
        let read = std::io::BufRead::read_until(
            &mut std::io::Read::take(&mut *reader, limit),
            b'\n',
            &mut line,
        )?;
        if read == 0 {
            break;
        }
        // The last line may lack its newline.
        let (bytes, ended) = match line.strip_suffix(b"\n") {
            Some(bytes) => (bytes, true),
            None => (&line[..], false),
        };
        if !ended && read as u64 == limit {
            check.problem = Some(Problem {
                seq: Some(seq),
                what: format!(
                    "the line is longer than {} bytes, the most an entry can be",
                    claimledger_core::ENTRY_LEN_MAX
                ),
            });
            break;
        }
        if std::mem::take(&mut first_line) && bundle::is_header(bytes) {
            match bundle::parse_header(bytes) {
                Ok(named) => origin = Some(named),
                Err(what) => framing = Some(what),
            }
            if framing.is_some() || !ended {
                break;
            }
            continue;
        }
        if origin.is_some() && bundle::is_checkpoint_line(bytes) {
            match bundle::parse_checkpoint_line(bytes) {
                Ok(text) => checkpoint_text = Some(text),
                Err(what) => framing = Some(what),
            }
            let mut more = [0u8; 1];
            if framing.is_none() && std::io::Read::read(reader, &mut more)? > 0 {
                framing = Some(
                    "a line follows the checkpoint line, which must be the bundle's last".into(),
                );
            }
            break;
        }
        last_hash = EntryHash::of(bytes);
        let flow = check.push(seq, bytes);
        let leaves = check.leaves.as_mut().expect("set above");
        tree.push_leaves(leaves);
        leaves.clear();
        if seq.0.is_multiple_of(VERIFY_BATCH_ENTRIES as u64) {
            progress(seq.0);
        }
        seq = seq.next();
        if flow.is_break() || !ended {
            break;
        }
    }
    let entries = seq.0 - 1;
    let head = Head {
        count: entries,
        hash: last_hash,
    };
    check.set_head(Some(head));
    if framing.is_none() {
        check.finish();
    }
    progress(check.entries_checked());
    tree.push_leaves(&check.leaves.take().expect("set above"));
    let mut report = BundleReport {
        head,
        claim_count: check.checker.claims.len() as u64,
        origin,
        checkpoint: BundleCheckpoint::Absent,
        problem: check.problem.take(),
        snapshots: std::mem::take(&mut check.checker.snapshots),
    };
    if report.problem.is_none() {
        let result = match framing {
            Some(what) => Err(what),
            None => bundle_checkpoint(&report, checkpoint_text.as_deref(), key, tree.root()),
        };
        match result {
            Ok(checkpoint) => report.checkpoint = checkpoint,
            Err(what) => report.problem = Some(Problem { seq: None, what }),
        }
    }
    Ok(report)
}

/// Checks a bundle's checkpoint against its entries (`root` is theirs) and, with `key`, its
/// signature.
fn bundle_checkpoint(
    report: &BundleReport,
    text: Option<&str>,
    key: Option<&VerifierKeyText>,
    root: claimledger_core::merkle::Hash,
) -> Result<BundleCheckpoint, String> {
    let Some(origin) = &report.origin else {
        return match key {
            None => Ok(BundleCheckpoint::Absent),
            Some(_) => Err(
                "the bundle has no checkpoint to check the key against: it is an \
                            export from a build that wrote entries alone"
                    .into(),
            ),
        };
    };
    let Some(text) = text else {
        return Err(
            "the bundle ends without its checkpoint line: it was cut short, or its \
                    last line was removed"
                .into(),
        );
    };
    // What the checkpoint says is checked against the entries first, then who signed it.
    let checkpoint =
        checkpoint::parse_unsigned_or_signed(text).map_err(|e| format!("its checkpoint: {e}"))?;
    if checkpoint.origin != *origin {
        return Err(format!(
            "its checkpoint is of the ledger {:?}, but its first line names {origin:?}",
            checkpoint.origin
        ));
    }
    let entries = report.head.count;
    if checkpoint.size != entries {
        return Err(format!(
            "its checkpoint is of {} entries, but it holds {entries}: entries were added or \
             removed after the checkpoint was made",
            checkpoint.size
        ));
    }
    if checkpoint.root != root.0 {
        return Err(format!(
            "its {entries} entries do not give its checkpoint's root (they give {root}, the \
             checkpoint says {}): an entry was altered after the checkpoint was made",
            claimledger_core::merkle::Hash(checkpoint.root)
        ));
    }
    if let Some(key) = key {
        checkpoint::open_signed_checkpoint(text, key.as_str())
            .map_err(|e| format!("its checkpoint: {e}"))?;
    }
    Ok(match key {
        Some(key) => BundleCheckpoint::Verified {
            key: key_label(key),
        },
        None if text.contains("\n\n") => BundleCheckpoint::SignedUnchecked,
        None => BundleCheckpoint::Unsigned,
    })
}

/// `<name>+<key id>`, how people tell keys apart.
fn key_label(key: &VerifierKeyText) -> String {
    let mut parts = key.as_str().splitn(3, '+');
    format!(
        "{}+{}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    )
}

impl<S: Storage + Sync> Ledger<S> {
    /// Recomputes every hash and check from the stored bytes. `progress` is told how many
    /// entries have been checked. Storage errors that are not corruption (I/O) are returned as
    /// errors; everything found wrong in the data is in the report.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        self.verify_against(None, progress)
    }

    /// [`Ledger::verify`], and also that the ledger still holds `expect`, a head written down
    /// earlier: its entry `count` must have that hash, or the ledger was rolled back or
    /// rewritten since.
    pub fn verify_against(
        &self,
        expect: Option<Head>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError> {
        let head = self.storage().head()?;
        let mut report = VerifyReport {
            head,
            entries_checked: 0,
            claim_count: 0,
            problem: None,
            snapshots: Vec::new(),
        };
        let indexed = self.storage().indexed_through()?;
        if indexed != head.count {
            report.problem = Some(Problem {
                seq: None,
                what: format!(
                    "the index reflects {indexed} entries but the head says {}",
                    head.count
                ),
            });
            return Ok(report);
        }
        // The Merkle tree (tree.rs) is recomputed in the same pass, every stored tile compared;
        // what it finds is reported only if the log and the index check out.
        let mut tree = TreeCheck::new(self.storage())?;
        let mut tree_error = None;
        let mut check = LogChecker::new(Some(head), expect);
        check.leaves = Some(Vec::with_capacity(VERIFY_BATCH_ENTRIES));
        let scanned = self.storage().scan_entries(Seq::FIRST, &mut |seq, bytes| {
            let flow = check.push(seq, bytes);
            let leaves = check.leaves.as_mut().expect("set above");
            if !leaves.is_empty() {
                if let Err(error) = tree.push(self.storage(), leaves) {
                    tree_error = Some(error);
                }
                leaves.clear();
            }
            if seq.0.is_multiple_of(VERIFY_BATCH_ENTRIES as u64) {
                progress(seq.0);
            }
            if tree_error.is_some() {
                return ControlFlow::Break(());
            }
            flow
        });
        if let Some(error) = tree_error {
            return Err(error);
        }
        let mut problem = None;
        match scanned {
            Ok(()) => {}
            Err(StoreError::Corrupt { seq, reason }) => {
                // The entries read before the damage are checked first: a problem in one of
                // them is the first.
                check.drain();
                problem = check.problem.take().or(Some(Problem { seq, what: reason }))
            }
            Err(other) => return Err(other),
        }
        if problem.is_none() {
            problem = check.finish();
            let leaves = check.leaves.take().expect("set above");
            tree.push(self.storage(), &leaves)?;
        }
        let mut checker = check.checker;
        report.snapshots = std::mem::take(&mut checker.snapshots);
        report.entries_checked = checker.expected_seq - 1;
        report.claim_count = checker.claims.len() as u64;
        progress(report.entries_checked);
        if problem.is_none() && report.entries_checked != head.count {
            problem = Some(Problem {
                seq: None,
                what: format!(
                    "the log holds {} entries but the head says {}",
                    report.entries_checked, head.count
                ),
            });
        }
        if problem.is_none() && checker.prev_hash != head.hash {
            problem = Some(match head.count {
                0 => Problem {
                    seq: None,
                    what: "the head of an empty ledger is not zero".into(),
                },
                n => Problem {
                    seq: Some(Seq(n)),
                    what: "its hash is not the recorded head: the entry or the head was altered"
                        .into(),
                },
            });
        }
        if problem.is_none() {
            let mut stored = IndexDigest::default();
            let undecodable =
                index::scan_facts(self.storage(), &mut |fact| stored.add(&checker.key, &fact))?;
            if let Some(what) = undecodable {
                problem = Some(Problem { seq: None, what });
            } else if stored != checker.digest {
                drop(checker);
                problem = Some(self.diagnose_index()?);
            }
        }
        report.problem = problem.or_else(|| tree.finish(head.count));
        Ok(report)
    }

    /// Collects the facts the log implies and the facts the index states, and names the first
    /// that differs.
    fn diagnose_index(&self) -> Result<Problem, StoreError> {
        let expected = expected_facts(self.storage())?;
        let mut stored: BTreeMap<Fact<'static>, u32> = BTreeMap::new();
        if let Some(what) = index::scan_facts(self.storage(), &mut |fact| {
            *stored.entry(fact.into_owned()).or_default() += 1;
        })? {
            return Ok(Problem { seq: None, what });
        }
        let mismatch = expected
            .iter()
            .find(|(fact, count)| stored.get(*fact).is_none_or(|n| n < *count))
            .map(|(fact, _)| format!("the index lacks {fact}"))
            .or_else(|| {
                stored
                    .iter()
                    .find(|(fact, count)| expected.get(*fact).is_none_or(|n| n < *count))
                    .map(|(fact, count)| match expected.get(fact) {
                        None => format!("the index holds {fact}, which the log does not imply"),
                        Some(_) => format!("the index holds {fact} {count} times"),
                    })
            })
            .unwrap_or_else(|| "the index digest differs from the log's".into());
        Ok(Problem {
            seq: None,
            what: mismatch,
        })
    }
}

/// The checks of [`Ledger::verify`] that need only the entries, for entries that arrive over
/// time, such as those of a published log a monitor follows: decoding, the chain, and every
/// rule of a claim's history. Its state between runs is [`EntryCheck::save`]d and
/// [`EntryCheck::restore`]d, so that each run checks only the new entries and still applies
/// every rule that reaches back (a key used twice, a revision out of order, a recording time
/// that goes backwards).
pub struct EntryCheck {
    check: LogChecker,
    /// The BLAKE3 hash of the last entry pushed: the head the entries give.
    last_hash: EntryHash,
}

impl std::fmt::Debug for EntryCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryCheck")
            .field("entries", &self.entries())
            .field("claims", &self.claim_count())
            .finish_non_exhaustive()
    }
}

impl Default for EntryCheck {
    fn default() -> EntryCheck {
        EntryCheck::new()
    }
}

/// The first bytes of a saved [`EntryCheck`], with its version.
const ENTRY_CHECK_MAGIC: &[u8; 16] = b"claimledger-ec-3";

impl EntryCheck {
    /// A check of a log from its first entry.
    pub fn new() -> EntryCheck {
        EntryCheck {
            check: LogChecker::new(None, None),
            last_hash: EntryHash::ZERO,
        }
    }

    /// Takes the next entry (entries are numbered from 1, densely, across runs); breaks at the
    /// first problem, which [`EntryCheck::finish`] then returns.
    pub fn push(&mut self, seq: Seq, bytes: &[u8]) -> ControlFlow<()> {
        self.last_hash = EntryHash::of(bytes);
        self.check.push(seq, bytes)
    }

    /// Checks every entry pushed: the first problem, if any.
    pub fn finish(&mut self) -> Option<Problem> {
        let entries = self.check.entries_checked() + self.check.pending();
        self.check.set_head(Some(Head {
            count: entries,
            hash: self.last_hash,
        }));
        let problem = self.check.finish();
        self.check.set_head(None);
        problem
    }

    /// Entries checked so far, across runs.
    pub fn entries(&self) -> u64 {
        self.check.entries_checked()
    }

    /// Claims recorded so far, across runs.
    pub fn claim_count(&self) -> u64 {
        self.check.claim_count()
    }

    /// The state, to [`EntryCheck::restore`] in a later run. Call it after a
    /// [`EntryCheck::finish`] that found nothing.
    ///
    /// # Panics
    ///
    /// If entries are pending or a problem was found.
    pub fn save(&self) -> Vec<u8> {
        assert!(
            self.check.pending() == 0
                && self.check.problem.is_none()
                && self.check.checker.suspect.is_none(),
            "an entry check is saved only once all its entries checked out"
        );
        let checker = &self.check.checker;
        let mut out = ENTRY_CHECK_MAGIC.to_vec();
        // The key of the digests below, which must go on under it.
        out.extend_from_slice(&checker.key.to_bytes());
        out.extend_from_slice(&checker.expected_seq.to_be_bytes());
        out.extend_from_slice(&checker.prev_hash.0);
        out.extend_from_slice(&self.last_hash.0);
        match checker.last_recorded {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(id.as_bytes());
            }
            None => out.push(0),
        }
        let time = checker.last_time.map(|t| t.to_string()).unwrap_or_default();
        out.push(time.len() as u8);
        out.extend_from_slice(time.as_bytes());
        out.extend_from_slice(&checker.digest.sum.to_be_bytes());
        out.extend_from_slice(&checker.digest.count.to_be_bytes());
        // Claims in the order kept: ascending ids.
        out.extend_from_slice(&(checker.claims.0.len() as u64).to_be_bytes());
        for (id, track) in &checker.claims.0 {
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&track.labels);
            out.extend_from_slice(&track.claim);
            out.extend_from_slice(&track.revision.to_be_bytes());
            out.push(track.label_count);
            out.push(status_byte(track.status));
        }
        let mut keys: Vec<_> = checker.keys.iter().collect();
        keys.sort();
        out.extend_from_slice(&(keys.len() as u64).to_be_bytes());
        for key in keys {
            out.extend_from_slice(&key.to_be_bytes());
        }
        // The digests of claims' archived lists, by ascending id, and the snapshots seen, in
        // the order first seen: what an evidence or status revision in a later run is judged by.
        let mut archived: Vec<_> = checker.archived.iter().collect();
        archived.sort();
        out.extend_from_slice(&(archived.len() as u64).to_be_bytes());
        for (id, digest) in archived {
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&digest.to_be_bytes());
        }
        out.extend_from_slice(&(checker.snapshots.len() as u64).to_be_bytes());
        for snapshot in &checker.snapshots {
            out.extend_from_slice(&snapshot.sha256.0);
            out.extend_from_slice(&snapshot.size.to_be_bytes());
            out.extend_from_slice(&snapshot.seq.0.to_be_bytes());
            out.extend_from_slice(snapshot.claim_id.as_bytes());
            out.extend_from_slice(&(snapshot.source as u64).to_be_bytes());
        }
        out
    }

    /// Reads what [`EntryCheck::save`] wrote.
    pub fn restore(bytes: &[u8]) -> Result<EntryCheck, String> {
        let mut input = SavedInput(bytes);
        if input.take(ENTRY_CHECK_MAGIC.len())? != ENTRY_CHECK_MAGIC {
            return Err("not an entry check of this build".into());
        }
        let key = FactKey::from_bytes(input.array()?);
        let expected_seq = input.u64()?;
        let prev_hash = EntryHash(input.array()?);
        let last_hash = EntryHash(input.array()?);
        let last_recorded = match input.take(1)? {
            [0] => None,
            [1] => Some(ClaimId::from_bytes(input.array()?)?),
            _ => return Err("damaged".into()),
        };
        let time_len = usize::from(input.take(1)?[0]);
        let time = std::str::from_utf8(input.take(time_len)?).map_err(|e| e.to_string())?;
        let last_time = (!time.is_empty())
            .then(|| claimledger_core::Timestamp::parse(time))
            .transpose()?;
        let digest = IndexDigest {
            sum: u128::from_be_bytes(input.array()?),
            count: input.u64()?,
        };
        let claim_count = input.u64()?;
        let mut claims = Claims::default();
        for _ in 0..claim_count {
            let id = ClaimId::from_bytes(input.array()?)?;
            if claims.0.last().is_some_and(|(last, _)| *last >= id) {
                return Err("damaged: claims out of order".into());
            }
            let track = ClaimTrack {
                labels: input.array()?,
                claim: input.array()?,
                revision: u32::from_be_bytes(input.array()?),
                label_count: input.take(1)?[0],
                status: status_of_byte(input.take(1)?[0])?,
            };
            claims.push(id, track);
        }
        let key_count = input.u64()?;
        let mut keys = HashSet::default();
        for _ in 0..key_count {
            keys.insert(u128::from_be_bytes(input.array()?));
        }
        let archived_count = input.u64()?;
        let mut archived = HashMap::new();
        for _ in 0..archived_count {
            let id = ClaimId::from_bytes(input.array()?)?;
            archived.insert(id, u128::from_be_bytes(input.array()?));
        }
        let snapshot_count = input.u64()?;
        let mut snapshots = Vec::new();
        let mut snapshot_at = HashMap::new();
        for _ in 0..snapshot_count {
            let sha256 = SnapshotHash(input.array()?);
            let size = input.u64()?;
            let seq = Seq(input.u64()?);
            let claim_id = ClaimId::from_bytes(input.array()?)?;
            let source = usize::try_from(input.u64()?).map_err(|e| e.to_string())?;
            if snapshot_at.insert(sha256, snapshots.len()).is_some() {
                return Err("damaged: a snapshot twice".into());
            }
            snapshots.push(SnapshotRef {
                sha256,
                size,
                seq,
                claim_id,
                source,
            });
        }
        if !input.0.is_empty() {
            return Err("damaged: bytes after the end".into());
        }
        let mut check = LogChecker::new(None, None);
        check.checker.key = key;
        check.checker.expected_seq = expected_seq;
        check.checker.prev_hash = prev_hash;
        check.checker.last_recorded = last_recorded;
        check.checker.last_time = last_time;
        check.checker.digest = digest;
        check.checker.claims = claims;
        check.checker.keys = keys;
        check.checker.archived = archived;
        check.checker.snapshots = snapshots;
        check.checker.snapshot_at = snapshot_at;
        Ok(EntryCheck { check, last_hash })
    }
}

/// A status as one byte in a saved [`EntryCheck`]: its place in [`Status::ALL`].
fn status_byte(status: Status) -> u8 {
    Status::ALL
        .iter()
        .position(|s| *s == status)
        .expect("every status is in Status::ALL") as u8
}

fn status_of_byte(byte: u8) -> Result<Status, String> {
    Status::ALL
        .get(usize::from(byte))
        .copied()
        .ok_or_else(|| "damaged: an unknown status".to_owned())
}

/// Reads a saved [`EntryCheck`] field by field.
struct SavedInput<'a>(&'a [u8]);

impl SavedInput<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8], String> {
        if self.0.len() < len {
            return Err("damaged: it ends early".into());
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?
            .try_into()
            .map_err(|_| "damaged: it ends early".to_owned())
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{
        claim_block_key, decode_claim_block, decode_posting, encode_claim_block, encode_posting,
        posting_key, SUBJECT, TAG,
    };
    use crate::ledger_tests::{context, Crashy};
    use crate::MemoryStorage;
    use claimledger_core::input::parse_command;
    use claimledger_core::{
        ClaimRecorded, ClaimRevised, Key, RevisionKind, Status, Subject, Timestamp,
    };

    type Index = BTreeMap<Vec<u8>, Vec<u8>>;

    fn ledger_with(lines: &[&str]) -> Ledger<MemoryStorage> {
        let mut ledger = Ledger::open(MemoryStorage::new()).expect("open");
        let commands: Vec<_> = lines
            .iter()
            .map(|l| parse_command(l).expect("a command"))
            .collect();
        ledger.submit(&commands, &context()).expect("submit");
        ledger
    }

    /// An entry check saved after some entries and restored goes on as if it had never
    /// stopped: the rules that reach back (a key used twice, a revision out of order, the chain)
    /// hold across runs.
    #[test]
    fn an_entry_check_goes_on_across_runs() {
        let ledger = ledger_with(&[
            r#"{"key":"k1","subject":"s","claimant":"c","statement":"one"}"#,
            r#"{"key":"k2","subject":"s","claimant":"c","statement":"two"}"#,
            r#"{"op":"revise","claim":"k1","reason":"r","kind":"update","statement":"one!"}"#,
        ]);
        let entries: Vec<Vec<u8>> = (1..=3)
            .map(|seq| ledger.entry_bytes(Seq(seq)).expect("entry"))
            .collect();
        let mut check = EntryCheck::new();
        for (i, entry) in entries[..2].iter().enumerate() {
            assert!(check.push(Seq(i as u64 + 1), entry).is_continue());
        }
        assert_eq!(check.finish(), None);
        let saved = check.save();
        assert_eq!(EntryCheck::restore(&saved).expect("restored").save(), saved);

        let mut resumed = EntryCheck::restore(&saved).expect("restored");
        assert!(resumed.push(Seq(3), &entries[2]).is_continue());
        assert_eq!(resumed.finish(), None);
        assert_eq!((resumed.entries(), resumed.claim_count()), (3, 2));

        // Entry 2 again as entry 3: its seq and prev do not follow, whatever came before.
        let mut again = EntryCheck::restore(&saved).expect("restored");
        let _ = again.push(Seq(3), &entries[1]);
        assert!(again.finish().is_some_and(|p| p.seq == Some(Seq(3))));
        // The revision starting from the state after entry 1 alone: entry 2 is missing.
        let mut first = EntryCheck::new();
        let _ = first.push(Seq(1), &entries[0]);
        assert_eq!(first.finish(), None);
        let mut skipped = EntryCheck::restore(&first.save()).expect("restored");
        let _ = skipped.push(Seq(2), &entries[2]);
        assert!(skipped.finish().is_some());
        for bad in [&saved[..saved.len() - 1], b"nonsense", &[]] {
            assert!(EntryCheck::restore(bad).is_err());
        }
    }

    /// Rewrites the posting block `key`'s ids.
    fn edit_posting(index: &mut Index, key: &[u8], edit: impl FnOnce(&mut Vec<ClaimId>)) {
        let mut ids = decode_posting(&index[key]).expect("a posting block");
        edit(&mut ids);
        index.insert(key.to_vec(), encode_posting(&ids));
    }

    #[test]
    fn verify_names_what_is_wrong_with_the_index() {
        let ledger = ledger_with(&[
            r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"x","tags":["t"]}"#,
            r#"{"key":"peskov","subject":"russia/military-deaths","claimant":"Peskov","statement":"y"}"#,
            r#"{"op":"revise","claim":"mz","reason":"r","statement":"z"}"#,
        ]);
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
        let mz = ledger.resolve("mz").expect("resolve").expect("mz");
        let peskov = ledger.resolve("peskov").expect("resolve").expect("peskov");
        let subject = posting_key(SUBJECT, "russia/military-deaths", 0);
        let block = claim_block_key(mz);
        let bucket = index::bucket_key(index::key_bucket("mz"));
        type Edit = Box<dyn Fn(&mut Index, ClaimId)>;
        let cases: Vec<(&str, Edit, String)> = vec![
            (
                "an id left out of a posting list",
                Box::new(|index: &mut Index, mz| {
                    let key = posting_key(SUBJECT, "russia/military-deaths", 0);
                    edit_posting(index, &key, |ids| ids.retain(|id| *id != mz));
                }),
                format!("the index lacks the subject \"russia/military-deaths\" of claim {mz}"),
            ),
            (
                "an id listed twice",
                Box::new(move |index: &mut Index, mz| {
                    edit_posting(index, &subject, |ids| ids.push(mz));
                }),
                format!("the index holds the subject \"russia/military-deaths\" of claim {mz} 2 times"),
            ),
            (
                "a label the log does not give",
                Box::new(|index: &mut Index, mz| {
                    index.insert(posting_key(TAG, "forged", 0), encode_posting(&[mz]));
                }),
                format!("the index holds the tag \"forged\" of claim {mz}, which the log does not imply"),
            ),
            (
                "a revision moved",
                Box::new(move |index: &mut Index, _| {
                    let mut claims = decode_claim_block(&block, &index[&block[..]]).expect("a block");
                    claims[0].seqs[1] = Seq(2);
                    index.insert(block.to_vec(), encode_claim_block(&claims));
                }),
                format!("the index lacks the location of revision 2 of claim {mz} (entry 3)"),
            ),
            (
                "a key dropped from its claim record",
                Box::new(move |index: &mut Index, _| {
                    let mut claims = decode_claim_block(&block, &index[&block[..]]).expect("a block");
                    claims[0].key = None;
                    index.insert(block.to_vec(), encode_claim_block(&claims));
                }),
                format!("the index lacks the key \"mz\" of claim {mz}"),
            ),
            (
                "a claim block cut short",
                Box::new(move |index: &mut Index, _| {
                    index.get_mut(&block[..]).expect("a block").pop();
                }),
                format!(
                    "the claim block starting at claim {mz} does not decode: it ends inside the \
                     revisions of claim {peskov}"
                ),
            ),
            (
                "a key in the wrong bucket",
                Box::new(move |index: &mut Index, _| {
                    let value = index.remove(&bucket[..]).expect("a bucket");
                    let other = index::key_bucket("mz").wrapping_add(1);
                    index.insert(index::bucket_key(other).to_vec(), value);
                }),
                format!(
                    "key bucket {} does not decode: key mz belongs in bucket {}",
                    index::key_bucket("mz").wrapping_add(1),
                    index::key_bucket("mz")
                ),
            ),
            (
                "a key of no known kind",
                Box::new(|index: &mut Index, _| {
                    index.insert(b"zz".to_vec(), Vec::new());
                }),
                "the index key 7a7a does not decode: the index has no such kind of key".into(),
            ),
        ];
        for (what, edit, expected) in cases {
            let mut storage = ledger.storage().clone();
            edit(storage.index_mut(), mz);
            let report = Ledger::open(storage)
                .expect("open")
                .verify(&mut |_| {})
                .expect("verify");
            let problem = report.problem.expect(what);
            assert_eq!(problem.what, expected, "{what}");
        }
    }

    /// A version 7 id whose 74 random bits are `n`.
    fn id(n: u128) -> ClaimId {
        let value = (0x0198_a34d_2a00u128 << 80) | (0x7 << 76) | (0b10 << 62) | n;
        ClaimId::from_bytes(value.to_be_bytes()).expect("a version 7 id")
    }

    fn claim(subject: &str, tags: &[&str]) -> Claim {
        Claim {
            subject: Subject::parse(subject).expect("a subject"),
            claimant: "c".into(),
            statement: "s".into(),
            value: None,
            period: None,
            stated_on: None,
            method: None,
            sources: vec![],
            status: Status::Active,
            tags: tags
                .iter()
                .map(|t| claimledger_core::Tag::parse(t).expect("a tag"))
                .collect(),
        }
    }

    /// A log of claims recorded with the ids `ids`, in that order, then revisions of (claim
    /// number, new subject), committed without an index.
    fn log_with_ids(ids: &[u128], revisions: &[(usize, &str)]) -> Crashy {
        let at = Timestamp::parse("2025-02-25T09:30:00.000000Z").expect("a timestamp");
        let subjects = ["a", "a/b", "b"];
        let mut events: Vec<Event> = ids
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                Event::ClaimRecorded(ClaimRecorded {
                    claim_id: id(n),
                    key: Some(Key::parse(&format!("c{i}")).expect("a key")),
                    author: "ana".into(),
                    note: None,
                    recorded_at: at,
                    claim: claim(subjects[i % 3], &["t"]),
                })
            })
            .collect();
        let mut revision = vec![1; ids.len()];
        for (i, &(target, subject)) in revisions.iter().enumerate() {
            revision[target] += 1;
            events.push(Event::ClaimRevised(ClaimRevised {
                claim_id: id(ids[target]),
                revision: revision[target],
                kind: RevisionKind::Update,
                reason: "r".into(),
                author: "ana".into(),
                note: None,
                recorded_at: at,
                claim: claim(subject, if i % 2 == 0 { &[] } else { &["u"] }),
            }));
        }
        log_of(events)
    }

    /// The log of `events`, in order, committed without an index.
    fn log_of(events: Vec<Event>) -> Crashy {
        let mut prev = EntryHash::ZERO;
        let entries: Vec<Vec<u8>> = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| {
                let bytes = Entry {
                    seq: Seq(i as u64 + 1),
                    prev,
                    event,
                }
                .encode();
                prev = EntryHash::of(&bytes);
                bytes
            })
            .collect();
        let mut storage = Crashy::default();
        let head = Head {
            count: entries.len() as u64,
            hash: prev,
        };
        storage.commit(&entries, head, None).expect("commit");
        storage
    }

    /// What verify keeps per claim stays small: at a million claims, 56 MB in the sorted
    /// vector (and 16 bytes per key in a set).
    #[test]
    fn per_claim_state_is_56_bytes() {
        assert_eq!(std::mem::size_of::<(ClaimId, ClaimTrack)>(), 56);
    }

    /// Verify's judgement of a claim recorded, then revised as `kind` to `revised`, must be
    /// `expected` (a fragment of the problem, or none), and so must that of an entry check saved
    /// after the record and restored: what the monitor of a published log does across runs.
    fn judged(recorded: &Claim, kind: RevisionKind, revised: &Claim, expected: Option<&str>) {
        let at = Timestamp::parse("2025-02-25T09:30:00.000000Z").expect("a timestamp");
        let events = vec![
            Event::ClaimRecorded(ClaimRecorded {
                claim_id: id(5),
                key: None,
                author: "ana".into(),
                note: None,
                recorded_at: at,
                claim: recorded.clone(),
            }),
            Event::ClaimRevised(ClaimRevised {
                claim_id: id(5),
                revision: 2,
                kind,
                reason: "r".into(),
                author: "ana".into(),
                note: None,
                recorded_at: at,
                claim: revised.clone(),
            }),
        ];
        let ledger = Ledger::open(log_of(events)).expect("open");
        let problem = ledger.verify(&mut |_| {}).expect("verify").problem;
        let mut first = EntryCheck::new();
        let _ = first.push(Seq(1), &ledger.entry_bytes(Seq(1)).expect("entry 1"));
        assert_eq!(first.finish(), None);
        let mut resumed = EntryCheck::restore(&first.save()).expect("restored");
        let _ = resumed.push(Seq(2), &ledger.entry_bytes(Seq(2)).expect("entry 2"));
        let resumed = resumed.finish();
        for problem in [problem, resumed] {
            match expected {
                None => assert_eq!(problem, None, "{kind:?} {revised:?}"),
                Some(expected) => {
                    let problem = problem.unwrap_or_else(|| panic!("{kind:?} {revised:?} passed"));
                    assert_eq!(problem.seq, Some(Seq(2)));
                    assert!(problem.what.contains(expected), "{problem}");
                }
            }
        }
    }

    /// Section 1's revision rules hold in stored entries: a revision changes the claim, and one
    /// of kind `status` changes only its status. `decide` refuses such revisions at input; a log
    /// written another way is caught by verify, naming the entry.
    #[test]
    fn verify_refuses_revisions_that_change_nothing_or_more_than_the_status() {
        let recorded = claim("a", &["t"]);
        let with = |edit: &dyn Fn(&mut Claim)| {
            let mut claim = recorded.clone();
            edit(&mut claim);
            claim
        };
        let disputed = with(&|c| c.status = Status::Disputed);
        let reworded = with(&|c| c.statement = "t".into());
        let cases: Vec<(RevisionKind, Claim, Option<&str>)> = vec![
            (RevisionKind::Update, recorded.clone(), Some("revision 2 of claim 0198a34d-2a00-7000-8000-000000000005 changes nothing: its claim is the same as revision 1's")),
            (RevisionKind::Correction, recorded.clone(), Some("changes nothing")),
            (RevisionKind::Status, recorded.clone(), Some("changes nothing")),
            (RevisionKind::Status, with(&|c| {
                c.status = Status::Disputed;
                c.statement = "t".into();
            }), Some("revision 2 of claim 0198a34d-2a00-7000-8000-000000000005 is of kind status but changes more than the status")),
            (RevisionKind::Status, reworded.clone(), Some("is of kind status but changes more")),
            (RevisionKind::Status, with(&|c| c.tags.clear()), Some("is of kind status but changes more")),
            (RevisionKind::Status, disputed.clone(), None),
            (RevisionKind::Update, disputed, None),
            (RevisionKind::Update, reworded, None),
            (RevisionKind::Correction, with(&|c| c.tags.clear()), None),
        ];
        for (kind, revised, expected) in cases {
            judged(&recorded, kind, &revised, expected);
        }
    }

    /// An `evidence` revision changes the sources' `archived` lists and nothing else; a status
    /// revision leaves them as they were.
    #[test]
    fn verify_holds_evidence_revisions_to_the_snapshots() {
        use claimledger_core::{Archived, Date, SnapshotHash, Source};
        let snapshot = |n: u8| Archived {
            sha256: SnapshotHash([n; 32]),
            size: 10,
            media_type: "application/pdf".into(),
            captured_at: Date::parse("2025-02").expect("a date"),
            url: None,
            status: None,
        };
        let mut recorded = claim("a", &["t"]);
        recorded.sources = vec![
            Source {
                publisher: Some("AFP".into()),
                ..Source::default()
            },
            Source {
                publisher: Some("BBC".into()),
                archived: vec![snapshot(1)],
                ..Source::default()
            },
        ];
        let with = |edit: &dyn Fn(&mut Claim)| {
            let mut claim = recorded.clone();
            edit(&mut claim);
            claim
        };
        let cases: Vec<(RevisionKind, Claim, Option<&str>)> = vec![
            (RevisionKind::Evidence, with(&|c| c.sources[0].archived.push(snapshot(2))), None),
            (RevisionKind::Evidence, with(&|c| c.sources[1].archived.push(snapshot(2))), None),
            (RevisionKind::Evidence, with(&|c| c.sources[1].archived.clear()), None),
            // The same snapshot listed under the other source is a change.
            (RevisionKind::Evidence, with(&|c| {
                c.sources[1].archived.clear();
                c.sources[0].archived.push(snapshot(1));
            }), None),
            (RevisionKind::Evidence, recorded.clone(), Some("changes nothing")),
            (RevisionKind::Evidence, with(&|c| {
                c.sources[0].archived.push(snapshot(2));
                c.sources[0].title = Some("t".into());
            }), Some("revision 2 of claim 0198a34d-2a00-7000-8000-000000000005 is of kind evidence but changes more than the sources' snapshots")),
            (RevisionKind::Evidence, with(&|c| {
                c.sources[0].archived.push(snapshot(2));
                c.status = Status::Disputed;
            }), Some("is of kind evidence but changes more")),
            (RevisionKind::Evidence, with(&|c| c.statement = "x".into()), Some("is of kind evidence but changes more")),
            (RevisionKind::Status, with(&|c| {
                c.status = Status::Disputed;
                c.sources[0].archived.push(snapshot(2));
            }), Some("is of kind status but changes more")),
            (RevisionKind::Update, with(&|c| c.sources[1].archived.push(snapshot(2))), None),
        ];
        for (kind, revised, expected) in cases {
            judged(&recorded, kind, &revised, expected);
        }
    }

    #[test]
    fn verify_requires_ids_to_increase() {
        for (ids, seq, what) in [
            (&[5, 9, 7][..], 3, "is not greater than"),
            (&[5, 9, 9][..], 3, "recorded a second time"),
            (&[5, 5][..], 2, "recorded a second time"),
        ] {
            let ledger = Ledger::open(log_with_ids(ids, &[])).expect("open");
            let problem = ledger
                .verify(&mut |_| {})
                .expect("verify")
                .problem
                .expect("a problem");
            assert_eq!(problem.seq, Some(Seq(seq)), "{ids:?}");
            assert!(problem.what.contains(what), "{problem}");
        }
        let ledger = Ledger::open(log_with_ids(&[5, 7, 9], &[(0, "b")])).expect("open");
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
    }

    /// A log whose ids do not increase from one index batch to the next (no ledger writes
    /// one; an altered log can hold one) is refused when it is indexed, naming the entry of the
    /// claim whose id is out of order, and the index is left as it was.
    #[test]
    fn ids_that_do_not_increase_are_refused_when_indexed() {
        let ids: Vec<u128> = (0..40u128)
            .map(|i| if i == 25 { 3 } else { 10 + i })
            .collect();
        let storage = log_with_ids(&ids, &[(2, "b")]);
        let error = Ledger::open_with(storage, 10, 8).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "storage corrupted at entry 26: claim id {} is not greater than the ids of the \
                 claims recorded before it: claim ids must increase in the order claims are \
                 recorded",
                id(3)
            )
        );
        // In one batch, the index holds every claim in order, and verify names the entry.
        let ledger = Ledger::open(log_with_ids(&ids, &[(2, "b")])).expect("open");
        let problem = ledger
            .verify(&mut |_| {})
            .expect("verify")
            .problem
            .expect("ids do not increase");
        assert_eq!(problem.seq, Some(Seq(26)), "{problem}");
        assert!(problem.what.contains("is not greater than"), "{problem}");
    }
}
