//! docs/FORMAT.md's worked example, replayed: the exact bytes and hashes the document shows must
//! be what the binary stores, so that the document stays true.

use crate::support::Ledger;

const FORMAT_DOC: &str = include_str!("../../docs/FORMAT.md");

/// The lines of the first fenced block in the document that holds a line starting with `start`.
fn doc_block_with(start: &str) -> Vec<&'static str> {
    let mut blocks = FORMAT_DOC.split("```").skip(1).step_by(2);
    let block = blocks
        .find(|b| b.lines().any(|l| l.starts_with(start)))
        .expect("the example block is in docs/FORMAT.md");
    block.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn the_worked_example_is_what_the_binary_writes() {
    // The commands exactly as the document gives them, less the continuation backslashes.
    let commands: Vec<String> = doc_block_with("claims add")
        .join("\n")
        .replace("\\\n", " ")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(commands.len(), 4, "init, add, revise, export: {commands:?}");
    let ledger = Ledger::uninitialised();
    for command in &commands[..3] {
        let words = shell_words(command);
        assert_eq!(words[0], "claims");
        let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        args.extend(["--author", "ana"]);
        ledger.ok(&args);
    }
    let export = ledger.ok(&["export"]);
    let documented: Vec<&str> = doc_block_with(r#"{"v":1,"seq":1"#);
    assert_eq!(
        export.lines().collect::<Vec<_>>(),
        documented,
        "docs/FORMAT.md shows other bytes than `claims export` prints"
    );
    let entries = export.lines().filter(|l| l.starts_with("{\"v\":"));
    for (line, documented_len) in entries.zip(sizes_in_doc()) {
        assert_eq!(
            line.len(),
            documented_len,
            "docs/FORMAT.md gives another size for {line}"
        );
    }
    let head = ledger.head().trim_end().to_owned();
    assert!(
        FORMAT_DOC.contains(&format!("`{head}`")),
        "docs/FORMAT.md does not show the head {head}"
    );
    let log = ledger.ok(&["log", "--json"]);
    for line in log.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let hash = entry["hash"].as_str().unwrap();
        assert!(
            FORMAT_DOC.contains(hash),
            "docs/FORMAT.md does not show the hash {hash}"
        );
    }
}

/// The byte counts the document states: "(the first is N bytes, the second M;".
fn sizes_in_doc() -> Vec<usize> {
    let sentence = FORMAT_DOC
        .split("(the first is ")
        .nth(1)
        .expect("the document states the sizes");
    let numbers: Vec<usize> = sentence
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(2)
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2);
    numbers
}

/// Splits a command line as a POSIX shell would for the simple quoting the document uses.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_quotes = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// Exports of real ledgers pass the verifier written from docs/FORMAT.md alone, and the
/// verifier agrees with `claims head`; an altered export fails it.
#[test]
fn the_independent_verifier_accepts_real_exports() {
    let ledger = Ledger::new();
    ledger.ok(&[
        "import",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/seed-claims.jsonl"
        ),
    ]);
    ledger.ok(&[
        "revise",
        "mediazona-named-dead",
        "--kind",
        "status",
        "--status",
        "superseded",
        "--reason",
        "A newer count replaces it",
    ]);
    ledger.ok(&[
        "revise",
        "mod-2022-09",
        "--kind",
        "correction",
        "--reason",
        "Method\nwas misquoted",
        "--method",
        "Official statement\nof the ministry",
    ]);
    let export = ledger.ok(&["export"]);
    let head = ledger.head().trim_end().to_owned();
    let expected = independent_verifier::parse_head(&head).unwrap();
    let report = independent_verifier::verify(export.as_bytes(), Some(&expected))
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.head(), head);

    assert!(report.checkpoint.is_some(), "a bundle has its checkpoint");

    // Entry 1 altered: entry 2's prev shows it (line 3 of the bundle).
    let altered = export.replacen("95300", "85300", 1);
    assert_ne!(altered, export);
    let failure = independent_verifier::verify(altered.as_bytes(), None).unwrap_err();
    assert_eq!(failure.line, 3, "{failure}");
    // The last entry altered: only the checkpoint's root shows it.
    let lines: Vec<&str> = export.lines().collect();
    let last = lines.len() - 2;
    let mut altered: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    altered[last] = altered[last].replacen("\"reason\":\"", "\"reason\":\"X", 1);
    assert_ne!(altered[last], lines[last]);
    let altered = altered.join("\n") + "\n";
    let failure = independent_verifier::verify(altered.as_bytes(), None).unwrap_err();
    assert_eq!(failure.line, lines.len() as u64, "{failure}");
    assert!(
        failure.reason.contains("is not the Merkle root"),
        "{failure}"
    );
    // An export of an older build, the entries alone, still verifies.
    let entries_alone: String = lines[1..last + 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let report = independent_verifier::verify(entries_alone.as_bytes(), Some(&expected))
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.checkpoint, None);
}

