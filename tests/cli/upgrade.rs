//! A ledger of store format 3 (the BLAKE3 Merkle tree, every level stored), as the build before
//! store format 4 wrote it: `fixtures/format-3/db` is that build's ledger of the small fixture
//! (origin `example.org/format-3`, the clock pinned), and `fixtures/format-3/export.jsonl` is
//! what that build's `claims export` printed. Commands that read use it as it is, computing the
//! standard tree from the log; the first command that writes rebuilds the tree as tiles, once,
//! and keeps every entry and the head byte for byte.

use crate::support::{copy_dir, text, Ledger};
use claimledger_core::merkle::{record_hash, Frontier};
use claimledger_store::{forge, SledStorage};
use std::path::Path;
use std::time::Duration;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/cli/fixtures/format-3"
);
const OLD_EXPORT: &str = include_str!("fixtures/format-3/export.jsonl");
const OLD_HEAD: &str = "9:5f38d5761b77db74aad42c2f35d1d06f75482165b23cf3a08c4294b76338a9b7";
const NOTE: &str = "is in store format 3; its Merkle tree is computed from the log";
const UPGRADING: &str = "upgrading the ledger's Merkle tree to the standard SHA-256 tree (store \
                         format 4): 9 entries…";

/// The RFC 6962 root over `entries`, computed here from the definition's parts.
fn root_of(entries: &[&str]) -> String {
    let mut frontier = Frontier::new();
    for entry in entries {
        frontier.push(record_hash(entry.as_bytes())).for_each(drop);
    }
    frontier.root().to_string()
}

/// The entry lines of an export (whatever framing surrounds them).
fn entries(export: &str) -> Vec<&str> {
    export
        .lines()
        .filter(|line| line.starts_with("{\"v\":"))
        .collect()
}

/// Every stored key and value, read in-process without writing.
fn raw(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let storage = SledStorage::open_read(dir, Duration::from_secs(10)).unwrap();
    forge::raw_pairs(&storage).unwrap()
}

#[test]
fn a_format_3_ledger_is_read_as_it_is_and_upgraded_once_by_a_write() {
    let ledger = Ledger::uninitialised();
    copy_dir(
        Path::new(FIXTURE).join("db").as_path(),
        &ledger.dir().join("db"),
    )
    .unwrap();
    let old_entries = entries(OLD_EXPORT);
    assert_eq!(old_entries.len(), 9);
    let stored_before = raw(ledger.dir());
    assert!(stored_before.contains(&(b"Mformat".to_vec(), 3u32.to_be_bytes().to_vec())));

    // Reading: the same head and entries, the standard tree computed from the log, a note.
    let head = ledger.run(&["head"]);
    assert!(head.status.success());
    assert_eq!(text(&head.stdout).trim_end(), OLD_HEAD);
    assert!(text(&head.stderr).contains(NOTE), "{}", text(&head.stderr));
    assert_eq!(entries(&ledger.ok(&["export"])), old_entries);
    let checkpoint = ledger.ok(&["checkpoint"]);
    assert_eq!(
        checkpoint,
        format!("example.org/format-3\n9\n{}\n", root_of(&old_entries))
    );
    ledger.write("nine.checkpoint", &checkpoint);
    let verified = ledger.run(&["verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stdout));
    assert!(
        text(&verified.stdout).starts_with(&format!("OK: 9 entries, 5 claims; head {OLD_HEAD}"))
    );
    ledger.ok(&["prove", "--seq", "4", "--out", "four.json"]);
    ledger.ok(&["verify-proof", "four.json"]);
    assert_eq!(raw(ledger.dir()), stored_before, "reading wrote nothing");

    // The first write upgrades, once, and says so.
    let add = ledger.run(&[
        "add",
        "--subject",
        "test/upgrade",
        "--claimant",
        "C",
        "--statement",
        "after the upgrade",
    ]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert!(
        text(&add.stderr).contains(UPGRADING),
        "{}",
        text(&add.stderr)
    );
    let stored_after = raw(ledger.dir());
    assert!(stored_after.contains(&(b"Mformat".to_vec(), 4u32.to_be_bytes().to_vec())));
    let kept = |pairs: &[(Vec<u8>, Vec<u8>)], key: &[u8]| {
        pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    assert_eq!(
        kept(&stored_after, b"Morigin"),
        Some(b"example.org/format-3".to_vec())
    );

    let export = ledger.ok(&["export"]);
    let now = entries(&export);
    assert_eq!(now.len(), 10);
    assert_eq!(now[..9], old_entries[..], "every old entry, byte for byte");
    let head = ledger.run(&["head"]);
    assert!(text(&head.stderr).is_empty(), "{}", text(&head.stderr));
    assert!(text(&head.stdout).starts_with("10:"));
    assert_eq!(
        ledger.ok(&["checkpoint"]),
        format!("example.org/format-3\n10\n{}\n", root_of(&now))
    );
    // The checkpoint read before the upgrade is extended by the upgraded ledger.
    ledger.ok(&["verify", "--checkpoint", "nine.checkpoint"]);
    ledger.ok(&["prove", "--since", "nine.checkpoint", "--out", "since.json"]);
    ledger.ok(&["verify-proof", "since.json"]);
    ledger.ok(&["verify-proof", "four.json"]);

    let again = ledger.run(&[
        "add",
        "--subject",
        "test/upgrade",
        "--claimant",
        "C",
        "--statement",
        "a second write",
    ]);
    assert!(again.status.success());
    assert!(!text(&again.stderr).contains("upgrading"), "upgraded once");
}
