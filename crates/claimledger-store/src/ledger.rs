//! The ledger over any [`Storage`]: decides commands into events, commits them as chained
//! entries, and answers queries from the index without scanning the log.

use crate::index::{self, RevisionRecord};
use crate::storage::{Head, Storage, StoreError};
use claimledger_core::decide::{
    decide_record, decide_revise, ClaimState, DecideError, EventContext,
};
use claimledger_core::input::Command;
use claimledger_core::{
    Claim, ClaimId, Entry, EntryHash, Event, Key, Seq, Status, Subject, Tag, Timestamp,
};
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

/// Commits of more entries than this are written in stages, their index built after the head
/// moves (see [`Storage::commit`]), so that memory stays bounded.
pub const LARGE_COMMIT_ENTRIES: usize = 4096;

/// Index changes applied per write when bringing the index up to the log.
const INDEX_BATCH_ENTRIES: u64 = 8192;

/// How new claim ids get their 74 random bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdBits {
    /// From the operating system's random source.
    Random,
    /// From BLAKE3 of the previous entry's hash and the new sequence number: reproducible
    /// runs, for tests and demos with a pinned clock.
    Derived,
}

/// What the caller supplies to a submission: the store reads no clock and no environment.
#[derive(Clone, Debug)]
pub struct SubmitContext {
    pub now: Timestamp,
    pub default_author: String,
    pub id_bits: IdBits,
}

/// What one accepted command became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub claim_id: ClaimId,
    pub key: Option<Key>,
    pub revision: u32,
    pub seq: Seq,
    pub hash: EntryHash,
}

