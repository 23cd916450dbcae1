//! The ledger over any [`Storage`]: decides commands into events, commits them as chained
//! entries, and answers queries from the index without scanning the log.

use crate::index::{self, RevisionRecord};
use crate::index_batch::{IndexBatch, IndexEvent};
use crate::storage::{missing_entry, Head, Storage, StoreError};
use claimledger_core::decide::{
    decide_record, decide_revise, ClaimState, DecideError, EventContext,
};
use claimledger_core::input::Command;
use claimledger_core::{
    Claim, ClaimId, Entry, EntryHash, Event, Key, Seq, Status, Subject, Tag, Timestamp,
};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

/// Commits of more entries than this are written in stages, their index built after the head
/// moves (see [`Storage::commit`]), so that memory stays bounded.
pub const LARGE_COMMIT_ENTRIES: usize = 4096;

/// Entries whose index changes are gathered into one write when bringing the index up to the
/// log. Each touched block is written once per batch, so the larger the batch the fewer the
/// writes (a million-entry import touches each of the 65,536 key buckets about four times);
/// memory is a few hundred bytes per entry, which bounds an import's peak.
pub const INDEX_BATCH_ENTRIES: u64 = 1 << 18;

/// Entries decoded in parallel per step when bringing the index up to the log.
/// Claims whose entries a listing reads together.
pub(crate) const LIST_WINDOW_CLAIMS: usize = 8192;

const DECODE_BATCH_ENTRIES: usize = 4096;

/// How new claim ids get their 74 random bits.
///
/// Whichever source, ids increase in the order claims are recorded: an id that would not be
/// greater than the last claim's is replaced by the last claim's plus one in its 74 random
/// bits (the monotonic method of RFC 9562, section 6.2), so that the index can keep claims in
/// blocks by id.
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
    #[error(
        "the entry would be {0} bytes; an entry holds at most {max} bytes: shorten the \
         claim's text, or give fewer sources",
        max = claimledger_core::ENTRY_LEN_MAX
    )]
    EntryTooLarge(usize),
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

/// What [`Ledger::submit_stream`] committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub entries: u64,
    /// How many of the entries record a claim (the others revise one).
    pub recorded: u64,
}

/// Why [`Ledger::submit_stream`] wrote nothing: a batch of its input was an error, or a
/// command was refused, or the storage failed.
#[derive(Debug)]
pub enum StreamError<E> {
    Input(E),
    Submit(SubmitError),
}

impl<E> From<SubmitError> for StreamError<E> {
    fn from(error: SubmitError) -> StreamError<E> {
        StreamError::Submit(error)
    }
}

/// One command decided: its entry, and the claim's state before and after it.
struct Step {
    entry: Entry,
    bytes: Vec<u8>,
    hash: EntryHash,
    previous: Option<ClaimState>,
    state: ClaimState,
}

/// A submission between commands: where the log will be, and the claims it has recorded or
/// revised so far, which later commands of the same submission may revise.
struct Submission {
    event_context: EventContext,
    context: SubmitContext,
    /// Keys recorded by this submission.
    keys: Keys,
    /// The latest entry of each claim this submission wrote.
    latest: Latest,
    /// Claims' states held in memory: every one of a plain submission; the current batch's
    /// of a staged one.
    states: HashMap<ClaimId, ClaimState>,
    /// The last claim id, read when the first record needs it.
    last_id: Option<Option<ClaimId>>,
    prev: EntryHash,
    seq: Seq,
}

/// The keys a submission recorded, each with the place of its claim in [`Latest::recorded`]:
/// a key's text and a number take 24 bytes in the map, where the key and the claim's id took 40.
#[derive(Debug, Default)]
struct Keys(HashMap<Box<str>, usize>);

impl Keys {
    fn insert(&mut self, key: &Key, recorded: usize) {
        self.0.insert(key.as_str().into(), recorded);
    }

    fn get(&self, key: &Key, latest: &Latest) -> Option<ClaimId> {
        self.0.get(key.as_str()).map(|&i| latest.recorded[i].0)
    }
}

/// The latest entry of each claim a submission wrote. The claims it records come in increasing
/// id order, so they are kept in a sorted vector (24 bytes a claim, where a hash map took about
/// 50 at a million claims); claims recorded before it and revised by it are in a map.
#[derive(Debug, Default)]
struct Latest {
    recorded: Vec<(ClaimId, Seq)>,
    revised: HashMap<ClaimId, Seq>,
}

impl Latest {
    /// Notes that `seq` is claim `id`'s latest entry; `recorded`: the entry records it.
    fn set(&mut self, id: ClaimId, seq: Seq, recorded: bool) {
        if recorded {
            debug_assert!(self.recorded.last().is_none_or(|&(last, _)| last < id));
            self.recorded.push((id, seq));
            return;
        }
        match self.recorded.binary_search_by_key(&id, |&(id, _)| id) {
            Ok(i) => self.recorded[i].1 = seq,
            Err(_) => {
                self.revised.insert(id, seq);
            }
        }
    }

