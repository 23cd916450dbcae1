//! Listings people can use: `compare` and `list --subject` agree on a subject's subtree, pages
//! with `--limit` and `--offset`, text search, CSV for spreadsheets; and the two times of a
//! claim: `--as-of` (recording time, dates accepted) and `--stated-by` (stated time).

use crate::support::{assert_error, Ledger, EXIT_INPUT};
use serde_json::Value as Json;

/// The seed claims of the two news reports (examples/seed-claims.jsonl).
fn seeded() -> Ledger {
    let ledger = Ledger::new();
    let seeds = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-claims.jsonl"),
    )
    .unwrap();
    ledger.import(&seeds);
    ledger
}

/// The keys of a JSON listing, in order.
fn keys(listing: &Json) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap_or("-").to_owned())
        .collect()
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

/// `compare SUBJECT` and `list --subject SUBJECT` select the same claims, for a parent subject
/// as for a leaf; `--exact` on both keeps the subject itself only.
#[test]
fn compare_and_list_agree_on_a_subtree() {
    let ledger = seeded();
    for subject in [
        "russia",
        "russia/military-deaths",
        "ukraine/military-deaths",
        "france/pension-protest",
    ] {
        for exact in [false, true] {
            let mut compare = vec!["compare", subject, "--json"];
            let mut list = vec!["list", "--subject", subject, "--json"];
            if exact {
                compare.push("--exact");
                list.push("--exact");
            }
            assert_eq!(
                sorted(keys(&ledger.json(&compare))),
                sorted(keys(&ledger.json(&list))),
                "{subject}, exact: {exact}"
            );
        }
    }
    assert_eq!(
        keys(&ledger.json(&["compare", "russia", "--json"])).len(),
        24
    );
    // The table names each claim by its key, and the part of its subject below the one asked.
    let table = ledger.ok(&["compare", "russia/military-deaths"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("CLAIM  "), "{table}");
    assert!(header.contains("BELOW"), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with("mediazona-named-dead-volunteers-2025-07 "))
        .unwrap();
    assert!(row.contains(" volunteers "), "{row}");
    let exact = ledger.ok(&["compare", "russia/military-deaths", "--exact"]);
    assert!(!exact.contains("BELOW"), "{exact}");
    assert!(
        exact
            .lines()
            .any(|l| l.starts_with("mediazona-named-dead ")),
        "{exact}"
    );
}

/// `--limit` and `--offset` page through a listing: the pages, put together, are the listing.
#[test]
fn pages() {
    let ledger = seeded();
    let all = keys(&ledger.json(&["list", "--json"]));
    assert_eq!(all.len(), 30);
    let mut paged = Vec::new();
    for offset in (0..35).step_by(7) {
        let page = keys(&ledger.json(&[
            "list",
            "--json",
            "--limit",
            "7",
            "--offset",
            &offset.to_string(),
        ]));
        assert!(page.len() <= 7);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    let out = ledger.run(&["list", "--limit", "7", "--offset", "7"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1 + 7);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "claims 8 to 14 shown; more follow (--offset 14)\n"
    );
    let last = ledger.run(&["list", "--limit", "7", "--offset", "28"]);
    assert_eq!(String::from_utf8_lossy(&last.stderr), "2 claims\n");
    assert_eq!(
        ledger.ok(&["list", "--offset", "30"]),
        "CLAIM  SUBJECT  CLAIMANT  FIGURE  STATED  REV  STATUS\n"
    );
}

/// `--text` finds claims by statement, claimant or key, whatever the case.
#[test]
fn text_search() {
    let ledger = seeded();
    let found = |text: &str| sorted(keys(&ledger.json(&["list", "--json", "--text", text])));
    assert_eq!(
        found("KREMLIN"),
        [
            "peskov-mod-prerogative-2025-02-25",
            "peskov-no-comment-2025-02-25"
        ]
    );
    assert_eq!(
        found("butusov"),
        ["butusov-ua-dead-2024-12", "butusov-ua-missing-2024-12"]
    );
    assert_eq!(found("Ua-Missing"), ["butusov-ua-missing-2024-12"]);
    assert_eq!(found("rubio"), ["rubio-july-deaths-2025-08-12"]);
    assert!(found("no such words").is_empty());
    // With other filters.
    assert_eq!(
        keys(&ledger.json(&[
            "list",
            "--json",
            "--text",
            "mediazona",
            "--subject",
            "russia/military-deaths/2024"
        ])),
        ["mediazona-named-dead-2024"]
    );
}

/// `--csv` on `list` and `compare`: a header row and a claim a row, as `--json` lists them.
#[test]
fn csv_for_spreadsheets() {
    let ledger = seeded();
    ledger.ok(&[
        "add",
        "--key",
        "formula",
        "--subject",
        "test/csv",
        "--claimant",
        "=HYPERLINK(\"x\")",
        "--statement",
        "a, \"quoted\"\nstatement",
        "--amount",
        "-5",
    ]);
    for args in [
        &["list"][..],
        &["compare", "russia"],
        &["list", "--subject", "test/csv"],
    ] {
        let mut csv_args = args.to_vec();
        csv_args.push("--csv");
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let text = ledger.ok(&csv_args);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            &header[..6],
            ["id", "key", "revision", "subject", "claimant", "statement"]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let json = ledger.json(&json_args);
        let json = json.as_array().unwrap();
        assert_eq!(rows.len(), json.len(), "{args:?}");
        let mut csv_keys: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
        let mut json_keys: Vec<&str> = json.iter().map(|c| c["key"].as_str().unwrap()).collect();
        csv_keys.sort();
        json_keys.sort();
        assert_eq!(csv_keys, json_keys, "{args:?}");
    }
    let text = ledger.ok(&["list", "--subject", "test/csv", "--csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let column = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    // A cell a spreadsheet would run as a formula is quoted; numbers are left as they are.
    assert_eq!(column("claimant"), "'=HYPERLINK(\"x\")");
    assert_eq!(column("statement"), "a, \"quoted\"\nstatement");
    assert_eq!(column("amount"), "-5");
    assert_eq!(column("figure"), "'-5");
}

/// `--stated-by DATE`: each claim at its latest revision stated on or before the date. The
/// Mediazona count was 95,300 when stated on 2025-02-24 and 121,507 when stated in 2025-08.
#[test]
fn stated_by() {
    let ledger = seeded();
    let amount = |args: &[&str]| ledger.json(args)["claim"]["value"]["amount"].clone();
    for (by, expected) in [
        ("2025-02-24", "95300"),
        ("2025-03", "95300"),
        ("2025-07-31", "95300"),
        ("2025-08", "121507"),
        ("2025", "121507"),
        ("2026-01-01T00:00:00Z", "121507"),
    ] {
        assert_eq!(
            amount(&["show", "mediazona-named-dead", "--stated-by", by, "--json"]),
            expected,
            "{by}"
        );
    }
    // A statement dated to the month may have been made at any time in it: not by mid-August.
    assert_eq!(
        amount(&[
            "show",
            "mediazona-named-dead",
            "--stated-by",
            "2025-08-15",
            "--json"
        ]),
        "95300"
    );
    assert_error(
        &ledger.run(&["show", "mediazona-named-dead", "--stated-by", "2025-02-23"]),
        EXIT_INPUT,
        "has no revision stated on or before 2025-02-23",
    );
    assert_error(
        &ledger.run(&["show", "mediazona-named-dead", "--stated-by", "March"]),
        EXIT_INPUT,
        "--stated-by: \"March\" is not a date",
    );
    // Listings leave out what was not yet said, and show the rest as it was said then.
    let march = ledger.json(&[
        "compare",
        "russia/military-deaths",
        "--exact",
        "--stated-by",
        "2025-03",
        "--json",
    ]);
    assert_eq!(
        sorted(keys(&march)),
        [
            "mediazona-meduza-estimate-2025-02",
            "mediazona-named-dead",
            "mediazona-undercount-2025-02",
            "mod-2022-09",
            "peskov-no-comment-2025-02-25",
        ]
    );
    let mz = march
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "mediazona-named-dead")
        .unwrap();
    assert_eq!(
        (mz["value"]["amount"].as_str(), mz["revisions"].as_u64()),
        (Some("95300"), Some(1))
    );
    let listed = ledger.json(&["list", "--stated-by", "2024-12", "--json"]);
    assert_eq!(
        sorted(keys(&listed)),
        [
            "austin-2024-12",
            "butusov-ua-dead-2024-12",
            "butusov-ua-missing-2024-12",
            "mod-2022-09"
        ]
    );
    // With recording time too: as the ledger stood before the revision was recorded.
    let revised_at = ledger.json(&["history", "mediazona-named-dead", "--json"])[1]["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(
        amount(&[
            "show",
            "mediazona-named-dead",
            "--stated-by",
            "2025-08",
            "--as-of",
            &(revised_at - 1).to_string(),
            "--json"
        ]),
        "95300"
    );
}

/// `--as-of` takes a date alone as the end of that day or month, in UTC; a bare number is an
/// entry number.
#[test]
fn as_of_takes_dates() {
    let ledger = Ledger::new();
    let at = |now: &str, args: &[&str]| {
        let out = ledger.cmd(args).env("CLAIMS_NOW", now).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    at(
        "2025-03-10T23:59:59.999999Z",
        &[
            "add",
            "--key",
            "march",
            "--subject",
            "s",
            "--claimant",
            "C",
            "--statement",
            "S",
        ],
    );
    at(
        "2025-04-01T00:00:00Z",
        &[
            "add",
            "--key",
            "april",
            "--subject",
            "s",
            "--claimant",
            "C",
            "--statement",
            "S",
        ],
    );
    at(
        "2025-04-02T10:00:00Z",
        &["revise", "march", "--reason", "r", "--statement", "T"],
    );
    let listed = |as_of: &str| keys(&ledger.json(&["list", "--json", "--as-of", as_of]));
    assert_eq!(listed("2025-03"), ["march"]);
    assert_eq!(listed("2025-03-10"), ["march"]);
    assert_eq!(listed("2025-03-31"), ["march"]);
    assert_eq!(listed("2025-04"), ["march", "april"]);
    assert_eq!(listed("2025-04-01"), ["march", "april"]);
    assert_eq!(listed("2025-03-10T23:59:59Z"), Vec::<String>::new());
    assert_eq!(listed("1"), ["march"]);
    let statement = |as_of: &str| {
        ledger.json(&["show", "march", "--json", "--as-of", as_of])["claim"]["statement"].clone()
    };
    assert_eq!(statement("2025-04-01"), "S");
    assert_eq!(statement("2025-04-02"), "T");
    assert_error(
        &ledger.run(&["show", "march", "--as-of", "2025-03-09"]),
        EXIT_INPUT,
        "the ledger held no claims yet at that time",
    );
    assert_error(
        &ledger.run(&["list", "--as-of", "2025"]),
        EXIT_INPUT,
        "--as-of 2025: the ledger holds 3 entries",
    );
}

/// `--help` of the commands that take both times says which is which.
#[test]
fn help_explains_the_two_times() {
    let ledger = Ledger::new();
    for command in ["show", "list", "compare"] {
        let help = ledger.ok(&[command, "--help"]);
        for words in [
            "--as-of <SEQ|TIME>",
            "Recording time",
            "--stated-by <DATE>",
            "Stated time",
            "Two times",
        ] {
            assert!(
                help.contains(words),
                "{command} --help lacks {words:?}:\n{help}"
            );
        }
    }
}
