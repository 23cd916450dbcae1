//! The read commands on a small fixed ledger: show, list, history, log and head, as text
//! (snapshots) and as JSON.

use crate::support::{is_hash, str_at, Ledger, AUTHOR, NOW_STORED};
use serde_json::{json, Value as Json};

/// Five claims, four revisions: a figure revised and corrected, a status revision, a range, a
/// claim without a key, multi-line text.
const SMALL: &str = include_str!("fixtures/small.jsonl");

/// The claims of `SMALL` in the order they are recorded, by key, or by claimant without one.
const RECORDED_ORDER: [&str; 5] = [
    "mz",
    "peskov",
    "ua-wounded",
    "estimates",
    "Russian Ministry of Defence",
];

fn small_ledger() -> Ledger {
    let ledger = Ledger::new();
    let report = ledger.import(SMALL);
    assert!(
        report.starts_with("imported 9 entries (5 recorded, 4 revised); head 9:"),
        "{report}"
    );
    ledger
}

/// A claim's key, or its claimant when it has none.
fn name(claim: &Json) -> String {
    match &claim["key"] {
        Json::String(key) => key.clone(),
        _ => str_at(claim, "/claim/claimant").to_owned(),
    }
}

#[test]
fn show_snapshots() {
    let ledger = small_ledger();
    insta::assert_snapshot!("show_mz", ledger.ok(&["show", "mz"]));
    insta::assert_snapshot!("show_peskov", ledger.ok(&["show", "peskov"]));
    insta::assert_snapshot!("show_estimates", ledger.ok(&["show", "estimates"]));
    insta::assert_snapshot!("show_ua_wounded", ledger.ok(&["show", "ua-wounded"]));
}

#[test]
fn history_snapshots() {
    let ledger = small_ledger();
    insta::assert_snapshot!("history_mz", ledger.ok(&["history", "mz"]));
    insta::assert_snapshot!("history_peskov", ledger.ok(&["history", "peskov"]));
    insta::assert_snapshot!("history_ua_wounded", ledger.ok(&["history", "ua-wounded"]));
}

#[test]
fn list_snapshots() {
    let ledger = small_ledger();
    insta::assert_snapshot!("list", ledger.ok(&["list"]));
    insta::assert_snapshot!(
        "list_subject_russia",
        ledger.ok(&["list", "--subject", "russia"])
    );
}

#[test]
fn log_snapshot() {
    let ledger = small_ledger();
    insta::assert_snapshot!("log", ledger.ok(&["log"]));
}

#[test]
fn show_json() {
    let ledger = small_ledger();
    let shown = ledger.show("mz");
    assert_eq!(
        shown,
        json!({
            "id": shown["id"].clone(),
            "key": "mz",
            "revision": 3,
            "recorded_at": NOW_STORED,
            "revised_at": NOW_STORED,
            "claim": {
                "subject": "russia/military-deaths",
                "claimant": "Mediazona & BBC Russian Service",
                "statement": "121,507 named dead",
                "value": {"bound": "exact", "amount": "121507", "unit": "soldiers"},
                "period": {"from": "2022-02-24", "to": "2025-07-31"},
                "stated_on": "2025-08",
                "sources": [{
                    "url": "https://en.zona.media/article/2025/02/24/casualties_eng",
                    "publisher": "Mediazona",
                    "title": "Russian losses",
                    "published_on": "2025-02-24",
                    "quote": "95,300 named",
                }],
                "status": "active",
                "tags": ["named", "russia"],
            },
        })
    );
    let id = str_at(&shown, "/id");
    assert!(crate::support::is_uuid_v7(id), "{id}");
    assert_eq!(ledger.show(id), shown, "show by id and by key agree");
    assert!(ledger
        .ok(&["show", id])
        .starts_with(&format!("claim      mz ({id})\n")));
}

