//! `claims add`: from flags, from a JSON file and from standard input.

use crate::support::{is_uuid_v7, str_at, Ledger, AUTHOR, NOW_STORED};
use serde_json::{json, Value as Json};

const BASE: [&str; 6] = [
    "--subject",
    "russia/military-deaths",
    "--claimant",
    "Mediazona",
    "--statement",
    "95,300 named dead",
];

/// Adds the base claim with `flags` on a fresh ledger and compares the stored claim (`show
/// --json`'s `claim`) with the base claim's fields plus `expected`.
#[track_caller]
fn check(flags: &[&str], expected: Json) {
    let ledger = Ledger::new();
    let mut args = vec!["add"];
    args.extend(BASE);
    args.extend(flags);
    let id = ledger.ok(&args);
    let id = id.trim_end();
    let mut claim = json!({
        "subject": "russia/military-deaths",
        "claimant": "Mediazona",
        "statement": "95,300 named dead",
        "status": "active",
    });
    let (Json::Object(claim_fields), Json::Object(extra)) = (&mut claim, expected) else {
        panic!("expected fields must be a JSON object");
    };
    claim_fields.extend(extra);
    let shown = ledger.show(id);
    assert_eq!(shown["claim"], claim, "claims add {flags:?}");
    assert_eq!(shown["id"], id, "claims add {flags:?}");
    assert_eq!(shown["revision"], 1, "claims add {flags:?}");
}

#[test]
fn flags() {
    check(&[], json!({}));
    check(
        &["--amount", "95300"],
        json!({"value": {"bound": "exact", "amount": "95300"}}),
    );
    check(
        &[
            "--amount", "95300", "--bound", "at_least", "--unit", "people",
        ],
        json!({"value": {"bound": "at_least", "amount": "95300", "unit": "people"}}),
    );
    check(
        &["--amount", "10", "--bound", "at_most"],
        json!({"value": {"bound": "at_most", "amount": "10"}}),
    );
    check(
        &["--amount", "0.5", "--bound", "approx"],
        json!({"value": {"bound": "approx", "amount": "0.5"}}),
    );
    check(
        &["--amount", "-3"],
        json!({"value": {"bound": "exact", "amount": "-3"}}),
    );
    check(
        &["--amount", "123456789012345678901234567890.000001"],
        json!({"value": {"bound": "exact", "amount": "123456789012345678901234567890.000001"}}),
    );
    check(
        &["--bound", "range", "--low", "150000", "--high", "200000"],
        json!({"value": {"bound": "range", "low": "150000", "high": "200000"}}),
    );
    check(
        &["--from", "2022-02-24", "--to", "2025-02"],
        json!({"period": {"from": "2022-02-24", "to": "2025-02"}}),
    );
    check(&["--from", "2024"], json!({"period": {"from": "2024"}}));
    check(
        &["--to", "2025-07-31T00:00:00Z"],
        json!({"period": {"to": "2025-07-31T00:00:00Z"}}),
    );
    check(&["--stated-on", "2024-12"], json!({"stated_on": "2024-12"}));
    check(&["--method", "Named list"], json!({"method": "Named list"}));
    check(&["--status", "disputed"], json!({"status": "disputed"}));
    check(
        &["--tag", "war", "--tag", "named"],
        json!({"tags": ["war", "named"]}),
    );
    check(
        &["--source-url", "https://zona.media/x", "--quote", "95,300"],
        json!({"sources": [{"url": "https://zona.media/x", "quote": "95,300"}]}),
    );
    check(
        &[
            "--publisher",
            "AFP",
            "--source-title",
            "Casualties",
            "--published-on",
            "2025-02-25",
            "--retrieved-on",
            "2025-02-26",
        ],
        json!({"sources": [{
            "publisher": "AFP",
            "title": "Casualties",
            "published_on": "2025-02-25",
            "retrieved_on": "2025-02-26",
        }]}),
    );
}

#[test]
fn every_flag_at_once() {
    check(
        &[
            "--amount",
            "95300",
            "--bound",
            "at_least",
            "--unit",
            "people",
            "--from",
            "2022-02-24",
            "--to",
            "2025-02",
            "--stated-on",
            "2025-02-25",
            "--source-url",
            "https://zona.media/x",
            "--publisher",
            "AFP",
            "--quote",
            "at least 95,300",
            "--tag",
            "war",
            "--tag",
            "named",
        ],
        json!({
            "value": {"bound": "at_least", "amount": "95300", "unit": "people"},
            "period": {"from": "2022-02-24", "to": "2025-02"},
            "stated_on": "2025-02-25",
            "sources": [{"url": "https://zona.media/x", "publisher": "AFP", "quote": "at least 95,300"}],
            "tags": ["war", "named"],
        }),
    );
}

#[test]
fn prints_a_uuid_v7_from_the_pinned_clock() {
    let ledger = Ledger::new();
    let out = ledger.ok(&["add", "--key", "mz"]
        .iter()
        .chain(&BASE)
        .copied()
        .collect::<Vec<_>>());
    assert_eq!(out.lines().count(), 1, "one id on stdout: {out:?}");
    let id = out.trim_end();
    assert!(is_uuid_v7(id), "not a UUID v7: {id:?}");
    // 2025-08-13T12:00:00Z is 1755086400000 ms, 0x0198a34d2a00: the UUID's first 48 bits.
    assert!(id.starts_with("0198a34d-2a00-7"), "{id}");

    let shown = ledger.show("mz");
    assert_eq!(shown["id"], id);
    assert_eq!(shown["key"], "mz");
    assert_eq!(shown["recorded_at"], NOW_STORED);
    assert_eq!(shown["revised_at"], NOW_STORED);
    assert_eq!(
        ledger.show(id),
        shown,
        "the id and the key name the same claim"
    );
    let history = ledger.json(&["history", "mz", "--json"]);
    assert_eq!(history[0]["author"], AUTHOR);

    // With the clock pinned, the same additions give the same ids on another ledger.
    let again = Ledger::new();
    let out_again = again.ok(&["add", "--key", "mz"]
        .iter()
        .chain(&BASE)
        .copied()
        .collect::<Vec<_>>());
    assert_eq!(out_again, out);
    assert_eq!(again.head(), ledger.head());
}