    fn get(&self, id: ClaimId) -> Option<Seq> {
        match self.recorded.binary_search_by_key(&id, |&(id, _)| id) {
            Ok(i) => Some(self.recorded[i].1),
            Err(_) => self.revised.get(&id).copied(),
        }
    }
}

impl Submission {
    fn new<S: Storage>(
        ledger: &Ledger<S>,
        context: &SubmitContext,
    ) -> Result<Submission, StoreError> {
        // Recording times never decrease along the log (a clock set back waits for the last
        // entry's time), so that a time maps to a place in the log by binary search.
        let last_recorded = match ledger.head.count {
            0 => None,
            count => Some(ledger.entry(Seq(count))?.event.recorded_at()),
        };
        Ok(Submission {
            event_context: EventContext {
                now: last_recorded.map_or(context.now, |last| last.max(context.now)),
                default_author: context.default_author.clone(),
            },
            context: context.clone(),
            keys: Keys::default(),
            latest: Latest::default(),
            states: HashMap::new(),
            last_id: None,
            prev: ledger.head.hash,
            seq: ledger.head.next_seq(),
        })
    }

    /// The head once every step so far is written.
    fn head(&self) -> Head {
        Head {
            count: self.seq.0 - 1,
            hash: self.prev,
        }
    }

    /// Decides command number `i` into the next entry.
    fn step<S: Storage>(
        &mut self,
        ledger: &Ledger<S>,
        i: usize,
        command: &Command,
    ) -> Result<Step, SubmitError> {
        let reject = |reason: RejectReason| SubmitError::Rejected { command: i, reason };
        let (event, previous) = match command {
            Command::Record(record) => {
                let key_owner = match &record.key {
                    None => None,
                    Some(key) => match self.keys.get(key, &self.latest) {
                        Some(id) => Some(id),
                        None => ledger.resolve(key.as_str())?,
                    },
                };
                let last = match self.last_id {
                    Some(last) => last,
                    None => index::last_claim_id(&ledger.storage)?,
                };
                let id = new_claim_id(&self.context, self.prev, self.seq, last)?;
                let event = decide_record(record, id, key_owner, &self.event_context)
                    .map_err(|e| reject(e.into()))?;
                // Only once the command is accepted: a refused one leaves the submission as it
                // was, so that the commands after it are decided as if it had not been given
                // ([`Ledger::submit_each`]).
                self.last_id = Some(Some(id));
                (event, None)
            }
            Command::Revise(revise) => {
                let current = self
                    .current(ledger, &revise.claim)?
                    .ok_or_else(|| reject(RejectReason::UnknownClaim(revise.claim.clone())))?;
                let event = decide_revise(revise, &current, &self.event_context)
                    .map_err(|e| reject(e.into()))?;
                (event, Some(current))
            }
        };
        let entry = Entry {
            seq: self.seq,
            prev: self.prev,
            event,
        };
        let bytes = entry.encode();
        if bytes.len() > claimledger_core::ENTRY_LEN_MAX {
            return Err(reject(RejectReason::EntryTooLarge(bytes.len())));
        }
        debug_assert_eq!(
            Entry::decode(&bytes).as_ref(),
            Ok(&entry),
            "an entry decodes to what was encoded"
        );
        let hash = EntryHash::of(&bytes);
        let state = match &previous {
            None => {
                let Event::ClaimRecorded(recorded) = &entry.event else {
                    unreachable!("a record makes a ClaimRecorded")
                };
                if let Some(key) = &recorded.key {
                    self.keys.insert(key, self.latest.recorded.len());
                }
                ClaimState::recorded(recorded)
            }
            Some(state) => {
                let mut state = state.clone();
                state
                    .apply(&entry.event)
                    .expect("decide_revise makes the next revision");
                state
            }
        };
        self.latest.set(state.id, entry.seq, previous.is_none());
        self.prev = hash;
        self.seq = self.seq.next();
        Ok(Step {
            entry,
            bytes,
            hash,
            previous,
            state,
        })
    }

    /// Keeps a claim's state in memory for the commands after.
    fn keep(&mut self, state: ClaimState) {
        self.states.insert(state.id, state);
    }

