//! What a user expects of any command-line tool: one exit-code policy for the files they name,
//! a word when they press Ctrl-C, input and flags that follow convention, help and manual
//! pages, JSON from every command that reports something, and numbers written for people.

use crate::support::{assert_error, Ledger, EXIT_INPUT, EXIT_IO};
use std::io::Write;
use std::process::Stdio;

/// A ledger holding one claim, `mz`.
fn ledger() -> Ledger {
    let ledger = Ledger::new();
    ledger.import(
        r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named","value":{"amount":95300},"stated_on":"2025-02-24"}"#,
    );
    ledger
}

/// A file the user names: a path that names nothing, a directory, or a file that must not be
/// replaced is bad input (2); the system refusing to write is the environment (4). Either way
/// the ledger is unchanged.
#[test]
fn files_named_by_the_user_follow_one_exit_code_policy() {
    let ledger = ledger();
    ledger.write("exists.key", "x");
    ledger.ok(&["key", "generate", "--out", "signing.key"]);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["key", "generate", "--out", "missing-dir/k.key"],
            EXIT_INPUT,
            "cannot create missing-dir/k.key: No such file or directory",
        ),
        (
            &["key", "generate", "--out", "/dev/full/k.key"],
            EXIT_INPUT,
            "cannot create /dev/full/k.key: Not a directory",
        ),
        (
            &["key", "generate", "--out", "exists.key"],
            EXIT_INPUT,
            "exists.key already exists; a key is never overwritten",
        ),
        (
            &["import", "missing.jsonl"],
            EXIT_INPUT,
            "cannot read missing.jsonl: No such file or directory",
        ),
        (
            &["verify", "--bundle", "missing.jsonl"],
            EXIT_INPUT,
            "cannot read missing.jsonl",
        ),
        (
            &["checkpoint", "--sign", "missing.key"],
            EXIT_INPUT,
            "cannot read key file missing.key",
        ),
        (
            &["key", "verifier", "missing.key"],
            EXIT_INPUT,
            "cannot read key file missing.key",
        ),
        (
            &["man", "--dir", "/dev/full/pages"],
            EXIT_INPUT,
            "cannot create /dev/full/pages",
        ),
        (
            &["prove", "mz", "--out", "/dev/full"],
            EXIT_IO,
            "cannot write /dev/full: No space left on device",
        ),
    ];
    let head = ledger.head();
    for (args, code, fragment) in cases {
        assert_error(&ledger.run(args), *code, fragment);
    }
    assert_eq!(ledger.head(), head);
}

/// An import file given where a bundle is expected is named for what it is.
#[test]
fn an_import_file_is_not_a_bundle() {
    let ledger = ledger();
    let jsonl = ledger.write(
        "claims.jsonl",
        r#"{"key":"k","subject":"s","claimant":"C","statement":"S"}"#,
    );
    let csv = ledger.write("claims.csv", "key,subject,claimant,statement\nk,s,C,S\n");
    for (file, flag) in [(&jsonl, ""), (&csv, " --csv")] {
        let hint = format!(
            "{file} is an import file (claims in the input format), not a bundle from `claims \
             export`; to record its claims, use `claims import{flag} {file}`"
        );
        let copy = ledger.root().join(format!("copy-{file}"));
        let out = ledger.run(&[
            "init",
            "--from-bundle",
            file,
            "--ledger",
            copy.to_str().unwrap(),
        ]);
        assert_error(&out, EXIT_INPUT, &hint);
        assert!(!copy.join("db").exists(), "no ledger was made");
        assert_error(
            &ledger.run(&["verify", "--bundle", file]),
            EXIT_INPUT,
            &hint,
        );
    }
}

/// Whether process `pid` has a handler for SIGINT (bit 2 of `SigCgt` in /proc).
fn catches_sigint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("SigCgt:"))?;
            u64::from_str_radix(line.trim_start_matches("SigCgt:").trim(), 16).ok()
        })
        .is_some_and(|mask| mask & 0b10 != 0)
}