#[test]
fn history_json_lists_changes_with_before_and_after() {
    let ledger = small_ledger();
    let history = ledger.json(&["history", "mz", "--json"]);
    let revisions = history.as_array().expect("history --json is an array");
    assert_eq!(revisions.len(), 3);

    let fields = |name: &str| -> Vec<Json> { revisions.iter().map(|r| r[name].clone()).collect() };
    assert_eq!(fields("revision"), [json!(1), json!(2), json!(3)]);
    assert_eq!(fields("seq"), [json!(1), json!(6), json!(7)]);
    assert_eq!(
        fields("type"),
        [
            json!("claim_recorded"),
            json!("claim_revised"),
            json!("claim_revised")
        ]
    );
    assert_eq!(
        fields("kind"),
        [Json::Null, json!("update"), json!("correction")]
    );
    assert_eq!(
        fields("reason"),
        [
            Json::Null,
            json!("Mediazona published a new count."),
            json!("The method was misquoted.")
        ]
    );
    assert_eq!(
        fields("author"),
        [json!(AUTHOR), json!(AUTHOR), json!("ana")]
    );
    assert_eq!(
        fields("note"),
        [Json::Null, json!("from the August report"), Json::Null]
    );
    assert_eq!(fields("recorded_at"), vec![json!(NOW_STORED); 3]);

    assert_eq!(revisions[0]["changes"], json!([]));
    assert_eq!(
        revisions[1]["changes"],
        json!([
            {"field": "statement", "before": "95,300 named dead", "after": "121,507 named dead"},
            {
                "field": "value",
                "before": {"bound": "exact", "amount": "95300", "unit": "soldiers"},
                "after": {"bound": "exact", "amount": "121507", "unit": "soldiers"},
            },
            {
                "field": "period",
                "before": {"from": "2022-02-24", "to": "2025-02-24"},
                "after": {"from": "2022-02-24", "to": "2025-07-31"},
            },
            {"field": "stated_on", "before": "2025-02-24", "after": "2025-08"},
        ])
    );
    assert_eq!(
        revisions[2]["changes"],
        json!([{
            "field": "method",
            "before": "Named list compiled from obituaries,\nsocial media posts and local reports",
            "after": null,
        }])
    );
    assert_eq!(revisions[2]["claim"], ledger.show("mz")["claim"]);

    // Each revision's hash is the hash `log` gives its entry.
    let log = log_json(&ledger);
    for revision in revisions {
        let seq = revision["seq"].as_u64().expect("seq is a number") as usize;
        assert_eq!(revision["hash"], log[seq - 1]["hash"]);
    }

    let status = ledger.json(&["history", "peskov", "--json"]);
    assert_eq!(status[1]["kind"], "status");
    assert_eq!(
        status[1]["changes"],
        json!([{"field": "status", "before": "disputed", "after": "retracted"}])
    );
}

/// `claims log --json`, parsed line by line.
fn log_json(ledger: &Ledger) -> Vec<Json> {
    ledger
        .ok(&["log", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).expect("each log --json line is JSON"))
        .collect()
}

/// Lists `SMALL` with `args` and compares the claims listed (by key, or claimant) with
/// `expected`, in any order.
#[track_caller]
fn check_list(ledger: &Ledger, args: &[&str], expected: &[&str]) {
    let mut full = vec!["list", "--json"];
    full.extend(args);
    let listed = ledger.json(&full);
    let mut names: Vec<String> = listed
        .as_array()
        .expect("list --json is an array")
        .iter()
        .map(name)
        .collect();
    names.sort();
    let mut expected: Vec<&str> = expected.to_vec();
    expected.sort();
    assert_eq!(names, expected, "claims list {args:?}");
}

#[test]
fn list_filters() {
    let ledger = small_ledger();
    let check = |args: &[&str], expected: &[&str]| check_list(&ledger, args, expected);
    let russia = ["mz", "peskov", "estimates", "Russian Ministry of Defence"];
    check(&[], &RECORDED_ORDER);
    check(&["--subject", "russia"], &russia);
    check(&["--subject", "russia/military-deaths"], &russia);
    check(
        &["--subject", "russia/military-deaths/estimates"],
        &["estimates"],
    );
    check(&["--subject", "russia/military"], &[]);
    check(&["--subject", "ukraine"], &["ua-wounded"]);
    check(&["--subject", "france"], &[]);
    check(&["--claimant", "US officials"], &["ua-wounded"]);
    check(&["--claimant", "US"], &[]);
    check(&["--claimant", "Western analysts"], &["estimates"]);
    check(&["--claimant", "Analysts"], &[]);
    check(&["--status", "retracted"], &["peskov"]);
    check(&["--status", "disputed"], &[]);
    check(
        &["--status", "active"],
        &[
            "mz",
            "ua-wounded",
            "estimates",
            "Russian Ministry of Defence",
        ],
    );
    check(&["--tag", "estimate"], &["ua-wounded", "estimates"]);
    check(&["--tag", "range"], &["estimates"]);
    check(&["--tag", "named"], &["mz"]);
    check(
        &["--subject", "russia", "--tag", "estimate"],
        &["estimates"],
    );
    check(
        &[
            "--subject",
            "russia",
            "--status",
            "active",
            "--tag",
            "named",
        ],
        &["mz"],
    );
    check(
        &[
            "--subject",
            "russia",
            "--status",
            "retracted",
            "--tag",
            "named",
        ],
        &[],
    );
}