#[test]
fn author_flag_overrides_the_environment() {
    let ledger = Ledger::new();
    let args: Vec<&str> = ["--author", "ana", "add", "--key", "k", "--note", "typed in"]
        .iter()
        .chain(&BASE)
        .copied()
        .collect();
    ledger.ok(&args);
    let history = ledger.json(&["history", "k", "--json"]);
    assert_eq!(history[0]["author"], "ana");
    assert_eq!(history[0]["note"], "typed in");
}

const JSON_CLAIM: &str = r#"{
    "key": "mz",
    "subject": "russia/military-deaths",
    "claimant": "Mediazona",
    "statement": "95,300 named dead",
    "value": {"amount": 95300, "bound": "at_least", "unit": "people"},
    "period": {"from": "2022-02-24", "to": "2025-02"},
    "stated_on": "2025-02-25",
    "sources": [{"url": "https://zona.media/x", "publisher": "AFP", "quote": "at least 95,300"}],
    "tags": ["war", "named"],
    "author": "ana",
    "note": "from the infographic"
}"#;

/// The claim `JSON_CLAIM` stores.
fn json_claim_stored() -> Json {
    json!({
        "subject": "russia/military-deaths",
        "claimant": "Mediazona",
        "statement": "95,300 named dead",
        "value": {"bound": "at_least", "amount": "95300", "unit": "people"},
        "period": {"from": "2022-02-24", "to": "2025-02"},
        "stated_on": "2025-02-25",
        "sources": [{"url": "https://zona.media/x", "publisher": "AFP", "quote": "at least 95,300"}],
        "status": "active",
        "tags": ["war", "named"],
    })
}

#[test]
fn json_from_a_file() {
    let ledger = Ledger::new();
    let file = ledger.write("claim.json", JSON_CLAIM);
    let id = ledger.ok(&["add", "--json", &file]);
    let shown = ledger.show("mz");
    assert_eq!(shown["id"], id.trim_end());
    assert_eq!(shown["claim"], json_claim_stored());
    let history = ledger.json(&["history", "mz", "--json"]);
    assert_eq!(history[0]["author"], "ana", "the JSON's author wins");
    assert_eq!(history[0]["note"], "from the infographic");
}

#[test]
fn json_from_stdin() {
    let ledger = Ledger::new();
    let out = ledger
        .cmd(&["add", "--json", "-"])
        .write_stdin(JSON_CLAIM)
        .output()
        .expect("claims runs");
    let id = crate::support::succeeded(&out, &["add", "--json", "-"]);
    assert!(is_uuid_v7(id.trim_end()), "{id:?}");
    assert_eq!(ledger.show("mz")["claim"], json_claim_stored());
}

#[test]
fn flags_and_json_make_the_same_entry() {
    let by_flags = Ledger::new();
    by_flags.ok(&[
        "--author",
        "ana",
        "add",
        "--key",
        "mz",
        "--subject",
        "russia/military-deaths",
        "--claimant",
        "Mediazona",
        "--statement",
        "95,300 named dead",
        "--amount",
        "95300",
        "--bound",
        "at_least",
        "--unit",
        "people",
        "--from",
        "2022-02-24",
        "--to",
        "2025-02",
        "--stated-on",
        "2025-02-25",
        "--source-url",
        "https://zona.media/x",
        "--publisher",
        "AFP",
        "--quote",
        "at least 95,300",
        "--tag",
        "war",
        "--tag",
        "named",
        "--note",
        "from the infographic",
    ]);
    let by_json = Ledger::new();
    let file = by_json.write("claim.json", JSON_CLAIM);
    by_json.ok(&["add", "--json", &file]);
    assert_eq!(by_flags.ok(&["export"]), by_json.ok(&["export"]));
    assert_eq!(by_flags.head(), by_json.head());
}

#[test]
fn ids_and_keys_both_name_the_claim() {
    let ledger = Ledger::new();
    let args: Vec<&str> = ["add"].iter().chain(&BASE).copied().collect();
    let id = ledger.ok(&args);
    let id = id.trim_end();
    let shown = ledger.show(id);
    assert_eq!(shown["key"], Json::Null);
    assert_eq!(str_at(&shown, "/claim/claimant"), "Mediazona");
    let second = ledger.ok(&args);
    assert_ne!(second.trim_end(), id, "every claim gets its own id");
    assert_eq!(ledger.head_count(), 2);
}

#[test]
fn quiet_prints_only_the_id() {
    let ledger = Ledger::new();
    let args: Vec<&str> = ["add"].iter().chain(&BASE).copied().collect();
    let out = ledger.run(&args);
    let id = crate::support::succeeded(&out, &args);
    let remark = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        remark,
        format!(
            "recorded claim {} as entry 1; head {}",
            id.trim_end(),
            ledger.head()
        )
    );

    let quiet: Vec<&str> = ["--quiet", "add"].iter().chain(&BASE).copied().collect();
    let out = ledger.run(&quiet);
    let id = crate::support::succeeded(&out, &quiet);
    assert!(is_uuid_v7(id.trim_end()), "{id:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
