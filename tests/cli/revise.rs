//! `claims revise`: by key and by id, from flags and from JSON.

use crate::support::{succeeded, Ledger, AUTHOR};
use serde_json::{json, Value as Json};

/// The claim every case revises, as revision 1.
const RECORD: &str = r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named dead","value":{"amount":95300,"unit":"soldiers"},"period":{"from":"2022-02-24","to":"2025-02-24"},"stated_on":"2025-02-24","method":"Named list","sources":[{"publisher":"AFP"}],"tags":["war"]}"#;

/// `RECORD` as stored.
fn recorded() -> Json {
    json!({
        "subject": "russia/military-deaths",
        "claimant": "Mediazona",
        "statement": "95,300 named dead",
        "value": {"bound": "exact", "amount": "95300", "unit": "soldiers"},
        "period": {"from": "2022-02-24", "to": "2025-02-24"},
        "stated_on": "2025-02-24",
        "method": "Named list",
        "sources": [{"publisher": "AFP"}],
        "status": "active",
        "tags": ["war"],
    })
}

/// A ledger holding `RECORD`, and the claim's id.
fn ledger_with_record() -> (Ledger, String) {
    let ledger = Ledger::new();
    ledger.import(RECORD);
    let id = ledger.show("mz")["id"]
        .as_str()
        .expect("show gives the id")
        .to_owned();
    (ledger, id)
}

/// A claim's fields in stored order, the order in which history lists changes.
const CLAIM_FIELDS: [&str; 10] = [
    "subject",
    "claimant",
    "statement",
    "value",
    "period",
    "stated_on",
    "method",
    "sources",
    "status",
    "tags",
];

/// Runs `claims revise ARGS` on `RECORD` (`{id}` in ARGS stands for the claim's id; the file
/// `revise.json` holds `REVISE_JSON`), and checks that revision 2 is `RECORD` with the
/// `changed` fields set as given (`null` removes a field), and that history reports exactly
/// those fields as changed, each with its value before and after.
#[track_caller]
fn check(args: &[&str], changed: Json) {
    let (ledger, id) = ledger_with_record();
    ledger.write("revise.json", REVISE_JSON);
    let mut full = vec!["revise".to_owned()];
    full.extend(args.iter().map(|a| a.replace("{id}", &id)));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = ledger.ok(&full);
    assert_eq!(out, format!("{id}\n"), "revise prints the claim id");

    let Json::Object(changed) = changed else {
        panic!("changed fields must be a JSON object")
    };
    let mut expected = recorded();
    let fields = expected.as_object_mut().expect("a claim is an object");
    for (field, value) in &changed {
        match value {
            Json::Null => fields.remove(field),
            value => fields.insert(field.clone(), value.clone()),
        };
    }
    let shown = ledger.show("mz");
    assert_eq!(shown["claim"], expected, "claims {full:?}");
    assert_eq!(shown["revision"], 2, "claims {full:?}");

    let history = ledger.json(&["history", "mz", "--json"]);
    let expected_changes: Vec<Json> = CLAIM_FIELDS
        .iter()
        .filter(|field| changed.contains_key(**field))
        .map(|field| {
            json!({
                "field": field,
                "before": recorded()[field],
                "after": expected[field],
            })
        })
        .collect();
    assert_eq!(
        history[1]["changes"],
        Json::Array(expected_changes),
        "claims {full:?}"
    );
    assert_eq!(history[1]["claim"], expected);
    assert_eq!(
        history[0]["claim"],
        recorded(),
        "revision 1 is kept as it was"
    );
    ledger.assert_verifies();
}

