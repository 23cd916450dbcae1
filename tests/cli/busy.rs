//! A ledger held by another process: `claims` waits up to `--wait`, then says it is busy.

use crate::support::{assert_error, Ledger, EXIT_BUSY};
use std::fs::{File, OpenOptions};

/// Takes the ledger's lock the way another `claims` process would.
fn hold_lock(ledger: &Ledger) -> File {
    let lock = OpenOptions::new()
        .write(true)
        .open(ledger.dir().join("lock"))
        .expect("the ledger has a lock file");
    lock.lock().expect("the lock is taken");
    lock
}

/// Runs `claims ARGS` while the lock is held, and checks it gives up as busy.
#[track_caller]
fn check(ledger: &Ledger, args: &[&str]) {
    let out = ledger.run(args);
    assert_error(&out, EXIT_BUSY, "busy");
    assert!(out.stdout.is_empty());
}

#[test]
fn busy_then_free() {
    let ledger = Ledger::new();
    ledger.import(r#"{"key":"k","subject":"s","claimant":"C","statement":"S"}"#);
    let head = ledger.head();

    let lock = hold_lock(&ledger);
    check(&ledger, &["head", "--wait", "0.3"]);
    check(&ledger, &["--wait", "0", "show", "k"]);
    check(&ledger, &["--wait", "0.1", "verify"]);
    check(
        &ledger,
        &[
            "--wait",
            "0.2",
            "add",
            "--subject",
            "s",
            "--claimant",
            "C",
            "--statement",
            "T",
        ],
    );
    check(
        &ledger,
        &[
            "--wait",
            "0.2",
            "revise",
            "k",
            "--reason",
            "r",
            "--statement",
            "T",
        ],
    );
    let out = ledger.run(&["head", "--wait", "0.3"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--wait"),
        "the message says how to wait longer"
    );
    lock.unlock().expect("the lock is released");
    drop(lock);

    assert_eq!(
        ledger.ok(&["head", "--wait", "0.3"]),
        head,
        "nothing was written"
    );
    ledger.ok(&[
        "--wait",
        "0",
        "add",
        "--subject",
        "s",
        "--claimant",
        "C",
        "--statement",
        "T",
    ]);
    assert_eq!(ledger.head_count(), 2);
    ledger.assert_verifies();
}

/// A command that starts while the ledger is held runs once it is released.
#[test]
fn waits_its_turn() {
    let ledger = Ledger::new();
    let lock = hold_lock(&ledger);
    let child = ledger
        .std_cmd(&[
            "--wait",
            "60",
            "add",
            "--subject",
            "s",
            "--claimant",
            "C",
            "--statement",
            "S",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("claims starts");
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(lock);
    let out = child.wait_with_output().expect("claims finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ledger.head_count(), 1);
}

/// The time waited is written for people: `1.01 s`, not `1.0066735 s`.
#[test]
fn the_wait_is_written_for_people() {
    let ledger = Ledger::new();
    let _held = hold_lock(&ledger);
    let out = ledger.run(&["head", "--wait", "1"]);
    assert_error(&out, EXIT_BUSY, "busy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let waited = stderr
        .split_once(" for ")
        .and_then(|(_, rest)| rest.split_once(" s;"))
        .map(|(seconds, _)| seconds.to_owned())
        .unwrap_or_else(|| panic!("no time waited in {stderr}"));
    let decimals = waited.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(
        waited.parse::<f64>().is_ok_and(|s| (1.0..3.0).contains(&s)) && decimals <= 2,
        "{stderr}"
    );
}
