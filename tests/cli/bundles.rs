//! Bundles (docs/FORMAT.md section 4): `claims export [--sign KEY]` writes the origin, the
//! entries and the checkpoint of the last one; `claims verify --bundle [--key VERIFIER]` checks
//! every entry against that checkpoint, the last one included; `claims init --from-bundle`
//! keeps the origin. Exports of older builds (the entries alone) still verify and restore.

use crate::support::{assert_error, export_entries, str_at, text, Ledger, EXIT_INPUT};

const SMALL: &str = include_str!("fixtures/small.jsonl");
const ORIGIN: &str = "example.org/bundles";
const EXIT_INTEGRITY: i32 = 1;

/// A ledger named [`ORIGIN`] with the small fixture, its signing key in `ledger.key`, and its
/// verifier key.
fn ledger() -> (Ledger, String) {
    let ledger = Ledger::uninitialised();
    ledger.ok(&["init", "--origin", ORIGIN]);
    ledger.import(SMALL);
    let verifier = ledger
        .ok(&["key", "generate", "--name", ORIGIN, "--out", "ledger.key"])
        .trim_end()
        .to_owned();
    (ledger, verifier)
}

/// `claims verify --bundle FILE ARGS`: the exit code and standard output.
fn verify(ledger: &Ledger, file: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = ledger.run(&[&["verify", "--bundle", file][..], args].concat());
    (out.status.code(), text(&out.stdout))
}

fn assert_fails(ledger: &Ledger, file: &str, args: &[&str], fragment: &str) {
    let (code, said) = verify(ledger, file, args);
    assert_eq!(code, Some(EXIT_INTEGRITY), "{file} {args:?}: {said}");
    assert!(
        said.starts_with(&format!("FAILED: {file}: ")) && said.contains(fragment),
        "{file} {args:?}: expected {fragment:?} in {said}"
    );
}

/// The bundle's lines, with `edit` applied to the line at `index`.
fn edited(bundle: &str, index: usize, edit: impl Fn(&str) -> String) -> String {
    let mut lines: Vec<String> = bundle.lines().map(str::to_owned).collect();
    let was = lines[index].clone();
    lines[index] = edit(&was);
    assert_ne!(lines[index], was, "the edit changed line {index}");
    lines.join("\n") + "\n"
}

#[test]
fn a_bundle_carries_its_origin_and_the_checkpoint_of_its_last_entry() {
    let (ledger, verifier) = ledger();
    let head = ledger.head().trim_end().to_owned();
    let unsigned = ledger.ok(&["export"]);
    let signed = ledger.ok(&["export", "--sign", "ledger.key"]);
    let lines: Vec<&str> = signed.lines().collect();
    assert_eq!(
        lines.len(),
        11,
        "the header, 9 entries, the checkpoint line"
    );
    assert_eq!(
        lines[0],
        format!("{{\"bundle\":1,\"origin\":\"{ORIGIN}\"}}")
    );
    let note = ledger.ok(&["checkpoint", "--sign", "ledger.key"]);
    assert_eq!(
        lines[10],
        format!(
            "{{\"checkpoint\":{}}}",
            serde_json::to_string(&note).unwrap()
        )
    );
    assert_eq!(
        export_entries(unsigned.as_bytes()),
        export_entries(signed.as_bytes()),
        "the same entries, signed or not"
    );
    ledger.write("signed.jsonl", &signed);
    ledger.write("unsigned.jsonl", &unsigned);

    let ok = format!("OK: 9 entries, 5 claims; head {head}; its checkpoint of {ORIGIN} matches");
    let (code, said) = verify(&ledger, "signed.jsonl", &["--key", &verifier]);
    assert_eq!(code, Some(0), "{said}");
    let key_label: String = verifier
        .splitn(3, '+')
        .take(2)
        .collect::<Vec<_>>()
        .join("+");
    assert_eq!(said, format!("{ok}, signed by {key_label}\n"));
    let (code, said) = verify(&ledger, "signed.jsonl", &[]);
    assert_eq!(code, Some(0));
    assert_eq!(said, format!("{ok}; signature not checked (no --key)\n"));
    let (code, said) = verify(&ledger, "unsigned.jsonl", &["--expect-head", &head]);
    assert_eq!(code, Some(0));
    assert!(said.starts_with(&format!("OK: 9 entries, 5 claims; head {head}; holds the expected head {head}; its checkpoint of {ORIGIN} matches; unsigned")), "{said}");
    let json = ledger.json(&[
        "verify",
        "--bundle",
        "signed.jsonl",
        "--key",
        &verifier,
        "--json",
    ]);
    assert_eq!(json["ok"], true);
    assert_eq!(json["origin"], ORIGIN);
    assert_eq!(json["checkpoint"], "verified");
    assert_eq!(
        ledger.json(&["verify", "--bundle", "unsigned.jsonl", "--json"])["checkpoint"],
        "unsigned"
    );

    // A key that cannot sign fails before anything is written.
    ledger.ok(&[
        "key",
        "generate",
        "--name",
        "example.org/other",
        "--out",
        "other.key",
    ]);
    let out = ledger.run(&["export", "--sign", "other.key"]);
    assert_error(&out, EXIT_INPUT, "the key is named \"example.org/other\"");
    assert!(out.stdout.is_empty(), "nothing written");
}