#[test]
fn flags() {
    check(
        &["mz", "--reason", "new count", "--amount", "121507"],
        json!({"value": {"bound": "exact", "amount": "121507", "unit": "soldiers"}}),
    );
    check(
        &[
            "{id}",
            "--reason",
            "by id",
            "--statement",
            "121,507 named dead",
        ],
        json!({"statement": "121,507 named dead"}),
    );
    check(
        &["mz", "--reason", "r", "--unit", "people"],
        json!({"value": {"bound": "exact", "amount": "95300", "unit": "people"}}),
    );
    check(
        &["mz", "--reason", "r", "--bound", "at_least"],
        json!({"value": {"bound": "at_least", "amount": "95300", "unit": "soldiers"}}),
    );
    check(
        &[
            "mz", "--reason", "r", "--bound", "range", "--low", "1", "--high", "2",
        ],
        json!({"value": {"bound": "range", "low": "1", "high": "2", "unit": "soldiers"}}),
    );
    check(
        &["mz", "--reason", "r", "--to", "2025-07-31"],
        json!({"period": {"from": "2022-02-24", "to": "2025-07-31"}}),
    );
    check(
        &["mz", "--reason", "r", "--stated-on", "2025-08"],
        json!({"stated_on": "2025-08"}),
    );
    check(
        &["mz", "--reason", "r", "--low", "1", "--high", "2"],
        json!({"value": {"bound": "range", "low": "1", "high": "2", "unit": "soldiers"}}),
    );
    check(
        &["mz", "--reason", "r", "--tag", "a", "--tag", "b"],
        json!({"tags": ["a", "b"]}),
    );
    check(
        &[
            "mz",
            "--reason",
            "r",
            "--subject",
            "russia/military-deaths/named",
        ],
        json!({"subject": "russia/military-deaths/named"}),
    );
    check(
        &[
            "mz",
            "--reason",
            "r",
            "--kind",
            "correction",
            "--claimant",
            "Mediazona & BBC",
        ],
        json!({"claimant": "Mediazona & BBC"}),
    );
    check(
        &[
            "mz", "--reason", "r", "--kind", "status", "--status", "disputed",
        ],
        json!({"status": "disputed"}),
    );
    check(
        &[
            "mz",
            "--reason",
            "current",
            "--expect-revision",
            "1",
            "--statement",
            "x",
        ],
        json!({"statement": "x"}),
    );
}

/// Source flags add sources to the claim's own; `--replace-sources` replaces them. A source
/// flag given again starts the next source.
#[test]
fn sources() {
    check(
        &["mz", "--reason", "r", "--publisher", "Reuters"],
        json!({"sources": [{"publisher": "AFP"}, {"publisher": "Reuters"}]}),
    );
    check(
        &[
            "mz",
            "--reason",
            "r",
            "--replace-sources",
            "--publisher",
            "Reuters",
            "--quote",
            "121,507",
        ],
        json!({"sources": [{"publisher": "Reuters", "quote": "121,507"}]}),
    );
    check(
        &[
            "mz",
            "--reason",
            "r",
            "--source-url",
            "https://a.example/",
            "--publisher",
            "A",
            "--source-url",
            "https://b.example/",
            "--quote",
            "said by B",
        ],
        json!({"sources": [
            {"publisher": "AFP"},
            {"url": "https://a.example/", "publisher": "A"},
            {"url": "https://b.example/", "quote": "said by B"},
        ]}),
    );
}

/// `--replace-sources` with no source flag is refused: removing every source is `--clear`.
#[test]
fn replace_sources_needs_sources() {
    let (ledger, _) = ledger_with_record();
    let out = ledger.run(&["revise", "mz", "--reason", "r", "--replace-sources"]);
    crate::support::assert_error(
        &out,
        crate::support::EXIT_INPUT,
        "--replace-sources: give the new sources with the source flags",
    );
}

#[test]
fn clear() {
    check(
        &["mz", "--reason", "r", "--clear", "method"],
        json!({"method": null}),
    );
    check(
        &[
            "{id}", "--reason", "r", "--clear", "value", "--clear", "tags",
        ],
        json!({"value": null, "tags": null}),
    );
    check(
        &[
            "mz",
            "--reason",
            "r",
            "--clear",
            "period",
            "--clear",
            "stated_on",
        ],
        json!({"period": null, "stated_on": null}),
    );
    check(
        &["mz", "--reason", "r", "--clear", "sources"],
        json!({"sources": null}),
    );
}

#[test]
fn json_from_a_file() {
    check(
        &["--json", "revise.json"],
        json!({"statement": "121,507 named dead", "value": {"bound": "exact", "amount": "121507"}, "method": null}),
    );
}

/// A revision as JSON; `check` writes it to `revise.json`.
const REVISE_JSON: &str = r#"{"op":"revise","claim":"mz","reason":"new count","statement":"121,507 named dead","value":{"amount":121507},"method":null,"note":"from the August report","author":"ana"}"#;

