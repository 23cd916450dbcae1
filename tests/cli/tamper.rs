//! The tamper battery: a ledger of a few thousand entries is altered in every way an attacker
//! with write access or a failing disk could alter it, one alteration at a time, and each must
//! be caught:
//!
//! - by `verify` from the ledger alone, naming the first bad entry where there is one: bit
//!   flips in every bit position of entry bytes (JSON punctuation, field values, the `prev`
//!   hash text, the `seq` digits), in the entries' length frames, deleted, swapped and
//!   duplicated entries, edited index records (claim blocks, key buckets, posting lists),
//!   altered Merkle tree tiles, altered meta records (head, index and tree marks, format,
//!   origin);
//! - or, for what the ledger alone cannot show (a truncated tail with the head moved back
//!   consistently, a wholly re-chained forgery, a different origin), by `verify --expect-head`
//!   with a head taken before and `verify --checkpoint` with a checkpoint taken before.
//!
//! A few meta alterations are repaired rather than reported (an index or tree mark moved back
//! is what a crash leaves, and opening the ledger rebuilds from the log): for those, the ledger
//! must come out with exactly its original entries and verify.
//!
//! The alterations are made and checked in-process through `claimledger_store::forge`, on one
//! copy of the ledger that each alteration's original bytes are put back into; alterations of
//! meta records run on a fresh copy each. A sample of every class is also run through the real
//! `claims verify` on a fresh copy. The totals print with `--nocapture`.
//!
//! `TAMPER_ENTRIES` sets how many entries get the full set of bit flips (default 3, about 260
//! flips); `just tamper` runs a longer battery on a release build.

use crate::support::{copy_dir, export_entries, text, Ledger as CliLedger, Rng};
use claimledger_core::input::parse_command;
use claimledger_core::{EntryHash, Seq, Timestamp};
use claimledger_store::{forge, Head, IdBits, Ledger, SledStorage, StoreError, SubmitContext};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TAMPER_ENTRIES_DEFAULT: usize = 3;
const CLAIMS: usize = 1_400;
const REVISIONS: usize = 600;
const WAIT: Duration = Duration::from_secs(10);
/// One alteration in this many (and every one of a class that needs a kept head) is also run
/// through the binary.
const CLI_SAMPLE_ONE_IN: usize = 25;

type Writes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// What verification must make of an alteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Caught from the ledger alone, naming this entry.
    Entry(u64),
    /// Caught from the ledger alone (nothing names one entry).
    Caught,
    /// Passes alone; caught by `--expect-head` and `--checkpoint`.
    NeedsHead,
    /// Passes alone and with the head; caught by `--checkpoint` (a different origin).
    NeedsCheckpoint,
    /// Caught, or repaired on open: then the ledger verifies with exactly its original entries.
    CaughtOrRepaired,
}

#[derive(Debug)]
struct Alteration {
    class: &'static str,
    label: String,
    writes: Writes,
    /// It changes meta records a running store keeps in memory: check it on a fresh copy.
    reopen: bool,
    expect: Expect,
}

/// How verification ended.
#[derive(Debug)]
enum Outcome {
    /// Verify (or opening the ledger) found a problem, naming this entry or none.
    Found(Option<u64>, String),
    Passed,
}

#[derive(Default, Debug)]
struct Tally {
    tried: u64,
    caught: u64,
    caught_with_head: u64,
    repaired: u64,
}

fn context() -> SubmitContext {
    SubmitContext {
        now: Timestamp::parse("2025-08-13T12:00:00.000000Z").expect("a timestamp"),
        default_author: "tester".into(),
        id_bits: IdBits::Derived,
    }
}

/// Builds the ledger: claims with keys, tags, values and sources, then revisions.
fn build(dir: &Path) {
    let storage = SledStorage::create_with_origin(dir, WAIT, "example.org/tamper").expect("create");
    let mut ledger = Ledger::open(storage).expect("open");
    let subjects = [
        "war/deaths",
        "war/deaths/officers",
        "war/refugees",
        "economy/gdp",
    ];
    let claimants = ["Mediazona", "Ministry of Defence", "UNHCR \"field\" office"];
    let mut commands = Vec::new();
    for i in 0..CLAIMS {
        let json = format!(
            r#"{{"key":"c{i}","subject":"{}","claimant":"{}","statement":"claim number {i}: \u00e9t\u00e9, “quoted”","value":{{"amount":"{}","unit":"people"}},"period":{{"from":"2022-02-24","to":"2025-0{}-01"}},"sources":[{{"url":"https://example.org/{i}","publisher":"P{i}"}}],"tags":["t{}","u{}"]}}"#,
            subjects[i % subjects.len()],
            claimants[i % claimants.len()].replace('"', "\\\""),
            i * 37 + 1,
            1 + i % 9,
            i % 7,
            i % 3
        );
        commands.push(parse_command(&json).expect("a record"));
    }
    for r in 0..REVISIONS {
        let target = (r * 7919) % CLAIMS;
        let json = format!(
            r#"{{"op":"revise","claim":"c{target}","reason":"update {r}","statement":"revised {r}","subject":"{}","tags":["t{}"]}}"#,
            subjects[(target + r) % subjects.len()],
            r % 5
        );
        commands.push(parse_command(&json).expect("a revise"));
    }
    for batch in commands.chunks(500) {
        ledger.submit(batch, &context()).expect("submit");
    }
}

