//! Hostile input: random mutations of valid input lines, fed to the parser in-process (many
//! cases) and to `claims import` (fewer, each a real process); and inputs at and past every
//! limit (docs/FORMAT.md §1), including an endless line read from a pipe.
//!
//! Whatever the input, `claims` either accepts it or refuses it with exit code 2 and one line,
//! `error: ...`, naming the line and the field, and leaves the ledger as it was: the head byte
//! for byte the same, verify still passing. It never panics and never uses another exit code.

use crate::support::{assert_error, succeeded, Ledger, EXIT_INPUT, EXIT_INTEGRITY};
use claimledger_core::input::parse_command;
use proptest::prelude::*;
use proptest::sample::Index;
use std::io::Write;
use std::process::{Output, Stdio};

/// Valid lines, records and revisions: the corpus the mutations start from.
const SEEDS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-claims.jsonl"
));

/// The claims a ledger holds before every case; none of them collides with the seeds.
const EXISTING: &str = concat!(
    r#"{"key":"existing","subject":"test/existing","claimant":"C","statement":"S","value":{"amount":1}}"#,
    "\n",
    r#"{"key":"other","subject":"test/existing","claimant":"D","statement":"T","tags":["a"]}"#,
    "\n",
);

const MIB: usize = 1 << 20;

/// A ledger holding `EXISTING`.
fn base_ledger() -> Ledger {
    let ledger = Ledger::new();
    ledger.import(EXISTING);
    ledger
}