/// The last entry is protected: altered, it no longer gives the checkpoint's root; and when
/// the checkpoint is rewritten to match, only the signature, checked with the key, shows it.
#[test]
fn a_bundle_altered_in_its_last_entry_fails() {
    let (ledger, verifier) = ledger();
    let signed = ledger.ok(&["export", "--sign", "ledger.key"]);
    let unsigned = ledger.ok(&["export"]);
    // A note added to the last entry: a valid entry, which no later entry's prev covers.
    let add_note = |line: &str| line.replacen("\"claim\":{", "\"note\":\"forged\",\"claim\":{", 1);
    for (name, bundle) in [("signed", &signed), ("unsigned", &unsigned)] {
        let file = format!("{name}-last-altered.jsonl");
        ledger.write(&file, edited(bundle, 9, add_note));
        assert_fails(
            &ledger,
            &file,
            &[],
            "its 9 entries do not give its checkpoint's root",
        );
        assert_fails(
            &ledger,
            &file,
            &["--key", &verifier],
            "its 9 entries do not give its checkpoint's root",
        );
        // Never restored.
        let target = Ledger::uninitialised();
        let out = target.run(&[
            "init",
            "--from-bundle",
            ledger.root().join(&file).to_str().unwrap(),
        ]);
        assert_error(
            &out,
            EXIT_INTEGRITY,
            "fails verification, so no ledger was made",
        );
        assert!(!target.dir().join("db").exists());
    }

    // The forger rewrites the checkpoint too: a ledger of the altered entries gives it.
    let forger = Ledger::uninitialised();
    let altered = edited(&unsigned, 9, add_note);
    forger.write("altered.jsonl", &altered);
    let entries = String::from_utf8(export_entries(altered.as_bytes())).unwrap();
    forger.write("entries.jsonl", &entries);
    forger.ok(&["init", "--from-bundle", "entries.jsonl", "--origin", ORIGIN]);
    let forged_body = forger.ok(&["checkpoint"]);
    let forged_line = format!(
        "{{\"checkpoint\":{}}}",
        serde_json::to_string(&forged_body).unwrap()
    );
    let forged = edited(&altered, 10, |_| forged_line.clone());
    ledger.write("forged.jsonl", &forged);
    // Unsigned, the forgery is consistent: only a kept head shows it (and the OK line says
    // that nothing vouches for the bundle).
    let (code, said) = verify(&ledger, "forged.jsonl", &[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("unsigned, it shows the bundle intact, not who made it"),
        "{said}"
    );
    let head = ledger.head().trim_end().to_owned();
    assert_fails(
        &ledger,
        "forged.jsonl",
        &["--expect-head", &head],
        "entry 9: its hash",
    );
    // With the key, the missing signature is refused; the original signature line kept under
    // the forged body does not verify.
    assert_fails(&ledger, "forged.jsonl", &["--key", &verifier], "not signed");
    let note: serde_json::Value = serde_json::from_str(signed.lines().last().unwrap()).unwrap();
    let (_, signatures) = note["checkpoint"]
        .as_str()
        .unwrap()
        .split_once("\n\n")
        .unwrap();
    let forged_signed_note = format!("{forged_body}\n{signatures}");
    let forged_signed = edited(&altered, 10, |_| {
        format!(
            "{{\"checkpoint\":{}}}",
            serde_json::to_string(&forged_signed_note).unwrap()
        )
    });
    ledger.write("forged-signed.jsonl", &forged_signed);
    assert_fails(
        &ledger,
        "forged-signed.jsonl",
        &["--key", &verifier],
        "does not match the checkpoint",
    );
}

/// A bundle's framing has one form: a damaged header, a missing or malformed checkpoint line,
/// a line after it, another origin, another size: each fails, naming it.
#[test]
fn a_bundle_whose_framing_is_wrong_fails() {
    let (ledger, verifier) = ledger();
    let bundle = ledger.ok(&["export"]);
    let lines: Vec<&str> = bundle.lines().collect();
    let without_last = lines[..lines.len() - 1].join("\n") + "\n";
    let with_extra = format!("{bundle}{}\n", lines[1]);
    let other_origin = edited(&bundle, 0, |l| l.replace(ORIGIN, "example.org/other"));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "header-spaced",
            edited(&bundle, 0, |l| l.replacen(":1,", ": 1,", 1)),
            "not in the one form",
        ),
        (
            "header-version",
            edited(&bundle, 0, |l| l.replacen(":1,", ":2,", 1)),
            "the bundle is of format 2",
        ),
        (
            "header-origin",
            edited(&bundle, 0, |l| l.replace(ORIGIN, "has space")),
            "is not usable as a ledger origin",
        ),
        (
            "cut-short",
            without_last,
            "ends without its checkpoint line",
        ),
        (
            "line-after",
            with_extra,
            "a line follows the checkpoint line",
        ),
        (
            "other-origin",
            other_origin,
            "but its first line names \"example.org/other\"",
        ),
        (
            "checkpoint-json",
            edited(&bundle, 10, |l| l.replacen("\":\"", "\": \"", 1)),
            "not in the one form",
        ),
        (
            "checkpoint-size",
            edited(&bundle, 10, |l| l.replacen("\\n9\\n", "\\n8\\n", 1)),
            "its checkpoint is of 8 entries, but it holds 9",
        ),
        (
            "checkpoint-text",
            edited(&bundle, 10, |l| l.replacen("\\n9\\n", "\\n09\\n", 1)),
            "its checkpoint: line 2 of the checkpoint",
        ),
    ];
    for (name, text, fragment) in cases {
        let file = format!("{name}.jsonl");
        ledger.write(&file, text);
        assert_fails(&ledger, &file, &[], fragment);
    }
    // --key needs --bundle, and a usable key.
    assert_error(
        &ledger.run(&["verify", "--key", &verifier]),
        EXIT_INPUT,
        "--bundle",
    );
    ledger.write("bundle.jsonl", &bundle);
    assert_error(
        &ledger.run(&["verify", "--bundle", "bundle.jsonl", "--key", "nonsense"]),
        EXIT_INPUT,
        "--key: the verifier key \"nonsense\" is not usable",
    );
}

