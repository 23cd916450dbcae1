//! Faults of the environment rather than the data:
//!
//! - **A full disk.** Writes fail part-way: on a 2 MiB tmpfs (where mounting is permitted;
//!   the test runs as root), and everywhere under RLIMIT_FSIZE (`prlimit --fsize`, with
//!   SIGXFSZ ignored so that writes past the limit fail with EFBIG). Writes go on until one
//!   fails: it must fail with one line and exit code 4, every write acknowledged before is
//!   kept, and once there is room again the ledger verifies and takes writes.
//! - **A read-only ledger.** A read-only bind mount (as root), and an unprivileged user
//!   (`setpriv`, as nobody) on a copy without write permission. sled opens its files for
//!   writing even to read, so commands that only read go through a private copy of the ledger
//!   (docs/RELIABILITY.md) and give what they give on the ledger itself, with a note on
//!   standard error; a write fails with one line and exit code 4 that says what it needs; the
//!   ledger is left exactly as it was, byte for byte.
//!
//! A mechanism that is unavailable (no `mount` permission, no `prlimit` or `setpriv`) is
//! skipped with a message; the others still run.

use crate::support::{bin, Ledger, AUTHOR, EXIT_IO, NOW};
use std::path::Path;
use std::process::{Command, Output};

/// Unmounts a mount point when dropped, even when a check fails.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("could not unmount {}", self.0.display());
        }
    }
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `claims ARGS` on `dir`, run through `wrapper` (a shell line that ends in `exec "$@"`).
fn claims_in(dir: &Path, wrapper: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = match wrapper {
        None => Command::new(bin()),
        Some(line) => {
            let mut cmd = Command::new("sh");
            cmd.arg("-c").arg(line).arg("sh").arg(bin());
            cmd
        }
    };
    cmd.args(args)
        .env("CLAIMS_LEDGER", dir)
        .env("CLAIMS_AUTHOR", AUTHOR)
        .env("CLAIMS_NOW", NOW)
        .env("CLAIMS_STALL_TIMEOUT", "10");
    cmd.output().expect("claims runs")
}

fn one_line_error(out: &Output, code: i32) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(code)
        && stderr.lines().count() == 1
        && stderr.starts_with("error: ")
    {
        Ok(())
    } else {
        Err(format!(
            "expected exit {code} and one line, got {:?}: {stderr:?}",
            out.status.code()
        ))
    }
}

fn record(i: usize) -> Vec<String> {
    vec![
        "add".into(),
        "--key".into(),
        format!("k{i}"),
        "--subject".into(),
        "fill/disk".into(),
        "--claimant".into(),
        "filler".into(),
        "--statement".into(),
        format!(
            "{i}: {}",
            "a statement long enough to fill a disk ".repeat(50)
        ),
    ]
}

