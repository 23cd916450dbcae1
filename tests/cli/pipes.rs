//! Output that cannot be written. Every command that prints, run with its standard output
//! closed (`claims log | head`), ends quietly with exit code 0; with its standard output on a
//! full disk (`/dev/full`), ends with one line naming the failure and exit code 4; with its
//! standard error closed or full, keeps its exit code and never panics.

use crate::support::{Ledger, EXIT_IO};
use std::io::Read;
use std::process::{Output, Stdio};

const ENTRIES: usize = 2_000;

fn ledger_with_entries() -> Ledger {
    let ledger = Ledger::new();
    let mut lines = String::new();
    for i in 0..ENTRIES {
        lines.push_str(&format!(
            r#"{{"key":"k{i}","subject":"test/pipes","claimant":"C","statement":"claim number {i}, padded so that the output is larger than any pipe buffer","tags":["a","b","c"]}}"#
        ));
        lines.push('\n');
    }
    ledger.import(&lines);
    ledger
}

/// Runs `claims ARGS`, reads a few bytes of its output, closes the pipe, and checks that it
/// ends with exit code 0 and nothing on standard error.
#[track_caller]
fn check_closed_mid_way(ledger: &Ledger, args: &[&str]) {
    let mut child = ledger
        .std_cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claims starts");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut first = [0u8; 64];
    stdout
        .read_exact(&mut first)
        .expect("claims writes at least 64 bytes");
    drop(stdout);
    let out = child.wait_with_output().expect("claims finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "claims {args:?} panicked: {stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "claims {args:?}: {stderr}");
    assert_eq!(stderr, "", "claims {args:?} ends quietly");
}

#[test]
fn closed_pipe_ends_quietly() {
    let ledger = ledger_with_entries();
    check_closed_mid_way(&ledger, &["log"]);
    check_closed_mid_way(&ledger, &["log", "--json"]);
    check_closed_mid_way(&ledger, &["export"]);
    check_closed_mid_way(&ledger, &["list"]);
    check_closed_mid_way(&ledger, &["list", "--json"]);
    check_closed_mid_way(&ledger, &["list", "--csv"]);
    check_closed_mid_way(&ledger, &["completions", "bash"]);
    check_closed_mid_way(&ledger, &["man"]);
    // The whole output is far larger than a pipe holds, so the pipe was closed mid-way.
    assert!(ledger.ok(&["export"]).len() > 1 << 18);
}

/// Every command that prints, as `claims` ARGS on the fixture below. `{n}` is replaced by a
/// number unique to each run, for commands that must not repeat a key or a file name.
const PRINTING: &[&str] = &[
    "head",
    "head --json",
    "export",
    "log",
    "log --json",
    "list",
    "list --json",
    "list --csv",
    "list --text 95 --limit 1",
    "show mz",
    "show mz --stated-by 2025-03",
    "show mz --json",
    "history mz",
    "history mz --json",
    "compare russia",
    "compare russia --json",
    "compare russia --csv",
    "subjects",
    "subjects --json",
    "verify",
    "verify --json",
    "verify --bundle bundle.jsonl",
    "checkpoint",
    "checkpoint --json",
    "checkpoint --sign signing.key",
    "prove mz",
    "prove mz --sign signing.key",
    "verify-proof mz.proof",
    "verify-proof mz.proof --json",
    "verify-proof mz.proof --key verifier.txt",
    "key verifier signing.key",
    "key verifier signing.key --json",
    "key generate --out key-{n}.key",
    "key generate --out key-{n}.key --json",
    "completions bash",
    "completions zsh",
    "completions fish",
    "man",
    "demo",
    "--help",
    "list --help",
    "--version",
    "add --key new-{n} --subject s --claimant C --statement S",
    "revise mz --reason r --statement S{n}",
    "import more-{n}.jsonl",
];

/// A ledger with a claim `mz` (revised once), a signing key, a bundle and a proof.
fn fixture() -> Ledger {
    let ledger = Ledger::new();
    ledger.import(concat!(
        r#"{"key":"mz","subject":"russia/military-deaths","claimant":"Mediazona","statement":"95,300 named","value":{"amount":95300},"stated_on":"2025-02-24"}"#,
        "\n",
        r#"{"op":"revise","claim":"mz","reason":"new count","statement":"121,507 named","value":{"amount":121507},"stated_on":"2025-08"}"#,
        "\n"
    ));
    let verifier = ledger.ok(&["key", "generate", "--out", "signing.key"]);
    ledger.write("verifier.txt", verifier);
    ledger.write("bundle.jsonl", ledger.ok(&["export"]));
    ledger.ok(&["prove", "mz", "--out", "mz.proof", "--sign", "signing.key"]);
    ledger
}

/// `args` for run `n`, with an import file of its own where it needs one.
fn args_for(ledger: &Ledger, line: &str, n: usize) -> Vec<String> {
    let line = line.replace("{n}", &n.to_string());
    if line.starts_with("import ") {
        ledger.write(
            &format!("more-{n}.jsonl"),
            format!(
                "{{\"key\":\"more-{n}\",\"subject\":\"s\",\"claimant\":\"C\",\"statement\":\"S\"}}\n"
            ),
        );
    }
    line.split(' ').map(str::to_owned).collect()
}

fn run_with(ledger: &Ledger, args: &[String], stdout: Stdio, stderr: Stdio) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ledger
        .std_cmd(&args)
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("claims runs")
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

#[cfg(target_os = "linux")]
fn full_disk() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens")
        .into()
}

