//! The ledger against a model: random records and revisions, submitted in random batches on
//! both commit paths, must leave an index that answers every query as a plain in-memory model
//! does, that `verify` accepts, and that a crash in the middle of applying it does not change.

use crate::ledger::{Filter, IdBits, Ledger, Receipt, SubmitContext};
use crate::memory::MemoryStorage;
use crate::storage::{Head, IndexOp, Storage, StoreError, TreeNode, Visit, VisitIndex};
use claimledger_core::input::{parse_command, Command};
use claimledger_core::{ClaimId, Seq, Status, Subject, Tag, Timestamp};
use proptest::prelude::*;
use serde_json::json;

const SUBJECTS: [&str; 5] = ["a", "a/b", "a/b/c", "ab", "b"];
const CLAIMANTS: [&str; 3] = ["X", "Y", "X Y"];
const TAGS: [&str; 3] = ["t1", "t2", "t3"];

pub(crate) fn context() -> SubmitContext {
    SubmitContext {
        now: Timestamp::parse("2025-02-25T09:30:00.000000Z").expect("a timestamp"),
        default_author: "ana".into(),
        id_bits: IdBits::Derived,
    }
}

fn tags_of(mask: u8) -> Vec<&'static str> {
    TAGS.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, tag)| *tag)
        .collect()
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Record {
        keyed: bool,
        subject: usize,
        claimant: usize,
        tags: u8,
    },
    /// `count` records alike: enough to fill claim and posting blocks.
    Bulk { count: usize, subject: usize },
    Revise {
        target: usize,
        subject: Option<usize>,
        claimant: Option<usize>,
        tags: Option<u8>,
        status: Option<usize>,
    },
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), 0..SUBJECTS.len(), 0..CLAIMANTS.len(), 0u8..8).prop_map(
            |(keyed, subject, claimant, tags)| Op::Record { keyed, subject, claimant, tags }
        ),
        1 => (60usize..300, 0..SUBJECTS.len()).prop_map(|(count, subject)| Op::Bulk { count, subject }),
        5 => (
            any::<usize>(),
            proptest::option::of(0..SUBJECTS.len()),
            proptest::option::of(0..CLAIMANTS.len()),
            proptest::option::of(0u8..8),
            proptest::option::of(0..Status::ALL.len()),
        )
            .prop_map(|(target, subject, claimant, tags, status)| Op::Revise {
                target,
                subject,
                claimant,
                tags,
                status,
            }),
    ]
}

#[derive(Clone, Debug)]
pub(crate) struct ModelClaim {
    id: Option<ClaimId>,
    key: Option<String>,
    subject: usize,
    claimant: usize,
    tags: u8,
    status: usize,
    seqs: Vec<Seq>,
}

/// Claims as plain values, in the order they were recorded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Model {
    claims: Vec<ModelClaim>,
    next_key: usize,
    next_statement: usize,
}