#[test]
fn json_records_reason_kind_author_and_note() {
    let (ledger, id) = ledger_with_record();
    let file = ledger.write("revise.json", REVISE_JSON);
    assert_eq!(ledger.ok(&["revise", "--json", &file]), format!("{id}\n"));
    let history = ledger.json(&["history", "mz", "--json"]);
    let second = &history[1];
    assert_eq!(second["type"], "claim_revised");
    assert_eq!(second["revision"], 2);
    assert_eq!(second["kind"], "update");
    assert_eq!(second["reason"], "new count");
    assert_eq!(second["author"], "ana");
    assert_eq!(second["note"], "from the August report");
    assert_eq!(history[0]["author"], AUTHOR);
}

#[test]
fn json_from_stdin() {
    let (ledger, id) = ledger_with_record();
    let args = ["revise", "--json", "-"];
    let out = ledger
        .cmd(&args)
        .write_stdin(REVISE_JSON)
        .output()
        .expect("claims runs");
    assert_eq!(succeeded(&out, &args), format!("{id}\n"));
    assert_eq!(
        ledger.show("mz")["claim"]["statement"],
        "121,507 named dead"
    );
}

#[test]
fn json_by_id_on_the_command_line() {
    let (ledger, id) = ledger_with_record();
    let file = ledger.write("revise.json", REVISE_JSON);
    assert_eq!(
        ledger.ok(&["revise", &id, "--json", &file]),
        format!("{id}\n")
    );
    assert_eq!(ledger.show(&id)["revision"], 2);
}

/// The id or key on the command line names the claim; the JSON need not repeat it.
#[test]
fn json_without_claim_takes_the_command_line_one() {
    let (ledger, id) = ledger_with_record();
    let file = ledger.write(
        "revise.json",
        r#"{"op":"revise","reason":"new count","statement":"121,507 named dead"}"#,
    );
    assert_eq!(
        ledger.ok(&["revise", "mz", "--json", &file]),
        format!("{id}\n")
    );
    assert_eq!(ledger.show("mz")["revision"], 2);
}

#[test]
fn successive_revisions_and_expected_revision() {
    let (ledger, id) = ledger_with_record();
    for (revision, amount) in [(1, "100000"), (2, "110000"), (3, "121507")] {
        let expect = revision.to_string();
        let out = ledger.ok(&[
            "revise",
            "mz",
            "--reason",
            "recount",
            "--expect-revision",
            &expect,
            "--amount",
            amount,
        ]);
        assert_eq!(out, format!("{id}\n"));
    }
    let shown = ledger.show("mz");
    assert_eq!(shown["revision"], 4);
    assert_eq!(shown["claim"]["value"]["amount"], "121507");
    let history = ledger.json(&["history", "mz", "--json"]);
    let amounts: Vec<&Json> = history
        .as_array()
        .expect("history is an array")
        .iter()
        .map(|r| &r["claim"]["value"]["amount"])
        .collect();
    assert_eq!(amounts, ["95300", "100000", "110000", "121507"]);
    assert_eq!(ledger.head_count(), 4);
}

/// `history` shows what changed inside the sources, not only who published them.
#[test]
fn history_shows_changes_inside_sources() {
    let ledger = Ledger::new();
    ledger.import(concat!(
        r#"{"key":"k","subject":"s","claimant":"C","statement":"S","sources":[{"publisher":"Example News","url":"https://example.org/a","quote":"95,300"}]}"#,
        "\n",
        r#"{"op":"revise","claim":"k","reason":"moved","sources":[{"publisher":"Example News","url":"https://example.org/b","quote":"121,507"}]}"#,
        "\n"
    ));
    ledger.ok(&[
        "revise",
        "k",
        "--reason",
        "another",
        "--publisher",
        "AFP",
        "--quote",
        "it said so",
    ]);
    let history = ledger.ok(&["history", "k"]);
    for line in [
        "  sources[0].url: https://example.org/a → https://example.org/b",
        "  sources[0].quote: “95,300” → “121,507”",
        "  sources[1]: added: publisher AFP, quote “it said so”",
    ] {
        assert!(
            history.lines().any(|l| l == line),
            "{line:?} in:\n{history}"
        );
    }
    assert!(
        !history.contains("Example News → Example News"),
        "{history}"
    );
}
