//! Output into a pipe whose reader stops early (`claims log | head`): the command stops
//! quietly with exit code 0.

use crate::support::{Ledger, EXIT_IO};
use std::io::Read;
use std::process::Stdio;

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
fn check(ledger: &Ledger, args: &[&str]) {
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
    check(&ledger, &["log"]);
    check(&ledger, &["log", "--json"]);
    check(&ledger, &["export"]);
    check(&ledger, &["list"]);
    check(&ledger, &["list", "--json"]);
    // The whole output is far larger than a pipe holds, so the pipe was closed mid-way.
    assert!(ledger.ok(&["export"]).len() > 1 << 18);
}

/// Output that cannot be written (a full disk) is an I/O failure: exit code 4, one line.
#[cfg(target_os = "linux")]
#[test]
fn full_disk_is_an_io_error() {
    let ledger = Ledger::new();
    ledger.import(r#"{"key":"k","subject":"s","claimant":"C","statement":"S"}"#);
    for args in [
        &["head"][..],
        &["export"],
        &["log"],
        &["log", "--json"],
        &["list"],
        &["show", "k", "--json"],
        &["history", "k"],
        &["verify"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let out = ledger
            .std_cmd(args)
            .stdout(full)
            .output()
            .expect("claims runs");
        crate::support::assert_error(&out, EXIT_IO, "cannot write output: ");
    }
}

/// A ledger path that is a file cannot become a ledger directory: an I/O failure.
#[test]
fn ledger_path_is_a_file() {
    let ledger = Ledger::uninitialised();
    std::fs::write(ledger.dir(), "a file").expect("a file is written");
    let out = ledger.run(&["init"]);
    crate::support::assert_error(&out, EXIT_IO, "I/O error on ");
}