impl Model {
    /// The commands `ops` stand for, applied to the model as they will be to the ledger, and
    /// for each command the claim it makes or revises.
    pub fn commands(&mut self, ops: &[Op]) -> (Vec<Command>, Vec<usize>) {
        let mut commands = Vec::new();
        let mut targets = Vec::new();
        let record = |model: &mut Model, keyed: bool, subject, claimant, tags| {
            let key = keyed.then(|| format!("k{}", model.next_key));
            model.next_key += 1;
            let mut json = json!({
                "subject": SUBJECTS[subject],
                "claimant": CLAIMANTS[claimant],
                "statement": "s",
                "tags": tags_of(tags),
            });
            if let Some(key) = &key {
                json["key"] = json!(key);
            }
            model.claims.push(ModelClaim {
                id: None,
                key,
                subject,
                claimant,
                tags,
                status: 0,
                seqs: Vec::new(),
            });
            (
                parse_command(&json.to_string()).expect("a valid record"),
                model.claims.len() - 1,
            )
        };
        for op in ops {
            match *op {
                Op::Record {
                    keyed,
                    subject,
                    claimant,
                    tags,
                } => {
                    let (command, target) = record(self, keyed, subject, claimant, tags);
                    commands.push(command);
                    targets.push(target);
                }
                Op::Bulk { count, subject } => {
                    for i in 0..count {
                        let (command, target) = record(self, i % 2 == 0, subject, i % 3, 1);
                        commands.push(command);
                        targets.push(target);
                    }
                }
                Op::Revise {
                    target,
                    subject,
                    claimant,
                    tags,
                    status,
                } => {
                    if self.claims.is_empty() {
                        continue;
                    }
                    let index = target % self.claims.len();
                    let claim = &mut self.claims[index];
                    let name = match (&claim.key, claim.id) {
                        (Some(key), _) => key.clone(),
                        (None, Some(id)) => id.to_string(),
                        // Recorded earlier in this batch, without a key: no way to name it.
                        (None, None) => continue,
                    };
                    let mut json = json!({
                        "op": "revise",
                        "claim": name,
                        "reason": "r",
                        "statement": format!("s{}", self.next_statement),
                    });
                    self.next_statement += 1;
                    if let Some(subject) = subject {
                        json["subject"] = json!(SUBJECTS[subject]);
                        claim.subject = subject;
                    }
                    if let Some(claimant) = claimant {
                        json["claimant"] = json!(CLAIMANTS[claimant]);
                        claim.claimant = claimant;
                    }
                    if let Some(tags) = tags {
                        json["tags"] = json!(tags_of(tags));
                        claim.tags = tags;
                    }
                    if let Some(status) = status {
                        json["status"] = json!(Status::ALL[status].as_str());
                        claim.status = status;
                    }
                    commands.push(parse_command(&json.to_string()).expect("a valid revise"));
                    targets.push(index);
                }
            }
        }
        (commands, targets)
    }

    /// Takes in the ids and sequence numbers a successful submission gave.
    pub fn receive(&mut self, targets: &[usize], receipts: &[Receipt]) {
        assert_eq!(targets.len(), receipts.len());
        for (&target, receipt) in targets.iter().zip(receipts) {
            let claim = &mut self.claims[target];
            assert_eq!(*claim.id.get_or_insert(receipt.claim_id), receipt.claim_id);
            claim.seqs.push(receipt.seq);
            assert_eq!(receipt.revision as usize, claim.seqs.len());
        }
    }

    fn matching(&self, filter: &Filter) -> Vec<ClaimId> {
        let mut ids: Vec<ClaimId> = self
            .claims
            .iter()
            .filter(|c| {
                let subject = SUBJECTS[c.subject];
                filter.subject.as_ref().is_none_or(|s| {
                    subject == s.as_str() || subject.starts_with(&format!("{}/", s.as_str()))
                }) && filter
                    .claimant
                    .as_ref()
                    .is_none_or(|n| n == CLAIMANTS[c.claimant])
                    && filter.status.is_none_or(|s| s == Status::ALL[c.status])
                    && filter
                        .tag
                        .as_ref()
                        .is_none_or(|t| tags_of(c.tags).contains(&t.as_str()))
            })
            .map(|c| c.id.expect("submitted"))
            .collect();
        ids.sort();
        ids
    }
}

fn filters() -> Vec<Filter> {
    let subject = |s: &str| Some(Subject::parse(s).expect("a subject"));
    let mut filters = vec![Filter::default()];
    for s in SUBJECTS.iter().chain(&["a/b/c/d", "zz"]) {
        filters.push(Filter {
            subject: subject(s),
            ..Filter::default()
        });
    }
    for c in CLAIMANTS.iter().chain(&["nobody"]) {
        filters.push(Filter {
            claimant: Some(c.to_string()),
            ..Filter::default()
        });
    }
    for t in TAGS {
        filters.push(Filter {
            tag: Some(Tag::parse(t).expect("a tag")),
            ..Filter::default()
        });
    }
    for s in Status::ALL {
        filters.push(Filter {
            status: Some(s),
            ..Filter::default()
        });
    }
    filters.push(Filter {
        subject: subject("a"),
        claimant: Some("Y".into()),
        tag: Some(Tag::parse("t1").expect("a tag")),
        status: Some(Status::Active),
    });
    filters
}

