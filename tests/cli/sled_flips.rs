//! Damage below the ledger's own format: random bits flipped in sled's files (`db`, `conf`,
//! `blobs/`, `snap.*`), one case per seed, each on a fresh copy of a small ledger. sled 0.34
//! may refuse the database, panic, spin forever or not read the damaged byte at all; whatever
//! it does, `claims` must:
//!
//! - end within a bounded time (the watchdog, with `CLAIMS_STALL_TIMEOUT` shortened here, and
//!   an outer timeout that kills a hung process and fails the test);
//! - either fail with exit code 1 or 4 and one line on standard error (`storage corrupted`, or
//!   an I/O error), or, for `verify`, print `FAILED: ...` with exit code 1;
//! - or succeed only if the ledger is genuinely intact: a `verify` that passes must be
//!   followed by an `export` byte for byte the original's;
//! - and a write that succeeds on a damaged ledger must leave it either reported as damaged
//!   or holding exactly the original entries and the new one.
//!
//! `SLED_FLIP_CASES` sets the number of cases (default 60); `SLED_FLIP_SEED` the first seed.
//!
//! Random flips rarely make sled hang, so the watchdog and the panic hook are also shown
//! deterministically: a FIFO in place of sled's `conf` makes opening the database block forever
//! (as a read from a hung disk would), and a FIFO in place of its `db` makes sled panic.

use crate::support::{bin, copy_dir, export_entries, Ledger, Rng};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CASES_DEFAULT: u64 = 60;
/// The watchdog's limit in these runs, in seconds.
const STALL: &str = "2";
/// Longer than any command may take: the stall timeout and then some.
const OUTER_TIMEOUT: Duration = Duration::from_secs(30);

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for item in std::fs::read_dir(dir).expect("read_dir") {
        let item = item.expect("an item");
        if item.file_type().expect("a type").is_dir() {
            files(&item.path(), out);
        } else if item.metadata().expect("metadata").len() > 0 {
            out.push(item.path());
        }
    }
}

/// How one run ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `claims ARGS` on `dir` under the outer timeout; `None` if it had to be killed.
fn run(dir: &Path, args: &[&str]) -> Option<Run> {
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .env("CLAIMS_LEDGER", dir)
        .env("CLAIMS_AUTHOR", "tester")
        .env("CLAIMS_NOW", crate::support::NOW)
        .env("CLAIMS_STALL_TIMEOUT", STALL)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("claims starts");
    // Read the pipes on threads, so that a large output cannot block the child.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).ok();
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).ok();
        buf
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(Run {
                code: status.code(),
                stdout: String::from_utf8_lossy(&out.join().expect("stdout")).into_owned(),
                stderr: String::from_utf8_lossy(&err.join().expect("stderr")).into_owned(),
                took: started.elapsed(),
            });
        }
        if started.elapsed() > OUTER_TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a failed run failed as it must: exit 1 or 4 and one line, `error: ` and a storage
/// or I/O error, or verify's own one-line `FAILED:` report.
fn clean_failure(run: &Run) -> bool {
    let one_line = run.stderr.lines().count() == 1 && run.stderr.starts_with("error: ");
    let storage = run.stderr.contains("corrupt") || run.stderr.contains("I/O error");
    match run.code {
        Some(1 | 4) if one_line && storage => true,
        Some(1) => run.stderr.is_empty() && run.stdout.starts_with("FAILED: "),
        _ => false,
    }
}

