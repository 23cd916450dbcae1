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
    // Sub-subjects (breakdowns) are part of the comparison, as of `list --subject`, unless
    // --exact.
    assert!(
        by_date.iter().any(|k| k.contains("volunteers")),
        "{by_date:?}"
    );
    let exact: Vec<String> = ledger
        .json(&["compare", "russia/military-deaths", "--exact", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert!(!exact.iter().any(|k| k.contains("volunteers")), "{exact:?}");
    assert!(exact.contains(&"mediazona-named-dead".to_owned()));
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

/// The head of `ledger` as `COUNT:HASH`.
fn head_of(ledger: &Ledger) -> String {
    ledger.head().trim_end().to_owned()
}

#[test]
fn bundles_verify_offline_and_restore_with_the_same_head() {
    let ledger = seeded();
    let head = head_of(&ledger);
    let bundle = ledger.write("bundle.jsonl", ledger.ok(&["export"]));
    let ok = ledger.ok(&["verify", "--bundle", &bundle, "--expect-head", &head]);
    assert!(
        ok.starts_with(&format!("OK: 31 entries, 30 claims; head {head}")),
        "{ok}"
    );

    let restored = Ledger::uninitialised();
    let path = ledger.root().join(&bundle);
    restored.ok(&["init", "--from-bundle", path.to_str().unwrap()]);
    assert_eq!(head_of(&restored), head);
    restored.assert_verifies();
    assert_eq!(restored.show("mediazona-named-dead")["revision"], 2);
    assert_eq!(restored.ok(&["export"]), ledger.ok(&["export"]));
    // The restored ledger takes new claims like any other.
    restored.ok(&[
        "add",
        "--subject",
        "s",
        "--claimant",
        "c",
        "--statement",
        "after the restore",
    ]);
    restored.assert_verifies();
}

#[test]
fn altered_or_rolled_back_bundles_fail() {
    let ledger = seeded();
    let head = head_of(&ledger);
    let export = ledger.ok(&["export"]);
    let lines: Vec<&str> = export.lines().collect();
    let hash = head.split_once(':').unwrap().1;
    let expect = |head: &str| vec!["--expect-head".to_owned(), head.to_owned()];
    for (name, text, args, fragment) in [
        (
            "altered",
            export.replacen("95300", "85300", 1),
            vec![],
            "entry 1: its hash is not the prev recorded by entry 2",
        ),
        (
            "swapped",
            format!("{}\n{}\n{}\n", lines[1], lines[0], lines[2..].join("\n")),
            vec![],
            "entry 1:",
        ),
        (
            "gap",
            format!("{}\n{}\n", lines[0], lines[2..].join("\n")),
            vec![],
            "entry 2: it says it is entry 3",
        ),
        (
            "rolled-back",
            format!("{}\n", lines[..20].join("\n")),
            expect(&head),
            "holds 20 entries, fewer than the expected head's 31",
        ),
        (
            "rewritten",
            export.clone(),
            expect(&format!("5:{hash}")),
            "entry 5: its hash",
        ),
    ] {
        let file = ledger.write(&format!("{name}.jsonl"), text);
        let mut all = vec!["verify", "--bundle", file.as_str()];
        all.extend(args.iter().map(String::as_str));
        let out = ledger.run(&all);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("FAILED: {name}.jsonl: ")) && stdout.contains(fragment),
            "{name}: {stdout}"
        );
        if args.is_empty() {
            // A bundle that fails verification is never restored.
            let target = Ledger::uninitialised();
            let out = target.run(&[
                "init",
                "--from-bundle",
                ledger.root().join(&file).to_str().unwrap(),
            ]);
            assert_error(&out, 1, "fails verification, so no ledger was made");
            assert!(!target.dir().join("db").exists());
        }
    }
    // The same checks on the ledger itself.
    let out = ledger.run(&["verify", "--expect-head", &format!("40:{hash}")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("fewer than the expected head's 40"));
    assert_error(
        &ledger.run(&["verify", "--expect-head", "12"]),
        EXIT_INPUT,
        "--expect-head \"12\": expected COUNT:HASH",
    );
}

#[test]
fn time_travel_by_entry_and_by_time() {
    let ledger = seeded();
    let revised_at: u64 = ledger.json(&["history", "mediazona-named-dead", "--json"])[1]["seq"]
        .as_u64()
        .unwrap();
    let before = (revised_at - 1).to_string();
    let shown = ledger.json(&["show", "mediazona-named-dead", "--as-of", &before, "--json"]);
    assert_eq!(shown["claim"]["value"]["amount"], "95300");
    assert_eq!(shown["revision"], 1);
    assert_eq!(
        ledger
            .json(&[
                "history",
                "mediazona-named-dead",
                "--as-of",
                &before,
                "--json"
            ])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let rows = ledger.json(&[
        "compare",
        "russia/military-deaths",
        "--as-of",
        &before,
        "--json",
    ]);
    let mz = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "mediazona-named-dead")
        .unwrap();
    assert_eq!(mz["value"]["amount"], "95300");
    // Claims recorded later are not there yet.
    let early = ledger.json(&["list", "--as-of", "3", "--json"]);
    assert_eq!(early.as_array().unwrap().len(), 3);
    assert_error(
        &ledger.run(&["show", "trump-july-deaths-2025-08-01", "--as-of", "3"]),
        EXIT_INPUT,
        "was recorded after entry 3",
    );
    assert_error(
        &ledger.run(&["show", "mediazona-named-dead", "--as-of", "99"]),
        EXIT_INPUT,
        "the ledger holds 31 entries",
    );
    // By time: the pinned clock recorded everything at one instant.
    assert_eq!(
        ledger
            .json(&["list", "--as-of", "2025-08-13T12:00:00Z", "--json"])
            .as_array()
            .unwrap()
            .len(),
        30
    );
    assert_eq!(
        ledger.json(&["list", "--as-of", "2025-08-13T11:59:59Z", "--json"]),
        Json::Array(vec![])
    );
    assert_error(
        &ledger.run(&["list", "--as-of", "yesterday"]),
        EXIT_INPUT,
        "is not an entry number or a time; expected SEQ, YYYY-MM, YYYY-MM-DD or an RFC 3339 time",
    );
}

#[test]
fn as_of_finds_claims_whose_subject_changed_since() {
    let ledger = Ledger::new();
    ledger.import(concat!(
        r#"{"key":"a","subject":"x/one","claimant":"c","statement":"s"}"#,
        "\n",
        r#"{"key":"b","subject":"x/one","claimant":"c","statement":"t"}"#,
        "\n",
    ));
    ledger.ok(&["revise", "a", "--reason", "moved", "--subject", "x/two"]);
    let keys = |args: &[&str]| -> Vec<String> {
        ledger
            .json(args)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&["list", "--subject", "x/one", "--json"]), ["b"]);
    assert_eq!(
        keys(&["list", "--subject", "x/one", "--as-of", "2", "--json"]),
        ["a", "b"]
    );
    assert_eq!(
        keys(&["list", "--subject", "x/two", "--as-of", "2", "--json"]),
        Vec::<String>::new()
    );
}

#[test]
fn covering_keeps_claims_whose_period_covers_the_date() {
    let ledger = seeded();
    let covering = |date: &str| -> Vec<String> {
        let rows = ledger.json(&[
            "compare",
            "russia/military-deaths",
            "--covering",
            date,
            "--json",
        ]);
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(covering("2025-07").contains(&"mediazona-named-dead".to_owned()));
    assert!(!covering("2025-07").contains(&"mod-2022-09".to_owned()));
    assert!(covering("2022-06").contains(&"mod-2022-09".to_owned()));
    assert_error(
        &ledger.run(&["list", "--covering", "2025-13"]),
        EXIT_INPUT,
        "--covering:",
    );
}

#[test]
fn subjects_count_claims_and_latest_statements() {
    let ledger = seeded();
    let rows = ledger.json(&["subjects", "--json"]);
    let deaths = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"] == "russia/military-deaths")
        .unwrap();
    assert_eq!(deaths["claims"], 6);
    assert_eq!(deaths["latest_stated_on"], "2025-08");
    let total: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["claims"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 30);
}