    /// The current state of the claim `id_or_key` names: as this submission left it, or as
    /// stored.
    fn current<S: Storage>(
        &self,
        ledger: &Ledger<S>,
        id_or_key: &str,
    ) -> Result<Option<ClaimState>, StoreError> {
        let pending_key = Key::parse(id_or_key)
            .ok()
            .and_then(|key| self.keys.get(&key, &self.latest));
        let id = match pending_key {
            Some(id) => id,
            None => match ledger.resolve(id_or_key)? {
                Some(id) => id,
                None => match ClaimId::parse(id_or_key) {
                    // A claim recorded earlier in this same submission.
                    Ok(id) if self.latest.get(id).is_some() => id,
                    _ => return Ok(None),
                },
            },
        };
        if let Some(state) = self.states.get(&id) {
            return Ok(Some(state.clone()));
        }
        let Some(seq) = self.latest.get(id) else {
            return ledger.claim(id);
        };
        // Written by an earlier batch of this submission: read back from what was staged.
        // Deciding a revision needs the claim and its revision; the key and the time of the
        // first revision are not kept, and nothing reads them from this state.
        let bytes = ledger
            .storage
            .staged_entry(seq)?
            .ok_or_else(|| StoreError::corrupt(Some(seq), "a staged entry cannot be read back"))?;
        let entry = decode_at(seq, &bytes)?;
        let at = entry.event.recorded_at();
        Ok(Some(ClaimState {
            id,
            key: None,
            revision: entry.event.revision(),
            claim: entry.event.claim().clone(),
            recorded_at: at,
            revised_at: at,
        }))
    }
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

/// A storage that hands out read-only handles onto the same data, each seeing the log up to
/// the head it was made at: how a server reads while its one writer commits
/// ([`Ledger::view`]).
pub trait ShareRead: Storage + Sized {
    /// A handle that reads what this storage holds, up to its current head; it never writes.
    fn share_read(&self) -> Self;
}

/// A read-only view of a [`Ledger`] as it stood at one head, over a handle that shares its
/// storage ([`ShareRead`]): it reads while the ledger goes on committing, sees nothing
/// committed after it was made, and cannot write (it gives out `&Ledger` only).
///
/// The index is shared, not copied, so what a view reads through it is held to the view's
/// head: a claim's revisions after it are left out, and a claim recorded after it is not
/// found. One thing is not: a listing by subject, claimant or tag finds claims by their
/// labels as they are now, so a claim whose labels a later revision changed may be left out
/// of a listing made from an older view (never shown with labels it did not have then).
#[derive(Debug)]
pub struct LedgerView<S: Storage>(Ledger<S>);

impl<S: Storage> std::ops::Deref for LedgerView<S> {
    type Target = Ledger<S>;

    fn deref(&self) -> &Ledger<S> {
        &self.0
    }
}

impl<S: ShareRead> Ledger<S> {
    /// A read-only view of the ledger as it stands now (see [`LedgerView`]).
    pub fn view(&self) -> LedgerView<S> {
        LedgerView(Ledger {
            storage: self.storage.share_read(),
            head: self.head,
            large_commit_entries: self.large_commit_entries,
            index_batch_entries: self.index_batch_entries,
        })
    }
}

#[derive(Debug)]
pub struct Ledger<S: Storage> {
    storage: S,
    head: Head,
    large_commit_entries: usize,
    index_batch_entries: u64,
}

impl<S: Storage> Ledger<S> {
    /// Opens a ledger on `storage`, first bringing the index up to the log if a crash left it
    /// behind (this reads only the entries it lacks), and building the Merkle tree's tiles of a
    /// ledger being upgraded from store format 3 (see [`crate::tree`]).
    pub fn open(storage: S) -> Result<Ledger<S>, StoreError> {
        Ledger::open_with(storage, LARGE_COMMIT_ENTRIES, INDEX_BATCH_ENTRIES)
    }

    pub(crate) fn open_with(
        storage: S,
        large_commit_entries: usize,
        index_batch_entries: u64,
    ) -> Result<Ledger<S>, StoreError> {
        let head = storage.head()?;
        let mut ledger = Ledger {
            storage,
            head,
            large_commit_entries,
            index_batch_entries: index_batch_entries.max(1),
        };
        ledger.catch_up_index()?;
        crate::tree::catch_up(&mut ledger.storage)?;
        Ok(ledger)
    }

    /// Changes how many commands make a commit large ([`LARGE_COMMIT_ENTRIES`] by default):
    /// so that tests can take the staged path with a handful of entries.
    pub fn set_large_commit_threshold(&mut self, large_commit_entries: usize) {
        self.large_commit_entries = large_commit_entries;
    }

    /// Changes how many entries the index catches up by at a time ([`INDEX_BATCH_ENTRIES`] by
    /// default): so that tests can bring it up in several batches.
    pub fn set_index_batch_entries(&mut self, entries: u64) {
        self.index_batch_entries = entries.max(1);
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
        let bytes = self.storage.entry(seq)?.ok_or_else(|| missing_entry(seq))?;
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
            let known = index::find_claim(&self.storage, id)?.is_some();
            return Ok(known.then_some(id));
        }
        let Ok(key) = Key::parse(id_or_key) else {
            return Ok(None);
        };
        index::find_key(&self.storage, &key)
    }

