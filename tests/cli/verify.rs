//! `claims verify`, `claims export` and the hash chain they expose.

use crate::support::{assert_error, copy_dir, is_hash, str_at, Ledger, ZERO_HASH};
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
            "snapshots": {"count": 0, "bytes": 0, "checked": true},
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

/// One content, one byte form (docs/FORMAT.md section 2): each variant of a real entry that a
/// JSON parser would read as an entry, but that is not the one byte form of its content, is
/// refused by `verify --bundle`, by `init --from-bundle` (which then makes no ledger), and by
/// `verify` once stored in a ledger, each naming the entry and what is wrong. The entry varied
/// is the last, so that the chain before it holds and the form alone is at fault.
#[test]
fn entries_not_in_their_one_byte_form_are_refused() {
    use claimledger_core::Seq;
    use claimledger_store::{forge, SledStorage};

    let ledger = Ledger::new();
    ledger.import(SMALL);
    // The entries alone: a bundle of an older build, which verifies without a checkpoint, so
    // that each refusal below is the entry's own.
    let export: String = ledger
        .ok(&["export"])
        .lines()
        .filter(|line| line.starts_with(r#"{"v":"#))
        .map(|line| format!("{line}\n"))
        .collect();
    let (before, last) = export
        .trim_end()
        .rsplit_once('\n')
        .expect("more than one entry");
    let not = "entry 9: entry is not in canonical form: ";
    let cases = [
        (
            r#""kind":"correction""#,
            r#""kind": "correction""#,
            format!("{not}white space at byte"),
        ),
        (
            r#""kind":"correction""#,
            "\"kind\":\"correction\"\t",
            format!("{not}white space at byte"),
        ),
        (
            r#""tester""#,
            r#""t\u0065ster""#,
            format!("{not}the escape `\\u0065` (U+0065 is written as its UTF-8 bytes)"),
        ),
        (
            "Named the analysts.",
            r"Named the\/analysts.",
            format!("{not}the escape `\\/`"),
        ),
        (
            "Named the analysts.",
            r"Named\u001Fthe analysts.",
            format!("{not}the escape `\\u001F` (its hex digits are written in lowercase)"),
        ),
        (
            "Named the analysts.",
            r"Named\u000athe analysts.",
            format!("{not}the escape `\\u000a` (U+000A is written `\\n`)"),
        ),
        (
            r#""reason":"Named the analysts.","#,
            r#""reason":"Named the analysts.","note":null,"#,
            format!("{not}field `note` is null"),
        ),
        (
            r#""period":{"from":"2022"},"#,
            r#""period":{"from":"2022","to":null},"#,
            format!("{not}field `claim.period.to` is null"),
        ),
        (
            r#""status":"active""#,
            r#""sources":[],"status":"active""#,
            format!("{not}field `claim.sources` is an empty list"),
        ),
        (
            r#"["estimate","range"]"#,
            "[]",
            format!("{not}field `claim.tags` is an empty list"),
        ),
        (
            r#""low":"150000","high":"200000""#,
            r#""high":"200000","low":"150000""#,
            format!("{not}field `claim.value.low` is out of order (it comes before `high`)"),
        ),
        (
            r#""recorded_at":"2025-08-13T12:00:00.000000Z","author":"tester""#,
            r#""author":"tester","recorded_at":"2025-08-13T12:00:00.000000Z""#,
            format!("{not}field `author` is out of order (`recorded_at` comes before it)"),
        ),
        (
            r#""author":"tester""#,
            r#""author":"tester","author":"tester""#,
            format!("{not}field `author` appears twice"),
        ),
        (
            r#""author":"tester""#,
            r#""author":"tester","signed":true"#,
            format!("{not}unknown field `signed`"),
        ),
        (
            r#""seq":9"#,
            r#""seq":9.0"#,
            format!("{not}field `seq` is not written as section 2 writes integers"),
        ),
        (
            r#""revision":2"#,
            r#""revision":2e0"#,
            format!("{not}field `revision` is not written as section 2 writes integers"),
        ),
        (
            r#""low":"150000""#,
            r#""low":150000"#,
            format!("{not}field `claim.value.low` is a number (decimals are stored as strings)"),
        ),
        (
            "T12:00:00.000000Z",
            "t12:00:00.000000Z",
            "entry 9: entry is invalid: field `recorded_at`: ".to_owned(),
        ),
    ];
    for (i, (from, to, expected)) in cases.iter().enumerate() {
        assert_eq!(last.matches(from).count(), 1, "{from:?} occurs once");
        let variant = last.replacen(from, to, 1);
        assert!(
            serde_json::from_str::<Json>(&variant).is_ok(),
            "a JSON parser reads the variant: {variant}"
        );
        let bundle = ledger.write(
            &format!("variant-{i}.jsonl"),
            format!("{before}\n{variant}\n"),
        );

        let out = ledger.run(&["verify", "--bundle", &bundle]);
        assert_eq!(out.status.code(), Some(1), "{to}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("FAILED: {bundle}: {expected}")),
            "{to}: {stdout}"
        );

        let restored = ledger.root().join(format!("restored-{i}"));
        let out = ledger
            .cmd(&[
                "--ledger",
                &restored.display().to_string(),
                "init",
                "--from-bundle",
                &bundle,
            ])
            .output()
            .expect("claims runs");
        assert_error(
            &out,
            1,
            &format!("{bundle} fails verification, so no ledger was made: {expected}"),
        );
        assert!(!restored.join("db").exists(), "{to}: a ledger was made");

        let stored = ledger.root().join(format!("stored-{i}"));
        copy_dir(ledger.dir(), &stored).expect("a copy of the ledger");
        let mut storage =
            SledStorage::open(&stored, std::time::Duration::from_secs(10)).expect("open");
        forge::overwrite_entry(&mut storage, Seq(9), variant.as_bytes()).expect("overwrite");
        drop(storage);
        let out = ledger
            .cmd(&["--ledger", &stored.display().to_string(), "verify"])
            .output()
            .expect("claims runs");
        assert_eq!(out.status.code(), Some(1), "{to}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("FAILED: {expected}")),
            "{to}: {stdout}"
        );
    }
    // The entry as written passes all three.
    let bundle = ledger.write("canonical.jsonl", &export);
    ledger.ok(&["verify", "--bundle", &bundle]);
}

/// A status revision that changes more than the status, and a revision that changes nothing,
/// are refused in a bundle (and so by `init --from-bundle`) as `claims revise` refuses them,
/// naming the entry.
#[test]
fn bundles_with_revisions_the_format_forbids_fail() {
    let ledger = Ledger::new();
    ledger.import(SMALL);
    let export = ledger.ok(&["export"]);
    let lines: Vec<&str> = export
        .lines()
        .filter(|line| line.starts_with(r#"{"v":"#))
        .collect();
    // Entry 8 is the status revision of `peskov`, from disputed to retracted.
    let status = lines[7];
    assert!(status.contains(r#""kind":"status""#), "{status}");
    for (from, to, expected) in [
        (
            "Casualty figures are not disclosed.",
            "Casualty figures are disclosed.",
            "entry 8: revision 2 of claim ",
        ),
        (
            "Casualty figures are not disclosed.",
            "Casualty figures are disclosed.",
            " is of kind status but changes more than the status",
        ),
        (
            r#""status":"retracted""#,
            r#""status":"disputed""#,
            " changes nothing",
        ),
        (r#""kind":"status""#, r#""kind":"update""#, ""),
    ] {
        let variant = status.replacen(from, to, 1);
        let bundle = ledger.write(
            "revised.jsonl",
            format!("{}\n{variant}\n", lines[..7].join("\n")),
        );
        let out = ledger.run(&["verify", "--bundle", &bundle]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if expected.is_empty() {
            assert!(out.status.success(), "{stdout}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(expected), "{stdout}");
        let out = ledger
            .cmd(&["--ledger", "restored", "init", "--from-bundle", &bundle])
            .output()
            .expect("claims runs");
        assert_error(&out, 1, expected);
    }
}