/// `init --from-bundle` keeps the bundle's origin, so that the restored ledger's checkpoints go
/// on from the original's, signed by the same key.
#[test]
fn a_restored_ledger_keeps_its_identity() {
    let (ledger, verifier) = ledger();
    ledger.write(
        "before.checkpoint",
        ledger.ok(&["checkpoint", "--sign", "ledger.key"]),
    );
    let bundle = ledger.write(
        "bundle.jsonl",
        ledger.ok(&["export", "--sign", "ledger.key"]),
    );
    let path = ledger.root().join(&bundle);
    let path = path.to_str().unwrap();

    let restored = Ledger::uninitialised();
    let said = restored.run(&["init", "--from-bundle", path]);
    assert!(said.status.success());
    assert!(text(&said.stderr).contains(&format!("(origin {ORIGIN})")));
    assert_eq!(
        str_at(&restored.json(&["head", "--json"]), "/origin"),
        ORIGIN
    );
    assert_eq!(restored.head(), ledger.head());
    assert_eq!(restored.ok(&["export"]), ledger.ok(&["export"]));
    // Its checkpoints are the original's, signed with the original key, and go on from them.
    std::fs::copy(
        ledger.root().join("ledger.key"),
        restored.root().join("ledger.key"),
    )
    .unwrap();
    std::fs::copy(
        ledger.root().join("before.checkpoint"),
        restored.root().join("before.checkpoint"),
    )
    .unwrap();
    assert_eq!(
        restored.ok(&["checkpoint", "--sign", "ledger.key"]),
        ledger.ok(&["checkpoint", "--sign", "ledger.key"])
    );
    restored.ok(&[
        "add",
        "--subject",
        "s",
        "--claimant",
        "c",
        "--statement",
        "after",
    ]);
    restored.ok(&[
        "prove",
        "--since",
        "before.checkpoint",
        "--sign",
        "ledger.key",
        "--out",
        "p.json",
    ]);
    restored.ok(&["verify-proof", "p.json", "--key", &verifier]);

    // --origin may only repeat the bundle's.
    let same = Ledger::uninitialised();
    same.ok(&["init", "--from-bundle", path, "--origin", ORIGIN]);
    let other = Ledger::uninitialised();
    assert_error(
        &other.run(&[
            "init",
            "--from-bundle",
            path,
            "--origin",
            "example.org/copy",
        ]),
        EXIT_INPUT,
        "is of the ledger \"example.org/bundles\", and a restored ledger keeps its origin",
    );
    assert!(!other.dir().exists());
}

/// An export of an older build, the entries alone, still verifies, saying that its last entry
/// is not protected, and restores with the origin given.
#[test]
fn exports_of_older_builds_still_verify_and_restore() {
    let (ledger, verifier) = ledger();
    let head = ledger.head().trim_end().to_owned();
    let entries = String::from_utf8(export_entries(ledger.ok(&["export"]).as_bytes())).unwrap();
    ledger.write("old.jsonl", &entries);
    let (code, said) = verify(&ledger, "old.jsonl", &[]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        said,
        format!(
            "OK: 9 entries, 5 claims; head {head}; the bundle has no checkpoint (an export from \
             an older claimledger), so its last entry is not protected: check its head against \
             one kept elsewhere with --expect-head\n"
        )
    );
    assert_eq!(
        ledger.json(&["verify", "--bundle", "old.jsonl", "--json"])["checkpoint"],
        "none"
    );
    assert_fails(
        &ledger,
        "old.jsonl",
        &["--key", &verifier],
        "no checkpoint to check the key against",
    );
    let path = ledger.root().join("old.jsonl");
    let restored = Ledger::uninitialised();
    restored.ok(&[
        "init",
        "--from-bundle",
        path.to_str().unwrap(),
        "--origin",
        ORIGIN,
    ]);
    assert_eq!(restored.ok(&["export"]), ledger.ok(&["export"]));
}