fn chunk_key(chunk: u64) -> Vec<u8> {
    let mut key = vec![b'L'];
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

fn split_frames(value: &[u8]) -> Vec<Vec<u8>> {
    claimledger_store::forge::decode_chunk(value).expect("an intact chunk")
}

fn frames(entries: &[Vec<u8>]) -> Vec<u8> {
    claimledger_store::forge::encode_chunk(entries)
}

/// The original ledger: its stored pairs and entries, head and checkpoint.
struct Original {
    pairs: BTreeMap<Vec<u8>, Vec<u8>>,
    entries: Vec<Vec<u8>>,
    head: Head,
}

impl Original {
    fn n(&self) -> u64 {
        self.entries.len() as u64
    }

    fn chunk(&self, chunk: u64) -> Vec<Vec<u8>> {
        split_frames(&self.pairs[&chunk_key(chunk)])
    }

    /// A write replacing entry `seq`'s chunk with `entries`.
    fn chunk_write(&self, seq: u64, entries: &[Vec<u8>]) -> Writes {
        vec![(chunk_key((seq - 1) / 128), Some(frames(entries)))]
    }

    fn with_entry(&self, seq: u64, bytes: Vec<u8>) -> Writes {
        let chunk = (seq - 1) / 128;
        let mut entries = self.chunk(chunk);
        entries[((seq - 1) % 128) as usize] = bytes;
        self.chunk_write(seq, &entries)
    }

    fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        self.pairs
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Writes replacing the whole database with `pairs`.
    fn replace_all(&self, pairs: &BTreeMap<Vec<u8>, Vec<u8>>) -> Writes {
        let mut writes: Writes = self
            .pairs
            .keys()
            .filter(|k| !pairs.contains_key(*k))
            .map(|k| (k.clone(), None))
            .collect();
        writes.extend(pairs.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
        writes
    }
}

/// The entry with its `prev` replaced (the text after `{"v":1,"seq":N,"prev":"`).
fn with_prev(entry: &[u8], prev: &EntryHash) -> Vec<u8> {
    let at = find(entry, b"\"prev\":\"").expect("a prev") + 8;
    let mut out = entry.to_vec();
    out[at..at + 64].copy_from_slice(prev.to_hex().as_bytes());
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every stored pair of a ledger made of `entries` (re-chained by the caller) with `origin`.
fn ledger_pairs(entries: &[Vec<u8>], origin: &str) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let storage = SledStorage::create_with_origin(scratch.path(), WAIT, origin).expect("create");
    let mut ledger = Ledger::open(storage).expect("open");
    ledger.append_verified(entries).expect("a consistent chain");
    let storage = ledger.into_storage();
    forge::raw_pairs(&storage)
        .expect("pairs")
        .into_iter()
        .collect()
}

/// Re-chains `entries` from `from` (0-based) on.
fn rechain(entries: &mut [Vec<u8>], from: usize) {
    for i in from.max(1)..entries.len() {
        let prev = EntryHash::of(&entries[i - 1]);
        entries[i] = with_prev(&entries[i], &prev);
    }
}

/// Offsets of one entry's bytes, by what is there.
fn offsets(entry: &[u8], rng: &mut Rng) -> Vec<(&'static str, usize)> {
    let mut found = Vec::new();
    let prev = find(entry, b"\"prev\":\"").expect("prev") + 8;
    let seq = find(entry, b"\"seq\":").expect("seq") + 6;
    found.push(("seq digit", seq));
    found.push(("prev hash text", prev));
    found.push(("prev hash text", prev + 1 + rng.index(63)));
    let punctuation: Vec<usize> = (0..entry.len())
        .filter(|&i| matches!(entry[i], b'{' | b'}' | b'"' | b':' | b',' | b'[' | b']'))
        .collect();
    found.push(("JSON punctuation", 0));
    found.push(("JSON punctuation", entry.len() - 1));
    for _ in 0..2 {
        found.push((
            "JSON punctuation",
            punctuation[rng.index(punctuation.len())],
        ));
    }
    let values: Vec<usize> = (0..entry.len())
        .filter(|&i| entry[i].is_ascii_alphanumeric() && !(prev..prev + 64).contains(&i))
        .collect();
    for _ in 0..3 {
        found.push(("field value", values[rng.index(values.len())]));
    }
    if let Some(at) = find(entry, "é".as_bytes()) {
        found.push(("field value (non-ASCII)", at + 1));
    }
    found
}

fn alterations(original: &Original, flip_entries: usize, rng: &mut Rng) -> Vec<Alteration> {
    let n = original.n();
    let mut out = Vec::new();
    let mut push = |class: &'static str, label: String, writes: Writes, reopen, expect| {
        out.push(Alteration {
            class,
            label,
            writes,
            reopen,
            expect,
        })
    };

    // Bit flips in entry bytes: every bit position at many offsets of chosen entries.
    let mut chosen: Vec<u64> = vec![1, 129, n, 128];
    while chosen.len() < flip_entries {
        chosen.push(1 + rng.index(n as usize) as u64);
    }
    chosen.truncate(flip_entries.max(1));
    for &seq in &chosen {
        let entry = &original.entries[seq as usize - 1];
        for (what, at) in offsets(entry, rng) {
            for bit in 0..8 {
                let mut bytes = entry.clone();
                bytes[at] ^= 1 << bit;
                push(
                    "bit flip in an entry",
                    format!("entry {seq}, {what} at byte {at}, bit {bit}"),
                    original.with_entry(seq, bytes),
                    false,
                    Expect::Entry(seq),
                );
            }
        }
    }
    // Bit flips in a chunk's stored bytes: the length of a compressed block, and bytes inside
    // the compressed data (past the frame header, whose window size field a flip can leave
    // meaning the same).
    for chunk in [0, (n - 1) / 128 / 2, (n - 1) / 128] {
        let value = &original.pairs[&chunk_key(chunk)];
        let mut blocks = Vec::new();
        let mut at = 0;
        while at < value.len() {
            let len = u32::from_be_bytes(value[at..at + 4].try_into().expect("4 bytes")) as usize;
            blocks.push((at, len));
            at += 4 + len;
        }
        let (at, len) = blocks[rng.index(blocks.len())];
        for byte in 0..4 {
            for bit in [0, 3, 7] {
                let mut bytes = value.clone();
                bytes[at + byte] ^= 1 << bit;
                push(
                    "bit flip in a block's length",
                    format!("chunk {chunk}, block at byte {at}, length byte {byte}, bit {bit}"),
                    vec![(chunk_key(chunk), Some(bytes))],
                    false,
                    Expect::Caught,
                );
            }
        }
        for _ in 0..6 {
            let offset = at + 4 + 8 + rng.index(len - 8);
            let bit = rng.index(8);
            let mut bytes = value.clone();
            bytes[offset] ^= 1 << bit;
            push(
                "bit flip in compressed entries",
                format!("chunk {chunk}, byte {offset}, bit {bit}"),
                vec![(chunk_key(chunk), Some(bytes))],
                false,
                Expect::Caught,
            );
        }
    }
    // Deleted, swapped, duplicated entries.
    for seq in [1, 2, 64, 128, 129, 1000, n / 2, n - 1, n] {
        let chunk = (seq - 1) / 128;
        let position = ((seq - 1) % 128) as usize;
        let entries = original.chunk(chunk);
        let mut deleted = entries.clone();
        deleted.remove(position);
        push(
            "deleted entry",
            format!("entry {seq}"),
            original.chunk_write(seq, &deleted),
            false,
            Expect::Entry(seq),
        );
        if seq < n {
            let mut swapped = entries.clone();
            if position + 1 < swapped.len() {
                swapped.swap(position, position + 1);
                push(
                    "swapped entries",
                    format!("entries {seq} and {}", seq + 1),
                    original.chunk_write(seq, &swapped),
                    false,
                    Expect::Entry(seq),
                );
            } else {
                // Across a chunk boundary.
                let mut next = original.chunk(chunk + 1);
                let mut this = entries.clone();
                std::mem::swap(&mut this[position], &mut next[0]);
                let mut writes = original.chunk_write(seq, &this);
                writes.extend(original.chunk_write(seq + 1, &next));
                push(
                    "swapped entries",
                    format!("entries {seq} and {} across chunks", seq + 1),
                    writes,
                    false,
                    Expect::Entry(seq),
                );
            }
            // Duplicated: a second copy follows it, the chunk keeping its length.
            let mut duplicated = entries.clone();
            duplicated.insert(position + 1, entries[position].clone());
            let full = duplicated.len() > 128;
            duplicated.truncate(128.min(entries.len()));
            if position + 1 < duplicated.len() {
                push(
                    "duplicated entry",
                    format!("entry {seq} repeated as entry {}", seq + 1),
                    original.chunk_write(seq, &duplicated),
                    false,
                    Expect::Entry(seq + 1),
                );
            }
            if full {
                // ...or the chunk grows to 129 frames.
                let mut grown = entries.clone();
                grown.insert(position + 1, entries[position].clone());
                push(
                    "duplicated entry",
                    format!("entry {seq} repeated, chunk of 129"),
                    original.chunk_write(seq, &grown),
                    false,
                    Expect::Caught,
                );
            }
        }
        // Replaced by another entry's bytes.
        let other = if seq > 1 { seq - 1 } else { 2 };
        push(
            "entry replaced by another",
            format!("entry {seq} holds entry {other}"),
            original.with_entry(seq, original.entries[other as usize - 1].clone()),
            false,
            Expect::Entry(seq),
        );
    }
    // A whole chunk removed.
    for chunk in [0, 5, (n - 1) / 128] {
        push(
            "deleted chunk",
            format!("chunk {chunk}"),
            vec![(chunk_key(chunk), None)],
            false,
            Expect::Entry(chunk * 128 + 1),
        );
    }

    // The index.
    let index_classes: [(&[u8], &'static str); 5] = [
        (b"Xc", "index: claim block"),
        (b"Xk", "index: key bucket"),
        (b"Xs", "index: subject posting list"),
        (b"Xa", "index: claimant posting list"),
        (b"Xt", "index: tag posting list"),
    ];
    for (prefix, class) in index_classes {
        let keys = original.keys_with_prefix(prefix);
        assert!(!keys.is_empty(), "{class}: no keys");
        for round in 0..6 {
            let key = keys[rng.index(keys.len())].clone();
            let value = original.pairs[&key].clone();
            let mut altered = value.clone();
            let label: String = match (prefix[1], round) {
                // A claim record's revision 1 points at another entry.
                (b'c', 0 | 1) => {
                    let key_len = altered[16] as usize;
                    let at = 16 + 1 + key_len + 4 + 7;
                    altered[at] ^= 1 + round as u8;
                    format!("first claim's revision 1 points elsewhere (+{round})")
                }
                // A key names another claim.
                (b'k', 0 | 1) => {
                    let key_len = altered[0] as usize;
                    let at = 1 + key_len + 15;
                    altered[at] ^= 1 + round as u8;
                    "a key names another claim id".into()
                }
                // A posting list: an id replaced, or one dropped.
                (b's' | b'a' | b't', 0) => {
                    altered[15] ^= 1;
                    "first id replaced".into()
                }
                (b's' | b'a' | b't', 1) if altered.len() > 16 => {
                    altered.drain(..16);
                    "first id dropped".into()
                }
                (b's' | b'a' | b't', 1) => {
                    altered.extend_from_slice(&value[..16]);
                    "id repeated".into()
                }
                (_, 2) => {
                    push(
                        class,
                        format!("{key:?} removed"),
                        vec![(key.clone(), None)],
                        false,
                        Expect::Caught,
                    );
                    continue;
                }
                (_, 3) => {
                    let mut stray = key.clone();
                    stray.push(0x7f);
                    push(
                        class,
                        format!("{key:?} copied to a stray key"),
                        vec![(stray, Some(value.clone()))],
                        false,
                        Expect::Caught,
                    );
                    continue;
                }
                _ => {
                    let at = rng.index(altered.len());
                    let bit = rng.index(8);
                    altered[at] ^= 1 << bit;
                    format!("bit {bit} of byte {at} flipped")
                }
            };
            push(
                class,
                format!("{key:?}: {label}"),
                vec![(key, Some(altered))],
                false,
                Expect::Caught,
            );
        }
    }

    // The Merkle tree's tiles.
    let tree_keys = original.keys_with_prefix(b"T");
    for round in 0..24 {
        let key = tree_keys[rng.index(tree_keys.len())].clone();
        let value = original.pairs[&key].clone();
        let (label, writes) = match round % 4 {
            0 => (format!("{key:?} removed"), vec![(key.clone(), None)]),
            1 => (
                format!("{key:?} lost its last hash"),
                vec![(key.clone(), Some(value[..value.len() - 32].to_vec()))],
            ),
            _ => {
                let at = rng.index(value.len());
                let bit = round % 8;
                let mut altered = value.clone();
                altered[at] ^= 1 << bit;
                (
                    format!("{key:?}: bit {bit} of byte {at} flipped"),
                    vec![(key.clone(), Some(altered))],
                )
            }
        };
        push("Merkle tree tile", label, writes, false, Expect::Caught);
    }

    // Meta records.
    let head = original.head;
    let meta = |key: &str| key.as_bytes().to_vec();
    let mut head_bytes = head.to_bytes().to_vec();
    for (label, value) in [
        ("head count + 1", {
            let mut h = head;
            h.count += 1;
            Some(h.to_bytes().to_vec())
        }),
        ("head count - 1", {
            let mut h = head;
            h.count -= 1;
            Some(h.to_bytes().to_vec())
        }),
        ("head count 0", {
            let mut h = head;
            h.count = 0;
            Some(h.to_bytes().to_vec())
        }),
        ("head hash bit 0", {
            head_bytes[8] ^= 1;
            Some(head_bytes.clone())
        }),
        ("head hash bit 7 of the last byte", {
            head_bytes[8] ^= 1;
            head_bytes[39] ^= 0x80;
            Some(head_bytes.clone())
        }),
        (
            "head record cut short",
            Some(head.to_bytes()[..39].to_vec()),
        ),
        ("head record removed", None),
    ] {
        push(
            "meta: head",
            label.into(),
            vec![(meta("Mhead"), value)],
            true,
            Expect::Caught,
        );
    }
    let mark = |v: u64| Some(v.to_be_bytes().to_vec());
    for (name, record, behind) in [
        // An index behind the log is what a crash leaves: it is rebuilt on open.
        ("index mark", "Mindexed", Expect::CaughtOrRepaired),
        // The tree is written with the entries: a tree mark behind the head is damage.
        ("tree mark", "Mtree", Expect::Caught),
    ] {
        push(
            "meta: marks",
            format!("{name} past the head"),
            vec![(meta(record), mark(n + 1))],
            true,
            Expect::Caught,
        );
        push(
            "meta: marks",
            format!("{name} malformed"),
            vec![(meta(record), Some(vec![1, 2, 3]))],
            true,
            Expect::Caught,
        );
        push(
            "meta: marks",
            format!("{name} one behind"),
            vec![(meta(record), mark(n - 1))],
            true,
            behind,
        );
        push(
            "meta: marks",
            format!("{name} at zero"),
            vec![(meta(record), mark(0))],
            true,
            behind,
        );
    }
    push(
        "meta: marks",
        "tree mark removed".into(),
        vec![(meta("Mtree"), None)],
        true,
        Expect::Caught,
    );
    push(
        "meta: marks",
        "index mark removed".into(),
        vec![(meta("Mindexed"), None)],
        true,
        Expect::Caught,
    );
    push(
        "meta: format",
        "format 5, newer than this build".into(),
        vec![(meta("Mformat"), Some(5u32.to_be_bytes().to_vec()))],
        true,
        Expect::Caught,
    );
    // Read as format 3, the ledger's tree is computed from the log; opened to write, it is
    // rebuilt as tiles: either way the ledger is its entries.
    push(
        "meta: format",
        "format 3, the layout of the BLAKE3 tree".into(),
        vec![(meta("Mformat"), Some(3u32.to_be_bytes().to_vec()))],
        true,
        Expect::CaughtOrRepaired,
    );
    push(
        "meta: format",
        "format 2, an older layout".into(),
        vec![(meta("Mformat"), Some(2u32.to_be_bytes().to_vec()))],
        true,
        Expect::Caught,
    );
    push(
        "meta: format",
        "format removed".into(),
        vec![(meta("Mformat"), None)],
        true,
        Expect::Caught,
    );
    push(
        "meta: origin",
        "origin not UTF-8".into(),
        vec![(meta("Morigin"), Some(vec![0xff, 0xfe]))],
        true,
        Expect::Caught,
    );
    push(
        "meta: origin",
        "origin with a space".into(),
        vec![(meta("Morigin"), Some(b"example.org/a b".to_vec()))],
        true,
        Expect::Caught,
    );
    push(
        "meta: origin",
        "origin removed".into(),
        vec![(meta("Morigin"), None)],
        true,
        Expect::Caught,
    );
    push(
        "meta: origin",
        "another valid origin".into(),
        vec![(meta("Morigin"), Some(b"example.org/other".to_vec()))],
        true,
        Expect::NeedsCheckpoint,
    );

    // Consistent rewrites: what the ledger alone cannot show.
    let origin = String::from_utf8(original.pairs[&meta("Morigin")].clone()).expect("UTF-8");
    for keep in [n - 1, n - 5, n - 128, n / 2, 1] {
        let pairs = ledger_pairs(&original.entries[..keep as usize], &origin);
        push(
            "truncated tail (head moved back consistently)",
            format!("{keep} of {n} entries kept"),
            original.replace_all(&pairs),
            true,
            Expect::NeedsHead,
        );
    }
    for seq in [1, 2, n / 3, n - 1, n] {
        let mut entries = original.entries.clone();
        let i = seq as usize - 1;
        let at = find(&entries[i], b"\"statement\":\"").expect("a statement") + 13;
        entries[i][at] = if entries[i][at] == b'X' { b'Y' } else { b'X' };
        rechain(&mut entries, i + 1);
        let pairs = ledger_pairs(&entries, &origin);
        push(
            "consistent forgery (re-chained, head, index and tree rewritten)",
            format!("entry {seq} rewritten, {} after it re-chained", n - seq),
            original.replace_all(&pairs),
            true,
            Expect::NeedsHead,
        );
    }
    out
}

/// Opens the ledger in `dir` and verifies it against `expect`.
fn verify_dir(dir: &Path, expect: Option<Head>) -> (Outcome, Option<Ledger<SledStorage>>) {
    let opened = SledStorage::open(dir, WAIT).and_then(Ledger::open);
    match opened {
        Err(error) => (store_error(error), None),
        Ok(ledger) => (verify(&ledger, expect), Some(ledger)),
    }
}

fn store_error(error: StoreError) -> Outcome {
    match error {
        StoreError::Corrupt { seq, reason } => Outcome::Found(seq.map(|s| s.0), reason),
        other => Outcome::Found(None, other.to_string()),
    }
}

fn verify(ledger: &Ledger<SledStorage>, expect: Option<Head>) -> Outcome {
    match ledger.verify_against(expect, &mut |_| {}) {
        Err(error) => store_error(error),
        Ok(report) => match report.problem {
            Some(problem) => Outcome::Found(problem.seq.map(|s| s.0), problem.what),
            None => Outcome::Passed,
        },
    }
}

/// Whether the ledger still has the checkpoint's origin, size and root.
fn extends_checkpoint(ledger: &Ledger<SledStorage>, original: &Ledger<SledStorage>) -> bool {
    let before = original.checkpoint().expect("checkpoint");
    ledger.origin().expect("origin") == before.origin
        && ledger.head().count >= before.size
        && ledger.tree_root(before.size).expect("root").0 == before.root
}

fn entries_of(ledger: &Ledger<SledStorage>) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    ledger
        .scan_entries(Seq::FIRST, &mut |_, bytes| {
            entries.push(bytes.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .expect("scan");
    entries
}

/// Judges one outcome; gives what was wrong, if anything, and counts it.
fn judge(
    alteration: &Alteration,
    alone: &Outcome,
    with_head: impl FnOnce() -> Outcome,
    extends: impl FnOnce() -> bool,
    intact: impl FnOnce() -> bool,
    tally: &mut Tally,
) -> Option<String> {
    tally.tried += 1;
    match (alteration.expect, alone) {
        (Expect::Entry(seq), Outcome::Found(Some(named), _)) if *named == seq => {
            tally.caught += 1;
            None
        }
        (Expect::Entry(seq), Outcome::Found(named, what)) => {
            Some(format!("expected entry {seq} named, got {named:?}: {what}"))
        }
        (Expect::Entry(seq), Outcome::Passed) => Some(format!("entry {seq}: not caught")),
        (Expect::Caught | Expect::CaughtOrRepaired, Outcome::Found(..)) => {
            tally.caught += 1;
            None
        }
        (Expect::Caught, Outcome::Passed) => Some("not caught".into()),
        (Expect::CaughtOrRepaired, Outcome::Passed) => {
            if intact() {
                tally.repaired += 1;
                None
            } else {
                Some("passed, but the entries changed".into())
            }
        }
        (Expect::NeedsHead, Outcome::Passed) => {
            let head = with_head();
            let checkpoint = extends();
            match (&head, checkpoint) {
                (Outcome::Found(..), false) => {
                    tally.caught_with_head += 1;
                    None
                }
                _ => Some(format!(
                    "with the head: {head:?}; extends the checkpoint: {checkpoint}"
                )),
            }
        }
        (Expect::NeedsCheckpoint, Outcome::Passed) => {
            if extends() {
                Some("a different origin passed the checkpoint".into())
            } else {
                tally.caught_with_head += 1;
                None
            }
        }
        (Expect::NeedsHead | Expect::NeedsCheckpoint, Outcome::Found(..)) => {
            Some(format!("expected to pass alone, got {alone:?}"))
        }
    }
}

#[test]
fn every_alteration_is_caught() {
    let flip_entries = std::env::var("TAMPER_ENTRIES")
        .ok()
        .map(|v| v.parse().expect("TAMPER_ENTRIES is a number"))
        .unwrap_or(TAMPER_ENTRIES_DEFAULT);
    let seed = std::env::var("TAMPER_SEED")
        .ok()
        .map(|v| v.parse().expect("TAMPER_SEED is a number"))
        .unwrap_or(0x7a3e_5eed_u64);
    let started = Instant::now();
    let root = tempfile::tempdir().expect("a temporary directory");
    let pristine = root.path().join("pristine");
    build(&pristine);

    let reference = Ledger::open(SledStorage::open(&pristine, WAIT).expect("open")).expect("open");
    let pairs: BTreeMap<Vec<u8>, Vec<u8>> = forge::raw_pairs(reference.storage())
        .expect("pairs")
        .into_iter()
        .collect();
    let original = Original {
        entries: entries_of(&reference),
        head: reference.head(),
        pairs,
    };
    assert_eq!(original.n(), (CLAIMS + REVISIONS) as u64);
    drop(reference);
    let copy_for_checkpoint = root.path().join("reference");
    copy_dir(&pristine, &copy_for_checkpoint).expect("the ledger is copied");
    let reference =
        Ledger::open(SledStorage::open(&copy_for_checkpoint, WAIT).expect("open")).expect("open");
    assert!(matches!(verify(&reference, None), Outcome::Passed));
    let built = started.elapsed();

    let mut rng = Rng(seed);
    let alterations = alterations(&original, flip_entries, &mut rng);
    // In-process, on as many threads as there are cores (up to 4), each with its own copy.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let results: Vec<(BTreeMap<&'static str, Tally>, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let group: Vec<&Alteration> = alterations.iter().skip(t).step_by(threads).collect();
                let (pristine, root, original, reference) =
                    (&pristine, root.path(), &original, &reference);
                scope.spawn(move || run_group(t, &group, pristine, root, original, reference))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a battery thread"))
            .collect()
    });
    for (group_tallies, group_failures) in results {
        for (class, tally) in group_tallies {
            let total = tallies.entry(class).or_default();
            total.tried += tally.tried;
            total.caught += tally.caught;
            total.caught_with_head += tally.caught_with_head;
            total.repaired += tally.repaired;
        }
        failures.extend(group_failures);
    }
    let in_process = started.elapsed() - built;

    // A sample through the real binary, on fresh copies.
    let (cli_tried, cli_failures) = cli_sample(&alterations, &pristine, &original);
    failures.extend(cli_failures);

    let mut total = Tally::default();
    println!("tamper battery: {} entries, seed {seed}", original.n());
    for (class, tally) in &tallies {
        println!(
            "  {class}: {} tried, {} caught by verify alone, {} caught with the kept head/checkpoint, {} repaired on open",
            tally.tried, tally.caught, tally.caught_with_head, tally.repaired
        );
        total.tried += tally.tried;
        total.caught += tally.caught;
        total.caught_with_head += tally.caught_with_head;
        total.repaired += tally.repaired;
    }
    println!(
        "  total: {} tried, {} caught alone, {} caught with the kept head/checkpoint, {} repaired, {} missed; {cli_tried} also run through `claims verify`",
        total.tried,
        total.caught,
        total.caught_with_head,
        total.repaired,
        failures.len()
    );
    println!(
        "  time: build {:.1} s, in-process {:.1} s, binary sample {:.1} s",
        built.as_secs_f64(),
        in_process.as_secs_f64(),
        (started.elapsed() - built - in_process).as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} alterations were not caught as they must be:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Checks `group` of the alterations in-process: on one live copy of the ledger that each
/// alteration's original bytes are put back into, or on a fresh copy for those that need one.
fn run_group(
    thread: usize,
    group: &[&Alteration],
    pristine: &Path,
    root: &Path,
    original: &Original,
    reference: &Ledger<SledStorage>,
) -> (BTreeMap<&'static str, Tally>, Vec<String>) {
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let live = root.join(format!("live-{thread}"));
    copy_dir(pristine, &live).expect("the ledger is copied");
    let mut ledger =
        Some(Ledger::open(SledStorage::open(&live, WAIT).expect("open")).expect("open"));
    for (fresh, alteration) in group.iter().enumerate() {
        let tally = tallies.entry(alteration.class).or_default();
        let failure = if alteration.reopen {
            let dir = root.join(format!("fresh-{thread}-{fresh}"));
            copy_dir(pristine, &dir).expect("the ledger is copied");
            {
                let storage = SledStorage::open(&dir, WAIT).expect("open");
                forge::raw_write(&storage, &alteration.writes).expect("alter");
                forge::raw_flush(&storage).expect("flush");
            }
            let (alone, opened) = verify_dir(&dir, None);
            let failure = judge(
                alteration,
                &alone,
                || {
                    opened
                        .as_ref()
                        .map_or(Outcome::Passed, |l| verify(l, Some(original.head)))
                },
                || {
                    opened
                        .as_ref()
                        .is_some_and(|l| extends_checkpoint(l, reference))
                },
                || {
                    opened
                        .as_ref()
                        .is_some_and(|l| entries_of(l) == original.entries)
                },
                tally,
            );
            drop(opened);
            std::fs::remove_dir_all(&dir).expect("remove");
            failure
        } else {
            let storage = ledger.take().expect("the ledger").into_storage();
            let saved: Writes = alteration
                .writes
                .iter()
                .map(|(key, _)| (key.clone(), original.pairs.get(key).cloned()))
                .collect();
            forge::raw_write(&storage, &alteration.writes).expect("alter");
            let opened = Ledger::open(storage).expect("open");
            let alone = verify(&opened, None);
            let failure = judge(
                alteration,
                &alone,
                || verify(&opened, Some(original.head)),
                || extends_checkpoint(&opened, reference),
                || entries_of(&opened) == original.entries,
                tally,
            );
            let storage = opened.into_storage();
            forge::raw_write(&storage, &saved).expect("restore");
            ledger = Some(Ledger::open(storage).expect("open"));
            failure
        };
        if let Some(why) = failure {
            failures.push(format!("{}: {}: {why}", alteration.class, alteration.label));
        }
    }
    // The live copy is back as it was.
    let live_ledger = ledger.take().expect("the ledger");
    assert!(matches!(verify(&live_ledger, None), Outcome::Passed));
    (tallies, failures)
}

/// Runs a sample of the alterations through `claims verify`, `--expect-head` and
/// `--checkpoint` on fresh copies of the ledger.
fn cli_sample(
    alterations: &[Alteration],
    pristine: &Path,
    original: &Original,
) -> (usize, Vec<String>) {
    let cli = CliLedger::uninitialised();
    let dir: PathBuf = cli.dir().to_path_buf();
    copy_dir(pristine, &dir).expect("the ledger is copied");
    let head = cli.head();
    assert_eq!(head.trim_end(), original.head.to_string());
    let checkpoint = cli.write("kept.checkpoint", cli.ok(&["checkpoint"]));
    std::fs::remove_dir_all(&dir).expect("remove");
    let mut failures = Vec::new();
    let mut tried = 0;
    for (i, alteration) in alterations.iter().enumerate() {
        let always = matches!(
            alteration.expect,
            Expect::NeedsHead | Expect::NeedsCheckpoint
        );
        if !always && i % CLI_SAMPLE_ONE_IN != 0 {
            continue;
        }
        tried += 1;
        copy_dir(pristine, &dir).expect("the ledger is copied");
        {
            let storage = SledStorage::open(&dir, WAIT).expect("open");
            forge::raw_write(&storage, &alteration.writes).expect("alter");
            forge::raw_flush(&storage).expect("flush");
        }
        let what = format!("{}: {} (binary)", alteration.class, alteration.label);
        let run = |args: &[&str]| {
            let out = cli.run(args);
            let said = format!(
                "{}{}",
                text(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.code(), said)
        };
        let (code, said) = run(&["verify"]);
        match alteration.expect {
            Expect::Entry(seq) => {
                let named = format!("entry {seq}:");
                if code != Some(1) || !said.contains(&named) {
                    failures.push(format!(
                        "{what}: expected exit 1 naming {named:?}, got {code:?}: {said}"
                    ));
                }
            }
            Expect::Caught => {
                if !matches!(code, Some(1 | 4)) || said.lines().count() != 1 {
                    failures.push(format!(
                        "{what}: expected one line and exit 1 or 4, got {code:?}: {said}"
                    ));
                }
            }
            Expect::CaughtOrRepaired => {
                if code == Some(0)
                    && export_entries(cli.ok(&["export"]).as_bytes()) != export_of(original)
                {
                    failures.push(format!("{what}: verify passed but the entries changed"));
                } else if !matches!(code, Some(0 | 1 | 4)) {
                    failures.push(format!("{what}: exit {code:?}: {said}"));
                }
            }
            Expect::NeedsHead | Expect::NeedsCheckpoint => {
                if code != Some(0) {
                    failures.push(format!(
                        "{what}: expected verify alone to pass, got {code:?}: {said}"
                    ));
                }
                let (code_head, said_head) = run(&["verify", "--expect-head", head.trim_end()]);
                let head_should_catch = alteration.expect == Expect::NeedsHead;
                if head_should_catch != (code_head == Some(1)) {
                    failures.push(format!(
                        "{what}: --expect-head gave {code_head:?}: {said_head}"
                    ));
                }
                let (code_cp, said_cp) = run(&["verify", "--checkpoint", &checkpoint]);
                if code_cp != Some(1) || !said_cp.contains("FAILED") {
                    failures.push(format!("{what}: --checkpoint gave {code_cp:?}: {said_cp}"));
                }
            }
        }
        std::fs::remove_dir_all(&dir).expect("remove");
    }
    (tried, failures)
}

fn export_of(original: &Original) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in &original.entries {
        out.extend_from_slice(entry);
        out.push(b'\n');
    }
    out
}