/// Writes to the ledger in `dir` (through `wrapper`) until one fails; checks the failure and
/// gives how many writes were acknowledged.
fn fill(dir: &Path, wrapper: Option<&str>, what: &str) -> usize {
    let mut acknowledged = 0;
    for i in 0..5_000 {
        let args = record(i);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Every tenth write is an import of several records.
        let out = if i % 10 == 9 {
            let file = dir
                .parent()
                .expect("a parent")
                .join(format!("batch-{i}.jsonl"));
            let lines: String = (0..20)
                .map(|j| {
                    format!(
                        "{{\"key\":\"b{i}-{j}\",\"subject\":\"fill/disk\",\"claimant\":\"filler\",\"statement\":\"{}\"}}\n",
                        "x".repeat(500)
                    )
                })
                .collect();
            if std::fs::write(&file, lines).is_err() {
                // The input file's own disk may be the full one.
                continue;
            }
            claims_in(dir, wrapper, &["import", file.to_str().expect("UTF-8")])
        } else {
            claims_in(dir, wrapper, &args)
        };
        if out.status.success() {
            acknowledged += if i % 10 == 9 { 20 } else { 1 };
            continue;
        }
        if let Err(why) = one_line_error(&out, EXIT_IO) {
            panic!("{what}: write {i} failed badly: {why}");
        }
        println!(
            "{what}: {acknowledged} entries acknowledged, then: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
        return acknowledged;
    }
    panic!("{what}: the disk never filled");
}

/// After the fault is gone: the ledger verifies, holds every acknowledged entry, and takes
/// writes.
fn recovers(dir: &Path, acknowledged: usize, what: &str) {
    let verify = claims_in(dir, None, &["verify"]);
    assert!(
        verify.status.success(),
        "{what}: verify after the fault: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let head = claims_in(dir, None, &["head"]);
    let count: usize = String::from_utf8_lossy(&head.stdout)
        .split(':')
        .next()
        .and_then(|c| c.parse().ok())
        .expect("a head");
    // The failed write is not acknowledged; it must not have landed half.
    assert!(
        count == acknowledged,
        "{what}: {acknowledged} acknowledged, the ledger holds {count}"
    );
    let args = record(99_999);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = claims_in(dir, None, &args);
    assert!(
        out.status.success(),
        "{what}: a write after the fault: {out:?}"
    );
    assert!(claims_in(dir, None, &["verify"]).status.success());
    println!("{what}: recovered: verify OK with all {count} entries, and a write went through");
}

#[test]
fn a_full_disk_fails_writes_cleanly_and_loses_nothing() {
    let mut ran = 0;
    // A real full disk: a small tmpfs.
    let root = tempfile::tempdir().expect("a temporary directory");
    let mount_point = root.path().join("small");
    std::fs::create_dir(&mount_point).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mount_point)
        .output()
        .is_ok_and(|o| o.status.success());
    if mounted {
        let _unmount = Unmount(mount_point.clone());
        let dir = mount_point.join("ledger");
        assert!(claims_in(&dir, None, &["init"]).status.success());
        let acknowledged = fill(&dir, None, "tmpfs of 2 MiB");
        // sled writes when it opens a database, even to read: reads may fail too, clearly.
        let verify = claims_in(&dir, None, &["verify"]);
        println!(
            "tmpfs of 2 MiB: verify on the full disk: exit {:?} {}{}",
            verify.status.code(),
            String::from_utf8_lossy(&verify.stdout).trim_end(),
            String::from_utf8_lossy(&verify.stderr).trim_end()
        );
        let grown = Command::new("mount")
            .args(["-o", "remount,size=16m"])
            .arg(&mount_point)
            .status()
            .expect("mount runs");
        assert!(grown.success(), "the tmpfs grows");
        recovers(&dir, acknowledged, "tmpfs of 2 MiB");
        ran += 1;
    } else {
        println!("full disk: cannot mount a tmpfs here (not permitted); skipping that mechanism");
    }

    // A file size limit: works wherever prlimit does, as any user.
    if available("prlimit") {
        let ledger = Ledger::new();
        let db = ledger.dir().join("db").join("db");
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        // sled writes in segments of 512 KiB: room for two.
        let limit = size + 1024 * 1024;
        let wrapper = format!("trap '' XFSZ; exec prlimit --fsize={limit} -- \"$@\"");
        let acknowledged = fill(ledger.dir(), Some(&wrapper), "RLIMIT_FSIZE");
        recovers(ledger.dir(), acknowledged, "RLIMIT_FSIZE");
        ran += 1;
    } else {
        println!("full disk: no prlimit here; skipping RLIMIT_FSIZE");
    }
    assert!(ran > 0, "no full-disk mechanism was available");
}

/// Every file's name and bytes under `dir`.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for item in std::fs::read_dir(&at).expect("read_dir") {
            let path = item.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                found.push((path, bytes));
            }
        }
    }
    found.sort();
    found
}

/// Commands that only read give what they give on a writable ledger (`expected`: the
/// owner's output of each), with one note on standard error; a write fails with one line and
/// exit code 4 saying what it needs; a copy larger than allowed is refused, saying what to
/// do; and not a byte of the ledger changes.
fn read_only_reads(dir: &Path, wrapper: Option<&str>, what: &str, expected: &[(&[&str], String)]) {
    let before = files(dir);
    for (args, output) in expected {
        let out = claims_in(dir, wrapper, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{what}: claims {args:?}: {stderr}");
        assert_eq!(
            &String::from_utf8_lossy(&out.stdout),
            output,
            "{what}: claims {args:?}"
        );
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("note: ")).count(),
            1,
            "{what}: one note: {stderr}"
        );
        assert!(
            stderr.starts_with("note: you may not write to the ledger in ")
                && stderr.contains("so this reads a private copy of it: ")
                && stderr.contains("removed afterwards"),
            "{what}: {stderr}"
        );
    }
    let args = record(7);
    let add: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = claims_in(dir, wrapper, &add);
    if let Err(why) = one_line_error(&out, EXIT_IO) {
        panic!("{what}: claims add: {why}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write to the ledger in ")
            && (stderr.contains("Read-only file system") || stderr.contains("Permission denied"))
            && stderr.contains("commands that only read work without it"),
        "{what}: {stderr}"
    );
    let line = match wrapper {
        Some(line) => format!("export CLAIMS_COPY_MAX_MB=0; {line}"),
        None => "export CLAIMS_COPY_MAX_MB=0; exec \"$@\"".to_owned(),
    };
    let out = claims_in(dir, Some(&line), &["verify"]);
    if let Err(why) = one_line_error(&out, EXIT_IO) {
        panic!("{what}: a copy too large: {why}");
    }
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("raise CLAIMS_COPY_MAX_MB"),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(dir), before, "{what}: the ledger changed");
    println!(
        "{what}: reads went through a private copy, e.g. {}; a write was refused: {}",
        String::from_utf8_lossy(&claims_in(dir, wrapper, &["head"]).stderr).trim_end(),
        stderr.trim_end()
    );
}

