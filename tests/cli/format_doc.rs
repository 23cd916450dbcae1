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
