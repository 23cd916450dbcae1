//! `claims publish`: the c2sp.org/tlog-tiles layout it writes, byte for byte; incremental
//! publishing from the published checkpoint; refusals; publishes killed with SIGKILL at random
//! moments, each followed by a check of the published log and a publish that completes it.

use crate::support::{assert_error, export_entries, text, Rng, EXIT_INPUT, EXIT_INTEGRITY};
use crate::tlog_support::{claims, Log, Running, ORIGIN};
use claimledger_core::merkle::{record_hash, Frontier};
use claimledger_tlog::layout::{decode_bundle, new_objects, ObjectName};
use std::path::Path;
use std::time::Duration;

/// Checks the published directory against the ledger: every tile holds the hashes the
/// ledger's entries give, every bundle holds the entries.
fn check_published(log: &Log, dir: &Path) {
    let export = log.ledger.ok(&["export"]);
    let entries: Vec<Vec<u8>> = export_entries(export.as_bytes())
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let size = entries.len() as u64;
    let mut frontier = Frontier::new();
    let mut levels: std::collections::BTreeMap<(u8, u64), Vec<u8>> = Default::default();
    for entry in &entries {
        for (level, index, hash) in frontier.push(record_hash(entry)) {
            if level % 8 == 0 {
                levels
                    .entry((level / 8, index / 256))
                    .or_default()
                    .extend_from_slice(&hash.0);
            }
        }
    }
    // The objects a reader of the checkpoint of `size` entries needs.
    for name in new_objects(0, size) {
        let bytes =
            std::fs::read(dir.join(name.path())).unwrap_or_else(|e| panic!("{}: {e}", name.path()));
        match name {
            ObjectName::Tile { level, index, .. } => {
                assert_eq!(bytes, levels[&(level, index)], "{}", name.path())
            }
            ObjectName::Bundle { index, width } => {
                let got = decode_bundle(&bytes, width as usize).expect("a bundle");
                let first = (index * 256) as usize;
                let want: Vec<&[u8]> = entries[first..first + width as usize]
                    .iter()
                    .map(Vec::as_slice)
                    .collect();
                assert_eq!(got, want, "{}", name.path());
            }
        }
    }
    let checkpoint = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    let body: Vec<&str> = checkpoint.lines().collect();
    assert_eq!(body[0], ORIGIN);
    assert_eq!(body[1], size.to_string());
    use base64::prelude::{Engine as _, BASE64_STANDARD};
    assert_eq!(body[2], BASE64_STANDARD.encode(frontier.root().0));
}

/// All files under `dir`, relative, with their modification times.
fn files(dir: &Path) -> std::collections::BTreeMap<String, std::time::SystemTime> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.insert(name, entry.metadata().unwrap().modified().unwrap());
            }
        }
    }
    found
}

#[test]
fn publish_writes_the_c2sp_layout_then_only_what_is_new() {
    let mut log = Log::new();
    log.grow(300, "a");
    let size = log.size();
    let out = log.ledger.root().join("published");
    let report = log.publish(&out);
    assert_eq!(report["old_size"], 0);
    assert_eq!(report["size"], size);
    let objects = new_objects(0, size);
    let tiles = objects
        .iter()
        .filter(|o| matches!(o, ObjectName::Tile { .. }))
        .count();
    assert_eq!(report["tiles_written"], tiles);
    assert_eq!(report["bundles_written"], objects.len() - tiles);
    assert_eq!(report["checkpoint_written"], true);
    check_published(&log, &out);
    // Paths as c2sp.org/tlog-tiles spells them: 330 entries is one full bundle and a partial.
    assert_eq!(size, 330);
    for path in [
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/74",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/74",
    ] {
        assert!(out.join(path).is_file(), "{path}");
    }
    let checkpoint = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    assert!(
        checkpoint.contains("\n\n— example.org/claims "),
        "{checkpoint}"
    );

    // Nothing new: nothing written.
    let before = files(&out);
    let again = log.publish(&out);
    assert_eq!(again["tiles_written"], 0);
    assert_eq!(again["bundles_written"], 0);
    assert_eq!(again["checkpoint_written"], false);
    assert_eq!(again["bytes_written"], 0);
    assert_eq!(files(&out), before);

    // 200 more claims: only the new objects, and the checkpoint.
    std::thread::sleep(Duration::from_millis(20));
    log.grow(200, "b");
    let grown = log.size();
    let report = log.publish(&out);
    let new = new_objects(size, grown);
    assert_eq!(
        report["tiles_written"].as_u64().unwrap() + report["bundles_written"].as_u64().unwrap(),
        new.len() as u64
    );
    let after = files(&out);
    let new_paths: std::collections::BTreeSet<String> = new.iter().map(ObjectName::path).collect();
    for (path, modified) in &after {
        let changed = before.get(path) != Some(modified);
        let expected = new_paths.contains(path) || path == "checkpoint";
        assert_eq!(changed, expected, "{path}");
    }
    check_published(&log, &out);
}