/// Whatever FORMAT.md says an entry may or may not be, `claims` enforces, and the verifier
/// written from the document alone agrees: each variant of the worked example's second entry
/// (a revision, so the chain before it holds) is accepted by both or refused by both, as the
/// table says. The rules tried are the ones the document spells out for outsiders: the one
/// byte form, recording times, RFC 3339 dates, text and URL rules, claim ids and keys.
#[test]
fn claims_and_the_independent_verifier_agree_with_the_document() {
    let documented: Vec<&str> = doc_block_with(r#"{"v":1,"seq":1"#)
        .into_iter()
        .filter(|line| line.starts_with(r#"{"v":"#))
        .collect();
    let (first, second) = (documented[0], documented[1]);
    let at = |from: &str, to: &str| {
        assert_eq!(second.matches(from).count(), 1, "{from:?} occurs once");
        second.replacen(from, to, 1)
    };
    let stated = |date: &str| {
        at(
            r#""stated_on":"2025-08""#,
            &format!(r#""stated_on":"{date}""#),
        )
    };
    let url = |url: &str| {
        at(
            r#"{"publisher":"AFP","#,
            &format!(
                r#"{{"url":{},"publisher":"AFP","#,
                serde_json::to_string(url).expect("JSON")
            ),
        )
    };
    let recorded = |time: &str| at("2025-08-13T12:00:00.000000Z", time);
    let cases: Vec<(&str, String, bool)> = vec![
        ("as written", second.to_owned(), true),
        // Recording times never go back; the stored form is fixed.
        (
            "a later time",
            recorded("2025-08-13T12:00:00.000001Z"),
            true,
        ),
        (
            "an earlier time",
            recorded("2025-08-13T11:59:59.999999Z"),
            false,
        ),
        (
            "a leap second",
            recorded("2025-08-13T23:59:60.000000Z"),
            false,
        ),
        (
            "lower-case z",
            recorded("2025-08-13T12:00:00.000000z"),
            false,
        ),
        (
            "seven fraction digits",
            recorded("2025-08-13T12:00:00.0000000Z"),
            false,
        ),
        (
            "an offset",
            recorded("2025-08-13T12:00:00.000000+00:00"),
            false,
        ),
        // Dates of section 1.
        ("a year", stated("2025"), true),
        ("year 0000", stated("0000"), true),
        ("a timestamp", stated("2025-08-01T10:30:00Z"), true),
        (
            "nine fraction digits",
            stated("2025-08-01T10:30:00.123456789+03:00"),
            true,
        ),
        (
            "ten fraction digits",
            stated("2025-08-01T10:30:00.1234567891+03:00"),
            false,
        ),
        ("lower-case t", stated("2025-08-01t10:30:00Z"), false),
        (
            "lower-case z in a date",
            stated("2025-08-01T10:30:00z"),
            false,
        ),
        ("a space for T", stated("2025-08-01 10:30:00Z"), false),
        (
            "a leap second in a date",
            stated("2016-12-31T23:59:60Z"),
            true,
        ),
        ("offset 23:59", stated("2025-08-01T10:30:00+23:59"), true),
        ("offset 24:00", stated("2025-08-01T10:30:00+24:00"), false),
        ("a padded month", stated("2025- 8-01"), false),
        ("no such day", stated("2025-02-29"), false),
        // Text.
        (
            "a blank claimant",
            at("Mediazona & BBC Russian Service", "   "),
            false,
        ),
        (
            "a no-break space claimant",
            at("Mediazona & BBC Russian Service", "\u{a0}"),
            false,
        ),
        (
            "a line break in a claimant",
            at("Mediazona & BBC", r"Mediazona\n& BBC"),
            false,
        ),
        (
            "a line break in a statement",
            at("121,507 named", r"121,507\nnamed"),
            true,
        ),
        (
            "DEL in a statement",
            at("121,507 named", "121,507\u{7f}named"),
            false,
        ),
        // URLs: the WHATWG URL Standard's absolute http(s) URLs, no control character.
        ("a URL", url("https://example.org/a?b#c"), true),
        ("a URL with a space", url("https://example.org/a b"), true),
        ("a URL without slashes", url("https:example.org"), true),
        (
            "a URL with a port out of range",
            url("https://example.org:99999/"),
            false,
        ),
        (
            "a URL with a line break",
            url("https://example.org/a\nb"),
            false,
        ),
        ("a URL with a tab", url("https://exa\tmple.org/"), false),
        ("an ftp URL", url("ftp://example.org/"), false),
        ("a URL without a host", url("https://?a"), false),
        (
            "a URL with extra slashes",
            url("https:///example.org/a"),
            true,
        ),
        // Claim ids: RFC 9562 version 7, variant 10.
        ("another variant", at("75f1-82b8", "75f1-c2b8"), false),
        ("another version", at("75f1-82b8", "45f1-82b8"), false),
        // Decimals.
        (
            "minus zero",
            at(r#""amount":"121507""#, r#""amount":"-0""#),
            true,
        ),
        (
            "a plus sign",
            at(r#""amount":"121507""#, r#""amount":"+1""#),
            false,
        ),
    ];
    for (what, line, valid) in cases {
        let bundle = format!("{first}\n{line}\n");
        let theirs = independent_verifier::verify(bundle.as_bytes(), None);
        let ledger = Ledger::new();
        ledger.write("bundle.jsonl", &bundle);
        let out = ledger.run(&["verify", "--bundle", "bundle.jsonl"]);
        let ours = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.success(), valid, "claims, {what}: {ours}");
        assert_eq!(
            theirs.is_ok(),
            valid,
            "the independent verifier, {what}: {theirs:?}"
        );
        if !valid {
            assert!(
                ours.starts_with("FAILED: bundle.jsonl: entry 2: "),
                "{what}: {ours}"
            );
        }
    }
}