/// Ctrl-C during an import ends it with exit code 130 and a word that nothing was written; the
/// ledger is as it was, and the same import then succeeds.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_during_an_import_says_nothing_was_written() {
    let ledger = ledger();
    let head = ledger.head();
    let lines: String = (0..5_000)
        .map(|i| {
            format!(
                "{{\"key\":\"c{i}\",\"subject\":\"s\",\"claimant\":\"C\",\"statement\":\"S\"}}\n"
            )
        })
        .collect();
    let mut child = ledger
        .std_cmd(&["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claims starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // More than one batch, and the input still open: the import is reading when interrupted.
    stdin.write_all(lines.as_bytes()).expect("claims reads");
    let started = std::time::Instant::now();
    while !catches_sigint(child.id()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "claims never watched for Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("claims ends");
    drop(stdin);
    assert_error(
        &out,
        130,
        "interrupted: nothing was imported; the ledger is as it was",
    );
    assert_eq!(ledger.head(), head);
    ledger.assert_verifies();
    ledger.write("all.jsonl", &lines);
    assert!(ledger
        .ok(&["import", "all.jsonl"])
        .starts_with("imported 5000 entries"));
}

/// `claims key verifier KEYFILE` prints again the verifier key that `key generate` printed,
/// which then checks the checkpoints the key signs; a file that is not a key is refused.
#[test]
fn key_verifier_prints_the_verifier_key_again() {
    let ledger = ledger();
    let printed = ledger.ok(&["key", "generate", "--out", "signing.key"]);
    assert_eq!(ledger.ok(&["key", "verifier", "signing.key"]), printed);
    let json = ledger.json(&["key", "verifier", "signing.key", "--json"]);
    assert_eq!(json["verifier_key"], printed.trim_end());
    assert_eq!(json["key_file"], "signing.key");
    assert_eq!(
        json["name"].as_str(),
        printed.split('+').next(),
        "the key is named after the ledger's origin"
    );
    ledger.write(
        "verifier.txt",
        ledger.ok(&["key", "verifier", "signing.key"]),
    );
    ledger.ok(&["prove", "mz", "--sign", "signing.key", "--out", "mz.proof"]);
    ledger.ok(&["verify-proof", "mz.proof", "--key", "verifier.txt"]);

    let head = ledger.head();
    ledger.write("not-a-key", "PRIVATE+KEY+x+00000000+AAAA\n");
    for file in ["verifier.txt", "not-a-key", "mz.proof"] {
        assert_error(
            &ledger.run(&["key", "verifier", file]),
            EXIT_INPUT,
            "is this a key file from `claims key generate`?",
        );
    }
    assert_eq!(ledger.head(), head);
}

/// Every command that reports something has `--json`, in the shape docs/CLI.md gives.
#[test]
fn reports_have_json() {
    let ledger = ledger();
    let generated = ledger.json(&["key", "generate", "--out", "signing.key", "--json"]);
    let verifier = generated["verifier_key"].as_str().unwrap().to_owned();
    assert_eq!(generated["key_file"], "signing.key");
    ledger.write("verifier.txt", &verifier);

    let checkpoint = ledger.json(&["checkpoint", "--json"]);
    assert_eq!(checkpoint["size"], 1);
    assert_eq!(checkpoint["signed"], false);
    let text = ledger.ok(&["checkpoint"]);
    assert_eq!(checkpoint["checkpoint"], text.as_str());
    assert_eq!(
        checkpoint["origin"].as_str(),
        text.lines().next(),
        "the origin is the checkpoint's first line"
    );
    assert_eq!(checkpoint["root"].as_str(), text.lines().nth(2));
    let signed = ledger.json(&["checkpoint", "--json", "--sign", "signing.key"]);
    assert_eq!(signed["signed"], true);
    assert_eq!(signed["root"], checkpoint["root"]);

    ledger.ok(&["prove", "mz", "--sign", "signing.key", "--out", "mz.proof"]);
    let proven = ledger.json(&[
        "verify-proof",
        "mz.proof",
        "--key",
        "verifier.txt",
        "--json",
    ]);
    assert_eq!(proven["ok"], true);
    assert_eq!(proven["type"], "inclusion");
    assert_eq!(proven["seq"], 1);
    assert_eq!(proven["revision"], 1);
    assert_eq!(proven["key"], "mz");
    assert_eq!(proven["claim_id"], ledger.show("mz")["id"]);
    assert_eq!(proven["size"], 1);
    let label: Vec<&str> = verifier.splitn(3, '+').take(2).collect();
    assert_eq!(proven["signed_by"], label.join("+"));
    let line = ledger.ok(&["verify-proof", "mz.proof"]);
    assert!(
        line.starts_with("OK: entry 1 (revision 1 of claim mz ("),
        "the claim is named by its key: {line}"
    );
    assert!(line.contains("of 1 entry;"), "{line}");
    let unchecked = ledger.json(&["verify-proof", "mz.proof", "--json"]);
    assert_eq!(unchecked["signed_by"], serde_json::Value::Null);

    let checkpoint_file = ledger.write("old.checkpoint", &text);
    ledger.ok(&["revise", "mz", "--reason", "r", "--amount", "121507"]);
    ledger.ok(&["prove", "--since", &checkpoint_file, "--out", "c.proof"]);
    let consistent = ledger.json(&["verify-proof", "c.proof", "--json"]);
    assert_eq!(consistent["type"], "consistency");
    assert_eq!(
        (consistent["old_size"].as_u64(), consistent["size"].as_u64()),
        (Some(1), Some(2))
    );
}

/// Help lists the command's own flags first, then the global ones under their own heading.
#[test]
fn help_lists_global_flags_last() {
    let ledger = ledger();
    for args in [
        &["--help"][..],
        &["list", "--help"],
        &["key", "generate", "--help"],
    ] {
        let help = ledger.ok(args);
        let global = help
            .find("Global options:")
            .expect("a heading for global flags");
        let ledger_flag = help.find("--ledger <DIR>").expect("--ledger is listed");
        assert!(
            ledger_flag > global,
            "{args:?}: --ledger is under Global options"
        );
        let own = help.find("Options:").expect("the command's own options");
        assert!(own < global, "{args:?}: own options come first");
    }
}

/// `claims man --dir DIR` writes one page per command, each with the exit codes and the
/// environment, and none with Markdown backticks.
#[test]
fn man_pages_per_command() {
    let ledger = ledger();
    ledger.ok(&["man", "--dir", "pages"]);
    let dir = ledger.root().join("pages");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for expected in [
        "claims.1",
        "claims-add.1",
        "claims-key-generate.1",
        "claims-key-verifier.1",
        "claims-verify-proof.1",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    // One page per subcommand, however many there are.
    let help = ledger.ok(&["--help"]);
    let commands = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter(|l| !l.trim_start().starts_with("help "))
        .count();
    assert!(
        names.len() > commands,
        "{} pages for {commands} commands",
        names.len()
    );
    for name in &names {
        let page = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(page.contains(".SH \"EXIT STATUS\""), "{name}");
        assert!(page.contains(".SH ENVIRONMENT"), "{name}");
        assert!(page.contains("CLAIMS_LEDGER"), "{name}");
        assert!(!page.contains('`'), "{name} has a backtick");
    }
    assert_eq!(
        ledger.ok(&["man"]),
        std::fs::read_to_string(dir.join("claims.1")).unwrap(),
        "claims man prints claims.1"
    );
}

/// A UTF-8 byte order mark at the start of a JSON Lines file or a JSON object is accepted, as
/// it is in CSV; one at the start of a later line is named.
#[test]
fn a_byte_order_mark_starts_a_file() {
    let ledger = ledger();
    let record =
        |key: &str| format!(r#"{{"key":"{key}","subject":"s","claimant":"C","statement":"S"}}"#);
    ledger.write(
        "bom.jsonl",
        format!("\u{feff}{}\n{}\n", record("b1"), record("b2")),
    );
    ledger.ok(&["import", "bom.jsonl"]);
    ledger.write("bom.json", format!("\u{feff}{}", record("b3")));
    ledger.ok(&["add", "--json", "bom.json"]);
    ledger.write(
        "bom.csv",
        "\u{feff}key,subject,claimant,statement\nb4,s,C,S\n",
    );
    ledger.ok(&["import", "--csv", "bom.csv"]);
    for key in ["b1", "b2", "b3", "b4"] {
        assert_eq!(ledger.show(key)["key"], key);
    }
    let head = ledger.head();
    ledger.write(
        "late.jsonl",
        format!("{}\n\u{feff}{}\n", record("b5"), record("b6")),
    );
    assert_error(
        &ledger.run(&["import", "late.jsonl"]),
        EXIT_INPUT,
        "late.jsonl: line 2: starts with a byte order mark (U+FEFF), which may only start the file",
    );
    assert_eq!(ledger.head(), head);
}

/// `--low` and `--high` alone give a range; with --amount they are refused as before.
#[test]
fn low_and_high_imply_a_range() {
    let ledger = ledger();
    ledger.ok(&[
        "add",
        "--key",
        "r",
        "--subject",
        "s",
        "--claimant",
        "C",
        "--statement",
        "S",
        "--low",
        "60000",
        "--high",
        "70000",
        "--unit",
        "soldiers",
    ]);
    assert_eq!(
        ledger.show("r")["claim"]["value"],
        serde_json::json!({"bound": "range", "low": "60000", "high": "70000", "unit": "soldiers"})
    );
    assert!(ledger
        .ok(&["show", "r"])
        .contains("figure     60,000–70,000 soldiers"));
}

/// `--source-url` and the other source flags repeat, one source per repetition, on `add` as
/// on `revise`.
#[test]
fn source_flags_repeat() {
    let ledger = ledger();
    ledger.ok(&[
        "add",
        "--key",
        "two",
        "--subject",
        "s",
        "--claimant",
        "C",
        "--statement",
        "S",
        "--source-url",
        "https://a.example/",
        "--source-url",
        "https://b.example/",
        "--quote",
        "q",
    ]);
    assert_eq!(
        ledger.show("two")["claim"]["sources"],
        serde_json::json!([{"url": "https://a.example/"}, {"url": "https://b.example/", "quote": "q"}])
    );
}
