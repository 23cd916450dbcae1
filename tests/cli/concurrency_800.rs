//! Issue 5's case: 8 processes adding 100 claims each to one ledger at the same time, with the
//! default wait (no `--wait`): all 800 land, each reports success, none is told the ledger is
//! busy, and verify passes. Meanwhile a reader runs `list --json`, `show` and `verify` over and
//! over: each gets in and sees a consistent ledger that only grows, and that already holds
//! every claim whose `add` had reported success when the reader started.

use crate::support::{text, Ledger, EXIT_BUSY};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WRITERS: usize = 8;
const CLAIMS_PER_WRITER: usize = 100;
/// `--wait`'s default: a command that gives up as busy before this long is wrong.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// What the reader saw.
#[derive(Debug, Default)]
struct Reads {
    rounds: u64,
    busy: u64,
    /// The entry count of the last `verify`; never goes down.
    entries: u64,
}

/// Runs a reading command; gives its output, or `None` if it waited the whole default wait
/// and gave up as busy (allowed for a reader, and counted).
fn read(ledger: &Ledger, args: &[&str], reads: &mut Reads) -> Option<String> {
    let started = Instant::now();
    let out: Output = ledger.std_cmd(args).output().expect("claims runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "claims {args:?}: {stderr}");
    match out.status.code() {
        Some(0) => Some(text(&out.stdout)),
        Some(EXIT_BUSY) => {
            assert!(
                started.elapsed() >= DEFAULT_WAIT,
                "claims {args:?} gave up as busy after {:?}, before the default wait",
                started.elapsed()
            );
            reads.busy += 1;
            None
        }
        other => panic!("claims {args:?} failed with {other:?} during writes: {stderr}"),
    }
}

/// One round of reading while the writers run. `acknowledged` holds the keys whose `add`
/// reported success so far.
fn read_round(ledger: &Ledger, acknowledged: &Mutex<Vec<String>>, reads: &mut Reads) {
    let seen: Vec<String> = acknowledged.lock().expect("not poisoned").clone();
    if let Some(listed) = read(ledger, &["list", "--json"], reads) {
        let listed: Json = serde_json::from_str(&listed).expect("list --json is JSON");
        let keys: Vec<&str> = listed
            .as_array()
            .expect("an array")
            .iter()
            .map(|c| c["key"].as_str().expect("every claim has a key"))
            .collect();
        for key in &seen {
            assert!(
                keys.contains(&key.as_str()),
                "{key} was acknowledged but is not listed"
            );
        }
    }
    // The claim acknowledged last, or the one there from the start.
    let key = seen.last().map_or("anchor", String::as_str);
    if let Some(shown) = read(ledger, &["show", key, "--json"], reads) {
        let shown: Json = serde_json::from_str(&shown).expect("show --json is JSON");
        assert_eq!(shown["key"], key);
        assert_eq!(shown["revision"], 1);
    }
    if let Some(verified) = read(ledger, &["verify"], reads) {
        let entries: u64 = verified
            .strip_prefix("OK: ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or_else(|| panic!("verify did not pass during writes: {verified}"));
        assert!(
            entries >= reads.entries && entries > seen.len() as u64,
            "verify saw {entries} entries, after {} and with {} acknowledged",
            reads.entries,
            seen.len()
        );
        reads.entries = entries;
    }
    reads.rounds += 1;
}

#[test]
fn eight_writers_of_100_claims_with_readers() {
    let ledger = Ledger::new();
    ledger.import(r#"{"key":"anchor","subject":"test/800","claimant":"C","statement":"before"}"#);
    let started = Instant::now();
    let writing = AtomicBool::new(true);
    let acknowledged = Mutex::new(Vec::new());
    let (added, reads, wait_max) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = Reads::default();
            while writing.load(Ordering::SeqCst) {
                read_round(&ledger, &acknowledged, &mut reads);
            }
            reads
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (ledger, acknowledged) = (&ledger, &acknowledged);
                scope.spawn(move || {
                    let mut added = Vec::new();
                    let mut wait_max = Duration::ZERO;
                    for i in 0..CLAIMS_PER_WRITER {
                        let key = format!("w{writer}-{i}");
                        let statement = format!("writer {writer} claim {i}");
                        let at = Instant::now();
                        let out = ledger
                            .std_cmd(&[
                                "add",
                                "--key",
                                &key,
                                "--subject",
                                "test/800",
                                "--claimant",
                                &format!("writer {writer}"),
                                "--statement",
                                &statement,
                            ])
                            .output()
                            .expect("claims runs");
                        wait_max = wait_max.max(at.elapsed());
                        assert!(
                            out.status.success(),
                            "{key}: exit {:?} after {:?}: {}",
                            out.status.code(),
                            at.elapsed(),
                            String::from_utf8_lossy(&out.stderr)
                        );
                        acknowledged.lock().expect("not poisoned").push(key.clone());
                        let id = text(&out.stdout).trim_end().to_owned();
                        added.push((key, (id, statement)));
                    }
                    (added, wait_max)
                })
            })
            .collect();
        let mut added = HashMap::new();
        let mut wait_max = Duration::ZERO;
        for writer in writers {
            let (claims, wait) = writer.join().expect("a writer finished");
            added.extend(claims);
            wait_max = wait_max.max(wait);
        }
        writing.store(false, Ordering::SeqCst);
        let reads = reader.join().expect("the reader finished");
        (added, reads, wait_max)
    });
    let elapsed = started.elapsed();

    assert_eq!(added.len(), WRITERS * CLAIMS_PER_WRITER);
    let total = (WRITERS * CLAIMS_PER_WRITER + 1) as u64;
    assert_eq!(ledger.head_count(), total);
    assert_eq!(
        ledger.assert_verifies(),
        format!(
            "OK: {total} entries, {total} claims; head {}",
            ledger.head()
        )
    );
    let listed = ledger.json(&["list", "--json"]);
    let listed: HashMap<String, (String, String)> = listed
        .as_array()
        .expect("list --json is an array")
        .iter()
        .filter(|c| c["key"] != "anchor")
        .map(|c| {
            let field = |pointer: &str| {
                c.pointer(pointer)
                    .and_then(Json::as_str)
                    .expect("a string")
                    .to_owned()
            };
            (field("/key"), (field("/id"), field("/claim/statement")))
        })
        .collect();
    assert_eq!(listed, added, "the ledger holds exactly what was added");
    assert!(reads.rounds > 0, "the reader ran during the writes");
    eprintln!(
        "800 adds by 8 processes in {:.1} s; the slowest add took {:.2} s; {} reader rounds \
         (list, show, verify), {} reads gave up as busy",
        elapsed.as_secs_f64(),
        wait_max.as_secs_f64(),
        reads.rounds,
        reads.busy
    );
}