#[test]
fn flipped_bits_in_sled_files_end_cleanly() {
    let cases: u64 = std::env::var("SLED_FLIP_CASES")
        .ok()
        .map(|v| v.parse().expect("SLED_FLIP_CASES is a number"))
        .unwrap_or(CASES_DEFAULT);
    let first_seed: u64 = std::env::var("SLED_FLIP_SEED")
        .ok()
        .map(|v| v.parse().expect("SLED_FLIP_SEED is a number"))
        .unwrap_or(1);
    let ledger = Ledger::new();
    let mut lines = String::new();
    for i in 0..150 {
        lines.push_str(&format!(
            "{{\"key\":\"c{i}\",\"subject\":\"war/s{}\",\"claimant\":\"C{}\",\"statement\":\"claim {i}\",\"tags\":[\"t{}\"]}}\n",
            i % 5,
            i % 3,
            i % 4
        ));
    }
    // Long entries, so that a log chunk is large enough for sled to keep it in `blobs/`.
    for i in 0..130 {
        lines.push_str(&format!(
            "{{\"key\":\"long{i}\",\"subject\":\"war/long\",\"claimant\":\"L\",\"statement\":\"{}\"}}\n",
            "long statement ".repeat(80)
        ));
    }
    for r in 0..50 {
        lines.push_str(&format!(
            "{{\"op\":\"revise\",\"claim\":\"c{}\",\"reason\":\"r{r}\",\"statement\":\"revised {r}\"}}\n",
            r * 3
        ));
    }
    ledger.import(&lines);
    let export = ledger.ok(&["export"]);
    let show = ledger.ok(&["show", "c7"]);
    let list = ledger.ok(&["list", "--subject", "war/s1"]);
    let head = ledger.head();

    let mut pristine_files = Vec::new();
    files(&ledger.dir().join("db"), &mut pristine_files);
    let names: Vec<String> = pristine_files
        .iter()
        .map(|p| {
            p.strip_prefix(ledger.dir())
                .expect("inside")
                .display()
                .to_string()
        })
        .collect();
    println!("sled flips: files {names:?}");

    let root = tempfile::tempdir().expect("a temporary directory");
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for seed in first_seed..first_seed + cases {
        let mut rng = Rng(seed.wrapping_mul(0x5851_f42d_4c95_7f2d));
        let dir = root.path().join(format!("case-{seed}"));
        copy_dir(ledger.dir(), &dir).expect("the ledger is copied");
        let mut targets = Vec::new();
        files(&dir.join("db"), &mut targets);
        targets.sort();
        // The main file gets most cases; each other file some.
        let target = if rng.below(2) == 0 {
            targets
                .iter()
                .find(|p| p.file_name().is_some_and(|n| n == "db"))
                .unwrap_or(&targets[0])
                .clone()
        } else {
            targets[rng.below(targets.len() as u64) as usize].clone()
        };
        let mut bytes = std::fs::read(&target).expect("read");
        // Half the flips land on a non-zero byte: where the data is, not sled's free space.
        let nonzero: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
        let at = if rng.below(2) == 0 && !nonzero.is_empty() {
            nonzero[rng.below(nonzero.len() as u64) as usize]
        } else {
            rng.below(bytes.len() as u64) as usize
        };
        let flips = 1 + rng.below(3);
        for _ in 0..flips {
            let bit = rng.below(8);
            let at = (at + rng.below(8) as usize).min(bytes.len() - 1);
            bytes[at] ^= 1 << bit;
        }
        std::fs::write(&target, &bytes).expect("write");
        let file = target
            .strip_prefix(&dir)
            .expect("inside")
            .display()
            .to_string();
        let file_class = if file.contains("snap.") {
            "snap.*".to_owned()
        } else if file.contains("blobs") {
            "blobs/".to_owned()
        } else {
            file.clone()
        };
        let case = format!("seed {seed}: {flips} bit(s) near byte {at} of {file}");

        // verify: bounded, and never OK unless the entries are the original's.
        let Some(verify) = run(&dir, &["verify"]) else {
            failures.push(format!(
                "{case}: verify did not end within {OUTER_TIMEOUT:?}"
            ));
            continue;
        };
        slowest = slowest.max(verify.took);
        let verdict = if verify.code == Some(0) {
            match run(&dir, &["export"]) {
                Some(e) if e.code == Some(0) && e.stdout == export => "verify OK, entries intact",
                other => {
                    failures.push(format!(
                        "{case}: verify passed but export differs or fails: {other:?}"
                    ));
                    "verify OK but entries changed (FAILURE)"
                }
            }
        } else if clean_failure(&verify) {
            if verify.stderr.contains("no progress") {
                "verify: stuck, stopped by the watchdog"
            } else if verify.stderr.contains("corrupt") {
                "verify: storage corrupted"
            } else if verify.stdout.starts_with("FAILED") {
                "verify: FAILED (integrity)"
            } else {
                "verify: I/O error"
            }
        } else {
            failures.push(format!("{case}: verify ended badly: {verify:?}"));
            "verify ended badly (FAILURE)"
        };
        *outcomes.entry(verdict.to_owned()).or_default() += 1;
        *outcomes.entry(format!("file {file_class}")).or_default() += 1;

        // Other commands on the same damaged copy: bounded, and a clean failure or success.
        let commands: [&[&str]; 6] = [
            &["head"],
            &["show", "c7"],
            &["list", "--subject", "war/s1"],
            &["history", "c3"],
            &["export"],
            &[
                "add",
                "--key",
                "new",
                "--subject",
                "x",
                "--claimant",
                "y",
                "--statement",
                "z",
            ],
        ];
        let pick = commands[rng.below(commands.len() as u64 - 1) as usize];
        for args in [pick, commands[5]] {
            let Some(out) = run(&dir, args) else {
                failures.push(format!(
                    "{case}: {args:?} did not end within {OUTER_TIMEOUT:?}"
                ));
                continue;
            };
            slowest = slowest.max(out.took);
            let name = args[0];
            if out.code == Some(0) {
                let expected = match name {
                    "head" => Some(&head),
                    "show" => Some(&show),
                    "list" => Some(&list),
                    "export" => Some(&export),
                    _ => None,
                };
                if let Some(expected) = expected {
                    let same = out.stdout == *expected;
                    *outcomes
                        .entry(format!(
                            "{name}: ok, output {}",
                            if same { "intact" } else { "DIFFERENT" }
                        ))
                        .or_default() += 1;
                    if !same && verify.code == Some(0) {
                        failures.push(format!(
                            "{case}: {name} printed other data on a ledger that verified"
                        ));
                    }
                } else {
                    *outcomes.entry(format!("{name}: ok")).or_default() += 1;
                }
            } else if clean_failure(&out) {
                *outcomes.entry(format!("{name}: clean error")).or_default() += 1;
            } else {
                failures.push(format!("{case}: {args:?} ended badly: {out:?}"));
            }
            if name == "add" && out.code == Some(0) {
                // A write that succeeded must not have hidden the damage.
                match run(&dir, &["verify"]) {
                    Some(v) if v.code == Some(0) => match run(&dir, &["export"]) {
                        Some(e)
                            if e.code == Some(0)
                                && export_entries(e.stdout.as_bytes())
                                    .starts_with(&export_entries(export.as_bytes()))
                                && e.stdout.lines().count() == export.lines().count() + 1 =>
                        {
                            *outcomes
                                .entry("after add: verify OK, entries intact".into())
                                .or_default() += 1;
                        }
                        other => failures.push(format!(
                            "{case}: after add, verify passed but the entries differ: {other:?}"
                        )),
                    },
                    Some(v) if clean_failure(&v) => {
                        *outcomes
                            .entry("after add: damage still reported".into())
                            .or_default() += 1;
                    }
                    other => failures.push(format!("{case}: verify after add: {other:?}")),
                }
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
    println!(
        "sled flips: {cases} cases, seeds {first_seed}..{}; slowest run {:.1} s",
        first_seed + cases,
        slowest.as_secs_f64()
    );
    for (outcome, count) in &outcomes {
        println!("  {outcome}: {count}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A read that never returns is stopped by the watchdog; a panic in sled becomes one line.
#[test]
fn a_stuck_or_panicking_storage_engine_ends_with_one_line() {
    let ledger = Ledger::new();
    ledger.import("{\"key\":\"c1\",\"subject\":\"a/b\",\"claimant\":\"c\",\"statement\":\"s\"}\n");
    let export = ledger.ok(&["export"]);
    let root = tempfile::tempdir().expect("a temporary directory");
    let commands: [&[&str]; 5] = [
        &["verify"],
        &["show", "c1"],
        &["list"],
        &["export"],
        &[
            "add",
            "--subject",
            "x",
            "--claimant",
            "y",
            "--statement",
            "z",
        ],
    ];
    for (file, expected) in [
        ("conf", "no progress reading the ledger for 2 s"),
        ("db", "storage corrupted: reading the ledger failed"),
    ] {
        let dir = root.path().join(file);
        copy_dir(ledger.dir(), &dir).expect("the ledger is copied");
        let path = dir.join("db").join(file);
        std::fs::remove_file(&path).expect("remove");
        let made = Command::new("mkfifo")
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            println!("no mkfifo here: skipping the {file} case");
            continue;
        }
        for args in commands {
            let out = run(&dir, args).unwrap_or_else(|| panic!("{file}: {args:?} hung"));
            assert!(
                out.code == Some(1)
                    && out.stderr.lines().count() == 1
                    && out.stderr.starts_with("error: ")
                    && out.stderr.contains(expected),
                "{file}: {args:?}: {out:?}"
            );
            assert!(
                out.took < Duration::from_secs(20),
                "{file}: {args:?} took {:?}",
                out.took
            );
            println!(
                "FIFO as {file}: claims {} ended in {:.1} s: {}",
                args[0],
                out.took.as_secs_f64(),
                out.stderr.trim_end()
            );
        }
        // With the file back, nothing was lost.
        std::fs::remove_file(&path).expect("remove");
        std::fs::copy(ledger.dir().join("db").join(file), &path).expect("copy");
        let out = run(&dir, &["export"]).expect("export ends");
        assert_eq!(out.stdout, export, "{file}");
    }
}