#[test]
fn list_json_items_are_show_json() {
    let ledger = small_ledger();
    let listed = ledger.json(&["list", "--json"]);
    for item in listed.as_array().expect("list --json is an array") {
        let id = str_at(item, "/id");
        assert_eq!(&ledger.show(id), item);
    }
}

/// `Ledger::list` promises the claims "in the order they were recorded".
#[test]
fn list_is_in_recording_order() {
    let ledger = small_ledger();
    let listed = ledger.json(&["list", "--json"]);
    let names: Vec<String> = listed
        .as_array()
        .expect("list --json is an array")
        .iter()
        .map(name)
        .collect();
    assert_eq!(names, RECORDED_ORDER);
}

#[test]
fn log_text_and_range() {
    let ledger = small_ledger();
    let log = ledger.ok(&["log"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 10, "a header and 9 entries: {log}");
    assert!(lines[0].trim_start().starts_with("SEQ  HASH"), "{log}");
    let hashes: Vec<Json> = log_json(&ledger)
        .into_iter()
        .map(|l| l["hash"].clone())
        .collect();
    for (i, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], (i + 1).to_string(), "{line}");
        let hash = hashes[i].as_str().expect("a hash");
        assert_eq!(fields[1], &hash[..16], "{line}");
    }

    let part = ledger.ok(&["log", "--from", "2", "--limit", "3"]);
    let seqs: Vec<&str> = part
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(seqs, ["2", "3", "4"], "{part}");
    assert_eq!(ledger.ok(&["log", "--from", "10"]).lines().count(), 1);
    assert_eq!(ledger.ok(&["log", "--limit", "0"]), "");
    let tail = ledger.ok(&["log", "--json", "--from", "8"]);
    assert_eq!(tail.lines().count(), 2, "{tail}");
}

/// Every row of `log` has its columns under their headings, whatever the entry's type, and
/// names its claim by key where the claim has one (the entry of a revision holds only the id).
#[test]
fn log_columns_align() {
    let ledger = small_ledger();
    let log = ledger.ok(&["log"]);
    let mut lines = log.lines();
    let header = lines.next().expect("a header");
    let claim_column = header.find("CLAIM").expect("a CLAIM column");
    let recorded_column = header.find("RECORDED").expect("a RECORDED column");
    let mut keys = std::collections::HashMap::new();
    let mut by_key = 0;
    for (line, entry) in lines.zip(log_json(&ledger)) {
        let id = str_at(&entry, "/entry/claim_id").to_owned();
        if let Some(key) = entry["entry"]["key"].as_str() {
            keys.insert(id.clone(), key.to_owned());
        }
        let name = keys.get(&id).cloned().unwrap_or(id);
        by_key += usize::from(
            entry["entry"]["type"] == "claim_revised"
                && keys.contains_key(str_at(&entry, "/entry/claim_id")),
        );
        assert_eq!(
            line.find(&format!(" {name} ")).map(|at| at + 1),
            Some(claim_column),
            "{log}"
        );
        assert_eq!(line.find("2025-08-13"), Some(recorded_column), "{log}");
    }
    assert!(
        by_key > 0,
        "revisions are named by their claim's key: {log}"
    );
}

/// `history` indents every line under its revision, as `show` does, including the second
/// line of a multi-line value.
#[test]
fn history_indents_multi_line_values() {
    let ledger = small_ledger();
    let history = ledger.ok(&["history", "mz"]);
    for line in history.lines().skip(1) {
        assert!(
            line.is_empty() || line.starts_with("revision ") || line.starts_with("  "),
            "line {line:?} of:\n{history}"
        );
    }
}

#[test]
fn head_text_and_json() {
    let ledger = Ledger::new();
    let empty = ledger.head();
    assert_eq!(empty, format!("0:{}\n", crate::support::ZERO_HASH));
    let ledger = small_ledger();
    let head = ledger.head();
    let (count, hash) = head.trim_end().split_once(':').expect("head is COUNT:HASH");
    assert_eq!(count, "9");
    assert!(is_hash(hash), "{head}");
    assert_eq!(
        ledger.json(&["head", "--json"]),
        json!({"count": 9, "hash": hash, "origin": "claimledger/ledger/60e21b86"})
    );
    let log = log_json(&ledger);
    assert_eq!(
        log[8]["hash"], hash,
        "the head hash is the last entry's hash"
    );
    assert_eq!(ledger.head(), head, "reading changes nothing");
}
