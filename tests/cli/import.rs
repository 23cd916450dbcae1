//! `claims import`: JSON Lines, all or nothing, revisions referring to claims recorded earlier
//! in the same file, and files large enough for the staged commit.

use crate::support::{assert_error, Ledger, EXIT_INPUT};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Imports `lines` on a fresh ledger, checks the report says `recorded` records and `revised`
/// revisions and names the new head, and gives the ledger.
#[track_caller]
fn check(lines: &str, recorded: usize, revised: usize) -> Ledger {
    let ledger = Ledger::new();
    let report = ledger.import(lines);
    let head = ledger.head();
    let noun = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    assert_eq!(
        report,
        format!(
            "imported {} ({recorded} recorded, {revised} revised); head {head}",
            noun(recorded + revised, "entry", "entries")
        )
    );
    assert_eq!(ledger.head_count(), (recorded + revised) as u64);
    assert!(ledger.assert_verifies().starts_with(&format!(
        "OK: {}, {};",
        noun(recorded + revised, "entry", "entries"),
        noun(recorded, "claim", "claims")
    )),);
    ledger
}

#[test]
fn records_and_revisions_in_one_file() {
    let ledger = check(
        r#"{"key":"a","subject":"s/a","claimant":"C","statement":"one"}
{"op":"record","key":"b","subject":"s/b","claimant":"C","statement":"two","value":{"amount":2}}
{"op":"revise","claim":"a","reason":"r","statement":"one, revised"}
{"op":"revise","claim":"a","reason":"r","statement":"one, revised again","expected_revision":2}
{"op":"revise","claim":"b","reason":"r","kind":"status","status":"superseded"}
"#,
        2,
        3,
    );
    let a = ledger.show("a");
    assert_eq!(a["revision"], 3);
    assert_eq!(a["claim"]["statement"], "one, revised again");
    assert_eq!(ledger.show("b")["claim"]["status"], "superseded");
}

#[test]
fn blank_lines_crlf_and_no_final_newline() {
    check("\n{\"subject\":\"s\",\"claimant\":\"C\",\"statement\":\"S\"}\r\n\r\n   \n{\"subject\":\"s\",\"claimant\":\"C\",\"statement\":\"T\"}", 2, 0);
}

