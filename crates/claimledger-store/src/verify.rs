//! `verify`: recompute everything from the stored bytes and compare.
//!
//! Checks, in one pass over the log: every entry decodes to a valid event; sequence numbers are
//! dense from 1; each entry's `prev` is the BLAKE3 hash of the entry before (the first's is
//! zero); the last entry's hash is the recorded head; each claim is recorded once, with a key
//! no other claim has, and revised with contiguous revision numbers. Then the index: the digest
//! of every stored index pair must equal the digest of the index the log implies; if it does
//! not, a second pass rebuilds that index to name the first pair that differs.

use crate::index::{self, IndexDigest};
use crate::ledger::Ledger;
use crate::storage::{Head, IndexOp, Storage, StoreError};
use claimledger_core::{Claim, ClaimId, Entry, EntryHash, Event, Key, Seq};
use rayon::prelude::*;
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
}

/// Per-claim state verify keeps: the next revision expected and the index pairs the claim's
/// current revision contributes (so a revision can take them away again).
struct ClaimTrack {
    revision: u32,
    current: IndexDigest,
}

struct Checker {
    head: Head,
    expected_seq: u64,
    prev_hash: EntryHash,
    /// A link that did not hold: (the entry before, the entry after, the after's hash). Which
    /// of the two was altered shows at the next link.
    suspect: Option<(Seq, Seq, EntryHash)>,
    claims: HashMap<ClaimId, ClaimTrack>,
    keys: HashSet<Key>,
    digest: IndexDigest,
}