/// Every printing command on a closed pipe: exit 0, nothing on standard error, no panic.
#[test]
fn every_command_ends_quietly_on_a_closed_pipe() {
    let ledger = fixture();
    for (n, line) in PRINTING.iter().enumerate() {
        let args = args_for(&ledger, line, n);
        let out = run_with(&ledger, &args, closed_pipe(), Stdio::piped());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "claims {line}: {stderr}");
        assert!(
            !stderr.contains("error") && !stderr.contains("panicked"),
            "claims {line} ends quietly: {stderr}"
        );
    }
}

/// Every printing command with its output on a full disk: exit 4 and one line that says so.
#[cfg(target_os = "linux")]
#[test]
fn every_command_reports_a_full_disk() {
    let ledger = fixture();
    for (n, line) in PRINTING.iter().enumerate() {
        let args = args_for(&ledger, line, n);
        let out = run_with(&ledger, &args, full_disk(), Stdio::piped());
        crate::support::assert_error(&out, EXIT_IO, "No space left on device");
    }
    // The writes whose report could not be printed were made, and said so.
    let out = run_with(
        &ledger,
        &args_for(
            &ledger,
            "add --key told --subject s --claimant C --statement S",
            0,
        ),
        full_disk(),
        Stdio::piped(),
    );
    crate::support::assert_error(&out, EXIT_IO, "was recorded as entry");
    assert_eq!(ledger.show("told")["key"], "told");
}

/// With standard error closed or full, remarks and errors are lost, but exit codes are not,
/// and nothing panics.
#[cfg(target_os = "linux")]
#[test]
fn a_closed_or_full_standard_error_keeps_exit_codes() {
    let ledger = fixture();
    let cases: [(&str, i32); 5] = [
        ("add --key e{n} --subject s --claimant C --statement S", 0),
        ("verify", 0),
        ("show no-such-claim", 2),
        ("list --as-of nonsense", 2),
        ("import more-{n}.jsonl", 0),
    ];
    for (n, (line, code)) in cases.iter().enumerate() {
        for (which, stderr) in [("closed", closed_pipe()), ("full", full_disk())] {
            let args = args_for(&ledger, line, 100 + 2 * n + usize::from(which == "full"));
            let out = run_with(&ledger, &args, Stdio::piped(), stderr);
            assert_eq!(
                out.status.code(),
                Some(*code),
                "claims {line}, stderr {which}"
            );
        }
    }
    ledger.assert_verifies();
}