/// Every query the ledger answers from its index agrees with the model, and verify passes.
pub(crate) fn check<S: Storage + Sync>(ledger: &Ledger<S>, model: &Model) {
    for claim in &model.claims {
        let id = claim.id.expect("submitted");
        if let Some(key) = &claim.key {
            assert_eq!(ledger.resolve(key).expect("resolve"), Some(id), "key {key}");
        }
        assert_eq!(ledger.resolve(&id.to_string()).expect("resolve"), Some(id));
        let state = ledger.claim(id).expect("claim").expect("known");
        assert_eq!(state.revision as usize, claim.seqs.len());
        assert_eq!(state.key.as_ref().map(|k| k.as_str()), claim.key.as_deref());
        assert_eq!(state.claim.subject.as_str(), SUBJECTS[claim.subject]);
        assert_eq!(state.claim.claimant, CLAIMANTS[claim.claimant]);
        let tags: Vec<&str> = state.claim.tags.iter().map(|t| t.as_str()).collect();
        assert_eq!(tags, tags_of(claim.tags));
        assert_eq!(state.claim.status, Status::ALL[claim.status]);
        let history: Vec<Seq> = ledger
            .history(id)
            .expect("history")
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(history, claim.seqs);
    }
    assert_eq!(ledger.resolve("k-none").expect("resolve"), None);
    let unknown = ClaimId::parse("01953a1c-8f00-7000-8000-000000000001").expect("an id");
    assert_eq!(ledger.resolve(&unknown.to_string()).expect("resolve"), None);
    assert!(ledger.history(unknown).expect("history").is_empty());
    for filter in filters() {
        let listed: Vec<ClaimId> = ledger
            .list(&filter)
            .expect("list")
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(listed, model.matching(&filter), "{filter:?}");
    }
    let report = ledger.verify(&mut |_| {}).expect("verify");
    assert_eq!(report.problem, None);
    assert_eq!(report.claim_count as usize, model.claims.len());
}

/// Memory storage that can crash in its `crash.0`-th index application (0 for the next),
/// having applied only the first `crash.1` of the changes; what it then holds is kept in
/// `saved`, for when the ledger that crashed is gone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Crashy {
    pub inner: MemoryStorage,
    pub crash: Option<(usize, usize)>,
    pub saved: std::sync::Arc<std::sync::Mutex<Option<MemoryStorage>>>,
}

impl Storage for Crashy {
    fn head(&self) -> Result<Head, StoreError> {
        self.inner.head()
    }
    fn indexed_through(&self) -> Result<u64, StoreError> {
        self.inner.indexed_through()
    }
    fn scan_entries(&self, first: Seq, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        self.inner.scan_entries(first, visit)
    }
    fn index_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.index_get(key)
    }
    fn index_scan(
        &self,
        prefix: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        self.inner.index_scan(prefix, reverse, visit)
    }
    fn index_scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        reverse: bool,
        visit: &mut VisitIndex<'_>,
    ) -> Result<(), StoreError> {
        self.inner.index_scan_from(prefix, from, reverse, visit)
    }
    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        head: Head,
        index: Option<&[IndexOp]>,
    ) -> Result<(), StoreError> {
        self.inner.commit(entries, head, index)
    }
    fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), StoreError> {
        self.inner.stage(entries)
    }
    fn staged_entry(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.staged_entry(seq)
    }
    fn commit_staged(&mut self, head: Head) -> Result<(), StoreError> {
        self.inner.commit_staged(head)
    }
    fn discard_staged(&mut self) -> Result<(), StoreError> {
        self.inner.discard_staged()
    }
    fn tree_size(&self) -> Result<u64, StoreError> {
        self.inner.tree_size()
    }
    fn tree_node(
        &self,
        node: claimledger_core::merkle::NodeId,
    ) -> Result<Option<claimledger_core::merkle::NodeHash>, StoreError> {
        self.inner.tree_node(node)
    }
    fn apply_tree(&mut self, nodes: &[TreeNode], through: u64) -> Result<(), StoreError> {
        self.inner.apply_tree(nodes, through)
    }
    fn origin(&self) -> Result<String, StoreError> {
        self.inner.origin()
    }
    fn apply_index(&mut self, index: &[IndexOp], through: u64) -> Result<(), StoreError> {
        match &mut self.crash {
            Some((0, applied)) => {
                for op in index.iter().take(*applied) {
                    match op {
                        IndexOp::Put(k, v) => self.inner.index_mut().insert(k.clone(), v.clone()),
                        IndexOp::Delete(k) => self.inner.index_mut().remove(k),
                    };
                }
                self.crash = None;
                *self.saved.lock().expect("a lock") = Some(self.inner.clone());
                Err(StoreError::Backend("crashed".into()))
            }
            Some((calls, _)) => {
                *calls -= 1;
                self.inner.apply_index(index, through)
            }
            None => self.inner.apply_index(index, through),
        }
    }
}