#[test]
fn a_read_only_ledger_can_be_read_and_is_left_intact() {
    let mut ran = 0;
    let ledger = Ledger::new();
    ledger.import(
        "{\"key\":\"c1\",\"subject\":\"a/b\",\"claimant\":\"c\",\"statement\":\"s\"}\n\
         {\"op\":\"revise\",\"claim\":\"c1\",\"reason\":\"r\",\"statement\":\"t\"}\n",
    );
    let export = ledger.ok(&["export"]);
    let head = ledger.head();
    let reads: [&[&str]; 6] = [
        &["verify"],
        &["head"],
        &["show", "c1"],
        &["list"],
        &["export"],
        &["history", "c1", "--json"],
    ];
    let expected: Vec<(&[&str], String)> =
        reads.iter().map(|args| (*args, ledger.ok(args))).collect();

    // A read-only bind mount: as root, nothing can write through it.
    let target = ledger.dir();
    let bound = Command::new("mount")
        .arg("--bind")
        .arg(target)
        .arg(target)
        .status()
        .is_ok_and(|s| s.success());
    if bound {
        let _unmount = Unmount(target.to_path_buf());
        let ro = Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(target)
            .status()
            .is_ok_and(|s| s.success());
        if ro {
            read_only_reads(target, None, "read-only bind mount", &expected);
            ran += 1;
        }
        drop(_unmount);
        if !ro {
            println!("read-only: cannot remount read-only here; skipping that mechanism");
        }
    } else {
        println!("read-only: cannot bind-mount here (not permitted); skipping that mechanism");
    }
    assert_eq!(ledger.ok(&["export"]), export);
    assert_eq!(ledger.head(), head);
    ledger.assert_verifies();

    // An unprivileged user on a copy without write permission.
    if available("setpriv") {
        let root = tempfile::tempdir().expect("a temporary directory");
        let copy = root.path().join("ledger");
        let status = Command::new("cp")
            .arg("-a")
            .arg(ledger.dir())
            .arg(&copy)
            .status()
            .expect("cp");
        assert!(status.success());
        let chmod = |mode: &str, path: &Path| {
            let ok = Command::new("chmod")
                .args(["-R", mode])
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chmod {mode}");
        };
        chmod("a+rX,a-w", &copy);
        chmod("a+rx", root.path());
        let wrapper = "exec setpriv --reuid=65534 --regid=65534 --clear-groups -- \"$@\"";
        let probe = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "true",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if probe {
            read_only_reads(
                &copy,
                Some(wrapper),
                "unwritable copy, as nobody",
                &expected,
            );
            // Files nobody may read: a read says what it needs.
            chmod("go-r", &copy.join("db"));
            let out = claims_in(&copy, Some(wrapper), &["head"]);
            if let Err(why) = one_line_error(&out, EXIT_IO) {
                panic!("unreadable files, as nobody: {why}");
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("cannot read the ledger in ")
                    && stderr.contains("reading it needs read access to its files"),
                "{stderr}"
            );
            chmod("u+w", &copy);
            let out = claims_in(&copy, None, &["export"]);
            assert_eq!(String::from_utf8_lossy(&out.stdout), export);
            ran += 1;
        } else {
            println!("read-only: setpriv cannot change user here; skipping that mechanism");
        }
    } else {
        println!("read-only: no setpriv here; skipping the unprivileged user");
    }
    assert!(ran > 0, "no read-only mechanism was available");
}