#[test]
fn publish_refuses_a_log_that_is_not_this_ledgers_history() {
    let mut log = Log::new();
    log.grow(20, "a");
    let out = log.ledger.root().join("published");
    log.publish(&out);

    // Another history under the same name and key: refused, nothing written.
    let mut fork = log.fork();
    fork.grow(30, "z");
    let before = files(&out);
    let dest = out.display().to_string();
    let refused = fork
        .ledger
        .run(&["publish", &dest, "--sign", &fork.key_file()]);
    assert_error(&refused, EXIT_INTEGRITY, "is not this ledger's history");
    assert_eq!(files(&out), before);

    // A shorter copy of the ledger: the published log is ahead of it.
    let mut short = log.fork();
    short.grow(5, "a");
    assert_error(
        &short
            .ledger
            .run(&["publish", &dest, "--sign", &short.key_file()]),
        EXIT_INTEGRITY,
        "has published",
    );

    // A key of another name, a destination that is a URL, a damaged checkpoint.
    log.ledger.ok(&[
        "key",
        "generate",
        "--name",
        "example.org/other",
        "--out",
        "other.key",
    ]);
    assert_error(
        &log.ledger.run(&["publish", &dest, "--sign", "other.key"]),
        EXIT_INPUT,
        "named \"example.org/other\"",
    );
    assert_error(
        &log.ledger.run(&["publish", "http://127.0.0.1:9/log"]),
        EXIT_INPUT,
        "served over http",
    );
    assert_error(
        &log.ledger
            .run(&["publish", &dest, "--witness", "http://127.0.0.1:9/=x"]),
        EXIT_INPUT,
        "--witness",
    );
    std::fs::write(out.join("checkpoint"), "not a checkpoint\n").unwrap();
    assert_error(
        &log.ledger
            .run(&["publish", &dest, "--sign", &log.key_file()]),
        EXIT_INTEGRITY,
        "checkpoint",
    );
}

/// Publishes killed at random moments never leave a published log that does not check out,
/// and the next publish completes it.
#[test]
fn a_killed_publish_leaves_a_valid_log_that_the_next_one_completes() {
    let iterations: u64 = std::env::var("PUBLISH_KILL_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6);
    let mut log = Log::new();
    let out = log.ledger.root().join("published");
    let dest = out.display().to_string();
    let mut rng = Rng(0x5eed_0f0b_115e);
    let mut killed_mid_way = 0;
    for i in 0..iterations {
        log.grow(600 + rng.below(600), &format!("k{i}"));
        let child = log
            .ledger
            .std_cmd(&["publish", &dest, "--sign", &log.key_file()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut child = Running(child);
        std::thread::sleep(Duration::from_millis(rng.below(120)));
        let finished = matches!(child.0.try_wait(), Ok(Some(_)));
        let _ = child.0.kill();
        let _ = child.0.wait();
        if !finished {
            killed_mid_way += 1;
        }
        if out.join("checkpoint").exists() {
            // Whatever checkpoint is published, everything it needs is there and checks out.
            let monitored = claims(
                log.ledger.root(),
                &["monitor", &dest, "--key", &log.verifier],
            );
            assert!(
                monitored.status.success(),
                "after kill {i}: {}",
                text(&monitored.stderr)
            );
        }
    }
    assert!(
        killed_mid_way > 0,
        "no publish was killed before it finished"
    );
    let report = log.publish(&out);
    assert_eq!(report["size"], log.size());
    check_published(&log, &out);
}