/// The first index key whose value differs between two indexes, described.
pub(crate) fn first_difference(
    a: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    b: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
) -> Option<String> {
    a.keys()
        .chain(b.keys())
        .find(|key| a.get(*key) != b.get(*key))
        .map(|key| crate::index::describe_key(key))
}

/// Submits each batch of ops, checking the ledger against the model after each.
pub(crate) fn run<S: Storage + Sync>(
    ledger: &mut Ledger<S>,
    model: &mut Model,
    batches: &[Vec<Op>],
) {
    for ops in batches {
        let (commands, targets) = model.commands(ops);
        if commands.is_empty() {
            continue;
        }
        let receipts = ledger.submit(&commands, &context()).expect("submit");
        model.receive(&targets, &receipts);
        check(ledger, model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn index_answers_as_the_model_does(
        batches in proptest::collection::vec(proptest::collection::vec(op(), 1..12), 1..6),
        large in 1usize..8,
        index_batch in 1u64..40,
    ) {
        let mut ledger = Ledger::open_with(MemoryStorage::new(), large, index_batch).expect("open");
        let mut model = Model::default();
        run(&mut ledger, &mut model, &batches);
    }

    /// A large commit whose index application stops part-way (as a crash would leave it)
    /// is finished when the ledger is next opened, and the index is byte for byte the one an
    /// uninterrupted commit writes.
    #[test]
    fn interrupted_index_ends_identical(
        history in proptest::collection::vec(proptest::collection::vec(op(), 1..10), 0..4),
        last in proptest::collection::vec(op(), 2..16),
        index_batch in 1u64..60,
        crash_call in 0usize..4,
        crash_ops in 0usize..400,
    ) {
        let large = 1;
        let mut ledger = Ledger::open_with(Crashy::default(), large, index_batch).expect("open");
        let mut model = Model::default();
        run(&mut ledger, &mut model, &history);
        let before = ledger.into_storage();
        let (commands, targets) = model.commands(&last);
        prop_assume!(commands.len() > large);

        let mut clean = Ledger::open_with(before.clone(), large, index_batch).expect("open");
        let receipts = clean.submit(&commands, &context()).expect("submit");

        let mut crashing = before;
        crashing.crash = Some((crash_call, crash_ops));
        let mut ledger = Ledger::open_with(crashing, large, index_batch).expect("open");
        let crashed = ledger.submit(&commands, &context());
        let mut storage = ledger.into_storage();
        let crashed = storage.crash.is_none() && crashed.is_err();
        storage.crash = None;
        let recovered = Ledger::open_with(storage, large, index_batch).expect("reopen");
        prop_assert_eq!(recovered.head(), clean.head());
        prop_assert_eq!(
            first_difference(recovered.storage().inner.index(), clean.storage().inner.index()),
            None
        );
        if crashed {
            prop_assert!(recovered.storage().inner.indexed_through().expect("mark") == recovered.head().count);
        }
        model.receive(&targets, &receipts);
        check(&recovered, &model);
    }
}

#[test]
fn ids_increase_with_a_pinned_clock() {
    for id_bits in [IdBits::Derived, IdBits::Random] {
        let context = SubmitContext {
            id_bits,
            ..context()
        };
        let mut ledger = Ledger::open(MemoryStorage::new()).expect("open");
        ledger.set_large_commit_threshold(5);
        ledger.set_index_batch_entries(3);
        let mut ids = Vec::new();
        for size in [1, 3, 1, 12, 7, 1] {
            let commands: Vec<Command> = (0..size)
                .map(|_| {
                    parse_command(r#"{"subject":"s","claimant":"c","statement":"x"}"#)
                        .expect("a record")
                })
                .collect();
            let receipts = ledger.submit(&commands, &context).expect("submit");
            ids.extend(receipts.iter().map(|r| r.claim_id));
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{id_bits:?}: {ids:?}");
        let millis = ids[0].as_bytes()[..6].to_vec();
        assert!(ids.iter().all(|id| id.as_bytes()[..6] == millis[..]));
        assert!(ids.iter().all(|id| id.uuid().get_version_num() == 7));
        assert!(ids
            .iter()
            .all(|id| id.uuid().get_variant() == uuid::Variant::RFC4122));
        assert_eq!(ledger.verify(&mut |_| {}).expect("verify").problem, None);
    }
}

/// A listing longer than one window of claims read together gives every match, in order, as of
/// now and as of an earlier entry.
#[test]
fn listings_span_several_windows() {
    let claims = 2 * crate::ledger::LIST_WINDOW_CLAIMS + 100;
    let mut ledger = Ledger::open(MemoryStorage::new()).expect("open");
    let records: Vec<Command> = (0..claims)
        .map(|i| {
            let subject = if i % 2 == 0 { "a" } else { "b" };
            parse_command(&format!(
                r#"{{"subject":"{subject}","claimant":"c","statement":"{i}"}}"#
            ))
            .expect("a record")
        })
        .collect();
    let receipts = ledger.submit(&records, &context()).expect("submit");
    let in_a: Vec<ClaimId> = receipts.iter().step_by(2).map(|r| r.claim_id).collect();
    let recorded = ledger.head().count;
    // Every 1,000th claim about `a` moves to `b`.
    let moved: Vec<ClaimId> = in_a.iter().step_by(1000).copied().collect();
    let revisions: Vec<Command> = moved
        .iter()
        .map(|id| {
            parse_command(&format!(
                r#"{{"op":"revise","claim":"{id}","reason":"moved","subject":"b"}}"#
            ))
            .expect("a revise")
        })
        .collect();
    ledger.submit(&revisions, &context()).expect("submit");
    let filter = Filter {
        subject: Some(Subject::parse("a").expect("a subject")),
        ..Filter::default()
    };
    let ids = |states: Vec<claimledger_core::decide::ClaimState>| -> Vec<ClaimId> {
        states.iter().map(|s| s.id).collect()
    };
    let now: Vec<ClaimId> = in_a
        .iter()
        .filter(|id| !moved.contains(id))
        .copied()
        .collect();
    assert_eq!(ids(ledger.list(&filter).expect("list")), now);
    let then = ledger
        .list_as_of(&filter, Some(Seq(recorded)))
        .expect("list as of");
    assert!(then.iter().all(|s| s.revision == 1));
    assert_eq!(ids(then), in_a);
    let all = ledger.list(&Filter::default()).expect("list");
    assert_eq!(all.len(), claims);
    assert_eq!(all.iter().filter(|s| s.revision == 2).count(), moved.len());

    // A batch at a time: the same claims in the same order, never more than a window in one
    // batch, and a listing stopped after its first batch reads no further.
    let mut batches: Vec<usize> = Vec::new();
    let mut streamed = Vec::new();
    ledger
        .list_each_as_of(&filter, None, &mut |batch| {
            batches.push(batch.len());
            streamed.extend(batch.iter().map(|s| s.id));
            std::ops::ControlFlow::Continue(())
        })
        .expect("list each");
    assert_eq!(streamed, now);
    assert!(batches.len() > 1, "{batches:?}");
    assert!(batches
        .iter()
        .all(|&n| n > 0 && n <= crate::ledger::LIST_WINDOW_CLAIMS));
    let mut visits = 0;
    ledger
        .list_each_as_of(&Filter::default(), None, &mut |_| {
            visits += 1;
            std::ops::ControlFlow::Break(())
        })
        .expect("list each");
    assert_eq!(visits, 1);
}