/// Fails if `out` shows a panic or an exit code other than 0 and 2; for 2, requires one line
/// `error: ...` and nothing on standard output. Gives whether it succeeded.
#[track_caller]
fn accepted_or_refused(out: &Output, what: &str) -> bool {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: a panic: {stderr}");
    match out.status.code() {
        Some(0) => true,
        Some(EXIT_INPUT) => {
            assert_error(out, EXIT_INPUT, "");
            assert!(out.stdout.is_empty(), "{what}: a refusal printed a result");
            false
        }
        other => panic!("{what}: exit code {other:?}: {stderr}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// One change to a line's bytes. Positions are indices into whatever the line is by then.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: Index,
        bit: u8,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Delete {
        at: Index,
        len: usize,
    },
    Truncate {
        at: Index,
    },
    /// Repeats one of the object's fields at its start: `{"statement":"x",...,"statement":..`.
    DuplicateField {
        which: Index,
    },
    /// Replaces a run of digits with `digits` nines.
    HugeNumber {
        which: Index,
        digits: usize,
    },
    /// Replaces a run of digits with a float or an out-of-range number.
    Float {
        which: Index,
        float: &'static str,
    },
    /// Makes a string `len` characters longer.
    LongString {
        which: Index,
        len: usize,
        fill: char,
    },
}

/// Bytes worth inserting: control bytes, invalid UTF-8, JSON punctuation, or anything.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\0".to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"\xc3".to_vec()),
        Just(b"\xed\xa0\x80".to_vec()),
        Just(b"\xf4\x90\x80\x80".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b",".to_vec()),
        Just(b":".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(br#","op":"revise""#.to_vec()),
        Just(br#""key":"#.to_vec()),
        Just(b"null".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..16),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<Index>(), hostile_bytes()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        any::<Index>().prop_map(|which| Mutation::DuplicateField { which }),
        (
            any::<Index>(),
            prop_oneof![Just(19usize), Just(20), Just(64), Just(65), 1usize..2_000]
        )
            .prop_map(|(which, digits)| Mutation::HugeNumber { which, digits }),
        (
            any::<Index>(),
            prop::sample::select(vec![
                "1.5", "1e5", "1E400", "-0", "0.0", "-1", "1e-400", "NaN", "Infinity", "00",
            ])
        )
            .prop_map(|(which, float)| Mutation::Float { which, float }),
        (
            any::<Index>(),
            prop_oneof![Just(4_001usize), 1usize..10_000],
            prop::sample::select(vec!['x', 'é', '😀', ' '])
        )
            .prop_map(|(which, len, fill)| Mutation::LongString { which, len, fill }),
    ]
}

/// The starts of the runs of ASCII digits in `line`, with their lengths.
fn digit_runs(line: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut at = 0;
    while at < line.len() {
        if line[at].is_ascii_digit() {
            let start = at;
            while at < line.len() && line[at].is_ascii_digit() {
                at += 1;
            }
            runs.push((start, at - start));
        } else {
            at += 1;
        }
    }
    runs
}

impl Mutation {
    fn apply(&self, line: &mut Vec<u8>) {
        match self {
            Mutation::FlipBit { at, bit } => {
                if !line.is_empty() {
                    let at = at.index(line.len());
                    line[at] ^= 1 << bit;
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = at.index(line.len() + 1);
                line.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                if !line.is_empty() {
                    let at = at.index(line.len());
                    let end = (at + len).min(line.len());
                    line.drain(at..end);
                }
            }
            Mutation::Truncate { at } => line.truncate(at.index(line.len() + 1)),
            Mutation::DuplicateField { which } => {
                let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(line) else {
                    return;
                };
                if map.is_empty() {
                    return;
                }
                let (name, value) = map.iter().nth(which.index(map.len())).expect("in range");
                let field = format!("{}:{value},", serde_json::Value::from(name.as_str()));
                let start = line.iter().position(|&b| b == b'{').expect("an object") + 1;
                line.splice(start..start, field.into_bytes());
            }
            Mutation::HugeNumber { which, digits } => {
                let runs = digit_runs(line);
                if !runs.is_empty() {
                    let (start, len) = runs[which.index(runs.len())];
                    line.splice(start..start + len, std::iter::repeat_n(b'9', *digits));
                }
            }
            Mutation::Float { which, float } => {
                let runs = digit_runs(line);
                if !runs.is_empty() {
                    let (start, len) = runs[which.index(runs.len())];
                    line.splice(start..start + len, float.bytes());
                }
            }
            Mutation::LongString { which, len, fill } => {
                // After the `:"` that opens a string value.
                let starts: Vec<usize> = line
                    .windows(2)
                    .enumerate()
                    .filter(|(_, w)| w == b":\"")
                    .map(|(i, _)| i + 2)
                    .collect();
                if !starts.is_empty() {
                    let at = starts[which.index(starts.len())];
                    let text: String = std::iter::repeat_n(*fill, *len).collect();
                    line.splice(at..at, text.into_bytes());
                }
            }
        }
    }
}

/// The seed lines, `(line index, mutations)` applied to some of them: a whole import file.
fn mutated_file(changes: &[(Index, Vec<Mutation>)]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = SEEDS.lines().map(|l| l.as_bytes().to_vec()).collect();
    for (which, mutations) in changes {
        let line = which.index(lines.len());
        for mutation in mutations {
            mutation.apply(&mut lines[line]);
        }
    }
    let mut file = lines.join(&b'\n');
    file.push(b'\n');
    file
}

fn mutated_line() -> impl Strategy<Value = (Index, Vec<Mutation>)> {
    (any::<Index>(), proptest::collection::vec(mutation(), 1..5))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_096))]

    /// The parser on a mutated line: a command or an error that says something; never a
    /// panic. (An error may hold a line break from a field's name, `"a\nb"`; the CLI prints
    /// every error on one line, which the binary's test below checks.)
    #[test]
    fn parser_survives_mutated_lines(change in mutated_line()) {
        let file = mutated_file(std::slice::from_ref(&change));
        // A mutated line may now hold a line break: each piece is a line, as import reads it.
        for line in file.split(|&b| b == b'\n') {
            // Import refuses what is not UTF-8 before parsing.
            let Ok(text) = std::str::from_utf8(line) else { continue };
            if let Err(error) = parse_command(text) {
                prop_assert!(!error.to_string().trim().is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `claims import` of the seed file with some lines mutated, on a ledger that holds
    /// claims: all of it lands, or none of it and a one-line error; never a panic.
    #[test]
    fn import_of_mutated_lines_is_all_or_nothing(
        changes in proptest::collection::vec(mutated_line(), 1..4)
    ) {
        let ledger = base_ledger();
        let head = ledger.head();
        let name = ledger.write("mutated.jsonl", mutated_file(&changes));
        let out = ledger.run(&["import", &name]);
        if accepted_or_refused(&out, "import of mutated lines") {
            let report = succeeded(&out, &["import", &name]);
            let count = report
                .strip_prefix("imported ")
                .and_then(|r| r.split_once(' '))
                .and_then(|(n, _)| n.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("not an import report: {report:?}"));
            prop_assert_eq!(ledger.head_count(), 2 + count);
            prop_assert!(report.trim_end().ends_with(ledger.head().trim_end()));
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            prop_assert!(stderr.starts_with("error: mutated.jsonl: "), "{}", stderr);
            prop_assert_eq!(ledger.head(), head, "a refused import changed the ledger");
        }
        ledger.assert_verifies();
    }
}

// ---------------------------------------------------------------------------------------------
// Limits

/// A record with the required fields and `extra` ones (`"name":value,...`).
fn record(extra: &str) -> String {
    let base = r#""subject":"test/hostile","claimant":"C","statement":"S""#;
    if extra.is_empty() {
        format!("{{{base}}}")
    } else {
        format!("{{{base},{extra}}}")
    }
}

/// Writes `contents` as `name` next to a ledger holding `EXISTING`, runs `claims ARGS`, and
/// checks it is refused with exit code 2 and one line containing `fragment`, leaving the head
/// byte for byte the same and the ledger verifying.
#[track_caller]
fn check(name: &str, contents: impl AsRef<[u8]>, args: &[&str], fragment: &str) {
    let ledger = base_ledger();
    let head = ledger.head();
    ledger.write(name, contents);
    let out = ledger.run(args);
    assert!(
        !accepted_or_refused(&out, name),
        "{name} was accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_error(&out, EXIT_INPUT, fragment);
    assert_eq!(ledger.head(), head, "{name}: the ledger changed");
    ledger.assert_verifies();
}

/// `check` for `claims import line.jsonl` of one line.
#[track_caller]
fn check_line(line: impl AsRef<[u8]>, fragment: &str) {
    let mut contents = line.as_ref().to_vec();
    contents.push(b'\n');
    check(
        "line.jsonl",
        contents,
        &["import", "line.jsonl"],
        &format!("line.jsonl: line 1: {fragment}"),
    );
}

/// A record padded with spaces before its closing brace to exactly `len` bytes.
fn record_of_len(len: usize) -> String {
    let start = record("");
    let start = start.strip_suffix('}').expect("an object");
    format!("{start}{}}}", " ".repeat(len - start.len() - 1))
}

#[test]
fn line_length() {
    check_line(record_of_len(MIB + 1), "longer than 1048576 bytes");
    // A line break does not count, on either side of the limit.
    check(
        "crlf.jsonl",
        format!("{}\r\n", record_of_len(MIB + 1)),
        &["import", "crlf.jsonl"],
        "crlf.jsonl: line 1: longer than 1048576 bytes",
    );
}

#[test]
fn nesting() {
    check_line(
        "[".repeat(100_000),
        "invalid JSON: recursion limit exceeded",
    );
    check_line(
        record(&format!(r#""value":{}"#, "[".repeat(100_000))),
        "invalid JSON: recursion limit exceeded",
    );
    check_line(
        record(&format!(r#""note":{}"#, r#"{"a":"#.repeat(100_000))),
        "invalid JSON: recursion limit exceeded",
    );
    // The limit counts every level, the line's object too (docs/FORMAT.md): 127 levels (the
    // object and 126 arrays) are read, and the field refused for what it is; 128 are refused
    // for depth.
    let nested = |depth: usize| {
        record(&format!(
            r#""value":{}{}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ))
    };
    check_line(
        nested(126),
        "field `value`: must be an object, got an array",
    );
    check_line(nested(127), "invalid JSON: recursion limit exceeded");
    check_line(nested(128), "invalid JSON: recursion limit exceeded");
}

#[test]
fn duplicate_fields() {
    // At the top, in `value`, in a source: refused, naming the line and the field, whichever
    // of the two values would have been valid.
    check_line(
        r#"{"subject":"test/hostile","claimant":"C","statement":"S","statement":"T"}"#,
        "duplicate field `statement`",
    );
    check_line(
        record(r#""value":{"amount":"1","unit":"people","amount":"2"}"#),
        "duplicate field `amount`",
    );
    check_line(
        record(r#""sources":[{"publisher":"A","publisher":"A"}]"#),
        "duplicate field `publisher`",
    );
    check_line(
        r#"{"op":"revise","claim":"existing","reason":"r","op":"record"}"#,
        "duplicate field `op`",
    );
    // Twice the same unknown name: refused as a duplicate, shown escaped.
    check_line(
        record(r#""\u001b[31m":1,"\u001b[31m":2"#),
        r"duplicate field `\u{1b}[31m`",
    );
    // The line named is the line at fault.
    check(
        "third.jsonl",
        format!(
            "{}\n{}\n{}\n",
            record(r#""key":"d1""#),
            record(r#""key":"d2""#),
            record(r#""key":"d3","key":"d4""#)
        ),
        &["import", "third.jsonl"],
        "third.jsonl: line 3: duplicate field `key`",
    );
    for command in ["add", "revise"] {
        check(
            "dup.json",
            record(r#""claimant":"D""#),
            &[command, "--json", "dup.json"],
            "dup.json: duplicate field `claimant`",
        );
    }
    // Equal names in different objects are no duplicates.
    let ledger = base_ledger();
    ledger.import(&format!(
        "{}\n",
        record(r#""sources":[{"publisher":"A"},{"publisher":"B"}],"value":{"amount":"1"}"#)
    ));
}

#[test]
fn many_keys() {
    // As many distinct unknown fields as fit in 1 MiB: some 96,000.
    let mut line = record("");
    line.pop();
    let mut keys = 0;
    while line.len() < MIB - 16 {
        line.push_str(&format!(r#","k{keys}":0"#));
        keys += 1;
    }
    line.push('}');
    assert!(keys > 90_000, "{keys}");
    check_line(&line, "field `k0`: is not a field of the input format");
    // The same short unknown field over and over, some 170,000 times: refused at its second
    // appearance.
    let mut line = record("");
    line.pop();
    while line.len() < MIB - 16 {
        line.push_str(r#","z":0"#);
    }
    line.push('}');
    check_line(&line, "duplicate field `z` (column 66)");
}

#[test]
fn bytes() {
    let mut line = record(r#""note":"before after""#).into_bytes();
    let middle = line.len() - 8;
    line.splice(middle..middle, *b"\xff\xfe");
    check_line(&line, &format!("not valid UTF-8 (at byte {})", middle + 1));
    // A lone surrogate half, UTF-8's way.
    let mut line = record("").into_bytes();
    line.splice(30..30, *b"\xed\xa0\x80");
    check_line(&line, "not valid UTF-8 (at byte 31)");
    check_line(
        record(r#""note":"a\u0000b""#),
        r"field `note`: contains the control character '\0'",
    );
    check_line(
        record("\"note\":\"a\0b\""),
        "invalid JSON: control character (\\u0000-\\u001F) found while parsing a string",
    );
    check_line(
        format!("{}\0", record("")),
        "invalid JSON: trailing characters",
    );
    check_line(
        record("\0\"note\":\"a\""),
        "invalid JSON: key must be a string",
    );
}

/// Field names come from the input and are echoed in errors: control characters in them
/// must not reach the terminal raw (an escape sequence could rewrite what the reader sees).
#[test]
fn errors_carry_no_control_characters() {
    let check = |name: &str, contents: &str, args: &[&str]| {
        let ledger = base_ledger();
        ledger.write(name, contents);
        let out = ledger.run(args);
        assert_error(&out, EXIT_INPUT, &format!("{name}: line "));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr.strip_suffix('\n').expect("one line");
        assert!(
            !message.chars().any(char::is_control),
            "{name}: a control character on standard error: {message:?}"
        );
    };
    let line = |extra: &str| record(extra) + "\n";
    check(
        "newline.jsonl",
        &line(r#""a\nb":1"#),
        &["import", "newline.jsonl"],
    );
    check(
        "escape.jsonl",
        &line(r#""\u001b[2J\u001b[31mred":1"#),
        &["import", "escape.jsonl"],
    );
    check(
        "bell.jsonl",
        &line(r#""value":{"\u0007":1}"#),
        &["import", "bell.jsonl"],
    );
    check(
        "source.jsonl",
        &line(r#""sources":[{"url":"https://a.example","\u001b]52;c;aGk=\u0007":1}]"#),
        &["import", "source.jsonl"],
    );
    check(
        "status.jsonl",
        &line(r#""status":"\u001b[31m""#),
        &["import", "status.jsonl"],
    );
    check(
        "header.csv",
        "subject,claimant,statement,\"\u{1b}[31m\"\ns,c,t,1\n",
        &["import", "--csv", "header.csv"],
    );
}

#[test]
fn field_limits() {
    check_line(
        record("").replace(
            r#""statement":"S""#,
            &format!(r#""statement":"{}""#, "s".repeat(4_001)),
        ),
        "field `statement`: is 4001 characters long; the limit is 4000",
    );
    let sources: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"publisher":"p{i}"}}"#))
        .collect();
    check_line(
        record(&format!(r#""sources":[{}]"#, sources.join(","))),
        "field `sources`: has 101 sources; the limit is 100",
    );
    let tags: Vec<String> = (0..65).map(|i| format!(r#""t{i}""#)).collect();
    check_line(
        record(&format!(r#""tags":[{}]"#, tags.join(","))),
        "field `tags`: has 65 tags; the limit is 64",
    );
    check_line(
        record(&format!(r#""key":"{}""#, "k".repeat(129))),
        "field `key`: is 129 characters long; the limit is 128",
    );
    check_line(
        record(&format!(r#""value":{{"amount":"{}"}}"#, "9".repeat(65))),
        "field `value.amount`: is longer than 64 characters",
    );
    check_line(
        record(&format!(r#""value":{{"amount":"-{}"}}"#, "9".repeat(64))),
        "field `value.amount`: is longer than 64 characters",
    );
    // As a JSON number too (the reason given is another matter: see
    // `integer_amounts_up_to_64_digits`).
    check_line(
        record(&format!(r#""value":{{"amount":{}}}"#, "9".repeat(65))),
        "field `value.amount`: ",
    );
    check_line(
        record(&format!(r#""value":{{"amount":{}}}"#, "9".repeat(400))),
        "invalid JSON: number out of range",
    );
}

/// Every limit, reached but not passed, in one import: all of it is accepted.
#[test]
fn at_the_limits() {
    let ledger = base_ledger();
    let sources: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"publisher":"p{i}"}}"#))
        .collect();
    let tags: Vec<String> = (0..64).map(|i| format!(r#""t{i}""#)).collect();
    let lines = [
        record_of_len(MIB),
        record("").replace(
            r#""statement":"S""#,
            &format!(r#""statement":"{}""#, "s".repeat(4_000)),
        ),
        record(&format!(r#""sources":[{}]"#, sources.join(","))),
        record(&format!(r#""tags":[{}]"#, tags.join(","))),
        record(&format!(r#""key":"{}""#, "k".repeat(128))),
        record(&format!(r#""value":{{"amount":"{}"}}"#, "9".repeat(64))),
        record(&format!(r#""value":{{"amount":"-{}"}}"#, "9".repeat(63))),
        record(&format!(r#""value":{{"amount":"0.{}"}}"#, "1".repeat(62))),
    ];
    let report = ledger.import(&(lines.join("\n") + "\n"));
    assert!(
        report.starts_with(&format!("imported {} entries", lines.len())),
        "{report}"
    );
    ledger.assert_verifies();
    let long_key = "k".repeat(128);
    assert_eq!(ledger.show(&long_key)["claim"]["statement"], "S");
}

/// FORMAT.md §1: an amount is a JSON string or a JSON integer, kept exactly. A JSON integer
/// within 64 bits is kept digit for digit; a larger one is refused (it would pass through a
/// float) with the advice to write it as a string, which keeps any 64 digits.
#[test]
fn integer_amounts_within_64_bits_or_as_strings() {
    let ledger = base_ledger();
    for (key, amount, quoted) in [
        ("u64-max", "18446744073709551615", false),
        ("i64-min", "-9223372036854775808", false),
        ("u64-max-plus-1", "18446744073709551616", true),
        ("digits-64", &"9".repeat(64), true),
    ] {
        let json = if quoted {
            format!("\"{amount}\"")
        } else {
            amount.to_owned()
        };
        let line = record(&format!(r#""key":"{key}","value":{{"amount":{json}}}"#));
        let name = ledger.write("integer.jsonl", format!("{line}\n"));
        let out = ledger.run(&["import", &name]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{amount}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ledger.show(key)["claim"]["value"]["amount"], amount);
    }
    check_line(
        record(r#""value":{"amount":18446744073709551616}"#),
        "field `value.amount`: 1.8446744073709552e+19 is not an integer within 64 bits; write decimals and larger integers as strings",
    );
}

/// RFC 4180 has no cell that runs to the end of the file: a quote left open must be refused,
/// not swallow the rows after it.
#[test]
fn csv_unterminated_quote() {
    let header = "key,subject,claimant,statement\n";
    // Many rows after the open quote: together far longer than any statement.
    let mut many = format!("{header}a,test/csv,C,\"opened here\n");
    for i in 0..5_000 {
        many.push_str(&format!("k{i},test/csv,C,row {i}\n"));
    }
    check(
        "many.csv",
        many,
        &["import", "--csv", "many.csv"],
        "many.csv: line 2: ",
    );
    // Past the 1 MiB a record may hold.
    let mut long = format!("{header}a,test/csv,C,\"opened here\n");
    while long.len() <= 2 * MIB {
        long.push_str(&format!("{},test/csv,C,row\n", "x".repeat(1_000)));
    }
    check(
        "long.csv",
        long,
        &["import", "--csv", "long.csv"],
        "long.csv: line 2: the record is longer than 1048576 bytes",
    );
    // A few rows after an open quote, short enough to fit in one statement: the csv reader
    // would read them as that statement; the quote left open at the end is refused.
    let mut few = format!("{header}a,test/csv,C,\"opened here\n");
    for i in 0..3 {
        few.push_str(&format!("k{i},test/csv,C,row {i}\n"));
    }
    check(
        "few.csv",
        &few,
        &["import", "--csv", "few.csv"],
        "few.csv: line 2: a quoted field opened on this line is not closed by the end of the file",
    );
    // In the header; and at the very end, after the last line break.
    check(
        "header.csv",
        "key,subject,\"claimant,statement\nk,test/csv,C,S\n",
        &["import", "--csv", "header.csv"],
        "header.csv: line 1: a quoted field opened on this line is not closed",
    );
    check(
        "end.csv",
        format!("{header}k,test/csv,C,S\n\""),
        &["import", "--csv", "end.csv"],
        "end.csv: line 3: a quoted field opened on this line is not closed",
    );
    // Closed quotes, `""` inside them, and a quote inside an unquoted cell are fine.
    let ledger = base_ledger();
    let quoted = ledger.write(
        "quoted.csv",
        format!(
            "{header}q1,test/csv,\"C, \"\"quoted\"\"\",\"two\nlines\"\nq2,test/csv,C,say \"hi\"\n"
        ),
    );
    let out = ledger.ok(&["import", "--csv", &quoted]);
    assert!(out.starts_with("imported 2 entries"), "{out}");
}

#[test]
fn proof_file_names_escaped() {
    // serde quotes an unknown type or field name as given: the error shows it escaped, on one
    // line, with no control character reaching the terminal.
    let ledger = base_ledger();
    for (name, proof) in [
        ("type.json", r#"{"type":"inclusion\u001b[2J\nx"}"#),
        (
            "field.json",
            r#"{"type":"consistency","old_checkpoint":"","checkpoint":"","path":[],"\u0007\r":1}"#,
        ),
    ] {
        ledger.write(name, proof);
        let out = ledger.run(&["verify-proof", name]);
        assert_error(
            &out,
            EXIT_INTEGRITY,
            "it is not a proof file from `claims prove`",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.trim_end().chars().any(char::is_control),
            "{name}: {stderr:?}"
        );
    }
    let out = ledger.run(&["verify-proof", "type.json"]);
    assert_error(
        &out,
        EXIT_INTEGRITY,
        r"unknown variant `inclusion\u{1b}[2J\nx`",
    );
}

#[test]
fn add_json_of_2_mib() {
    let big = record(&format!(r#""note":"{}""#, "n".repeat(2 * MIB)));
    check(
        "big.json",
        &big,
        &["add", "--json", "big.json"],
        "big.json: longer than 1048576 bytes",
    );
    check(
        "big.json",
        &big,
        &["revise", "--json", "big.json"],
        "big.json: longer than 1048576 bytes",
    );
}

/// `claims import -` reading a 10 GB line from a pipe stops once 1 MiB of it has been read:
/// the writer finds the pipe closed long before the end, and the reader's memory stays small.
#[test]
fn endless_line_from_a_pipe() {
    const LINE_BYTES: u64 = 10_000_000_000;
    const WRITTEN_MAX: u64 = 64 << 20;
    const PEAK_MEMORY_KIB_MAX: u64 = 256 << 10;
    let ledger = base_ledger();
    let head = ledger.head();
    let mut child = ledger
        .std_cmd(&["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claims starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let status = format!("/proc/{}/status", child.id());
    let writer = std::thread::spawn(move || {
        let block = vec![b'a'; 1 << 16];
        let mut bytes_written = 0u64;
        let mut peak_memory_kib = 0u64;
        let error = loop {
            if bytes_written >= LINE_BYTES {
                break None;
            }
            match stdin.write(&block) {
                Ok(written) => bytes_written += written as u64,
                Err(error) => break Some(error),
            }
            if bytes_written.is_multiple_of(1 << 20) {
                // VmHWM: the process's peak resident memory, while it still runs.
                if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                }) {
                    peak_memory_kib = peak_memory_kib.max(kib);
                }
            }
        };
        (bytes_written, peak_memory_kib, error)
    });
    let out = child.wait_with_output().expect("claims ends");
    let (bytes_written, peak_memory_kib, error) = writer.join().expect("the writer ends");
    assert_error(&out, EXIT_INPUT, "-: line 1: longer than 1048576 bytes");
    assert_eq!(
        error.map(|e| e.kind()),
        Some(std::io::ErrorKind::BrokenPipe),
        "the writer should find the pipe closed"
    );
    assert!(
        bytes_written < WRITTEN_MAX,
        "{bytes_written} bytes were written before claims stopped reading"
    );
    assert!(
        peak_memory_kib < PEAK_MEMORY_KIB_MAX,
        "claims used {peak_memory_kib} KiB"
    );
    assert_eq!(ledger.head(), head);
    ledger.assert_verifies();
}

/// A claim with its fields near their limits can make an entry larger than 65,535 bytes (the
/// tlog-tiles limit): refused at input however it comes (flags, JSON, an import line, a
/// revise), with exit code 2 and one line naming the entry's size; the ledger is unchanged.
#[test]
fn entries_larger_than_65535_bytes_are_refused() {
    let wide = "𝄞".repeat(4000); // 4,000 characters, the limit; 16,000 bytes
    let quoted = |text: &str| serde_json::to_string(text).expect("a string");
    let sources = |count: usize| {
        let source = format!(
            r#"{{"publisher":"P","quote":{}}}"#,
            quoted(&"q".repeat(4000))
        );
        vec![source; count].join(",")
    };
    let too_large = |out: &Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let size: usize = stderr
            .split("the entry would be ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no size named: {stderr}"));
        assert!(size > 65_535, "{stderr}");
        assert_error(out, EXIT_INPUT, "bytes; an entry holds at most 65535 bytes");
    };
    let ledger = base_ledger();
    let head = ledger.head();
    let title = "𝄞".repeat(1000);
    let flags = [
        "add",
        "--subject",
        "test/size",
        "--claimant",
        "C",
        "--statement",
        &wide,
        "--method",
        &wide,
        "--note",
        &wide,
        "--quote",
        &wide,
        "--publisher",
        "P",
        "--source-title",
        &title,
    ];
    too_large(&ledger.run(&flags));
    ledger.write(
        "wide.json",
        record(&format!(r#""sources":[{}]"#, sources(17))),
    );
    too_large(&ledger.run(&["add", "--json", "wide.json"]));
    ledger.write(
        "wide.jsonl",
        format!(
            "{}\n{}\n",
            record(r#""key":"fine""#),
            record(&format!(r#""sources":[{}]"#, sources(17)))
        ),
    );
    let out = ledger.run(&["import", "wide.jsonl"]);
    too_large(&out);
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("error: wide.jsonl: line 2: the entry would be "));
    ledger.write(
        "revise.json",
        format!(
            r#"{{"op":"revise","claim":"existing","reason":"r","sources":[{}]}}"#,
            sources(17)
        ),
    );
    too_large(&ledger.run(&["revise", "--json", "revise.json"]));
    too_large(&ledger.run(&[
        "revise",
        "existing",
        "--reason",
        "r",
        "--statement",
        &wide,
        "--method",
        &wide,
        "--note",
        &wide,
        "--quote",
        &wide,
        "--publisher",
        "P",
        "--source-title",
        &title,
    ]));
    assert_eq!(ledger.head(), head, "the ledger changed");
    ledger.assert_verifies();
    // Just under the limit, the same claim is recorded and verifies.
    ledger.write(
        "fits.json",
        record(&format!(r#""sources":[{}]"#, sources(15))),
    );
    ledger.ok(&["add", "--json", "fits.json"]);
    ledger.assert_verifies();
}
