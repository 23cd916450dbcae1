//! `claims monitor`: following a published log over HTTP from a state file, and refusing each
//! way a publisher can break or lie (a rewritten tile or bundle, a fork, a rollback, an
//! invalid entry), naming it, with exit 1 and the state left as it was.

use crate::support::{assert_error, export_entries, text, EXIT_INTEGRITY};
use crate::tlog_support::{claims, Log, Served, ORIGIN};
use claimledger_core::checkpoint::{self, Checkpoint};
use claimledger_core::merkle::{record_hash, Frontier};
use claimledger_tlog::layout::{encode_bundle, new_objects, ObjectName};
use std::path::Path;

fn monitor(log: &Log, source: &str, state: &Path) -> std::process::Output {
    let state = state.display().to_string();
    claims(
        log.ledger.root(),
        &[
            "monitor",
            source,
            "--key",
            &log.verifier,
            "--state",
            &state,
            "--json",
        ],
    )
}

fn monitored(log: &Log, source: &str, state: &Path) -> serde_json::Value {
    let out = monitor(log, source, state);
    assert!(
        out.status.success(),
        "monitor failed: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn monitor_follows_a_log_over_http_and_reports_what_is_new() {
    let mut log = Log::new();
    log.grow(500, "a");
    let out = log.ledger.root().join("published");
    log.publish(&out);
    let served = Served::dir(&out);
    let state = log.ledger.root().join("monitor.state");

    let first = monitored(&log, &served.url(), &state);
    assert_eq!(first["old_size"], 0);
    assert_eq!(first["size"], log.size());
    assert_eq!(first["new_entries"], log.size());
    assert_eq!(first["claims_recorded"], 500);
    assert_eq!(first["revisions_recorded"], 50);
    assert_eq!(first["bundles_checked"], 3);

    let unchanged = monitored(&log, &served.url(), &state);
    assert_eq!(unchanged["new_entries"], 0);
    assert_eq!(
        unchanged["bytes_fetched"],
        std::fs::metadata(out.join("checkpoint")).unwrap().len()
    );

    log.grow(100, "b");
    log.publish(&out);
    let next = monitored(&log, &served.url(), &state);
    assert_eq!(next["old_size"], 550);
    assert_eq!(next["new_entries"], 110);
    assert_eq!(next["claims_recorded"], 100);
    assert_eq!(next["revisions_recorded"], 10);
    // Only what is new: the partial bundle and tile at 550 again, and the objects after it.
    assert_eq!(
        next["bundles_checked"].as_u64().unwrap() + next["tiles_checked"].as_u64().unwrap(),
        new_objects(550, 660).len() as u64
    );

    // The text report says the same, in words.
    log.grow(1, "c");
    log.publish(&out);
    let words = claims(
        log.ledger.root(),
        &[
            "monitor",
            &served.url(),
            "--key",
            &log.verifier,
            "--state",
            &state.display().to_string(),
        ],
    );
    assert!(words.status.success(), "{}", text(&words.stderr));
    let said = text(&words.stdout);
    assert!(
        said.starts_with("OK: example.org/claims grew from 660 entries to 661")
            && said.contains("1 new entry, 1 claim recorded and 0 revisions of earlier claims"),
        "{said}"
    );
}

/// Copies the published directory, applies `tamper` to the copy, and requires the monitor,
/// from a copy of `state` (or an empty one), to refuse it naming `what`, leaving the state
/// file as it was.
fn refused(log: &Log, out: &Path, state: Option<&Path>, what: &str, tamper: impl FnOnce(&Path)) {
    let root = log.ledger.root();
    let copy = tempfile::tempdir_in(root).unwrap();
    crate::support::copy_dir(out, copy.path()).unwrap();
    tamper(copy.path());
    static CASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let case = CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let state_copy = root.join(format!("state-{case}"));
    if let Some(state) = state {
        std::fs::copy(state, &state_copy).unwrap();
    }
    let before = std::fs::read(&state_copy).ok();
    let served = Served::dir(copy.path());
    let out = monitor(log, &served.url(), &state_copy);
    assert_error(&out, EXIT_INTEGRITY, what);
    assert_eq!(
        std::fs::read(&state_copy).ok(),
        before,
        "{what}: the state changed"
    );
}

fn flip(file: &Path, at: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn monitor_refuses_each_broken_or_lying_log() {
    let mut log = Log::new();
    log.grow(300, "a");
    let out = log.ledger.root().join("published");
    log.publish(&out);
    let early = std::fs::read(out.join("checkpoint")).unwrap();
    let state = log.ledger.root().join("seen.state");
    monitored(&log, &out.display().to_string(), &state);
    log.grow(200, "b");
    log.publish(&out);
    assert_eq!(log.size(), 550);

    // From an empty state and from the state at 330 entries, each variant is refused.
    for seen in [None, Some(state.as_path())] {
        refused(&log, &out, seen, "rewritten tile", |dir| {
            flip(&dir.join("tile/0/001"), 40)
        });
        // Bundle 1 was partial at 330 entries: its entry 257 was seen then, its entry 512 not.
        refused(&log, &out, seen, "tile/entries/001", |dir| {
            // A byte inside entry 257's text, the length prefixes untouched.
            flip(&dir.join("tile/entries/001"), 60)
        });
        refused(&log, &out, seen, "tile/entries/001", |dir| {
            // A byte inside entry 512, the bundle's last.
            let file = dir.join("tile/entries/001");
            let len = std::fs::metadata(&file).unwrap().len() as usize;
            flip(&file, len - 40)
        });
        refused(&log, &out, seen, "larger than the 8192 bytes", |dir| {
            std::fs::write(dir.join("tile/0/001"), vec![0; 8193]).unwrap()
        });
        refused(&log, &out, seen, "the bundle ends inside", |dir| {
            let file = dir.join("tile/entries/001");
            let bytes = std::fs::read(&file).unwrap();
            std::fs::write(&file, &bytes[..bytes.len() - 10]).unwrap()
        });
        refused(&log, &out, seen, "is missing", |dir| {
            std::fs::remove_file(dir.join("tile/0/001")).unwrap()
        });
        refused(&log, &out, seen, "does not match the checkpoint", |dir| {
            let text = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
            std::fs::write(
                dir.join("checkpoint"),
                text.replacen("\n550\n", "\n549\n", 1),
            )
            .unwrap();
        });
    }

    // A rollback: the checkpoint of 330 entries published again after the monitor saw 550.
    let newer = log.ledger.root().join("newer.state");
    monitored(&log, &out.display().to_string(), &newer);
    refused(&log, &out, Some(&newer), "rollback", |dir| {
        std::fs::write(dir.join("checkpoint"), &early).unwrap()
    });

    // A fork: another history signed with the same key, longer or of the same size.
    let mut fork = log.fork();
    fork.grow(600, "z");
    let forked = fork.ledger.root().join("forked");
    fork.publish(&forked);
    refused(&log, &forked, Some(&newer), "fork", |_| {});
    let mut twin = log.fork();
    twin.grow(500, "y");
    let twin_dir = twin.ledger.root().join("twin");
    twin.publish(&twin_dir);
    assert_eq!(twin.size(), 550);
    refused(&log, &twin_dir, Some(&newer), "fork", |_| {});
}

/// A log whose tiles and signed checkpoint are all consistent with its bundles, but one of
/// whose entries breaks the chain: only the entry checks catch it.
#[test]
fn monitor_refuses_an_invalid_entry_in_a_consistent_signed_log() {
    let mut log = Log::new();
    log.grow(40, "a");
    let export = log.ledger.ok(&["export"]);
    let mut entries: Vec<Vec<u8>> = export_entries(export.as_bytes())
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    // Entry 7 says something else: valid JSON, but not what entry 8's prev was made from.
    let seven = String::from_utf8(entries[6].clone()).unwrap();
    entries[6] = seven.replacen("a 6", "a 9", 1).into_bytes();
    assert_ne!(entries[6], seven.as_bytes());

    let dir = log.ledger.root().join("lying");
    write_log(&dir, &entries, &log.ledger.root().join("log.key"));
    let state = log.ledger.root().join("lying.state");
    let out = monitor(&log, &dir.display().to_string(), &state);
    assert_error(
        &out,
        EXIT_INTEGRITY,
        "entry 7: its hash is not the prev recorded by entry 8",
    );
    assert!(!state.exists());
}

/// Publishes `entries` as a log of their own, as a publisher holding the key could.
fn write_log(dir: &Path, entries: &[Vec<u8>], key_file: &Path) {
    let mut frontier = Frontier::new();
    let mut tiles: std::collections::BTreeMap<(u8, u64), Vec<u8>> = Default::default();
    for entry in entries {
        for (level, index, hash) in frontier.push(record_hash(entry)) {
            if level % 8 == 0 {
                tiles
                    .entry((level / 8, index / 256))
                    .or_default()
                    .extend_from_slice(&hash.0);
            }
        }
    }
    for name in new_objects(0, entries.len() as u64) {
        let bytes = match name {
            ObjectName::Tile { level, index, .. } => tiles[&(level, index)].clone(),
            ObjectName::Bundle { index, width } => {
                let first = index as usize * 256;
                encode_bundle(&entries[first..first + width as usize]).unwrap()
            }
        };
        let file = dir.join(name.path());
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let key = std::fs::read_to_string(key_file).unwrap();
    let note = checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: entries.len() as u64,
            root: frontier.root().0,
            extensions: vec![],
        },
        key.trim_end(),
    )
    .unwrap();
    std::fs::write(dir.join("checkpoint"), note).unwrap();
}