impl Checker {
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
        decoded: Result<Entry, String>,
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
        }
        self.check_event(seq, &entry.event)?;
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
        next: Option<&Result<Entry, String>>,
    ) -> Problem {
        let after_is_intact = match next {
            Some(Ok(next)) => next.prev == after_hash,
            Some(Err(_)) => false,
            None => self.head.hash == after_hash,
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

    fn check_event(&mut self, seq: Seq, event: &Event) -> Result<(), Problem> {
        let id = event.claim_id();
        match event {
            Event::ClaimRecorded(e) => {
                if self.claims.contains_key(&id) {
                    return Err(Self::problem(
                        seq,
                        format!("claim {id} is recorded a second time"),
                    ));
                }
                if let Some(key) = &e.key {
                    if !self.keys.insert(key.clone()) {
                        return Err(Self::problem(
                            seq,
                            format!("key {key} is already used by another claim"),
                        ));
                    }
                    self.digest.add(&index::key_key(key), id.as_bytes());
                }
                let (key, value) = (
                    index::revision_key(id, 1),
                    index::revision_value(seq, e.key.as_ref()),
                );
                self.digest.add(&key, &value);
                let current = current_digest(id, &e.claim);
                self.add_current(&current);
                self.claims.insert(
                    id,
                    ClaimTrack {
                        revision: 1,
                        current,
                    },
                );
            }
            Event::ClaimRevised(e) => {
                let Some(track) = self.claims.get_mut(&id) else {
                    return Err(Self::problem(
                        seq,
                        format!("claim {id} is revised but was never recorded"),
                    ));
                };
                if e.revision != track.revision + 1 {
                    return Err(Self::problem(
                        seq,
                        format!(
                            "claim {id} goes from revision {} to {}",
                            track.revision, e.revision
                        ),
                    ));
                }
                track.revision = e.revision;
                let old = std::mem::replace(&mut track.current, current_digest(id, &e.claim));
                let new = track.current;
                self.digest.add(
                    &index::revision_key(id, e.revision),
                    &index::revision_value(seq, None),
                );
                self.digest.sum = self.digest.sum.wrapping_sub(old.sum).wrapping_add(new.sum);
                self.digest.count = self.digest.count - old.count + new.count;
            }
        }
        Ok(())
    }

    fn add_current(&mut self, current: &IndexDigest) {
        self.digest.sum = self.digest.sum.wrapping_add(current.sum);
        self.digest.count += current.count;
    }
}

fn current_digest(id: ClaimId, claim: &Claim) -> IndexDigest {
    let mut digest = IndexDigest::default();
    for key in index::current_keys(id, claim) {
        digest.add(&key, &[]);
    }
    digest
}

impl<S: Storage + Sync> Ledger<S> {
    /// Recomputes every hash and check from the stored bytes. `progress` is told how many
    /// entries have been checked. Storage errors that are not corruption (I/O) are returned as
    /// errors; everything found wrong in the data is in the report.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        let head = self.storage().head()?;
        let mut report = VerifyReport {
            head,
            entries_checked: 0,
            claim_count: 0,
            problem: None,
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
        let mut checker = Checker {
            head,
            expected_seq: 1,
            prev_hash: EntryHash::ZERO,
            suspect: None,
            claims: HashMap::new(),
            keys: HashSet::new(),
            digest: IndexDigest::default(),
        };
        let mut batch: Vec<(Seq, Vec<u8>)> = Vec::with_capacity(VERIFY_BATCH_ENTRIES);
        let mut problem: Option<Problem> = None;
        let run_batch =
            |batch: &mut Vec<(Seq, Vec<u8>)>, checker: &mut Checker| -> Result<(), Problem> {
                let decoded: Vec<(Seq, Result<Entry, String>, EntryHash)> = batch
                    .par_iter()
                    .map(|(seq, bytes)| {
                        (
                            *seq,
                            Entry::decode(bytes).map_err(|e| e.0),
                            EntryHash::of(bytes),
                        )
                    })
                    .collect();
                batch.clear();
                for (seq, entry, hash) in decoded {
                    checker.check(seq, entry, hash)?;
                }
                Ok(())
            };
        let scanned = self.storage().scan_entries(Seq::FIRST, &mut |seq, bytes| {
            batch.push((seq, bytes.to_vec()));
            if batch.len() == VERIFY_BATCH_ENTRIES {
                if let Err(p) = run_batch(&mut batch, &mut checker) {
                    problem = Some(p);
                    return ControlFlow::Break(());
                }
                progress(checker.expected_seq - 1);
            }
            ControlFlow::Continue(())
        });
        match scanned {
            Ok(()) => {}
            Err(StoreError::Corrupt { seq, reason }) => {
                problem = problem.or(Some(Problem { seq, what: reason }))
            }
            Err(other) => return Err(other),
        }
        if problem.is_none() {
            problem = run_batch(&mut batch, &mut checker).err();
        }
        if problem.is_none() {
            if let Some((before, after, after_hash)) = checker.suspect.take() {
                problem = Some(checker.blame(before, after, after_hash, None));
            }
        }
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
            self.storage().index_scan(&[], false, &mut |key, value| {
                stored.add(key, value);
                ControlFlow::Continue(())
            })?;
            if stored != checker.digest {
                drop(checker);
                problem = Some(self.diagnose_index()?);
            }
        }
        report.problem = problem;
        Ok(report)
    }

    /// Rebuilds the index the log implies and names the first stored pair that differs.
    fn diagnose_index(&self) -> Result<Problem, StoreError> {
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut latest: HashMap<ClaimId, Claim> = HashMap::new();
        self.storage().scan_entries(Seq::FIRST, &mut |seq, bytes| {
            if let Ok(entry) = Entry::decode(bytes) {
                let id = entry.event.claim_id();
                for op in index::ops_for(&entry.event, seq, latest.get(&id)) {
                    match op {
                        IndexOp::Put(key, value) => expected.insert(key, value),
                        IndexOp::Delete(key) => expected.remove(&key),
                    };
                }
                latest.insert(id, entry.event.claim().clone());
            }
            ControlFlow::Continue(())
        })?;
        let mut stored: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        self.storage().index_scan(&[], false, &mut |key, value| {
            stored.insert(key.to_vec(), value.to_vec());
            ControlFlow::Continue(())
        })?;
        let mismatch = expected
            .iter()
            .find(|(k, v)| stored.get(*k) != Some(*v))
            .map(|(k, _)| format!("the index lacks or misstates {}", describe_index_key(k)))
            .or_else(|| {
                stored.keys().find(|k| !expected.contains_key(*k)).map(|k| {
                    format!(
                        "the index holds {}, which the log does not imply",
                        describe_index_key(k)
                    )
                })
            })
            .unwrap_or_else(|| "the index digest differs from the log's".into());
        Ok(Problem {
            seq: None,
            what: mismatch,
        })
    }
}

/// A readable name for an index key, for error messages.
fn describe_index_key(key: &[u8]) -> String {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match key.first() {
        Some(&index::REVISION) if key.len() == 21 => {
            let id = ClaimId::from_bytes(key[1..17].try_into().unwrap_or_default())
                .map(|id| id.to_string())
                .unwrap_or_else(|e| e);
            let revision = u32::from_be_bytes(key[17..21].try_into().unwrap_or_default());
            format!("the location of revision {revision} of claim {id}")
        }
        Some(&index::KEY) => format!("the claim of key {:?}", text(&key[1..])),
        Some(&kind @ (index::SUBJECT | index::CLAIMANT | index::TAG)) => {
            let name = match kind {
                index::SUBJECT => "subject",
                index::CLAIMANT => "claimant",
                _ => "tag",
            };
            let label = key
                .get(1..key.len().saturating_sub(17))
                .map(text)
                .unwrap_or_default();
            let id = index::label_key_id(key)
                .map(|id| id.to_string())
                .unwrap_or_else(|| "?".into());
            format!("{name} {label:?} of claim {id}")
        }
        _ => format!(
            "an unknown index key {}",
            key.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}