    /// Where each revision of a claim is, first to last (none for an unknown claim).
    pub fn revisions(&self, id: ClaimId) -> Result<Vec<RevisionRecord>, StoreError> {
        Ok(index::find_claim(&self.storage, id)?
            .map(|slot| RevisionRecord::of_slot(&slot))
            .unwrap_or_default())
    }

    /// A claim as of its latest revision.
    pub fn claim(&self, id: ClaimId) -> Result<Option<ClaimState>, StoreError> {
        self.claim_as_of(id, None)
    }

    /// A claim as the ledger stood after entry `as_of` (its latest revision then), or `None` if
    /// it was recorded later. `None` for `as_of` means now.
    pub fn claim_as_of(
        &self,
        id: ClaimId,
        as_of: Option<Seq>,
    ) -> Result<Option<ClaimState>, StoreError> {
        let Some(slot) = index::find_claim(&self.storage, id)? else {
            return Ok(None);
        };
        Ok(self.states_as_of(&[slot], as_of)?.pop())
    }

    /// The claims of `slots` as of entry `as_of` (now for `None`), in the order of `slots`,
    /// leaving out those recorded later. The entries are read together, in log order, and
    /// decoded in parallel.
    fn states_as_of(
        &self,
        slots: &[index::ClaimSlot],
        as_of: Option<Seq>,
    ) -> Result<Vec<ClaimState>, StoreError> {
        // Each claim's first revision and its latest one as of then.
        let picks: Vec<(&index::ClaimSlot, usize)> = slots
            .iter()
            .filter_map(|slot| {
                // Never past this ledger's head: a [`LedgerView`] shares an index that the
                // writer may have moved on.
                let as_of = as_of
                    .unwrap_or(Seq(self.head.count))
                    .min(Seq(self.head.count));
                let known = slot.seqs.partition_point(|&seq| seq <= as_of);
                (known > 0).then_some((slot, known))
            })
            .collect();
        let mut seqs: Vec<Seq> = picks
            .iter()
            .flat_map(|(slot, known)| [slot.seqs[0], slot.seqs[known - 1]])
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        let bytes = self.storage.entries_at(&seqs)?;
        let entries: Vec<Entry> = seqs
            .par_iter()
            .zip(bytes)
            .map(|(&seq, bytes)| decode_at(seq, &bytes))
            .collect::<Result<_, _>>()?;
        let entry_of = |slot: &index::ClaimSlot, revision: usize| {
            let seq = slot.seqs[revision - 1];
            let entry = &entries[seqs.binary_search(&seq).expect("read above")];
            check_revision(entry, slot.id, revision as u32).map(|()| entry)
        };
        picks
            .iter()
            .map(|&(slot, known)| {
                let recorded = entry_of(slot, 1)?;
                let latest = entry_of(slot, known)?;
                Ok(ClaimState {
                    id: slot.id,
                    key: slot.key.clone(),
                    revision: known as u32,
                    claim: latest.event.claim().clone(),
                    recorded_at: recorded.event.recorded_at(),
                    revised_at: latest.event.recorded_at(),
                })
            })
            .collect()
    }

    /// Every revision of a claim, with its entry.
    pub fn history(&self, id: ClaimId) -> Result<Vec<Revision>, StoreError> {
        self.history_as_of(id, None)
    }

