//! What researchers do with a ledger: compare claimants' figures, import CSV, and the shell
//! conveniences.

use crate::support::{assert_error, Ledger, EXIT_INPUT};
use serde_json::Value as Json;

const SEEDS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-claims.jsonl"
);

fn seeded() -> Ledger {
    let ledger = Ledger::new();
    ledger.ok(&["import", SEEDS]);
    ledger
}

/// The keys of `compare SUBJECT --sort SORT --json`, in order.
fn compared(ledger: &Ledger, subject: &str, sort: &str) -> Vec<String> {
    let rows = ledger.json(&["compare", subject, "--sort", sort, "--json"]);
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn compare_sorts_by_date_and_by_figure() {
    let ledger = seeded();
    let by_date = compared(&ledger, "russia/military-deaths", "stated");
    assert_eq!(
        by_date.first().map(String::as_str),
        Some("mod-2022-09"),
        "{by_date:?}"
    );
    assert!(by_date.contains(&"mediazona-named-dead".to_owned()));
    let by_amount = compared(&ledger, "russia/military-deaths", "amount");
    let figures: Vec<&str> = [
        "mod-2022-09",
        "mediazona-named-dead",
        "mediazona-meduza-estimate-2025-02",
    ]
    .into_iter()
    .filter(|k| by_amount.contains(&k.to_string()))
    .collect();
    let positions: Vec<usize> = figures
        .iter()
        .map(|k| by_amount.iter().position(|x| x == k).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "5,937 < 121,507 < 165,000: {by_amount:?}"
    );
    // Sub-subjects (breakdowns) are not part of the comparison.
    assert!(
        !by_date.iter().any(|k| k.contains("volunteers")),
        "{by_date:?}"
    );
}

#[test]
fn compare_shows_figures_as_a_reader_says_them() {
    let ledger = seeded();
    let text = ledger.ok(&["compare", "ukraine/military-deaths"]);
    assert!(text.contains("≥ 46,000"), "{text}");
    let wounded = ledger.ok(&["compare", "ukraine/military-wounded"]);
    assert!(wounded.contains("≈ 380,000"), "{wounded}");
    let rows = ledger.json(&["compare", "russia/military-deaths", "--json"]);
    let mz = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "mediazona-named-dead")
        .unwrap();
    assert_eq!(mz["figure"], "121,507 soldiers");
    assert_eq!(mz["revisions"], 2);
    assert_eq!(mz["value"]["amount"], "121507");
    assert_eq!(
        mz["period"],
        serde_json::json!({"from": "2022-02-24", "to": "2025-07-31"})
    );
}

#[test]
fn compare_refuses_a_bad_subject() {
    let ledger = seeded();
    assert_error(&ledger.run(&["compare", "Russia"]), EXIT_INPUT, "SUBJECT:");
    assert_eq!(
        ledger.json(&["compare", "no/such-subject", "--json"]),
        Json::Array(vec![])
    );
}

const CSV: &str = "op,key,claim,reason,subject,claimant,statement,amount,bound,unit,from,to,stated_on,publisher,quote,tags\n\
,mz,,,russia/military-deaths,Mediazona & BBC,\"95,300 named dead\",95300,,people,2022-02-24,2025-02-24,2025-02-24,AFP,\"stands at 95,300\",named-dead;open-source\n\
,zel,,,ukraine/military-deaths,Volodymyr Zelensky,\"more than 46,000 killed\",46000,at_least,soldiers,,,2025-02,NBC,,\n\
revise,,mz,\"new count, to 31 July\",,,\"121,507 named dead\",121507,,people,,2025-07-31,2025-08,,,\n";

#[test]
fn csv_import_records_and_revises() {
    let ledger = Ledger::new();
    let file = ledger.write("claims.csv", CSV);
    let report = ledger.ok(&["import", "--csv", &file]);
    assert!(
        report.starts_with("imported 3 entries (2 recorded, 1 revised)"),
        "{report}"
    );
    let mz = ledger.show("mz");
    assert_eq!(mz["revision"], 2);
    assert_eq!(mz["claim"]["value"]["amount"], "121507");
    // As in JSON, a revise's period replaces the whole period.
    assert_eq!(
        mz["claim"]["period"],
        serde_json::json!({"to": "2025-07-31"})
    );
    assert_eq!(
        mz["claim"]["tags"],
        serde_json::json!(["named-dead", "open-source"])
    );
    assert_eq!(ledger.show("zel")["claim"]["value"]["bound"], "at_least");
    ledger.assert_verifies();
}

#[test]
fn csv_import_is_all_or_nothing() {
    let ledger = Ledger::new();
    let head = ledger.head();
    for (csv, fragment) in [
        (
            CSV.replace("2025-07-31", "2025-13-01"),
            "line 4: field `period.to`",
        ),
        (
            CSV.replace(",46000,", ",46.000e0,"),
            "line 3: field `value.amount`",
        ),
        (
            CSV.replace("op,key", "op,colour"),
            "line 1: column 2 of the header, \"colour\", is not a field",
        ),
        (
            format!("{CSV}revise,,nobody,r,,,x,,,,,,,,,\n"),
            "line 5: field `claim`: no claim has the id or key \"nobody\"",
        ),
        (
            format!("{CSV},x,,,s,c\n"),
            "line 5: has 6 cells but the header has 16 columns",
        ),
        (format!("{CSV}\"unterminated,x\n"), "line 5:"),
    ] {
        let file = ledger.write("bad.csv", &csv);
        assert_error(
            &ledger.run(&["import", "--csv", &file]),
            EXIT_INPUT,
            fragment,
        );
        assert_eq!(ledger.head(), head, "{fragment}");
    }
}

#[test]
fn completions_and_man_page() {
    let ledger = Ledger::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = ledger.ok(&["completions", shell]);
        assert!(
            script.contains("compare") && script.contains("verify"),
            "{shell}"
        );
    }
    let man = ledger.ok(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH claims"),
        "{}",
        &man[..man.len().min(200)]
    );
    assert!(man.contains("import"));
    assert_error(&ledger.run(&["completions", "tcsh"]), EXIT_INPUT, "tcsh");
}
