//! `claims verify`, `claims export` and the hash chain they expose.

use crate::support::{is_hash, str_at, Ledger, ZERO_HASH};
use serde_json::{json, Value as Json};

const SMALL: &str = include_str!("fixtures/small.jsonl");

#[test]
fn verify_reports_counts_and_head() {
    let ledger = Ledger::new();
    assert_eq!(
        ledger.assert_verifies(),
        format!("OK: 0 entries, 0 claims; head 0:{ZERO_HASH}\n")
    );
    ledger.import(SMALL);
    let head = ledger.head();
    assert_eq!(
        ledger.assert_verifies(),
        format!("OK: 9 entries, 5 claims; head {head}")
    );
    let (count, hash) = head.trim_end().split_once(':').expect("COUNT:HASH");
    assert_eq!(count, "9");
    assert_eq!(
        ledger.json(&["verify", "--json"]),
        json!({
            "ok": true,
            "entries": 9,
            "claims": 5,
            "head": {"count": 9, "hash": hash},
            "bundle": null,
            "origin": null,
            "checkpoint": null,
            "expected_head": null,
            "problem": null,
        })
    );
}

/// Every export line between the header and the checkpoint line is an entry: JSON with the
/// format version, its sequence number and the hash of the entry before it, exactly the entry
/// `log --json` shows with its hash.
#[test]
fn export_lines_chain_by_hash() {
    let ledger = Ledger::new();
    ledger.import(SMALL);
    ledger.ok(&[
        "add",
        "--subject",
        "a/b",
        "--claimant",
        "c",
        "--statement",
        "unicode: “quoted”, ünïcödé, 日本語, emoji 🎉",
    ]);
    let export = ledger.ok(&["export"]);
    let log: Vec<Json> = ledger
        .ok(&["log", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("log --json lines are JSON"))
        .collect();
    let all: Vec<&str> = export.split_terminator('\n').collect();
    assert_eq!(all.len(), 12);
    assert!(export.ends_with('\n'));
    let origin = str_at(&ledger.json(&["head", "--json"]), "/origin").to_owned();
    assert_eq!(all[0], format!("{{\"bundle\":1,\"origin\":\"{origin}\"}}"));
    let checkpoint = ledger.ok(&["checkpoint"]);
    assert_eq!(
        all[11],
        format!(
            "{{\"checkpoint\":{}}}",
            serde_json::to_string(&checkpoint).unwrap()
        )
    );
    let lines = &all[1..11];
    assert_eq!(log.len(), 10);

    let mut prev = ZERO_HASH.to_owned();
    for (i, (line, logged)) in lines.iter().zip(&log).enumerate() {
        let seq = i as u64 + 1;
        let entry: Json = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("export line {seq} is not JSON ({e}): {line}"));
        assert_eq!(entry["v"], 1, "line {seq}");
        assert_eq!(entry["seq"], seq, "line {seq}");
        assert_eq!(
            str_at(&entry, "/prev"),
            prev,
            "line {seq} chains to the one before"
        );
        let kind = str_at(&entry, "/type");
        assert!(
            ["claim_recorded", "claim_revised"].contains(&kind),
            "line {seq}: {kind}"
        );
        assert_eq!(logged["seq"], seq);
        assert_eq!(
            logged["entry"], entry,
            "log --json shows the exported entry"
        );
        let hash = str_at(logged, "/hash");
        assert!(is_hash(hash), "{hash}");
        prev = hash.to_owned();
    }
    assert_eq!(ledger.head(), format!("10:{prev}\n"));
}

/// Export gives the stored bytes, so an export re-read by `log` is the same, and a second
/// export is byte for byte the first. An empty ledger's bundle is its header and checkpoint.
#[test]
fn export_is_stable_and_empty_on_an_empty_ledger() {
    let ledger = Ledger::new();
    let empty = ledger.ok(&["export"]);
    let lines: Vec<&str> = empty.lines().collect();
    assert_eq!(lines.len(), 2, "{empty}");
    assert!(lines[0].starts_with("{\"bundle\":1,\"origin\":\"claimledger/ledger/"));
    assert!(lines[1].ends_with("\\n0\\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\\n\"}"));
    ledger.import(SMALL);
    let first = ledger.ok(&["export"]);
    assert_eq!(ledger.ok(&["export"]), first);
    let all: Vec<&str> = first.lines().collect();
    for (i, line) in all[1..all.len() - 1].iter().enumerate() {
        let start = format!("{{\"v\":1,\"seq\":{},\"prev\":\"", i + 1);
        assert!(line.starts_with(&start), "an entry as encoded: {line}");
    }

    // The same input on another ledger gives the same bytes and the same head.
    let other = Ledger::new();
    other.import(SMALL);
    assert_eq!(other.ok(&["export"]), first);
    assert_eq!(other.head(), ledger.head());
}
