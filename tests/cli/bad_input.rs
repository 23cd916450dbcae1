//! Bad input is refused with exit code 2 and one line, `error: ` then what is wrong and where,
//! and changes nothing: the head is byte for byte the same and the ledger still verifies.

use crate::support::{assert_error, Ledger, EXIT_INPUT};

/// The claim the ledger holds before every case: key `existing`, revision 1.
const EXISTING: &str = r#"{"key":"existing","subject":"test/existing","claimant":"C","statement":"S","value":{"amount":1},"status":"active"}"#;

/// A valid line 1 of every bad file: if the bad line after it were not refused whole, this
/// claim would be in the ledger.
const LINE_1: &str = r#"{"key":"first","subject":"test/first","claimant":"C","statement":"S"}"#;

/// A ledger holding `EXISTING`.
fn base_ledger() -> Ledger {
    let ledger = Ledger::new();
    ledger.import(EXISTING);
    ledger
}

/// Runs `cmd` (made by `ledger.cmd`) and checks that it is refused as bad input with a
/// one-line error containing `fragment`, and that the ledger is unchanged.
#[track_caller]
fn refused(ledger: &Ledger, mut cmd: assert_cmd::Command, fragment: &str) {
    let head = ledger.head();
    let out = cmd.output().expect("claims runs");
    assert_error(&out, EXIT_INPUT, fragment);
    assert!(
        out.stdout.is_empty(),
        "a refused command prints no result: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(ledger.head(), head, "the ledger changed");
    ledger.assert_verifies();
}

/// Imports a file whose contents are `LINE_1` and then `line`, and checks that it is refused
/// with `bad.jsonl: line 2: ` and `fragment`, importing nothing.
#[track_caller]
fn check(line: impl AsRef<[u8]>, fragment: &str) {
    let mut contents = format!("{LINE_1}\n").into_bytes();
    contents.extend_from_slice(line.as_ref());
    contents.push(b'\n');
    check_file(contents, &format!("bad.jsonl: line 2: {fragment}"));
}

/// Imports `contents` as `bad.jsonl` and checks that it is refused with `fragment`.
#[track_caller]
fn check_file(contents: impl AsRef<[u8]>, fragment: &str) {
    let ledger = base_ledger();
    ledger.write("bad.jsonl", contents);
    refused(&ledger, ledger.cmd(&["import", "bad.jsonl"]), fragment);
    assert_error(
        &ledger.run(&["show", "first"]),
        EXIT_INPUT,
        r#"no claim has the id or key "first""#,
    );
}

/// A record with the required fields and `extra` fields.
fn record(extra: &str) -> String {
    let base = r#""subject":"test/bad","claimant":"C","statement":"S""#;
    if extra.is_empty() {
        format!("{{{base}}}")
    } else {
        format!("{{{base},{extra}}}")
    }
}

#[test]
fn syntax() {
    check(
        r#"{"subject" "test/bad"}"#,
        "invalid JSON: expected `:` at line 1 column 12",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C","#,
        "the JSON ends too early",
    );
    check(r#"{"subject":"test/b"#, "the JSON ends too early");
    check(
        r#"[{"subject":"test/bad","claimant":"C","statement":"S"}]"#,
        "expected a JSON object, got an array",
    );
    check(r#""a string""#, "expected a JSON object, got a string");
    check(
        format!("{} trailing", record("")),
        "invalid JSON: trailing characters",
    );
    check(
        record(r#""op":"delete""#),
        r#"field `op`: "delete" is not an operation; use record or revise"#,
    );
}

#[test]
fn required_fields_and_types() {
    check(
        r#"{"claimant":"C","statement":"S"}"#,
        "field `subject`: is required",
    );
    check(
        r#"{"subject":"test/bad","statement":"S"}"#,
        "field `claimant`: is required",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C"}"#,
        "field `statement`: is required",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C","statement":null}"#,
        "field `statement`: is required",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C","statement":5}"#,
        "field `statement`: must be a string, got a number",
    );
    check(
        r#"{"subject":"test/bad","claimant":"   ","statement":"S"}"#,
        "field `claimant`: is empty",
    );
    check(
        record(r#""colour":"red""#),
        "field `colour`: is not a field of the input format",
    );
    check(
        record(r#""value":{"amount":1,"currency":"EUR"}"#),
        "field `value.currency`: is not a field of the input format",
    );
    check(
        record(r#""tags":"war""#),
        "field `tags`: must be an array, got a string",
    );
    check(
        record(r#""value":"95300""#),
        "field `value`: must be an object, got a string",
    );
}

#[test]
fn values() {
    check(
        record(r#""value":{"amount":1.5}"#),
        "field `value.amount`: 1.5 is not an integer within 64 bits; write decimals and larger integers as strings",
    );
    check(
        record(r#""value":{"amount":"1e5"}"#),
        r#"field `value.amount`: "1e5" is not a decimal"#,
    );
    check(
        record(r#""value":{"amount":"1,000"}"#),
        r#"field `value.amount`: "1,000" is not a decimal"#,
    );
    check(
        record(r#""value":{"amount":"NaN"}"#),
        r#"field `value.amount`: "NaN" is not a decimal"#,
    );
    check(
        record(r#""value":{"amount":true}"#),
        "field `value.amount`: must be a decimal string or an integer, got a boolean",
    );
    check(
        record(r#""value":{"amount":"3","bound":"about"}"#),
        r#"field `value.bound`: "about" is not a bound; use exact, at_least, at_most, approx or range"#,
    );
    check(
        record(r#""value":{"bound":"range","low":"5","high":"2"}"#),
        "field `value.low`: 5 is greater than high 2",
    );
    check(
        record(r#""value":{"bound":"range","low":"5"}"#),
        "field `value.high`: is required when bound is range",
    );
    check(
        record(r#""value":{"bound":"range","amount":"5","low":"1","high":"9"}"#),
        "field `value.amount`: a range has `low` and `high`, not `amount`",
    );
    check(
        record(r#""value":{"unit":"people"}"#),
        "field `value.amount`: is required when bound is exact",
    );
    check(
        record(r#""value":{"amount":"5","low":"1"}"#),
        "field `value.low`: is only for bound range",
    );
}

#[test]
fn dates_and_periods() {
    check(
        record(r#""stated_on":"2024-13""#),
        r#"field `stated_on`: "2024-13" has month 13; months are 01 to 12"#,
    );
    check(
        record(r#""stated_on":"2025-02-30""#),
        r#"field `stated_on`: "2025-02-30" is not a calendar date"#,
    );
    check(
        record(r#""stated_on":"yesterday""#),
        r#"field `stated_on`: "yesterday" is not a date"#,
    );
    check(
        record(r#""period":{"from":"2025-03","to":"2025-01"}"#),
        "field `period.from`: 2025-03 is after to 2025-01",
    );
    check(
        record(r#""period":{}"#),
        "field `period.from`: a period needs `from`, `to` or both",
    );
    check(
        record(r#""period":{"to":"2024-02-30"}"#),
        r#"field `period.to`: "2024-02-30" is not a calendar date"#,
    );
    check(
        record(r#""sources":[{"publisher":"AFP","published_on":"2024-00"}]"#),
        r#"field `sources[0].published_on`: "2024-00" has month 0"#,
    );
}

#[test]
fn names() {
    check(
        r#"{"subject":"Russia/X","claimant":"C","statement":"S"}"#,
        r#"field `subject`: "Russia/X" is not a subject path"#,
    );
    check(
        r#"{"subject":"russia//x","claimant":"C","statement":"S"}"#,
        r#"field `subject`: "russia//x" is not a subject path"#,
    );
    check(
        record(r#""key":"Bad Key""#),
        r#"field `key`: "Bad Key" is not a valid name"#,
    );
    check(
        record(r#""key":"01953a1c-8f00-7000-8000-000000000001""#),
        "field `key`: \"01953a1c-8f00-7000-8000-000000000001\" has the form of a claim id",
    );
    check(
        record(r#""tags":["war","War"]"#),
        r#"field `tags[1]`: "War" is not a valid name"#,
    );
    check(
        record(r#""tags":["war","war"]"#),
        "field `tags[1]`: war is listed twice",
    );
    check(
        record(r#""status":"gone""#),
        r#"field `status`: "gone" is not a status"#,
    );
}

#[test]
fn duplicate_keys() {
    check(
        record(r#""key":"first""#),
        "field `key`: first is already used by claim ",
    );
    check(
        record(r#""key":"existing""#),
        "field `key`: existing is already used by claim ",
    );
}

#[test]
fn revisions() {
    check(
        r#"{"op":"revise","claim":"nope","reason":"r","statement":"x"}"#,
        r#"field `claim`: no claim has the id or key "nope""#,
    );
    check(
        r#"{"op":"revise","claim":"01953a1c-8f00-7000-8000-000000000001","reason":"r","statement":"x"}"#,
        r#"field `claim`: no claim has the id or key "01953a1c-8f00-7000-8000-000000000001""#,
    );
    check(
        r#"{"op":"revise","reason":"r","statement":"x"}"#,
        "field `claim`: is required",
    );
    check(
        r#"{"op":"revise","claim":"first","statement":"x"}"#,
        "field `reason`: is required",
    );
    check(
        r#"{"op":"revise","claim":"first","reason":"  ","statement":"x"}"#,
        "field `reason`: is empty",
    );
    check(
        r#"{"op":"revise","claim":"first","reason":"r","key":"second"}"#,
        "field `key`: a claim's key never changes; name the claim with `claim`",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","statement":"x","expected_revision":2}"#,
        "field `expected_revision`: the claim is at revision 1, not 2; read it again and retry",
    );
    check(
        r#"{"op":"revise","claim":"first","reason":"r","statement":"x","expected_revision":2}"#,
        "field `expected_revision`: the claim is at revision 1, not 2",
    );
    check(
        r#"{"op":"revise","claim":"first","reason":"r","statement":"x","expected_revision":0}"#,
        "field `expected_revision`: must be a revision number",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","kind":"status","status":"disputed","statement":"x"}"#,
        "field `kind`: a status revision changes only `status`, but this one also sets statement",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","kind":"status","status":"active"}"#,
        "field `status`: a status revision must change the status, which is already active",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","kind":"fix","statement":"x"}"#,
        r#"field `kind`: "fix" is not a revision kind"#,
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","statement":"S","value":{"amount":"1"}}"#,
        "the revision changes nothing: every field it sets already has that value",
    );
    check(
        r#"{"op":"revise","claim":"first","reason":"r"}"#,
        "the revision changes nothing",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","subject":null}"#,
        "field `subject`: is required and cannot be removed",
    );
    check(
        r#"{"op":"revise","claim":"existing","reason":"r","period":{"from":"2025","to":"2024"}}"#,
        "field `period.from`: 2025 is after to 2024",
    );
}

#[test]
fn limits() {
    let statement = "x".repeat(4001);
    check(
        record("").replace(
            r#""statement":"S""#,
            &format!(r#""statement":"{statement}""#),
        ),
        "field `statement`: is 4001 characters long; the limit is 4000",
    );
    let tags: Vec<String> = (0..65).map(|i| format!("\"t{i}\"")).collect();
    check(
        record(&format!(r#""tags":[{}]"#, tags.join(","))),
        "field `tags`: has 65 tags; the limit is 64",
    );
    let claimant = "é".repeat(201);
    check(
        record("").replace(r#""claimant":"C""#, &format!(r#""claimant":"{claimant}""#)),
        "field `claimant`: is 201 characters long; the limit is 200",
    );
}

#[test]
fn sources() {
    check(
        record(r#""sources":[{"title":"x"}]"#),
        "field `sources[0].url`: a source needs `url`, `publisher` or both",
    );
    check(
        record(r#""sources":[{"url":"ftp://x.org"}]"#),
        r#"field `sources[0].url`: "ftp://x.org" is not an http or https URL"#,
    );
    check(
        record(r#""sources":[{"publisher":"AFP"},{"url":"not a url"}]"#),
        r#"field `sources[1].url`: "not a url" is not an absolute URL"#,
    );
    check(
        record(r#""sources":[{"publisher":"AFP","page":3}]"#),
        "field `sources[0].page`: is not a field of the input format",
    );
}

#[test]
fn text_and_encoding() {
    check(
        r#"{"subject":"test/bad","claimant":"C\u0000D","statement":"S"}"#,
        r"field `claimant`: contains the control character '\0'",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C\nD","statement":"S"}"#,
        r"field `claimant`: contains the control character '\n'",
    );
    check(
        r#"{"subject":"test/bad","claimant":"C","statement":"S\u0007"}"#,
        r"field `statement`: contains the control character '\u{7}'",
    );
    check(
        b"{\"subject\":\"test/bad\",\"claimant\":\"C\xff\xfe\",\"statement\":\"S\"}",
        "not valid UTF-8 (at byte 36)",
    );
    // A line of 3 MiB with no end: refused once 1 MiB of it has been read.
    check(
        format!(
            r#"{{"subject":"test/bad","claimant":"C","statement":"{}"#,
            "x".repeat(3 << 20)
        ),
        "longer than 1048576 bytes",
    );
    // One byte over the limit.
    let start = r#"{"subject":"test/bad","claimant":"C","statement":"S""#;
    check(
        format!("{start}{}}}", " ".repeat((1 << 20) - start.len())),
        "longer than 1048576 bytes",
    );
}

/// `add --json` and `import` point at the same byte of the same invalid UTF-8.
#[test]
fn invalid_utf8_position_is_the_same_for_add_and_import() {
    let ledger = base_ledger();
    let bytes = b"{\"subject\":\"a\",\"claimant\":\"C\xff\",\"statement\":\"S\"}";
    let name = ledger.write("utf8.json", bytes);
    let position = |args: &[&str]| -> String {
        let out = ledger.run(args);
        assert_error(&out, EXIT_INPUT, "not valid UTF-8 (at byte ");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        stderr
            .rsplit_once("(at byte ")
            .map(|(_, rest)| rest.trim_end().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        position(&["add", "--json", &name]),
        position(&["import", &name])
    );
}

#[test]
fn whole_files() {
    check_file("", "bad.jsonl: no claims in the file");
    check_file("\n\n   \n", "bad.jsonl: no claims in the file");
    check_file(
        r#"{"subject":"test/bad"}"#,
        "bad.jsonl: line 1: field `claimant`: is required",
    );
    // Blank lines are skipped but still counted.
    check_file(
        format!("{LINE_1}\n\n{}\n", r#"{"subject":1}"#),
        "bad.jsonl: line 3: field `subject`: must be a string, got a number",
    );
    // Line endings of either kind.
    check_file(
        format!("{LINE_1}\r\n{}\r\n", r#"{"subject":1}"#),
        "bad.jsonl: line 2: field `subject`",
    );
    // A revise refers only to claims recorded before it, not after.
    check_file(
        format!(
            "{}\n{LINE_1}\n",
            r#"{"op":"revise","claim":"first","reason":"r","statement":"x"}"#
        ),
        r#"bad.jsonl: line 1: field `claim`: no claim has the id or key "first"; nothing was imported"#,
    );
    // The last of many good lines is bad.
    let mut many = String::new();
    for i in 0..100 {
        many.push_str(&format!(
            r#"{{"key":"k{i}","subject":"test/many","claimant":"C","statement":"S"}}"#
        ));
        many.push('\n');
    }
    many.push_str(r#"{"op":"revise","claim":"k99","reason":"r","statement":"S"}"#);
    check_file(many, "bad.jsonl: line 101: the revision changes nothing");
}

#[test]
fn missing_files() {
    let ledger = base_ledger();
    refused(
        &ledger,
        ledger.cmd(&["import", "missing.jsonl"]),
        "cannot read missing.jsonl",
    );
    refused(
        &ledger,
        ledger.cmd(&["add", "--json", "missing.json"]),
        "cannot read missing.json",
    );
    refused(
        &ledger,
        ledger.cmd(&["revise", "--json", "missing.json"]),
        "cannot read missing.json",
    );
}

/// Runs `claims ARGS` on a ledger holding `EXISTING` and checks it is refused with `fragment`.
#[track_caller]
fn check_flags(args: &[&str], fragment: &str) {
    let ledger = base_ledger();
    refused(&ledger, ledger.cmd(args), fragment);
}

/// The same, with `stdin` on standard input.
#[track_caller]
fn check_stdin(args: &[&str], stdin: &str, fragment: &str) {
    let ledger = base_ledger();
    let mut cmd = ledger.cmd(args);
    cmd.write_stdin(stdin);
    refused(&ledger, cmd, fragment);
}

const ADD: [&str; 5] = ["add", "--subject", "test/bad", "--claimant", "C"];

#[test]
fn add_flags() {
    check_flags(&ADD, "field `statement`: is required");
    let add = |extra: &[&str]| -> Vec<String> {
        ADD.iter()
            .chain(&["--statement", "S"])
            .chain(extra)
            .map(|s| (*s).to_owned())
            .collect()
    };
    let check = |extra: &[&str], fragment: &str| {
        let args = add(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check_flags(&args, fragment);
    };
    check(
        &["--amount", "1e5"],
        r#"field `value.amount`: "1e5" is not a decimal"#,
    );
    check(
        &["--bound", "range", "--amount", "5"],
        "field `value.amount`: a range has `low` and `high`, not `amount`",
    );
    check(
        &["--bound", "range", "--low", "9", "--high", "1"],
        "field `value.low`: 9 is greater than high 1",
    );
    check(
        &["--unit", "people"],
        "field `value.amount`: is required when bound is exact",
    );
    check(
        &["--tag", "Bad Tag"],
        r#"field `tags[0]`: "Bad Tag" is not a valid name"#,
    );
    check(
        &["--key", "existing"],
        "field `key`: existing is already used by claim ",
    );
    check(
        &["--key", "Bad Key"],
        r#"field `key`: "Bad Key" is not a valid name"#,
    );
    check(
        &["--source-url", "ftp://x.org"],
        r#"field `sources[0].url`: "ftp://x.org" is not an http or https URL"#,
    );
    check(
        &["--quote", "q"],
        "field `sources[0].url`: a source needs `url`, `publisher` or both",
    );
    check(
        &["--from", "2025", "--to", "2024"],
        "field `period.from`: 2025 is after to 2024",
    );
    check(
        &["--stated-on", "2024-13"],
        r#"field `stated_on`: "2024-13" has month 13"#,
    );
    check(
        &["--status", "gone"],
        r#"field `status`: "gone" is not a status"#,
    );
}

#[test]
fn add_json() {
    check_stdin(&["add", "--json", "-"], "{", "-: the JSON ends too early");
    check_stdin(&["add", "--json", "-"], "", "-: the JSON ends too early");
    check_stdin(
        &["add", "--json", "-"],
        r#"{"op":"revise","claim":"existing","reason":"r","statement":"x"}"#,
        "field `op`: `claims add` records a new claim; use `claims revise` to revise one",
    );
    check_stdin(
        &["add", "--json", "-"],
        r#"{"subject":"test/bad","claimant":"C","statement":"S","value":{"amount":0.5}}"#,
        "-: field `value.amount`: 0.5 is not an integer",
    );
    let big = format!(
        r#"{{"subject":"test/bad","claimant":"C","statement":"S","note":"{}"}}"#,
        " ".repeat(1 << 20)
    );
    check_stdin(
        &["add", "--json", "-"],
        &big,
        "-: longer than 1048576 bytes",
    );
}

#[test]
fn revise_flags() {
    check_flags(
        &["revise", "nope", "--reason", "r", "--statement", "x"],
        r#"no claim has the id or key "nope""#,
    );
    check_flags(
        &[
            "revise",
            "existing",
            "--reason",
            "r",
            "--expect-revision",
            "2",
            "--statement",
            "x",
        ],
        "field `expected_revision`: the claim is at revision 1, not 2; read it again and retry",
    );
    check_flags(
        &["revise", "existing", "--reason", "r", "--amount", "1"],
        "the revision changes nothing",
    );
    check_flags(
        &[
            "revise",
            "existing",
            "--reason",
            "r",
            "--clear",
            "statement",
        ],
        "--clear statement: only value, period, stated_on, method, sources, tags can be removed",
    );
    check_flags(
        &[
            "revise", "existing", "--reason", "r", "--clear", "value", "--amount", "3",
        ],
        "--clear value: the field is also set by another flag",
    );
    check_flags(
        &[
            "revise", "existing", "--reason", "r", "--kind", "status", "--status", "active",
        ],
        "field `status`: a status revision must change the status, which is already active",
    );
    check_flags(
        &[
            "revise",
            "existing",
            "--reason",
            "r",
            "--kind",
            "status",
            "--status",
            "disputed",
            "--statement",
            "x",
        ],
        "field `kind`: a status revision changes only `status`, but this one also sets statement",
    );
    check_flags(
        &["revise", "existing", "--reason", "", "--statement", "x"],
        "field `reason`: is empty",
    );
    check_stdin(
        &["revise", "--json", "-"],
        r#"{"subject":"test/bad","claimant":"C","statement":"S"}"#,
        "field `op`: `claims revise` takes a revise object",
    );
}

#[test]
fn read_commands_and_options() {
    check_flags(
        &["show", "no-such-claim"],
        r#"no claim has the id or key "no-such-claim""#,
    );
    check_flags(
        &["history", "no-such-claim"],
        r#"no claim has the id or key "no-such-claim""#,
    );
    check_flags(
        &["show", "01953a1c-8f00-7000-8000-000000000001"],
        r#"no claim has the id or key "01953a1c-8f00-7000-8000-000000000001""#,
    );
    check_flags(
        &["list", "--subject", "Bad"],
        r#"--subject: "Bad" is not a subject path"#,
    );
    check_flags(
        &["list", "--status", "gone"],
        r#"--status: "gone" is not a status"#,
    );
    check_flags(
        &["list", "--tag", "Bad Tag"],
        r#"--tag: "Bad Tag" is not a valid name"#,
    );
    check_flags(
        &["log", "--from", "0"],
        "--from 0: entries are numbered from 1",
    );
    check_flags(
        &["--wait=-1", "head"],
        "--wait -1: expected seconds from 0 to 86400",
    );
    check_flags(
        &["--wait", "NaN", "head"],
        "--wait NaN: expected seconds from 0 to 86400",
    );
    check_flags(
        &["--wait", "100000", "head"],
        "--wait 100000: expected seconds from 0 to 86400",
    );
    check_flags(
        &[
            "--author",
            "",
            "add",
            "--subject",
            "a",
            "--claimant",
            "c",
            "--statement",
            "s",
        ],
        r#"author "": is empty"#,
    );
}

/// `--wait -1`, written the usual way with a space, must reach the same one-line refusal as
/// `--wait=-1`, not a usage message from the argument parser.
#[test]
fn negative_wait() {
    check_flags(&["--wait", "-1", "head"], "--wait");
    check_flags(&["head", "--wait", "-1"], "--wait");
}

/// Usage errors are bad input too: one line, exit code 2.
#[test]
fn usage_errors_are_one_line() {
    check_flags(&["frobnicate"], "frobnicate");
    check_flags(&["revise", "existing", "--statement", "x"], "--reason");
    check_flags(&["add", "--frobnicate"], "--frobnicate");
}

#[test]
fn pinned_clock_must_be_rfc3339() {
    let ledger = base_ledger();
    let mut cmd = ledger.cmd(&[
        "add",
        "--subject",
        "a",
        "--claimant",
        "c",
        "--statement",
        "s",
    ]);
    cmd.env("CLAIMS_NOW", "yesterday");
    refused(
        &ledger,
        cmd,
        r#"CLAIMS_NOW="yesterday" is not an RFC 3339 timestamp"#,
    );
}

/// A directory that holds no ledger is refused, and a refused command does not make one.
#[test]
fn not_a_ledger() {
    let ledger = Ledger::uninitialised();
    let check = |args: &[&str]| {
        let out = ledger.run(args);
        assert_error(&out, EXIT_INPUT, "run `claims init` to create one");
        assert_error(&out, EXIT_INPUT, "no ledger at ");
    };
    check(&["head"]);
    check(&[
        "add",
        "--subject",
        "a",
        "--claimant",
        "c",
        "--statement",
        "s",
    ]);
    check(&["verify"]);
    // Still none, even where the directory exists and holds other files.
    std::fs::create_dir_all(ledger.dir()).expect("the directory is made");
    std::fs::write(ledger.dir().join("notes.txt"), "not a ledger").expect("a file is written");
    check(&["list"]);
    check(&["head"]);
    let name = ledger.write("one.jsonl", LINE_1);
    check(&["import", &name]);
    assert!(
        !ledger.dir().join("db").exists(),
        "a refused command made a ledger"
    );
}

#[test]
fn init_twice() {
    let ledger = base_ledger();
    refused(&ledger, ledger.cmd(&["init"]), "already holds a ledger");
    assert_eq!(ledger.show("existing")["revision"], 1);
}