/// Why a command was refused by the ledger.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("field `claim`: no claim has the id or key {0:?}")]
    UnknownClaim(String),
    #[error("{0}")]
    Decide(#[from] DecideError),
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Command number `command` (0-based, in the order given) was refused; nothing was written.
    #[error("{reason}")]
    Rejected {
        command: usize,
        reason: RejectReason,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which claims [`Ledger::list`] returns; every filter given must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The subject itself and every subject below it (`russia` matches `russia/military-deaths`).
    pub subject: Option<Subject>,
    pub claimant: Option<String>,
    pub status: Option<Status>,
    pub tag: Option<Tag>,
}

impl Filter {
    pub fn matches(&self, claim: &Claim) -> bool {
        self.subject
            .as_ref()
            .is_none_or(|s| subject_within(&claim.subject, s))
            && self.claimant.as_ref().is_none_or(|c| &claim.claimant == c)
            && self.status.is_none_or(|s| claim.status == s)
            && self.tag.as_ref().is_none_or(|t| claim.tags.contains(t))
    }
}

fn subject_within(subject: &Subject, ancestor: &Subject) -> bool {
    let (subject, ancestor) = (subject.as_str(), ancestor.as_str());
    subject == ancestor
        || subject
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// One revision of a claim, as `history` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub seq: Seq,
    pub hash: EntryHash,
    pub entry: Entry,
}

#[derive(Debug)]
pub struct Ledger<S: Storage> {
    storage: S,
    head: Head,
}

impl<S: Storage> Ledger<S> {
    /// Opens a ledger on `storage`, first bringing the index up to the log if a crash left it
    /// behind (this reads only the entries it lacks).
    pub fn open(storage: S) -> Result<Ledger<S>, StoreError> {
        let head = storage.head()?;
        let mut ledger = Ledger { storage, head };
        ledger.catch_up_index()?;
        Ok(ledger)
    }

    pub fn head(&self) -> Head {
        self.head
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Reads and decodes one committed entry, checking it is where it claims to be.
    pub fn entry(&self, seq: Seq) -> Result<Entry, StoreError> {
        let bytes = self.storage.entry(seq)?.ok_or_else(|| {
            StoreError::corrupt(Some(seq), "the index names an entry the log does not hold")
        })?;
        decode_at(seq, &bytes)
    }

    /// Calls `visit` with each entry's sequence number and stored bytes from `first` on.
    pub fn scan_entries(
        &self,
        first: Seq,
        visit: &mut crate::storage::Visit<'_>,
    ) -> Result<(), StoreError> {
        self.storage.scan_entries(first, visit)
    }

    /// The claim an id or key names.
    pub fn resolve(&self, id_or_key: &str) -> Result<Option<ClaimId>, StoreError> {
        if let Ok(id) = ClaimId::parse(id_or_key) {
            let known = self
                .storage
                .index_get(&index::revision_key(id, 1))?
                .is_some();
            return Ok(known.then_some(id));
        }
        let Ok(key) = Key::parse(id_or_key) else {
            return Ok(None);
        };
        match self.storage.index_get(&index::key_key(&key))? {
            None => Ok(None),
            Some(bytes) => {
                let bytes: [u8; 16] = bytes.try_into().map_err(|_| {
                    StoreError::corrupt(
                        None,
                        format!("the index entry for key {key} is not a claim id"),
                    )
                })?;
                let id = ClaimId::from_bytes(bytes).map_err(|e| StoreError::corrupt(None, e))?;
                Ok(Some(id))
            }
        }
    }

    /// Where each revision of a claim is, first to last.
    pub fn revisions(&self, id: ClaimId) -> Result<Vec<RevisionRecord>, StoreError> {
        let mut records = Vec::new();
        let mut bad = None;
        self.storage
            .index_scan(&index::revisions_prefix(id), false, &mut |key, value| {
                match RevisionRecord::decode(key, value) {
                    Some(record) => {
                        records.push(record);
                        ControlFlow::Continue(())
                    }
                    None => {
                        bad = Some(StoreError::corrupt(
                            None,
                            format!("an index entry of claim {id} does not decode"),
                        ));
                        ControlFlow::Break(())
                    }
                }
            })?;
        if let Some(error) = bad {
            return Err(error);
        }
        for (i, record) in records.iter().enumerate() {
            if record.revision as usize != i + 1 {
                return Err(StoreError::corrupt(
                    None,
                    format!("the index lacks revision {} of claim {id}", i + 1),
                ));
            }
        }
        Ok(records)
    }

    /// A claim as of its latest revision.
    pub fn claim(&self, id: ClaimId) -> Result<Option<ClaimState>, StoreError> {
        let revisions = self.revisions(id)?;
        let (Some(first), Some(last)) = (revisions.first(), revisions.last()) else {
            return Ok(None);
        };
        let recorded = self.entry_of(id, first)?;
        let latest = if last.seq == first.seq {
            recorded.clone()
        } else {
            self.entry_of(id, last)?
        };
        Ok(Some(ClaimState {
            id,
            key: first.key.clone(),
            revision: last.revision,
            claim: latest.event.claim().clone(),
            recorded_at: recorded.event.recorded_at(),
            revised_at: latest.event.recorded_at(),
        }))
    }

    fn entry_of(&self, id: ClaimId, record: &RevisionRecord) -> Result<Entry, StoreError> {
        let entry = self.entry(record.seq)?;
        if entry.event.claim_id() != id || entry.event.revision() != record.revision {
            return Err(StoreError::corrupt(
                Some(record.seq),
                format!(
                    "the index says this is revision {} of claim {id}, but the entry disagrees",
                    record.revision
                ),
            ));
        }
        Ok(entry)
    }

    /// Every revision of a claim, with its entry.
    pub fn history(&self, id: ClaimId) -> Result<Vec<Revision>, StoreError> {
        self.revisions(id)?
            .iter()
            .map(|record| {
                let bytes = self.storage.entry(record.seq)?.ok_or_else(|| {
                    StoreError::corrupt(
                        Some(record.seq),
                        "the index names an entry the log does not hold",
                    )
                })?;
                let entry = decode_at(record.seq, &bytes)?;
                if entry.event.claim_id() != id || entry.event.revision() != record.revision {
                    return Err(StoreError::corrupt(
                        Some(record.seq),
                        "the entry is not the revision the index says",
                    ));
                }
                Ok(Revision {
                    seq: record.seq,
                    hash: EntryHash::of(&bytes),
                    entry,
                })
            })
            .collect()
    }

    /// The claims that match `filter`, in the order they were recorded.
    pub fn list(&self, filter: &Filter) -> Result<Vec<ClaimState>, StoreError> {
        let mut candidates: Option<BTreeSet<ClaimId>> = None;
        let mut narrow = |ids: BTreeSet<ClaimId>| {
            candidates = Some(match candidates.take() {
                None => ids,
                Some(current) => current.intersection(&ids).copied().collect(),
            });
        };
        if let Some(subject) = &filter.subject {
            let mut ids = self.label_ids(&index::label_prefix(index::SUBJECT, subject.as_str()))?;
            let mut below = vec![index::SUBJECT];
            below.extend_from_slice(subject.as_str().as_bytes());
            below.push(b'/');
            ids.extend(self.label_ids(&below)?);
            narrow(ids);
        }
        if let Some(claimant) = &filter.claimant {
            narrow(self.label_ids(&index::label_prefix(index::CLAIMANT, claimant))?);
        }
        if let Some(tag) = &filter.tag {
            narrow(self.label_ids(&index::label_prefix(index::TAG, tag.as_str()))?);
        }
        let ids = match candidates {
            Some(ids) => ids,
            None => self.all_claim_ids()?,
        };
        let mut claims = Vec::with_capacity(ids.len());
        for id in ids {
            let state = self.claim(id)?.ok_or_else(|| {
                StoreError::corrupt(
                    None,
                    format!("the index names claim {id}, which has no revisions"),
                )
            })?;
            if filter.matches(&state.claim) {
                claims.push(state);
            }
        }
        Ok(claims)
    }

    fn label_ids(&self, prefix: &[u8]) -> Result<BTreeSet<ClaimId>, StoreError> {
        let mut ids = BTreeSet::new();
        self.storage.index_scan(prefix, false, &mut |key, _| {
            if let Some(id) = index::label_key_id(key) {
                ids.insert(id);
            }
            ControlFlow::Continue(())
        })?;
        Ok(ids)
    }

    fn all_claim_ids(&self) -> Result<BTreeSet<ClaimId>, StoreError> {
        let mut ids = BTreeSet::new();
        self.storage
            .index_scan(&[index::REVISION], false, &mut |key, value| {
                if let Some(record) = RevisionRecord::decode(key, value) {
                    ids.insert(record.id);
                }
                ControlFlow::Continue(())
            })?;
        Ok(ids)
    }

    /// Checks `commands` against the format's ledger rules and this ledger's state, in order
    /// (a revise may name a claim recorded earlier in the same call), then commits them all
    /// as one atomic, durable write — or, if any is refused, writes nothing.
    pub fn submit(
        &mut self,
        commands: &[Command],
        context: &SubmitContext,
    ) -> Result<Vec<Receipt>, SubmitError> {
        let event_context = EventContext {
            now: context.now,
            default_author: context.default_author.clone(),
        };
        let large = commands.len() > LARGE_COMMIT_ENTRIES;
        let mut pending_states: HashMap<ClaimId, ClaimState> = HashMap::new();
        let mut pending_keys: HashMap<Key, ClaimId> = HashMap::new();
        let mut entries = Vec::with_capacity(commands.len());
        let mut receipts = Vec::with_capacity(commands.len());
        let mut index_ops = Vec::new();
        let mut prev = self.head.hash;
        let mut seq = self.head.next_seq();
        for (i, command) in commands.iter().enumerate() {
            let reject = |reason: RejectReason| SubmitError::Rejected { command: i, reason };
            let (event, previous) = match command {
                Command::Record(record) => {
                    let key_owner = match &record.key {
                        None => None,
                        Some(key) => match pending_keys.get(key) {
                            Some(&id) => Some(id),
                            None => self.resolve(key.as_str())?,
                        },
                    };
                    let id = self.new_claim_id(context, prev, seq, &pending_states)?;
                    let event = decide_record(record, id, key_owner, &event_context)
                        .map_err(|e| reject(e.into()))?;
                    (event, None)
                }
                Command::Revise(revise) => {
                    let current =
                        self.pending_or_stored(&revise.claim, &pending_states, &pending_keys)?;
                    let current = current
                        .ok_or_else(|| reject(RejectReason::UnknownClaim(revise.claim.clone())))?;
                    let event = decide_revise(revise, &current, &event_context)
                        .map_err(|e| reject(e.into()))?;
                    (event, Some(current))
                }
            };
            let entry = Entry { seq, prev, event };
            let bytes = entry.encode();
            debug_assert_eq!(
                Entry::decode(&bytes).as_ref(),
                Ok(&entry),
                "an entry decodes to what was encoded"
            );
            let hash = EntryHash::of(&bytes);
            if !large {
                index_ops.extend(index::ops_for(
                    &entry.event,
                    seq,
                    previous.as_ref().map(|s| &s.claim),
                ));
            }
            let state = match previous {
                None => {
                    let Event::ClaimRecorded(recorded) = &entry.event else {
                        unreachable!("a record makes a ClaimRecorded")
                    };
                    if let Some(key) = &recorded.key {
                        pending_keys.insert(key.clone(), recorded.claim_id);
                    }
                    ClaimState::recorded(recorded)
                }
                Some(mut state) => {
                    state
                        .apply(&entry.event)
                        .expect("decide_revise makes the next revision");
                    state
                }
            };
            receipts.push(Receipt {
                claim_id: state.id,
                key: state.key.clone(),
                revision: state.revision,
                seq,
                hash,
            });
            pending_states.insert(state.id, state);
            entries.push(bytes);
            prev = hash;
            seq = seq.next();
        }
        if entries.is_empty() {
            return Ok(receipts);
        }
        let head = Head {
            count: seq.0 - 1,
            hash: prev,
        };
        if large {
            self.storage.commit(&entries, head, None)?;
            self.head = head;
            drop(entries);
            self.catch_up_index()?;
        } else {
            self.storage.commit(&entries, head, Some(&index_ops))?;
            self.head = head;
        }
        Ok(receipts)
    }

    fn pending_or_stored(
        &self,
        id_or_key: &str,
        pending_states: &HashMap<ClaimId, ClaimState>,
        pending_keys: &HashMap<Key, ClaimId>,
    ) -> Result<Option<ClaimState>, StoreError> {
        let pending_key = Key::parse(id_or_key)
            .ok()
            .and_then(|key| pending_keys.get(&key).copied());
        let id = match pending_key {
            Some(id) => id,
            None => match self.resolve(id_or_key)? {
                Some(id) => id,
                None => match ClaimId::parse(id_or_key) {
                    // A claim recorded earlier in this same submission.
                    Ok(id) if pending_states.contains_key(&id) => id,
                    _ => return Ok(None),
                },
            },
        };
        match pending_states.get(&id) {
            Some(state) => Ok(Some(state.clone())),
            None => self.claim(id),
        }
    }

    fn new_claim_id(
        &self,
        context: &SubmitContext,
        prev: EntryHash,
        seq: Seq,
        pending: &HashMap<ClaimId, ClaimState>,
    ) -> Result<ClaimId, StoreError> {
        let millis = u64::try_from(context.now.get().timestamp_millis()).unwrap_or(0);
        for attempt in 0u32.. {
            let mut bits = [0u8; 10];
            match context.id_bits {
                IdBits::Random => getrandom_bits(&mut bits),
                IdBits::Derived => {
                    let mut hasher = blake3::Hasher::new();
                    hasher
                        .update(&prev.0)
                        .update(&seq.0.to_be_bytes())
                        .update(&attempt.to_be_bytes());
                    bits.copy_from_slice(&hasher.finalize().as_bytes()[..10]);
                }
            }
            let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid();
            let id = ClaimId::from_uuid(uuid).expect("the builder makes version 7 UUIDs");
            if !pending.contains_key(&id)
                && self
                    .storage
                    .index_get(&index::revision_key(id, 1))?
                    .is_none()
            {
                return Ok(id);
            }
        }
        unreachable!("an unused id is found")
    }

    /// Brings the index up to the head, in bounded batches, from the log alone.
    fn catch_up_index(&mut self) -> Result<(), StoreError> {
        let mut through = self.storage.indexed_through()?;
        while through < self.head.count {
            let batch_end = (through + INDEX_BATCH_ENTRIES).min(self.head.count);
            let mut entries = Vec::with_capacity((batch_end - through) as usize);
            let mut failure = None;
            self.storage
                .scan_entries(Seq(through + 1), &mut |seq, bytes| {
                    if seq.0 > batch_end {
                        return ControlFlow::Break(());
                    }
                    match decode_at(seq, bytes) {
                        Ok(entry) => entries.push(entry),
                        Err(error) => {
                            failure = Some(error);
                            return ControlFlow::Break(());
                        }
                    }
                    ControlFlow::Continue(())
                })?;
            if let Some(error) = failure {
                return Err(error);
            }
            if entries.len() as u64 != batch_end - through {
                return Err(StoreError::corrupt(
                    Some(Seq(through + entries.len() as u64 + 1)),
                    "the log ends before the head",
                ));
            }
            let mut latest: HashMap<ClaimId, Claim> = HashMap::new();
            let mut ops = Vec::with_capacity(entries.len() * 5);
            for entry in entries {
                let id = entry.event.claim_id();
                let previous = match &entry.event {
                    Event::ClaimRecorded(_) => None,
                    Event::ClaimRevised(e) => match latest.remove(&id) {
                        Some(claim) => Some(claim),
                        None => Some(self.revision_claim(id, e.revision - 1)?),
                    },
                };
                ops.extend(index::ops_for(&entry.event, entry.seq, previous.as_ref()));
                let Entry { event, .. } = entry;
                latest.insert(
                    id,
                    match event {
                        Event::ClaimRecorded(e) => e.claim,
                        Event::ClaimRevised(e) => e.claim,
                    },
                );
            }
            self.storage.apply_index(&ops, batch_end)?;
            through = batch_end;
        }
        Ok(())
    }

    fn revision_claim(&self, id: ClaimId, revision: u32) -> Result<Claim, StoreError> {
        let value = self
            .storage
            .index_get(&index::revision_key(id, revision))?
            .ok_or_else(|| {
                StoreError::corrupt(
                    None,
                    format!("the index lacks revision {revision} of claim {id}"),
                )
            })?;
        let record = RevisionRecord::decode(&index::revision_key(id, revision), &value)
            .ok_or_else(|| {
                StoreError::corrupt(
                    None,
                    format!("the index entry of revision {revision} of claim {id} does not decode"),
                )
            })?;
        Ok(self.entry_of(id, &record)?.event.claim().clone())
    }
}

fn getrandom_bits(bits: &mut [u8; 10]) {
    // uuid's v4 generator is the operating system's random source.
    bits.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..10]);
}

/// Decodes stored bytes found at `seq`, as a storage corruption if they are not that entry.
pub(crate) fn decode_at(seq: Seq, bytes: &[u8]) -> Result<Entry, StoreError> {
    let entry = Entry::decode(bytes).map_err(|e| StoreError::corrupt(Some(seq), e.0))?;
    if entry.seq != seq {
        return Err(StoreError::corrupt(
            Some(seq),
            format!("the entry stored here says it is entry {}", entry.seq),
        ));
    }
    Ok(entry)
}