#[test]
fn limits_are_inclusive() {
    let tags: Vec<String> = (0..64).map(|i| format!("\"t{i}\"")).collect();
    let line = format!(
        r#"{{"subject":"s","claimant":"{}","statement":"{}","tags":[{}]}}"#,
        "c".repeat(200),
        "x".repeat(4000),
        tags.join(",")
    );
    let ledger = check(&line, 1, 0);
    let listed = ledger.json(&["list", "--json", "--tag", "t63"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

/// A line of exactly 1 MiB (the longest accepted) is accepted whether or not a newline ends
/// it: the newline is not part of the line.
#[test]
fn a_line_of_exactly_the_limit_is_accepted() {
    let start = r#"{"subject":"s","claimant":"C","statement":"S""#;
    let line = format!("{start}{}}}", " ".repeat((1 << 20) - start.len() - 1));
    assert_eq!(line.len(), 1 << 20);
    check(&line, 1, 0);
    check(&format!("{line}\n"), 1, 0);
}

/// With the clock pinned, ids are known before import: a revise may name by id a claim
/// recorded earlier in the same file.
#[test]
fn revise_by_id_of_a_claim_recorded_earlier_in_the_file() {
    let record = r#"{"subject":"s","claimant":"C","statement":"S"}"#;
    let probe = Ledger::new();
    probe.import(record);
    let listed = probe.json(&["list", "--json"]);
    let id = listed[0]["id"].as_str().expect("an id");
    let ledger = check(
        &format!("{record}\n{{\"op\":\"revise\",\"claim\":\"{id}\",\"reason\":\"r\",\"statement\":\"T\"}}\n"),
        1,
        1,
    );
    assert_eq!(ledger.show(id)["claim"]["statement"], "T");
}

#[test]
fn from_stdin() {
    let ledger = Ledger::new();
    let out = ledger
        .cmd(&["import", "-"])
        .write_stdin(include_str!("fixtures/small.jsonl"))
        .output()
        .expect("claims runs");
    let report = crate::support::succeeded(&out, &["import", "-"]);
    assert!(
        report.starts_with("imported 9 entries (5 recorded, 4 revised); head 9:"),
        "{report}"
    );
    assert_eq!(ledger.head_count(), 9);
}

#[test]
fn revise_by_id_of_a_claim_already_in_the_ledger() {
    let ledger = Ledger::new();
    ledger.import(r#"{"subject":"s","claimant":"C","statement":"S"}"#);
    let listed = ledger.json(&["list", "--json"]);
    let id = listed[0]["id"].as_str().expect("an id");
    ledger.import(&format!(
        r#"{{"op":"revise","claim":"{id}","reason":"r","statement":"T"}}"#
    ));
    assert_eq!(ledger.show(id)["claim"]["statement"], "T");
    assert_eq!(ledger.head_count(), 2);
}

/// More lines than `LARGE_COMMIT_ENTRIES` (4,096), so the staged commit path is taken.
const LARGE: usize = 5_000;

/// `LARGE` lines: every fourth line revises one of 100 claims recorded earlier in the file,
/// with its expected revision. Gives the text and, per revised key, its final revision and
/// statement.
fn large_file() -> (String, HashMap<String, (u64, String)>) {
    let mut text = String::new();
    let mut revised: HashMap<String, (u64, String)> = HashMap::new();
    for i in 0..LARGE {
        if i % 4 == 3 {
            let key = format!("k{}", (i / 4 % 100) * 4);
            let entry = revised.entry(key.clone()).or_insert((1, String::new()));
            let statement = format!("{key} as of line {}", i + 1);
            text.push_str(&format!(
                r#"{{"op":"revise","claim":"{key}","reason":"recount","expected_revision":{},"statement":"{statement}","value":{{"amount":{i}}}}}"#,
                entry.0
            ));
            *entry = (entry.0 + 1, statement);
        } else {
            text.push_str(&format!(
                r#"{{"key":"k{i}","subject":"bulk/s{}","claimant":"Claimant {}","statement":"claim {i}","tags":["t{}"]}}"#,
                i % 7,
                i % 3,
                i % 5
            ));
        }
        text.push('\n');
    }
    (text, revised)
}

#[test]
fn large_import_with_revisions() {
    let (text, revised) = large_file();
    let revisions = LARGE / 4;
    let ledger = check(&text, LARGE - revisions, revisions);
    assert_eq!(revised.len(), 100);
    for (key, (revision, statement)) in [
        ("k0", &revised["k0"]),
        ("k396", &revised["k396"]),
        ("k200", &revised["k200"]),
    ] {
        let shown = ledger.show(key);
        assert_eq!(shown["revision"], *revision, "{key}");
        assert_eq!(shown["claim"]["statement"], *statement, "{key}");
        let text = ledger.ok(&["show", key]);
        assert!(
            text.contains(&format!("statement  {statement}\n")),
            "{key}: {text}"
        );
        assert!(
            text.contains(&format!("revision   {revision} (")),
            "{key}: {text}"
        );
        let history = ledger.json(&["history", key, "--json"]);
        assert_eq!(history.as_array().map(Vec::len), Some(*revision as usize));
    }
    // The index built after the staged commit answers queries.
    let listed = ledger.json(&["list", "--json", "--subject", "bulk/s3"]);
    let expected = (0..LARGE).filter(|i| i % 4 != 3 && i % 7 == 3).count();
    assert_eq!(listed.as_array().map(Vec::len), Some(expected));
    let listed = ledger.json(&["list", "--json", "--claimant", "Claimant 2", "--tag", "t4"]);
    let expected = (0..LARGE)
        .filter(|i| i % 4 != 3 && i % 3 == 2 && i % 5 == 4)
        .count();
    assert_eq!(listed.as_array().map(Vec::len), Some(expected));
    // And a later small commit follows on.
    ledger.ok(&["revise", "k0", "--reason", "after", "--statement", "later"]);
    assert_eq!(ledger.head_count(), LARGE as u64 + 1);
    ledger.assert_verifies();
}

/// A large file whose last line is bad changes nothing, whether the line breaks the format or
/// is refused by the ledger after every line before it was decided.
#[test]
fn large_import_with_a_bad_last_line() {
    let (text, _) = large_file();
    for (last, fragment) in [
        (
            r#"{"subject":"bulk/s","claimant":"C"}"#,
            "field `statement`: is required",
        ),
        (
            r#"{"op":"revise","claim":"k0","reason":"r","statement":"x","expected_revision":1}"#,
            "field `expected_revision`: the claim is at revision",
        ),
        (
            r#"{"key":"k4998","subject":"bulk/s","claimant":"C","statement":"S"}"#,
            "field `key`: k4998 is already used by claim",
        ),
    ] {
        let ledger = Ledger::new();
        ledger.import(r#"{"key":"before","subject":"s","claimant":"C","statement":"S"}"#);
        let head = ledger.head();
        let mut lines: Vec<&str> = text.lines().collect();
        *lines.last_mut().expect("lines") = last;
        let name = ledger.write("large.jsonl", lines.join("\n"));
        let out = ledger.run(&["import", &name]);
        assert_error(
            &out,
            EXIT_INPUT,
            &format!("large.jsonl: line {LARGE}: {fragment}"),
        );
        assert_eq!(ledger.head(), head);
        ledger.assert_verifies();
        assert_error(
            &ledger.run(&["show", "k1"]),
            EXIT_INPUT,
            r#"no claim has the id or key "k1""#,
        );
        let listed = ledger.json(&["list", "--json"]);
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        assert_eq!(listed[0]["key"], Json::from("before"));
    }
}