    /// The revisions of a claim made up to entry `as_of` (all of them for `None`).
    pub fn history_as_of(
        &self,
        id: ClaimId,
        as_of: Option<Seq>,
    ) -> Result<Vec<Revision>, StoreError> {
        let as_of = as_of
            .unwrap_or(Seq(self.head.count))
            .min(Seq(self.head.count));
        self.revisions(id)?
            .iter()
            .filter(|record| record.seq <= as_of)
            .map(|record| {
                let bytes = self
                    .storage
                    .entry(record.seq)?
                    .ok_or_else(|| missing_entry(record.seq))?;
                let entry = decode_at(record.seq, &bytes)?;
                check_revision(&entry, id, record.revision)?;
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
        self.list_as_of(filter, None)
    }

    /// The claims that matched `filter` as the ledger stood after entry `as_of`, each as of
    /// then, in the order they were recorded.
    ///
    /// The posting lists hold each claim under its current labels. A claim that matched then but
    /// not now was revised since, so the entries after `as_of` (and only those) are read to
    /// find such claims: the further back, the more is read, but never the log before `as_of`.
    pub fn list_as_of(
        &self,
        filter: &Filter,
        as_of: Option<Seq>,
    ) -> Result<Vec<ClaimState>, StoreError> {
        let mut claims = Vec::new();
        self.list_each_as_of(filter, as_of, &mut |batch| {
            claims.extend(batch);
            ControlFlow::Continue(())
        })?;
        Ok(claims)
    }

    /// [`Ledger::list_as_of`] a batch at a time, in the same order, so that a listing of any
    /// length holds one batch (up to 8,192 claims) in memory: `visit` gets each batch that has
    /// claims, and stops the listing with `Break`.
    pub fn list_each_as_of(
        &self,
        filter: &Filter,
        as_of: Option<Seq>,
        visit: &mut dyn FnMut(Vec<ClaimState>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
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
        let ids = match (candidates, as_of) {
            (Some(mut ids), Some(as_of)) => {
                ids.extend(self.claims_revised_after(as_of)?);
                Some(ids)
            }
            (ids, _) => ids,
        };
        // The candidates' records, a window at a time, scanned in id order from the first
        // candidate's block (in one pass rather than one seek per claim).
        let mut window: Vec<index::ClaimSlot> = Vec::with_capacity(LIST_WINDOW_CLAIMS);
        let mut found = 0;
        let mut failure = None;
        let mut stopped = false;
        // Whether the visitor stopped the listing.
        let mut take_window = |window: &mut Vec<index::ClaimSlot>| {
            let states = self.states_as_of(window, as_of)?;
            window.clear();
            let matching: Vec<ClaimState> = states
                .into_iter()
                .filter(|s| filter.matches(&s.claim))
                .collect();
            Ok::<_, StoreError>(!matching.is_empty() && visit(matching).is_break())
        };
        let first = ids.as_ref().and_then(|ids| ids.first().copied());
        if ids.as_ref().is_none_or(|ids| !ids.is_empty()) {
            index::scan_claims_from(&self.storage, first, &mut |slot| {
                if let Some(ids) = &ids {
                    if !ids.contains(&slot.id) {
                        return ControlFlow::Continue(());
                    }
                    found += 1;
                }
                window.push(slot.clone());
                if window.len() == LIST_WINDOW_CLAIMS {
                    match take_window(&mut window) {
                        Ok(false) => {}
                        Ok(true) => {
                            stopped = true;
                            return ControlFlow::Break(());
                        }
                        Err(error) => {
                            failure = Some(error);
                            return ControlFlow::Break(());
                        }
                    }
                }
                if ids.as_ref().is_some_and(|ids| found == ids.len()) {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })?;
        }
        if let Some(error) = failure {
            return Err(error);
        }
        if stopped || take_window(&mut window)? {
            return Ok(());
        }
        if let Some(ids) = &ids {
            if found < ids.len() && as_of.is_none() {
                let mut missing = None;
                for &id in ids {
                    if index::find_claim(&self.storage, id)?.is_none() {
                        missing = Some(id);
                        break;
                    }
                }
                let reason = match missing {
                    Some(id) => format!("the index names claim {id}, which has no revisions"),
                    None => "the index's labels name claims its claim records do not list".into(),
                };
                return Err(StoreError::corrupt(None, reason));
            }
        }
        Ok(())
    }

    /// Appends entries that are already encoded — a verified bundle being restored — keeping
    /// their bytes exactly, so that the ledger's head becomes the bundle's. Each must continue
    /// the chain; the first that does not is refused and nothing of this call is written.
    pub fn append_verified(&mut self, entries: &[Vec<u8>]) -> Result<Head, StoreError> {
        let mut head = self.head;
        for bytes in entries {
            let entry = decode_at(head.next_seq(), bytes)?;
            if entry.prev != head.hash {
                return Err(StoreError::corrupt(
                    Some(entry.seq),
                    "the entry does not continue the chain",
                ));
            }
            head = Head {
                count: head.count + 1,
                hash: EntryHash::of(bytes),
            };
        }
        if entries.is_empty() {
            return Ok(head);
        }
        self.storage.commit(entries, head, None)?;
        self.head = head;
        self.catch_up_index()?;
        Ok(head)
    }

    /// The claims revised by entries after `as_of`.
    fn claims_revised_after(&self, as_of: Seq) -> Result<BTreeSet<ClaimId>, StoreError> {
        let mut ids = BTreeSet::new();
        let mut failure = None;
        self.storage.scan_entries(
            as_of.next(),
            &mut |seq, bytes| match decode_at(seq, bytes) {
                Ok(entry) => {
                    if let Event::ClaimRevised(revised) = entry.event {
                        ids.insert(revised.claim_id);
                    }
                    ControlFlow::Continue(())
                }
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(())
                }
            },
        )?;
        match failure {
            Some(error) => Err(error),
            None => Ok(ids),
        }
    }

    /// The last entry recorded at or before `at`, by binary search over the log (recording
    /// times never decrease along it). `None` when the first entry is later.
    pub fn seq_at_time(&self, at: Timestamp) -> Result<Option<Seq>, StoreError> {
        let (mut low, mut high) = (1u64, self.head.count);
        let mut found = None;
        while low <= high {
            let middle = low + (high - low) / 2;
            if self.entry(Seq(middle))?.event.recorded_at() <= at {
                found = Some(Seq(middle));
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        Ok(found)
    }

    fn label_ids(&self, prefix: &[u8]) -> Result<BTreeSet<ClaimId>, StoreError> {
        let mut ids = BTreeSet::new();
        index::posting_ids(&self.storage, prefix, &mut |id| {
            ids.insert(id);
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
        self.submit_with(commands, context, &mut || Ok(()))
    }

    /// [`Ledger::submit`], running `before_commit` once every command is accepted and before
    /// anything is written; its error writes nothing. (`claims archive` puts its snapshot in
    /// place there: durable before the entry that refers to it, and only once the entry is
    /// sure to be accepted.)
    pub fn submit_with(
        &mut self,
        commands: &[Command],
        context: &SubmitContext,
        before_commit: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<Vec<Receipt>, SubmitError> {
        let large = commands.len() > self.large_commit_entries;
        let mut submission = Submission::new(self, context)?;
        let mut entries = Vec::with_capacity(commands.len());
        let mut receipts = Vec::with_capacity(commands.len());
        let mut index_batch = IndexBatch::new();
        for (i, command) in commands.iter().enumerate() {
            let step = submission.step(self, i, command)?;
            if !large {
                index_batch.add(
                    IndexEvent::of_event(&step.entry.event, step.entry.seq),
                    step.previous.as_ref().map(|s| &s.claim),
                )?;
            }
            receipts.push(Receipt {
                claim_id: step.state.id,
                key: step.state.key.clone(),
                revision: step.state.revision,
                seq: step.entry.seq,
                hash: step.hash,
            });
            submission.keep(step.state);
            entries.push(step.bytes);
        }
        if entries.is_empty() {
            return Ok(receipts);
        }
        before_commit()?;
        let head = submission.head();
        if large {
            self.storage.commit(&entries, head, None)?;
            self.head = head;
            drop(entries);
            self.catch_up_index()?;
        } else {
            let index_ops = index_batch.finish(&self.storage)?;
            self.storage.commit(&entries, head, Some(&index_ops))?;
            self.head = head;
        }
        Ok(receipts)
    }

    /// Group commit: decides each command on its own, in order, as if the commands before it
    /// that were accepted had been committed (a revise may name a claim an earlier command
    /// records; a refused command changes nothing for those after it), then commits the
    /// accepted ones in one atomic, durable write. Each command gets its own result: its
    /// receipt, or why it was refused. An `Err` is a storage failure, and nothing was written.
    ///
    /// Unlike [`Ledger::submit`] this holds every entry and index change in memory: callers
    /// give it at most a few thousand commands at a time.
    pub fn submit_each(
        &mut self,
        commands: &[Command],
        context: &SubmitContext,
    ) -> Result<Vec<Result<Receipt, RejectReason>>, StoreError> {
        let mut submission = Submission::new(self, context)?;
        let mut entries = Vec::with_capacity(commands.len());
        let mut results = Vec::with_capacity(commands.len());
        let mut index_batch = IndexBatch::new();
        for (i, command) in commands.iter().enumerate() {
            let step = match submission.step(self, i, command) {
                Ok(step) => step,
                Err(SubmitError::Rejected { reason, .. }) => {
                    results.push(Err(reason));
                    continue;
                }
                Err(SubmitError::Store(error)) => return Err(error),
            };
            index_batch.add(
                IndexEvent::of_event(&step.entry.event, step.entry.seq),
                step.previous.as_ref().map(|s| &s.claim),
            )?;
            results.push(Ok(Receipt {
                claim_id: step.state.id,
                key: step.state.key.clone(),
                revision: step.state.revision,
                seq: step.entry.seq,
                hash: step.hash,
            }));
            submission.keep(step.state);
            entries.push(step.bytes);
        }
        if !entries.is_empty() {
            let head = submission.head();
            let index_ops = index_batch.finish(&self.storage)?;
            self.storage.commit(&entries, head, Some(&index_ops))?;
            self.head = head;
        }
        Ok(results)
    }

    /// [`Ledger::submit`] for commands that arrive in batches, as an import reads them, with
    /// memory bounded by the batch rather than the whole: all of them commit, atomically and
    /// durably, or none does. Commands are numbered across batches from 0, in order; the
    /// first batch that is an error stops the submission, which then writes nothing.
    ///
    /// Up to the large-commit threshold this is [`Ledger::submit`]. Past it, each batch is
    /// decided and its entries staged past the head ([`Storage::stage`]); of the claims this
    /// submission touched only their keys and latest entries stay in memory; the head moves
    /// once every batch is staged, and the index follows from the log.
    pub fn submit_stream<E>(
        &mut self,
        batches: &mut dyn Iterator<Item = Result<Vec<Command>, E>>,
        context: &SubmitContext,
    ) -> Result<Submitted, StreamError<E>> {
        let mut first = Vec::new();
        let mut large = false;
        for batch in &mut *batches {
            first.extend(batch.map_err(StreamError::Input)?);
            if first.len() > self.large_commit_entries {
                large = true;
                break;
            }
        }
        if !large {
            let receipts = self.submit(&first, context)?;
            return Ok(Submitted {
                entries: receipts.len() as u64,
                recorded: receipts.iter().filter(|r| r.revision == 1).count() as u64,
            });
        }
        let staged = self.stage_stream(first, batches, context);
        if staged.is_err() {
            // What was staged is removed now, or by the next open if this fails too.
            let _ = self.storage.discard_staged();
        }
        let (submitted, head) = staged?;
        self.storage
            .commit_staged(head)
            .map_err(|e| StreamError::Submit(e.into()))?;
        self.head = head;
        self.catch_up_index()
            .map_err(|e| StreamError::Submit(e.into()))?;
        Ok(submitted)
    }

    fn stage_stream<E>(
        &mut self,
        first: Vec<Command>,
        batches: &mut dyn Iterator<Item = Result<Vec<Command>, E>>,
        context: &SubmitContext,
    ) -> Result<(Submitted, Head), StreamError<E>> {
        let mut submission =
            Submission::new(self, context).map_err(|e| StreamError::Submit(e.into()))?;
        let mut submitted = Submitted {
            entries: 0,
            recorded: 0,
        };
        let mut batch = first;
        loop {
            let mut entries = Vec::with_capacity(batch.len());
            for command in &batch {
                let step = submission.step(self, submitted.entries as usize, command)?;
                submitted.entries += 1;
                submitted.recorded += u64::from(step.previous.is_none());
                submission.keep(step.state);
                entries.push(step.bytes);
            }
            self.storage
                .stage(&entries)
                .map_err(|e| StreamError::Submit(e.into()))?;
            // Claims of earlier batches are read back from what was staged when revised.
            submission.states.clear();
            match batches.next() {
                None => break,
                Some(next) => batch = next.map_err(StreamError::Input)?,
            }
        }
        Ok((submitted, submission.head()))
    }

    /// Brings the index up to the head from the log alone, in batches of at most
    /// `index_batch_entries` entries, each applied as one set of block writes.
    fn catch_up_index(&mut self) -> Result<(), StoreError> {
        let mut through = self.storage.indexed_through()?;
        while through < self.head.count {
            let batch_end = (through + self.index_batch_entries).min(self.head.count);
            let mut batch = IndexBatch::new();
            let mut raw: Vec<(Seq, Vec<u8>)> = Vec::with_capacity(DECODE_BATCH_ENTRIES);
            let mut next = Seq(through + 1);
            let mut failure = None;
            self.storage.scan_entries(next, &mut |seq, bytes| {
                if seq.0 > batch_end {
                    return ControlFlow::Break(());
                }
                next = seq.next();
                raw.push((seq, bytes.to_vec()));
                if raw.len() == DECODE_BATCH_ENTRIES || seq.0 == batch_end {
                    if let Err(error) = self.index_entries(&mut batch, &mut raw) {
                        failure = Some(error);
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            })?;
            if let Some(error) = failure {
                return Err(error);
            }
            if next.0 <= batch_end {
                return Err(StoreError::corrupt(
                    Some(next),
                    "the log ends before the head",
                ));
            }
            let ops = batch.finish(&self.storage)?;
            self.storage.apply_index(&ops, batch_end)?;
            through = batch_end;
        }
        Ok(())
    }

    /// Decodes `raw` (in parallel) and adds its events to `batch`, in order.
    fn index_entries(
        &self,
        batch: &mut IndexBatch,
        raw: &mut Vec<(Seq, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let decoded: Vec<Result<IndexEvent, StoreError>> = raw
            .par_iter()
            .map(|(seq, bytes)| decode_at(*seq, bytes).map(IndexEvent::of_entry))
            .collect();
        raw.clear();
        for event in decoded {
            let event = event?;
            let previous = if event.revision > 1 && !batch.knows(event.id) {
                Some(self.revision_claim(event.id, event.revision - 1)?)
            } else {
                None
            };
            batch.add(event, previous.as_ref())?;
        }
        Ok(())
    }

    fn revision_claim(&self, id: ClaimId, revision: u32) -> Result<Claim, StoreError> {
        let record = self
            .revisions(id)?
            .into_iter()
            .nth(revision as usize - 1)
            .ok_or_else(|| {
                StoreError::corrupt(
                    None,
                    format!("the index lacks revision {revision} of claim {id}"),
                )
            })?;
        let entry = self.entry(record.seq)?;
        check_revision(&entry, id, revision)?;
        Ok(entry.event.claim().clone())
    }
}

/// Checks that `entry` is revision `revision` of claim `id`, as the index says it is.
fn check_revision(entry: &Entry, id: ClaimId, revision: u32) -> Result<(), StoreError> {
    if entry.event.claim_id() != id || entry.event.revision() != revision {
        return Err(StoreError::corrupt(
            Some(entry.seq),
            format!(
                "the index says this is revision {revision} of claim {id}, but the entry disagrees"
            ),
        ));
    }
    Ok(())
}

/// A new claim id for the record at `seq`, greater than `last`, the last claim id.
fn new_claim_id(
    context: &SubmitContext,
    prev: EntryHash,
    seq: Seq,
    last: Option<ClaimId>,
) -> Result<ClaimId, StoreError> {
    let millis = u64::try_from(context.now.get().timestamp_millis()).unwrap_or(0);
    let mut bits = [0u8; 10];
    match context.id_bits {
        IdBits::Random => getrandom_bits(&mut bits),
        IdBits::Derived => {
            let mut hasher = blake3::Hasher::new();
            hasher
                .update(&prev.0)
                .update(&seq.0.to_be_bytes())
                .update(&0u32.to_be_bytes());
            bits.copy_from_slice(&hasher.finalize().as_bytes()[..10]);
        }
    }
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid();
    let id = ClaimId::from_uuid(uuid).expect("the builder makes version 7 UUIDs");
    match last {
        Some(last) if id <= last => id_after(last).ok_or_else(|| {
            StoreError::Backend(format!(
                "no claim id follows {last}: the id space is used up"
            ))
        }),
        _ => Ok(id),
    }
}

/// The version 7 id one above `id`: its 74 random bits (12 of `rand_a`, 62 of `rand_b`) read
/// as one counter and incremented, carrying into the 48-bit timestamp when they are all ones.
/// The version and variant bits stay as they are.
pub fn id_after(id: ClaimId) -> Option<ClaimId> {
    const RAND_B_BITS: u32 = 62;
    const RAND_BITS: u32 = 74;
    let value = u128::from_be_bytes(*id.as_bytes());
    let millis = value >> 80;
    let rand_a = (value >> 64) & 0xfff;
    let rand_b = value & ((1 << RAND_B_BITS) - 1);
    let counter = (rand_a << RAND_B_BITS) | rand_b;
    let (millis, counter) = if counter == (1 << RAND_BITS) - 1 {
        (millis.checked_add(1).filter(|m| *m < 1 << 48)?, 0)
    } else {
        (millis, counter + 1)
    };
    let value = (millis << 80)
        | (0x7 << 76)
        | ((counter >> RAND_B_BITS) << 64)
        | (0b10 << 62)
        | (counter & ((1 << RAND_B_BITS) - 1));
    ClaimId::from_bytes(value.to_be_bytes()).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id_from(millis: u128, counter: u128) -> ClaimId {
        let value = (millis << 80)
            | (0x7 << 76)
            | ((counter >> 62) << 64)
            | (0b10 << 62)
            | (counter & ((1 << 62) - 1));
        ClaimId::from_bytes(value.to_be_bytes()).expect("a version 7 id")
    }

    #[test]
    fn the_id_after_counts_in_the_random_bits() {
        let all_ones = (1u128 << 74) - 1;
        let rand_b_ones = (1u128 << 62) - 1;
        for (millis, counter, expected) in [
            (5, 0, Some((5, 1))),
            (5, 41, Some((5, 42))),
            (5, rand_b_ones, Some((5, rand_b_ones + 1))),
            (5, all_ones - 1, Some((5, all_ones))),
            (5, all_ones, Some((6, 0))),
            ((1 << 48) - 1, all_ones - 1, Some(((1 << 48) - 1, all_ones))),
            ((1 << 48) - 1, all_ones, None),
        ] {
            let id = id_from(millis, counter);
            let next = id_after(id);
            assert_eq!(
                next,
                expected.map(|(m, c)| id_from(m, c)),
                "{millis} {counter}"
            );
            if let Some(next) = next {
                assert!(next > id);
                assert_eq!(next.uuid().get_version_num(), 7);
                assert_eq!(next.uuid().get_variant(), uuid::Variant::RFC4122);
            }
        }
    }

    #[test]
    fn new_ids_pass_the_last() {
        let context = crate::ledger_tests::context();
        let first = new_claim_id(&context, EntryHash::ZERO, Seq(1), None).expect("an id");
        // An id from the same millisecond with its random bits near the top.
        let high = id_from(first.uuid().as_u128() >> 80, (1 << 74) - 2);
        assert_eq!(
            new_claim_id(&context, EntryHash::ZERO, Seq(1), Some(high)).expect("an id"),
            id_after(high).expect("an id")
        );
        // An id from later (a clock that went back): ids go on from it.
        let later = id_from((first.uuid().as_u128() >> 80) + 1000, 7);
        assert_eq!(
            new_claim_id(&context, EntryHash::ZERO, Seq(1), Some(later)).expect("an id"),
            id_from((first.uuid().as_u128() >> 80) + 1000, 8)
        );
        // An earlier id changes nothing.
        let earlier = id_from((first.uuid().as_u128() >> 80) - 1, 7);
        assert_eq!(
            new_claim_id(&context, EntryHash::ZERO, Seq(1), Some(earlier)).expect("an id"),
            first
        );
    }
}
